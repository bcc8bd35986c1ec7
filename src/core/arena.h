/* arena.h: a request's memory, freed in one go.
 *
 * Allocations come from large chunks and are never freed one by one;
 * cr_arena_destroy frees them all and first runs the cleanup hooks
 * registered for non-memory resources (in reverse order of registration).
 * An arena is used by one thread at a time. Depends on libc. */
#ifndef CR_CORE_ARENA_H
#define CR_CORE_ARENA_H

#include <stddef.h>

struct cr_arena;

typedef void (*cr_arena_cleanup_fn)(void *data);

/* A new arena, or NULL when out of memory. Free with cr_arena_destroy. */
struct cr_arena *
cr_arena_create(void);

/* Run the cleanup hooks, then free every allocation. NULL is a no-op. */
void
cr_arena_destroy(struct cr_arena *a);

/* 'size' bytes aligned for any type, or NULL when out of memory. The memory
 * lives until the arena is destroyed. */
void *
cr_arena_alloc(struct cr_arena *a, size_t size);

/* As cr_arena_alloc, zero-filled. */
void *
cr_arena_calloc(struct cr_arena *a, size_t n, size_t size);

/* A NUL-terminated copy of 'len' bytes of 's', or NULL. */
char *
cr_arena_strndup(struct cr_arena *a, const char *s, size_t len);

/* How many bytes the arena holds from malloc (its chunks, used or not);
 * 0 for NULL. */
size_t
cr_arena_size(const struct cr_arena *a);

/* Run 'fn(data)' when the arena is destroyed. Returns 0, or -1 when out of
 * memory (then 'fn' has been run already, so nothing leaks). */
int
cr_arena_on_destroy(struct cr_arena *a, cr_arena_cleanup_fn fn, void *data);

#endif
