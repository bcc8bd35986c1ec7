/* fanout.c: every federated read of this node, on one thread.
 *
 * cr_fed_start queues a call; the fan-out thread drives all calls at once
 * with one libcurl multi handle (so connections to each peer are kept
 * alive and reused across calls). A call first asks the record locator
 * (when a peer keeps it) which nodes hold data for the NHS number, then
 * sends the read to each of them in parallel, following next links when
 * asked to, and ends when every transfer has ended or its deadline has
 * passed: whatever is still running then is cut off and reported as late.
 * The caller hears of the end through its callback, on this thread.
 *
 * Times: the deadline runs from cr_fed_start; the locator may use a
 * quarter of it, then every peer gets what is left. A locator that is
 * down, late or confused sends the read to every peer.
 *
 * Depends on libcurl, jansson (the locator's small answer), core/. */
#include "federation/fedInt.h"

#include "core/clock.h"
#include "core/jsontext.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOCATE_SHARE 4        /* the locator gets deadline / 4 */
#define MAX_PAGES 64          /* next links followed per peer */
#define MAX_DEPTH 128         /* JSON nesting accepted from a peer */

struct call;

/* A node token is minted per user and claims, and reused for half its
 * life: a clinician opening several records sends peers the same token,
 * which their verification caches then recognise. */
#define TOKEN_SLOTS 64

struct token_slot {
    struct cr_principal p;      /* the claims it was minted for */
    char care[16];
    char *jwt;
    int64_t at_us;
};

struct token_cache {
    pthread_mutex_t lock;
    struct token_slot slot[TOKEN_SLOTS];
};


/* One HTTP transfer. */
struct xfer {
    struct call *call;
    CURL *easy;
    struct curl_slist *hdrs;
    struct cr_buf body;
    int answer;                 /* index in call->res->answers; -1: the
                                   locator */
    char objection[CR_FED_ID_MAX + 1];
    struct xfer *next;          /* the call's live transfers */
};

struct call {
    struct cr_fed *f;
    cr_fed_done_fn done;
    void *ctx;
    char *token;                /* the user's node token */
    char *path;
    char *reason;               /* header lines, or NULL */
    char *supervisor;
    char nhs[16];
    bool is_paged;
    char resource_type[64];     /* what a 2xx answer must be */
    bool needs_locate;
    bool target[CR_FED_MAX_PEERS];
    int64_t t0_us, deadline_us;
    struct cr_fed_result *res;
    struct xfer *live;
    struct call *next;
};

struct cr_fed_fanout {
    struct cr_fed *f;
    CURLM *multi;
    pthread_t thread;
    bool has_thread;
    pthread_mutex_t lock;
    struct call *queue;         /* under lock */
    bool is_stopping;           /* under lock */
    struct call *active;        /* fan-out thread only */
    struct fed_self_token self_token;   /* for the locator */
    struct token_cache tokens;  /* users' node tokens */
};

/* ---- node tokens, reused ------------------------------------------------ */

static size_t
claims_hash(const struct cr_principal *p, const char *care)
{
    const char *const parts[] = { p->sub, p->name, p->org, p->role,
                                  p->purpose, p->patient, p->reason, care };
    size_t h = 1469598103934665603ULL, i;
    const char *s;

    for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        for (s = parts[i]; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        h = (h ^ 0x1f) * 1099511628211ULL;
    }
    return h;
}

static bool
same_claims(const struct token_slot *t, const struct cr_principal *p,
            const char *care)
{
    return strcmp(t->p.sub, p->sub) == 0 && strcmp(t->p.name, p->name) == 0 &&
           strcmp(t->p.org, p->org) == 0 && strcmp(t->p.role, p->role) == 0 &&
           strcmp(t->p.purpose, p->purpose) == 0 &&
           strcmp(t->p.patient, p->patient) == 0 &&
           strcmp(t->p.reason, p->reason) == 0 && strcmp(t->care, care) == 0;
}

/* ---- results ------------------------------------------------------------ */

