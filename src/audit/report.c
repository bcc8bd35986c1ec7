/* report.c: alerts to review and usage statistics, computed from audit
 * records.
 *
 * Pure computation: records go in (cr_audit_report_add, in any order),
 * counts come out (cr_audit_report_finish); nothing here reads the store
 * (report_read.c does) or formats anything (report_render.c). The counting
 * state grows with what is distinct, not with the number of records:
 * users, organisations, months, user-days, and one 64-bit key per distinct
 * (user, UK day, patient) for unusual volume. The definitions (what a
 * record view is, which accesses count towards volume, who are emergency
 * services) are in docs/internals/audit.md and are written once, here.
 * Depends on core/ (civil time, u64map, arena), xxhash. */
#include "audit/audit.h"

#include "core/civil.h"
#include "core/u64map.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* The latest instant a record may carry: 10000-01-01T00:00:00Z. */
#define MAX_TIME_MS INT64_C(253402300800000)

/* The longest period given with both ends, in months: every month of a
 * period is listed, so an absurd one would be a huge answer. */
#define MAX_MONTHS 1200

/* The action a care plan summary will be recorded as; compared by code so
 * it counts as soon as the action exists. */
#define CARE_PLAN_SUMMARY "care-plan-summary"

/* Strings interned to small numbers (users, organisations). */
struct strtab {
    struct cr_u64map map;       /* hash -> index + 1 */
    const char **strs;
    size_t n, cap;
};

struct user {
    const char *name, *org, *role;
    bool has_view;
};

struct user_day {
    uint32_t user;
    int64_t day;
    int64_t count;              /* distinct patients accessed */
};

/* Record views of one organisation's staff in one month: their setting,
 * and so whether they are emergency services, is known only at the end. */
struct month_org {
    int64_t mnum;               /* year * 12 + month - 1 */
    uint32_t org;
    int64_t views;
    int64_t care_plan_views;    /* ... not under the emergency purpose */
};

/* A review record: the alert it reviewed and what it says. */
struct review {
    int64_t alert_seq;          /* a record's alert; 0: unusual volume ... */
    const char *user;           /* ... of this member of staff ... */
    int64_t day;                /* ... on this UK day */
    struct cr_audit_report_review r;
};

/* One month's counts, as they come in. */
struct macc {
    int64_t mnum;               /* year * 12 + month - 1 */
    struct cr_audit_report_usage u;
};

struct cr_audit_report_state {
    struct cr_arena *arena;     /* copies of strings */
    struct strtab users;        /* by agent sub */
    struct user *uinfo;         /* parallel to users.strs */
    size_t ucap;
    struct strtab orgs;         /* by agent org ("" for none) */
    struct cr_u64map months;    /* mnum -> index + 1 in macc */
    struct macc *macc;
    size_t nmacc, capmacc;
    int64_t min_mnum, max_mnum; /* of records counted */
    bool has_any;
    struct cr_u64map month_users;   /* (mnum, user) seen with a view */
    struct cr_u64map month_orgs;    /* (mnum, org) -> index + 1 in morg */
    struct month_org *morg;
    size_t nmorg, capmorg;
    struct cr_u64map user_days;     /* (day, user) -> index + 1 in udays */
    struct user_day *udays;
    size_t nudays, capudays;
    struct cr_u64map accessed;      /* H(day, user, patient) seen */
    size_t capalerts;
    struct cr_u64map reviewed;      /* reviewed seq -> index + 1 in reviews */
    struct cr_u64map vreviewed;     /* volume_key(user, day) -> the same */
    struct review *reviews;
    size_t nreviews, capreviews;
};

static int64_t
uk_month(int64_t ms);

static cr_rc
nomem(struct cr_err *err)
{
    return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                      "audit report: out of memory");
}

/* Room for item n of 'arr' (items of 'size' bytes, room for *cap): the
 * array, moved when it had to grow, or NULL (it is unchanged) when out of
 * memory. */
