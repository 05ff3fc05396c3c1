/*
 * client.h - the HTTP client of the delivery engine: the libcurl
 * implementation of flow/transport.h (multi interface, many exchanges in
 * flight on connections kept between rounds, TLS sessions and DNS shared,
 * TLS 1.2 or later with the peer verified).
 */
#ifndef GW_CLIENT_H
#define GW_CLIENT_H

#include "flow/transport.h"

/* The libcurl transport (static, never freed): set it as a forwarding's
 * transport before gw_deliver_run. */
const struct gw_http_transport *gw_client_transport(void);

#endif
