/* test_mpi.c: the patient index: string similarity (Jaro-Winkler and
 * Soundex against published values), demographics taken from Patients,
 * field levels, Fellegi-Sunter weights and grades with the default and a
 * configured table, blocking keys, and the index in a real store: links,
 * the review list, reviewers' decisions, and a merge that moves a
 * record's index and an unmerge that puts it back. */
#include "unit.h"

#include "core/clock.h"
#include "fhir/fhir.h"
#include "fhir/search.h"
#include "mpi/mpi.h"
#include "store/store.h"

#include <jansson.h>
#include <math.h>

#define NEAR(a, b) (fabs((a) - (b)) < 0.0005)
#define NHS_SYSTEM "https://fhir.nhs.uk/Id/nhs-number"

/* ---- similarity ------------------------------------------------------- */

TEST(jaro_winkler_known_values)
{
    /* Winkler's examples, as every implementation reproduces them */
    CHECK(NEAR(cr_mpi_jaro_winkler("MARTHA", "MARHTA"), 0.9611));
    CHECK(NEAR(cr_mpi_jaro_winkler("DWAYNE", "DUANE"), 0.8400));
    CHECK(NEAR(cr_mpi_jaro_winkler("DIXON", "DICKSONX"), 0.8133));
    /* plain Jaro below 0.7: no prefix bonus */
    CHECK(NEAR(cr_mpi_jaro_winkler("abc", "xbz"), (1.0 / 3 + 1.0 / 3 + 1) /
                                                      3));
    CHECK(cr_mpi_jaro_winkler("johnson", "johnson") == 1.0);
    CHECK(cr_mpi_jaro_winkler("abc", "xyz") == 0.0);
    CHECK(cr_mpi_jaro_winkler("", "") == 1.0);
    CHECK(cr_mpi_jaro_winkler("abc", "") == 0.0);
    CHECK(cr_mpi_jaro_winkler(NULL, "abc") == 0.0);
    /* symmetric */
    CHECK(cr_mpi_jaro_winkler("smith", "smyth") ==
          cr_mpi_jaro_winkler("smyth", "smith"));
    /* a transposition costs less than a different letter */
    CHECK(cr_mpi_jaro_winkler("johnson", "jonhson") >
          cr_mpi_jaro_winkler("johnson", "jobnson") - 0.05);
    CHECK(cr_mpi_jaro_winkler("johnson", "jonhson") > 0.92);
}

TEST(soundex_known_values)
{
    static const char *const cases[][2] = {
        { "Robert", "R163" },   { "Rupert", "R163" },
        { "Rubin", "R150" },    { "Ashcraft", "A261" },
        { "Ashcroft", "A261" }, { "Tymczak", "T522" },
        { "Pfister", "P236" },  { "Honeyman", "H555" },
        { "Jackson", "J250" },  { "O'Brien", "O165" },
        { "lee", "L000" },      { "Washington", "W252" },
    };
    char out[5];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_mpi_soundex(cases[i][0], out);
        CHECK_EQ_STR(out, cases[i][1]);
    }
    cr_mpi_soundex("1234 -", out);
    CHECK_EQ_STR(out, "");
    cr_mpi_soundex(NULL, out);
    CHECK_EQ_STR(out, "");
}

/* ---- demographics ------------------------------------------------------ */

static json_t *
parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);

    if (j == NULL)
        cr_unit_fail(__FILE__, __LINE__, "bad test JSON: %s", e.text);
    return j;
}

TEST(demographics_from_a_patient)
{
    json_t *p = parse(
        "{\"resourceType\":\"Patient\",\"identifier\":["
        "{\"system\":\"urn:hosp\",\"value\":\"H1\"},"
        "{\"system\":\"" NHS_SYSTEM "\",\"value\":\"9000000009\"}],"
        "\"name\":[{\"use\":\"old\",\"family\":\"Maiden\",\"given\":[\"X\"]},"
        "{\"use\":\"official\",\"family\":\"O'Br\\u00e9n-Smith\","
        "\"given\":[\"Ann Marie\",\"Jo\"]}],"
        "\"gender\":\"female\",\"birthDate\":\"1970-03-04\","
        "\"address\":[{\"use\":\"old\",\"postalCode\":\"N1 1AA\"},"
        "{\"use\":\"home\",\"postalCode\":\"e8 1aa\"}]}");
    struct cr_mpi_demo d, back;
    char text[CR_MPI_DEMO_TEXT];

    cr_mpi_demo_from_patient(p, &d);
    CHECK_EQ_STR(d.nhs, "9000000009");
    CHECK_EQ_STR(d.family, "obrensmith");
    CHECK_EQ_STR(d.given, "annmarie");
    CHECK_EQ_INT(d.birth_y, 1970);
    CHECK_EQ_INT(d.birth_m, 3);
    CHECK_EQ_INT(d.birth_d, 4);
    CHECK_EQ_INT(d.sex, 'f');
    CHECK_EQ_STR(d.postcode, "E81AA");
    /* the compact text goes round */
    cr_mpi_demo_encode(&d, text);
    CHECK_EQ_STR(text, "9000000009|obrensmith|annmarie|1970-03-04|f|E81AA");
    cr_mpi_demo_decode(text, &back);
    CHECK(memcmp(&d, &back, sizeof d) == 0);
    json_decref(p);

    /* a bad NHS number, unknown gender, partial date, no address */
    p = parse("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\""
              NHS_SYSTEM "\",\"value\":\"9000000001\"}],\"gender\":"
              "\"unknown\",\"birthDate\":\"1980-07\",\"name\":[{\"family\":"
              "\"Lee\"}]}");
    cr_mpi_demo_from_patient(p, &d);
    CHECK_EQ_STR(d.nhs, "");
    CHECK_EQ_INT(d.sex, 0);
    CHECK_EQ_INT(d.birth_y, 1980);
    CHECK_EQ_INT(d.birth_m, 7);
    CHECK_EQ_INT(d.birth_d, 0);
    CHECK_EQ_STR(d.given, "");
    CHECK_EQ_STR(d.postcode, "");
    cr_mpi_demo_encode(&d, text);
    cr_mpi_demo_decode(text, &back);
    CHECK(memcmp(&d, &back, sizeof d) == 0);
    json_decref(p);
    /* garbage decodes to an empty record, not a crash */
    cr_mpi_demo_decode("||||", &back);
    CHECK_EQ_INT(back.birth_y, 0);
    cr_mpi_demo_decode(NULL, &back);
    CHECK_EQ_STR(back.family, "");
}

