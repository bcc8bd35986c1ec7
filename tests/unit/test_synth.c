/* test_synth.c: the synthetic population generator: random numbers, NHS
 * numbers, dates, the JSON writer, terminology, the world, determinism and
 * the statistics the pathfinders rely on, noisy duplicates. */
#include "unit.h"

#include "synth/codes.h"
#include "synth/date.h"
#include "synth/json.h"
#include "synth/nhs.h"
#include "synth/rng.h"
#include "synth/synth.h"
#include "synth/world.h"

#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

/* ---- random numbers --------------------------------------------------- */

TEST(rng_same_seed_same_sequence)
{
    struct cr_synth_rng a, b, c;
    int i, same_as_c = 0;

    cr_synth_rng_seed(&a, 42, 7);
    cr_synth_rng_seed(&b, 42, 7);
    cr_synth_rng_seed(&c, 42, 8);
    for (i = 0; i < 1000; i++) {
        uint64_t x = cr_synth_rng_next(&a);
        CHECK(x == cr_synth_rng_next(&b));
        same_as_c += x == cr_synth_rng_next(&c);
    }
    CHECK_EQ_INT(same_as_c, 0);
}

TEST(rng_known_first_values)
{
    /* Pin the generator: a change here changes every output file. */
    struct cr_synth_rng r;
    uint64_t first;

    cr_synth_rng_seed(&r, 1, 0);
    first = cr_synth_rng_next(&r);
    cr_synth_rng_seed(&r, 1, 0);
    CHECK(cr_synth_rng_next(&r) == first);
    CHECK(cr_synth_mix64(0) == 0xe220a8397b1dcdafULL);
    CHECK(cr_synth_mix64(1) == 0x910a2dec89025cc1ULL);
}

TEST(rng_ranges_and_chances)
{
    struct cr_synth_rng r;
    int i, counts[10] = { 0 }, yes = 0;

    cr_synth_rng_seed(&r, 3, 3);
    for (i = 0; i < 100000; i++) {
        uint32_t b = cr_synth_rng_below(&r, 10);
        int v = cr_synth_rng_range(&r, -3, 3);
        double u = cr_synth_rng_unit(&r);
        CHECK(b < 10);
        CHECK(v >= -3 && v <= 3);
        CHECK(u >= 0 && u < 1);
        counts[b]++;
        CHECK(!cr_synth_rng_chance(&r, 0.0));
        CHECK(cr_synth_rng_chance(&r, 1.0));
        yes += cr_synth_rng_chance(&r, 0.3);
    }
    for (i = 0; i < 10; i++)
        CHECK(counts[i] > 9500 && counts[i] < 10500);
    CHECK(yes > 29000 && yes < 31000);
    CHECK_EQ_INT(cr_synth_rng_below(&r, 0), 0);
    CHECK_EQ_INT(cr_synth_rng_range(&r, 5, 5), 5);
    CHECK_EQ_INT(cr_synth_rng_range(&r, 5, 1), 5);
}

TEST(rng_poisson_normal_weighted)
{
    struct cr_synth_rng r;
    const uint32_t w[3] = { 1, 0, 3 };
    double sum_p = 0, sum_big = 0, sum_n = 0, sum_n2 = 0;
    int i, picks[3] = { 0 }, n = 50000;

    cr_synth_rng_seed(&r, 9, 1);
    for (i = 0; i < n; i++) {
        double x = cr_synth_rng_normal(&r, 10, 2);
        sum_p += cr_synth_rng_poisson(&r, 2.5);
        sum_big += cr_synth_rng_poisson(&r, 50);
        sum_n += x;
        sum_n2 += x * x;
        picks[cr_synth_rng_weighted(&r, w, 3)]++;
    }
    CHECK(fabs(sum_p / n - 2.5) < 0.05);
    CHECK(fabs(sum_big / n - 50) < 0.3);
    CHECK(fabs(sum_n / n - 10) < 0.05);
    CHECK(fabs(sqrt(sum_n2 / n - (sum_n / n) * (sum_n / n)) - 2) < 0.05);
    CHECK_EQ_INT(picks[1], 0);
    CHECK(picks[2] > 2.8 * picks[0] && picks[2] < 3.2 * picks[0]);
    CHECK_EQ_INT(cr_synth_rng_poisson(&r, 0), 0);
}

