/* rows.c: search index rows, one table per kind of value.
 *
 * Every table is keyed by the resource's rid first, so a resource's rows
 * are replaced by a prefix delete when it changes and a search can probe
 * one resource cheaply; a second index answers the lookups searches make,
 * by 64-bit hash keys (hash.c) rather than repeated text. Rows come from
 * fhir/'s extraction (cr_fhir_index), done by the caller off the writer
 * thread. Depends on SQLite, fhir/, jansson, core/. */
#include "store/storeInt.h"

#include "fhir/fhir.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static const char *const index_sql[ST__COUNT] = {
    [ST_DEL_TOKEN] = "DELETE FROM ix_token WHERE rid=?1",
    [ST_DEL_STRING] = "DELETE FROM ix_string WHERE rid=?1",
    [ST_DEL_DATE] = "DELETE FROM ix_date WHERE rid=?1",
    [ST_DEL_REF] = "DELETE FROM ix_ref WHERE rid=?1",
    [ST_DEL_NUMBER] = "DELETE FROM ix_number WHERE rid=?1",
    [ST_ADD_TOKEN] = "INSERT OR IGNORE INTO ix_token(rid,hsc,hc,hs,code,text,"
                     "hp) VALUES(?1,?2,?3,?4,?5,?6,?7)",
    [ST_ADD_STRING] = "INSERT OR IGNORE INTO ix_string(rid,hp,norm,raw) "
                      "VALUES(?1,?2,?3,?4)",
    [ST_ADD_DATE] = "INSERT OR IGNORE INTO ix_date(rid,hp,lo,hi) "
                    "VALUES(?1,?2,?3,?4)",
    [ST_ADD_REF] = "INSERT OR IGNORE INTO ix_ref(rid,hp,ht) VALUES(?1,?2,?3)",
    [ST_ADD_NUMBER] = "INSERT OR IGNORE INTO ix_number(rid,hp,num,lo,hi,hu,"
                      "hcu) VALUES(?1,?2,?3,?4,?5,?6,?7)",
};

const char *
cr_store_index_sql(int which)
{
    return index_sql[which];
}

/* H(type, param); compartment rows use one key for every type, so a
 * patient's whole compartment is one index range. */
static int64_t
param_hash(const char *type, const char *param)
{
    if (strcmp(param, CR_STORE_COMPARTMENT_PARAM) == 0)
        return cr_store_hash2("*", param);
    return cr_store_hash2(type, param);
}

