/* test_audit_report.c: the audit report: alerts to review, unusual volume
 * over UK days, usage by UK month, distinct users, care settings (from
 * Organization resources), care plan views by emergency services, the
 * organisation filter and the period; rendering as text and as FHIR
 * Parameters; and making a report from a data directory. */
#include "unit.h"

#include "audit/audit.h"
#include "core/civil.h"
#include "store/store.h"

#include <jansson.h>
#include <sqlite3.h>

#define HOUR (60 * CR_CIVIL_MS_PER_MIN)

/* Midnight UTC of y-m-d plus 'h' hours and 'min' minutes. */
static int64_t
at(int64_t y, unsigned m, unsigned d, int h, int min)
{
    return cr_civil_days_from(y, m, d) * CR_CIVIL_MS_PER_DAY + h * HOUR +
           min * CR_CIVIL_MS_PER_MIN;
}

/* A read, allowed, by 'sub' of 'org' under 'purpose', of 'patient'. */
static struct cr_audit_rec
rec(int64_t ms, const char *sub, const char *org, const char *purpose,
    const char *patient)
{
    struct cr_audit_rec r;

    cr_audit_rec_init(&r);
    r.time_ms = ms;
    r.sub = sub;
    r.name = "Dr Test";
    r.org = org;
    r.role = "R8000";
    r.purpose = purpose;
    r.patient = patient;
    r.status = 200;
    return r;
}

