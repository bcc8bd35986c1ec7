/* store.h: the resource store, backend-neutral.
 *
 * Holds current resources (the JSON bytes exactly as served), superseded
 * versions, and index rows, for one node. Reads run concurrently on pooled
 * connections; writes go through one writer thread that commits waiting
 * writes together (group commit), so each acknowledged write is durable
 * (SQLite WAL, synchronous=FULL) without one fsync per write.
 *
 * The store knows nothing of HTTP, tokens or policy: callers (api/) decide
 * what to write and hand over finished bytes. All functions are thread-safe
 * unless stated otherwise. Depends on core/ and fhir/ (index rows). */
#ifndef CR_STORE_STORE_H
#define CR_STORE_STORE_H

#include "core/buf.h"
#include "core/err.h"
#include "fhir/search.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cr_store;      /* opaque: one open store */

/* The pseudo search parameter whose reference rows name every patient a
 * resource is in the compartment of (a Patient is in its own). */
#define CR_STORE_COMPARTMENT_PARAM "_compartment"
struct cr_store_txn;  /* opaque: the writer's open transaction */

/* Facts about one version of a resource, as stored. Strings point into
 * storage owned by the caller-supplied struct (fixed arrays). */
struct cr_store_meta {
    int64_t version;
    int64_t last_updated_ms;
    int64_t seq;           /* global change sequence number */
    bool is_deleted;
    char patient[65];      /* compartment patient id, "" if none */
    char org[33];          /* publishing organisation (ODS code) */
    char node[33];         /* node that holds it */
    char op[8];            /* history only: "POST", "PUT", "DELETE", or ""
                              when not recorded */
};


/* A resource version to write. 'json' must be the final bytes to serve,
 * meta.versionId and meta.lastUpdated already set to 'version' and
 * 'last_updated_ms'. For a delete, json is NULL. */
struct cr_store_put {
    const char *type;
    const char *id;
    int64_t version;            /* the new version: current + 1, or 1 */
    int64_t last_updated_ms;
    const char *json;
    size_t len;
    bool is_delete;
    const char *patient;        /* NULL if in no patient compartment */
    const char *org;
    const char *op;             /* the interaction: "POST", "PUT", "DELETE" */
    const struct cr_fhir_index_row *rows;  /* index rows (fhir/search.h) */
    size_t nrows;
};

/* Options for cr_store_open. Zeroed fields take defaults. */
struct cr_store_opts {
    const char *node_id;        /* default "local" */
    int max_batch;              /* writes per group commit, default 256 */
    bool is_bulk;               /* bulk loading: commits survive a crash of
                                   the process but not of the machine, and
                                   checkpoints are rarer (an interrupted
                                   load is run again) */
};

/* Open (creating if needed) the store in directory 'dir', which must exist.
 * Migrates the schema to the current version. On success *out is an open
 * store to be closed with cr_store_close. */
cr_rc
cr_store_open(const char *dir, const struct cr_store_opts *opts,
              struct cr_store **out, struct cr_err *err);

/* Finish queued writes, stop the writer, close every connection. NULL is a
 * no-op. No other call may be running or made after. */
void
cr_store_close(struct cr_store *s);

/* Generations, for caches of what the store says about a patient or a
 * kind of directory resource: cr_store_generation(s, patient, NULL)
 * changes after every committed write of a resource in that patient's
 * compartment, cr_store_generation(s, NULL, type) after every committed
 * write of a resource of 'type' in no compartment. The change is visible
 * before the writer is told its write is done. Slots are shared by
 * hashing, so a generation may also change for no reason of its own
 * (a cache miss, never a stale hit). Lock-free; thread-safe. */
uint32_t
cr_store_gen_slot(const char *patient, const char *type);

uint64_t
cr_store_generation(struct cr_store *s, const char *patient,
                    const char *type);

/* The node id the store was opened with. Lives as long as the store. */
const char *
cr_store_node_id(const struct cr_store *s);

/* Append the current bytes of type/id to 'out' and fill *meta (may be NULL).
 * Returns CR_OK, CR_ENOTFOUND if it never existed, CR_EGONE if its current
 * version is a delete (then *meta is filled and nothing is appended), or
 * CR_EIO/CR_ENOMEM. */
