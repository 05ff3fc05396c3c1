/* main.c - entry point; the commands live in cli.c. Only main() exits. */
#include "cli/cli.h"
#include "flow/deliver.h"
#include "net/client.h"

int main(int argc, char **argv)
{
	/* deliveries of a forwarding that names no transport (the server's
	 * until it sets its own) go through libcurl */
	gw_deliver_set_default_transport(gw_client_transport());
	return gw_cli_main(argc, argv);
}
