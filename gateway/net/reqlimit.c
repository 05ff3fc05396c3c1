/*
 * reqlimit.c - the server's body limit, as a libevent filter under evhttp
 * (reqlimit.h says what it does and why). The filter reads the framing of
 * each HTTP/1.1 request as it arrives: the head (up to the empty line),
 * then a Content-Length body or a chunked one, chunk by chunk. Anything it
 * does not understand (a head too long, a malformed length or chunk
 * line) is passed on untouched from there on, for evhttp to refuse.
 */
#include "net/reqlimit.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/common.h"

enum state { HEAD, PASS_LEN, DROP_LEN, CHUNK, DROP_ALL, TRANSPARENT };
enum chunk_state { C_SIZE, C_DATA, C_DATA_END, C_TRAILER };

#define LINE_MAX_LEN 256

struct gw_reqlimit {
	struct gw_reqlimits *l;
	struct gw_reqlimit *next;
	struct bufferevent *bev;   /* the filter */
	struct bufferevent *under; /* what it reads from and writes to */
	struct event *flush;	   /* passes the answer on (on_out_added) */
	bufferevent_data_cb evhttp_written; /* evhttp's write callback */
	void *evhttp_arg;
	int write_pending; /* evhttp's callback waits for under's output */
	enum state st;
	enum chunk_state cst;
	int drop;		/* chunked: the body is over the limit */
	uint64_t left;		/* body or chunk bytes left */
	uint64_t body;		/* chunked: body bytes so far */
	struct evbuffer *held;	/* the rewritten head, after the body */
	uint64_t seq_in;	/* requests passed on to evhttp */
	uint64_t seq_out;	/* requests evhttp handed to the server */
	uint64_t too_large[64]; /* by seq % 64: the length, 0 if not */
};

/* The server's filters (one server per process): on_filter_written gets
 * evhttp's argument, not the filter's. */
static struct gw_reqlimits *filters;

struct bufferevent *gw_reqlimit_under(struct bufferevent *bev)
{
	struct bufferevent *u = bev ? bufferevent_get_underlying(bev) : NULL;

	return u ? u : bev;
}

/* The length of the head at the start of src (through its empty line),
 * 0 when it has not all arrived. */
static size_t head_len(struct evbuffer *src, size_t max)
{
	size_t len = evbuffer_get_length(src), n = len < max ? len : max, i;
	const char *p = (const char *)evbuffer_pullup(src, (ev_ssize_t)n);

	for (i = 0; p && i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Whether the header line p[0..n) is name: (case-insensitive); *value
 * then points past the colon and blanks. */
static int header_is(const char *p, size_t n, const char *name,
		     const char **value)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(p, name, k) || p[k] != ':')
		return 0;
	for (p += k + 1; *p == ' ' || *p == '\t'; p++)
		;
	*value = p;
	return 1;
}

/* Read the head at the start of src (hlen bytes) and decide. */
static void on_head(struct gw_reqlimit *f, struct evbuffer *src,
		    struct evbuffer *dst, size_t hlen)
{
	char *h = gw_malloc(hlen + 1), *line, *eol;
	uint64_t clen = 0;
	int has_len = 0, chunked = 0, expect = 0, bad = 0, seen_te = 0;
	struct evbuffer *out = NULL;

