/* test_jsonschema.c - JSON Schema 2020-12: keywords, references, dynamic
 * scope, unevaluated*, formats, error locations, exact numbers, nesting
 * limits, invalid schemas and allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/jsonschema.h"

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &je);

	if (!v)
		fail_msg("bad test json: %s: %s", je.text, text);
	return v;
}

/* Compile schema text (registry may be NULL); fails the test on error. */
static struct gw_js_schema *compile_with(struct gw_js_registry *reg,
					 const char *text, unsigned flags)
{
	json_t *js = parse(text);
	struct gw_js_schema *s = NULL;
	struct gw_err err;

	gw_err_clear(&err);
	if (gw_js_compile(reg, js, NULL, flags, &s, &err))
		fail_msg("compile failed: %s", err.msg);
	json_decref(js);
	return s;
}

static struct gw_js_schema *compile(const char *text)
{
	return compile_with(NULL, text, 0);
}

/* Compile, expecting failure; returns the message. */
static gw_rc compile_err(struct gw_js_registry *reg, const char *text,
			 struct gw_err *err)
{
	json_t *js = parse(text);
	struct gw_js_schema *s = NULL;
	gw_rc rc;

	gw_err_clear(err);
	rc = gw_js_compile(reg, js, NULL, 0, &s, err);
	assert_null(s);
	json_decref(js);
	return rc;
}

/* Validate instance text; checks that the quick (no errors) and the full
 * walk agree and that an invalid result always carries an error. */
static bool valid(const struct gw_js_schema *s, const char *text)
{
	json_t *v = parse(text);
	struct gw_js_errors errs;
	bool quick = gw_js_validate(s, v, NULL);
	bool full = gw_js_validate(s, v, &errs);

	assert_int_equal(quick, full);
	if (!full)
		assert_true(errs.count > 0);
	else
		assert_int_equal(errs.count, 0);
	gw_js_errors_release(&errs);
	json_decref(v);
	return full;
}

/* The single (or first) error for an invalid instance. */
static void first_error(const struct gw_js_schema *s, const char *text,
			const char *iloc, const char *kloc, const char *msg)
{
	json_t *v = parse(text);
	struct gw_js_errors errs;

	assert_false(gw_js_validate(s, v, &errs));
	assert_true(errs.count >= 1);
	assert_string_equal(errs.items[0].instance_location, iloc);
	assert_string_equal(errs.items[0].keyword_location, kloc);
	assert_string_equal(errs.items[0].message, msg);
	gw_js_errors_release(&errs);
	json_decref(v);
}

static void test_jsonschema__types(void **state)
{
	struct gw_js_schema *s;

	(void)state;
	s = compile("{\"type\": \"integer\"}");
	assert_true(valid(s, "1"));
	assert_true(valid(s, "1.0"));
	assert_true(valid(s, "-0.0"));
	assert_true(valid(s, "1e3"));
	assert_false(valid(s, "1.5"));
	assert_false(valid(s, "\"1\""));
	assert_false(valid(s, "null"));
	gw_js_schema_free(s);

	s = compile("{\"type\": [\"string\", \"null\"]}");
	assert_true(valid(s, "\"x\""));
	assert_true(valid(s, "null"));
	assert_false(valid(s, "true"));
	first_error(s, "{}", "", "/type",
		    "expected null or string, got object");
	gw_js_schema_free(s);

	s = compile("{\"type\": \"number\"}");
	assert_true(valid(s, "1"));
	assert_true(valid(s, "1.25"));
	assert_false(valid(s, "[]"));
	gw_js_schema_free(s);

	s = compile("true");
	assert_true(valid(s, "{\"a\": [1, 2]}"));
	gw_js_schema_free(s);
	s = compile("false");
	first_error(s, "1", "", "",
		    "no value is allowed here (the schema is false)");
	gw_js_schema_free(s);

	s = compile("{\"enum\": [1, \"a\", {\"b\": [null]}], \"const\": 1}");
	assert_true(valid(s, "1.0"));
	assert_false(valid(s, "\"a\""));
	gw_js_schema_free(s);

	s = compile("{\"uniqueItems\": true}");
	assert_true(valid(s, "[1, 2, \"1\", [1], {\"a\": 1}, {\"a\": 2}]"));
	assert_false(valid(s, "[1, 2, 1.0]"));
	assert_false(valid(s, "[{\"a\": 1, \"b\": 2}, {\"b\": 2, \"a\": 1}]"));
	first_error(s, "[0, 1, 2, 1]", "", "/uniqueItems",
		    "items 1 and 3 are equal, expected unique items");
	gw_js_schema_free(s);
}

static void test_jsonschema__strings_and_patterns(void **state)
{
	struct gw_js_schema *s;

	(void)state;
	/* lengths count code points, not bytes */
	s = compile("{\"minLength\": 2, \"maxLength\": 3}");
	assert_true(valid(s, "\"\xc3\xa0\xc3\xa0\xc3\xa0\""));
	assert_false(valid(s, "\"\xf0\x9f\x98\x80\""));
	assert_false(valid(s, "\"abcd\""));
	first_error(s, "\"abcd\"", "", "/maxLength",
		    "expected at most 3 characters, got 4");
	gw_js_schema_free(s);

	/* ECMA-262: \d is ASCII only, \s includes no-break space, '.'
	 * stops at line terminators, '$' does not match before a final \n */
	s = compile("{\"pattern\": \"^\\\\d+$\"}");
	assert_true(valid(s, "\"0123\""));
	assert_false(valid(s, "\"\xd9\xa3\""));
	assert_false(valid(s, "\"12\\n\""));
	first_error(s, "\"x\"", "", "/pattern",
		    "'x' does not match pattern '^\\d+$'");
	gw_js_schema_free(s);
	s = compile("{\"pattern\": \"^a\\\\sb$\"}");
	assert_true(valid(s, "\"a\\u00a0b\""));
	assert_true(valid(s, "\"a\\u3000b\""));
	gw_js_schema_free(s);
	s = compile("{\"pattern\": \"^a.b$\"}");
	assert_true(valid(s, "\"a\xc3\xa9"
			     "b\""));
	assert_false(valid(s, "\"a\\u2028b\""));
	assert_false(valid(s, "\"a\\nb\""));
	gw_js_schema_free(s);
	s = compile("{\"pattern\": \"^\\\\p{Letter}\\\\u0041\\\\w$\"}");
	assert_true(valid(s, "\"\xc3\xa9"
			     "A_\""));
	assert_false(valid(s, "\"1A_\""));
	gw_js_schema_free(s);
	s = compile("{\"patternProperties\": {\"^x-\": {\"type\": \"string\"}},"
		    " \"additionalProperties\": false}");
	assert_true(valid(s, "{\"x-a\": \"1\"}"));
	assert_false(valid(s, "{\"x-a\": 1}"));
	first_error(s, "{\"y\": 1}", "/y", "/additionalProperties",
		    "property 'y' is not allowed");
	gw_js_schema_free(s);
}

