/* cmd_audit.c: `carerecord audit`, the privacy officer's tools on a node's
 * data directory, both read-only (a running node may go on writing).
 * `verify` walks the audit log's hash chain and says whether it is intact
 * or where it breaks; `report` lists the alerts to review and the usage
 * statistics of a period. Depends on audit/audit.h, access/principal.h,
 * core/. */
#include "cli/cmd_audit.h"

#include "access/principal.h"
#include "audit/audit.h"
#include "core/civil.h"
#include "core/err.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2
#define DEFAULT_DATA "./carerecord-data"

static const char usage_text[] =
    "Usage: carerecord audit verify [--data DIR] [--expect-head SEQ:HASH]\n"
    "       carerecord audit report [--data DIR] [--since YYYY-MM-DD]\n"
    "                               [--until YYYY-MM-DD] [--org ODS]\n"
    "                               [--format text|json]\n"
    "                               [--volume-threshold N]\n"
    "\n"
    "verify checks the node's audit log: every record's hash must equal\n"
    "SHA-256 of the previous record's hash and the record's contents, the\n"
    "records must run 1, 2, 3 ... without a gap, and each record's indexed\n"
    "columns must say what its hashed contents say. It prints\n"
    "  audit log intact: N records, last hash H          (exit status 0)\n"
    "or\n"
    "  audit log broken at record SEQ: <what is wrong>   (exit status 1)\n"
    "An intact log whose node left records in its journal (records of\n"
    "answers given, not yet chained: the node was killed, or is moving\n"
    "them) adds a line saying how many; the node chains them when it\n"
    "next runs.\n"
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
    "report reads the audit log of a period and prints:\n"
    "  - alerts to review: every record that raised an alert (self-claimed\n"
    "    relationship, emergency access, same surname or address,\n"
    "    restricted or flagged record, out of hours, objection overridden,\n"
    "    student), with who, when, which patient, the reason and outcome;\n"
    "  - unusual volume: users who opened more than N distinct patients'\n"
    "    records in one UK calendar day (source systems and patients are\n"
    "    not counted);\n"
    "  - usage by month: record views, distinct users, care plan views and\n"
    "    those by emergency services (ambulance, NHS 111, emergency\n"
    "    access); record views by care setting.\n"
    "Definitions: docs/internals/audit.md.\n"
    "\n"
    "  --data DIR              the node's data directory. Default: "
    DEFAULT_DATA "\n"
    "  --since YYYY-MM-DD      the first day of the period (UK date)\n"
    "  --until YYYY-MM-DD      the last day of the period, included\n"
    "  --org ODS               only the staff of this organisation\n"
    "  --format text|json      text for people (default), or a FHIR R4\n"
    "                          Parameters resource, as GET\n"
    "                          /fhir/$audit-report answers\n"
    "  --volume-threshold N    unusual volume is more than N distinct\n"
    "                          patients a day. Default: 50\n"
    "\n"
    "Exit status: verify: 0 intact, 1 broken or unreadable; report: 0\n"
    "printed, 1 no store or unreadable; both: 2 wrong command line.\n";

enum opt {
    OPT_DATA = 256,
    OPT_EXPECT_HEAD,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_ORG,
    OPT_FORMAT,
    OPT_VOLUME,
};

