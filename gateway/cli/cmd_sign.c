/*
 * cmd_sign.c - the "sign" and "verify" commands: read a message, tell XML
 * from JSON by its first character, and hand it to sign.c. Signed output
 * goes to standard output, diagnostics to standard error.
 */
#include "cli/cmd_sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "base/common.h"
#include "crypto/sign.h"
#include "base/xml.h"

#define SIGN_MAX_INPUT (64u * 1024 * 1024)

static const char SIGN_USAGE[] =
	"usage: lienthong sign --key KEY [--pass env:NAME|file:PATH] "
	"[--cert CERT]\n"
	"                      [--chain FILE] [--alg ALG] [--detached]\n"
	"                      [--format compact|flattened] FILE\n"
	"ALG: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA\n";
static const char VERIFY_USAGE[] =
	"usage: lienthong verify (--trust DIR | --key PUBLIC_KEY_PEM_OR_JWK) "
	"[--payload FILE]\n"
	"                        [--alg ALG[,ALG...]] FILE\n";

/* Match "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i. */
static int opt(int argc, char **argv, int *i, const char *name,
	       const char **val)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] || *i + 1 >= argc)
		return 0;
	*val = argv[++*i];
	return 1;
}

static int first_char(const char *s, size_t n)
{
	size_t i = 0;

	/* A UTF-8 byte order mark may precede XML. */
	if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	for (; i < n; i++)
		if (!strchr(" \t\r\n", s[i]))
			return (unsigned char)s[i];
	return -1;
}