/* A record from fields, for the comparisons below. */
static struct cr_mpi_demo
demo(const char *nhs, const char *family, const char *given, int y, int m,
     int d, char sex, const char *pc)
{
    struct cr_mpi_demo r;

    memset(&r, 0, sizeof r);
    snprintf(r.nhs, sizeof r.nhs, "%s", nhs);
    snprintf(r.family, sizeof r.family, "%s", family);
    snprintf(r.given, sizeof r.given, "%s", given);
    r.birth_y = y;
    r.birth_m = m;
    r.birth_d = d;
    r.sex = sex;
    snprintf(r.postcode, sizeof r.postcode, "%s", pc);
    return r;
}

TEST(field_levels)
{
    struct cr_mpi_config c;
    struct cr_mpi_demo a = demo("", "johnson", "margaret", 1970, 3, 4, 'f',
                                "E81AA");
    struct cr_mpi_demo b;

    cr_mpi_config_default(&c);
#define LEVEL(f) cr_mpi_compare_field(&c, f, &a, &b)
    b = a;
    CHECK_EQ_INT(LEVEL(CR_MPI_FAMILY), CR_MPI_EXACT);
    CHECK_EQ_INT(LEVEL(CR_MPI_BIRTH), CR_MPI_EXACT);
    CHECK_EQ_INT(LEVEL(CR_MPI_SEX), CR_MPI_EXACT);
    CHECK_EQ_INT(LEVEL(CR_MPI_POSTCODE), CR_MPI_EXACT);
    snprintf(b.family, sizeof b.family, "jonhson");
    CHECK_EQ_INT(LEVEL(CR_MPI_FAMILY), CR_MPI_CLOSE);
    snprintf(b.family, sizeof b.family, "jonsen");
    CHECK_EQ_INT(LEVEL(CR_MPI_FAMILY), CR_MPI_SIMILAR);
    snprintf(b.family, sizeof b.family, "patel");
    CHECK_EQ_INT(LEVEL(CR_MPI_FAMILY), CR_MPI_DIFFERENT);
    b.family[0] = '\0';
    CHECK_EQ_INT(LEVEL(CR_MPI_FAMILY), CR_MPI_MISSING);
    snprintf(b.given, sizeof b.given, "m");
    CHECK_EQ_INT(LEVEL(CR_MPI_GIVEN), CR_MPI_SIMILAR);   /* an initial */
    /* dates: transposed, one digit, partial, different */
    b = a;
    b.birth_m = 4;
    b.birth_d = 3;
    CHECK_EQ_INT(LEVEL(CR_MPI_BIRTH), CR_MPI_CLOSE);
    b = a;
    b.birth_y = 1971;
    CHECK_EQ_INT(LEVEL(CR_MPI_BIRTH), CR_MPI_SIMILAR);
    b.birth_y = 1907;        /* two digits */
    CHECK_EQ_INT(LEVEL(CR_MPI_BIRTH), CR_MPI_DIFFERENT);
    b = a;
    b.birth_d = 0;
    CHECK_EQ_INT(LEVEL(CR_MPI_BIRTH), CR_MPI_SIMILAR);
    b.birth_m = 5;
    CHECK_EQ_INT(LEVEL(CR_MPI_BIRTH), CR_MPI_DIFFERENT);
    b.birth_y = 0;
    CHECK_EQ_INT(LEVEL(CR_MPI_BIRTH), CR_MPI_MISSING);
    /* postcodes: one character, two swapped, the district, elsewhere */
    b = a;
    snprintf(b.postcode, sizeof b.postcode, "E81AB");
    CHECK_EQ_INT(LEVEL(CR_MPI_POSTCODE), CR_MPI_CLOSE);
    snprintf(b.postcode, sizeof b.postcode, "E8A1A");
    CHECK_EQ_INT(LEVEL(CR_MPI_POSTCODE), CR_MPI_CLOSE);
    snprintf(b.postcode, sizeof b.postcode, "E83QT");
    CHECK_EQ_INT(LEVEL(CR_MPI_POSTCODE), CR_MPI_SIMILAR);
    snprintf(b.postcode, sizeof b.postcode, "SW1A2AA");
    CHECK_EQ_INT(LEVEL(CR_MPI_POSTCODE), CR_MPI_DIFFERENT);
    /* sex */
    b = a;
    b.sex = 'm';
    CHECK_EQ_INT(LEVEL(CR_MPI_SEX), CR_MPI_DIFFERENT);
    b.sex = 0;
    CHECK_EQ_INT(LEVEL(CR_MPI_SEX), CR_MPI_MISSING);
#undef LEVEL
}

