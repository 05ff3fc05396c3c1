/*
 * inbound.h - delivery of what the server received (flow/inbound.c): the
 * internal delivery thread (drop folder, internal SQLite target, outbox
 * for the webhooks and routes), and the delivery thread that drains the
 * outbox to the destinations. Both take their state from the receiver.
 */
#ifndef GW_INBOUND_H
#define GW_INBOUND_H

#include "base/common.h"
#include "flow/receive.h"

/* Start the internal delivery thread, which also delivers what an
 * earlier run stored but did not deliver; woken by gw_receiver_wake.
 * GW_ERR_INTERNAL. */
gw_rc gw_inbound_start(struct gw_receiver *s, struct gw_err *err);

/* Stop it after a last batch, and join it (nothing when not running). */
void gw_inbound_stop(struct gw_receiver *s);

/* With s->deliver and destinations: start the delivery thread over its
 * own copy of the destinations (s->dfw). GW_ERR_INTERNAL, or the
 * forwarding configuration's errors. */
gw_rc gw_inbound_deliver_start(struct gw_receiver *s, struct gw_err *err);

/* Stop and join it, and release s->dfw (nothing when not running). */
void gw_inbound_deliver_stop(struct gw_receiver *s);

/* For a background thread: server.background_nice (default 10) lowers
 * its CPU priority; a failure is logged. */
void gw_inbound_background(const struct gw_receiver *s);

#endif
