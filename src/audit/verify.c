/* verify.c: checking the audit log's hash chain, record by record.
 *
 * A walk in seq order recomputes each record's hash from its stored body
 * and its prev_hash, checks each prev_hash against the hash of the record
 * before, checks that seqs run 1, 2, 3 ... without a gap, that the
 * indexed columns say what the hashed body says and that audit_hour says
 * where each record's hour starts, and stops at the first
 * break with the seq and a sentence. What a chain cannot show by itself
 * (records cut off the end, a rewrite of the whole file) needs an anchor
 * from outside: docs/internals/audit.md. Depends on store/, core/. */
#include "audit/audit.h"
#include "audit/auditInt.h"
#include "core/u64map.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Returned by the walker to stop the scan at a break; never escapes. */
#define STOP CR_ECONFLICT

struct walker {
    const struct cr_audit_anchor *expect;
    struct cr_audit_verdict *out;
    int64_t next_seq;                           /* the seq expected next */
    char prev[CR_STORE_AUDIT_HASH_LEN + 1];     /* the hash it must link to */
    bool is_broken;
    struct cr_u64map hours;     /* hour -> seq of its first record */
    struct cr_err *err;
};

static cr_rc
broken(struct walker *w, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static cr_rc
broken(struct walker *w, int64_t seq, const char *fmt, ...)
{
    va_list ap;

    w->is_broken = true;
    w->out->is_intact = false;
    w->out->broken_seq = seq;
    va_start(ap, fmt);
    vsnprintf(w->out->what, sizeof w->out->what, fmt, ap);
    va_end(ap);
    return STOP;
}

static bool
col_eq(const char *column, const char *value)
{
    const char *c = column ? column : "";
    const char *v = value ? value : "";

    return strcmp(c, v) == 0;
}

/* The name of the first indexed column that does not say what the body
 * says, or NULL when they agree. 'why' gets a parse error. */
static const char *
column_mismatch(const struct cr_store_audit_entry *e, struct cr_err *why)
{
    struct cr_arena *a = cr_arena_create();
    struct cr_audit_rec rec;
    const char *bad = NULL;

    if (a == NULL)
        return "(out of memory)";
    if (cr_audit_rec_parse(e->body, e->len, a, &rec, why) != CR_OK)
        bad = "body";
    else if (e->time_ms != rec.time_ms)
        bad = "time";
    else if (!col_eq(e->patient, rec.patient))
        bad = "patient";
    else if (!col_eq(e->principal_sub, rec.sub))
        bad = "principal_sub";
    else if (!col_eq(e->principal_org, rec.org))
        bad = "principal_org";
    else if (!col_eq(e->action, cr_audit_action_code(rec.action)))
        bad = "action";
    else if (!col_eq(e->outcome, cr_audit_outcome_code(rec.outcome)))
        bad = "outcome";
    else if (e->alerts != (int64_t)rec.alerts)
        bad = "alerts";
    cr_arena_destroy(a);
    return bad;
}

/* Searches from a time start at the first record of that time's hour
 * (audit_hour): an entry that is missing or names a later record would
 * hide records from them, although the chain is whole. */
static cr_rc
check_hour(struct walker *w, const struct cr_store_audit_entry *e)
{
    uint64_t *first;
    bool is_new = false;

    if (e->hour_first_seq < 0)
        return CR_OK;           /* a store from before audit_hour */
    first = cr_u64map_slot(&w->hours, (uint64_t)(e->time_ms / 3600000),
                           &is_new);
    if (first == NULL)
        return cr_err_set(w->err, CR_ENOMEM, "exception", NULL,
                          "audit verify: out of memory");
    if (is_new)
        *first = (uint64_t)e->seq;
    if (e->hour_first_seq == 0)
        return broken(w, e->seq, "unindexed: its hour has no entry in "
                      "audit_hour, so searches by date miss it (the table "
                      "was altered)");
    if ((uint64_t)e->hour_first_seq != *first)
        return broken(w, e->seq, "unindexed: audit_hour says its hour "
                      "starts at record %lld, not %lld, so searches by date "
                      "can miss records (the table was altered)",
                      (long long)e->hour_first_seq, (long long)*first);
    return CR_OK;
}

static cr_rc
check_one(void *ctx, const struct cr_store_audit_entry *e)
{
    struct walker *w = ctx;
    char hash[CR_STORE_AUDIT_HASH_LEN + 1];
    struct cr_err why;
    const char *bad;
    cr_rc rc;

    if (e->seq < w->next_seq)
        return broken(w, e->seq, "out of place: seq %lld comes after %lld "
                      "(the table was altered)", (long long)e->seq,
                      (long long)w->next_seq - 1);
    if (e->seq > w->next_seq) {
        if (e->seq == w->next_seq + 1)
            return broken(w, w->next_seq, "missing: the next record present "
                          "is %lld (a record was deleted)",
                          (long long)e->seq);
        return broken(w, w->next_seq, "missing: records %lld to %lld are "
                      "gone (records were deleted)",
                      (long long)w->next_seq, (long long)e->seq - 1);
    }
    if (strlen(e->prev_hash) != CR_STORE_AUDIT_HASH_LEN ||
        strlen(e->hash) != CR_STORE_AUDIT_HASH_LEN)
        return broken(w, e->seq, "altered: its hash or prev_hash is not 64 "
                      "hex digits");
    rc = cr_store_audit_hash(e->prev_hash, e->body, e->len, hash);
    if (rc != CR_OK)
        return cr_err_set(w->err, rc, "exception", NULL,
                          "audit verify: SHA-256 failed");
    if (strcmp(hash, e->hash) != 0)
        return broken(w, e->seq, "altered: its stored hash does not match "
                      "its contents");
    if (strcmp(e->prev_hash, w->prev) != 0) {
        if (e->seq == 1)
            return broken(w, e->seq, "does not start the chain: its "
                          "prev_hash is not the genesis value");
        return broken(w, e->seq, "does not follow record %lld: its "
                      "prev_hash is not that record's hash (records were "
                      "removed, inserted, reordered or rehashed)",
                      (long long)e->seq - 1);
    }
    cr_err_clear(&why);
    bad = column_mismatch(e, &why);
    if (bad != NULL && strcmp(bad, "body") == 0)
        return broken(w, e->seq, "its contents are not an audit record: %s",
                      why.msg);
    if (bad != NULL)
        return broken(w, e->seq, "altered: column %s does not match the "
                      "hashed record", bad);
    if (w->expect && e->seq == w->expect->seq &&
        strcmp(e->hash, w->expect->hash) != 0)
        return broken(w, e->seq, "not the record expected: its hash is not "
                      "%s (the log was rewritten up to here)",
                      w->expect->hash);
    rc = check_hour(w, e);
    if (rc != CR_OK)
        return rc;
    w->out->nrecords++;
    w->out->last_seq = e->seq;
    memcpy(w->out->last_hash, e->hash, sizeof w->out->last_hash);
    memcpy(w->prev, e->hash, sizeof w->prev);
    w->next_seq++;
    return CR_OK;
}

static void
start(struct walker *w, const struct cr_audit_anchor *expect,
      struct cr_audit_verdict *out, struct cr_err *err)
{
    memset(out, 0, sizeof *out);
    out->is_intact = true;
    memcpy(out->last_hash, CR_STORE_AUDIT_GENESIS, sizeof out->last_hash);
    memset(w, 0, sizeof *w);
    w->expect = expect;
    w->out = out;
    w->next_seq = 1;
    memcpy(w->prev, CR_STORE_AUDIT_GENESIS, sizeof w->prev);
    w->hours = cr_u64map_make();
    w->err = err;
}

static cr_rc
finish(struct walker *w, cr_rc rc)
{
    const struct cr_audit_anchor *x = w->expect;

    cr_u64map_free(&w->hours);
    if (rc == STOP && w->is_broken)
        return CR_OK;
    if (rc != CR_OK)
        return rc;
    if (x && x->seq > w->out->last_seq)
        broken(w, w->out->last_seq + 1, "missing: the log ends at record "
               "%lld but record %lld was known, with hash %s (records were "
               "removed from the end)", (long long)w->out->last_seq,
               (long long)x->seq, x->hash);
    return CR_OK;
}

cr_rc
cr_audit_verify_dir(const char *dir, const struct cr_audit_anchor *expect,
                    struct cr_audit_verdict *out, struct cr_err *err)
{
    struct walker w;
    uint64_t pos = 0;
    int64_t jseq = 0;
    cr_rc rc;

    start(&w, expect, out, err);
    rc = finish(&w, cr_store_audit_scan_dir(dir, 0, check_one, &w, err));
    /* Records a node put in its journal and has not yet moved into the
     * chain (it was stopped hard, or it is moving them now): counted,
     * so they are not taken for missing. Not being able to count them
     * does not change what the chain showed. */
    if (rc == CR_OK &&
        cr_store_audit_journal_dir(dir, &jseq, &pos, NULL) == CR_OK)
        (void)cr_audit_journal_count_dir(dir, jseq, pos, &out->njournaled,
                                         NULL);
    return rc;
}

cr_rc
cr_audit_verify(struct cr_store *s, const struct cr_audit_anchor *expect,
                struct cr_audit_verdict *out, struct cr_err *err)
{
    struct walker w;

    start(&w, expect, out, err);
    return finish(&w, cr_store_audit_scan(s, 0, check_one, &w, err));
}

bool
cr_audit_anchor_parse(const char *s, struct cr_audit_anchor *out)
{
    int64_t seq = 0;
    size_t i;

    if (s == NULL || !(*s >= '1' && *s <= '9'))
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (seq > (INT64_MAX - 9) / 10)
            return false;
        seq = seq * 10 + (*s - '0');
    }
    if (*s++ != ':')
        return false;
    for (i = 0; i < CR_STORE_AUDIT_HASH_LEN; i++) {
        int v = cr_str_hexval(s[i]);
        if (v < 0)
            return false;
        out->hash[i] = "0123456789abcdef"[v];
    }
    if (s[i] != '\0')
        return false;
    out->hash[i] = '\0';
    out->seq = seq;
    return true;
}
