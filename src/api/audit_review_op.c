/* audit_review_op.c: POST /fhir/$audit-review, a privacy officer's review
 * of an alert: which alert (its record in the audit log, or for unusual
 * volume the member of staff and the UK day), what they found
 * (appropriate, explained, escalated, inappropriate) and a note.
 *
 * The review is appended to the hash-chained audit log as a record of its
 * own (action review, naming the reviewed record and the alert's patient),
 * which is also this request's audit record; the alert's record is never
 * changed, so the log stays append-only and the review is itself audited.
 * Only a token of purpose audit whose organisation is that of the staff
 * member who raised the alert may review it, and an alert is reviewed
 * once: a second review is refused (409). Nothing is appended for a
 * refused review but the record of the refused request itself, which
 * every request leaves and which holds no review.
 *
 * Exactly-once: the check for an earlier review runs first on a reader,
 * then again inside the write transaction for the records appended since
 * (on the writer's connection, which sees records of the same commit), so
 * two officers reviewing one alert at once cannot both succeed. Depends on
 * audit/, store/, fhir/, core/, jansson. */
#include "api/apiInt.h"

#include "core/civil.h"
#include "core/clock.h"
#include "core/jsontext.h"
#include "fhir/fhir.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A note longer than this (characters) is refused: a review note is a
 * sentence or two, and every byte of it is kept in the log forever. */
#define NOTE_MAX_CHARS 2000

/* Returned by the scans below when an earlier review is found; never
 * escapes this file. */
#define FOUND CR_ECONFLICT

#define PAGE 256

/* One review in the making; lives in the request's arena. */
struct review_job {
    struct ctx *x;
    int64_t seq;                /* the alert's record; 0: unusual volume */
    const char *user;           /* volume: the member of staff ... */
    int64_t day;                /* ... and the UK day */
    enum cr_audit_finding finding;
    const char *note;
    int64_t head;               /* the log's last record before the check */
    struct cr_audit_rec rec;    /* the review record */
    int64_t review_seq;         /* its place, once appended */
    int64_t earlier;            /* an earlier review found (its seq) */
    struct cr_api_queued q;
    struct cr_err err;
    cr_rc rc;
};

/* ---- the request body ---- */

/* The value of a Parameters parameter as a record number: an integer
 * (valueInteger, valuePositiveInt, valueUnsignedInt) or a reference
 * AuditEvent/N (absolute under this node's base, or relative). 0: none. */
static int64_t
record_number(struct ctx *x, json_t *param, bool is_reference)
{
    static const char *const ints[] = { "valueInteger", "valuePositiveInt",
                                        "valueUnsignedInt" };
    const char *ref, *base = x->api->base_url;
    size_t i, nb = strlen(base);
    json_t *j;

    if (!is_reference) {
        for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
            j = json_object_get(param, ints[i]);
            if (json_is_integer(j))
                return json_integer_value(j) > 0 ? json_integer_value(j) : 0;
        }
        return 0;
    }
    ref = json_string_value(json_object_get(
        json_object_get(param, "valueReference"), "reference"));
    if (ref == NULL)
        return 0;
    if (nb && strncmp(ref, base, nb) == 0 && ref[nb] == '/')
        ref += nb + 1;
    if (strncmp(ref, "AuditEvent/", 11) != 0)
        return 0;
    return cr_api_parse_seq(ref + 11);
}

