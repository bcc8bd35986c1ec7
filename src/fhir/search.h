/* search.h: the FHIR R4 search parameters of the types this server serves,
 * and the index rows a resource yields for them.
 *
 * The parameters come from HL7's official SearchParameter definitions,
 * reduced by tools/gen_search.mjs to element paths and generated into
 * src/fhir/search_gen.c; a parameter whose expression could not be reduced
 * is not in the table at all (docs/internals/search-params.md lists them),
 * so "in the table" means "works" and the CapabilityStatement can list
 * exactly these. cr_fhir_index walks a parsed resource along those paths
 * and hands every value a search needs to a callback, one index row at a
 * time; the store writes them, the search side compares against them with
 * the same folding (cr_fhir_fold) and date ranges
 * (cr_fhir_parse_date_range).
 *
 * Every function here is thread-safe: the tables are constant and no
 * function keeps state between calls. Depends on core/ and jansson. */
#ifndef CR_FHIR_SEARCH_H
#define CR_FHIR_SEARCH_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The search types. The two SPECIAL ones are answered from the resource
 * row (its id and last-updated time), never from index rows. */
enum cr_fhir_sp_type {
    CR_SP_TOKEN,
    CR_SP_STRING,
    CR_SP_DATE,
    CR_SP_REFERENCE,
    CR_SP_NUMBER,
    CR_SP_QUANTITY,
    CR_SP_URI,
    CR_SP_SPECIAL_ID,          /* _id */
    CR_SP_SPECIAL_LASTUPDATED  /* _lastUpdated */
};

/* One supported search parameter of one resource type. Read-only; every
 * instance and every string in it is static. */
struct cr_fhir_sp {
    const char *code;              /* "patient", "value-quantity", "_tag" */
    enum cr_fhir_sp_type type;
    const char *url;               /* canonical URL of the official
                                      definition, for the
                                      CapabilityStatement's "definition" */
    const char *expression;        /* the FHIRPath branches of the official
                                      expression that apply to this type,
                                      "Observation.subject.where(resolve()
                                      is Patient)": documentation only */
    const char *const *targets;    /* reference: the resource types it may
                                      point at, sorted; NULL otherwise */
    size_t ntargets;
    const char *identifier_param;  /* reference: "<code>:identifier", the
                                      param of the TOKEN rows made from
                                      Reference.identifier; NULL otherwise */
    bool is_canonical;             /* reference: its element is a canonical
                                      (QuestionnaireResponse.questionnaire,
                                      instantiates-canonical), so its rows
                                      are URI rows under 'code' and a query
                                      value is a URL, not Type/id */
};

/* The supported parameter 'code' of resource type 'type', or NULL when
 * the type is not served, the parameter is unknown, or it is one we do not
 * support (composite, special, _text, _content, _query, phonetic; see
 * docs/internals/search-params.md). Both strings are compared exactly
 * (case sensitive) and may be NULL (then NULL). Modifiers are not
 * understood here: pass "subject", not "subject:Patient". Two binary
 * searches; no allocation. */
const struct cr_fhir_sp *
cr_fhir_search_param(const char *type, const char *code);

/* All supported parameters of resource type 'type', sorted by code
 * (strcmp order, so "_id" and the other "_" names come first). Sets
 * '*out' (which must not be NULL) to a static array of that many
 * pointers and returns its length; for a type that is not served, or
 * NULL, sets '*out' to NULL and returns 0. */
size_t
cr_fhir_search_params(const char *type, const struct cr_fhir_sp *const **out);

/* The system of token rows made from primitive elements (code, boolean,
 * id, string): their codes come from the element's binding, an implicit
 * system, so a search naming any system matches them, while a Coding or
 * Identifier without a system matches only "|code" or "code". */
#define CR_FHIR_IMPLICIT_SYSTEM "#implicit"

/* One value of one search parameter, as cr_fhir_index hands it over.
 * Which fields are set depends on 'kind'; the others are NULL or 0. */
