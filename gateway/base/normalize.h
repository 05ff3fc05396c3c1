/*
 * normalize.h - normalization of the free text of Vietnamese plan
 * documents and spreadsheets: Unicode NFC and spaces, timelines ("Quý II
 * năm 2024", "Thường xuyên", ...), reporting periods, decimals with a
 * decimal comma, dates and cells naming several units.
 *
 * Each function works on UTF-8 and never guesses silently: a text it does
 * not recognize is reported (-1, or kind "unspecified" for timelines with
 * the raw text kept by the caller).
 */
#ifndef GW_NORMALIZE_H
#define GW_NORMALIZE_H

#include <jansson.h>
#include <stddef.h>

struct gw_timeline {
	char kind[16]; /* year, quarter, month, range, recurring, ongoing,
			  on-request, per-roadmap, unspecified */
	char start[11];
	char end[11];
	char due[11]; /* empty strings when absent */
};

/* NFC, no-break and other odd spaces to ' ', runs of white space to one,
 * trimmed. New string (free()), NULL on invalid UTF-8 or no memory. */
char *gw_norm_text(const char *s);

/* Case-folded NFC form for matching (free()), NULL on error. */
char *gw_norm_fold(const char *s);

/* Normalize a timeline; always fills out (unspecified when unknown) and
 * returns 0 when recognized, -1 when not. */
int gw_norm_timeline(const char *raw, struct gw_timeline *out);

/* A period phrase to ISO 8601: "Quý 3 năm 2024" -> "2024-Q3", "Tháng
 * 3/2020" -> "2020-03", "Năm 2024" / "2024" -> "2024", a date -> the day.
 * 0 or -1. */
int gw_norm_period(const char *s, char out[16]);

/* A number as written ("0,6321", "851.372", "90%", "1.234,5") to a decimal
 * string ("0.6321", "851372", "90", "1234.5"). 0 or -1. */
int gw_norm_decimal(const char *s, char *out, size_t n);

/* "14/5/2025", "14-05-2025", "ngày 14 tháng 5 năm 2025", "2025-05-14" ->
 * "2025-05-14" (the day must exist). 0 or -1. */
int gw_norm_date(const char *s, char out[11]);

/* Split a cell naming several units ("Cục THTK và các Tổng cục thuộc Bộ",
 * "Cục KHTC TCT, TCHQ KBNN") into a JSON array of names, each starting
 * with a capital; NULL on no memory. Parenthesized remarks stay with
 * their unit, names such as "Bộ Kế hoạch và Đầu tư" are not split. */
json_t *gw_norm_unit_names(const char *cell);

/* Last day of a month (1-12) of a year. */
int gw_norm_month_days(int year, int month);

#endif
