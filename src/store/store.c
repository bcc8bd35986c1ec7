/* store.c: opening the store, the reader pool, reads and history.
 *
 * Readers take a pooled connection for the length of one call; each has
 * its own prepared statements. Writes are in writer.c. Depends on SQLite
 * and core/. */
#include "store/storeInt.h"

#include <stdatomic.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stmt_sql[ST__COUNT] = {
    [ST_READ] = "SELECT version,last_updated,seq,deleted,patient,org,node,"
                "json FROM resources WHERE type=?1 AND id=?2",
    [ST_VREAD_HIST] = "SELECT version,last_updated,seq,deleted,patient,org,"
                      "node,json FROM history WHERE type=?1 AND id=?2 AND "
                      "version=?3",
    [ST_CURRENT] = "SELECT version,last_updated,seq,deleted,patient,org,node"
                   " FROM resources WHERE type=?1 AND id=?2",
    [ST_PUT_RES] = "INSERT INTO resources(type,id,h,version,last_updated,"
                   "seq,deleted,patient,org,node,json,op) "
                   "VALUES(?1,?2,?11,?3,?4,?5,?6,?7,?8,?9,?10,?12) "
                   "ON CONFLICT(type,id) DO UPDATE SET "
                   "version=excluded.version,op=excluded.op,"
                   "last_updated=excluded.last_updated,seq=excluded.seq,"
                   "deleted=excluded.deleted,patient=excluded.patient,"
                   "org=excluded.org,node=excluded.node,json=excluded.json "
                   "RETURNING rid",
    [ST_MOVE_TO_HIST] = "INSERT INTO history(seq,type,id,version,"
                        "last_updated,deleted,patient,org,node,json,op) "
                        "SELECT seq,type,id,version,last_updated,deleted,"
                        "patient,org,node,json,op FROM resources "
                        "WHERE type=?1 AND id=?2",
    [ST_FIND_TOKEN] = "SELECT DISTINCT r.id FROM ix_token t JOIN resources r "
                      "ON r.rid=t.rid WHERE t.hsc=?1 ORDER BY r.id",
    [ST_FIND_TOKEN_ANY] = "SELECT DISTINCT r.id FROM ix_token t JOIN "
                          "resources r ON r.rid=t.rid WHERE t.hc=?1 "
                          "ORDER BY r.id",
    [ST_PATIENT_TYPE] = "SELECT id,version,last_updated,seq,deleted,patient,"
                        "org,node,json FROM resources WHERE patient=?1 AND "
                        "type=?2 AND deleted=0",
    [ST_BEGIN] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
};

cr_rc
cr_store_sqlerr(struct conn *c, const char *what, struct cr_err *err)
{
    /* A full disk is the operator's to fix and passes once they have:
     * 507 Insufficient Storage, saying so, rather than a bare 500. The
     * write was rolled back. */
    if (c && c->db && (sqlite3_errcode(c->db) & 0xff) == SQLITE_FULL) {
        cr_rc rc = cr_err_set(err, CR_EUNAVAILABLE, "exception", NULL,
                              "the node's disk is full, so nothing was "
                              "saved (store: %s); try again later, and "
                              "tell the node's operator: its data "
                              "directory needs free space", what);
        if (err)
            err->http_status = 507;
        return rc;
    }
    return cr_err_set(err, CR_EIO, "exception", NULL, "store: %s: %s", what,
                      c && c->db ? sqlite3_errmsg(c->db) : "cannot open");
}

cr_rc
cr_store_conn_open(struct cr_store *s, bool is_writer, struct conn **out,
                   struct cr_err *err)
{
    struct conn *c = calloc(1, sizeof *c);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                SQLITE_OPEN_NOMUTEX;
    cr_rc rc;

