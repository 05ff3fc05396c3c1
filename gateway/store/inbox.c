/*
 * inbox.c - the inbound server's inbox, whatever its backend: opening by
 * backend and the calls of inbox.h, each one call through struct
 * gw_inbox_ops (store/store.h).
 */
#include "store/inbox.h"

#include <stdlib.h>

gw_rc gw_inbox_open_backend(const struct gw_store_backend *b, const char *where,
			    struct gw_inbox **out, struct gw_err *err)
{
	*out = NULL;
	if (!b || !b->inbox_open)
		return gw_err_set(err, GW_ERR_UNSUPPORTED,
				  "inbox: the store backend '%s' has no inbox",
				  b ? b->name : "(none)");
	return b->inbox_open(where, out, err);
}

gw_rc gw_inbox_open(const char *path, struct gw_inbox **out, struct gw_err *err)
{
	return gw_inbox_open_backend(&gw_store_sqlite, path, out, err);
}

void gw_inbox_close(struct gw_inbox *ib)
{
	if (!ib)
		return;
	ib->ops->close(ib);
	free(ib);
}

gw_rc gw_inbox_lookup(struct gw_inbox *ib, const char *id, int *found,
		      char sha256[65], char partner[64], char **receipt,
		      size_t *rlen, char **rtype, struct gw_err *err)
{
	return ib->ops->lookup(ib, id, found, sha256, partner, receipt, rlen,
			       rtype, err);
}

gw_rc gw_inbox_put(struct gw_inbox *ib, const struct gw_inbox_msg *m, size_t n,
		   struct gw_err *err)
{
	return ib->ops->put(ib, m, n, err);
}

gw_rc gw_inbox_done(struct gw_inbox *ib, const char *const *ids, size_t n,
		    struct gw_err *err)
{
	return ib->ops->done(ib, ids, n, err);
}

gw_rc gw_inbox_pending(struct gw_inbox *ib, size_t max,
		       struct gw_inbox_pending **out, size_t *n,
		       struct gw_err *err)
{
	return ib->ops->pending(ib, max, out, n, err);
}

void gw_inbox_pending_free(struct gw_inbox_pending *p, size_t n)
{
	size_t i;

	for (i = 0; p && i < n; i++) {
		free(p[i].id);
		free(p[i].content_type);
		free(p[i].body);
		free(p[i].canonical);
		free(p[i].kind);
		free(p[i].sender);
	}
	free(p);
}

gw_rc gw_inbox_counts(struct gw_inbox *ib, int64_t *total, int64_t *pending,
		      struct gw_err *err)
{
	return ib->ops->counts(ib, total, pending, err);
}

gw_rc gw_inbox_ping(struct gw_inbox *ib, struct gw_err *err)
{
	return ib->ops->ping(ib, err);
}
