/* test_store.c: the SQLite store: versions, history, tokens, group commit,
 * persistence across reopen. */
#include "unit.h"

#include "store/store.h"
#include "store/storeInt.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct put_ctx {
    struct cr_store_put put;
    bool is_conditional;
    const char *sys, *code;
    size_t found;
};

static cr_rc
do_put(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct put_ctx *p = ctx;
    if (p->is_conditional) {
        char ids[4][65];
        cr_rc rc = cr_store_txn_find_token(txn, p->put.type, "identifier",
                                           p->sys, p->code, ids, 4,
                                           &p->found, err);
        if (rc != CR_OK)
            return rc;
        if (p->found)
            return CR_OK;
    }
    return cr_store_txn_put(txn, &p->put, err);
}

static struct cr_store *
open_store(const char *dir)
{
    struct cr_store *s = NULL;
    struct cr_err err;
    struct cr_store_opts o = { "test", 0, false };
    cr_err_clear(&err);
    if (cr_store_open(dir, &o, &s, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "open: %s", err.msg);
    return s;
}

static cr_rc
put(struct cr_store *s, const char *id, int64_t version, const char *json,
    bool is_delete)
{
    struct cr_fhir_index_row tok;
    struct put_ctx p;
    struct cr_err err;
    memset(&p, 0, sizeof p);
    memset(&tok, 0, sizeof tok);
    tok.kind = CR_SP_TOKEN;
    tok.param = "identifier";
    tok.system = "urn:sys";
    tok.code = id;
    p.put.type = "Patient";
    p.put.id = id;
    p.put.version = version;
    p.put.last_updated_ms = 1000 * version;
    p.put.json = json;
    p.put.len = json ? strlen(json) : 0;
    p.put.is_delete = is_delete;
    p.put.patient = id;
    p.put.org = "X1";
    p.put.rows = &tok;
    p.put.nrows = 1;
    cr_err_clear(&err);
    return cr_store_write(s, do_put, &p, &err);
}

struct hist {
    int n;
    int64_t versions[16];
    bool deleted[16];
};

static cr_rc
collect(void *ctx, const char *type, const char *id,
        const struct cr_store_meta *meta, const char *json, size_t len)
{
    struct hist *h = ctx;
    (void)type; (void)id; (void)len;
    h->versions[h->n] = meta->version;
    h->deleted[h->n] = json == NULL;
    h->n++;
    return CR_OK;
}

TEST(versions_history_and_delete)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    struct cr_buf b = cr_buf_make(0);
    struct cr_store_meta m;
    struct cr_err err;
    struct hist h = { 0 };

    cr_err_clear(&err);
    CHECK_EQ_INT(put(s, "a", 1, "{\"v\":1}", false), CR_OK);
    CHECK_EQ_INT(put(s, "a", 2, "{\"v\":2}", false), CR_OK);
    /* A stale version is refused and changes nothing. */
    CHECK_EQ_INT(put(s, "a", 2, "{\"v\":9}", false), CR_ECONFLICT);
    CHECK_EQ_INT(cr_store_read(s, "Patient", "a", &b, &m, &err), CR_OK);
    CHECK_EQ_STR(b.ptr, "{\"v\":2}");
    CHECK_EQ_INT(m.version, 2);
    CHECK_EQ_STR(m.patient, "a");
    CHECK_EQ_STR(m.org, "X1");
    CHECK_EQ_STR(m.node, "test");
    cr_buf_reset(&b);
    CHECK_EQ_INT(cr_store_vread(s, "Patient", "a", 1, &b, &m, &err), CR_OK);
    CHECK_EQ_STR(b.ptr, "{\"v\":1}");
    cr_buf_reset(&b);
    CHECK_EQ_INT(cr_store_vread(s, "Patient", "a", 7, &b, &m, &err),
                 CR_ENOTFOUND);
    CHECK_EQ_INT(put(s, "a", 3, NULL, true), CR_OK);
    CHECK_EQ_INT(cr_store_read(s, "Patient", "a", &b, &m, &err), CR_EGONE);
    CHECK_EQ_INT(m.version, 3);
    CHECK_EQ_INT(cr_store_vread(s, "Patient", "a", 3, &b, &m, &err),
                 CR_EGONE);
    CHECK_EQ_INT(cr_store_read(s, "Patient", "zz", &b, &m, &err),
                 CR_ENOTFOUND);
    CHECK_EQ_INT(cr_store_history(s, "Patient", "a", 0, 0, 10, collect, &h,
                                  &err), CR_OK);
    CHECK_EQ_INT(h.n, 3);
    CHECK_EQ_INT(h.versions[0], 3);
    CHECK(h.deleted[0]);
    CHECK_EQ_INT(h.versions[2], 1);
    CHECK(!h.deleted[2]);
    /* Re-create after delete continues the version line. */
    CHECK_EQ_INT(put(s, "a", 4, "{\"v\":4}", false), CR_OK);
    cr_buf_reset(&b);
    CHECK_EQ_INT(cr_store_read(s, "Patient", "a", &b, &m, &err), CR_OK);
    CHECK_EQ_INT(m.version, 4);
    cr_buf_free(&b);
    cr_store_close(s);
}

