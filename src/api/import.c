/* import.c: the bulk NDJSON import engine (see import.h).
 *
 * The caller's thread fills chunks of lines; worker threads prepare them
 * (the costly part: JSON parsing, validation, index extraction) and queue
 * each chunk as one asynchronous store write; the store's writer runs the
 * chunks' transactions back to back. At most a few chunks are in flight,
 * so memory stays bounded however large the input. Depends on api/
 * internals, store/, fhir/, core/. */
#include "api/import.h"

#include "api/apiInt.h"
#include "core/clock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_LINES 1000
#define CHUNK_BYTES (4u << 20)

struct item {
    size_t off, len;
    uint64_t lineno;
    const char *file;
    bool is_ok;
    struct prepared p;
    const char *id;
    const char *org;
    int64_t ms;             /* lastUpdated the bytes were built with */
};

struct chunk {
    struct cr_api_import *im;
    struct cr_arena *arena;
    struct cr_buf text;
    struct item *items;
    size_t n;
    struct cr_store_async a;
    struct cr_err err;
    uint64_t order;             /* position in the input */
    struct chunk *next;
};

struct cr_api_import {
    struct cr_api *api;
    struct cr_api_import_opts o;
    struct chunk *cur;
    /* work queue for workers */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct chunk *qhead, *qtail;
    struct chunk *done;         /* written chunks, to free */
    uint64_t next_order;        /* given to the next chunk dispatched */
    uint64_t next_write;        /* the chunk whose turn it is to be written */
    int in_flight;              /* chunks queued, preparing or writing */
    int max_in_flight;
    bool is_stopping;
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t bad_lock;
    struct cr_api_import_stats stats;
    cr_rc failed;
    struct cr_err fail_err;
};

static void
chunk_free(struct chunk *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n; i++)
        cr_api_prepared_free(&c->items[i].p);
    free(c->items);
    cr_buf_free(&c->text);
    cr_arena_destroy(c->arena);
    free(c);
}

static struct chunk *
chunk_new(struct cr_api_import *im)
{
    struct chunk *c = calloc(1, sizeof *c);

    if (c == NULL)
        return NULL;
    c->im = im;
    c->arena = cr_arena_create();
    c->items = calloc(CHUNK_LINES, sizeof *c->items);
    c->text = cr_buf_make(0);
    if (c->arena == NULL || c->items == NULL) {
        chunk_free(c);
        return NULL;
    }
    return c;
}

static void
report_bad(struct cr_api_import *im, const struct item *it,
           const struct cr_err *err)
{
    pthread_mutex_lock(&im->bad_lock);
    im->stats.bad++;
    if (im->o.on_bad)
        im->o.on_bad(im->o.ctx, it->file, it->lineno, err);
    pthread_mutex_unlock(&im->bad_lock);
}

/* The publisher: the session's, or the resource's publisher tag. */
static const char *
publisher(struct cr_api_import *im, json_t *root)
{
    json_t *tags = json_object_get(json_object_get(root, "meta"), "tag");
    size_t i;
    json_t *t;

    if (im->o.org)
        return im->o.org;
    json_array_foreach(tags, i, t) {
        const char *sys = json_string_value(json_object_get(t, "system"));
        if (sys && strcmp(sys, CR_IMPORT_PUBLISHER_SYSTEM) == 0)
            return json_string_value(json_object_get(t, "code"));
    }
    return NULL;
}

/* Keep the patient index up to date with an imported Patient. A
 * replaced-by link the index refuses (it names a record this store does
 * not hold, or makes a cycle) must not stop a bulk load: the record is
 * then indexed as if it had no link. The refusal comes before the index
 * changes anything, so trying again is safe. */
static cr_rc
index_patient(struct cr_api *api, struct cr_store_txn *txn, const char *id,
              json_t *root, int64_t ms, struct cr_err *err)
{
    json_t *unlinked;
    cr_rc rc;

    if (api->mpi == NULL)
        return CR_OK;
    rc = cr_mpi_txn_patient(api->mpi, txn, id, root, ms, err);
    if (rc != CR_EINVAL)
        return rc;
    unlinked = json_copy(root);
    if (unlinked == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                          "out of memory");
    json_object_del(unlinked, "link");
    cr_err_clear(err);
    rc = cr_mpi_txn_patient(api->mpi, txn, id, unlinked, ms, err);
    json_decref(unlinked);
    return rc;
}