void
cr_fed_result_free(struct cr_fed_result *res)
{
    size_t i, j;

    if (res == NULL)
        return;
    for (i = 0; i < res->n; i++) {
        for (j = 0; j < res->answers[i].npages; j++)
            cr_buf_free(&res->answers[i].pages[j]);
        free(res->answers[i].pages);
    }
    free(res->answers);
    free(res);
}

static void
call_free(struct call *c)
{
    if (c == NULL)
        return;
    free(c->token);
    free(c->path);
    free(c->reason);
    free(c->supervisor);
    cr_fed_result_free(c->res);
    free(c);
}

/* ---- transfers ---------------------------------------------------------- */

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;

    cr_buf_add(&x->body, data, size * n);
    return x->body.rc == CR_OK ? size * n : 0;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n, k = strlen(CR_FED_OBJECTION_HEADER);

    if (len > k + 1 && strncasecmp(data, CR_FED_OBJECTION_HEADER, k) == 0 &&
        data[k] == ':') {
        size_t i = k + 1, j = 0;
        while (i < len && data[i] == ' ')
            i++;
        while (i < len && j < CR_FED_ID_MAX && data[i] != '\r' &&
               data[i] != '\n')
            x->objection[j++] = data[i++];
        x->objection[j] = '\0';
    }
    return len;
}

/* A header line "Name: value" with control characters made spaces, or
 * NULL when value is NULL or empty. */
static char *
header_line(const char *name, const char *value)
{
    size_t n, i, k;
    char *s;

    if (value == NULL || value[0] == '\0')
        return NULL;
    n = strlen(name) + 2 + strlen(value) + 1;
    s = malloc(n);
    if (s == NULL)
        return NULL;
    k = (size_t)snprintf(s, n, "%s: ", name);
    for (i = 0; value[i]; i++)
        s[k++] = (unsigned char)value[i] < 32 || value[i] == 127 ? ' '
                                                                 : value[i];
    s[k] = '\0';
    return s;
}

static int64_t
remaining_ms(const struct call *c, int64_t now_us)
{
    int64_t ms = (c->deadline_us - now_us) / 1000;

    return ms < 1 ? 1 : ms;
}

/* Start a GET of 'url' for answer 'answer' (-1: the locator) of call 'c'
 * with bearer 'token', running at most 'timeout_ms'. */
static cr_rc
add_xfer(struct cr_fed_fanout *fan, struct call *c, const char *url,
         int answer, const char *token, int64_t timeout_ms)
{
    struct xfer *x = calloc(1, sizeof *x);
    char *auth = NULL;
    struct curl_slist *h;
    size_t limit = fan->f->max_answer;

    if (x == NULL)
        return CR_ENOMEM;
    if (answer >= 0) {
        const struct cr_fed_answer *a = &c->res->answers[answer];
        size_t used = 0, i;
        for (i = 0; i < a->npages; i++)
            used += a->pages[i].len;
        limit = used < limit ? limit - used : 1;
    }
    x->call = c;
    x->answer = answer;
    x->body = cr_buf_make(limit);
    x->easy = curl_easy_init();
    auth = header_line("Authorization", token);
    if (x->easy == NULL || auth == NULL)
        goto fail;
    if (strncmp(auth, "Authorization: ", 15) == 0) {
        /* "Authorization: <token>" -> "Authorization: Bearer <token>" */
        char *b = malloc(strlen(auth) + 8);
        if (b == NULL)
            goto fail;
        snprintf(b, strlen(auth) + 8, "Authorization: Bearer %s", auth + 15);
        free(auth);
        auth = b;
    }
    h = curl_slist_append(NULL, auth);
    if (h)
        x->hdrs = h;
    h = h ? curl_slist_append(x->hdrs, "Accept: application/fhir+json") : h;
    h = h ? curl_slist_append(x->hdrs, CR_FED_LOCAL_HEADER ": local") : h;
    if (h && answer >= 0 && c->reason)
        h = curl_slist_append(x->hdrs, c->reason);
    if (h && answer >= 0 && c->supervisor)
        h = curl_slist_append(x->hdrs, c->supervisor);
    if (h == NULL)
        goto fail;
    free(auth);
    auth = NULL;
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
    if (curl_multi_add_handle(fan->multi, x->easy) != CURLM_OK)
        goto fail;
    x->next = c->live;
    c->live = x;
    return CR_OK;
fail:
    free(auth);
    curl_slist_free_all(x->hdrs);
    if (x->easy)
        curl_easy_cleanup(x->easy);
    cr_buf_free(&x->body);
    free(x);
    return CR_ENOMEM;
}

