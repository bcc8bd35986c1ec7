/* registrar.c: keeping the record locator told of what this node holds.
 *
 * A background thread walks this node's Patients in change order
 * (cr_store_patient_identifiers) from where it last got to and registers
 * their NHS numbers with the locator, in batches: directly when this node
 * keeps it, else with POST /federation/register on the locator's node. It
 * wakes when told that data was written (cr_fed_nudge) and every
 * register_ms anyway, so every way of writing (REST, bundles, $import,
 * `carerecord import` before the node started) is covered. A failed batch
 * is sent again after a pause, so registration survives a locator that is
 * down. The walk starts from the beginning at every start of the node: a
 * locator that lost its database is refilled when the nodes restart.
 *
 * On the node that keeps the locator the same thread also pulls each
 * peer's list (GET /federation/patients) once after start, until every
 * peer has answered once, so the locator can be rebuilt from the nodes
 * without restarting them.
 *
 * Depends on store/, libcurl (blocking, on this thread), jansson, core/,
 * fhir/ (NHS number check). */
#include "federation/fedInt.h"

#include "core/clock.h"
#include "core/log.h"
#include "fhir/fhir.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 5000            /* Patients per registration */
#define RETRY_MS 2000         /* pause after a failure */
#define CALL_TIMEOUT_MS 10000 /* one registration or pull page */

struct cr_fed_registrar {
    struct cr_fed *f;
    pthread_t thread;
    bool has_thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool is_stopping;           /* under lock */
    atomic_bool is_quitting;    /* read by a call in progress */
    bool is_nudged;             /* under lock */
    int64_t mark;               /* the last seq registered */
    bool is_pulled[CR_FED_MAX_PEERS];
    int64_t pull_after[CR_FED_MAX_PEERS];
    int64_t retry_at_us;        /* 0: nothing to retry */
    bool is_failing;            /* the last attempt failed (logged once) */
    CURL *easy;
    struct fed_self_token token;
};

/* ---- one batch ---------------------------------------------------------- */

struct batch {
    char (*nhs)[16];
    const char **ptrs;
    size_t n, cap;
};

static cr_rc
collect(void *ctx, int64_t seq, const char *value)
{
    struct batch *b = ctx;

    (void)seq;
    if (!cr_fhir_nhs_number_valid(value, strlen(value)))
        return CR_OK;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256, i;
        char (*nhs)[16] = realloc(b->nhs, cap * sizeof *nhs);
        const char **ptrs;
        if (nhs == NULL)
            return CR_ENOMEM;
        b->nhs = nhs;
        ptrs = realloc(b->ptrs, cap * sizeof *ptrs);
        if (ptrs == NULL)
            return CR_ENOMEM;
        b->ptrs = ptrs;
        b->cap = cap;
        for (i = 0; i < b->n; i++)
            b->ptrs[i] = b->nhs[i];
    }
    snprintf(b->nhs[b->n], sizeof b->nhs[0], "%s", value);
    b->ptrs[b->n] = b->nhs[b->n];
    b->n++;
    return CR_OK;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    struct cr_buf *b = arg;

    cr_buf_add(b, data, size * n);
    return b->rc == CR_OK ? size * n : 0;
}

/* A call in progress gives up when the node stops. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
            curl_off_t ultotal, curl_off_t ulnow)
{
    struct cr_fed_registrar *r = arg;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return atomic_load(&r->is_quitting) ? 1 : 0;
}

/* One request to a peer's /federation endpoint; the answer's body into
 * 'out'. Returns the HTTP status, or 0 when there was none. */
static long
call(struct cr_fed_registrar *r, const char *url, const struct cr_buf *body,
     struct cr_buf *out)
{
    struct curl_slist *h = NULL;
    const char *tok = cr_fed_self_token(r->f, &r->token);
    char auth[CR_TOKEN_MAX_LEN + 32];
    long status = 0;

