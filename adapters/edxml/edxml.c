/*
 * edxml.c - the "edxml" format adapter: canonical messages to and from
 * edXML (QCVN 102:2016), the envelope of the national document exchange
 * axis (namespace http://www.mic.gov.vn/TBT/QCVN_102_2016).
 *
 * A document envelope (From, To, DocumentId, Code, PromulgationInfo,
 * DocumentType, Subject, Content, SignerInfo, DueDate, SteeringType,
 * TraceHeaderList, attachments) is a task.assignment; a status message
 * (ResponseFor, StatusCode, Description, Timestamp) is a receipt (01 inbox,
 * 02 rejected, 03 accepted, 15/16 change accepted/rejected) or a
 * task.progress (04 assigned, 05 processing, 06 finished, 13 cancelled).
 * Canonical fields edXML has no element for travel in one element of our
 * own namespace at the end of MessageHeader, {urn:lienthong:edxml:1}
 * Extension, whose text is a JSON object; native elements always win over
 * it, so a peer that edits the document and keeps the extension is read
 * correctly, and a peer that ignores it loses nothing it understands.
 * docs/FORMATS.md has the field tables and what is lossy.
 *
 * The core hands us documents already parsed safely and valid against
 * schemas/edxml-qcvn102.xsd, and validates what we produce.
 */
#include <ctype.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"

#define ED_NS "http://www.mic.gov.vn/TBT/QCVN_102_2016"
#define LT_NS "urn:lienthong:edxml:1"
#define KEY "urn:lienthong:key:"
#define SHA "urn:lienthong:sha256:"

struct ctx {
	char *err;
	size_t errlen;
};

static void fail(struct ctx *c, const char *fmt, const char *arg)
{
	if (c->err && !c->err[0])
		snprintf(c->err, c->errlen, fmt, arg ? arg : "");
}

/* --- small helpers ------------------------------------------------------- */

static int is_el(const xmlNode *n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	       strcmp((const char *)n->ns->href, ns) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *n, const char *name)
{
	xmlNode *k;

	for (k = n ? n->children : NULL; k; k = k->next)
		if (is_el(k, ED_NS, name))
			return k;
	return NULL;
}

static xmlNode *next_el(xmlNode *n, const char *name)
{
	for (n = n ? n->next : NULL; n; n = n->next)
		if (is_el(n, ED_NS, name))
			return n;
	return NULL;
}

/* The trimmed text of n with runs of white space folded to one space, a
 * new string (free), or NULL when n is absent. */
static char *text(const xmlNode *n)
{
	xmlChar *t;
	char *out, *o;
	const char *p;
	int sp = 0;

	if (!n)
		return NULL;
	t = xmlNodeGetContent(n);
	if (!t)
		return NULL;
	out = malloc(strlen((const char *)t) + 1);
	if (out) {
		o = out;
		for (p = (const char *)t; *p; p++) {
			if (*p == ' ' || *p == '\t' || *p == '\n' ||
			    *p == '\r') {
				sp = o != out;
				continue;
			}
			if (sp)
				*o++ = ' ';
			sp = 0;
			*o++ = *p;
		}
		*o = '\0';
	}
	xmlFree(t);
	return out;
}

/* The text of n exactly as written (free), or NULL: free text (Subject,
 * Content, Description) keeps its line breaks and spaces. */
static char *raw(const xmlNode *n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	char *out = t ? strdup((const char *)t) : NULL;

	xmlFree(t);
	return out;
}

static char *ctext(const xmlNode *n, const char *name)
{
	return text(child(n, name));
}

