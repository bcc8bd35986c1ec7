/* index.c: the index object, and indexing a whole store.
 *
 * cr_mpi_create checks that every Patient of the store is in the index
 * and indexes them all when the index is empty (a store from before the
 * index, or a copy made without it); cr_mpi_rebuild does the same on
 * demand, in transactions of a few hundred records so a large store
 * never holds the writer for long. Depends on store/, core/, jansson. */
#include "mpi/mpiInt.h"

#include "core/clock.h"

#include <stdlib.h>
#include <string.h>

#define REBUILD_BATCH 500

cr_rc
cr_mpi_create(struct cr_store *s, const struct cr_mpi_config *cfg,
              struct cr_mpi **out, struct cr_err *err)
{
    struct cr_mpi *m = calloc(1, sizeof *m);
    int64_t rows = 0, patients = 0;
    cr_rc rc;

    *out = NULL;
    if (m == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    m->store = s;
    if (cfg)
        m->cfg = *cfg;
    else
        cr_mpi_config_default(&m->cfg);
    rc = cr_store_mpi_counts(s, &rows, &patients, err);
    if (rc == CR_OK && rows == 0 && patients > 0)
        rc = cr_mpi_rebuild(m, NULL, NULL, err);
    if (rc != CR_OK) {
        free(m);
        return rc;
    }
    *out = m;
    return CR_OK;
}

void
cr_mpi_destroy(struct cr_mpi *m)
{
    free(m);
}

const struct cr_mpi_config *
cr_mpi_config(const struct cr_mpi *m)
{
    return &m->cfg;
}

/* One batch: the next Patients after 'after', indexed. */
struct batch {
    struct cr_mpi *m;
    char after[65];
    size_t n;                 /* records indexed in this batch */
    bool is_first;
    /* collected before indexing: the scan's statement must finish */
    char (*ids)[65];
    json_t **roots;
    size_t count, cap;
};

static cr_rc
collect(void *ctx, const char *type, const char *id,
        const struct cr_store_meta *meta, const char *json, size_t len)
{
    struct batch *b = ctx;

    (void)type;
    (void)meta;
    if (b->count == b->cap)
        return CR_ENOMEM;     /* the scan asks for at most 'cap' */
    memcpy(b->ids[b->count], id, strnlen(id, 64));
    b->ids[b->count][strnlen(id, 64)] = '\0';
    b->roots[b->count] = json_loadb(json, len, 0, NULL);
    b->count++;
    return CR_OK;
}

static cr_rc
batch_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct batch *b = ctx;
    int64_t now = cr_clock_now_ms();
    size_t i;
    cr_rc rc = CR_OK;

    b->n = 0;
    if (b->is_first) {
        rc = cr_store_txn_mpi_clear(txn, err);
        if (rc != CR_OK)
            return rc;
    }
    for (i = 0; i < b->count; i++)
        json_decref(b->roots[i]);
    b->count = 0;
    rc = cr_store_txn_scan(txn, "Patient", b->after, (int)b->cap, collect, b,
                           err);
    for (i = 0; rc == CR_OK && i < b->count; i++) {
        if (b->roots[i])
            rc = cr_mpi_txn_patient(b->m, txn, b->ids[i], b->roots[i], now,
                                    err);
        b->n++;
    }
    return rc;
}

cr_rc
cr_mpi_rebuild(struct cr_mpi *m, cr_mpi_progress_fn progress, void *ctx,
               struct cr_err *err)
{
    struct batch b;
    uint64_t done = 0;
    size_t i;
    cr_rc rc = CR_OK;

    memset(&b, 0, sizeof b);
    b.m = m;
    b.is_first = true;
    b.cap = REBUILD_BATCH;
    b.ids = calloc(b.cap, sizeof *b.ids);
    b.roots = calloc(b.cap, sizeof *b.roots);
    if (b.ids == NULL || b.roots == NULL) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
        goto out;
    }
    for (;;) {
        rc = cr_store_write(m->store, batch_txn, &b, err);
        if (rc != CR_OK)
            goto out;
        b.is_first = false;
        if (b.count == 0)
            break;
        memcpy(b.after, b.ids[b.count - 1], sizeof b.after);
        done += b.n;
        if (progress)
            progress(ctx, done);
        if (b.count < b.cap)
            break;
    }
out:
    for (i = 0; i < b.count; i++)
        json_decref(b.roots[i]);
    free(b.ids);
    free(b.roots);
    return rc;
}