TEST(history_paging_and_count)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    struct cr_err err;
    struct hist h = { 0 };
    int64_t n = 0;
    char id[8];
    int i;

    for (i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "p%d", i);
        CHECK_EQ_INT(put(s, id, 1, "{}", false), CR_OK);
    }
    CHECK_EQ_INT(put(s, "p0", 2, "{}", false), CR_OK);
    CHECK_EQ_INT(cr_store_history_count(s, "Patient", NULL, 0, &n, &err),
                 CR_OK);
    CHECK_EQ_INT(n, 6);
    CHECK_EQ_INT(cr_store_history(s, "Patient", NULL, 0, 0, 4, collect, &h,
                                  &err), CR_OK);
    CHECK_EQ_INT(h.n, 4);
    CHECK_EQ_INT(h.versions[0], 2);
    CHECK_EQ_INT(cr_store_history_count(s, NULL, NULL, 2000, &n, &err),
                 CR_OK);
    CHECK_EQ_INT(n, 1);
    cr_store_close(s);
}

TEST(conditional_create_finds_existing)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    struct cr_err err;
    struct put_ctx p;

    CHECK_EQ_INT(put(s, "x", 1, "{}", false), CR_OK);
    memset(&p, 0, sizeof p);
    p.put.type = "Patient";
    p.put.id = "y";
    p.put.version = 1;
    p.put.json = "{}";
    p.put.len = 2;
    p.is_conditional = true;
    p.sys = "urn:sys";
    p.code = "x";
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_store_write(s, do_put, &p, &err), CR_OK);
    CHECK_EQ_INT(p.found, 1);
    CHECK_EQ_INT(cr_store_read(s, "Patient", "y", NULL, NULL, &err),
                 CR_ENOTFOUND);
    /* After a delete the identifier no longer matches. */
    CHECK_EQ_INT(put(s, "x", 2, NULL, true), CR_OK);
    p.found = 0;
    CHECK_EQ_INT(cr_store_write(s, do_put, &p, &err), CR_OK);
    CHECK_EQ_INT(p.found, 0);
    CHECK_EQ_INT(cr_store_read(s, "Patient", "y", NULL, NULL, &err), CR_OK);
    cr_store_close(s);
}

/* One of several threads writing at once: 'n' creates (200 when 0); with
 * 'wal' set, the largest size that file reached as seen between writes. */
struct writer_arg {
    struct cr_store *s;
    int base;
    int n;
    const char *wal;
    off_t largest;
};

static void *
writer(void *arg)
{
    struct writer_arg *w = arg;
    struct stat st;
    char id[16];
    int i;
    for (i = 0; i < (w->n ? w->n : 200); i++) {
        snprintf(id, sizeof id, "w%d-%d", w->base, i);
        if (put(w->s, id, 1, "{\"ok\":true}", false) != CR_OK)
            return (void *)1;
        if (w->wal && stat(w->wal, &st) == 0 && st.st_size > w->largest)
            w->largest = st.st_size;
    }
    return NULL;
}

