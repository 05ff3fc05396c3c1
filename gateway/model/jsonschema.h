/*
 * jsonschema.h - JSON Schema draft 2020-12 validation on jansson.
 *
 * Compile once, validate many: a registry holds the schema documents known
 * by their $id (loaded from local directories only, never the network); a
 * compiled schema is immutable after gw_js_compile() and may be shared by
 * threads. Errors follow the specification's "basic" output shape: an
 * instance location (JSON Pointer), a keyword location and a message.
 */
#ifndef GW_JSONSCHEMA_H
#define GW_JSONSCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "base/common.h"

struct gw_js_registry;
struct gw_js_schema;

enum {
	GW_JS_FORMAT_ASSERT = 1 << 0 /* assert "format" instead of annotating */
};

struct gw_js_error {
	char *instance_location; /* JSON Pointer into the instance, "" = root */
	char *keyword_location; /* JSON Pointer into the schema, e.g. "/properties/id/type" */
	char *message; /* one line, lowercase */
};

struct gw_js_errors {
	size_t count;
	struct gw_js_error *items;
};

/* A new empty registry; NULL on allocation failure. */
struct gw_js_registry *gw_js_registry_new(void);
void gw_js_registry_free(struct gw_js_registry *reg);

/* References whose URI starts with uri_prefix read the file dir followed by
 * the rest of the URI, as written. */
gw_rc gw_js_registry_map(struct gw_js_registry *reg, const char *uri_prefix,
			 const char *dir, struct gw_err *err);
/* Note: gw_js_compile() loads a mapped file into the registry the first
 * time a reference needs it, so compiles sharing one registry must not run
 * at the same time; validation never touches the registry. A mapped file
 * that cannot be read or parsed is a GW_ERR_SCHEMA_DEF naming the URI. */

/* Load every *.json file of dir that has an $id, so references by that $id
 * resolve to it. */
gw_rc gw_js_registry_add_dir(struct gw_js_registry *reg, const char *dir,
			     struct gw_err *err);

/* Add one schema document under uri (its $id wins when present). schema is
 * borrowed; the registry keeps its own reference. */
gw_rc gw_js_registry_add(struct gw_js_registry *reg, const char *uri,
			 json_t *schema, struct gw_err *err);

/* Compile schema (borrowed) with base URI base_uri (may be NULL). The
 * registry is borrowed and must outlive the compiled schema. An invalid
 * schema or unresolvable reference gives GW_ERR_SCHEMA_DEF with the reason. */
gw_rc gw_js_compile(struct gw_js_registry *reg, json_t *schema,
		    const char *base_uri, unsigned flags,
		    struct gw_js_schema **out, struct gw_err *err);

/* Read, parse and compile a schema file. */
gw_rc gw_js_compile_file(struct gw_js_registry *reg, const char *path,
			 unsigned flags, struct gw_js_schema **out,
			 struct gw_err *err);

void gw_js_schema_free(struct gw_js_schema *s);

/* Validate instance (borrowed). Returns true when valid. When errs is not
 * NULL it receives the errors (caller releases with gw_js_errors_release).
 * An instance too deep to validate (over 10,000 levels) is invalid with a
 * clear error, never a crash. */
bool gw_js_validate(const struct gw_js_schema *s, const json_t *instance,
		    struct gw_js_errors *errs);

void gw_js_errors_release(struct gw_js_errors *errs);

/* Print errs (borrowed) to out, one line per error:
 * "FILE: INSTANCE_POINTER: MESSAGE (at KEYWORD_LOCATION)", where an empty
 * pointer (the root) is shown as "(root)". file may be NULL ("-"). */
void gw_js_errors_print(const struct gw_js_errors *errs, const char *file,
			FILE *out);

#endif
