/*
 * fuzz_jws.c - libFuzzer target for JWS envelopes (crypto/jws.c through
 * crypto/sign.c: compact, flattened and general JSON, detached payloads)
 * and signed audit checkpoints (audit/checkpoint.c). The verifier holds
 * one HMAC key, "fuzz-key", so a well-formed HS256 envelope can verify.
 * The first byte picks: even, a JWS (after the first NUL, a detached
 * payload); odd, a checkpoint.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "crypto/sign.h"
#include "hmac_verifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw_sign_verifier *verifier(void)
{
	return hmac_verifier("jws");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_sign_verifier *v = verifier();
	const char *buf = (const char *)data + 1;
	struct gw_sign_result res;
	struct gw_err err;
	struct gw_buf content;

	if (size < 1)
		return 0;
	size--;
	if (data[0] % 2 == 0) {
		const char *nul = memchr(buf, '\0', size);
		size_t mlen = nul ? (size_t)(nul - buf) : size;

		gw_buf_init(&content);
		memset(&res, 0, sizeof(res));
		gw_sign_verify_jws(v, buf, mlen, nul ? nul + 1 : NULL,
				   nul ? size - mlen - 1 : 0, 0, &res, &content,
				   &err);
		gw_buf_release(&content);
	} else {
		struct gw_audit_checkpoint cp;
		char signer[256];

		memset(&cp, 0, sizeof(cp));
		gw_audit_checkpoint_parse(data[0] % 4 == 1 ? v : NULL, buf,
					  size, &cp, signer, &err);
		gw_audit_checkpoint_release(&cp);
	}
	return 0;
}
