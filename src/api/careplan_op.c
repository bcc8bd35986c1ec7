/* careplan_op.c: POST /fhir/Patient/{id}/$care-plan, saving a whole
 * Universal Care Plan at once.
 *
 * The body is a Bundle of type "collection": the CarePlan and the
 * resources it refers to (the CPR decision Flag, ADRT and LPA Flags, key
 * contacts as RelatedPersons, just-in-case MedicationRequests). New
 * resources have a urn:uuid: fullUrl and no id; resources that already
 * exist are sent with their id (fullUrl Type/id) and are updated only
 * when they changed. A CarePlan sent with the id of the patient's current
 * plan revises it (a new version); a CarePlan without an id is a new plan
 * that supersedes the current one: the server writes the old plan again
 * as "revoked" and the new one with "replaces" pointing at it, so nothing
 * is lost and the person has exactly one current plan. Flags of the plan
 * that the new version no longer refers to are made inactive.
 *
 * Everything is checked before anything is written: FHIR R4 validity of
 * each resource, the plan's rules (careplan/, every broken rule one issue
 * naming its element, answered 422), the access policy for each write
 * (cr_api_write_allowed, like any other write). Then one store
 * transaction writes it all with one audit record, after checking that
 * the patient's current plan is still the one the request was prepared
 * against: If-Match (the version of the current plan) answers 412 when it
 * moved, and without If-Match a plan saved meanwhile by someone else
 * answers 409, so concurrent saves keep exactly one current plan.
 * docs/care-plan.md has the model and the rules; docs/api.md the request.
 * Depends on careplan/, store/, fhir/, core/ and jansson. */
#include "api/apiInt.h"

#include "careplan/careplan.h"
#include "core/clock.h"
#include "core/jsontext.h"
#include "fhir/fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 64
#define MAX_CURRENT 8       /* current plans one person may have (imported
                               data); past that, the save is refused */
#define MAX_EXTRA 64        /* server-made writes: revoked plans, Flags
                               made inactive */

/* One resource the request writes (or leaves as it is). */
struct pwrite {
    size_t index;               /* entry in the request; SIZE_MAX for a
                                   server-made write */
    const char *full_url;
    const char *type;
    const char *id;
    bool is_new;
    bool is_unchanged;          /* exists with exactly this content */
    char new_id[37];
    char ref[140];              /* "Type/id" */
    enum cr_careplan_kind kind;
    const json_t *given;        /* the resource as sent (in the request's
                                   parsed Bundle) */
    size_t rstart, rend;        /* its text in the body */
    struct cr_buf text;         /* the text to store (before id and meta) */
    struct prepared p;
    struct write_job job;
    struct cr_buf stored;       /* existing: the current stored bytes */
    struct cr_store_meta stored_meta;
};

/* A current plan of the patient, as read before the transaction. */
struct current {
    char id[65];
    int64_t version;
    int64_t seq;                /* the store's change sequence number */
    char org[33];
};

struct plan_op {
    struct ctx *x;
    json_t *root;
    const char *pid;
    struct pwrite *w;           /* request entries, then server-made */
    size_t n, nreq;
    size_t plan_i;              /* the CarePlan's entry */
    bool is_revision;
    int64_t if_match;
    struct current cur[MAX_CURRENT];
    size_t ncur;
    size_t target;              /* the current plan If-Match names */
    json_t *read[MAX_ENTRIES];  /* parsed store resources, for the check */
    size_t nread;
    struct cr_careplan_part parts[MAX_ENTRIES];
    size_t nparts;
    char recorded[32];          /* when the server received the save */
    struct cr_api_queued q;
    struct cr_err err;
    cr_rc rc;
    size_t failed;
};

/* ---- small helpers --------------------------------------------------- */

static const char *
jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void
fail(struct plan_op *op, unsigned status, const char *code, const char *where,
     const char *msg)
{
    cr_api_outcome(op->x, status, "error", code, where, "%s", msg);
}

/* "Type/id" of a relative or absolute (this server's base) reference, in
 * type[64] and id[65]; false when it is neither. */
static bool
split_ref(const struct ctx *x, const char *s, char type[64], char id[65])
{
    const char *base = x->api->base_url, *slash, *hist;
    size_t blen = strlen(base), tl, il;

    if (s == NULL)
        return false;
    if (blen && strncmp(s, base, blen) == 0 && s[blen] == '/')
        s += blen + 1;
    slash = strchr(s, '/');
    if (slash == NULL || strchr(s, ':'))
        return false;
    tl = (size_t)(slash - s);
    hist = strstr(slash + 1, "/_history/");
    il = hist ? (size_t)(hist - slash - 1) : strlen(slash + 1);
    if (tl == 0 || tl >= 64 || il == 0 || il >= 65 ||
        !cr_fhir_valid_id(slash + 1, il))
        return false;
    memcpy(type, s, tl);
    type[tl] = '\0';
    memcpy(id, slash + 1, il);
    id[il] = '\0';
    return cr_fhir_is_supported_type(type);
}

static void
free_op(void *arg)
{
    struct plan_op *op = arg;
    size_t i;

    for (i = 0; op->w && i < op->n; i++) {
        cr_api_prepared_free(&op->w[i].p);
        cr_buf_free(&op->w[i].text);
        cr_buf_free(&op->w[i].stored);
        cr_buf_free(&op->w[i].job.found);
    }
    for (i = 0; i < op->nread; i++)
        json_decref(op->read[i]);
    json_decref(op->root);
}

/* ---- reading the request --------------------------------------------- */

struct span_walk {
    struct plan_op *op;
    const char *body;
    size_t base;
};

static bool
entry_span(void *ctx, size_t index, size_t start, size_t end)
{
    struct span_walk *sw = ctx;
    size_t s0, s1;

    if (index >= sw->op->nreq)
        return false;
    if (cr_jsontext_member(sw->body + start, end - start, "resource", &s0,
                           &s1)) {
        sw->op->w[index].rstart = sw->base + start + s0;
        sw->op->w[index].rend = sw->base + start + s1;
    }
    return true;
}

