/*
 * sqlutil.c - set-up of the SQLite stores' database files (see sqlutil.h).
 */
#include <unistd.h>

#include "sqlutil.h"

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
