/*
 * receive_req.h - one incoming HTTP request as the receive pipeline sees
 * it, without the HTTP library: who sent it, what is known of its
 * message so far (for the events of the audit log), and an opaque handle
 * of the transport (net/server.c) that answers it. Copied by value into a
 * verification job and into the batch of the group commit; the transport
 * keeps the request alive until it is answered.
 */
#ifndef GW_RECEIVE_REQ_H
#define GW_RECEIVE_REQ_H

#include <time.h>

struct gw_receiver;

struct gw_recv_req {
	struct gw_receiver *s; /* borrowed */
	void *conn;	       /* the transport's request, opaque here */
	const char *uri;       /* borrowed from the transport's request */
	struct timespec t0;    /* CLOCK_MONOTONIC when it arrived */
	int xml;	       /* problems as XML */
	char partner[64];
	char msg_id[80];
	/* what is known of the message so far, for the events */
	char kind[32];
	char sender[64];
	char sha[65];
	char signer[256];
};

#endif
