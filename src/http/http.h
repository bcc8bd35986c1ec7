/* http.h: the HTTP transport (libmicrohttpd).
 *
 * Accepts connections, reads request bodies up to a limit, hands each
 * complete request to one handler, sends what the handler answers, and logs
 * one line per request. It knows nothing of FHIR: errors found here (a body
 * over the limit) are passed to the handler in req->transport_error so the
 * API layer answers them in its own format. A small pool of threads
 * (poll) serves all connections, so handlers must not block for long: a
 * request that waits (a write waiting for its commit) suspends itself and
 * is resumed when its answer is ready.
 * Depends on libmicrohttpd and core/. */
#ifndef CR_HTTP_HTTP_H
#define CR_HTTP_HTTP_H

#include "core/arena.h"
#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cr_http;       /* opaque: a running server */
struct MHD_Connection;

/* One request. Valid only during the handler call; strings live in the
 * request's arena or in libmicrohttpd's connection memory. */
struct cr_http_req {
    struct cr_arena *arena;      /* freed after the response is sent */
    const char *method;
    const char *path;            /* percent-decoded path, no query */
    const char *request_id;
    const char *client_addr;
    const char *body;            /* NUL-terminated; "" when none */
    size_t body_len;
    cr_rc transport_error;       /* CR_ETOOBIG: body over the limit */
    size_t body_limit;
    struct MHD_Connection *conn; /* private to http/ */
    void *priv_;                 /* private to http/ */
};

#define CR_HTTP_MAX_HEADERS 12

/* The handler's answer. 'body' is heap memory (malloc) that the transport
 * frees; header names and values must live until the response is sent
 * (string literals or the request arena). */
struct cr_http_resp {
    unsigned status;
    char *body;
    size_t body_len;
    const char *headers[CR_HTTP_MAX_HEADERS][2];
    int nheaders;
    const char *principal;       /* for the request log line; may be NULL */
};

typedef void (*cr_http_handler_fn)(void *ctx, struct cr_http_req *req,
                                   struct cr_http_resp *resp);

struct cr_http_opts {
    const char *host;            /* IPv4 or IPv6 literal to bind */
    uint16_t port;               /* 0: let the system choose */
    size_t max_body;             /* bytes */
    unsigned max_connections;    /* default 1024; lowered (with a
                                    warning) when the limit on open files
                                    cannot be raised to fit them */
    unsigned timeout_s;          /* idle connection timeout, default 60 */
    unsigned threads;            /* server threads; default 2 per core */
};

/* Bind and listen on opts->host:opts->port without serving yet, so the
 * caller can learn the port (opts->port 0 picks a free one) before it
 * builds what the handler needs. *out is freed by cr_http_stop. */
cr_rc
cr_http_listen(const struct cr_http_opts *opts, struct cr_http **out,
               struct cr_err *err);

/* Start serving on a listening server: each request goes to 'handler'
 * with 'ctx'. */
cr_rc
cr_http_run(struct cr_http *h, cr_http_handler_fn handler, void *ctx,
            struct cr_err *err);

/* The port actually bound (useful when opts->port was 0). */
uint16_t
cr_http_port(const struct cr_http *h);

/* Stop accepting, wait up to 'grace_ms' for requests in flight to finish,
 * then close every connection and free the server. NULL is a no-op. */
void
cr_http_stop(struct cr_http *h, int grace_ms);

/* A request header (case-insensitive name), or NULL. */
const char *
cr_http_header(const struct cr_http_req *req, const char *name);

/* Called for each query argument in order; return false to stop. 'value'
 * is "" for an argument without '='. */
typedef bool (*cr_http_arg_fn)(void *ctx, const char *name,
                               const char *value);

/* Walk the query arguments (percent-decoded) in the order given. */
void
cr_http_args(const struct cr_http_req *req, cr_http_arg_fn fn, void *ctx);

/* A request whose answer comes later (see cr_http_suspend). */
struct cr_http_pending;

/* Called on a server thread, after cr_http_resume, to answer a suspended
 * request. 'req' is the same request as before; 'resp' is new. */
typedef void (*cr_http_cont_fn)(void *arg, struct cr_http_req *req,
                                struct cr_http_resp *resp);

/* Inside a handler: answer later instead of now, without holding a thread.
 * The handler returns without setting resp->status, and arranges for
 * cr_http_resume to be called exactly once, from any thread; 'cont' then
 * answers. Returns NULL if the request cannot be suspended (the handler
 * must answer now). The request and its arena stay valid meanwhile. A
 * continuation may suspend the request again (once per wait). If the
 * client goes away after the resume but before 'cont' answered, 'cont' is
 * still called once, so it can release what it holds: its answer is then
 * dropped, and suspending from it returns NULL. */
struct cr_http_pending *
cr_http_suspend(struct cr_http_req *req, cr_http_cont_fn cont, void *arg);

/* Wake a suspended request. Thread-safe; call once per suspend. */
void
cr_http_resume(struct cr_http_pending *p);

/* Add a response header; silently ignored past CR_HTTP_MAX_HEADERS. */
void
cr_http_resp_header(struct cr_http_resp *resp, const char *name,
                    const char *value);

#endif
