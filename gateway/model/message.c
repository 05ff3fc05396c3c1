/*
 * message.c - the canonical message model: kinds, JSON <-> XML conversion,
 * business rules.
 *
 * The two forms carry the same information by construction: every JSON
 * member is an XML element of the same name; an array is a wrapper element
 * whose items have the singular name listed in the table below; the JSON
 * payload object sits in XML inside <payload> under an element named after
 * the kind. Integers are the only non-string scalars. That is all the
 * converter needs to know, so it is a table, not code per kind.
 */
#include "model/message.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

static const struct {
	const char *key;  /* JSON member / XML wrapper element */
	const char *item; /* XML item element */
	int item_is_object;
} arrays[] = {
	{ "receivers", "receiver", 1 },
	{ "supersedes", "documentNumber", 0 },
	{ "legalBases", "legalBasis", 0 },
	{ "reportingRules", "reportingRule", 1 },
	{ "tasks", "taskAssignment", 1 },
	{ "indicatorTargets", "observation", 1 },
	{ "numbering", "level", 0 },
	{ "leadUnits", "unit", 1 },
	{ "coordinatingUnits", "unit", 1 },
	{ "dimensions", "dimension", 1 },
	{ "observations", "observation", 1 },
	{ "errors", "error", 1 },
};

static const char *const integers[] = { "dueDay", "dueMonth",
					"percentComplete" };

static const char *const objects[] = {
	"sender",	"issuer",    "signer",	      "timeline", "reporter",
	"leadMinistry", "focalUnit", "reportingUnit", "payload"
};

static const struct {
	enum gw_msg_kind kind;
	const char *name;
	const char *element; /* payload element in XML */
} kinds[] = {
	{ GW_KIND_PLAN, "plan", "plan" },
	{ GW_KIND_TASK_ASSIGNMENT, "task.assignment", "taskAssignment" },
	{ GW_KIND_TASK_PROGRESS, "task.progress", "taskProgress" },
	{ GW_KIND_INDICATOR_REPORT, "indicator.report", "indicatorReport" },
	{ GW_KIND_RECEIPT, "receipt", "receipt" },
};

static int array_index(const char *key)
{
	size_t i;

	for (i = 0; i < GW_ARRAY_LEN(arrays); i++)
		if (strcmp(arrays[i].key, key) == 0)
			return (int)i;
	return -1;
}

static int in_list(const char *const *list, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], key) == 0)
			return 1;
	return 0;
}

enum gw_msg_format gw_msg_detect(const char *buf, size_t len)
{
	size_t i = 0;

	if (len >= 3 && (unsigned char)buf[0] == 0xEF &&
	    (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF)
		i = 3;
	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i == len)
		return GW_FMT_UNKNOWN;
	if (buf[i] == '<')
		return GW_FMT_XML;
	if (buf[i] == '{' || buf[i] == '[')
		return GW_FMT_JSON;
	return GW_FMT_UNKNOWN;
}

const char *gw_msg_kind_name(enum gw_msg_kind k)
{
	size_t i;

	for (i = 0; i < GW_ARRAY_LEN(kinds); i++)
		if (kinds[i].kind == k)
			return kinds[i].name;
	return NULL;
}

enum gw_msg_kind gw_msg_kind_parse(const char *s)
{
	size_t i;

	for (i = 0; s && i < GW_ARRAY_LEN(kinds); i++)
		if (strcmp(kinds[i].name, s) == 0)
			return kinds[i].kind;
	return GW_KIND_UNKNOWN;
}

enum gw_msg_kind gw_msg_json_kind(const json_t *msg)
{
	return gw_msg_kind_parse(
		json_string_value(json_object_get(msg, "kind")));
}

static const char *kind_element(enum gw_msg_kind k)
{
	size_t i;

	for (i = 0; i < GW_ARRAY_LEN(kinds); i++)
		if (kinds[i].kind == k)
			return kinds[i].element;
	return NULL;
}

static int is_ns_elem(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, GW_MSG_NS) == 0 &&
	       (!name || strcmp((const char *)n->name, name) == 0);
}

int gw_msg_xml_is_canonical(xmlDocPtr doc)
{
	return is_ns_elem(xmlDocGetRootElement(doc), "message");
}

/* ---- XML -> JSON ------------------------------------------------------ */

static gw_rc elem_to_json(xmlNodePtr el, const char *key, int as_object,
			  json_t **out, struct gw_err *err);

