/*
 * store.c - the list of store backends this build has, and what is common
 * to every backend's handles (see store/store.h).
 */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static const struct gw_store_backend *const backends[] = {
	&gw_store_sqlite,
};

const struct gw_store_backend *gw_store_backend_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < GW_ARRAY_LEN(backends); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

void gw_store_audit_close(struct gw_store_audit *s)
{
	if (!s)
		return;
	s->ops->close(s);
	free(s);
}
