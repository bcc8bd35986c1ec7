/* crud.c: create, read, vread, update and delete of one resource.
 *
 * Writes run as functions inside the store's writer transaction, so the
 * checks they depend on (If-None-Exist, If-Match, the current version) and
 * the write itself are one atomic step. Depends on store/, fhir/, core/. */
#include "api/apiInt.h"

#include "careplan/careplan.h"
#include "core/clock.h"
#include "fhir/fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The audit record of a single write, in its transaction. */
static cr_rc
record_write(struct cr_store_txn *txn, struct write_job *j,
             struct cr_err *err)
{
    struct cr_buf refs = cr_buf_make(0);
    static const enum cr_audit_action actions[] = {
        [W_CREATE] = CR_AUDIT_CREATE, [W_UPDATE] = CR_AUDIT_UPDATE,
        [W_DELETE] = CR_AUDIT_DELETE };
    unsigned status = j->result == RES_CREATED ? 201 : 200;
    cr_rc rc;

    if (j->result == RES_EXISTING)
        cr_audit_refs_add(&refs, j->type, j->found_id,
                          j->found_meta.version);
    else if (j->result != RES_NO_MATCH)
        cr_audit_refs_add(&refs, j->type, j->id, j->version);
    rc = cr_api_audit_in_txn(j->x, txn, actions[j->kind], status,
                             j->p && j->p->has_patient ? j->p->patient
                                                       : NULL, &refs, err);
    cr_buf_free(&refs);
    return rc;
}

cr_rc
cr_api_write_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct write_job *j = ctx;
    struct cr_store_meta cur;
    struct cr_store_put put;
    bool exists;
    cr_rc rc;

    if (j->cond_param) {
        char ids[2][65];
        size_t n = 0;
        rc = cr_store_txn_find_token(txn, j->type, j->cond_param,
                                     j->cond_system, j->cond_code, ids, 2,
                                     &n, err);
        if (rc != CR_OK)
            return rc;
        if (j->has_expect &&
            (n != j->expect_n || (n == 1 && strcmp(ids[0], j->found_id)))) {
            j->is_stale = true;
            return cr_err_set(err, CR_ECONFLICT, "conflict", NULL,
                              "the data matching %s?%s=%s changed while the "
                              "request was being prepared; send it again",
                              j->type, j->cond_param, j->cond_code);
        }
        if (n > 1)
            return cr_err_set(err, CR_EPRECOND, "duplicate", NULL,
                              "the condition on %s matches %zu resources; it "
                              "must match at most one", j->type, n);
        if (n == 1) {
            snprintf(j->found_id, sizeof j->found_id, "%s", ids[0]);
            if (j->kind == W_CREATE) {
                j->result = RES_EXISTING;
                /* a job may run again (its batch undone for another
                 * job's failure): what it found then is stale */
                cr_buf_reset(&j->found);
                return cr_store_txn_read(txn, j->type, ids[0], &j->found,
                                         &j->found_meta, err);
            }
            if (j->kind == W_UPDATE && j->p) {
                json_t *bid = json_object_get(j->p->root, "id");
                if (bid && (!json_is_string(bid) ||
                            strcmp(json_string_value(bid), ids[0]) != 0))
                    return cr_err_set(err, CR_EINVAL, "invalid", "id",
                                      "the resource's id does not match "
                                      "%s/%s, which the condition found",
                                      j->type, ids[0]);
            }
            j->id = j->found_id;
        } else if (j->kind == W_DELETE) {
            j->result = RES_NO_MATCH;
            return CR_OK;
        }
    }

    rc = cr_store_txn_current(txn, j->type, j->id, &cur, err);
    if (rc != CR_OK && rc != CR_ENOTFOUND)
        return rc;
    exists = rc == CR_OK && !cur.is_deleted;
    if (j->if_match && !exists)
        return cr_err_set(err, CR_EPRECOND, "conflict", NULL,
                          "If-Match: %s/%s does not exist", j->type, j->id);
    if (j->if_match && cur.version != j->if_match)
        return cr_err_set(err, CR_EPRECOND, "conflict", NULL,
                          "If-Match: %s/%s is at version %lld, not %lld; "
                          "read it again and retry", j->type, j->id,
                          (long long)cur.version, (long long)j->if_match);
    if (j->kind == W_CREATE && rc == CR_OK)
        return cr_err_set(err, CR_ECONFLICT, "duplicate", NULL,
                          "%s/%s already exists", j->type, j->id);
    if (j->kind == W_DELETE) {
        if (rc == CR_ENOTFOUND)
            return cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                              "%s/%s does not exist", j->type, j->id);
        if (cur.is_deleted) {
            j->result = RES_ALREADY_DELETED;
            j->version = cur.version;
            return CR_OK;
        }
    }

    j->version = rc == CR_OK ? cur.version + 1 : 1;
    j->ms = cr_clock_now_ms();
    memset(&put, 0, sizeof put);
    put.type = j->type;
    put.id = j->id;
    put.version = j->version;
    put.last_updated_ms = j->ms;
    put.org = j->org;
    put.op = j->kind == W_CREATE ? "POST" : j->kind == W_UPDATE ? "PUT"
                                                                : "DELETE";
    if (j->kind == W_DELETE) {
        put.is_delete = true;
        put.patient = cur.patient[0] ? cur.patient : NULL;
        j->result = RES_DELETED;
    } else {
        rc = cr_api_finish_resource(j->p, j->id, j->version, j->ms, err);
        if (rc != CR_OK)
            return rc;
        put.json = j->p->json.ptr;
        put.len = j->p->json.len;
        put.patient = j->p->has_patient ? j->p->patient : NULL;
        put.rows = j->p->rows;
        put.nrows = j->p->nrows;
        j->result = exists ? RES_UPDATED : RES_CREATED;
    }
    rc = cr_store_txn_put(txn, &put, err);
    /* the patient index changes with the Patient, or neither does */
    if (rc == CR_OK && strcmp(j->type, "Patient") == 0) {
        struct cr_api *api = j->api ? j->api : j->x ? j->x->api : NULL;
        if (api && api->mpi)
            rc = cr_mpi_txn_patient(api->mpi, txn, j->id,
                                    j->kind == W_DELETE ? NULL : j->p->root,
                                    j->ms, err);
    }
    if (rc == CR_OK && j->x)
        rc = record_write(txn, j, err);
    return rc;
}

