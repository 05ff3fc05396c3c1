/*
 * cli.c - the lienthong command line.
 *
 * A table of commands, each with its usage text and a function taking
 * (argc, argv) with argv[0] the command name and returning the exit code.
 * Exit codes are shared: 0 success, 1 invalid or refused input, 2 usage
 * error, 3 I/O or internal error. Errors go to standard error as one line
 * each, naming the file, the location and the reason.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_audit.h"
#include "cli/cmd_calendar.h"
#include "cli/cmd_import.h"
#include "cli/cmd_queue.h"
#include "cli/cmd_serve.h"
#include "cli/cmd_sign.h"
#include "base/common.h"
#include "model/config.h"
#include "adapt/format.h"
#include "base/log.h"
#include "model/message.h"
#include "adapt/profile.h"
#include "model/validate.h"
#include "base/xml.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage;
};

static int cmd_validate(int argc, char **argv);
static int cmd_convert(int argc, char **argv);
static int cmd_config(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{ "validate", cmd_validate, "validate messages against their schemas",
	  "usage: lienthong validate [--schema FILE] [--ref-dir "
	  "URI_PREFIX=DIR]...\n"
	  "                          [--format-assert] FILE...\n"
	  "\n"
	  "Detects XML or JSON and the message kind, validates against the\n"
	  "matching schema of schemas/ and the business rules. --schema FILE\n"
	  "validates against that XSD (.xsd) or JSON Schema instead. '-' "
	  "reads\n"
	  "standard input. Each problem is one line on stderr:\n"
	  "  FILE:LINE: reason            (XML)\n"
	  "  FILE: /json/pointer: reason  (JSON)\n"
	  "Exit: 0 all valid, 1 some invalid or refused, 2 usage, 3 I/O or an\n"
	  "invalid schema.\n" },
	{ "convert", cmd_convert,
	  "convert a message between its canonical forms and wire formats",
	  "usage: lienthong convert --to json|xml FILE\n"
	  "       lienthong convert --to "
	  "edxml|sdmx-ml|sdmx-json|report-packet[-json] "
	  "FILE\n"
	  "       lienthong convert --from edxml|sdmx-ml|sdmx-json|"
	  "report-packet[-json]\n"
	  "                         --to json|xml FILE\n"
	  "       lienthong convert --to report-packet[-json] --profile "
	  "PROFILE FILE\n"
	  "       lienthong convert --from report-packet[-json] --profile "
	  "PROFILE\n"
	  "                         --to json|xml FILE\n"
	  "\n"
	  "Validates FILE (a canonical message, or with --from a message in "
	  "that\n"
	  "wire format, checked against its schema), writes it in the --to "
	  "form\n"
	  "to stdout and validates that too before writing. Between json and "
	  "xml\n"
	  "the conversion is lossless; docs/FORMATS.md says what each wire "
	  "format\n"
	  "carries. SDMX needs the official SDMX schemas: set "
	  "LIENTHONG_SDMX_DIR.\n"
	  "--profile renames the report packet's fields as a receiving "
	  "system\n"
	  "names them (a YAML profile mapping, conf/profiles/); the packet "
	  "is\n"
	  "validated under our names (docs/FORMATS.md).\n" },
	{ "calendar", gw_cmd_calendar,
	  "the reporting calendar: what is due, late, sent, delivered",
	  "usage: lienthong calendar -c CONF [--on DATE] [--plan PATH]...\n"
	  "                          [--format table|json|csv|ics] COMMAND\n"
	  "  due [--week|--month|--days N] [--unit UNIT] [--to RECEIVER]\n"
	  "  late [--since DATE] [--unit UNIT] [--to RECEIVER]\n"
	  "  show OBLIGATION\n"
	  "  conflicts\n"
	  "  remind\n"
	  "\n"
	  "The obligations of the configuration (obligations: list, the files\n"
	  "it includes, imported plans and --plan: each task with a deadline "
	  "is\n"
	  "a task obligation) with their status per period from the outbox:\n"
	  "not-due, due-soon, sent, delivered (every receiver's receipt\n"
	  "verified), late, missing, ad-hoc. due: deadlines this month "
	  "(--week,\n"
	  "--days N from today); late: the last 90 days (--since); --on sets\n"
	  "today. remind runs the configured command once per obligation,\n"
	  "period and stage (due-soon, late). docs/CALENDAR.md.\n" },
	{ "import", gw_cmd_import,
	  "turn internal records into canonical messages (adapters)",
	  "usage: lienthong import --adapter csv|sqlite|plan-tables\n"
	  "                        [--mapping FILE] [-o DIR]\n"
	  "                        [--sender ORGID=NAME]\n"
	  "                        [--receiver ORGID=NAME]...\n"
	  "                        [--deterministic]\n"
	  "                        [--classification public|internal]\n"
	  "                        [--adapter-dir DIR] INPUT\n"
	  "\n"
	  "Runs the source adapter over INPUT and writes each canonical\n"
	  "message, validated, as one JSON line on stdout (or one file per\n"
	  "message in DIR). Rows that could not be mapped are listed on\n"
	  "stderr with FILE:LINE and the reason. csv and sqlite read their\n"
	  "rows through a mapping file (docs/ADAPTERS.md). --deterministic\n"
	  "derives ids from the record key (document number and task path),\n"
	  "so re-imports are idempotent.\n" },
	{ "sign", gw_cmd_sign, "sign a message (XML-DSig or JWS)",
	  "usage: lienthong sign --key KEY --cert CERT [--chain FILE] [--alg "
	  "ALG]\n"
	  "                      [--pass env:NAME|file:PATH] [--detached]\n"
	  "                      [--format compact|flattened] FILE\n"
	  "\n"
	  "Writes the signed message to stdout: an enveloped XML-DSig for "
	  "XML,\n"
	  "a JWS over the RFC 8785 canonical form for JSON. ALG (JOSE names,\n"
	  "for both): RS256, RS384, RS512 (RSA PKCS#1 v1.5), PS256, PS384,\n"
	  "PS512 (RSA-PSS), ES256, ES384, ES512 (ECDSA on P-256, P-384,\n"
	  "P-521), EdDSA (Ed25519); in XML rsa-shaNNN, shaNNN-rsa-MGF1,\n"
	  "ecdsa-shaNNN, eddsa-ed25519. Default: from the key (RS256, ESnnn\n"
	  "by curve, EdDSA). KEY is a PEM file or a pkcs11: URI.\n" },
	{ "verify", gw_cmd_verify,
	  "verify a signed message against a trust store",
	  "usage: lienthong verify (--trust DIR | --key "
	  "PUBLIC_KEY_PEM_OR_JWK)\n"
	  "                        [--payload FILE] [--alg ALG[,ALG...]] FILE\n"
	  "\n"
	  "Prints the signer and exits 0, or exits 1 with the reason: bad "
	  "digest,\n"
	  "bad signature, untrusted, expired, revoked, wrapped, unsupported\n"
	  "algorithm. --alg allows only the algorithms named (JOSE names, as\n"
	  "trust: algorithms in the configuration); a trust store allows by\n"
	  "default RS256/384/512, PS256/384/512, ES256/384/512 and EdDSA.\n" },
	{ "send", gw_cmd_send, "validate, route and durably enqueue messages",
	  "usage: lienthong send -c CONF FILE...\n"
	  "\n"
	  "Validates each file, routes it by kind, sender, receivers and\n"
	  "classification (routes: in CONF) and enqueues all of them in one\n"
	  "durable transaction; then prints each message id and its\n"
	  "destinations. A message sent again with the same bytes is not "
	  "queued\n"
	  "twice; the same id with other bytes is refused.\n" },
	{ "deliver", gw_cmd_deliver, "drain the outbox to the destinations",
	  "usage: lienthong deliver -c CONF [--once] [--linger-ms N]\n"
	  "                         [--max-inflight N]\n"
	  "\n"
	  "Sends due deliveries (up to N at once, default 64) over HTTPS with\n"
	  "mutual TLS or the X-Road REST protocol, the message id as the\n"
	  "idempotency key; retries 408, 429, 5xx and network errors with\n"
	  "exponential backoff and jitter; dead-letters other 4xx. Runs until\n"
	  "SIGTERM, or with --once until idle for --linger-ms.\n" },
	{ "sync", gw_cmd_sync,
	  "send what is new or changed in the configured sources",
	  "usage: lienthong sync -c CONF [--every SECONDS | --cron EXPR |\n"
	  "                      --scheduled] [SOURCE]\n"
	  "\n"
	  "For each source (or only SOURCE) of CONF's sources: section, sends\n"
	  "the message files that are new or whose bytes changed since the\n"
	  "last run (change detection by file name and SHA-256), and nothing\n"
	  "else, so it can run every few minutes and stay idempotent. With\n"
	  "--every it runs again every SECONDS until SIGTERM.\n"
	  "csv and sqlite sources send the records (mapping key) whose\n"
	  "content changed. --cron 'M H DOM MON DOW' runs at those times;\n"
	  "--scheduled runs each source by its every_s or cron\n"
	  "(docs/SYNC.md).\n" },
	{ "queue", gw_cmd_queue, "inspect and act on the outbox",
	  "usage: lienthong queue -c CONF ls [pending|done|dead]\n"
	  "       lienthong queue -c CONF show|retry|drop ID\n" },
	{ "audit", gw_cmd_audit,
	  "verify the audit log, export and check Merkle proofs",
	  "usage: lienthong audit verify -c CONF [--trust DIR | --key PUBKEY]\n"
	  "                              [--require-signed]\n"
	  "       lienthong audit prove -c CONF ID [-o FILE]\n"
	  "       lienthong audit checkpoint -c CONF [--get SEQ|latest] "
	  "[-o FILE]\n"
	  "                                  [--note ED25519-KEY [--origin "
	  "N]]\n"
	  "       lienthong audit verify-note NOTE --vkey NAME+HASH+KEY\n"
	  "       lienthong audit consistency -c CONF [--from SEQ] [--to SEQ]\n"
	  "                                   [-o FILE]\n"
	  "       lienthong audit verify-proof PROOF [--checkpoint FILE]\n"
	  "                                   (--trust DIR | --key PUBKEY)\n"
	  "                                   [--origin NAME] [--signer S]\n"
	  "       lienthong audit verify-consistency PROOF [--from FILE] "
	  "[--to FILE]\n"
	  "                                   (--trust DIR | --key PUBKEY)\n"
	  "                                   [--origin NAME] [--signer S]\n"
	  "       lienthong audit ls -c CONF [--since T] [--until T] "
	  "[--partner ORG]\n"
	  "                          [--kind K] [--outcome O]\n"
	  "                          [--format table|json|csv]\n"
	  "       lienthong audit show -c CONF ID\n"
	  "\n"
	  "Every step of every message (refused, validated, signed, queued,\n"
	  "each delivery attempt, delivered, receipt, dead-lettered, operator\n"
	  "retry and drop) is an entry of an RFC 9162 Merkle tree kept in the\n"
	  "store of CONF's audit: section, with checkpoints signed by the\n"
	  "gateway's key. verify checks every entry and checkpoint and names\n"
	  "the first bad one; prove exports the inclusion proof of a "
	  "message's\n"
	  "entries; verify-proof checks it with only the checkpoint and the\n"
	  "signer's trust store or key (docs/AUDIT.md). checkpoint --note\n"
	  "writes a checkpoint as a C2SP signed note (Ed25519) that tools\n"
	  "that are not ours verify; verify-note checks one. T is 2026-11-29,\n"
	  "2026-11-29T14:00:00Z or milliseconds since 1970.\n" },
	{ "config", cmd_config, "check a configuration file",
	  "usage: lienthong config check FILE\n"
	  "\n"
	  "Reads the YAML configuration, validates it against\n"
	  "schemas/config.schema.json and reports each problem as\n"
	  "FILE:LINE: key: reason.\n" },
	{ "serve", gw_cmd_serve,
	  "receive messages over mutual TLS and drain the outbox",
	  "usage: lienthong serve -c CONF [--check] [--no-deliver]\n"
	  "\n"
	  "Runs the inbound HTTPS server of CONF's server: section (mutual\n"
	  "TLS; partners: say who may send what): POST /v1/messages verifies,\n"
	  "validates, deduplicates, stores durably, drops into the internal\n"
	  "folder and answers a signed receipt; GET /v1/messages/ID/receipt,\n"
	  "/healthz, /readyz, /metrics. Also drains the outbox unless\n"
	  "--no-deliver. SIGHUP reloads partners and routes; SIGTERM drains\n"
	  "the requests in flight and exits. --check validates CONF, keys,\n"
	  "certificates and trust store, then exits.\n" },
	{ "help", cmd_help, "show help for a command",
	  "usage: lienthong help [COMMAND]\n" },
};

static const struct command *find(const char *name)
{
	size_t i;

	for (i = 0; i < GW_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage_all(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: lienthong [--log FILE] [--log-level LEVEL] COMMAND "
		"[ARGS]\n"
		"\n"
		"Lienthong %s: a data-exchange gateway for plan, task and\n"
		"indicator messages.\n"
		"\n"
		"Commands:\n",
		GW_VERSION);
	for (i = 0; i < GW_ARRAY_LEN(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out,
		"\n"
		"'lienthong help COMMAND' shows a command's options.\n"
		"Exit codes: 0 success, 1 invalid or refused input, 2 usage\n"
		"error, 3 I/O or internal error.\n");
}

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "lienthong %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see 'lienthong help %s')\n", cmd);
	return 2;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage_all(stdout);
		return 0;
	}
	c = find(argv[1]);
	if (!c)
		return usage_error("help", "unknown command '%s'", argv[1]);
	fputs(c->usage, stdout);
	return 0;
}

static void print_line(void *arg, gw_rc rc, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

static int worst(int a, int b)
{
	/* 3 (I/O) outranks 1 (invalid): a run that could not read a file
	 * must not look like one that merely found invalid data */
	return a > b ? a : b;
}

