/*
 * profile.c - profile mappings: report-packet field names renamed for a
 * receiving system (see profile.h, docs/FORMATS.md).
 *
 * The names a profile may rename are the enums of the schema
 * (schemas/profile.schema.json), read from it here too, so the list lives
 * in one place. Loading proves the map one-to-one over those names, which
 * is what lets the input side undo it without guessing.
 */
#define GW_CORE
#include "adapt/profile.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/config.h"
#include "base/json.h"

#define XMLDSIG_NS "http://www.w3.org/2000/09/xmldsig#"

struct side {
	const char *sect;    /* "xml" or "json" */
	json_t *names;	     /* ours -> theirs (borrowed from cfg) */
	json_t *back;	     /* theirs -> ours (owned) */
	const json_t *vocab; /* every name of ours (borrowed from schema) */
	const char *ns;	     /* xml: their namespace, NULL: ours */
};

struct gw_profile {
	struct gw_config *cfg;
	json_t *schema;
	struct side xml, json;
};

const char *gw_profile_path(const struct gw_profile *p)
{
	return p->cfg->path;
}

void gw_profile_free(struct gw_profile *p)
{
	if (!p)
		return;
	json_decref(p->xml.back);
	json_decref(p->json.back);
	json_decref(p->schema);
	gw_config_free(p->cfg);
	free(p);
}

static int in_vocab(const json_t *vocab, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(vocab, i, v)
	{
		if (json_string_value(v) && !strcmp(json_string_value(v), name))
			return 1;
	}
	return 0;
}

/* An XML name without a colon, not one of the reserved xml... names. */
static int good_name(const char *s)
{
	return xmlValidateNCName((const xmlChar *)s, 0) == 0 &&
	       strncasecmp(s, "xml", 3) != 0;
}

/* Report one problem at the key at JSON Pointer ptr; the first to err. */
static void problem(struct gw_profile *p, const char *ptr, gw_report_cb cb,
		    void *arg, struct gw_err *err, int *n, const char *why)
{
	char key[256], line[GW_ERR_MSG_MAX];

	gw_config_key(ptr, key, sizeof(key));
	snprintf(line, sizeof(line), "%s:%ld: %s: %s", p->cfg->path,
		 gw_config_line(p->cfg, ptr), key, why);
	if (cb)
		cb(arg, GW_ERR_CONFIG, line);
	if ((*n)++ == 0)
		gw_err_set(err, GW_ERR_CONFIG, "%s", line);
}

/* Build s->back and prove the map one-to-one; returns the problems. */
static int check_side(struct gw_profile *p, struct side *s, gw_report_cb cb,
		      void *arg, struct gw_err *err, int *n)
{
	const char *ours;
	json_t *v;
	char ptr[300], why[400];

	if (!(s->back = json_object()))
		return -1;
	json_object_foreach(s->names, ours, v)
	{
		const char *theirs = json_string_value(v);
		const char *other;

		snprintf(ptr, sizeof(ptr), "/%s/names/%s", s->sect, ours);
		if (!theirs)
			continue; /* the schema said so already */
		other = json_string_value(json_object_get(s->back, theirs));
		if (!good_name(theirs)) {
			snprintf(why, sizeof(why),
				 "'%s' is not an XML name (letters, digits, "
				 "'.', '-', '_'; not starting with a digit, "
				 "'-', '.' or 'xml'; no ':'); choose another",
				 theirs);
			problem(p, ptr, cb, arg, err, n, why);
		} else if (other) {
			snprintf(
				why, sizeof(why),
				"'%s' is already the name of '%s' (%s.names.%s)"
				"; give each field its own name",
				theirs, other, s->sect, other);
			problem(p, ptr, cb, arg, err, n, why);
		} else if (strcmp(theirs, ours) && in_vocab(s->vocab, theirs) &&
			   !json_object_get(s->names, theirs)) {
			snprintf(
				why, sizeof(why),
				"'%s' is the name of the field '%s', which "
				"this profile keeps; rename '%s' too or choose "
				"another name",
				theirs, theirs, theirs);
			problem(p, ptr, cb, arg, err, n, why);
		} else if (json_object_set_new(s->back, theirs,
					       json_string(ours))) {
			return -1;
		}
	}
	return 0;
}

