/*
 * deliver_receipt.c - the sender's check of what a destination answered
 * (deliver_receipt.h): find the receipt in the answer, verify its
 * signature and signer, then its content against the message sent.
 */
#include "flow/deliver_receipt.h"

#include <jansson.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapt/format.h"
#include "base/xml.h"
#include "crypto/digest.h"
#include "crypto/sign.h"
#include "model/message.h"
#include "model/validate.h"

struct rstate {
	struct gw_sign_verifier *ver;
	struct gw_format *fmt;	  /* for edXML receipts */
	char why[GW_ERR_MSG_MAX]; /* why the verifier could not be loaded */
	int tried;
};

int gw_receipt_policy_parse(const char *s)
{
	if (!strcmp(s, "optional"))
		return GW_RECEIPT_OPTIONAL;
	if (!strcmp(s, "required"))
		return GW_RECEIPT_REQUIRED;
	if (!strcmp(s, "none"))
		return GW_RECEIPT_NONE;
	return -1;
}

void gw_receipt_release(struct gw_receipt_rule *rule)
{
	struct rstate *r = rule->state;

	free(rule->signer);
	free(rule->key);
	free(rule->trust);
	for (size_t i = 0; rule->algs && rule->algs[i]; i++)
		free(rule->algs[i]);
	free(rule->algs);
	if (r) {
		gw_sign_verifier_free(r->ver);
		gw_format_free(r->fmt);
		free(r);
	}
	memset(rule, 0, sizeof(*rule));
}

/* The destination's verifier, loaded once; NULL with why set. */
static struct rstate *state(struct gw_receipt_rule *d, const char *dest,
			    char *why, size_t n)
{
	struct rstate *r = d->state;
	struct gw_err err;

	if (!r && !(r = d->state = gw_calloc(1, sizeof(*r)))) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	if (!r->tried) {
		r->tried = 1;
		gw_err_clear(&err);
		if (!d->key && !d->signer)
			snprintf(r->why, sizeof(r->why),
				 "cannot tell who signed it: set "
				 "destinations.%s.receipt_signer (or "
				 "receipt_key)",
				 dest);
		else if (!d->key && !d->trust)
			snprintf(r->why, sizeof(r->why),
				 "no trust store to check it against: set "
				 "trust.dir or destinations.%s.receipt_trust",
				 dest);
		else if (gw_sign_init(&err) ||
			 (d->key ? gw_sign_verifier_key(d->key, &r->ver, &err)
				 : gw_sign_verifier_trust(d->trust, &r->ver,
							  &err)) ||
			 (d->algs &&
			  gw_sign_verifier_allow(r->ver,
						 (const char *const *)d->algs,
						 &err))) {
			snprintf(r->why, sizeof(r->why), "%s", err.msg);
			gw_sign_verifier_free(r->ver);
			r->ver = NULL;
		}
	}
	if (!r->ver) {
		snprintf(why, n, "the receipt cannot be checked: %s", r->why);
		return NULL;
	}
	return r;
}

/* Does text[0..len) look like a compact JWS (three base64url parts)? */
static int compact_jws(const char *p, size_t len)
{
	size_t i, dots = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '.')
			dots++;
		else if (!((p[i] >= 'A' && p[i] <= 'Z') ||
			   (p[i] >= 'a' && p[i] <= 'z') ||
			   (p[i] >= '0' && p[i] <= '9') || p[i] == '-' ||
			   p[i] == '_'))
			return 0;
	}
	return dots == 2;
}

static int has_signature(xmlNodePtr n)
{
	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    ((!strcmp((const char *)n->name, "Signature") && n->ns &&
		      !strcmp((const char *)n->ns->href,
			      "http://www.w3.org/2000/09/xmldsig#")) ||
		     has_signature(n->children)))
			return 1;
	return 0;
}

/* Drop the (verified) enveloped Signature from the document element, so
 * that the rest reads as a canonical message. */
