/*
 * cmd_calendar.h - `lienthong calendar`: the reporting calendar (what is
 * due, what is late, one obligation, conflicts, reminders; table, JSON,
 * CSV or iCalendar). docs/CALENDAR.md.
 */
#ifndef GW_CMD_CALENDAR_H
#define GW_CMD_CALENDAR_H

int gw_cmd_calendar(int argc, char **argv);

#endif
