/* index.c: search parameter lookups and index extraction
 * (cr_fhir_search_param, cr_fhir_search_params, cr_fhir_index), and the
 * date ranges both sides of a date search use (cr_fhir_parse_date_range).
 *
 * Extraction walks the resource once along its type's path trie
 * (search_gen.c): at each node one json_object_get per child, arrays
 * followed item by item, filters checked on the items, and at the nodes
 * where a parameter's path ends the value is turned into rows as the FHIR
 * R4 search page says (docs/internals/search-params.md). Rows are
 * de-duplicated through a small open-addressing table before they reach
 * the callback. Memory for folded strings and the de-duplication table
 * comes from buffers on the stack; only a resource with many rows or long
 * strings spills to the heap, in chunks freed at the end of the call.
 * Depends on core/, jansson, fold.c and the tables. */
#include "fhir/fhirInt.h"
#include "fhir/search.h"

#include "core/civil.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Lookups ------------------------------------------------------------- */

static const struct cr_fhir_sp_typetab *
find_type(const char *type)
{
    size_t lo = 0, hi = cr_fhir_sp_ntypes;

    if (type == NULL)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(type, cr_fhir_sp_types[mid].type);
        if (c == 0)
            return &cr_fhir_sp_types[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct cr_fhir_sp *
cr_fhir_search_param(const char *type, const char *code)
{
    const struct cr_fhir_sp_typetab *t = find_type(type);
    size_t lo, hi;

    if (t == NULL || code == NULL)
        return NULL;
    lo = t->first;
    hi = (size_t)t->first + t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(code, cr_fhir_sp_index[mid]->code);
        if (c == 0)
            return cr_fhir_sp_index[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t
cr_fhir_search_params(const char *type, const struct cr_fhir_sp *const **out)
{
    const struct cr_fhir_sp_typetab *t = find_type(type);

    if (t == NULL) {
        *out = NULL;
        return 0;
    }
    *out = &cr_fhir_sp_index[t->first];
    return t->count;
}

/* --- Dates --------------------------------------------------------------- */

/* Read exactly 'n' digits at '*pp' as a number; advance on success. */
static bool
digits(const char **pp, const char *end, int n, unsigned *out)
{
    const char *p = *pp;
    unsigned v = 0;

    if (end - p < n)
        return false;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *pp = p + n;
    *out = v;
    return true;
}

#define MS_DAY INT64_C(86400000)

bool
cr_fhir_parse_date_range(const char *s, size_t len, int64_t *lo, int64_t *hi)
{
    const char *p = s, *end;
    unsigned y, mo = 1, d = 1, h = 0, mi = 0, sec = 0, frac = 0;
    int64_t base, width, offset = 0;

    if (s == NULL)
        return false;
    end = s + len;
    if (!digits(&p, end, 4, &y) || y == 0)
        return false;
    if (p == end) {
        base = cr_civil_days_from(y, 1, 1) * MS_DAY;
        width = cr_civil_days_from(y + 1, 1, 1) * MS_DAY - base;
        goto done;
    }
    if (*p++ != '-' || !digits(&p, end, 2, &mo) || mo < 1 || mo > 12)
        return false;
    if (p == end) {
        base = cr_civil_days_from(y, mo, 1) * MS_DAY;
        width = (int64_t)cr_civil_days_in_month(y, mo) * MS_DAY;
        goto done;
    }
    if (*p++ != '-' || !digits(&p, end, 2, &d) || d < 1 ||
        d > cr_civil_days_in_month(y, mo))
        return false;
    base = cr_civil_days_from(y, mo, d) * MS_DAY;
    if (p == end) {
        width = MS_DAY;
        goto done;
    }
    if (*p++ != 'T' || !digits(&p, end, 2, &h) || h > 23 || p == end ||
        *p++ != ':' || !digits(&p, end, 2, &mi) || mi > 59)
        return false;
    width = 60000;
    if (p < end && *p == ':') {
        p++;
        if (!digits(&p, end, 2, &sec) || sec > 60)
            return false;
        width = 1000;
        if (p < end && *p == '.') {
            int n = 0;
            p++;
            while (p < end && *p >= '0' && *p <= '9') {
                if (n < 3) {
                    frac = frac * 10 + (unsigned)(*p - '0');
                    width /= 10;
                }
                n++;
                p++;
            }
            if (n == 0)
                return false;
            for (int i = n; i < 3; i++)
                frac *= 10;
        }
    }
    if (p < end) {
        unsigned zh, zm;
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1;
            if (!digits(&p, end, 2, &zh) || p == end || *p++ != ':' ||
                !digits(&p, end, 2, &zm) || zm > 59 ||
                zh * 60 + zm > 14 * 60)
                return false;
            offset = sign * (int64_t)(zh * 60 + zm) * 60000;
        } else {
            return false;
        }
        if (p != end)
            return false;
    }
    base += (int64_t)h * 3600000 + (int64_t)mi * 60000 +
            (int64_t)sec * 1000 + frac - offset;
done:
    *lo = base;
    *hi = base + width - 1;
    return true;
}

/* --- The extraction context ---------------------------------------------- */

#define STACK_SCRATCH 4096
#define STACK_ROWS 64
#define CHUNK_MIN 16384

struct chunk {
    struct chunk *next;
    char data[];
};

struct seen {
    struct cr_fhir_index_row row;
    uint64_t hash;
};

struct ix {
    cr_fhir_index_fn emit;
    void *ctx;
    bool stopped;
    cr_rc rc;

    /* Scratch for strings: append-only, so earlier rows stay valid. */
    char *buf;
    size_t used, cap;
    struct chunk *chunks;

    /* Rows emitted so far and an open-addressing table over them
     * (slot = row index + 1; 0 is empty). */
    struct seen *rows;
    size_t nrows, rows_cap;
    uint32_t *slots;
    size_t nslots;      /* a power of two, at least twice nrows */

    char stack_buf[STACK_SCRATCH];
    struct seen stack_rows[STACK_ROWS];
    uint32_t stack_slots[STACK_ROWS * 2];
};

static void
ix_fail(struct ix *ix, cr_rc rc)
{
    if (ix->rc == CR_OK)
        ix->rc = rc;
    ix->stopped = true;
}

/* 'size' bytes of scratch that live until the end of the call, or NULL
 * (and the walk stopped) when out of memory. */
static char *
scratch(struct ix *ix, size_t size)
{
    char *p;

    if (ix->cap - ix->used < size) {
        size_t want = size > CHUNK_MIN ? size : CHUNK_MIN;
        struct chunk *c = malloc(sizeof *c + want);
        if (c == NULL) {
            ix_fail(ix, CR_ENOMEM);
            return NULL;
        }
        c->next = ix->chunks;
        ix->chunks = c;
        ix->buf = c->data;
        ix->used = 0;
        ix->cap = want;
    }
    p = ix->buf + ix->used;
    ix->used += size;
    return p;
}

/* A folded, NUL-terminated copy of 's' in scratch, or NULL. */
static const char *
fold_copy(struct ix *ix, const char *s, size_t len)
{
    char *out = scratch(ix, len + 1);

    if (out == NULL)
        return NULL;
    cr_fhir_fold(s, len, out, len + 1);
    return out;
}

/* A NUL-terminated copy of 'len' bytes of 's' in scratch, or NULL. */
static const char *
copy(struct ix *ix, const char *s, size_t len)
{
    char *out = scratch(ix, len + 1);

    if (out == NULL)
        return NULL;
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

static uint64_t
hash_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static uint64_t
hash_str(uint64_t h, const char *s)
{
    if (s == NULL)
        return hash_bytes(h, "\xff", 1);
    return hash_bytes(h, s, strlen(s) + 1);
}

static uint64_t
hash_row(const struct cr_fhir_index_row *r)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    int kind = (int)r->kind;

    h = hash_bytes(h, &kind, sizeof kind);
    h = hash_bytes(h, &r->param, sizeof r->param);
    h = hash_str(h, r->system);
    h = hash_str(h, r->code);
    h = hash_str(h, r->text);
    h = hash_str(h, r->raw);
    h = hash_bytes(h, &r->lo, sizeof r->lo);
    h = hash_bytes(h, &r->hi, sizeof r->hi);
    h = hash_bytes(h, &r->num, sizeof r->num);
    h = hash_bytes(h, &r->num_lo, sizeof r->num_lo);
    h = hash_bytes(h, &r->num_hi, sizeof r->num_hi);
    h = hash_str(h, r->ref_type);
    h = hash_str(h, r->ref_id);
    return h;
}

static bool
str_same(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return a == b || strcmp(a, b) == 0;
}

static bool
num_same(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static bool
row_same(const struct cr_fhir_index_row *a, const struct cr_fhir_index_row *b)
{
    return a->kind == b->kind && a->param == b->param &&
           str_same(a->system, b->system) && str_same(a->code, b->code) &&
           str_same(a->text, b->text) && str_same(a->raw, b->raw) &&
           a->lo == b->lo && a->hi == b->hi && num_same(a->num, b->num) &&
           num_same(a->num_lo, b->num_lo) &&
           num_same(a->num_hi, b->num_hi) &&
           str_same(a->ref_type, b->ref_type) &&
           str_same(a->ref_id, b->ref_id);
}

/* Make room for one more row: grow the row array and rebuild the table
 * when it would be more than half full. */
static bool
grow(struct ix *ix)
{
    struct seen *rows;
    uint32_t *slots;
    size_t cap = ix->rows_cap * 2, nslots = cap * 2;

    if (cap > UINT32_MAX / 4) {
        ix_fail(ix, CR_ENOMEM);
        return false;
    }
    rows = malloc(cap * sizeof *rows);
    slots = calloc(nslots, sizeof *slots);
    if (rows == NULL || slots == NULL) {
        free(rows);
        free(slots);
        ix_fail(ix, CR_ENOMEM);
        return false;
    }
    memcpy(rows, ix->rows, ix->nrows * sizeof *rows);
    for (size_t i = 0; i < ix->nrows; i++) {
        size_t s = (size_t)rows[i].hash & (nslots - 1);
        while (slots[s] != 0)
            s = (s + 1) & (nslots - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    if (ix->rows != ix->stack_rows) {
        free(ix->rows);
        free(ix->slots);
    }
    ix->rows = rows;
    ix->slots = slots;
    ix->rows_cap = cap;
    ix->nslots = nslots;
    return true;
}

/* Hand 'r' to the callback unless an identical row went before. */
static void
put(struct ix *ix, const struct cr_fhir_index_row *r)
{
    uint64_t h;
    size_t s;

    if (ix->stopped)
        return;
    h = hash_row(r);
    for (s = (size_t)h & (ix->nslots - 1); ix->slots[s] != 0;
         s = (s + 1) & (ix->nslots - 1)) {
        const struct seen *o = &ix->rows[ix->slots[s] - 1];
        if (o->hash == h && row_same(&o->row, r))
            return;
    }
    if (ix->nrows == ix->rows_cap) {
        if (!grow(ix))
            return;
        for (s = (size_t)h & (ix->nslots - 1); ix->slots[s] != 0;
             s = (s + 1) & (ix->nslots - 1))
            ;
    }
    ix->rows[ix->nrows].row = *r;
    ix->rows[ix->nrows].hash = h;
    ix->slots[s] = (uint32_t)(++ix->nrows);
    if (ix->emit(ix->ctx, r) != 0)
        ix->stopped = true;
}

static struct cr_fhir_index_row
row_of(enum cr_fhir_sp_type kind, const char *param)
{
    struct cr_fhir_index_row r;

    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.param = param;
    return r;
}

/* The string value of member 'key' of object 'o', or NULL. */
static const char *
get_str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* --- Tokens -------------------------------------------------------------- */

static void
token(struct ix *ix, const char *param, const char *system, const char *code,
      const char *display)
{
    struct cr_fhir_index_row r;

    if (system == NULL && code == NULL && display == NULL)
        return;
    r = row_of(CR_SP_TOKEN, param);
    r.system = system;
    r.code = code;
    if (display != NULL) {
        r.text = fold_copy(ix, display, strlen(display));
        if (r.text == NULL)
            return;
    }
    put(ix, &r);
}

static void
token_coding(struct ix *ix, const char *param, const json_t *v)
{
    if (json_is_object(v))
        token(ix, param, get_str(v, "system"), get_str(v, "code"),
              get_str(v, "display"));
}

static void
token_cc(struct ix *ix, const char *param, const json_t *v)
{
    const json_t *codings, *c;
    const char *text;
    size_t i;

    if (!json_is_object(v))
        return;
    codings = json_object_get(v, "coding");
    json_array_foreach(codings, i, c) {
        token_coding(ix, param, c);
    }
    text = get_str(v, "text");
    if (text != NULL)
        token(ix, param, NULL, NULL, text);
}

static void
token_identifier(struct ix *ix, const char *param, const json_t *v)
{
    if (json_is_object(v))
        token(ix, param, get_str(v, "system"), get_str(v, "value"), NULL);
}

static void
token_exists(struct ix *ix, const char *param, const json_t *v,
             const char *keys)
{
    bool yes = false;

    /* 'keys' lists the JSON names of X: "deceasedBoolean|deceasedDateTime".
     * X.exists() and X != false: any present value other than false. */
    while (*keys != '\0' && json_is_object(v)) {
        const char *bar = strchr(keys, '|');
        size_t n = bar ? (size_t)(bar - keys) : strlen(keys);
        char key[64];
        const json_t *x;

        if (n < sizeof key) {
            memcpy(key, keys, n);
            key[n] = '\0';
            x = json_object_get(v, key);
            if (x != NULL && !json_is_false(x))
                yes = true;
        }
        keys += n + (bar != NULL);
    }
    token(ix, param, CR_FHIR_IMPLICIT_SYSTEM, yes ? "true" : "false", NULL);
}

/* --- Strings ------------------------------------------------------------- */

static void
string_value(struct ix *ix, const char *param, const json_t *v)
{
    struct cr_fhir_index_row r;

    if (!json_is_string(v))
        return;
    r = row_of(CR_SP_STRING, param);
    r.raw = json_string_value(v);
    r.text = fold_copy(ix, r.raw, json_string_length(v));
    if (r.text != NULL)
        put(ix, &r);
}

/* A string member, or each string of an array member. */
static void
string_member(struct ix *ix, const char *param, const json_t *o,
              const char *key)
{
    const json_t *v = json_object_get(o, key), *item;
    size_t i;

    if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            string_value(ix, param, item);
        }
    } else {
        string_value(ix, param, v);
    }
}

static void
string_members(struct ix *ix, const char *param, const json_t *v,
               const char *const *keys)
{
    if (!json_is_object(v))
        return;
    for (; *keys != NULL; keys++)
        string_member(ix, param, v, *keys);
}

static const char *const humanname_keys[] = {
    "family", "given", "prefix", "suffix", "text", NULL,
};

static const char *const address_keys[] = {
    "line", "city", "district", "state", "postalCode", "country", "text",
    NULL,
};

/* --- Dates --------------------------------------------------------------- */

static bool
date_of(const json_t *v, int64_t *lo, int64_t *hi)
{
    return json_is_string(v) &&
           cr_fhir_parse_date_range(json_string_value(v),
                                    json_string_length(v), lo, hi);
}

static void
date_row(struct ix *ix, const char *param, int64_t lo, int64_t hi)
{
    struct cr_fhir_index_row r = row_of(CR_SP_DATE, param);

    r.lo = lo;
    r.hi = hi;
    put(ix, &r);
}

static void
date_value(struct ix *ix, const char *param, const json_t *v)
{
    int64_t lo, hi;

    if (date_of(v, &lo, &hi))
        date_row(ix, param, lo, hi);
}

/* A Period's range into '*lo'/'*hi'; false when it has neither end or an
 * end does not parse. */
static bool
period_of(const json_t *v, int64_t *lo, int64_t *hi)
{
    const json_t *start = json_object_get(v, "start");
    const json_t *end = json_object_get(v, "end");
    int64_t a, b;

    if (!json_is_object(v) || (start == NULL && end == NULL))
        return false;
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    if (start != NULL) {
        if (!date_of(start, &a, &b))
            return false;
        *lo = a;
    }
    if (end != NULL) {
        if (!date_of(end, &a, &b))
            return false;
        *hi = b;
    }
    return true;
}

static void
date_period(struct ix *ix, const char *param, const json_t *v)
{
    int64_t lo, hi;

    if (period_of(v, &lo, &hi))
        date_row(ix, param, lo, hi);
}

/* A Timing covers the outer limits of its events and repeat.boundsPeriod
 * (R4 search: "the specified scheduling details are ignored and only the
 * outer limits matter"). */
static void
date_timing(struct ix *ix, const char *param, const json_t *v)
{
    const json_t *events, *e, *repeat;
    int64_t lo = INT64_MAX, hi = INT64_MIN, a, b;
    bool any = false;
    size_t i;

    if (!json_is_object(v))
        return;
    events = json_object_get(v, "event");
    json_array_foreach(events, i, e) {
        if (date_of(e, &a, &b)) {
            lo = a < lo ? a : lo;
            hi = b > hi ? b : hi;
            any = true;
        }
    }
    repeat = json_object_get(v, "repeat");
    if (json_is_object(repeat) &&
        period_of(json_object_get(repeat, "boundsPeriod"), &a, &b)) {
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
        any = true;
    }
    if (any)
        date_row(ix, param, lo, hi);
}

/* --- References and URIs ------------------------------------------------- */

/* Split a literal reference into its type (a static name) and id: the
 * last two path segments of "Type/id", "http://host/fhir/Type/id", after
 * dropping any "/_history/n". Contained ("#x") and "urn:" references, and
 * anything whose last two segments are not an R4 type and a valid id, give
 * false. '*id' points into 's' and is not NUL-terminated. */
static bool
split_reference(const char *s, size_t len, const char **type,
                const char **id, size_t *id_len)
{
    const char *slash, *tstart;
    char name[64];
    size_t tlen;
    int ti;

    if (len == 0 || s[0] == '#' || (len >= 4 && memcmp(s, "urn:", 4) == 0))
        return false;
    for (size_t i = len; i >= 10; i--) {
        if (memcmp(s + i - 10, "/_history/", 10) == 0) {
            len = i - 10;
            break;
        }
    }
    slash = NULL;
    for (size_t i = len; i > 0; i--) {
        if (s[i - 1] == '/') {
            slash = s + i - 1;
            break;
        }
    }
    if (slash == NULL || slash == s)
        return false;
    tstart = slash;
    while (tstart > s && tstart[-1] != '/')
        tstart--;
    tlen = (size_t)(slash - tstart);
    if (tlen == 0 || tlen >= sizeof name)
        return false;
    memcpy(name, tstart, tlen);
    name[tlen] = '\0';
    ti = cr_fhir_resource_index(name);
    if (ti < 0)
        return false;
    *id = slash + 1;
    *id_len = len - (size_t)(*id - s);
    if (!cr_fhir_valid_id(*id, *id_len))
        return false;
    *type = cr_fhir_names[cr_fhir_types[ti].name];
    return true;
}

static void
reference(struct ix *ix, const struct cr_fhir_sp *sp, const json_t *v,
          const char *want_type)
{
    const json_t *ref, *ident;
    const char *type = NULL, *id = NULL, *rtype;
    size_t id_len = 0;
    bool is_split = false;

    if (!json_is_object(v))
        return;
    ref = json_object_get(v, "reference");
    if (json_is_string(ref))
        is_split = split_reference(json_string_value(ref),
                                   json_string_length(ref), &type, &id,
                                   &id_len);
    if (is_split && (want_type == NULL || strcmp(type, want_type) == 0)) {
        struct cr_fhir_index_row r = row_of(CR_SP_REFERENCE, sp->code);
        const char *s = json_string_value(ref);
        size_t len = json_string_length(ref);

        r.raw = s;
        r.ref_type = type;
        /* The id ends the string unless a /_history/n followed it. */
        r.ref_id = id + id_len == s + len ? id : copy(ix, id, id_len);
        if (r.ref_id != NULL)
            put(ix, &r);
    }
    /* A logical reference: Reference.identifier as a token. Under a
     * "resolve() is T" restriction, only when the reference says it is
     * to a T (its type element, or a literal reference to a T). */
    ident = json_object_get(v, "identifier");
    if (!json_is_object(ident))
        return;
    rtype = get_str(v, "type");
    if (want_type != NULL &&
        !(rtype != NULL && strcmp(rtype, want_type) == 0) &&
        !(is_split && strcmp(type, want_type) == 0))
        return;
    token(ix, sp->identifier_param, get_str(ident, "system"),
          get_str(ident, "value"), NULL);
}

static void
uri_row(struct ix *ix, const char *param, const json_t *v, bool canonical)
{
    struct cr_fhir_index_row r;
    const char *s, *bar;

    if (!json_is_string(v))
        return;
    s = json_string_value(v);
    r = row_of(CR_SP_URI, param);
    r.raw = s;
    r.code = s;
    bar = canonical ? strchr(s, '|') : NULL;
    if (bar != NULL) {
        r.code = copy(ix, s, (size_t)(bar - s));
        if (r.code == NULL)
            return;
    }
    put(ix, &r);
}

/* --- Numbers and quantities ---------------------------------------------- */

/* Half of one unit in the last written digit of 'v': the value as written
 * is only jansson's double, so the shortest decimal that reads back as the
 * same double stands for what was written ("1.5", not "1.50"). */
static double
half_step(const json_t *v)
{
    double d = json_number_value(v);
    char buf[40];
    const char *e, *dot;
    int exp10 = 0, decimals = 0;

    if (json_is_integer(v) || !isfinite(d))
        return 0.5;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    e = strchr(buf, 'e');
    if (e != NULL)
        exp10 = (int)strtol(e + 1, NULL, 10);
    dot = strchr(buf, '.');
    if (dot != NULL)
        decimals = (int)((e != NULL ? e : buf + strlen(buf)) - dot - 1);
    return 0.5 * pow(10.0, exp10 - decimals);
}

static void
number(struct ix *ix, const char *param, const json_t *v)
{
    struct cr_fhir_index_row r;
    double half;

    if (!json_is_number(v))
        return;
    r = row_of(CR_SP_NUMBER, param);
    r.num = json_number_value(v);
    half = half_step(v);
    r.num_lo = r.num - half;
    r.num_hi = r.num + half;
    put(ix, &r);
}

/* A quantity row for 'value' with unit system and code; and, when the
 * human-readable unit differs from the code, one more with the unit as the
 * code and no system, so "5.4||mg" matches code or unit. */
static void
quantity_rows(struct ix *ix, const char *param, const json_t *value,
              const char *system, const char *code, const char *unit)
{
    struct cr_fhir_index_row r;
    double half;

    if (!json_is_number(value))
        return;
    r = row_of(CR_SP_QUANTITY, param);
    r.num = json_number_value(value);
    half = half_step(value);
    r.num_lo = r.num - half;
    r.num_hi = r.num + half;
    r.system = system;
    r.code = code;
    put(ix, &r);
    if (unit != NULL && (code == NULL || strcmp(unit, code) != 0)) {
        r.system = NULL;
        r.code = unit;
        put(ix, &r);
    }
}

static void
quantity(struct ix *ix, const char *param, const json_t *v)
{
    if (json_is_object(v))
        quantity_rows(ix, param, json_object_get(v, "value"),
                      get_str(v, "system"), get_str(v, "code"),
                      get_str(v, "unit"));
}

static void
money(struct ix *ix, const char *param, const json_t *v)
{
    const char *currency;

    if (!json_is_object(v))
        return;
    currency = get_str(v, "currency");
    quantity_rows(ix, param, json_object_get(v, "value"),
                  currency != NULL ? "urn:iso:std:iso:4217" : NULL, currency,
                  NULL);
}

/* A Range: one row whose num_lo..num_hi span low..high (each widened by
 * its precision), open ends infinite, num NaN; the unit of low, else of
 * high. */
static void
range(struct ix *ix, const char *param, const json_t *v)
{
    const json_t *low, *high, *lv, *hv, *unit_of;
    struct cr_fhir_index_row r;

    if (!json_is_object(v))
        return;
    low = json_object_get(v, "low");
    high = json_object_get(v, "high");
    lv = json_is_object(low) ? json_object_get(low, "value") : NULL;
    hv = json_is_object(high) ? json_object_get(high, "value") : NULL;
    if (!json_is_number(lv))
        lv = NULL;
    if (!json_is_number(hv))
        hv = NULL;
    if (lv == NULL && hv == NULL)
        return;
    r = row_of(CR_SP_QUANTITY, param);
    r.num = NAN;
    r.num_lo = lv ? json_number_value(lv) - half_step(lv) : -INFINITY;
    r.num_hi = hv ? json_number_value(hv) + half_step(hv) : INFINITY;
    unit_of = lv ? low : high;
    r.system = get_str(unit_of, "system");
    r.code = get_str(unit_of, "code");
    if (r.code == NULL)
        r.code = get_str(unit_of, "unit");
    put(ix, &r);
}

/* --- The walk ------------------------------------------------------------ */

static void
extract(struct ix *ix, const struct cr_fhir_sp_leaf *leaf, const json_t *v)
{
    const struct cr_fhir_sp *sp = &cr_fhir_sp_params[leaf->param];
    const char *param = sp->code;

    switch ((enum cr_fhir_sp_extract)leaf->extract) {
    case CR_FHIR_X_TOKEN_CODING:
        token_coding(ix, param, v);
        break;
    case CR_FHIR_X_TOKEN_CODEABLECONCEPT:
        token_cc(ix, param, v);
        break;
    case CR_FHIR_X_TOKEN_IDENTIFIER:
        token_identifier(ix, param, v);
        break;
    case CR_FHIR_X_TOKEN_CONTACTPOINT:
        if (json_is_object(v))
            token(ix, param, NULL, get_str(v, "value"), NULL);
        break;
    case CR_FHIR_X_TOKEN_CODE:
        if (json_is_string(v))
            token(ix, param, CR_FHIR_IMPLICIT_SYSTEM, json_string_value(v),
                  NULL);
        break;
    case CR_FHIR_X_TOKEN_BOOLEAN:
        if (json_is_boolean(v))
            token(ix, param, CR_FHIR_IMPLICIT_SYSTEM,
                  json_is_true(v) ? "true" : "false", NULL);
        break;
    case CR_FHIR_X_TOKEN_EXISTS:
        token_exists(ix, param, v, leaf->arg != NULL ? leaf->arg : "");
        break;
    case CR_FHIR_X_STRING:
        string_value(ix, param, v);
        break;
    case CR_FHIR_X_STRING_HUMANNAME:
        string_members(ix, param, v, humanname_keys);
        break;
    case CR_FHIR_X_STRING_ADDRESS:
        string_members(ix, param, v, address_keys);
        break;
    case CR_FHIR_X_DATE:
        date_value(ix, param, v);
        break;
    case CR_FHIR_X_DATE_PERIOD:
        date_period(ix, param, v);
        break;
    case CR_FHIR_X_DATE_TIMING:
        date_timing(ix, param, v);
        break;
    case CR_FHIR_X_REFERENCE:
        reference(ix, sp, v, leaf->arg);
        break;
    case CR_FHIR_X_CANONICAL:
        uri_row(ix, param, v, true);
        break;
    case CR_FHIR_X_NUMBER:
        number(ix, param, v);
        break;
    case CR_FHIR_X_QUANTITY:
        quantity(ix, param, v);
        break;
    case CR_FHIR_X_QUANTITY_MONEY:
        money(ix, param, v);
        break;
    case CR_FHIR_X_QUANTITY_RANGE:
        range(ix, param, v);
        break;
    case CR_FHIR_X_URI:
        uri_row(ix, param, v, false);
        break;
    }
}

static void walk(struct ix *ix, const struct cr_fhir_sp_node *node,
                 const json_t *obj);

/* One value reached by 'node' (an array's item, or the element itself). */
static void
visit(struct ix *ix, const struct cr_fhir_sp_node *node, const json_t *v)
{
    if (node->filter_child != NULL) {
        const char *f = json_is_object(v) ? get_str(v, node->filter_child)
                                          : NULL;
        if (f == NULL || strcmp(f, node->filter_value) != 0)
            return;
    }
    for (unsigned i = 0; i < node->nleaves && !ix->stopped; i++)
        extract(ix, &cr_fhir_sp_leaves[node->first_leaf + i], v);
    if (node->nchildren > 0 && json_is_object(v))
        walk(ix, node, v);
}

/* The children of 'node' in object 'obj'. FHIR arrays hold objects or
 * primitives, never arrays, and the trie is a few levels deep, so the
 * recursion is bounded by the tables, not by the input. */
static void
walk(struct ix *ix, const struct cr_fhir_sp_node *node, const json_t *obj)
{
    for (unsigned c = 0; c < node->nchildren && !ix->stopped; c++) {
        const struct cr_fhir_sp_node *child =
            &cr_fhir_sp_nodes[node->first_child + c];
        const json_t *v = json_object_get(obj, child->name);
        const json_t *item;
        size_t i;

        if (v == NULL)
            continue;
        if (json_is_array(v)) {
            json_array_foreach(v, i, item) {
                visit(ix, child, item);
                if (ix->stopped)
                    break;
            }
        } else {
            visit(ix, child, v);
        }
    }
}

cr_rc
cr_fhir_index(const json_t *resource, cr_fhir_index_fn emit, void *ctx,
              struct cr_err *err)
{
    const struct cr_fhir_sp_typetab *t;
    const struct cr_fhir_sp_node *root;
    const char *type;
    /* About 12 KB, on the stack: cheap there, whereas the heap would cost
     * a malloc per resource. */
    struct ix ix_local;
    struct ix *ix = &ix_local;
    struct chunk *c;
    cr_rc rc;

    if (emit == NULL)
        return cr_err_set(err, CR_EINVAL, "exception", "",
                          "no callback for the index rows");
    type = json_is_object(resource)
               ? get_str(resource, "resourceType")
               : NULL;
    if (type == NULL)
        return cr_err_set(err, CR_EINVAL, "structure", "resourceType",
                          "a resource is an object with a resourceType");
    t = find_type(type);
    if (t == NULL)
        return cr_err_set(err, CR_EUNSUPPORTED, "not-supported",
                          "resourceType",
                          "resource type %.64s is not served here", type);

    ix->emit = emit;
    ix->ctx = ctx;
    ix->stopped = false;
    ix->rc = CR_OK;
    ix->buf = ix->stack_buf;
    ix->used = 0;
    ix->cap = sizeof ix->stack_buf;
    ix->chunks = NULL;
    ix->rows = ix->stack_rows;
    ix->nrows = 0;
    ix->rows_cap = STACK_ROWS;
    ix->slots = ix->stack_slots;
    ix->nslots = STACK_ROWS * 2;
    memset(ix->stack_slots, 0, sizeof ix->stack_slots);

    root = &cr_fhir_sp_nodes[t->root];
    for (unsigned i = 0; i < root->nleaves && !ix->stopped; i++)
        extract(ix, &cr_fhir_sp_leaves[root->first_leaf + i], resource);
    walk(ix, root, resource);

    rc = ix->rc;
    if (rc != CR_OK)
        cr_err_set(err, rc, "exception", "", "out of memory while indexing");
    while ((c = ix->chunks) != NULL) {
        ix->chunks = c->next;
        free(c);
    }
    if (ix->rows != ix->stack_rows) {
        free(ix->rows);
        free(ix->slots);
    }
    return rc;
}