void
cr_api_version_headers(struct ctx *x, const char *type, const char *id,
                       int64_t version, int64_t ms, bool with_location)
{
    snprintf(x->etag, sizeof x->etag, "W/\"%lld\"", (long long)version);
    cr_http_resp_header(x->resp, "ETag", x->etag);
    if (ms > 0) {
        cr_clock_http_date(ms, x->last_modified, sizeof x->last_modified);
        cr_http_resp_header(x->resp, "Last-Modified", x->last_modified);
    }
    if (with_location) {
        snprintf(x->location, sizeof x->location, "%s/%s/%s/_history/%lld",
                 x->api->base_url, type, id, (long long)version);
        cr_http_resp_header(x->resp, "Location", x->location);
    }
}

/* Answer a successful write according to Prefer. 'json' may be NULL. */
void
cr_api_answer_write(struct ctx *x, unsigned status, const char *json, size_t len,
             const char *what)
{
    struct cr_buf b = cr_buf_make(0);

    if (x->prefer == PREFER_MINIMAL || (json == NULL &&
                                        x->prefer != PREFER_OUTCOME)) {
        x->resp->status = status;
        return;
    }
    if (x->prefer == PREFER_OUTCOME || json == NULL) {
        cr_api_outcome(x, status, "information", "informational", NULL, "%s",
                       what);
        return;
    }
    cr_buf_add(&b, json, len);
    cr_api_send_buf(x, status, &b);
}

