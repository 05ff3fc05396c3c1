/*
 * sqlite.c - the SQLite store backend's table (struct gw_store_backend of
 * store/store.h). Its stores are one SQLite file each, in WAL mode with
 * synchronous=FULL: sqlite_outbox.c, sqlite_inbox.c, sqlite_audit.c.
 */
#include "store/sqlite.h"

const struct gw_store_backend gw_store_sqlite = {
	.name = "sqlite",
	.outbox_open = gw_sqlite_outbox_open,
	.inbox_open = gw_sqlite_inbox_open,
	.audit_open = gw_sqlite_audit_open,
};
