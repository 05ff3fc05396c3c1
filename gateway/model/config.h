/*
 * config.h - the gateway configuration: one YAML file (conf/gateway.yaml)
 * read with libyaml into a JSON tree, validated against
 * schemas/config.schema.json, with errors that name the key and the line.
 * Secrets (key passphrases, tokens) are never inline: a secret is
 * {env: NAME} or {file: PATH}, resolved only when used.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <jansson.h>

#include "base/common.h"
#include "model/validate.h"

struct gw_config {
	char *path;    /* the file it was read from */
	json_t *root;  /* the whole configuration (owned) */
	json_t *lines; /* JSON Pointer -> line number (owned) */
};

/* Parse YAML text into JSON. Aliases, duplicate keys, tags and nesting
 * deeper than 64 are refused. *lines (may be NULL) receives a map from JSON
 * Pointer to line. */
gw_rc gw_yaml_parse(const char *buf, size_t len, const char *name, json_t **out,
		    json_t **lines, struct gw_err *err);

/* Load and validate the configuration file path against
 * schema_dir/config.schema.json. Every problem is reported to cb as
 * "PATH:LINE: KEY: reason". Relative paths in the file are resolved
 * against the file's folder. */
gw_rc gw_config_load(const char *path, const char *schema_dir, gw_report_cb cb,
		     void *arg, struct gw_config **out, struct gw_err *err);
void gw_config_free(struct gw_config *c);

/* The same for another YAML file validated by schema_dir/schema_file
 * (mapping files: mapping.schema.json). */
gw_rc gw_config_load_as(const char *path, const char *schema_dir,
			const char *schema_file, gw_report_cb cb, void *arg,
			struct gw_config **out, struct gw_err *err);

/* The line of the value at JSON Pointer ptr (or of its nearest parent),
 * 0 when unknown; and ptr as a dotted key ("fields.2.column"). */
long gw_config_line(const struct gw_config *c, const char *ptr);
void gw_config_key(const char *ptr, char *out, size_t n);

/* The value at JSON Pointer ptr (borrowed), or NULL. */
json_t *gw_config_get(const struct gw_config *c, const char *ptr);
const char *gw_config_str(const struct gw_config *c, const char *ptr,
			  const char *dflt);
long long gw_config_int(const struct gw_config *c, const char *ptr,
			long long dflt);
int gw_config_bool(const struct gw_config *c, const char *ptr, int dflt);

/* A path from the configuration made absolute against the file's folder;
 * the caller frees it. NULL when absent. */
char *gw_config_path(const struct gw_config *c, const char *ptr);

/* Resolve the secret at ptr ({env: NAME} or {file: PATH}) into a new
 * string the caller frees (and should wipe). Trailing newlines of a file
 * are dropped. */
gw_rc gw_config_secret(const struct gw_config *c, const char *ptr, char **out,
		       struct gw_err *err);

#endif
