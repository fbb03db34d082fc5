/*
 * Fuzz target: the registration policy file. Every input is a policy document; when it parses,
 * it decides on three fixed, validly signed statements (a pinned key by kid, a hash envelope, an
 * x5chain under a test CA) at a fixed time, through a shared key cache. Whatever the input, a
 * failure must come with a reason, and an admission must report the statement's own iss and sub.
 * A fourth message, the first with a parameter in its unprotected header, is never decided: the
 * policy decides on registered forms only (SCITT_ERR_INVALID_ARG for anything else).
 */
#include <stdio.h>
#include <string.h>

#include "daemon_fuzz.h"
#include "scitt/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL()                                                                                     \
    do {                                                                                           \
        fprintf(stderr, "policy_check fuzz: invariant at line %d broken\n", __LINE__);             \
        abort();                                                                                   \
    } while (0)

static scitt_span stmts[3];
static scitt_cose_sign1 msgs[3];
static uint8_t twin_buf[4096];
static scitt_cose_sign1 twin; /* msgs[0] with {"x": 0} unprotected */
static scitt_key_cache *cache;

static void setup(void)
{
    const char *hex[3] = {FUZZ_STMT_KID, FUZZ_STMT_ENVELOPE, FUZZ_STMT_X5CHAIN};
    for (int i = 0; i < 3; i++) {
        stmts[i] = fuzz_fixture(hex[i]);
        if (scitt_cose_sign1_decode(stmts[i], 0, &msgs[i]) != SCITT_OK) {
            abort();
        }
    }
    const scitt_cose_sign1 *m = &msgs[0];
    static const uint8_t head[2] = {0xd2, 0x84}, unprot[4] = {0xa1, 0x61, 0x78, 0x00};
    const scitt_span parts[5] = {scitt_span_make(head, 2), m->protected_item,
                                 scitt_span_make(unprot, 4), m->payload_item, m->signature_item};
    size_t at = 0;
    for (int i = 0; i < 5; i++) {
        if (parts[i].len > sizeof(twin_buf) - at) {
            abort();
        }
        memcpy(twin_buf + at, parts[i].ptr, parts[i].len);
        at += parts[i].len;
    }
    if (scitt_cose_sign1_decode(scitt_span_make(twin_buf, at), 0, &twin) != SCITT_OK ||
        scitt_key_cache_new(8, &cache) != SCITT_OK) {
        abort();
    }
}

/* A reason is a NUL-terminated, non-empty line within its buffer. */
static void check_reason(const char *reason, size_t cap)
{
    size_t n = strnlen(reason, cap);
    if (n == 0 || n == cap || memchr(reason, '\n', n)) {
        FAIL();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cache) {
        setup();
    }
    char reason[SCITT_POLICY_REASON_MAX];
    memset(reason, 0x55, sizeof(reason));
    scitt_policy *p = NULL;
    scitt_err e = scitt_policy_parse(scitt_span_make(data, size), &p, reason, sizeof(reason));
    if (e != SCITT_OK) {
        check_reason(reason, sizeof(reason));
        if (p) {
            FAIL();
        }
        return 0;
    }
    if (!p || scitt_policy_max_bytes(p) < 64 || scitt_policy_text(p).len != size) {
        FAIL();
    }
    for (int i = 0; i < 3; i++) {
        scitt_policy_decision d;
        memset(reason, 0x55, sizeof(reason));
        e = scitt_policy_check(p, &msgs[i], FUZZ_NOW, (i & 1) ? cache : NULL, &d, reason,
                               sizeof(reason));
        if (e != SCITT_OK) {
            check_reason(reason, sizeof(reason));
            continue;
        }
        if (!scitt_span_eq(d.iss, msgs[i].hdr.cwt.iss) ||
            !scitt_span_eq(d.sub, msgs[i].hdr.cwt.sub) || d.digest.len == 0) {
            FAIL();
        }
    }
    scitt_policy_decision d;
    if (scitt_policy_check(p, &twin, FUZZ_NOW, cache, &d, reason, sizeof(reason)) !=
        SCITT_ERR_INVALID_ARG) {
        FAIL();
    }
    check_reason(reason, sizeof(reason));
    scitt_policy_free(p);
    return 0;
}
