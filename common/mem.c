/* Spans, constant-time compare, wiping and the allocation hooks. */
#include "scitt/base.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

scitt_span scitt_span_str(const char *s)
{
    return scitt_span_make(s, s ? strlen(s) : 0);
}

bool scitt_span_eq(scitt_span a, scitt_span b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool scitt_span_eq_str(scitt_span a, const char *s)
{
    return scitt_span_eq(a, scitt_span_str(s));
}

bool scitt_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void scitt_wipe(void *p, size_t len)
{
    if (p && len) {
        OPENSSL_cleanse(p, len);
    }
}

static void *default_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void *default_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    return realloc(ptr, size);
}

static void default_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static scitt_allocator alloc_hooks = {default_alloc, default_realloc, default_free, NULL};

void scitt_set_allocator(const scitt_allocator *a)
{
    if (a) {
        alloc_hooks = *a;
    } else {
        alloc_hooks.alloc = default_alloc;
        alloc_hooks.realloc = default_realloc;
        alloc_hooks.free = default_free;
        alloc_hooks.ctx = NULL;
    }
}

void *scitt_malloc(size_t size)
{
    return alloc_hooks.alloc(alloc_hooks.ctx, size ? size : 1);
}

void *scitt_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        return NULL;
    }
    void *p = scitt_malloc(n * size);
    if (p) {
        memset(p, 0, n * size);
    }
    return p;
}

void *scitt_realloc(void *ptr, size_t size)
{
    return alloc_hooks.realloc(alloc_hooks.ctx, ptr, size ? size : 1);
}

void scitt_free(void *ptr)
{
    if (ptr) {
        alloc_hooks.free(alloc_hooks.ctx, ptr);
    }
}