static void test_jsonschema__refs(void **state)
{
	struct gw_js_registry *reg = gw_js_registry_new();
	struct gw_js_schema *s;
	struct gw_err err;
	char dir[] = "/tmp/gwjsXXXXXX", path[256];
	json_t *remote;
	FILE *f;

	(void)state;
	assert_non_null(reg);
	s = compile(
		"{\"$defs\": {\"pos\": {\"type\": \"integer\", \"minimum\": 1},"
		"  \"a/b~c\": {\"type\": \"string\"}},"
		" \"properties\": {\"n\": {\"$ref\": \"#/$defs/pos\"},"
		"  \"s\": {\"$ref\": \"#/$defs/a~1b~0c\"},"
		"  \"self\": {\"$ref\": \"#\"}}}");
	assert_true(valid(s, "{\"n\": 2, \"s\": \"x\", \"self\": {\"n\": 5}}"));
	first_error(s, "{\"self\": {\"n\": 0}}", "/self/n",
		    "/properties/self/$ref/properties/n/$ref/minimum",
		    "expected a value at least 1, got 0");
	assert_false(valid(s, "{\"s\": 1}"));
	gw_js_schema_free(s);

	/* a document added by $id, referenced by URI and by $anchor */
	remote = parse("{\"$id\": \"urn:test:remote\", \"$defs\": {\"s\": "
		       "{\"$anchor\": \"str\", \"type\": \"string\"}}}");
	assert_int_equal(gw_js_registry_add(reg, NULL, remote, &err), GW_OK);
	json_decref(remote);
	s = compile_with(reg,
			 "{\"items\": {\"$ref\": \"urn:test:remote#str\"}}", 0);
	assert_true(valid(s, "[\"a\"]"));
	assert_false(valid(s, "[1]"));
	gw_js_schema_free(s);

	/* a directory mapped to a URI prefix */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/int.json", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"type\": \"integer\"}", f);
	fclose(f);
	assert_int_equal(
		gw_js_registry_map(reg, "https://schemas.example/", dir, &err),
		GW_OK);
	s = compile_with(reg,
			 "{\"$id\": \"https://schemas.example/root.json\","
			 " \"items\": {\"$ref\": \"int.json\"}}",
			 0);
	assert_true(valid(s, "[1, 2]"));
	assert_false(valid(s, "[1, \"2\"]"));
	gw_js_schema_free(s);

	/* unresolvable: the message names the URI */
	assert_int_equal(
		compile_err(reg,
			    "{\"$ref\": \"https://nowhere.example/x.json\"}",
			    &err),
		GW_ERR_SCHEMA_DEF);
	assert_non_null(strstr(err.msg, "'https://nowhere.example/x.json'"));
	assert_int_equal(
		compile_err(
			reg,
			"{\"$ref\": \"https://schemas.example/missing.json\"}",
			&err),
		GW_ERR_SCHEMA_DEF);
	assert_non_null(strstr(err.msg, "missing.json"));
	assert_int_equal(compile_err(reg, "{\"$ref\": \"#/$defs/nope\"}", &err),
			 GW_ERR_SCHEMA_DEF);
	assert_non_null(strstr(err.msg, "nope"));
	/* the meta-schema is only needed when referenced */
	assert_int_equal(
		compile_err(NULL,
			    "{\"$ref\": "
			    "\"https://json-schema.org/draft/2020-12/schema\"}",
			    &err),
		GW_ERR_SCHEMA_DEF);
	assert_non_null(strstr(err.msg,
			       "https://json-schema.org/draft/2020-12/schema"));
	s = compile("{\"$schema\": "
		    "\"https://json-schema.org/draft/2020-12/schema\","
		    " \"type\": \"object\"}");
	assert_true(valid(s, "{}"));
	gw_js_schema_free(s);

	unlink(path);
	rmdir(dir);
	gw_js_registry_free(reg);
}

static void test_jsonschema__dynamic_refs(void **state)
{
	struct gw_js_registry *reg = gw_js_registry_new();
	struct gw_js_schema *s;
	struct gw_err err;
	json_t *tree;

	(void)state;
	/* a generic tree whose node type a user schema extends */
	tree = parse("{\"$id\": \"https://example.com/tree\","
		     " \"$dynamicAnchor\": \"node\", \"type\": \"object\","
		     " \"properties\": {\"data\": true, \"children\": "
		     "{\"type\": \"array\","
		     "   \"items\": {\"$dynamicRef\": \"#node\"}}}}");
	assert_int_equal(gw_js_registry_add(reg, NULL, tree, &err), GW_OK);
	json_decref(tree);
	s = compile_with(reg,
			 "{\"$id\": \"https://example.com/strict-tree\","
			 " \"$dynamicAnchor\": \"node\", \"$ref\": \"tree\","
			 " \"unevaluatedProperties\": false}",
			 0);
	assert_true(valid(s, "{\"children\": [{\"data\": 1}]}"));
	/* the misspelled property deep down is caught by the extension */
	first_error(s, "{\"children\": [{\"daat\": 1}]}", "/children/0/daat",
		    "/$ref/properties/children/items/$dynamicRef/"
		    "unevaluatedProperties",
		    "property 'daat' is not allowed");
	gw_js_schema_free(s);
	/* the base tree alone accepts it */
	s = compile_with(reg, "{\"$ref\": \"https://example.com/tree\"}", 0);
	assert_true(valid(s, "{\"children\": [{\"daat\": 1}]}"));
	gw_js_schema_free(s);
	gw_js_registry_free(reg);
}

static void test_jsonschema__unevaluated(void **state)
{
	struct gw_js_schema *s;

	(void)state;
	s = compile("{\"properties\": {\"a\": true},"
		    " \"anyOf\": [{\"properties\": {\"b\": true}, "
		    "\"required\": [\"b\"]},"
		    "  {\"properties\": {\"c\": true}, \"required\": [\"c\"]}],"
		    " \"unevaluatedProperties\": false}");
	assert_true(valid(s, "{\"a\": 1, \"b\": 1}"));
	assert_true(valid(s, "{\"b\": 1, \"c\": 1}"));
	assert_false(valid(s, "{\"a\": 1, \"b\": 1, \"d\": 1}"));
	first_error(s, "{\"b\": 1, \"d\": 1}", "/d", "/unevaluatedProperties",
		    "property 'd' is not allowed");
	gw_js_schema_free(s);

	/* annotations of a failed branch do not count */
	s = compile("{\"anyOf\": [{\"properties\": {\"x\": {\"type\": "
		    "\"string\"}}},"
		    " true], \"unevaluatedProperties\": false}");
	assert_true(valid(s, "{\"x\": \"s\"}"));
	assert_false(valid(s, "{\"x\": 1}"));
	gw_js_schema_free(s);

	s = compile("{\"prefixItems\": [{\"type\": \"string\"}],"
		    " \"contains\": {\"type\": \"integer\"},"
		    " \"unevaluatedItems\": {\"type\": \"boolean\"}}");
	assert_true(valid(s, "[\"a\", 1, true, 2]"));
	assert_false(valid(s, "[\"a\", 1, null]"));
	first_error(s, "[\"a\", 1, null]", "/2", "/unevaluatedItems/type",
		    "expected boolean, got null");
	gw_js_schema_free(s);

	s = compile("{\"if\": {\"properties\": {\"k\": {\"const\": 1}}},"
		    " \"then\": {\"properties\": {\"t\": true}},"
		    " \"unevaluatedProperties\": false}");
	assert_true(valid(s, "{\"k\": 1, \"t\": 0}"));
	assert_false(valid(s, "{\"k\": 2, \"t\": 0}"));
	gw_js_schema_free(s);
}

