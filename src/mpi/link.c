/* link.c: keeping the index up to date as Patients are written.
 *
 * Every Patient write calls cr_mpi_txn_patient inside its transaction,
 * so the record, its person and its review pairs change together with
 * the resource or not at all. The person of a record is decided in this
 * order: a replaced-by link (merged: the survivor's person); an NHS
 * number (the number's person); else the one person among the
 * candidates graded certain; else the record's own. Reviewers' decisions
 * override the grades: "same person" links whatever the score, "different
 * people" never links or raises the pair again. docs/internals/mpi.md
 * walks through the cases. Depends on store/, fhir/, core/, jansson. */
#include "mpi/mpiInt.h"

#include "fhir/fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static void
copy(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;

    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

bool
cr_mpi_is_nhs_person(const char *person)
{
    return strncmp(person, "nhs|", 4) == 0;
}

void
cr_mpi_own_person(const char *id, char out[CR_MPI_PERSON_LEN])
{
    snprintf(out, CR_MPI_PERSON_LEN, "rec|%.64s", id);
}

static cr_rc
keep_row(void *ctx, const struct cr_store_mpi_row *row)
{
    struct cr_mpi_row *r = ctx;

    r->is_found = true;
    copy(r->id, sizeof r->id, row->id);
    copy(r->person, sizeof r->person, row->person);
    copy(r->how, sizeof r->how, row->how);
    copy(r->merged_into, sizeof r->merged_into, row->merged_into);
    cr_mpi_demo_decode(row->demo, &r->demo);
    r->weight = row->weight;
    return CR_OK;
}

cr_rc
cr_mpi_txn_row(struct cr_store_txn *txn, const char *id,
               struct cr_mpi_row *out, struct cr_err *err)
{
    cr_rc rc;

    memset(out, 0, sizeof *out);
    rc = cr_store_txn_mpi_get(txn, id, keep_row, out, err);
    return rc == CR_ENOTFOUND ? CR_OK : rc;
}

/* ---- candidates ---- */

static uint64_t
id_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The slot of 'id' in c->slots: where it is, or the empty one where it
 * would go. */
static size_t
slot_of(const struct cr_mpi_cands *c, const char *id)
{
    size_t i = (size_t)id_hash(id) & (c->nslots - 1);

    while (c->slots[i] && strcmp(c->v[c->slots[i] - 1].id, id) != 0)
        i = (i + 1) & (c->nslots - 1);
    return i;
}

/* Room for one more row, and the hash kept under half full. */
static bool
grow(struct cr_mpi_cands *c)
{
    size_t i;

    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        struct cr_mpi_row *v = realloc(c->v, cap * sizeof *v);
        if (v == NULL)
            return false;
        c->v = v;
        c->cap = cap;
    }
    if ((c->n + 1) * 2 > c->nslots) {
        size_t n = c->nslots ? c->nslots * 2 : 64;
        uint32_t *slots = calloc(n, sizeof *slots);
        if (slots == NULL)
            return false;
        free(c->slots);
        c->slots = slots;
        c->nslots = n;
        for (i = 0; i < c->n; i++)
            c->slots[slot_of(c, c->v[i].id)] = (uint32_t)i + 1;
    }
    return true;
}

static cr_rc
add_cand(void *ctx, const struct cr_store_mpi_row *row)
{
    struct cr_mpi_cands *c = ctx;
    struct cr_mpi_row *r;
    size_t slot;

    if (c->skip_id && strcmp(row->id, c->skip_id) == 0)
        return CR_OK;
    if (c->nslots && c->slots[slot_of(c, row->id)])
        return CR_OK;
    if (!grow(c))
        return CR_ENOMEM;
    slot = slot_of(c, row->id);
    r = &c->v[c->n];
    memset(r, 0, sizeof *r);
    keep_row(r, row);
    c->slots[slot] = (uint32_t)++c->n;
    return CR_OK;
}

cr_rc
cr_mpi_cands_add(void *ctx, const struct cr_store_mpi_row *row)
{
    return add_cand(ctx, row);
}

void
cr_mpi_cands_free(struct cr_mpi_cands *c)
{
    free(c->v);
    free(c->slots);
    memset(c, 0, sizeof *c);
}

/* The blocking keys of 'd' as the store takes them: all of them (to
 * store) or those to look up by. */
static size_t
key_list(const struct cr_mpi_demo *d, bool is_query,
         char keys[CR_MPI_MAX_KEYS][CR_MPI_KEY_LEN],
         const char *list[CR_MPI_MAX_KEYS])
{
    size_t n = is_query ? cr_mpi_query_keys(d, keys)
                        : cr_mpi_block_keys(d, keys), i;

    for (i = 0; i < n; i++)
        list[i] = keys[i];
    return n;
}

