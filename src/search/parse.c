/* parse.c: FHIR search parameters into a plan (see search.h).
 *
 * Names are "code", "code:modifier", "ref.child", "ref:Type.child" or
 * "_has:Type:ref:code"; values are comma-separated alternatives with
 * "\," "\|" "\$" "\\" escapes. Every name is looked up in the generated
 * tables, so only parameters that work are accepted. Depends on fhir/,
 * core/. */
#include "search/search.h"

#include "core/buf.h"
#include "fhir/fhir.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    struct cr_arena *a;
    const char *type;
    const struct cr_search_limits *lim;
    struct cr_search_plan *plan;
    struct cr_err *err;
    size_t cap_clauses, cap_includes, nignored, cap_ignored;
    size_t nvalues;
};

static cr_rc
oom(struct parser *p)
{
    return cr_err_set(p->err, CR_ENOMEM, "exception", NULL, "out of memory");
}

static cr_rc
bad(struct parser *p, const char *name, const char *code, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static cr_rc
bad(struct parser *p, const char *name, const char *code, const char *fmt,
    ...)
{
    char msg[sizeof p->err->msg];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cr_err_set(p->err, CR_EINVAL, code, name, "%s", msg);
}

static char *
dup(struct parser *p, const char *s, size_t n)
{
    return cr_arena_strndup(p->a, s, n);
}

/* Split a value at unescaped commas, unescaping each part. */
static size_t
split_values(struct parser *p, const char *v, char ***out)
{
    size_t n = 1, i, k = 0, len = strlen(v);
    char **parts, *cur;
    size_t o = 0;

    for (i = 0; i < len; i++) {
        if (v[i] == '\\' && i + 1 < len)
            i++;
        else if (v[i] == ',')
            n++;
    }
    parts = cr_arena_alloc(p->a, n * sizeof *parts);
    cur = cr_arena_alloc(p->a, len + n + 1);
    if (parts == NULL || cur == NULL)
        return 0;
    parts[0] = cur;
    for (i = 0; i < len; i++) {
        if (v[i] == '\\' && i + 1 < len &&
            (v[i + 1] == ',' || v[i + 1] == '$' || v[i + 1] == '\\')) {
            cur[o++] = v[++i];
        } else if (v[i] == ',') {
            cur[o++] = '\0';
            parts[++k] = cur + o;
        } else {
            cur[o++] = v[i];
        }
    }
    cur[o] = '\0';
    *out = parts;
    return n;
}

/* Split "a|b" at the first unescaped '|' (keeping "\|" as '|'). */
static const char *
split_bar(struct parser *p, const char *v, const char **rest)
{
    size_t len = strlen(v), i, o = 0;
    char *head = dup(p, v, len);

    *rest = NULL;
    if (head == NULL)
        return NULL;
    for (i = 0; i < len; i++) {
        if (v[i] == '\\' && i + 1 < len && v[i + 1] == '|') {
            head[o++] = '|';
            i++;
        } else if (v[i] == '|') {
            head[o] = '\0';
            *rest = head + o + 1;
            memmove(head + o + 1, v + i + 1, len - i);
            /* unescape the rest too */
            {
                char *r = head + o + 1, *w = r;
                for (; *r; r++) {
                    if (*r == '\\' && r[1] == '|')
                        r++;
                    *w++ = *r;
                }
                *w = '\0';
            }
            return head;
        } else {
            head[o++] = v[i];
        }
    }
    head[o] = '\0';
    return head;
}

static enum cr_search_prefix
take_prefix(const char **v, bool *has)
{
    static const struct { const char *s; enum cr_search_prefix p; } px[] = {
        { "eq", CR_PFX_EQ }, { "ne", CR_PFX_NE }, { "gt", CR_PFX_GT },
        { "lt", CR_PFX_LT }, { "ge", CR_PFX_GE }, { "le", CR_PFX_LE },
        { "sa", CR_PFX_SA }, { "eb", CR_PFX_EB }, { "ap", CR_PFX_AP },
    };
    size_t i;

    *has = false;
    for (i = 0; i < sizeof px / sizeof px[0]; i++)
        if (strncmp(*v, px[i].s, 2) == 0 &&
            (isdigit((unsigned char)(*v)[2]) || (*v)[2] == '-' ||
             (*v)[2] == '.')) {
            *v += 2;
            *has = true;
            return px[i].p;
        }
    return CR_PFX_EQ;
}

/* A decimal and the range its written precision implies. */
static bool
parse_number(const char *s, double *num, double *lo, double *hi)
{
    const char *p = s, *dot = NULL, *e;
    int decimals = 0, exp10 = 0;
    char *end;
    double v, half;

    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p) && *p != '.')
        return false;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return false;
    dot = strchr(s, '.');
    e = strpbrk(s, "eE");
    if (dot)
        decimals = (int)((e ? e : s + strlen(s)) - dot - 1);
    if (e)
        exp10 = atoi(e + 1) > 300 ? 300 : (int)strtol(e + 1, NULL, 10);
    half = 0.5 * pow(10.0, (double)(exp10 - decimals));
    *num = v;
    *lo = v - half;
    *hi = v + half;
    return true;
}