	if (!h) {
		f->st = TRANSPARENT;
		return;
	}
	evbuffer_copyout(src, h, hlen);
	h[hlen] = '\0';
	/* the request line, then the header lines */
	for (line = strchr(h, '\n'); line && *++line; line = eol) {
		const char *v;
		size_t n;

		if (!(eol = strchr(line, '\n')))
			break;
		n = (size_t)(eol - line);
		if (n && line[n - 1] == '\r')
			n--;
		if (header_is(line, n, "content-length", &v)) {
			char *end;

			if (!isdigit((unsigned char)*v))
				bad = 1;
			clen = strtoull(v, &end, 10);
			while (*end == ' ' || *end == '\t' || *end == '\r')
				end++;
			if (*end != '\n' || has_len)
				bad = 1; /* evhttp refuses it */
			has_len = 1;
		} else if (header_is(line, n, "transfer-encoding", &v) &&
			   !seen_te) {
			/* as evhttp reads it: the first such header, exactly
			 * "chunked" (case aside), else no chunked body */
			const char *e = line + n;

			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			chunked = e - v == 7 && !strncasecmp(v, "chunked", 7);
			seen_te = 1;
		} else if (header_is(line, n, "expect", &v)) {
			expect = !strncasecmp(v, "100-continue", 12);
		}
	}
	f->seq_in++;
	if (bad) {
		f->st = TRANSPARENT;
	} else if (chunked) {
		evbuffer_remove_buffer(src, dst, hlen);
		f->st = CHUNK;
		f->cst = C_SIZE;
		f->drop = 0;
		f->body = 0;
	} else if (clen <= f->l->max_body) {
		evbuffer_remove_buffer(src, dst, hlen);
		f->left = clen;
		f->st = clen ? PASS_LEN : HEAD;
	} else if (!(out = evbuffer_new())) {
		f->st = TRANSPARENT;
	} else {
		/* too large: the same head without its body */
		int now = expect || clen > GW_REQLIMIT_LINGER_MAX;

		f->too_large[(f->seq_in - 1) % 64] = clen;
		for (line = h; line && *line; line = eol) {
			const char *v;
			size_t n;

			eol = strchr(line, '\n');
			eol = eol ? eol + 1 : line + strlen(line);
			n = (size_t)(eol - line);
			if (n <= 2 && line != h)
				break; /* the empty line */
			if (header_is(line, n, "content-length", &v) ||
			    header_is(line, n, "expect", &v) ||
			    (now && header_is(line, n, "connection", &v)))
				continue;
			evbuffer_add(out, line, n);
		}
		evbuffer_add_printf(out, "Content-Length: 0\r\n%s\r\n",
				    now ? "Connection: close\r\n" : "");
		evbuffer_drain(src, hlen);
		f->left = clen;
		f->st = DROP_LEN;
		if (now) {
			evbuffer_add_buffer(dst, out);
			evbuffer_free(out);
		} else {
			f->held = out; /* passed on once the body is read */
		}
	}
	free(h);
}

/* One line of chunk framing at the start of src into line (NUL ended,
 * without its end of line), taken out of src and passed to dst unless
 * the body is dropped. 0: not all here yet; -1: too long. */
static int chunk_line(struct gw_reqlimit *f, struct evbuffer *src,
		      struct evbuffer *dst, char line[LINE_MAX_LEN], int pass)
{
	size_t eol_len, n;
	struct evbuffer_ptr p =
		evbuffer_search_eol(src, NULL, &eol_len, EVBUFFER_EOL_LF);

	if (p.pos < 0)
		return evbuffer_get_length(src) >= LINE_MAX_LEN ? -1 : 0;
	n = (size_t)p.pos;
	if (n >= LINE_MAX_LEN)
		return -1;
	evbuffer_copyout(src, line, n);
	line[n] = '\0';
	if (n && line[n - 1] == '\r')
		line[n - 1] = '\0';
	if (pass)
		evbuffer_remove_buffer(src, dst, n + eol_len);
	else
		evbuffer_drain(src, n + eol_len);
	return 1;
}

/* Some of a chunked body; 0 when more must arrive. */
static int on_chunk(struct gw_reqlimit *f, struct evbuffer *src,
		    struct evbuffer *dst)
{
	char line[LINE_MAX_LEN], *end;
	uint64_t size, n;
	int r;

