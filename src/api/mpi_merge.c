/* mpi_merge.c: POST /fhir/Patient/$merge and $unmerge.
 *
 * After the R5 Patient-merge operation: the source gets a new version
 * replaced-by the target (and inactive), the target one that replaces the
 * source when the same organisation published it; $unmerge takes the
 * links out again. Both are Patient updates checked like the request's own
 * (organisation, policy, who may merge) and written with their audit
 * record in one transaction; the index follows the link (mpi/). The new
 * text is built from the stored bytes, so numbers keep their written form.
 * Depends on mpi/, store/, core/, jansson. */
#include "api/apiInt.h"

#include "core/jsontext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Patient/$merge and $unmerge ---- */

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
    ref = cr_api_params_get(params, name, &nref);
    ident = cr_api_params_get(params, idname, &nident);
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
        id = cr_api_params_patient(x, json_object_get(ref, "valueReference"));
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
rewrite(const struct cr_api_mpi_rec *r, const char *active, const char *links_text,
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
job_for(struct ctx *x, const struct cr_api_mpi_rec *r, struct cr_buf *t)
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
answer_merge(struct ctx *x, const char *msg, const struct cr_api_mpi_rec *target,
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

void
cr_api_mpi_merge(struct ctx *x, bool is_merge)
{
    static const char *const known_merge[] = {
        "source-patient", "source-patient-identifier", "target-patient",
        "target-patient-identifier", "preview", NULL };
    const struct cr_policy_decision *d;
    json_t *params = NULL, *p;
    struct cr_api_mpi_rec src, tgt;
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
    params = cr_api_mpi_change_params(x, known_merge);
    if (params == NULL)
        goto out;
    if (cr_api_params_get(params, "result-patient", NULL)) {
        cr_api_outcome(x, 400, "error", "not-supported", NULL,
                       "result-patient is not supported: the target keeps "
                       "what its publisher wrote");
        goto out;
    }
    p = cr_api_params_get(params, "preview", NULL);
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
    if (!cr_api_mpi_rec_read(x, sid, &src))
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
    if (!cr_api_mpi_rec_read(x, tid, &tgt))
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
    cr_api_mpi_rec_free(&src);
    cr_api_mpi_rec_free(&tgt);
    json_decref(params);
}
