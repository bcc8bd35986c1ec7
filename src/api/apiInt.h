/* apiInt.h: private to api/: the API object, the per-request context and
 * the helpers the interaction files share. */
#ifndef CR_API_INT_H
#define CR_API_INT_H

#include "access/principal.h"
#include "api/api.h"
#include "audit/audit.h"
#include "core/buf.h"

#include <jansson.h>
#include <stdbool.h>

struct cr_api {
    struct cr_store *store;
    struct cr_audit *audit;     /* the node's audit log */
    struct cr_keys *keys;
    struct cr_api_config cfg;
    char *base_url;
};

/* What the path names. */
enum route_kind {
    R_METADATA,      /* /fhir/metadata */
    R_SYSTEM,        /* /fhir */
    R_SYSTEM_HIST,   /* /fhir/_history */
    R_TYPE,          /* /fhir/T */
    R_TYPE_HIST,     /* /fhir/T/_history */
    R_TYPE_SEARCH,   /* /fhir/T/_search */
    R_INSTANCE,      /* /fhir/T/id */
    R_INST_HIST,     /* /fhir/T/id/_history */
    R_VERSION,       /* /fhir/T/id/_history/vid */
    R_SYSTEM_OP,     /* /fhir/$op */
    R_TYPE_OP,       /* /fhir/T/$op */
    R_INSTANCE_OP    /* /fhir/T/id/$op */
};

struct route {
    enum route_kind kind;
    const char *type;    /* arena copies */
    const char *id;
    int64_t version;
    const char *op;      /* operation name without '$' */
};

enum prefer_return { PREFER_REPRESENTATION, PREFER_MINIMAL, PREFER_OUTCOME };

/* One request in flight. */
struct ctx {
    struct cr_api *api;
    struct cr_http_req *req;
    struct cr_http_resp *resp;
    struct route route;
    struct cr_principal principal;
    bool is_authenticated;
    const char *who;            /* sub@org/role, for the request log */
    enum prefer_return prefer;
    char etag[32];
    char last_modified[40];
    char location[512];
    /* the audit step (audit_step.c) */
    struct cr_buf touched;      /* "Type/id/_history/v" list (JSON) */
    const char *audit_patient;  /* the patient, when one is known */
    bool is_txn;                /* POST /fhir: a transaction */
    struct cr_http_resp saved;  /* the answer, while its record is written */
    struct cr_http_pending *audit_pending;
    struct cr_audit_async audit;
    cr_rc audit_rc;
    bool is_recorded;           /* the write's record is in its transaction */
    bool has_action;            /* the interaction names its audit action */
    enum cr_audit_action action;    /* ... this one (else by route) */
};

/* audit_step.c: start collecting what the request touches. */
void
cr_api_audit_begin(struct ctx *x);

/* audit_step.c: note a resource the answer contains or the request
 * changed. */
void
cr_api_touch(struct ctx *x, const char *type, const char *id,
             int64_t version);

/* audit_step.c: inside a write's transaction, the record of that write
 * (they commit together or not at all). Returns the append's result. */
cr_rc
cr_api_audit_in_txn(struct ctx *x, struct cr_store_txn *txn,
                    enum cr_audit_action action, unsigned status,
                    const char *patient, const struct cr_buf *refs,
                    struct cr_err *err);

/* audit_step.c: the last step of every request: hold the answer in
 * x->resp until its audit record is durable, then send it (or a 500 if
 * the record could not be written). A no-op for the CapabilityStatement. */
void
cr_api_audited_send(struct ctx *x);

/* outcome.c: the HTTP status for an error. */
unsigned
cr_api_status_for(const struct cr_err *err);

/* outcome.c: answer with an OperationOutcome of one issue. 'where' may be
 * NULL or "". */
