/*
 * plan_tables.c - the "plan-tables" source adapter: a plan document as
 * text (decision header, then appendices whose tables are markdown pipe
 * tables) to one plan message, one task.assignment per numbered task row
 * and one indicator.report per indicator-target table.
 *
 * Tables are read only after a "PHỤ LỤC" line. The header row names the
 * columns (TT, Nhiệm vụ, Đơn vị chủ trì, ...); a second header row that
 * was shifted left by the conversion (period labels such as "2019-2020 |
 * 2021-2025", or "Mới | Chuyển tiếp") expands the column it belongs to.
 * Rows are numbered by Roman sections (I, VI.), then 1, 2.1, 3.3.12; a row
 * with an empty number continues the row above: with a title of its own it
 * becomes a sub-row of its parent (numbering a, b, ...), otherwise its text
 * is merged into the parent's notes. Rows that cannot be placed are
 * reported to the host with the reason, never dropped silently.
 *
 * The adapter reaches the core only through the host table.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

static const struct gw_adapter_host *H;

#define MAXCOLS 32
/* How a row merged into its parent's notes starts there. */
#define MERGED_PREFIX "Dòng bổ sung: "

enum role {
	R_OTHER,
	R_NUM,
	R_TITLE,
	R_TITLE_NEW,
	R_TITLE_CONT,
	R_LEAD,
	R_MINISTRY,
	R_FOCAL,
	R_COORD,
	R_TIME,
	R_NOTES,
	R_FIELD,
	R_INDICATOR
};

struct row {
	long line;
	int n;
	char *cell[MAXCOLS]; /* normalized text, never NULL below n */
};

struct table {
	long line;
	char appendix[16];
	char *heading; /* the appendix title (normalized), may be NULL */
	int nrows;
	struct row *rows;
};

struct doc {
	const char *path;
	char number[101];
	char date[11];
	char *title;
	int ntables;
	struct table *tables;
	int task_tables; /* tables with task rows */
	json_t *tasks;	 /* every task payload, in order */
	json_t *reports; /* indicator.report payloads */
	json_t *targets; /* every observation */
	long unmapped;
};

/* --- small helpers ---------------------------------------------------- */

static void unmapped(struct gw_adapter_job *job, struct doc *d, long line,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void unmapped(struct gw_adapter_job *job, struct doc *d, long line,
		     const char *fmt, ...)
{
	char where[512], why[1024];
	va_list ap;

	snprintf(where, sizeof(where), "%s:%ld", d->path, line);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	H->unmapped(job, where, why);
	d->unmapped++;
}

static int has(const char *folded, const char *word)
{
	return folded && strstr(folded, word) != NULL;
}

static int is_roman(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr("IVXLC", *s))
			return 0;
	return 1;
}

/* 1, 2.1, 3.3.12 */
static int is_number(const char *s)
{
	int digits = 0;

	if (!isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			digits++;
		} else if (*s == '.' && digits) {
			digits = 0;
		} else {
			return 0;
		}
	}
	return digits > 0;
}

/* "I. Hoàn thiện ..." (a section number and its title merged in one
 * cell): keep the number only (in place). */
static void roman_title(char *s)
{
	size_t n = strspn(s, "IVXLC");

	if (n && (s[n] == '.' || s[n] == ' ') && s[n + 1 + (s[n + 1] == ' ')] &&
	    (s[n] == ' ' || s[n + 1] == ' '))
		s[n] = '\0';
}