/* ---- NHS numbers ------------------------------------------------------ */

TEST(nhs_check_digit_known_numbers)
{
    CHECK(cr_synth_nhs_valid("9912003888", 10));
    CHECK(cr_synth_nhs_valid("9000000009", 10));
    CHECK(cr_synth_nhs_valid("9476719931", 10));
    CHECK(!cr_synth_nhs_valid("9476719932", 10));
    CHECK(!cr_synth_nhs_valid("947671993", 9));
    CHECK(!cr_synth_nhs_valid("94767199a1", 10));
    CHECK(!cr_synth_nhs_valid(NULL, 10));
    CHECK_EQ_INT(cr_synth_nhs_check(991200388), 8);
    /* 999000001: 9*10+9*9+9*8+1*2 = 245, 245 mod 11 = 3, 11-3 = 8 */
    CHECK_EQ_INT(cr_synth_nhs_check(999000001), 8);
}

TEST(nhs_sequence_all_valid_unique_in_test_range)
{
    struct cr_synth_nhs_seq it = { 0 };
    uint8_t *seen = calloc(1000000, 1);
    uint32_t n = 0, cap = cr_synth_nhs_capacity();
    uint64_t x;
    char s[11];

    CHECK(seen != NULL);
    CHECK(cap > 900000 && cap < 920000);
    CHECK_EQ_INT(cr_synth_max_patients(), cap);
    while ((x = cr_synth_nhs_next(&it)) != 0) {
        uint32_t prefix;
        cr_synth_nhs_format(x, s);
        CHECK(cr_synth_nhs_valid(s, 10));
        CHECK(s[0] == '9' && s[1] == '9' && s[2] == '9');
        prefix = (uint32_t)(x / 10 - 999000000u);
        CHECK(prefix < 1000000);
        CHECK(!seen[prefix]);
        seen[prefix] = 1;
        n++;
    }
    CHECK_EQ_INT(n, cap);
    CHECK(cr_synth_nhs_next(&it) == 0);
    free(seen);
}

TEST(nhs_sequence_is_scattered)
{
    struct cr_synth_nhs_seq it = { 0 };
    uint64_t a = cr_synth_nhs_next(&it), b = cr_synth_nhs_next(&it);

    CHECK(a != b);
    CHECK((a > b ? a - b : b - a) > 100);
}

/* ---- dates -------------------------------------------------------------- */

TEST(date_parse_format_round_trip)
{
    int32_t d = 0;
    char s[21];
    int y, m, dd;

    CHECK(cr_synth_date_parse("2026-01-01", &d));
    CHECK_EQ_INT(d, 20454);
    cr_synth_date_fmt(d, s);
    CHECK_EQ_STR(s, "2026-01-01");
    cr_synth_datetime_fmt(d - 1, 61, s);
    CHECK_EQ_STR(s, "2025-12-31T01:01:00Z");
    CHECK(cr_synth_date_parse("2024-02-29", &d));
    cr_synth_civil(d, &y, &m, &dd);
    CHECK(y == 2024 && m == 2 && dd == 29);
    CHECK(!cr_synth_date_parse("2025-02-29", &d));
    CHECK(!cr_synth_date_parse("2025-13-01", &d));
    CHECK(!cr_synth_date_parse("2025-1-01", &d));
    CHECK(!cr_synth_date_parse("1899-12-31", &d));
    CHECK(!cr_synth_date_parse(NULL, &d));
    CHECK_EQ_INT(cr_synth_days(1970, 1, 1), 0);
    CHECK_EQ_INT(cr_synth_years_between(cr_synth_days(2000, 3, 1), cr_synth_days(2026, 2, 28)), 25);
    CHECK_EQ_INT(cr_synth_years_between(cr_synth_days(2000, 3, 1), cr_synth_days(2026, 3, 1)), 26);
}

