/* query.c: running search plans, includes and $everything in SQLite.
 *
 * SQL text is assembled only from the fixed fragments in this file; every
 * value from a request is bound as a parameter. One clause drives (an
 * "id IN (...)" over the most selective index), the others are probes
 * ("EXISTS" on the resource's own index rows, which the (type, id, ...)
 * keys make cheap). Pages are cut with keyset cursors (the sort keys and
 * the id of the last row), so concurrent writes never shift a page.
 * Depends on SQLite, search/ (the plan's types), fhir/, core/, jansson and
 * OpenSSL (base64 for cursors). */
#include "store/storeInt.h"

#include "core/buf.h"
#include "search/search.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum bind_kind { B_TEXT, B_INT, B_REAL, B_PTR };

struct bind {
    enum bind_kind kind;
    const char *s;
    int64_t i;
    double d;
    const void *p;
};

#define CR_STORE_MAX_WIDE 8
#define WIDE_ROWS 1000

struct q {
    struct cr_buf sql;
    struct bind *b;
    size_t n, cap;
    char **owned;          /* strings made here, freed with the query */
    size_t nowned, cap_owned;
    int depth;             /* alias counter */
    bool is_oom;
    const struct cr_store_filter *hops;   /* rows a chain or _has may use */
    /* top-level chains and _has (under hops) whose inner condition
     * matches many resources: see is_wide() */
    const struct cr_search_clause *wide[CR_STORE_MAX_WIDE];
    size_t nwide;
    bool is_org_first;     /* plan->org's rows drive: see org_drives() */
};

static void
qs(struct q *q, const char *sql)
{
    cr_buf_adds(&q->sql, sql);
}

static struct bind *
bnew(struct q *q)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        struct bind *n = realloc(q->b, cap * sizeof *n);
        if (n == NULL) {
            q->is_oom = true;
            return NULL;
        }
        q->b = n;
        q->cap = cap;
    }
    cr_buf_addc(&q->sql, '?');
    return &q->b[q->n++];
}

static void
bt(struct q *q, const char *s)
{
    struct bind *b = bnew(q);
    if (b) {
        b->kind = B_TEXT;
        b->s = s ? s : "";
    }
}

static void
bi(struct q *q, int64_t i)
{
    struct bind *b = bnew(q);
    if (b) {
        b->kind = B_INT;
        b->i = i;
    }
}

/* The filter of chain and _has hops, for cr_visible() (hash.c). */
static void
bp(struct q *q, const struct cr_store_filter *f)
{
    struct bind *b = bnew(q);
    if (b) {
        b->kind = B_PTR;
        b->p = f;
    }
}

/* " AND cr_visible(?, a.type, a.org, a.patient, a.json)" when the search
 * has a hop filter: a chain or _has may only rest on rows the caller may
 * see, or which patients match would reveal what was withheld. */
static void
hop_visible(struct q *q, const char *a)
{
    if (q->hops == NULL || q->hops->fn == NULL)
        return;
    qs(q, " AND cr_visible(");
    bp(q, q->hops);
    cr_buf_addf(&q->sql, ",%s.type,%s.org,%s.patient,%s.json)", a, a, a, a);
}

static void
bd(struct q *q, double d)
{
    struct bind *b = bnew(q);
    if (b) {
        b->kind = B_REAL;
        b->d = d;
    }
}

/* A string that lives as long as the query. */
static const char *
own(struct q *q, char *s)
{
    if (s == NULL) {
        q->is_oom = true;
        return "";
    }
    if (q->nowned == q->cap_owned) {
        size_t cap = q->cap_owned ? q->cap_owned * 2 : 8;
        char **n = realloc(q->owned, cap * sizeof *n);
        if (n == NULL) {
            free(s);
            q->is_oom = true;
            return "";
        }
        q->owned = n;
        q->cap_owned = cap;
    }
    q->owned[q->nowned++] = s;
    return s;
}

static void
q_free(struct q *q)
{
    size_t i;

    for (i = 0; i < q->nowned; i++)
        free(q->owned[i]);
    free(q->owned);
    free(q->b);
    cr_buf_free(&q->sql);
}

static const char *
table_of(enum cr_fhir_sp_type kind)
{
    switch (kind) {
    case CR_SP_TOKEN:
    case CR_SP_URI: return "ix_token";
    case CR_SP_STRING: return "ix_string";
    case CR_SP_DATE: return "ix_date";
    case CR_SP_REFERENCE: return "ix_ref";
    case CR_SP_NUMBER:
    case CR_SP_QUANTITY: return "ix_number";
    default: return NULL;
    }
}

/* "prefix" -> the first string after every string starting with it. */
static const char *
prefix_end(struct q *q, const char *prefix)
{
    size_t n = strlen(prefix);
    char *s = malloc(n + 5);

    if (s) {
        memcpy(s, prefix, n);
        memcpy(s + n, "\xf4\x8f\xbf\xbf", 5);   /* U+10FFFF, then NUL */
    }
    return own(q, s);
}

/* Range comparison of a row range [lo, hi] (column names given) against a
 * search range [qlo, qhi] with a prefix, for dates (integers). */
/* "(lo >= qlo AND hi <= qhi)": the row's range lies within the search's. */
static void
within(struct q *q, const char *lo, const char *hi,
       const struct cr_search_value *v)
{
    cr_buf_addf(&q->sql, "(%s>=", lo); bi(q, v->lo);
    cr_buf_addf(&q->sql, " AND %s<=", hi); bi(q, v->hi);
    qs(q, ")");
}

static void
date_cond(struct q *q, const char *lo, const char *hi,
          const struct cr_search_value *v)
{
    int64_t d;

    switch (v->prefix) {
    case CR_PFX_EQ:
        within(q, lo, hi, v);
        break;
    case CR_PFX_NE:
        qs(q, "NOT ");
        within(q, lo, hi, v);
        break;
    case CR_PFX_GT:
        cr_buf_addf(&q->sql, "%s>", hi); bi(q, v->hi);
        break;
    case CR_PFX_LT:
        cr_buf_addf(&q->sql, "%s<", lo); bi(q, v->lo);
        break;
    case CR_PFX_GE:
        cr_buf_addf(&q->sql, "(%s>", hi); bi(q, v->hi);
        qs(q, " OR ");
        within(q, lo, hi, v);
        qs(q, ")");
        break;
    case CR_PFX_LE:
        cr_buf_addf(&q->sql, "(%s<", lo); bi(q, v->lo);
        qs(q, " OR ");
        within(q, lo, hi, v);
        qs(q, ")");
        break;
    case CR_PFX_SA:
        cr_buf_addf(&q->sql, "%s>", lo); bi(q, v->hi);
        break;
    case CR_PFX_EB:
        cr_buf_addf(&q->sql, "%s<", hi); bi(q, v->lo);
        break;
    case CR_PFX_AP:
        /* within a tenth of the distance to now, and at least a day */
        {
            int64_t now_ms = (int64_t)time(NULL) * 1000;
            int64_t dist = now_ms > v->lo ? now_ms - v->lo : v->lo - now_ms;
            d = dist / 10;
            if (d < 86400000)
                d = 86400000;
        }
        cr_buf_addf(&q->sql, "(%s<=", lo); bi(q, v->hi + d);
        cr_buf_addf(&q->sql, " AND %s>=", hi); bi(q, v->lo - d);
        qs(q, ")");
        break;
    }
}

