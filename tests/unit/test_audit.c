/* test_audit.c: the audit log: canonical records, the hash chain through
 * every way of appending (in a write transaction, blocking, asynchronous,
 * concurrent), rollbacks, reading by patient/agent/time/outcome, and
 * verification against records edited, deleted, swapped and cut off in
 * the database file itself. */
#include "unit.h"

#include "audit/audit.h"
#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static const char *const patients[] = { "p0", "p1", "p2" };
static const char *const subs[] = { "u0", "u1" };
static const char *const orgs[] = { "RR8", "A81001" };

#define T0 1700000000000LL
#define HOUR 3600000LL
#define H0 (T0 / HOUR * HOUR)   /* the start of T0's hour */

static struct cr_store *
open_store(const char *dir)
{
    struct cr_store *s = NULL;
    struct cr_err err;
    struct cr_store_opts o = { "node-a", 0, false };

    cr_err_clear(&err);
    if (cr_store_open(dir, &o, &s, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "open: %s", err.msg);
    return s;
}

static struct cr_audit *
open_log(struct cr_store *s)
{
    struct cr_audit *log = NULL;
    struct cr_err err;

    cr_err_clear(&err);
    if (cr_audit_open(s, NULL, &log, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "audit open: %s", err.msg);
    return log;
}

/* Record number i: fields vary with i so columns and queries differ. */
static void
mkrec(struct cr_audit_rec *r, int i)
{
    cr_audit_rec_init(r);
    r->time_ms = T0 + (int64_t)i * 1000;
    r->request_id = "req";
    r->client = "127.0.0.1";
    r->sub = subs[i % 2];
    r->name = "Dr Test";
    r->org = orgs[(i / 2) % 2];
    r->role = "R8000";
    r->purpose = "direct-care";
    r->action = (enum cr_audit_action)(i % CR_AUDIT_ACTION__COUNT);
    r->outcome = (enum cr_audit_outcome)(i % CR_AUDIT_OUTCOME__COUNT);
    r->status = r->outcome == CR_AUDIT_DENIED ? 403 : 200;
    r->patient = patients[i % 3];
    r->alerts = (uint32_t)(i % 4);
}

static void
append_n(struct cr_audit *log, int from, int n)
{
    struct cr_audit_rec r;
    struct cr_err err;
    int i;

    for (i = from; i < from + n; i++) {
        mkrec(&r, i);
        cr_err_clear(&err);
        if (cr_audit_append(log, &r, NULL, &err) != CR_OK)
            cr_unit_fail(__FILE__, __LINE__, "append %d: %s", i, err.msg);
    }
}

/* A closed store in 'dir' holding records 0..n-1. */
static void
build_log(const char *dir, int n)
{
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s);

    append_n(log, 0, n);
    cr_audit_close(log);
    cr_store_close(s);
}

static void
exec_sql(const char *dir, const char *sql)
{
    char path[512];
    sqlite3 *db = NULL;
    char *msg = NULL;

    snprintf(path, sizeof path, "%s/carerecord.db", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        cr_unit_fail(__FILE__, __LINE__, "open %s", path);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        cr_unit_fail(__FILE__, __LINE__, "%s: %s", sql, msg);
    sqlite3_close(db);
}

static struct cr_audit_verdict
verify_dir(const char *dir, const struct cr_audit_anchor *x)
{
    struct cr_audit_verdict v;
    struct cr_err err;

    cr_err_clear(&err);
    if (cr_audit_verify_dir(dir, x, &v, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "verify: %s", err.msg);
    return v;
}

#define CHECK_BROKEN(v, seq, text)                                         \
    do {                                                                   \
        CHECK(!(v).is_intact);                                             \
        CHECK_EQ_INT((v).broken_seq, (seq));                               \
        if (strstr((v).what, (text)) == NULL)                              \
            cr_unit_fail(__FILE__, __LINE__, "'%s' lacks '%s'", (v).what,  \
                         (text));                                          \
    } while (0)

/* ---- the record ---- */

TEST(canonical_text_is_fixed)
{
    struct cr_buf b = cr_buf_make(0), refs = cr_buf_make(0);
    struct cr_principal p;
    struct cr_audit_rec r;

    memset(&p, 0, sizeof p);
    snprintf(p.sub, sizeof p.sub, "u1");
    snprintf(p.name, sizeof p.name, "Dr \"Q\"\nA\xc3\xa9\xff");
    snprintf(p.org, sizeof p.org, "RR8");
    snprintf(p.role, sizeof p.role, "R8000");
    snprintf(p.purpose, sizeof p.purpose, "emergency");
    snprintf(p.reason, sizeof p.reason, "collapsed");
    cr_audit_rec_init(&r);
    cr_audit_rec_set_principal(&r, &p);
    r.time_ms = 1700000000123LL;
    r.request_id = "r-1";
    r.client = "10.0.0.1";
    r.action = CR_AUDIT_EVERYTHING;
    r.outcome = CR_AUDIT_FILTERED;
    r.status = 200;
    r.patient = "pat1";
    cr_audit_refs_add(&refs, "Patient", "pat1", 3);
    cr_audit_refs_add(&refs, "Observation", "o1", 0);
    CHECK_EQ_INT(refs.rc, CR_OK);
    r.resources = cr_buf_str(&refs);
    r.alerts = CR_AUDIT_ALERT_EMERGENCY | CR_AUDIT_ALERT_STUDENT |
               CR_AUDIT_ALERT_VOLUME;
    r.basis = "emergency";
    r.rule = "sensitive";
    r.withheld = 2;
    r.supervisor = "sup1";
    r.node = "node-a";
    r.via = "node-b";
    CHECK_EQ_INT(cr_audit_rec_write(&r, &b), CR_OK);
    CHECK_EQ_STR(b.ptr,
                 "{\"v\":1,\"time\":1700000000123,\"request\":\"r-1\","
                 "\"client\":\"10.0.0.1\",\"agent\":{\"sub\":\"u1\","
                 "\"name\":\"Dr \\\"Q\\\"\\nA\xc3\xa9\\ufffd\","
                 "\"org\":\"RR8\",\"role\":\"R8000\"},"
                 "\"purpose\":\"emergency\",\"reason\":\"collapsed\","
                 "\"action\":\"everything\",\"outcome\":\"filtered\","
                 "\"status\":200,\"patient\":\"pat1\",\"resources\":["
                 "\"Patient/pat1/_history/3\",\"Observation/o1\"],"
                 "\"alerts\":[\"emergency\",\"student\",\"volume\"],"
                 "\"basis\":\"emergency\",\"rule\":\"sensitive\","
                 "\"withheld\":2,\"supervisor\":\"sup1\","
                 "\"node\":\"node-a\",\"via\":\"node-b\"}");
    /* Same record, same bytes. */
    {
        struct cr_buf b2 = cr_buf_make(0);
        CHECK_EQ_INT(cr_audit_rec_write(&r, &b2), CR_OK);
        CHECK_EQ_STR(b2.ptr, b.ptr);
        cr_buf_free(&b2);
    }
    /* Empty members are left out; the agent object stays. */
    cr_buf_reset(&b);
    cr_audit_rec_init(&r);
    r.time_ms = 5;
    r.action = CR_AUDIT_LOGIN_FAILURE;
    r.outcome = CR_AUDIT_DENIED;
    r.status = 401;
    r.client = "";
    CHECK_EQ_INT(cr_audit_rec_write(&r, &b), CR_OK);
    CHECK_EQ_STR(b.ptr, "{\"v\":1,\"time\":5,\"agent\":{},"
                        "\"action\":\"login-failure\",\"outcome\":\"denied\","
                        "\"status\":401}");
    /* An action out of range is refused. */
    cr_buf_reset(&b);
    r.action = CR_AUDIT_ACTION__COUNT;
    CHECK_EQ_INT(cr_audit_rec_write(&r, &b), CR_EINVAL);
    cr_buf_free(&b);
    cr_buf_free(&refs);
}

TEST(parse_round_trips)
{
    struct cr_buf b = cr_buf_make(0), b2 = cr_buf_make(0);
    struct cr_buf refs = cr_buf_make(0);
    struct cr_arena *a = cr_arena_create();
    struct cr_audit_rec r, back;
    struct cr_err err;
    int i;

    for (i = 0; i < 40; i++) {
        mkrec(&r, i);
        cr_buf_reset(&refs);
        if (i % 3 == 0) {
            cr_audit_refs_add(&refs, "Patient", "x\"y", i);
            cr_audit_refs_add(&refs, "Encounter", "e", 0);
        }
        r.resources = cr_buf_str(&refs);
        r.reason = i % 2 ? "tab\there" : NULL;
        r.basis = i % 5 == 0 ? "relationship" : NULL;
        r.rule = i % 7 == 0 ? "no-relationship" : NULL;
        r.withheld = i % 4;
        r.supervisor = i % 9 == 0 ? "sup" : NULL;
        r.alerts = (uint32_t)(i * 37) & ((1u << CR_AUDIT_ALERT__COUNT) - 1);
        cr_buf_reset(&b);
        cr_buf_reset(&b2);
        CHECK_EQ_INT(cr_audit_rec_write(&r, &b), CR_OK);
        cr_err_clear(&err);
        CHECK_EQ_INT(cr_audit_rec_parse(b.ptr, b.len, a, &back, &err), CR_OK);
        CHECK_EQ_INT(back.time_ms, r.time_ms);
        CHECK_EQ_INT(back.action, r.action);
        CHECK_EQ_INT(back.outcome, r.outcome);
        CHECK_EQ_INT(back.alerts, r.alerts);
        CHECK_EQ_STR(back.patient, r.patient);
        CHECK_EQ_STR(back.sub, r.sub);
        CHECK_EQ_INT(back.withheld, r.withheld);
        CHECK_EQ_INT(cr_audit_rec_write(&back, &b2), CR_OK);
        CHECK_EQ_STR(b2.ptr, b.ptr);
    }
    /* Not a record: refused with a reason. */
    CHECK_EQ_INT(cr_audit_rec_parse("{\"v\":1}", 7, a, &back, &err),
                 CR_EINVAL);
    CHECK_EQ_INT(cr_audit_rec_parse("{\"v\":1,\"time\":1,\"agent\":{},"
                                    "\"action\":\"peek\",\"outcome\":"
                                    "\"allowed\",\"status\":200}",
                                    strlen("{\"v\":1,\"time\":1,\"agent\":{},"
                                           "\"action\":\"peek\",\"outcome\":"
                                           "\"allowed\",\"status\":200}"),
                                    a, &back, &err),
                 CR_EINVAL);
    CHECK(strstr(err.msg, "action") != NULL);
    CHECK_EQ_INT(cr_audit_rec_parse("[", 1, a, &back, &err), CR_EINVAL);
    cr_arena_destroy(a);
    cr_buf_free(&b);
    cr_buf_free(&b2);
    cr_buf_free(&refs);
}

/* A review is a record of its own: its canonical text ends in the
 * review member, it parses back to the same bytes, and records without
 * one are written exactly as before. */
TEST(review_member_is_canonical_and_round_trips)
{
    static const char old_form[] =
        "{\"v\":1,\"time\":7,\"agent\":{\"sub\":\"po\",\"org\":\"RR8\"},"
        "\"purpose\":\"audit\",\"action\":\"audit-read\","
        "\"outcome\":\"allowed\",\"status\":200,\"patient\":\"p1\","
        "\"resources\":[\"AuditEvent/3\"],\"node\":\"n\"}";
    struct cr_buf b = cr_buf_make(0), b2 = cr_buf_make(0);
    struct cr_buf refs = cr_buf_make(0);
    struct cr_arena *a = cr_arena_create();
    struct cr_audit_rec r, back;
    struct cr_err err;
    const char *bad_bodies[] = {
        /* a review on a record that is not a review */
        "{\"v\":1,\"time\":1,\"agent\":{},\"action\":\"read\","
        "\"outcome\":\"allowed\",\"status\":200,\"review\":{\"seq\":3,"
        "\"outcome\":\"explained\"}}",
        /* an outcome we do not know */
        "{\"v\":1,\"time\":1,\"agent\":{},\"action\":\"review\","
        "\"outcome\":\"allowed\",\"status\":200,\"review\":{\"seq\":3,"
        "\"outcome\":\"fine\"}}",
        /* no record reviewed */
        "{\"v\":1,\"time\":1,\"agent\":{},\"action\":\"review\","
        "\"outcome\":\"allowed\",\"status\":200,\"review\":{\"seq\":0,"
        "\"outcome\":\"explained\"}}",
        /* a member the form does not have */
        "{\"v\":1,\"time\":1,\"agent\":{},\"action\":\"review\","
        "\"outcome\":\"allowed\",\"status\":200,\"review\":{\"seq\":3,"
        "\"outcome\":\"explained\",\"by\":\"x\"}}",
        /* not an object */
        "{\"v\":1,\"time\":1,\"agent\":{},\"action\":\"review\","
        "\"outcome\":\"allowed\",\"status\":200,\"review\":3}",
        /* unusual volume: a day that does not exist, no user, both forms */
        "{\"v\":1,\"time\":1,\"agent\":{},\"action\":\"review\","
        "\"outcome\":\"allowed\",\"status\":200,\"review\":{\"user\":"
        "\"u1\",\"day\":\"2025-02-30\",\"outcome\":\"explained\"}}",
        "{\"v\":1,\"time\":1,\"agent\":{},\"action\":\"review\","
        "\"outcome\":\"allowed\",\"status\":200,\"review\":{\"user\":"
        "\"\",\"day\":\"2025-02-03\",\"outcome\":\"explained\"}}",
        "{\"v\":1,\"time\":1,\"agent\":{},\"action\":\"review\","
        "\"outcome\":\"allowed\",\"status\":200,\"review\":{\"seq\":3,"
        "\"user\":\"u1\",\"day\":\"2025-02-03\",\"outcome\":"
        "\"explained\"}}",
        NULL,
    };
    int i;

    cr_audit_rec_init(&r);
    r.time_ms = 1700000000999LL;
    r.request_id = "r-9";
    r.sub = "po-1";
    r.name = "Priya Guard";
    r.org = "RR8";
    r.role = "R8008";
    r.purpose = "audit";
    r.action = CR_AUDIT_REVIEW;
    r.status = 200;
    r.patient = "p1";
    cr_audit_refs_add(&refs, "AuditEvent", "12", 0);
    r.resources = cr_buf_str(&refs);
    r.review.seq = 12;
    r.review.finding = CR_AUDIT_FINDING_EXPLAINED;
    r.review.note = "covering A&E \"nights\"\n";
    r.node = "node-a";
    CHECK_EQ_INT(cr_audit_rec_write(&r, &b), CR_OK);
    CHECK_EQ_STR(b.ptr,
                 "{\"v\":1,\"time\":1700000000999,\"request\":\"r-9\","
                 "\"agent\":{\"sub\":\"po-1\",\"name\":\"Priya Guard\","
                 "\"org\":\"RR8\",\"role\":\"R8008\"},\"purpose\":\"audit\","
                 "\"action\":\"review\",\"outcome\":\"allowed\",\"status\":200,"
                 "\"patient\":\"p1\",\"resources\":[\"AuditEvent/12\"],"
                 "\"node\":\"node-a\",\"review\":{\"seq\":12,"
                 "\"outcome\":\"explained\",\"note\":\"covering A&E "
                 "\\\"nights\\\"\\n\"}}");
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_audit_rec_parse(b.ptr, b.len, a, &back, &err), CR_OK);
    CHECK_EQ_INT(back.action, CR_AUDIT_REVIEW);
    CHECK_EQ_INT(back.review.seq, 12);
    CHECK_EQ_INT(back.review.finding, CR_AUDIT_FINDING_EXPLAINED);
    CHECK_EQ_STR(back.review.note, "covering A&E \"nights\"\n");
    CHECK_EQ_INT(cr_audit_rec_write(&back, &b2), CR_OK);
    CHECK_EQ_STR(b2.ptr, b.ptr);
    /* a member of staff's unusual volume on one UK day */
    r.review.seq = 0;
    r.review.user = "u-7";
    r.review.day = 20272;               /* 2025-07-03 */
    cr_buf_reset(&b);
    cr_buf_reset(&b2);
    CHECK_EQ_INT(cr_audit_rec_write(&r, &b), CR_OK);
    CHECK(strstr(b.ptr, ",\"review\":{\"user\":\"u-7\",\"day\":"
                        "\"2025-07-03\",\"outcome\":\"explained\"") != NULL);
    CHECK_EQ_INT(cr_audit_rec_parse(b.ptr, b.len, a, &back, &err), CR_OK);
    CHECK_EQ_INT(back.review.seq, 0);
    CHECK_EQ_STR(back.review.user, "u-7");
    CHECK_EQ_INT(back.review.day, 20272);
    CHECK_EQ_INT(cr_audit_rec_write(&back, &b2), CR_OK);
    CHECK_EQ_STR(b2.ptr, b.ptr);
    r.review.seq = 12;                  /* never both */
    cr_buf_reset(&b2);
    CHECK_EQ_INT(cr_audit_rec_write(&r, &b2), CR_EINVAL);
    r.review.user = NULL;
    cr_buf_reset(&b);
    cr_buf_reset(&b2);
    /* without a note */
    r.review.note = NULL;
    r.review.finding = CR_AUDIT_FINDING_INAPPROPRIATE;
    cr_buf_reset(&b);
    cr_buf_reset(&b2);
    CHECK_EQ_INT(cr_audit_rec_write(&r, &b), CR_OK);
    CHECK(strstr(b.ptr, ",\"review\":{\"seq\":12,\"outcome\":"
                        "\"inappropriate\"}}") != NULL);
    CHECK_EQ_INT(cr_audit_rec_parse(b.ptr, b.len, a, &back, &err), CR_OK);
    CHECK(back.review.note == NULL);
    CHECK_EQ_INT(cr_audit_rec_write(&back, &b2), CR_OK);
    CHECK_EQ_STR(b2.ptr, b.ptr);
    /* a refused review is a review record without the member */
    r.review.seq = 0;
    r.outcome = CR_AUDIT_FAILED;
    r.status = 409;
    cr_buf_reset(&b);
    CHECK_EQ_INT(cr_audit_rec_write(&r, &b), CR_OK);
    CHECK(strstr(b.ptr, "\"review\":{") == NULL);
    CHECK_EQ_INT(cr_audit_rec_parse(b.ptr, b.len, a, &back, &err), CR_OK);
    CHECK_EQ_INT(back.review.seq, 0);
    /* a review on another action, or an outcome out of range, is not
     * written */
    r.review.seq = 12;
    r.action = CR_AUDIT_READ;
    cr_buf_reset(&b);
    CHECK_EQ_INT(cr_audit_rec_write(&r, &b), CR_EINVAL);
    r.action = CR_AUDIT_REVIEW;
    r.review.finding = CR_AUDIT_FINDING__COUNT;
    cr_buf_reset(&b);
    CHECK_EQ_INT(cr_audit_rec_write(&r, &b), CR_EINVAL);
    /* a record made before reviews existed reads and writes as it was */
    CHECK_EQ_INT(cr_audit_rec_parse(old_form, strlen(old_form), a, &back,
                                    &err), CR_OK);
    CHECK_EQ_INT(back.review.seq, 0);
    cr_buf_reset(&b2);
    CHECK_EQ_INT(cr_audit_rec_write(&back, &b2), CR_OK);
    CHECK_EQ_STR(b2.ptr, old_form);
    for (i = 0; bad_bodies[i]; i++) {
        cr_err_clear(&err);
        CHECK_EQ_INT(cr_audit_rec_parse(bad_bodies[i], strlen(bad_bodies[i]),
                                        a, &back, &err), CR_EINVAL);
        CHECK(strstr(err.msg, "review") != NULL);
    }
    CHECK_EQ_STR(cr_audit_finding_code(CR_AUDIT_FINDING_ESCALATED),
                 "escalated");
    CHECK_EQ_STR(cr_audit_finding_code(CR_AUDIT_FINDING__COUNT), "");
    {
        enum cr_audit_finding f;
        CHECK(cr_audit_finding_parse("appropriate", &f));
        CHECK_EQ_INT(f, CR_AUDIT_FINDING_APPROPRIATE);
        CHECK(!cr_audit_finding_parse("Appropriate", &f));
        CHECK(!cr_audit_finding_parse(NULL, &f));
    }
    cr_arena_destroy(a);
    cr_buf_free(&b);
    cr_buf_free(&b2);
    cr_buf_free(&refs);
}

TEST(codes_and_anchor_parse)
{
    enum cr_audit_action act;
    enum cr_audit_outcome out;
    struct cr_audit_anchor x;
    int i;

    for (i = 0; i < CR_AUDIT_ACTION__COUNT; i++) {
        CHECK(cr_audit_action_parse(cr_audit_action_code(
                                        (enum cr_audit_action)i), &act));
        CHECK_EQ_INT(act, i);
    }
    CHECK_EQ_STR(cr_audit_action_code(CR_AUDIT_AUDIT_READ), "audit-read");
    CHECK_EQ_STR(cr_audit_outcome_code(CR_AUDIT_FILTERED), "filtered");
    CHECK(cr_audit_outcome_parse("denied", &out));
    CHECK_EQ_INT(out, CR_AUDIT_DENIED);
    CHECK(!cr_audit_outcome_parse("maybe", &out));
    CHECK_EQ_STR(cr_audit_alert_code(6), "out-of-hours");
    CHECK_EQ_STR(cr_audit_alert_code(8), "student");
    CHECK(cr_audit_alert_code(CR_AUDIT_ALERT__COUNT) == NULL);

    CHECK(cr_audit_anchor_parse("12:FC6CEE09194DD2578BD7664604FCB72A539066"
                                "FD34544CEA0009C43EB6CDC289", &x));
    CHECK_EQ_INT(x.seq, 12);
    CHECK_EQ_STR(x.hash, "fc6cee09194dd2578bd7664604fcb72a539066fd34544cea"
                         "0009c43eb6cdc289");
    CHECK(!cr_audit_anchor_parse("0:fc6cee09194dd2578bd7664604fcb72a539066"
                                 "fd34544cea0009c43eb6cdc289", &x));
    CHECK(!cr_audit_anchor_parse("12:fc6c", &x));
    CHECK(!cr_audit_anchor_parse("12fc6cee09194dd2578bd7664604fcb72a539066"
                                 "fd34544cea0009c43eb6cdc289", &x));
    CHECK(!cr_audit_anchor_parse("12:fc6cee09194dd2578bd7664604fcb72a539066"
                                 "fd34544cea0009c43eb6cdc289a", &x));
}

TEST(chain_hash_is_sha256_of_prev_and_body)
{
    char h[CR_STORE_AUDIT_HASH_LEN + 1];

    /* printf '%s%s' $(64 zeros) '{"a":1}' | sha256sum */
    CHECK_EQ_INT(cr_store_audit_hash(CR_STORE_AUDIT_GENESIS, "{\"a\":1}", 7,
                                     h),
                 CR_OK);
    CHECK_EQ_STR(h, "fc6cee09194dd2578bd7664604fcb72a539066fd34544cea0009c43"
                    "eb6cdc289");
}

/* ---- appending ---- */

struct write_ctx {
    struct cr_audit *log;
    const char *id;
    int rec_no;
    cr_rc fail_with;     /* return this after appending (CR_OK: succeed) */
    int64_t seq;
    useconds_t sleep_us;
    atomic_bool *started;
};

/* A write job: store a Patient and its audit record in one transaction. */
static cr_rc
put_and_audit(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct write_ctx *w = ctx;
    struct cr_store_put put;
    struct cr_audit_rec r;
    struct cr_buf refs = cr_buf_make(0);
    char json[128];
    cr_rc rc;

    if (w->started)
        atomic_store(w->started, true);
    if (w->sleep_us)
        usleep(w->sleep_us);
    if (w->id) {
        memset(&put, 0, sizeof put);
        snprintf(json, sizeof json, "{\"resourceType\":\"Patient\","
                 "\"id\":\"%s\"}", w->id);
        put.type = "Patient";
        put.id = w->id;
        put.version = 1;
        put.last_updated_ms = T0;
        put.json = json;
        put.len = strlen(json);
        put.patient = w->id;
        put.org = "RR8";
        put.op = "POST";
        rc = cr_store_txn_put(txn, &put, err);
        if (rc != CR_OK)
            return rc;
    }
    if (w->rec_no >= 0) {
        mkrec(&r, w->rec_no);
        r.action = CR_AUDIT_CREATE;
        r.outcome = CR_AUDIT_ALLOWED;
        r.status = 201;
        if (w->id) {
            r.patient = w->id;
            cr_audit_refs_add(&refs, "Patient", w->id, 1);
            r.resources = cr_buf_str(&refs);
        }
        rc = cr_audit_append_txn(w->log, txn, &r, &w->seq, err);
        cr_buf_free(&refs);
        if (rc != CR_OK)
            return rc;
    }
    if (w->fail_with != CR_OK)
        return cr_err_set(err, w->fail_with, "invalid", NULL, "job fails");
    return CR_OK;
}

struct collect {
    int n;
    int64_t seqs[64];
    char patients[64][16];
};

static cr_rc
collect_row(void *ctx, const struct cr_store_audit_entry *e)
{
    struct collect *c = ctx;

    if (c->n < 64) {
        c->seqs[c->n] = e->seq;
        snprintf(c->patients[c->n], sizeof c->patients[0], "%s",
                 e->patient ? e->patient : "");
    }
    c->n++;
    return CR_OK;
}

TEST(append_in_write_txn_commits_with_the_write)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s);
    struct write_ctx w;
    struct cr_store_audit_query q;
    struct cr_audit_verdict v;
    struct collect c;
    struct cr_err err;
    char head[CR_STORE_AUDIT_HASH_LEN + 1];
    int64_t head_seq = -1, next = -1;

    memset(&w, 0, sizeof w);
    w.log = log;
    w.id = "pw1";
    w.rec_no = 0;
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_store_write(s, put_and_audit, &w, &err), CR_OK);
    CHECK_EQ_INT(w.seq, 1);
    w.id = "pw2";
    w.rec_no = 1;
    CHECK_EQ_INT(cr_store_write(s, put_and_audit, &w, &err), CR_OK);
    CHECK_EQ_INT(w.seq, 2);
    /* The write fails (already exists): its record goes with it. */
    w.id = "pw2";
    w.rec_no = 2;
    CHECK_EQ_INT(cr_store_write(s, put_and_audit, &w, &err), CR_ECONFLICT);
    append_n(log, 3, 1);   /* the failure is recorded separately */

    CHECK_EQ_INT(cr_store_audit_head(s, &head_seq, head, &err), CR_OK);
    CHECK_EQ_INT(head_seq, 3);
    memset(&q, 0, sizeof q);
    q.patient = "pw2";
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next, &err),
                 CR_OK);
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_INT(c.seqs[0], 2);
    CHECK_EQ_INT(next, 0);

    CHECK_EQ_INT(cr_audit_verify(s, NULL, &v, &err), CR_OK);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 3);
    CHECK_EQ_STR(v.last_hash, head);
    cr_audit_close(log);
    cr_store_close(s);

    v = verify_dir(dir, NULL);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 3);
    CHECK_EQ_STR(v.last_hash, head);
}

