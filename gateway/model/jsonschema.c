/*
 * jsonschema.c - JSON Schema draft 2020-12 validation on jansson.
 *
 * A schema is compiled once into a graph of keyword structs: references are
 * resolved to the nodes they point at, regular expressions are translated
 * from ECMA-262 to PCRE2 and compiled (the simple anchored ones also to a
 * DFA), bounds are checked. The graph is
 * never written after gw_js_compile() returns, so any number of threads may
 * validate with it; everything a validation needs to write (the JSON Pointer
 * paths, the dynamic scope, the annotations that unevaluated* consume, the
 * PCRE2 match data) lives in a context on the validating thread's stack.
 *
 * Documents are found only in the registry: documents added by the caller,
 * *.json files of directories added by $id, and files under directories
 * mapped to URI prefixes. Nothing is ever fetched from the network.
 */
#include "model/jsonschema.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Nested schema evaluations allowed in one validation; beyond it the
 * instance (or a schema that recurses without consuming the instance) is
 * reported as too deep instead of exhausting the stack. */
#define MAX_EVAL_DEPTH 10000
/* Stack a validation may use, measured from gw_js_validate()'s frame: a
 * second guard for builds whose frames are large (sanitizers). */
#define MAX_EVAL_STACK (2u * 1024 * 1024)
/* JSON nesting a schema document may have (jansson's parser stops at 2048). */
#define MAX_SCHEMA_DEPTH 2048
/* Schema files larger than this are refused. */
#define MAX_SCHEMA_FILE (64u * 1024 * 1024)
/* Errors kept per validation; more only repeat the same problem. */
#define MAX_ERRORS 1000

/* Keeps the checks' message buffers off the recursive path: only the
 * handler for the instance's type is on the stack while descending. */
#define NOINLINE __attribute__((noinline))

#define GW_JS_XSTR(x) #x
#define GW_JS_STR(x) GW_JS_XSTR(x)

#define STD_DIALECT "https://json-schema.org/draft/2020-12/schema"
#define VOCAB_PREFIX "https://json-schema.org/draft/2020-12/vocab/"
#define DEFAULT_BASE "urn:lienthong:jsonschema:root"

/* Vocabularies, as a bit set; core is always on. */
enum {
	V_APPLICATOR = 1 << 0,
	V_UNEVALUATED = 1 << 1,
	V_VALIDATION = 1 << 2,
	V_FORMAT_ASSERT = 1 << 3,
	/* not a vocabulary: the schema is draft 2019-09, validated as
	 * 2020-12, which is exact for the keywords both drafts share; the
	 * ones whose meaning changed are refused when compiled */
	V_DRAFT2019 = 1 << 4,
	V_ALL = V_APPLICATOR | V_UNEVALUATED | V_VALIDATION
};

#define DRAFT2019_DIALECT "https://json-schema.org/draft/2019-09/schema"

/* Instance types, as a bit set; an integer is also a number. */
enum {
	T_NULL = 1 << 0,
	T_BOOLEAN = 1 << 1,
	T_OBJECT = 1 << 2,
	T_ARRAY = 1 << 3,
	T_NUMBER = 1 << 4,
	T_STRING = 1 << 5,
	T_INTEGER = 1 << 6
};

static const char *const type_names[] = { "null",   "boolean", "object",
					  "array",  "number",  "string",
					  "integer" };

/* ------------------------------------------------------------------ */
/* Small string helpers                                                */

static char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char tmp[256];
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	if ((size_t)n < sizeof(tmp))
		return gw_strdup(tmp);
	s = gw_malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* Append one JSON Pointer token, escaped (~0, ~1). */
static gw_rc ptr_push(struct gw_buf *b, const char *tok)
{
	gw_rc rc;
	const char *p;

	if ((rc = gw_buf_add(b, "/", 1)))
		return rc;
	for (p = tok; *p; p++) {
		if (*p == '~')
			rc = gw_buf_add(b, "~0", 2);
		else if (*p == '/')
			rc = gw_buf_add(b, "~1", 2);
		else
			rc = gw_buf_add(b, p, 1);
		if (rc)
			return rc;
	}
	return GW_OK;
}

static gw_rc ptr_push_index(struct gw_buf *b, size_t i)
{
	return gw_buf_addf(b, "/%zu", i);
}

