/* principal.h: the verified caller of a request.
 *
 * A struct cr_principal is what a bearer token says about its holder once
 * access/token.c has checked the signature and the claims: who they are,
 * where they work, in what role, and why they are asking. It is a plain
 * value type (fixed-size, NUL-terminated arrays) so it can live on the
 * stack, be copied into caches and be handed to policy and audit code
 * without ownership questions. Depends on libc only.
 *
 * The helpers below are the single definition of what a valid purpose, role
 * and NHS number look like; the token verifier, the token minter and the
 * command line all use them, so the rules cannot drift apart. */
#ifndef CR_ACCESS_PRINCIPAL_H
#define CR_ACCESS_PRINCIPAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct cr_principal {
    char sub[128];     /* subject: a stable user id (or node id for system) */
    char name[128];    /* display name, for audit trails and the UI */
    char org[32];      /* organisation ODS code, e.g. "RR8" */
    char role[16];     /* SDS job role code, e.g. "R8000" */
    char purpose[24];  /* purpose of use: see cr_principal_purpose_valid */
    char patient[16];  /* NHS number (10 digits) for patient tokens, or "" */
    char reason[256];  /* free-text reason (self-claimed or emergency), or "" */
    char iss[64];      /* issuing node id, or "" */
    char via[64];      /* node tokens: the peer node calling on the user's
                          behalf (signed with that peer's key), or "" */
    char care[16];     /* node tokens: the NHS number of a patient the
                          calling node found the user's organisation
                          caring for (a relationship it vouches for), or
                          "" */
    int64_t iat;       /* issued at, seconds since the Unix epoch */
    int64_t exp;       /* expires at, seconds since the Unix epoch */
};

/* The purposes of use, in the order they are listed to people. */
#define CR_PRINCIPAL_PURPOSES                                                \
    "direct-care, emergency, patient-access, research, audit, system"

/* True when 's' is one of the six purposes of use (exact, case-sensitive).
 * NULL is not valid. */
static inline bool
cr_principal_purpose_valid(const char *s)
{
    static const char *const purposes[] = {
        "direct-care", "emergency", "patient-access",
        "research",    "audit",     "system",
    };
    size_t i;

    if (s == NULL)
        return false;
    for (i = 0; i < sizeof purposes / sizeof purposes[0]; i++)
        if (strcmp(s, purposes[i]) == 0)
            return true;
    return false;
}

/* True when 's' looks like an SDS job role code: one upper-case letter and
 * four digits, e.g. "R8000" (clinical practitioner) or "R0260". NULL is
 * not valid. */
static inline bool
cr_principal_role_valid(const char *s)
{
    int i;

    if (s == NULL || strlen(s) != 5 || !(s[0] >= 'A' && s[0] <= 'Z'))
        return false;
    for (i = 1; i < 5; i++)
        if (!(s[i] >= '0' && s[i] <= '9'))
            return false;
    return true;
}

/* True when 's' is an ODS organisation code: 1 to 31 upper-case letters
 * and digits, e.g. "RR8" or "A81001". NULL is not valid. */
static inline bool
cr_principal_org_valid(const char *s)
{
    size_t i;

    if (s == NULL || s[0] == '\0')
        return false;
    for (i = 0; s[i] != '\0'; i++) {
        if (i >= 31)
            return false;
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    }
    return true;
}

/* True when 's' is exactly ten ASCII digits (the shape of an NHS number;
 * the check digit is left to the code that looks the patient up). NULL is
 * not valid. */
static inline bool
cr_principal_nhs_number_valid(const char *s)
{
    int i;

    if (s == NULL || strlen(s) != 10)
        return false;
    for (i = 0; i < 10; i++)
        if (!(s[i] >= '0' && s[i] <= '9'))
            return false;
    return true;
}

#endif