static void test_jsonschema__applicators(void **state)
{
	struct gw_js_schema *s;

	(void)state;
	s = compile("{\"oneOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]}");
	assert_true(valid(s, "1"));
	assert_true(valid(s, "2.5"));
	first_error(
		s, "3", "", "/oneOf",
		"value matches more than one of the 'oneOf' schemas (0 and 1), "
		"expected exactly one");
	gw_js_schema_free(s);

	s = compile(
		"{\"anyOf\": [{\"type\": \"string\"}, {\"type\": \"null\"}]}");
	first_error(s, "1", "", "/anyOf/0/type",
		    "expected string, got integer");
	gw_js_schema_free(s);

	s = compile("{\"not\": {\"type\": \"string\"}}");
	first_error(s, "\"s\"", "", "/not",
		    "value must not match the 'not' schema");
	gw_js_schema_free(s);

	s = compile("{\"contains\": {\"const\": 1}, \"minContains\": 2, "
		    "\"maxContains\": 3}");
	assert_true(valid(s, "[1, 1, 2]"));
	assert_false(valid(s, "[1, 2]"));
	assert_false(valid(s, "[1, 1, 1, 1]"));
	first_error(s, "[1]", "", "/minContains",
		    "expected at least 2 items matching 'contains', found 1");
	gw_js_schema_free(s);

	s = compile("{\"dependentRequired\": {\"a\": [\"b\"]},"
		    " \"dependentSchemas\": {\"c\": {\"maxProperties\": 1}},"
		    " \"propertyNames\": {\"maxLength\": 2}}");
	assert_true(valid(s, "{\"a\": 1, \"b\": 2}"));
	first_error(s, "{\"a\": 1}", "", "/dependentRequired/a",
		    "missing property 'b', required when 'a' is present");
	assert_false(valid(s, "{\"c\": 1, \"d\": 2}"));
	first_error(s, "{\"abc\": 1}", "/abc", "/propertyNames/maxLength",
		    "expected at most 2 characters, got 3");
	gw_js_schema_free(s);

	s = compile("{\"prefixItems\": [true], \"items\": false}");
	assert_true(valid(s, "[1]"));
	first_error(s, "[1, 2]", "/1", "/items",
		    "item 1 is not allowed: at most 1 items");
	gw_js_schema_free(s);
}

static int fmt_ok(const char *format, const char *value, unsigned flags)
{
	char text[512];
	struct gw_js_schema *s;
	json_t *v = json_string(value);
	int r;

	snprintf(text, sizeof(text), "{\"format\": \"%s\"}", format);
	s = compile_with(NULL, text, flags);
	r = gw_js_validate(s, v, NULL);
	json_decref(v);
	gw_js_schema_free(s);
	return r;
}