TEST(weights_are_log2_m_over_u)
{
    struct cr_mpi_config c;
    double full = 0;
    int f;

    cr_mpi_config_default(&c);
    CHECK(NEAR(cr_mpi_level_weight(&c, CR_MPI_BIRTH, CR_MPI_EXACT),
               log2(0.94 / 0.00005)));
    CHECK(NEAR(cr_mpi_level_weight(&c, CR_MPI_FAMILY, CR_MPI_DIFFERENT),
               log2(0.03 / 0.973)));
    CHECK(cr_mpi_level_weight(&c, CR_MPI_SEX, CR_MPI_CLOSE) == 0.0);
    CHECK(cr_mpi_level_weight(&c, CR_MPI_POSTCODE, CR_MPI_MISSING) == 0.0);
    for (f = 0; f < CR_MPI_NFIELDS; f++) {
        double exact = cr_mpi_level_weight(&c, f, CR_MPI_EXACT);
        double diff = cr_mpi_level_weight(&c, f, CR_MPI_DIFFERENT);
        CHECK(exact > 0 && diff < 0);   /* agreement is evidence for */
        full += exact;
    }
    CHECK(NEAR(cr_mpi_full_weight(&c), full));
}

TEST(grades_and_thresholds)
{
    struct cr_mpi_config c;
    struct cr_mpi_demo a = demo("", "johnson", "margaret", 1970, 3, 4, 'f',
                                "E81AA");
    struct cr_mpi_demo b;
    struct cr_mpi_score s;

    cr_mpi_config_default(&c);
    /* the same record: certain, score 1, weight is the full weight */
    cr_mpi_compare(&c, &a, &a, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_CERTAIN);
    CHECK(NEAR(s.weight, cr_mpi_full_weight(&c)));
    CHECK(NEAR(s.score, 1.0));
    /* one slip, the others exact: still certain (a link) */
    b = a;
    snprintf(b.family, sizeof b.family, "jonhson");
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.level[CR_MPI_FAMILY], CR_MPI_CLOSE);
    CHECK_EQ_INT(s.grade, CR_MPI_CERTAIN);
    snprintf(b.family, sizeof b.family, "jonsen");
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.level[CR_MPI_FAMILY], CR_MPI_SIMILAR);
    CHECK_EQ_INT(s.grade, CR_MPI_CERTAIN);
    b = a;
    b.birth_m = 4;
    b.birth_d = 3;
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_CERTAIN);
    /* two slips: probable (the review list), not a link */
    snprintf(b.family, sizeof b.family, "jonsen");
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_PROBABLE);
    CHECK(s.score < 1.0 && s.score > 0.5);
    /* moved within the district: probable */
    b = a;
    snprintf(b.postcode, sizeof b.postcode, "E83QT");
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_PROBABLE);
    /* same-sex twins (another given name): probable, never linked */
    b = a;
    snprintf(b.given, sizeof b.given, "elizabeth");
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_PROBABLE);
    /* no postcode and no sex: name and date alone are possible at best */
    b = a;
    b.postcode[0] = '\0';
    b.sex = 0;
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK(s.grade == CR_MPI_PROBABLE);
    CHECK(NEAR(s.weight, cr_mpi_level_weight(&c, CR_MPI_FAMILY, 0) +
                             cr_mpi_level_weight(&c, CR_MPI_GIVEN, 0) +
                             cr_mpi_level_weight(&c, CR_MPI_BIRTH, 0)));
    /* a household member: same family and postcode, nothing else */
    b = demo("", "johnson", "peter", 1968, 11, 23, 'm', "E81AA");
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_NONE);
    CHECK(s.score < 0.3);
    /* a different person */
    b = demo("", "patel", "ravi", 1991, 6, 12, 'm', "SW1A2AA");
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_NONE);
    CHECK(s.score == 0.0);
    /* NHS numbers decide whatever the demographics say */
    a = demo("9000000009", "johnson", "margaret", 1970, 3, 4, 'f', "E81AA");
    b = demo("9000000009", "patel", "ravi", 1991, 6, 12, 'm', "SW1A2AA");
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_CERTAIN);
    CHECK(s.score == 1.0);
    CHECK(s.weight < 0);
    b = a;
    snprintf(b.nhs, sizeof b.nhs, "9476719931");
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_CERTAINLY_NOT);
    CHECK(s.score == 0.0);
    CHECK_EQ_STR(cr_mpi_grade_code(CR_MPI_CERTAINLY_NOT), "certainly-not");
    CHECK(cr_mpi_grade_code(CR_MPI_NONE) == NULL);

    /* the thresholds decide the grade: raise the upper one and one slip
     * no longer links */
    a.nhs[0] = '\0';
    b = a;
    snprintf(b.family, sizeof b.family, "jonsen");
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_CERTAIN);
    c.upper = 38;
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_PROBABLE);
    c.upper = c.probable = c.lower = 100;
    cr_mpi_compare(&c, &a, &b, &s);
    CHECK_EQ_INT(s.grade, CR_MPI_NONE);
}