cr_rc
cr_store_read(struct cr_store *s, const char *type, const char *id,
              struct cr_buf *out, struct cr_store_meta *meta,
              struct cr_err *err);

/* As cr_store_read for one given version. CR_ENOTFOUND if there is no such
 * version; CR_EGONE if that version is a delete. */
cr_rc
cr_store_vread(struct cr_store *s, const char *type, const char *id,
               int64_t version, struct cr_buf *out,
               struct cr_store_meta *meta, struct cr_err *err);

/* Called for each version a history query yields, newest first. 'json' is
 * NULL for a delete. Return CR_OK to go on; anything else stops the walk
 * and is returned by cr_store_history. */
typedef cr_rc (*cr_store_version_fn)(void *ctx, const char *type,
                                     const char *id,
                                     const struct cr_store_meta *meta,
                                     const char *json, size_t len);

/* Walk versions newest first: of one resource (type and id set), of a type
 * (id NULL) or of the whole store (type NULL, id NULL); only those with
 * seq < before_seq (0: no bound) and last updated at or after since_ms
 * (0: no bound); at most 'limit' of them. */
cr_rc
cr_store_history(struct cr_store *s, const char *type, const char *id,
                 int64_t before_seq, int64_t since_ms, int limit,
                 cr_store_version_fn fn, void *ctx, struct cr_err *err);

/* Count what cr_store_history would yield without a limit or cursor. */
cr_rc
cr_store_history_count(struct cr_store *s, const char *type, const char *id,
                       int64_t since_ms, int64_t *out, struct cr_err *err);

/* Work done inside the writer's transaction. Runs on the writer thread
 * inside a savepoint: returning non-OK undoes everything it wrote and that
 * code is what cr_store_write returns. Must not block on other writes. */
typedef cr_rc (*cr_store_txn_fn)(struct cr_store_txn *txn, void *ctx,
                                 struct cr_err *err);

/* Run 'fn' in a write transaction and return once its effects are durable
 * (or undone). Many callers' functions share one commit. */
cr_rc
cr_store_write(struct cr_store *s, cr_store_txn_fn fn, void *ctx,
               struct cr_err *err);

/* Called on the writer thread once an asynchronous write is durable or
 * undone, with what 'fn' returned (or the commit's failure). Must be quick
 * and must not call back into the store's write functions. */
typedef void (*cr_store_done_fn)(void *done_ctx, cr_rc rc);

/* An asynchronous write, for callers that must not block a thread. The
 * caller owns it and keeps it (and what it points to) alive until 'done'
 * is called. */
struct cr_store_async {
    cr_store_txn_fn fn;
    void *ctx;
    struct cr_err *err;
    cr_store_done_fn done;
    void *done_ctx;
};

/* Queue 'a' and return at once; a->done is called when the write is
 * durable or undone. Returns CR_OK when queued, CR_EUNAVAILABLE (and does
 * not call done) when the store is closing. */
cr_rc
cr_store_write_async(struct cr_store *s, struct cr_store_async *a);

/* Inside a transaction: the current state of type/id. CR_ENOTFOUND if it
 * never existed; CR_OK otherwise (meta->is_deleted tells a deleted one). */
cr_rc
cr_store_txn_current(struct cr_store_txn *txn, const char *type,
                     const char *id, struct cr_store_meta *meta,
                     struct cr_err *err);

/* Inside a transaction: write a version. The caller has checked, with
 * cr_store_txn_current in the same transaction, that put->version is one
 * more than the current version (1 for a new resource); the store checks
 * it again and answers CR_ECONFLICT if not. */
cr_rc
cr_store_txn_put(struct cr_store_txn *txn, const struct cr_store_put *put,
                 struct cr_err *err);

/* Inside a transaction: ids of live (not deleted) resources of 'type' that
 * have a token row (param, system, code); system NULL matches any system.
 * Writes up to 'max' ids into out_ids and the total
 * number of matches to *out_n. */
cr_rc
cr_store_txn_find_token(struct cr_store_txn *txn, const char *type,
                        const char *param, const char *system,
                        const char *code, char (*out_ids)[65], size_t max,
                        size_t *out_n, struct cr_err *err);

