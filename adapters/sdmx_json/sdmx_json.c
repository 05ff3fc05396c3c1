/*
 * sdmx_json.c - the "sdmx-json" format adapter: indicator.report to and
 * from an SDMX-JSON 2.x data message (time series: the observation
 * dimension is TIME_PERIOD), valid against the official SDMX-JSON data
 * schema (draft 2019-09, format asserted; not shipped: $LIENTHONG_SDMX_DIR
 * or SCHEMA_DIR/sdmx).
 *
 * The structure is the one of the sdmx-ml adapter, from the same
 * indicator catalogue (adapters/sdmx_ml/sdmx_catalogue.h): series
 * dimensions INDICATOR, VALUE_TYPE and the catalogue's dimensions (the
 * value "_Z", not applicable, when an observation has none), observation
 * dimension TIME_PERIOD, measure OBS_VALUE (a string: decimals are never
 * binary floats), series attributes UNIT_MEASURE, TITLE and the dimension
 * labels, observation attribute OBS_STATUS, data set attributes for the
 * report. Values are referred to by index, as SDMX-JSON does.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"
#include "../sdmx_ml/sdmx_catalogue.h"

#define SCHEMA_URI "https://json.sdmx.org/2.1/sdmx-json-data-schema.json"
#define NOT_APPLICABLE "_Z"

struct state {
	int loaded;
	struct gw_sdmx_cat cat;
};

static int init(const struct gw_adapter_host *host, void **state)
{
	*state = calloc(1, sizeof(struct state));
	return *state ? 0 : -1;
}

static void fini(void *state)
{
	struct state *s = state;

	if (s && s->loaded)
		gw_sdmx_cat_release(&s->cat);
	free(s);
}

static int readable(const char *p)
{
	return access(p, R_OK) == 0;
}

static int wire_schema(void *state, const char *schema_dir, char *path,
		       size_t pathlen, char *errbuf, size_t errlen)
{
	static const char *const sub[] = {
		"/sdmx-json-data-schema.json",
		"/sdmx-json/data-message/tools/schemas/"
		"sdmx-json-data-schema.json"
	};
	struct state *s = state;
	const char *env = getenv("LIENTHONG_SDMX_DIR");
	char p[PATH_MAX + 128];
	size_t i;

	if (!s->loaded) {
		if (gw_sdmx_cat_load(&s->cat, schema_dir, errbuf, errlen))
			return -1;
		s->loaded = 1;
	}
	for (i = 0; env && *env && i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", env, sub[i]);
		if (readable(p) && realpath(p, path) && strlen(path) < pathlen)
			return 0;
	}
	snprintf(p, sizeof(p), "%s/sdmx/sdmx-json-data-schema.json",
		 schema_dir);
	if (readable(p) && realpath(p, path) && strlen(path) < pathlen)
		return 0;
	snprintf(errbuf, errlen,
		 "the SDMX-JSON data schema is not installed: put "
		 "sdmx-json-data-schema.json in %s/sdmx or set "
		 "LIENTHONG_SDMX_DIR",
		 schema_dir);
	return -1;
}

/* --- canonical -> SDMX-JSON -------------------------------------------- */

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int is_id(const char *s)
{
	return s && *s &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_@$-") == strlen(s);
}

static void sdmx_id(const char *org, char out[64], int to_sdmx)
{
	size_t i;

	snprintf(out, 64, "%s", org ? org : "");
	for (i = 0; out[i]; i++)
		if (out[i] == (to_sdmx ? '.' : '_'))
			out[i] = to_sdmx ? '_' : '.';
}

static json_t *party(const json_t *org)
{
	char id[64];

	sdmx_id(jstr(org, "orgId"), id, 1);
	return json_pack("{s:s, s:s}", "id", id, "name", jstr(org, "name"));
}

/* A value entry: {"id", "name"} when v is an SDMX id, else {"value"}. */
static json_t *value_entry(const char *v, const char *name)
{
	if (is_id(v))
		return json_pack("{s:s, s:s}", "id", v, "name",
				 name ? name : v);
	if (name)
		return json_pack("{s:s, s:s}", "value", v, "name", name);
	return json_pack("{s:s}", "value", v);
}

