/*
 * format.c - canonical messages to and from wire formats through the
 * format side of adapters (see format.h and adapter.h).
 *
 * The adapter maps trees; everything that keeps the gateway safe stays
 * here: the safe parsers, the wire schemas (loaded once per converter),
 * the canonical validation and the business rules. Output is validated
 * from its serialized bytes, parsed again, so what is checked is exactly
 * what is written.
 *
 * Adapters stay free of hashing: they may write "urn:lienthong:key:K" for
 * an id and "urn:lienthong:sha256:K" for a digest, and the ids become
 * UUIDv5 (SHA-1, RFC 9562) of K in the namespace below, the digest the
 * SHA-256 of K. OpenSSL is used here for those two hashes only.
 */
#define GW_CORE
#include "adapt/format.h"

#include <libxml/tree.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "adapt/adapter.h"
#include "base/json.h"
#include "model/jsonschema.h"
#include "model/message.h"
#include "adapt/profile.h"
#include "model/validate.h"
#include "base/xml.h"
#include "crypto/digest.h"

#define KEY_PREFIX "urn:lienthong:key:"
#define SHA_PREFIX "urn:lienthong:sha256:"
#define MAX_CACHED 16
/* the namespace of the report packet's XML form, the one format whose
 * field names a profile renames (profile.h) */
#define RP_NS "urn:lienthong:report-packet:1"

/* The namespace of ids derived from wire-format keys (UUIDv5). */
static const unsigned char wire_namespace[16] = { 0x6c, 0x69, 0x65, 0x6e,
						  0x74, 0x68, 0x6f, 0x6e,
						  0x67, 0x2d, 0x66, 0x6f,
						  0x72, 0x6d, 0x61, 0x74 };

struct cached {
	const struct gw_adapter *a;
	struct gw_xsd *xsd;
	struct gw_js_registry *jreg;
	struct gw_js_schema *js;
};

struct gw_format {
	struct gw_adapter_registry *reg;
	struct gw_validator *v;
	char *schema_dir;
	struct cached c[MAX_CACHED];
	size_t nc;
};

gw_rc gw_format_new(const char *schema_dir, struct gw_format **out,
		    struct gw_err *err)
{
	struct gw_format *f;
	gw_rc rc;

	*out = NULL;
	f = gw_calloc(1, sizeof(*f));
	if (!f)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if (!(f->schema_dir = gw_strdup(schema_dir))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = gw_adapter_registry_new(&f->reg, err)) ||
	    (rc = gw_validator_new(schema_dir, 0, &f->v, err)))
		goto fail;
	*out = f;
	return GW_OK;
fail:
	gw_format_free(f);
	return rc;
}

void gw_format_free(struct gw_format *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->nc; i++) {
		gw_xsd_free(f->c[i].xsd);
		gw_js_schema_free(f->c[i].js);
		gw_js_registry_free(f->c[i].jreg);
	}
	gw_validator_free(f->v);
	gw_adapter_registry_free(f->reg); /* calls the adapters' fini */
	free(f->schema_dir);
	free(f);
}

static gw_rc open_format(struct gw_format *f, const char *name,
			 const struct gw_adapter **a, void **state,
			 struct gw_err *err)
{
	gw_rc rc;

	if ((rc = gw_adapter_open(f->reg, name, a, state, err)))
		return rc;
	if (!GW_ADAPTER_HAS_FORMAT(*a))
		return gw_err_set(err, GW_ERR_USAGE,
				  "adapter '%s' is not a format adapter", name);
	return GW_OK;
}