/* Characters (code points) of valid UTF-8 text. */
static size_t
chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Answer 400 about parameter 'param' with a sentence. */
static void
bad(struct ctx *x, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
bad(struct ctx *x, const char *param, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cr_api_outcome(x, 400, "error", "invalid", param, "%s", msg);
}

/* Read the Parameters body into 'j'; answers 400 (naming the parameter)
 * and returns false when it is not a review this node can record. */
static bool
read_body(struct ctx *x, struct review_job *j)
{
    struct cr_http_req *req = x->req;
    int limit = x->api->cfg.max_json_depth + 2;
    json_t *root = NULL, *params, *p;
    const char *name, *type;
    int64_t from_record = 0, from_ref = 0;
    bool seen[6] = { false, false, false, false, false, false }, ok = false;
    static const char *const names[] = { "record", "auditEvent", "outcome",
                                         "note", "user", "day" };
    json_error_t jerr;
    struct cr_err err;
    size_t i, k;

    if (req->body_len == 0) {
        cr_api_outcome(x, 400, "error", "required", NULL,
                       "the request has no body: send a Parameters with "
                       "record (or auditEvent) and outcome");
        return false;
    }
    if (cr_jsontext_depth(req->body, req->body_len, limit) > limit) {
        cr_api_outcome(x, 400, "error", "structure", NULL,
                       "the JSON nests deeper than %d levels", limit);
        return false;
    }
    root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (root == NULL) {
        cr_api_outcome(x, 400, "error", "structure", NULL,
                       "the body is not valid JSON: %s (line %d, column %d)",
                       jerr.text, jerr.line, jerr.column);
        return false;
    }
    type = json_string_value(json_object_get(root, "resourceType"));
    if (!json_is_object(root) || type == NULL ||
        strcmp(type, "Parameters") != 0) {
        bad(x, "resourceType", "resourceType must be Parameters: "
                               "$audit-review takes a Parameters resource");
        goto out;
    }
    cr_err_clear(&err);
    if (cr_fhir_validate_any(root, &err) != CR_OK) {
        err.http_status = 400;
        cr_api_fail(x, &err);
        goto out;
    }
    params = json_object_get(root, "parameter");
    json_array_foreach(params, i, p) {
        name = json_string_value(json_object_get(p, "name"));
        for (k = 0; k < 6 && strcmp(names[k], name ? name : "") != 0; k++)
            ;
        if (k == 6) {
            cr_api_outcome(x, 400, "error", "not-supported", name,
                           "$audit-review does not take a parameter "
                           "'%.60s' (it takes record or auditEvent, or user "
                           "and day for unusual volume; outcome and note)",
                           name ? name : "");
            goto out;
        }
        if (seen[k]) {
            bad(x, name, "the parameter %s is given twice", name);
            goto out;
        }
        seen[k] = true;
        if (k == 0 && (from_record = record_number(x, p, false)) == 0) {
            bad(x, name, "%s must be the alert's record number in the audit "
                         "log (valueInteger, from 1)", name);
            goto out;
        }
        if (k == 1 && (from_ref = record_number(x, p, true)) == 0) {
            bad(x, name, "%s must be a reference to the alert's record: "
                         "valueReference AuditEvent/{record number}", name);
            goto out;
        }
        if (k == 2) {
            const char *code = json_string_value(
                json_object_get(p, "valueCode"));
            if (code == NULL || !cr_audit_finding_parse(code, &j->finding)) {
                bad(x, name, "%s must be a valueCode: appropriate, explained, "
                             "escalated or inappropriate", name);
                goto out;
            }
        }
        if (k == 4) {
            const char *user = json_string_value(
                json_object_get(p, "valueString"));
            if (user == NULL || user[0] == '\0' || strlen(user) > 127) {
                bad(x, name, "%s must be a valueString: the user id (agent) "
                             "of the member of staff whose unusual volume "
                             "was reviewed, as $audit-report gives it", name);
                goto out;
            }
            j->user = cr_arena_strndup(req->arena, user, strlen(user));
        }
        if (k == 5 &&
            !cr_civil_parse_date(json_string_value(json_object_get(
                                     p, "valueDate")),
                                 &j->day)) {
            bad(x, name, "%s must be a valueDate YYYY-MM-DD: the UK day of "
                         "the unusual volume", name);
            goto out;
        }
        if (k == 3) {
            const char *note = json_string_value(
                json_object_get(p, "valueString"));
            if (note == NULL) {
                bad(x, name, "%s must be a valueString", name);
                goto out;
            }
            if (chars(note) > NOTE_MAX_CHARS) {
                cr_api_outcome(x, 400, "error", "too-long", name,
                               "the note is %zu characters long; at most "
                               "%d are kept", chars(note), NOTE_MAX_CHARS);
                goto out;
            }
            j->note = cr_arena_strndup(req->arena, note, strlen(note));
            if (j->note == NULL) {
                cr_api_outcome(x, 503, "error", "transient", NULL,
                               "the server is out of memory; try again "
                               "shortly");
                goto out;
            }
        }
    }
    if ((seen[0] || seen[1]) && (seen[4] || seen[5])) {
        bad(x, seen[4] ? "user" : "day",
            "name either a record's alert (record or auditEvent) or an "
            "unusual volume (user and day), not both");
        goto out;
    }
    if (seen[4] != seen[5]) {
        cr_api_outcome(x, 400, "error", "required", seen[4] ? "day" : "user",
                       "an unusual volume is named by both user and day");
        goto out;
    }
    if (!seen[0] && !seen[1] && !seen[4]) {
        cr_api_outcome(x, 400, "error", "required", "record",
                       "say which alert was reviewed: record (its record "
                       "number in the audit log, as $audit-report gives it) "
                       "or auditEvent (AuditEvent/{record number}), or for "
                       "unusual volume user and day");
        goto out;
    }
    if (seen[0] && seen[1] && from_record != from_ref) {
        bad(x, "auditEvent", "record and auditEvent name different records; "
                             "give one of them");
        goto out;
    }
    if (!seen[2]) {
        cr_api_outcome(x, 400, "error", "required", "outcome",
                       "outcome is required: appropriate, explained, "
                       "escalated or inappropriate");
        goto out;
    }
    j->seq = seen[0] ? from_record : from_ref;
    if (seen[4] && j->user == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        goto out;
    }
    ok = true;
out:
    json_decref(root);
    return ok;
}

/* ---- the log ---- */

struct found {
    struct cr_arena *arena;     /* the record read, when 'is_one' */
    int64_t seq;                /* the record wanted (is_one), or the alert
                                   whose review is looked for */
    const char *user;           /* or the unusual volume of this user ... */
    int64_t day;                /* ... on this UK day */
    bool is_one;
    bool is_found;
    struct cr_audit_rec rec;
    int64_t earlier;            /* a review of 'seq' found: its record */
    struct cr_err err;
};

/* A row of a scan: the one record wanted, or a review of the alert. */
static cr_rc
take(void *ctx, const struct cr_store_audit_entry *e)
{
    struct found *f = ctx;
    struct cr_audit_rec rec;
    struct cr_arena *a;
    cr_rc rc;

    if (f->is_one) {
        if (e->seq != f->seq)
            return CR_OK;
        rc = cr_audit_rec_parse(e->body, e->len, f->arena, &f->rec, &f->err);
        if (rc != CR_OK)
            return cr_err_set(&f->err, CR_EIO, "exception", NULL,
                              "audit record %lld cannot be read; run "
                              "carerecord audit verify", (long long)e->seq);
        f->is_found = true;
        return CR_OK;
    }
    a = cr_arena_create();
    if (a == NULL)
        return cr_err_set(&f->err, CR_ENOMEM, "exception", NULL,
                          "out of memory");
    /* A record that does not parse is no review this version made. */
    rc = cr_audit_rec_parse(e->body, e->len, a, &rec, NULL);
    if (rc == CR_OK &&
        (f->user ? rec.review.user && strcmp(rec.review.user, f->user) == 0 &&
                       rec.review.day == f->day
                 : rec.review.seq == f->seq)) {
        f->earlier = e->seq;
        rc = FOUND;
    } else {
        rc = CR_OK;
    }
    cr_arena_destroy(a);
    return rc;
}

/* Walk every row of 'q', page by page, on the store's readers or (txn not
 * NULL) inside the write transaction. CR_OK, FOUND, or an error in f->err. */
static cr_rc
walk(struct cr_store *s, struct cr_store_txn *txn,
     struct cr_store_audit_query *q, struct found *f)
{
    int64_t next = 0;
    cr_rc rc;

    do {
        rc = txn ? cr_store_txn_audit_query(txn, q, take, f, &next, &f->err)
                 : cr_store_audit_query(s, q, take, f, &next, &f->err);
        q->before_seq = next;
    } while (rc == CR_OK && next != 0);
    return rc;
}

/* Inside the write transaction: no review of the alert appended since the
 * check made on a reader, then the review record. */
static cr_rc
review_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct review_job *j = ctx;
    struct cr_store_audit_query q;
    struct found f;
    cr_rc rc;

    memset(&q, 0, sizeof q);
    q.action = cr_audit_action_code(CR_AUDIT_REVIEW);
    q.after_seq = j->head;
    q.limit = PAGE;
    memset(&f, 0, sizeof f);
    f.seq = j->seq;
    f.user = j->user;
    f.day = j->day;
    cr_err_clear(&f.err);
    rc = walk(NULL, txn, &q, &f);
    if (rc == FOUND) {
        j->earlier = f.earlier;
        return cr_err_set(err, CR_ECONFLICT, "conflict",
                          j->user ? "user" : "record",
                          "the alert was reviewed just now (record %lld); a "
                          "review is recorded once", (long long)f.earlier);
    }
    if (rc != CR_OK) {
        *err = f.err;
        return rc;
    }
    return cr_audit_append_txn(j->x->api->audit, txn, &j->rec,
                               &j->review_seq, err);
}

