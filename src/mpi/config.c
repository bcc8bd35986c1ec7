/* config.c: the weights and thresholds of the index, and the node
 * configuration's "mpi" section that changes them.
 *
 * The defaults are what docs/mpi.md tabulates. m is the share of pairs
 * of records of the same person at each level of agreement (typing slips,
 * changed names, moves and missing data make it less than 1 for EXACT);
 * u the share of pairs of different people (how common a value is: two
 * Londoners share a birth date about once in 20,000 pairs, a full
 * postcode far more rarely, a sex half the time). They were set from
 * published figures for English administrative data and checked against
 * the noisy duplicates `make bench` generates (bench/README.md), where
 * they give high precision for automatic links and leave the doubtful
 * pairs to the review list. A deployment tunes them to its own data.
 * Depends on core/ and jansson. */
#include "mpi/mpi.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const field_names[CR_MPI_NFIELDS] = {
    [CR_MPI_FAMILY] = "family",
    [CR_MPI_GIVEN] = "given",
    [CR_MPI_BIRTH] = "birth_date",
    [CR_MPI_SEX] = "sex",
    [CR_MPI_POSTCODE] = "postcode",
};

static const char *const level_names[CR_MPI_NLEVELS] = {
    [CR_MPI_EXACT] = "exact",
    [CR_MPI_CLOSE] = "close",
    [CR_MPI_SIMILAR] = "similar",
    [CR_MPI_DIFFERENT] = "different",
};

void
cr_mpi_config_default(struct cr_mpi_config *out)
{
    static const struct cr_mpi_mu mu[CR_MPI_NFIELDS][CR_MPI_NLEVELS] = {
        [CR_MPI_FAMILY] = { { 0.90, 0.005 }, { 0.05, 0.002 },
                            { 0.02, 0.02 }, { 0.03, 0.973 } },
        [CR_MPI_GIVEN] = { { 0.90, 0.01 }, { 0.05, 0.003 },
                           { 0.03, 0.03 }, { 0.02, 0.957 } },
        [CR_MPI_BIRTH] = { { 0.94, 0.00005 }, { 0.015, 0.00002 },
                           { 0.03, 0.0005 }, { 0.015, 0.99943 } },
        [CR_MPI_SEX] = { { 0.98, 0.5 }, { 0, 0 }, { 0, 0 },
                         { 0.02, 0.5 } },
        [CR_MPI_POSTCODE] = { { 0.80, 0.0003 }, { 0.03, 0.0005 },
                              { 0.09, 0.02 }, { 0.08, 0.9792 } },
    };

    memset(out, 0, sizeof *out);
    memcpy(out->mu, mu, sizeof mu);
    out->upper = 32.0;
    out->probable = 28.0;
    out->lower = 20.0;
    out->name_close = 0.92;
    out->name_similar = 0.80;
    out->max_block = 200;
}

static cr_rc
bad(struct cr_err *err, const char *code, const char *where,
    const char *msg)
{
    return cr_err_set(err, CR_EINVAL, code, where, "%s: %s", where, msg);
}

/* A number (integer or real) at 'v', into *out. */
static bool
number(const json_t *v, double *out)
{
    if (json_is_real(v))
        *out = json_real_value(v);
    else if (json_is_integer(v))
        *out = (double)json_integer_value(v);
    else
        return false;
    return isfinite(*out);
}

static cr_rc
load_fields(const json_t *fields, struct cr_mpi_config *c,
            struct cr_err *err)
{
    const char *fname, *lname, *key;
    const json_t *lv, *levels, *v;
    char where[160];
    int f, l;

