/* http.c: libmicrohttpd glue: body accumulation with a limit, one handler
 * call per request, response headers, request log, graceful stop.
 * Depends on libmicrohttpd, OpenSSL (random request-id prefix) and core/. */
#include "http/http.h"

#include "core/str.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct cr_http {
    struct MHD_Daemon *d;
    cr_http_handler_fn handler;
    void *ctx;
    size_t max_body;
    uint16_t port;
    char id_prefix[9];
    atomic_uint_fast64_t next_id;
    atomic_int in_flight;
    int fd;                  /* listening socket until the daemon owns it */
    bool is_ipv6;
    unsigned max_connections;
    unsigned timeout_s;
    unsigned threads;
};

/* Per-request state, from the first callback to completion. */
/* After a request that answered this much or held this much in its
 * arena, or took this long, freed memory goes back to the system
 * (on_completed). */
#define BIG_ANSWER ((size_t)1 << 20)
#define LONG_REQUEST_US 200000

struct rq {
    struct cr_arena *arena;
    struct cr_buf body;
    bool is_too_big;
    int64_t start_us;
    unsigned status;
    size_t resp_len;              /* the answer's body, bytes */
    char request_id[40];
    const char *method;
    const char *path;
    const char *principal;
    struct cr_http *h;
    struct MHD_Connection *conn;
    struct cr_http_req req;       /* kept while suspended */
    cr_http_cont_fn cont;
    void *cont_arg;
    bool is_suspended;
    bool is_resumed;
    bool is_waiting_again;      /* suspended (again) by the last call */
    bool has_cont_pending;      /* suspended; cont not yet called */
    bool is_closing;            /* on_completed: no more waiting */
    char addr[64];
};

struct cr_http_pending *
cr_http_suspend(struct cr_http_req *req, cr_http_cont_fn cont, void *arg)
{
    struct rq *r = req->priv_;

    /* Once per wait: a request may wait again from its continuation (a
     * write waits for its commit, then for its audit record). */
    if (r == NULL || r->is_closing || (r->is_suspended && !r->is_resumed))
        return NULL;
    r->cont = cont;
    r->cont_arg = arg;
    r->is_suspended = true;
    r->is_resumed = false;
    r->is_waiting_again = true;
    r->has_cont_pending = true;
    MHD_suspend_connection(r->conn);
    return (struct cr_http_pending *)r;
}

void
cr_http_resume(struct cr_http_pending *p)
{
    struct rq *r = (struct rq *)p;

    r->is_resumed = true;
    MHD_resume_connection(r->conn);
}

void
cr_http_resp_header(struct cr_http_resp *resp, const char *name,
                    const char *value)
{
    if (resp->nheaders >= CR_HTTP_MAX_HEADERS || value == NULL)
        return;
    resp->headers[resp->nheaders][0] = name;
    resp->headers[resp->nheaders][1] = value;
    resp->nheaders++;
}

const char *
cr_http_header(const struct cr_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct args_walk {
    cr_http_arg_fn fn;
    void *ctx;
};

static enum MHD_Result
arg_iter(void *cls, enum MHD_ValueKind kind, const char *key,
         const char *value)
{
    struct args_walk *w = cls;

    (void)kind;
    return w->fn(w->ctx, key, value ? value : "") ? MHD_YES : MHD_NO;
}

void
cr_http_args(const struct cr_http_req *req, cr_http_arg_fn fn, void *ctx)
{
    struct args_walk w = { fn, ctx };

    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, arg_iter,
                              &w);
}

static void
client_addr(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    snprintf(out, size, "unknown");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                  out, (socklen_t)size);
}

static enum MHD_Result
send_response(struct cr_http *h, struct rq *r, struct MHD_Connection *c,
              struct cr_http_resp *resp)
{
    struct MHD_Response *mr;
    enum MHD_Result ret;
    int i;