static gw_rc load_vocab(struct gw_profile *p, const char *schema_dir,
			struct gw_err *err)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len;
	gw_rc rc;

	snprintf(path, sizeof(path), "%s/profile.schema.json", schema_dir);
	if ((rc = gw_read_file(path, 1 << 20, &buf, &len, err)))
		return rc;
	rc = gw_json_parse(buf, len, path, &p->schema, err);
	free(buf);
	if (rc)
		return rc;
	p->xml.vocab = json_object_get(
		json_object_get(
			json_object_get(
				json_object_get(
					json_object_get(
						json_object_get(p->schema,
								"properties"),
						"xml"),
					"properties"),
				"names"),
			"propertyNames"),
		"enum");
	p->json.vocab = json_object_get(
		json_object_get(
			json_object_get(
				json_object_get(
					json_object_get(
						json_object_get(p->schema,
								"properties"),
						"json"),
					"properties"),
				"names"),
			"propertyNames"),
		"enum");
	if (!json_is_array(p->xml.vocab) || !json_is_array(p->json.vocab))
		return gw_err_set(err, GW_ERR_SCHEMA_DEF,
				  "%s: no list of the names a profile renames "
				  "(properties.xml/json.properties.names."
				  "propertyNames.enum)",
				  path);
	return GW_OK;
}

gw_rc gw_profile_load(const char *path, const char *schema_dir, gw_report_cb cb,
		      void *arg, struct gw_profile **out, struct gw_err *err)
{
	struct gw_profile *p = gw_calloc(1, sizeof(*p));
	int n = 0;
	gw_rc rc;

	*out = NULL;
	if (!p)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((rc = gw_config_load_as(path, schema_dir, "profile.schema.json", cb,
				    arg, &p->cfg, err)) ||
	    (rc = load_vocab(p, schema_dir, err)))
		goto out;
	p->xml.sect = "xml";
	p->json.sect = "json";
	p->xml.names = gw_config_get(p->cfg, "/xml/names");
	p->json.names = gw_config_get(p->cfg, "/json/names");
	p->xml.ns = gw_config_str(p->cfg, "/xml/namespace", NULL);
	if (p->xml.ns && (!strcmp(p->xml.ns, (const char *)XML_XML_NAMESPACE) ||
			  !strcmp(p->xml.ns, "http://www.w3.org/2000/xmlns/") ||
			  !strcmp(p->xml.ns, XMLDSIG_NS)))
		problem(p, "/xml/namespace", cb, arg, err, &n,
			"a reserved namespace (XML, xmlns, XML-DSig) cannot "
			"be the packet's; use the receiving system's own");
	if (check_side(p, &p->xml, cb, arg, err, &n) ||
	    check_side(p, &p->json, cb, arg, err, &n)) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (n) {
		rc = GW_ERR_CONFIG;
		goto out;
	}
	*out = p;
	p = NULL;
out:
	gw_profile_free(p);
	return rc;
}

/* --- XML ----------------------------------------------------------------- */

/* The new name of name, or NULL to keep it; -1 in *bad when reversing
 * meets a name of ours that the profile renames. */
static const char *rename_one(const struct side *s, const char *name,
			      int reverse, int *bad)
{
	if (!reverse)
		return json_string_value(json_object_get(s->names, name));
	if (json_object_get(s->back, name))
		return json_string_value(json_object_get(s->back, name));
	if (json_object_get(s->names, name))
		*bad = 1;
	return NULL;
}

static gw_rc not_theirs(const struct side *s, const char *what,
			const char *name, long line, struct gw_err *err)
{
	return gw_err_set(err, GW_ERR_SCHEMA,
			  "%ld: %s '%s' is not a name of this profile "
			  "(it calls it '%s'); the input does not follow the "
			  "profile",
			  line, what, name,
			  json_string_value(json_object_get(s->names, name)));
}

static gw_rc rename_tree(const struct side *s, xmlNode *n, const char *ns,
			 int reverse, struct gw_err *err)
{
	for (; n; n = n->next) {
		const char *to;
		xmlAttr *a;
		int bad = 0;
		gw_rc rc;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		/* only the packet's own elements and their attributes: an
		 * element of another namespace (a signature) keeps its names */
		if (!n->ns || strcmp((const char *)n->ns->href, ns))
			goto children;
		to = rename_one(s, (const char *)n->name, reverse, &bad);
		if (bad)
			return not_theirs(s, "element", (const char *)n->name,
					  xmlGetLineNo(n), err);
		if (to)
			xmlNodeSetName(n, (const xmlChar *)to);
		for (a = n->properties; a; a = a->next) {
			if (a->ns)
				continue;
			to = rename_one(s, (const char *)a->name, reverse,
					&bad);
			if (bad)
				return not_theirs(s, "attribute",
						  (const char *)a->name,
						  xmlGetLineNo(n), err);
			if (to)
				xmlNodeSetName((xmlNodePtr)a,
					       (const xmlChar *)to);
		}
	children:
		if ((rc = rename_tree(s, n->children, ns, reverse, err)))
			return rc;
	}
	return GW_OK;
}

