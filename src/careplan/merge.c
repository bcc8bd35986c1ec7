/* merge.c: one emergency summary from the summaries of several nodes.
 *
 * A plan is saved at the node of the organisation that wrote it, but a
 * paramedic may ask at any node. The node asked gathers its own summary
 * and each peer's (api/careplan_fed.c); this file makes them one:
 *
 *  - the plan shown is the current plan saved last, wherever it was saved:
 *    the latest lastUpdated.when (the instant the saving node stored that
 *    version), ties going to the node given first (this node, then the
 *    peers in the configured order). Saving a new plan supersedes the
 *    older one on its own node; a plan saved on another node supersedes it
 *    in the same way, by being newer, although the node that holds the
 *    older one does not know of it. The other nodes' current plans are
 *    named (otherPlan), not shown;
 *  - the person's details come from this node when it knows them, else
 *    from the node whose plan is shown;
 *  - a peer's references become absolute URLs on that peer's base, so
 *    every reference in the answer resolves where it was made;
 *  - a node that might hold the person's record but could not be reached
 *    makes the answer say so: with no plan found, the CPR decision is
 *    "unavailable" (a plan and a decision may exist there), never "not
 *    recorded"; with a plan found, a newer one may exist there.
 *
 * Knows nothing of HTTP or of federation: the caller says which nodes
 * answered and which could not be reached. Depends on careplanInt.h,
 * core/ (buf, civil) and jansson. Thread-safe. */
#include "careplan/careplanInt.h"

#include "core/civil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parameters of a node's summary that describe the person; they come
 * from one node. */
static const char *const person_params[] = { "patient", "nhsNumber",
                                             "birthDate", NULL };

/* The parameters of a node's summary that the merged answer writes
 * itself. */
static const char *const own_params[] = { "hasPlan", "withheld", NULL };

static bool
is_one_of(const char *s, const char *const *list)
{
    size_t i;

    for (i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* The first parameter of a summary, or part of a group, named 'name'. */
static const json_t *
param(const json_t *summary, const char *name)
{
    return cr_careplan_item(json_object_get(summary, "parameter"), "name",
                            name);
}

static const json_t *
part(const json_t *group, const char *name)
{
    return cr_careplan_item(json_object_get(group, "part"), "name", name);
}

/* True when the summary shows a plan. */
static bool
has_plan(const json_t *summary)
{
    return json_is_true(json_object_get(param(summary, "hasPlan"),
                                        "valueBoolean")) &&
           param(summary, "plan") != NULL;
}

/* Two digits at 's' into *out; false when they are not digits. */
static bool
two(const char *s, unsigned *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *out = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    return true;
}

/* A FHIR instant ("2026-11-21T10:05:04.123Z", fraction and offset as
 * FHIR allows) as ms since the epoch; false when it is not one. */
static bool
instant_ms(const char *s, int64_t *out)
{
    char date[11];
    int64_t day, ms = 0;
    unsigned h, m, sec, oh = 0, om = 0, scale = 100;
    const char *p;
    int sign = 0;

    if (s == NULL || strlen(s) < 20 || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return false;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (!cr_civil_parse_date(date, &day) || !two(s + 11, &h) ||
        !two(s + 14, &m) || !two(s + 17, &sec) || h > 23 || m > 59 ||
        sec > 60)
        return false;
    p = s + 19;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            ms += (*p - '0') * (int64_t)scale;
            scale /= 10;
        }
    }
    if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (!two(p + 1, &oh) || p[3] != ':' || !two(p + 4, &om) || p[6])
            return false;
    } else if (strcmp(p, "Z") != 0) {
        return false;
    }
    *out = day * CR_CIVIL_MS_PER_DAY +
           ((int64_t)h * 3600 + (int64_t)m * 60 + sec) * 1000 + ms -
           sign * ((int64_t)oh * 60 + om) * CR_CIVIL_MS_PER_MIN;
    return true;
}

/* When the summary's plan was saved (ms), or INT64_MIN when it does not
 * say: such a plan loses to any plan that does. */
static int64_t
saved_ms(const json_t *summary)
{
    int64_t ms;

    if (instant_ms(cr_careplan_str(part(param(summary, "lastUpdated"),
                                        "when"), "valueInstant"), &ms))
        return ms;
    return INT64_MIN;
}

/* The ODS code of the organisation that published the summary's plan, or
 * NULL. */
static const char *
source_org(const json_t *summary)
{
    return cr_careplan_str(json_object_get(part(param(summary, "source"),
                                                "organization"),
                                           "valueIdentifier"),
                           "value");
}

/* ---- references made absolute ---------------------------------------- */

