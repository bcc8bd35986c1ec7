/* serve.c: the front handler: answers /ui paths from the embedded table
 * (and the personas file), passes everything else on. Depends on http/,
 * core/ and webui.h. */
#include "webui/webui.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The personas file is small (a few dozen tokens); anything larger is a
 * mistake in the configuration, not something to send to a browser. */
#define MAX_PERSONAS_BYTES (1u << 20)

struct cr_webui {
    cr_http_handler_fn next;
    void *next_ctx;
    char *personas;   /* path, or NULL */
};

/* Scripts, styles, images and connections from this origin only: no
 * inline script or style, no plugins, no framing, forms post only here.
 * SVG drawn by the UI is DOM, not an image, so it needs nothing more. */
const char cr_webui_csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

cr_rc
cr_webui_create(const struct cr_webui_opts *opts, cr_http_handler_fn next,
                void *next_ctx, struct cr_webui **out, struct cr_err *err)
{
    struct cr_webui *w = calloc(1, sizeof *w);

    if (w == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    w->next = next;
    w->next_ctx = next_ctx;
    if (opts && opts->personas_path && *opts->personas_path) {
        w->personas = strdup(opts->personas_path);
        if (w->personas == NULL) {
            free(w);
            return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                              "out of memory");
        }
    }
    *out = w;
    return CR_OK;
}

void
cr_webui_destroy(struct cr_webui *w)
{
    if (w == NULL)
        return;
    free(w->personas);
    free(w);
}

static void
security_headers(struct cr_http_resp *resp)
{
    cr_http_resp_header(resp, "Content-Security-Policy", cr_webui_csp);
    cr_http_resp_header(resp, "X-Content-Type-Options", "nosniff");
    cr_http_resp_header(resp, "Referrer-Policy", "no-referrer");
    cr_http_resp_header(resp, "X-Frame-Options", "DENY");
    cr_http_resp_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
}

/* Copy 'len' bytes into a heap body the transport frees. False when out
 * of memory (the caller answers 503). */
static bool
set_body(struct cr_http_resp *resp, const void *data, size_t len)
{
    resp->body = malloc(len ? len : 1);
    if (resp->body == NULL)
        return false;
    if (len)
        memcpy(resp->body, data, len);
    resp->body_len = len;
    return true;
}

static void
text(struct cr_http_resp *resp, unsigned status, const char *msg)
{
    resp->status = set_body(resp, msg, strlen(msg)) ? status : 503;
    cr_http_resp_header(resp, "Content-Type", "text/plain; charset=utf-8");
    cr_http_resp_header(resp, "Cache-Control", "no-store");
    security_headers(resp);
}

/* True when If-None-Match names 'etag' (weak comparison, as RFC 9110
 * asks for this header) or is "*". */
static bool
is_fresh(const struct cr_http_req *req, const char *etag)
{
    const char *inm = cr_http_header(req, "If-None-Match");

    if (inm == NULL)
        return false;
    while (*inm == ' ')
        inm++;
    return strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL;
}

static void
asset(const struct cr_http_req *req, struct cr_http_resp *resp,
      const struct cr_webui_asset *a)
{
    cr_http_resp_header(resp, "ETag", a->etag);
    cr_http_resp_header(resp, "Cache-Control", "no-cache");
    security_headers(resp);
    if (is_fresh(req, a->etag)) {
        resp->status = 304;
        return;
    }
    cr_http_resp_header(resp, "Content-Type", cr_webui_content_type(a->path));
    resp->status = set_body(resp, a->data, a->len) ? 200 : 503;
}

/* The personas file, read on every request so a demo can rewrite it
 * while the node runs. Not there (or no path configured): 404. */
static void
personas(const struct cr_webui *w, struct cr_http_resp *resp)
{
    struct stat st;
    ssize_t got;
    size_t len;
    char *buf;
    int fd;

    if (w->personas == NULL ||
        (fd = open(w->personas, O_RDONLY | O_CLOEXEC)) < 0) {
        text(resp, 404, "no demo personas on this node: sign in with a "
                        "token from your identity provider\n");
        return;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (size_t)st.st_size > MAX_PERSONAS_BYTES) {
        close(fd);
        text(resp, 500, "the personas file is not a readable file of at "
                        "most 1 MiB\n");
        return;
    }
    len = (size_t)st.st_size;
    buf = malloc(len ? len : 1);
    if (buf == NULL) {
        close(fd);
        text(resp, 503, "out of memory\n");
        return;
    }
    got = read(fd, buf, len);
    close(fd);
    if (got < 0 || (size_t)got != len) {
        free(buf);
        text(resp, 500, "the personas file could not be read\n");
        return;
    }
    resp->status = 200;
    resp->body = buf;
    resp->body_len = len;
    cr_http_resp_header(resp, "Content-Type",
                        "application/json; charset=utf-8");
    /* it holds bearer tokens: never kept by a cache */
    cr_http_resp_header(resp, "Cache-Control", "no-store");
    security_headers(resp);
}

void
cr_webui_handle(void *webui, struct cr_http_req *req,
                struct cr_http_resp *resp)
{
    const struct cr_webui *w = webui;
    struct cr_webui_target t = cr_webui_resolve(req->path);

    if (t.kind == CR_WEBUI_PASS) {
        w->next(w->next_ctx, req, resp);
        return;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        cr_http_resp_header(resp, "Allow", "GET, HEAD");
        text(resp, 405, "the web UI answers GET and HEAD only\n");
        return;
    }
    switch (t.kind) {
    case CR_WEBUI_REDIRECT:
        cr_http_resp_header(resp, "Location", t.location);
        text(resp, 302, "the web UI is at /ui/\n");
        return;
    case CR_WEBUI_ASSET:
        asset(req, resp, t.asset);
        return;
    case CR_WEBUI_PERSONAS:
        personas(w, resp);
        return;
    case CR_WEBUI_NOT_FOUND:
    case CR_WEBUI_PASS:
        break;
    }
    text(resp, 404, "not found: the web UI has no such page or file\n");
}
