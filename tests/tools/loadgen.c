/*
 * loadgen.c - an HTTPS load generator for make bench (bench/bench_e2e.sh,
 * bench/bench_outbox.sh): POSTs bodies over libcurl multi with mutual TLS
 * and keep-alive, either as fast as the server answers (saturation: every
 * connection sends its next request as soon as the previous one answered)
 * or at a fixed offered rate, and prints one JSON object with the request
 * count, throughput and the latency distribution (p50, p99, p99.9, max).
 *
 * At a fixed rate, request i is due at start + i / rate and its latency is
 * measured from that due time, not from when a connection became free, so
 * a server that stalls is charged for the requests queued behind the stall
 * (no coordinated omission).
 *
 * usage: loadgen --url URL --bodies FILE [--cert PEM --key PEM] [--cacert PEM]
 *                [--conns N] [--duration S] [--warmup S] [--rate R]
 *                [--header "Name: value"]... [--content-type T] [--first I]
 * FILE holds one request body per line (e.g. flattened JWS, which has no
 * newline); the bodies are sent in turn from the I-th (default 0), cycling,
 * so that successive runs can go on where the previous one stopped. Exit 0 when the run
 * completed (errors are counted in the output), 2 usage, 3 set-up failure.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HIST_FINE 10000	   /* 0..10 ms by 1 us */
#define HIST_COARSE 100000 /* 10 ms..10 s by 100 us */
#define MAX_CONNS 1024

struct hist {
	uint64_t fine[HIST_FINE], coarse[HIST_COARSE], over;
	uint64_t n;
	double sum_us, max_us;
};

static void hist_add(struct hist *h, double us)
{
	if (us < 0)
		us = 0;
	if (us < HIST_FINE)
		h->fine[(size_t)us]++;
	else if (us < HIST_FINE + (double)HIST_COARSE * 100)
		h->coarse[(size_t)((us - HIST_FINE) / 100)]++;
	else
		h->over++;
	h->n++;
	h->sum_us += us;
	if (us > h->max_us)
		h->max_us = us;
}

/* The latency (ms) below which a fraction q of the samples fall. */
static double hist_q(const struct hist *h, double q)
{
	uint64_t want = (uint64_t)ceil(q * (double)h->n), seen = 0;
	size_t i;

	if (!h->n)
		return 0;
	/* the upper bound of the bucket, never above the largest sample */
	for (i = 0; i < HIST_FINE; i++)
		if ((seen += h->fine[i]) >= want)
			return fmin((double)(i + 1), h->max_us) / 1000.0;
	for (i = 0; i < HIST_COARSE; i++)
		if ((seen += h->coarse[i]) >= want)
			return fmin(HIST_FINE + (double)(i + 1) * 100,
				    h->max_us) /
			       1000.0;
	return h->max_us / 1000.0;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

struct conn {
	CURL *h;
	double due_us; /* when the request in flight was due */
	int busy;
};

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return s * n;
}

struct bodies {
	char **v;
	size_t *len;
	size_t n, next;
};

