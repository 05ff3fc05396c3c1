/*
 * receive_receipt.c - the signed receipt of an accepted message
 * (gw_receipt_make): made and signed by the event loop, or ahead of time
 * by a verification worker for a JSON message.
 */
#include "flow/receive_receipt.h"

#include <errno.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/xml.h"
#include "model/message.h"

/* Receipts                                                            */

static void uuid4(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			/* no entropy source at all: time and pid, still
			 * unique enough for a receipt id */
			struct timespec t;

			clock_gettime(CLOCK_REALTIME, &t);
			memcpy(b, &t, sizeof(t) < 16 ? sizeof(t) : 16);
			b[15] ^= (unsigned char)getpid();
			break;
		}
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

static void now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

gw_rc gw_receipt_make(const struct gw_receipt_signer *rs, const json_t *msg,
		      const char *sha, int xml, const char *wire, char **out,
		      size_t *olen, const char **ctype, struct gw_err *err)
{
	json_t *r = json_object(), *p = json_object(), *me = json_object();
	json_t *to = json_array(), *sender = json_object_get(msg, "sender");
	const char *id = json_string_value(json_object_get(msg, "id"));
	const char *cls =
		json_string_value(json_object_get(msg, "classification"));
	char rid[37], now[32];
	struct gw_buf b;
	xmlDocPtr doc = NULL;
	char *text = NULL;
	gw_rc rc = GW_OK;

	gw_buf_init(&b);
	if (!r || !p || !me || !to) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	uuid4(rid);
	now_rfc3339(now);
	json_object_set_new(me, "orgId", json_string(rs->org_id));
	json_object_set_new(me, "name", json_string(rs->org_name));
	json_array_append_new(to, json_deep_copy(sender));
	json_object_set_new(p, "messageId", json_string(id));
	json_object_set_new(p, "sha256", json_string(sha));
	json_object_set_new(p, "outcome", json_string("accepted"));
	json_object_set_new(p, "time", json_string(now));
	json_object_set_new(r, "id", json_string(rid));
	json_object_set_new(r, "kind", json_string("receipt"));
	json_object_set_new(r, "schemaVersion",
			    json_string(GW_MSG_SCHEMA_VERSION));
	json_object_set(r, "sender", me);
	json_object_set(r, "receivers", to);
	json_object_set_new(r, "created", json_string(now));
	json_object_set_new(r, "correlationId", json_string(id));
	json_object_set_new(
		r, "classification",
		json_string(cls && strcmp(cls, "secret") ? cls : "internal"));
	json_object_set(r, "payload", p);
	if (xml) {
		xmlChar *mem = NULL;
		int size = 0;

		if (wire && !strcmp(wire, "edxml")) {
			struct gw_buf w;

			gw_buf_init(&w);
			rc = gw_format_to_wire(rs->conv, "edxml", r, &w, NULL,
					       NULL, err);
			if (!rc)
				rc = gw_xml_parse(w.data, w.len, "receipt",
						  &doc, err);
			gw_buf_release(&w);
			*ctype = "application/edxml+xml";
		} else {
			rc = gw_msg_json_to_xml(r, &doc, err);
			*ctype = "application/xml";
		}
		if (rc || (rc = gw_sign_xml(rs->key, rs->xml_alg, doc, err)))
			goto out;
		xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
		if (!mem) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		rc = gw_buf_add(&b, mem, (size_t)size);
		xmlFree(mem);
	} else {
		if (!(text = json_dumps(r, JSON_COMPACT))) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (!(rc = gw_sign_json(rs->key, rs->jws_alg, text,
					strlen(text), GW_SIGN_FLATTENED, &b,
					err)))
			rc = gw_buf_adds(&b, "\n");
		*ctype = "application/jose+json";
	}
	if (!rc)
		*out = gw_buf_detach(&b, olen);
out:
	free(text);
	xmlFreeDoc(doc);
	gw_buf_release(&b);
	json_decref(r);
	json_decref(p);
	json_decref(me);
	json_decref(to);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Internal delivery                                                   */