/* Inside a transaction: call 'fn' for every live resource of 'type' in
 * patient 'patient''s compartment (the row's patient column), seeing the
 * transaction's own writes, in no particular order. 'fn' must not write;
 * what it returns other than CR_OK stops the walk and is returned. For
 * checks that must hold across concurrent writes (one current care plan
 * per person). */
typedef cr_rc (*cr_store_row_fn)(void *ctx, const char *type, const char *id,
                                 const struct cr_store_meta *meta,
                                 const char *json, size_t len);

cr_rc
cr_store_txn_patient(struct cr_store_txn *txn, const char *patient,
                     const char *type, cr_store_row_fn fn, void *ctx,
                     struct cr_err *err);

/* Inside a transaction: as cr_store_vread, seeing the transaction's own
 * writes. */
cr_rc
cr_store_txn_vread(struct cr_store_txn *txn, const char *type,
                   const char *id, int64_t version, struct cr_buf *out,
                   struct cr_store_meta *meta, struct cr_err *err);

/* Inside a transaction: open a nested savepoint, so a part of the work can
 * be undone alone (cr_store_txn_end(txn, false)) or kept (true). Nested
 * savepoints must be ended in reverse order. */
cr_rc
cr_store_txn_begin(struct cr_store_txn *txn, struct cr_err *err);

cr_rc
cr_store_txn_end(struct cr_store_txn *txn, bool is_kept, struct cr_err *err);

/* As cr_store_txn_find_token, outside a transaction (on a reader). */
cr_rc
cr_store_find_token(struct cr_store *s, const char *type, const char *param,
                    const char *system, const char *code,
                    char (*out_ids)[65], size_t max, size_t *out_n,
                    struct cr_err *err);

/* Called for each identifier cr_store_patient_identifiers yields: 'seq'
 * is the Patient's change sequence number, 'value' the identifier's value
 * (NUL-terminated, valid only during the call). Return CR_OK to go on;
 * anything else stops the walk and is returned. */
typedef cr_rc (*cr_store_ident_fn)(void *ctx, int64_t seq, const char *value);

/* The identifiers of 'system' (e.g. the NHS number system) of the current,
 * not deleted Patients whose last change has a sequence number above
 * 'after_seq', in sequence order: at most 'limit' Patients (a Patient with
 * two such identifiers yields both). *out_last (may be NULL) gets the seq
 * of the last Patient yielded, or after_seq when none. For keeping another
 * index (the record locator) up to date with what this store holds: walk
 * from 0 once, then from the last seq seen. Reader connection; thread-safe. */
cr_rc
cr_store_patient_identifiers(struct cr_store *s, const char *system,
                             int64_t after_seq, int limit,
                             cr_store_ident_fn fn, void *ctx,
                             int64_t *out_last, struct cr_err *err);

/* A bulk load: drop the lookup indexes (searches are slow meanwhile) and
 * build them again, sorted, at the end. Only for a store no server is
 * serving. cr_store_bulk_end must follow; if it does not (a crash), the
 * next cr_store_open builds them. */
cr_rc
cr_store_bulk_begin(struct cr_store *s, struct cr_err *err);

cr_rc
cr_store_bulk_end(struct cr_store *s, struct cr_err *err);

/* Append the current bytes of type/id inside a transaction (for returning
 * what a conditional create found). As cr_store_read otherwise. */
cr_rc
cr_store_txn_read(struct cr_store_txn *txn, const char *type, const char *id,
                  struct cr_buf *out, struct cr_store_meta *meta,
                  struct cr_err *err);

/* ---- search (query.c) ---- */

struct cr_search_plan;
struct cr_search_include;

/* A resource a search yields: cr_store_row_fn (above). 'json' is the
 * stored bytes (not NUL-terminated); valid only during the call. */

#define CR_STORE_CURSOR_MAX 1024

/* Which rows a chained parameter or _has may rest on. A search for
 * "Patient?_has:Condition:patient:code=X" answers which patients have such
 * a Condition; if the caller may not see that Condition, the match itself
 * would tell them. 'fn' is asked, for every row a chain or _has hop would
 * use, whether it may be used; 'type', 'org' and 'patient' are the row's
 * columns ("" when none), 'json' its stored bytes, all valid only during
 * the call. It runs on the searching thread, inside the query: it may read
 * the store (another connection) but must not write. */
