/* search.h: a FHIR search, parsed and checked, as a backend-neutral plan.
 *
 * cr_search_parse turns the query parameters of GET /fhir/T?... (or the
 * form body of POST /fhir/T/_search) into a struct cr_search_plan: one
 * clause per AND-ed parameter, each with its OR-ed values already
 * converted to what the index holds (folded strings, date ranges, numeric
 * ranges, split tokens and references). The store (store/query.c) turns a
 * plan into SQL; nothing here knows SQL. Every name is checked against
 * the generated search parameter tables (fhir/search.h): an unknown or
 * unsupported parameter is an error, unless the caller asked for lenient
 * handling, when it is listed in the plan's 'ignored' instead.
 *
 * All memory comes from the arena passed in. Thread-safe.
 * Depends on fhir/ and core/. */
#ifndef CR_SEARCH_SEARCH_H
#define CR_SEARCH_SEARCH_H

#include "core/arena.h"
#include "core/err.h"
#include "fhir/search.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cr_search_prefix {
    CR_PFX_EQ, CR_PFX_NE, CR_PFX_GT, CR_PFX_LT, CR_PFX_GE, CR_PFX_LE,
    CR_PFX_SA, CR_PFX_EB, CR_PFX_AP
};

enum cr_search_modifier {
    CR_MOD_NONE,
    CR_MOD_MISSING,     /* :missing=true|false */
    CR_MOD_EXACT,       /* string */
    CR_MOD_CONTAINS,    /* string */
    CR_MOD_TEXT,        /* token: display/text starts with */
    CR_MOD_NOT,         /* token: no row matches */
    CR_MOD_IDENTIFIER,  /* reference by Reference.identifier */
    CR_MOD_TYPE         /* reference :Type (type in the value) */
};

/* One alternative of an OR list. Which fields are set depends on the
 * clause's kind. */
struct cr_search_value {
    enum cr_search_prefix prefix;
    /* token (and uri, and :identifier): system is NULL for "code" (any
     * system), "" for "|code" (no system); code NULL for "system|" */
    const char *system;
    const char *code;
    /* string: folded (or as written, for :exact); token :text: folded */
    const char *text;
    /* date, _lastUpdated: the inclusive range the value stands for */
    int64_t lo, hi;
    /* number, quantity: the value and its implicit precision range */
    double num, num_lo, num_hi;
    const char *unit_system;    /* quantity; NULL for any */
    const char *unit_code;      /* quantity; NULL for any */
    /* reference: type may be NULL (bare id: any of the targets) */
    const char *ref_type;
    const char *ref_id;
    /* :missing */
    bool is_missing;
};

struct cr_search_clause {
    const char *param;            /* index param ("code", "subject",
                                     "subject:identifier") */
    enum cr_fhir_sp_type kind;    /* TOKEN ... SPECIAL_LASTUPDATED */
    enum cr_search_modifier modifier;
    const char *const *targets;   /* reference: allowed target types */
    size_t ntargets;
    struct cr_search_value *values;   /* OR-ed; at least one */
    size_t nvalues;
    /* chain (param.child=v): 'inner' applies to resources of chain_type
     * that this clause's reference points at */
    const char *chain_type;
    struct cr_search_clause *inner;
    /* _has:T:ref:param=v: resources of has_type whose reference has_ref
     * points at us match 'inner' */
    const char *has_type;
    const char *has_ref;
};

struct cr_search_sort {
    const char *param;            /* index param, or "_id", "_lastUpdated" */
    enum cr_fhir_sp_type kind;
    bool is_desc;
};

/* _include / _revinclude: resources of 'source_type' reference resources
 * through 'param'; 'target_type' narrows (may be NULL); '*' params are
 * expanded to every reference parameter of the source type. */
struct cr_search_include {
    const char *source_type;
    const char *param;
    const char *target_type;
    bool is_iterate;
    bool is_rev;
};

enum cr_search_total { CR_TOTAL_DEFAULT, CR_TOTAL_NONE, CR_TOTAL_ESTIMATE,
                       CR_TOTAL_ACCURATE };

#define CR_SEARCH_MAX_SORT 4
#define CR_SEARCH_MAX_VALUES 100         /* OR-ed values of one parameter */
#define CR_SEARCH_MAX_TOTAL_VALUES 1000  /* values in one search */

struct cr_search_plan {
    const char *type;
    struct cr_search_clause *clauses;
    size_t nclauses;
    struct cr_search_sort sort[CR_SEARCH_MAX_SORT];
    size_t nsort;
    int count;                    /* page size (already capped) */
    bool is_unordered;            /* rows in any order, no cursors: a
                                     count, which the store may then read
                                     by whichever index is cheapest */
    enum cr_search_total total;
    bool is_summary_count;        /* _summary=count */
    const char *org;              /* only rows of this organisation (set by
                                     the caller, not the query: a source
                                     system sees only its own); NULL: any */
    struct cr_search_include *includes;
    size_t nincludes;
    const char **elements;        /* _elements, NULL-terminated; NULL: all */
    const char *cursor;           /* _page: opaque cursor from a next link */
    const char **ignored;         /* lenient: ignored parameter names, NULL-
                                     terminated; NULL if none */
    /* the query again, without paging, for the self and next links */
    const char *canonical_query;
};

/* Limits the parser enforces. */
struct cr_search_limits {
    int default_count;
    int max_count;
    bool is_lenient;              /* Prefer: handling=lenient */
    const char *base_url;         /* this server's FHIR base: absolute
                                     references elsewhere match nothing */
};

/* One query parameter, as given (already percent-decoded). */
struct cr_search_arg {
    const char *name;
    const char *value;
};

/* Parse 'nargs' query parameters for a search of 'type' into *out.
 * CR_EINVAL with err naming the parameter (err->where is the parameter
 * name) for anything malformed, unknown (unless lenient) or unsupported
 * (err->code "not-supported"). */
cr_rc
cr_search_parse(struct cr_arena *a, const char *type,
                const struct cr_search_arg *args, size_t nargs,
                const struct cr_search_limits *limits,
                struct cr_search_plan *out, struct cr_err *err);

#endif