static void *
room(void *arr, size_t n, size_t *cap, size_t size)
{
    size_t c = *cap ? *cap * 2 : 16;
    void *p;

    if (n < *cap)
        return arr;
    if (c < *cap || c > SIZE_MAX / size)
        return NULL;
    p = realloc(arr, c * size);
    if (p != NULL)
        *cap = c;
    return p;
}

static const char *
copy(struct cr_audit_report_state *st, const char *s)
{
    if (s == NULL || *s == '\0')
        return NULL;
    return cr_arena_strndup(st->arena, s, strlen(s));
}

static bool
has(const char *s)
{
    return s != NULL && *s != '\0';
}

/* The index of 's' in 't', added when new (*out_is_new). -1: no memory. */
static int64_t
intern(struct cr_audit_report_state *st, struct strtab *t, const char *s,
       bool *out_is_new)
{
    uint64_t h = XXH3_64bits(s, strlen(s));
    bool is_new;

    for (;;) {
        uint64_t *slot = cr_u64map_slot(&t->map, h, &is_new);
        if (slot == NULL)
            return -1;
        if (is_new) {
            const char *c = cr_arena_strndup(st->arena, s, strlen(s));
            const char **strs = room(t->strs, t->n, &t->cap, sizeof *strs);
            if (c == NULL || strs == NULL) {
                *slot = UINT64_MAX;   /* never matches an index */
                return -1;
            }
            t->strs = strs;
            t->strs[t->n] = c;
            *slot = ++t->n;
            *out_is_new = true;
            return (int64_t)t->n - 1;
        }
        if (*slot != UINT64_MAX && strcmp(t->strs[*slot - 1], s) == 0) {
            *out_is_new = false;
            return (int64_t)*slot - 1;
        }
        h = h * UINT64_C(0x9e3779b97f4a7c15) + 1;   /* a collision: probe on */
    }
}

static void
strtab_free(struct strtab *t)
{
    cr_u64map_free(&t->map);
    free(t->strs);
}

cr_rc
cr_audit_report_create(const struct cr_audit_report_opts *opts,
                       struct cr_audit_report **out, struct cr_err *err)
{
    struct cr_audit_report *r = NULL;

    if (opts && opts->has_since && opts->has_until &&
        opts->until_ms <= opts->since_ms)
        return cr_err_set(err, CR_EINVAL, "value", NULL,
                          "audit report: the period ends before it begins");
    if (opts && opts->has_since && opts->has_until &&
        uk_month(opts->until_ms - 1) - uk_month(opts->since_ms) >=
            MAX_MONTHS)
        return cr_err_set(err, CR_EINVAL, "value", NULL,
                          "audit report: a period is at most %d years",
                          MAX_MONTHS / 12);
    r = calloc(1, sizeof *r);
    if (r == NULL)
        return nomem(err);
    r->st = calloc(1, sizeof *r->st);
    if (r->st == NULL || (r->st->arena = cr_arena_create()) == NULL) {
        cr_audit_report_destroy(r);
        return nomem(err);
    }
    if (opts)
        r->opts = *opts;
    r->opts.org = copy(r->st, r->opts.org);
    if (opts && has(opts->org) && r->opts.org == NULL) {
        cr_audit_report_destroy(r);
        return nomem(err);
    }
    if (r->opts.volume_threshold <= 0)
        r->opts.volume_threshold = CR_AUDIT_VOLUME_DEFAULT;
    *out = r;
    return CR_OK;
}

