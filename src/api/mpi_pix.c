/* mpi_pix.c: GET /fhir/Patient/$ihe-pix (IHE PIXm, ITI-83).
 *
 * From a local identifier (or the NHS number) to the identifiers and
 * records of the same person, as the index links them; only records the
 * caller may see are named. Depends on mpi/, store/, fhir/, core/,
 * jansson. */
#include "api/apiInt.h"

#include "fhir/fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIX_MAX 64           /* records of one person cross-referenced */

/* ---- Patient/$ihe-pix ---- */

struct pix_args {
    const char *source;
    const char *targets[16];
    size_t ntargets;
    const char *bad;
};

static bool
take_pix(void *ctx, const char *name, const char *value)
{
    struct pix_args *a = ctx;

    if (strcmp(name, "sourceIdentifier") == 0) {
        if (a->source)
            a->bad = "sourceIdentifier (given twice)";
        a->source = value;
    } else if (strcmp(name, "targetSystem") == 0) {
        const char *v = value;
        /* repeated, or comma-separated */
        while (*v && a->ntargets < 16) {
            size_t k = strcspn(v, ",");
            a->targets[a->ntargets++] = v;
            v += k;
            if (*v == ',')
                v++;
        }
    } else if (strcmp(name, "_format") != 0) {
        a->bad = name;
        return false;
    }
    return true;
}

static bool
system_wanted(const struct pix_args *a, const char *sys)
{
    size_t i;

    if (a->ntargets == 0)
        return true;
    for (i = 0; i < a->ntargets; i++) {
        size_t k = strcspn(a->targets[i], ",");
        if (sys && strlen(sys) == k && strncmp(sys, a->targets[i], k) == 0)
            return true;
    }
    return false;
}

struct person_ids {
    char ids[PIX_MAX][65];
    size_t n;
};

static cr_rc
keep_record(void *ctx, const struct cr_store_mpi_row *row)
{
    struct person_ids *p = ctx;
    size_t i;

    for (i = 0; i < p->n; i++)
        if (strcmp(p->ids[i], row->id) == 0)
            return CR_OK;
    if (p->n < PIX_MAX) {
        size_t len = strnlen(row->id, sizeof p->ids[0] - 1);
        memcpy(p->ids[p->n], row->id, len);
        p->ids[p->n++][len] = '\0';
    }
    return CR_OK;
}

