/*
 * fuzz_http.c - libFuzzer target for the server's reading of HTTP/1.1
 * request framing (net/reqlimit.c: heads, Content-Length, chunked bodies,
 * Expect: 100-continue), with a body limit of 64 bytes so that refusals
 * are reached. The first byte sets the size of the pieces the bytes
 * arrive in (1 to 256), the rest is what a client sends. Checked: what
 * is passed on to evhttp is never longer than what came in plus, per
 * refused request, the rewritten head's few bytes.
 */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>

#include "net/reqlimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *out;
	uint64_t big = 0;
	size_t reqs;

	if (size < 1 || !(out = evbuffer_new()))
		return 0;
	reqs = gw_reqlimit_run(64, (const char *)data + 1, size - 1,
			       (size_t)data[0] + 1, out, &big);
	if (big > reqs || evbuffer_get_length(out) > size - 1 + 64 * big)
		abort();
	evbuffer_free(out);
	return 0;
}
