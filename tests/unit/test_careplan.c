/* test_careplan.c: the Universal Care Plan model (careplan/): what each
 * resource is to a plan, the rules over a whole plan (a valid plan keeps
 * them all; each broken rule is one issue at its element), the emergency
 * summary (CPR validity by review date, what is shown), the summary made
 * from several nodes' (the plan saved last, nodes not reached, an
 * objection), the store-side figures and the transaction-side walk of a
 * patient's resources. */
#include "unit.h"

#include "careplan/careplan.h"
#include "core/civil.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>

#define SD "https://carerecord.example/StructureDefinition/"

/* ---- a plan to check ---- */

static const char *const PLAN_JSON =
    "{\"resourceType\":\"CarePlan\",\"id\":\"cp\",\"status\":\"active\","
    "\"intent\":\"plan\",\"category\":[{\"coding\":[{\"system\":"
    "\"http://snomed.info/sct\",\"code\":\"736373009\"}]}],"
    "\"subject\":{\"reference\":\"Patient/p1\"},"
    "\"author\":[{\"reference\":\"Practitioner/dr\"}],"
    "\"extension\":[{\"url\":\"" SD "ucp-signed-off\",\"valueDateTime\":"
    "\"2026-01-10\"},{\"url\":\"" SD "ucp-review-date\",\"valueDate\":"
    "\"2026-07-10\"}],"
    "\"activity\":[{\"detail\":{\"code\":{\"coding\":[{\"system\":"
    "\"http://snomed.info/sct\",\"code\":\"735324008\"}]},\"status\":"
    "\"in-progress\",\"description\":\"Ward-based care\",\"extension\":[{"
    "\"url\":\"" SD "ucp-ceiling-of-treatment\",\"valueCodeableConcept\":{"
    "\"coding\":[{\"system\":\"https://carerecord.example/CodeSystem/"
    "ceiling-of-treatment\",\"code\":\"ward-based\"}]}}]}}],"
    "\"supportingInfo\":[{\"reference\":\"Flag/cpr\"},"
    "{\"reference\":\"http://node.example/fhir/RelatedPerson/rp\"}]}";

static const char *const CPR_JSON =
    "{\"resourceType\":\"Flag\",\"id\":\"cpr\",\"status\":\"active\","
    "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":"
    "\"450476008\",\"display\":\"Not for cardiopulmonary resuscitation\"}]},"
    "\"subject\":{\"reference\":\"Patient/p1\"},"
    "\"period\":{\"start\":\"2026-01-10\",\"end\":\"2026-07-10\"},"
    "\"author\":{\"reference\":\"Practitioner/dr\"},"
    "\"extension\":[{\"url\":\"" SD "ucp-cpr-discussed-with\","
    "\"valueString\":\"The person\"},{\"url\":\"" SD
    "ucp-cpr-recorder-senior\",\"valueBoolean\":true}]}";

static const char *const RP_JSON =
    "{\"resourceType\":\"RelatedPerson\",\"id\":\"rp\","
    "\"patient\":{\"reference\":\"Patient/p1\"},"
    "\"name\":[{\"family\":\"Kin\",\"given\":[\"Kim\"]}],"
    "\"relationship\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
    "CodeSystem/v2-0131\",\"code\":\"N\",\"display\":\"Next-of-Kin\"}]}],"
    "\"telecom\":[{\"system\":\"phone\",\"value\":\"07700 900001\"}]}";

struct plan {
    json_t *plan, *cpr, *rp;
    struct cr_careplan_part p;
    struct cr_careplan_part parts[2];
};

static json_t *
parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);

    if (j == NULL)
        cr_unit_fail(__FILE__, __LINE__, "bad fixture: %s", e.text);
    return j;
}

static void
plan_make(struct plan *pl)
{
    pl->plan = parse(PLAN_JSON);
    pl->cpr = parse(CPR_JSON);
    pl->rp = parse(RP_JSON);
    pl->p = (struct cr_careplan_part){ "CarePlan/cp", "CarePlan", pl->plan,
                                       "P" };
    pl->parts[0] = (struct cr_careplan_part){ "Flag/cpr", "Flag", pl->cpr,
                                              "F" };
    pl->parts[1] = (struct cr_careplan_part){ "RelatedPerson/rp",
                                              "RelatedPerson", pl->rp, "R" };
}

static void
plan_free(struct plan *pl)
{
    json_decref(pl->plan);
    json_decref(pl->cpr);
    json_decref(pl->rp);
}

/* Check the plan; the issues (zeroed first). */
static bool
check(struct plan *pl, struct cr_careplan_issues *is)
{
    memset(is, 0, sizeof *is);
    return cr_careplan_check(&pl->p, pl->parts, 2, "p1", is);
}

