/*
 * cmd_sign.h - the "sign" and "verify" commands of the lienthong CLI.
 *
 *   lienthong sign --key KEY [--pass env:NAME|file:PATH] [--cert CERT]
 *                  [--chain FILE] [--alg ALG] [--detached]
 *                  [--format compact|flattened] FILE
 *   lienthong verify (--trust DIR | --key PUBLIC_KEY_PEM_OR_JWK)
 *                  [--payload FILE] FILE
 *
 * argv[0] is the command name; FILE may be "-" for standard input. The
 * return value is the exit code: 0 ok, 1 invalid or refused input (verify
 * prints "verify: 'FILE': REASON: detail"), 2 usage error, 3 I/O or
 * internal error.
 */
#ifndef GW_CMD_SIGN_H
#define GW_CMD_SIGN_H

int gw_cmd_sign(int argc, char **argv);
int gw_cmd_verify(int argc, char **argv);

#endif
