/* mpi_review.c: GET and POST /fhir/Patient/$mpi-review.
 *
 * The review list of uncertain pairs, a page at a time, with the pairs
 * whose records the caller may not see left out; and a reviewer's
 * decision on a pair (same person or not), written with its audit record
 * in one transaction. Depends on mpi/, store/, fhir/, core/, jansson. */
#include "api/apiInt.h"

#include "core/clock.h"
#include "fhir/fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Patient/$mpi-review ---- */

struct review_page {
    struct ctx *x;
    struct cr_buf *b;
    int n, shown, limit;
    char last_a[65], last_b[65];
    bool has_more;
};

/* Whether the principal may see Patient 'id' (counted if withheld). */
static bool
visible_patient(struct ctx *x, const char *id)
{
    struct cr_buf pb = cr_buf_make(0);
    struct cr_store_meta m;
    struct cr_err err;
    bool ok = false;

    cr_err_clear(&err);
    if (cr_store_read(x->api->store, "Patient", id, &pb, &m, &err) == CR_OK)
        ok = cr_api_view_item(x, "Patient", &m, pb.ptr, pb.len, NULL) !=
             CR_POLICY_WITHHOLD;
    if (ok)
        cr_api_touch(x, "Patient", id, m.version);
    cr_buf_free(&pb);
    return ok;
}

static cr_rc
review_pair(void *ctx, const char *a, const char *b, double weight,
            int64_t since_ms)
{
    struct review_page *pg = ctx;
    const struct cr_mpi_config *cfg = cr_mpi_config(pg->x->api->mpi);
    double full = cr_mpi_full_weight(cfg), score;
    char when[40];
    const char *grade;

    if (pg->n++ == pg->limit) {
        pg->has_more = true;
        return CR_ENOTFOUND;   /* stop: one past the page */
    }
    snprintf(pg->last_a, sizeof pg->last_a, "%s", a);
    snprintf(pg->last_b, sizeof pg->last_b, "%s", b);
    if (!visible_patient(pg->x, a) || !visible_patient(pg->x, b))
        return CR_OK;
    score = full > 0 ? weight / full : 0;
    score = score < 0 ? 0 : score > 1 ? 1 : score;
    grade = weight >= cfg->upper ? "certain"
          : weight >= cfg->probable ? "probable" : "possible";
    cr_clock_instant(since_ms, when, sizeof when);
    cr_buf_addf(pg->b, ",{\"name\":\"pair\",\"part\":["
                       "{\"name\":\"record\",\"valueReference\":{"
                       "\"reference\":\"Patient/%s\"}},"
                       "{\"name\":\"candidate\",\"valueReference\":{"
                       "\"reference\":\"Patient/%s\"}},"
                       "{\"name\":\"score\",\"valueDecimal\":%.4f},"
                       "{\"name\":\"weight\",\"valueDecimal\":%.2f},"
                       "{\"name\":\"grade\",\"valueCode\":\"%s\"},"
                       "{\"name\":\"since\",\"valueInstant\":\"%s\"}]}",
                a, b, score, weight, grade, when);
    pg->shown++;
    return CR_OK;
}

struct review_args {
    const char *count;
    const char *page;
    const char *bad;
};

static bool
take_review(void *ctx, const char *name, const char *value)
{
    struct review_args *a = ctx;

    if (strcmp(name, "_count") == 0)
        a->count = value;
    else if (strcmp(name, "_page") == 0)
        a->page = value;
    else if (strcmp(name, "_format") != 0) {
        a->bad = name;
        return false;
    }
    return true;
}