/* The one issue there is, at 'where' with 'code'. */
static void
expect_one(struct plan *pl, const char *code, const char *where)
{
    struct cr_careplan_issues is;

    CHECK(!check(pl, &is));
    if (is.n != 1)
        cr_unit_fail(__FILE__, __LINE__, "%zu issues, first %s: %s", is.n,
                     is.n ? is.item[0].where : "-",
                     is.n ? is.item[0].msg : "-");
    CHECK_EQ_STR(is.item[0].code, code);
    CHECK_EQ_STR(is.item[0].where, where);
    CHECK(strlen(is.item[0].msg) > 20);
}

TEST(kinds_of_resources)
{
    struct plan pl;
    json_t *other = parse("{\"resourceType\":\"Flag\",\"code\":{\"coding\":"
                          "[{\"system\":\"http://snomed.info/sct\",\"code\":"
                          "\"816361000000101\"}]}}");
    json_t *plain = parse("{\"resourceType\":\"Flag\",\"code\":{\"text\":"
                          "\"Falls risk\"}}");

    plan_make(&pl);
    CHECK_EQ_INT(cr_careplan_kind_of("CarePlan", pl.plan), CR_CAREPLAN_PLAN);
    CHECK_EQ_INT(cr_careplan_kind_of("Flag", pl.cpr), CR_CAREPLAN_CPR);
    CHECK_EQ_INT(cr_careplan_kind_of("Flag", other), CR_CAREPLAN_LPA);
    CHECK_EQ_INT(cr_careplan_kind_of("Flag", plain), CR_CAREPLAN_OTHER);
    CHECK_EQ_INT(cr_careplan_kind_of("RelatedPerson", pl.rp),
                 CR_CAREPLAN_CONTACT);
    CHECK_EQ_INT(cr_careplan_kind_of("Observation", pl.rp),
                 CR_CAREPLAN_OTHER);
    CHECK_EQ_INT(cr_careplan_kind_of(NULL, pl.rp), CR_CAREPLAN_OTHER);
    CHECK_EQ_STR(cr_careplan_profile_of(CR_CAREPLAN_CPR),
                 SD "UCP-CPRDecision");
    CHECK(cr_careplan_profile_of(CR_CAREPLAN_CONTACT) == NULL);
    json_decref(other);
    json_decref(plain);
    plan_free(&pl);
}

TEST(plan_profiles_are_recognised_in_trees_and_in_stored_text)
{
    json_t *r = parse("{\"resourceType\":\"Flag\",\"meta\":{\"profile\":["
                      "\"https://fhir.hl7.org.uk/StructureDefinition/"
                      "UKCore-Flag\",\"" SD "UCP-LPA\"]}}");
    json_t *n = parse("{\"resourceType\":\"Flag\",\"meta\":{\"profile\":["
                      "\"" SD "UCPX\"]}}");
    const char *cur = "{\"resourceType\":\"CarePlan\",\"id\":\"a\",\"meta\":"
                      "{\"profile\":[\"" SD "UCP-CarePlan\"]},\"status\":"
                      "\"active\",\"activity\":[{\"detail\":{\"status\":"
                      "\"revoked\"}}]}";
    const char *old = "{\"resourceType\":\"CarePlan\",\"meta\":{\"profile\":"
                      "[\"" SD "UCP-CarePlan\"]},\"status\":\"revoked\","
                      "\"note\":[{\"text\":\"status active\"}]}";
    const char *other = "{\"resourceType\":\"CarePlan\",\"status\":"
                        "\"active\",\"note\":[{\"text\":\"" SD
                        "UCP-CarePlan\"}]}";

    CHECK(cr_careplan_is_plan_resource(r));
    CHECK(!cr_careplan_is_plan_resource(n));
    CHECK(!cr_careplan_is_plan_resource(NULL));
    CHECK(cr_careplan_text_is_plan(cur, strlen(cur), true));
    CHECK(cr_careplan_text_is_plan(old, strlen(old), false));
    CHECK(!cr_careplan_text_is_plan(old, strlen(old), true));
    /* the profile must be in meta, not anywhere in the text */
    CHECK(!cr_careplan_text_is_plan(other, strlen(other), false));
    json_decref(r);
    json_decref(n);
}

TEST(a_plan_that_keeps_every_rule_has_no_issue)
{
    struct plan pl;
    struct cr_careplan_issues is;

    plan_make(&pl);
    CHECK(check(&pl, &is));
    CHECK_EQ_INT(is.n, 0);
    plan_free(&pl);
}

TEST(references_resolve_relative_or_absolute)
{
    struct plan pl;

    plan_make(&pl);
    CHECK(cr_careplan_find_part(pl.parts, 2, "Flag/cpr") == &pl.parts[0]);
    CHECK(cr_careplan_find_part(pl.parts, 2, "https://x/fhir/Flag/cpr") ==
          &pl.parts[0]);
    CHECK(cr_careplan_find_part(pl.parts, 2, "xFlag/cpr") == NULL);
    CHECK(cr_careplan_find_part(pl.parts, 2, "Flag/cp") == NULL);
    CHECK(cr_careplan_find_part(pl.parts, 2, NULL) == NULL);
    plan_free(&pl);
}