static xmlNode *add(xmlNode *parent, const char *name, const char *value)
{
	return xmlNewTextChild(parent, parent->ns, BAD_CAST name,
			       BAD_CAST value);
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "2024-06-30" -> "2024/06/30" (out of 11). */
static void date_to_ed(const char *d, char out[11])
{
	snprintf(out, 11, "%.4s/%.2s/%.2s", d, d + 5, d + 8);
}

/* "2024/06/30" -> "2024-06-30". */
static void date_from_ed(const char *d, char out[11])
{
	snprintf(out, 11, "%.4s-%.2s-%.2s", d, d + 5, d + 8);
}

/* An RFC 3339 date-time -> Viet Nam local time (+07:00), as
 * "YYYY/MM/DD HH:mm:ss"; -1 when it does not parse. */
static int time_to_ed(const char *t, char out[20])
{
	struct tm tm;
	int y, mo, d, h, mi, s, oh = 0, om = 0, off = 0;
	const char *z;
	time_t e;

	if (!t ||
	    sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6)
		return -1;
	z = t + 19;
	while (*z == '.' || isdigit((unsigned char)*z))
		z++;
	if (*z == '+' || *z == '-') {
		if (sscanf(z + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
		off = (oh * 60 + om) * (*z == '-' ? -1 : 1);
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s > 59 ? 59 : s;
	e = timegm(&tm) - (time_t)off * 60 + 7 * 3600;
	gmtime_r(&e, &tm);
	strftime(out, 20, "%Y/%m/%d %H:%M:%S", &tm);
	return 0;
}

/* "YYYY/MM/DD HH:mm:ss" or "dd/MM/yyyy HH:mm:ss" (+07:00) -> RFC 3339. */
static int time_from_ed(const char *t, char out[26])
{
	int a, b, c, h, mi, s, y, d;

	if (!t || sscanf(t, "%d/%d/%d %d:%d:%d", &a, &b, &c, &h, &mi, &s) != 6)
		return -1;
	y = a > 31 ? a : c; /* YYYY/MM/DD or dd/MM/yyyy */
	d = a > 31 ? c : a;
	if (y < 1 || y > 9999 || b < 1 || b > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
		return -1;
	snprintf(out, 26, "%04u-%02u-%02uT%02u:%02u:%02u+07:00",
		 (unsigned)y % 10000u, (unsigned)b % 100u, (unsigned)d % 100u,
		 (unsigned)h % 100u, (unsigned)mi % 100u, (unsigned)s % 100u);
	return 0;
}

/* A copy of s with white space replaced by '_' (for ids that must not
 * contain any), truncated to 200 bytes on a character boundary. */
static char *no_space(const char *s)
{
	size_t n = strlen(s);
	char *o, *p;

	if (n > 200) {
		n = 200;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	o = malloc(n + 1);
	if (!o)
		return NULL;
	memcpy(o, s, n);
	o[n] = '\0';
	for (p = o; *p; p++)
		if (isspace((unsigned char)*p))
			*p = '_';
	return o;
}

static json_t *keyed(const char *prefix, const char *a, const char *b)
{
	size_t n = strlen(prefix) + strlen(a) + (b ? strlen(b) + 1 : 0) + 1;
	char *s = malloc(n);
	json_t *j;

	if (!s)
		return NULL;
	snprintf(s, n, "%s%s%s%s", prefix, a, b ? ":" : "", b ? b : "");
	j = json_string(s);
	free(s);
	return j;
}

/* The document type a document number's notation suggests. */
static const char *type_name(const char *notation)
{
	static const struct {
		const char *prefix, *name;
	} t[] = {
		{ "QĐ", "Quyết định" }, { "CT", "Chỉ thị" },
		{ "KH", "Kế hoạch" },	{ "TB", "Thông báo" },
		{ "NQ", "Nghị quyết" }, { "BC", "Báo cáo" },
	};
	size_t i;

	for (i = 0; notation && i < sizeof(t) / sizeof(t[0]); i++)
		if (strncmp(notation, t[i].prefix, strlen(t[i].prefix)) == 0)
			return t[i].name;
	return "Công văn";
}

/* --- canonical -> edXML ------------------------------------------------- */

static void add_org(xmlNode *parent, const char *el, const json_t *org)
{
	xmlNode *o = add(parent, el, NULL);

	add(o, "OrganId", jstr(org, "orgId"));
	add(o, "OrganName", jstr(org, "name"));
}

/* The extension: the envelope members listed and the payload without the
 * members edXML carries natively. */
static int add_extension(xmlNode *mh, const json_t *msg, const char **env,
			 const char **native)
{
	json_t *ext = json_object(), *payload, *tl;
	xmlNode *e;
	xmlNs *ns;
	char *s;
	size_t i;

	payload = json_deep_copy(json_object_get(msg, "payload"));
	if (!ext || !payload) {
		json_decref(ext);
		json_decref(payload);
		return -1;
	}
	for (i = 0; env[i]; i++)
		if (json_object_get(msg, env[i]))
			json_object_set(ext, env[i],
					json_object_get(msg, env[i]));
	for (i = 0; native[i]; i++)
		json_object_del(payload, native[i]);
	if ((tl = json_object_get(payload, "timeline")))
		json_object_del(tl, "due");
	json_object_set_new(ext, "payload", payload);
	s = json_dumps(ext, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(ext);
	if (!s)
		return -1;
	e = xmlNewTextChild(mh, NULL, BAD_CAST "Extension", BAD_CAST s);
	free(s);
	ns = xmlNewNs(e, BAD_CAST LT_NS, BAD_CAST "lt");
	xmlSetNs(e, ns);
	return 0;
}

static xmlDocPtr new_envelope(xmlNode **header, xmlNode **mh)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *root, *env;
	xmlNs *ns;

	root = xmlNewNode(NULL, BAD_CAST "edXML");
	ns = xmlNewNs(root, BAD_CAST ED_NS, NULL);
	xmlSetNs(root, ns);
	xmlDocSetRootElement(doc, root);
	env = add(root, "edXMLEnvelope", NULL);
	*header = add(env, "edXMLHeader", NULL);
	*mh = add(*header, "MessageHeader", NULL);
	return doc;
}

static void add_trace(xmlNode *header, const char *org, const char *ts)
{
	xmlNode *l = add(header, "TraceHeaderList", NULL);
	xmlNode *t = add(l, "TraceHeader", NULL);

	add(t, "OrganId", org);
	add(t, "Timestamp", ts);
}

static const char *const env_members[] = { "id", "created", "classification",
					   "correlationId", NULL };
static const char *const env_members_status[] = {
	"id", "created", "classification", "correlationId", "receivers", NULL
};

static xmlDocPtr assignment_to_ed(const json_t *msg, struct ctx *c)
{
	static const char *const native[] = { "title", "notes",
					      "sourceDocument", NULL };
	const json_t *p = json_object_get(msg, "payload");
	const json_t *from = json_object_get(msg, "sender"), *r;
	const char *src = jstr(p, "sourceDocument"), *slash, *due;
	char ts[20], day[11], *docid, *num;
	xmlNode *header, *mh, *n;
	xmlDocPtr doc;
	size_t i, l;

	if (time_to_ed(jstr(msg, "created"), ts)) {
		fail(c, "created '%s' is not a date-time",
		     jstr(msg, "created"));
		return NULL;
	}
	snprintf(day, sizeof(day), "%.10s", ts);
	doc = new_envelope(&header, &mh);
	add_org(mh, "From", from);
	json_array_foreach(json_object_get(msg, "receivers"), i, r)
	{
		add_org(mh, "To", r);
	}
	l = strlen(jstr(from, "orgId")) + strlen(src) + 16;
	docid = malloc(l);
	slash = strchr(src, '/');
	num = slash ? strndup(src, (size_t)(slash - src)) : strdup(src);
	if (!docid || !num) {
		free(docid);
		free(num);
		xmlFreeDoc(doc);
		fail(c, "%sout of memory", NULL);
		return NULL;
	}
	snprintf(docid, l, "%s,%s,%s", jstr(from, "orgId"), day, src);
	add(mh, "DocumentId", docid);
	n = add(mh, "Code", NULL);
	add(n, "CodeNumber", num);
	add(n, "CodeNotation", slash ? slash + 1 : "");
	n = add(mh, "PromulgationInfo", NULL);
	add(n, "PromulgationDate", day);
	n = add(mh, "DocumentType", NULL);
	add(n, "Type", "1");
	add(n, "TypeDetail", "0");
	add(n, "TypeName", type_name(slash ? slash + 1 : NULL));
	add(mh, "Subject", jstr(p, "title"));
	if (jstr(p, "notes"))
		add(mh, "Content", jstr(p, "notes"));
	due = jstr(json_object_get(p, "timeline"), "due");
	if (due) {
		char d[11];

		date_to_ed(due, d);
		add(mh, "DueDate", d);
	}
	add(mh, "SteeringType", "1");
	free(docid);
	free(num);
	if (add_extension(mh, msg, (const char **)env_members,
			  (const char **)native)) {
		xmlFreeDoc(doc);
		fail(c, "%sout of memory", NULL);
		return NULL;
	}
	add_trace(header, jstr(from, "orgId"), ts);
	return doc;
}

struct code_map {
	const char *code;
	const char *kind;
	const char *value; /* outcome or progress status */
};

/* StatusCode <-> kind and outcome or status. The first row of each value
 * is the one written (duplicate receipts are acknowledged as accepted;
 * overdue and blocked tasks are still being processed). */
static const struct code_map codes[] = {
	{ "03", "receipt", "accepted" },
	{ "03", "receipt", "duplicate" },
	{ "02", "receipt", "rejected" },
	{ "01", "receipt", "accepted" },
	{ "15", "receipt", "accepted" },
	{ "16", "receipt", "rejected" },
	{ "04", "task.progress", "not-started" },
	{ "05", "task.progress", "in-progress" },
	{ "05", "task.progress", "overdue" },
	{ "05", "task.progress", "blocked" },
	{ "06", "task.progress", "done" },
	{ "13", "task.progress", "cancelled" },
};

static const char *code_for(const char *kind, const char *value)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].kind, kind) == 0 &&
		    strcmp(codes[i].value, value) == 0)
			return codes[i].code;
	return NULL;
}

static const struct code_map *map_for(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].code, code) == 0)
			return &codes[i];
	return NULL;
}

