/* cmd_synth.c: "carerecord synth": parse the options, run the generator
 * with a progress display and print a summary. Depends on synth/synth.h,
 * synth/date.h and core/clock.h. */
#include "cli/cmd_synth.h"

#include "core/clock.h"
#include "core/err.h"
#include "synth/date.h"
#include "synth/synth.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_OUT "./synth-out"
#define DEFAULT_START "2026-01-01"

static const char usage[] =
    "usage: carerecord synth --patients N [--seed S] [--out DIR] [--start YYYY-MM-DD] [-q]\n"
    "\n"
    "Generate a synthetic London population as FHIR R4 NDJSON, one folder per\n"
    "exchange node (nel, ncl, nwl, sel, swl) with one file per resource type,\n"
    "plus DIR/manifest.json. The same options always give the same bytes.\n"
    "\n"
    "  --patients N        how many people to generate (1 to %llu, the valid\n"
    "                      NHS numbers of the 999 test range); required\n"
    "  --seed S            random seed, a whole number (default 1); the world's\n"
    "                      organisations do not depend on it, the people do\n"
    "  --out DIR           output directory, created if missing; old NDJSON files\n"
    "                      there are replaced (default " DEFAULT_OUT ")\n"
    "  --start YYYY-MM-DD  the \"today\" of the synthetic world: histories end the\n"
    "                      day before, future appointments start after it\n"
    "                      (default " DEFAULT_START "; the real clock is never used)\n"
    "  -q, --quiet         no progress display\n"
    "  -h, --help          show this help\n"
    "\n"
    "docs/synth.md describes the world, the people, the rates and the codes.\n";

struct progress {
    bool is_tty;
    bool is_quiet;
    int64_t start_us;
    int64_t last_us;
    int last_tenth;
};

static void
human(double v, char *out, size_t size)
{
    if (v >= 1e6)
        snprintf(out, size, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(out, size, "%.0fk", v / 1e3);
    else
        snprintf(out, size, "%.0f", v);
}

static void
on_progress(void *arg, uint64_t done, uint64_t total, uint64_t resources)
{
    struct progress *pr = arg;
    int64_t now = cr_clock_mono_us();
    double secs = (now - pr->start_us) / 1e6, rate, eta;
    char res_s[16], rate_s[16];
    int tenth = total ? (int)(done * 10 / total) : 10;

    if (pr->is_quiet)
        return;
    rate = secs > 0 ? resources / secs : 0;
    eta = done > 0 ? secs * (double)(total - done) / (double)done : 0;
    human((double)resources, res_s, sizeof res_s);
    human(rate, rate_s, sizeof rate_s);
    if (pr->is_tty) {
        char bar[31];
        int fill = total ? (int)(done * 30 / total) : 30, i;

        if (done < total && now - pr->last_us < 100000)
            return;
        pr->last_us = now;
        for (i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[30] = '\0';
        fprintf(stderr, "\rsynth [%s] %3d%%  %llu/%llu patients  %s resources  %s/s  ETA %d:%02d\033[K",
                bar, (int)(total ? done * 100 / total : 100), (unsigned long long)done,
                (unsigned long long)total, res_s, rate_s, (int)eta / 60, (int)eta % 60);
        if (done >= total)
            fputc('\n', stderr);
    } else {
        if (tenth <= pr->last_tenth)
            return;
        pr->last_tenth = tenth;
        fprintf(stderr, "synth: %d%% %llu/%llu patients, %s resources, %s resources/s, ETA %ds\n",
                tenth * 10, (unsigned long long)done, (unsigned long long)total, res_s,
                rate_s, (int)eta);
    }
    fflush(stderr);
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    *out = v;
    return true;
}

static int
bad_usage(const char *fmt, const char *arg)
{
    fputs("carerecord synth: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'carerecord synth --help'.\n", stderr);
    return 2;
}

int
cr_cli_synth(int argc, char **argv)
{
    static const struct option opts[] = {
        { "patients", required_argument, NULL, 'n' },
        { "seed", required_argument, NULL, 's' },
        { "out", required_argument, NULL, 'o' },
        { "start", required_argument, NULL, 't' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct cr_synth_params p;
    struct cr_synth_stats *st = NULL;
    struct cr_err err;
    struct progress pr = { 0 };
    const char *start = DEFAULT_START;
    bool has_patients = false;
    double secs;
    int c, node, status = 1;

    memset(&p, 0, sizeof p);
    p.seed = 1;
    p.out_dir = DEFAULT_OUT;
    optind = 0;                  /* GNU: start afresh, even if called before */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (!parse_u64(optarg, &p.patients) || p.patients < 1
                || p.patients > cr_synth_max_patients()) {
                fprintf(stderr, "carerecord synth: --patients must be a whole number "
                                "from 1 to %llu, not '%s'\n",
                        (unsigned long long)cr_synth_max_patients(), optarg);
                return 2;
            }
            has_patients = true;
            break;
        case 's':
            if (!parse_u64(optarg, &p.seed))
                return bad_usage("--seed must be a whole number, not '%s'", optarg);
            break;
        case 'o':
            if (optarg[0] == '\0')
                return bad_usage("--out needs a directory name%s", "");
            p.out_dir = optarg;
            break;
        case 't':
            start = optarg;
            break;
        case 'q':
            pr.is_quiet = true;
            break;
        case 'h':
            printf(usage, (unsigned long long)cr_synth_max_patients());
            return 0;
        case ':':
            return bad_usage("option '%s' needs a value", argv[optind - 1]);
        default:
            return bad_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return bad_usage("unexpected argument '%s'", argv[optind]);
    if (!has_patients)
        return bad_usage("--patients N is required%s", "");
    if (!cr_synth_date_parse(start, &p.start_day))
        return bad_usage("--start must be a date YYYY-MM-DD (1900-2199), not '%s'", start);

    st = calloc(1, sizeof *st);
    if (st == NULL) {
        fputs("carerecord synth: out of memory\n", stderr);
        return 1;
    }
    pr.is_tty = isatty(STDERR_FILENO) == 1;
    pr.start_us = cr_clock_mono_us();
    pr.last_tenth = 0;
    p.progress = on_progress;
    p.progress_arg = &pr;
    cr_err_clear(&err);
    if (cr_synth_run(&p, st, &err) != CR_OK) {
        fprintf(stderr, "%scarerecord synth: %s\n", pr.is_tty && !pr.is_quiet ? "\n" : "",
                err.msg);
        goto out;
    }
    secs = (cr_clock_mono_us() - pr.start_us) / 1e6;
    printf("synth: %llu patients, %llu resources in %.1f s (%.0f resources/s), seed %llu, "
           "start %s -> %s\n",
           (unsigned long long)st->patients, (unsigned long long)st->resources, secs,
           secs > 0 ? st->resources / secs : 0.0, (unsigned long long)p.seed, start,
           p.out_dir);
    for (node = 0; node < CR_SYNTH_NODES; node++) {
        uint64_t n = 0;
        int type;
        for (type = 0; type < CR_SYNTH_TYPES; type++)
            n += st->count[node][type];
        printf("  %s %-22s %12llu resources\n", cr_synth_node_id(node),
               cr_synth_node_name(node), (unsigned long long)n);
    }
    printf("  manifest: %s/manifest.json\n", p.out_dir);
    status = 0;
out:
    free(st);
    return status;
}
