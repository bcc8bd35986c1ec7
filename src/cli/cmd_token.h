/* cmd_token.h: the `carerecord token` subcommand, which mints a bearer token
 * signed with the node's key, for development and tests only.
 * Depends on access/token.h. */
#ifndef CR_CLI_CMD_TOKEN_H
#define CR_CLI_CMD_TOKEN_H

/* Run `carerecord token ...`; argv[0] is "token". Prints the token and a
 * newline on stdout. Returns the process exit status: 0 on success (and for
 * --help), 2 when the command line is wrong (the reason and what to do are
 * on stderr), 1 when the key or data directory cannot be used. Uses getopt,
 * so it is not reentrant; call it from main only. */
int
cr_cli_token(int argc, char **argv);

#endif
