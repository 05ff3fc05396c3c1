/*
 * cmd_serve.h - the "serve" command: the inbound HTTPS server
 * (gateway/server.c) and, in the same process, the delivery engine that
 * drains the outbox (flow/deliver.c).
 */
#ifndef GW_CMD_SERVE_H
#define GW_CMD_SERVE_H

int gw_cmd_serve(int argc, char **argv);

#endif
