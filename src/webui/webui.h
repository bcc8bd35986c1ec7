/* webui.h: the web UI's static files, served under /ui/.
 *
 * The files under web/ (HTML, CSS, JavaScript modules, SVG) are compiled
 * into the binary at build time (cmake/embed_web.cmake writes the table
 * cr_webui_assets[]), so a node serves its UI with nothing installed
 * beside it, and the UI always matches the API of the binary it came
 * with. This module sits in front of the API as the HTTP handler: paths
 * under /ui (and the bare /) are answered here, everything else goes to
 * the next handler (the FHIR API) untouched. It knows nothing of FHIR.
 * The UI itself calls the node's own /fhir API with the user's token.
 *
 * Answers: GET and HEAD only (405 otherwise); Content-Type by extension;
 * an ETag per file with Cache-Control: no-cache (browsers revalidate and
 * get 304 when nothing changed); a strict Content-Security-Policy (only
 * this origin's scripts, styles and connections; no inline script, no
 * framing); 404 for anything not in the table. Paths are looked up
 * exactly in the table, so no request can reach a file outside it.
 *
 * /ui/personas.json is the one file read at run time: the demo personas
 * (docs/ui.md) from a path given at creation, served when it exists, never
 * cached. Depends on http/ and core/. */
#ifndef CR_WEBUI_WEBUI_H
#define CR_WEBUI_WEBUI_H

#include "core/err.h"
#include "http/http.h"

#include <stddef.h>

/* One embedded file. 'path' is relative to web/ ("js/api.js"); 'etag' is
 * a quoted entity tag ("\"0123456789abcdef\""). All static. */
struct cr_webui_asset {
    const char *path;
    const unsigned char *data;
    size_t len;
    const char *etag;
};

/* The generated table (build/generated/webui_assets.c), sorted by path and
 * ended by an entry whose path is NULL. */
extern const struct cr_webui_asset cr_webui_assets[];
extern const size_t cr_webui_nassets;

enum cr_webui_kind {
    CR_WEBUI_PASS,        /* not a UI path: the next handler answers */
    CR_WEBUI_ASSET,       /* an embedded file */
    CR_WEBUI_REDIRECT,    /* 302 to 'location' */
    CR_WEBUI_PERSONAS,    /* the demo personas file */
    CR_WEBUI_NOT_FOUND    /* under /ui but no such file */
};

struct cr_webui_target {
    enum cr_webui_kind kind;
    const struct cr_webui_asset *asset;   /* CR_WEBUI_ASSET */
    const char *location;                 /* CR_WEBUI_REDIRECT, static */
};

/* What a (percent-decoded) request path names. "/" and "/ui" redirect to
 * "/ui/"; "/ui/" is index.html; "/ui/NAME" is the file NAME, or NAME.html
 * when NAME has no extension ("/ui/signin"); "/ui/personas.json" is the
 * personas file. A name with "..", an empty segment, a backslash or a
 * character outside A-Z a-z 0-9 . _ - / is not found. Pure; thread-safe. */
struct cr_webui_target
cr_webui_resolve(const char *path);

/* The Content-Type for a file name, by its extension (text files with
 * charset=utf-8); "application/octet-stream" when unknown. Static. */
const char *
cr_webui_content_type(const char *path);

/* The Content-Security-Policy every UI answer carries. Static. */
extern const char cr_webui_csp[];

struct cr_webui;   /* opaque */

struct cr_webui_opts {
    const char *personas_path;   /* file served as /ui/personas.json when
                                    it exists; NULL: never. Copied. */
};

/* A front handler that answers UI paths and passes every other request
 * to 'next' with 'next_ctx' (borrowed; must outlive the UI). Free with
 * cr_webui_destroy. */
cr_rc
cr_webui_create(const struct cr_webui_opts *opts, cr_http_handler_fn next,
                void *next_ctx, struct cr_webui **out, struct cr_err *err);

/* NULL is a no-op. */
void
cr_webui_destroy(struct cr_webui *w);

/* The handler to give cr_http_run, with the cr_webui as its ctx.
 * Thread-safe. */
void
cr_webui_handle(void *webui, struct cr_http_req *req,
                struct cr_http_resp *resp);

#endif