/* ---- the answer ---- */

static void
answer_ok(struct ctx *x, struct review_job *j)
{
    struct cr_buf b = cr_buf_make(0);
    char when[40];

    cr_clock_instant(j->rec.time_ms, when, sizeof when);
    cr_buf_adds(&b, "{\"resourceType\":\"Parameters\",\"parameter\":["
                    "{\"name\":\"review\",\"valueReference\":{\"reference\":");
    cr_buf_addf(&b, "\"AuditEvent/%lld\"}},", (long long)j->review_seq);
    if (j->user) {
        char day[16];
        cr_civil_format_date(j->day, day, sizeof day);
        cr_buf_adds(&b, "{\"name\":\"volume\",\"part\":[{\"name\":"
                        "\"user\",\"valueString\":");
        cr_buf_add_json_str(&b, j->user);
        cr_buf_addf(&b, "},{\"name\":\"day\",\"valueDate\":\"%s\"}]},",
                    day);
    } else {
        cr_buf_addf(&b, "{\"name\":\"record\",\"valueInteger\":%lld},",
                    (long long)j->seq);
    }
    cr_buf_addf(&b, "{\"name\":\"outcome\",\"valueCode\":\"%s\"},",
                cr_audit_finding_code(j->finding));
    cr_buf_addf(&b, "{\"name\":\"time\",\"valueInstant\":\"%s\"}", when);
    if (x->principal.sub[0]) {
        cr_buf_adds(&b, ",{\"name\":\"user\",\"valueString\":");
        cr_buf_add_json_str(&b, x->principal.sub);
        cr_buf_addc(&b, '}');
    }
    if (x->principal.name[0]) {
        cr_buf_adds(&b, ",{\"name\":\"userName\",\"valueString\":");
        cr_buf_add_json_str(&b, x->principal.name);
        cr_buf_addc(&b, '}');
    }
    if (j->note && j->note[0]) {
        cr_buf_adds(&b, ",{\"name\":\"note\",\"valueString\":");
        cr_buf_add_json_str(&b, j->note);
        cr_buf_addc(&b, '}');
    }
    cr_buf_adds(&b, "]}");
    cr_api_send_buf(x, 200, &b);
}

