/* cmd_demo.h: `carerecord demo`. */
#ifndef CR_CLI_CMD_DEMO_H
#define CR_CLI_CMD_DEMO_H

/* Run synthetic London on five federated nodes until SIGINT or SIGTERM.
 * argv[0] is "demo". Returns 0 after a clean stop, 1 when the data could
 * not be made, a node did not start, or a node did not stop cleanly
 * (exit status 0) (what happened is on stderr), 2 for bad usage. Prints the nodes, the personas and their tokens on stdout and
 * writes DIR/demo.json (removed again when the nodes stop). Not
 * thread-safe (getopt, signal mask). */
int
cr_cli_demo(int argc, char **argv);

#endif