TEST(concurrent_writes_all_durable_after_reopen)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct writer_arg args[8];
    pthread_t th[8];
    struct cr_err err;
    int64_t n = 0;
    void *res;
    int i;

    for (i = 0; i < 8; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].s = s;
        args[i].base = i;
        pthread_create(&th[i], NULL, writer, &args[i]);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], &res);
        CHECK(res == NULL);
    }
    cr_store_close(s);
    s = open_store(dir);
    CHECK_EQ_INT(cr_store_history_count(s, NULL, NULL, 0, &n, &err), CR_OK);
    CHECK_EQ_INT(n, 1600);
    CHECK_EQ_INT(cr_store_read(s, "Patient", "w7-199", NULL, NULL, &err),
                 CR_OK);
    cr_store_close(s);
}

TEST(failing_job_is_rolled_back_alone)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    struct cr_err err;

    CHECK_EQ_INT(put(s, "k", 1, "{}", false), CR_OK);
    /* version 5 is not next: refused, and the store still reads version 1 */
    CHECK_EQ_INT(put(s, "k", 5, "{}", false), CR_ECONFLICT);
    CHECK_EQ_INT(put(s, "new", 3, "{}", false), CR_ECONFLICT);
    CHECK_EQ_INT(cr_store_read(s, "Patient", "new", NULL, NULL, &err),
                 CR_ENOTFOUND);
    cr_store_close(s);
}

struct idents {
    char seen[8][16];
    int n;
};

static cr_rc
collect_ident(void *ctx, int64_t seq, const char *value)
{
    struct idents *w = ctx;
    (void)seq;
    if (w->n < 8)
        snprintf(w->seen[w->n++], 16, "%s", value);
    return CR_OK;
}

TEST(patient_identifiers_in_change_order)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    struct cr_err err;
    struct idents w;
    int64_t last = -1;

    CHECK_EQ_INT(put(s, "a", 1, "{}", false), CR_OK);   /* seq 1 */
    CHECK_EQ_INT(put(s, "b", 1, "{}", false), CR_OK);   /* seq 2 */
    CHECK_EQ_INT(put(s, "c", 1, "{}", false), CR_OK);   /* seq 3 */
    CHECK_EQ_INT(put(s, "b", 2, NULL, true), CR_OK);    /* seq 4: deleted */
    CHECK_EQ_INT(put(s, "a", 2, "{}", false), CR_OK);   /* seq 5 */
    cr_err_clear(&err);

    memset(&w, 0, sizeof w);
    CHECK_EQ_INT(cr_store_patient_identifiers(s, "urn:sys", 0, 10,
                                              collect_ident, &w, &last, &err),
                 CR_OK);
    CHECK_EQ_INT(w.n, 2);
    CHECK_EQ_STR(w.seen[0], "c");
    CHECK_EQ_STR(w.seen[1], "a");
    CHECK_EQ_INT(last, 5);

    /* One Patient at a time: a deleted one yields nothing but moves on. */
    memset(&w, 0, sizeof w);
    CHECK_EQ_INT(cr_store_patient_identifiers(s, "urn:sys", 0, 1,
                                              collect_ident, &w, &last, &err),
                 CR_OK);
    CHECK_EQ_INT(w.n, 1);
    CHECK_EQ_STR(w.seen[0], "c");
    CHECK_EQ_INT(last, 3);
    CHECK_EQ_INT(cr_store_patient_identifiers(s, "urn:sys", 3, 1,
                                              collect_ident, &w, &last, &err),
                 CR_OK);
    CHECK_EQ_INT(w.n, 1);
    CHECK_EQ_INT(last, 4);
    CHECK_EQ_INT(cr_store_patient_identifiers(s, "urn:sys", 4, 1,
                                              collect_ident, &w, &last, &err),
                 CR_OK);
    CHECK_EQ_INT(w.n, 2);
    CHECK_EQ_STR(w.seen[1], "a");
    CHECK_EQ_INT(last, 5);
    CHECK_EQ_INT(cr_store_patient_identifiers(s, "urn:sys", 5, 1,
                                              collect_ident, &w, &last, &err),
                 CR_OK);
    CHECK_EQ_INT(w.n, 2);
    CHECK_EQ_INT(last, 5);

    /* Another system names nothing. */
    memset(&w, 0, sizeof w);
    CHECK_EQ_INT(cr_store_patient_identifiers(s, "urn:other", 0, 10,
                                              collect_ident, &w, &last, &err),
                 CR_OK);
    CHECK_EQ_INT(w.n, 0);
    cr_store_close(s);
}