static struct cr_audit_report *
report(const struct cr_audit_report_opts *o)
{
    struct cr_audit_report *r = NULL;
    struct cr_err err;

    cr_err_clear(&err);
    if (cr_audit_report_create(o, &r, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "create: %s", err.msg);
    return r;
}

static void
add(struct cr_audit_report *r, int64_t seq, const struct cr_audit_rec *x)
{
    struct cr_err err;

    cr_err_clear(&err);
    if (cr_audit_report_add(r, seq, x, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "add: %s", err.msg);
}

/* Organisations of the tests and their settings. */
static enum cr_audit_setting
settings(void *ctx, const char *org)
{
    int *calls = ctx;

    if (calls)
        (*calls)++;
    if (strcmp(org, "RRU") == 0)
        return CR_AUDIT_SETTING_AMBULANCE;
    if (strcmp(org, "NHS111") == 0)
        return CR_AUDIT_SETTING_NHS111;
    if (strcmp(org, "A81001") == 0)
        return CR_AUDIT_SETTING_GP;
    if (strcmp(org, "RR8") == 0)
        return CR_AUDIT_SETTING_HOSPITAL;
    return CR_AUDIT_SETTING_UNKNOWN;
}

static void
finish(struct cr_audit_report *r, int *calls)
{
    struct cr_err err;

    cr_err_clear(&err);
    if (cr_audit_report_finish(r, settings, calls, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "finish: %s", err.msg);
}

/* Patient ids p0, p1, ... */
static const char *
pid(int i)
{
    static char ids[512][8];

    snprintf(ids[i % 512], sizeof ids[0], "p%d", i);
    return ids[i % 512];
}

TEST(alerts_are_listed_by_seq_with_who_when_and_why)
{
    struct cr_audit_report *r = report(NULL);
    struct cr_audit_rec x;

    x = rec(at(2025, 1, 6, 10, 0), "u2", "RR8", "direct-care", "p9");
    x.alerts = CR_AUDIT_ALERT_EMERGENCY | CR_AUDIT_ALERT_OUT_OF_HOURS;
    x.reason = "emergency: life-threatening";
    x.basis = "emergency";
    add(r, 20, &x);
    x = rec(at(2025, 1, 6, 9, 0), "u1", "A81001", "direct-care", "p1");
    add(r, 5, &x);                      /* no alert */
    x.alerts = CR_AUDIT_ALERT_SELF_CLAIMED;
    x.reason = "self-claimed: covering";
    x.outcome = CR_AUDIT_DENIED;
    x.status = 403;
    x.rule = "reason-required";
    add(r, 7, &x);
    x = rec(at(2025, 1, 6, 11, 0), "s1", "RR8", "direct-care", "p2");
    x.alerts = CR_AUDIT_ALERT_STUDENT;
    x.supervisor = "555555555555";
    x.action = CR_AUDIT_EVERYTHING;
    add(r, 3, &x);
    finish(r, NULL);
    CHECK_EQ_INT(r->nrecords, 4);
    CHECK_EQ_INT(r->nalerts, 3);
    CHECK_EQ_INT(r->alerts[0].seq, 3);
    CHECK_EQ_INT(r->alerts[0].alerts, CR_AUDIT_ALERT_STUDENT);
    CHECK_EQ_STR(r->alerts[0].supervisor, "555555555555");
    CHECK_EQ_INT(r->alerts[0].action, CR_AUDIT_EVERYTHING);
    CHECK_EQ_INT(r->alerts[1].seq, 7);
    CHECK_EQ_STR(r->alerts[1].sub, "u1");
    CHECK_EQ_STR(r->alerts[1].org, "A81001");
    CHECK_EQ_STR(r->alerts[1].role, "R8000");
    CHECK_EQ_STR(r->alerts[1].name, "Dr Test");
    CHECK_EQ_STR(r->alerts[1].patient, "p1");
    CHECK_EQ_STR(r->alerts[1].reason, "self-claimed: covering");
    CHECK_EQ_STR(r->alerts[1].rule, "reason-required");
    CHECK_EQ_INT(r->alerts[1].outcome, CR_AUDIT_DENIED);
    CHECK_EQ_INT(r->alerts[1].status, 403);
    CHECK_EQ_INT(r->alerts[1].time_ms, at(2025, 1, 6, 9, 0));
    CHECK_EQ_INT(r->alerts[2].seq, 20);
    CHECK_EQ_INT(r->alerts[2].alerts,
                 CR_AUDIT_ALERT_EMERGENCY | CR_AUDIT_ALERT_OUT_OF_HOURS);
    CHECK_EQ_STR(r->alerts[2].basis, "emergency");
    CHECK(r->alerts[2].rule == NULL);
    CHECK_EQ_INT(r->nvolume, 0);
    cr_audit_report_destroy(r);
}

/* In July London is on BST: the UK day 2025-07-02 runs from 23:00 UTC on
 * the 1st. 30 patients before and 30 after that instant are 60 in one
 * UTC day but 30 in each UK day. */
TEST(volume_counts_distinct_patients_per_uk_day)
{
    struct cr_audit_report_opts o = { 0 };
    struct cr_audit_report *r;
    struct cr_audit_rec x;
    int i;

    o.volume_threshold = 50;
    r = report(&o);
    for (i = 0; i < 30; i++) {
        x = rec(at(2025, 7, 1, 22, 30) + i, "u1", "RR8", "direct-care",
                pid(i));
        add(r, i + 1, &x);
        x.time_ms = at(2025, 7, 1, 23, 30) + i;
        x.patient = pid(100 + i);
        add(r, 100 + i, &x);
        add(r, 200 + i, &x);            /* the same patient again */
    }
    finish(r, NULL);
    CHECK_EQ_INT(r->nvolume, 0);
    cr_audit_report_destroy(r);

    /* 21 more on the UK day 2025-07-02 (a refusal counts; an error, a
     * write, a source system's or a patient's read do not): 51 > 50 */
    r = report(&o);
    for (i = 0; i < 30; i++) {
        x = rec(at(2025, 7, 1, 22, 30) + i, "u1", "RR8", "direct-care",
                pid(i));
        add(r, i + 1, &x);
        x.time_ms = at(2025, 7, 1, 23, 30) + i;
        x.patient = pid(100 + i);
        add(r, 100 + i, &x);
    }
    for (i = 0; i < 21; i++) {
        x = rec(at(2025, 7, 2, 15, 0) + i, "u1", "RR8", "direct-care",
                pid(200 + i));
        x.outcome = i == 0 ? CR_AUDIT_DENIED : CR_AUDIT_FILTERED;
        add(r, 300 + i, &x);
    }
    x = rec(at(2025, 7, 2, 16, 0), "u1", "RR8", "direct-care", "px");
    x.outcome = CR_AUDIT_FAILED;
    add(r, 400, &x);
    x.outcome = CR_AUDIT_ALLOWED;
    x.action = CR_AUDIT_CREATE;
    add(r, 401, &x);
    for (i = 0; i < 60; i++) {
        x = rec(at(2025, 7, 2, 12, 0), "feed", "RR8", "system", pid(i));
        add(r, 500 + i, &x);
        x = rec(at(2025, 7, 2, 12, 0), "u9", "RR8", "patient-access",
                pid(i));
        add(r, 600 + i, &x);
    }
    finish(r, NULL);
    CHECK_EQ_INT(r->nvolume, 1);
    CHECK_EQ_STR(r->volume[0].sub, "u1");
    CHECK_EQ_STR(r->volume[0].org, "RR8");
    CHECK_EQ_INT(r->volume[0].count, 51);
    CHECK_EQ_INT(r->volume[0].day, cr_civil_days_from(2025, 7, 2));
    CHECK_EQ_INT(r->volume[0].time_ms, at(2025, 7, 1, 23, 0));
    CHECK_EQ_INT(r->volume[0].alerts, CR_AUDIT_ALERT_VOLUME);
    CHECK_EQ_INT(r->volume[0].seq, 0);
    cr_audit_report_destroy(r);
}

/* In January the UK day is the UTC day; the threshold is configurable and
 * one alert is given per user and day, in day then user order. */
TEST(volume_threshold_is_configurable_and_per_user_day)
{
    struct cr_audit_report_opts o = { 0 };
    struct cr_audit_report *r;
    struct cr_audit_rec x;
    int i;

    r = report(&o);
    CHECK_EQ_INT(r->opts.volume_threshold, CR_AUDIT_VOLUME_DEFAULT);
    cr_audit_report_destroy(r);
    o.volume_threshold = 2;
    r = report(&o);
    for (i = 0; i < 3; i++) {
        x = rec(at(2025, 1, 10, 23, 59), "zed", "RR8", "emergency", pid(i));
        add(r, i + 1, &x);
        x = rec(at(2025, 1, 11, 0, 1), "zed", "RR8", "emergency", pid(i));
        add(r, i + 10, &x);
        x = rec(at(2025, 1, 10, 9, 0), "amy", "RR8", "direct-care", pid(i));
        add(r, i + 20, &x);
    }
    x = rec(at(2025, 1, 12, 9, 0), "amy", "RR8", "direct-care", "p0");
    add(r, 30, &x);
    x.patient = "p1";
    add(r, 31, &x);                     /* 2 is not more than 2 */
    finish(r, NULL);
    CHECK_EQ_INT(r->nvolume, 3);
    CHECK_EQ_STR(r->volume[0].sub, "amy");
    CHECK_EQ_INT(r->volume[0].day, cr_civil_days_from(2025, 1, 10));
    CHECK_EQ_STR(r->volume[1].sub, "zed");
    CHECK_EQ_INT(r->volume[1].day, cr_civil_days_from(2025, 1, 10));
    CHECK_EQ_INT(r->volume[1].count, 3);
    CHECK_EQ_STR(r->volume[2].sub, "zed");
    CHECK_EQ_INT(r->volume[2].day, cr_civil_days_from(2025, 1, 11));
    CHECK_EQ_INT(r->volume[2].time_ms, at(2025, 1, 11, 0, 0));
    cr_audit_report_destroy(r);
}

/* 23:30 UTC on 31 March 2025 is 00:30 on 1 April in London (BST began on
 * the 30th); 23:30 UTC on 31 January is still January. Months between
 * are listed with zeros. */
TEST(months_are_uk_calendar_months_every_one_listed)
{
    struct cr_audit_report *r = report(NULL);
    struct cr_audit_rec x;

    x = rec(at(2025, 1, 31, 23, 30), "u1", "RR8", "direct-care", "p1");
    add(r, 1, &x);
    x = rec(at(2025, 3, 31, 23, 30), "u1", "RR8", "direct-care", "p1");
    add(r, 2, &x);
    x = rec(at(2025, 3, 31, 22, 30), "u1", "RR8", "direct-care", "p1");
    add(r, 3, &x);
    finish(r, NULL);
    CHECK_EQ_INT(r->nmonths, 4);
    CHECK_EQ_INT(r->months[0].year, 2025);
    CHECK_EQ_INT(r->months[0].month, 1);
    CHECK_EQ_INT(r->months[0].views, 1);
    CHECK_EQ_INT(r->months[1].month, 2);
    CHECK_EQ_INT(r->months[1].views, 0);
    CHECK_EQ_INT(r->months[2].month, 3);
    CHECK_EQ_INT(r->months[2].views, 1);
    CHECK_EQ_INT(r->months[3].month, 4);
    CHECK_EQ_INT(r->months[3].views, 1);
    CHECK_EQ_INT(r->total.views, 3);
    cr_audit_report_destroy(r);
}

TEST(period_bounds_the_records_and_the_months)
{
    struct cr_audit_report_opts o = { 0 };
    struct cr_audit_report *r;
    struct cr_audit_rec x;
    struct cr_err err;

    /* 1 December 2024 to 28 February 2025, UK days */
    o.has_since = o.has_until = true;
    o.since_ms = cr_civil_uk_day_start(cr_civil_days_from(2024, 12, 1));
    o.until_ms = cr_civil_uk_day_start(cr_civil_days_from(2025, 3, 1));
    r = report(&o);
    x = rec(o.since_ms - 1, "u1", "RR8", "direct-care", "p1");
    add(r, 1, &x);
    x.time_ms = o.since_ms;
    add(r, 2, &x);
    x.time_ms = o.until_ms - 1;
    x.alerts = CR_AUDIT_ALERT_FLAGGED;
    add(r, 3, &x);
    x.time_ms = o.until_ms;
    add(r, 4, &x);
    finish(r, NULL);
    CHECK_EQ_INT(r->nrecords, 2);
    CHECK_EQ_INT(r->nalerts, 1);
    CHECK_EQ_INT(r->alerts[0].seq, 3);
    CHECK_EQ_INT(r->nmonths, 3);
    CHECK_EQ_INT(r->months[0].year, 2024);
    CHECK_EQ_INT(r->months[0].month, 12);
    CHECK_EQ_INT(r->months[0].views, 1);
    CHECK_EQ_INT(r->months[1].views, 0);
    CHECK_EQ_INT(r->months[2].month, 2);
    CHECK_EQ_INT(r->months[2].views, 1);
    cr_audit_report_destroy(r);

    /* a period with nothing in it still lists its months */
    r = report(&o);
    finish(r, NULL);
    CHECK_EQ_INT(r->nmonths, 3);
    CHECK_EQ_INT(r->total.views, 0);
    cr_audit_report_destroy(r);
    /* a period may begin on 1 January 1970, instant 0 */
    o.since_ms = 0;
    o.until_ms = cr_civil_uk_day_start(cr_civil_days_from(1970, 3, 1));
    r = report(&o);
    finish(r, NULL);
    CHECK_EQ_INT(r->nmonths, 2);
    CHECK_EQ_INT(r->months[0].year, 1970);
    cr_audit_report_destroy(r);
    /* no period, no records: no months */
    r = report(NULL);
    finish(r, NULL);
    CHECK_EQ_INT(r->nmonths, 0);
    cr_audit_report_destroy(r);
    /* a period that ends before it begins, or lasts over 100 years */
    o.until_ms = o.since_ms;
    cr_err_clear(&err);
    r = NULL;
    CHECK_EQ_INT(cr_audit_report_create(&o, &r, &err), CR_EINVAL);
    CHECK(r == NULL);
    o.since_ms = cr_civil_uk_day_start(cr_civil_days_from(2000, 1, 1));
    o.until_ms = cr_civil_uk_day_start(cr_civil_days_from(2100, 1, 1));
    r = report(&o);
    cr_audit_report_destroy(r);
    o.until_ms = cr_civil_uk_day_start(cr_civil_days_from(2100, 1, 2));
    CHECK_EQ_INT(cr_audit_report_create(&o, &r, &err), CR_EINVAL);
}

TEST(record_views_and_distinct_users)
{
    struct cr_audit_report *r = report(NULL);
    struct cr_audit_rec x;

    /* views: read, vread, search, history, $everything, allowed or
     * filtered, naming a patient */
    x = rec(at(2025, 5, 1, 9, 0), "u1", "RR8", "direct-care", "p1");
    add(r, 1, &x);
    x.action = CR_AUDIT_VREAD;
    add(r, 2, &x);
    x.action = CR_AUDIT_SEARCH;
    x.outcome = CR_AUDIT_FILTERED;
    add(r, 3, &x);
    x = rec(at(2025, 5, 2, 9, 0), "u2", "RR8", "direct-care", "p2");
    x.action = CR_AUDIT_HISTORY;
    add(r, 4, &x);
    x.action = CR_AUDIT_EVERYTHING;
    add(r, 5, &x);
    /* not views: refused, failed, a write, no patient, reading the log */
    x = rec(at(2025, 5, 2, 9, 0), "u3", "RR8", "direct-care", "p2");
    x.outcome = CR_AUDIT_DENIED;
    add(r, 6, &x);
    x.outcome = CR_AUDIT_FAILED;
    add(r, 7, &x);
    x.outcome = CR_AUDIT_ALLOWED;
    x.action = CR_AUDIT_UPDATE;
    add(r, 8, &x);
    x.action = CR_AUDIT_READ;
    x.patient = NULL;
    add(r, 9, &x);
    x.patient = "p2";
    x.action = CR_AUDIT_AUDIT_READ;
    add(r, 10, &x);
    /* u1 again the next month */
    x = rec(at(2025, 6, 1, 9, 0), "u1", "RR8", "direct-care", "p1");
    add(r, 11, &x);
    finish(r, NULL);
    CHECK_EQ_INT(r->nrecords, 11);
    CHECK_EQ_INT(r->nmonths, 2);
    CHECK_EQ_INT(r->months[0].views, 5);
    CHECK_EQ_INT(r->months[0].users, 2);
    CHECK_EQ_INT(r->months[1].views, 1);
    CHECK_EQ_INT(r->months[1].users, 1);
    CHECK_EQ_INT(r->total.views, 6);
    CHECK_EQ_INT(r->total.users, 2);
    cr_audit_report_destroy(r);
}

/* Federated reads: a view counts where the user asked. The answering
 * node's record of a peer's read (via) is no view of its own; the asking
 * node's record names the person by NHS number when it holds nothing of
 * them, and that is a view and an access towards unusual volume. */
TEST(federated_views_count_where_the_user_asked)
{
    struct cr_audit_report_opts o = { 0 };
    struct cr_audit_report *r;
    struct cr_audit_rec x;
    int i;

    o.volume_threshold = 2;
    r = report(&o);
    x = rec(at(2025, 5, 1, 9, 0), "u1", "RR8", "direct-care", "p1");
    x.action = CR_AUDIT_EVERYTHING;
    x.via = "sel";                      /* answered for sel's user */
    add(r, 1, &x);
    x = rec(at(2025, 5, 1, 9, 5), "u2", "RR8", "direct-care", NULL);
    x.action = CR_AUDIT_EVERYTHING;
    for (i = 0; i < 3; i++) {           /* asked here, held elsewhere */
        x.nhs = i == 0 ? "9000000009" : i == 1 ? "9476719931" : "9912003888";
        add(r, 2 + i, &x);
    }
    finish(r, NULL);
    CHECK_EQ_INT(r->total.views, 3);
    CHECK_EQ_INT(r->total.users, 1);    /* u2; u1 asked at sel */
    CHECK_EQ_INT(r->nvolume, 1);
    CHECK_EQ_STR(r->volume[0].sub, "u2");
    CHECK_EQ_INT(r->volume[0].count, 3);
    cr_audit_report_destroy(r);
}

TEST(views_by_care_setting_ask_each_organisation_once)
{
    struct cr_audit_report *r = report(NULL);
    struct cr_audit_rec x;
    int calls = 0, i;

    for (i = 0; i < 3; i++) {
        x = rec(at(2025, 5, 1, 9, i), "u1", "RR8", "direct-care", "p1");
        add(r, i * 10 + 1, &x);
        x = rec(at(2025, 5, 1, 9, i), "g1", "A81001", "direct-care", "p1");
        add(r, i * 10 + 2, &x);
        x = rec(at(2025, 6, 1, 9, i), "z1", "ZZZ", "direct-care", "p1");
        add(r, i * 10 + 3, &x);
    }
    x = rec(at(2025, 6, 1, 9, 0), "9000000009", NULL, "patient-access",
            "p1");
    add(r, 40, &x);
    finish(r, &calls);
    CHECK_EQ_INT(calls, 3);
    CHECK_EQ_INT(r->months[0].views_by_setting[CR_AUDIT_SETTING_HOSPITAL], 3);
    CHECK_EQ_INT(r->months[0].views_by_setting[CR_AUDIT_SETTING_GP], 3);
    CHECK_EQ_INT(r->months[0].views_by_setting[CR_AUDIT_SETTING_UNKNOWN], 0);
    CHECK_EQ_INT(r->months[1].views_by_setting[CR_AUDIT_SETTING_UNKNOWN], 3);
    CHECK_EQ_INT(r->months[1].views_by_setting[CR_AUDIT_SETTING_PATIENT], 1);
    CHECK_EQ_INT(r->total.views_by_setting[CR_AUDIT_SETTING_GP], 3);
    CHECK_EQ_INT(r->total.views, 10);
    CHECK_EQ_INT(r->total.users, 4);
    cr_audit_report_destroy(r);
    /* without a way to tell, every organisation is unknown */
    r = report(NULL);
    x = rec(at(2025, 5, 1, 9, 0), "u1", "RR8", "direct-care", "p1");
    add(r, 1, &x);
    CHECK_EQ_INT(cr_audit_report_finish(r, NULL, NULL, NULL), CR_OK);
    CHECK_EQ_INT(r->total.views_by_setting[CR_AUDIT_SETTING_UNKNOWN], 1);
    cr_audit_report_destroy(r);
}

TEST(care_plan_views_by_emergency_services)
{
    static const char plan[] = "\"Patient/p1/_history/1\","
                               "\"CarePlan/cp1/_history/2\"";
    static const char not_plan[] = "\"Observation/CarePlan-1/_history/1\"";
    struct cr_audit_report *r = report(NULL);
    struct cr_audit_rec x;

    /* an ambulance crew and NHS 111 (any purpose): emergency services */
    x = rec(at(2025, 5, 1, 9, 0), "a1", "RRU", "direct-care", "p1");
    x.resources = cr_str_c(plan);
    add(r, 1, &x);
    x = rec(at(2025, 5, 1, 9, 0), "n1", "NHS111", "direct-care", "p1");
    x.resources = cr_str_c(plan);
    x.action = CR_AUDIT_EVERYTHING;
    add(r, 2, &x);
    /* a GP breaking glass: emergency services too */
    x = rec(at(2025, 5, 1, 9, 0), "g1", "A81001", "emergency", "p1");
    x.resources = cr_str_c(plan);
    add(r, 3, &x);
    /* the GP in the normal way: a care plan view, not by emergency
     * services */
    x = rec(at(2025, 5, 1, 9, 0), "g1", "A81001", "direct-care", "p1");
    x.resources = cr_str_c(plan);
    add(r, 4, &x);
    /* not care plan views: a refused one, an ambulance's view of no
     * care plan, a resource whose id merely says CarePlan */
    x = rec(at(2025, 5, 1, 9, 0), "a1", "RRU", "direct-care", "p1");
    x.resources = cr_str_c(plan);
    x.outcome = CR_AUDIT_DENIED;
    add(r, 5, &x);
    x = rec(at(2025, 5, 1, 9, 0), "a1", "RRU", "direct-care", "p1");
    x.resources = cr_str_c(not_plan);
    add(r, 6, &x);
    x = rec(at(2025, 5, 1, 9, 0), "a1", "RRU", "emergency", "p1");
    add(r, 7, &x);
    finish(r, NULL);
    CHECK_EQ_INT(r->total.views, 6);
    CHECK_EQ_INT(r->total.care_plan_views, 4);
    CHECK_EQ_INT(r->total.care_plan_views_emergency, 3);
    CHECK_EQ_INT(r->months[0].care_plan_views_emergency, 3);
    CHECK_EQ_INT(r->total.views_by_setting[CR_AUDIT_SETTING_AMBULANCE], 3);
    CHECK_EQ_INT(r->total.views_by_setting[CR_AUDIT_SETTING_NHS111], 1);
    cr_audit_report_destroy(r);
}

TEST(org_filter_keeps_one_organisations_staff)
{
    struct cr_audit_report_opts o = { 0 };
    struct cr_audit_report *r;
    struct cr_audit_rec x;

    o.org = "RR8";
    r = report(&o);
    x = rec(at(2025, 5, 1, 9, 0), "u1", "RR8", "direct-care", "p1");
    x.alerts = CR_AUDIT_ALERT_SAME_SURNAME;
    add(r, 1, &x);
    x = rec(at(2025, 5, 1, 9, 0), "g1", "A81001", "direct-care", "p1");
    x.alerts = CR_AUDIT_ALERT_SAME_ADDRESS;
    add(r, 2, &x);
    x = rec(at(2025, 5, 1, 9, 0), "x1", NULL, "direct-care", "p1");
    add(r, 3, &x);
    x = rec(at(2025, 5, 1, 9, 0), "u1", "RR8X", "direct-care", "p1");
    add(r, 4, &x);
    finish(r, NULL);
    CHECK_EQ_STR(r->opts.org, "RR8");
    CHECK_EQ_INT(r->nrecords, 1);
    CHECK_EQ_INT(r->nalerts, 1);
    CHECK_EQ_STR(r->alerts[0].org, "RR8");
    CHECK_EQ_INT(r->total.views, 1);
    CHECK_EQ_INT(r->total.users, 1);
    cr_audit_report_destroy(r);
}

TEST(settings_come_from_organization_type)
{
    static const char synth[] =
        "{\"resourceType\":\"Organization\",\"type\":[{\"coding\":[{"
        "\"system\":\"https://carerecord.example/CodeSystem/"
        "organisation-kind\",\"code\":\"ambulance-service\"}]},{\"coding\":"
        "[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
        "organization-type\",\"code\":\"prov\"}]}]}";
    static const char ods[] =
        "{\"resourceType\":\"Organization\",\"type\":[{\"coding\":[{"
        "\"system\":\"https://digital.nhs.uk/services/"
        "organisation-data-service/CodeSystem/ODSOrganisationRole\","
        "\"code\":\"RO177\"},{\"system\":\"https://digital.nhs.uk/services/"
        "organisation-data-service/CodeSystem/ODSOrganisationRole\","
        "\"code\":\"RO76\"}]}]}";
    static const char plain[] =
        "{\"resourceType\":\"Organization\",\"name\":\"A trust\"}";
    static const char patient[] =
        "{\"resourceType\":\"Patient\",\"type\":[{\"coding\":[{\"system\":"
        "\"https://carerecord.example/CodeSystem/organisation-kind\","
        "\"code\":\"care-home\"}]}]}";
    static const char *const kinds[][2] = {
        { "gp-practice", "gp-practice" }, { "acute-trust", "hospital" },
        { "specialist-trust", "hospital" },
        { "mental-health-trust", "mental-health" },
        { "community-trust", "community" },
        { "council-social-care", "social-care" },
        { "care-home", "care-home" }, { "ambulance-service", "ambulance" },
        { "nhs-111", "nhs-111" },
    };
    size_t i;

    CHECK_EQ_INT(cr_audit_setting_of_org(synth, strlen(synth)),
                 CR_AUDIT_SETTING_AMBULANCE);
    CHECK_EQ_INT(cr_audit_setting_of_org(ods, strlen(ods)),
                 CR_AUDIT_SETTING_GP);
    CHECK_EQ_INT(cr_audit_setting_of_org(plain, strlen(plain)),
                 CR_AUDIT_SETTING_UNKNOWN);
    CHECK_EQ_INT(cr_audit_setting_of_org(patient, strlen(patient)),
                 CR_AUDIT_SETTING_UNKNOWN);
    CHECK_EQ_INT(cr_audit_setting_of_org("{", 1), CR_AUDIT_SETTING_UNKNOWN);
    CHECK_EQ_INT(cr_audit_setting_of_org(NULL, 0), CR_AUDIT_SETTING_UNKNOWN);
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        CHECK_EQ_STR(cr_audit_setting_code(cr_audit_setting_of_coding(
                         "https://carerecord.example/CodeSystem/"
                         "organisation-kind",
                         kinds[i][0])),
                     kinds[i][1]);
    CHECK_EQ_INT(cr_audit_setting_of_coding("http://example.org",
                                            "gp-practice"),
                 CR_AUDIT_SETTING_UNKNOWN);
    CHECK_EQ_INT(cr_audit_setting_of_coding(NULL, "x"),
                 CR_AUDIT_SETTING_UNKNOWN);
    CHECK_EQ_STR(cr_audit_setting_display(CR_AUDIT_SETTING_NHS111), "NHS 111");
    CHECK_EQ_STR(cr_audit_setting_code(CR_AUDIT_SETTING__COUNT), "");
}

/* A small report of every kind of content, for the renderers. */
static struct cr_audit_report *
sample(void)
{
    static const char plan[] = "\"CarePlan/cp1/_history/1\"";
    struct cr_audit_report_opts o = { 0 };
    struct cr_audit_report *r;
    struct cr_audit_rec x;
    int i;

    o.has_since = o.has_until = true;
    o.since_ms = cr_civil_uk_day_start(cr_civil_days_from(2025, 6, 1));
    o.until_ms = cr_civil_uk_day_start(cr_civil_days_from(2025, 8, 1));
    o.volume_threshold = 2;
    o.org = "RRU";
    r = report(&o);
    x = rec(at(2025, 6, 30, 22, 15), "a1", "RRU", "emergency", "p\"1");
    x.name = "Dr \"Quote\" Smith";
    x.alerts = CR_AUDIT_ALERT_EMERGENCY | CR_AUDIT_ALERT_OUT_OF_HOURS;
    x.reason = "emergency: life-threatening";
    x.resources = cr_str_c(plan);
    add(r, 17, &x);
    for (i = 0; i < 3; i++) {
        x = rec(at(2025, 7, 3, 10, 0), "a2", "RRU", "direct-care", pid(i));
        add(r, 20 + i, &x);
    }
    finish(r, NULL);
    return r;
}

TEST(text_report_says_everything)
{
    struct cr_audit_report *r = sample();
    struct cr_buf b = cr_buf_make(0);

    CHECK_EQ_INT(cr_audit_report_text(r, &b), CR_OK);
    CHECK(strstr(b.ptr, "Period:        2025-06-01 to 2025-07-31") != NULL);
    CHECK(strstr(b.ptr, "Organisation:  RRU (its staff only)") != NULL);
    CHECK(strstr(b.ptr, "Records:       4 in the period\n") != NULL);
    CHECK(strstr(b.ptr, "Alerts to review: 1\n") != NULL);
    /* 22:15 UTC on 30 June is 23:15 in London */
    CHECK(strstr(b.ptr, "  record 17  2025-06-30 23:15:00  emergency, "
                        "out-of-hours\n") != NULL);
    CHECK(strstr(b.ptr, "by Dr \"Quote\" Smith (user a1, org RRU, role "
                        "R8000)") != NULL);
    CHECK(strstr(b.ptr, "reason: emergency: life-threatening") != NULL);
    CHECK(strstr(b.ptr, "(more than 2 distinct patients by one user in one "
                        "UK day): 1\n  2025-07-03  3 patients  by") != NULL);
    CHECK(strstr(b.ptr, "  2025-06             1        1                1"
                        "                      1\n") != NULL);
    CHECK(strstr(b.ptr, "  2025-07             3        1") != NULL);
    CHECK(strstr(b.ptr, "  total               4        2") != NULL);
    CHECK(strstr(b.ptr, "  Ambulance service                             4\n")
          != NULL);
    cr_buf_free(&b);
    cr_audit_report_destroy(r);
}

/* The part named 'name' of a parameter list (a JSON array), or NULL. */
static json_t *
part(json_t *list, const char *name, int nth)
{
    size_t i;
    json_t *p;

    json_array_foreach(list, i, p) {
        if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0 &&
            nth-- == 0)
            return p;
    }
    return NULL;
}

/* The value[x] 'key' of the nth part 'name' of 'list'. */
static const char *
vstr(json_t *list, const char *name, int nth, const char *key)
{
    return json_string_value(json_object_get(part(list, name, nth), key));
}

static long long
vint(json_t *list, const char *name, int nth)
{
    return (long long)json_integer_value(
        json_object_get(part(list, name, nth), "valueInteger"));
}

/* The parts of the nth part 'name' of 'list'. */
static json_t *
parts(json_t *list, const char *name, int nth)
{
    return json_object_get(part(list, name, nth), "part");
}

TEST(fhir_report_is_parameters)
{
    struct cr_audit_report *r = sample();
    struct cr_buf b = cr_buf_make(0);
    json_t *root, *params, *alert, *vol, *month, *total, *code;

    CHECK_EQ_INT(cr_audit_report_fhir(r, &b), CR_OK);
    root = json_loads(b.ptr, JSON_REJECT_DUPLICATES, NULL);
    CHECK(root != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(root, "resourceType")),
                 "Parameters");
    params = json_object_get(root, "parameter");
    CHECK_EQ_STR(vstr(params, "since", 0, "valueDate"), "2025-06-01");
    CHECK_EQ_STR(vstr(params, "until", 0, "valueDate"), "2025-07-31");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(
                     part(params, "organization", 0), "valueIdentifier"),
                     "value")), "RRU");
    CHECK_EQ_INT(vint(params, "volumeThreshold", 0), 2);
    CHECK_EQ_INT(vint(params, "records", 0), 4);
    alert = parts(params, "alert", 0);
    CHECK_EQ_STR(vstr(alert, "code", 0, "valueCode"), "emergency");
    CHECK_EQ_STR(vstr(alert, "code", 1, "valueCode"), "out-of-hours");
    CHECK_EQ_INT(vint(alert, "record", 0), 17);
    CHECK_EQ_STR(vstr(alert, "time", 0, "valueInstant"),
                 "2025-06-30T22:15:00.000Z");
    CHECK_EQ_STR(json_string_value(json_object_get(
                     json_object_get(part(alert, "patient", 0),
                                     "valueReference"), "reference")),
                 "Patient/p\"1");
    CHECK_EQ_STR(vstr(alert, "userName", 0, "valueString"),
                 "Dr \"Quote\" Smith");
    CHECK(part(alert, "rule", 0) == NULL);
    vol = parts(params, "alert", 1);
    CHECK_EQ_STR(vstr(vol, "code", 0, "valueCode"), "volume");
    CHECK_EQ_STR(vstr(vol, "day", 0, "valueDate"), "2025-07-03");
    CHECK_EQ_INT(vint(vol, "patients", 0), 3);
    CHECK(part(params, "alert", 2) == NULL);
    month = parts(params, "month", 0);
    CHECK_EQ_STR(vstr(month, "month", 0, "valueDate"), "2025-06");
    CHECK_EQ_INT(vint(month, "carePlanViewsByEmergencyServices", 0), 1);
    code = json_object_get(part(parts(month, "setting", 0), "code", 0),
                           "valueCoding");
    CHECK_EQ_STR(json_string_value(json_object_get(code, "code")),
                 "ambulance");
    CHECK(part(params, "month", 1) != NULL);
    CHECK(part(params, "month", 2) == NULL);
    total = parts(params, "total", 0);
    CHECK(part(total, "month", 0) == NULL);
    CHECK_EQ_INT(vint(total, "recordViews", 0), 4);
    CHECK_EQ_INT(vint(total, "users", 0), 2);
    json_decref(root);
    cr_buf_free(&b);
    cr_audit_report_destroy(r);
}

