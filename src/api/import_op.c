/* import_op.c: POST /fhir/$import, NDJSON in the request body.
 *
 * The same engine as `carerecord import` (import.h). The work runs on a
 * thread of its own while the request is suspended, so no server thread
 * waits on it; at most two run at once (a third is told to retry). The
 * publishing organisation is the caller's (a source system writes for its
 * own organisation). The answer is an OperationOutcome: how many were
 * stored, and one issue per skipped line (the first 100), with its line
 * number. Depends on api/ internals, core/. */
#include "api/apiInt.h"

#include "api/import.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNNING 2
#define MAX_REPORTED 100

static atomic_int running;

struct bad_line {
    uint64_t line;
    char msg[512];
    char where[256];
};

struct op {
    struct ctx *x;
    struct cr_http_pending *pending;
    struct cr_api_import_stats st;
    cr_rc rc;
    struct cr_err err;
    struct bad_line bad[MAX_REPORTED];
    size_t nbad;
};

static void
on_bad(void *ctx, const char *file, uint64_t line, const struct cr_err *err)
{
    struct op *op = ctx;

    (void)file;
    if (op->nbad < MAX_REPORTED) {
        struct bad_line *b = &op->bad[op->nbad++];
        b->line = line;
        snprintf(b->msg, sizeof b->msg, "%s", err->msg);
        snprintf(b->where, sizeof b->where, "%s", err->where);
    }
}

static void *
run(void *arg)
{
    struct op *op = arg;
    struct ctx *x = op->x;
    struct cr_api_import_opts o;
    struct cr_api_import *im = NULL;
    const char *p = x->req->body, *end = p + x->req->body_len;
    uint64_t line = 0;

    pthread_setname_np(pthread_self(), "cr-import-op");   /* top -H, perf */

    memset(&o, 0, sizeof o);
    o.org = x->principal.org;
    o.on_bad = on_bad;
    o.ctx = op;
    cr_err_clear(&op->err);
    op->rc = cr_api_import_begin(x->api, &o, &im, &op->err);
    if (op->rc == CR_OK) {
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
            line++;
            if (len && p[len - 1] == '\r')
                len--;
            op->rc = cr_api_import_line(im, p, len, "body", line, &op->err);
            if (op->rc != CR_OK)
                break;
            p = nl ? nl + 1 : end;
        }
        if (cr_api_import_end(im, &op->st, &op->err) != CR_OK &&
            op->rc == CR_OK)
            op->rc = op->err.rc ? op->err.rc : CR_EIO;
    }
    atomic_fetch_sub(&running, 1);
    cr_http_resume(op->pending);
    return NULL;
}

static void
answer(void *arg, struct cr_http_req *req, struct cr_http_resp *resp)
{
    struct op *op = arg;
    struct ctx *x = op->x;
    struct cr_buf b = cr_buf_make(0);
    size_t i;

    (void)req;
    x->resp = resp;
    resp->principal = x->who;
    if (op->rc != CR_OK) {
        cr_api_fail(x, &op->err);
        cr_api_audited_send(x);
        return;
    }
    cr_buf_adds(&b, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{"
                    "\"severity\":\"information\",\"code\":"
                    "\"informational\",\"diagnostics\":");
    {
        char msg[200];
        snprintf(msg, sizeof msg, "imported %llu resources; %llu line(s) "
                 "skipped", (unsigned long long)op->st.stored,
                 (unsigned long long)op->st.bad);
        cr_buf_add_json_str(&b, msg);
    }
    cr_buf_addc(&b, '}');
    for (i = 0; i < op->nbad; i++) {
        char num[32];
        snprintf(num, sizeof num, "line %llu: ",
                 (unsigned long long)op->bad[i].line);
        cr_buf_adds(&b, ",{\"severity\":\"error\",\"code\":\"invalid\","
                        "\"diagnostics\":\"");
        cr_buf_adds(&b, num);
        cr_buf_add_json_esc(&b, op->bad[i].msg, strlen(op->bad[i].msg));
        cr_buf_addc(&b, '"');
        if (op->bad[i].where[0]) {
            cr_buf_adds(&b, ",\"expression\":[");
            cr_buf_add_json_str(&b, op->bad[i].where);
            cr_buf_addc(&b, ']');
        }
        cr_buf_addc(&b, '}');
    }
    cr_buf_adds(&b, "]}");
    /* 200 even with skipped lines: the good ones are stored (skipping
     * is the contract of a bulk import); each skipped line is an issue. */
    cr_api_send_buf(x, 200, &b);
    cr_api_audited_send(x);
}

void
cr_api_import_op(struct ctx *x)
{
    const char *ct = cr_http_header(x->req, "Content-Type");
    struct op *op;
    pthread_attr_t attr;
    pthread_t t;

#ifndef CR_BENCH_NO_ACCESS
    /* Bulk loading is for source systems publishing their organisation's
     * data; every resource is stamped with that organisation. */
    if (strcmp(x->principal.purpose, "system") != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "$import is for source systems: it needs "
                 "a token with purpose 'system', not '%s'",
                 x->principal.purpose);
        cr_api_view_refusal(x, cr_policy_deny_code(CR_POLICY_DENY_PURPOSE),
                            msg);
        return;
    }
#endif
    if (ct == NULL || (strncmp(ct, "application/fhir+ndjson", 23) != 0 &&
                       strncmp(ct, "application/x-ndjson", 20) != 0 &&
                       strncmp(ct, "application/ndjson", 18) != 0)) {
        cr_api_outcome(x, 415, "error", "not-supported", NULL,
                       "$import takes NDJSON: send one resource per line "
                       "as application/fhir+ndjson");
        return;
    }
    if (x->req->body_len == 0) {
        cr_api_outcome(x, 400, "error", "required", NULL,
                       "$import needs NDJSON in the body, one resource per "
                       "line");
        return;
    }
    if (atomic_fetch_add(&running, 1) >= MAX_RUNNING) {
        atomic_fetch_sub(&running, 1);
        cr_http_resp_header(x->resp, "Retry-After", "5");
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "other imports are running; try again in a few "
                       "seconds");
        return;
    }
    op = cr_arena_calloc(x->req->arena, 1, sizeof *op);
    if (op == NULL)
        goto busy;
    op->x = x;
    op->pending = cr_http_suspend(x->req, answer, op);
    if (op->pending == NULL)
        goto busy;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, run, op) != 0) {
        pthread_attr_destroy(&attr);
        op->rc = cr_err_set(&op->err, CR_EUNAVAILABLE, "transient", NULL,
                            "cannot start the import; try again shortly");
        atomic_fetch_sub(&running, 1);
        cr_http_resume(op->pending);
        return;
    }
    pthread_attr_destroy(&attr);
    return;
busy:
    atomic_fetch_sub(&running, 1);
    cr_api_outcome(x, 503, "error", "transient", NULL,
                   "the server is out of memory; try again shortly");
}
