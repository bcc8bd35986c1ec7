/* fed_step.c: a federated read: this node's answer and its peers', merged.
 *
 * Patient/$everything (by NHS number, or by id when the Patient has one),
 * Patient search and the care plan summary (careplan_fed.c merges that
 * one), asked by a clinician or a patient, are answered by
 * this node as usual (through the view: the access policy applied to the
 * user), with each entry tagged with its publisher and this node. Then the
 * answer is set aside, the request waits (suspended, holding no thread)
 * while federation/ sends the same read to the peers the record locator
 * names, and when they have answered or the deadline has passed the
 * answers are merged into one searchset Bundle:
 *
 *  - this node's entries first, then each peer's, in the configured order;
 *  - the same resource (type and id) from two nodes appears once;
 *  - a patient objection that any node reports (or this node found) keeps
 *    every organisation's entries but the user's own out of the answer,
 *    whichever node sent them (the Patient and directory data stay);
 *  - a peer that refused, failed or was late becomes an OperationOutcome
 *    entry (search mode outcome) naming it: the read itself never fails
 *    for a peer's sake.
 *
 * The merged answer is audited here (audit_step.c) as one request by the
 * user: this node's resources as "Type/id/_history/v", the peers' as
 * absolute URLs on their bases. Each peer audits its own part, naming the
 * user and this node (via).
 *
 * A read that comes from a peer (a node token) is answered from this node
 * only, tagged, with the objection header when an objection is in force.
 *
 * Depends on federation/, http/, core/. docs/internals/federation.md. */
#include "api/apiInt.h"

#include "core/clock.h"
#include "core/jsontext.h"
#include "fhir/fhir.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum fed_kind { FED_EVERYTHING, FED_SEARCH, FED_SUMMARY };

struct fedreq {
    enum fed_kind kind;
    const char *nhs;                /* the NHS number asked about, or NULL */
    struct cr_http_pending *pending;
    struct cr_fed_result *res;      /* from the fan-out thread */
    struct cr_http_resp local;      /* this node's answer, set aside */
};

/* Types outside every patient's compartment (directory data): an
 * objection never withholds them. */
static const char *const directory_types[] = {
    "Endpoint", "HealthcareService", "Location", "Medication",
    "Organization", "Practitioner", "PractitionerRole", "Questionnaire",
    "Slot", NULL,
};

/* ---- before and after the local answer ---------------------------------- */

struct nhs_arg {
    const char *nhs;
    const char *bare;               /* an NHS number without its system */
    int n;                          /* identifier arguments seen */
    bool has_page;
};

static bool
find_args(void *ctx, const char *name, const char *value)
{
    struct nhs_arg *a = ctx;
    size_t k = strlen(CR_FHIR_NHS_NUMBER_SYSTEM);

    if (strcmp(name, "_page") == 0)
        a->has_page = true;
    if (strcmp(name, "identifier") != 0)
        return true;
    a->n++;
    if (strncmp(value, CR_FHIR_NHS_NUMBER_SYSTEM, k) == 0 &&
        value[k] == '|' && strchr(value + k + 1, ',') == NULL &&
        cr_fhir_nhs_number_valid(value + k + 1, strlen(value + k + 1)))
        a->nhs = value + k + 1;
    else if (cr_fhir_nhs_number_valid(value, strlen(value)))
        a->bare = value;
    return true;
}

void
cr_api_fed_begin(struct ctx *x)
{
    const char *purpose = x->principal.purpose, *h;
    struct nhs_arg a;
    struct fedreq *fr;

    if (x->api->fed == NULL || cr_fed_npeers(x->api->fed) == 0 || x->via ||
        strcmp(x->req->method, "GET") != 0)
        return;
    h = cr_http_header(x->req, CR_FED_LOCAL_HEADER);
    if (h && strcasecmp(h, "local") == 0)
        return;
    if (strcmp(purpose, "direct-care") != 0 &&
        strcmp(purpose, "emergency") != 0 &&
        strcmp(purpose, "patient-access") != 0)
        return;
    memset(&a, 0, sizeof a);
    cr_http_args(x->req, find_args, &a);
    if (a.has_page)
        return;     /* a page of this node's own answer */
    fr = cr_arena_calloc(x->req->arena, 1, sizeof *fr);
    if (fr == NULL)
        return;
    fr->kind = x->route.kind == R_TYPE ? FED_SEARCH
               : strcmp(x->route.op, "care-plan-summary") == 0
                   ? FED_SUMMARY
                   : FED_EVERYTHING;
    fr->nhs = a.n == 1 ? a.nhs : NULL;
    /* the summary also takes the ten digits alone */
    if (fr->kind == FED_SUMMARY && a.n == 1 && fr->nhs == NULL)
        fr->nhs = a.bare;
    x->fed = fr;
    /* the summary is one Parameters resource: no entries to tag */
    x->is_tagged = fr->kind != FED_SUMMARY;
}