/* Take 'x' off its call and the multi handle and free it (the body is
 * freed unless the caller took it). */
static void
drop_xfer(struct cr_fed_fanout *fan, struct xfer *x)
{
    struct xfer **pp;

    for (pp = &x->call->live; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    curl_multi_remove_handle(fan->multi, x->easy);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->hdrs);
    cr_buf_free(&x->body);
    free(x);
}

/* ---- a call ------------------------------------------------------------- */

static void
set_status(struct cr_fed_answer *a, enum cr_fed_status st, const char *fmt,
           ...) __attribute__((format(printf, 3, 4)));

static void
set_status(struct cr_fed_answer *a, enum cr_fed_status st, const char *fmt,
           ...)
{
    va_list ap;

    a->status = st;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
}

/* Send the read to every target. */
static void
fan_out(struct cr_fed_fanout *fan, struct call *c)
{
    struct cr_fed *f = fan->f;
    int64_t now = cr_clock_mono_us();
    size_t i, n = 0;

    for (i = 0; i < f->npeers; i++)
        n += c->target[i];
    c->res->answers = n ? calloc(n, sizeof *c->res->answers) : NULL;
    if (n && c->res->answers == NULL)
        return;   /* out of memory: an empty answer */
    for (i = 0; i < f->npeers; i++) {
        struct cr_fed_answer *a;
        struct cr_buf url;
        if (!c->target[i])
            continue;
        a = &c->res->answers[c->res->n];
        snprintf(a->node, sizeof a->node, "%s", f->peers[i].id);
        a->base_url = f->peers[i].base_url;
        url = cr_buf_make(0);
        cr_buf_adds(&url, f->peers[i].base_url);
        cr_buf_adds(&url, c->path);
        if (url.rc != CR_OK ||
            add_xfer(fan, c, url.ptr, (int)c->res->n, c->token,
                     remaining_ms(c, now)) != CR_OK)
            set_status(a, CR_FED_UNREACHABLE,
                       "node %s was not asked: out of memory", a->node);
        else
            set_status(a, CR_FED_TIMEOUT,
                       "node %s did not answer within %d ms", a->node,
                       f->deadline_ms);
        cr_buf_free(&url);
        c->res->n++;
    }
}

static void
all_peers(struct cr_fed *f, struct call *c)
{
    size_t i;

    for (i = 0; i < f->npeers; i++)
        c->target[i] = true;
}

/* Use the locator's answer {"nhs":..,"nodes":[..]}; false when it is not
 * one. */
static bool
take_located(struct cr_fed *f, struct call *c, const struct cr_buf *body)
{
    json_t *root, *nodes, *v;
    size_t i, j;

    if (body->rc != CR_OK || body->len == 0)
        return false;
    root = json_loadb(body->ptr, body->len, 0, NULL);
    nodes = json_object_get(root, "nodes");
    if (!json_is_array(nodes)) {
        json_decref(root);
        return false;
    }
    json_array_foreach(nodes, i, v) {
        for (j = 0; j < f->npeers && json_is_string(v); j++)
            if (strcmp(f->peers[j].id, json_string_value(v)) == 0)
                c->target[j] = true;
    }
    json_decref(root);
    return true;
}

/* A new call on the thread: ask the locator, or fan out at once. */
static void
begin(struct cr_fed_fanout *fan, struct call *c)
{
    struct cr_fed *f = fan->f;

    if (c->needs_locate) {
        const struct fed_peer *lp = &f->peers[f->locator_peer];
        const char *tok = cr_fed_self_token(f, &fan->self_token);
        int64_t budget = f->deadline_ms / LOCATE_SHARE;
        char url[700];
        snprintf(url, sizeof url, "%s/federation/locate?nhs=%s",
                 lp->root_url, c->nhs);
        if (tok && add_xfer(fan, c, url, -1, tok,
                            budget < 1 ? 1 : budget) == CR_OK)
            return;
        c->res->is_locator_down = true;
        snprintf(c->res->locator_msg, sizeof c->res->locator_msg,
                 "the record locator (node %s) could not be asked", lp->id);
        all_peers(f, c);
    }
    fan_out(fan, c);
}