void
cr_audit_report_destroy(struct cr_audit_report *r)
{
    struct cr_audit_report_state *st;

    if (r == NULL)
        return;
    st = r->st;
    if (st) {
        strtab_free(&st->users);
        free(st->uinfo);
        strtab_free(&st->orgs);
        cr_u64map_free(&st->months);
        free(st->macc);
        cr_u64map_free(&st->month_users);
        cr_u64map_free(&st->month_orgs);
        free(st->morg);
        cr_u64map_free(&st->user_days);
        free(st->udays);
        cr_u64map_free(&st->accessed);
        cr_u64map_free(&st->reviewed);
        cr_u64map_free(&st->vreviewed);
        free(st->reviews);
        cr_arena_destroy(st->arena);
        free(st);
    }
    free(r->alerts);
    free(r->volume);
    free(r->months);
    free(r);
}

void
cr_audit_report_skip(struct cr_audit_report *r)
{
    r->nunreadable++;
}

static bool
is_read_action(const struct cr_audit_rec *rec)
{
    switch (rec->action) {
    case CR_AUDIT_READ:
    case CR_AUDIT_VREAD:
    case CR_AUDIT_SEARCH:
    case CR_AUDIT_HISTORY:
    case CR_AUDIT_EVERYTHING:
        return true;
    default:
        return strcmp(cr_audit_action_code(rec->action),
                      CARE_PLAN_SUMMARY) == 0;
    }
}

/* The person a record is about: the patient's id on this node, else the
 * NHS number of a person asked about whom this node holds nothing of
 * (federated reads); NULL when it names no one. */
static const char *
person_of(const struct cr_audit_rec *rec)
{
    return has(rec->patient) ? rec->patient
         : has(rec->nhs)     ? rec->nhs
                             : NULL;
}

/* A record view: a read of a patient's record that was answered, counted
 * where the user asked. A node answering a peer's federated read (the
 * record names the calling node, via) records it too, but the view is the
 * asking node's: counting it at every node that answered would count one
 * look at a record once per region that holds part of it. */
static bool
is_view(const struct cr_audit_rec *rec)
{
    return (rec->outcome == CR_AUDIT_ALLOWED ||
            rec->outcome == CR_AUDIT_FILTERED) &&
           person_of(rec) != NULL && !has(rec->via) && is_read_action(rec);
}

/* A view that showed a care plan. */
static bool
is_care_plan_view(const struct cr_audit_rec *rec)
{
    static const char needle[] = "\"CarePlan/";

    if (strcmp(cr_audit_action_code(rec->action), CARE_PLAN_SUMMARY) == 0)
        return true;
    return rec->resources.len >= sizeof needle - 1 &&
           memmem(rec->resources.ptr, rec->resources.len, needle,
                  sizeof needle - 1) != NULL;
}

/* An access that counts towards unusual volume: a user's attempt to read
 * a patient's record, answered or refused. Source systems and patients
 * are not users in this sense. */
static bool
counts_for_volume(const struct cr_audit_rec *rec)
{
    return rec->outcome != CR_AUDIT_FAILED && person_of(rec) != NULL &&
           has(rec->sub) && is_read_action(rec) &&
           !(has(rec->purpose) && (strcmp(rec->purpose, "system") == 0 ||
                                   strcmp(rec->purpose, "patient-access") ==
                                       0));
}

/* The index that 'key' names in 'm': the one it had, or (*out_is_new) the
 * next, *n, which then grows by one. The caller has made room for it. -1:
 * no memory. */
static int64_t
keyed(struct cr_u64map *m, uint64_t key, size_t *n, bool *out_is_new)
{
    uint64_t *slot = cr_u64map_slot(m, key, out_is_new);

    if (slot == NULL)
        return -1;
    if (*out_is_new)
        *slot = ++*n;
    return (int64_t)*slot - 1;
}

/* The counts of month 'mnum'. NULL: no memory. */
static struct cr_audit_report_usage *
month(struct cr_audit_report_state *st, int64_t mnum)
{
    struct macc *macc = room(st->macc, st->nmacc, &st->capmacc,
                             sizeof *macc);
    bool is_new;
    int64_t i;

    if (macc == NULL)
        return NULL;
    st->macc = macc;
    i = keyed(&st->months, (uint64_t)mnum, &st->nmacc, &is_new);
    if (i < 0)
        return NULL;
    if (is_new) {
        memset(&macc[i], 0, sizeof macc[i]);
        macc[i].mnum = mnum;
    }
    return &macc[i].u;
}

