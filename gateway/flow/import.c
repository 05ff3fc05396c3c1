/*
 * import.c - the envelope of imported records (import.h): ids, the time
 * and the completion of a mapping's partial message.
 */
#include "flow/import.h"

#include <string.h>
#include <time.h>

#include "crypto/digest.h"
#include "model/message.h"

/* A fixed namespace for name-based ids (UUIDv5, RFC 9562). */
static const unsigned char id_namespace[16] = { 0x6c, 0x69, 0x65, 0x6e,
						0x74, 0x68, 0x6f, 0x6e,
						0x67, 0x2d, 0x69, 0x6d,
						0x70, 0x6f, 0x72, 0x74 };

/* UUIDv4, or UUIDv5 (SHA-1) of name when name is set. */
int gw_import_make_id(const char *name, char out[37])
{
	return name ? gw_uuid5(id_namespace, name, out) : gw_uuid4(out);
}

void gw_import_now(char out[32])
{
	time_t t = time(NULL) + 7 * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
}

json_t *gw_import_complete(const json_t *partial, const json_t *sender,
			   const json_t *receivers, const char *classification,
			   const char *id, const char *created)
{
	const char *kind = json_string_value(json_object_get(partial, "kind"));
	json_t *msg, *v;
	const char *k;

	if (!kind)
		return NULL;
	msg = json_pack("{s:s, s:s, s:s, s:O, s:O, s:s, s:s}", "id", id, "kind",
			kind, "schemaVersion", GW_MSG_SCHEMA_VERSION, "sender",
			sender, "receivers", receivers, "created", created,
			"classification", classification);
	if (!msg)
		return NULL;
	/* the mapping's envelope fields win over the defaults */
	json_object_foreach((json_t *)partial, k, v)
	{
		json_t *old = json_object_get(msg, k);

		if (!strcmp(k, "kind"))
			continue;
		if (json_is_object(old) && json_is_object(v) &&
		    strcmp(k, "payload")) {
			/* /sender/orgId alone keeps the default name */
			json_t *m2 = json_deep_copy(old);

			if (!m2 || json_object_update(m2, v) ||
			    json_object_set_new(msg, k, m2)) {
				json_decref(msg);
				return NULL;
			}
		} else if (json_object_set(msg, k, v)) {
			json_decref(msg);
			return NULL;
		}
	}
	return msg;
}