/* ---- the link of a record ---- */

cr_rc
cr_mpi_replaced_by(const json_t *patient, char out[65], struct cr_err *err)
{
    const json_t *link;
    size_t i;

    out[0] = '\0';
    json_array_foreach(json_object_get(patient, "link"), i, link) {
        const char *type = json_string_value(json_object_get(link, "type"));
        const char *ref = json_string_value(json_object_get(
            json_object_get(link, "other"), "reference"));
        const char *p, *id;
        char where[48];

        if (type == NULL || strcmp(type, "replaced-by") != 0)
            continue;
        snprintf(where, sizeof where, "Patient.link[%zu].other", i);
        if (out[0])
            return cr_err_set(err, CR_EINVAL, "business-rule", where,
                              "a Patient may be replaced by one record "
                              "only: keep one link of type replaced-by");
        p = ref ? strstr(ref, "Patient/") : NULL;
        /* the last "Patient/" of a relative or absolute reference */
        while (p && strstr(p + 1, "Patient/"))
            p = strstr(p + 1, "Patient/");
        id = p ? p + 8 : NULL;
        if (id == NULL || (p != ref && p[-1] != '/') ||
            !cr_fhir_valid_id(id, strlen(id)))
            return cr_err_set(err, CR_EINVAL, "business-rule", where,
                              "a replaced-by link must refer to a Patient "
                              "on this server by id (\"Patient/{id}\")");
        copy(out, 65, id);
    }
    return CR_OK;
}

/* Merge 'id' into 'target' (or unmerge when 'target' is ""), as the
 * record's new version says, when that differs from the store's alias. */
static cr_rc
follow_link(struct cr_store_txn *txn, const char *id, const char *target,
            int64_t now_ms, struct cr_err *err)
{
    struct cr_store_meta meta;
    char cur[65], end[65];
    cr_rc rc;

    rc = cr_store_txn_alias_get(txn, "Patient", id, cur, err);
    if (rc != CR_OK || strcmp(cur, target) == 0)
        return rc;
    if (target[0] == '\0') {
        /* unmerged: they are different people */
        rc = cr_store_txn_alias_set(txn, "Patient", id, NULL, err);
        if (rc == CR_OK)
            rc = cr_store_txn_mpi_decision_put(txn, id, cur, false, now_ms,
                                               err);
        return rc;
    }
    if (strcmp(target, id) == 0)
        return cr_err_set(err, CR_EINVAL, "business-rule", "Patient.link",
                          "Patient/%s cannot be replaced by itself", id);
    rc = cr_store_txn_current(txn, "Patient", target, &meta, err);
    if (rc == CR_ENOTFOUND || (rc == CR_OK && meta.is_deleted))
        return cr_err_set(err, CR_EINVAL, "business-rule", "Patient.link",
                          "the replaced-by link names Patient/%s, which "
                          "this server does not hold%s", target,
                          rc == CR_OK ? " (it was deleted)" : "");
    if (rc != CR_OK)
        return rc;
    rc = cr_store_txn_alias_resolve(txn, "Patient", target, end, err);
    if (rc != CR_OK)
        return rc;
    if (strcmp(end, id) == 0)
        return cr_err_set(err, CR_EINVAL, "business-rule", "Patient.link",
                          "Patient/%s was merged into Patient/%s, so it "
                          "cannot be replaced by it: unmerge it first",
                          target, id);
    return cr_store_txn_alias_set(txn, "Patient", id, target, err);
}

/* Everything in person 'from' joins person 'to'. */
static cr_rc
relabel(struct cr_store_txn *txn, const char *from, const char *to,
        struct cr_err *err)
{
    if (strcmp(from, to) == 0)
        return CR_OK;
    return cr_store_txn_mpi_relabel(txn, from, to, err);
}

struct decided {
    char other[65];
    bool is_same;
};

struct decisions {
    struct decided v[64];
    size_t n;
};

static cr_rc
keep_decision(void *ctx, const char *other, bool is_same)
{
    struct decisions *d = ctx;

    if (d->n < sizeof d->v / sizeof d->v[0]) {
        copy(d->v[d->n].other, sizeof d->v[0].other, other);
        d->v[d->n++].is_same = is_same;
    }
    return CR_OK;
}

/* -1 no decision, 0 different people, 1 the same person. */
static int
decision_of(const struct decisions *d, const char *other)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        if (strcmp(d->v[i].other, other) == 0)
            return d->v[i].is_same ? 1 : 0;
    return -1;
}