/* True for a relative literal reference: "Type/id" (maybe with
 * "/_history/v"), which resolves on the node that wrote it. */
static bool
is_relative(const char *s)
{
    return s && s[0] >= 'A' && s[0] <= 'Z' && strchr(s, '/') &&
           !strchr(s, ':');
}

/* Make every relative "reference" in 'v' absolute on 'base'. */
static void
absolutise(json_t *v, const char *base, struct cr_buf *tmp)
{
    const char *key;
    json_t *item;
    size_t i;

    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
            absolutise(item, base, tmp);
        return;
    }
    if (!json_is_object(v))
        return;
    json_object_foreach(v, key, item) {
        if (strcmp(key, "reference") == 0 && json_is_string(item) &&
            is_relative(json_string_value(item))) {
            cr_buf_reset(tmp);
            cr_buf_adds(tmp, base);
            cr_buf_addc(tmp, '/');
            cr_buf_adds(tmp, json_string_value(item));
            if (tmp->rc == CR_OK)
                json_string_set(item, tmp->ptr);
        } else {
            absolutise(item, base, tmp);
        }
    }
}

/* Append parameter 'p' (after a comma unless first), its references made
 * absolute on 'base' when one is given. */
static void
emit(struct cr_buf *b, int *n, const json_t *p, const char *base)
{
    json_t *copy = NULL;
    char *text;

    if (base && *base) {
        struct cr_buf tmp = cr_buf_make(4096);
        copy = json_deep_copy(p);
        if (copy)
            absolutise(copy, base, &tmp);
        cr_buf_free(&tmp);
    }
    text = json_dumps(copy ? copy : p, JSON_COMPACT);
    json_decref(copy);
    if (text == NULL) {
        b->rc = b->rc ? b->rc : CR_ENOMEM;
        return;
    }
    if ((*n)++)
        cr_buf_addc(b, ',');
    cr_buf_adds(b, text);
    free(text);
}

/* ---- writing the merged parameters ----------------------------------- */

/* the writers of careplanInt.h, by the short names this file uses */
#define p_open cr_careplan_param_open
#define p_str cr_careplan_param_str

/* "node nel", "nodes nel and sel", "nodes nel, sel and swl" into 'out'. */
static void
node_list(const char *const *ids, size_t n, struct cr_buf *out)
{
    size_t i;

    cr_buf_adds(out, n == 1 ? "node " : "nodes ");
    for (i = 0; i < n; i++) {
        if (i)
            cr_buf_adds(out, i + 1 == n ? " and " : ", ");
        cr_buf_adds(out, ids[i]);
    }
}

/* The CPR decision when no plan was shown: "unavailable" when a node
 * that may hold one could not be reached, else "not recorded". */
static void
no_plan_cpr(const struct cr_careplan_merge_in *in, size_t withheld,
            struct cr_buf *b, int *n)
{
    struct cr_buf msg = cr_buf_make(2048);
    int k = 0;

    if (in->nunreached) {
        cr_buf_adds(&msg, in->nnodes ? "No care plan was found on the nodes "
                                       "that answered, but "
                                     : "No node holding this person's "
                                       "record answered: ");
        node_list(in->unreached, in->nunreached, &msg);
        cr_buf_adds(&msg, " could not be reached, so a care plan and a CPR "
                          "decision may be recorded there. Do not take "
                          "this as no decision.");
    } else if (withheld) {
        cr_buf_adds(&msg, "No care plan that you may see is on record: the "
                          "person objected to sharing it beyond the "
                          "organisation that recorded it.");
    } else if (in->is_partial) {
        cr_buf_adds(&msg, "No care plan is on record on the nodes that "
                          "answered, so no CPR decision is recorded there.");
    } else {
        cr_buf_adds(&msg, "No care plan is on record on any node that holds "
                          "this person's record, so no CPR decision is "
                          "recorded.");
    }
    p_open(b, n, "cprDecision", "part");
    cr_buf_addc(b, '[');
    p_open(b, &k, "validity", "valueCoding");
    cr_buf_adds(b, "{\"system\":\"" CR_CAREPLAN_VALIDITY_SYSTEM
                   "\",\"code\":");
    cr_buf_adds(b, in->nunreached ? "\"unavailable\",\"display\":\"Could "
                                    "not be reached\"}}"
                                  : "\"not-recorded\",\"display\":\"No CPR "
                                    "decision recorded\"}}");
    p_str(b, &k, "message", "valueString",
          msg.rc == CR_OK ? msg.ptr : "No care plan was found.");
    cr_buf_adds(b, "]}");
    cr_buf_free(&msg);
}