static xmlDocPtr status_to_ed(const json_t *msg, int receipt, struct ctx *c)
{
	static const char *const native_r[] = { "time", NULL };
	static const char *const native_p[] = { "narrative", "reportedAt",
						NULL };
	const json_t *p = json_object_get(msg, "payload");
	const json_t *from = json_object_get(msg, "sender");
	const json_t *to = json_array_get(json_object_get(msg, "receivers"), 0);
	const char *code, *ref, *colon;
	char ts[20], *codebuf, *desc = NULL;
	xmlNode *header, *mh, *n;
	xmlDocPtr doc;

	code = code_for(receipt ? "receipt" : "task.progress",
			jstr(p, receipt ? "outcome" : "status"));
	if (!code) {
		fail(c, "no edXML status code for '%s'",
		     jstr(p, receipt ? "outcome" : "status"));
		return NULL;
	}
	if (time_to_ed(jstr(p, receipt ? "time" : "reportedAt"), ts)) {
		fail(c, "%stime is not a date-time", NULL);
		return NULL;
	}
	ref = receipt ? jstr(p, "messageId") : jstr(p, "taskRef");
	colon = receipt ? NULL : strchr(ref, ':');
	codebuf = colon ? strndup(ref, (size_t)(colon - ref)) : strdup(ref);
	if (receipt) {
		const json_t *e;
		size_t i, l = 1;

		json_array_foreach(json_object_get(p, "errors"), i, e)
		{
			l += strlen(jstr(e, "message")) + 2;
		}
		desc = calloc(1, l + 64);
		json_array_foreach(json_object_get(p, "errors"), i, e)
		{
			if (!desc)
				break;
			if (i)
				strcat(desc, "; ");
			strcat(desc, jstr(e, "message"));
		}
		if (desc && !desc[0])
			strcpy(desc,
			       strcmp(code, "02") ? "Đã tiếp nhận" : "Từ chối");
	} else {
		desc = strdup(jstr(p, "narrative") ? jstr(p, "narrative") : "");
	}
	if (!codebuf || !desc) {
		free(codebuf);
		free(desc);
		fail(c, "%sout of memory", NULL);
		return NULL;
	}
	doc = new_envelope(&header, &mh);
	add_org(mh, "From", from);
	n = add(mh, "ResponseFor", NULL);
	add(n, "OrganId", jstr(to, "orgId"));
	add(n, "Code", codebuf);
	if (!receipt)
		add(n, "DocumentId", ref);
	add(mh, "StatusCode", code);
	if (desc[0])
		add(mh, "Description", desc);
	add(mh, "Timestamp", ts);
	free(codebuf);
	free(desc);
	if (add_extension(mh, msg, (const char **)env_members_status,
			  (const char **)(receipt ? native_r : native_p))) {
		xmlFreeDoc(doc);
		fail(c, "%sout of memory", NULL);
		return NULL;
	}
	return doc;
}

