/* bundle.c: batch and transaction Bundles (POST /fhir).
 *
 * A transaction is all or nothing: every write runs inside one store
 * transaction, in the order the specification gives (DELETE, POST, PUT,
 * then GET), and the first failure undoes everything and is answered with
 * that entry's OperationOutcome. References to other entries' fullUrls
 * (urn:uuid:...) and conditional references (Type?identifier=s|v) are
 * rewritten to the ids the server assigns or finds. A batch runs each entry
 * on its own (a savepoint each) and answers every entry's outcome.
 *
 * Conditions are resolved before the writer runs, so the heavy work
 * (parsing, validation, rewriting) stays off the writer thread; inside the
 * transaction each condition is checked again, and if the data changed
 * meanwhile the request fails with 409 rather than act on stale facts.
 * Stored bytes come from each entry's own text, as for single writes.
 * Depends on store/, fhir/, core/. */
#include "api/apiInt.h"

#include "core/clock.h"
#include "core/jsontext.h"
#include "fhir/fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum method { M_GET, M_POST, M_PUT, M_DELETE };

static const char *const method_names[] = { "GET", "POST", "PUT", "DELETE" };

struct bentry {
    size_t index;
    enum method method;
    const char *url;
    const char *full_url;
    size_t rstart, rend;          /* resource text span, if any */
    bool has_resource;
    const char *type;
    const char *id;
    const char *url_id;           /* the id in request.url, if any */
    int64_t vid;                  /* GET .../_history/vid */
    bool is_write;
    struct write_job job;
    struct prepared p;
    char new_id[37];
    char target[140];             /* "Type/id" this entry's fullUrl maps to */
    struct cr_buf text;           /* rewritten resource text */
    cr_rc rc;
    struct cr_err err;
    struct cr_buf got;            /* GET result */
    struct cr_store_meta got_meta;
    bool is_read;                 /* got holds the result already */
};

struct bundle {
    struct ctx *x;
    json_t *root;
    bool is_txn;
    struct bentry *e;
    size_t n;
    size_t failed;                /* index of the failing entry */
    struct cr_api_queued q;
    struct cr_err err;
    cr_rc rc;
    int tries;                    /* runs again after stale conditions */
};

/* How often a transaction is prepared again when a condition it resolved
 * found something else by the time it ran (another request created or
 * deleted what it matches meanwhile): then it is as if it had arrived
 * after that request. One more run nearly always settles it; the last
 * conflict is answered 409. */
#define MAX_TRIES 3

/* ---- small helpers ---- */

static const char *
jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Fail the whole request (transaction) or one entry (batch) with 'err',
 * naming the entry. */
static cr_rc
entry_err(struct bentry *e, cr_rc rc, const char *code, const char *fmt,
          const char *detail)
{
    return cr_err_set(&e->err, rc, code, NULL, fmt, detail);
}

/* Prefix an entry's error with where it happened, and map the element
 * path into the Bundle. */
static void
name_entry(struct bentry *e, struct cr_err *err)
{
    struct cr_buf b = cr_buf_make(0);

    cr_buf_addf(&b, "entry[%zu] (%s %.200s): %s", e->index,
                method_names[e->method], e->url ? e->url : "?", err->msg);
    if (b.rc == CR_OK) {
        size_t n = b.len < sizeof err->msg ? b.len : sizeof err->msg - 1;
        memcpy(err->msg, b.ptr, n);
        err->msg[n] = '\0';
    }
    if (err->where[0]) {
        const char *dot = strchr(err->where, '.');
        cr_buf_reset(&b);
        cr_buf_addf(&b, "Bundle.entry[%zu].resource%s", e->index,
                    dot ? dot : "");
        if (b.rc == CR_OK) {
            size_t n = b.len < sizeof err->where ? b.len
                                                  : sizeof err->where - 1;
            memcpy(err->where, b.ptr, n);
            err->where[n] = '\0';
        }
    }
    cr_buf_free(&b);
}

/* ---- parsing the request of each entry ---- */

/* Split an entry's request.url into type, id, version and query. The url
 * may be absolute on this server's base. */
