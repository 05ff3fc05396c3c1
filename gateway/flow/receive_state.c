/*
 * receive_state.c - the receiver's state made from the configuration, in
 * one place: created by gw_receiver_init (configuration, log),
 * gw_receiver_load (signer, trust store, validator, partners, routes,
 * webhooks, internal SQLite target) and gw_receiver_open (drop folder,
 * inbox, outbox, audit log, wire formats), reloaded on SIGHUP by
 * gw_receiver_reload, and freed by gw_receiver_release.
 */
#include "flow/receive_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "flow/inbound.h"
#include "flow/runtime.h"

void gw_receiver_print_line(void *arg, gw_rc rc, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

static gw_rc load_signer(struct gw_receiver *s, struct gw_err *err)
{
	if (!gw_config_get(s->cfg, "/signing"))
		return gw_err_set(err, GW_ERR_CONFIG,
				  "%s: serve needs a signing: section (the "
				  "key that signs receipts)",
				  s->cfg->path);
	/* the same key and algorithms as send signs with */
	return gw_runtime_signer_load(s->cfg, &s->sign.key, &s->sign.xml_alg,
				      &s->sign.jws_alg, err);
}

/* Partners and routes of cfg into p and fw (for start and SIGHUP). */
static gw_rc load_policy(const struct gw_config *cfg, struct gw_partners *p,
			 struct gw_forwarding *fw, struct gw_err *err)
{
	gw_rc rc;

	memset(fw, 0, sizeof(*fw));
	if ((rc = gw_partners_load(gw_config_get(cfg, "/partners"), p, err)))
		return rc;
	if ((rc = gw_forwarding_load(cfg, fw, err)))
		gw_partners_release(p);
	return rc;
}

/* server.webhooks (names of outbox destinations) and server.sqlite. */
static gw_rc load_targets(struct gw_receiver *s, struct gw_err *err)
{
	const json_t *wh = gw_config_get(s->cfg, "/server/webhooks");
	char *db = NULL;
	size_t i, k;
	gw_rc rc = GW_OK;

	if (!(s->webhooks = gw_partners_strv_from_json(wh)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; s->webhooks[i]; i++) {
		for (k = 0; k < s->fw.ndests &&
			    strcmp(s->fw.dests[k].name, s->webhooks[i]);
		     k++)
			;
		if (k == s->fw.ndests)
			return gw_err_set(err, GW_ERR_CONFIG,
					  "%s: /server/webhooks/%zu: no "
					  "destination named '%s' (declare it "
					  "under destinations:)",
					  s->conf_path, i, s->webhooks[i]);
	}
	s->nwebhooks = i;
	if (!gw_config_get(s->cfg, "/server/sqlite"))
		return GW_OK;
	if (!(db = gw_config_path(s->cfg, "/server/sqlite")))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	rc = gw_target_open(db, &s->target, err);
	free(db);
	return rc;
}

static char *data_path(const struct gw_config *cfg, const char *ptr,
		       const char *dflt)
{
	char *dir, *p;
	struct gw_buf b;

	if (ptr && gw_config_get(cfg, ptr))
		return gw_config_path(cfg, ptr);
	dir = gw_runtime_data_dir(cfg);
	if (!dir)
		return NULL;
	gw_buf_init(&b);
	gw_buf_addf(&b, "%s/%s", dir, dflt);
	p = gw_buf_detach(&b, NULL);
	free(dir);
	return p;
}

static gw_rc mkdirs(const char *path, struct gw_err *err)
{
	char tmp[4096];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return gw_err_set(err, GW_ERR_CONFIG, "path too long: '%s'",
				  path);
	for (p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
				return gw_err_set(err, GW_ERR_IO,
						  "cannot create '%s': %s", tmp,
						  strerror(errno));
			*p = '/';
		}
	if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
		return gw_err_set(err, GW_ERR_IO, "cannot create '%s': %s", tmp,
				  strerror(errno));
	return GW_OK;
}

/* The trust store again (anchors and CRLs) and its allowed algorithms
 * (trust.algorithms) for message signatures, in the loop's verifier and
 * in each worker's; a failure keeps the old store or list. */
static void reload_trust(struct gw_receiver *s)
{
	struct gw_err err;

	gw_err_clear(&err);
	if (s->verifier && (gw_sign_verifier_reload(s->verifier, &err) ||
			    gw_runtime_trust_algs(s->cfg, s->verifier, &err)))
		gw_log(GW_LOG_ERROR, "reload", NULL, "trust store: %s",
		       err.msg);
	else
		gw_log(GW_LOG_INFO, "reload", NULL,
		       "trust store re-read with its algorithms, verified "
		       "chains forgotten");
	gw_workers_reload_trust(s->pool, s->cfg);
}

gw_rc gw_receiver_init(struct gw_receiver *s, const char *conf_path,
		       int check_only, struct gw_err *err)
{
	gw_rc rc;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->fw_lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (!(s->conf_path = gw_strdup(conf_path)))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((rc = gw_config_load(conf_path, gw_schema_dir(),
				 gw_receiver_print_line, NULL, &s->cfg, err)))
		return rc;
	if (!check_only) {
		/* serve logs as the configuration says (default: info to
		 * standard error), one JSON object per line */
		const char *lf = gw_config_str(s->cfg, "/log/file", "-");
		char *lp = strcmp(lf, "-") ? gw_config_path(s->cfg, "/log/file")
					   : NULL;
		int lvl = gw_log_level_parse(
			gw_config_str(s->cfg, "/log/level", "info"));

		rc = gw_log_open(lp,
				 lvl < 0 ? GW_LOG_INFO : (enum gw_log_level)lvl,
				 err);
		free(lp);
	}
	return rc;
}

gw_rc gw_receiver_load(struct gw_receiver *s, struct gw_err *err)
{
	char *trust = NULL;
	gw_rc rc;

	s->nworkers = (int)gw_config_int(s->cfg, "/server/workers", 2);
	s->bg_nice = (int)gw_config_int(s->cfg, "/server/background_nice", 10);
	s->sign.org_id = gw_strdup(
		gw_config_str(s->cfg, "/gateway/organization/orgId", ""));
	s->sign.org_name = gw_strdup(
		gw_config_str(s->cfg, "/gateway/organization/name", ""));
	if (!s->sign.org_id || !s->sign.org_name)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	if ((rc = gw_sign_init(err)))
		return rc;
	trust = gw_config_path(s->cfg, "/trust/dir");
	if (!(rc = gw_sign_verifier_trust(trust, &s->verifier, err)) &&
	    !(rc = gw_runtime_trust_algs(s->cfg, s->verifier, err)) &&
	    !(rc = load_signer(s, err)) &&
	    !(rc = gw_validator_new(gw_schema_dir(), 0, &s->validator, err)) &&
	    !(rc = load_policy(s->cfg, &s->partners, &s->fw, err)))
		rc = load_targets(s, err);
	free(trust);
	return rc;
}

gw_rc gw_receiver_open(struct gw_receiver *s, struct gw_err *err)
{
	char *inbox;
	gw_rc rc;

	/* drop_dir: false turns the drop folder off (a hub that only
	 * forwards, or an internal system reading the sqlite table) */
	if (!json_is_false(gw_config_get(s->cfg, "/server/drop_dir")) &&
	    !(s->drop_dir = data_path(s->cfg, "/server/drop_dir", "drop")))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	inbox = s->inbox_path = data_path(s->cfg, "/server/inbox", "inbox.db");
	s->outbox_path = data_path(s->cfg, NULL, "outbox.db");
	if (!inbox || !s->outbox_path)
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	{
		char *dir = gw_strdup(s->outbox_path), *slash;

		if (dir && (slash = strrchr(dir, '/')))
			*slash = '\0';
		rc = dir ? mkdirs(dir, err)
			 : gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		free(dir);
		if (rc)
			return rc;
		dir = gw_strdup(inbox);
		if (dir && (slash = strrchr(dir, '/'))) {
			*slash = '\0';
			rc = mkdirs(dir, err);
		}
		free(dir);
		if (rc || (s->drop_dir && (rc = mkdirs(s->drop_dir, err))))
			return rc;
	}
	if ((rc = gw_inbox_open(inbox, &s->inbox, err)) ||
	    (rc = gw_outbox_open_sqlite(s->outbox_path, &s->outbox, err)) ||
	    (rc = gw_runtime_audit_open(s->cfg, GW_AUDIT_BACKGROUND, &s->audit,
					NULL, err)))
		return rc;
	gw_recv_formats_placeholders();
	if ((rc = gw_format_new(gw_schema_dir(), &s->sign.conv, err)))
		return rc;
	gw_recv_formats_load(s->sign.conv);
	return GW_OK;
}

void gw_receiver_release(struct gw_receiver *s)
{
	gw_workers_free(s->pool);
	s->pool = NULL;
	gw_recv_batch_clear(s);
	gw_recv_formats_unload(s->sign.conv);
	gw_format_free(s->sign.conv);
	gw_inbox_close(s->inbox);
	gw_outbox_close(s->outbox);
	gw_audit_close(s->audit); /* commits what is buffered */
	gw_partners_release(&s->partners);
	gw_forwarding_release(&s->fw);
	gw_forwarding_release(&s->dfw);
	gw_validator_free(s->validator);
	gw_sign_verifier_free(s->verifier);
	gw_sign_key_free(s->sign.key);
	gw_config_free(s->cfg);
	free(s->drop_dir);
	free(s->outbox_path);
	free(s->inbox_path);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->fw_lock);
	pthread_cond_destroy(&s->cond);
	gw_partners_strv_free(s->webhooks);
	gw_target_free(s->target);
	free(s->sign.org_id);
	free(s->sign.org_name);
	free(s->conf_path);
	memset(s, 0, sizeof(*s));
}

void gw_receiver_reload(struct gw_receiver *s)
{
	struct gw_config *cfg = NULL;
	struct gw_partners p;
	struct gw_forwarding fw;
	struct gw_err err;

	gw_err_clear(&err);
	memset(&p, 0, sizeof(p));
	if (gw_config_load(s->conf_path, gw_schema_dir(),
			   gw_receiver_print_line, NULL, &cfg, &err) ||
	    load_policy(cfg, &p, &fw, &err)) {
		gw_log(GW_LOG_ERROR, "reload", NULL,
		       "configuration not reloaded, the old one stays: %s",
		       err.msg);
		gw_config_free(cfg);
		return;
	}
	gw_inbound_deliver_stop(s);
	gw_partners_release(&s->partners);
	pthread_mutex_lock(&s->fw_lock);
	gw_forwarding_release(&s->fw);
	s->fw = fw;
	pthread_mutex_unlock(&s->fw_lock);
	gw_config_free(s->cfg);
	s->cfg = cfg;
	s->partners = p;
	if (gw_inbound_deliver_start(s, &err))
		gw_log(GW_LOG_ERROR, "reload", NULL, "%s", err.msg);
	reload_trust(s);
	gw_log(GW_LOG_INFO, "reload", NULL,
	       "reloaded '%s': %zu partners, %zu routes", s->conf_path,
	       s->partners.n, s->fw.nroutes);
	gw_receiver_wake(s);
}