static void buf_truncate(struct gw_buf *b, size_t len)
{
	if (b->data && len <= b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/* A short, one-line rendering of a JSON value for messages. */
static void value_repr(const json_t *v, char *out, size_t n)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t len;

	if (!s) {
		snprintf(out, n, "(value)");
		return;
	}
	len = strlen(s);
	if (len < n) {
		memcpy(out, s, len + 1);
	} else {
		/* cut on a UTF-8 boundary */
		size_t cut = n > 4 ? n - 4 : 0;

		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(out, s, cut);
		memcpy(out + cut, "...", 4);
	}
	free(s);
}

/* A string for messages: cut to about max bytes on a UTF-8 boundary. */
static void str_repr(const char *s, char *out, size_t n)
{
	size_t len = strlen(s);

	if (len < n) {
		memcpy(out, s, len + 1);
	} else {
		size_t cut = n > 4 ? n - 4 : 0;

		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(out, s, cut);
		memcpy(out + cut, "...", 4);
	}
}

static size_t utf8_length(const char *s, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

/* ------------------------------------------------------------------ */
/* URIs (RFC 3986): just enough to resolve references and split off     */
/* fragments.                                                           */

struct uri_part {
	const char *p;
	size_t n;
	int has;
};

struct uri {
	struct uri_part scheme, auth, path, query, frag;
};

static void uri_parse(const char *u, struct uri *r)
{
	const char *c = u, *q = u;

	memset(r, 0, sizeof(*r));
	if (isalpha((unsigned char)*c)) {
		while (isalnum((unsigned char)*c) || *c == '+' || *c == '-' ||
		       *c == '.')
			c++;
		if (*c == ':') {
			r->scheme.p = u;
			r->scheme.n = (size_t)(c - u);
			r->scheme.has = 1;
			q = c + 1;
		}
	}
	if (q[0] == '/' && q[1] == '/') {
		q += 2;
		r->auth.p = q;
		while (*q && *q != '/' && *q != '?' && *q != '#')
			q++;
		r->auth.n = (size_t)(q - r->auth.p);
		r->auth.has = 1;
	}
	r->path.p = q;
	while (*q && *q != '?' && *q != '#')
		q++;
	r->path.n = (size_t)(q - r->path.p);
	r->path.has = 1;
	if (*q == '?') {
		r->query.p = ++q;
		while (*q && *q != '#')
			q++;
		r->query.n = (size_t)(q - r->query.p);
		r->query.has = 1;
	}
	if (*q == '#') {
		r->frag.p = q + 1;
		r->frag.n = strlen(q + 1);
		r->frag.has = 1;
	}
}

/* RFC 3986 5.2.4, on a NUL-terminated copy. */
static void remove_dot_segments(char *in)
{
	char *out = in, *r = in;

	while (*r) {
		if (strncmp(r, "../", 3) == 0) {
			r += 3;
		} else if (strncmp(r, "./", 2) == 0) {
			r += 2;
		} else if (strncmp(r, "/./", 3) == 0) {
			r += 2;
		} else if (strcmp(r, "/.") == 0) {
			r[1] = '\0';
		} else if (strncmp(r, "/../", 4) == 0 ||
			   strcmp(r, "/..") == 0) {
			if (r[3] == '/')
				r += 3;
			else {
				r += 2;
				*r = '/';
			}
			while (out > in && *--out != '/')
				;
			*out = '\0';
		} else if (strcmp(r, ".") == 0 || strcmp(r, "..") == 0) {
			r += strlen(r);
		} else {
			do {
				*out++ = *r++;
			} while (*r && *r != '/');
		}
	}
	*out = '\0';
}

static gw_rc add_part(struct gw_buf *b, const char *pre,
		      const struct uri_part *p)
{
	gw_rc rc;

	if (!p->has)
		return GW_OK;
	if ((rc = gw_buf_adds(b, pre)))
		return rc;
	return gw_buf_add(b, p->p, p->n);
}

/* Resolve ref against base (RFC 3986 5.2.2); an empty fragment is dropped
 * so "x#" and "x" name the same resource. Returns a new string or NULL. */
static char *uri_resolve(const char *base, const char *ref)
{
	struct uri B, R;
	struct uri_part path = { 0 }, auth = { 0 }, query = { 0 };
	struct gw_buf b, pb;
	char *pathbuf = NULL, *out = NULL;
	gw_rc rc = GW_OK;

	uri_parse(base ? base : "", &B);
	uri_parse(ref, &R);
	gw_buf_init(&b);
	gw_buf_init(&pb);
	if (R.scheme.has) {
		if ((rc = gw_buf_add(&b, R.scheme.p, R.scheme.n)) ||
		    (rc = gw_buf_adds(&b, ":")))
			goto out;
		auth = R.auth;
		rc = gw_buf_add(&pb, R.path.p, R.path.n);
		query = R.query;
	} else {
		if (B.scheme.has &&
		    ((rc = gw_buf_add(&b, B.scheme.p, B.scheme.n)) ||
		     (rc = gw_buf_adds(&b, ":"))))
			goto out;
		if (R.auth.has) {
			auth = R.auth;
			rc = gw_buf_add(&pb, R.path.p, R.path.n);
			query = R.query;
		} else if (R.path.n == 0) {
			auth = B.auth;
			rc = gw_buf_add(&pb, B.path.p, B.path.n);
			query = R.query.has ? R.query : B.query;
		} else {
			auth = B.auth;
			query = R.query;
			if (R.path.p[0] == '/') {
				rc = gw_buf_add(&pb, R.path.p, R.path.n);
			} else if (B.auth.has && B.path.n == 0) {
				if (!(rc = gw_buf_adds(&pb, "/")))
					rc = gw_buf_add(&pb, R.path.p,
							R.path.n);
			} else {
				size_t keep = B.path.n;

				while (keep > 0 && B.path.p[keep - 1] != '/')
					keep--;
				if (!(rc = gw_buf_add(&pb, B.path.p, keep)))
					rc = gw_buf_add(&pb, R.path.p,
							R.path.n);
			}
		}
	}
	if (rc)
		goto out;
	if (!pb.data && (rc = gw_buf_adds(&pb, "")))
		goto out;
	pathbuf = gw_buf_detach(&pb, NULL);
	/* URNs and other opaque paths keep their dots */
	if (auth.has || pathbuf[0] == '/')
		remove_dot_segments(pathbuf);
	path.p = pathbuf;
	path.n = strlen(pathbuf);
	path.has = 1;
	if ((rc = add_part(&b, "//", &auth)) ||
	    (rc = add_part(&b, "", &path)) || (rc = add_part(&b, "?", &query)))
		goto out;
	if (R.frag.has && R.frag.n > 0) {
		if ((rc = gw_buf_adds(&b, "#")) ||
		    (rc = gw_buf_add(&b, R.frag.p, R.frag.n)))
			goto out;
	}
	if (!b.data && (rc = gw_buf_adds(&b, "")))
		goto out;
	out = gw_buf_detach(&b, NULL);
out:
	free(pathbuf);
	gw_buf_release(&b);
	gw_buf_release(&pb);
	return out;
}

/* Percent-decode a URI fragment; NULL on allocation failure or on a
 * malformed escape. */
static char *pct_decode(const char *s, size_t n)
{
	char *d = gw_malloc(n + 1), *o = d;
	size_t i;

	if (!d)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 1 &&
		    isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };

			*o++ = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return d;
}

/* ------------------------------------------------------------------ */
/* Keyword shapes: which keywords hold subschemas, and how. The scanner, */
/* the pointer walker and the compiler all agree through these.         */

enum kw_shape { KW_OTHER, KW_SCHEMA, KW_ARRAY, KW_MAP };

static enum kw_shape kw_shape(const char *kw)
{
	static const char *const single[] = { "additionalProperties",
					      "contains",
					      "else",
					      "if",
					      "items",
					      "not",
					      "propertyNames",
					      "then",
					      "unevaluatedItems",
					      "unevaluatedProperties",
					      "contentSchema" };
	static const char *const arr[] = { "allOf", "anyOf", "oneOf",
					   "prefixItems" };
	static const char *const map[] = { "$defs", "definitions",
					   "dependentSchemas",
					   "patternProperties", "properties" };
	size_t i;

	for (i = 0; i < GW_ARRAY_LEN(single); i++)
		if (strcmp(kw, single[i]) == 0)
			return KW_SCHEMA;
	for (i = 0; i < GW_ARRAY_LEN(arr); i++)
		if (strcmp(kw, arr[i]) == 0)
			return KW_ARRAY;
	for (i = 0; i < GW_ARRAY_LEN(map); i++)
		if (strcmp(kw, map[i]) == 0)
			return KW_MAP;
	return KW_OTHER;
}

static int anchor_name_ok(const char *a)
{
	const char *p;

	if (!isalpha((unsigned char)a[0]) && a[0] != '_')
		return 0;
	for (p = a + 1; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' &&
		    *p != '_')
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Registry                                                             */

/* Where identifiers point: "$id" URIs (no fragment) to resource roots,
 * "uri#name" to nodes with $anchor or $dynamicAnchor, and separately the
 * $dynamicAnchor ones. jansson objects serve as string-keyed maps. */
struct index {
	json_t *ids;
	json_t *anchors;
	json_t *dyn;
};

struct mapping {
	char *prefix;
	char *dir;
};

struct gw_js_registry {
	struct index ix;
	json_t *docs; /* uri -> document, to keep them alive */
	struct mapping *maps;
	size_t nmaps;
};

static gw_rc index_init(struct index *ix)
{
	ix->ids = json_object();
	ix->anchors = json_object();
	ix->dyn = json_object();
	return ix->ids && ix->anchors && ix->dyn ? GW_OK : GW_ERR_NOMEM;
}

static void index_release(struct index *ix)
{
	json_decref(ix->ids);
	json_decref(ix->anchors);
	json_decref(ix->dyn);
	memset(ix, 0, sizeof(*ix));
}

struct gw_js_registry *gw_js_registry_new(void)
{
	struct gw_js_registry *reg = gw_calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	if (index_init(&reg->ix) || !(reg->docs = json_object())) {
		gw_js_registry_free(reg);
		return NULL;
	}
	return reg;
}

void gw_js_registry_free(struct gw_js_registry *reg)
{
	size_t i;

	if (!reg)
		return;
	index_release(&reg->ix);
	json_decref(reg->docs);
	for (i = 0; i < reg->nmaps; i++) {
		free(reg->maps[i].prefix);
		free(reg->maps[i].dir);
	}
	free(reg->maps);
	free(reg);
}

gw_rc gw_js_registry_map(struct gw_js_registry *reg, const char *uri_prefix,
			 const char *dir, struct gw_err *err)
{
	struct mapping *m;

	if (!reg || !uri_prefix || !dir || !*uri_prefix)
		return gw_err_set(
			err, GW_ERR_USAGE,
			"cannot map a uri prefix: missing prefix or directory");
	m = gw_realloc(reg->maps, (reg->nmaps + 1) * sizeof(*m));
	if (!m)
		return gw_err_set(err, GW_ERR_NOMEM,
				  "cannot map '%s': out of memory", uri_prefix);
	reg->maps = m;
	m = &reg->maps[reg->nmaps];
	m->prefix = gw_strdup(uri_prefix);
	m->dir = gw_strdup(dir);
	if (!m->prefix || !m->dir) {
		free(m->prefix);
		free(m->dir);
		return gw_err_set(err, GW_ERR_NOMEM,
				  "cannot map '%s': out of memory", uri_prefix);
	}
	reg->nmaps++;
	return GW_OK;
}

/* Record an identifier; the same key for a different node is an error
 * (two schemas claiming one $id would make references ambiguous). */
static gw_rc index_put(json_t *map, const char *key, json_t *node,
		       const char *what, struct gw_err *err)
{
	json_t *old = json_object_get(map, key);

	if (old == node)
		return GW_OK;
	if (old)
		return gw_err_set(err, GW_ERR_SCHEMA_DEF,
				  "duplicate %s '%s': two schemas use it", what,
				  key);
	if (json_object_set(map, key, node))
		return gw_err_set(err, GW_ERR_NOMEM,
				  "out of memory indexing '%s'", key);
	return GW_OK;
}

static gw_rc scan(struct index *ix, json_t *s, const char *base, int depth,
		  struct gw_err *err);

static gw_rc scan_children(struct index *ix, json_t *s, const char *base,
			   int depth, struct gw_err *err)
{
	const char *kw;
	json_t *v, *sub;
	size_t i;
	gw_rc rc;

	json_object_foreach(s, kw, v)
	{
		switch (kw_shape(kw)) {
		case KW_SCHEMA:
			if ((rc = scan(ix, v, base, depth + 1, err)))
				return rc;
			break;
		case KW_ARRAY:
			json_array_foreach(v, i, sub)
			{
				if ((rc = scan(ix, sub, base, depth + 2, err)))
					return rc;
			}
			break;
		case KW_MAP:
			if (json_is_object(v)) {
				const char *name;

				json_object_foreach(v, name, sub)
				{
					if ((rc = scan(ix, sub, base, depth + 2,
						       err)))
						return rc;
				}
			}
			break;
		case KW_OTHER: break;
		}
	}
	return GW_OK;
}

static gw_rc scan_anchor(struct index *ix, json_t *s, const char *base,
			 const char *kw, struct gw_err *err)
{
	json_t *a = json_object_get(s, kw);
	char *key;
	gw_rc rc;

	if (!a)
		return GW_OK;
	if (!json_is_string(a) || !anchor_name_ok(json_string_value(a)))
		return gw_err_set(
			err, GW_ERR_SCHEMA_DEF,
			"invalid %s in '%s': must be a name like 'node' "
			"(a letter or '_', then letters, digits, '-', '.', "
			"'_')",
			kw, base);
	key = xasprintf("%s#%s", base, json_string_value(a));
	if (!key)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	rc = index_put(ix->anchors, key, s, "anchor", err);
	if (!rc && strcmp(kw, "$dynamicAnchor") == 0)
		rc = index_put(ix->dyn, key, s, "dynamic anchor", err);
	free(key);
	return rc;
}

/* Record the identifiers of schema s (a document or a subschema) found
 * in schema positions; $id inside "enum" or an unknown keyword is data. */
static gw_rc scan(struct index *ix, json_t *s, const char *base, int depth,
		  struct gw_err *err)
{
	json_t *id;
	char *nb = NULL;
	gw_rc rc = GW_OK;

	if (!json_is_object(s))
		return GW_OK;
	if (depth > MAX_SCHEMA_DEPTH)
		return gw_err_set(
			err, GW_ERR_SCHEMA_DEF,
			"schema '%s' is nested too deeply (over %d levels)",
			base, MAX_SCHEMA_DEPTH);
	id = json_object_get(s, "$id");
	if (id) {
		if (!json_is_string(id))
			return gw_err_set(
				err, GW_ERR_SCHEMA_DEF,
				"invalid $id in '%s': must be a string", base);
		if (strchr(json_string_value(id), '#') &&
		    strchr(json_string_value(id), '#')[1])
			return gw_err_set(
				err, GW_ERR_SCHEMA_DEF,
				"invalid $id '%s': must not have a fragment "
				"(use $anchor)",
				json_string_value(id));
		if (!(nb = uri_resolve(base, json_string_value(id))))
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		base = nb;
		if ((rc = index_put(ix->ids, base, s, "$id", err)))
			goto out;
	}
	if ((rc = scan_anchor(ix, s, base, "$anchor", err)) ||
	    (rc = scan_anchor(ix, s, base, "$dynamicAnchor", err)))
		goto out;
	rc = scan_children(ix, s, base, depth, err);
out:
	free(nb);
	return rc;
}

/* Add a document under uri (normalized); its $id, if any, also names it. */
static gw_rc registry_add_doc(struct gw_js_registry *reg, const char *uri,
			      json_t *doc, struct gw_err *err)
{
	char *u = NULL;
	gw_rc rc;

	if (!(u = uri_resolve(NULL, uri)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((rc = scan(&reg->ix, doc, u, 0, err)))
		goto out;
	/* the name it was asked for resolves too, even when $id differs */
	if (!json_object_get(reg->ix.ids, u) &&
	    (rc = index_put(reg->ix.ids, u, doc, "$id", err)))
		goto out;
	if (json_object_set(reg->docs, u, doc))
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
out:
	free(u);
	return rc;
}

gw_rc gw_js_registry_add(struct gw_js_registry *reg, const char *uri,
			 json_t *schema, struct gw_err *err)
{
	json_t *id;
	const char *name = uri;

	if (!reg || !schema)
		return gw_err_set(err, GW_ERR_USAGE,
				  "cannot add a schema: no schema given");
	id = json_is_object(schema) ? json_object_get(schema, "$id") : NULL;
	if (!name && json_is_string(id))
		name = json_string_value(id);
	if (!name)
		return gw_err_set(
			err, GW_ERR_USAGE,
			"cannot add a schema without $id and without a uri");
	return registry_add_doc(reg, name, schema, err);
}

static gw_rc load_json_file(const char *path, json_t **out, struct gw_err *err)
{
	char *text = NULL;
	size_t len;
	json_error_t je;
	gw_rc rc;

	*out = NULL;
	if ((rc = gw_read_file(path, MAX_SCHEMA_FILE, &text, &len, err)))
		return rc;
	*out = json_loadb(
		text, len,
		JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	free(text);
	if (!*out)
		return gw_err_set(err, GW_ERR_PARSE,
				  "cannot parse '%s': %s at line %d", path,
				  je.text, je.line);
	return GW_OK;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static gw_rc add_dir(struct gw_js_registry *reg, const char *dir, int depth,
		     struct gw_err *err)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL, **nn;
	size_t n = 0, i;
	gw_rc rc = GW_OK;

	if (depth > 16)
		return GW_OK;
	if (!(d = opendir(dir)))
		return gw_err_set(err, GW_ERR_IO,
				  "cannot open directory '%s': %s", dir,
				  strerror(errno));
	/* sorted, so that errors and duplicate reports are reproducible */
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (!(nn = gw_realloc(names, (n + 1) * sizeof(*names))) ||
		    !((names = nn)[n] = gw_strdup(e->d_name))) {
			if (nn)
				names = nn;
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && !rc; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		struct stat st;
		size_t len = strlen(names[i]);
		json_t *doc, *id;

		if (!path) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			break;
		}
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			rc = add_dir(reg, path, depth + 1, err);
		} else if (len > 5 &&
			   strcmp(names[i] + len - 5, ".json") == 0) {
			if (!(rc = load_json_file(path, &doc, err))) {
				id = json_is_object(doc)
					     ? json_object_get(doc, "$id")
					     : NULL;
				if (json_is_string(id))
					rc = registry_add_doc(
						reg, json_string_value(id), doc,
						err);
				json_decref(doc);
			}
		}
		free(path);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

gw_rc gw_js_registry_add_dir(struct gw_js_registry *reg, const char *dir,
			     struct gw_err *err)
{
	if (!reg || !dir)
		return gw_err_set(err, GW_ERR_USAGE,
				  "cannot add a directory: none given");
	return add_dir(reg, dir, 0, err);
}

/* Find the document for an absolute URI without fragment: loaded ones
 * first, then a mapped directory (the file is loaded into the registry so
 * later references share it). NULL with *rc == GW_OK: not found. */
static json_t *registry_find(struct gw_js_registry *reg, const char *uri,
			     gw_rc *rc, struct gw_err *err)
{
	json_t *doc;
	size_t i;

	*rc = GW_OK;
	if (!reg)
		return NULL;
	if ((doc = json_object_get(reg->ix.ids, uri)))
		return doc;
	for (i = 0; i < reg->nmaps; i++) {
		const struct mapping *m = &reg->maps[i];
		size_t pl = strlen(m->prefix), dl = strlen(m->dir);
		const char *rest;
		char *path;

		if (strncmp(uri, m->prefix, pl) != 0)
			continue;
		rest = uri + pl;
		/* stay inside the mapped directory */
		if (strstr(rest, "..") || strchr(rest, '?') ||
		    strchr(rest, '\\')) {
			*rc = gw_err_set(
				err, GW_ERR_SCHEMA_DEF,
				"cannot resolve '%s': refusing a path with "
				"'..', "
				"'?' or '\\' under mapped directory '%s'",
				uri, m->dir);
			return NULL;
		}
		path = xasprintf("%s%s%s", m->dir,
				 (dl && m->dir[dl - 1] == '/') || rest[0] == '/'
					 ? ""
					 : "/",
				 rest);
		if (!path) {
			*rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			return NULL;
		}
		*rc = load_json_file(path, &doc, err);
		if (*rc) {
			char msg[GW_ERR_MSG_MAX];

			snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
			*rc = gw_err_set(err, GW_ERR_SCHEMA_DEF,
					 "cannot resolve '%s' through mapped "
					 "directory '%s': %s",
					 uri, m->dir, msg);
			free(path);
			return NULL;
		}
		free(path);
		*rc = registry_add_doc(reg, uri, doc, err);
		json_decref(doc);
		if (*rc)
			return NULL;
		return json_object_get(reg->ix.ids, uri);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Regular expressions: ECMA-262 syntax translated to PCRE2.            */
/*                                                                      */
/* Without PCRE2_UCP, PCRE2's \d \w \b are ASCII as in ECMA-262; what   */
/* differs is \s (ECMA adds Unicode spaces), '.' (ECMA excludes every   */
/* line terminator), \uXXXX / \u{X} escapes, and "[]" / "[^]".          */

#define ECMA_SPACE                                                \
	"\\t\\n\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}" \
	"\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}"

/* \p{...}: PCRE2 before 10.40 knows only the short General_Category
 * names and bare script names, so map ECMA's long and prefixed forms. */
static gw_rc unicode_property(struct gw_buf *b, const char *p, const char **end)
{
	static const char *const names[][2] = {
		{ "Letter", "L" },
		{ "Cased_Letter", "L&" },
		{ "Uppercase_Letter", "Lu" },
		{ "Lowercase_Letter", "Ll" },
		{ "Titlecase_Letter", "Lt" },
		{ "Modifier_Letter", "Lm" },
		{ "Other_Letter", "Lo" },
		{ "Mark", "M" },
		{ "Combining_Mark", "M" },
		{ "Nonspacing_Mark", "Mn" },
		{ "Spacing_Mark", "Mc" },
		{ "Enclosing_Mark", "Me" },
		{ "Number", "N" },
		{ "Decimal_Number", "Nd" },
		{ "digit", "Nd" },
		{ "Letter_Number", "Nl" },
		{ "Other_Number", "No" },
		{ "Punctuation", "P" },
		{ "punct", "P" },
		{ "Connector_Punctuation", "Pc" },
		{ "Dash_Punctuation", "Pd" },
		{ "Open_Punctuation", "Ps" },
		{ "Close_Punctuation", "Pe" },
		{ "Initial_Punctuation", "Pi" },
		{ "Final_Punctuation", "Pf" },
		{ "Other_Punctuation", "Po" },
		{ "Symbol", "S" },
		{ "Math_Symbol", "Sm" },
		{ "Currency_Symbol", "Sc" },
		{ "Modifier_Symbol", "Sk" },
		{ "Other_Symbol", "So" },
		{ "Separator", "Z" },
		{ "Space_Separator", "Zs" },
		{ "Line_Separator", "Zl" },
		{ "Paragraph_Separator", "Zp" },
		{ "Other", "C" },
		{ "Control", "Cc" },
		{ "cntrl", "Cc" },
		{ "Format", "Cf" },
		{ "Surrogate", "Cs" },
		{ "Private_Use", "Co" },
		{ "Unassigned", "Cn" },
	};
	const char *close = strchr(p + 3, '}'), *name = p + 3, *eq;
	size_t n, i;

	if (!close) {
		*end = p + 2;
		return gw_buf_add(b, p, 2);
	}
	*end = close + 1;
	eq = memchr(name, '=', (size_t)(close - name));
	if (eq)
		name = eq + 1; /* General_Category=X, gc=X, Script=X, sc=X */
	n = (size_t)(close - name);
	for (i = 0; i < GW_ARRAY_LEN(names); i++)
		if (strlen(names[i][0]) == n &&
		    memcmp(names[i][0], name, n) == 0)
			return gw_buf_addf(b, "\\%c{%s}", p[1], names[i][1]);
	return gw_buf_addf(b, "\\%c{%.*s}", p[1], (int)n, name);
}

static gw_rc ecma_to_pcre(const char *re, struct gw_buf *b)
{
	const char *p = re;
	int in_class = 0;
	gw_rc rc = GW_OK;

	while (*p && !rc) {
		if (*p == '\\' && p[1]) {
			char c = p[1];

			if (c == 's' || c == 'S') {
				if (in_class)
					rc = c == 's' ? gw_buf_adds(b,
								    ECMA_SPACE)
						      : gw_buf_adds(b, "\\S");
				else
					rc = gw_buf_adds(
						b, c == 's' ? "[" ECMA_SPACE "]"
							    : "[^" ECMA_SPACE
							      "]");
				p += 2;
			} else if (c == 'u' && p[2] == '{') {
				const char *q = p + 3;

				while (isxdigit((unsigned char)*q))
					q++;
				if (*q == '}' && q > p + 3) {
					rc = gw_buf_addf(b, "\\x{%.*s}",
							 (int)(q - p - 3),
							 p + 3);
					p = q + 1;
				} else {
					rc = gw_buf_add(b, p, 2);
					p += 2;
				}
			} else if (c == 'u' && isxdigit((unsigned char)p[2]) &&
				   isxdigit((unsigned char)p[3]) &&
				   isxdigit((unsigned char)p[4]) &&
				   isxdigit((unsigned char)p[5])) {
				char hex[5] = { p[2], p[3], p[4], p[5], 0 };
				unsigned long cp = strtoul(hex, NULL, 16);

				p += 6;
				/* a surrogate pair written as two escapes */
				if (cp >= 0xD800 && cp <= 0xDBFF &&
				    p[0] == '\\' && p[1] == 'u' &&
				    isxdigit((unsigned char)p[2]) &&
				    isxdigit((unsigned char)p[3]) &&
				    isxdigit((unsigned char)p[4]) &&
				    isxdigit((unsigned char)p[5])) {
					char lo[5] = { p[2], p[3], p[4], p[5],
						       0 };
					unsigned long l = strtoul(lo, NULL, 16);

					if (l >= 0xDC00 && l <= 0xDFFF) {
						cp = 0x10000 +
						     ((cp - 0xD800) << 10) +
						     (l - 0xDC00);
						p += 6;
					}
				}
				rc = gw_buf_addf(b, "\\x{%lx}", cp);
			} else if ((c == 'p' || c == 'P') && p[2] == '{') {
				rc = unicode_property(b, p, &p);
			} else if (c == 'c' && isalpha((unsigned char)p[2])) {
				rc = gw_buf_add(b, p, 3);
				p += 3;
			} else if (c == '0' && !isdigit((unsigned char)p[2])) {
				rc = gw_buf_adds(b, "\\x{0}");
				p += 2;
			} else {
				rc = gw_buf_add(b, p, 2);
				p += 2;
			}
		} else if (*p == '[' && !in_class) {
			in_class = 1;
			rc = gw_buf_add(b, p, 1);
			p++;
			if (*p == '^') {
				rc = rc ? rc : gw_buf_add(b, p, 1);
				p++;
			}
			/* ECMA: "]" right after "[" or "[^" closes the class */
			if (*p == ']') {
				rc = rc ? rc : gw_buf_add(b, p, 1);
				p++;
				in_class = 0;
			}
		} else if (*p == ']' && in_class) {
			in_class = 0;
			rc = gw_buf_add(b, p, 1);
			p++;
		} else if (*p == '.' && !in_class) {
			rc = gw_buf_adds(b, "[^\\n\\r\\x{2028}\\x{2029}]");
			p++;
		} else {
			rc = gw_buf_add(b, p, 1);
			p++;
		}
	}
	if (!rc && !b->data)
		rc = gw_buf_adds(b, "");
	return rc;
}

/* Compile an ECMA-262 pattern; on failure err says why (GW_ERR_SCHEMA_DEF). */
static gw_rc regex_compile(const char *re, pcre2_code **out, struct gw_err *err)
{
	struct gw_buf b;
	int ecode;
	PCRE2_SIZE eoff;
	gw_rc rc;

	*out = NULL;
	gw_buf_init(&b);
	if ((rc = ecma_to_pcre(re, &b))) {
		gw_buf_release(&b);
		return gw_err_set(err, rc, "out of memory");
	}
	*out = pcre2_compile((PCRE2_SPTR)b.data, b.len,
			     PCRE2_UTF | PCRE2_DOLLAR_ENDONLY |
				     PCRE2_ALLOW_EMPTY_CLASS,
			     &ecode, &eoff, NULL);
	gw_buf_release(&b);
	if (!*out) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(ecode, msg, sizeof(msg));
		return gw_err_set(err, GW_ERR_SCHEMA_DEF,
				  "invalid regular expression '%s': %s", re,
				  (char *)msg);
	}
	/* JIT is an optimisation only: a pattern it cannot handle still runs */
	pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
	return GW_OK;
}

/* 1 match, 0 no match, -1 matching failed (resource limit). */
static int regex_match(const pcre2_code *re, pcre2_match_data **md,
		       const char *s, size_t n)
{
	int r;

	if (!*md && !(*md = pcre2_match_data_create(1, NULL)))
		return -1;
	/* The JIT fast path skips pcre2_match()'s checks, the UTF-8 check of
	 * the subject among them: subjects are jansson strings (or keys),
	 * which jansson has already checked, as the gateway never builds
	 * values with jansson's _nocheck constructors. A pattern JIT could
	 * not compile answers PCRE2_ERROR_JIT_BADOPTION and runs below. */
	r = pcre2_jit_match(re, (PCRE2_SPTR)s, n, 0, 0, *md, NULL);
	if (r == PCRE2_ERROR_JIT_BADOPTION)
		r = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, *md, NULL);
	if (r == PCRE2_ERROR_JIT_STACKLIMIT)
		r = pcre2_match(re, (PCRE2_SPTR)s, n, 0, PCRE2_NO_JIT, *md,
				NULL);
	if (r >= 0)
		return 1;
	if (r == PCRE2_ERROR_NOMATCH)
		return 0;
	return -1;
}

/* ------------------------------------------------------------------ */
/* A DFA for the simple patterns most schemas use                       */
/*                                                                      */
/* A pattern anchored at both ends ("^...$") built only of ASCII        */
/* literals, positive classes of them, \d, \w, groups, alternation and  */
/* greedy or lazy quantifiers matches exactly the subjects that are a   */
/* whole string of that regular language: every atom matches one ASCII  */
/* byte, which in UTF-8 is always a whole character, so bytes and code  */
/* points give the same verdict (a subject with a byte >= 0x80 never    */
/* matches). Such a pattern is also compiled to a DFA over byte classes */
/* (Thompson NFA, then subsets), and matching is one table step per     */
/* byte instead of a PCRE2 call. Anything else, or a pattern whose      */
/* automaton would be large, stays with PCRE2 alone.                    */

#define RX_MAX_NFA 1024
#define RX_MAX_DFA 255
#define RX_MAX_REPEAT 256
#define RX_MAX_CLASSES 32
#define RX_MAX_NEST 16

struct rx_st {
	unsigned char kind; /* 0 one byte of set, 1 split, 2 match */
	unsigned char set[32];
	int out, out2;
};

struct rx_nfa {
	struct rx_st st[RX_MAX_NFA];
	int n;
	int bad;
};

struct dfa {
	unsigned char cls[256]; /* byte -> class */
	unsigned ncls;
	/* [state * ncls + class]: the next state times ncls, so that a step
	 * is one add and one load; state 0 is the dead one */
	unsigned short *next;
	unsigned char *accept; /* [state] */
	unsigned char start;
};

static int rx_add(struct rx_nfa *a, int kind, const unsigned char *set, int out,
		  int out2)
{
	struct rx_st *s;

	if (a->bad || a->n >= RX_MAX_NFA) {
		a->bad = 1;
		return -1;
	}
	s = &a->st[a->n];
	memset(s, 0, sizeof(*s));
	s->kind = (unsigned char)kind;
	if (set)
		memcpy(s->set, set, sizeof(s->set));
	s->out = out;
	s->out2 = out2;
	return a->n++;
}

static void set_add(unsigned char *set, int lo, int hi)
{
	for (int ch = lo; ch <= hi; ch++)
		set[ch >> 3] |= (unsigned char)(1u << (ch & 7));
}

/* An escape (after '\\') as a set; 0 when not supported. */
static int rx_escape(char ch, unsigned char *set, int *single)
{
	*single = -1;
	if (ch == 'd') {
		set_add(set, '0', '9');
	} else if (ch == 'w') {
		set_add(set, '0', '9');
		set_add(set, 'A', 'Z');
		set_add(set, 'a', 'z');
		set_add(set, '_', '_');
	} else if (ch > 0x20 && ch < 0x7f && !isalnum((unsigned char)ch)) {
		set_add(set, ch, ch);
		*single = ch;
	} else {
		return 0;
	}
	return 1;
}

/* End of the atom at p (before e), or NULL when it is not supported. */
static const char *rx_atom_end(const char *p, const char *e)
{
	int depth = 0;

	do {
		if (p >= e)
			return NULL;
		if (*p == '\\') {
			p += 2;
		} else if (*p == '[') {
			for (p++; p < e && *p != ']'; p++)
				if (*p == '\\')
					p++;
			p++;
		} else {
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		}
		if (depth < 0 || p > e)
			return NULL;
	} while (depth > 0);
	return p;
}

static int rx_alt(struct rx_nfa *a, const char *p, const char *e, int next);

/* One atom [p, e) followed by next; returns its start state. */
static int rx_atom(struct rx_nfa *a, const char *p, const char *e, int next)
{
	unsigned char set[32] = { 0 };
	int single;

	if (*p == '(') {
		p += (p + 2 < e && p[1] == '?' && p[2] == ':') ? 3 : 1;
		if (*p == '?' || e - 1 < p || e[-1] != ')') {
			a->bad = 1;
			return -1;
		}
		return rx_alt(a, p, e - 1, next);
	}
	if (*p == '\\') {
		if (e - p != 2 || !rx_escape(p[1], set, &single)) {
			a->bad = 1;
			return -1;
		}
		return rx_add(a, 0, set, next, -1);
	}
	if (*p == '[') {
		int prev = -1; /* a single character that may start a range */

		p++;
		if (p >= e - 1 || *p == '^' || *p == ']' || e[-1] != ']') {
			a->bad = 1;
			return -1;
		}
		for (; p < e - 1; p++) {
			unsigned char ch = (unsigned char)*p;

			if (ch >= 0x80 || ch == '[') {
				a->bad = 1;
				return -1;
			}
			if (ch == '\\') {
				if (!rx_escape(*++p, set, &single)) {
					a->bad = 1;
					return -1;
				}
				prev = single;
			} else if (ch == '-' && prev >= 0 && p + 1 < e - 1) {
				int hi = (unsigned char)*++p;

				if (hi == '\\' || hi == '[' || hi >= 0x80 ||
				    hi < prev) {
					a->bad = 1;
					return -1;
				}
				set_add(set, prev, hi);
				prev = -1;
			} else {
				/* "-" after a class escape */
				if (ch == '-' && p != e - 2 && prev < 0 &&
				    p[-1] != '[') {
					a->bad = 1;
					return -1;
				}
				set_add(set, ch, ch);
				prev = ch;
			}
		}
		return rx_add(a, 0, set, next, -1);
	}
	if (e - p != 1 || (unsigned char)*p >= 0x80 ||
	    strchr("^$.|)]{}*+?", *p)) {
		a->bad = 1;
		return -1;
	}
	set_add(set, (unsigned char)*p, (unsigned char)*p);
	return rx_add(a, 0, set, next, -1);
}

/* A quantifier at p: sets min and max (-1: no bound), returns its end. */
static const char *rx_quant(const char *p, const char *e, int *min, int *max)
{
	*min = *max = 1;
	if (p >= e)
		return p;
	if (*p == '*' || *p == '+' || *p == '?') {
		*min = *p == '+';
		*max = *p == '?' ? 1 : -1;
		p++;
	} else if (*p == '{') {
		char *end;
		long lo, hi;

		if (!isdigit((unsigned char)p[1]))
			return NULL;
		lo = strtol(p + 1, &end, 10);
		hi = lo;
		if (*end == ',') {
			hi = isdigit((unsigned char)end[1])
				     ? strtol(end + 1, &end, 10)
				     : (end++, -1);
		}
		if (end >= e || *end != '}' || lo > RX_MAX_REPEAT ||
		    hi > RX_MAX_REPEAT || (hi >= 0 && hi < lo))
			return NULL;
		*min = (int)lo;
		*max = (int)hi;
		p = end + 1;
	} else {
		return p;
	}
	if (p < e && *p == '?') /* lazy: the same full matches */
		p++;
	if (p < e && strchr("*+?{", *p))
		return NULL;
	return p;
}

/* A sequence [p, e) followed by next. */
static int rx_seq(struct rx_nfa *a, const char *p, const char *e, int next)
{
	struct {
		const char *p, *e;
		int min, max;
	} it[64];
	int n = 0, cur = next, i, k;

	while (p < e) {
		const char *ae = rx_atom_end(p, e);

		if (!ae || n == 64) {
			a->bad = 1;
			return -1;
		}
		it[n].p = p;
		it[n].e = ae;
		if (!(p = rx_quant(ae, e, &it[n].min, &it[n].max))) {
			a->bad = 1;
			return -1;
		}
		n++;
	}
	for (i = n - 1; i >= 0 && !a->bad; i--) {
		if (it[i].max < 0) {
			int s = rx_add(a, 1, NULL, -1, cur);

			if (s < 0)
				return -1;
			a->st[s].out = rx_atom(a, it[i].p, it[i].e, s);
			cur = s;
		} else {
			for (k = it[i].min; k < it[i].max && !a->bad; k++)
				cur = rx_add(a, 1, NULL,
					     rx_atom(a, it[i].p, it[i].e, cur),
					     cur);
		}
		for (k = 0; k < it[i].min && !a->bad; k++)
			cur = rx_atom(a, it[i].p, it[i].e, cur);
	}
	return a->bad ? -1 : cur;
}

/* Alternatives [p, e), each followed by next. */
static int rx_alt(struct rx_nfa *a, const char *p, const char *e, int next)
{
	const char *q = p;

	while (q < e && *q != '|') {
		q = rx_atom_end(q, e);
		if (!q) {
			a->bad = 1;
			return -1;
		}
		while (q < e && strchr("*+?{}0123456789,", *q))
			q++; /* quantifiers (rx_quant checks them) */
	}
	if (q >= e)
		return rx_seq(a, p, e, next);
	return rx_add(a, 1, NULL, rx_seq(a, p, q, next),
		      rx_alt(a, q + 1, e, next));
}

static void rx_closure(const struct rx_nfa *a, int s, unsigned char *in)
{
	while (s >= 0 && !(in[s >> 3] & (1u << (s & 7)))) {
		in[s >> 3] |= (unsigned char)(1u << (s & 7));
		if (a->st[s].kind != 1)
			return;
		rx_closure(a, a->st[s].out, in);
		s = a->st[s].out2;
	}
}

static void dfa_free(struct dfa *d)
{
	if (!d)
		return;
	free(d->next);
	free(d->accept);
	free(d);
}

/* The DFA of an ECMA-262 pattern, or NULL when the pattern is not one of
 * the simple ones (or memory is short: PCRE2 still answers). */
static struct dfa *dfa_compile(const char *re)
{
	size_t len = strlen(re), nb = RX_MAX_NFA / 8;
	struct rx_nfa *a = NULL;
	struct dfa *d = NULL;
	unsigned char *sets = NULL, rep[256];
	int match, start, i, j, nd = 1, ok = 0, in_class = 0;
	unsigned c;

	/* ^...$, the $ not escaped */
	if (len < 2 || re[0] != '^' || re[len - 1] != '$')
		return NULL;
	for (i = (int)len - 2; i > 0 && re[i] == '\\'; i--)
		;
	if ((len - 2 - (size_t)i) % 2)
		return NULL;
	/* groups nest by recursion here: keep it shallow */
	for (i = 0, j = 0; re[i]; i++) {
		if (re[i] == '\\' && re[i + 1])
			i++;
		else if (in_class)
			in_class = re[i] != ']';
		else if (re[i] == '[')
			in_class = 1;
		else if (re[i] == '(' && ++j > RX_MAX_NEST)
			return NULL;
		else if (re[i] == ')')
			j--;
	}
	if (!(a = gw_calloc(1, sizeof(*a))) || !(d = gw_calloc(1, sizeof(*d))))
		goto out;
	match = rx_add(a, 2, NULL, -1, -1);
	/* a sequence, not alternatives: "^a|b$" is not anchored twice */
	start = rx_seq(a, re + 1, re + len - 1, match);
	if (a->bad || start < 0)
		goto out;
	/* byte classes: bytes in exactly the same sets */
	for (i = 0; i < 256; i++) {
		for (c = 0; c < d->ncls; c++) {
			for (j = 0; j < a->n; j++) {
				const unsigned char *s = a->st[j].set;

				if (a->st[j].kind == 0 &&
				    !(s[i >> 3] >> (i & 7) & 1) !=
					    !(s[rep[c] >> 3] >> (rep[c] & 7) &
					      1))
					break;
			}
			if (j == a->n)
				break;
		}
		if (c == d->ncls) {
			/* bounds the subset construction's work */
			if (d->ncls == RX_MAX_CLASSES)
				goto out;
			rep[d->ncls++] = (unsigned char)i;
		}
		d->cls[i] = (unsigned char)c;
	}
	/* subsets; state 0 is the dead one */
	if (!(sets = gw_calloc((RX_MAX_DFA + 1) * nb, 1)) ||
	    !(d->next = gw_calloc((RX_MAX_DFA + 1) * d->ncls,
				  sizeof(*d->next))) ||
	    !(d->accept = gw_calloc(RX_MAX_DFA + 1, 1)))
		goto out;
	rx_closure(a, start, sets + nb);
	nd = 2;
	d->start = 1;
	for (i = 1; i < nd; i++) {
		const unsigned char *in = sets + (size_t)i * nb;

		d->accept[i] = (in[match >> 3] >> (match & 7)) & 1;
		for (c = 0; c < d->ncls; c++) {
			unsigned char t[RX_MAX_NFA / 8] = { 0 }, any = 0;

			for (j = 0; j < a->n; j++)
				if ((in[j >> 3] >> (j & 7) & 1) &&
				    a->st[j].kind == 0 &&
				    (a->st[j].set[rep[c] >> 3] >> (rep[c] & 7) &
				     1))
					rx_closure(a, a->st[j].out, t);
			for (j = 0; j < (int)nb; j++)
				any |= t[j];
			if (!any)
				continue;
			for (j = 1; j < nd; j++)
				if (!memcmp(sets + (size_t)j * nb, t, nb))
					break;
			if (j == nd) {
				if (nd > RX_MAX_DFA)
					goto out;
				memcpy(sets + (size_t)nd * nb, t, nb);
				nd++;
			}
			d->next[(size_t)i * d->ncls + c] =
				(unsigned short)(j * (int)d->ncls);
		}
	}
	ok = 1;
out:
	free(sets);
	free(a);
	if (!ok) {
		dfa_free(d);
		d = NULL;
	}
	return d;
}

/* 1 when the whole subject matches. */
static int dfa_match(const struct dfa *d, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	unsigned off = d->start * d->ncls;

	while (p < e && off)
		off = d->next[off + d->cls[*p++]];
	return d->accept[off / d->ncls];
}

/* ------------------------------------------------------------------ */
/* Numbers, compared exactly: json_int_t against double without going   */
/* through a rounding conversion, and multipleOf in decimal.            */

static int is_integral(const json_t *v)
{
	double d;

	if (json_is_integer(v))
		return 1;
	if (!json_is_real(v))
		return 0;
	d = json_real_value(v);
	return isfinite(d) && d == trunc(d);
}

static int cmp_int_real(json_int_t i, double d)
{
	double t;
	json_int_t ti;

	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	t = trunc(d);
	ti = (json_int_t)t;
	if (i != ti)
		return i < ti ? -1 : 1;
	if (d > t)
		return -1;
	if (d < t)
		return 1;
	return 0;
}

/* <0, 0, >0 like strcmp; both must be numbers. */
static int num_cmp(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t x = json_integer_value(a), y = json_integer_value(b);

		return x < y ? -1 : x > y;
	}
	if (json_is_real(a) && json_is_real(b)) {
		double x = json_real_value(a), y = json_real_value(b);

		return x < y ? -1 : x > y;
	}
	if (json_is_integer(a))
		return cmp_int_real(json_integer_value(a), json_real_value(b));
	return -cmp_int_real(json_integer_value(b), json_real_value(a));
}

/* A number as m * 10^e with m free of trailing zeros. A double is taken at
 * its shortest round-trip decimal, which is what the document said. */
struct dec {
	uint64_t m;
	int e;
};

static void to_dec(const json_t *v, struct dec *d)
{
	d->m = 0;
	d->e = 0;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		d->m = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
	} else {
		double x = fabs(json_real_value(v));
		char buf[40], *p, *ex;
		int prec;

		for (prec = 1; prec <= 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*e", prec - 1, x);
			if (strtod(buf, NULL) == x)
				break;
		}
		ex = strchr(buf, 'e');
		for (p = buf; p < ex; p++)
			if (isdigit((unsigned char)*p))
				d->m = d->m * 10 + (uint64_t)(*p - '0');
		d->e = atoi(ex + 1) - (prec > 17 ? 16 : prec - 1);
	}
	if (d->m == 0) {
		d->e = 0;
		return;
	}
	while (d->m % 10 == 0) {
		d->m /= 10;
		d->e++;
	}
}

static uint64_t mulmod10(uint64_t r, uint64_t m)
{
#ifdef __SIZEOF_INT128__
	return (uint64_t)(((unsigned __int128)r * 10) % m);
#else
	uint64_t acc = 0;
	int i;

	for (i = 0; i < 10; i++)
		acc = acc >= m - r ? acc - (m - r) : acc + r;
	return acc;
#endif
}

/* Is a an integral multiple of b (b > 0)? */
static int is_multiple(const json_t *a, const json_t *b)
{
	struct dec x, y;
	uint64_t r;
	int k;

	to_dec(a, &x);
	to_dec(b, &y);
	if (x.m == 0)
		return 1;
	if (y.m == 0)
		return 0;
	if (x.e < y.e)
		return 0; /* x.m has no factor 10 left to absorb the difference */
	r = x.m % y.m;
	for (k = x.e - y.e; k > 0 && r; k--)
		r = mulmod10(r, y.m);
	return r == 0;
}

static void num_repr(const json_t *v, char *out, size_t n)
{
	if (json_is_integer(v)) {
		snprintf(out, n, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	} else {
		double x = json_real_value(v);
		int prec;

		for (prec = 1; prec <= 17; prec++) {
			snprintf(out, n, "%.*g", prec, x);
			if (strtod(out, NULL) == x)
				break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* JSON equality where 1 and 1.0 are the same number, and a hash that   */
/* agrees with it (for uniqueItems on large arrays).                    */

/* 1 equal, 0 different, -1 nested too deeply to tell */
static int jeq(const json_t *a, const json_t *b, int depth)
{
	if (depth > MAX_EVAL_DEPTH)
		return -1;
	if (json_is_number(a) && json_is_number(b))
		return num_cmp(a, b) == 0;
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b),
			      json_string_length(a)) == 0;
	case JSON_ARRAY: {
		size_t i, n = json_array_size(a);
		int r;

		if (n != json_array_size(b))
			return 0;
		for (i = 0; i < n; i++)
			if ((r = jeq(json_array_get(a, i), json_array_get(b, i),
				     depth + 1)) != 1)
				return r;
		return 1;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *v, *w;
		int r;

		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, v)
		{
			if (!(w = json_object_get(b, k)))
				return 0;
			if ((r = jeq(v, w, depth + 1)) != 1)
				return r;
		}
		return 1;
	}
	default: return 1; /* true, false, null */
	}
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static uint64_t jhash(const json_t *v, int depth)
{
	if (depth > MAX_EVAL_DEPTH)
		return 0;
	switch (json_typeof(v)) {
	case JSON_INTEGER: return mix((uint64_t)json_integer_value(v) ^ 0x1234);
	case JSON_REAL: {
		double d = json_real_value(v);
		uint64_t bits;

		if (is_integral(v) && d >= -9223372036854775808.0 &&
		    d < 9223372036854775808.0)
			return mix((uint64_t)(json_int_t)d ^ 0x1234);
		memcpy(&bits, &d, sizeof(bits));
		return mix(bits);
	}
	case JSON_STRING:
		return hash_bytes(json_string_value(v), json_string_length(v));
	case JSON_ARRAY: {
		uint64_t h = 0xa11a;
		size_t i;

		for (i = 0; i < json_array_size(v); i++)
			h = mix(h ^ jhash(json_array_get(v, i), depth + 1));
		return h;
	}
	case JSON_OBJECT: {
		uint64_t h = 0x0b1ec7;
		const char *k;
		json_t *x;

		/* order-independent: keys may come in any order */
		json_object_foreach((json_t *)v, k, x) h +=
			mix(hash_bytes(k, strlen(k)) ^ jhash(x, depth + 1));
		return h;
	}
	case JSON_TRUE: return 1;
	case JSON_FALSE: return 2;
	default: return 3;
	}
}

/* ------------------------------------------------------------------ */
/* Formats (RFC 3339, 5321, 1123, 3986, 4291, 6901, ...). Each returns   */
/* NULL when s is valid, else a short reason.                           */

static int digits(const char *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static const char *fmt_date_n(const char *s, size_t n)
{
	int y, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return "expected YYYY-MM-DD";
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 0 || m < 0 || d < 0)
		return "expected YYYY-MM-DD";
	if (m < 1 || m > 12)
		return "month out of range";
	if (d < 1 || d > days_in_month(y, m))
		return "day out of range";
	return NULL;
}

static const char *fmt_time_n(const char *s, size_t n)
{
	int h, mi, sec, oh = 0, om = 0, sign = 0;
	size_t i = 8;

	if (n < 9 || s[2] != ':' || s[5] != ':')
		return "expected HH:MM:SS with an offset";
	h = digits(s, 2);
	mi = digits(s + 3, 2);
	sec = digits(s + 6, 2);
	if (h < 0 || mi < 0 || sec < 0)
		return "expected HH:MM:SS with an offset";
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !isdigit((unsigned char)s[i]))
			return "expected digits after '.'";
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '+' ? 1 : -1;
		if (n - i != 6 || s[i + 3] != ':')
			return "expected an offset like +07:00";
		oh = digits(s + i + 1, 2);
		om = digits(s + i + 4, 2);
		if (oh < 0 || om < 0 || oh > 23 || om > 59)
			return "offset out of range";
		i += 6;
	} else {
		return "missing time zone offset";
	}
	if (i != n)
		return "unexpected characters after the offset";
	if (h > 23 || mi > 59 || sec > 60)
		return "time out of range";
	if (sec == 60) {
		/* a leap second happens at 23:59:60 UTC only */
		int utc =
			((h * 60 + mi - sign * (oh * 60 + om)) % 1440 + 1440) %
			1440;

		if (utc != 23 * 60 + 59)
			return "leap second not at 23:59:60 utc";
	}
	return NULL;
}

static const char *fmt_date(const char *s)
{
	return fmt_date_n(s, strlen(s));
}

static const char *fmt_time(const char *s)
{
	return fmt_time_n(s, strlen(s));
}

static const char *fmt_date_time(const char *s)
{
	size_t n = strlen(s);
	const char *r;

	if (n < 11 || (s[10] != 'T' && s[10] != 't'))
		return "expected YYYY-MM-DDTHH:MM:SS with an offset";
	if ((r = fmt_date_n(s, 10)))
		return r;
	return fmt_time_n(s + 11, n - 11);
}

static const char *fmt_duration(const char *s)
{
	static const char date_units[] = "YMD", time_units[] = "HMS";
	const char *p = s;
	int in_time = 0, last = -1, any = 0;

	if (*p++ != 'P')
		return "expected 'P' first";
	if (!*p)
		return "empty duration";
	while (*p) {
		const char *units;
		const char *u;
		int idx;

		if (*p == 'T') {
			if (in_time)
				return "second 'T'";
			in_time = 1;
			last = -1;
			p++;
			if (!*p)
				return "nothing after 'T'";
			continue;
		}
		if (!isdigit((unsigned char)*p))
			return "expected digits";
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == 'W' && !in_time && !any) {
			p++;
			if (*p)
				return "weeks cannot be combined with other "
				       "units";
			break;
		}
		units = in_time ? time_units : date_units;
		if (!*p || !(u = strchr(units, *p)))
			return "unknown unit";
		idx = (int)(u - units);
		/* units come in order and without gaps (P1Y2D is not valid) */
		if (last >= 0 && idx != last + 1)
			return "units out of order";
		last = idx;
		any = 1;
		p++;
	}
	return NULL;
}

static int is_atext(unsigned char c, int allow_utf8)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) ||
	       (allow_utf8 && c >= 0x80);
}