static int to_wire(void *state, const json_t *msg, void **wire, char *errbuf,
		   size_t errlen)
{
	struct ctx c = { errbuf, errlen };
	const char *kind = jstr(msg, "kind");
	xmlDocPtr doc = NULL;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (kind && strcmp(kind, "task.assignment") == 0)
		doc = assignment_to_ed(msg, &c);
	else if (kind && strcmp(kind, "receipt") == 0)
		doc = status_to_ed(msg, 1, &c);
	else if (kind && strcmp(kind, "task.progress") == 0)
		doc = status_to_ed(msg, 0, &c);
	else
		fail(&c, "edxml carries no '%s' messages", kind);
	*wire = doc;
	return doc ? 0 : -1;
}

/* --- edXML -> canonical ------------------------------------------------- */

static json_t *org_of(const xmlNode *o)
{
	char *id = ctext(o, "OrganId"), *name = ctext(o, "OrganName");
	json_t *j = NULL;

	if (id && name)
		j = json_pack("{s:s, s:s}", "orgId", id, "name",
			      name[0] ? name : id);
	free(id);
	free(name);
	return j;
}

/* The extension of a MessageHeader as a JSON object (new), or an empty
 * object; NULL when it is present but not a JSON object. */
static json_t *extension(const xmlNode *mh, struct ctx *c)
{
	xmlNode *k;

	for (k = mh->children; k; k = k->next) {
		json_error_t je;
		json_t *j;
		char *t;

		if (!is_el(k, LT_NS, "Extension"))
			continue;
		t = raw(k);
		j = t ? json_loads(t, JSON_REJECT_DUPLICATES, &je) : NULL;
		free(t);
		if (!json_is_object(j) ||
		    (json_object_get(j, "payload") &&
		     !json_is_object(json_object_get(j, "payload")))) {
			json_decref(j);
			fail(c,
			     "%sthe lienthong extension ({urn:lienthong:"
			     "edxml:1}Extension) is not a JSON object",
			     NULL);
			return NULL;
		}
		return j;
	}
	return json_object();
}