static gw_rc text_of(xmlNodePtr el, json_t **out, struct gw_err *err)
{
	xmlNodePtr c;
	struct gw_buf b;

	gw_buf_init(&b);
	for (c = el->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			gw_buf_release(&b);
			return gw_err_set(
				err, GW_ERR_SCHEMA,
				"line %d: element '%s' must hold text, "
				"not element '%s'",
				c->line, el->name, c->name);
		}
		if ((c->type == XML_TEXT_NODE ||
		     c->type == XML_CDATA_SECTION_NODE) &&
		    c->content && gw_buf_adds(&b, (const char *)c->content)) {
			gw_buf_release(&b);
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		}
	}
	*out = json_stringn(b.data ? b.data : "", b.len);
	gw_buf_release(&b);
	if (!*out)
		return gw_err_set(err, GW_ERR_SCHEMA,
				  "line %d: element '%s' is not valid UTF-8",
				  el->line, el->name);
	return GW_OK;
}

static gw_rc integer_of(xmlNodePtr el, json_t **out, struct gw_err *err)
{
	xmlChar *s = xmlNodeGetContent(el);
	char *end;
	long long v;

	errno = 0;
	v = s ? strtoll((const char *)s, &end, 10) : 0;
	if (!s || !*s || *end || errno) {
		gw_err_set(err, GW_ERR_SCHEMA,
			   "line %d: element '%s' must be an integer", el->line,
			   el->name);
		xmlFree(s);
		return GW_ERR_SCHEMA;
	}
	xmlFree(s);
	*out = json_integer(v);
	return *out ? GW_OK : gw_err_set(err, GW_ERR_NOMEM, "out of memory");
}

