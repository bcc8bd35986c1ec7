/* search.c: GET /fhir/T?... and POST /fhir/T/_search as a searchset Bundle.
 *
 * The query is parsed into a plan (search/), the store runs it a page at a
 * time with keyset cursors, and this file assembles the Bundle from the
 * stored bytes: matches, then everything _include/_revinclude bring in for
 * that page (all of it, de-duplicated, with :iterate followed until
 * nothing new appears), then an outcome entry naming parameters ignored
 * under Prefer: handling=lenient. Depends on search/, store/, fhir/,
 * core/, jansson. */
#include "api/apiInt.h"

#include "core/str.h"
#include "core/clock.h"
#include "core/jsontext.h"
#include "fhir/fhir.h"
#include "search/search.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITERATE 64   /* rounds of :iterate; each must add something */

bool
cr_api_take_arg(void *ctx, const char *name, const char *value)
{
    struct query_args *g = ctx;

    if (g->n == CR_API_MAX_ARGS) {
        g->is_full = true;
        return false;
    }
    g->a[g->n].name = name;
    g->a[g->n].value = value;
    g->n++;
    return true;
}

/* application/x-www-form-urlencoded body of POST _search into args. */
static bool
form_args(struct ctx *x, struct query_args *g)
{
    const char *b = x->req->body, *end = b + x->req->body_len;
    char *buf = cr_arena_alloc(x->req->arena, x->req->body_len + 1), *o;

    if (buf == NULL)
        return false;
    o = buf;
    while (b < end) {
        const char *amp = memchr(b, '&', (size_t)(end - b));
        const char *stop = amp ? amp : end;
        char *name = o, *value = NULL;
        for (; b < stop; b++) {
            char c = *b;
            if (c == '=' && value == NULL) {
                *o++ = '\0';
                value = o;
                continue;
            }
            if (c == '+')
                c = ' ';
            else if (c == '%' && stop - b > 2 && cr_str_hexval(b[1]) >= 0 &&
                     cr_str_hexval(b[2]) >= 0) {
                c = (char)(cr_str_hexval(b[1]) * 16 + cr_str_hexval(b[2]));
                b += 2;
            }
            *o++ = c;
        }
        *o++ = '\0';
        if (*name && !cr_api_take_arg(g, name, value ? value : ""))
            return false;
        b = stop < end ? stop + 1 : end;
    }
    return true;
}

/* ---- de-duplication of entries ---- */

struct seen {
    char **keys;
    size_t cap, n;
};

static uint64_t
hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Add "type/id"; false if it was there already (or out of memory). */
static bool
seen_add(struct seen *s, struct cr_arena *a, const char *type,
         const char *id)
{
    char key[200];
    size_t i;

    snprintf(key, sizeof key, "%s/%s", type, id);
    if (s->n * 2 >= s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        char **n = cr_arena_calloc(a, cap, sizeof *n);
        if (n == NULL)
            return false;
        for (i = 0; i < s->cap; i++)
            if (s->keys[i]) {
                size_t j = hash(s->keys[i]) & (cap - 1);
                while (n[j])
                    j = (j + 1) & (cap - 1);
                n[j] = s->keys[i];
            }
        s->keys = n;
        s->cap = cap;
    }
    i = hash(key) & (s->cap - 1);
    while (s->keys[i]) {
        if (strcmp(s->keys[i], key) == 0)
            return false;
        i = (i + 1) & (s->cap - 1);
    }
    s->keys[i] = cr_arena_strndup(a, key, strlen(key));
    s->n++;
    return s->keys[i] != NULL;
}

/* ---- the Bundle ---- */

struct page {
    struct ctx *x;
    const struct cr_search_plan *plan;
    struct cr_buf *b;
    int nentries;
    struct seen seen;
    /* ids per type of what the last round added, as JSON arrays */
    struct round {
        const char *type;
        struct cr_buf ids;
    } rounds[40];
    size_t nrounds;
    const char *mode;
    bool is_iterate_cut;      /* :iterate stopped before running dry */
    int nshown;               /* matches and includes shown */
    int nmatched;             /* ... of which matches */
};