static void
number_cond(struct q *q, const char *col, const struct cr_search_value *v)
{
    double span = v->num * 0.1 < 0 ? -v->num * 0.1 : v->num * 0.1;

    switch (v->prefix) {
    case CR_PFX_EQ:
    case CR_PFX_NE:
        /* the value lies in the search value's precision range */
        qs(q, v->prefix == CR_PFX_NE ? "NOT (" : "(");
        cr_buf_addf(&q->sql, "%s>=", col); bd(q, v->num_lo);
        cr_buf_addf(&q->sql, " AND %s<", col); bd(q, v->num_hi);
        qs(q, ")");
        break;
    case CR_PFX_GT:
    case CR_PFX_SA:
        cr_buf_addf(&q->sql, "%s>", col); bd(q, v->num);
        break;
    case CR_PFX_LT:
    case CR_PFX_EB:
        cr_buf_addf(&q->sql, "%s<", col); bd(q, v->num);
        break;
    case CR_PFX_GE:
        cr_buf_addf(&q->sql, "%s>=", col); bd(q, v->num);
        break;
    case CR_PFX_LE:
        cr_buf_addf(&q->sql, "%s<=", col); bd(q, v->num);
        break;
    case CR_PFX_AP:
        cr_buf_addf(&q->sql, "(%s>=", col); bd(q, v->num - span);
        cr_buf_addf(&q->sql, " AND %s<=", col); bd(q, v->num + span);
        qs(q, ")");
        break;
    }
}

/* Condition on index alias 'a' for one value of clause 'c' on 'type'. */
static void
value_cond(struct q *q, const char *a, const char *type,
           const struct cr_search_clause *c, const struct cr_search_value *v)
{
    int64_t hp = cr_store_hash2(type, c->param);
    char col[48], col2[48];
    size_t i;

    switch (c->kind) {
    case CR_SP_TOKEN:
    case CR_SP_URI:
        if (c->modifier == CR_MOD_TEXT) {
            cr_buf_addf(&q->sql, "(%s.hp=", a); bi(q, hp);
            cr_buf_addf(&q->sql, " AND %s.text>=", a); bt(q, v->text);
            cr_buf_addf(&q->sql, " AND %s.text<", a);
            bt(q, prefix_end(q, v->text));
            qs(q, ")");
        } else if (v->code && v->system && *v->system) {
            /* Rows from code elements carry the implicit system (their
             * binding's), which matches any system asked for. */
            cr_buf_addf(&q->sql, "%s.hsc IN (", a);
            bi(q, cr_store_hash4(type, c->param, v->system, v->code));
            qs(q, ",");
            bi(q, cr_store_hash4(type, c->param, CR_FHIR_IMPLICIT_SYSTEM,
                                 v->code));
            qs(q, ")");
        } else if (v->code && v->system) {
            cr_buf_addf(&q->sql, "%s.hsc=", a);
            bi(q, cr_store_hash4(type, c->param, "", v->code));
        } else if (v->code) {
            cr_buf_addf(&q->sql, "%s.hc=", a);
            bi(q, cr_store_hash3(type, c->param, v->code));
        } else {
            cr_buf_addf(&q->sql, "%s.hs=", a);
            bi(q, cr_store_hash3(type, c->param, v->system));
        }
        return;
    case CR_SP_STRING:
        cr_buf_addf(&q->sql, "(%s.hp=", a); bi(q, hp);
        if (c->modifier == CR_MOD_EXACT) {
            cr_buf_addf(&q->sql, " AND %s.raw=", a);
            bt(q, v->text);
        } else if (c->modifier == CR_MOD_CONTAINS) {
            cr_buf_addf(&q->sql, " AND instr(%s.norm,", a);
            bt(q, v->text);
            qs(q, ")>0");
        } else {
            cr_buf_addf(&q->sql, " AND %s.norm>=", a); bt(q, v->text);
            cr_buf_addf(&q->sql, " AND %s.norm<", a);
            bt(q, prefix_end(q, v->text));
        }
        qs(q, ")");
        return;
    case CR_SP_DATE:
        snprintf(col, sizeof col, "%s.lo", a);
        snprintf(col2, sizeof col2, "%s.hi", a);
        cr_buf_addf(&q->sql, "(%s.hp=", a); bi(q, hp);
        qs(q, " AND ");
        date_cond(q, col, col2, v);
        qs(q, ")");
        return;
    case CR_SP_NUMBER:
    case CR_SP_QUANTITY:
        snprintf(col, sizeof col, "%s.num", a);
        cr_buf_addf(&q->sql, "(%s.hp=", a); bi(q, hp);
        qs(q, " AND ");
        number_cond(q, col, v);
        if (v->unit_code && v->unit_system) {
            cr_buf_addf(&q->sql, " AND %s.hu=", a);
            bi(q, cr_store_hash2(v->unit_system, v->unit_code));
        } else if (v->unit_code) {
            cr_buf_addf(&q->sql, " AND %s.hcu=", a);
            bi(q, cr_store_hash2("", v->unit_code));
        }
        qs(q, ")");
        return;
    case CR_SP_REFERENCE:
        cr_buf_addf(&q->sql, "(%s.hp=", a); bi(q, hp);
        if (v->ref_type) {
            cr_buf_addf(&q->sql, " AND %s.ht=", a);
            bi(q, cr_store_hash_ref(v->ref_type, v->ref_id));
        } else {
            /* a bare id: any of the types the parameter may refer to */
            cr_buf_addf(&q->sql, " AND %s.ht IN (", a);
            for (i = 0; i < c->ntargets; i++) {
                if (i)
                    qs(q, ",");
                bi(q, cr_store_hash_ref(c->targets[i], v->ref_id));
            }
            if (c->ntargets == 0)
                qs(q, "NULL");
            qs(q, ")");
        }
        qs(q, ")");
        return;
    default:
        qs(q, "0");
    }
}

static void
values_cond(struct q *q, const char *a, const char *type,
            const struct cr_search_clause *c)
{
    size_t i;

    qs(q, "(");
    for (i = 0; i < c->nvalues; i++) {
        if (i)
            qs(q, " OR ");
        value_cond(q, a, type, c, &c->values[i]);
    }
    qs(q, ")");
}

