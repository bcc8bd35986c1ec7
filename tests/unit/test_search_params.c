/* test_search_params.c: unit tests for src/fhir/search.h: the generated
 * search parameter tables, index extraction on hand-written resources
 * (asserting the exact set of rows), string folding, date ranges, and
 * every official HL7 R4 example of a served type run through extraction.
 *
 * JSON in these tests is written with single quotes for readability; J()
 * turns them into double quotes before parsing. Rows are rendered as one
 * line of text each and compared as sorted lists, since cr_fhir_index
 * promises no order. */
#include "unit.h"

#include "core/clock.h"
#include "fhir/fhir.h"
#include "fhir/search.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parse test JSON written with ' for ". The caller json_decref()s it. */
static json_t *
parse_at(const char *text, const char *file, int line)
{
    char *s = strdup(text);
    json_error_t je;
    json_t *j;

    if (s == NULL)
        cr_unit_fail(file, line, "out of memory");
    for (char *p = s; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    j = json_loads(s, 0, &je);
    free(s);
    if (j == NULL)
        cr_unit_fail(file, line, "bad test JSON: %s at %d: %s", je.text,
                     je.position, text);
    return j;
}

#define J(text) parse_at((text), __FILE__, __LINE__)

/* --- Rendering rows ------------------------------------------------------ */

#define MAX_ROWS 256

struct rows {
    char *line[MAX_ROWS];
    size_t n;
    size_t stop_after;   /* 0: never stop */
};

static const char *
orneg(const char *s)
{
    return s != NULL ? s : "-";
}

/* 'ms' since the epoch as an instant in UTC, before 1970 too (so not
 * cr_clock_instant, which is for the present); the open ends of a Period
 * as -inf and +inf. */
static void
date_text(int64_t ms, char *out, size_t size)
{
    int64_t days, rem, z, era, yoe, doy, mp, y, m, d;

    if (ms == INT64_MIN) {
        snprintf(out, size, "-inf");
        return;
    }
    if (ms == INT64_MAX) {
        snprintf(out, size, "+inf");
        return;
    }
    days = ms / 86400000;
    rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    /* Howard Hinnant's civil_from_days. */
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    yoe = z - era * 146097;
    yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
    doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = yoe + era * 400 + (m <= 2);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y,
             (int)m, (int)d, (int)(rem / 3600000), (int)(rem / 60000 % 60),
             (int)(rem / 1000 % 60), (int)(rem % 1000));
}

/* One row as text, e.g. "token code http://loinc.org|1234 text=weight". */
static void
render(const struct cr_fhir_index_row *r, char *out, size_t size)
{
    char a[128], b[128];

    switch (r->kind) {
    case CR_SP_TOKEN:
        snprintf(out, size, "token %s %s|%s text=%s", r->param,
                 orneg(r->system), orneg(r->code), orneg(r->text));
        break;
    case CR_SP_STRING:
        snprintf(out, size, "string %s %s raw=%s", r->param, r->text,
                 r->raw);
        break;
    case CR_SP_DATE:
        date_text(r->lo, a, sizeof a);
        date_text(r->hi, b, sizeof b);
        snprintf(out, size, "date %s %s..%s", r->param, a, b);
        break;
    case CR_SP_REFERENCE:
        snprintf(out, size, "reference %s %s/%s raw=%s", r->param,
                 r->ref_type, r->ref_id, r->raw);
        break;
    case CR_SP_NUMBER:
    case CR_SP_QUANTITY:
        snprintf(out, size, "%s %s %g [%g,%g) %s|%s",
                 r->kind == CR_SP_NUMBER ? "number" : "quantity", r->param,
                 r->num, r->num_lo, r->num_hi, orneg(r->system),
                 orneg(r->code));
        break;
    case CR_SP_URI:
        snprintf(out, size, "uri %s %s raw=%s", r->param, r->code, r->raw);
        break;
    default:
        snprintf(out, size, "bad kind %d", (int)r->kind);
        break;
    }
}

static int
collect(void *ctx, const struct cr_fhir_index_row *r)
{
    struct rows *rows = ctx;
    char line[1024];

    if (rows->n == MAX_ROWS)
        return 1;
    render(r, line, sizeof line);
    rows->line[rows->n++] = strdup(line);
    return rows->stop_after != 0 && rows->n >= rows->stop_after;
}

static int
cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
rows_free(struct rows *rows)
{
    for (size_t i = 0; i < rows->n; i++)
        free(rows->line[i]);
    rows->n = 0;
}

/* Index 'text' and check that its rows are exactly 'want' (any order). */
static void
expect_rows_at(const char *text, const char *const *want, size_t nwant,
               const char *file, int line)
{
    json_t *j = parse_at(text, file, line);
    struct rows rows = { .n = 0 };
    const char **sorted = malloc(nwant * sizeof *sorted + 1);
    struct cr_err err;
    cr_rc rc;
    bool same;

    cr_err_clear(&err);
    rc = cr_fhir_index(j, collect, &rows, &err);
    json_decref(j);
    if (rc != CR_OK)
        cr_unit_fail(file, line, "cr_fhir_index: %s: %s", cr_rc_name(rc),
                     err.msg);
    memcpy(sorted, want, nwant * sizeof *sorted);
    qsort(sorted, nwant, sizeof *sorted, cmp_line);
    qsort(rows.line, rows.n, sizeof *rows.line, cmp_line);
    same = rows.n == nwant;
    for (size_t i = 0; same && i < nwant; i++)
        same = strcmp(rows.line[i], sorted[i]) == 0;
    if (!same) {
        fprintf(stderr, "  want %zu rows:\n", nwant);
        for (size_t i = 0; i < nwant; i++)
            fprintf(stderr, "    %s\n", sorted[i]);
        fprintf(stderr, "  got %zu rows:\n", rows.n);
        for (size_t i = 0; i < rows.n; i++)
            fprintf(stderr, "    %s\n", rows.line[i]);
    }
    free(sorted);
    rows_free(&rows);
    if (!same)
        cr_unit_fail(file, line, "rows differ (see above)");
}

