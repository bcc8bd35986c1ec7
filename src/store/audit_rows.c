/* audit_rows.c: the audit table: appending to the hash chain and reading.
 *
 * Rows are appended on the store's writer thread, inside the writer's
 * transaction, so an audit record shares the durability (WAL,
 * synchronous=FULL) and the group commit of every other write, and a write
 * and its record commit together. Each row's hash is SHA-256(prev_hash ||
 * body); the head of the chain (last seq and hash) is cached between
 * appends so an append is one plain INSERT. The cache is never trusted
 * blindly: the row's seq is left to SQLite (one more than the largest in
 * the table), and if that is not one more than the cached seq, the cache
 * was stale, which is what a rollback of the batch (writer.c: run_once) or
 * of a savepoint (cr_store_txn_end) leaves behind; then the row is linked
 * to the record really before it, in the same transaction, and the cache
 * follows. Checking the head with a read before every insert, or in the
 * INSERT itself, cost 1 to 7 microseconds per record; this costs nothing
 * on the common path. Reads (scan, query, head) run on pooled reader
 * connections or on a read-only connection of their own. The store does
 * not interpret bodies: audit/ makes and checks them.
 * Depends on SQLite, OpenSSL (EVP SHA-256), pthreads and core/. */
#include "store/storeInt.h"

#include <assert.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_COLS "seq,time,patient,principal_sub,principal_org,action," \
                   "outcome,alerts,body,prev_hash,hash"

/* seq is left out: SQLite gives one more than the largest in the table. */
static const char insert_sql[] =
    "INSERT INTO audit(time,patient,principal_sub,principal_org,action,"
    "outcome,alerts,body,prev_hash,hash) "
    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)";

/* The last record before seq ?1. */
static const char before_sql[] =
    "SELECT seq,hash FROM audit WHERE seq<?1 ORDER BY seq DESC LIMIT 1";

static const char relink_sql[] =
    "UPDATE audit SET prev_hash=?1,hash=?2 WHERE seq=?3";

static const char head_sql[] =
    "SELECT seq,hash FROM audit ORDER BY seq DESC LIMIT 1";

/* The first record of an hour: kept by the first append in that hour
 * (seqs only grow, so a later one never lowers it). */
static const char hour_sql[] =
    "INSERT OR IGNORE INTO audit_hour(hour,first_seq) VALUES(?1,?2)";

#define HOUR_MS 3600000

struct cr_store_audit {
    struct cr_store *store;
    /* Writer thread only (statements live on the writer's connection). */
    sqlite3 *db;                /* the connection they were prepared on */
    sqlite3_stmt *insert;
    sqlite3_stmt *before;
    sqlite3_stmt *relink;
    sqlite3_stmt *hour;
    bool has_head;
    /* The hour the last append found in audit_hour (or put there), so
     * appends within it skip the INSERT; trusted only while the head is
     * (a rollback that undid the row undid the cache's reason too). */
    bool has_hour;
    int64_t hour_known;
    int64_t head_seq;
    char head_hash[CR_STORE_AUDIT_HASH_LEN + 1];
    EVP_MD_CTX *md_ctx;
    EVP_MD *md;
};

static void
hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* hex(SHA-256(prev || body)) with a caller's context and digest. */
static cr_rc
chain_hash(EVP_MD_CTX *ctx, const EVP_MD *md, const char *prev,
           const char *body, size_t len, char out[CR_STORE_AUDIT_HASH_LEN + 1])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, prev, CR_STORE_AUDIT_HASH_LEN) != 1 ||
        EVP_DigestUpdate(ctx, body, len) != 1 ||
        EVP_DigestFinal_ex(ctx, digest, &n) != 1 ||
        n * 2 != CR_STORE_AUDIT_HASH_LEN)
        return CR_EIO;
    hex_encode(digest, n, out);
    return CR_OK;
}

