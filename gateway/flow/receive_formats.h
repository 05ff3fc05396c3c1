/*
 * receive_formats.h - the wire formats POST /v1/messages accepts besides
 * canonical JSON and XML (edXML, SDMX-ML, the report packet), chosen by
 * the request's media type, and their decoders to canonical messages.
 */
#ifndef GW_RECEIVE_FORMATS_H
#define GW_RECEIVE_FORMATS_H

#include <jansson.h>
#include <stddef.h>

#include "adapt/format.h"
#include "base/common.h"

/*
 * A wire format that POST /v1/messages accepts besides canonical JSON and
 * XML (edXML, SDMX-ML, ...), chosen by the request's media type. The body
 * is an XML document signed with an enveloped XML-DSig over the wire form:
 * the server parses it with the safe parser and verifies the signature
 * (and that the signer is the partner) first, then decode turns the wire
 * bytes into a new canonical message (*msg, a new reference; with
 * adapt/format.h: gw_format_from_wire), which is validated, checked
 * against the partner's rights, stored (the wire bytes, as received) and
 * answered with an XML receipt. decode returns GW_OK, GW_ERR_PARSE (400)
 * or another code (422).
 */
struct gw_server_format {
	const char *media_type; /* "application/edxml+xml" */
	const char *name;	/* "edXML" */
	gw_rc (*decode)(const char *body, size_t len, json_t **msg,
			struct gw_err *err);
};

/* Register a format (borrowed; must outlive the server). Formats named
 * here without a decoder answer 415 with "no adapter loaded". At most 16. */
gw_rc gw_server_format_register(const struct gw_server_format *f,
				struct gw_err *err);

/* The registered format for a media type (lowercase, no parameters;
 * compared without case), or NULL. */
const struct gw_server_format *gw_server_format_find(const char *media_type);

/* Register the known media types that have no decoder yet (edXML, SDMX
 * generic data): they answer 415 "no adapter loaded". */
void gw_recv_formats_placeholders(void);

/* Register the decoders of the wire formats of adapt/format.h, decoding
 * with conv (borrowed until gw_recv_formats_unload; used by the event loop
 * thread only: a converter is not thread-safe). */
void gw_recv_formats_load(struct gw_format *conv);

/* conv is about to be freed: the decoders stop using it. */
void gw_recv_formats_unload(const struct gw_format *conv);

/*
 * The wire format of an XML body that came as application/xml or text/xml
 * (as our own edXML and report packet destinations send it, and as
 * partners' systems often do): the namespace of its root element names
 * it (edXML, the report packet, SDMX-ML). NULL for any other root (the
 * canonical reader reads it and says what is wrong) or when that format
 * has no decoder loaded. Reads only the root element's start tag, within
 * the first 4 KB; the format's decoder then parses the whole body with
 * the safe parser.
 */
const struct gw_server_format *gw_recv_format_sniff(const char *body,
						    size_t len);

/* 1 when f is the built-in edXML decoder (its receipts are edXML). */
int gw_recv_format_is_edxml(const struct gw_server_format *f);

#endif