static struct cr_search_clause *
new_clause(struct parser *p)
{
    struct cr_search_plan *pl = p->plan;

    if (pl->nclauses == p->cap_clauses) {
        size_t cap = p->cap_clauses ? p->cap_clauses * 2 : 8;
        struct cr_search_clause *n = cr_arena_calloc(p->a, cap, sizeof *n);
        if (n == NULL)
            return NULL;
        if (pl->nclauses)
            memcpy(n, pl->clauses, pl->nclauses * sizeof *n);
        pl->clauses = n;
        p->cap_clauses = cap;
    }
    return &pl->clauses[pl->nclauses++];
}

static const char *const modifier_names[] = {
    [CR_MOD_NONE] = "", [CR_MOD_MISSING] = "missing",
    [CR_MOD_EXACT] = "exact", [CR_MOD_CONTAINS] = "contains",
    [CR_MOD_TEXT] = "text", [CR_MOD_NOT] = "not",
    [CR_MOD_IDENTIFIER] = "identifier", [CR_MOD_TYPE] = "",
};

/* Which modifiers each kind accepts. */
static bool
modifier_ok(enum cr_fhir_sp_type kind, enum cr_search_modifier m)
{
    switch (m) {
    case CR_MOD_NONE:
    case CR_MOD_MISSING:
        return true;
    case CR_MOD_EXACT:
    case CR_MOD_CONTAINS:
        return kind == CR_SP_STRING;
    case CR_MOD_TEXT:
    case CR_MOD_NOT:
        return kind == CR_SP_TOKEN;
    case CR_MOD_IDENTIFIER:
    case CR_MOD_TYPE:
        return kind == CR_SP_REFERENCE;
    }
    return false;
}

static bool
is_target(const struct cr_fhir_sp *sp, const char *type)
{
    size_t i;

    for (i = 0; i < sp->ntargets; i++)
        if (strcmp(sp->targets[i], type) == 0)
            return true;
    return false;
}

/* Parse one value of a clause. */
static cr_rc
parse_value(struct parser *p, const char *name, struct cr_search_clause *c,
            const struct cr_fhir_sp *sp, const char *v,
            struct cr_search_value *out)
{
    const char *rest;
    bool has_prefix;
    char buf[512];