static void drop_signature(xmlDocPtr doc)
{
	xmlNodePtr n = xmlDocGetRootElement(doc), c, next;

	for (c = n ? n->children : NULL; c; c = next) {
		next = c->next;
		if (c->type == XML_ELEMENT_NODE && c->ns &&
		    !strcmp((const char *)c->name, "Signature") &&
		    !strcmp((const char *)c->ns->href,
			    "http://www.w3.org/2000/09/xmldsig#")) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
}

/* The receipt's content against the message sent. */
static enum gw_receipt_verdict
check_content(const json_t *r, const char *msg_id, const char *variant,
	      const char *sent, size_t sent_len, const char *sent_sha,
	      const struct gw_sign_result *res, char *why, size_t n)
{
	const json_t *p = json_object_get(r, "payload");
	const char *kind = json_string_value(json_object_get(r, "kind"));
	const char *id = json_string_value(json_object_get(p, "messageId"));
	const char *sha = json_string_value(json_object_get(p, "sha256"));
	const char *oc = json_string_value(json_object_get(p, "outcome"));
	const char *at = json_string_value(json_object_get(p, "time"));
	char hex[65], vid[37];

	if (!kind || strcmp(kind, "receipt")) {
		snprintf(why, n, "the signed answer is a '%s', not a receipt",
			 kind ? kind : "?");
		return GW_RECEIPT_BAD;
	}
	/* a wire-format variant's receipt may name the canonical message */
	if (id && strcmp(id, msg_id) && variant &&
	    gw_format_wire_id(id, variant, vid) == 0 && !strcmp(vid, msg_id))
		msg_id = id;
	if (!id || strcmp(id, msg_id)) {
		snprintf(why, n, "the receipt names another message (%.40s)",
			 id ? id : "none");
		return GW_RECEIPT_BAD;
	}
	if (!sent_sha) {
		gw_sha256_hex(sent, sent_len, hex);
		sent_sha = hex;
	}
	if (!sha || strcasecmp(sha, sent_sha)) {
		snprintf(why, n,
			 "the receipt binds other bytes (sha256 %.64s, sent "
			 "%s)",
			 sha ? sha : "none", sent_sha);
		return GW_RECEIPT_BAD;
	}
	if (oc && !strcmp(oc, "rejected")) {
		snprintf(why, n, "the receiver's receipt says rejected");
		return GW_RECEIPT_REJECTED;
	}
	snprintf(why, n, "receipt verified: signed by %s (%s), %s at %s",
		 res->subject, gw_sign_alg_name(res->alg), oc ? oc : "accepted",
		 at ? at : "?");
	return GW_RECEIPT_OK;
}

enum gw_receipt_verdict gw_receipt_check(struct gw_receipt_rule *d,
					 const char *dest, const char *variant,
					 const char *msg_id, const char *sent,
					 size_t sent_len, const char *sent_sha,
					 const char *body, size_t len,
					 char *why, size_t n)
{
	enum gw_receipt_verdict v = GW_RECEIPT_BAD;
	struct gw_sign_result res;
	struct gw_buf content;
	struct rstate *r;
	struct gw_err err;
	json_t *j = NULL, *msg = NULL;
	xmlDocPtr doc = NULL;
	int jws = 0;

	memset(&res, 0, sizeof(res));
	gw_buf_init(&content);
	gw_err_clear(&err);
	while (len && strchr(" \t\r\n", body[len - 1]))
		len--;
	while (len && strchr(" \t\r\n", *body))
		body++, len--;
	if (d->policy == GW_RECEIPT_NONE) {
		snprintf(why, n, "not checked (receipt: none)");
		return GW_RECEIPT_ABSENT;
	}
	/* what the answer is */
	if (gw_msg_detect(body, len) == GW_FMT_XML) {
		if (gw_xml_parse(body, len, "receipt", &doc, &err) == GW_OK &&
		    !has_signature(xmlDocGetRootElement(doc))) {
			xmlFreeDoc(doc);
			doc = NULL;
		}
	} else if (len && (j = json_loadb(body, len, 0, NULL))) {
		if (json_object_get(j, "signature") ||
		    json_object_get(j, "signatures"))
			jws = 1;
		else if (json_is_string(json_object_get(j, "kind")) &&
			 !strcmp(json_string_value(json_object_get(j, "kind")),
				 "receipt")) {
			snprintf(why, n, "an unsigned receipt");
			goto out;
		}
	} else if (len) {
		jws = compact_jws(body, len);
	}
	if (!jws && !doc) {
		if (d->policy == GW_RECEIPT_REQUIRED) {
			snprintf(why, n,
				 "no receipt in the answer (%zu bytes), and "
				 "destinations.%s.receipt is required",
				 len, dest);
			goto out;
		}
		snprintf(why, n,
			 "no receipt in the answer (receipt: optional)");
		v = GW_RECEIPT_ABSENT;
		goto out;
	}
	if (!(r = state(d, dest, why, n)))
		goto out;
	if (jws) {
		if (gw_sign_verify_jws(r->ver, body, len, NULL, 0, 0, &res,
				       &content, &err)) {
			snprintf(why, n, "the receipt's signature: %s (%s)",
				 gw_sign_reason_name(res.reason), err.msg);
			goto out;
		}
		json_decref(j);
		if (!(j = json_loadb(content.data ? content.data : "",
				     content.len, 0, NULL))) {
			snprintf(why, n, "the receipt's payload is not JSON");
			goto out;
		}
		msg = j;
	} else {
		if (gw_sign_verify_xml(r->ver, doc, 0, &res, &err)) {
			snprintf(why, n, "the receipt's signature: %s (%s)",
				 gw_sign_reason_name(res.reason), err.msg);
			goto out;
		}
		if (gw_msg_xml_is_canonical(doc)) {
			drop_signature(doc);
			if (gw_msg_xml_to_json(doc, &msg, &err))
				msg = NULL;
		} else if (variant && !strncmp(variant, "edxml", 5) &&
			   (r->fmt ||
			    !gw_format_new(gw_schema_dir(), &r->fmt, &err))) {
			if (gw_format_from_wire(r->fmt, "edxml", body, len,
						"receipt", &msg, NULL, &err))
				msg = NULL;
		}
		if (!msg) {
			snprintf(why, n,
				 "the signed answer cannot be read as a "
				 "receipt");
			goto out;
		}
	}
	if (d->signer && !d->key && strcmp(res.subject, d->signer)) {
		snprintf(why, n,
			 "the receipt is signed by '%s', not by the "
			 "destination ('%s')",
			 res.subject, d->signer);
		goto out;
	}
	v = check_content(msg, msg_id, variant, sent, sent_len, sent_sha, &res,
			  why, n);
out:
	if (msg != j)
		json_decref(msg);
	json_decref(j);
	xmlFreeDoc(doc);
	gw_buf_release(&content);
	return v;
}
