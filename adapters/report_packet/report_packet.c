/*
 * report_packet.c - the "report-packet" (XML) and "report-packet-json"
 * format adapters: indicator.report to and from the indicator data packet
 * of the Government reporting information system, our profile of the
 * reporting packets of QCVN 125:2021 (schemas/report-packet-1.xsd and
 * schemas/report-packet-1.schema.json, docs/FORMATS.md).
 *
 * A packet has a header (packet id, sender, receivers, time,
 * classification, correlation id), the report (reporting unit, period and
 * its type, source document, status), the indicator catalogue (one entry
 * per indicator reported: code, name, unit) and the indicator data (one
 * value per observation). Both syntaxes share one mapping: canonical <->
 * packet as JSON; the XML adapter converts that JSON to and from elements.
 */
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

#define RP_NS "urn:lienthong:report-packet:1"

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static const char *period_type(const char *p)
{
	size_t n = p ? strlen(p) : 0;

	if (n == 4)
		return "year";
	if (p && strchr(p, 'Q'))
		return "quarter";
	return n == 7 ? "month" : "day";
}

/* --- canonical <-> packet (JSON) ---------------------------------------- */

static json_t *to_packet(const json_t *msg, char *err, size_t errlen)
{
	const json_t *p = json_object_get(msg, "payload"), *o, *c;
	json_t *cat = json_array(), *data = json_array(), *hdr, *rep, *pk;
	size_t i, k;

	json_array_foreach(json_object_get(p, "observations"), i, o)
	{
		json_t *v;
		int known = 0;

		json_array_foreach(cat, k, c)
		{
			if (strcmp(jstr(c, "code"), jstr(o, "code")))
				continue;
			known = 1;
			if (strcmp(jstr(c, "name"), jstr(o, "name")) ||
			    strcmp(jstr(c, "unitOfMeasure"),
				   jstr(o, "unitOfMeasure"))) {
				snprintf(
					err, errlen,
					"/payload/observations/%zu: indicator "
					"%s has another name or unit than "
					"before; the catalogue holds one entry "
					"per indicator",
					i, jstr(o, "code"));
				json_decref(cat);
				json_decref(data);
				return NULL;
			}
		}
		if (!known)
			json_array_append_new(
				cat,
				json_pack("{s:O, s:O, s:O}", "code",
					  json_object_get(o, "code"), "name",
					  json_object_get(o, "name"),
					  "unitOfMeasure",
					  json_object_get(o, "unitOfMeasure")));
		v = json_pack("{s:O}", "indicator", json_object_get(o, "code"));
		if (json_object_get(o, "period"))
			json_object_set(v, "period",
					json_object_get(o, "period"));
		json_object_set(v, "valueType",
				json_object_get(o, "valueType"));
		if (json_object_get(o, "status"))
			json_object_set(v, "status",
					json_object_get(o, "status"));
		if (json_object_get(o, "dimensions"))
			json_object_set(v, "dimensions",
					json_object_get(o, "dimensions"));
		json_object_set(v, "value", json_object_get(o, "value"));
		json_array_append_new(data, v);
	}
	hdr = json_pack("{s:O, s:O, s:O, s:O, s:O}", "packetId",
			json_object_get(msg, "id"), "sender",
			json_object_get(msg, "sender"), "receivers",
			json_object_get(msg, "receivers"), "createdAt",
			json_object_get(msg, "created"), "classification",
			json_object_get(msg, "classification"));
	if (hdr && json_object_get(msg, "correlationId"))
		json_object_set(hdr, "correlationId",
				json_object_get(msg, "correlationId"));
	rep = json_pack("{s:O, s:O, s:s}", "reportingUnit",
			json_object_get(p, "reportingUnit"), "period",
			json_object_get(p, "period"), "periodType",
			period_type(jstr(p, "period")));
	if (rep && json_object_get(p, "sourceDocument"))
		json_object_set(rep, "sourceDocument",
				json_object_get(p, "sourceDocument"));
	if (rep)
		json_object_set_new(rep, "status", json_string("submitted"));
	pk = json_pack("{s:s, s:o, s:o, s:o, s:o}", "packetVersion", "1.0",
		       "header", hdr, "report", rep, "indicatorCatalogue", cat,
		       "indicatorData", data);
	if (!pk)
		snprintf(err, errlen, "cannot build the report packet");
	return pk;
}

