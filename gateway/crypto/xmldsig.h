/*
 * xmldsig.h - enveloped XML-DSig for the signing subsystem (internal: use
 * sign.h). RSA-SHA256 and ECDSA-SHA256 go through xmlsec; RSA-PSS
 * (sha256-rsa-MGF1, RFC 6931), which Debian's xmlsec 1.2.37 lacks, is done
 * here on libxml2's C14N and OpenSSL with the same structure.
 */
#ifndef GW_XMLDSIG_H
#define GW_XMLDSIG_H

#include <libxml/tree.h>

#include "crypto/trust.h"

/* Initialise / release xmlsec (called by gw_sign_init / _shutdown). */
gw_rc gw_xmldsig_init(struct gw_err *err);
void gw_xmldsig_shutdown(void);

/* Append an enveloped Signature over doc (borrowed, modified) to its
 * document element, signed with k by alg (RS256, PS256, ES256). */
gw_rc gw_xmldsig_sign(const struct gw_sign_key *k, enum gw_sign_alg alg,
		      xmlDocPtr doc, struct gw_err *err);

/* Verify doc (borrowed) with v; see gw_sign_verify_xml. */
gw_rc gw_xmldsig_verify(const struct gw_sign_verifier *v, xmlDocPtr doc,
			unsigned flags, struct gw_sign_result *res,
			struct gw_err *err);

#endif
