/* cmd_mpi.h: the "carerecord mpi" subcommand (rebuild, evaluate).
 * Depends on mpi/, store/, synth/. */
#ifndef CR_CLI_CMD_MPI_H
#define CR_CLI_CMD_MPI_H

/* Run "carerecord mpi" with argv[0] == "mpi" and the subcommand and
 * options after it. Returns the process exit status: 0 on success, 1 when
 * the work failed (the reason is on stderr), 2 for bad usage. Results go
 * to stdout. Not thread-safe (getopt). */
int
cr_cli_mpi(int argc, char **argv);

#endif
