/*
 * send.h - the send step of the pipeline, shared by the send and sync
 * commands: messages validated (schema and rules), signed with the
 * gateway's key, routed to their destinations, converted for those that
 * want a wire format, and enqueued durably in the outbox in one
 * transaction, each step noted in the audit log.
 *
 * Both calls print what was queued on stdout (one line per message:
 * "ID -> DEST,..." with "(already queued)" for a duplicate) and what was
 * refused on stderr, and return the exit status of the send command: 0
 * all queued, 1 some message refused or not routed, 3 I/O or internal.
 */
#ifndef GW_SEND_H
#define GW_SEND_H

#include <stddef.h>

struct gw_config;
struct gw_outbox;
struct gw_audit;

/* Validate, sign, route and enqueue the files paths[0..npaths)
 * (borrowed) in one durable transaction. queued (may be NULL) receives 1
 * for each path whose message is now in the outbox. Each step is noted in
 * audit (borrowed, may be NULL). */
int gw_send_files(struct gw_config *cfg, struct gw_outbox *o, char **paths,
		  int npaths, int *queued, struct gw_audit *audit);

/* The same for messages already in memory: bufs[0..n) (lengths lens,
 * named names in messages). Takes the buffers (freed, set to NULL). */
int gw_send_buffers(struct gw_config *cfg, struct gw_outbox *o, char **names,
		    char **bufs, size_t *lens, int n, int *queued,
		    struct gw_audit *audit);

#endif