static void test_jsonschema__formats(void **state)
{
	static const struct {
		const char *format, *value;
		int ok;
	} cases[] = {
		{ "date", "2024-02-29", 1 },
		{ "date", "2023-02-29", 0 },
		{ "date", "2024-13-01", 0 },
		{ "date", "24-01-01", 0 },
		{ "date-time", "2024-01-02T03:04:05Z", 1 },
		{ "date-time", "2024-01-02t03:04:05.123+07:00", 1 },
		{ "date-time", "2024-01-02T03:04:05", 0 },
		{ "date-time", "1998-12-31T23:59:60Z", 1 },
		{ "date-time", "1998-12-31T22:59:60Z", 0 },
		{ "time", "08:30:06Z", 1 },
		{ "time", "08:30:06", 0 },
		{ "time", "15:59:60-08:00", 1 },
		{ "time", "24:00:00Z", 0 },
		{ "duration", "P4DT12H30M5S", 1 },
		{ "duration", "P1W", 1 },
		{ "duration", "PT1M", 1 },
		{ "duration", "P", 0 },
		{ "duration", "PT", 0 },
		{ "duration", "P1D2H", 0 },
		{ "duration", "P1Y2D", 0 },
		{ "email", "joe.bloggs@example.com", 1 },
		{ "email", "\"a b\"@example.com", 1 },
		{ "email", "a@[127.0.0.1]", 1 },
		{ "email", ".a@example.com", 0 },
		{ "email", "a..b@example.com", 0 },
		{ "email", "example.com", 0 },
		{ "idn-email",
		  "\xec\x8b\xa4\xeb\xa1\x80@\xec\x8b\xa4\xeb\xa1\x80."
		  "\xed\x85\x8c\xec\x8a\xa4\xed\x8a\xb8",
		  1 },
		{ "hostname", "www.example.com", 1 },
		{ "hostname", "-a.com", 0 },
		{ "hostname", "a_b.com", 0 },
		{ "hostname", "xn--4gbwdl.xn--wgbh1c", 1 },
		{ "ipv4", "192.168.0.1", 1 },
		{ "ipv4", "256.0.0.1", 0 },
		{ "ipv4", "01.2.3.4", 0 },
		{ "ipv4", "1.2.3", 0 },
		{ "ipv6", "::1", 1 },
		{ "ipv6", "2001:db8::ff00:42:8329", 1 },
		{ "ipv6", "::ffff:192.168.0.1", 1 },
		{ "ipv6", "1:2:3:4:5:6:7:8:9", 0 },
		{ "ipv6", "1::2::3", 0 },
		{ "ipv6", "12345::", 0 },
		{ "uri", "https://example.com/a?b=c#d", 1 },
		{ "uri", "urn:isbn:0451450523", 1 },
		{ "uri", "//example.com", 0 },
		{ "uri", "http://exa mple.com", 0 },
		{ "uri", "http://[::1]:80/", 1 },
		{ "uri-reference", "../a/b?c", 1 },
		{ "uri-reference", "#frag", 1 },
		{ "uri-reference", "\\\\bad", 0 },
		{ "iri", "https://\xc3\xa9x.com/\xc3\xa9", 1 },
		{ "uri", "https://\xc3\xa9x.com/", 0 },
		{ "uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d16380", 1 },
		{ "uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d1638", 0 },
		{ "json-pointer", "/a/~0b/~1c", 1 },
		{ "json-pointer", "a", 0 },
		{ "json-pointer", "/~2", 0 },
		{ "json-pointer", "", 1 },
		{ "relative-json-pointer", "1/a", 1 },
		{ "relative-json-pointer", "0#", 1 },
		{ "relative-json-pointer", "01", 0 },
		{ "relative-json-pointer", "/a", 0 },
		{ "regex", "^[a-z]+\\d$", 1 },
		{ "regex", "^(abc", 0 },
		{ "uri-template", "http://example.com/{id}", 1 },
		{ "uri-template", "http://example.com/{id", 0 },
	};
	struct gw_js_registry *reg = gw_js_registry_new();
	struct gw_js_schema *s;
	struct gw_err err;
	json_t *meta;
	size_t i;

	(void)state;
	for (i = 0; i < GW_ARRAY_LEN(cases); i++) {
		int got = fmt_ok(cases[i].format, cases[i].value,
				 GW_JS_FORMAT_ASSERT);

		if (got != cases[i].ok)
			fail_msg("format %s on '%s': got %d, want %d",
				 cases[i].format, cases[i].value, got,
				 cases[i].ok);
		/* annotation only by default */
		assert_true(fmt_ok(cases[i].format, cases[i].value, 0));
	}
	/* unknown formats are annotations even when asserting */
	assert_true(fmt_ok("x-custom", "anything", GW_JS_FORMAT_ASSERT));
	/* only strings are checked */
	s = compile_with(NULL, "{\"format\": \"date\"}", GW_JS_FORMAT_ASSERT);
	assert_true(valid(s, "12"));
	first_error(s, "\"2024-02-30\"", "", "/format",
		    "'2024-02-30' is not a valid date: day out of range");
	gw_js_schema_free(s);

	/* a dialect whose $vocabulary requires format-assertion */
	meta = parse(
		"{\"$id\": \"https://example.com/meta/fa\","
		" \"$vocabulary\": {"
		"  \"https://json-schema.org/draft/2020-12/vocab/core\": true,"
		"  \"https://json-schema.org/draft/2020-12/vocab/validation\": "
		"true,"
		"  "
		"\"https://json-schema.org/draft/2020-12/vocab/"
		"format-assertion\": true}}");
	assert_non_null(reg);
	assert_int_equal(gw_js_registry_add(reg, NULL, meta, &err), GW_OK);
	json_decref(meta);
	s = compile_with(reg,
			 "{\"$schema\": \"https://example.com/meta/fa\","
			 " \"format\": \"ipv4\"}",
			 0);
	assert_false(valid(s, "\"1.2.3.400\""));
	assert_true(valid(s, "\"1.2.3.4\""));
	gw_js_schema_free(s);
	/* an unknown required vocabulary is refused */
	meta = parse(
		"{\"$id\": \"https://example.com/meta/odd\", \"$vocabulary\": {"
		" \"https://example.com/vocab/odd\": true}}");
	assert_int_equal(gw_js_registry_add(reg, NULL, meta, &err), GW_OK);
	json_decref(meta);
	assert_int_equal(
		compile_err(reg,
			    "{\"$schema\": \"https://example.com/meta/odd\"}",
			    &err),
		GW_ERR_SCHEMA_DEF);
	assert_non_null(strstr(err.msg, "https://example.com/vocab/odd"));
	gw_js_registry_free(reg);
}

static void test_jsonschema__error_locations_and_print(void **state)
{
	struct gw_js_schema *s;
	struct gw_js_errors errs;
	json_t *v;
	char buf[2048];
	FILE *f;
	size_t n;

	(void)state;
	s = compile("{\"type\": \"object\", \"required\": [\"id\", \"kind\"],"
		    " \"properties\": {\"id\": {\"type\": \"string\"},"
		    "  \"tags\": {\"type\": \"array\", \"items\": {\"type\": "
		    "\"string\"}}}}");
	v = parse("{\"id\": 7, \"tags\": [\"a\", 2]}");
	assert_false(gw_js_validate(s, v, &errs));
	assert_int_equal(errs.count, 3);
	assert_string_equal(errs.items[0].message,
			    "missing required property 'kind'");
	assert_string_equal(errs.items[0].instance_location, "");
	assert_string_equal(errs.items[0].keyword_location, "/required");
	assert_string_equal(errs.items[1].message,
			    "expected string, got integer");
	assert_string_equal(errs.items[1].instance_location, "/id");
	assert_string_equal(errs.items[1].keyword_location,
			    "/properties/id/type");
	assert_string_equal(errs.items[2].instance_location, "/tags/1");
	assert_string_equal(errs.items[2].keyword_location,
			    "/properties/tags/items/type");
	f = tmpfile();
	assert_non_null(f);
	gw_js_errors_print(&errs, "msg.json", f);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf,
			    "msg.json: (root): missing required property "
			    "'kind' (at /required)\n"
			    "msg.json: /id: expected string, got integer (at "
			    "/properties/id/type)\n"
			    "msg.json: /tags/1: expected string, got integer "
			    "(at /properties/tags/items/type)\n");
	gw_js_errors_release(&errs);
	assert_int_equal(errs.count, 0);
	json_decref(v);
	gw_js_schema_free(s);

	/* keys with '/' and '~' are escaped in pointers */
	s = compile("{\"properties\": {\"a/b~c\": {\"type\": \"null\"}}}");
	first_error(s, "{\"a/b~c\": 1}", "/a~1b~0c", "/properties/a~1b~0c/type",
		    "expected null, got integer");
	gw_js_schema_free(s);
}

