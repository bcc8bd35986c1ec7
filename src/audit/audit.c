/* audit.c: the audit log object: appending records to the store's chain.
 *
 * Four ways in, one chain: inside a write transaction (the record commits
 * with the write), blocking (the caller waits for the commit),
 * asynchronous (a callback when durable, for requests that suspend rather
 * than hold a thread), and through the journal (auditInt.h): the record is
 * copied into a memory-mapped file and the caller goes on at once, while
 * this file's mover thread moves journaled records into the table in one
 * transaction per batch, with the journal's position, so each is moved
 * exactly once. Bodies are serialised on the caller's thread where
 * possible, so the single writer thread only hashes and inserts.
 * Depends on store/, core/ and pthreads. */
#include "audit/audit.h"
#include "audit/auditInt.h"

#include "core/clock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ALERT_MASK ((1u << CR_AUDIT_ALERT__COUNT) - 1)
#define DEFAULT_MOVE_MS 10
#define DEFAULT_JOURNAL_BYTES ((size_t)8 << 20)

struct cr_audit {
    struct cr_store *store;
    struct cr_store_audit *rows;
    struct cr_buf scratch;      /* writer thread only: append_txn bodies */
    /* The journal; NULL: none. Everything below is under 'lock'. */
    struct cr_audit_journal *journal;
    pthread_mutex_t lock;
    pthread_cond_t wake;        /* the mover waits here */
    pthread_cond_t moved;       /* flushers wait here */
    pthread_t mover;
    bool has_mover;
    bool is_stopping;
    bool is_mover_idle;         /* waiting with nothing to move: a put
                                   wakes it */
    bool is_flush_wanted;
    bool is_failing;            /* the last move failed */
    int64_t moved_jseq;         /* the last record in the table */
    uint64_t nmoves;            /* moves tried */
    int move_ms;
    cr_audit_warn_fn warn;
    void *warn_ctx;
};

static cr_rc
settle(struct cr_audit *log, struct cr_store_txn *txn, struct cr_err *err);

/* 'rec' with the log's defaults filled in: the time and the node. */
static void
complete(const struct cr_audit *log, const struct cr_audit_rec *rec,
         struct cr_audit_rec *out)
{
    *out = *rec;
    if (out->time_ms == 0)
        out->time_ms = cr_clock_now_ms();
    if (out->node == NULL || *out->node == '\0')
        out->node = cr_store_node_id(log->store);
    if (out->resources.ptr == NULL)
        out->resources = (struct cr_str){ "", 0 };
}

/* The row for 'rec' (already completed) whose body is 'body'. */
static void
row_of(const struct cr_audit_rec *rec, struct cr_str body,
       struct cr_store_audit_row *row)
{
    row->time_ms = rec->time_ms;
    row->patient = rec->patient;
    row->principal_sub = rec->sub;
    row->principal_org = rec->org;
    row->action = cr_audit_action_code(rec->action);
    row->outcome = cr_audit_outcome_code(rec->outcome);
    row->alerts = (int64_t)(rec->alerts & ALERT_MASK);
    row->body = body.ptr;
    row->len = body.len;
}

static cr_rc
body_error(cr_rc rc, struct cr_err *err)
{
    if (rc == CR_EINVAL)
        return cr_err_set(err, rc, "invalid", NULL,
                          "audit: the record's action, outcome or review "
                          "is not one we know");
    if (rc == CR_ETOOBIG)
        return cr_err_set(err, rc, "too-costly", NULL,
                          "audit: the record is too large");
    return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
}

cr_rc
cr_audit_append_txn(struct cr_audit *log, struct cr_store_txn *txn,
                    const struct cr_audit_rec *rec, int64_t *out_seq,
                    struct cr_err *err)
{
    struct cr_store_audit_row row;
    struct cr_audit_rec r;
    cr_rc rc;