static int load_bodies(const char *path, struct bodies *b)
{
	FILE *f = fopen(path, "rb");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return -1;
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n)
			continue;
		b->v = realloc(b->v, (b->n + 1) * sizeof(*b->v));
		b->len = realloc(b->len, (b->n + 1) * sizeof(*b->len));
		if (!b->v || !b->len || !(b->v[b->n] = strdup(line)))
			return -1;
		b->len[b->n++] = (size_t)n;
	}
	free(line);
	fclose(f);
	return b->n ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen --url URL --bodies FILE [--cert PEM --key PEM] "
		"[--cacert PEM]\n"
		"               [--conns N] [--duration S] [--warmup S] "
		"[--rate "
		"R]\n"
		"               [--header 'Name: value']... [--content-type "
		"T] [--first I]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "bodies", required_argument, NULL, 'b' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'a' },
		{ "conns", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' },
		{ "header", required_argument, NULL, 'H' },
		{ "content-type", required_argument, NULL, 't' },
		{ "first", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	const char *url = NULL, *bodies_path = NULL, *cert = NULL, *key = NULL,
		   *ca = NULL, *ctype = "application/json";
	double duration = 10, warmup = 1, rate = 0;
	unsigned long first = 0;
	int nconns = 64, c, i, running, rc = 3;
	struct curl_slist *hdrs = NULL;
	static struct hist hist;
	struct bodies bodies = { 0 };
	struct conn *conns = NULL;
	uint64_t sent = 0, ok = 0, non2xx = 0, errors = 0, measured_ok = 0;
	double t0, t_end, t_meas, next_due;
	CURLM *m = NULL;
	char ct[256];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'b': bodies_path = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'a': ca = optarg; break;
		case 'n': nconns = atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'H': hdrs = curl_slist_append(hdrs, optarg); break;
		case 't': ctype = optarg; break;
		case 'f': first = strtoul(optarg, NULL, 10); break;
		default: usage(); return 2;
		}
	}
	if (!url || !bodies_path || nconns < 1 || nconns > MAX_CONNS ||
	    duration <= 0 || warmup < 0 || rate < 0) {
		usage();
		return 2;
	}
	if (load_bodies(bodies_path, &bodies)) {
		fprintf(stderr,
			"loadgen: cannot read bodies from '%s' (one "
			"per line)\n",
			bodies_path);
		return 3;
	}
	bodies.next = first % bodies.n;
	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
	hdrs = curl_slist_append(hdrs, ct);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	conns = calloc((size_t)nconns, sizeof(*conns));
	if (!m || !conns)
		goto out;
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)nconns);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)nconns);
	for (i = 0; i < nconns; i++) {
		CURL *h = curl_easy_init();

		if (!h)
			goto out;
		conns[i].h = h;
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(h, CURLOPT_PRIVATE, &conns[i]);
		curl_easy_setopt(h, CURLOPT_SSLVERSION,
				 (long)CURL_SSLVERSION_TLSv1_2);
		curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
		if (cert)
			curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
		if (key)
			curl_easy_setopt(h, CURLOPT_SSLKEY, key);
		if (ca)
			curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	}
	t0 = now_us();
	t_meas = t0 + warmup * 1e6;
	t_end = t_meas + duration * 1e6;
	next_due = t0;
	running = 0;
	for (;;) {
		double now = now_us();
		CURLMsg *msg;
		int left, still;

		/* start what is due on the free connections */
		for (i = 0; i < nconns && now < t_end; i++) {
			struct conn *k = &conns[i];
			size_t bi;

			if (k->busy)
				continue;
			if (rate > 0 && next_due > now)
				break;
			bi = bodies.next++ % bodies.n;
			curl_easy_setopt(k->h, CURLOPT_POSTFIELDS,
					 bodies.v[bi]);
			curl_easy_setopt(k->h, CURLOPT_POSTFIELDSIZE,
					 (long)bodies.len[bi]);
			k->due_us = rate > 0 ? next_due : now;
			if (rate > 0)
				next_due += 1e6 / rate;
			k->busy = 1;
			curl_multi_add_handle(m, k->h);
			running++;
			sent++;
		}
		if (!running && now >= t_end)
			break;
		curl_multi_perform(m, &still);
		while ((msg = curl_multi_info_read(m, &left))) {
			struct conn *k;
			long status = 0;
			double done = now_us();

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&k);
			curl_easy_getinfo(msg->easy_handle,
					  CURLINFO_RESPONSE_CODE, &status);
			if (msg->data.result != CURLE_OK) {
				errors++;
				if (errors <= 3)
					fprintf(stderr, "loadgen: %s\n",
						curl_easy_strerror(
							msg->data.result));
			} else if (status < 200 || status > 299) {
				non2xx++;
			} else {
				ok++;
			}
			if (k->due_us >= t_meas && done <= t_end) {
				hist_add(&hist, done - k->due_us);
				if (msg->data.result == CURLE_OK &&
				    status >= 200 && status <= 299)
					measured_ok++;
			}
			curl_multi_remove_handle(m, msg->easy_handle);
			k->busy = 0;
			running--;
		}
		{
			int wait_ms = 50;

			if (rate > 0 && now < t_end) {
				double d = (next_due - now_us()) / 1000.0;

				wait_ms = d < 0 ? 0 : d > 50 ? 50 : (int)d;
			}
			if (running || wait_ms > 0)
				curl_multi_poll(m, NULL, 0, wait_ms, NULL);
		}
	}
	printf("{\"url\": \"%s\", \"connections\": %d, \"offered_rate\": %.0f, "
	       "\"warmup_s\": %.1f, \"duration_s\": %.1f, \"sent\": %llu, "
	       "\"ok\": %llu, \"non2xx\": %llu, \"errors\": %llu, "
	       "\"measured\": %llu, \"rps\": %.1f, \"mean_ms\": %.3f, "
	       "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, "
	       "\"max_ms\": %.3f}\n",
	       url, nconns, rate, warmup, duration, (unsigned long long)sent,
	       (unsigned long long)ok, (unsigned long long)non2xx,
	       (unsigned long long)errors, (unsigned long long)hist.n,
	       (double)measured_ok / duration,
	       hist.n ? hist.sum_us / (double)hist.n / 1000.0 : 0.0,
	       hist_q(&hist, 0.5), hist_q(&hist, 0.99), hist_q(&hist, 0.999),
	       hist.max_us / 1000.0);
	rc = 0;
out:
	if (conns) {
		for (i = 0; i < nconns; i++) {
			if (!conns[i].h)
				continue;
			if (conns[i].busy)
				curl_multi_remove_handle(m, conns[i].h);
			curl_easy_cleanup(conns[i].h);
		}
		free(conns);
	}
	if (m)
		curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	for (size_t j = 0; j < bodies.n; j++)
		free(bodies.v[j]);
	free(bodies.v);
	free(bodies.len);
	curl_global_cleanup();
	return rc;
}