cr_rc
cr_store_audit_hash(const char prev_hash[CR_STORE_AUDIT_HASH_LEN],
                    const char *body, size_t len,
                    char out[CR_STORE_AUDIT_HASH_LEN + 1])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    cr_rc rc;

    if (ctx == NULL)
        return CR_ENOMEM;
    rc = chain_hash(ctx, EVP_sha256(), prev_hash, body, len, out);
    EVP_MD_CTX_free(ctx);
    return rc;
}

cr_rc
cr_store_audit_open(struct cr_store *s, struct cr_store_audit **out,
                    struct cr_err *err)
{
    struct cr_store_audit *a = calloc(1, sizeof *a);

    if (a == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    a->store = s;
    a->md_ctx = EVP_MD_CTX_new();
    a->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (a->md_ctx == NULL || a->md == NULL) {
        EVP_MD_CTX_free(a->md_ctx);
        EVP_MD_free(a->md);
        free(a);
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "audit: SHA-256 is not available from OpenSSL");
    }
    *out = a;
    return CR_OK;
}

static void
finalize_stmts(struct cr_store_audit *a)
{
    sqlite3_finalize(a->insert);
    sqlite3_finalize(a->before);
    sqlite3_finalize(a->relink);
    sqlite3_finalize(a->hour);
    a->insert = a->before = a->relink = a->hour = NULL;
    a->db = NULL;
}

/* On the writer thread: its statements may be finalized without racing
 * an append. */
static cr_rc
close_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    (void)txn;
    (void)err;
    finalize_stmts(ctx);
    return CR_OK;
}

void
cr_store_audit_close(struct cr_store_audit *a)
{
    if (a == NULL)
        return;
    if (a->db != NULL) {
        /* Only reached with the writer gone when the caller broke the
         * contract (closed the store first); finalizing here is then the
         * lesser harm, as the writer no longer uses the connection. */
        if (cr_store_write(a->store, close_in_txn, a, NULL) != CR_OK)
            finalize_stmts(a);
    }
    EVP_MD_CTX_free(a->md_ctx);
    EVP_MD_free(a->md);
    free(a);
}

static cr_rc
prepare(struct cr_store_audit *a, struct conn *c, struct cr_err *err)
{
    if (a->db == c->db)
        return CR_OK;
    assert(a->db == NULL);   /* always the one writer connection */
    if (sqlite3_prepare_v3(c->db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT,
                           &a->insert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(c->db, before_sql, -1, SQLITE_PREPARE_PERSISTENT,
                           &a->before, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(c->db, relink_sql, -1, SQLITE_PREPARE_PERSISTENT,
                           &a->relink, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(c->db, hour_sql, -1, SQLITE_PREPARE_PERSISTENT,
                           &a->hour, NULL) != SQLITE_OK) {
        cr_rc rc = cr_store_sqlerr(c, "preparing the audit statements", err);
        finalize_stmts(a);
        return rc;
    }
    a->db = c->db;
    return CR_OK;
}

/* Make the cache the last record before seq 'before' (the genesis value
 * when there is none), read inside the writer's transaction. */
static cr_rc
load_head(struct cr_store_audit *a, struct conn *c, int64_t before,
          struct cr_err *err)
{
    sqlite3_stmt *st = a->before;
    cr_rc rc = CR_OK;
    int r;

    a->has_head = false;
    sqlite3_bind_int64(st, 1, before);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        const unsigned char *h = sqlite3_column_text(st, 1);
        if (h == NULL ||
            (size_t)sqlite3_column_bytes(st, 1) != CR_STORE_AUDIT_HASH_LEN) {
            rc = cr_err_set(err, CR_EIO, "exception", NULL,
                            "audit: record %lld's hash is damaged; run "
                            "'carerecord audit verify'",
                            (long long)sqlite3_column_int64(st, 0));
        } else {
            a->head_seq = sqlite3_column_int64(st, 0);
            memcpy(a->head_hash, h, CR_STORE_AUDIT_HASH_LEN + 1);
            a->has_head = true;
        }
    } else if (r == SQLITE_DONE) {
        a->head_seq = 0;
        memcpy(a->head_hash, CR_STORE_AUDIT_GENESIS,
               CR_STORE_AUDIT_HASH_LEN + 1);
        a->has_head = true;
    } else {
        rc = cr_store_sqlerr(c, "reading the audit head", err);
    }
    sqlite3_reset(st);
    return rc;
}

static void
bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL || *s == '\0')
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static cr_rc
hash_row(struct cr_store_audit *a, const struct cr_store_audit_row *row,
         char hash[CR_STORE_AUDIT_HASH_LEN + 1], struct cr_err *err)
{
    if (chain_hash(a->md_ctx, a->md, a->head_hash, row->body, row->len,
                   hash) != CR_OK)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "audit: SHA-256 failed");
    return CR_OK;
}

