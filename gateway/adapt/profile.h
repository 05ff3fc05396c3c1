/*
 * profile.h - profile mappings: the field names of the report packet
 * (schemas/report-packet-1.*) renamed for a receiving system that names
 * them differently. A profile is a small YAML file
 * (schemas/profile.schema.json, docs/FORMATS.md) with one map per syntax:
 * XML element and attribute names (and optionally the namespace), JSON
 * member names, each from our name to theirs.
 *
 * The renaming is a one-to-one map on names, so it can always be undone:
 * a profile that gives two fields the same name, gives a field the name
 * of another field it does not rename, or uses a name that is not an XML
 * name is refused when it is loaded. format.c applies it on output (after
 * the packet was validated against our schema) and reverses it on input
 * (before the packet is validated against our schema).
 */
#ifndef GW_PROFILE_H
#define GW_PROFILE_H

#include <jansson.h>
#include <libxml/tree.h>

#include "base/common.h"
#include "model/validate.h"

struct gw_profile;

/* Load and check the profile path against schema_dir/profile.schema.json.
 * Every problem goes to cb (may be NULL) as "FILE:LINE: key: reason", the
 * first one also to err (GW_ERR_CONFIG; GW_ERR_IO when it cannot be read).
 * *out is freed with gw_profile_free. */
gw_rc gw_profile_load(const char *path, const char *schema_dir, gw_report_cb cb,
		      void *arg, struct gw_profile **out, struct gw_err *err);
void gw_profile_free(struct gw_profile *p);

/* The file the profile was read from (borrowed). */
const char *gw_profile_path(const struct gw_profile *p);

/*
 * Rename doc (borrowed, changed in place) from our names to the profile's
 * (reverse 0) or back (reverse 1): element names in namespace ns, their
 * attributes without a namespace, and ns itself when the profile gives
 * one. Reversing refuses (GW_ERR_SCHEMA, naming the line) a name or the
 * namespace of ours that the profile renames: the receiving system does
 * not use it.
 */
gw_rc gw_profile_rename_xml(const struct gw_profile *p, xmlDocPtr doc,
			    const char *ns, int reverse, struct gw_err *err);

/*
 * A renamed copy of the JSON value v (borrowed): member names from ours
 * to the profile's (reverse 0) or back (reverse 1). Returns a new
 * reference the caller releases, or NULL with err set (GW_ERR_SCHEMA
 * naming the JSON Pointer of a member of ours the profile renames, met
 * when reversing; GW_ERR_NOMEM).
 */
json_t *gw_profile_rename_json(const struct gw_profile *p, const json_t *v,
			       int reverse, struct gw_err *err);

#endif
