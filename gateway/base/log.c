/*
 * log.c - JSON-lines logging. Lines are built with jansson so that any
 * message text (a file name, a reason quoting hostile input) is escaped;
 * a mutex keeps lines whole when threads log at once.
 */
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *const names[] = { "debug", "info", "warn", "error", "off" };
static int log_fd = 2;
static enum gw_log_level log_min = GW_LOG_WARN;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int gw_log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; s && i < GW_ARRAY_LEN(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

gw_rc gw_log_open(const char *path, enum gw_log_level min, struct gw_err *err)
{
	int fd = 2;

	if (path && strcmp(path, "-") != 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			  0640);
		if (fd < 0)
			return gw_err_set(err, GW_ERR_IO,
					  "cannot open log file '%s': %s", path,
					  strerror(errno));
	}
	pthread_mutex_lock(&log_lock);
	if (log_fd > 2)
		close(log_fd);
	log_fd = fd;
	log_min = min;
	pthread_mutex_unlock(&log_lock);
	return GW_OK;
}

void gw_log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fd > 2)
		close(log_fd);
	log_fd = 2;
	pthread_mutex_unlock(&log_lock);
}

void gw_log(enum gw_log_level lvl, const char *event, const char *msg_id,
	    const char *fmt, ...)
{
	char msg[2048], ts[128];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	json_t *o;
	char *line;

	if (lvl < log_min || lvl >= GW_LOG_OFF)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
	o = json_pack("{s:s, s:s, s:s}", "time", ts, "level", names[lvl],
		      "event", event ? event : "log");
	if (!o)
		return;
	if (msg_id)
		json_object_set_new(o, "message_id", json_string(msg_id));
	/* json_string refuses invalid UTF-8: keep the line, mark the text */
	if (json_object_set_new(o, "msg", json_string(msg)))
		json_object_set_new(
			o, "msg",
			json_string("(message text is not valid UTF-8)"));
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!line)
		return;
	pthread_mutex_lock(&log_lock);
	{
		size_t n = strlen(line);
		line[n] = '\n';
		(void)!write(log_fd, line, n + 1);
		line[n] = '\0';
	}
	pthread_mutex_unlock(&log_lock);
	free(line);
}