/* Insert 'row' linked to the cached head; *out_seq gets the seq SQLite
 * gave it. */
static cr_rc
insert(struct cr_store_audit *a, struct conn *c,
       const struct cr_store_audit_row *row,
       const char hash[CR_STORE_AUDIT_HASH_LEN + 1], int64_t *out_seq,
       struct cr_err *err)
{
    sqlite3_stmt *st = a->insert;
    int r;

    sqlite3_bind_int64(st, 1, row->time_ms);
    bind_opt(st, 2, row->patient);
    bind_opt(st, 3, row->principal_sub);
    bind_opt(st, 4, row->principal_org);
    sqlite3_bind_text(st, 5, row->action ? row->action : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 6, row->outcome ? row->outcome : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, row->alerts);
    sqlite3_bind_text(st, 8, row->body, (int)row->len, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, a->head_hash, CR_STORE_AUDIT_HASH_LEN,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 10, hash, CR_STORE_AUDIT_HASH_LEN, SQLITE_STATIC);
    r = sqlite3_step(st);
    *out_seq = sqlite3_last_insert_rowid(c->db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (r != SQLITE_DONE)
        return cr_store_sqlerr(c, "writing an audit record", err);
    return CR_OK;
}

/* The cache was stale: link the row at 'seq' to the record before it. */
static cr_rc
relink(struct cr_store_audit *a, struct conn *c, int64_t seq,
       const struct cr_store_audit_row *row,
       char hash[CR_STORE_AUDIT_HASH_LEN + 1], struct cr_err *err)
{
    sqlite3_stmt *st = a->relink;
    cr_rc rc;
    int r;

    rc = load_head(a, c, seq, err);
    if (rc != CR_OK)
        return rc;
    rc = hash_row(a, row, hash, err);
    if (rc != CR_OK)
        return rc;
    sqlite3_bind_text(st, 1, a->head_hash, CR_STORE_AUDIT_HASH_LEN,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, CR_STORE_AUDIT_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, seq);
    r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE || sqlite3_changes(c->db) != 1)
        return cr_store_sqlerr(c, "linking an audit record", err);
    return CR_OK;
}

/* Make sure audit_hour has 'hour', whose first record may be 'seq'. */
static cr_rc
note_hour(struct cr_store_audit *a, struct conn *c, int64_t hour, int64_t seq,
          struct cr_err *err)
{
    sqlite3_stmt *st = a->hour;
    int r;

    if (a->has_hour && a->hour_known == hour)
        return CR_OK;
    sqlite3_bind_int64(st, 1, hour);
    sqlite3_bind_int64(st, 2, seq);
    r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
        return cr_store_sqlerr(c, "writing where an hour of the audit log "
                               "starts", err);
    a->hour_known = hour;
    a->has_hour = true;
    return CR_OK;
}

cr_rc
cr_store_audit_append_txn(struct cr_store_txn *txn, struct cr_store_audit *a,
                          const struct cr_store_audit_row *row,
                          int64_t *out_seq,
                          char out_hash[CR_STORE_AUDIT_HASH_LEN + 1],
                          struct cr_err *err)
{
    char hash[CR_STORE_AUDIT_HASH_LEN + 1];
    int64_t seq = 0;
    cr_rc rc;

