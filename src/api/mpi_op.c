/* mpi_op.c: the patient index over FHIR.
 *
 *   POST /fhir/Patient/$match        scored candidates for a Patient
 *                                    (FHIR R4 Patient-match)
 *   POST /fhir/Patient/$merge        source replaced-by target (after the
 *                                    R5 Patient-merge operation)
 *   POST /fhir/Patient/$unmerge      undo a merge
 *   GET  /fhir/Patient/$ihe-pix      identifier cross-reference (IHE PIXm)
 *   GET  /fhir/Patient/$mpi-review   the review list of uncertain pairs
 *   POST /fhir/Patient/$mpi-review   a reviewer's decision on a pair
 *
 * Every Patient these answers carry passes the access view like a search
 * result; merges are ordinary Patient updates (the index follows the
 * replaced-by link in the same transaction) with their audit record in
 * that transaction. Who may merge and work the review list is decided
 * here (cr_api_mpi_refusal). docs/mpi.md describes the operations for
 * users. Depends on mpi/, store/, fhir/, access/, core/, jansson. */
#include "api/apiInt.h"

#include "core/clock.h"
#include "core/jsontext.h"
#include "fhir/fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_GRADE "http://hl7.org/fhir/StructureDefinition/match-grade"
#define MATCH_DEFAULT 10     /* candidates answered without 'count' */
#define MATCH_MAX 100        /* most candidates answered */
#define PIX_MAX 64           /* records of one person cross-referenced */
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
static json_t *
params_body(struct ctx *x)
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
static json_t *
param(json_t *params, const char *name, size_t *out_n)
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
static bool
only_known(struct ctx *x, json_t *params, const char *const *known)
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
static json_t *
change_params(struct ctx *x, const char *const *known)
{
    const struct cr_policy_decision *no = cr_api_mpi_refusal(x);
    json_t *params;

    if (no) {
        cr_api_view_deny(x, no);
        return NULL;
    }
    params = params_body(x);
    if (params && !only_known(x, params, known)) {
        json_decref(params);
        return NULL;
    }
    return params;
}

/* The Patient id a Reference names ("Patient/x", or this server's URL),
 * copied to the request's arena (it outlives the body: the audit record
 * names it), or NULL. */
static const char *
patient_ref(struct ctx *x, json_t *ref)
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

/* ---- Patient/$match ---- */

static void
add_candidate(struct ctx *x, struct cr_buf *b, int n, const char *id,
              const struct cr_mpi_score *s, enum cr_policy_show show,
              const char *json, size_t len)
{
    if (n)
        cr_buf_addc(b, ',');
    cr_buf_addf(b, "{\"fullUrl\":\"%s/Patient/%s\",\"resource\":",
                x->api->base_url, id);
    cr_api_view_add(b, show, json, len);
    cr_buf_adds(b, ",\"search\":{\"extension\":[{\"url\":\"" MATCH_GRADE
                   "\",\"valueCode\":");
    cr_buf_add_json_str(b, cr_mpi_grade_code(s->grade));
    cr_buf_addf(b, "}],\"mode\":\"match\",\"score\":%.4f}}", s->score);
}

