/*
 * receive_check.c - parse with limits, verify the signature, take what
 * was signed and validate it (gw_check_signed): the part of receiving a
 * message that a verification worker can run beside the event loop.
 */
#include "flow/receive_check.h"

#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/xml.h"
#include "model/message.h"

/* 1 when n is an XML-DSig Signature element (the placeholder
 * edXML:Signature of the national axis is not one). */
static int has_dsig_self(xmlNodePtr n)
{
	return n->type == XML_ELEMENT_NODE &&
	       !xmlStrcmp(n->name, BAD_CAST "Signature") && n->ns &&
	       !xmlStrcmp(n->ns->href,
			  BAD_CAST "http://www.w3.org/2000/09/xmldsig#");
}

/* 1 when the tree from n on holds an XML-DSig Signature element. The safe
 * parser bounds the depth. */
static int has_dsig(xmlNodePtr n)
{
	for (; n; n = n->next)
		if (has_dsig_self(n) ||
		    (n->type == XML_ELEMENT_NODE && has_dsig(n->children)))
			return 1;
	return 0;
}

struct collect {
	json_t *errors;
};

static void collect_line(void *arg, gw_rc rc, const char *line)
{
	struct collect *c = arg;

	if (c->errors && json_array_size(c->errors) < 50)
		json_array_append_new(c->errors, json_string(line));
}

void gw_check_release(struct gw_check *c)
{
	json_decref(c->errors);
	c->errors = NULL;
	gw_validated_release(&c->val);
	free(c->rcpt);
	c->rcpt = NULL;
}

