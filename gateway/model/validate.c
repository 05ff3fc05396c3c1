/*
 * validate.c - the validation step of the pipeline: format detection,
 * schema choice, schema validation and business rules, with every problem
 * reported as one located line.
 */
#include "model/validate.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "model/jsonschema.h"
#include "base/xml.h"

#ifndef GW_DATADIR
#define GW_DATADIR "/usr/local/share/lienthong"
#endif

struct gw_validator {
	unsigned flags;
	struct gw_js_registry *reg;
	struct gw_js_schema *msg_json;
	struct gw_xsd *msg_xsd;
	/* --schema: exactly one of these */
	struct gw_js_schema *custom_json;
	struct gw_xsd *custom_xsd;
};

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *gw_schema_dir(void)
{
	static char buf[PATH_MAX + 32];
	const char *env = getenv("LIENTHONG_SCHEMA_DIR");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		if ((slash = strrchr(exe, '/'))) {
			*slash = '\0';
			/* bin/ or build/<mode>/ */
			snprintf(buf, sizeof(buf), "%s/../schemas", exe);
			if (is_dir(buf))
				return buf;
			snprintf(buf, sizeof(buf), "%s/../../schemas", exe);
			if (is_dir(buf))
				return buf;
		}
	}
	return GW_DATADIR "/schemas";
}

gw_rc gw_validator_new(const char *schema_dir, unsigned flags,
		       struct gw_validator **out, struct gw_err *err)
{
	struct gw_validator *v;
	char path[PATH_MAX];
	gw_rc rc;

	*out = NULL;
	v = gw_calloc(1, sizeof(*v));
	if (!v)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	v->flags = flags;
	v->reg = gw_js_registry_new();
	if (!v->reg) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = gw_js_registry_add_dir(v->reg, schema_dir, err)))
		goto out;
	snprintf(path, sizeof(path), "%s/message-1.schema.json", schema_dir);
	if ((rc = gw_js_compile_file(
		     v->reg, path,
		     flags & GW_VAL_FORMAT_ASSERT ? GW_JS_FORMAT_ASSERT : 0,
		     &v->msg_json, err)))
		goto out;
	snprintf(path, sizeof(path), "%s/message-1.xsd", schema_dir);
	if ((rc = gw_xsd_load(path, &v->msg_xsd, err)))
		goto out;
	*out = v;
	return GW_OK;
out:
	gw_validator_free(v);
	return rc;
}

void gw_validator_free(struct gw_validator *v)
{
	if (!v)
		return;
	gw_js_schema_free(v->msg_json);
	gw_js_schema_free(v->custom_json);
	gw_xsd_free(v->msg_xsd);
	gw_xsd_free(v->custom_xsd);
	gw_js_registry_free(v->reg);
	free(v);
}

