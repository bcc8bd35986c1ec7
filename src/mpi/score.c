/* score.c: Fellegi-Sunter comparison of two records' demographics.
 *
 * Each field is compared to a level of agreement; each level carries m
 * (how often two records of the same person agree at that level) and u
 * (how often two records of different people do); the evidence of a
 * level is log2(m / u), positive when the level is commoner among true
 * matches. A missing field is no evidence either way. The sum over the
 * fields is the match weight, compared with the thresholds of the
 * configuration (config.c). The NHS number overrides the weight when both
 * records carry one. docs/mpi.md has the defaults and the reasoning.
 * Pure. Depends on core/. */
#include "mpi/mpi.h"

#include <math.h>
#include <string.h>

double
cr_mpi_level_weight(const struct cr_mpi_config *cfg, enum cr_mpi_field f,
                    enum cr_mpi_level level)
{
    const struct cr_mpi_mu *mu;

    if (level < 0 || level >= CR_MPI_NLEVELS || f < 0 ||
        f >= CR_MPI_NFIELDS)
        return 0.0;
    mu = &cfg->mu[f][level];
    if (mu->m <= 0.0 || mu->u <= 0.0)
        return 0.0;
    return log2(mu->m / mu->u);
}

double
cr_mpi_full_weight(const struct cr_mpi_config *cfg)
{
    double w = 0.0;
    int f;

    for (f = 0; f < CR_MPI_NFIELDS; f++)
        w += cr_mpi_level_weight(cfg, (enum cr_mpi_field)f, CR_MPI_EXACT);
    return w;
}

/* The level a field with only EXACT and DIFFERENT gets for a level that
 * it does not have: the nearest level it has, towards DIFFERENT. */
static enum cr_mpi_level
present(const struct cr_mpi_config *cfg, enum cr_mpi_field f,
        enum cr_mpi_level l)
{
    while (l < CR_MPI_DIFFERENT && cfg->mu[f][l].m <= 0.0)
        l++;
    return l;
}

static enum cr_mpi_level
name_level(const struct cr_mpi_config *cfg, const char *a, const char *b)
{
    double jw;

    if (!a[0] || !b[0])
        return CR_MPI_MISSING;
    if (strcmp(a, b) == 0)
        return CR_MPI_EXACT;
    /* an initial against a name it begins */
    if ((a[1] == '\0' || b[1] == '\0') && a[0] == b[0])
        return CR_MPI_SIMILAR;
    jw = cr_mpi_jaro_winkler(a, b);
    if (jw >= cfg->name_close)
        return CR_MPI_CLOSE;
    if (jw >= cfg->name_similar)
        return CR_MPI_SIMILAR;
    return CR_MPI_DIFFERENT;
}

/* YYYYMMDD digits differing between two full dates. */
static int
digits_differing(const struct cr_mpi_demo *a, const struct cr_mpi_demo *b)
{
    int va[3] = { a->birth_y, a->birth_m, a->birth_d };
    int vb[3] = { b->birth_y, b->birth_m, b->birth_d };
    static const int width[3] = { 4, 2, 2 };
    int n = 0, i, k;

    for (i = 0; i < 3; i++)
        for (k = 0; k < width[i]; k++) {
            if (va[i] % 10 != vb[i] % 10)
                n++;
            va[i] /= 10;
            vb[i] /= 10;
        }
    return n;
}

static enum cr_mpi_level
birth_level(const struct cr_mpi_demo *a, const struct cr_mpi_demo *b)
{
    bool full_a = a->birth_y && a->birth_m && a->birth_d;
    bool full_b = b->birth_y && b->birth_m && b->birth_d;

    if (!a->birth_y || !b->birth_y)
        return CR_MPI_MISSING;
    if (full_a && full_b) {
        if (a->birth_y == b->birth_y && a->birth_m == b->birth_m &&
            a->birth_d == b->birth_d)
            return CR_MPI_EXACT;
        if (a->birth_y == b->birth_y && a->birth_m == b->birth_d &&
            a->birth_d == b->birth_m)
            return CR_MPI_CLOSE;
        if (digits_differing(a, b) == 1)
            return CR_MPI_SIMILAR;
        return CR_MPI_DIFFERENT;
    }
    /* a partial date: what both give must agree */
    if (a->birth_y == b->birth_y &&
        (!a->birth_m || !b->birth_m || a->birth_m == b->birth_m))
        return CR_MPI_SIMILAR;
    return CR_MPI_DIFFERENT;
}