typedef bool (*cr_store_visible_fn)(void *ctx, const char *type,
                                    const char *org, const char *patient,
                                    const char *json, size_t len);

struct cr_store_filter {
    cr_store_visible_fn fn;
    void *ctx;
};

/* The pointer type name the SQL function cr_visible() checks. */
#define CR_STORE_FILTER_PTR "cr_store_filter"

/* As cr_store_find_token followed by cr_store_read of each match, on the
 * store in directory 'dir' opened read-only (readonly.c; a running node
 * may go on writing, nothing is created or migrated): call 'fn' for every
 * live resource of 'type' with a token row (param, system, code), in id
 * order. 'fn' returning other than CR_OK stops the walk with that code.
 * CR_ENOTFOUND if 'dir' holds no store. For the command line's reports. */
cr_rc
cr_store_find_dir(const char *dir, const char *type, const char *param,
                  const char *system, const char *code, cr_store_row_fn fn,
                  void *ctx, struct cr_err *err);

/* Run 'plan' (search/search.h): call 'fn' for at most plan->count
 * matching resources, in the plan's order, for the page plan->cursor
 * names (NULL: the first). out_next and out_prev get the cursors (URL-safe
 * text) of the pages after and before, or "" when there is none.
 * 'hops' (NULL: every row) limits the rows chains and _has may rest on.
 * CR_EINVAL if the cursor is not one this store made. */
cr_rc
cr_store_search(struct cr_store *s, const struct cr_search_plan *plan,
                const struct cr_store_filter *hops, cr_store_row_fn fn,
                void *ctx, char out_next[CR_STORE_CURSOR_MAX],
                char out_prev[CR_STORE_CURSOR_MAX], struct cr_err *err);

/* How many resources 'plan' matches in all ('hops' as above), counting
 * no further than 'max' (0: no limit): *out is the smaller of the two, so
 * "more than N?" costs at most N+1 index entries, not all of them. */
cr_rc
cr_store_search_count(struct cr_store *s, const struct cr_search_plan *plan,
                      const struct cr_store_filter *hops, int64_t max,
                      int64_t *out, struct cr_err *err);

/* Every current resource of one of 'types' whose compartment patient (the
 * row's patient column) is one of 'patients', in no particular order. For
 * gathering facts about a patient (their encounters, consents...). */
cr_rc
cr_store_compartment(struct cr_store *s, const char *const *patients,
                     size_t npatients, const char *const *types,
                     size_t ntypes, cr_store_row_fn fn, void *ctx,
                     struct cr_err *err);

/* The resources 'inc' brings in for the resources of type 'type' whose
 * ids are in the JSON array text 'ids_json' (["a","b"]): what they refer
 * to (_include) or what refers to them (_revinclude). Every one, no cap. */
cr_rc
cr_store_include(struct cr_store *s, const struct cr_search_include *inc,
                 const char *type, const char *ids_json, cr_store_row_fn fn,
                 void *ctx, struct cr_err *err);

/* Patient/$everything: what to take. */
struct cr_store_everything {
    const char *patient_id;
    const char *types_json;     /* JSON array of types, or NULL for all */
    int64_t since_ms;           /* 0: no bound */
    int64_t start_ms, end_ms;   /* care dates; INT64_MIN/MAX: open */
    int count;                  /* page size */
    const char *cursor;         /* from a next link, or NULL */
};

/* The patient, every resource in their compartment, and the
 * Practitioners, Organizations, Locations and Medications those refer to,
 * each exactly once across pages, in a stable order. */
cr_rc
cr_store_everything(struct cr_store *s, const struct cr_store_everything *q,
                    cr_store_row_fn fn, void *ctx,
                    char out_next[CR_STORE_CURSOR_MAX], struct cr_err *err);

/* ---- aliases (alias.c) ----
 *
 * A resource merged into another: every reference to type/id is indexed
 * as a reference to its alias target (searches, compartments and
 * $everything of the target find what refers to it), and a resource in
 * its compartment belongs to the target's compartment. The stored bytes
 * are never changed, so removing the alias restores the index exactly.
 * Targets may chain (C to B to A); resolution follows at most 16 links.
 * mpi/ sets Patient aliases from Patient.link replaced-by. */