gw_rc gw_validator_map(struct gw_validator *v, const char *prefix,
		       const char *dir, struct gw_err *err)
{
	return gw_js_registry_map(v->reg, prefix, dir, err);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

gw_rc gw_validator_use_schema(struct gw_validator *v, const char *path,
			      struct gw_err *err)
{
	if (ends_with(path, ".xsd"))
		return gw_xsd_load(path, &v->custom_xsd, err);
	return gw_js_compile_file(
		v->reg, path,
		v->flags & GW_VAL_FORMAT_ASSERT ? GW_JS_FORMAT_ASSERT : 0,
		&v->custom_json, err);
}

void gw_validated_release(struct gw_validated *r)
{
	if (!r)
		return;
	json_decref(r->json);
	if (r->xml)
		xmlFreeDoc(r->xml);
	memset(r, 0, sizeof(*r));
}

struct report {
	gw_report_cb cb;
	void *arg;
	const char *name;
	xmlDocPtr xml; /* when set, rule pointers become line numbers */
	struct gw_err *err;
	int first_done;
};

static void emit(struct report *r, gw_rc rc, const char *line)
{
	if (r->cb)
		r->cb(r->arg, rc, line);
	if (!r->first_done) {
		r->first_done = 1;
		gw_err_set(r->err, rc, "%s", line);
	}
}

static void on_rule(void *arg, const char *pointer, const char *reason,
		    gw_rc rc)
{
	struct report *r = arg;
	char line[GW_ERR_MSG_MAX + 256];

	if (r->xml)
		snprintf(line, sizeof(line), "%s:%ld: %s (at %s)", r->name,
			 gw_msg_xml_line(r->xml, pointer), reason,
			 *pointer ? pointer : "/");
	else
		snprintf(line, sizeof(line), "%s: %s: %s", r->name,
			 *pointer ? pointer : "(root)", reason);
	emit(r, rc, line);
}

static gw_rc json_schema_check(struct report *r, const struct gw_js_schema *s,
			       const json_t *doc)
{
	struct gw_js_errors errs = { 0, NULL };
	char line[GW_ERR_MSG_MAX + 256];
	size_t i;

	if (gw_js_validate(s, doc, &errs)) {
		gw_js_errors_release(&errs); /* may hold a spare array */
		return GW_OK;
	}
	for (i = 0; i < errs.count; i++) {
		const struct gw_js_error *e = &errs.items[i];

		snprintf(line, sizeof(line), "%s: %s: %s (schema %s)", r->name,
			 *e->instance_location ? e->instance_location
					       : "(root)",
			 e->message,
			 *e->keyword_location ? e->keyword_location : "#");
		emit(r, GW_ERR_SCHEMA, line);
	}
	if (!errs.count)
		emit(r, GW_ERR_SCHEMA, "not valid");
	gw_js_errors_release(&errs);
	return GW_ERR_SCHEMA;
}

static gw_rc xml_schema_check(struct report *r, const struct gw_xsd *x,
			      xmlDocPtr doc)
{
	struct gw_err first;
	FILE *mem;
	char *buf = NULL;
	size_t len = 0;
	gw_rc rc;

	/* Collect libxml2's lines through a memory stream, then report each. */
	mem = open_memstream(&buf, &len);
	if (!mem)
		return gw_err_set(r->err, GW_ERR_NOMEM, "out of memory");
	gw_err_clear(&first);
	rc = gw_xsd_validate(x, doc, r->name, mem, &first);
	fclose(mem);
	if (rc == GW_ERR_SCHEMA && buf) {
		char *line = buf, *nl;

		while (*line) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (*line)
				emit(r, GW_ERR_SCHEMA, line);
			if (!nl)
				break;
			line = nl + 1;
		}
	} else if (rc) {
		emit(r, rc, first.msg);
	}
	free(buf);
	return rc;
}

static gw_rc validate_xml(struct gw_validator *v, struct report *r,
			  const char *buf, size_t len, struct gw_validated *res)
{
	struct gw_err perr;
	json_t *json = NULL;
	gw_rc rc, rrc;

	gw_err_clear(&perr);
	if ((rc = gw_xml_parse(buf, len, r->name, &res->xml, &perr))) {
		emit(r, rc, perr.msg);
		return rc;
	}
	if (v->custom_xsd)
		return xml_schema_check(r, v->custom_xsd, res->xml);
	if (v->custom_json) {
		emit(r, GW_ERR_UNSUPPORTED,
		     "a JSON Schema cannot validate XML");
		return GW_ERR_USAGE;
	}
	if (!gw_msg_xml_is_canonical(res->xml)) {
		xmlNodePtr root = xmlDocGetRootElement(res->xml);
		char line[GW_ERR_MSG_MAX];

		snprintf(line, sizeof(line),
			 "%s:%d: no schema is known for root element {%s}%s; "
			 "name one with --schema",
			 r->name, root->line,
			 root->ns ? (const char *)root->ns->href : "",
			 root->name);
		emit(r, GW_ERR_UNSUPPORTED, line);
		return GW_ERR_UNSUPPORTED;
	}
	rc = xml_schema_check(r, v->msg_xsd, res->xml);
	gw_err_clear(&perr);
	if (gw_msg_xml_to_json(res->xml, &json, &perr)) {
		if (!rc) {
			char line[GW_ERR_MSG_MAX + 64];
			int ln = 0, off = 0;

			/* "line N: reason" becomes "NAME:N: reason" */
			if (sscanf(perr.msg, "line %d: %n", &ln, &off) == 1 &&
			    off > 0)
				snprintf(line, sizeof(line), "%s:%d: %s",
					 r->name, ln, perr.msg + off);
			else
				snprintf(line, sizeof(line), "%s: %s", r->name,
					 perr.msg);
			emit(r, GW_ERR_SCHEMA, line);
			rc = GW_ERR_SCHEMA;
		}
		return rc;
	}
	res->json = json;
	res->kind = gw_msg_json_kind(json);
	r->xml = res->xml;
	rrc = gw_msg_check_rules(json, on_rule, r);
	r->xml = NULL;
	if (rrc == GW_ERR_REFUSED || !rc)
		rc = rrc;
	return rc;
}

