/*
 * convert.c - the convert and sign steps of the pipeline: a validated
 * message signed (XML-DSig or JWS), and the wire-format variants of a
 * message for the destinations that name a format (convert.h).
 */
#include "flow/convert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "adapt/format.h"
#include "adapt/profile.h"
#include "base/common.h"
#include "base/xml.h"
#include "crypto/digest.h"
#include "crypto/sign.h"
#include "flow/deliver.h"
#include "model/jcs.h"
#include "model/validate.h"
#include "store/outbox.h"

/* Sign a validated message: an enveloped XML-DSig for XML, a flattened JWS
 * over the RFC 8785 form for JSON. *out is new. */
gw_rc gw_sign_validated(const struct gw_sign_key *k, enum gw_sign_alg xml_alg,
			enum gw_sign_alg jws_alg, struct gw_validated *res,
			const char *buf, size_t len, char **out, size_t *olen,
			struct gw_err *err)
{
	struct gw_buf b;
	gw_rc rc;

	gw_buf_init(&b);
	if (res->format == GW_FMT_XML) {
		xmlChar *mem = NULL;
		int size = 0;

		if ((rc = gw_sign_xml(k, xml_alg, res->xml, err)))
			return rc;
		xmlDocDumpMemoryEnc(res->xml, &mem, &size, "UTF-8");
		if (!mem)
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		rc = gw_buf_add(&b, mem, (size_t)size);
		xmlFree(mem);
	} else {
		rc = gw_sign_json(k, jws_alg, buf, len, GW_SIGN_FLATTENED, &b,
				  err);
	}
	if (rc) {
		gw_buf_release(&b);
		return rc;
	}
	*out = gw_buf_detach(&b, olen);
	return GW_OK;
}

void gw_variants_release(struct gw_variants *vs)
{
	size_t i;

	for (i = 0; i < vs->n; i++) {
		free(vs->bodies[i]);
		free(vs->ids[i]);
		free((void *)vs->v[i].dests);
	}
	for (i = 0; i < vs->nprofs; i++)
		gw_profile_free(vs->profs[i]);
	free(vs->profs);
	if (!vs->keep_fmt)
		gw_format_free(vs->fmt);
	free(vs->v);
	free(vs->bodies);
	free(vs->ids);
	free(vs->of);
	vs->v = NULL;
	vs->bodies = vs->ids = NULL;
	vs->of = NULL;
	vs->profs = NULL;
	vs->n = vs->nprofs = 0;
	if (!vs->keep_fmt)
		vs->fmt = NULL;
}

/* Room for one more variant in each array. */
static int variants_grow(struct gw_variants *vs)
{
	void *p;

	if (!(p = gw_realloc(vs->v, (vs->n + 1) * sizeof(*vs->v))))
		return -1;
	vs->v = p;
	if (!(p = gw_realloc(vs->bodies, (vs->n + 1) * sizeof(*vs->bodies))))
		return -1;
	vs->bodies = p;
	if (!(p = gw_realloc(vs->ids, (vs->n + 1) * sizeof(*vs->ids))))
		return -1;
	vs->ids = p;
	if (!(p = gw_realloc(vs->of, (vs->n + 1) * sizeof(*vs->of))))
		return -1;
	vs->of = p;
	return 0;
}

gw_rc gw_content_digest(const json_t *msg, const char *variant, char out[65],
			struct gw_err *err)
{
	struct gw_buf b;
	gw_rc rc;

	gw_buf_init(&b);
	if (gw_buf_addf(&b, "%s\n", variant ? variant : ""))
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	else if (!(rc = gw_jcs_serialize(msg, &b, err)) &&
		 gw_sha256_hex(b.data, b.len, out))
		rc = gw_err_set(err, GW_ERR_INTERNAL, "cannot hash a message");
	gw_buf_release(&b);
	return rc;
}

/* The profile of dest (NULL when it has none), loaded once per send. */
static gw_rc dest_profile(struct gw_variants *vs, const struct gw_dest *dest,
			  struct gw_profile **out, struct gw_err *err)
{
	struct gw_profile **grown;
	size_t i;
	gw_rc rc;

	*out = NULL;
	if (!dest->profile)
		return GW_OK;
	for (i = 0; i < vs->nprofs; i++)
		if (!strcmp(gw_profile_path(vs->profs[i]), dest->profile)) {
			*out = vs->profs[i];
			return GW_OK;
		}
	grown = gw_realloc(vs->profs, (vs->nprofs + 1) * sizeof(*grown));
	if (!grown)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	vs->profs = grown;
	if ((rc = gw_profile_load(dest->profile, gw_schema_dir(), NULL, NULL,
				  &vs->profs[vs->nprofs], err)))
		return rc; /* GW_ERR_CONFIG: exit 3, not the message's fault */
	*out = vs->profs[vs->nprofs++];
	return GW_OK;
}

/* The variant of m for dest (named name, which has a format): a new one
 * in vs, or name added to the variant of that format and profile already
 * made for m. */
