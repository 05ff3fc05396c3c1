/*
 * format.h - canonical messages to and from wire formats (edXML, SDMX-ML,
 * ...) through the format side of adapters (adapter.h).
 *
 * The core owns the safety and the schemas; adapters only map trees. Wire
 * input is parsed with the safe parsers (xml.c, json.c), validated against
 * the adapter's wire schema, mapped, and the canonical result is validated
 * (schema and business rules). Wire output is serialized, parsed again and
 * validated against the wire schema before it is returned, so nothing
 * invalid ever leaves.
 */
#ifndef GW_FORMAT_H
#define GW_FORMAT_H

#include <jansson.h>
#include <stdio.h>

#include "base/common.h"

struct gw_format;

/* A converter with the built-in adapters and the canonical schemas of
 * schema_dir. *out is freed with gw_format_free. */
gw_rc gw_format_new(const char *schema_dir, struct gw_format **out,
		    struct gw_err *err);
void gw_format_free(struct gw_format *f);

/* True when name is a format adapter of f. */
int gw_format_known(struct gw_format *f, const char *name);

/*
 * Canonical message msg (borrowed; validated here first) -> the wire form
 * of format name, appended to out; *media_type (may be NULL) receives the
 * format's Content-Type (static). Each problem is one line on errout (may
 * be NULL); err gets the first. GW_ERR_UNSUPPORTED when the format does
 * not carry msg's kind, GW_ERR_SCHEMA when msg or the produced wire form
 * is invalid, GW_ERR_USAGE for an unknown format.
 */
gw_rc gw_format_to_wire(struct gw_format *f, const char *name,
			const json_t *msg, struct gw_buf *out,
			const char **media_type, FILE *errout,
			struct gw_err *err);

/*
 * buf[0..len) named fname in format name -> a new canonical message in
 * *msg (validated, business rules applied). GW_ERR_REFUSED for hostile
 * input, GW_ERR_PARSE, GW_ERR_SCHEMA (not valid edXML/SDMX/..., or the
 * mapped message is not a valid canonical message).
 */
gw_rc gw_format_from_wire(struct gw_format *f, const char *name,
			  const char *buf, size_t len, const char *fname,
			  json_t **msg, FILE *errout, struct gw_err *err);

/*
 * The one call for the rest of the gateway: convert the canonical message
 * msg (borrowed) to the wire format named format (an adapter name, or
 * "json"/"xml" for the canonical forms), appending the validated bytes to
 * out and the Content-Type to *media_type. Uses the default schema folder.
 */
gw_rc gw_format_convert(const char *format, const json_t *msg,
			struct gw_buf *out, const char **media_type,
			struct gw_err *err);

struct gw_profile;

/*
 * gw_format_to_wire with the field names of profile p (profile.h; may be
 * NULL: our names). The packet is validated against our wire schema
 * under our names, then renamed; the renamed bytes are renamed back and
 * validated again before they are returned. GW_ERR_USAGE when format
 * name has no fields a profile renames (only the report packet has).
 */
gw_rc gw_format_to_wire_profile(struct gw_format *f, const char *name,
				const struct gw_profile *p, const json_t *msg,
				struct gw_buf *out, const char **media_type,
				FILE *errout, struct gw_err *err);

/*
 * gw_format_to_wire_profile for a canonical message msg the caller has
 * already validated (schema and business rules) when validated is
 * nonzero: that check is skipped. With tree (may be NULL), an XML format
 * without a profile also hands over the document parsed from the bytes
 * in out and validated against the wire schema (*tree a new xmlDocPtr
 * the caller frees; NULL otherwise), so that a signer need not parse the
 * bytes again.
 */
gw_rc gw_format_to_wire_checked(struct gw_format *f, const char *name,
				const struct gw_profile *p, const json_t *msg,
				int validated, struct gw_buf *out, void **tree,
				const char **media_type, FILE *errout,
				struct gw_err *err);

/*
 * gw_format_from_wire for input that uses the field names of profile p
 * (may be NULL): parsed, renamed back to our names (a name or namespace of
 * ours that p renames is refused with GW_ERR_SCHEMA: the input does not
 * follow the profile), then validated against our wire schema and mapped.
 */
gw_rc gw_format_from_wire_profile(struct gw_format *f, const char *name,
				  const struct gw_profile *p, const char *buf,
				  size_t len, const char *fname, json_t **msg,
				  FILE *errout, struct gw_err *err);

/* The id of the wire-format variant of message id for format: UUIDv5 of
 * both, so re-sending the same message gives the same idempotency key. */
int gw_format_wire_id(const char *id, const char *format, char out[37]);

#endif
