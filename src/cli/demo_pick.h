/* demo_pick.h: who the London demo is about, chosen from synthetic data.
 *
 * `carerecord demo` needs a person whose record is spread over several
 * regions and the people who would look at it: their GP, a clinician at an
 * A&E they attended (away from home when there is one), a paramedic, a
 * social worker of their borough's council, a receptionist at their
 * practice and a privacy officer. This reads the NDJSON files `carerecord
 * synth` wrote and picks them, deterministically (the same files give the
 * same choice). Depends on synth/ (node ids), core/, jansson. */
#ifndef CR_CLI_DEMO_PICK_H
#define CR_CLI_DEMO_PICK_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#define CR_CLI_DEMO_REGIONS 5

/* A member of staff: SDS user id and name (from a synthetic Practitioner,
 * or made up when the organisation has none). */
struct cr_cli_demo_staff {
    char sub[64];
    char name[128];
};

struct cr_cli_demo_pick {
    /* the person */
    char nhs[16];
    char name[160];
    int home;                       /* region index (cr_synth_node_id) */
    unsigned regions;               /* bit i: region i holds data */
    int nregions;
    /* their registered GP practice */
    char gp[32];
    char gp_name[160];
    struct cr_cli_demo_staff gp_staff;
    /* an A&E they attended: the trust, its region and when */
    char ae[32];
    char ae_name[160];
    int ae_region;
    char ae_date[16];               /* YYYY-MM-DD, "" when none */
    struct cr_cli_demo_staff ae_staff;
    /* the ambulance service */
    char amb[32];
    char amb_name[160];
    struct cr_cli_demo_staff paramedic;
    /* the council (adult social care) of their borough */
    char council[32];
    char council_name[160];
    struct cr_cli_demo_staff social;
};

/* Read the synthetic data under 'dir' (as `carerecord synth --out DIR`
 * wrote it) and fill '*out': the person held by the most regions (ties:
 * the one with the latest A&E attendance, then file order) and the staff
 * around them. CR_ENOTFOUND when no file holds a Patient; CR_EIO when a
 * file cannot be read. */
cr_rc
cr_cli_demo_pick(const char *dir, struct cr_cli_demo_pick *out,
                 struct cr_err *err);

#endif