TEST(configuration)
{
    struct cr_mpi_config c, d;
    struct cr_err err;
    json_t *j;

    cr_mpi_config_default(&d);
    CHECK_EQ_INT(cr_mpi_config_load(NULL, &c, NULL), CR_OK);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    j = parse("{\"upper\": 40, \"lower\": 15.5, \"max_block\": 50,"
              "\"fields\": {\"birth_date\": {\"exact\": {\"u\": 0.001}},"
              "\"sex\": {\"different\": {\"m\": 0.05, \"u\": 0.5}}}}");
    CHECK_EQ_INT(cr_mpi_config_load(j, &c, NULL), CR_OK);
    CHECK(c.upper == 40 && c.lower == 15.5 && c.probable == d.probable);
    CHECK_EQ_INT(c.max_block, 50);
    CHECK(c.mu[CR_MPI_BIRTH][CR_MPI_EXACT].u == 0.001);
    CHECK(c.mu[CR_MPI_BIRTH][CR_MPI_EXACT].m == 0.94);
    CHECK(NEAR(cr_mpi_level_weight(&c, CR_MPI_SEX, CR_MPI_DIFFERENT),
               log2(0.1)));
    json_decref(j);
    {
        static const char *const bad[][2] = {
            { "{\"uper\": 3}", "mpi.uper" },
            { "{\"fields\": {\"nhs\": {}}}", "mpi.fields.nhs" },
            { "{\"fields\": {\"sex\": {\"close\": {\"m\": 0.1}}}}",
              "mpi.fields.sex.close" },
            { "{\"fields\": {\"given\": {\"exact\": {\"m\": 1}}}}",
              "mpi.fields.given.exact.m" },
            { "{\"fields\": {\"given\": {\"exact\": {\"q\": 0.1}}}}",
              "mpi.fields.given.exact.q" },
            { "{\"lower\": 30, \"probable\": 25}", "mpi" },
            { "{\"name_close\": 1.5}", "mpi.name_close" },
            { "{\"max_block\": 0}", "mpi.max_block" },
            { "[]", "mpi" },
        };
        size_t i;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            j = parse(bad[i][0]);
            cr_err_clear(&err);
            CHECK_EQ_INT(cr_mpi_config_load(j, &c, &err), CR_EINVAL);
            CHECK_EQ_STR(err.where, bad[i][1]);
            json_decref(j);
        }
    }
}

/* How many blocking keys two records share. */
static int
shared_keys(const struct cr_mpi_demo *a, const struct cr_mpi_demo *b)
{
    char ka[CR_MPI_MAX_KEYS][CR_MPI_KEY_LEN];
    char kb[CR_MPI_MAX_KEYS][CR_MPI_KEY_LEN];
    size_t na = cr_mpi_block_keys(a, ka), nb = cr_mpi_block_keys(b, kb);
    size_t i, k;
    int n = 0;

    for (i = 0; i < na; i++)
        for (k = 0; k < nb; k++)
            n += strcmp(ka[i], kb[k]) == 0;
    return n;
}

TEST(blocking_keys)
{
    struct cr_mpi_demo a = demo("", "johnson", "margaret", 1970, 3, 4, 'f',
                                "E81AA");
    struct cr_mpi_demo b;
    char ka[CR_MPI_MAX_KEYS][CR_MPI_KEY_LEN];

    CHECK_EQ_INT(cr_mpi_block_keys(&a, ka), 4);
    CHECK_EQ_STR(ka[0], "b:19700304");
    CHECK_EQ_STR(ka[1], "fy:J5251970");
    CHECK_EQ_STR(ka[2], "pg:E81AAm");
    CHECK_EQ_STR(ka[3], "fg:J525M626");
    /* one field wrong in any way still shares a key */
    b = a;
    snprintf(b.family, sizeof b.family, "smith");
    CHECK(shared_keys(&a, &b) > 0);
    b = a;
    b.birth_m = 4;
    b.birth_d = 3;
    CHECK(shared_keys(&a, &b) > 0);
    b = a;
    b.birth_y = 0;
    b.postcode[0] = '\0';
    CHECK(shared_keys(&a, &b) > 0);
    /* someone else shares none, so is never compared */
    b = demo("", "patel", "ravi", 1991, 6, 12, 'm', "SW1A2AA");
    CHECK_EQ_INT(shared_keys(&a, &b), 0);
    /* lookups leave out the names-only key when the record has a date of
     * birth and a postcode, and keep it when it lacks one */
    CHECK_EQ_INT(cr_mpi_query_keys(&a, ka), 3);
    CHECK_EQ_STR(ka[2], "pg:E81AAm");
    b = a;
    b.postcode[0] = '\0';
    CHECK_EQ_INT(cr_mpi_query_keys(&b, ka), 3);
    CHECK_EQ_STR(ka[2], "fg:J525M626");
    /* nothing known, nothing to block on */
    memset(&b, 0, sizeof b);
    CHECK_EQ_INT(cr_mpi_block_keys(&b, ka), 0);
    CHECK_EQ_INT(cr_mpi_query_keys(&b, ka), 0);
}

/* ---- the index in a store ---------------------------------------------- */

