/* validate.c: checks a parsed FHIR R4 JSON resource against the generated
 * element tables and the primitive types' rules, and describes the first
 * problem found in a struct cr_err (IssueType code, FHIRPath location,
 * sentence). One pass over the JSON tree, no allocation: the location is
 * kept as a stack of (key, index) frames and only rendered on error.
 * Depends on core/err, jansson and the tables (fhirInt.h). */
#include "fhir/fhirInt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_FRAMES (CR_FHIR_MAX_DEPTH + 8)

/* Flags for validate_object. */
#define V_RESOURCE 1     /* the object is a resource root */
#define V_IN_CONTAINED 2 /* the object lies inside a contained resource */

struct frame {
    const char *key; /* element name (without a leading '_') */
    long idx;        /* index in the element's array, or -1 */
};

struct vctx {
    struct cr_err *err;
    const char *root; /* the outermost resource's type, once known */
    int depth;        /* objects being validated, for CR_FHIR_MAX_DEPTH */
    int nframes;
    struct frame frames[MAX_FRAMES];
};

static cr_rc validate_object(struct vctx *c, const json_t *obj, unsigned ti,
                             int flags);

/* Render the current location, plus ".leaf" when 'leaf' is not NULL, into
 * 'out' (truncated to fit). */
static void
render_where(const struct vctx *c, const char *leaf, char *out, size_t size)
{
    size_t n = 0;
    int w;

#define PUT(...)                                                           \
    do {                                                                   \
        if (n < size) {                                                    \
            w = snprintf(out + n, size - n, __VA_ARGS__);                  \
            n += w > 0 ? (size_t)w : 0;                                    \
        }                                                                  \
    } while (0)

    out[0] = '\0';
    if (c->root != NULL)
        PUT("%s", c->root);
    for (int i = 0; i < c->nframes; i++) {
        PUT("%s%s", n > 0 ? "." : "", c->frames[i].key);
        if (c->frames[i].idx >= 0)
            PUT("[%ld]", c->frames[i].idx);
    }
    if (leaf != NULL)
        PUT("%s%s", n > 0 ? "." : "", leaf);
#undef PUT
}