TEST(report_from_a_data_directory)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store_opts so = { "node-a", 0, false };
    struct cr_store *s = NULL;
    struct cr_audit *log = NULL;
    struct cr_audit_report *r = NULL;
    struct cr_audit_rec x;
    struct cr_err err;
    char path[512];
    sqlite3 *db;
    int i;

    cr_err_clear(&err);
    CHECK_EQ_INT(cr_audit_report_dir(dir, NULL, &r, &err), CR_ENOTFOUND);
    CHECK(r == NULL);
    CHECK_EQ_INT(cr_store_open(dir, &so, &s, &err), CR_OK);
    CHECK_EQ_INT(cr_audit_open(s, NULL, &log, &err), CR_OK);
    for (i = 0; i < 4; i++) {
        x = rec(at(2025, 5, 1, 9, i), i < 2 ? "u1" : "u2", "RR8",
                "direct-care", pid(i));
        x.alerts = i == 3 ? CR_AUDIT_ALERT_RESTRICTED : 0;
        CHECK_EQ_INT(cr_audit_append(log, &x, NULL, &err), CR_OK);
    }
    /* the report of the open store, narrowed to RR8 */
    {
        struct cr_audit_report_opts o = { 0 };
        o.org = "RR8";
        CHECK_EQ_INT(cr_audit_report_store(s, &o, &r, &err), CR_OK);
        CHECK_EQ_INT(r->nrecords, 4);
        CHECK_EQ_INT(r->total.views, 4);
        CHECK_EQ_INT(r->total.users, 2);
        CHECK_EQ_INT(r->nalerts, 1);
        CHECK_EQ_INT(r->alerts[0].seq, 4);
        cr_audit_report_destroy(r);
        r = NULL;
    }
    cr_audit_close(log);
    cr_store_close(s);
    /* a record that is no longer a record is counted, not fatal */
    snprintf(path, sizeof path, "%s/carerecord.db", dir);
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE audit SET body='{}' WHERE seq=2",
                              NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ_INT(cr_audit_report_dir(dir, NULL, &r, &err), CR_OK);
    CHECK_EQ_INT(r->nrecords, 3);
    CHECK_EQ_INT(r->nunreadable, 1);
    CHECK_EQ_INT(r->total.views, 3);
    CHECK_EQ_INT(r->total.views_by_setting[CR_AUDIT_SETTING_UNKNOWN], 3);
    CHECK_EQ_INT(r->nalerts, 1);
    cr_audit_report_destroy(r);
}

