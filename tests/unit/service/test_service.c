/*
 * The service on real LMDB files with real keys: identity at first start and after, the policy
 * registered in the log, the check stage, receipts, transparent statements and consistency
 * receipts verified with the receipt verifier, key rotation, and fixed settings.
 */
#include "testutil.h"
#include "stmt_util.h"
#include "unit/ledger/ledger_util.h"

#include <sys/stat.h>
#include <time.h>

#include "scitt/receipt.h"
#include "scitt/service.h"
#include "scitt/signer.h"

typedef struct fx {
    char *dir;
    char ks_path[4200];
    scitt_keystore ks;
    scitt_service_config cfg;
    scitt_service *s;
    scitt_cose_key *issuer_key;
    EVP_PKEY *issuer_evp;
    X509 *issuer_cert;
    scitt_span cert_der;
} fx;

static void open_service(fx *f)
{
    char reason[256];
    scitt_err e = scitt_service_open(&f->cfg, &f->s, reason, sizeof(reason));
    if (e != SCITT_OK) {
        fail_msg("open: %s (%s)", reason, scitt_err_name(e));
    }
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->dir = lu_tmpdir();
    scitt_keystore_file(f->dir, NULL, f->ks_path, sizeof(f->ks_path), &f->ks);
    f->cfg.data_dir = f->dir;
    f->cfg.issuer = "https://ledger.example";
    f->cfg.origin = "ledger.example/log";
    f->cfg.keystore = &f->ks;
    f->cfg.map_size = 64u << 20;
    open_service(f);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &f->issuer_key), SCITT_OK);
    f->issuer_evp = su_evp(f->issuer_key);
    int64_t now = (int64_t)time(NULL);
    f->issuer_cert =
        su_cert(f->issuer_evp, "ci.example", NULL, NULL, false, now - 3600, now + 86400, NULL);
    f->cert_der = su_der(f->issuer_cert);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    scitt_service_close(f->s);
    scitt_cose_key_free(f->issuer_key);
    EVP_PKEY_free(f->issuer_evp);
    X509_free(f->issuer_cert);
    OPENSSL_free((void *)f->cert_der.ptr);
    lu_rmdir(f->dir);
    free(f);
    return 0;
}

static void make_stmt(fx *f, const char *sub, const char *payload, scitt_dynbuf *out)
{
    su_opts o = {0};
    o.iss = "https://ci.example";
    o.sub = sub;
    o.x5chain = &f->cert_der;
    o.nx5chain = 1;
    o.content_type = "text/plain";
    scitt_dynbuf_init(out, 0);
    assert_int_equal(su_statement(f->issuer_key, &o, scitt_span_str(payload), out), SCITT_OK);
}

static scitt_ledger_result register_stmt(fx *f, scitt_span stmt, scitt_err want_check)
{
    scitt_prepared p;
    char reason[256];
    scitt_ledger_result res = {0};
    scitt_err e = scitt_service_check(f->s, stmt, &p, reason, sizeof(reason));
    if (e != want_check) {
        fail_msg("check: got %s (%s)", scitt_err_name(e), reason);
    }
    if (e == SCITT_OK) {
        assert_int_equal(scitt_ledger_append(scitt_service_ledger(f->s), &p.sub, &res), SCITT_OK);
        scitt_prepared_clear(&p);
    }
    return res;
}