static void
match(struct ctx *x)
{
    static const char *const known[] = { "resource", "onlyCertainMatches",
                                         "count", NULL };
    json_t *params = params_body(x), *p, *res;
    struct cr_mpi_candidate *cands = NULL;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response),
                  entries = cr_buf_make(x->api->cfg.max_response);
    struct cr_mpi_demo q;
    struct cr_err err;
    size_t n = 0, i, np;
    bool only_certain = false;
    long count = MATCH_DEFAULT;
    int shown = 0;
    const char *rt;

    cr_err_clear(&err);
    if (params == NULL)
        goto out;
    if (!only_known(x, params, known))
        goto out;
    p = param(params, "resource", &np);
    res = json_object_get(p, "resource");
    rt = json_string_value(json_object_get(res, "resourceType"));
    if (np != 1 || rt == NULL || strcmp(rt, "Patient") != 0) {
        cr_api_outcome(x, 400, "error", "required", NULL,
                       "$match takes one parameter 'resource' holding the "
                       "Patient to match");
        goto out;
    }
    if (cr_fhir_validate(res, &err) != CR_OK) {
        cr_api_fail(x, &err);
        goto out;
    }
    p = param(params, "onlyCertainMatches", NULL);
    if (p) {
        json_t *v = json_object_get(p, "valueBoolean");
        if (!json_is_boolean(v)) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "onlyCertainMatches must be a valueBoolean");
            goto out;
        }
        only_certain = json_is_true(v);
    }
    p = param(params, "count", NULL);
    if (p) {
        json_t *v = json_object_get(p, "valueInteger");
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "count must be a valueInteger of at least 1");
            goto out;
        }
        count = json_integer_value(v) > MATCH_MAX ? MATCH_MAX
                                                  : (long)json_integer_value(v);
    }
    cr_mpi_demo_from_patient(res, &q);
    cands = calloc(MATCH_MAX, sizeof *cands);
    if (cands == NULL ||
        cr_mpi_match(x->api->mpi, &q, cands, MATCH_MAX, &n, &err) != CR_OK) {
        if (cands == NULL)
            cr_err_set(&err, CR_ENOMEM, "exception", NULL, "out of memory");
        cr_api_fail(x, &err);
        goto out;
    }
    if (only_certain) {
        /* certain ones only, and none when they are not one person */
        size_t k = 0;
        for (i = 0; i < n; i++)
            if (cands[i].score.grade == CR_MPI_CERTAIN)
                cands[k++] = cands[i];
        n = k;
        for (i = 1; i < n; i++)
            if (strcmp(cands[i].person, cands[0].person) != 0)
                n = 0;
    }
    for (i = 0; i < n && shown < count; i++) {
        struct cr_buf pb = cr_buf_make(0);
        struct cr_store_meta m;
        enum cr_policy_show show;
        if (cr_store_read(x->api->store, "Patient", cands[i].id, &pb, &m,
                          &err) != CR_OK) {
            cr_buf_free(&pb);
            continue;   /* deleted since it was indexed */
        }
        show = cr_api_view_item(x, "Patient", &m, pb.ptr, pb.len, NULL);
        if (show != CR_POLICY_WITHHOLD) {
            cr_api_touch(x, "Patient", cands[i].id, m.version);
            add_candidate(x, &entries, shown++, cands[i].id,
                          &cands[i].score, show, pb.ptr, pb.len);
        }
        cr_buf_free(&pb);
    }
    cr_api_view_add_notice(x, &entries, shown);
    cr_api_bundle_start(&b, "searchset");
    cr_buf_addf(&b, ",\"total\":%d,\"link\":[{\"relation\":\"self\","
                    "\"url\":\"%s/Patient/$match\"}]",
                shown, x->api->base_url);
    cr_api_bundle_finish(x, &b, &entries);
out:
    free(cands);
    cr_buf_free(&b);
    cr_buf_free(&entries);
    json_decref(params);
}

/* ---- Patient/$merge and $unmerge ---- */

/* One record of a merge, as stored now. */
struct rec {
    const char *id;
    struct cr_buf json;
    struct cr_store_meta meta;
    json_t *root;
};

static void
rec_free(struct rec *r)
{
    cr_buf_free(&r->json);
    json_decref(r->root);
    r->root = NULL;
}

/* Read Patient 'id'; answers 404/410 and returns false when it cannot. */
static bool
rec_read(struct ctx *x, const char *id, struct rec *r)
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

/* The Patient a parameter pair names: '<name>' (a Reference) or
 * '<name>-identifier' (an Identifier, which must find exactly one).
 * NULL after answering, or when neither is given and !is_required (then
 * *out_absent is true). */