    assert(txn->store == a->store);
    if (row->body == NULL || row->len == 0 || row->len > INT32_MAX)
        return cr_err_set(err, CR_EINVAL, "invalid", NULL,
                          "audit: a record needs a body under 2 GB");
    rc = prepare(a, txn->c, err);
    if (rc == CR_OK && !a->has_head)
        rc = load_head(a, txn->c, INT64_MAX, err);
    if (rc == CR_OK)
        rc = hash_row(a, row, hash, err);
    if (rc == CR_OK)
        rc = insert(a, txn->c, row, hash, &seq, err);
    if (rc == CR_OK && seq != a->head_seq + 1) {
        a->has_hour = false;
        rc = relink(a, txn->c, seq, row, hash, err);
    }
    if (rc == CR_OK)
        rc = note_hour(a, txn->c, row->time_ms / HOUR_MS, seq, err);
    if (rc != CR_OK) {
        a->has_head = false;
        a->has_hour = false;
        return rc;
    }
    a->head_seq = seq;
    memcpy(a->head_hash, hash, sizeof hash);
    if (out_seq)
        *out_seq = seq;
    if (out_hash)
        memcpy(out_hash, hash, sizeof hash);
    return CR_OK;
}

static cr_rc
async_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct cr_store_audit_async *req = ctx;

    return cr_store_audit_append_txn(txn, req->audit, &req->row, &req->seq,
                                     req->hash, err);
}

cr_rc
cr_store_audit_append_async(struct cr_store_audit *a,
                            struct cr_store_audit_async *req)
{
    req->audit = a;
    req->seq = 0;
    req->hash[0] = '\0';
    req->job.fn = async_in_txn;
    req->job.ctx = req;
    req->job.err = req->err;
    req->job.done = req->done;
    req->job.done_ctx = req->done_ctx;
    return cr_store_write_async(a->store, &req->job);
}

/* ---- reading ---- */

static void
entry_from_row(sqlite3_stmt *st, struct cr_store_audit_entry *e)
{
    e->seq = sqlite3_column_int64(st, 0);
    e->time_ms = sqlite3_column_int64(st, 1);
    e->patient = (const char *)sqlite3_column_text(st, 2);
    e->principal_sub = (const char *)sqlite3_column_text(st, 3);
    e->principal_org = (const char *)sqlite3_column_text(st, 4);
    e->action = (const char *)sqlite3_column_text(st, 5);
    e->outcome = (const char *)sqlite3_column_text(st, 6);
    e->alerts = sqlite3_column_int64(st, 7);
    e->body = (const char *)sqlite3_column_text(st, 8);
    e->len = (size_t)sqlite3_column_bytes(st, 8);
    if (e->body == NULL)
        e->body = "";
    e->prev_hash = (const char *)sqlite3_column_text(st, 9);
    e->hash = (const char *)sqlite3_column_text(st, 10);
    if (e->prev_hash == NULL)
        e->prev_hash = "";
    if (e->hash == NULL)
        e->hash = "";
    /* column 11, in scans of a store that has audit_hour */
    e->hour_first_seq = sqlite3_column_count(st) > 11
                            ? sqlite3_column_int64(st, 11) : -1;
}

/* Step 'st' (already bound) and hand each row to fn. */
static cr_rc
walk(sqlite3 *db, sqlite3_stmt *st, cr_store_audit_fn fn, void *ctx,
     struct cr_err *err)
{
    struct cr_store_audit_entry e;
    cr_rc rc;
    int r;

    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        entry_from_row(st, &e);
        rc = fn(ctx, &e);
        if (rc != CR_OK)
            return rc;
    }
    if (r != SQLITE_DONE)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "store: reading the audit log: %s",
                          sqlite3_errmsg(db));
    return CR_OK;
}

static const char scan_sql[] =
    "SELECT " AUDIT_COLS " FROM audit WHERE seq>?1 ORDER BY seq";

/* The same with where each record's hour starts (0: nowhere), for verify:
 * a store from before audit_hour is scanned without it. */