static json_t *from_packet(const json_t *pk, char *err, size_t errlen)
{
	const json_t *h = json_object_get(pk, "header");
	const json_t *r = json_object_get(pk, "report"), *v, *c;
	const json_t *cat = json_object_get(pk, "indicatorCatalogue");
	json_t *obs = json_array(), *payload, *m;
	size_t i, k;

	json_array_foreach(json_object_get(pk, "indicatorData"), i, v)
	{
		const json_t *entry = NULL;
		json_t *o;

		json_array_foreach(cat, k, c)
		{
			if (strcmp(jstr(c, "code"), jstr(v, "indicator")) ==
			    0) {
				entry = c;
				break;
			}
		}
		if (!entry) {
			snprintf(err, errlen,
				 "indicatorData %zu: indicator '%s' is not in "
				 "the packet's indicator catalogue",
				 i, jstr(v, "indicator"));
			json_decref(obs);
			return NULL;
		}
		o = json_pack("{s:O, s:O, s:O, s:O, s:O}", "code",
			      json_object_get(v, "indicator"), "name",
			      json_object_get(entry, "name"), "unitOfMeasure",
			      json_object_get(entry, "unitOfMeasure"), "value",
			      json_object_get(v, "value"), "valueType",
			      json_object_get(v, "valueType"));
		if (o && json_object_get(v, "period"))
			json_object_set(o, "period",
					json_object_get(v, "period"));
		if (o && json_object_get(v, "dimensions"))
			json_object_set(o, "dimensions",
					json_object_get(v, "dimensions"));
		if (o && json_object_get(v, "status"))
			json_object_set(o, "status",
					json_object_get(v, "status"));
		json_array_append_new(obs, o);
	}
	payload = json_pack("{s:O, s:O}", "reportingUnit",
			    json_object_get(r, "reportingUnit"), "period",
			    json_object_get(r, "period"));
	if (payload && json_object_get(r, "sourceDocument"))
		json_object_set(payload, "sourceDocument",
				json_object_get(r, "sourceDocument"));
	if (payload)
		json_object_set_new(payload, "observations", obs);
	else
		json_decref(obs);
	m = json_pack("{s:O, s:s, s:s, s:O, s:O, s:O, s:O, s:o}", "id",
		      json_object_get(h, "packetId"), "kind",
		      "indicator.report", "schemaVersion", "1.0", "sender",
		      json_object_get(h, "sender"), "receivers",
		      json_object_get(h, "receivers"), "created",
		      json_object_get(h, "createdAt"), "classification",
		      json_object_get(h, "classification"), "payload", payload);
	if (m && json_object_get(h, "correlationId"))
		json_object_set(m, "correlationId",
				json_object_get(h, "correlationId"));
	if (!m)
		snprintf(err, errlen, "cannot map the report packet");
	return m;
}

static int json_to_wire(void *state, const json_t *msg, void **wire,
			char *errbuf, size_t errlen)
{
	*wire = to_packet(msg, errbuf, errlen);
	return *wire ? 0 : -1;
}

static int json_from_wire(void *state, const void *wire, json_t **msg,
			  char *errbuf, size_t errlen)
{
	*msg = from_packet(wire, errbuf, errlen);
	return *msg ? 0 : -1;
}

static int json_schema(void *state, const char *schema_dir, char *path,
		       size_t pathlen, char *errbuf, size_t errlen)
{
	snprintf(path, pathlen, "report-packet-1.schema.json");
	return 0;
}

/* --- packet JSON <-> XML ------------------------------------------------- */

static xmlNode *el(xmlNode *parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, parent->ns, BAD_CAST name,
			       BAD_CAST text);
}

static void org_el(xmlNode *parent, const char *name, const json_t *org)
{
	xmlNode *n = el(parent, name, NULL);

	xmlNewProp(n, BAD_CAST "orgId", BAD_CAST jstr(org, "orgId"));
	xmlNewProp(n, BAD_CAST "name", BAD_CAST jstr(org, "name"));
}