static void
answer(struct ctx *x, struct review_job *j)
{
    if (j->rc == CR_OK) {
        /* The review record is this request's record. */
        x->is_recorded = true;
        answer_ok(x, j);
        return;
    }
    if (j->err.rc == CR_OK)
        cr_err_set(&j->err, j->rc, "exception", NULL,
                   "the review could not be recorded (%s); try again",
                   cr_rc_name(j->rc));
    cr_api_fail(x, &j->err);
}

static void
review_answer(void *arg, struct cr_http_req *req, struct cr_http_resp *resp)
{
    struct review_job *j = arg;

    (void)req;
    j->x->resp = resp;
    resp->principal = j->x->who;
    answer(j->x, j);
    cr_api_audited_send(j->x);
}

/* ---- the checks ---- */

/* Note the log's head in j->head (anything appended after it is checked
 * again in the write), then look for an earlier review with 'q' (the
 * reviews that could name the alert) and 'f' (the alert). Answers 409 or
 * 500 and returns false when there is one or the log cannot be read. */
static bool
not_reviewed_yet(struct ctx *x, struct review_job *j,
                 struct cr_store_audit_query *q, struct found *f)
{
    struct cr_store *s = x->api->store;
    char hash[CR_STORE_AUDIT_HASH_LEN + 1];
    cr_rc rc = cr_store_audit_head(s, &j->head, hash, &f->err);

