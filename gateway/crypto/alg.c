/*
 * alg.c - names of algorithms and of verification outcomes (alg.h).
 */
#include "crypto/alg.h"

#include <string.h>

static const char *const alg_names[] = {
	[GW_SIGN_ALG_DEFAULT] = "default", [GW_SIGN_ALG_RS256] = "RS256",
	[GW_SIGN_ALG_PS256] = "PS256",	   [GW_SIGN_ALG_ES256] = "ES256",
	[GW_SIGN_ALG_ES384] = "ES384",	   [GW_SIGN_ALG_ES512] = "ES512",
	[GW_SIGN_ALG_EDDSA] = "EdDSA",	   [GW_SIGN_ALG_HS256] = "HS256",
	[GW_SIGN_ALG_RS384] = "RS384",	   [GW_SIGN_ALG_RS512] = "RS512",
	[GW_SIGN_ALG_PS384] = "PS384",	   [GW_SIGN_ALG_PS512] = "PS512",
	[GW_SIGN_ALG_OTHER] = "other",
};

int gw_sign_alg_parse(const char *name)
{
	size_t i;

	for (i = 1; i < GW_ARRAY_LEN(alg_names) - 1; i++)
		if (strcmp(name, alg_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *gw_sign_alg_name(enum gw_sign_alg alg)
{
	if ((size_t)alg >= GW_ARRAY_LEN(alg_names))
		return "unknown";
	return alg_names[alg];
}

const char *gw_sign_reason_name(enum gw_sign_reason r)
{
	switch (r) {
	case GW_SIGN_VALID: return "valid";
	case GW_SIGN_BAD_DIGEST: return "bad digest";
	case GW_SIGN_BAD_SIGNATURE: return "bad signature";
	case GW_SIGN_UNTRUSTED: return "untrusted";
	case GW_SIGN_EXPIRED: return "expired";
	case GW_SIGN_REVOKED: return "revoked";
	case GW_SIGN_WRAPPED: return "wrapped";
	case GW_SIGN_UNSUPPORTED: return "unsupported algorithm";
	case GW_SIGN_MALFORMED: return "malformed";
	}
	return "unknown";
}
