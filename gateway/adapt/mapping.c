/*
 * mapping.c - the mapping engine: rows of named cells to canonical
 * messages, driven by a YAML mapping file (see mapping.h and
 * docs/ADAPTERS.md).
 *
 * A row is mapped all or nothing: its message fields and, for pointers
 * holding "/-/", its array item are built aside, and only when every
 * field could be transformed are they merged into the message (grouping)
 * or handed on. Everything a row carries is checked here rather than
 * guessed: an empty required cell, a number that does not parse, a code
 * that is not in its list, a key seen before, a grouped row whose message
 * fields contradict the rows before it.
 */
#include "adapt/mapping.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "model/config.h"
#include "base/json.h"
#include "base/normalize.h"

#define MAX_COLUMNS 4096

struct field {
	const json_t *column; /* string (header name) or integer (position) */
	int col;	      /* bound 0-based index, -1 before binding */
	const char *to;	      /* the whole pointer */
	const char *rest;     /* for item fields, the pointer inside the item */
	const json_t *transforms; /* array or NULL (default: text) */
	int optional;
	char where[32]; /* "fields.3" for errors */
};

struct group {
	char *key;
	char *first; /* where its first row came from */
	json_t *msg;
	json_t *items; /* borrowed from msg */
};

struct gw_mapping {
	struct gw_config *cfg;
	const char *kind;
	const char *key_prefix;
	const char *date;
	const char *items_ptr; /* the array of "/-/" pointers, or NULL */
	char *items_buf;
	int group;
	int header;
	struct field *f;
	size_t nf;
	struct field *k; /* key columns */
	size_t nk;
	json_t *constants; /* borrowed */
	json_t *lists;	   /* name -> {folded text -> value} (owned) */
	json_t *seen;	   /* key -> where (ungrouped), (owned) */
	struct group *g;
	size_t ng, gcap;
	json_t *gindex; /* key -> index into g (owned) */
	char *input;
	size_t need; /* columns a row must have */
};

/* --- JSON Pointers ------------------------------------------------------- */

static size_t token(const char **p, char *out, size_t n)
{
	size_t o = 0;
	const char *s = *p;

	/* *p points at '/' */
	for (s++; *s && *s != '/'; s++) {
		char c = *s;

		if (c == '~' && (s[1] == '0' || s[1] == '1'))
			c = *++s == '0' ? '~' : '/';
		if (o + 1 < n)
			out[o++] = c;
	}
	out[o] = '\0';
	*p = s;
	return o;
}

static int is_index(const char *t)
{
	return *t && strspn(t, "0123456789") == strlen(t);
}

/* Set v (stolen) at ptr under root, creating objects and arrays on the
 * way ("-" and indexes make arrays). 0, or -1 when the path crosses a
 * value of another type. */
static int ptr_set(json_t *root, const char *ptr, json_t *v)
{
	json_t *cur = root;
	char tok[256];

	if (!v)
		return -1;
	while (*ptr == '/') {
		int last;
		json_t *next;

		token(&ptr, tok, sizeof(tok));
		last = *ptr != '/';
		if (json_is_object(cur)) {
			if (last)
				return json_object_set_new(cur, tok, v);
			next = json_object_get(cur, tok);
			if (!next) {
				const char *q = ptr;
				char t2[256];

				token(&q, t2, sizeof(t2));
				next = is_index(t2) || !strcmp(t2, "-")
					       ? json_array()
					       : json_object();
				if (json_object_set_new(cur, tok, next))
					break;
			}
		} else if (json_is_array(cur)) {
			size_t i = strcmp(tok, "-") == 0
					   ? json_array_size(cur)
					   : (size_t)strtoul(tok, NULL, 10);

			if (strcmp(tok, "-") && !is_index(tok))
				break;
			if (i > json_array_size(cur))
				break;
			if (last)
				return i == json_array_size(cur)
					       ? json_array_append_new(cur, v)
					       : json_array_set_new(cur, i, v);
			next = json_array_get(cur, i);
			if (!next) {
				const char *q = ptr;
				char t2[256];

				token(&q, t2, sizeof(t2));
				next = is_index(t2) || !strcmp(t2, "-")
					       ? json_array()
					       : json_object();
				if (json_array_append_new(cur, next))
					break;
			}
		} else {
			break;
		}
		cur = next;
	}
	json_decref(v);
	return -1;
}

static json_t *ptr_get(json_t *root, const char *ptr)
{
	json_t *cur = root;
	char tok[256];

	while (cur && *ptr == '/') {
		token(&ptr, tok, sizeof(tok));
		if (json_is_object(cur))
			cur = json_object_get(cur, tok);
		else if (json_is_array(cur) && is_index(tok))
			cur = json_array_get(cur, strtoul(tok, NULL, 10));
		else
			return NULL;
	}
	return cur;
}

/* --- loading ---------------------------------------------------------------*/

