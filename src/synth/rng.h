/* rng.h: pseudo-random numbers for the synthetic population (internal to
 * src/synth).
 *
 * xoshiro256** (Blackman and Vigna), seeded through splitmix64 from a run
 * seed and a stream number, so every patient and every piece of the world
 * draws from its own stream: output does not depend on the order in which
 * things are generated or on threads. Integer-only where it matters, so the
 * same arguments give the same bytes. One struct per user; not shared
 * between threads. Depends on libc and libm. */
#ifndef CR_SYNTH_RNG_H
#define CR_SYNTH_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cr_synth_rng {
    uint64_t s[4];
};

/* The splitmix64 finaliser: a bijective 64-bit mix, used as a hash of
 * small integers (seeds, indexes, stream tags). Pure. */
static inline uint64_t
cr_synth_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Seed 'r' for stream 'stream' of run seed 'seed'. Different (seed,
 * stream) pairs give unrelated sequences. */
static inline void
cr_synth_rng_seed(struct cr_synth_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = cr_synth_mix64(seed) ^ cr_synth_mix64(~stream * 0xd1b54a32d192ed03ULL);
    int i;

    for (i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ULL;
        r->s[i] = cr_synth_mix64(x);
    }
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

static inline uint64_t
cr_synth_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* The next 64 random bits. */
static inline uint64_t
cr_synth_rng_next(struct cr_synth_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = cr_synth_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = cr_synth_rotl(s[3], 45);
    return result;
}

/* A number in [0, n); 0 when n is 0. (Lemire's multiply-shift; the bias
 * for n far below 2^32 is negligible and, above all, deterministic.) */
static inline uint32_t
cr_synth_rng_below(struct cr_synth_rng *r, uint32_t n)
{
    return (uint32_t)(((cr_synth_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* A number in [lo, hi], both included; lo when hi < lo. */
static inline int
cr_synth_rng_range(struct cr_synth_rng *r, int lo, int hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int)cr_synth_rng_below(r, (uint32_t)(hi - lo + 1));
}

/* A double in [0, 1). */
static inline double
cr_synth_rng_unit(struct cr_synth_rng *r)
{
    return (double)(cr_synth_rng_next(r) >> 11) * 0x1.0p-53;
}

/* True with probability p (p <= 0: never; p >= 1: always). */
static inline bool
cr_synth_rng_chance(struct cr_synth_rng *r, double p)
{
    return cr_synth_rng_unit(r) < p;
}

/* A Poisson-distributed count with mean 'lambda' (>= 0). Exact (Knuth) for
 * small means, a rounded normal approximation above 30. */
int
cr_synth_rng_poisson(struct cr_synth_rng *r, double lambda);

/* A normally distributed double (Box-Muller). */
double
cr_synth_rng_normal(struct cr_synth_rng *r, double mean, double sd);

/* An index in [0, n) drawn with probability proportional to weights[i];
 * n must be > 0 and the weights must not all be 0. */
size_t
cr_synth_rng_weighted(struct cr_synth_rng *r, const uint32_t *weights,
                      size_t n);

#endif