static cr_rc
chunk_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct chunk *c = ctx;
    size_t i;
    cr_rc rc;

    for (i = 0; i < c->n; i++) {
        struct item *it = &c->items[i];
        struct cr_store_meta cur;
        struct cr_store_put put;
        int64_t ms;

        if (!it->is_ok)
            continue;
        rc = cr_store_txn_current(txn, it->p.type, it->id, &cur, err);
        if (rc != CR_OK && rc != CR_ENOTFOUND)
            return rc;
        memset(&put, 0, sizeof put);
        put.version = rc == CR_OK ? cur.version + 1 : 1;
        ms = it->ms;
        if (put.version != 1) {
            /* it exists: this is an update, with the next version */
            ms = cr_clock_now_ms();
            rc = cr_api_finish_resource(&it->p, it->id, put.version, ms,
                                        err);
            if (rc != CR_OK)
                return rc;
        }
        put.type = it->p.type;
        put.id = it->id;
        put.last_updated_ms = ms;
        put.json = it->p.json.ptr;
        put.len = it->p.json.len;
        put.patient = it->p.has_patient ? it->p.patient : NULL;
        put.org = it->org;
        put.op = "PUT";         /* each resource keeps its own id */
        put.rows = it->p.rows;
        put.nrows = it->p.nrows;
        rc = cr_store_txn_put(txn, &put, err);
        if (rc == CR_OK && strcmp(put.type, "Patient") == 0)
            rc = index_patient(c->im->api, txn, it->id, it->p.root, ms, err);
        if (rc != CR_OK)
            return rc;
    }
    return CR_OK;
}

static void
chunk_done(void *arg, cr_rc rc)
{
    struct chunk *c = arg;
    struct cr_api_import *im = c->im;
    size_t i, stored = 0;

    for (i = 0; i < c->n; i++)
        stored += c->items[i].is_ok;
    pthread_mutex_lock(&im->lock);
    if (rc == CR_OK) {
        im->stats.stored += stored;
    } else if (im->failed == CR_OK) {
        im->failed = rc;
        im->fail_err = c->err;
    }
    im->in_flight--;
    /* Freeing is left to the caller's thread: the writer is the
     * bottleneck of an import and must only write. */
    c->next = im->done;
    im->done = c;
    pthread_cond_broadcast(&im->cond);
    pthread_mutex_unlock(&im->lock);
}

static void
free_done(struct cr_api_import *im)
{
    struct chunk *c, *next;

    pthread_mutex_lock(&im->lock);
    c = im->done;
    im->done = NULL;
    pthread_mutex_unlock(&im->lock);
    for (; c; c = next) {
        next = c->next;
        chunk_free(c);
    }
}

/* Prepare every line of a chunk, then hand it to the store. */
static void
chunk_prepare_and_write(struct chunk *c)
{
    struct cr_api_import *im = c->im;
    size_t i;

    for (i = 0; i < c->n; i++) {
        struct item *it = &c->items[i];
        struct cr_err err;
        json_t *id;

        cr_err_clear(&err);
        if (cr_api_prepare(im->api, c->arena, NULL, NULL,
                           c->text.ptr + it->off, it->len, &it->p,
                           &err) != CR_OK) {
            report_bad(im, it, &err);
            continue;
        }
        it->org = publisher(im, it->p.root);
        if (it->org == NULL || *it->org == '\0') {
            cr_err_set(&err, CR_EINVAL, "required", "meta.tag",
                       "no publishing organisation: the resource has no "
                       "meta.tag from %s; pass --org to name one",
                       CR_IMPORT_PUBLISHER_SYSTEM);
            report_bad(im, it, &err);
            continue;
        }
        id = json_object_get(it->p.root, "id");
        if (json_is_string(id)) {
            it->id = json_string_value(id);
        } else {
            char *nid = cr_arena_alloc(c->arena, 37);
            if (nid == NULL) {
                cr_err_set(&err, CR_ENOMEM, "exception", NULL,
                           "out of memory");
                report_bad(im, it, &err);
                continue;
            }
            cr_api_new_id(nid);
            it->id = nid;
        }
        /* Most imported resources are new: build their bytes here, as
         * version 1, so the writer only has to store them. */
        it->ms = cr_clock_now_ms();
        if (cr_api_finish_resource(&it->p, it->id, 1, it->ms, &err) !=
            CR_OK) {
            report_bad(im, it, &err);
            continue;
        }
        it->is_ok = true;
    }
    c->a.fn = chunk_txn;
    c->a.ctx = c;
    c->a.err = &c->err;
    c->a.done = chunk_done;
    c->a.done_ctx = c;
    /* Chunks are prepared in parallel but written in input order, so a
     * later line for the same resource always wins. */
    pthread_mutex_lock(&im->lock);
    while (im->next_write != c->order)
        pthread_cond_wait(&im->cond, &im->lock);
    pthread_mutex_unlock(&im->lock);
    if (cr_store_write_async(im->api->store, &c->a) != CR_OK)
        chunk_done(c, c->err.rc ? c->err.rc : CR_EUNAVAILABLE);
    pthread_mutex_lock(&im->lock);
    im->next_write++;
    pthread_cond_broadcast(&im->cond);
    pthread_mutex_unlock(&im->lock);
}