    mr = MHD_create_response_from_buffer(resp->body_len,
                                         resp->body ? resp->body : (void *)"",
                                         resp->body ? MHD_RESPMEM_MUST_FREE
                                                    : MHD_RESPMEM_PERSISTENT);
    if (mr == NULL) {
        free(resp->body);
        return MHD_NO;
    }
    for (i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(mr, resp->headers[i][0], resp->headers[i][1]);
    MHD_add_response_header(mr, "X-Request-Id", r->request_id);
    r->status = resp->status;
    r->principal = resp->principal;
    r->resp_len = resp->body_len;
    ret = MHD_queue_response(c, resp->status, mr);
    MHD_destroy_response(mr);
    (void)h;
    return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    struct cr_http *h = cls;
    struct rq *r = *con_cls;
    struct cr_http_resp resp;

    (void)version;
    if (r == NULL) {
        const char *cl;
        r = calloc(1, sizeof *r);
        if (r == NULL)
            return MHD_NO;
        r->arena = cr_arena_create();
        if (r->arena == NULL) {
            free(r);
            return MHD_NO;
        }
        r->body = cr_buf_make(h->max_body);
        r->start_us = cr_clock_mono_us();
        snprintf(r->request_id, sizeof r->request_id, "%s-%llu", h->id_prefix,
                 (unsigned long long)atomic_fetch_add(&h->next_id, 1));
        r->method = cr_arena_strndup(r->arena, method, strlen(method));
        r->path = cr_arena_strndup(r->arena, url, strlen(url));
        atomic_fetch_add(&h->in_flight, 1);
        *con_cls = r;
        /* Refuse a declared oversized body before reading any of it. */
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (end != cl && n > h->max_body)
                r->is_too_big = true;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!r->is_too_big) {
            cr_buf_add(&r->body, upload_data, *upload_data_size);
            if (r->body.rc != CR_OK) {
                r->is_too_big = true;
                cr_buf_free(&r->body);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }

    memset(&resp, 0, sizeof resp);
    if (r->is_suspended) {
        if (!r->is_resumed)
            return MHD_YES;     /* spurious call while waiting */
        r->is_waiting_again = false;
        r->has_cont_pending = false;
        r->cont(r->cont_arg, &r->req, &resp);
        if (r->is_waiting_again && resp.status == 0)
            return MHD_YES;     /* waits again, answered by the new cont */
    } else {
        struct cr_http_req *req = &r->req;
        memset(req, 0, sizeof *req);
        client_addr(c, r->addr, sizeof r->addr);
        req->arena = r->arena;
        req->method = r->method;
        req->path = r->path;
        req->request_id = r->request_id;
        req->client_addr = r->addr;
        req->body = r->body.ptr ? r->body.ptr : "";
        req->body_len = r->body.len;
        req->transport_error = r->is_too_big ? CR_ETOOBIG : CR_OK;
        req->body_limit = h->max_body;
        req->conn = c;
        req->priv_ = r;
        r->conn = c;
        h->handler(h->ctx, req, &resp);
        if (r->is_suspended && resp.status == 0)
            return MHD_YES;     /* answered later, by cont */
    }
    if (resp.status == 0)
        resp.status = 500;
    /* The log line may outlive the handler's arena strings: copy. */
    if (resp.principal)
        resp.principal = cr_arena_strndup(r->arena, resp.principal,
                                          strlen(resp.principal));
    return send_response(h, r, c, &resp);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct cr_http *h = cls;
    struct rq *r = *con_cls;
    bool is_big;

    (void)c;
    if (r == NULL)
        return;
    /* The client went away after the request was resumed but before its
     * continuation answered: call it anyway (it may not wait again), so
     * that it releases what it holds, and drop its answer. */
    if (r->has_cont_pending && r->is_resumed) {
        struct cr_http_resp resp;
        memset(&resp, 0, sizeof resp);
        r->is_closing = true;
        r->has_cont_pending = false;
        r->cont(r->cont_arg, &r->req, &resp);
        free(resp.body);
    }
    cr_log_request(r->request_id, r->method, r->path,
                   r->status ? r->status : 499,
                   (double)(cr_clock_mono_us() - r->start_us) / 1000.0,
                   r->principal);
    (void)toe;
    is_big = r->resp_len >= BIG_ANSWER || r->body.cap >= BIG_ANSWER ||
             cr_arena_size(r->arena) >= BIG_ANSWER ||
             cr_clock_mono_us() - r->start_us >= LONG_REQUEST_US;
    cr_buf_free(&r->body);
    cr_arena_destroy(r->arena);
    free(r);
    *con_cls = NULL;
    /* A large or long request, or one whose arena grew large (an
     * accurate total's decisions), leaves freed memory in the thread's
     * malloc heap, which glibc keeps: one page of 1,000 patients with their
     * observations left the node at 90 MB for good. Hand it back (a few
     * ms, only after such requests). */
    if (is_big)
        malloc_trim(0);
    atomic_fetch_sub(&h->in_flight, 1);
}

/* Percent-decoding of paths and query arguments, in place. "%00" is left
 * as it is: a decoded NUL would cut a C string short, so that
 * "Patient/a%00b" would act on "Patient/a". */
static size_t
unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return cr_str_unescape(s);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    cr_log("warn", "http: %s", msg);
}

/* Descriptors the process needs besides its connections: the store's
 * files and their connections, the journal, logs, federation sockets. */
#define SPARE_FDS 128

/* The connections this process can hold open: its limit on open files is
 * raised toward what 'wanted' connections need (up to the hard limit, as
 * nginx's worker_rlimit_nofile does), and the connection limit lowered,
 * with a warning, if that is not enough. A connection accepted past the
 * file limit would fail in accept() over and over. */
static unsigned
fit_connections(unsigned wanted)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)wanted + SPARE_FDS;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return wanted;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need
                          ? need
                          : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        unsigned fit = rl.rlim_cur > SPARE_FDS + 16
                           ? (unsigned)(rl.rlim_cur - SPARE_FDS)
                           : 16;
        cr_log("warn", "http: the limit on open files (%llu) allows %u "
               "connections, not the %u configured; raise it (ulimit -n, "
               "or LimitNOFILE= under systemd)",
               (unsigned long long)rl.rlim_cur, fit, wanted);
        return fit;
    }
    return wanted;
}

