/*
 * bench_mkjws.c - signed request bodies for the load generator: N copies of
 * a canonical JSON message, each with its own id (a version-4-shaped UUID
 * made from the index and a run tag), signed as flattened JWS over the RFC
 * 8785 form with the given key (x5c chain in the protected header), one
 * per line, so that a receiver that deduplicates by id sees N different
 * messages.
 *
 * usage: bench_mkjws KEY CERT CHAIN TEMPLATE.json N [TAG] > BODIES
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "crypto/sign.h"
#include "base/xml.h"

int main(int argc, char **argv)
{
	struct gw_sign_key *k = NULL;
	struct gw_err err;
	struct gw_buf out;
	json_t *tpl = NULL;
	json_error_t je;
	unsigned long n, i, tag;
	int rc = 3;

	if (argc < 6) {
		fprintf(stderr, "usage: bench_mkjws KEY CERT CHAIN "
				"TEMPLATE.json N [TAG]\n");
		return 2;
	}
	n = strtoul(argv[5], NULL, 10);
	tag = argc > 6 ? strtoul(argv[6], NULL, 16) & 0xffffffffUL : 0;
	gw_err_clear(&err);
	gw_buf_init(&out);
	gw_xml_init();
	if (gw_sign_init(&err) ||
	    gw_sign_key_load(argv[1], NULL, argv[2], argv[3], &k, &err)) {
		fprintf(stderr, "bench_mkjws: %s\n", err.msg);
		goto out;
	}
	if (!(tpl = json_load_file(argv[4], JSON_REJECT_DUPLICATES, &je))) {
		fprintf(stderr, "bench_mkjws: %s:%d: %s\n", argv[4], je.line,
			je.text);
		goto out;
	}
	for (i = 0; i < n; i++) {
		char id[48], *text;

		snprintf(id, sizeof(id), "%08lx-%04lx-4%03lx-8%03lx-%012lx",
			 tag, (i >> 32) & 0xffff, (i >> 20) & 0xfff,
			 (i >> 8) & 0xfff, i);
		if (json_object_set_new(tpl, "id", json_string(id)) ||
		    !(text = json_dumps(tpl, JSON_COMPACT))) {
			fprintf(stderr, "bench_mkjws: out of memory\n");
			goto out;
		}
		out.len = 0;
		if (gw_sign_json(k, GW_SIGN_ALG_DEFAULT, text, strlen(text),
				 GW_SIGN_FLATTENED, &out, &err)) {
			free(text);
			fprintf(stderr, "bench_mkjws: %s\n", err.msg);
			goto out;
		}
		free(text);
		fwrite(out.data, 1, out.len, stdout);
		putchar('\n');
	}
	rc = fflush(stdout) ? 3 : 0;
out:
	json_decref(tpl);
	gw_buf_release(&out);
	gw_sign_key_free(k);
	gw_sign_shutdown();
	return rc;
}