void
cr_api_fed_add(struct ctx *x, struct cr_buf *b, enum cr_policy_show show,
               const char *json, size_t len, const char *org)
{
    const char *node = cr_store_node_id(x->api->store);
    struct cr_buf tmp;

    if (!x->is_tagged) {
        cr_api_view_add(b, show, json, len);
        return;
    }
    if (show != CR_POLICY_SHOW_REDACTED) {
        cr_fed_tag(b, json, len, org, node);
        return;
    }
    tmp = cr_buf_make(0);
    cr_api_view_add(&tmp, show, json, len);
    if (tmp.rc == CR_OK)
        cr_fed_tag(b, tmp.ptr, tmp.len, org, node);
    else if (b->rc == CR_OK)
        b->rc = tmp.rc;
    cr_buf_free(&tmp);
}

/* The path and query to send to a peer (after its FHIR base). */
struct peer_args {
    struct cr_buf *b;
    bool first;
    bool is_everything;
};

static bool
forward_arg(void *ctx, const char *name, const char *value)
{
    struct peer_args *p = ctx;

    if (p->is_everything &&
        (strcmp(name, "identifier") == 0 || strcmp(name, "_count") == 0))
        return true;    /* named below; pages are the peer's own size */
    if (strcmp(name, "_format") == 0)
        return true;
    cr_api_query_add(p->b, name, value, &p->first);
    return true;
}

static char *
peer_path(struct ctx *x, const char *nhs)
{
    struct cr_buf b = cr_buf_make(1 << 16);
    struct peer_args p;
    char *out;

    p.b = &b;
    p.first = true;
    p.is_everything = x->fed->kind == FED_EVERYTHING;
    if (x->fed->kind != FED_SEARCH) {
        char ident[64];
        snprintf(ident, sizeof ident, "%s|%s", CR_FHIR_NHS_NUMBER_SYSTEM,
                 nhs);
        cr_buf_adds(&b, p.is_everything ? "/Patient/$everything"
                                        : "/Patient/$care-plan-summary");
        cr_api_query_add(&b, "identifier", ident, &p.first);
    } else {
        cr_buf_adds(&b, "/Patient");
    }
    /* the summary takes nothing but the person */
    if (x->fed->kind != FED_SUMMARY)
        cr_http_args(x->req, forward_arg, &p);
    out = b.rc == CR_OK ? cr_arena_strndup(x->req->arena, b.ptr, b.len)
                        : NULL;
    cr_buf_free(&b);
    return out;
}

static void
fed_done(void *ctx, struct cr_fed_result *res)
{
    struct ctx *x = ctx;

    x->fed->res = res;
    cr_http_resume(x->fed->pending);
}

static void fed_answer(void *arg, struct cr_http_req *req,
                       struct cr_http_resp *resp);

/* When the request ends without its continuation (the client went away
 * while the peers were asked), free what was set aside. */
static void
fed_cleanup(void *arg)
{
    struct fedreq *fr = arg;

    free(fr->local.body);
    fr->local.body = NULL;
    cr_fed_result_free(fr->res);
    fr->res = NULL;
}