static bool
is_wide_clause(const struct q *q, const struct cr_search_clause *c)
{
    size_t i;

    for (i = 0; i < q->nwide; i++)
        if (q->wide[i] == c)
            return true;
    return false;
}

/* hop_visible on alias prefix+a ("v" and "h3": vh3). */
static void
visible_as(struct q *q, const char *prefix, const char *a)
{
    char v[24];

    snprintf(v, sizeof v, "%s%s", prefix, a);
    hop_visible(q, v);
}

static bool
is_positive(const struct cr_search_clause *c)
{
    return c->kind != CR_SP_SPECIAL_ID &&
           c->kind != CR_SP_SPECIAL_LASTUPDATED && c->inner == NULL &&
           c->modifier != CR_MOD_NOT && c->modifier != CR_MOD_MISSING;
}

static void probe(struct q *q, const char *r, const char *type,
                  const struct cr_search_clause *c);

/* SELECT the rids of resources of 'type' that match 'c'. */
static void
idset(struct q *q, const char *type, const struct cr_search_clause *c)
{
    char a[16];

    snprintf(a, sizeof a, "t%d", ++q->depth);
    if (c->has_type) {
        cr_buf_addf(&q->sql, "SELECT %s.rid FROM resources %s WHERE %s.type=",
                    a, a, a);
        bt(q, type);
        cr_buf_addf(&q->sql, " AND %s.h IN (SELECT x%s.ht FROM ix_ref x%s "
                             "WHERE x%s.hp=", a, a, a, a);
        bi(q, cr_store_hash2(c->has_type, c->has_ref));
        if (q->hops && q->hops->fn) {
            cr_buf_addf(&q->sql, " AND x%s.rid IN (SELECT v%s.rid FROM "
                                 "resources v%s WHERE v%s.rid IN (",
                        a, a, a, a);
            idset(q, c->has_type, c->inner);
            qs(q, ")");
            visible_as(q, "v", a);
            qs(q, "))");
            return;
        }
        cr_buf_addf(&q->sql, " AND x%s.rid IN (", a);
        idset(q, c->has_type, c->inner);
        qs(q, "))");
        return;
    }
    if (c->inner) {
        cr_buf_addf(&q->sql, "SELECT %s.rid FROM ix_ref %s WHERE %s.hp=", a,
                    a, a);
        bi(q, cr_store_hash2(type, c->param));
        cr_buf_addf(&q->sql, " AND %s.ht IN (SELECT y%s.h FROM resources y%s "
                             "WHERE y%s.rid IN (", a, a, a, a);
        idset(q, c->chain_type, c->inner);
        qs(q, ")");
        visible_as(q, "y", a);
        qs(q, ")");
        return;
    }
    if (is_positive(c)) {
        cr_buf_addf(&q->sql, "SELECT %s.rid FROM %s %s WHERE ", a,
                    table_of(c->kind), a);
        values_cond(q, a, type, c);
        return;
    }
    cr_buf_addf(&q->sql, "SELECT %s.rid FROM resources %s WHERE %s.type=", a,
                a, a);
    bt(q, type);
    cr_buf_addf(&q->sql, " AND %s.deleted=0 AND ", a);
    probe(q, a, type, c);
}

/* The end of a wide probe's EXISTS: resource alias prefix+a is in the
 * inner set of 'type' and the caller may see it. The set is looked up,
 * never walked ('+'): the probed row's own references drive. */
static void
visible_member(struct q *q, const char *prefix, const char *a,
               const char *type, const struct cr_search_clause *inner)
{
    cr_buf_addf(&q->sql, " AND +%s%s.rid IN (", prefix, a);
    idset(q, type, inner);
    qs(q, ")");
    visible_as(q, prefix, a);
    qs(q, ")");
}

/* A condition on resource alias 'r' (of 'type') for clause 'c'. */
static void
probe(struct q *q, const char *r, const char *type,
      const struct cr_search_clause *c)
{
    char a[16];
    size_t i;

    if (c->kind == CR_SP_SPECIAL_ID) {
        cr_buf_addf(&q->sql, "%s.id IN (", r);
        for (i = 0; i < c->nvalues; i++) {
            if (i)
                qs(q, ",");
            bt(q, c->values[i].code);
        }
        qs(q, ")");
        return;
    }
    if (c->kind == CR_SP_SPECIAL_LASTUPDATED) {
        char col[48];
        snprintf(col, sizeof col, "%s.last_updated", r);
        qs(q, "(");
        for (i = 0; i < c->nvalues; i++) {
            if (i)
                qs(q, " OR ");
            date_cond(q, col, col, &c->values[i]);
        }
        qs(q, ")");
        return;
    }
    if (is_wide_clause(q, c) && c->has_type) {
        /* a wide _has under a hop filter: the candidates by index alone
         * (no resource read), then for each candidate the walk reaches,
         * one row the caller may see. cr_visible runs on the rows of the
         * resources the page needs, not on every row the inner condition
         * matches (all blood pressures, to page ten patients). The
         * inner set is named twice: the first, index-only, keeps rows
         * with no reference from it off the EXISTS (without it a count
         * of 1,415 of 33,486 patients took 0.2 s instead of 0.07). */
        snprintf(a, sizeof a, "h%d", ++q->depth);
        cr_buf_addf(&q->sql, "%s.h IN (SELECT %s.ht FROM ix_ref %s WHERE "
                             "%s.hp=", r, a, a, a);
        bi(q, cr_store_hash2(c->has_type, c->has_ref));
        cr_buf_addf(&q->sql, " AND %s.rid IN (", a);
        idset(q, c->has_type, c->inner);
        cr_buf_addf(&q->sql, ")) AND EXISTS(SELECT 1 FROM ix_ref y%s JOIN "
                             "resources v%s ON v%s.rid=y%s.rid WHERE "
                             "y%s.ht=%s.h AND y%s.hp=", a, a, a, a, a, r, a);
        bi(q, cr_store_hash2(c->has_type, c->has_ref));
        visible_member(q, "v", a, c->has_type, c->inner);
        return;
    }
    if (is_wide_clause(q, c)) {
        /* a wide chain under a hop filter, likewise: this resource's
         * references of the parameter, to a target in the inner set that
         * the caller may see */
        snprintf(a, sizeof a, "c%d", ++q->depth);
        cr_buf_addf(&q->sql, "EXISTS(SELECT 1 FROM ix_ref x%s JOIN resources "
                             "y%s ON y%s.h=x%s.ht WHERE x%s.rid=%s.rid AND "
                             "x%s.hp=", a, a, a, a, a, r, a);
        bi(q, cr_store_hash2(type, c->param));
        visible_member(q, "y", a, c->chain_type, c->inner);
        return;
    }
    if (c->inner || c->has_type) {
        cr_buf_addf(&q->sql, "%s.rid IN (", r);
        idset(q, type, c);
        qs(q, ")");
        return;
    }
    snprintf(a, sizeof a, "p%d", ++q->depth);
    if (c->modifier == CR_MOD_MISSING) {
        bool is_missing = c->nvalues && c->values[0].is_missing;
        cr_buf_addf(&q->sql, "%sEXISTS(SELECT 1 FROM %s %s WHERE %s.rid=%s.rid"
                             " AND %s.hp=", is_missing ? "NOT " : "",
                    table_of(c->kind), a, a, r, a);
        bi(q, cr_store_hash2(type, c->param));
        qs(q, ")");
        return;
    }
    cr_buf_addf(&q->sql, "%sEXISTS(SELECT 1 FROM %s %s WHERE %s.rid=%s.rid "
                         "AND ", c->modifier == CR_MOD_NOT ? "NOT " : "",
                table_of(c->kind), a, a, r);
    values_cond(q, a, type, c);
    qs(q, ")");
}

