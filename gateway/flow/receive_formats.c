/*
 * receive_formats.c - the registry of the wire formats POST /v1/messages
 * accepts (by media type), and the built-in decoders of adapt/format.h.
 */
#include "flow/receive_formats.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Formats                                                             */

#define MAX_FORMATS 16
static const struct gw_server_format *formats[MAX_FORMATS];
static size_t nformats;

gw_rc gw_server_format_register(const struct gw_server_format *f,
				struct gw_err *err)
{
	size_t i;

	for (i = 0; i < nformats; i++)
		if (!strcasecmp(formats[i]->media_type, f->media_type)) {
			formats[i] = f; /* a decoder replaces a placeholder */
			return GW_OK;
		}
	if (nformats == MAX_FORMATS)
		return gw_err_set(err, GW_ERR_USAGE,
				  "too many server formats (at most %d)",
				  MAX_FORMATS);
	formats[nformats++] = f;
	return GW_OK;
}

const struct gw_server_format *gw_server_format_find(const char *media_type)
{
	size_t i;

	for (i = 0; i < nformats; i++)
		if (!strcasecmp(formats[i]->media_type, media_type))
			return formats[i];
	return NULL;
}

/* Placeholders: known media types that answer 415 "no adapter loaded"
 * rather than "unknown" (SDMX generic data has no adapter). */
static const struct gw_server_format edxml_placeholder = {
	"application/edxml+xml", "edXML", NULL
};
static const struct gw_server_format sdmx_placeholder = {
	"application/vnd.sdmx.genericdata+xml", "SDMX", NULL
};

/* The converter of the running server (its schemas loaded once). The
 * decode callbacks take no context, and one process runs one server:
 * server_load sets it, server_free clears it. Used by the event loop
 * thread only (a converter caches wire schemas and is not thread-safe). */
static struct gw_format *wire_conv;

static gw_rc decode_wire(const char *name, const char *body, size_t len,
			 json_t **msg, struct gw_err *err)
{
	if (!wire_conv)
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "no format converter loaded");
	return gw_format_from_wire(wire_conv, name, body, len, "body", msg,
				   NULL, err);
}

static gw_rc decode_edxml(const char *body, size_t len, json_t **msg,
			  struct gw_err *err)
{
	return decode_wire("edxml", body, len, msg, err);
}

static gw_rc decode_sdmx_ml(const char *body, size_t len, json_t **msg,
			    struct gw_err *err)
{
	return decode_wire("sdmx-ml", body, len, msg, err);
}

static gw_rc decode_packet(const char *body, size_t len, json_t **msg,
			   struct gw_err *err)
{
	return decode_wire("report-packet", body, len, msg, err);
}

/* The wire formats of adapt/format.h that POST /v1/messages accepts:
 * the XML ones (their signature is an enveloped XML-DSig over the wire
 * bytes). SDMX-JSON and the JSON report packet would need a JWS over the
 * wire form and are not accepted inbound. */
static const struct gw_server_format edxml_format = { "application/edxml+xml",
						      "edXML", decode_edxml };
static const struct gw_server_format sdmx_ml_format = {
	"application/vnd.sdmx.structurespecificdata+xml", "SDMX-ML",
	decode_sdmx_ml
};
static const struct gw_server_format packet_format = {
	"application/vnd.lienthong.report-packet+xml", "report packet",
	decode_packet
};

void gw_recv_formats_placeholders(void)
{
	gw_server_format_register(&edxml_placeholder, NULL);
	gw_server_format_register(&sdmx_placeholder, NULL);
}

void gw_recv_formats_load(struct gw_format *conv)
{
	wire_conv = conv;
	gw_server_format_register(&edxml_format, NULL);
	gw_server_format_register(&sdmx_ml_format, NULL);
	gw_server_format_register(&packet_format, NULL);
}

void gw_recv_formats_unload(const struct gw_format *conv)
{
	if (wire_conv == conv)
		wire_conv = NULL;
}

/* Just after the first s in [p, end), or NULL. */
static const char *after(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	for (; end - p >= (ptrdiff_t)n; p++)
		if (!memcmp(p, s, n))
			return p + n;
	return NULL;
}

/* The value of attribute name in the start tag from p (its attributes,
 * up to its '>' outside quoted values, within end), or NULL; its length
 * in *n. */
static const char *attr_value(const char *p, const char *end, const char *name,
			      size_t *n)
{
	size_t nl = strlen(name);

	while (p < end) {
		const char *q;
		char quote;

		while (p < end && isspace((unsigned char)*p))
			p++;
		q = p;
		while (p < end && *p != '=' && *p != '>' && *p != '/' &&
		       !isspace((unsigned char)*p))
			p++;
		if (p - q == 0) /* the end of the tag, or of what is read */
			return NULL;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end || *p++ != '=')
			return NULL;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end || (*p != '"' && *p != '\''))
			return NULL;
		quote = *p++;
		if ((size_t)(p - q) >= nl + 2 && !memcmp(q, name, nl) &&
		    (q[nl] == '=' || isspace((unsigned char)q[nl]))) {
			const char *v = p;

			while (p < end && *p != quote)
				p++;
			*n = (size_t)(p - v);
			return p < end ? v : NULL;
		}
		while (p < end && *p != quote)
			p++;
		p++;
	}
	return NULL;
}

const struct gw_server_format *gw_recv_format_sniff(const char *body,
						    size_t len)
{
	static const struct {
		const char *ns;
		const struct gw_server_format *f;
	} roots[] = {
		{ "http://www.mic.gov.vn/TBT/QCVN_102_2016", &edxml_format },
		{ "urn:lienthong:report-packet:1", &packet_format },
		{ "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/message",
		  &sdmx_ml_format },
	};
	const char *p = body, *end;
	const char *name, *colon, *v;
	char attr[80];
	size_t i, n;

	if (!body)
		return NULL;
	end = body + (len < 4096 ? len : 4096);
	if (end - p >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3; /* a UTF-8 byte order mark */
	for (;;) { /* the declaration, comments and processing instructions */
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (end - p < 2 || *p != '<')
			return NULL;
		if (p[1] == '?')
			p = after(p + 2, end, "?>");
		else if (end - p >= 4 && !memcmp(p, "<!--", 4))
			p = after(p + 4, end, "-->");
		else if (p[1] == '!')
			return NULL; /* a DOCTYPE (refused by the reader) */
		else
			break;
		if (!p)
			return NULL;
	}
	name = ++p;
	while (p < end && !isspace((unsigned char)*p) && *p != '>' && *p != '/')
		p++;
	colon = memchr(name, ':', (size_t)(p - name));
	if (colon)
		snprintf(attr, sizeof(attr), "xmlns:%.*s", (int)(colon - name),
			 name);
	else
		snprintf(attr, sizeof(attr), "xmlns");
	if (!(v = attr_value(p, end, attr, &n)))
		return NULL;
	for (i = 0; i < sizeof(roots) / sizeof(*roots); i++)
		if (strlen(roots[i].ns) == n && !memcmp(v, roots[i].ns, n)) {
			const struct gw_server_format *f =
				gw_server_format_find(roots[i].f->media_type);

			return f && f->decode ? f : NULL;
		}
	return NULL;
}

int gw_recv_format_is_edxml(const struct gw_server_format *f)
{
	return f == &edxml_format;
}
