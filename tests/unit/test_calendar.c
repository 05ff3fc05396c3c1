/* test_calendar.c - the reporting calendar's rules (model/obligation.c):
 * dates and leap years, periods and their labels (quarter ends, ISO
 * weeks), every deadline rule, "covers: previous", active ranges, the
 * status (late the day after the deadline, not on it), conflicts, and
 * located errors for bad obligations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/obligation.h"

static long D(const char *s)
{
	long n = 0;

	assert_int_equal(gw_date_parse(s, &n), 0);
	return n;
}

static const char *fmt(long n)
{
	static char b[4][11];
	static int i;

	i = (i + 1) % 4;
	gw_date_fmt(n, b[i]);
	return b[i];
}

/* units: BTC / Bộ Tài chính (000.00.00.G12), Cục CNTT (000.01.12.G12);
 * destinations: platform-a, platform-b */
static int unit(void *arg, const char *s, const char **orgid, const char **name)
{
	if (!strcmp(s, "BTC") || !strcmp(s, "Bộ Tài chính")) {
		*orgid = "000.00.00.G12";
		*name = "Bộ Tài chính";
		return 0;
	}
	if (!strcmp(s, "Cục CNTT")) {
		*orgid = "000.01.12.G12";
		*name = "Cục Công nghệ thông tin và Chuyển đổi số";
		return 0;
	}
	return -1;
}

static int dest(void *arg, const char *s)
{
	return !strcmp(s, "platform-a") || !strcmp(s, "platform-b");
}

static const struct gw_obl_resolver R = { unit, dest, NULL };

struct errs {
	char all[4096];
	int n;
};

static void on_err(void *arg, gw_rc rc, const char *line)
{
	struct errs *e = arg;
	size_t l = strlen(e->all);

	snprintf(e->all + l, sizeof(e->all) - l, "%s\n", line);
	e->n++;
}

/* An obligation from JSON text; NULL (and the errors in *e) if refused. */
static struct gw_obligation *obl(const char *json, struct errs *e)
{
	struct gw_obligation *o = NULL;
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	json_t *lines =
		json_pack("{s:i, s:i, s:i}", "/obligations/3", 10,
			  "/obligations/3/unit", 12, "/obligations/3/due", 14);
	struct errs local;

	if (!e) {
		memset(&local, 0, sizeof(local));
		e = &local;
	}
	assert_non_null(j);
	gw_obligation_parse(j, "conf/obligations/x.yaml", "/obligations/3",
			    lines, &R, on_err, e, &o);
	json_decref(j);
	json_decref(lines);
	if (e == &local && !o)
		fail_msg("refused: %s", local.all);
	return o;
}

#define BASE                                                            \
	"\"id\": \"o\", \"unit\": \"BTC\", \"report\": {\"kind\": "     \
	"\"indicator.report\"}, \"to\": [\"platform-a\"], \"source\": " \
	"{\"document\": \"1584/QĐ-BTC\"}, "

static void test_calendar__dates_and_leap_years(void **state)
{
	long n;

	assert_string_equal(fmt(D("2024-02-29")), "2024-02-29");
	assert_string_equal(fmt(D("2000-02-29")), "2000-02-29");
	assert_int_equal(gw_date_parse("2023-02-29", &n), -1);
	assert_int_equal(gw_date_parse("1900-02-29", &n), -1); /* not leap */
	assert_int_equal(gw_date_parse("2100-02-29", &n), -1);
	assert_int_equal(gw_date_parse("2024-04-31", &n), -1);
	assert_int_equal(gw_date_parse("2024-13-01", &n), -1);
	assert_int_equal(gw_date_parse("2024-6-1", &n), -1);
	assert_int_equal(gw_date_parse("2024-06-01x", &n), -1);
	assert_int_equal(gw_date_parse(NULL, &n), -1);
	assert_int_equal(D("1970-01-01"), 0);
	assert_int_equal(D("2024-03-01") - D("2024-02-28"), 2);
	assert_int_equal(D("2023-03-01") - D("2023-02-28"), 1);
	assert_int_equal(gw_date_weekday(D("2024-06-01")), 6); /* Saturday */
	assert_int_equal(gw_date_weekday(D("2024-07-15")), 1); /* Monday */
	assert_int_equal(gw_date_weekday(D("1969-12-31")), 3);
	assert_int_equal(gw_date_month_days(2024, 2), 29);
	assert_int_equal(gw_date_month_days(2100, 2), 28);
	assert_int_equal(gw_date_month_days(2024, 12), 31);
}

