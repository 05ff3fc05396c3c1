/*
 * sqlite.h - the constructors of the SQLite store backend, one per store
 * kind, for store/sqlite.c's struct gw_store_backend (gw_store_sqlite).
 * Private to gateway/store/: everything else opens stores through
 * store/store.h, store/outbox.h, store/inbox.h.
 */
#ifndef GW_STORE_SQLITE_H
#define GW_STORE_SQLITE_H

#include "store/store.h"

/* Open (creating) the outbox in the SQLite file path (sqlite_outbox.c). */
gw_rc gw_sqlite_outbox_open(const char *path, struct gw_outbox **out,
			    struct gw_err *err);
/* Open (creating) the inbox in the SQLite file path (sqlite_inbox.c). */
gw_rc gw_sqlite_inbox_open(const char *path, struct gw_inbox **out,
			   struct gw_err *err);
/* Open the audit log's storage in the SQLite file path, creating it
 * unless flags has GW_STORE_READONLY (sqlite_audit.c). */
gw_rc gw_sqlite_audit_open(const char *path, unsigned flags,
			   struct gw_store_audit **out, struct gw_err *err);

#endif
