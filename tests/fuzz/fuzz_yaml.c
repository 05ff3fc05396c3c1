/*
 * fuzz_yaml.c - libFuzzer target for the YAML reader of the configuration
 * (model/config.c: no aliases, line numbers kept for every key).
 */
#include <stdint.h>
#include <stdlib.h>

#include "model/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_err err;
	json_t *j = NULL, *lines = NULL;

	gw_yaml_parse((const char *)data, size, "fuzz.yaml", &j, &lines, &err);
	json_decref(j);
	json_decref(lines);
	return 0;
}