static gw_rc conf_err(struct gw_mapping *m, const char *ptr, gw_report_cb cb,
		      void *arg, struct gw_err *err, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static gw_rc conf_err(struct gw_mapping *m, const char *ptr, gw_report_cb cb,
		      void *arg, struct gw_err *err, const char *fmt, ...)
{
	char key[256], why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	gw_config_key(ptr, key, sizeof(key));
	gw_err_set(err, GW_ERR_CONFIG, "%s:%ld: %s: %s", m->cfg->path,
		   gw_config_line(m->cfg, ptr), key, why);
	if (cb)
		cb(arg, GW_ERR_CONFIG, err->msg);
	return GW_ERR_CONFIG;
}

static char *fold(const char *s)
{
	return gw_norm_fold(s);
}

/* A unit list file (conf/units.yaml): every name and alias, folded, to
 * {orgId, name}. */
static gw_rc load_units(struct gw_mapping *m, const char *lname,
			const char *ptr, json_t *out, gw_report_cb cb,
			void *arg, struct gw_err *err)
{
	char *path = gw_config_path(m->cfg, ptr);
	char *buf = NULL;
	json_t *doc = NULL, *lines = NULL, *units, *u;
	size_t len, i;
	gw_rc rc;

	if (!path)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((rc = gw_read_file(path, 4u << 20, &buf, &len, err)) ||
	    (rc = gw_yaml_parse(buf, len, path, &doc, &lines, err))) {
		if (cb)
			cb(arg, rc, err->msg);
		goto out;
	}
	units = json_object_get(doc, "units");
	if (!json_is_array(units) || !json_array_size(units)) {
		rc = gw_err_set(err, GW_ERR_CONFIG,
				"%s:1: units: a list of {orgId, name, aliases} "
				"is wanted (code list '%s')",
				path, lname);
		if (cb)
			cb(arg, rc, err->msg);
		goto out;
	}
	json_array_foreach(units, i, u)
	{
		const char *id = json_string_value(json_object_get(u, "orgId"));
		const char *name =
			json_string_value(json_object_get(u, "name"));
		json_t *aliases = json_object_get(u, "aliases"), *val;
		size_t j, na = json_array_size(aliases);
		char up[64];
		json_t *ln;

		snprintf(up, sizeof(up), "/units/%zu", i);
		ln = json_object_get(lines, up);
		if (!id || !name || (aliases && !json_is_array(aliases))) {
			rc = gw_err_set(err, GW_ERR_CONFIG,
					"%s:%lld: units.%zu: orgId and name "
					"(strings) and aliases (a list) are "
					"wanted",
					path, (long long)json_integer_value(ln),
					i);
			if (cb)
				cb(arg, rc, err->msg);
			goto out;
		}
		val = json_pack("{s:s, s:s}", "orgId", id, "name", name);
		for (j = 0; val && j <= na; j++) {
			const char *t =
				j == 0 ? name
				       : json_string_value(json_array_get(
						 aliases, j - 1));
			char *f = t ? fold(t) : NULL;
			json_t *old;

			if (!f)
				continue;
			old = json_object_get(out, f);
			if (old && !json_equal(old, val)) {
				rc = gw_err_set(
					err, GW_ERR_CONFIG,
					"%s:%lld: units.%zu: '%s' already "
					"names unit %s (code list '%s')",
					path, (long long)json_integer_value(ln),
					i, t,
					json_string_value(
						json_object_get(old, "orgId")),
					lname);
				if (cb)
					cb(arg, rc, err->msg);
				free(f);
				json_decref(val);
				goto out;
			}
			json_object_set(out, f, val);
			free(f);
		}
		json_decref(val);
	}
out:
	json_decref(doc);
	json_decref(lines);
	free(buf);
	free(path);
	return rc;
}

static gw_rc load_lists(struct gw_mapping *m, gw_report_cb cb, void *arg,
			struct gw_err *err)
{
	json_t *lists = gw_config_get(m->cfg, "/code_lists"), *l;
	const char *name;
	gw_rc rc = GW_OK;

	json_object_foreach(lists, name, l)
	{
		json_t *map = json_object(), *values, *v;
		char ptr[300];
		const char *text;

		if (!map || json_object_set_new(m->lists, name, map))
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		if (json_object_get(l, "file")) {
			snprintf(ptr, sizeof(ptr), "/code_lists/%s/file", name);
			if ((rc = load_units(m, name, ptr, map, cb, arg, err)))
				return rc;
			continue;
		}
		values = json_object_get(l, "values");
		json_object_foreach(values, text, v)
		{
			char *f = fold(text);

			snprintf(ptr, sizeof(ptr), "/code_lists/%s/values",
				 name);
			if (!f)
				return conf_err(m, ptr, cb, arg, err,
						"'%s' is not valid UTF-8",
						text);
			if (json_object_get(map, f)) {
				free(f);
				return conf_err(m, ptr, cb, arg, err,
						"'%s' is listed twice (texts "
						"are compared case-folded)",
						text);
			}
			json_object_set(map, f, v);
			free(f);
		}
	}
	return rc;
}

/* Check transforms name existing code lists. */
static gw_rc check_transforms(struct gw_mapping *m, const char *fptr,
			      const json_t *tr, gw_report_cb cb, void *arg,
			      struct gw_err *err)
{
	size_t i;
	json_t *t;

	json_array_foreach(tr, i, t)
	{
		const char *code =
			json_string_value(json_object_get(t, "code"));
		char ptr[300];

		if (code && !json_object_get(m->lists, code)) {
			snprintf(ptr, sizeof(ptr), "%s/transforms/%zu/code",
				 fptr, i);
			return conf_err(m, ptr, cb, arg, err,
					"no code list '%s' in code_lists",
					code);
		}
	}
	return GW_OK;
}

/* Split "/payload/observations/-/value" into the items array pointer and
 * the rest; fails when a mapping uses two arrays. */
static gw_rc item_pointer(struct gw_mapping *m, const char *ptr_of,
			  const char *to, const char **rest, gw_report_cb cb,
			  void *arg, struct gw_err *err)
{
	const char *d = strstr(to, "/-/");

	*rest = NULL;
	if (!d) {
		size_t l = strlen(to);

		if (l >= 2 && strcmp(to + l - 2, "/-") == 0)
			return conf_err(m, ptr_of, cb, arg, err,
					"'%s': an item pointer goes on "
					"past '/-' (…/-/member)",
					to);
		return GW_OK;
	}
	if (strstr(d + 2, "/-/") || !d[3])
		return conf_err(m, ptr_of, cb, arg, err,
				"'%s': one '/-/' per pointer, followed by a "
				"member",
				to);
	if (m->items_ptr) {
		if (strlen(m->items_ptr) != (size_t)(d - to) ||
		    strncmp(m->items_ptr, to, (size_t)(d - to)))
			return conf_err(m, ptr_of, cb, arg, err,
					"'%s': one item array per mapping "
					"(already %s)",
					to, m->items_ptr);
	} else {
		m->items_buf = gw_strndup(to, (size_t)(d - to));
		if (!m->items_buf)
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		m->items_ptr = m->items_buf;
	}
	*rest = d + 2;
	return GW_OK;
}

gw_rc gw_mapping_load(const char *path, const char *schema_dir, gw_report_cb cb,
		      void *arg, struct gw_mapping **out, struct gw_err *err)
{
	struct gw_mapping *m = gw_calloc(1, sizeof(*m));
	json_t *fields, *keys, *f, *c;
	const char *to;
	size_t i;
	gw_rc rc;

	*out = NULL;
	if (!m)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((rc = gw_config_load_as(path, schema_dir, "mapping.schema.json", cb,
				    arg, &m->cfg, err)))
		goto out;
	m->kind = gw_config_str(m->cfg, "/kind", "");
	m->key_prefix = gw_config_str(m->cfg, "/key_prefix", NULL);
	m->date = gw_config_str(m->cfg, "/date", NULL);
	m->group = gw_config_bool(m->cfg, "/group", 0);
	m->header = gw_config_bool(m->cfg, "/csv/header", 1);
	m->constants = gw_config_get(m->cfg, "/constants");
	m->lists = json_object();
	m->seen = json_object();
	m->gindex = json_object();
	fields = gw_config_get(m->cfg, "/fields");
	keys = gw_config_get(m->cfg, "/key");
	m->f = gw_calloc(json_array_size(fields) + 1, sizeof(*m->f));
	m->k = gw_calloc(json_array_size(keys) + 1, sizeof(*m->k));
	if (!m->lists || !m->seen || !m->gindex || !m->f || !m->k) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = load_lists(m, cb, arg, err)))
		goto out;
	json_array_foreach(fields, i, f)
	{
		struct field *fd = &m->f[m->nf++];
		char ptr[64];

		snprintf(fd->where, sizeof(fd->where), "fields.%zu", i);
		fd->column = json_object_get(f, "column");
		fd->col = -1;
		fd->to = json_string_value(json_object_get(f, "to"));
		fd->transforms = json_object_get(f, "transforms");
		fd->optional = json_is_true(json_object_get(f, "optional"));
		snprintf(ptr, sizeof(ptr), "/fields/%zu/to", i);
		if ((rc = item_pointer(m, ptr, fd->to, &fd->rest, cb, arg,
				       err)))
			goto out;
		snprintf(ptr, sizeof(ptr), "/fields/%zu", i);
		if ((rc = check_transforms(m, ptr, fd->transforms, cb, arg,
					   err)))
			goto out;
	}
	json_object_foreach(m->constants, to, c)
	{
		const char *rest;
		struct gw_buf p;

		gw_buf_init(&p);
		gw_buf_adds(&p, "/constants");
		gw_json_pointer_add(&p, to);
		rc = item_pointer(m, p.data ? p.data : "/constants", to, &rest,
				  cb, arg, err);
		gw_buf_release(&p);
		if (rc)
			goto out;
	}
	json_array_foreach(keys, i, c)
	{
		struct field *k = &m->k[m->nk++];

		snprintf(k->where, sizeof(k->where), "key.%zu", i);
		k->column = c;
		k->col = -1;
	}
	*out = m;
	m = NULL;
