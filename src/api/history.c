/* history.c: instance, type and system history as a FHIR Bundle.
 *
 * Entries are newest first and stream the stored bytes without parsing.
 * Pages are cut by the change sequence number (a keyset cursor), so new
 * writes never shift later pages. Depends on store/ and core/. */
#include "api/apiInt.h"

#include "core/clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hist_params {
    int count;
    int64_t since_ms;
    int64_t before_seq;
    const char *since_text;
    const char *bad_name;
    const char *bad_value;
    const char *bad_why;
};

/* Parse a FHIR instant/dateTime/date into ms since the epoch. A date or a
 * dateTime without time zone is taken as UTC. Returns false if malformed. */
static bool
parse_when(const char *s, int64_t *out)
{
    int y = 0, mo = 1, d = 1, h = 0, mi = 0, se = 0, n = 0, ms = 0;
    int off = 0;
    struct tm tm;
    const char *p;

    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return false;
    p = s + n;
    if (*p == 'T') {
        if (sscanf(p, "T%2d:%2d:%2d%n", &h, &mi, &se, &n) != 3 || n != 9)
            return false;
        p += n;
        if (*p == '.') {
            int digits = 0;
            p++;
            while (isdigit((unsigned char)*p)) {
                if (digits < 3)
                    ms = ms * 10 + (*p - '0');
                digits++;
                p++;
            }
            if (digits == 0)
                return false;
            while (digits++ < 3)
                ms *= 10;
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5)
                return false;
            off = (oh * 60 + om) * (*p == '+' ? 1 : -1);
            p += 6;
        }
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || se > 60)
        return false;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    *out = ((int64_t)timegm(&tm) - (int64_t)off * 60) * 1000 + ms;
    return true;
}

static bool
parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v;

    if (!isdigit((unsigned char)*s))
        return false;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool
read_param(void *ctx, const char *name, const char *value)
{
    struct hist_params *hp = ctx;
    long long v;

    if (strcmp(name, "_count") == 0) {
        if (!parse_int(value, 0, 1000000, &v)) {
            hp->bad_why = "a whole number";
            goto bad;
        }
        hp->count = (int)v;
    } else if (strcmp(name, "_since") == 0) {
        if (!parse_when(value, &hp->since_ms)) {
            hp->bad_why = "a FHIR instant such as 2026-11-21T10:00:00Z";
            goto bad;
        }
        hp->since_text = value;
    } else if (strcmp(name, "_page") == 0) {
        if (!parse_int(value, 1, INT64_MAX, &v)) {
            hp->bad_why = "the cursor from a next link";
            goto bad;
        }
        hp->before_seq = v;
    } else if (strcmp(name, "_format") != 0) {
        hp->bad_why = NULL;
        goto bad;
    }
    return true;
bad:
    hp->bad_name = name;
    hp->bad_value = value;
    return false;
}

struct hist_walk {
    struct ctx *x;
    struct cr_buf *b;
    int n;                /* entries written */
    int seen;             /* versions walked (shown or withheld) */
    int limit;
    bool has_more;
    int64_t last_seq;     /* seq of the last version walked */
};

static cr_rc
add_entry(void *ctx, const char *type, const char *id,
          const struct cr_store_meta *m, const char *json, size_t len)
{
    struct hist_walk *w = ctx;
    struct cr_buf *b = w->b;
    const char *method;
    bool is_post;
    char when[32];

    enum cr_policy_show show;

    if (w->seen == w->limit) {
        /* One more than a page exists: stop, and link to the next page. */
        w->has_more = true;
        return CR_ENOTFOUND;
    }
    w->seen++;
    w->last_seq = m->seq;
    /* Each version is decided on its own bytes and row: an old version
     * may carry codes or labels the current one does not. */
    show = cr_api_view_item(w->x, type, m, json ? json : "",
                            json ? len : 0, NULL);
    if (show == CR_POLICY_WITHHOLD)
        return CR_OK;
    cr_api_touch(w->x, type, id, m->version);
    cr_clock_instant(m->last_updated_ms, when, sizeof when);
    method = m->op[0] ? m->op
                      : json == NULL ? "DELETE" : m->version == 1 ? "POST"
                                                                  : "PUT";
    is_post = strcmp(method, "POST") == 0;
    if (w->n++)
        cr_buf_addc(b, ',');
    cr_buf_addf(b, "{\"fullUrl\":\"%s/%s/%s\"", w->x->api->base_url, type, id);
    if (json) {
        cr_buf_adds(b, ",\"resource\":");
        cr_api_view_add(b, show, json, len);
    }
    /* The interaction that made the version: a POST went to the type,
     * a PUT or DELETE to the instance. Versions written before this was
     * recorded: version 1 as a create, later ones as updates. */
    cr_buf_addf(b, ",\"request\":{\"method\":\"%s\",\"url\":\"%s%s%s\"},"
                   "\"response\":{\"status\":\"%s\",\"etag\":\"W/\\\"%lld\\\"\","
                   "\"lastModified\":\"%s\"}}",
                method, type, is_post ? "" : "/", is_post ? "" : id,
                json == NULL ? "204" : m->version == 1 ? "201" : "200",
                (long long)m->version, when);
    return b->rc;
}

