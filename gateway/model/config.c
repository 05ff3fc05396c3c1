/*
 * config.c - YAML configuration with located errors and secret references.
 *
 * YAML is read with libyaml's event parser into jansson values. Scalars
 * follow the YAML 1.2 core schema for plain scalars (null, booleans,
 * integers, floats); quoted scalars are always strings. The line of every
 * value is kept in a side table keyed by JSON Pointer, so that a JSON
 * Schema error at /server/listen becomes "gateway.yaml:12: server.listen".
 */
#include "model/config.h"

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/json.h"
#include "model/jsonschema.h"

#define MAX_DEPTH 64

struct yparse {
	yaml_parser_t p;
	const char *name;
	json_t *lines;
	struct gw_buf ptr;
	struct gw_err *err;
};

static gw_rc next_event(struct yparse *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->p, ev))
		return gw_err_set(y->err, GW_ERR_PARSE, "%s:%zu: %s%s%s",
				  y->name, y->p.problem_mark.line + 1,
				  y->p.problem ? y->p.problem : "invalid YAML",
				  y->p.context ? " " : "",
				  y->p.context ? y->p.context : "");
	return GW_OK;
}

static int full_match(const char *re, const char *s)
{
	regex_t r;
	int ok;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB))
		return 0;
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

static json_t *scalar(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, n);
	if (n == 0 || !strcmp(s, "~") || !strcmp(s, "null") ||
	    !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if (full_match("^[-+]?[0-9]+$", s)) {
		long long v;

		errno = 0;
		v = strtoll(s, NULL, 10);
		if (!errno)
			return json_integer(v);
	}
	if (full_match(
		    "^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$",
		    s))
		return json_real(strtod(s, NULL));
	return json_stringn(s, n);
}

static gw_rc node(struct yparse *y, yaml_event_t *ev, int depth, json_t **out);

static void note_line(struct yparse *y, const yaml_event_t *ev)
{
	json_object_set_new(y->lines, y->ptr.len ? y->ptr.data : "",
			    json_integer((json_int_t)ev->start_mark.line + 1));
}

static gw_rc mapping(struct yparse *y, int depth, json_t **out)
{
	json_t *obj = json_object();
	yaml_event_t ev;
	gw_rc rc = GW_OK;

	if (!obj)
		return gw_err_set(y->err, GW_ERR_NOMEM, "out of memory");
	for (;;) {
		json_t *v = NULL;
		char *key;
		size_t mark = y->ptr.len;

		if ((rc = next_event(y, &ev)))
			break;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			rc = gw_err_set(y->err, GW_ERR_PARSE,
					"%s:%zu: keys must be plain strings",
					y->name, ev.start_mark.line + 1);
			yaml_event_delete(&ev);
			break;
		}
		key = gw_strndup((const char *)ev.data.scalar.value,
				 ev.data.scalar.length);
		if (!key || json_object_get(obj, key)) {
			rc = key ? gw_err_set(y->err, GW_ERR_PARSE,
					      "%s:%zu: key '%s' is repeated",
					      y->name, ev.start_mark.line + 1,
					      key)
				 : gw_err_set(y->err, GW_ERR_NOMEM,
					      "out of memory");
			free(key);
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
		gw_json_pointer_add(&y->ptr, key);
		if ((rc = next_event(y, &ev))) {
			free(key);
			break;
		}
		rc = node(y, &ev, depth + 1, &v);
		yaml_event_delete(&ev);
		y->ptr.len = mark;
		if (y->ptr.data)
			y->ptr.data[mark] = '\0';
		if (!rc && json_object_set_new(obj, key, v))
			rc = gw_err_set(y->err, GW_ERR_PARSE,
					"%s: key '%s' is not valid UTF-8",
					y->name, key);
		free(key);
		if (rc)
			break;
	}
	if (rc)
		json_decref(obj);
	else
		*out = obj;
	return rc;
}