out:
	gw_mapping_free(m);
	return rc;
}

static void groups_clear(struct gw_mapping *m)
{
	size_t i;

	for (i = 0; i < m->ng; i++) {
		free(m->g[i].key);
		free(m->g[i].first);
		json_decref(m->g[i].msg);
	}
	m->ng = 0;
	json_object_clear(m->gindex);
	json_object_clear(m->seen);
}

void gw_mapping_free(struct gw_mapping *m)
{
	if (!m)
		return;
	groups_clear(m);
	free(m->g);
	json_decref(m->gindex);
	json_decref(m->seen);
	json_decref(m->lists);
	free(m->f);
	free(m->k);
	free(m->items_buf);
	free(m->input);
	gw_config_free(m->cfg);
	free(m);
}

const char *gw_mapping_kind(const struct gw_mapping *m)
{
	return m->kind;
}

const char *gw_mapping_path(const struct gw_mapping *m)
{
	return m->cfg->path;
}

const char *gw_mapping_option(const struct gw_mapping *m, const char *ptr)
{
	json_t *v = gw_config_get(m->cfg, ptr);

	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return json_string_value(v);
}

gw_rc gw_mapping_require(const struct gw_mapping *m, const char *ptr,
			 const char *hint, const char **out, struct gw_err *err)
{
	char parent[256], key[256];
	const char *slash = strrchr(ptr, '/');

	if ((*out = gw_mapping_option(m, ptr)) && **out)
		return GW_OK;
	*out = NULL;
	/* "/sqlite/query": "sqlite: query is required" */
	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - ptr) : 0,
		 ptr);
	gw_config_key(parent, key, sizeof(key));
	return gw_err_set(err, GW_ERR_SCHEMA,
			  "%s:%ld: %s: %s is required%s%s%s", m->cfg->path,
			  gw_config_line(m->cfg, ptr), key,
			  slash ? slash + 1 : ptr, hint ? " (" : "",
			  hint ? hint : "", hint ? ")" : "");
}

