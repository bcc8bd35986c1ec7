/* report_render.c: an audit report as text for a person (the command
 * line) and as a FHIR R4 Parameters resource (the API, and the command
 * line's --format json), from the same struct cr_audit_report. Times are
 * shown in UK local time in text and as UTC instants in FHIR. The
 * Parameters layout is described in docs/api.md. Depends on core/ (buf,
 * civil time, clock). */
#include "audit/audit.h"

#include "core/civil.h"
#include "core/clock.h"

#include <stdio.h>
#include <string.h>

#define ODS_SYSTEM "https://fhir.nhs.uk/Id/ods-organization-code"

/* ---- text ---- */

/* "YYYY-MM-DD HH:MM:SS", UK local time. */
static void
uk_time(int64_t ms, char *out, size_t size)
{
    int64_t local = ms + cr_civil_uk_offset_ms(ms);
    int64_t day = cr_civil_floor_div(local, CR_CIVIL_MS_PER_DAY);
    int64_t sec = (local - day * CR_CIVIL_MS_PER_DAY) / 1000;
    char date[16];

    cr_civil_format_date(day, date, sizeof date);
    snprintf(out, size, "%s %02d:%02d:%02d", date, (int)(sec / 3600),
             (int)(sec / 60 % 60), (int)(sec % 60));
}

static void
alert_codes(struct cr_buf *b, uint32_t alerts, const char *sep)
{
    bool is_first = true;
    int bit;

    for (bit = 0; bit < CR_AUDIT_ALERT__COUNT; bit++) {
        if (!(alerts & (1u << bit)))
            continue;
        if (!is_first)
            cr_buf_adds(b, sep);
        cr_buf_adds(b, cr_audit_alert_code(bit));
        is_first = false;
    }
}

static const char *
or_dash(const char *s)
{
    return s ? s : "-";
}

static void
text_who(struct cr_buf *b, const struct cr_audit_report_alert *a)
{
    cr_buf_addf(b, "%s (user %s, org %s, role %s)",
                a->name ? a->name : "(no name)", or_dash(a->sub),
                or_dash(a->org), or_dash(a->role));
}

/* "reviewed: explained, by NAME (user SUB) at WHEN, record N" and the
 * note; "open" when not reviewed. */
static void
text_review(struct cr_buf *b, const struct cr_audit_report_review *rv)
{
    char when[32];

    if (rv->seq == 0) {
        cr_buf_adds(b, "\n    open");
        return;
    }
    uk_time(rv->time_ms, when, sizeof when);
    cr_buf_addf(b, "\n    reviewed: %s, by %s (user %s) at %s, record %lld",
                cr_audit_finding_code(rv->finding),
                rv->name ? rv->name : "(no name)", or_dash(rv->sub), when,
                (long long)rv->seq);
    if (rv->note)
        cr_buf_addf(b, "\n    note: %s", rv->note);
}

static void
text_period(struct cr_buf *b, const struct cr_audit_report *r)
{
    char since[16], until[16];

    if (r->opts.has_since)
        cr_civil_format_date(cr_civil_uk_day(r->opts.since_ms), since,
                             sizeof since);
    if (r->opts.has_until)
        cr_civil_format_date(cr_civil_uk_day(r->opts.until_ms - 1), until,
                             sizeof until);
    cr_buf_adds(b, "Period:        ");
    if (r->opts.has_since && r->opts.has_until)
        cr_buf_addf(b, "%s to %s", since, until);
    else if (r->opts.has_since)
        cr_buf_addf(b, "from %s", since);
    else if (r->opts.has_until)
        cr_buf_addf(b, "up to %s", until);
    else
        cr_buf_adds(b, "the whole log");
    if (r->opts.has_since || r->opts.has_until)
        cr_buf_adds(b, " (UK dates, included)");
    cr_buf_addc(b, '\n');
}