/* The UK month number (year * 12 + month - 1) of instant 'ms'. */
static int64_t
uk_month(int64_t ms)
{
    int64_t y;
    unsigned m;

    cr_civil_date_of(cr_civil_uk_day(ms), &y, &m, NULL);
    return y * 12 + (int64_t)m - 1;
}

/* Keep a copy of a record that carries alerts. */
static cr_rc
add_alert(struct cr_audit_report *r, int64_t seq,
          const struct cr_audit_rec *rec, struct cr_err *err)
{
    struct cr_audit_report_state *st = r->st;
    struct cr_audit_report_alert *a;

    a = room(r->alerts, r->nalerts, &st->capalerts, sizeof *a);
    if (a == NULL)
        return nomem(err);
    r->alerts = a;
    a = &r->alerts[r->nalerts];
    memset(a, 0, sizeof *a);
    a->seq = seq;
    a->time_ms = rec->time_ms;
    a->alerts = rec->alerts;
    a->sub = copy(st, rec->sub);
    a->name = copy(st, rec->name);
    a->org = copy(st, rec->org);
    a->role = copy(st, rec->role);
    a->purpose = copy(st, rec->purpose);
    a->reason = copy(st, rec->reason);
    a->patient = copy(st, rec->patient);
    a->nhs = copy(st, rec->nhs);
    a->action = rec->action;
    a->outcome = rec->outcome;
    a->status = rec->status;
    a->basis = copy(st, rec->basis);
    a->rule = copy(st, rec->rule);
    a->supervisor = copy(st, rec->supervisor);
    r->nalerts++;
    return CR_OK;
}

/* The user of 'rec' (interned), or -1 when out of memory. */
static int64_t
user_of(struct cr_audit_report_state *st, const struct cr_audit_rec *rec)
{
    bool is_new;
    int64_t u = intern(st, &st->users, rec->sub, &is_new);
    struct user *ui;

    if (u < 0 || !is_new)
        return u;
    ui = room(st->uinfo, (size_t)u, &st->ucap, sizeof *ui);
    if (ui == NULL)
        return -1;
    st->uinfo = ui;
    ui = &st->uinfo[u];
    ui->name = copy(st, rec->name);
    ui->org = copy(st, rec->org);
    ui->role = copy(st, rec->role);
    ui->has_view = false;
    return u;
}

/* Count one access of a patient by user 'u' towards unusual volume. */
static cr_rc
add_access(struct cr_audit_report_state *st, int64_t u,
           const struct cr_audit_rec *rec, struct cr_err *err)
{
    int64_t day = cr_civil_uk_day(rec->time_ms);
    uint64_t ud = ((uint64_t)day << 32) | (uint64_t)u;
    const char *who = person_of(rec);
    struct user_day *d;
    uint64_t *slot;
    bool is_new;
    int64_t i;

    slot = cr_u64map_slot(&st->accessed,
                          XXH3_64bits_withSeed(who, strlen(who),
                                               has(rec->patient) ? ud : ~ud),
                          &is_new);
    if (slot == NULL)
        return nomem(err);
    if (!is_new)
        return CR_OK;
    d = room(st->udays, st->nudays, &st->capudays, sizeof *d);
    if (d == NULL)
        return nomem(err);
    st->udays = d;
    i = keyed(&st->user_days, ud, &st->nudays, &is_new);
    if (i < 0)
        return nomem(err);
    if (is_new)
        d[i] = (struct user_day){ (uint32_t)u, day, 0 };
    d[i].count++;
    return CR_OK;
}