static void fail(struct gw_check *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct gw_check *c, int status, const char *fmt, ...)
{
	va_list ap;

	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

void gw_check_signed(const struct gw_sign_verifier *ver,
		     struct gw_validator *vd,
		     const struct gw_server_format *fmt, int unsigned_ok,
		     const char *partner, const char *peer_subject,
		     const char *body, size_t len, int xml, struct gw_check *c)
{
	struct gw_buf content, stripped;
	const char *vdata = NULL; /* what is validated: stripped or content */
	size_t vlen = 0;
	struct collect col = { NULL };
	struct gw_err err;
	xmlDocPtr doc = NULL;
	json_t *probe = NULL;
	const char *b = body;
	size_t n = len;

	memset(c, 0, sizeof(*c));
	c->sig_reason = -1;
	gw_buf_init(&content);
	gw_buf_init(&stripped);
	gw_err_clear(&err);
	/* parse with limits: malformed is 400 */
	if (xml) {
		if (gw_xml_parse(b, n, "body", &doc, &err)) {
			fail(c, 400, "%s", err.msg);
			goto out;
		}
		if (fmt && !has_dsig(xmlDocGetRootElement(doc))) {
			/* a wire format without an XML-DSig (the national
			 * axis signs with a placeholder): only from a
			 * partner configured so, on the strength of its
			 * client certificate */
			if (!unsigned_ok) {
				c->sig_reason = GW_SIGN_MALFORMED;
				fail(c, 422,
				     "signature: the %s message has no "
				     "XML-DSig "
				     "signature (an edXML:Signature "
				     "placeholder "
				     "is not one): sign it, or set signed: "
				     "false for partner '%s' to accept "
				     "unsigned %s from it",
				     fmt->name, partner, fmt->name);
				goto out;
			}
			snprintf(c->sres.subject, sizeof(c->sres.subject), "%s",
				 peer_subject);
			c->unsigned_wire = 1;
		} else if (gw_sign_verify_xml(ver, doc, 0, &c->sres, &err)) {
			c->sig_reason = (int)(c->sres.reason & 15);
			fail(c, 422, "signature: %s", err.msg);
			goto out;
		}
		if (fmt) {
			/* what was signed, as a canonical message: the wire
			 * schema may not allow the enveloped signature
			 * (SDMX-ML), so the decoder gets the document
			 * without it */
			json_t *m = NULL;
			char *text = NULL;
			xmlChar *mem = NULL;
			int size = 0;

			if (!c->unsigned_wire) {
				xmlNodePtr e =
					xmlDocGetRootElement(doc)->children;

				for (; e; e = e->next)
					if (has_dsig_self(e)) {
						xmlUnlinkNode(e);
						xmlFreeNode(e);
						break;
					}
				xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
				if (!mem) {
					fail(c, 500, "out of memory");
					goto out;
				}
				b = (const char *)mem;
				n = (size_t)size;
			}
			gw_err_clear(&err);
			if (fmt->decode(b, n, &m, &err) || !m ||
			    !(text = json_dumps(m, JSON_COMPACT)) ||
			    gw_buf_adds(&stripped, text))
				fail(c, err.rc == GW_ERR_PARSE ? 400 : 422,
				     "%s: %s", fmt->name,
				     err.msg[0] ? err.msg : "not converted");
			json_decref(m);
			free(text);
			xmlFree(mem);
			if (c->status)
				goto out;
		} else {
			/* validate what was signed, without the signature */
			xmlNodePtr root = xmlDocGetRootElement(doc), e;
			xmlChar *mem = NULL;
			int size = 0;

			for (e = root ? root->children : NULL; e; e = e->next)
				if (e->type == XML_ELEMENT_NODE &&
				    !xmlStrcmp(e->name, BAD_CAST "Signature")) {
					xmlUnlinkNode(e);
					xmlFreeNode(e);
					break;
				}
			xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
			if (!mem || gw_buf_add(&stripped, mem, (size_t)size)) {
				xmlFree(mem);
				fail(c, 500, "out of memory");
				goto out;
			}
			xmlFree(mem);
		}
	} else {
		/* JSON (flattened or general JWS) must parse with the limits
		 * of gw_json_parse, so that malformed input is a 400; a
		 * compact JWS is three base64url parts. The JWS verifier
		 * parses an object body with the same parser and flags, so
		 * when it accepts one within the size limit the limits hold
		 * and the body is parsed once: the separate parse runs first
		 * only for other JSON or an oversized body, and otherwise
		 * after a refusal, to tell malformed (400) from invalid. */
		int json = gw_msg_detect(b, n) == GW_FMT_JSON;
		size_t lead = 0;

		while (lead < n && strchr(" \t\r\n", b[lead]) && b[lead])
			lead++;

		if (json &&
		    (n > GW_JSON_MAX_SIZE || lead >= n || b[lead] != '{') &&
		    gw_json_parse(b, n, "body", &probe, &err)) {
			fail(c, 400, "%s", err.msg);
			goto out;
		}
		if (gw_sign_verify_jws(ver, b, n, NULL, 0, 0, &c->sres,
				       &content, &err)) {
			struct gw_err perr;

			gw_err_clear(&perr);
			if (json && !probe &&
			    gw_json_parse(b, n, "body", &probe, &perr)) {
				fail(c, 400, "%s", perr.msg);
				goto out;
			}
			c->sig_reason = (int)(c->sres.reason & 15);
			/* neither JSON nor a compact JWS: malformed */
			fail(c,
			     !probe && c->sres.reason == GW_SIGN_MALFORMED
				     ? 400
				     : 422,
			     "signature: %s%s", err.msg,
			     json_object_get(probe, "kind")
				     ? " (the message is not signed: send it "
				       "as a JWS)"
				     : "");
			goto out;
		}
		/* validated where it is: no copy of the payload */
		vdata = content.data;
		vlen = content.len;
	}
	col.errors = json_array();
	gw_err_clear(&err);
	if (!vdata) {
		vdata = stripped.data;
		vlen = stripped.len;
	}
	if (gw_validate_buffer(vd, "message", vdata, vlen, collect_line, &col,
			       &c->val, &err) ||
	    !c->val.json) {
		c->vstatus = err.rc == GW_ERR_PARSE ? 400 : 422;
		snprintf(c->detail, sizeof(c->detail), "%s",
			 err.msg[0] ? err.msg : "not a canonical message");
		c->errors = col.errors;
		col.errors = NULL;
	}
out:
	json_decref(col.errors);
	json_decref(probe);
	xmlFreeDoc(doc);
	gw_buf_release(&content);
	gw_buf_release(&stripped);
}

int gw_check_msg_id(const char *id)
{
	size_t n = 0;

	for (; id[n]; n++)
		if (!((id[n] >= '0' && id[n] <= '9') ||
		      (id[n] >= 'a' && id[n] <= 'f') || id[n] == '-'))
			return 0;
	return n > 0 && n < 64;
}