#define EXPECT_ROWS(text, ...)                                             \
    do {                                                                   \
        static const char *const want_[] = { __VA_ARGS__ };                \
        expect_rows_at((text), want_, sizeof want_ / sizeof want_[0],      \
                       __FILE__, __LINE__);                                \
    } while (0)

/* --- Lookups ------------------------------------------------------------- */

TEST(lookup_observation)
{
    static const struct {
        const char *code;
        enum cr_fhir_sp_type type;
    } want[] = {
        { "code", CR_SP_TOKEN },
        { "subject", CR_SP_REFERENCE },
        { "patient", CR_SP_REFERENCE },
        { "date", CR_SP_DATE },
        { "value-quantity", CR_SP_QUANTITY },
        { "value-string", CR_SP_STRING },
        { "component-code", CR_SP_TOKEN },
        { "combo-code", CR_SP_TOKEN },
        { "category", CR_SP_TOKEN },
        { "status", CR_SP_TOKEN },
        { "encounter", CR_SP_REFERENCE },
        { "_id", CR_SP_SPECIAL_ID },
        { "_lastUpdated", CR_SP_SPECIAL_LASTUPDATED },
        { "_profile", CR_SP_URI },
        { "_tag", CR_SP_TOKEN },
        { "_security", CR_SP_TOKEN },
        { "_source", CR_SP_URI },
    };
    const struct cr_fhir_sp *sp;

    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        sp = cr_fhir_search_param("Observation", want[i].code);
        if (sp == NULL)
            cr_unit_fail(__FILE__, __LINE__, "Observation %s missing",
                         want[i].code);
        CHECK_EQ_STR(sp->code, want[i].code);
        CHECK_EQ_INT(sp->type, want[i].type);
        CHECK(sp->url != NULL && strncmp(sp->url, "http://hl7.org/fhir/"
                                         "SearchParameter/", 36) == 0);
    }
    sp = cr_fhir_search_param("Observation", "patient");
    CHECK_EQ_INT(sp->ntargets, 1);
    CHECK_EQ_STR(sp->targets[0], "Patient");
    CHECK_EQ_STR(sp->identifier_param, "patient:identifier");
    CHECK_EQ_STR(sp->expression,
                 "Observation.subject.where(resolve() is Patient)");
    sp = cr_fhir_search_param("Observation", "subject");
    CHECK_EQ_INT(sp->ntargets, 4);
    CHECK_EQ_STR(sp->targets[0], "Device");
    CHECK_EQ_STR(sp->targets[3], "Patient");
    CHECK(!sp->is_canonical);
    sp = cr_fhir_search_param("QuestionnaireResponse", "questionnaire");
    CHECK(sp->type == CR_SP_REFERENCE && sp->is_canonical);
    CHECK(cr_fhir_search_param("CarePlan", "instantiates-canonical")
              ->is_canonical);
    sp = cr_fhir_search_param("Observation", "code");
    CHECK(!sp->is_canonical);
    CHECK(sp->targets == NULL && sp->ntargets == 0);
    CHECK(sp->identifier_param == NULL);
    CHECK_EQ_STR(sp->expression, "Observation.code");
    CHECK_EQ_STR(sp->url, "http://hl7.org/fhir/SearchParameter/clinical-code");
}

TEST(lookup_patient)
{
    static const struct {
        const char *code;
        enum cr_fhir_sp_type type;
    } want[] = {
        { "identifier", CR_SP_TOKEN },
        { "name", CR_SP_STRING },
        { "family", CR_SP_STRING },
        { "given", CR_SP_STRING },
        { "birthdate", CR_SP_DATE },
        { "gender", CR_SP_TOKEN },
        { "address-postalcode", CR_SP_STRING },
        { "general-practitioner", CR_SP_REFERENCE },
        { "phone", CR_SP_TOKEN },
        { "email", CR_SP_TOKEN },
        { "deceased", CR_SP_TOKEN },
        { "death-date", CR_SP_DATE },
        { "organization", CR_SP_REFERENCE },
        { "active", CR_SP_TOKEN },
    };

    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct cr_fhir_sp *sp =
            cr_fhir_search_param("Patient", want[i].code);
        if (sp == NULL)
            cr_unit_fail(__FILE__, __LINE__, "Patient %s missing",
                         want[i].code);
        CHECK_EQ_INT(sp->type, want[i].type);
    }
    CHECK_EQ_INT(cr_fhir_search_param("Patient", "general-practitioner")
                     ->ntargets, 3);
}

TEST(lookup_unknown_and_unsupported)
{
    CHECK(cr_fhir_search_param("Observation", "nonsense") == NULL);
    CHECK(cr_fhir_search_param("Observation", "") == NULL);
    CHECK(cr_fhir_search_param("Observation", "Code") == NULL);
    CHECK(cr_fhir_search_param("Observation", "subject:Patient") == NULL);
    CHECK(cr_fhir_search_param("observation", "code") == NULL);
    CHECK(cr_fhir_search_param("Bundle", "identifier") == NULL);
    CHECK(cr_fhir_search_param("Account", "patient") == NULL);
    CHECK(cr_fhir_search_param(NULL, "code") == NULL);
    CHECK(cr_fhir_search_param("Observation", NULL) == NULL);
    /* Composite, special, full-text and phonetic: not in the table. */
    CHECK(cr_fhir_search_param("Observation", "code-value-quantity") == NULL);
    CHECK(cr_fhir_search_param("Observation", "combo-code-value-concept")
          == NULL);
    CHECK(cr_fhir_search_param("Location", "near") == NULL);
    CHECK(cr_fhir_search_param("Patient", "phonetic") == NULL);
    CHECK(cr_fhir_search_param("Patient", "_text") == NULL);
    CHECK(cr_fhir_search_param("Patient", "_content") == NULL);
    CHECK(cr_fhir_search_param("Patient", "_query") == NULL);
}