/* Inside a write transaction, a query sees the records appended earlier
 * in the same transaction (a reader does not until the commit): what an
 * exactly-once check such as $audit-review's relies on. */
struct txn_query {
    struct cr_audit *log;
    struct cr_store *s;
    int in_txn;             /* records the in-transaction query saw */
    int on_reader;          /* ... and a reader, meanwhile */
};

static cr_rc
append_then_query(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct txn_query *t = ctx;
    struct cr_store_audit_query q;
    struct cr_audit_rec r;
    struct collect c;
    cr_rc rc;

    mkrec(&r, 3);
    rc = cr_audit_append_txn(t->log, txn, &r, NULL, err);
    if (rc != CR_OK)
        return rc;
    memset(&q, 0, sizeof q);
    q.after_seq = 2;
    memset(&c, 0, sizeof c);
    rc = cr_store_txn_audit_query(txn, &q, collect_row, &c, NULL, err);
    t->in_txn = c.n;
    if (rc != CR_OK)
        return rc;
    memset(&c, 0, sizeof c);
    rc = cr_store_audit_query(t->s, &q, collect_row, &c, NULL, err);
    t->on_reader = c.n;
    return rc;
}

TEST(query_in_a_write_txn_sees_its_own_appends)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    struct cr_audit *log = open_log(s);
    struct txn_query t = { log, s, -1, -1 };
    struct cr_store_audit_query q;
    struct collect c;
    struct cr_err err;

    append_n(log, 0, 3);
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_store_write(s, append_then_query, &t, &err), CR_OK);
    CHECK_EQ_INT(t.in_txn, 2);      /* seq 3 committed, seq 4 its own */
    CHECK_EQ_INT(t.on_reader, 1);   /* seq 3 only */
    memset(&q, 0, sizeof q);
    q.after_seq = 2;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, NULL, &err),
                 CR_OK);
    CHECK_EQ_INT(c.n, 2);
    cr_audit_close(log);
    cr_store_close(s);
}