/* Under constant writing the WAL must start over after checkpoints rather
 * than grow: a WAL that starts over keeps its blocks, and a commit that
 * overwrites allocated blocks syncs faster than one that extends the
 * file. Eight threads keep the writer busy without a pause (as a loaded
 * node does), 2,000 writes of about 8 frames (4 KiB pages) each: a WAL
 * that never started over would grow to some 60 MB (it did, to 50 MB,
 * when checkpoints ran whenever the WAL held 2000 frames). */
TEST(wal_starts_over_under_constant_writes)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct writer_arg args[8];
    pthread_t th[8];
    char path[512];
    off_t largest = 0;
    void *res;
    int i;

    snprintf(path, sizeof path, "%s/carerecord.db-wal", dir);
    for (i = 0; i < 8; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].s = s;
        args[i].base = i;
        args[i].n = 250;
        args[i].wal = path;
        pthread_create(&th[i], NULL, writer, &args[i]);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], &res);
        CHECK(res == NULL);
        if (args[i].largest > largest)
            largest = args[i].largest;
    }
    cr_store_close(s);
    CHECK(largest > 0);
    if (largest > 24 * 1024 * 1024)
        cr_unit_fail(__FILE__, __LINE__, "the WAL grew to %lld bytes",
                     (long long)largest);
}

/* A pooled reader keeps its snapshot between uses only while nothing was
 * committed since: a read that starts after a write returned sees it,
 * however many reads came before on the same connections. */
TEST(pooled_readers_see_every_commit_made_before)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    struct cr_store_meta meta;
    struct cr_err err;
    int v, i;

    CHECK_EQ_INT(put(s, "p", 1, "{\"v\":1}", false), CR_OK);
    for (v = 2; v <= 20; v++) {
        for (i = 0; i < 3; i++) {
            CHECK_EQ_INT(cr_store_read(s, "Patient", "p", NULL, &meta, &err),
                         CR_OK);
            CHECK_EQ_INT(meta.version, v - 1);
        }
        CHECK_EQ_INT(put(s, "p", v, "{\"v\":2}", false), CR_OK);
        CHECK_EQ_INT(cr_store_read(s, "Patient", "p", NULL, &meta, &err),
                     CR_OK);
        CHECK_EQ_INT(meta.version, v);
    }
    CHECK_EQ_INT(put(s, "p", 21, NULL, true), CR_OK);
    CHECK_EQ_INT(cr_store_read(s, "Patient", "p", NULL, &meta, &err),
                 CR_EGONE);
    cr_store_close(s);
}

/* Readers reading without a pause while the writer writes. The WAL starts
 * over only at a moment no reader holds a snapshot in it, which readers
 * that never pause rarely leave, so it grows, up to the bound past which
 * the checkpointer truncates it (TRUNCATE_FRAMES, 64 MiB; 4,000 writes
 * of ~8 frames pass it). Truncating waits for every reader to end its
 * snapshot while holding the writer off, so pooled readers must end
 * theirs after each use from a checkpoint on: if they kept them while
 * nothing was committed, nothing could be (the writes here failed after
 * SQLite's 10 s busy timeout). How large the WAL gets depends on the
 * machine's speed, so it is not checked here. */
struct reader_arg {
    struct cr_store *s;
    atomic_bool *is_done;
    long reads;
};

static void *
reader(void *arg)
{
    struct reader_arg *r = arg;
    struct cr_err err;

    while (!atomic_load(r->is_done)) {
        cr_rc rc = cr_store_read(r->s, "Patient", "w0-0", NULL, NULL, &err);
        if (rc != CR_OK && rc != CR_ENOTFOUND)
            return (void *)1;
        r->reads++;
    }
    return NULL;
}