static const char *id_of(const struct gw_validated *r)
{
	return r->json ? json_string_value(json_object_get(r->json, "id"))
		       : NULL;
}

static int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "schema", required_argument, NULL, 's' },
		{ "ref-dir", required_argument, NULL, 'r' },
		{ "format-assert", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *schema = NULL;
	char **refs = NULL;
	int nrefs = 0, c, i, status = 0;
	unsigned flags = 0;
	struct gw_validator *v = NULL;
	struct gw_err err;

	gw_err_clear(&err);
	refs = calloc((size_t)argc, sizeof(*refs));
	if (!refs)
		return 3;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+s:r:fh", opts, NULL)) != -1) {
		switch (c) {
		case 's': schema = optarg; break;
		case 'r':
			if (!strchr(optarg, '=')) {
				free(refs);
				return usage_error(
					"validate",
					"--ref-dir wants URI_PREFIX=DIR, "
					"not '%s'",
					optarg);
			}
			refs[nrefs++] = optarg;
			break;
		case 'f': flags |= GW_VAL_FORMAT_ASSERT; break;
		case 'h':
			free(refs);
			fputs(find("validate")->usage, stdout);
			return 0;
		default:
			free(refs);
			return usage_error("validate", "%s", "bad option");
		}
	}
	if (optind >= argc) {
		free(refs);
		return usage_error("validate", "%s", "no FILE given");
	}
	if (gw_validator_new(gw_schema_dir(), flags, &v, &err)) {
		fprintf(stderr, "lienthong validate: %s\n", err.msg);
		free(refs);
		return 3;
	}
	for (i = 0; i < nrefs; i++) {
		char *eq = strchr(refs[i], '=');

		*eq = '\0';
		if (gw_validator_map(v, refs[i], eq + 1, &err)) {
			fprintf(stderr, "lienthong validate: %s\n", err.msg);
			status = 3;
			goto out;
		}
	}
	if (schema && gw_validator_use_schema(v, schema, &err)) {
		fprintf(stderr, "lienthong validate: %s\n", err.msg);
		status = 3;
		goto out;
	}
	for (i = optind; i < argc; i++) {
		const char *name = strcmp(argv[i], "-") ? argv[i] : "<stdin>";
		struct gw_validated res;
		char *buf = NULL;
		size_t len;
		gw_rc rc;

		gw_err_clear(&err);
		if ((rc = gw_read_file(argv[i], GW_JSON_MAX_SIZE_CLI, &buf,
				       &len, &err))) {
			fprintf(stderr, "%s\n", err.msg);
			gw_log(GW_LOG_WARN, "unreadable", NULL, "%s", err.msg);
			status = worst(status, gw_rc_exit(rc));
			continue;
		}
		rc = gw_validate_buffer(v, name, buf, len, print_line, NULL,
					&res, &err);
		if (rc == GW_OK) {
			printf("%s: valid %s (%s)\n", name,
			       gw_msg_kind_name(res.kind)
				       ? gw_msg_kind_name(res.kind)
				       : "document",
			       res.format == GW_FMT_XML ? "XML" : "JSON");
			gw_log(GW_LOG_INFO, "validated", id_of(&res),
			       "%s: valid", name);
		} else {
			gw_log(GW_LOG_WARN,
			       rc == GW_ERR_REFUSED ? "refused" : "invalid",
			       id_of(&res), "%s", err.msg);
		}
		status = worst(status, gw_rc_exit(rc));
		gw_validated_release(&res);
		free(buf);
	}