    if (tok == NULL || r->easy == NULL)
        return 0;
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    h = curl_slist_append(h, auth);
    if (h && body)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (h == NULL)
        return 0;
    curl_easy_reset(r->easy);
    curl_easy_setopt(r->easy, CURLOPT_URL, url);
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)CALL_TIMEOUT_MS);
    curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(r->easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(r->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(r->easy, CURLOPT_XFERINFODATA, r);
    if (body) {
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, body->ptr);
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)body->len);
    }
    if (curl_easy_perform(r->easy) == CURLE_OK)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    return status;
}

/* Register 'b' with the locator. */
static cr_rc
send_batch(struct cr_fed_registrar *r, const struct batch *b)
{
    struct cr_fed *f = r->f;
    struct cr_buf body = cr_buf_make(0), out = cr_buf_make(1 << 16);
    char url[700];
    struct cr_err err;
    long status;
    size_t i;

    cr_err_clear(&err);
    if (f->locator == CR_FED_LOCATOR_SELF)
        return cr_fed_locdb_add(f->db, f->node_id, b->ptrs, b->n, &err);
    cr_buf_adds(&body, "{\"node\":");
    cr_buf_add_json_str(&body, f->node_id);
    cr_buf_adds(&body, ",\"nhs\":[");
    for (i = 0; i < b->n; i++) {
        if (i)
            cr_buf_addc(&body, ',');
        cr_buf_add_json_str(&body, b->ptrs[i]);
    }
    cr_buf_adds(&body, "]}");
    snprintf(url, sizeof url, "%s/federation/register",
             f->peers[f->locator_peer].root_url);
    status = body.rc == CR_OK ? call(r, url, &body, &out) : 0;
    cr_buf_free(&body);
    cr_buf_free(&out);
    return status == 200 ? CR_OK : CR_EUNAVAILABLE;
}

/* Register everything written since the mark; false when a batch failed. */
static bool
sweep(struct cr_fed_registrar *r)
{
    struct cr_fed *f = r->f;

    for (;;) {
        struct batch b;
        struct cr_err err;
        int64_t last = r->mark;
        cr_rc rc;

        memset(&b, 0, sizeof b);
        cr_err_clear(&err);
        rc = cr_store_patient_identifiers(f->store, CR_FHIR_NHS_NUMBER_SYSTEM,
                                          r->mark, BATCH, collect, &b, &last,
                                          &err);
        if (rc == CR_OK && b.n)
            rc = send_batch(r, &b);
        free(b.nhs);
        free(b.ptrs);
        if (rc != CR_OK) {
            if (!r->is_failing)
                cr_log("warn", "federation: could not register patients "
                       "with the record locator; trying again every %d ms",
                       RETRY_MS);
            r->is_failing = true;
            return false;
        }
        if (r->is_failing)
            cr_log("info", "federation: registering with the record "
                   "locator again");
        r->is_failing = false;
        if (last == r->mark)
            return true;
        r->mark = last;
    }
}

/* The locator: read peer i's list, page by page; false when it failed. */
static bool
pull(struct cr_fed_registrar *r, size_t i)
{
    struct cr_fed *f = r->f;

    for (;;) {
        struct cr_buf out = cr_buf_make((size_t)64 << 20);
        json_t *root = NULL, *list, *next, *v;
        const char **ptrs = NULL;
        char url[800];
        struct cr_err err;
        size_t n, k;
        long status;
        bool is_ok = false;

        snprintf(url, sizeof url,
                 "%s/federation/patients?after=%lld&count=%d",
                 f->peers[i].root_url, (long long)r->pull_after[i], BATCH);
        status = call(r, url, NULL, &out);
        if (status == 200 && out.rc == CR_OK && out.len)
            root = json_loadb(out.ptr, out.len, 0, NULL);
        cr_buf_free(&out);
        list = json_object_get(root, "nhs");
        next = json_object_get(root, "next");
        if (json_is_array(list) &&
            (json_is_integer(next) || json_is_null(next))) {
            n = json_array_size(list);
            ptrs = calloc(n ? n : 1, sizeof *ptrs);
            for (k = 0; ptrs && k < n; k++) {
                v = json_array_get(list, k);
                ptrs[k] = json_is_string(v) ? json_string_value(v) : "";
            }
            cr_err_clear(&err);
            is_ok = ptrs && cr_fed_locdb_add(f->db, f->peers[i].id, ptrs, n,
                                             &err) == CR_OK;
            if (is_ok && json_is_integer(next) &&
                json_integer_value(next) > r->pull_after[i]) {
                r->pull_after[i] = json_integer_value(next);
            } else if (is_ok) {
                free(ptrs);
                json_decref(root);
                return true;    /* the whole list is in */
            }
        }
        free(ptrs);
        json_decref(root);
        if (!is_ok)
            return false;
    }
}