/* The numbering cell without a trailing dot or spaces (in place). */
static void clean_number(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '.' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static int is_period_label(const char *s)
{
	const char *p = s;
	int d = 0;

	while (isdigit((unsigned char)*p))
		p++, d++;
	if (d != 4)
		return 0;
	while (*p == ' ')
		p++;
	if (!*p)
		return 1;
	if (*p != '-')
		return 0;
	p++;
	while (*p == ' ')
		p++;
	for (d = 0; isdigit((unsigned char)*p); p++)
		d++;
	return d == 4 && !*p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = H->alloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* Append "text" to the string member key of obj, separated by sep. */
static int append_str(json_t *obj, const char *key, const char *sep,
		      const char *text)
{
	const char *old = json_string_value(json_object_get(obj, key));
	size_t n;
	char *buf;
	int rc;

	if (!old || !*old)
		return json_object_set_new(obj, key, json_string(text));
	n = strlen(old) + strlen(sep) + strlen(text) + 1;
	buf = H->alloc(n);
	if (!buf)
		return -1;
	snprintf(buf, n, "%s%s%s", old, sep, text);
	rc = json_object_set_new(obj, key, json_string(buf));
	H->free(buf);
	return rc;
}

/* --- reading ------------------------------------------------------------ */

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, got;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 131072;
			nb = H->realloc(buf, cap + 1);
			if (!nb)
				goto fail;
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	buf[len] = '\0';
	return buf;
fail:
	fclose(f);
	H->free(buf);
	return NULL;
}

static void free_table(struct table *t)
{
	int i, j;

	for (i = 0; i < t->nrows; i++)
		for (j = 0; j < t->rows[i].n; j++)
			H->free(t->rows[i].cell[j]);
	H->free(t->rows);
	H->free(t->heading);
}

static int split_row(char *line, long lineno, struct row *r)
{
	char *p = line, *bar;
	int n = 0;

	memset(r, 0, sizeof(*r));
	r->line = lineno;
	if (*p == '|')
		p++;
	while (*p && *p != '\n') {
		bar = strchr(p, '|');
		if (!bar)
			break; /* text after the last bar is not a cell */
		*bar = '\0';
		if (n == MAXCOLS)
			return -1;
		r->cell[n] = H->text(p);
		if (!r->cell[n])
			return -1;
		n++;
		r->n = n;
		p = bar + 1;
	}
	return 0;
}

static int is_separator(const struct row *r)
{
	int i;

	for (i = 0; i < r->n; i++) {
		const char *c = r->cell[i];

		if (*c && strspn(c, "-: ") != strlen(c))
			return 0;
	}
	return r->n > 0;
}

/* Document number, date and title from the decision's opening. */
static void read_header(struct doc *d, char **lines, long nlines)
{
	long i;

	for (i = 0; i < nlines && i < 80; i++) {
		char *t = H->text(lines[i]);
		char *p;

		if (!t)
			return;
		if (!d->number[0] && (p = strstr(t, "Số:"))) {
			size_t n;

			p += strlen("Số:");
			while (*p == ' ')
				p++;
			n = strcspn(p, " |");
			if (n && n < sizeof(d->number))
				memcpy(d->number, p, n), d->number[n] = '\0';
		}
		if (!d->date[0] && (p = strstr(t, "ngày "))) {
			char buf[64];
			size_t n = strcspn(p, "|");
			int k;

			if (n >= sizeof(buf))
				n = sizeof(buf) - 1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			/* try shorter prefixes: "ngày 08 tháng 7 năm 2024" */
			for (k = (int)n; k > 0; k--) {
				buf[k] = '\0';
				if (H->date(buf, d->date) == 0)
					break;
			}
			if (k == 0)
				d->date[0] = '\0';
		}
		if (!d->title && strcmp(t, "QUYẾT ĐỊNH") == 0) {
			long j = i + 1;

			while (j < nlines && !*lines[j])
				j++;
			if (j < nlines) {
				char *title = H->text(lines[j]);

				if (title && strncmp(title, "VỀ VIỆC ",
						     strlen("VỀ VIỆC ")) == 0) {
					char *s = xstrdup(title +
							  strlen("VỀ VIỆC "));

					H->free(title);
					title = s;
				}
				d->title = title;
			}
		}
		H->free(t);
	}
}

static int read_doc(struct doc *d, char *buf)
{
	char **lines = NULL;
	long nlines = 0, cap = 0, i;
	char *p = buf, appendix[16] = "";
	char *heading = NULL;
	int rc = -1;

	while (*p) {
		char *e = strchr(p, '\n');

		if (nlines == cap) {
			char **nl;

			cap = cap ? cap * 2 : 1024;
			nl = H->realloc(lines, (size_t)cap * sizeof(*lines));
			if (!nl)
				goto out;
			lines = nl;
		}
		lines[nlines++] = p;
		if (!e)
			break;
		*e = '\0';
		if (e > p && e[-1] == '\r')
			e[-1] = '\0';
		p = e + 1;
	}
	read_header(d, lines, nlines);
	for (i = 0; i < nlines; i++) {
		const char *l = lines[i];

		if (strncmp(l, "PHỤ LỤC", strlen("PHỤ LỤC")) == 0 &&
		    strlen(l) < 40) {
			const char *a = l + strlen("PHỤ LỤC");
			long j = i + 1;

			while (*a == ' ')
				a++;
			snprintf(appendix, sizeof(appendix), "%s",
				 *a ? a : "1");
			H->free(heading);
			heading = NULL;
			while (j < nlines && !*lines[j])
				j++;
			if (j < nlines && lines[j][0] != '|')
				heading = H->text(lines[j]);
			continue;
		}
		if (l[0] != '|' || !appendix[0])
			continue;
		{
			struct table t, *nt;

			memset(&t, 0, sizeof(t));
			t.line = i + 1;
			snprintf(t.appendix, sizeof(t.appendix), "%s",
				 appendix);
			t.heading = heading ? xstrdup(heading) : NULL;
			for (; i < nlines; i++) {
				struct row *nr;

				if (!*lines[i])
					continue;
				if (lines[i][0] != '|')
					break;
				nr = H->realloc(t.rows, (size_t)(t.nrows + 1) *
								sizeof(*nr));
				if (!nr) {
					free_table(&t);
					goto out;
				}
				t.rows = nr;
				if (split_row(lines[i], i + 1,
					      &t.rows[t.nrows])) {
					t.nrows++;
					free_table(&t);
					goto out;
				}
				t.nrows++;
			}
			nt = H->realloc(d->tables,
					(size_t)(d->ntables + 1) * sizeof(*nt));
			if (!nt) {
				free_table(&t);
				goto out;
			}
			d->tables = nt;
			d->tables[d->ntables++] = t;
		}
	}
	rc = 0;
out:
	H->free(heading);
	H->free(lines);
	return rc;
}

/* --- columns ------------------------------------------------------------ */

struct cols {
	int n;
	enum role role[MAXCOLS];
	const char *label[MAXCOLS]; /* borrowed from the header rows */
};

static enum role header_role(const char *f, int *seen_title)
{
	if (strcmp(f, "tt") == 0 || strcmp(f, "stt") == 0)
		return R_NUM;
	if (has(f, "lĩnh vực"))
		return R_FIELD;
	if (strncmp(f, "tỷ lệ", strlen("tỷ lệ")) == 0 ||
	    strncmp(f, "chỉ tiêu", strlen("chỉ tiêu")) == 0)
		return R_INDICATOR;
	if (has(f, "bộ ngành"))
		return R_MINISTRY;
	if (has(f, "đầu mối"))
		return R_FOCAL;
	if (has(f, "chủ trì"))
		return R_LEAD;
	if (has(f, "phối hợp"))
		return R_COORD;
	if (has(f, "nhiệm vụ") && !*seen_title) {
		*seen_title = 1;
		return R_TITLE;
	}
	if (has(f, "thời gian"))
		return R_TIME;
	if (has(f, "ghi chú"))
		return R_NOTES;
	return R_OTHER;
}

/* Columns from the header row; consumes a shifted second header row.
 * Returns the index of the first data row. */
static int read_cols(struct table *t, struct cols *c)
{
	const struct row *h = &t->rows[0], *s;
	int i, first = 1, seen_title = 0, k = 0, j;
	enum role expand = R_OTHER;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < h->n; i++) {
		char *f = H->fold(h->cell[i]);

		c->role[i] = f ? header_role(f, &seen_title) : R_OTHER;
		c->label[i] = h->cell[i];
		H->free(f);
	}
	c->n = h->n;
	if (first < t->nrows && is_separator(&t->rows[first]))
		first++;
	if (first >= t->nrows)
		return first;
	s = &t->rows[first];
	/* a shifted second header row: every non-empty cell a label */
	for (i = 0; i < s->n; i++) {
		char *f;

		if (!*s->cell[i])
			continue;
		f = H->fold(s->cell[i]);
		if (f && is_period_label(s->cell[i]) &&
		    (expand == R_OTHER || expand == R_TIME))
			expand = R_TIME;
		else if (f &&
			 (strcmp(f, "mới") == 0 ||
			  strcmp(f, "chuyển tiếp") == 0) &&
			 (expand == R_OTHER || expand == R_TITLE))
			expand = R_TITLE;
		else
			expand = (enum role) - 1;
		H->free(f);
		if ((int)expand == -1)
			break;
		k++;
	}
	if (k < 2 || expand == R_OTHER || (int)expand == -1)
		return first;
	for (i = 0; i < c->n && c->role[i] != expand; i++)
		;
	if (i == c->n)
		return first;
	/* drop trailing unnamed header columns, then insert k-1 columns */
	while (c->n > 0 && !*c->label[c->n - 1])
		c->n--;
	if (c->n + k - 1 > MAXCOLS)
		return first;
	for (j = c->n - 1; j > i; j--) {
		c->role[j + k - 1] = c->role[j];
		c->label[j + k - 1] = c->label[j];
	}
	for (j = 0; j < k; j++) {
		const char *lab = s->cell[j];

		c->label[i + j] = lab;
		if (expand == R_TIME) {
			c->role[i + j] = R_TIME;
		} else {
			char *f = H->fold(lab);

			c->role[i + j] = f && strcmp(f, "mới") == 0
						 ? R_TITLE_NEW
						 : R_TITLE_CONT;
			H->free(f);
		}
	}
	c->n += k - 1;
	return first + 1;
}