/* True when valid JSON 'text' is a resource of 'type' (its top-level
 * resourceType). */
static bool
is_resource_of(const char *text, size_t len, const char *type)
{
    struct cr_fed_span whole = { 0, len }, rt;

    if (strcmp(type, "Bundle") == 0)
        return cr_fed_bundle_entries(text, len, NULL, NULL);
    return cr_fed_member_str(text, whole, "resourceType", &rt) &&
           cr_fed_span_is(text, rt, type);
}

/* A page of a peer's answer: keep it and follow its next link. */
static void
take_page(struct cr_fed_fanout *fan, struct call *c, struct xfer *x,
          struct cr_fed_answer *a)
{
    struct cr_fed_span next;
    struct cr_buf *pages;
    const char *text = x->body.ptr ? x->body.ptr : "";

    if (!cr_jsontext_valid(text, x->body.len, MAX_DEPTH) ||
        !is_resource_of(text, x->body.len, c->resource_type)) {
        set_status(a, CR_FED_BAD_ANSWER,
                   "node %s answered with something that is not a FHIR "
                   "%s", a->node, c->resource_type);
        return;
    }
    pages = realloc(a->pages, (a->npages + 1) * sizeof *pages);
    if (pages == NULL) {
        set_status(a, CR_FED_BAD_ANSWER,
                   "node %s's answer could not be kept: out of memory",
                   a->node);
        return;
    }
    a->pages = pages;
    a->pages[a->npages++] = x->body;
    x->body = cr_buf_make(0);
    set_status(a, CR_FED_OK, "%s", "");
    text = a->pages[a->npages - 1].ptr;
    if (c->is_paged &&
        cr_fed_bundle_link(text, a->pages[a->npages - 1].len, "next",
                           &next)) {
        size_t blen = strlen(a->base_url), n = next.end - next.start;
        char *url;
        if (a->npages >= MAX_PAGES) {
            set_status(a, CR_FED_BAD_ANSWER,
                       "node %s's answer has more than %d pages; only the "
                       "first %d are shown", a->node, MAX_PAGES, MAX_PAGES);
            return;
        }
        /* Only a link on the same peer is followed, taken as written
         * (our own links need no JSON unescaping: see docs). */
        if (n <= blen || strncmp(text + next.start, a->base_url, blen) != 0 ||
            text[next.start + blen] != '/' ||
            memchr(text + next.start, '\\', n) != NULL) {
            set_status(a, CR_FED_BAD_ANSWER,
                       "node %s's next link is not on its own base", a->node);
            return;
        }
        url = strndup(text + next.start, n);
        if (url == NULL ||
            add_xfer(fan, c, url, x->answer, c->token,
                     remaining_ms(c, cr_clock_mono_us())) != CR_OK)
            set_status(a, CR_FED_BAD_ANSWER,
                       "node %s's next page could not be asked for",
                       a->node);
        else
            set_status(a, CR_FED_TIMEOUT,
                       "node %s did not send all of its answer within %d "
                       "ms", a->node, fan->f->deadline_ms);
        free(url);
    }
}