    complete(log, rec, &r);
    cr_buf_reset(&log->scratch);
    rc = cr_audit_rec_write(&r, &log->scratch);
    if (rc != CR_OK)
        return body_error(rc, err);
    rc = settle(log, txn, err);
    if (rc != CR_OK)
        return rc;
    row_of(&r, cr_buf_str(&log->scratch), &row);
    return cr_store_audit_append_txn(txn, log->rows, &row, out_seq, NULL,
                                     err);
}

struct blocking {
    struct cr_audit *log;
    struct cr_store_audit_row row;
    int64_t seq;
};

static cr_rc
blocking_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct blocking *b = ctx;
    cr_rc rc = settle(b->log, txn, err);

    if (rc != CR_OK)
        return rc;
    return cr_store_audit_append_txn(txn, b->log->rows, &b->row, &b->seq,
                                     NULL, err);
}

cr_rc
cr_audit_append(struct cr_audit *log, const struct cr_audit_rec *rec,
                int64_t *out_seq, struct cr_err *err)
{
    struct cr_buf body = cr_buf_make(0);
    struct cr_audit_rec r;
    struct blocking b;
    cr_rc rc;

    complete(log, rec, &r);
    rc = cr_audit_rec_write(&r, &body);
    if (rc != CR_OK) {
        rc = body_error(rc, err);
        goto out;
    }
    memset(&b, 0, sizeof b);
    b.log = log;
    row_of(&r, cr_buf_str(&body), &b.row);
    rc = cr_store_write(log->store, blocking_in_txn, &b, err);
    if (rc == CR_OK && out_seq)
        *out_seq = b.seq;
out:
    cr_buf_free(&body);
    return rc;
}

void
cr_audit_async_init(struct cr_audit_async *req)
{
    memset(req, 0, sizeof *req);
    req->data = cr_buf_make(0);
}

void
cr_audit_async_release(struct cr_audit_async *req)
{
    if (req == NULL)
        return;
    cr_buf_free(&req->data);
}

/* The journal's records first, then this one (settle_in_txn). */
static cr_rc
async_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct cr_audit_async *req = ctx;
    cr_rc rc = settle(req->log, txn, err);

    if (rc != CR_OK)
        return rc;
    return cr_store_audit_append_txn(txn, req->log->rows, &req->st.row,
                                     &req->st.seq, req->st.hash, err);
}

static void
async_done(void *ctx, cr_rc rc)
{
    struct cr_audit_async *req = ctx;

    req->seq = rc == CR_OK ? req->st.seq : 0;
    req->done(req->done_ctx, rc);
}

/* Append a NUL-terminated copy of 's' (NULL: nothing) to b; its offset,
 * or -1 when there is none. */
static long
keep(struct cr_buf *b, const char *s)
{
    long at;

    if (s == NULL || *s == '\0')
        return -1;
    at = (long)b->len;
    cr_buf_add(b, s, strlen(s) + 1);
    return at;
}

static const char *
at(const struct cr_buf *b, long off)
{
    return off < 0 ? NULL : b->ptr + off;
}

cr_rc
cr_audit_append_async(struct cr_audit *log, const struct cr_audit_rec *rec,
                      struct cr_audit_async *req, cr_audit_done_fn done,
                      void *done_ctx)
{
    struct cr_audit_rec r;
    long patient, sub, org;
    size_t body_len;
    cr_rc rc;

    cr_err_clear(&req->err);
    req->seq = 0;
    complete(log, rec, &r);
    /* One buffer holds the body and then copies of the strings the
     * indexed columns need, so the record may go away on return. */
    cr_buf_reset(&req->data);
    rc = cr_audit_rec_write(&r, &req->data);
    body_len = req->data.len;
    cr_buf_addc(&req->data, '\0');
    patient = keep(&req->data, r.patient);
    sub = keep(&req->data, r.sub);
    org = keep(&req->data, r.org);
    if (rc == CR_OK)
        rc = req->data.rc;
    if (rc != CR_OK)
        return body_error(rc, &req->err);
    row_of(&r, (struct cr_str){ req->data.ptr, body_len }, &req->st.row);
    req->st.row.patient = at(&req->data, patient);
    req->st.row.principal_sub = at(&req->data, sub);
    req->st.row.principal_org = at(&req->data, org);
    req->log = log;
    req->done = done;
    req->done_ctx = done_ctx;
    req->st.seq = 0;
    req->st.hash[0] = '\0';
    req->st.job.fn = async_in_txn;
    req->st.job.ctx = req;
    req->st.job.err = &req->err;
    req->st.job.done = async_done;
    req->st.job.done_ctx = req;
    return cr_store_write_async(log->store, &req->st.job);
}