static struct cr_buf *
round_ids(struct page *pg, const char *type)
{
    size_t i;

    for (i = 0; i < pg->nrounds; i++)
        if (strcmp(pg->rounds[i].type, type) == 0)
            return &pg->rounds[i].ids;
    if (pg->nrounds == sizeof pg->rounds / sizeof pg->rounds[0])
        return NULL;
    pg->rounds[pg->nrounds].type = cr_arena_strndup(pg->x->req->arena, type,
                                                    strlen(type));
    pg->rounds[pg->nrounds].ids = cr_buf_make(0);
    return &pg->rounds[pg->nrounds++].ids;
}

/* Copy the top-level member 'name' of the resource text, if present. */
static void
add_member(struct cr_buf *b, const char *json, size_t len, const char *name)
{
    size_t s0, s1;

    if (strcmp(name, "id") == 0 || strcmp(name, "meta") == 0 ||
        strcmp(name, "resourceType") == 0)
        return;
    if (cr_jsontext_member(json, len, name, &s0, &s1)) {
        cr_buf_addc(b, ',');
        cr_buf_add_json_str(b, name);
        cr_buf_addc(b, ':');
        cr_buf_add(b, json + s0, s1 - s0);
    }
}

/* The resource with only the _elements asked for (and the mandatory
 * ones), marked SUBSETTED. Text is copied member by member. */
static void
add_subset(struct page *pg, const char *json, size_t len)
{
    struct cr_buf *b = pg->b;
    const char *const *el = pg->plan->elements;
    size_t s0, s1;
    json_t *meta = NULL, *tags;
    char *meta_text;

    cr_buf_addc(b, '{');
    if (cr_jsontext_member(json, len, "resourceType", &s0, &s1)) {
        cr_buf_adds(b, "\"resourceType\":");
        cr_buf_add(b, json + s0, s1 - s0);
    }
    if (cr_jsontext_member(json, len, "id", &s0, &s1)) {
        cr_buf_adds(b, ",\"id\":");
        cr_buf_add(b, json + s0, s1 - s0);
    }
    if (cr_jsontext_member(json, len, "meta", &s0, &s1))
        meta = json_loadb(json + s0, s1 - s0, 0, NULL);
    if (meta == NULL)
        meta = json_object();
    tags = json_object_get(meta, "tag");
    if (!json_is_array(tags)) {
        tags = json_array();
        json_object_set_new(meta, "tag", tags);
    }
    json_array_append_new(tags, json_pack(
        "{s:s,s:s,s:s}", "system",
        "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code",
        "SUBSETTED", "display", "subsetted"));
    meta_text = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);
    if (meta_text) {
        cr_buf_adds(b, ",\"meta\":");
        cr_buf_adds(b, meta_text);
        free(meta_text);
    }
    /* What was asked for, then what R4 requires (so the subset is still a
     * valid resource), each once. */
    {
        const char *req[64];
        size_t nreq = cr_fhir_required_elements(pg->plan->type, req, 64), i;
        const char *const *e;
        if (nreq > 64)
            nreq = 64;
        for (i = 0; el && el[i]; i++)
            add_member(b, json, len, el[i]);
        for (i = 0; i < nreq; i++) {
            bool asked = false;
            for (e = el; e && *e; e++)
                if (strcmp(*e, req[i]) == 0)
                    asked = true;
            if (!asked)
                add_member(b, json, len, req[i]);
        }
    }
    cr_buf_addc(b, '}');
}

