/*
 * cmd_audit.h - the "audit" command (verify, prove, checkpoint,
 * consistency, verify-proof, verify-consistency, ls, show)
 * (the configured log is opened by flow/runtime.c).
 */
#ifndef GW_CMD_AUDIT_H
#define GW_CMD_AUDIT_H

#include "audit/audit.h"
#include "model/config.h"

int gw_cmd_audit(int argc, char **argv);

#endif
