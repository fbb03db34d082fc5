/*
 * audit_logs OUT_DIR: writes logs in the static layout `scitt export-tiles` writes (checkpoint,
 * tiles, entry bundles, transparency configuration, served keys), signed with keys made here, for
 * the cases no honest scittd can be made to serve: a service that serves junk keys, a log holding
 * statements with the policy subject that the service did not sign, a policy change, an issuer
 * longer than the auditor keeps. Each case is a series of directories, the same log as it grows
 * (OUT_DIR/<case>/a, b, ...), audited in order by audit.sh with one state directory.
 *
 * audit_logs damage-policy STATE_FILE: rewrites state.cbor with its "policy" an integer (and
 * first).
 * Exit 0 when everything was written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scitt/cbor.h"
#include "scitt/cose.h"
#include "scitt/merkle.h"
#include "scitt/note.h"
#include "scitt/policy.h"

#define ISSUER     "https://ts.example"
#define ORIGIN     "ts.example/log"
#define REGISTRANT "https://issuer.example"
#define MAX_LOG    32

static scitt_cose_key *service, *registrant, *junk[64];
static uint8_t note_seed[32];
static char vkey[SCITT_NOTE_VKEY_MAX + 1];
static char policy_a[2048], policy_b[2048];

static void die(const char *what)
{
    fprintf(stderr, "audit_logs: %s\n", what);
    exit(1);
}

static void mkdirs(const char *path)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                die(p);
            }
            *s = '/';
        }
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        die(p);
    }
}

static void save(const char *dir, const char *rel, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    *slash = 0;
    mkdirs(path);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        die(path);
    }
}

/* A log entry: a statement in registered form (unprotected header {}), signed by @p signer under
 * @p kid with CWT iss and sub. */
static void statement(const scitt_cose_key *signer, scitt_span kid, const char *iss,
                      const char *sub, scitt_span payload, scitt_dynbuf *out)
{
    scitt_cose_header_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.alg = scitt_cose_key_alg(signer);
    spec.kid = kid;
    spec.content_type.present = spec.content_type.is_text = true;
    spec.content_type.text = scitt_span_str(SCITT_POLICY_CONTENT_TYPE);
    spec.cwt = true;
    spec.cwt_iss = scitt_span_str(iss);
    spec.cwt_sub = scitt_span_str(sub);
    spec.cwt_has_iat = true;
    spec.cwt_iat = 1767225600;
    static uint8_t prot[8192];
    scitt_cbor_writer pw;
    scitt_cbor_writer_init(&pw, prot, sizeof(prot));
    scitt_span pmap;
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    if (scitt_cose_headers_encode(&spec, &pw) != SCITT_OK ||
        scitt_cbor_writer_finish(&pw, &pmap) != SCITT_OK ||
        scitt_cose_sign1_sign(signer, pmap, scitt_span_make(NULL, 0), payload,
                              scitt_span_make(NULL, 0), 0, &w) != SCITT_OK) {
        die("cannot sign a statement");
    }
}

typedef struct log {
    scitt_dynbuf e[MAX_LOG];
    size_t n;
} log;

static scitt_dynbuf *next_entry(log *l)
{
    if (l->n == MAX_LOG) {
        die("log too long");
    }
    scitt_dynbuf_init(&l->e[l->n], 0);
    return &l->e[l->n++];
}

/* A policy statement: signed by @p signer under its own kid, iss @p iss. */
static void add_policy(log *l, const scitt_cose_key *signer, const char *iss, const char *text)
{
    statement(signer, scitt_cose_key_kid(signer), iss, SCITT_POLICY_SUBJECT, scitt_span_str(text),
              next_entry(l));
}

/* A registrant's statement the policies admit. */
static void add_entry(log *l, int n)
{
    char payload[64];
    snprintf(payload, sizeof(payload), "{\"build\":%d}", n);
    statement(registrant, scitt_cose_key_kid(registrant), REGISTRANT, "app",
              scitt_span_str(payload), next_entry(l));
}

