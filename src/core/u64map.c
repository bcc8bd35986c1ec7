/* u64map.c: a hash map from 64-bit keys to 64-bit values (see u64map.h).
 * Key 0 marks an empty slot, so it is kept beside the table. Depends on
 * libc. */
#include "core/u64map.h"

#include <stdlib.h>

/* Spread the bits of a key over the table (the SplitMix64 finaliser):
 * keys are hashes already, but callers may pass small integers too. */
static size_t
home(uint64_t key, size_t cap)
{
    key ^= key >> 30;
    key *= UINT64_C(0xbf58476d1ce4e5b9);
    key ^= key >> 27;
    key *= UINT64_C(0x94d049bb133111eb);
    key ^= key >> 31;
    return (size_t)key & (cap - 1);
}

static int
grow(struct cr_u64map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64, i, j;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint64_t *vals = calloc(cap, sizeof *vals);

    if (keys == NULL || vals == NULL || cap < m->cap) {
        free(keys);
        free(vals);
        return -1;
    }
    for (i = 0; i < m->cap; i++) {
        if (m->keys[i] == 0)
            continue;
        for (j = home(m->keys[i], cap); keys[j] != 0; j = (j + 1) & (cap - 1))
            ;
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

uint64_t *
cr_u64map_find(struct cr_u64map *m, uint64_t key)
{
    size_t i;

    if (key == 0)
        return m->has_zero ? &m->zero_val : NULL;
    if (m->cap == 0)
        return NULL;
    for (i = home(key, m->cap); m->keys[i] != 0; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == key)
            return &m->vals[i];
    return NULL;
}

uint64_t *
cr_u64map_slot(struct cr_u64map *m, uint64_t key, bool *out_is_new)
{
    uint64_t *v;
    size_t i;

    if (key == 0) {
        if (out_is_new)
            *out_is_new = !m->has_zero;
        if (!m->has_zero) {
            m->has_zero = true;
            m->zero_val = 0;
        }
        return &m->zero_val;
    }
    v = cr_u64map_find(m, key);
    if (v != NULL) {
        if (out_is_new)
            *out_is_new = false;
        return v;
    }
    if ((m->n + 1) * 2 > m->cap && grow(m) != 0)
        return NULL;
    for (i = home(key, m->cap); m->keys[i] != 0; i = (i + 1) & (m->cap - 1))
        ;
    m->keys[i] = key;
    m->vals[i] = 0;
    m->n++;
    if (out_is_new)
        *out_is_new = true;
    return &m->vals[i];
}

size_t
cr_u64map_count(const struct cr_u64map *m)
{
    return m->n + (m->has_zero ? 1 : 0);
}

void
cr_u64map_free(struct cr_u64map *m)
{
    free(m->keys);
    free(m->vals);
    *m = cr_u64map_make();
}