/* How well a clause narrows the search when it drives (lower is better);
 * -1: it cannot drive. */
static int
drive_rank(const struct cr_search_clause *c)
{
    if (c->kind == CR_SP_SPECIAL_ID)
        return 0;
    if (c->kind == CR_SP_SPECIAL_LASTUPDATED || c->modifier == CR_MOD_NOT ||
        c->modifier == CR_MOD_MISSING || c->modifier == CR_MOD_CONTAINS)
        return -1;
    if (c->has_type || c->inner)
        return 5;
    switch (c->kind) {
    case CR_SP_REFERENCE: return 1;
    case CR_SP_TOKEN:
    case CR_SP_URI: {
        size_t i;
        if (c->modifier == CR_MOD_TEXT)
            return -1;
        for (i = 0; i < c->nvalues; i++)
            if (c->values[i].code == NULL)
                return -1;      /* "system|": no index on system alone */
        return 2;
    }
    case CR_SP_STRING: return 3;
    default: return 6;
    }
}

/* The clause that drives the search (its lookup index gives the
 * candidates), or SIZE_MAX for none; its drive_rank in *rank. */
static size_t
driver(const struct q *q, const struct cr_search_plan *plan, int *rank)
{
    size_t i, drive = SIZE_MAX;
    int best = 100;

    for (i = 0; i < plan->nclauses; i++) {
        int r = drive_rank(&plan->clauses[i]);
        /* a wide chain or _has does not drive: as a probe it decides
         * visibility only on the resources the walk reaches (probe()) */
        if (is_wide_clause(q, &plan->clauses[i]))
            continue;
        if (r >= 0 && r < best) {
            best = r;
            drive = i;
        }
    }
    *rank = best;
    return drive;
}

/* The WHERE conditions for plan (on alias r). */
static void
where(struct q *q, const struct cr_search_plan *plan)
{
    size_t i, drive;
    int rank;

    drive = q->is_org_first ? SIZE_MAX : driver(q, plan, &rank);
    /* With a driving clause, "+r.type" keeps SQLite from scanning every
     * resource of the type through the (type, id) index: without
     * statistics it would prefer that to the driving id list. */
    qs(q, drive != SIZE_MAX ? "+r.type=" : "r.type=");
    bt(q, plan->type);
    qs(q, " AND r.deleted=0");
    /* Without a driving clause the organisation's rows are found by
     * its index (resources_org); with one, the clause's few rows are
     * only checked ("+r.org"), not replaced by all of the organisation's
     * (SQLite has no statistics to tell which is fewer). */
    if (plan->org) {
        qs(q, drive != SIZE_MAX ? " AND +r.org=" : " AND r.org=");
        bt(q, plan->org);
    }
    if (drive != SIZE_MAX && plan->clauses[drive].kind != CR_SP_SPECIAL_ID) {
        qs(q, " AND r.rid IN (");
        idset(q, plan->type, &plan->clauses[drive]);
        qs(q, ")");
    }
    for (i = 0; i < plan->nclauses; i++) {
        if (i == drive && plan->clauses[i].kind != CR_SP_SPECIAL_ID)
            continue;
        qs(q, " AND ");
        probe(q, "r", plan->type, &plan->clauses[i]);
    }
}

/* The sort key expression for sort 's' (NULLs last either way). Each is
 * an aggregate over the resource's own index rows (k.rid=r.rid, the
 * primary key's prefix). The aggregate's argument is never a bare column
 * ('+k.num'): with one, SQLite may answer min()/max() by walking the
 * (hp, value) index of every resource in value order until it meets this
 * one, a walk per row (1.3 s instead of 13 ms over 5,900 Observations). */
static void
sort_key(struct q *q, const char *type, const struct cr_search_sort *s)
{
    const char *t = table_of(s->kind);
    const char *agg = s->is_desc ? "max" : "min";

    if (strcmp(s->param, "_id") == 0) {
        qs(q, "r.id");
        return;
    }
    if (strcmp(s->param, "_lastUpdated") == 0 ||
        s->kind == CR_SP_SPECIAL_LASTUPDATED) {
        qs(q, "r.last_updated");
        return;
    }
    switch (s->kind) {
    case CR_SP_STRING:
    case CR_SP_TOKEN:
    case CR_SP_URI:
        /* text-only token rows have an empty code: not a sort value */
        cr_buf_addf(&q->sql, "ifnull((SELECT %s(nullif(k.%s,'')) FROM %s k "
                             "WHERE k.rid=r.rid AND k.hp=", agg,
                    s->kind == CR_SP_STRING ? "norm" : "code", t);
        bi(q, cr_store_hash2(type, s->param));
        cr_buf_addf(&q->sql, "),%s)", s->is_desc ? "''" : "char(1114111)");
        break;
    case CR_SP_DATE:
        cr_buf_addf(&q->sql, "ifnull((SELECT %s FROM %s k WHERE "
                             "k.rid=r.rid AND k.hp=",
                    s->is_desc ? "max(+k.hi)" : "min(+k.lo)", t);
        bi(q, cr_store_hash2(type, s->param));
        cr_buf_addf(&q->sql, "),%s)", s->is_desc ? "-9223372036854775807"
                                                 : "9223372036854775807");
        break;
    default:
        cr_buf_addf(&q->sql, "ifnull((SELECT %s(+k.num) FROM %s k WHERE "
                             "k.rid=r.rid AND k.hp=", agg, t);
        bi(q, cr_store_hash2(type, s->param));
        cr_buf_addf(&q->sql, "),%s)", s->is_desc ? "-1e308" : "1e308");
        break;
    }
}