static void test_jsonschema__big_numbers(void **state)
{
	struct gw_js_schema *s;
	json_error_t je;
	json_t *v;

	(void)state;
	/* 2^53 + 1 is not a double: compared exactly, not rounded */
	s = compile("{\"maximum\": 9007199254740992.0}");
	assert_true(valid(s, "9007199254740992"));
	assert_false(valid(s, "9007199254740993"));
	gw_js_schema_free(s);
	s = compile("{\"minimum\": 9223372036854775807}");
	assert_true(valid(s, "9223372036854775807"));
	assert_false(valid(s, "9223372036854775806"));
	assert_true(valid(s, "1e19"));
	assert_false(valid(s, "9.2e18"));
	gw_js_schema_free(s);
	s = compile("{\"exclusiveMaximum\": 0.1}");
	assert_true(valid(s, "0"));
	assert_false(valid(s, "0.1"));
	gw_js_schema_free(s);
	s = compile("{\"const\": 9007199254740993}");
	assert_false(valid(s, "9007199254740992.0"));
	assert_true(valid(s, "9007199254740993"));
	gw_js_schema_free(s);

	/* multipleOf in decimal */
	s = compile("{\"multipleOf\": 0.0001}");
	assert_true(valid(s, "0.0075"));
	assert_false(valid(s, "0.00751"));
	assert_true(valid(s, "12391239123"));
	first_error(s, "0.00751", "", "/multipleOf",
		    "expected a multiple of 0.0001, got 0.00751");
	gw_js_schema_free(s);
	s = compile("{\"multipleOf\": 0.01}");
	assert_true(valid(s, "19.99"));
	assert_true(valid(s, "-0.3"));
	assert_false(valid(s, "0.001"));
	gw_js_schema_free(s);
	s = compile("{\"multipleOf\": 0.123456789}");
	assert_false(valid(s, "1e308"));
	gw_js_schema_free(s);
	s = compile("{\"multipleOf\": 3}");
	assert_true(valid(s, "9223372036854775806"));
	assert_false(valid(s, "9223372036854775807"));
	assert_true(valid(s, "-9223372036854775806"));
	assert_false(valid(s, "-9223372036854775807"));
	assert_true(valid(s, "3e300"));
	assert_false(valid(s, "1e300"));
	gw_js_schema_free(s);
	s = compile("{\"multipleOf\": 9223372036854775807}");
	assert_true(valid(s, "9223372036854775807"));
	assert_false(valid(s, "9223372036854775806"));
	gw_js_schema_free(s);

	/* beyond jansson's range the parser refuses; nothing is rounded */
	v = json_loads("123456789012345678901234567890", JSON_DECODE_ANY, &je);
	assert_null(v);
	assert_non_null(strstr(je.text, "too big"));
}

static json_t *deep_array(int depth)
{
	json_t *v = json_array();
	int i;

	for (i = 1; i < depth; i++) {
		json_t *outer = json_array();

		assert_non_null(outer);
		json_array_append_new(outer, v);
		v = outer;
	}
	return v;
}

static void test_jsonschema__deep_nesting(void **state)
{
	struct gw_js_schema *s;
	struct gw_js_errors errs;
	struct gw_err err;
	json_t *v, *w, *schema;
	int i;

	(void)state;
	s = compile("{\"type\": \"array\", \"items\": {\"$ref\": \"#\"}}");
	v = deep_array(10000);
	assert_false(gw_js_validate(s, v, NULL));
	assert_false(gw_js_validate(s, v, &errs));
	assert_int_equal(errs.count, 1);
	assert_non_null(strstr(errs.items[0].message, "nested too deeply"));
	gw_js_errors_release(&errs);
	/* shallow documents still validate with the same schema */
	w = deep_array(100);
	assert_true(gw_js_validate(s, w, NULL));
	json_decref(w);
	gw_js_schema_free(s);

	/* messages quoting a deep value do not recurse without bound */
	s = compile("{\"enum\": [1, 2]}");
	first_error(s, "[[[[[[[[[[[[1]]]]]]]]]]]]", "", "/enum",
		    "expected one of [1,2], got [[[[[[[[[[[[1]]]]]]]]]]]]");
	assert_false(gw_js_validate(s, v, &errs));
	assert_int_equal(errs.count, 1);
	assert_non_null(
		strstr(errs.items[0].message, "expected one of [1,2], got "));
	gw_js_errors_release(&errs);
	gw_js_schema_free(s);

	/* equality on values deeper than the limit stops too */
	json_decref(v);
	v = deep_array(10005);
	s = compile("{\"uniqueItems\": true}");
	w = json_array();
	json_array_append(w, v);
	json_array_append(w, v);
	assert_false(gw_js_validate(s, w, &errs));
	assert_non_null(strstr(errs.items[0].message, "nested too deeply"));
	gw_js_errors_release(&errs);
	json_decref(w);
	gw_js_schema_free(s);
	json_decref(v);

	/* a schema referring to itself without consuming the instance */
	s = compile(
		"{\"$defs\": {\"a\": {\"$ref\": \"#/$defs/b\"},"
		" \"b\": {\"$ref\": \"#/$defs/a\"}}, \"$ref\": \"#/$defs/a\"}");
	assert_false(valid(s, "1"));
	gw_js_schema_free(s);

	/* a schema nested 10,000 levels deep is refused at compile time */
	schema = json_object();
	for (i = 0; i < 10000; i++) {
		json_t *outer = json_object();

		json_object_set_new(outer, "not", schema);
		schema = outer;
	}
	{
		struct gw_js_schema *t = NULL;

		assert_int_equal(gw_js_compile(NULL, schema, NULL, 0, &t, &err),
				 GW_ERR_SCHEMA_DEF);
		assert_null(t);
		assert_non_null(strstr(err.msg, "nested too deeply"));
	}
	json_decref(schema);
}

static void test_jsonschema__invalid_schemas(void **state)
{
	static const struct {
		const char *schema, *needle;
	} cases[] = {
		{ "{\"type\": \"str\"}", "'type'" },
		{ "{\"type\": [\"string\", \"string\"]}", "'type'" },
		{ "{\"minLength\": -1}", "'minLength'" },
		{ "{\"maxItems\": 1.5}", "'maxItems'" },
		{ "{\"multipleOf\": 0}", "'multipleOf'" },
		{ "{\"required\": [1]}", "'required'" },
		{ "{\"pattern\": \"(\"}", "invalid regular expression '('" },
		{ "{\"patternProperties\": {\"[\": true}}",
		  "invalid regular expression '['" },
		{ "{\"properties\": {\"a\": 1}}", "/properties/a" },
		{ "{\"items\": [true]}", "/items" },
		{ "{\"allOf\": []}", "'allOf'" },
		{ "{\"enum\": 1}", "'enum'" },
		{ "{\"$ref\": 1}", "'$ref'" },
		{ "{\"$anchor\": \"1x\"}", "$anchor" },
		{ "{\"$id\": \"http://a/b#frag\"}", "fragment" },
		{ "{\"$schema\": \"http://json-schema.org/draft-07/schema#\"}",
		  "unsupported dialect" },
		{ "{\"$schema\": \"https://example.com/unknown-meta\"}",
		  "'https://example.com/unknown-meta'" },
		{ "{\"$defs\": {\"a\": {\"$id\": \"urn:x\"}, \"b\": {\"$id\": "
		  "\"urn:x\"}}}",
		  "duplicate" },
		{ "3", "expected an object or a boolean" },
	};
	struct gw_err err;
	size_t i;

	(void)state;
	for (i = 0; i < GW_ARRAY_LEN(cases); i++) {
		gw_rc rc = compile_err(NULL, cases[i].schema, &err);

		if (rc != GW_ERR_SCHEMA_DEF ||
		    !strstr(err.msg, cases[i].needle))
			fail_msg("schema %s: rc %d, message '%s' lacks '%s'",
				 cases[i].schema, rc, err.msg, cases[i].needle);
	}
}

