/*
 * The per-request arena: a bump allocator over an inline block that lives inside the pooled
 * request object, spilling into heap chunks only for large headers or bodies. Resetting frees
 * the spill chunks and rewinds the inline block, so a steady stream of small requests costs no
 * malloc at all.
 */
#include "http_impl.h"

#include <string.h>

#define ALIGN     16u
#define CHUNK_MIN 16384u
#define CHUNK_HDR ((sizeof(scitt__arena_chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

void scitt__arena_init(scitt__arena *a, void *mem, size_t cap)
{
    memset(a, 0, sizeof(*a));
    a->inline_base = mem;
    a->inline_cap = cap;
    a->base = mem;
    a->cap = cap;
}

static size_t align_up(size_t n)
{
    return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

void *scitt__arena_alloc(scitt__arena *a, size_t n)
{
    if (n > SIZE_MAX / 2) {
        return NULL;
    }
    size_t need = align_up(n ? n : 1);
    if (need > a->cap - a->used) {
        size_t size = need > CHUNK_MIN ? need : CHUNK_MIN;
        scitt__arena_chunk *c = scitt_malloc(CHUNK_HDR + size);
        if (!c) {
            return NULL;
        }
        c->next = a->chunks;
        a->chunks = c;
        a->base = (uint8_t *)c + CHUNK_HDR;
        a->cap = size;
        a->used = 0;
        a->spilled += size;
    }
    uint8_t *p = a->base + a->used;
    a->used += need;
    a->last = p;
    a->last_cap = need;
    return p;
}

void *scitt__arena_grow(scitt__arena *a, void *p, size_t old_len, size_t new_len)
{
    if (new_len <= old_len) {
        return p;
    }
    /* The most recent allocation can grow in place while its chunk has room. */
    if (p != NULL && p == a->last) {
        size_t need = align_up(new_len);
        if (need <= a->last_cap) {
            return p;
        }
        size_t extra = need - a->last_cap;
        if (extra <= a->cap - a->used) {
            a->used += extra;
            a->last_cap = need;
            return p;
        }
    }
    void *q = scitt__arena_alloc(a, new_len);
    if (q != NULL && old_len > 0) {
        memcpy(q, p, old_len);
    }
    return q;
}

void scitt__arena_reset(scitt__arena *a)
{
    scitt__arena_chunk *c = a->chunks;
    while (c) {
        scitt__arena_chunk *next = c->next;
        scitt_free(c);
        c = next;
    }
    a->chunks = NULL;
    a->base = a->inline_base;
    a->cap = a->inline_cap;
    a->used = 0;
    a->last = NULL;
    a->last_cap = 0;
    a->spilled = 0;
}
