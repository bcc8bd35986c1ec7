/* mpi_op.c: the patient index over FHIR: routing, who may change it,
 * and what its operations share (reading Parameters, a Patient as
 * stored).
 *
 *   POST /fhir/Patient/$match        mpi_match.c
 *   POST /fhir/Patient/$merge        mpi_merge.c
 *   POST /fhir/Patient/$unmerge      mpi_merge.c
 *   GET  /fhir/Patient/$ihe-pix      mpi_pix.c
 *   GET  /fhir/Patient/$mpi-review   mpi_review.c
 *   POST /fhir/Patient/$mpi-review   mpi_review.c
 *
 * Every Patient these answers carry passes the access view like a search
 * result; changes are ordinary Patient updates (the index follows the
 * replaced-by link in the same transaction) or index decisions, with
 * their audit record in that transaction. docs/mpi.md describes the
 * operations for users. Depends on mpi/, store/, fhir/, access/, core/,
 * jansson. */
#include "api/apiInt.h"

#include "core/jsontext.h"
#include "fhir/fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MERGE_ROLE "R8008"   /* Admin/Clinical Support: registration staff */

/* ---- who may merge ---- */

const struct cr_policy_decision *
cr_api_mpi_refusal(struct ctx *x)
{
    const struct cr_principal *p = &x->principal;
    struct cr_policy_decision *d;
    bool is_system = strcmp(p->purpose, "system") == 0;

    if (is_system || (strcmp(p->purpose, "direct-care") == 0 &&
                      strcmp(p->role, MERGE_ROLE) == 0))
        return NULL;
    d = cr_arena_calloc(x->req->arena, 1, sizeof *d);
    if (d == NULL) {
        /* out of memory: still no (fail closed), without the detail */
        static const struct cr_policy_decision oom = {
            .is_allowed = false, .code = "role-not-permitted",
            .msg = "the server is out of memory; try again shortly" };
        return &oom;
    }
    d->is_allowed = false;
    d->code = strcmp(p->purpose, "direct-care") == 0
                  ? cr_policy_deny_code(CR_POLICY_DENY_ROLE)
                  : cr_policy_deny_code(CR_POLICY_DENY_PURPOSE);
    snprintf(d->msg, sizeof d->msg, "merging patient records and the "
             "review list are for source systems (purpose system) and "
             "registration staff (role " MERGE_ROLE " Admin/Clinical "
             "Support, purpose direct-care); you signed in as %s with "
             "purpose %s", p->role, p->purpose);
    return d;
}

const struct cr_policy_decision *
cr_api_mpi_write_refusal(struct ctx *x, const struct write_job *j)
{
    const struct cr_policy_decision *no = cr_api_mpi_refusal(x);
    char target[65], now_end[65], new_end[65];
    struct cr_err err;

    if (no == NULL || j->p == NULL || j->p->root == NULL)
        return NULL;
    cr_err_clear(&err);
    /* a malformed link is the write's own 400, found in its transaction */
    if (cr_mpi_replaced_by(j->p->root, target, &err) != CR_OK)
        return NULL;
    if (cr_store_alias_resolve(x->api->store, "Patient", j->id, now_end,
                               &err) != CR_OK)
        return no;   /* cannot tell: no */
    if (target[0] == '\0')
        return strcmp(now_end, j->id) == 0 ? NULL : no;   /* unmerge */
    if (strcmp(now_end, j->id) == 0)
        return no;                                        /* merge */
    if (cr_store_alias_resolve(x->api->store, "Patient", target, new_end,
                               &err) != CR_OK)
        return no;
    return strcmp(new_end, now_end) == 0 ? NULL : no;     /* re-merge */
}

/* ---- reading a Parameters body ---- */

/* The body as a Parameters resource (checked against R4), or NULL after
 * answering. The caller owns the result. */
json_t *
cr_api_params_body(struct ctx *x)
{
    struct cr_err err;
    json_error_t jerr;
    json_t *root;
    const char *rt;

    if (!cr_api_check_content_type(x))
        return NULL;
    if (x->req->body_len == 0) {
        cr_api_outcome(x, 400, "error", "required", NULL,
                       "$%s takes a Parameters resource in the body",
                       x->route.op);
        return NULL;
    }
    if (cr_jsontext_depth(x->req->body, x->req->body_len,
                          x->api->cfg.max_json_depth) >
        x->api->cfg.max_json_depth) {
        cr_api_outcome(x, 400, "error", "structure", NULL,
                       "the JSON nests deeper than %d levels",
                       x->api->cfg.max_json_depth);
        return NULL;
    }
    root = json_loadb(x->req->body, x->req->body_len,
                      JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        cr_api_outcome(x, 400, "error", "structure", NULL,
                       "the body is not valid JSON: %s (line %d, column %d)",
                       jerr.text, jerr.line, jerr.column);
        return NULL;
    }
    rt = json_string_value(json_object_get(root, "resourceType"));
    if (rt == NULL || strcmp(rt, "Parameters") != 0) {
        cr_api_outcome(x, 400, "error", "invalid", "resourceType",
                       "$%s takes a Parameters resource", x->route.op);
        json_decref(root);
        return NULL;
    }
    cr_err_clear(&err);
    if (cr_fhir_validate_any(root, &err) != CR_OK) {
        cr_api_fail(x, &err);
        json_decref(root);
        return NULL;
    }
    return root;
}

/* The parameter 'name' (its object), or NULL; *out_n (may be NULL) how
 * many there are. */