static void
add_link(struct cr_buf *b, struct ctx *x, const char *rel,
         const struct hist_params *hp, int count, int64_t before)
{
    const struct route *r = &x->route;

    cr_buf_addf(b, "{\"relation\":\"%s\",\"url\":\"%s", rel,
                x->api->base_url);
    if (r->type)
        cr_buf_addf(b, "/%s", r->type);
    if (r->id)
        cr_buf_addf(b, "/%s", r->id);
    cr_buf_addf(b, "/_history?_count=%d", count);
    if (hp->since_text) {
        /* The value came from the query; re-encode what a URL needs. */
        const char *s;
        cr_buf_adds(b, "&_since=");
        for (s = hp->since_text; *s; s++) {
            if (*s == '+')
                cr_buf_adds(b, "%2B");
            else if (*s == '"' || *s == '\\')
                ;
            else
                cr_buf_addc(b, *s);
        }
    }
    if (before)
        cr_buf_addf(b, "&_page=%lld", (long long)before);
    cr_buf_adds(b, "\"}");
}

static cr_rc
count_one(void *ctx, const char *type, const char *id,
          const struct cr_store_meta *m, const char *json, size_t len)
{
    struct hist_walk *w = ctx;

    (void)id;
    if (cr_api_view_visible(w->x, type, m, json ? json : "",
                            json ? len : 0))
        w->n++;
    return CR_OK;
}

#define MAX_COUNTED 10000   /* past this, total is left out */

/* The number of versions the principal may see, or -1 when there are
 * too many to decide each (then the Bundle has no total: a raw count
 * would include what was withheld). */
static cr_rc
visible_total(struct ctx *x, const struct hist_params *hp, int64_t raw,
              int64_t *out, struct cr_err *err)
{
    struct hist_walk w;
    cr_rc rc;

#ifdef CR_BENCH_NO_ACCESS
    *out = raw;
    return CR_OK;
#endif
    *out = -1;
    if (raw > MAX_COUNTED)
        return CR_OK;
    memset(&w, 0, sizeof w);
    w.x = x;
    rc = cr_store_history(x->api->store, x->route.type, x->route.id, 0,
                          hp->since_ms, MAX_COUNTED, count_one, &w, err);
    if (rc == CR_OK)
        *out = w.n;
    return rc;
}

/* The history of one resource about a person the principal may not see
 * is refused as such (403 naming the rule). Returns false after
 * answering. */
static bool
may_read_history(struct ctx *x)
{
    struct cr_store_meta m;
    struct cr_err err;
    const struct cr_policy_decision *d;
    cr_rc rc;

#ifdef CR_BENCH_NO_ACCESS
    return true;
#endif
    if (x->route.id == NULL)
        return true;
    cr_err_clear(&err);
    rc = cr_store_read(x->api->store, x->route.type, x->route.id, NULL, &m,
                       &err);
    if ((rc != CR_OK && rc != CR_EGONE) || m.patient[0] == '\0')
        return true;
    x->audit_patient = cr_arena_strndup(x->req->arena, m.patient,
                                        strlen(m.patient));
    d = cr_api_view_patient(x, m.patient);
    if (d != NULL && d->is_allowed)
        return true;
    cr_api_view_deny(x, d);
    return false;
}

void
cr_api_history(struct ctx *x)
{
    struct hist_params hp;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response),
                  entries = cr_buf_make(x->api->cfg.max_response);
    struct hist_walk w;
    struct cr_err err;
    const char *type = x->route.type, *id = x->route.id;
    int64_t total = 0;
    cr_rc rc;

    memset(&hp, 0, sizeof hp);
    hp.count = x->api->cfg.default_count;
    cr_err_clear(&err);
    cr_http_args(x->req, read_param, &hp);
    if (hp.bad_name) {
        if (hp.bad_why)
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "%s=%.80s is not valid: expected %s",
                           hp.bad_name, hp.bad_value, hp.bad_why);
        else
            cr_api_outcome(x, 400, "error", "not-supported", NULL,
                           "history does not support the parameter '%.80s'"
                           " (supported: _count, _since)", hp.bad_name);
        return;
    }
    if (hp.count > x->api->cfg.max_count)
        hp.count = x->api->cfg.max_count;

    rc = cr_store_history_count(x->api->store, type, id, hp.since_ms, &total,
                                &err);
    if (rc == CR_OK && id && total == 0 && hp.since_ms == 0) {
        cr_api_outcome(x, 404, "error", "not-found", NULL,
                       "%s/%s is not known to this server", type, id);
        return;
    }
    if (rc == CR_OK && !may_read_history(x))
        return;
    if (rc == CR_OK)
        rc = visible_total(x, &hp, total, &total, &err);
    memset(&w, 0, sizeof w);
    w.x = x;
    w.b = &entries;
    w.limit = hp.count;
    if (rc == CR_OK)
        rc = cr_store_history(x->api->store, type, id, hp.before_seq,
                              hp.since_ms, hp.count + 1, add_entry, &w, &err);
    if (rc == CR_ENOTFOUND && w.has_more)
        rc = CR_OK;
    if (rc != CR_OK) {
        cr_buf_free(&entries);
        if (rc == CR_ETOOBIG)
            cr_api_too_big(x);
        else
            cr_api_fail(x, &err);
        return;
    }
    if (id && w.n == 0 && hp.before_seq == 0 && cr_api_view_withheld(x)) {
        /* Every version withheld: as if it did not exist. */
        cr_buf_free(&entries);
        cr_api_outcome(x, 404, "error", "not-found", NULL,
                       "%s/%s is not known to this server", type, id);
        return;
    }
    /* History entries carry request and response: no notice entry here;
     * the total (when given) counts only what is shown. */
    cr_api_bundle_start(&b, "history");
    if (total >= 0)
        cr_buf_addf(&b, ",\"total\":%lld", (long long)total);
    cr_buf_adds(&b, ",\"link\":[");
    add_link(&b, x, "self", &hp, hp.count, hp.before_seq);
    if (w.has_more) {
        cr_buf_addc(&b, ',');
        add_link(&b, x, "next", &hp, hp.count, w.last_seq);
    }
    cr_buf_addc(&b, ']');
    cr_api_bundle_finish(x, &b, &entries);
}