/* A review by officer 'sub' of 'org' of the alert of record 'alert'. */
static struct cr_audit_rec
review(int64_t ms, const char *sub, const char *org, int64_t alert,
       enum cr_audit_finding finding, const char *note)
{
    struct cr_audit_rec r = rec(ms, sub, org, "audit", NULL);

    r.name = "Priya Guard";
    r.action = CR_AUDIT_REVIEW;
    r.review.seq = alert;
    r.review.finding = finding;
    r.review.note = note;
    return r;
}

/* A review is a later record naming the alert's record: the alert shows
 * as reviewed with its outcome, by whom and when, also when the review
 * falls after the period; the first of two reviews stands; another
 * organisation's review, and a review that is no review (seq 0), do not
 * count; reviews are neither views nor accesses. */
TEST(alerts_show_their_review)
{
    struct cr_audit_report_opts o = { 0 };
    struct cr_audit_report *r;
    struct cr_audit_rec x;

    o.has_since = o.has_until = true;
    o.since_ms = cr_civil_uk_day_start(cr_civil_days_from(2025, 6, 1));
    o.until_ms = cr_civil_uk_day_start(cr_civil_days_from(2025, 7, 1));
    o.org = "RRU";
    o.volume_threshold = 1;
    r = report(&o);
    /* records arrive in any order: reviews before their alerts here */
    x = review(at(2025, 7, 20, 9, 0), "po1", "RRU", 4,
               CR_AUDIT_FINDING_ESCALATED, "sent to the Caldicott guardian");
    add(r, 90, &x);                             /* after the period */
    x = review(at(2025, 6, 12, 9, 0), "po1", "RRU", 3,
               CR_AUDIT_FINDING_EXPLAINED, NULL);
    add(r, 40, &x);
    x = review(at(2025, 6, 13, 9, 0), "po2", "RRU", 3,
               CR_AUDIT_FINDING_INAPPROPRIATE, NULL);
    add(r, 41, &x);                             /* a second review */
    x = review(at(2025, 6, 12, 9, 0), "po9", "RR8", 5,
               CR_AUDIT_FINDING_APPROPRIATE, NULL);
    add(r, 42, &x);                             /* another organisation */
    x = review(at(2025, 6, 12, 9, 0), "po1", "RRU", 0,
               CR_AUDIT_FINDING_APPROPRIATE, NULL);
    x.outcome = CR_AUDIT_FAILED;
    x.status = 409;
    add(r, 43, &x);                             /* refused: no review */
    x = rec(at(2025, 6, 10, 22, 0), "a1", "RRU", "emergency", "p1");
    x.alerts = CR_AUDIT_ALERT_EMERGENCY;
    add(r, 3, &x);
    x = rec(at(2025, 6, 11, 10, 0), "a2", "RRU", "direct-care", "p2");
    x.alerts = CR_AUDIT_ALERT_SELF_CLAIMED;
    add(r, 4, &x);
    x = rec(at(2025, 6, 11, 11, 0), "a3", "RRU", "direct-care", "p3");
    x.alerts = CR_AUDIT_ALERT_SAME_SURNAME;
    add(r, 5, &x);
    finish(r, NULL);
    /* 3 alerts and 3 reviews (one refused) of RRU in June; the July
     * review only counts for its alert */
    CHECK_EQ_INT(r->nrecords, 6);
    CHECK_EQ_INT(r->nalerts, 3);
    CHECK_EQ_INT(r->nreviewed, 2);
    CHECK_EQ_INT(r->alerts[0].seq, 3);
    CHECK_EQ_INT(r->alerts[0].review.seq, 40);
    CHECK_EQ_INT(r->alerts[0].review.finding, CR_AUDIT_FINDING_EXPLAINED);
    CHECK_EQ_STR(r->alerts[0].review.sub, "po1");
    CHECK_EQ_STR(r->alerts[0].review.name, "Priya Guard");
    CHECK_EQ_INT(r->alerts[0].review.time_ms, at(2025, 6, 12, 9, 0));
    CHECK(r->alerts[0].review.note == NULL);
    CHECK_EQ_INT(r->alerts[1].review.seq, 90);
    CHECK_EQ_INT(r->alerts[1].review.finding, CR_AUDIT_FINDING_ESCALATED);
    CHECK_EQ_STR(r->alerts[1].review.note, "sent to the Caldicott guardian");
    CHECK_EQ_INT(r->alerts[2].review.seq, 0);
    CHECK_EQ_INT(r->total.views, 3);
    CHECK_EQ_INT(r->total.users, 3);
    CHECK_EQ_INT(r->nvolume, 0);
    {
        struct cr_buf b = cr_buf_make(0);
        json_t *root, *params, *alert, *rv;

        CHECK_EQ_INT(cr_audit_report_text(r, &b), CR_OK);
        CHECK(strstr(b.ptr, "Alerts to review: 3 (2 reviewed, 1 open)\n")
              != NULL);
        CHECK(strstr(b.ptr, "\n    reviewed: explained, by Priya Guard (user "
                            "po1) at 2025-06-12 10:00:00, record 40\n")
              != NULL);
        CHECK(strstr(b.ptr, "record 90\n    note: sent to the Caldicott "
                            "guardian\n") != NULL);
        CHECK(strstr(b.ptr, "  record 5  ") != NULL);
        CHECK(strstr(strstr(b.ptr, "  record 5  "), "\n    open\n") != NULL);
        cr_buf_reset(&b);
        CHECK_EQ_INT(cr_audit_report_fhir(r, &b), CR_OK);
        root = json_loads(b.ptr, JSON_REJECT_DUPLICATES, NULL);
        CHECK(root != NULL);
        params = json_object_get(root, "parameter");
        alert = parts(params, "alert", 1);
        CHECK_EQ_INT(vint(alert, "record", 0), 4);
        rv = parts(alert, "review", 0);
        CHECK(rv != NULL);
        CHECK_EQ_STR(vstr(rv, "outcome", 0, "valueCode"), "escalated");
        CHECK_EQ_INT(vint(rv, "record", 0), 90);
        CHECK_EQ_STR(vstr(rv, "time", 0, "valueInstant"),
                     "2025-07-20T09:00:00.000Z");
        CHECK_EQ_STR(vstr(rv, "user", 0, "valueString"), "po1");
        CHECK_EQ_STR(vstr(rv, "userName", 0, "valueString"), "Priya Guard");
        CHECK_EQ_STR(vstr(rv, "note", 0, "valueString"),
                     "sent to the Caldicott guardian");
        CHECK(part(parts(params, "alert", 2), "review", 0) == NULL);
        json_decref(root);
        cr_buf_free(&b);
    }
    cr_audit_report_destroy(r);
}