static cr_rc
add_entry(void *ctx, const char *type, const char *id,
          const struct cr_store_meta *meta, const char *json, size_t len)
{
    struct page *pg = ctx;
    struct cr_buf *b = pg->b, *ids;
    enum cr_policy_show show;

    if (!seen_add(&pg->seen, pg->x->req->arena, type, id))
        return CR_OK;   /* already in the Bundle */
    /* Withheld: not in the answer, and nothing is included from it. */
    show = cr_api_view_item(pg->x, type, meta, json, len, NULL);
    if (show == CR_POLICY_WITHHOLD)
        return CR_OK;
    pg->nshown++;
    if (strcmp(pg->mode, "match") == 0)
        pg->nmatched++;
    cr_api_touch(pg->x, type, id, meta->version);
    ids = round_ids(pg, type);
    if (ids) {
        cr_buf_addc(ids, ids->len ? ',' : '[');
        cr_buf_add_json_str(ids, id);
    }
    if (pg->nentries++)
        cr_buf_addc(b, ',');
    cr_buf_addf(b, "{\"fullUrl\":\"%s/%s/%s\",\"resource\":",
                pg->x->api->base_url, type, id);
    if (pg->plan->elements && strcmp(pg->mode, "match") == 0 &&
        show == CR_POLICY_SHOW)
        add_subset(pg, json, len);
    else
        cr_api_fed_add(pg->x, b, show, json, len, meta->org);
    cr_buf_addf(b, ",\"search\":{\"mode\":\"%s\"}}", pg->mode);
    return b->rc;
}

static void
free_rounds(struct page *pg)
{
    size_t i;

    for (i = 0; i < pg->nrounds; i++)
        cr_buf_free(&pg->rounds[i].ids);
    pg->nrounds = 0;
}

/* Run every include over what the previous round added; repeat for
 * :iterate ones while anything new comes in. */
static cr_rc
includes(struct page *pg, struct cr_err *err)
{
    const struct cr_search_plan *plan = pg->plan;
    int round;
    size_t i, k;
    cr_rc rc;

    pg->mode = "include";
    for (round = 0; round <= MAX_ITERATE; round++) {
        struct round prev[40];
        size_t nprev = pg->nrounds;
        bool is_any = false;

        if (nprev == 0)
            break;
        memcpy(prev, pg->rounds, nprev * sizeof prev[0]);
        pg->nrounds = 0;
        for (k = 0; k < nprev; k++)
            cr_buf_addc(&prev[k].ids, ']');
        for (i = 0; i < plan->nincludes; i++) {
            const struct cr_search_include *inc = &plan->includes[i];
            if (round > 0 && !inc->is_iterate)
                continue;
            for (k = 0; k < nprev; k++) {
                const char *type = prev[k].type;
                bool applies = inc->is_rev
                    ? (inc->target_type == NULL ||
                       strcmp(inc->target_type, type) == 0)
                    : strcmp(inc->source_type, type) == 0;
                if (!applies || prev[k].ids.rc != CR_OK)
                    continue;
                is_any = true;
                rc = cr_store_include(pg->x->api->store, inc, type,
                                      prev[k].ids.ptr, add_entry, pg, err);
                if (rc != CR_OK) {
                    for (k = 0; k < nprev; k++)
                        cr_buf_free(&prev[k].ids);
                    return rc;
                }
            }
        }
        for (k = 0; k < nprev; k++)
            cr_buf_free(&prev[k].ids);
        if (!is_any)
            break;
    }
    if (round > MAX_ITERATE && pg->nrounds)
        pg->is_iterate_cut = true;
    free_rounds(pg);
    return CR_OK;
}

static void
add_link(struct cr_buf *b, struct ctx *x, const struct cr_search_plan *plan,
         const char *rel, const char *cursor, bool is_first)
{
    if (!is_first)
        cr_buf_addc(b, ',');
    cr_buf_addf(b, "{\"relation\":\"%s\",\"url\":\"%s/%s?", rel,
                x->api->base_url, plan->type);
    cr_buf_add_json_esc(b, plan->canonical_query,
                        strlen(plan->canonical_query));
    if (cursor && *cursor)
        cr_buf_addf(b, "%s_page=%s", *plan->canonical_query ? "&" : "",
                    cursor);
    cr_buf_adds(b, "\"}");
}

