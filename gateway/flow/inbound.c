/*
 * inbound.c - what happens to a message after the inbox committed it:
 * the internal delivery thread takes the pending messages from the inbox
 * in batches and writes them to the drop folder (the exact bytes, and for
 * a wire format the canonical JSON as well), to the internal SQLite
 * target (store/target.c), and into the outbox for the webhooks and the
 * routes of the forwarding configuration (converted by gw_split_formats
 * for destinations with a format:), then marks them done. Also the
 * delivery thread that drains the outbox to the destinations
 * (gw_deliver_run). Both run with a lower CPU priority than the loop.
 */
#define _GNU_SOURCE /* syncfs: one flush for a batch of drop files */
#include "flow/inbound.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"
#include "flow/convert.h"

/* member of a routing envelope made from inbox columns (light_msg) */
#define LIGHT_MARK "\x01light"

/* dests (may be NULL) plus the webhooks not already in it: a new
 * NULL-terminated array of borrowed names. */
static const char **with_webhooks(struct gw_receiver *s, const char **dests)
{
	size_t n = 0, i, k;
	const char **v;

	for (; dests && dests[n]; n++)
		;
	if (!(v = gw_calloc(n + s->nwebhooks + 1, sizeof(*v))))
		return NULL;
	for (i = 0; i < n; i++)
		v[i] = dests[i];
	for (k = 0; k < s->nwebhooks; k++) {
		for (i = 0; i < n && strcmp(v[i], s->webhooks[k]); i++)
			;
		if (i == n)
			v[n++] = s->webhooks[k];
	}
	return v;
}

#define IDL_BATCH 256

/* 1 when a stored content type is a wire format (edXML, SDMX-ML, ...)
 * rather than canonical XML or JSON. */
static int is_wire_type(const char *ctype)
{
	return strcmp(ctype, "application/xml") &&
	       strcmp(ctype, "application/jose+json");
}

/* The drop file k (0: the bytes received; 1: for a wire format, the
 * canonical JSON it was decoded to) of pending message p: its final name
 * into fin, data and length; 1, or 0 when there is no such file, or -1
 * when out of memory. */
static int drop_file(const struct gw_inbox_pending *p, int k,
		     struct gw_buf *fin, const char **data, size_t *len)
{
	int wire = is_wire_type(p->content_type);

	fin->len = 0;
	if (k == 1 && (!wire || !p->canonical[0]))
		return 0;
	if (k == 1) {
		*data = p->canonical;
		*len = strlen(p->canonical);
		return gw_buf_addf(fin, "%s.json", p->id) ? -1 : 1;
	}
	*data = p->body;
	*len = p->len;
	return gw_buf_addf(fin, "%s.%s", p->id,
			   !strcmp(p->content_type, "application/edxml+xml")
				   ? "edxml"
			   : strstr(p->content_type, "xml") ? "xml"
							    : "jws.json")
		       ? -1
		       : 1;
}

/*
 * Write the exact bytes of p[0..n) into the drop folder (ID.xml,
 * ID.jws.json, ID.edxml), and for a wire format the canonical message as
 * well (ID.json, renamed after the wire bytes): every temporary file
 * written, one syncfs for all of them, every rename, one fsync of the
 * folder (the atomic rename of gw_write_file_atomic, with two flushes per
 * batch instead of two per message).
 */