static void opt_prop(xmlNode *n, const json_t *o, const char *k)
{
	if (jstr(o, k))
		xmlNewProp(n, BAD_CAST k, BAD_CAST jstr(o, k));
}

static int xml_to_wire(void *state, const json_t *msg, void **wire,
		       char *errbuf, size_t errlen)
{
	json_t *pk = to_packet(msg, errbuf, errlen);
	const json_t *h, *r, *x, *d;
	xmlNode *root, *n, *list;
	xmlDocPtr doc;
	size_t i, k;

	*wire = NULL;
	if (!pk)
		return -1;
	h = json_object_get(pk, "header");
	r = json_object_get(pk, "report");
	doc = xmlNewDoc(BAD_CAST "1.0");
	root = xmlNewNode(NULL, BAD_CAST "ReportPacket");
	xmlSetNs(root, xmlNewNs(root, BAD_CAST RP_NS, NULL));
	xmlDocSetRootElement(doc, root);
	xmlNewProp(root, BAD_CAST "version", BAD_CAST "1.0");
	n = el(root, "Header", NULL);
	el(n, "PacketId", jstr(h, "packetId"));
	org_el(n, "Sender", json_object_get(h, "sender"));
	json_array_foreach(json_object_get(h, "receivers"), i, x)
	{
		org_el(n, "Receiver", x);
	}
	el(n, "CreatedAt", jstr(h, "createdAt"));
	el(n, "Classification", jstr(h, "classification"));
	if (jstr(h, "correlationId"))
		el(n, "CorrelationId", jstr(h, "correlationId"));
	n = el(root, "Report", NULL);
	org_el(n, "ReportingUnit", json_object_get(r, "reportingUnit"));
	el(n, "Period", jstr(r, "period"));
	el(n, "PeriodType", jstr(r, "periodType"));
	if (jstr(r, "sourceDocument"))
		el(n, "SourceDocument", jstr(r, "sourceDocument"));
	el(n, "Status", jstr(r, "status"));
	list = el(root, "IndicatorCatalogue", NULL);
	json_array_foreach(json_object_get(pk, "indicatorCatalogue"), i, x)
	{
		n = el(list, "Indicator", NULL);
		opt_prop(n, x, "code");
		opt_prop(n, x, "name");
		opt_prop(n, x, "unitOfMeasure");
	}
	list = el(root, "IndicatorData", NULL);
	json_array_foreach(json_object_get(pk, "indicatorData"), i, x)
	{
		n = el(list, "Value", NULL);
		opt_prop(n, x, "indicator");
		opt_prop(n, x, "period");
		opt_prop(n, x, "valueType");
		opt_prop(n, x, "status");
		json_array_foreach(json_object_get(x, "dimensions"), k, d)
		{
			xmlNode *dn = el(n, "Dimension", NULL);

			opt_prop(dn, d, "name");
			opt_prop(dn, d, "value");
		}
		el(n, "Amount", jstr(x, "value"));
	}
	json_decref(pk);
	*wire = doc;
	return 0;
}

static int is_el(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	       strcmp((const char *)n->ns->href, RP_NS) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *n, const char *name)
{
	xmlNode *k;

	for (k = n ? n->children : NULL; k; k = k->next)
		if (is_el(k, name))
			return k;
	return NULL;
}

static void set_text(json_t *o, const char *k, const xmlNode *n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;

	if (t)
		json_object_set_new(o, k, json_string((const char *)t));
	xmlFree(t);
}

static void set_prop(json_t *o, const char *k, const xmlNode *n)
{
	xmlChar *t = n ? xmlGetNoNsProp(n, BAD_CAST k) : NULL;

	if (t)
		json_object_set_new(o, k, json_string((const char *)t));
	xmlFree(t);
}

static json_t *org_of(const xmlNode *n)
{
	json_t *o = json_object();

	set_prop(o, "orgId", n);
	set_prop(o, "name", n);
	return o;
}