struct cr_fhir_index_row {
    enum cr_fhir_sp_type kind;   /* TOKEN, STRING, DATE, REFERENCE, NUMBER,
                                    QUANTITY or URI (never SPECIAL_*).
                                    Usually the parameter's type, except:
                                    a reference parameter yields TOKEN rows
                                    (param "<code>:identifier") for
                                    Reference.identifier and URI rows for
                                    canonical elements */
    const char *param;           /* the parameter code, or
                                    "<code>:identifier" (see 'kind') */
    const char *system;          /* token: the system (NULL if none);
                                    quantity: the unit system */
    const char *code;            /* token: the code or value (Coding.code,
                                    Identifier.value, ContactPoint.value,
                                    "true"/"false", a code or string
                                    primitive), NULL for a text-only row;
                                    quantity: the unit code (or the unit
                                    text, see docs); uri: the URI (for a
                                    canonical, without its "|version") */
    const char *text;            /* token: Coding.display or
                                    CodeableConcept.text, folded, for
                                    :text (NULL if none); string: the value
                                    folded (cr_fhir_fold) */
    const char *raw;             /* string: the value as written, for
                                    :exact; reference: the reference string
                                    as written; uri: the value as written
                                    (with any "|version") */
    int64_t lo, hi;              /* date: the inclusive range the value
                                    covers, in ms since the epoch
                                    (cr_fhir_parse_date_range); an open
                                    end of a Period is INT64_MIN/INT64_MAX */
    double num, num_lo, num_hi;  /* number, quantity: the value and the
                                    range its written precision implies,
                                    num_lo <= value < num_hi (1.5 gives
                                    [1.45, 1.55)); for a Range, num is NaN
                                    and num_lo/num_hi are its bounds
                                    (-/+infinity when open) */
    const char *ref_type;        /* reference: the target type, "Patient" */
    const char *ref_id;          /* reference: the target id */
};

/* The callback of cr_fhir_index: 'ctx' as given, 'row' valid only during
 * the call (copy what you keep). Return 0 to go on, non-zero to stop. */
typedef int (*cr_fhir_index_fn)(void *ctx, const struct cr_fhir_index_row *row);

/* Call 'emit' once for every distinct index row of 'resource', a parsed
 * resource of a served type (validated first: values that do not parse,
 * such as a malformed date, are skipped, not reported). Rows are those of
 * every supported parameter of the type except _id and _lastUpdated, in
 * no particular order, each distinct row once (identical rows from two
 * paths of one parameter, or two equal codings, are emitted once).
 * What each datatype yields is in docs/internals/search-params.md.
 *
 * Strings in a row point into 'resource' or into memory owned by this
 * call; all stay valid until cr_fhir_index returns, no longer. 'resource'
 * is not modified or kept.
 *
 * Returns CR_OK when every row was emitted or when 'emit' stopped the walk
 * (the caller knows why it stopped); CR_EINVAL when 'resource' is not an
 * object with a string resourceType; CR_EUNSUPPORTED when the type is not
 * one we serve; CR_ENOMEM when scratch memory ran out. 'err' (may be
 * NULL) gets the detail. Allocates only for resources with very many rows
 * or long strings (beyond a few KB of scratch on the stack).
 * Thread-safe. */
cr_rc
cr_fhir_index(const json_t *resource, cr_fhir_index_fn emit, void *ctx,
              struct cr_err *err);

/* Fold 'len' bytes of UTF-8 at 'in' for string search: ASCII upper case
 * to lower case; the letters of Latin-1 Supplement and Latin Extended-A
 * (U+00C0..U+017F) to their lower-case ASCII base letters (é -> e,
 * Ø -> o, ł -> l, ß -> ss, Æ -> ae, Œ -> oe, Þ -> th); combining accents
 * (U+0300..U+036F) removed. Every other character, and any byte that is
 * not valid UTF-8, is copied unchanged. Writes at most 'out_size' - 1
 * bytes and a NUL to 'out' (never cutting a character in two) and returns
 * the number of bytes written before the NUL; 0 and nothing written when
 * 'out_size' is 0. The result is never longer than 'len' bytes, so an
 * 'out_size' of 'len' + 1 always suffices. 'in' may be NULL when 'len' is
 * 0. 'in' and 'out' must not overlap. Thread-safe. */
size_t
cr_fhir_fold(const char *in, size_t len, char *out, size_t out_size);

