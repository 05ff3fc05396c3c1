/*
 * validate.h - validation of messages: detect XML or JSON and the message
 * kind, validate against the matching schema of schemas/ (XSD or JSON
 * Schema) or a schema the caller names, then apply the business rules.
 */
#ifndef GW_VALIDATE_H
#define GW_VALIDATE_H

#include <jansson.h>
#include <libxml/tree.h>

#include "base/common.h"
#include "model/message.h"

struct gw_validator;

enum {
	GW_VAL_FORMAT_ASSERT = 1 << 0 /* JSON Schema "format" is asserted */
};

/* Called once per problem with a complete line "NAME:LOCATION: reason". */
typedef void (*gw_report_cb)(void *arg, gw_rc rc, const char *line);

/* Load the canonical schemas from schema_dir. */
gw_rc gw_validator_new(const char *schema_dir, unsigned flags,
		       struct gw_validator **out, struct gw_err *err);
void gw_validator_free(struct gw_validator *v);

/* References whose URI starts with prefix read dir + the rest of the URI
 * (JSON Schema only). */
gw_rc gw_validator_map(struct gw_validator *v, const char *prefix,
		       const char *dir, struct gw_err *err);

/* Use the XSD or JSON Schema at path instead of the canonical schemas
 * (no business rules then, except that a secret message is refused). An
 * invalid schema is GW_ERR_SCHEMA_DEF. */
gw_rc gw_validator_use_schema(struct gw_validator *v, const char *path,
			      struct gw_err *err);

/* The outcome of validating one input. */
struct gw_validated {
	enum gw_msg_format format;
	enum gw_msg_kind kind;
	json_t *json;  /* canonical JSON form when known (owned) */
	xmlDocPtr xml; /* the parsed XML when the input was XML (owned) */
};

void gw_validated_release(struct gw_validated *r);

/*
 * Validate buf[0..len) named name. Every problem goes to cb (may be NULL);
 * err gets the first. Returns GW_OK, GW_ERR_PARSE (malformed),
 * GW_ERR_SCHEMA (invalid), GW_ERR_REFUSED (hostile or secret) or
 * GW_ERR_UNSUPPORTED (no schema for this document). res (may be NULL)
 * receives the parsed forms; the caller releases it even on failure.
 */
gw_rc gw_validate_buffer(struct gw_validator *v, const char *name,
			 const char *buf, size_t len, gw_report_cb cb,
			 void *arg, struct gw_validated *res,
			 struct gw_err *err);

/* The schemas/ folder: $LIENTHONG_SCHEMA_DIR, else ../schemas beside the
 * executable, else the installed data folder. */
const char *gw_schema_dir(void);

#endif
