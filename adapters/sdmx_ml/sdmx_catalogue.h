/*
 * sdmx_catalogue.h - the indicator catalogue shared by the SDMX format
 * adapters (sdmx-ml, sdmx-json): one dataflow, its dimensions with code
 * lists, and its indicators (conf/indicators.json, docs/FORMATS.md).
 *
 * The data structure is fixed around the canonical observation: series
 * key INDICATOR, VALUE_TYPE and the catalogue's dimensions; series
 * attributes UNIT_MEASURE, TITLE and each dimension's label; observation
 * TIME_PERIOD, OBS_VALUE, OBS_STATUS; data set attributes REPORTING_UNIT,
 * REPORTING_UNIT_NAME, REPORT_PERIOD, SOURCE_DOCUMENT, CLASSIFICATION,
 * CORRELATION_ID. Only built-in adapters use this header.
 */
#ifndef GW_SDMX_CATALOGUE_H
#define GW_SDMX_CATALOGUE_H

#include <jansson.h>
#include <stddef.h>

#define GW_SDMX_MAX_DIMS 8

struct gw_sdmx_dim {
	const char *id;		/* FIELD */
	const char *name;	/* canonical dimension name: field */
	const char *label_id;	/* FIELD_NAME, or NULL */
	const char *label_name; /* fieldName, or NULL */
	json_t *codes;		/* code -> label (borrowed from root) */
};

struct gw_sdmx_cat {
	json_t *root;
	const char *agency, *flow, *version, *name;
	struct gw_sdmx_dim dims[GW_SDMX_MAX_DIMS];
	size_t ndims;
	json_t *indicators;  /* borrowed array of {code, name, unitOfMeasure} */
	char struct_id[128]; /* VN_MOF_DVCTT_1_0 */
	char flow_urn[256];  /* urn:sdmx:...Dataflow=VN_MOF:DVCTT(1.0) */
	char ns[300];	     /* flow_urn + ":ObsLevelDim:TIME_PERIOD" */
};

/* Load the catalogue: $LIENTHONG_INDICATORS, else
 * SCHEMA_DIR/../conf/indicators.json. 0, or -1 with a reason in err. */
int gw_sdmx_cat_load(struct gw_sdmx_cat *c, const char *schema_dir, char *err,
		     size_t errlen);
void gw_sdmx_cat_release(struct gw_sdmx_cat *c);

/* The catalogue entry of an indicator code (borrowed), or NULL. */
const json_t *gw_sdmx_cat_indicator(const struct gw_sdmx_cat *c,
				    const char *code);

/* Canonical observation status <-> SDMX OBS_STATUS code (A, P, E, R, M);
 * NULL when unknown. */
const char *gw_sdmx_status_code(const char *status);
const char *gw_sdmx_status_name(const char *code);

/*
 * Group the observations (borrowed canonical array) of a report whose
 * period is period into series, in order of first appearance: a new array
 * of {"key": {ID: value, ...} (series key then series attributes, in the
 * structure's order), "obs": [{"TIME_PERIOD", "OBS_VALUE",
 * "OBS_STATUS"?}]}. NULL with a reason in err when an observation names an
 * indicator, dimension or code the catalogue does not have.
 */
json_t *gw_sdmx_series(const struct gw_sdmx_cat *c, const json_t *observations,
		       const char *period, char *err, size_t errlen);

/*
 * The reverse: one canonical observation from a series' attributes and an
 * observation's attributes (both objects of ID -> string, borrowed).
 * Returns a new object, or NULL with a reason in err.
 */
json_t *gw_sdmx_observation(const struct gw_sdmx_cat *c, const json_t *series,
			    const json_t *obs, char *err, size_t errlen);

#endif
