/*
 * csv.c - the csv source adapter: an RFC 4180 reader (csv.h) whose rows go
 * through the job's mapping file (the host's mapping engine), one message
 * per record or per group of rows. Every row that cannot be read or
 * mapped is reported as FILE:LINE with the reason.
 */
#include "csv/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapter.h"

#define CHUNK 65536

struct gw_csv {
	FILE *f;
	char delim;
	int eof;
	unsigned char in[CHUNK];
	size_t ipos, ilen;
	size_t line; /* line of the next character */
	uint64_t bytes;
	char *buf; /* the row's fields, each NUL-terminated */
	size_t len, cap;
	size_t *offs;
	const char **cells;
	size_t nf, fcap;
	int started;
};

static int fill(struct gw_csv *c)
{
	if (c->eof)
		return 0;
	c->ilen = fread(c->in, 1, sizeof(c->in), c->f);
	c->ipos = 0;
	if (c->ilen == 0)
		c->eof = 1;
	return c->ilen > 0;
}

static int get(struct gw_csv *c)
{
	if (c->ipos == c->ilen && !fill(c))
		return EOF;
	c->bytes++;
	return c->in[c->ipos++];
}

static int peek(struct gw_csv *c)
{
	if (c->ipos == c->ilen && !fill(c))
		return EOF;
	return c->in[c->ipos];
}

/* The delimiter of the first line: the most frequent of , ; TAB outside
 * quotes (',' on a tie or when none). */
static char detect(struct gw_csv *c)
{
	size_t i, n[3] = { 0, 0, 0 };
	int q = 0;

	for (i = c->ipos; i < c->ilen; i++) {
		unsigned char ch = c->in[i];

		if (ch == '"')
			q = !q;
		else if (!q && (ch == '\n' || ch == '\r'))
			break;
		else if (!q && ch == ',')
			n[0]++;
		else if (!q && ch == ';')
			n[1]++;
		else if (!q && ch == '\t')
			n[2]++;
	}
	if (n[1] > n[0] && n[1] >= n[2])
		return ';';
	if (n[2] > n[0] && n[2] > n[1])
		return '\t';
	return ',';
}

struct gw_csv *gw_csv_new(FILE *f, char delim)
{
	struct gw_csv *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->f = f;
	c->delim = delim;
	c->line = 1;
	return c;
}

void gw_csv_free(struct gw_csv *c)
{
	if (!c)
		return;
	free(c->buf);
	free(c->offs);
	free(c->cells);
	free(c);
}

char gw_csv_delimiter(const struct gw_csv *c)
{
	return c->delim;
}

uint64_t gw_csv_bytes(const struct gw_csv *c)
{
	return c->bytes;
}

static int add(struct gw_csv *c, char ch)
{
	if (c->len == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 256;
		char *nb;

		if (nc > 16u * GW_CSV_MAX_FIELD + 16)
			return -1;
		nb = realloc(c->buf, nc);
		if (!nb)
			return -1;
		c->buf = nb;
		c->cap = nc;
	}
	c->buf[c->len++] = ch;
	return 0;
}

static int end_field(struct gw_csv *c)
{
	if (c->nf == GW_CSV_MAX_FIELDS || add(c, '\0'))
		return -1;
	if (c->nf == c->fcap) {
		size_t nc = c->fcap ? c->fcap * 2 : 16;
		size_t *no = realloc(c->offs, nc * sizeof(*no));

		if (!no)
			return -1;
		c->offs = no;
		c->fcap = nc;
	}
	c->offs[c->nf++] = c->len;
	return 0;
}

/* Why end_field() failed. */
static void too_many(const struct gw_csv *c, char *why, size_t whylen)
{
	if (c->nf == GW_CSV_MAX_FIELDS)
		snprintf(why, whylen, "more than %u fields", GW_CSV_MAX_FIELDS);
	else
		snprintf(why, whylen, "out of memory");
}

/* Why add() failed for the field that starts at fstart. */
static void too_long(const struct gw_csv *c, size_t fstart, char *why,
		     size_t whylen)
{
	if (c->len - fstart >= GW_CSV_MAX_FIELD)
		snprintf(why, whylen, "field %zu is longer than %u bytes",
			 c->nf + 1, GW_CSV_MAX_FIELD);
	else if (c->cap >= 16u * GW_CSV_MAX_FIELD)
		snprintf(why, whylen, "the row is longer than %u bytes",
			 16u * GW_CSV_MAX_FIELD);
	else
		snprintf(why, whylen, "out of memory");
}

/* Where skip_row() resumes reading: at the start of a field, inside an
 * unquoted one (or after a closing quote), or inside a quoted one. */
enum { AT_START, IN_PLAIN, IN_QUOTES };