static const char *fmt_ipv4_n(const char *s, size_t n)
{
	size_t i = 0;
	int parts = 0;

	while (parts < 4) {
		size_t st = i;
		int v = 0;

		while (i < n && isdigit((unsigned char)s[i]) && i - st < 4)
			v = v * 10 + (s[i++] - '0');
		if (i == st || i - st > 3)
			return "expected four numbers 0-255";
		if (s[st] == '0' && i - st > 1)
			return "leading zero";
		if (v > 255)
			return "number over 255";
		parts++;
		if (parts < 4) {
			if (i >= n || s[i] != '.')
				return "expected four numbers separated by '.'";
			i++;
		}
	}
	return i == n ? NULL : "unexpected characters";
}

static const char *fmt_ipv4(const char *s)
{
	return fmt_ipv4_n(s, strlen(s));
}

static const char *fmt_ipv6_n(const char *s, size_t n)
{
	size_t i = 0;
	int groups = 0, gap = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 1;
		i = 2;
		if (i == n)
			return NULL;
	} else if (n >= 1 && s[0] == ':') {
		return "leading single ':'";
	}
	while (i < n) {
		size_t st = i;

		while (i < n && isxdigit((unsigned char)s[i]) && i - st < 5)
			i++;
		if (i < n && s[i] == '.') {
			/* trailing dotted IPv4 takes two groups */
			if (fmt_ipv4_n(s + st, n - st))
				return "invalid embedded ipv4";
			groups += 2;
			i = n;
			break;
		}
		if (i == st || i - st > 4)
			return "expected groups of 1-4 hex digits";
		groups++;
		if (i == n)
			break;
		if (s[i] != ':')
			return "unexpected character";
		i++;
		if (i < n && s[i] == ':') {
			if (gap)
				return "'::' appears twice";
			gap = 1;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return "trailing single ':'";
		}
	}
	if (gap ? groups > 7 : groups != 8)
		return "wrong number of groups";
	return NULL;
}