static int xml_from_wire(void *state, const void *wire, json_t **msg,
			 char *errbuf, size_t errlen)
{
	xmlNode *root = xmlDocGetRootElement((xmlDocPtr)wire);
	xmlNode *h = child(root, "Header"), *r = child(root, "Report"), *n, *d;
	json_t *pk, *hj = json_object(), *rj = json_object(),
		    *recv = json_array(), *cat = json_array(),
		    *data = json_array();

	for (n = h ? h->children : NULL; n; n = n->next)
		if (is_el(n, "Receiver"))
			json_array_append_new(recv, org_of(n));
	set_text(hj, "packetId", child(h, "PacketId"));
	json_object_set_new(hj, "sender", org_of(child(h, "Sender")));
	json_object_set_new(hj, "receivers", recv);
	set_text(hj, "createdAt", child(h, "CreatedAt"));
	set_text(hj, "classification", child(h, "Classification"));
	set_text(hj, "correlationId", child(h, "CorrelationId"));
	json_object_set_new(rj, "reportingUnit",
			    org_of(child(r, "ReportingUnit")));
	set_text(rj, "period", child(r, "Period"));
	set_text(rj, "sourceDocument", child(r, "SourceDocument"));
	for (n = child(child(root, "IndicatorCatalogue"), "Indicator"); n;
	     n = n->next) {
		json_t *e;

		if (!is_el(n, "Indicator"))
			continue;
		e = json_object();
		set_prop(e, "code", n);
		set_prop(e, "name", n);
		set_prop(e, "unitOfMeasure", n);
		json_array_append_new(cat, e);
	}
	for (n = child(child(root, "IndicatorData"), "Value"); n; n = n->next) {
		json_t *v, *dims = json_array();

		if (!is_el(n, "Value")) {
			json_decref(dims);
			continue;
		}
		v = json_object();
		set_prop(v, "indicator", n);
		set_prop(v, "period", n);
		set_prop(v, "valueType", n);
		set_prop(v, "status", n);
		for (d = child(n, "Dimension"); d; d = d->next) {
			json_t *dj;

			if (!is_el(d, "Dimension"))
				continue;
			dj = json_object();
			set_prop(dj, "name", d);
			set_prop(dj, "value", d);
			json_array_append_new(dims, dj);
		}
		if (json_array_size(dims))
			json_object_set(v, "dimensions", dims);
		json_decref(dims);
		set_text(v, "value", child(n, "Amount"));
		json_array_append_new(data, v);
	}
	pk = json_pack("{s:o, s:o, s:o, s:o}", "header", hj, "report", rj,
		       "indicatorCatalogue", cat, "indicatorData", data);
	*msg = pk ? from_packet(pk, errbuf, errlen) : NULL;
	json_decref(pk);
	return *msg ? 0 : -1;
}

static int xml_schema(void *state, const char *schema_dir, char *path,
		      size_t pathlen, char *errbuf, size_t errlen)
{
	snprintf(path, pathlen, "report-packet-1.xsd");
	return 0;
}

const struct gw_adapter gw_adapter_report_packet = {
	.abi_version = GW_ADAPTER_ABI_VERSION,
	.size = sizeof(struct gw_adapter),
	.name = "report-packet",
	.description = "indicator report packets (QCVN 125:2021 profile), XML",
	.wire_syntax = GW_ADAPTER_WIRE_XML,
	.media_type = "application/xml",
	.kinds = "indicator.report",
	.to_wire = xml_to_wire,
	.from_wire = xml_from_wire,
	.wire_schema = xml_schema,
};

const struct gw_adapter gw_adapter_report_packet_json = {
	.abi_version = GW_ADAPTER_ABI_VERSION,
	.size = sizeof(struct gw_adapter),
	.name = "report-packet-json",
	.description = "indicator report packets (QCVN 125:2021 profile), JSON",
	.wire_syntax = GW_ADAPTER_WIRE_JSON,
	.media_type = "application/json",
	.kinds = "indicator.report",
	.to_wire = json_to_wire,
	.from_wire = json_from_wire,
	.wire_schema = json_schema,
};