/* If-Match: W/"3" or "3". Returns the version, 0 if absent, -1 if bad. */
int64_t
cr_api_parse_if_match(const char *h)
{
    char *end;
    long long v;

    if (h == NULL)
        return 0;
    if (strncmp(h, "W/", 2) == 0)
        h += 2;
    if (*h == '"')
        h++;
    if (*h < '0' || *h > '9')
        return -1;
    v = strtoll(h, &end, 10);
    if (*end == '"')
        end++;
    if (*end != '\0' || v < 1)
        return -1;
    return v;
}

/* If-None-Exist: "identifier=system|value", "identifier=value" or
 * "_id=x" (percent-encoding allowed). Full search criteria arrive with
 * the search module. */
cr_rc
cr_api_parse_condition(struct ctx *x, struct write_job *j, const char *h,
                       struct cr_err *err)
{
    struct cr_arena *a = x->req->arena;
    size_t len = strlen(h), i, o = 0;
    char *s = cr_arena_alloc(a, len + 1), *eq, *bar;

    if (s == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    if (h[0] == '?')
        h++, len--;
    for (i = 0; i < len; i++) {
        if (h[i] == '%' && i + 2 < len) {
            char hx[3] = { h[i + 1], h[i + 2], 0 };
            char *end;
            long c = strtol(hx, &end, 16);
            if (*end != '\0')
                goto bad;
            s[o++] = (char)c;
            i += 2;
        } else {
            s[o++] = h[i] == '+' ? ' ' : h[i];
        }
    }
    s[o] = '\0';
    if (strchr(s, '&'))
        goto bad;
    eq = strchr(s, '=');
    if (eq == NULL || eq[1] == '\0')
        goto bad;
    *eq = '\0';
    if (strcmp(s, "_id") == 0) {
        /* _id=x: exists iff that id is live. Reuse the token path by
         * asking for the resource directly. */
        j->cond_param = "_id";
        j->cond_code = eq + 1;
        return CR_OK;
    }
    if (strcmp(s, "identifier") != 0)
        goto bad;
    bar = strchr(eq + 1, '|');
    j->cond_param = "identifier";
    if (bar) {
        *bar = '\0';
        j->cond_system = eq + 1;
        j->cond_code = bar + 1;
    } else {
        j->cond_code = eq + 1;
    }
    if (j->cond_code[0] == '\0')
        goto bad;
    return CR_OK;
bad:
    return cr_err_set(err, CR_EINVAL, "not-supported", NULL,
                      "the condition '%.100s' is not supported: use "
                      "identifier=system|value or _id=id", h);
}

/* A write in flight: the request is suspended while the store's writer
 * commits it, so no server thread waits on the disk. */
struct pending_write {
    struct ctx *x;
    struct write_job *j;
    struct cr_api_queued q;
    struct cr_err err;
    cr_rc rc;
};

/* A conditional create found a match: it is returned like a read, so only
 * when the principal may see it. */
static void
answer_existing(struct ctx *x, const char *type, const char *id,
                const struct cr_store_meta *m, struct cr_buf *found)
{
    enum cr_policy_show show = cr_api_view_item(x, type, m, found->ptr,
                                                found->len, NULL);

    if (show == CR_POLICY_WITHHOLD) {
        cr_api_outcome(x, 200, "information", "informational", NULL,
                       "a matching resource exists (not one you may see); "
                       "nothing was created");
        return;
    }
    cr_api_version_headers(x, type, id, m->version, m->last_updated_ms,
                           true);
    if (show == CR_POLICY_SHOW_REDACTED) {
        struct cr_buf r = cr_buf_make(0);
        cr_api_view_add(&r, show, found->ptr, found->len);
        cr_api_answer_write(x, 200, r.ptr, r.len,
                            "a matching resource exists; nothing was "
                            "created");
        cr_buf_free(&r);
        return;
    }
    cr_api_answer_write(x, 200, found->ptr, found->len,
                        "a matching resource exists; nothing was created");
}

static void
answer_write_job(struct ctx *x, struct write_job *j, cr_rc rc,
                 const struct cr_err *err)
{
    if (j->p && j->p->has_patient)
        x->audit_patient = j->p->patient;
    if (rc != CR_OK) {
        cr_api_fail(x, err);
        return;
    }
    if (j->result == RES_EXISTING)
        cr_api_touch(x, j->type, j->found_id, j->found_meta.version);
    else if (j->id && j->result != RES_NO_MATCH)
        cr_api_touch(x, j->type, j->id, j->version);
    switch (j->result) {
    case RES_EXISTING:
        answer_existing(x, j->type, j->found_id, &j->found_meta,
                        &j->found);
        break;
    case RES_CREATED:
    case RES_UPDATED:
        cr_api_version_headers(x, j->type, j->id, j->version, j->ms, true);
        cr_api_answer_write(x, j->result == RES_CREATED ? 201 : 200, j->p->json.ptr,
                     j->p->json.len,
                     j->result == RES_CREATED ? "created" : "updated");
        break;
    case RES_DELETED:
        cr_api_version_headers(x, j->type, j->id, j->version, j->ms, false);
        cr_api_outcome(x, 200, "information", "informational", NULL,
                       "%s/%s deleted", j->type, j->id);
        break;
    case RES_ALREADY_DELETED:
        cr_api_version_headers(x, j->type, j->id, j->version, 0, false);
        cr_api_outcome(x, 200, "information", "informational", NULL,
                       "%s/%s was already deleted", j->type, j->id);
        break;
    case RES_NO_MATCH:
        cr_api_outcome(x, 200, "information", "informational", NULL,
                       "nothing matched; nothing was deleted");
        break;
    }
}

/* On a server thread, after the resume: answer. */
static void
write_answer(void *arg, struct cr_http_req *req, struct cr_http_resp *resp)
{
    struct pending_write *pw = arg;

    (void)req;
    pw->x->resp = resp;
    resp->principal = pw->x->who;
    answer_write_job(pw->x, pw->j, pw->rc, &pw->err);
    cr_api_audited_send(pw->x);
}

static void
free_found(void *arg)
{
    cr_buf_free(arg);
}

cr_rc
cr_api_write_allowed(struct ctx *x, struct write_job *j,
                     const struct cr_policy_decision **out_d,
                     struct cr_err *err)
{
    const struct cr_policy_decision *d;
    const char *patient = NULL;
    struct cr_store_meta m;
    struct cr_err rerr;