/* Parse a FHIR date, dateTime or instant, partial forms allowed ("2020",
 * "2020-03", "2020-03-01", "2020-03-01T10:00", "2020-03-01T10:00:05",
 * "2020-03-01T10:00:05.25+01:00"), 'len' bytes at 's', and set '*lo' and
 * '*hi' to the inclusive range of ms since the epoch it covers: "2020-03"
 * covers 2020-03-01T00:00:00.000Z .. 2020-03-31T23:59:59.999Z; a time
 * covers its last given unit (".25" covers 250..259 ms). A time without a
 * zone is taken as UTC. Returns false, leaving '*lo' and '*hi' alone, for
 * anything else (bad digits, month 13, 30 February, trailing bytes, NULL).
 * Used on both sides of a date search. Thread-safe. */
bool
cr_fhir_parse_date_range(const char *s, size_t len, int64_t *lo, int64_t *hi);

/* ------------------------------------------------------------------------
 * Generated tables: the layout shared by src/fhir/search_gen.c (written by
 * tools/gen_search.mjs, which checks the enum values with _Static_assert)
 * and src/fhir/index.c. Not part of the interface: nothing outside
 * src/fhir/ uses them. */

/* What a path's end holds and what to take from it. */
enum cr_fhir_sp_extract {
    CR_FHIR_X_TOKEN_CODING,           /* Coding */
    CR_FHIR_X_TOKEN_CODEABLECONCEPT,  /* CodeableConcept */
    CR_FHIR_X_TOKEN_IDENTIFIER,       /* Identifier */
    CR_FHIR_X_TOKEN_CONTACTPOINT,     /* ContactPoint */
    CR_FHIR_X_TOKEN_CODE,             /* code, string, id, uri... primitive */
    CR_FHIR_X_TOKEN_BOOLEAN,          /* boolean */
    CR_FHIR_X_TOKEN_EXISTS,           /* "X.exists() and X != false": arg
                                         lists X's JSON names, '|'-separated */
    CR_FHIR_X_STRING,                 /* string, markdown... primitive */
    CR_FHIR_X_STRING_HUMANNAME,       /* HumanName */
    CR_FHIR_X_STRING_ADDRESS,         /* Address */
    CR_FHIR_X_DATE,                   /* date, dateTime, instant */
    CR_FHIR_X_DATE_PERIOD,            /* Period */
    CR_FHIR_X_DATE_TIMING,            /* Timing */
    CR_FHIR_X_REFERENCE,              /* Reference; arg: required target */
    CR_FHIR_X_CANONICAL,              /* canonical (URI rows) */
    CR_FHIR_X_NUMBER,                 /* decimal, integer... */
    CR_FHIR_X_QUANTITY,               /* Quantity, Age, Duration... */
    CR_FHIR_X_QUANTITY_MONEY,         /* Money */
    CR_FHIR_X_QUANTITY_RANGE,         /* Range */
    CR_FHIR_X_URI                     /* uri, url, oid, uuid */
};

/* A node of a type's path trie: the element 'name' of the parent node's
 * value (through arrays), optionally only the items whose primitive child
 * 'filter_child' equals 'filter_value'. Children are
 * cr_fhir_sp_nodes[first_child .. +nchildren); what to extract from this
 * node's values is cr_fhir_sp_leaves[first_leaf .. +nleaves). */
struct cr_fhir_sp_node {
    const char *name;
    const char *filter_child;   /* NULL: no filter */
    const char *filter_value;
    uint16_t first_child;
    uint16_t nchildren;
    uint16_t first_leaf;
    uint16_t nleaves;
};

struct cr_fhir_sp_leaf {
    uint16_t param;             /* index into cr_fhir_sp_params */
    uint8_t extract;            /* enum cr_fhir_sp_extract */
    const char *arg;            /* see enum cr_fhir_sp_extract, or NULL */
};

/* A served type: its parameters are cr_fhir_sp_index[first .. +count),
 * sorted by code; its trie starts at cr_fhir_sp_nodes[root]. */
struct cr_fhir_sp_typetab {
    const char *type;
    uint16_t first;
    uint16_t count;
    uint16_t root;
};

extern const size_t cr_fhir_sp_nparams;
extern const size_t cr_fhir_sp_ntypes;
extern const struct cr_fhir_sp cr_fhir_sp_params[];
extern const struct cr_fhir_sp *const cr_fhir_sp_index[];
extern const struct cr_fhir_sp_typetab cr_fhir_sp_types[];  /* by type */
extern const struct cr_fhir_sp_node cr_fhir_sp_nodes[];
extern const struct cr_fhir_sp_leaf cr_fhir_sp_leaves[];

#endif
