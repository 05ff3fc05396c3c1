/* signcli.c - a stand-in for "lienthong sign|verify" until cli.c registers
 * the commands: dispatches argv[1] to gw_cmd_sign / gw_cmd_verify. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd_sign.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "sign") == 0)
		return gw_cmd_sign(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "verify") == 0)
		return gw_cmd_verify(argc - 1, argv + 1);
	fprintf(stderr, "usage: signcli sign|verify ...\n");
	return 2;
}
