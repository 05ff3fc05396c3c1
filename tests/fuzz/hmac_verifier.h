/*
 * hmac_verifier.h - the verifier of the signature harnesses (fuzz_jws.c,
 * fuzz_xmldsig.c): pinned to one HMAC key ("fuzz-key"), made once, so
 * that a well-formed HS256 input verifies and the fuzzer reaches the
 * checks past the key lookup. tag names the temporary folder the key
 * file passes through.
 */
#ifndef FUZZ_HMAC_VERIFIER_H
#define FUZZ_HMAC_VERIFIER_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "crypto/sign.h"

static struct gw_sign_verifier *hmac_verifier(const char *tag)
{
	static struct gw_sign_verifier *v;
	char dir[64], path[96];
	struct gw_err err;
	FILE *f;

	if (v)
		return v;
	snprintf(dir, sizeof(dir), "/tmp/fuzz-%s-XXXXXX", tag);
	if (gw_sign_init(&err) || !mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/hmac.key", dir);
	if (!(f = fopen(path, "wb")) || fputs("fuzz-key", f) < 0 || fclose(f))
		abort();
	if (gw_sign_verifier_new(&v, &err) ||
	    gw_sign_verifier_add_hmac(v, path, &err))
		abort();
	unlink(path);
	rmdir(dir);
	return v;
}

#endif
