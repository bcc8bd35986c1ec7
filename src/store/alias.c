/* alias.c: resources merged into others, and what that does to the index.
 *
 * An alias says "type/id is now type/to_id" (a Patient merged into the
 * record that survives). The index follows it: rows.c writes every
 * reference row to an aliased resource as a row to its final target, and
 * the writer files a resource whose compartment patient is aliased under
 * the target. Setting or removing an alias re-indexes, in the same
 * transaction, every resource whose rows name either end, from its stored
 * bytes, which are never changed: so searches and $everything of the
 * survivor find the merged record's data, and removing the alias puts
 * every row back where the bytes say. Depends on SQLite, fhir/, jansson,
 * core/. */
#include "store/storeInt.h"

#include "fhir/fhir.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
copy_id(char out[65], const unsigned char *s, int n)
{
    size_t len = n < 0 ? 0 : (size_t)n;

    if (len > 64)
        len = 64;
    if (len)
        memcpy(out, s, len);
    out[len] = '\0';
}

bool
cr_store_conn_has_aliases(struct conn *c)
{
    sqlite3_stmt *st = NULL;

    if (c->alias_state == 0) {
        /* Before migration 5 there is no table: no aliases either. */
        c->alias_state = 1;
        if (sqlite3_prepare_v2(c->db, "SELECT EXISTS(SELECT 1 FROM alias)",
                               -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0))
            c->alias_state = 2;
        sqlite3_finalize(st);
    }
    return c->alias_state == 2;
}

/* The direct target of type/id, "" when none. */
static cr_rc
alias_get(struct conn *c, const char *type, const char *id, char out[65],
          struct cr_err *err)
{
    sqlite3_stmt *st = cr_store_stmt(c, ST_ALIAS_GET, err);
    int r;

    out[0] = '\0';
    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_int64(st, 1, cr_store_hash_ref(type, id));
    r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        copy_id(out, sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0));
    sqlite3_reset(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return cr_store_sqlerr(c, "reading an alias", err);
    return CR_OK;
}

cr_rc
cr_store_conn_alias_resolve(struct conn *c, const char *type, const char *id,
                            char out[65], struct cr_err *err)
{
    char cur[65], next[65];
    int hop;
    cr_rc rc;

    snprintf(cur, sizeof cur, "%s", id);
    if (cr_store_conn_has_aliases(c)) {
        for (hop = 0; hop < CR_STORE_ALIAS_HOPS; hop++) {
            rc = alias_get(c, type, cur, next, err);
            if (rc != CR_OK)
                return rc;
            if (next[0] == '\0')
                break;
            memcpy(cur, next, sizeof cur);
        }
    }
    memcpy(out, cur, sizeof cur);
    return CR_OK;
}

cr_rc
cr_store_txn_alias_get(struct cr_store_txn *txn, const char *type,
                       const char *id, char out[65], struct cr_err *err)
{
    out[0] = '\0';
    if (!cr_store_conn_has_aliases(txn->c))
        return CR_OK;
    return alias_get(txn->c, type, id, out, err);
}

cr_rc
cr_store_txn_alias_resolve(struct cr_store_txn *txn, const char *type,
                           const char *id, char out[65], struct cr_err *err)
{
    return cr_store_conn_alias_resolve(txn->c, type, id, out, err);
}

void
cr_store_alias_init(struct cr_store *s)
{
    atomic_store(&s->has_aliases, cr_store_conn_has_aliases(s->wconn));
}

cr_rc
cr_store_alias_resolve(struct cr_store *s, const char *type, const char *id,
                       char out[65], struct cr_err *err)
{
    struct conn *c;
    cr_rc rc;

    if (!atomic_load(&s->has_aliases)) {
        snprintf(out, 65, "%s", id);
        return CR_OK;
    }
    rc = cr_store_acquire(s, &c, err);
    if (rc != CR_OK)
        return rc;
    /* a reader may have seen "none" before the first alias was made */
    c->alias_state = 2;
    rc = cr_store_conn_alias_resolve(c, type, id, out, err);
    cr_store_release(s, c);
    return rc;
}

cr_rc
cr_store_alias_sources(struct cr_store *s, const char *type, const char *id,
                       char (*out_ids)[65], size_t max, size_t *out_n,
                       struct cr_err *err)
{
    /* Breadth first over the (type, to_id) index: the ids aliased to id,
     * then those aliased to them, each found id queried once. */
    static const char sql[] = "SELECT id FROM alias WHERE type=?1 AND "
                              "to_id=?2";
    struct conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char cur[65];
    size_t n = 0, head = 0;
    cr_rc rc;
    int r;

    *out_n = 0;
    if (!atomic_load(&s->has_aliases))
        return CR_OK;
    rc = cr_store_acquire(s, &c, err);
    if (rc != CR_OK)
        return rc;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = cr_store_sqlerr(c, "reading aliases", err);
        goto out;
    }
    snprintf(cur, sizeof cur, "%s", id);
    for (;;) {
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, cur, -1, SQLITE_STATIC);
        while ((r = sqlite3_step(st)) == SQLITE_ROW && n < max)
            copy_id(out_ids[n++], sqlite3_column_text(st, 0),
                    sqlite3_column_bytes(st, 0));
        sqlite3_reset(st);
        if (r != SQLITE_DONE && r != SQLITE_ROW) {
            rc = cr_store_sqlerr(c, "reading aliases", err);
            goto out;
        }
        if (head >= n)
            break;
        memcpy(cur, out_ids[head++], sizeof cur);
    }
    *out_n = n;
out:
    sqlite3_finalize(st);
    cr_store_release(s, c);
    return rc;
}

/* ---- re-indexing what an alias change touches ---- */

