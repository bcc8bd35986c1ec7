/* mpi_rows.c: the tables of the patient index.
 *
 * mpi/ decides who each Patient record is; this file stores what it
 * decided and answers its lookups, with prepared statements only: one row
 * per record (its person, NHS number, demographics in mpi/'s compact
 * text), the blocking keys (hashed text, with a flag for "has an NHS
 * number" so a record with one can ask for records without), the review
 * list and reviewers' decisions (pairs kept with a < b). The store reads
 * none of the values. Depends on SQLite and core/. */
#include "store/storeInt.h"

#include <stdio.h>
#include <string.h>

#define ROW_COLS "id,person,nhs,demo,how,weight,merged_into,updated"

static const char *const mpi_sql[ST__COUNT] = {
    [ST_ALIAS_GET] = "SELECT to_id FROM alias WHERE h=?1",
    [ST_ALIAS_PUT] = "INSERT INTO alias(h,type,id,to_id) VALUES(?1,?2,?3,?4) "
                     "ON CONFLICT(h) DO UPDATE SET to_id=excluded.to_id",
    [ST_ALIAS_DEL] = "DELETE FROM alias WHERE h=?1",
    [ST_SET_PATIENT] = "UPDATE resources SET patient=?2 WHERE rid=?1",
    [ST_MPI_GET] = "SELECT " ROW_COLS " FROM mpi_record WHERE id=?1",
    [ST_MPI_PUT] = "INSERT INTO mpi_record(" ROW_COLS ") "
                   "VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(id) DO "
                   "UPDATE SET person=excluded.person,nhs=excluded.nhs,"
                   "demo=excluded.demo,how=excluded.how,"
                   "weight=excluded.weight,"
                   "merged_into=excluded.merged_into,"
                   "updated=excluded.updated",
    [ST_MPI_DEL] = "DELETE FROM mpi_record WHERE id=?1",
    [ST_MPI_KEYS_DEL] = "DELETE FROM mpi_key WHERE id=?1",
    [ST_MPI_KEY_ADD] = "INSERT OR IGNORE INTO mpi_key(key,has_nhs,id) "
                       "VALUES(?1,?2,?3)",
    [ST_MPI_BLOCK] = "SELECT r.id,r.person,r.nhs,r.demo,r.how,r.weight,"
                     "r.merged_into,r.updated FROM mpi_key k JOIN "
                     "mpi_record r ON r.id=k.id WHERE k.key=?1 AND "
                     "r.merged_into IS NULL LIMIT ?2",
    [ST_MPI_BLOCK_NO_NHS] = "SELECT r.id,r.person,r.nhs,r.demo,r.how,"
                            "r.weight,r.merged_into,r.updated FROM mpi_key "
                            "k JOIN mpi_record r ON r.id=k.id WHERE "
                            "k.key=?1 AND k.has_nhs=0 AND r.merged_into IS "
                            "NULL LIMIT ?2",
    [ST_MPI_BY_NHS] = "SELECT " ROW_COLS " FROM mpi_record WHERE nhs=?1",
    [ST_MPI_PERSON] = "SELECT " ROW_COLS " FROM mpi_record WHERE person=?1",
    [ST_MPI_RELABEL] = "UPDATE mpi_record SET person=?2 WHERE person=?1",
    [ST_MPI_REVIEW_PUT] = "INSERT INTO mpi_review(a,b,weight,since) "
                          "VALUES(?1,?2,?3,?4) ON CONFLICT(a,b) DO UPDATE "
                          "SET weight=excluded.weight",
    [ST_MPI_REVIEW_DEL] = "DELETE FROM mpi_review WHERE a=?1 AND b=?2",
    [ST_MPI_REVIEW_DEL_ALL] = "DELETE FROM mpi_review WHERE a=?1 OR b=?1",
    [ST_MPI_DECISION_PUT] = "INSERT INTO mpi_decision(a,b,same,since) "
                            "VALUES(?1,?2,?3,?4) ON CONFLICT(a,b) DO UPDATE "
                            "SET same=excluded.same,since=excluded.since",
    [ST_MPI_DECISION_GET] = "SELECT same FROM mpi_decision WHERE a=?1 AND "
                            "b=?2",
    [ST_MPI_DECISIONS_OF] = "SELECT a,b,same FROM mpi_decision WHERE a=?1 "
                            "UNION ALL SELECT a,b,same FROM mpi_decision "
                            "WHERE b=?1",
};