/* Each entry's type, fullUrl, id and kind; false after answering 400. */
static bool
read_entries(struct plan_op *op)
{
    static const char *const types[] = { "CarePlan", "Flag", "RelatedPerson",
                                         "MedicationRequest", NULL };
    struct ctx *x = op->x;
    const json_t *entries = json_object_get(op->root, "entry"), *ej;
    size_t i, k, nplans = 0, s0, s1;
    char where[64], t[64], id[65];

    op->nreq = json_array_size(entries);
    if (op->nreq == 0) {
        fail(op, 400, "required", "Bundle.entry", "the Bundle has no "
             "entries: send the CarePlan and the resources it refers to");
        return false;
    }
    if (op->nreq > MAX_ENTRIES) {
        cr_api_outcome(x, 413, "error", "too-costly", "Bundle.entry",
                       "a care plan has at most %d resources", MAX_ENTRIES);
        return false;
    }
    op->w = cr_arena_calloc(x->req->arena, op->nreq + MAX_EXTRA,
                            sizeof *op->w);
    if (op->w == NULL) {
        fail(op, 503, "transient", NULL, "the server is out of memory");
        return false;
    }
    op->n = op->nreq;
    if (cr_jsontext_member(x->req->body, x->req->body_len, "entry", &s0,
                           &s1)) {
        struct span_walk sw = { op, x->req->body + s0, s0 };
        cr_jsontext_items(x->req->body + s0, s1 - s0, entry_span, &sw);
    }
    json_array_foreach(entries, i, ej) {
        struct pwrite *e = &op->w[i];
        const json_t *res = json_object_get(ej, "resource");
        const char *rt = jstr(res, "resourceType");

        e->index = i;
        e->text = cr_buf_make(0);
        e->stored = cr_buf_make(0);
        e->p.json = cr_buf_make(0);
        e->job.found = cr_buf_make(0);
        snprintf(where, sizeof where, "Bundle.entry[%zu]", i);
        if (!json_is_object(res) || rt == NULL || e->rend <= e->rstart) {
            cr_api_outcome(x, 400, "error", "required", where,
                           "entry[%zu] has no resource", i);
            return false;
        }
        for (k = 0; types[k] && strcmp(types[k], rt) != 0; k++)
            ;
        if (types[k] == NULL) {
            cr_api_outcome(x, 400, "error", "not-supported", where,
                           "entry[%zu]: a %.64s is not part of a Universal "
                           "Care Plan (the plan holds a CarePlan, Flags, "
                           "RelatedPersons and MedicationRequests); write "
                           "it on its own and refer to it", i, rt);
            return false;
        }
        e->type = types[k];
        e->given = res;
        e->kind = cr_careplan_kind_of(e->type, res);
        e->full_url = jstr(ej, "fullUrl");
        if (e->kind == CR_CAREPLAN_PLAN) {
            op->plan_i = i;
            nplans++;
        }
        if (e->full_url && strncmp(e->full_url, "urn:uuid:", 9) == 0) {
            if (json_object_get(res, "id")) {
                cr_api_outcome(x, 400, "error", "invalid", where,
                               "entry[%zu] is new (its fullUrl is a "
                               "urn:uuid:), so its resource has no id", i);
                return false;
            }
            e->is_new = true;
            cr_api_new_id(e->new_id);
            e->id = e->new_id;
        } else {
            const char *rid = jstr(res, "id");
            if (rid == NULL || e->full_url == NULL ||
                !split_ref(x, e->full_url, t, id) || strcmp(t, rt) != 0 ||
                strcmp(id, rid) != 0) {
                cr_api_outcome(x, 400, "error", "invalid", where,
                               "entry[%zu]: a new resource has a fullUrl "
                               "urn:uuid:<uuid> and no id; a resource that "
                               "exists has its id and the fullUrl %s/<id>",
                               i, rt);
                return false;
            }
            e->id = rid;
        }
        snprintf(e->ref, sizeof e->ref, "%s/%s", e->type, e->id);
        for (k = 0; k < i; k++)
            if ((e->full_url && op->w[k].full_url &&
                 strcmp(e->full_url, op->w[k].full_url) == 0) ||
                strcmp(e->ref, op->w[k].ref) == 0) {
                cr_api_outcome(x, 400, "error", "invalid", where,
                               "entries %zu and %zu are the same resource",
                               k, i);
                return false;
            }
    }
    if (nplans != 1) {
        cr_api_outcome(x, 400, "error", nplans ? "invalid" : "required",
                       "Bundle.entry", "a care plan is one CarePlan (and "
                       "what it refers to); this Bundle has %zu", nplans);
        return false;
    }
    return true;
}

/* ---- what is stored -------------------------------------------------- */

static cr_rc
add_current(void *ctx, const char *type, const char *id,
            const struct cr_store_meta *meta, const char *json, size_t len)
{
    struct plan_op *op = ctx;
    struct current *c;

    (void)type;
    if (!cr_careplan_text_is_plan(json, len, true))
        return CR_OK;
    if (op->ncur == MAX_CURRENT)
        return CR_ETOOBIG;
    c = &op->cur[op->ncur++];
    snprintf(c->id, sizeof c->id, "%s", id);
    c->version = meta->version;
    c->seq = meta->seq;
    snprintf(c->org, sizeof c->org, "%s", meta->org);
    /* If-Match of a new plan names the plan written last */
    if (c->seq > op->cur[op->target].seq)
        op->target = op->ncur - 1;
    return CR_OK;
}

/* The patient's current plans; false after answering. */
static bool
read_current(struct plan_op *op)
{
    const char *patients[1] = { op->pid }, *types[1] = { "CarePlan" };
    struct cr_err err;
    cr_rc rc;

    cr_err_clear(&err);
    rc = cr_store_compartment(op->x->api->store, patients, 1, types, 1,
                              add_current, op, &err);
    if (rc == CR_ETOOBIG) {
        cr_api_outcome(op->x, 409, "error", "conflict", NULL,
                       "Patient/%s has more than %d current care plans; "
                       "tell the node's operator", op->pid, MAX_CURRENT);
        return false;
    }
    if (rc != CR_OK) {
        cr_api_fail(op->x, &err);
        return false;
    }
    return true;
}

