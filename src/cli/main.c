/* main.c: the carerecord command: dispatch to a subcommand.
 * Each subcommand lives in its own cmd_*.c. */
#include "cli/cmd_audit.h"
#include "cli/cmd_demo.h"
#include "cli/cmd_import.h"
#include "cli/cmd_mpi.h"
#include "cli/cmd_serve.h"

#if __has_include("cli/cmd_token.h")
#include "cli/cmd_token.h"
#define HAVE_TOKEN 1
#endif
#if __has_include("cli/cmd_synth.h")
#include "cli/cmd_synth.h"
#define HAVE_SYNTH 1
#endif

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: carerecord COMMAND [OPTIONS]\n"
    "\n"
    "carerecord is a shared care record node: a FHIR R4 server that joins\n"
    "up a person's record across health and care organisations.\n"
    "\n"
    "Commands:\n"
    "  serve    run a node (FHIR API under /fhir)\n"
    "  demo     synthetic London on five federated nodes, ready to try\n"
    "  token    mint a signed access token (development and tests)\n"
    "  import   load NDJSON files into a node's store\n"
    "  audit    check the audit log (verify); alerts and usage (report)\n"
    "  mpi      the patient index: rebuild it, measure matching\n"
    "  synth    generate a synthetic London population as NDJSON\n"
    "  version  print the version\n"
    "\n"
    "Run 'carerecord COMMAND --help' for a command's options.\n";

int
main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;

    if (cmd == NULL || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, cmd ? stdout : stderr);
        return cmd ? 0 : 2;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
#ifdef CR_BENCH_NO_ACCESS
        printf("carerecord %s (benchmark build: no access policy, no "
               "audit; never serve real data with it)\n", CR_VERSION);
#else
        printf("carerecord %s\n", CR_VERSION);
#endif
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return cr_cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return cr_cli_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "import") == 0)
        return cr_cli_import(argc - 1, argv + 1);
    if (strcmp(cmd, "audit") == 0)
        return cr_cli_audit(argc - 1, argv + 1);
    if (strcmp(cmd, "mpi") == 0)
        return cr_cli_mpi(argc - 1, argv + 1);
#ifdef HAVE_TOKEN
    if (strcmp(cmd, "token") == 0)
        return cr_cli_token(argc - 1, argv + 1);
#endif
#ifdef HAVE_SYNTH
    if (strcmp(cmd, "synth") == 0)
        return cr_cli_synth(argc - 1, argv + 1);
#endif
    fprintf(stderr, "carerecord: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
