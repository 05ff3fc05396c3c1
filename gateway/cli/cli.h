/*
 * cli.h - the lienthong command line: parses the command and its options
 * and runs it. Exit codes are shared by every command: 0 success, 1 invalid
 * or refused input, 2 usage error, 3 I/O or internal error.
 */
#ifndef GW_CLI_H
#define GW_CLI_H

#define GW_VERSION "0.1.0"

/* Largest input file a command reads (the parsers have their own limits). */
#define GW_JSON_MAX_SIZE_CLI (64u * 1024 * 1024)

int gw_cli_main(int argc, char **argv);

#endif
