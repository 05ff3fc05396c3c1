/*
 * calendar.h - what the reporting calendar (flow/calendar.c) keeps and
 * reads on disk, behind a table of function pointers like the other
 * stores (store/store.h): the reminders already sent, so that none is
 * sent twice for the same obligation, period and stage, and a read-only
 * view of the outbox (every message of a kind with its deliveries and the
 * verdict on each destination's receipt), from which the status of each
 * obligation is computed.
 *
 * The SQLite backend (store/sqlite_calendar.c) keeps the reminders in
 * DATA_DIR/calendar.db and reads the outbox file (DATA_DIR/outbox.db)
 * attached read-only. Strings passed in are borrowed; what a callback
 * gets is borrowed for the call.
 */
#ifndef GW_STORE_CALENDAR_H
#define GW_STORE_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

/* One delivery of a message: its destination, state (enum gw_dlv_state
 * of store/store.h) and the receipt's verdict (NULL when none kept). */
struct gw_cal_dlv {
	const char *dest;
	int state;
	const char *verdict;
	int64_t receipt_ms; /* when the receipt was kept, 0 if none */
};

/* One message of the outbox with its deliveries. */
struct gw_cal_msg {
	const char *id, *kind, *sender;
	int64_t created_ms;
	const char *body;
	size_t len;
	const struct gw_cal_dlv *dlv;
	size_t n_dlv;
};

/* One reminder as recorded. */
struct gw_cal_reminder {
	const char *obligation, *period, *stage, *outcome;
	int64_t at_ms;
};

struct gw_calstore;

struct gw_calstore_ops {
	/* Every message of kind (NULL: all) in the outbox, oldest first,
	 * each with all its deliveries: cb once per message. */
	gw_rc (*scan)(struct gw_calstore *s, const char *kind,
		      void (*cb)(void *arg, const struct gw_cal_msg *m),
		      void *arg, struct gw_err *err);
	/* Claim the reminder (obligation, period, stage) at now_ms in one
	 * committed transaction: *claimed 1 when it was never sent (or its
	 * last try failed), and it is then recorded as "sending"; 0 when it
	 * was sent (or is being sent) already. */
	gw_rc (*claim)(struct gw_calstore *s, const char *obligation,
		       const char *period, const char *stage, int64_t now_ms,
		       int *claimed, struct gw_err *err);
	/* Record how a claimed reminder went ("ok" or "failed: why"). */
	gw_rc (*done)(struct gw_calstore *s, const char *obligation,
		      const char *period, const char *stage,
		      const char *outcome, struct gw_err *err);
	/* The reminders recorded for obligation (NULL: all), by time. */
	gw_rc (*reminders)(struct gw_calstore *s, const char *obligation,
			   void (*cb)(void *arg,
				      const struct gw_cal_reminder *r),
			   void *arg, struct gw_err *err);
	void (*close)(struct gw_calstore *s);
};

struct gw_calstore {
	const struct gw_calstore_ops *ops;
	void *impl;
};

/* Open the SQLite calendar store: reminders in calendar_path (made when
 * missing), the outbox at outbox_path read-only (it must exist). New
 * handle released with gw_calstore_close; GW_ERR_IO naming the file. */
gw_rc gw_calstore_open_sqlite(const char *calendar_path,
			      const char *outbox_path, struct gw_calstore **out,
			      struct gw_err *err);
void gw_calstore_close(struct gw_calstore *s);

#endif
