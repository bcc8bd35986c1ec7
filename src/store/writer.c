/* writer.c: the single writer thread and group commit.
 *
 * Callers queue a job and sleep. The writer takes every queued job (up to
 * max_batch), opens one transaction, runs each job inside its own
 * savepoint (a failing job is rolled back alone), commits once, and wakes
 * the callers. With synchronous=FULL the commit is durable when it returns,
 * so an acknowledged write survives a crash of the process or the machine,
 * while concurrent writers share the cost of one fsync. Depends on SQLite,
 * pthreads and core/. */
#include "store/storeInt.h"

#include <stdatomic.h>

#include <stdlib.h>
#include <string.h>

/* Run the jobs of 'batch' not yet marked done in one transaction. Returns
 * false if a job failed: then everything was rolled back, that job keeps
 * its error (and is_failed), and the caller runs the batch again without it.
 * No savepoint per job: a savepoint makes SQLite copy every page the job
 * touches into the statement journal, which costs more than the work
 * itself in large transactions; a failing job is rare (requests are
 * checked before they get here), so undoing the batch and running the
 * others again is the cheaper path. Job functions are written to be run
 * again: they compute everything from the store's current state. */
/* After a commit (or a rollback: an extra bump only costs a cache miss),
 * before any caller is told: move on every generation the transaction's
 * puts touched, so a cache checked after the answer never serves what
 * the write replaced. */
static void
bump_generations(struct cr_store *s)
{
    size_t i;

    for (i = 0; i < s->ntouched; i++)
        atomic_fetch_add_explicit(&s->gens[s->touched[i]], 1,
                                  memory_order_release);
    s->ntouched = 0;
    atomic_fetch_add_explicit(&s->commits, 1, memory_order_release);
}

void
cr_store_gen_touch(struct cr_store *s, uint32_t slot)
{
    if (s->ntouched == s->cap_touched) {
        size_t cap = s->cap_touched ? s->cap_touched * 2 : 256;
        uint32_t *n = realloc(s->touched, cap * sizeof *n);
        if (n == NULL) {
            /* Cannot remember it: move every generation on instead. */
            size_t i;
            for (i = 0; i < CR_STORE_GEN_SLOTS; i++)
                atomic_fetch_add_explicit(&s->gens[i], 1,
                                          memory_order_release);
            return;
        }
        s->touched = n;
        s->cap_touched = cap;
    }
    s->touched[s->ntouched++] = slot;
}

static bool
run_once(struct cr_store *s, struct job *batch)
{
    struct cr_store_txn txn = { s, s->wconn };
    sqlite3 *db = s->wconn->db;
    int64_t seq_at_start = s->next_seq;
    struct job *j;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        for (j = batch; j; j = j->next)
            if (!j->is_failed)
                j->rc = cr_store_sqlerr(s->wconn, "starting a write", j->err);
        return true;
    }
    for (j = batch; j; j = j->next) {
        if (j->is_failed)
            continue;
        j->rc = j->fn(&txn, j->ctx, j->err);
        if (j->rc != CR_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            s->next_seq = seq_at_start;
            j->is_failed = true;     /* keeps its error; not run again */
            return false;
        }
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        for (j = batch; j; j = j->next)
            if (!j->is_failed)
                j->rc = cr_store_sqlerr(s->wconn, "committing", j->err);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        s->next_seq = seq_at_start;
    }
    bump_generations(s);
    return true;
}

static void
run_batch(struct cr_store *s, struct job *batch)
{
    struct job *j;

    for (j = batch; j; j = j->next)
        j->is_failed = false;
    while (!run_once(s, batch))
        ;
}