/* The stored bytes of every entry that exists; false after answering. */
static bool
read_existing(struct plan_op *op)
{
    struct cr_err err;
    size_t i;

    for (i = 0; i < op->nreq; i++) {
        struct pwrite *e = &op->w[i];
        char where[64];
        cr_rc rc;

        if (e->is_new)
            continue;
        snprintf(where, sizeof where, "Bundle.entry[%zu].fullUrl", i);
        cr_err_clear(&err);
        rc = cr_store_read(op->x->api->store, e->type, e->id, &e->stored,
                           &e->stored_meta, &err);
        if (rc == CR_ENOTFOUND || rc == CR_EGONE) {
            cr_api_outcome(op->x, 404, "error", "not-found", where,
                           "%s %s: a resource the plan updates must exist; "
                           "send a new one with a urn:uuid: fullUrl",
                           e->ref, rc == CR_EGONE ? "was deleted"
                                                  : "does not exist");
            return false;
        }
        if (rc != CR_OK) {
            cr_api_fail(op->x, &err);
            return false;
        }
        if (strcmp(e->stored_meta.patient, op->pid) != 0) {
            cr_api_outcome(op->x, 400, "error", "invalid", where,
                           "%s is not a resource of Patient/%s", e->ref,
                           op->pid);
            return false;
        }
    }
    return true;
}

/* Revision or new plan, checked against the current plans; false after
 * answering. */
static bool
decide_mode(struct plan_op *op)
{
    struct pwrite *plan = &op->w[op->plan_i];
    size_t i;

    if (!plan->is_new) {
        for (i = 0; i < op->ncur && strcmp(op->cur[i].id, plan->id); i++)
            ;
        if (i == op->ncur) {
            cr_api_outcome(op->x, 409, "error", "conflict",
                           "Bundle.entry.resource.id",
                           "%s is not the current care plan of Patient/%s "
                           "(it was superseded, or is not a Universal Care "
                           "Plan): revise the current plan, or send a new "
                           "plan without an id", plan->ref, op->pid);
            return false;
        }
        if (strcmp(op->cur[i].org, op->x->principal.org) != 0) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s was published by another "
                     "organisation (%s); only it may revise it. To record "
                     "your organisation's plan, send it without an id: it "
                     "supersedes this one", plan->ref, op->cur[i].org);
            cr_api_view_refusal(op->x, "organisation", msg);
            return false;
        }
        op->is_revision = true;
        op->target = i;
    } else if (op->if_match && op->ncur == 0) {
        cr_api_outcome(op->x, 412, "error", "conflict", NULL,
                       "If-Match: Patient/%s has no current care plan to "
                       "replace", op->pid);
        return false;
    }
    return true;
}

/* ---- composing what is stored ---------------------------------------- */

struct map_ctx {
    struct plan_op *op;
    char where[64];
};

static const char *
map_ref(void *ctx, const char *s, size_t len, bool *is_bad)
{
    struct map_ctx *m = ctx;
    struct plan_op *op = m->op;
    size_t i;

    for (i = 0; i < op->nreq; i++) {
        const char *fu = op->w[i].full_url;
        if (fu && strlen(fu) == len && memcmp(fu, s, len) == 0)
            return op->w[i].ref;
    }
    if (len >= 9 && memcmp(s, "urn:uuid:", 9) == 0) {
        *is_bad = true;
        cr_api_outcome(op->x, 400, "error", "not-found", m->where,
                       "the reference %.*s names no entry of the Bundle",
                       (int)(len > 120 ? 120 : len), s);
    }
    return NULL;
}

/* meta of the resource as sent, with the plan's profile for its kind. */
static char *
meta_with_profile(const json_t *given_meta, const char *profile)
{
    json_t *m = json_is_object(given_meta) ? json_deep_copy(given_meta)
                                           : json_object();
    json_t *list, *p;
    size_t i;
    bool has = false;
    char *text;

    if (m == NULL)
        return NULL;
    json_object_del(m, "versionId");
    json_object_del(m, "lastUpdated");
    list = json_object_get(m, "profile");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(m, "profile", list);
    }
    json_array_foreach(list, i, p)
        has = has || (json_string_value(p) &&
                      strcmp(json_string_value(p), profile) == 0);
    if (!has)
        json_array_append_new(list, json_string(profile));
    text = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    return text;
}

struct ext_walk {
    const char *text;
    struct cr_buf *b;
    int n;
};

/* Copy one extension of the client's, unless it is ucp-recorded-by. */
static bool
keep_extension(void *ctx, size_t index, size_t start, size_t end)
{
    static const char url[] = "\"" CR_CAREPLAN_EXT_RECORDED "\"";
    struct ext_walk *w = ctx;
    const char *item = w->text + start;
    size_t u0, u1;

    (void)index;
    if (cr_jsontext_member(item, end - start, "url", &u0, &u1) &&
        u1 - u0 == sizeof url - 1 && memcmp(item + u0, url, u1 - u0) == 0)
        return true;
    if (w->n++)
        cr_buf_addc(w->b, ',');
    cr_jsontext_add_minified(w->b, item, end - start);
    return true;
}

/* The CarePlan's extension array: the client's, but for ucp-recorded-by,
 * which the server writes: who saved this version, for which
 * organisation, in which role, when. */
static void
add_extensions(struct plan_op *op, const char *text, size_t len,
               struct cr_buf *b)
{
    const struct cr_principal *pr = &op->x->principal;
    size_t s0, s1;
    int n = 0;