static void strbuf_add(char **s, const char *sep, const char *part)
{
	size_t a = *s ? strlen(*s) : 0, n = a + strlen(sep) + strlen(part) + 1;
	char *r = realloc(*s, n);

	if (!r)
		return;
	if (a)
		strcat(r, sep);
	else
		r[0] = '\0';
	strcat(r, part);
	*s = r;
}

/* Notes of a document that came without our extension: what edXML says
 * that the canonical model has no member for. */
static char *foreign_notes(const xmlNode *root, const xmlNode *mh,
			   const char *subject)
{
	char *notes = NULL, *content = raw(child(mh, "Content"));
	xmlNode *si = child(mh, "SignerInfo"), *tp = child(mh, "ToPlaces");
	xmlNode *att, *env = child(root, "edXMLEnvelope");
	xmlNode *man = child(child(env, "edXMLBody"), "edXMLManifest");

	if (content && content[0] && strcmp(content, subject))
		strbuf_add(&notes, "\n", content);
	if (si) {
		char *comp = ctext(si, "Competence"),
		     *pos = ctext(si, "Position");
		char *name = ctext(si, "FullName");

		strbuf_add(&notes, "\n", "Người ký: ");
		if (comp && comp[0]) {
			strbuf_add(&notes, "", comp);
			strbuf_add(&notes, "", " ");
		}
		strbuf_add(&notes, "", name ? name : "");
		if (pos && pos[0]) {
			strbuf_add(&notes, "", " (");
			strbuf_add(&notes, "", pos);
			strbuf_add(&notes, "", ")");
		}
		free(comp);
		free(pos);
		free(name);
	}
	if (tp) {
		xmlNode *pl;
		int first = 1;

		strbuf_add(&notes, "\n", "Nơi nhận: ");
		for (pl = child(tp, "Place"); pl; pl = next_el(pl, "Place")) {
			char *t = text(pl);

			strbuf_add(&notes, first ? "" : "; ", t ? t : "");
			first = 0;
			free(t);
		}
	}
	for (att = child(man, "Reference"); att;
	     att = next_el(att, "Reference")) {
		char *name = ctext(att, "AttachmentName");
		char *type = ctext(att, "ContentType");

		strbuf_add(&notes, "\n", "Tệp đính kèm: ");
		strbuf_add(&notes, "", name ? name : "");
		strbuf_add(&notes, "", " (");
		strbuf_add(&notes, "", type ? type : "");
		strbuf_add(&notes, "", ")");
		free(name);
		free(type);
	}
	free(content);
	return notes;
}