static cr_rc
fail(struct vctx *c, const char *leaf, cr_rc rc, const char *code,
     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static cr_rc
fail(struct vctx *c, const char *leaf, cr_rc rc, const char *code,
     const char *fmt, ...)
{
    char where[sizeof c->err->where];
    char msg[sizeof c->err->msg];
    va_list ap;

    if (c->err == NULL)
        return rc;
    render_where(c, leaf, where, sizeof where);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cr_err_set(c->err, rc, code, where, "%s", msg);
}

static bool
push(struct vctx *c, const char *key)
{
    if (c->nframes >= MAX_FRAMES)
        return false;
    c->frames[c->nframes].key = key;
    c->frames[c->nframes].idx = -1;
    c->nframes++;
    return true;
}

static void
pop(struct vctx *c)
{
    c->nframes--;
}

static void
set_index(struct vctx *c, long idx)
{
    c->frames[c->nframes - 1].idx = idx;
}

/* A short printable rendering of a string value for messages. */
static const char *
quote(const char *s, size_t len, char *buf, size_t size)
{
    size_t n = 0;
    size_t max = size - 4;

    for (size_t i = 0; i < len && n < max; i++) {
        unsigned char ch = (unsigned char)s[i];
        buf[n++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (n < len && n == max) {
        buf[n++] = '.';
        buf[n++] = '.';
        buf[n++] = '.';
    }
    buf[n] = '\0';
    return buf;
}

static const char *
json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a decimal number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

static const char *
type_name(unsigned ti)
{
    return cr_fhir_names[cr_fhir_types[ti].name];
}

static const char *
elem_name(const struct cr_fhir_elem *e)
{
    return cr_fhir_names[e->name];
}

/* "value[x]" for a choice variant such as "valueQuantity". */
static const char *
choice_base(const struct cr_fhir_elem *e, char *buf, size_t size)
{
    const char *name = elem_name(e);
    const char *suffix = cr_fhir_typeref_name(e->type);
    size_t n = strlen(name), s;

    /* The JSON suffix is the type code; SimpleQuantity is a profile. */
    if (strcmp(suffix, "SimpleQuantity") == 0)
        suffix = "Quantity";
    s = strlen(suffix);
    if (s > n)
        s = n;
    snprintf(buf, size, "%.*s[x]", (int)(n - s), name);
    return buf;
}

/* The xhtml of a Narrative: a <div> element (the namespace and content
 * rules of the XHTML profile are not checked). */
static bool
is_div(const char *s, size_t len)
{
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\n' ||
                       s[len - 1] == '\r' || s[len - 1] == '\t'))
        len--;
    while (len > 0 && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) {
        s++;
        len--;
    }
    if (len < 6 || memcmp(s, "<div", 4) != 0 ||
        !(s[4] == ' ' || s[4] == '>' || s[4] == '\n' || s[4] == '\t' ||
          s[4] == '\r' || s[4] == '/'))
        return false;
    return (len >= 6 && memcmp(s + len - 6, "</div>", 6) == 0) ||
           memcmp(s + len - 2, "/>", 2) == 0;
}

static cr_rc
validate_prim(struct vctx *c, const json_t *v, unsigned p)
{
    const char *pname = cr_fhir_prim_name(p);
    char q[80];

    switch (p) {
    case CR_FHIR_P_BOOLEAN:
        if (!json_is_boolean(v))
            return fail(c, NULL, CR_EINVAL, "structure",
                        "Expected true or false (FHIR type boolean), found "
                        "%s.",
                        json_kind(v));
        return CR_OK;
    case CR_FHIR_P_INTEGER:
    case CR_FHIR_P_POSITIVEINT:
    case CR_FHIR_P_UNSIGNEDINT: {
        json_int_t n, lo = p == CR_FHIR_P_INTEGER       ? -2147483647 - 1
                           : p == CR_FHIR_P_POSITIVEINT ? 1
                                                        : 0;
        if (!json_is_integer(v))
            return fail(c, NULL, CR_EINVAL, "structure",
                        "Expected a JSON integer (FHIR type %s), found %s.",
                        pname, json_kind(v));
        n = json_integer_value(v);
        if (n < lo || n > 2147483647)
            return fail(c, NULL, CR_EINVAL, "value",
                        "%" JSON_INTEGER_FORMAT " is out of range for %s; "
                        "expected %" JSON_INTEGER_FORMAT " to 2147483647.",
                        n, pname, lo);
        return CR_OK;
    }
    case CR_FHIR_P_DECIMAL:
        if (!json_is_number(v))
            return fail(c, NULL, CR_EINVAL, "structure",
                        "Expected a JSON number (FHIR type decimal), found "
                        "%s.",
                        json_kind(v));
        return CR_OK;
    default: {
        const char *s, *expect;
        size_t len;

        if (!json_is_string(v))
            return fail(c, NULL, CR_EINVAL, "structure",
                        "Expected a JSON string (FHIR type %s), found %s.",
                        pname, json_kind(v));
        s = json_string_value(v);
        len = json_string_length(v);
        if (len == 0)
            return fail(c, NULL, CR_EINVAL, "value",
                        "Empty string: FHIR JSON does not allow empty values; "
                        "leave the element out instead.");
        expect = cr_fhir_prim_check(p, s, len);
        if (expect == NULL && p == CR_FHIR_P_XHTML && !is_div(s, len))
            expect = "XHTML whose root element is a <div>";
        if (expect != NULL)
            return fail(c, NULL, CR_EINVAL, "value",
                        "'%s' is not a valid %s; expected %s.",
                        quote(s, len, q, sizeof q), pname, expect);
        return CR_OK;
    }
    }
}

/* Check "resourceType" of 'obj' and validate it as a resource: of type
 * 'expect' (index into cr_fhir_types), or of any R4 type when 'expect' is
 * negative. */
static cr_rc
validate_resource(struct vctx *c, const json_t *obj, int expect, int flags)
{
    const json_t *rt = json_object_get(obj, "resourceType");
    const char *name;
    char q[80];
    int ti;

    if (rt == NULL)
        return fail(c, "resourceType", CR_EINVAL, "required",
                    "A resource must have a resourceType.");
    if (!json_is_string(rt))
        return fail(c, "resourceType", CR_EINVAL, "structure",
                    "resourceType must be a JSON string naming the resource "
                    "type, found %s.",
                    json_kind(rt));
    name = json_string_value(rt);
    ti = cr_fhir_resource_index(name);
    if (ti < 0)
        return fail(c, "resourceType", CR_EINVAL, "structure",
                    "'%s' is not a FHIR R4 resource type.",
                    quote(name, json_string_length(rt), q, sizeof q));
    if (expect >= 0 && ti != expect)
        return fail(c, "resourceType", CR_EINVAL, "structure",
                    "Expected a %s resource here, found %s.",
                    type_name((unsigned)expect), name);
    return validate_object(c, obj, (unsigned)ti, flags | V_RESOURCE);
}

/* One non-null item (or a single value) of element 'e'. */
static cr_rc
validate_item(struct vctx *c, const json_t *v, const struct cr_fhir_elem *e,
              int flags)
{
    unsigned t = e->type;

    if (json_is_null(v))
        return fail(c, NULL, CR_EINVAL, "structure",
                    "null is not allowed in FHIR JSON; leave the element "
                    "out instead.");
    if (t < CR_FHIR_NPRIM)
        return validate_prim(c, v, t);
    if (!json_is_object(v))
        return fail(c, NULL, CR_EINVAL, "structure",
                    "Expected a JSON object (%s), found %s.",
                    cr_fhir_typeref_name(t), json_kind(v));
    flags &= V_IN_CONTAINED;
    if (t == CR_FHIR_T_RESOURCE) {
        if (strcmp(elem_name(e), "contained") == 0)
            flags |= V_IN_CONTAINED;
        return validate_resource(c, v, -1, flags);
    }
    t -= CR_FHIR_T_COMPLEX;
    if (cr_fhir_types[t].kind == CR_FHIR_K_RESOURCE)
        return validate_resource(c, v, (int)t, flags);
    return validate_object(c, v, t, flags);
}

/* The value of element 'e' found under 'key' in 'obj'. */
static cr_rc
validate_value(struct vctx *c, const json_t *obj, const char *key,
               const json_t *v, const struct cr_fhir_elem *e, int flags)
{
    cr_rc rc;

    if (!(e->flags & CR_FHIR_F_ARRAY)) {
        if (json_is_array(v))
            return fail(c, NULL, CR_EINVAL, "structure",
                        "'%s' must be a single value, not an array "
                        "(maximum cardinality 1).",
                        key);
        return validate_item(c, v, e, flags);
    }
    if (!json_is_array(v))
        return fail(c, NULL, CR_EINVAL, "structure",
                    "'%s' must be a JSON array (it may repeat), found %s.",
                    key, json_kind(v));
    if (json_array_size(v) == 0)
        return fail(c, NULL, CR_EINVAL, "structure",
                    "Empty array: FHIR JSON does not allow empty arrays; "
                    "leave the element out instead.");
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *item = json_array_get(v, i);

        set_index(c, (long)i);
        if (json_is_null(item) && e->type < CR_FHIR_NPRIM) {
            /* A null stands in for a value that has only extensions. */
            char ukey[128];
            const json_t *ext = NULL;

            if (snprintf(ukey, sizeof ukey, "_%s", key) < (int)sizeof ukey)
                ext = json_object_get(obj, ukey);
            if (json_is_array(ext) && json_is_object(json_array_get(ext, i)))
                continue;
            return fail(c, NULL, CR_EINVAL, "structure",
                        "null is only allowed in an array of primitives "
                        "where '_%s' holds an extension at the same index.",
                        key);
        }
        rc = validate_item(c, item, e, flags);
        if (rc != CR_OK)
            return rc;
    }
    set_index(c, -1);
    return CR_OK;
}