    if (c == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    if (sqlite3_open_v2(s->path, &c->db, flags, NULL) != SQLITE_OK) {
        rc = cr_store_sqlerr(c, "opening the database", err);
        goto fail;
    }
    sqlite3_busy_timeout(c->db, 10000);
    if (cr_store_register_hash(c->db) != SQLITE_OK) {
        rc = cr_store_sqlerr(c, "registering functions", err);
        goto fail;
    }
    if (sqlite3_exec(c->db,
                     "PRAGMA journal_mode=WAL;"
                     "PRAGMA synchronous=FULL;"
                     "PRAGMA temp_store=MEMORY;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = cr_store_sqlerr(c, "setting up the connection", err);
        goto fail;
    }
    /* Bulk loads build large indexes at the end: let the sort spill to
     * temporary files rather than hold it all in memory. */
    if (is_writer && s->is_bulk &&
        sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL;"
                            "PRAGMA temp_store=FILE;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = cr_store_sqlerr(c, "setting up bulk loading", err);
        goto fail;
    }
    /* Readers look resources up by key: the operating system's cache
     * holds the hot pages for all of them, so each keeps a small cache of
     * its own (there is one per concurrent reader). 1 MiB holds the pages
     * one $everything touches (~140 for ~160 resources), which it reads
     * twice (keys first, then bytes): with 512 KiB it read ~190. */
    if (!is_writer &&
        sqlite3_exec(c->db, "PRAGMA cache_size=-1024;", NULL, NULL, NULL) !=
            SQLITE_OK) {
        rc = cr_store_sqlerr(c, "setting up a reader", err);
        goto fail;
    }
    /* The writer's cache: a serving node's writes touch few pages, a bulk
     * load's index inserts touch many. */
    if (is_writer &&
        sqlite3_exec(c->db, s->is_bulk ? "PRAGMA cache_size=-64000;"
                                       : "PRAGMA cache_size=-8000;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = cr_store_sqlerr(c, "setting up the writer", err);
        goto fail;
    }
    *out = c;
    return CR_OK;
fail:
    cr_store_conn_close(c);
    return rc;
}

/* End c's read transaction, if it has one. */
static void
end_snapshot(struct conn *c)
{
    sqlite3_stmt *st;

    if (!c->has_snapshot)
        return;
    c->has_snapshot = false;
    st = cr_store_stmt(c, ST_COMMIT, NULL);
    if (st == NULL || sqlite3_step(st) != SQLITE_DONE)
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    if (st)
        sqlite3_reset(st);
}

void
cr_store_conn_close(struct conn *c)
{
    int i;

    if (c == NULL)
        return;
    end_snapshot(c);
    for (i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(c->st[i]);
    for (i = 0; i < CONN_CACHED_STMTS; i++)
        sqlite3_finalize(c->cache[i].st);
    sqlite3_close(c->db);
    free(c);
}

static uint64_t
sql_hash(const char *sql, size_t len)
{
    uint64_t h = 1469598103934665603u;          /* FNV-1a */
    size_t i;

    for (i = 0; i < len; i++)
        h = (h ^ (unsigned char)sql[i]) * 1099511628211u;
    return h;
}

int
cr_store_conn_prepare(struct conn *c, const char *sql, size_t len,
                      sqlite3_stmt **out)
{
    uint64_t h = sql_hash(sql, len);
    struct cached_stmt *victim = NULL, *e;
    int r;
    size_t i;

    *out = NULL;
    for (i = 0; i < CONN_CACHED_STMTS; i++) {
        e = &c->cache[i];
        if (e->st != NULL && !e->is_out && e->h == h &&
            strlen(sqlite3_sql(e->st)) == len &&
            memcmp(sqlite3_sql(e->st), sql, len) == 0) {
            e->is_out = true;
            e->used = ++c->uses;
            *out = e->st;
            return SQLITE_OK;
        }
        if (!e->is_out && (victim == NULL || e->st == NULL ||
                           (victim->st != NULL && e->used < victim->used)))
            victim = e;
    }
    r = sqlite3_prepare_v3(c->db, sql, (int)len, SQLITE_PREPARE_PERSISTENT,
                           out, NULL);
    if (r != SQLITE_OK || victim == NULL)
        return r;
    sqlite3_finalize(victim->st);
    victim->st = *out;
    victim->h = h;
    victim->used = ++c->uses;
    victim->is_out = true;
    return SQLITE_OK;
}

void
cr_store_conn_unprepare(struct conn *c, sqlite3_stmt *st)
{
    size_t i;

    if (st == NULL)
        return;
    for (i = 0; i < CONN_CACHED_STMTS; i++)
        if (c->cache[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            c->cache[i].is_out = false;
            return;
        }
    sqlite3_finalize(st);
}

sqlite3_stmt *
cr_store_stmt(struct conn *c, int which, struct cr_err *err)
{
    sqlite3_stmt *st = c->st[which];

    if (st == NULL) {
        const char *sql = stmt_sql[which] ? stmt_sql[which]
                                          : cr_store_index_sql(which);
        if (sql == NULL)
            sql = cr_store_mpi_sql(which);
        if (sqlite3_prepare_v3(c->db, sql, -1,
                               SQLITE_PREPARE_PERSISTENT, &st,
                               NULL) != SQLITE_OK) {
            cr_store_sqlerr(c, "preparing a statement", err);
            return NULL;
        }
        c->st[which] = st;
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return st;
}

static void
copy_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    snprintf(out, size, "%s", t ? (const char *)t : "");
}

void
cr_store_meta_from_row(sqlite3_stmt *st, int col, struct cr_store_meta *meta)
{
    if (meta == NULL)
        return;
    meta->version = sqlite3_column_int64(st, col);
    meta->last_updated_ms = sqlite3_column_int64(st, col + 1);
    meta->seq = sqlite3_column_int64(st, col + 2);
    meta->is_deleted = sqlite3_column_int(st, col + 3) != 0;
    copy_col(st, col + 4, meta->patient, sizeof meta->patient);
    copy_col(st, col + 5, meta->org, sizeof meta->org);
    copy_col(st, col + 6, meta->node, sizeof meta->node);
}

/* Whether c's snapshot may miss a commit, or should end while the WAL
 * waits to start over. */
static bool
is_stale(struct cr_store *s, const struct conn *c, uint64_t commits)
{
    return c->snapshot_commits != commits ||
           atomic_load_explicit(&s->is_draining, memory_order_relaxed);
}

/* Give c a read transaction that sees every commit counted so far. The
 * count is read before the transaction begins, and its snapshot is taken
 * at its first read, so the snapshot is at least that new. */
static cr_rc
begin_snapshot(struct cr_store *s, struct conn *c, struct cr_err *err)
{
    uint64_t now = atomic_load_explicit(&s->commits, memory_order_acquire);
    sqlite3_stmt *st;

    if (c->has_snapshot && !is_stale(s, c, now))
        return CR_OK;
    end_snapshot(c);
    st = cr_store_stmt(c, ST_BEGIN, err);
    if (st == NULL)
        return CR_EIO;
    if (sqlite3_step(st) != SQLITE_DONE) {
        cr_rc rc = cr_store_sqlerr(c, "starting a read", err);
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    c->has_snapshot = true;
    c->snapshot_commits = now;
    return CR_OK;
}

cr_rc
cr_store_acquire(struct cr_store *s, struct conn **out, struct cr_err *err)
{
    struct conn *c = NULL;
    cr_rc rc;

    pthread_mutex_lock(&s->pool_lock);
    c = s->free_conns;
    if (c)
        s->free_conns = c->next_free;
    pthread_mutex_unlock(&s->pool_lock);
    if (c == NULL) {
        rc = cr_store_conn_open(s, false, &c, err);
        if (rc != CR_OK)
            return rc;
        pthread_mutex_lock(&s->pool_lock);
        if (s->nconns == s->cap_conns) {
            int cap = s->cap_conns ? s->cap_conns * 2 : 16;
            struct conn **p = realloc(s->all_conns,
                                      (size_t)cap * sizeof *p);
            if (p == NULL) {
                pthread_mutex_unlock(&s->pool_lock);
                cr_store_conn_close(c);
                return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                                  "out of memory");
            }
            s->all_conns = p;
            s->cap_conns = cap;
        }
        s->all_conns[s->nconns++] = c;
        pthread_mutex_unlock(&s->pool_lock);
    }
    rc = begin_snapshot(s, c, err);
    if (rc != CR_OK) {
        cr_store_release(s, c);
        return rc;
    }
    *out = c;
    return CR_OK;
}

void
cr_store_release(struct cr_store *s, struct conn *c)
{
    if (c->has_snapshot &&
        is_stale(s, c, atomic_load_explicit(&s->commits,
                                            memory_order_acquire)))
        end_snapshot(c);
    pthread_mutex_lock(&s->pool_lock);
    c->next_free = s->free_conns;
    s->free_conns = c;
    pthread_mutex_unlock(&s->pool_lock);
}

void
cr_store_end_idle_snapshots(struct cr_store *s)
{
    struct conn *c;

    pthread_mutex_lock(&s->pool_lock);
    for (c = s->free_conns; c; c = c->next_free)
        end_snapshot(c);
    pthread_mutex_unlock(&s->pool_lock);
}

/* SQLite's memory statistics take a process-wide mutex on every
 * allocation: with many reader threads that lock is contended, and we do
 * not read the statistics. Set once, before SQLite initialises. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void
sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

cr_rc
cr_store_open(const char *dir, const struct cr_store_opts *opts,
              struct cr_store **out, struct cr_err *err)
{
    struct cr_store *s = calloc(1, sizeof *s);
    sqlite3_stmt *st = NULL;
    size_t n;
    cr_rc rc;

    pthread_once(&sqlite_once, sqlite_setup);
    if (s == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    n = strlen(dir) + sizeof "/carerecord.db";
    s->path = malloc(n);
    if (s->path == NULL) {
        free(s);
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    }
    snprintf(s->path, n, "%s/carerecord.db", dir);
    snprintf(s->node_id, sizeof s->node_id, "%s",
             opts && opts->node_id ? opts->node_id : "local");
    s->max_batch = opts && opts->max_batch > 0 ? opts->max_batch : 256;
    s->is_bulk = opts && opts->is_bulk;
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_mutex_init(&s->wlock, NULL);
    pthread_cond_init(&s->wcond, NULL);
    pthread_cond_init(&s->dcond, NULL);

    rc = cr_store_conn_open(s, true, &s->wconn, err);
    if (rc != CR_OK)
        goto fail;
    rc = cr_store_migrate(s->wconn, err);
    if (rc != CR_OK)
        goto fail;
    if (sqlite3_prepare_v2(s->wconn->db,
                           "SELECT max((SELECT coalesce(max(seq),0) FROM "
                           "resources),(SELECT coalesce(max(seq),0) FROM "
                           "history))",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = cr_store_sqlerr(s->wconn, "reading the change sequence", err);
        sqlite3_finalize(st);
        goto fail;
    }
    s->next_seq = sqlite3_column_int64(st, 0) + 1;
    sqlite3_finalize(st);
    cr_store_alias_init(s);
    rc = cr_store_checkpointer_start(s, err);
    if (rc != CR_OK)
        goto fail;
    rc = cr_store_writer_start(s, err);
    if (rc != CR_OK) {
        cr_store_checkpointer_stop(s);
        goto fail;
    }
    *out = s;
    return CR_OK;
fail:
    cr_store_conn_close(s->wconn);
    s->wconn = NULL;
    pthread_mutex_destroy(&s->pool_lock);
    pthread_mutex_destroy(&s->wlock);
    pthread_cond_destroy(&s->wcond);
    pthread_cond_destroy(&s->dcond);
    free(s->path);
    free(s);
    return rc;
}

void
cr_store_close(struct cr_store *s)
{
    int i;

    if (s == NULL)
        return;
    cr_store_writer_stop(s);
    cr_store_checkpointer_stop(s);
    for (i = 0; i < s->nconns; i++)
        cr_store_conn_close(s->all_conns[i]);
    free(s->all_conns);
    /* The writer closes last so the WAL is checkpointed and removed. */
    cr_store_conn_close(s->wconn);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_mutex_destroy(&s->wlock);
    pthread_cond_destroy(&s->wcond);
    pthread_cond_destroy(&s->dcond);
    free(s->touched);
    free(s->path);
    free(s);
}

uint32_t
cr_store_gen_slot(const char *patient, const char *type)
{
    const char *parts[2];

    if (patient && patient[0]) {
        parts[0] = "p";
        parts[1] = patient;
    } else {
        parts[0] = "t";
        parts[1] = type ? type : "";
    }
    return (uint32_t)((uint64_t)cr_store_hash(parts, 2) % CR_STORE_GEN_SLOTS);
}

uint64_t
cr_store_generation(struct cr_store *s, const char *patient,
                    const char *type)
{
    return atomic_load_explicit(&s->gens[cr_store_gen_slot(patient, type)],
                                memory_order_acquire);
}

const char *
cr_store_node_id(const struct cr_store *s)
{
    return s->node_id;
}

/* Step a read statement whose columns are meta (0..6) then json (7). */
static cr_rc
read_row(struct conn *c, sqlite3_stmt *st, struct cr_buf *out,
         struct cr_store_meta *meta, struct cr_err *err)
{
    int r = sqlite3_step(st);
    cr_rc rc = CR_OK;

    if (r == SQLITE_DONE) {
        rc = CR_ENOTFOUND;
    } else if (r != SQLITE_ROW) {
        rc = cr_store_sqlerr(c, "reading a resource", err);
    } else {
        cr_store_meta_from_row(st, 0, meta);
        if (sqlite3_column_int(st, 3)) {
            rc = CR_EGONE;
        } else if (out) {
            const void *p = sqlite3_column_blob(st, 7);
            int n = sqlite3_column_bytes(st, 7);
            cr_buf_add(out, p, (size_t)n);
            if (out->rc != CR_OK)
                rc = cr_err_set(err, out->rc, "too-costly", NULL,
                                "resource too large for the response");
        }
    }
    sqlite3_reset(st);
    return rc;
}

cr_rc
cr_store_read(struct cr_store *s, const char *type, const char *id,
              struct cr_buf *out, struct cr_store_meta *meta,
              struct cr_err *err)
{
    struct conn *c = NULL;
    sqlite3_stmt *st;
    cr_rc rc = cr_store_acquire(s, &c, err);

    if (rc != CR_OK)
        return rc;
    st = cr_store_stmt(c, ST_READ, err);
    if (st == NULL) {
        rc = CR_EIO;
    } else {
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        rc = read_row(c, st, out, meta, err);
    }
    cr_store_release(s, c);
    return rc;
}

cr_rc
cr_store_conn_vread(struct conn *c, const char *type, const char *id,
                    int64_t version, struct cr_buf *out,
                    struct cr_store_meta *meta, struct cr_err *err)
{
    struct cr_store_meta cur;
    sqlite3_stmt *st;
    cr_rc rc;

    /* The current version lives in resources, older ones in history. */
    st = cr_store_stmt(c, ST_READ, err);
    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    memset(&cur, 0, sizeof cur);
    rc = read_row(c, st, NULL, &cur, err);
    if (rc == CR_ENOTFOUND)
        return rc;
    if ((rc == CR_OK || rc == CR_EGONE) && cur.version == version) {
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        return read_row(c, st, out, meta, err);
    }
    if (rc != CR_OK && rc != CR_EGONE)
        return rc;
    st = cr_store_stmt(c, ST_VREAD_HIST, err);
    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, version);
    return read_row(c, st, out, meta, err);
}

cr_rc
cr_store_vread(struct cr_store *s, const char *type, const char *id,
               int64_t version, struct cr_buf *out,
               struct cr_store_meta *meta, struct cr_err *err)
{
    struct conn *c = NULL;
    cr_rc rc = cr_store_acquire(s, &c, err);

    if (rc != CR_OK)
        return rc;
    /* The connection's one snapshot: a concurrent update cannot move the
     * version between the two reads. */
    rc = cr_store_conn_vread(c, type, id, version, out, meta, err);
    cr_store_release(s, c);
    return rc;
}

#define HIST_COLS "type,id,version,last_updated,seq,deleted,patient,org," \
                  "node,json,op"

static const char *const hist_sql[3] = {
    /* instance */
    ("SELECT * FROM (SELECT " HIST_COLS " FROM resources WHERE type=?1 AND "
     "id=?2 UNION ALL SELECT " HIST_COLS " FROM history WHERE type=?1 AND "
     "id=?2) WHERE seq<?3 AND last_updated>=?4 ORDER BY seq DESC LIMIT ?5"),
    /* type */
    ("SELECT * FROM (SELECT " HIST_COLS " FROM resources WHERE type=?1 AND "
     "seq<?3 AND last_updated>=?4 UNION ALL SELECT " HIST_COLS " FROM "
     "history WHERE type=?1 AND seq<?3 AND last_updated>=?4) ORDER BY seq "
     "DESC LIMIT ?5"),
    /* system */
    ("SELECT * FROM (SELECT " HIST_COLS " FROM resources WHERE seq<?3 AND "
     "last_updated>=?4 UNION ALL SELECT " HIST_COLS " FROM history WHERE "
     "seq<?3 AND last_updated>=?4) ORDER BY seq DESC LIMIT ?5"),
};

static int
hist_form(const char *type, const char *id)
{
    return type == NULL ? 2 : id == NULL ? 1 : 0;
}

cr_rc
cr_store_history(struct cr_store *s, const char *type, const char *id,
                 int64_t before_seq, int64_t since_ms, int limit,
                 cr_store_version_fn fn, void *ctx, struct cr_err *err)
{
    struct cr_store_meta meta;
    sqlite3_stmt *st = NULL;
    struct conn *c = NULL;
    cr_rc rc = cr_store_acquire(s, &c, err);
    int r;

    if (rc != CR_OK)
        return rc;
    if (sqlite3_prepare_v2(c->db, hist_sql[hist_form(type, id)], -1, &st,
                           NULL) != SQLITE_OK) {
        rc = cr_store_sqlerr(c, "preparing history", err);
        goto out;
    }
    if (type)
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    if (id)
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, before_seq > 0 ? before_seq : INT64_MAX);
    sqlite3_bind_int64(st, 4, since_ms);
    sqlite3_bind_int(st, 5, limit);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        const char *i = (const char *)sqlite3_column_text(st, 1);
        const char *json = sqlite3_column_blob(st, 9);
        size_t n = (size_t)sqlite3_column_bytes(st, 9);

        cr_store_meta_from_row(st, 2, &meta);
        {
            const char *op = (const char *)sqlite3_column_text(st, 10);
            snprintf(meta.op, sizeof meta.op, "%s", op ? op : "");
        }
        rc = fn(ctx, t, i, &meta, meta.is_deleted ? NULL : json, n);
        if (rc != CR_OK)
            goto out;
    }
    if (r != SQLITE_DONE)
        rc = cr_store_sqlerr(c, "reading history", err);
out:
    sqlite3_finalize(st);
    cr_store_release(s, c);
    return rc;
}

cr_rc
cr_store_history_count(struct cr_store *s, const char *type, const char *id,
                       int64_t since_ms, int64_t *out, struct cr_err *err)
{
    static const char *const sql[3] = {
        ("SELECT (SELECT count(*) FROM resources WHERE type=?1 AND id=?2 AND "
         "last_updated>=?3)+(SELECT count(*) FROM history WHERE type=?1 AND "
         "id=?2 AND last_updated>=?3)"),
        ("SELECT (SELECT count(*) FROM resources WHERE type=?1 AND "
         "last_updated>=?3)+(SELECT count(*) FROM history WHERE type=?1 AND "
         "last_updated>=?3)"),
        ("SELECT (SELECT count(*) FROM resources WHERE last_updated>=?3)+"
         "(SELECT count(*) FROM history WHERE last_updated>=?3)"),
    };
    sqlite3_stmt *st = NULL;
    struct conn *c = NULL;
    cr_rc rc = cr_store_acquire(s, &c, err);

    if (rc != CR_OK)
        return rc;
    if (sqlite3_prepare_v2(c->db, sql[hist_form(type, id)], -1, &st, NULL) !=
        SQLITE_OK) {
        rc = cr_store_sqlerr(c, "preparing a count", err);
        goto out;
    }
    if (type)
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    if (id)
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, since_ms);
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = cr_store_sqlerr(c, "counting history", err);
    else
        *out = sqlite3_column_int64(st, 0);
out:
    sqlite3_finalize(st);
    cr_store_release(s, c);
    return rc;
}

cr_rc
cr_store_find_token(struct cr_store *s, const char *type, const char *param,
                    const char *system, const char *code,
                    char (*out_ids)[65], size_t max, size_t *out_n,
                    struct cr_err *err)
{
    struct conn *c = NULL;
    cr_rc rc = cr_store_acquire(s, &c, err);

    if (rc != CR_OK)
        return rc;
    rc = cr_store_conn_find_token(c, type, param, system, code, out_ids, max,
                                  out_n, err);
    cr_store_release(s, c);
    return rc;
}
