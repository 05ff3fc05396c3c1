/*
 * sdmx_catalogue.c - the indicator catalogue and the observation <->
 * series mapping shared by the SDMX adapters (see sdmx_catalogue.h).
 */
#include "sdmx_catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *js(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int is_id(const char *s)
{
	return s && *s &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_") == strlen(s);
}

int gw_sdmx_cat_load(struct gw_sdmx_cat *c, const char *schema_dir, char *err,
		     size_t errlen)
{
	const char *env = getenv("LIENTHONG_INDICATORS");
	char path[4096];
	json_error_t je;
	json_t *d;
	size_t i;

	memset(c, 0, sizeof(*c));
	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else
		snprintf(path, sizeof(path), "%s/../conf/indicators.json",
			 schema_dir);
	c->root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!c->root) {
		snprintf(err, errlen,
			 "cannot read the indicator catalogue %s:%d: %s "
			 "(set LIENTHONG_INDICATORS)",
			 path, je.line, je.text);
		return -1;
	}
	c->agency = js(c->root, "agency");
	c->flow = js(c->root, "dataflow");
	c->version = js(c->root, "version");
	c->name = js(c->root, "name");
	c->indicators = json_object_get(c->root, "indicators");
	if (!is_id(c->agency) || !is_id(c->flow) || !c->version || !c->name ||
	    !json_is_array(c->indicators)) {
		snprintf(err, errlen,
			 "%s: the catalogue needs agency and dataflow "
			 "([A-Za-z0-9_]), version, name and indicators",
			 path);
		goto fail;
	}
	json_array_foreach(json_object_get(c->root, "dimensions"), i, d)
	{
		struct gw_sdmx_dim *dim = &c->dims[c->ndims];
		const json_t *label = json_object_get(d, "label");

		if (c->ndims == GW_SDMX_MAX_DIMS || !is_id(js(d, "id")) ||
		    !js(d, "name") ||
		    !json_is_object(json_object_get(d, "codes")) ||
		    (label &&
		     (!is_id(js(label, "id")) || !js(label, "name")))) {
			snprintf(err, errlen,
				 "%s: /dimensions/%zu needs id, name and "
				 "codes (at most %d dimensions)",
				 path, i, GW_SDMX_MAX_DIMS);
			goto fail;
		}
		dim->id = js(d, "id");
		dim->name = js(d, "name");
		dim->label_id = label ? js(label, "id") : NULL;
		dim->label_name = label ? js(label, "name") : NULL;
		dim->codes = json_object_get(d, "codes");
		c->ndims++;
	}
	json_array_foreach(c->indicators, i, d)
	{
		if (!js(d, "code") || !js(d, "name") ||
		    !js(d, "unitOfMeasure")) {
			snprintf(err, errlen,
				 "%s: /indicators/%zu needs code, name and "
				 "unitOfMeasure",
				 path, i);
			goto fail;
		}
	}
	snprintf(c->struct_id, sizeof(c->struct_id), "%s_%s_%s", c->agency,
		 c->flow, c->version);
	for (i = 0; c->struct_id[i]; i++)
		if (c->struct_id[i] == '.')
			c->struct_id[i] = '_';
	snprintf(c->flow_urn, sizeof(c->flow_urn),
		 "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=%s:%s(%s)",
		 c->agency, c->flow, c->version);
	snprintf(c->ns, sizeof(c->ns), "%s:ObsLevelDim:TIME_PERIOD",
		 c->flow_urn);
	return 0;
fail:
	json_decref(c->root);
	memset(c, 0, sizeof(*c));
	return -1;
}

void gw_sdmx_cat_release(struct gw_sdmx_cat *c)
{
	json_decref(c->root);
	memset(c, 0, sizeof(*c));
}

const json_t *gw_sdmx_cat_indicator(const struct gw_sdmx_cat *c,
				    const char *code)
{
	const json_t *d;
	size_t i;

	json_array_foreach(c->indicators, i, d)
	{
		if (code && strcmp(js(d, "code"), code) == 0)
			return d;
	}
	return NULL;
}