/* Inside a write transaction: make type/id an alias of type/to_id
 * ('to_id' NULL: no longer an alias) and re-index, in the same
 * transaction, every resource that refers to either end or lies in its
 * compartment. The caller has checked that 'to_id' exists and that no
 * cycle results (cr_store_txn_alias_resolve). */
cr_rc
cr_store_txn_alias_set(struct cr_store_txn *txn, const char *type,
                       const char *id, const char *to_id,
                       struct cr_err *err);

/* Inside a write transaction: the direct alias target of type/id into
 * out[65], "" when it is no alias. */
cr_rc
cr_store_txn_alias_get(struct cr_store_txn *txn, const char *type,
                       const char *id, char out[65], struct cr_err *err);

/* The final alias target of type/id (id itself when it is no alias),
 * inside a transaction or on a reader. */
cr_rc
cr_store_txn_alias_resolve(struct cr_store_txn *txn, const char *type,
                           const char *id, char out[65],
                           struct cr_err *err);

cr_rc
cr_store_alias_resolve(struct cr_store *s, const char *type, const char *id,
                       char out[65], struct cr_err *err);

/* The ids whose alias chain ends at type/id (not id itself): up to 'max'
 * into out_ids, their number in *out_n. */
cr_rc
cr_store_alias_sources(struct cr_store *s, const char *type, const char *id,
                       char (*out_ids)[65], size_t max, size_t *out_n,
                       struct cr_err *err);

/* ---- patient identity rows (mpi_rows.c) ----
 *
 * The tables of the patient index (mpi/): what mpi/ decides, stored. One
 * row per Patient record, the blocking keys that find candidates, the
 * review list of uncertain pairs and reviewers' decisions. The store does
 * not interpret the values. Pairs (a, b) are unordered: the store keeps
 * them with a < b. */

/* One row. On a put, strings are borrowed for the call ("" or NULL: none
 * for nhs and merged_into); in a callback, valid only during it. */
struct cr_store_mpi_row {
    const char *id;             /* Patient id */
    const char *person;         /* person key */
    const char *nhs;            /* NHS number, or "" */
    const char *demo;           /* demographics, mpi/'s compact text */
    const char *how;            /* how the person was found */
    double weight;              /* the match weight that linked it */
    const char *merged_into;    /* replaced-by target, or "" */
    int64_t updated_ms;
};

typedef cr_rc (*cr_store_mpi_fn)(void *ctx,
                                 const struct cr_store_mpi_row *row);

/* Inside a write transaction: insert or replace the row of row->id and
 * replace its blocking keys with 'keys' (texts; 'nkeys' of them). */
cr_rc
cr_store_txn_mpi_put(struct cr_store_txn *txn,
                     const struct cr_store_mpi_row *row,
                     const char *const *keys, size_t nkeys,
                     struct cr_err *err);

/* Inside a write transaction: remove the row of 'id', its keys and its
 * review pairs (decisions stay). */
cr_rc
cr_store_txn_mpi_delete(struct cr_store_txn *txn, const char *id,
                        struct cr_err *err);

/* The row of 'id' to 'fn'; CR_ENOTFOUND when there is none. */
cr_rc
cr_store_txn_mpi_get(struct cr_store_txn *txn, const char *id,
                     cr_store_mpi_fn fn, void *ctx, struct cr_err *err);

cr_rc
cr_store_mpi_get(struct cr_store *s, const char *id, cr_store_mpi_fn fn,
                 void *ctx, struct cr_err *err);

/* The rows (not merged into another) sharing any of the blocking keys
 * 'keys', at most 'limit' per key ('is_without_nhs': only rows without an
 * NHS number). A row sharing two keys comes twice. */
cr_rc
cr_store_txn_mpi_block(struct cr_store_txn *txn, const char *const *keys,
                       size_t nkeys, bool is_without_nhs, int limit,
                       cr_store_mpi_fn fn, void *ctx, struct cr_err *err);

cr_rc
cr_store_mpi_block(struct cr_store *s, const char *const *keys,
                   size_t nkeys, bool is_without_nhs, int limit,
                   cr_store_mpi_fn fn, void *ctx, struct cr_err *err);

/* The rows with NHS number 'nhs'. */
cr_rc
cr_store_mpi_by_nhs(struct cr_store *s, const char *nhs, cr_store_mpi_fn fn,
                    void *ctx, struct cr_err *err);