TEST(cpr_decision_rules)
{
    struct plan pl;

    plan_make(&pl);
    json_object_del(json_object_get(pl.cpr, "period"), "end");
    expect_one(&pl, "required", "F.period.end");
    json_object_set_new(json_object_get(pl.cpr, "period"), "end",
                        json_string("2025-12-31"));
    expect_one(&pl, "value", "F.period.end");
    json_object_set_new(json_object_get(pl.cpr, "period"), "end",
                        json_string("2026-01-10"));
    CHECK(check(&pl, &(struct cr_careplan_issues){ .n = 0 }));
    /* not senior: an endorser is needed */
    json_object_set_new(json_array_get(json_object_get(pl.cpr, "extension"),
                                       1),
                        "valueBoolean", json_false());
    expect_one(&pl, "required",
               "F.extension.where(url='" SD "ucp-cpr-senior-endorser')");
    json_array_append_new(
        json_object_get(pl.cpr, "extension"),
        parse("{\"url\":\"" SD "ucp-cpr-senior-endorser\",\"extension\":[{"
              "\"url\":\"clinician\",\"valueReference\":{\"reference\":"
              "\"Practitioner/senior\"}}]}"));
    CHECK(check(&pl, &(struct cr_careplan_issues){ .n = 0 }));
    json_array_remove(json_object_get(pl.cpr, "extension"), 0);
    expect_one(&pl, "required",
               "F.extension.where(url='" SD "ucp-cpr-discussed-with')");
    /* "not aware of a decision" needs neither review date nor discussion */
    json_object_set_new(json_array_get(json_object_get(json_object_get(
                            pl.cpr, "code"), "coding"), 0),
                        "code", json_string("845151000000104"));
    json_object_del(json_object_get(pl.cpr, "period"), "end");
    CHECK(check(&pl, &(struct cr_careplan_issues){ .n = 0 }));
    json_object_del(pl.cpr, "author");
    expect_one(&pl, "required", "F.author");
    plan_free(&pl);
}

TEST(lpa_person_needs_the_lpa_flag)
{
    struct plan pl;
    struct cr_careplan_part parts[3];
    struct cr_careplan_issues is;
    json_t *flag = parse("{\"resourceType\":\"Flag\",\"status\":\"active\","
                         "\"subject\":{\"reference\":\"Patient/p1\"},"
                         "\"code\":{\"coding\":[{\"system\":"
                         "\"http://snomed.info/sct\",\"code\":"
                         "\"816361000000101\"}]}}");

    plan_make(&pl);
    json_array_append_new(
        json_object_get(pl.rp, "relationship"),
        parse("{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
              "CodeSystem/v3-RoleCode\",\"code\":\"HPOWATT\"}]}"));
    expect_one(&pl, "business-rule", "R.relationship");
    /* with the flag among the plan's parts, and referred to */
    memcpy(parts, pl.parts, sizeof pl.parts);
    parts[2] = (struct cr_careplan_part){ "Flag/lpa", "Flag", flag, "L" };
    json_array_append_new(json_object_get(pl.plan, "supportingInfo"),
                          parse("{\"reference\":\"Flag/lpa\"}"));
    memset(&is, 0, sizeof is);
    CHECK(cr_careplan_check(&pl.p, parts, 3, "p1", &is));
    /* an inactive flag is no flag */
    json_object_set_new(flag, "status", json_string("inactive"));
    memset(&is, 0, sizeof is);
    CHECK(!cr_careplan_check(&pl.p, parts, 3, "p1", &is));
    CHECK_EQ_STR(is.item[0].where, "R.relationship");
    json_decref(flag);
    plan_free(&pl);
}

TEST(plan_rules_name_their_element)
{
    struct plan pl;
    struct cr_careplan_issues is;

    plan_make(&pl);
    json_object_set_new(pl.plan, "status", json_string("draft"));
    expect_one(&pl, "value", "P.status");
    json_object_set_new(pl.plan, "status", json_string("active"));
    json_object_del(pl.plan, "activity");
    expect_one(&pl, "required", "P.activity");
    plan_free(&pl);
    plan_make(&pl);
    json_array_remove(json_object_get(pl.plan, "extension"), 1);
    expect_one(&pl, "required",
               "P.extension.where(url='" SD "ucp-review-date')");
    json_object_set_new(pl.plan, "subject",
                        parse("{\"reference\":\"Patient/p2\"}"));
    CHECK(!check(&pl, &is));
    CHECK_EQ_INT(is.n, 2);
    json_object_set_new(json_object_get(pl.rp, "patient"), "reference",
                        json_string("Patient/p2"));
    CHECK(!check(&pl, &is));
    CHECK_EQ_INT(is.n, 3);
    CHECK_EQ_STR(is.item[2].where, "R.patient");
    plan_free(&pl);
    /* a part nobody refers to, a reference to nothing */
    plan_make(&pl);
    json_array_remove(json_object_get(pl.plan, "supportingInfo"), 1);
    json_array_append_new(json_object_get(pl.plan, "supportingInfo"),
                          parse("{\"reference\":\"Flag/gone\"}"));
    CHECK(!check(&pl, &is));
    CHECK_EQ_INT(is.n, 2);
    CHECK_EQ_STR(is.item[0].code, "not-found");
    CHECK_EQ_STR(is.item[0].where, "P.supportingInfo[1]");
    CHECK_EQ_STR(is.item[1].code, "invalid");
    CHECK_EQ_STR(is.item[1].where, "R");
    plan_free(&pl);
}