static void test_first_start(void **state)
{
    fx *f = *state;
    /* keys stored 0600; the development policy registered as entry 0 */
    struct stat st;
    assert_int_equal(stat(f->ks_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(scitt_service_policy_index(f->s), 0);
    assert_true(scitt_policy_is_development(scitt_service_policy(f->s)));
    assert_non_null(strstr(scitt_service_vkey(f->s), "ledger.example/log+"));
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(scitt_service_ledger(f->s), &r), SCITT_OK);
    scitt_span e0;
    assert_int_equal(scitt_ledger_entry(r, 0, &e0), SCITT_OK);
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(e0, 0, &m), SCITT_OK);
    assert_true(scitt_span_eq_str(m.hdr.cwt.sub, SCITT_POLICY_SUBJECT));
    assert_true(scitt_span_eq(m.payload, scitt_policy_text(scitt_service_policy(f->s))));
    assert_int_equal(scitt_cose_sign1_verify(&m, scitt_service_receipt_key(f->s),
                                             scitt_span_make(NULL, 0), NULL),
                     SCITT_OK);
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_latest(r, &h), SCITT_OK);
    assert_int_equal(h.size, 1);
    assert_int_equal(h.policy_index, 0);
    scitt_ledger_read_end(r);
    /* a restart keeps the same keys and does not register the policy again */
    uint8_t idhash[32], idhash2[32];
    scitt_service_identity_hash(f->s, idhash);
    scitt_service_close(f->s);
    open_service(f);
    scitt_service_identity_hash(f->s, idhash2);
    assert_memory_equal(idhash, idhash2, 32);
    assert_int_equal(scitt_service_policy_index(f->s), 0);
}

static void test_register_and_receipts(void **state)
{
    fx *f = *state;
    scitt_dynbuf stmt;
    make_stmt(f, "artifact-a", "hello", &stmt);
    scitt_ledger_result res = register_stmt(f, scitt_span_make(stmt.ptr, stmt.len), SCITT_OK);
    assert_int_equal(res.index, 1);
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(scitt_service_ledger(f->s), &r), SCITT_OK);
    scitt_dynbuf receipt, ts;
    scitt_dynbuf_init(&receipt, 0);
    scitt_dynbuf_init(&ts, 0);
    assert_int_equal(scitt_service_receipt(f->s, r, res.index, 0, &receipt), SCITT_OK);
    assert_int_equal(scitt_service_transparent(f->s, r, res.index, 0, &ts), SCITT_OK);
    scitt_span stored;
    assert_int_equal(scitt_ledger_entry(r, res.index, &stored), SCITT_OK);
    /* copied out: spans from a read snapshot die with it */
    uint8_t *entry_bytes = malloc(stored.len);
    memcpy(entry_bytes, stored.ptr, stored.len);
    scitt_span entry = scitt_span_make(entry_bytes, stored.len);
    scitt_receipt_info info;
    assert_int_equal(scitt_receipt_verify_inclusion(
                         scitt_span_make(receipt.ptr, receipt.len), entry, scitt_service_keys(f->s),
                         SCITT_RECEIPT_REQUIRE_SUB | SCITT_RECEIPT_REQUIRE_SIZE, &info),
                     SCITT_OK);
    assert_int_equal(info.leaf_index, 1);
    assert_int_equal(info.tree_size, 2);
    assert_true(info.size_signed);
    assert_true(scitt_span_eq_str(info.iss, "https://ledger.example"));
    assert_true(scitt_span_eq_str(info.sub, "ledger.example/log"));
    scitt_ts_result tr;
    assert_int_equal(scitt_receipt_verify_transparent(scitt_span_make(ts.ptr, ts.len),
                                                      scitt_service_keys(f->s), 0, &tr),
                     SCITT_OK);
    assert_int_equal(tr.nverified, 1);
    /* the transparent statement still carries a valid issuer signature */
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(ts.ptr, ts.len), 0, &m), SCITT_OK);
    assert_int_equal(scitt_cose_sign1_verify(&m, f->issuer_key, scitt_span_make(NULL, 0), NULL),
                     SCITT_OK);
    scitt_ledger_read_end(r);

    /* more entries; the old receipt against its own head and a consistency receipt */
    for (int i = 0; i < 20; i++) {
        scitt_dynbuf s2;
        char sub[32];
        snprintf(sub, sizeof(sub), "artifact-%d", i);
        make_stmt(f, sub, "more", &s2);
        register_stmt(f, scitt_span_make(s2.ptr, s2.len), SCITT_OK);
        scitt_dynbuf_clear(&s2);
    }
    assert_int_equal(scitt_ledger_read_begin(scitt_service_ledger(f->s), &r), SCITT_OK);
    scitt_dynbuf cons, fresh;
    scitt_dynbuf_init(&cons, 0);
    scitt_dynbuf_init(&fresh, 0);
    assert_int_equal(scitt_service_receipt(f->s, r, 1, 0, &fresh), SCITT_OK);
    assert_int_equal(scitt_receipt_verify_inclusion(scitt_span_make(fresh.ptr, fresh.len), entry,
                                                    scitt_service_keys(f->s), 0, &info),
                     SCITT_OK);
    assert_int_equal(info.tree_size, 22);
    scitt_tree_head old;
    assert_int_equal(scitt_ledger_head(r, 2, &old), SCITT_OK);
    assert_int_equal(scitt_service_consistency(f->s, r, 2, 22, &cons), SCITT_OK);
    assert_int_equal(scitt_receipt_verify_consistency(scitt_span_make(cons.ptr, cons.len), 2,
                                                      old.root, scitt_service_keys(f->s), 0, &info),
                     SCITT_OK);
    assert_int_equal(info.tree_size, 22);
    assert_int_equal(scitt_service_receipt(f->s, r, 22, 0, &fresh), SCITT_ERR_NOT_FOUND);
    scitt_ledger_read_end(r);
    scitt_dynbuf_clear(&cons);
    scitt_dynbuf_clear(&fresh);
    free(entry_bytes);
    scitt_dynbuf_clear(&receipt);
    scitt_dynbuf_clear(&ts);
    /* registering the same statement again (even with receipts attached) is the same entry */
    res = register_stmt(f, scitt_span_make(stmt.ptr, stmt.len), SCITT_OK);
    assert_true(res.duplicate);
    assert_int_equal(res.index, 1);
    scitt_dynbuf_clear(&stmt);
}

