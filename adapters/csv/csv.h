/*
 * csv.h - an RFC 4180 reader for the csv adapter (and its unit tests):
 * quoted fields, doubled quotes, line breaks inside quotes, CRLF or LF, a
 * UTF-8 byte order mark, ',' ';' or TAB as the delimiter (found from the
 * first line when not given). It streams: memory is bounded by the longest
 * row, not the file.
 *
 * Errors are located: the physical line where the row starts and what is
 * wrong (a quote inside an unquoted field, text after a closing quote, a
 * quoted field never closed, a NUL byte, a field or row over the limits).
 * After an error the reader goes on after the end of the bad row, so one
 * bad row does not hide the others; the rest of the row is read as rows
 * are (a quoted field runs over line breaks to its closing quote), so
 * nothing inside a bad field is ever taken for rows of its own. A quote
 * left open to the end of the file makes the rest of the file that row.
 */
#ifndef GW_CSV_H
#define GW_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GW_CSV_MAX_FIELD (1u << 20)
#define GW_CSV_MAX_FIELDS 4096u

struct gw_csv;

/* A reader over f (borrowed, read from its current position); delim is
 * ',', ';', '\t' or 0 to detect it from the first line. NULL on no memory. */
struct gw_csv *gw_csv_new(FILE *f, char delim);
void gw_csv_free(struct gw_csv *c);

/*
 * The next row: 1 with *cells[0..*n) (NUL-terminated, valid until the next
 * call) and *line the line it starts on; 0 at the end; -1 for a row that
 * is not valid CSV, with *line and the reason in why[0..whylen).
 * Lines holding nothing at all are skipped.
 */
int gw_csv_next(struct gw_csv *c, const char *const **cells, size_t *n,
		size_t *line, char *why, size_t whylen);

/* The delimiter in use (after detection) and the bytes read so far. */
char gw_csv_delimiter(const struct gw_csv *c);
uint64_t gw_csv_bytes(const struct gw_csv *c);

#endif