static void period_is(enum gw_period_unit u, const char *day, const char *label,
		      const char *start, const char *end)
{
	struct gw_period p, q;

	gw_period_at(u, D(day), &p);
	assert_string_equal(p.label, label);
	assert_string_equal(fmt(p.start), start);
	assert_string_equal(fmt(p.end), end);
	assert_int_equal(gw_period_parse(label, &q), 0);
	assert_int_equal(q.unit, u);
	assert_int_equal(q.start, p.start);
	assert_int_equal(q.end, p.end);
}

static void test_calendar__periods_and_quarter_ends(void **state)
{
	struct gw_period p, n;

	period_is(GW_PERIOD_QUARTER, "2024-02-10", "2024-Q1", "2024-01-01",
		  "2024-03-31");
	period_is(GW_PERIOD_QUARTER, "2024-06-30", "2024-Q2", "2024-04-01",
		  "2024-06-30");
	period_is(GW_PERIOD_QUARTER, "2024-07-01", "2024-Q3", "2024-07-01",
		  "2024-09-30");
	period_is(GW_PERIOD_QUARTER, "2024-12-31", "2024-Q4", "2024-10-01",
		  "2024-12-31");
	period_is(GW_PERIOD_MONTH, "2024-02-10", "2024-02", "2024-02-01",
		  "2024-02-29");
	period_is(GW_PERIOD_MONTH, "2023-02-10", "2023-02", "2023-02-01",
		  "2023-02-28");
	period_is(GW_PERIOD_YEAR, "2024-05-05", "2024", "2024-01-01",
		  "2024-12-31");
	period_is(GW_PERIOD_DAY, "2024-06-30", "2024-06-30", "2024-06-30",
		  "2024-06-30");
	/* ISO weeks: 2024-01-01 is a Monday; 2021-01-03 belongs to 2020's
	 * week 53; 2026-12-31 (Thursday) to 2026-W53 */
	period_is(GW_PERIOD_WEEK, "2024-01-03", "2024-W01", "2024-01-01",
		  "2024-01-07");
	period_is(GW_PERIOD_WEEK, "2021-01-03", "2020-W53", "2020-12-28",
		  "2021-01-03");
	period_is(GW_PERIOD_WEEK, "2026-12-31", "2026-W53", "2026-12-28",
		  "2027-01-03");
	gw_period_at(GW_PERIOD_QUARTER, D("2024-11-11"), &p);
	gw_period_next(&p, &n);
	assert_string_equal(n.label, "2025-Q1");
	assert_int_equal(gw_period_parse("2024-Q5", &p), -1);
	assert_int_equal(gw_period_parse("2024-00", &p), -1);
	assert_int_equal(gw_period_parse("2023-W53", &p), -1); /* 52 weeks */
	assert_int_equal(gw_period_parse("24", &p), -1);
}

static const char *due_of(const struct gw_obligation *o, enum gw_period_unit u,
			  const char *day)
{
	struct gw_period p;
	long due;

	gw_period_at(u, D(day), &p);
	if (gw_obligation_due(o, &p, &due))
		return "none";
	return fmt(due);
}

static void test_calendar__monthly(void **state)
{
	struct gw_obligation *o =
		obl("{" BASE "\"due\": {\"rule\": \"monthly\", \"day\": 31}}",
		    NULL);

	assert_int_equal(o->rule, GW_RULE_MONTHLY);
	assert_string_equal(due_of(o, GW_PERIOD_MONTH, "2024-01-05"),
			    "2024-01-31");
	/* a short month: its last day */
	assert_string_equal(due_of(o, GW_PERIOD_MONTH, "2024-02-05"),
			    "2024-02-29");
	assert_string_equal(due_of(o, GW_PERIOD_MONTH, "2023-02-05"),
			    "2023-02-28");
	assert_string_equal(due_of(o, GW_PERIOD_MONTH, "2024-04-05"),
			    "2024-04-30");
	/* not one of its periods */
	assert_string_equal(due_of(o, GW_PERIOD_QUARTER, "2024-04-05"), "none");
	gw_obligation_free(o);
}

