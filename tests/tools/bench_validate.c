/*
 * bench_validate.c - validations per second of a JSON Schema with the
 * gateway's validator (gateway/jsonschema.c), for make bench
 * (bench/bench_validate.sh), next to ajv (bench/validate.js) and
 * python3-jsonschema (bench/validate.py) that print the same JSON.
 *
 * Two things are timed, each for RUNS runs of at least SECONDS seconds:
 *   "validate": gw_js_validate() on a document parsed once beforehand
 *               (the schema is compiled once, outside the timing);
 *   "parse_validate": gw_json_parse() of the bytes (duplicate keys, depth
 *               and number limits checked, as the gateway does) followed
 *               by gw_js_validate() and json_decref().
 * Every validation must succeed: an invalid input is an error (exit 1),
 * so a benchmark can never time the fast path of a rejection.
 *
 * usage: bench_validate SCHEMA.json RUNS SECONDS FILE...
 * prints {"impl": "lienthong", "files": [{"file", "bytes", "validate":
 * [per-run validations/s...], "parse_validate": [...]}]}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "base/json.h"
#include "model/jsonschema.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Validations per second over at least secs seconds; -1 when one fails. */
static double rate(const struct gw_js_schema *s, const json_t *doc,
		   const char *buf, size_t len, double secs)
{
	double t0 = now_s(), t;
	long n = 0, batch = 16, i;

	do {
		for (i = 0; i < batch; i++) {
			json_t *d = (json_t *)doc;
			int valid;

			if (!doc && gw_json_parse(buf, len, "bench", &d, NULL))
				return -1;
			valid = gw_js_validate(s, d, NULL);
			if (!doc)
				json_decref(d);
			if (!valid)
				return -1;
		}
		n += batch;
		if (batch < 65536)
			batch *= 2;
		t = now_s() - t0;
	} while (t < secs);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	struct gw_js_registry *reg = NULL;
	struct gw_js_schema *s = NULL;
	struct gw_err err = { 0 };
	int runs, i, r, rc = 3;
	double secs;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_validate SCHEMA.json RUNS "
				"SECONDS FILE...\n");
		return 2;
	}
	runs = atoi(argv[2]);
	secs = atof(argv[3]);
	if (runs < 1 || secs <= 0) {
		fprintf(stderr, "bench_validate: RUNS and SECONDS must be "
				"positive\n");
		return 2;
	}
	reg = gw_js_registry_new();
	if (!reg || gw_js_compile_file(reg, argv[1], 0, &s, &err)) {
		fprintf(stderr, "bench_validate: %s\n",
			reg ? err.msg : "out of memory");
		goto out;
	}
	printf("{\"impl\": \"lienthong\", \"files\": [");
	for (i = 4; i < argc; i++) {
		char *buf = NULL;
		size_t len = 0;
		json_t *doc = NULL;

		if (gw_read_file(argv[i], 0, &buf, &len, &err) ||
		    gw_json_parse(buf, len, argv[i], &doc, &err)) {
			fprintf(stderr, "bench_validate: %s\n", err.msg);
			free(buf);
			goto out;
		}
		printf("%s{\"file\": \"%s\", \"bytes\": %zu", i > 4 ? ", " : "",
		       argv[i], len);
		for (int mode = 0; mode < 2; mode++) {
			printf(", \"%s\": [",
			       mode ? "parse_validate" : "validate");
			for (r = 0; r < runs; r++) {
				double v = rate(s, mode ? NULL : doc, buf, len,
						secs);

				if (v < 0) {
					fprintf(stderr,
						"bench_validate: '%s' is not "
						"valid against '%s'\n",
						argv[i], argv[1]);
					json_decref(doc);
					free(buf);
					rc = 1;
					goto out;
				}
				printf("%s%.1f", r ? ", " : "", v);
			}
			printf("]");
		}
		printf("}");
		json_decref(doc);
		free(buf);
	}
	printf("]}\n");
	rc = 0;
out:
	gw_js_schema_free(s);
	gw_js_registry_free(reg);
	return rc;
}
