/*
 * xml.h - safe parsing and XSD validation of untrusted XML with libxml2.
 *
 * Untrusted XML is parsed with no network access, no DTD loading, no
 * external entities and no entity expansion; a document that declares a DTD
 * at all is refused, which also refuses entity bombs. Depth and size are
 * limited. Errors are one line: "NAME:LINE: reason".
 */
#ifndef GW_XML_H
#define GW_XML_H

#include <libxml/tree.h>
#include <stdio.h>

#include "base/common.h"

#define GW_XML_MAX_DEPTH 128
#define GW_XML_MAX_SIZE (64u * 1024 * 1024)

/* Call once before threads start (idempotent): initialises libxml2 and
 * installs the no-network, no-external-entity loader. */
void gw_xml_init(void);

/* Parse buf[0..len) named name (a file name for error messages). Refuses a
 * DOCTYPE, entity declarations, depth over GW_XML_MAX_DEPTH and input over
 * GW_XML_MAX_SIZE with GW_ERR_REFUSED; malformed XML gives GW_ERR_PARSE.
 * On success *out is a new document the caller frees with xmlFreeDoc. */
gw_rc gw_xml_parse(const char *buf, size_t len, const char *name,
		   xmlDocPtr *out, struct gw_err *err);

struct gw_xsd;

/* Load and compile an XSD file (trusted: from schemas/). Imports resolve
 * relative to the file, never over the network. */
gw_rc gw_xsd_load(const char *path, struct gw_xsd **out, struct gw_err *err);
void gw_xsd_free(struct gw_xsd *x);

/* Validate doc (borrowed) against x. Every error is printed as one line
 * "NAME:LINE: reason" to errout when not NULL; err receives the first.
 * Returns GW_OK or GW_ERR_SCHEMA. */
gw_rc gw_xsd_validate(const struct gw_xsd *x, xmlDocPtr doc, const char *name,
		      FILE *errout, struct gw_err *err);

#endif