/* "_key": the id and extensions of primitive element 'e', whose value (if
 * any) is 'sib'. */
static cr_rc
validate_ext(struct vctx *c, const char *key, const json_t *v,
             const json_t *sib, const struct cr_fhir_elem *e, int flags)
{
    unsigned el = cr_fhir_type_element;
    size_t n;
    cr_rc rc;

    flags &= V_IN_CONTAINED;
    if (!(e->flags & CR_FHIR_F_ARRAY)) {
        if (json_is_array(v))
            return fail(c, NULL, CR_EINVAL, "structure",
                        "'%s' must be a single JSON object holding id and "
                        "extension, not an array, because '%s' does not "
                        "repeat.",
                        key, key + 1);
        if (!json_is_object(v))
            return fail(c, NULL, CR_EINVAL, "structure",
                        "'%s' must be a JSON object holding id and extension, "
                        "found %s.",
                        key, json_kind(v));
        return validate_object(c, v, el, flags);
    }
    if (!json_is_array(v))
        return fail(c, NULL, CR_EINVAL, "structure",
                    "'%s' must be a JSON array matching '%s', found %s.", key,
                    key + 1, json_kind(v));
    n = json_array_size(v);
    if (n == 0)
        return fail(c, NULL, CR_EINVAL, "structure",
                    "Empty array: FHIR JSON does not allow empty arrays; "
                    "leave the element out instead.");
    if (json_is_array(sib) && json_array_size(sib) != n)
        return fail(c, NULL, CR_EINVAL, "structure",
                    "'%s' has %zu entries but '%s' has %zu; they must match "
                    "one to one, with null where one side has nothing.",
                    key, n, key + 1, json_array_size(sib));
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(v, i);

        set_index(c, (long)i);
        if (json_is_null(item)) {
            const json_t *val = json_is_array(sib) ? json_array_get(sib, i)
                                                   : NULL;
            if (val != NULL && !json_is_null(val))
                continue;
            return fail(c, NULL, CR_EINVAL, "structure",
                        "null in '%s' where '%s' has no value either; each "
                        "entry needs a value or an extension.",
                        key, key + 1);
        }
        if (!json_is_object(item))
            return fail(c, NULL, CR_EINVAL, "structure",
                        "Entries of '%s' must be JSON objects holding id and "
                        "extension (or null), found %s.",
                        key, json_kind(item));
        rc = validate_object(c, item, el, flags);
        if (rc != CR_OK)
            return rc;
    }
    set_index(c, -1);
    return CR_OK;
}