TEST(issues_past_the_limit_are_counted)
{
    struct plan pl;
    struct cr_careplan_issues is;
    size_t i;

    plan_make(&pl);
    for (i = 0; i < 40; i++)
        json_array_append_new(json_object_get(pl.plan, "supportingInfo"),
                              parse("{\"reference\":\"Flag/none\"}"));
    CHECK(!check(&pl, &is));
    CHECK_EQ_INT(is.n, CR_CAREPLAN_MAX_ISSUES);
    CHECK_EQ_INT(is.more, 40 - CR_CAREPLAN_MAX_ISSUES);
    plan_free(&pl);
}

/* ---- the summary ---- */

/* What the summary of plan 'pl' (version 3, saved at 'updated_ms'; no
 * plan when NULL) is made of, on 'today'. */
static void
summary_in(struct cr_careplan_summary_in *in, struct plan *pl,
           const char *today, int64_t updated_ms)
{
    memset(in, 0, sizeof *in);
    in->patient_id = "p1";
    in->today = today;
    if (pl) {
        in->plan = &pl->p;
        in->plan_version = 3;
        in->plan_updated_ms = updated_ms;
        in->parts = pl->parts;
        in->nparts = 2;
    }
}

/* The JSON written into 'b' (checked, parsed; 'b' freed). */
static json_t *
take_json(struct cr_buf *b)
{
    json_t *j;

    CHECK_EQ_INT(b->rc, CR_OK);
    j = parse(b->ptr);
    cr_buf_free(b);
    return j;
}

/* The summary as parsed JSON (an array of parameters). */
static json_t *
summarise(struct plan *pl, const char *today, bool with_plan)
{
    struct cr_careplan_summary_in in;
    struct cr_buf b = cr_buf_make(0);
    json_t *j;
    int n = 0;

    summary_in(&in, with_plan ? pl : NULL, today, 1767225600000LL);
    cr_buf_addc(&b, '[');
    cr_careplan_summarise(&in, &b, &n);
    cr_buf_addc(&b, ']');
    j = take_json(&b);
    CHECK(n > 0 && (size_t)n == json_array_size(j));
    return j;
}

static const json_t *
named(const json_t *list, const char *name)
{
    const json_t *p;
    size_t i;

    json_array_foreach(list, i, p)
        if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
            return p;
    return NULL;
}

static const char *
validity(const json_t *summary)
{
    const json_t *cpr = json_object_get(named(summary, "cprDecision"),
                                        "part");
    return json_string_value(json_object_get(
        json_object_get(named(cpr, "validity"), "valueCoding"), "code"));
}

TEST(cpr_validity_follows_the_review_date)
{
    struct plan pl;
    json_t *s;

    plan_make(&pl);
    s = summarise(&pl, "2026-07-10", true);
    CHECK_EQ_STR(validity(s), "valid");          /* on the review date */
    json_decref(s);
    s = summarise(&pl, "2026-07-11", true);
    CHECK_EQ_STR(validity(s), "needs-review");   /* the day after */
    CHECK(json_is_true(json_object_get(named(s, "planNeedsReview"),
                                       "valueBoolean")));
    json_decref(s);
    /* no review date: needs review, never valid */
    json_object_del(json_object_get(pl.cpr, "period"), "end");
    s = summarise(&pl, "2026-01-11", true);
    CHECK_EQ_STR(validity(s), "needs-review");
    json_decref(s);
    /* withheld or absent: not recorded */
    pl.parts[0].res = NULL;
    s = summarise(&pl, "2026-01-11", true);
    CHECK_EQ_STR(validity(s), "not-recorded");
    json_decref(s);
    s = summarise(&pl, "2026-01-11", false);
    CHECK_EQ_STR(validity(s), "not-recorded");
    CHECK(json_is_false(json_object_get(named(s, "hasPlan"),
                                        "valueBoolean")));
    CHECK(named(s, "ceilingOfTreatment") == NULL);
    json_decref(s);
    plan_free(&pl);
}

