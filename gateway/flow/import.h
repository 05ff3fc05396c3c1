/*
 * import.h - turning a mapped record into a canonical message, shared by
 * the import command (cli/cmd_import.c) and record sync (flow/sync.c).
 */
#ifndef GW_IMPORT_H
#define GW_IMPORT_H

#include <jansson.h>

/* A message id (UUIDv5 of name, or UUIDv4 when name is
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
