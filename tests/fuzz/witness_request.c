/*
 * Fuzz target: tlog-witness add-checkpoint bodies from untrusted bytes. What parses must be within
 * the bounds (63 proof hashes, SCITT_WITNESS_BODY_MAX bytes) and format back to the same bytes;
 * the witness's decision over it (one configured log, seed 0x00..0x1f, origin
 * "fuzz.example/log", remembered at size 3 with the root of three known leaves) must never cosign
 * a checkpoint whose old size is not the remembered one, nor another root at the remembered size,
 * nor a smaller tree.
 */
#include <stdlib.h>
#include <string.h>

#include "scitt/witness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static scitt_note_verifier key;
static scitt_witness_state remembered;
static bool ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        uint8_t seed[32], pub[32];
        for (int i = 0; i < 32; i++) {
            seed[i] = (uint8_t)i;
        }
        if (scitt_note_ed25519_public(seed, pub) != SCITT_OK ||
            scitt_note_verifier_init(&key, scitt_span_str("fuzz.example/log"), pub) != SCITT_OK) {
            __builtin_trap();
        }
        /* the root of leaves "0", "1", "2" */
        uint8_t l[3][32], n01[32];
        for (int i = 0; i < 3; i++) {
            char c = (char)('0' + i);
            scitt_merkle_leaf_hash(scitt_span_make(&c, 1), l[i]);
        }
        scitt_merkle_node_hash(l[0], l[1], n01);
        scitt_merkle_node_hash(n01, l[2], remembered.root);
        remembered.size = 3;
        ready = true;
    }
    scitt_span in = scitt_span_make(data, size);
    scitt_witness_request *req = malloc(sizeof(*req));
    if (req == NULL) {
        return 0;
    }
    scitt_err e = scitt_witness_request_parse(in, req);
    if (e == SCITT_OK) {
        if (size > SCITT_WITNESS_BODY_MAX || req->n_proof > SCITT_WITNESS_PROOF_MAX ||
            req->note.len == 0) {
            __builtin_trap();
        }
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        if (scitt_witness_request_format(req->old_size, (const uint8_t(*)[32])req->proof,
                                         req->n_proof, req->note, &b) != SCITT_OK ||
            b.len != size || memcmp(b.ptr, data, size) != 0) {
            __builtin_trap();
        }
        scitt_dynbuf_clear(&b);
        scitt_witness_log log = {scitt_span_str("fuzz.example/log"), &key, 1};
        scitt_witness_state states[2] = {{0}, remembered};
        for (int s = 0; s < 2; s++) {
            size_t li = 9;
            scitt_witness_state next;
            scitt_span text;
            scitt_witness_verdict v =
                scitt_witness_check(&log, &states[s], 1, req, &li, &next, &text, NULL);
            if (v == SCITT_WITNESS_COSIGN) {
                scitt_checkpoint cp;
                if (li != 0 || req->old_size != states[s].size || next.size < states[s].size ||
                    scitt_checkpoint_open(req->note, &key, 1, log.origin, &cp, NULL) != SCITT_OK ||
                    cp.size != next.size || memcmp(cp.root, next.root, 32) != 0 ||
                    (next.size == states[s].size && states[s].size != 0 &&
                     memcmp(next.root, states[s].root, 32) != 0)) {
                    __builtin_trap();
                }
            }
        }
    } else if (e != SCITT_ERR_MALFORMED && e != SCITT_ERR_TOO_LARGE) {
        __builtin_trap();
    }
    free(req);
    return 0;
}