static const char scan_hour_sql[] =
    "SELECT " AUDIT_COLS ",ifnull(first_seq,0) FROM audit LEFT JOIN "
    "audit_hour ON hour=time/3600000 WHERE seq>?1 ORDER BY seq";

static cr_rc
scan_db(sqlite3 *db, int64_t after_seq, cr_store_audit_fn fn, void *ctx,
        struct cr_err *err)
{
    sqlite3_stmt *st = NULL;
    bool has_hour = false;
    cr_rc rc;

    rc = cr_store_has_table(db, "audit_hour", &has_hour, err);
    if (rc != CR_OK)
        return rc;
    if (sqlite3_prepare_v2(db, has_hour ? scan_hour_sql : scan_sql, -1, &st,
                           NULL) != SQLITE_OK)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "store: reading the audit log: %s",
                          sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, after_seq);
    rc = walk(db, st, fn, ctx, err);
    sqlite3_finalize(st);
    return rc;
}

cr_rc
cr_store_audit_scan(struct cr_store *s, int64_t after_seq,
                    cr_store_audit_fn fn, void *ctx, struct cr_err *err)
{
    struct conn *c = NULL;
    cr_rc rc = cr_store_acquire(s, &c, err);

    if (rc != CR_OK)
        return rc;
    rc = scan_db(c->db, after_seq, fn, ctx, err);
    cr_store_release(s, c);
    return rc;
}

/* Open the store in 'dir' read-only and call 'read' on it if it has
 * 'table' (a store whose schema predates the table: nothing to read). */
static cr_rc
read_dir(const char *dir, const char *table,
         cr_rc (*read)(sqlite3 *db, void *ctx, struct cr_err *err),
         void *ctx, struct cr_err *err)
{
    sqlite3 *db = NULL;
    bool has_table = false;
    cr_rc rc;

    rc = cr_store_open_dir_ro(dir, &db, err);
    if (rc != CR_OK)
        return rc;
    rc = cr_store_has_table(db, table, &has_table, err);
    if (rc == CR_OK && has_table)
        rc = read(db, ctx, err);
    sqlite3_close(db);
    return rc;
}

struct scan_args {
    int64_t after_seq;
    cr_store_audit_fn fn;
    void *ctx;
};

static cr_rc
scan_read(sqlite3 *db, void *ctx, struct cr_err *err)
{
    struct scan_args *a = ctx;

    return scan_db(db, a->after_seq, a->fn, a->ctx, err);
}

cr_rc
cr_store_audit_scan_dir(const char *dir, int64_t after_seq,
                        cr_store_audit_fn fn, void *ctx, struct cr_err *err)
{
    struct scan_args a = { after_seq, fn, ctx };

    return read_dir(dir, "audit", scan_read, &a, err);
}

cr_rc
cr_store_audit_head(struct cr_store *s, int64_t *out_seq,
                    char out_hash[CR_STORE_AUDIT_HASH_LEN + 1],
                    struct cr_err *err)
{
    sqlite3_stmt *st = NULL;
    struct conn *c = NULL;
    cr_rc rc = cr_store_acquire(s, &c, err);
    int r;

    if (rc != CR_OK)
        return rc;
    if (sqlite3_prepare_v2(c->db, head_sql, -1, &st, NULL) != SQLITE_OK) {
        rc = cr_store_sqlerr(c, "reading the audit head", err);
        goto out;
    }
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        const unsigned char *h = sqlite3_column_text(st, 1);
        *out_seq = sqlite3_column_int64(st, 0);
        snprintf(out_hash, CR_STORE_AUDIT_HASH_LEN + 1, "%s",
                 h ? (const char *)h : "");
    } else if (r == SQLITE_DONE) {
        *out_seq = 0;
        memcpy(out_hash, CR_STORE_AUDIT_GENESIS, CR_STORE_AUDIT_HASH_LEN + 1);
    } else {
        rc = cr_store_sqlerr(c, "reading the audit head", err);
    }