    cr_buf_adds(b, ",\"extension\":[");
    if (cr_jsontext_member(text, len, "extension", &s0, &s1)) {
        struct ext_walk w = { text + s0, b, 0 };
        cr_jsontext_items(text + s0, s1 - s0, keep_extension, &w);
        n = w.n;
    }
    if (n++)
        cr_buf_addc(b, ',');
    cr_buf_adds(b, "{\"url\":\"" CR_CAREPLAN_EXT_RECORDED "\",\"extension\":"
                   "[{\"url\":\"who\",\"valueReference\":{\"type\":"
                   "\"Practitioner\",\"identifier\":{\"system\":"
                   "\"https://fhir.nhs.uk/Id/sds-user-id\",\"value\":");
    cr_buf_add_json_str(b, pr->sub);
    cr_buf_addc(b, '}');
    if (pr->name[0]) {
        cr_buf_adds(b, ",\"display\":");
        cr_buf_add_json_str(b, pr->name);
    }
    cr_buf_adds(b, "}}");
    if (pr->org[0]) {
        cr_buf_adds(b, ",{\"url\":\"organization\",\"valueReference\":{"
                       "\"type\":\"Organization\",\"identifier\":{"
                       "\"system\":\"https://fhir.nhs.uk/Id/"
                       "ods-organization-code\",\"value\":");
        cr_buf_add_json_str(b, pr->org);
        cr_buf_adds(b, "}}}");
    }
    if (pr->role[0]) {
        cr_buf_adds(b, ",{\"url\":\"role\",\"valueCoding\":{\"system\":"
                       "\"https://fhir.hl7.org.uk/CodeSystem/"
                       "UKCore-SDSJobRoleName\",\"code\":");
        cr_buf_add_json_str(b, pr->role);
        cr_buf_adds(b, "}}");
    }
    cr_buf_adds(b, ",{\"url\":\"recorded\",\"valueInstant\":\"");
    cr_buf_adds(b, op->recorded);
    cr_buf_adds(b, "\"}]}]");
}

/* The text to store for request entry 'e': its references rewritten,
 * the plan's profile in meta, and for the CarePlan the members the
 * server writes (replaces, ucp-recorded-by). */
static bool
compose_entry(struct plan_op *op, struct pwrite *e)
{
    static const char *const skip[] = { "resourceType", "id", "meta", NULL };
    static const char *const skip_plan[] = { "resourceType", "id", "meta",
                                             "replaces", "extension", NULL };
    struct ctx *x = op->x;
    struct map_ctx m = { op, "" };
    struct cr_buf rw = cr_buf_make(0);
    const char *profile = cr_careplan_profile_of(e->kind);
    char *meta = NULL;
    size_t i;
    bool ok = false;
    cr_rc rc;

    snprintf(m.where, sizeof m.where, "Bundle.entry[%zu].resource",
             e->index);
    rc = cr_api_rewrite_refs(x->req->body + e->rstart, e->rend - e->rstart,
                             map_ref, &m, &rw);
    if (rc == CR_EINVAL)
        goto out;          /* answered by map_ref */
    if (rc != CR_OK) {
        fail(op, 413, "too-costly", m.where, "the resource is too large");
        goto out;
    }
    if (profile == NULL) {
        cr_buf_add(&e->text, rw.ptr, rw.len);
        ok = e->text.rc == CR_OK;
        goto out;
    }
    meta = meta_with_profile(json_object_get(e->given, "meta"), profile);
    if (meta == NULL) {
        fail(op, 503, "transient", NULL, "the server is out of memory");
        goto out;
    }
    cr_buf_adds(&e->text, "{\"resourceType\":\"");
    cr_buf_adds(&e->text, e->type);
    cr_buf_addc(&e->text, '"');
    if (!e->is_new) {
        cr_buf_adds(&e->text, ",\"id\":");
        cr_buf_add_json_str(&e->text, e->id);
    }
    cr_buf_adds(&e->text, ",\"meta\":");
    cr_buf_adds(&e->text, meta);
    if (e->kind == CR_CAREPLAN_PLAN) {
        size_t s0 = 0, s1 = 0;
        int n = 0;
        /* replaces is the server's: what a revised plan replaced already,
         * and every current plan this save supersedes */
        if (op->is_revision &&
            cr_jsontext_member(e->stored.ptr, e->stored.len, "replaces", &s0,
                               &s1) && s1 - s0 > 2) {
            cr_buf_adds(&e->text, ",\"replaces\":[");
            cr_buf_add(&e->text, e->stored.ptr + s0 + 1, s1 - s0 - 2);
            n++;
        }
        for (i = 0; i < op->ncur; i++) {
            if (op->is_revision && i == op->target)
                continue;
            cr_buf_adds(&e->text, n++ ? "," : ",\"replaces\":[");
            cr_buf_addf(&e->text, "{\"reference\":\"CarePlan/%s\"}",
                        op->cur[i].id);
        }
        if (n)
            cr_buf_addc(&e->text, ']');
        cr_jsontext_add_members(&e->text, rw.ptr, rw.len, skip_plan);
        add_extensions(op, rw.ptr, rw.len, &e->text);
    } else {
        cr_jsontext_add_members(&e->text, rw.ptr, rw.len, skip);
    }
    cr_buf_addc(&e->text, '}');
    if (e->text.rc != CR_OK) {
        fail(op, 413, "too-costly", m.where, "the resource is too large");
        goto out;
    }
    ok = true;
out:
    free(meta);
    cr_buf_free(&rw);
    return ok;
}

/* Do the members after meta of 'a' and 'b' (two resource texts) agree? */
static bool
same_content(const char *a, size_t alen, const char *b, size_t blen)
{
    static const char *const skip[] = { "resourceType", "id", "meta", NULL };
    struct cr_buf x = cr_buf_make(0), y = cr_buf_make(0);
    bool same;

    cr_jsontext_add_members(&x, a, alen, skip);
    cr_jsontext_add_members(&y, b, blen, skip);
    same = x.rc == CR_OK && y.rc == CR_OK && x.len == y.len &&
           (x.len == 0 || memcmp(x.ptr, y.ptr, x.len) == 0);
    cr_buf_free(&x);
    cr_buf_free(&y);
    return same;
}