static void *
worker(void *arg)
{
    struct cr_api_import *im = arg;

    pthread_setname_np(pthread_self(), "cr-import");   /* top -H, perf */

    pthread_mutex_lock(&im->lock);
    for (;;) {
        struct chunk *c;
        while (im->qhead == NULL && !im->is_stopping)
            pthread_cond_wait(&im->cond, &im->lock);
        if (im->qhead == NULL)
            break;
        c = im->qhead;
        im->qhead = c->next;
        if (im->qhead == NULL)
            im->qtail = NULL;
        pthread_mutex_unlock(&im->lock);
        chunk_prepare_and_write(c);
        pthread_mutex_lock(&im->lock);
    }
    pthread_mutex_unlock(&im->lock);
    return NULL;
}

cr_rc
cr_api_import_begin(struct cr_api *api, const struct cr_api_import_opts *o,
                    struct cr_api_import **out, struct cr_err *err)
{
    struct cr_api_import *im = calloc(1, sizeof *im);
    int i;

    if (im == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    im->api = api;
    im->o = *o;
    pthread_mutex_init(&im->lock, NULL);
    pthread_mutex_init(&im->bad_lock, NULL);
    pthread_cond_init(&im->cond, NULL);
    im->max_in_flight = o->workers > 0 ? 2 * o->workers + 2 : 2;
    if (o->workers > 0) {
        im->threads = calloc((size_t)o->workers, sizeof *im->threads);
        if (im->threads == NULL) {
            free(im);
            return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                              "out of memory");
        }
        for (i = 0; i < o->workers; i++) {
            if (pthread_create(&im->threads[i], NULL, worker, im) != 0)
                break;
            im->nthreads++;
        }
    }
    *out = im;
    return CR_OK;
}

/* Queue the current chunk (blocking while too many are in flight). */
static void
dispatch(struct cr_api_import *im)
{
    struct chunk *c = im->cur;

    im->cur = NULL;
    free_done(im);
    if (c == NULL)
        return;
    if (c->n == 0) {
        chunk_free(c);
        return;
    }
    pthread_mutex_lock(&im->lock);
    while (im->in_flight >= im->max_in_flight)
        pthread_cond_wait(&im->cond, &im->lock);
    im->in_flight++;
    c->order = im->next_order++;
    if (im->nthreads > 0) {
        if (im->qtail)
            im->qtail->next = c;
        else
            im->qhead = c;
        im->qtail = c;
        pthread_cond_broadcast(&im->cond);
        pthread_mutex_unlock(&im->lock);
        return;
    }
    pthread_mutex_unlock(&im->lock);
    chunk_prepare_and_write(c);
}

cr_rc
cr_api_import_line(struct cr_api_import *im, const char *line, size_t len,
                   const char *file, uint64_t lineno, struct cr_err *err)
{
    struct item *it;
    size_t i;
    cr_rc failed;

    pthread_mutex_lock(&im->lock);
    im->stats.lines++;
    failed = im->failed;
    if (failed != CR_OK && err)
        *err = im->fail_err;
    pthread_mutex_unlock(&im->lock);
    if (failed != CR_OK)
        return failed;
    for (i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
            line[i] != '\n')
            break;
    if (i == len)
        return CR_OK;          /* blank line */
    if (im->cur == NULL) {
        im->cur = chunk_new(im);
        if (im->cur == NULL)
            return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                              "out of memory");
    }
    it = &im->cur->items[im->cur->n++];
    it->off = im->cur->text.len;
    it->len = len;
    it->file = file;
    it->lineno = lineno;
    cr_buf_add(&im->cur->text, line, len);
    cr_buf_addc(&im->cur->text, '\0');
    if (im->cur->text.rc != CR_OK)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                          "out of memory");
    if (im->cur->n == CHUNK_LINES || im->cur->text.len >= CHUNK_BYTES)
        dispatch(im);
    return CR_OK;
}

void
cr_api_import_progress(struct cr_api_import *im,
                       struct cr_api_import_stats *out)
{
    pthread_mutex_lock(&im->lock);
    pthread_mutex_lock(&im->bad_lock);
    *out = im->stats;
    pthread_mutex_unlock(&im->bad_lock);
    pthread_mutex_unlock(&im->lock);
}

cr_rc
cr_api_import_end(struct cr_api_import *im, struct cr_api_import_stats *out,
                  struct cr_err *err)
{
    cr_rc rc;
    int i;

    dispatch(im);
    pthread_mutex_lock(&im->lock);
    while (im->in_flight > 0)
        pthread_cond_wait(&im->cond, &im->lock);
    im->is_stopping = true;
    pthread_cond_broadcast(&im->cond);
    pthread_mutex_unlock(&im->lock);
    for (i = 0; i < im->nthreads; i++)
        pthread_join(im->threads[i], NULL);
    free_done(im);
    rc = im->failed;
    if (rc != CR_OK && err)
        *err = im->fail_err;
    if (out)
        *out = im->stats;
    pthread_mutex_destroy(&im->lock);
    pthread_mutex_destroy(&im->bad_lock);
    pthread_cond_destroy(&im->cond);
    free(im->threads);
    free(im);
    return rc;
}