/* Name a choice variant in 'obj' other than 'self' from group 'group', for
 * the message about two variants. */
static const char *
other_variant(const json_t *obj, unsigned ti, unsigned group,
              const char *self)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val) {
        const char *k = key[0] == '_' ? key + 1 : key;
        const struct cr_fhir_elem *o = cr_fhir_elem_find(ti, k, strlen(k));
        if (o != NULL && o->group == group && strcmp(k, self) != 0)
            return k;
    }
    return "another variant";
}

static cr_rc
check_required(struct vctx *c, const json_t *obj, unsigned ti,
               uint64_t groups)
{
    const struct cr_fhir_type *t = &cr_fhir_types[ti];
    char buf[128];

    for (unsigned r = 0; r < t->req_count; r++) {
        const struct cr_fhir_elem *e =
            &cr_fhir_elems[cr_fhir_required[t->req_first + r]];
        const char *name = elem_name(e);

        if (e->group != 0) {
            if (groups & ((uint64_t)1 << e->group))
                continue;
            choice_base(e, buf, sizeof buf);
            return fail(c, buf, CR_EINVAL, "required",
                        "Missing required element %s in %s (one of its "
                        "variants, such as '%s', must be present).",
                        buf, type_name(ti), name);
        }
        if (json_object_get(obj, name) != NULL)
            continue;
        if (snprintf(buf, sizeof buf, "_%s", name) < (int)sizeof buf &&
            e->type < CR_FHIR_NPRIM && json_object_get(obj, buf) != NULL)
            continue;
        return fail(c, name, CR_EINVAL, "required",
                    "Missing required element '%s' in %s (minimum "
                    "cardinality %d).",
                    name, type_name(ti), e->min);
    }
    return CR_OK;
}

/* UK Core: an Identifier in the NHS number system carries a valid one. */
static cr_rc
check_identifier(struct vctx *c, const json_t *obj)
{
    const json_t *sys = json_object_get(obj, "system");
    const json_t *val = json_object_get(obj, "value");
    char q[80];

    if (!json_is_string(sys) || !json_is_string(val) ||
        strcmp(json_string_value(sys), CR_FHIR_NHS_NUMBER_SYSTEM) != 0)
        return CR_OK;
    if (cr_fhir_nhs_number_valid(json_string_value(val),
                                 json_string_length(val)))
        return CR_OK;
    return fail(c, "value", CR_EINVAL, "value",
                "'%s' is not a valid NHS number; expected 10 digits without "
                "spaces whose last digit is the Modulus 11 check digit.",
                quote(json_string_value(val), json_string_length(val), q,
                      sizeof q));
}