static const char *const status_map[][2] = {
	{ "normal", "A" },  { "provisional", "P" }, { "estimated", "E" },
	{ "revised", "R" }, { "missing", "M" },
};

const char *gw_sdmx_status_code(const char *status)
{
	size_t i;

	for (i = 0; status && i < sizeof(status_map) / sizeof(status_map[0]);
	     i++)
		if (strcmp(status_map[i][0], status) == 0)
			return status_map[i][1];
	return NULL;
}

const char *gw_sdmx_status_name(const char *code)
{
	size_t i;

	for (i = 0; code && i < sizeof(status_map) / sizeof(status_map[0]); i++)
		if (strcmp(status_map[i][1], code) == 0)
			return status_map[i][0];
	return NULL;
}

static const struct gw_sdmx_dim *dim_named(const struct gw_sdmx_cat *c,
					   const char *name, int *label)
{
	size_t i;

	for (i = 0; i < c->ndims; i++) {
		if (strcmp(c->dims[i].name, name) == 0) {
			*label = 0;
			return &c->dims[i];
		}
		if (c->dims[i].label_name &&
		    strcmp(c->dims[i].label_name, name) == 0) {
			*label = 1;
			return &c->dims[i];
		}
	}
	return NULL;
}

/* The series key and attributes of one observation (new object). */
static json_t *series_key(const struct gw_sdmx_cat *c, const json_t *o,
			  size_t idx, char *err, size_t errlen)
{
	json_t *key = json_object(), *dim;
	const char *code = js(o, "code");
	size_t i, d;

	if (!key)
		return NULL;
	if (!gw_sdmx_cat_indicator(c, code)) {
		snprintf(err, errlen,
			 "/payload/observations/%zu: indicator '%s' is not in "
			 "the indicator catalogue (conf/indicators.json)",
			 idx, code ? code : "?");
		goto fail;
	}
	json_object_set_new(key, "INDICATOR", json_string(code));
	json_object_set_new(key, "VALUE_TYPE", json_string(js(o, "valueType")));
	/* every dimension of the observation must be in the catalogue */
	json_array_foreach(json_object_get(o, "dimensions"), i, dim)
	{
		int label;
		const struct gw_sdmx_dim *cd =
			dim_named(c, js(dim, "name"), &label);

		if (!cd) {
			snprintf(err, errlen,
				 "/payload/observations/%zu/dimensions/%zu: "
				 "dimension '%s' is not in the indicator "
				 "catalogue",
				 idx, i, js(dim, "name"));
			goto fail;
		}
		if (!label && !json_object_get(cd->codes, js(dim, "value"))) {
			snprintf(err, errlen,
				 "/payload/observations/%zu/dimensions/%zu: "
				 "'%s' is not a code of dimension %s",
				 idx, i, js(dim, "value"), cd->id);
			goto fail;
		}
	}
	for (d = 0; d < c->ndims; d++) {
		json_array_foreach(json_object_get(o, "dimensions"), i, dim)
		{
			if (strcmp(js(dim, "name"), c->dims[d].name) == 0)
				json_object_set(key, c->dims[d].id,
						json_object_get(dim, "value"));
		}
	}
	json_object_set_new(key, "UNIT_MEASURE",
			    json_string(js(o, "unitOfMeasure")));
	json_object_set_new(key, "TITLE", json_string(js(o, "name")));
	for (d = 0; d < c->ndims; d++) {
		json_array_foreach(json_object_get(o, "dimensions"), i, dim)
		{
			if (c->dims[d].label_name &&
			    strcmp(js(dim, "name"), c->dims[d].label_name) == 0)
				json_object_set(key, c->dims[d].label_id,
						json_object_get(dim, "value"));
		}
	}
	return key;
fail:
	json_decref(key);
	return NULL;
}

