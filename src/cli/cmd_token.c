/* cmd_token.c: `carerecord token`, which mints a bearer token signed with
 * the node's key (creating the key on first use), for development and
 * tests. Production tokens come from a proper login service; this command
 * exists so a person or a test can talk to a node without one.
 * Depends on access/token.h and access/principal.h. */
#include "cli/cmd_token.h"

#include "access/principal.h"
#include "access/token.h"
#include "core/err.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EXIT_USAGE 2
#define DEFAULT_DATA "./carerecord-data"
#define DEFAULT_TTL 3600

static const char usage_text[] =
    "Usage: carerecord token --sub ID --name NAME --org ODS --role CODE\n"
    "                        --purpose PURPOSE [--patient NHSNUMBER]\n"
    "                        [--reason TEXT] [--ttl SECONDS] [--data DIR]\n"
    "\n"
    "Mint a bearer token (a JWT signed with EdDSA) with the node's key and\n"
    "print it on stdout. For development and tests only. Send it as\n"
    "'Authorization: Bearer <token>'.\n"
    "\n"
    "  --data DIR         the node's data directory, which holds the node key\n"
    "                     (node-key.pem; created with a new key if missing).\n"
    "                     Default: " DEFAULT_DATA "\n"
    "  --sub ID           the user's stable identifier (claim 'sub'), e.g.\n"
    "                     a user id from the login service\n"
    "  --name NAME        the user's display name, shown in audit trails\n"
    "  --org ODS          the ODS code of the user's organisation, e.g. RR8\n"
    "  --role CODE        the SDS job role code: a letter and four digits,\n"
    "                     e.g. R8000 (clinical practitioner)\n"
    "  --purpose PURPOSE  why the record is accessed, one of:\n"
    "                     " CR_PRINCIPAL_PURPOSES "\n"
    "  --patient NHSNUMBER  for patient-access tokens: the patient's NHS\n"
    "                     number, ten digits without spaces\n"
    "  --reason TEXT      the stated reason for access (needed for emergency\n"
    "                     and self-claimed relationships)\n"
    "  --ttl SECONDS      lifetime of the token, 1 to 31536000. Default: 3600\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 token printed, 2 wrong command line, 1 the key or data\n"
    "directory could not be used.\n";

enum opt {
    OPT_DATA = 256,
    OPT_SUB,
    OPT_NAME,
    OPT_ORG,
    OPT_ROLE,
    OPT_PURPOSE,
    OPT_PATIENT,
    OPT_REASON,
    OPT_TTL,
};

static const struct option long_opts[] = {
    { "data", required_argument, NULL, OPT_DATA },
    { "sub", required_argument, NULL, OPT_SUB },
    { "name", required_argument, NULL, OPT_NAME },
    { "org", required_argument, NULL, OPT_ORG },
    { "role", required_argument, NULL, OPT_ROLE },
    { "purpose", required_argument, NULL, OPT_PURPOSE },
    { "patient", required_argument, NULL, OPT_PATIENT },
    { "reason", required_argument, NULL, OPT_REASON },
    { "ttl", required_argument, NULL, OPT_TTL },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int
usage_error(void)
{
    fprintf(stderr, "Run 'carerecord token --help' for usage.\n");
    return EXIT_USAGE;
}

/* Copy an option's value into a principal field, refusing what would not
 * fit rather than cutting it short. */
static bool
set_field(char *dst, size_t size, const char *value, const char *opt)
{
    size_t n = strlen(value);

    if (n >= size) {
        fprintf(stderr,
                "carerecord token: --%s is too long (%zu bytes; at most %zu "
                "are allowed).\n",
                opt, n, size - 1);
        return false;
    }
    memcpy(dst, value, n + 1);
    return true;
}

/* Parse a whole positive number of seconds, 1 .. CR_TOKEN_MAX_TTL. */
static bool
parse_ttl(const char *s, int64_t *out)
{
    char *end = NULL;
    long v;

    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 ||
        v > CR_TOKEN_MAX_TTL)
        return false;
    *out = (int64_t)v;
    return true;
}

/* Append " OPT" to the list 'out' when 'value' is empty. */
static void
add_missing(char *out, size_t size, const char *value, const char *opt)
{
    size_t n = strlen(out);

    if (value[0] == '\0' && n < size)
        snprintf(out + n, size - n, " %s", opt);
}

/* mkdir -p: create 'path' and its missing parents. The last component,
 * which will hold the node's private key, is made private to its owner. */
