/*
 * note.c - C2SP signed notes with Ed25519 keys (note.h).
 */
#include "crypto/note.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/digest.h"
#include "crypto/keys.h"

#define ALG_ED25519 0x01
#define DASH "\xe2\x80\x94 " /* U+2014 EM DASH, a space */

static int good_name(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (!*p)
		return 0;
	for (; *p; p++)
		if (*p == '+' || *p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

static int good_text(const char *t, size_t n)
{
	size_t i;

	if (!n || t[n - 1] != '\n')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if ((c < ' ' && c != '\n') || c == 0x7f)
			return 0;
		if (c == '\n' && (i == 0 || t[i - 1] == '\n'))
			return 0; /* an empty line ends the text */
	}
	return 1;
}

/* The 4-byte key hash of a public key under name. */
static uint32_t key_hash(const char *name, const unsigned char pub[32])
{
	unsigned char in[512 + 34], h[32];
	size_t n = strlen(name);

	if (n > 512)
		n = 512; /* names are checked shorter by the callers */
	memcpy(in, name, n);
	in[n] = '\n';
	in[n + 1] = ALG_ED25519;
	memcpy(in + n + 2, pub, 32);
	gw_sha256(in, n + 34, h);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	       (uint32_t)h[2] << 8 | h[3];
}

static gw_rc raw_pub(const struct gw_sign_key *k, unsigned char pub[32],
		     struct gw_err *err)
{
	size_t n = 32;

	if (!k || !k->pkey || EVP_PKEY_get_id(k->pkey) != EVP_PKEY_ED25519)
		return gw_err_set(err, GW_ERR_USAGE,
				  "a signed note needs an Ed25519 key");
	if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &n) != 1 || n != 32)
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "cannot read the Ed25519 public key: %s",
				  gw_ssl_error());
	return GW_OK;
}

/* GW_OK, or GW_ERR_USAGE for a key name a note cannot carry. */
static gw_rc check_name(const char *name, struct gw_err *err)
{
	if (!good_name(name) || strlen(name) > 512)
		return gw_err_set(
			err, GW_ERR_USAGE,
			"a note key's name must be non-empty, without "
			"'+' or white space: '%s'",
			name);
	return GW_OK;
}

gw_rc gw_note_checkpoint_text(const char *origin, uint64_t size,
			      const unsigned char root[32], struct gw_buf *out,
			      struct gw_err *err)
{
	if (!good_name(origin))
		return gw_err_set(err, GW_ERR_USAGE,
				  "a checkpoint's origin must be non-empty, "
				  "without '+' or white space: '%s'",
				  origin);
	if (gw_buf_addf(out, "%s\n%llu\n", origin, (unsigned long long)size) ||
	    gw_b64_encode(root, 32, 0, out) || gw_buf_adds(out, "\n"))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	return GW_OK;
}

gw_rc gw_note_vkey(const struct gw_sign_key *k, const char *name,
		   struct gw_buf *out, struct gw_err *err)
{
	unsigned char pub[33];
	gw_rc rc;

	if ((rc = check_name(name, err)))
		return rc;
	if ((rc = raw_pub(k, pub + 1, err)))
		return rc;
	pub[0] = ALG_ED25519;
	if (gw_buf_addf(out, "%s+%08x+", name, key_hash(name, pub + 1)) ||
	    gw_b64_encode(pub, sizeof(pub), 0, out))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	return GW_OK;
}

gw_rc gw_note_sign(const struct gw_sign_key *k, const char *name,
		   const char *text, struct gw_buf *out, struct gw_err *err)
{
	unsigned char pub[32], blob[4 + 64], *sig = NULL;
	size_t siglen = 0, n = strlen(text);
	uint32_t h;
	gw_rc rc;

	if ((rc = check_name(name, err)))
		return rc;
	if (!good_text(text, n))
		return gw_err_set(err, GW_ERR_USAGE,
				  "a note's text must end with a newline and "
				  "hold no empty line or control character");
	if ((rc = raw_pub(k, pub, err)) ||
	    (rc = gw_pk_sign(k->pkey, GW_SIGN_ALG_EDDSA, text, n, &sig, &siglen,
			     err)))
		return rc;
	if (siglen != 64) {
		free(sig);
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "an Ed25519 signature of %zu bytes", siglen);
	}
	h = key_hash(name, pub);
	blob[0] = (unsigned char)(h >> 24);
	blob[1] = (unsigned char)(h >> 16);
	blob[2] = (unsigned char)(h >> 8);
	blob[3] = (unsigned char)h;
	memcpy(blob + 4, sig, 64);
	free(sig);
	if (gw_buf_add(out, text, n) ||
	    gw_buf_addf(out, "\n" DASH "%s ", name) ||
	    gw_b64_encode(blob, sizeof(blob), 0, out) || gw_buf_adds(out, "\n"))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	return GW_OK;
}