static const char *
named_patient(struct ctx *x, json_t *params, const char *name,
              bool is_required, bool *out_absent)
{
    char idname[64];
    json_t *ref, *ident;
    size_t nref, nident;
    const char *id;

    *out_absent = false;
    snprintf(idname, sizeof idname, "%s-identifier", name);
    ref = param(params, name, &nref);
    ident = param(params, idname, &nident);
    if (nref + nident == 0 && !is_required) {
        *out_absent = true;
        return NULL;
    }
    if (nref + nident != 1) {
        cr_api_outcome(x, 400, "error", "required", NULL,
                       "$%s needs exactly one of %s (a Reference) and %s "
                       "(an Identifier)", x->route.op, name, idname);
        return NULL;
    }
    if (ref) {
        id = patient_ref(x, json_object_get(ref, "valueReference"));
        if (id == NULL)
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "%s must be a valueReference to a Patient on this "
                           "server (\"Patient/{id}\")", name);
        return id;
    }
    {
        json_t *v = json_object_get(ident, "valueIdentifier");
        const char *sys = json_string_value(json_object_get(v, "system"));
        const char *val = json_string_value(json_object_get(v, "value"));
        char found[2][65];
        size_t n = 0;
        struct cr_err err;
        char *copy;
        if (val == NULL) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "%s must be a valueIdentifier with a value",
                           idname);
            return NULL;
        }
        cr_err_clear(&err);
        if (cr_store_find_token(x->api->store, "Patient", "identifier", sys,
                                val, found, 2, &n, &err) != CR_OK) {
            cr_api_fail(x, &err);
            return NULL;
        }
        if (n != 1) {
            cr_api_outcome(x, n ? 412 : 404, "error",
                           n ? "multiple-matches" : "not-found", NULL,
                           "%zu patients have the %s %.100s%s%.100s; it "
                           "must name exactly one", n, idname,
                           sys ? sys : "", sys ? "|" : "", val);
            return NULL;
        }
        copy = cr_arena_strndup(x->req->arena, found[0], strlen(found[0]));
        if (copy == NULL)
            cr_api_outcome(x, 503, "error", "transient", NULL,
                           "the server is out of memory; try again shortly");
        return copy;
    }
}

/* The links of 'root' except those of 'drop_type' to 'drop_to' (any
 * target when 'drop_to' is NULL), plus a new one of 'add_type' to
 * 'add_to' (none when NULL), as JSON text in 'b'. Returns the number of
 * links written. */
static size_t
links(const json_t *root, const char *drop_type, const char *drop_to,
      const char *add_type, const char *add_to, struct cr_buf *b)
{
    const json_t *l;
    size_t i, n = 0;

    json_array_foreach(json_object_get(root, "link"), i, l) {
        const char *type = json_string_value(json_object_get(l, "type"));
        const char *ref = json_string_value(json_object_get(
            json_object_get(l, "other"), "reference"));
        char *text;
        if (type && strcmp(type, drop_type) == 0 &&
            (drop_to == NULL ||
             (ref && strlen(ref) >= strlen(drop_to) &&
              strcmp(ref + strlen(ref) - strlen(drop_to), drop_to) == 0)))
            continue;
        text = json_dumps(l, JSON_COMPACT);
        if (text == NULL)
            continue;
        cr_buf_adds(b, n++ ? "," : "");
        cr_buf_adds(b, text);
        free(text);
    }
    if (add_type) {
        cr_buf_adds(b, n++ ? "," : "");
        cr_buf_adds(b, "{\"other\":{\"reference\":");
        cr_buf_add_json_str(b, add_to);
        cr_buf_adds(b, "},\"type\":");
        cr_buf_add_json_str(b, add_type);
        cr_buf_addc(b, '}');
    }
    return n;
}

/* The record's new text: its members but link (and active when
 * 'active' is not NULL), then "active" and the links given. Its own
 * bytes keep their written form (numbers, order). */
static void
rewrite(const struct rec *r, const char *active, const char *links_text,
        size_t nlinks, struct cr_buf *out)
{
    static const char *const skip_both[] = { "resourceType", "link",
                                             "active", NULL };
    static const char *const skip_link[] = { "resourceType", "link", NULL };

    cr_buf_adds(out, "{\"resourceType\":\"Patient\"");
    cr_jsontext_add_members(out, r->json.ptr, r->json.len,
                            active ? skip_both : skip_link);
    if (active) {
        cr_buf_adds(out, ",\"active\":");
        cr_buf_adds(out, active);
    }
    if (nlinks) {
        cr_buf_adds(out, ",\"link\":[");
        cr_buf_adds(out, links_text);
        cr_buf_addc(out, ']');
    }
    cr_buf_addc(out, '}');
}