/* The index of v in the component's value list, appended when new. */
static size_t index_of(json_t *comp, const char *v, const char *name)
{
	json_t *vals = json_object_get(comp, "values"), *e;
	size_t i;

	json_array_foreach(vals, i, e)
	{
		const char *x =
			jstr(e, "id") ? jstr(e, "id") : jstr(e, "value");

		if (x && strcmp(x, v) == 0)
			return i;
	}
	json_array_append_new(vals, value_entry(v, name));
	return json_array_size(vals) - 1;
}

static json_t *component(const char *id, const char *name, int pos)
{
	json_t *c =
		json_pack("{s:s, s:s, s:[]}", "id", id, "name", name, "values");

	if (c && pos >= 0)
		json_object_set_new(c, "keyPosition", json_integer(pos));
	return c;
}

static json_t *attribute(const char *id, const char *name, json_t *rel)
{
	return json_pack("{s:s, s:s, s:o, s:[]}", "id", id, "name", name,
			 "relationship", rel, "values");
}

static int to_wire(void *state, const json_t *msg, void **wire, char *errbuf,
		   size_t errlen)
{
	static const char *const ds_attr[][3] = {
		{ "REPORTING_UNIT", "Đơn vị báo cáo", NULL },
		{ "REPORTING_UNIT_NAME", "Tên đơn vị báo cáo", NULL },
		{ "REPORT_PERIOD", "Kỳ báo cáo", NULL },
		{ "SOURCE_DOCUMENT", "Văn bản nguồn", NULL },
		{ "CLASSIFICATION", "Độ mật", NULL },
		{ "CORRELATION_ID", "Mã thông điệp liên quan", NULL },
	};
	struct state *s = state;
	const json_t *p = json_object_get(msg, "payload"), *r, *ser, *ob;
	const json_t *unit = json_object_get(p, "reportingUnit");
	const char *dsv[6];
	json_t *series = NULL, *out = NULL, *receivers, *sdims, *odims, *sattr,
	       *dattr, *oattr, *dsidx, *dsser, *tp, *st, *keydims;
	size_t i, k, d, nd;

	*wire = NULL;
	if (!s->loaded) {
		snprintf(errbuf, errlen,
			 "the indicator catalogue is not "
			 "loaded");
		return -1;
	}
	series = gw_sdmx_series(&s->cat, json_object_get(p, "observations"),
				jstr(p, "period"), errbuf, errlen);
	if (!series)
		return -1;
	receivers = json_array();
	json_array_foreach(json_object_get(msg, "receivers"), i, r)
	{
		json_array_append_new(receivers, party(r));
	}
	/* structure: dimensions and attributes, values filled below */
	keydims = json_pack("[s, s]", "INDICATOR", "VALUE_TYPE");
	sdims = json_pack("[o, o]", component("INDICATOR", "Chỉ tiêu", 0),
			  component("VALUE_TYPE", "Loại giá trị", 1));
	for (d = 0; d < s->cat.ndims; d++) {
		json_array_append_new(sdims, component(s->cat.dims[d].id,
						       s->cat.dims[d].name,
						       (int)(2 + d)));
		json_array_append_new(keydims, json_string(s->cat.dims[d].id));
	}
	nd = 2 + s->cat.ndims;
	tp = component("TIME_PERIOD", "Kỳ", (int)nd);
	json_object_set_new(tp, "roles", json_pack("[s]", "TIME_PERIOD"));
	odims = json_pack("[o]", tp);
	sattr = json_pack("[o, o]",
			  attribute("UNIT_MEASURE", "Đơn vị tính",
				    json_pack("{s:O}", "dimensions", keydims)),
			  attribute("TITLE", "Tên chỉ tiêu",
				    json_pack("{s:O}", "dimensions", keydims)));
	for (d = 0; d < s->cat.ndims; d++)
		if (s->cat.dims[d].label_id)
			json_array_append_new(
				sattr,
				attribute(s->cat.dims[d].label_id,
					  s->cat.dims[d].label_name,
					  json_pack("{s:O}", "dimensions",
						    keydims)));
	st = attribute("OBS_STATUS", "Trạng thái quan sát",
		       json_pack("{s:{}}", "observation"));
	oattr = json_pack("[o]", st);
	/* data set attributes: only those with a value */
	dsv[0] = jstr(unit, "orgId");
	dsv[1] = jstr(unit, "name");
	dsv[2] = jstr(p, "period");
	dsv[3] = jstr(p, "sourceDocument");
	dsv[4] = jstr(msg, "classification");
	dsv[5] = jstr(msg, "correlationId");
	dattr = json_array();
	dsidx = json_array();
	for (i = 0; i < 6; i++) {
		json_t *a;

		if (!dsv[i])
			continue;
		a = attribute(ds_attr[i][0], ds_attr[i][1],
			      json_pack("{s:{}}", "dataflow"));
		json_array_append_new(json_object_get(a, "values"),
				      json_pack("{s:s}", "value", dsv[i]));
		json_array_append_new(dattr, a);
		json_array_append_new(dsidx, json_integer(0));
	}
	dsser = json_object();
	json_array_foreach(series, i, ser)
	{
		const json_t *key = json_object_get(ser, "key");
		json_t *sa = json_array(), *obs = json_object(), *e;
		char skey[128] = "", part[24];
		size_t a;

		for (d = 0; d < nd; d++) {
			json_t *comp = json_array_get(sdims, d);
			const char *cid = jstr(comp, "id");
			const char *v = jstr(key, cid);
			const char *name = NULL;

			if (d >= 2 && v)
				name = json_string_value(json_object_get(
					s->cat.dims[d - 2].codes, v));
			if (d == 0)
				name = jstr(gw_sdmx_cat_indicator(&s->cat, v),
					    "name");
			snprintf(part, sizeof(part), "%s%zu", d ? ":" : "",
				 index_of(comp, v ? v : NOT_APPLICABLE,
					  v ? name : "Không áp dụng"));
			strncat(skey, part, sizeof(skey) - strlen(skey) - 1);
		}
		json_array_foreach(sattr, a, e)
		{
			const char *v = jstr(key, jstr(e, "id"));

			if (v)
				json_array_append_new(
					sa, json_integer((json_int_t)index_of(
						    e, v, NULL)));
			else
				json_array_append_new(sa, json_null());
		}
		json_array_foreach(json_object_get(ser, "obs"), k, ob)
		{
			char okey[24];
			const char *stc = jstr(ob, "OBS_STATUS");

			snprintf(okey, sizeof(okey), "%zu",
				 index_of(tp, jstr(ob, "TIME_PERIOD"),
					  jstr(ob, "TIME_PERIOD")));
			json_object_set_new(
				obs, okey,
				json_pack(
					"[s, o]", jstr(ob, "OBS_VALUE"),
					stc ? json_integer((json_int_t)index_of(
						      st, stc,
						      gw_sdmx_status_name(stc)))
					    : json_null()));
		}
		json_object_set_new(dsser, skey,
				    json_pack("{s:o, s:o}", "attributes", sa,
					      "observations", obs));
	}
	/* empty value lists are not allowed: drop unused components, and
	 * their positions in every series' attribute indexes */
	for (i = json_array_size(sattr); i-- > 0;) {
		const char *sk;
		json_t *sv;

		if (json_array_size(json_object_get(json_array_get(sattr, i),
						    "values")))
			continue;
		json_array_remove(sattr, i);
		json_object_foreach(dsser, sk, sv)
		{
			json_array_remove(json_object_get(sv, "attributes"), i);
		}
	}
	for (i = json_array_size(oattr); i-- > 0;)
		if (!json_array_size(json_object_get(json_array_get(oattr, i),
						     "values")))
			json_array_remove(oattr, i);
	out = json_pack(
		"{s:s, s:{s:s, s:s, s:b, s:[s], s:o, s:o},"
		" s:{s:[{s:s, s:[i], s:[{s:s, s:s}],"
		" s:{s:o, s:o}, s:{s:[{s:s, s:s}]}, s:{s:o, s:o, s:o}}],"
		" s:[{s:i, s:s, s:o, s:o}]}}",
		"$schema", SCHEMA_URI, "meta", "id", jstr(msg, "id"),
		"prepared", jstr(msg, "created"), "test", 0, "contentLanguages",
		"vi", "sender", party(json_object_get(msg, "sender")),
		"receivers", receivers, "data", "structures", "name",
		s->cat.name, "dataSets", 0, "links", "urn", s->cat.flow_urn,
		"rel", "dataflow", "dimensions", "series", sdims, "observation",
		odims, "measures", "observation", "id", "OBS_VALUE", "name",
		"Giá trị", "attributes", "dataSet", dattr, "series", sattr,
		"observation", oattr, "dataSets", "structure", 0, "action",
		"Information", "attributes", dsidx, "series", dsser);
	json_decref(keydims);
	json_decref(series);
	if (!out) {
		snprintf(errbuf, errlen, "cannot build the SDMX-JSON message");
		return -1;
	}
	if (!json_array_size(oattr))
		json_object_del(
			json_object_get(
				json_array_get(
					json_object_get(
						json_object_get(out, "data"),
						"structures"),
					0),
				"attributes"),
			"observation");
	*wire = out;
	return 0;
}

