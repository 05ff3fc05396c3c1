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
 * pieces that need no socket (limits, problem bodies; the partner
 * registry of flow/partners.h) are exported for the unit tests.
 */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

#include "base/common.h"
#include "flow/partners.h"
#include "flow/receive_formats.h"
#include "model/config.h"

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

/* Wire formats (struct gw_server_format, gw_server_format_register,
 * gw_server_format_find): flow/receive_formats.h. Partners:
 * flow/partners.h. */

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