/* ---- JSON writer -------------------------------------------------------- */

TEST(json_writer_commas_escapes_numbers)
{
    struct cr_buf b = cr_buf_make(0);
    struct cr_synth_jw w;

    jw_start(&w, &b);
    jw_obj(&w);
    jw_kstr(&w, "a", "x\"y");
    jw_key(&w, "b");
    jw_arr(&w);
    jw_int(&w, -12);
    jw_dec(&w, 485, 1);
    jw_dec(&w, 5, 3);
    jw_obj(&w);
    jw_end(&w);
    jw_bool(&w, false);
    jw_end(&w);
    jw_key(&w, "c");
    jw_b64(&w, "hello", 5);
    jw_kraw(&w, "d", "{\"e\":1}");
    jw_end(&w);
    CHECK_EQ_INT(b.rc, CR_OK);
    CHECK_EQ_STR(b.ptr, "{\"a\":\"x\\\"y\",\"b\":[-12,48.5,0.005,{},false],"
                        "\"c\":\"aGVsbG8=\",\"d\":{\"e\":1}}");
    cr_buf_reset(&b);
    jw_start(&w, &b);
    jw_b64(&w, "hi", 2);
    jw_b64(&w, "h", 1);
    CHECK_EQ_STR(b.ptr, "\"aGk=\",\"aA==\"");
    cr_buf_free(&b);
}

/* ---- terminology -------------------------------------------------------- */

static int
luhn_ok(const char *code)
{
    /* LOINC's check digit (after the hyphen) is the Luhn digit of the rest. */
    const char *dash = strchr(code, '-');
    int sum = 0, dbl = 1;
    const char *p;

    if (dash == NULL || dash[1] == '\0' || dash[2] != '\0')
        return 0;
    for (p = dash - 1; p >= code; p--) {
        int d = *p - '0';
        if (d < 0 || d > 9)
            return 0;
        if (dbl) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
        dbl = !dbl;
    }
    return (10 - sum % 10) % 10 == dash[1] - '0';
}

TEST(codes_have_valid_check_digits)
{
    int i, sct = 0, loinc = 0;

    CHECK(cr_synth_sctid_valid("195967001"));
    CHECK(!cr_synth_sctid_valid("195967002"));
    CHECK(!cr_synth_sctid_valid("0195967001"));
    CHECK(luhn_ok("8480-6") && luhn_ok("85354-9") && !luhn_ok("8480-5"));
    for (i = 0; i < CR_C_COUNT; i++) {
        const struct cr_synth_code *c = &cr_synth_codes[i];
        CHECK(c->system != NULL && c->code != NULL && c->display != NULL);
        CHECK(c->display[0] != '\0');
        if (strcmp(c->system, CR_SYS_SCT) == 0 || strcmp(c->system, CR_SYS_DMD) == 0) {
            if (!cr_synth_sctid_valid(c->code))
                cr_unit_fail(__FILE__, __LINE__, "bad SNOMED/dm+d id %s", c->code);
            sct++;
        } else if (strcmp(c->system, CR_SYS_LOINC) == 0) {
            if (!luhn_ok(c->code))
                cr_unit_fail(__FILE__, __LINE__, "bad LOINC code %s", c->code);
            loinc++;
        }
    }
    CHECK(sct > 80);
    CHECK(loinc >= 11);
    CHECK_EQ_STR(cr_synth_codes[CR_C_ASTHMA].code, "195967001");
    CHECK_EQ_STR(cr_synth_codes[CR_C_MED_SALBUTAMOL].system, "https://dmd.nhs.uk");
    for (i = 0; i < CR_MED_COUNT; i++)
        CHECK(strcmp(cr_synth_codes[cr_synth_meds[i].code].system, CR_SYS_DMD) == 0);
}

/* ---- the world ---------------------------------------------------------- */