static void
free_prepared(void *arg)
{
    cr_api_prepared_free(arg);
}

/* A write of record 'r' with the new text 't', checked as the request's
 * own update would be (organisation, policy, who may merge). NULL after
 * answering. */
static struct write_job *
job_for(struct ctx *x, const struct rec *r, struct cr_buf *t)
{
    struct write_job *j = cr_arena_calloc(x->req->arena, 1, sizeof *j);
    struct prepared *p = cr_arena_calloc(x->req->arena, 1, sizeof *p);
    const struct cr_policy_decision *d;
    struct cr_err err;
    char *text;
    cr_rc rc;

    cr_err_clear(&err);
    text = t->rc == CR_OK ? cr_arena_strndup(x->req->arena, t->ptr, t->len)
                          : NULL;
    if (j == NULL || p == NULL || text == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return NULL;
    }
    rc = cr_api_parse_text(x, "Patient", r->id, text, t->len, p, &err);
    cr_arena_on_destroy(x->req->arena, free_prepared, p);
    if (rc != CR_OK) {
        cr_api_fail(x, &err);
        return NULL;
    }
    j->api = x->api;
    j->kind = W_UPDATE;
    j->p = p;
    j->type = "Patient";
    j->id = r->id;
    j->org = x->principal.org;
    j->if_match = r->meta.version;   /* unchanged since it was read */
    j->found = cr_buf_make(0);
    rc = cr_api_write_allowed(x, j, &d, &err);
    if (rc != CR_OK) {
        if (d != NULL || rc != CR_EFORBIDDEN)
            cr_api_view_deny(x, d);
        else
            cr_api_view_refusal(x, "organisation", err.msg);
        return NULL;
    }
    return j;
}

struct merge_txn {
    struct ctx *x;
    struct write_job *jobs[2];
    size_t njobs;
    const char *patient;    /* for the audit record */
};

static cr_rc
merge_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct merge_txn *m = ctx;
    struct cr_buf refs = cr_buf_make(0);
    size_t i;
    cr_rc rc = CR_OK;

    for (i = 0; i < m->njobs && rc == CR_OK; i++)
        rc = cr_api_write_in_txn(txn, m->jobs[i], err);
    for (i = 0; i < m->njobs && rc == CR_OK; i++)
        cr_audit_refs_add(&refs, "Patient", m->jobs[i]->id,
                          m->jobs[i]->version);
    if (rc == CR_OK)
        rc = cr_api_audit_in_txn(m->x, txn, CR_AUDIT_UPDATE, 200, m->patient,
                                 &refs, err);
    cr_buf_free(&refs);
    return rc;
}

/* The answer: Parameters with the outcome and the target as stored. */
static void
answer_merge(struct ctx *x, const char *msg, const struct rec *target,
             const struct write_job *tj, bool is_preview)
{
    struct cr_buf b = cr_buf_make(0);
    struct cr_buf now = cr_buf_make(0);
    struct cr_store_meta m;
    struct cr_err err;
    enum cr_policy_show show;

    cr_err_clear(&err);
    if (tj && !is_preview)
        cr_buf_add(&now, tj->p->json.ptr, tj->p->json.len);
    else if (cr_store_read(x->api->store, "Patient", target->id, &now, &m,
                           &err) != CR_OK)
        cr_buf_add(&now, target->json.ptr, target->json.len);
    m = target->meta;
    show = cr_api_view_item(x, "Patient", &m, now.ptr, now.len, NULL);
    cr_buf_adds(&b, "{\"resourceType\":\"Parameters\",\"parameter\":[{"
                    "\"name\":\"outcome\",\"resource\":{\"resourceType\":"
                    "\"OperationOutcome\",\"issue\":[{\"severity\":"
                    "\"information\",\"code\":\"informational\","
                    "\"diagnostics\":");
    cr_buf_add_json_str(&b, msg);
    cr_buf_adds(&b, "}]}}");
    if (show != CR_POLICY_WITHHOLD) {
        cr_buf_adds(&b, ",{\"name\":\"result\",\"resource\":");
        cr_api_view_add(&b, show, now.ptr, now.len);
        cr_buf_addc(&b, '}');
    }
    cr_buf_adds(&b, "]}");
    cr_buf_free(&now);
    cr_api_send_buf(x, 200, &b);
}