cr_rc
cr_http_listen(const struct cr_http_opts *opts, struct cr_http **out,
               struct cr_err *err)
{
    struct cr_http *h = calloc(1, sizeof *h);
    struct sockaddr_storage ss;
    socklen_t sslen;
    unsigned char rnd[4];
    int one = 1;

    if (h == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    h->fd = -1;
    h->max_body = opts->max_body;
    h->max_connections = fit_connections(opts->max_connections
                                             ? opts->max_connections
                                             : 1024);
    h->timeout_s = opts->timeout_s ? opts->timeout_s : 60;
    if (opts->threads) {
        h->threads = opts->threads;
    } else {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        h->threads = (unsigned)(n > 0 ? 2 * n : 4);
    }
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        memset(rnd, 0, sizeof rnd);
    snprintf(h->id_prefix, sizeof h->id_prefix, "%02x%02x%02x%02x", rnd[0],
             rnd[1], rnd[2], rnd[3]);
    atomic_init(&h->next_id, 1);
    atomic_init(&h->in_flight, 0);

    memset(&ss, 0, sizeof ss);
    if (inet_pton(AF_INET, opts->host,
                  &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(opts->port);
        sslen = sizeof *sin;
    } else if (inet_pton(AF_INET6, opts->host,
                         &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(opts->port);
        sslen = sizeof *sin6;
        h->is_ipv6 = true;
    } else {
        free(h);
        return cr_err_set(err, CR_EINVAL, "value", "listen",
                          "'%s' is not an IP address; use e.g. 127.0.0.1 or "
                          "::1", opts->host);
    }
    h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (h->fd < 0 ||
        setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(h->fd, (struct sockaddr *)&ss, sslen) != 0 ||
        listen(h->fd, 1024) != 0) {
        cr_rc rc = cr_err_set(err, CR_EIO, "exception", "listen",
                              "cannot listen on %s port %u: %s", opts->host,
                              (unsigned)opts->port, strerror(errno));
        if (h->fd >= 0)
            close(h->fd);
        free(h);
        return rc;
    }
    sslen = sizeof ss;
    getsockname(h->fd, (struct sockaddr *)&ss, &sslen);
    h->port = ntohs(ss.ss_family == AF_INET
                        ? ((struct sockaddr_in *)&ss)->sin_port
                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *out = h;
    return CR_OK;
}

cr_rc
cr_http_run(struct cr_http *h, cr_http_handler_fn handler, void *ctx,
            struct cr_err *err)
{
    /* poll(), not epoll: with epoll and suspend/resume, libmicrohttpd
     * 0.9.75 (Debian 12) stops noticing the connections of a thread that
     * reached its share of the connection limit, so they are never closed
     * and, once every thread is full, the node answers nothing again
     * (docs/internals/http.md). */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;

    if (h->is_ipv6)
        flags |= MHD_USE_IPv6;
    h->handler = handler;
    h->ctx = ctx;
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_CONNECTION_LIMIT, h->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, h->timeout_s,
        MHD_OPTION_THREAD_POOL_SIZE, h->threads,
        MHD_OPTION_END);
    if (h->d == NULL)
        return cr_err_set(err, CR_EIO, "exception", "listen",
                          "cannot start the HTTP server");
    h->fd = -1;   /* the daemon owns the socket now */
    return CR_OK;
}

uint16_t
cr_http_port(const struct cr_http *h)
{
    return h->port;
}

void
cr_http_stop(struct cr_http *h, int grace_ms)
{
    int waited = 0;
    MHD_socket s;

    if (h == NULL)
        return;
    if (h->d == NULL) {
        if (h->fd >= 0)
            close(h->fd);
        free(h);
        return;
    }
    s = MHD_quiesce_daemon(h->d);
    if (s != MHD_INVALID_SOCKET)
        close(s);
    while (atomic_load(&h->in_flight) > 0 && waited < grace_ms) {
        usleep(10000);
        waited += 10;
    }
    MHD_stop_daemon(h->d);
    free(h);
}
