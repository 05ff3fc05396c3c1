/*
 * common.c - result codes, error records, allocation with a failure hook,
 * whole-file I/O and the growable buffer used throughout the core.
 */
#define _GNU_SOURCE
#include "base/common.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

gw_rc gw_err_set(struct gw_err *err, gw_rc rc, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return rc;
	err->rc = rc;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

void gw_err_clear(struct gw_err *err)
{
	if (!err)
		return;
	err->rc = GW_OK;
	err->msg[0] = '\0';
}

int64_t gw_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

const char *gw_rc_name(gw_rc rc)
{
	switch (rc) {
	case GW_OK: return "ok";
	case GW_ERR_NOMEM: return "out of memory";
	case GW_ERR_IO: return "i/o error";
	case GW_ERR_PARSE: return "parse error";
	case GW_ERR_SCHEMA: return "invalid";
	case GW_ERR_REFUSED: return "refused";
	case GW_ERR_UNSUPPORTED: return "unsupported";
	case GW_ERR_USAGE: return "usage error";
	case GW_ERR_CONFIG: return "configuration error";
	case GW_ERR_SCHEMA_DEF: return "invalid schema";
	case GW_ERR_INTERNAL: return "internal error";
	}
	return "unknown error";
}

int gw_rc_exit(gw_rc rc)
{
	switch (rc) {
	case GW_OK: return 0;
	case GW_ERR_PARSE:
	case GW_ERR_SCHEMA:
	case GW_ERR_REFUSED:
	case GW_ERR_UNSUPPORTED: return 1;
	case GW_ERR_USAGE: return 2;
	default: return 3;
	}
}

static long fail_after = -1;

void gw_alloc_fail_after(long n)
{
	fail_after = n;
}

static int alloc_should_fail(void)
{
	if (fail_after < 0)
		return 0;
	if (fail_after == 0)
		return 1;
	fail_after--;
	return 0;
}

void *gw_malloc(size_t n)
{
	return alloc_should_fail() ? NULL : malloc(n ? n : 1);
}

int gw_thread_nice(int nice)
{
#ifdef __linux__
	/* on Linux a thread id names one thread for setpriority; nice
	 * adds to the thread's current value */
	id_t tid = (id_t)syscall(SYS_gettid);
	int cur;

	errno = 0;
	cur = getpriority(PRIO_PROCESS, tid);
	if (cur == -1 && errno)
		return -1;
	return setpriority(PRIO_PROCESS, tid,
			   cur + nice > 19 ? 19 : cur + nice);
#else
	(void)nice;
	return 0;
#endif
}

void gw_trim_after(size_t len)
{
#ifdef __GLIBC__
	if (len >= 4u * 1024 * 1024)
		malloc_trim(0);
#else
	(void)len;
#endif
}

void *gw_calloc(size_t n, size_t size)
{
	return alloc_should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *gw_realloc(void *p, size_t n)
{
	return alloc_should_fail() ? NULL : realloc(p, n ? n : 1);
}

char *gw_strdup(const char *s)
{
	return s ? gw_strndup(s, strlen(s)) : NULL;
}

char *gw_strndup(const char *s, size_t n)
{
	char *d = gw_malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

gw_rc gw_read_file(const char *path, size_t max, char **out, size_t *len,
		   struct gw_err *err)
{
	struct gw_buf b;
	FILE *f;
	char chunk[65536];
	size_t n;
	gw_rc rc = GW_OK;
	int is_stdin = strcmp(path, "-") == 0;

	*out = NULL;
	if (len)
		*len = 0;
	f = is_stdin ? stdin : fopen(path, "rb");
	if (!f)
		return gw_err_set(err, GW_ERR_IO, "cannot open '%s': %s", path,
				  strerror(errno));
	gw_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (max && b.len + n > max) {
			rc = gw_err_set(
				err, GW_ERR_REFUSED,
				"'%s' is larger than the limit of %zu bytes",
				is_stdin ? "<stdin>" : path, max);
			goto out;
		}
		if ((rc = gw_buf_add(&b, chunk, n))) {
			gw_err_set(err, rc, "cannot read '%s': out of memory",
				   path);
			goto out;
		}
	}
	if (ferror(f)) {
		rc = gw_err_set(err, GW_ERR_IO, "cannot read '%s': %s", path,
				strerror(errno));
		goto out;
	}
	if (!b.data && (rc = gw_buf_add(&b, "", 0)))
		goto out;
	*out = gw_buf_detach(&b, len);
out:
	if (!is_stdin)
		fclose(f);
	gw_buf_release(&b);
	return rc;
}

/* Write all of buf to fd; name is for the message. */
static gw_rc write_all(int fd, const char *name, const char *p, size_t len,
		       struct gw_err *err)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return gw_err_set(err, GW_ERR_IO,
					  "cannot write '%s': %s", name,
					  strerror(errno));
		}
		p += w;
		len -= (size_t)w;
	}
	return GW_OK;
}

