/* careplan_fed.c: the emergency summary across nodes.
 *
 * A paramedic asks one node for a person's summary; the plan may have
 * been saved at any node. The federation step (fed_step.c) answers the
 * request locally first (careplan_summary.c, through this node's access
 * policy), sets that answer aside, and sends the same summary request to
 * the peers the record locator names (node token with the user, their
 * X-Access-Reason, X-Federation: local), each of which answers from its
 * own store through its own policy and audits its part with 'via'. When
 * they have answered or the deadline has passed, this file makes one
 * answer of them:
 *
 *  - careplan/merge.c chooses the plan (the current plan saved last,
 *    wherever) and writes the summary's parameters, the other nodes'
 *    current plans named, the nodes not reached said plainly;
 *  - each node that refused, failed or missed the deadline becomes a
 *    "nodeIssue" parameter naming it, with the same codes as a federated
 *    $everything (docs/federation.md); the request itself never fails for
 *    a peer's sake;
 *  - a patient objection any node reports (or this node found) keeps
 *    plans published by other organisations than the user's out;
 *  - the audit record (action care-plan-summary) lists what this node
 *    read and, as absolute URLs on their bases, the peer's plan and parts
 *    shown.
 *
 * When no node shows anything, this node's own refusal or "not found"
 * stands, or a peer's refusal when this node does not know the person;
 * but when a node that may hold the person's record could not be reached
 * the answer is a summary saying so, not a 404.
 *
 * Depends on careplan/, federation/ (the answers), core/ and jansson.
 * docs/internals/careplan.md. */
#include "api/apiInt.h"

#include "careplan/careplan.h"
#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES (CR_FED_MAX_PEERS + 1)

struct fedsum {
    struct cr_careplan_node_summary nodes[MAX_NODES];
    json_t *parsed[MAX_NODES];
    size_t nnodes;
    const char *unreached[MAX_NODES];
    size_t nunreached;
    struct cr_api_fed_issue issues[MAX_NODES + 1];
    const char *issue_node[MAX_NODES + 1];     /* NULL: no node (locator) */
    size_t nissues;
    size_t nrefused;
    bool is_objection;
};

