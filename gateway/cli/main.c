/* main.c - entry point; the commands live in cli.c. Only main() exits. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return gw_cli_main(argc, argv);
}