/* The file a chain of symbolic links ends at (path itself when it is not
 * a link), as a new string, or NULL with err set. A link to nothing gives
 * the path it names, so the file is created there. */
static char *follow_links(const char *path, struct gw_err *err)
{
	char *cur = strdup(path);
	int hops;

	for (hops = 0; cur && hops < 40; hops++) {
		char target[4096], *next, *dcopy;
		ssize_t n = readlink(cur, target, sizeof(target) - 1);

		if (n < 0) {
			if (errno == EINVAL || errno == ENOENT)
				return cur; /* not a link, or new */
			gw_err_set(err, GW_ERR_IO, "cannot read link '%s': %s",
				   cur, strerror(errno));
			free(cur);
			return NULL;
		}
		target[n] = '\0';
		if (target[0] == '/') {
			next = strdup(target);
		} else {
			dcopy = strdup(cur);
			next = NULL;
			if (dcopy && asprintf(&next, "%s/%s", dirname(dcopy),
					      target) < 0)
				next = NULL;
			free(dcopy);
		}
		free(cur);
		cur = next;
	}
	if (!cur) {
		gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		return NULL;
	}
	gw_err_set(err, GW_ERR_IO,
		   "cannot write '%s': too many levels of symbolic links",
		   path);
	free(cur);
	return NULL;
}

/* Output to something that is not a regular file (a FIFO, a character
 * device such as /dev/null, a socket, a terminal) is written in place:
 * renaming over it would replace the device or the pipe by a file. */
static gw_rc write_in_place(const char *path, const char *buf, size_t len,
			    struct gw_err *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	gw_rc rc;

	if (fd < 0)
		return gw_err_set(err, GW_ERR_IO, "cannot open '%s': %s", path,
				  strerror(errno));
	rc = write_all(fd, path, buf, len, err);
	if (close(fd) < 0 && !rc)
		rc = gw_err_set(err, GW_ERR_IO, "cannot write '%s': %s", path,
				strerror(errno));
	return rc;
}

gw_rc gw_write_file_atomic(const char *path, const void *buf, size_t len,
			   struct gw_err *err)
{
	char *tmp = NULL, *dcopy = NULL, *real;
	int fd = -1, dfd;
	struct stat st;
	gw_rc rc = GW_OK;

	if (!strcmp(path, "-")) {
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout))
			return gw_err_set(err, GW_ERR_IO,
					  "cannot write to standard output: %s",
					  strerror(errno));
		return GW_OK;
	}
	if (!(real = follow_links(path, err)))
		return err ? err->rc : GW_ERR_IO;
	if (stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot write '%s': it is a directory", path);
		free(real);
		return rc;
	}
	if (stat(real, &st) == 0 && !S_ISREG(st.st_mode)) {
		rc = write_in_place(real, buf, len, err);
		free(real);
		return rc;
	}
	path = real;
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		free(real);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = gw_err_set(err, GW_ERR_IO, "cannot create '%s': %s", tmp,
				strerror(errno));
		goto out;
	}
	if ((rc = write_all(fd, tmp, buf, len, err)))
		goto out;
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		rc = gw_err_set(err, GW_ERR_IO, "cannot sync '%s': %s", tmp,
				strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = gw_err_set(err, GW_ERR_IO,
				"cannot rename '%s' to '%s': %s", tmp, path,
				strerror(errno));
		goto out;
	}
	dcopy = strdup(path);
	if (dcopy &&
	    (dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	free(tmp);
	free(dcopy);
	free(real);
	return rc;
}

void gw_buf_init(struct gw_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void gw_buf_release(struct gw_buf *b)
{
	free(b->data);
	gw_buf_init(b);
}

gw_rc gw_buf_add(struct gw_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = gw_realloc(b->data, cap);
		if (!d)
			return GW_ERR_NOMEM;
		b->data = d;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return GW_OK;
}

gw_rc gw_buf_adds(struct gw_buf *b, const char *s)
{
	return gw_buf_add(b, s, strlen(s));
}

gw_rc gw_buf_addf(struct gw_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return GW_ERR_INTERNAL;
	if ((size_t)n < sizeof(small))
		return gw_buf_add(b, small, (size_t)n);
	{
		char *big = gw_malloc((size_t)n + 1);
		gw_rc rc;

		if (!big)
			return GW_ERR_NOMEM;
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		rc = gw_buf_add(b, big, (size_t)n);
		free(big);
		return rc;
	}
}

char *gw_buf_detach(struct gw_buf *b, size_t *len)
{
	char *d = b->data;

	if (len)
		*len = b->len;
	gw_buf_init(b);
	return d;
}
