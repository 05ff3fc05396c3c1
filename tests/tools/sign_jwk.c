/* sign_jwk.c - print a PEM private key as a JWK, for interop tests with
 * JWK-only tools (jose): sign_jwk [--private] [--pass SPEC] KEY.pem */
#include <stdio.h>
#include <string.h>

#include "crypto/sign.h"

int main(int argc, char **argv)
{
	struct gw_sign_key *k = NULL;
	struct gw_err err;
	struct gw_buf b;
	const char *pass = NULL, *key = NULL;
	int i, priv = 0;
	gw_rc rc;

	gw_err_clear(&err);
	gw_buf_init(&b);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--private") == 0)
			priv = 1;
		else if (strcmp(argv[i], "--pass") == 0 && i + 1 < argc)
			pass = argv[++i];
		else
			key = argv[i];
	}
	if (!key) {
		fprintf(stderr,
			"usage: sign_jwk [--private] [--pass SPEC] KEY\n");
		return 2;
	}
	if (!(rc = gw_sign_key_load(key, pass, NULL, NULL, &k, &err)) &&
	    !(rc = gw_sign_key_jwk(k, priv, &b, &err)))
		printf("%s\n", b.data);
	else
		fprintf(stderr, "sign_jwk: '%s': %s\n", key, err.msg);
	gw_sign_key_free(k);
	gw_buf_release(&b);
	return gw_rc_exit(rc);
}
