/* record.c: an audit record, its codes, and its canonical JSON text.
 *
 * The text is what the hash chain covers, so it must be the same bytes for
 * the same record every time, on every build: members in a fixed order,
 * no whitespace, a member present exactly when it has a value, integers in
 * decimal, strings escaped by one rule (quote, backslash and control
 * characters escaped, invalid UTF-8 replaced by \ufffd, everything else
 * as is). Parsing goes the other way, for verification and for rendering
 * AuditEvents. Depends on core/ and jansson. Thread-safe (no state). */
#include "audit/audit.h"

#include "core/civil.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The record format; bump it (and keep reading the old one) if the form
 * ever changes. */
#define FORMAT_VERSION 1

static const char *const action_codes[CR_AUDIT_ACTION__COUNT] = {
    [CR_AUDIT_READ] = "read",
    [CR_AUDIT_VREAD] = "vread",
    [CR_AUDIT_SEARCH] = "search",
    [CR_AUDIT_HISTORY] = "history",
    [CR_AUDIT_EVERYTHING] = "everything",
    [CR_AUDIT_CREATE] = "create",
    [CR_AUDIT_UPDATE] = "update",
    [CR_AUDIT_DELETE] = "delete",
    [CR_AUDIT_TRANSACTION] = "transaction",
    [CR_AUDIT_BATCH] = "batch",
    [CR_AUDIT_IMPORT] = "import",
    [CR_AUDIT_AUDIT_READ] = "audit-read",
    [CR_AUDIT_LOGIN_FAILURE] = "login-failure",
    [CR_AUDIT_CARE_PLAN_SUMMARY] = "care-plan-summary",
    [CR_AUDIT_CARE_PLAN_FIGURES] = "care-plan-figures",
    [CR_AUDIT_REVIEW] = "review",
};

static const char *const finding_codes[CR_AUDIT_FINDING__COUNT] = {
    [CR_AUDIT_FINDING_APPROPRIATE] = "appropriate",
    [CR_AUDIT_FINDING_EXPLAINED] = "explained",
    [CR_AUDIT_FINDING_ESCALATED] = "escalated",
    [CR_AUDIT_FINDING_INAPPROPRIATE] = "inappropriate",
};

static const char *const outcome_codes[CR_AUDIT_OUTCOME__COUNT] = {
    [CR_AUDIT_ALLOWED] = "allowed",
    [CR_AUDIT_FILTERED] = "filtered",
    [CR_AUDIT_DENIED] = "denied",
    [CR_AUDIT_FAILED] = "failed",
};

static const char *const alert_codes[CR_AUDIT_ALERT__COUNT] = {
    "self-claimed", "emergency", "same-surname", "same-address",
    "restricted",   "flagged",   "out-of-hours", "objection-overridden",
    "student",      "volume",
};

/* The code at index 'i' of a table of 'n' codes, or "" out of range. */
static const char *
code_at(const char *const *codes, int n, int i)
{
    return i >= 0 && i < n ? codes[i] : "";
}

/* The index of code 's' in a table of 'n' codes, or -1 (also for NULL). */
static int
index_of(const char *const *codes, int n, const char *s)
{
    int i;

    for (i = 0; s && i < n; i++)
        if (strcmp(s, codes[i]) == 0)
            return i;
    return -1;
}

const char *
cr_audit_action_code(enum cr_audit_action a)
{
    return code_at(action_codes, CR_AUDIT_ACTION__COUNT, (int)a);
}

const char *
cr_audit_outcome_code(enum cr_audit_outcome o)
{
    return code_at(outcome_codes, CR_AUDIT_OUTCOME__COUNT, (int)o);
}

const char *
cr_audit_finding_code(enum cr_audit_finding f)
{
    return code_at(finding_codes, CR_AUDIT_FINDING__COUNT, (int)f);
}

bool
cr_audit_action_parse(const char *s, enum cr_audit_action *out)
{
    int i = index_of(action_codes, CR_AUDIT_ACTION__COUNT, s);

    if (i >= 0)
        *out = (enum cr_audit_action)i;
    return i >= 0;
}

bool
cr_audit_outcome_parse(const char *s, enum cr_audit_outcome *out)
{
    int i = index_of(outcome_codes, CR_AUDIT_OUTCOME__COUNT, s);

    if (i >= 0)
        *out = (enum cr_audit_outcome)i;
    return i >= 0;
}

bool
cr_audit_finding_parse(const char *s, enum cr_audit_finding *out)
{
    int i = index_of(finding_codes, CR_AUDIT_FINDING__COUNT, s);

    if (i >= 0)
        *out = (enum cr_audit_finding)i;
    return i >= 0;
}

