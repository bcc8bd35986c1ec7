/* arena.c: chunked bump allocator with cleanup hooks. Depends on libc. */
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 16384
#define ALIGN 16

struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

struct hook {
    struct hook *next;
    cr_arena_cleanup_fn fn;
    void *data;
};

struct cr_arena {
    struct chunk *head;
    struct hook *hooks;
    size_t size;                  /* bytes of all chunks */
};

struct cr_arena *
cr_arena_create(void)
{
    return calloc(1, sizeof(struct cr_arena));
}

void
cr_arena_destroy(struct cr_arena *a)
{
    struct chunk *c, *cn;
    struct hook *h, *hn;

    if (a == NULL)
        return;
    for (h = a->hooks; h; h = hn) {
        hn = h->next;
        h->fn(h->data);
    }
    for (c = a->head; c; c = cn) {
        cn = c->next;
        free(c);
    }
    free(a);
}

void *
cr_arena_alloc(struct cr_arena *a, size_t size)
{
    struct chunk *c = a->head;
    size_t cap;
    void *p;

    size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (size == 0)
        size = ALIGN;
    if (c == NULL || c->cap - c->used < size) {
        cap = size > CHUNK / 2 ? size : CHUNK;
        if (cap > SIZE_MAX - sizeof *c)
            return NULL;
        c = malloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        a->size += sizeof *c + cap;
        if (a->head && size > CHUNK / 2) {
            /* A big one-off: keep the current chunk in front for small ones. */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    p = c->data + c->used;
    c->used += size;
    return p;
}

void *
cr_arena_calloc(struct cr_arena *a, size_t n, size_t size)
{
    void *p;

    if (size && n > SIZE_MAX / size)
        return NULL;
    p = cr_arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *
cr_arena_strndup(struct cr_arena *a, const char *s, size_t len)
{
    char *p = cr_arena_alloc(a, len + 1);

    if (p == NULL)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

int
cr_arena_on_destroy(struct cr_arena *a, cr_arena_cleanup_fn fn, void *data)
{
    struct hook *h = cr_arena_alloc(a, sizeof *h);

    if (h == NULL) {
        fn(data);
        return -1;
    }
    h->fn = fn;
    h->data = data;
    h->next = a->hooks;
    a->hooks = h;
    return 0;
}

size_t
cr_arena_size(const struct cr_arena *a)
{
    return a ? a->size : 0;
}
