/* hash.c: the 64-bit keys of index rows.
 *
 * Index rows do not repeat resource types, parameter names, systems and
 * codes as text: each lookup key is one 64-bit hash (XXH3) of the parts it
 * stands for, joined with a separator byte that cannot occur in them, so a
 * row is a few integers and one b-tree probe answers a lookup. Search and
 * write use the same functions, so they always agree. Depends on xxhash. */
#include "store/storeInt.h"

#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

int64_t
cr_store_hash(const char *const *parts, size_t n)
{
    char buf[512];
    size_t i, len = 0;
    XXH3_state_t st;

    /* Usually one short buffer and one call; long parts stream. */
    for (i = 0; i < n; i++) {
        const char *p = parts[i] ? parts[i] : "";
        size_t k = strlen(p);
        if (len + k + 1 > sizeof buf)
            goto stream;
        memcpy(buf + len, p, k);
        len += k;
        buf[len++] = '\x1f';
    }
    return (int64_t)XXH3_64bits(buf, len);
stream:
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset(&st);
    for (i = 0; i < n; i++) {
        const char *p = parts[i] ? parts[i] : "";
        XXH3_64bits_update(&st, p, strlen(p));
        XXH3_64bits_update(&st, "\x1f", 1);
    }
    return (int64_t)XXH3_64bits_digest(&st);
}

int64_t
cr_store_hash2(const char *a, const char *b)
{
    const char *parts[2] = { a, b };

    return cr_store_hash(parts, 2);
}

int64_t
cr_store_hash3(const char *a, const char *b, const char *c)
{
    const char *parts[3] = { a, b, c };

    return cr_store_hash(parts, 3);
}

int64_t
cr_store_hash4(const char *a, const char *b, const char *c, const char *d)
{
    const char *parts[4] = { a, b, c, d };

    return cr_store_hash(parts, 4);
}

int64_t
cr_store_hash_ref(const char *type, const char *id)
{
    return cr_store_hash2(type, id);
}

/* SQL: cr_hash(a, b, ...) with the same value as cr_store_hash. */
static void
sql_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *parts[8];
    int i;

    if (argc > 8) {
        sqlite3_result_error(ctx, "cr_hash takes at most 8 arguments", -1);
        return;
    }
    for (i = 0; i < argc; i++)
        parts[i] = (const char *)sqlite3_value_text(argv[i]);
    sqlite3_result_int64(ctx, cr_store_hash(parts, (size_t)argc));
}

/* SQL: cr_visible(filter, type, org, patient, json): asks the caller's
 * struct cr_store_filter (bound as a pointer) whether a row may be used.
 * No filter bound: every row may. */
static void
sql_visible(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const struct cr_store_filter *f;
    const char *type, *org, *patient, *json;

    (void)argc;
    f = sqlite3_value_pointer(argv[0], CR_STORE_FILTER_PTR);
    if (f == NULL || f->fn == NULL) {
        sqlite3_result_int(ctx, 1);
        return;
    }
    type = (const char *)sqlite3_value_text(argv[1]);
    org = (const char *)sqlite3_value_text(argv[2]);
    patient = (const char *)sqlite3_value_text(argv[3]);
    json = (const char *)sqlite3_value_blob(argv[4]);
    sqlite3_result_int(ctx, f->fn(f->ctx, type ? type : "", org ? org : "",
                                  patient ? patient : "", json ? json : "",
                                  (size_t)sqlite3_value_bytes(argv[4])));
}

int
cr_store_register_hash(sqlite3 *db)
{
    int rc = sqlite3_create_function(db, "cr_hash", -1,
                                     SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                     sql_hash, NULL, NULL);
    if (rc != SQLITE_OK)
        return rc;
    return sqlite3_create_function(db, "cr_visible", 5, SQLITE_UTF8, NULL,
                                   sql_visible, NULL, NULL);
}