struct rids {
    int64_t *v;
    size_t n, cap;
};

static bool
rids_add(struct rids *r, int64_t rid)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (r->v[i] == rid)
            return true;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        int64_t *v = realloc(r->v, cap * sizeof *v);
        if (v == NULL)
            return false;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = rid;
    return true;
}

/* Every live resource whose index rows refer to type/id (any parameter,
 * compartments included) or whose compartment patient is id. */
static cr_rc
collect(struct conn *c, const char *type, const char *id, struct rids *out,
        struct cr_err *err)
{
    static const char sql[] =
        "SELECT rid FROM ix_ref WHERE ht=?1 UNION "
        "SELECT rid FROM resources WHERE patient=?2 AND ?3";
    sqlite3_stmt *st = NULL;
    cr_rc rc = CR_OK;
    int r;

    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return cr_store_sqlerr(c, "finding what refers to a record", err);
    sqlite3_bind_int64(st, 1, cr_store_hash_ref(type, id));
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, strcmp(type, "Patient") == 0);
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        if (!rids_add(out, sqlite3_column_int64(st, 0))) {
            rc = cr_err_set(err, CR_ENOMEM, "exception", NULL,
                            "out of memory");
            break;
        }
    if (rc == CR_OK && r != SQLITE_DONE)
        rc = cr_store_sqlerr(c, "finding what refers to a record", err);
    sqlite3_finalize(st);
    return rc;
}

/* Index one resource again from its stored bytes and file it under its
 * (alias-resolved) compartment patient. */
static cr_rc
reindex_one(struct cr_store *s, struct conn *c, sqlite3_stmt *get,
            int64_t rid, struct cr_err *err)
{
    char type[64], id[65], old_patient[65], patient[65], resolved[65];
    sqlite3_stmt *st;
    json_t *root;
    cr_rc rc;
    int r;

    sqlite3_bind_int64(get, 1, rid);
    r = sqlite3_step(get);
    if (r != SQLITE_ROW) {
        sqlite3_reset(get);
        return r == SQLITE_DONE ? CR_OK
                                : cr_store_sqlerr(c, "reading a resource",
                                                  err);
    }
    snprintf(type, sizeof type, "%s",
             (const char *)sqlite3_column_text(get, 0));
    copy_id(id, sqlite3_column_text(get, 1), sqlite3_column_bytes(get, 1));
    copy_id(old_patient, sqlite3_column_text(get, 3),
            sqlite3_column_bytes(get, 3));
    root = json_loadb(sqlite3_column_blob(get, 2),
                      (size_t)sqlite3_column_bytes(get, 2), 0, NULL);
    sqlite3_reset(get);
    if (root == NULL)
        return CR_OK;   /* never stored unparsable; nothing to redo */
    rc = cr_store_index_resource(c, type, id, rid, root, err);
    if (rc == CR_OK) {
        resolved[0] = '\0';
        if (cr_fhir_compartment_patient(root, patient, sizeof patient) ==
            CR_OK)
            rc = cr_store_conn_alias_resolve(c, "Patient", patient,
                                             resolved, err);
    }
    json_decref(root);
    if (rc != CR_OK)
        return rc;
    if (strcmp(resolved, old_patient) == 0)
        return CR_OK;
    st = cr_store_stmt(c, ST_SET_PATIENT, err);
    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_int64(st, 1, rid);
    if (resolved[0])
        sqlite3_bind_text(st, 2, resolved, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
        return cr_store_sqlerr(c, "filing a resource", err);
    cr_store_gen_touch(s, cr_store_gen_slot(old_patient, type));
    cr_store_gen_touch(s, cr_store_gen_slot(resolved, type));
    return CR_OK;
}

cr_rc
cr_store_txn_alias_set(struct cr_store_txn *txn, const char *type,
                       const char *id, const char *to_id,
                       struct cr_err *err)
{
    struct conn *c = txn->c;
    struct rids rids = { NULL, 0, 0 };
    char old_end[65];
    sqlite3_stmt *st, *get = NULL;
    size_t i;
    cr_rc rc;
    int r;

    /* Where the rows of id's data point now: its final target. */
    rc = cr_store_conn_alias_resolve(c, type, id, old_end, err);
    if (rc != CR_OK)
        return rc;
    st = cr_store_stmt(c, to_id ? ST_ALIAS_PUT : ST_ALIAS_DEL, err);
    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_int64(st, 1, cr_store_hash_ref(type, id));
    if (to_id) {
        sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, to_id, -1, SQLITE_STATIC);
    }
    r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE)
        return cr_store_sqlerr(c, "writing an alias", err);
    /* Never back to "none" on the writer: a rollback could restore an
     * alias removed here. */
    if (to_id) {
        c->alias_state = 2;
        atomic_store(&txn->store->has_aliases, true);
    }

    /* Rows written under id (none while it was an alias) and under its
     * old final target (which holds id's rows while it was one). */
    rc = collect(c, type, id, &rids, err);
    if (rc == CR_OK && strcmp(old_end, id) != 0)
        rc = collect(c, type, old_end, &rids, err);
    if (rc != CR_OK)
        goto out;
    if (sqlite3_prepare_v2(c->db, "SELECT type,id,json,patient FROM "
                                  "resources WHERE rid=?1 AND deleted=0",
                           -1, &get, NULL) != SQLITE_OK) {
        rc = cr_store_sqlerr(c, "reading resources to index", err);
        goto out;
    }
    for (i = 0; i < rids.n && rc == CR_OK; i++)
        rc = reindex_one(txn->store, c, get, rids.v[i], err);
out:
    sqlite3_finalize(get);
    free(rids.v);
    return rc;
}
