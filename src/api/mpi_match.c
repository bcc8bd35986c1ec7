/* mpi_match.c: POST /fhir/Patient/$match (FHIR R4 Patient-match).
 *
 * The Patient in the Parameters is checked like a write, its demographics
 * go to the index (cr_mpi_match), and the candidates come back best first
 * in a searchset Bundle with search.score and the match-grade extension,
 * each through the access view like a search result. Depends on mpi/,
 * store/, fhir/, core/, jansson. */
#include "api/apiInt.h"

#include "fhir/fhir.h"

#include <stdlib.h>
#include <string.h>

#define MATCH_GRADE "http://hl7.org/fhir/StructureDefinition/match-grade"
#define MATCH_DEFAULT 10     /* candidates answered without 'count' */
#define MATCH_MAX 100        /* most candidates answered */

/* ---- Patient/$match ---- */

static void
add_candidate(struct ctx *x, struct cr_buf *b, int n, const char *id,
              const struct cr_mpi_score *s, enum cr_policy_show show,
              const char *json, size_t len)
{
    if (n)
        cr_buf_addc(b, ',');
    cr_buf_addf(b, "{\"fullUrl\":\"%s/Patient/%s\",\"resource\":",
                x->api->base_url, id);
    cr_api_view_add(b, show, json, len);
    cr_buf_adds(b, ",\"search\":{\"extension\":[{\"url\":\"" MATCH_GRADE
                   "\",\"valueCode\":");
    cr_buf_add_json_str(b, cr_mpi_grade_code(s->grade));
    cr_buf_addf(b, "}],\"mode\":\"match\",\"score\":%.4f}}", s->score);
}

void
cr_api_mpi_match(struct ctx *x)
{
    static const char *const known[] = { "resource", "onlyCertainMatches",
                                         "count", NULL };
    json_t *params = cr_api_params_body(x), *p, *res;
    struct cr_mpi_candidate *cands = NULL;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response),
                  entries = cr_buf_make(x->api->cfg.max_response);
    struct cr_mpi_demo q;
    struct cr_err err;
    size_t n = 0, i, np;
    bool only_certain = false;
    long count = MATCH_DEFAULT;
    int shown = 0;
    const char *rt;

    cr_err_clear(&err);
    if (params == NULL)
        goto out;
    if (!cr_api_params_only(x, params, known))
        goto out;
    p = cr_api_params_get(params, "resource", &np);
    res = json_object_get(p, "resource");
    rt = json_string_value(json_object_get(res, "resourceType"));
    if (np != 1 || rt == NULL || strcmp(rt, "Patient") != 0) {
        cr_api_outcome(x, 400, "error", "required", NULL,
                       "$match takes one parameter 'resource' holding the "
                       "Patient to match");
        goto out;
    }
    if (cr_fhir_validate(res, &err) != CR_OK) {
        cr_api_fail(x, &err);
        goto out;
    }
    p = cr_api_params_get(params, "onlyCertainMatches", NULL);
    if (p) {
        json_t *v = json_object_get(p, "valueBoolean");
        if (!json_is_boolean(v)) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "onlyCertainMatches must be a valueBoolean");
            goto out;
        }
        only_certain = json_is_true(v);
    }
    p = cr_api_params_get(params, "count", NULL);
    if (p) {
        json_t *v = json_object_get(p, "valueInteger");
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "count must be a valueInteger of at least 1");
            goto out;
        }
        count = json_integer_value(v) > MATCH_MAX ? MATCH_MAX
                                                  : (long)json_integer_value(v);
    }
    cr_mpi_demo_from_patient(res, &q);
    cands = calloc(MATCH_MAX, sizeof *cands);
    if (cands == NULL ||
        cr_mpi_match(x->api->mpi, &q, cands, MATCH_MAX, &n, &err) != CR_OK) {
        if (cands == NULL)
            cr_err_set(&err, CR_ENOMEM, "exception", NULL, "out of memory");
        cr_api_fail(x, &err);
        goto out;
    }
    if (only_certain) {
        /* certain ones only, and none when they are not one person */
        size_t k = 0;
        for (i = 0; i < n; i++)
            if (cands[i].score.grade == CR_MPI_CERTAIN)
                cands[k++] = cands[i];
        n = k;
        for (i = 1; i < n; i++)
            if (strcmp(cands[i].person, cands[0].person) != 0)
                n = 0;
    }
    for (i = 0; i < n && shown < count; i++) {
        struct cr_buf pb = cr_buf_make(0);
        struct cr_store_meta m;
        enum cr_policy_show show;
        if (cr_store_read(x->api->store, "Patient", cands[i].id, &pb, &m,
                          &err) != CR_OK) {
            cr_buf_free(&pb);
            continue;   /* deleted since it was indexed */
        }
        show = cr_api_view_item(x, "Patient", &m, pb.ptr, pb.len, NULL);
        if (show != CR_POLICY_WITHHOLD) {
            cr_api_touch(x, "Patient", cands[i].id, m.version);
            add_candidate(x, &entries, shown++, cands[i].id,
                          &cands[i].score, show, pb.ptr, pb.len);
        }
        cr_buf_free(&pb);
    }
    cr_api_view_add_notice(x, &entries, shown);
    cr_api_bundle_start(&b, "searchset");
    cr_buf_addf(&b, ",\"total\":%d,\"link\":[{\"relation\":\"self\","
                    "\"url\":\"%s/Patient/$match\"}]",
                shown, x->api->base_url);
    cr_api_bundle_finish(x, &b, &entries);
out:
    free(cands);
    cr_buf_free(&b);
    cr_buf_free(&entries);
    json_decref(params);
}
