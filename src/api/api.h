/* api.h: the FHIR REST API of a node.
 *
 * The only module that combines tokens, the store, the access policy,
 * audit and federation. It turns one HTTP request into one FHIR
 * interaction and answers with a resource, a Bundle or an
 * OperationOutcome. Depends on http/, store/, access/, audit/,
 * federation/, fhir/, core/. */
#ifndef CR_API_API_H
#define CR_API_API_H

#include "access/token.h"
#include "audit/audit.h"
#include "core/err.h"
#include "federation/federation.h"
#include "http/http.h"
#include "store/store.h"

#include <jansson.h>
#include <stddef.h>

struct cr_api;   /* opaque */

struct cr_api_config {
    const char *base_url;     /* absolute FHIR base, e.g. http://h:8080/fhir */
    size_t max_body;          /* bytes; default 8 MiB */
    int max_json_depth;       /* default 64 */
    int default_count;        /* history page size, default 50 */
    int max_count;            /* largest _count honoured, default 1000 */
    int max_bundle_entries;   /* entries in one batch/transaction, 1000 */
    size_t max_response;      /* bytes of one Bundle answer, 64 MiB */
    const json_t *policy;     /* the "policy" section of the node's
                                 configuration, or NULL for the defaults
                                 (access/policy.h); only read */
    const json_t *mpi;        /* the "mpi" section (weights and thresholds
                                 of the patient index, mpi/mpi.h), or NULL
                                 for the defaults; only read */
    struct cr_fed *fed;       /* this node's federation (borrowed, must
                                 outlive the API), or NULL for a node
                                 without peers */
    struct cr_audit_opts audit;   /* the audit journal (audit/audit.h);
                                     all zero: none, every record is
                                     committed before the answer leaves */
};

/* An API over 'store', verifying tokens with 'keys'. Both are borrowed and
 * must outlive the API. The config's strings are copied. A policy or mpi
 * section that is not valid is CR_EINVAL with err saying which key is
 * wrong. Creating the API brings the store's patient index up to date
 * (mpi/mpi.h: a store without one is indexed now). */
cr_rc
cr_api_create(struct cr_store *store, struct cr_keys *keys,
              const struct cr_api_config *cfg, struct cr_api **out,
              struct cr_err *err);

/* NULL is a no-op. */
void
cr_api_destroy(struct cr_api *api);

/* The request handler to give cr_http_start, with the API as its ctx.
 * Thread-safe. */
void
cr_api_handle(void *api, struct cr_http_req *req, struct cr_http_resp *resp);

#endif