static const char *fmt_ipv6(const char *s)
{
	return fmt_ipv6_n(s, strlen(s));
}

static const char *hostname_n(const char *s, size_t n, int idn)
{
	size_t i = 0, cps = 0;

	if (n == 0)
		return "empty hostname";
	if (s[n - 1] == '.')
		n--; /* a fully qualified name may end in '.' */
	if (n == 0 || utf8_length(s, n) > 253)
		return "longer than 253 characters";
	while (i <= n) {
		size_t st = i;

		cps = 0;
		while (i < n && s[i] != '.') {
			unsigned char c = (unsigned char)s[i];

			if (!(isalnum(c) || c == '-' || (idn && c >= 0x80)))
				return "invalid character";
			if ((c & 0xC0) != 0x80)
				cps++;
			i++;
		}
		if (i == st)
			return "empty label";
		if (cps > 63)
			return "label longer than 63 characters";
		if (s[st] == '-' || s[i - 1] == '-')
			return "label starts or ends with '-'";
		if (!idn && i - st >= 4 && s[st + 2] == '-' &&
		    s[st + 3] == '-' &&
		    !(tolower((unsigned char)s[st]) == 'x' &&
		      tolower((unsigned char)s[st + 1]) == 'n'))
			return "'--' in the third and fourth position";
		i++;
	}
	return NULL;
}

static const char *fmt_hostname(const char *s)
{
	return hostname_n(s, strlen(s), 0);
}

static const char *fmt_idn_hostname(const char *s)
{
	return hostname_n(s, strlen(s), 1);
}

static const char *email(const char *s, int idn)
{
	const char *at = strrchr(s, '@'), *p;
	size_t dn;

	if (!at || at == s)
		return "expected local-part@domain";
	if (s[0] == '"') {
		/* quoted local part */
		for (p = s + 1; p < at - 1; p++) {
			if (*p == '\\') {
				p++;
				continue;
			}
			if (*p == '"')
				return "unescaped '\"' in quoted local part";
		}
		if (at - s < 2 || at[-1] != '"')
			return "unterminated quoted local part";
	} else {
		for (p = s; p < at; p++) {
			if (*p == '.') {
				if (p == s || p + 1 == at || p[1] == '.')
					return "misplaced '.' in local part";
			} else if (!is_atext((unsigned char)*p, idn)) {
				return "invalid character in local part";
			}
		}
	}
	at++;
	dn = strlen(at);
	if (dn > 2 && at[0] == '[' && at[dn - 1] == ']') {
		if (strncmp(at + 1, "IPv6:", 5) == 0)
			return fmt_ipv6_n(at + 6, dn - 7);
		return fmt_ipv4_n(at + 1, dn - 2);
	}
	return hostname_n(at, dn, idn);
}

static const char *fmt_email(const char *s)
{
	return email(s, 0);
}

static const char *fmt_idn_email(const char *s)
{
	return email(s, 1);
}

static const char *fmt_uuid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };
	int i, j = 0;

	if (strlen(s) != 36)
		return "expected 8-4-4-4-12 hex digits";
	for (i = 0; i < 36; i++) {
		if (j < 4 && i == dash[j]) {
			if (s[i] != '-')
				return "expected 8-4-4-4-12 hex digits";
			j++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return "expected 8-4-4-4-12 hex digits";
		}
	}
	return NULL;
}

static const char *fmt_json_pointer(const char *s)
{
	const char *p;

	if (*s && *s != '/')
		return "must be empty or start with '/'";
	for (p = s; *p; p++)
		if (*p == '~' && p[1] != '0' && p[1] != '1')
			return "'~' must be followed by '0' or '1'";
	return NULL;
}

static const char *fmt_relative_json_pointer(const char *s)
{
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return "must start with a non-negative integer";
	if (*p == '0' && isdigit((unsigned char)p[1]))
		return "leading zero";
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '#' && !p[1])
		return NULL;
	return fmt_json_pointer(p);
}

/* RFC 3986 (iri: RFC 3987, any non-ASCII allowed too). */
static const char *uri_check(const char *s, int need_scheme, int iri)
{
	struct uri u;
	const char *p;

	uri_parse(s, &u);
	if (need_scheme && !u.scheme.has)
		return "missing scheme";
	if (!need_scheme && !u.scheme.has && u.path.n) {
		/* a relative path whose first segment has ':' reads as a scheme */
		const char *colon = memchr(u.path.p, ':', u.path.n);
		const char *slash = memchr(u.path.p, '/', u.path.n);

		if (colon && (!slash || colon < slash))
			return "first path segment contains ':'";
	}
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%') {
			if (!isxdigit((unsigned char)p[1]) ||
			    !isxdigit((unsigned char)p[2]))
				return "invalid percent-encoding";
			p += 2;
			continue;
		}
		if (c >= 0x80) {
			if (!iri)
				return "non-ascii character (use "
				       "percent-encoding)";
			continue;
		}
		if (isalnum(c) || strchr("-._~!$&'()*+,;=:@/?#[]", c))
			continue;
		return "invalid character";
	}
	if (u.frag.has && memchr(u.frag.p, '#', u.frag.n))
		return "more than one '#'";
	if (u.auth.has) {
		const char *a = u.auth.p, *end = u.auth.p + u.auth.n;
		const char *at = memchr(a, '@', u.auth.n);
		const char *h = at ? at + 1 : a;

		if (h < end && *h == '[') {
			const char *close = memchr(h, ']', (size_t)(end - h));

			if (!close)
				return "unterminated ip literal";
			if (fmt_ipv6_n(h + 1, (size_t)(close - h - 1)))
				return "invalid ipv6 literal";
			h = close + 1;
			if (h < end && *h != ':')
				return "unexpected characters after ip literal";
		} else {
			for (p = h; p < end && *p != ':'; p++)
				if (*p == '[' || *p == ']')
					return "invalid character in host";
		}
		if ((p = memchr(h, ':', (size_t)(end - h)))) {
			for (p++; p < end; p++)
				if (!isdigit((unsigned char)*p))
					return "invalid port";
		}
	}
	for (p = u.path.p; p < u.path.p + u.path.n; p++)
		if (*p == '[' || *p == ']')
			return "'[' or ']' outside the host";
	return NULL;
}

static const char *fmt_uri(const char *s)
{
	return uri_check(s, 1, 0);
}

static const char *fmt_uri_reference(const char *s)
{
	return uri_check(s, 0, 0);
}

static const char *fmt_iri(const char *s)
{
	return uri_check(s, 1, 1);
}

static const char *fmt_iri_reference(const char *s)
{
	return uri_check(s, 0, 1);
}

static const char *fmt_uri_template(const char *s)
{
	int open = 0;
	const char *p;

	for (p = s; *p; p++) {
		if (*p == '{') {
			if (open)
				return "nested '{'";
			open = 1;
		} else if (*p == '}') {
			if (!open)
				return "'}' without '{'";
			open = 0;
		}
	}
	return open ? "unterminated '{'" : NULL;
}

static const char *fmt_regex(const char *s)
{
	pcre2_code *re;

	if (regex_compile(s, &re, NULL))
		return "not a valid regular expression";
	pcre2_code_free(re);
	return NULL;
}

struct format {
	const char *name;
	const char *(*check)(const char *s);
};

static const struct format formats[] = {
	{ "date", fmt_date },
	{ "date-time", fmt_date_time },
	{ "time", fmt_time },
	{ "duration", fmt_duration },
	{ "email", fmt_email },
	{ "idn-email", fmt_idn_email },
	{ "hostname", fmt_hostname },
	{ "idn-hostname", fmt_idn_hostname },
	{ "ipv4", fmt_ipv4 },
	{ "ipv6", fmt_ipv6 },
	{ "uri", fmt_uri },
	{ "uri-reference", fmt_uri_reference },
	{ "iri", fmt_iri },
	{ "iri-reference", fmt_iri_reference },
	{ "uri-template", fmt_uri_template },
	{ "uuid", fmt_uuid },
	{ "json-pointer", fmt_json_pointer },
	{ "relative-json-pointer", fmt_relative_json_pointer },
	{ "regex", fmt_regex },
};

/* ------------------------------------------------------------------ */
/* Compiled schemas                                                     */

/* A schema resource (a document or a subschema with $id): the unit of
 * the dynamic scope, with the $dynamicAnchor targets it holds. */
struct dyn_anchor {
	char *name;
	struct node *node;
};

struct resource {
	char *uri;
	struct dyn_anchor *dyn;
	size_t ndyn;
};

struct named {
	char *name;
	struct node *node;
	size_t len; /* strlen(name) */
};

struct pattern_prop {
	char *src;
	pcre2_code *re;
	struct node *node;
};

struct dep_required {
	char *name;
	char **names;
	size_t n;
};

enum node_kind { N_TRUE, N_FALSE, N_OBJECT };

/* A string of the schema (borrowed from enum_ or const_) with its length. */
struct sval {
	const char *s;
	size_t n;
};

struct node {
	/* what a walk reads first, together in one cache line */
	enum node_kind kind;
	unsigned types;
	int ref_only; /* only "$ref": see mark_ref_only() */
	/* which groups of keywords the node has (mark_ref_only()), so that a
	 * walk skips the groups with nothing to check */
	unsigned char has_num, has_str, has_arr, has_obj, has_app;
	unsigned char uneval; /* unevaluatedItems or unevaluatedProperties */
	const struct resource *res;
	struct node *ref;

	/* compile-time identity */
	json_t *js; /* borrowed from its document */
	char *base; /* base URI */
	char *loc;  /* where it was first met, for compile errors */
	unsigned vocab;
	int compiled;

	/* core */
	struct node *dynref; /* static target of $dynamicRef */
	char *dynref_anchor; /* set when the target is dynamic */

	/* applicators */
	struct node **all_of, **any_of, **one_of, **prefix_items;
	size_t n_all_of, n_any_of, n_one_of, n_prefix_items;
	struct node *not_, *if_, *then_, *else_;
	struct node *items, *contains, *additional, *property_names;
	struct named *props; /* sorted by name */
	size_t n_props;
	struct pattern_prop *pprops;
	size_t n_pprops;
	struct named *dep_schemas;
	size_t n_dep_schemas;
	struct node *uneval_items, *uneval_props;

	/* validation */
	json_t *enum_;	/* owned reference */
	json_t *const_; /* owned reference; has_const tells null apart */
	int has_const;
	json_t *multiple_of, *maximum, *ex_maximum, *minimum, *ex_minimum;
	long long max_length, min_length, max_items, min_items, max_contains,
		min_contains, max_props, min_props; /* -1: absent */
	int unique_items;
	pcre2_code *pattern;
	struct dfa *pattern_dfa; /* the same language, when dfa_compile() can */
	char *pattern_src;
	char **required;
	size_t n_required;
	struct dep_required *dep_required;
	size_t n_dep_required;
	const struct format *format;
	int format_assert;
	char *format_name;

	/* prepared by index_node() for the verdict-only walk */
	struct sval *enum_sv; /* enum_ when every member is a string */
	size_t n_enum_sv;
	struct sval const_sv; /* const_ when it is a string (const_is_sv) */
	int const_is_sv;
	/* declared property names by key_hash(): 1 + index into props, 0
	 * empty; set when the object keywords are only properties,
	 * additionalProperties and required, with at most 64 properties */
	unsigned short *ptab;
	size_t ptab_mask;
	uint64_t req_bits;     /* required names among props, by index */
	const char **req_rest; /* required names not among props (borrowed) */
	size_t n_req_rest;
};

struct gw_js_schema {
	struct node **nodes;
	size_t n_nodes, cap_nodes;
	struct resource **res;
	size_t n_res;
	struct node *root;
	/* no $dynamicRef resolves dynamically: the dynamic scope never
	 * matters, and the verdict walk is vfast() */
	int static_refs;
};

static void node_free(struct node *n)
{
	size_t i;

	free(n->base);
	free(n->loc);
	free(n->dynref_anchor);
	free(n->all_of);
	free(n->any_of);
	free(n->one_of);
	free(n->prefix_items);
	for (i = 0; i < n->n_props; i++)
		free(n->props[i].name);
	free(n->props);
	for (i = 0; i < n->n_pprops; i++) {
		free(n->pprops[i].src);
		pcre2_code_free(n->pprops[i].re);
	}
	free(n->pprops);
	for (i = 0; i < n->n_dep_schemas; i++)
		free(n->dep_schemas[i].name);
	free(n->dep_schemas);
	json_decref(n->enum_);
	json_decref(n->const_);
	json_decref(n->multiple_of);
	json_decref(n->maximum);
	json_decref(n->ex_maximum);
	json_decref(n->minimum);
	json_decref(n->ex_minimum);
	pcre2_code_free(n->pattern);
	dfa_free(n->pattern_dfa);
	free(n->pattern_src);
	for (i = 0; i < n->n_required; i++)
		free(n->required[i]);
	free(n->required);
	for (i = 0; i < n->n_dep_required; i++) {
		size_t j;

		free(n->dep_required[i].name);
		for (j = 0; j < n->dep_required[i].n; j++)
			free(n->dep_required[i].names[j]);
		free(n->dep_required[i].names);
	}
	free(n->dep_required);
	free(n->format_name);
	free(n->enum_sv);
	free(n->ptab);
	free(n->req_rest);
	free(n);
}

void gw_js_schema_free(struct gw_js_schema *s)
{
	size_t i, j;

	if (!s)
		return;
	for (i = 0; i < s->n_nodes; i++)
		node_free(s->nodes[i]);
	free(s->nodes);
	for (i = 0; i < s->n_res; i++) {
		for (j = 0; j < s->res[i]->ndyn; j++)
			free(s->res[i]->dyn[j].name);
		free(s->res[i]->dyn);
		free(s->res[i]->uri);
		free(s->res[i]);
	}
	free(s->res);
	free(s);
}

/* Pointer-keyed map from schema JSON to its node, so that every schema is
 * compiled once however many references lead to it (and cycles end). */
struct memo {
	const void **keys;
	struct node **vals;
	size_t cap, n;
};

static size_t ptr_hash(const void *p)
{
	return (size_t)mix((uint64_t)(uintptr_t)p);
}

static struct node *memo_get(const struct memo *m, const void *k)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = ptr_hash(k) & (m->cap - 1); m->keys[i];
	     i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == k)
			return m->vals[i];
	return NULL;
}

static gw_rc memo_put(struct memo *m, const void *k, struct node *v)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct memo g = { 0 };
		size_t cap = m->cap ? m->cap * 2 : 64;

		g.keys = gw_calloc(cap, sizeof(*g.keys));
		g.vals = gw_calloc(cap, sizeof(*g.vals));
		if (!g.keys || !g.vals) {
			free(g.keys);
			free(g.vals);
			return GW_ERR_NOMEM;
		}
		g.cap = cap;
		for (i = 0; i < m->cap; i++)
			if (m->keys[i])
				memo_put(&g, m->keys[i], m->vals[i]);
		free(m->keys);
		free(m->vals);
		*m = g;
	}
	for (i = ptr_hash(k) & (m->cap - 1); m->keys[i];
	     i = (i + 1) & (m->cap - 1))
		;
	m->keys[i] = k;
	m->vals[i] = v;
	m->n++;
	return GW_OK;
}

struct compiler {
	struct gw_js_registry *reg;
	struct index local; /* identifiers of the schema being compiled */
	struct gw_js_schema *s;
	struct memo memo;
	json_t *res_by_uri; /* uri -> index into s->res */
	json_t *dyn_names;  /* names used by dynamic $dynamicRef, as keys */
	size_t next;	    /* first node not compiled yet */
	unsigned flags;
	struct gw_err *err;
};

static gw_rc nomem(struct compiler *cc)
{
	return gw_err_set(cc->err, GW_ERR_NOMEM,
			  "out of memory compiling a schema");
}

static struct resource *get_resource(struct compiler *cc, const char *uri)
{
	json_t *i = json_object_get(cc->res_by_uri, uri);
	struct resource *r, **rs;

	if (i)
		return cc->s->res[json_integer_value(i)];
	if (!(r = gw_calloc(1, sizeof(*r))))
		return NULL;
	if (!(r->uri = gw_strdup(uri)) ||
	    !(rs = gw_realloc(cc->s->res, (cc->s->n_res + 1) * sizeof(*rs)))) {
		free(r->uri);
		free(r);
		return NULL;
	}
	cc->s->res = rs;
	if (json_object_set_new(cc->res_by_uri, uri,
				json_integer((json_int_t)cc->s->n_res))) {
		free(r->uri);
		free(r);
		return NULL;
	}
	rs[cc->s->n_res++] = r;
	return r;
}

/* The base URI of schema js found under base: its own $id applied.
 * Returns a new string or NULL. */
static char *own_base(const char *base, const json_t *js)
{
	json_t *id = json_is_object(js) ? json_object_get(js, "$id") : NULL;

	return uri_resolve(base,
			   json_is_string(id) ? json_string_value(id) : "");
}

/* The node for schema js whose base URI (its own $id applied) is base;
 * new ones are queued for compiling. */
static gw_rc get_node(struct compiler *cc, json_t *js, const char *base,
		      const char *loc, unsigned vocab, struct node **out)
{
	struct node *n;
	struct node **nodes;

	if ((*out = memo_get(&cc->memo, js)))
		return GW_OK;
	if (!json_is_object(js) && !json_is_boolean(js))
		return gw_err_set(cc->err, GW_ERR_SCHEMA_DEF,
				  "invalid schema at '%s': expected an object "
				  "or a boolean",
				  loc);
	if (cc->s->n_nodes == cc->s->cap_nodes) {
		size_t cap = cc->s->cap_nodes ? cc->s->cap_nodes * 2 : 64;

		if (!(nodes = gw_realloc(cc->s->nodes, cap * sizeof(*nodes))))
			return nomem(cc);
		cc->s->nodes = nodes;
		cc->s->cap_nodes = cap;
	}
	if (!(n = gw_calloc(1, sizeof(*n))))
		return nomem(cc);
	n->js = js;
	n->vocab = vocab;
	n->base = gw_strdup(base);
	n->loc = gw_strdup(loc);
	if (!n->base || !n->loc || memo_put(&cc->memo, js, n)) {
		node_free(n);
		return nomem(cc);
	}
	cc->s->nodes[cc->s->n_nodes++] = n;
	*out = n;
	return GW_OK;
}