    memset(out, 0, sizeof *out);
    if (*v == '\0')
        return bad(p, name, "value", "%s has an empty value; give a value "
                   "or leave the parameter out%s", name, "");
    if (c->modifier == CR_MOD_MISSING) {
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return bad(p, name, "value", "%s:missing takes true or false, "
                       "not '%.40s'", name, v);
        out->is_missing = strcmp(v, "true") == 0;
        return CR_OK;
    }
    switch (c->kind) {
    case CR_SP_TOKEN:
    case CR_SP_URI:
        if (c->modifier == CR_MOD_TEXT) {
            size_t n = cr_fhir_fold(v, strlen(v), buf, sizeof buf);
            out->text = dup(p, buf, n);
            return out->text ? CR_OK : oom(p);
        }
        if (c->kind == CR_SP_URI) {
            out->system = "";
            out->code = v;
            return CR_OK;
        }
        out->code = NULL;
        {
            const char *head = split_bar(p, v, &rest);
            if (head == NULL)
                return oom(p);
            if (rest == NULL) {
                out->system = NULL;      /* any system */
                out->code = head;
            } else {
                out->system = head;      /* "" means: no system */
                out->code = *rest ? rest : NULL;
                if (*head == '\0' && out->code == NULL)
                    return bad(p, name, "value", "%s value '|' names "
                               "neither a system nor a code%s", name, "");
            }
        }
        return CR_OK;
    case CR_SP_STRING: {
        size_t n;
        if (c->modifier == CR_MOD_EXACT) {
            out->text = v;
            return CR_OK;
        }
        n = cr_fhir_fold(v, strlen(v), buf, sizeof buf);
        out->text = dup(p, buf, n);
        return out->text ? CR_OK : oom(p);
    }
    case CR_SP_DATE:
    case CR_SP_SPECIAL_LASTUPDATED:
        out->prefix = take_prefix(&v, &has_prefix);
        if (!cr_fhir_parse_date_range(v, strlen(v), &out->lo, &out->hi))
            return bad(p, name, "value", "%s: '%.60s' is not a FHIR date "
                       "(YYYY, YYYY-MM, YYYY-MM-DD or a dateTime, with an "
                       "optional prefix such as ge)", name, v);
        return CR_OK;
    case CR_SP_NUMBER:
        out->prefix = take_prefix(&v, &has_prefix);
        if (!parse_number(v, &out->num, &out->num_lo, &out->num_hi))
            return bad(p, name, "value", "%s: '%.60s' is not a number",
                       name, v);
        return CR_OK;
    case CR_SP_QUANTITY: {
        const char *num, *sys_rest, *sys;
        out->prefix = take_prefix(&v, &has_prefix);
        num = split_bar(p, v, &sys_rest);
        if (num == NULL)
            return oom(p);
        if (!parse_number(num, &out->num, &out->num_lo, &out->num_hi))
            return bad(p, name, "value", "%s: '%.60s' is not a quantity "
                       "(number|system|code)", name, v);
        if (sys_rest) {
            const char *code;
            sys = split_bar(p, sys_rest, &code);
            if (sys == NULL)
                return oom(p);
            out->unit_system = *sys ? sys : NULL;
            out->unit_code = code && *code ? code : NULL;
            if (code == NULL) {
                /* "number|code" is not the form; be clear. */
                return bad(p, name, "value", "%s: a quantity is "
                           "number|system|code (use number||code for a "
                           "unit without a system)%s", name, "");
            }
        }
        return CR_OK;
    }
    case CR_SP_REFERENCE: {
        const char *s = v, *slash, *base = p->lim ? NULL : NULL;
        (void)base;
        if (c->modifier == CR_MOD_TYPE) {
            out->ref_type = c->chain_type;    /* set by caller for :Type */
            out->ref_id = v;
            return CR_OK;
        }
        /* absolute URL: on this server, keep Type/id; elsewhere, it can
         * match nothing here (references are stored relative) */
        if (strstr(s, "://") && p->lim->base_url &&
            !(strncmp(s, p->lim->base_url, strlen(p->lim->base_url)) == 0 &&
              s[strlen(p->lim->base_url)] == '/')) {
            out->ref_type = "#elsewhere";
            out->ref_id = s;
            return CR_OK;
        }
        if (strstr(s, "://")) {
            const char *h = strstr(s, "/_history/");
            size_t len = h ? (size_t)(h - s) : strlen(s);
            const char *last = NULL, *prev = NULL, *q;
            for (q = s; q < s + len; q++)
                if (*q == '/') {
                    prev = last;
                    last = q;
                }
            if (prev == NULL)
                return bad(p, name, "value", "%s: '%.100s' is not a "
                           "reference this server can resolve", name, v);
            s = dup(p, prev + 1, (size_t)(s + len - prev - 1));
            if (s == NULL)
                return oom(p);
        }
        slash = strchr(s, '/');
        if (slash) {
            char *t = dup(p, s, (size_t)(slash - s));
            if (t == NULL)
                return oom(p);
            if (!is_target(sp, t))
                return bad(p, name, "value", "%s cannot refer to a %.64s",
                           name, t);
            out->ref_type = t;
            out->ref_id = slash + 1;
            {
                const char *h = strstr(out->ref_id, "/_history/");
                if (h)
                    out->ref_id = dup(p, out->ref_id,
                                      (size_t)(h - out->ref_id));
            }
        } else {
            out->ref_type = NULL;
            out->ref_id = s;
        }
        if (out->ref_id == NULL || *out->ref_id == '\0')
            return bad(p, name, "value", "%s: '%.100s' has no id", name,
                       v);
        return CR_OK;
    }
    case CR_SP_SPECIAL_ID:
        out->code = v;
        return CR_OK;
    }
    return CR_OK;
}

