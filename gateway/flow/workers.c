/*
 * workers.c - the verification workers: the signature, the chain and the
 * schema are the CPU of a request. With server.workers > 0, a canonical
 * JSON or XML POST is handed to a small pool: each worker has its own
 * verifier (trust store) and validator, so the threads share nothing but
 * the job queues; the event loop stays the only thread touching the
 * transport, the partners, the inbox and the batch. A finished job is
 * queued back and the loop is woken through a pipe (gw_workers_fd);
 * gw_workers_collect then hands each job to the rest of the pipeline in
 * the loop as for an inline request. Wire formats (whose converter caches
 * schemas) stay in the loop.
 */
#define _GNU_SOURCE /* pipe2 */
#include "flow/workers.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "crypto/trust.h"
#include "flow/runtime.h"
#include "model/validate.h"

struct worker {
	struct gw_workers *pool;
	pthread_t th;
	int running;
	struct gw_sign_verifier *ver;
	struct gw_validator *vd;
};

struct gw_workers {
	const struct gw_receipt_signer *rs;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct gw_job *todo, *todo_tail, *done, *done_tail;
	int stop;
	int fds[2]; /* the workers wake the loop through it */
	int n;
	struct worker w[MAX_WORKERS];
};

static void job_free(struct gw_job *j)
{
	if (!j)
		return;
	size_t len = j->len;

	gw_check_release(&j->c);
	free(j->body);
	free(j);
	gw_trim_after(len);
}

/*
 * A valid JSON message's receipt, signed in the worker when the signing
 * key is a software key (the ES256/RS256 signature is most of a receipt's
 * CPU); a key in a PKCS#11 engine is used from the loop only. The receipt
 * is used only if the message turns out new (dedup stays in the loop,
 * after the signer and partner checks); a failure here leaves it to the
 * loop, which reports it. Reads only what does not change after start:
 * the key, its algorithms and the organization.
 */
static void sign_ahead(const struct gw_receipt_signer *rs, struct gw_job *j)
{
	struct gw_err err;
	const char *id;

	if (j->xml || j->c.status || j->c.vstatus || !j->c.val.json ||
	    !rs->key || rs->key->engine)
		return;
	id = json_string_value(json_object_get(j->c.val.json, "id"));
	if (!id || !gw_check_msg_id(id))
		return;
	gw_err_clear(&err);
	if (gw_receipt_make(rs, j->c.val.json, j->sha, 0, NULL, &j->c.rcpt,
			    &j->c.rlen, &j->c.rtype, &err))
		j->c.rcpt = NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct gw_workers *p = w->pool;

	for (;;) {
		struct gw_job *j;
		ssize_t wr;

		pthread_mutex_lock(&p->mu);
		while (!p->todo && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->todo) { /* stopping, nothing left */
			pthread_mutex_unlock(&p->mu);
			break;
		}
		j = p->todo;
		if (!(p->todo = j->next))
			p->todo_tail = NULL;
		pthread_mutex_unlock(&p->mu);

		/* the partner's signed: false only concerns wire formats,
		 * which never come here */
		gw_check_signed(w->ver, w->vd, NULL, 0, j->partner,
				j->peer_subject, j->body, j->len, j->xml,
				&j->c);
		sign_ahead(p->rs, j);

		pthread_mutex_lock(&p->mu);
		j->next = NULL;
		if (p->done_tail)
			p->done_tail->next = j;
		else
			p->done = j;
		p->done_tail = j;
		pthread_mutex_unlock(&p->mu);
		do /* one byte per job; a full pipe already wakes the loop */
			wr = write(p->fds[1], "j", 1);
		while (wr < 0 && errno == EINTR);
	}
	return NULL;
}