cr_rc
cr_mpi_txn_patient(struct cr_mpi *m, struct cr_store_txn *txn,
                   const char *id, const json_t *patient, int64_t now_ms,
                   struct cr_err *err)
{
    const struct cr_mpi_config *cfg = &m->cfg;
    struct cr_mpi_row old, trow;
    struct cr_mpi_demo d;
    struct cr_mpi_cands cands = { 0 };
    struct decisions dec;
    struct cr_store_mpi_row row;
    char keys[CR_MPI_MAX_KEYS][CR_MPI_KEY_LEN];
    char qkeys[CR_MPI_MAX_KEYS][CR_MPI_KEY_LEN];
    const char *list[CR_MPI_MAX_KEYS], *qlist[CR_MPI_MAX_KEYS];
    char person[CR_MPI_PERSON_LEN], certain[CR_MPI_PERSON_LEN], own[80];
    char target[65], end[65], text[CR_MPI_DEMO_TEXT];
    const char *how = "own";
    double weight = 0.0, best = -1e9;
    bool is_ambiguous = false;
    size_t nkeys, nqkeys, i;
    cr_rc rc;

    rc = cr_mpi_txn_row(txn, id, &old, err);
    if (rc != CR_OK)
        return rc;
    if (patient == NULL)
        return cr_store_txn_mpi_delete(txn, id, err);
    cr_mpi_demo_from_patient(patient, &d);
    cr_mpi_demo_encode(&d, text);
    nkeys = key_list(&d, false, keys, list);
    nqkeys = key_list(&d, true, qkeys, qlist);
    cr_mpi_own_person(id, own);
    rc = cr_mpi_replaced_by(patient, target, err);
    if (rc == CR_OK)
        rc = follow_link(txn, id, target, now_ms, err);
    if (rc != CR_OK)
        return rc;
    memset(&dec, 0, sizeof dec);
    rc = cr_store_txn_mpi_decisions(txn, id, keep_decision, &dec, err);
    if (rc == CR_OK)
        rc = cr_store_txn_mpi_review_delete(txn, id, NULL, err);
    if (rc != CR_OK)
        return rc;

    person[0] = certain[0] = '\0';
    if (target[0]) {
        /* merged: the survivor's person */
        rc = cr_store_txn_alias_resolve(txn, "Patient", target, end, err);
        if (rc == CR_OK)
            rc = cr_mpi_txn_row(txn, end, &trow, err);
        if (rc != CR_OK)
            return rc;
        if (trow.is_found)
            copy(person, sizeof person, trow.person);
        else
            cr_mpi_own_person(end, person);
        how = "merged";
        goto store;
    }
    if (d.nhs[0]) {
        snprintf(person, sizeof person, "nhs|%s", d.nhs);
        how = "nhs-number";
    }

    /* Candidates: a record with an NHS number looks only at records
     * without one (two numbers decide by themselves). */
    cands.skip_id = id;
    rc = cr_store_txn_mpi_block(txn, qlist, nqkeys, d.nhs[0] != '\0',
                                cfg->max_block, cr_mpi_cands_add, &cands,
                                err);
    /* and the records a reviewer said are the same person */
    for (i = 0; rc == CR_OK && i < dec.n; i++)
        if (dec.v[i].is_same) {
            rc = cr_store_txn_mpi_get(txn, dec.v[i].other, cr_mpi_cands_add,
                                      &cands, err);
            if (rc == CR_ENOTFOUND)
                rc = CR_OK;
        }
    if (rc == CR_ENOMEM)
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    if (rc != CR_OK)
        goto out;
    for (i = 0; i < cands.n; i++) {
        struct cr_mpi_row *c = &cands.v[i];
        struct cr_mpi_score s;
        int decided = decision_of(&dec, c->id);
        bool is_certain;

        if (decided == 0 || c->merged_into[0])
            continue;
        cr_mpi_compare(cfg, &d, &c->demo, &s);
        if (s.grade == CR_MPI_CERTAINLY_NOT || s.grade == CR_MPI_NONE) {
            if (decided != 1)
                continue;
        }
        is_certain = decided == 1 || s.grade == CR_MPI_CERTAIN;
        if (d.nhs[0]) {
            if (strcmp(c->person, person) == 0)
                continue;
            /* draw in a record without a number, unless it already
             * belongs to another number */
            if (is_certain && !cr_mpi_is_nhs_person(c->person)) {
                rc = relabel(txn, c->person, person, err);
                if (rc != CR_OK)
                    goto out;
                continue;
            }
            rc = cr_store_txn_mpi_review_put(txn, id, c->id, s.weight,
                                             now_ms, err);
            if (rc != CR_OK)
                goto out;
            continue;
        }
        if (is_certain) {
            if (!certain[0]) {
                copy(certain, sizeof certain, c->person);
                best = s.weight;
            } else if (strcmp(certain, c->person) != 0) {
                is_ambiguous = true;
            } else if (s.weight > best) {
                best = s.weight;
            }
        }
    }
    if (!d.nhs[0] && certain[0] && !is_ambiguous) {
        copy(person, sizeof person, certain);
        how = "matched";
        weight = best;
    }
    if (!person[0]) {
        copy(person, sizeof person, own);
        how = "own";
    }
    /* What is not linked and not certainly different goes to review. */
    for (i = 0; !d.nhs[0] && i < cands.n; i++) {
        struct cr_mpi_row *c = &cands.v[i];
        struct cr_mpi_score s;
        if (decision_of(&dec, c->id) >= 0 || c->merged_into[0] ||
            strcmp(c->person, person) == 0)
            continue;
        cr_mpi_compare(cfg, &d, &c->demo, &s);
        if (s.grade == CR_MPI_CERTAINLY_NOT || s.grade == CR_MPI_NONE)
            continue;
        rc = cr_store_txn_mpi_review_put(txn, id, c->id, s.weight, now_ms,
                                         err);
        if (rc != CR_OK)
            goto out;
    }

store:
    /* records that were linked to this one follow it */
    if (old.is_found && strcmp(old.person, own) == 0) {
        rc = relabel(txn, own, person, err);
        if (rc != CR_OK)
            goto out;
    }
    memset(&row, 0, sizeof row);
    row.id = id;
    row.person = person;
    row.nhs = d.nhs;
    row.demo = text;
    row.how = how;
    row.weight = weight;
    row.merged_into = target;
    row.updated_ms = now_ms;
    rc = cr_store_txn_mpi_put(txn, &row, list, nkeys, err);
out:
    cr_mpi_cands_free(&cands);
    return rc;
}