static void
merge(struct ctx *x, bool is_merge)
{
    static const char *const known_merge[] = {
        "source-patient", "source-patient-identifier", "target-patient",
        "target-patient-identifier", "preview", NULL };
    const struct cr_policy_decision *d;
    json_t *params = NULL, *p;
    struct rec src, tgt;
    struct cr_buf lt = cr_buf_make(0), st = cr_buf_make(0),
                  tt = cr_buf_make(0);
    struct merge_txn mt;
    struct cr_mpi_demo ds, dt;
    struct cr_err err;
    const char *sid, *tid;
    char src_ref[80], tgt_ref[80], end[65], msg[300];
    bool absent, is_preview = false, is_own_target;
    size_t n;

    memset(&src, 0, sizeof src);
    memset(&tgt, 0, sizeof tgt);
    memset(&mt, 0, sizeof mt);
    cr_err_clear(&err);
    params = change_params(x, known_merge);
    if (params == NULL)
        goto out;
    if (param(params, "result-patient", NULL)) {
        cr_api_outcome(x, 400, "error", "not-supported", NULL,
                       "result-patient is not supported: the target keeps "
                       "what its publisher wrote");
        goto out;
    }
    p = param(params, "preview", NULL);
    if (p) {
        json_t *v = json_object_get(p, "valueBoolean");
        if (!json_is_boolean(v)) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "preview must be a valueBoolean");
            goto out;
        }
        is_preview = json_is_true(v);
    }
    sid = named_patient(x, params, "source-patient", true, &absent);
    if (sid == NULL)
        goto out;
    tid = named_patient(x, params, "target-patient", is_merge, &absent);
    if (tid == NULL && !absent)
        goto out;
    if (!rec_read(x, sid, &src))
        goto out;
    x->audit_patient = sid;
    if (cr_store_alias_resolve(x->api->store, "Patient", sid, end, &err) !=
        CR_OK) {
        cr_api_fail(x, &err);
        goto out;
    }
    if (!is_merge) {
        char direct[65];
        if (cr_mpi_replaced_by(src.root, direct, &err) != CR_OK ||
            direct[0] == '\0' || strcmp(end, sid) == 0) {
            cr_api_outcome(x, 409, "error", "business-rule", NULL,
                           "Patient/%s is not merged into another record",
                           sid);
            goto out;
        }
        if (tid && strcmp(tid, direct) != 0) {
            cr_api_outcome(x, 409, "error", "business-rule", NULL,
                           "Patient/%s was merged into Patient/%s, not "
                           "Patient/%s", sid, direct, tid);
            goto out;
        }
        tid = cr_arena_strndup(x->req->arena, direct, strlen(direct));
        if (tid == NULL)
            goto oom;
    } else {
        if (strcmp(sid, tid) == 0) {
            cr_api_outcome(x, 400, "error", "business-rule", NULL,
                           "the source and the target are the same record");
            goto out;
        }
        if (strcmp(end, sid) != 0) {
            cr_api_outcome(x, 409, "error", "business-rule", NULL,
                           "Patient/%s is already merged into Patient/%s: "
                           "unmerge it first", sid, end);
            goto out;
        }
        if (cr_store_alias_resolve(x->api->store, "Patient", tid, end,
                                   &err) != CR_OK) {
            cr_api_fail(x, &err);
            goto out;
        }
        if (strcmp(end, tid) != 0) {
            cr_api_outcome(x, 409, "error", "business-rule", NULL,
                           "Patient/%s was itself merged into Patient/%s: "
                           "merge into that record", tid, end);
            goto out;
        }
    }
    if (!rec_read(x, tid, &tgt))
        goto out;
    cr_mpi_demo_from_patient(src.root, &ds);
    cr_mpi_demo_from_patient(tgt.root, &dt);
    if (is_merge && ds.nhs[0] && dt.nhs[0] && strcmp(ds.nhs, dt.nhs) != 0) {
        cr_api_outcome(x, 409, "error", "business-rule", NULL,
                       "Patient/%s (NHS number %s) and Patient/%s (NHS number "
                       "%s) are different people: records with different "
                       "NHS numbers are never merged", sid, ds.nhs, tid,
                       dt.nhs);
        goto out;
    }
    /* the caller must be allowed to see whom the data goes to */
    d = cr_api_view_patient(x, tid);
    if (d == NULL || !d->is_allowed) {
        cr_api_view_deny(x, d);
        goto out;
    }
    snprintf(src_ref, sizeof src_ref, "Patient/%s", sid);
    snprintf(tgt_ref, sizeof tgt_ref, "Patient/%s", tid);
    /* the source: replaced-by the target (inactive), or not any more */
    n = links(src.root, "replaced-by", NULL, is_merge ? "replaced-by" : NULL,
              tgt_ref, &lt);
    rewrite(&src, is_merge ? "false" : "true", lt.ptr ? lt.ptr : "", n, &st);
    mt.jobs[mt.njobs] = job_for(x, &src, &st);
    if (mt.jobs[mt.njobs++] == NULL)
        goto out;
    /* the target says "replaces" when the same organisation published it:
     * another organisation's record is never rewritten */
    is_own_target = strcmp(tgt.meta.org, x->principal.org) == 0;
    if (is_own_target) {
        cr_buf_reset(&lt);
        n = links(tgt.root, "replaces", src_ref,
                  is_merge ? "replaces" : NULL, src_ref, &lt);
        rewrite(&tgt, NULL, lt.ptr ? lt.ptr : "", n, &tt);
        mt.jobs[mt.njobs] = job_for(x, &tgt, &tt);
        if (mt.jobs[mt.njobs++] == NULL)
            goto out;
    }
    snprintf(msg, sizeof msg, "%s Patient/%s %s Patient/%s%s",
             is_preview ? "would" : "done:",
             sid, is_merge ? "merged into" : "unmerged from", tid,
             is_own_target ? "" : " (the target, published by another "
                                  "organisation, was not changed)");
    if (is_preview) {
        answer_merge(x, msg, &tgt, NULL, true);
        goto out;
    }
    mt.x = x;
    mt.patient = tid;
    if (cr_store_write(x->api->store, merge_in_txn, &mt, &err) != CR_OK) {
        cr_api_fail(x, &err);
        goto out;
    }
    cr_api_touch(x, "Patient", sid, mt.jobs[0]->version);
    if (is_own_target)
        cr_api_touch(x, "Patient", tid, mt.jobs[1]->version);
    answer_merge(x, msg, &tgt, is_own_target ? mt.jobs[1] : NULL, false);
    goto out;
