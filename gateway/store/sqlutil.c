/*
 * sqlutil.c - set-up of the SQLite stores' database files (see sqlutil.h).
 */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlutil.h"

int gw_sql_setup(sqlite3 *db, const char *sql)
{
	int rc, tries;

	for (tries = 0;; tries++) {
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return rc;
		if (tries >= 200)
			return rc;
		usleep(50000);
	}
}

#define BUSY_FAST_US 100
#define BUSY_FAST_TRIES 500 /* 50 ms of 100 us naps */
#define BUSY_SLOW_US 2000

static int busy_wait(void *arg, int count)
{
	long limit_ms = (long)(intptr_t)arg, waited_us;
	struct timespec ts = { 0, 0 };

	waited_us = count < BUSY_FAST_TRIES
			    ? (long)count * BUSY_FAST_US
			    : (long)BUSY_FAST_TRIES * BUSY_FAST_US +
				      (long)(count - BUSY_FAST_TRIES) *
					      BUSY_SLOW_US;
	if (waited_us >= limit_ms * 1000)
		return 0;
	ts.tv_nsec =
		(count < BUSY_FAST_TRIES ? BUSY_FAST_US : BUSY_SLOW_US) * 1000L;
	nanosleep(&ts, NULL);
	return 1;
}

void gw_sql_busy_wait(sqlite3 *db, int timeout_ms)
{
	sqlite3_busy_handler(
		db, busy_wait,
		(void *)(intptr_t)(timeout_ms > 0 ? timeout_ms : 0));
}
