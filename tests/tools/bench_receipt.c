/*
 * bench_receipt.c - what checking a destination's receipt costs the sender
 * (flow/deliver_receipt.c), for make bench (bench/bench_outbox.sh).
 *
 * Makes N receipts as a destination would (a canonical receipt naming
 * message i and the SHA-256 of its bytes, flattened JWS, ES256, signed by
 * the hub's key with its chain), then times gw_receipt_check over all of
 * them, three times: detection, JWS parse, signature, chain (from the
 * verifier's cache after the first, as for a destination that keeps its
 * certificate), signer pinning, content checks.
 *
 * usage: bench_receipt PKI_DIR N
 * Prints {"n": N, "check_us": [per-run microseconds per receipt...]}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "crypto/digest.h"
#include "crypto/sign.h"
#include "flow/deliver_receipt.h"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char path[3][4096], trust[4096], why[512];
	struct gw_sign_key *k = NULL;
	struct gw_receipt_rule d;
	struct gw_err err;
	struct gw_buf *r;
	char(*sent)[64];
	int n, i, run;

	if (argc != 3 || (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: bench_receipt PKI_DIR N\n");
		return 2;
	}
	snprintf(path[0], sizeof(path[0]), "%s/hub.key", argv[1]);
	snprintf(path[1], sizeof(path[1]), "%s/hub.pem", argv[1]);
	snprintf(path[2], sizeof(path[2]), "%s/chain.pem", argv[1]);
	snprintf(trust, sizeof(trust), "%s/trust", argv[1]);
	if (gw_sign_init(&err) ||
	    gw_sign_key_load(path[0], NULL, path[1], path[2], &k, &err)) {
		fprintf(stderr, "bench_receipt: %s\n", err.msg);
		return 1;
	}
	r = calloc((size_t)n, sizeof(*r));
	sent = calloc((size_t)n, sizeof(*sent));
	if (!r || !sent)
		return 1;
	for (i = 0; i < n; i++) {
		char json[512], hex[65];

		snprintf(sent[i], sizeof(sent[i]), "message %d", i);
		gw_sha256_hex(sent[i], strlen(sent[i]), hex);
		snprintf(json, sizeof(json),
			 "{\"kind\":\"receipt\",\"id\":\"r-%d\",\"payload\":{"
			 "\"messageId\":\"m-%d\",\"sha256\":\"%s\","
			 "\"outcome\":\"accepted\",\"time\":"
			 "\"2026-12-06T00:00:00Z\"}}",
			 i, i, hex);
		gw_buf_init(&r[i]);
		if (gw_sign_json(k, GW_SIGN_ALG_DEFAULT, json, strlen(json),
				 GW_SIGN_FLATTENED, &r[i], &err)) {
			fprintf(stderr, "bench_receipt: %s\n", err.msg);
			return 1;
		}
	}
	memset(&d, 0, sizeof(d));
	d.policy = GW_RECEIPT_REQUIRED;
	d.signer = gw_strdup(
		"CN=National Data Exchange Hub,O=Lienthong Test PKI,C=VN");
	d.trust = gw_strdup(trust);
	printf("{\"n\": %d, \"check_us\": [", n);
	for (run = 0; run < 3; run++) {
		double t0 = now_s();

		for (i = 0; i < n; i++) {
			char id[32];

			snprintf(id, sizeof(id), "m-%d", i);
			if (gw_receipt_check(&d, "hub", NULL, id, sent[i],
					     strlen(sent[i]), NULL, r[i].data,
					     r[i].len, why,
					     sizeof(why)) != GW_RECEIPT_OK) {
				fprintf(stderr, "bench_receipt: %s\n", why);
				return 1;
			}
		}
		printf("%s%.2f", run ? ", " : "", (now_s() - t0) * 1e6 / n);
	}
	printf("]}\n");
	for (i = 0; i < n; i++)
		gw_buf_release(&r[i]);
	free(r);
	free(sent);
	gw_receipt_release(&d);
	gw_sign_key_free(k);
	gw_sign_shutdown();
	return 0;
}
