/* test_sync.c - cron-like schedules of scheduled sync: parsing, refusals
 * naming the field, and the next run time (computed, never waited for). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow/sync.h"

/* "2024-07-08 10:07" (UTC, the tests set TZ=UTC) -> time_t */
static time_t at(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	assert_int_equal(sscanf(s, "%d-%d-%d %d:%d", &tm.tm_year, &tm.tm_mon,
				&tm.tm_mday, &tm.tm_hour, &tm.tm_min),
			 5);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static void next_is(const char *expr, const char *from, const char *want)
{
	struct gw_sched s;
	struct gw_err err;
	time_t t;
	struct tm tm;
	char got[32];

	gw_err_clear(&err);
	assert_int_equal(gw_sched_parse(expr, &s, &err), GW_OK);
	t = gw_sched_next(&s, at(from));
	if (!want) {
		assert_int_equal(t, (time_t)-1);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(got, sizeof(got), "%Y-%m-%d %H:%M", &tm);
	assert_string_equal(got, want);
}

static int setup(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void test_sync__cron_next(void **state)
{
	(void)state;
	next_is("*/15 * * * *", "2024-07-08 10:07", "2024-07-08 10:15");
	/* strictly after: at 10:15 the next one is 10:30 */
	next_is("*/15 * * * *", "2024-07-08 10:15", "2024-07-08 10:30");
	next_is("* * * * *", "2024-07-08 23:59", "2024-07-09 00:00");
	/* 2024-07-06 is a Saturday: weekdays at 07:00 -> Monday */
	next_is("0 7 * * 1-5", "2024-07-06 08:00", "2024-07-08 07:00");
	next_is("30 6 1,15 * *", "2024-07-08 10:00", "2024-07-15 06:30");
	next_is("0 0 29 2 *", "2024-03-01 00:00", "2028-02-29 00:00");
	next_is("0 0 31 2 *", "2024-03-01 00:00", NULL);
	/* both day fields restricted: either matches (cron) */
	next_is("0 12 1 * 0", "2024-07-08 00:00", "2024-07-14 12:00");
	/* 7 is Sunday too */
	next_is("0 12 * * 7", "2024-07-08 00:00", "2024-07-14 12:00");
	next_is("5/20 * * * *", "2024-07-08 10:26", "2024-07-08 10:45");
	next_is("0 0 1 1,7 *", "2024-07-08 00:00", "2025-01-01 00:00");
	next_is("@daily", "2024-07-08 10:07", "2024-07-09 00:00");
	next_is("@hourly", "2024-07-08 10:07", "2024-07-08 11:00");
	next_is("@weekly", "2024-07-08 10:07", "2024-07-14 00:00");
	next_is("@monthly", "2024-07-08 10:07", "2024-08-01 00:00");
}

static void test_sync__cron_refused(void **state)
{
	static const struct {
		const char *expr, *why;
	} bad[] = {
		{ "61 * * * *", "minute field '61'" },
		{ "* 24 * * *", "hour field '24'" },
		{ "* * 0 * *", "day-of-month field '0'" },
		{ "* * * 13 *", "month field '13'" },
		{ "* * * * 8", "day-of-week field '8'" },
		{ "* * * *", "five fields" },
		{ "* * * * * *", "five fields" },
		{ "*/0 * * * *", "minute field '*/0'" },
		{ "a * * * *", "minute field 'a'" },
		{ "5-1 * * * *", "minute field '5-1'" },
		{ "1,,2 * * * *", "minute field '1,,2'" },
		{ "@yearly", "five fields" },
	};
	struct gw_sched s;
	struct gw_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gw_err_clear(&err);
		assert_int_equal(gw_sched_parse(bad[i].expr, &s, &err),
				 GW_ERR_CONFIG);
		if (!strstr(err.msg, bad[i].why))
			fail_msg("'%s': %s", bad[i].expr, err.msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync__cron_next),
		cmocka_unit_test(test_sync__cron_refused),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
