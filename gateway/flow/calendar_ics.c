/*
 * calendar_ics.c - the calendar as RFC 5545 iCalendar, built with libical
 * (Debian libical-dev) rather than by hand, so that folding, escaping and
 * the date forms are the library's: one all-day VEVENT per obligation and
 * period on its deadline, whose UID is stable (obligation and period), URL
 * links to the obligation and description says what, to whom, the status
 * and the legal source. libical is used in this file only.
 */
#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>

#include "flow/calendar.h"

static const char *jstr(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* Percent-encode what a URL path segment cannot hold. */
static void url_seg(struct gw_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~:", c)) {
			gw_buf_add(b, s, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			gw_buf_add(b, e, 3);
		}
	}
}

static icalcomponent *event(const struct gw_calendar *c, const json_t *it)
{
	const char *id = jstr(it, "obligation"), *per = jstr(it, "period");
	const char *due = jstr(it, "due"), *st = jstr(it, "status");
	const json_t *to = json_object_get(it, "to"), *src;
	struct icaltimetype d = icaltime_from_string(due), e;
	struct gw_buf uid, url, sum, desc;
	icalcomponent *ev;
	icalproperty *x;
	size_t i;

	d.is_date = 1;
	e = icaltime_add(d, icaldurationtype_from_int(24 * 3600));
	e.is_date = 1;
	gw_buf_init(&uid);
	gw_buf_init(&url);
	gw_buf_init(&sum);
	gw_buf_init(&desc);
	url_seg(&uid, id);
	gw_buf_addf(&uid, "/%s@lienthong", per);
	if (c->link_base) {
		gw_buf_adds(&url, c->link_base);
		url_seg(&url, id);
	} else {
		gw_buf_adds(&url, "urn:lienthong:obligation:");
		url_seg(&url, id);
	}
	gw_buf_addf(&url, "?period=%s", per);
	gw_buf_addf(&sum, "[%s] %s — %s (%s)", st, jstr(it, "title") ?: id,
		    jstr(it, "unit") ?: "", per);
	gw_buf_addf(&desc, "Obligation: %s\nUnit: %s\nReport: %s%s%s\n", id,
		    jstr(it, "unit") ?: "", jstr(it, "kind"),
		    jstr(it, "task") ? " for task " : "",
		    jstr(it, "task") ?: "");
	gw_buf_addf(&desc, "Period: %s, due %s (%s)\nStatus: %s\n", per, due,
		    jstr(it, "deadline"), st);
	for (i = 0; i < json_array_size(to); i++)
		gw_buf_addf(&desc, "To %s: %s\n",
			    jstr(json_array_get(to, i), "name"),
			    jstr(json_array_get(to, i), "state"));
	src = json_object_get(it, "source");
	gw_buf_addf(&desc, "Source: %s%s%s%s%s", jstr(src, "document"),
		    jstr(src, "ref") ? ", " : "", jstr(src, "ref") ?: "",
		    jstr(src, "basis") ? ", applying " : "",
		    jstr(src, "basis") ?: "");
	if (jstr(it, "conflictWith"))
		gw_buf_addf(&desc, "\nConflicts with: %s",
			    jstr(it, "conflictWith"));
	ev = icalcomponent_vanew(
		ICAL_VEVENT_COMPONENT, icalproperty_new_uid(uid.data),
		icalproperty_new_dtstamp(icaltime_current_time_with_zone(
			icaltimezone_get_utc_timezone())),
		icalproperty_new_dtstart(d), icalproperty_new_dtend(e),
		icalproperty_new_summary(sum.data),
		icalproperty_new_description(desc.data),
		icalproperty_new_url(url.data), icalproperty_new_categories(st),
		(void *)0);
	x = icalproperty_new_x(id);
	icalproperty_set_x_name(x, "X-LIENTHONG-OBLIGATION");
	icalcomponent_add_property(ev, x);
	gw_buf_release(&uid);
	gw_buf_release(&url);
	gw_buf_release(&sum);
	gw_buf_release(&desc);
	return ev;
}

char *gw_calendar_ics(const struct gw_calendar *c, const json_t *items)
{
	icalcomponent *cal;
	char *s, *out;
	size_t i;

	cal = icalcomponent_vanew(
		ICAL_VCALENDAR_COMPONENT, icalproperty_new_version("2.0"),
		icalproperty_new_prodid("-//Lienthong//reporting calendar//EN"),
		icalproperty_new_calscale("GREGORIAN"), (void *)0);
	if (!cal)
		return NULL;
	for (i = 0; i < json_array_size(items); i++) {
		const json_t *it = json_array_get(items, i);

		if (jstr(it, "due") && jstr(it, "period"))
			icalcomponent_add_component(cal, event(c, it));
	}
	s = icalcomponent_as_ical_string(cal); /* libical's ring buffer */
	out = s ? gw_strdup(s) : NULL;
	icalcomponent_free(cal);
	return out;
}
