/* cmd_import.h: `carerecord import`. */
#ifndef CR_CLI_CMD_IMPORT_H
#define CR_CLI_CMD_IMPORT_H

/* Load NDJSON files (plain or gzip) into a data directory. argv[0] is
 * "import". Returns 0 when every line was stored, 1 when some lines were
 * bad or the store failed, 2 for a usage error. */
int
cr_cli_import(int argc, char **argv);

#endif
