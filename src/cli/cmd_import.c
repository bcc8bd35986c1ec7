/* cmd_import.c: `carerecord import --data DIR FILE.ndjson[.gz]...`.
 *
 * Streams each file (zlib reads gzip and plain text alike) line by line
 * into the import engine (api/import.h), shows progress (a bar with rate
 * and ETA on a terminal, a plain line every few seconds otherwise) and a
 * summary. Bad lines are reported as FILE:LINE: reason and skipped.
 * Depends on api/, store/, access/ (the node key), zlib. */
#include "cli/cmd_import.h"

#include "access/token.h"
#include "api/api.h"
#include "api/import.h"
#include "audit/audit.h"
#include "cli/config.h"
#include "core/clock.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char usage[] =
    "Usage: carerecord import --data DIR [--org ODS] [--workers N] "
    "FILE.ndjson[.gz]...\n"
    "\n"
    "Load FHIR resources, one JSON object per line, into a node's store.\n"
    "Each resource keeps its id (created, or updated if it exists) and is\n"
    "validated and indexed as a REST write would be. Bad lines are\n"
    "reported as FILE:LINE: reason and skipped; nothing is half-written.\n"
    "Stop the node first, or use POST /fhir/$import on a running node.\n"
    "\n"
    "Options:\n"
    "  --data DIR     the node's data directory (default ./carerecord-data)\n"
    "  --org ODS      publishing organisation for every resource (default:\n"
    "                 each resource's meta.tag from\n"
    "                 https://carerecord.example/publisher, as carerecord\n"
    "                 synth writes)\n"
    "  --node-id ID   the node id recorded with each resource (default\n"
    "                 'local')\n"
    "  --workers N    threads preparing resources (default: cores)\n"
    "  -q, --quiet    no progress, only problems and the summary\n"
    "  -h, --help     show this help\n";

struct progress {
    bool is_tty;
    bool is_quiet;
    int64_t start_us;
    int64_t last_us;
    uint64_t total_bytes;
    uint64_t done_bytes;
};

static void
on_bad(void *ctx, const char *file, uint64_t line,
       const struct cr_err *err)
{
    (void)ctx;
    fprintf(stderr, "%s:%llu: %s%s%s\n", file, (unsigned long long)line,
            err->msg, err->where[0] ? " at " : "", err->where);
}

static void
show(struct progress *pr, struct cr_api_import *im,
     const struct cr_api_import_stats *final)
{
    struct cr_api_import_stats st;
    bool is_final = final != NULL;
    int64_t now = cr_clock_mono_us();
    double secs = (double)(now - pr->start_us) / 1e6, rate, frac, eta;

    if (pr->is_quiet)
        return;
    if (!is_final && now - pr->last_us < (pr->is_tty ? 200000 : 5000000))
        return;
    pr->last_us = now;
    if (final)
        st = *final;
    else
        cr_api_import_progress(im, &st);
    rate = secs > 0 ? (double)st.stored / secs : 0;
    frac = pr->total_bytes ? (double)pr->done_bytes / (double)pr->total_bytes
                           : 0;
    eta = frac > 0.01 ? secs / frac - secs : -1;
    if (pr->is_tty) {
        char bar[31];
        int i, fill = (int)(frac * 30);
        for (i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %3d%%  %llu stored  %.0f/s  ETA %s%d:%02d  ",
                bar, (int)(frac * 100), (unsigned long long)st.stored, rate,
                eta < 0 ? "?" : "", eta < 0 ? 0 : (int)eta / 60,
                eta < 0 ? 0 : (int)eta % 60);
        if (is_final)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "import: %d%% read, %llu stored, %llu bad, %.0f "
                "resources/s\n", (int)(frac * 100),
                (unsigned long long)st.stored, (unsigned long long)st.bad,
                rate);
    }
}

static int
load_file(const char *path, struct cr_api_import *im, struct progress *pr,
          size_t max_line, struct cr_err *err)
{
    gzFile f = gzopen(path, "rb");
    char *buf = malloc(max_line + 2);
    uint64_t lineno = 0;
    int status = 0;
    z_off_t last_off = 0;

    if (f == NULL || buf == NULL) {
        fprintf(stderr, "carerecord import: cannot read %s: %s\n", path,
                strerror(errno ? errno : ENOMEM));
        if (f)
            gzclose(f);
        free(buf);
        return 1;
    }
    gzbuffer(f, 1 << 20);
    while (gzgets(f, buf, (int)max_line + 2) != NULL) {
        size_t len = strlen(buf);
        z_off_t off;
        lineno++;
        if (len == max_line + 1 && buf[len - 1] != '\n') {
            /* longer than any resource may be: skip the rest of it */
            int c;
            fprintf(stderr, "%s:%llu: line longer than %zu bytes; skipped\n",
                    path, (unsigned long long)lineno, max_line);
            while ((c = gzgetc(f)) != -1 && c != '\n')
                ;
            status = 1;
            continue;
        }
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            len--;
        if (cr_api_import_line(im, buf, len, path, lineno, err) != CR_OK) {
            status = -1;
            break;
        }
        off = gzoffset(f);
        if (off > last_off) {
            pr->done_bytes += (uint64_t)(off - last_off);
            last_off = off;
        }
        show(pr, im, NULL);
    }
    if (!gzeof(f) && status == 0) {
        int zerr;
        const char *msg = gzerror(f, &zerr);
        if (zerr != Z_OK && zerr != Z_STREAM_END) {
            fprintf(stderr, "%s:%llu: cannot read further: %s\n", path,
                    (unsigned long long)lineno, msg);
            status = 1;
        }
    }
    gzclose(f);
    free(buf);
    return status;
}