static cr_rc
prepare(struct conn *c, struct q *q, sqlite3_stmt **out, struct cr_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;

    if (q->is_oom || q->sql.rc != CR_OK)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                          "out of memory building a query");
    if (cr_store_conn_prepare(c, q->sql.ptr, q->sql.len, &st) != SQLITE_OK)
        return cr_store_sqlerr(c, "preparing a search", err);
    for (i = 0; i < q->n; i++) {
        const struct bind *b = &q->b[i];
        int k = (int)i + 1;
        if (b->kind == B_TEXT)
            sqlite3_bind_text(st, k, b->s, -1, SQLITE_STATIC);
        else if (b->kind == B_INT)
            sqlite3_bind_int64(st, k, b->i);
        else if (b->kind == B_PTR)
            sqlite3_bind_pointer(st, k, (void *)b->p, CR_STORE_FILTER_PTR,
                                 NULL);
        else
            sqlite3_bind_double(st, k, b->d);
    }
    *out = st;
    return CR_OK;
}

/* ---- cursors: base64url of a JSON array of the last row's keys ---- */

static void
encode_cursor(sqlite3_stmt *st, int dir, int first_key, int nkeys,
              int id_col, char out[CR_STORE_CURSOR_MAX])
{
    json_t *a = json_array();
    unsigned char b64[CR_STORE_CURSOR_MAX];
    char *text;
    int i, n;
    size_t len, k;

    out[0] = '\0';
    if (a == NULL)
        return;
    json_array_append_new(a, json_integer(dir));
    for (i = 0; i < nkeys + 1; i++) {
        int col = i < nkeys ? first_key + i : id_col;
        switch (sqlite3_column_type(st, col)) {
        case SQLITE_INTEGER:
            json_array_append_new(a, json_integer(
                                         sqlite3_column_int64(st, col)));
            break;
        case SQLITE_FLOAT:
            json_array_append_new(a, json_real(
                                         sqlite3_column_double(st, col)));
            break;
        default:
            json_array_append_new(a, json_string(
                (const char *)sqlite3_column_text(st, col)));
        }
    }
    text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (text == NULL)
        return;
    len = strlen(text);
    if (len * 4 / 3 + 4 >= sizeof b64) {
        free(text);
        return;
    }
    n = EVP_EncodeBlock(b64, (const unsigned char *)text, (int)len);
    free(text);
    for (k = 0; k < (size_t)n && b64[k] != '='; k++)
        out[k] = b64[k] == '+' ? '-' : b64[k] == '/' ? '_' : (char)b64[k];
    out[k] = '\0';
}

