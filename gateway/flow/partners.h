/*
 * partners.h - partner policy of the inbound server: the partners of the
 * configuration's partners: section, identified by their client
 * certificate (fingerprint or subject), and what each may send: which
 * kinds of message, as which sender, to which receivers, signed by whom.
 * No socket, no store: pure checks on configuration data.
 */
#ifndef GW_PARTNERS_H
#define GW_PARTNERS_H

#include <jansson.h>
#include <stddef.h>

#include "base/common.h"

/* One partner of the configuration's partners: section. */
struct gw_partner {
	char *name;
	char *subject;	 /* RFC 2253 subject of its certificate, or NULL */
	char sha256[65]; /* normalized certificate fingerprint, or "" */
	char *org_id;
	char **kinds;	   /* NULL-terminated */
	char **receivers;  /* NULL-terminated; "*" is any */
	char **signers;	   /* other signer subjects allowed; NULL-terminated */
	int unsigned_wire; /* signed: false - wire formats (edXML, SDMX-ML)
			      without an XML-DSig are accepted on the
			      strength of the client certificate */
};

struct gw_partners {
	struct gw_partner *v;
	size_t n;
};

/* Read the partners: array (borrowed, may be NULL: no partner). Two
 * partners with the same name, subject or fingerprint are GW_ERR_CONFIG. */
gw_rc gw_partners_load(const json_t *arr, struct gw_partners *p,
		       struct gw_err *err);
/* Frees what gw_partners_load filled in; p itself is the caller's. */
void gw_partners_release(struct gw_partners *p);

/* The partner whose fingerprint (lowercase hex, may be "") or subject
 * matches a client certificate (fingerprint first), or NULL (borrowed
 * from p). */
const struct gw_partner *gw_partners_match(const struct gw_partners *p,
					   const char *subject,
					   const char *sha256);

/* May partner pt send a message of kind to receivers (a JSON array of
 * {orgId, ...}, borrowed) as sender_org? Returns 1, or 0 with the reason
 * in why. */
int gw_partner_allows(const struct gw_partner *pt, const char *kind,
		      const char *sender_org, const json_t *receivers,
		      char *why, size_t whysize);

/* May a message signed by signer (RFC 2253) come from pt, whose client
 * certificate is peer_subject? The partner's own subject, the client
 * certificate's subject and the partner's signers are accepted. */
int gw_partner_signer_ok(const struct gw_partner *pt, const char *peer_subject,
			 const char *signer);

/* A new NULL-terminated copy of the strings of a JSON array (borrowed,
 * may be NULL: an empty list), freed with gw_partners_strv_free; NULL
 * when out of memory. Also reads server.webhooks. */
char **gw_partners_strv_from_json(const json_t *arr);
/* Accepts NULL. */
void gw_partners_strv_free(char **v);

/* Normalize a fingerprint written "AB:CD:..." or "abcd..." into 64
 * lowercase hex digits in out; returns 0, or -1 when it is not a SHA-256
 * fingerprint. */
int gw_partners_fingerprint_norm(const char *in, char out[65]);

#endif
