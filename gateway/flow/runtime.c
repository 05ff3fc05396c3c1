/*
 * runtime.c - what the pipeline needs, built from the configuration in
 * one place (runtime.h): the configuration, the data folder and outbox,
 * the forwarding, the signing key and algorithms, the audit log.
 */
#include "flow/runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/common.h"
#include "crypto/sign.h"

/* The configuration's names of XML-DSig signature methods (signing:
 * xml_alg, as in schemas/config.schema.json). */
static const struct {
	const char *name;
	enum gw_sign_alg alg;
} xml_algs[] = {
	{ "rsa-sha256", GW_SIGN_ALG_RS256 },
	{ "rsa-sha384", GW_SIGN_ALG_RS384 },
	{ "rsa-sha512", GW_SIGN_ALG_RS512 },
	{ "rsa-pss-sha256", GW_SIGN_ALG_PS256 },
	{ "rsa-pss-sha384", GW_SIGN_ALG_PS384 },
	{ "rsa-pss-sha512", GW_SIGN_ALG_PS512 },
	{ "ecdsa-sha256", GW_SIGN_ALG_ES256 },
	{ "ecdsa-sha384", GW_SIGN_ALG_ES384 },
	{ "ecdsa-sha512", GW_SIGN_ALG_ES512 },
	{ "eddsa-ed25519", GW_SIGN_ALG_EDDSA },
};

static enum gw_sign_alg xml_alg_parse(const char *name)
{
	size_t i;

	for (i = 0; i < GW_ARRAY_LEN(xml_algs); i++)
		if (strcmp(name, xml_algs[i].name) == 0)
			return xml_algs[i].alg;
	return GW_SIGN_ALG_DEFAULT;
}

gw_rc gw_runtime_trust_algs(const struct gw_config *cfg,
			    struct gw_sign_verifier *v, struct gw_err *err)
{
	json_t *a = gw_config_get(cfg, "/trust/algorithms");
	const char **names;
	struct gw_err e;
	size_t i, n;
	gw_rc rc;

	gw_err_clear(&e);
	if (!json_is_array(a)) /* the trust store's default */
		return gw_sign_verifier_allow(v, NULL, err);
	n = json_array_size(a);
	if (!(names = gw_calloc(n + 1, sizeof(*names))))
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++)
		names[i] = json_string_value(json_array_get(a, i));
	for (i = 0; i < n && names[i]; i++)
		;
	if (i < n)
		rc = gw_err_set(err, GW_ERR_USAGE,
				"trust.algorithms: item %zu is not a name", i);
	else if ((rc = gw_sign_verifier_allow(v, names, &e)))
		gw_err_set(err, rc, "trust.algorithms: %s", e.msg);
	free(names);
	return rc;
}

/* The signing key of the configuration's "signing" section, or NULL when
 * there is none (messages then travel as they were handed in). */
gw_rc gw_runtime_signer_load(const struct gw_config *cfg,
			     struct gw_sign_key **k, enum gw_sign_alg *xml_alg,
			     enum gw_sign_alg *jws_alg, struct gw_err *err)
{
	char *key = NULL, *cert = NULL, *chain = NULL, *pass = NULL;
	const char *xa, *ja, *penv;
	gw_rc rc;

	*k = NULL;
	if (!gw_config_get(cfg, "/signing"))
		return GW_OK;
	if ((rc = gw_sign_init(err)))
		return rc;
	key = gw_config_path(cfg, "/signing/key");
	cert = gw_config_path(cfg, "/signing/cert");
	chain = gw_config_get(cfg, "/signing/chain")
			? gw_config_path(cfg, "/signing/chain")
			: NULL;
	/* {env: NAME} / {file: PATH} -> the signer's "env:NAME" / "file:PATH" */
	if ((penv = gw_config_str(cfg, "/signing/passphrase/env", NULL))) {
		struct gw_buf b;

		gw_buf_init(&b);
		gw_buf_addf(&b, "env:%s", penv);
		pass = gw_buf_detach(&b, NULL);
	} else if (gw_config_get(cfg, "/signing/passphrase/file")) {
		char *f = gw_config_path(cfg, "/signing/passphrase/file");
		struct gw_buf b;

		gw_buf_init(&b);
		gw_buf_addf(&b, "file:%s", f ? f : "");
		pass = gw_buf_detach(&b, NULL);
		free(f);
	}
	rc = gw_sign_key_load(key, pass, cert, chain, k, err);
	if (rc)
		gw_sign_shutdown();
	xa = gw_config_str(cfg, "/signing/xml_alg", "");
	ja = gw_config_str(cfg, "/signing/jws_alg", "");
	*xml_alg = xml_alg_parse(xa);
	*jws_alg = *ja && gw_sign_alg_parse(ja) > 0
			   ? (enum gw_sign_alg)gw_sign_alg_parse(ja)
			   : GW_SIGN_ALG_DEFAULT;
	free(key);
	free(cert);
	free(chain);
	free(pass);
	return rc;
}

