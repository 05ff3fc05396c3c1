/* sign_xmlvec.c - verify an XML-DSig test vector of another implementation
 * with the interop profile (any shape xmlsec knows; RSA-PSS by hand):
 *   sign_xmlvec [--trust DIR] [--untrusted PEM]... [--pubkey PEM]
 *               [--hmac FILE] [--keyvalue] FILE
 * Prints "valid" (exit 0) or "invalid: REASON: detail" (exit 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sign.h"
#include "base/xml.h"

int main(int argc, char **argv)
{
	struct gw_sign_verifier *v = NULL;
	struct gw_sign_result res;
	struct gw_err err;
	const char *trust = NULL, *pubkey = NULL, *hmac = NULL, *file = NULL;
	const char *untrusted[8];
	int i, nu = 0, keyvalue = 0;
	xmlDocPtr doc = NULL;
	char *buf = NULL;
	size_t len = 0;
	gw_rc rc;

	gw_err_clear(&err);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--trust") == 0 && i + 1 < argc)
			trust = argv[++i];
		else if (strcmp(argv[i], "--untrusted") == 0 && i + 1 < argc &&
			 nu < 8)
			untrusted[nu++] = argv[++i];
		else if (strcmp(argv[i], "--pubkey") == 0 && i + 1 < argc)
			pubkey = argv[++i];
		else if (strcmp(argv[i], "--hmac") == 0 && i + 1 < argc)
			hmac = argv[++i];
		else if (strcmp(argv[i], "--keyvalue") == 0)
			keyvalue = 1;
		else
			file = argv[i];
	}
	if (!file) {
		fprintf(stderr, "usage: sign_xmlvec [--trust DIR] [--untrusted "
				"PEM] [--pubkey PEM] [--hmac FILE] "
				"[--keyvalue] FILE\n");
		return 2;
	}
	gw_xml_init();
	if ((rc = gw_sign_init(&err)))
		goto out;
	if (trust)
		rc = gw_sign_verifier_trust(trust, &v, &err);
	else if (pubkey)
		rc = gw_sign_verifier_key(pubkey, &v, &err);
	else
		rc = gw_sign_verifier_new(&v, &err);
	for (i = 0; !rc && i < nu; i++)
		rc = gw_sign_verifier_add_untrusted(v, untrusted[i], &err);
	if (!rc && hmac)
		rc = gw_sign_verifier_add_hmac(v, hmac, &err);
	if (rc)
		goto out;
	if (keyvalue)
		gw_sign_verifier_allow_keyvalue(v);
	if ((rc = gw_read_file(file, 0, &buf, &len, &err)) ||
	    (rc = gw_xml_parse(buf, len, file, &doc, &err)))
		goto out;
	rc = gw_sign_verify_xml(v, doc, GW_SIGN_INTEROP, &res, &err);
	if (rc == GW_OK)
		printf("valid\n");
	else if (rc == GW_ERR_REFUSED)
		printf("invalid: %s\n", err.msg);
out:
	if (rc && rc != GW_ERR_REFUSED)
		fprintf(stderr, "sign_xmlvec: '%s': %s\n", file, err.msg);
	xmlFreeDoc(doc);
	free(buf);
	gw_sign_verifier_free(v);
	gw_sign_shutdown();
	return gw_rc_exit(rc);
}
