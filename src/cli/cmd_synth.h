/* cmd_synth.h: the "carerecord synth" subcommand. Depends on synth/. */
#ifndef CR_CLI_CMD_SYNTH_H
#define CR_CLI_CMD_SYNTH_H

/* Run "carerecord synth" with argv[0] == "synth" and the options after
 * it. Returns the process exit status: 0 on success, 1 when generation
 * failed (the reason is on stderr), 2 for bad usage. Prints a progress
 * display on stderr and a summary on stdout. Not thread-safe (getopt). */
int
cr_cli_synth(int argc, char **argv);

#endif