/* Writes the first @p n entries of @p l as a static log in @p dir, serving @p keys. */
static void write_log(const char *dir, const log *l, size_t n, const char *issuer,
                      scitt_span served_keys)
{
    scitt_merkle_compact c;
    scitt_merkle_compact_init(&c);
    uint8_t hashes[MAX_LOG][SCITT_HASH_LEN];
    scitt_dynbuf bundle;
    scitt_dynbuf_init(&bundle, 0);
    for (size_t i = 0; i < n; i++) {
        scitt_merkle_leaf_hash(scitt_span_make(l->e[i].ptr, l->e[i].len), hashes[i]);
        if (scitt_merkle_compact_append(&c, hashes[i], NULL, NULL) != SCITT_OK) {
            die("append");
        }
        scitt_dynbuf_u8(&bundle, (uint8_t)(l->e[i].len >> 8));
        scitt_dynbuf_u8(&bundle, (uint8_t)l->e[i].len);
        scitt_dynbuf_put(&bundle, l->e[i].ptr, l->e[i].len);
    }
    uint8_t root[SCITT_HASH_LEN];
    scitt_merkle_compact_root(&c, root);
    char rel[SCITT_TILE_PATH_MAX];
    if (scitt_tile_path(0, 0, (unsigned)n, rel, sizeof(rel)) != SCITT_OK) {
        die("tile path");
    }
    save(dir, rel, hashes, n * SCITT_HASH_LEN);
    if (scitt_tile_entries_path(0, (unsigned)n, rel, sizeof(rel)) != SCITT_OK) {
        die("bundle path");
    }
    save(dir, rel, bundle.ptr, bundle.len);
    scitt_dynbuf_clear(&bundle);
    scitt_dynbuf text, note;
    scitt_dynbuf_init(&text, 0);
    scitt_dynbuf_init(&note, 0);
    scitt_note_signer signer = {scitt_span_str(ORIGIN), note_seed, NULL};
    if (scitt_checkpoint_format(scitt_span_str(ORIGIN), n, root, scitt_span_make(NULL, 0), &text) !=
            SCITT_OK ||
        scitt_note_sign(scitt_span_make(text.ptr, text.len), &signer, 1, &note) != SCITT_OK) {
        die("checkpoint");
    }
    save(dir, "checkpoint", note.ptr, note.len);
    scitt_dynbuf_clear(&text);
    scitt_dynbuf_clear(&note);
    scitt_dynbuf cfg;
    scitt_dynbuf_init(&cfg, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &cfg);
    scitt_cbor_put_map(&w, 3);
    scitt_cbor_put_cstr(&w, "issuer");
    scitt_cbor_put_cstr(&w, issuer);
    scitt_cbor_put_cstr(&w, "origin");
    scitt_cbor_put_cstr(&w, ORIGIN);
    scitt_cbor_put_cstr(&w, "checkpoint_vkey");
    scitt_cbor_put_cstr(&w, vkey);
    if (w.err != SCITT_OK) {
        die("configuration");
    }
    save(dir, ".well-known/transparency-configuration", cfg.ptr, cfg.len);
    scitt_dynbuf_clear(&cfg);
    save(dir, ".well-known/scitt-keys", served_keys.ptr, served_keys.len);
}