static char *child_loc(const char *loc, const char *kw, const char *name,
		       long idx)
{
	struct gw_buf b;

	gw_buf_init(&b);
	if (gw_buf_adds(&b, loc) || ptr_push(&b, kw) ||
	    (name && ptr_push(&b, name)) ||
	    (idx >= 0 && ptr_push_index(&b, (size_t)idx))) {
		gw_buf_release(&b);
		return NULL;
	}
	return gw_buf_detach(&b, NULL);
}

static gw_rc sub_node(struct compiler *cc, struct node *parent, json_t *js,
		      const char *kw, const char *name, long idx,
		      struct node **out)
{
	char *loc, *base;
	gw_rc rc;

	if ((*out = memo_get(&cc->memo, js)))
		return GW_OK;
	loc = child_loc(parent->loc, kw, name, idx);
	base = own_base(parent->base, js);
	if (!loc || !base)
		rc = nomem(cc);
	else
		rc = get_node(cc, js, base, loc, parent->vocab, out);
	free(loc);
	free(base);
	return rc;
}

static gw_rc bad(struct compiler *cc, const struct node *n, const char *kw,
		 const char *what)
{
	return gw_err_set(cc->err, GW_ERR_SCHEMA_DEF,
			  "invalid schema at '%s': '%s' %s", n->loc, kw, what);
}

static gw_rc dialect_vocab(struct compiler *cc, const char *uri,
			   unsigned *vocab);

/* Find what an absolute URI (maybe with fragment) points at: the local
 * schema first, then the registry, then a mapped directory. On success
 * *target is the schema and *tbase its base URI (caller frees), and
 * *tvocab its dialect. */
static gw_rc resolve(struct compiler *cc, const char *uri, const char *from,
		     json_t **target, char **tbase, unsigned *tvocab)
{
	const char *hash = strchr(uri, '#');
	char *doc_uri =
		gw_strndup(uri, hash ? (size_t)(hash - uri) : strlen(uri));
	char *frag = NULL, *base = NULL, *tok = NULL;
	json_t *doc, *cur, *sch;
	gw_rc rc = GW_OK;
	enum kw_shape st = KW_SCHEMA;

	*target = NULL;
	*tbase = NULL;
	if (!doc_uri)
		return nomem(cc);
	doc = json_object_get(cc->local.ids, doc_uri);
	if (!doc && !(doc = registry_find(cc->reg, doc_uri, &rc, cc->err)) &&
	    !rc)
		rc = gw_err_set(
			cc->err, GW_ERR_SCHEMA_DEF,
			"cannot resolve reference '%s' (at '%s'): no loaded "
			"schema "
			"has that $id and no directory is mapped for it",
			uri, from);
	if (rc)
		goto out;
	/* the document's own $id wins over the name it was found by; but an
	 * embedded resource found by its $id already has it applied */
	if (!(base = own_base(doc_uri, doc)))
		goto nomem;
	if (json_object_get(cc->local.ids, base) != doc &&
	    (!cc->reg || json_object_get(cc->reg->ix.ids, base) != doc)) {
		free(base);
		if (!(base = gw_strdup(doc_uri)))
			goto nomem;
	}
	*tvocab = V_ALL |
		  ((cc->flags & GW_JS_FORMAT_ASSERT) ? V_FORMAT_ASSERT : 0);
	sch = json_is_object(doc) ? json_object_get(doc, "$schema") : NULL;
	if (json_is_string(sch) &&
	    (rc = dialect_vocab(cc, json_string_value(sch), tvocab)))
		goto out;
	cur = doc;
	if (hash && hash[1] && hash[1] != '/') {
		/* a plain-name fragment: an $anchor or $dynamicAnchor */
		char *key = xasprintf("%s#%s", base, hash + 1);

		if (!key)
			goto nomem;
		cur = json_object_get(cc->local.anchors, key);
		if (!cur && cc->reg)
			cur = json_object_get(cc->reg->ix.anchors, key);
		free(key);
		if (!cur) {
			rc = gw_err_set(cc->err, GW_ERR_SCHEMA_DEF,
					"cannot resolve reference '%s' (at "
					"'%s'): no $anchor "
					"'%s' in '%s'",
					uri, from, hash + 1, doc_uri);
			goto out;
		}
	} else if (hash && hash[1] == '/') {
		const char *p;

		if (!(frag = pct_decode(hash + 1, strlen(hash + 1))))
			goto nomem;
		/* walk the JSON Pointer, following $id changes of base */
		p = frag;
		while (*p == '/') {
			const char *e = strchr(p + 1, '/');
			size_t len = e ? (size_t)(e - p - 1) : strlen(p + 1);
			char *w;
			size_t i;
			json_t *next = NULL;
			enum kw_shape nst;

			free(tok);
			if (!(tok = gw_malloc(len + 1)))
				goto nomem;
			for (i = 0, w = tok; i < len; i++) {
				if (p[1 + i] == '~' && i + 1 < len &&
				    p[2 + i] == '0') {
					*w++ = '~';
					i++;
				} else if (p[1 + i] == '~' && i + 1 < len &&
					   p[2 + i] == '1') {
					*w++ = '/';
					i++;
				} else {
					*w++ = p[1 + i];
				}
			}
			*w = '\0';
			if (json_is_object(cur)) {
				next = json_object_get(cur, tok);
			} else if (json_is_array(cur)) {
				char *end;
				unsigned long ix = strtoul(tok, &end, 10);

				if (*tok && !*end && (tok[0] != '0' || !tok[1]))
					next = json_array_get(cur, ix);
			}
			if (!next) {
				rc = gw_err_set(cc->err, GW_ERR_SCHEMA_DEF,
						"cannot resolve reference '%s' "
						"(at '%s'): "
						"'%s' has no '%s'",
						uri, from, doc_uri, tok);
				goto out;
			}
			if (st == KW_SCHEMA)
				nst = json_is_object(cur) ? kw_shape(tok)
							  : KW_OTHER;
			else if (st == KW_ARRAY || st == KW_MAP)
				nst = KW_SCHEMA;
			else
				nst = KW_OTHER;
			if (nst == KW_SCHEMA && json_is_object(next)) {
				json_t *id = json_object_get(next, "$id");

				if (json_is_string(id)) {
					char *nb = uri_resolve(
						base, json_string_value(id));

					if (!nb)
						goto nomem;
					free(base);
					base = nb;
					sch = json_object_get(next, "$schema");
					if (json_is_string(sch) &&
					    (rc = dialect_vocab(
						     cc, json_string_value(sch),
						     tvocab)))
						goto out;
				}
			}
			cur = next;
			st = nst;
			p += 1 + len;
		}
	}
	*target = cur;
	*tbase = base;
	base = NULL;
	goto out;
nomem:
	rc = nomem(cc);
out:
	free(doc_uri);
	free(frag);
	free(base);
	free(tok);
	return rc;
}

/* The vocabularies a dialect (a $schema URI) enables. */
static gw_rc dialect_vocab(struct compiler *cc, const char *uri,
			   unsigned *vocab)
{
	static const struct {
		const char *name;
		unsigned bit;
	} known[] = {
		{ "core", 0 },
		{ "applicator", V_APPLICATOR },
		{ "unevaluated", V_UNEVALUATED },
		{ "validation", V_VALIDATION },
		{ "meta-data", 0 },
		{ "format-annotation", 0 },
		{ "format-assertion", V_FORMAT_ASSERT },
		{ "content", 0 },
	};
	unsigned fa = (cc->flags & GW_JS_FORMAT_ASSERT) ? V_FORMAT_ASSERT : 0;
	char *u = uri_resolve(NULL, uri);
	json_t *meta, *voc, *v;
	const char *k;
	gw_rc rc = GW_OK;

	if (!u)
		return nomem(cc);
	if (strcmp(u, STD_DIALECT) == 0) {
		*vocab = V_ALL | fa;
		goto out;
	}
	if (strcmp(u, DRAFT2019_DIALECT) == 0 ||
	    strcmp(u, DRAFT2019_DIALECT "#") == 0) {
		*vocab = V_ALL | fa | V_DRAFT2019;
		goto out;
	}
	if (strstr(u, "json-schema.org/draft-0") ||
	    strstr(u, "json-schema.org/schema") ||
	    strstr(u, "json-schema.org/draft/2019-09")) {
		rc = gw_err_set(
			cc->err, GW_ERR_SCHEMA_DEF,
			"unsupported dialect '%s': only draft 2020-12 (%s) "
			"and the keywords draft 2019-09 shares with it are "
			"supported",
			uri, STD_DIALECT);
		goto out;
	}
	meta = json_object_get(cc->local.ids, u);
	if (!meta && !(meta = registry_find(cc->reg, u, &rc, cc->err))) {
		if (!rc)
			rc = gw_err_set(
				cc->err, GW_ERR_SCHEMA_DEF,
				"cannot resolve meta-schema '%s': no loaded "
				"schema has "
				"that $id and no directory is mapped for it",
				uri);
		goto out;
	}
	voc = json_is_object(meta) ? json_object_get(meta, "$vocabulary")
				   : NULL;
	if (!json_is_object(voc)) {
		*vocab = V_ALL | fa;
		goto out;
	}
	*vocab = fa;
	json_object_foreach(voc, k, v)
	{
		size_t i;
		int found = 0;

		if (strncmp(k, VOCAB_PREFIX, strlen(VOCAB_PREFIX)) == 0)
			for (i = 0; i < GW_ARRAY_LEN(known); i++)
				if (strcmp(k + strlen(VOCAB_PREFIX),
					   known[i].name) == 0) {
					*vocab |= known[i].bit;
					found = 1;
				}
		if (!found && json_is_true(v)) {
			rc = gw_err_set(cc->err, GW_ERR_SCHEMA_DEF,
					"meta-schema '%s' requires vocabulary "
					"'%s', which is "
					"not supported",
					uri, k);
			goto out;
		}
	}
out:
	free(u);
	return rc;
}

static gw_rc ref_target(struct compiler *cc, struct node *n, const char *kw,
			struct node **out, json_t **tjs)
{
	json_t *v = json_object_get(n->js, kw);
	char *uri = NULL, *tbase = NULL, *loc = NULL;
	json_t *target;
	unsigned tvocab = n->vocab;
	gw_rc rc;

	if (!json_is_string(v))
		return bad(cc, n, kw, "must be a string");
	if (!(uri = uri_resolve(n->base, json_string_value(v))) ||
	    !(loc = child_loc(n->loc, kw, NULL, -1))) {
		rc = nomem(cc);
		goto out;
	}
	if ((rc = resolve(cc, uri, loc, &target, &tbase, &tvocab)))
		goto out;
	*tjs = target;
	free(loc);
	if (!(loc = xasprintf("%s", uri))) {
		rc = nomem(cc);
		goto out;
	}
	rc = get_node(cc, target, tbase, loc, tvocab, out);
out:
	free(uri);
	free(tbase);
	free(loc);
	return rc;
}

static gw_rc get_count(struct compiler *cc, struct node *n, const char *kw,
		       long long *out)
{
	json_t *v = json_object_get(n->js, kw);

	*out = -1;
	if (!v)
		return GW_OK;
	if (!is_integral(v) ||
	    (json_is_integer(v) && json_integer_value(v) < 0) ||
	    (json_is_real(v) && json_real_value(v) < 0))
		return bad(cc, n, kw, "must be a non-negative integer");
	if (json_is_real(v))
		*out = json_real_value(v) > 9e18
			       ? LLONG_MAX
			       : (long long)json_real_value(v);
	else
		*out = (long long)json_integer_value(v);
	return GW_OK;
}

static gw_rc get_number(struct compiler *cc, struct node *n, const char *kw,
			json_t **out)
{
	json_t *v = json_object_get(n->js, kw);

	if (!v)
		return GW_OK;
	if (!json_is_number(v))
		return bad(cc, n, kw, "must be a number");
	*out = json_incref(v);
	return GW_OK;
}

static gw_rc get_schema_array(struct compiler *cc, struct node *n,
			      const char *kw, struct node ***out, size_t *count)
{
	json_t *v = json_object_get(n->js, kw), *e;
	size_t i;
	gw_rc rc;

	if (!v)
		return GW_OK;
	if (!json_is_array(v) || json_array_size(v) == 0)
		return bad(cc, n, kw, "must be a non-empty array of schemas");
	if (!(*out = gw_calloc(json_array_size(v), sizeof(**out))))
		return nomem(cc);
	*count = json_array_size(v);
	json_array_foreach(v, i, e)
	{
		if ((rc = sub_node(cc, n, e, kw, NULL, (long)i, &(*out)[i])))
			return rc;
	}
	return GW_OK;
}

static gw_rc get_schema(struct compiler *cc, struct node *n, const char *kw,
			struct node **out)
{
	json_t *v = json_object_get(n->js, kw);

	if (!v)
		return GW_OK;
	return sub_node(cc, n, v, kw, NULL, -1, out);
}

static int named_cmp(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name,
		      ((const struct named *)b)->name);
}

static gw_rc get_schema_map(struct compiler *cc, struct node *n, const char *kw,
			    struct named **out, size_t *count)
{
	json_t *v = json_object_get(n->js, kw), *e;
	const char *k;
	size_t i = 0;
	gw_rc rc;

	if (!v)
		return GW_OK;
	if (!json_is_object(v))
		return bad(cc, n, kw, "must be an object of schemas");
	if (!(*out = gw_calloc(json_object_size(v), sizeof(**out))))
		return nomem(cc);
	json_object_foreach(v, k, e)
	{
		if (!((*out)[i].name = gw_strdup(k)))
			return nomem(cc);
		(*out)[i].len = strlen(k);
		*count = ++i;
		if ((rc = sub_node(cc, n, e, kw, k, -1, &(*out)[i - 1].node)))
			return rc;
	}
	qsort(*out, *count, sizeof(**out), named_cmp);
	return GW_OK;
}

static gw_rc get_strings(struct compiler *cc, struct node *n, const char *kw,
			 json_t *v, char ***out, size_t *count)
{
	json_t *e;
	size_t i, j;

	if (!json_is_array(v))
		return bad(cc, n, kw, "must be an array of strings");
	if (!(*out = gw_calloc(json_array_size(v), sizeof(**out))))
		return nomem(cc);
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			return bad(cc, n, kw, "must be an array of strings");
		for (j = 0; j < i; j++)
			if (strcmp((*out)[j], json_string_value(e)) == 0)
				return bad(cc, n, kw, "must not repeat a name");
		if (!((*out)[i] = gw_strdup(json_string_value(e))))
			return nomem(cc);
		*count = i + 1;
	}
	return GW_OK;
}

static gw_rc compile_types(struct compiler *cc, struct node *n, json_t *v)
{
	json_t *e;
	size_t i, k, count;

	if (!json_is_string(v) &&
	    (!json_is_array(v) || json_array_size(v) == 0))
		return bad(cc, n, "type",
			   "must be a type name or a non-empty array of them");
	count = json_is_string(v) ? 1 : json_array_size(v);
	for (i = 0; i < count; i++) {
		e = json_is_string(v) ? v : json_array_get(v, i);
		if (!json_is_string(e))
			return bad(cc, n, "type", "must hold type names");
		for (k = 0; k < GW_ARRAY_LEN(type_names); k++)
			if (strcmp(json_string_value(e), type_names[k]) == 0)
				break;
		if (k == GW_ARRAY_LEN(type_names))
			return bad(cc, n, "type",
				   "holds an unknown type (expected null, "
				   "boolean, "
				   "object, array, number, string or integer)");
		if (n->types & (1u << k))
			return bad(cc, n, "type", "must not repeat a type");
		n->types |= 1u << k;
	}
	return GW_OK;
}