/* Parse and validate every entry as FHIR R4; false after answering. */
static bool
prepare_entries(struct plan_op *op)
{
    struct cr_err err;
    size_t i;

    for (i = 0; i < op->nreq; i++) {
        struct pwrite *e = &op->w[i];
        if (!compose_entry(op, e))
            return false;
        cr_err_clear(&err);
        if (cr_api_parse_text(op->x, e->type, e->is_new ? NULL : e->id,
                              e->text.ptr, e->text.len, &e->p, &err) !=
            CR_OK) {
            char where[256];
            const char *dot = strchr(err.where, '.');
            snprintf(where, sizeof where, "Bundle.entry[%zu].resource%s", i,
                     dot ? dot : "");
            cr_api_outcome(op->x, cr_api_status_for(&err), "error",
                           err.code[0] ? err.code : "invalid", where,
                           "entry[%zu] (%s): %s", i, e->ref, err.msg);
            return false;
        }
        e->is_unchanged = !e->is_new && e->kind != CR_CAREPLAN_PLAN &&
                          same_content(e->stored.ptr, e->stored.len,
                                       e->text.ptr, e->text.len);
        e->job.kind = e->is_new ? W_CREATE : W_UPDATE;
        e->job.type = e->type;
        e->job.id = e->id;
        e->job.p = &e->p;
        e->job.org = op->x->principal.org;
    }
    return true;
}

/* ---- checking the plan ----------------------------------------------- */

/* The parts of the plan: every other entry, and what the CarePlan refers
 * to that is not in the request (read from the store). */
static void
gather_parts(struct plan_op *op)
{
    static const char *const lists[] = { "supportingInfo", "activity", NULL };
    struct pwrite *plan = &op->w[op->plan_i];
    const json_t *item;
    size_t i, k;

    for (i = 0; i < op->nreq; i++) {
        struct cr_careplan_part *pt;
        char *where;
        if (i == op->plan_i)
            continue;
        pt = &op->parts[op->nparts++];
        where = cr_arena_alloc(op->x->req->arena, 48);
        if (where)
            snprintf(where, 48, "Bundle.entry[%zu].resource", i);
        pt->ref = op->w[i].ref;
        pt->type = op->w[i].type;
        pt->res = op->w[i].p.root;
        pt->where = where ? where : "Bundle.entry";
    }
    for (k = 0; lists[k]; k++)
        json_array_foreach(json_object_get(plan->p.root, lists[k]), i, item) {
            const json_t *ref = k ? json_object_get(item, "reference") : item;
            const char *s = json_string_value(json_object_get(ref,
                                                              "reference"));
            struct cr_buf b = cr_buf_make(0);
            struct cr_store_meta m;
            struct cr_careplan_part *pt;
            char type[64], id[65], *where, *r;
            json_t *res;

            if (s == NULL || cr_careplan_find_part(op->parts, op->nparts,
                                                    s) ||
                !split_ref(op->x, s, type, id) ||
                op->nparts == MAX_ENTRIES || op->nread == MAX_ENTRIES)
                continue;
            if (cr_store_read(op->x->api->store, type, id, &b, &m, NULL) !=
                    CR_OK ||
                strcmp(m.patient, op->pid) != 0) {
                cr_buf_free(&b);
                continue;      /* the check reports it as not found */
            }
            res = json_loadb(b.ptr, b.len, 0, NULL);
            cr_buf_free(&b);
            if (res == NULL)
                continue;
            op->read[op->nread++] = res;
            where = cr_arena_alloc(op->x->req->arena, 96);
            r = cr_arena_alloc(op->x->req->arena, 140);
            if (where == NULL || r == NULL)
                continue;   /* out of memory: reported as not found */
            snprintf(where, 96, "Bundle.entry[%zu].resource.%s[%zu]%s"
                     ".resolve()", op->plan_i, lists[k], i,
                     k ? ".reference" : "");
            snprintf(r, 140, "%s/%s", type, id);
            pt = &op->parts[op->nparts++];
            pt->ref = r;
            pt->type = cr_arena_strndup(op->x->req->arena, type,
                                        strlen(type));
            pt->res = res;
            pt->where = where;
        }
}

/* The rules; false after answering 422 with one issue per broken rule. */
static bool
check_plan(struct plan_op *op)
{
    struct cr_careplan_issues *is = cr_arena_calloc(op->x->req->arena, 1,
                                                    sizeof *is);
    struct cr_careplan_part plan;
    struct cr_buf b = cr_buf_make(0);
    size_t i;

    if (is == NULL) {
        fail(op, 503, "transient", NULL, "the server is out of memory");
        return false;
    }
    gather_parts(op);
    plan.ref = op->w[op->plan_i].ref;
    plan.type = "CarePlan";
    plan.res = op->w[op->plan_i].p.root;
    plan.where = cr_arena_alloc(op->x->req->arena, 48);
    if (plan.where)
        snprintf((char *)plan.where, 48, "Bundle.entry[%zu].resource",
                 op->plan_i);
    if (cr_careplan_check(&plan, op->parts, op->nparts, op->pid, is))
        return true;
    cr_buf_adds(&b, "{\"resourceType\":\"OperationOutcome\",\"issue\":[");
    for (i = 0; i < is->n; i++) {
        const struct cr_careplan_issue *it = &is->item[i];
        if (i)
            cr_buf_addc(&b, ',');
        cr_buf_adds(&b, "{\"severity\":\"error\",\"code\":");
        cr_buf_add_json_str(&b, it->code);
        cr_buf_adds(&b, ",\"diagnostics\":");
        cr_buf_add_json_str(&b, it->msg);
        if (it->where[0]) {
            cr_buf_adds(&b, ",\"expression\":[");
            cr_buf_add_json_str(&b, it->where);
            cr_buf_addc(&b, ']');
        }
        cr_buf_addc(&b, '}');
    }
    if (is->more)
        cr_buf_addf(&b, ",{\"severity\":\"information\",\"code\":"
                        "\"informational\",\"diagnostics\":\"and %zu more "
                        "issues\"}", is->more);
    cr_buf_adds(&b, "]}");
    cr_api_send_buf(op->x, 422, &b);
    return false;
}

/* ---- what the server writes besides --------------------------------- */

