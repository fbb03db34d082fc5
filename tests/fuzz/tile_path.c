/*
 * Fuzz target: tile and entry-bundle path parsing. Whatever parses must print back to exactly
 * the same bytes (the parser accepts canonical paths only).
 */
#include <string.h>

#include "scitt/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool entries;
    unsigned level, width;
    uint64_t index;
    if (scitt_tile_parse_path(scitt_span_make(data, size), &entries, &level, &index, &width) !=
        SCITT_OK) {
        return 0;
    }
    char p[SCITT_TILE_PATH_MAX];
    scitt_err e = entries ? scitt_tile_entries_path(index, width, p, sizeof(p))
                          : scitt_tile_path(level, index, width, p, sizeof(p));
    if (e != SCITT_OK || strlen(p) != size || memcmp(p, data, size) != 0) {
        __builtin_trap();
    }
    return 0;
}