TEST(world_has_every_kind_of_organisation)
{
    struct cr_synth_world *w = NULL;
    uint32_t i, j, kinds[CR_SYNTH_ORG_KINDS] = { 0 };
    int b, r;

    CHECK_EQ_INT(cr_synth_world_build(&w, 100000, NULL), CR_OK);
    for (i = 0; i < w->n_orgs; i++) {
        const struct cr_synth_org *o = &w->orgs[i];
        kinds[o->kind]++;
        CHECK(o->ods[0] == 'Z');
        CHECK(strstr(o->name, "Synthetic") != NULL);
        CHECK(o->n_prac > 0);
        CHECK((o->region < 0) == (o->kind == CR_SYNTH_ORG_AMBULANCE
                                  || o->kind == CR_SYNTH_ORG_NHS111));
        for (j = 0; j < i; j++) {
            CHECK(strcmp(o->ods, w->orgs[j].ods) != 0);
            CHECK(strcmp(o->name, w->orgs[j].name) != 0);
        }
    }
    for (i = 0; i < CR_SYNTH_ORG_KINDS; i++)
        CHECK(kinds[i] > 0);
    CHECK_EQ_INT(kinds[CR_SYNTH_ORG_COUNCIL], CR_SYNTH_BOROUGHS);
    for (b = 0; b < CR_SYNTH_BOROUGHS; b++) {
        CHECK(w->gp_count[b] >= 2);
        CHECK(w->home_count[b] >= 1);
        CHECK(cr_synth_boroughs[b].districts[0] != NULL);
    }
    for (r = 0; r < CR_SYNTH_NODES; r++) {
        CHECK_EQ_INT(w->n_acute[r], 3);
        CHECK(w->mental_health[r] != CR_SYNTH_NONE);
        CHECK(w->community[r] != CR_SYNTH_NONE);
    }
    CHECK_EQ_STR(w->orgs[w->ambulance].ods, "Z0A");
    CHECK_EQ_STR(w->orgs[w->nhs111].ods, "Z0B");
    for (i = 0; i < w->n_pracs; i++)
        CHECK(strlen(w->pracs[i].sds) == 12);
    cr_synth_world_destroy(w);
    cr_synth_world_destroy(NULL);
}

/* ---- whole runs --------------------------------------------------------- */

static char *
slurp(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long n;

    *out_len = 0;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        p = malloc((size_t)n + 1);
        if (p != NULL && fread(p, 1, (size_t)n, f) == (size_t)n)
            *out_len = (size_t)n;
    }
    fclose(f);
    return p;
}

static void
run(const char *dir, uint64_t patients, uint64_t seed, struct cr_synth_stats *st)
{
    struct cr_synth_params p;
    struct cr_err err;

    memset(&p, 0, sizeof p);
    p.patients = patients;
    p.seed = seed;
    p.out_dir = dir;
    CHECK(cr_synth_date_parse("2026-01-01", &p.start_day));
    cr_err_clear(&err);
    if (cr_synth_run(&p, st, &err) != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "run failed: %s", err.msg);
}

static int
same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *pa = slurp(a, &na), *pb = slurp(b, &nb);
    int same = (pa == NULL && pb == NULL)
               || (pa != NULL && pb != NULL && na == nb && memcmp(pa, pb, na) == 0);

    free(pa);
    free(pb);
    return same;
}