TEST(reopen_continues_the_chain)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s;
    struct cr_audit *log;
    struct cr_audit_verdict v;

    build_log(dir, 3);
    s = open_store(dir);
    log = open_log(s);
    append_n(log, 3, 3);
    cr_audit_close(log);
    cr_store_close(s);
    v = verify_dir(dir, NULL);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 6);
    CHECK_EQ_INT(v.last_seq, 6);
}

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    int pending;
    int failed;
};

static void
on_done(void *ctx, cr_rc rc)
{
    struct waiter *w = ctx;

    pthread_mutex_lock(&w->m);
    w->pending--;
    if (rc != CR_OK)
        w->failed++;
    pthread_cond_broadcast(&w->c);
    pthread_mutex_unlock(&w->m);
}

static void
wait_all(struct waiter *w)
{
    pthread_mutex_lock(&w->m);
    while (w->pending > 0)
        pthread_cond_wait(&w->c, &w->m);
    pthread_mutex_unlock(&w->m);
}

static void
waiter_init(struct waiter *w)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->c, NULL);
}

TEST(async_appends_are_durable_when_done)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s);
    static struct cr_audit_async reqs[100];
    struct cr_audit_rec r;
    struct cr_audit_verdict v;
    struct waiter w;
    bool seen[101] = { false };
    int i;

    waiter_init(&w);
    for (i = 0; i < 100; i++) {
        cr_audit_async_init(&reqs[i]);
        mkrec(&r, i);
        pthread_mutex_lock(&w.m);
        w.pending++;
        pthread_mutex_unlock(&w.m);
        CHECK_EQ_INT(cr_audit_append_async(log, &r, &reqs[i], on_done, &w),
                     CR_OK);
    }
    wait_all(&w);
    CHECK_EQ_INT(w.failed, 0);
    for (i = 0; i < 100; i++) {
        CHECK(reqs[i].seq >= 1 && reqs[i].seq <= 100);
        CHECK(!seen[reqs[i].seq]);
        seen[reqs[i].seq] = true;
        cr_audit_async_release(&reqs[i]);
    }
    /* A bad record is refused before it is queued; done is not called. */
    cr_audit_async_init(&reqs[0]);
    mkrec(&r, 0);
    r.outcome = CR_AUDIT_OUTCOME__COUNT;
    CHECK_EQ_INT(cr_audit_append_async(log, &r, &reqs[0], on_done, &w),
                 CR_EINVAL);
    CHECK(reqs[0].err.msg[0] != '\0');
    cr_audit_async_release(&reqs[0]);
    cr_audit_close(log);
    cr_store_close(s);
    v = verify_dir(dir, NULL);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 100);
}

