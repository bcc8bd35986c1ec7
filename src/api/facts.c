/* facts.c: what the store says that the access policy needs to know.
 *
 * The policy (access/policy.h) decides over facts and never reads the
 * store; this file reads them: about a patient (their NHS number, linked
 * records, registered GP practice, care relationships, objection,
 * restriction, surname and postcode), about the user (their own surname
 * and postcode, for the same-surname and same-address alerts) and about
 * one stored resource (sensitive codes, not-for-patient label,
 * discharge-summary type). docs/internals/policy.md ("Facts the API
 * gathers") says which data gives which fact.
 *
 * A record merged into another (Patient.link replaced-by, mpi/) is the
 * survivor's person: its facts are the survivor's, and the survivor's
 * cover every record merged into it. The records of one person (merged,
 * or sharing the NHS number) pool what they say: any registered GP
 * practice counts, any restriction or flag applies; the name and address
 * (for the identity alerts) are the main record's.
 *
 * Patient and user facts are cached per node, keyed by patient id (or
 * user id), and checked against the store's generations
 * (cr_store_generation): any committed write in the patient's compartment
 * or to Organization or Practitioner data makes the entry stale, and
 * entries also expire after FACTS_TTL_MS (so a newly linked record is
 * seen within that time). The ODS codes of the Organizations patients'
 * encounters and episodes name are cached too, while no Organization is
 * written. Item facts are read from the resource's bytes:
 * one fast scan for the few codes that matter, and a parse only when one
 * is there. Depends on access/, store/, fhir/, core/, jansson. */
#include "api/apiInt.h"

#include "core/clock.h"
#include "core/jsontext.h"
#include "fhir/fhir.h"
#include "fhir/search.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ODS_SYSTEM "https://fhir.nhs.uk/Id/ods-organization-code"
#define SDS_USER_SYSTEM "https://fhir.nhs.uk/Id/sds-user-id"
#define CONSENT_SCOPE "http://terminology.hl7.org/CodeSystem/consentscope"
#define ACT_REASON "http://terminology.hl7.org/CodeSystem/v3-ActReason"

#define FACTS_TTL_MS 60000
#define CACHE_SLOTS 4096          /* patients (a few hundred bytes each,
                                     packed); a multiple of WAYS */
#define USER_SLOTS 1024           /* users; a multiple of WAYS */
#define ITEM_SLOTS 65536          /* item flags by version (512 KB); a
                                     power of two */
#define ORG_SLOTS 1024            /* Organizations' ODS codes (100 KB); a
                                     power of two */