TEST(same_parameters_same_bytes)
{
    char a[512], b[512], fa[600], fb[600];
    struct cr_synth_stats sa, sb;
    int node, type, files = 0;

    snprintf(a, sizeof a, "%s/a", cr_unit_tmpdir());
    snprintf(b, sizeof b, "%s/b", cr_unit_tmpdir());
    run(a, 300, 11, &sa);
    run(b, 300, 11, &sb);
    CHECK(sa.resources == sb.resources);
    CHECK(sa.resources > 300 * 10);
    snprintf(fa, sizeof fa, "%s/manifest.json", a);
    snprintf(fb, sizeof fb, "%s/manifest.json", b);
    CHECK(same_file(fa, fb));
    for (node = 0; node < CR_SYNTH_NODES; node++)
        for (type = 0; type < CR_SYNTH_TYPES; type++) {
            struct stat st;
            snprintf(fa, sizeof fa, "%s/%s/%s.ndjson", a, cr_synth_node_id(node),
                     cr_synth_type_name(type));
            snprintf(fb, sizeof fb, "%s/%s/%s.ndjson", b, cr_synth_node_id(node),
                     cr_synth_type_name(type));
            if (!same_file(fa, fb))
                cr_unit_fail(__FILE__, __LINE__, "%s differs", fa);
            if (stat(fa, &st) == 0) {
                files++;
                CHECK((uint64_t)st.st_size > 0);
                CHECK(sa.count[node][type] > 0);
            } else {
                CHECK(sa.count[node][type] == 0);
            }
        }
    CHECK(files > 50);

    /* A rerun into a used folder replaces it entirely. */
    run(a, 20, 12, &sa);
    snprintf(fa, sizeof fa, "%s/manifest.json", a);
    CHECK(!same_file(fa, fb));
}

TEST(bad_parameters_are_refused)
{
    struct cr_synth_params p;
    struct cr_err err;
    char path[512];
    FILE *f;

    memset(&p, 0, sizeof p);
    p.out_dir = cr_unit_tmpdir();
    p.start_day = cr_synth_days(2026, 1, 1);
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_synth_run(&p, NULL, &err), CR_EINVAL);
    CHECK(strstr(err.msg, "patients") != NULL);
    p.patients = cr_synth_max_patients() + 1;
    CHECK_EQ_INT(cr_synth_run(&p, NULL, NULL), CR_EINVAL);
    p.patients = 5;
    p.out_dir = NULL;
    CHECK_EQ_INT(cr_synth_run(&p, NULL, NULL), CR_EINVAL);
    CHECK_EQ_INT(cr_synth_run(NULL, NULL, NULL), CR_EINVAL);
    /* a file where the directory should be */
    snprintf(path, sizeof path, "%s/file", cr_unit_tmpdir());
    f = fopen(path, "w");
    CHECK(f != NULL);
    fclose(f);
    p.out_dir = path;
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_synth_run(&p, NULL, &err), CR_EIO);
    CHECK(err.msg[0] != '\0');
}

static void
within(const char *what, double v, double lo, double hi)
{
    if (v < lo || v > hi)
        cr_unit_fail(__FILE__, __LINE__, "%s = %.4f, outside [%.4f, %.4f]", what, v, lo, hi);
}