static void test_calendar__quarterly_last_month(void **state)
{
	struct gw_obligation *o =
		obl("{" BASE "\"due\": {\"rule\": \"quarterly\", \"day\": 19}}",
		    NULL);
	struct gw_period p;
	long due;

	assert_string_equal(due_of(o, GW_PERIOD_QUARTER, "2024-01-01"),
			    "2024-03-19");
	assert_string_equal(due_of(o, GW_PERIOD_QUARTER, "2024-05-01"),
			    "2024-06-19");
	assert_string_equal(due_of(o, GW_PERIOD_QUARTER, "2024-12-31"),
			    "2024-12-19");
	/* the next deadline on or after a day, and its period */
	assert_int_equal(gw_obligation_next(o, D("2024-06-20"), &p, &due), 0);
	assert_string_equal(p.label, "2024-Q3");
	assert_string_equal(fmt(due), "2024-09-19");
	assert_int_equal(gw_obligation_next(o, D("2024-06-19"), &p, &due), 0);
	assert_string_equal(p.label, "2024-Q2");
	gw_obligation_free(o);
	o = obl("{" BASE "\"due\": {\"rule\": \"quarterly\", \"day\": 31}}",
		NULL);
	/* day 31 of June, September: their 30th */
	assert_string_equal(due_of(o, GW_PERIOD_QUARTER, "2024-05-01"),
			    "2024-06-30");
	assert_string_equal(due_of(o, GW_PERIOD_QUARTER, "2024-01-01"),
			    "2024-03-31");
	gw_obligation_free(o);
}

static void test_calendar__yearly_and_leap_day(void **state)
{
	struct gw_obligation *o = obl("{" BASE "\"due\": {\"rule\": \"yearly\","
				      " \"month\": 12, \"day\": 14}}",
				      NULL);

	assert_string_equal(due_of(o, GW_PERIOD_YEAR, "2024-03-03"),
			    "2024-12-14");
	gw_obligation_free(o);
	o = obl("{" BASE "\"due\": {\"rule\": \"yearly\", \"month\": 2,"
		" \"day\": 29}}",
		NULL);
	assert_string_equal(due_of(o, GW_PERIOD_YEAR, "2024-03-03"),
			    "2024-02-29");
	assert_string_equal(due_of(o, GW_PERIOD_YEAR, "2023-03-03"),
			    "2023-02-28");
	assert_string_equal(due_of(o, GW_PERIOD_YEAR, "2100-03-03"),
			    "2100-02-28");
	gw_obligation_free(o);
}

static void test_calendar__weekly(void **state)
{
	struct gw_obligation *o =
		obl("{" BASE "\"due\": {\"rule\": \"weekly\", \"weekday\": 5}}",
		    NULL);
	struct gw_period p;
	long due;

	/* Friday of each ISO week */
	assert_string_equal(due_of(o, GW_PERIOD_WEEK, "2024-06-01"),
			    "2024-05-31");
	assert_int_equal(gw_date_weekday(D("2024-05-31")), 5);
	assert_int_equal(gw_obligation_next(o, D("2024-06-01"), &p, &due), 0);
	assert_string_equal(p.label, "2024-W23");
	assert_string_equal(fmt(due), "2024-06-07");
	/* across the year: the week of 2024-12-30 is 2025-W01 */
	assert_string_equal(due_of(o, GW_PERIOD_WEEK, "2024-12-30"),
			    "2025-01-03");
	gw_obligation_free(o);
}