static gw_rc object_of(xmlNodePtr el, json_t **out, struct gw_err *err)
{
	json_t *obj = json_object();
	xmlNodePtr c;
	gw_rc rc = GW_OK;

	if (!obj)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (c = el->children; c; c = c->next) {
		json_t *v = NULL;

		if (c->type == XML_TEXT_NODE) {
			const xmlChar *p = c->content;

			while (p && *p && isspace(*p))
				p++;
			if (p && *p) {
				rc = gw_err_set(
					err, GW_ERR_SCHEMA,
					"line %d: element '%s' must hold "
					"elements, not text",
					c->line, el->name);
				goto out;
			}
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!is_ns_elem(c, NULL)) {
			rc = gw_err_set(err, GW_ERR_SCHEMA,
					"line %d: element '%s' is not in the "
					"namespace " GW_MSG_NS,
					c->line, c->name);
			goto out;
		}
		if (json_object_get(obj, (const char *)c->name)) {
			rc = gw_err_set(err, GW_ERR_SCHEMA,
					"line %d: element '%s' repeated",
					c->line, c->name);
			goto out;
		}
		if ((rc = elem_to_json(c, (const char *)c->name, 0, &v, err)))
			goto out;
		if (json_object_set_new(obj, (const char *)c->name, v)) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
out:
	if (rc)
		json_decref(obj);
	else
		*out = obj;
	return rc;
}

static gw_rc array_of(xmlNodePtr el, int ai, json_t **out, struct gw_err *err)
{
	json_t *arr = json_array();
	xmlNodePtr c;
	gw_rc rc = GW_OK;

	if (!arr)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (c = el->children; c; c = c->next) {
		json_t *v = NULL;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!is_ns_elem(c, arrays[ai].item)) {
			rc = gw_err_set(err, GW_ERR_SCHEMA,
					"line %d: '%s' may hold only '%s' "
					"elements, not '%s'",
					c->line, el->name, arrays[ai].item,
					c->name);
			goto out;
		}
		rc = arrays[ai].item_is_object ? object_of(c, &v, err)
					       : text_of(c, &v, err);
		if (rc)
			goto out;
		if (json_array_append_new(arr, v)) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
out:
	if (rc)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

static gw_rc payload_of(xmlNodePtr el, json_t **out, struct gw_err *err)
{
	xmlNodePtr c, only = NULL;

	for (c = el->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (only)
			return gw_err_set(
				err, GW_ERR_SCHEMA,
				"line %d: payload holds more than one "
				"element",
				c->line);
		only = c;
	}
	if (!only)
		return gw_err_set(err, GW_ERR_SCHEMA,
				  "line %d: payload is empty", el->line);
	return object_of(only, out, err);
}

static gw_rc elem_to_json(xmlNodePtr el, const char *key, int as_object,
			  json_t **out, struct gw_err *err)
{
	int ai = array_index(key);

	if (strcmp(key, "payload") == 0)
		return payload_of(el, out, err);
	if (ai >= 0)
		return array_of(el, ai, out, err);
	if (in_list(integers, GW_ARRAY_LEN(integers), key))
		return integer_of(el, out, err);
	if (as_object || in_list(objects, GW_ARRAY_LEN(objects), key))
		return object_of(el, out, err);
	return text_of(el, out, err);
}

gw_rc gw_msg_xml_to_json(xmlDocPtr doc, json_t **out, struct gw_err *err)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	json_t *msg = NULL;
	gw_rc rc;
	enum gw_msg_kind k;

	*out = NULL;
	if (!is_ns_elem(root, "message"))
		return gw_err_set(err, GW_ERR_SCHEMA,
				  "the root element is not {" GW_MSG_NS
				  "}message");
	if ((rc = object_of(root, &msg, err)))
		return rc;
	/* The payload element must match the kind: XSD cannot say so. */
	k = gw_msg_json_kind(msg);
	if (k != GW_KIND_UNKNOWN) {
		xmlNodePtr c, p = NULL;

		for (c = root->children; c; c = c->next)
			if (is_ns_elem(c, "payload"))
				p = c;
		for (c = p ? p->children : NULL; c; c = c->next) {
			if (c->type != XML_ELEMENT_NODE)
				continue;
			if (strcmp((const char *)c->name, kind_element(k))) {
				json_decref(msg);
				return gw_err_set(err, GW_ERR_SCHEMA,
						  "line %d: a '%s' message "
						  "needs a '%s' payload, not "
						  "'%s'",
						  c->line, gw_msg_kind_name(k),
						  kind_element(k), c->name);
			}
		}
	}
	*out = msg;
	return GW_OK;
}

/* ---- JSON -> XML ------------------------------------------------------ */

static gw_rc check_xml_chars(const char *s, const char *ptr, struct gw_err *err)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return gw_err_set(err, GW_ERR_REFUSED,
					  "%s: character U+%04X cannot be "
					  "carried in XML 1.0",
					  ptr, *p);
	/* U+FFFE and U+FFFF (EF BF BE/BF) are not XML characters either. */
	for (p = (const unsigned char *)s; *p; p++)
		if (p[0] == 0xEF && p[1] == 0xBF &&
		    (p[2] == 0xBE || p[2] == 0xBF))
			return gw_err_set(err, GW_ERR_REFUSED,
					  "%s: character U+FFF%c cannot be "
					  "carried in XML 1.0",
					  ptr, p[2] == 0xBE ? 'E' : 'F');
	return GW_OK;
}

static gw_rc value_to_xml(xmlNodePtr parent, xmlNsPtr ns, const char *name,
			  const char *key, const json_t *v, struct gw_buf *ptr,
			  const char *kind_elem, struct gw_err *err);

static gw_rc members_to_xml(xmlNodePtr el, xmlNsPtr ns, const json_t *obj,
			    struct gw_buf *ptr, const char *kind_elem,
			    struct gw_err *err)
{
	const char *k;
	json_t *v;
	gw_rc rc = GW_OK;
	size_t mark = ptr->len;

	json_object_foreach((json_t *)obj, k, v)
	{
		if ((rc = gw_json_pointer_add(ptr, k)))
			return gw_err_set(err, rc, "out of memory");
		rc = value_to_xml(el, ns, k, k, v, ptr, kind_elem, err);
		ptr->len = mark;
		ptr->data[mark] = '\0';
		if (rc)
			return rc;
	}
	return GW_OK;
}

