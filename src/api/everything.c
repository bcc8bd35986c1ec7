/* everything.c: Patient/$everything.
 *
 * GET /fhir/Patient/{id}/$everything, or /fhir/Patient/$everything with
 * identifier=https://fhir.nhs.uk/Id/nhs-number|NNNNNNNNNN: the patient,
 * everything in their compartment, and the Practitioners, Organizations,
 * Locations and Medications those refer to; _since, _type, start, end,
 * _count, with next links. One query finds the compartment through the
 * reference index, sorts and pages its keys, and streams each row's stored
 * bytes (fetched by rowid) into the Bundle; every resource appears exactly
 * once across the pages,
 * and nothing is capped. A patient this server does not hold is a 404,
 * never an empty 200. Depends on store/, fhir/, search/ (date parsing),
 * core/. */
#include "api/apiInt.h"

#include "core/clock.h"
#include "fhir/fhir.h"
#include "fhir/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct params {
    const char *identifier;
    const char *since;
    const char *types;
    const char *start, *end;
    const char *count;
    const char *page;
    const char *bad;
};

static bool
take(void *ctx, const char *name, const char *value)
{
    struct params *p = ctx;

    if (strcmp(name, "identifier") == 0)
        p->identifier = value;
    else if (strcmp(name, "_since") == 0)
        p->since = value;
    else if (strcmp(name, "_type") == 0)
        p->types = value;
    else if (strcmp(name, "start") == 0)
        p->start = value;
    else if (strcmp(name, "end") == 0)
        p->end = value;
    else if (strcmp(name, "_count") == 0)
        p->count = value;
    else if (strcmp(name, "_page") == 0)
        p->page = value;
    else if (strcmp(name, "_format") != 0) {
        p->bad = name;
        return false;
    }
    return true;
}

struct walk {
    struct ctx *x;
    struct cr_buf *b;
    int n;
};

static cr_rc
add_entry(void *ctx, const char *type, const char *id,
          const struct cr_store_meta *meta, const char *json, size_t len)
{
    struct walk *w = ctx;
    enum cr_policy_show show = cr_api_view_item(w->x, type, meta, json, len,
                                                NULL);

    if (show == CR_POLICY_WITHHOLD)
        return CR_OK;
    cr_api_touch(w->x, type, id, meta->version);
    if (w->n++)
        cr_buf_addc(w->b, ',');
    cr_buf_adds(w->b, "{\"fullUrl\":\"");
    cr_buf_adds(w->b, w->x->api->base_url);
    cr_buf_addc(w->b, '/');
    cr_buf_adds(w->b, type);
    cr_buf_addc(w->b, '/');
    cr_buf_adds(w->b, id);
    cr_buf_adds(w->b, "\",\"resource\":");
    cr_api_fed_add(w->x, w->b, show, json, len, meta->org);
    cr_buf_adds(w->b, ",\"search\":{\"mode\":\"match\"}}");
    return w->b->rc;
}

/* _type=A,B as a JSON array, every one a type we serve. */
static const char *
types_json(struct ctx *x, const char *list, char *bad, size_t bad_size)
{
    struct cr_buf b = cr_buf_make(65536);
    const char *p = list;
    char *out;

    cr_buf_addc(&b, '[');
    while (*p) {
        size_t n = strcspn(p, ",");
        char t[64];
        if (n == 0 || n >= sizeof t) {
            snprintf(bad, bad_size, "%.*s", (int)(n > 60 ? 60 : n), p);
            cr_buf_free(&b);
            return NULL;
        }
        memcpy(t, p, n);
        t[n] = '\0';
        if (!cr_fhir_is_supported_type(t)) {
            snprintf(bad, bad_size, "%s", t);
            cr_buf_free(&b);
            return NULL;
        }
        if (b.len > 1)
            cr_buf_addc(&b, ',');
        cr_buf_add_json_str(&b, t);
        p += n;
        if (*p == ',')
            p++;
    }
    cr_buf_addc(&b, ']');
    out = b.rc == CR_OK ? cr_arena_strndup(x->req->arena, b.ptr, b.len)
                        : NULL;
    cr_buf_free(&b);
    return out;
}

