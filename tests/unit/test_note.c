/* test_note.c - C2SP signed notes (crypto/note.c): a note signed and
 * verified under its verifier key, the checkpoint text, and refusals: a
 * changed text or signature, another key, a key hash that does not match,
 * malformed notes and keys, bad names and texts, a key that is not
 * Ed25519. The keys are made in-process. (Interoperability with Go's
 * sumdb/note is tests/integration/audit_note.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/common.h"
#include "crypto/note.h"
#include "crypto/sign.h"

static struct gw_sign_key *ed, *ed2, *ec;

static struct gw_sign_key *make_key(const char *type)
{
	char path[] = "/tmp/test_note.XXXXXX";
	EVP_PKEY *k = !strcmp(type, "ed25519")
			      ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
			      : EVP_EC_gen("P-256");
	struct gw_sign_key *out = NULL;
	struct gw_err err;
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	assert_non_null(k);
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	assert_int_equal(gw_sign_key_load(path, NULL, NULL, NULL, &out, &err),
			 GW_OK);
	unlink(path);
	EVP_PKEY_free(k);
	return out;
}

static int setup(void **state)
{
	(void)state;
	ed = make_key("ed25519");
	ed2 = make_key("ed25519");
	ec = make_key("ec");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gw_sign_key_free(ed);
	gw_sign_key_free(ed2);
	gw_sign_key_free(ec);
	return 0;
}

static void test_note__sign_verify(void **state)
{
	const unsigned char root[32] = { 1, 2, 3 };
	struct gw_buf text, note, vk, vk2;
	struct gw_err err;
	size_t tl = 0;

	(void)state;
	gw_buf_init(&text);
	gw_buf_init(&note);
	gw_buf_init(&vk);
	gw_buf_init(&vk2);
	assert_int_equal(gw_note_checkpoint_text("example.org/log", 42, root,
						 &text, &err),
			 GW_OK);
	assert_string_equal(text.data,
			    "example.org/log\n42\n"
			    "AQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	assert_int_equal(
		gw_note_sign(ed, "example.org/log", text.data, &note, &err),
		GW_OK);
	assert_int_equal(gw_note_vkey(ed, "example.org/log", &vk, &err), GW_OK);
	assert_int_equal(strncmp(vk.data, "example.org/log+", 16), 0);
	assert_int_equal(strlen(vk.data), 16 + 8 + 1 + 44);
	/* the text, an empty line, "— NAME BASE64" */
	assert_int_equal(memcmp(note.data, text.data, text.len), 0);
	assert_int_equal(strncmp(note.data + text.len,
				 "\n\xe2\x80\x94 example.org/log ", 21),
			 0);
	assert_int_equal(
		gw_note_verify(vk.data, note.data, note.len, &tl, &err), GW_OK);
	assert_int_equal(tl, text.len);
	/* a changed text, a changed signature */
	note.data[17] ^= 1;
	assert_int_equal(
		gw_note_verify(vk.data, note.data, note.len, NULL, &err),
		GW_ERR_REFUSED);
	note.data[17] ^= 1;
	note.data[note.len - 3] = note.data[note.len - 3] == 'A' ? 'B' : 'A';
	assert_int_equal(
		gw_note_verify(vk.data, note.data, note.len, NULL, &err),
		GW_ERR_REFUSED);
	/* another key under the same name: its hash differs, not found */
	assert_int_equal(gw_note_vkey(ed2, "example.org/log", &vk2, &err),
			 GW_OK);
	assert_int_equal(
		gw_note_verify(vk2.data, note.data, note.len, NULL, &err),
		GW_ERR_REFUSED);
	assert_non_null(strstr(err.msg, "no signature by 'example.org/log'"));
	gw_buf_release(&text);
	gw_buf_release(&note);
	gw_buf_release(&vk);
	gw_buf_release(&vk2);
}

static void test_note__refusals(void **state)
{
	static const char good[] = "a\nb\n";
	struct gw_buf out, vk;
	struct gw_err err;
	char bad[256] = "";

	(void)state;
	gw_buf_init(&out);
	gw_buf_init(&vk);
	/* names and texts */
	assert_int_equal(gw_note_sign(ed, "", good, &out, &err), GW_ERR_USAGE);
	assert_int_equal(gw_note_sign(ed, "a+b", good, &out, &err),
			 GW_ERR_USAGE);
	assert_int_equal(gw_note_sign(ed, "a b", good, &out, &err),
			 GW_ERR_USAGE);
	assert_int_equal(gw_note_sign(ed, "n", "no newline", &out, &err),
			 GW_ERR_USAGE);
	assert_int_equal(gw_note_sign(ed, "n", "a\n\nb\n", &out, &err),
			 GW_ERR_USAGE);
	assert_int_equal(gw_note_sign(ed, "n", "a\tb\n", &out, &err),
			 GW_ERR_USAGE);
	assert_int_equal(gw_note_checkpoint_text("a log", 1,
						 (const unsigned char *)bad,
						 &out, &err),
			 GW_ERR_USAGE);
	/* a key that is not Ed25519 */
	assert_int_equal(gw_note_sign(ec, "n", good, &out, &err), GW_ERR_USAGE);
	assert_non_null(strstr(err.msg, "Ed25519"));
	assert_int_equal(out.len, 0);
	/* malformed verifier keys and notes */
	assert_int_equal(gw_note_vkey(ed, "n", &vk, &err), GW_OK);
	assert_int_equal(gw_note_sign(ed, "n", good, &out, &err), GW_OK);
	assert_int_equal(gw_note_verify("n", out.data, out.len, NULL, &err),
			 GW_ERR_PARSE);
	assert_int_equal(
		gw_note_verify("n+0000000+AAAA", out.data, out.len, NULL, &err),
		GW_ERR_PARSE);
	snprintf(bad, sizeof(bad), "%s", vk.data);
	memcpy(bad + 2, "00000000", 8); /* the hash of another key */
	assert_int_equal(gw_note_verify(bad, out.data, out.len, NULL, &err),
			 GW_ERR_PARSE);
	assert_int_equal(
		gw_note_verify(vk.data, good, strlen(good), NULL, &err),
		GW_ERR_PARSE); /* no signatures */
	assert_int_equal(gw_note_verify(vk.data, "a\n\nnot a signature\n", 19,
					NULL, &err),
			 GW_ERR_PARSE);
	assert_int_equal(gw_note_verify(vk.data, "", 0, NULL, &err),
			 GW_ERR_PARSE);
	gw_buf_release(&out);
	gw_buf_release(&vk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_note__sign_verify),
		cmocka_unit_test(test_note__refusals),
	};
	struct gw_err err;

	if (gw_sign_init(&err) != GW_OK)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