static const char *cell(const struct row *r, int i)
{
	return i < r->n ? r->cell[i] : "";
}

/* --- tasks ------------------------------------------------------------- */

static json_t *units(const char *text)
{
	json_t *names = H->unit_names(text), *arr = json_array(), *v;
	size_t i;

	if (!names || !arr) {
		json_decref(names);
		json_decref(arr);
		return NULL;
	}
	json_array_foreach(names, i, v)
	{
		json_array_append_new(arr, json_pack("{s:O}", "name", v));
	}
	json_decref(names);
	return arr;
}

static json_t *one_unit(const char *text)
{
	char buf[4001];

	snprintf(buf, sizeof(buf), "%s", text);
	return json_pack("{s:s}", "name", buf);
}

static void set_timeline(json_t *tl, const struct gw_adapter_timeline *t)
{
	json_object_set_new(tl, "kind", json_string(t->kind));
	if (t->start[0])
		json_object_set_new(tl, "start", json_string(t->start));
	if (t->end[0])
		json_object_set_new(tl, "end", json_string(t->end));
	if (t->due[0])
		json_object_set_new(tl, "due", json_string(t->due));
}

static json_t *timeline(const struct row *r, const struct cols *c)
{
	struct gw_adapter_timeline t, best, last;
	json_t *tl = json_object();
	char raw[1001] = "";
	int i, ntime = 0, nset = 0, dated = 1;

	memset(&best, 0, sizeof(best));
	memset(&last, 0, sizeof(last));
	strcpy(best.kind, "unspecified");
	for (i = 0; i < c->n; i++)
		if (c->role[i] == R_TIME)
			ntime++;
	for (i = 0; i < c->n; i++) {
		const char *v;
		size_t n = strlen(raw);

		if (c->role[i] != R_TIME || !*(v = cell(r, i)))
			continue;
		if (ntime > 1)
			snprintf(raw + n, sizeof(raw) - n, "%s%s: %s",
				 n ? "; " : "", c->label[i], v);
		else
			snprintf(raw, sizeof(raw), "%s", v);
		H->timeline(v, &t);
		if (!t.start[0])
			dated = 0;
		if (nset++ == 0)
			best = t;
		last = t;
	}
	if (nset > 1 && dated) {
		strcpy(best.kind, "range");
		strcpy(best.end, last.end);
		strcpy(best.due, last.end);
	}
	json_object_set_new(tl, "raw", json_string(raw));
	set_timeline(tl, &best);
	return tl;
}