static gw_rc drop_batch(struct gw_receiver *s, struct gw_inbox_pending *p,
			size_t n, struct gw_err *err)
{
	struct gw_buf tmp, fin;
	gw_rc rc = GW_OK;
	size_t i;
	int k, dfd = open(s->drop_dir, O_RDONLY | O_DIRECTORY);

	gw_buf_init(&tmp);
	gw_buf_init(&fin);
	if (dfd < 0)
		return gw_err_set(err, GW_ERR_IO,
				  "drop folder '%s': cannot open: %s",
				  s->drop_dir, strerror(errno));
	for (i = 0; i < n && !rc; i++)
		for (k = 0; k < 2 && !rc; k++) {
			const char *data;
			size_t len, off = 0;
			int fd;
			int have = drop_file(&p[i], k, &fin, &data, &len);

			if (!have)
				break;
			tmp.len = 0;
			if (have < 0 ||
			    gw_buf_addf(&tmp, ".%s.tmp", fin.data)) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				break;
			}
			fd = openat(dfd, tmp.data, O_WRONLY | O_CREAT | O_TRUNC,
				    0640);
			if (fd < 0) {
				rc = gw_err_set(err, GW_ERR_IO,
						"drop folder '%s': cannot "
						"write '%s': %s",
						s->drop_dir, tmp.data,
						strerror(errno));
				break;
			}
			while (off < len) {
				ssize_t w = write(fd, data + off, len - off);

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					rc = gw_err_set(err, GW_ERR_IO,
							"drop folder '%s': "
							"cannot write '%s': "
							"%s",
							s->drop_dir, tmp.data,
							strerror(errno));
					break;
				}
				off += (size_t)w;
			}
			close(fd);
		}
	if (!rc && syncfs(dfd) < 0)
		rc = gw_err_set(err, GW_ERR_IO, "drop folder '%s': sync: %s",
				s->drop_dir, strerror(errno));
	for (i = 0; i < n && !rc; i++)
		for (k = 0; k < 2 && !rc; k++) {
			const char *data;
			size_t len;
			int have = drop_file(&p[i], k, &fin, &data, &len);

			if (!have)
				break;
			tmp.len = 0;
			if (have < 0 ||
			    gw_buf_addf(&tmp, ".%s.tmp", fin.data)) {
				rc = gw_err_set(err, GW_ERR_NOMEM,
						"out of memory");
				break;
			}
			if (renameat(dfd, tmp.data, dfd, fin.data) < 0)
				rc = gw_err_set(err, GW_ERR_IO,
						"drop folder '%s': cannot "
						"rename '%s': %s",
						s->drop_dir, tmp.data,
						strerror(errno));
		}
	if (!rc && fsync(dfd) < 0)
		rc = gw_err_set(err, GW_ERR_IO, "drop folder '%s': fsync: %s",
				s->drop_dir, strerror(errno));
	close(dfd);
	gw_buf_release(&tmp);
	gw_buf_release(&fin);
	return rc;
}

/* Rows of p[0..n) into the internal SQLite target, one transaction. */
static gw_rc target_batch(struct gw_receiver *s, struct gw_inbox_pending *p,
			  json_t **msgs, size_t n, struct gw_err *err)
{
	gw_rc rc;
	size_t i;

	if ((rc = gw_target_begin(s->target, err)))
		return rc;
	for (i = 0; i < n && !rc; i++)
		rc = gw_target_put(
			s->target, p[i].id,
			json_string_value(json_object_get(msgs[i], "kind")),
			json_string_value(json_object_get(
				json_object_get(msgs[i], "sender"), "orgId")),
			p[i].content_type, p[i].body, p[i].len, err);
	if (!rc)
		rc = gw_target_commit(s->target, err);
	if (rc)
		gw_target_rollback(s->target);
	return rc;
}

/* The routing envelope of a pending message from its inbox columns:
 * {"kind": ..., "sender": {"orgId": ...}}, a marker member telling it
 * from the full message. NULL when out of memory. */
