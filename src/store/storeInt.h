/* storeInt.h: private to store/. The store object, pooled connections and
 * prepared statements. */
#ifndef CR_STORE_INT_H
#define CR_STORE_INT_H

#include "store/store.h"

#include "fhir/search.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>

enum {
    ST_READ,
    ST_VREAD_HIST,
    ST_CURRENT,
    ST_PUT_RES,
    ST_MOVE_TO_HIST,
    ST_FIND_TOKEN,
    ST_FIND_TOKEN_ANY,
    ST_PATIENT_TYPE,
    ST_DEL_TOKEN,
    ST_DEL_STRING,
    ST_DEL_DATE,
    ST_DEL_REF,
    ST_DEL_NUMBER,
    ST_ADD_TOKEN,
    ST_ADD_STRING,
    ST_ADD_DATE,
    ST_ADD_REF,
    ST_ADD_NUMBER,
    /* aliases (alias.c) */
    ST_ALIAS_GET,
    ST_ALIAS_PUT,
    ST_ALIAS_DEL,
    ST_SET_PATIENT,
    /* patient identity rows (mpi_rows.c) */
    ST_MPI_GET,
    ST_MPI_PUT,
    ST_MPI_DEL,
    ST_MPI_KEYS_DEL,
    ST_MPI_KEY_ADD,
    ST_MPI_BLOCK,
    ST_MPI_BLOCK_NO_NHS,
    ST_MPI_BY_NHS,
    ST_MPI_PERSON,
    ST_MPI_RELABEL,
    ST_MPI_REVIEW_PUT,
    ST_MPI_REVIEW_DEL,
    ST_MPI_REVIEW_DEL_ALL,
    ST_MPI_DECISION_PUT,
    ST_MPI_DECISION_GET,
    ST_MPI_DECISIONS_OF,
    /* a reader's snapshot (store.c: cr_store_acquire) */
    ST_BEGIN,
    ST_COMMIT,
    ST__COUNT
};

/* Statements of dynamic SQL (searches) kept per connection: the same shape
 * of query comes back with other values, and preparing it again costs as
 * much as running it. */
#define CONN_CACHED_STMTS 24

struct cached_stmt {
    sqlite3_stmt *st;
    uint64_t h;             /* hash of its SQL text */
    uint64_t used;          /* conn's use counter when last handed out */
    bool is_out;            /* handed out, not yet given back */
};

struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST__COUNT];
    struct cached_stmt cache[CONN_CACHED_STMTS];
    uint64_t uses;
    struct conn *next_free;
    /* A pooled reader keeps its read transaction (its snapshot) between
     * uses while no commit came after it: see cr_store_acquire. */
    bool has_snapshot;
    uint64_t snapshot_commits;  /* the store's commits when it began */
    int alias_state;    /* alias.c: 0 not yet known, 1 the store has no
                           aliases, 2 it may have some */
};

struct job {
    cr_store_txn_fn fn;
    void *ctx;
    struct cr_err *err;
    cr_rc rc;
    bool is_done;                   /* guarded by wlock */
    bool is_failed;                 /* writer thread only */
    struct cr_store_async *async;   /* NULL for a blocking caller */
    struct job *next;
};

#define CR_STORE_GEN_SLOTS 4096