static gw_rc validate_json(struct gw_validator *v, struct report *r,
			   const char *buf, size_t len,
			   struct gw_validated *res)
{
	struct gw_err perr;
	gw_rc rc, rrc;

	gw_err_clear(&perr);
	if ((rc = gw_json_parse(buf, len, r->name, &res->json, &perr))) {
		emit(r, rc, perr.msg);
		return rc;
	}
	if (v->custom_xsd) {
		emit(r, GW_ERR_UNSUPPORTED,
		     "an XML schema cannot validate JSON");
		return GW_ERR_USAGE;
	}
	if (v->custom_json) {
		rc = json_schema_check(r, v->custom_json, res->json);
		/* a secret message is refused everywhere */
		if (gw_msg_json_kind(res->json) != GW_KIND_UNKNOWN &&
		    json_is_string(
			    json_object_get(res->json, "classification")) &&
		    strcmp(json_string_value(json_object_get(res->json,
							     "classification")),
			   "secret") == 0)
			rc = gw_msg_check_rules(res->json, on_rule, r);
		return rc;
	}
	if (!json_is_object(res->json) || !json_object_get(res->json, "kind")) {
		char line[GW_ERR_MSG_MAX];

		snprintf(line, sizeof(line),
			 "%s: (root): not a canonical message (no 'kind' "
			 "member); name a schema with --schema",
			 r->name);
		emit(r, GW_ERR_UNSUPPORTED, line);
		return GW_ERR_UNSUPPORTED;
	}
	res->kind = gw_msg_json_kind(res->json);
	rc = json_schema_check(r, v->msg_json, res->json);
	rrc = gw_msg_check_rules(res->json, on_rule, r);
	if (rrc == GW_ERR_REFUSED || !rc)
		rc = rrc;
	return rc;
}

/* RFC 8259 allows any value at the top: a text that is not XML, an
 * object or an array is JSON when it starts as a string, a number, true,
 * false or null does (the parser then says whether it is one). */
static int json_scalar_text(const char *buf, size_t len)
{
	size_t i = 0;

	if (len >= 3 && (unsigned char)buf[0] == 0xEF &&
	    (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF)
		i = 3;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' ||
			   buf[i] == '\r'))
		i++;
	return i < len && strchr("\"-0123456789tfn", buf[i]) && buf[i];
}

gw_rc gw_validate_buffer(struct gw_validator *v, const char *name,
			 const char *buf, size_t len, gw_report_cb cb,
			 void *arg, struct gw_validated *res,
			 struct gw_err *err)
{
	struct gw_validated local;
	struct report r = { cb, arg, name, NULL, err, 0 };
	gw_rc rc;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	res->format = gw_msg_detect(buf, len);
	if (res->format == GW_FMT_UNKNOWN && json_scalar_text(buf, len))
		res->format = GW_FMT_JSON;
	switch (res->format) {
	case GW_FMT_XML: rc = validate_xml(v, &r, buf, len, res); break;
	case GW_FMT_JSON: rc = validate_json(v, &r, buf, len, res); break;
	default: {
		char line[GW_ERR_MSG_MAX];

		snprintf(line, sizeof(line),
			 "%s:1: neither XML nor JSON (the first character "
			 "is not '<', '{', '[', '\"', a digit, '-', 't', "
			 "'f' or 'n')",
			 name);
		emit(&r, GW_ERR_PARSE, line);
		rc = GW_ERR_PARSE;
	}
	}
	if (res == &local)
		gw_validated_release(&local);
	return rc;
}