/* A transfer ended with curl result 'cc'. */
static void
finished(struct cr_fed_fanout *fan, struct xfer *x, CURLcode cc)
{
    struct call *c = x->call;
    struct cr_fed *f = fan->f;
    long status = 0;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (x->answer < 0) {
        bool is_ok = cc == CURLE_OK && status == 200 &&
                     take_located(f, c, &x->body);
        if (!is_ok) {
            const struct fed_peer *lp = &f->peers[f->locator_peer];
            all_peers(f, c);
            c->res->is_locator_down = true;
            if (cc != CURLE_OK)
                snprintf(c->res->locator_msg, sizeof c->res->locator_msg,
                         "the record locator (node %s) could not be asked "
                         "(%s)", lp->id, curl_easy_strerror(cc));
            else
                snprintf(c->res->locator_msg, sizeof c->res->locator_msg,
                         "the record locator (node %s) answered %ld",
                         lp->id, status);
        }
        drop_xfer(fan, x);
        fan_out(fan, c);
        return;
    }
    {
        struct cr_fed_answer *a = &c->res->answers[x->answer];
        a->http_status = status;
        a->ms = (double)(cr_clock_mono_us() - c->t0_us) / 1000.0;
        if (x->objection[0])
            snprintf(a->objection, sizeof a->objection, "%s", x->objection);
        if (cc == CURLE_OPERATION_TIMEDOUT)
            set_status(a, CR_FED_TIMEOUT,
                       "node %s did not answer within %d ms", a->node,
                       f->deadline_ms);
        else if (cc == CURLE_WRITE_ERROR)
            set_status(a, CR_FED_BAD_ANSWER,
                       "node %s's answer was larger than %zu MiB", a->node,
                       f->max_answer >> 20);
        else if (cc != CURLE_OK)
            set_status(a, CR_FED_UNREACHABLE,
                       "node %s could not be reached: %s", a->node,
                       curl_easy_strerror(cc));
        else if (status >= 200 && status < 300)
            take_page(fan, c, x, a);
        else if ((status == 404 || status == 410) && a->npages == 0)
            set_status(a, CR_FED_NO_DATA, "node %s holds no such record",
                       a->node);
        else {
            set_status(a, CR_FED_HTTP_ERROR, "node %s answered %ld",
                       a->node, status);
            if (a->npages == 0 && x->body.rc == CR_OK && x->body.len &&
                cr_jsontext_valid(x->body.ptr, x->body.len, MAX_DEPTH)) {
                a->pages = malloc(sizeof *a->pages);
                if (a->pages) {
                    a->pages[0] = x->body;
                    a->npages = 1;
                    x->body = cr_buf_make(0);
                }
            }
        }
    }
    drop_xfer(fan, x);
}

/* Cut off what is still running of calls past their deadline. */
static void
expire(struct cr_fed_fanout *fan, int64_t now)
{
    struct call *c;

    for (c = fan->active; c; c = c->next) {
        if (now < c->deadline_us)
            continue;
        while (c->live) {
            struct xfer *x = c->live;
            if (x->answer < 0) {
                /* the locator was late: ask everyone, with no time left
                 * (they are reported as late) */
                finished(fan, x, CURLE_OPERATION_TIMEDOUT);
                continue;
            }
            /* The answer's message already says it was late. */
            c->res->answers[x->answer].ms =
                (double)(now - c->t0_us) / 1000.0;
            if (c->res->answers[x->answer].status == CR_FED_OK)
                set_status(&c->res->answers[x->answer], CR_FED_TIMEOUT,
                           "node %s did not answer within %d ms",
                           c->res->answers[x->answer].node,
                           fan->f->deadline_ms);
            drop_xfer(fan, x);
        }
    }
}

/* Hand finished calls to their callers. */
static void
complete(struct cr_fed_fanout *fan)
{
    struct call **pp = &fan->active;

    while (*pp) {
        struct call *c = *pp;
        if (c->live) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        c->res->deadline_ms = fan->f->deadline_ms;
        c->done(c->ctx, c->res);
        c->res = NULL;
        call_free(c);
    }
}

/* Stopping: everything still running ends as stopped. */
static void
abort_all(struct cr_fed_fanout *fan)
{
    struct call *c;

    for (c = fan->active; c; c = c->next)
        while (c->live) {
            struct xfer *x = c->live;
            if (x->answer >= 0)
                set_status(&c->res->answers[x->answer], CR_FED_STOPPED,
                           "node %s was not waited for: this node is "
                           "stopping", c->res->answers[x->answer].node);
            drop_xfer(fan, x);
        }
    complete(fan);
}

