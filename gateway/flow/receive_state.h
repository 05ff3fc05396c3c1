/*
 * receive_state.h - the life of the receiver (struct gw_receiver,
 * flow/receive.h): everything the server makes from its configuration,
 * created, reloaded and freed here (flow/receive_state.c). The transport
 * (net/server.c) calls the three set-up steps in order, with its own
 * checks between them, so that configuration errors are reported in the
 * order of the configuration's sections.
 */
#ifndef GW_RECEIVE_STATE_H
#define GW_RECEIVE_STATE_H

#include "base/common.h"
#include "flow/receive.h"

/* Zero s (the caller's, embedded), read the configuration at conf_path
 * and, unless check_only, open the log it names. s must be released with
 * gw_receiver_release even when this fails. GW_ERR_CONFIG, GW_ERR_IO. */
gw_rc gw_receiver_init(struct gw_receiver *s, const char *conf_path,
		       int check_only, struct gw_err *err);

/* The organization, the signing key (flow/runtime.h), the trust store,
 * the validator, partners and routes, server.webhooks and server.sqlite.
 * GW_ERR_CONFIG for the configuration's mistakes, else the loaders'. */
gw_rc gw_receiver_load(struct gw_receiver *s, struct gw_err *err);

/* The drop folder, inbox and outbox (folders created), the audit log and
 * the wire formats' converter. GW_ERR_IO, GW_ERR_NOMEM. */
gw_rc gw_receiver_open(struct gw_receiver *s, struct gw_err *err);

/* Free everything s owns (the workers and the batch too; the threads of
 * flow/inbound.c must be stopped). s itself is the caller's. */
void gw_receiver_release(struct gw_receiver *s);

/* SIGHUP: read the configuration again; its partners and routes replace
 * the old ones (the delivery thread restarts), the trust stores are read
 * again. A configuration that does not load is logged and the old one
 * stays. */
void gw_receiver_reload(struct gw_receiver *s);

/* A gw_config_load callback printing each problem on standard error. */
void gw_receiver_print_line(void *arg, gw_rc rc, const char *line);

#endif