out:
	gw_validator_free(v);
	free(refs);
	return status;
}

/* Write the canonical message msg as json or xml to out, validated. */
static gw_rc canonical_out(struct gw_validator *v, const json_t *msg,
			   const char *to, struct gw_buf *out,
			   struct gw_err *err)
{
	struct gw_validated back;
	xmlDocPtr doc = NULL;
	gw_rc rc;

	memset(&back, 0, sizeof(back));
	if (strcmp(to, "xml") == 0) {
		if (!(rc = gw_msg_json_to_xml(msg, &doc, err)))
			rc = gw_msg_xml_dump(doc, out, err);
	} else {
		rc = gw_msg_json_dump(msg, out, err);
	}
	/* What we write must be valid too: validate the output. */
	if (!rc)
		rc = gw_validate_buffer(v, "(converted output)", out->data,
					out->len, print_line, NULL, &back, err);
	if (doc)
		xmlFreeDoc(doc);
	gw_validated_release(&back);
	return rc;
}

static int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' },
		{ "profile", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *to = NULL, *from = NULL, *name, *profile = NULL;
	struct gw_validator *v = NULL;
	struct gw_format *fmt = NULL;
	struct gw_profile *prof = NULL;
	struct gw_validated res;
	struct gw_buf out;
	struct gw_err err;
	json_t *msg = NULL;
	char *buf = NULL;
	size_t len;
	int c, status = 0, to_canonical;
	gw_rc rc;

	memset(&res, 0, sizeof(res));
	gw_buf_init(&out);
	gw_err_clear(&err);
	optind = 0;
	while ((c = getopt_long(argc, argv, "+t:f:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'f': from = optarg; break;
		case 'p': profile = optarg; break;
		case 'h': fputs(find("convert")->usage, stdout); return 0;
		default: return usage_error("convert", "%s", "bad option");
		}
	}
	if (!to)
		return usage_error("convert", "%s", "--to FORMAT is required");
	if (optind + 1 != argc)
		return usage_error("convert", "%s", "give exactly one FILE");
	to_canonical = !strcmp(to, "json") || !strcmp(to, "xml");
	if (from && (!strcmp(from, "json") || !strcmp(from, "xml")))
		from = NULL; /* canonical input is detected */
	if (profile && (from != NULL) == !to_canonical)
		return usage_error("convert", "%s",
				   "--profile renames the fields of one report "
				   "packet: give --to report-packet[-json], or "
				   "--from one with --to json|xml");
	if ((rc = gw_format_new(gw_schema_dir(), &fmt, &err))) {
		fprintf(stderr, "lienthong convert: %s\n", err.msg);
		return gw_rc_exit(rc) == 1 ? 3 : gw_rc_exit(rc);
	}
	if (!to_canonical && !gw_format_known(fmt, to)) {
		gw_format_free(fmt);
		return usage_error("convert",
				   "cannot convert to '%s' (json, xml, edxml, "
				   "sdmx-ml, sdmx-json, report-packet, "
				   "report-packet-json)",
				   to);
	}
	if (from && !gw_format_known(fmt, from)) {
		gw_format_free(fmt);
		return usage_error("convert",
				   "cannot convert from '%s' (edxml, sdmx-ml, "
				   "sdmx-json, report-packet, "
				   "report-packet-json)",
				   from);
	}
	if (profile && (rc = gw_profile_load(profile, gw_schema_dir(),
					     print_line, NULL, &prof, &err))) {
		if (rc != GW_ERR_CONFIG) /* problems were listed */
			fprintf(stderr, "lienthong convert: %s\n", err.msg);
		status = rc == GW_ERR_CONFIG ? 1 : 3;
		goto out;
	}
	name = strcmp(argv[optind], "-") ? argv[optind] : "<stdin>";
	if ((rc = gw_read_file(argv[optind], GW_JSON_MAX_SIZE_CLI, &buf, &len,
			       &err))) {
		fprintf(stderr, "%s\n", err.msg);
		status = gw_rc_exit(rc);
		goto out;
	}
	if ((rc = gw_validator_new(gw_schema_dir(), 0, &v, &err))) {
		fprintf(stderr, "lienthong convert: %s\n", err.msg);
		status = 3;
		goto out;
	}
	if (from) {
		if ((rc = gw_format_from_wire_profile(fmt, from, prof, buf, len,
						      name, &msg, stderr,
						      &err))) {
			if (rc != GW_ERR_SCHEMA)
				fprintf(stderr, "%s\n", err.msg);
			status = gw_rc_exit(rc);
			goto out;
		}
	} else {
		if ((rc = gw_validate_buffer(v, name, buf, len, print_line,
					     NULL, &res, &err))) {
			status = gw_rc_exit(rc);
			goto out;
		}
		if (!res.json) {
			fprintf(stderr, "%s: not a canonical message\n", name);
			status = 1;
			goto out;
		}
		msg = json_incref(res.json);
	}
	gw_err_clear(&err);
	if (to_canonical)
		rc = canonical_out(v, msg, to, &out, &err);
	else
		rc = gw_format_to_wire_profile(fmt, to, prof, msg, &out, NULL,
					       stderr, &err);
	if (rc) {
		if (rc != GW_ERR_SCHEMA) /* schema errors were listed */
			fprintf(stderr, "%s: %s\n", name, err.msg);
		status = gw_rc_exit(rc);
		goto out;
	}
	if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout)) {
		fprintf(stderr, "lienthong convert: cannot write output\n");
		status = 3;
	}