/* ---- review decisions ---- */

/* Index 'id' again from its stored Patient. */
static cr_rc
redo(struct cr_mpi *m, struct cr_store_txn *txn, const char *id,
     int64_t now_ms, struct cr_err *err)
{
    struct cr_buf b = cr_buf_make(0);
    struct cr_store_meta meta;
    json_t *root = NULL;
    cr_rc rc;

    rc = cr_store_txn_read(txn, "Patient", id, &b, &meta, err);
    if (rc == CR_OK)
        root = json_loadb(b.ptr, b.len, 0, NULL);
    cr_buf_free(&b);
    if (rc == CR_ENOTFOUND || rc == CR_EGONE)
        return CR_OK;
    if (rc != CR_OK)
        return rc;
    if (root == NULL)
        return CR_OK;
    rc = cr_mpi_txn_patient(m, txn, id, root, now_ms, err);
    json_decref(root);
    return rc;
}

cr_rc
cr_mpi_txn_decide(struct cr_mpi *m, struct cr_store_txn *txn, const char *a,
                  const char *b, bool is_same, int64_t now_ms,
                  struct cr_err *err)
{
    struct cr_mpi_row ra, rb;
    cr_rc rc;

    rc = cr_mpi_txn_row(txn, a, &ra, err);
    if (rc == CR_OK)
        rc = cr_mpi_txn_row(txn, b, &rb, err);
    if (rc != CR_OK)
        return rc;
    if (!ra.is_found || !rb.is_found)
        return cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                          "Patient/%s is not in the patient index",
                          ra.is_found ? b : a);
    if (strcmp(a, b) == 0)
        return cr_err_set(err, CR_EINVAL, "value", NULL,
                          "a record cannot be compared with itself");
    if (is_same && cr_mpi_is_nhs_person(ra.person) &&
        cr_mpi_is_nhs_person(rb.person) &&
        strcmp(ra.person, rb.person) != 0)
        return cr_err_set(err, CR_ECONFLICT, "business-rule", NULL,
                          "Patient/%s and Patient/%s have different NHS "
                          "numbers, so they are different people", a, b);
    rc = cr_store_txn_mpi_decision_put(txn, a, b, is_same, now_ms, err);
    if (rc == CR_OK)
        rc = cr_store_txn_mpi_review_delete(txn, a, b, err);
    if (rc != CR_OK)
        return rc;
    if (is_same) {
        /* the NHS number's person wins; else the first record's */
        if (cr_mpi_is_nhs_person(rb.person) &&
            !cr_mpi_is_nhs_person(ra.person))
            return relabel(txn, ra.person, rb.person, err);
        return relabel(txn, rb.person, ra.person, err);
    }
    if (strcmp(ra.person, rb.person) != 0)
        return CR_OK;
    /* linked on their scores: the one linked by matching is looked at
     * again, now that it may not link to the other */
    if (strcmp(rb.how, "matched") == 0)
        return redo(m, txn, b, now_ms, err);
    if (strcmp(ra.how, "matched") == 0)
        return redo(m, txn, a, now_ms, err);
    return CR_OK;
}