static struct cr_store *
open_store(void)
{
    struct cr_store *s = NULL;
    struct cr_err err;
    struct cr_store_opts o = { "test", 0, false };

    cr_err_clear(&err);
    if (cr_store_open(cr_unit_tmpdir(), &o, &s, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "open: %s", err.msg);
    return s;
}

struct write {
    struct cr_mpi *m;
    const char *id;
    const char *json;       /* NULL: delete */
    const char *type;       /* also store the resource (NULL: only index) */
    bool is_decision;
    const char *a, *b;
    bool is_same;
};

/* The index rows the API would make: search parameters and
 * compartments (strings copied, freed by rows_free). */
struct rowbuf {
    struct cr_fhir_index_row v[64];
    size_t n;
};

static char *
dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int
add_row(void *ctx, const struct cr_fhir_index_row *row)
{
    struct rowbuf *b = ctx;
    struct cr_fhir_index_row *r;

    if (b->n == 64)
        return 1;
    r = &b->v[b->n++];
    *r = *row;
    r->param = dup(row->param);
    r->system = dup(row->system);
    r->code = dup(row->code);
    r->text = dup(row->text);
    r->raw = dup(row->raw);
    r->ref_type = dup(row->ref_type);
    r->ref_id = dup(row->ref_id);
    return 0;
}

static void
add_compartment(void *ctx, const char *id, size_t len)
{
    struct cr_fhir_index_row row;
    char buf[65];

    snprintf(buf, sizeof buf, "%.*s", (int)len, id);
    memset(&row, 0, sizeof row);
    row.kind = CR_SP_REFERENCE;
    row.param = CR_STORE_COMPARTMENT_PARAM;
    row.ref_type = "Patient";
    row.ref_id = buf;
    add_row(ctx, &row);
}

static void
rows_of(const json_t *root, struct cr_store_put *put)
{
    struct rowbuf *b = calloc(1, sizeof *b);

    if (root) {
        cr_fhir_index(root, add_row, b, NULL);
        cr_fhir_compartment_patients(root, add_compartment, b);
    }
    put->rows = b->v;
    put->nrows = b->n;
}

static void
rows_free(struct cr_store_put *put)
{
    struct rowbuf *b = (struct rowbuf *)(void *)put->rows;
    size_t i;

    for (i = 0; i < b->n; i++) {
        free((char *)b->v[i].param);
        free((char *)b->v[i].system);
        free((char *)b->v[i].code);
        free((char *)b->v[i].text);
        free((char *)b->v[i].raw);
        free((char *)b->v[i].ref_type);
        free((char *)b->v[i].ref_id);
    }
    free(b);
}

static cr_rc
write_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err)
{
    struct write *w = ctx;
    json_t *root = NULL;
    cr_rc rc = CR_OK;

    if (w->is_decision)
        return cr_mpi_txn_decide(w->m, txn, w->a, w->b, w->is_same,
                                 cr_clock_now_ms(), err);
    if (w->json)
        root = parse(w->json);
    if (w->type) {
        struct cr_store_meta cur;
        struct cr_store_put put;
        char patient[65];
        rc = cr_store_txn_current(txn, w->type, w->id, &cur, err);
        memset(&put, 0, sizeof put);
        put.type = w->type;
        put.id = w->id;
        put.version = rc == CR_OK ? cur.version + 1 : 1;
        put.last_updated_ms = cr_clock_now_ms();
        put.json = w->json;
        put.len = w->json ? strlen(w->json) : 0;
        put.is_delete = w->json == NULL;
        put.org = "X1";
        if (cr_fhir_compartment_patient(root, patient, sizeof patient) ==
            CR_OK)
            put.patient = patient;
        rows_of(root, &put);
        rc = cr_store_txn_put(txn, &put, err);
        rows_free(&put);
    }
    if (rc == CR_OK && (w->type == NULL || strcmp(w->type, "Patient") == 0))
        rc = cr_mpi_txn_patient(w->m, txn, w->id, root, cr_clock_now_ms(),
                                err);
    json_decref(root);
    return rc;
}

static cr_rc
index_patient(struct cr_store *s, struct cr_mpi *m, const char *id,
              const char *json, struct cr_err *err)
{
    struct write w = { m, id, json, "Patient", false, NULL, NULL, false };

    cr_err_clear(err);
    return cr_store_write(s, write_txn, &w, err);
}

static cr_rc
decide(struct cr_store *s, struct cr_mpi *m, const char *a, const char *b,
       bool is_same)
{
    struct write w = { m, NULL, NULL, NULL, true, a, b, is_same };
    struct cr_err err;

    cr_err_clear(&err);
    return cr_store_write(s, write_txn, &w, &err);
}

static char person_buf[128];

static cr_rc
keep_person(void *ctx, const struct cr_store_mpi_row *row)
{
    (void)ctx;
    snprintf(person_buf, sizeof person_buf, "%s", row->person);
    return CR_OK;
}

static const char *
person_of(struct cr_store *s, const char *id)
{
    struct cr_err err;

    person_buf[0] = '\0';
    cr_err_clear(&err);
    if (cr_store_mpi_get(s, id, keep_person, NULL, &err) != CR_OK)
        return "";
    return person_buf;
}

struct pairs {
    int n;
    char text[512];
};

static cr_rc
keep_pair(void *ctx, const char *a, const char *b, double weight,
          int64_t since)
{
    struct pairs *p = ctx;
    size_t len = strlen(p->text);

    (void)weight;
    (void)since;
    p->n++;
    snprintf(p->text + len, sizeof p->text - len, "%s%s+%s",
             len ? "," : "", a, b);
    return CR_OK;
}

