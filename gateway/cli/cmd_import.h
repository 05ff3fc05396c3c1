/*
 * cmd_import.h - the "import" command of the lienthong CLI.
 *
 *   lienthong import --adapter NAME [--mapping FILE] [-o DIR]
 *                    [--sender ORGID=NAME] [--receiver ORGID=NAME]...
 *                    [--classification public|internal]
 *                    [--deterministic] [--adapter-dir DIR] INPUT
 *
 * argv[0] is the command name. Writes each canonical message the adapter
 * produces, validated, as one JSON line on stdout (or one file per message
 * in DIR) and a summary of the rows it could not map on stderr. Returns
 * the exit code: 0 ok, 1 some message invalid, 2 usage, 3 I/O or internal.
 */
#ifndef GW_CMD_IMPORT_H
#define GW_CMD_IMPORT_H

int gw_cmd_import(int argc, char **argv);

#endif
