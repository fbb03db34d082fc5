/*
 * Test helper for the signed-note interop tests (interop.sh): signs a checkpoint with a fresh
 * Ed25519 key, or verifies a checkpoint against a vkey file, with the library's public API.
 *   note_tool sign-checkpoint DIR ORIGIN SIZE      writes DIR/checkpoint and DIR/vkey.txt
 *   note_tool verify-checkpoint VKEY_FILE CHECKPOINT_FILE ORIGIN [SIZE]
 * Exit 0 on success, 1 when verification fails, 2 on usage or I/O errors; the last line printed
 * is "RESULT: OK ..." or "RESULT: FAIL ...", as in the harness.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "scitt/note.h"

static int read_file(const char *path, char *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    *len = fread(buf, 1, cap, f);
    int bad = ferror(f) || *len == cap;
    fclose(f);
    return bad ? -1 : 0;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "cannot write %s\n", path);
        if (f) {
            fclose(f);
        }
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int sign_checkpoint(const char *dir, const char *origin, const char *size_text)
{
    uint8_t seed[32], pub[32], root[32];
    char *end;
    unsigned long long size = strtoull(size_text, &end, 10);
    if (*end != '\0' || RAND_bytes(seed, sizeof(seed)) != 1) {
        return 2;
    }
    /* Any 32 bytes serve as the root here: the checkpoint's signature is what is under test. */
    scitt_sha256(size_text, strlen(size_text), root);
    scitt_span name = scitt_span_str(origin);
    char vkey[SCITT_NOTE_VKEY_MAX];
    scitt_dynbuf body, note;
    scitt_dynbuf_init(&body, 0);
    scitt_dynbuf_init(&note, 0);
    scitt_note_signer signer = {name, seed, NULL};
    int rc = 2;
    if (scitt_note_ed25519_public(seed, pub) == SCITT_OK &&
        scitt_note_vkey_format(name, pub, vkey, sizeof(vkey)) == SCITT_OK &&
        scitt_checkpoint_format(name, size, root, scitt_span_str(""), &body) == SCITT_OK &&
        scitt_note_sign(scitt_span_make(body.ptr, body.len), &signer, 1, &note) == SCITT_OK &&
        write_file(dir, "checkpoint", note.ptr, note.len) == 0) {
        strcat(vkey, "\n");
        rc = write_file(dir, "vkey.txt", vkey, strlen(vkey)) == 0 ? 0 : 2;
    }
    scitt_wipe(seed, sizeof(seed));
    scitt_dynbuf_clear(&body);
    scitt_dynbuf_clear(&note);
    printf("%s\n", rc == 0 ? "signed" : "signing failed");
    return rc;
}

static int verify_checkpoint(const char *vkey_file, const char *ckpt_file, const char *origin,
                             const char *want_size)
{
    static char vkey[1024], note[SCITT_LIMIT_NOTE_BYTES + 2];
    size_t vlen, nlen;
    if (read_file(vkey_file, vkey, sizeof(vkey), &vlen) != 0 ||
        read_file(ckpt_file, note, sizeof(note), &nlen) != 0) {
        return 2;
    }
    while (vlen > 0 &&
           (vkey[vlen - 1] == '\n' || vkey[vlen - 1] == '\r' || vkey[vlen - 1] == ' ')) {
        vlen--;
    }
    scitt_note_verifier v;
    scitt_err e = scitt_note_vkey_parse(scitt_span_make(vkey, vlen), &v);
    if (e != SCITT_OK) {
        printf("RESULT: FAIL vkey: %s\n", scitt_err_name(e));
        return 2;
    }
    scitt_checkpoint cp;
    scitt_note_result r;
    e = scitt_checkpoint_open(scitt_span_make(note, nlen), &v, 1, scitt_span_str(origin), &cp, &r);
    if (e != SCITT_OK) {
        printf("RESULT: FAIL %s\n", scitt_err_name(e));
        return 1;
    }
    if (want_size && strtoull(want_size, NULL, 10) != cp.size) {
        printf("RESULT: FAIL size %llu, want %s\n", (unsigned long long)cp.size, want_size);
        return 1;
    }
    printf("RESULT: OK size=%llu signatures=%zu unknown=%zu\n", (unsigned long long)cp.size, r.sigs,
           r.unknown);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "sign-checkpoint") == 0) {
        return sign_checkpoint(argv[2], argv[3], argv[4]);
    }
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "verify-checkpoint") == 0) {
        return verify_checkpoint(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
    }
    fprintf(stderr, "usage: note_tool sign-checkpoint DIR ORIGIN SIZE | verify-checkpoint VKEY "
                    "CHECKPOINT ORIGIN [SIZE]\n");
    return 2;
}