/* The patient a search names, when it names exactly one: patient=X,
 * subject=Patient/X (or the full URL), or Patient?_id=X. NULL otherwise. */
static const char *
named_patient(struct ctx *x, const struct query_args *g)
{
    const char *found = NULL, *v;
    size_t i, n = strlen(x->api->base_url);

    for (i = 0; i < g->n; i++) {
        const char *name = g->a[i].name;
        bool is_id = strcmp(x->route.type, "Patient") == 0 &&
                     strcmp(name, "_id") == 0;
        if (!is_id && strcmp(name, "patient") != 0 &&
            strcmp(name, "subject") != 0 &&
            strcmp(name, "patient:Patient") != 0 &&
            strcmp(name, "subject:Patient") != 0)
            continue;
        v = g->a[i].value;
        if (v == NULL || strchr(v, ','))
            return NULL;
        if (n && strncmp(v, x->api->base_url, n) == 0 && v[n] == '/')
            v += n + 1;
        if (strncmp(v, "Patient/", 8) == 0)
            v += 8;
        else if (!is_id && strcmp(name, "subject") == 0)
            return NULL;
        if (*v == '\0' || strchr(v, '/') || (found && strcmp(found, v)))
            return NULL;
        found = v;
    }
    return found;
}

/* A search about one person the principal may not see, or of a type
 * their role never sees, is refused as such (403 naming the rule) rather
 * than answered with an empty page. Returns false after answering. */
static bool
may_search(struct ctx *x, const struct query_args *g,
           const struct cr_search_plan *plan)
{
    const char *patient = named_patient(x, g);
    const struct cr_policy_decision *d;

#ifdef CR_BENCH_NO_ACCESS
    return true;
#endif
    if (patient == NULL)
        return true;
    x->audit_patient = patient;
    d = cr_api_view_patient(x, patient);
    if (d == NULL || !d->is_allowed) {
        cr_api_view_deny(x, d);
        return false;
    }
    if (cr_policy_type_permitted(x->api->policy, d, plan->type))
        return true;
    cr_api_view_deny_role(x, plan->type);
    return false;
}

/* A total counts only the matches the principal may see, so counting
 * decides every match under the access policy; what that costs is mostly
 * reading the facts of each person the matches belong to (about 0.1 ms
 * each when not cached), not the matches themselves. Asked for
 * (_total=accurate, _summary=count), up to MAX_COUNTED matches are
 * decided. By default (no _total, or estimate) also at most
 * DEFAULT_PEOPLE people, the page's included: all the results of one
 * patient are counted, a broad search's first page does not wait seconds
 * for a number nobody asked for. Past either limit the total is left out,
 * never estimated (a count with withheld items in it would reveal them). */
#define MAX_COUNTED 10000
#define DEFAULT_PEOPLE 250

struct counting {
    struct ctx *x;
    int64_t n;
    size_t max_people;            /* 0: no limit */
    bool is_over;
};

static cr_rc
count_one(void *ctx, const char *type, const char *id,
          const struct cr_store_meta *meta, const char *json, size_t len)
{
    struct counting *c = ctx;
    struct cr_store_meta m = *meta;

    (void)id;
    /* decided like a match, but not counted as withheld twice: the page
     * itself does that */
    if (cr_api_view_visible(c->x, type, &m, json, len))
        c->n++;
    if (c->max_people && cr_api_view_people(c->x) > c->max_people) {
        c->is_over = true;
        return CR_ETOOBIG;          /* stops the scan */
    }
    return CR_OK;
}

/* The number of matches the principal may see: every match is decided,
 * up to MAX_COUNTED matches and 'max_people' people (0: any number); past
 * that the total is unknown (-1) rather than a count that would include
 * withheld items. */