static void *
run(void *arg)
{
    struct cr_fed_fanout *fan = arg;

    pthread_setname_np(pthread_self(), "cr-fed-fanout");   /* top -H, perf */

    for (;;) {
        struct call *q, *c;
        bool is_stopping;
        CURLMsg *msg;
        int running = 0, left;
        long wait_ms = 1000;
        int64_t now;

        pthread_mutex_lock(&fan->lock);
        q = fan->queue;
        fan->queue = NULL;
        is_stopping = fan->is_stopping;
        pthread_mutex_unlock(&fan->lock);
        /* the queue is last in, first out: reverse it */
        {
            struct call *r = NULL;
            while (q) {
                c = q;
                q = q->next;
                c->next = r;
                r = c;
            }
            q = r;
        }
        while (q) {
            c = q;
            q = q->next;
            c->next = fan->active;
            fan->active = c;
            begin(fan, c);
        }
        if (is_stopping) {
            abort_all(fan);
            break;
        }
        curl_multi_perform(fan->multi, &running);
        while ((msg = curl_multi_info_read(fan->multi, &left)) != NULL) {
            struct xfer *x = NULL;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
            if (x)
                finished(fan, x, msg->data.result);
        }
        now = cr_clock_mono_us();
        expire(fan, now);
        complete(fan);
        /* Sleep until curl has work, a deadline passes or a call comes. */
        curl_multi_timeout(fan->multi, &wait_ms);
        if (wait_ms < 0 || wait_ms > 1000)
            wait_ms = 1000;
        for (c = fan->active; c; c = c->next) {
            int64_t ms = (c->deadline_us - now + 999) / 1000;
            if (ms < wait_ms)
                wait_ms = ms < 0 ? 0 : (long)ms;
        }
        if (wait_ms > 0)
            curl_multi_poll(fan->multi, NULL, 0, (int)wait_ms, NULL);
    }
    return NULL;
}

cr_rc
cr_fed_fanout_start(struct cr_fed *f, struct cr_fed_fanout **out,
                    struct cr_err *err)
{
    struct cr_fed_fanout *fan = calloc(1, sizeof *fan);

    *out = NULL;
    if (fan == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    fan->f = f;
    pthread_mutex_init(&fan->lock, NULL);
    pthread_mutex_init(&fan->tokens.lock, NULL);
    fan->multi = curl_multi_init();
    if (fan->multi == NULL) {
        cr_fed_fanout_stop(fan);
        return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                          "libcurl could not make a multi handle");
    }
    /* Keep a few idle connections per peer for the next call. */
    curl_multi_setopt(fan->multi, CURLMOPT_MAXCONNECTS,
                      (long)(f->npeers * 8 + 8));
    if (pthread_create(&fan->thread, NULL, run, fan) != 0) {
        cr_fed_fanout_stop(fan);
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "cannot start the federation thread");
    }
    fan->has_thread = true;
    *out = fan;
    return CR_OK;
}

void
cr_fed_fanout_stop(struct cr_fed_fanout *fan)
{
    if (fan == NULL)
        return;
    if (fan->has_thread) {
        pthread_mutex_lock(&fan->lock);
        fan->is_stopping = true;
        pthread_mutex_unlock(&fan->lock);
        curl_multi_wakeup(fan->multi);
        pthread_join(fan->thread, NULL);
    }
    if (fan->multi)
        curl_multi_cleanup(fan->multi);
    free(fan->self_token.jwt);
    for (int i = 0; i < TOKEN_SLOTS; i++)
        free(fan->tokens.slot[i].jwt);
    pthread_mutex_destroy(&fan->tokens.lock);
    pthread_mutex_destroy(&fan->lock);
    free(fan);
}

/* The user's node token: a copy of one minted less than half its life
 * ago for the same claims, or a new one. */
