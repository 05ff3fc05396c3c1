/*
 * replay.c - the main() of a fuzz harness built without libFuzzer: runs
 * LLVMFuzzerTestOneInput once on each file named on the command line and
 * prints "ok FILE" after each, so `make test` replays the corpora
 * (tests/fuzz/corpus/, tests/fuzz/regress/) through a plain or sanitized
 * build, and a crash names the file it happened on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int i, bad = 0;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		size_t len = 0, cap = 0, n;

		if (!f) {
			fprintf(stderr, "replay: cannot open '%s'\n", argv[i]);
			bad = 1;
			continue;
		}
		do {
			if (len == cap) {
				uint8_t *b = realloc(buf, cap = cap ? cap * 2
								    : 4096);

				if (!b)
					abort();
				buf = b;
			}
			n = fread(buf + len, 1, cap - len, f);
			len += n;
		} while (n > 0);
		fclose(f);
		/* a copy of exactly len bytes, as libFuzzer gives, so an
		 * overread is caught under ASan */
		{
			uint8_t *exact = malloc(len ? len : 1);

			if (!exact)
				abort();
			for (n = 0; n < len; n++)
				exact[n] = buf[n];
			LLVMFuzzerTestOneInput(exact, len);
			free(exact);
		}
		free(buf);
		printf("ok %s\n", argv[i]);
		fflush(stdout);
	}
	return bad;
}