/* --- binding ---------------------------------------------------------------*/

static gw_rc bind_one(struct gw_mapping *m, struct field *fd,
		      const char *const *names, size_t n, char **folded,
		      struct gw_err *err)
{
	char ptr[64], key[64];
	const char *p;
	size_t i;

	for (p = fd->where; *p && *p != '.'; p++)
		;
	snprintf(ptr, sizeof(ptr), "/%.*s/%s%s", (int)(p - fd->where),
		 fd->where, *p ? p + 1 : "",
		 strncmp(fd->where, "key", 3) ? "/column" : "");
	snprintf(key, sizeof(key), "%s%s", fd->where,
		 strncmp(fd->where, "key", 3) ? ".column" : "");
	if (json_is_integer(fd->column)) {
		fd->col = (int)json_integer_value(fd->column) - 1;
		if (names && (size_t)fd->col >= n)
			return gw_err_set(err, GW_ERR_SCHEMA,
					  "%s:%ld: %s: column %d, but %s has "
					  "%zu columns",
					  m->cfg->path,
					  gw_config_line(m->cfg, ptr), key,
					  fd->col + 1, m->input, n);
	} else {
		const char *want = json_string_value(fd->column);
		char *fw = fold(want);
		struct gw_buf cols;

		if (!names) {
			free(fw);
			return gw_err_set(err, GW_ERR_SCHEMA,
					  "%s:%ld: %s: '%s' names a column "
					  "but %s has no header (csv.header "
					  "is false): give its position",
					  m->cfg->path,
					  gw_config_line(m->cfg, ptr), key,
					  want, m->input);
		}
		fd->col = -1;
		for (i = 0; fw && i < n; i++) {
			if (!folded[i] || strcmp(folded[i], fw))
				continue;
			if (fd->col >= 0) {
				free(fw);
				return gw_err_set(
					err, GW_ERR_SCHEMA,
					"%s:%ld: %s: '%s' is both column %d "
					"and column %zu of %s: give its "
					"position",
					m->cfg->path,
					gw_config_line(m->cfg, ptr), key, want,
					fd->col + 1, i + 1, m->input);
			}
			fd->col = (int)i;
		}
		free(fw);
		if (fd->col < 0) {
			gw_buf_init(&cols);
			for (i = 0; i < n && cols.len < 200; i++)
				gw_buf_addf(&cols, "%s'%s'", i ? ", " : "",
					    names[i]);
			gw_err_set(err, GW_ERR_SCHEMA,
				   "%s:%ld: %s: no column '%s' in %s (its "
				   "columns: %s)",
				   m->cfg->path, gw_config_line(m->cfg, ptr),
				   key, want, m->input,
				   cols.data ? cols.data : "none");
			gw_buf_release(&cols);
			return GW_ERR_SCHEMA;
		}
	}
	if ((size_t)fd->col + 1 > m->need)
		m->need = (size_t)fd->col + 1;
	return GW_OK;
}

gw_rc gw_mapping_bind(struct gw_mapping *m, const char *input,
		      const char *const *names, size_t n, struct gw_err *err)
{
	char **folded = NULL;
	gw_rc rc = GW_OK;
	size_t i;

	free(m->input);
	if (!(m->input = gw_strdup(input ? input : "the input")))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	m->need = 0;
	groups_clear(m);
	if (names && n > MAX_COLUMNS)
		return gw_err_set(err, GW_ERR_SCHEMA,
				  "%s: %zu columns, more than %d", m->input, n,
				  MAX_COLUMNS);
	if (names) {
		folded = gw_calloc(n + 1, sizeof(*folded));
		if (!folded)
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		for (i = 0; i < n; i++)
			folded[i] = names[i] ? fold(names[i]) : NULL;
	}
	for (i = 0; !rc && i < m->nf; i++)
		rc = bind_one(m, &m->f[i], names, n, folded, err);
	for (i = 0; !rc && i < m->nk; i++)
		rc = bind_one(m, &m->k[i], names, n, folded, err);
	for (i = 0; folded && i < n; i++)
		free(folded[i]);
	free(folded);
	return rc;
}