TEST(lookup_lists_every_served_type_sorted)
{
    size_t ntypes = 0, total = 0;
    const char *const *types = cr_fhir_supported_types(&ntypes);
    const struct cr_fhir_sp *const *list = NULL;

    CHECK_EQ_INT(ntypes, 31);
    for (size_t t = 0; t < ntypes; t++) {
        size_t n = cr_fhir_search_params(types[t], &list);
        /* At least the six of every resource and a few of its own. */
        if (n < 10)
            cr_unit_fail(__FILE__, __LINE__, "%s has %zu parameters",
                         types[t], n);
        for (size_t i = 0; i < n; i++) {
            CHECK(cr_fhir_search_param(types[t], list[i]->code) == list[i]);
            if (i > 0)
                CHECK(strcmp(list[i - 1]->code, list[i]->code) < 0);
            CHECK((list[i]->type == CR_SP_REFERENCE) ==
                  (list[i]->identifier_param != NULL));
            for (size_t k = 0; k < list[i]->ntargets; k++)
                CHECK(cr_fhir_is_resource_type(list[i]->targets[k]));
        }
        CHECK_EQ_STR(list[0]->code, "_id");
        CHECK_EQ_STR(list[1]->code, "_lastUpdated");
        total += n;
    }
    printf("  %zu supported parameters over %zu types\n", total, ntypes);
    CHECK_EQ_INT(cr_fhir_search_params("Bundle", &list), 0);
    CHECK(list == NULL);
    CHECK_EQ_INT(cr_fhir_search_params(NULL, &list), 0);
}

/* --- Extraction ---------------------------------------------------------- */

TEST(index_patient)
{
    EXPECT_ROWS(
        "{'resourceType':'Patient','id':'p1',"
        " 'meta':{'lastUpdated':'2024-01-01T00:00:00Z',"
        "  'profile':['https://fhir.hl7.org.uk/StructureDefinition/"
        "UKCore-Patient|1.0'],"
        "  'tag':[{'system':'http://t','code':'demo','display':'Démo'}]},"
        " 'identifier':[{'system':'https://fhir.nhs.uk/Id/nhs-number',"
        "   'value':'9000000009'},"
        "  {'system':'https://fhir.nhs.uk/Id/nhs-number',"
        "   'value':'9000000009'}],"
        " 'active':true,"
        " 'name':[{'use':'official','family':'Müller',"
        "   'given':['Zoë','Anne'],'prefix':['Dr']},"
        "  {'family':'Smith','given':['Zoe']}],"
        " 'telecom':[{'system':'phone','value':'020 7946 0000'},"
        "  {'system':'email','value':'zoe@example.org'}],"
        " 'gender':'female','birthDate':'1970-03',"
        " 'address':[{'line':['1 High St'],'city':'London',"
        "   'postalCode':'SW1A 1AA'}],"
        " 'generalPractitioner':[{'reference':'Practitioner/gp1'}],"
        " 'deceasedBoolean':false}",
        "uri _profile https://fhir.hl7.org.uk/StructureDefinition/"
        "UKCore-Patient raw=https://fhir.hl7.org.uk/StructureDefinition/"
        "UKCore-Patient|1.0",
        "token _tag http://t|demo text=demo",
        "token identifier https://fhir.nhs.uk/Id/nhs-number|9000000009 "
        "text=-",
        "token active #implicit|true text=-",
        "string name muller raw=Müller",
        "string name zoe raw=Zoë",
        "string name anne raw=Anne",
        "string name dr raw=Dr",
        "string name smith raw=Smith",
        "string name zoe raw=Zoe",
        "string family muller raw=Müller",
        "string family smith raw=Smith",
        "string given zoe raw=Zoë",
        "string given anne raw=Anne",
        "string given zoe raw=Zoe",
        "token telecom -|020 7946 0000 text=-",
        "token telecom -|zoe@example.org text=-",
        "token phone -|020 7946 0000 text=-",
        "token email -|zoe@example.org text=-",
        "token gender #implicit|female text=-",
        "date birthdate 1970-03-01T00:00:00.000Z..1970-03-31T23:59:59.999Z",
        "string address 1 high st raw=1 High St",
        "string address london raw=London",
        "string address sw1a 1aa raw=SW1A 1AA",
        "string address-city london raw=London",
        "string address-postalcode sw1a 1aa raw=SW1A 1AA",
        "reference general-practitioner Practitioner/gp1 "
        "raw=Practitioner/gp1",
        "token deceased #implicit|false text=-");
}

TEST(index_patient_deceased_and_link)
{
    EXPECT_ROWS("{'resourceType':'Patient','deceasedDateTime':'2020-02',"
                " 'link':[{'other':{'reference':'Patient/old'},"
                "          'type':'replaces'}],"
                " 'managingOrganization':{'reference':'Organization/o1',"
                "                         'display':'X'}}",
                "token deceased #implicit|true text=-",
                "date death-date 2020-02-01T00:00:00.000Z.."
                "2020-02-29T23:59:59.999Z",
                "reference link Patient/old raw=Patient/old",
                "reference organization Organization/o1 "
                "raw=Organization/o1");
    EXPECT_ROWS("{'resourceType':'Patient','deceasedBoolean':true}",
                "token deceased #implicit|true text=-");
    /* Absent: X.exists() is false, so the token is "false". */
    EXPECT_ROWS("{'resourceType':'Patient'}",
                "token deceased #implicit|false text=-");
}

