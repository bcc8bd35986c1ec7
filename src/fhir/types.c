/* types.c: lookups in the generated R4 tables: resource types, the types
 * this server serves, and elements by name. Depends on core/ and the
 * tables in defs_gen.c. */
#include "fhir/fhirInt.h"

#include <string.h>

static const char *const prim_names[CR_FHIR_NPRIM] = {
    "base64Binary", "boolean", "canonical", "code", "date", "dateTime",
    "decimal", "id", "instant", "integer", "markdown", "oid", "positiveInt",
    "string", "time", "unsignedInt", "uri", "url", "uuid", "xhtml",
};

/* Sorted by strcmp: cr_fhir_is_supported_type binary-searches it. */
static const char *const supported[] = {
    "AllergyIntolerance",
    "Appointment",
    "CarePlan",
    "Communication",
    "Composition",
    "Condition",
    "Consent",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "EpisodeOfCare",
    "Flag",
    "Goal",
    "Immunization",
    "Location",
    "Medication",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Organization",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "Schedule",
    "ServiceRequest",
    "Slot",
};

#define NSUPPORTED (sizeof supported / sizeof supported[0])

const char *
cr_fhir_prim_name(unsigned p)
{
    return p < CR_FHIR_NPRIM ? prim_names[p] : NULL;
}

const char *
cr_fhir_typeref_name(unsigned type)
{
    if (type < CR_FHIR_NPRIM)
        return prim_names[type];
    if (type == CR_FHIR_T_RESOURCE)
        return "Resource";
    if (type - CR_FHIR_T_COMPLEX < cr_fhir_ntypes)
        return cr_fhir_names[cr_fhir_types[type - CR_FHIR_T_COMPLEX].name];
    return "?";
}

int
cr_fhir_resource_index(const char *name)
{
    size_t lo = 0, hi = cr_fhir_nresources;

    if (name == NULL)
        return -1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, cr_fhir_names[cr_fhir_types[mid].name]);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

int
cr_fhir_type_index(const char *name)
{
    int i = cr_fhir_resource_index(name);

    if (i >= 0 || name == NULL)
        return i;
    for (size_t t = cr_fhir_nresources; t < cr_fhir_ntypes; t++) {
        if (strcmp(name, cr_fhir_names[cr_fhir_types[t].name]) == 0)
            return (int)t;
    }
    return -1;
}

/* strcmp of the 'len' bytes at 'a' (no NUL inside) with C string 'b'. */
static int
cmp_name(const char *a, size_t len, const char *b)
{
    int c = strncmp(a, b, len);

    if (c != 0)
        return c;
    return b[len] == '\0' ? 0 : -1;
}

const struct cr_fhir_elem *
cr_fhir_elem_find(unsigned type, const char *name, size_t len)
{
    const struct cr_fhir_type *t;
    size_t lo, hi;

    if (type >= cr_fhir_ntypes)
        return NULL;
    t = &cr_fhir_types[type];
    lo = t->first;
    hi = t->first + t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_name(name, len, cr_fhir_names[cr_fhir_elems[mid].name]);
        if (c == 0)
            return &cr_fhir_elems[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

bool
cr_fhir_is_resource_type(const char *name)
{
    return cr_fhir_resource_index(name) >= 0;
}

bool
cr_fhir_is_supported_type(const char *name)
{
    size_t lo = 0, hi = NSUPPORTED;

    if (name == NULL)
        return false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, supported[mid]);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

const char *const *
cr_fhir_supported_types(size_t *out_n)
{
    *out_n = NSUPPORTED;
    return supported;
}

cr_rc
cr_fhir_element(const char *type, const char *name,
                struct cr_fhir_element *out)
{
    const struct cr_fhir_elem *e = NULL;
    int t;
    const char *p, *dot;

    if (type == NULL || name == NULL || out == NULL)
        return CR_ENOTFOUND;
    t = cr_fhir_type_index(type);
    if (t < 0)
        return CR_ENOTFOUND;
    for (p = name;; p = dot + 1) {
        dot = strchr(p, '.');
        e = cr_fhir_elem_find((unsigned)t, p, dot ? (size_t)(dot - p)
                                                  : strlen(p));
        if (e == NULL)
            return CR_ENOTFOUND;
        if (dot == NULL)
            break;
        if (e->type < CR_FHIR_T_COMPLEX)
            return CR_ENOTFOUND;
        t = (int)(e->type - CR_FHIR_T_COMPLEX);
    }
    out->type = cr_fhir_typeref_name(e->type);
    out->min = e->min;
    out->is_array = (e->flags & CR_FHIR_F_ARRAY) != 0;
    out->is_choice = (e->flags & CR_FHIR_F_CHOICE) != 0;
    out->is_prohibited = (e->flags & CR_FHIR_F_MAX0) != 0;
    return CR_OK;
}

size_t
cr_fhir_required_elements(const char *type, const char **out, size_t max)
{
    int ti = cr_fhir_resource_index(type);
    const struct cr_fhir_type *t;
    size_t n = 0;
    unsigned r, k;

    if (ti < 0)
        return 0;
    t = &cr_fhir_types[ti];
    for (r = 0; r < t->req_count; r++) {
        const struct cr_fhir_elem *e =
            &cr_fhir_elems[cr_fhir_required[t->req_first + r]];
        if (e->group == 0) {
            if (n < max)
                out[n] = cr_fhir_names[e->name];
            n++;
            continue;
        }
        for (k = 0; k < t->count; k++) {
            const struct cr_fhir_elem *v = &cr_fhir_elems[t->first + k];
            if (v->group == e->group) {
                if (n < max)
                    out[n] = cr_fhir_names[v->name];
                n++;
            }
        }
    }
    return n;
}