static cr_rc
fill_values(struct parser *p, const char *name, struct cr_search_clause *c,
            const struct cr_fhir_sp *sp, const char *value)
{
    char **parts;
    size_t n = split_values(p, value, &parts), i;
    cr_rc rc;

    if (n == 0)
        return oom(p);
    p->nvalues += n;
    if (n > CR_SEARCH_MAX_VALUES || p->nvalues > CR_SEARCH_MAX_TOTAL_VALUES)
        return cr_err_set(p->err, CR_EINVAL, "too-costly", name,
                          "too many values: a parameter takes at most %d "
                          "comma-separated values and a search %d in all",
                          CR_SEARCH_MAX_VALUES, CR_SEARCH_MAX_TOTAL_VALUES);
    c->values = cr_arena_calloc(p->a, n, sizeof *c->values);
    if (c->values == NULL)
        return oom(p);
    c->nvalues = n;
    for (i = 0; i < n; i++) {
        rc = parse_value(p, name, c, sp, parts[i], &c->values[i]);
        if (rc != CR_OK)
            return rc;
    }
    return CR_OK;
}

/* Fill clause 'c' for parameter 'code' (with 'mod' text after ':') of
 * 'type', value 'value'. 'name' is the whole parameter name, for errors. */
static cr_rc
build_clause(struct parser *p, const char *name, const char *type,
             const char *code, const char *mod, const char *value,
             struct cr_search_clause *c, bool *is_unknown)
{
    const struct cr_fhir_sp *sp = cr_fhir_search_param(type, code);
    size_t m;

    *is_unknown = false;
    if (sp == NULL) {
        *is_unknown = true;
        return bad(p, name, "not-supported", "unknown search parameter "
                   "'%.80s' for %s: see /fhir/metadata for the parameters "
                   "this server supports", name, type);
    }
    c->param = sp->code;
    c->kind = sp->type;
    c->targets = sp->targets;
    c->ntargets = sp->ntargets;
    c->modifier = CR_MOD_NONE;
    if (sp->type == CR_SP_REFERENCE && sp->is_canonical)
        c->kind = CR_SP_URI;   /* canonical references index as URIs */
    if (mod) {
        for (m = 1; m < sizeof modifier_names / sizeof modifier_names[0]; m++)
            if (modifier_names[m][0] && strcmp(mod, modifier_names[m]) == 0)
                c->modifier = (enum cr_search_modifier)m;
        if (c->modifier == CR_MOD_NONE && sp->type == CR_SP_REFERENCE &&
            is_target(sp, mod)) {
            c->modifier = CR_MOD_TYPE;
            c->chain_type = mod;
        }
        if (c->modifier == CR_MOD_NONE || !modifier_ok(sp->type, c->modifier))
            return bad(p, name, "not-supported", "modifier ':%.40s' is not "
                       "supported on %s", mod, code);
    }
    if (c->modifier == CR_MOD_IDENTIFIER) {
        c->param = sp->identifier_param;
        c->kind = CR_SP_TOKEN;
        if (c->param == NULL)
            return bad(p, name, "not-supported", "%s does not support "
                       ":identifier%s", code, "");
    }
    return fill_values(p, name, c, sp, value);
}

/* "ref[:Type].child[:mod]" */
static cr_rc
build_chain(struct parser *p, const char *name, const char *value,
            struct cr_search_clause *c, bool *is_unknown)
{
    const char *dot = strchr(name, '.');
    char *ref = dup(p, name, (size_t)(dot - name)), *colon;
    const struct cr_fhir_sp *sp;
    const char *child = dot + 1, *cmod;
    char *ccode;