TEST(index_observation)
{
    EXPECT_ROWS(
        "{'resourceType':'Observation','status':'final',"
        " 'category':[{'coding':[{'system':'http://terminology.hl7.org/"
        "CodeSystem/observation-category','code':'vital-signs'}]}],"
        " 'code':{'coding':[{'system':'http://loinc.org','code':'29463-7',"
        "   'display':'Body Weight'},"
        "  {'system':'http://snomed.info/sct','code':'27113001'}],"
        "  'text':'Weight'},"
        " 'subject':{'reference':'Patient/p1'},"
        " 'effectivePeriod':{'start':'2020-03-01T10:00:00Z',"
        "   'end':'2020-03-01'},"
        " 'valueQuantity':{'value':1.5,'unit':'milligram',"
        "   'system':'http://unitsofmeasure.org','code':'mg'},"
        " 'component':[{'code':{'coding':[{'system':'http://loinc.org',"
        "   'code':'29463-7','display':'Body Weight'}]},"
        "  'valueQuantity':{'value':120,"
        "   'system':'http://unitsofmeasure.org','code':'mm[Hg]'}}]}",
        "token status #implicit|final text=-",
        "token category http://terminology.hl7.org/CodeSystem/"
        "observation-category|vital-signs text=-",
        "token code http://loinc.org|29463-7 text=body weight",
        "token code http://snomed.info/sct|27113001 text=-",
        "token code -|- text=weight",
        /* The component's coding equals the code's: one row. */
        "token combo-code http://loinc.org|29463-7 text=body weight",
        "token combo-code http://snomed.info/sct|27113001 text=-",
        "token combo-code -|- text=weight",
        "token component-code http://loinc.org|29463-7 text=body weight",
        "reference subject Patient/p1 raw=Patient/p1",
        "reference patient Patient/p1 raw=Patient/p1",
        "date date 2020-03-01T10:00:00.000Z..2020-03-01T23:59:59.999Z",
        "quantity value-quantity 1.5 [1.45,1.55) "
        "http://unitsofmeasure.org|mg",
        "quantity value-quantity 1.5 [1.45,1.55) -|milligram",
        "quantity combo-value-quantity 1.5 [1.45,1.55) "
        "http://unitsofmeasure.org|mg",
        "quantity combo-value-quantity 1.5 [1.45,1.55) -|milligram",
        "quantity combo-value-quantity 120 [119.5,120.5) "
        "http://unitsofmeasure.org|mm[Hg]",
        "quantity component-value-quantity 120 [119.5,120.5) "
        "http://unitsofmeasure.org|mm[Hg]");
}

TEST(index_observation_subject_kinds)
{
    /* A Group subject is a subject, but not a patient. */
    EXPECT_ROWS("{'resourceType':'Observation','status':'final',"
                " 'code':{'text':'x'},"
                " 'subject':{'reference':'Group/g1'}}",
                "token status #implicit|final text=-", "token code -|- text=x",
                "token combo-code -|- text=x",
                "reference subject Group/g1 raw=Group/g1");
    /* A logical reference: identifier rows; under patient only when the
     * reference says it is to a Patient. */
    EXPECT_ROWS("{'resourceType':'Observation','status':'final',"
                " 'code':{'text':'x'},"
                " 'subject':{'type':'Patient','identifier':"
                "  {'system':'https://fhir.nhs.uk/Id/nhs-number',"
                "   'value':'9000000009'}}}",
                "token status #implicit|final text=-", "token code -|- text=x",
                "token combo-code -|- text=x",
                "token subject:identifier https://fhir.nhs.uk/Id/"
                "nhs-number|9000000009 text=-",
                "token patient:identifier https://fhir.nhs.uk/Id/"
                "nhs-number|9000000009 text=-");
    EXPECT_ROWS("{'resourceType':'Observation','status':'final',"
                " 'code':{'text':'x'},"
                " 'subject':{'identifier':{'value':'abc'}}}",
                "token status #implicit|final text=-", "token code -|- text=x",
                "token combo-code -|- text=x",
                "token subject:identifier -|abc text=-");
    /* Both a literal reference and an identifier. */
    EXPECT_ROWS("{'resourceType':'Observation','status':'final',"
                " 'code':{'text':'x'},"
                " 'subject':{'reference':'Patient/p9','identifier':"
                "  {'system':'s','value':'v'}}}",
                "token status #implicit|final text=-", "token code -|- text=x",
                "token combo-code -|- text=x",
                "reference subject Patient/p9 raw=Patient/p9",
                "reference patient Patient/p9 raw=Patient/p9",
                "token subject:identifier s|v text=-",
                "token patient:identifier s|v text=-");
}

TEST(index_medication_request)
{
    EXPECT_ROWS(
        "{'resourceType':'MedicationRequest','status':'active',"
        " 'intent':'order',"
        " 'medicationCodeableConcept':{'coding':[{'system':"
        "   'http://snomed.info/sct','code':'322236009',"
        "   'display':'Paracetamol 500mg tablets'}]},"
        " 'subject':{'reference':"
        "   'https://example.org/fhir/Patient/p1/_history/3'},"
        " 'encounter':{'reference':'urn:uuid:"
        "6b4a3c1e-8f2d-4c5a-9e7b-1a2b3c4d5e6f'},"
        " 'requester':{'reference':'#prac'},"
        " 'authoredOn':'2021-05-04',"
        " 'dosageInstruction':[{'timing':{'event':["
        "   '2021-05-06T08:00:00Z','2021-05-04T08:00:00Z']}}]}",
        "token status #implicit|active text=-", "token intent #implicit|order text=-",
        "token code http://snomed.info/sct|322236009 "
        "text=paracetamol 500mg tablets",
        "reference subject Patient/p1 "
        "raw=https://example.org/fhir/Patient/p1/_history/3",
        "reference patient Patient/p1 "
        "raw=https://example.org/fhir/Patient/p1/_history/3",
        "date authoredon 2021-05-04T00:00:00.000Z..2021-05-04T23:59:59.999Z",
        /* The path reaches Timing.event itself: a row per event. */
        "date date 2021-05-04T08:00:00.000Z..2021-05-04T08:00:00.999Z",
        "date date 2021-05-06T08:00:00.000Z..2021-05-06T08:00:00.999Z");
    /* medicationReference is the medication parameter, not code. */
    EXPECT_ROWS("{'resourceType':'MedicationRequest','status':'active',"
                " 'intent':'order','subject':{'display':'no reference'},"
                " 'medicationReference':{'reference':'Medication/m1'}}",
                "token status #implicit|active text=-",
                "token intent #implicit|order text=-",
                "reference medication Medication/m1 raw=Medication/m1");
}