static const struct option long_opts[] = {
    { "data", required_argument, NULL, OPT_DATA },
    { "expect-head", required_argument, NULL, OPT_EXPECT_HEAD },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static const struct option report_opts[] = {
    { "data", required_argument, NULL, OPT_DATA },
    { "since", required_argument, NULL, OPT_SINCE },
    { "until", required_argument, NULL, OPT_UNTIL },
    { "org", required_argument, NULL, OPT_ORG },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "volume-threshold", required_argument, NULL, OPT_VOLUME },
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
help(void)
{
    fputs(usage_text, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* What getopt_long refused of `carerecord audit CMD` (c is ':' for a
 * missing value), said; returns the exit status. */
static int
refused(const char *cmd, int c, char **argv)
{
    if (c == ':')
        fprintf(stderr, "carerecord audit %s: %s needs a value.\n", cmd,
                argv[optind - 1]);
    else
        fprintf(stderr, "carerecord audit %s: unknown option '%s'.\n", cmd,
                argv[optind - 1]);
    return usage_error();
}

/* After the options: true when nothing is left, else says so. */
static bool
no_operands(const char *cmd, int argc, char **argv)
{
    if (optind >= argc)
        return true;
    fprintf(stderr, "carerecord audit %s: unexpected argument '%s'.\n", cmd,
            argv[optind]);
    return false;
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
            return help();
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
        default:
            return refused("verify", c, argv);
        }
    }
    if (!no_operands("verify", argc, argv))
        return usage_error();
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
    if (v.njournaled > 0)
        printf("%lld more in the node's journal, not yet in the chain: a "
               "running node moves them within moments, a stopped one when "
               "it next starts\n", (long long)v.njournaled);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* A day given on the command line, or false after saying what is wrong. */
static bool
parse_day(const char *opt, const char *value, int64_t *out)
{
    if (cr_civil_parse_date(value, out))
        return true;
    fprintf(stderr, "carerecord audit report: %s wants a date such as "
            "2025-01-31 (YYYY-MM-DD, from 1970), not '%s'.\n", opt, value);
    return false;
}

static int
report(int argc, char **argv)
{
    struct cr_audit_report_opts o;
    struct cr_audit_report *r = NULL;
    struct cr_buf out = cr_buf_make(0);
    struct cr_err err;
    const char *data = DEFAULT_DATA;
    bool is_json = false, has_since = false, has_until = false;
    int64_t since = 0, until = 0;
    int status = 1, c;
    cr_rc rc;

    cr_err_clear(&err);
    memset(&o, 0, sizeof o);
    opterr = 0;
    optind = 0; /* glibc: restart scanning, even if main used getopt */
    while ((c = getopt_long(argc, argv, ":h", report_opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            return help();
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_SINCE:
            if (!parse_day("--since", optarg, &since))
                return usage_error();
            has_since = true;
            break;
        case OPT_UNTIL:
            if (!parse_day("--until", optarg, &until))
                return usage_error();
            has_until = true;
            break;
        case OPT_ORG:
            if (!cr_principal_org_valid(optarg)) {
                fprintf(stderr, "carerecord audit report: --org wants an "
                        "ODS code (upper-case letters and digits, e.g. "
                        "RR8), not '%s'.\n", optarg);
                return usage_error();
            }
            o.org = optarg;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
                fprintf(stderr, "carerecord audit report: --format is text "
                        "or json, not '%s'.\n", optarg);
                return usage_error();
            }
            is_json = strcmp(optarg, "json") == 0;
            break;
        case OPT_VOLUME: {
            char *end;
            long long n;

            errno = 0;
            n = strtoll(optarg, &end, 10);
            if (!(*optarg >= '0' && *optarg <= '9') || *end != '\0' ||
                errno != 0 || n < 1 || n > 1000000000) {
                fprintf(stderr, "carerecord audit report: "
                        "--volume-threshold wants a whole number of "
                        "patients from 1, not '%s'.\n", optarg);
                return usage_error();
            }
            o.volume_threshold = n;
            break;
        }
        default:
            return refused("report", c, argv);
        }
    }
    if (!no_operands("report", argc, argv))
        return usage_error();
    if (has_since && has_until && until < since) {
        fprintf(stderr, "carerecord audit report: --until (the last day) "
                "comes before --since (the first day).\n");
        return usage_error();
    }
    o.has_since = has_since;
    o.since_ms = has_since ? cr_civil_uk_day_start(since) : 0;
    o.has_until = has_until;
    o.until_ms = has_until ? cr_civil_uk_day_start(until + 1) : 0;
    rc = cr_audit_report_dir(data, &o, &r, &err);
    if (rc != CR_OK) {
        fprintf(stderr, "carerecord audit report: %s\n", err.msg);
        if (rc == CR_EINVAL)
            status = usage_error();
        goto out;
    }
    rc = is_json ? cr_audit_report_fhir(r, &out)
                 : cr_audit_report_text(r, &out);
    if (is_json)
        cr_buf_addc(&out, '\n');
    if (rc != CR_OK || out.rc != CR_OK) {
        fprintf(stderr, "carerecord audit report: out of memory\n");
        goto out;
    }
    if (fwrite(out.ptr, 1, out.len, stdout) == out.len && fflush(stdout) == 0)
        status = 0;
out:
    cr_buf_free(&out);
    cr_audit_report_destroy(r);
    return status;
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
        strcmp(sub, "help") == 0)
        return help();
    if (strcmp(sub, "verify") == 0)
        return verify(argc - 1, argv + 1);
    if (strcmp(sub, "report") == 0)
        return report(argc - 1, argv + 1);
    fprintf(stderr, "carerecord audit: unknown subcommand '%s'.\n", sub);
    return usage_error();
}
