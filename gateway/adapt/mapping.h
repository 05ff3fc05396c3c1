/*
 * mapping.h - the mapping engine shared by the row-based source adapters
 * (csv, sqlite): a YAML mapping file (schemas/mapping.schema.json, format
 * in docs/ADAPTERS.md) says which column goes to which JSON Pointer of the
 * message, with transforms (text, decimals, dates, periods, timelines,
 * unit names), code lists (units with aliases across reorganizations),
 * constants, the record key and the grouping of rows into one message.
 *
 * Use: gw_mapping_load, gw_mapping_bind with the input's header, then
 * gw_mapping_row for each row and gw_mapping_finish once. A row that cannot
 * be mapped is never dropped silently and never half-mapped: the call says
 * why and the caller reports it with the row's FILE:LINE. Messages come out
 * as partial messages {kind, payload, [sender, receivers, correlationId,
 * classification]} for the host to complete with an envelope.
 */
#ifndef GW_MAPPING_H
#define GW_MAPPING_H

#include <jansson.h>
#include <stddef.h>

#include "base/common.h"
#include "model/validate.h"

struct gw_mapping;

/*
 * Called for every mapped message: key is the record key (key_prefix +
 * key values), date the source date (YYYY-MM-DD) or NULL, msg a partial
 * message (stolen: the callee releases it even on failure). Returns 0, or
 * -1 when the message could not be written (the import stops).
 */
typedef int (*gw_mapping_emit_fn)(void *arg, const char *key, const char *date,
				  json_t *msg);

/* Load and check the mapping file path against
 * schema_dir/mapping.schema.json; every problem goes to cb (may be NULL)
 * as "FILE:LINE: key: reason", the first one also to err (GW_ERR_CONFIG).
 * Code list files are read relative to the mapping's folder. */
gw_rc gw_mapping_load(const char *path, const char *schema_dir, gw_report_cb cb,
		      void *arg, struct gw_mapping **out, struct gw_err *err);
void gw_mapping_free(struct gw_mapping *m);

/* The message kind; a string option of the file at JSON Pointer ptr
 * ("/csv/delimiter", "/sqlite/query"; booleans as "true"/"false"), NULL
 * when absent (borrowed, valid until gw_mapping_free). */
const char *gw_mapping_kind(const struct gw_mapping *m);
const char *gw_mapping_option(const struct gw_mapping *m, const char *ptr);
const char *gw_mapping_path(const struct gw_mapping *m);

/*
 * A string option an adapter cannot run without ("/sqlite/query"): *out
 * the value (borrowed, as gw_mapping_option), or GW_ERR_SCHEMA (a bad
 * mapping file: exit 1) with "FILE:LINE: sqlite: query is required
 * (hint)", the line of the nearest part of ptr the file has; hint may be
 * NULL.
 */
gw_rc gw_mapping_require(const struct gw_mapping *m, const char *ptr,
			 const char *hint, const char **out,
			 struct gw_err *err);

/*
 * Bind the mapping's columns to the input's: names[0..n) are the header
 * (NULL when the input has none: columns are then positions only). A
 * column the mapping names that the input lacks, or names twice, fails
 * with GW_ERR_SCHEMA naming the mapping's line and the input's columns.
 * input names the input in messages (borrowed).
 */
gw_rc gw_mapping_bind(struct gw_mapping *m, const char *input,
		      const char *const *names, size_t n, struct gw_err *err);

/*
 * Map one row of n cells (borrowed). where names the row ("FILE:LINE"). A
 * row that cannot be mapped returns GW_ERR_SCHEMA with the reason in err
 * (a column that is empty or not a number, a code not in its list, a
 * repeated key, a grouped row that disagrees with its group, ...) and
 * nothing of it is kept. Without grouping the message is handed to emit
 * at once; GW_ERR_IO when emit fails, GW_ERR_NOMEM.
 */
gw_rc gw_mapping_row(struct gw_mapping *m, const char *where,
		     const char *const *cells, size_t n,
		     gw_mapping_emit_fn emit, void *arg, struct gw_err *err);

/* Hand the grouped messages to emit in the order their first row came;
 * nothing for an ungrouped mapping. The mapping can then be reused. */
gw_rc gw_mapping_finish(struct gw_mapping *m, gw_mapping_emit_fn emit,
			void *arg, struct gw_err *err);

/* Apply one transform by name to value (borrowed) for tests and tools:
 * returns a new reference, or NULL with the reason in err. */
json_t *gw_mapping_transform(const struct gw_mapping *m, const json_t *spec,
			     const json_t *value, struct gw_err *err);

#endif