TEST(index_references_that_do_not_count)
{
    /* Contained, urn:, unknown types, bad ids, queries: no rows. */
    EXPECT_ROWS("{'resourceType':'Flag','status':'active',"
                " 'code':{'text':'x'},"
                " 'subject':{'reference':'#p'},"
                " 'author':{'reference':'Foo/1'},"
                " 'encounter':{'reference':'Encounter/a_b'}}");
    EXPECT_ROWS("{'resourceType':'Flag','status':'active',"
                " 'code':{'text':'x'},"
                " 'subject':{'reference':'Patient?identifier=x|y'},"
                " 'author':{'reference':'Practitioner/'},"
                " 'encounter':{'reference':'/Encounter/e1'}}",
                "reference encounter Encounter/e1 raw=/Encounter/e1");
    EXPECT_ROWS("{'resourceType':'Flag','status':'active',"
                " 'code':{'text':'x'},"
                " 'subject':{'reference':'http://h/fhir/Patient/p2'}}",
                "reference subject Patient/p2 raw=http://h/fhir/Patient/p2",
                "reference patient Patient/p2 raw=http://h/fhir/Patient/p2");
}

TEST(index_partial_dates_and_periods)
{
    EXPECT_ROWS("{'resourceType':'Encounter','status':'finished',"
                " 'class':{'system':'http://terminology.hl7.org/CodeSystem/"
                "v3-ActCode','code':'AMB'},"
                " 'period':{'start':'2020'}}",
                "token status #implicit|finished text=-",
                "token class http://terminology.hl7.org/CodeSystem/"
                "v3-ActCode|AMB text=-",
                "date date 2020-01-01T00:00:00.000Z..+inf");
    EXPECT_ROWS("{'resourceType':'Encounter','status':'finished',"
                " 'class':{'code':'AMB'},"
                " 'period':{'end':'2020-03-01T10:00:00+01:00'},"
                " 'location':[{'location':{'reference':'Location/l1'},"
                "   'period':{'start':'2020-02-29T23:30:00.5-00:30',"
                "             'end':'bad'}}]}",
                "token status #implicit|finished text=-",
                "token class -|AMB text=-",
                "date date -inf..2020-03-01T09:00:00.999Z",
                "reference location Location/l1 raw=Location/l1");
    EXPECT_ROWS("{'resourceType':'Immunization','status':'completed',"
                " 'vaccineCode':{'text':'flu'},"
                " 'patient':{'reference':'Patient/p'},"
                " 'occurrenceString':'last winter'}",
                "token status #implicit|completed text=-",
                "token vaccine-code -|- text=flu",
                "reference patient Patient/p raw=Patient/p");
}

TEST(index_timing_outer_limits)
{
    /* A Timing covers its events and bounds, whatever the repeat says. */
    EXPECT_ROWS("{'resourceType':'ServiceRequest','status':'active',"
                " 'intent':'order','subject':{'reference':'Patient/p'},"
                " 'occurrenceTiming':{'event':['2021-01-05'],"
                "  'repeat':{'boundsPeriod':{'start':'2021-01-01',"
                "   'end':'2021-01-31'},'frequency':1,'period':1,"
                "   'periodUnit':'wk'}}}",
                "token status #implicit|active text=-",
                "token intent #implicit|order text=-",
                "reference subject Patient/p raw=Patient/p",
                "reference patient Patient/p raw=Patient/p",
                "date occurrence 2021-01-01T00:00:00.000Z.."
                "2021-01-31T23:59:59.999Z");
    EXPECT_ROWS("{'resourceType':'ServiceRequest','status':'active',"
                " 'intent':'order','subject':{'reference':'Patient/p'},"
                " 'occurrenceTiming':{'repeat':{'boundsPeriod':"
                "  {'start':'2021-01-01'}},'code':{'text':'BID'}}}",
                "token status #implicit|active text=-",
                "token intent #implicit|order text=-",
                "reference subject Patient/p raw=Patient/p",
                "reference patient Patient/p raw=Patient/p",
                "date occurrence 2021-01-01T00:00:00.000Z..+inf");
}

TEST(index_ranges_and_filters)
{
    EXPECT_ROWS("{'resourceType':'Condition','subject':{'reference':"
                "'Patient/p'},'onsetRange':{'low':{'value':10,"
                "'unit':'a','system':'http://unitsofmeasure.org',"
                "'code':'a'},'high':{'value':20.25,'code':'a'}},"
                " 'abatementString':'In Remission'}",
                "reference subject Patient/p raw=Patient/p",
                "reference patient Patient/p raw=Patient/p",
                "quantity onset-age nan [9.5,20.255) "
                "http://unitsofmeasure.org|a",
                "string abatement-string in remission raw=In Remission");
    /* Only the telecom items with system phone count for phone. */
    EXPECT_ROWS("{'resourceType':'PractitionerRole',"
                " 'telecom':[{'system':'phone','value':'1'},"
                "  {'system':'fax','value':'2'},{'value':'3'},"
                "  {'system':'email','value':'a@b'}]}",
                "token telecom -|1 text=-", "token telecom -|2 text=-",
                "token telecom -|3 text=-", "token telecom -|a@b text=-",
                "token phone -|1 text=-", "token email -|a@b text=-");
}

TEST(index_canonical_and_uri)
{
    EXPECT_ROWS("{'resourceType':'QuestionnaireResponse',"
                " 'status':'completed',"
                " 'questionnaire':'http://x/Questionnaire/q|2.0',"
                " 'meta':{'source':'http://src#1','security':"
                "  [{'system':'http://s','code':'R'}]}}",
                "token status #implicit|completed text=-",
                "uri questionnaire http://x/Questionnaire/q "
                "raw=http://x/Questionnaire/q|2.0",
                "uri _source http://src#1 raw=http://src#1",
                "token _security http://s|R text=-");
}

TEST(index_dedupes)
{
    /* The same coding twice, the same identifier twice, the same name
     * given twice: one row each. */
    EXPECT_ROWS("{'resourceType':'Practitioner',"
                " 'identifier':[{'system':'s','value':'1'},"
                "  {'system':'s','value':'1'},{'system':'s','value':'2'}],"
                " 'name':[{'family':'Lee'},{'family':'Lee'}],"
                " 'communication':[{'coding':[{'system':'l','code':'en'},"
                "  {'system':'l','code':'en'}]}]}",
                "token identifier s|1 text=-", "token identifier s|2 text=-",
                "string name lee raw=Lee", "string family lee raw=Lee",
                "token communication l|en text=-");
}

static int
count_rows(void *ctx, const struct cr_fhir_index_row *r)
{
    size_t *n = ctx;

    (void)r;
    (*n)++;
    return 0;
}