static void test_jsonschema__compile_file_and_dir(void **state)
{
	char dir[] = "/tmp/gwjsXXXXXX", a[256], b[256];
	struct gw_js_registry *reg = gw_js_registry_new();
	struct gw_js_schema *s = NULL;
	struct gw_err err;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/defs.json", dir);
	snprintf(b, sizeof(b), "%s/main.json", dir);
	assert_non_null(f = fopen(a, "w"));
	fputs("{\"$id\": \"urn:ex:defs\", \"$defs\": {\"id\": {\"type\": "
	      "\"string\"}}}",
	      f);
	fclose(f);
	assert_non_null(f = fopen(b, "w"));
	fputs("{\"properties\": {\"id\": {\"$ref\": "
	      "\"urn:ex:defs#/$defs/id\"}}}",
	      f);
	fclose(f);
	assert_int_equal(gw_js_registry_add_dir(reg, dir, &err), GW_OK);
	assert_int_equal(gw_js_compile_file(reg, b, 0, &s, &err), GW_OK);
	assert_true(valid(s, "{\"id\": \"x\"}"));
	assert_false(valid(s, "{\"id\": 1}"));
	gw_js_schema_free(s);
	assert_int_equal(
		gw_js_compile_file(reg, "/nonexistent/x.json", 0, &s, &err),
		GW_ERR_IO);
	unlink(a);
	unlink(b);
	rmdir(dir);
	gw_js_registry_free(reg);
}

static void test_jsonschema__alloc_failure(void **state)
{
	const char *text = "{\"$id\": \"urn:t\", \"type\": \"object\","
			   " \"properties\": {\"a\": {\"$ref\": \"#/$defs/s\"},"
			   "  \"b\": {\"pattern\": \"^x\"}},"
			   " \"$defs\": {\"s\": {\"$dynamicAnchor\": \"s\", "
			   "\"type\": \"string\"}},"
			   " \"anyOf\": [{\"required\": [\"a\"]}, "
			   "{\"required\": [\"b\"]}],"
			   " \"unevaluatedProperties\": false}";
	json_t *js = parse(text),
	       *inst = parse("{\"a\": 1, \"b\": \"y\", \"c\": 2}");
	long n;
	int compiled = 0, validated = 0;

	(void)state;
	for (n = 0; n < 2000 && !(compiled && validated); n++) {
		struct gw_js_schema *s = NULL;
		struct gw_js_errors errs;
		struct gw_err err;
		gw_rc rc;

		gw_alloc_fail_after(n);
		rc = gw_js_compile(NULL, js, NULL, 0, &s, &err);
		if (rc) {
			gw_alloc_fail_after(-1);
			assert_int_equal(rc, GW_ERR_NOMEM);
			assert_null(s);
			continue;
		}
		compiled = 1;
		gw_alloc_fail_after(-1);
		/* now fail inside validation */
		gw_alloc_fail_after(n / 4);
		assert_false(gw_js_validate(s, inst, &errs));
		gw_alloc_fail_after(-1);
		if (errs.count >= 3)
			validated = 1;
		gw_js_errors_release(&errs);
		gw_js_schema_free(s);
	}
	gw_alloc_fail_after(-1);
	assert_true(compiled);
	json_decref(js);
	json_decref(inst);
}

struct thread_arg {
	const struct gw_js_schema *s;
	json_t *good, *bad;
	int failures;
};

static void *validate_many(void *p)
{
	struct thread_arg *a = p;
	int i;

	for (i = 0; i < 2000; i++) {
		struct gw_js_errors errs;

		if (!gw_js_validate(a->s, a->good, NULL))
			a->failures++;
		if (gw_js_validate(a->s, a->bad, &errs) || errs.count != 2)
			a->failures++;
		gw_js_errors_release(&errs);
	}
	return NULL;
}