/* The rows of person 'person'. */
cr_rc
cr_store_txn_mpi_person(struct cr_store_txn *txn, const char *person,
                        cr_store_mpi_fn fn, void *ctx, struct cr_err *err);

cr_rc
cr_store_mpi_person(struct cr_store *s, const char *person,
                    cr_store_mpi_fn fn, void *ctx, struct cr_err *err);

/* Inside a write transaction: every row of person 'from' becomes person
 * 'to'. */
cr_rc
cr_store_txn_mpi_relabel(struct cr_store_txn *txn, const char *from,
                         const char *to, struct cr_err *err);

/* Inside a write transaction: put the pair (a, b) on the review list with
 * 'weight' (kept since 'now_ms' if already there), or take it off
 * ('b' NULL: every pair of 'a'). */
cr_rc
cr_store_txn_mpi_review_put(struct cr_store_txn *txn, const char *a,
                            const char *b, double weight, int64_t now_ms,
                            struct cr_err *err);

cr_rc
cr_store_txn_mpi_review_delete(struct cr_store_txn *txn, const char *a,
                               const char *b, struct cr_err *err);

/* One review pair, a < b. */
typedef cr_rc (*cr_store_mpi_pair_fn)(void *ctx, const char *a,
                                      const char *b, double weight,
                                      int64_t since_ms);

/* The review list in (a, b) order, from the pair after (after_a,
 * after_b) (NULL: from the first), at most 'limit' pairs; *out_total (may
 * be NULL) gets the length of the whole list. */
cr_rc
cr_store_mpi_review(struct cr_store *s, const char *after_a,
                    const char *after_b, int limit, cr_store_mpi_pair_fn fn,
                    void *ctx, int64_t *out_total, struct cr_err *err);

/* Inside a write transaction: record a reviewer's decision on (a, b):
 * the same person or not. */
cr_rc
cr_store_txn_mpi_decision_put(struct cr_store_txn *txn, const char *a,
                              const char *b, bool is_same, int64_t now_ms,
                              struct cr_err *err);

/* The decision on (a, b): *out is 1 (same person), 0 (different) or -1
 * (none). */
cr_rc
cr_store_txn_mpi_decision_get(struct cr_store_txn *txn, const char *a,
                              const char *b, int *out, struct cr_err *err);

/* Every decision that names 'id': fn(ctx, other, is_same). */
typedef cr_rc (*cr_store_mpi_decision_fn)(void *ctx, const char *other,
                                          bool is_same);

cr_rc
cr_store_txn_mpi_decisions(struct cr_store_txn *txn, const char *id,
                           cr_store_mpi_decision_fn fn, void *ctx,
                           struct cr_err *err);

/* Inside a write transaction: empty the index rows, keys and review list
 * (decisions and aliases stay), before indexing every record again. */
cr_rc
cr_store_txn_mpi_clear(struct cr_store_txn *txn, struct cr_err *err);

/* How many index rows there are, and how many live Patients. */
cr_rc
cr_store_mpi_counts(struct cr_store *s, int64_t *out_rows,
                    int64_t *out_patients, struct cr_err *err);

/* Inside a write transaction: the live resources of 'type' with id after
 * 'after_id' ("" from the first), in id order, at most 'limit': fn gets
 * each one's id and stored bytes (as cr_store_row_fn). For walking a
 * type in batches of transactions. */
cr_rc
cr_store_txn_scan(struct cr_store_txn *txn, const char *type,
                  const char *after_id, int limit, cr_store_row_fn fn,
                  void *ctx, struct cr_err *err);

/* ---- audit rows (audit_rows.c) ----
 *
 * The audit log's table: one row per audited request, in the same database
 * file and durability class as the resources, append-only and hash-chained:
 * each row carries hash = SHA-256(prev_hash || body) in lower-case hex,
 * where prev_hash is the previous row's hash (CR_STORE_AUDIT_GENESIS for
 * the first) and body is the record's canonical JSON made by audit/. The
 * store does not read bodies; the other columns are for indexed reads and
 * are the caller's copy of what the body says. See docs/internals/audit.md.
 */

#define CR_STORE_AUDIT_HASH_LEN 64   /* hex digits of a SHA-256 */