struct state {
	struct doc *d;
	struct table *t;
	struct gw_adapter_job *job;
	const struct cols *c;
	char prefix[140]; /* "1754/QĐ-BTC:" or "1754/QĐ-BTC:PL02." */
	char section[64];
	char seen[256][24]; /* numbers seen in the section */
	int nseen;
	json_t *parent; /* last task (borrowed) */
	int parent_is_section;
	json_t *section_numbering;
	int subs; /* sub-rows of the current parent */
	int ntasks, nsubs, nmerged, ngroups;
	char group[600]; /* "Nhóm 1.1: Cục CNTT", a numbered heading */
};

static json_t *task_new(struct state *st, const struct row *r,
			json_t *numbering, const char *idpath)
{
	const struct cols *c = st->c;
	json_t *task = json_object();
	char id[300];
	int i;

	snprintf(id, sizeof(id), "%s%s", st->prefix, idpath);
	json_object_set_new(task, "taskId", json_string(id));
	json_object_set_new(task, "numbering", numbering);
	for (i = 0; i < c->n; i++) {
		const char *v = cell(r, i);
		char note[4200];
		json_t *u;

		if (!*v)
			continue;
		switch (c->role[i]) {
		case R_TITLE: append_str(task, "title", " ", v); break;
		case R_TITLE_NEW:
			append_str(task, "title", " ", v);
			json_object_set_new(task, "status", json_string("new"));
			break;
		case R_TITLE_CONT:
			append_str(task, "title", " ", v);
			if (!json_object_get(task, "status"))
				json_object_set_new(task, "status",
						    json_string("continuing"));
			break;
		case R_LEAD:
			if ((u = units(v)) && json_array_size(u))
				json_object_set_new(task, "leadUnits", u);
			else
				json_decref(u);
			break;
		case R_COORD:
			if ((u = units(v)) && json_array_size(u))
				json_object_set_new(task, "coordinatingUnits",
						    u);
			else
				json_decref(u);
			break;
		case R_MINISTRY:
			json_object_set_new(task, "leadMinistry", one_unit(v));
			break;
		case R_FOCAL:
			json_object_set_new(task, "focalUnit", one_unit(v));
			break;
		case R_NOTES: append_str(task, "notes", "\n", v); break;
		case R_NUM:
		case R_TIME: break;
		default:
			snprintf(note, sizeof(note), "%s: %s",
				 *c->label[i] ? c->label[i] : "(column)", v);
			append_str(task, "notes", "\n", note);
			break;
		}
	}
	json_object_set_new(task, "timeline", timeline(r, c));
	json_object_set_new(task, "sourceDocument", json_string(st->d->number));
	return task;
}