static gw_rc sequence(struct yparse *y, int depth, json_t **out)
{
	json_t *arr = json_array();
	yaml_event_t ev;
	gw_rc rc = GW_OK;
	size_t i = 0;

	if (!arr)
		return gw_err_set(y->err, GW_ERR_NOMEM, "out of memory");
	for (;; i++) {
		json_t *v = NULL;
		size_t mark = y->ptr.len;

		if ((rc = next_event(y, &ev)))
			break;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		gw_buf_addf(&y->ptr, "/%zu", i);
		rc = node(y, &ev, depth + 1, &v);
		yaml_event_delete(&ev);
		y->ptr.len = mark;
		y->ptr.data[mark] = '\0';
		if (rc)
			break;
		json_array_append_new(arr, v);
	}
	if (rc)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

static gw_rc node(struct yparse *y, yaml_event_t *ev, int depth, json_t **out)
{
	if (depth > MAX_DEPTH)
		return gw_err_set(y->err, GW_ERR_REFUSED,
				  "%s:%zu: nesting deeper than %d levels",
				  y->name, ev->start_mark.line + 1, MAX_DEPTH);
	note_line(y, ev);
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return gw_err_set(y->err, GW_ERR_REFUSED,
				  "%s:%zu: aliases (*name) are not accepted",
				  y->name, ev->start_mark.line + 1);
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.tag)
			return gw_err_set(
				y->err, GW_ERR_REFUSED,
				"%s:%zu: tags (!name) are not accepted",
				y->name, ev->start_mark.line + 1);
		*out = scalar(ev);
		if (!*out)
			return gw_err_set(y->err, GW_ERR_PARSE,
					  "%s:%zu: value is not valid UTF-8",
					  y->name, ev->start_mark.line + 1);
		return GW_OK;
	case YAML_MAPPING_START_EVENT: return mapping(y, depth, out);
	case YAML_SEQUENCE_START_EVENT: return sequence(y, depth, out);
	default:
		return gw_err_set(y->err, GW_ERR_PARSE,
				  "%s:%zu: unexpected YAML event", y->name,
				  ev->start_mark.line + 1);
	}
}

gw_rc gw_yaml_parse(const char *buf, size_t len, const char *name, json_t **out,
		    json_t **lines, struct gw_err *err)
{
	struct yparse y;
	yaml_event_t ev;
	json_t *doc = NULL;
	gw_rc rc = GW_OK;
	int done = 0;

	*out = NULL;
	if (lines)
		*lines = NULL;
	memset(&y, 0, sizeof(y));
	y.name = name;
	y.err = err;
	y.lines = json_object();
	gw_buf_init(&y.ptr);
	if (!y.lines || gw_buf_add(&y.ptr, "", 0) ||
	    !yaml_parser_initialize(&y.p)) {
		json_decref(y.lines);
		gw_buf_release(&y.ptr);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, len);
	while (!done && !rc) {
		if ((rc = next_event(&y, &ev)))
			break;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT: break;
		case YAML_DOCUMENT_START_EVENT:
			if (doc)
				rc = gw_err_set(
					err, GW_ERR_PARSE,
					"%s:%zu: only one YAML document "
					"is read",
					name, ev.start_mark.line + 1);
			break;
		case YAML_STREAM_END_EVENT: done = 1; break;
		default: rc = node(&y, &ev, 0, &doc);
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&y.p);
	gw_buf_release(&y.ptr);
	if (!rc && !doc)
		doc = json_null();
	if (rc) {
		json_decref(doc);
		json_decref(y.lines);
		return rc;
	}
	*out = doc;
	if (lines)
		*lines = y.lines;
	else
		json_decref(y.lines);
	return GW_OK;
}

/* "/server/listen" -> "server.listen"; "" -> "(top level)" */
static void dotted(const char *ptr, char *out, size_t n)
{
	size_t o = 0;

	if (!*ptr) {
		snprintf(out, n, "(top level)");
		return;
	}
	for (ptr++; *ptr && o + 1 < n; ptr++)
		out[o++] = *ptr == '/' ? '.' : *ptr;
	out[o] = '\0';
}

static long line_of(const json_t *lines, const char *ptr)
{
	char buf[512];
	json_t *l;

	snprintf(buf, sizeof(buf), "%s", ptr);
	for (;;) {
		char *slash;

		if ((l = json_object_get(lines, buf)))
			return (long)json_integer_value(l);
		slash = strrchr(buf, '/');
		if (!slash)
			return 0;
		*slash = '\0';
	}
}

gw_rc gw_config_load(const char *path, const char *schema_dir, gw_report_cb cb,
		     void *arg, struct gw_config **out, struct gw_err *err)
{
	return gw_config_load_as(path, schema_dir, "config.schema.json", cb,
				 arg, out, err);
}

long gw_config_line(const struct gw_config *c, const char *ptr)
{
	return line_of(c->lines, ptr);
}

void gw_config_key(const char *ptr, char *out, size_t n)
{
	dotted(ptr, out, n);
}

gw_rc gw_config_load_as(const char *path, const char *schema_dir,
			const char *schema_file, gw_report_cb cb, void *arg,
			struct gw_config **out, struct gw_err *err)
{
	struct gw_config *c = NULL;
	struct gw_js_registry *reg = NULL;
	struct gw_js_schema *schema = NULL;
	struct gw_js_errors errs = { 0, NULL };
	char spath[PATH_MAX];
	char *buf = NULL;
	size_t len, i;
	gw_rc rc;