char *gw_runtime_data_dir(const struct gw_config *cfg)
{
	return gw_config_get(cfg, "/gateway/data_dir")
		       ? gw_config_path(cfg, "/gateway/data_dir")
		       : gw_strdup("var");
}

gw_rc gw_runtime_audit_open(const struct gw_config *cfg, unsigned flags,
			    struct gw_audit **out, char *signer,
			    struct gw_err *err)
{
	struct gw_audit_opts o;
	struct gw_sign_key *key = NULL;
	enum gw_sign_alg xa, ja;
	char *path = NULL, *dir = NULL;
	const char *name;
	gw_rc rc;

	*out = NULL;
	if (signer)
		signer[0] = '\0';
	if (!gw_config_get(cfg, "/audit"))
		return GW_OK;
	memset(&o, 0, sizeof(o));
	if (!(flags & GW_AUDIT_READONLY)) {
		if ((rc = gw_runtime_signer_load(cfg, &key, &xa, &ja, err)))
			return rc;
		if (key && signer)
			gw_sign_key_subject(key, signer, 256);
		o.key = key;
		flags |= GW_AUDIT_OWNS_KEY;
	}
	if (gw_config_bool(cfg, "/audit/archive", 1))
		flags |= GW_AUDIT_ARCHIVE;
	o.flags = flags;
	o.checkpoint_s = (unsigned)gw_config_int(
		cfg, "/audit/checkpoint_interval_s", 3600);
	o.retention_days =
		(unsigned)gw_config_int(cfg, "/audit/retention_days", 365);
	name = gw_config_str(cfg, "/audit/name", NULL);
	o.log_name = name ? name : gw_config_str(cfg, "/gateway/name", NULL);
	if (gw_config_get(cfg, "/audit/store")) {
		path = gw_config_path(cfg, "/audit/store");
	} else {
		struct gw_buf b;

		dir = gw_runtime_data_dir(cfg);
		gw_buf_init(&b);
		if (dir && !(flags & GW_AUDIT_READONLY) && mkdir(dir, 0750) &&
		    errno != EEXIST) {
			rc = gw_err_set(err, GW_ERR_IO,
					"cannot create data folder '%s': %s",
					dir, strerror(errno));
			free(dir);
			gw_sign_key_free(key);
			return rc;
		}
		gw_buf_addf(&b, "%s/audit.db", dir ? dir : "var");
		path = gw_buf_detach(&b, NULL);
		free(dir);
	}
	if (!path) {
		gw_sign_key_free(key);
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	if ((flags & GW_AUDIT_READONLY) && access(path, F_OK)) {
		rc = gw_err_set(err, GW_ERR_IO,
				"no audit log at '%s' yet (it is made by the "
				"first send, deliver or audit checkpoint)",
				path);
		free(path);
		return rc;
	}
	rc = gw_audit_open(path, &o, out, err); /* frees key on failure */
	free(path);
	return rc;
}

static void release(struct gw_runtime *rt)
{
	gw_forwarding_release(&rt->fw);
	gw_audit_close(rt->audit);
	gw_outbox_close(rt->outbox);
	gw_config_free(rt->cfg);
	free(rt->data_dir);
	free(rt->conf_path);
	memset(rt, 0, sizeof(*rt));
}

void gw_runtime_free(struct gw_runtime *rt)
{
	if (!rt)
		return;
	release(rt);
	free(rt);
}

/* Open in rt (its cfg and what set) what it asks for. */
static gw_rc open_parts(struct gw_runtime *rt, enum gw_runtime_step *step,
			struct gw_err *err)
{
	struct gw_buf path;
	gw_rc rc;

