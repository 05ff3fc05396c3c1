/*
 * log.h - structured logging: one JSON object per line, to stderr or a
 * file, with a level, a time, an event name and, on every line about a
 * message, its id.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include "base/common.h"

enum gw_log_level {
	GW_LOG_DEBUG,
	GW_LOG_INFO,
	GW_LOG_WARN,
	GW_LOG_ERROR,
	GW_LOG_OFF
};

/* Parse "debug", "info", "warn", "error", "off"; -1 when unknown. */
int gw_log_level_parse(const char *s);

/* Send lines of level >= min to path ("-" or NULL: standard error),
 * appending. Replaces any earlier destination. */
gw_rc gw_log_open(const char *path, enum gw_log_level min, struct gw_err *err);
void gw_log_close(void);

/* Log one line. msg_id (may be NULL) is the message the line is about;
 * event is a short stable name ("validated", "refused", ...). Thread-safe;
 * each line is written with a single write(2). */
void gw_log(enum gw_log_level lvl, const char *event, const char *msg_id,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
