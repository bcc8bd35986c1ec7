/* mover.c: the audit journal's life in a running log: opening it (and
 * moving what a stopped node left), the mover thread that moves journaled
 * records into the hash-chained table, the move every other append makes
 * first, and flushing for readers of the log. auditInt.h and
 * docs/internals/audit.md ("The journal") say what the journal is for.
 * Depends on store/, core/ and pthreads. */
#include "audit/audit.h"
#include "audit/auditInt.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MOVE_MS 10
#define DEFAULT_JOURNAL_BYTES ((size_t)8 << 20)

/* Moving journaled records into the table. A move reads how far the table
 * is (its audit_journal row, inside the transaction, so a batch undone
 * undoes the move with it), chains every record put since, in the order
 * they were put, and records the new position in the same transaction.
 * Every append to the table makes one first (cr_audit_settle_txn), so a
 * record put in the journal before a write's record is ahead of it in the
 * chain: the chain's order is the order the requests were recorded in. */
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

cr_rc
cr_audit_settle_txn(struct cr_audit *log, struct cr_store_txn *txn,
                    struct cr_err *err)
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

    pthread_setname_np(pthread_self(), "cr-audit-mover");   /* top -H, perf */

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

cr_rc
cr_audit_mover_start(struct cr_audit *log, const struct cr_audit_opts *opts,
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

void
cr_audit_mover_stop(struct cr_audit *log)
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