void gw_workers_collect(struct gw_workers *p, gw_workers_done_fn *done,
			void *arg)
{
	char drain[256];
	struct gw_job *j, *next;

	while (read(p->fds[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&p->mu);
	j = p->done;
	p->done = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	for (; j; j = next) {
		next = j->next;
		done(arg, j);
		job_free(j);
	}
}

void gw_workers_free(struct gw_workers *p)
{
	struct gw_job *j, *next;
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n; i++) {
		if (p->w[i].running)
			pthread_join(p->w[i].th, NULL);
		gw_sign_verifier_free(p->w[i].ver);
		gw_validator_free(p->w[i].vd);
	}
	/* the loop has ended: what was not answered goes with its
	 * connection (evhttp frees the requests) */
	for (j = p->done; j; j = next) {
		next = j->next;
		job_free(j);
	}
	for (j = p->todo; j; j = next) {
		next = j->next;
		job_free(j);
	}
	if (p->fds[0] >= 0)
		close(p->fds[0]);
	if (p->fds[1] >= 0)
		close(p->fds[1]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

gw_rc gw_workers_new(const struct gw_receipt_signer *rs, int n,
		     const char *trust, const struct gw_config *cfg,
		     struct gw_workers **out, struct gw_err *err)
{
	struct gw_workers *p = gw_calloc(1, sizeof(*p));
	gw_rc rc = GW_OK;
	int i;

	*out = NULL;
	if (!p)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	p->rs = rs;
	p->fds[0] = p->fds[1] = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pipe2(p->fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		rc = gw_err_set(err, GW_ERR_INTERNAL,
				"cannot make the workers' pipe: %s",
				strerror(errno));
		goto out;
	}
	for (i = 0; i < n && i < MAX_WORKERS; i++) {
		struct worker *w = &p->w[i];

		w->pool = p;
		p->n = i + 1;
		if ((rc = gw_sign_verifier_trust(trust, &w->ver, err)) ||
		    (rc = gw_runtime_trust_algs(cfg, w->ver, err)) ||
		    (rc = gw_validator_new(gw_schema_dir(), 0, &w->vd, err)))
			goto out;
		if (pthread_create(&w->th, NULL, worker_main, w)) {
			rc = gw_err_set(err, GW_ERR_INTERNAL,
					"cannot start a worker thread");
			goto out;
		}
		w->running = 1;
	}
	*out = p;
	p = NULL;
out:
	gw_workers_free(p);
	return rc;
}

int gw_workers_submit(struct gw_workers *p, const struct gw_recv_req *r,
		      const char *partner, const char *peer_subject,
		      const char *peer_sha, const char *ctype, int xml,
		      const char *body, size_t len, const char *sha)
{
	struct gw_job *j = gw_calloc(1, sizeof(*j));

	if (!j || !(j->body = gw_malloc(len + 1))) {
		free(j);
		return -1;
	}
	memcpy(j->body, body, len);
	j->body[len] = '\0';
	j->len = len;
	j->r = *r;
	j->ctype = ctype;
	j->xml = xml;
	snprintf(j->sha, sizeof(j->sha), "%s", sha);
	snprintf(j->peer_subject, sizeof(j->peer_subject), "%s", peer_subject);
	snprintf(j->peer_sha, sizeof(j->peer_sha), "%s", peer_sha);
	snprintf(j->partner, sizeof(j->partner), "%s", partner);
	pthread_mutex_lock(&p->mu);
	if (p->todo_tail)
		p->todo_tail->next = j;
	else
		p->todo = j;
	p->todo_tail = j;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int gw_workers_fd(const struct gw_workers *p)
{
	return p->fds[0];
}

int gw_workers_count(const struct gw_workers *p)
{
	return p ? p->n : 0;
}

void gw_workers_reload_trust(struct gw_workers *p, const struct gw_config *cfg)
{
	struct gw_err err;
	int i;

	for (i = 0; p && i < p->n; i++) {
		gw_err_clear(&err);
		if (p->w[i].ver &&
		    (gw_sign_verifier_reload(p->w[i].ver, &err) ||
		     gw_runtime_trust_algs(cfg, p->w[i].ver, &err)))
			gw_log(GW_LOG_ERROR, "reload", NULL,
			       "trust store (worker %d): %s", i, err.msg);
	}
}