/* The creation time of a document: its sender's trace, else the
 * promulgation date at midnight (Viet Nam time). */
static int doc_created(const xmlNode *header, const xmlNode *mh,
		       const char *from_id, char out[26])
{
	xmlNode *t;
	char *pd;

	for (t = child(child(header, "TraceHeaderList"), "TraceHeader"); t;
	     t = next_el(t, "TraceHeader")) {
		char *org = ctext(t, "OrganId"), *ts = ctext(t, "Timestamp");
		int ok = org && ts && strcmp(org, from_id) == 0 &&
			 time_from_ed(ts, out) == 0;

		free(org);
		free(ts);
		if (ok)
			return 0;
	}
	pd = ctext(child(mh, "PromulgationInfo"), "PromulgationDate");
	if (!pd)
		return -1;
	snprintf(out, 26, "%.4s-%.2s-%.2sT00:00:00+07:00", pd, pd + 5, pd + 8);
	free(pd);
	return 0;
}

static json_t *assignment_from_ed(const xmlNode *root, const xmlNode *header,
				  const xmlNode *mh, json_t *ext, struct ctx *c)
{
	json_t *msg = NULL, *payload, *from, *to, *tl, *lead = NULL;
	xmlNode *t, *code = child(mh, "Code");
	char *docid = ctext(mh, "DocumentId"),
	     *subject = raw(child(mh, "Subject"));
	char *num = ctext(code, "CodeNumber"),
	     *nota = ctext(code, "CodeNotation");
	char *due = ctext(mh, "DueDate"), *content = raw(child(mh, "Content"));
	char created[26], *src = NULL, *notes = NULL, *taskid = NULL;
	int own = json_object_size(ext) > 0;

	from = org_of(child(mh, "From"));
	to = json_array();
	if (!own)
		lead = json_array();
	for (t = child(mh, "To"); t && to; t = next_el(t, "To")) {
		json_array_append_new(to, org_of(t));
		if (lead)
			json_array_append_new(lead, org_of(t));
	}
	if (!docid || !subject || !num || !from || !to ||
	    doc_created(header, mh, jstr(from, "orgId"), created)) {
		fail(c,
		     "%sa document envelope without From, To, DocumentId, "
		     "Code, Subject or date",
		     NULL);
		goto out;
	}
	strbuf_add(&src, "", num);
	if (nota && nota[0]) {
		strbuf_add(&src, "", "/");
		strbuf_add(&src, "", nota);
	}
	payload = json_deep_copy(json_object_get(ext, "payload"));
	if (!payload)
		payload = json_object();
	json_object_set_new(payload, "title", json_string(subject));
	json_object_set_new(payload, "sourceDocument", json_string(src));
	if (own)
		notes = content && content[0] ? strdup(content) : NULL;
	else
		notes = foreign_notes(root, mh, subject);
	if (notes)
		json_object_set_new(payload, "notes", json_string(notes));
	else
		json_object_del(payload, "notes");
	if (!json_object_get(payload, "taskId")) {
		taskid = no_space(docid);
		json_object_set_new(payload, "taskId", json_string(taskid));
	}
	if (!json_object_get(payload, "numbering"))
		json_object_set_new(payload, "numbering",
				    json_pack("[s]", "1"));
	if (lead && json_array_size(lead))
		json_object_set(payload, "leadUnits", lead);
	tl = json_object_get(payload, "timeline");
	if (!json_is_object(tl)) {
		tl = json_pack("{s:s, s:s}", "raw", due ? due : "", "kind",
			       "unspecified");
		json_object_set_new(payload, "timeline", tl);
	}
	if (due) {
		char d[11];

		date_from_ed(due, d);
		json_object_set_new(tl, "due", json_string(d));
	} else {
		json_object_del(tl, "due");
	}
	msg = json_pack("{s:O*, s:s, s:s, s:o, s:o, s:s, s:s, s:o}", "id",
			json_object_get(ext, "id"), "kind", "task.assignment",
			"schemaVersion", "1.0", "sender", from, "receivers", to,
			"created",
			jstr(ext, "created") ? jstr(ext, "created") : created,
			"classification",
			jstr(ext, "classification")
				? jstr(ext, "classification")
				: "internal",
			"payload", payload);
	from = to = NULL;
	if (msg && !json_object_get(msg, "id"))
		json_object_set_new(msg, "id",
				    keyed(KEY "edxml:", docid, NULL));
	if (msg && json_object_get(ext, "correlationId"))
		json_object_set(msg, "correlationId",
				json_object_get(ext, "correlationId"));
out:
	json_decref(from);
	json_decref(to);
	json_decref(lead);
	free(docid);
	free(subject);
	free(num);
	free(nota);
	free(due);
	free(content);
	free(src);
	free(notes);
	free(taskid);
	return msg;
}