const char *
cr_audit_alert_code(int bit)
{
    if (bit < 0 || bit >= CR_AUDIT_ALERT__COUNT)
        return NULL;
    return alert_codes[bit];
}

void
cr_audit_rec_init(struct cr_audit_rec *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->action = CR_AUDIT_READ;
    rec->outcome = CR_AUDIT_ALLOWED;
    rec->resources = (struct cr_str){ "", 0 };
}

void
cr_audit_rec_set_principal(struct cr_audit_rec *rec,
                           const struct cr_principal *p)
{
    rec->sub = p ? p->sub : NULL;
    rec->name = p ? p->name : NULL;
    rec->org = p ? p->org : NULL;
    rec->role = p ? p->role : NULL;
    rec->purpose = p ? p->purpose : NULL;
    rec->reason = p ? p->reason : NULL;
}

/* The length of the well-formed UTF-8 sequence at s[0..n), or 0 if it is
 * not one (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len, i;
    unsigned char lo = 0x80, hi = 0xBF;

    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (len > n)
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Append 'len' bytes of 's' as the inside of a JSON string, by the one
 * rule. */
static void
add_escaped(struct cr_buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;

    while (i < len) {
        size_t n;

        if (u[i] < 0x80) {
            if (u[i] < 0x20 || u[i] == '"' || u[i] == '\\') {
                cr_buf_add(b, s + run, i - run);
                cr_buf_add_json_esc(b, s + i, 1);
                run = i + 1;
            }
            i++;
            continue;
        }
        n = utf8_len(u + i, len - i);
        if (n == 0) {
            cr_buf_add(b, s + run, i - run);
            cr_buf_adds(b, "\\ufffd");
            run = i + 1;
            n = 1;
        }
        i += n;
    }
    cr_buf_add(b, s + run, len - run);
}

static void
add_string(struct cr_buf *b, const char *s, size_t len)
{
    cr_buf_addc(b, '"');
    add_escaped(b, s, len);
    cr_buf_addc(b, '"');
}

static bool
has(const char *s)
{
    return s != NULL && *s != '\0';
}

/* ,"key":"value" when value is set; 'first' tracks the comma. */
static void
member(struct cr_buf *b, bool *first, const char *key, const char *value)
{
    if (!has(value))
        return;
    if (!*first)
        cr_buf_addc(b, ',');
    *first = false;
    cr_buf_addc(b, '"');
    cr_buf_adds(b, key);
    cr_buf_adds(b, "\":");
    add_string(b, value, strlen(value));
}

void
cr_audit_refs_add(struct cr_buf *refs, const char *type, const char *id,
                  int64_t version)
{
    if (refs->len > 0)
        cr_buf_addc(refs, ',');
    cr_buf_addc(refs, '"');
    add_escaped(refs, type, strlen(type));
    cr_buf_addc(refs, '/');
    add_escaped(refs, id, strlen(id));
    if (version > 0) {
        cr_buf_adds(refs, "/_history/");
        cr_buf_add_int(refs, version);
    }
    cr_buf_addc(refs, '"');
}

