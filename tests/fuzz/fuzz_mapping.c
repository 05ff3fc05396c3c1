/*
 * fuzz_mapping.c - libFuzzer target for mapping files (adapt/mapping.c):
 * the YAML file checked against schemas/mapping.schema.json, its
 * transforms and code lists compiled. The input is written to a file in a
 * private temporary folder (gw_mapping_load reads a path), where the code
 * list files of conf/mappings/ are not: a reference to one is refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "adapt/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct gw_mapping *m = NULL;
	struct gw_err err;
	FILE *f;

	if (!path[0]) {
		char dir[] = "/tmp/fuzz-mapping-XXXXXX";

		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/m.yaml", dir);
	}
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, size, f) != size ||
	    fclose(f))
		abort();
	if (gw_mapping_load(path, "schemas", NULL, NULL, &m, &err) == GW_OK)
		gw_mapping_free(m);
	return 0;
}