TEST(summary_holds_ceiling_contacts_and_who_updated)
{
    struct plan pl;
    json_t *s;
    const json_t *c;

    plan_make(&pl);
    s = summarise(&pl, "2026-02-01", true);
    c = json_object_get(named(s, "contact"), "part");
    CHECK_EQ_STR(json_string_value(json_object_get(named(c, "phone"),
                                                   "valueString")),
                 "07700 900001");
    CHECK_EQ_STR(json_string_value(json_object_get(named(c, "name"),
                                                   "valueString")),
                 "Kim Kin");
    CHECK(json_is_true(json_object_get(named(c, "nextOfKin"),
                                       "valueBoolean")));
    c = json_object_get(named(s, "ceilingOfTreatment"), "part");
    CHECK_EQ_STR(json_string_value(json_object_get(named(c, "recommendations"),
                                                   "valueString")),
                 "Ward-based care");
    CHECK_EQ_STR(json_string_value(json_object_get(
                     json_object_get(named(s, "plan"), "valueReference"),
                     "reference")),
                 "CarePlan/cp/_history/3");
    c = json_object_get(named(s, "lastUpdated"), "part");
    CHECK_EQ_STR(json_string_value(json_object_get(named(c, "when"),
                                                   "valueInstant")),
                 "2026-01-01T00:00:00.000Z");
    CHECK(json_is_false(json_object_get(named(s, "lastingPowerOfAttorney"),
                                        "valueBoolean")));
    json_decref(s);
    plan_free(&pl);
}

/* ---- the summary across nodes ---- */

static const char *const PATIENT_JSON =
    "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{"
    "\"system\":\"https://fhir.nhs.uk/Id/nhs-number\",\"value\":"
    "\"9000000009\"}],\"name\":[{\"family\":\"Kin\",\"given\":[\"Ann\"]}],"
    "\"birthDate\":\"1940-02-03\"}";

/* Node 'node''s whole summary (a parsed Parameters) of plan 'pl' as
 * saved at 'updated_ms' by organisation 'org'; no plan when 'pl' is
 * NULL; the person's details when 'patient' is given. */
static json_t *
node_summary(struct plan *pl, int64_t updated_ms, const char *node,
             const char *org, const json_t *patient)
{
    struct cr_careplan_summary_in in;
    struct cr_buf b = cr_buf_make(0);
    int n = 0;

    summary_in(&in, pl, "2026-02-01", updated_ms);
    in.patient = patient;
    in.node = pl ? node : NULL;
    in.publisher = pl ? org : NULL;
    cr_careplan_summary_begin(&b, 1767225600000LL);
    cr_careplan_summarise(&in, &b, &n);
    cr_buf_adds(&b, "]}");
    return take_json(&b);
}

/* The merged parameters (an array), with what was chosen in *out. */
static json_t *
merged(const struct cr_careplan_node_summary *nodes, size_t n,
       const char *const *unreached, size_t nunreached,
       const char *only_org, struct cr_careplan_merge_out *out)
{
    struct cr_careplan_merge_in in;
    struct cr_buf b = cr_buf_make(0);
    json_t *j;
    int k = 0;

    memset(&in, 0, sizeof in);
    in.nodes = nodes;
    in.nnodes = n;
    in.unreached = unreached;
    in.nunreached = nunreached;
    in.only_org = only_org;
    cr_buf_addc(&b, '[');
    cr_careplan_merge(&in, &b, &k, out);
    cr_buf_addc(&b, ']');
    j = take_json(&b);
    CHECK(k > 0 && (size_t)k == json_array_size(j));
    return j;
}

/* The reference of parameter (or part) 'name' of 'list'. */
static const char *
ref_named(const json_t *list, const char *name)
{
    return json_string_value(json_object_get(
        json_object_get(named(list, name), "valueReference"), "reference"));
}

static const char *
part_str(const json_t *list, const char *group, const char *name,
         const char *key)
{
    return json_string_value(json_object_get(
        named(json_object_get(named(list, group), "part"), name), key));
}