/*
 * Skip the rest of a bad row, ch (not yet looked at) onwards, read as the
 * reader reads it: a quoted field goes on over line breaks and doubled
 * quotes to its closing quote, so that nothing inside it is ever taken
 * for rows of its own (stopping at the next physical line would). Returns
 * 0 at the end of the row, -1 when a quote is never closed (the rest of
 * the file belongs to this row) with *qline the line it opened on.
 */
static int skip_row(struct gw_csv *c, int ch, int st, size_t *qline)
{
	for (;; ch = get(c)) {
		if (ch == EOF)
			return st == IN_QUOTES ? -1 : 0;
		if (st == IN_QUOTES) {
			if (ch == '"' && peek(c) == '"')
				get(c);
			else if (ch == '"')
				st = IN_PLAIN;
			else if (ch == '\n')
				c->line++;
		} else if (ch == '\n' || ch == '\r') {
			if (ch == '\r' && peek(c) == '\n')
				get(c);
			c->line++;
			return 0;
		} else if (ch == c->delim) {
			st = AT_START;
		} else if (ch == '"' && st == AT_START) {
			st = IN_QUOTES;
			*qline = c->line;
		} else {
			st = IN_PLAIN;
		}
	}
}

/* A bad row whose reason is in why: skip it from ch in state st (see
 * skip_row; qline: where the quote of an IN_QUOTES field opened) and say
 * so when a quote is left open to the end of the file. Returns -1. */
static int bad_row(struct gw_csv *c, int ch, int st, size_t qline, char *why,
		   size_t whylen)
{
	size_t len;

	if (skip_row(c, ch, st, &qline) == 0)
		return -1;
	len = strlen(why);
	if (len + 1 < whylen)
		snprintf(why + len, whylen - len,
			 "; the quote opened on line %zu is never closed, "
			 "so the rest of the file is part of this row",
			 qline);
	return -1;
}

int gw_csv_next(struct gw_csv *c, const char *const **cells, size_t *n,
		size_t *line, char *why, size_t whylen)
{
	size_t start, i, flen;
	int ch;

	if (!c->started) {
		c->started = 1;
		if (peek(c) == 0xEF && c->ilen - c->ipos >= 3 &&
		    c->in[c->ipos + 1] == 0xBB && c->in[c->ipos + 2] == 0xBF)
			c->ipos += 3, c->bytes += 3;
		if (!c->delim)
			c->delim = detect(c);
	}
	for (;;) {
		ch = get(c);
		if (ch == EOF)
			return 0;
		if (ch == '\r' && peek(c) == '\n')
			ch = get(c);
		if (ch != '\n' && ch != '\r')
			break;
		c->line++; /* an empty line: nothing to map */
	}
	*line = start = c->line;
	c->len = 0;
	c->nf = 0;
	for (;;) {
		size_t fstart = c->len;

		if (ch == '"') {
			size_t qline = c->line;

			for (;;) {
				ch = get(c);
				if (ch == EOF) {
					snprintf(why, whylen,
						 "field %zu: the quote opened "
						 "on line %zu is never closed",
						 c->nf + 1, qline);
					return -1;
				}
				if (ch == '"') {
					if (peek(c) != '"')
						break;
					ch = get(c);
				} else if (ch == '\n') {
					c->line++;
				}
				if (ch == 0) {
					snprintf(why, whylen,
						 "field %zu: a NUL byte",
						 c->nf + 1);
					return bad_row(c, get(c), IN_QUOTES,
						       qline, why, whylen);
				}
				if (c->len - fstart >= GW_CSV_MAX_FIELD ||
				    add(c, (char)ch)) {
					too_long(c, fstart, why, whylen);
					return bad_row(c, get(c), IN_QUOTES,
						       qline, why, whylen);
				}
			}
			ch = get(c);
			if (ch != c->delim && ch != '\n' && ch != '\r' &&
			    ch != EOF) {
				snprintf(why, whylen,
					 "field %zu: text after its closing "
					 "quote (a quote inside a field is "
					 "written twice: \"\")",
					 c->nf + 1);
				return bad_row(c, get(c), IN_PLAIN, 0, why,
					       whylen);
			}
		} else {
			while (ch != c->delim && ch != '\n' && ch != '\r' &&
			       ch != EOF) {
				if (ch == '"' || ch == 0) {
					snprintf(why, whylen,
						 ch ? "field %zu: a quote "
						      "inside an unquoted "
						      "field (quote the whole "
						      "field and write the "
						      "quote twice)"
						    : "field %zu: a NUL byte",
						 c->nf + 1);
					return bad_row(c, get(c), IN_PLAIN, 0,
						       why, whylen);
				}
				if (c->len - fstart >= GW_CSV_MAX_FIELD ||
				    add(c, (char)ch)) {
					too_long(c, fstart, why, whylen);
					return bad_row(c, get(c), IN_PLAIN, 0,
						       why, whylen);
				}
				ch = get(c);
			}
		}
		if (end_field(c)) {
			too_many(c, why, whylen);
			return bad_row(c, ch, AT_START, 0, why, whylen);
		}
		if (ch == c->delim) {
			ch = get(c);
			if (ch == '\n' || ch == '\r' || ch == EOF) {
				/* a delimiter at the end: one empty field */
				if (end_field(c)) {
					too_many(c, why, whylen);
					return bad_row(c, ch, AT_START, 0, why,
						       whylen);
				}
			} else {
				continue;
			}
		}
		break;
	}
	if (ch == '\r' && peek(c) == '\n')
		ch = get(c);
	if (ch == '\n' || ch == '\r')
		c->line++;
	free(c->cells);
	c->cells = malloc((c->nf + 1) * sizeof(*c->cells));
	if (!c->cells) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	flen = 0;
	for (i = 0; i < c->nf; i++) {
		c->cells[i] = c->buf + flen;
		flen = c->offs[i];
	}
	c->cells[c->nf] = NULL;
	*cells = c->cells;
	*n = c->nf;
	(void)start;
	return 1;
}