TEST(population_statistics_are_realistic)
{
    char dir[512];
    struct cr_synth_stats s;
    double n, adults;
    uint64_t total = 0;
    int node, type;

    snprintf(dir, sizeof dir, "%s/stats", cr_unit_tmpdir());
    run(dir, 4000, 5, &s);
    n = (double)s.patients;
    adults = (double)s.adults;
    CHECK_EQ_INT(s.patients, 4000);
    for (node = 0; node < CR_SYNTH_NODES; node++)
        for (type = 0; type < CR_SYNTH_TYPES; type++)
            total += s.count[node][type];
    CHECK(total == s.resources);
    /* Bounds are about four standard errors around the UK prevalence. */
    within("asthma", s.cond[CR_SYNTH_ASTHMA] / n, 0.050, 0.080);
    within("copd", s.cond[CR_SYNTH_COPD] / n, 0.012, 0.029);
    within("hypertension", s.cond[CR_SYNTH_HYPERTENSION] / n, 0.118, 0.162);
    within("diabetes", s.cond[CR_SYNTH_DIABETES] / n, 0.054, 0.086);
    within("heart failure", s.cond[CR_SYNTH_HEART_FAILURE] / n, 0.004, 0.017);
    within("ckd (adults)", s.cond[CR_SYNTH_CKD] / adults, 0.028, 0.053);
    within("dementia", s.cond[CR_SYNTH_DEMENTIA] / n, 0.003, 0.014);
    within("smi", s.cond[CR_SYNTH_SMI] / n, 0.004, 0.017);
    within("cancer", s.cond[CR_SYNTH_CANCER] / n, 0.020, 0.040);
    within("adults", adults / n, 0.74, 0.82);
    within("care away from home region", (double)s.care_events_away / s.care_events, 0.20, 0.40);
    within("national data opt-out", s.ndoo / n, 0.035, 0.065);
    within("objections", s.objections / n, 0.0, 0.01);
    within("restricted", s.restricted / n, 0.0, 0.008);
    within("shared address", s.shared_address / n, 0.3, 0.7);
    CHECK(s.care_events > s.patients);
    CHECK(s.children_under6 > 100);
    CHECK(s.immunisations_missed > 0);
    CHECK(s.asthma_saba_no_ics_6plus > 0);
    CHECK(s.bp_raised_undiagnosed > 0);
    CHECK(s.eol_plans > 0);
    CHECK(s.cpr_review_overdue > 0 && s.cpr_review_overdue < s.eol_plans);
    CHECK(s.cancer_pathways > 0);
    CHECK(s.usc_referrals > s.cancer_pathways);
    CHECK(s.staff_patients > 0);
    CHECK(s.care_home_residents > 0);
    CHECK(s.sensitive_sti > 0);
    for (type = 0; type < CR_SYNTH_TYPES; type++) {
        uint64_t t = 0;
        for (node = 0; node < CR_SYNTH_NODES; node++)
            t += s.count[node][type];
        if (t == 0)
            cr_unit_fail(__FILE__, __LINE__, "no %s resources", cr_synth_type_name(type));
    }
}

TEST(names_of_nodes_and_types)
{
    CHECK_EQ_STR(cr_synth_node_id(CR_SYNTH_NEL), "nel");
    CHECK_EQ_STR(cr_synth_node_id(CR_SYNTH_SWL), "swl");
    CHECK_EQ_STR(cr_synth_node_name(CR_SYNTH_NCL), "North Central London");
    CHECK(cr_synth_node_id(CR_SYNTH_NODES) == NULL);
    CHECK(cr_synth_node_id(-1) == NULL);
    CHECK_EQ_STR(cr_synth_type_name(CR_SYNTH_DOCREF), "DocumentReference");
    CHECK(cr_synth_type_name(CR_SYNTH_TYPES) == NULL);
}

/* ---- noisy duplicates (dupes.c) ---------------------------------------- */

static json_t *
sample_patient(void)
{
    json_error_t e;

    return json_loads(
        "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"tag\":[]},"
        "\"identifier\":[{\"system\":\"https://fhir.nhs.uk/Id/nhs-number\","
        "\"value\":\"9000000009\"}],\"name\":[{\"use\":\"official\","
        "\"family\":\"Okafor\",\"given\":[\"Priya\",\"Lorraine\"]}],"
        "\"gender\":\"female\",\"birthDate\":\"1970-03-11\",\"address\":[{"
        "\"use\":\"home\",\"postalCode\":\"E7 8RY\"}]}", 0, &e);
}

TEST(noisy_copy_is_a_pure_function_of_its_arguments)
{
    struct cr_synth_noise n;
    json_t *src = sample_patient(), *a, *b, *c;
    unsigned ca, cb;

    cr_synth_noise_default(&n);
    a = cr_synth_noisy_copy(src, &n, 1, 7, "d1", "urn:x", "v1", &ca);
    b = cr_synth_noisy_copy(src, &n, 1, 7, "d1", "urn:x", "v1", &cb);
    CHECK(a && b);
    CHECK(json_equal(a, b));
    CHECK_EQ_INT(ca, cb);
    /* the source is not touched; the copy has its own id and identifier,
     * never the NHS number */
    CHECK_EQ_STR(json_string_value(json_object_get(src, "id")), "p1");
    CHECK_EQ_STR(json_string_value(json_object_get(a, "id")), "d1");
    CHECK(json_object_get(a, "meta") == NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(a, "identifier")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(
                     json_array_get(json_object_get(a, "identifier"), 0),
                     "system")), "urn:x");
    /* other streams give other copies, sooner or later */
    {
        int differ = 0, s;
        for (s = 8; s < 40; s++) {
            c = cr_synth_noisy_copy(src, &n, 1, (uint64_t)s, "d1", "urn:x",
                                    "v1", NULL);
            differ += !json_equal(a, c);
            json_decref(c);
        }
        CHECK(differ > 0);
    }
    json_decref(a);
    json_decref(b);
    json_decref(src);
}