/* prev_hash of the first record: 64 zeros. */
#define CR_STORE_AUDIT_GENESIS                                             \
    "0000000000000000000000000000000000000000000000000000000000000000"

/* One audit record to append. Strings are borrowed; NULL or "" stores SQL
 * NULL (patient, principal_sub, principal_org) or "" (action, outcome). */
struct cr_store_audit_row {
    int64_t time_ms;
    const char *patient;
    const char *principal_sub;
    const char *principal_org;
    const char *action;
    const char *outcome;
    int64_t alerts;             /* bit set (audit/audit.h) */
    const char *body;           /* canonical JSON, not NUL-terminated */
    size_t len;
};

/* One stored audit row as read back. Every pointer is valid only during
 * the callback that receives it; text columns that are NULL are NULL.
 * prev_hash and hash are NUL-terminated as stored (any length if the file
 * was tampered with). */
struct cr_store_audit_entry {
    int64_t seq;                /* 1, 2, 3, ... in append order */
    int64_t time_ms;
    const char *patient;
    const char *principal_sub;
    const char *principal_org;
    const char *action;
    const char *outcome;
    int64_t alerts;
    const char *body;
    size_t len;
    const char *prev_hash;
    const char *hash;
    /* Scans only: where audit_hour says this record's hour (time /
     * 3,600,000) starts, which must be the seq of the first record of
     * the hour; 0 when it has no entry; -1 when not read (queries, or a
     * store from before audit_hour). */
    int64_t hour_first_seq;
};

/* Called for each row a scan or query yields. Return CR_OK to go on;
 * anything else stops the walk and is returned by the walking function. */
typedef cr_rc (*cr_store_audit_fn)(void *ctx,
                                   const struct cr_store_audit_entry *e);

/* The writer-side state of a store's audit table: prepared statements on
 * the writer's connection, the chain head cached between appends, and a
 * SHA-256 context. Opaque. */
struct cr_store_audit;

/* Make the audit appender of open store 's'. *out is to be closed with
 * cr_store_audit_close BEFORE cr_store_close (its statements live on the
 * store's writer connection). Thread-safe. */
cr_rc
cr_store_audit_open(struct cr_store *s, struct cr_store_audit **out,
                    struct cr_err *err);

/* Release the appender (its statements are finalized on the writer
 * thread, after any write already queued). Appends must have finished.
 * NULL is a no-op. */
void
cr_store_audit_close(struct cr_store_audit *a);

/* Inside a write transaction (a cr_store_txn_fn, on the writer thread):
 * append 'row' as the next record of the chain. The record commits or is
 * undone with the rest of the transaction, so a write and its audit record
 * are one atomic step. *out_seq (may be NULL) gets the record's seq and
 * out_hash (may be NULL) its hash; both mean something only once the
 * transaction commits. A rollback of the batch or of a savepoint is safe:
 * the cached head is checked against the table by the insert itself and
 * reloaded if it moved. 'a' must belong to txn's store. */
cr_rc
cr_store_audit_append_txn(struct cr_store_txn *txn, struct cr_store_audit *a,
                          const struct cr_store_audit_row *row,
                          int64_t *out_seq,
                          char out_hash[CR_STORE_AUDIT_HASH_LEN + 1],
                          struct cr_err *err);

/* An asynchronous append, for requests that must not hold a thread while
 * the record is made durable. The caller owns it and keeps it, and every
 * string 'row' points to, alive until 'done' is called. */
struct cr_store_audit_async {
    struct cr_store_audit_row row;   /* set by the caller */
    struct cr_err *err;              /* failure detail, or NULL */
    cr_store_done_fn done;           /* called once, on the writer thread */
    void *done_ctx;
    /* results, meaningful in done() when rc == CR_OK */
    int64_t seq;
    char hash[CR_STORE_AUDIT_HASH_LEN + 1];
    /* private */
    struct cr_store_audit *audit;
    struct cr_store_async job;
};

/* Queue the append 'req' on the store's writer and return at once; records
 * of concurrent callers share one commit (group commit). req->done(ctx, rc)
 * is called once the record is durable (rc == CR_OK) or not written: the
 * caller must not release what the record describes before done reports
 * CR_OK (fail closed). Returns CR_OK when queued; CR_EUNAVAILABLE (store
 * closing) or CR_ENOMEM when not queued, and then done is not called. */