static struct pairs
review(struct cr_store *s)
{
    struct pairs p;
    struct cr_err err;
    int64_t total = -1;

    memset(&p, 0, sizeof p);
    cr_err_clear(&err);
    if (cr_store_mpi_review(s, NULL, NULL, 100, keep_pair, &p, &total,
                            &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "review: %s", err.msg);
    if (total != p.n)
        cr_unit_fail(__FILE__, __LINE__, "total %lld != %d",
                     (long long)total, p.n);
    return p;
}

#define PAT(nhs, family, given, dob, sex, pc)                              \
    "{\"resourceType\":\"Patient\"" nhs ",\"name\":[{\"family\":\"" family \
    "\",\"given\":[\"" given "\"]}],\"birthDate\":\"" dob "\",\"gender\":" \
    "\"" sex "\",\"address\":[{\"postalCode\":\"" pc "\"}]}"
#define NHS(n) ",\"identifier\":[{\"system\":\"" NHS_SYSTEM "\",\"value\":\"" n "\"}]"
#define LOCAL(v) ",\"identifier\":[{\"system\":\"urn:hosp\",\"value\":\"" v "\"}]"

TEST(index_links_reviews_and_separates)
{
    struct cr_store *s = open_store();
    struct cr_mpi *m = NULL;
    struct cr_err err;
    struct pairs p;

    cr_err_clear(&err);
    CHECK_EQ_INT(cr_mpi_create(s, NULL, &m, &err), CR_OK);
    /* a GP record with an NHS number */
    CHECK_EQ_INT(index_patient(s, m, "gp1", PAT(NHS("9000000009"), "Johnson",
                                                "Margaret", "1970-03-04",
                                                "female", "E8 1AA"), &err),
                 CR_OK);
    CHECK_EQ_STR(person_of(s, "gp1"), "nhs|9000000009");
    /* a hospital record, same demographics, no NHS number: linked */
    CHECK_EQ_INT(index_patient(s, m, "h1", PAT(LOCAL("H1"), "JOHNSON",
                                               "Margaret", "1970-03-04",
                                               "female", "e81aa"), &err),
                 CR_OK);
    CHECK_EQ_STR(person_of(s, "h1"), "nhs|9000000009");
    /* a typo and a transposed date: the review list, not a link */
    CHECK_EQ_INT(index_patient(s, m, "h2", PAT(LOCAL("H2"), "Jonsen",
                                               "Margaret", "1970-04-03",
                                               "female", "E8 1AA"), &err),
                 CR_OK);
    CHECK_EQ_STR(person_of(s, "h2"), "rec|h2");
    p = review(s);
    CHECK_EQ_INT(p.n, 2);      /* with gp1 and with h1 */
    CHECK_EQ_STR(p.text, "gp1+h2,h1+h2");
    /* someone else entirely: separate, nothing to review */
    CHECK_EQ_INT(index_patient(s, m, "x1", PAT(LOCAL("X1"), "Patel", "Ravi",
                                               "1991-06-12", "male",
                                               "SW1A 2AA"), &err),
                 CR_OK);
    CHECK_EQ_STR(person_of(s, "x1"), "rec|x1");
    CHECK_EQ_INT(review(s).n, 2);

    /* $match: certain by NHS number first, then the others */
    {
        struct cr_mpi_candidate c[8];
        struct cr_mpi_demo q = demo("9000000009", "johnson", "margaret", 1970,
                                    3, 4, 'f', "E81AA");
        size_t n = 0;
        CHECK_EQ_INT(cr_mpi_match(m, &q, c, 8, &n, &err), CR_OK);
        CHECK_EQ_INT(n, 3);
        CHECK_EQ_STR(c[0].id, "gp1");
        CHECK(c[0].score.score == 1.0);
        CHECK_EQ_STR(c[1].id, "h1");
        CHECK_EQ_INT(c[1].score.grade, CR_MPI_CERTAIN);
        CHECK_EQ_STR(c[2].id, "h2");
        CHECK_EQ_INT(c[2].score.grade, CR_MPI_PROBABLE);
        CHECK_EQ_INT(cr_mpi_match(m, &q, c, 1, &n, &err), CR_OK);
        CHECK_EQ_INT(n, 1);
        q = demo("", "patel", "ravi", 1991, 6, 12, 'm', "SW1A2AA");
        CHECK_EQ_INT(cr_mpi_match(m, &q, c, 8, &n, &err), CR_OK);
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_STR(c[0].id, "x1");
    }

    /* the reviewer: h2 is the same person as gp1 */
    CHECK_EQ_INT(decide(s, m, "h2", "gp1", true), CR_OK);
    CHECK_EQ_STR(person_of(s, "h2"), "nhs|9000000009");
    p = review(s);
    CHECK_EQ_INT(p.n, 1);      /* h1+h2 is still open */
    CHECK_EQ_STR(p.text, "h1+h2");
    /* writing h2 again keeps the decision */
    CHECK_EQ_INT(index_patient(s, m, "h2", PAT(LOCAL("H2"), "Jonsen",
                                               "Margaret", "1970-04-03",
                                               "female", "E8 1AA"), &err),
                 CR_OK);
    CHECK_EQ_STR(person_of(s, "h2"), "nhs|9000000009");
    CHECK_EQ_INT(review(s).n, 0);   /* h1 is now the same person too */
    /* two NHS numbers are never the same person */
    CHECK_EQ_INT(index_patient(s, m, "gp2", PAT(NHS("9476719931"), "Johnson",
                                                "Margaret", "1970-03-04",
                                                "female", "E8 1AA"), &err),
                 CR_OK);
    CHECK_EQ_INT(decide(s, m, "gp1", "gp2", true), CR_ECONFLICT);
    CHECK_EQ_STR(person_of(s, "gp2"), "nhs|9476719931");
    /* "different people" undoes an automatic link and sticks: h1 is
     * looked at again and now links to the record it matches exactly */
    CHECK_EQ_INT(decide(s, m, "h1", "gp1", false), CR_OK);
    CHECK_EQ_STR(person_of(s, "gp1"), "nhs|9000000009");
    CHECK_EQ_STR(person_of(s, "h1"), "nhs|9476719931");
    /* a deleted record leaves the index */
    CHECK_EQ_INT(index_patient(s, m, "x1", NULL, &err), CR_OK);
    CHECK_EQ_STR(person_of(s, "x1"), "");
    cr_mpi_destroy(m);
    cr_store_close(s);
}

TEST(a_record_with_a_number_draws_in_earlier_ones)
{
    struct cr_store *s = open_store();
    struct cr_mpi *m = NULL;
    struct cr_err err;

    cr_err_clear(&err);
    CHECK_EQ_INT(cr_mpi_create(s, NULL, &m, &err), CR_OK);
    /* two hospital records first, linked to each other */
    CHECK_EQ_INT(index_patient(s, m, "a", PAT(LOCAL("A"), "Okafor", "Chidi",
                                              "1985-12-01", "male",
                                              "SE15 4QT"), &err), CR_OK);
    CHECK_EQ_INT(index_patient(s, m, "b", PAT(LOCAL("B"), "Okafor", "Chidi",
                                              "1985-12-01", "male",
                                              "SE15 4QT"), &err), CR_OK);
    CHECK_EQ_STR(person_of(s, "b"), "rec|a");
    /* then the GP record with the NHS number: both join its person */
    CHECK_EQ_INT(index_patient(s, m, "gp", PAT(NHS("9912003888"), "Okafor",
                                               "Chidi", "1985-12-01", "male",
                                               "SE15 4QT"), &err), CR_OK);
    CHECK_EQ_STR(person_of(s, "a"), "nhs|9912003888");
    CHECK_EQ_STR(person_of(s, "b"), "nhs|9912003888");
    /* rebuilding from nothing gives the same people */
    {
        int64_t rows = 0, patients = 0;
        CHECK_EQ_INT(cr_store_mpi_counts(s, &rows, &patients, &err), CR_OK);
        CHECK_EQ_INT(rows, 3);
        CHECK_EQ_INT(patients, 3);
        CHECK_EQ_INT(cr_mpi_rebuild(m, NULL, NULL, &err), CR_OK);
        CHECK_EQ_INT(cr_store_mpi_counts(s, &rows, &patients, &err), CR_OK);
        CHECK_EQ_INT(rows, 3);
        CHECK_EQ_STR(person_of(s, "a"), "nhs|9912003888");
        CHECK_EQ_STR(person_of(s, "b"), "nhs|9912003888");
    }
    cr_mpi_destroy(m);
    cr_store_close(s);
}

/* A Patient and an Observation stored with their index rows as the API
 * makes them (the store re-derives them from the bytes on a merge). */
static void
store_resource(struct cr_store *s, struct cr_mpi *m, const char *type,
               const char *id, const char *json)
{
    struct write w = { m, id, json, type, false, NULL, NULL, false };
    struct cr_err err;

    cr_err_clear(&err);
    if (cr_store_write(s, write_txn, &w, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "write %s/%s: %s", type, id,
                     err.msg);
}

struct seen {
    char ids[16][80];
    int n;
};

static cr_rc
keep_row(void *ctx, const char *type, const char *id,
         const struct cr_store_meta *meta, const char *json, size_t len)
{
    struct seen *s = ctx;

    (void)meta;
    (void)json;
    (void)len;
    if (s->n < 16)
        snprintf(s->ids[s->n++], sizeof s->ids[0], "%s/%s", type, id);
    return CR_OK;
}

static bool
has(const struct seen *s, const char *ref)
{
    int i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], ref) == 0)
            return true;
    return false;
}