void
cr_api_outcome(struct ctx *x, unsigned status, const char *severity,
               const char *code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* outcome.c: answer with the OperationOutcome for 'err'. */
void
cr_api_fail(struct ctx *x, const struct cr_err *err);

/* outcome.c: answer 'status' with body 'b' (taken) as FHIR JSON. */
void
cr_api_send_buf(struct ctx *x, unsigned status, struct cr_buf *b);

/* outcome.c: answer that a Bundle would exceed cfg.max_response (a clear
 * 400, never a silently shortened answer). */
void
cr_api_too_big(struct ctx *x);

/* outcome.c: open a Bundle of 'type' in 'b': resourceType, a new id,
 * meta.lastUpdated now, and type; the caller adds the rest and the
 * closing brace. */
void
cr_api_bundle_start(struct cr_buf *b, const char *type);

/* outcome.c: close a Bundle opened with cr_api_bundle_start: add the
 * entries (taken: freed), the closing brace, and answer 200, or 400
 * too-costly when it grew past cfg.max_response. */
void
cr_api_bundle_finish(struct ctx *x, struct cr_buf *b, struct cr_buf *entries);

/* route.c: parse req->path. CR_ENOTFOUND for paths outside the API,
 * CR_EINVAL (with err) for a malformed type, id or version. */
cr_rc
cr_api_route(struct ctx *x, struct cr_err *err);

/* negotiate.c: check Accept and _format (406), read Prefer. Returns false
 * after answering when the request cannot be served. */
bool
cr_api_negotiate(struct ctx *x);

/* negotiate.c: check the request body's Content-Type (415). */
bool
cr_api_check_content_type(struct ctx *x);

/* prepare.c: a resource to write: parsed, validated, with its final bytes. */
struct prepared {
    json_t *root;               /* parsed body (owned) */
    const char *text;           /* the body text (borrowed) */
    size_t text_len;
    const char *type;
    char id[65];
    char patient[65];
    bool has_patient;
    struct cr_buf json;         /* the bytes to store and serve */
    struct cr_fhir_index_row *rows;   /* search index rows (request arena) */
    size_t nrows;
};

/* prepare.c: parse and validate req->body as a resource of 'type'.
 * 'url_id' is the id in the URL (update) or NULL (create: the body must not
 * disagree with nothing; any id in the body is ignored and replaced).
 * On success p->root, type, patient, tokens are set. */
cr_rc
cr_api_parse_resource(struct ctx *x, const char *type, const char *url_id,
                      struct prepared *p, struct cr_err *err);

/* prepare.c: as cr_api_parse_resource for the resource in 'text' (which
 * must stay valid until p is freed). */
cr_rc
cr_api_parse_text(struct ctx *x, const char *type, const char *url_id,
                  const char *text, size_t text_len, struct prepared *p,
                  struct cr_err *err);

/* prepare.c: the same without a request: memory from 'arena'; 'type'
 * NULL takes the body's resourceType (which must be served). */
cr_rc
cr_api_prepare(struct cr_api *api, struct cr_arena *arena, const char *type,
               const char *url_id, const char *text, size_t text_len,
               struct prepared *p, struct cr_err *err);

/* prepare.c: produce p->json for 'id' at 'version', time 'ms'. */
cr_rc
cr_api_finish_resource(struct prepared *p, const char *id, int64_t version,
                       int64_t ms, struct cr_err *err);

/* prepare.c: free what cr_api_parse_resource allocated. */
void
cr_api_prepared_free(struct prepared *p);

/* prepare.c: a new server-assigned id (time-ordered UUID) into out[37]. */
void
cr_api_new_id(char out[37]);

/* crud.c: one resource write, run inside the store's writer transaction. */
enum write_kind { W_CREATE, W_UPDATE, W_DELETE };
enum write_result { RES_CREATED, RES_EXISTING, RES_UPDATED, RES_DELETED,
                    RES_ALREADY_DELETED, RES_NO_MATCH };

struct write_job {
    struct ctx *x;               /* the request (its record is written in the
                                    write's transaction); NULL: not recorded
                                    here (a bundle records once for all) */
    enum write_kind kind;
    struct prepared *p;          /* NULL for delete */
    const char *type;
    const char *id;              /* may be repointed to found_id */
    const char *org;
    int64_t if_match;            /* 0: none */
    /* a condition (If-None-Exist, conditional update/delete), as one token */
    const char *cond_param;
    const char *cond_system;
    const char *cond_code;
    /* when the condition was resolved before the transaction: what it
     * found then (found_id when expect_n is 1), checked again inside */
    bool has_expect;
    size_t expect_n;
    /* results */
    enum write_result result;
    int64_t version;
    int64_t ms;
    char found_id[65];
    struct cr_buf found;         /* what a conditional create found */
    struct cr_store_meta found_meta;
};

/* crud.c: the write described by 'ctx' (a struct write_job). */
cr_rc
cr_api_write_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err);

/* crud.c: If-Match value: the version, 0 if absent, -1 if malformed. */
int64_t
cr_api_parse_if_match(const char *h);

/* crud.c: a condition "identifier=system|value" (or "_id=x") into j. */
cr_rc
cr_api_parse_condition(struct ctx *x, struct write_job *j, const char *h,
                       struct cr_err *err);

/* crud.c: answer a successful write as Prefer asks. */
void
cr_api_answer_write(struct ctx *x, unsigned status, const char *json,
                    size_t len, const char *what);

/* crud.c */
void
cr_api_create_resource(struct ctx *x);
void
cr_api_read(struct ctx *x);
void
cr_api_vread(struct ctx *x);
void
cr_api_update(struct ctx *x);
void
cr_api_delete(struct ctx *x);
void
cr_api_conditional_update(struct ctx *x);
void
cr_api_conditional_delete(struct ctx *x);

/* bundle.c: POST /fhir with a batch or transaction Bundle. */
void
cr_api_bundle(struct ctx *x);

/* import_op.c: POST /fhir/$import (NDJSON body). */
void
cr_api_import_op(struct ctx *x);

/* audit_report_op.c: GET /fhir/$audit-report (purpose audit only). */
void
cr_api_audit_report_op(struct ctx *x);

/* everything.c: Patient/$everything, by id or by NHS number. */
void
cr_api_everything(struct ctx *x);

/* search.c: GET /fhir/T?... and POST /fhir/T/_search. */
void
cr_api_search(struct ctx *x);

/* history.c */
void
cr_api_history(struct ctx *x);

/* capability.c */
void
cr_api_metadata(struct ctx *x);

/* Set ETag / Last-Modified / Location headers for a version. */
void
cr_api_version_headers(struct ctx *x, const char *type, const char *id,
                       int64_t version, int64_t ms, bool with_location);

#endif