static json_t *status_from_ed(const xmlNode *mh, json_t *ext, struct ctx *c)
{
	xmlNode *rf = child(mh, "ResponseFor");
	char *code = ctext(mh, "StatusCode"), *ts = ctext(mh, "Timestamp");
	char *desc = raw(child(mh, "Description")),
	     *docid = ctext(rf, "DocumentId");
	char *rcode = ctext(rf, "Code"), *rorg = ctext(rf, "OrganId");
	const struct code_map *m = code ? map_for(code) : NULL;
	json_t *msg = NULL, *payload = NULL, *from = org_of(child(mh, "From"));
	const char *ref;
	char when[26], *refid = NULL;

	if (!m || !ts || !rcode || !rorg || !from || time_from_ed(ts, when)) {
		fail(c,
		     "status code '%s' unknown, or a status message without "
		     "ResponseFor, From or Timestamp",
		     code);
		goto out;
	}
	ref = docid ? docid : rcode;
	payload = json_deep_copy(json_object_get(ext, "payload"));
	if (!payload)
		payload = json_object();
	if (strcmp(m->kind, "receipt") == 0) {
		const char *oc = jstr(payload, "outcome");
		int rejected = strcmp(m->value, "rejected") == 0;

		/* the code wins; our own "duplicate" survives an 03 */
		if (!oc || (strcmp(oc, "rejected") == 0) != rejected)
			json_object_set_new(payload, "outcome",
					    json_string(m->value));
		if (!json_object_get(payload, "messageId"))
			json_object_set_new(payload, "messageId",
					    keyed(KEY "edxml:", ref, NULL));
		if (!json_object_get(payload, "sha256"))
			json_object_set_new(payload, "sha256",
					    keyed(SHA "edxml:", ref, NULL));
		if (rejected && !json_object_get(payload, "errors"))
			json_object_set_new(
				payload, "errors",
				json_pack("[{s:s, s:s}]", "code",
					  strcmp(code, "16") ? "edxml-rejected"
							     : "edxml-change-"
							       "rejected",
					  "message",
					  desc && desc[0] ? desc : "Từ chối"));
		if (!rejected)
			json_object_del(payload, "errors");
		json_object_set_new(payload, "time", json_string(when));
	} else {
		const char *st = jstr(payload, "status");

		/* overdue and blocked travel as 05 with the extension */
		if (!st || !code_for("task.progress", st) ||
		    strcmp(code_for("task.progress", st), code) != 0)
			json_object_set_new(payload, "status",
					    json_string(m->value));
		if (!json_object_get(payload, "taskRef")) {
			refid = no_space(ref);
			json_object_set_new(payload, "taskRef",
					    json_string(refid));
		}
		if (!json_object_get(payload, "period"))
			json_object_set_new(payload, "period",
					    json_stringn(when, 7));
		if (strcmp(code, "06") == 0)
			json_object_set_new(payload, "percentComplete",
					    json_integer(100));
		if (!json_object_get(payload, "reporter"))
			json_object_set(payload, "reporter", from);
		if (desc && desc[0])
			json_object_set_new(payload, "narrative",
					    json_string(desc));
		else
			json_object_del(payload, "narrative");
		json_object_set_new(payload, "reportedAt", json_string(when));
	}
	msg = json_pack("{s:s, s:s, s:O, s:s, s:s}", "kind", m->kind,
			"schemaVersion", "1.0", "sender", from, "created",
			jstr(ext, "created") ? jstr(ext, "created") : when,
			"classification",
			jstr(ext, "classification")
				? jstr(ext, "classification")
				: "internal");
	if (!msg)
		goto out;
	if (json_object_get(ext, "id")) {
		json_object_set(msg, "id", json_object_get(ext, "id"));
	} else {
		char *k = NULL;

		strbuf_add(&k, "", ref);
		strbuf_add(&k, ":", code);
		strbuf_add(&k, ":", ts);
		strbuf_add(&k, ":", jstr(from, "orgId"));
		json_object_set_new(
			msg, "id",
			keyed(KEY "edxml-status:", k ? k : ref, NULL));
		free(k);
	}
	if (json_is_array(json_object_get(ext, "receivers")))
		json_object_set(msg, "receivers",
				json_object_get(ext, "receivers"));
	else
		json_object_set_new(
			msg, "receivers",
			json_pack("[{s:s, s:s}]", "orgId", rorg, "name", rorg));
	if (json_object_get(ext, "correlationId"))
		json_object_set(msg, "correlationId",
				json_object_get(ext, "correlationId"));
	else
		json_object_set_new(msg, "correlationId",
				    keyed(KEY "edxml:", ref, NULL));
	json_object_set(msg, "payload", payload);
out:
	json_decref(payload);
	json_decref(from);
	free(code);
	free(ts);
	free(desc);
	free(docid);
	free(rcode);
	free(rorg);
	free(refid);
	return msg;
}

