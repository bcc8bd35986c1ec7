/* locator_ep.c: the endpoints nodes call on each other, under /federation/.
 *
 *   GET  /federation/locate?nhs=N    which nodes hold data for NHS number N
 *                                    (the node that keeps the locator):
 *                                    {"nhs": N, "nodes": ["nel", "sel"]}
 *   POST /federation/register        {"node": "sel", "nhs": [N, ...]}: the
 *                                    calling node holds data for these
 *                                    (the locator): {"registered": n}
 *   GET  /federation/patients?after=S&count=C
 *                                    the NHS numbers this node holds, in
 *                                    change order, to rebuild a locator:
 *                                    {"node": id, "nhs": [...], "next": S'}
 *                                    (next is null after the last page)
 *
 * Only peers may call them: a node token (via) is required, and a node
 * registers only itself. They carry NHS numbers and node ids, never record
 * content; they are in the request log, not the audit log (the federated
 * read that needs them is audited where the user asked). Plain JSON, not
 * FHIR; errors are OperationOutcomes as everywhere. Depends on
 * federation/, store/, fhir/, jansson. */
#include "api/apiInt.h"

#include "fhir/fhir.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REGISTER 100000     /* NHS numbers in one registration */
#define MAX_LIST 10000          /* Patients in one page of the list */

static void
send_json(struct ctx *x, struct cr_buf *b)
{
    cr_api_send_buf(x, 200, b);
    /* cr_api_send_buf named FHIR JSON: this is plain JSON. */
    x->resp->headers[x->resp->nheaders - 1][1] =
        "application/json; charset=utf-8";
}

struct locate_args {
    const char *nhs;
    const char *after;
    const char *count;
};

static bool
take(void *ctx, const char *name, const char *value)
{
    struct locate_args *a = ctx;

    if (strcmp(name, "nhs") == 0)
        a->nhs = value;
    else if (strcmp(name, "after") == 0)
        a->after = value;
    else if (strcmp(name, "count") == 0)
        a->count = value;
    return true;
}

static void
locate(struct ctx *x, const struct locate_args *a)
{
    char nodes[CR_FED_MAX_PEERS + 1][CR_FED_ID_MAX + 1];
    struct cr_buf b = cr_buf_make(0);
    struct cr_err err;
    size_t n = 0, i;

    if (a->nhs == NULL || !cr_fhir_nhs_number_valid(a->nhs, strlen(a->nhs))) {
        cr_api_outcome(x, 400, "error", "value", NULL,
                       "nhs must be a valid NHS number");
        return;
    }
    cr_err_clear(&err);
    if (cr_fed_locate(x->api->fed, a->nhs, nodes, CR_FED_MAX_PEERS + 1, &n,
                      &err) != CR_OK) {
        cr_api_fail(x, &err);
        return;
    }
    cr_buf_adds(&b, "{\"nhs\":");
    cr_buf_add_json_str(&b, a->nhs);
    cr_buf_adds(&b, ",\"nodes\":[");
    for (i = 0; i < n; i++) {
        if (i)
            cr_buf_addc(&b, ',');
        cr_buf_add_json_str(&b, nodes[i]);
    }
    cr_buf_adds(&b, "]}");
    send_json(x, &b);
}