/* --- SDMX-JSON -> canonical -------------------------------------------- */

/* The text of value i of a component (id or value; numbers formatted),
 * or NULL. */
static json_t *value_at(const json_t *comp, json_int_t i)
{
	const json_t *e =
		json_array_get(json_object_get(comp, "values"), (size_t)i);
	const json_t *v;
	char buf[64];

	if (!e || i < 0)
		return NULL;
	if (jstr(e, "id"))
		return json_string(jstr(e, "id"));
	v = json_object_get(e, "value");
	if (json_is_string(v))
		return json_incref((json_t *)v);
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return json_string(buf);
	}
	if (json_is_real(v)) {
		snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
		return json_string(buf);
	}
	return NULL;
}

/* Set into obj[id] the value a list of indexes selects from components. */
static void pick(json_t *obj, const json_t *comps, const json_t *idx)
{
	const json_t *c;
	size_t i;

	json_array_foreach(comps, i, c)
	{
		json_t *ix = json_array_get(idx, i), *v;

		if (!json_is_integer(ix))
			continue;
		v = value_at(c, json_integer_value(ix));
		if (v && strcmp(json_string_value(v), NOT_APPLICABLE) != 0)
			json_object_set_new(obj, jstr(c, "id"), v);
		else
			json_decref(v);
	}
}

