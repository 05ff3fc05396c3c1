/*
 * target.h - the internal SQLite target of the inbound server
 * (server.sqlite): one row per message received, in the table
 * inbound_messages of a database that internal systems read. Written in
 * batches by the internal delivery thread (flow/inbound.c); a message
 * already there is left as it is (INSERT OR IGNORE).
 */
#ifndef GW_TARGET_H
#define GW_TARGET_H

#include <stddef.h>

#include "base/common.h"

struct gw_target;

/* Open (creating it and its table) the database at path; *out is new,
 * released with gw_target_free. GW_ERR_IO when it cannot be used. */
gw_rc gw_target_open(const char *path, struct gw_target **out,
		     struct gw_err *err);
/* Accepts NULL. */
void gw_target_free(struct gw_target *t);

/* Start the transaction of a batch (GW_ERR_IO). */
gw_rc gw_target_begin(struct gw_target *t, struct gw_err *err);

/* One message's row (strings borrowed; kind and sender may be NULL),
 * inside the batch's transaction. GW_ERR_IO. */
gw_rc gw_target_put(struct gw_target *t, const char *id, const char *kind,
		    const char *sender, const char *ctype, const char *body,
		    size_t len, struct gw_err *err);

/* Commit the batch (GW_ERR_IO; the caller then rolls back). */
gw_rc gw_target_commit(struct gw_target *t, struct gw_err *err);

/* Abandon the batch's transaction. */
void gw_target_rollback(struct gw_target *t);

#endif
