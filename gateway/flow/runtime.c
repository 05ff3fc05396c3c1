/*
 * runtime.c - what the pipeline needs, built from the configuration in
 * one place: the signing key and algorithms, the audit log (runtime.h).
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
	*xml_alg = !strcmp(xa, "rsa-sha256")	   ? GW_SIGN_ALG_RS256
		   : !strcmp(xa, "rsa-pss-sha256") ? GW_SIGN_ALG_PS256
		   : !strcmp(xa, "ecdsa-sha256")   ? GW_SIGN_ALG_ES256
						   : GW_SIGN_ALG_DEFAULT;
	*jws_alg = *ja ? (enum gw_sign_alg)gw_sign_alg_parse(ja)
		       : GW_SIGN_ALG_DEFAULT;
	free(key);
	free(cert);
	free(chain);
	free(pass);
	return rc;
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

		dir = gw_config_get(cfg, "/gateway/data_dir")
			      ? gw_config_path(cfg, "/gateway/data_dir")
			      : gw_strdup("var");
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