static struct seen
everything(struct cr_store *s, const char *patient)
{
    struct cr_store_everything q;
    struct seen seen;
    struct cr_err err;
    char next[CR_STORE_CURSOR_MAX];

    memset(&q, 0, sizeof q);
    memset(&seen, 0, sizeof seen);
    q.patient_id = patient;
    q.start_ms = INT64_MIN;
    q.end_ms = INT64_MAX;
    q.count = 100;
    cr_err_clear(&err);
    if (cr_store_everything(s, &q, keep_row, &seen, next, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "everything: %s", err.msg);
    return seen;
}

static const char *
compartment_of(struct cr_store *s, const char *type, const char *id)
{
    static struct cr_store_meta m;
    struct cr_err err;

    cr_err_clear(&err);
    if (cr_store_read(s, type, id, NULL, &m, &err) != CR_OK)
        return "?";
    return m.patient;
}

TEST(merge_moves_the_index_and_unmerge_restores_it)
{
    struct cr_store *s = open_store();
    struct cr_mpi *m = NULL;
    struct cr_err err;
    struct seen e;
    char out[65], src[4][65];
    size_t n;

    cr_err_clear(&err);
    CHECK_EQ_INT(cr_mpi_create(s, NULL, &m, &err), CR_OK);
    store_resource(s, m, "Patient", "A",
                   "{\"resourceType\":\"Patient\",\"id\":\"A\"}");
    store_resource(s, m, "Patient", "B",
                   "{\"resourceType\":\"Patient\",\"id\":\"B\"}");
    store_resource(s, m, "Observation", "oB",
                   "{\"resourceType\":\"Observation\",\"id\":\"oB\","
                   "\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                   "\"subject\":{\"reference\":\"Patient/B\"}}");
    CHECK_EQ_STR(compartment_of(s, "Observation", "oB"), "B");
    e = everything(s, "A");
    CHECK_EQ_INT(e.n, 1);
    CHECK(!has(&e, "Observation/oB"));

    /* B is replaced by A */
    store_resource(s, m, "Patient", "B",
                   "{\"resourceType\":\"Patient\",\"id\":\"B\",\"link\":[{"
                   "\"other\":{\"reference\":\"Patient/A\"},\"type\":"
                   "\"replaced-by\"}]}");
    CHECK_EQ_STR(compartment_of(s, "Observation", "oB"), "A");
    CHECK_EQ_STR(compartment_of(s, "Patient", "B"), "A");
    e = everything(s, "A");
    CHECK(has(&e, "Observation/oB"));
    CHECK(has(&e, "Patient/B"));
    CHECK_EQ_INT(everything(s, "B").n, 0);
    CHECK_EQ_INT(cr_store_alias_resolve(s, "Patient", "B", out, &err), CR_OK);
    CHECK_EQ_STR(out, "A");
    CHECK_EQ_INT(cr_store_alias_sources(s, "Patient", "A", src, 4, &n, &err),
                 CR_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(src[0], "B");
    /* the bytes are as written: the reference still says B */
    {
        struct cr_buf b = cr_buf_make(0);
        CHECK_EQ_INT(cr_store_read(s, "Observation", "oB", &b, NULL, &err),
                     CR_OK);
        CHECK(strstr(b.ptr, "Patient/B") != NULL);
        cr_buf_free(&b);
    }
    /* what is written about B later also lands with A */
    store_resource(s, m, "Observation", "oB2",
                   "{\"resourceType\":\"Observation\",\"id\":\"oB2\","
                   "\"status\":\"final\",\"code\":{\"text\":\"y\"},"
                   "\"subject\":{\"reference\":\"Patient/B\"}}");
    CHECK_EQ_STR(compartment_of(s, "Observation", "oB2"), "A");
    e = everything(s, "A");
    CHECK(has(&e, "Observation/oB2"));
    /* a cycle is refused, and changes nothing */
    {
        struct write w = { m, "A",
                           "{\"resourceType\":\"Patient\",\"id\":\"A\","
                           "\"link\":[{\"other\":{\"reference\":"
                           "\"Patient/B\"},\"type\":\"replaced-by\"}]}",
                           "Patient", false, NULL, NULL, false };
        cr_err_clear(&err);
        CHECK_EQ_INT(cr_store_write(s, write_txn, &w, &err), CR_EINVAL);
        CHECK(strstr(err.msg, "merged into") != NULL);
        CHECK_EQ_STR(compartment_of(s, "Patient", "A"), "A");
    }
    /* unmerge: B's own version without the link */
    store_resource(s, m, "Patient", "B",
                   "{\"resourceType\":\"Patient\",\"id\":\"B\"}");
    CHECK_EQ_STR(compartment_of(s, "Observation", "oB"), "B");
    CHECK_EQ_STR(compartment_of(s, "Observation", "oB2"), "B");
    CHECK_EQ_STR(compartment_of(s, "Patient", "B"), "B");
    e = everything(s, "A");
    CHECK_EQ_INT(e.n, 1);
    e = everything(s, "B");
    CHECK(has(&e, "Observation/oB") && has(&e, "Observation/oB2"));
    CHECK_EQ_INT(cr_store_alias_resolve(s, "Patient", "B", out, &err), CR_OK);
    CHECK_EQ_STR(out, "B");
    cr_mpi_destroy(m);
    cr_store_close(s);
}

TEST(replaced_by_links)
{
    char out[65];
    struct cr_err err;
    json_t *p;

    p = parse("{\"link\":[{\"other\":{\"reference\":\"Patient/x\"},"
              "\"type\":\"seealso\"},{\"other\":{\"reference\":"
              "\"https://h/fhir/Patient/abc\"},\"type\":\"replaced-by\"}]}");
    CHECK_EQ_INT(cr_mpi_replaced_by(p, out, &err), CR_OK);
    CHECK_EQ_STR(out, "abc");
    json_decref(p);
    p = parse("{\"link\":[{\"other\":{\"reference\":\"RelatedPerson/x\"},"
              "\"type\":\"replaced-by\"}]}");
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_mpi_replaced_by(p, out, &err), CR_EINVAL);
    CHECK_EQ_STR(err.where, "Patient.link[0].other");
    json_decref(p);
    p = parse("{\"link\":[{\"other\":{\"reference\":\"Patient/a\"},"
              "\"type\":\"replaced-by\"},{\"other\":{\"reference\":"
              "\"Patient/b\"},\"type\":\"replaced-by\"}]}");
    CHECK_EQ_INT(cr_mpi_replaced_by(p, out, &err), CR_EINVAL);
    json_decref(p);
    p = parse("{}");
    CHECK_EQ_INT(cr_mpi_replaced_by(p, out, &err), CR_OK);
    CHECK_EQ_STR(out, "");
    json_decref(p);
}
