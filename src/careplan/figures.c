/* figures.c: the Universal Care Plan programme's figures that the store
 * holds: how many people have a plan now, and how many plans were created,
 * revised and superseded each month.
 *
 * One walk over every version of every CarePlan, newest first, in one
 * read snapshot. The first version met of each plan is its current one
 * (people with a plan); every version of a plan declaring the plan's
 * profile counts in the UK month it was written: version 1 as created, a
 * later active version as a revision, a revoked one as superseded. The
 * audit-side figures (plan views, views by emergency services) come from
 * the audit log; docs/internals/careplan.md says how a report combines the
 * two. Depends on careplanInt.h, store/ and core/. Thread-safe. */
#include "careplan/careplanInt.h"

#include "core/civil.h"
#include "core/jsontext.h"
#include "core/u64map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* The key of a string in a u64map: its 64-bit XXH3 hash (two ids share
 * one with a chance of about n^2 / 2^65: never, at London's scale). */
static uint64_t
key_of(const char *s)
{
    return XXH3_64bits(s, strlen(s));
}

/* Add 's' to 'm'. 1: added, 0: already there, -1: out of memory. */
static int
set_add(struct cr_u64map *m, const char *s)
{
    bool is_new;

    if (cr_u64map_slot(m, key_of(s), &is_new) == NULL)
        return -1;
    return is_new ? 1 : 0;
}

struct walk {
    int64_t since_ms, until_ms;
    struct cr_u64map plans;     /* ids met (the first is current) */
    struct cr_u64map people;    /* patients with a current plan */
    struct cr_careplan_figures *f;
    size_t capmonths;
};

static struct cr_careplan_month *
month_of(struct walk *w, int64_t ms)
{
    struct cr_careplan_figures *f = w->f;
    int64_t y64;
    unsigned um;
    int y, m;
    size_t i;

    cr_civil_date_of(cr_civil_uk_day(ms), &y64, &um, NULL);
    y = (int)y64;
    m = (int)um;
    for (i = 0; i < f->nmonths; i++)
        if (f->months[i].year == y && f->months[i].month == m)
            return &f->months[i];
    if (f->nmonths == w->capmonths) {
        size_t cap = w->capmonths ? w->capmonths * 2 : 16;
        struct cr_careplan_month *nm = realloc(f->months, cap * sizeof *nm);
        if (nm == NULL)
            return NULL;
        f->months = nm;
        w->capmonths = cap;
    }
    memset(&f->months[f->nmonths], 0, sizeof f->months[0]);
    f->months[f->nmonths].year = y;
    f->months[f->nmonths].month = m;
    return &f->months[f->nmonths++];
}

static cr_rc
visit(void *ctx, const char *type, const char *id,
      const struct cr_store_meta *meta, const char *json, size_t len)
{
    struct walk *w = ctx;
    struct cr_careplan_month *m;
    size_t s0, s1;
    int first;
    bool is_active;

    (void)type;
    first = set_add(&w->plans, id);
    if (first < 0)
        return CR_ENOMEM;
    if (json == NULL || !cr_careplan_text_is_plan(json, len, false))
        return CR_OK;
    is_active = cr_jsontext_member(json, len, "status", &s0, &s1) &&
                s1 - s0 == 8 && memcmp(json + s0, "\"active\"", 8) == 0;
    if (first == 1 && is_active) {
        w->f->current_plans++;
        if (meta->patient[0] && set_add(&w->people, meta->patient) < 0)
            return CR_ENOMEM;
    }
    if ((w->since_ms && meta->last_updated_ms < w->since_ms) ||
        (w->until_ms && meta->last_updated_ms >= w->until_ms))
        return CR_OK;
    m = month_of(w, meta->last_updated_ms);
    if (m == NULL)
        return CR_ENOMEM;
    if (meta->version == 1) {
        m->created++;
        w->f->plans++;
    } else if (is_active) {
        m->revised++;
        w->f->revisions++;
    } else if (cr_jsontext_member(json, len, "status", &s0, &s1) &&
               s1 - s0 == 9 && memcmp(json + s0, "\"revoked\"", 9) == 0) {
        m->superseded++;
    }
    return CR_OK;
}

static int
month_cmp(const void *a, const void *b)
{
    const struct cr_careplan_month *x = a, *y = b;

    if (x->year != y->year)
        return x->year < y->year ? -1 : 1;
    return x->month < y->month ? -1 : x->month > y->month;
}

cr_rc
cr_careplan_figures(struct cr_store *s, int64_t since_ms, int64_t until_ms,
                    struct cr_careplan_figures *out, struct cr_err *err)
{
    struct walk w;
    cr_rc rc;

    memset(out, 0, sizeof *out);
    memset(&w, 0, sizeof w);
    w.plans = cr_u64map_make();
    w.people = cr_u64map_make();
    w.since_ms = since_ms;
    w.until_ms = until_ms;
    w.f = out;
    /* One statement: one read snapshot for the whole walk. */
    rc = cr_store_history(s, "CarePlan", NULL, 0, 0, INT32_MAX, visit, &w,
                          err);
    if (rc == CR_ENOMEM && err && err->rc == CR_OK)
        cr_err_set(err, CR_ENOMEM, "exception", NULL,
                   "out of memory counting care plans");
    if (rc == CR_OK) {
        out->people_with_plan = (int64_t)cr_u64map_count(&w.people);
        if (out->nmonths > 1)
            qsort(out->months, out->nmonths, sizeof out->months[0],
                  month_cmp);
    } else {
        cr_careplan_figures_free(out);
    }
    cr_u64map_free(&w.plans);
    cr_u64map_free(&w.people);
    return rc;
}

void
cr_careplan_figures_free(struct cr_careplan_figures *f)
{
    if (f == NULL)
        return;
    free(f->months);
    memset(f, 0, sizeof *f);
}
