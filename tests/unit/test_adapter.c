/* test_adapter.c - the adapter registry (in-process structs) and the
 * loader (small shared objects built with cc into a temporary folder). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GW_CORE
#include "adapt/adapter.h"
#include "base/common.h"

static int nop_run(void *state, struct gw_adapter_job *job)
{
	return 0;
}

static const struct gw_adapter good = {
	.abi_version = GW_ADAPTER_ABI_VERSION,
	.size = sizeof(struct gw_adapter),
	.name = "good",
	.run = nop_run,
};

static void test_adapter__builtins(void **state)
{
	struct gw_adapter_registry *r;
	struct gw_err err;

	(void)state;
	assert_int_equal(gw_adapter_registry_new(&r, &err), GW_OK);
	assert_non_null(gw_adapter_find(r, "plan-tables"));
	assert_null(gw_adapter_find(r, "nope"));
	assert_true(gw_adapter_count(r) >= 1);
	gw_adapter_registry_free(r);
}

static void test_adapter__refusals(void **state)
{
	struct gw_adapter_registry *r;
	struct gw_adapter bad;
	struct gw_err err;

	(void)state;
	assert_int_equal(gw_adapter_registry_new(&r, &err), GW_OK);
	assert_int_equal(gw_adapter_register(r, &good, "t", &err), GW_OK);

	assert_int_equal(gw_adapter_register(r, &good, "t", &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "duplicate adapter name 'good'"));

	bad = good;
	bad.name = "v2";
	bad.abi_version = 2;
	assert_int_equal(gw_adapter_register(r, &bad, "t", &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "ABI version 2"));

	bad = good;
	bad.name = "short";
	bad.size = 8;
	assert_int_equal(gw_adapter_register(r, &bad, "t", &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "shorter"));

	bad = good;
	bad.name = "Bad Name";
	assert_int_equal(gw_adapter_register(r, &bad, "t", &err),
			 GW_ERR_REFUSED);

	bad = good;
	bad.name = "norun";
	bad.run = NULL;
	assert_int_equal(gw_adapter_register(r, &bad, "t", &err),
			 GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "no run"));

	/* a longer struct from a newer adapter is fine */
	bad = good;
	bad.name = "newer";
	bad.size = sizeof(struct gw_adapter) + 16;
	assert_int_equal(gw_adapter_register(r, &bad, "t", &err), GW_OK);
	assert_ptr_equal(gw_adapter_find(r, "good"), &good);
	gw_adapter_registry_free(r);
}

static void test_adapter__host_table(void **state)
{
	const struct gw_adapter_host *h = gw_adapter_host();
	struct gw_adapter_timeline t;
	char out[64];

	(void)state;
	assert_int_equal(h->abi_version, GW_ADAPTER_ABI_VERSION);
	assert_int_equal(h->size, sizeof(*h));
	assert_int_equal(h->timeline("Quý II năm 2024", &t), 0);
	assert_string_equal(t.due, "2024-06-30");
	assert_int_equal(h->decimal("0,6321", out, sizeof(out)), 0);
	assert_string_equal(out, "0.6321");
}

struct refused {
	int n;
	char all[4096];
};

static void on_refused(void *arg, const char *line)
{
	struct refused *r = arg;

	r->n++;
	strncat(r->all, line, sizeof(r->all) - strlen(r->all) - 2);
	strcat(r->all, "\n");
}

static int build_so(const char *dir, const char *name, const char *src)
{
	char path[512], cmd[2048];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.c", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(src, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "cc -shared -fPIC -std=c11 -I%s/gateway/adapt "
		 "$(pkg-config --cflags jansson) -o %s/%s.so %s 2>&1",
		 getenv("TOP") ? getenv("TOP") : ".", dir, name, path);
	if (system(cmd) != 0)
		return -1;
	return unlink(path);
}

#define ADAPTER_SRC(NAME, VERSION, ENTRY)                                     \
	"#include \"adapter.h\"\n"                                            \
	"static int run(void *s, struct gw_adapter_job *j) { return 0; }\n"   \
	"static const struct gw_adapter a = { " VERSION                       \
	", sizeof(struct gw_adapter), \"" NAME "\", \"test\", 0, run, 0 };\n" \
	"const struct gw_adapter *" ENTRY "(void) { return &a; }\n"

static void test_adapter__dlopen(void **state)
{
	char dir[] = "/tmp/gw-adapter-XXXXXX", cmd[600];
	struct gw_adapter_registry *r;
	struct refused ref;
	struct gw_err err;

	(void)state;
	if (system("command -v cc >/dev/null && pkg-config --exists jansson") !=
	    0)
		skip();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(
		build_so(dir, "a_good",
			 ADAPTER_SRC("ext-good", "1", "gw_adapter_entry")),
		0);
	assert_int_equal(
		build_so(dir, "b_version",
			 ADAPTER_SRC("ext-v9", "9", "gw_adapter_entry")),
		0);
	assert_int_equal(build_so(dir, "c_nosym",
				  ADAPTER_SRC("ext-nosym", "1", "other_entry")),
			 0);
	assert_int_equal(
		build_so(dir, "d_dup",
			 ADAPTER_SRC("plan-tables", "1", "gw_adapter_entry")),
		0);
	memset(&ref, 0, sizeof(ref));
	assert_int_equal(gw_adapter_registry_new(&r, &err), GW_OK);
	assert_int_equal(gw_adapter_load_dir(r, dir, on_refused, &ref, &err),
			 GW_OK);
	assert_non_null(gw_adapter_find(r, "ext-good"));
	assert_null(gw_adapter_find(r, "ext-v9"));
	assert_null(gw_adapter_find(r, "ext-nosym"));
	assert_int_equal(ref.n, 3);
	assert_non_null(strstr(ref.all, "ABI version 9"));
	assert_non_null(strstr(ref.all, "missing symbol gw_adapter_entry"));
	assert_non_null(
		strstr(ref.all, "duplicate adapter name 'plan-tables'"));
	/* a path outside the folder is refused */
	assert_int_equal(gw_adapter_load_file(r, "/usr", dir, &err),
			 GW_ERR_REFUSED);
	gw_adapter_registry_free(r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adapter__builtins),
		cmocka_unit_test(test_adapter__refusals),
		cmocka_unit_test(test_adapter__host_table),
		cmocka_unit_test(test_adapter__dlopen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
