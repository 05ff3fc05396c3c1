/*
 * cmd_import.c - the "import" command: run a source adapter over an input
 * file, wrap each payload it emits in a canonical envelope, validate the
 * message and write it (JSON lines to stdout, or one file per message with
 * -o DIR). Rows the adapter could not map are summarized on stderr with
 * their reasons.
 *
 * Ids are fresh UUIDv4 (flow/import.h), or with --deterministic
 * name-based UUIDv5 over the message kind and the adapter's stable key
 * (document number + task path), so that importing the same document again
 * yields the same ids; the creation time is then the document's date.
 */
#define GW_CORE
#include "cli/cmd_import.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adapt/adapter.h"
#include "base/common.h"
#include "model/message.h"
#include "model/validate.h"
#include "flow/import.h"

#define DEFAULT_SENDER_ID "000.00.00.G12"
#define DEFAULT_SENDER_NAME "Bộ Tài chính"
#define DEFAULT_RECEIVER_ID "000.00.00.G23"
#define DEFAULT_RECEIVER_NAME "Hệ thống thông tin báo cáo Chính phủ"

struct import {
	struct gw_validator *v;
	const char *outdir;
	int deterministic;
	json_t *sender;
	json_t *receivers;
	const char *classification;
	size_t seq;
	size_t written, invalid, unmapped;
	size_t per_kind[8];
	struct gw_buf unmapped_lines;
	int failed_io;
	int tty, bar, last_pct;
};

static void print_problem(void *arg, gw_rc rc, const char *line)
{
	fprintf(stderr, "import: %s\n", line);
}

static void print_refused(void *arg, const char *line)
{
	fprintf(stderr, "import: adapter refused: %s\n", line);
}

static int kind_index(const char *kind)
{
	enum gw_msg_kind k = gw_msg_kind_parse(kind);

	return (int)k >= 0 && (int)k < 8 ? (int)k : 0;
}

/* A partial message {kind, payload, [sender, receivers, correlationId,
 * classification]} (stolen) completed with the envelope, validated and
 * written. */
static int emit_msg(void *arg, const char *key, const char *date,
		    json_t *partial)
{
	struct import *im = arg;
	const char *kind = json_string_value(json_object_get(partial, "kind"));
	json_t *msg = NULL;
	struct gw_buf out, name;
	char id[37], created[32];
	struct gw_err err;
	int rc = -1;

	gw_buf_init(&out);
	gw_buf_init(&name);
	gw_err_clear(&err);
	im->seq++;
	if (!kind)
		goto out;
	if (im->deterministic && key) {
		if (gw_buf_addf(&name, "%s\n%s", kind, key) ||
		    gw_import_make_id(name.data, id))
			goto out;
	} else if (gw_import_make_id(NULL, id)) {
		goto out;
	}
	if (im->deterministic && date && strlen(date) == 10)
		snprintf(created, sizeof(created), "%sT00:00:00+07:00", date);
	else
		gw_import_now(created);
	if (!(msg = gw_import_complete(partial, im->sender, im->receivers,
				       im->classification, id, created)))
		goto out;
	if (im->outdir) {
		if (gw_msg_json_dump(msg, &out, &err))
			goto out;
	} else {
		char *s = json_dumps(msg, JSON_COMPACT);

		if (!s || gw_buf_adds(&out, s) || gw_buf_adds(&out, "\n")) {
			free(s);
			goto out;
		}
		free(s);
	}
	gw_buf_release(&name);
	gw_buf_init(&name);
	if (gw_buf_addf(&name, "%s %s", kind, key ? key : id))
		goto out;
	if (gw_validate_buffer(im->v, name.data, out.data, out.len,
			       print_problem, NULL, NULL, &err)) {
		im->invalid++;
		rc = 0; /* reported; the import goes on */
		goto out;
	}
	if (im->outdir) {
		struct gw_buf path;
		char *p;

		gw_buf_init(&path);
		if (gw_buf_addf(&path, "%s/%04zu-%s.json", im->outdir, im->seq,
				kind)) {
			gw_buf_release(&path);
			goto out;
		}
		for (p = strrchr(path.data, '/') + 1; *p; p++)
			if (*p == '.' && strcmp(p, ".json") != 0)
				*p = '-';
		if (gw_write_file_atomic(path.data, out.data, out.len, &err)) {
			fprintf(stderr, "import: %s\n", err.msg);
			im->failed_io = 1;
			gw_buf_release(&path);
			goto out;
		}
		gw_buf_release(&path);
	} else if (fwrite(out.data, 1, out.len, stdout) != out.len) {
		im->failed_io = 1;
		goto out;
	}
	im->written++;
	im->per_kind[kind_index(kind)]++;
	rc = 0;
out:
	json_decref(msg);
	json_decref(partial);
	gw_buf_release(&out);
	gw_buf_release(&name);
	return rc;
}