bool
cr_api_fed_step(struct ctx *x)
{
    struct fedreq *fr = x->fed;
    struct cr_fed_request rq;
    struct cr_err err;
    unsigned status = x->resp->status;
    const char *nhs, *path;

    if (x->via) {
        /* A peer asks for the user: tell it of an objection in force. */
        const char *org = status == 200 ? cr_api_view_objection(x) : NULL;
        if (org)
            cr_http_resp_header(x->resp, CR_FED_OBJECTION_HEADER,
                                org[0] ? org : "unknown");
        return false;
    }
    if (fr == NULL || (status != 200 && status != 403 && status != 404))
        return false;
    nhs = fr->nhs;
    if (fr->kind != FED_SEARCH && x->route.kind == R_INSTANCE_OP)
        nhs = cr_api_view_nhs(x, x->route.id);
    if (fr->kind != FED_SEARCH && nhs == NULL)
        return false;   /* nothing to ask the peers about */
    path = peer_path(x, nhs);
    if (path == NULL)
        return false;
    memset(&rq, 0, sizeof rq);
    rq.user = &x->principal;
    rq.access_reason = cr_http_header(x->req, "X-Access-Reason");
    rq.supervisor = cr_http_header(x->req, "X-Supervisor");
    rq.care = nhs && cr_api_view_care(x, nhs) ? nhs : NULL;
    rq.path = path;
    rq.nhs = nhs;
    rq.is_paged = fr->kind == FED_EVERYTHING;
    rq.resource_type = fr->kind == FED_SUMMARY ? "Parameters" : NULL;
    rq.start_us = x->t0_us;
    /* Set this node's answer aside, wait, then ask. */
    fr->local = *x->resp;
    memset(x->resp, 0, sizeof *x->resp);
    x->resp->principal = fr->local.principal;
    fr->pending = cr_http_suspend(x->req, fed_answer, x);
    if (fr->pending == NULL) {
        *x->resp = fr->local;
        return false;
    }
    cr_arena_on_destroy(x->req->arena, fed_cleanup, fr);
    cr_err_clear(&err);
    if (cr_fed_start(x->api->fed, &rq, fed_done, x, &err) != CR_OK) {
        fr->res = NULL;     /* answered with this node's part alone */
        cr_http_resume(fr->pending);
    }
    return true;
}

/* ---- merging ------------------------------------------------------------ */

struct merge {
    struct ctx *x;
    struct cr_buf *entries;
    int nentries;
    int nmatch;                 /* match entries, for total */
    int nresources;             /* any resource but outcomes */
    bool is_objection;
    int64_t withheld;
    const char *node;           /* the node whose part is being merged */
    const char *base;           /* its FHIR base (peers only) */
    bool is_local;
    /* the set of Type/id already in the answer */
    char **seen;
    size_t cap, nseen;
};

