/* cmd_mpi.c: "carerecord mpi": the patient index from the command line.
 *
 *   carerecord mpi rebuild --data DIR [--config FILE]
 *       index every Patient of a stopped node again (after changing the
 *       weights in the configuration's "mpi" section)
 *   carerecord mpi evaluate --in Patient.ndjson [options]
 *       measure matching: take synthetic people, add noisy duplicates
 *       (synth/dupes.c), index them all in a scratch store the way a node
 *       does, and count how many true pairs were linked (recall), how many
 *       links were true (precision) and what the review list holds.
 *       `make bench` runs it (bench/README.md).
 *
 * Depends on mpi/, store/, synth/, cli/config, core/, jansson. */
#include "cli/cmd_mpi.h"

#include "audit/audit.h"
#include "cli/config.h"
#include "core/clock.h"
#include "core/err.h"
#include "fhir/fhir.h"
#include "mpi/mpi.h"
#include "store/store.h"
#include "synth/synth.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: carerecord mpi rebuild --data DIR [--config FILE]\n"
    "       carerecord mpi evaluate --in FILE.ndjson [--people N]\n"
    "                 [--duplicates R] [--nhs-kept R] [--seed S]\n"
    "                 [--config FILE] [--work DIR] [--json]\n"
    "\n"
    "The patient index (docs/mpi.md).\n"
    "\n"
    "rebuild     index every Patient of the store in DIR again, with the\n"
    "            weights of FILE's \"mpi\" section (default: the built-in\n"
    "            ones); links, the review list and scores are recomputed,\n"
    "            merges and reviewers' decisions are kept. The node must be\n"
    "            stopped.\n"
    "evaluate    measure matching on synthetic data: the first N Patients\n"
    "            of FILE (carerecord synth output), a share R of them with a\n"
    "            noisy duplicate (typos, swapped or wrong birth dates,\n"
    "            missing fields, moves; a quarter of those with a second),\n"
    "            duplicates without NHS numbers, originals keeping theirs\n"
    "            with probability --nhs-kept. Everything is indexed in a\n"
    "            scratch store and the links compared with the truth.\n"
    "  --people N        originals to read (default 10000)\n"
    "  --duplicates R    share of people with a duplicate (default 0.3)\n"
    "  --nhs-kept R      share of originals keeping their NHS number\n"
    "                    (default 0.5)\n"
    "  --seed S          random seed (default 1)\n"
    "  --work DIR        scratch directory (default: a new one in $TMPDIR,\n"
    "                    removed afterwards)\n"
    "  --json            print one JSON object instead of the table\n"
    "  -h, --help        show this help\n";

/* ---- shared ---- */

static int
load_config(const char *path, struct cr_mpi_config *out)
{
    struct cr_config cfg;
    struct cr_err err;
    int status = 0;

    cr_err_clear(&err);
    cr_config_defaults(&cfg);
    if ((path && cr_config_load(&cfg, path, &err) != CR_OK) ||
        cr_mpi_config_load(cfg.mpi, out, &err) != CR_OK) {
        fprintf(stderr, "carerecord mpi: %s%s%s\n", err.msg,
                err.where[0] ? " at " : "", err.where);
        status = 1;
    }
    cr_config_free(&cfg);
    return status;
}

/* ---- rebuild ---- */

static void
on_progress(void *ctx, uint64_t done)
{
    (void)ctx;
    fprintf(stderr, "\rindexed %llu patients", (unsigned long long)done);
}

static int
rebuild(const char *data, const char *config)
{
    struct cr_mpi_config mc;
    struct cr_store *store = NULL;
    struct cr_mpi *m = NULL;
    struct cr_store_opts so;
    struct cr_err err;
    int64_t rows = 0, patients = 0;
    int status = 1, lock = -1;

    if (load_config(config, &mc) != 0)
        return 1;
    cr_err_clear(&err);
    memset(&so, 0, sizeof so);
    if (cr_audit_dir_lock(data, &lock, &err) != CR_OK ||
        cr_store_open(data, &so, &store, &err) != CR_OK ||
        cr_mpi_create(store, &mc, &m, &err) != CR_OK ||
        cr_mpi_rebuild(m, on_progress, NULL, &err) != CR_OK ||
        cr_store_mpi_counts(store, &rows, &patients, &err) != CR_OK) {
        fprintf(stderr, "\ncarerecord mpi rebuild: %s\n", err.msg);
        goto out;
    }
    fprintf(stderr, "\n");
    printf("indexed %lld of %lld patients\n", (long long)rows,
           (long long)patients);
    status = 0;
out:
    cr_mpi_destroy(m);
    cr_store_close(store);
    cr_audit_dir_unlock(lock);
    return status;
}