/* Count one record view. */
static cr_rc
add_view(struct cr_audit_report_state *st, int64_t u,
         const struct cr_audit_rec *rec, struct cr_err *err)
{
    int64_t mnum = uk_month(rec->time_ms);
    struct cr_audit_report_usage *m = month(st, mnum);
    bool is_care_plan = is_care_plan_view(rec), is_new;
    bool is_emergency = has(rec->purpose) &&
                        strcmp(rec->purpose, "emergency") == 0;
    struct month_org *mo;
    uint64_t *slot;
    int64_t o, i;

    if (m == NULL)
        return nomem(err);
    m->views++;
    if (u >= 0) {
        st->uinfo[u].has_view = true;
        slot = cr_u64map_slot(&st->month_users,
                              ((uint64_t)mnum << 32) | (uint64_t)u, &is_new);
        if (slot == NULL)
            return nomem(err);
        if (is_new)
            m->users++;
    }
    if (is_care_plan) {
        m->care_plan_views++;
        if (is_emergency)
            m->care_plan_views_emergency++;
    }
    if (has(rec->purpose) && strcmp(rec->purpose, "patient-access") == 0) {
        m->views_by_setting[CR_AUDIT_SETTING_PATIENT]++;
        return CR_OK;
    }
    /* The rest by organisation, whose setting is asked at the end. */
    o = intern(st, &st->orgs, has(rec->org) ? rec->org : "", &is_new);
    if (o < 0)
        return nomem(err);
    mo = room(st->morg, st->nmorg, &st->capmorg, sizeof *mo);
    if (mo == NULL)
        return nomem(err);
    st->morg = mo;
    i = keyed(&st->month_orgs, ((uint64_t)mnum << 32) | (uint64_t)o,
              &st->nmorg, &is_new);
    if (i < 0)
        return nomem(err);
    mo = &st->morg[i];
    if (is_new)
        *mo = (struct month_org){ mnum, (uint32_t)o, 0, 0 };
    mo->views++;
    if (is_care_plan && !is_emergency)
        mo->care_plan_views++;
    return CR_OK;
}

/* The key of a member of staff's unusual volume on UK day 'day'. */
static uint64_t
volume_key(const char *user, int64_t day)
{
    return XXH3_64bits_withSeed(user, strlen(user), (uint64_t)day);
}

/* Note the review record 'rec' (number 'seq'); of two reviews of one
 * alert, the earlier stands. */
static cr_rc
add_review(struct cr_audit_report_state *st, int64_t seq,
           const struct cr_audit_rec *rec, struct cr_err *err)
{
    struct review *rv = room(st->reviews, st->nreviews, &st->capreviews,
                             sizeof *rv);
    bool is_volume = rec->review.user != NULL, is_new;
    int64_t i;

    if (rv == NULL)
        return nomem(err);
    st->reviews = rv;
    i = is_volume ? keyed(&st->vreviewed,
                          volume_key(rec->review.user, rec->review.day),
                          &st->nreviews, &is_new)
                  : keyed(&st->reviewed, (uint64_t)rec->review.seq,
                          &st->nreviews, &is_new);
    if (i < 0)
        return nomem(err);
    rv = &st->reviews[i];
    if (!is_new && rv->r.seq < seq)
        return CR_OK;
    rv->alert_seq = rec->review.seq;
    rv->user = is_volume ? copy(st, rec->review.user) : NULL;
    rv->day = rec->review.day;
    rv->r.seq = seq;
    rv->r.time_ms = rec->time_ms;
    rv->r.finding = rec->review.finding;
    rv->r.sub = copy(st, rec->sub);
    rv->r.name = copy(st, rec->name);
    rv->r.note = copy(st, rec->review.note);
    return CR_OK;
}

