/* nhs.c: NHS number check digits and the test-range sequence. Depends on
 * nhs.h and libc. */
#include "synth/nhs.h"

#define PREFIXES 1000000u          /* six free digits after "999" */
#define STEP 387413u               /* odd, not a multiple of 5: a bijection mod 10^6 */
#define OFFSET 271828u

int
cr_synth_nhs_check(uint32_t first9)
{
    int sum = 0, weight, rem;

    for (weight = 2; weight <= 10; weight++) {
        sum += (int)(first9 % 10) * weight;
        first9 /= 10;
    }
    rem = 11 - sum % 11;
    return rem == 11 ? 0 : rem;
}

bool
cr_synth_nhs_valid(const char *s, size_t len)
{
    uint32_t first9 = 0;
    size_t i;

    if (s == NULL || len != 10)
        return false;
    for (i = 0; i < 10; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    for (i = 0; i < 9; i++)
        first9 = first9 * 10 + (uint32_t)(s[i] - '0');
    return cr_synth_nhs_check(first9) == s[9] - '0';
}

uint32_t
cr_synth_nhs_capacity(void)
{
    static uint32_t cached;
    uint32_t p, n = 0;

    if (cached)
        return cached;
    for (p = 0; p < PREFIXES; p++)
        if (cr_synth_nhs_check(999000000u + p) != 10)
            n++;
    cached = n;
    return n;
}

uint64_t
cr_synth_nhs_next(struct cr_synth_nhs_seq *it)
{
    while (it->next < PREFIXES) {
        uint32_t p = (uint32_t)(((uint64_t)it->next * STEP + OFFSET) % PREFIXES);
        uint32_t first9 = 999000000u + p;
        int check = cr_synth_nhs_check(first9);

        it->next++;
        if (check != 10)
            return (uint64_t)first9 * 10 + (uint64_t)check;
    }
    return 0;
}

void
cr_synth_nhs_format(uint64_t nhs, char out[11])
{
    int i;

    for (i = 9; i >= 0; i--) {
        out[i] = (char)('0' + nhs % 10);
        nhs /= 10;
    }
    out[10] = '\0';
}
