/* model.c: what a resource is to a Universal Care Plan, and the small
 * readers of parsed FHIR the rules and the summary share.
 *
 * A Flag's kind comes from its code (a CPR decision, an ADRT, an LPA), so
 * a plan written by another system with the same codes is read the same
 * way; the profiles are what the server adds when it saves a plan.
 * Depends on careplanInt.h, core/jsontext and jansson. Thread-safe. */
#include "careplan/careplanInt.h"

#include "core/jsontext.h"

#include <string.h>

const char *
cr_careplan_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s && *s ? s : NULL;
}

const json_t *
cr_careplan_item(const json_t *list, const char *key, const char *value)
{
    const json_t *e;
    size_t i;

    json_array_foreach(list, i, e) {
        const char *v = cr_careplan_str(e, key);
        if (v && strcmp(v, value) == 0)
            return e;
    }
    return NULL;
}

const json_t *
cr_careplan_ext(const json_t *obj, const char *url)
{
    return cr_careplan_item(json_object_get(obj, "extension"), "url", url);
}

const json_t *
cr_careplan_ext_value(const json_t *obj, const char *url, const char *key)
{
    return json_object_get(cr_careplan_ext(obj, url), key);
}

const char *
cr_careplan_ext_str(const json_t *obj, const char *url)
{
    return cr_careplan_str(cr_careplan_ext(obj, url), "valueString");
}

bool
cr_careplan_cc_has(const json_t *cc, const char *system, const char *code)
{
    const json_t *c;
    size_t i;

    json_array_foreach(json_object_get(cc, "coding"), i, c) {
        const char *s = cr_careplan_str(c, "system");
        const char *k = cr_careplan_str(c, "code");
        if (s && k && strcmp(s, system) == 0 && strcmp(k, code) == 0)
            return true;
    }
    return false;
}

const char *
cr_careplan_cc_code(const json_t *cc, const char *system)
{
    const json_t *c;
    size_t i;

    json_array_foreach(json_object_get(cc, "coding"), i, c) {
        const char *s = cr_careplan_str(c, "system");
        if (s && strcmp(s, system) == 0 && cr_careplan_str(c, "code"))
            return cr_careplan_str(c, "code");
    }
    return NULL;
}

const char *
cr_careplan_cc_text(const json_t *cc)
{
    const json_t *first = json_array_get(json_object_get(cc, "coding"), 0);

    if (cr_careplan_str(cc, "text"))
        return cr_careplan_str(cc, "text");
    if (cr_careplan_str(first, "display"))
        return cr_careplan_str(first, "display");
    return cr_careplan_str(first, "code");
}

bool
cr_careplan_refers_to_patient(const json_t *ref, const char *id)
{
    const char *s = cr_careplan_str(ref, "reference"), *hist, *p;
    size_t len, idlen = strlen(id);

    if (s == NULL)
        return false;
    hist = strstr(s, "/_history/");
    len = hist ? (size_t)(hist - s) : strlen(s);
    if (len == 8 + idlen && strncmp(s, "Patient/", 8) == 0)
        return memcmp(s + 8, id, idlen) == 0;
    if (len < 9 + idlen || strchr(s, ':') == NULL)
        return false;
    p = s + len - idlen - 9;
    return memcmp(p, "/Patient/", 9) == 0 && memcmp(p + 9, id, idlen) == 0;
}

const json_t *
cr_careplan_patient_ref(const char *type, const json_t *res)
{
    return json_object_get(res, strcmp(type, "RelatedPerson") == 0
                                    ? "patient" : "subject");
}

const struct cr_careplan_part *
cr_careplan_find_part(const struct cr_careplan_part *parts, size_t nparts,
                      const char *s)
{
    size_t i, n, r;

    if (s == NULL)
        return NULL;
    n = strlen(s);
    for (i = 0; i < nparts; i++) {
        const char *ref = parts[i].ref;
        if (ref == NULL)
            continue;
        r = strlen(ref);
        if (strcmp(ref, s) == 0 ||
            (n > r && s[n - r - 1] == '/' && memcmp(s + n - r, ref, r) == 0 &&
             strchr(s, ':') != NULL))
            return &parts[i];
    }
    return NULL;
}

