/* dupes.c: noisy duplicates of synthetic patients, to measure matching.
 *
 * A person registered twice rarely looks the same twice: a letter of the
 * name is mistyped, the day and month of birth are swapped or a digit is
 * wrong, the postcode is missing or newer, the sex is not recorded. This
 * file makes such copies of a Patient, each kind of slip drawn on its own
 * from a random stream keyed by the caller, so a benchmark of the patient
 * index can count how many true pairs it finds (recall) and how many of
 * its links are true (precision). The copy drops the NHS number: with one
 * the match would be trivial. Depends on rng.h and jansson. */
#include "synth/synth.h"

#include "synth/rng.h"

#include <stdio.h>
#include <string.h>

void
cr_synth_noise_default(struct cr_synth_noise *out)
{
    out->typo = 0.30;
    out->swap_date = 0.05;
    out->date_digit = 0.05;
    out->no_date = 0.05;
    out->no_postcode = 0.10;
    out->moved = 0.10;
    out->no_sex = 0.05;
    out->no_given = 0.03;
}

/* A typing slip in 's' (at most 63 bytes) into out[64]. */
static void
typo(struct cr_synth_rng *r, const char *s, char out[64])
{
    size_t n = strnlen(s, 63), at, o = 0, i;
    char c = (char)('a' + cr_synth_rng_below(r, 26));
    int kind = (int)cr_synth_rng_below(r, 4);

    if (n < 2)
        kind = 1;            /* too short to drop or swap: add */
    /* slips rarely hit the first letter */
    at = n > 1 ? 1 + cr_synth_rng_below(r, (uint32_t)(n - 1)) : n;
    /* swapping two equal letters, or the last with nothing, changes
     * nothing: replace one instead */
    if (kind == 3 && (at + 1 >= n || s[at] == s[at + 1]))
        kind = 0;
    for (i = 0; i < n && o < 63; i++) {
        if (i == at) {
            if (kind == 0) {                 /* replaced */
                out[o++] = s[i] == c ? (char)(c == 'z' ? 'a' : c + 1) : c;
                continue;
            }
            if (kind == 1)                   /* added */
                out[o++] = c;
            if (kind == 2)                   /* dropped */
                continue;
            if (kind == 3 && i + 1 < n) {    /* neighbours swapped */
                out[o++] = s[i + 1];
                if (o < 63)
                    out[o++] = s[i];
                i++;
                continue;
            }
        }
        out[o++] = s[i];
    }
    if (at == n && kind == 1 && o < 63)
        out[o++] = c;
    out[o] = '\0';
}

/* Day and month of "YYYY-MM-DD" swapped, when the day could be a month
 * and differs from it. */
static bool
swap_date(char d[11])
{
    char m0 = d[5], m1 = d[6];

    if (!(d[8] == '0' || (d[8] == '1' && d[9] <= '2')) ||
        (d[8] == '0' && d[9] == '0') || (d[8] == m0 && d[9] == m1))
        return false;
    d[5] = d[8];
    d[6] = d[9];
    d[8] = m0;
    d[9] = m1;
    return true;
}

/* One digit of "YYYY-MM-DD" changed, keeping a plausible date (month
 * 01-12, day 01-28, year 1900 or later). */
static void
date_digit(struct cr_synth_rng *r, char d[11])
{
    static const int pos[] = { 2, 3, 5, 6, 8, 9 };
    char keep[11];
    int tries;

    memcpy(keep, d, 11);
    for (tries = 0; tries < 20; tries++) {
        int p = pos[cr_synth_rng_below(r, 6)];
        int month, day;
        char was = d[p];
        d[p] = (char)('0' + cr_synth_rng_below(r, 10));
        month = (d[5] - '0') * 10 + (d[6] - '0');
        day = (d[8] - '0') * 10 + (d[9] - '0');
        if (d[p] != was && month >= 1 && month <= 12 && day >= 1 &&
            day <= 28 && d[0] >= '1' && (d[0] > '1' || d[1] == '9'))
            return;
        memcpy(d, keep, 11);
    }
}