/* The node's report (an open store, read by period through the indexes)
 * finds a review made after the period too. */
/* An unusual-volume alert is reviewed by a review naming the member of
 * staff and the UK day; one of another user or day does not count. */
TEST(volume_alerts_show_their_review)
{
    struct cr_audit_report_opts o = { 0 };
    struct cr_audit_report *r;
    struct cr_audit_rec x;
    int i;

    o.volume_threshold = 2;
    o.org = "RR8";
    r = report(&o);
    for (i = 0; i < 3; i++) {           /* u1 and u2 over it on 3 July */
        x = rec(at(2025, 7, 3, 10, i), "u1", "RR8", "direct-care", pid(i));
        add(r, 1 + i, &x);
        x = rec(at(2025, 7, 3, 11, i), "u2", "RR8", "direct-care", pid(i));
        add(r, 10 + i, &x);
    }
    x = review(at(2025, 7, 4, 9, 0), "po1", "RR8", 0,
               CR_AUDIT_FINDING_EXPLAINED, "ward round");
    x.review.user = "u1";
    x.review.day = cr_civil_days_from(2025, 7, 3);
    add(r, 20, &x);
    x.review.day = cr_civil_days_from(2025, 7, 2);     /* another day */
    x.review.user = "u2";
    add(r, 21, &x);
    x.review.day = cr_civil_days_from(2025, 7, 3);     /* a later one */
    x.review.user = "u1";
    x.review.finding = CR_AUDIT_FINDING_INAPPROPRIATE;
    add(r, 22, &x);
    finish(r, NULL);
    CHECK_EQ_INT(r->nvolume, 2);
    CHECK_EQ_INT(r->nvolume_reviewed, 1);
    CHECK_EQ_STR(r->volume[0].sub, "u1");
    CHECK_EQ_INT(r->volume[0].review.seq, 20);
    CHECK_EQ_INT(r->volume[0].review.finding, CR_AUDIT_FINDING_EXPLAINED);
    CHECK_EQ_STR(r->volume[0].review.note, "ward round");
    CHECK_EQ_STR(r->volume[1].sub, "u2");
    CHECK_EQ_INT(r->volume[1].review.seq, 0);
    CHECK_EQ_INT(r->nalerts, 0);
    cr_audit_report_destroy(r);
}