static void test_check_rejects(void **state)
{
    fx *f = *state;
    scitt_dynbuf out;
    su_opts o = {0};
    o.iss = "https://ci.example";
    o.sub = "x";
    /* kid only: the development policy has no key for it */
    o.with_kid = true;
    scitt_dynbuf_init(&out, 0);
    assert_int_equal(su_statement(f->issuer_key, &o, scitt_span_str("p"), &out), SCITT_OK);
    register_stmt(f, scitt_span_make(out.ptr, out.len), SCITT_ERR_UNTRUSTED);
    scitt_dynbuf_clear(&out);
    /* no sub */
    o.with_kid = false;
    o.sub = NULL;
    o.x5chain = &f->cert_der;
    o.nx5chain = 1;
    scitt_dynbuf_init(&out, 0);
    assert_int_equal(su_statement(f->issuer_key, &o, scitt_span_str("p"), &out), SCITT_OK);
    register_stmt(f, scitt_span_make(out.ptr, out.len), SCITT_ERR_HEADER);
    scitt_dynbuf_clear(&out);
    /* detached payload */
    o.sub = "x";
    o.flags = SCITT_SIGN1_DETACHED;
    scitt_dynbuf_init(&out, 0);
    assert_int_equal(su_statement(f->issuer_key, &o, scitt_span_str("p"), &out), SCITT_OK);
    register_stmt(f, scitt_span_make(out.ptr, out.len), SCITT_ERR_PAYLOAD_MISSING);
    scitt_dynbuf_clear(&out);
    /* untagged */
    o.flags = SCITT_SIGN1_NO_TAG_OUT;
    scitt_dynbuf_init(&out, 0);
    assert_int_equal(su_statement(f->issuer_key, &o, scitt_span_str("p"), &out), SCITT_OK);
    register_stmt(f, scitt_span_make(out.ptr, out.len), SCITT_ERR_BAD_TAG);
    scitt_dynbuf_clear(&out);
    /* a flipped signature byte */
    o.flags = 0;
    scitt_dynbuf_init(&out, 0);
    assert_int_equal(su_statement(f->issuer_key, &o, scitt_span_str("p"), &out), SCITT_OK);
    out.ptr[out.len - 1] ^= 1;
    register_stmt(f, scitt_span_make(out.ptr, out.len), SCITT_ERR_SIGNATURE);
    /* garbage */
    register_stmt(f, scitt_span_make(out.ptr, 3), SCITT_ERR_TRUNCATED);
    scitt_dynbuf_clear(&out);
}