    *out_d = NULL;
    /* A Universal Care Plan is saved whole, so that its rules hold
     * together: its resources are written by $care-plan only. */
    if (j->p && !x->is_plan_write &&
        cr_careplan_is_plan_resource(j->p->root))
        return cr_err_set(err, CR_EINVAL, "business-rule", "meta.profile",
                          "%s declares a Universal Care Plan profile (%s...): "
                          "a care plan is saved whole, with POST "
                          "/fhir/Patient/{id}/$care-plan, so that its rules "
                          "are checked together", j->type,
                          CR_CAREPLAN_SD "UCP-");
#ifdef CR_BENCH_NO_ACCESS
    return CR_OK;
#endif
    if (j->p && j->p->has_patient &&
        !(j->kind == W_CREATE && strcmp(j->type, "Patient") == 0))
        patient = j->p->patient;
    if ((j->kind == W_DELETE || j->kind == W_UPDATE) && j->id) {
        cr_err_clear(&rerr);
        if (cr_store_read(x->api->store, j->type, j->id, NULL, &m, &rerr) ==
            CR_OK) {
            /* Each organisation's data is its own: another organisation
             * publishes its own resource rather than change this one. */
            if (strcmp(m.org, x->principal.org) != 0) {
                *out_d = NULL;
                return cr_err_set(err, CR_EFORBIDDEN, "forbidden", NULL,
                                  "%s/%s was published by another "
                                  "organisation (%s); only it may change "
                                  "or delete it (rule: organisation)",
                                  j->type, j->id, m.org);
            }
            if (j->kind == W_DELETE && m.patient[0])
                patient = cr_arena_strndup(x->req->arena, m.patient,
                                           strlen(m.patient));
        }
    }
    d = cr_api_view_write(x, j->type, patient);
    *out_d = d;
    if (d == NULL)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "the access rules could not be checked, so "
                          "nothing was written; try again");
    /* a replaced-by link merges records: not everyone may */
    if (d->is_allowed && strcmp(j->type, "Patient") == 0 &&
        j->kind != W_DELETE) {
        const struct cr_policy_decision *no = cr_api_mpi_write_refusal(x, j);
        if (no)
            d = *out_d = no;
    }
    if (!d->is_allowed)
        return cr_err_set(err, CR_EFORBIDDEN, "forbidden", NULL,
                          "%s (rule: %s)", d->msg, d->code);
    return CR_OK;
}

