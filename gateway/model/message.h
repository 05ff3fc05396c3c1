/*
 * message.h - the canonical message model, version 1: kinds, the lossless
 * conversion between its JSON form (schemas/message-1.schema.json) and its
 * XML form (schemas/message-1.xsd), and the business rules that a schema
 * cannot say.
 */
#ifndef GW_MESSAGE_H
#define GW_MESSAGE_H

#include <jansson.h>
#include <libxml/tree.h>
#include <stdio.h>

#include "base/common.h"

#define GW_MSG_NS "urn:lienthong:message:1"
#define GW_MSG_SCHEMA_VERSION "1.0"

enum gw_msg_format { GW_FMT_UNKNOWN = 0, GW_FMT_JSON, GW_FMT_XML };

enum gw_msg_kind {
	GW_KIND_UNKNOWN = 0,
	GW_KIND_PLAN,
	GW_KIND_TASK_ASSIGNMENT,
	GW_KIND_TASK_PROGRESS,
	GW_KIND_INDICATOR_REPORT,
	GW_KIND_RECEIPT
};

/* Guess the format from the first significant byte (after a UTF-8 BOM and
 * white space): '<' is XML, '{' or '[' is JSON. */
enum gw_msg_format gw_msg_detect(const char *buf, size_t len);

/* "plan", "task.assignment", ... <-> enum; NULL / GW_KIND_UNKNOWN when
 * unknown. */
const char *gw_msg_kind_name(enum gw_msg_kind k);
enum gw_msg_kind gw_msg_kind_parse(const char *s);

/* The kind of a canonical JSON message (borrowed), or GW_KIND_UNKNOWN. */
enum gw_msg_kind gw_msg_json_kind(const json_t *msg);

/* True when doc's root is the canonical <message> element. */
int gw_msg_xml_is_canonical(xmlDocPtr doc);

/* Convert a valid canonical XML document (borrowed) to its JSON form; *out
 * is a new reference. Fails with GW_ERR_SCHEMA naming the element and line
 * when the document does not follow the model. */
gw_rc gw_msg_xml_to_json(xmlDocPtr doc, json_t **out, struct gw_err *err);

/* Convert a valid canonical JSON message (borrowed) to XML; *out is a new
 * document the caller frees. Strings with characters XML 1.0 cannot carry
 * are refused with GW_ERR_REFUSED naming the JSON Pointer. */
gw_rc gw_msg_json_to_xml(const json_t *msg, xmlDocPtr *out, struct gw_err *err);

/* Serialize: XML indented, UTF-8, with declaration; JSON indented with two
 * spaces and a final newline. The buffer is appended to. */
gw_rc gw_msg_xml_dump(xmlDocPtr doc, struct gw_buf *out, struct gw_err *err);
gw_rc gw_msg_json_dump(const json_t *msg, struct gw_buf *out,
		       struct gw_err *err);

/* One business-rule violation: a JSON Pointer into the message and why. */
typedef void (*gw_msg_rule_cb)(void *arg, const char *pointer,
			       const char *reason, gw_rc rc);

/*
 * Check the rules a schema cannot express on a schema-valid canonical JSON
 * message (borrowed): a secret classification is refused (GW_ERR_REFUSED),
 * calendar dates exist, a timeline starts before it ends, a finished task
 * is 100% complete, a rejected receipt says why, percentages lie in 0-100,
 * receivers and dimension names are unique. Each violation is passed to cb;
 * returns GW_OK, GW_ERR_REFUSED if any violation refuses, else
 * GW_ERR_SCHEMA.
 */
gw_rc gw_msg_check_rules(const json_t *msg, gw_msg_rule_cb cb, void *arg);

/* The line of the XML element a JSON Pointer of the message designates
 * (the nearest existing ancestor), or 0 when unknown. */
long gw_msg_xml_line(xmlDocPtr doc, const char *pointer);

#endif