const char *
cr_store_mpi_sql(int which)
{
    return which >= 0 && which < ST__COUNT ? mpi_sql[which] : NULL;
}

static void
bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL || *s == '\0')
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static const char *
col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    return t ? (const char *)t : "";
}

/* Step 'st' and hand every row (columns as ROW_COLS) to fn. */
static cr_rc
rows(struct conn *c, sqlite3_stmt *st, cr_store_mpi_fn fn, void *ctx,
     size_t *out_n, struct cr_err *err)
{
    struct cr_store_mpi_row row;
    size_t n = 0;
    cr_rc rc = CR_OK;
    int r;

    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        row.id = col(st, 0);
        row.person = col(st, 1);
        row.nhs = col(st, 2);
        row.demo = col(st, 3);
        row.how = col(st, 4);
        row.weight = sqlite3_column_double(st, 5);
        row.merged_into = col(st, 6);
        row.updated_ms = sqlite3_column_int64(st, 7);
        n++;
        rc = fn ? fn(ctx, &row) : CR_OK;
        if (rc != CR_OK)
            break;
    }
    if (rc == CR_OK && r != SQLITE_ROW && r != SQLITE_DONE)
        rc = cr_store_sqlerr(c, "reading the patient index", err);
    sqlite3_reset(st);
    if (out_n)
        *out_n = n;
    return rc;
}

static cr_rc
done(struct conn *c, sqlite3_stmt *st, const char *what, struct cr_err *err)
{
    int r = sqlite3_step(st);

    sqlite3_reset(st);
    return r == SQLITE_DONE ? CR_OK : cr_store_sqlerr(c, what, err);
}

/* A pair in the stored order. */
static void
order(const char **a, const char **b)
{
    if (strcmp(*a, *b) > 0) {
        const char *t = *a;
        *a = *b;
        *b = t;
    }
}

/* ---- rows ---- */

cr_rc
cr_store_txn_mpi_put(struct cr_store_txn *txn,
                     const struct cr_store_mpi_row *row,
                     const char *const *keys, size_t nkeys,
                     struct cr_err *err)
{
    struct conn *c = txn->c;
    sqlite3_stmt *st = cr_store_stmt(c, ST_MPI_PUT, err);
    bool has_nhs = row->nhs && row->nhs[0];
    size_t i;
    cr_rc rc;

    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row->person, -1, SQLITE_STATIC);
    bind_opt(st, 3, row->nhs);
    sqlite3_bind_text(st, 4, row->demo ? row->demo : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, row->how ? row->how : "", -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 6, row->weight);
    bind_opt(st, 7, row->merged_into);
    sqlite3_bind_int64(st, 8, row->updated_ms);
    rc = done(c, st, "writing the patient index", err);
    if (rc != CR_OK)
        return rc;
    st = cr_store_stmt(c, ST_MPI_KEYS_DEL, err);
    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
    rc = done(c, st, "writing the patient index", err);
    for (i = 0; i < nkeys && rc == CR_OK; i++) {
        st = cr_store_stmt(c, ST_MPI_KEY_ADD, err);
        if (st == NULL)
            return CR_EIO;
        sqlite3_bind_int64(st, 1, cr_store_hash2("mpi", keys[i]));
        sqlite3_bind_int(st, 2, has_nhs);
        sqlite3_bind_text(st, 3, row->id, -1, SQLITE_STATIC);
        rc = done(c, st, "writing the patient index", err);
    }
    return rc;
}