static gw_rc compile_node(struct compiler *cc, struct node *n)
{
	json_t *js = n->js, *v;
	gw_rc rc;

	n->compiled = 1;
	if (!(n->res = get_resource(cc, n->base)))
		return nomem(cc);
	if (json_is_boolean(js)) {
		n->kind = json_is_true(js) ? N_TRUE : N_FALSE;
		return GW_OK;
	}
	n->kind = N_OBJECT;
	n->max_length = n->min_length = n->max_items = n->min_items = -1;
	n->max_contains = n->min_contains = n->max_props = n->min_props = -1;

	v = json_object_get(js, "$schema");
	if (v) {
		if (!json_is_string(v))
			return bad(cc, n, "$schema", "must be a uri string");
		if ((rc = dialect_vocab(cc, json_string_value(v), &n->vocab)))
			return rc;
	}
	if (n->vocab & V_DRAFT2019) {
		/* 2019-09 keywords whose meaning 2020-12 changed or dropped */
		static const char *const changed[] = { "$recursiveRef",
						       "$recursiveAnchor",
						       "additionalItems",
						       "dependencies" };
		size_t i;

		for (i = 0; i < GW_ARRAY_LEN(changed); i++)
			if (json_object_get(js, changed[i]))
				return bad(cc, n, changed[i],
					   "is a draft 2019-09 keyword this "
					   "validator does not support");
		if (json_is_array(json_object_get(js, "items")))
			return bad(cc, n, "items",
				   "in draft 2019-09 form (an array) is not "
				   "supported");
	}
	if ((v = json_object_get(js, "$ref")) &&
	    (rc = ref_target(cc, n, "$ref", &n->ref, &v)))
		return rc;
	if (json_object_get(js, "$dynamicRef")) {
		json_t *target = NULL;
		const char *r, *h;

		if ((rc = ref_target(cc, n, "$dynamicRef", &n->dynref,
				     &target)))
			return rc;
		r = json_string_value(json_object_get(js, "$dynamicRef"));
		h = strchr(r, '#');
		/* dynamic only when the static target has the matching
		 * $dynamicAnchor (the "bookend") */
		if (h && h[1] && h[1] != '/' && json_is_object(target)) {
			json_t *da = json_object_get(target, "$dynamicAnchor");

			if (json_is_string(da) &&
			    strcmp(json_string_value(da), h + 1) == 0) {
				if (!(n->dynref_anchor = gw_strdup(h + 1)) ||
				    json_object_set_new(cc->dyn_names, h + 1,
							json_true()))
					return nomem(cc);
			}
		}
	}
	if (n->vocab & V_APPLICATOR) {
		if ((rc = get_schema_array(cc, n, "allOf", &n->all_of,
					   &n->n_all_of)) ||
		    (rc = get_schema_array(cc, n, "anyOf", &n->any_of,
					   &n->n_any_of)) ||
		    (rc = get_schema_array(cc, n, "oneOf", &n->one_of,
					   &n->n_one_of)) ||
		    (rc = get_schema_array(cc, n, "prefixItems",
					   &n->prefix_items,
					   &n->n_prefix_items)) ||
		    (rc = get_schema(cc, n, "not", &n->not_)) ||
		    (rc = get_schema(cc, n, "if", &n->if_)) ||
		    (rc = get_schema(cc, n, "then", &n->then_)) ||
		    (rc = get_schema(cc, n, "else", &n->else_)) ||
		    (rc = get_schema(cc, n, "items", &n->items)) ||
		    (rc = get_schema(cc, n, "contains", &n->contains)) ||
		    (rc = get_schema(cc, n, "additionalProperties",
				     &n->additional)) ||
		    (rc = get_schema(cc, n, "propertyNames",
				     &n->property_names)) ||
		    (rc = get_schema_map(cc, n, "properties", &n->props,
					 &n->n_props)) ||
		    (rc = get_schema_map(cc, n, "dependentSchemas",
					 &n->dep_schemas, &n->n_dep_schemas)))
			return rc;
		if ((v = json_object_get(js, "patternProperties"))) {
			const char *k;
			json_t *e;
			size_t i = 0;

			if (!json_is_object(v))
				return bad(cc, n, "patternProperties",
					   "must be an object of schemas");
			if (!(n->pprops = gw_calloc(json_object_size(v),
						    sizeof(*n->pprops))))
				return nomem(cc);
			json_object_foreach(v, k, e)
			{
				struct pattern_prop *pp = &n->pprops[i];

				n->n_pprops = ++i;
				if (!(pp->src = gw_strdup(k)))
					return nomem(cc);
				if ((rc = regex_compile(k, &pp->re, cc->err))) {
					char msg[GW_ERR_MSG_MAX];

					snprintf(msg, sizeof(msg), "%s",
						 cc->err ? cc->err->msg : "");
					return gw_err_set(
						cc->err, rc,
						"invalid schema at '%s': %s",
						n->loc, msg);
				}
				if ((rc = sub_node(cc, n, e,
						   "patternProperties", k, -1,
						   &pp->node)))
					return rc;
			}
		}
	}
	/* $defs are not applied, but their $dynamicAnchors and references
	 * from other documents reach them through get_node when needed */
	if (n->vocab & V_UNEVALUATED) {
		if ((rc = get_schema(cc, n, "unevaluatedItems",
				     &n->uneval_items)) ||
		    (rc = get_schema(cc, n, "unevaluatedProperties",
				     &n->uneval_props)))
			return rc;
	}
	if (n->vocab & V_VALIDATION) {
		if ((v = json_object_get(js, "type")) &&
		    (rc = compile_types(cc, n, v)))
			return rc;
		if ((v = json_object_get(js, "enum"))) {
			if (!json_is_array(v))
				return bad(cc, n, "enum", "must be an array");
			n->enum_ = json_incref(v);
		}
		if ((v = json_object_get(js, "const"))) {
			n->const_ = json_incref(v);
			n->has_const = 1;
		}
		if ((rc = get_number(cc, n, "multipleOf", &n->multiple_of)) ||
		    (rc = get_number(cc, n, "maximum", &n->maximum)) ||
		    (rc = get_number(cc, n, "exclusiveMaximum",
				     &n->ex_maximum)) ||
		    (rc = get_number(cc, n, "minimum", &n->minimum)) ||
		    (rc = get_number(cc, n, "exclusiveMinimum",
				     &n->ex_minimum)))
			return rc;
		if (n->multiple_of &&
		    (json_is_integer(n->multiple_of)
			     ? json_integer_value(n->multiple_of) <= 0
			     : !(json_real_value(n->multiple_of) > 0)))
			return bad(cc, n, "multipleOf",
				   "must be greater than 0");
		if ((rc = get_count(cc, n, "maxLength", &n->max_length)) ||
		    (rc = get_count(cc, n, "minLength", &n->min_length)) ||
		    (rc = get_count(cc, n, "maxItems", &n->max_items)) ||
		    (rc = get_count(cc, n, "minItems", &n->min_items)) ||
		    (rc = get_count(cc, n, "maxContains", &n->max_contains)) ||
		    (rc = get_count(cc, n, "minContains", &n->min_contains)) ||
		    (rc = get_count(cc, n, "maxProperties", &n->max_props)) ||
		    (rc = get_count(cc, n, "minProperties", &n->min_props)))
			return rc;
		if ((v = json_object_get(js, "uniqueItems"))) {
			if (!json_is_boolean(v))
				return bad(cc, n, "uniqueItems",
					   "must be a boolean");
			n->unique_items = json_is_true(v);
		}
		if ((v = json_object_get(js, "pattern"))) {
			if (!json_is_string(v))
				return bad(cc, n, "pattern",
					   "must be a string");
			if (!(n->pattern_src = gw_strdup(json_string_value(v))))
				return nomem(cc);
			if ((rc = regex_compile(n->pattern_src, &n->pattern,
						cc->err))) {
				char msg[GW_ERR_MSG_MAX];

				snprintf(msg, sizeof(msg), "%s",
					 cc->err ? cc->err->msg : "");
				return gw_err_set(cc->err, rc,
						  "invalid schema at '%s': %s",
						  n->loc, msg);
			}
			n->pattern_dfa = dfa_compile(n->pattern_src);
		}
		if ((v = json_object_get(js, "required")) &&
		    (rc = get_strings(cc, n, "required", v, &n->required,
				      &n->n_required)))
			return rc;
		if ((v = json_object_get(js, "dependentRequired"))) {
			const char *k;
			json_t *e;
			size_t i = 0;

			if (!json_is_object(v))
				return bad(
					cc, n, "dependentRequired",
					"must be an object of string arrays");
			if (!(n->dep_required =
				      gw_calloc(json_object_size(v),
						sizeof(*n->dep_required))))
				return nomem(cc);
			json_object_foreach(v, k, e)
			{
				struct dep_required *d = &n->dep_required[i];

				n->n_dep_required = ++i;
				if (!(d->name = gw_strdup(k)))
					return nomem(cc);
				if ((rc = get_strings(cc, n,
						      "dependentRequired", e,
						      &d->names, &d->n)))
					return rc;
			}
		}
	}
	if ((v = json_object_get(js, "format"))) {
		size_t i;

		if (!json_is_string(v))
			return bad(cc, n, "format", "must be a string");
		if (!(n->format_name = gw_strdup(json_string_value(v))))
			return nomem(cc);
		for (i = 0; i < GW_ARRAY_LEN(formats); i++)
			if (strcmp(formats[i].name, n->format_name) == 0)
				n->format = &formats[i];
		n->format_assert = (n->vocab & V_FORMAT_ASSERT) != 0;
	}
	return GW_OK;
}

/* Compile queued nodes until none is left, then give every resource the
 * $dynamicAnchor targets some $dynamicRef may look for; those may bring
 * new nodes and resources, so repeat until nothing changes. */
static gw_rc compile_all(struct compiler *cc)
{
	size_t done_res = 0, names_seen = 0;
	gw_rc rc;

	for (;;) {
		size_t nres, i;

		while (cc->next < cc->s->n_nodes)
			if ((rc = compile_node(cc, cc->s->nodes[cc->next++])))
				return rc;
		nres = cc->s->n_res;
		if (done_res == nres &&
		    names_seen == json_object_size(cc->dyn_names))
			return GW_OK;
		names_seen = json_object_size(cc->dyn_names);
		for (i = 0; i < nres; i++) {
			struct resource *r = cc->s->res[i];
			const char *name;
			json_t *dummy;

			json_object_foreach(cc->dyn_names, name, dummy)
			{
				char *key = xasprintf("%s#%s", r->uri, name);
				json_t *t;
				size_t j;
				struct dyn_anchor *d;
				struct node *node;

				if (!key)
					return nomem(cc);
				t = json_object_get(cc->local.dyn, key);
				if (!t && cc->reg)
					t = json_object_get(cc->reg->ix.dyn,
							    key);
				for (j = 0; j < r->ndyn; j++)
					if (strcmp(r->dyn[j].name, name) == 0)
						break;
				if (!t || j < r->ndyn) {
					free(key);
					continue;
				}
				rc = get_node(cc, t, r->uri, key,
					      cc->s->root->vocab, &node);
				free(key);
				if (rc)
					return rc;
				if (!(d = gw_realloc(r->dyn, (r->ndyn +
							      1) * sizeof(*d))))
					return nomem(cc);
				r->dyn = d;
				if (!(d[r->ndyn].name = gw_strdup(name)))
					return nomem(cc);
				d[r->ndyn++].node = node;
			}
		}
		done_res = nres;
	}
}

/* A node that only says "$ref" (nothing else to check): a verdict-only
 * walk may go straight to its target when the resource does not change. */
static void mark_ref_only(struct gw_js_schema *s)
{
	size_t i;

	for (i = 0; i < s->n_nodes; i++) {
		struct node *n = s->nodes[i];

		n->ref_only =
			n->kind == N_OBJECT && n->ref && !n->dynref &&
			!n->n_all_of && !n->n_any_of && !n->n_one_of &&
			!n->n_prefix_items && !n->not_ && !n->if_ &&
			!n->then_ && !n->else_ && !n->items && !n->contains &&
			!n->additional && !n->property_names && !n->n_props &&
			!n->n_pprops && !n->n_dep_schemas && !n->uneval_items &&
			!n->uneval_props && !n->types && !n->enum_ &&
			!n->has_const && !n->multiple_of && !n->maximum &&
			!n->ex_maximum && !n->minimum && !n->ex_minimum &&
			n->max_length < 0 && n->min_length < 0 &&
			n->max_items < 0 && n->min_items < 0 &&
			n->max_contains < 0 && n->min_contains < 0 &&
			n->max_props < 0 && n->min_props < 0 &&
			!n->unique_items && !n->pattern && !n->n_required &&
			!n->n_dep_required && !(n->format && n->format_assert);
		n->has_num = n->multiple_of || n->maximum || n->ex_maximum ||
			     n->minimum || n->ex_minimum;
		n->has_str = n->max_length >= 0 || n->min_length >= 0 ||
			     n->pattern || (n->format && n->format_assert);
		n->has_arr = n->max_items >= 0 || n->min_items >= 0 ||
			     n->unique_items || n->n_prefix_items || n->items ||
			     n->contains || n->max_contains >= 0 ||
			     n->min_contains >= 0;
		n->has_obj = n->max_props >= 0 || n->min_props >= 0 ||
			     n->n_required || n->n_dep_required ||
			     n->n_dep_schemas || n->n_props || n->n_pprops ||
			     n->additional || n->property_names;
		n->has_app = n->n_all_of || n->n_any_of || n->n_one_of ||
			     n->not_ || n->if_;
		n->uneval = n->uneval_items || n->uneval_props;
	}
	s->static_refs = 1;
	for (i = 0; i < s->n_nodes; i++)
		if (s->nodes[i]->dynref_anchor)
			s->static_refs = 0;
}

/* Hash of a property name for a node's ptab: the length and three bytes,
 * enough to tell apart the few names one schema object declares (a
 * collision only costs a probe), and much cheaper than hashing every byte
 * as jansson's own lookup does. */
static inline size_t key_hash(const char *k, size_t n)
{
	size_t h = n * 0x9E3779B1u;

	if (n)
		h ^= (unsigned char)k[0] * 0x85EBCA77u ^
		     (unsigned char)k[n - 1] * 0xC2B2AE3Du ^
		     (unsigned char)k[n / 2] * 0x27D4EB2Fu;
	return h ^ (h >> 15);
}

/* memcmp(a, b, n) == 0 for the short strings of property names and enums,
 * without a call. */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	uint32_t u, v;
	size_t i;

	if (n >= 8) {
		/* 8 bytes at a time, the last 8 overlapping */
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return 0;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if (u != v)
			return 0;
		memcpy(&u, a + n - 4, 4);
		memcpy(&v, b + n - 4, 4);
		return u == v;
	}
	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* Index of the declared property named key (klen bytes), or -1. */
static inline long ptab_find(const struct node *n, const char *key, size_t klen)
{
	size_t h = key_hash(key, klen) & n->ptab_mask;
	unsigned short j;

	while ((j = n->ptab[h])) {
		const struct named *p = &n->props[j - 1];

		if (p->len == klen && same_bytes(p->name, key, klen))
			return (long)j - 1;
		h = (h + 1) & n->ptab_mask;
	}
	return -1;
}

/* What the verdict-only walk uses instead of the generic keyword code:
 * string enums and consts as (pointer, length) pairs, and for objects
 * whose keywords are only properties, additionalProperties and required,
 * a table of the declared names and the required ones as a bit set, so
 * that one pass over the instance's keys decides them all. */
static gw_rc index_node(struct node *n)
{
	size_t i, size;

	if (n->kind != N_OBJECT)
		return GW_OK;
	if (n->has_const && json_is_string(n->const_)) {
		n->const_sv.s = json_string_value(n->const_);
		n->const_sv.n = json_string_length(n->const_);
		n->const_is_sv = 1;
	}
	if (n->enum_ && json_array_size(n->enum_)) {
		json_t *e;

		json_array_foreach(n->enum_, i,
				   e) if (!json_is_string(e)) break;
		if (i == json_array_size(n->enum_)) {
			if (!(n->enum_sv = gw_calloc(i, sizeof(*n->enum_sv))))
				return GW_ERR_NOMEM;
			json_array_foreach(n->enum_, i, e)
			{
				n->enum_sv[i].s = json_string_value(e);
				n->enum_sv[i].n = json_string_length(e);
			}
			n->n_enum_sv = json_array_size(n->enum_);
		}
	}
	if (n->n_props > 64 || n->n_pprops || n->property_names ||
	    n->n_dep_schemas || n->n_dep_required ||
	    (!n->n_props && !n->additional))
		return GW_OK;
	for (size = 4; size < 4 * n->n_props; size *= 2)
		;
	if (!(n->ptab = gw_calloc(size, sizeof(*n->ptab))))
		return GW_ERR_NOMEM;
	n->ptab_mask = size - 1;
	for (i = 0; i < n->n_props; i++) {
		size_t h = key_hash(n->props[i].name, n->props[i].len) &
			   n->ptab_mask;

		while (n->ptab[h])
			h = (h + 1) & n->ptab_mask;
		n->ptab[h] = (unsigned short)(i + 1);
	}
	if (n->n_required &&
	    !(n->req_rest = gw_calloc(n->n_required, sizeof(*n->req_rest))))
		return GW_ERR_NOMEM;
	for (i = 0; i < n->n_required; i++) {
		long j = ptab_find(n, n->required[i], strlen(n->required[i]));

		if (j >= 0)
			n->req_bits |= (uint64_t)1 << j;
		else
			n->req_rest[n->n_req_rest++] = n->required[i];
	}
	return GW_OK;
}

gw_rc gw_js_compile(struct gw_js_registry *reg, json_t *schema,
		    const char *base_uri, unsigned flags,
		    struct gw_js_schema **out, struct gw_err *err)
{
	struct compiler cc;
	char *base = NULL;
	unsigned vocab =
		V_ALL | ((flags & GW_JS_FORMAT_ASSERT) ? V_FORMAT_ASSERT : 0);
	json_t *sch;
	gw_rc rc;

	if (!out || !schema)
		return gw_err_set(err, GW_ERR_USAGE,
				  "cannot compile: no schema given");
	*out = NULL;
	memset(&cc, 0, sizeof(cc));
	cc.reg = reg;
	cc.flags = flags;
	cc.err = err;
	if (index_init(&cc.local) || !(cc.res_by_uri = json_object()) ||
	    !(cc.dyn_names = json_object()) ||
	    !(cc.s = gw_calloc(1, sizeof(*cc.s))) ||
	    !(base = uri_resolve(NULL, base_uri ? base_uri : DEFAULT_BASE))) {
		rc = nomem(&cc);
		goto out;
	}
	if (!json_is_object(schema) && !json_is_boolean(schema)) {
		rc = gw_err_set(
			err, GW_ERR_SCHEMA_DEF,
			"invalid schema: expected an object or a boolean");
		goto out;
	}
	if ((rc = scan(&cc.local, schema, base, 0, err)))
		goto out;
	{
		char *own = own_base(base, schema);

		if (!own) {
			rc = nomem(&cc);
			goto out;
		}
		free(base);
		base = own;
	}
	/* the root is known by its base too (for "$ref": "#..." without $id) */
	if (!json_object_get(cc.local.ids, base) &&
	    (rc = index_put(cc.local.ids, base, schema, "$id", err)))
		goto out;
	sch = json_is_object(schema) ? json_object_get(schema, "$schema")
				     : NULL;
	if (json_is_string(sch) &&
	    (rc = dialect_vocab(&cc, json_string_value(sch), &vocab)))
		goto out;
	if ((rc = get_node(&cc, schema, base, "#", vocab, &cc.s->root)))
		goto out;
	if ((rc = compile_all(&cc)))
		goto out;
	mark_ref_only(cc.s);
	for (size_t i = 0; i < cc.s->n_nodes; i++)
		if (index_node(cc.s->nodes[i])) {
			rc = nomem(&cc);
			goto out;
		}
out:
	if (rc) {
		gw_js_schema_free(cc.s);
	} else {
		*out = cc.s;
	}
	free(base);
	free(cc.memo.keys);
	free(cc.memo.vals);
	index_release(&cc.local);
	json_decref(cc.res_by_uri);
	json_decref(cc.dyn_names);
	return rc;
}

gw_rc gw_js_compile_file(struct gw_js_registry *reg, const char *path,
			 unsigned flags, struct gw_js_schema **out,
			 struct gw_err *err)
{
	json_t *doc;
	char *abs = NULL, *uri = NULL;
	gw_rc rc;