TEST(writes_go_on_while_readers_read_without_pause)
{
    const char *dir = cr_unit_tmpdir();
    struct cr_store *s = open_store(dir);
    struct writer_arg args[4];
    struct reader_arg rargs[4];
    pthread_t th[4], rth[4];
    atomic_bool is_done;
    char path[512];
    off_t largest = 0;
    void *res;
    int i;

    atomic_init(&is_done, false);
    snprintf(path, sizeof path, "%s/carerecord.db-wal", dir);
    for (i = 0; i < 4; i++) {
        rargs[i].s = s;
        rargs[i].is_done = &is_done;
        rargs[i].reads = 0;
        pthread_create(&rth[i], NULL, reader, &rargs[i]);
    }
    for (i = 0; i < 4; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].s = s;
        args[i].base = i;
        args[i].n = 1000;
        args[i].wal = path;
        pthread_create(&th[i], NULL, writer, &args[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], &res);
        CHECK(res == NULL);
        if (args[i].largest > largest)
            largest = args[i].largest;
    }
    atomic_store(&is_done, true);
    for (i = 0; i < 4; i++) {
        pthread_join(rth[i], &res);
        CHECK(res == NULL);
        CHECK(rargs[i].reads > 0);
    }
    cr_store_close(s);
    CHECK(largest > 0);
}

/* The mechanism itself: a connection given back keeps its snapshot until a
 * commit comes or a checkpoint drains them; the pool's idle snapshots end
 * on demand. */
TEST(pooled_snapshots_end_on_commit_drain_or_demand)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    struct conn *c = NULL, *again = NULL;
    struct cr_err err;

    cr_err_clear(&err);
    CHECK_EQ_INT(put(s, "p", 1, "{}", false), CR_OK);
    CHECK_EQ_INT(cr_store_acquire(s, &c, &err), CR_OK);
    CHECK(c->has_snapshot);
    cr_store_release(s, c);
    CHECK(c->has_snapshot);             /* nothing committed since */
    CHECK_EQ_INT(cr_store_acquire(s, &again, &err), CR_OK);
    CHECK(again == c);
    cr_store_release(s, again);
    CHECK_EQ_INT(put(s, "p", 2, "{}", false), CR_OK);
    CHECK(c->has_snapshot);             /* idle: ended when next taken */
    cr_store_end_idle_snapshots(s);
    CHECK(!c->has_snapshot);
    CHECK_EQ_INT(cr_store_acquire(s, &c, &err), CR_OK);
    CHECK(c->has_snapshot);
    CHECK_EQ_INT(put(s, "p", 3, "{}", false), CR_OK);
    cr_store_release(s, c);
    CHECK(!c->has_snapshot);            /* a commit came while out */
    CHECK_EQ_INT(cr_store_acquire(s, &c, &err), CR_OK);
    atomic_store(&s->is_draining, true);
    cr_store_release(s, c);
    CHECK(!c->has_snapshot);            /* draining */
    atomic_store(&s->is_draining, false);
    cr_store_close(s);
}

/* Readers end their snapshots after each use only for a moment after a
 * checkpoint: until the WAL starts over, or until the first commit after
 * the writer copied the rest of the WAL, whether or not it could start
 * over then (a reader still in it stops that). Left on until the WAL
 * started over, they began a new snapshot for a third of all reads. */
