/* api.c: one request in: authenticate, negotiate, route to the
 * interaction. The verified principal is put in the request context here;
 * policy and audit (access/, audit/) hook in at this seam, before any
 * interaction touches the store. Paths under /federation/ are the node-
 * to-node endpoints (locator_ep.c). Depends on access/, http/, store/,
 * fhir/, federation/, core/. */
#include "api/apiInt.h"

#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

cr_rc
cr_api_create(struct cr_store *store, struct cr_keys *keys,
              const struct cr_api_config *cfg, struct cr_api **out,
              struct cr_err *err)
{
    struct cr_api *a = calloc(1, sizeof *a);
    size_t n;

    if (a == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    a->store = store;
    a->keys = keys;
    a->fed = cfg->fed;
    if (cr_policy_load(cfg->policy, &a->policy, err) != CR_OK) {
        free(a);
        return err ? err->rc : CR_EINVAL;
    }
    if (cr_api_facts_init(a, err) != CR_OK) {
        cr_policy_destroy(a->policy);
        free(a);
        return err ? err->rc : CR_ENOMEM;
    }
    if (cr_audit_open(store, &cfg->audit, &a->audit, err) != CR_OK) {
        cr_api_facts_free(a);
        cr_policy_destroy(a->policy);
        free(a);
        return err ? err->rc : CR_EIO;
    }
    {
        struct cr_mpi_config mc;
        if (cr_mpi_config_load(cfg->mpi, &mc, err) != CR_OK ||
            cr_mpi_create(store, &mc, &a->mpi, err) != CR_OK) {
            cr_audit_close(a->audit);
            cr_api_facts_free(a);
            cr_policy_destroy(a->policy);
            free(a);
            return err ? err->rc : CR_EINVAL;
        }
    }
    a->cfg = *cfg;
    if (a->cfg.max_body == 0)
        a->cfg.max_body = 8u << 20;
    if (a->cfg.max_json_depth <= 0)
        a->cfg.max_json_depth = 64;
    if (a->cfg.default_count <= 0)
        a->cfg.default_count = 50;
    if (a->cfg.max_count <= 0)
        a->cfg.max_count = 1000;
    if (a->cfg.max_bundle_entries <= 0)
        a->cfg.max_bundle_entries = 1000;
    if (a->cfg.max_response == 0)
        a->cfg.max_response = 64u << 20;
    a->cfg.policy = NULL;
    a->cfg.mpi = NULL;
    a->base_url = strdup(cfg->base_url ? cfg->base_url : "");
    if (a->base_url == NULL) {
        cr_mpi_destroy(a->mpi);
        cr_audit_close(a->audit);
        cr_api_facts_free(a);
        cr_policy_destroy(a->policy);
        free(a);
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    }
    n = strlen(a->base_url);
    while (n && a->base_url[n - 1] == '/')
        a->base_url[--n] = '\0';
    a->cfg.base_url = a->base_url;
    *out = a;
    return CR_OK;
}

void
cr_api_destroy(struct cr_api *api)
{
    if (api == NULL)
        return;
    cr_mpi_destroy(api->mpi);
    cr_audit_close(api->audit);
    cr_api_facts_free(api);
    cr_policy_destroy(api->policy);
    free(api->base_url);
    free(api);
}

/* Answer 401 with an RFC 6750 challenge: without error details when no
 * token was sent, with error="invalid_token" and the reason otherwise. */
static void
unauthorized(struct ctx *x, bool has_token, const char *msg)
{
    char *chal = NULL;
    size_t n = strlen(msg), i;

    if (has_token) {
        chal = cr_arena_alloc(x->req->arena, n + 96);
        if (chal) {
            int off = snprintf(chal, n + 96, "Bearer realm=\"carerecord\", "
                               "error=\"invalid_token\", "
                               "error_description=\"");
            for (i = 0; i < n; i++)
                chal[off++] = (msg[i] == '"' || msg[i] == '\\' ||
                               (unsigned char)msg[i] < 32) ? '\'' : msg[i];
            chal[off++] = '"';
            chal[off] = '\0';
        }
    }
    cr_http_resp_header(x->resp, "WWW-Authenticate",
                        chal ? chal : "Bearer realm=\"carerecord\"");
    cr_api_outcome(x, 401, "error", "login", NULL, "%s", msg);
}

/* Verify the bearer token. Answers 401 and returns false when missing or
 * not valid. */
static bool
authenticate(struct ctx *x)
{
    const char *h = cr_http_header(x->req, "Authorization");
    struct cr_err err;
    char *who;

    if (h == NULL) {
        unauthorized(x, false, "authentication required: send "
                               "Authorization: Bearer <token>");
        return false;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        unauthorized(x, false, "the Authorization header must be "
                               "'Bearer <token>'");
        return false;
    }
    h += 7;
    while (*h == ' ')
        h++;
    cr_err_clear(&err);
    if (cr_token_verify(x->api->keys, h, strlen(h), cr_clock_now_ms() / 1000,
                        &x->principal, &err) != CR_OK) {
        unauthorized(x, true, err.msg[0] ? err.msg : "the token is not valid");
        return false;
    }
    x->is_authenticated = true;
    if (x->principal.via[0]) {
        /* A peer's node token: the user, asking through that node. */
        x->via = x->principal.via;
        x->is_tagged = true;
    }
    who = cr_arena_alloc(x->req->arena, 200);
    if (who) {
        snprintf(who, 200, "%s@%s/%s", x->principal.sub, x->principal.org,
                 x->principal.role);
        x->resp->principal = who;
        x->who = who;
    }
    return true;
}

static void
method_not_allowed(struct ctx *x, const char *allowed)
{
    cr_http_resp_header(x->resp, "Allow", allowed);
    cr_api_outcome(x, 405, "error", "not-supported", NULL,
                   "%s is not allowed on %s (allowed: %s)", x->req->method,
                   x->req->path, allowed);
}

static bool
is(const struct ctx *x, const char *method)
{
    return strcmp(x->req->method, method) == 0;
}

static void
dispatch(struct ctx *x)
{
    /* The audit log is not a stored type: its own file answers for it. */
    if (x->route.type && strcmp(x->route.type, "AuditEvent") == 0) {
        cr_api_auditevent(x);
        return;
    }
    switch (x->route.kind) {
    case R_METADATA:
        if (is(x, "GET") || is(x, "HEAD"))
            cr_api_metadata(x);
        else
            method_not_allowed(x, "GET");
        return;
    case R_SYSTEM:
        if (is(x, "POST"))
            cr_api_bundle(x);
        else
            method_not_allowed(x, "POST");
        return;
    case R_SYSTEM_HIST:
    case R_TYPE_HIST:
    case R_INST_HIST:
        if (is(x, "GET"))
            cr_api_history(x);
        else
            method_not_allowed(x, "GET");
        return;
    case R_TYPE:
        if (is(x, "POST"))
            cr_api_create_resource(x);
        else if (is(x, "GET")) {
            if (strcmp(x->route.type, "Patient") == 0)
                cr_api_fed_begin(x);
            cr_api_search(x);
        }
        else if (is(x, "PUT"))
            cr_api_conditional_update(x);
        else if (is(x, "DELETE"))
            cr_api_conditional_delete(x);
        else
            method_not_allowed(x, "GET, POST, PUT, DELETE");
        return;
    case R_TYPE_SEARCH:
        if (is(x, "POST") || is(x, "GET"))
            cr_api_search(x);
        else
            method_not_allowed(x, "POST");
        return;
    case R_INSTANCE:
        if (is(x, "GET") || is(x, "HEAD"))
            cr_api_read(x);
        else if (is(x, "PUT"))
            cr_api_update(x);
        else if (is(x, "DELETE"))
            cr_api_delete(x);
        else
            method_not_allowed(x, "GET, PUT, DELETE");
        return;
    case R_SYSTEM_OP:
        if (strcmp(x->route.op, "import") == 0) {
            if (is(x, "POST"))
                cr_api_import_op(x);
            else
                method_not_allowed(x, "POST");
            return;
        }
        if (strcmp(x->route.op, "audit-report") == 0) {
            if (is(x, "GET"))
                cr_api_audit_report_op(x);
            else
                method_not_allowed(x, "GET");
            return;
        }
        if (strcmp(x->route.op, "care-plan-figures") == 0) {
            if (is(x, "GET"))
                cr_api_care_plan_figures(x);
            else
                method_not_allowed(x, "GET");
            return;
        }
        if (strcmp(x->route.op, "audit-review") == 0) {
            if (is(x, "POST")) {
                cr_api_audit_review_op(x);
            } else {
                x->has_action = true;
                x->action = CR_AUDIT_REVIEW;
                method_not_allowed(x, "POST");
            }
            return;
        }
        cr_api_outcome(x, 404, "error", "not-supported", NULL,
                       "operation $%.60s is not supported; see "
                       "/fhir/metadata", x->route.op);
        return;
    case R_TYPE_OP:
    case R_INSTANCE_OP:
        if (cr_api_mpi_dispatch(x))
            return;
        if (strcmp(x->route.op, "everything") == 0 &&
            strcmp(x->route.type, "Patient") == 0) {
            cr_api_fed_begin(x);
            if (is(x, "GET"))
                cr_api_everything(x);
            else
                method_not_allowed(x, "GET");
            return;
        }
        if (strcmp(x->route.op, "care-plan") == 0 &&
            strcmp(x->route.type, "Patient") == 0) {
            if (is(x, "POST"))
                cr_api_care_plan_op(x);
            else
                method_not_allowed(x, "POST");
            return;
        }
        if (strcmp(x->route.op, "care-plan-summary") == 0 &&
            strcmp(x->route.type, "Patient") == 0) {
            cr_api_fed_begin(x);
            if (is(x, "GET"))
                cr_api_care_plan_summary(x);
            else
                method_not_allowed(x, "GET");
            return;
        }
        cr_api_outcome(x, 404, "error", "not-supported", NULL,
                       "operation $%.60s is not supported on %s; see "
                       "/fhir/metadata", x->route.op, x->route.type);
        return;
    case R_VERSION:
        if (is(x, "GET") || is(x, "HEAD"))
            cr_api_vread(x);
        else
            method_not_allowed(x, "GET");
        return;
    }
}

static void
handle(struct ctx *x)
{
    struct cr_http_req *req = x->req;
    struct cr_err err;
    cr_rc rc;

    cr_err_clear(&err);
    if (strncmp(req->path, "/federation/", 12) == 0) {
        /* Between nodes: not FHIR, not about one patient's record. */
        x->is_unaudited = true;
        if (authenticate(x))
            cr_api_federation(x);
        return;
    }
    rc = cr_api_route(x, &err);
    if (rc == CR_ENOTFOUND && err.rc == CR_OK) {
        cr_api_outcome(x, 404, "error", "not-found", NULL,
                       "no such endpoint: %s (the FHIR API is under /fhir)",
                       req->path);
        return;
    }
    /* The body limit is a transport matter, but it is answered in FHIR. */
    if (req->transport_error == CR_ETOOBIG) {
        cr_api_outcome(x, 413, "error", "too-costly", NULL,
                       "the request body is larger than this server accepts "
                       "(%zu bytes); split the data into smaller requests",
                       req->body_limit);
        return;
    }
    if (!cr_api_negotiate(x))
        return;
    if (!(rc == CR_OK && x->route.kind == R_METADATA) && !authenticate(x))
        return;
    if (rc != CR_OK) {
        cr_api_fail(x, &err);
        return;
    }
    dispatch(x);
}

void
cr_api_handle(void *api, struct cr_http_req *req, struct cr_http_resp *resp)
{
    struct ctx *x = cr_arena_calloc(req->arena, 1, sizeof *x);

    if (x == NULL) {
        resp->status = 503;
        return;
    }
    x->api = api;
    x->req = req;
    x->resp = resp;
    x->t0_us = cr_clock_mono_us();
    cr_api_audit_begin(x);
    handle(x);
    /* A write answers later, from its continuation, which ends the same
     * way; here, anything answered now is recorded before it is sent,
     * unless it is a federated read, whose merged answer is. */
    if (resp->status != 0 && !cr_api_fed_step(x))
        cr_api_audited_send(x);
}
