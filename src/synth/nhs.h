/* nhs.h: NHS numbers for synthetic people (internal to src/synth).
 *
 * NHS numbers are ten digits; the tenth is a Modulus 11 check digit over
 * the first nine (weights 10..2; 11 becomes 0; 10 means the nine digits
 * cannot form a valid number). Synthetic data uses only the range
 * 999 000 0000 to 999 999 9999, reserved for testing: 10^6 nine-digit
 * prefixes, of which those with check value 10 are skipped, leaving
 * cr_synth_nhs_capacity() valid numbers. The sequence visits the prefixes
 * in a fixed scattered order, so consecutive patients do not get
 * consecutive numbers. Depends on libc. Thread-safe (cr_synth_nhs_capacity
 * caches its answer; a race only computes it twice); the iterator is
 * owned by its caller. */
#ifndef CR_SYNTH_NHS_H
#define CR_SYNTH_NHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The check value of the nine-digit number 'first9' (0..999999999): 0..9,
 * or 10 when no valid NHS number starts with these digits. */
int
cr_synth_nhs_check(uint32_t first9);

/* True when 's' (len bytes) is ten digits with a correct check digit. */
bool
cr_synth_nhs_valid(const char *s, size_t len);

/* How many valid NHS numbers the 999 test range holds. */
uint32_t
cr_synth_nhs_capacity(void);

/* Iterator over the valid test-range numbers; start it zeroed. */
struct cr_synth_nhs_seq {
    uint32_t next;      /* next position in the scattered prefix order */
};

/* The next valid number of the sequence as a 10-digit integer, or 0 when
 * the range is exhausted. */
uint64_t
cr_synth_nhs_next(struct cr_synth_nhs_seq *it);

/* Write 'nhs' as ten digits and a NUL into 'out'. */
void
cr_synth_nhs_format(uint64_t nhs, char out[11]);

#endif