static void test_policy_change_and_rotation(void **state)
{
    fx *f = *state;
    scitt_dynbuf stmt;
    make_stmt(f, "before", "x", &stmt);
    register_stmt(f, scitt_span_make(stmt.ptr, stmt.len), SCITT_OK);
    scitt_ledger_read *r;
    scitt_dynbuf old_receipt;
    scitt_dynbuf_init(&old_receipt, 0);
    assert_int_equal(scitt_ledger_read_begin(scitt_service_ledger(f->s), &r), SCITT_OK);
    assert_int_equal(scitt_service_receipt(f->s, r, 1, 0, &old_receipt), SCITT_OK);
    scitt_span entry1;
    assert_int_equal(scitt_ledger_entry(r, 1, &entry1), SCITT_OK);
    uint8_t *entry_copy = malloc(entry1.len);
    memcpy(entry_copy, entry1.ptr, entry1.len);
    size_t entry_len = entry1.len;
    scitt_ledger_read_end(r);
    scitt_service_close(f->s);
    /* a new policy text is registered at the next index and is in force from there */
    const char *policy = "{\"version\": 1, \"issuers\": [{\"iss\": \"https://ci.example\", "
                         "\"self_signed\": true}]}";
    f->cfg.policy_json = scitt_span_str(policy);
    f->cfg.rotate_receipt_key = true;
    open_service(f);
    assert_int_equal(scitt_service_policy_index(f->s), 2);
    assert_false(scitt_policy_is_development(scitt_service_policy(f->s)));
    assert_int_equal(scitt_cose_keyset_count(scitt_service_keys(f->s)), 2);
    scitt_dynbuf_clear(&stmt);
    make_stmt(f, "after", "y", &stmt);
    scitt_ledger_result res = register_stmt(f, scitt_span_make(stmt.ptr, stmt.len), SCITT_OK);
    assert_int_equal(res.index, 3);
    assert_int_equal(scitt_ledger_read_begin(scitt_service_ledger(f->s), &r), SCITT_OK);
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_head_covering(r, 3, &h), SCITT_OK);
    assert_int_equal(h.policy_index, 2);
    assert_int_equal(scitt_ledger_head_covering(r, 1, &h), SCITT_OK);
    assert_int_equal(h.policy_index, 0);
    /* receipts signed by the old key still verify with the published key set */
    scitt_receipt_info info;
    assert_int_equal(
        scitt_receipt_verify_inclusion(scitt_span_make(old_receipt.ptr, old_receipt.len),
                                       scitt_span_make(entry_copy, entry_len),
                                       scitt_service_keys(f->s), 0, &info),
        SCITT_OK);
    scitt_span old_kid = info.kid;
    scitt_dynbuf fresh;
    scitt_dynbuf_init(&fresh, 0);
    assert_int_equal(scitt_service_receipt(f->s, r, 1, 0, &fresh), SCITT_OK);
    assert_int_equal(scitt_receipt_verify_inclusion(scitt_span_make(fresh.ptr, fresh.len),
                                                    scitt_span_make(entry_copy, entry_len),
                                                    scitt_service_keys(f->s), 0, &info),
                     SCITT_OK);
    assert_false(scitt_span_eq(old_kid, info.kid));
    assert_true(scitt_span_eq(info.kid, scitt_cose_key_kid(scitt_service_receipt_key(f->s))));
    scitt_ledger_read_end(r);
    scitt_dynbuf_clear(&fresh);
    scitt_dynbuf_clear(&old_receipt);
    scitt_dynbuf_clear(&stmt);
    free(entry_copy);
    /* the same policy again: nothing new registered */
    scitt_service_close(f->s);
    f->cfg.rotate_receipt_key = false;
    open_service(f);
    assert_int_equal(scitt_service_policy_index(f->s), 2);
}

/* A receipt key outside the keystore (as in a PKCS#11 token): the private key behind a callback. */
typedef struct outside {
    scitt_cose_signer inner;
    int calls;
} outside;

static scitt_err outside_sign(void *ctx, int64_t alg, scitt_span tbs, uint8_t *sig, size_t cap,
                              size_t *sig_len)
{
    outside *o = ctx;
    o->calls++;
    return o->inner.sign(o->inner.ctx, alg, tbs, sig, cap, sig_len);
}

