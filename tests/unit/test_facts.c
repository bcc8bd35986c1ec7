/* test_facts.c: the patient facts the access policy decides over, packed
 * as the node's cache holds them. */
#include "unit.h"

#include "api/apiInt.h"

static void
fill(struct cr_api_facts *f, size_t nids, size_t ngp, size_t nrels)
{
    size_t i;

    memset(f, 0, sizeof *f);
    f->nids = nids;
    for (i = 0; i < nids; i++)
        snprintf(f->ids[i], sizeof f->ids[i], "%0*zu",
                 (int)sizeof f->ids[i] - 1, i);
    snprintf(f->nhs_number, sizeof f->nhs_number, "9434765919");
    f->ngp = ngp;
    for (i = 0; i < ngp; i++)
        snprintf(f->gp[i], sizeof f->gp[i], "G8%04zu", i);
    f->nrels = nrels;
    for (i = 0; i < nrels; i++) {
        snprintf(f->rels[i].org, sizeof f->rels[i].org, "R%zu", i);
        f->rels[i].kind = (enum cr_policy_rel_kind)(i % 4);
        f->rels[i].end_ms =
            i % 2 ? CR_POLICY_OPEN : 1700000000000LL + (int64_t)i;
    }
    f->has_objection = nrels % 2 == 1;
    f->is_restricted = ngp % 2 == 1;
    f->is_flagged = nids % 2 == 0;
    snprintf(f->objection_org, sizeof f->objection_org, "%s",
             f->has_objection ? "RF4" : "");
    memset(f->surname, 'S', sizeof f->surname - 1);
    snprintf(f->postcode, sizeof f->postcode, "E1 6AN");
}

static void
check_round_trip(const struct cr_api_facts *f)
{
    unsigned char packed[CR_API_FACTS_PACKED_MAX];
    struct cr_api_facts back;
    size_t n, i;

    n = cr_api_facts_pack(f, packed);
    CHECK(n > 0 && n <= sizeof packed);
    memset(&back, 0xa5, sizeof back);
    cr_api_facts_unpack(packed, &back);
    CHECK_EQ_INT(back.nids, f->nids);
    for (i = 0; i < f->nids; i++)
        CHECK_EQ_STR(back.ids[i], f->ids[i]);
    CHECK_EQ_STR(back.nhs_number, f->nhs_number);
    CHECK_EQ_INT(back.ngp, f->ngp);
    for (i = 0; i < f->ngp; i++)
        CHECK_EQ_STR(back.gp[i], f->gp[i]);
    CHECK_EQ_INT(back.nrels, f->nrels);
    for (i = 0; i < f->nrels; i++) {
        CHECK_EQ_STR(back.rels[i].org, f->rels[i].org);
        CHECK_EQ_INT(back.rels[i].kind, f->rels[i].kind);
        CHECK_EQ_INT(back.rels[i].end_ms, f->rels[i].end_ms);
    }
    CHECK_EQ_INT(back.has_objection, f->has_objection);
    CHECK_EQ_INT(back.is_restricted, f->is_restricted);
    CHECK_EQ_INT(back.is_flagged, f->is_flagged);
    CHECK_EQ_STR(back.objection_org, f->objection_org);
    CHECK_EQ_STR(back.surname, f->surname);
    CHECK_EQ_STR(back.postcode, f->postcode);
    /* what unpacking leaves past the counts is cleared, not left over */
    if (f->nids < CR_POLICY_MAX_IDS)
        CHECK_EQ_INT(back.ids[f->nids][0], 0);
    if (f->nrels < CR_API_MAX_RELS)
        CHECK_EQ_INT(back.rels[f->nrels].org[0], 0);
}

TEST(facts_pack_round_trips_every_field)
{
    struct cr_api_facts f;

    fill(&f, 1, 1, 3);
    check_round_trip(&f);
    fill(&f, 2, 0, 0);
    check_round_trip(&f);
}

TEST(facts_pack_holds_the_most_a_person_can_have)
{
    struct cr_api_facts f;
    unsigned char packed[CR_API_FACTS_PACKED_MAX];

    fill(&f, CR_POLICY_MAX_IDS, CR_API_MAX_GP, CR_API_MAX_RELS);
    memset(f.objection_org, 'O', sizeof f.objection_org - 1);
    memset(f.postcode, 'P', sizeof f.postcode - 1);
    check_round_trip(&f);
    CHECK(cr_api_facts_pack(&f, packed) <= CR_API_FACTS_PACKED_MAX);
}

TEST(facts_packed_are_much_smaller_than_the_struct)
{
    struct cr_api_facts f;
    unsigned char packed[CR_API_FACTS_PACKED_MAX];

    /* one record, one practice, three relationships: a typical person */
    fill(&f, 1, 1, 3);
    CHECK(cr_api_facts_pack(&f, packed) * 8 < sizeof f);
}