static void test_calendar__fixed_date_and_ad_hoc(void **state)
{
	struct gw_obligation *o =
		obl("{" BASE "\"due\": {\"rule\": \"date\", \"date\": "
		    "\"2024-06-30\", \"period\": \"2024-Q2\"}}",
		    NULL);
	struct gw_period p;
	long due;

	assert_string_equal(o->fixed.label, "2024-Q2");
	assert_string_equal(due_of(o, GW_PERIOD_QUARTER, "2024-05-05"),
			    "2024-06-30");
	assert_string_equal(due_of(o, GW_PERIOD_QUARTER, "2024-08-05"), "none");
	assert_int_equal(gw_obligation_next(o, D("2024-06-30"), &p, &due), 0);
	assert_int_equal(gw_obligation_next(o, D("2024-07-01"), &p, &due), -1);
	gw_obligation_free(o);
	o = obl("{" BASE "\"due\": {\"rule\": \"ad-hoc\"}}", NULL);
	assert_int_equal(gw_obligation_next(o, D("2024-07-01"), &p, &due), -1);
	assert_string_equal(due_of(o, GW_PERIOD_DAY, "2024-05-05"), "none");
	gw_obligation_free(o);
}

static void test_calendar__covers_previous_and_active(void **state)
{
	struct gw_obligation *o =
		obl("{" BASE "\"due\": {\"rule\": \"monthly\", \"day\": 5, "
		    "\"covers\": \"previous\"}, \"active\": {\"from\": "
		    "\"2024-01-01\", \"until\": \"2024-06-30\"}}",
		    NULL);
	struct gw_period p;
	long due;

	/* May's report is due on 5 June; December's in January */
	assert_string_equal(due_of(o, GW_PERIOD_MONTH, "2024-05-10"),
			    "2024-06-05");
	assert_int_equal(gw_obligation_next(o, D("2024-06-03"), &p, &due), 0);
	assert_string_equal(p.label, "2024-05");
	assert_string_equal(fmt(due), "2024-06-05");
	/* outside the active range: no deadline */
	assert_string_equal(due_of(o, GW_PERIOD_MONTH, "2024-08-10"), "none");
	assert_string_equal(due_of(o, GW_PERIOD_MONTH, "2023-12-10"), "none");
	assert_int_equal(gw_obligation_next(o, D("2024-07-06"), &p, &due), -1);
	gw_obligation_free(o);
}

static void test_calendar__late_the_day_after(void **state)
{
	struct gw_obligation *o =
		obl("{" BASE "\"due\": {\"rule\": \"quarterly\", \"day\": 19}}",
		    NULL);
	enum gw_obl_seen none[] = { GW_SEEN_NONE };
	long due = D("2024-06-19");

	assert_int_equal(gw_obl_status_of(o, none, 1, due, due - 8, 7),
			 GW_OBL_NOT_DUE);
	assert_int_equal(gw_obl_status_of(o, none, 1, due, due - 7, 7),
			 GW_OBL_DUE_SOON);
	assert_int_equal(gw_obl_status_of(o, none, 1, due, due, 7),
			 GW_OBL_DUE_SOON);
	assert_int_equal(gw_obl_status_of(o, none, 1, due, due + 1, 7),
			 GW_OBL_LATE);
	assert_string_equal(gw_obl_status_name(GW_OBL_LATE), "late");
	gw_obligation_free(o);
}