static json_t *light_msg(const struct gw_inbox_pending *p)
{
	json_t *m = json_object(), *snd = json_object();

	if (!m || !snd ||
	    (*p->sender &&
	     json_object_set_new(snd, "orgId", json_string(p->sender))) ||
	    json_object_set_new(m, "sender", snd) ||
	    (*p->kind &&
	     json_object_set_new(m, "kind", json_string(p->kind))) ||
	    json_object_set_new(m, LIGHT_MARK, json_true())) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* Whether routing by fw needs more of a message than its kind and
 * sender: a route on receivers or classification, or a destination
 * that converts it (format:). */
static int fw_needs_full(const struct gw_forwarding *fw)
{
	size_t i;

	for (i = 0; i < fw->nroutes; i++)
		if (fw->routes[i].receivers || fw->routes[i].classifications)
			return 1;
	for (i = 0; i < fw->ndests; i++)
		if (fw->dests[i].format)
			return 1;
	return 0;
}

/* The webhooks and routes of p[0..n) into the outbox, one transaction;
 * a message the outbox refuses (its id used there for other bytes) is
 * logged and left out rather than holding up the others. Destinations
 * with a format: get the message converted and signed by the gateway
 * (gw_split_formats, one variant per format, with vs->fmt the internal
 * delivery thread's converter); a message that cannot be converted for
 * one is logged and audited (forward-refused) and still goes to the
 * others. */
static gw_rc outbox_batch(struct gw_receiver *s, struct gw_outbox *ob,
			  struct gw_inbox_pending *p, json_t **msgs, size_t n,
			  struct gw_variants *vs, struct gw_err *err)
{
	struct gw_out_msg *om = gw_calloc(n + 1, sizeof(*om)), *all = NULL;
	const char ***dl = gw_calloc(n + 1, sizeof(*dl));
	int *dup = NULL;
	size_t i, k = 0, nall = 0;
	gw_rc rc = GW_OK;

	if (!om || !dl) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	pthread_mutex_lock(&s->fw_lock); /* s->fw changes on SIGHUP */
	if ((s->fw.nroutes || s->nwebhooks) && fw_needs_full(&s->fw))
		for (i = 0; i < n; i++) {
			json_t *full = NULL;
			struct gw_err e1;

			if (!msgs[i] || !json_object_get(msgs[i], LIGHT_MARK))
				continue;
			if (gw_json_parse(p[i].canonical,
					  strlen(p[i].canonical), "inbox",
					  &full, &e1)) {
				/* stored after validation: cannot happen
				 * but for a damaged store; kept light */
				gw_log(GW_LOG_ERROR, "forward-refused", p[i].id,
				       "%s", e1.msg);
				continue;
			}
			json_decref(msgs[i]);
			msgs[i] = full;
		}
	for (i = 0; i < n; i++) {
		const char **routed =
			msgs[i] && s->fw.nroutes
				? gw_forwarding_route(&s->fw, msgs[i])
				: NULL;

		dl[i] = with_webhooks(s, routed);
		free((void *)routed);
		if (!dl[i]) {
			rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
			break;
		}
		if (!dl[i][0])
			continue;
		om[k].id = p[i].id;
		om[k].kind =
			json_string_value(json_object_get(msgs[i], "kind"));
		om[k].sender = json_string_value(json_object_get(
			json_object_get(msgs[i], "sender"), "orgId"));
		om[k].content_type = p[i].content_type;
		om[k].body = p[i].body;
		om[k].len = p[i].len;
		om[k].dests = dl[i];
		if (msgs[i]) {
			struct gw_err e1;

			gw_err_clear(&e1);
			if (gw_split_formats(&s->fw, s->sign.key,
					     s->sign.xml_alg, s->sign.jws_alg,
					     &om[k], msgs[i], vs, &e1)) {
				struct gw_recv_event e = {
					.event = "forward-refused",
					.msg_id = om[k].id,
					.msg_kind = om[k].kind,
					.sender = om[k].sender,
					.reason = e1.msg
				};

				if (e1.rc == GW_ERR_NOMEM) {
					*err = e1;
					rc = e1.rc;
					break;
				}
				/* the variants made before the failure stay;
				 * the destinations without a format still
				 * get the message (dl[i] holds them), those
				 * with one do not get the canonical bytes */
				gw_log(GW_LOG_ERROR, "forward-refused",
				       om[k].id, "%s", e1.msg);
				gw_receiver_event(s, &e);
			}
		}
		if (dl[i][0])
			k++;
	}
	pthread_mutex_unlock(&s->fw_lock);
	if (rc)
		goto out;
	if (!(all = gw_calloc(k + vs->n + 1, sizeof(*all))) ||
	    !(dup = gw_calloc(k + vs->n + 1, sizeof(*dup)))) {
		rc = gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < k; i++) /* each with a destination left */
		all[nall++] = om[i];
	for (i = 0; i < vs->n; i++)
		all[nall++] = vs->v[i];
	if (!nall)
		goto out;
	rc = gw_outbox_enqueue(ob, all, nall, dup, err);
	if (rc == GW_ERR_REFUSED) {
		rc = GW_OK;
		for (i = 0; i < nall && !rc; i++) {
			struct gw_err e1;

			gw_err_clear(&e1);
			rc = gw_outbox_enqueue(ob, &all[i], 1, &dup[i], &e1);
			if (rc == GW_ERR_REFUSED) {
				gw_log(GW_LOG_ERROR, "forward-refused",
				       all[i].id, "%s", e1.msg);
				rc = GW_OK;
			} else if (rc) {
				*err = e1;
			}
		}
	}
	for (i = 0; !rc && i < nall; i++) {
		struct gw_recv_event e = {
			.event = "forwarded",
			.msg_id = all[i].id,
			.msg_kind = all[i].kind,
			.sender = all[i].sender,
			.reason = i < nall - vs->n
					  ? "queued in the outbox for the "
					    "webhooks and routes"
					  : "converted, signed and queued in "
					    "the outbox for the routes"
		};

		gw_receiver_event(s, &e);
	}
out:
	for (i = 0; dl && i < n; i++)
		free((void *)dl[i]);
	free(dl);
	free(om);
	free(all);
	free(dup);
	return rc;
}

/* One batch of internal deliveries; returns how many were delivered, or
 * -1 on a failure (logged; they stay pending and are tried again). */
static long idl_batch(struct gw_receiver *s, struct gw_inbox *ib,
		      struct gw_outbox *ob, struct gw_format **fmt)
{
	struct gw_variants vs = { .fmt = *fmt, .keep_fmt = 1 };
	struct gw_inbox_pending *p = NULL;
	size_t big = 0;
	json_t **msgs = NULL;
	const char **ids = NULL;
	struct gw_err err;
	size_t n = 0, i;
	long done = -1;

	gw_err_clear(&err);
	if (gw_inbox_pending(ib, IDL_BATCH, &p, &n, &err))
		goto out;
	if (!n) {
		done = 0;
		goto out;
	}
	msgs = gw_calloc(n, sizeof(*msgs));
	ids = gw_calloc(n, sizeof(*ids));
	if (!msgs || !ids) {
		gw_err_set(&err, GW_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		ids[i] = p[i].id;
		/* kind and sender from the inbox columns: enough for the
		 * drop folder, the sqlite rows and most routes; outbox_batch
		 * parses the canonical text when the routes need more */
		if (p[i].canonical[0] && !(msgs[i] = light_msg(&p[i]))) {
			gw_err_set(&err, GW_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (!gw_check_msg_id(p[i].id)) {
			gw_err_set(&err, GW_ERR_INTERNAL,
				   "message id '%s' cannot name a file",
				   p[i].id);
			goto out;
		}
	}
	if ((s->drop_dir && drop_batch(s, p, n, &err)) ||
	    (s->target && target_batch(s, p, msgs, n, &err)) ||
	    outbox_batch(s, ob, p, msgs, n, &vs, &err) ||
	    gw_inbox_done(ib, ids, n, &err))
		goto out;
	for (i = 0; i < n; i++) {
		struct gw_recv_event e = {
			.event = "delivered",
			.msg_id = p[i].id,
			.msg_kind = json_string_value(
				json_object_get(msgs[i], "kind")),
			.sender = json_string_value(json_object_get(
				json_object_get(msgs[i], "sender"), "orgId")),
			.reason = !s->drop_dir ? (s->target ? "sqlite" : "none")
				  : s->target  ? "drop folder, sqlite"
					       : "drop folder"
		};

		gw_receiver_event(s, &e);
	}
	done = (long)n;
out:
	if (done < 0)
		gw_log(GW_LOG_WARN, "delivery-pending", NULL,
		       "internal delivery will be tried again: %s", err.msg);
	*fmt = vs.fmt;
	gw_variants_release(&vs);
	for (i = 0; msgs && i < n; i++)
		json_decref(msgs[i]);
	for (i = 0; p && i < n; i++)
		big = p[i].len > big ? p[i].len : big;
	free(msgs);
	free(ids);
	gw_inbox_pending_free(p, n);
	gw_trim_after(big);
	return done;
}

/* For the internal delivery and delivery threads: server.background_nice
 * (default 10) lowers their CPU priority, so that on a busy machine the
 * event loop and the verification workers, which answer the partners,
 * run first; what they accepted waits durably in the inbox and outbox.
 * (Their write transactions on the inbox, which the loop also writes, are
 * short: a delete of delivered ids.) */
void gw_inbound_background(const struct gw_receiver *s)
{
	if (s->bg_nice && gw_thread_nice(s->bg_nice) < 0)
		gw_log(GW_LOG_WARN, "priority", NULL,
		       "cannot lower the priority of a background thread: %s",
		       strerror(errno));
}

/* The internal delivery thread: woken after each committed batch (and
 * every second, which also retries what failed), it delivers what the
 * inbox holds as pending, with its own store connections. */
static void *idl_main(void *arg)
{
	struct gw_receiver *s = arg;
	struct gw_inbox *ib = NULL;
	struct gw_outbox *ob = NULL;
	struct gw_format *fmt = NULL; /* this thread's converter (format:) */
	struct gw_err err;
	long got;

	gw_err_clear(&err);
	gw_inbound_background(s);
	if (gw_inbox_open(s->inbox_path, &ib, &err) ||
	    gw_outbox_open_sqlite(s->outbox_path, &ob, &err)) {
		gw_log(GW_LOG_ERROR, "delivery-pending", NULL,
		       "internal delivery is not running: %s", err.msg);
		goto out;
	}
	for (;;) {
		int stop;

		do
			got = idl_batch(s, ib, ob, &fmt);
		while (got == IDL_BATCH);
		pthread_mutex_lock(&s->lock);
		if (!s->idl_wake && !s->idl_stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&s->cond, &s->lock, &ts);
		}
		s->idl_wake = 0;
		stop = s->idl_stop;
		pthread_mutex_unlock(&s->lock);
		if (stop) {
			idl_batch(s, ib, ob, &fmt); /* the last flush's */
			break;
		}
	}
out:
	gw_format_free(fmt);
	gw_inbox_close(ib);
	gw_outbox_close(ob);
	return NULL;
}

void gw_inbound_stop(struct gw_receiver *s)
{
	if (!s->idl_running)
		return;
	pthread_mutex_lock(&s->lock);
	s->idl_stop = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->idl_thread, NULL);
	s->idl_running = 0;
}

gw_rc gw_inbound_start(struct gw_receiver *s, struct gw_err *err)
{
	if (pthread_create(&s->idl_thread, NULL, idl_main, s))
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "cannot start the internal delivery thread");
	s->idl_running = 1;
	return GW_OK;
}

/* ------------------------------------------------------------------ */
/* Onward delivery (deliver.c in its own thread)                       */

/* The delivery thread: deliver.c over its own outbox connection. */
static void *deliver_main(void *arg)
{
	struct gw_receiver *s = arg;
	struct gw_outbox *o = NULL;
	struct gw_deliver_stats st = { 0, 0, 0, 0 };
	struct gw_err err;

	gw_err_clear(&err);
	gw_inbound_background(s);
	if (gw_outbox_open_sqlite(s->outbox_path, &o, &err) ||
	    gw_deliver_run(o, &s->dfw, 64, 0, 0, &s->dstop, &st, &err))
		gw_log(GW_LOG_ERROR, "deliver", NULL, "%s", err.msg);
	gw_log(GW_LOG_INFO, "deliver", NULL,
	       "delivery stopped: %ld delivered, %ld to retry, %ld dead",
	       st.delivered, st.retried, st.dead);
	gw_outbox_close(o);
	return NULL;
}

void gw_inbound_deliver_stop(struct gw_receiver *s)
{
	if (!s->thread_running)
		return;
	__atomic_store_n(&s->dstop, 1, __ATOMIC_RELEASE);
	pthread_join(s->thread, NULL);
	s->thread_running = 0;
	gw_forwarding_release(&s->dfw);
}

gw_rc gw_inbound_deliver_start(struct gw_receiver *s, struct gw_err *err)
{
	gw_rc rc;

	if (!s->deliver || !s->fw.ndests)
		return GW_OK;
	/* the thread gets its own copy of the destinations: their runtime
	 * state (tokens, rate buckets) is the engine's */
	if ((rc = gw_forwarding_load(s->cfg, &s->dfw, err)))
		return rc;
	s->dfw.audit = s->audit; /* attempts and deliveries are audited */
	s->dfw.transport = s->http;
	__atomic_store_n(&s->dstop, 0, __ATOMIC_RELEASE);
	if (pthread_create(&s->thread, NULL, deliver_main, s)) {
		gw_forwarding_release(&s->dfw);
		return gw_err_set(err, GW_ERR_INTERNAL,
				  "cannot start the delivery thread");
	}
	s->thread_running = 1;
	return GW_OK;
}

/* The trust store again (anchors and CRLs) for message signatures, in the
 * loop's verifier and in each worker's; a failure keeps the old store. */
