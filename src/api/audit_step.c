/* audit_step.c: every answer about patient data waits for its audit record.
 *
 * Each request under /fhir (but the CapabilityStatement) ends here, with
 * its answer ready in x->resp. The answer is set aside, the request waits
 * (suspended, holding no thread) while its record is appended to the
 * hash-chained audit log, and only once the record is durable is the
 * answer sent. If the record cannot be written, the answer is dropped and
 * the client gets a 500 saying so: no data leaves without its record (we
 * fail closed). A write is recorded inside its own transaction
 * (cr_api_audit_in_txn), so the write and its record commit together or
 * not at all; a write that failed is recorded here, after. Depends on
 * audit/, http/, core/. */
#include "api/apiInt.h"

#include "audit/audit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void
cr_api_touch(struct ctx *x, const char *type, const char *id,
             int64_t version)
{
    cr_audit_refs_add(&x->touched, type, id, version);
}

static enum cr_audit_action
action_of(const struct ctx *x)
{
    const char *m = x->req->method;

    if (x->has_action)
        return x->action;
    switch (x->route.kind) {
    case R_VERSION:
        return CR_AUDIT_VREAD;
    case R_SYSTEM_HIST:
    case R_TYPE_HIST:
    case R_INST_HIST:
        return CR_AUDIT_HISTORY;
    case R_TYPE_SEARCH:
        return CR_AUDIT_SEARCH;
    case R_SYSTEM:
        return x->is_txn ? CR_AUDIT_TRANSACTION : CR_AUDIT_BATCH;
    case R_SYSTEM_OP:
        return CR_AUDIT_IMPORT;
    case R_TYPE_OP:
    case R_INSTANCE_OP:
        return CR_AUDIT_EVERYTHING;
    case R_TYPE:
        if (strcmp(m, "POST") == 0)
            return CR_AUDIT_CREATE;
        if (strcmp(m, "PUT") == 0)
            return CR_AUDIT_UPDATE;
        if (strcmp(m, "DELETE") == 0)
            return CR_AUDIT_DELETE;
        return CR_AUDIT_SEARCH;
    case R_INSTANCE:
        if (strcmp(m, "PUT") == 0)
            return CR_AUDIT_UPDATE;
        if (strcmp(m, "DELETE") == 0)
            return CR_AUDIT_DELETE;
        return CR_AUDIT_READ;
    case R_METADATA:
        break;
    }
    return CR_AUDIT_READ;
}

/* Where a request's asynchronous record stands. The answer set aside
 * and the record's buffer are freed by audit_answer, or, when the
 * connection ends without that continuation running (a client gone while
 * the request waited, a stop), by the arena's cleanup (release_audit). */
enum { AUDIT_NONE, AUDIT_QUEUED, AUDIT_DONE, AUDIT_ANSWERED };

static void
audit_done(void *arg, cr_rc rc)
{
    struct ctx *x = arg;

    x->audit_rc = rc;
    atomic_store(&x->audit_state, AUDIT_DONE);
    cr_http_resume(x->audit_pending);
}

static void
release_audit(void *arg)
{
    struct ctx *x = arg;
    int state = atomic_load(&x->audit_state);

    if (state == AUDIT_NONE || state == AUDIT_ANSWERED)
        return;
    /* The writer still holds the record: it reports within a commit. */
    while (atomic_load(&x->audit_state) == AUDIT_QUEUED) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    free(x->saved.body);
    x->saved.body = NULL;
    cr_audit_async_release(&x->audit);
}

/* After the record: send what was set aside, or refuse. */
static void
audit_answer(void *arg, struct cr_http_req *req, struct cr_http_resp *resp)
{
    struct ctx *x = arg;

    (void)req;
    x->resp = resp;
    atomic_store(&x->audit_state, AUDIT_ANSWERED);
    if (x->audit_rc == CR_OK) {
        *resp = x->saved;
    } else {
        free(x->saved.body);
        resp->principal = x->saved.principal;
        cr_api_outcome(x, 500, "fatal", "exception", NULL,
                       "the access could not be recorded in the audit log, "
                       "so nothing is returned; try again, and tell the "
                       "node's operator if it persists");
    }
    cr_audit_async_release(&x->audit);
}

static void
free_touched(void *arg)
{
    cr_buf_free(arg);
}

cr_rc
cr_api_audit_in_txn(struct ctx *x, struct cr_store_txn *txn,
                    enum cr_audit_action action, unsigned status,
                    const char *patient, const struct cr_buf *refs,
                    struct cr_err *err)
{
    struct cr_audit_rec rec;
    cr_rc rc;

