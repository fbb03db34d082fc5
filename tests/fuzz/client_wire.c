/*
 * Fuzz target: what libscitt-client reads from a service besides receipts (client/wire.c): RFC
 * 9290 problem details, the transparency configuration, GET /query pages and the operation bodies
 * of older SCRAPI drafts. Invariants: rows stay within the page, every text copied out is
 * NUL-terminated within its field, and an operation that parses has a known status and IDs that
 * are URL-unreserved (they become request paths).
 */
#include <stdlib.h>
#include <string.h>

#include "scitt/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_span in = scitt_span_make(data, size);
    scitt_span title, detail;
    if (scitt_client_problem_parse(in, &title, &detail) &&
        (title.len > size || detail.len > size || (!title.len && !detail.len))) {
        __builtin_trap();
    }
    char v[200];
    if (scitt_client_config_text(in, "checkpoint_vkey", v, sizeof(v)) && strlen(v) >= sizeof(v)) {
        __builtin_trap();
    }
    enum { CAP = 64 };
    scitt_client_row *rows = calloc(CAP, sizeof(*rows));
    size_t n = 0;
    uint64_t next;
    if (rows && scitt_client_query_parse(in, rows, CAP, &n, &next) == SCITT_OK) {
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
    scitt_client_operation op;
    if (scitt_client_operation_parse(in, &op) == SCITT_OK) {
        if (op.status < SCITT_CLIENT_OP_RUNNING || op.status > SCITT_CLIENT_OP_FAILED ||
            strlen(op.error) >= sizeof(op.error) ||
            (op.operation_id[0] && !scitt_client_id_ok(scitt_span_str(op.operation_id))) ||
            (op.status == SCITT_CLIENT_OP_SUCCEEDED &&
             !scitt_client_id_ok(scitt_span_str(op.entry_id)))) {
            __builtin_trap();
        }
    }
    return 0;
}