struct thread_arg {
    struct cr_audit *log;
    int base;
    int n;
};

/* Appends asynchronously in windows of 16, plus a blocking one now and
 * then, as a server thread would. */
static void *
appender(void *arg)
{
    struct thread_arg *t = arg;
    struct cr_audit_async reqs[16];
    struct cr_audit_rec r;
    struct cr_err err;
    struct waiter w;
    int i, k;

    waiter_init(&w);
    for (k = 0; k < 16; k++)
        cr_audit_async_init(&reqs[k]);
    for (i = 0; i < t->n; i += 16) {
        for (k = 0; k < 16 && i + k < t->n; k++) {
            mkrec(&r, t->base + i + k);
            r.sub = "threaded";
            pthread_mutex_lock(&w.m);
            w.pending++;
            pthread_mutex_unlock(&w.m);
            if (cr_audit_append_async(t->log, &r, &reqs[k], on_done, &w) !=
                CR_OK)
                return (void *)1;
        }
        wait_all(&w);
        if (w.failed)
            return (void *)1;
        mkrec(&r, t->base + i);
        r.sub = "blocking";
        cr_err_clear(&err);
        if (cr_audit_append(t->log, &r, NULL, &err) != CR_OK)
            return (void *)1;
    }
    for (k = 0; k < 16; k++)
        cr_audit_async_release(&reqs[k]);
    return NULL;
}