	if ((rc = load_json_file(path, &doc, err)))
		return rc;
	/* relative references of a schema without $id resolve against the
	 * file's own URI; they still only reach registered documents */
	if ((abs = realpath(path, NULL)))
		uri = xasprintf("file://%s", abs);
	rc = gw_js_compile(reg, doc, uri, flags, out, err);
	free(abs);
	free(uri);
	json_decref(doc);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Validation                                                           */

/* The dynamic scope: the schema resources evaluation has entered, as a
 * list through the validating thread's stack frames. */
struct scope {
	const struct resource *res;
	const struct scope *up;
};

/* Which items or properties (by position) some keyword evaluated, for
 * unevaluatedItems / unevaluatedProperties. */
struct eval {
	unsigned char *seen;
	size_t n;
};

enum { F_NONE, F_DEEP, F_NOMEM };

struct vctx {
	struct gw_js_errors *errs; /* NULL: stop at the first failure */
	size_t cap;
	struct gw_buf ip, kp; /* instance and keyword locations */
	const struct scope *scope;
	int depth;
	uintptr_t stack_base;
	int fatal;
	char *fatal_ip, *fatal_kp;
	pcre2_match_data *md;
	int fast; /* verdict only and the schema's refs are static: vfast() */
};

#define FAIL_FAST(c) (!(c)->errs)

static void set_fatal(struct vctx *c, int why)
{
	if (c->fatal)
		return;
	c->fatal = why;
	if (c->errs) {
		c->fatal_ip = gw_strdup(c->ip.data ? c->ip.data : "");
		c->fatal_kp = gw_strdup(c->kp.data ? c->kp.data : "");
	}
}

static void add_error(struct vctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_error(struct vctx *c, const char *fmt, ...)
{
	struct gw_js_error *e;
	char msg[512];
	va_list ap;

	if (!c->errs || c->fatal || c->errs->count >= MAX_ERRORS)
		return;
	if (c->errs->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;

		if (!(e = gw_realloc(c->errs->items, cap * sizeof(*e)))) {
			set_fatal(c, F_NOMEM);
			return;
		}
		c->errs->items = e;
		c->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = &c->errs->items[c->errs->count];
	e->instance_location = gw_strdup(c->ip.data ? c->ip.data : "");
	e->keyword_location = gw_strdup(c->kp.data ? c->kp.data : "");
	e->message = gw_strdup(msg);
	c->errs->count++;
	if (!e->instance_location || !e->keyword_location || !e->message)
		set_fatal(c, F_NOMEM);
}

static size_t errs_mark(const struct vctx *c)
{
	return c->errs ? c->errs->count : 0;
}

/* Drop errors recorded since mark (a failed branch that did not matter). */
static void errs_truncate(struct vctx *c, size_t mark)
{
	if (!c->errs)
		return;
	while (c->errs->count > mark) {
		struct gw_js_error *e = &c->errs->items[--c->errs->count];

		free(e->instance_location);
		free(e->keyword_location);
		free(e->message);
	}
}

/* Location stacks are only kept when errors are wanted. */
static size_t kpush(struct vctx *c, const char *kw)
{
	size_t old = c->kp.len;

	if (c->errs && ptr_push(&c->kp, kw))
		set_fatal(c, F_NOMEM);
	return old;
}

static size_t kpush2(struct vctx *c, const char *kw, const char *name)
{
	size_t old = kpush(c, kw);

	if (c->errs && ptr_push(&c->kp, name))
		set_fatal(c, F_NOMEM);
	return old;
}

static size_t kpush_i(struct vctx *c, const char *kw, size_t i)
{
	size_t old = kpush(c, kw);

	if (c->errs && ptr_push_index(&c->kp, i))
		set_fatal(c, F_NOMEM);
	return old;
}

static void kpop(struct vctx *c, size_t old)
{
	if (c->errs)
		buf_truncate(&c->kp, old);
}

static size_t ipush(struct vctx *c, const char *key)
{
	size_t old = c->ip.len;

	if (c->errs && ptr_push(&c->ip, key))
		set_fatal(c, F_NOMEM);
	return old;
}

static size_t ipush_i(struct vctx *c, size_t i)
{
	size_t old = c->ip.len;

	if (c->errs && ptr_push_index(&c->ip, i))
		set_fatal(c, F_NOMEM);
	return old;
}

static void ipop(struct vctx *c, size_t old)
{
	if (c->errs)
		buf_truncate(&c->ip, old);
}

static int ev_init(struct vctx *c, struct eval *e, size_t n)
{
	e->n = n;
	if (!(e->seen = gw_calloc(n ? n : 1, 1))) {
		set_fatal(c, F_NOMEM);
		return 0;
	}
	return 1;
}

static void ev_merge(struct eval *dst, const struct eval *src)
{
	size_t i;

	if (!dst || !src || !src->seen)
		return;
	for (i = 0; i < dst->n && i < src->n; i++)
		dst->seen[i] |= src->seen[i];
}

static void ev_mark(struct eval *e, size_t i)
{
	if (e && i < e->n)
		e->seen[i] = 1;
}

static size_t stack_used(const struct vctx *c)
{
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);

	return c->stack_base > here ? c->stack_base - here
				    : here - c->stack_base;
}

static unsigned inst_types(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return T_OBJECT;
	case JSON_ARRAY: return T_ARRAY;
	case JSON_STRING: return T_STRING;
	case JSON_INTEGER: return T_NUMBER | T_INTEGER;
	case JSON_REAL: return T_NUMBER | (is_integral(v) ? T_INTEGER : 0);
	case JSON_TRUE:
	case JSON_FALSE: return T_BOOLEAN;
	default: return T_NULL;
	}
}

static const char *inst_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

static bool vnode(struct vctx *c, const struct node *n, const json_t *inst,
		  struct eval *ev);
static bool vfast(struct vctx *c, const struct node *n, const json_t *inst);

/* Evaluate one subschema under keyword location kw[/name|/index]. */
static bool vsub(struct vctx *c, const struct node *n, const json_t *inst,
		 struct eval *ev, const char *kw, const char *name, long idx)
{
	size_t k;

	if (!c->errs)
		return c->fast && !ev ? vfast(c, n, inst)
				      : vnode(c, n, inst, ev);
	k = name       ? kpush2(c, kw, name)
	    : idx >= 0 ? kpush_i(c, kw, (size_t)idx)
		       : kpush(c, kw);
	bool ok = vnode(c, n, inst, ev);

