/* audit.c: the audit log object: appending records to the store's chain.
 *
 * Four ways in, one chain: inside a write transaction (the record commits
 * with the write), blocking (the caller waits for the commit),
 * asynchronous (a callback when durable, for requests that suspend rather
 * than hold a thread), and through the journal (auditInt.h): the record is
 * copied into a memory-mapped file and the caller goes on at once; mover.c
 * moves journaled records into the table. Every append to the table moves
 * them first (cr_audit_settle_txn), so the chain keeps the order records
 * were made in. Bodies are serialised on the caller's thread where
 * possible, so the single writer thread only hashes and inserts.
 * Depends on store/, core/ and pthreads. */
#include "audit/audit.h"
#include "audit/auditInt.h"

#include "core/clock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ALERT_MASK ((1u << CR_AUDIT_ALERT__COUNT) - 1)



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
    rc = cr_audit_settle_txn(log, txn, err);
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
    cr_rc rc = cr_audit_settle_txn(b->log, txn, err);

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
    cr_rc rc = cr_audit_settle_txn(req->log, txn, err);

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
        rc = cr_audit_mover_start(log, opts, err);
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
    cr_audit_mover_stop(log);
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