/* A server-made write of stored resource type/id (read now) with its
 * status replaced by 'status': the revoked old plan, a Flag made
 * inactive. It keeps its publisher. */
static bool
add_status_change(struct plan_op *op, const char *type, const char *id,
                  const char *status, int64_t if_match)
{
    static const char *const skip[] = { "resourceType", "id", "meta",
                                        "status", NULL };
    struct pwrite *e;
    struct cr_err err;
    size_t s0, s1;

    if (op->n >= op->nreq + MAX_EXTRA)
        return true;
    e = &op->w[op->n];
    memset(e, 0, sizeof *e);
    e->index = SIZE_MAX;
    e->type = type;
    e->text = cr_buf_make(0);
    e->stored = cr_buf_make(0);
    e->p.json = cr_buf_make(0);
    e->job.found = cr_buf_make(0);
    cr_err_clear(&err);
    if (cr_store_read(op->x->api->store, type, id, &e->stored,
                      &e->stored_meta, &err) != CR_OK) {
        cr_buf_free(&e->stored);
        return true;        /* gone meanwhile: nothing to change */
    }
    op->n++;
    e->id = cr_arena_strndup(op->x->req->arena, id, strlen(id));
    snprintf(e->ref, sizeof e->ref, "%s/%s", type, id);
    cr_buf_adds(&e->text, "{\"resourceType\":\"");
    cr_buf_adds(&e->text, type);
    cr_buf_adds(&e->text, "\",\"id\":");
    cr_buf_add_json_str(&e->text, id);
    if (cr_jsontext_member(e->stored.ptr, e->stored.len, "meta", &s0, &s1)) {
        cr_buf_adds(&e->text, ",\"meta\":");
        cr_buf_add(&e->text, e->stored.ptr + s0, s1 - s0);
    }
    cr_buf_adds(&e->text, ",\"status\":\"");
    cr_buf_adds(&e->text, status);
    cr_buf_addc(&e->text, '"');
    cr_jsontext_add_members(&e->text, e->stored.ptr, e->stored.len, skip);
    cr_buf_addc(&e->text, '}');
    if (e->id == NULL ||
        cr_api_parse_text(op->x, type, id, e->text.ptr, e->text.len, &e->p,
                          &err) != CR_OK) {
        cr_api_fail(op->x, &err);
        return false;
    }
    e->job.kind = W_UPDATE;
    e->job.type = type;
    e->job.id = e->id;
    e->job.p = &e->p;
    e->job.org = cr_arena_strndup(op->x->req->arena, e->stored_meta.org,
                                  strlen(e->stored_meta.org));
    e->job.if_match = if_match;
    return true;
}

/* Is Flag 'id' referred to by the new plan? */
static bool
new_plan_refers(struct plan_op *op, const char *id)
{
    const json_t *r = op->w[op->plan_i].p.root, *it;
    char type[64], rid[65];
    size_t i;

    json_array_foreach(json_object_get(r, "supportingInfo"), i, it)
        if (split_ref(op->x, jstr(it, "reference"), type, rid) &&
            strcmp(type, "Flag") == 0 && strcmp(rid, id) == 0)
            return true;
    return false;
}

/* The Flags of stored plan 'id' that the new plan leaves out, made
 * inactive. */
static bool
retire_flags(struct plan_op *op, const char *plan_id)
{
    struct cr_buf b = cr_buf_make(0);
    json_t *plan, *it;
    size_t i;
    bool ok = true;

    if (cr_store_read(op->x->api->store, "CarePlan", plan_id, &b, NULL,
                      NULL) != CR_OK) {
        cr_buf_free(&b);
        return true;
    }
    plan = json_loadb(b.ptr, b.len, 0, NULL);
    cr_buf_free(&b);
    json_array_foreach(json_object_get(plan, "supportingInfo"), i, it) {
        char type[64], id[65];
        struct cr_buf f = cr_buf_make(0);
        json_t *flag;
        bool is_active;
        if (!split_ref(op->x, jstr(it, "reference"), type, id) ||
            strcmp(type, "Flag") != 0)
            continue;
        if (new_plan_refers(op, id))
            continue;
        if (cr_store_read(op->x->api->store, "Flag", id, &f, NULL, NULL) !=
            CR_OK) {
            cr_buf_free(&f);
            continue;
        }
        flag = json_loadb(f.ptr, f.len, 0, NULL);
        cr_buf_free(&f);
        is_active = jstr(flag, "status") &&
                    strcmp(jstr(flag, "status"), "active") == 0 &&
                    cr_careplan_kind_of("Flag", flag) != CR_CAREPLAN_OTHER;
        json_decref(flag);
        if (is_active && !add_status_change(op, "Flag", id, "inactive", 0)) {
            ok = false;
            break;
        }
    }
    json_decref(plan);
    return ok;
}

/* The writes besides the request's: the superseded plans revoked (all
 * current plans but the one revised: imported data may hold more than
 * one), the Flags the new version leaves out made inactive. */
static bool
plan_extras(struct plan_op *op)
{
    size_t i;

    for (i = 0; i < op->ncur; i++) {
        if (!retire_flags(op, op->cur[i].id))
            return false;
        if (op->is_revision && i == op->target)
            continue;
        if (!add_status_change(op, "CarePlan", op->cur[i].id, "revoked",
                               i == op->target ? op->if_match : 0))
            return false;
    }
    return true;
}

/* ---- policy ---------------------------------------------------------- */

static bool
policy_allows(struct plan_op *op)
{
    const struct cr_policy_decision *d;
    struct cr_err err;
    size_t i;

    for (i = 0; i < op->nreq; i++) {
        struct pwrite *e = &op->w[i];
        cr_rc rc;
        if (e->is_unchanged)
            continue;
        cr_err_clear(&err);
        rc = cr_api_write_allowed(op->x, &e->job, &d, &err);
        if (rc == CR_OK)
            continue;
        if (d != NULL && !d->is_allowed)
            cr_api_view_deny(op->x, d);
        else if (rc == CR_EFORBIDDEN)
            cr_api_view_refusal(op->x, "organisation", err.msg);
        else
            cr_api_fail(op->x, &err);
        return false;
    }
    return true;
}