TEST(merge_shows_the_plan_saved_last_wherever_it_was_saved)
{
    struct plan here, sel;
    json_t *patient = parse(PATIENT_JSON), *m;
    struct cr_careplan_node_summary ns[2];
    struct cr_careplan_merge_out out;
    const json_t *c;

    plan_make(&here);
    plan_make(&sel);
    json_object_set_new(json_object_get(sel.cpr, "code"), "text",
                        json_string("For CPR (sel)"));
    ns[0] = (struct cr_careplan_node_summary){
        "nel", NULL, node_summary(&here, 1767225600000LL, "nel", "G1",
                                  patient), true };
    ns[1] = (struct cr_careplan_node_summary){
        "sel", "http://sel.example/fhir",
        node_summary(&sel, 1767225600001LL, "sel", "HOS", patient), false };
    m = merged(ns, 2, NULL, 0, NULL, &out);
    CHECK_EQ_INT(out.chosen, 1);                  /* a millisecond newer */
    CHECK_EQ_INT(out.person, 0);                  /* this node's details */
    CHECK_EQ_STR(ref_named(m, "patient"), "Patient/p1");
    CHECK(json_is_true(json_object_get(named(m, "hasPlan"), "valueBoolean")));
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(
                     named(json_object_get(named(m, "cprDecision"), "part"),
                           "decision"), "valueCodeableConcept"), "text")),
                 "For CPR (sel)");
    /* the peer's references resolve on the peer */
    CHECK_EQ_STR(ref_named(m, "plan"),
                 "http://sel.example/fhir/CarePlan/cp/_history/3");
    c = json_object_get(named(m, "contact"), "part");
    CHECK_EQ_STR(ref_named(c, "contact"),
                 "http://sel.example/fhir/RelatedPerson/rp");
    CHECK_EQ_STR(part_str(m, "source", "node", "valueCode"), "sel");
    /* this node's plan is named, not shown, and stays relative */
    c = json_object_get(named(m, "otherPlan"), "part");
    CHECK_EQ_STR(json_string_value(json_object_get(named(c, "node"),
                                                   "valueCode")), "nel");
    CHECK_EQ_STR(ref_named(c, "plan"), "CarePlan/cp/_history/3");
    CHECK(named(m, "incomplete") == NULL);
    CHECK_EQ_INT(json_array_size(m), json_array_size(json_object_get(
                                         ns[1].summary, "parameter")) + 1);
    json_decref(m);
    /* saved at the same instant: the node given first wins */
    json_decref((json_t *)ns[1].summary);
    ns[1].summary = node_summary(&sel, 1767225600000LL, "sel", "HOS",
                                 patient);
    m = merged(ns, 2, NULL, 0, NULL, &out);
    CHECK_EQ_INT(out.chosen, 0);
    CHECK_EQ_STR(ref_named(m, "plan"), "CarePlan/cp/_history/3");
    json_decref(m);
    /* without this node's answer, the person comes from the plan's node,
     * absolute on it */
    m = merged(&ns[1], 1, NULL, 0, NULL, &out);
    CHECK_EQ_INT(out.person, 0);
    CHECK_EQ_STR(ref_named(m, "patient"),
                 "http://sel.example/fhir/Patient/p1");
    json_decref(m);
    json_decref((json_t *)ns[0].summary);
    json_decref((json_t *)ns[1].summary);
    json_decref(patient);
    plan_free(&here);
    plan_free(&sel);
}

/* A summary of a plan saved at instant 'when' by organisation 'org'. */
static json_t *
saved_at(const char *when, const char *org)
{
    char text[1024];

    snprintf(text, sizeof text,
             "{\"resourceType\":\"Parameters\",\"parameter\":["
             "{\"name\":\"hasPlan\",\"valueBoolean\":true},"
             "{\"name\":\"lastUpdated\",\"part\":[{\"name\":\"when\","
             "\"valueInstant\":\"%s\"}]},"
             "{\"name\":\"plan\",\"valueReference\":{\"reference\":"
             "\"CarePlan/%s/_history/1\"}},"
             "{\"name\":\"source\",\"part\":[{\"name\":\"organization\","
             "\"valueIdentifier\":{\"system\":\"" CR_CAREPLAN_ODS_SYSTEM
             "\",\"value\":\"%s\"}}]}]}", when, org, org);
    return parse(text);
}

TEST(merge_compares_instants_not_their_text)
{
    struct cr_careplan_node_summary ns[3];
    struct cr_careplan_merge_out out;
    json_t *m;
    size_t i;

    /* 00:30Z is later than 01:00+02:00 (23:00Z the day before), and a
     * plan whose time cannot be read loses to any that can */
    ns[0] = (struct cr_careplan_node_summary){
        "a", NULL, saved_at("2026-01-01T01:00:00+02:00", "A"), true };
    ns[1] = (struct cr_careplan_node_summary){
        "b", "http://b/fhir", saved_at("2026-01-01T00:30:00Z", "B"), false };
    ns[2] = (struct cr_careplan_node_summary){
        "c", "http://c/fhir", saved_at("yesterday", "C"), false };
    m = merged(ns, 3, NULL, 0, NULL, &out);
    CHECK_EQ_INT(out.chosen, 1);
    CHECK_EQ_STR(ref_named(m, "plan"), "http://b/fhir/CarePlan/B/_history/1");
    CHECK_EQ_INT(json_array_size(m), 1 + 3 + 2);   /* hasPlan, the plan's
                                                      three, two others */
    json_decref(m);
    /* a fraction counts */
    json_decref((json_t *)ns[0].summary);
    ns[0].summary = saved_at("2026-01-01T00:30:00.5Z", "A");
    m = merged(ns, 3, NULL, 0, NULL, &out);
    CHECK_EQ_INT(out.chosen, 0);
    json_decref(m);
    for (i = 0; i < 3; i++)
        json_decref((json_t *)ns[i].summary);
}