static cr_rc
count_row(void *ctx, const struct cr_store_audit_entry *e)
{
    (void)e;
    (*(int *)ctx)++;
    return CR_OK;
}

/* Every record 'q' finds, page by page ('q->limit' a page, newest first):
 * how many, and in how many pages (*out_pages, may be NULL). */
static int
count_pages(struct cr_store *s, struct cr_store_audit_query *q,
            int *out_pages)
{
    struct cr_err err;
    int64_t next = 0;
    int n = 0, pages = 0;

    cr_err_clear(&err);
    do {
        q->before_seq = next;
        CHECK_EQ_INT(cr_store_audit_query(s, q, count_row, &n, &next, &err),
                     CR_OK);
        pages++;
    } while (next != 0);
    if (out_pages)
        *out_pages = pages;
    return n;
}

TEST(eight_threads_append_concurrently)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s);
    struct thread_arg args[8];
    struct cr_store_audit_query q;
    struct cr_audit_verdict v;
    struct cr_err err;
    pthread_t th[8];
    int i, n, pages = 0;
    void *res;

    for (i = 0; i < 8; i++) {
        args[i].log = log;
        args[i].base = i * 1000;
        args[i].n = 320;
        pthread_create(&th[i], NULL, appender, &args[i]);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], &res);
        CHECK(res == NULL);
    }
    /* 320 async + 20 blocking per thread */
    memset(&q, 0, sizeof q);
    q.principal_sub = "threaded";
    q.limit = 500;
    n = count_pages(s, &q, &pages);
    cr_err_clear(&err);
    CHECK_EQ_INT(n, 8 * 320);
    CHECK_EQ_INT(pages, 6);
    CHECK_EQ_INT(cr_audit_verify(s, NULL, &v, &err), CR_OK);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 8 * 340);
    cr_audit_close(log);
    cr_store_close(s);
}

/* ---- rollbacks ---- */

struct async_job {
    struct write_ctx w;
    struct cr_store_async a;
    struct cr_err err;
    cr_rc rc;
    struct waiter *wt;
};

static void
job_done(void *ctx, cr_rc rc)
{
    struct async_job *j = ctx;

    j->rc = rc;
    on_done(j->wt, rc);
}

static void
queue_job(struct cr_store *s, struct async_job *j, struct waiter *wt)
{
    j->wt = wt;
    j->a.fn = put_and_audit;
    j->a.ctx = &j->w;
    j->a.err = &j->err;
    j->a.done = job_done;
    j->a.done_ctx = j;
    pthread_mutex_lock(&wt->m);
    wt->pending++;
    pthread_mutex_unlock(&wt->m);
    if (cr_store_write_async(s, &j->a) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "queue");
}