/* ---- the transaction ------------------------------------------------- */

struct txn_cur {
    struct current c[MAX_CURRENT];
    size_t n;
};

static cr_rc
add_txn_current(void *ctx, const char *type, const char *id,
                const struct cr_store_meta *meta, const char *json,
                size_t len)
{
    struct txn_cur *t = ctx;

    (void)type;
    if (!cr_careplan_text_is_plan(json, len, true))
        return CR_OK;
    if (t->n == MAX_CURRENT)
        return CR_ETOOBIG;
    snprintf(t->c[t->n].id, sizeof t->c[t->n].id, "%s", id);
    t->c[t->n].version = meta->version;
    t->n++;
    return CR_OK;
}

/* Is the patient's current plan what the request was prepared against? */
static cr_rc
still_current(struct cr_store_txn *txn, struct plan_op *op,
              struct cr_err *err)
{
    struct txn_cur t;
    size_t i, k;
    cr_rc rc;

    memset(&t, 0, sizeof t);
    rc = cr_store_txn_patient(txn, op->pid, "CarePlan", add_txn_current, &t,
                              err);
    if (rc != CR_OK && rc != CR_ETOOBIG)
        return rc;
    if (op->if_match && op->ncur > 0) {
        const struct current *want = &op->cur[op->target];
        for (i = 0; i < t.n && strcmp(t.c[i].id, want->id) != 0; i++)
            ;
        if (i == t.n)
            return cr_err_set(err, CR_EPRECOND, "conflict", NULL,
                              "If-Match: CarePlan/%s is no longer the "
                              "current care plan of Patient/%s; read the "
                              "current plan and retry", want->id, op->pid);
        if (t.c[i].version != op->if_match)
            return cr_err_set(err, CR_EPRECOND, "conflict", NULL,
                              "If-Match: CarePlan/%s is at version %lld, "
                              "not %lld; read it again and retry", want->id,
                              (long long)t.c[i].version,
                              (long long)op->if_match);
    }
    for (i = 0; i < t.n; i++) {
        for (k = 0; k < op->ncur; k++)
            if (strcmp(t.c[i].id, op->cur[k].id) == 0 &&
                t.c[i].version == op->cur[k].version)
                break;
        if (k == op->ncur)
            break;
    }
    if (rc == CR_ETOOBIG || t.n != op->ncur || i < t.n)
        return cr_err_set(err, CR_ECONFLICT, "conflict", NULL,
                          "the care plan of Patient/%s changed while this "
                          "one was being saved (someone else saved a plan); "
                          "read the current plan and save again", op->pid);
    return CR_OK;
}

static cr_rc
record_op(struct cr_store_txn *txn, struct plan_op *op, struct cr_err *err)
{
    struct cr_buf refs = cr_buf_make(0);
    size_t i;
    cr_rc rc;

    for (i = 0; i < op->n; i++) {
        const struct pwrite *e = &op->w[i];
        if (e->is_unchanged)
            cr_audit_refs_add(&refs, e->type, e->id, e->stored_meta.version);
        else
            cr_audit_refs_add(&refs, e->type, e->id, e->job.version);
    }
    rc = cr_api_audit_in_txn(op->x, txn, CR_AUDIT_TRANSACTION,
                             op->is_revision ? 200 : 201, op->pid, &refs,
                             err);
    cr_buf_free(&refs);
    return rc;
}

static cr_rc
op_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct plan_op *op = ctx;
    size_t i;
    cr_rc rc;

    rc = still_current(txn, op, err);
    if (rc != CR_OK)
        return rc;
    for (i = 0; i < op->n; i++) {
        struct pwrite *e = &op->w[i];
        if (e->is_unchanged) {
            struct cr_store_meta cur;
            rc = cr_store_txn_current(txn, e->type, e->id, &cur, err);
            if (rc != CR_OK)
                return rc;
            if (cur.version != e->stored_meta.version || cur.is_deleted)
                return cr_err_set(err, CR_ECONFLICT, "conflict", NULL,
                                  "%s changed while the plan was being "
                                  "saved; read the plan again and save "
                                  "again", e->ref);
            continue;
        }
        e->job.x = NULL;
        rc = cr_api_write_in_txn(txn, &e->job, err);
        if (rc != CR_OK) {
            op->failed = i;
            return rc;
        }
    }
    return record_op(txn, op, err);
}

/* ---- answering ------------------------------------------------------- */

static void
add_response_entry(struct plan_op *op, struct cr_buf *out,
                   const struct pwrite *e, int *n)
{
    struct ctx *x = op->x;
    const char *json = e->is_unchanged ? e->stored.ptr : e->p.json.ptr;
    size_t len = e->is_unchanged ? e->stored.len : e->p.json.len;
    int64_t version = e->is_unchanged ? e->stored_meta.version
                                      : e->job.version;
    int64_t ms = e->is_unchanged ? e->stored_meta.last_updated_ms
                                 : e->job.ms;
    char when[32];

    if ((*n)++)
        cr_buf_addc(out, ',');
    cr_buf_addf(out, "{\"fullUrl\":\"%s/%s\",", x->api->base_url, e->ref);
    if (x->prefer != PREFER_MINIMAL && json) {
        cr_buf_adds(out, "\"resource\":");
        cr_buf_add(out, json, len);
        cr_buf_addc(out, ',');
    }
    cr_clock_instant(ms, when, sizeof when);
    cr_buf_addf(out, "\"response\":{\"status\":\"%s\",\"location\":"
                     "\"%s/_history/%lld\",\"etag\":\"W/\\\"%lld\\\"\","
                     "\"lastModified\":\"%s\"",
                e->is_new ? "201 Created" : "200 OK", e->ref,
                (long long)version, (long long)version, when);
    if (e->is_unchanged || e->index == SIZE_MAX) {
        cr_buf_adds(out, ",\"outcome\":{\"resourceType\":\"OperationOutcome\","
                         "\"issue\":[{\"severity\":\"information\",\"code\":"
                         "\"informational\",\"diagnostics\":");
        cr_buf_add_json_str(out, e->is_unchanged
            ? "unchanged: the plan refers to this version as it is"
            : strcmp(e->type, "CarePlan") == 0
                ? "superseded by the new plan: recorded as revoked"
                : "no longer part of the plan: recorded as inactive");
        cr_buf_adds(out, "}]}");
    }
    cr_buf_adds(out, "}}");
}