	rt->data_dir = gw_runtime_data_dir(rt->cfg);
	if (rt->what & GW_RT_OUTBOX) {
		*step = GW_RT_STEP_DATA_DIR;
		if (!rt->data_dir ||
		    (mkdir(rt->data_dir, 0750) < 0 && errno != EEXIST))
			return gw_err_set(err, GW_ERR_IO,
					  "cannot create data folder '%s': %s",
					  rt->data_dir ? rt->data_dir : "?",
					  strerror(errno));
		*step = GW_RT_STEP_OUTBOX;
		gw_buf_init(&path);
		if (gw_buf_addf(&path, "%s/outbox.db", rt->data_dir))
			return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
		rc = gw_outbox_open_sqlite(path.data, &rt->outbox, err);
		gw_buf_release(&path);
		if (rc)
			return rc;
	} else if (!rt->data_dir) {
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	if (rt->what & GW_RT_FORWARDING) {
		*step = GW_RT_STEP_FORWARDING;
		if ((rc = gw_forwarding_load(rt->cfg, &rt->fw, err)))
			return rc;
	}
	if (rt->what & GW_RT_AUDIT) {
		*step = GW_RT_STEP_AUDIT;
		if ((rc = gw_runtime_audit_open(rt->cfg, rt->audit_flags,
						&rt->audit, NULL, err)))
			return rc;
		rt->fw.audit = rt->audit; /* attempts and deliveries audited */
	}
	return GW_OK;
}

gw_rc gw_runtime_open(struct gw_config *cfg, unsigned what,
		      unsigned audit_flags, struct gw_runtime **out,
		      enum gw_runtime_step *failed, struct gw_err *err)
{
	struct gw_runtime *rt = gw_calloc(1, sizeof(*rt));
	enum gw_runtime_step step = GW_RT_STEP_CONFIG;
	gw_rc rc;

	*out = NULL;
	if (!rt) {
		gw_config_free(cfg);
		if (failed)
			*failed = step;
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	rt->cfg = cfg;
	rt->what = what;
	rt->audit_flags = audit_flags;
	if ((rc = open_parts(rt, &step, err))) {
		gw_runtime_free(rt);
		if (failed)
			*failed = step;
		return rc;
	}
	*out = rt;
	return GW_OK;
}

gw_rc gw_runtime_new(const char *conf_path, unsigned what, unsigned audit_flags,
		     gw_report_cb cb, void *cb_arg, struct gw_runtime **out,
		     enum gw_runtime_step *failed, struct gw_err *err)
{
	struct gw_config *cfg = NULL;
	gw_rc rc;

	*out = NULL;
	if (failed)
		*failed = GW_RT_STEP_CONFIG;
	if ((rc = gw_config_load(conf_path, gw_schema_dir(), cb, cb_arg, &cfg,
				 err)))
		return rc;
	if ((rc = gw_runtime_open(cfg, what, audit_flags, out, failed, err)))
		return rc;
	(*out)->cb = cb;
	(*out)->cb_arg = cb_arg;
	if (!((*out)->conf_path = gw_strdup(conf_path))) {
		gw_runtime_free(*out);
		*out = NULL;
		return gw_err_set(err, GW_ERR_NOMEM, "out of memory");
	}
	return GW_OK;
}

gw_rc gw_runtime_reload(struct gw_runtime *rt, enum gw_runtime_step *failed,
			struct gw_err *err)
{
	struct gw_runtime *n;
	gw_rc rc;

	if (!rt->conf_path)
		return gw_err_set(err, GW_ERR_USAGE,
				  "this runtime was built from a loaded "
				  "configuration: it cannot be read again");
	if ((rc = gw_runtime_new(rt->conf_path, rt->what, rt->audit_flags,
				 rt->cb, rt->cb_arg, &n, failed, err)))
		return rc;
	n->fw.transport = rt->fw.transport;
	release(rt);
	*rt = *n;
	free(n);
	return GW_OK;
}
