/*
 * runtime.h - what the pipeline needs from the configuration, loaded in
 * exactly one place for every command and for the server: the
 * configuration itself, the data folder, the outbox in it, the audit log
 * (whose checkpoints the signing key signs), the destinations and routes
 * (forwarding), and the signing key with its algorithms.
 *
 * A command builds one struct gw_runtime with gw_runtime_new, asking for
 * what it uses (GW_RT_*), and frees it at the end. The server can build
 * one too and keep its inbox and partners beside it.
 */
#ifndef GW_RUNTIME_H
#define GW_RUNTIME_H

#include "audit/audit.h"
#include "base/common.h"
#include "crypto/sign.h"
#include "flow/deliver.h"
#include "model/config.h"
#include "model/validate.h"
#include "store/outbox.h"

/* The key of cfg's signing: section into *k (new, the caller frees it
 * with gw_sign_key_free), NULL when there is none, with the configured
 * XML-DSig and JWS algorithms. Errors: as gw_sign_key_load. */
gw_rc gw_runtime_signer_load(const struct gw_config *cfg,
			     struct gw_sign_key **k, enum gw_sign_alg *xml_alg,
			     enum gw_sign_alg *jws_alg, struct gw_err *err);

/* Apply cfg's trust: algorithms (JOSE names) to v, a verifier of its
 * trust.dir (gw_sign_verifier_allow); without the list v keeps its
 * default (the ten asymmetric algorithms). GW_ERR_USAGE naming a name
 * that cannot be allowed. */
gw_rc gw_runtime_trust_algs(const struct gw_config *cfg,
			    struct gw_sign_verifier *v, struct gw_err *err);

/* The data folder of cfg (gateway.data_dir made absolute, or "var"): a
 * new string the caller frees, NULL when out of memory. Not created. */
char *gw_runtime_data_dir(const struct gw_config *cfg);

/* The audit log of cfg's audit: section: a new log (flags as
 * gw_audit_open: background commits, payload archive as configured) whose
 * checkpoints are signed with the signing: key, or NULL when cfg has no
 * audit: section. signer (may be NULL, 256 bytes) gets the signing
 * certificate's subject. Close with gw_audit_close (which frees the
 * key). Errors: as gw_audit_open and gw_sign_key_load. */
gw_rc gw_runtime_audit_open(const struct gw_config *cfg, unsigned flags,
			    struct gw_audit **out, char *signer,
			    struct gw_err *err);

/* What gw_runtime_new opens besides the configuration. */
#define GW_RT_OUTBOX 0x1u     /* the outbox in the data folder (made) */
#define GW_RT_FORWARDING 0x2u /* destinations and routes */
#define GW_RT_AUDIT 0x4u      /* the audit log, when configured */

/* The step of gw_runtime_new that failed, for the exit status. */
enum gw_runtime_step {
	GW_RT_STEP_CONFIG = 0, /* GW_ERR_CONFIG: the problems were reported */
	GW_RT_STEP_DATA_DIR,
	GW_RT_STEP_OUTBOX,
	GW_RT_STEP_FORWARDING,
	GW_RT_STEP_AUDIT
};

struct gw_runtime {
	char *conf_path;	  /* owned; NULL when built from a cfg */
	struct gw_config *cfg;	  /* owned */
	char *data_dir;		  /* owned: gateway.data_dir, or "var" */
	struct gw_outbox *outbox; /* owned, with GW_RT_OUTBOX */
	/* owned, with GW_RT_FORWARDING: destinations and routes, audited in
	 * audit; its transport is left to the caller (net/client.h) */
	struct gw_forwarding fw;
	struct gw_audit *audit; /* owned, with GW_RT_AUDIT, NULL when cfg has
				   no audit: section */
	unsigned what;		/* GW_RT_* */
	unsigned audit_flags;	/* as gw_audit_open */
	gw_report_cb cb;	/* configuration problems go there */
	void *cb_arg;
};

/*
 * A new runtime (free it with gw_runtime_free) from the configuration at
 * conf_path (borrowed; its problems reported through cb), opening what
 * `what` asks for (GW_RT_*), in this order: the data folder and outbox,
 * the forwarding, the audit log (audit_flags as gw_audit_open, e.g.
 * GW_AUDIT_BACKGROUND or GW_AUDIT_READONLY). On failure *out is NULL,
 * err says why and *failed (may be NULL) which step failed.
 */
gw_rc gw_runtime_new(const char *conf_path, unsigned what, unsigned audit_flags,
		     gw_report_cb cb, void *cb_arg, struct gw_runtime **out,
		     enum gw_runtime_step *failed, struct gw_err *err);

/* The same from a configuration already loaded (takes ownership of cfg,
 * freed even on failure); gw_runtime_reload then cannot read it again. */
gw_rc gw_runtime_open(struct gw_config *cfg, unsigned what,
		      unsigned audit_flags, struct gw_runtime **out,
		      enum gw_runtime_step *failed, struct gw_err *err);

/* Read the configuration again and open everything anew: on success rt
 * holds the new ones (pointers into the old are stale), on failure rt is
 * unchanged. GW_ERR_USAGE for a runtime made by gw_runtime_open. */
gw_rc gw_runtime_reload(struct gw_runtime *rt, enum gw_runtime_step *failed,
			struct gw_err *err);

/* Closes and frees everything rt holds; accepts NULL. */
void gw_runtime_free(struct gw_runtime *rt);

#endif