static void *
run(void *arg)
{
    struct cr_fed_registrar *r = arg;
    struct cr_fed *f = r->f;

    pthread_setname_np(pthread_self(), "cr-fed-register");   /* top -H, perf */

    for (;;) {
        struct timespec ts;
        int64_t wait_ms = f->register_ms, now;
        bool is_ok = true;
        size_t i;

        pthread_mutex_lock(&r->lock);
        now = cr_clock_mono_us();
        if (r->retry_at_us && (r->retry_at_us - now) / 1000 < wait_ms)
            wait_ms = (r->retry_at_us - now) / 1000;
        if (!r->is_nudged && !r->is_stopping && wait_ms > 0) {
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&r->cond, &r->lock, &ts);
        }
        r->is_nudged = false;
        if (r->is_stopping) {
            pthread_mutex_unlock(&r->lock);
            break;
        }
        pthread_mutex_unlock(&r->lock);
        now = cr_clock_mono_us();
        if (r->retry_at_us && now < r->retry_at_us)
            continue;
        r->retry_at_us = 0;
        if (f->locator != CR_FED_LOCATOR_NONE)
            is_ok = sweep(r);
        if (f->locator == CR_FED_LOCATOR_SELF)
            for (i = 0; i < f->npeers; i++)
                if (!r->is_pulled[i]) {
                    r->is_pulled[i] = pull(r, i);
                    is_ok = is_ok && r->is_pulled[i];
                }
        if (!is_ok)
            r->retry_at_us = cr_clock_mono_us() + (int64_t)RETRY_MS * 1000;
    }
    return NULL;
}

cr_rc
cr_fed_registrar_start(struct cr_fed *f, struct cr_fed_registrar **out,
                       struct cr_err *err)
{
    struct cr_fed_registrar *r = calloc(1, sizeof *r);

    *out = NULL;
    if (r == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    r->f = f;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->is_nudged = true;        /* a first sweep at once */
    r->easy = curl_easy_init();
    if (r->easy == NULL) {
        cr_fed_registrar_stop(r);
        return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                          "libcurl could not make a handle");
    }
    if (f->locator != CR_FED_LOCATOR_NONE) {
        if (pthread_create(&r->thread, NULL, run, r) != 0) {
            cr_fed_registrar_stop(r);
            return cr_err_set(err, CR_EIO, "exception", NULL,
                              "cannot start the registration thread");
        }
        r->has_thread = true;
    }
    *out = r;
    return CR_OK;
}

void
cr_fed_registrar_stop(struct cr_fed_registrar *r)
{
    if (r == NULL)
        return;
    if (r->has_thread) {
        pthread_mutex_lock(&r->lock);
        r->is_stopping = true;
        atomic_store(&r->is_quitting, true);
        pthread_cond_signal(&r->cond);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
    }
    if (r->easy)
        curl_easy_cleanup(r->easy);
    free(r->token.jwt);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void
cr_fed_registrar_nudge(struct cr_fed_registrar *r)
{
    pthread_mutex_lock(&r->lock);
    r->is_nudged = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}