/* --- the adapter -------------------------------------------------------- */

static const struct gw_adapter_host *H;

static int init(const struct gw_adapter_host *host, void **state)
{
	H = host;
	*state = NULL;
	if (host->size <
	    offsetof(struct gw_adapter_host, progress) + sizeof(host->progress))
		return -1; /* a host without the mapping engine */
	return 0;
}

static int run(void *state, struct gw_adapter_job *job)
{
	const char *input = H->job_input(job);
	struct gw_adapter_mapping *m = NULL;
	struct gw_csv *c = NULL;
	const char *opt, *const *cells;
	FILE *f = NULL;
	struct stat st;
	char why[300] = "", where[4200], d = 0;
	size_t n, line, rows = 0, ncols = 0;
	uint64_t total = 0;
	int r, rc = -1;

	if (!(m = H->mapping_open(job)))
		goto out;
	if (!(f = fopen(input, "rb"))) {
		H->fail(job, "cannot open '%s': %s", input, strerror(errno));
		goto out;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
		total = (uint64_t)st.st_size;
	if ((opt = H->mapping_option(m, "/csv/delimiter")))
		d = opt[0];
	if (!(c = gw_csv_new(f, d))) {
		H->fail(job, "out of memory");
		goto out;
	}
	opt = H->mapping_option(m, "/csv/header");
	if (!opt || strcmp(opt, "false")) {
		r = gw_csv_next(c, &cells, &n, &line, why, sizeof(why));
		if (r == 0) {
			H->fail(job,
				"%s: empty file, a header line was "
				"expected",
				input);
			goto out;
		}
		if (r < 0) {
			H->fail(job, "%s:%zu: header line: %s", input, line,
				why);
			goto out;
		}
		if (H->mapping_bind(m, job, cells, n))
			goto out;
		ncols = n;
	} else if (H->mapping_bind(m, job, NULL, 0)) {
		goto out;
	}
	for (;;) {
		why[0] = '\0';
		r = gw_csv_next(c, &cells, &n, &line, why, sizeof(why));
		if (r == 0)
			break;
		snprintf(where, sizeof(where), "%s:%zu", input, line);
		if (r < 0) {
			H->unmapped(job, where, why[0] ? why : "not valid CSV");
		} else if (ncols && n != ncols) {
			/* a value with an unquoted delimiter shifts every
			 * column after it: never map such a row */
			snprintf(why, sizeof(why),
				 "the row has %zu fields, the header has %zu "
				 "(a value holding '%c' must be quoted)",
				 n, ncols, gw_csv_delimiter(c));
			H->unmapped(job, where, why);
		} else if (H->mapping_row(m, job, where, cells, n))
			goto out;
		if (++rows % 512 == 0)
			H->progress(job, gw_csv_bytes(c), total);
	}
	if (ferror(f)) {
		H->fail(job, "cannot read '%s': %s", input, strerror(errno));
		goto out;
	}
	H->progress(job, gw_csv_bytes(c), total);
	if (H->mapping_finish(m, job))
		goto out;
	rc = 0;
out:
	gw_csv_free(c);
	if (f)
		fclose(f);
	H->mapping_close(m);
	return rc;
}

const struct gw_adapter gw_adapter_csv = {
	.abi_version = GW_ADAPTER_ABI_VERSION,
	.size = sizeof(struct gw_adapter),
	.name = "csv",
	.description = "RFC 4180 CSV rows through a mapping file",
	.init = init,
	.run = run,
};