out:
	json_decref(msg);
	gw_validated_release(&res);
	gw_validator_free(v);
	gw_profile_free(prof);
	gw_format_free(fmt);
	gw_buf_release(&out);
	free(buf);
	return status;
}

/* Load the profile mapping of every destination that has one; each
 * problem is printed. Returns the number of profiles that failed. */
static int check_profiles(const struct gw_config *cfg)
{
	const char *name;
	json_t *d;
	int bad = 0;

	json_object_foreach(gw_config_get(cfg, "/destinations"), name, d)
	{
		struct gw_profile *p = NULL;
		struct gw_err err;
		char ptr[300], *path;
		gw_rc rc;

		snprintf(ptr, sizeof(ptr), "/destinations/%s/profile", name);
		if (!(path = gw_config_path(cfg, ptr)))
			continue;
		gw_err_clear(&err);
		rc = gw_profile_load(path, gw_schema_dir(), print_line, NULL,
				     &p, &err);
		if (rc && rc != GW_ERR_CONFIG) /* not listed yet */
			fprintf(stderr, "%s:%ld: destinations.%s.profile: %s\n",
				cfg->path, gw_config_line(cfg, ptr), name,
				err.msg);
		bad += rc != GW_OK;
		gw_profile_free(p);
		free(path);
	}
	return bad;
}

