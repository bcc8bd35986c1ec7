/* cmd_serve.h: `carerecord serve`. */
#ifndef CR_CLI_CMD_SERVE_H
#define CR_CLI_CMD_SERVE_H

/* Run a node until SIGINT or SIGTERM. argv[0] is "serve". Returns the
 * process exit status: 0 after a clean stop, 1 if it could not start,
 * 2 for a usage error. */
int
cr_cli_serve(int argc, char **argv);

#endif