/* Parse vkey into name (its length in *nl), hash and public key. */
static gw_rc parse_vkey(const char *vkey, size_t *nl, uint32_t *hash,
			unsigned char pub[32], struct gw_err *err)
{
	const char *p1 = strchr(vkey, '+'),
		   *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	char hex[9], *end;

	if (!p1 || !p2 || p1 == vkey || p2 - p1 != 9)
		return gw_err_set(
			err, GW_ERR_PARSE,
			"a verifier key is NAME+HASH+KEY (HASH: 8 hex "
			"digits)");
	memcpy(hex, p1 + 1, 8);
	hex[8] = '\0';
	*hash = (uint32_t)strtoul(hex, &end, 16);
	if (*end || strspn(hex, "0123456789abcdef") != 8)
		return gw_err_set(err, GW_ERR_PARSE,
				  "the verifier key's hash is not 8 lowercase "
				  "hex digits");
	if (gw_b64_decode(p2 + 1, strlen(p2 + 1), 0, &raw, &rawlen) ||
	    rawlen != 33 || raw[0] != ALG_ED25519) {
		free(raw);
		return gw_err_set(err, GW_ERR_PARSE,
				  "the verifier key is not an Ed25519 key "
				  "(base64 of 0x01 and 32 bytes)");
	}
	memcpy(pub, raw + 1, 32);
	free(raw);
	*nl = (size_t)(p1 - vkey);
	return GW_OK;
}

gw_rc gw_note_verify(const char *vkey, const char *note, size_t len,
		     size_t *text_len, struct gw_err *err)
{
	unsigned char pub[32];
	size_t nl = 0, tl, i;
	uint32_t hash = 0;
	const char *sigs, *p, *end = note + len;
	char name[513];
	EVP_PKEY *pk;
	gw_rc rc;

	if ((rc = parse_vkey(vkey, &nl, &hash, pub, err)))
		return rc;
	if (nl > 512)
		return gw_err_set(err, GW_ERR_PARSE,
				  "the key name is too long");
	memcpy(name, vkey, nl);
	name[nl] = '\0';
	if (key_hash(name, pub) != hash)
		return gw_err_set(err, GW_ERR_PARSE,
				  "the verifier key's hash does not match its "
				  "name and key");
	/* the text ends at the first empty line */
	for (i = 1; i < len && !(note[i] == '\n' && note[i - 1] == '\n'); i++)
		;
	if (i >= len || !good_text(note, i))
		return gw_err_set(err, GW_ERR_PARSE,
				  "not a signed note: no text followed by an "
				  "empty line and signatures");
	tl = i;
	sigs = note + i + 1;
	if (!(pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
					       32)))
		return gw_err_set(err, GW_ERR_INTERNAL, "%s", gw_ssl_error());
	rc = gw_err_set(err, GW_ERR_REFUSED,
			"no signature by '%s' (hash %08x) in the note", name,
			hash);
	for (p = sigs; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		unsigned char *blob = NULL;
		size_t blen = 0, dl = sizeof(DASH) - 1;

		if (!eol || (size_t)(eol - p) < dl + nl + 2 ||
		    memcmp(p, DASH, dl)) {
			rc = gw_err_set(err, GW_ERR_PARSE,
					"a signature line of the note is not "
					"'— NAME SIGNATURE'");
			break;
		}
		if (!memcmp(p + dl, name, nl) && p[dl + nl] == ' ' &&
		    !gw_b64_decode(p + dl + nl + 1,
				   (size_t)(eol - p - dl - nl - 1), 0, &blob,
				   &blen) &&
		    blen == 68 &&
		    ((uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
		     (uint32_t)blob[2] << 8 | blob[3]) == hash) {
			int ok = gw_pk_verify(pk, GW_SIGN_ALG_EDDSA, note, tl,
					      blob + 4, 64) == 1;

			free(blob);
			if (ok) {
				rc = GW_OK;
				break;
			}
			rc = gw_err_set(err, GW_ERR_REFUSED,
					"the signature by '%s' does not verify",
					name);
			break;
		}
		free(blob);
		p = eol + 1;
	}
	EVP_PKEY_free(pk);
	if (!rc && text_len)
		*text_len = tl;
	return rc;
}