static gw_rc value_to_xml(xmlNodePtr parent, xmlNsPtr ns, const char *name,
			  const char *key, const json_t *v, struct gw_buf *ptr,
			  const char *kind_elem, struct gw_err *err)
{
	xmlNodePtr el;
	char num[32];
	gw_rc rc;
	int ai;

	if (strchr(name, ':') ||
	    xmlValidateNCName((const xmlChar *)name, 0) != 0)
		return gw_err_set(err, GW_ERR_SCHEMA,
				  "%s: '%s' is not a member of the model",
				  ptr->len ? ptr->data : "/", name);
	el = xmlNewChild(parent, ns, (const xmlChar *)name, NULL);
	if (!el)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	switch (json_typeof(v)) {
	case JSON_STRING:
		if ((rc = check_xml_chars(json_string_value(v),
					  ptr->len ? ptr->data : "/", err)))
			return rc;
		xmlNodeAddContentLen(el, (const xmlChar *)json_string_value(v),
				     (int)json_string_length(v));
		return GW_OK;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		xmlNodeAddContent(el, (const xmlChar *)num);
		return GW_OK;
	case JSON_OBJECT:
		if (key && strcmp(key, "payload") == 0 && kind_elem) {
			el = xmlNewChild(el, ns, (const xmlChar *)kind_elem,
					 NULL);
			if (!el)
				return gw_err_set(err, GW_ERR_NOMEM,
						  "out of memory");
		}
		return members_to_xml(el, ns, v, ptr, kind_elem, err);
	case JSON_ARRAY: {
		size_t i, mark = ptr->len;
		json_t *item;

		ai = key ? array_index(key) : -1;
		if (ai < 0)
			return gw_err_set(err, GW_ERR_SCHEMA,
					  "%s: an array is not expected here",
					  ptr->data);
		json_array_foreach((json_t *)v, i, item)
		{
			if ((rc = gw_buf_addf(ptr, "/%zu", i)))
				return gw_err_set(err, rc, "out of memory");
			rc = value_to_xml(el, ns, arrays[ai].item, NULL, item,
					  ptr, kind_elem, err);
			ptr->len = mark;
			ptr->data[mark] = '\0';
			if (rc)
				return rc;
		}
		return GW_OK;
	}
	default:
		return gw_err_set(err, GW_ERR_SCHEMA,
				  "%s: only strings, integers, objects and "
				  "arrays are carried",
				  ptr->data);
	}
}

gw_rc gw_msg_json_to_xml(const json_t *msg, xmlDocPtr *out, struct gw_err *err)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	xmlNsPtr ns;
	struct gw_buf ptr;
	const char *ke;
	gw_rc rc;

	*out = NULL;
	if (!json_is_object(msg))
		return gw_err_set(err, GW_ERR_SCHEMA,
				  "(root): a message is a JSON object");
	ke = kind_element(gw_msg_json_kind(msg));
	if (!ke)
		return gw_err_set(err, GW_ERR_SCHEMA,
				  "/kind: unknown or missing message kind");
	doc = xmlNewDoc((const xmlChar *)"1.0");
	if (!doc)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	root = xmlNewDocNode(doc, NULL, (const xmlChar *)"message", NULL);
	if (!root) {
		xmlFreeDoc(doc);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	xmlDocSetRootElement(doc, root);
	ns = xmlNewNs(root, (const xmlChar *)GW_MSG_NS, NULL);
	xmlSetNs(root, ns);
	gw_buf_init(&ptr);
	if ((rc = gw_buf_add(&ptr, "", 0)) == GW_OK)
		rc = members_to_xml(root, ns, msg, &ptr, ke, err);
	else
		gw_err_set(err, rc, "out of memory");
	gw_buf_release(&ptr);
	if (rc) {
		xmlFreeDoc(doc);
		return rc;
	}
	*out = doc;
	return GW_OK;
}

gw_rc gw_msg_xml_dump(xmlDocPtr doc, struct gw_buf *out, struct gw_err *err)
{
	xmlChar *mem = NULL;
	int size = 0;
	gw_rc rc;

	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
	if (!mem)
		return gw_err_set(err, GW_ERR_NOMEM, "cannot serialize XML");
	rc = gw_buf_add(out, mem, (size_t)size);
	xmlFree(mem);
	return rc ? gw_err_set(err, rc, "out of memory") : GW_OK;
}