static const char *row_title(const struct row *r, const struct cols *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if ((c->role[i] == R_TITLE || c->role[i] == R_TITLE_NEW ||
		     c->role[i] == R_TITLE_CONT) &&
		    *cell(r, i))
			return cell(r, i);
	return NULL;
}

static int row_empty(const struct row *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (*r->cell[i])
			return 0;
	return 1;
}

static void task_row(struct state *st, const struct row *r, char *num)
{
	json_t *numbering = json_array(), *task;
	char idpath[200];
	int i;

	if (st->section[0])
		json_array_append_new(numbering, json_string(st->section));
	/* ancestors by numbering that appeared as rows in this section */
	for (i = 0; num[i]; i++) {
		int k;

		if (num[i] != '.')
			continue;
		num[i] = '\0';
		for (k = 0; k < st->nseen; k++)
			if (strcmp(st->seen[k], num) == 0) {
				json_array_append_new(numbering,
						      json_string(num));
				break;
			}
		num[i] = '.';
	}
	json_array_append_new(numbering, json_string(num));
	if (json_array_size(numbering) > 7) {
		unmapped(st->job, st->d, r->line,
			 "numbering %s is deeper than 7 levels", num);
		json_decref(numbering);
		return;
	}
	if (st->nseen < 256 && strlen(num) < sizeof(st->seen[0]))
		strcpy(st->seen[st->nseen++], num);
	snprintf(idpath, sizeof(idpath), "%s%s%s", st->section,
		 st->section[0] ? "." : "", num);
	task = task_new(st, r, numbering, idpath);
	if (st->group[0])
		append_str(task, "notes", "\n", st->group);
	json_array_append_new(st->d->tasks, task);
	st->parent = task;
	st->parent_is_section = 0;
	st->subs = 0;
	st->ntasks++;
}

/* A numbered row without a task title, such as "1.1 | Cục CNTT": a group
 * heading whose text goes into the notes of the tasks below it. */
static void group_row(struct state *st, const struct row *r, const char *num)
{
	size_t n;
	int i;

	n = (size_t)snprintf(st->group, sizeof(st->group), "Nhóm %s:", num);
	for (i = 0; i < r->n && n < sizeof(st->group); i++) {
		if (!*r->cell[i] || i == 0)
			continue;
		n += (size_t)snprintf(st->group + n, sizeof(st->group) - n,
				      " %s", r->cell[i]);
	}
	st->ngroups++;
	H->log(GW_ADAPTER_LOG_INFO, "plan-tables",
	       "%s:%ld: numbered row %s has no task title: a group heading, "
	       "noted on the tasks below it",
	       st->d->path, r->line, num);
}