    if (rc != CR_OK) {
        cr_api_fail(x, &f->err);
        return false;
    }
    f->is_one = false;
    rc = walk(s, NULL, q, f);
    if (rc == FOUND) {
        cr_api_outcome(x, 409, "error", "conflict",
                       j->user ? "user" : "record",
                       "this alert was already reviewed (record %lld); a "
                       "review is recorded once and not changed",
                       (long long)f->earlier);
        return false;
    }
    if (rc != CR_OK) {
        cr_api_fail(x, &f->err);
        return false;
    }
    return true;
}

/* The alert's record: it exists, raised an alert, and was made by the
 * staff of the officer's organisation; it has not been reviewed yet.
 * Answers (404, 403, 409, 500) and returns false otherwise. On success
 * j->head is the log's last record before the check for reviews, and
 * *out_patient the alert's patient (or NULL). */
static bool
check_alert(struct ctx *x, struct review_job *j, const char **out_patient)
{
    struct cr_store *s = x->api->store;
    struct cr_store_audit_query q;
    struct found f;
    cr_rc rc;

    memset(&f, 0, sizeof f);
    cr_err_clear(&f.err);
    f.arena = x->req->arena;
    f.seq = j->seq;
    f.is_one = true;
    memset(&q, 0, sizeof q);
    q.before_seq = j->seq + 1;
    q.after_seq = j->seq - 1;
    q.limit = 1;
    rc = cr_store_audit_query(s, &q, take, &f, NULL, &f.err);
    if (rc != CR_OK) {
        cr_api_fail(x, &f.err);
        return false;
    }
    if (!f.is_found) {
        cr_api_outcome(x, 404, "error", "not-found", "record",
                       "record %lld is not in the audit log (records are "
                       "numbered 1, 2, 3...; $audit-report gives each "
                       "alert's)", (long long)j->seq);
        return false;
    }
    if (f.rec.org == NULL || strcmp(f.rec.org, x->principal.org) != 0) {
        cr_api_outcome(x, 403, "error", "forbidden", "record",
                       "record %lld is an access by another organisation's "
                       "staff; a privacy officer reviews the alerts raised "
                       "by their own organisation's staff only",
                       (long long)j->seq);
        return false;
    }
    if (f.rec.alerts == 0) {
        cr_api_outcome(x, 404, "error", "not-found", "record",
                       "record %lld raised no alert, so there is nothing to "
                       "review", (long long)j->seq);
        return false;
    }
    *out_patient = f.rec.patient;
    /* A review names the alert's patient, so their record's reviews are
     * found through that index; an alert about no patient, through the
     * organisation's. */
    memset(&q, 0, sizeof q);
    q.action = cr_audit_action_code(CR_AUDIT_REVIEW);
    q.after_seq = j->seq;
    if (f.rec.patient)
        q.patient = f.rec.patient;
    else
        q.principal_org = x->principal.org;
    q.limit = PAGE;
    return not_reviewed_yet(x, j, &q, &f);
}

/* The first record of a member of staff's accesses on one day. */
struct day_scan {
    int64_t first;              /* lowest seq seen; 0: none */
};

static cr_rc
note_access(void *ctx, const struct cr_store_audit_entry *e)
{
    struct day_scan *d = ctx;

    if (d->first == 0 || e->seq < d->first)
        d->first = e->seq;
    return CR_OK;
}