struct cr_store {
    char *path;
    char node_id[33];
    int max_batch;
    bool is_bulk;
    /* readers */
    pthread_mutex_t pool_lock;
    struct conn *free_conns;
    struct conn **all_conns;
    int nconns, cap_conns;
    /* writer */
    struct conn *wconn;
    pthread_t writer;
    pthread_mutex_t wlock;
    pthread_cond_t wcond;   /* writer waits for jobs */
    pthread_cond_t dcond;   /* callers wait for completion */
    struct job *head, *tail;
    bool is_stopping;
    int64_t next_seq;
    /* checkpointer: copies the WAL into the database off the writer */
    struct conn *cconn;
    pthread_t checkpointer;
    pthread_mutex_t clock_;
    pthread_cond_t ccond;
    int wal_frames;             /* frames in the WAL after the last commit */
    int ckpt_frames;            /* of those, copied by the last checkpoint */
    atomic_bool is_finish_wanted;   /* the writer should copy the rest */
    bool is_ckpt_stopping;
    bool has_checkpointer;
    /* generations (cr_store_generation): slots bumped after each commit
     * for what its puts touched; 'touched' collects the slots on the
     * writer thread during a transaction */
    _Atomic uint64_t gens[CR_STORE_GEN_SLOTS];
    /* commits of the writer so far, moved on with the generations: a
     * pooled reader whose snapshot began before the latest begins a new
     * one (cr_store_acquire) */
    _Atomic uint64_t commits;
    /* From the end of a checkpoint until the WAL starts over, or until
     * the first commit after the writer copied the rest (is_drained):
     * the WAL can start over only at a moment no reader holds a snapshot
     * in it, so meanwhile readers end theirs after each use
     * (checkpoint.c) */
    atomic_bool is_draining;
    bool is_drained;            /* the writer copied the rest (clock_) */
    /* alias.c: whether any alias was ever made in this store (readers
     * skip every lookup until one is; never goes back to false) */
    atomic_bool has_aliases;
    uint32_t *touched;
    size_t ntouched, cap_touched;
};

/* Note that a put touched slot 'slot' (writer thread). */
void
cr_store_gen_touch(struct cr_store *s, uint32_t slot);

struct cr_store_txn {
    struct cr_store *store;
    struct conn *c;
};

/* Open a connection to the store's file with our pragmas. */
cr_rc
cr_store_conn_open(struct cr_store *s, bool is_writer, struct conn **out,
                   struct cr_err *err);

/* Finalize statements and close. NULL is a no-op. */
void
cr_store_conn_close(struct conn *c);

/* A statement for the dynamic SQL 'sql' ('len' bytes) on 'c': one kept
 * from an earlier use of the same text, reset and with no bindings, or a
 * new one. Give it back with cr_store_conn_unprepare, never finalize it.
 * On error returns the SQLite code (message on c->db) and *out is NULL. */
int
cr_store_conn_prepare(struct conn *c, const char *sql, size_t len,
                      sqlite3_stmt **out);

/* Give back a statement from cr_store_conn_prepare (NULL is a no-op): it is
 * reset and kept for the next use of its SQL, or finalized. */
void
cr_store_conn_unprepare(struct conn *c, sqlite3_stmt *st);

/* The prepared statement 'which' of connection 'c', prepared on first use
 * and reset for reuse. NULL on error (detail in err). */
sqlite3_stmt *
cr_store_stmt(struct conn *c, int which, struct cr_err *err);

/* schema.c: create (or drop) the lookup indexes of the current schema. */
cr_rc
cr_store_lookup_indexes(struct conn *c, bool is_create, struct cr_err *err);

/* Bring the schema of the writer connection up to date. */
cr_rc
cr_store_migrate(struct conn *c, struct cr_err *err);

/* Map an SQLite failure to CR_EIO with the database's message; a full
 * disk (SQLITE_FULL) to CR_EUNAVAILABLE with HTTP status 507 and what to
 * do. */
cr_rc
cr_store_sqlerr(struct conn *c, const char *what, struct cr_err *err);

/* Fill *meta from columns version, last_updated, seq, deleted, patient,
 * org, node starting at column 'col'. */
void
cr_store_meta_from_row(sqlite3_stmt *st, int col, struct cr_store_meta *meta);

/* readonly.c: open the database file of the store in 'dir' read-only
 * (nothing is created). CR_ENOTFOUND when there is none. Close *out with
 * sqlite3_close. */
cr_rc
cr_store_open_dir_ro(const char *dir, sqlite3 **out, struct cr_err *err);

/* readonly.c: whether 'db' has a table named 'table'. */
cr_rc
cr_store_has_table(sqlite3 *db, const char *table, bool *out,
                   struct cr_err *err);

/* hash.c: 64-bit hash keys of index rows (see hash.c). */
int64_t
cr_store_hash(const char *const *parts, size_t n);
int64_t
cr_store_hash2(const char *a, const char *b);
int64_t
cr_store_hash3(const char *a, const char *b, const char *c);
int64_t
cr_store_hash4(const char *a, const char *b, const char *c, const char *d);
int64_t
cr_store_hash_ref(const char *type, const char *id);

