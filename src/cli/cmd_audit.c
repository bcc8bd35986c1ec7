/* cmd_audit.c: `carerecord audit`, the privacy officer's tools on a node's
 * data directory. `verify` walks the audit log's hash chain read-only (a
 * running node may go on writing) and says whether it is intact or where
 * it breaks; `report` (alerts and usage) is not written yet.
 * Depends on audit/audit.h. */
#include "cli/cmd_audit.h"

#include "audit/audit.h"
#include "core/err.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define EXIT_USAGE 2
#define DEFAULT_DATA "./carerecord-data"

static const char usage_text[] =
    "Usage: carerecord audit verify [--data DIR] [--expect-head SEQ:HASH]\n"
    "       carerecord audit report [--data DIR]   (not yet available)\n"
    "\n"
    "verify checks the node's audit log: every record's hash must equal\n"
    "SHA-256 of the previous record's hash and the record's contents, the\n"
    "records must run 1, 2, 3 ... without a gap, and each record's indexed\n"
    "columns must say what its hashed contents say. It prints\n"
    "  audit log intact: N records, last hash H          (exit status 0)\n"
    "or\n"
    "  audit log broken at record SEQ: <what is wrong>   (exit status 1)\n"
    "\n"
    "A chain alone cannot show that records were cut off its end, or that\n"
    "the whole file was rewritten: keep the 'N:H' of a verify (or of the\n"
    "node's exported head) somewhere the node cannot write, and pass it\n"
    "back with --expect-head.\n"
    "\n"
    "  --data DIR              the node's data directory. Default: "
    DEFAULT_DATA "\n"
    "  --expect-head SEQ:HASH  a record known from outside the node: the\n"
    "                          log must still hold record SEQ, with hash\n"
    "                          HASH (64 hex digits)\n"
    "  -h, --help              show this help\n"
    "\n"
    "Exit status: 0 intact, 1 broken or unreadable, 2 wrong command line.\n";

enum opt {
    OPT_DATA = 256,
    OPT_EXPECT_HEAD,
};

static const struct option long_opts[] = {
    { "data", required_argument, NULL, OPT_DATA },
    { "expect-head", required_argument, NULL, OPT_EXPECT_HEAD },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int
usage_error(void)
{
    fprintf(stderr, "Run 'carerecord audit --help' for usage.\n");
    return EXIT_USAGE;
}

static int
verify(int argc, char **argv)
{
    struct cr_audit_anchor anchor;
    struct cr_audit_verdict v;
    struct cr_err err;
    const char *data = DEFAULT_DATA;
    bool has_anchor = false;
    cr_rc rc;
    int c;

    cr_err_clear(&err);
    opterr = 0;
    optind = 0; /* glibc: restart scanning, even if main used getopt */
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            return fflush(stdout) == 0 ? 0 : 1;
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_EXPECT_HEAD:
            if (!cr_audit_anchor_parse(optarg, &anchor)) {
                fprintf(stderr, "carerecord audit verify: --expect-head "
                        "wants SEQ:HASH, a record number, a colon and 64 "
                        "hex digits, as printed by an earlier verify.\n");
                return usage_error();
            }
            has_anchor = true;
            break;
        case ':':
            fprintf(stderr, "carerecord audit verify: %s needs a value.\n",
                    argv[optind - 1]);
            return usage_error();
        default:
            fprintf(stderr, "carerecord audit verify: unknown option '%s'.\n",
                    argv[optind - 1]);
            return usage_error();
        }
    }
    if (optind < argc) {
        fprintf(stderr, "carerecord audit verify: unexpected argument "
                "'%s'.\n", argv[optind]);
        return usage_error();
    }
    rc = cr_audit_verify_dir(data, has_anchor ? &anchor : NULL, &v, &err);
    if (rc != CR_OK) {
        fprintf(stderr, "carerecord audit verify: %s\n", err.msg);
        return 1;
    }
    if (!v.is_intact) {
        printf("audit log broken at record %lld: %s\n",
               (long long)v.broken_seq, v.what);
        fflush(stdout);
        return 1;
    }
    printf("audit log intact: %lld records, last hash %s\n",
           (long long)v.nrecords, v.last_hash);
    return fflush(stdout) == 0 ? 0 : 1;
}

int
cr_cli_audit(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;

    if (sub == NULL) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
        strcmp(sub, "help") == 0) {
        fputs(usage_text, stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (strcmp(sub, "verify") == 0)
        return verify(argc - 1, argv + 1);
    if (strcmp(sub, "report") == 0) {
        fprintf(stderr, "carerecord audit report: not yet available: "
                "alerts and usage reports will come in a later version. "
                "'carerecord audit verify' checks the log now.\n");
        return 1;
    }
    fprintf(stderr, "carerecord audit: unknown subcommand '%s'.\n", sub);
    return usage_error();
}