static json_t *org_of(const json_t *p)
{
	char org[64];

	if (!jstr(p, "id"))
		return NULL;
	sdmx_id(jstr(p, "id"), org, 0);
	return json_pack("{s:s, s:s}", "orgId", org, "name",
			 jstr(p, "name") && *jstr(p, "name") ? jstr(p, "name")
							     : org);
}

static int from_wire(void *state, const void *wire, json_t **msg, char *errbuf,
		     size_t errlen)
{
	struct state *s = state;
	const json_t *root = wire, *meta = json_object_get(root, "meta");
	const json_t *data = json_object_get(root, "data");
	const json_t *stru =
		json_array_get(json_object_get(data, "structures"), 0);
	const json_t *ds = json_array_get(json_object_get(data, "dataSets"), 0);
	const json_t *dims = json_object_get(stru, "dimensions");
	const json_t *attrs = json_object_get(stru, "attributes");
	const json_t *sdims = json_object_get(dims, "series");
	const json_t *tp =
		json_array_get(json_object_get(dims, "observation"), 0);
	const json_t *r, *sv;
	json_t *dsa = json_object(), *obs = json_array(), *recv = json_array();
	json_t *payload = NULL, *m = NULL;
	const char *skey, *id, *created;
	char when[40];
	size_t i;

	*msg = NULL;
	if (!s->loaded || !stru || !ds || !tp ||
	    strcmp(jstr(tp, "id") ? jstr(tp, "id") : "", "TIME_PERIOD")) {
		snprintf(errbuf, errlen,
			 "an SDMX-JSON data message needs a structure, a data "
			 "set and TIME_PERIOD as the observation dimension");
		goto out;
	}
	pick(dsa, json_object_get(attrs, "dataSet"),
	     json_object_get(ds, "attributes"));
	json_object_foreach((json_t *)json_object_get(ds, "series"), skey, sv)
	{
		json_t *sa = json_object(), *idx = json_array();
		const char *ok, *p = skey;
		const json_t *ov;

		while (*p) { /* "0:1:2" -> [0, 1, 2] */
			char *end;
			long n = strtol(p, &end, 10);

			json_array_append_new(idx, json_integer(n));
			p = *end == ':' ? end + 1 : end;
			if (end == p && *p)
				break;
		}
		pick(sa, sdims, idx);
		pick(sa, json_object_get(attrs, "series"),
		     json_object_get(sv, "attributes"));
		json_decref(idx);
		json_object_foreach(
			(json_t *)json_object_get(sv, "observations"), ok, ov)
		{
			json_t *oa = json_object(), *o, *v, *tpv;
			const json_t *val = json_array_get(ov, 0);

			tpv = value_at(tp, strtol(ok, NULL, 10));
			if (tpv)
				json_object_set_new(oa, "TIME_PERIOD", tpv);
			if (json_is_string(val)) {
				json_object_set(oa, "OBS_VALUE", (json_t *)val);
			} else if (json_is_number(val)) {
				char b[64];

				if (json_is_integer(val))
					snprintf(b, sizeof(b),
						 "%" JSON_INTEGER_FORMAT,
						 json_integer_value(val));
				else
					snprintf(b, sizeof(b), "%.15g",
						 json_real_value(val));
				json_object_set_new(oa, "OBS_VALUE",
						    json_string(b));
			}
			v = json_array_get(ov, 1);
			if (json_is_integer(v)) {
				json_t *stv = value_at(
					json_array_get(
						json_object_get(attrs,
								"observation"),
						0),
					json_integer_value(v));

				if (stv)
					json_object_set_new(oa, "OBS_STATUS",
							    stv);
			}
			o = gw_sdmx_observation(&s->cat, sa, oa, errbuf,
						errlen);
			json_decref(oa);
			if (!o) {
				json_decref(sa);
				goto out;
			}
			json_array_append_new(obs, o);
		}
		json_decref(sa);
	}
	json_array_foreach(json_object_get(meta, "receivers"), i, r)
	{
		json_array_append_new(recv, org_of(r));
	}
	payload = json_pack("{s:{s:s?, s:s?}, s:s?, s:O}", "reportingUnit",
			    "orgId", jstr(dsa, "REPORTING_UNIT"), "name",
			    jstr(dsa, "REPORTING_UNIT_NAME"), "period",
			    jstr(dsa, "REPORT_PERIOD"), "observations", obs);
	if (payload && jstr(dsa, "SOURCE_DOCUMENT"))
		json_object_set(payload, "sourceDocument",
				json_object_get(dsa, "SOURCE_DOCUMENT"));
	created = jstr(meta, "prepared");
	if (created && strlen(created) == 10)
		snprintf(when, sizeof(when), "%sT00:00:00+07:00", created);
	else
		snprintf(when, sizeof(when), "%.39s", created ? created : "");
	id = jstr(meta, "id");
	m = json_pack("{s:s, s:s, s:o*, s:O, s:s, s:s, s:O}", "kind",
		      "indicator.report", "schemaVersion", "1.0", "sender",
		      org_of(json_object_get(meta, "sender")), "receivers",
		      recv, "created", when, "classification",
		      jstr(dsa, "CLASSIFICATION") ? jstr(dsa, "CLASSIFICATION")
						  : "internal",
		      "payload", payload);
	if (m && id) {
		if (strlen(id) == 36) {
			json_object_set_new(m, "id", json_string(id));
		} else {
			char k[300];

			snprintf(k, sizeof(k),
				 "urn:lienthong:key:sdmx-json:%.250s", id);
			json_object_set_new(m, "id", json_string(k));
		}
	}
	if (m && jstr(dsa, "CORRELATION_ID"))
		json_object_set(m, "correlationId",
				json_object_get(dsa, "CORRELATION_ID"));
	*msg = m;
out:
	json_decref(payload);
	json_decref(dsa);
	json_decref(obs);
	json_decref(recv);
	if (!*msg && !errbuf[0])
		snprintf(errbuf, errlen, "cannot map the SDMX-JSON message");
	return *msg ? 0 : -1;
}

const struct gw_adapter gw_adapter_sdmx_json = {
	.abi_version = GW_ADAPTER_ABI_VERSION,
	.size = sizeof(struct gw_adapter),
	.name = "sdmx-json",
	.description = "SDMX-JSON data messages",
	.init = init,
	.fini = fini,
	.wire_syntax = GW_ADAPTER_WIRE_JSON,
	.media_type = "application/vnd.sdmx.data+json;version=2.0.0",
	.kinds = "indicator.report",
	.to_wire = to_wire,
	.from_wire = from_wire,
	.wire_schema = wire_schema,
};