static cr_rc
validate_object(struct vctx *c, const json_t *obj, unsigned ti, int flags)
{
    const char *key;
    json_t *val;
    uint64_t groups = 0;
    cr_rc rc = CR_OK;

    if (c->depth >= CR_FHIR_MAX_DEPTH)
        return fail(c, NULL, CR_EINVAL, "structure",
                    "The resource is nested more than %d levels deep.",
                    CR_FHIR_MAX_DEPTH);
    if (json_object_size(obj) == 0)
        return fail(c, NULL, CR_EINVAL, "structure",
                    "Empty object: FHIR JSON does not allow empty objects; "
                    "leave the element out instead.");
    c->depth++;
    json_object_foreach((json_t *)obj, key, val) {
        const struct cr_fhir_elem *e;
        bool is_ext = key[0] == '_';
        const char *name = is_ext ? key + 1 : key;

        e = cr_fhir_elem_find(ti, name, strlen(name));
        /* ExampleScenario.instance has an element called resourceType. */
        if (e == NULL && !is_ext && strcmp(key, "resourceType") == 0) {
            if (flags & V_RESOURCE)
                continue;
            rc = fail(c, key, CR_EINVAL, "structure",
                      "resourceType is only allowed at the root of a "
                      "resource, not inside %s.",
                      type_name(ti));
            goto out;
        }
        if (e == NULL || (is_ext && e->type >= CR_FHIR_NPRIM)) {
            if (ti == cr_fhir_type_element)
                rc = fail(c, key, CR_EINVAL, "structure",
                          "Unknown element '%s': a primitive's extension "
                          "object may hold only 'id' and 'extension'.",
                          key);
            else if (e == NULL)
                rc = fail(c, key, CR_EINVAL, "structure",
                          "Unknown element '%s' in %s.", key, type_name(ti));
            else
                rc = fail(c, key, CR_EINVAL, "structure",
                          "'%s' is not allowed: '%s' is of type %s, not a "
                          "primitive, so it has no '_' sibling.",
                          key, name, cr_fhir_typeref_name(e->type));
            goto out;
        }
        if (!push(c, elem_name(e))) {
            rc = fail(c, NULL, CR_EINVAL, "structure",
                      "The resource is nested too deeply.");
            goto out;
        }
        if (e->flags & CR_FHIR_F_MAX0) {
            rc = fail(c, NULL, CR_EINVAL, "structure",
                      "'%s' is not allowed in %s here (maximum cardinality "
                      "0).",
                      name, type_name(ti));
            goto out_pop;
        }
        if (e->group != 0 &&
            !(is_ext && json_object_get(obj, name) != NULL)) {
            uint64_t bit = (uint64_t)1 << e->group;
            if (groups & bit) {
                char buf[128];
                rc = fail(c, NULL, CR_EINVAL, "structure",
                          "Only one variant of %s may be present, found '%s' "
                          "and '%s'.",
                          choice_base(e, buf, sizeof buf),
                          other_variant(obj, ti, e->group, name), name);
                goto out_pop;
            }
            groups |= bit;
        }
        if (is_ext) {
            rc = validate_ext(c, key, val, json_object_get(obj, name), e,
                              flags);
        } else {
            if ((flags & (V_RESOURCE | V_IN_CONTAINED)) ==
                    (V_RESOURCE | V_IN_CONTAINED) &&
                e->type == CR_FHIR_T_RESOURCE &&
                strcmp(key, "contained") == 0) {
                rc = fail(c, NULL, CR_EINVAL, "structure",
                          "A contained resource must not contain other "
                          "resources; put them all in the outer resource's "
                          "'contained'.");
                goto out_pop;
            }
            rc = validate_value(c, obj, key, val, e, flags);
        }
out_pop:
        pop(c);
        if (rc != CR_OK)
            goto out;
    }
    rc = check_required(c, obj, ti, groups);
    if (rc == CR_OK && ti == cr_fhir_type_identifier)
        rc = check_identifier(c, obj);
out:
    c->depth--;
    return rc;
}

static cr_rc
validate_root(const json_t *resource, struct cr_err *err, bool any_type)
{
    struct vctx c;
    const json_t *rt;
    const char *name;
    int ti;

    c.err = err;
    c.root = NULL;
    c.depth = 0;
    c.nframes = 0;
    if (!json_is_object(resource))
        return fail(&c, NULL, CR_EINVAL, "structure",
                    "Expected a FHIR resource as a JSON object, found %s.",
                    resource ? json_kind(resource) : "nothing");
    rt = json_object_get(resource, "resourceType");
    if (json_is_string(rt)) {
        name = json_string_value(rt);
        ti = cr_fhir_resource_index(name);
        if (ti >= 0 && !any_type && !cr_fhir_is_supported_type(name))
            return fail(&c, "resourceType", CR_EUNSUPPORTED,
                        "not-supported",
                        "This server does not accept %s resources.", name);
        if (ti >= 0)
            c.root = name;
    }
    return validate_resource(&c, resource, -1, 0);
}

cr_rc
cr_fhir_validate(const json_t *resource, struct cr_err *err)
{
    return validate_root(resource, err, false);
}

cr_rc
cr_fhir_validate_any(const json_t *resource, struct cr_err *err)
{
    return validate_root(resource, err, true);
}