/* ---- the journal ---- */

/* Moving journaled records into the table. A move reads how far the table
 * is (its audit_journal row, inside the transaction, so a batch undone
 * undoes the move with it), chains every record put since, in the order
 * they were put, and records the new position in the same transaction.
 * Every append to the table makes one first (settle_in_txn), so a record
 * put in the journal before a write's record is ahead of it in the chain:
 * the chain's order is the order the requests were recorded in. */
struct move {
    struct cr_audit *log;
    struct cr_store_txn *txn;
    struct cr_err *err;
    uint64_t to;                /* the position reached */
    int64_t last;               /* the jseq of the last record moved */
};

static cr_rc
move_one(void *ctx, const struct cr_audit_jrec *r)
{
    struct move *m = ctx;
    struct cr_store_audit_row row;

    row.time_ms = r->time_ms;
    row.patient = r->patient;
    row.principal_sub = r->sub;
    row.principal_org = r->org;
    row.action = r->action;
    row.outcome = r->outcome;
    row.alerts = r->alerts;
    row.body = r->body;
    row.len = r->len;
    return cr_store_audit_append_txn(m->txn, m->log->rows, &row, NULL, NULL,
                                     m->err);
}

/* Inside a write transaction (writer thread): move what is pending; m->to
 * and m->last say how far the table then is. */
static cr_rc
settle_in_txn(struct cr_audit *log, struct cr_store_txn *txn,
              struct move *m, struct cr_err *err)
{
    uint64_t tail, head, at;
    int64_t put, moved;
    cr_rc rc;

    m->log = log;
    m->txn = txn;
    m->err = err;
    rc = cr_store_audit_journal_get(txn, &moved, &at, err);
    if (rc != CR_OK)
        return rc;
    pthread_mutex_lock(&log->lock);
    cr_audit_journal_pending(log->journal, &tail, &head, &put);
    pthread_mutex_unlock(&log->lock);
    if (at < tail || at > head)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "audit: the log says it holds the journal up to "
                          "position %llu, outside what the journal holds "
                          "(%llu to %llu)", (unsigned long long)at,
                          (unsigned long long)tail,
                          (unsigned long long)head);
    m->to = at;
    m->last = moved;
    if (at == head)
        return CR_OK;
    rc = cr_audit_journal_walk(log->journal, at, head, move_one, m, err);
    if (rc == CR_OK)
        rc = cr_store_audit_journal_set(txn, put, head, err);
    if (rc == CR_OK) {
        m->to = head;
        m->last = put;
    }
    return rc;
}

/* Before any record is appended to the table: the journal's first. */
static cr_rc
settle(struct cr_audit *log, struct cr_store_txn *txn, struct cr_err *err)
{
    struct move m;

    if (log->journal == NULL)
        return CR_OK;
    return settle_in_txn(log, txn, &m, err);
}

static cr_rc
move_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct move *m = ctx;

    return settle_in_txn(m->log, txn, m, err);
}

/* Move what is pending now; on success the journal's space up to where
 * the table is is free again, and flushers waiting for it are told.
 * Called without the lock, by one thread at a time (the mover; open and
 * close when there is none): the space is freed only here. */
