/*
 * server.h - the inbound HTTPS server (lienthong serve): partner agencies
 * and other gateways POST signed messages over mutual TLS; the server
 * identifies the partner by its client certificate, checks what it may
 * send, verifies the signature, validates, deduplicates by message id,
 * stores the message durably in the inbox, delivers it to the internal
 * drop folder (and onward through the outbox routes), and answers with a
 * signed receipt binding the SHA-256 of the bytes received. Errors are
 * RFC 9457 problem bodies (JSON, or XML for XML requests).
 *
 * The API is described in schemas/openapi.yaml and docs/SERVER.md. The
 * pieces that need no socket (partner registry, limits, problem bodies)
 * are exported for the unit tests.
 */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

#include "base/common.h"
#include "model/config.h"

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
void gw_partners_release(struct gw_partners *p);

/* The partner whose fingerprint (lowercase hex, may be "") or subject
 * matches a client certificate (fingerprint first), or NULL. */
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

/* The limits of the server: section, defaults filled in. */
struct gw_server_limits {
	size_t max_body;
	size_t max_header;
	int max_connections;
	int timeout_s;
};

gw_rc gw_server_limits_parse(const json_t *server, struct gw_server_limits *l,
			     struct gw_err *err);

/* 1 when host is a loopback address ("127.x.y.z", "::1", "localhost"). */
int gw_server_is_loopback(const char *host);

/*
 * Append an RFC 9457 problem body to out: JSON (application/problem+json)
 * or, with xml, the same members as an XML document in the
 * urn:ietf:rfc:7807 namespace (application/problem+xml). type is a short
 * name turned into a URI under urn:lienthong:problem:, detail and
 * instance may be NULL; errors (may be NULL) is an array of strings added
 * as "errors".
 */
gw_rc gw_problem_render(int status, const char *type, const char *title,
			const char *detail, const char *instance,
			const json_t *errors, int xml, struct gw_buf *out);

/*
 * A wire format that POST /v1/messages accepts besides canonical JSON and
 * XML (edXML, SDMX-ML, ...), chosen by the request's media type. The body
 * is an XML document signed with an enveloped XML-DSig over the wire form:
 * the server parses it with the safe parser and verifies the signature
 * (and that the signer is the partner) first, then decode turns the wire
 * bytes into a new canonical message (*msg, a new reference; with
 * gateway/format.h: gw_format_from_wire), which is validated, checked
 * against the partner's rights, stored (the wire bytes, as received) and
 * answered with an XML receipt. decode returns GW_OK, GW_ERR_PARSE (400)
 * or another code (422).
 */
struct gw_server_format {
	const char *media_type; /* "application/edxml+xml" */
	const char *name;	/* "edXML" */
	gw_rc (*decode)(const char *body, size_t len, json_t **msg,
			struct gw_err *err);
};

/* Register a format (borrowed; must outlive the server). Formats named
 * here without a decoder answer 415 with "no adapter loaded". At most 16. */
gw_rc gw_server_format_register(const struct gw_server_format *f,
				struct gw_err *err);

/* The registered format for a media type (lowercase, no parameters;
 * compared without case), or NULL. */
const struct gw_server_format *gw_server_format_find(const char *media_type);

/*
 * Run the server of the configuration at conf_path until *stop or SIGTERM:
 * listen, serve, and (with deliver) drain the outbox in a second thread.
 * With check_only, load and check everything (certificates, keys, trust
 * store, partners, routes, schemas, inbox) and return without listening.
 * SIGHUP reloads partners and routes. Problems with the configuration are
 * GW_ERR_CONFIG, with files or sockets GW_ERR_IO.
 */
gw_rc gw_server_run(const char *conf_path, int check_only, int deliver,
		    struct gw_err *err);

#endif