/* May the principal make this write? Answers 403 (or 500 when the facts
 * cannot be read) and returns false when not. */
static bool
may_write(struct ctx *x, struct write_job *j)
{
    const struct cr_policy_decision *d;
    struct cr_err err;
    cr_rc rc;

    cr_err_clear(&err);
    rc = cr_api_write_allowed(x, j, &d, &err);
    if (rc == CR_OK)
        return true;
    if (rc == CR_EINVAL) {
        cr_api_fail(x, &err);
        return false;
    }
    if (d != NULL || rc != CR_EFORBIDDEN)
        cr_api_view_deny(x, d);
    else
        cr_api_view_refusal(x, "organisation", err.msg);
    return false;
}

static void
run_write(struct ctx *x, struct write_job *j)
{
    struct pending_write *pw;

    if (!may_write(x, j))
        return;
    pw = cr_arena_calloc(x->req->arena, 1, sizeof *pw);
    if (pw == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return;
    }
    pw->x = x;
    pw->j = j;
    j->found = cr_buf_make(0);
    cr_arena_on_destroy(x->req->arena, free_found, &j->found);
    if (!cr_api_queue_write(x, &pw->q, &pw->rc, &pw->err,
                            cr_api_write_in_txn, j, write_answer, pw))
        answer_write_job(x, j, pw->rc, &pw->err);
}

static void
free_prepared(void *arg)
{
    cr_api_prepared_free(arg);
}

/* A job and a prepared resource that live as long as the request. */
static bool
new_job(struct ctx *x, struct write_job **out_j, struct prepared **out_p)
{
    struct write_job *j = cr_arena_calloc(x->req->arena, 1, sizeof *j);
    struct prepared *p = out_p ? cr_arena_calloc(x->req->arena, 1,
                                                 sizeof *p) : NULL;

    if (j == NULL || (out_p && p == NULL)) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return false;
    }
    if (p) {
        p->json = cr_buf_make(0);
        cr_arena_on_destroy(x->req->arena, free_prepared, p);
        *out_p = p;
    }
    j->x = x;
    j->api = x->api;
    *out_j = j;
    return true;
}

void
cr_api_create_resource(struct ctx *x)
{
    struct write_job *j;
    struct prepared *p;
    struct cr_err err;
    const char *ine;
    char *id;

    cr_err_clear(&err);
    if (!cr_api_check_content_type(x) || !new_job(x, &j, &p))
        return;
    if (cr_api_parse_resource(x, x->route.type, NULL, p, &err) != CR_OK) {
        cr_api_fail(x, &err);
        return;
    }
    ine = cr_http_header(x->req, "If-None-Exist");
    if (ine && cr_api_parse_condition(x, j, ine, &err) != CR_OK) {
        cr_api_fail(x, &err);
        return;
    }
    id = cr_arena_alloc(x->req->arena, 37);
    if (id == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return;
    }
    cr_api_new_id(id);
    j->kind = W_CREATE;
    j->p = p;
    j->type = x->route.type;
    j->id = id;
    j->org = x->principal.org;
    if (j->cond_param && strcmp(j->cond_param, "_id") == 0) {
        /* _id: the condition is the resource itself. */
        struct cr_store_meta m;
        struct cr_buf b = cr_buf_make(0);
        cr_rc rc = cr_store_read(x->api->store, j->type, j->cond_code, &b,
                                 &m, &err);
        if (rc == CR_OK) {
            answer_existing(x, j->type, j->cond_code, &m, &b);
            cr_buf_free(&b);
            return;
        }
        cr_buf_free(&b);
        j->cond_param = NULL;
    }
    run_write(x, j);
}