/* --- transforms ------------------------------------------------------------*/

static const char *shorten(const char *s, char *buf, size_t n)
{
	size_t l = strlen(s);

	if (l < n)
		return s;
	/* cut on a UTF-8 boundary */
	l = n - 4;
	while (l > 0 && ((unsigned char)s[l] & 0xc0) == 0x80)
		l--;
	snprintf(buf, n, "%.*s...", (int)l, s);
	return buf;
}

static json_t *tr_text(const char *name, const char *s, struct gw_err *err)
{
	char *t = NULL;
	json_t *v;

	if (!strcmp(name, "trim")) {
		size_t a = strspn(s, " \t\r\n"), l = strlen(s);

		while (l > a && strchr(" \t\r\n", s[l - 1]))
			l--;
		return json_stringn(s + a, l - a);
	}
	if (!strcmp(name, "nfc")) {
		utf8proc_uint8_t *nfc = NULL;

		if (utf8proc_map((const utf8proc_uint8_t *)s, 0, &nfc,
				 UTF8PROC_NULLTERM | UTF8PROC_STABLE |
					 UTF8PROC_COMPOSE) < 0) {
			gw_err_set(err, GW_ERR_SCHEMA, "not valid UTF-8");
			return NULL;
		}
		v = json_string((const char *)nfc);
		free(nfc);
		return v;
	}
	t = gw_norm_text(s);
	if (!t) {
		gw_err_set(err, GW_ERR_SCHEMA, "not valid UTF-8");
		return NULL;
	}
	if (!strcmp(name, "upper")) {
		char *p;

		for (p = t; *p; p++)
			*p = (char)toupper((unsigned char)*p);
	}
	v = json_string(t);
	free(t);
	return v;
}

/* "-12.50" as written in SQL or JSON (a dot for decimals, no grouping). */
static int plain_number(const char *s, char *out, size_t n)
{
	const char *p = s, *d;
	size_t il;
	int neg = 0;

	while (*p == ' ')
		p++;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	il = strspn(p, "0123456789");
	if (!il)
		return -1;
	d = p + il;
	if (*d == '.' && !isdigit((unsigned char)d[1]))
		return -1;
	if (*d == '.')
		d += 1 + strspn(d + 1, "0123456789");
	if (d[strspn(d, " ")])
		return -1;
	while (il > 1 && *p == '0') {
		p++;
		il--;
	}
	if ((size_t)(d - p) + 2 > n)
		return -1;
	snprintf(out, n, "%s%.*s", neg ? "-" : "", (int)(d - p), p);
	/* "-0" is "0" */
	if (!strcmp(out, "-0"))
		strcpy(out, "0");
	{
		size_t l = strlen(out);
		char *dot = strchr(out, '.');

		/* trailing zeros of a fraction carry no value */
		while (dot && l > 0 && out[l - 1] == '0')
			out[--l] = '\0';
		if (dot && out[l - 1] == '.')
			out[--l] = '\0';
	}
	return 0;
}

/* "14/5/2025 08:30", "2025-05-14T08:30:00+07:00", a date -> RFC 3339 with
 * the Vietnamese offset when none is written. */
static int to_datetime(const char *s, char out[40])
{
	int Y, M, D, h = 0, mi = 0, sec = 0;
	char day[11], date[64];
	const char *sp;

	if (strlen(s) >= 20 && s[4] == '-' && s[10] == 'T' &&
	    (s[strlen(s) - 1] == 'Z' || s[strlen(s) - 6] == '+' ||
	     s[strlen(s) - 6] == '-') &&
	    strlen(s) < 40) {
		strcpy(out, s);
		return 0;
	}
	/* a time is the last word: HH:MM or HH:MM:SS */
	sp = strrchr(s, ' ');
	if (sp && (size_t)(sp - s) < sizeof(date)) {
		int th = -1, tm = -1, ts = 0, used = 0;
		const char *t = sp + 1;

		if ((sscanf(t, "%2d:%2d:%2d%n", &th, &tm, &ts, &used) == 3 ||
		     sscanf(t, "%2d:%2d%n", &th, &tm, &used) == 2) &&
		    (size_t)used == strlen(t) && isdigit((unsigned char)t[0])) {
			h = th;
			mi = tm;
			sec = ts;
			memcpy(date, s, (size_t)(sp - s));
			date[sp - s] = '\0';
		} else {
			snprintf(date, sizeof(date), "%s", s);
		}
	} else {
		snprintf(date, sizeof(date), "%s", s);
	}
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 ||
	    gw_norm_date(date, day))
		return -1;
	if (sscanf(day, "%d-%d-%d", &Y, &M, &D) != 3)
		return -1;
	snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d+07:00", Y, M, D, h, mi,
		 sec);
	return 0;
}