bool
cr_careplan_date_of(const char *s, char out[11])
{
    if (s == NULL || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
        return false;
    memcpy(out, s, 10);
    out[10] = '\0';
    return true;
}

/* The Flag's SNOMED code, when it is one the plan knows. */
static enum cr_careplan_kind
flag_kind(const json_t *res)
{
    const json_t *code = json_object_get(res, "code");

    if (cr_careplan_cc_has(code, CR_CAREPLAN_SCT, CR_CAREPLAN_CPR_YES) ||
        cr_careplan_cc_has(code, CR_CAREPLAN_SCT, CR_CAREPLAN_CPR_NO) ||
        cr_careplan_cc_has(code, CR_CAREPLAN_SCT, CR_CAREPLAN_CPR_UNKNOWN))
        return CR_CAREPLAN_CPR;
    if (cr_careplan_cc_has(code, CR_CAREPLAN_SCT, CR_CAREPLAN_ADRT_CODE))
        return CR_CAREPLAN_ADRT;
    if (cr_careplan_cc_has(code, CR_CAREPLAN_SCT, CR_CAREPLAN_LPA_CODE))
        return CR_CAREPLAN_LPA;
    return CR_CAREPLAN_OTHER;
}

enum cr_careplan_kind
cr_careplan_kind_of(const char *type, const json_t *res)
{
    if (type == NULL || res == NULL)
        return CR_CAREPLAN_OTHER;
    if (strcmp(type, "CarePlan") == 0)
        return CR_CAREPLAN_PLAN;
    if (strcmp(type, "Flag") == 0)
        return flag_kind(res);
    if (strcmp(type, "RelatedPerson") == 0)
        return CR_CAREPLAN_CONTACT;
    if (strcmp(type, "MedicationRequest") == 0)
        return CR_CAREPLAN_MEDICINE;
    return CR_CAREPLAN_OTHER;
}

const char *
cr_careplan_profile_of(enum cr_careplan_kind kind)
{
    switch (kind) {
    case CR_CAREPLAN_PLAN: return CR_CAREPLAN_PROFILE;
    case CR_CAREPLAN_CPR: return CR_CAREPLAN_PROFILE_CPR;
    case CR_CAREPLAN_ADRT: return CR_CAREPLAN_PROFILE_ADRT;
    case CR_CAREPLAN_LPA: return CR_CAREPLAN_PROFILE_LPA;
    case CR_CAREPLAN_CONTACT:
    case CR_CAREPLAN_MEDICINE:
    case CR_CAREPLAN_OTHER:
        break;
    }
    return NULL;
}

bool
cr_careplan_is_plan_resource(const json_t *res)
{
    const json_t *p;
    size_t i;

    json_array_foreach(json_object_get(json_object_get(res, "meta"),
                                       "profile"), i, p) {
        const char *s = json_string_value(p);
        if (s && strncmp(s, CR_CAREPLAN_SD "UCP-",
                         sizeof CR_CAREPLAN_SD "UCP-" - 1) == 0)
            return true;
    }
    return false;
}

/* True when member 'key' of the JSON object text holds a string whose
 * text contains 'needle' (the quotes included in the needle when it must
 * be a whole string). */
static bool
member_has(const char *json, size_t len, const char *key, const char *needle)
{
    size_t s0, s1, n = strlen(needle);

    if (!cr_jsontext_member(json, len, key, &s0, &s1) || s1 - s0 < n)
        return false;
    return memmem(json + s0, s1 - s0, needle, n) != NULL;
}

bool
cr_careplan_text_is_plan(const char *json, size_t len, bool is_current_only)
{
    if (json == NULL || len == 0 ||
        !member_has(json, len, "resourceType", "\"CarePlan\"") ||
        !member_has(json, len, "meta", "\"" CR_CAREPLAN_PROFILE "\""))
        return false;
    return !is_current_only || member_has(json, len, "status", "\"active\"");
}