    if (ref == NULL)
        return oom(p);
    colon = strchr(ref, ':');
    if (colon)
        *colon++ = '\0';
    sp = cr_fhir_search_param(p->type, ref);
    if (sp == NULL || sp->type != CR_SP_REFERENCE) {
        *is_unknown = sp == NULL;
        return bad(p, name, "not-supported", "'%.80s': chaining needs a "
                   "reference parameter of %s", name, p->type);
    }
    if (colon) {
        if (!is_target(sp, colon))
            return bad(p, name, "not-supported", "%s cannot refer to a "
                       "%.64s", ref, colon);
        c->chain_type = colon;
    } else if (sp->ntargets == 1) {
        c->chain_type = sp->targets[0];
    } else {
        return bad(p, name, "not-supported", "'%.80s' is ambiguous: %s can "
                   "refer to several types; name one, e.g. %s:%s.%s",
                   name, ref, ref,
                   is_target(sp, "Patient") ? "Patient" : sp->targets[0],
                   child);
    }
    if (strchr(child, '.'))
        return bad(p, name, "not-supported", "'%.80s': only one level of "
                   "chaining is supported%s", name, "");
    c->param = sp->code;
    c->kind = CR_SP_REFERENCE;
    c->targets = sp->targets;
    c->ntargets = sp->ntargets;
    c->inner = cr_arena_calloc(p->a, 1, sizeof *c->inner);
    if (c->inner == NULL)
        return oom(p);
    ccode = dup(p, child, strlen(child));
    if (ccode == NULL)
        return oom(p);
    cmod = strchr(ccode, ':');
    if (cmod)
        *(char *)cmod++ = '\0';
    return build_clause(p, name, c->chain_type, ccode, cmod, value, c->inner,
                        is_unknown);
}

/* "_has:Type:ref:param[:mod]" */
static cr_rc
build_has(struct parser *p, const char *name, const char *value,
          struct cr_search_clause *c, bool *is_unknown)
{
    char *s = dup(p, name + 5, strlen(name + 5)), *type, *ref, *param, *mod;
    const struct cr_fhir_sp *sp;

    if (s == NULL)
        return oom(p);
    type = s;
    ref = strchr(type, ':');
    param = ref ? strchr(ref + 1, ':') : NULL;
    if (ref == NULL || param == NULL)
        return bad(p, name, "invalid", "'%.80s' is not _has:Type:reference:"
                   "parameter%s", name, "");
    *ref++ = '\0';
    *param++ = '\0';
    mod = strchr(param, ':');
    if (mod)
        *mod++ = '\0';
    if (!cr_fhir_is_supported_type(type))
        return bad(p, name, "not-supported", "_has: '%.64s' is not a type "
                   "this server serves%s", type, "");
    sp = cr_fhir_search_param(type, ref);
    if (sp == NULL || sp->type != CR_SP_REFERENCE || !is_target(sp, p->type))
        return bad(p, name, "not-supported", "_has: %.64s has no reference "
                   "parameter '%.64s' to this type", type, ref);
    if (strchr(param, '.') || strncmp(param, "_has", 4) == 0)
        return bad(p, name, "not-supported", "'%.80s': _has is supported "
                   "one level deep, without chains%s", name, "");
    c->has_type = type;
    c->has_ref = sp->code;
    c->kind = CR_SP_REFERENCE;
    c->param = sp->code;
    c->inner = cr_arena_calloc(p->a, 1, sizeof *c->inner);
    if (c->inner == NULL)
        return oom(p);
    return build_clause(p, name, type, param, mod, value, c->inner,
                        is_unknown);
}

static cr_rc
add_include(struct parser *p, const char *name, const char *value,
            bool is_rev, bool is_iterate)
{
    struct cr_search_plan *pl = p->plan;
    char *v = dup(p, value, strlen(value)), *param, *target;
    struct cr_search_include *inc;
    const struct cr_fhir_sp *sp;

    if (v == NULL)
        return oom(p);
    param = strchr(v, ':');
    if (param == NULL)
        return bad(p, name, "invalid", "%s takes Type:parameter[:Target], "
                   "not '%.80s'", name, value);
    *param++ = '\0';
    target = strchr(param, ':');
    if (target)
        *target++ = '\0';
    if (!cr_fhir_is_supported_type(v))
        return bad(p, name, "not-supported", "%s: '%.64s' is not a type "
                   "this server serves", name, v);
    if (!is_rev && !is_iterate && strcmp(v, p->type) != 0)
        return bad(p, name, "invalid", "_include must start with the "
                   "searched type %s (or use _include:iterate)%s", p->type,
                   "");
    if (strcmp(param, "*") != 0) {
        sp = cr_fhir_search_param(v, param);
        if (sp == NULL || sp->type != CR_SP_REFERENCE)
            return bad(p, name, "not-supported", "%s: %.64s has no "
                       "reference parameter '%.64s'", name, v, param);
        if (target && !is_target(sp, target))
            return bad(p, name, "not-supported", "%s: %.64s cannot refer "
                       "to %.64s", name, param, target);
        if (is_rev && !is_iterate && !is_target(sp, p->type))
            return bad(p, name, "invalid", "%s: %.64s does not refer to "
                       "the searched type", name, param);
        param = (char *)sp->code;
    }
    if (pl->nincludes == p->cap_includes) {
        size_t cap = p->cap_includes ? p->cap_includes * 2 : 4;
        struct cr_search_include *n = cr_arena_calloc(p->a, cap, sizeof *n);
        if (n == NULL)
            return oom(p);
        if (pl->nincludes)
            memcpy(n, pl->includes, pl->nincludes * sizeof *n);
        pl->includes = n;
        p->cap_includes = cap;
    }
    inc = &pl->includes[pl->nincludes++];
    inc->source_type = v;
    inc->param = param;
    inc->target_type = target;
    inc->is_iterate = is_iterate;
    inc->is_rev = is_rev;
    return CR_OK;
}