TEST(index_many_rows_and_long_strings)
{
    /* More rows than the stack table holds, and strings longer than the
     * stack scratch: both spill to the heap and must still dedupe. */
    json_t *p = json_pack("{s:s}", "resourceType", "Patient");
    json_t *names = json_array();
    json_t *given = json_array();
    char *longs = malloc(10001);
    size_t n = 0;

    CHECK(p != NULL && names != NULL && given != NULL && longs != NULL);
    for (int i = 0; i < 300; i++) {
        char s[32];
        snprintf(s, sizeof s, "Given%d", i % 200);
        json_array_append_new(given, json_string(s));
    }
    memset(longs, 'A', 10000);
    longs[10000] = '\0';
    json_array_append_new(names, json_pack("{s:s,s:o}", "family", longs,
                                           "given", given));
    json_object_set_new(p, "name", names);
    CHECK_EQ_INT(cr_fhir_index(p, count_rows, &n, NULL), CR_OK);
    /* name: the family and 200 given; family: 1; given: 200; deceased. */
    CHECK_EQ_INT(n, 201 + 1 + 200 + 1);
    json_decref(p);
    free(longs);
}

TEST(index_callback_stops)
{
    json_t *j = J("{'resourceType':'Patient','gender':'male',"
                  " 'name':[{'family':'A','given':['B','C']}]}");
    struct rows rows = { .n = 0, .stop_after = 2 };

    CHECK_EQ_INT(cr_fhir_index(j, collect, &rows, NULL), CR_OK);
    CHECK_EQ_INT(rows.n, 2);
    rows_free(&rows);
    json_decref(j);
}

TEST(index_errors)
{
    json_t *arr = J("[1]");
    json_t *bundle = J("{'resourceType':'Bundle','type':'batch'}");
    json_t *notype = J("{'id':'x'}");
    json_t *badtype = J("{'resourceType':7}");
    json_t *ok = J("{'resourceType':'Patient'}");
    struct cr_err err;
    size_t n = 0;

    cr_err_clear(&err);
    CHECK_EQ_INT(cr_fhir_index(arr, count_rows, &n, &err), CR_EINVAL);
    CHECK_EQ_STR(err.where, "resourceType");
    CHECK_EQ_INT(cr_fhir_index(NULL, count_rows, &n, NULL), CR_EINVAL);
    CHECK_EQ_INT(cr_fhir_index(notype, count_rows, &n, NULL), CR_EINVAL);
    CHECK_EQ_INT(cr_fhir_index(badtype, count_rows, &n, NULL), CR_EINVAL);
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_fhir_index(bundle, count_rows, &n, &err),
                 CR_EUNSUPPORTED);
    CHECK_EQ_STR(err.code, "not-supported");
    CHECK_EQ_INT(cr_fhir_index(ok, NULL, NULL, NULL), CR_EINVAL);
    CHECK_EQ_INT(n, 0);
    json_decref(arr);
    json_decref(bundle);
    json_decref(notype);
    json_decref(badtype);
    json_decref(ok);
}

/* --- Folding ------------------------------------------------------------- */

static void
fold_is_at(const char *in, const char *want, const char *file, int line)
{
    char out[256];
    size_t n = cr_fhir_fold(in, strlen(in), out, sizeof out);

    if (strcmp(out, want) != 0 || n != strlen(want))
        cr_unit_fail(file, line, "fold(\"%s\") = \"%s\" (%zu), want \"%s\"",
                     in, out, n, want);
}

#define FOLD_IS(in, want) fold_is_at((in), (want), __FILE__, __LINE__)

TEST(fold)
{
    FOLD_IS("", "");
    FOLD_IS("Smith", "smith");
    FOLD_IS("McDONALD-Jones", "mcdonald-jones");
    FOLD_IS("Zoë", "zoe");
    FOLD_IS("José Ñúñez", "jose nunez");
    FOLD_IS("Straße", "strasse");
    FOLD_IS("ØRSTED", "orsted");
    FOLD_IS("Æsir", "aesir");
    FOLD_IS("Łódź", "lodz");
    FOLD_IS("Œuvre", "oeuvre");
    FOLD_IS("Þór", "thor");
    FOLD_IS("ÀÉÎÕÜÇ àéîõüç ÿŸ", "aeiouc aeiouc yy");
    FOLD_IS("Dvořák", "dvorak");
    FOLD_IS("İstanbul", "istanbul");
    /* Decomposed: e + combining acute. */
    FOLD_IS("Ze\xcc\x81lie", "zelie");
    /* Signs in Latin-1 that are not letters pass through. */
    FOLD_IS("2×3÷1 £5", "2×3÷1 £5");
    /* Other scripts pass through unchanged (not even lower-cased). */
    FOLD_IS("Ελλάδα Москва 東京", "Ελλάδα Москва 東京");
    /* Invalid UTF-8 bytes pass through, the rest is still folded. */
    FOLD_IS("A\xff\xc3(B\xc3", "a\xff\xc3(b\xc3");
    FOLD_IS("\xed\xa0\x80X", "\xed\xa0\x80x");   /* a surrogate */
    FOLD_IS("\xc0\xafZ", "\xc0\xafz");           /* overlong */
}

TEST(fold_truncates_whole_characters)
{
    char out[8];

    CHECK_EQ_INT(cr_fhir_fold("ABCDEFGHIJ", 10, out, sizeof out), 7);
    CHECK_EQ_STR(out, "abcdefg");
    /* "abcdef" then ß -> "ss", which does not fit whole: left out. */
    CHECK_EQ_INT(cr_fhir_fold("abcdefß", strlen("abcdefß"), out, 8), 6);
    CHECK_EQ_STR(out, "abcdef");
    CHECK_EQ_INT(cr_fhir_fold("abcdeß", strlen("abcdeß"), out, 7), 5);
    CHECK_EQ_STR(out, "abcde");
    /* A multi-byte character passed through is never split. */
    CHECK_EQ_INT(cr_fhir_fold("abcde東", strlen("abcde東"), out, 8), 5);
    CHECK_EQ_STR(out, "abcde");
    CHECK_EQ_INT(cr_fhir_fold("abc", 3, out, 1), 0);
    CHECK_EQ_STR(out, "");
    out[0] = 'x';
    CHECK_EQ_INT(cr_fhir_fold("abc", 3, out, 0), 0);
    CHECK(out[0] == 'x');
    CHECK_EQ_INT(cr_fhir_fold(NULL, 0, out, sizeof out), 0);
    CHECK_EQ_STR(out, "");
    /* Only 'len' bytes are read. */
    CHECK_EQ_INT(cr_fhir_fold("ABCDEF", 2, out, sizeof out), 2);
    CHECK_EQ_STR(out, "ab");
}