oom:
    cr_api_outcome(x, 503, "error", "transient", NULL,
                   "the server is out of memory; try again shortly");
out:
    cr_buf_free(&lt);
    cr_buf_free(&st);
    cr_buf_free(&tt);
    rec_free(&src);
    rec_free(&tgt);
    json_decref(params);
}

/* ---- Patient/$ihe-pix ---- */

struct pix_args {
    const char *source;
    const char *targets[16];
    size_t ntargets;
    const char *bad;
};

static bool
take_pix(void *ctx, const char *name, const char *value)
{
    struct pix_args *a = ctx;

    if (strcmp(name, "sourceIdentifier") == 0) {
        if (a->source)
            a->bad = "sourceIdentifier (given twice)";
        a->source = value;
    } else if (strcmp(name, "targetSystem") == 0) {
        const char *v = value;
        /* repeated, or comma-separated */
        while (*v && a->ntargets < 16) {
            size_t k = strcspn(v, ",");
            a->targets[a->ntargets++] = v;
            v += k;
            if (*v == ',')
                v++;
        }
    } else if (strcmp(name, "_format") != 0) {
        a->bad = name;
        return false;
    }
    return true;
}

static bool
system_wanted(const struct pix_args *a, const char *sys)
{
    size_t i;

    if (a->ntargets == 0)
        return true;
    for (i = 0; i < a->ntargets; i++) {
        size_t k = strcspn(a->targets[i], ",");
        if (sys && strlen(sys) == k && strncmp(sys, a->targets[i], k) == 0)
            return true;
    }
    return false;
}