static cr_rc
user_token(struct cr_fed_fanout *fan, const struct cr_fed_request *rq,
           char **out, struct cr_err *err)
{
    const char *care = rq->care ? rq->care : "";
    struct token_slot *t = &fan->tokens.slot[claims_hash(rq->user, care) %
                                             TOKEN_SLOTS];
    int64_t now = cr_clock_mono_us();
    char *jwt = NULL;
    cr_rc rc;

    *out = NULL;
    pthread_mutex_lock(&fan->tokens.lock);
    if (t->jwt && now - t->at_us < (int64_t)CR_FED_TOKEN_TTL * 500000 &&
        same_claims(t, rq->user, care))
        *out = strdup(t->jwt);
    pthread_mutex_unlock(&fan->tokens.lock);
    if (*out)
        return CR_OK;
    rc = cr_fed_mint(fan->f, rq->user, care, &jwt, err);
    if (rc != CR_OK)
        return rc;
    *out = strdup(jwt);
    pthread_mutex_lock(&fan->tokens.lock);
    free(t->jwt);
    t->jwt = jwt;
    t->p = *rq->user;
    snprintf(t->care, sizeof t->care, "%s", care);
    t->at_us = now;
    pthread_mutex_unlock(&fan->tokens.lock);
    return *out ? CR_OK : cr_err_set(err, CR_ENOMEM, "exception", NULL,
                                     "out of memory");
}

cr_rc
cr_fed_start(struct cr_fed *f, const struct cr_fed_request *rq,
             cr_fed_done_fn done, void *ctx, struct cr_err *err)
{
    struct cr_fed_fanout *fan = f->fan;
    struct call *c = calloc(1, sizeof *c);
    bool is_stopping;
    cr_rc rc;

    if (c == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    c->f = f;
    c->done = done;
    c->ctx = ctx;
    c->t0_us = rq->start_us > 0 ? rq->start_us : cr_clock_mono_us();
    c->deadline_us = c->t0_us + (int64_t)f->deadline_ms * 1000;
    c->is_paged = rq->is_paged;
    snprintf(c->resource_type, sizeof c->resource_type, "%s",
             rq->resource_type && rq->resource_type[0] ? rq->resource_type
                                                       : "Bundle");
    c->res = calloc(1, sizeof *c->res);
    c->path = strdup(rq->path ? rq->path : "");
    c->reason = header_line("X-Access-Reason", rq->access_reason);
    c->supervisor = header_line("X-Supervisor", rq->supervisor);
    if (c->res == NULL || c->path == NULL ||
        (rq->access_reason && rq->access_reason[0] && c->reason == NULL) ||
        (rq->supervisor && rq->supervisor[0] && c->supervisor == NULL)) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
        goto fail;
    }
    rc = user_token(fan, rq, &c->token, err);
    if (rc != CR_OK)
        goto fail;
    if (rq->nhs && rq->nhs[0])
        snprintf(c->nhs, sizeof c->nhs, "%s", rq->nhs);
    /* Which peers: the locator's answer, or all of them. */
    if (c->nhs[0] == '\0' || f->locator == CR_FED_LOCATOR_NONE) {
        all_peers(f, c);
    } else if (f->locator == CR_FED_LOCATOR_SELF) {
        char nodes[CR_FED_MAX_PEERS + 1][CR_FED_ID_MAX + 1];
        size_t n = 0, i, j;
        struct cr_err lerr;
        cr_err_clear(&lerr);
        if (cr_fed_locdb_lookup(f->db, c->nhs, nodes, CR_FED_MAX_PEERS + 1,
                                &n, &lerr) != CR_OK) {
            c->res->is_locator_down = true;
            snprintf(c->res->locator_msg, sizeof c->res->locator_msg,
                     "the record locator could not be read (%.200s)",
                     lerr.msg);
            all_peers(f, c);
        }
        for (i = 0; i < n; i++)
            for (j = 0; j < f->npeers; j++)
                if (strcmp(nodes[i], f->peers[j].id) == 0)
                    c->target[j] = true;
    } else {
        c->needs_locate = true;
    }
    pthread_mutex_lock(&fan->lock);
    is_stopping = fan->is_stopping;
    if (!is_stopping) {
        c->next = fan->queue;
        fan->queue = c;
    }
    pthread_mutex_unlock(&fan->lock);
    if (is_stopping) {
        rc = cr_err_set(err, CR_EUNAVAILABLE, "transient", NULL,
                        "the node is stopping");
        goto fail;
    }
    curl_multi_wakeup(fan->multi);
    return CR_OK;
fail:
    call_free(c);
    return rc;
}