static uint64_t
hash_of(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Add "Type/id" to the set; false when it was there already. */
static bool
seen_add(struct merge *m, const char *text, const struct cr_fed_entry *e)
{
    size_t tn = e->type.end - e->type.start, in = e->id.end - e->id.start;
    size_t n = tn + 1 + in, j;
    char *key;

    if ((m->nseen + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256, i;
        char **t = cr_arena_calloc(m->x->req->arena, cap, sizeof *t);
        if (t == NULL)
            return true;
        for (i = 0; i < m->cap; i++)
            if (m->seen[i]) {
                j = hash_of(m->seen[i], strlen(m->seen[i])) & (cap - 1);
                while (t[j])
                    j = (j + 1) & (cap - 1);
                t[j] = m->seen[i];
            }
        m->seen = t;
        m->cap = cap;
    }
    key = cr_arena_alloc(m->x->req->arena, n + 1);
    if (key == NULL)
        return true;
    memcpy(key, text + e->type.start, tn);
    key[tn] = '/';
    memcpy(key + tn + 1, text + e->id.start, in);
    key[n] = '\0';
    j = hash_of(key, n) & (m->cap - 1);
    while (m->seen[j]) {
        if (strcmp(m->seen[j], key) == 0)
            return false;
        j = (j + 1) & (m->cap - 1);
    }
    m->seen[j] = key;
    m->nseen++;
    return true;
}

/* Under an objection, only the user's own organisation's entries, the
 * Patient and directory data are shown. */
static bool
is_objected(const struct merge *m, const char *text,
            const struct cr_fed_entry *e)
{
    size_t i;

    if (!m->is_objection || cr_fed_span_is(text, e->type, "Patient"))
        return false;
    for (i = 0; directory_types[i]; i++)
        if (cr_fed_span_is(text, e->type, directory_types[i]))
            return false;
    return !cr_fed_span_is(text, e->publisher, m->x->principal.org);
}

static void
add_comma(struct merge *m)
{
    if (m->nentries++)
        cr_buf_addc(m->entries, ',');
}

/* Note a resource in the audit record: ours by reference, a peer's by its
 * absolute URL. */
static void
touch(struct merge *m, const char *text, const struct cr_fed_entry *e)
{
    struct cr_buf *t = &m->x->touched;

    if (m->is_local) {
        char type[64], id[65], ver[24];
        int64_t v = 0;
        snprintf(type, sizeof type, "%.*s",
                 (int)(e->type.end - e->type.start), text + e->type.start);
        snprintf(id, sizeof id, "%.*s", (int)(e->id.end - e->id.start),
                 text + e->id.start);
        snprintf(ver, sizeof ver, "%.*s",
                 (int)(e->version.end - e->version.start),
                 text + e->version.start);
        v = strtoll(ver, NULL, 10);
        cr_api_touch(m->x, type, id, v);
        return;
    }
    if (e->full_url.end == e->full_url.start)
        return;
    if (t->len)
        cr_buf_addc(t, ',');
    cr_buf_addc(t, '"');
    cr_buf_add(t, text + e->full_url.start,
               e->full_url.end - e->full_url.start);
    if (e->version.end > e->version.start) {
        cr_buf_adds(t, "/_history/");
        cr_buf_add(t, text + e->version.start,
                   e->version.end - e->version.start);
    }
    cr_buf_addc(t, '"');
}

/* Copy one entry of a part into the answer. */
static bool
take_entry(void *ctx, const char *text, const struct cr_fed_entry *e)
{
    struct merge *m = ctx;
    bool is_outcome = cr_fed_span_is(text, e->mode, "outcome");

    if (e->resource.end == e->resource.start)
        return true;
    if (!is_outcome) {
        if (e->type.end == e->type.start || e->id.end == e->id.start)
            return true;
        if (is_objected(m, text, e)) {
            m->withheld++;
            return true;
        }
        if (!seen_add(m, text, e))
            return true;    /* the same resource from another node */
        touch(m, text, e);
        m->nresources++;
        if (cr_fed_span_is(text, e->mode, "match") ||
            e->mode.end == e->mode.start)
            m->nmatch++;
    }
    add_comma(m);
    if (e->node.end > e->node.start) {
        cr_buf_add(m->entries, text + e->entry.start,
                   e->entry.end - e->entry.start);
        return true;
    }
    /* Untagged (an outcome, or a subset of elements): tag it here. */
    cr_buf_addc(m->entries, '{');
    if (e->full_url.end > e->full_url.start) {
        cr_buf_adds(m->entries, "\"fullUrl\":\"");
        cr_buf_add(m->entries, text + e->full_url.start,
                   e->full_url.end - e->full_url.start);
        cr_buf_adds(m->entries, "\",");
    }
    cr_buf_adds(m->entries, "\"resource\":");
    cr_fed_tag(m->entries, text + e->resource.start,
               e->resource.end - e->resource.start, NULL, m->node);
    cr_buf_adds(m->entries, ",\"search\":{\"mode\":\"");
    if (e->mode.end > e->mode.start)
        cr_buf_add(m->entries, text + e->mode.start,
                   e->mode.end - e->mode.start);
    else
        cr_buf_adds(m->entries, "match");
    cr_buf_adds(m->entries, "\"}}");
    return true;
}

/* The diagnostics of the first issue of an OperationOutcome text, and its
 * rule code (details.coding[0].code), into the buffers. */
static void
outcome_text(const struct cr_buf *page, char *msg, size_t msg_size,
             char *rule, size_t rule_size)
{
    json_t *root, *issue;
    const char *s;

    msg[0] = rule[0] = '\0';
    if (page == NULL || page->len == 0)
        return;
    root = json_loadb(page->ptr, page->len, 0, NULL);
    issue = json_array_get(json_object_get(root, "issue"), 0);
    s = json_string_value(json_object_get(issue, "diagnostics"));
    if (s)
        snprintf(msg, msg_size, "%s", s);
    s = json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(issue, "details"),
                                       "coding"), 0),
        "code"));
    if (s)
        snprintf(rule, rule_size, "%s", s);
    json_decref(root);
}