static void
add_link(struct ctx *x, struct cr_buf *b, const char *rel,
         const struct params *p, const char *pid, const char *page)
{
    struct cr_buf u = cr_buf_make(65536);
    bool first = true;

    cr_buf_addf(&u, "%s/Patient/", x->api->base_url);
    if (x->route.kind == R_INSTANCE_OP)
        cr_buf_addf(&u, "%s/$everything", pid);
    else
        cr_buf_adds(&u, "$everything");
    cr_api_query_add(&u, "identifier", x->route.kind == R_INSTANCE_OP ? NULL
                                                              : p->identifier,
              &first);
    cr_api_query_add(&u, "_since", p->since, &first);
    cr_api_query_add(&u, "_type", p->types, &first);
    cr_api_query_add(&u, "start", p->start, &first);
    cr_api_query_add(&u, "end", p->end, &first);
    cr_api_query_add(&u, "_count", p->count, &first);
    cr_api_query_add(&u, "_page", page, &first);
    cr_buf_addf(b, "{\"relation\":\"%s\",\"url\":", rel);
    cr_buf_add_json_str(b, u.rc == CR_OK && u.ptr ? u.ptr : "");
    cr_buf_addc(b, '}');
    cr_buf_free(&u);
}

void
cr_api_everything(struct ctx *x)
{
    struct params p;
    struct cr_store_everything q;
    struct cr_store_meta m;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response),
                  entries = cr_buf_make(x->api->cfg.max_response);
    struct walk w;
    struct cr_err err;
    char next[CR_STORE_CURSOR_MAX], bad[80];
    const char *pid = x->route.id;
    char found[2][65];
    int64_t lo, hi;
    cr_rc rc;

    memset(&p, 0, sizeof p);
    cr_err_clear(&err);
    cr_http_args(x->req, take, &p);
    if (p.bad) {
        cr_api_outcome(x, 400, "error", "not-supported", NULL,
                       "$everything does not take '%.80s' (it takes "
                       "identifier, _since, _type, start, end, _count)",
                       p.bad);
        return;
    }
    memset(&q, 0, sizeof q);
    q.start_ms = INT64_MIN;
    q.end_ms = INT64_MAX;
    q.count = x->api->cfg.max_count;
    if (p.count) {
        char *end;
        long n = strtol(p.count, &end, 10);
        if (*p.count < '0' || *p.count > '9' || *end || n < 1) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "_count must be a whole number from 1");
            return;
        }
        q.count = n > x->api->cfg.max_count ? x->api->cfg.max_count
                                            : (int)n;
    }
    if (p.since) {
        if (!cr_fhir_parse_date_range(p.since, strlen(p.since), &lo, &hi)) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "_since must be an instant such as "
                           "2026-01-01T00:00:00Z");
            return;
        }
        q.since_ms = lo;
    }
    if (p.start) {
        if (!cr_fhir_parse_date_range(p.start, strlen(p.start), &lo, &hi)) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "start must be a date such as 2025-01-01");
            return;
        }
        q.start_ms = lo;
    }
    if (p.end) {
        if (!cr_fhir_parse_date_range(p.end, strlen(p.end), &lo, &hi)) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "end must be a date such as 2025-12-31");
            return;
        }
        q.end_ms = hi;
    }
    if (p.types) {
        q.types_json = types_json(x, p.types, bad, sizeof bad);
        if (q.types_json == NULL) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "_type: '%s' is not a type this server serves",
                           bad);
            return;
        }
    }

    if (x->route.kind == R_TYPE_OP) {
        /* by identifier, e.g. the NHS number */
        const char *bar;
        char *system = NULL;
        size_t n = 0;
        if (p.identifier == NULL || *p.identifier == '\0') {
            cr_api_outcome(x, 400, "error", "required", NULL,
                           "Patient/$everything needs a patient: use "
                           "Patient/{id}/$everything or identifier="
                           "https://fhir.nhs.uk/Id/nhs-number|NNNNNNNNNN");
            return;
        }
        bar = strchr(p.identifier, '|');
        if (bar) {
            system = cr_arena_strndup(x->req->arena, p.identifier,
                                      (size_t)(bar - p.identifier));
            if (system && strcmp(system, CR_FHIR_NHS_NUMBER_SYSTEM) == 0 &&
                !cr_fhir_nhs_number_valid(bar + 1, strlen(bar + 1))) {
                cr_api_outcome(x, 400, "error", "value", NULL,
                               "'%.20s' is not a valid NHS number", bar + 1);
                return;
            }
        }
        rc = cr_store_find_token(x->api->store, "Patient", "identifier",
                                 system, bar ? bar + 1 : p.identifier, found,
                                 2, &n, &err);
        if (rc != CR_OK) {
            cr_api_fail(x, &err);
            return;
        }
        if (n == 0) {
            cr_api_outcome(x, 404, "error", "not-found", NULL,
                           "no patient with identifier %.120s is known to "
                           "this server", p.identifier);
            return;
        }
        if (n > 1) {
            cr_api_outcome(x, 412, "error", "multiple-matches", NULL,
                           "%zu patients have identifier %.120s; use "
                           "Patient/{id}/$everything", n, p.identifier);
            return;
        }
        pid = found[0];
    }
    rc = cr_store_read(x->api->store, "Patient", pid, NULL, &m, &err);
    if (rc == CR_ENOTFOUND || rc == CR_EGONE) {
        cr_api_outcome(x, rc == CR_EGONE ? 410 : 404, "error",
                       rc == CR_EGONE ? "deleted" : "not-found", NULL,
                       "Patient/%s %s", pid,
                       rc == CR_EGONE ? "was deleted"
                                      : "is not known to this server");
        return;
    }
    if (rc != CR_OK) {
        cr_api_fail(x, &err);
        return;
    }
    q.patient_id = pid;
    x->audit_patient = cr_arena_strndup(x->req->arena, pid, strlen(pid));
