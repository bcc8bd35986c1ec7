/* demo_pick.c: choosing the London demo's patient and personas from the
 * synthetic NDJSON files (see demo_pick.h). Every file is read line by
 * line with jansson; only Patient, Encounter, Organization and
 * Practitioner files are opened. Depends on synth/, core/, jansson. */
#include "cli/demo_pick.h"

#include "synth/synth.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NHS_SYSTEM "https://fhir.nhs.uk/Id/nhs-number"
#define SDS_SYSTEM "https://fhir.nhs.uk/Id/sds-user-id"
#define KIND_SYSTEM "https://carerecord.example/CodeSystem/encounter-kind"

struct person {
    char nhs[16];
    char name[160];
    char gp[32];
    unsigned regions;
    char ids[CR_CLI_DEMO_REGIONS][65];
    char ae_start[32];              /* latest A&E attendance */
    char ae[32];
    int ae_region;
};

struct pick {
    struct person *people;
    size_t n, cap;
    size_t *index;              /* open addressing by NHS number: i + 1 */
    size_t icap;
    size_t *best;               /* people held by the most regions */
    size_t nbest;
};

static size_t
hash_nhs(const char *s)
{
    size_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The person with NHS number 'nhs', added when new; NULL when out of
 * memory. */
static struct person *
person(struct pick *p, const char *nhs)
{
    size_t j;

    if ((p->n + 1) * 2 > p->icap) {
        size_t cap = p->icap ? p->icap * 2 : 4096, i;
        size_t *ix = calloc(cap, sizeof *ix);
        if (ix == NULL)
            return NULL;
        for (i = 0; i < p->n; i++) {
            j = hash_nhs(p->people[i].nhs) & (cap - 1);
            while (ix[j])
                j = (j + 1) & (cap - 1);
            ix[j] = i + 1;
        }
        free(p->index);
        p->index = ix;
        p->icap = cap;
    }
    j = hash_nhs(nhs) & (p->icap - 1);
    while (p->index[j]) {
        if (strcmp(p->people[p->index[j] - 1].nhs, nhs) == 0)
            return &p->people[p->index[j] - 1];
        j = (j + 1) & (p->icap - 1);
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        struct person *np = realloc(p->people, cap * sizeof *np);
        if (np == NULL)
            return NULL;
        p->people = np;
        p->cap = cap;
    }
    p->index[j] = p->n + 1;
    memset(&p->people[p->n], 0, sizeof p->people[0]);
    p->people[p->n].ae_region = -1;
    snprintf(p->people[p->n].nhs, sizeof p->people[0].nhs, "%s", nhs);
    return &p->people[p->n++];
}

typedef bool (*line_fn)(void *ctx, json_t *res);

/* Call fn for each resource in 'dir'/'region'/'type'.ndjson; a missing
 * file has none. false when the file cannot be read. */
static bool
each(const char *dir, int region, const char *type, line_fn fn, void *ctx)
{
    char path[1200];
    char *line = NULL;
    size_t cap = 0;
    FILE *f;
    bool go = true;

    snprintf(path, sizeof path, "%s/%s/%s.ndjson", dir,
             cr_synth_node_id(region), type);
    f = fopen(path, "r");
    if (f == NULL)
        return errno == ENOENT;
    while (go && getline(&line, &cap, f) > 0) {
        json_t *res = json_loads(line, 0, NULL);
        if (res)
            go = fn(ctx, res);
        json_decref(res);
    }
    free(line);
    fclose(f);
    return true;
}

static const char *
str(json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "";
}

/* The value of the identifier of 'system'. */
static const char *
identifier(json_t *res, const char *system)
{
    json_t *ids = json_object_get(res, "identifier"), *i;
    size_t k;

    json_array_foreach(ids, k, i) {
        if (strcmp(str(json_object_get(i, "system")), system) == 0)
            return str(json_object_get(i, "value"));
    }
    return "";
}

/* "Given Family" of the first name. */
static void
name_of(json_t *res, char *out, size_t size)
{
    json_t *n = json_array_get(json_object_get(res, "name"), 0);
    json_t *given = json_array_get(json_object_get(n, "given"), 0);

    snprintf(out, size, "%s%s%s", str(given), json_is_string(given) ? " " : "",
             str(json_object_get(n, "family")));
}

/* "Organization/X" -> "X" of a reference object. */
static const char *
org_ref(json_t *ref)
{
    const char *r = str(json_object_get(ref, "reference"));

    return strncmp(r, "Organization/", 13) == 0 ? r + 13 : "";
}

struct patients_ctx {
    struct pick *p;
    int region;
};

static bool
take_patient(void *ctx, json_t *res)
{
    struct patients_ctx *c = ctx;
    struct pick *p = c->p;
    const char *nhs = identifier(res, NHS_SYSTEM);
    struct person *x;

    if (nhs[0] == '\0')
        return true;
    x = person(p, nhs);
    if (x == NULL)
        return false;
    if (x->regions == 0) {
        name_of(res, x->name, sizeof x->name);
        snprintf(x->gp, sizeof x->gp, "%s",
                 org_ref(json_array_get(
                     json_object_get(res, "generalPractitioner"), 0)));
    }
    x->regions |= 1u << c->region;
    snprintf(x->ids[c->region], sizeof x->ids[0], "%s",
             str(json_object_get(res, "id")));
    return true;
}

static int
popcount(unsigned v)
{
    int n = 0;

    for (; v; v &= v - 1)
        n++;
    return n;
}

/* The A&E attendances of the people held by 'best' regions. */
struct ae_ctx {
    struct pick *p;
    int region;
};

static bool
take_encounter(void *ctx, json_t *res)
{
    struct ae_ctx *c = ctx;
    json_t *types = json_object_get(res, "type"), *t, *cd;
    const char *subject = str(json_object_get(json_object_get(res, "subject"),
                                              "reference"));
    const char *start = str(json_object_get(json_object_get(res, "period"),
                                            "start"));
    bool is_ae = false;
    size_t i, j;

    json_array_foreach(types, i, t) {
        json_array_foreach(json_object_get(t, "coding"), j, cd) {
            if (strcmp(str(json_object_get(cd, "system")), KIND_SYSTEM) == 0 &&
                strcmp(str(json_object_get(cd, "code")), "ae-attendance") ==
                    0)
                is_ae = true;
        }
    }
    if (!is_ae || strncmp(subject, "Patient/", 8) != 0)
        return true;
    for (i = 0; i < c->p->nbest; i++) {
        struct person *x = &c->p->people[c->p->best[i]];
        if (strcmp(x->ids[c->region], subject + 8) != 0)
            continue;
        /* the latest; on the same day, one away from home first */
        if (strcmp(start, x->ae_start) > 0) {
            snprintf(x->ae_start, sizeof x->ae_start, "%s", start);
            snprintf(x->ae, sizeof x->ae, "%s",
                     org_ref(json_object_get(res, "serviceProvider")));
            x->ae_region = c->region;
        }
        break;
    }
    return true;
}

struct org_ctx {
    const char *code;
    char *name;
    size_t size;
};

static bool
take_org(void *ctx, json_t *res)
{
    struct org_ctx *c = ctx;

    if (strcmp(str(json_object_get(res, "id")), c->code) != 0)
        return true;
    snprintf(c->name, c->size, "%s", str(json_object_get(res, "name")));
    return false;
}

struct staff_ctx {
    const char *org;
    struct cr_cli_demo_staff *out;
    bool is_found;
};

static bool
take_staff(void *ctx, json_t *res)
{
    struct staff_ctx *c = ctx;
    const char *id = str(json_object_get(res, "id"));
    size_t n = strlen(c->org);

    /* "<ODS>-<n>": staff of that organisation ("-sp<n>" are patients) */
    if (strncmp(id, c->org, n) != 0 || id[n] != '-' || id[n + 1] == 's')
        return true;
    snprintf(c->out->sub, sizeof c->out->sub, "%s",
             identifier(res, SDS_SYSTEM));
    name_of(res, c->out->name, sizeof c->out->name);
    c->is_found = c->out->sub[0] != '\0';
    return !c->is_found;
}

/* A member of staff of 'org' from region 'region' (any region when -1), or
 * a made-up one named 'fallback'. */
static void
staff(const char *dir, int region, const char *org, const char *fallback,
      struct cr_cli_demo_staff *out)
{
    struct staff_ctx c = { org, out, false };
    int r;

    for (r = 0; r < CR_CLI_DEMO_REGIONS && !c.is_found; r++)
        if (region < 0 || r == region)
            each(dir, r, "Practitioner", take_staff, &c);
    if (!c.is_found) {
        snprintf(out->sub, sizeof out->sub, "demo-%s", org);
        snprintf(out->name, sizeof out->name, "%s", fallback);
    }
}

static void
org_name(const char *dir, int region, const char *code, char *out,
         size_t size)
{
    struct org_ctx c = { code, out, size };
    int r;

    snprintf(out, size, "%s", code);
    for (r = 0; r < CR_CLI_DEMO_REGIONS; r++)
        if ((region < 0 || r == region) &&
            each(dir, r, "Organization", take_org, &c) &&
            strcmp(out, code) != 0)
            return;
}

cr_rc
cr_cli_demo_pick(const char *dir, struct cr_cli_demo_pick *out,
                 struct cr_err *err)
{
    struct pick p;
    const struct person *best = NULL;
    int r, most = 0;
    size_t i;
    cr_rc rc = CR_OK;

    memset(&p, 0, sizeof p);
    memset(out, 0, sizeof *out);
    for (r = 0; r < CR_CLI_DEMO_REGIONS; r++) {
        struct patients_ctx c = { &p, r };
        if (!each(dir, r, "Patient", take_patient, &c)) {
            rc = cr_err_set(err, CR_EIO, "exception", NULL,
                            "cannot read %s/%s/Patient.ndjson: %s", dir,
                            cr_synth_node_id(r), strerror(errno));
            goto out;
        }
    }
    for (i = 0; i < p.n; i++)
        if (popcount(p.people[i].regions) > most)
            most = popcount(p.people[i].regions);
    if (most == 0) {
        rc = cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                        "no synthetic patients under %s", dir);
        goto out;
    }
    p.best = calloc(p.n, sizeof *p.best);
    if (p.best == NULL) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
        goto out;
    }
    for (i = 0; i < p.n; i++)
        if (popcount(p.people[i].regions) == most)
            p.best[p.nbest++] = i;
    for (r = 0; r < CR_CLI_DEMO_REGIONS; r++) {
        struct ae_ctx c = { &p, r };
        each(dir, r, "Encounter", take_encounter, &c);
    }
    for (i = 0; i < p.n; i++) {
        const struct person *x = &p.people[i];
        if (popcount(x->regions) == most &&
            (best == NULL || strcmp(x->ae_start, best->ae_start) > 0))
            best = x;
    }
    if (best == NULL) {     /* cannot happen: someone is held by 'most' */
        rc = cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                        "no synthetic patients under %s", dir);
        goto out;
    }
    snprintf(out->nhs, sizeof out->nhs, "%s", best->nhs);
    snprintf(out->name, sizeof out->name, "%s", best->name);
    out->regions = best->regions;
    out->nregions = most;
    snprintf(out->gp, sizeof out->gp, "%s", best->gp);
    /* GP practice codes are Z<region 1-5><borough><practice> */
    out->home = best->gp[0] == 'Z' && best->gp[1] >= '1' && best->gp[1] <= '5'
                    ? best->gp[1] - '1'
                    : 0;
    org_name(dir, out->home, out->gp, out->gp_name, sizeof out->gp_name);
    staff(dir, out->home, out->gp, "Dr Demo GP", &out->gp_staff);

    if (best->ae[0]) {
        snprintf(out->ae, sizeof out->ae, "%s", best->ae);
        out->ae_region = best->ae_region;
        snprintf(out->ae_date, sizeof out->ae_date, "%.10s", best->ae_start);
    } else {
        /* no attendance: the home region's first acute trust */
        snprintf(out->ae, sizeof out->ae, "Z%dA", out->home + 1);
        out->ae_region = out->home;
    }
    org_name(dir, out->ae_region, out->ae, out->ae_name, sizeof out->ae_name);
    staff(dir, out->ae_region, out->ae, "Dr Demo Emergency", &out->ae_staff);

    snprintf(out->amb, sizeof out->amb, "Z0A");
    org_name(dir, -1, out->amb, out->amb_name, sizeof out->amb_name);
    staff(dir, -1, out->amb, "Demo Paramedic", &out->paramedic);

    /* the council of the practice's borough: Z<r>L<bb> */
    snprintf(out->council, sizeof out->council, "Z%cL%.2s",
             out->gp[1] ? out->gp[1] : '1', out->gp[0] ? out->gp + 2 : "01");
    org_name(dir, out->home, out->council, out->council_name,
             sizeof out->council_name);
    staff(dir, out->home, out->council, "Demo Social Worker", &out->social);
out:
    free(p.people);
    free(p.index);
    free(p.best);
    return rc;
}