void
cr_api_update(struct ctx *x)
{
    struct write_job *j;
    struct prepared *p;
    struct cr_err err;
    int64_t if_match = cr_api_parse_if_match(cr_http_header(x->req, "If-Match"));

    cr_err_clear(&err);
    if (if_match < 0) {
        cr_api_outcome(x, 400, "error", "value", NULL,
                       "If-Match must be a version ETag such as W/\"3\"");
        return;
    }
    if (!cr_api_check_content_type(x) || !new_job(x, &j, &p))
        return;
    if (cr_api_parse_resource(x, x->route.type, x->route.id, p, &err) !=
        CR_OK) {
        cr_api_fail(x, &err);
        return;
    }
    j->if_match = if_match;
    j->kind = W_UPDATE;
    j->p = p;
    j->type = x->route.type;
    j->id = x->route.id;
    j->org = x->principal.org;
    run_write(x, j);
}

void
cr_api_delete(struct ctx *x)
{
    struct write_job *j;
    int64_t if_match = cr_api_parse_if_match(cr_http_header(x->req, "If-Match"));

    if (if_match < 0) {
        cr_api_outcome(x, 400, "error", "value", NULL,
                       "If-Match must be a version ETag such as W/\"3\"");
        return;
    }
    if (!new_job(x, &j, NULL))
        return;
    j->if_match = if_match;
    j->kind = W_DELETE;
    j->type = x->route.type;
    j->id = x->route.id;
    j->org = x->principal.org;
    run_write(x, j);
}

static void
answer_read(struct ctx *x, cr_rc rc, struct cr_buf *b,
            const struct cr_store_meta *m, const struct cr_err *err)
{
    const char *type = x->route.type, *id = x->route.id;

    if (m->patient[0] && (rc == CR_OK || rc == CR_EGONE))
        x->audit_patient = cr_arena_strndup(x->req->arena, m->patient,
                                            strlen(m->patient));
    if (rc == CR_OK || rc == CR_EGONE) {
        /* A refusal about the person is said as such; an item withheld
         * for what it is answers as if it did not exist. */
        enum cr_policy_withhold why;
        enum cr_policy_show show = cr_api_view_item(
            x, type, m, rc == CR_OK ? b->ptr : "", rc == CR_OK ? b->len : 0,
            &why);
        if (show == CR_POLICY_WITHHOLD) {
            cr_buf_free(b);
            if (cr_api_view_refuse(x, m, why))
                return;
            rc = CR_ENOTFOUND;
        } else if (rc == CR_OK && show == CR_POLICY_SHOW_REDACTED) {
            struct cr_buf r = cr_buf_make(0);
            cr_api_view_add(&r, show, b->ptr, b->len);
            cr_buf_free(b);
            *b = r;
        }
    }
    if (rc == CR_OK) {
        cr_api_version_headers(x, type, id, m->version, m->last_updated_ms,
                               false);
        cr_api_touch(x, type, id, m->version);
        cr_api_send_buf(x, 200, b);
        return;
    }
    cr_buf_free(b);
    if (rc == CR_ENOTFOUND) {
        if (x->route.kind == R_VERSION)
            cr_api_outcome(x, 404, "error", "not-found", NULL,
                           "%s/%s has no version %lld", type, id,
                           (long long)x->route.version);
        else
            cr_api_outcome(x, 404, "error", "not-found", NULL,
                           "%s/%s is not known to this server", type, id);
    } else if (rc == CR_EGONE) {
        cr_api_version_headers(x, type, id, m->version, m->last_updated_ms,
                               false);
        cr_api_outcome(x, 410, "error", "deleted", NULL,
                       "%s/%s was deleted (version %lld); its history is "
                       "still readable at %s/%s/_history", type, id,
                       (long long)m->version, type, id);
    } else {
        cr_api_fail(x, err);
    }
}