cr_rc
cr_store_txn_mpi_delete(struct cr_store_txn *txn, const char *id,
                        struct cr_err *err)
{
    static const int which[] = { ST_MPI_DEL, ST_MPI_KEYS_DEL,
                                 ST_MPI_REVIEW_DEL_ALL };
    size_t i;
    cr_rc rc = CR_OK;

    for (i = 0; i < sizeof which / sizeof which[0] && rc == CR_OK; i++) {
        sqlite3_stmt *st = cr_store_stmt(txn->c, which[i], err);
        if (st == NULL)
            return CR_EIO;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = done(txn->c, st, "removing from the patient index", err);
    }
    return rc;
}

static cr_rc
get(struct conn *c, const char *id, cr_store_mpi_fn fn, void *ctx,
    struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(c, ST_MPI_GET, err);
    size_t n = 0;
    cr_rc rc;

    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = rows(c, st, fn, ctx, &n, err);
    if (rc == CR_OK && n == 0)
        return CR_ENOTFOUND;
    return rc;
}

cr_rc
cr_store_txn_mpi_get(struct cr_store_txn *txn, const char *id,
                     cr_store_mpi_fn fn, void *ctx, struct cr_err *err)
{
    return get(txn->c, id, fn, ctx, err);
}

cr_rc
cr_store_mpi_get(struct cr_store *s, const char *id, cr_store_mpi_fn fn,
                 void *ctx, struct cr_err *err)
{
    struct conn *c;
    cr_rc rc = cr_store_acquire(s, &c, err);

    if (rc != CR_OK)
        return rc;
    rc = get(c, id, fn, ctx, err);
    cr_store_release(s, c);
    return rc;
}

static cr_rc
block(struct conn *c, const char *const *keys, size_t nkeys,
      bool is_without_nhs, int limit, cr_store_mpi_fn fn, void *ctx,
      struct cr_err *err)
{
    size_t i;
    cr_rc rc = CR_OK;

    for (i = 0; i < nkeys && rc == CR_OK; i++) {
        sqlite3_stmt *st = cr_store_stmt(
            c, is_without_nhs ? ST_MPI_BLOCK_NO_NHS : ST_MPI_BLOCK, err);
        if (st == NULL)
            return CR_EIO;
        sqlite3_bind_int64(st, 1, cr_store_hash2("mpi", keys[i]));
        sqlite3_bind_int(st, 2, limit > 0 ? limit : 1);
        rc = rows(c, st, fn, ctx, NULL, err);
    }
    return rc;
}

cr_rc
cr_store_txn_mpi_block(struct cr_store_txn *txn, const char *const *keys,
                       size_t nkeys, bool is_without_nhs, int limit,
                       cr_store_mpi_fn fn, void *ctx, struct cr_err *err)
{
    return block(txn->c, keys, nkeys, is_without_nhs, limit, fn, ctx, err);
}

cr_rc
cr_store_mpi_block(struct cr_store *s, const char *const *keys,
                   size_t nkeys, bool is_without_nhs, int limit,
                   cr_store_mpi_fn fn, void *ctx, struct cr_err *err)
{
    struct conn *c;
    cr_rc rc = cr_store_acquire(s, &c, err);

    if (rc != CR_OK)
        return rc;
    rc = block(c, keys, nkeys, is_without_nhs, limit, fn, ctx, err);
    cr_store_release(s, c);
    return rc;
}

static cr_rc
by_text(struct conn *c, int which, const char *value, cr_store_mpi_fn fn,
        void *ctx, struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(c, which, err);

    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    return rows(c, st, fn, ctx, NULL, err);
}

static cr_rc
reader_by_text(struct cr_store *s, int which, const char *value,
               cr_store_mpi_fn fn, void *ctx, struct cr_err *err)
{
    struct conn *c;
    cr_rc rc = cr_store_acquire(s, &c, err);

    if (rc != CR_OK)
        return rc;
    rc = by_text(c, which, value, fn, ctx, err);
    cr_store_release(s, c);
    return rc;
}