static void continuation_row(struct state *st, const struct row *r)
{
	const struct cols *c = st->c;
	const char *title = row_title(r, c);
	json_t *parent_num, *numbering, *task;
	char letter[2], idpath[240];

	if (!st->parent) {
		unmapped(st->job, st->d, r->line,
			 "unnumbered row with no numbered row or section "
			 "above it");
		return;
	}
	if (!title) {
		/* text only: merge into the parent's notes */
		char buf[4200] = MERGED_PREFIX;
		size_t n = strlen(MERGED_PREFIX), n0 = n;
		int i;

		if (st->parent_is_section) {
			unmapped(st->job, st->d, r->line,
				 "unnumbered row without a title directly "
				 "under section %s",
				 st->section);
			return;
		}
		for (i = 0; i < r->n; i++) {
			if (!*r->cell[i])
				continue;
			n += (size_t)snprintf(
				buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0,
				"%s%s", n > n0 ? " | " : "", r->cell[i]);
			if (n >= sizeof(buf))
				break;
		}
		append_str(st->parent, "notes", "\n", buf);
		st->nmerged++;
		return;
	}
	if (st->subs >= 26) {
		unmapped(st->job, st->d, r->line,
			 "more than 26 sub-rows under one parent");
		return;
	}
	letter[0] = (char)('a' + st->subs++);
	letter[1] = '\0';
	parent_num = st->parent_is_section
			     ? st->section_numbering
			     : json_object_get(st->parent, "numbering");
	numbering = json_copy(parent_num);
	json_array_append_new(numbering, json_string(letter));
	snprintf(idpath, sizeof(idpath), "%s.%s",
		 st->parent_is_section ? st->section
				       : json_string_value(json_object_get(
						 st->parent, "taskId")) +
						 strlen(st->prefix),
		 letter);
	task = task_new(st, r, numbering, idpath);
	if (st->group[0])
		append_str(task, "notes", "\n", st->group);
	json_array_append_new(st->d->tasks, task);
	st->nsubs++;
}

static void task_table(struct gw_adapter_job *job, struct doc *d,
		       struct table *t, const struct cols *c, int first)
{
	struct state *st = H->alloc(sizeof(*st));
	int i, numcol = -1;

	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	st->d = d;
	st->t = t;
	st->job = job;
	st->c = c;
	if (d->task_tables > 1)
		snprintf(st->prefix, sizeof(st->prefix), "%s:PL%s.", d->number,
			 t->appendix);
	else
		snprintf(st->prefix, sizeof(st->prefix), "%s:", d->number);
	for (i = 0; i < c->n; i++)
		if (c->role[i] == R_NUM)
			numcol = i;
	for (i = first; i < t->nrows; i++) {
		struct row *r = &t->rows[i];
		char num[64];

		if (row_empty(r))
			continue;
		snprintf(num, sizeof(num), "%s",
			 numcol >= 0 ? cell(r, numcol) : "");
		clean_number(num);
		roman_title(num);
		if (is_roman(num)) {
			snprintf(st->section, sizeof(st->section), "%s", num);
			st->nseen = 0;
			st->group[0] = '\0';
			json_decref(st->section_numbering);
			st->section_numbering = json_pack("[s]", num);
			st->parent = st->section_numbering;
			st->parent_is_section = 1;
			st->subs = 0;
		} else if (is_number(num)) {
			if (!row_title(r, c)) {
				group_row(st, r, num);
				continue;
			}
			task_row(st, r, num);
		} else if (!*num || strchr(num, ' ')) {
			/* empty, or text shifted into the number column */
			continuation_row(st, r);
		} else {
			unmapped(job, d, r->line, "unrecognized numbering '%s'",
				 num);
		}
	}
	H->log(GW_ADAPTER_LOG_INFO, "plan-tables",
	       "%s: appendix %s (line %ld): %d numbered tasks, %d sub-rows, "
	       "%d rows merged into notes, %d group headings",
	       d->path, t->appendix, t->line, st->ntasks, st->nsubs,
	       st->nmerged, st->ngroups);
	json_decref(st->section_numbering);
	H->free(st);
}

/* --- indicators -------------------------------------------------------- */

struct known {
	const char *match; /* folded substring */
	const char *code;
};

static const struct known indicator_codes[] = {
	{ "toàn trình", "DVCTT.TOAN_TRINH" },
	{ "xử lý hoàn toàn trực tuyến", "DVCTT.HS_XU_LY_TRUC_TUYEN" },
	{ "phát sinh trực tuyến", "DVCTT.HS_PHAT_SINH_TRUC_TUYEN" },
};

static const struct known field_codes[] = {
	{ "thuế", "tax" },
	{ "hải quan", "customs" },
	{ "chứng khoán", "securities" },
	{ "kho bạc", "treasury" },
	{ "bảo hiểm", "insurance" },
	{ "kế toán", "accounting-auditing" },
	{ "tin học", "it-statistics" },
};