TEST(store_report_finds_reviews_after_the_period)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store_opts so = { "node-a", 0, false };
    struct cr_audit_report_opts o = { 0 };
    struct cr_store *s = NULL;
    struct cr_audit *log = NULL;
    struct cr_audit_report *r = NULL;
    struct cr_audit_rec x;
    struct cr_err err;

    cr_err_clear(&err);
    CHECK_EQ_INT(cr_store_open(dir, &so, &s, &err), CR_OK);
    CHECK_EQ_INT(cr_audit_open(s, NULL, &log, &err), CR_OK);
    x = rec(at(2025, 5, 1, 9, 0), "u1", "RR8", "direct-care", "p1");
    x.alerts = CR_AUDIT_ALERT_RESTRICTED;
    CHECK_EQ_INT(cr_audit_append(log, &x, NULL, &err), CR_OK);      /* 1 */
    x.alerts = CR_AUDIT_ALERT_FLAGGED;
    CHECK_EQ_INT(cr_audit_append(log, &x, NULL, &err), CR_OK);      /* 2 */
    x = review(at(2025, 6, 3, 9, 0), "po", "RR8", 1,
               CR_AUDIT_FINDING_APPROPRIATE, "known to the team");
    CHECK_EQ_INT(cr_audit_append(log, &x, NULL, &err), CR_OK);      /* 3 */
    x = review(at(2025, 6, 3, 9, 5), "po", "RR9", 2,
               CR_AUDIT_FINDING_APPROPRIATE, NULL);
    CHECK_EQ_INT(cr_audit_append(log, &x, NULL, &err), CR_OK);      /* 4 */
    o.org = "RR8";
    o.has_since = o.has_until = true;
    o.since_ms = cr_civil_uk_day_start(cr_civil_days_from(2025, 5, 1));
    o.until_ms = cr_civil_uk_day_start(cr_civil_days_from(2025, 6, 1));
    CHECK_EQ_INT(cr_audit_report_store(s, &o, &r, &err), CR_OK);
    CHECK_EQ_INT(r->nrecords, 2);
    CHECK_EQ_INT(r->nalerts, 2);
    CHECK_EQ_INT(r->nreviewed, 1);
    CHECK_EQ_INT(r->alerts[0].review.seq, 3);
    CHECK_EQ_STR(r->alerts[0].review.note, "known to the team");
    CHECK_EQ_INT(r->alerts[1].review.seq, 0);
    cr_audit_report_destroy(r);
    r = NULL;
    cr_audit_close(log);
    cr_store_close(s);
    /* the command line's read of the directory says the same */
    CHECK_EQ_INT(cr_audit_report_dir(dir, &o, &r, &err), CR_OK);
    CHECK_EQ_INT(r->nreviewed, 1);
    CHECK_EQ_INT(r->alerts[0].review.seq, 3);
    cr_audit_report_destroy(r);
}