int
cr_cli_import(int argc, char **argv)
{
    static const struct option opts[] = {
        { "data", required_argument, NULL, 'd' },
        { "org", required_argument, NULL, 'o' },
        { "node-id", required_argument, NULL, 'n' },
        { "workers", required_argument, NULL, 'w' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = "./carerecord-data", *org = NULL, *node = "local";
    long workers = sysconf(_SC_NPROCESSORS_ONLN);
    struct progress pr;
    struct cr_store *store = NULL;
    struct cr_keys *keys = NULL;
    struct cr_api *api = NULL;
    struct cr_api_import *im = NULL;
    struct cr_api_import_opts io;
    struct cr_api_import_stats st;
    struct cr_api_config ac;
    struct cr_store_opts so;
    struct cr_config cfg;
    struct cr_err err;
    struct stat sb;
    int c, i, status = 0, lock = -1;
    char *end;

    memset(&pr, 0, sizeof pr);
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'o': org = optarg; break;
        case 'n': node = optarg; break;
        case 'w':
            workers = strtol(optarg, &end, 10);
            if (*end || workers < 1 || workers > 64) {
                fprintf(stderr, "carerecord import: --workers takes 1 to "
                                "64\n");
                return 2;
            }
            break;
        case 'q': pr.is_quiet = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "carerecord import: name one or more NDJSON files\n"
                        "\n%s", usage);
        return 2;
    }
    if (stat(data, &sb) != 0 && mkdir(data, 0700) != 0) {
        fprintf(stderr, "carerecord import: cannot create %s: %s\n", data,
                strerror(errno));
        return 1;
    }
    for (i = optind; i < argc; i++) {
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "carerecord import: cannot read %s: %s\n",
                    argv[i], strerror(errno));
            return 1;
        }
        pr.total_bytes += (uint64_t)sb.st_size;
    }
    cr_err_clear(&err);
    cr_config_defaults(&cfg);
    memset(&so, 0, sizeof so);
    so.node_id = node;
    so.is_bulk = true;
    /* not under a running node: a bulk load drops its search indexes */
    if (cr_audit_dir_lock(data, &lock, &err) != CR_OK ||
        cr_token_keys_open(data, &keys, &err) != CR_OK ||
        cr_store_open(data, &so, &store, &err) != CR_OK)
        goto fail;
    memset(&ac, 0, sizeof ac);
    ac.base_url = "";
    ac.max_body = cfg.max_body;
    ac.max_json_depth = cfg.max_json_depth;
    if (cr_api_create(store, keys, &ac, &api, &err) != CR_OK)
        goto fail;
    memset(&io, 0, sizeof io);
    io.org = org;
    io.workers = (int)(workers > 1 ? workers : 1);
    io.on_bad = on_bad;
    if (cr_store_bulk_begin(store, &err) != CR_OK ||
        cr_api_import_begin(api, &io, &im, &err) != CR_OK)
        goto fail;
    pr.is_tty = isatty(STDERR_FILENO);
    pr.start_us = cr_clock_mono_us();
    for (i = optind; i < argc; i++) {
        int s = load_file(argv[i], im, &pr, cfg.max_body, &err);
        if (s < 0) {
            status = 1;
            break;
        }
        if (s > 0)
            status = 1;
    }
    if (cr_api_import_end(im, &st, status ? NULL : &err) != CR_OK) {
        im = NULL;
        goto fail;
    }
    im = NULL;
    pr.done_bytes = pr.total_bytes;
    show(&pr, NULL, &st);
    if (!pr.is_quiet)
        fprintf(stderr, "import: building search indexes\n");
    if (cr_store_bulk_end(store, &err) != CR_OK)
        goto fail;
    /* the rate counts the index build: that is when the data is usable */
    {
        double secs = (double)(cr_clock_mono_us() - pr.start_us) / 1e6;
        printf("imported %llu resources from %d file(s) in %.1f s "
               "(%.0f resources/s); %llu bad line(s) skipped\n",
               (unsigned long long)st.stored, argc - optind, secs,
               secs > 0 ? (double)st.stored / secs : 0.0,
               (unsigned long long)st.bad);
        if (st.bad)
            status = 1;
    }
    goto out;
fail:
    fprintf(stderr, "carerecord import: %s\n", err.msg);
    status = 1;
out:
    if (im)
        cr_api_import_end(im, NULL, NULL);
    cr_api_destroy(api);
    cr_store_close(store);
    cr_token_keys_close(keys);
    cr_audit_dir_unlock(lock);
    return status;
}
