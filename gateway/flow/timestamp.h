/*
 * timestamp.h - RFC 3161 timestamps for the audit log's signed
 * checkpoints (docs/AUDIT.md): each checkpoint without a token is sent to
 * the time-stamping authorities of audit.tsa in order until one answers
 * with a token that checks (crypto/tsa.h), which is kept with the
 * checkpoint. Nothing in a message's path waits for a TSA: timestamping
 * runs apart (lienthong audit timestamp, by a timer or by hand), and a
 * TSA that is down only leaves checkpoints pending until the next run.
 */
#ifndef GW_TIMESTAMP_H
#define GW_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "base/common.h"
#include "flow/transport.h"
#include "model/config.h"

struct gw_timestamp_stats {
	size_t done;	/* checkpoints timestamped by this run */
	size_t pending; /* checkpoints still without a token */
	size_t had;	/* checkpoints that had one already */
	/* the last checkpoint left pending and why ("" when none) */
	uint64_t pending_seq;
	char pending_why[1200];
};

/*
 * Timestamp every signed checkpoint of a that has no token, oldest
 * first, through t (its perform). Each failure (a TSA down, a refused or
 * wrong reply) is logged at warning with the TSA and the reason, and an
 * audit entry "timestamp" notes every token kept and every checkpoint
 * left pending. GW_ERR_CONFIG without audit.tsa; GW_OK otherwise, even
 * with checkpoints pending (see st).
 */
gw_rc gw_timestamp_pending(struct gw_audit *a, const struct gw_config *cfg,
			   const struct gw_http_transport *t,
			   struct gw_timestamp_stats *st, struct gw_err *err);

/*
 * Verify the token of every signed checkpoint of a that has one, over
 * the checkpoint's JWS, against the CAs of audit.tsa (any of them):
 * *verified counts those that verify, *missing the checkpoints without a
 * token. GW_ERR_REFUSED at the first token that does not verify, naming
 * its checkpoint (and *bad_seq set); GW_ERR_CONFIG without audit.tsa.
 */
gw_rc gw_timestamp_verify_all(struct gw_audit *a, const struct gw_config *cfg,
			      size_t *verified, size_t *missing,
			      uint64_t *bad_seq, struct gw_err *err);

#endif