/* --- Dates --------------------------------------------------------------- */

static void
range_is_at(const char *s, const char *want_lo, const char *want_hi,
            const char *file, int line)
{
    int64_t lo = 0, hi = 0;
    char a[128], b[128];

    if (!cr_fhir_parse_date_range(s, strlen(s), &lo, &hi))
        cr_unit_fail(file, line, "\"%s\" did not parse", s);
    date_text(lo, a, sizeof a);
    date_text(hi, b, sizeof b);
    if (strcmp(a, want_lo) != 0 || strcmp(b, want_hi) != 0)
        cr_unit_fail(file, line, "\"%s\": %s..%s, want %s..%s", s, a, b,
                     want_lo, want_hi);
}

#define RANGE_IS(s, lo, hi) range_is_at((s), (lo), (hi), __FILE__, __LINE__)

TEST(date_ranges)
{
    int64_t lo = 0, hi = 0;

    RANGE_IS("2020", "2020-01-01T00:00:00.000Z", "2020-12-31T23:59:59.999Z");
    RANGE_IS("2020-02", "2020-02-01T00:00:00.000Z",
             "2020-02-29T23:59:59.999Z");
    RANGE_IS("2019-02", "2019-02-01T00:00:00.000Z",
             "2019-02-28T23:59:59.999Z");
    RANGE_IS("2020-03", "2020-03-01T00:00:00.000Z",
             "2020-03-31T23:59:59.999Z");
    RANGE_IS("2020-12", "2020-12-01T00:00:00.000Z",
             "2020-12-31T23:59:59.999Z");
    RANGE_IS("2000-02-29", "2000-02-29T00:00:00.000Z",
             "2000-02-29T23:59:59.999Z");
    RANGE_IS("1969-12-31", "1969-12-31T00:00:00.000Z",
             "1969-12-31T23:59:59.999Z");
    RANGE_IS("1901-07", "1901-07-01T00:00:00.000Z",
             "1901-07-31T23:59:59.999Z");
    RANGE_IS("0001", "0001-01-01T00:00:00.000Z", "0001-12-31T23:59:59.999Z");
    RANGE_IS("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z",
             "9999-12-31T23:59:59.999Z");
    RANGE_IS("2020-03-01T10:00", "2020-03-01T10:00:00.000Z",
             "2020-03-01T10:00:59.999Z");
    RANGE_IS("2020-03-01T10:00:05", "2020-03-01T10:00:05.000Z",
             "2020-03-01T10:00:05.999Z");
    RANGE_IS("2020-03-01T10:00:05Z", "2020-03-01T10:00:05.000Z",
             "2020-03-01T10:00:05.999Z");
    RANGE_IS("2020-03-01T10:00:05.25+01:00", "2020-03-01T09:00:05.250Z",
             "2020-03-01T09:00:05.259Z");
    RANGE_IS("2020-03-01T10:00:05.123456-05:30", "2020-03-01T15:30:05.123Z",
             "2020-03-01T15:30:05.123Z");
    RANGE_IS("2020-03-01T00:30:00+14:00", "2020-02-29T10:30:00.000Z",
             "2020-02-29T10:30:00.999Z");
    CHECK(cr_fhir_parse_date_range("2020", 4, &lo, &hi));
    CHECK_EQ_INT(lo, INT64_C(1577836800000));
    CHECK_EQ_INT(hi, INT64_C(1609459199999));
    CHECK(cr_fhir_parse_date_range("1970-01-01T00:00:00.000Z", 24, &lo,
                                   &hi));
    CHECK_EQ_INT(lo, 0);
    CHECK_EQ_INT(hi, 0);
    CHECK(cr_fhir_parse_date_range("1969-12-31", 10, &lo, &hi));
    CHECK_EQ_INT(lo, -86400000);
    CHECK_EQ_INT(hi, -1);
    /* Only 'len' bytes are read. */
    CHECK(cr_fhir_parse_date_range("2020-03-01", 7, &lo, &hi));
    CHECK_EQ_INT(hi - lo + 1, INT64_C(31) * 86400000);
}

TEST(date_ranges_reject)
{
    static const char *const bad[] = {
        "", "20", "202", "20201", "0000", "2020-", "2020-1", "2020-13",
        "2020-00", "2020-02-30", "2019-02-29", "2020-04-31", "2020-03-00",
        "2020-03-01T", "2020-03-01T10", "2020-03-01T24:00",
        "2020-03-01T10:60", "2020-03-01T10:00:61", "2020-03-01T10:00:00.",
        "2020-03-01T10:00:00+15:00", "2020-03-01T10:00:00+01",
        "2020-03-01T10:00:00+01:60", "2020-03-01T10:00:00ZZ",
        "2020-03-01x", "2020-03-01 10:00", "abcd", "2020/03/01",
        "10:00:00", "+2020",
    };
    int64_t lo = 42, hi = 43;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cr_fhir_parse_date_range(bad[i], strlen(bad[i]), &lo, &hi))
            cr_unit_fail(__FILE__, __LINE__, "\"%s\" parsed", bad[i]);
    }
    CHECK(!cr_fhir_parse_date_range(NULL, 0, &lo, &hi));
    CHECK_EQ_INT(lo, 42);
    CHECK_EQ_INT(hi, 43);
}

/* --- The official HL7 R4 examples ---------------------------------------- */

/* The examples directory, or NULL when node_modules is not installed. */
static const char *
examples_dir(void)
{
    return cr_unit_node_package("hl7.fhir.r4.examples");
}