TEST(noisy_copy_applies_each_kind_of_noise)
{
    struct cr_synth_noise none, n;
    json_t *src = sample_patient(), *c;
    unsigned ch;
    const char *s;

    memset(&none, 0, sizeof none);
    /* no noise: the same person, other identifiers */
    c = cr_synth_noisy_copy(src, &none, 3, 1, "d", "urn:x", "v", &ch);
    CHECK_EQ_INT(ch, 0);
    CHECK(json_equal(json_object_get(c, "name"), json_object_get(src, "name")));
    CHECK_EQ_STR(json_string_value(json_object_get(c, "birthDate")),
                 "1970-03-11");
    json_decref(c);
    /* a typo: one name differs from the source by one edit */
    n = none;
    n.typo = 1;
    c = cr_synth_noisy_copy(src, &n, 3, 2, "d", "urn:x", "v", &ch);
    CHECK_EQ_INT(ch, CR_SYNTH_NOISE_TYPO);
    CHECK(!json_equal(json_object_get(c, "name"), json_object_get(src, "name")));
    json_decref(c);
    /* swapped date: day and month change places */
    n = none;
    n.swap_date = 1;
    c = cr_synth_noisy_copy(src, &n, 3, 3, "d", "urn:x", "v", &ch);
    CHECK_EQ_INT(ch, CR_SYNTH_NOISE_SWAP_DATE);
    CHECK_EQ_STR(json_string_value(json_object_get(c, "birthDate")),
                 "1970-11-03");
    json_decref(c);
    /* one digit: exactly one character of the date differs, still a date */
    n = none;
    n.date_digit = 1;
    c = cr_synth_noisy_copy(src, &n, 3, 4, "d", "urn:x", "v", &ch);
    CHECK_EQ_INT(ch, CR_SYNTH_NOISE_DATE_DIGIT);
    s = json_string_value(json_object_get(c, "birthDate"));
    {
        int i, diff = 0;
        for (i = 0; i < 10; i++)
            diff += s[i] != "1970-03-11"[i];
        CHECK_EQ_INT(diff, 1);
        CHECK(s[4] == '-' && s[7] == '-');
    }
    json_decref(c);
    /* moved: another postcode */
    n = none;
    n.moved = 1;
    c = cr_synth_noisy_copy(src, &n, 3, 5, "d", "urn:x", "v", &ch);
    CHECK_EQ_INT(ch, CR_SYNTH_NOISE_MOVED);
    s = json_string_value(json_object_get(
        json_array_get(json_object_get(c, "address"), 0), "postalCode"));
    CHECK(s && strcmp(s, "E7 8RY") != 0 && strchr(s, ' '));
    json_decref(c);
    /* everything missing that can be */
    n = none;
    n.no_date = n.no_postcode = n.no_sex = n.no_given = 1;
    c = cr_synth_noisy_copy(src, &n, 3, 6, "d", "urn:x", "v", &ch);
    CHECK_EQ_INT(ch, CR_SYNTH_NOISE_NO_DATE | CR_SYNTH_NOISE_NO_POSTCODE |
                         CR_SYNTH_NOISE_NO_SEX | CR_SYNTH_NOISE_NO_GIVEN);
    CHECK(json_object_get(c, "birthDate") == NULL);
    CHECK(json_object_get(c, "address") == NULL);
    CHECK(json_object_get(c, "gender") == NULL);
    CHECK(json_object_get(json_array_get(json_object_get(c, "name"), 0),
                          "given") == NULL);
    json_decref(c);
    json_decref(src);
}
