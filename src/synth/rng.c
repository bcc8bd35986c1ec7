/* rng.c: the non-inline parts of the generator's random numbers: Poisson,
 * normal and weighted draws. Depends on rng.h and libm. */
#include "synth/rng.h"

#include <math.h>

int
cr_synth_rng_poisson(struct cr_synth_rng *r, double lambda)
{
    double limit, prod;
    int k = 0;

    if (lambda <= 0)
        return 0;
    if (lambda > 30) {
        double x = cr_synth_rng_normal(r, lambda, sqrt(lambda));
        return x < 0 ? 0 : (int)(x + 0.5);
    }
    limit = exp(-lambda);
    prod = cr_synth_rng_unit(r);
    while (prod > limit) {
        k++;
        prod *= cr_synth_rng_unit(r);
    }
    return k;
}

double
cr_synth_rng_normal(struct cr_synth_rng *r, double mean, double sd)
{
    double u1 = cr_synth_rng_unit(r), u2 = cr_synth_rng_unit(r);

    if (u1 < 1e-300)
        u1 = 1e-300;
    return mean + sd * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

size_t
cr_synth_rng_weighted(struct cr_synth_rng *r, const uint32_t *weights,
                      size_t n)
{
    uint64_t total = 0, pick;
    size_t i;

    for (i = 0; i < n; i++)
        total += weights[i];
    if (total == 0)
        return 0;
    pick = ((cr_synth_rng_next(r) >> 11) % total);
    for (i = 0; i < n; i++) {
        if (pick < weights[i])
            return i;
        pick -= weights[i];
    }
    return n - 1;
}