#ifndef CR_BENCH_NO_ACCESS
    {
        const struct cr_policy_decision *d = cr_api_view_patient(x, pid);
        if (d == NULL || !d->is_allowed) {
            cr_api_view_deny(x, d);
            return;
        }
    }
#endif
    q.cursor = p.page;
    memset(&w, 0, sizeof w);
    w.x = x;
    w.b = &entries;
    rc = cr_store_everything(x->api->store, &q, add_entry, &w, next, &err);
    /* A federated answer is one page: this node's part whole. */
    while (rc == CR_OK && x->fed && next[0]) {
        q.cursor = cr_arena_strndup(x->req->arena, next, strlen(next));
        if (q.cursor == NULL)
            break;
        rc = cr_store_everything(x->api->store, &q, add_entry, &w, next,
                                 &err);
    }
    if (rc != CR_OK) {
        cr_buf_free(&entries);
        if (rc == CR_ETOOBIG)
            cr_api_too_big(x);
        else
            cr_api_fail(x, &err);
        return;
    }
    cr_api_view_add_notice(x, &entries, w.n);
    cr_api_bundle_start(&b, "searchset");
    if (p.page == NULL && next[0] == '\0')
        cr_buf_addf(&b, ",\"total\":%d", w.n);
    cr_buf_adds(&b, ",\"link\":[");
    add_link(x, &b, "self", &p, pid, p.page);
    if (next[0]) {
        cr_buf_addc(&b, ',');
        add_link(x, &b, "next", &p, pid, next);
    }
    cr_buf_addc(&b, ']');
    cr_api_bundle_finish(x, &b, &entries);
}