cr_rc
cr_audit_rec_write(const struct cr_audit_rec *rec, struct cr_buf *out)
{
    bool first;
    int bit;

    if ((unsigned)rec->action >= CR_AUDIT_ACTION__COUNT ||
        (unsigned)rec->outcome >= CR_AUDIT_OUTCOME__COUNT ||
        rec->review.seq < 0 ||
        (rec->review.seq > 0 && rec->review.user != NULL) ||
        ((rec->review.seq > 0 || rec->review.user != NULL) &&
         (rec->action != CR_AUDIT_REVIEW ||
          (unsigned)rec->review.finding >= CR_AUDIT_FINDING__COUNT ||
          (rec->review.user != NULL &&
           (rec->review.user[0] == '\0' || rec->review.day < 0))))) {
        if (out->rc == CR_OK)
            out->rc = CR_EINVAL;
        return out->rc;
    }
    cr_buf_reserve(out, 384 + rec->resources.len);
    cr_buf_addf(out, "{\"v\":%d,\"time\":%lld", FORMAT_VERSION,
                (long long)rec->time_ms);
    first = false;
    member(out, &first, "request", rec->request_id);
    member(out, &first, "client", rec->client);
    cr_buf_adds(out, ",\"agent\":{");
    first = true;
    member(out, &first, "sub", rec->sub);
    member(out, &first, "name", rec->name);
    member(out, &first, "org", rec->org);
    member(out, &first, "role", rec->role);
    cr_buf_addc(out, '}');
    first = false;
    member(out, &first, "purpose", rec->purpose);
    member(out, &first, "reason", rec->reason);
    cr_buf_adds(out, ",\"action\":\"");
    cr_buf_adds(out, action_codes[rec->action]);
    cr_buf_adds(out, "\",\"outcome\":\"");
    cr_buf_adds(out, outcome_codes[rec->outcome]);
    cr_buf_addf(out, "\",\"status\":%d", rec->status);
    member(out, &first, "patient", rec->patient);
    member(out, &first, "nhs", rec->nhs);
    if (rec->resources.len > 0) {
        cr_buf_adds(out, ",\"resources\":[");
        cr_buf_add(out, rec->resources.ptr, rec->resources.len);
        cr_buf_addc(out, ']');
    }
    if (rec->alerts & ((1u << CR_AUDIT_ALERT__COUNT) - 1)) {
        first = true;
        cr_buf_adds(out, ",\"alerts\":[");
        for (bit = 0; bit < CR_AUDIT_ALERT__COUNT; bit++) {
            if (!(rec->alerts & (1u << bit)))
                continue;
            if (!first)
                cr_buf_addc(out, ',');
            first = false;
            cr_buf_addc(out, '"');
            cr_buf_adds(out, alert_codes[bit]);
            cr_buf_addc(out, '"');
        }
        cr_buf_addc(out, ']');
    }
    first = false;
    member(out, &first, "basis", rec->basis);
    member(out, &first, "rule", rec->rule);
    if (rec->withheld > 0)
        cr_buf_addf(out, ",\"withheld\":%lld", (long long)rec->withheld);
    member(out, &first, "supervisor", rec->supervisor);
    member(out, &first, "node", rec->node);
    member(out, &first, "via", rec->via);
    if (rec->review.seq > 0 || rec->review.user != NULL) {
        if (rec->review.seq > 0) {
            cr_buf_addf(out, ",\"review\":{\"seq\":%lld",
                        (long long)rec->review.seq);
        } else {
            char day[16];
            cr_civil_format_date(rec->review.day, day, sizeof day);
            cr_buf_adds(out, ",\"review\":{\"user\":");
            cr_buf_add_json_str(out, rec->review.user);
            cr_buf_addf(out, ",\"day\":\"%s\"", day);
        }
        cr_buf_addf(out, ",\"outcome\":\"%s\"",
                    finding_codes[rec->review.finding]);
        member(out, &first, "note", rec->review.note);
        cr_buf_addc(out, '}');
    }
    cr_buf_addc(out, '}');
    return out->rc;
}

/* ---- parsing ---- */

/* A string member copied into the arena; absent gives NULL. false when
 * present but not a string, or out of memory. */
static bool
get_str(json_t *obj, const char *key, struct cr_arena *a, const char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL)
        return true;
    if (!json_is_string(v))
        return false;
    *out = cr_arena_strndup(a, json_string_value(v), json_string_length(v));
    return *out != NULL;
}

/* The "review" member: {"seq":N,"outcome":CODE[,"note":TEXT]} or
 * {"user":SUB,"day":"YYYY-MM-DD","outcome":CODE[,"note":TEXT]} (unusual
 * volume) and nothing else, on a record of action review only. */
static bool
parse_review(json_t *v, struct cr_audit_rec *out, struct cr_arena *a)
{
    json_t *seq = json_object_get(v, "seq");
    json_t *found = json_object_get(v, "outcome");
    json_t *day = json_object_get(v, "day");
    size_t n = 2;

    if (out->action != CR_AUDIT_REVIEW || !json_is_object(v))
        return false;
    if (seq == NULL) {
        if (!get_str(v, "user", a, &out->review.user) ||
            out->review.user == NULL || out->review.user[0] == '\0' ||
            !json_is_string(day) ||
            !cr_civil_parse_date(json_string_value(day), &out->review.day))
            return false;
        n = 3;
    } else if (!json_is_integer(seq) || json_integer_value(seq) <= 0) {
        return false;
    } else {
        out->review.seq = (int64_t)json_integer_value(seq);
    }
    if (!json_is_string(found) ||
        !cr_audit_finding_parse(json_string_value(found),
                                &out->review.finding) ||
        !get_str(v, "note", a, &out->review.note))
        return false;
    if (out->review.note != NULL)
        n++;
    return json_object_size(v) == n;
}

cr_rc
cr_audit_rec_parse(const char *body, size_t len, struct cr_arena *a,
                   struct cr_audit_rec *out, struct cr_err *err)
{
    static const char *const known[] = {
        "v", "time", "request", "client", "agent", "purpose", "reason",
        "action", "outcome", "status", "patient", "nhs", "resources", "alerts",
        "basis", "rule", "withheld", "supervisor", "node", "via", "review",
        NULL,
    };
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *agent, *v;
    const char *bad = NULL, *key;
    struct cr_buf refs = cr_buf_make(0);
    cr_rc rc = CR_OK;
    size_t i;