/* An OperationOutcome entry about node 'node'. */
static void
add_issue(struct merge *m, const char *node, const char *severity,
          const char *code, const char *fed_code, const char *msg)
{
    add_comma(m);
    cr_buf_adds(m->entries, "{\"resource\":{\"resourceType\":"
                            "\"OperationOutcome\"");
    if (node) {
        cr_buf_adds(m->entries, ",\"meta\":{\"tag\":[{\"system\":\""
                                CR_FED_NODE_SYSTEM "\",\"code\":");
        cr_buf_add_json_str(m->entries, node);
        cr_buf_adds(m->entries, "}]}");
    }
    cr_buf_adds(m->entries, ",\"issue\":[{\"severity\":");
    cr_buf_add_json_str(m->entries, severity);
    cr_buf_adds(m->entries, ",\"code\":");
    cr_buf_add_json_str(m->entries, code);
    cr_buf_adds(m->entries, ",\"details\":{\"coding\":[{\"system\":\""
                            CR_API_FED_SYSTEM "\",\"code\":");
    cr_buf_add_json_str(m->entries, fed_code);
    cr_buf_adds(m->entries, "}],\"text\":");
    cr_buf_add_json_str(m->entries, msg);
    cr_buf_adds(m->entries, "},\"diagnostics\":");
    cr_buf_add_json_str(m->entries, msg);
    cr_buf_adds(m->entries, "}]},\"search\":{\"mode\":\"outcome\"}}");
}

void
cr_api_fed_refusal_of(const char *body, size_t len, const char *node,
                      struct cr_api_fed_issue *out)
{
    struct cr_buf page = { (char *)body, len, 0, 0, CR_OK };
    char diag[512];

    memset(out, 0, sizeof *out);
    outcome_text(body ? &page : NULL, diag, sizeof diag, out->rule,
                 sizeof out->rule);
    snprintf(out->msg, sizeof out->msg, "node %s refused%s%s%s: %s", node,
             out->rule[0] ? " (rule " : "", out->rule,
             out->rule[0] ? ")" : "", diag[0] ? diag : "access denied");
    out->severity = "warning";
    out->code = "forbidden";
    out->fed_code = "node-refused";
}

bool
cr_api_fed_issue_of(const struct cr_fed_answer *a,
                    struct cr_api_fed_issue *out)
{
    char diag[512], rule[64];

    memset(out, 0, sizeof *out);
    out->is_unreached = true;
    switch (a->status) {
    case CR_FED_OK:
    case CR_FED_NO_DATA:
        return false;
    case CR_FED_HTTP_ERROR:
        if (a->http_status == 403) {
            cr_api_fed_refusal_of(a->npages ? a->pages[0].ptr : NULL,
                                  a->npages ? a->pages[0].len : 0, a->node,
                                  out);
            return true;
        }
        outcome_text(a->npages ? &a->pages[0] : NULL, diag, sizeof diag,
                     rule, sizeof rule);
        if (a->http_status == 401) {
            snprintf(out->msg, sizeof out->msg, "node %s did not accept "
                     "this node's credentials: %s", a->node,
                     diag[0] ? diag : "401 Unauthorized");
            out->severity = "error";
            out->code = "security";
            out->fed_code = "node-rejected-token";
        } else {
            snprintf(out->msg, sizeof out->msg, "node %s answered %ld%s%s",
                     a->node, a->http_status, diag[0] ? ": " : "", diag);
            out->severity = "error";
            out->code = "exception";
            out->fed_code = "node-error";
        }
        return true;
    case CR_FED_TIMEOUT:
        out->code = "timeout";
        out->fed_code = "node-timeout";
        break;
    case CR_FED_UNREACHABLE:
    case CR_FED_STOPPED:
        out->code = "transient";
        out->fed_code = "node-unavailable";
        break;
    case CR_FED_BAD_ANSWER:
        out->code = "exception";
        out->fed_code = "node-error";
        break;
    }
    out->severity = "error";
    snprintf(out->msg, sizeof out->msg, "%s", a->message);
    return true;
}

/* What a peer's answer adds: its entries, or an issue naming it. */
static void
merge_answer(struct merge *m, const struct cr_fed_answer *a)
{
    struct cr_api_fed_issue is;
    size_t i;

    m->node = a->node;
    m->base = a->base_url;
    m->is_local = false;
    if (a->status == CR_FED_OK) {
        for (i = 0; i < a->npages; i++)
            cr_fed_bundle_entries(a->pages[i].ptr, a->pages[i].len,
                                  take_entry, m);
        return;
    }
    if (cr_api_fed_issue_of(a, &is))
        add_issue(m, a->node, is.severity, is.code, is.fed_code, is.msg);
}