static cr_rc
parse_url(struct ctx *x, struct bentry *e, const char **out_query)
{
    struct cr_arena *a = x->req->arena;
    const char *url = e->url, *base = x->api->base_url, *q, *p;
    char *path;
    size_t blen = strlen(base), plen;
    char *seg[4] = { 0 };
    int n = 0;

    *out_query = NULL;
    if (strncmp(url, base, blen) == 0 && url[blen] == '/')
        url += blen + 1;
    else {
        /* an absolute URL elsewhere; "://" in a condition's value (after
         * the '?') is not a scheme */
        const char *scheme = strstr(url, "://"), *qm = strchr(url, '?');
        if (scheme && (qm == NULL || scheme < qm))
            return entry_err(e, CR_EINVAL, "not-supported",
                             "request.url '%.200s' is not on this server",
                             url);
    }
    if (url[0] == '/')
        url++;
    q = strchr(url, '?');
    plen = q ? (size_t)(q - url) : strlen(url);
    if (q)
        *out_query = q + 1;
    path = cr_arena_strndup(a, url, plen);
    if (path == NULL)
        return entry_err(e, CR_ENOMEM, "exception", "%s", "out of memory");
    for (p = path; n < 4;) {
        char *slash = strchr(p, '/');
        seg[n++] = (char *)p;
        if (slash == NULL)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    if (n == 0 || seg[0][0] == '\0' || (n == 4 && strchr(seg[3], '/')))
        return entry_err(e, CR_EINVAL, "invalid",
                         "request.url '%.200s' is not Type, Type/id or "
                         "Type?condition", e->url);
    if (!cr_fhir_is_supported_type(seg[0]))
        return entry_err(e, CR_EINVAL, "not-supported",
                         "'%.64s' is not a resource type this server "
                         "serves", seg[0]);
    e->type = seg[0];
    if (n >= 2) {
        if (!cr_fhir_valid_id(seg[1], strlen(seg[1])))
            return entry_err(e, CR_EINVAL, "value",
                             "'%.80s' is not a valid resource id", seg[1]);
        e->id = seg[1];
    }
    if (n == 3 || (n == 4 && strcmp(seg[2], "_history") != 0))
        return entry_err(e, CR_EINVAL, "not-supported",
                         "request.url '%.200s' is not supported in a "
                         "Bundle", e->url);
    if (n == 4) {
        char *end;
        long long v = strtoll(seg[3], &end, 10);
        if (*end || v < 1 || seg[3][0] < '0' || seg[3][0] > '9')
            return entry_err(e, CR_EINVAL, "value",
                             "'%.40s' is not a version id", seg[3]);
        e->vid = v;
    }
    return CR_OK;
}

static cr_rc
parse_entry(struct bundle *b, struct bentry *e, json_t *ej)
{
    struct ctx *x = b->x;
    json_t *req = json_object_get(ej, "request");
    const char *method, *query = NULL;
    cr_rc rc;

    e->full_url = jstr(ej, "fullUrl");
    if (!json_is_object(req))
        return entry_err(e, CR_EINVAL, "required", "%s",
                         "every entry of a batch or transaction needs a "
                         "request (method and url)");
    method = jstr(req, "method");
    e->url = jstr(req, "url");
    if (method == NULL || e->url == NULL)
        return entry_err(e, CR_EINVAL, "required", "%s",
                         "request.method and request.url are required");
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        e->method = M_GET;
    else if (strcmp(method, "POST") == 0)
        e->method = M_POST;
    else if (strcmp(method, "PUT") == 0)
        e->method = M_PUT;
    else if (strcmp(method, "DELETE") == 0)
        e->method = M_DELETE;
    else
        return entry_err(e, CR_EINVAL, "not-supported",
                         "request.method %s is not supported in a Bundle "
                         "(GET, POST, PUT, DELETE are)", method);
    rc = parse_url(x, e, &query);
    if (rc != CR_OK)
        return rc;
    e->url_id = e->id;

    e->job.type = e->type;
    e->job.org = x->principal.org;
    e->job.api = x->api;
    e->job.if_match = cr_api_parse_if_match(jstr(req, "ifMatch"));
    if (e->job.if_match < 0)
        return entry_err(e, CR_EINVAL, "value", "%s",
                         "request.ifMatch must be a version ETag such as "
                         "W/\"3\"");
    switch (e->method) {
    case M_GET:
        if (query || e->id == NULL)
            return entry_err(e, CR_EINVAL, "not-supported", "%s",
                             "search inside a Bundle is not supported yet; "
                             "GET entries read Type/id or "
                             "Type/id/_history/vid");
        return CR_OK;
    case M_POST:
        if (e->id || query)
            return entry_err(e, CR_EINVAL, "invalid", "%s",
                             "a POST entry's url is the type alone");
        e->job.kind = W_CREATE;
        if (jstr(req, "ifNoneExist") &&
            cr_api_parse_condition(x, &e->job, jstr(req, "ifNoneExist"),
                                   &e->err) != CR_OK)
            return e->err.rc;
        break;
    case M_PUT:
    case M_DELETE:
        if (e->vid)
            return entry_err(e, CR_EINVAL, "invalid", "%s",
                             "PUT and DELETE act on Type/id or "
                             "Type?condition");
        if ((e->id == NULL) == (query == NULL))
            return entry_err(e, CR_EINVAL, "invalid", "%s",
                             "PUT and DELETE need Type/id or "
                             "Type?condition");
        e->job.kind = e->method == M_PUT ? W_UPDATE : W_DELETE;
        if (query && cr_api_parse_condition(x, &e->job, query, &e->err) !=
                         CR_OK)
            return e->err.rc;
        break;
    }
    if (e->job.cond_param && strcmp(e->job.cond_param, "_id") == 0)
        return entry_err(e, CR_EINVAL, "not-supported", "%s",
                         "conditions on _id are not supported in a Bundle; "
                         "use Type/id");
    e->is_write = true;
    if (e->method != M_DELETE && !e->has_resource)
        return entry_err(e, CR_EINVAL, "required", "%s",
                         "POST and PUT entries need a resource");
    if (e->has_resource) {
        const char *rt = jstr(json_object_get(ej, "resource"),
                              "resourceType");
        if (e->method != M_DELETE && (rt == NULL || strcmp(rt, e->type)))
            return entry_err(e, CR_EINVAL, "invalid",
                             "the resource's type does not match "
                             "request.url '%.200s'", e->url);
    }
    return CR_OK;
}

/* ---- conditions, ids and references ---- */

static cr_rc
resolve_condition(struct bundle *b, struct bentry *e)
{
    struct write_job *j = &e->job;
    char ids[2][65];
    size_t n = 0;
    cr_rc rc;

    rc = cr_store_find_token(b->x->api->store, j->type, j->cond_param,
                             j->cond_system, j->cond_code, ids, 2, &n,
                             &e->err);
    if (rc != CR_OK)
        return rc;
    if (n > 1)
        return cr_err_set(&e->err, CR_EPRECOND, "duplicate", NULL,
                          "the condition matches %zu %s resources; it must "
                          "match at most one", n, j->type);
    j->has_expect = true;
    j->expect_n = n;
    if (n == 1) {
        snprintf(j->found_id, sizeof j->found_id, "%s", ids[0]);
        e->id = j->found_id;
    }
    return CR_OK;
}

/* The id each write acts on, and what its fullUrl stands for. */
static cr_rc
assign_ids(struct bundle *b, struct bentry *e)
{
    cr_rc rc;

    if (e->job.cond_param) {
        rc = resolve_condition(b, e);
        if (rc != CR_OK)
            return rc;
    }
    if (e->id == NULL && (e->method == M_POST || e->method == M_PUT)) {
        cr_api_new_id(e->new_id);
        e->id = e->new_id;
    }
    e->job.id = e->id;
    if (e->id)
        snprintf(e->target, sizeof e->target, "%s/%s", e->type, e->id);
    return CR_OK;
}

/* What a reference string in a transaction stands for: another entry's
 * fullUrl, or a conditional reference resolved now. NULL: keep it. */
static const char *
map_reference(struct bundle *b, const char *s, size_t len,
              struct cr_err *err, bool *is_bad)
{
    struct cr_arena *a = b->x->req->arena;
    const char *q;
    size_t i;

    for (i = 0; i < b->n; i++) {
        const char *fu = b->e[i].full_url;
        if (fu && b->e[i].target[0] && strlen(fu) == len &&
            memcmp(fu, s, len) == 0)
            return b->e[i].target;
    }
    q = memchr(s, '?', len);
    if (q && q > s && (size_t)(q - s) < 64) {
        char type[64];
        struct write_job j;
        char ids[2][65];
        size_t n = 0;
        char *cond;

        memcpy(type, s, (size_t)(q - s));
        type[q - s] = '\0';
        if (!cr_fhir_is_supported_type(type))
            return NULL;
        memset(&j, 0, sizeof j);
        cond = cr_arena_strndup(a, q + 1, len - (size_t)(q - s) - 1);
        if (cond == NULL || cr_api_parse_condition(b->x, &j, cond, err) !=
                                CR_OK ||
            strcmp(j.cond_param, "identifier") != 0) {
            *is_bad = true;
            cr_err_set(err, CR_EINVAL, "not-supported", NULL,
                       "conditional reference '%.*s' is not supported: use "
                       "Type?identifier=system|value", (int)(len > 200 ? 200
                       : len), s);
            return NULL;
        }
        if (cr_store_find_token(b->x->api->store, type, "identifier",
                                j.cond_system, j.cond_code, ids, 2, &n,
                                err) != CR_OK) {
            *is_bad = true;
            return NULL;
        }
        if (n == 0) {
            /* Not stored yet: an entry of this transaction that creates
             * it under the same condition is what the reference means. */
            for (i = 0; i < b->n; i++) {
                const struct write_job *o = &b->e[i].job;
                if (b->e[i].method == M_POST && o->cond_param &&
                    strcmp(o->cond_param, "identifier") == 0 &&
                    strcmp(b->e[i].type, type) == 0 &&
                    strcmp(o->cond_code, j.cond_code) == 0 &&
                    (o->cond_system == NULL) == (j.cond_system == NULL) &&
                    (!o->cond_system ||
                     strcmp(o->cond_system, j.cond_system) == 0) &&
                    b->e[i].target[0])
                    return b->e[i].target;
            }
        }
        if (n != 1) {
            *is_bad = true;
            if (n != 1)
                cr_err_set(err, n ? CR_EPRECOND : CR_ENOTFOUND,
                           n ? "multiple-matches" : "not-found", NULL,
                           "conditional reference '%.*s' matches %zu "
                           "resources; it must match exactly one",
                           (int)(len > 200 ? 200 : len), s, n);
            return NULL;
        }
        {
            size_t tl = strlen(type) + strlen(ids[0]) + 2;
            char *t = cr_arena_alloc(a, tl);
            if (t == NULL)
                return NULL;
            snprintf(t, tl, "%s/%s", type, ids[0]);
            return t;
        }
    }
    return NULL;
}

/* What rewrite asks of map_reference, for one entry. */
struct map_ctx {
    struct bundle *b;
    struct bentry *e;
};

static const char *
map_entry_ref(void *ctx, const char *s, size_t len, bool *is_bad)
{
    struct map_ctx *m = ctx;

    return map_reference(m->b, s, len, &m->e->err, is_bad);
}

/* Copy 'len' bytes of entry resource text into e->text, replacing every
 * Reference.reference that is another entry's fullUrl (or a conditional
 * reference) with the reference it stands for. */
static cr_rc
rewrite(struct bundle *b, struct bentry *e, const char *s, size_t len)
{
    struct map_ctx m = { b, e };
    cr_rc rc;

    e->text = cr_buf_make(0);
    rc = cr_api_rewrite_refs(s, len, map_entry_ref, &m, &e->text);
    if (rc == CR_EINVAL)
        return e->err.rc;
    if (rc != CR_OK)
        return cr_err_set(&e->err, rc, "too-costly", NULL,
                          "the entry is too large");
    return CR_OK;
}

static cr_rc
prepare_resource(struct bundle *b, struct bentry *e)
{
    const char *body = b->x->req->body;
    const char *text = body + e->rstart;
    size_t len = e->rend - e->rstart;
    json_t *id;
    cr_rc rc;

    if (b->is_txn) {
        rc = rewrite(b, e, text, len);
        if (rc != CR_OK)
            return rc;
        text = e->text.ptr;
        len = e->text.len;
    }
    rc = cr_api_parse_text(b->x, e->type,
                           e->method == M_PUT && !e->job.cond_param ? e->id
                                                                    : NULL,
                           text, len, &e->p, &e->err);
    if (rc != CR_OK)
        return rc;
    id = json_object_get(e->p.root, "id");
    if (e->method == M_PUT && e->job.cond_param && id &&
        (!json_is_string(id) || strcmp(json_string_value(id), e->id) != 0))
        return cr_err_set(&e->err, CR_EINVAL, "invalid", "id",
                          "the resource's id does not match the resource "
                          "the condition found (%s)", e->id);
    e->job.p = &e->p;
    return CR_OK;
}

/* ---- the writer transaction ---- */

static cr_rc
run_entry(struct cr_store_txn *txn, struct bentry *e)
{
    cr_err_clear(&e->err);
    e->rc = cr_api_write_in_txn(txn, &e->job, &e->err);
    return e->rc;
}

/* One audit record for the Bundle's writes, in their transaction. */
static cr_rc
record_bundle(struct cr_store_txn *txn, struct bundle *b, struct cr_err *err)
{
    struct cr_buf refs = cr_buf_make(0);
    size_t i;
    cr_rc rc;

    /* A batch reads its GET entries after the commit: then the record is
     * written with the answer instead (audit_step.c), to include them. */
    for (i = 0; !b->is_txn && i < b->n; i++)
        if (b->e[i].method == M_GET) {
            cr_buf_free(&refs);
            return CR_OK;
        }
    for (i = 0; i < b->n; i++) {
        const struct bentry *e = &b->e[i];
        const struct write_job *j = &e->job;
        if (e->rc == CR_OK && e->method == M_GET && e->is_read) {
            cr_audit_refs_add(&refs, e->type, e->id, e->got_meta.version);
            continue;
        }
        if (e->rc != CR_OK || !e->is_write || j->result == RES_NO_MATCH)
            continue;
        if (j->result == RES_EXISTING)
            cr_audit_refs_add(&refs, e->type, j->found_id,
                              j->found_meta.version);
        else if (j->id)
            cr_audit_refs_add(&refs, e->type, j->id, j->version);
    }
    rc = cr_api_audit_in_txn(b->x, txn, b->is_txn ? CR_AUDIT_TRANSACTION
                                                  : CR_AUDIT_BATCH,
                             200, NULL, &refs, err);
    cr_buf_free(&refs);
    return rc;
}

/* A GET entry is a read like any other: the policy decides on what was
 * read; a withheld resource becomes the entry's error (403 naming the
 * rule, or 404 as if it did not exist), a redacted Patient is served
 * redacted. */
static cr_rc
get_allowed(struct bundle *b, struct bentry *e)
{
    enum cr_policy_withhold why;
    enum cr_policy_show show = cr_api_view_item(b->x, e->type, &e->got_meta,
                                                e->got.ptr ? e->got.ptr : "",
                                                e->got.len, &why);

    if (show == CR_POLICY_SHOW)
        return CR_OK;
    if (show == CR_POLICY_SHOW_REDACTED) {
        struct cr_buf r = cr_buf_make(0);
        cr_api_view_add(&r, show, e->got.ptr, e->got.len);
        cr_buf_free(&e->got);
        e->got = r;
        return r.rc;
    }
    cr_err_clear(&e->err);
    return cr_api_view_err(b->x, e->type, e->id, &e->got_meta, why, &e->err);
}

static cr_rc
bundle_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    static const enum method order[] = { M_DELETE, M_POST, M_PUT };
    struct bundle *b = ctx;
    size_t i, k;

    for (k = 0; k < 3; k++) {
        for (i = 0; i < b->n; i++) {
            struct bentry *e = &b->e[i];
            cr_rc rc;
            if (e->method != order[k] || !e->is_write || e->rc != CR_OK)
                continue;
            if (b->is_txn) {
                rc = run_entry(txn, e);
                if (rc != CR_OK) {
                    b->failed = i;
                    *err = e->err;
                    return rc;
                }
                continue;
            }
            rc = cr_store_txn_begin(txn, &e->err);
            if (rc == CR_OK) {
                rc = run_entry(txn, e);
                cr_store_txn_end(txn, rc == CR_OK, NULL);
            }
            e->rc = rc;
        }
    }
    if (!b->is_txn)
        return record_bundle(txn, b, err);
    /* A transaction's reads come last, inside it: they see its writes, and
     * a failing read undoes them like any other failing entry. */
    for (i = 0; i < b->n; i++) {
        struct bentry *e = &b->e[i];
        cr_rc rc;
        if (e->method != M_GET || e->rc != CR_OK)
            continue;
        cr_buf_reset(&e->got);
        cr_err_clear(&e->err);
        rc = e->vid ? cr_store_txn_vread(txn, e->type, e->id, e->vid,
                                         &e->got, &e->got_meta, &e->err)
                    : cr_store_txn_read(txn, e->type, e->id, &e->got,
                                        &e->got_meta, &e->err);
        if (rc == CR_ENOTFOUND || rc == CR_EGONE)
            cr_err_set(&e->err, rc, rc == CR_EGONE ? "deleted" : "not-found",
                       NULL, "%s/%s %s", e->type, e->id,
                       rc == CR_EGONE ? "was deleted"
                                      : "is not known to this server");
        if (rc == CR_OK)
            rc = get_allowed(b, e);
        if (rc != CR_OK) {
            b->failed = i;
            *err = e->err;
            return rc;
        }
        e->is_read = true;
    }
    return record_bundle(txn, b, err);
}

