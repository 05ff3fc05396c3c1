/*
 * fuzz_xmldsig.c - libFuzzer target for XML-DSig verification
 * (crypto/xmldsig.c through crypto/sign.c): the references, transforms,
 * the wrapping checks and the key info of an enveloped signature, on a
 * document read by the safe XML parser. The verifier trusts one HMAC key
 * ("fuzz-key") and keys given in the message (interop mode), so the
 * fuzzer can reach the reference checks past the key lookup.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xml.h"
#include "crypto/sign.h"
#include "hmac_verifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One HMAC key and keys given in the message (interop mode). */
static struct gw_sign_verifier *verifier(void)
{
	static struct gw_sign_verifier *v;

	if (!v) {
		v = hmac_verifier("dsig");
		gw_sign_verifier_allow_keyvalue(v);
	}
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_sign_verifier *v = verifier();
	struct gw_sign_result res;
	struct gw_err err;
	xmlDocPtr doc = NULL;

	if (gw_xml_parse((const char *)data, size, "fuzz.xml", &doc, &err))
		return 0;
	memset(&res, 0, sizeof(res));
	gw_sign_verify_xml(v, doc, 0, &res, &err);
	xmlFreeDoc(doc);
	return 0;
}