/* A current plan on another node, older than the one shown. */
static void
other_plan(const struct cr_careplan_node_summary *ns, struct cr_buf *b,
           int *n)
{
    const json_t *s = ns->summary;
    const json_t *when = part(param(s, "lastUpdated"), "when");
    const json_t *org = part(param(s, "source"), "organization");
    const json_t *plan = param(s, "plan");
    int k = 0;

    p_open(b, n, "otherPlan", "part");
    cr_buf_addc(b, '[');
    p_open(b, &k, "node", "valueCode");
    cr_buf_add_json_str(b, ns->node);
    cr_buf_addc(b, '}');
    if (org)
        emit(b, &k, org, NULL);
    if (when)
        emit(b, &k, when, NULL);
    if (plan)
        emit(b, &k, plan, ns->base_url);
    cr_buf_adds(b, "]}");
}

/* Where the person's details come from: this node when it has them, else
 * the node whose plan is shown, else the first that has them. */
static int
person_from(const struct cr_careplan_merge_in *in, int chosen)
{
    size_t i;

    for (i = 0; i < in->nnodes; i++)
        if (in->nodes[i].is_local && param(in->nodes[i].summary, "patient"))
            return (int)i;
    if (chosen >= 0 && param(in->nodes[chosen].summary, "patient"))
        return chosen;
    for (i = 0; i < in->nnodes; i++)
        if (param(in->nodes[i].summary, "patient"))
            return (int)i;
    return -1;
}

void
cr_careplan_merge(const struct cr_careplan_merge_in *in, struct cr_buf *out,
                  int *n, struct cr_careplan_merge_out *res)
{
    int64_t newest = INT64_MIN;
    const json_t *p;
    bool is_withheld = false;
    size_t i, j;

    memset(res, 0, sizeof *res);
    res->chosen = -1;
    for (i = 0; i < in->nnodes; i++) {
        const json_t *s = in->nodes[i].summary;
        const char *org;
        int64_t t;
        if (!has_plan(s))
            continue;
        org = source_org(s);
        if (in->only_org &&
            (org == NULL || strcmp(org, in->only_org) != 0)) {
            res->withheld++;
            continue;
        }
        t = saved_ms(s);
        if (res->chosen < 0 || t > newest) {
            res->chosen = (int)i;
            newest = t;
        }
    }
    res->person = person_from(in, res->chosen);
    if (res->person >= 0) {
        const struct cr_careplan_node_summary *ns = &in->nodes[res->person];
        json_array_foreach(json_object_get(ns->summary, "parameter"), j, p)
            if (is_one_of(cr_careplan_str(p, "name"), person_params))
                emit(out, n, p, ns->base_url);
        is_withheld = param(ns->summary, "withheld") != NULL;
    }
    p_open(out, n, "hasPlan", "valueBoolean");
    cr_buf_adds(out, res->chosen >= 0 ? "true}" : "false}");
    if (res->chosen >= 0) {
        const struct cr_careplan_node_summary *ns = &in->nodes[res->chosen];
        json_array_foreach(json_object_get(ns->summary, "parameter"), j, p) {
            const char *name = cr_careplan_str(p, "name");
            if (!is_one_of(name, person_params) &&
                !is_one_of(name, own_params))
                emit(out, n, p, ns->base_url);
        }
        is_withheld = is_withheld || param(ns->summary, "withheld");
    } else {
        no_plan_cpr(in, res->withheld, out, n);
    }
    for (i = 0; i < in->nnodes; i++) {
        const char *org = source_org(in->nodes[i].summary);
        if ((int)i == res->chosen || !has_plan(in->nodes[i].summary) ||
            (in->only_org && (org == NULL || strcmp(org, in->only_org))))
            continue;
        other_plan(&in->nodes[i], out, n);
    }
    if (in->nunreached) {
        struct cr_buf msg = cr_buf_make(2048);
        node_list(in->unreached, in->nunreached, &msg);
        cr_buf_adds(&msg, " could not be reached: ");
        cr_buf_adds(&msg, res->chosen >= 0
                              ? "a newer care plan may be recorded there "
                                "than the one shown."
                              : "a care plan may exist there but could not "
                                "be reached.");
        /* "node x could not..." starts the sentence */
        if (msg.rc == CR_OK && msg.len)
            msg.ptr[0] = 'N';
        p_str(out, n, "incomplete", "valueString",
              msg.rc == CR_OK ? msg.ptr : "Some nodes could not be reached.");
        cr_buf_free(&msg);
    }
    if (is_withheld || res->withheld)
        cr_careplan_summary_withheld(out, n);
}