static json_t *
decode_cursor(const char *cursor, size_t nkeys)
{
    size_t len = strlen(cursor), k, padded;
    char in[CR_STORE_CURSOR_MAX + 4];
    unsigned char out[CR_STORE_CURSOR_MAX];
    json_t *a;
    int n;

    if (len == 0 || len >= CR_STORE_CURSOR_MAX)
        return NULL;
    for (k = 0; k < len; k++) {
        char c = cursor[k];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9')))
            return NULL;
        in[k] = c;
    }
    padded = (len + 3) / 4 * 4;
    for (; k < padded; k++)
        in[k] = '=';
    in[k] = '\0';
    n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)padded);
    if (n < 0)
        return NULL;
    while (n > 0 && out[n - 1] == '\0')
        n--;
    a = json_loadb((const char *)out, (size_t)n, 0, NULL);
    if (!json_is_array(a) || json_array_size(a) != nkeys + 2 ||
        !json_is_integer(json_array_get(a, 0)) ||
        !json_is_string(json_array_get(a, nkeys + 1))) {
        json_decref(a);
        return NULL;
    }
    /* drop the direction: callers see [keys..., id] */
    {
        json_int_t dir = json_integer_value(json_array_get(a, 0));
        if (dir != 0 && dir != 1) {
            json_decref(a);
            return NULL;
        }
        json_array_remove(a, 0);
        json_array_append_new(a, json_integer(dir));
    }
    for (k = 0; k < nkeys; k++) {
        json_t *v = json_array_get(a, k);
        if (!json_is_string(v) && !json_is_integer(v) && !json_is_real(v)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static void
bind_json(struct q *q, json_t *v)
{
    if (json_is_integer(v))
        bi(q, json_integer_value(v));
    else if (json_is_real(v))
        bd(q, json_real_value(v));
    else
        bt(q, json_string_value(v));
}

/* (k0,k1,...,id) after the cursor, each key in its own direction. */
static void
after_cursor(struct q *q, const struct cr_search_plan *plan, json_t *cur,
             bool is_before)
{
    size_t n = plan->nsort, i, k;

    qs(q, " AND (");
    for (i = 0; i <= n; i++) {
        if (i)
            qs(q, " OR ");
        qs(q, "(");
        for (k = 0; k < i; k++) {
            cr_buf_addf(&q->sql, "k%zu=", k);
            bind_json(q, json_array_get(cur, k));
            qs(q, " AND ");
        }
        if (i < n) {
            cr_buf_addf(&q->sql, "k%zu%s", i,
                        plan->sort[i].is_desc != is_before ? "<" : ">");
            bind_json(q, json_array_get(cur, i));
        } else {
            qs(q, is_before ? "id<" : "id>");
            bind_json(q, json_array_get(cur, n));
        }
        qs(q, ")");
    }
    qs(q, ")");
}

#define ROW_COLS "r.id AS id,r.version,r.last_updated,r.seq,r.deleted," \
                 "r.patient,r.org,r.node,r.json"

/* One row kept for a page read backwards (it is emitted reversed). */
struct kept {
    char *id;
    struct cr_store_meta meta;
    char *json;
    size_t len;
};

/* How far org_drives counts each side. */
#define ORG_ROWS 20000

/* Run 'q', a SELECT count(*), and put its value in *n. */
static cr_rc
count_upto(struct conn *c, struct q *q, int64_t *n, struct cr_err *err)
{
    sqlite3_stmt *st = NULL;
    cr_rc rc = prepare(c, q, &st, err);

    *n = 0;
    if (rc != CR_OK)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        rc = cr_store_sqlerr(c, "sizing a search", err);
    cr_store_conn_unprepare(c, st);
    return rc;
}

/* Which top-level chains and _has of the plan, under a hop filter, have
 * an inner condition that more than WIDE_ROWS resources match: those are
 * probed on each resource the walk reaches (probe()) instead of deciding
 * the visibility of the whole inner set first, seconds when it is every
 * female patient; a narrow one (one NHS number) still drives the search
 * from its few rows. One index-only count, stopped past WIDE_ROWS. */
static cr_rc
find_wide(struct conn *c, struct q *outer, const struct cr_search_plan *plan,
          struct cr_err *err)
{
    size_t i;

    if (outer->hops == NULL || outer->hops->fn == NULL)
        return CR_OK;
    for (i = 0; i < plan->nclauses && outer->nwide < CR_STORE_MAX_WIDE;
         i++) {
        const struct cr_search_clause *cl = &plan->clauses[i];
        int64_t n = 0;
        struct q q;
        cr_rc rc;

        if (cl->inner == NULL)
            continue;
        memset(&q, 0, sizeof q);
        q.sql = cr_buf_make(1 << 16);
        qs(&q, "SELECT count(*) FROM (");
        idset(&q, cl->has_type ? cl->has_type : cl->chain_type, cl->inner);
        qs(&q, " LIMIT ");
        bi(&q, WIDE_ROWS + 1);
        qs(&q, ")");
        rc = count_upto(c, &q, &n, err);
        q_free(&q);
        if (rc != CR_OK)
            return rc;
        if (n > WIDE_ROWS)
            outer->wide[outer->nwide++] = cl;
    }
    return CR_OK;
}

/* A search limited to one organisation's rows (plan->org) whose driving
 * clause matches many resources (status=finished: nearly every
 * Encounter) is faster walking the organisation's rows (resources_org)
 * with the clause as a probe, when the organisation has fewer of that
 * type. Without statistics SQLite cannot tell, so both are counted
 * (index only, up to ORG_ROWS each: a few ms at most) when the driver is
 * a token, string, date or number; an id or a reference to one resource
 * always drives. */
static cr_rc
org_drives(struct conn *c, struct q *outer, const struct cr_search_plan *plan,
           struct cr_err *err)
{
    struct q q;
    int64_t by_clause = 0, by_org = 0;
    size_t drive;
    int rank;
    cr_rc rc;

    if (plan->org == NULL)
        return CR_OK;
    drive = driver(outer, plan, &rank);
    if (drive == SIZE_MAX || rank <= 1)
        return CR_OK;
    memset(&q, 0, sizeof q);
    q.sql = cr_buf_make(1 << 16);
    qs(&q, "SELECT count(*) FROM (");
    idset(&q, plan->type, &plan->clauses[drive]);
    qs(&q, " LIMIT ");
    bi(&q, ORG_ROWS + 1);
    qs(&q, ")");
    rc = count_upto(c, &q, &by_clause, err);
    q_free(&q);
    if (rc != CR_OK || by_clause <= WIDE_ROWS)
        return rc;
    memset(&q, 0, sizeof q);
    q.sql = cr_buf_make(1 << 10);
    qs(&q, "SELECT count(*) FROM (SELECT 1 FROM resources o WHERE o.org=");
    bt(&q, plan->org);
    qs(&q, " AND o.type=");
    bt(&q, plan->type);
    qs(&q, " LIMIT ");
    bi(&q, ORG_ROWS + 1);
    qs(&q, ")");
    rc = count_upto(c, &q, &by_org, err);
    q_free(&q);
    if (rc == CR_OK && by_org < by_clause)
        outer->is_org_first = true;
    return rc;
}

cr_rc
cr_store_search(struct cr_store *s, const struct cr_search_plan *plan,
                const struct cr_store_filter *hops, cr_store_row_fn fn,
                void *ctx, char out_next[CR_STORE_CURSOR_MAX],
                char out_prev[CR_STORE_CURSOR_MAX], struct cr_err *err)
{
    struct q q;
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    json_t *cur = NULL;
    struct cr_store_meta meta;
    struct kept *kept = NULL;
    int nrows = 0, nkept = 0, r, nk = (int)plan->nsort;
    bool is_before = false, has_more = false;
    char first[CR_STORE_CURSOR_MAX], last[CR_STORE_CURSOR_MAX];
    size_t i;
    cr_rc rc;

    memset(&q, 0, sizeof q);
    q.sql = cr_buf_make(1 << 20);
    q.hops = hops;
    out_next[0] = out_prev[0] = first[0] = last[0] = '\0';
    if (plan->cursor) {
        cur = decode_cursor(plan->cursor, plan->nsort);
        if (cur == NULL)
            return cr_err_set(err, CR_EINVAL, "value", "_page",
                              "the _page cursor is not one this server "
                              "made; start the search again");
        is_before = json_integer_value(json_array_get(cur, nk + 1)) == 1;
    }
    rc = cr_store_acquire(s, &c, err);
    if (rc != CR_OK)
        goto out;
    rc = find_wide(c, &q, plan, err);
    if (rc == CR_OK)
        rc = org_drives(c, &q, plan, err);
    if (rc != CR_OK)
        goto out;
    qs(&q, "SELECT * FROM (SELECT " ROW_COLS);
    for (i = 0; i < plan->nsort; i++) {
        qs(&q, ",");
        sort_key(&q, plan->type, &plan->sort[i]);
        cr_buf_addf(&q.sql, " AS k%zu", i);
    }
    qs(&q, " FROM resources r WHERE ");
    where(&q, plan);
    qs(&q, ") WHERE 1");
    if (cur)
        after_cursor(&q, plan, cur, is_before);
    if (plan->is_unordered) {
        qs(&q, " LIMIT ");
    } else {
        qs(&q, " ORDER BY ");
        for (i = 0; i < plan->nsort; i++)
            cr_buf_addf(&q.sql, "k%zu%s,", i,
                        plan->sort[i].is_desc != is_before ? " DESC" : "");
        qs(&q, is_before ? "id DESC LIMIT " : "id LIMIT ");
    }
    bi(&q, (int64_t)plan->count + 1);

    rc = prepare(c, &q, &st, err);
    if (rc != CR_OK)
        goto out;
    if (is_before && plan->count > 0) {
        kept = calloc((size_t)plan->count, sizeof *kept);
        if (kept == NULL) {
            rc = cr_err_set(err, CR_ENOMEM, "exception", NULL,
                            "out of memory");
            goto out;
        }
    }
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (nrows == plan->count) {
            has_more = true;
            break;
        }
        cr_store_meta_from_row(st, 1, &meta);
        if (nrows == 0)
            encode_cursor(st, is_before ? 0 : 1, 9, nk, 0, first);
        encode_cursor(st, is_before ? 1 : 0, 9, nk, 0, last);
        if (kept) {
            struct kept *k = &kept[nkept++];
            size_t len = (size_t)sqlite3_column_bytes(st, 8);
            k->id = strdup(id);
            k->meta = meta;
            k->json = malloc(len ? len : 1);
            k->len = len;
            if (k->id == NULL || k->json == NULL) {
                rc = cr_err_set(err, CR_ENOMEM, "exception", NULL,
                                "out of memory");
                goto out;
            }
            memcpy(k->json, sqlite3_column_blob(st, 8), len);
        } else {
            rc = fn(ctx, plan->type, id, &meta, sqlite3_column_blob(st, 8),
                    (size_t)sqlite3_column_bytes(st, 8));
            if (rc != CR_OK)
                goto out;
        }
        nrows++;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        rc = cr_store_sqlerr(c, "searching", err);
        goto out;
    }
    if (!is_before) {
        /* forwards: more rows -> next; came from a cursor -> previous */
        if (has_more)
            memcpy(out_next, last, sizeof last);
        if (cur && nrows)
            memcpy(out_prev, first, sizeof first);
    } else {
        /* backwards: rows came last-first; 'first' is the page's last row
         * (cursor for next) and 'last' its first (cursor for previous) */
        for (i = (size_t)nkept; i-- > 0;) {
            rc = fn(ctx, plan->type, kept[i].id, &kept[i].meta, kept[i].json,
                    kept[i].len);
            if (rc != CR_OK)
                goto out;
        }
        if (nrows)
            memcpy(out_next, first, sizeof first);
        if (has_more)
            memcpy(out_prev, last, sizeof last);
    }
out:
    if (kept) {
        for (i = 0; i < (size_t)nkept; i++) {
            free(kept[i].id);
            free(kept[i].json);
        }
        free(kept);
    }
    if (c != NULL)
        cr_store_conn_unprepare(c, st);
    if (c)
        cr_store_release(s, c);
    json_decref(cur);
    q_free(&q);
    return rc;
}

cr_rc
cr_store_search_count(struct cr_store *s, const struct cr_search_plan *plan,
                      const struct cr_store_filter *hops, int64_t max,
                      int64_t *out, struct cr_err *err)
{
    struct q q;
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    cr_rc rc;

    memset(&q, 0, sizeof q);
    q.sql = cr_buf_make(1 << 20);
    q.hops = hops;
    qs(&q, "SELECT count(*) FROM (SELECT 1 FROM resources r WHERE ");
    where(&q, plan);
    if (max > 0) {
        qs(&q, " LIMIT ");
        bi(&q, max);
    }
    qs(&q, ")");
    rc = cr_store_acquire(s, &c, err);
    if (rc != CR_OK)
        goto out;
    rc = prepare(c, &q, &st, err);
    if (rc != CR_OK)
        goto out;
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = cr_store_sqlerr(c, "counting", err);
    else
        *out = sqlite3_column_int64(st, 0);
out:
    if (c != NULL)
        cr_store_conn_unprepare(c, st);
    if (c)
        cr_store_release(s, c);
    q_free(&q);
    return rc;
}

/* Included rows are found, made distinct and sorted by key; only then are
 * their bytes read, by rowid: sorting whole rows would copy every
 * resource's JSON through the sorter (megabytes of it for a page of 1000
 * with their observations). CROSS JOIN keeps the sorted keys the outer
 * loop, as in $everything. */
#define INC_HEAD "SELECT r.type,r.id,r.version,r.last_updated,r.seq," \
                 "r.deleted,r.patient,r.org,r.node,r.json FROM (SELECT " \
                 "DISTINCT r2.rid AS rid,r2.type AS type,r2.id AS id FROM "
#define INC_TAIL " ORDER BY r2.type, r2.id) k CROSS JOIN resources r ON " \
                 "r.rid=k.rid"

static cr_rc
stream(struct cr_store *s, struct q *q, cr_store_row_fn fn, void *ctx,
       int limit, char *out_next, struct cr_err *err)
{
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct cr_store_meta meta;
    int r, n = 0;
    cr_rc rc = cr_store_acquire(s, &c, err);

    if (rc != CR_OK)
        return rc;
    rc = prepare(c, q, &st, err);
    if (rc != CR_OK)
        goto out;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (limit > 0 && n == limit)
            break;
        cr_store_meta_from_row(st, 2, &meta);
        rc = fn(ctx, (const char *)sqlite3_column_text(st, 0),
                (const char *)sqlite3_column_text(st, 1), &meta,
                sqlite3_column_blob(st, 9),
                (size_t)sqlite3_column_bytes(st, 9));
        if (rc != CR_OK)
            goto out;
        n++;
        if (out_next && n == limit) {
            /* cursor: group, type, id (columns 10, 0, 1) */
            json_t *a = json_pack("[i,i,s,s]", (json_int_t)0,
                                  (json_int_t)sqlite3_column_int64(st, 10),
                                  (const char *)sqlite3_column_text(st, 0),
                                  (const char *)sqlite3_column_text(st, 1));
            char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
            unsigned char b64[CR_STORE_CURSOR_MAX];
            size_t k, len = text ? strlen(text) : 0;
            out_next[0] = '\0';
            if (text && len * 4 / 3 + 4 < sizeof b64) {
                int m = EVP_EncodeBlock(b64, (const unsigned char *)text,
                                        (int)len);
                for (k = 0; k < (size_t)m && b64[k] != '='; k++)
                    out_next[k] = b64[k] == '+' ? '-'
                                : b64[k] == '/' ? '_' : (char)b64[k];
                out_next[k] = '\0';
            }
            free(text);
            json_decref(a);
        }
    }
    if (r == SQLITE_DONE && out_next)
        out_next[0] = '\0';
    else if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = cr_store_sqlerr(c, "reading", err);
out:
    if (c != NULL)
        cr_store_conn_unprepare(c, st);
    cr_store_release(s, c);
    return rc;
}