static scitt_ledger_result register_and_receipt(fx *f, const char *sub, scitt_dynbuf *stmt,
                                                scitt_dynbuf *receipt, scitt_dynbuf *entry)
{
    make_stmt(f, sub, "z", stmt);
    scitt_ledger_result res = register_stmt(f, scitt_span_make(stmt->ptr, stmt->len), SCITT_OK);
    scitt_ledger_read *r;
    assert_int_equal(scitt_ledger_read_begin(scitt_service_ledger(f->s), &r), SCITT_OK);
    scitt_dynbuf_init(receipt, 0);
    assert_int_equal(scitt_service_receipt(f->s, r, res.index, 0, receipt), SCITT_OK);
    scitt_span e;
    assert_int_equal(scitt_ledger_entry(r, res.index, &e), SCITT_OK);
    scitt_dynbuf_init(entry, 0);
    scitt_dynbuf_put(entry, e.ptr, e.len);
    scitt_ledger_read_end(r);
    return res;
}

static void test_outside_receipt_signer(void **state)
{
    fx *f = *state;
    scitt_service_close(f->s);
    f->s = NULL;
    /* the token's key: its public half is all the service gets */
    scitt_cose_key *priv = NULL, *pub = NULL;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &priv), SCITT_OK);
    scitt_dynbuf kb;
    scitt_dynbuf_init(&kb, 0);
    scitt_cbor_writer kw;
    scitt_cbor_writer_init_dynbuf(&kw, &kb);
    assert_int_equal(scitt_cose_key_encode_cose(priv, false, &kw), SCITT_OK);
    assert_int_equal(scitt_cose_key_from_cose(scitt_span_make(kb.ptr, kb.len), &pub), SCITT_OK);
    scitt_dynbuf_clear(&kb);
    outside o = {0};
    scitt_cose_signer_from_key(priv, &o.inner);
    scitt_cose_signer token = {outside_sign, &o, pub};
    f->cfg.receipt_signer = &token;
    open_service(f);
    /* it signs from now on, and is published beside the keystore's key */
    assert_true(scitt_span_eq(scitt_cose_key_kid(scitt_service_receipt_key(f->s)),
                              scitt_cose_key_kid(pub)));
    assert_int_equal(scitt_cose_keyset_count(scitt_service_keys(f->s)), 2);
    scitt_dynbuf stmt, receipt, entry;
    register_and_receipt(f, "token", &stmt, &receipt, &entry);
    assert_true(o.calls >= 1);
    scitt_cose_keyset *only = NULL;
    assert_int_equal(scitt_cose_keyset_new(&only), SCITT_OK);
    assert_int_equal(scitt_cose_keyset_add(only, pub), SCITT_OK);
    scitt_receipt_info info;
    assert_int_equal(scitt_receipt_verify_inclusion(scitt_span_make(receipt.ptr, receipt.len),
                                                    scitt_span_make(entry.ptr, entry.len), only, 0,
                                                    &info),
                     SCITT_OK);
    scitt_service_close(f->s);
    f->s = NULL;
    char reason[256];
    /* --rotate-receipt-key would make a keystore key the token's key does not replace */
    f->cfg.rotate_receipt_key = true;
    assert_int_equal(scitt_service_open(&f->cfg, &f->s, reason, sizeof(reason)),
                     SCITT_ERR_INVALID_ARG);
    assert_non_null(strstr(reason, "PKCS#11 token"));
    /* without the token the newest key cannot sign: refused, not replaced */
    f->cfg.receipt_signer = NULL;
    f->cfg.rotate_receipt_key = false;
    assert_int_equal(scitt_service_open(&f->cfg, &f->s, reason, sizeof(reason)), SCITT_ERR_STATE);
    assert_non_null(strstr(reason, "held in a PKCS#11 token"));
    /* a rotation moves to a new keystore key; the token's key stays published */
    f->cfg.rotate_receipt_key = true;
    open_service(f);
    f->cfg.rotate_receipt_key = false;
    assert_int_equal(scitt_cose_keyset_count(scitt_service_keys(f->s)), 3);
    assert_false(scitt_span_eq(scitt_cose_key_kid(scitt_service_receipt_key(f->s)),
                               scitt_cose_key_kid(pub)));
    assert_int_equal(scitt_receipt_verify_inclusion(scitt_span_make(receipt.ptr, receipt.len),
                                                    scitt_span_make(entry.ptr, entry.len),
                                                    scitt_service_keys(f->s), 0, &info),
                     SCITT_OK);
    scitt_dynbuf_clear(&stmt);
    scitt_dynbuf_clear(&receipt);
    scitt_dynbuf_clear(&entry);
    scitt_cose_keyset_free(only);
    scitt_cose_key_free(pub);
    scitt_cose_key_free(priv);
}

