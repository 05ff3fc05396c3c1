/*
 * cmd_queue.h - the forwarding commands: "send" (validate and enqueue
 * durably), "queue" (ls, show, retry, drop) and "deliver" (drain the
 * outbox to the routed destinations) and "sync" (send what is new or
 * changed in the configured sources).
 */
#ifndef GW_CMD_QUEUE_H
#define GW_CMD_QUEUE_H

#include <jansson.h>

#include "base/common.h"
#include "crypto/sign.h"
#include <stddef.h>

int gw_cmd_send(int argc, char **argv);
int gw_cmd_queue(int argc, char **argv);
int gw_cmd_deliver(int argc, char **argv);
int gw_cmd_sync(int argc, char **argv);

struct gw_config;
struct gw_outbox;
struct gw_audit;

/* What send does, for messages already in memory: validate, sign, route
 * and enqueue bufs[0..n) (lengths lens, named names in messages) in one
 * durable transaction. Takes the buffers (freed, set to NULL); queued[i]
 * is set to 1 for each message now in the outbox. Each step is noted in
 * audit (borrowed, may be NULL). Returns the exit status. */
int gw_send_buffers(struct gw_config *cfg, struct gw_outbox *o, char **names,
		    char **bufs, size_t *lens, int n, int *queued,
		    struct gw_audit *audit);

#endif
