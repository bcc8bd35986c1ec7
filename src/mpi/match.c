/* match.c: asking the index who a person may be.
 *
 * cr_mpi_match scores the records that share a blocking key with the
 * demographics asked about (and every record with the same NHS number)
 * and returns the plausible ones, best first; Patient/$match answers with
 * them. cr_mpi_person lists the records of one person, for the
 * identifier cross-reference. Both read on a pooled connection and never
 * write. Depends on store/, core/. */
#include "mpi/mpiInt.h"

#include <stdlib.h>
#include <string.h>

static int
by_score(const void *pa, const void *pb)
{
    const struct cr_mpi_candidate *a = pa, *b = pb;

    if (a->score.score != b->score.score)
        return a->score.score > b->score.score ? -1 : 1;
    if (a->score.weight != b->score.weight)
        return a->score.weight > b->score.weight ? -1 : 1;
    return strcmp(a->id, b->id);
}

cr_rc
cr_mpi_match(struct cr_mpi *m, const struct cr_mpi_demo *q,
             struct cr_mpi_candidate *out, size_t max, size_t *out_n,
             struct cr_err *err)
{
    struct cr_mpi_cands cands = { 0 };
    struct cr_mpi_candidate *all = NULL;
    char keys[CR_MPI_MAX_KEYS][CR_MPI_KEY_LEN];
    const char *list[CR_MPI_MAX_KEYS];
    size_t nkeys = cr_mpi_query_keys(q, keys), i, n = 0;
    cr_rc rc = CR_OK;

    *out_n = 0;
    for (i = 0; i < nkeys; i++)
        list[i] = keys[i];
    if (q->nhs[0])
        rc = cr_store_mpi_by_nhs(m->store, q->nhs, cr_mpi_cands_add, &cands,
                                 err);
    if (rc == CR_OK)
        rc = cr_store_mpi_block(m->store, list, nkeys, false,
                                m->cfg.max_block, cr_mpi_cands_add, &cands,
                                err);
    if (rc == CR_ENOMEM)
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    if (rc != CR_OK)
        goto out;
    all = cands.n ? calloc(cands.n, sizeof *all) : NULL;
    if (cands.n && all == NULL) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
        goto out;
    }
    for (i = 0; i < cands.n; i++) {
        struct cr_mpi_row *c = &cands.v[i];
        struct cr_mpi_candidate *k = &all[n];
        if (c->merged_into[0])
            continue;
        cr_mpi_compare(&m->cfg, q, &c->demo, &k->score);
        if (k->score.grade == CR_MPI_NONE ||
            k->score.grade == CR_MPI_CERTAINLY_NOT)
            continue;
        memcpy(k->id, c->id, sizeof k->id);
        memcpy(k->person, c->person, sizeof k->person);
        n++;
    }
    if (n > 1)
        qsort(all, n, sizeof *all, by_score);
    if (n > max)
        n = max;
    if (n)
        memcpy(out, all, n * sizeof *all);
    *out_n = n;
out:
    free(all);
    cr_mpi_cands_free(&cands);
    return rc;
}

struct person_ctx {
    char person[CR_MPI_PERSON_LEN];
    bool is_found;
};

static cr_rc
keep_person(void *ctx, const struct cr_store_mpi_row *row)
{
    struct person_ctx *p = ctx;
    size_t n = strnlen(row->person, sizeof p->person - 1);

    memcpy(p->person, row->person, n);
    p->person[n] = '\0';
    p->is_found = true;
    return CR_OK;
}

cr_rc
cr_mpi_person(struct cr_mpi *m, const char *id, cr_mpi_record_fn fn,
              void *ctx, struct cr_err *err)
{
    struct person_ctx p;
    cr_rc rc;

    memset(&p, 0, sizeof p);
    rc = cr_store_mpi_get(m->store, id, keep_person, &p, err);
    if (rc != CR_OK)
        return rc;
    return cr_store_mpi_person(m->store, p.person, fn, ctx, err);
}