json_t *gw_sdmx_series(const struct gw_sdmx_cat *c, const json_t *observations,
		       const char *period, char *err, size_t errlen)
{
	json_t *out = json_array(), *o;
	size_t i;

	if (!out)
		return NULL;
	json_array_foreach(observations, i, o)
	{
		json_t *key = series_key(c, o, i, err, errlen), *s = NULL,
		       *cand, *obs;
		const char *st = js(o, "status"), *tp;
		size_t k;

		if (!key) {
			json_decref(out);
			return NULL;
		}
		json_array_foreach(out, k, cand)
		{
			if (json_equal(json_object_get(cand, "key"), key)) {
				s = cand;
				break;
			}
		}
		if (!s) {
			s = json_pack("{s:O, s:[]}", "key", key, "obs");
			json_array_append_new(out, s);
		}
		json_decref(key);
		tp = js(o, "period") ? js(o, "period") : period;
		json_array_foreach(json_object_get(s, "obs"), k, cand)
		{
			if (strcmp(js(cand, "TIME_PERIOD"), tp) != 0)
				continue;
			snprintf(err, errlen,
				 "/payload/observations/%zu: another "
				 "observation has the same indicator, "
				 "value type, dimensions and period "
				 "(%s); SDMX cannot carry both",
				 i, tp);
			json_decref(out);
			return NULL;
		}
		obs = json_pack("{s:s, s:s}", "TIME_PERIOD", tp, "OBS_VALUE",
				js(o, "value"));
		if (st && obs)
			json_object_set_new(
				obs, "OBS_STATUS",
				json_string(gw_sdmx_status_code(st)));
		json_array_append_new(json_object_get(s, "obs"), obs);
	}
	return out;
}

json_t *gw_sdmx_observation(const struct gw_sdmx_cat *c, const json_t *series,
			    const json_t *obs, char *err, size_t errlen)
{
	const char *code = js(series, "INDICATOR"), *v = js(obs, "OBS_VALUE");
	const char *st = js(obs, "OBS_STATUS");
	const json_t *ind = gw_sdmx_cat_indicator(c, code);
	json_t *o, *dims;
	size_t d;

	if (!ind) {
		snprintf(err, errlen,
			 "indicator '%s' is not in the indicator catalogue",
			 code ? code : "?");
		return NULL;
	}
	if (!v) {
		snprintf(err, errlen,
			 "an observation of %s at %s has no OBS_VALUE", code,
			 js(obs, "TIME_PERIOD") ? js(obs, "TIME_PERIOD") : "?");
		return NULL;
	}
	if (st && !gw_sdmx_status_name(st)) {
		snprintf(err, errlen,
			 "OBS_STATUS '%s' is not one of A, P, "
			 "E, R, M",
			 st);
		return NULL;
	}
	dims = json_array();
	for (d = 0; dims && d < c->ndims; d++) {
		const char *dv = js(series, c->dims[d].id);

		if (dv)
			json_array_append_new(
				dims, json_pack("{s:s, s:s}", "name",
						c->dims[d].name, "value", dv));
		if (c->dims[d].label_id && js(series, c->dims[d].label_id))
			json_array_append_new(
				dims,
				json_pack("{s:s, s:s}", "name",
					  c->dims[d].label_name, "value",
					  js(series, c->dims[d].label_id)));
	}
	o = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s}", "code", code, "name",
		js(series, "TITLE") ? js(series, "TITLE") : js(ind, "name"),
		"unitOfMeasure",
		js(series, "UNIT_MEASURE") ? js(series, "UNIT_MEASURE")
					   : js(ind, "unitOfMeasure"),
		"value", v, "valueType",
		js(series, "VALUE_TYPE") ? js(series, "VALUE_TYPE") : "actual",
		"period", js(obs, "TIME_PERIOD") ? js(obs, "TIME_PERIOD") : "");
	if (o && json_array_size(dims))
		json_object_set(o, "dimensions", dims);
	if (o && st)
		json_object_set_new(o, "status",
				    json_string(gw_sdmx_status_name(st)));
	json_decref(dims);
	return o;
}