static void
text_alerts(struct cr_buf *b, const struct cr_audit_report *r)
{
    size_t i;
    char when[32];

    cr_buf_addf(b, "\nAlerts to review: %zu", r->nalerts);
    if (r->nreviewed > 0)
        cr_buf_addf(b, " (%zu reviewed, %zu open)", r->nreviewed,
                    r->nalerts - r->nreviewed);
    cr_buf_addc(b, '\n');
    for (i = 0; i < r->nalerts; i++) {
        const struct cr_audit_report_alert *a = &r->alerts[i];

        uk_time(a->time_ms, when, sizeof when);
        cr_buf_addf(b, "  record %lld  %s  ", (long long)a->seq, when);
        alert_codes(b, a->alerts, ", ");
        cr_buf_adds(b, "\n    by ");
        text_who(b, a);
        cr_buf_addf(b, "\n    %s of patient %s%s: %s (%d)",
                    cr_audit_action_code(a->action),
                    a->patient || !a->nhs ? "" : "NHS ",
                    a->patient ? a->patient : or_dash(a->nhs),
                    cr_audit_outcome_code(a->outcome), a->status);
        if (a->purpose)
            cr_buf_addf(b, ", purpose %s", a->purpose);
        if (a->basis)
            cr_buf_addf(b, ", basis %s", a->basis);
        if (a->rule)
            cr_buf_addf(b, ", rule %s", a->rule);
        if (a->supervisor)
            cr_buf_addf(b, ", supervisor %s", a->supervisor);
        if (a->reason)
            cr_buf_addf(b, "\n    reason: %s", a->reason);
        text_review(b, &a->review);
        cr_buf_addc(b, '\n');
    }
    cr_buf_addf(b, "\nUnusual volume (more than %lld distinct patients by "
                   "one user in one UK day): %zu",
                (long long)r->opts.volume_threshold, r->nvolume);
    if (r->nvolume_reviewed > 0)
        cr_buf_addf(b, " (%zu reviewed, %zu open)", r->nvolume_reviewed,
                    r->nvolume - r->nvolume_reviewed);
    cr_buf_addc(b, '\n');
    for (i = 0; i < r->nvolume; i++) {
        const struct cr_audit_report_alert *a = &r->volume[i];
        char day[16];

        cr_civil_format_date(a->day, day, sizeof day);
        cr_buf_addf(b, "  %s  %lld patients  by ", day, (long long)a->count);
        text_who(b, a);
        text_review(b, &a->review);
        cr_buf_addc(b, '\n');
    }
}

static void
text_usage_row(struct cr_buf *b, const char *label,
               const struct cr_audit_report_usage *u)
{
    cr_buf_addf(b, "  %-8s %12lld %8lld %16lld %22lld\n", label,
                (long long)u->views, (long long)u->users,
                (long long)u->care_plan_views,
                (long long)u->care_plan_views_emergency);
}

static void
text_usage(struct cr_buf *b, const struct cr_audit_report *r)
{
    size_t i;
    int s;

    cr_buf_adds(b, "\nUsage by month (UK time)\n");
    cr_buf_addf(b, "  %-8s %12s %8s %16s %22s\n", "month", "record views",
                "users", "care plan views", "by emergency services");
    for (i = 0; i < r->nmonths; i++) {
        char label[16];
        snprintf(label, sizeof label, "%04lld-%02u",
                 (long long)r->months[i].year, r->months[i].month);
        text_usage_row(b, label, &r->months[i]);
    }
    text_usage_row(b, "total", &r->total);
    cr_buf_adds(b, "\nRecord views by care setting\n");
    for (s = 0; s < CR_AUDIT_SETTING__COUNT; s++) {
        if (r->total.views_by_setting[s] == 0)
            continue;
        cr_buf_addf(b, "  %-34s %12lld\n",
                    cr_audit_setting_display((enum cr_audit_setting)s),
                    (long long)r->total.views_by_setting[s]);
    }
    if (r->total.views == 0)
        cr_buf_adds(b, "  (no record views)\n");
}