void
cr_api_mpi_review_list(struct ctx *x)
{
    const struct cr_policy_decision *no = cr_api_mpi_refusal(x);
    struct review_args a;
    struct review_page pg;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response);
    char after_a[65] = "", after_b[65] = "";
    struct cr_err err;
    int64_t total = 0;
    long count = 50;
    cr_rc rc;

    memset(&a, 0, sizeof a);
    cr_err_clear(&err);
    if (no) {
        cr_api_view_deny(x, no);
        goto out;
    }
    cr_http_args(x->req, take_review, &a);
    if (a.bad) {
        cr_api_outcome(x, 400, "error", "not-supported", NULL,
                       "$mpi-review does not take '%.80s' (it takes _count "
                       "and _page)", a.bad);
        goto out;
    }
    if (a.count) {
        char *end;
        count = strtol(a.count, &end, 10);
        if (*a.count < '0' || *a.count > '9' || *end || count < 1) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "_count must be a whole number from 1");
            goto out;
        }
        if (count > x->api->cfg.max_count)
            count = x->api->cfg.max_count;
    }
    if (a.page) {
        /* "a,b": the pair the page continues after (ids have no comma) */
        const char *comma = strchr(a.page, ',');
        if (comma == NULL || !cr_fhir_valid_id(a.page,
                                               (size_t)(comma - a.page)) ||
            !cr_fhir_valid_id(comma + 1, strlen(comma + 1))) {
            cr_api_outcome(x, 400, "error", "value", "_page",
                           "the _page cursor is not one this server made; "
                           "start again from the first page");
            goto out;
        }
        snprintf(after_a, sizeof after_a, "%.*s", (int)(comma - a.page),
                 a.page);
        snprintf(after_b, sizeof after_b, "%s", comma + 1);
    }
    memset(&pg, 0, sizeof pg);
    pg.x = x;
    pg.b = &b;
    pg.limit = (int)count;
    /* one past the page, to know whether there is a next one */
    rc = cr_store_mpi_review(x->api->store, after_a, after_b, (int)count + 1,
                             review_pair, &pg, &total, &err);
    if (rc != CR_OK && rc != CR_ENOTFOUND) {
        cr_api_fail(x, &err);
        goto out;
    }
    {
        struct cr_buf out = cr_buf_make(x->api->cfg.max_response);
        cr_buf_addf(&out, "{\"resourceType\":\"Parameters\",\"parameter\":"
                          "[{\"name\":\"total\",\"valueInteger\":%lld}",
                    (long long)total);
        cr_buf_add(&out, b.ptr ? b.ptr : "", b.len);
        if (pg.has_more)
            cr_buf_addf(&out, ",{\"name\":\"next\",\"valueString\":"
                              "\"%s,%s\"}", pg.last_a, pg.last_b);
        cr_buf_adds(&out, "]}");
        cr_api_send_buf(x, 200, &out);
    }
out:
    cr_buf_free(&b);
}

struct decide_txn {
    struct ctx *x;
    const char *a, *b;
    bool is_same;
};

static cr_rc
decide_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct decide_txn *d = ctx;
    struct cr_buf refs = cr_buf_make(0);
    cr_rc rc;

    rc = cr_mpi_txn_decide(d->x->api->mpi, txn, d->a, d->b, d->is_same,
                           cr_clock_now_ms(), err);
    cr_audit_refs_add(&refs, "Patient", d->a, 0);
    cr_audit_refs_add(&refs, "Patient", d->b, 0);
    if (rc == CR_OK)
        rc = cr_api_audit_in_txn(d->x, txn, CR_AUDIT_UPDATE, 200, d->a,
                                 &refs, err);
    cr_buf_free(&refs);
    return rc;
}

void
cr_api_mpi_review_decide(struct ctx *x)
{
    static const char *const known[] = { "record", "candidate", "decision",
                                         NULL };
    const struct cr_policy_decision *d;
    json_t *params = NULL;
    struct decide_txn t;
    struct cr_api_mpi_rec ra, rb;
    struct cr_err err;
    const char *decision;

    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    cr_err_clear(&err);
    params = cr_api_mpi_change_params(x, known);
    if (params == NULL)
        goto out;
    memset(&t, 0, sizeof t);
    t.x = x;
    t.a = cr_api_params_patient(x, json_object_get(cr_api_params_get(params, "record", NULL),
                                         "valueReference"));
    t.b = cr_api_params_patient(x, json_object_get(cr_api_params_get(params, "candidate", NULL),
                                         "valueReference"));
    decision = json_string_value(json_object_get(
        cr_api_params_get(params, "decision", NULL), "valueCode"));
    if (t.a == NULL || t.b == NULL || decision == NULL ||
        (strcmp(decision, "same-person") != 0 &&
         strcmp(decision, "different-person") != 0)) {
        cr_api_outcome(x, 400, "error", "required", NULL,
                       "$mpi-review takes record and candidate "
                       "(valueReference to a Patient) and decision "
                       "(valueCode same-person or different-person)");
        goto out;
    }
    t.is_same = strcmp(decision, "same-person") == 0;
    if (!cr_api_mpi_rec_read(x, t.a, &ra) || !cr_api_mpi_rec_read(x, t.b, &rb))
        goto out;
    x->audit_patient = t.a;
    d = cr_api_view_patient(x, ra.meta.patient[0] ? ra.meta.patient : t.a);
    if (d && d->is_allowed)
        d = cr_api_view_patient(x, rb.meta.patient[0] ? rb.meta.patient
                                                      : t.b);
    if (d == NULL || !d->is_allowed) {
        cr_api_view_deny(x, d);
        goto out;
    }
    if (cr_store_write(x->api->store, decide_in_txn, &t, &err) != CR_OK) {
        cr_api_fail(x, &err);
        goto out;
    }
    cr_api_outcome(x, 200, "information", "informational", NULL,
                   "recorded: Patient/%s and Patient/%s are %s", t.a, t.b,
                   t.is_same ? "the same person" : "different people");
out:
    cr_api_mpi_rec_free(&ra);
    cr_api_mpi_rec_free(&rb);
    json_decref(params);
}
