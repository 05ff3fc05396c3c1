#include "cli.h"

#include <stdio.h>
#include <string.h>

int gw_cli_main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("lienthong %s\n", GW_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: lienthong COMMAND ...\n");
	return 2;
}
