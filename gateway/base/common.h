/*
 * common.h - the result code, the error record and small helpers shared by
 * every subsystem of the gateway core.
 *
 * Every fallible call returns a gw_rc and, when given a struct gw_err, fills
 * it with a one-line, lowercase message that names what failed and where.
 * A gw_err is left untouched on success, so calls can be chained and the
 * first failure is the one reported (curl's CURLcode, git's strbuf err).
 */
#ifndef GW_COMMON_H
#define GW_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	GW_OK = 0,
	GW_ERR_NOMEM,	/* allocation failed */
	GW_ERR_IO,	/* a file, socket or store could not be used */
	GW_ERR_PARSE,	/* input is not well-formed XML, JSON or YAML */
	GW_ERR_SCHEMA,	/* input is well-formed but not valid */
	GW_ERR_REFUSED, /* input is refused by policy (secret, hostile, ...) */
	GW_ERR_UNSUPPORTED, /* a feature or kind this build does not handle */
	GW_ERR_USAGE,	    /* the caller asked for something meaningless */
	GW_ERR_CONFIG,	    /* the configuration is invalid */
	GW_ERR_SCHEMA_DEF,  /* a schema itself is invalid */
	GW_ERR_INTERNAL	    /* a bug or an unexpected library failure */
} gw_rc;

#define GW_ERR_MSG_MAX 512

struct gw_err {
	gw_rc rc;
	char msg[GW_ERR_MSG_MAX];
};

/* Fill err (may be NULL) with rc and a printf-style message; returns rc. */
gw_rc gw_err_set(struct gw_err *err, gw_rc rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reset err to GW_OK with an empty message. */
void gw_err_clear(struct gw_err *err);

/* A short name for rc ("parse error", "invalid", ...). */
const char *gw_rc_name(gw_rc rc);

/*
 * Exit status for a result, shared by every command: 0 success, 1 invalid or
 * refused input, 2 usage error, 3 I/O or internal error.
 */
int gw_rc_exit(gw_rc rc);

/* Allocation that never returns NULL to the caller silently: on failure it
 * returns NULL and the caller reports GW_ERR_NOMEM. Tests may make the Nth
 * allocation fail through gw_alloc_fail_after(). */
void *gw_malloc(size_t n);
void *gw_calloc(size_t n, size_t size);
/* After a message of len bytes was freed: for a large one (4 MiB and
 * more), give the allocator's free memory back to the system (glibc keeps
 * what a thread frees in that thread's arena, so without it the peaks of
 * the threads a large message goes through add up). No-op otherwise. */
void gw_trim_after(size_t len);
/* Lower the calling thread's CPU priority by nice more (Linux: per
 * thread; at most 19), so that background work (internal delivery,
 * forwarding) yields the CPU to the threads answering requests when the
 * machine is busy. -1 with errno when it cannot (0 elsewhere than
 * Linux). */
int gw_thread_nice(int nice);
void *gw_realloc(void *p, size_t n);
char *gw_strdup(const char *s);
char *gw_strndup(const char *s, size_t n);
void gw_alloc_fail_after(long n); /* -1 disables (test hook) */

/* Read a whole file (or standard input when path is "-") into a new
 * NUL-terminated buffer the caller frees. Refuses files larger than max
 * bytes (0: no limit) with GW_ERR_REFUSED. */
gw_rc gw_read_file(const char *path, size_t max, char **out, size_t *len,
		   struct gw_err *err);

/* Write len bytes to path atomically: a temporary file beside it, fsync,
 * rename, fsync of the directory. Only a regular file or a new path is
 * replaced that way: "-" is standard output; a symbolic link is followed
 * (the file it ends at is written, the link stays); a FIFO, a character
 * device (/dev/null), a socket or a terminal is opened and written in
 * place, never replaced; a directory is refused. */
gw_rc gw_write_file_atomic(const char *path, const void *buf, size_t len,
			   struct gw_err *err);

/* Growable byte buffer, always NUL-terminated. */
struct gw_buf {
	char *data;
	size_t len;
	size_t cap;
};

void gw_buf_init(struct gw_buf *b);
void gw_buf_release(struct gw_buf *b);
gw_rc gw_buf_add(struct gw_buf *b, const void *p, size_t n);
gw_rc gw_buf_adds(struct gw_buf *b, const char *s);
gw_rc gw_buf_addf(struct gw_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Detach the data (caller frees); b is reset. */
char *gw_buf_detach(struct gw_buf *b, size_t *len);

/* Milliseconds since the epoch (wall clock). */
int64_t gw_now_ms(void);

#define GW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