TEST(merge_says_plainly_when_a_node_could_not_be_reached)
{
    static const char *const down[] = { "nel", "swl" };
    struct cr_careplan_node_summary ns[1];
    struct cr_careplan_merge_out out;
    json_t *patient = parse(PATIENT_JSON), *m;
    struct plan pl;
    const char *s;

    ns[0] = (struct cr_careplan_node_summary){
        "sel", NULL, node_summary(NULL, 0, "sel", NULL, patient), true };
    /* no plan here, a node not reached: a plan may exist there */
    m = merged(ns, 1, down, 1, NULL, &out);
    CHECK_EQ_INT(out.chosen, -1);
    CHECK(json_is_false(json_object_get(named(m, "hasPlan"), "valueBoolean")));
    CHECK_EQ_STR(validity(m), "unavailable");
    s = part_str(m, "cprDecision", "message", "valueString");
    CHECK(s && strstr(s, "node nel could not be reached, so a care plan and "
                         "a CPR decision may be recorded there"));
    s = json_string_value(json_object_get(named(m, "incomplete"),
                                          "valueString"));
    CHECK_EQ_STR(s, "Node nel could not be reached: a care plan may exist "
                    "there but could not be reached.");
    json_decref(m);
    m = merged(ns, 1, down, 2, NULL, &out);
    s = json_string_value(json_object_get(named(m, "incomplete"),
                                          "valueString"));
    CHECK(s && strncmp(s, "Nodes nel and swl could not", 27) == 0);
    json_decref(m);
    /* every node answered: not recorded, nothing incomplete */
    m = merged(ns, 1, NULL, 0, NULL, &out);
    CHECK_EQ_STR(validity(m), "not-recorded");
    CHECK(named(m, "incomplete") == NULL);
    json_decref(m);
    /* a plan found, a node not reached: a newer one may be there */
    json_decref((json_t *)ns[0].summary);
    plan_make(&pl);
    ns[0].summary = node_summary(&pl, 1767225600000LL, "sel", "HOS", patient);
    m = merged(ns, 1, down, 1, NULL, &out);
    CHECK_EQ_STR(validity(m), "valid");
    s = json_string_value(json_object_get(named(m, "incomplete"),
                                          "valueString"));
    CHECK(s && strstr(s, "a newer care plan may be recorded there"));
    json_decref(m);
    json_decref((json_t *)ns[0].summary);
    json_decref(patient);
    plan_free(&pl);
}

TEST(merge_keeps_other_organisations_plans_out_under_an_objection)
{
    struct cr_careplan_node_summary ns[2];
    struct cr_careplan_merge_out out;
    json_t *m;

    ns[0] = (struct cr_careplan_node_summary){
        "nel", NULL, saved_at("2026-01-01T00:00:00Z", "G1"), true };
    ns[1] = (struct cr_careplan_node_summary){
        "sel", "http://sel/fhir", saved_at("2026-02-01T00:00:00Z", "HOS"),
        false };
    m = merged(ns, 2, NULL, 0, "G1", &out);
    CHECK_EQ_INT(out.chosen, 0);
    CHECK_EQ_INT(out.withheld, 1);
    CHECK(named(m, "otherPlan") == NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(named(m, "withheld"),
                                                   "valueString")),
                 CR_CAREPLAN_WITHHELD_TEXT);
    json_decref(m);
    /* the user's organisation published none: no plan, and it says why */
    m = merged(ns, 2, NULL, 0, "H2", &out);
    CHECK_EQ_INT(out.chosen, -1);
    CHECK_EQ_INT(out.withheld, 2);
    CHECK_EQ_STR(validity(m), "not-recorded");
    CHECK(strstr(part_str(m, "cprDecision", "message", "valueString"),
                 "objected") != NULL);
    json_decref(m);
    json_decref((json_t *)ns[0].summary);
    json_decref((json_t *)ns[1].summary);
}

/* ---- store-side ---- */

struct put_one {
    struct cr_store_put put;
};

static cr_rc
do_put(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    return cr_store_txn_put(txn, &((struct put_one *)ctx)->put, err);
}