TEST(rollback_of_a_batch_keeps_the_chain)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s);
    static struct async_job jobs[4];
    atomic_bool started = false;
    struct cr_audit_verdict v;
    struct cr_err err;
    struct collect c;
    struct cr_store_audit_query q;
    struct waiter wt;
    int64_t next;
    int i;

    waiter_init(&wt);
    append_n(log, 100, 2);   /* records 1, 2: the head is cached */
    memset(jobs, 0, sizeof jobs);
    for (i = 0; i < 4; i++) {
        jobs[i].w.log = log;
        jobs[i].w.rec_no = -1;
    }
    /* Job 0 holds the writer, so jobs 1-3 share the next batch. */
    jobs[0].w.sleep_us = 200000;
    jobs[0].w.started = &started;
    queue_job(s, &jobs[0], &wt);
    while (!atomic_load(&started))
        usleep(1000);
    jobs[1].w.id = "ok1";       /* write + record 0 */
    jobs[1].w.rec_no = 0;
    jobs[2].w.id = "bad";       /* write + record 1, then fails */
    jobs[2].w.rec_no = 1;
    jobs[2].w.fail_with = CR_EINVAL;
    jobs[3].w.id = "ok2";       /* write + record 2 */
    jobs[3].w.rec_no = 2;
    for (i = 1; i < 4; i++)
        queue_job(s, &jobs[i], &wt);
    wait_all(&wt);
    CHECK_EQ_INT(jobs[1].rc, CR_OK);
    CHECK_EQ_INT(jobs[2].rc, CR_EINVAL);
    CHECK_EQ_INT(jobs[3].rc, CR_OK);
    /* Records 3 and 4 are those of ok1 and ok2; bad's was undone. */
    CHECK_EQ_INT(jobs[1].w.seq, 3);
    CHECK_EQ_INT(jobs[3].w.seq, 4);
    append_n(log, 102, 1);
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_audit_verify(s, NULL, &v, &err), CR_OK);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 5);
    memset(&q, 0, sizeof q);
    q.patient = "bad";
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next, &err),
                 CR_OK);
    CHECK_EQ_INT(c.n, 0);
    CHECK_EQ_INT(cr_store_read(s, "Patient", "bad", NULL, NULL, &err),
                 CR_ENOTFOUND);
    cr_audit_close(log);
    cr_store_close(s);
    v = verify_dir(dir, NULL);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 5);
}

/* One job: record A; in a savepoint record B, the first of a later hour,
 * and undo it (the hour's audit_hour entry goes too); record C in that
 * hour (which must make the entry again). */
static cr_rc
savepoint_job(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct cr_audit *log = ctx;
    struct cr_audit_rec r;
    cr_rc rc;

    mkrec(&r, 0);
    r.patient = "A";
    if ((rc = cr_audit_append_txn(log, txn, &r, NULL, err)) != CR_OK)
        return rc;
    if ((rc = cr_store_txn_begin(txn, err)) != CR_OK)
        return rc;
    r.patient = "B";
    r.time_ms = H0 + 7 * HOUR;
    if ((rc = cr_audit_append_txn(log, txn, &r, NULL, err)) != CR_OK)
        return rc;
    if ((rc = cr_store_txn_end(txn, false, err)) != CR_OK)
        return rc;
    r.patient = "C";
    r.time_ms = H0 + 7 * HOUR + 1;
    return cr_audit_append_txn(log, txn, &r, NULL, err);
}

TEST(rollback_of_a_savepoint_keeps_the_chain)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s);
    struct cr_store_audit_query q;
    struct cr_audit_verdict v;
    struct cr_err err;
    struct collect c;
    int64_t next;

    cr_err_clear(&err);
    CHECK_EQ_INT(cr_store_write(s, savepoint_job, log, &err), CR_OK);
    CHECK_EQ_INT(cr_audit_verify(s, NULL, &v, &err), CR_OK);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 2);
    memset(&q, 0, sizeof q);
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next, &err),
                 CR_OK);
    CHECK_EQ_INT(c.n, 2);
    CHECK_EQ_STR(c.patients[0], "C");
    CHECK_EQ_STR(c.patients[1], "A");
    q.since_ms = H0 + 7 * HOUR;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next, &err),
                 CR_OK);
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_STR(c.patients[0], "C");
    cr_audit_close(log);
    cr_store_close(s);
}

TEST(failed_job_alone_undoes_its_record)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s);
    struct cr_audit_verdict v;
    struct write_ctx w;
    struct cr_err err;

    append_n(log, 0, 2);
    memset(&w, 0, sizeof w);
    w.log = log;
    w.rec_no = 7;
    w.fail_with = CR_EIO;
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_store_write(s, put_and_audit, &w, &err), CR_EIO);
    CHECK_EQ_INT(cr_store_write(s, put_and_audit, &w, &err), CR_EIO);
    append_n(log, 2, 2);
    CHECK_EQ_INT(cr_audit_verify(s, NULL, &v, &err), CR_OK);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 4);
    cr_audit_close(log);
    cr_store_close(s);
}

/* The caller is told when a record could not be written (so the API can
 * withhold the data), and the chain survives the failure. */
TEST(failed_append_is_reported_and_the_chain_survives)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s);
    struct cr_audit_async req;
    struct cr_audit_verdict v;
    struct cr_audit_rec r;
    struct cr_err err;
    struct waiter w;
    int64_t seq = 0;

    waiter_init(&w);
    append_n(log, 0, 3);
    /* Storage refuses audit rows from now on (as a full disk would). */
    exec_sql(dir, "CREATE TRIGGER refuse BEFORE INSERT ON audit BEGIN "
                  "SELECT RAISE(ABORT, 'no space left'); END");
    mkrec(&r, 3);
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_audit_append(log, &r, &seq, &err), CR_EIO);
    CHECK(strstr(err.msg, "no space left") != NULL);
    cr_audit_async_init(&req);
    w.pending = 1;
    CHECK_EQ_INT(cr_audit_append_async(log, &r, &req, on_done, &w), CR_OK);
    wait_all(&w);
    CHECK_EQ_INT(w.failed, 1);
    CHECK_EQ_INT(req.seq, 0);
    CHECK(strstr(req.err.msg, "no space left") != NULL);
    exec_sql(dir, "DROP TRIGGER refuse");
    CHECK_EQ_INT(cr_audit_append(log, &r, &seq, &err), CR_OK);
    CHECK_EQ_INT(seq, 4);
    cr_audit_async_release(&req);
    CHECK_EQ_INT(cr_audit_verify(s, NULL, &v, &err), CR_OK);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 4);
    cr_audit_close(log);
    cr_store_close(s);
}

/* ---- reading ---- */

