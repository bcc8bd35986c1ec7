/* import.h: bulk loading of NDJSON into a node's store.
 *
 * Lines are prepared (parsed, validated, indexed) on worker threads in
 * chunks and each chunk is written in one store transaction by the writer,
 * so a resource is either wholly stored, with its index rows, or not at
 * all. A bad line is reported with its file and line number and skipped;
 * the rest go on. Each resource keeps its own id (create or update). Its
 * publishing organisation is the one given, or else the resource's
 * meta.tag from https://carerecord.example/publisher. Used by `carerecord
 * import` and POST /fhir/$import. Depends on api/ internals, store/. */
#ifndef CR_API_IMPORT_H
#define CR_API_IMPORT_H

#include "api/api.h"

#include <stdint.h>

#define CR_IMPORT_PUBLISHER_SYSTEM "https://carerecord.example/publisher"

struct cr_api_import;   /* opaque: one import session */

/* Called (from any thread, one call at a time) for each line skipped. */
typedef void (*cr_api_import_bad_fn)(void *ctx, const char *file,
                                     uint64_t line, const struct cr_err *err);

struct cr_api_import_opts {
    const char *org;             /* publisher for every resource; NULL:
                                    each resource's publisher tag */
    int workers;                 /* preparing threads; 0: prepare on the
                                    calling thread */
    cr_api_import_bad_fn on_bad;
    void *ctx;
};

struct cr_api_import_stats {
    uint64_t lines;              /* lines given */
    uint64_t stored;             /* resources durably stored */
    uint64_t bad;                /* lines skipped */
};

/* Start a session. *out is freed by cr_api_import_end. */
cr_rc
cr_api_import_begin(struct cr_api *api, const struct cr_api_import_opts *o,
                    struct cr_api_import **out, struct cr_err *err);

/* Give one line (copied; blank lines are ignored). 'file' must live until
 * the session ends. May block while earlier chunks are written. Returns
 * non-OK only when the store failed (then the import should stop). */
cr_rc
cr_api_import_line(struct cr_api_import *im, const char *line, size_t len,
                   const char *file, uint64_t lineno, struct cr_err *err);

/* Counts so far (thread-safe; for progress). */
void
cr_api_import_progress(struct cr_api_import *im,
                       struct cr_api_import_stats *out);

/* Write what is left, wait until all of it is durable, free the session
 * and give the final counts. Returns the first store failure, if any. */
cr_rc
cr_api_import_end(struct cr_api_import *im, struct cr_api_import_stats *out,
                  struct cr_err *err);

#endif