static void test_jsonschema__threads_share_a_schema(void **state)
{
	struct gw_js_schema *s;
	struct thread_arg args[4];
	pthread_t t[4];
	json_t *good = parse("{\"id\": \"ab\", \"n\": [1, 2]}");
	json_t *bad = parse("{\"id\": \"xy\", \"n\": [1, \"2\"]}");
	int i;

	(void)state;
	s = compile("{\"properties\": {\"id\": {\"pattern\": \"^a\"},"
		    " \"n\": {\"items\": {\"$dynamicRef\": \"#num\"}}},"
		    " \"$defs\": {\"num\": {\"$dynamicAnchor\": \"num\", "
		    "\"type\": \"integer\"}},"
		    " \"unevaluatedProperties\": false}");
	for (i = 0; i < 4; i++) {
		args[i].s = s;
		args[i].good = good;
		args[i].bad = bad;
		args[i].failures = 0;
		assert_int_equal(
			pthread_create(&t[i], NULL, validate_many, &args[i]),
			0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
	json_decref(good);
	json_decref(bad);
	gw_js_schema_free(s);
}

/* The verdict-only walk's shortcuts (declared properties looked up by
 * hash, additionalProperties false by count, "$ref"-only nodes skipped,
 * code points counted only when bytes cannot decide) agree with the full
 * walk, and a "$ref"-only cycle still ends with an error, not a hang. */
static void test_jsonschema__verdict_fast_paths(void **state)
{
	struct gw_js_schema *s;
	struct gw_js_errors errs;
	json_t *v;

	(void)state;
	s = compile("{\"type\": \"object\", \"additionalProperties\": false,"
		    " \"properties\": {\"a\": {\"$ref\": \"#/$defs/t\"},"
		    " \"b\": {\"$ref\": \"#/$defs/r\"}},"
		    " \"$defs\": {\"r\": {\"$ref\": \"#/$defs/t\"},"
		    " \"t\": {\"type\": \"string\", \"minLength\": 2,"
		    " \"maxLength\": 3}}}");
	assert_true(valid(s, "{}"));
	assert_true(valid(s, "{\"a\": \"xy\", \"b\": \"xyz\"}"));
	assert_false(valid(s, "{\"a\": \"xy\", \"c\": 1}"));
	assert_false(valid(s, "{\"c\": 1}"));
	assert_false(valid(s, "{\"b\": \"x\"}"));
	assert_false(valid(s, "{\"b\": \"wxyz\"}"));
	/* 3 code points in 9 bytes: within maxLength 3 */
	assert_true(valid(s, "{\"a\": \"\\u1ea1\\u1ea1\\u1ea1\"}"));
	/* 2 code points in 8 bytes (outside the BMP): minLength 2 holds */
	assert_true(valid(s, "{\"a\": \"\\ud83d\\ude00\\ud83d\\ude00\"}"));
	assert_false(valid(s, "{\"a\": \"\\ud83d\\ude00\"}"));
	first_error(s, "{\"a\": \"xy\", \"zz\": 1}", "/zz",
		    "/additionalProperties", "property 'zz' is not allowed");
	gw_js_schema_free(s);

	/* additionalProperties with a schema takes the general path */
	s = compile("{\"properties\": {\"a\": true},"
		    " \"additionalProperties\": {\"type\": \"integer\"}}");
	assert_true(valid(s, "{\"a\": \"x\", \"b\": 1}"));
	assert_false(valid(s, "{\"a\": \"x\", \"b\": \"y\"}"));
	gw_js_schema_free(s);

	s = compile("{\"$ref\": \"#/$defs/a\", \"$defs\": {\"a\":"
		    " {\"$ref\": \"#/$defs/b\"}, \"b\": {\"$ref\":"
		    " \"#/$defs/a\"}}}");
	v = parse("1");
	assert_false(gw_js_validate(s, v, NULL));
	assert_false(gw_js_validate(s, v, &errs));
	assert_int_equal(errs.count, 1);
	assert_non_null(strstr(errs.items[0].message, "nested too deeply"));
	gw_js_errors_release(&errs);
	json_decref(v);
	gw_js_schema_free(s);
}

/* Patterns the validator matches with its own DFA (anchored, ASCII-only)
 * against the same patterns through PCRE2 (a leading "(?=)" keeps them
 * off the DFA): the verdicts must agree on every subject. */
static void test_jsonschema__pattern_dfa(void **state)
{
	static const char *const patterns[] = {
		"^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-"
		"[0-9a-f]{12}$",
		"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|"
		"2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,9})?(Z|[+-]([01]"
		"[0-9]|2[0-3]):[0-5][0-9])$",
		"^[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?"
		")"
		"?$",
		"^[0-9A-Z]{2,3}(\\.[0-9A-Z]{2}){2,3}\\.[0-9A-Z]{2,4}$",
		"^-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,20})?$",
		"^[a-z][a-zA-Z0-9_]{0,63}$",
		"^(a|bc)*d?$",
		"^a|b$",
		"^a\\$",
		"^\\\\$",
		"^[\\d.-]+$",
		"^[-a]{2}$",
		"^x{2,3}?y+?$",
		"^(?:ab){0,2}$",
		"^(a*)*b$",
		"^\\w+@\\w+\\.[a-z]{2,}$",
		"^$",
		"^()$",
		"^a{0}b$",
		"^[^a]$",
		"^.$",
		"^a\\b$",
		"^(?=a)a$",
		"^((((((((((((((((((((a|b))))))))))))))))))))+$",
		"^(((a)))[()]+$",
	};
	static const char alphabet[] =
		"0123456789abcdefQTZ-:.+_@A\\$()\xc3\xa9";
	uint32_t seed = 12345;
	size_t i, k;
	int t;

	(void)state;
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		json_t *a = json_pack("{ss}", "pattern", patterns[i]);
		char pre[512];
		json_t *b;
		struct gw_js_schema *sa = NULL, *sb = NULL;
		struct gw_err err;

		snprintf(pre, sizeof(pre), "(?=)%s", patterns[i]);
		b = json_pack("{ss}", "pattern", pre);
		assert_int_equal(gw_js_compile(NULL, a, NULL, 0, &sa, &err),
				 GW_OK);
		assert_int_equal(gw_js_compile(NULL, b, NULL, 0, &sb, &err),
				 GW_OK);
		for (t = 0; t < 3000; t++) {
			char subj[64];
			size_t len;
			json_t *v;

			seed = seed * 1103515245u + 12345u;
			len = (seed >> 16) % 40;
			for (k = 0; k < len; k++) {
				seed = seed * 1103515245u + 12345u;
				subj[k] = alphabet[(seed >> 16) %
						   (sizeof(alphabet) - 1)];
			}
			/* cut a 2-byte character in half: not UTF-8 */
			if (len && (unsigned char)subj[len - 1] == 0xc3)
				len--;
			v = json_stringn(subj, len);
			if (!v)
				continue; /* a lone continuation byte */
			if (gw_js_validate(sa, v, NULL) !=
			    gw_js_validate(sb, v, NULL))
				fail_msg("pattern '%s' on '%.*s': the DFA and "
					 "PCRE2 disagree",
					 patterns[i], (int)len, subj);
			json_decref(v);
		}
		json_decref(a);
		json_decref(b);
		gw_js_schema_free(sa);
		gw_js_schema_free(sb);
	}
	/* subjects that match, and near misses */
	{
		struct gw_js_schema *s = compile(
			"{\"pattern\": \"^[0-9]{4}-(0[1-9]|1[0-2])$\"}");

		assert_true(valid(s, "\"2024-12\""));
		assert_true(valid(s, "\"0000-01\""));
		assert_false(valid(s, "\"2024-13\""));
		assert_false(valid(s, "\"2024-1\""));
		assert_false(valid(s, "\"2024-12 \""));
		assert_false(valid(s, "\"\\u00e924-12\""));
		assert_true(valid(s, "12"));
		gw_js_schema_free(s);
	}
}

/* The verdict walk's own paths for objects and enums. */
static void test_jsonschema__verdict_keys_and_enums(void **state)
{
	struct gw_js_schema *s;
	struct gw_buf b;
	int i;

	(void)state;
	/* a required name that is not a declared property */
	s = compile("{\"properties\": {\"a\": {}},"
		    " \"additionalProperties\": {\"type\": \"integer\"},"
		    " \"required\": [\"a\", \"c\"]}");
	assert_true(valid(s, "{\"a\": \"x\", \"c\": 1}"));
	assert_false(valid(s, "{\"a\": \"x\"}"));
	assert_false(valid(s, "{\"c\": 1}"));
	assert_false(valid(s, "{\"a\": \"x\", \"c\": \"y\"}"));
	assert_true(valid(s, "[]"));
	gw_js_schema_free(s);

	/* required properties, declared ones, no additionalProperties */
	s = compile("{\"properties\": {\"a\": {\"type\": \"string\"},"
		    " \"ab\": {\"type\": \"integer\"}, \"ba\": false},"
		    " \"required\": [\"ab\"]}");
	assert_true(valid(s, "{\"ab\": 1}"));
	assert_true(valid(s, "{\"ab\": 1, \"a\": \"x\", \"b\": null}"));
	assert_false(valid(s, "{\"ab\": \"1\"}"));
	assert_false(valid(s, "{\"a\": \"x\"}"));
	assert_false(valid(s, "{\"ab\": 1, \"ba\": 1}"));
	assert_false(valid(s, "{\"ab\": 1, \"a\": 2}"));
	gw_js_schema_free(s);

	/* names of 4 to 17 bytes that differ in one byte only */
	s = compile("{\"additionalProperties\": false, \"properties\": {"
		    " \"abcdefghij\": {\"type\": \"integer\"},"
		    " \"abcdefghiJ\": {\"type\": \"string\"},"
		    " \"abcde\": {\"type\": \"integer\"},"
		    " \"abCde\": {\"type\": \"string\"},"
		    " \"0123456789abcdefg\": {\"type\": \"integer\"}}}");
	assert_true(valid(s, "{\"abcdefghij\": 1, \"abcdefghiJ\": \"x\"}"));
	assert_false(valid(s, "{\"abcdefghiJ\": 1}"));
	assert_false(valid(s, "{\"abcdefghiX\": 1}"));
	assert_false(valid(s, "{\"Abcdefghij\": 1}"));
	assert_true(valid(s, "{\"abcde\": 1, \"abCde\": \"x\"}"));
	assert_false(valid(s, "{\"abCde\": 1}"));
	assert_false(valid(s, "{\"abcdE\": 1}"));
	assert_true(valid(s, "{\"0123456789abcdefg\": 1}"));
	assert_false(valid(s, "{\"0123456789abcdefG\": 1}"));
	assert_false(valid(s, "{\"0123456789abcdef\": 1}"));
	gw_js_schema_free(s);

	/* more than 64 declared properties: the general path */
	gw_buf_init(&b);
	assert_int_equal(gw_buf_adds(&b, "{\"additionalProperties\": false,"
					 " \"required\": [\"p69\"],"
					 " \"properties\": {"),
			 GW_OK);
	for (i = 0; i < 70; i++)
		assert_int_equal(gw_buf_addf(&b,
					     "%s\"p%d\": {\"type\": "
					     "\"integer\"}",
					     i ? ", " : "", i),
				 GW_OK);
	assert_int_equal(gw_buf_adds(&b, "}}"), GW_OK);
	s = compile(b.data);
	gw_buf_release(&b);
	assert_true(valid(s, "{\"p69\": 1, \"p0\": 2}"));
	assert_false(valid(s, "{\"p0\": 2}"));
	assert_false(valid(s, "{\"p69\": 1, \"p70\": 2}"));
	assert_false(valid(s, "{\"p69\": 1, \"p3\": \"x\"}"));
	gw_js_schema_free(s);

	/* string enums and consts compare bytes; other types never equal */
	s = compile("{\"enum\": [\"a\", \"bc\", \"\\u00e9\"]}");
	assert_true(valid(s, "\"bc\""));
	assert_true(valid(s, "\"\\u00e9\""));
	assert_false(valid(s, "\"b\""));
	assert_false(valid(s, "\"bcd\""));
	assert_false(valid(s, "1"));
	assert_false(valid(s, "null"));
	assert_false(valid(s, "[\"a\"]"));
	gw_js_schema_free(s);
	s = compile("{\"enum\": [\"a\", 1.0]}");
	assert_true(valid(s, "1"));
	assert_true(valid(s, "\"a\""));
	assert_false(valid(s, "\"1\""));
	gw_js_schema_free(s);
	s = compile("{\"properties\": {\"k\": {\"const\": \"x\"}}}");
	assert_true(valid(s, "{\"k\": \"x\"}"));
	assert_false(valid(s, "{\"k\": \"xy\"}"));
	assert_false(valid(s, "{\"k\": [\"x\"]}"));
	assert_true(valid(s, "{\"j\": 1}"));
	gw_js_schema_free(s);
}

static void test_jsonschema__repo_message_schema(void **state)
{
	struct gw_js_schema *s = NULL;
	struct gw_err err;

	(void)state;
	/* the gateway's own schema compiles without any meta-schema loaded */
	if (access("schemas/message-1.schema.json", R_OK) != 0)
		skip();
	assert_int_equal(gw_js_compile_file(NULL,
					    "schemas/message-1.schema.json", 0,
					    &s, &err),
			 GW_OK);
	assert_false(valid(s, "{}"));
	gw_js_schema_free(s);
}

/* Draft 2019-09 schemas validate as 2020-12 when they use only the
 * keywords both drafts share (the official SDMX-JSON schema does); the
 * keywords whose meaning changed are refused, never guessed. */
static void test_jsonschema__draft2019_shared_keywords(void **state)
{
	struct gw_js_schema *s;
	struct gw_err err;

	(void)state;
	s = compile_with(NULL,
			 "{\"$schema\": "
			 "\"https://json-schema.org/draft/2019-09/schema\","
			 " \"type\": \"object\", \"$ref\": \"#/$defs/a\","
			 " \"properties\": {\"t\": {\"format\": "
			 "\"date-time\"}}, \"unevaluatedProperties\": false,"
			 " \"$defs\": {\"a\": {\"properties\": {\"x\": "
			 "{\"items\": {\"type\": \"integer\"}}}}}}",
			 GW_JS_FORMAT_ASSERT);
	assert_true(
		valid(s, "{\"x\": [1, 2], \"t\": \"2024-07-08T09:00:00Z\"}"));
	assert_false(valid(s, "{\"x\": [1, \"2\"]}"));
	assert_false(valid(s, "{\"y\": 1}"));
	assert_false(valid(s, "{\"t\": \"2024-13-08T09:00:00Z\"}"));
	gw_js_schema_free(s);
	assert_int_equal(
		compile_err(NULL,
			    "{\"$schema\": "
			    "\"https://json-schema.org/draft/2019-09/schema\","
			    " \"$recursiveRef\": \"#\"}",
			    &err),
		GW_ERR_SCHEMA_DEF);
	assert_non_null(strstr(err.msg, "$recursiveRef"));
	assert_int_equal(
		compile_err(NULL,
			    "{\"$schema\": "
			    "\"https://json-schema.org/draft/2019-09/schema\","
			    " \"items\": [{\"type\": \"string\"}]}",
			    &err),
		GW_ERR_SCHEMA_DEF);
	assert_non_null(strstr(err.msg, "draft 2019-09 form"));
	assert_int_equal(
		compile_err(NULL,
			    "{\"$schema\": "
			    "\"http://json-schema.org/draft-07/schema#\"}",
			    &err),
		GW_ERR_SCHEMA_DEF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonschema__types),
		cmocka_unit_test(test_jsonschema__strings_and_patterns),
		cmocka_unit_test(test_jsonschema__refs),
		cmocka_unit_test(test_jsonschema__dynamic_refs),
		cmocka_unit_test(test_jsonschema__unevaluated),
		cmocka_unit_test(test_jsonschema__applicators),
		cmocka_unit_test(test_jsonschema__formats),
		cmocka_unit_test(test_jsonschema__error_locations_and_print),
		cmocka_unit_test(test_jsonschema__big_numbers),
		cmocka_unit_test(test_jsonschema__deep_nesting),
		cmocka_unit_test(test_jsonschema__invalid_schemas),
		cmocka_unit_test(test_jsonschema__compile_file_and_dir),
		cmocka_unit_test(test_jsonschema__alloc_failure),
		cmocka_unit_test(test_jsonschema__threads_share_a_schema),
		cmocka_unit_test(test_jsonschema__repo_message_schema),
		cmocka_unit_test(test_jsonschema__draft2019_shared_keywords),
		cmocka_unit_test(test_jsonschema__verdict_fast_paths),
		cmocka_unit_test(test_jsonschema__pattern_dfa),
		cmocka_unit_test(test_jsonschema__verdict_keys_and_enums),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