TEST(draining_ends_at_the_commit_after_the_writers_copy)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    struct conn *c = NULL;
    struct cr_err err;
    int frames;

    cr_err_clear(&err);
    CHECK_EQ_INT(put(s, "p", 1, "{}", false), CR_OK);
    CHECK_EQ_INT(cr_store_acquire(s, &c, &err), CR_OK);
    CHECK(sqlite3_exec(c->db, "SELECT count(*) FROM resources", NULL, NULL,
                       NULL) == SQLITE_OK);     /* its snapshot: in the WAL */
    atomic_store(&s->is_draining, true);        /* a checkpoint ended */
    atomic_store(&s->is_finish_wanted, true);
    CHECK_EQ_INT(put(s, "p", 2, "{}", false), CR_OK);
    CHECK(atomic_load(&s->is_draining));        /* not yet copied */
    pthread_mutex_lock(&s->clock_);
    frames = s->wal_frames;
    pthread_mutex_unlock(&s->clock_);
    /* the writer copied the rest after that batch; this commit cannot
     * start the WAL over (c is in it), and draining ends all the same */
    CHECK_EQ_INT(put(s, "p", 3, "{}", false), CR_OK);
    CHECK(!atomic_load(&s->is_draining));
    pthread_mutex_lock(&s->clock_);
    CHECK(s->wal_frames > frames);
    pthread_mutex_unlock(&s->clock_);
    cr_store_release(s, c);
    cr_store_end_idle_snapshots(s);

    /* with no reader in the WAL, the commit after the copy starts it over */
    atomic_store(&s->is_draining, true);
    atomic_store(&s->is_finish_wanted, true);
    CHECK_EQ_INT(put(s, "p", 4, "{}", false), CR_OK);
    pthread_mutex_lock(&s->clock_);
    frames = s->wal_frames;
    pthread_mutex_unlock(&s->clock_);
    CHECK(atomic_load(&s->is_draining));
    CHECK_EQ_INT(put(s, "p", 5, "{}", false), CR_OK);
    CHECK(!atomic_load(&s->is_draining));
    pthread_mutex_lock(&s->clock_);
    CHECK(s->wal_frames < frames);
    pthread_mutex_unlock(&s->clock_);
    cr_store_close(s);
}

/* Dynamic SQL is prepared once per connection and handed out again reset,
 * with no bindings left from the last use; a statement still out is never
 * handed out twice. */
TEST(statement_cache_reuses_reset_statements)
{
    struct cr_store *s = open_store(cr_unit_tmpdir());
    static const char sql[] = "SELECT ?1";
    sqlite3_stmt *a, *b, *again;
    struct conn *c = NULL;
    struct cr_err err;
    int i;

    cr_err_clear(&err);
    CHECK(cr_store_conn_open(s, false, &c, &err) == CR_OK);
    CHECK(cr_store_conn_prepare(c, sql, strlen(sql), &a) == SQLITE_OK);
    CHECK(cr_store_conn_prepare(c, sql, strlen(sql), &b) == SQLITE_OK);
    CHECK(a != b);                       /* a is still out */
    sqlite3_bind_int(a, 1, 42);
    CHECK(sqlite3_step(a) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(a, 0), 42);
    cr_store_conn_unprepare(c, a);
    CHECK(cr_store_conn_prepare(c, sql, strlen(sql), &again) == SQLITE_OK);
    CHECK(again == a);
    CHECK(sqlite3_step(again) == SQLITE_ROW);   /* from the start */
    CHECK(sqlite3_column_type(again, 0) == SQLITE_NULL);
    cr_store_conn_unprepare(c, again);
    cr_store_conn_unprepare(c, b);
    /* other texts fill the cache and push the oldest out, never one out */
    CHECK(cr_store_conn_prepare(c, sql, strlen(sql), &a) == SQLITE_OK);
    for (i = 0; i < 3 * CONN_CACHED_STMTS; i++) {
        char other[32];
        sqlite3_stmt *o;
        snprintf(other, sizeof other, "SELECT %d", i);
        CHECK(cr_store_conn_prepare(c, other, strlen(other), &o) ==
              SQLITE_OK);
        CHECK(sqlite3_step(o) == SQLITE_ROW);
        CHECK_EQ_INT(sqlite3_column_int(o, 0), i);
        cr_store_conn_unprepare(c, o);
    }
    sqlite3_bind_int(a, 1, 7);
    CHECK(sqlite3_step(a) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(a, 0), 7);
    cr_store_conn_unprepare(c, a);
    CHECK(cr_store_conn_prepare(c, "SELEC", 5, &b) != SQLITE_OK && b == NULL);
    cr_store_conn_close(c);
    cr_store_close(s);
}