static void test_calendar__status_from_receivers(void **state)
{
	struct gw_obligation *o = obl(
		"{\"id\": \"o\", \"unit\": \"BTC\", \"report\": {\"kind\": "
		"\"indicator.report\"}, \"to\": [\"platform-a\", \"Cục CNTT\"],"
		" \"source\": {\"document\": \"d\"}, \"due\": {\"rule\": "
		"\"monthly\", \"day\": 20}}",
		NULL);
	long due = D("2024-06-20");
	enum gw_obl_seen both[] = { GW_SEEN_VERIFIED, GW_SEEN_VERIFIED };
	enum gw_obl_seen one[] = { GW_SEEN_VERIFIED, GW_SEEN_SENT };
	enum gw_obl_seen half[] = { GW_SEEN_VERIFIED, GW_SEEN_NONE };
	enum gw_obl_seen dead[] = { GW_SEEN_VERIFIED, GW_SEEN_DEAD };

	assert_int_equal(o->n_to, 2);
	assert_non_null(o->to[0].dest);
	assert_string_equal(o->to[1].orgid, "000.01.12.G12");
	assert_int_equal(gw_obl_status_of(o, both, 2, due, due + 30, 7),
			 GW_OBL_DELIVERED);
	assert_int_equal(gw_obl_status_of(o, one, 2, due, due - 1, 7),
			 GW_OBL_SENT);
	assert_int_equal(gw_obl_status_of(o, one, 2, due, due + 1, 7),
			 GW_OBL_SENT);
	/* one receiver has nothing after the deadline: late */
	assert_int_equal(gw_obl_status_of(o, half, 2, due, due + 1, 7),
			 GW_OBL_LATE);
	assert_int_equal(gw_obl_status_of(o, half, 2, due, due, 7),
			 GW_OBL_SENT);
	assert_int_equal(gw_obl_status_of(o, dead, 2, due, due, 7),
			 GW_OBL_MISSING);
	gw_obligation_free(o);
	o = obl("{" BASE "\"due\": {\"rule\": \"ad-hoc\"}}", NULL);
	{
		enum gw_obl_seen n1[] = { GW_SEEN_NONE };

		assert_int_equal(
			gw_obl_status_of(o, n1, 1, 0, D("2030-01-01"), 7),
			GW_OBL_ADHOC);
	}
	gw_obligation_free(o);
}

#define MONTHLY(id, day, doc, basis, to)                             \
	"{\"id\": \"" id "\", \"units\": null, \"unit\": \"BTC\", "  \
	"\"report\": {\"kind\": \"task.progress\"}, " to "\"due\": " \
	"{\"rule\": \"monthly\", \"day\": " #day "}, \"source\": "   \
	"{\"document\": \"" doc                                      \
	"\", \"ref\": \"seed line\", \"basis\": \"" basis "\"}}"

static struct gw_obligation *monthly(const char *json)
{
	/* "units": null is not a key an obligation has: drop it */
	json_t *j = json_loads(json, 0, NULL);
	struct gw_obligation *o = NULL;
	char *s;

	assert_non_null(j);
	json_object_del(j, "units");
	s = json_dumps(j, 0);
	json_decref(j);
	o = obl(s, NULL);
	free(s);
	return o;
}

static void test_calendar__conflict(void **state)
{
	struct gw_obligation *a =
		monthly(MONTHLY("dx-1754", 19, "1754/QĐ-BTC", "1484/QĐ-BTC",
				"\"to\": [\"Cục CNTT\"], "));
	struct gw_obligation *b =
		monthly(MONTHLY("dx-837", 24, "837/QĐ-BTC", "1484/QĐ-BTC", ""));
	struct gw_obligation *c =
		monthly(MONTHLY("dx-same", 19, "999/QĐ-BTC", "1484/QĐ-BTC",
				"\"to\": [\"Cục CNTT\"], "));
	struct gw_obligation *d =
		monthly(MONTHLY("dx-other", 24, "837/QĐ-BTC", "1/QĐ-BTC", ""));
	struct gw_obligation *e =
		monthly(MONTHLY("dx-elsewhere", 24, "837/QĐ-BTC", "1484/QĐ-BTC",
				"\"to\": [\"platform-a\"], "));
	char why[1024];

	assert_int_equal(gw_obligation_conflict(a, b, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "'dx-1754' (day 19 of each month"));
	assert_non_null(strstr(why, "'dx-837' (day 24 of each month"));
	assert_non_null(strstr(why, "apply 1484/QĐ-BTC"));
	/* the same deadline twice is no conflict */
	assert_int_equal(gw_obligation_conflict(a, c, why, sizeof(why)), 0);
	/* another basis, other receivers: other obligations */
	assert_int_equal(gw_obligation_conflict(a, d, why, sizeof(why)), 0);
	assert_int_equal(gw_obligation_conflict(a, e, why, sizeof(why)), 0);
	assert_int_equal(gw_obligation_conflict(a, a, why, sizeof(why)), 0);
	gw_obligation_free(a);
	gw_obligation_free(b);
	gw_obligation_free(c);
	gw_obligation_free(d);
	gw_obligation_free(e);
}

