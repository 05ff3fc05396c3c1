/*
 * cmd_queue.h - the forwarding commands: "send" (validate and enqueue
 * durably), "queue" (ls, show, retry, drop) and "deliver" (drain the
 * outbox to the routed destinations) and "sync" (send what is new or
 * changed in the configured sources).
 */
#ifndef GW_CMD_QUEUE_H
#define GW_CMD_QUEUE_H

int gw_cmd_send(int argc, char **argv);
int gw_cmd_queue(int argc, char **argv);
int gw_cmd_deliver(int argc, char **argv);
int gw_cmd_sync(int argc, char **argv);

#endif