/* The self link: this node's URL of the request. */
struct self_args {
    struct cr_buf *b;
    bool first;
};

static bool
self_arg(void *ctx, const char *name, const char *value)
{
    struct self_args *s = ctx;

    cr_api_query_add(s->b, name, value, &s->first);
    return true;
}

static void
add_self_link(struct ctx *x, struct cr_buf *b)
{
    struct cr_buf u = cr_buf_make(1 << 16);
    struct self_args s = { &u, true };

    cr_buf_adds(&u, x->api->base_url);
    cr_buf_adds(&u, x->req->path + 5);   /* after "/fhir" */
    cr_http_args(x->req, self_arg, &s);
    cr_buf_adds(b, ",\"link\":[{\"relation\":\"self\",\"url\":");
    cr_buf_add_json_str(b, u.rc == CR_OK && u.ptr ? u.ptr : "");
    cr_buf_adds(b, "}]");
    cr_buf_free(&u);
}

static void
merge(struct ctx *x)
{
    struct fedreq *fr = x->fed;
    const struct cr_fed_result *res = fr->res;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response),
                  entries = cr_buf_make(x->api->cfg.max_response);
    struct merge m;
    bool had_notice = cr_api_view_has_notice(x), is_empty = true;
    size_t i;

    memset(&m, 0, sizeof m);
    m.x = x;
    m.entries = &entries;
    m.is_objection = cr_api_view_objection(x) != NULL;
    for (i = 0; res && i < res->n; i++)
        if (res->answers[i].objection[0])
            m.is_objection = true;
    /* The record lists what this answer holds, as merged. */
    cr_buf_reset(&x->touched);

    m.node = cr_store_node_id(x->api->store);
    m.is_local = true;
    if (fr->local.status == 200 && fr->local.body)
        cr_fed_bundle_entries(fr->local.body, fr->local.body_len, take_entry,
                              &m);
    else if (fr->local.status == 403 && fr->local.body) {
        struct cr_api_fed_issue is;
        cr_api_fed_refusal_of(fr->local.body, fr->local.body_len, m.node,
                              &is);
        add_issue(&m, m.node, is.severity, is.code, is.fed_code, is.msg);
    }
    if (res && res->is_locator_down) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s; every node was asked instead",
                 res->locator_msg);
        add_issue(&m, NULL, "information", "informational",
                  "locator-unavailable", msg);
    }
    for (i = 0; res && i < res->n; i++) {
        merge_answer(&m, &res->answers[i]);
        if (res->answers[i].status != CR_FED_NO_DATA)
            is_empty = false;
    }
    if (res == NULL)
        add_issue(&m, NULL, "warning", "incomplete", "not-federated",
                  "the other nodes could not be asked; this is this node's "
                  "answer alone");
    if (m.withheld) {
        cr_api_view_withhold(x, m.withheld, "objection");
        if (!had_notice)
            cr_api_view_add_notice(x, &entries, m.nentries);
    }
    /* Nothing anywhere: this node's own refusal or "not found" stands. */
    if (m.nresources == 0 && fr->local.status != 200 &&
        (fr->local.status == 403 || is_empty) && res) {
        cr_buf_free(&entries);
        *x->resp = fr->local;
        fr->local.body = NULL;
        return;
    }
    cr_api_bundle_start(&b, "searchset");
    cr_buf_addf(&b, ",\"total\":%d", m.nmatch);
    add_self_link(x, &b);
    cr_api_bundle_finish(x, &b, &entries);
}

static void
fed_answer(void *arg, struct cr_http_req *req, struct cr_http_resp *resp)
{
    struct ctx *x = arg;
    struct fedreq *fr = x->fed;

    (void)req;
    x->resp = resp;
    resp->principal = fr->local.principal;
    if (fr->nhs) {
        cr_api_view_elsewhere(x, fr->nhs);
        x->audit_nhs = fr->nhs;
    }
    if (fr->kind == FED_SUMMARY)
        cr_api_care_plan_fed_merge(x, &fr->local, fr->res);
    else
        merge(x);
    free(fr->local.body);
    fr->local.body = NULL;
    cr_fed_result_free(fr->res);
    fr->res = NULL;
    cr_api_audited_send(x);
}