/* ---- answering ---- */

static void
add_outcome(struct cr_buf *out, const struct cr_err *err)
{
    cr_buf_adds(out, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{"
                     "\"severity\":\"error\",\"code\":");
    cr_buf_add_json_str(out, err->code[0] ? err->code : "exception");
    cr_buf_adds(out, ",\"diagnostics\":");
    cr_buf_add_json_str(out, err->msg);
    if (err->where[0]) {
        cr_buf_adds(out, ",\"expression\":[");
        cr_buf_add_json_str(out, err->where);
        cr_buf_addc(out, ']');
    }
    cr_buf_adds(out, "}]}");
}

static const char *
status_text(unsigned status)
{
    switch (status) {
    case 200: return "200 OK";
    case 201: return "201 Created";
    case 204: return "204 No Content";
    default: return NULL;
    }
}

static void
add_response(struct cr_buf *out, unsigned status, const char *location,
             int64_t version, int64_t ms)
{
    char when[32];

    cr_buf_adds(out, "\"response\":{\"status\":\"");
    cr_buf_adds(out, status_text(status));
    cr_buf_addc(out, '"');
    if (location)
        cr_buf_addf(out, ",\"location\":\"%s/_history/%lld\"", location,
                    (long long)version);
    if (version)
        cr_buf_addf(out, ",\"etag\":\"W/\\\"%lld\\\"\"", (long long)version);
    if (ms > 0) {
        cr_clock_instant(ms, when, sizeof when);
        cr_buf_addf(out, ",\"lastModified\":\"%s\"", when);
    }
    cr_buf_addc(out, '}');
}

static void
add_entry(struct bundle *b, struct cr_buf *out, struct bentry *e)
{
    struct ctx *x = b->x;
    struct write_job *j = &e->job;
    bool with_resource = x->prefer != PREFER_MINIMAL;
    char loc[160];

    cr_buf_addc(out, '{');
    if (e->rc == CR_OK && e->id && e->method != M_DELETE)
        cr_api_touch(x, e->type, e->method == M_GET ? e->id
                             : j->result == RES_EXISTING ? j->found_id
                                                         : j->id,
                     e->method == M_GET ? e->got_meta.version
                     : j->result == RES_EXISTING ? j->found_meta.version
                                                 : j->version);
    if (e->rc != CR_OK) {
        struct cr_err err = e->err;
        name_entry(e, &err);
        cr_buf_addf(out, "\"response\":{\"status\":\"%u\",\"outcome\":",
                    cr_api_status_for(&err));
        add_outcome(out, &err);
        cr_buf_adds(out, "}}");
        return;
    }
    if (e->method == M_GET) {
        snprintf(loc, sizeof loc, "%s/%s", e->type, e->id);
        cr_buf_addf(out, "\"fullUrl\":\"%s/%s\",\"resource\":",
                    x->api->base_url, loc);
        cr_buf_add(out, e->got.ptr, e->got.len);
        cr_buf_addc(out, ',');
        add_response(out, 200, NULL, e->got_meta.version,
                     e->got_meta.last_updated_ms);
        cr_buf_addc(out, '}');
        return;
    }
    switch (j->result) {
    case RES_EXISTING:
        snprintf(loc, sizeof loc, "%s/%s", e->type, j->found_id);
        cr_buf_addf(out, "\"fullUrl\":\"%s/%s\",", x->api->base_url, loc);
        if (with_resource) {
            cr_buf_adds(out, "\"resource\":");
            cr_buf_add(out, j->found.ptr, j->found.len);
            cr_buf_addc(out, ',');
        }
        add_response(out, 200, loc, j->found_meta.version,
                     j->found_meta.last_updated_ms);
        break;
    case RES_CREATED:
    case RES_UPDATED:
        snprintf(loc, sizeof loc, "%s/%s", e->type, j->id);
        cr_buf_addf(out, "\"fullUrl\":\"%s/%s\",", x->api->base_url, loc);
        if (with_resource) {
            cr_buf_adds(out, "\"resource\":");
            cr_buf_add(out, e->p.json.ptr, e->p.json.len);
            cr_buf_addc(out, ',');
        }
        add_response(out, j->result == RES_CREATED ? 201 : 200, loc,
                     j->version, j->ms);
        break;
    case RES_DELETED:
    case RES_ALREADY_DELETED:
    case RES_NO_MATCH:
        add_response(out, 204, NULL, j->result == RES_NO_MATCH ? 0
                                                               : j->version,
                     j->result == RES_DELETED ? j->ms : 0);
        break;
    }
    cr_buf_addc(out, '}');
}

static void
answer(struct bundle *b)
{
    struct ctx *x = b->x;
    struct cr_buf out = cr_buf_make(0);
    size_t i;

    if (b->rc != CR_OK) {
        struct cr_err err = b->err;
        if (b->failed < b->n)
            name_entry(&b->e[b->failed], &err);
        cr_api_fail(x, &err);
        return;
    }
    /* A batch's GETs come last, and see what the writes did (a
     * transaction's ran inside it). */
    for (i = 0; i < b->n; i++) {
        struct bentry *e = &b->e[i];
        if (e->method != M_GET || e->rc != CR_OK || e->is_read)
            continue;
        e->got = cr_buf_make(0);
        cr_err_clear(&e->err);
        e->rc = e->vid ? cr_store_vread(x->api->store, e->type, e->id,
                                        e->vid, &e->got, &e->got_meta,
                                        &e->err)
                       : cr_store_read(x->api->store, e->type, e->id,
                                       &e->got, &e->got_meta, &e->err);
        if (e->rc == CR_ENOTFOUND || e->rc == CR_EGONE)
            cr_err_set(&e->err, e->rc, e->rc == CR_EGONE ? "deleted"
                                                        : "not-found",
                       NULL, "%s/%s %s", e->type, e->id,
                       e->rc == CR_EGONE ? "was deleted"
                                         : "is not known to this server");
        if (e->rc == CR_OK)
            e->rc = get_allowed(b, e);
        if (e->rc != CR_OK && b->is_txn) {
            struct cr_err err = e->err;
            name_entry(e, &err);
            cr_api_fail(x, &err);
            return;
        }
    }
    cr_api_bundle_start(&out, b->is_txn ? "transaction-response"
                                        : "batch-response");
    if (b->n) {
        cr_buf_adds(&out, ",\"entry\":[");
        for (i = 0; i < b->n; i++) {
            if (i)
                cr_buf_addc(&out, ',');
            add_entry(b, &out, &b->e[i]);
        }
        cr_buf_addc(&out, ']');
    }
    cr_buf_addc(&out, '}');
    cr_api_send_buf(x, 200, &out);
}

/* A transaction fails at entry i: answer with that entry's error. */
static void
fail_at(struct bundle *b, size_t i, cr_rc rc)
{
    b->rc = rc;
    b->err = b->e[i].err;
    b->failed = i;
    answer(b);
}

static void
bundle_answer(void *arg, struct cr_http_req *req,
              struct cr_http_resp *resp);

/* The writes of a Bundle whose entries are parsed and whose ids are
 * assigned: check them, prepare their resources, and run them in one
 * store job; the answer comes from bundle_answer (or now, on an error). */
static void
write_all(struct bundle *b)
{
    struct ctx *x = b->x;
    size_t i;
    cr_rc rc;

    if (b->is_txn) {
        /* No two entries may act on the same resource. */
        size_t k;
        for (i = 0; i < b->n; i++)
            for (k = i + 1; k < b->n; k++)
                if (b->e[i].is_write && b->e[k].is_write &&
                    b->e[i].id && b->e[k].id &&
                    strcmp(b->e[i].type, b->e[k].type) == 0 &&
                    strcmp(b->e[i].id, b->e[k].id) == 0) {
                    cr_api_outcome(x, 400, "error", "invalid", NULL,
                                   "entries %zu and %zu both act on %s/%s; "
                                   "a transaction may act on a resource "
                                   "once", i, k, b->e[i].type, b->e[i].id);
                    return;
                }
    }
    for (i = 0; i < b->n; i++) {
        struct bentry *e = &b->e[i];
        const struct cr_policy_decision *d;
        if (e->rc != CR_OK || !e->is_write)
            continue;
        rc = e->method == M_DELETE ? CR_OK : prepare_resource(b, e);
        if (rc == CR_OK)
            rc = cr_api_write_allowed(x, &e->job, &d, &e->err);
        e->rc = rc;
        if (rc != CR_OK && b->is_txn) {
            fail_at(b, i, rc);
            return;
        }
    }

    if (!cr_api_queue_write(x, &b->q, &b->rc, &b->err, bundle_in_txn, b,
                            bundle_answer, b))
        answer(b);
}

/* Run a transaction again that failed because a condition found something
 * else inside it than when it was prepared: forget what was resolved and
 * prepared, resolve and prepare again (now seeing what changed), and
 * queue it again. */
static void
run_again(struct bundle *b)
{
    size_t i;

    b->tries++;
    b->rc = CR_OK;
    b->failed = SIZE_MAX;
    cr_err_clear(&b->err);
    for (i = 0; i < b->n; i++) {
        struct bentry *e = &b->e[i];
        struct write_job *j = &e->job;
        if (!e->is_write)
            continue;
        cr_api_prepared_free(&e->p);
        memset(&e->p, 0, sizeof e->p);
        cr_buf_free(&e->text);
        cr_buf_free(&j->found);
        e->rc = CR_OK;
        cr_err_clear(&e->err);
        e->id = e->url_id;
        e->target[0] = '\0';
        j->id = NULL;
        j->p = NULL;
        j->has_expect = false;
        j->is_stale = false;
        j->expect_n = 0;
        j->found_id[0] = '\0';
        j->result = RES_CREATED;
        j->version = 0;
    }
    for (i = 0; i < b->n; i++) {
        struct bentry *e = &b->e[i];
        cr_rc rc;
        if (!e->is_write)
            continue;
        rc = assign_ids(b, e);
        if (rc != CR_OK) {
            e->rc = rc;
            fail_at(b, i, rc);
            return;
        }
    }
    write_all(b);
}

/* Did the transaction fail only because a condition it resolved before
 * it ran found something else by then? */
static bool
is_stale(const struct bundle *b)
{
    return b->is_txn && b->rc == CR_ECONFLICT && b->failed < b->n &&
           b->e[b->failed].job.is_stale;
}

static void
bundle_answer(void *arg, struct cr_http_req *req, struct cr_http_resp *resp)
{
    struct bundle *b = arg;

    (void)req;
    b->x->resp = resp;
    resp->principal = b->x->who;
    if (is_stale(b) && b->tries < MAX_TRIES) {
        run_again(b);
        if (resp->status == 0)
            return;                 /* queued again: answered later */
    } else {
        answer(b);
    }
    cr_api_audited_send(b->x);
}

static void
free_bundle(void *arg)
{
    struct bundle *b = arg;
    size_t i;

    for (i = 0; b->e && i < b->n; i++) {
        cr_api_prepared_free(&b->e[i].p);
        cr_buf_free(&b->e[i].text);
        cr_buf_free(&b->e[i].got);
        cr_buf_free(&b->e[i].job.found);
    }
    json_decref(b->root);
}

struct span_walk {
    struct bundle *b;
    const char *body;
};

static bool
entry_span(void *ctx, size_t index, size_t start, size_t end)
{
    struct span_walk *w = ctx;
    struct bentry *e;
    size_t rs, re;

    if (index >= w->b->n)
        return false;
    e = &w->b->e[index];
    if (cr_jsontext_member(w->body + start, end - start, "resource", &rs,
                           &re)) {
        e->has_resource = true;
        e->rstart = start + rs;
        e->rend = start + re;
    }
    return true;
}

void
cr_api_bundle(struct ctx *x)
{
    struct cr_http_req *req = x->req;
    int limit = x->api->cfg.max_json_depth + 2;
    struct bundle *b;
    struct cr_err err;
    json_error_t jerr;
    json_t *entries, *ej;
    const char *type;
    size_t i, s0, s1;
    cr_rc rc;

    cr_err_clear(&err);
    if (!cr_api_check_content_type(x))
        return;
    b = cr_arena_calloc(req->arena, 1, sizeof *b);
    if (b == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return;
    }
    b->x = x;
    b->failed = SIZE_MAX;
    cr_arena_on_destroy(req->arena, free_bundle, b);
    if (req->body_len == 0) {
        cr_api_outcome(x, 400, "error", "required", NULL,
                       "the request has no body: send a batch or "
                       "transaction Bundle");
        return;
    }
    if (cr_jsontext_depth(req->body, req->body_len, limit) > limit) {
        cr_api_outcome(x, 400, "error", "structure", NULL,
                       "the JSON nests deeper than %d levels", limit);
        return;
    }
    b->root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
                         &jerr);
    if (b->root == NULL) {
        cr_api_outcome(x, 400, "error", "structure", NULL,
                       "the body is not valid JSON: %s (line %d, column %d)",
                       jerr.text, jerr.line, jerr.column);
        return;
    }
    if (!json_is_object(b->root) || jstr(b->root, "resourceType") == NULL ||
        strcmp(jstr(b->root, "resourceType"), "Bundle") != 0) {
        cr_api_outcome(x, 400, "error", "invalid", "resourceType",
                       "POST /fhir takes a Bundle of type batch or "
                       "transaction");
        return;
    }
    type = jstr(b->root, "type");
    if (type && strcmp(type, "transaction") == 0) {
        b->is_txn = true;
        x->is_txn = true;
    } else if (!type || strcmp(type, "batch") != 0) {
        cr_api_outcome(x, 400, "error", "value", "Bundle.type",
                       "Bundle.type must be batch or transaction here, not "
                       "'%.40s'", type ? type : "(missing)");
        return;
    }
    /* The envelope is checked here without the entries' resources; each
     * resource is checked with its entry (prepare_resource), so a batch
     * keeps its good entries and an error names the entry it is in. */
    {
        json_t *shell = json_deep_copy(b->root), *ej2;
        size_t k;
        cr_rc vrc;
        if (shell == NULL) {
            cr_api_outcome(x, 503, "error", "transient", NULL,
                           "the server is out of memory; try again shortly");
            return;
        }
        json_array_foreach(json_object_get(shell, "entry"), k, ej2)
            json_object_del(ej2, "resource");
        vrc = cr_fhir_validate_any(shell, &err);
        json_decref(shell);
        if (vrc != CR_OK) {
            err.http_status = 400;
            cr_api_fail(x, &err);
            return;
        }
    }
    entries = json_object_get(b->root, "entry");
    b->n = json_array_size(entries);
    if (b->n > (size_t)x->api->cfg.max_bundle_entries) {
        cr_api_outcome(x, 413, "error", "too-costly", NULL,
                       "the Bundle has %zu entries; this server takes at "
                       "most %d in one request: split it", b->n,
                       x->api->cfg.max_bundle_entries);
        return;
    }
    if (b->n) {
        struct span_walk w = { b, NULL };
        b->e = cr_arena_calloc(req->arena, b->n, sizeof *b->e);
        if (b->e == NULL) {
            cr_api_outcome(x, 503, "error", "transient", NULL,
                           "the server is out of memory; try again shortly");
            return;
        }
        if (cr_jsontext_member(req->body, req->body_len, "entry", &s0,
                               &s1)) {
            w.body = req->body + s0;
            cr_jsontext_items(w.body, s1 - s0, entry_span, &w);
            for (i = 0; i < b->n; i++) {
                b->e[i].rstart += s0;
                b->e[i].rend += s0;
            }
        }
    }

    /* Each entry's request; a transaction stops at the first bad one. */
    json_array_foreach(entries, i, ej) {
        struct bentry *e = &b->e[i];
        e->index = i;
        rc = parse_entry(b, e, ej);
        if (rc == CR_OK && e->is_write)
            rc = assign_ids(b, e);
        e->rc = rc;
        if (rc != CR_OK && b->is_txn) {
            fail_at(b, i, rc);
            return;
        }
    }
    write_all(b);
}