/* hash.c: make cr_hash(...) available to SQL on 'db'. */
int
cr_store_register_hash(sqlite3 *db);

/* rows.c: the SQL of index statement 'which' (ST_DEL_* and ST_ADD_*). */
const char *
cr_store_index_sql(int which);

/* rows.c: replace the index rows of type/id with 'rows' (none for a
 * delete), on the writer connection inside its transaction. 'has_old':
 * earlier rows may exist and are removed first. */
cr_rc
cr_store_index_put(struct conn *c, const char *type, int64_t rid,
                   bool has_old, const struct cr_fhir_index_row *rows,
                   size_t nrows, struct cr_err *err);

/* rows.c: replace every index row of the resource at 'rid' with those
 * of its parsed content 'root' (search parameters, compartments and, for
 * a Patient, its own compartment row), on the writer connection. */
cr_rc
cr_store_index_resource(struct conn *c, const char *type, const char *id,
                        int64_t rid, const json_t *root, struct cr_err *err);

/* alias.c: the final target of type/id through the alias table (id
 * itself when it has none) into out[65], on connection 'c'. Follows at
 * most CR_STORE_ALIAS_HOPS links. */
#define CR_STORE_ALIAS_HOPS 16

cr_rc
cr_store_conn_alias_resolve(struct conn *c, const char *type, const char *id,
                            char out[65], struct cr_err *err);

/* alias.c: read whether the store holds aliases into s->has_aliases
 * (at open, on the writer connection, after the migrations). */
void
cr_store_alias_init(struct cr_store *s);

/* alias.c: whether the store may hold aliases (cached per connection). */
bool
cr_store_conn_has_aliases(struct conn *c);

/* mpi_rows.c: the SQL of statement 'which' (ST_ALIAS_* and ST_MPI_*). */
const char *
cr_store_mpi_sql(int which);

/* rows.c: a Patient's row naming its own compartment. */
cr_rc
cr_store_index_self(struct conn *c, const char *type, const char *id,
                    int64_t rid, struct cr_err *err);

/* rows.c: rebuild every index row from the stored resources (schema
 * migration 2, and after a change of search parameter tables). */
cr_rc
cr_store_reindex(struct conn *c, struct cr_err *err);

/* Find ids by one token on connection 'c' (see cr_store_find_token). */
cr_rc
cr_store_conn_find_token(struct conn *c, const char *type, const char *param,
                         const char *system, const char *code,
                         char (*out_ids)[65], size_t max, size_t *out_n,
                         struct cr_err *err);

/* As cr_store_vread, on connection 'c' (inside whatever transaction it
 * has open). */
cr_rc
cr_store_conn_vread(struct conn *c, const char *type, const char *id,
                    int64_t version, struct cr_buf *out,
                    struct cr_store_meta *meta, struct cr_err *err);

/* Take and give back a pooled reader connection. A connection taken is
 * inside a read transaction that sees every commit made before the call
 * (so several statements run on it see one snapshot); giving it back
 * ends that transaction only if a commit came since (the next taker
 * would not see it), so reads between writes skip SQLite's per-transaction
 * locking. cr_store_end_idle_snapshots ends those held by connections in
 * the pool: an old snapshot stops a checkpoint copying past it. */
cr_rc
cr_store_acquire(struct cr_store *s, struct conn **out, struct cr_err *err);

void
cr_store_release(struct cr_store *s, struct conn *c);
void
cr_store_end_idle_snapshots(struct cr_store *s);

/* checkpoint.c: start and stop the checkpointer thread. */
cr_rc
cr_store_checkpointer_start(struct cr_store *s, struct cr_err *err);

void
cr_store_checkpointer_stop(struct cr_store *s);

/* checkpoint.c: on the writer thread, between transactions: when the
 * checkpointer asked for it, copy the frames committed since its last
 * checkpoint, so that the writer's next transaction starts the WAL over.
 * Cheap when not asked (one atomic load). */
void
cr_store_checkpoint_finish(struct cr_store *s);

/* Start and stop the writer thread. */
cr_rc
cr_store_writer_start(struct cr_store *s, struct cr_err *err);

void
cr_store_writer_stop(struct cr_store *s);

#endif