int gw_format_known(struct gw_format *f, const char *name)
{
	const struct gw_adapter *a = gw_adapter_find(f->reg, name);

	return a && GW_ADAPTER_HAS_FORMAT(a);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The wire schema of adapter a, loaded once. */
static gw_rc wire_schema(struct gw_format *f, const struct gw_adapter *a,
			 void *state, struct cached **out, struct gw_err *err)
{
	char rel[PATH_MAX], path[PATH_MAX + 8], ebuf[256] = "";
	struct cached *c;
	size_t i;
	gw_rc rc;

	for (i = 0; i < f->nc; i++)
		if (f->c[i].a == a) {
			*out = &f->c[i];
			return GW_OK;
		}
	if (f->nc == MAX_CACHED)
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "too many formats in one converter");
	if (a->wire_schema(state, f->schema_dir, rel, sizeof(rel), ebuf,
			   sizeof(ebuf)))
		return gw_err_set(err, GW_ERR_CONFIG, "%s: %s", a->name,
				  ebuf[0] ? ebuf : "no wire schema");
	if (rel[0] == '/')
		snprintf(path, sizeof(path), "%s", rel);
	else
		snprintf(path, sizeof(path), "%s/%s", f->schema_dir, rel);
	c = &f->c[f->nc];
	memset(c, 0, sizeof(*c));
	c->a = a;
	if (ends_with(path, ".xsd")) {
		rc = gw_xsd_load(path, &c->xsd, err);
	} else {
		c->jreg = gw_js_registry_new();
		rc = c->jreg ? gw_js_compile_file(c->jreg, path,
						  GW_JS_FORMAT_ASSERT, &c->js,
						  err)
			     : gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	if (rc) {
		gw_js_registry_free(c->jreg);
		memset(c, 0, sizeof(*c));
		return rc;
	}
	f->nc++;
	*out = c;
	return GW_OK;
}

/* Can profile p rename the fields of format a? */
static gw_rc profile_fits(const struct gw_adapter *a,
			  const struct gw_profile *p, struct gw_err *err)
{
	if (!p || !strcmp(a->name, "report-packet") ||
	    !strcmp(a->name, "report-packet-json"))
		return GW_OK;
	return gw_err_set(err, GW_ERR_USAGE,
			  "profile '%s' renames the fields of the report "
			  "packet (report-packet, report-packet-json), not of "
			  "'%s'; drop the profile",
			  gw_profile_path(p), a->name);
}

/* Rename the parsed tree *tree from the profile's names back to ours (in
 * place for XML, replaced for JSON); name names the input in errors. */
static gw_rc unrename(const struct gw_adapter *a, const struct gw_profile *p,
		      void **tree, const char *name, FILE *errout,
		      struct gw_err *err)
{
	struct gw_err e;
	json_t *j;
	gw_rc rc = GW_OK;

	gw_err_clear(&e);
	if (a->wire_syntax == GW_ADAPTER_WIRE_XML) {
		if ((rc = gw_profile_rename_xml(p, *tree, RP_NS, 1, &e)))
			gw_err_set(err, rc, "%s:%s", name, e.msg);
	} else if ((j = gw_profile_rename_json(p, *tree, 1, &e))) {
		json_decref(*tree);
		*tree = j;
	} else {
		rc = gw_err_set(err, e.rc, "%s: %s", name, e.msg);
	}
	if (rc && errout && rc == GW_ERR_SCHEMA)
		fprintf(errout, "%s\n", err->msg);
	return rc;
}

/* Parse buf as the adapter's syntax, rename it back from the names of
 * profile p (may be NULL) and validate it against its wire schema; *tree
 * is an xmlDocPtr or a json_t * the caller frees. */
static gw_rc parse_wire(const struct gw_adapter *a, const struct cached *c,
			const struct gw_profile *p, const char *buf, size_t len,
			const char *name, void **tree, FILE *errout,
			struct gw_err *err)
{
	gw_rc rc;

	*tree = NULL;
	if (a->wire_syntax == GW_ADAPTER_WIRE_XML) {
		xmlDocPtr doc = NULL;

		if ((rc = gw_xml_parse(buf, len, name, &doc, err)))
			return rc;
		if (p &&
		    (rc = unrename(a, p, (void **)&doc, name, errout, err))) {
			xmlFreeDoc(doc);
			return rc;
		}
		if (!c->xsd) {
			xmlFreeDoc(doc);
			return gw_err_set(err, GW_ERR_CONFIG,
					  "%s: the wire schema of an XML "
					  "format must be an XSD",
					  a->name);
		}
		if ((rc = gw_xsd_validate(c->xsd, doc, name, errout, err))) {
			xmlFreeDoc(doc);
			return rc;
		}
		*tree = doc;
	} else {
		json_t *j = NULL;
		struct gw_js_errors errs = { 0, NULL };

		if ((rc = gw_json_parse(buf, len, name, &j, err)))
			return rc;
		if (p &&
		    (rc = unrename(a, p, (void **)&j, name, errout, err))) {
			json_decref(j);
			return rc;
		}
		if (!c->js) {
			json_decref(j);
			return gw_err_set(err, GW_ERR_CONFIG,
					  "%s: the wire schema of a JSON "
					  "format must be a JSON Schema",
					  a->name);
		}
		if (!gw_js_validate(c->js, j, &errs)) {
			if (errout)
				gw_js_errors_print(&errs, name, errout);
			rc = gw_err_set(
				err, GW_ERR_SCHEMA, "%s: %s: %s", name,
				errs.count && errs.items[0].instance_location[0]
					? errs.items[0].instance_location
					: "(root)",
				errs.count ? errs.items[0].message
					   : "not valid");
			gw_js_errors_release(&errs);
			json_decref(j);
			return rc;
		}
		gw_js_errors_release(&errs); /* a valid walk may keep room */
		*tree = j;
	}
	return GW_OK;
}

static void free_tree(const struct gw_adapter *a, void *tree)
{
	if (!tree)
		return;
	if (a->wire_syntax == GW_ADAPTER_WIRE_XML)
		xmlFreeDoc(tree);
	else
		json_decref(tree);
}

static int kind_carried(const struct gw_adapter *a, const char *kind)
{
	const char *p = a->kinds;
	size_t n = strlen(kind);

	while (p && *p) {
		size_t l = strcspn(p, " ");

		if (l == n && strncmp(p, kind, n) == 0)
			return 1;
		p += l;
		p += strspn(p, " ");
	}
	return 0;
}

/* Validate a canonical message (schema and business rules). */
static gw_rc check_canonical(struct gw_format *f, const json_t *msg,
			     const char *name, FILE *errout, struct gw_err *err)
{
	struct gw_validated res;
	struct gw_buf b;
	gw_rc rc;

	memset(&res, 0, sizeof(res));
	gw_buf_init(&b);
	if (!(rc = gw_msg_json_dump(msg, &b, err))) {
		struct gw_err e;

		gw_err_clear(&e);
		rc = gw_validate_buffer(f->v, name, b.data, b.len, NULL, NULL,
					&res, &e);
		if (rc) {
			if (errout)
				fprintf(errout, "%s\n", e.msg);
			gw_err_set(err, rc, "%s", e.msg);
		}
	}
	gw_validated_release(&res);
	gw_buf_release(&b);
	return rc;
}

/* The text of a wire tree, with a final newline; NULL when out of memory.
 * The caller frees it. */
static char *serialize(const struct gw_adapter *a, void *wire, size_t *tlen)
{
	char *text = NULL;

	*tlen = 0;
	if (a->wire_syntax == GW_ADAPTER_WIRE_XML) {
		xmlChar *mem = NULL;
		int size = 0;

		xmlDocDumpFormatMemoryEnc(wire, &mem, &size, "UTF-8", 1);
		if (!mem)
			return NULL;
		text = gw_strndup((const char *)mem, (size_t)size);
		*tlen = (size_t)size;
		xmlFree(mem);
	} else {
		char *s =
			json_dumps(wire, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (s) {
			*tlen = strlen(s);
			text = gw_malloc(*tlen + 2);
			if (text) {
				memcpy(text, s, *tlen);
				text[(*tlen)++] = '\n';
				text[*tlen] = '\0';
			}
			free(s);
		}
	}
	return text;
}

gw_rc gw_format_to_wire(struct gw_format *f, const char *name,
			const json_t *msg, struct gw_buf *out,
			const char **media_type, FILE *errout,
			struct gw_err *err)
{
	return gw_format_to_wire_profile(f, name, NULL, msg, out, media_type,
					 errout, err);
}

gw_rc gw_format_to_wire_profile(struct gw_format *f, const char *name,
				const struct gw_profile *p, const json_t *msg,
				struct gw_buf *out, const char **media_type,
				FILE *errout, struct gw_err *err)
{
	return gw_format_to_wire_checked(f, name, p, msg, 0, out, NULL,
					 media_type, errout, err);
}

gw_rc gw_format_to_wire_checked(struct gw_format *f, const char *name,
				const struct gw_profile *p, const json_t *msg,
				int validated, struct gw_buf *out, void **tree,
				const char **media_type, FILE *errout,
				struct gw_err *err)
{
	const struct gw_adapter *a;
	struct cached *c;
	void *state, *wire = NULL, *back = NULL;
	char ebuf[256] = "", *text = NULL;
	const char *kind = json_string_value(json_object_get(msg, "kind"));
	size_t tlen = 0;
	gw_rc rc;

	if (tree)
		*tree = NULL;
	if ((rc = open_format(f, name, &a, &state, err)) ||
	    (rc = profile_fits(a, p, err)) ||
	    (!validated && (rc = check_canonical(f, msg, "(canonical message)",
						 errout, err))))
		return rc;
	if (!kind || !kind_carried(a, kind))
		return gw_err_set(err, GW_ERR_UNSUPPORTED,
				  "format '%s' does not carry '%s' messages "
				  "(it carries: %s)",
				  name, kind ? kind : "?", a->kinds);
	if ((rc = wire_schema(f, a, state, &c, err)))
		return rc;
	if (a->to_wire(state, msg, &wire, ebuf, sizeof(ebuf)) || !wire) {
		rc = gw_err_set(err, GW_ERR_UNSUPPORTED, "%s: %s", name,
				ebuf[0] ? ebuf : "cannot convert");
		goto out;
	}
	if (!(text = serialize(a, wire, &tlen))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* what we write must be valid: check the bytes, parsed again */
	if ((rc = parse_wire(a, c, NULL, text, tlen, "(produced output)", &back,
			     errout, err)))
		goto out;
	if (p) {
		/* the packet is valid under our names: rename what was
		 * checked, then check that the renamed bytes, renamed back,
		 * are still the valid packet (the input side's check) */
		free(text);
		text = NULL;
		if (a->wire_syntax == GW_ADAPTER_WIRE_XML) {
			rc = gw_profile_rename_xml(p, back, RP_NS, 0, err);
		} else {
			json_t *r = gw_profile_rename_json(p, back, 0, err);

			json_decref(back);
			back = r;
			rc = r ? GW_OK : err->rc;
		}
		if (rc)
			goto out;
		if (!(text = serialize(a, back, &tlen))) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		free_tree(a, back);
		if ((rc = parse_wire(a, c, p, text, tlen, "(produced output)",
				     &back, errout, err)))
			goto out;
	}
	if ((rc = gw_buf_add(out, text, tlen))) {
		rc = gw_err_set(err, rc, "out of memory");
	} else {
		if (media_type)
			*media_type = a->media_type;
		/* the tree parsed from these very bytes and validated */
		if (tree && !p && a->wire_syntax == GW_ADAPTER_WIRE_XML) {
			*tree = back;
			back = NULL;
		}
	}
out:
	free_tree(a, back);
	free_tree(a, wire);
	free(text);
	return rc;
}

static int uuid5(const char *name, char out[37])
{
	return gw_uuid5(wire_namespace, name, out);
}

static int sha256_hex(const char *s, char out[65])
{
	return gw_sha256_hex(s, strlen(s), out);
}

/* Replace a derived-key placeholder at obj[member]. */
static int derive(json_t *obj, const char *member, int digest)
{
	const char *s = json_string_value(json_object_get(obj, member));
	const char *pre = digest ? SHA_PREFIX : KEY_PREFIX;
	char buf[65];

	if (!s || strncmp(s, pre, strlen(pre)) != 0)
		return 0;
	if (digest ? sha256_hex(s + strlen(pre), buf)
		   : uuid5(s + strlen(pre), buf))
		return -1;
	return json_object_set_new(obj, member, json_string(buf));
}

int gw_format_wire_id(const char *id, const char *format, char out[37])
{
	struct gw_buf k;
	int rc;

	gw_buf_init(&k);
	if (gw_buf_addf(&k, "wire:%s:%s", format, id))
		return -1;
	rc = uuid5(k.data, out);
	gw_buf_release(&k);
	return rc;
}

/* A copy of msg with the envelope members first, in the model's order. */
static json_t *ordered(json_t *msg)
{
	static const char *const order[] = {
		"id",	     "kind",	"schemaVersion", "sender",
		"receivers", "created", "correlationId", "classification",
		"payload",   NULL
	};
	json_t *o = json_object(), *v;
	const char *k;
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; order[i]; i++)
		if ((v = json_object_get(msg, order[i])))
			json_object_set(o, order[i], v);
	json_object_foreach(msg, k, v)
	{
		if (!json_object_get(o, k))
			json_object_set(o, k, v);
	}
	return o;
}

gw_rc gw_format_from_wire(struct gw_format *f, const char *name,
			  const char *buf, size_t len, const char *fname,
			  json_t **msg, FILE *errout, struct gw_err *err)
{
	return gw_format_from_wire_profile(f, name, NULL, buf, len, fname, msg,
					   errout, err);
}

gw_rc gw_format_from_wire_profile(struct gw_format *f, const char *name,
				  const struct gw_profile *p, const char *buf,
				  size_t len, const char *fname, json_t **msg,
				  FILE *errout, struct gw_err *err)
{
	const struct gw_adapter *a = NULL;
	struct cached *c;
	void *state, *tree = NULL;
	json_t *m = NULL, *payload;
	char ebuf[256] = "";
	gw_rc rc;

	*msg = NULL;
	if ((rc = open_format(f, name, &a, &state, err)) ||
	    (rc = profile_fits(a, p, err)) ||
	    (rc = wire_schema(f, a, state, &c, err)) ||
	    (rc = parse_wire(a, c, p, buf, len, fname, &tree, errout, err)))
		goto out;
	if (a->from_wire(state, tree, &m, ebuf, sizeof(ebuf)) || !m) {
		rc = gw_err_set(err, GW_ERR_SCHEMA, "%s: %s", fname,
				ebuf[0] ? ebuf : "cannot map to a message");
		if (errout)
			fprintf(errout, "%s\n", err->msg);
		goto out;
	}
	payload = json_object_get(m, "payload");
	if (derive(m, "id", 0) || derive(m, "correlationId", 0) ||
	    (payload && (derive(payload, "messageId", 0) ||
			 derive(payload, "sha256", 1)))) {
		rc = gw_err_set(err, GW_ERR_INTERNAL, "cannot derive ids");
		goto out;
	}
	if ((payload = ordered(m))) {
		json_decref(m);
		m = payload;
	}
	if ((rc = check_canonical(f, m, fname, errout, err)))
		goto out;
	*msg = m;
	m = NULL;
out:
	json_decref(m);
	free_tree(a, tree);
	return rc;
}

gw_rc gw_format_convert(const char *format, const json_t *msg,
			struct gw_buf *out, const char **media_type,
			struct gw_err *err)
{
	struct gw_format *f = NULL;
	gw_rc rc;

	if (strcmp(format, "json") == 0 || strcmp(format, "xml") == 0) {
		xmlDocPtr doc = NULL;

		if (strcmp(format, "json") == 0) {
			rc = gw_msg_json_dump(msg, out, err);
			if (!rc && media_type)
				*media_type = "application/json";
			return rc;
		}
		if (!(rc = gw_msg_json_to_xml(msg, &doc, err)))
			rc = gw_msg_xml_dump(doc, out, err);
		if (doc)
			xmlFreeDoc(doc);
		if (!rc && media_type)
			*media_type = "application/xml";
		return rc;
	}
	if ((rc = gw_format_new(gw_schema_dir(), &f, err)))
		return rc;
	rc = gw_format_to_wire(f, format, msg, out, media_type, NULL, err);
	gw_format_free(f);
	return rc;
}