static void
register_nodes(struct ctx *x)
{
    json_t *root = json_loadb(x->req->body, x->req->body_len,
                              JSON_REJECT_DUPLICATES, NULL);
    json_t *node = json_object_get(root, "node"),
           *list = json_object_get(root, "nhs"), *v;
    const char **nhs = NULL;
    struct cr_buf b = cr_buf_make(0);
    struct cr_err err;
    size_t i, n;

    if (!json_is_string(node) || !json_is_array(list) ||
        json_array_size(list) > MAX_REGISTER) {
        cr_api_outcome(x, 400, "error", "structure", NULL,
                       "the body must be {\"node\": \"<id>\", \"nhs\": "
                       "[\"<NHS number>\", ...]} with at most %d numbers",
                       MAX_REGISTER);
        goto out;
    }
    if (strcmp(json_string_value(node), x->via) != 0) {
        cr_api_outcome(x, 403, "error", "forbidden", NULL,
                       "node %s may register only itself, not '%.40s'",
                       x->via, json_string_value(node));
        goto out;
    }
    n = json_array_size(list);
    nhs = calloc(n ? n : 1, sizeof *nhs);
    if (nhs == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "out of memory; try again");
        goto out;
    }
    json_array_foreach(list, i, v)
        nhs[i] = json_is_string(v) ? json_string_value(v) : "";
    cr_err_clear(&err);
    if (cr_fed_register(x->api->fed, x->via, nhs, n, &err) != CR_OK) {
        cr_api_fail(x, &err);
        goto out;
    }
    cr_buf_addf(&b, "{\"registered\":%zu}", n);
    send_json(x, &b);
out:
    free(nhs);
    json_decref(root);
}

struct list {
    struct cr_buf *b;
    size_t n;
};

static cr_rc
list_one(void *ctx, int64_t seq, const char *value)
{
    struct list *l = ctx;

    (void)seq;
    if (l->n++)
        cr_buf_addc(l->b, ',');
    cr_buf_add_json_str(l->b, value);
    return l->b->rc;
}

static void
list_patients(struct ctx *x, const struct locate_args *a)
{
    struct cr_buf b = cr_buf_make(0);
    struct list l = { &b, 0 };
    struct cr_err err;
    long long after = 0, count = 1000;
    int64_t last = 0;
    char *end;

    if (a->after) {
        after = strtoll(a->after, &end, 10);
        if (*a->after == '\0' || *end || after < 0) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "after must be a sequence number from 0");
            return;
        }
    }
    if (a->count) {
        count = strtoll(a->count, &end, 10);
        if (*a->count == '\0' || *end || count < 1 || count > MAX_LIST) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "count must be 1 to %d", MAX_LIST);
            return;
        }
    }
    cr_buf_adds(&b, "{\"node\":");
    cr_buf_add_json_str(&b, cr_store_node_id(x->api->store));
    cr_buf_adds(&b, ",\"nhs\":[");
    cr_err_clear(&err);
    if (cr_store_patient_identifiers(x->api->store, CR_FHIR_NHS_NUMBER_SYSTEM,
                                     after, (int)count, list_one, &l, &last,
                                     &err) != CR_OK) {
        cr_buf_free(&b);
        cr_api_fail(x, &err);
        return;
    }
    if (last > after)
        cr_buf_addf(&b, "],\"next\":%lld}", (long long)last);
    else
        cr_buf_adds(&b, "],\"next\":null}");
    send_json(x, &b);
}

void
cr_api_federation(struct ctx *x)
{
    const char *what = x->req->path + strlen("/federation/");
    struct locate_args a;

    if (x->api->fed == NULL) {
        cr_api_outcome(x, 404, "error", "not-found", NULL,
                       "this node has no peers: no %s", x->req->path);
        return;
    }
    if (x->via == NULL) {
        cr_api_outcome(x, 403, "error", "forbidden", NULL,
                       "%s is for peer nodes only (a node token)",
                       x->req->path);
        return;
    }
    memset(&a, 0, sizeof a);
    cr_http_args(x->req, take, &a);
    if (strcmp(what, "locate") == 0 && strcmp(x->req->method, "GET") == 0)
        locate(x, &a);
    else if (strcmp(what, "register") == 0 &&
             strcmp(x->req->method, "POST") == 0)
        register_nodes(x);
    else if (strcmp(what, "patients") == 0 &&
             strcmp(x->req->method, "GET") == 0)
        list_patients(x, &a);
    else
        cr_api_outcome(x, 404, "error", "not-found", NULL,
                       "no such endpoint: %s %s", x->req->method,
                       x->req->path);
}
