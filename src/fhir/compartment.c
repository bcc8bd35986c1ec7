/* compartment.c: which patient's compartment a resource belongs to, from
 * the R4 Patient CompartmentDefinition (reduced to element paths by
 * tools/gen_fhir.mjs, table in defs_gen.c). The store keeps this id beside
 * each resource so access checks and Patient/$everything need no parsing.
 * Depends on core/err, jansson and the tables. */
#include "fhir/fhirInt.h"

#include "core/str.h"

#include <string.h>

#define MAX_SEGS 8

/* The id of the Patient that reference string 's' points at, or a zero
 * length if it points elsewhere: "Patient/abc", "http://x/fhir/Patient/abc",
 * either with "/_history/2" after it. */
static struct cr_str
patient_id_of(const char *s, size_t len)
{
    struct cr_str none = { NULL, 0 };
    const char *hist, *id;
    size_t idlen;

    /* Drop a version suffix. */
    for (hist = s; hist + 10 <= s + len; hist++) {
        if (memcmp(hist, "/_history/", 10) == 0) {
            len = (size_t)(hist - s);
            break;
        }
    }
    if (len > 8 && memcmp(s, "Patient/", 8) == 0) {
        id = s + 8;
    } else {
        /* The last "/Patient/" of an absolute URL. */
        id = NULL;
        for (size_t i = 0; i + 9 <= len; i++) {
            if (memcmp(s + i, "/Patient/", 9) == 0)
                id = s + i + 9;
        }
        if (id == NULL || memchr(s, ':', (size_t)(id - s)) == NULL)
            return none;
    }
    idlen = len - (size_t)(id - s);
    if (!cr_fhir_valid_id(id, idlen))
        return none;
    return (struct cr_str){ id, idlen };
}

/* Search 'node' along path segments segs[0..n) for a Reference to a
 * Patient; the first one in document order wins. */
static struct cr_str
find_ref(const json_t *node, const struct cr_str *segs, size_t n)
{
    struct cr_str none = { NULL, 0 };

    if (json_is_array(node)) {
        /* FHIR arrays hold objects or primitives, never arrays, so one
         * level is all we follow (and recursion stays bounded). */
        for (size_t i = 0; i < json_array_size(node); i++) {
            const json_t *item = json_array_get(node, i);
            struct cr_str r = json_is_object(item) ? find_ref(item, segs, n)
                                                   : none;
            if (r.len > 0)
                return r;
        }
        return none;
    }
    if (!json_is_object(node))
        return none;
    if (n == 0) {
        const json_t *ref = json_object_get(node, "reference");
        if (!json_is_string(ref))
            return none;
        return patient_id_of(json_string_value(ref), json_string_length(ref));
    }
    {
        char key[64];
        const json_t *child;

        if (segs[0].len >= sizeof key)
            return none;
        memcpy(key, segs[0].ptr, segs[0].len);
        key[segs[0].len] = '\0';
        child = json_object_get(node, key);
        if (child == NULL)
            return none;
        return find_ref(child, segs + 1, n - 1);
    }
}

/* As find_ref, calling fn for every Patient reference along the path. */
static void
visit_refs(const json_t *node, const struct cr_str *segs, size_t n,
           cr_fhir_patient_fn fn, void *ctx)
{
    if (json_is_array(node)) {
        for (size_t i = 0; i < json_array_size(node); i++) {
            const json_t *item = json_array_get(node, i);
            if (json_is_object(item))
                visit_refs(item, segs, n, fn, ctx);
        }
        return;
    }
    if (!json_is_object(node))
        return;
    if (n == 0) {
        const json_t *ref = json_object_get(node, "reference");
        struct cr_str id;
        if (!json_is_string(ref))
            return;
        id = patient_id_of(json_string_value(ref), json_string_length(ref));
        if (id.len > 0)
            fn(ctx, id.ptr, id.len);
        return;
    }
    {
        char key[64];
        const json_t *child;

        if (segs[0].len >= sizeof key)
            return;
        memcpy(key, segs[0].ptr, segs[0].len);
        key[segs[0].len] = '\0';
        child = json_object_get(node, key);
        if (child != NULL)
            visit_refs(child, segs + 1, n - 1, fn, ctx);
    }
}

static struct cr_str
find_path(const json_t *resource, const char *path)
{
    struct cr_str segs[MAX_SEGS];
    struct cr_str rest = cr_str_c(path);
    size_t n = 0;

    while (rest.ptr != NULL && n < MAX_SEGS)
        rest = cr_str_cut(rest, '.', &segs[n++]);
    return find_ref(resource, segs, n);
}

static cr_rc
copy_out(struct cr_str id, char *out, size_t out_size)
{
    if (id.len >= out_size)
        return CR_EINVAL;
    memcpy(out, id.ptr, id.len);
    out[id.len] = '\0';
    return CR_OK;
}

cr_rc
cr_fhir_compartment_patient(const json_t *resource, char *out,
                            size_t out_size)
{
    const json_t *rt = json_object_get(resource, "resourceType");
    const struct cr_fhir_comp *comp;
    int ti;

    if (out == NULL || out_size == 0)
        return CR_EINVAL;
    out[0] = '\0';
    if (!json_is_string(rt))
        return CR_EINVAL;
    ti = cr_fhir_resource_index(json_string_value(rt));
    if (ti < 0)
        return CR_EINVAL;
    if (strcmp(json_string_value(rt), "Patient") == 0) {
        const json_t *id = json_object_get(resource, "id");
        if (json_is_string(id)) {
            struct cr_str s = { json_string_value(id),
                                json_string_length(id) };
            if (!cr_fhir_valid_id(s.ptr, s.len))
                return CR_EINVAL;
            return copy_out(s, out, out_size);
        }
    }
    comp = &cr_fhir_comp[ti];
    for (unsigned i = 0; i < comp->count; i++) {
        struct cr_str id = find_path(resource,
                                     cr_fhir_comp_paths[comp->first + i]);
        if (id.len > 0)
            return copy_out(id, out, out_size);
    }
    return CR_ENOTFOUND;
}

cr_rc
cr_fhir_compartment_patients(const json_t *resource, cr_fhir_patient_fn fn,
                             void *ctx)
{
    const json_t *rt = json_object_get(resource, "resourceType");
    const struct cr_fhir_comp *comp;
    int ti;

    if (!json_is_string(rt))
        return CR_EINVAL;
    ti = cr_fhir_resource_index(json_string_value(rt));
    if (ti < 0)
        return CR_EINVAL;
    comp = &cr_fhir_comp[ti];
    for (unsigned i = 0; i < comp->count; i++) {
        struct cr_str segs[MAX_SEGS];
        struct cr_str rest = cr_str_c(cr_fhir_comp_paths[comp->first + i]);
        size_t n = 0;
        while (rest.ptr != NULL && n < MAX_SEGS)
            rest = cr_str_cut(rest, '.', &segs[n++]);
        visit_refs(resource, segs, n, fn, ctx);
    }
    return CR_OK;
}