    cr_audit_rec_init(out);
    if (root == NULL || !json_is_object(root)) {
        rc = cr_err_set(err, CR_EINVAL, "structure", NULL,
                        "audit record is not a JSON object: %s",
                        root ? "not an object" : jerr.text);
        goto out;
    }
    json_object_foreach(root, key, v) {
        for (i = 0; known[i] && strcmp(known[i], key) != 0; i++)
            ;
        if (known[i] == NULL) {
            rc = cr_err_set(err, CR_EINVAL, "structure", NULL,
                            "audit record has an unknown member '%.64s'",
                            key);
            goto out;
        }
    }
    v = json_object_get(root, "v");
    if (!json_is_integer(v) || json_integer_value(v) != FORMAT_VERSION) {
        bad = "v";
        goto bad;
    }
    v = json_object_get(root, "time");
    if (!json_is_integer(v)) {
        bad = "time";
        goto bad;
    }
    out->time_ms = (int64_t)json_integer_value(v);
    v = json_object_get(root, "status");
    if (!json_is_integer(v)) {
        bad = "status";
        goto bad;
    }
    out->status = (int)json_integer_value(v);
    v = json_object_get(root, "action");
    if (!json_is_string(v) ||
        !cr_audit_action_parse(json_string_value(v), &out->action)) {
        bad = "action";
        goto bad;
    }
    v = json_object_get(root, "outcome");
    if (!json_is_string(v) ||
        !cr_audit_outcome_parse(json_string_value(v), &out->outcome)) {
        bad = "outcome";
        goto bad;
    }
    agent = json_object_get(root, "agent");
    if (!json_is_object(agent)) {
        bad = "agent";
        goto bad;
    }
    if (!get_str(agent, "sub", a, &out->sub) ||
        !get_str(agent, "name", a, &out->name) ||
        !get_str(agent, "org", a, &out->org) ||
        !get_str(agent, "role", a, &out->role) ||
        !get_str(root, "request", a, &out->request_id) ||
        !get_str(root, "client", a, &out->client) ||
        !get_str(root, "purpose", a, &out->purpose) ||
        !get_str(root, "reason", a, &out->reason) ||
        !get_str(root, "patient", a, &out->patient) ||
        !get_str(root, "nhs", a, &out->nhs) ||
        !get_str(root, "basis", a, &out->basis) ||
        !get_str(root, "rule", a, &out->rule) ||
        !get_str(root, "supervisor", a, &out->supervisor) ||
        !get_str(root, "node", a, &out->node) ||
        !get_str(root, "via", a, &out->via)) {
        bad = "a text member";
        goto bad;
    }
    v = json_object_get(root, "withheld");
    if (v != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            bad = "withheld";
            goto bad;
        }
        out->withheld = (int64_t)json_integer_value(v);
    }
    v = json_object_get(root, "resources");
    if (v != NULL) {
        json_t *item;
        char *copy;

        if (!json_is_array(v)) {
            bad = "resources";
            goto bad;
        }
        json_array_foreach(v, i, item) {
            if (!json_is_string(item)) {
                bad = "resources";
                goto bad;
            }
            if (refs.len > 0)
                cr_buf_addc(&refs, ',');
            add_string(&refs, json_string_value(item),
                       json_string_length(item));
        }
        copy = refs.rc == CR_OK
                   ? cr_arena_strndup(a, refs.ptr ? refs.ptr : "", refs.len)
                   : NULL;
        if (copy == NULL) {
            rc = cr_err_set(err, CR_ENOMEM, "exception", NULL,
                            "out of memory");
            goto out;
        }
        out->resources = (struct cr_str){ copy, refs.len };
    }
    v = json_object_get(root, "alerts");
    if (v != NULL) {
        json_t *item;

        if (!json_is_array(v)) {
            bad = "alerts";
            goto bad;
        }
        json_array_foreach(v, i, item) {
            int bit;
            for (bit = 0; bit < CR_AUDIT_ALERT__COUNT; bit++)
                if (json_is_string(item) &&
                    strcmp(json_string_value(item), alert_codes[bit]) == 0)
                    break;
            if (bit == CR_AUDIT_ALERT__COUNT) {
                bad = "alerts";
                goto bad;
            }
            out->alerts |= 1u << bit;
        }
    }
    v = json_object_get(root, "review");
    if (v != NULL && !parse_review(v, out, a)) {
        bad = "review";
        goto bad;
    }
    goto out;
bad:
    rc = cr_err_set(err, CR_EINVAL, "value", NULL,
                    "audit record has a missing or invalid %s", bad);
out:
    cr_buf_free(&refs);
    json_decref(root);
    return rc;
}