json_t *
cr_api_params_get(json_t *params, const char *name, size_t *out_n)
{
    json_t *p, *first = NULL;
    size_t i, n = 0;

    json_array_foreach(json_object_get(params, "parameter"), i, p) {
        const char *pn = json_string_value(json_object_get(p, "name"));
        if (pn && strcmp(pn, name) == 0) {
            if (first == NULL)
                first = p;
            n++;
        }
    }
    if (out_n)
        *out_n = n;
    return first;
}

/* Only the parameters in 'known' (NULL-terminated) may appear. Answers
 * 400 and returns false otherwise. */
bool
cr_api_params_only(struct ctx *x, json_t *params, const char *const *known)
{
    json_t *p;
    size_t i;

    json_array_foreach(json_object_get(params, "parameter"), i, p) {
        const char *pn = json_string_value(json_object_get(p, "name"));
        const char *const *k;
        for (k = known; *k; k++)
            if (pn && strcmp(pn, *k) == 0)
                break;
        if (*k == NULL) {
            cr_api_outcome(x, 400, "error", "not-supported", NULL,
                           "$%s does not take the parameter '%.60s'",
                           x->route.op, pn ? pn : "");
            return false;
        }
    }
    return true;
}

/* The Parameters of a request that changes the index (merges, review
 * decisions): refused unless the principal may (cr_api_mpi_refusal), then
 * read and checked to hold only the parameters in 'known'. NULL after
 * answering. The caller owns the result. */
json_t *
cr_api_mpi_change_params(struct ctx *x, const char *const *known)
{
    const struct cr_policy_decision *no = cr_api_mpi_refusal(x);
    json_t *params;

    if (no) {
        cr_api_view_deny(x, no);
        return NULL;
    }
    params = cr_api_params_body(x);
    if (params && !cr_api_params_only(x, params, known)) {
        json_decref(params);
        return NULL;
    }
    return params;
}

/* The Patient id a Reference names ("Patient/x", or this server's URL),
 * copied to the request's arena (it outlives the body: the audit record
 * names it), or NULL. */
const char *
cr_api_params_patient(struct ctx *x, json_t *ref)
{
    const char *r = json_string_value(json_object_get(ref, "reference"));
    size_t n = strlen(x->api->base_url);

    if (r == NULL)
        return NULL;
    if (n && strncmp(r, x->api->base_url, n) == 0 && r[n] == '/')
        r += n + 1;
    if (strncmp(r, "Patient/", 8) != 0 || !cr_fhir_valid_id(r + 8,
                                                            strlen(r + 8)))
        return NULL;
    return cr_arena_strndup(x->req->arena, r + 8, strlen(r + 8));
}

/* ---- a Patient as stored ---- */

void
cr_api_mpi_rec_free(struct cr_api_mpi_rec *r)
{
    cr_buf_free(&r->json);
    json_decref(r->root);
    r->root = NULL;
}

bool
cr_api_mpi_rec_read(struct ctx *x, const char *id, struct cr_api_mpi_rec *r)
{
    struct cr_err err;
    cr_rc rc;

    r->id = id;
    r->json = cr_buf_make(0);
    cr_err_clear(&err);
    rc = cr_store_read(x->api->store, "Patient", id, &r->json, &r->meta,
                       &err);
    if (rc == CR_ENOTFOUND || rc == CR_EGONE) {
        cr_api_outcome(x, rc == CR_EGONE ? 410 : 404, "error",
                       rc == CR_EGONE ? "deleted" : "not-found", NULL,
                       "Patient/%s %s", id,
                       rc == CR_EGONE ? "was deleted"
                                      : "is not known to this server");
        return false;
    }
    if (rc != CR_OK) {
        cr_api_fail(x, &err);
        return false;
    }
    r->root = json_loadb(r->json.ptr, r->json.len, 0, NULL);
    if (r->root == NULL) {
        cr_api_outcome(x, 500, "fatal", "exception", NULL,
                       "Patient/%s could not be read", id);
        return false;
    }
    return true;
}

/* ---- routing ---- */

static bool
is(const struct ctx *x, const char *method)
{
    return strcmp(x->req->method, method) == 0;
}

static void
not_allowed(struct ctx *x, const char *allowed)
{
    cr_http_resp_header(x->resp, "Allow", allowed);
    cr_api_outcome(x, 405, "error", "not-supported", NULL,
                   "%s is not allowed on %s (allowed: %s)", x->req->method,
                   x->req->path, allowed);
}

bool
cr_api_mpi_dispatch(struct ctx *x)
{
    const char *op = x->route.op;

    if (x->route.kind != R_TYPE_OP || strcmp(x->route.type, "Patient") != 0)
        return false;
    /* audited as what they are: queries, or changes to patient records */
    x->has_action = true;
    x->action = is(x, "POST") && strcmp(op, "match") != 0 ? CR_AUDIT_UPDATE
                                                          : CR_AUDIT_SEARCH;
    if (strcmp(op, "match") == 0) {
        if (is(x, "POST"))
            cr_api_mpi_match(x);
        else
            not_allowed(x, "POST");
    } else if (strcmp(op, "merge") == 0 || strcmp(op, "unmerge") == 0) {
        if (is(x, "POST"))
            cr_api_mpi_merge(x, strcmp(op, "merge") == 0);
        else
            not_allowed(x, "POST");
    } else if (strcmp(op, "ihe-pix") == 0) {
        if (is(x, "GET"))
            cr_api_mpi_pix(x);
        else
            not_allowed(x, "GET");
    } else if (strcmp(op, "mpi-review") == 0) {
        if (is(x, "GET"))
            cr_api_mpi_review_list(x);
        else if (is(x, "POST"))
            cr_api_mpi_review_decide(x);
        else
            not_allowed(x, "GET, POST");
    } else {
        x->has_action = false;
        return false;
    }
    return true;
}