static int emit(void *arg, const char *kind, const char *key, const char *date,
		json_t *payload)
{
	json_t *partial =
		json_pack("{s:s, s:o}", "kind", kind, "payload", payload);

	return partial ? emit_msg(arg, key, date, partial) : -1;
}

static void problem(void *arg, const char *line)
{
	fprintf(stderr, "import: %s\n", line);
}

/* A bar on stderr when it is a terminal and the input is big enough for
 * one to help. */
static void progress(void *arg, uint64_t done, uint64_t total)
{
	struct import *im = arg;
	int pct, i;

	if (!im->tty)
		return;
	if (total < (4u << 20)) {
		if (total || done < 100000)
			return;
		fprintf(stderr, "\rimport: %llu rows",
			(unsigned long long)done);
		im->bar = 1;
		return;
	}
	pct = (int)(done * 100 / total);
	if (pct == im->last_pct)
		return;
	im->last_pct = pct;
	im->bar = 1;
	fputs("\rimport: [", stderr);
	for (i = 0; i < 40; i++)
		fputc(i < pct * 40 / 100 ? '#' : ' ', stderr);
	fprintf(stderr, "] %3d%%", pct);
}

static void unmapped(void *arg, const char *where, const char *reason)
{
	struct import *im = arg;

	im->unmapped++;
	gw_buf_addf(&im->unmapped_lines, "  %s: %s\n", where, reason);
}

/* "ORGID=NAME" -> {orgId, name} */
static json_t *parse_org(const char *s)
{
	const char *eq = strchr(s, '=');
	char id[64];

	if (!eq || eq == s || !eq[1] || (size_t)(eq - s) >= sizeof(id))
		return NULL;
	memcpy(id, s, (size_t)(eq - s));
	id[eq - s] = '\0';
	return json_pack("{s:s, s:s}", "orgId", id, "name", eq + 1);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: lienthong import --adapter NAME [--mapping FILE] "
		"[-o DIR]\n"
		"                        [--sender ORGID=NAME] [--receiver "
		"ORGID=NAME]...\n"
		"                        [--classification public|internal]\n"
		"                        [--deterministic] [--adapter-dir DIR] "
		"INPUT\n");
	return 2;
}