static void *
writer_main(void *arg)
{
    struct cr_store *s = arg;

    pthread_setname_np(pthread_self(), "cr-writer");   /* top -H, perf */

    pthread_mutex_lock(&s->wlock);
    for (;;) {
        struct job *batch, *j, *last = NULL;
        int n = 0;

        while (s->head == NULL && !s->is_stopping)
            pthread_cond_wait(&s->wcond, &s->wlock);
        if (s->head == NULL && s->is_stopping)
            break;
        batch = s->head;
        for (j = batch; j && n < s->max_batch; j = j->next, n++)
            last = j;
        s->head = last->next;
        if (s->head == NULL)
            s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->wlock);

        run_batch(s, batch);

        /* Asynchronous callers first, outside the lock; their job memory
         * is theirs again once done() is called, so read next before. */
        {
            struct job **pp = &batch;
            while (*pp) {
                struct job *cur = *pp;
                if (cur->async) {
                    struct cr_store_async *a = cur->async;
                    cr_rc rc = cur->rc;
                    *pp = cur->next;
                    free(cur);
                    a->done(a->done_ctx, rc);
                } else {
                    pp = &cur->next;
                }
            }
        }
        pthread_mutex_lock(&s->wlock);
        for (j = batch; j; j = j->next)
            j->is_done = true;
        pthread_cond_broadcast(&s->dcond);
        /* Once the callers are on their way: a small checkpoint now and
         * then so that the WAL starts over (checkpoint.c). */
        if (s->has_checkpointer && !s->is_bulk &&
            atomic_load(&s->is_finish_wanted)) {
            pthread_mutex_unlock(&s->wlock);
            cr_store_checkpoint_finish(s);
            pthread_mutex_lock(&s->wlock);
        }
    }
    pthread_mutex_unlock(&s->wlock);
    return NULL;
}

cr_rc
cr_store_writer_start(struct cr_store *s, struct cr_err *err)
{
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "store: cannot start the writer thread");
    return CR_OK;
}

void
cr_store_writer_stop(struct cr_store *s)
{
    pthread_mutex_lock(&s->wlock);
    s->is_stopping = true;
    pthread_cond_signal(&s->wcond);
    pthread_mutex_unlock(&s->wlock);
    pthread_join(s->writer, NULL);
}

cr_rc
cr_store_write(struct cr_store *s, cr_store_txn_fn fn, void *ctx,
               struct cr_err *err)
{
    struct job j;

    memset(&j, 0, sizeof j);
    j.fn = fn;
    j.ctx = ctx;
    j.err = err;
    pthread_mutex_lock(&s->wlock);
    if (s->is_stopping) {
        pthread_mutex_unlock(&s->wlock);
        return cr_err_set(err, CR_EUNAVAILABLE, "transient", NULL,
                          "the server is shutting down; try again shortly");
    }
    if (s->tail)
        s->tail->next = &j;
    else
        s->head = &j;
    s->tail = &j;
    pthread_cond_signal(&s->wcond);
    while (!j.is_done)
        pthread_cond_wait(&s->dcond, &s->wlock);
    pthread_mutex_unlock(&s->wlock);
    return j.rc;
}

cr_rc
cr_store_write_async(struct cr_store *s, struct cr_store_async *a)
{
    /* The queue record is the store's: the writer frees it after done. */
    struct job *j = calloc(1, sizeof *j);

    if (j == NULL)
        return cr_err_set(a->err, CR_ENOMEM, "exception", NULL,
                          "out of memory");
    j->fn = a->fn;
    j->ctx = a->ctx;
    j->err = a->err;
    j->async = a;
    pthread_mutex_lock(&s->wlock);
    if (s->is_stopping) {
        pthread_mutex_unlock(&s->wlock);
        free(j);
        return cr_err_set(a->err, CR_EUNAVAILABLE, "transient", NULL,
                          "the server is shutting down; try again shortly");
    }
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    pthread_cond_signal(&s->wcond);
    pthread_mutex_unlock(&s->wlock);
    return CR_OK;
}

cr_rc
cr_store_txn_current(struct cr_store_txn *txn, const char *type,
                     const char *id, struct cr_store_meta *meta,
                     struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(txn->c, ST_CURRENT, err);
    int r;

    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        cr_store_meta_from_row(st, 0, meta);
        sqlite3_reset(st);
        return CR_OK;
    }
    sqlite3_reset(st);
    if (r == SQLITE_DONE)
        return CR_ENOTFOUND;
    return cr_store_sqlerr(txn->c, "reading the current version", err);
}