struct check {
    size_t n;
    char bad[512];   /* the first malformed row, rendered */
};

/* A row must be well formed for its kind; the first that is not stops the
 * walk and is kept for the failure message. */
static int
check_row(void *ctx, const struct cr_fhir_index_row *r)
{
    struct check *c = ctx;
    bool ok = r->param != NULL;

    switch (r->kind) {
    case CR_SP_TOKEN:
        ok = ok && (r->system != NULL || r->code != NULL || r->text != NULL);
        break;
    case CR_SP_STRING:
        ok = ok && r->text != NULL && r->raw != NULL;
        break;
    case CR_SP_DATE:
        break;
    case CR_SP_REFERENCE:
        ok = ok && r->ref_type != NULL && r->ref_id != NULL &&
             cr_fhir_is_resource_type(r->ref_type) &&
             cr_fhir_valid_id(r->ref_id, strlen(r->ref_id));
        break;
    case CR_SP_NUMBER:
    case CR_SP_QUANTITY:
        ok = ok && r->num_lo <= r->num_hi;
        break;
    case CR_SP_URI:
        ok = ok && r->code != NULL && r->raw != NULL;
        break;
    default:
        ok = false;
        break;
    }
    if (!ok) {
        render(r, c->bad, sizeof c->bad);
        return 1;
    }
    c->n++;
    return 0;
}

TEST(official_examples_extract)
{
    const char *dir = examples_dir();
    json_t *docs[400];
    char names[400][256];
    size_t ndocs = 0, rows = 0, rounds = 0;
    struct check chk = { 0, "" };
    int64_t t0, us;
    DIR *d;
    struct dirent *de;

    if (dir == NULL) {
        printf("  (skipped: node_modules/hl7.fhir.r4.examples not found; "
               "run npm ci)\n");
        return;
    }
    d = opendir(dir);
    CHECK(d != NULL);
    while ((de = readdir(d)) != NULL) {
        char type[128], file[PATH_MAX + 256];
        const char *dash = strchr(de->d_name, '-');
        size_t len = strlen(de->d_name);
        json_error_t je;
        json_t *j;

        if (dash == NULL || len < 6 ||
            strcmp(de->d_name + len - 5, ".json") != 0 ||
            (size_t)(dash - de->d_name) >= sizeof type)
            continue;
        memcpy(type, de->d_name, (size_t)(dash - de->d_name));
        type[dash - de->d_name] = '\0';
        if (!cr_fhir_is_supported_type(type))
            continue;
        snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
        j = json_load_file(file, 0, &je);
        if (j == NULL)
            cr_unit_fail(__FILE__, __LINE__, "%s: %s", de->d_name, je.text);
        CHECK(ndocs < sizeof docs / sizeof docs[0]);
        snprintf(names[ndocs], sizeof names[ndocs], "%s", de->d_name);
        docs[ndocs++] = j;
    }
    closedir(d);

    /* Every example extracts, every row well formed. */
    for (size_t i = 0; i < ndocs; i++) {
        struct cr_err err;
        cr_rc rc;

        cr_err_clear(&err);
        rc = cr_fhir_index(docs[i], check_row, &chk, &err);
        if (rc != CR_OK)
            cr_unit_fail(__FILE__, __LINE__, "%s: %s %s", names[i],
                         cr_rc_name(rc), err.msg);
        if (chk.bad[0] != '\0')
            cr_unit_fail(__FILE__, __LINE__, "%s: malformed row: %s",
                         names[i], chk.bad);
    }
    rows = chk.n;
    printf("  %zu examples, %zu index rows (%.1f per resource)\n", ndocs,
           rows, ndocs ? (double)rows / (double)ndocs : 0.0);
    fflush(stdout);
    CHECK_EQ_INT(ndocs, 331);
    CHECK(rows > 3000);

    /* Time: repeat over the set for at least half a second. */
    t0 = cr_clock_mono_us();
    do {
        for (size_t i = 0; i < ndocs; i++) {
            size_t n = 0;
            cr_fhir_index(docs[i], count_rows, &n, NULL);
        }
        rounds++;
        us = cr_clock_mono_us() - t0;
    } while (us < 500000);
    printf("  extraction: %.2f us per resource (%zu rounds; a sanitizer "
           "build is several times slower than release)\n",
           (double)us / (double)(rounds * ndocs), rounds);
    for (size_t i = 0; i < ndocs; i++)
        json_decref(docs[i]);
}

/* Rows of a known official example, spot-checked. */
TEST(official_example_observation_rows)
{
    const char *dir = examples_dir();
    char file[PATH_MAX + 64];
    struct rows rows = { .n = 0 };
    json_error_t je;
    json_t *j;
    bool has_code = false, has_patient = false, has_value = false,
         has_date = false;

    if (dir == NULL) {
        printf("  (skipped: node_modules/hl7.fhir.r4.examples not found)\n");
        return;
    }
    snprintf(file, sizeof file, "%s/Observation-example.json", dir);
    j = json_load_file(file, 0, &je);
    CHECK(j != NULL);
    CHECK_EQ_INT(cr_fhir_index(j, collect, &rows, NULL), CR_OK);
    for (size_t i = 0; i < rows.n; i++) {
        const char *l = rows.line[i];
        has_code |= strcmp(l, "token code http://loinc.org|29463-7 "
                              "text=body weight") == 0;
        has_patient |= strcmp(l, "reference patient Patient/example "
                                 "raw=Patient/example") == 0;
        has_value |= strcmp(l, "quantity value-quantity 185 [184.5,185.5) "
                               "http://unitsofmeasure.org|[lb_av]") == 0;
        has_date |= strcmp(l, "date date 2016-03-28T00:00:00.000Z.."
                              "2016-03-28T23:59:59.999Z") == 0;
    }
    if (!(has_code && has_patient && has_value && has_date)) {
        for (size_t i = 0; i < rows.n; i++)
            fprintf(stderr, "    %s\n", rows.line[i]);
    }
    CHECK(has_code);
    CHECK(has_patient);
    CHECK(has_value);
    CHECK(has_date);
    rows_free(&rows);
    json_decref(j);
}