static int from_wire(void *state, const void *wire, json_t **msg, char *errbuf,
		     size_t errlen)
{
	struct ctx c = { errbuf, errlen };
	xmlNode *root = xmlDocGetRootElement((xmlDocPtr)wire);
	xmlNode *header = child(child(root, "edXMLEnvelope"), "edXMLHeader");
	xmlNode *mh = child(header, "MessageHeader");
	json_t *ext;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	*msg = NULL;
	if (!mh) {
		fail(&c, "%sno MessageHeader", NULL);
		return -1;
	}
	if (!(ext = extension(mh, &c)))
		return -1;
	if (child(mh, "StatusCode"))
		*msg = status_from_ed(mh, ext, &c);
	else
		*msg = assignment_from_ed(root, header, mh, ext, &c);
	json_decref(ext);
	if (!*msg)
		fail(&c, "%scannot map the edXML message", NULL);
	return *msg ? 0 : -1;
}

static int wire_schema(void *state, const char *schema_dir, char *path,
		       size_t pathlen, char *errbuf, size_t errlen)
{
	snprintf(path, pathlen, "edxml-qcvn102.xsd");
	return 0;
}

const struct gw_adapter gw_adapter_edxml = {
	.abi_version = GW_ADAPTER_ABI_VERSION,
	.size = sizeof(struct gw_adapter),
	.name = "edxml",
	.description = "edXML (QCVN 102:2016) documents and status messages",
	.wire_syntax = GW_ADAPTER_WIRE_XML,
	.media_type = "application/xml",
	.kinds = "task.assignment task.progress receipt",
	.to_wire = to_wire,
	.from_wire = from_wire,
	.wire_schema = wire_schema,
};