static const char *lookup(const struct known *k, size_t n, const char *text)
{
	char *f = H->fold(text);
	const char *hit = NULL;
	size_t i;

	for (i = 0; f && i < n && !hit; i++)
		if (strstr(f, k[i].match))
			hit = k[i].code;
	H->free(f);
	return hit;
}

static void year_of(const struct doc *d, const struct table *t, char *out)
{
	char *f = t->heading ? H->fold(t->heading) : NULL;
	const char *p = f ? strstr(f, "năm ") : NULL;

	if (p && isdigit((unsigned char)p[5]) && isdigit((unsigned char)p[8]))
		snprintf(out, 5, "%.4s", p + 5);
	else
		snprintf(out, 5, "%.4s", d->date[0] ? d->date : "2000");
	H->free(f);
}

static void indicator_table(struct gw_adapter_job *job, struct doc *d,
			    struct table *t, const struct cols *c, int first)
{
	json_t *obs = json_array(), *report;
	const char *org_id, *org_name;
	char period[5];
	int i, j, field = -1, numcol = -1;

	year_of(d, t, period);
	for (i = 0; i < c->n; i++) {
		if (c->role[i] == R_FIELD)
			field = i;
		if (c->role[i] == R_NUM)
			numcol = i;
	}
	for (i = first; i < t->nrows; i++) {
		struct row *r = &t->rows[i];
		const char *fname = cell(r, field), *fcode;
		char num[64];

		if (row_empty(r))
			continue;
		snprintf(num, sizeof(num), "%s", cell(r, numcol));
		clean_number(num);
		if (!is_number(num) || !*fname) {
			unmapped(job, d, r->line,
				 "indicator row without a number and a field");
			continue;
		}
		fcode = lookup(field_codes,
			       sizeof(field_codes) / sizeof(field_codes[0]),
			       fname);
		for (j = 0; j < c->n; j++) {
			const char *v = cell(r, j), *code;
			char dec[64], gen[32];
			json_t *o;

			if (c->role[j] != R_INDICATOR)
				continue;
			if (!*v) {
				unmapped(job, d, r->line,
					 "no value for '%s' of '%s'",
					 c->label[j], fname);
				continue;
			}
			if (H->decimal(v, dec, sizeof(dec))) {
				unmapped(job, d, r->line,
					 "value '%s' of '%s' is not a number",
					 v, c->label[j]);
				continue;
			}
			code = lookup(indicator_codes,
				      sizeof(indicator_codes) /
					      sizeof(indicator_codes[0]),
				      c->label[j]);
			if (!code) {
				snprintf(gen, sizeof(gen), "IND.COL%d", j + 1);
				code = gen;
			}
			o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, "
				      "s:[{s:s, s:s}, {s:s, s:s}], s:s}",
				      "code", code, "name", c->label[j],
				      "unitOfMeasure",
				      strchr(v, '%') ? "percent" : "count",
				      "value", dec, "valueType", "target",
				      "period", period, "dimensions", "name",
				      "field", "value", fcode ? fcode : fname,
				      "name", "fieldName", "value", fname,
				      "status", "normal");
			if (o) {
				json_array_append(d->targets, o);
				json_array_append_new(obs, o);
			}
		}
	}
	if (json_array_size(obs) == 0) {
		json_decref(obs);
		return;
	}
	H->job_sender(job, &org_id, &org_name);
	report = json_pack("{s:{s:s, s:s}, s:s, s:s, s:o}", "reportingUnit",
			   "orgId", org_id, "name", org_name, "period", period,
			   "sourceDocument", d->number, "observations", obs);
	if (report)
		json_array_append_new(d->reports, report);
	H->log(GW_ADAPTER_LOG_INFO, "plan-tables",
	       "%s: appendix %s (line %ld): %zu indicator targets", d->path,
	       t->appendix, t->line,
	       json_array_size(json_object_get(report, "observations")));
}

/* --- the adapter --------------------------------------------------------- */

static int classify(struct table *t, struct cols *c)
{
	int i, num = 0, title = 0, field = 0, ind = 0;

	for (i = 0; i < c->n; i++) {
		num += c->role[i] == R_NUM;
		title += c->role[i] == R_TITLE || c->role[i] == R_TITLE_NEW;
		field += c->role[i] == R_FIELD;
		ind += c->role[i] == R_INDICATOR;
	}
	if (num && field && ind)
		return 2;
	if (num && title)
		return 1;
	return 0;
}

