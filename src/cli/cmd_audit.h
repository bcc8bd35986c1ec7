/* cmd_audit.h: the `carerecord audit` subcommand: verify the audit log's
 * hash chain, and report alerts and usage. Depends on audit/audit.h. */
#ifndef CR_CLI_CMD_AUDIT_H
#define CR_CLI_CMD_AUDIT_H

/* Run `carerecord audit verify|report ...`; argv[0] is "audit". Returns
 * the process exit status: 0 when the log is intact or the report was
 * printed (and for --help), 1 when the log is broken or the store cannot
 * be read (the reason on stdout or stderr), 2 when the command line is
 * wrong. Uses getopt, so it is not reentrant;
 * call it from main only. */
int
cr_cli_audit(int argc, char **argv);

#endif
