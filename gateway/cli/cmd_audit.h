/*
 * cmd_audit.h - the "audit" command (verify, prove, checkpoint,
 * consistency, verify-proof, verify-consistency, ls, show) and the helper
 * that opens the configured audit log for the other commands.
 */
#ifndef GW_CMD_AUDIT_H
#define GW_CMD_AUDIT_H

#include "audit/audit.h"
#include "model/config.h"

int gw_cmd_audit(int argc, char **argv);

/* The audit log of cfg's audit: section, for the pipeline commands: a new
 * log (background commits, payload archive as configured) whose
 * checkpoints are signed with the signing: key, or NULL when cfg has no
 * audit: section. signer (may be NULL, 256 bytes) gets the signing
 * certificate's subject. Close with gw_audit_close (which frees the
 * key). Errors: as gw_audit_open and gw_sign_key_load. */
gw_rc gw_cmd_audit_open(const struct gw_config *cfg, unsigned flags,
			struct gw_audit **out, char *signer,
			struct gw_err *err);

#endif