cr_rc
cr_audit_report_add(struct cr_audit_report *r, int64_t seq,
                    const struct cr_audit_rec *rec, struct cr_err *err)
{
    struct cr_audit_report_state *st = r->st;
    int64_t u = -1, mnum;
    bool viewed = is_view(rec), is_volume = counts_for_volume(rec);
    /* one organisation's report is about its staff: a patient's own token
     * may name an organisation, but the patient is not its staff */
    bool is_other_org = r->opts.org &&
                        (!has(rec->org) || strcmp(rec->org, r->opts.org) ||
                         (has(rec->purpose) &&
                          strcmp(rec->purpose, "patient-access") == 0));
    cr_rc rc;

    if (rec->time_ms < 0 || rec->time_ms >= MAX_TIME_MS) {
        r->nunreadable++;
        return CR_OK;
    }
    /* A review counts for its alert whenever it was made. */
    if (rec->action == CR_AUDIT_REVIEW &&
        (rec->review.seq > 0 || rec->review.user != NULL) && !is_other_org) {
        rc = add_review(st, seq, rec, err);
        if (rc != CR_OK)
            return rc;
    }
    if ((r->opts.has_since && rec->time_ms < r->opts.since_ms) ||
        (r->opts.has_until && rec->time_ms >= r->opts.until_ms) ||
        is_other_org)
        return CR_OK;
    r->nrecords++;
    mnum = uk_month(rec->time_ms);
    if (!st->has_any || mnum < st->min_mnum)
        st->min_mnum = mnum;
    if (!st->has_any || mnum > st->max_mnum)
        st->max_mnum = mnum;
    st->has_any = true;
    if (rec->alerts != 0) {
        rc = add_alert(r, seq, rec, err);
        if (rc != CR_OK)
            return rc;
    }
    if ((viewed || is_volume) && has(rec->sub)) {
        u = user_of(st, rec);
        if (u < 0)
            return nomem(err);
    }
    if (is_volume) {
        rc = add_access(st, u, rec, err);
        if (rc != CR_OK)
            return rc;
    }
    return viewed ? add_view(st, u, rec, err) : CR_OK;
}

