/*
 * digest.c - SHA-256 and UUIDs over OpenSSL (digest.h).
 */
#include "crypto/digest.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

int gw_sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 0;

	if (!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) || len != 32)
		return -1;
	return 0;
}

int gw_sha256_hex(const void *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	int i;

	if (gw_sha256(p, n, md) != 0) {
		memset(out, '0', 64);
		out[64] = '\0';
		return -1;
	}
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

static void format_uuid(const unsigned char b[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x"
		 "%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

int gw_uuid4(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, 16) != 1)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	format_uuid(b, out);
	return 0;
}

int gw_uuid5(const unsigned char ns[16], const char *name, char out[37])
{
	unsigned char b[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
		 EVP_DigestUpdate(ctx, ns, 16) &&
		 EVP_DigestUpdate(ctx, name, strlen(name)) &&
		 EVP_DigestFinal_ex(ctx, b, &n);

	EVP_MD_CTX_free(ctx);
	if (!ok || n < 16)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x50);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	format_uuid(b, out);
	return 0;
}