TEST(query_by_patient_agent_time_outcome_with_cursor)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    struct cr_audit *log = open_log(s);
    struct cr_store_audit_query q;
    struct cr_err err;
    struct collect c;
    int64_t next = 0, prev_seq = INT64_MAX;
    int total = 0, pages = 0, i;

    append_n(log, 0, 30);   /* seq = i + 1 */
    cr_err_clear(&err);
    /* patient p1: i = 1, 4, ..., 28: 10 records, pages of 4 */
    memset(&q, 0, sizeof q);
    q.patient = "p1";
    q.limit = 4;
    do {
        memset(&c, 0, sizeof c);
        q.before_seq = next;
        CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next,
                                          &err),
                     CR_OK);
        for (i = 0; i < c.n; i++) {
            CHECK(c.seqs[i] < prev_seq);   /* newest first, no repeats */
            CHECK_EQ_INT((c.seqs[i] - 1) % 3, 1);
            prev_seq = c.seqs[i];
        }
        total += c.n;
        pages++;
    } while (next != 0);
    CHECK_EQ_INT(total, 10);
    CHECK_EQ_INT(pages, 3);
    /* exactly a page's worth: no empty extra page */
    q.limit = 10;
    q.before_seq = 0;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next, &err),
                 CR_OK);
    CHECK_EQ_INT(c.n, 10);
    CHECK_EQ_INT(next, 0);
    /* agent: sub u0 in org RR8: i even and (i/2) even: i % 4 == 0 */
    memset(&q, 0, sizeof q);
    q.principal_sub = "u0";
    q.principal_org = "RR8";
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next, &err),
                 CR_OK);
    CHECK_EQ_INT(c.n, 8);
    /* time: [T0 + 10 s, T0 + 20 s): i = 10 .. 19 */
    memset(&q, 0, sizeof q);
    q.since_ms = T0 + 10000;
    q.until_ms = T0 + 20000;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next, &err),
                 CR_OK);
    CHECK_EQ_INT(c.n, 10);
    CHECK_EQ_INT(c.seqs[0], 20);
    CHECK_EQ_INT(c.seqs[9], 11);
    /* outcome denied: i % 4 == 2; with action */
    memset(&q, 0, sizeof q);
    q.outcome = "denied";
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next, &err),
                 CR_OK);
    CHECK_EQ_INT(c.n, 7);
    /* with an action: that of record 14 (denied); the actions cycle, so
     * which other records share it depends on how many actions there are */
    q.action = cr_audit_action_code(
        (enum cr_audit_action)(14 % CR_AUDIT_ACTION__COUNT));
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next, &err),
                 CR_OK);
    {
        int want = 0, newest = 0;
        for (i = 0; i < 30; i++)
            if (i % CR_AUDIT_ACTION__COUNT == 14 % CR_AUDIT_ACTION__COUNT &&
                i % 4 == 2) {
                want++;
                newest = i + 1;
            }
        CHECK(want >= 1);
        CHECK_EQ_INT(c.n, want);
        CHECK_EQ_INT(c.seqs[0], newest);
    }
    /* after_seq bounds from below: patient p1 above seq 20 is i = 22, 25,
     * 28 (seq 23, 26, 29) */
    memset(&q, 0, sizeof q);
    q.patient = "p1";
    q.after_seq = 20;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next, &err),
                 CR_OK);
    CHECK_EQ_INT(c.n, 3);
    CHECK_EQ_INT(c.seqs[0], 29);
    CHECK_EQ_INT(c.seqs[2], 23);
    /* both bounds: exactly one record */
    memset(&q, 0, sizeof q);
    q.after_seq = 6;
    q.before_seq = 8;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, &next, &err),
                 CR_OK);
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_INT(c.seqs[0], 7);
    cr_audit_close(log);
    cr_store_close(s);
}

/* ---- where each hour starts (audit_hour) ---- */

/* Append one record per time in 'times' (record i gets patient p(i%3)). */
static void
append_at(struct cr_audit *log, const int64_t *times, int n)
{
    struct cr_audit_rec r;
    struct cr_err err;
    int i;

    for (i = 0; i < n; i++) {
        mkrec(&r, i);
        r.time_ms = times[i];
        cr_err_clear(&err);
        if (cr_audit_append(log, &r, NULL, &err) != CR_OK)
            cr_unit_fail(__FILE__, __LINE__, "append %d: %s", i, err.msg);
    }
}

/* How many records a query from 'since' (and before 'until' if not 0)
 * finds, and how many of 'times' it should. */
static void
check_since(struct cr_store *s, const int64_t *times, int n, int64_t since,
            int64_t until, const char *patient)
{
    struct cr_store_audit_query q;
    int want = 0, got, i;

    for (i = 0; i < n; i++)
        if (times[i] >= since && (until == 0 || times[i] < until) &&
            (patient == NULL || strcmp(patient, patients[i % 3]) == 0))
            want++;
    memset(&q, 0, sizeof q);
    q.since_ms = since;
    q.until_ms = until;
    q.patient = patient;
    q.limit = 7;
    got = count_pages(s, &q, NULL);
    if (got != want)
        cr_unit_fail(__FILE__, __LINE__, "since %lld until %lld patient %s: "
                     "%d records, want %d", (long long)(since - H0),
                     (long long)(until ? until - H0 : 0),
                     patient ? patient : "-", got, want);
}

/* Records out of time order too: one stamped in the first hour but
 * appended after the third hour began (a long request's record), and a
 * clock that stepped back. Every search from a time finds exactly the
 * records at or after it, whatever their place in the log. */
TEST(query_from_a_time_finds_records_appended_out_of_order)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    struct cr_audit *log = open_log(s);
    const int64_t times[] = {
        H0 + 10, H0 + 1000, H0 + HOUR - 1, H0 + HOUR, H0 + HOUR + 5,
        H0 + 2 * HOUR + 7, H0 + 500,           /* late: the first hour */
        H0 + 2 * HOUR + 9, H0 + 3 * HOUR,
        H0 + HOUR + 50,                         /* the clock stepped back */
        H0 + 3 * HOUR + 1, H0 + 5 * HOUR,
    };
    const int n = (int)(sizeof times / sizeof times[0]);
    const int64_t since[] = { 0, H0, H0 + 11, H0 + 501, H0 + HOUR - 1,
                              H0 + HOUR, H0 + HOUR + 6, H0 + 2 * HOUR,
                              H0 + 3 * HOUR, H0 + 4 * HOUR, H0 + 5 * HOUR,
                              H0 + 5 * HOUR + 1, H0 + 9 * HOUR };
    size_t i;

    append_at(log, times, n);
    for (i = 0; i < sizeof since / sizeof since[0]; i++) {
        check_since(s, times, n, since[i], 0, NULL);
        check_since(s, times, n, since[i], since[i] + HOUR, NULL);
        check_since(s, times, n, since[i], 0, "p0");
        check_since(s, times, n, since[i], 0, "p1");
    }
    cr_audit_close(log);
    cr_store_close(s);
}

/* The search from a time starts where audit_hour says: an entry moved
 * later hides records from it, and verify names the first record that
 * shows it; an entry removed likewise. */
TEST(verify_finds_an_altered_hour_entry)
{
    const char *dir = cr_unit_tmpdir();
    const int64_t times[] = { H0 + 1, H0 + 2, H0 + HOUR + 1, H0 + 3 };
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s);
    struct cr_audit_verdict v;
    char sql[160];

    append_at(log, times, 4);
    cr_audit_close(log);
    cr_store_close(s);
    v = verify_dir(dir, NULL);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 4);

    snprintf(sql, sizeof sql, "UPDATE audit_hour SET first_seq=2 WHERE "
             "hour=%lld", (long long)(H0 / HOUR));
    exec_sql(dir, sql);
    s = open_store(dir);
    {
        struct cr_store_audit_query q;
        struct cr_err err;
        struct collect c;

        memset(&q, 0, sizeof q);
        q.since_ms = H0;
        memset(&c, 0, sizeof c);
        cr_err_clear(&err);
        CHECK_EQ_INT(cr_store_audit_query(s, &q, collect_row, &c, NULL,
                                          &err),
                     CR_OK);
        CHECK_EQ_INT(c.n, 3);       /* record 1 is hidden */
        CHECK_EQ_INT(c.seqs[2], 2);
    }
    cr_store_close(s);
    v = verify_dir(dir, NULL);
    CHECK_BROKEN(v, 1, "audit_hour says its hour starts at record 2");

    snprintf(sql, sizeof sql, "DELETE FROM audit_hour WHERE hour=%lld",
             (long long)(H0 / HOUR + 1));
    exec_sql(dir, "UPDATE audit_hour SET first_seq=1");
    exec_sql(dir, sql);
    v = verify_dir(dir, NULL);
    CHECK_BROKEN(v, 3, "its hour has no entry in audit_hour");
}

/* A store from before audit_hour (schema 7) gets it filled from its
 * records when opened. */