int gw_cmd_sign(int argc, char **argv)
{
	const char *key = NULL, *cert = NULL, *chain = NULL, *alg_s = NULL,
		   *pass = NULL, *format = NULL, *file = NULL;
	struct gw_sign_key *k = NULL;
	struct gw_err err;
	struct gw_buf out;
	xmlDocPtr doc = NULL;
	xmlChar *mem = NULL;
	char *buf = NULL;
	size_t len = 0;
	unsigned flags = 0;
	int i, alg = GW_SIGN_ALG_DEFAULT, c, size = 0;
	gw_rc rc = GW_OK;

	gw_err_clear(&err);
	gw_buf_init(&out);
	for (i = 1; i < argc; i++) {
		if (opt(argc, argv, &i, "--key", &key) ||
		    opt(argc, argv, &i, "--cert", &cert) ||
		    opt(argc, argv, &i, "--chain", &chain) ||
		    opt(argc, argv, &i, "--alg", &alg_s) ||
		    opt(argc, argv, &i, "--pass", &pass) ||
		    opt(argc, argv, &i, "--format", &format))
			continue;
		if (strcmp(argv[i], "--detached") == 0)
			flags |= GW_SIGN_DETACHED;
		else if (strcmp(argv[i], "-h") == 0 ||
			 strcmp(argv[i], "--help") == 0) {
			fputs(SIGN_USAGE, stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "sign: unknown option '%s'\n%s",
				argv[i], SIGN_USAGE);
			return 2;
		} else if (file) {
			fprintf(stderr, "sign: one FILE only\n%s", SIGN_USAGE);
			return 2;
		} else
			file = argv[i];
	}
	if (!key || !file) {
		fprintf(stderr, "sign: %s is required\n%s",
			!key ? "--key" : "FILE", SIGN_USAGE);
		return 2;
	}
	if (alg_s && (alg = gw_sign_alg_parse(alg_s)) < 0) {
		fprintf(stderr, "sign: unknown algorithm '%s'\n%s", alg_s,
			SIGN_USAGE);
		return 2;
	}
	if (format && strcmp(format, "compact") &&
	    strcmp(format, "flattened")) {
		fprintf(stderr, "sign: unknown format '%s'\n%s", format,
			SIGN_USAGE);
		return 2;
	}
	if (format && strcmp(format, "flattened") == 0)
		flags |= GW_SIGN_FLATTENED;
	gw_xml_init();
	if ((rc = gw_sign_init(&err)))
		goto out;
	if ((rc = gw_read_file(file, SIGN_MAX_INPUT, &buf, &len, &err)))
		goto out;
	if ((rc = gw_sign_key_load(key, pass, cert, chain, &k, &err)))
		goto out;
	c = first_char(buf, len);
	if (c == '<') {
		if (flags || format) {
			rc = gw_err_set(&err, GW_ERR_USAGE,
					"--detached and --format are for json "
					"messages only");
			goto out;
		}
		if ((rc = gw_xml_parse(buf, len, file, &doc, &err)) ||
		    (rc = gw_sign_xml(k, (enum gw_sign_alg)alg, doc, &err)))
			goto out;
		xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
		if (!mem) {
			rc = gw_err_set(&err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		fwrite(mem, 1, (size_t)size, stdout);
	} else if (c == '{' || c == '[') {
		if ((rc = gw_sign_json(k, (enum gw_sign_alg)alg, buf, len,
				       flags, &out, &err)))
			goto out;
		fwrite(out.data, 1, out.len, stdout);
		fputc('\n', stdout);
	} else {
		rc = gw_err_set(&err, GW_ERR_PARSE,
				"'%s' is neither xml nor json", file);
		goto out;
	}
	if (fflush(stdout) != 0)
		rc = gw_err_set(&err, GW_ERR_IO, "cannot write the output");
out:
	if (rc)
		fprintf(stderr, "sign: '%s': %s\n", file, err.msg);
	xmlFree(mem);
	xmlFreeDoc(doc);
	gw_sign_key_free(k);
	gw_buf_release(&out);
	free(buf);
	gw_sign_shutdown();
	return gw_rc_exit(rc);
}

int gw_cmd_verify(int argc, char **argv)
{
	const char *trust = NULL, *key = NULL, *payload = NULL, *file = NULL,
		   *allow = NULL;
	const char *names[GW_SIGN_ALG_OTHER + 1];
	char *list = NULL, *save = NULL, *tok;
	size_t n = 0;
	struct gw_sign_verifier *v = NULL;
	struct gw_sign_result res;
	struct gw_err err;
	xmlDocPtr doc = NULL;
	char *buf = NULL, *pbuf = NULL;
	size_t len = 0, plen = 0;
	gw_rc rc = GW_OK;
	int i;

	gw_err_clear(&err);
	memset(&res, 0, sizeof(res));
	for (i = 1; i < argc; i++) {
		if (opt(argc, argv, &i, "--trust", &trust) ||
		    opt(argc, argv, &i, "--key", &key) ||
		    opt(argc, argv, &i, "--payload", &payload) ||
		    opt(argc, argv, &i, "--alg", &allow))
			continue;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			fputs(VERIFY_USAGE, stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "verify: unknown option '%s'\n%s",
				argv[i], VERIFY_USAGE);
			return 2;
		} else if (file) {
			fprintf(stderr, "verify: one FILE only\n%s",
				VERIFY_USAGE);
			return 2;
		} else
			file = argv[i];
	}
	if (!file || !trust == !key) {
		fprintf(stderr, "verify: %s\n%s",
			!file ? "FILE is required"
			      : "give exactly one of --trust and --key",
			VERIFY_USAGE);
		return 2;
	}
	gw_xml_init();
	if ((rc = gw_sign_init(&err)))
		goto out;
	if ((rc = gw_read_file(file, SIGN_MAX_INPUT, &buf, &len, &err)))
		goto out;
	if (payload &&
	    (rc = gw_read_file(payload, SIGN_MAX_INPUT, &pbuf, &plen, &err)))
		goto out;
	if (trust)
		rc = gw_sign_verifier_trust(trust, &v, &err);
	else
		rc = gw_sign_verifier_key(key, &v, &err);
	if (rc)
		goto out;
	/* --alg A,B,...: the verifier's allow-list */
	if (allow) {
		if (!(list = gw_strdup(allow))) {
			rc = gw_err_set(&err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (tok = strtok_r(list, ",", &save);
		     tok && n < GW_ARRAY_LEN(names) - 1;
		     tok = strtok_r(NULL, ",", &save))
			names[n++] = tok;
		names[n] = NULL;
		if ((rc = gw_sign_verifier_allow(v, names, &err)))
			goto out;
	}
	if (first_char(buf, len) == '<') {
		if (payload) {
			rc = gw_err_set(&err, GW_ERR_USAGE,
					"--payload is for detached jws only");
			goto out;
		}
		if ((rc = gw_xml_parse(buf, len, file, &doc, &err)))
			goto out;
		rc = gw_sign_verify_xml(v, doc, 0, &res, &err);
	} else {
		rc = gw_sign_verify_jws(v, buf, len, pbuf, plen, 0, &res, NULL,
					&err);
	}
	if (rc == GW_OK)
		printf("%s\n", res.subject);
out:
	if (rc)
		fprintf(stderr, "verify: '%s': %s\n", file, err.msg);
	xmlFreeDoc(doc);
	gw_sign_verifier_free(v);
	free(list);
	free(buf);
	free(pbuf);
	gw_sign_shutdown();
	return gw_rc_exit(rc);
}
