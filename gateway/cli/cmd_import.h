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

#include <jansson.h>

int gw_cmd_import(int argc, char **argv);

/* Shared with sync: a message id (UUIDv5 of name, or UUIDv4 when name is
 * NULL), 0 or -1; the time now in +07:00; and a partial message from a
 * mapping ({kind, payload, [sender, receivers, correlationId,
 * classification]}, borrowed) completed into a new envelope whose
 * defaults (borrowed) the mapping's fields override. NULL on no memory. */
int gw_import_make_id(const char *name, char out[37]);
void gw_import_now(char out[32]);
json_t *gw_import_complete(const json_t *partial, const json_t *sender,
			   const json_t *receivers, const char *classification,
			   const char *id, const char *created);

#endif