	kpop(c, k);
	return ok;
}

static NOINLINE bool v_type(struct vctx *c, const struct node *n,
			    const json_t *inst)
{
	char want[128] = "";
	size_t k, count = 0, total = 0, len = 0;

	if (!n->types || (n->types & inst_types(inst)))
		return true;
	if (!c->errs)
		return false;
	for (k = 0; k < GW_ARRAY_LEN(type_names); k++)
		if (n->types & (1u << k))
			total++;
	for (k = 0; k < GW_ARRAY_LEN(type_names); k++) {
		if (!(n->types & (1u << k)))
			continue;
		count++;
		len += (size_t)snprintf(want + len, sizeof(want) - len, "%s%s",
					count == 1	 ? ""
					: count == total ? " or "
							 : ", ",
					type_names[k]);
		if (len >= sizeof(want))
			break;
	}
	k = kpush(c, "type");
	add_error(c, "expected %s, got %s", want, inst_type_name(inst));
	kpop(c, k);
	return false;
}

static NOINLINE bool v_enum_const(struct vctx *c, const struct node *n,
				  const json_t *inst)
{
	bool ok = true;
	char a[96], b[96];
	size_t k;
	int r;

	if (n->const_is_sv && !c->errs) {
		/* a string const: only a string of the same bytes is equal */
		if (!json_is_string(inst) ||
		    json_string_length(inst) != n->const_sv.n ||
		    !same_bytes(json_string_value(inst), n->const_sv.s,
				n->const_sv.n))
			return false;
	} else if (n->has_const) {
		r = jeq(n->const_, inst, 0);
		if (r < 0)
			set_fatal(c, F_DEEP);
		if (r != 1) {
			ok = false;
			if (c->errs) {
				value_repr(n->const_, a, sizeof(a));
				value_repr(inst, b, sizeof(b));
				k = kpush(c, "const");
				add_error(c, "expected %s, got %s", a, b);
				kpop(c, k);
			}
			if (FAIL_FAST(c))
				return false;
		}
	}
	if (n->enum_sv && !c->errs) {
		/* only strings: anything else is not among them */
		const char *v;
		size_t i, len;

		if (!json_is_string(inst))
			return false;
		v = json_string_value(inst);
		len = json_string_length(inst);
		for (i = 0; i < n->n_enum_sv; i++)
			if (n->enum_sv[i].n == len &&
			    same_bytes(n->enum_sv[i].s, v, len))
				return ok;
		return false;
	}
	if (n->enum_) {
		size_t i;
		json_t *e;
		int found = 0;

		json_array_foreach(n->enum_, i, e)
		{
			r = jeq(e, inst, 0);
			if (r < 0)
				set_fatal(c, F_DEEP);
			if (r == 1) {
				found = 1;
				break;
			}
		}
		if (!found) {
			ok = false;
			if (c->errs) {
				value_repr(n->enum_, a, sizeof(a));
				value_repr(inst, b, sizeof(b));
				k = kpush(c, "enum");
				add_error(c, "expected one of %s, got %s", a,
					  b);
				kpop(c, k);
			}
		}
	}
	return ok;
}

static NOINLINE bool v_number(struct vctx *c, const struct node *n,
			      const json_t *inst)
{
	static const struct {
		const char *kw;
		const char *what;
		size_t off;
		int bad_if; /* fail when cmp(inst, bound) has this sign (or 0) */
		int strict;
	} bounds[] = {
		{ "minimum", "at least", offsetof(struct node, minimum), -1,
		  0 },
		{ "exclusiveMinimum", "greater than",
		  offsetof(struct node, ex_minimum), -1, 1 },
		{ "maximum", "at most", offsetof(struct node, maximum), 1, 0 },
		{ "exclusiveMaximum", "less than",
		  offsetof(struct node, ex_maximum), 1, 1 },
	};
	char a[40], b[40];
	bool ok = true;
	size_t i, k;

	for (i = 0; i < GW_ARRAY_LEN(bounds); i++) {
		const json_t *bound =
			*(json_t *const *)((const char *)n + bounds[i].off);
		int r;

		if (!bound)
			continue;
		r = num_cmp(inst, bound);
		if (r == bounds[i].bad_if || (bounds[i].strict && r == 0)) {
			ok = false;
			if (!c->errs)
				return false;
			num_repr(bound, a, sizeof(a));
			num_repr(inst, b, sizeof(b));
			k = kpush(c, bounds[i].kw);
			add_error(c, "expected a value %s %s, got %s",
				  bounds[i].what, a, b);
			kpop(c, k);
		}
	}
	if (n->multiple_of && !is_multiple(inst, n->multiple_of)) {
		ok = false;
		if (c->errs) {
			num_repr(n->multiple_of, a, sizeof(a));
			num_repr(inst, b, sizeof(b));
			k = kpush(c, "multipleOf");
			add_error(c, "expected a multiple of %s, got %s", a, b);
			kpop(c, k);
		}
	}
	return ok;
}

static NOINLINE bool v_string(struct vctx *c, const struct node *n,
			      const json_t *inst)
{
	const char *s = json_string_value(inst);
	size_t blen = json_string_length(inst), len, k;
	char a[80], b[80];
	bool ok = true;

	/* a string has at most as many code points as bytes and at least a
	 * quarter as many: count them only when the byte length is not enough
	 * to decide */
	if ((n->max_length >= 0 && (long long)blen > n->max_length) ||
	    (n->min_length >= 0 && (long long)(blen / 4) < n->min_length)) {
		len = utf8_length(s, blen);
		if (n->max_length >= 0 && (long long)len > n->max_length) {
			ok = false;
			if (!c->errs)
				return false;
			k = kpush(c, "maxLength");
			add_error(c,
				  "expected at most %lld characters, got %zu",
				  n->max_length, len);
			kpop(c, k);
		}
		if (n->min_length >= 0 && (long long)len < n->min_length) {
			ok = false;
			if (!c->errs)
				return false;
			k = kpush(c, "minLength");
			add_error(c,
				  "expected at least %lld characters, got %zu",
				  n->min_length, len);
			kpop(c, k);
		}
	}
	if (n->pattern) {
		int r = n->pattern_dfa
				? dfa_match(n->pattern_dfa, s, blen)
				: regex_match(n->pattern, &c->md, s, blen);

		if (r != 1) {
			ok = false;
			if (!c->errs)
				return false;
			str_repr(s, a, sizeof(a));
			str_repr(n->pattern_src, b, sizeof(b));
			k = kpush(c, "pattern");
			if (r == 0)
				add_error(c, "'%s' does not match pattern '%s'",
					  a, b);
			else
				add_error(c,
					  "cannot match '%s' against pattern "
					  "'%s': the "
					  "match limit was reached",
					  a, b);
			kpop(c, k);
		}
	}
	if (n->format && n->format_assert) {
		const char *why = strlen(s) != blen ? "contains a NUL character"
						    : n->format->check(s);

		if (why) {
			ok = false;
			if (c->errs) {
				str_repr(s, a, sizeof(a));
				k = kpush(c, "format");
				add_error(c, "'%s' is not a valid %s: %s", a,
					  n->format->name, why);
				kpop(c, k);
			}
		}
	}
	return ok;
}

static int hash_cmp(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* uniqueItems: sort (hash, index) pairs and compare only equal hashes,
 * so large arrays are not quadratic. */
static NOINLINE bool v_unique(struct vctx *c, const json_t *inst)
{
	size_t n = json_array_size(inst), i, j, k;
	uint64_t *h;
	bool ok = true;

	if (n < 2)
		return true;
	if (!(h = gw_malloc(n * 2 * sizeof(*h)))) {
		set_fatal(c, F_NOMEM);
		return false;
	}
	for (i = 0; i < n; i++) {
		h[2 * i] = jhash(json_array_get(inst, i), 0);
		h[2 * i + 1] = i;
	}
	qsort(h, n, 2 * sizeof(*h), hash_cmp);
	for (i = 0; i < n && ok; i = j) {
		for (j = i + 1; j < n && h[2 * j] == h[2 * i]; j++)
			;
		for (k = i; k < j && ok; k++) {
			size_t m;

			for (m = k + 1; m < j && ok; m++) {
				int r = jeq(json_array_get(inst, h[2 * k + 1]),
					    json_array_get(inst, h[2 * m + 1]),
					    0);

				if (r < 0) {
					set_fatal(c, F_DEEP);
					ok = false;
				} else if (r == 1) {
					size_t x = h[2 * k + 1],
					       y = h[2 * m + 1], kp;

					ok = false;
					kp = kpush(c, "uniqueItems");
					add_error(
						c,
						"items %zu and %zu are equal, "
						"expected unique items",
						x < y ? x : y, x < y ? y : x);
					kpop(c, kp);
				}
			}
		}
	}
	free(h);
	return ok;
}

static NOINLINE bool v_array(struct vctx *c, const struct node *n,
			     const json_t *inst, struct eval *ev)
{
	size_t size = json_array_size(inst), i, k, ip;
	bool ok = true;

	if (n->max_items >= 0 && (long long)size > n->max_items) {
		ok = false;
		if (!c->errs)
			return false;
		k = kpush(c, "maxItems");
		add_error(c, "expected at most %lld items, got %zu",
			  n->max_items, size);
		kpop(c, k);
	}
	if (n->min_items >= 0 && (long long)size < n->min_items) {
		ok = false;
		if (!c->errs)
			return false;
		k = kpush(c, "minItems");
		add_error(c, "expected at least %lld item%s, got %zu",
			  n->min_items, n->min_items == 1 ? "" : "s", size);
		kpop(c, k);
	}
	if (n->unique_items && !v_unique(c, inst)) {
		ok = false;
		if (FAIL_FAST(c))
			return false;
	}
	for (i = 0; i < n->n_prefix_items && i < size; i++) {
		ip = ipush_i(c, i);
		if (!vsub(c, n->prefix_items[i], json_array_get(inst, i), NULL,
			  "prefixItems", NULL, (long)i))
			ok = false;
		ipop(c, ip);
		ev_mark(ev, i);
		if ((!ok && FAIL_FAST(c)) || c->fatal)
			return false;
	}
	if (n->items) {
		for (i = n->n_prefix_items; i < size; i++) {
			ip = ipush_i(c, i);
			if (n->items->kind == N_FALSE) {
				ok = false;
				k = kpush(c, "items");
				if (n->n_prefix_items)
					add_error(c,
						  "item %zu is not allowed: at "
						  "most %zu items",
						  i, n->n_prefix_items);
				else
					add_error(c,
						  "item %zu is not allowed: "
						  "the array must be empty",
						  i);
				kpop(c, k);
			} else if (!vsub(c, n->items, json_array_get(inst, i),
					 NULL, "items", NULL, -1)) {
				ok = false;
			}
			ipop(c, ip);
			ev_mark(ev, i);
			if ((!ok && FAIL_FAST(c)) || c->fatal)
				return false;
		}
	}
	if (n->contains) {
		size_t count = 0, mark = errs_mark(c);
		long long min = n->min_contains >= 0 ? n->min_contains : 1;

		for (i = 0; i < size; i++) {
			ip = ipush_i(c, i);
			if (vsub(c, n->contains, json_array_get(inst, i), NULL,
				 "contains", NULL, -1)) {
				count++;
				ev_mark(ev, i);
			}
			ipop(c, ip);
			if (c->fatal)
				return false;
			/* the outcome is settled unless counting or annotating */
			if (!ev && n->max_contains < 0 &&
			    (long long)count >= min)
				break;
		}
		errs_truncate(c, mark);
		if ((long long)count < min) {
			ok = false;
			k = kpush(c, n->min_contains >= 0 ? "minContains"
							  : "contains");
			add_error(c,
				  "expected at least %lld item%s matching "
				  "'contains', found %zu",
				  min, min == 1 ? "" : "s", count);
			kpop(c, k);
		}
		if (n->max_contains >= 0 &&
		    (long long)count > n->max_contains) {
			ok = false;
			k = kpush(c, "maxContains");
			add_error(c,
				  "expected at most %lld item%s matching "
				  "'contains', found %zu",
				  n->max_contains,
				  n->max_contains == 1 ? "" : "s", count);
			kpop(c, k);
		}
	}
	return ok;
}

static const struct named *find_named(const struct named *v, size_t n,
				      const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(name, v[mid].name);

		if (!r)
			return &v[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* properties (and additionalProperties: false) when only the verdict is
 * wanted and nobody collects annotations: one hash lookup per declared
 * property instead of a search per instance key. With additional false
 * the object is valid only if every key it has was found among them. */
static bool v_props_fast(struct vctx *c, const struct node *n,
			 const json_t *inst, size_t size)
{
	size_t i, found = 0;

	for (i = 0; i < n->n_props; i++) {
		const json_t *val = json_object_getn(inst, n->props[i].name,
						     n->props[i].len);

		if (!val)
			continue;
		found++;
		if (!vsub(c, n->props[i].node, val, NULL, NULL, NULL, -1))
			return false;
	}
	return !n->additional || found == size;
}

/* properties, additionalProperties and required, verdict only, in one pass
 * over the instance's keys (see index_node()). */
static bool v_props_scan(struct vctx *c, const struct node *n,
			 const json_t *inst)
{
	uint64_t seen = 0;
	size_t i;
	void *it;

	for (it = json_object_iter((json_t *)inst); it;
	     it = json_object_iter_next((json_t *)inst, it)) {
		long j = ptab_find(n, json_object_iter_key(it),
				   json_object_iter_key_len(it));
		const json_t *val = json_object_iter_value(it);

		if (j >= 0) {
			seen |= (uint64_t)1 << j;
			if (!(c->fast ? vfast(c, n->props[j].node, val)
				      : vnode(c, n->props[j].node, val, NULL)))
				return false;
		} else if (n->additional &&
			   !(c->fast ? vfast(c, n->additional, val)
				     : vnode(c, n->additional, val, NULL))) {
			return false;
		}
	}
	if ((seen & n->req_bits) != n->req_bits)
		return false;
	for (i = 0; i < n->n_req_rest; i++)
		if (!json_object_get(inst, n->req_rest[i]))
			return false;
	return true;
}

static NOINLINE bool v_object(struct vctx *c, const struct node *n,
			      const json_t *inst, struct eval *ev)
{
	size_t size = json_object_size(inst), i, j, k, ip;
	bool ok = true, scan;
	const char *key;
	json_t *val;

	if (n->max_props >= 0 && (long long)size > n->max_props) {
		ok = false;
		if (!c->errs)
			return false;
		k = kpush(c, "maxProperties");
		add_error(c, "expected at most %lld properties, got %zu",
			  n->max_props, size);
		kpop(c, k);
	}
	if (n->min_props >= 0 && (long long)size < n->min_props) {
		ok = false;
		if (!c->errs)
			return false;
		k = kpush(c, "minProperties");
		add_error(c, "expected at least %lld propert%s, got %zu",
			  n->min_props, n->min_props == 1 ? "y" : "ies", size);
		kpop(c, k);
	}
	/* verdict only: one pass over the keys decides properties,
	 * additionalProperties and required (index_node()); with no
	 * additionalProperties, only when the object has few keys beyond
	 * the declared ones, else a lookup of each declared name is less */
	scan = !c->errs && !ev && n->ptab &&
	       (n->additional || size <= 2 * n->n_props);
	for (i = 0; i < n->n_required && !scan; i++) {
		if (json_object_get(inst, n->required[i]))
			continue;
		ok = false;
		if (!c->errs)
			return false;
		k = kpush(c, "required");
		add_error(c, "missing required property '%s'", n->required[i]);
		kpop(c, k);
	}
	for (i = 0; i < n->n_dep_required; i++) {
		const struct dep_required *d = &n->dep_required[i];

		if (!json_object_get(inst, d->name))
			continue;
		for (j = 0; j < d->n; j++) {
			if (json_object_get(inst, d->names[j]))
				continue;
			ok = false;
			if (!c->errs)
				return false;
			k = kpush2(c, "dependentRequired", d->name);
			add_error(c,
				  "missing property '%s', required when '%s' "
				  "is present",
				  d->names[j], d->name);
			kpop(c, k);
		}
	}
	for (i = 0; i < n->n_dep_schemas; i++) {
		if (!json_object_get(inst, n->dep_schemas[i].name))
			continue;
		if (!vsub(c, n->dep_schemas[i].node, inst, ev,
			  "dependentSchemas", n->dep_schemas[i].name, -1)) {
			ok = false;
			if (FAIL_FAST(c) || c->fatal)
				return false;
		}
	}
	if (!n->n_props && !n->n_pprops && !n->additional && !n->property_names)
		return ok;
	if (scan)
		return v_props_scan(c, n, inst);
	if (!c->errs && !ev && !n->n_pprops && !n->property_names &&
	    (!n->additional || n->additional->kind == N_FALSE))
		return v_props_fast(c, n, inst, size);
	i = 0;
	json_object_foreach((json_t *)inst, key, val)
	{
		const struct named *p =
			n->n_props ? find_named(n->props, n->n_props, key)
				   : NULL;
		int matched = 0;

		ip = ipush(c, key);
		if (p) {
			matched = 1;
			if (!vsub(c, p->node, val, NULL, "properties", key, -1))
				ok = false;
		}
		for (j = 0; j < n->n_pprops && !c->fatal; j++) {
			int r = regex_match(n->pprops[j].re, &c->md, key,
					    strlen(key));

			if (r < 0) {
				ok = false;
				k = kpush2(c, "patternProperties",
					   n->pprops[j].src);
				add_error(c,
					  "cannot match property name against "
					  "pattern '%s': "
					  "the match limit was reached",
					  n->pprops[j].src);
				kpop(c, k);
			} else if (r == 1) {
				matched = 1;
				if (!vsub(c, n->pprops[j].node, val, NULL,
					  "patternProperties", n->pprops[j].src,
					  -1))
					ok = false;
			}
		}
		if (!matched && n->additional) {
			matched = 1;
			if (n->additional->kind == N_FALSE) {
				ok = false;
				k = kpush(c, "additionalProperties");
				add_error(c, "property '%s' is not allowed",
					  key);
				kpop(c, k);
			} else if (!vsub(c, n->additional, val, NULL,
					 "additionalProperties", NULL, -1)) {
				ok = false;
			}
		}
		if (matched)
			ev_mark(ev, i);
		if (n->property_names) {
			json_t *ks = json_string(key);

			if (!ks) {
				set_fatal(c, F_NOMEM);
			} else {
				if (!vsub(c, n->property_names, ks, NULL,
					  "propertyNames", NULL, -1))
					ok = false;
				json_decref(ks);
			}
		}
		ipop(c, ip);
		if ((!ok && FAIL_FAST(c)) || c->fatal)
			return false;
		i++;
	}
	return ok;
}

/* allOf / anyOf / oneOf / not / if-then-else: the in-place applicators.
 * Annotations (ev) of a branch count only when the branch holds. */
static NOINLINE bool v_applicators(struct vctx *c, const struct node *n,
				   const json_t *inst, struct eval *ev)
{
	bool ok = true;
	size_t i, k, mark;

	for (i = 0; i < n->n_all_of; i++) {
		if (!vsub(c, n->all_of[i], inst, ev, "allOf", NULL, (long)i)) {
			ok = false;
			if (FAIL_FAST(c) || c->fatal)
				return false;
		}
	}
	if (n->n_any_of) {
		size_t valid = 0;

		mark = errs_mark(c);
		for (i = 0; i < n->n_any_of; i++) {
			struct eval be = { 0 };

			if (ev && !ev_init(c, &be, ev->n))
				return false;
			if (vsub(c, n->any_of[i], inst, ev ? &be : NULL,
				 "anyOf", NULL, (long)i)) {
				valid++;
				ev_merge(ev, &be);
			}
			free(be.seen);
			if (c->fatal)
				return false;
			/* every valid branch annotates, so only stop early when
			 * nobody collects annotations */
			if (valid && !ev)
				break;
		}
		if (valid) {
			errs_truncate(c, mark);
		} else {
			ok = false;
			k = kpush(c, "anyOf");
			add_error(c,
				  "value does not match any of the %zu 'anyOf' "
				  "schemas",
				  n->n_any_of);
			kpop(c, k);
			if (FAIL_FAST(c))
				return false;
		}
	}
	if (n->n_one_of) {
		size_t valid = 0, first = 0, second = 0;
		struct eval keep = { 0 };

		mark = errs_mark(c);
		for (i = 0; i < n->n_one_of; i++) {
			struct eval be = { 0 };

			if (ev && !ev_init(c, &be, ev->n)) {
				free(keep.seen);
				return false;
			}
			if (vsub(c, n->one_of[i], inst, ev ? &be : NULL,
				 "oneOf", NULL, (long)i)) {
				if (valid++ == 0) {
					first = i;
					keep = be;
					be.seen = NULL;
				} else {
					second = i;
				}
			}
			free(be.seen);
			if (c->fatal || valid > 1) {
				break;
			}
		}
		if (c->fatal) {
			free(keep.seen);
			return false;
		}
		if (valid == 1) {
			errs_truncate(c, mark);
			ev_merge(ev, &keep);
		} else {
			ok = false;
			if (valid > 1)
				errs_truncate(c, mark);
			k = kpush(c, "oneOf");
			if (valid > 1)
				add_error(c,
					  "value matches more than one of the "
					  "'oneOf' schemas "
					  "(%zu and %zu), expected exactly one",
					  first, second);
			else
				add_error(c,
					  "value does not match any of the %zu "
					  "'oneOf' schemas",
					  n->n_one_of);
			kpop(c, k);
		}
		free(keep.seen);
		if (!ok && FAIL_FAST(c))
			return false;
	}
	if (n->not_) {
		bool r;

		mark = errs_mark(c);
		r = vsub(c, n->not_, inst, NULL, "not", NULL, -1);
		errs_truncate(c, mark);
		if (c->fatal)
			return false;
		if (r) {
			ok = false;
			k = kpush(c, "not");
			add_error(c, "value must not match the 'not' schema");
			kpop(c, k);
			if (FAIL_FAST(c))
				return false;
		}
	}
	if (n->if_) {
		struct eval be = { 0 };
		bool r;

		if (ev && !ev_init(c, &be, ev->n))
			return false;
		mark = errs_mark(c);
		r = vsub(c, n->if_, inst, ev ? &be : NULL, "if", NULL, -1);
		errs_truncate(c, mark);
		if (r)
			ev_merge(ev, &be);
		free(be.seen);
		if (c->fatal)
			return false;
		if (r && n->then_ &&
		    !vsub(c, n->then_, inst, ev, "then", NULL, -1))
			ok = false;
		if (!r && n->else_ &&
		    !vsub(c, n->else_, inst, ev, "else", NULL, -1))
			ok = false;
	}
	return ok;
}

static NOINLINE bool v_unevaluated(struct vctx *c, const struct node *n,
				   const json_t *inst, struct eval *lev)
{
	bool ok = true;
	size_t i, k, ip;

	if (n->uneval_items && json_is_array(inst)) {
		for (i = 0; i < json_array_size(inst); i++) {
			if (lev->seen[i])
				continue;
			ip = ipush_i(c, i);
			if (n->uneval_items->kind == N_FALSE) {
				ok = false;
				k = kpush(c, "unevaluatedItems");
				add_error(c, "item %zu is not allowed", i);
				kpop(c, k);
			} else if (!vsub(c, n->uneval_items,
					 json_array_get(inst, i), NULL,
					 "unevaluatedItems", NULL, -1)) {
				ok = false;
			}
			ipop(c, ip);
			lev->seen[i] = 1;
			if ((!ok && FAIL_FAST(c)) || c->fatal)
				return false;
		}
	}
	if (n->uneval_props && json_is_object(inst)) {
		const char *key;
		json_t *val;

		i = 0;
		json_object_foreach((json_t *)inst, key, val)
		{
			if (!lev->seen[i]) {
				ip = ipush(c, key);
				if (n->uneval_props->kind == N_FALSE) {
					ok = false;
					k = kpush(c, "unevaluatedProperties");
					add_error(
						c,
						"property '%s' is not allowed",
						key);
					kpop(c, k);
				} else if (!vsub(c, n->uneval_props, val, NULL,
						 "unevaluatedProperties", NULL,
						 -1)) {
					ok = false;
				}
				ipop(c, ip);
				lev->seen[i] = 1;
				if ((!ok && FAIL_FAST(c)) || c->fatal)
					return false;
			}
			i++;
		}
	}
	return ok;
}

static const struct node *dynamic_target(const struct vctx *c,
					 const struct node *n)
{
	const struct node *t = n->dynref;
	const struct scope *s;
	size_t i;

	if (!n->dynref_anchor)
		return t;
	/* the outermost resource of the dynamic scope that has the anchor */
	for (s = c->scope; s; s = s->up)
		for (i = 0; i < s->res->ndyn; i++)
			if (strcmp(s->res->dyn[i].name, n->dynref_anchor) == 0)
				t = s->res->dyn[i].node;
	return t;
}

static bool vnode(struct vctx *c, const struct node *n, const json_t *inst,
		  struct eval *ev)
{
	struct scope sc;
	struct eval local = { 0 }, *lev = ev;
	bool ok = true;
	int pushed = 0;

	if (c->fatal)
		return false;
	if (!c->errs) {
		int hops;

		for (hops = 0; hops < 8 && n->ref_only && c->scope &&
			       c->scope->res == n->res;
		     hops++)
			n = n->ref;
	}
	if (n->kind == N_TRUE)
		return true;
	if (n->kind == N_FALSE) {
		add_error(c, "no value is allowed here (the schema is false)");
		return false;
	}
	if (c->depth >= MAX_EVAL_DEPTH || stack_used(c) > MAX_EVAL_STACK) {
		set_fatal(c, F_DEEP);
		return false;
	}
	c->depth++;
	if (!c->scope || c->scope->res != n->res) {
		sc.res = n->res;
		sc.up = c->scope;
		/* popped again before this frame returns */
		/* cppcheck-suppress autoVariables */
		c->scope = &sc;
		pushed = 1;
	}
	if ((n->uneval_props && json_is_object(inst)) ||
	    (n->uneval_items && json_is_array(inst))) {
		if (!ev_init(c, &local,
			     json_is_object(inst) ? json_object_size(inst)
						  : json_array_size(inst)))
			goto done;
		lev = &local;
	}

#define STEP(expr)                                    \
	do {                                          \
		if (!(expr)) {                        \
			ok = false;                   \
			if (FAIL_FAST(c) || c->fatal) \
				goto done;            \
		}                                     \
	} while (0)

	if (n->types && !(n->types & inst_types(inst)))
		STEP(v_type(c, n, inst));
	if (n->has_const || n->enum_)
		STEP(v_enum_const(c, n, inst));
	switch (json_typeof(inst)) {
	case JSON_INTEGER:
	case JSON_REAL:
		if (n->has_num)
			STEP(v_number(c, n, inst));
		break;
	case JSON_STRING:
		if (n->has_str)
			STEP(v_string(c, n, inst));
		break;
	case JSON_ARRAY:
		if (n->has_arr)
			STEP(v_array(c, n, inst, lev));
		break;
	case JSON_OBJECT:
		if (n->has_obj)
			STEP(v_object(c, n, inst, lev));
		break;
	default: break;
	}
	if (n->ref)
		STEP(vsub(c, n->ref, inst, lev, "$ref", NULL, -1));
	if (n->dynref)
		STEP(vsub(c, dynamic_target(c, n), inst, lev, "$dynamicRef",
			  NULL, -1));
	if (n->has_app)
		STEP(v_applicators(c, n, inst, lev));
	if (lev == &local)
		STEP(v_unevaluated(c, n, inst, lev));
#undef STEP
done:
	if (lev == &local) {
		if (ok)
			ev_merge(ev, &local);
		free(local.seen);
	}
	if (pushed)
		c->scope = sc.up;
	c->depth--;
	return ok && !c->fatal;
}

/* The verdict-only walk of a schema whose references are all static
 * (static_refs): no errors, no locations, no dynamic scope, no annotations,
 * stops at the first failure. A node that collects annotations for
 * unevaluated* goes through vnode(), which keeps them. */
static bool vfast(struct vctx *c, const struct node *n, const json_t *inst)
{
	size_t i;
	int hops;

	/* "$ref"-only nodes are skipped but counted, so that the depth is
	 * the one the error walk counts; a cycle of them is left to the
	 * depth limit */
	for (hops = 0; hops < 8 && n->ref_only; hops++)
		n = n->ref;
	if (n->kind != N_OBJECT)
		return n->kind == N_TRUE;
	if (n->uneval)
		return vnode(c, n, inst, NULL);
	if (c->depth + hops >= MAX_EVAL_DEPTH ||
	    stack_used(c) > MAX_EVAL_STACK) {
		set_fatal(c, F_DEEP);
		return false;
	}
	if (n->types && !(n->types & inst_types(inst)))
		return false;
	if ((n->has_const || n->enum_) && !v_enum_const(c, n, inst))
		return false;
	c->depth += 1 + hops;
	switch (json_typeof(inst)) {
	case JSON_INTEGER:
	case JSON_REAL:
		if (n->has_num && !v_number(c, n, inst))
			goto fail;
		break;
	case JSON_STRING:
		if (n->has_str && !v_string(c, n, inst))
			goto fail;
		break;
	case JSON_ARRAY:
		if (!n->has_arr)
			break;
		if (!n->items || n->n_prefix_items || n->contains ||
		    n->unique_items || n->max_items >= 0 || n->min_items >= 0) {
			if (!v_array(c, n, inst, NULL))
				goto fail;
		} else {
			size_t size = json_array_size(inst);

			for (i = 0; i < size; i++)
				if (!vfast(c, n->items,
					   json_array_get(inst, i)))
					goto fail;
		}
		break;
	case JSON_OBJECT:
		if (n->has_obj && !v_object(c, n, inst, NULL))
			goto fail;
		break;
	default: break;
	}
	if (n->ref && !vfast(c, n->ref, inst))
		goto fail;
	if (n->dynref && !vfast(c, n->dynref, inst))
		goto fail;
	if (!n->has_app)
		goto ok;
	for (i = 0; i < n->n_all_of; i++)
		if (!vfast(c, n->all_of[i], inst))
			goto fail;
	if (n->n_any_of) {
		for (i = 0; i < n->n_any_of; i++)
			if (vfast(c, n->any_of[i], inst) || c->fatal)
				break;
		if (i == n->n_any_of || c->fatal)
			goto fail;
	}
	if (n->n_one_of) {
		size_t valid = 0;

		for (i = 0; i < n->n_one_of && valid < 2 && !c->fatal; i++)
			if (vfast(c, n->one_of[i], inst))
				valid++;
		if (valid != 1 || c->fatal)
			goto fail;
	}
	if (n->not_ && (vfast(c, n->not_, inst) || c->fatal))
		goto fail;
	if (n->if_) {
		bool r = vfast(c, n->if_, inst);

		if (c->fatal)
			goto fail;
		if (r ? n->then_ && !vfast(c, n->then_, inst)
		      : n->else_ && !vfast(c, n->else_, inst))
			goto fail;
	}
ok:
	c->depth -= 1 + hops;
	return !c->fatal;
fail:
	c->depth -= 1 + hops;
	return false;
}

bool gw_js_validate(const struct gw_js_schema *s, const json_t *instance,
		    struct gw_js_errors *errs)
{
	struct vctx c;
	bool ok;

	memset(&c, 0, sizeof(c));
	if (errs)
		memset(errs, 0, sizeof(*errs));
	if (!s || !instance)
		return false;
	gw_buf_init(&c.ip);
	gw_buf_init(&c.kp);
	c.stack_base = (uintptr_t)__builtin_frame_address(0);
	/* A first walk only for the verdict (no locations kept, stops at the
	 * first failure): most messages are valid, and then it is all the
	 * work. Errors, when wanted, come from a second, complete walk. */
	c.fast = s->static_refs;
	ok = c.fast ? vfast(&c, s->root, instance)
		    : vnode(&c, s->root, instance, NULL);
	if (ok || !errs)
		goto done;
	c.fast = 0;
	c.errs = errs;
	c.fatal = 0;
	c.depth = 0;
	c.scope = NULL;
	ok = vnode(&c, s->root, instance, NULL);
	if (c.fatal) {
		ok = false;
		if (errs) {
			/* partial results of an aborted walk would mislead */
			gw_js_errors_release(errs);
			c.cap = 0;
			c.fatal_ip = c.fatal_ip ? c.fatal_ip : gw_strdup("");
			c.fatal_kp = c.fatal_kp ? c.fatal_kp : gw_strdup("");
			errs->items = gw_malloc(sizeof(*errs->items));
			if (errs->items && c.fatal_ip && c.fatal_kp) {
				errs->items[0].instance_location = c.fatal_ip;
				errs->items[0].keyword_location = c.fatal_kp;
				errs->items[0].message = gw_strdup(
					c.fatal == F_DEEP
						? "value is nested too deeply "
						  "to validate (more "
						  "than " GW_JS_STR(
							  MAX_EVAL_DEPTH) " lev"
									  "els "
									  "of "
									  "sche"
									  "ma "
									  "eval"
									  "uati"
									  "on, "
									  "or "
									  "the "
									  "stac"
									  "k "
									  "limi"
									  "t)"
						: "out of memory while "
						  "validating");
				if (errs->items[0].message) {
					errs->count = 1;
					c.fatal_ip = c.fatal_kp = NULL;
				}
			}
		}
	}
done:
	free(c.fatal_ip);
	free(c.fatal_kp);
	gw_buf_release(&c.ip);
	gw_buf_release(&c.kp);
	pcre2_match_data_free(c.md);
	return ok;
}

void gw_js_errors_release(struct gw_js_errors *errs)
{
	size_t i;

	if (!errs)
		return;
	for (i = 0; i < errs->count; i++) {
		free(errs->items[i].instance_location);
		free(errs->items[i].keyword_location);
		free(errs->items[i].message);
	}
	free(errs->items);
	errs->items = NULL;
	errs->count = 0;
}

void gw_js_errors_print(const struct gw_js_errors *errs, const char *file,
			FILE *out)
{
	size_t i;

	if (!errs || !out)
		return;
	for (i = 0; i < errs->count; i++) {
		const struct gw_js_error *e = &errs->items[i];

		fprintf(out, "%s: %s: %s (at %s)\n", file ? file : "-",
			e->instance_location && *e->instance_location
				? e->instance_location
				: "(root)",
			e->message,
			e->keyword_location && *e->keyword_location
				? e->keyword_location
				: "(root)");
	}
}