cr_rc
cr_audit_report_text(const struct cr_audit_report *r, struct cr_buf *out)
{
    cr_buf_adds(out, "carerecord audit report\n");
    text_period(out, r);
    if (r->opts.org)
        cr_buf_addf(out, "Organisation:  %s (its staff only)\n", r->opts.org);
    else
        cr_buf_adds(out, "Organisation:  all\n");
    cr_buf_addf(out, "Records:       %lld in the period",
                (long long)r->nrecords);
    if (r->nunreadable)
        cr_buf_addf(out, "; %lld could not be read (run 'carerecord audit "
                         "verify')", (long long)r->nunreadable);
    cr_buf_addc(out, '\n');
    text_alerts(out, r);
    text_usage(out, r);
    return out->rc;
}

/* ---- FHIR Parameters ---- */

/* Writes the members of a parameter list, with commas between. */
struct pw {
    struct cr_buf *b;
    bool is_first;
};

static void
p_open(struct pw *w, const char *name)
{
    if (!w->is_first)
        cr_buf_addc(w->b, ',');
    w->is_first = false;
    cr_buf_adds(w->b, "{\"name\":");
    cr_buf_add_json_str(w->b, name);
}

/* A parameter with a string-like value ("valueString", "valueCode",
 * "valueDate", "valueInstant"); nothing when 's' is NULL or "". */
static void
p_str(struct pw *w, const char *name, const char *type, const char *s)
{
    if (s == NULL || *s == '\0')
        return;
    p_open(w, name);
    cr_buf_addf(w->b, ",\"%s\":", type);
    cr_buf_add_json_str(w->b, s);
    cr_buf_addc(w->b, '}');
}

static void
p_int(struct pw *w, const char *name, int64_t v)
{
    p_open(w, name);
    cr_buf_addf(w->b, ",\"valueInteger\":%lld}", (long long)v);
}

static void
p_ods(struct pw *w, const char *name, const char *ods)
{
    if (ods == NULL || *ods == '\0')
        return;
    p_open(w, name);
    cr_buf_adds(w->b, ",\"valueIdentifier\":{\"system\":\"" ODS_SYSTEM
                      "\",\"value\":");
    cr_buf_add_json_str(w->b, ods);
    cr_buf_adds(w->b, "}}");
}

static void
p_date(struct pw *w, const char *name, int64_t day)
{
    char d[16];

    cr_civil_format_date(day, d, sizeof d);
    p_str(w, name, "valueDate", d);
}

/* Open a parameter made of parts; *inner writes them; p_close ends it. */
static void
p_parts(struct pw *w, const char *name, struct pw *inner)
{
    p_open(w, name);
    cr_buf_adds(w->b, ",\"part\":[");
    inner->b = w->b;
    inner->is_first = true;
}

static void
p_close(struct pw *w)
{
    cr_buf_adds(w->b, "]}");
}

static void
fhir_who(struct pw *w, const struct cr_audit_report_alert *a)
{
    p_str(w, "user", "valueString", a->sub);
    p_str(w, "userName", "valueString", a->name);
    p_ods(w, "organization", a->org);
    p_str(w, "role", "valueCode", a->role);
}

/* The review of an alert: what was found, its record, when, by whom. */
static void
fhir_review(struct pw *w, const struct cr_audit_report_review *rv)
{
    struct pw in;
    char when[40];

    p_parts(w, "review", &in);
    p_str(&in, "outcome", "valueCode", cr_audit_finding_code(rv->finding));
    p_int(&in, "record", rv->seq);
    cr_clock_instant(rv->time_ms, when, sizeof when);
    p_str(&in, "time", "valueInstant", when);
    p_str(&in, "user", "valueString", rv->sub);
    p_str(&in, "userName", "valueString", rv->name);
    p_str(&in, "note", "valueString", rv->note);
    p_close(w);
}

