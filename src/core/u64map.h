/* u64map.h: a hash map from 64-bit keys to 64-bit values.
 *
 * For counting and de-duplicating over large streams (distinct patients a
 * user opened in a day, distinct users a month) where the keys are
 * already hashes of what is counted: open addressing with linear probing,
 * 16 bytes a slot, growing so at most half the slots are used. Every key
 * is allowed (0 too). Nothing is ever removed. Not thread-safe; one map
 * per user. Depends on libc only. */
#ifndef CR_CORE_U64MAP_H
#define CR_CORE_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cr_u64map {
    /* private */
    uint64_t *keys;
    uint64_t *vals;
    size_t cap;         /* slots, a power of two (0: nothing allocated) */
    size_t n;           /* keys held, but for key 0 */
    bool has_zero;      /* key 0 is held, in zero_val */
    uint64_t zero_val;
};

/* An empty map (allocates nothing yet). */
static inline struct cr_u64map
cr_u64map_make(void)
{
    struct cr_u64map m = { NULL, NULL, 0, 0, false, 0 };
    return m;
}

/* The value slot of 'key', added with value 0 when it is not there yet
 * (*out_is_new, which may be NULL, says which). The pointer is valid until
 * the next call that may add. NULL when out of memory (the map is
 * unchanged). */
uint64_t *
cr_u64map_slot(struct cr_u64map *m, uint64_t key, bool *out_is_new);

/* The value slot of 'key', or NULL when the map does not hold it. */
uint64_t *
cr_u64map_find(struct cr_u64map *m, uint64_t key);

/* How many keys the map holds. */
size_t
cr_u64map_count(const struct cr_u64map *m);

/* Free the memory; the map is empty and may be used again. */
void
cr_u64map_free(struct cr_u64map *m);

#endif