cr_rc
cr_store_txn_read(struct cr_store_txn *txn, const char *type, const char *id,
                  struct cr_buf *out, struct cr_store_meta *meta,
                  struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(txn->c, ST_READ, err);
    cr_rc rc = CR_OK;
    int r;

    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    r = sqlite3_step(st);
    if (r == SQLITE_DONE) {
        rc = CR_ENOTFOUND;
    } else if (r != SQLITE_ROW) {
        rc = cr_store_sqlerr(txn->c, "reading a resource", err);
    } else {
        cr_store_meta_from_row(st, 0, meta);
        if (sqlite3_column_int(st, 3)) {
            rc = CR_EGONE;
        } else {
            cr_buf_add(out, sqlite3_column_blob(st, 7),
                       (size_t)sqlite3_column_bytes(st, 7));
            if (out->rc != CR_OK)
                rc = cr_err_set(err, out->rc, "too-costly", NULL,
                                "resource too large for the response");
        }
    }
    sqlite3_reset(st);
    return rc;
}

static int
bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL || *s == '\0')
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

cr_rc
cr_store_txn_put(struct cr_store_txn *txn, const struct cr_store_put *put,
                 struct cr_err *err)
{
    struct cr_store *s = txn->store;
    struct cr_store_meta cur;
    const char *patient = put->patient;
    char resolved[65];
    sqlite3_stmt *st;
    int64_t rid;
    cr_rc rc;

    /* In the compartment of a merged patient: in the survivor's. */
    if (patient && patient[0] && cr_store_conn_has_aliases(txn->c)) {
        rc = cr_store_conn_alias_resolve(txn->c, "Patient", patient,
                                         resolved, err);
        if (rc != CR_OK)
            return rc;
        patient = resolved;
    }
    rc = cr_store_txn_current(txn, put->type, put->id, &cur, err);
    if (rc == CR_OK) {
        if (cur.version + 1 != put->version)
            return cr_err_set(err, CR_ECONFLICT, "conflict", NULL,
                              "%s/%s is at version %lld, not %lld",
                              put->type, put->id, (long long)cur.version,
                              (long long)put->version - 1);
        st = cr_store_stmt(txn->c, ST_MOVE_TO_HIST, err);
        if (st == NULL)
            return CR_EIO;
        sqlite3_bind_text(st, 1, put->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, put->id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            return cr_store_sqlerr(txn->c, "keeping the old version", err);
        if (cur.patient[0] && (patient == NULL ||
                               strcmp(cur.patient, patient) != 0))
            cr_store_gen_touch(s, cr_store_gen_slot(cur.patient, NULL));
    } else if (rc == CR_ENOTFOUND) {
        if (put->version != 1)
            return cr_err_set(err, CR_ECONFLICT, "conflict", NULL,
                              "%s/%s does not exist", put->type, put->id);
    } else {
        return rc;
    }

    cr_store_gen_touch(s, cr_store_gen_slot(patient, put->type));
    st = cr_store_stmt(txn->c, ST_PUT_RES, err);
    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, put->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, put->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, put->version);
    sqlite3_bind_int64(st, 4, put->last_updated_ms);
    sqlite3_bind_int64(st, 5, s->next_seq);
    sqlite3_bind_int(st, 6, put->is_delete ? 1 : 0);
    bind_opt(st, 7, patient);
    bind_opt(st, 8, put->org);
    bind_opt(st, 9, s->node_id);
    if (put->is_delete || put->json == NULL)
        sqlite3_bind_null(st, 10);
    else
        sqlite3_bind_blob(st, 10, put->json, (int)put->len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, cr_store_hash_ref(put->type, put->id));
    bind_opt(st, 12, put->op ? put->op : (put->is_delete ? "DELETE" : NULL));
    if (sqlite3_step(st) != SQLITE_ROW)
        return cr_store_sqlerr(txn->c, "writing the resource", err);
    rid = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    s->next_seq++;

    rc = cr_store_index_put(txn->c, put->type, rid, rc == CR_OK,
                            put->is_delete ? NULL : put->rows,
                            put->is_delete ? 0 : put->nrows, err);
    if (rc == CR_OK && !put->is_delete)
        rc = cr_store_index_self(txn->c, put->type, put->id, rid, err);
    return rc;
}

