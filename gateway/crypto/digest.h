/*
 * digest.h - the hashes and random identifiers the layers above need
 * without including OpenSSL: SHA-256 (content digests of messages and
 * rows) and UUIDs (version 4 random, version 5 from a namespace and a
 * name, RFC 9562).
 */
#ifndef GW_DIGEST_H
#define GW_DIGEST_H

#include <stddef.h>

/* SHA-256 of n bytes into out (32 bytes). 0, or -1 when OpenSSL fails. */
int gw_sha256(const void *p, size_t n, unsigned char out[32]);

/* The same as 64 lowercase hex digits and a NUL (64 zeros and -1 when
 * OpenSSL fails, so that out is always a string). */
int gw_sha256_hex(const void *p, size_t n, char out[65]);

/* A random UUIDv4 as 36 characters and a NUL. 0, or -1 without entropy. */
int gw_uuid4(char out[37]);

/* The UUIDv5 (SHA-1) of name in the namespace ns (16 bytes). */
int gw_uuid5(const unsigned char ns[16], const char *name, char out[37]);

#endif
