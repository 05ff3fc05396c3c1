/*
 * sqlutil.h - what the SQLite stores (outbox, inbox, audit log, the
 * server's delivery targets) share about setting up their database file.
 */
#ifndef GW_SQLUTIL_H
#define GW_SQLUTIL_H

#include <sqlite3.h>

/* Run a store's set-up SQL (PRAGMAs, CREATE ... IF NOT EXISTS) on db.
 * Two processes that open a new file at the same moment (deliver running
 * while send starts) can be answered SQLITE_BUSY or SQLITE_LOCKED despite
 * the busy timeout: switching to WAL takes an exclusive lock that the busy
 * handler does not always wait for. Those answers are retried for about
 * 10 s; any other error returns at once. Returns the SQLite result code
 * (sqlite3_errmsg(db) says why). */
int gw_sql_setup(sqlite3 *db, const char *sql);

/* Wait for another connection's write lock for about timeout_ms, polling
 * every 100 us for the first 50 ms and every 2 ms after that. SQLite's
 * own busy timeout sleeps 1, 2, 5, 10 ... 100 ms between tries, so a lock
 * held for a commit of half a millisecond (the server's loop and its
 * internal delivery thread share the inbox) cost the waiter 1 to 3 ms:
 * time in which the server's event loop answered nothing. */
void gw_sql_busy_wait(sqlite3 *db, int timeout_ms);

#endif