/* The outward code: all but the last three characters (the inward code
 * is always a digit and two letters). */
static size_t
outward(const char *pc)
{
    size_t n = strlen(pc);

    return n > 3 ? n - 3 : n;
}

static enum cr_mpi_level
postcode_level(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, diff = 0, first = 0;

    if (!la || !lb)
        return CR_MPI_MISSING;
    if (strcmp(a, b) == 0)
        return CR_MPI_EXACT;
    if (la == lb) {
        for (i = 0; i < la; i++)
            if (a[i] != b[i]) {
                if (diff++ == 0)
                    first = i;
            }
        /* one character wrong, or two neighbours swapped */
        if (diff == 1 ||
            (diff == 2 && first + 1 < la && a[first] == b[first + 1] &&
             a[first + 1] == b[first]))
            return CR_MPI_CLOSE;
    }
    if (outward(a) == outward(b) && memcmp(a, b, outward(a)) == 0)
        return CR_MPI_SIMILAR;
    return CR_MPI_DIFFERENT;
}

enum cr_mpi_level
cr_mpi_compare_field(const struct cr_mpi_config *cfg, enum cr_mpi_field f,
                     const struct cr_mpi_demo *a,
                     const struct cr_mpi_demo *b)
{
    enum cr_mpi_level l;

    switch (f) {
    case CR_MPI_FAMILY:
        l = name_level(cfg, a->family, b->family);
        break;
    case CR_MPI_GIVEN:
        l = name_level(cfg, a->given, b->given);
        break;
    case CR_MPI_BIRTH:
        l = birth_level(a, b);
        break;
    case CR_MPI_SEX:
        if (!a->sex || !b->sex)
            return CR_MPI_MISSING;
        l = a->sex == b->sex ? CR_MPI_EXACT : CR_MPI_DIFFERENT;
        break;
    case CR_MPI_POSTCODE:
        l = postcode_level(a->postcode, b->postcode);
        break;
    default:
        return CR_MPI_MISSING;
    }
    return l == CR_MPI_MISSING ? l : present(cfg, f, l);
}

const char *
cr_mpi_grade_code(enum cr_mpi_grade g)
{
    switch (g) {
    case CR_MPI_CERTAIN:
        return "certain";
    case CR_MPI_PROBABLE:
        return "probable";
    case CR_MPI_POSSIBLE:
        return "possible";
    case CR_MPI_CERTAINLY_NOT:
        return "certainly-not";
    case CR_MPI_NONE:
        break;
    }
    return NULL;
}

void
cr_mpi_compare(const struct cr_mpi_config *cfg, const struct cr_mpi_demo *a,
               const struct cr_mpi_demo *b, struct cr_mpi_score *out)
{
    double full = cr_mpi_full_weight(cfg);
    int f;

    memset(out, 0, sizeof *out);
    for (f = 0; f < CR_MPI_NFIELDS; f++) {
        enum cr_mpi_level l = cr_mpi_compare_field(cfg, (enum cr_mpi_field)f,
                                                   a, b);
        out->level[f] = l;
        out->field_weight[f] = cr_mpi_level_weight(cfg, (enum cr_mpi_field)f,
                                                   l);
        out->weight += out->field_weight[f];
    }
    if (a->nhs[0] && b->nhs[0]) {
        bool same = strcmp(a->nhs, b->nhs) == 0;
        out->grade = same ? CR_MPI_CERTAIN : CR_MPI_CERTAINLY_NOT;
        out->score = same ? 1.0 : 0.0;
        return;
    }
    out->score = full > 0.0 ? out->weight / full : 0.0;
    if (out->score < 0.0)
        out->score = 0.0;
    if (out->score > 1.0)
        out->score = 1.0;
    out->grade = out->weight >= cfg->upper      ? CR_MPI_CERTAIN
               : out->weight >= cfg->probable   ? CR_MPI_PROBABLE
               : out->weight >= cfg->lower      ? CR_MPI_POSSIBLE
                                                : CR_MPI_NONE;
}