static int cmd_config(int argc, char **argv)
{
	struct gw_config *cfg = NULL;
	struct gw_err err;
	gw_rc rc;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(find("config")->usage, stdout);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "check"))
		return usage_error("config", "%s", "want: config check FILE");
	gw_err_clear(&err);
	rc = gw_config_load(argv[2], gw_schema_dir(), print_line, NULL, &cfg,
			    &err);
	if (rc == GW_ERR_CONFIG)
		return 1;
	if (rc) {
		fprintf(stderr, "lienthong config: %s\n", err.msg);
		return gw_rc_exit(rc);
	}
	if (check_profiles(cfg)) {
		gw_config_free(cfg);
		return 1;
	}
	printf("%s: valid configuration for gateway '%s' (%s)\n", argv[2],
	       gw_config_str(cfg, "/gateway/name", "?"),
	       gw_config_str(cfg, "/gateway/organization/orgId", "?"));
	gw_config_free(cfg);
	return 0;
}

int gw_cli_main(int argc, char **argv)
{
	const struct command *c;
	const char *log_file = NULL;
	int level = -1, rc;
	struct gw_err err;

	gw_xml_init();
	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "--version")) {
			printf("lienthong %s\n", GW_VERSION);
			return 0;
		}
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			usage_all(stdout);
			return 0;
		}
		if (!strcmp(argv[1], "--log") && argc > 2) {
			log_file = argv[2];
		} else if (!strcmp(argv[1], "--log-level") && argc > 2) {
			level = gw_log_level_parse(argv[2]);
			if (level < 0) {
				fprintf(stderr,
					"lienthong: unknown log level "
					"'%s' (debug, info, warn, "
					"error, off)\n",
					argv[2]);
				return 2;
			}
		} else {
			fprintf(stderr, "lienthong: unknown option '%s'\n",
				argv[1]);
			usage_all(stderr);
			return 2;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		usage_all(stderr);
		return 2;
	}
	c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "lienthong: unknown command '%s'\n", argv[1]);
		usage_all(stderr);
		return 2;
	}
	gw_err_clear(&err);
	/* Commands speak to people on stderr; the JSON log is opt-in. */
	if (level < 0)
		level = log_file ? GW_LOG_INFO : GW_LOG_OFF;
	if (gw_log_open(log_file, (enum gw_log_level)level, &err)) {
		fprintf(stderr, "lienthong: %s\n", err.msg);
		return 3;
	}
	rc = c->run(argc - 1, argv + 1);
	gw_log_close();
	xmlCleanupParser();
	return rc;
}