int gw_cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "adapter", required_argument, NULL, 'a' },
		{ "mapping", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "sender", required_argument, NULL, 's' },
		{ "receiver", required_argument, NULL, 'r' },
		{ "classification", required_argument, NULL, 'c' },
		{ "deterministic", no_argument, NULL, 'd' },
		{ "adapter-dir", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	struct import im;
	struct gw_adapter_registry *reg = NULL;
	struct gw_adapter_job job;
	struct gw_err err;
	const char *adapter = NULL, *mapping = NULL, *adir = NULL;
	int c, ret = 3;
	size_t i;

	memset(&im, 0, sizeof(im));
	gw_buf_init(&im.unmapped_lines);
	gw_err_clear(&err);
	im.classification = "internal";
	im.receivers = json_array();
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		json_t *org;

		switch (c) {
		case 'a': adapter = optarg; break;
		case 'm': mapping = optarg; break;
		case 'o': im.outdir = optarg; break;
		case 'd': im.deterministic = 1; break;
		case 'D': adir = optarg; break;
		case 'c':
			if (strcmp(optarg, "public") &&
			    strcmp(optarg, "internal")) {
				fprintf(stderr, "import: classification "
						"must be public or internal\n");
				ret = 2;
				goto out;
			}
			im.classification = optarg;
			break;
		case 's':
		case 'r':
			if (!(org = parse_org(optarg))) {
				fprintf(stderr,
					"import: --%s wants ORGID=NAME, not "
					"'%s'\n",
					c == 's' ? "sender" : "receiver",
					optarg);
				ret = 2;
				goto out;
			}
			if (c == 's') {
				json_decref(im.sender);
				im.sender = org;
			} else {
				json_array_append_new(im.receivers, org);
			}
			break;
		default: ret = usage(); goto out;
		}
	}
	if (!adapter || optind != argc - 1) {
		ret = usage();
		goto out;
	}
	if (!im.sender)
		im.sender = json_pack("{s:s, s:s}", "orgId", DEFAULT_SENDER_ID,
				      "name", DEFAULT_SENDER_NAME);
	if (json_array_size(im.receivers) == 0)
		json_array_append_new(im.receivers,
				      json_pack("{s:s, s:s}", "orgId",
						DEFAULT_RECEIVER_ID, "name",
						DEFAULT_RECEIVER_NAME));
	if (im.outdir && mkdir(im.outdir, 0777) && errno != EEXIST) {
		fprintf(stderr, "import: %s: cannot create: %s\n", im.outdir,
			strerror(errno));
		goto out;
	}
	if (gw_validator_new(gw_schema_dir(), 0, &im.v, &err) ||
	    gw_adapter_registry_new(&reg, &err)) {
		fprintf(stderr, "import: %s\n", err.msg);
		goto out;
	}
	if (!adir)
		adir = getenv("LIENTHONG_ADAPTER_DIR");
	if (adir && gw_adapter_load_dir(reg, adir, print_refused, NULL, &err)) {
		fprintf(stderr, "import: %s\n", err.msg);
		goto out;
	}
	memset(&job, 0, sizeof(job));
	job.input = argv[optind];
	job.mapping = mapping;
	job.sender_id = json_string_value(json_object_get(im.sender, "orgId"));
	job.sender_name = json_string_value(json_object_get(im.sender, "name"));
	job.emit = emit;
	job.unmapped = unmapped;
	job.emit_msg = emit_msg;
	job.problem = problem;
	job.progress = progress;
	job.arg = &im;
	im.tty = isatty(2);
	im.last_pct = -1;
	if (!gw_adapter_find(reg, adapter) ||
	    !gw_adapter_find(reg, adapter)->run) {
		/* format adapters (no run) convert, they do not import */
		if (gw_adapter_find(reg, adapter))
			fprintf(stderr,
				"import: '%s' is a format adapter (use "
				"'lienthong convert --from %s'); source "
				"adapters:",
				adapter, adapter);
		else
			fprintf(stderr, "import: no adapter named '%s' (known:",
				adapter);
		for (i = 0; i < gw_adapter_count(reg); i++)
			if (gw_adapter_at(reg, i)->run)
				fprintf(stderr, " %s",
					gw_adapter_at(reg, i)->name);
		fprintf(stderr, "%s\n",
			gw_adapter_find(reg, adapter) ? "" : ")");
		ret = 2;
		goto out;
	}
	if (gw_adapter_run(reg, adapter, &job, &err)) {
		if (im.bar)
			fputc('\n', stderr);
		if (!job.error_reported)
			fprintf(stderr, "import: %s\n", err.msg);
		if (im.unmapped_lines.len)
			fputs(im.unmapped_lines.data, stderr);
		ret = gw_rc_exit(err.rc);
		goto out;
	}
	fflush(stdout);
	if (im.bar)
		fputc('\n', stderr);
	fprintf(stderr,
		"import: %s: %zu messages written (%zu plan, %zu "
		"task.assignment, %zu indicator.report), %zu invalid, %zu "
		"rows not mapped\n",
		job.input, im.written, im.per_kind[GW_KIND_PLAN],
		im.per_kind[GW_KIND_TASK_ASSIGNMENT],
		im.per_kind[GW_KIND_INDICATOR_REPORT], im.invalid, im.unmapped);
	if (im.per_kind[GW_KIND_TASK_PROGRESS] || im.per_kind[GW_KIND_RECEIPT])
		fprintf(stderr, "import: %zu task.progress, %zu receipt\n",
			im.per_kind[GW_KIND_TASK_PROGRESS],
			im.per_kind[GW_KIND_RECEIPT]);
	if (im.unmapped_lines.len)
		fputs(im.unmapped_lines.data, stderr);
	ret = im.failed_io ? 3 : im.invalid ? 1 : 0;
out:
	gw_adapter_registry_free(reg);
	gw_validator_free(im.v);
	json_decref(im.sender);
	json_decref(im.receivers);
	gw_buf_release(&im.unmapped_lines);
	return ret;
}
