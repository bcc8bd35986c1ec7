/* locator.c: the record locator's database: which nodes hold data for an
 * NHS number.
 *
 * One table of (NHS number, node) pairs in data_dir/locator.db, beside the
 * node's own store but not part of it: it holds no record content and can
 * be rebuilt from the nodes at any time (registrar.c), so it is written
 * with synchronous=NORMAL. One connection, one lock: a lookup is a primary
 * key range of a few rows. Depends on SQLite and core/. */
#include "federation/fedInt.h"

#include "fhir/fhir.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cr_fed_locdb {
    sqlite3 *db;
    sqlite3_stmt *get, *put;
    pthread_mutex_t lock;
};

static cr_rc
sqlerr(sqlite3 *db, const char *what, struct cr_err *err)
{
    return cr_err_set(err, CR_EIO, "exception", NULL, "locator: %s: %s",
                      what, db ? sqlite3_errmsg(db) : "cannot open");
}

cr_rc
cr_fed_locdb_open(const char *dir, struct cr_fed_locdb **out,
                  struct cr_err *err)
{
    struct cr_fed_locdb *l = calloc(1, sizeof *l);
    char path[1100];
    cr_rc rc;

    *out = NULL;
    if (l == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    pthread_mutex_init(&l->lock, NULL);
    snprintf(path, sizeof path, "%s/locator.db", dir);
    if (sqlite3_open_v2(path, &l->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = sqlerr(l->db, "opening the database", err);
        goto fail;
    }
    sqlite3_busy_timeout(l->db, 10000);
    if (sqlite3_exec(l->db,
                     "PRAGMA journal_mode=WAL;"
                     "PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE IF NOT EXISTS locator("
                     "  nhs TEXT NOT NULL, node TEXT NOT NULL,"
                     "  PRIMARY KEY (nhs, node)) WITHOUT ROWID;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = sqlerr(l->db, "setting up the database", err);
        goto fail;
    }
    if (sqlite3_prepare_v2(l->db,
                           "SELECT node FROM locator WHERE nhs = ?1 "
                           "ORDER BY node",
                           -1, &l->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(l->db,
                           "INSERT OR IGNORE INTO locator(nhs, node) "
                           "VALUES (?1, ?2)",
                           -1, &l->put, NULL) != SQLITE_OK) {
        rc = sqlerr(l->db, "preparing statements", err);
        goto fail;
    }
    *out = l;
    return CR_OK;
fail:
    cr_fed_locdb_close(l);
    return rc;
}

void
cr_fed_locdb_close(struct cr_fed_locdb *l)
{
    if (l == NULL)
        return;
    sqlite3_finalize(l->get);
    sqlite3_finalize(l->put);
    sqlite3_close(l->db);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

cr_rc
cr_fed_locdb_lookup(struct cr_fed_locdb *l, const char *nhs,
                    char (*out)[CR_FED_ID_MAX + 1], size_t max,
                    size_t *out_n, struct cr_err *err)
{
    cr_rc rc = CR_OK;
    int step;

    *out_n = 0;
    pthread_mutex_lock(&l->lock);
    sqlite3_reset(l->get);
    sqlite3_bind_text(l->get, 1, nhs, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(l->get)) == SQLITE_ROW) {
        const unsigned char *node = sqlite3_column_text(l->get, 0);
        if (*out_n < max && node)
            snprintf(out[(*out_n)++], CR_FED_ID_MAX + 1, "%s", node);
    }
    if (step != SQLITE_DONE)
        rc = sqlerr(l->db, "looking up", err);
    sqlite3_reset(l->get);
    sqlite3_clear_bindings(l->get);
    pthread_mutex_unlock(&l->lock);
    return rc;
}

cr_rc
cr_fed_locdb_add(struct cr_fed_locdb *l, const char *node,
                 const char *const *nhs, size_t n, struct cr_err *err)
{
    cr_rc rc = CR_OK;
    size_t i;

    if (!cr_fed_id_valid(node))
        return cr_err_set(err, CR_EINVAL, "value", "node",
                          "'%.40s' is not a node id", node ? node : "");
    for (i = 0; i < n; i++)
        if (nhs[i] == NULL ||
            !cr_fhir_nhs_number_valid(nhs[i], strlen(nhs[i])))
            return cr_err_set(err, CR_EINVAL, "value", "nhs",
                              "'%.20s' is not a valid NHS number",
                              nhs[i] ? nhs[i] : "");
    pthread_mutex_lock(&l->lock);
    if (sqlite3_exec(l->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sqlerr(l->db, "registering", err);
        goto out;
    }
    for (i = 0; i < n; i++) {
        sqlite3_reset(l->put);
        sqlite3_bind_text(l->put, 1, nhs[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(l->put, 2, node, -1, SQLITE_STATIC);
        if (sqlite3_step(l->put) != SQLITE_DONE) {
            rc = sqlerr(l->db, "registering", err);
            break;
        }
    }
    sqlite3_reset(l->put);
    sqlite3_clear_bindings(l->put);
    if (sqlite3_exec(l->db, rc == CR_OK ? "COMMIT" : "ROLLBACK", NULL, NULL,
                     NULL) != SQLITE_OK && rc == CR_OK)
        rc = sqlerr(l->db, "registering", err);
out:
    pthread_mutex_unlock(&l->lock);
    return rc;
}