cr_rc
cr_store_txn_vread(struct cr_store_txn *txn, const char *type,
                   const char *id, int64_t version, struct cr_buf *out,
                   struct cr_store_meta *meta, struct cr_err *err)
{
    return cr_store_conn_vread(txn->c, type, id, version, out, meta, err);
}

cr_rc
cr_store_txn_begin(struct cr_store_txn *txn, struct cr_err *err)
{
    if (sqlite3_exec(txn->c->db, "SAVEPOINT part", NULL, NULL, NULL) !=
        SQLITE_OK)
        return cr_store_sqlerr(txn->c, "starting a savepoint", err);
    return CR_OK;
}

cr_rc
cr_store_txn_end(struct cr_store_txn *txn, bool is_kept, struct cr_err *err)
{
    if (!is_kept &&
        sqlite3_exec(txn->c->db, "ROLLBACK TO part", NULL, NULL, NULL) !=
            SQLITE_OK)
        return cr_store_sqlerr(txn->c, "undoing a savepoint", err);
    if (sqlite3_exec(txn->c->db, "RELEASE part", NULL, NULL, NULL) !=
        SQLITE_OK)
        return cr_store_sqlerr(txn->c, "releasing a savepoint", err);
    return CR_OK;
}

/* Find ids by one token on connection 'c'. */
cr_rc
cr_store_conn_find_token(struct conn *c, const char *type, const char *param,
                         const char *system, const char *code,
                         char (*out_ids)[65], size_t max, size_t *out_n,
                         struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(
        c, system ? ST_FIND_TOKEN : ST_FIND_TOKEN_ANY, err);
    size_t n = 0;
    int r;

    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_int64(st, 1, system ? cr_store_hash4(type, param, system,
                                                      code)
                                     : cr_store_hash3(type, param, code));
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < max) {
            const unsigned char *id = sqlite3_column_text(st, 0);
            size_t len = (size_t)sqlite3_column_bytes(st, 0);
            if (len > 64)
                len = 64;
            memcpy(out_ids[n], id, len);
            out_ids[n][len] = '\0';
        }
        n++;
    }
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
        return cr_store_sqlerr(c, "searching index rows", err);
    *out_n = n;
    return CR_OK;
}

cr_rc
cr_store_txn_find_token(struct cr_store_txn *txn, const char *type,
                        const char *param, const char *system,
                        const char *code, char (*out_ids)[65], size_t max,
                        size_t *out_n, struct cr_err *err)
{
    return cr_store_conn_find_token(txn->c, type, param, system, code,
                                    out_ids, max, out_n, err);
}

cr_rc
cr_store_txn_patient(struct cr_store_txn *txn, const char *patient,
                     const char *type, cr_store_row_fn fn, void *ctx,
                     struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(txn->c, ST_PATIENT_TYPE, err);
    struct cr_store_meta meta;
    cr_rc rc = CR_OK;
    int r;

    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, patient, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        cr_store_meta_from_row(st, 1, &meta);
        meta.op[0] = '\0';
        rc = fn(ctx, type, id, &meta, sqlite3_column_blob(st, 8),
                (size_t)sqlite3_column_bytes(st, 8));
        if (rc != CR_OK)
            break;
    }
    if (rc == CR_OK && r != SQLITE_DONE)
        rc = cr_store_sqlerr(txn->c, "reading a patient's resources", err);
    sqlite3_reset(st);
    return rc;
}

static cr_rc
drop_indexes(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    (void)ctx;
    return cr_store_lookup_indexes(txn->c, false, err);
}

static cr_rc
build_indexes(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    (void)ctx;
    return cr_store_lookup_indexes(txn->c, true, err);
}

cr_rc
cr_store_bulk_begin(struct cr_store *s, struct cr_err *err)
{
    return cr_store_write(s, drop_indexes, NULL, err);
}

cr_rc
cr_store_bulk_end(struct cr_store *s, struct cr_err *err)
{
    return cr_store_write(s, build_indexes, NULL, err);
}