    if (x->api->audit == NULL)
        return CR_OK;
    cr_audit_rec_init(&rec);
    rec.request_id = x->req->request_id;
    rec.client = x->req->client_addr;
    cr_audit_rec_set_principal(&rec, &x->principal);
    rec.action = action;
    rec.outcome = CR_AUDIT_ALLOWED;
    rec.status = (int)status;
    rec.patient = patient;
    rec.resources = cr_buf_str(refs);
    rec.via = x->via;
    cr_api_view_audit(x, &rec);
    rc = cr_audit_append_txn(x->api->audit, txn, &rec, NULL, err);
    /* A batch may run again after another write failed: each run writes
     * its own record, and only the committed one counts. */
    x->is_recorded = rc == CR_OK;
    return rc;
}

void
cr_api_audited_send(struct ctx *x)
{
    struct cr_audit_rec rec;
    unsigned status = x->resp->status;
    cr_rc rc;

    /* Data was written: the record locator may have a patient to learn. */
    if (x->api->fed && status >= 200 && status < 300 &&
        strcmp(x->req->method, "GET") != 0 &&
        strcmp(x->req->method, "HEAD") != 0)
        cr_fed_nudge(x->api->fed);
#ifdef CR_BENCH_NO_ACCESS
    /* A benchmark build measuring the cost of access control: no records.
     * Never built by 'make' or 'make test' (see bench/README.md). */
    return;
#endif
    /* A write that succeeded was recorded inside its own transaction. */
    if (x->route.kind == R_METADATA || x->api->audit == NULL ||
        x->is_unaudited || status == 0 || (x->is_recorded && status < 400))
        return;
    cr_audit_rec_init(&rec);
    rec.request_id = x->req->request_id;
    rec.client = x->req->client_addr;
    if (x->is_authenticated)
        cr_audit_rec_set_principal(&rec, &x->principal);
    rec.action = status == 401 ? CR_AUDIT_LOGIN_FAILURE : action_of(x);
    rec.outcome = status < 400 ? CR_AUDIT_ALLOWED
                : status == 403 ? CR_AUDIT_DENIED : CR_AUDIT_FAILED;
    rec.status = (int)status;
    rec.patient = x->audit_patient;
    rec.resources = cr_buf_str(&x->touched);
    rec.via = x->via;
    cr_api_view_audit(x, &rec);
    if ((rec.patient == NULL || rec.patient[0] == '\0') && x->audit_nhs)
        rec.nhs = x->audit_nhs;

    /* Journaled: the record is in the operating system's hands and
     * reaches the table within moments; the answer goes now. */
    rc = cr_audit_append_journal(x->api->audit, &rec, NULL);
    if (rc == CR_OK)
        return;
    if (rc != CR_EUNAVAILABLE) {
        x->audit_rc = rc;
        x->saved = *x->resp;
        memset(x->resp, 0, sizeof *x->resp);
        x->resp->principal = x->saved.principal;
        audit_answer(x, x->req, x->resp);
        return;
    }

    /* Set the answer aside: the transport sends nothing while we wait. */
    x->saved = *x->resp;
    memset(x->resp, 0, sizeof *x->resp);
    x->resp->principal = x->saved.principal;
    x->audit_pending = cr_http_suspend(x->req, audit_answer, x);
    if (x->audit_pending == NULL) {
        /* Cannot wait here: record synchronously, still failing closed. */
        rc = cr_audit_append(x->api->audit, &rec, NULL, NULL);
        x->audit_rc = rc;
        audit_answer(x, x->req, x->resp);
        return;
    }
    cr_audit_async_init(&x->audit);
    atomic_store(&x->audit_state, AUDIT_QUEUED);
    cr_arena_on_destroy(x->req->arena, release_audit, x);
    rc = cr_audit_append_async(x->api->audit, &rec, &x->audit, audit_done,
                               x);
    if (rc != CR_OK) {
        x->audit_rc = rc;
        atomic_store(&x->audit_state, AUDIT_DONE);
        cr_http_resume(x->audit_pending);
    }
}

bool
cr_api_audit_settle(struct ctx *x)
{
    struct cr_err err;

    if (x->api->audit == NULL)
        return true;
    cr_err_clear(&err);
    if (cr_audit_flush(x->api->audit, &err) == CR_OK)
        return true;
    cr_api_fail(x, &err);
    return false;
}

void
cr_api_audit_begin(struct ctx *x)
{
    x->touched = cr_buf_make(0);
    cr_arena_on_destroy(x->req->arena, free_touched, &x->touched);
}