cr_rc
cr_store_audit_append_async(struct cr_store_audit *a,
                            struct cr_store_audit_async *req);

/* The chain hash: out = hex(SHA-256(prev_hash || body)), prev_hash being
 * the 64 hex digits of the previous record's hash. Used by the appender
 * and by verification, so there is one definition. CR_ENOMEM or CR_EIO
 * when OpenSSL fails. Thread-safe. */
cr_rc
cr_store_audit_hash(const char prev_hash[CR_STORE_AUDIT_HASH_LEN],
                    const char *body, size_t len,
                    char out[CR_STORE_AUDIT_HASH_LEN + 1]);

/* Call 'fn' for every audit row with seq > after_seq, in seq order, as of
 * one snapshot (appends made during the walk are not seen). */
cr_rc
cr_store_audit_scan(struct cr_store *s, int64_t after_seq,
                    cr_store_audit_fn fn, void *ctx, struct cr_err *err);

/* As cr_store_audit_scan on the store in directory 'dir' opened read-only,
 * without opening the store (a running node may go on writing; nothing is
 * created or migrated). CR_ENOTFOUND if 'dir' holds no store. A store
 * whose schema predates the audit table has no rows. */
cr_rc
cr_store_audit_scan_dir(const char *dir, int64_t after_seq,
                        cr_store_audit_fn fn, void *ctx,
                        struct cr_err *err);

/* The last committed record: *out_seq (0 when the log is empty) and its
 * hash (CR_STORE_AUDIT_GENESIS when empty). */
cr_rc
cr_store_audit_head(struct cr_store *s, int64_t *out_seq,
                    char out_hash[CR_STORE_AUDIT_HASH_LEN + 1],
                    struct cr_err *err);

/* What to read from the audit log: every set field must match. Strings
 * NULL or "": any. */
struct cr_store_audit_query {
    const char *patient;
    const char *principal_sub;
    const char *principal_org;
    const char *action;
    const char *outcome;
    int64_t since_ms;           /* time >= since_ms; 0: no bound */
    int64_t until_ms;           /* time < until_ms; 0: no bound */
    int64_t before_seq;         /* keyset cursor: seq < before_seq; 0: from
                                   the newest */
    int64_t after_seq;          /* seq > after_seq; 0: no bound */
    int limit;                  /* at most this many; <= 0: 100 */
};

/* Call 'fn' for the matching rows, newest (highest seq) first, at most
 * q->limit of them. *out_next (may be NULL) gets the before_seq of the
 * next page, or 0 when this page is the last. */
cr_rc
cr_store_audit_query(struct cr_store *s, const struct cr_store_audit_query *q,
                     cr_store_audit_fn fn, void *ctx, int64_t *out_next,
                     struct cr_err *err);

/* As cr_store_audit_query inside a write transaction (a cr_store_txn_fn,
 * on the writer thread), seeing the records appended earlier in the same
 * transaction, which a reader does not see before the commit: for a check
 * that must hold when the transaction's own record is appended. Keep it
 * narrow (after_seq, few rows): every other write waits meanwhile. */
cr_rc
cr_store_txn_audit_query(struct cr_store_txn *txn,
                         const struct cr_store_audit_query *q,
                         cr_store_audit_fn fn, void *ctx, int64_t *out_next,
                         struct cr_err *err);

/* The audit journal's position (audit/journal.c): the jseq of the last
 * record moved from the journal into the table and the journal position
 * just past it; 0 and 0 when nothing was ever moved. _get and _set run
 * inside a write transaction (a cr_store_txn_fn), so the position moves
 * with the records it covers. */
cr_rc
cr_store_audit_journal_get(struct cr_store_txn *txn, int64_t *out_jseq,
                           uint64_t *out_pos, struct cr_err *err);

cr_rc
cr_store_audit_journal_set(struct cr_store_txn *txn, int64_t jseq,
                           uint64_t pos, struct cr_err *err);

/* As cr_store_audit_journal_get on the store in directory 'dir' opened
 * read-only (a running node may go on writing). */
cr_rc
cr_store_audit_journal_dir(const char *dir, int64_t *out_jseq,
                           uint64_t *out_pos, struct cr_err *err);

#endif