static int
mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t i, n = strlen(path);
    struct stat st;

    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (i = 1; i < n; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        buf[i] = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -1;
    if (stat(buf, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int
cr_cli_token(int argc, char **argv)
{
    struct cr_principal p;
    struct cr_err err;
    struct cr_keys *keys = NULL;
    const char *data = DEFAULT_DATA, *opt_name;
    char *jwt = NULL;
    char missing[128] = "";
    int64_t ttl = DEFAULT_TTL;
    int c, status = 1;
    cr_rc rc;

    memset(&p, 0, sizeof p);
    cr_err_clear(&err);
    opterr = 0;
    optind = 0; /* glibc: restart scanning, even if main used getopt */
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            return fflush(stdout) == 0 ? 0 : 1;
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_SUB:
            ok = set_field(p.sub, sizeof p.sub, optarg, "sub");
            break;
        case OPT_NAME:
            ok = set_field(p.name, sizeof p.name, optarg, "name");
            break;
        case OPT_ORG:
            ok = set_field(p.org, sizeof p.org, optarg, "org");
            break;
        case OPT_ROLE:
            ok = set_field(p.role, sizeof p.role, optarg, "role");
            break;
        case OPT_PURPOSE:
            ok = set_field(p.purpose, sizeof p.purpose, optarg, "purpose");
            break;
        case OPT_PATIENT:
            ok = set_field(p.patient, sizeof p.patient, optarg, "patient");
            break;
        case OPT_REASON:
            ok = set_field(p.reason, sizeof p.reason, optarg, "reason");
            break;
        case OPT_TTL:
            if (!parse_ttl(optarg, &ttl)) {
                fprintf(stderr,
                        "carerecord token: --ttl '%s' is not a whole number "
                        "of seconds from 1 to %d.\n",
                        optarg, CR_TOKEN_MAX_TTL);
                ok = false;
            }
            break;
        case ':':
            opt_name = argv[optind - 1];
            fprintf(stderr, "carerecord token: %s needs a value.\n",
                    opt_name);
            ok = false;
            break;
        default:
            if (optopt != 0 && optopt < 256)
                fprintf(stderr, "carerecord token: unknown option '-%c'.\n",
                        optopt);
            else
                fprintf(stderr, "carerecord token: unknown option '%s'.\n",
                        argv[optind - 1]);
            ok = false;
            break;
        }
        if (!ok)
            return usage_error();
    }
    if (optind < argc) {
        fprintf(stderr, "carerecord token: unexpected argument '%s'.\n",
                argv[optind]);
        return usage_error();
    }

    /* Required options, all named at once. */
    add_missing(missing, sizeof missing, p.sub, "--sub");
    add_missing(missing, sizeof missing, p.name, "--name");
    add_missing(missing, sizeof missing, p.org, "--org");
    add_missing(missing, sizeof missing, p.role, "--role");
    add_missing(missing, sizeof missing, p.purpose, "--purpose");
    if (missing[0] != '\0') {
        fprintf(stderr,
                "carerecord token: missing required option(s):%s.\n",
                missing);
        return usage_error();
    }
    if (!cr_principal_purpose_valid(p.purpose)) {
        fprintf(stderr,
                "carerecord token: --purpose '%s' is not a purpose of use; "
                "use one of: " CR_PRINCIPAL_PURPOSES ".\n",
                p.purpose);
        return usage_error();
    }
    if (!cr_principal_role_valid(p.role)) {
        fprintf(stderr,
                "carerecord token: --role '%s' is not an SDS job role code; "
                "give a capital letter and four digits, e.g. R8000.\n",
                p.role);
        return usage_error();
    }
    if (!cr_principal_org_valid(p.org)) {
        fprintf(stderr,
                "carerecord token: --org '%s' is not an ODS code; use "
                "upper-case letters and digits, e.g. RR8.\n",
                p.org);
        return usage_error();
    }
    if (p.patient[0] != '\0' && !cr_principal_nhs_number_valid(p.patient)) {
        fprintf(stderr,
                "carerecord token: --patient '%s' is not an NHS number; give "
                "its ten digits without spaces, e.g. 9000000009.\n",
                p.patient);
        return usage_error();
    }
    /* Anything else (control characters, bad UTF-8) in the library's
     * words. */
    if (cr_token_principal_check(&p, &err) != CR_OK) {
        fprintf(stderr, "carerecord token: %s.\n", err.msg);
        return usage_error();
    }

    if (mkdir_p(data) != 0) {
        fprintf(stderr,
                "carerecord token: cannot create data directory %s: %s.\n",
                data, strerror(errno));
        return 1;
    }
    rc = cr_token_keys_open(data, &keys, &err);
    if (rc != CR_OK) {
        fprintf(stderr, "carerecord token: %s.\n", err.msg);
        goto out;
    }
    rc = cr_token_mint(keys, &p, ttl, &jwt, &err);
    if (rc != CR_OK) {
        fprintf(stderr, "carerecord token: %s.\n", err.msg);
        status = rc == CR_EINVAL ? EXIT_USAGE : 1;
        goto out;
    }
    if (printf("%s\n", jwt) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "carerecord token: cannot write the token: %s.\n",
                strerror(errno));
        goto out;
    }
    status = 0;
out:
    free(jwt);
    cr_token_keys_close(keys);
    return status;
}
