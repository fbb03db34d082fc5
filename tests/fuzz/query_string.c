/*
 * Fuzz target: the query string of GET /query (server/query_parse.c), with registration times
 * turned into tree sizes by a stand-in for the ledger. Whatever the input, a refusal names its
 * reason, and an accepted query has bounded, terminated, valid UTF-8 fields, a digest of at most
 * 64 bytes, a limit of 1..1000 and a range inside the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scittd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL()                                                                                     \
    do {                                                                                           \
        fprintf(stderr, "query_string fuzz: invariant at line %d broken\n", __LINE__);             \
        abort();                                                                                   \
    } while (0)

#define LOG_SIZE 1000

/* Sizes grow with time (one entry a second, capped at the log's size); times before 1970 fail. */
static scitt_err size_at(void *ctx, int64_t ms, uint64_t *size)
{
    (void)ctx;
    if (ms < 0) {
        return SCITT_ERR_NOT_FOUND;
    }
    uint64_t s = (uint64_t)(ms / 1000);
    *size = s > LOG_SIZE ? LOG_SIZE : s;
    return SCITT_OK;
}

static void check_text(const char *s, size_t len, size_t cap)
{
    if (len >= cap || s[len] != 0 || strlen(s) != len ||
        !scitt_utf8_valid(scitt_span_make(s, len))) {
        FAIL();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scittd_query q, again;
    const char *bad = scittd_query_parse(scitt_span_make(data, size), LOG_SIZE, size_at, NULL, &q);
    const char *bad2 =
        scittd_query_parse(scitt_span_make(data, size), LOG_SIZE, size_at, NULL, &again);
    if (bad != bad2) {
        FAIL(); /* the same string, the same answer */
    }
    if (bad) {
        if (!*bad) {
            FAIL();
        }
        return 0;
    }
    if (q.has_iss) {
        check_text(q.iss, q.iss_len, sizeof(q.iss));
    }
    if (q.has_sub) {
        check_text(q.sub, q.sub_len, sizeof(q.sub));
    }
    if (q.digest_len > sizeof(q.digest) || (!q.has_digest && q.digest_len != 0)) {
        FAIL();
    }
    if (q.limit < 1 || q.limit > SCITTD_QUERY_MAX_LIMIT || q.to > LOG_SIZE || q.json) {
        FAIL();
    }
    return 0;
}