cr_rc
cr_store_mpi_by_nhs(struct cr_store *s, const char *nhs, cr_store_mpi_fn fn,
                    void *ctx, struct cr_err *err)
{
    return reader_by_text(s, ST_MPI_BY_NHS, nhs, fn, ctx, err);
}

cr_rc
cr_store_txn_mpi_person(struct cr_store_txn *txn, const char *person,
                        cr_store_mpi_fn fn, void *ctx, struct cr_err *err)
{
    return by_text(txn->c, ST_MPI_PERSON, person, fn, ctx, err);
}

cr_rc
cr_store_mpi_person(struct cr_store *s, const char *person,
                    cr_store_mpi_fn fn, void *ctx, struct cr_err *err)
{
    return reader_by_text(s, ST_MPI_PERSON, person, fn, ctx, err);
}

cr_rc
cr_store_txn_mpi_relabel(struct cr_store_txn *txn, const char *from,
                         const char *to, struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(txn->c, ST_MPI_RELABEL, err);

    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    return done(txn->c, st, "writing the patient index", err);
}

/* ---- the review list ---- */

cr_rc
cr_store_txn_mpi_review_put(struct cr_store_txn *txn, const char *a,
                            const char *b, double weight, int64_t now_ms,
                            struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(txn->c, ST_MPI_REVIEW_PUT, err);

    if (st == NULL)
        return CR_EIO;
    order(&a, &b);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, weight);
    sqlite3_bind_int64(st, 4, now_ms);
    return done(txn->c, st, "writing the review list", err);
}

cr_rc
cr_store_txn_mpi_review_delete(struct cr_store_txn *txn, const char *a,
                               const char *b, struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(
        txn->c, b ? ST_MPI_REVIEW_DEL : ST_MPI_REVIEW_DEL_ALL, err);

    if (st == NULL)
        return CR_EIO;
    if (b)
        order(&a, &b);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    return done(txn->c, st, "writing the review list", err);
}

cr_rc
cr_store_mpi_review(struct cr_store *s, const char *after_a,
                    const char *after_b, int limit, cr_store_mpi_pair_fn fn,
                    void *ctx, int64_t *out_total, struct cr_err *err)
{
    static const char page[] =
        "SELECT a,b,weight,since FROM mpi_review WHERE (a,b)>(?1,?2) "
        "ORDER BY a,b LIMIT ?3";
    struct conn *c;
    sqlite3_stmt *st = NULL;
    cr_rc rc = cr_store_acquire(s, &c, err);
    int r;

    if (rc != CR_OK)
        return rc;
    if (out_total) {
        if (sqlite3_prepare_v2(c->db, "SELECT count(*) FROM mpi_review", -1,
                               &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW) {
            rc = cr_store_sqlerr(c, "counting the review list", err);
            goto out;
        }
        *out_total = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        st = NULL;
    }
    if (sqlite3_prepare_v2(c->db, page, -1, &st, NULL) != SQLITE_OK) {
        rc = cr_store_sqlerr(c, "reading the review list", err);
        goto out;
    }
    sqlite3_bind_text(st, 1, after_a ? after_a : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, after_b ? after_b : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, limit > 0 ? limit : 1);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        rc = fn(ctx, col(st, 0), col(st, 1), sqlite3_column_double(st, 2),
                sqlite3_column_int64(st, 3));
        if (rc != CR_OK)
            goto out;
    }
    if (r != SQLITE_DONE)
        rc = cr_store_sqlerr(c, "reading the review list", err);
out:
    sqlite3_finalize(st);
    cr_store_release(s, c);
    return rc;
}

/* ---- decisions ---- */