/* Every declaration of namespace from becomes to. */
static gw_rc swap_ns(xmlNode *n, const char *from, const char *to)
{
	for (; n; n = n->next) {
		xmlNs *d;
		gw_rc rc;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (d = n->nsDef; d; d = d->next) {
			xmlChar *h;

			if (!d->href || strcmp((const char *)d->href, from))
				continue;
			if (!(h = xmlStrdup((const xmlChar *)to)))
				return GW_ERR_NOMEM;
			xmlFree((xmlChar *)d->href);
			d->href = h;
		}
		if ((rc = swap_ns(n->children, from, to)))
			return rc;
	}
	return GW_OK;
}

/* Is namespace ns declared anywhere in the tree of n? */
static long ns_line(xmlNode *n, const char *ns)
{
	for (; n; n = n->next) {
		xmlNs *d;
		long l;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (d = n->nsDef; d; d = d->next)
			if (d->href && !strcmp((const char *)d->href, ns))
				return xmlGetLineNo(n) > 0 ? xmlGetLineNo(n)
							   : 1;
		if ((l = ns_line(n->children, ns)))
			return l;
	}
	return 0;
}

gw_rc gw_profile_rename_xml(const struct gw_profile *p, xmlDocPtr doc,
			    const char *ns, int reverse, struct gw_err *err)
{
	const struct side *s = &p->xml;
	xmlNode *root = xmlDocGetRootElement(doc);
	const char *theirs = s->ns && strcmp(s->ns, ns) ? s->ns : NULL;
	long l;
	gw_rc rc;

	if (!root)
		return GW_OK;
	if (!reverse) {
		if ((rc = rename_tree(s, root, ns, 0, err)))
			return rc;
		if (theirs && swap_ns(root, ns, theirs))
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		return GW_OK;
	}
	if (theirs) {
		if ((l = ns_line(root, ns)))
			return gw_err_set(err, GW_ERR_SCHEMA,
					  "%ld: namespace '%s' is not the "
					  "namespace of this profile ('%s'); "
					  "the input does not follow the "
					  "profile",
					  l, ns, theirs);
		if (swap_ns(root, theirs, ns))
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	return rename_tree(s, root, ns, 1, err);
}

/* --- JSON ---------------------------------------------------------------- */

/* ptr[0..at) + "/" + k escaped as a JSON Pointer token (RFC 6901). */
static void pointer_add(char *ptr, size_t plen, size_t at, const char *k)
{
	if (at + 1 < plen)
		ptr[at++] = '/';
	for (; *k && at + 2 < plen; k++) {
		if (*k == '~' || *k == '/') {
			ptr[at++] = '~';
			ptr[at++] = *k == '~' ? '0' : '1';
		} else {
			ptr[at++] = *k;
		}
	}
	ptr[at] = '\0';
}

static json_t *rename_value(const struct side *s, const json_t *v, int reverse,
			    char *ptr, size_t plen, size_t at,
			    struct gw_err *err)
{
	json_t *o, *item, *r;
	const char *k;
	size_t i;

	if (json_is_array(v)) {
		if (!(o = json_array()))
			goto nomem;
		json_array_foreach(v, i, item)
		{
			snprintf(ptr + at, plen - at, "/%zu", i);
			r = rename_value(s, item, reverse, ptr, plen,
					 strlen(ptr), err);
			if (!r) {
				json_decref(o);
				return NULL;
			}
			if (json_array_append_new(o, r)) {
				json_decref(o);
				goto nomem;
			}
		}
		return o;
	}
	if (!json_is_object(v))
		return json_incref((json_t *)v);
	if (!(o = json_object()))
		goto nomem;
	json_object_foreach((json_t *)v, k, item)
	{
		int bad = 0;
		const char *to = rename_one(s, k, reverse, &bad);

		pointer_add(ptr, plen, at, k);
		if (bad || json_object_get(o, to ? to : k)) {
			gw_err_set(err, GW_ERR_SCHEMA,
				   "%s: '%s' is not a member name of this "
				   "profile%s%s%s; the input does not follow "
				   "the profile",
				   ptr, k, bad ? " (it calls it '" : "",
				   bad ? json_string_value(
						 json_object_get(s->names, k))
				       : "",
				   bad ? "')" : " (twice after renaming)");
			json_decref(o);
			return NULL;
		}
		r = rename_value(s, item, reverse, ptr, plen, strlen(ptr), err);
		if (!r) {
			json_decref(o);
			return NULL;
		}
		if (json_object_set_new(o, to ? to : k, r)) {
			json_decref(o);
			goto nomem;
		}
	}
	return o;
nomem:
	gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	return NULL;
}

json_t *gw_profile_rename_json(const struct gw_profile *p, const json_t *v,
			       int reverse, struct gw_err *err)
{
	char ptr[1024] = "";

	return rename_value(&p->json, v, reverse, ptr, sizeof(ptr), 0, err);
}