static cr_rc
parse_sort(struct parser *p, const char *value)
{
    char **parts;
    size_t n = split_values(p, value, &parts), i;
    struct cr_search_plan *pl = p->plan;

    if (n == 0)
        return oom(p);
    /* A repeated _sort adds its keys to the ones before. */
    if (n > CR_SEARCH_MAX_SORT - pl->nsort)
        return bad(p, "_sort", "not-supported", "_sort takes at most %d "
                   "keys in all, here %zu", CR_SEARCH_MAX_SORT,
                   pl->nsort + n);
    for (i = 0; i < n; i++) {
        const char *k = parts[i];
        struct cr_search_sort *s = &pl->sort[pl->nsort];
        const struct cr_fhir_sp *sp;
        s->is_desc = *k == '-';
        if (*k == '-')
            k++;
        sp = cr_fhir_search_param(p->type, k);
        if (sp == NULL || sp->type == CR_SP_REFERENCE)
            return bad(p, "_sort", "not-supported", "cannot sort %s by "
                       "'%.64s'", p->type, k);
        s->param = sp->code;
        s->kind = sp->type;
        pl->nsort++;
    }
    return CR_OK;
}

static bool
is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' ||
           c == ':';
}

static void
add_ignored(struct parser *p, const char *name)
{
    struct cr_search_plan *pl = p->plan;

    if (p->nignored + 1 >= p->cap_ignored) {
        size_t cap = p->cap_ignored ? p->cap_ignored * 2 : 8;
        const char **n = cr_arena_calloc(p->a, cap, sizeof *n);
        if (n == NULL)
            return;
        if (p->nignored)
            memcpy(n, pl->ignored, p->nignored * sizeof *n);
        pl->ignored = n;
        p->cap_ignored = cap;
    }
    pl->ignored[p->nignored++] = name;
    pl->ignored[p->nignored] = NULL;
}

static cr_rc
control(struct parser *p, const char *name, const char *value, bool *is_done)
{
    struct cr_search_plan *pl = p->plan;
    char *end;
    long n;

    *is_done = true;
    if (strcmp(name, "_count") == 0) {
        n = strtol(value, &end, 10);
        if (!isdigit((unsigned char)*value) || *end || n < 0)
            return bad(p, name, "value", "_count must be a whole number, "
                       "not '%.40s'%s", value, "");
        pl->count = n > p->lim->max_count ? p->lim->max_count : (int)n;
    } else if (strcmp(name, "_sort") == 0) {
        return parse_sort(p, value);
    } else if (strcmp(name, "_total") == 0) {
        if (strcmp(value, "none") == 0)
            pl->total = CR_TOTAL_NONE;
        else if (strcmp(value, "estimate") == 0)
            pl->total = CR_TOTAL_ESTIMATE;
        else if (strcmp(value, "accurate") == 0)
            pl->total = CR_TOTAL_ACCURATE;
        else
            return bad(p, name, "value", "_total takes none, estimate or "
                       "accurate, not '%.40s'%s", value, "");
    } else if (strcmp(name, "_summary") == 0) {
        if (strcmp(value, "count") == 0)
            pl->is_summary_count = true;
        else if (strcmp(value, "false") != 0)
            return bad(p, name, "not-supported", "_summary=%.40s is not "
                       "supported (count and false are)%s", value, "");
    } else if (strcmp(name, "_elements") == 0) {
        char **parts;
        size_t k, m = split_values(p, value, &parts);
        pl->elements = cr_arena_calloc(p->a, m + 1, sizeof *pl->elements);
        if (pl->elements == NULL || m == 0)
            return oom(p);
        for (k = 0; k < m; k++)
            pl->elements[k] = parts[k];
    } else if (strcmp(name, "_include") == 0 ||
               strcmp(name, "_include:iterate") == 0 ||
               strcmp(name, "_revinclude") == 0 ||
               strcmp(name, "_revinclude:iterate") == 0) {
        return add_include(p, name, value, name[1] == 'r',
                           strchr(name, ':') != NULL);
    } else if (strcmp(name, "_page") == 0) {
        pl->cursor = value;
    } else if (strcmp(name, "_format") == 0 || strcmp(name, "_pretty") == 0) {
        /* negotiated elsewhere; output is always compact JSON */
    } else {
        *is_done = false;
    }
    return CR_OK;
}