struct person_ids {
    char ids[PIX_MAX][65];
    size_t n;
};

static cr_rc
keep_record(void *ctx, const struct cr_store_mpi_row *row)
{
    struct person_ids *p = ctx;
    size_t i;

    for (i = 0; i < p->n; i++)
        if (strcmp(p->ids[i], row->id) == 0)
            return CR_OK;
    if (p->n < PIX_MAX) {
        size_t len = strnlen(row->id, sizeof p->ids[0] - 1);
        memcpy(p->ids[p->n], row->id, len);
        p->ids[p->n++][len] = '\0';
    }
    return CR_OK;
}

static void
pix(struct ctx *x)
{
    struct pix_args a;
    struct person_ids *person = NULL;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response), seen;
    char found[8][65], sys[256];
    const char *bar, *value;
    struct cr_err err;
    size_t n = 0, i, k, nparams = 0;

    memset(&a, 0, sizeof a);
    seen = cr_buf_make(0);
    cr_err_clear(&err);
    cr_http_args(x->req, take_pix, &a);
    if (a.bad || a.source == NULL || a.source[0] == '\0') {
        cr_api_outcome(x, 400, "error", a.bad ? "not-supported" : "required",
                       NULL, a.bad ? "$ihe-pix does not take '%.80s' (it "
                       "takes sourceIdentifier and targetSystem)"
                                   : "%s$ihe-pix needs sourceIdentifier="
                                     "system|value",
                       a.bad ? a.bad : "");
        goto out;
    }
    bar = strchr(a.source, '|');
    value = bar ? bar + 1 : a.source;
    if (bar) {
        snprintf(sys, sizeof sys, "%.*s", (int)(bar - a.source), a.source);
        if (strcmp(sys, CR_FHIR_NHS_NUMBER_SYSTEM) == 0 &&
            !cr_fhir_nhs_number_valid(value, strlen(value))) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "'%.20s' is not a valid NHS number", value);
            goto out;
        }
    }
    if (cr_store_find_token(x->api->store, "Patient", "identifier",
                            bar ? sys : NULL, value, found, 8, &n,
                            &err) != CR_OK) {
        cr_api_fail(x, &err);
        goto out;
    }
    if (n > 8)
        n = 8;
    person = calloc(1, sizeof *person);
    if (person == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        goto out;
    }
    /* the records carrying the identifier, seen as a read would see them */
    for (i = 0; i < n; i++) {
        struct cr_buf pb = cr_buf_make(0);
        struct cr_store_meta m;
        enum cr_policy_withhold why;
        if (cr_store_read(x->api->store, "Patient", found[i], &pb, &m,
                          &err) != CR_OK) {
            cr_buf_free(&pb);
            continue;
        }
        if (cr_api_view_item(x, "Patient", &m, pb.ptr, pb.len, &why) ==
            CR_POLICY_WITHHOLD) {
            cr_buf_free(&pb);
            if (n == 1 && cr_api_view_refuse(x, &m, why))
                goto out;
            continue;
        }
        cr_buf_free(&pb);
        if (x->audit_patient == NULL)
            x->audit_patient = cr_arena_strndup(x->req->arena, m.patient,
                                                strlen(m.patient));
        cr_mpi_person(x->api->mpi, found[i], keep_record, person, &err);
        keep_record(person, &(struct cr_store_mpi_row){ .id = found[i] });
    }
    if (person->n == 0) {
        cr_api_outcome(x, 404, "error", "not-found", NULL,
                       "sourceIdentifier Patient Identifier not found: no "
                       "patient with %.200s is known to this server",
                       a.source);
        goto out;
    }
    cr_buf_adds(&b, "{\"resourceType\":\"Parameters\"");
    for (i = 0; i < person->n; i++) {
        struct cr_buf pb = cr_buf_make(0);
        struct cr_store_meta m;
        json_t *root, *id;
        bool is_source = false;
        for (k = 0; k < n; k++)
            is_source |= strcmp(found[k], person->ids[i]) == 0;
        if (cr_store_read(x->api->store, "Patient", person->ids[i], &pb, &m,
                          &err) != CR_OK ||
            cr_api_view_item(x, "Patient", &m, pb.ptr, pb.len, NULL) ==
                CR_POLICY_WITHHOLD) {
            cr_buf_free(&pb);
            continue;
        }
        cr_api_touch(x, "Patient", person->ids[i], m.version);
        root = json_loadb(pb.ptr, pb.len, 0, NULL);
        cr_buf_free(&pb);
        json_array_foreach(json_object_get(root, "identifier"), k, id) {
            const char *s = json_string_value(json_object_get(id, "system"));
            const char *v = json_string_value(json_object_get(id, "value"));
            char key[600];
            if (v == NULL || !system_wanted(&a, s))
                continue;
            /* not the identifier asked about, each one once */
            if (strcmp(v, value) == 0 &&
                (!bar || (s && strcmp(s, sys) == 0)))
                continue;
            snprintf(key, sizeof key, "\n%s|%s\n", s ? s : "", v);
            if (seen.ptr && strstr(seen.ptr, key))
                continue;
            cr_buf_adds(&seen, key);
            cr_buf_adds(&b, nparams++ ? "," : ",\"parameter\":[");
            cr_buf_adds(&b, "{\"name\":\"targetIdentifier\","
                            "\"valueIdentifier\":{");
            if (s) {
                cr_buf_adds(&b, "\"system\":");
                cr_buf_add_json_str(&b, s);
                cr_buf_addc(&b, ',');
            }
            cr_buf_adds(&b, "\"value\":");
            cr_buf_add_json_str(&b, v);
            cr_buf_adds(&b, "}}");
        }
        json_decref(root);
        if (!is_source) {
            cr_buf_adds(&b, nparams++ ? "," : ",\"parameter\":[");
            cr_buf_addf(&b, "{\"name\":\"targetId\",\"valueReference\":{"
                            "\"reference\":\"Patient/%s\"}}",
                        person->ids[i]);
        }
    }
    if (nparams)
        cr_buf_addc(&b, ']');
    cr_buf_addc(&b, '}');
    cr_api_send_buf(x, 200, &b);