static cr_rc
move(struct cr_audit *log, struct cr_err *err)
{
    struct move m;
    uint64_t tail;
    cr_rc rc;

    memset(&m, 0, sizeof m);
    m.log = log;
    rc = cr_store_write(log->store, move_in_txn, &m, err);
    pthread_mutex_lock(&log->lock);
    if (rc == CR_OK) {
        cr_audit_journal_pending(log->journal, &tail, NULL, NULL);
        if (m.to > tail)
            cr_audit_journal_consume(log->journal, m.to, m.last);
        if (m.last > log->moved_jseq)
            log->moved_jseq = m.last;
    }
    log->is_failing = rc != CR_OK;
    log->nmoves++;
    pthread_cond_broadcast(&log->moved);
    pthread_mutex_unlock(&log->lock);
    return rc;
}

static void
deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static bool
is_past(const struct timespec *ts)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > ts->tv_sec ||
           (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* The mover: records wait at most move_ms after the previous move (so
 * a busy node commits them in batches, a quiet one at once), and no
 * time at all when someone flushes or the log closes. */
static void *
mover_main(void *arg)
{
    struct cr_audit *log = arg;
    struct timespec due = { 0, 0 };

    pthread_mutex_lock(&log->lock);
    for (;;) {
        uint64_t from, to;
        struct cr_err err;
        bool was_failing;
        cr_rc rc;

        cr_audit_journal_pending(log->journal, &from, &to, NULL);
        if (from == to) {
            if (log->is_stopping)
                break;
            log->is_flush_wanted = false;
            log->is_mover_idle = true;
            pthread_cond_wait(&log->wake, &log->lock);
            log->is_mover_idle = false;
            continue;
        }
        if (!log->is_stopping && !log->is_flush_wanted && !is_past(&due)) {
            pthread_cond_timedwait(&log->wake, &log->lock, &due);
            continue;
        }
        log->is_flush_wanted = false;
        was_failing = log->is_failing;
        pthread_mutex_unlock(&log->lock);
        cr_err_clear(&err);
        rc = move(log, &err);
        /* Once when it starts failing (it is tried again every move_ms),
         * once when it works again. */
        if (rc != CR_OK && !was_failing && log->warn)
            log->warn(log->warn_ctx, err.msg[0] ? err.msg
                                                : "moving audit records "
                                                  "failed");
        if (rc == CR_OK && was_failing && log->warn)
            log->warn(log->warn_ctx, "audit records are moved into the log "
                                     "again");
        deadline_after(&due, log->move_ms);
        pthread_mutex_lock(&log->lock);
        if (rc != CR_OK && log->is_stopping)
            break;      /* they stay in the journal for the next open */
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

struct position {
    int64_t jseq;
    uint64_t pos;
};

static cr_rc
position_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct position *p = ctx;

    return cr_store_audit_journal_get(txn, &p->jseq, &p->pos, err);
}

static cr_rc
open_journal(struct cr_audit *log, const struct cr_audit_opts *opts,
             struct cr_err *err)
{
    size_t bytes = opts->journal_bytes ? opts->journal_bytes
                                       : DEFAULT_JOURNAL_BYTES;
    struct position p = { 0, 0 };
    pthread_condattr_t ca;
    cr_rc rc;

    log->move_ms = opts->move_ms > 0 ? opts->move_ms : DEFAULT_MOVE_MS;
    log->warn = opts->warn;
    log->warn_ctx = opts->warn_ctx;
    rc = cr_store_write(log->store, position_in_txn, &p, err);
    if (rc == CR_OK)
        rc = cr_audit_journal_open(opts->journal_dir, bytes, p.jseq, p.pos,
                                   &log->journal, err);
    if (rc != CR_OK)
        return rc;
    log->moved_jseq = p.jseq;
    pthread_mutex_init(&log->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&log->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&log->moved, NULL);
    /* What a stopped or killed node left: into the table before anything
     * else is served. */
    rc = move(log, err);
    if (rc == CR_OK)
        rc = cr_audit_journal_resize(log->journal, bytes, err);
    if (rc == CR_OK && pthread_create(&log->mover, NULL, mover_main, log) != 0)
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "audit: cannot start the journal's thread");
    log->has_mover = rc == CR_OK;
    return rc;
}

static void
close_journal(struct cr_audit *log)
{
    if (log->journal == NULL)
        return;
    if (log->has_mover) {
        pthread_mutex_lock(&log->lock);
        log->is_stopping = true;
        pthread_cond_signal(&log->wake);
        pthread_cond_broadcast(&log->moved);
        pthread_mutex_unlock(&log->lock);
        pthread_join(log->mover, NULL);
    }
    cr_audit_journal_close(log->journal);
    log->journal = NULL;
    pthread_cond_destroy(&log->wake);
    pthread_cond_destroy(&log->moved);
    pthread_mutex_destroy(&log->lock);
}

cr_rc
cr_audit_open(struct cr_store *s, const struct cr_audit_opts *opts,
              struct cr_audit **out, struct cr_err *err)
{
    struct cr_audit *log = calloc(1, sizeof *log);
    cr_rc rc;

    if (log == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    rc = cr_store_audit_open(s, &log->rows, err);
    if (rc != CR_OK) {
        free(log);
        return rc;
    }
    log->store = s;
    log->scratch = cr_buf_make(0);
    if (opts != NULL && opts->journal_dir != NULL) {
        rc = open_journal(log, opts, err);
        if (rc != CR_OK) {
            cr_audit_close(log);
            return rc;
        }
    }
    *out = log;
    return CR_OK;
}

void
cr_audit_close(struct cr_audit *log)
{
    if (log == NULL)
        return;
    close_journal(log);
    cr_store_audit_close(log->rows);
    cr_buf_free(&log->scratch);
    free(log);
}

cr_rc
cr_audit_append_journal(struct cr_audit *log, const struct cr_audit_rec *rec,
                        struct cr_err *err)
{
    struct cr_buf body = cr_buf_make(0);
    struct cr_audit_jrec j;
    struct cr_audit_rec r;
    cr_rc rc;

    if (log->journal == NULL)
        return CR_EUNAVAILABLE;
    complete(log, rec, &r);
    /* most records are under 1 KiB: one allocation, not three */
    cr_buf_reserve(&body, 1024 + r.resources.len);
    rc = cr_audit_rec_write(&r, &body);
    if (rc != CR_OK) {
        rc = body_error(rc, err);
        goto out;
    }
    memset(&j, 0, sizeof j);
    j.time_ms = r.time_ms;
    j.alerts = (int64_t)(r.alerts & ALERT_MASK);
    j.patient = r.patient;
    j.sub = r.sub;
    j.org = r.org;
    j.action = cr_audit_action_code(r.action);
    j.outcome = cr_audit_outcome_code(r.outcome);
    j.body = body.ptr;
    j.len = body.len;
    pthread_mutex_lock(&log->lock);
    rc = log->is_failing || log->is_stopping
             ? CR_EUNAVAILABLE
             : cr_audit_journal_put(log->journal, &j, NULL);
    if (rc == CR_OK && log->is_mover_idle) {
        log->is_mover_idle = false;
        pthread_cond_signal(&log->wake);
    }
    pthread_mutex_unlock(&log->lock);
out:
    cr_buf_free(&body);
    return rc;
}

cr_rc
cr_audit_flush(struct cr_audit *log, struct cr_err *err)
{
    int64_t target;
    uint64_t start;
    cr_rc rc = CR_OK;

    if (log->journal == NULL)
        return CR_OK;
    pthread_mutex_lock(&log->lock);
    cr_audit_journal_pending(log->journal, NULL, NULL, &target);
    start = log->nmoves;
    while (log->moved_jseq < target) {
        if (log->is_stopping) {
            rc = cr_err_set(err, CR_EUNAVAILABLE, "transient", NULL,
                            "the server is shutting down; try again "
                            "shortly");
            break;
        }
        if (log->nmoves > start + 1 && log->is_failing) {
            rc = cr_err_set(err, CR_EIO, "exception", NULL,
                            "audit: records could not be moved into the "
                            "log; tell the node's operator");
            break;
        }
        log->is_flush_wanted = true;
        pthread_cond_signal(&log->wake);
        pthread_cond_wait(&log->moved, &log->lock);
    }
    pthread_mutex_unlock(&log->lock);
    return rc;
}