static gw_rc make_variant(const struct gw_sign_key *key,
			  enum gw_sign_alg xml_alg, enum gw_sign_alg jws_alg,
			  const struct gw_out_msg *m, const json_t *msg,
			  struct gw_variants *vs, const struct gw_dest *dest,
			  const char *name, struct gw_err *err)
{
	const char *mt = NULL, **dl;
	char id[37], *body = NULL, vkey[PATH_MAX + 64];
	struct gw_profile *prof = NULL;
	struct gw_buf out;
	void *tree; /* the validated wire document (XML formats) */
	size_t k, len = 0;
	gw_rc rc;

	gw_dest_variant_key(dest, vkey, sizeof(vkey));
	/* a variant of this format already made: add the dest */
	for (k = 0; k < vs->n; k++)
		if (vs->of[k] == m->id &&
		    gw_format_wire_id(m->id, vkey, id) == 0 &&
		    strcmp(vs->ids[k], id) == 0)
			break;
	if (k < vs->n) {
		size_t c = 0;

		while (vs->v[k].dests[c])
			c++;
		dl = gw_realloc((void *)vs->v[k].dests, (c + 2) * sizeof(*dl));
		if (!dl)
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		dl[c] = name;
		dl[c + 1] = NULL;
		vs->v[k].dests = dl;
		return GW_OK;
	}
	if (!vs->fmt && (rc = gw_format_new(gw_schema_dir(), &vs->fmt, err)))
		return rc;
	if ((rc = dest_profile(vs, dest, &prof, err)))
		return rc;
	gw_buf_init(&out);
	tree = NULL;
	if ((rc = gw_format_to_wire_checked(vs->fmt, dest->format, prof, msg, 1,
					    &out, &tree, &mt, NULL, err))) {
		char why[GW_ERR_MSG_MAX];

		gw_buf_release(&out);
		snprintf(why, sizeof(why), "%s", err->msg);
		return gw_err_set(err, rc, "for '%s' (%s): %s", name,
				  dest->format, why);
	}
	body = gw_buf_detach(&out, &len);
	if (!key && tree) {
		xmlFreeDoc(tree);
		tree = NULL;
	}
	if (key) {
		struct gw_validated sv;
		char *signed_buf = NULL;
		size_t slen = 0;
		enum gw_msg_format f = gw_msg_detect(body, len);

		memset(&sv, 0, sizeof(sv));
		sv.format = f;
		sv.xml = tree; /* what the bytes parse to, or NULL */
		tree = NULL;
		if ((f == GW_FMT_XML && !sv.xml &&
		     (rc = gw_xml_parse(body, len, dest->format, &sv.xml,
					err))) ||
		    (rc = gw_sign_validated(key, xml_alg, jws_alg, &sv, body,
					    len, &signed_buf, &slen, err))) {
			gw_validated_release(&sv);
			free(body);
			return rc;
		}
		gw_validated_release(&sv);
		free(body);
		body = signed_buf;
		len = slen;
		if (f == GW_FMT_JSON)
			mt = "application/jose+json";
	}
	if (gw_format_wire_id(m->id, vkey, id)) {
		free(body);
		return gw_err_set(err, GW_ERR_INTERNAL, "cannot derive an id");
	}
	dl = gw_calloc(2, sizeof(*dl));
	if (!dl || variants_grow(vs) || !(vs->ids[vs->n] = gw_strdup(id))) {
		free(dl);
		free(body);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	dl[0] = name;
	vs->bodies[vs->n] = body;
	vs->of[vs->n] = m->id;
	vs->v[vs->n] = *m;
	vs->v[vs->n].id = vs->ids[vs->n];
	vs->v[vs->n].content_type = mt;
	vs->v[vs->n].body = body;
	vs->v[vs->n].len = len;
	vs->v[vs->n].dests = dl;
	vs->n++;
	return gw_content_digest(msg, vkey, vs->v[vs->n - 1].content_sha, err);
}

/*
 * Destinations that want a wire format (destinations: NAME: format:) get
 * their own outbox message: the canonical message converted by the format
 * adapter (output validated against the format's schema), signed like any
 * other message, under an id derived from the message id and the format
 * (the idempotency key stays the same when the message is sent again).
 * Those destinations are removed from m->dests; one variant per format
 * and profile (a destination's profile: renames the report packet's
 * fields for it, profile.h).
 */
gw_rc gw_split_formats(const struct gw_forwarding *fw,
		       const struct gw_sign_key *key, enum gw_sign_alg xml_alg,
		       enum gw_sign_alg jws_alg, struct gw_out_msg *m,
		       const json_t *msg, struct gw_variants *vs,
		       struct gw_err *err)
{
	const char **d = (const char **)m->dests;
	size_t i, j, keep = 0;
	gw_rc rc = GW_OK;

	for (i = 0; d && d[i]; i++) {
		const struct gw_dest *dest = NULL;

		for (j = 0; j < fw->ndests && !dest; j++)
			if (strcmp(fw->dests[j].name, d[i]) == 0)
				dest = &fw->dests[j];
		if (!dest || !dest->format)
			d[keep++] = d[i];
		else if (!rc) /* after a failure, only the list is finished */
			rc = make_variant(key, xml_alg, jws_alg, m, msg, vs,
					  dest, d[i], err);
	}
	if (d)
		d[keep] = NULL;
	return rc;
}