static json_t *lookup(const struct gw_mapping *m, const json_t *spec,
		      const char *s, struct gw_err *err)
{
	const char *list = json_string_value(json_object_get(spec, "code"));
	const char *unknown =
		json_string_value(json_object_get(spec, "unknown"));
	json_t *map = json_object_get(m->lists, list), *v;
	char *f = fold(s), b[80];

	v = f ? json_object_get(map, f) : NULL;
	free(f);
	if (v)
		return json_deep_copy(v);
	if (unknown && !strcmp(unknown, "keep")) {
		json_t *any;
		const char *k;

		/* a unit list yields objects: keep the name as one */
		json_object_foreach(map, k, any)
		{
			if (json_is_object(any))
				return json_pack("{s:s}", "name", s);
			break;
		}
		return json_string(s);
	}
	gw_err_set(err, GW_ERR_SCHEMA, "'%s' is not in code list '%s'",
		   shorten(s, b, sizeof(b)), list);
	return NULL;
}

static json_t *apply(const struct gw_mapping *m, const json_t *spec,
		     const json_t *value, struct gw_err *err)
{
	const char *name = json_string_value(spec);
	const char *s = json_string_value(value);
	char out[160], b[80];
	json_t *v, *e;
	size_t i;

	if (json_is_array(value)) {
		/* element-wise */
		json_t *arr = json_array();

		json_array_foreach(value, i, e)
		{
			json_t *r = apply(m, spec, e, err);

			if (!r || json_array_append_new(arr, r)) {
				json_decref(arr);
				return NULL;
			}
		}
		return arr;
	}
	if (!s) {
		gw_err_set(err, GW_ERR_SCHEMA,
			   "transform '%s' applies to text, not to what the "
			   "transforms before it made",
			   name ? name : "code");
		return NULL;
	}
	if (!name)
		return lookup(m, spec, s, err);
	if (!strcmp(name, "trim") || !strcmp(name, "nfc") ||
	    !strcmp(name, "text") || !strcmp(name, "upper"))
		return tr_text(name, s, err);
	if (!strcmp(name, "decimal") || !strcmp(name, "integer")) {
		if (gw_norm_decimal(s, out, sizeof(out))) {
			gw_err_set(err, GW_ERR_SCHEMA, "'%s' is not a number",
				   shorten(s, b, sizeof(b)));
			return NULL;
		}
		if (!strcmp(name, "decimal"))
			return json_string(out);
		if (strchr(out, '.') || strlen(out) > 18) {
			gw_err_set(err, GW_ERR_SCHEMA,
				   "'%s' is not a whole number",
				   shorten(s, b, sizeof(b)));
			return NULL;
		}
		return json_integer(strtoll(out, NULL, 10));
	}
	if (!strcmp(name, "number")) {
		if (plain_number(s, out, sizeof(out))) {
			gw_err_set(err, GW_ERR_SCHEMA,
				   "'%s' is not a number such as 12.5",
				   shorten(s, b, sizeof(b)));
			return NULL;
		}
		return json_string(out);
	}
	if (!strcmp(name, "date")) {
		if (gw_norm_date(s, out)) {
			gw_err_set(err, GW_ERR_SCHEMA,
				   "'%s' is not a date (14/5/2025, ngày 14 "
				   "tháng 5 năm 2025, 2025-05-14)",
				   shorten(s, b, sizeof(b)));
			return NULL;
		}
		return json_string(out);
	}
	if (!strcmp(name, "datetime")) {
		if (to_datetime(s, out)) {
			gw_err_set(err, GW_ERR_SCHEMA,
				   "'%s' is not a date and time (14/5/2025 "
				   "08:30, 2025-05-14T08:30:00+07:00)",
				   shorten(s, b, sizeof(b)));
			return NULL;
		}
		return json_string(out);
	}
	if (!strcmp(name, "period")) {
		if (gw_norm_period(s, out)) {
			gw_err_set(err, GW_ERR_SCHEMA,
				   "'%s' is not a reporting period (2024, Quý "
				   "3 năm 2024, Quý II/2019, Tháng 3/2020)",
				   shorten(s, b, sizeof(b)));
			return NULL;
		}
		return json_string(out);
	}
	if (!strcmp(name, "timeline")) {
		struct gw_timeline t;
		char *raw = gw_norm_text(s);

		if (!raw) {
			gw_err_set(err, GW_ERR_SCHEMA, "not valid UTF-8");
			return NULL;
		}
		gw_norm_timeline(raw, &t);
		v = json_pack("{s:s, s:s}", "raw", raw, "kind", t.kind);
		free(raw);
		if (v && t.start[0])
			json_object_set_new(v, "start", json_string(t.start));
		if (v && t.end[0])
			json_object_set_new(v, "end", json_string(t.end));
		if (v && t.due[0])
			json_object_set_new(v, "due", json_string(t.due));
		return v;
	}
	if (!strcmp(name, "units"))
		return gw_norm_unit_names(s);
	gw_err_set(err, GW_ERR_SCHEMA, "unknown transform '%s'", name);
	return NULL;
}

json_t *gw_mapping_transform(const struct gw_mapping *m, const json_t *spec,
			     const json_t *value, struct gw_err *err)
{
	return apply(m, spec, value, err);
}

