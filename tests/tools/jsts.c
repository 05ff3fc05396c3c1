/*
 * jsts.c - run the JSON-Schema-Test-Suite (draft 2020-12) against
 * gateway/jsonschema.c.
 *
 *   jsts SUITE_DIR [--known-failures FILE] [-v]
 *
 * Every .json file of tests/draft2020-12 (and of optional/, with
 * optional/format asserting "format") is compiled group by group and each test's data is
 * validated. Remote references resolve locally: http://localhost:1234/ is
 * mapped to SUITE_DIR/remotes/, and the meta-schemas in
 * SUITE_DIR/metaschemas-draft2020-12/ are registered by their $id (their
 * files end in .json, their URIs do not, so a prefix mapping would miss).
 * Failures print as "FAIL file: group / test"; the last line is
 * "N passed, M failed". Exit 0 when every failure is a known one.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/jsonschema.h"

struct known {
	char **lines; /* "file|group|test" */
	size_t n;
};

static int verbose;
static long passed, failed, unexpected;

static void known_load(struct known *k, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	if (!f) {
		fprintf(stderr, "jsts: cannot open '%s'\n", path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		char *p, *bar;
		char **v;
		int bars = 0;

		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		/* keep "file|group|test", drop "|reason" */
		for (p = line, bar = NULL; *p; p++)
			if (*p == '|' && ++bars == 3)
				bar = p;
		if (bar)
			*bar = '\0';
		v = realloc(k->lines, (k->n + 1) * sizeof(*v));
		if (!v || !(v[k->n] = strdup(line))) {
			fprintf(stderr, "jsts: out of memory\n");
			exit(3);
		}
		k->lines = v;
		k->n++;
	}
	fclose(f);
}

static int known_has(const struct known *k, const char *file, const char *group,
		     const char *test)
{
	char key[4096];
	size_t i;

	snprintf(key, sizeof(key), "%s|%s|%s", file, group, test);
	for (i = 0; i < k->n; i++)
		if (strcmp(k->lines[i], key) == 0)
			return 1;
	return 0;
}

static void fail(const struct known *k, const char *file, const char *group,
		 const char *test, const char *why)
{
	int is_known = known_has(k, file, group, test);

	failed++;
	if (!is_known)
		unexpected++;
	printf("FAIL %s: %s / %s%s%s%s\n", file, group, test,
	       is_known ? " (known)" : "", why ? ": " : "", why ? why : "");
}

static void run_file(struct gw_js_registry *reg, const struct known *k,
		     const char *path, const char *name, unsigned flags)
{
	json_error_t je;
	json_t *groups = json_load_file(path, JSON_ALLOW_NUL, &je), *g;
	size_t gi;

	if (!json_is_array(groups)) {
		printf("FAIL %s: cannot load: %s\n", name, je.text);
		failed++;
		unexpected++;
		json_decref(groups);
		return;
	}
	json_array_foreach(groups, gi, g)
	{
		const char *gdesc =
			json_string_value(json_object_get(g, "description"));
		json_t *tests = json_object_get(g, "tests"), *t;
		struct gw_js_schema *s = NULL;
		struct gw_err err;
		size_t ti;

		gw_err_clear(&err);
		gdesc = gdesc ? gdesc : "?";
		if (gw_js_compile(reg, json_object_get(g, "schema"), NULL,
				  flags, &s, &err)) {
			json_array_foreach(tests, ti, t)
			{
				const char *td = json_string_value(
					json_object_get(t, "description"));

				fail(k, name, gdesc, td ? td : "?", err.msg);
			}
			continue;
		}
		json_array_foreach(tests, ti, t)
		{
			const char *td = json_string_value(
				json_object_get(t, "description"));
			int want = json_is_true(json_object_get(t, "valid"));
			struct gw_js_errors errs;
			bool quick = gw_js_validate(
				s, json_object_get(t, "data"), NULL);
			bool full = gw_js_validate(
				s, json_object_get(t, "data"), &errs);

			td = td ? td : "?";
			if (quick != full) {
				fail(k, name, gdesc, td,
				     "validation with and without errors "
				     "disagree");
			} else if ((int)full != want) {
				fail(k, name, gdesc, td,
				     want ? "expected valid"
					  : "expected invalid");
				if (verbose)
					gw_js_errors_print(&errs, "  ", stdout);
			} else if (!full && errs.count == 0) {
				fail(k, name, gdesc, td,
				     "invalid but no error reported");
			} else {
				passed++;
			}
			gw_js_errors_release(&errs);
		}
		gw_js_schema_free(s);
	}
	json_decref(groups);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every *.json in dir (sorted); subfolders when recurse. */
static void run_dir(struct gw_js_registry *reg, const struct known *k,
		    const char *dir, const char *prefix, unsigned flags)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*names));

		if (!nn || !((names = nn)[n++] = strdup(e->d_name))) {
			fprintf(stderr, "jsts: out of memory\n");
			exit(3);
		}
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		char path[4096], name[4096];
		struct stat st;
		size_t len = strlen(names[i]);

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(name, sizeof(name), "%s%s", prefix, names[i]);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			char sub[4200];

			snprintf(sub, sizeof(sub), "%s/", name);
			/* format tests under optional/format assert formats */
			run_dir(reg, k, path, sub,
				flags | (strcmp(names[i], "format") == 0
						 ? GW_JS_FORMAT_ASSERT
						 : 0));
		} else if (len > 5 &&
			   strcmp(names[i] + len - 5, ".json") == 0) {
			run_file(reg, k, path, name, flags);
		}
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	struct known k = { 0 };
	struct gw_js_registry *reg;
	struct gw_err err;
	const char *suite = NULL;
	char path[4096];
	size_t i;
	int a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--known-failures") == 0 && a + 1 < argc)
			known_load(&k, argv[++a]);
		else if (strcmp(argv[a], "-v") == 0)
			verbose = 1;
		else if (!suite)
			suite = argv[a];
		else
			suite = NULL, a = argc;
	}
	if (!suite) {
		fprintf(stderr,
			"usage: jsts SUITE_DIR [--known-failures FILE] [-v]\n");
		return 2;
	}
	gw_err_clear(&err);
	if (!(reg = gw_js_registry_new())) {
		fprintf(stderr, "jsts: out of memory\n");
		return 3;
	}
	snprintf(path, sizeof(path), "%s/remotes/", suite);
	if (gw_js_registry_map(reg, "http://localhost:1234/", path, &err)) {
		fprintf(stderr, "jsts: %s\n", err.msg);
		return 3;
	}
	snprintf(path, sizeof(path), "%s/metaschemas-draft2020-12", suite);
	if (gw_js_registry_add_dir(reg, path, &err)) {
		fprintf(stderr, "jsts: %s\n", err.msg);
		return 3;
	}
	snprintf(path, sizeof(path), "%s/tests/draft2020-12", suite);
	run_dir(reg, &k, path, "", 0);
	gw_js_registry_free(reg);
	for (i = 0; i < k.n; i++)
		free(k.lines[i]);
	free(k.lines);
	printf("%ld passed, %ld failed\n", passed, failed);
	return unexpected ? 1 : 0;
}