void
cr_api_read(struct ctx *x)
{
    struct cr_buf b = cr_buf_make(0);
    struct cr_store_meta m;
    struct cr_err err;
    cr_rc rc;

    cr_err_clear(&err);
    rc = cr_store_read(x->api->store, x->route.type, x->route.id, &b, &m,
                       &err);
    answer_read(x, rc, &b, &m, &err);
}

void
cr_api_vread(struct ctx *x)
{
    struct cr_buf b = cr_buf_make(0);
    struct cr_store_meta m;
    struct cr_err err;
    cr_rc rc;

    cr_err_clear(&err);
    rc = cr_store_vread(x->api->store, x->route.type, x->route.id,
                        x->route.version, &b, &m, &err);
    answer_read(x, rc, &b, &m, &err);
}

/* The query of a conditional update or delete as one condition text
 * ("identifier=..." or "_id=..."). */
struct cond_args {
    const char *name;
    const char *value;
    int n;
};

static bool
take_cond(void *ctx, const char *name, const char *value)
{
    struct cond_args *c = ctx;

    if (strcmp(name, "_format") == 0)
        return true;
    c->name = name;
    c->value = value;
    c->n++;
    return true;
}

static bool
condition_from_query(struct ctx *x, struct write_job *j)
{
    struct cond_args c = { NULL, NULL, 0 };
    struct cr_err err;
    size_t n;
    char *text;

    cr_err_clear(&err);
    cr_http_args(x->req, take_cond, &c);
    if (c.n != 1 || (strcmp(c.name, "identifier") != 0 &&
                     strcmp(c.name, "_id") != 0)) {
        cr_api_outcome(x, 400, "error", "not-supported", NULL,
                       "a conditional %s takes one condition: "
                       "identifier=system|value (or _id=id)",
                       j->kind == W_DELETE ? "delete" : "update");
        return false;
    }
    n = strlen(c.name) + strlen(c.value) + 2;
    text = cr_arena_alloc(x->req->arena, n);
    if (text == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return false;
    }
    /* already decoded: encode '%' so the condition parser leaves it */
    snprintf(text, n, "%s=%s", c.name, c.value);
    if (strchr(c.value, '%')) {
        cr_api_outcome(x, 400, "error", "not-supported", NULL,
                       "the condition value may not contain '%%'");
        return false;
    }
    if (cr_api_parse_condition(x, j, text, &err) != CR_OK) {
        cr_api_fail(x, &err);
        return false;
    }
    if (strcmp(j->cond_param, "_id") == 0) {
        /* _id=x is the resource x itself: act on it directly */
        j->id = j->cond_code;
        j->cond_param = NULL;
    }
    return true;
}

void
cr_api_conditional_update(struct ctx *x)
{
    struct write_job *j;
    struct prepared *p;
    struct cr_err err;
    char *id;

    cr_err_clear(&err);
    if (!cr_api_check_content_type(x) || !new_job(x, &j, &p))
        return;
    j->kind = W_UPDATE;
    if (!condition_from_query(x, j))
        return;
    if (cr_api_parse_resource(x, x->route.type, NULL, p, &err) != CR_OK) {
        cr_api_fail(x, &err);
        return;
    }
    if (j->id == NULL) {
        /* no match: create, with the body's id if it has one */
        json_t *bid = json_object_get(p->root, "id");
        id = cr_arena_alloc(x->req->arena, 65);
        if (id == NULL) {
            cr_api_outcome(x, 503, "error", "transient", NULL,
                           "the server is out of memory; try again shortly");
            return;
        }
        if (json_is_string(bid))
            snprintf(id, 65, "%s", json_string_value(bid));
        else
            cr_api_new_id(id);
        j->id = id;
    }
    j->p = p;
    j->type = x->route.type;
    j->org = x->principal.org;
    run_write(x, j);
}

void
cr_api_conditional_delete(struct ctx *x)
{
    struct write_job *j;

    if (!new_job(x, &j, NULL))
        return;
    j->kind = W_DELETE;
    if (!condition_from_query(x, j))
        return;
    j->type = x->route.type;
    j->org = x->principal.org;
    if (j->id == NULL)
        j->id = "";
    run_write(x, j);
}