/* A London postcode: in the same district as 'old' or anywhere. */
static void
postcode(struct cr_synth_rng *r, const char *old, bool is_near,
         char out[16])
{
    static const char *const districts[] = {
        "E1", "E3", "E8", "E15", "E17", "N1", "N7", "N17", "NW1", "NW10",
        "SE1", "SE15", "SE18", "SW2", "SW11", "SW19", "W2", "W12", "EC1V",
        "WC1N",
    };
    static const char letters[] = "ABDEFGHJLNPQRSTUWXYZ";
    char outward[8];
    const char *sp = strchr(old, ' ');

    if (is_near && sp && sp - old < 8)
        snprintf(outward, sizeof outward, "%.*s", (int)(sp - old), old);
    else
        snprintf(outward, sizeof outward, "%s",
                 districts[cr_synth_rng_below(r, sizeof districts /
                                                     sizeof districts[0])]);
    snprintf(out, 16, "%s %c%c%c", outward,
             (char)('0' + cr_synth_rng_below(r, 10)),
             letters[cr_synth_rng_below(r, sizeof letters - 1)],
             letters[cr_synth_rng_below(r, sizeof letters - 1)]);
}

/* The name object to change: the official one, else the first. */
static json_t *
main_name(json_t *p)
{
    json_t *names = json_object_get(p, "name"), *v;
    size_t i;

    json_array_foreach(names, i, v) {
        const char *use = json_string_value(json_object_get(v, "use"));
        if (use && strcmp(use, "official") == 0)
            return v;
    }
    return json_array_get(names, 0);
}

json_t *
cr_synth_noisy_copy(const json_t *src, const struct cr_synth_noise *n,
                    uint64_t seed, uint64_t stream, const char *id,
                    const char *system, const char *value,
                    unsigned *out_changes)
{
    struct cr_synth_rng r;
    json_t *p = json_deep_copy(src), *name, *ident;
    unsigned changes = 0;
    const char *s;
    char buf[64];

    if (out_changes)
        *out_changes = 0;
    if (p == NULL)
        return NULL;
    cr_synth_rng_seed(&r, seed, stream);
    json_object_set_new(p, "id", json_string(id));
    json_object_del(p, "meta");
    ident = json_pack("[{s:s,s:s}]", "system", system, "value", value);
    if (ident == NULL) {
        json_decref(p);
        return NULL;
    }
    json_object_set_new(p, "identifier", ident);
    name = main_name(p);
    if (name && cr_synth_rng_chance(&r, n->typo)) {
        bool is_family = cr_synth_rng_below(&r, 3) != 0;
        json_t *given = json_object_get(name, "given");
        s = is_family ? json_string_value(json_object_get(name, "family"))
                      : json_string_value(json_array_get(given, 0));
        if (s) {
            typo(&r, s, buf);
            if (is_family)
                json_object_set_new(name, "family", json_string(buf));
            else
                json_array_set_new(given, 0, json_string(buf));
            changes |= CR_SYNTH_NOISE_TYPO;
        }
    }
    s = json_string_value(json_object_get(p, "birthDate"));
    if (s && strlen(s) == 10) {
        char d[11];
        memcpy(d, s, 11);
        if (cr_synth_rng_chance(&r, n->no_date)) {
            json_object_del(p, "birthDate");
            changes |= CR_SYNTH_NOISE_NO_DATE;
        } else {
            if (cr_synth_rng_chance(&r, n->swap_date)) {
                if (swap_date(d)) {
                    changes |= CR_SYNTH_NOISE_SWAP_DATE;
                } else {
                    date_digit(&r, d);
                    changes |= CR_SYNTH_NOISE_DATE_DIGIT;
                }
            }
            if (cr_synth_rng_chance(&r, n->date_digit)) {
                date_digit(&r, d);
                changes |= CR_SYNTH_NOISE_DATE_DIGIT;
            }
            json_object_set_new(p, "birthDate", json_string(d));
        }
    }
    if (json_object_get(p, "address")) {
        if (cr_synth_rng_chance(&r, n->no_postcode)) {
            json_object_del(p, "address");
            changes |= CR_SYNTH_NOISE_NO_POSTCODE;
        } else if (cr_synth_rng_chance(&r, n->moved)) {
            json_t *addr = json_array_get(json_object_get(p, "address"), 0);
            const char *old = json_string_value(json_object_get(addr,
                                                                "postalCode"));
            char pc[16];
            postcode(&r, old ? old : "", cr_synth_rng_chance(&r, 0.5), pc);
            json_object_set_new(addr, "postalCode", json_string(pc));
            changes |= CR_SYNTH_NOISE_MOVED;
        }
    }
    if (cr_synth_rng_chance(&r, n->no_sex) && json_object_get(p, "gender")) {
        json_object_del(p, "gender");
        changes |= CR_SYNTH_NOISE_NO_SEX;
    }
    if (name && cr_synth_rng_chance(&r, n->no_given) &&
        json_object_get(name, "given")) {
        json_object_del(name, "given");
        changes |= CR_SYNTH_NOISE_NO_GIVEN;
    }
    if (out_changes)
        *out_changes = changes;
    return p;
}