static cr_rc
count_visible(struct ctx *x, const struct cr_search_plan *plan,
              size_t max_people, int64_t *out, struct cr_err *err)
{
    struct cr_search_plan all = *plan;
    struct counting c = { x, 0, max_people, false };
    char next[CR_STORE_CURSOR_MAX], prev[CR_STORE_CURSOR_MAX];
    cr_rc rc;

#ifdef CR_BENCH_NO_ACCESS
    return cr_store_search_count(x->api->store, plan, NULL, 0, out, err);
#endif
    /* Asked for without a limit on people: if the store holds more than
     * MAX_COUNTED matches the total cannot be given, which counting index
     * entries says at once; deciding MAX_COUNTED people first to learn it
     * took most of a second and a decision's memory for each of them. */
    if (max_people == 0) {
        int64_t n;
        rc = cr_store_search_count(x->api->store, plan, cr_api_view_hops(x),
                                   MAX_COUNTED + 1, &n, err);
        if (rc != CR_OK)
            return rc;
        if (n > MAX_COUNTED) {
            *out = -1;
            return CR_OK;
        }
    }
    all.cursor = NULL;
    all.count = MAX_COUNTED;
    all.nincludes = 0;
    all.nsort = 0;                  /* a count needs no order */
    all.is_unordered = true;
    rc = cr_store_search(x->api->store, &all, cr_api_view_hops(x), count_one,
                         &c, next, prev, err);
    if (c.is_over) {
        cr_err_clear(err);
        *out = -1;
        return CR_OK;
    }
    if (rc != CR_OK)
        return rc;
    *out = next[0] ? -1 : c.n;
    return CR_OK;
}

/* An OperationOutcome entry (search.mode outcome, code too-costly) about
 * what the page could not do. */
static void
add_outcome(struct page *pg, const char *severity, const char *msg)
{
    struct cr_buf *b = pg->b;

    if (pg->nentries++)
        cr_buf_addc(b, ',');
    cr_buf_addf(b, "{\"resource\":{\"resourceType\":\"OperationOutcome\","
                   "\"issue\":[{\"severity\":\"%s\",\"code\":\"too-costly\","
                   "\"diagnostics\":", severity);
    cr_buf_add_json_str(b, msg);
    cr_buf_adds(b, "}]},\"search\":{\"mode\":\"outcome\"}}");
}