TEST(hour_entries_are_made_for_an_older_store)
{
    const char *dir = cr_unit_tmpdir();
    const int64_t times[] = { H0 + 1, H0 + HOUR, H0 + 2, H0 + 2 * HOUR };
    struct cr_store *s = open_store(dir);
    struct cr_audit *log = open_log(s);
    struct cr_audit_verdict v;

    append_at(log, times, 4);
    cr_audit_close(log);
    cr_store_close(s);
    exec_sql(dir, "DROP TABLE audit_hour; PRAGMA user_version=7;");
    v = verify_dir(dir, NULL);          /* read as it is: no hour check */
    CHECK(v.is_intact);
    s = open_store(dir);
    check_since(s, times, 4, H0 + 2, 0, NULL);
    check_since(s, times, 4, H0 + HOUR, 0, NULL);
    cr_store_close(s);
    v = verify_dir(dir, NULL);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 4);
}

TEST(verify_missing_store_and_empty_log)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_verdict v;
    struct cr_err err;
    struct cr_store *s;

    cr_err_clear(&err);
    CHECK_EQ_INT(cr_audit_verify_dir(dir, NULL, &v, &err), CR_ENOTFOUND);
    CHECK(strstr(err.msg, "no store") != NULL);
    s = open_store(dir);
    cr_store_close(s);
    v = verify_dir(dir, NULL);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 0);
    CHECK_EQ_STR(v.last_hash, CR_STORE_AUDIT_GENESIS);
}

/* ---- tampering with the file ---- */

TEST(tamper_edited_body)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_verdict v;

    build_log(dir, 10);
    CHECK(verify_dir(dir, NULL).is_intact);
    exec_sql(dir, "UPDATE audit SET body=replace(body,'\"status\":200',"
                  "'\"status\":201') WHERE seq=5");
    v = verify_dir(dir, NULL);
    CHECK_BROKEN(v, 5, "altered: its stored hash does not match");
    CHECK_EQ_INT(v.nrecords, 4);
}

TEST(tamper_edited_hash)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_verdict v;

    build_log(dir, 10);
    exec_sql(dir, "UPDATE audit SET hash=(SELECT hash FROM audit WHERE "
                  "seq=9) WHERE seq=5");
    v = verify_dir(dir, NULL);
    CHECK_BROKEN(v, 5, "altered");
}

TEST(tamper_deleted_middle_row)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_verdict v;

    build_log(dir, 10);
    exec_sql(dir, "DELETE FROM audit WHERE seq=5");
    v = verify_dir(dir, NULL);
    CHECK_BROKEN(v, 5, "missing: the next record present is 6");
    /* ... and renumbering the rest to close the gap does not hide it */
    exec_sql(dir, "UPDATE audit SET seq=seq-1 WHERE seq>5");
    v = verify_dir(dir, NULL);
    CHECK_BROKEN(v, 5, "does not follow record 4");
}

TEST(tamper_swapped_rows)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_verdict v;

    /* bodies swapped */
    build_log(dir, 10);
    exec_sql(dir, "UPDATE audit SET body=CASE seq WHEN 4 THEN (SELECT body "
                  "FROM audit WHERE seq=5) ELSE (SELECT body FROM audit "
                  "WHERE seq=4) END WHERE seq IN (4,5)");
    v = verify_dir(dir, NULL);
    CHECK_BROKEN(v, 4, "altered");
    /* whole rows swapped (every column but seq): each row is itself
     * sound, but the order is not */
    exec_sql(dir, "DELETE FROM audit");
    {
        struct cr_store *s = open_store(dir);
        struct cr_audit *log = open_log(s);
        append_n(log, 0, 10);
        cr_audit_close(log);
        cr_store_close(s);
    }
    CHECK(verify_dir(dir, NULL).is_intact);
    exec_sql(dir, "UPDATE audit SET seq=-4 WHERE seq=4;"
                  "UPDATE audit SET seq=4 WHERE seq=5;"
                  "UPDATE audit SET seq=5 WHERE seq=-4;");
    v = verify_dir(dir, NULL);
    CHECK_BROKEN(v, 4, "does not follow record 3");
}

TEST(tamper_edited_index_column)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_verdict v;

    build_log(dir, 10);
    /* Hiding a record from the patient's view without touching the
     * hashed body is caught too. */
    exec_sql(dir, "UPDATE audit SET patient='someone-else' WHERE seq=3");
    v = verify_dir(dir, NULL);
    CHECK_BROKEN(v, 3, "column patient does not match");
}

TEST(tamper_deleted_last_row_needs_an_anchor)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_anchor x;
    struct cr_audit_verdict v;

    build_log(dir, 10);
    v = verify_dir(dir, NULL);
    CHECK(v.is_intact);
    x.seq = v.last_seq;
    memcpy(x.hash, v.last_hash, sizeof x.hash);
    CHECK(verify_dir(dir, &x).is_intact);
    exec_sql(dir, "DELETE FROM audit WHERE seq=10");
    /* The chain alone cannot tell: documented limitation. */
    v = verify_dir(dir, NULL);
    CHECK(v.is_intact);
    CHECK_EQ_INT(v.nrecords, 9);
    /* Against the head known from outside, it can. */
    v = verify_dir(dir, &x);
    CHECK_BROKEN(v, 10, "removed from the end");
}

TEST(tamper_rewritten_chain_needs_an_anchor)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_audit_anchor x;
    struct cr_audit_verdict v;
    char path[512], prev[CR_STORE_AUDIT_HASH_LEN + 1];
    sqlite3 *db;
    sqlite3_stmt *st;
    int seq;

    build_log(dir, 6);
    v = verify_dir(dir, NULL);
    x.seq = 4;
    {
        /* the hash of record 4, as an operator would have kept it */
        struct cr_audit_verdict v4;
        exec_sql(dir, "CREATE TABLE keep AS SELECT * FROM audit WHERE "
                      "seq>4; DELETE FROM audit WHERE seq>4");
        v4 = verify_dir(dir, NULL);
        memcpy(x.hash, v4.last_hash, sizeof x.hash);
        exec_sql(dir, "INSERT INTO audit SELECT * FROM keep; DROP TABLE "
                      "keep");
    }
    CHECK(verify_dir(dir, &x).is_intact);
    /* Someone with the file edits record 2 and rehashes every record from
     * there: the chain is sound again ... */
    snprintf(path, sizeof path, "%s/carerecord.db", dir);
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "UPDATE audit SET body=replace(body,"
                                  "'\"status\":200','\"status\":299') "
                                  "WHERE seq=2", NULL, NULL, NULL),
                 SQLITE_OK);
    memcpy(prev, CR_STORE_AUDIT_GENESIS, sizeof prev);
    for (seq = 1; seq <= 6; seq++) {
        char h[CR_STORE_AUDIT_HASH_LEN + 1];
        const char *body;
        CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT body FROM audit WHERE "
                                            "seq=?1", -1, &st, NULL),
                     SQLITE_OK);
        sqlite3_bind_int(st, 1, seq);
        CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
        body = (const char *)sqlite3_column_text(st, 0);
        CHECK_EQ_INT(cr_store_audit_hash(prev, body, strlen(body), h), CR_OK);
        sqlite3_finalize(st);
        CHECK_EQ_INT(sqlite3_prepare_v2(db, "UPDATE audit SET prev_hash=?1,"
                                            "hash=?2 WHERE seq=?3",
                                        -1, &st, NULL),
                     SQLITE_OK);
        sqlite3_bind_text(st, 1, prev, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, h, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, seq);
        CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        memcpy(prev, h, sizeof prev);
    }
    sqlite3_close(db);
    CHECK(verify_dir(dir, NULL).is_intact);
    /* ... but not against a hash kept outside. */
    v = verify_dir(dir, &x);
    CHECK_BROKEN(v, 4, "the log was rewritten up to here");
}