/* --- rows ------------------------------------------------------------------*/

static const char *col_name(const struct field *fd, char *buf, size_t n)
{
	if (json_is_string(fd->column))
		return json_string_value(fd->column);
	snprintf(buf, n, "%d", fd->col + 1);
	return buf;
}

/* The value of one field for a row: NULL with err set, or NULL with err
 * untouched for an optional empty cell. */
static json_t *field_value(const struct gw_mapping *m, const struct field *fd,
			   const char *cell, struct gw_err *err)
{
	static const char *const dflt = "text";
	json_t *v, *spec, *next;
	const char *p = cell;
	char cb[64], vb[80];
	size_t i;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (!*p || !strcmp(p, "\xc2\xa0")) {
		if (!fd->optional)
			gw_err_set(err, GW_ERR_SCHEMA,
				   "column '%s' is empty (%s.to %s)",
				   col_name(fd, cb, sizeof(cb)), fd->where,
				   fd->to);
		return NULL;
	}
	if (!(v = json_string(cell))) {
		gw_err_set(err, GW_ERR_SCHEMA, "column '%s' is not valid UTF-8",
			   col_name(fd, cb, sizeof(cb)));
		return NULL;
	}
	if (!fd->transforms) {
		spec = json_string(dflt);
		next = apply(m, spec, v, err);
		json_decref(spec);
		json_decref(v);
		v = next;
	}
	json_array_foreach(fd->transforms, i, spec)
	{
		next = apply(m, spec, v, err);
		json_decref(v);
		if (!(v = next))
			break;
	}
	if (!v) {
		char why[GW_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err->msg);
		gw_err_set(err, GW_ERR_SCHEMA, "column '%s' ('%s'): %s",
			   col_name(fd, cb, sizeof(cb)),
			   shorten(cell, vb, sizeof(vb)), why);
	}
	return v;
}

static gw_rc make_key(struct gw_mapping *m, const char *const *cells,
		      struct gw_buf *key, struct gw_err *err)
{
	size_t i;
	char cb[64];

	if (m->key_prefix && gw_buf_addf(key, "%s:", m->key_prefix))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; i < m->nk; i++) {
		char *t = gw_norm_text(cells[m->k[i].col]);

		if (!t || !*t) {
			free(t);
			return gw_err_set(err, GW_ERR_SCHEMA,
					  "key column '%s' is empty",
					  col_name(&m->k[i], cb, sizeof(cb)));
		}
		if (gw_buf_addf(key, "%s%s", i ? "|" : "", t)) {
			free(t);
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		}
		free(t);
	}
	return GW_OK;
}

static json_t *new_msg(const struct gw_mapping *m)
{
	return json_pack("{s:s, s:{}}", "kind", m->kind, "payload");
}

/* The date of a message: a literal or a pointer into it. */
static const char *msg_date(const struct gw_mapping *m, json_t *msg)
{
	const char *s;

	if (!m->date)
		return NULL;
	if (m->date[0] != '/')
		return m->date;
	s = json_string_value(ptr_get(msg, m->date));
	return s && strlen(s) >= 10 && s[4] == '-' && s[7] == '-' ? s : NULL;
}

static int emit_msg(const struct gw_mapping *m, json_t *msg, const char *key,
		    gw_mapping_emit_fn emit, void *arg)
{
	char date[11];
	const char *d = msg_date(m, msg);

	if (d)
		snprintf(date, sizeof(date), "%s", d);
	return emit(arg, key, d ? date : NULL, msg);
}