static void test_settings_are_fixed(void **state)
{
    fx *f = *state;
    scitt_service_close(f->s);
    f->s = NULL;
    f->cfg.origin = "other.example/log";
    char reason[256];
    assert_int_equal(scitt_service_open(&f->cfg, &f->s, reason, sizeof(reason)), SCITT_ERR_STATE);
    assert_non_null(strstr(reason, "origin"));
    f->cfg.origin = "ledger.example/log";
    f->cfg.policy_json = scitt_span_str("{\"version\": 2}");
    assert_int_equal(scitt_service_open(&f->cfg, &f->s, reason, sizeof(reason)), SCITT_ERR_POLICY);
    assert_non_null(strstr(reason, "version"));
    f->cfg.policy_json = scitt_span_make(NULL, 0);
    open_service(f);
}

/* The size of the log's newest signed tree head. */
static uint64_t tree_size(fx *f)
{
    scitt_ledger_read *r;
    scitt_tree_head h;
    assert_int_equal(scitt_ledger_read_begin(scitt_service_ledger(f->s), &r), SCITT_OK);
    assert_int_equal(scitt_ledger_latest(r, &h), SCITT_OK);
    scitt_ledger_read_end(r);
    return h.size;
}

/*
 * A running log's policy changes only when a new one is named: without a policy, a log whose
 * policy in force is not the development policy refuses to open (and writes nothing); with the
 * policy in force it opens as before; naming another one (also the development policy's text)
 * changes it. An empty document is an error, not "no policy".
 */
static void test_policy_change_needs_a_name(void **state)
{
    fx *f = *state;
    const char *policy = "{\"version\": 1, \"issuers\": [{\"iss\": \"https://ci.example\", "
                         "\"self_signed\": true}]}";
    scitt_service_close(f->s);
    f->cfg.policy_json = scitt_span_str(policy);
    open_service(f);
    assert_int_equal(scitt_service_policy_index(f->s), 1);
    uint64_t size = tree_size(f);
    scitt_service_close(f->s);
    f->s = NULL;
    f->cfg.policy_json = scitt_span_make(NULL, 0);
    char reason[256];
    assert_int_equal(scitt_service_open(&f->cfg, &f->s, reason, sizeof(reason)), SCITT_ERR_STATE);
    assert_null(f->s);
    assert_non_null(strstr(reason, "policy in force (entry 1)"));
    assert_non_null(strstr(reason, "--policy"));
    assert_null(strchr(reason, '\n'));
    f->cfg.policy_json = scitt_span_make((const uint8_t *)"", 0);
    assert_int_equal(scitt_service_open(&f->cfg, &f->s, reason, sizeof(reason)), SCITT_ERR_POLICY);
    assert_null(f->s);
    /* the policy in force, named again: opens, nothing registered */
    f->cfg.policy_json = scitt_span_str(policy);
    open_service(f);
    assert_int_equal(scitt_service_policy_index(f->s), 1);
    assert_int_equal(tree_size(f), size);
    /* the development policy, named explicitly: a change, registered */
    scitt_policy *dev;
    assert_int_equal(scitt_policy_development(&dev), SCITT_OK);
    char devtext[512];
    snprintf(devtext, sizeof(devtext), "%.*s", (int)scitt_policy_text(dev).len,
             (const char *)scitt_policy_text(dev).ptr);
    scitt_policy_free(dev);
    scitt_service_close(f->s);
    f->cfg.policy_json = scitt_span_str(devtext);
    open_service(f);
    assert_int_equal(scitt_service_policy_index(f->s), size);
    assert_true(scitt_policy_is_development(scitt_service_policy(f->s)));
    /* and with the development policy in force, no policy given is that policy */
    scitt_service_close(f->s);
    f->cfg.policy_json = scitt_span_make(NULL, 0);
    open_service(f);
    assert_int_equal(scitt_service_policy_index(f->s), size);
    assert_int_equal(tree_size(f), size + 1);
}

