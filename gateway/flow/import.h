/*
 * import.h - the envelope of imported records, shared by the import
 * command (cli/cmd_import.c) and the sync of record sources
 * (flow/sync.c): message ids (random, or name-based so that importing the
 * same record again gives the same id), the time now in +07:00, and a
 * partial message from a mapping completed into a canonical envelope.
 */
#ifndef GW_IMPORT_H
#define GW_IMPORT_H

#include <jansson.h>

/* A message id: UUIDv5 of name (borrowed) in a fixed namespace, or UUIDv4
 * when name is NULL, into out. 0, or -1 on failure. */
int gw_import_make_id(const char *name, char out[37]);

/* The time now as "YYYY-MM-DDTHH:MM:SS+07:00" into out. */
void gw_import_now(char out[32]);

/* A partial message from a mapping ({kind, payload, [sender, receivers,
 * correlationId, classification]}, borrowed) completed into a new
 * envelope (the caller releases it) with id and created, whose defaults
 * sender, receivers and classification (borrowed) the mapping's fields
 * override. NULL without a kind or on no memory. */
json_t *gw_import_complete(const json_t *partial, const json_t *sender,
			   const json_t *receivers, const char *classification,
			   const char *id, const char *created);

#endif