void
cr_api_mpi_pix(struct ctx *x)
{
    struct pix_args a;
    struct person_ids *person = NULL;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response), seen;
    char found[8][65], sys[256];
    const char *bar, *value;
    struct cr_err err;
    size_t n = 0, i, k, nparams = 0;

    memset(&a, 0, sizeof a);
    seen = cr_buf_make(0);
    cr_err_clear(&err);
    cr_http_args(x->req, take_pix, &a);
    if (a.bad || a.source == NULL || a.source[0] == '\0') {
        cr_api_outcome(x, 400, "error", a.bad ? "not-supported" : "required",
                       NULL, a.bad ? "$ihe-pix does not take '%.80s' (it "
                       "takes sourceIdentifier and targetSystem)"
                                   : "%s$ihe-pix needs sourceIdentifier="
                                     "system|value",
                       a.bad ? a.bad : "");
        goto out;
    }
    bar = strchr(a.source, '|');
    value = bar ? bar + 1 : a.source;
    if (bar) {
        snprintf(sys, sizeof sys, "%.*s", (int)(bar - a.source), a.source);
        if (strcmp(sys, CR_FHIR_NHS_NUMBER_SYSTEM) == 0 &&
            !cr_fhir_nhs_number_valid(value, strlen(value))) {
            cr_api_outcome(x, 400, "error", "value", NULL,
                           "'%.20s' is not a valid NHS number", value);
            goto out;
        }
    }
    if (cr_store_find_token(x->api->store, "Patient", "identifier",
                            bar ? sys : NULL, value, found, 8, &n,
                            &err) != CR_OK) {
        cr_api_fail(x, &err);
        goto out;
    }
    if (n > 8)
        n = 8;
    person = calloc(1, sizeof *person);
    if (person == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        goto out;
    }
    /* the records carrying the identifier, seen as a read would see them */
    for (i = 0; i < n; i++) {
        struct cr_buf pb = cr_buf_make(0);
        struct cr_store_meta m;
        enum cr_policy_withhold why;
        if (cr_store_read(x->api->store, "Patient", found[i], &pb, &m,
                          &err) != CR_OK) {
            cr_buf_free(&pb);
            continue;
        }
        if (cr_api_view_item(x, "Patient", &m, pb.ptr, pb.len, &why) ==
            CR_POLICY_WITHHOLD) {
            cr_buf_free(&pb);
            if (n == 1 && cr_api_view_refuse(x, &m, why))
                goto out;
            continue;
        }
        cr_buf_free(&pb);
        if (x->audit_patient == NULL)
            x->audit_patient = cr_arena_strndup(x->req->arena, m.patient,
                                                strlen(m.patient));
        cr_mpi_person(x->api->mpi, found[i], keep_record, person, &err);
        keep_record(person, &(struct cr_store_mpi_row){ .id = found[i] });
    }
    if (person->n == 0) {
        cr_api_outcome(x, 404, "error", "not-found", NULL,
                       "sourceIdentifier Patient Identifier not found: no "
                       "patient with %.200s is known to this server",
                       a.source);
        goto out;
    }
    cr_buf_adds(&b, "{\"resourceType\":\"Parameters\"");
    for (i = 0; i < person->n; i++) {
        struct cr_buf pb = cr_buf_make(0);
        struct cr_store_meta m;
        json_t *root, *id;
        bool is_source = false;
        for (k = 0; k < n; k++)
            is_source |= strcmp(found[k], person->ids[i]) == 0;
        if (cr_store_read(x->api->store, "Patient", person->ids[i], &pb, &m,
                          &err) != CR_OK ||
            cr_api_view_item(x, "Patient", &m, pb.ptr, pb.len, NULL) ==
                CR_POLICY_WITHHOLD) {
            cr_buf_free(&pb);
            continue;
        }
        cr_api_touch(x, "Patient", person->ids[i], m.version);
        root = json_loadb(pb.ptr, pb.len, 0, NULL);
        cr_buf_free(&pb);
        json_array_foreach(json_object_get(root, "identifier"), k, id) {
            const char *s = json_string_value(json_object_get(id, "system"));
            const char *v = json_string_value(json_object_get(id, "value"));
            char key[600];
            if (v == NULL || !system_wanted(&a, s))
                continue;
            /* not the identifier asked about, each one once */
            if (strcmp(v, value) == 0 &&
                (!bar || (s && strcmp(s, sys) == 0)))
                continue;
            snprintf(key, sizeof key, "\n%s|%s\n", s ? s : "", v);
            if (seen.ptr && strstr(seen.ptr, key))
                continue;
            cr_buf_adds(&seen, key);
            cr_buf_adds(&b, nparams++ ? "," : ",\"parameter\":[");
            cr_buf_adds(&b, "{\"name\":\"targetIdentifier\","
                            "\"valueIdentifier\":{");
            if (s) {
                cr_buf_adds(&b, "\"system\":");
                cr_buf_add_json_str(&b, s);
                cr_buf_addc(&b, ',');
            }
            cr_buf_adds(&b, "\"value\":");
            cr_buf_add_json_str(&b, v);
            cr_buf_adds(&b, "}}");
        }
        json_decref(root);
        if (!is_source) {
            cr_buf_adds(&b, nparams++ ? "," : ",\"parameter\":[");
            cr_buf_addf(&b, "{\"name\":\"targetId\",\"valueReference\":{"
                            "\"reference\":\"Patient/%s\"}}",
                        person->ids[i]);
        }
    }
    if (nparams)
        cr_buf_addc(&b, ']');
    cr_buf_addc(&b, '}');
    cr_api_send_buf(x, 200, &b);
out:
    free(person);
    cr_buf_free(&seen);
    cr_buf_free(&b);
}