/* A JWK of @p k's public part, as a policy lists it. */
static char *jwk_of(const scitt_cose_key *k)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_cose_key_encode_jwk(k, false, &b), SCITT_OK);
    scitt_dynbuf_u8(&b, 0);
    size_t n;
    return (char *)scitt_dynbuf_steal(&b, &n);
}

/* A measurement statement: hash envelope, SHA-384 digest, signed with a kid. */
static void measurement_stmt(const scitt_cose_key *k, const char *iss, const uint8_t meas[48],
                             scitt_span endorsement, scitt_dynbuf *out)
{
    su_opts o = {0};
    o.iss = iss;
    o.sub = "confidential-ledger";
    o.with_kid = true;
    o.hash_alg = SCITT_COSE_ALG_SHA384;
    o.preimage_type = "application/octet-stream";
    uint8_t enc[8192];
    if (endorsement.len) {
        scitt_cbor_writer w;
        scitt_cbor_writer_init(&w, enc, sizeof(enc));
        scitt_cbor_put_bytes(&w, endorsement);
        scitt_span v;
        assert_int_equal(scitt_cbor_writer_finish(&w, &v), SCITT_OK);
        o.extra_label = "measurement_endorsement";
        o.extra_value = v;
    }
    scitt_dynbuf_init(out, 0);
    assert_int_equal(su_statement(k, &o, scitt_span_make(meas, 48), out), SCITT_OK);
}

/*
 * "A receipt for the measurement, not a hash in the policy": a deployer's statement about a
 * measurement is admitted only with a transparent statement from a trusted builder about the
 * same measurement, carrying a receipt from a trusted transparency service (here: another
 * scittd service, for real).
 */
