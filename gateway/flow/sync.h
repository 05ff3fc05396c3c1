/*
 * sync.h - scheduled sync of record sources: schedules (an interval or a
 * cron-like five-field expression) and one pass over a csv or sqlite
 * source that hands on only the records that are new or changed since the
 * last pass.
 *
 * Change detection is by record: the mapping file's key identifies a
 * record, the SHA-256 of its mapped content (before ids and times are
 * added) says whether it changed; the digest last queued for each
 * (source, key) is kept in the outbox database (sync_state), written only
 * after the message is durably enqueued, with that message's id. The id
 * of a record's message is a UUIDv5 of the source, kind, key, digest and
 * the id last recorded for the record, so a pass cut off between
 * enqueueing and recording finds its message already stored and only
 * records the digest (nothing is sent twice), while a record changed back
 * to an earlier content (A, B, A) gets a new id and is sent.
 */
#ifndef GW_SYNC_H
#define GW_SYNC_H

#include <stdint.h>
#include <time.h>

#include "base/common.h"

struct gw_config;
struct gw_outbox;

/* A cron-like schedule: minute hour day-of-month month day-of-week. */
struct gw_sched {
	uint64_t min;  /* bit m for minute m, 0-59 */
	uint32_t hour; /* 0-23 */
	uint32_t dom;  /* bit d for day d, 1-31 */
	uint32_t mon;  /* bit m for month m, 1-12 */
	uint32_t dow;  /* bit d for weekday d, 0-6, Sunday 0 */
	int dom_any, dow_any;
};

/*
 * Parse "*\/5 * * * *", "0 7 * * 1-5", "30 6 1,15 * *", "@hourly",
 * "@daily", "@weekly", "@monthly": fields are '*', N, A-B, with an
 * optional /STEP, separated by commas; day of week 0-7 (0 and 7 are
 * Sunday). As in cron, when both day fields are restricted a day matching
 * either one runs. GW_ERR_CONFIG naming the field on error.
 */
gw_rc gw_sched_parse(const char *expr, struct gw_sched *s, struct gw_err *err);

/* The first minute strictly after `after` that the schedule matches, in
 * local time; (time_t)-1 when none within eight years (31 February). */
time_t gw_sched_next(const struct gw_sched *s, time_t after);

/* Hands a batch to the send path (gw_send_buffers): takes the buffers,
 * sets queued[i] to 1 for each message enqueued, returns an exit status. */
typedef int (*gw_sync_send_fn)(void *arg, char **names, char **bufs,
			       size_t *lens, int n, int *queued);

/*
 * One pass over the record source `name` of the configuration (adapter
 * csv or sqlite, path, mapping): every record whose content changed or is
 * new is completed into a message (sender the gateway's organization,
 * receivers and classification from the source or the defaults) and
 * handed to send in one batch; the digests of those queued are recorded.
 * Rows that cannot be mapped are reported on stderr. Prints a summary
 * line; returns the exit status (1 when rows were not mapped or messages
 * refused, 3 on I/O errors).
 */
int gw_sync_records(struct gw_config *cfg, struct gw_outbox *o,
		    const char *name, gw_sync_send_fn send, void *arg);

/*
 * One pass over the source `name` of the configuration: a drop folder
 * (adapter folder, the default: every .json or .xml file whose bytes
 * changed since they were last queued, or that is new, is sent with
 * gw_send_files) or a record source (gw_sync_records, sent with
 * gw_send_buffers). Each send step is noted in audit (borrowed, may be
 * NULL). Prints a summary line on stderr; returns the exit status.
 */
struct gw_audit;
int gw_sync_source(struct gw_config *cfg, struct gw_outbox *o, const char *name,
		   struct gw_audit *audit);

#endif
