/*
 * note.h - signed notes in the C2SP signed-note format
 * (https://c2sp.org/signed-note) with Ed25519 keys: the form in which
 * transparency logs publish checkpoints (C2SP tlog-checkpoint), so that
 * tools that are not ours (Go's golang.org/x/mod/sumdb/note, witnesses)
 * can verify and cosign the audit log's checkpoints.
 *
 * A note is its text (lines, each ending in a newline), an empty line,
 * then one line per signature: an em dash, a space, the key's name, a
 * space, and the base64 of the key's 4-byte hash followed by the 64-byte
 * Ed25519 signature of the text. The key hash is the first 4 bytes of
 * SHA-256(name, "\n", 0x01, the 32-byte public key); a verifier key is
 * written "NAME+HASH+BASE64(0x01, public key)" (HASH: 8 hex digits).
 */
#ifndef GW_NOTE_H
#define GW_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "crypto/sign.h"

/*
 * Append to out the note of text signed by k (an Ed25519 key) under
 * name. text must be non-empty, end with a newline, hold no empty line
 * and no control character but newlines; name must be non-empty, with no
 * '+' and no white space. GW_ERR_USAGE for a key that is not Ed25519 or
 * a bad text or name (naming which).
 */
gw_rc gw_note_sign(const struct gw_sign_key *k, const char *name,
		   const char *text, struct gw_buf *out, struct gw_err *err);

/*
 * Append to out the text of a C2SP tlog-checkpoint
 * (https://c2sp.org/tlog-checkpoint): the origin, the tree size in
 * decimal and the base64 of the RFC 9162 root hash, one per line.
 * GW_ERR_USAGE for an origin that is empty or holds white space or '+'.
 */
gw_rc gw_note_checkpoint_text(const char *origin, uint64_t size,
			      const unsigned char root[32], struct gw_buf *out,
			      struct gw_err *err);

/* Append to out the verifier key of k under name (see above). */
gw_rc gw_note_vkey(const struct gw_sign_key *k, const char *name,
		   struct gw_buf *out, struct gw_err *err);

/*
 * Verify note (len bytes) against the verifier key vkey: GW_OK when one
 * of its signature lines is by that key (name and hash) and verifies,
 * *text_len then the length of the text (its start is note). GW_ERR_PARSE
 * for a note or key that is not well formed, GW_ERR_REFUSED when no
 * signature of that key is there or it does not verify; err says which.
 */
gw_rc gw_note_verify(const char *vkey, const char *note, size_t len,
		     size_t *text_len, struct gw_err *err);

#endif