cr_rc
cr_store_txn_mpi_decision_put(struct cr_store_txn *txn, const char *a,
                              const char *b, bool is_same, int64_t now_ms,
                              struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(txn->c, ST_MPI_DECISION_PUT, err);

    if (st == NULL)
        return CR_EIO;
    order(&a, &b);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, is_same ? 1 : 0);
    sqlite3_bind_int64(st, 4, now_ms);
    return done(txn->c, st, "writing a review decision", err);
}

cr_rc
cr_store_txn_mpi_decision_get(struct cr_store_txn *txn, const char *a,
                              const char *b, int *out, struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(txn->c, ST_MPI_DECISION_GET, err);
    int r;

    *out = -1;
    if (st == NULL)
        return CR_EIO;
    order(&a, &b);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0) ? 1 : 0;
    sqlite3_reset(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return cr_store_sqlerr(txn->c, "reading a review decision", err);
    return CR_OK;
}

cr_rc
cr_store_txn_mpi_decisions(struct cr_store_txn *txn, const char *id,
                           cr_store_mpi_decision_fn fn, void *ctx,
                           struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(txn->c, ST_MPI_DECISIONS_OF, err);
    cr_rc rc = CR_OK;
    int r;

    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = col(st, 0), *b = col(st, 1);
        rc = fn(ctx, strcmp(a, id) == 0 ? b : a,
                sqlite3_column_int(st, 2) != 0);
        if (rc != CR_OK)
            break;
    }
    if (rc == CR_OK && r != SQLITE_ROW && r != SQLITE_DONE)
        rc = cr_store_sqlerr(txn->c, "reading review decisions", err);
    sqlite3_reset(st);
    return rc;
}

/* ---- whole-index work ---- */

cr_rc
cr_store_txn_mpi_clear(struct cr_store_txn *txn, struct cr_err *err)
{
    if (sqlite3_exec(txn->c->db, "DELETE FROM mpi_record; DELETE FROM "
                                 "mpi_key; DELETE FROM mpi_review;",
                     NULL, NULL, NULL) != SQLITE_OK)
        return cr_store_sqlerr(txn->c, "emptying the patient index", err);
    return CR_OK;
}

cr_rc
cr_store_mpi_counts(struct cr_store *s, int64_t *out_rows,
                    int64_t *out_patients, struct cr_err *err)
{
    struct conn *c;
    sqlite3_stmt *st = NULL;
    cr_rc rc = cr_store_acquire(s, &c, err);

    if (rc != CR_OK)
        return rc;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT (SELECT count(*) FROM mpi_record),"
                           "(SELECT count(*) FROM resources WHERE "
                           "type='Patient' AND deleted=0)",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = cr_store_sqlerr(c, "counting the patient index", err);
    } else {
        *out_rows = sqlite3_column_int64(st, 0);
        *out_patients = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    cr_store_release(s, c);
    return rc;
}

cr_rc
cr_store_txn_scan(struct cr_store_txn *txn, const char *type,
                  const char *after_id, int limit, cr_store_row_fn fn,
                  void *ctx, struct cr_err *err)
{
    static const char sql[] =
        "SELECT id,version,last_updated,seq,deleted,patient,org,node,json "
        "FROM resources WHERE type=?1 AND id>?2 AND deleted=0 ORDER BY id "
        "LIMIT ?3";
    struct conn *c = txn->c;
    struct cr_store_meta meta;
    sqlite3_stmt *st = NULL;
    cr_rc rc = CR_OK;
    int r;

    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return cr_store_sqlerr(c, "reading resources", err);
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, after_id ? after_id : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, limit > 0 ? limit : 1);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        cr_store_meta_from_row(st, 1, &meta);
        meta.op[0] = '\0';
        rc = fn(ctx, type, col(st, 0), &meta, sqlite3_column_blob(st, 8),
                (size_t)sqlite3_column_bytes(st, 8));
        if (rc != CR_OK)
            break;
    }
    if (rc == CR_OK && r != SQLITE_ROW && r != SQLITE_DONE)
        rc = cr_store_sqlerr(c, "reading resources", err);
    sqlite3_finalize(st);
    return rc;
}