	*out = NULL;
	if ((rc = gw_read_file(path, 1 << 20, &buf, &len, err)))
		goto out;
	c = gw_calloc(1, sizeof(*c));
	if (!c || !(c->path = gw_strdup(path))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = gw_yaml_parse(buf, len, path, &c->root, &c->lines, err))) {
		if (cb)
			cb(arg, rc, err->msg);
		rc = GW_ERR_CONFIG;
		goto out;
	}
	reg = gw_js_registry_new();
	if (!reg) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(spath, sizeof(spath), "%s/%s", schema_dir, schema_file);
	if ((rc = gw_js_compile_file(reg, spath, GW_JS_FORMAT_ASSERT, &schema,
				     err)))
		goto out;
	if (!gw_js_validate(schema, c->root, &errs)) {
		for (i = 0; i < errs.count; i++) {
			char key[256], line[GW_ERR_MSG_MAX];
			const char *ip = errs.items[i].instance_location;

			dotted(ip, key, sizeof(key));
			snprintf(line, sizeof(line), "%s:%ld: %s: %s", path,
				 line_of(c->lines, ip), key,
				 errs.items[i].message);
			if (cb)
				cb(arg, GW_ERR_CONFIG, line);
			if (i == 0)
				gw_err_set(err, GW_ERR_CONFIG, "%s", line);
		}
		rc = GW_ERR_CONFIG;
		goto out;
	}
	*out = c;
	c = NULL;
out:
	gw_js_errors_release(&errs);
	gw_js_schema_free(schema);
	gw_js_registry_free(reg);
	gw_config_free(c);
	free(buf);
	return rc;
}

void gw_config_free(struct gw_config *c)
{
	if (!c)
		return;
	json_decref(c->root);
	json_decref(c->lines);
	free(c->path);
	free(c);
}

json_t *gw_config_get(const struct gw_config *c, const char *ptr)
{
	json_t *cur = c->root;
	char tok[256];

	while (cur && *ptr == '/') {
		size_t n = 0;

		ptr++;
		while (*ptr && *ptr != '/' && n + 1 < sizeof(tok))
			tok[n++] = *ptr++;
		tok[n] = '\0';
		if (json_is_array(cur))
			cur = json_array_get(cur, strtoul(tok, NULL, 10));
		else
			cur = json_object_get(cur, tok);
	}
	return cur;
}

const char *gw_config_str(const struct gw_config *c, const char *ptr,
			  const char *dflt)
{
	const char *s = json_string_value(gw_config_get(c, ptr));

	return s ? s : dflt;
}

long long gw_config_int(const struct gw_config *c, const char *ptr,
			long long dflt)
{
	json_t *v = gw_config_get(c, ptr);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

int gw_config_bool(const struct gw_config *c, const char *ptr, int dflt)
{
	json_t *v = gw_config_get(c, ptr);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

char *gw_config_path(const struct gw_config *c, const char *ptr)
{
	const char *s = gw_config_str(c, ptr, NULL);
	const char *slash;
	struct gw_buf b;

	if (!s)
		return NULL;
	if (s[0] == '/' || !(slash = strrchr(c->path, '/')))
		return gw_strdup(s);
	gw_buf_init(&b);
	if (gw_buf_add(&b, c->path, (size_t)(slash - c->path) + 1) ||
	    gw_buf_adds(&b, s)) {
		gw_buf_release(&b);
		return NULL;
	}
	return gw_buf_detach(&b, NULL);
}

gw_rc gw_config_secret(const struct gw_config *c, const char *ptr, char **out,
		       struct gw_err *err)
{
	json_t *ref = gw_config_get(c, ptr);
	const char *env = json_string_value(json_object_get(ref, "env"));
	const char *file = json_string_value(json_object_get(ref, "file"));
	char key[256];

	*out = NULL;
	dotted(ptr, key, sizeof(key));
	if (env) {
		const char *v = getenv(env);

		if (!v)
			return gw_err_set(err, GW_ERR_CONFIG,
					  "%s:%ld: %s: environment variable "
					  "'%s' is not set",
					  c->path, line_of(c->lines, ptr), key,
					  env);
		*out = gw_strdup(v);
	} else if (file) {
		char *p, *data = NULL;
		size_t len;
		gw_rc rc;
		char sub[300];

		snprintf(sub, sizeof(sub), "%s/file", ptr);
		p = gw_config_path(c, sub);
		if (!p)
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		rc = gw_read_file(p, 65536, &data, &len, err);
		free(p);
		if (rc)
			return rc;
		while (len > 0 &&
		       (data[len - 1] == '\n' || data[len - 1] == '\r'))
			data[--len] = '\0';
		*out = data;
	} else {
		return gw_err_set(err, GW_ERR_CONFIG,
				  "%s:%ld: %s: a secret is {env: NAME} or "
				  "{file: PATH}, never inline",
				  c->path, line_of(c->lines, ptr), key);
	}
	return *out ? GW_OK : gw_err_set(err, GW_ERR_NOMEM, "out of memory");
}