cr_rc
cr_search_parse(struct cr_arena *a, const char *type,
                const struct cr_search_arg *args, size_t nargs,
                const struct cr_search_limits *limits,
                struct cr_search_plan *out, struct cr_err *err)
{
    struct parser p;
    struct cr_buf q = cr_buf_make(0);
    size_t i;
    cr_rc rc = CR_OK;

    memset(out, 0, sizeof *out);
    memset(&p, 0, sizeof p);
    p.a = a;
    p.type = type;
    p.lim = limits;
    p.plan = out;
    p.err = err;
    out->type = type;
    out->count = limits->default_count;
    for (i = 0; i < nargs && rc == CR_OK; i++) {
        const char *name = args[i].name, *value = args[i].value;
        struct cr_search_clause *c;
        bool is_done = false, is_unknown = false;
        const char *k;

        for (k = name; *k; k++)
            if (!is_name_char(*k))
                break;
        if (*name == '\0' || *k) {
            rc = bad(&p, "", "invalid", "'%.80s' is not a search parameter "
                     "name%s", name, "");
            break;
        }
        rc = control(&p, name, value, &is_done);
        if (rc != CR_OK || is_done) {
            if (rc == CR_OK && strcmp(name, "_page") != 0 &&
                strcmp(name, "_format") != 0) {
                if (q.len)
                    cr_buf_addc(&q, '&');
                cr_buf_add_url_encoded(&q, name);
                cr_buf_addc(&q, '=');
                cr_buf_add_url_encoded(&q, value);
            }
            continue;
        }
        c = new_clause(&p);
        if (c == NULL) {
            rc = oom(&p);
            break;
        }
        memset(c, 0, sizeof *c);
        if (strcmp(name, "_id") == 0) {
            c->param = "_id";
            c->kind = CR_SP_SPECIAL_ID;
            rc = fill_values(&p, name, c, NULL, value);
        } else if (strcmp(name, "_lastUpdated") == 0) {
            c->param = "_lastUpdated";
            c->kind = CR_SP_SPECIAL_LASTUPDATED;
            rc = fill_values(&p, name, c, NULL, value);
        } else if (strncmp(name, "_has:", 5) == 0) {
            rc = build_has(&p, name, value, c, &is_unknown);
        } else if (strchr(name, '.')) {
            rc = build_chain(&p, name, value, c, &is_unknown);
        } else {
            char *code = dup(&p, name, strlen(name)), *mod;
            if (code == NULL) {
                rc = oom(&p);
                break;
            }
            mod = strchr(code, ':');
            if (mod)
                *mod++ = '\0';
            rc = build_clause(&p, name, type, code, mod, value, c,
                              &is_unknown);
        }
        if (rc != CR_OK && is_unknown && limits->is_lenient) {
            /* Prefer: handling=lenient: drop it, say so in the Bundle. */
            out->nclauses--;
            add_ignored(&p, name);
            cr_err_clear(err);
            rc = CR_OK;
            continue;
        }
        if (rc == CR_OK) {
            if (q.len)
                cr_buf_addc(&q, '&');
            cr_buf_add_url_encoded(&q, name);
            cr_buf_addc(&q, '=');
            cr_buf_add_url_encoded(&q, value);
        }
    }
    if (rc == CR_OK) {
        if (q.rc != CR_OK) {
            rc = oom(&p);
        } else {
            out->canonical_query = cr_arena_strndup(a, q.ptr ? q.ptr : "",
                                                    q.len);
            if (out->canonical_query == NULL)
                rc = oom(&p);
        }
    }
    cr_buf_free(&q);
    return rc;
}