/* A parsed Parameters from 'len' bytes at 'text', or NULL. */
static json_t *
parameters_of(const char *text, size_t len)
{
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    const char *rt = json_string_value(json_object_get(j, "resourceType"));

    if (rt == NULL || strcmp(rt, "Parameters") != 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static void
add_node(struct fedsum *f, const char *node, const char *base, json_t *j,
         bool is_local)
{
    f->parsed[f->nnodes] = j;
    f->nodes[f->nnodes].node = node;
    f->nodes[f->nnodes].base_url = base;
    f->nodes[f->nnodes].summary = j;
    f->nodes[f->nnodes].is_local = is_local;
    f->nnodes++;
}

/* The next issue, about 'node' (NULL: no node), of this node's making;
 * the caller writes its message. */
static struct cr_api_fed_issue *
new_issue(struct fedsum *f, const char *node, const char *severity,
          const char *code, const char *fed_code)
{
    struct cr_api_fed_issue *is = &f->issues[f->nissues];

    memset(is, 0, sizeof *is);
    is->severity = severity;
    is->code = code;
    is->fed_code = fed_code;
    f->issue_node[f->nissues++] = node;
    return is;
}

/* Sort the answers: summaries, refusals, nodes not reached. */
static void
gather(struct ctx *x, const struct cr_http_resp *local,
       const struct cr_fed_result *res, struct fedsum *f)
{
    const char *self = cr_store_node_id(x->api->store);
    json_t *j;
    size_t i;

    f->is_objection = cr_api_view_objection(x) != NULL;
    if (local->status == 200 &&
        (j = parameters_of(local->body, local->body_len)) != NULL)
        add_node(f, self, NULL, j, true);
    if (res == NULL) {
        struct cr_api_fed_issue *is = new_issue(f, NULL, "warning",
                                                "incomplete",
                                                "not-federated");
        snprintf(is->msg, sizeof is->msg, "the other nodes could not be "
                 "asked; this is this node's summary alone");
    }
    if (res && res->is_locator_down) {
        struct cr_api_fed_issue *is = new_issue(f, NULL, "information",
                                                "informational",
                                                "locator-unavailable");
        snprintf(is->msg, sizeof is->msg, "%s; every node was asked instead",
                 res->locator_msg);
    }
    for (i = 0; res && i < res->n && i < CR_FED_MAX_PEERS; i++) {
        const struct cr_fed_answer *a = &res->answers[i];
        struct cr_api_fed_issue *is;
        if (a->objection[0])
            f->is_objection = true;
        if (a->status == CR_FED_OK) {
            j = a->npages ? parameters_of(a->pages[0].ptr, a->pages[0].len)
                          : NULL;
            if (j) {
                add_node(f, a->node, a->base_url, j, false);
                continue;
            }
            is = new_issue(f, a->node, "error", "exception", "node-error");
            is->is_unreached = true;
            snprintf(is->msg, sizeof is->msg, "node %s answered with "
                     "something that is not a care plan summary", a->node);
        } else if (cr_api_fed_issue_of(a, &f->issues[f->nissues])) {
            is = &f->issues[f->nissues];
            f->issue_node[f->nissues++] = a->node;
        } else {
            continue;       /* it holds nothing about the person */
        }
        if (is->is_unreached)
            f->unreached[f->nunreached++] = a->node;
        else
            f->nrefused++;
    }
}

/* {"name":"nodeIssue","part":[node, issue, severity, message]} */
static void
add_node_issue(struct cr_buf *b, int *n, const char *node,
               const struct cr_api_fed_issue *is)
{
    if ((*n)++)
        cr_buf_addc(b, ',');
    cr_buf_adds(b, "{\"name\":\"nodeIssue\",\"part\":[");
    if (node) {
        cr_buf_adds(b, "{\"name\":\"node\",\"valueCode\":");
        cr_buf_add_json_str(b, node);
        cr_buf_adds(b, "},");
    }
    cr_buf_adds(b, "{\"name\":\"issue\",\"valueCoding\":{\"system\":\""
                   CR_API_FED_SYSTEM "\",\"code\":");
    cr_buf_add_json_str(b, is->fed_code);
    cr_buf_adds(b, "}},{\"name\":\"severity\",\"valueCode\":");
    cr_buf_add_json_str(b, is->severity);
    cr_buf_adds(b, "},{\"name\":\"message\",\"valueString\":");
    cr_buf_add_json_str(b, is->msg);
    cr_buf_adds(b, "}]}");
}

/* Note an absolute URL (base + "/" + a relative reference) in the audit
 * record's resources. */
static void
touch_url(struct ctx *x, const char *base, const char *ref)
{
    struct cr_buf *t = &x->touched;

    if (base == NULL || ref == NULL || strchr(ref, ':'))
        return;
    if (t->len)
        cr_buf_addc(t, ',');
    cr_buf_addc(t, '"');
    cr_buf_adds(t, base);
    cr_buf_addc(t, '/');
    cr_buf_adds(t, ref);
    cr_buf_addc(t, '"');
}

/* The reference of a valueReference parameter or part. */
static const char *
ref_of(const json_t *p)
{
    return json_string_value(json_object_get(
        json_object_get(p, "valueReference"), "reference"));
}

/* Name in the audit record what a peer's summary showed: the plan (with
 * its version), the CPR decision, the contacts; the Patient when the
 * person's details came from it. */
static void
touch_peer(struct ctx *x, const struct cr_careplan_node_summary *ns,
           bool is_plan, bool is_person)
{
    const json_t *p, *q;
    size_t i, j;

    json_array_foreach(json_object_get(ns->summary, "parameter"), i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        if (name == NULL)
            continue;
        if (is_person && strcmp(name, "patient") == 0)
            touch_url(x, ns->base_url, ref_of(p));
        if (!is_plan)
            continue;
        if (strcmp(name, "plan") == 0)
            touch_url(x, ns->base_url, ref_of(p));
        json_array_foreach(json_object_get(p, "part"), j, q) {
            const char *pn = json_string_value(json_object_get(q, "name"));
            if (pn && (strcmp(pn, "flag") == 0 || strcmp(pn, "contact") == 0))
                touch_url(x, ns->base_url, ref_of(q));
        }
    }
}

/* The refusal to answer with when every node that knows the person
 * refused: the first that says more than "no relationship" (a node that
 * knows the user's relationship and refused for another reason, say the
 * role), else the first. There is one (f->nrefused > 0). */
static const struct cr_api_fed_issue *
telling_refusal(const struct fedsum *f)
{
    const struct cr_api_fed_issue *first = NULL;
    size_t i;

    for (i = 0; i < f->nissues; i++) {
        const struct cr_api_fed_issue *is = &f->issues[i];
        if (f->issue_node[i] == NULL || is->is_unreached)
            continue;
        if (first == NULL)
            first = is;
        if (strcmp(is->rule, "no-relationship") != 0)
            return is;
    }
    return first;
}

static void
free_fedsum(struct fedsum *f)
{
    size_t i;

    for (i = 0; i < f->nnodes; i++)
        json_decref(f->parsed[i]);
}

void
cr_api_care_plan_fed_merge(struct ctx *x, struct cr_http_resp *local,
                           const struct cr_fed_result *res)
{
    struct fedsum *f = cr_arena_calloc(x->req->arena, 1, sizeof *f);
    struct cr_careplan_merge_in in;
    struct cr_careplan_merge_out out;
    struct cr_buf b;
    size_t i;
    int n = 0;

    if (f == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return;
    }
    gather(x, local, res, f);
    if (f->nnodes == 0 && (local->status == 403 ||
                           (f->nunreached == 0 && f->nrefused == 0))) {
        /* Nothing anywhere: this node's refusal or "not found" stands. */
        *x->resp = *local;
        local->body = NULL;
        free_fedsum(f);
        return;
    }
    if (f->nnodes == 0 && f->nunreached == 0) {
        /* Unknown here, refused where known: that refusal, naming the
         * node (no care plan data reaches the user). */
        const struct cr_api_fed_issue *is = telling_refusal(f);
        cr_api_view_refusal(x, is->rule[0] ? is->rule : "node-refused",
                            is->msg);
        free_fedsum(f);
        return;
    }
    memset(&in, 0, sizeof in);
    in.nodes = f->nodes;
    in.nnodes = f->nnodes;
    in.unreached = f->unreached;
    in.nunreached = f->nunreached;
    in.is_partial = f->nrefused > 0 || local->status == 403;
    in.only_org = f->is_objection ? x->principal.org : NULL;
    b = cr_buf_make(x->api->cfg.max_response);
    cr_careplan_summary_begin(&b, cr_clock_now_ms());
    cr_careplan_merge(&in, &b, &n, &out);
    if (local->status == 403) {
        struct cr_api_fed_issue is;
        cr_api_fed_refusal_of(local->body, local->body_len,
                              cr_store_node_id(x->api->store), &is);
        add_node_issue(&b, &n, cr_store_node_id(x->api->store), &is);
    }
    for (i = 0; i < f->nissues; i++)
        add_node_issue(&b, &n, f->issue_node[i], &f->issues[i]);
    cr_buf_adds(&b, "]}");
    if (out.withheld)
        cr_api_view_withhold(x, (int64_t)out.withheld, "objection");
    if (out.chosen >= 0 && !f->nodes[out.chosen].is_local)
        touch_peer(x, &f->nodes[out.chosen], true,
                   out.person == out.chosen);
    if (out.person >= 0 && out.person != out.chosen &&
        !f->nodes[out.person].is_local)
        touch_peer(x, &f->nodes[out.person], false, true);
    free_fedsum(f);
    if (b.rc != CR_OK) {
        cr_buf_free(&b);
        cr_api_too_big(x);
        return;
    }
    cr_api_send_buf(x, 200, &b);
}