gw_rc gw_msg_json_dump(const json_t *msg, struct gw_buf *out,
		       struct gw_err *err)
{
	char *s = json_dumps(msg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	gw_rc rc;

	if (!s)
		return gw_err_set(err, GW_ERR_NOMEM, "cannot serialize JSON");
	rc = gw_buf_adds(out, s);
	if (!rc)
		rc = gw_buf_add(out, "\n", 1);
	free(s);
	return rc ? gw_err_set(err, rc, "out of memory") : GW_OK;
}

/* ---- business rules --------------------------------------------------- */

struct rules {
	gw_msg_rule_cb cb;
	void *arg;
	gw_rc rc;
	struct gw_buf ptr;
};

static void violate(struct rules *r, const char *reason, gw_rc rc, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, rc);
	vsnprintf(msg, sizeof(msg), reason, ap);
	va_end(ap);
	if (r->cb)
		r->cb(r->arg, r->ptr.len ? r->ptr.data : "", msg, rc);
	if (rc == GW_ERR_REFUSED || r->rc == GW_OK)
		r->rc = rc;
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

/* Check that a YYYY-MM-DD prefix names a real day. */
static int real_date(const char *s)
{
	int y, m, d;

	if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return 1; /* the schema checks the shape */
	return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

static const char *const date_keys[] = { "issueDate", "start",	 "end",
					 "due",	      "created", "reportedAt",
					 "time" };

static void push(struct rules *r, const char *key, size_t *mark)
{
	*mark = r->ptr.len;
	(void)gw_json_pointer_add(&r->ptr, key);
}

static void pushi(struct rules *r, size_t i, size_t *mark)
{
	*mark = r->ptr.len;
	(void)gw_buf_addf(&r->ptr, "/%zu", i);
}

static void pop(struct rules *r, size_t mark)
{
	r->ptr.len = mark;
	if (r->ptr.data)
		r->ptr.data[mark] = '\0';
}

static void check_object(struct rules *r, const json_t *obj);

static void check_value(struct rules *r, const char *key, const json_t *v)
{
	size_t i, mark;
	json_t *item;

	if (json_is_object(v)) {
		check_object(r, v);
	} else if (json_is_array(v)) {
		json_array_foreach((json_t *)v, i, item)
		{
			pushi(r, i, &mark);
			check_value(r, NULL, item);
			pop(r, mark);
		}
	} else if (key && json_is_string(v) &&
		   in_list(date_keys, GW_ARRAY_LEN(date_keys), key) &&
		   !real_date(json_string_value(v))) {
		violate(r, "'%s' is not a calendar date", GW_ERR_SCHEMA,
			json_string_value(v));
	}
}

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void check_object(struct rules *r, const json_t *obj)
{
	const char *k, *s, *e;
	json_t *v, *a;
	size_t mark, i, j;

	json_object_foreach((json_t *)obj, k, v)
	{
		push(r, k, &mark);
		check_value(r, k, v);
		pop(r, mark);
	}
	/* a timeline starts before it ends */
	s = str(obj, "start");
	e = str(obj, "end");
	if (s && e && strcmp(s, e) > 0) {
		push(r, "end", &mark);
		violate(r, "the timeline ends (%s) before it starts (%s)",
			GW_ERR_SCHEMA, e, s);
		pop(r, mark);
	}
	/* observations: percentages within 0-100, unique dimension names */
	if ((s = str(obj, "unitOfMeasure")) && strcmp(s, "percent") == 0 &&
	    (e = str(obj, "value"))) {
		double d = strtod(e, NULL);

		if (d < 0 || d > 100) {
			push(r, "value", &mark);
			violate(r,
				"a percentage must lie between 0 and 100, "
				"not %s",
				GW_ERR_SCHEMA, e);
			pop(r, mark);
		}
	}
	if ((a = json_object_get(obj, "dimensions")) && json_is_array(a)) {
		for (i = 0; i < json_array_size(a); i++)
			for (j = 0; j < i; j++) {
				const char *n1 =
					str(json_array_get(a, i), "name");
				const char *n2 =
					str(json_array_get(a, j), "name");

				if (n1 && n2 && strcmp(n1, n2) == 0) {
					size_t m2;

					push(r, "dimensions", &mark);
					pushi(r, i, &m2);
					violate(r,
						"dimension '%s' is given "
						"twice",
						GW_ERR_SCHEMA, n1);
					pop(r, mark);
				}
			}
	}
}

static void check_progress(struct rules *r, const json_t *p)
{
	const char *st = str(p, "status");
	json_t *pc = json_object_get(p, "percentComplete");
	size_t m1, m2;

	if (!st || !json_is_integer(pc))
		return;
	push(r, "payload", &m1);
	push(r, "percentComplete", &m2);
	if (strcmp(st, "done") == 0 && json_integer_value(pc) != 100)
		violate(r,
			"a task whose status is 'done' is 100%% complete, "
			"not %" JSON_INTEGER_FORMAT "%%",
			GW_ERR_SCHEMA, json_integer_value(pc));
	if (strcmp(st, "not-started") == 0 && json_integer_value(pc) != 0)
		violate(r,
			"a task that has not started is 0%% complete, not "
			"%" JSON_INTEGER_FORMAT "%%",
			GW_ERR_SCHEMA, json_integer_value(pc));
	pop(r, m1);
}

static void check_receipt(struct rules *r, const json_t *p)
{
	const char *oc = str(p, "outcome");
	size_t n = json_array_size(json_object_get(p, "errors"));
	size_t m1, m2;

	if (!oc)
		return;
	push(r, "payload", &m1);
	push(r, "errors", &m2);
	if (strcmp(oc, "rejected") == 0 && n == 0)
		violate(r, "a rejected receipt must say why (errors is empty)",
			GW_ERR_SCHEMA);
	if (strcmp(oc, "rejected") != 0 && n > 0)
		violate(r, "an '%s' receipt carries no errors", GW_ERR_SCHEMA,
			oc);
	pop(r, m1);
}

gw_rc gw_msg_check_rules(const json_t *msg, gw_msg_rule_cb cb, void *arg)
{
	struct rules r = { cb, arg, GW_OK, { NULL, 0, 0 } };
	const char *cls = str(msg, "classification");
	json_t *recv = json_object_get(msg, "receivers");
	json_t *payload = json_object_get(msg, "payload");
	size_t i, j, m1, m2;

	if (gw_buf_add(&r.ptr, "", 0))
		return GW_ERR_NOMEM;
	if (cls && strcmp(cls, "secret") == 0) {
		push(&r, "classification", &m1);
		violate(&r,
			"a 'secret' message is refused: state secrets "
			"never pass through this gateway",
			GW_ERR_REFUSED);
		pop(&r, m1);
	}
	for (i = 0; i < json_array_size(recv); i++)
		for (j = 0; j < i; j++) {
			const char *a = str(json_array_get(recv, i), "orgId");
			const char *b = str(json_array_get(recv, j), "orgId");

			if (a && b && strcmp(a, b) == 0) {
				push(&r, "receivers", &m1);
				pushi(&r, i, &m2);
				violate(&r, "receiver '%s' is listed twice",
					GW_ERR_SCHEMA, a);
				pop(&r, m1);
			}
		}
	check_object(&r, msg);
	switch (gw_msg_json_kind(msg)) {
	case GW_KIND_TASK_PROGRESS: check_progress(&r, payload); break;
	case GW_KIND_RECEIPT: check_receipt(&r, payload); break;
	default: break;
	}
	gw_buf_release(&r.ptr);
	return r.rc;
}

/* ---- locating a JSON Pointer in the XML form --------------------------- */

static xmlNodePtr nth_elem(xmlNodePtr parent, const char *name, long n)
{
	xmlNodePtr c;

	for (c = parent ? parent->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (name && strcmp((const char *)c->name, name))
			continue;
		if (n-- == 0)
			return c;
	}
	return NULL;
}

long gw_msg_xml_line(xmlDocPtr doc, const char *pointer)
{
	xmlNodePtr cur = xmlDocGetRootElement(doc), next;
	char tok[256];
	const char *p = pointer ? pointer : "";
	const char *last_key = NULL;
	char keybuf[256] = "";

	while (cur && *p == '/') {
		size_t n = 0;

		p++;
		while (*p && *p != '/' && n + 1 < sizeof(tok)) {
			if (p[0] == '~' && p[1] == '1') {
				tok[n++] = '/';
				p += 2;
			} else if (p[0] == '~' && p[1] == '0') {
				tok[n++] = '~';
				p += 2;
			} else {
				tok[n++] = *p++;
			}
		}
		tok[n] = '\0';
		if (isdigit((unsigned char)tok[0]) && last_key &&
		    array_index(last_key) >= 0) {
			next = nth_elem(cur, NULL, strtol(tok, NULL, 10));
		} else {
			next = nth_elem(cur, tok, 0);
			if (next && strcmp(tok, "payload") == 0 &&
			    nth_elem(next, NULL, 0))
				next = nth_elem(next, NULL, 0);
			snprintf(keybuf, sizeof(keybuf), "%s", tok);
			last_key = keybuf;
		}
		if (!next)
			break;
		cur = next;
	}
	return cur ? (long)xmlGetLineNo(cur) : 0;
}
