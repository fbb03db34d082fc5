/*
 * Fuzz target: what a key-release holder and joiner read from the network. The first input byte
 * picks: 0 a join bundle (scitt_keyrel_join_parse; whatever parses must re-encode to the same
 * request bytes, and is then verified as virtual evidence against a fixed measurement), 1 a
 * holder's answer opened with a fixed joiner key (scitt_keyrel_unwrap: nothing may be appended
 * unless it authenticates, which random bytes never do).
 */
#include <string.h>

#include "scitt/keyrel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static scitt_keyrel_key *joiner;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    scitt_span in = scitt_span_make(data + 1, size - 1);
    if (data[0] % 2 == 0) {
        scitt_keyrel_join j;
        if (scitt_keyrel_join_parse(in, &j) != SCITT_OK) {
            return 0;
        }
        scitt_dynbuf again;
        scitt_dynbuf_init(&again, 0);
        if (scitt_keyrel_request_encode(j.request.challenge, j.request.pub, &again) != SCITT_OK ||
            !scitt_span_eq(scitt_span_make(again.ptr, again.len), j.bundle.identity)) {
            __builtin_trap(); /* one encoding per request: the digest names it */
        }
        scitt_dynbuf_clear(&again);
        uint8_t meas[SCITT_ATTEST_MEASUREMENT_LEN];
        memset(meas, 0x42, sizeof(meas));
        scitt_attest_opts o;
        memset(&o, 0, sizeof(o));
        o.now = 1751328000;
        o.allow_insecure_virtual = true;
        o.measurements = meas;
        o.n_measurements = 1;
        scitt_attest_result *r = scitt_calloc(1, sizeof(*r));
        if (r) {
            scitt_err e = scitt_keyrel_join_verify(&j, &o, r);
            if (e == SCITT_OK && (!r->insecure || memcmp(r->measurement, meas, 48) != 0)) {
                __builtin_trap(); /* only virtual evidence of that measurement can pass */
            }
            scitt_free(r);
        }
        return 0;
    }
    if (!joiner && scitt_keyrel_key_new(&joiner) != SCITT_OK) {
        return 0;
    }
    uint8_t digest[32];
    memset(digest, 0x5a, sizeof(digest));
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    scitt_err e = scitt_keyrel_unwrap(joiner, digest, in, &out);
    if (e != SCITT_OK && out.len != 0) {
        __builtin_trap(); /* a refused answer leaves nothing behind */
    }
    scitt_dynbuf_clear(&out);
    return 0;
}