void
cr_api_search(struct ctx *x)
{
    struct query_args *g = cr_arena_calloc(x->req->arena, 1, sizeof *g);
    struct cr_search_limits lim;
    struct cr_search_plan plan;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response),
                  entries = cr_buf_make(x->api->cfg.max_response);
    struct page pg;
    struct cr_err err;
    char next[CR_STORE_CURSOR_MAX], prev[CR_STORE_CURSOR_MAX];
    const char *prefer = cr_http_header(x->req, "Prefer");
    int64_t total = -1;
    cr_rc rc;

    cr_err_clear(&err);
    if (g == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return;
    }
    cr_http_args(x->req, cr_api_take_arg, g);
    if (x->route.kind == R_TYPE_SEARCH) {
        const char *ct = cr_http_header(x->req, "Content-Type");
        if (x->req->body_len &&
            (ct == NULL ||
             strncmp(ct, "application/x-www-form-urlencoded", 33) != 0)) {
            cr_api_outcome(x, 415, "error", "not-supported", NULL,
                           "POST _search takes its parameters as "
                           "application/x-www-form-urlencoded");
            return;
        }
        if (!form_args(x, g)) {
            g->is_full = true;
        }
    }
    if (g->is_full) {
        cr_api_outcome(x, 400, "error", "too-costly", NULL,
                       "a search takes at most %d parameters",
                       CR_API_MAX_ARGS);
        return;
    }
    memset(&lim, 0, sizeof lim);
    lim.default_count = x->api->cfg.default_count;
    lim.max_count = x->api->cfg.max_count;
    lim.is_lenient = prefer && strstr(prefer, "handling=lenient");
    lim.base_url = x->api->base_url;
    if (cr_search_parse(x->req->arena, x->route.type, g->a, g->n, &lim,
                        &plan, &err) != CR_OK) {
        cr_api_fail(x, &err);
        return;
    }

    if (!may_search(x, g, &plan))
        return;
    /* A source system sees only its own organisation's items: the store
     * reads only those rows rather than every other organisation's, each
     * to be withheld (and counted as such) one by one. */
    plan.org = cr_api_view_only_org(x);
    /* The total of a search whose first page holds every match is what
     * that page shows (each match decided once); otherwise every match is
     * decided again to count it. */
    if (plan.is_summary_count) {
        rc = count_visible(x, &plan, 0, &total, &err);
        if (rc != CR_OK) {
            cr_api_fail(x, &err);
            return;
        }
    }
    memset(&pg, 0, sizeof pg);
    pg.x = x;
    pg.plan = &plan;
    pg.b = &entries;
    pg.mode = "match";
    next[0] = prev[0] = '\0';
    if (!plan.is_summary_count) {
        rc = cr_store_search(x->api->store, &plan, cr_api_view_hops(x),
                             add_entry, &pg, next, prev, &err);
        if (rc == CR_OK && plan.nincludes)
            rc = includes(&pg, &err);
        free_rounds(&pg);
        if (rc != CR_OK) {
            cr_buf_free(&entries);
            if (rc == CR_ETOOBIG)
                cr_api_too_big(x);
            else
                cr_api_fail(x, &err);
            return;
        }
        if (plan.total != CR_TOTAL_NONE) {
            if (plan.cursor == NULL && plan.count > 0 && next[0] == '\0')
                total = pg.nmatched;
            else if ((rc = count_visible(x, &plan,
                                         plan.total == CR_TOTAL_ACCURATE
                                             ? 0 : DEFAULT_PEOPLE,
                                         &total, &err)) != CR_OK) {
                cr_buf_free(&entries);
                cr_api_fail(x, &err);
                return;
            }
        }
    }
    if (pg.is_iterate_cut) {
        char msg[160];
        snprintf(msg, sizeof msg, ":iterate stopped after %d levels; some "
                 "resources further along were not included", MAX_ITERATE);
        add_outcome(&pg, "warning", msg);
    }
    if (total < 0 && (plan.is_summary_count ||
                      plan.total == CR_TOTAL_ACCURATE)) {
        char msg[200];
        snprintf(msg, sizeof msg, "the total is left out: more than %d "
                 "matches would have to be checked against the access "
                 "policy to count them; narrow the search to get one",
                 MAX_COUNTED);
        add_outcome(&pg, "information", msg);
    }
    cr_api_view_add_notice(x, &entries, pg.nentries);
    if (cr_api_view_has_notice(x))
        pg.nentries++;
    if (plan.ignored) {
        const char **ig;
        if (pg.nentries++)
            cr_buf_addc(&entries, ',');
        cr_buf_adds(&entries, "{\"resource\":{\"resourceType\":"
                              "\"OperationOutcome\",\"issue\":[");
        for (ig = plan.ignored; *ig; ig++) {
            if (ig != plan.ignored)
                cr_buf_addc(&entries, ',');
            cr_buf_adds(&entries, "{\"severity\":\"warning\",\"code\":"
                                  "\"not-supported\",\"diagnostics\":");
            {
                char msg[200];
                snprintf(msg, sizeof msg, "parameter '%.100s' is not "
                         "supported and was ignored", *ig);
                cr_buf_add_json_str(&entries, msg);
            }
            cr_buf_addc(&entries, '}');
        }
        cr_buf_adds(&entries, "]},\"search\":{\"mode\":\"outcome\"}}");
    }

    cr_api_bundle_start(&b, "searchset");
    if (total >= 0)
        cr_buf_addf(&b, ",\"total\":%lld", (long long)total);
    cr_buf_adds(&b, ",\"link\":[");
    add_link(&b, x, &plan, "self", plan.cursor, true);
    if (next[0])
        add_link(&b, x, &plan, "next", next, false);
    if (prev[0])
        add_link(&b, x, &plan, "previous", prev, false);
    cr_buf_addc(&b, ']');
    cr_api_bundle_finish(x, &b, &entries);
}
