/*
 * Fuzz target: what the scitt tool reads from a service besides receipts: RFC 9290 problem
 * details, the transparency configuration, and GET /query pages. Invariants: rows stay within the
 * page, and every text copied out is NUL-terminated within its field.
 */
#include <stdlib.h>
#include <string.h>

#include "parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_span in = scitt_span_make(data, size);
    scitt_span title, detail;
    if (wire_problem(in, &title, &detail) &&
        (title.len > size || detail.len > size || (!title.len && !detail.len))) {
        __builtin_trap();
    }
    char v[200];
    if (wire_config_text(in, "checkpoint_vkey", v, sizeof(v)) && strlen(v) >= sizeof(v)) {
        __builtin_trap();
    }
    enum { CAP = 64 };
    wire_row *rows = calloc(CAP, sizeof(*rows));
    size_t n = 0;
    uint64_t next;
    if (rows && wire_query_page(in, rows, CAP, &n, &next) == SCITT_OK) {
        if (n > CAP) {
            __builtin_trap();
        }
        for (size_t i = 0; i < n; i++) {
            if (strlen(rows[i].entry_id) >= sizeof(rows[i].entry_id) ||
                strlen(rows[i].iss) >= sizeof(rows[i].iss)) {
                __builtin_trap();
            }
        }
    }
    free(rows);
    return 0;
}