static void
bind_s(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

static cr_rc
add_row(struct conn *c, const char *type, int64_t rid,
        const struct cr_fhir_index_row *r, struct cr_err *err)
{
    sqlite3_stmt *st;
    const char *code, *target = r->ref_id;
    char resolved[65];
    int which;

    switch (r->kind) {
    case CR_SP_TOKEN:
    case CR_SP_URI:
        which = ST_ADD_TOKEN;
        break;
    case CR_SP_STRING:
        which = ST_ADD_STRING;
        break;
    case CR_SP_DATE:
        which = ST_ADD_DATE;
        break;
    case CR_SP_REFERENCE:
        if (r->ref_type == NULL || r->ref_id == NULL)
            return CR_OK;
        /* A reference to a merged resource is a reference to the one it
         * was merged into (alias.c). */
        if (cr_store_conn_has_aliases(c)) {
            cr_rc rc = cr_store_conn_alias_resolve(c, r->ref_type, r->ref_id,
                                                   resolved, err);
            if (rc != CR_OK)
                return rc;
            target = resolved;
        }
        which = ST_ADD_REF;
        break;
    case CR_SP_NUMBER:
    case CR_SP_QUANTITY:
        which = ST_ADD_NUMBER;
        break;
    default:
        return CR_OK;
    }
    st = cr_store_stmt(c, which, err);
    if (st == NULL)
        return CR_EIO;
    sqlite3_bind_int64(st, 1, rid);
    switch (r->kind) {
    case CR_SP_TOKEN:
    case CR_SP_URI:
        /* URIs match exactly, as tokens without a system do. */
        code = r->kind == CR_SP_URI ? (r->code ? r->code : r->raw) : r->code;
        sqlite3_bind_int64(st, 2, cr_store_hash4(type, r->param,
                                                 r->kind == CR_SP_URI
                                                     ? "" : r->system,
                                                 code));
        sqlite3_bind_int64(st, 3, cr_store_hash3(type, r->param, code));
        sqlite3_bind_int64(st, 4, cr_store_hash3(type, r->param,
                                                 r->kind == CR_SP_URI
                                                     ? "" : r->system));
        bind_s(st, 5, code);
        bind_s(st, 6, r->kind == CR_SP_URI ? "" : r->text);
        sqlite3_bind_int64(st, 7, cr_store_hash2(type, r->param));
        break;
    case CR_SP_STRING:
        sqlite3_bind_int64(st, 2, cr_store_hash2(type, r->param));
        bind_s(st, 3, r->text);
        bind_s(st, 4, r->raw);
        break;
    case CR_SP_DATE:
        sqlite3_bind_int64(st, 2, cr_store_hash2(type, r->param));
        sqlite3_bind_int64(st, 3, r->lo);
        sqlite3_bind_int64(st, 4, r->hi);
        break;
    case CR_SP_REFERENCE:
        sqlite3_bind_int64(st, 2, param_hash(type, r->param));
        sqlite3_bind_int64(st, 3, cr_store_hash_ref(r->ref_type, target));
        break;
    default:
        sqlite3_bind_int64(st, 2, cr_store_hash2(type, r->param));
        if (isnan(r->num))
            sqlite3_bind_null(st, 3);
        else
            sqlite3_bind_double(st, 3, r->num);
        sqlite3_bind_double(st, 4, r->num_lo);
        sqlite3_bind_double(st, 5, r->num_hi);
        sqlite3_bind_int64(st, 6, r->code ? cr_store_hash2(r->system, r->code)
                                          : 0);
        sqlite3_bind_int64(st, 7, r->code ? cr_store_hash2("", r->code) : 0);
        break;
    }
    if (sqlite3_step(st) != SQLITE_DONE)
        return cr_store_sqlerr(c, "writing index rows", err);
    return CR_OK;
}

cr_rc
cr_store_index_put(struct conn *c, const char *type, int64_t rid,
                   bool has_old, const struct cr_fhir_index_row *rows,
                   size_t nrows, struct cr_err *err)
{
    size_t i;
    int which;
    cr_rc rc;

    if (has_old) {
        for (which = ST_DEL_TOKEN; which <= ST_DEL_NUMBER; which++) {
            sqlite3_stmt *st = cr_store_stmt(c, which, err);
            if (st == NULL)
                return CR_EIO;
            sqlite3_bind_int64(st, 1, rid);
            if (sqlite3_step(st) != SQLITE_DONE)
                return cr_store_sqlerr(c, "clearing index rows", err);
        }
    }
    for (i = 0; i < nrows; i++) {
        rc = add_row(c, type, rid, &rows[i], err);
        if (rc != CR_OK)
            return rc;
    }
    return CR_OK;
}

cr_rc
cr_store_index_self(struct conn *c, const char *type, const char *id,
                    int64_t rid, struct cr_err *err)
{
    struct cr_fhir_index_row row;

    if (strcmp(type, "Patient") != 0)
        return CR_OK;
    memset(&row, 0, sizeof row);
    row.kind = CR_SP_REFERENCE;
    row.param = CR_STORE_COMPARTMENT_PARAM;
    row.ref_type = "Patient";
    row.ref_id = id;
    return add_row(c, type, rid, &row, err);
}

struct reindex_ctx {
    struct conn *c;
    const char *type;
    int64_t rid;
    struct cr_err *err;
    cr_rc rc;
};

static int
reindex_row(void *ctx, const struct cr_fhir_index_row *row)
{
    struct reindex_ctx *r = ctx;

    r->rc = add_row(r->c, r->type, r->rid, row, r->err);
    return r->rc != CR_OK;
}

static void
reindex_compartment(void *ctx, const char *id, size_t len)
{
    struct reindex_ctx *r = ctx;
    struct cr_fhir_index_row row;
    char buf[65];

    if (r->rc != CR_OK || len >= sizeof buf)
        return;
    memcpy(buf, id, len);
    buf[len] = '\0';
    memset(&row, 0, sizeof row);
    row.kind = CR_SP_REFERENCE;
    row.param = CR_STORE_COMPARTMENT_PARAM;
    row.ref_type = "Patient";
    row.ref_id = buf;
    r->rc = add_row(r->c, r->type, r->rid, &row, r->err);
}

/* Add every row of parsed resource 'root' at 'rid'. */
static cr_rc
index_root(struct conn *c, const char *type, const char *id, int64_t rid,
           const json_t *root, struct cr_err *err)
{
    struct reindex_ctx ctx;

    ctx.c = c;
    ctx.type = type;
    ctx.rid = rid;
    ctx.err = err;
    ctx.rc = CR_OK;
    cr_fhir_index(root, reindex_row, &ctx, err);
    cr_fhir_compartment_patients(root, reindex_compartment, &ctx);
    if (ctx.rc == CR_OK)
        ctx.rc = cr_store_index_self(c, type, id, rid, err);
    return ctx.rc;
}

cr_rc
cr_store_index_resource(struct conn *c, const char *type, const char *id,
                        int64_t rid, const json_t *root, struct cr_err *err)
{
    cr_rc rc = cr_store_index_put(c, type, rid, true, NULL, 0, err);

    return rc == CR_OK ? index_root(c, type, id, rid, root, err) : rc;
}

cr_rc
cr_store_reindex(struct conn *c, struct cr_err *err)
{
    static const char *const clear =
        "DELETE FROM ix_token; DELETE FROM ix_string; DELETE FROM ix_date;"
        "DELETE FROM ix_ref; DELETE FROM ix_number;";
    sqlite3_stmt *st = NULL;
    cr_rc rc = CR_OK;
    int r;

    if (sqlite3_exec(c->db, clear, NULL, NULL, NULL) != SQLITE_OK)
        return cr_store_sqlerr(c, "clearing the index", err);
    if (sqlite3_prepare_v2(c->db, "SELECT type, rid, json, id FROM resources "
                                  "WHERE deleted=0", -1, &st, NULL) !=
        SQLITE_OK)
        return cr_store_sqlerr(c, "reading resources to index", err);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *root = json_loadb(sqlite3_column_blob(st, 2),
                                  (size_t)sqlite3_column_bytes(st, 2), 0,
                                  NULL);
        if (root == NULL)
            continue;   /* never stored unparsable; skip rather than stop */
        rc = index_root(c, (const char *)sqlite3_column_text(st, 0),
                        (const char *)sqlite3_column_text(st, 3),
                        sqlite3_column_int64(st, 1), root, err);
        json_decref(root);
        if (rc != CR_OK)
            break;
    }
    if (rc == CR_OK && r != SQLITE_DONE)
        rc = cr_store_sqlerr(c, "reading resources to index", err);
    sqlite3_finalize(st);
    return rc;
}
