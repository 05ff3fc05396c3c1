/*
 * runtime.h - what the pipeline needs from the configuration, loaded in
 * exactly one place for every command and for the server: the signing key
 * with its algorithms, and the audit log whose checkpoints it signs.
 */
#ifndef GW_RUNTIME_H
#define GW_RUNTIME_H

#include "audit/audit.h"
#include "base/common.h"
#include "crypto/sign.h"
#include "model/config.h"

/* The key of cfg's signing: section into *k (new, the caller frees it
 * with gw_sign_key_free), NULL when there is none, with the configured
 * XML-DSig and JWS algorithms. Errors: as gw_sign_key_load. */
gw_rc gw_runtime_signer_load(const struct gw_config *cfg,
			     struct gw_sign_key **k, enum gw_sign_alg *xml_alg,
			     enum gw_sign_alg *jws_alg, struct gw_err *err);

/* The audit log of cfg's audit: section: a new log (flags as
 * gw_audit_open: background commits, payload archive as configured) whose
 * checkpoints are signed with the signing: key, or NULL when cfg has no
 * audit: section. signer (may be NULL, 256 bytes) gets the signing
 * certificate's subject. Close with gw_audit_close (which frees the
 * key). Errors: as gw_audit_open and gw_sign_key_load. */
gw_rc gw_runtime_audit_open(const struct gw_config *cfg, unsigned flags,
			    struct gw_audit **out, char *signer,
			    struct gw_err *err);

#endif