/* ---- evaluate ---- */

/* CPU time of the whole process (every thread), in µs: unlike the wall
 * clock it does not depend on what else the machine is doing. */
static int64_t
cpu_us(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* A record of the test: id "o<person>" (the original) or
 * "d<person>_<k>" (a duplicate); 'person' is the truth. */
struct rec {
    char id[32];
    uint32_t person;
    json_t *root;
    char key[80];            /* the person the index gave it */
};

static uint64_t
next_rand(uint64_t *s)
{
    uint64_t x = *s += 0x9e3779b97f4a7c15ULL;

    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double
unit(uint64_t *s)
{
    return (double)(next_rand(s) >> 11) * 0x1.0p-53;
}

/* The original as the test indexes it: its NHS number kept or not, and a
 * local identifier. */
static json_t *
original(const json_t *src, uint32_t person, bool keep_nhs, char id[32])
{
    json_t *p = json_deep_copy(src), *ids = json_array(), *v;
    size_t i;

    snprintf(id, 32, "o%u", person);
    if (p == NULL || ids == NULL) {
        json_decref(p);
        json_decref(ids);
        return NULL;
    }
    json_array_foreach(json_object_get(p, "identifier"), i, v) {
        const char *sys = json_string_value(json_object_get(v, "system"));
        if (keep_nhs && sys && strcmp(sys, CR_FHIR_NHS_NUMBER_SYSTEM) == 0)
            json_array_append(ids, v);
    }
    json_array_append_new(ids, json_pack("{s:s,s:s}", "system",
                                         "urn:evaluate:original", "value",
                                         id));
    json_object_set_new(p, "identifier", ids);
    json_object_set_new(p, "id", json_string(id));
    return p;
}

struct batch {
    struct cr_mpi *m;
    struct rec *recs;
    size_t from, to;
};

static cr_rc
index_batch(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct batch *b = ctx;
    int64_t now = cr_clock_now_ms();
    size_t i;
    cr_rc rc = CR_OK;

    for (i = b->from; i < b->to && rc == CR_OK; i++)
        rc = cr_mpi_txn_patient(b->m, txn, b->recs[i].id, b->recs[i].root,
                                now, err);
    return rc;
}

static cr_rc
keep_key(void *ctx, const struct cr_store_mpi_row *row)
{
    struct rec *r = ctx;

    snprintf(r->key, sizeof r->key, "%s", row->person);
    return CR_OK;
}

static int
by_key(const void *pa, const void *pb)
{
    const struct rec *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);

    if (c)
        return c;
    return a->person < b->person ? -1 : a->person > b->person;
}

/* The person of a test id ("o12", "d12_0"). */
static uint32_t
person_of(const char *id)
{
    return (uint32_t)strtoul(id + 1, NULL, 10);
}

struct review_count {
    uint64_t pairs, true_pairs;
    char last_a[65], last_b[65];
    int n;
};

static cr_rc
count_pair(void *ctx, const char *a, const char *b, double weight,
           int64_t since)
{
    struct review_count *c = ctx;

    (void)weight;
    (void)since;
    c->pairs++;
    c->true_pairs += person_of(a) == person_of(b);
    snprintf(c->last_a, sizeof c->last_a, "%s", a);
    snprintf(c->last_b, sizeof c->last_b, "%s", b);
    c->n++;
    return CR_OK;
}

static void
remove_store(const char *dir)
{
    static const char *const files[] = { "carerecord.db",
                                         "carerecord.db-wal",
                                         "carerecord.db-shm" };
    char path[1200];
    size_t i;

    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
}

struct eval_opts {
    const char *in;
    long people;
    double duplicates, nhs_kept;
    uint64_t seed;
    const char *config;
    const char *work;
    bool is_json;
};

static int
evaluate(const struct eval_opts *o)
{
    struct cr_mpi_config mc;
    struct cr_synth_noise noise;
    struct cr_store *store = NULL;
    struct cr_mpi *m = NULL;
    struct cr_store_opts so;
    struct review_count rv;
    struct cr_err err;
    struct rec *recs = NULL;
    size_t nrecs = 0, cap = 0, i, k, people = 0;
    uint64_t rs = o->seed * 0x2545f4914f6cdd1dULL + 7;
    uint64_t true_pairs = 0, linked = 0, tp = 0, noisy = 0, changes_seen = 0;
    char work[1024], *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    int64_t t0, t1, c0, c1;
    bool is_temp = o->work == NULL;
    FILE *f = NULL;
    int status = 1;

    memset(&rv, 0, sizeof rv);
    if (load_config(o->config, &mc) != 0)
        return 1;
    cr_synth_noise_default(&noise);
    f = fopen(o->in, "r");
    if (f == NULL) {
        fprintf(stderr, "carerecord mpi evaluate: cannot read %s: %s\n",
                o->in, strerror(errno));
        return 1;
    }
    /* the people, their originals and their duplicates */
    while ((long)people < o->people && (len = getline(&line, &line_cap, f)) > 0) {
        json_t *src = json_loadb(line, (size_t)len, 0, NULL), *copy;
        const char *rt = json_string_value(json_object_get(src,
                                                           "resourceType"));
        int ndup = 0, d;
        if (rt == NULL || strcmp(rt, "Patient") != 0) {
            json_decref(src);
            continue;
        }
        if (unit(&rs) < o->duplicates)
            ndup = unit(&rs) < 0.25 ? 2 : 1;
        if (nrecs + 1 + (size_t)ndup > cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            struct rec *n = realloc(recs, ncap * sizeof *n);
            if (n == NULL) {
                json_decref(src);
                goto oom;
            }
            recs = n;
            cap = ncap;
        }
        memset(&recs[nrecs], 0, sizeof recs[nrecs]);
        recs[nrecs].person = (uint32_t)people;
        recs[nrecs].root = original(src, (uint32_t)people,
                                    unit(&rs) < o->nhs_kept,
                                    recs[nrecs].id);
        if (recs[nrecs].root == NULL) {
            json_decref(src);
            goto oom;
        }
        nrecs++;
        for (d = 0; d < ndup; d++) {
            unsigned changes = 0;
            struct rec *r = &recs[nrecs];
            memset(r, 0, sizeof *r);
            snprintf(r->id, sizeof r->id, "d%zu_%d", people, d);
            r->person = (uint32_t)people;
            copy = cr_synth_noisy_copy(src, &noise, o->seed,
                                       (uint64_t)people * 4 + (uint64_t)d,
                                       r->id, "urn:evaluate:duplicate",
                                       r->id, &changes);
            if (copy == NULL) {
                json_decref(src);
                goto oom;
            }
            r->root = copy;
            noisy += changes != 0;
            changes_seen++;
            nrecs++;
        }
        json_decref(src);
        people++;
    }
    fclose(f);
    f = NULL;
    if (people == 0) {
        fprintf(stderr, "carerecord mpi evaluate: %s holds no Patient\n",
                o->in);
        goto out;
    }
    /* arrival in random order */
    for (i = nrecs; i > 1; i--) {
        size_t j = (size_t)(next_rand(&rs) % i);
        struct rec t = recs[i - 1];
        recs[i - 1] = recs[j];
        recs[j] = t;
    }
    /* a scratch store, indexed as a node indexes its Patients */
    if (o->work) {
        snprintf(work, sizeof work, "%s", o->work);
        mkdir(work, 0700);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(work, sizeof work, "%s/cr-mpi-eval-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(work) == NULL) {
            fprintf(stderr, "carerecord mpi evaluate: cannot make a "
                            "scratch directory: %s\n", strerror(errno));
            goto out;
        }
    }
    remove_store(work);
    cr_err_clear(&err);
    memset(&so, 0, sizeof so);
    so.is_bulk = true;
    if (cr_store_open(work, &so, &store, &err) != CR_OK ||
        cr_mpi_create(store, &mc, &m, &err) != CR_OK)
        goto fail;
    t0 = cr_clock_mono_us();
    c0 = cpu_us();
    for (i = 0; i < nrecs; i += 200) {
        struct batch b = { m, recs, i, i + 200 < nrecs ? i + 200 : nrecs };
        if (cr_store_write(store, index_batch, &b, &err) != CR_OK)
            goto fail;
    }
    t1 = cr_clock_mono_us();
    c1 = cpu_us();
    /* what the index decided, against the truth */
    for (i = 0; i < nrecs; i++)
        if (cr_store_mpi_get(store, recs[i].id, keep_key, &recs[i], &err) !=
            CR_OK)
            goto fail;
    qsort(recs, nrecs, sizeof *recs, by_key);
    for (i = 0; i < nrecs; i = k) {
        size_t same = 0, j;
        for (k = i; k < nrecs && strcmp(recs[k].key, recs[i].key) == 0; k++)
            ;
        linked += (uint64_t)(k - i) * (k - i - 1) / 2;
        for (j = i; j < k; j++) {
            same = j > i && recs[j].person == recs[j - 1].person ? same + 1
                                                                 : 0;
            tp += same;
        }
    }
    {
        /* true pairs: people with several records */
        uint32_t *count = calloc(people, sizeof *count);
        if (count == NULL)
            goto oom;
        for (i = 0; i < nrecs; i++)
            count[recs[i].person]++;
        for (i = 0; i < people; i++)
            true_pairs += (uint64_t)count[i] * (count[i] - 1) / 2;
        free(count);
    }
    for (;;) {
        int64_t total;
        rv.n = 0;
        if (cr_store_mpi_review(store, rv.pairs ? rv.last_a : NULL,
                                rv.pairs ? rv.last_b : NULL, 1000,
                                count_pair, &rv, &total, &err) != CR_OK)
            goto fail;
        if (rv.n < 1000)
            break;
    }
    {
        double prec = linked ? (double)tp / (double)linked : 1.0;
        double rec = true_pairs ? (double)tp / (double)true_pairs : 1.0;
        double rec_rv = true_pairs ? (double)(tp + rv.true_pairs) /
                                         (double)true_pairs : 1.0;
        double rv_prec = rv.pairs ? (double)rv.true_pairs /
                                        (double)rv.pairs : 1.0;
        double us = nrecs ? (double)(t1 - t0) / (double)nrecs : 0;
        double cus = nrecs ? (double)(c1 - c0) / (double)nrecs : 0;
        if (o->is_json) {
            printf("{\"people\":%zu,\"records\":%zu,\"duplicates\":%llu,"
                   "\"noisy_duplicates\":%llu,\"true_pairs\":%llu,"
                   "\"linked_pairs\":%llu,\"true_links\":%llu,"
                   "\"precision\":%.4f,\"recall\":%.4f,"
                   "\"review_pairs\":%llu,\"review_true\":%llu,"
                   "\"review_precision\":%.4f,"
                   "\"recall_with_review\":%.4f,"
                   "\"us_per_record\":%.1f,\"cpu_us_per_record\":%.1f}\n",
                   people, nrecs, (unsigned long long)changes_seen,
                   (unsigned long long)noisy,
                   (unsigned long long)true_pairs,
                   (unsigned long long)linked, (unsigned long long)tp, prec,
                   rec, (unsigned long long)rv.pairs,
                   (unsigned long long)rv.true_pairs, rv_prec, rec_rv, us,
                   cus);
        } else {
            printf("people                      %zu (%zu records)\n", people,
                   nrecs);
            printf("duplicates                  %llu (%llu with noise)\n",
                   (unsigned long long)changes_seen,
                   (unsigned long long)noisy);
            printf("true pairs                  %llu\n",
                   (unsigned long long)true_pairs);
            printf("linked pairs                %llu (%llu true)\n",
                   (unsigned long long)linked, (unsigned long long)tp);
            printf("precision of links          %.4f\n", prec);
            printf("recall of links             %.4f\n", rec);
            printf("review list                 %llu pairs (%llu true, "
                   "%.4f)\n", (unsigned long long)rv.pairs,
                   (unsigned long long)rv.true_pairs, rv_prec);
            printf("recall, links + review      %.4f\n", rec_rv);
            printf("indexing                    %.1f us per record (CPU "
                   "%.1f us)\n", us, cus);
        }
    }
    status = 0;
    goto out;
oom:
    fprintf(stderr, "carerecord mpi evaluate: out of memory\n");
    goto out;
fail:
    fprintf(stderr, "carerecord mpi evaluate: %s\n", err.msg);
out:
    if (f)
        fclose(f);
    free(line);
    cr_mpi_destroy(m);
    cr_store_close(store);
    if (store && is_temp) {
        remove_store(work);
        rmdir(work);
    }
    for (i = 0; i < nrecs; i++)
        json_decref(recs[i].root);
    free(recs);
    return status;
}

/* ---- the command ---- */

static bool
probability(const char *s, double *out)
{
    char *end;

    *out = strtod(s, &end);
    return *s && *end == '\0' && *out >= 0.0 && *out <= 1.0;
}

int
cr_cli_mpi(int argc, char **argv)
{
    static const struct option opts[] = {
        { "data", required_argument, NULL, 'd' },
        { "config", required_argument, NULL, 'c' },
        { "in", required_argument, NULL, 'i' },
        { "people", required_argument, NULL, 'p' },
        { "duplicates", required_argument, NULL, 'u' },
        { "nhs-kept", required_argument, NULL, 'n' },
        { "seed", required_argument, NULL, 's' },
        { "work", required_argument, NULL, 'w' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct eval_opts eo = { NULL, 10000, 0.3, 0.5, 1, NULL, NULL, false };
    const char *sub = argc > 1 ? argv[1] : NULL, *data = NULL;
    char *end;
    int c;

    if (sub == NULL || strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        fputs(usage, sub ? stdout : stderr);
        return sub ? 0 : 2;
    }
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'c': eo.config = optarg; break;
        case 'i': eo.in = optarg; break;
        case 'w': eo.work = optarg; break;
        case 'j': eo.is_json = true; break;
        case 'p':
            eo.people = strtol(optarg, &end, 10);
            if (*end || eo.people < 1 || eo.people > 10000000) {
                fprintf(stderr, "carerecord mpi: --people takes 1 to "
                                "10000000\n");
                return 2;
            }
            break;
        case 'u':
        case 'n':
            if (!probability(optarg, c == 'u' ? &eo.duplicates
                                              : &eo.nhs_kept)) {
                fprintf(stderr, "carerecord mpi: --%s takes a share from 0 "
                                "to 1\n", c == 'u' ? "duplicates"
                                                   : "nhs-kept");
                return 2;
            }
            break;
        case 's':
            eo.seed = strtoull(optarg, &end, 10);
            if (*end || *optarg == '\0') {
                fprintf(stderr, "carerecord mpi: --seed takes a whole "
                                "number\n");
                return 2;
            }
            break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "carerecord mpi: unexpected '%s'\n\n%s", argv[optind],
                usage);
        return 2;
    }
    if (strcmp(sub, "rebuild") == 0) {
        if (data == NULL) {
            fprintf(stderr, "carerecord mpi rebuild: --data DIR is "
                            "required\n");
            return 2;
        }
        return rebuild(data, eo.config);
    }
    if (strcmp(sub, "evaluate") == 0) {
        if (eo.in == NULL) {
            fprintf(stderr, "carerecord mpi evaluate: --in FILE is "
                            "required (a Patient.ndjson of carerecord "
                            "synth)\n");
            return 2;
        }
        return evaluate(&eo);
    }
    fprintf(stderr, "carerecord mpi: unknown subcommand '%s'\n\n%s", sub,
            usage);
    return 2;
}