/* The reference rows of the page's resources come first (CROSS JOIN keeps
 * that order): left to itself, SQLite may walk every resource of the
 * included type in (type, id) order, to spare the sort, and probe the
 * references for each, which costs a probe per resource of that type in
 * the store for every round. */
cr_rc
cr_store_include(struct cr_store *s, const struct cr_search_include *inc,
                 const char *type, const char *ids_json, cr_store_row_fn fn,
                 void *ctx, struct cr_err *err)
{
    struct q q;
    cr_rc rc;

    memset(&q, 0, sizeof q);
    q.sql = cr_buf_make(65536);
    if (!inc->is_rev) {
        /* what the page's resources refer to */
        qs(&q, INC_HEAD "ix_ref x CROSS JOIN "
               "resources r2 ON r2.h=x.ht WHERE x.rid IN (SELECT rr.rid FROM "
               "resources rr WHERE rr.type=");
        bt(&q, type);
        qs(&q, " AND rr.id IN (SELECT value FROM json_each(");
        bt(&q, ids_json);
        qs(&q, "))) AND r2.deleted=0");
        if (strcmp(inc->param, "*") != 0) {
            qs(&q, " AND x.hp=");
            bi(&q, cr_store_hash2(type, inc->param));
        }
        if (inc->target_type) {
            qs(&q, " AND r2.type=");
            bt(&q, inc->target_type);
        }
    } else {
        /* what refers to the page's resources */
        qs(&q, INC_HEAD "ix_ref x CROSS JOIN "
               "resources r2 ON r2.rid=x.rid WHERE x.ht IN (SELECT rr.h FROM "
               "resources rr WHERE rr.type=");
        bt(&q, type);
        qs(&q, " AND rr.id IN (SELECT value FROM json_each(");
        bt(&q, ids_json);
        qs(&q, "))) AND r2.type=");
        bt(&q, inc->source_type);
        qs(&q, " AND r2.deleted=0");
        if (strcmp(inc->param, "*") != 0) {
            qs(&q, " AND x.hp=");
            bi(&q, cr_store_hash2(inc->source_type, inc->param));
        }
    }
    qs(&q, INC_TAIL);
    rc = stream(s, &q, fn, ctx, 0, NULL, err);
    q_free(&q);
    return rc;
}

