/* identifiers.c: a Patient identifier system's values, in change order.
 *
 * The record locator (federation/) needs to know which NHS numbers this
 * node holds: once in full, then whatever changed since. Patients are
 * walked through resources_type_seq (type, seq) from a sequence number, and
 * each one's token rows are probed by rid (the ix_token primary key), so a
 * call costs one index range plus one probe per Patient, however large the
 * store. Depends on SQLite and the rest of store/. */
#include "store/storeInt.h"

#include <string.h>

/* The seq of the limit-th Patient changed after ?1 (NULL when none). */
static const char bound_sql[] =
    "SELECT max(seq) FROM (SELECT seq FROM resources "
    "WHERE type = 'Patient' AND seq > ?1 ORDER BY seq LIMIT ?2)";

static const char walk_sql[] =
    "SELECT r.seq, t.code FROM resources r JOIN ix_token t ON t.rid = r.rid "
    "WHERE r.type = 'Patient' AND r.seq > ?1 AND r.seq <= ?2 "
    "AND r.deleted = 0 AND t.hs = ?3 ORDER BY r.seq";

cr_rc
cr_store_patient_identifiers(struct cr_store *s, const char *system,
                             int64_t after_seq, int limit,
                             cr_store_ident_fn fn, void *ctx,
                             int64_t *out_last, struct cr_err *err)
{
    struct conn *c = NULL;
    sqlite3_stmt *bound = NULL, *walk = NULL;
    int64_t last;
    cr_rc rc;
    int step;

    if (out_last)
        *out_last = after_seq;
    rc = cr_store_acquire(s, &c, err);
    if (rc != CR_OK)
        return rc;
    if (sqlite3_prepare_v2(c->db, bound_sql, -1, &bound, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, walk_sql, -1, &walk, NULL) != SQLITE_OK) {
        rc = cr_store_sqlerr(c, "preparing the identifier walk", err);
        goto out;
    }
    /* The connection's one snapshot: the bound and the walk agree. */
    sqlite3_bind_int64(bound, 1, after_seq);
    sqlite3_bind_int(bound, 2, limit > 0 ? limit : 1000);
    step = sqlite3_step(bound);
    if (step != SQLITE_ROW) {
        rc = cr_store_sqlerr(c, "walking identifiers", err);
        goto end;
    }
    if (sqlite3_column_type(bound, 0) == SQLITE_NULL)
        goto end;       /* nothing changed */
    last = sqlite3_column_int64(bound, 0);
    sqlite3_bind_int64(walk, 1, after_seq);
    sqlite3_bind_int64(walk, 2, last);
    sqlite3_bind_int64(walk, 3, cr_store_hash3("Patient", "identifier",
                                               system));
    while ((step = sqlite3_step(walk)) == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(walk, 1);
        rc = fn(ctx, sqlite3_column_int64(walk, 0),
                v ? (const char *)v : "");
        if (rc != CR_OK)
            goto end;
    }
    if (step != SQLITE_DONE) {
        rc = cr_store_sqlerr(c, "walking identifiers", err);
        goto end;
    }
    /* Patients without such an identifier move the walk on too. */
    if (out_last)
        *out_last = last;
end:
    sqlite3_reset(bound);
    sqlite3_reset(walk);
out:
    sqlite3_finalize(bound);
    sqlite3_finalize(walk);
    cr_store_release(s, c);
    return rc;
}