static void
answer(struct plan_op *op)
{
    struct ctx *x = op->x;
    struct pwrite *plan = &op->w[op->plan_i];
    struct cr_buf out = cr_buf_make(0);
    size_t i;
    int n = 0;

    x->audit_patient = op->pid;
    if (op->rc != CR_OK) {
        struct cr_err err = op->err;
        if (op->failed < op->n && op->w[op->failed].index != SIZE_MAX) {
            char where[64];
            snprintf(where, sizeof where, "Bundle.entry[%zu]",
                     op->w[op->failed].index);
            snprintf(err.where, sizeof err.where, "%s", where);
        }
        cr_api_fail(x, &err);
        return;
    }
    for (i = 0; i < op->n; i++)
        cr_api_touch(x, op->w[i].type, op->w[i].id,
                     op->w[i].is_unchanged ? op->w[i].stored_meta.version
                                           : op->w[i].job.version);
    cr_api_version_headers(x, "CarePlan", plan->id, plan->job.version,
                           plan->job.ms, true);
    cr_api_bundle_start(&out, "transaction-response");
    cr_buf_adds(&out, ",\"entry\":[");
    for (i = 0; i < op->n; i++)
        add_response_entry(op, &out, &op->w[i], &n);
    cr_buf_adds(&out, "]}");
    cr_api_send_buf(x, op->is_revision ? 200 : 201, &out);
}

static void
op_answer(void *arg, struct cr_http_req *req, struct cr_http_resp *resp)
{
    struct plan_op *op = arg;

    (void)req;
    op->x->resp = resp;
    resp->principal = op->x->who;
    answer(op);
    cr_api_audited_send(op->x);
}

/* ---- the operation --------------------------------------------------- */

/* The request: patient, If-Match, the Bundle; false after answering. */
static bool
read_request(struct plan_op *op)
{
    struct ctx *x = op->x;
    struct cr_store_meta m;
    struct cr_err err;
    json_error_t jerr;
    int limit = x->api->cfg.max_json_depth + 3;
    const char *type;
    cr_rc rc;

    if (x->route.kind != R_INSTANCE_OP) {
        fail(op, 400, "required", NULL, "a care plan is saved for one "
             "patient: POST /fhir/Patient/{id}/$care-plan");
        return false;
    }
    op->pid = x->route.id;
    x->audit_patient = op->pid;
    op->if_match = cr_api_parse_if_match(cr_http_header(x->req, "If-Match"));
    if (op->if_match < 0) {
        fail(op, 400, "value", NULL, "If-Match must be the version ETag of "
             "the current care plan, such as W/\"3\"");
        return false;
    }
    cr_err_clear(&err);
    rc = cr_store_read(x->api->store, "Patient", op->pid, NULL, &m, &err);
    if (rc == CR_ENOTFOUND || rc == CR_EGONE) {
        cr_api_outcome(x, rc == CR_EGONE ? 410 : 404, "error",
                       rc == CR_EGONE ? "deleted" : "not-found", NULL,
                       "Patient/%s %s", op->pid,
                       rc == CR_EGONE ? "was deleted"
                                      : "is not known to this server");
        return false;
    }
    if (rc != CR_OK) {
        cr_api_fail(x, &err);
        return false;
    }
    if (!cr_api_check_content_type(x))
        return false;
    if (x->req->body_len == 0) {
        fail(op, 400, "required", NULL, "the request has no body: send a "
             "Bundle of type collection holding the CarePlan and what it "
             "refers to");
        return false;
    }
    if (cr_jsontext_depth(x->req->body, x->req->body_len, limit) > limit) {
        cr_api_outcome(x, 400, "error", "structure", NULL,
                       "the JSON nests deeper than %d levels", limit);
        return false;
    }
    op->root = json_loadb(x->req->body, x->req->body_len,
                          JSON_REJECT_DUPLICATES, &jerr);
    if (op->root == NULL) {
        cr_api_outcome(x, 400, "error", "structure", NULL,
                       "the body is not valid JSON: %s (line %d, column %d)",
                       jerr.text, jerr.line, jerr.column);
        return false;
    }
    type = jstr(op->root, "type");
    if (!json_is_object(op->root) || jstr(op->root, "resourceType") == NULL ||
        strcmp(jstr(op->root, "resourceType"), "Bundle") != 0 ||
        type == NULL || strcmp(type, "collection") != 0 ||
        !json_is_array(json_object_get(op->root, "entry"))) {
        fail(op, 400, "invalid", "Bundle.type", "$care-plan takes a Bundle "
             "of type collection: the CarePlan and the resources it refers "
             "to, one entry each");
        return false;
    }
    return true;
}

void
cr_api_care_plan_op(struct ctx *x)
{
    struct plan_op *op = cr_arena_calloc(x->req->arena, 1, sizeof *op);

    if (op == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return;
    }
    op->x = x;
    op->failed = SIZE_MAX;
    x->has_action = true;
    x->action = CR_AUDIT_TRANSACTION;
    x->is_plan_write = true;
    cr_arena_on_destroy(x->req->arena, free_op, op);
    cr_clock_instant(cr_clock_now_ms(), op->recorded, sizeof op->recorded);
    if (!read_request(op) || !read_entries(op) || !read_current(op) ||
        !read_existing(op) || !decide_mode(op) || !prepare_entries(op) ||
        !check_plan(op) || !policy_allows(op) || !plan_extras(op))
        return;
    if (!cr_api_queue_write(x, &op->q, &op->rc, &op->err, op_in_txn, op,
                            op_answer, op))
        answer(op);
}