    if (!json_is_object(fields))
        return bad(err, "value", "mpi.fields", "must be an object from "
                   "field name to levels");
    json_object_foreach((json_t *)fields, fname, levels) {
        for (f = 0; f < CR_MPI_NFIELDS; f++)
            if (strcmp(field_names[f], fname) == 0)
                break;
        snprintf(where, sizeof where, "mpi.fields.%.40s", fname);
        if (f == CR_MPI_NFIELDS)
            return bad(err, "structure", where, "unknown field (family, "
                       "given, birth_date, sex, postcode)");
        if (!json_is_object(levels))
            return bad(err, "value", where, "must be an object from level "
                       "name to {\"m\": p, \"u\": p}");
        json_object_foreach((json_t *)levels, lname, lv) {
            for (l = 0; l < CR_MPI_NLEVELS; l++)
                if (strcmp(level_names[l], lname) == 0)
                    break;
            snprintf(where, sizeof where, "mpi.fields.%s.%.40s",
                     field_names[f], lname);
            if (l == CR_MPI_NLEVELS)
                return bad(err, "structure", where, "unknown level "
                           "(exact, close, similar, different)");
            if (f == CR_MPI_SEX && (l == CR_MPI_CLOSE ||
                                    l == CR_MPI_SIMILAR))
                return bad(err, "structure", where, "sex has only the "
                           "levels exact and different");
            if (!json_is_object(lv))
                return bad(err, "value", where, "must be {\"m\": p, "
                           "\"u\": p}");
            json_object_foreach((json_t *)lv, key, v) {
                double p;
                snprintf(where, sizeof where, "mpi.fields.%s.%s.%.8s",
                         field_names[f], level_names[l], key);
                if (strcmp(key, "m") != 0 && strcmp(key, "u") != 0)
                    return bad(err, "structure", where, "unknown key (m, "
                               "u)");
                if (!number(v, &p) || p <= 0.0 || p >= 1.0)
                    return bad(err, "value", where, "must be a "
                               "probability above 0 and below 1");
                if (key[0] == 'm')
                    c->mu[f][l].m = p;
                else
                    c->mu[f][l].u = p;
            }
        }
    }
    return CR_OK;
}

cr_rc
cr_mpi_config_load(const json_t *section, struct cr_mpi_config *out,
                   struct cr_err *err)
{
    struct cr_mpi_config c;
    const char *key;
    const json_t *v;
    char where[80];
    double d;
    cr_rc rc;

    cr_mpi_config_default(&c);
    if (section == NULL)
        goto done;
    if (!json_is_object(section))
        return bad(err, "value", "mpi", "must be an object");
    json_object_foreach((json_t *)section, key, v) {
        snprintf(where, sizeof where, "mpi.%.60s", key);
        if (strcmp(key, "fields") == 0) {
            rc = load_fields(v, &c, err);
            if (rc != CR_OK)
                return rc;
        } else if (strcmp(key, "upper") == 0 ||
                   strcmp(key, "probable") == 0 ||
                   strcmp(key, "lower") == 0) {
            if (!number(v, &d) || d < -100.0 || d > 200.0)
                return bad(err, "value", where, "must be a weight (a "
                           "number of bits, -100 to 200)");
            *(key[0] == 'u' ? &c.upper : key[0] == 'p' ? &c.probable
                                                        : &c.lower) = d;
        } else if (strcmp(key, "name_close") == 0 ||
                   strcmp(key, "name_similar") == 0) {
            if (!number(v, &d) || d <= 0.0 || d > 1.0)
                return bad(err, "value", where, "must be a Jaro-Winkler "
                           "similarity above 0, at most 1");
            *(key[5] == 'c' ? &c.name_close : &c.name_similar) = d;
        } else if (strcmp(key, "max_block") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > 10000)
                return bad(err, "value", where, "must be a whole number "
                           "from 1 to 10000");
            c.max_block = (int)json_integer_value(v);
        } else {
            return bad(err, "structure", where, "unknown key (fields, "
                       "upper, probable, lower, name_close, name_similar, "
                       "max_block)");
        }
    }
    if (!(c.lower <= c.probable && c.probable <= c.upper))
        return bad(err, "value", "mpi", "the thresholds must be ordered: "
                   "lower <= probable <= upper");
    if (c.name_similar > c.name_close)
        return bad(err, "value", "mpi", "name_similar must not be above "
                   "name_close");
done:
    *out = c;
    return CR_OK;
}