cr_rc
cr_store_everything(struct cr_store *s, const struct cr_store_everything *e,
                    cr_store_row_fn fn, void *ctx,
                    char out_next[CR_STORE_CURSOR_MAX], struct cr_err *err)
{
    struct q q;
    json_t *cur = NULL;
    cr_rc rc;
    int pass;

    memset(&q, 0, sizeof q);
    q.sql = cr_buf_make(65536);
    out_next[0] = '\0';
    if (e->cursor) {
        size_t n = strlen(e->cursor);
        cur = decode_cursor(e->cursor, 2);
        if (cur == NULL || n == 0 ||
            !json_is_integer(json_array_get(cur, 0)) ||
            !json_is_string(json_array_get(cur, 1))) {
            json_decref(cur);
            return cr_err_set(err, CR_EINVAL, "value", "_page",
                              "the _page cursor is not one this server "
                              "made; start again from the first page");
        }
    }
    /* Sort and page the keys only, then fetch each row's bytes by rowid:
     * sorting whole rows would copy every resource's JSON through the
     * sorter. CROSS JOIN keeps the sorted keys the outer loop, so the
     * rows come out in their order. */
    qs(&q, "SELECT k.type,k.id,r.version,r.last_updated,r.seq,r.deleted,"
           "r.patient,r.org,r.node,r.json,k.grp FROM (SELECT rid,type,id,grp "
           "FROM (");
    for (pass = 0; pass < 2; pass++) {
        /* the compartment: rows of the pseudo-parameter _compartment that
         * name the patient (rows.c) */
        const char *comp = "SELECT c.rid FROM ix_ref c WHERE c.ht=";
        if (pass) {
            qs(&q, " UNION ALL SELECT r2.rid,r2.type,r2.id,2 AS grp FROM "
                   "resources r2 WHERE "
                   "r2.deleted=0 AND +r2.type IN ('Practitioner',"
                   "'Organization','Location','Medication') AND "
                   "r2.h IN (SELECT x.ht FROM ix_ref x WHERE x.rid IN (");
            qs(&q, comp);
            bi(&q, cr_store_hash_ref("Patient", e->patient_id));
            qs(&q, " AND c.hp=");
            bi(&q, cr_store_hash2("*", CR_STORE_COMPARTMENT_PARAM));
            qs(&q, "))");
        } else {
            qs(&q, "SELECT r.rid,r.type,r.id,CASE WHEN r.type='Patient' "
                   "AND r.id=");
            bt(&q, e->patient_id);
            qs(&q, " THEN 0 ELSE 1 END AS grp FROM resources r WHERE "
                   "r.deleted=0 AND r.rid IN (");
            qs(&q, comp);
            bi(&q, cr_store_hash_ref("Patient", e->patient_id));
            qs(&q, " AND c.hp=");
            bi(&q, cr_store_hash2("*", CR_STORE_COMPARTMENT_PARAM));
            qs(&q, ")");
        }
        if (e->types_json) {
            qs(&q, pass ? " AND r2.type" : " AND r.type");
            qs(&q, " IN (SELECT value FROM json_each(");
            bt(&q, e->types_json);
            qs(&q, "))");
        }
        if (e->since_ms) {
            qs(&q, pass ? " AND r2.last_updated>=" : " AND r.last_updated>=");
            bi(&q, e->since_ms);
        }
        if (!pass && (e->start_ms != INT64_MIN || e->end_ms != INT64_MAX)) {
            /* care dates: keep the patient, resources with no dates, and
             * those whose dates overlap the window */
            qs(&q, " AND (r.type='Patient' OR NOT EXISTS(SELECT 1 FROM "
                   "ix_date d WHERE d.rid=r.rid) OR EXISTS(SELECT 1 FROM "
                   "ix_date d WHERE d.rid=r.rid AND d.hi>=");
            bi(&q, e->start_ms);
            qs(&q, " AND d.lo<=");
            bi(&q, e->end_ms);
            qs(&q, "))");
        }
    }
    qs(&q, ")");
    if (cur) {
        qs(&q, " WHERE (grp,type,id)>(");
        bi(&q, json_integer_value(json_array_get(cur, 0)));
        qs(&q, ",");
        bt(&q, json_string_value(json_array_get(cur, 1)));
        qs(&q, ",");
        bt(&q, json_string_value(json_array_get(cur, 2)));
        qs(&q, ")");
    }
    qs(&q, " ORDER BY grp,type,id LIMIT ");
    bi(&q, (int64_t)e->count + 1);
    qs(&q, ") k CROSS JOIN resources r ON r.rid=k.rid");
    rc = stream(s, &q, fn, ctx, e->count, out_next, err);
    json_decref(cur);
    q_free(&q);
    return rc;
}

cr_rc
cr_store_compartment(struct cr_store *s, const char *const *patients,
                     size_t npatients, const char *const *types,
                     size_t ntypes, cr_store_row_fn fn, void *ctx,
                     struct cr_err *err)
{
    struct q q;
    size_t i;
    cr_rc rc;

    if (npatients == 0 || ntypes == 0)
        return CR_OK;
    memset(&q, 0, sizeof q);
    q.sql = cr_buf_make(65536);
    qs(&q, "SELECT r.type,r.id,r.version,r.last_updated,r.seq,r.deleted,"
           "r.patient,r.org,r.node,r.json FROM resources r WHERE r.patient "
           "IN (");
    for (i = 0; i < npatients; i++) {
        if (i)
            qs(&q, ",");
        bt(&q, patients[i]);
    }
    qs(&q, ") AND r.type IN (");
    for (i = 0; i < ntypes; i++) {
        if (i)
            qs(&q, ",");
        bt(&q, types[i]);
    }
    qs(&q, ") AND r.deleted=0");
    rc = stream(s, &q, fn, ctx, 0, NULL, err);
    q_free(&q);
    return rc;
}