/* ---- codes worth a closer look (item facts) ---- */

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
codes_has(const struct cr_api_facts_cache *fc, const char *s, size_t n)
{
    size_t lo = 0, hi = fc->ncodes;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(fc->codes[mid], s, n);
        if (c == 0 && fc->codes[mid][n] != '\0')
            c = 1;
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* ---- the caches ---- */

/* Both caches are set-associative: a key may sit in any of the WAYS
 * entries of its set (chosen by a hash of the key), and a new key takes
 * an unused entry of the set, else the one gathered longest ago if that
 * one has expired, else one of the set picked at random. So two people
 * whose keys share a set do not keep pushing each other out. With 4
 * ways, 1,000 people asked for in turn left about five sets holding five
 * of them, and those five missed every time (each new one pushing out
 * the next to be asked for); 8 ways make a set that full unlikely until
 * the cache is nearly full. Past that, a walk over more people than the
 * cache holds (a search's total decides every match) would, replacing
 * the oldest, miss every time for every set holding more than 8 of them
 * (a third of 3,400 patients, 0.44 s for each repeat of such a search);
 * a random victim keeps most of such a set's people between walks. */
#define WAYS 8

struct slot_head {
    bool is_used;
    int64_t at_ms;                /* when gathered */
    char key[128];                /* patient id or user id */
};

/* A patient's facts are held packed (cr_api_facts_pack): most of a struct
 * cr_api_facts is room for ids, practices and relationships a person
 * rarely has, and a full cache of the structs themselves would hold
 * about 10 MB, mostly zeros. */
struct patient_slot {
    struct slot_head h;
    uint64_t gen;                 /* compartment generation when gathered */
    uint64_t dir_gen;             /* Organization generation */
    unsigned char *packed;        /* cr_api_facts_pack, malloc'd; NULL if unused */
};

/* An Organization's ODS code as ref_ods found it; direct-mapped by id,
 * good while no Organization has been written since (gen). */
struct org_slot {
    bool is_used;
    uint64_t gen;                 /* Organization generation when read */
    char id[65];
    char ods[32];
};

struct user_slot {
    struct slot_head h;
    uint64_t gen;                 /* Practitioner generation */
    char surname[128];
    char postcode[32];
};

/* FNV-1a of a NUL-terminated key: the caches' set or slot. */
static uint64_t
key_hash(const char *key)
{
    uint64_t h = 1469598103934665603u;
    const unsigned char *k;

    for (k = (const unsigned char *)key; *k; k++)
        h = (h ^ *k) * 1099511628211u;
    return h;
}

/* The entry of 'key' in a cache of 'nslots' entries of 'stride' bytes
 * each: the one holding it (*is_held true), else the one to replace. The
 * caller holds the cache's lock. */
static struct slot_head *
way_of(void *slots, size_t nslots, size_t stride, const char *key,
       int64_t now, bool *is_held)
{
    uint64_t h = key_hash(key);
    struct slot_head *victim = NULL;
    char *set;
    size_t w;

    set = (char *)slots + (size_t)(h % (nslots / WAYS)) * WAYS * stride;
    for (w = 0; w < WAYS; w++) {
        struct slot_head *e = (struct slot_head *)(set + w * stride);
        if (e->is_used && strcmp(e->key, key) == 0) {
            *is_held = true;
            return e;
        }
        if (victim == NULL ||
            (victim->is_used && (!e->is_used || e->at_ms < victim->at_ms)))
            victim = e;
    }
    *is_held = false;
    if (victim->is_used && now - victim->at_ms <= FACTS_TTL_MS &&
        now >= victim->at_ms) {
        /* a full set of live entries: any of them (the key's other hash
         * bits and the time make the pick) */
        uint64_t r = (h >> 32) ^ ((uint64_t)now * 0x9e3779b97f4a7c15u);
        victim = (struct slot_head *)(set + (size_t)((r >> 29) % WAYS) *
                                                stride);
    }
    return victim;
}

cr_rc
cr_api_facts_init(struct cr_api *api, struct cr_err *err)
{
    struct cr_api_facts_cache *fc = &api->facts;
    const char *const *sys, *const *codes;
    size_t n, i, k;

    fc->patients = calloc(CACHE_SLOTS, sizeof *fc->patients);
    fc->users = calloc(USER_SLOTS, sizeof *fc->users);
    fc->items = calloc(ITEM_SLOTS, sizeof *fc->items);
    fc->orgs = calloc(ORG_SLOTS, sizeof *fc->orgs);
    if (fc->patients == NULL || fc->users == NULL || fc->items == NULL ||
        fc->orgs == NULL)
        goto oom;
    pthread_mutex_init(&fc->lock, NULL);
    fc->has_lock = true;
    /* sensitive codes, discharge-summary codes and NOPAT, sorted, once */
    n = cr_policy_sensitive_codes(api->policy, &sys, &codes);
    fc->codes = calloc(n + cr_policy_discharge_codes(api->policy, &sys,
                                                     &codes) + 1,
                       sizeof *fc->codes);
    if (fc->codes == NULL)
        goto oom;
    n = cr_policy_sensitive_codes(api->policy, &sys, &codes);
    for (i = 0; i < n; i++)
        fc->codes[fc->ncodes++] = codes[i];
    n = cr_policy_discharge_codes(api->policy, &sys, &codes);
    for (i = 0; i < n; i++)
        fc->codes[fc->ncodes++] = codes[i];
    fc->codes[fc->ncodes++] = "NOPAT";
    qsort(fc->codes, fc->ncodes, sizeof *fc->codes, cmp_str);
    for (i = k = 0; i < fc->ncodes; i++)
        if (k == 0 || strcmp(fc->codes[k - 1], fc->codes[i]) != 0)
            fc->codes[k++] = fc->codes[i];
    fc->ncodes = k;
    return CR_OK;
oom:
    cr_api_facts_free(api);
    return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
}

void
cr_api_facts_free(struct cr_api *api)
{
    struct cr_api_facts_cache *fc = &api->facts;

    size_t i;

    if (fc->has_lock)
        pthread_mutex_destroy(&fc->lock);
    for (i = 0; fc->patients && i < CACHE_SLOTS; i++)
        free(fc->patients[i].packed);
    free(fc->patients);
    free(fc->users);
    free(fc->orgs);
    free((void *)fc->items);
    free(fc->codes);
    memset(fc, 0, sizeof *fc);
}

/* ---- small JSON helpers ---- */

static const char *
str_of(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
is(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Copy 'src' (NULL: "") into 'dst' of 'size' bytes, cut to fit. */
static void
copy(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;

    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The end of a FHIR date or dateTime (the last ms it covers), or 0. */
static int64_t
date_end(const char *s)
{
    int64_t lo, hi;

    if (s == NULL || !cr_fhir_parse_date_range(s, strlen(s), &lo, &hi))
        return 0;
    return hi;
}

/* ---- organisations: reference -> ODS code ---- */

/* The ODS code a Reference names: its identifier when it carries one, else
 * the ODS identifier of the Organization it points to; an Organization on
 * no record whose id looks like an ODS code stands for that code. "" when
 * none. */
static void
ref_ods(struct cr_api *api, json_t *ref, char out[32])
{
    struct cr_api_facts_cache *fc = &api->facts;
    json_t *ident = json_object_get(ref, "identifier");
    const char *r = str_of(ref, "reference");
    struct cr_buf b = cr_buf_make(1 << 20);
    struct cr_err err;
    json_t *org = NULL, *ids, *id;
    struct org_slot *slot;
    uint64_t gen;
    size_t i;

    out[0] = '\0';
    if (is(str_of(ident, "system"), ODS_SYSTEM) && str_of(ident, "value")) {
        copy(out, 32, str_of(ident, "value"));
        return;
    }
    if (r == NULL || strncmp(r, "Organization/", 13) != 0 || !r[13] ||
        strlen(r + 13) >= sizeof fc->orgs[0].id)
        return;
    r += 13;
    /* An Organization is read once while none is written: a patient's
     * encounters mostly name the same few. The generation is read before
     * the store, so a write in between leaves the entry stale. */
    gen = cr_store_generation(api->store, NULL, "Organization");
    slot = &fc->orgs[key_hash(r) & (ORG_SLOTS - 1)];
    pthread_mutex_lock(&fc->lock);
    if (slot->is_used && slot->gen == gen && strcmp(slot->id, r) == 0) {
        copy(out, 32, slot->ods);
        pthread_mutex_unlock(&fc->lock);
        return;
    }
    pthread_mutex_unlock(&fc->lock);
    cr_err_clear(&err);
    if (cr_store_read(api->store, "Organization", r, &b, NULL, &err) ==
        CR_OK)
        org = json_loadb(b.ptr, b.len, 0, NULL);
    cr_buf_free(&b);
    if (org == NULL) {
        if (cr_principal_org_valid(r))
            copy(out, 32, r);
    } else {
        ids = json_object_get(org, "identifier");
        json_array_foreach(ids, i, id)
            if (is(str_of(id, "system"), ODS_SYSTEM) &&
                str_of(id, "value")) {
                copy(out, 32, str_of(id, "value"));
                break;
            }
        json_decref(org);
    }
    pthread_mutex_lock(&fc->lock);
    slot->is_used = true;
    slot->gen = gen;
    copy(slot->id, sizeof slot->id, r);
    copy(slot->ods, sizeof slot->ods, out);
    pthread_mutex_unlock(&fc->lock);
}

/* ---- patient facts ---- */

static void
add_rel(struct cr_api_facts *f, const char *org,
        enum cr_policy_rel_kind kind, int64_t end_ms)
{
    struct cr_api_rel *r;
    size_t i;

    if (org == NULL || org[0] == '\0')
        return;
    /* one entry per organisation and kind, ending at the latest end */
    for (i = 0; i < f->nrels; i++) {
        r = &f->rels[i];
        if (r->kind == kind && strcmp(r->org, org) == 0) {
            if (end_ms > r->end_ms)
                r->end_ms = end_ms;
            return;
        }
    }
    if (f->nrels == CR_API_MAX_RELS)
        return;
    r = &f->rels[f->nrels++];
    copy(r->org, sizeof r->org, org);
    r->kind = kind;
    r->end_ms = end_ms;
}

static void
add_rel_ref(struct cr_api *api, struct cr_api_facts *f, json_t *ref,
            enum cr_policy_rel_kind kind, int64_t end_ms)
{
    char ods[32];

    if (!json_is_object(ref))
        return;
    ref_ods(api, ref, ods);
    add_rel(f, ods, kind, end_ms);
}

struct gather {
    struct cr_api *api;
    struct cr_api_facts *f;
    int64_t now_ms;
};

/* The members of a stored resource of 'type' that gather_row reads,
 * parsed alone: a patient's encounters and appointments are read for
 * every cold decision, and most of their bytes (codings, reasons,
 * participants) do not matter here. NULL when there are none. */
static json_t *
load_relevant(const char *type, const char *json, size_t len)
{
    static const char *const encounter[] = {
        "status", "period", "serviceProvider", NULL };
    static const char *const episode[] = {
        "status", "period", "managingOrganization", NULL };
    static const char *const referral[] = {
        "status", "occurrenceDateTime", "authoredOn", "requester",
        "performer", NULL };
    static const char *const appointment[] = {
        "status", "start", "end", "participant", NULL };
    static const char *const consent[] = {
        "status", "provision", "scope", NULL };
    const char *const *keep = strcmp(type, "Encounter") == 0 ? encounter
        : strcmp(type, "EpisodeOfCare") == 0 ? episode
        : strcmp(type, "ServiceRequest") == 0 ? referral
        : strcmp(type, "Appointment") == 0 ? appointment
        : consent;
    struct cr_buf b = cr_buf_make(0);
    json_t *root = NULL;

    cr_buf_reserve(&b, len < 512 ? len + 2 : 512);
    cr_jsontext_add_only(&b, json, len, keep);
    if (b.rc == CR_OK && b.len > 0) {
        b.ptr[0] = '{';             /* in place of the first member's comma */
        cr_buf_addc(&b, '}');
        if (b.rc == CR_OK)
            root = json_loadb(b.ptr, b.len, 0, NULL);
    }
    cr_buf_free(&b);
    return root;
}

/* One resource of the patient's compartment that may make a relationship
 * or an objection. */
static cr_rc
gather_row(void *ctx, const char *type, const char *id,
           const struct cr_store_meta *meta, const char *json, size_t len)
{
    struct gather *g = ctx;
    struct cr_api_facts *f = g->f;
    json_t *root = load_relevant(type, json, len), *v;
    const char *status;
    int64_t end = CR_POLICY_OPEN;
    enum cr_policy_rel_kind kind;
    size_t i;

    (void)id;
    if (root == NULL)
        return CR_OK;
    status = str_of(root, "status");
    if (strcmp(type, "Encounter") == 0) {
        kind = CR_POLICY_REL_ENCOUNTER;
        if (is(status, "cancelled") || is(status, "entered-in-error"))
            goto out;
        if (is(status, "finished")) {
            end = date_end(str_of(json_object_get(root, "period"), "end"));
            if (end == 0)
                end = meta->last_updated_ms;
        }
        add_rel_ref(g->api, f, json_object_get(root, "serviceProvider"),
                    kind, end);
    } else if (strcmp(type, "EpisodeOfCare") == 0) {
        kind = CR_POLICY_REL_EPISODE;
        if (is(status, "cancelled") || is(status, "entered-in-error"))
            goto out;
        if (is(status, "finished")) {
            end = date_end(str_of(json_object_get(root, "period"), "end"));
            if (end == 0)
                end = meta->last_updated_ms;
        }
        add_rel_ref(g->api, f, json_object_get(root, "managingOrganization"),
                    kind, end);
    } else if (strcmp(type, "ServiceRequest") == 0) {
        kind = CR_POLICY_REL_REFERRAL;
        if (!(is(status, "draft") || is(status, "active") ||
              is(status, "on-hold"))) {
            if (!is(status, "completed") && !is(status, "revoked"))
                goto out;
            end = date_end(str_of(root, "occurrenceDateTime"));
            if (end == 0)
                end = date_end(str_of(root, "authoredOn"));
            if (end == 0)
                end = meta->last_updated_ms;
        }
        add_rel_ref(g->api, f, json_object_get(root, "requester"), kind,
                    end);
        json_array_foreach(json_object_get(root, "performer"), i, v)
            add_rel_ref(g->api, f, v, kind, end);
    } else if (strcmp(type, "Appointment") == 0) {
        kind = CR_POLICY_REL_APPOINTMENT;
        if (is(status, "cancelled") || is(status, "noshow") ||
            is(status, "entered-in-error"))
            goto out;
        if (is(status, "fulfilled")) {
            end = date_end(str_of(root, "end"));
            if (end == 0)
                end = date_end(str_of(root, "start"));
            if (end == 0)
                end = meta->last_updated_ms;
        }
        json_array_foreach(json_object_get(root, "participant"), i, v)
            add_rel_ref(g->api, f, json_object_get(v, "actor"), kind, end);
    } else if (strcmp(type, "Consent") == 0) {
        json_t *prov = json_object_get(root, "provision"), *c;
        bool is_privacy = false, is_treat = false;
        if (!is(status, "active") || !is(str_of(prov, "type"), "deny"))
            goto out;
        json_array_foreach(json_object_get(json_object_get(root, "scope"),
                                           "coding"), i, c)
            if (is(str_of(c, "system"), CONSENT_SCOPE) &&
                is(str_of(c, "code"), "patient-privacy"))
                is_privacy = true;
        json_array_foreach(json_object_get(prov, "purpose"), i, c)
            if (is(str_of(c, "system"), ACT_REASON) &&
                is(str_of(c, "code"), "TREAT"))
                is_treat = true;
        if (is_privacy && is_treat) {
            f->has_objection = true;
            copy(f->objection_org, sizeof f->objection_org, meta->org);
        }
        goto out;
    } else {
        goto out;
    }
    /* whoever recorded it was caring for the patient */
    add_rel(f, meta->org, kind, end);
out:
    json_decref(root);
    return CR_OK;
}

/* The facts the Patient resource itself gives. */
static void
patient_own_facts(struct cr_api *api, struct cr_api_facts *f, json_t *pat,
                  bool is_primary)
{
    json_t *v, *c, *name = NULL, *addr = NULL;
    size_t i, k;

    json_array_foreach(json_object_get(pat, "identifier"), i, v)
        if (is(str_of(v, "system"), CR_FHIR_NHS_NUMBER_SYSTEM) &&
            f->nhs_number[0] == '\0')
            copy(f->nhs_number, sizeof f->nhs_number, str_of(v, "value"));
    json_array_foreach(json_object_get(pat, "generalPractitioner"), i, v) {
        char ods[32];
        bool is_known = false;
        if (f->ngp == CR_API_MAX_GP)
            break;
        ref_ods(api, v, ods);
        for (k = 0; k < f->ngp; k++)
            is_known |= strcmp(f->gp[k], ods) == 0;
        if (ods[0] && !is_known)
            copy(f->gp[f->ngp++], sizeof f->gp[0], ods);
    }
    json_array_foreach(json_object_get(json_object_get(pat, "meta"),
                                       "security"), i, c) {
        unsigned l = cr_policy_security_label(str_of(c, "system"),
                                              str_of(c, "code"));
        if (l & CR_POLICY_LABEL_RESTRICTED)
            f->is_restricted = true;
        if (l & CR_POLICY_LABEL_FLAGGED)
            f->is_flagged = true;
    }
    /* the person's name and address are their main record's */
    if (!is_primary)
        return;
    json_array_foreach(json_object_get(pat, "name"), i, v)
        if (name == NULL || is(str_of(v, "use"), "official"))
            if (name == NULL || !is(str_of(name, "use"), "official"))
                name = v;
    copy(f->surname, sizeof f->surname, str_of(name, "family"));
    json_array_foreach(json_object_get(pat, "address"), i, v)
        if (addr == NULL || is(str_of(v, "use"), "home"))
            if (addr == NULL || !is(str_of(addr, "use"), "home"))
                addr = v;
    copy(f->postcode, sizeof f->postcode, str_of(addr, "postalCode"));
}

/* Add a record of the person to f->ids, once; past CR_POLICY_MAX_IDS
 * more are dropped (which can only withhold). */
static void
add_id(struct cr_api_facts *f, const char *id)
{
    size_t i;

    for (i = 0; i < f->nids; i++)
        if (strcmp(f->ids[i], id) == 0)
            return;
    if (f->nids < CR_POLICY_MAX_IDS)
        copy(f->ids[f->nids++], sizeof f->ids[0], id);
}

/* The facts Patient 'id' itself gives (none when it is not stored or was
 * deleted); 'is_primary' for the person's main record (name, address). */
static cr_rc
own_facts_of(struct cr_api *api, struct cr_api_facts *f, const char *id,
             bool is_primary, struct cr_err *err)
{
    struct cr_buf b = cr_buf_make(0);
    json_t *pat = NULL;
    cr_rc rc;

    rc = cr_store_read(api->store, "Patient", id, &b, NULL, err);
    if (rc == CR_OK)
        pat = json_loadb(b.ptr, b.len, 0, NULL);
    cr_buf_free(&b);
    if (rc != CR_OK && rc != CR_ENOTFOUND && rc != CR_EGONE)
        return rc;
    if (pat) {
        patient_own_facts(api, f, pat, is_primary);
        json_decref(pat);
    }
    return CR_OK;
}

/* Read every fact about patient 'id' from the store. */
static cr_rc
gather_patient(struct cr_api *api, const char *id, struct cr_api_facts *f,
               struct cr_err *err)
{
    static const char *const types[] = {
        "Encounter", "EpisodeOfCare", "ServiceRequest", "Appointment",
        "Consent",
    };
    struct gather g = { api, f, cr_clock_now_ms() };
    const char *ids[CR_POLICY_MAX_IDS];
    char person[65], merged[CR_POLICY_MAX_IDS][65];
    size_t nmerged = 0;
    cr_rc rc;
    size_t i;

    memset(f, 0, sizeof *f);
    copy(f->ids[0], sizeof f->ids[0], id);
    f->nids = 1;
    /* A merged record is its survivor's person: the survivor's Patient
     * gives the facts, and every record merged into it is theirs. */
    rc = cr_store_alias_resolve(api->store, "Patient", id, person, err);
    if (rc == CR_OK)
        rc = cr_store_alias_sources(api->store, "Patient", person, merged,
                                    CR_POLICY_MAX_IDS, &nmerged, err);
    if (rc != CR_OK)
        return rc;
    if (strcmp(person, id) != 0)
        add_id(f, person);
    for (i = 0; i < nmerged; i++)
        add_id(f, merged[i]);
    rc = own_facts_of(api, f, person, true, err);
    for (i = 0; rc == CR_OK && i < f->nids; i++)
        if (strcmp(f->ids[i], person) != 0)
            rc = own_facts_of(api, f, f->ids[i], false, err);
    if (rc != CR_OK)
        return rc;
    /* other records of the same person on this node: their registration
     * and labels are the person's too */
    if (f->nhs_number[0]) {
        char found[CR_POLICY_MAX_IDS][65];
        size_t n = 0, before = f->nids;
        rc = cr_store_find_token(api->store, "Patient", "identifier",
                                 CR_FHIR_NHS_NUMBER_SYSTEM, f->nhs_number,
                                 found, CR_POLICY_MAX_IDS, &n, err);
        if (rc != CR_OK)
            return rc;
        for (i = 0; i < n && i < CR_POLICY_MAX_IDS; i++)
            add_id(f, found[i]);
        for (i = before; rc == CR_OK && i < f->nids; i++)
            rc = own_facts_of(api, f, f->ids[i], false, err);
        if (rc != CR_OK)
            return rc;
    }
    for (i = 0; i < f->nids; i++)
        ids[i] = f->ids[i];
    return cr_store_compartment(api->store, ids, f->nids, types,
                                sizeof types / sizeof types[0], gather_row,
                                &g, err);
}

void
cr_api_facts_view(const struct cr_api_facts *f, struct cr_policy_patient *p,
                  const char **ids, const char **gps,
                  struct cr_policy_rel *rels)
{
    size_t i;

    memset(p, 0, sizeof *p);
    for (i = 0; i < f->nids; i++)
        ids[i] = f->ids[i];
    for (i = 0; i < f->ngp; i++)
        gps[i] = f->gp[i];
    for (i = 0; i < f->nrels; i++) {
        rels[i].org = f->rels[i].org;
        rels[i].kind = f->rels[i].kind;
        rels[i].end_ms = f->rels[i].end_ms;
    }
    p->ids = ids;
    p->n_ids = f->nids;
    p->nhs_number = f->nhs_number[0] ? f->nhs_number : NULL;
    p->gp_orgs = gps;
    p->n_gp_orgs = f->ngp;
    p->rels = rels;
    p->n_rels = f->nrels;
    p->has_objection = f->has_objection;
    p->objection_org = f->objection_org;
    p->is_restricted = f->is_restricted;
    p->is_flagged = f->is_flagged;
    p->surname = f->surname[0] ? f->surname : NULL;
    p->postcode = f->postcode[0] ? f->postcode : NULL;
}

/* ---- packed facts ----
 *
 * The layout: the number of ids (one byte) and the ids, the NHS number,
 * the number of practices and the practices, the number of
 * relationships and each one's organisation, kind (one byte) and end
 * (eight bytes), a byte of flags, the objecting organisation, the surname
 * and the postcode; each string NUL-terminated. The ids come first so
 * fresh() reads them without unpacking the rest. */

_Static_assert(CR_POLICY_MAX_IDS < 256 && CR_API_MAX_GP < 256 &&
                   CR_API_MAX_RELS < 256,
               "packed facts keep each count in one byte");

#define PACKED_OBJECTION 0x1
#define PACKED_RESTRICTED 0x2
#define PACKED_FLAGGED 0x4

static unsigned char *
put_str(unsigned char *p, const char *str)
{
    size_t n = strlen(str) + 1;

    memcpy(p, str, n);
    return p + n;
}

/* Every string is within its field, so the packed form is never longer
 * than the struct plus the counts and the flags. */
size_t
cr_api_facts_pack(const struct cr_api_facts *f, unsigned char *out)
{
    unsigned char *p = out;
    size_t i;

    *p++ = (unsigned char)f->nids;
    for (i = 0; i < f->nids; i++)
        p = put_str(p, f->ids[i]);
    p = put_str(p, f->nhs_number);
    *p++ = (unsigned char)f->ngp;
    for (i = 0; i < f->ngp; i++)
        p = put_str(p, f->gp[i]);
    *p++ = (unsigned char)f->nrels;
    for (i = 0; i < f->nrels; i++) {
        p = put_str(p, f->rels[i].org);
        *p++ = (unsigned char)f->rels[i].kind;
        memcpy(p, &f->rels[i].end_ms, sizeof f->rels[i].end_ms);
        p += sizeof f->rels[i].end_ms;
    }
    *p++ = (unsigned char)((f->has_objection ? PACKED_OBJECTION : 0) |
                           (f->is_restricted ? PACKED_RESTRICTED : 0) |
                           (f->is_flagged ? PACKED_FLAGGED : 0));
    p = put_str(p, f->objection_org);
    p = put_str(p, f->surname);
    p = put_str(p, f->postcode);
    return (size_t)(p - out);
}

static const unsigned char *
get_str(const unsigned char *p, char *dst, size_t size)
{
    size_t n = strlen((const char *)p);

    copy(dst, size, (const char *)p);
    return p + n + 1;
}

void
cr_api_facts_unpack(const unsigned char *p, struct cr_api_facts *f)
{
    size_t i;

    memset(f, 0, sizeof *f);
    f->nids = *p++;
    for (i = 0; i < f->nids; i++)
        p = get_str(p, f->ids[i], sizeof f->ids[i]);
    p = get_str(p, f->nhs_number, sizeof f->nhs_number);
    f->ngp = *p++;
    for (i = 0; i < f->ngp; i++)
        p = get_str(p, f->gp[i], sizeof f->gp[i]);
    f->nrels = *p++;
    for (i = 0; i < f->nrels; i++) {
        p = get_str(p, f->rels[i].org, sizeof f->rels[i].org);
        f->rels[i].kind = (enum cr_policy_rel_kind)*p++;
        memcpy(&f->rels[i].end_ms, p, sizeof f->rels[i].end_ms);
        p += sizeof f->rels[i].end_ms;
    }
    f->has_objection = (*p & PACKED_OBJECTION) != 0;
    f->is_restricted = (*p & PACKED_RESTRICTED) != 0;
    f->is_flagged = (*p & PACKED_FLAGGED) != 0;
    p++;
    p = get_str(p, f->objection_org, sizeof f->objection_org);
    p = get_str(p, f->surname, sizeof f->surname);
    get_str(p, f->postcode, sizeof f->postcode);
}

/* Is the cached entry still what the store says? */
static bool
fresh(struct cr_api *api, const struct patient_slot *s, int64_t now)
{
    const unsigned char *p = s->packed;
    size_t i, nids;
    uint64_t g = 0;

    if (p == NULL || now - s->h.at_ms > FACTS_TTL_MS || now < s->h.at_ms)
        return false;
    nids = *p++;
    for (i = 0; i < nids; i++) {
        g += cr_store_generation(api->store, (const char *)p, NULL);
        p += strlen((const char *)p) + 1;
    }
    return g == s->gen &&
           cr_store_generation(api->store, NULL, "Organization") ==
               s->dir_gen;
}

cr_rc
cr_api_patient_facts(struct cr_api *api, const char *id,
                     struct cr_api_facts *out, struct cr_err *err)
{
    struct cr_api_facts_cache *fc = &api->facts;
    struct patient_slot *s;
    uint64_t gen, dir_gen;
    int64_t now = cr_clock_now_ms();
    bool is_held;
    unsigned char tmp[CR_API_FACTS_PACKED_MAX], *packed, *old;
    size_t i, npacked;
    cr_rc rc;

    if (strlen(id) >= sizeof out->ids[0])
        return cr_err_set(err, CR_EINVAL, "value", NULL, "id too long");
    pthread_mutex_lock(&fc->lock);
    s = (struct patient_slot *)way_of(fc->patients, CACHE_SLOTS,
                                      sizeof *s, id, now, &is_held);
    if (is_held && fresh(api, s, now)) {
        cr_api_facts_unpack(s->packed, out);
        pthread_mutex_unlock(&fc->lock);
        return CR_OK;
    }
    pthread_mutex_unlock(&fc->lock);
    /* Generations first, then the reads: a write in between makes the
     * entry stale at once rather than wrong for a while. */
    dir_gen = cr_store_generation(api->store, NULL, "Organization");
    gen = cr_store_generation(api->store, id, NULL);
    rc = gather_patient(api, id, out, err);
    if (rc != CR_OK)
        return rc;
    for (i = 1; i < out->nids; i++)
        gen += cr_store_generation(api->store, out->ids[i], NULL);
    npacked = cr_api_facts_pack(out, tmp);
    packed = malloc(npacked);
    if (packed == NULL)
        return CR_OK;           /* answered, just not cached */
    memcpy(packed, tmp, npacked);
    pthread_mutex_lock(&fc->lock);
    s = (struct patient_slot *)way_of(fc->patients, CACHE_SLOTS,
                                      sizeof *s, id, now, &is_held);
    old = s->packed;
    s->h.is_used = true;
    copy(s->h.key, sizeof s->h.key, id);
    s->h.at_ms = now;
    s->gen = gen;
    s->dir_gen = dir_gen;
    s->packed = packed;
    pthread_mutex_unlock(&fc->lock);
    free(old);
    return CR_OK;
}

/* ---- the user's own facts ---- */

static void
gather_user(struct cr_api *api, const char *sub, char surname[128],
            char postcode[32])
{
    char found[1][65];
    size_t n = 0, i;
    struct cr_buf b = cr_buf_make(1 << 20);
    struct cr_err err;
    json_t *pr = NULL, *v, *name = NULL, *addr = NULL;

    surname[0] = postcode[0] = '\0';
    cr_err_clear(&err);
    if (cr_store_find_token(api->store, "Practitioner", "identifier",
                            SDS_USER_SYSTEM, sub, found, 1, &n, &err) !=
            CR_OK || n == 0)
        return;
    if (cr_store_read(api->store, "Practitioner", found[0], &b, NULL,
                      &err) == CR_OK)
        pr = json_loadb(b.ptr, b.len, 0, NULL);
    cr_buf_free(&b);
    if (pr == NULL)
        return;
    json_array_foreach(json_object_get(pr, "name"), i, v)
        if (name == NULL || is(str_of(v, "use"), "official"))
            name = v;
    json_array_foreach(json_object_get(pr, "address"), i, v)
        if (addr == NULL || is(str_of(v, "use"), "home"))
            addr = v;
    copy(surname, 128, str_of(name, "family"));
    copy(postcode, 32, str_of(addr, "postalCode"));
    json_decref(pr);
}

void
cr_api_user_facts(struct cr_api *api, const char *sub, char surname[128],
                  char postcode[32])
{
    struct cr_api_facts_cache *fc = &api->facts;
    struct user_slot *s;
    uint64_t gen = cr_store_generation(api->store, NULL, "Practitioner");
    int64_t now = cr_clock_now_ms();
    bool is_held;

    pthread_mutex_lock(&fc->lock);
    s = (struct user_slot *)way_of(fc->users, USER_SLOTS, sizeof *s, sub,
                                   now, &is_held);
    if (is_held && s->gen == gen && now - s->h.at_ms <= FACTS_TTL_MS &&
        now >= s->h.at_ms) {
        copy(surname, 128, s->surname);
        copy(postcode, 32, s->postcode);
        pthread_mutex_unlock(&fc->lock);
        return;
    }
    pthread_mutex_unlock(&fc->lock);
    gather_user(api, sub, surname, postcode);
    pthread_mutex_lock(&fc->lock);
    s = (struct user_slot *)way_of(fc->users, USER_SLOTS, sizeof *s, sub,
                                   now, &is_held);
    s->h.is_used = true;
    copy(s->h.key, sizeof s->h.key, sub);
    s->h.at_ms = now;
    s->gen = gen;
    copy(s->surname, sizeof s->surname, surname);
    copy(s->postcode, sizeof s->postcode, postcode);
    pthread_mutex_unlock(&fc->lock);
}

/* ---- item facts ---- */

/* Walk every Coding-like object ({"system", "code"}). 'in_type': under the
 * resource's top-level "type". */
static void
walk(const struct cr_policy *policy, json_t *v, bool in_type, int depth,
     unsigned *flags)
{
    const char *key;
    json_t *m;
    size_t i;

    if (depth > 100)
        return;
    if (json_is_array(v)) {
        json_array_foreach(v, i, m)
            walk(policy, m, in_type, depth + 1, flags);
        return;
    }
    if (!json_is_object(v))
        return;
    {
        const char *sys = str_of(v, "system"), *code = str_of(v, "code");
        if (sys && code) {
            if (cr_policy_is_sensitive_code(policy, sys, code))
                *flags |= CR_API_ITEM_SENSITIVE;
            if (cr_policy_security_label(sys, code) &
                CR_POLICY_LABEL_NOT_FOR_PATIENT)
                *flags |= CR_API_ITEM_NOT_FOR_PATIENT;
            if (in_type && cr_policy_is_discharge_summary_code(policy, sys,
                                                               code))
                *flags |= CR_API_ITEM_DISCHARGE;
        }
    }
    json_object_foreach(v, key, m)
        walk(policy, m, in_type || (depth == 0 && strcmp(key, "type") == 0),
             depth + 1, flags);
}

unsigned
cr_api_item_flags(const struct cr_api *api, const char *json, size_t len)
{
    const struct cr_api_facts_cache *fc = &api->facts;
    const char *p = json, *end = json + len, *k;
    bool is_hit = false;
    unsigned flags = 0;
    json_t *root;

    /* A quick look at every "code" value: most resources have none of
     * the codes that matter, and are not parsed. */
    while (!is_hit && (k = memmem(p, (size_t)(end - p), "\"code\"", 6))) {
        const char *q = k + 6, *v;
        p = q;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' ||
                           *q == '\r'))
            q++;
        if (q == end || *q != ':')
            continue;
        q++;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' ||
                           *q == '\r'))
            q++;
        if (q == end || *q != '"')
            continue;
        v = ++q;
        while (q < end && *q != '"' && *q != '\\')
            q++;
        if (q == end)
            break;
        /* an escape in a code: look properly */
        if (*q == '\\' || codes_has(fc, v, (size_t)(q - v)))
            is_hit = true;
        p = q;
    }
    if (!is_hit)
        return 0;
    root = json_loadb(json, len, 0, NULL);
    if (root == NULL)
        return CR_API_ITEM_SENSITIVE;   /* cannot tell: fail closed */
    walk(api->policy, root, false, 0, &flags);
    json_decref(root);
    return flags;
}

/* An entry holds seq << 4 | flags (flags fit in 3 bits; seq > 0), so one
 * atomic word says both which version it is of and what it found: no
 * lock, and a torn entry cannot happen. */
unsigned
cr_api_item_flags_of(const struct cr_api *api, int64_t seq, const char *json,
                     size_t len)
{
    _Atomic uint64_t *e;
    uint64_t v;
    unsigned flags;

    if (seq <= 0 || (uint64_t)seq >= (UINT64_C(1) << 59))
        return cr_api_item_flags(api, json, len);
    e = &api->facts.items[(uint64_t)seq & (ITEM_SLOTS - 1)];
    v = atomic_load_explicit(e, memory_order_relaxed);
    if (v >> 4 == (uint64_t)seq)
        return (unsigned)(v & 0xf);
    flags = cr_api_item_flags(api, json, len);
    atomic_store_explicit(e, (uint64_t)seq << 4 | (flags & 0xf),
                          memory_order_relaxed);
    return flags;
}