static void test_measurement_endorsement(void **state)
{
    fx *f = *state;
    scitt_cose_key *builder, *deployer, *stranger;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES384, &builder), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &deployer), SCITT_OK);
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &stranger), SCITT_OK);
    uint8_t meas[48], other[48];
    memset(meas, 0xa5, sizeof(meas));
    memset(other, 0x5a, sizeof(other));
    /* the builder's endorsement, registered in the first service under a pinned-key policy */
    char *bj = jwk_of(builder), *dj = jwk_of(deployer),
         *sj = jwk_of(scitt_service_receipt_key(f->s));
    char pol[8192];
    snprintf(
        pol, sizeof(pol),
        "{\"version\": 1, \"issuers\": [{\"iss\": \"https://builder.example\", \"keys\": [%s]}]}",
        bj);
    scitt_service_close(f->s);
    f->cfg.policy_json = scitt_span_str(pol);
    open_service(f);
    free(sj);
    sj = jwk_of(scitt_service_receipt_key(f->s));
    scitt_dynbuf e1, e2;
    measurement_stmt(builder, "https://builder.example", meas, scitt_span_make(NULL, 0), &e1);
    measurement_stmt(builder, "https://builder.example", other, scitt_span_make(NULL, 0), &e2);
    scitt_ledger_result r1 = register_stmt(f, scitt_span_make(e1.ptr, e1.len), SCITT_OK);
    scitt_ledger_result r2 = register_stmt(f, scitt_span_make(e2.ptr, e2.len), SCITT_OK);
    scitt_ledger_read *rd;
    scitt_dynbuf ts1, ts2;
    scitt_dynbuf_init(&ts1, 0);
    scitt_dynbuf_init(&ts2, 0);
    assert_int_equal(scitt_ledger_read_begin(scitt_service_ledger(f->s), &rd), SCITT_OK);
    assert_int_equal(scitt_service_transparent(f->s, rd, r1.index, 0, &ts1), SCITT_OK);
    assert_int_equal(scitt_service_transparent(f->s, rd, r2.index, 0, &ts2), SCITT_OK);
    scitt_ledger_read_end(rd);

    /* the ledger whose policy asks for endorsements */
    snprintf(pol, sizeof(pol),
             "{\"version\": 1, \"issuers\": [{\"iss\": \"https://deploy.example\", \"keys\": [%s], "
             "\"measurement_endorsement\": {\"issuers\": [\"https://builder.example\"], "
             "\"issuer_keys\": [%s], \"receipt_keys\": [%s]}}]}",
             dj, bj, sj);
    scitt_policy *p;
    char reason[SCITT_POLICY_REASON_MAX];
    assert_int_equal(scitt_policy_parse(scitt_span_str(pol), &p, reason, sizeof(reason)), SCITT_OK);
    struct {
        scitt_span endorsement;
        const uint8_t *meas;
        const scitt_cose_key *signer;
        scitt_err want;
        const char *why;
    } rows[] = {
        {scitt_span_make(ts1.ptr, ts1.len), meas, deployer, SCITT_OK, "endorsed"},
        {scitt_span_make(NULL, 0), meas, deployer, SCITT_ERR_POLICY, "no endorsement"},
        {scitt_span_make(ts2.ptr, ts2.len), meas, deployer, SCITT_ERR_POLICY,
         "endorsement of another measurement"},
        {scitt_span_make(e1.ptr, e1.len), meas, deployer, SCITT_ERR_HEADER,
         "endorsement without a receipt"},
        {scitt_span_make(ts1.ptr, ts1.len), meas, stranger, SCITT_ERR_UNTRUSTED,
         "statement not by the deployer"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_dynbuf st;
        measurement_stmt(rows[i].signer, "https://deploy.example", rows[i].meas,
                         rows[i].endorsement, &st);
        scitt_cose_sign1 m;
        assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(st.ptr, st.len), 0, &m), SCITT_OK);
        scitt_policy_decision d;
        scitt_err e =
            scitt_policy_check(p, &m, (int64_t)time(NULL), NULL, &d, reason, sizeof(reason));
        if (e != rows[i].want) {
            fail_msg("%s: got %s (%s)", rows[i].why, scitt_err_name(e), reason);
        }
        scitt_dynbuf_clear(&st);
    }
    scitt_policy_free(p);
    /* a receipt from a service the policy does not trust */
    snprintf(pol, sizeof(pol),
             "{\"version\": 1, \"issuers\": [{\"iss\": \"https://deploy.example\", \"keys\": [%s], "
             "\"measurement_endorsement\": {\"issuers\": [\"https://builder.example\"], "
             "\"issuer_keys\": [%s], \"receipt_keys\": [%s]}}]}",
             dj, bj, dj);
    assert_int_equal(scitt_policy_parse(scitt_span_str(pol), &p, reason, sizeof(reason)), SCITT_OK);
    scitt_dynbuf st;
    measurement_stmt(deployer, "https://deploy.example", meas, scitt_span_make(ts1.ptr, ts1.len),
                     &st);
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(st.ptr, st.len), 0, &m), SCITT_OK);
    scitt_policy_decision d;
    assert_int_equal(
        scitt_policy_check(p, &m, (int64_t)time(NULL), NULL, &d, reason, sizeof(reason)),
        SCITT_ERR_UNTRUSTED);
    scitt_dynbuf_clear(&st);
    scitt_policy_free(p);
    scitt_dynbuf_clear(&ts1);
    scitt_dynbuf_clear(&ts2);
    scitt_dynbuf_clear(&e1);
    scitt_dynbuf_clear(&e2);
    free(bj);
    free(dj);
    free(sj);
    scitt_cose_key_free(builder);
    scitt_cose_key_free(deployer);
    scitt_cose_key_free(stranger);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_and_receipts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_change_and_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outside_receipt_signer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_are_fixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_change_needs_a_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_measurement_endorsement, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