static int pt_init(const struct gw_adapter_host *host, void **state)
{
	H = host;
	*state = NULL;
	return 0;
}

static void pt_fini(void *state)
{
}

static void free_doc(struct doc *d)
{
	int i;

	for (i = 0; i < d->ntables; i++)
		free_table(&d->tables[i]);
	H->free(d->tables);
	H->free(d->title);
	json_decref(d->tasks);
	json_decref(d->reports);
	json_decref(d->targets);
}

static int pt_run(void *state, struct gw_adapter_job *job)
{
	struct doc d;
	struct cols *cols = NULL;
	int *kind = NULL, *first = NULL;
	char *buf;
	int i, rc = -1;
	size_t k;
	json_t *v;

	memset(&d, 0, sizeof(d));
	d.path = H->job_input(job);
	buf = read_all(d.path);
	if (!buf) {
		H->log(GW_ADAPTER_LOG_ERROR, "plan-tables", "%s: cannot read",
		       d.path);
		return -1;
	}
	d.tasks = json_array();
	d.reports = json_array();
	d.targets = json_array();
	if (read_doc(&d, buf))
		goto out;
	if (!d.number[0]) {
		unmapped(job, &d, 1,
			 "no document number ('Số: ...') found: not a plan "
			 "document, nothing imported");
		rc = 0;
		goto out;
	}
	cols = H->alloc(sizeof(*cols) * (size_t)(d.ntables + 1));
	kind = H->alloc(sizeof(int) * (size_t)(d.ntables + 1));
	first = H->alloc(sizeof(int) * (size_t)(d.ntables + 1));
	if (!cols || !kind || !first)
		goto out;
	for (i = 0; i < d.ntables; i++) {
		first[i] = read_cols(&d.tables[i], &cols[i]);
		kind[i] = classify(&d.tables[i], &cols[i]);
		d.task_tables += kind[i] == 1;
		if (!kind[i])
			unmapped(job, &d, d.tables[i].line,
				 "table of appendix %s is neither tasks nor "
				 "indicator targets (header '%s')",
				 d.tables[i].appendix,
				 d.tables[i].rows[0].n
					 ? d.tables[i].rows[0].cell[0]
					 : "");
	}
	for (i = 0; i < d.ntables; i++) {
		if (kind[i] == 1)
			task_table(job, &d, &d.tables[i], &cols[i], first[i]);
		else if (kind[i] == 2)
			indicator_table(job, &d, &d.tables[i], &cols[i],
					first[i]);
	}
	rc = 0;
	if (!d.date[0] || !d.title) {
		unmapped(job, &d, 1,
			 "no issue date or title found: no plan message");
	} else {
		const char *org_id, *org_name;
		json_t *plan;
		char key[200];

		H->job_sender(job, &org_id, &org_name);
		plan = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s}",
				 "documentNumber", d.number, "title", d.title,
				 "issuer", "orgId", org_id, "name", org_name,
				 "issueDate", d.date);
		if (plan && json_array_size(d.tasks))
			json_object_set(plan, "tasks", d.tasks);
		if (plan && json_array_size(d.targets))
			json_object_set(plan, "indicatorTargets", d.targets);
		snprintf(key, sizeof(key), "%s:plan", d.number);
		if (!plan || H->emit(job, "plan", key, d.date, plan))
			rc = -1;
	}
	json_array_foreach(d.reports, k, v)
	{
		char key[200];

		snprintf(key, sizeof(key), "%s:indicators:%zu", d.number, k);
		if (H->emit(job, "indicator.report", key, d.date,
			    json_incref(v)))
			rc = -1;
	}
	json_array_foreach(d.tasks, k, v)
	{
		const char *id =
			json_string_value(json_object_get(v, "taskId"));

		if (!json_object_get(v, "title")) {
			unmapped(job, &d, 0, "task %s has no title", id);
			continue;
		}
		if (H->emit(job, "task.assignment", id, d.date, json_incref(v)))
			rc = -1;
	}
out:
	H->free(cols);
	H->free(kind);
	H->free(first);
	free_doc(&d);
	H->free(buf);
	return rc;
}

const struct gw_adapter gw_adapter_plan_tables = {
	.abi_version = GW_ADAPTER_ABI_VERSION,
	.size = sizeof(struct gw_adapter),
	.name = "plan-tables",
	.description = "appendix pipe tables of plan documents (text) to a "
		       "plan, its task assignments and indicator targets",
	.init = pt_init,
	.run = pt_run,
	.fini = pt_fini,
};
