/*
 * partners.c - partner policy: the partners: section of the configuration
 * read into struct gw_partners, the partner of a client certificate, and
 * the checks of what a partner may send (kind, sender, receivers, signer).
 * Used by the receive pipeline (flow/receive.c) for every POST.
 */
#include "flow/partners.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Partners                                                            */

void gw_partners_strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A NULL-terminated copy of the strings of a JSON array (may be NULL). */
char **gw_partners_strv_from_json(const json_t *arr)
{
	size_t i, n = json_is_array(arr) ? json_array_size(arr) : 0;
	char **v = gw_calloc(n + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));

		if (!(v[i] = gw_strdup(s ? s : ""))) {
			gw_partners_strv_free(v);
			return NULL;
		}
	}
	return v;
}

static int strv_has(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return 1;
	return 0;
}

void gw_partners_release(struct gw_partners *p)
{
	size_t i;

	for (i = 0; p && i < p->n; i++) {
		struct gw_partner *pt = &p->v[i];

		free(pt->name);
		free(pt->subject);
		free(pt->org_id);
		gw_partners_strv_free(pt->kinds);
		gw_partners_strv_free(pt->receivers);
		gw_partners_strv_free(pt->signers);
	}
	if (p) {
		free(p->v);
		p->v = NULL;
		p->n = 0;
	}
}

gw_rc gw_partners_load(const json_t *arr, struct gw_partners *p,
		       struct gw_err *err)
{
	size_t i, j, n = json_is_array(arr) ? json_array_size(arr) : 0;
	gw_rc rc = GW_OK;

	p->v = NULL;
	p->n = 0;
	if (!n)
		return GW_OK;
	if (!(p->v = gw_calloc(n, sizeof(*p->v))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		const json_t *o = json_array_get(arr, i);
		struct gw_partner *pt = &p->v[i];
		const char *name =
			json_string_value(json_object_get(o, "name"));
		const char *subj =
			json_string_value(json_object_get(o, "subject"));
		const char *fp =
			json_string_value(json_object_get(o, "sha256"));
		const char *org =
			json_string_value(json_object_get(o, "orgId"));

		p->n++;
		if (!name || !org || (!subj && !fp)) {
			rc = gw_err_set(
				err, GW_ERR_CONFIG,
				"/partners/%zu: name, orgId and subject "
				"or sha256 are required",
				i);
			goto out;
		}
		pt->name = gw_strdup(name);
		pt->org_id = gw_strdup(org);
		pt->subject = subj ? gw_strdup(subj) : NULL;
		pt->kinds =
			gw_partners_strv_from_json(json_object_get(o, "kinds"));
		pt->receivers = gw_partners_strv_from_json(
			json_object_get(o, "receivers"));
		pt->signers = gw_partners_strv_from_json(
			json_object_get(o, "signers"));
		pt->unsigned_wire = json_is_false(json_object_get(o, "signed"));
		if (!pt->name || !pt->org_id || (subj && !pt->subject) ||
		    !pt->kinds || !pt->receivers || !pt->signers) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (fp && gw_partners_fingerprint_norm(fp, pt->sha256)) {
			rc = gw_err_set(err, GW_ERR_CONFIG,
					"/partners/%zu/sha256: '%s' is not a "
					"SHA-256 fingerprint (64 hex digits, "
					"colons allowed)",
					i, fp);
			goto out;
		}
		for (j = 0; j < i; j++) {
			const struct gw_partner *q = &p->v[j];
			const char *what = !strcmp(q->name, pt->name) ? "name"
					   : (q->subject && pt->subject &&
					      !strcmp(q->subject, pt->subject))
						   ? "subject"
					   : (pt->sha256[0] &&
					      !strcmp(q->sha256, pt->sha256))
						   ? "sha256"
						   : NULL;

			if (what) {
				rc = gw_err_set(err, GW_ERR_CONFIG,
						"/partners/%zu/%s: same as "
						"partner '%s' (each partner "
						"needs its own identity)",
						i, what, q->name);
				goto out;
			}
		}
	}
out:
	if (rc)
		gw_partners_release(p);
	return rc;
}

const struct gw_partner *gw_partners_match(const struct gw_partners *p,
					   const char *subject,
					   const char *sha256)
{
	size_t i;

	if (sha256 && *sha256)
		for (i = 0; i < p->n; i++)
			if (p->v[i].sha256[0] &&
			    strcmp(p->v[i].sha256, sha256) == 0)
				return &p->v[i];
	if (subject && *subject)
		for (i = 0; i < p->n; i++)
			if (p->v[i].subject &&
			    strcmp(p->v[i].subject, subject) == 0)
				return &p->v[i];
	return NULL;
}

int gw_partner_allows(const struct gw_partner *pt, const char *kind,
		      const char *sender_org, const json_t *receivers,
		      char *why, size_t whysize)
{
	size_t i;

	if (!sender_org || strcmp(sender_org, pt->org_id)) {
		snprintf(why, whysize,
			 "partner '%s' is organization '%s' but the message's "
			 "sender is '%s'",
			 pt->name, pt->org_id, sender_org ? sender_org : "");
		return 0;
	}
	if (!kind || !strv_has(pt->kinds, kind)) {
		snprintf(why, whysize,
			 "partner '%s' may not send '%s' messages (allowed "
			 "kinds are in its partners: entry)",
			 pt->name, kind ? kind : "");
		return 0;
	}
	if (strv_has(pt->receivers, "*"))
		return 1;
	for (i = 0; i < json_array_size(receivers); i++) {
		const char *org = json_string_value(
			json_object_get(json_array_get(receivers, i), "orgId"));

		if (!org || !strv_has(pt->receivers, org)) {
			snprintf(why, whysize,
				 "partner '%s' may not send to receiver '%s'",
				 pt->name, org ? org : "");
			return 0;
		}
	}
	return 1;
}

int gw_partner_signer_ok(const struct gw_partner *pt, const char *peer_subject,
			 const char *signer)
{
	if (!signer || !*signer)
		return 0;
	return (pt->subject && !strcmp(pt->subject, signer)) ||
	       (peer_subject && !strcmp(peer_subject, signer)) ||
	       strv_has(pt->signers, signer);
}

/* ------------------------------------------------------------------ */
/* Limits and problems                                                 */

int gw_partners_fingerprint_norm(const char *in, char out[65])
{
	size_t n = 0;

	for (; *in; in++) {
		char c = *in;

		if (c == ':')
			continue;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) ||
		    n == 64)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return n == 64 ? 0 : -1;
}