static int
by_seq(const void *a, const void *b)
{
    const struct cr_audit_report_alert *x = a, *y = b;

    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int
by_day_user(const void *a, const void *b)
{
    const struct cr_audit_report_alert *x = a, *y = b;

    if (x->day != y->day)
        return (x->day > y->day) - (x->day < y->day);
    return strcmp(x->sub, y->sub);
}

/* One volume alert per user-day over the threshold. */
static cr_rc
finish_volume(struct cr_audit_report *r, struct cr_err *err)
{
    struct cr_audit_report_state *st = r->st;
    uint64_t *slot;
    size_t i, n = 0;

    for (i = 0; i < st->nudays; i++)
        if (st->udays[i].count > r->opts.volume_threshold)
            n++;
    if (n == 0)
        return CR_OK;
    r->volume = calloc(n, sizeof *r->volume);
    if (r->volume == NULL)
        return nomem(err);
    for (i = 0; i < st->nudays; i++) {
        const struct user_day *d = &st->udays[i];
        const struct user *ui = &st->uinfo[d->user];
        struct cr_audit_report_alert *a;

        if (d->count <= r->opts.volume_threshold)
            continue;
        a = &r->volume[r->nvolume++];
        a->alerts = CR_AUDIT_ALERT_VOLUME;
        a->day = d->day;
        a->time_ms = cr_civil_uk_day_start(d->day);
        a->count = d->count;
        a->sub = st->users.strs[d->user];
        a->name = ui->name;
        a->org = ui->org;
        a->role = ui->role;
        a->action = CR_AUDIT_READ;
        a->outcome = CR_AUDIT_ALLOWED;
        slot = cr_u64map_find(&st->vreviewed, volume_key(a->sub, a->day));
        if (slot != NULL && *slot != 0 &&
            strcmp(st->reviews[*slot - 1].user, a->sub) == 0 &&
            st->reviews[*slot - 1].day == a->day) {
            a->review = st->reviews[*slot - 1].r;
            r->nvolume_reviewed++;
        }
    }
    if (r->nvolume > 1)
        qsort(r->volume, r->nvolume, sizeof *r->volume, by_day_user);
    return CR_OK;
}

/* Months from the first to the last, every one, and the totals. */
static cr_rc
finish_months(struct cr_audit_report *r, const enum cr_audit_setting *set,
              struct cr_err *err)
{
    struct cr_audit_report_state *st = r->st;
    int64_t first = st->min_mnum, last = st->max_mnum, k;
    struct cr_audit_report_usage *t = &r->total;
    size_t i;
    int s;

    if (r->opts.has_since)
        first = uk_month(r->opts.since_ms);
    if (r->opts.has_until)
        last = uk_month(r->opts.until_ms - 1);
    else if (!st->has_any)
        last = first;
    if (!st->has_any && !r->opts.has_since && !r->opts.has_until)
        return CR_OK;
    if (!st->has_any && !r->opts.has_since)
        first = last;
    /* Views of staff, by their organisation's setting. */
    for (i = 0; i < st->nmorg; i++) {
        const struct month_org *mo = &st->morg[i];
        struct cr_audit_report_usage *m = month(st, mo->mnum);
        if (m == NULL)
            return nomem(err);
        m->views_by_setting[set[mo->org]] += mo->views;
        if (set[mo->org] == CR_AUDIT_SETTING_AMBULANCE ||
            set[mo->org] == CR_AUDIT_SETTING_NHS111)
            m->care_plan_views_emergency += mo->care_plan_views;
    }
    r->months = calloc((size_t)(last - first + 1), sizeof *r->months);
    if (r->months == NULL)
        return nomem(err);
    for (k = first; k <= last; k++) {
        struct cr_audit_report_usage *m = &r->months[r->nmonths++];
        uint64_t *slot = cr_u64map_find(&st->months, (uint64_t)k);
        if (slot != NULL && *slot != 0)
            *m = st->macc[*slot - 1].u;
        m->year = cr_civil_floor_div(k, 12);
        m->month = (unsigned)(k - m->year * 12) + 1;
        t->views += m->views;
        t->care_plan_views += m->care_plan_views;
        t->care_plan_views_emergency += m->care_plan_views_emergency;
        for (s = 0; s < CR_AUDIT_SETTING__COUNT; s++)
            t->views_by_setting[s] += m->views_by_setting[s];
    }
    for (i = 0; i < st->users.n; i++)
        if (st->uinfo[i].has_view)
            t->users++;
    return CR_OK;
}

cr_rc
cr_audit_report_finish(struct cr_audit_report *r, cr_audit_setting_fn setting,
                       void *ctx, struct cr_err *err)
{
    struct cr_audit_report_state *st = r->st;
    enum cr_audit_setting *set = NULL;
    size_t i;
    cr_rc rc;

    if (st->orgs.n > 0) {
        set = calloc(st->orgs.n, sizeof *set);
        if (set == NULL)
            return nomem(err);
    }
    for (i = 0; i < st->orgs.n; i++) {
        set[i] = CR_AUDIT_SETTING_UNKNOWN;
        if (setting && st->orgs.strs[i][0] != '\0')
            set[i] = setting(ctx, st->orgs.strs[i]);
        if ((unsigned)set[i] >= CR_AUDIT_SETTING__COUNT)
            set[i] = CR_AUDIT_SETTING_UNKNOWN;
    }
    if (r->nalerts > 1)
        qsort(r->alerts, r->nalerts, sizeof *r->alerts, by_seq);
    for (i = 0; i < r->nalerts; i++) {
        uint64_t *slot = cr_u64map_find(&st->reviewed,
                                        (uint64_t)r->alerts[i].seq);
        if (slot != NULL && *slot != 0) {
            r->alerts[i].review = st->reviews[*slot - 1].r;
            r->nreviewed++;
        }
    }
    rc = finish_volume(r, err);
    if (rc == CR_OK)
        rc = finish_months(r, set, err);
    free(set);
    return rc;
}