out:
    sqlite3_finalize(st);
    cr_store_release(s, c);
    return rc;
}

static bool
is_set(const char *s)
{
    return s != NULL && *s != '\0';
}

/* The query 'q' on connection 'c' (a reader, or the writer inside its
 * transaction). */
static cr_rc
query_conn(struct conn *c, const struct cr_store_audit_query *q,
           cr_store_audit_fn fn, void *ctx, int64_t *out_next,
           struct cr_err *err)
{
    /* The SQL is assembled from these constant pieces only, by which
     * filters are set; every value is bound. The patient index's entries
     * end in the rowid (seq), so "ORDER BY seq DESC" needs no sort with
     * or without it; other filters are checked on a walk by seq.
     * A lower time bound also bounds seq: no record from ?6 on comes
     * before the first record of the hours from ?6's on (audit_hour), so
     * the walk stops there instead of at the first record of the log.
     * One statement, one snapshot. */
    static const char *const conds[] = {
        " AND patient=?1", " AND principal_sub=?2", " AND principal_org=?3",
        " AND action=?4", " AND outcome=?5",
        (" AND time>=?6 AND seq>=(SELECT ifnull(min(first_seq),"
         "9223372036854775807) FROM audit_hour WHERE hour>=?11)"),
        " AND time<?7", " AND seq>?10",
    };
    struct cr_store_audit_entry e;
    struct cr_buf sql = cr_buf_make(1024);
    sqlite3_stmt *st = NULL;
    int limit = q->limit > 0 ? q->limit : 100;
    int64_t next = 0;
    int n = 0, r;
    bool is_on[8];
    cr_rc rc = CR_OK;
    size_t i;

    is_on[0] = is_set(q->patient);
    is_on[1] = is_set(q->principal_sub);
    is_on[2] = is_set(q->principal_org);
    is_on[3] = is_set(q->action);
    is_on[4] = is_set(q->outcome);
    is_on[5] = q->since_ms != 0;
    is_on[6] = q->until_ms != 0;
    is_on[7] = q->after_seq > 0;
    cr_buf_adds(&sql, "SELECT " AUDIT_COLS " FROM audit WHERE seq<?8");
    for (i = 0; i < sizeof conds / sizeof conds[0]; i++)
        if (is_on[i])
            cr_buf_adds(&sql, conds[i]);
    cr_buf_adds(&sql, " ORDER BY seq DESC LIMIT ?9");
    if (sql.rc != CR_OK) {
        cr_buf_free(&sql);
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    }
    if (sqlite3_prepare_v2(c->db, sql.ptr, (int)sql.len, &st, NULL) !=
        SQLITE_OK) {
        rc = cr_store_sqlerr(c, "preparing an audit query", err);
        goto out;
    }
    if (is_on[0])
        sqlite3_bind_text(st, 1, q->patient, -1, SQLITE_STATIC);
    if (is_on[1])
        sqlite3_bind_text(st, 2, q->principal_sub, -1, SQLITE_STATIC);
    if (is_on[2])
        sqlite3_bind_text(st, 3, q->principal_org, -1, SQLITE_STATIC);
    if (is_on[3])
        sqlite3_bind_text(st, 4, q->action, -1, SQLITE_STATIC);
    if (is_on[4])
        sqlite3_bind_text(st, 5, q->outcome, -1, SQLITE_STATIC);
    if (is_on[5]) {
        sqlite3_bind_int64(st, 6, q->since_ms);
        sqlite3_bind_int64(st, 11, q->since_ms / HOUR_MS);
    }
    if (is_on[6])
        sqlite3_bind_int64(st, 7, q->until_ms);
    sqlite3_bind_int64(st, 8, q->before_seq > 0 ? q->before_seq : INT64_MAX);
    /* One row more than asked tells whether there is a next page; it is
     * not handed to fn. */
    sqlite3_bind_int64(st, 9, (int64_t)limit + 1);
    if (is_on[7])
        sqlite3_bind_int64(st, 10, q->after_seq);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        entry_from_row(st, &e);
        if (n == limit) {
            next = e.seq + 1;   /* the next page starts at this row */
            break;
        }
        n++;
        rc = fn(ctx, &e);
        if (rc != CR_OK)
            goto out;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        rc = cr_store_sqlerr(c, "reading the audit log", err);
        goto out;
    }
    if (out_next)
        *out_next = next;
