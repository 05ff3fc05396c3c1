/*
 * fuzz_csv.c - libFuzzer target for the RFC 4180 CSV reader of the csv
 * adapter (adapters/csv/csv.c): every bad row says why, rows never go
 * back in the file. The first byte picks the delimiter (0: guessed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "csv/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = { 0, ',', ';', '\t' };
	FILE *f;
	struct gw_csv *c;
	const char *const *cells;
	size_t n, line, last = 0;
	char why[300];
	int r;

	if (size < 1)
		return 0;
	f = fmemopen((void *)(data + 1), size > 1 ? size - 1 : 1, "rb");
	c = f ? gw_csv_new(f, delims[data[0] % 4]) : NULL;
	while (c && (why[0] = '\0', r = gw_csv_next(c, &cells, &n, &line, why,
						    sizeof(why))) != 0) {
		if ((r < 0 && !why[0]) || line < last)
			abort();
		last = line;
	}
	gw_csv_free(c);
	if (f)
		fclose(f);
	return 0;
}
