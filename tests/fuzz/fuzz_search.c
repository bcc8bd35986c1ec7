/* fuzz_search.c: a search's query string as the API hands it over.
 *
 * The input is a resource type, a newline, then a query string (name=value
 * pairs joined by '&', percent-encoded as in a URL). It is split and
 * decoded as the HTTP layer does, parsed strictly and leniently, and
 * every plan the parser accepts runs against a store (empty: what matters
 * is the SQL built from the plan, which SQLite still compiles and runs).
 * The parser may refuse anything, with a client error; a plan it accepts
 * must run and be counted, or be refused as the caller's fault (a cursor
 * this store did not make, a page too large), never fail as ours: an SQL
 * error there is a bug in the SQL built from an accepted plan. */
#include "core/arena.h"
#include "core/str.h"
#include "fhir/fhir.h"
#include "search/search.h"
#include "store/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static struct cr_store *store;
static char dir[64];

static void
remove_store(void)
{
    static const char *const files[] = { "carerecord.db",
                                         "carerecord.db-wal",
                                         "carerecord.db-shm" };
    char path[128];
    size_t i;

    cr_store_close(store);
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static struct cr_store *
the_store(void)
{
    struct cr_err err;

    if (store != NULL)
        return store;
    snprintf(dir, sizeof dir, "/tmp/fuzz-search-XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    cr_err_clear(&err);
    if (cr_store_open(dir, NULL, &store, &err) != CR_OK) {
        fprintf(stderr, "fuzz_search: cannot open a store in %s: %s\n", dir,
                err.msg);
        abort();
    }
    atexit(remove_store);
    return store;
}

static cr_rc
on_row(void *ctx, const char *type, const char *id,
       const struct cr_store_meta *meta, const char *json, size_t len)
{
    (void)type;
    (void)id;
    (void)meta;
    (void)json;
    (void)len;
    ++*(int64_t *)ctx;
    return CR_OK;
}

/* A plan's outcome that is the caller's fault, not ours. */
static bool
is_callers(cr_rc rc)
{
    return rc == CR_OK || rc == CR_EINVAL || rc == CR_ETOOBIG ||
           rc == CR_EUNSUPPORTED;
}

static void
run(struct cr_arena *a, const char *type, const struct cr_search_arg *args,
    size_t n, bool is_lenient)
{
    struct cr_search_limits lim = { 50, 1000, is_lenient,
                                    "http://localhost:8080/fhir" };
    struct cr_search_plan plan;
    struct cr_err err;
    char next[CR_STORE_CURSOR_MAX], prev[CR_STORE_CURSOR_MAX];
    int64_t rows = 0, total = -1;
    cr_rc rc;

    cr_err_clear(&err);
    rc = cr_search_parse(a, type, args, n, &lim, &plan, &err);
    if (rc != CR_OK) {
        if (!is_callers(rc) || err.msg[0] == '\0')
            abort();    /* a refusal says what is wrong */
        return;
    }
    cr_err_clear(&err);
    rc = cr_store_search(the_store(), &plan, NULL, on_row, &rows, next, prev,
                         &err);
    if (!is_callers(rc)) {
        fprintf(stderr, "fuzz_search: an accepted plan failed: %s\n",
                err.msg);
        abort();
    }
    cr_err_clear(&err);
    rc = cr_store_search_count(the_store(), &plan, NULL, 0, &total, &err);
    if (!is_callers(rc)) {
        fprintf(stderr, "fuzz_search: counting an accepted plan failed: "
                "%s\n", err.msg);
        abort();
    }
    if (rc == CR_OK && (total < 0 || rows > total))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cr_search_arg args[MAX_ARGS];
    struct cr_arena *a;
    char *text, *nl, *query, *p;
    size_t n = 0;

    if (size > 16384)
        return 0;
    text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (strlen(text) != size || (nl = strchr(text, '\n')) == NULL) {
        free(text);
        return 0;
    }
    *nl = '\0';
    if (!cr_fhir_is_supported_type(text)) {     /* the route answers 404 */
        free(text);
        return 0;
    }
    query = nl + 1;
    for (p = query; p != NULL && *p != '\0' && n < MAX_ARGS;) {
        char *amp = strchr(p, '&'), *eq;
        if (amp != NULL)
            *amp = '\0';
        eq = strchr(p, '=');
        if (eq != NULL)
            *eq = '\0';
        cr_str_unescape(p);
        if (eq != NULL)
            cr_str_unescape(eq + 1);
        if (*p != '\0') {
            args[n].name = p;
            args[n].value = eq != NULL ? eq + 1 : "";
            n++;
        }
        p = amp != NULL ? amp + 1 : NULL;
    }
    a = cr_arena_create();
    if (a != NULL) {
        run(a, text, args, n, false);
        run(a, text, args, n, true);
        cr_arena_destroy(a);
    }
    free(text);
    return 0;
}