out:
    free(person);
    cr_buf_free(&seen);
    cr_buf_free(&b);
}

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

static void
review_list(struct ctx *x)
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

static void
review_decide(struct ctx *x)
{
    static const char *const known[] = { "record", "candidate", "decision",
                                         NULL };
    const struct cr_policy_decision *d;
    json_t *params = NULL;
    struct decide_txn t;
    struct rec ra, rb;
    struct cr_err err;
    const char *decision;

    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    cr_err_clear(&err);
    params = change_params(x, known);
    if (params == NULL)
        goto out;
    memset(&t, 0, sizeof t);
    t.x = x;
    t.a = patient_ref(x, json_object_get(param(params, "record", NULL),
                                         "valueReference"));
    t.b = patient_ref(x, json_object_get(param(params, "candidate", NULL),
                                         "valueReference"));
    decision = json_string_value(json_object_get(
        param(params, "decision", NULL), "valueCode"));
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
    if (!rec_read(x, t.a, &ra) || !rec_read(x, t.b, &rb))
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
    rec_free(&ra);
    rec_free(&rb);
    json_decref(params);
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
            match(x);
        else
            not_allowed(x, "POST");
    } else if (strcmp(op, "merge") == 0 || strcmp(op, "unmerge") == 0) {
        if (is(x, "POST"))
            merge(x, strcmp(op, "merge") == 0);
        else
            not_allowed(x, "POST");
    } else if (strcmp(op, "ihe-pix") == 0) {
        if (is(x, "GET"))
            pix(x);
        else
            not_allowed(x, "GET");
    } else if (strcmp(op, "mpi-review") == 0) {
        if (is(x, "GET"))
            review_list(x);
        else if (is(x, "POST"))
            review_decide(x);
        else
            not_allowed(x, "GET, POST");
    } else {
        x->has_action = false;
        return false;
    }
    return true;
}