	switch (f->cst) {
	case C_SIZE: {
		/* decide before passing the size line on */
		size_t eol_len;
		struct evbuffer_ptr p = evbuffer_search_eol(src, NULL, &eol_len,
							    EVBUFFER_EOL_LF);

		if (p.pos < 0) {
			if (evbuffer_get_length(src) < LINE_MAX_LEN)
				return 0;
			f->st = f->drop ? DROP_ALL : TRANSPARENT;
			return 1;
		}
		if ((size_t)p.pos >= LINE_MAX_LEN) {
			f->st = f->drop ? DROP_ALL : TRANSPARENT;
			return 1;
		}
		evbuffer_copyout(src, line, (size_t)p.pos);
		line[p.pos] = '\0';
		size = strtoull(line, &end, 16);
		if (end == line || (*end && *end != ';' && *end != '\r' &&
				    *end != ' ' && *end != '\t')) {
			f->st = f->drop ? DROP_ALL : TRANSPARENT;
			return 1;
		}
		if (!f->drop && size && f->body + size > f->l->max_body) {
			f->drop = 1;
			f->too_large[(f->seq_in - 1) % 64] = f->body + size;
		}
		if (f->drop && f->body + size > GW_REQLIMIT_LINGER_MAX) {
			/* not worth reading: answered now, the rest is
			 * thrown away until the connection closes */
			evbuffer_add(dst, "0\r\n\r\n", 5);
			f->st = DROP_ALL;
			return 1;
		}
		chunk_line(f, src, dst, line, !f->drop);
		f->body += size;
		f->left = size;
		f->cst = size ? C_DATA : C_TRAILER;
		return 1;
	}
	case C_DATA:
		n = evbuffer_get_length(src);
		if (n > f->left)
			n = f->left;
		if (f->drop)
			evbuffer_drain(src, (size_t)n);
		else
			evbuffer_remove_buffer(src, dst, (size_t)n);
		f->left -= n;
		if (!f->left)
			f->cst = C_DATA_END;
		return 1;
	case C_DATA_END:
	case C_TRAILER:
		if ((r = chunk_line(f, src, dst, line, !f->drop)) <= 0) {
			if (r < 0)
				f->st = f->drop ? DROP_ALL : TRANSPARENT;
			return r < 0;
		}
		if (f->cst == C_DATA_END) {
			f->cst = C_SIZE;
		} else if (!line[0]) { /* the end of the trailers */
			if (f->drop)
				evbuffer_add(dst, "0\r\n\r\n", 5);
			f->st = HEAD;
		}
		return 1;
	}
	return 1;
}

static enum bufferevent_filter_result
in_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
	  enum bufferevent_flush_mode mode, void *arg)
{
	struct gw_reqlimit *f = arg;
	size_t len, n;

	while ((len = evbuffer_get_length(src)) > 0) {
		switch (f->st) {
		case TRANSPARENT: evbuffer_add_buffer(dst, src); break;
		case DROP_ALL: evbuffer_drain(src, len); break;
		case HEAD: {
			const char *p = (const char *)evbuffer_pullup(src, 1);

			if (p && (*p == '\r' || *p == '\n')) {
				/* blank lines between requests */
				evbuffer_remove_buffer(src, dst, 1);
				break;
			}
			n = head_len(src, f->l->max_header + 4);
			if (!n) {
				if (len <= f->l->max_header + 4)
					return BEV_NEED_MORE;
				f->st = TRANSPARENT; /* evhttp refuses it */
				break;
			}
			on_head(f, src, dst, n);
			break;
		}
		case PASS_LEN:
		case DROP_LEN:
			n = len < f->left ? len : (size_t)f->left;
			if (f->st == PASS_LEN)
				evbuffer_remove_buffer(src, dst, n);
			else
				evbuffer_drain(src, n);
			f->left -= n;
			if (!f->left) {
				if (f->held) {
					evbuffer_add_buffer(dst, f->held);
					evbuffer_free(f->held);
					f->held = NULL;
				}
				f->st = HEAD;
			}
			break;
		case CHUNK:
			if (!on_chunk(f, src, dst))
				return BEV_NEED_MORE;
			break;
		}
	}
	return BEV_OK;
}

/* evhttp frees a connection answered with Connection: close from its
 * write callback, run when the filter's output is empty; the answer may
 * then still be in under's output, and evhttp shuts the socket down. So
 * the write callback evhttp sets is called only once under has written
 * everything (on_under_out). */
static void on_filter_written(struct bufferevent *bev, void *arg)
{
	struct gw_reqlimit *f = NULL, *g;

	/* arg is evhttp's: f is found by its bufferevent */
	for (g = filters ? filters->head : NULL; g && !f; g = g->next)
		if (g->bev == bev)
			f = g;
	if (!f || !f->evhttp_written)
		return;
	if (evbuffer_get_length(bufferevent_get_output(f->under))) {
		f->write_pending = 1;
		return;
	}
	f->evhttp_written(bev, f->evhttp_arg);
}

static void on_under_out(struct evbuffer *buf,
			 const struct evbuffer_cb_info *info, void *arg)
{
	struct gw_reqlimit *f = arg;

	if (info->n_deleted && f->write_pending && !evbuffer_get_length(buf)) {
		f->write_pending = 0;
		if (f->evhttp_written)
			f->evhttp_written(f->bev, f->evhttp_arg);
	}
}

