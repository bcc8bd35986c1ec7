/* policyInt.h: the inside of struct cr_policy, shared by policy.c (the
 * decisions), policy_config.c (defaults and the JSON section) and
 * policy_time.c (local time for out-of-hours). Private to src/access/.
 * Depends on access/policy.h. */
#ifndef CR_ACCESS_POLICYINT_H
#define CR_ACCESS_POLICYINT_H

#include "access/policy.h"

#include <stdbool.h>
#include <stddef.h>

#define POLICY_TYPE_LEN 40      /* longest R4 type name is 30 bytes */
#define POLICY_REASON_CODE_LEN 40
#define POLICY_REASON_DISPLAY_LEN 160

/* One resource type a role may see. */
struct policy_type {
    char name[POLICY_TYPE_LEN];
    size_t len;
    bool is_discharge_only;     /* "Composition:discharge-summary": only
                                   items whose type code is on the
                                   discharge-summary list */
};

/* One row of the role table. */
struct policy_role {
    char code[8];               /* SDS job role code, "R8000" */
    bool is_all;                /* sees every type ("see": "all") */
    bool is_supervised;         /* needs a named supervisor and a real
                                   relationship; read-only; alerts */
    bool may_self_claim;
    bool may_emergency;
    bool may_write;
    size_t ntypes;
    struct policy_type types[CR_POLICY_MAX_ROLE_TYPES];
};

/* A set of system|code pairs, sorted by (code, system) for binary search.
 * Strings are heap copies owned by the set. */
struct policy_codes {
    size_t n;
    char **systems;
    char **codes;
};

struct policy_reason {
    char code[POLICY_REASON_CODE_LEN];
    char display[POLICY_REASON_DISPLAY_LEN];
};

enum policy_tz {
    POLICY_TZ_UTC,
    POLICY_TZ_LONDON            /* GMT, BST from the last Sunday of March
                                   to the last Sunday of October */
};

struct policy_ooh {
    bool is_enabled;
    int start_min;              /* minute of the day the window opens */
    int end_min;                /* minute of the day it closes */
    bool has_weekends;          /* all of Saturday and Sunday too */
    enum policy_tz tz;
};

struct cr_policy {
    size_t nroles;
    struct policy_role roles[CR_POLICY_MAX_ROLES];
    struct policy_codes sensitive;
    struct policy_codes discharge;
    int relationship_days;
    bool is_emergency_over_objection;
    size_t nreasons;
    struct policy_reason reasons[CR_POLICY_MAX_REASONS];
    struct policy_ooh ooh;
};

/* The row of the role table for 'code', or NULL. */
const struct policy_role *
cr_policy_role_find(const struct cr_policy *policy, const char *code);

/* True when (system, code) is in 'set'. */
bool
cr_policy_codes_has(const struct policy_codes *set, const char *system,
                    const char *code);

/* True when 'ms' is inside the window described by 'ooh'. */
bool
cr_policy_ooh_at(const struct policy_ooh *ooh, int64_t ms);

#endif