/* An unusual volume: the member of staff, of the officer's organisation,
 * accessed records on that UK day (the report, with whatever threshold
 * the officer chose, said how many), and it was not reviewed yet.
 * Answers (404, 409, 500) and returns false otherwise; on success j->head
 * is as for check_alert. */
static bool
check_volume(struct ctx *x, struct review_job *j)
{
    struct cr_store *s = x->api->store;
    struct cr_store_audit_query q;
    char day[16];
    struct day_scan d = { 0 };
    struct found f;
    int64_t next = 0;
    cr_rc rc;

    memset(&f, 0, sizeof f);
    cr_err_clear(&f.err);
    memset(&q, 0, sizeof q);
    q.principal_sub = j->user;
    q.principal_org = x->principal.org;
    q.since_ms = cr_civil_uk_day_start(j->day);
    q.until_ms = cr_civil_uk_day_start(j->day + 1);
    q.limit = PAGE;
    do {
        rc = cr_store_audit_query(s, &q, note_access, &d, &next, &f.err);
        q.before_seq = next;
    } while (rc == CR_OK && next != 0);
    if (rc != CR_OK) {
        cr_api_fail(x, &f.err);
        return false;
    }
    if (d.first == 0) {
        cr_civil_format_date(j->day, day, sizeof day);
        cr_api_outcome(x, 404, "error", "not-found", "user",
                       "the audit log holds no access by user '%.127s' of "
                       "your organisation's staff on %s, so there is no "
                       "unusual volume to review", j->user, day);
        return false;
    }
    /* A review of that day comes after the day's first access. */
    memset(&q, 0, sizeof q);
    q.action = cr_audit_action_code(CR_AUDIT_REVIEW);
    q.principal_org = x->principal.org;
    q.after_seq = d.first;
    q.limit = PAGE;
    f.user = j->user;
    f.day = j->day;
    return not_reviewed_yet(x, j, &q, &f);
}

void
cr_api_audit_review_op(struct ctx *x)
{
    struct review_job *j;
    const char *patient = NULL;
    char id[24];

    x->has_action = true;
    x->action = CR_AUDIT_REVIEW;
    if (strcmp(x->principal.purpose, "audit") != 0 ||
        x->principal.org[0] == '\0') {
        cr_api_outcome(x, 403, "error", "forbidden", NULL,
                       "$audit-review is for privacy officers: it needs a "
                       "token whose purpose is 'audit' (this token's "
                       "purpose is '%s')", x->principal.purpose);
        return;
    }
    if (!cr_api_check_content_type(x))
        return;
    j = cr_arena_calloc(x->req->arena, 1, sizeof *j);
    if (j == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return;
    }
    j->x = x;
    if (!read_body(x, j) || !cr_api_audit_settle(x))
        return;
    /* What was reviewed is named in this request's record, refused or
     * not (an unusual volume is named in the review itself). */
    if (j->user == NULL) {
        snprintf(id, sizeof id, "%lld", (long long)j->seq);
        cr_api_touch(x, "AuditEvent", id, 0);
        if (!check_alert(x, j, &patient))
            return;
    } else if (!check_volume(x, j)) {
        return;
    }

    cr_audit_rec_init(&j->rec);
    j->rec.time_ms = cr_clock_now_ms();
    j->rec.request_id = x->req->request_id;
    j->rec.client = x->req->client_addr;
    cr_audit_rec_set_principal(&j->rec, &x->principal);
    j->rec.action = CR_AUDIT_REVIEW;
    j->rec.outcome = CR_AUDIT_ALLOWED;
    j->rec.status = 200;
    j->rec.patient = patient;
    j->rec.resources = cr_buf_str(&x->touched);
    j->rec.review.seq = j->seq;
    j->rec.review.user = j->user;
    j->rec.review.day = j->day;
    j->rec.review.finding = j->finding;
    j->rec.review.note = j->note;
    cr_err_clear(&j->err);

    if (!cr_api_queue_write(x, &j->q, &j->rc, &j->err, review_in_txn, j,
                            review_answer, j))
        answer(x, j);
}
