/* demo.c: the demographics the index compares, and its blocking keys.
 *
 * A Patient's name, birth date, sex, postcode and NHS number are reduced
 * to a small normalised record (struct cr_mpi_demo): names folded to a-z
 * so "O'Brien" and "OBRIEN" agree, postcodes in upper case without
 * spaces. The index keeps that record as a short text beside the Patient,
 * so scoring a candidate never parses its resource. Blocking keys are
 * built from the same record. Pure. Depends on fhir/ (folding, NHS
 * number check) and jansson. */
#include "mpi/mpi.h"

#include "fhir/fhir.h"
#include "fhir/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
str_of(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
is(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Fold 's' and keep only the letters a-z, at most out_size - 1. */
static void
letters(const char *s, char *out, size_t out_size)
{
    char folded[256];
    size_t n, i, o = 0;

    out[0] = '\0';
    if (s == NULL)
        return;
    n = cr_fhir_fold(s, strnlen(s, sizeof folded - 1), folded,
                     sizeof folded);
    for (i = 0; i < n && o + 1 < out_size; i++)
        if (folded[i] >= 'a' && folded[i] <= 'z')
            out[o++] = folded[i];
    out[o] = '\0';
}

/* The name to compare: official, else usual, else the first that is not
 * an old or maiden name, else the first. */
static const json_t *
pick_name(const json_t *names)
{
    const json_t *v, *best = NULL;
    int best_rank = 0;
    size_t i;

    json_array_foreach(names, i, v) {
        const char *use = str_of(v, "use");
        int rank = is(use, "official") ? 4 : is(use, "usual") ? 3
                 : (is(use, "old") || is(use, "maiden")) ? 1 : 2;
        if (rank > best_rank) {
            best = v;
            best_rank = rank;
        }
    }
    return best;
}

/* The address to take the postcode from: home, else the first that is
 * not old, else the first. */
static const json_t *
pick_address(const json_t *addrs)
{
    const json_t *v, *best = NULL;
    int best_rank = 0;
    size_t i;

    json_array_foreach(addrs, i, v) {
        const char *use = str_of(v, "use");
        int rank = is(use, "home") ? 3 : is(use, "old") ? 1 : 2;
        if (str_of(v, "postalCode") == NULL)
            continue;
        if (rank > best_rank) {
            best = v;
            best_rank = rank;
        }
    }
    return best;
}

static void
postcode(const char *s, char out[9])
{
    size_t o = 0;

    out[0] = '\0';
    for (; s && *s && o < 8; s++) {
        char c = *s;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            out[o++] = c;
    }
    out[o] = '\0';
}

/* "YYYY", "YYYY-MM" or "YYYY-MM-DD" (anything after the date ignored). */
static void
birth(const char *s, struct cr_mpi_demo *d)
{
    int y = 0, m = 0, day = 0, i;

    if (s == NULL || strlen(s) < 4)
        return;
    for (i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return;
        y = y * 10 + (s[i] - '0');
    }
    if (s[4] == '-' && s[5] >= '0' && s[5] <= '9' && s[6] >= '0' &&
        s[6] <= '9') {
        m = (s[5] - '0') * 10 + (s[6] - '0');
        if (s[7] == '-' && s[8] >= '0' && s[8] <= '9' && s[9] >= '0' &&
            s[9] <= '9')
            day = (s[8] - '0') * 10 + (s[9] - '0');
    }
    if (y < 1 || m > 12 || day > 31)
        return;
    d->birth_y = y;
    d->birth_m = m;
    d->birth_d = m ? day : 0;
}

void
cr_mpi_demo_from_patient(const json_t *patient, struct cr_mpi_demo *out)
{
    const json_t *name, *addr, *v;
    const char *g;
    size_t i;

    memset(out, 0, sizeof *out);
    if (!json_is_object(patient))
        return;
    json_array_foreach(json_object_get(patient, "identifier"), i, v) {
        const char *val = str_of(v, "value");
        if (is(str_of(v, "system"), CR_FHIR_NHS_NUMBER_SYSTEM) && val &&
            cr_fhir_nhs_number_valid(val, strlen(val))) {
            memcpy(out->nhs, val, 10);
            out->nhs[10] = '\0';
            break;
        }
    }
    name = pick_name(json_object_get(patient, "name"));
    if (name) {
        letters(str_of(name, "family"), out->family, sizeof out->family);
        g = json_string_value(json_array_get(json_object_get(name, "given"),
                                             0));
        letters(g, out->given, sizeof out->given);
    }
    birth(str_of(patient, "birthDate"), out);
    g = str_of(patient, "gender");
    out->sex = is(g, "male") ? 'm' : is(g, "female") ? 'f'
             : is(g, "other") ? 'o' : 0;
    addr = pick_address(json_object_get(patient, "address"));
    if (addr)
        postcode(str_of(addr, "postalCode"), out->postcode);
}

/* ---- the stored text: nhs|family|given|yyyy-mm-dd|sex|postcode ---- */

/* Append 's' at out[*o], keeping room for the NUL. */
static void
put(char *out, size_t *o, const char *s)
{
    for (; *s && *o + 1 < CR_MPI_DEMO_TEXT; s++)
        out[(*o)++] = *s;
}

/* Append 'v' (0..9999) as 'width' digits. */
static void
put_num(char *out, size_t *o, int v, int width)
{
    char d[4];
    int i;

    for (i = width - 1; i >= 0; i--) {
        d[i] = (char)('0' + v % 10);
        v /= 10;
    }
    for (i = 0; i < width && *o + 1 < CR_MPI_DEMO_TEXT; i++)
        out[(*o)++] = d[i];
}

void
cr_mpi_demo_encode(const struct cr_mpi_demo *d, char out[CR_MPI_DEMO_TEXT])
{
    char sex[2] = { d->sex ? d->sex : '-', '\0' };
    size_t o = 0;

    put(out, &o, d->nhs);
    put(out, &o, "|");
    put(out, &o, d->family);
    put(out, &o, "|");
    put(out, &o, d->given);
    put(out, &o, "|");
    put_num(out, &o, d->birth_y > 0 && d->birth_y < 10000 ? d->birth_y : 0,
            4);
    put(out, &o, "-");
    put_num(out, &o, d->birth_m > 0 && d->birth_m <= 12 ? d->birth_m : 0, 2);
    put(out, &o, "-");
    put_num(out, &o, d->birth_d > 0 && d->birth_d <= 31 ? d->birth_d : 0, 2);
    put(out, &o, "|");
    put(out, &o, sex);
    put(out, &o, "|");
    put(out, &o, d->postcode);
    out[o] = '\0';
}

/* Copy the field that starts at *p up to '|' into out; advance past it. */
static void
field(const char **p, char *out, size_t size)
{
    size_t n = strcspn(*p, "|");

    if (n >= size)
        n = size - 1;
    memcpy(out, *p, n);
    out[n] = '\0';
    *p += strcspn(*p, "|");
    if (**p == '|')
        (*p)++;
}

/* The value of 'n' decimal digits at 's', or -1. */
static int
digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

void
cr_mpi_demo_decode(const char *text, struct cr_mpi_demo *out)
{
    const char *p = text ? text : "";
    char date[16], sex[4];

    memset(out, 0, sizeof *out);
    field(&p, out->nhs, sizeof out->nhs);
    field(&p, out->family, sizeof out->family);
    field(&p, out->given, sizeof out->given);
    field(&p, date, sizeof date);
    field(&p, sex, sizeof sex);
    field(&p, out->postcode, sizeof out->postcode);
    if (strlen(date) == 10 && date[4] == '-' && date[7] == '-') {
        int y = digits(date, 4), m = digits(date + 5, 2),
            d = digits(date + 8, 2);
        if (y > 0 && m >= 0 && m <= 12 && d >= 0 && d <= 31) {
            out->birth_y = y;
            out->birth_m = m;
            out->birth_d = m ? d : 0;
        }
    }
    out->sex = sex[0] == 'm' || sex[0] == 'f' || sex[0] == 'o' ? sex[0] : 0;
}

/* ---- blocking keys ---- */

size_t
cr_mpi_block_keys(const struct cr_mpi_demo *d,
                  char out[CR_MPI_MAX_KEYS][CR_MPI_KEY_LEN])
{
    char sf[5], sg[5];
    size_t n = 0;

    cr_mpi_soundex(d->family, sf);
    cr_mpi_soundex(d->given, sg);
    /* the whole date of birth: finds name changes and name typos */
    if (d->birth_y && d->birth_m && d->birth_d)
        snprintf(out[n++], CR_MPI_KEY_LEN, "b:%04d%02d%02d", d->birth_y,
                 d->birth_m, d->birth_d);
    /* the family name's sound and the year: finds day and month slips */
    if (sf[0] && d->birth_y)
        snprintf(out[n++], CR_MPI_KEY_LEN, "fy:%s%04d", sf, d->birth_y);
    /* the postcode and the first initial: finds wrong dates of birth */
    if (d->postcode[0] && d->given[0])
        snprintf(out[n++], CR_MPI_KEY_LEN, "pg:%s%c", d->postcode,
                 d->given[0]);
    /* both names' sounds: finds records without a date or a postcode */
    if (sf[0] && sg[0])
        snprintf(out[n++], CR_MPI_KEY_LEN, "fg:%s%s", sf, sg);
    return n;
}

size_t
cr_mpi_query_keys(const struct cr_mpi_demo *d,
                  char out[CR_MPI_MAX_KEYS][CR_MPI_KEY_LEN])
{
    size_t n = cr_mpi_block_keys(d, out);

    if (n && d->birth_y && d->birth_m && d->birth_d && d->postcode[0] &&
        strncmp(out[n - 1], "fg:", 3) == 0)
        n--;
    return n;
}