static void
fhir_alert(struct pw *w, const struct cr_audit_report_alert *a)
{
    struct pw in;
    char when[40];
    int bit;

    p_parts(w, "alert", &in);
    for (bit = 0; bit < CR_AUDIT_ALERT__COUNT; bit++)
        if (a->alerts & (1u << bit))
            p_str(&in, "code", "valueCode", cr_audit_alert_code(bit));
    if (a->seq == 0) {
        p_date(&in, "day", a->day);
        p_int(&in, "patients", a->count);
        fhir_who(&in, a);
        if (a->review.seq > 0)
            fhir_review(&in, &a->review);
        p_close(w);
        return;
    }
    p_int(&in, "record", a->seq);
    cr_clock_instant(a->time_ms, when, sizeof when);
    p_str(&in, "time", "valueInstant", when);
    fhir_who(&in, a);
    p_str(&in, "purpose", "valueCode", a->purpose);
    p_str(&in, "reason", "valueString", a->reason);
    if (a->patient) {
        p_open(&in, "patient");
        cr_buf_adds(in.b, ",\"valueReference\":{\"reference\":\"Patient/");
        cr_buf_add_json_esc(in.b, a->patient, strlen(a->patient));
        cr_buf_adds(in.b, "\"}}");
    } else if (a->nhs) {
        p_open(&in, "patient");
        cr_buf_adds(in.b, ",\"valueReference\":{\"identifier\":{"
                          "\"system\":\"https://fhir.nhs.uk/Id/nhs-number\","
                          "\"value\":");
        cr_buf_add_json_str(in.b, a->nhs);
        cr_buf_adds(in.b, "}}}");
    }
    p_str(&in, "action", "valueCode", cr_audit_action_code(a->action));
    p_str(&in, "outcome", "valueCode", cr_audit_outcome_code(a->outcome));
    p_int(&in, "status", a->status);
    p_str(&in, "basis", "valueCode", a->basis);
    p_str(&in, "rule", "valueCode", a->rule);
    p_str(&in, "supervisor", "valueString", a->supervisor);
    if (a->review.seq > 0)
        fhir_review(&in, &a->review);
    p_close(w);
}

static void
fhir_usage(struct pw *w, const char *name, const char *month,
           const struct cr_audit_report_usage *u)
{
    struct pw in, set;
    int s;

    p_parts(w, name, &in);
    p_str(&in, "month", "valueDate", month);
    p_int(&in, "recordViews", u->views);
    p_int(&in, "users", u->users);
    p_int(&in, "carePlanViews", u->care_plan_views);
    p_int(&in, "carePlanViewsByEmergencyServices",
          u->care_plan_views_emergency);
    for (s = 0; s < CR_AUDIT_SETTING__COUNT; s++) {
        if (u->views_by_setting[s] == 0)
            continue;
        p_parts(&in, "setting", &set);
        p_open(&set, "code");
        cr_buf_addf(set.b, ",\"valueCoding\":{\"system\":\""
                    CR_AUDIT_SETTING_SYSTEM "\",\"code\":\"%s\","
                    "\"display\":\"%s\"}}",
                    cr_audit_setting_code((enum cr_audit_setting)s),
                    cr_audit_setting_display((enum cr_audit_setting)s));
        p_int(&set, "recordViews", u->views_by_setting[s]);
        p_close(&in);
    }
    p_close(w);
}

cr_rc
cr_audit_report_fhir(const struct cr_audit_report *r, struct cr_buf *out)
{
    struct pw w = { out, true };
    size_t i;

    cr_buf_adds(out, "{\"resourceType\":\"Parameters\",\"parameter\":[");
    if (r->opts.has_since)
        p_date(&w, "since", cr_civil_uk_day(r->opts.since_ms));
    if (r->opts.has_until)
        p_date(&w, "until", cr_civil_uk_day(r->opts.until_ms - 1));
    p_ods(&w, "organization", r->opts.org);
    p_int(&w, "volumeThreshold", r->opts.volume_threshold);
    p_int(&w, "records", r->nrecords);
    p_int(&w, "unreadable", r->nunreadable);
    for (i = 0; i < r->nalerts; i++)
        fhir_alert(&w, &r->alerts[i]);
    for (i = 0; i < r->nvolume; i++)
        fhir_alert(&w, &r->volume[i]);
    for (i = 0; i < r->nmonths; i++) {
        char m[16];
        snprintf(m, sizeof m, "%04lld-%02u", (long long)r->months[i].year,
                 r->months[i].month);
        fhir_usage(&w, "month", m, &r->months[i]);
    }
    fhir_usage(&w, "total", NULL, &r->total);
    cr_buf_adds(out, "]}");
    return out->rc;
}