gw_rc gw_mapping_row(struct gw_mapping *m, const char *where,
		     const char *const *cells, size_t n,
		     gw_mapping_emit_fn emit, void *arg, struct gw_err *err)
{
	json_t *msg = NULL, *item = NULL, *fv, *c;
	struct gw_buf key;
	const char *to;
	gw_rc rc = GW_OK;
	size_t i;

	gw_buf_init(&key);
	if (!m->input)
		return gw_err_set(err, GW_ERR_USAGE,
				  "%s: the mapping is not bound to the input's "
				  "columns (gw_mapping_bind first)",
				  where);
	if (n < m->need) {
		rc = gw_err_set(err, GW_ERR_SCHEMA,
				"the row has %zu fields, the mapping reads "
				"column %zu",
				n, m->need);
		goto out;
	}
	if ((rc = make_key(m, cells, &key, err)))
		goto out;
	msg = json_object();
	item = m->items_ptr ? json_object() : NULL;
	if (!msg || (m->items_ptr && !item)) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_object_foreach(m->constants, to, c)
	{
		const char *d = strstr(to, "/-/");

		if (ptr_set(d ? item : msg, d ? d + 2 : to,
			    json_deep_copy(c))) {
			rc = gw_err_set(err, GW_ERR_SCHEMA,
					"constant %s crosses another value",
					to);
			goto out;
		}
	}
	for (i = 0; i < m->nf; i++) {
		const struct field *fd = &m->f[i];

		gw_err_clear(err);
		fv = field_value(m, fd, cells[fd->col], err);
		if (!fv) {
			if (err->rc) {
				rc = err->rc;
				goto out;
			}
			continue;
		}
		if (ptr_set(fd->rest ? item : msg, fd->rest ? fd->rest : fd->to,
			    fv)) {
			rc = gw_err_set(err, GW_ERR_SCHEMA,
					"%s: %s crosses another field's value",
					fd->where, fd->to);
			goto out;
		}
	}
	if (m->group) {
		json_t *gi = json_object_get(m->gindex, key.data);
		struct group *g;

		if (gi) {
			g = &m->g[json_integer_value(gi)];
			/* message fields must agree within a record */
			for (i = 0; i < m->nf; i++) {
				const struct field *fd = &m->f[i];
				json_t *mine, *theirs;

				if (fd->rest)
					continue;
				mine = ptr_get(msg, fd->to);
				theirs = ptr_get(g->msg, fd->to);
				if (mine && theirs &&
				    !json_equal(mine, theirs)) {
					char *a = json_dumps(mine,
							     JSON_ENCODE_ANY),
					     *b = json_dumps(theirs,
							     JSON_ENCODE_ANY);
					char ab[64], bb[64];

					rc = gw_err_set(
						err, GW_ERR_SCHEMA,
						"%s is %s here but %s in the "
						"rows of record '%s' before it "
						"(from %s)",
						fd->to,
						shorten(a ? a : "?", ab,
							sizeof(ab)),
						shorten(b ? b : "?", bb,
							sizeof(bb)),
						key.data, g->first);
					free(a);
					free(b);
					goto out;
				}
			}
			for (i = 0; i < m->nf; i++) {
				const struct field *fd = &m->f[i];
				json_t *mine;

				if (fd->rest ||
				    !(mine = ptr_get(msg, fd->to)) ||
				    ptr_get(g->msg, fd->to))
					continue;
				ptr_set(g->msg, fd->to, json_incref(mine));
			}
		} else {
			json_t *base = new_msg(m);
			const char *k;
			json_t *v;

			if (m->ng == m->gcap) {
				size_t nc = m->gcap ? m->gcap * 2 : 16;
				struct group *ng =
					gw_realloc(m->g, nc * sizeof(*ng));

				if (!ng) {
					json_decref(base);
					rc = gw_err_set(err, GW_ERR_NOMEM,
							"out of memory");
					goto out;
				}
				m->g = ng;
				m->gcap = nc;
			}
			if (!base) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				goto out;
			}
			/* merge the row's message fields into the base */
			json_object_foreach(msg, k, v)
			{
				if (!strcmp(k, "payload"))
					json_object_update(
						json_object_get(base,
								"payload"),
						v);
				else
					json_object_set(base, k, v);
			}
			g = &m->g[m->ng];
			memset(g, 0, sizeof(*g));
			g->msg = base;
			g->key = gw_strdup(key.data);
			g->first = gw_strdup(where);
			g->items = NULL;
			m->ng++;
			json_object_set_new(
				m->gindex, key.data,
				json_integer((json_int_t)m->ng - 1));
			if (!g->key || !g->first) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				goto out;
			}
		}
		if (item) {
			json_t *arr = ptr_get(g->msg, m->items_ptr);

			if (!arr &&
			    !ptr_set(g->msg, m->items_ptr, json_array()))
				arr = ptr_get(g->msg, m->items_ptr);
			if (!json_is_array(arr) ||
			    json_array_append(arr, item)) {
				rc = gw_err_set(err, GW_ERR_SCHEMA,
						"%s is not an array",
						m->items_ptr);
				goto out;
			}
		}
	} else {
		json_t *first = json_object_get(m->seen, key.data);
		json_t *out_msg, *v;
		const char *k;

		if (first) {
			rc = gw_err_set(err, GW_ERR_SCHEMA,
					"record key '%s' repeats the row of %s "
					"(set group: true to gather rows)",
					key.data, json_string_value(first));
			goto out;
		}
		json_object_set_new(m->seen, key.data, json_string(where));
		out_msg = new_msg(m);
		if (!out_msg) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		json_object_foreach(msg, k, v)
		{
			if (!strcmp(k, "payload"))
				json_object_update(
					json_object_get(out_msg, "payload"), v);
			else
				json_object_set(out_msg, k, v);
		}
		if (item && ptr_set(out_msg, m->items_ptr, json_array()) == 0)
			json_array_append(ptr_get(out_msg, m->items_ptr), item);
		if (emit_msg(m, out_msg, key.data, emit, arg))
			rc = gw_err_set(err, GW_ERR_IO,
					"%s: the message could not be written",
					where);
	}
out:
	json_decref(msg);
	json_decref(item);
	gw_buf_release(&key);
	return rc;
}

gw_rc gw_mapping_finish(struct gw_mapping *m, gw_mapping_emit_fn emit,
			void *arg, struct gw_err *err)
{
	gw_rc rc = GW_OK;
	size_t i;

	for (i = 0; i < m->ng; i++) {
		json_t *msg = m->g[i].msg;

		m->g[i].msg = NULL;
		if (!rc && emit_msg(m, msg, m->g[i].key, emit, arg))
			rc = gw_err_set(err, GW_ERR_IO,
					"record '%s': the message could not "
					"be written",
					m->g[i].key);
		else if (rc)
			json_decref(msg);
	}
	groups_clear(m);
	return rc;
}
