/*
 * jcs_vectors.c - run the gateway's RFC 8785 canonicalization against an
 * independent suite: cyberphone's input/output pairs (the output must match
 * byte for byte) and the RFC's appendix B number table (each IEEE 754 bit
 * pattern must print as its json_string; NaN and Infinity must be refused).
 *
 * Usage: jcs_vectors SUITE_DIR   (../shared/testsuites/jcs)
 * Prints "FAIL ..." for each failure and ends with "N passed, M failed".
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "model/jcs.h"

static int passed, failed;

static void fail(const char *fmt, const char *a, const char *b)
{
	failed++;
	printf("FAIL ");
	printf(fmt, a, b);
	printf("\n");
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_pairs(const char *dir)
{
	char path[4096], *names[256], *in = NULL, *want = NULL;
	size_t n = 0, i, inlen, wantlen;
	struct dirent *de;
	struct gw_err err;
	struct gw_buf out;
	DIR *d;

	snprintf(path, sizeof(path), "%s/cyberphone-testdata/input", dir);
	d = opendir(path);
	if (!d) {
		fail("cannot open '%s'%s", path, "");
		return;
	}
	while ((de = readdir(d)) && n < GW_ARRAY_LEN(names)) {
		size_t l = strlen(de->d_name);

		if (l > 5 && !strcmp(de->d_name + l - 5, ".json"))
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		gw_err_clear(&err);
		gw_buf_init(&out);
		snprintf(path, sizeof(path), "%s/cyberphone-testdata/input/%s",
			 dir, names[i]);
		if (gw_read_file(path, 0, &in, &inlen, &err)) {
			fail("%s: %s", names[i], err.msg);
			goto next;
		}
		snprintf(path, sizeof(path), "%s/cyberphone-testdata/output/%s",
			 dir, names[i]);
		if (gw_read_file(path, 0, &want, &wantlen, &err)) {
			fail("%s: %s", names[i], err.msg);
			goto next;
		}
		if (gw_jcs_canonicalize(in, inlen, &out, &err)) {
			fail("%s: %s", names[i], err.msg);
			goto next;
		}
		if (out.len != wantlen || memcmp(out.data, want, wantlen)) {
			fail("%s: got %s", names[i], out.data);
			goto next;
		}
		passed++;
	next:
		free(in);
		free(want);
		in = want = NULL;
		gw_buf_release(&out);
		free(names[i]);
	}
	if (!n)
		fail("no input/*.json in '%s'%s", dir, "");
}

static void run_numbers(const char *dir)
{
	char path[4096], line[512], buf[32], hex[32], *want, *c;
	struct gw_err err;
	uint64_t bits;
	double d;
	int rows = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/numbers/rfc8785-appendix-b.csv", dir);
	f = fopen(path, "r");
	if (!f) {
		fail("cannot open '%s'%s", path, "");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!strncmp(line, "ieee754_hex", 11) || !line[0])
			continue;
		c = strchr(line, ',');
		if (!c || c - line >= (long)sizeof(hex)) {
			fail("malformed row '%s'%s", line, "");
			continue;
		}
		memcpy(hex, line, (size_t)(c - line));
		hex[c - line] = '\0';
		want = c + 1;
		if ((c = strchr(want, ',')))
			*c = '\0';
		bits = strtoull(hex, NULL, 16);
		memcpy(&d, &bits, sizeof(d));
		rows++;
		gw_err_clear(&err);
		if (!strcmp(want, "NaN") || !strcmp(want, "Infinity") ||
		    !strcmp(want, "-Infinity")) {
			if (gw_jcs_number(d, buf, &err) == GW_ERR_PARSE &&
			    err.msg[0])
				passed++;
			else
				fail("%s: %s was not refused", hex, want);
			continue;
		}
		if (gw_jcs_number(d, buf, &err)) {
			fail("%s: %s", hex, err.msg);
			continue;
		}
		if (strcmp(buf, want)) {
			printf("FAIL %s: got %s, want %s\n", hex, buf, want);
			failed++;
			continue;
		}
		passed++;
	}
	fclose(f);
	if (!rows)
		fail("no rows in '%s'%s", path, "");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SUITE_DIR\n", argv[0]);
		return 2;
	}
	run_pairs(argv[1]);
	run_numbers(argv[1]);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
