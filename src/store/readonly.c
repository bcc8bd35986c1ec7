/* readonly.c: reading a store's database file without opening the store.
 *
 * The command line's audit tools (verify, report) read the data directory
 * of a node that may be running: the file is opened read-only, nothing is
 * created, migrated or checkpointed, and a missing store is an answer
 * (CR_ENOTFOUND), not a new empty one. Each call opens the file, reads one
 * snapshot and closes it. Depends on SQLite, hash.c, core/. */
#include "store/storeInt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cr_rc
cr_store_open_dir_ro(const char *dir, sqlite3 **out, struct cr_err *err)
{
    sqlite3 *db = NULL;
    size_t n = strlen(dir) + sizeof "/carerecord.db";
    char *path = malloc(n);
    cr_rc rc = CR_OK;

    *out = NULL;
    if (path == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    snprintf(path, n, "%s/carerecord.db", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
        SQLITE_OK) {
        rc = cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                        "no store in %s (cannot open %s: %s)", dir, path,
                        db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        goto out;
    }
    sqlite3_busy_timeout(db, 10000);
    *out = db;
out:
    free(path);
    return rc;
}

cr_rc
cr_store_has_table(sqlite3 *db, const char *table, bool *out,
                   struct cr_err *err)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE "
                               "type='table' AND name=?1",
                           -1, &st, NULL) != SQLITE_OK)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "store: %s is not a readable store: %s",
                          sqlite3_db_filename(db, "main"),
                          sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    *out = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return CR_OK;
}

static const char find_sql[] =
    "SELECT r.id,r.version,r.last_updated,r.seq,r.deleted,r.patient,r.org,"
    "r.node,r.json FROM resources r WHERE r.rid IN (SELECT t.rid FROM "
    "ix_token t WHERE t.hsc=?1) AND r.type=?2 AND r.deleted=0 ORDER BY r.id";

cr_rc
cr_store_find_dir(const char *dir, const char *type, const char *param,
                  const char *system, const char *code, cr_store_row_fn fn,
                  void *ctx, struct cr_err *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct cr_store_meta meta;
    bool has_index = false;
    cr_rc rc;
    int r;

    rc = cr_store_open_dir_ro(dir, &db, err);
    if (rc != CR_OK)
        return rc;
    /* Stores from before schema 3 have no ix_token, and no matches. */
    rc = cr_store_has_table(db, "ix_token", &has_index, err);
    if (rc != CR_OK || !has_index)
        goto out;
    if (sqlite3_prepare_v2(db, find_sql, -1, &st, NULL) != SQLITE_OK) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "store: looking up %s: %s", type, sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_int64(st, 1, cr_store_hash4(type, param, system, code));
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const void *json = sqlite3_column_blob(st, 8);
        size_t len = (size_t)sqlite3_column_bytes(st, 8);

        memset(&meta, 0, sizeof meta);
        cr_store_meta_from_row(st, 1, &meta);
        rc = fn(ctx, type, id ? id : "", &meta, json ? json : "", len);
        if (rc != CR_OK)
            goto out;
    }
    if (r != SQLITE_DONE)
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "store: looking up %s: %s", type, sqlite3_errmsg(db));
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}