static void
put_plan(struct cr_store *s, const char *id, const char *patient,
         int64_t version, int64_t ms, const char *status, bool is_plan)
{
    char json[512];
    struct put_one p;
    struct cr_err err;

    snprintf(json, sizeof json,
             "{\"resourceType\":\"CarePlan\",\"id\":\"%s\",\"meta\":{"
             "\"versionId\":\"%lld\",\"profile\":[\"%s\"]},\"status\":\"%s\","
             "\"intent\":\"plan\",\"subject\":{\"reference\":\"Patient/%s\"}}",
             id, (long long)version,
             is_plan ? SD "UCP-CarePlan" : "http://example.org/other",
             status, patient);
    memset(&p, 0, sizeof p);
    p.put.type = "CarePlan";
    p.put.id = id;
    p.put.version = version;
    p.put.last_updated_ms = ms;
    p.put.json = json;
    p.put.len = strlen(json);
    p.put.patient = patient;
    p.put.org = "G1";
    p.put.op = version == 1 ? "POST" : "PUT";
    cr_err_clear(&err);
    if (cr_store_write(s, do_put, &p, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "put: %s", err.msg);
}

static struct cr_store *
open_store(void)
{
    struct cr_store *s = NULL;
    struct cr_store_opts o = { "test", 0, false };
    struct cr_err err;

    cr_err_clear(&err);
    if (cr_store_open(cr_unit_tmpdir(), &o, &s, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "open: %s", err.msg);
    return s;
}

/* 2026-01-15 and 2026-02-15, noon UTC */
#define JAN INT64_C(1768478400000)
#define FEB INT64_C(1771156800000)

TEST(figures_count_people_plans_and_revisions_per_month)
{
    struct cr_store *s = open_store();
    struct cr_careplan_figures f;
    struct cr_err err;

    /* p1: a plan in January, revised in February, then superseded in
     * February by a second plan; p2: a plan in February; p3: a CarePlan
     * that is not a Universal Care Plan */
    put_plan(s, "a", "p1", 1, JAN, "active", true);
    put_plan(s, "a", "p1", 2, FEB, "active", true);
    put_plan(s, "b", "p1", 1, FEB + 1000, "active", true);
    put_plan(s, "a", "p1", 3, FEB + 2000, "revoked", true);
    put_plan(s, "c", "p2", 1, FEB + 3000, "active", true);
    put_plan(s, "d", "p3", 1, FEB + 4000, "active", false);
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_careplan_figures(s, 0, 0, &f, &err), CR_OK);
    CHECK_EQ_INT(f.people_with_plan, 2);
    CHECK_EQ_INT(f.current_plans, 2);
    CHECK_EQ_INT(f.plans, 3);
    CHECK_EQ_INT(f.revisions, 1);
    CHECK_EQ_INT(f.nmonths, 2);
    CHECK_EQ_INT(f.months[0].year, 2026);
    CHECK_EQ_INT(f.months[0].month, 1);
    CHECK_EQ_INT(f.months[0].created, 1);
    CHECK_EQ_INT(f.months[1].month, 2);
    CHECK_EQ_INT(f.months[1].created, 2);
    CHECK_EQ_INT(f.months[1].revised, 1);
    CHECK_EQ_INT(f.months[1].superseded, 1);
    cr_careplan_figures_free(&f);
    /* February only: people with a plan is now, whatever the period */
    CHECK_EQ_INT(cr_careplan_figures(s, FEB - 86400000, 0, &f, &err),
                 CR_OK);
    CHECK_EQ_INT(f.nmonths, 1);
    CHECK_EQ_INT(f.plans, 2);
    CHECK_EQ_INT(f.people_with_plan, 2);
    cr_careplan_figures_free(&f);
    cr_careplan_figures_free(NULL);
    cr_store_close(s);
}

TEST(months_are_uk_months)
{
    struct cr_store *s = open_store();
    struct cr_careplan_figures f;
    struct cr_err err;

    /* 2026-05-31T23:30Z is 00:30 on 1 June in London (BST) */
    put_plan(s, "a", "p1", 1, INT64_C(1780270200000), "active", true);
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_careplan_figures(s, 0, 0, &f, &err), CR_OK);
    CHECK_EQ_INT(f.nmonths, 1);
    CHECK_EQ_INT(f.months[0].month, 6);
    cr_careplan_figures_free(&f);
    cr_store_close(s);
}

struct seen {
    int n;
    char ids[8][65];
};

static cr_rc
note(void *ctx, const char *type, const char *id,
     const struct cr_store_meta *meta, const char *json, size_t len)
{
    struct seen *w = ctx;

    CHECK_EQ_STR(type, "CarePlan");
    CHECK(json != NULL && len > 0 && meta->version >= 1);
    snprintf(w->ids[w->n++], 65, "%s", id);
    return CR_OK;
}

struct walk_job {
    struct seen seen;
    struct cr_store_put put;
};

static cr_rc
put_then_walk(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct walk_job *j = ctx;
    cr_rc rc = cr_store_txn_put(txn, &j->put, err);

    if (rc != CR_OK)
        return rc;
    return cr_store_txn_patient(txn, "p1", "CarePlan", note, &j->seen, err);
}

TEST(a_transaction_sees_the_patients_resources_with_its_own_writes)
{
    struct cr_store *s = open_store();
    const char *json = "{\"resourceType\":\"CarePlan\",\"id\":\"new\"}";
    struct walk_job j;
    struct cr_err err;

    put_plan(s, "a", "p1", 1, JAN, "active", true);
    put_plan(s, "b", "p2", 1, JAN, "active", true);
    memset(&j, 0, sizeof j);
    j.put.type = "CarePlan";
    j.put.id = "new";
    j.put.version = 1;
    j.put.last_updated_ms = FEB;
    j.put.json = json;
    j.put.len = strlen(json);
    j.put.patient = "p1";
    j.put.org = "G1";
    j.put.op = "POST";
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_store_write(s, put_then_walk, &j, &err), CR_OK);
    CHECK_EQ_INT(j.seen.n, 2);
    CHECK((strcmp(j.seen.ids[0], "a") == 0 && strcmp(j.seen.ids[1], "new") == 0) ||
          (strcmp(j.seen.ids[1], "a") == 0 && strcmp(j.seen.ids[0], "new") == 0));
    cr_store_close(s);
}