/* A COSE_Key_Set of public keys, written directly: it may hold more keys than a key set takes. */
static void key_set(scitt_cose_key *const *keys, size_t n, scitt_dynbuf *out)
{
    scitt_dynbuf_init(out, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_array(&w, n);
    for (size_t i = 0; i < n; i++) {
        if (scitt_cose_key_encode_cose(keys[i], false, &w) != SCITT_OK) {
            die("key set");
        }
    }
}

static void make_policies(void)
{
    scitt_dynbuf jwk;
    scitt_dynbuf_init(&jwk, 0);
    if (scitt_cose_key_encode_jwk(registrant, false, &jwk) != SCITT_OK) {
        die("jwk");
    }
    snprintf(policy_a, sizeof(policy_a),
             "{\"version\":1,\"issuers\":[{\"iss\":\"" REGISTRANT "\",\"keys\":[%.*s]}]}",
             (int)jwk.len, (const char *)jwk.ptr);
    snprintf(policy_b, sizeof(policy_b),
             "{\"version\":1,\"algorithms\":[\"ES256\"],\"issuers\":[{\"iss\":\"" REGISTRANT
             "\",\"keys\":[%.*s]}]}",
             (int)jwk.len, (const char *)jwk.ptr);
    scitt_dynbuf_clear(&jwk);
}

static void path2(char *out, size_t cap, const char *root, const char *a, const char *b)
{
    snprintf(out, cap, "%s/%s/%s", root, a, b);
}

/* keys/a..d: the service serves its key, then 64 junk keys instead, then its key and the 64
 * junk keys (65, more than a key set holds), then its key again. */
static void case_keys(const char *out)
{
    log l = {0};
    add_policy(&l, service, ISSUER, policy_a);
    for (int i = 1; i <= 6; i++) {
        add_entry(&l, i);
    }
    scitt_cose_key *all[65];
    all[0] = service;
    memcpy(all + 1, junk, sizeof(junk));
    scitt_dynbuf honest, junk_only, both, garbage;
    key_set(all, 1, &honest);
    key_set(junk, 64, &junk_only);
    key_set(all, 65, &both);
    scitt_dynbuf_init(&garbage, 0);
    scitt_dynbuf_str(&garbage, "not a key set");
    char d[4096];
    path2(d, sizeof(d), out, "keys", "a");
    write_log(d, &l, 3, ISSUER, scitt_span_make(honest.ptr, honest.len));
    path2(d, sizeof(d), out, "keys", "b");
    write_log(d, &l, 5, ISSUER, scitt_span_make(junk_only.ptr, junk_only.len));
    path2(d, sizeof(d), out, "keys", "c");
    write_log(d, &l, 6, ISSUER, scitt_span_make(both.ptr, both.len));
    path2(d, sizeof(d), out, "keys", "d");
    write_log(d, &l, 7, ISSUER, scitt_span_make(honest.ptr, honest.len));
    path2(d, sizeof(d), out, "keys", "garbage");
    write_log(d, &l, 7, ISSUER, scitt_span_make(garbage.ptr, garbage.len));
    scitt_dynbuf_clear(&honest);
    scitt_dynbuf_clear(&junk_only);
    scitt_dynbuf_clear(&both);
    scitt_dynbuf_clear(&garbage);
    for (size_t i = 0; i < l.n; i++) {
        scitt_dynbuf_clear(&l.e[i]);
    }
}

/* forged/a..c: statements with the policy subject the service did not sign, among ordinary ones:
 *   3  the service's kid, signed by the registrant, the service's iss
 *   4  the registrant's own kid and iss (its policy rule would admit the statement)
 *   5  signed by the service, but with another iss
 *   6  a policy statement whose text is no policy, signed by the service */
static void case_forged(const char *out)
{
    log l = {0};
    add_policy(&l, service, ISSUER, policy_a);
    add_entry(&l, 1);
    add_entry(&l, 2);
    statement(registrant, scitt_cose_key_kid(service), ISSUER, SCITT_POLICY_SUBJECT,
              scitt_span_str("{\"version\":1,\"issuers\":[{\"iss_prefix\":\"\",\"self_signed\":"
                             "true}]}"),
              next_entry(&l));
    statement(registrant, scitt_cose_key_kid(registrant), REGISTRANT, SCITT_POLICY_SUBJECT,
              scitt_span_str("{\"version\":1,\"issuers\":[]}"), next_entry(&l));
    statement(service, scitt_cose_key_kid(service), "https://other.example", SCITT_POLICY_SUBJECT,
              scitt_span_str(policy_b), next_entry(&l));
    add_policy(&l, service, ISSUER, "not a policy");
    add_entry(&l, 7);
    add_entry(&l, 8);
    scitt_dynbuf honest;
    key_set(&service, 1, &honest);
    char d[4096];
    path2(d, sizeof(d), out, "forged", "a");
    write_log(d, &l, 3, ISSUER, scitt_span_make(honest.ptr, honest.len));
    path2(d, sizeof(d), out, "forged", "b");
    write_log(d, &l, 8, ISSUER, scitt_span_make(honest.ptr, honest.len));
    path2(d, sizeof(d), out, "forged", "c");
    write_log(d, &l, 9, ISSUER, scitt_span_make(honest.ptr, honest.len));
    scitt_dynbuf_clear(&honest);
    for (size_t i = 0; i < l.n; i++) {
        scitt_dynbuf_clear(&l.e[i]);
    }
}

/* policy/a, b: policy A, then policy B, then B registered again (the same text). */
static void case_policy(const char *out)
{
    log l = {0};
    add_policy(&l, service, ISSUER, policy_a);
    add_entry(&l, 1);
    add_entry(&l, 2);
    add_policy(&l, service, ISSUER, policy_b);
    add_entry(&l, 4);
    add_policy(&l, service, ISSUER, policy_b);
    add_entry(&l, 6);
    scitt_dynbuf honest;
    key_set(&service, 1, &honest);
    char d[4096];
    path2(d, sizeof(d), out, "policy", "a");
    write_log(d, &l, 3, ISSUER, scitt_span_make(honest.ptr, honest.len));
    path2(d, sizeof(d), out, "policy", "b");
    write_log(d, &l, 7, ISSUER, scitt_span_make(honest.ptr, honest.len));
    scitt_dynbuf_clear(&honest);
    for (size_t i = 0; i < l.n; i++) {
        scitt_dynbuf_clear(&l.e[i]);
    }
}

/* issuer/a, b: an issuer of 1,010 bytes with a 3-byte character at bytes 999..1001; policy A,
 * then policy B under that iss. issuer/long: an issuer of 1,100 bytes. */
static void case_issuer(const char *out)
{
    static char iss[1011], longer[1101];
    size_t pre = strlen(ISSUER "/");
    memcpy(iss, ISSUER "/", pre);
    memset(iss + pre, 'x', 999 - pre);
    memcpy(iss + 999, "\xe2\x82\xac", 3); /* U+20AC, cut by a limit of 1,000 bytes */
    memset(iss + 1002, 'y', 8);
    iss[1010] = 0;
    memcpy(longer, ISSUER "/", pre);
    memset(longer + pre, 'z', 1100 - pre);
    longer[1100] = 0;
    log l = {0}, m = {0};
    add_policy(&l, service, iss, policy_a);
    add_entry(&l, 1);
    add_policy(&l, service, iss, policy_b);
    add_entry(&l, 3);
    add_policy(&m, service, longer, policy_a);
    add_entry(&m, 1);
    scitt_dynbuf honest;
    key_set(&service, 1, &honest);
    char d[4096];
    path2(d, sizeof(d), out, "issuer", "a");
    write_log(d, &l, 2, iss, scitt_span_make(honest.ptr, honest.len));
    path2(d, sizeof(d), out, "issuer", "b");
    write_log(d, &l, 4, iss, scitt_span_make(honest.ptr, honest.len));
    path2(d, sizeof(d), out, "issuer", "long");
    write_log(d, &m, 2, longer, scitt_span_make(honest.ptr, honest.len));
    scitt_dynbuf_clear(&honest);
    for (size_t i = 0; i < l.n; i++) {
        scitt_dynbuf_clear(&l.e[i]);
    }
    for (size_t i = 0; i < m.n; i++) {
        scitt_dynbuf_clear(&m.e[i]);
    }
}

/* Rewrites the "policy" member of a state.cbor map with the integer 5, as its first member. */
static int damage_policy(const char *path)
{
    FILE *f = fopen(path, "rb");
    static uint8_t in[1 << 20];
    size_t len = f ? fread(in, 1, sizeof(in), f) : 0;
    if (!f || fclose(f) != 0 || len == 0) {
        die(path);
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, scitt_span_make(in, len));
    size_t n;
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &out);
    if (scitt_cbor_read_map(&r, &n) != SCITT_OK) {
        die("not a map");
    }
    /* "policy" first, so a loader that uses the span of a failed read has none from before */
    scitt_cbor_put_map(&w, n);
    scitt_cbor_put_cstr(&w, "policy");
    scitt_cbor_put_uint(&w, 5);
    for (size_t i = 0; i < n; i++) {
        scitt_span k, v;
        if (scitt_cbor_read_text(&r, &k) != SCITT_OK || scitt_cbor_skip(&r, &v) != SCITT_OK) {
            die("not a state file");
        }
        if (!scitt_span_eq_str(k, "policy")) {
            scitt_cbor_put_text(&w, k);
            scitt_cbor_put_raw(&w, v);
        }
    }
    f = fopen(path, "wb");
    if (w.err != SCITT_OK || !f || fwrite(out.ptr, 1, out.len, f) != out.len || fclose(f) != 0) {
        die(path);
    }
    scitt_dynbuf_clear(&out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "damage-policy")) {
        return damage_policy(argv[2]);
    }
    if (argc != 2) {
        fprintf(stderr, "usage: audit_logs OUT_DIR | audit_logs damage-policy STATE_FILE\n");
        return 2;
    }
    if (scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &service) != SCITT_OK ||
        scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &registrant) != SCITT_OK) {
        die("keys");
    }
    for (int i = 0; i < 64; i++) {
        if (scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &junk[i]) != SCITT_OK) {
            die("junk keys");
        }
    }
    FILE *r = fopen("/dev/urandom", "rb");
    uint8_t pub[32];
    if (!r || fread(note_seed, 1, 32, r) != 32 || fclose(r) != 0 ||
        scitt_note_ed25519_public(note_seed, pub) != SCITT_OK ||
        scitt_note_vkey_format(scitt_span_str(ORIGIN), pub, vkey, sizeof(vkey)) != SCITT_OK) {
        die("note key");
    }
    make_policies();
    case_keys(argv[1]);
    case_forged(argv[1]);
    case_policy(argv[1]);
    case_issuer(argv[1]);
    scitt_cose_key_free(service);
    scitt_cose_key_free(registrant);
    for (int i = 0; i < 64; i++) {
        scitt_cose_key_free(junk[i]);
    }
    printf("%s\n", vkey);
    return 0;
}