static void test_calendar__located_errors(void **state)
{
	struct errs e;

	memset(&e, 0, sizeof(e));
	assert_null(obl("{\"id\": \"o\", \"unit\": \"Cục Không Có\", "
			"\"report\": {\"kind\": \"receipt\"}, \"to\": "
			"[\"platform-z\"], \"due\": {\"rule\": \"monthly\", "
			"\"day\": 0}, \"source\": {\"document\": \"d\"}, "
			"\"oops\": 1}",
			&e));
	assert_non_null(strstr(e.all, "conf/obligations/x.yaml:12: "
				      "obligations.3.unit: unknown unit "
				      "'Cục Không Có'"));
	assert_non_null(strstr(e.all, "obligations.3.report.kind: 'receipt' "
				      "is not a message kind that reports"));
	assert_non_null(strstr(e.all, "obligations.3.to.0: 'platform-z' is "
				      "neither"));
	assert_non_null(strstr(e.all, "conf/obligations/x.yaml:14: "
				      "obligations.3.due.day: must be an "
				      "integer 1..31"));
	assert_non_null(strstr(e.all, "conf/obligations/x.yaml:10: "
				      "obligations.3.oops: unknown key"));
	memset(&e, 0, sizeof(e));
	assert_null(obl("{" BASE "\"due\": {\"rule\": \"date\", \"date\": "
			"\"2023-02-29\"}}",
			&e));
	assert_non_null(strstr(e.all, "due.date: '2023-02-29' is not a date"));
	memset(&e, 0, sizeof(e));
	assert_null(obl("{" BASE "\"due\": {\"rule\": \"yearly\", \"month\": "
			"4, \"day\": 31}}",
			&e));
	assert_non_null(strstr(e.all, "month 4 has no day 31"));
	memset(&e, 0, sizeof(e));
	assert_null(obl("{" BASE "\"due\": {\"rule\": \"fortnightly\"}}", &e));
	assert_non_null(strstr(e.all, "unknown rule 'fortnightly'"));
	memset(&e, 0, sizeof(e));
	assert_null(obl("{" BASE "\"due\": {\"rule\": \"weekly\", \"weekday\": "
			"8}}",
			&e));
	assert_non_null(strstr(e.all, "due.weekday: must be an integer 1..7"));
	memset(&e, 0, sizeof(e));
	assert_null(obl("{" BASE "\"due\": {\"rule\": \"monthly\", \"day\": 5,"
			" \"covers\": \"next\"}, \"active\": {\"from\": "
			"\"2024-07-01\", \"until\": \"2024-01-01\"}}",
			&e));
	assert_non_null(
		strstr(e.all, "due.covers: must be current or previous"));
	assert_non_null(strstr(e.all, "active: until is before from"));
	memset(&e, 0, sizeof(e));
	assert_null(obl("{\"id\": \"has space\", \"unit\": \"BTC\"}", &e));
	assert_non_null(strstr(e.all, "id: 'has space'"));
	assert_non_null(strstr(e.all, "report: missing"));
	assert_non_null(strstr(e.all, "due: missing"));
	assert_non_null(strstr(e.all, "source: missing"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar__dates_and_leap_years),
		cmocka_unit_test(test_calendar__periods_and_quarter_ends),
		cmocka_unit_test(test_calendar__monthly),
		cmocka_unit_test(test_calendar__quarterly_last_month),
		cmocka_unit_test(test_calendar__yearly_and_leap_day),
		cmocka_unit_test(test_calendar__weekly),
		cmocka_unit_test(test_calendar__fixed_date_and_ad_hoc),
		cmocka_unit_test(test_calendar__covers_previous_and_active),
		cmocka_unit_test(test_calendar__late_the_day_after),
		cmocka_unit_test(test_calendar__status_from_receivers),
		cmocka_unit_test(test_calendar__conflict),
		cmocka_unit_test(test_calendar__located_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
