/*
 * Fuzz target: the tar reader of `scitt sign --docker-archive`. The input is the archive; the
 * walk looks for index.json and for a member that is not there. Invariant: a member found lies
 * inside the archive... or says so through its size (the caller reads it bounded).
 */
#include <string.h>

#include "parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct mem {
    const uint8_t *p;
    size_t n;
} mem;

static long mem_read(void *ctx, uint64_t off, uint8_t *buf, size_t n)
{
    const mem *m = ctx;
    if (off >= m->n) {
        return 0;
    }
    size_t k = m->n - off < n ? m->n - (size_t)off : n;
    memcpy(buf, m->p + off, k);
    return (long)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mem m = {data, size};
    tar_member t;
    if (tar_find(mem_read, &m, "index.json", &t) == SCITT_OK &&
        (strcmp(t.name, "index.json") != 0 || t.data_off > size || t.data_off % 512 != 0)) {
        __builtin_trap();
    }
    (void)tar_find(mem_read, &m, "blobs/sha256/nothing", &t);
    if (size >= 512) {
        (void)tar_header(data, &t);
    }
    return 0;
}
