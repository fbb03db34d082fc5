/* C2SP entry bundles: uint16 big-endian length || entry, for every entry of a tile's range. */
#include "parsers.h"

scitt_err bundle_split(scitt_span bundle, size_t want, scitt_span *entries)
{
    if (want == 0 || want > SCITT_TILE_WIDTH) {
        return SCITT_ERR_INVALID_ARG;
    }
    size_t pos = 0, n = 0;
    while (pos < bundle.len) {
        if (n == want || bundle.len - pos < 2) {
            return SCITT_ERR_MALFORMED; /* more entries than the tile, or a torn length */
        }
        size_t len = (size_t)bundle.ptr[pos] << 8 | bundle.ptr[pos + 1];
        pos += 2;
        if (len > bundle.len - pos) {
            return SCITT_ERR_MALFORMED;
        }
        entries[n++] = scitt_span_make(bundle.ptr + pos, len);
        pos += len;
    }
    return n == want ? SCITT_OK : SCITT_ERR_MALFORMED;
}