out:
    sqlite3_finalize(st);
    cr_buf_free(&sql);
    return rc;
}

cr_rc
cr_store_audit_query(struct cr_store *s, const struct cr_store_audit_query *q,
                     cr_store_audit_fn fn, void *ctx, int64_t *out_next,
                     struct cr_err *err)
{
    struct conn *c = NULL;
    cr_rc rc = cr_store_acquire(s, &c, err);

    if (rc != CR_OK)
        return rc;
    rc = query_conn(c, q, fn, ctx, out_next, err);
    cr_store_release(s, c);
    return rc;
}

cr_rc
cr_store_txn_audit_query(struct cr_store_txn *txn,
                         const struct cr_store_audit_query *q,
                         cr_store_audit_fn fn, void *ctx, int64_t *out_next,
                         struct cr_err *err)
{
    return query_conn(txn->c, q, fn, ctx, out_next, err);
}

/* ---- the journal's position ---- */

static const char journal_get_sql[] =
    "SELECT jseq,pos FROM audit_journal WHERE one=1";

static cr_rc
journal_get_db(sqlite3 *db, int64_t *out_jseq, uint64_t *out_pos,
               struct cr_err *err)
{
    sqlite3_stmt *st = NULL;
    cr_rc rc = CR_OK;
    int r;

    *out_jseq = 0;
    *out_pos = 0;
    if (sqlite3_prepare_v2(db, journal_get_sql, -1, &st, NULL) != SQLITE_OK)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "store: reading the audit journal's position: %s",
                          sqlite3_errmsg(db));
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *out_jseq = sqlite3_column_int64(st, 0);
        *out_pos = (uint64_t)sqlite3_column_int64(st, 1);
    } else if (r != SQLITE_DONE) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "store: reading the audit journal's position: %s",
                        sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return rc;
}

cr_rc
cr_store_audit_journal_get(struct cr_store_txn *txn, int64_t *out_jseq,
                           uint64_t *out_pos, struct cr_err *err)
{
    return journal_get_db(txn->c->db, out_jseq, out_pos, err);
}

cr_rc
cr_store_audit_journal_set(struct cr_store_txn *txn, int64_t jseq,
                           uint64_t pos, struct cr_err *err)
{
    static const char sql[] =
        "INSERT OR REPLACE INTO audit_journal(one,jseq,pos) VALUES(1,?1,?2)";
    sqlite3_stmt *st = NULL;
    int r;

    if (pos > INT64_MAX)
        return cr_err_set(err, CR_EINVAL, "invalid", NULL,
                          "audit journal position out of range");
    if (sqlite3_prepare_v2(txn->c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return cr_store_sqlerr(txn->c, "recording the audit journal's "
                               "position", err);
    sqlite3_bind_int64(st, 1, jseq);
    sqlite3_bind_int64(st, 2, (int64_t)pos);
    r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r != SQLITE_DONE)
        return cr_store_sqlerr(txn->c, "recording the audit journal's "
                               "position", err);
    return CR_OK;
}

struct position_args {
    int64_t *jseq;
    uint64_t *pos;
};

static cr_rc
position_read(sqlite3 *db, void *ctx, struct cr_err *err)
{
    struct position_args *a = ctx;

    return journal_get_db(db, a->jseq, a->pos, err);
}

cr_rc
cr_store_audit_journal_dir(const char *dir, int64_t *out_jseq,
                           uint64_t *out_pos, struct cr_err *err)
{
    struct position_args a = { out_jseq, out_pos };

    *out_jseq = 0;
    *out_pos = 0;
    return read_dir(dir, "audit_journal", position_read, &a, err);
}