/* Data added to the filter's output (an answer). libevent's filter
 * passes it on only when output is enabled at that moment, and evhttp
 * enables it after writing: pass it on from the loop. */
static void on_out_added(struct evbuffer *buf,
			 const struct evbuffer_cb_info *info, void *arg)
{
	struct gw_reqlimit *f = arg;

	if (info->n_added && f->flush)
		event_active(f->flush, EV_TIMEOUT, 1);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct gw_reqlimit *f = arg;
	bufferevent_data_cb rd, wr;
	bufferevent_event_cb ev;
	void *cbarg;

	bufferevent_getcb(f->bev, &rd, &wr, &ev, &cbarg);
	if (wr != on_filter_written) {
		f->evhttp_written = wr;
		f->evhttp_arg = cbarg;
		/* cbarg stays evhttp's for its read and event callbacks;
		 * on_filter_written finds f from the bufferevent */
		bufferevent_setcb(f->bev, rd, on_filter_written, ev, cbarg);
	}
	bufferevent_flush(f->bev, EV_WRITE, BEV_NORMAL);
}

static void lim_free(void *arg)
{
	struct gw_reqlimit *f = arg, **pp;

	for (pp = &f->l->head; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	evbuffer_remove_cb(bufferevent_get_output(f->bev), on_out_added, f);
	evbuffer_remove_cb(bufferevent_get_output(f->under), on_under_out, f);
	if (f->flush)
		event_free(f->flush);
	if (f->held)
		evbuffer_free(f->held);
	free(f);
}

struct bufferevent *gw_reqlimit_wrap(struct gw_reqlimits *l,
				     struct bufferevent *under)
{
	struct gw_reqlimit *f = gw_calloc(1, sizeof(*f));
	struct bufferevent *bev;

	if (!f || !under) {
		free(f);
		if (under)
			bufferevent_free(under);
		return NULL;
	}
	f->l = l;
	f->under = under;
	filters = l;
	bev = bufferevent_filter_new(under, in_filter, NULL,
				     BEV_OPT_CLOSE_ON_FREE, lim_free, f);
	if (!bev) {
		free(f);
		bufferevent_free(under);
		return NULL;
	}
	f->bev = bev;
	f->next = l->head;
	l->head = f;
	f->flush = event_new(bufferevent_get_base(under), -1, 0, on_flush, f);
	if (!f->flush ||
	    !evbuffer_add_cb(bufferevent_get_output(bev), on_out_added, f) ||
	    !evbuffer_add_cb(bufferevent_get_output(under), on_under_out, f)) {
		bufferevent_free(bev); /* and under, and f (lim_free) */
		return NULL;
	}
	/* the filter reads from under as evhttp reads from it */
	bufferevent_enable(under, EV_READ | EV_WRITE);
	return bev;
}

int gw_reqlimit_next(struct gw_reqlimits *l, struct bufferevent *bev,
		     uint64_t *size)
{
	struct gw_reqlimit *f;
	uint64_t *slot;

	for (f = l->head; f && f->bev != bev; f = f->next)
		;
	if (!f)
		return 0;
	slot = &f->too_large[f->seq_out++ % 64];
	if (!*slot)
		return 0;
	*size = *slot;
	*slot = 0;
	return 1;
}

size_t gw_reqlimit_run(size_t max_body, const char *data, size_t len,
		       size_t step, struct evbuffer *out, uint64_t *too_large)
{
	struct gw_reqlimits l = { NULL, max_body, 16384 };
	struct gw_reqlimit f;
	struct evbuffer *src = evbuffer_new();
	size_t at = 0, i, n = 0;

	memset(&f, 0, sizeof(f));
	f.l = &l;
	*too_large = 0;
	if (!src)
		return 0;
	if (!step)
		step = 1;
	while (at < len) {
		size_t k = len - at < step ? len - at : step;

		evbuffer_add(src, data + at, k);
		at += k;
		in_filter(src, out, -1, BEV_NORMAL, &f);
	}
	for (i = 0; i < 64; i++)
		if (f.too_large[i])
			(*too_large)++;
	n = (size_t)f.seq_in;
	if (f.held)
		evbuffer_free(f.held);
	evbuffer_free(src);
	return n;
}
