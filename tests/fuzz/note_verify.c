/*
 * Fuzz target: C2SP signed notes, checkpoints and vkeys from untrusted bytes. Verifies the input
 * as a note against two fixed keys, checks that parsing and verification agree on syntax and on
 * the signature lines they count, that what parses stays within the byte and line limits (up to
 * SCITT_LIMIT_NOTE_SIGS lines, unknown signers ignored), and that any checkpoint body that parses
 * formats back to exactly the same bytes.
 */
#include <string.h>

#include "scitt/limits.h"
#include "scitt/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static scitt_note_verifier keys[2];
static bool ready;

static void checkpoint_round_trip(scitt_span text)
{
    scitt_checkpoint cp;
    if (scitt_checkpoint_parse(text, &cp) != SCITT_OK) {
        return;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    if (scitt_checkpoint_format(cp.origin, cp.size, cp.root, cp.extensions, &b) != SCITT_OK ||
        b.len != text.len || memcmp(b.ptr, text.ptr, text.len) != 0) {
        __builtin_trap();
    }
    scitt_dynbuf_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        /* The keys the corpus notes are signed with: seeds 0x00..0x1f and 0x20..0x3f. */
        uint8_t seed[32], pub[32];
        static const char *names[2] = {"fuzz.example/log", "fuzz.example/witness"};
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < 32; i++) {
                seed[i] = (uint8_t)(k * 32 + i);
            }
            if (scitt_note_ed25519_public(seed, pub) != SCITT_OK ||
                scitt_note_verifier_init(&keys[k], scitt_span_str(names[k]), pub) != SCITT_OK) {
                __builtin_trap();
            }
        }
        ready = true;
    }
    scitt_span in = scitt_span_make(data, size);
    scitt_note_parsed p;
    scitt_err pe = scitt_note_parse(in, &p);
    scitt_note_result r;
    scitt_err ve = scitt_note_verify(in, keys, 2, &r);
    if (pe != SCITT_OK && ve != pe) {
        __builtin_trap(); /* verification must report the syntax error parsing found */
    }
    if (ve == SCITT_OK && (pe != SCITT_OK || r.verified == 0 || r.text.len != p.text.len ||
                           r.sigs != p.n_sigs || r.unknown > r.sigs || r.verified > 3)) {
        __builtin_trap();
    }
    /* The bounds: what parses is within the byte and line limits, and each line's key ID is the
     * first 4 bytes of a blob of at least 5. */
    if (pe == SCITT_OK) {
        if (size > SCITT_LIMIT_NOTE_BYTES || p.n_sigs == 0 || p.n_sigs > SCITT_LIMIT_NOTE_SIGS) {
            __builtin_trap();
        }
        for (size_t i = 0; i < p.n_sigs; i++) {
            if (p.sigs[i].sig_len == 0 || p.sigs[i].blob_b64.len % 4 != 0 ||
                !scitt_note_name_valid(p.sigs[i].name)) {
                __builtin_trap();
            }
        }
    } else if (pe == SCITT_ERR_TOO_LARGE && size <= SCITT_LIMIT_NOTE_BYTES) {
        /* only the line limit can make a note of allowed size too large */
        size_t lines = 0;
        for (size_t i = 0; i < size; i++) {
            lines += data[i] == '\n';
        }
        if (lines <= SCITT_LIMIT_NOTE_SIGS) {
            __builtin_trap();
        }
    }
    if (pe == SCITT_OK) {
        checkpoint_round_trip(p.text);
    }
    checkpoint_round_trip(in);

    scitt_note_verifier v;
    if (scitt_note_vkey_parse(in, &v) == SCITT_OK) {
        char out[SCITT_NOTE_VKEY_MAX];
        scitt_note_verifier again;
        if (scitt_note_vkey_format(scitt_span_make(v.name, v.name_len), v.key, out, sizeof(out)) !=
                SCITT_OK ||
            scitt_note_vkey_parse(scitt_span_str(out), &again) != SCITT_OK ||
            again.key_id != v.key_id || again.name_len != v.name_len ||
            memcmp(again.name, v.name, v.name_len) != 0 || memcmp(again.key, v.key, 32) != 0) {
            __builtin_trap();
        }
    }
    return 0;
}
