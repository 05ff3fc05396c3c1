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

/*
 * Fault injection for tests (issue 23): with LIENTHONG_FAULT_FILE=PATH in
 * the environment, every SQLite file of the process goes through a shim
 * VFS that, while PATH exists and starts with "full", fails each write,
 * truncate and sync with SQLITE_FULL (a full disk), and with "ioerr" with
 * SQLITE_IOERR_WRITE (a store gone read-only or bad); reads always work.
 * Removing PATH gives the space back. Without the variable nothing is
 * registered (the default VFS, no cost). SQLite's own tests fail writes
 * the same way (test_vfs.c).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3_vfs *fault_real;
static const char *fault_path;

struct fault_file {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct */
};

static int fault_now(void)
{
	char word[8] = "";
	FILE *f = fopen(fault_path, "r");

	if (!f)
		return SQLITE_OK;
	if (!fgets(word, sizeof(word), f))
		word[0] = '\0';
	fclose(f);
	if (!strncmp(word, "full", 4))
		return SQLITE_FULL;
	if (!strncmp(word, "ioerr", 5))
		return SQLITE_IOERR_WRITE;
	return SQLITE_OK;
}

#define REAL(f) (((struct fault_file *)(f))->real)

static int f_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}
static int f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	int rc = fault_now();

	return rc ? rc : REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = fault_now();

	return rc ? rc : REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
	int rc = fault_now();

	return rc ? (rc == SQLITE_FULL ? SQLITE_FULL : SQLITE_IOERR_FSYNC)
		  : REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int f_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int f_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int sz, int ext,
		     void volatile **p)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, p);
}
static int f_shm_lock(sqlite3_file *f, int o, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), o, n, flags);
}
static void f_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

/* version 2: no memory-mapped fetch through the shim */
static const sqlite3_io_methods fault_io = {
	2,	  f_close,   f_read,	 f_write,	f_truncate,  f_sync,
	f_size,	  f_lock,    f_unlock,	 f_reserved,	f_control,   f_sector,
	f_device, f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap, NULL,
	NULL
};

static int fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
		      int flags, int *out_flags)
{
	struct fault_file *ff = (struct fault_file *)file;
	int rc;

	ff->real = (sqlite3_file *)(ff + 1);
	rc = fault_real->xOpen(fault_real, name, ff->real, flags, out_flags);
	file->pMethods =
		rc == SQLITE_OK && ff->real->pMethods ? &fault_io : NULL;
	return rc;
}

static int fault_delete(sqlite3_vfs *v, const char *n, int sync)
{
	return fault_real->xDelete(fault_real, n, sync);
}
static int fault_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
	return fault_real->xAccess(fault_real, n, flags, out);
}
static int fault_full(sqlite3_vfs *v, const char *n, int size, char *out)
{
	return fault_real->xFullPathname(fault_real, n, size, out);
}
static int fault_random(sqlite3_vfs *v, int n, char *out)
{
	return fault_real->xRandomness(fault_real, n, out);
}
static int fault_sleep(sqlite3_vfs *v, int us)
{
	return fault_real->xSleep(fault_real, us);
}
static int fault_time(sqlite3_vfs *v, double *out)
{
	return fault_real->xCurrentTime(fault_real, out);
}
static int fault_last_error(sqlite3_vfs *v, int n, char *out)
{
	return fault_real->xGetLastError(fault_real, n, out);
}

static sqlite3_vfs fault_vfs;

__attribute__((constructor)) static void fault_register(void)
{
	if (!(fault_path = getenv("LIENTHONG_FAULT_FILE")) || !*fault_path ||
	    sqlite3_initialize() != SQLITE_OK ||
	    !(fault_real = sqlite3_vfs_find(NULL)))
		return;
	fault_vfs.iVersion = 1;
	fault_vfs.szOsFile =
		(int)sizeof(struct fault_file) + fault_real->szOsFile;
	fault_vfs.mxPathname = fault_real->mxPathname;
	fault_vfs.zName = "lienthong-fault";
	fault_vfs.xOpen = fault_open;
	fault_vfs.xDelete = fault_delete;
	fault_vfs.xAccess = fault_access;
	fault_vfs.xFullPathname = fault_full;
	fault_vfs.xRandomness = fault_random;
	fault_vfs.xSleep = fault_sleep;
	fault_vfs.xCurrentTime = fault_time;
	fault_vfs.xGetLastError = fault_last_error;
	sqlite3_vfs_register(&fault_vfs, 1);
}
