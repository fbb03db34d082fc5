/*
 * Service identity: the receipt keys (COSE, ES256 by default; rotation keeps old ones) and the
 * Ed25519 checkpoint note key, kept in a keystore blob; the identity document that TEE evidence
 * binds; and the tree-head signer (one receipt signature and one checkpoint note per batch).
 * Key material is never logged or returned; buffers that held it are wiped.
 */
#include "service_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "scitt/file.h"
#include "scitt/limits.h"

/* ---- the insecure file keystore ----------------------------------------------------------- */

static scitt_err file_load(void *ctx, scitt_dynbuf *out)
{
    const char *path = ctx;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? SCITT_ERR_NOT_FOUND : SCITT_ERR_IO;
    }
    scitt_err e = SCITT_OK;
    for (;;) {
        uint8_t *at = scitt_dynbuf_reserve(out, 4096);
        if (!at) {
            e = out->err;
            break;
        }
        ssize_t n = read(fd, at, 4096);
        if (n < 0) {
            out->len -= 4096;
            e = SCITT_ERR_IO;
            break;
        }
        out->len -= 4096 - (size_t)n;
        if (n == 0) {
            break;
        }
    }
    close(fd);
    return e;
}

/* Durable (directory synced) before any key in it signs anything. */
static scitt_err file_store(void *ctx, scitt_span blob)
{
    return scitt_file_replace(ctx, blob, 0600, 0);
}

void scitt_keystore_file(const char *dir, const char *name, char *path_storage, size_t cap,
                         scitt_keystore *out)
{
    snprintf(path_storage, cap, "%s/%s", dir, name ? name : "service-keys");
    out->load = file_load;
    out->store = file_store;
    out->description = "INSECURE virtual platform: service keys in a 0600 file";
    out->ctx = path_storage;
}

/* ---- the key blob: {1: [COSE_Key (private), ...], 2: bstr(32) note seed} ------------------ */

static scitt_err blob_encode(const scitt_service *s, scitt_dynbuf *out)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_map(&w, 2);
    scitt_cbor_put_uint(&w, 1);
    size_t n = scitt_cose_keyset_count(s->keys);
    scitt_cbor_put_array(&w, n);
    for (size_t i = 0; i < n && w.err == SCITT_OK; i++) {
        /* a key held in a token is kept public: it stays published after the token goes */
        const scitt_cose_key *k = scitt_cose_keyset_at(s->keys, i);
        scitt_err e = scitt_cose_key_encode_cose(k, scitt_cose_key_has_private(k), &w);
        if (e != SCITT_OK) {
            return e;
        }
    }
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_bytes(&w, scitt_span_make(s->note_seed, sizeof(s->note_seed)));
    return scitt_cbor_writer_finish(&w, NULL);
}

static scitt_err blob_decode(scitt_service *s, scitt_span blob)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, blob);
    size_t n, nkeys;
    uint64_t label;
    scitt_err e = scitt_cbor_read_map(&r, &n);
    if (e == SCITT_OK && n != 2) {
        e = SCITT_ERR_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_uint(&r, &label);
    if (e == SCITT_OK && label != 1) {
        e = SCITT_ERR_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_array(&r, &nkeys);
    if (e == SCITT_OK && nkeys == 0) {
        e = SCITT_ERR_MALFORMED;
    }
    for (size_t i = 0; e == SCITT_OK && i < nkeys; i++) {
        scitt_span raw;
        scitt_cose_key *k = NULL;
        e = scitt_cbor_skip(&r, &raw);
        e = e ? e : scitt_cose_key_from_cose(raw, &k);
        e = e ? e : scitt_cose_key_use_text_kid(k);
        e = e ? e : scitt_cose_keyset_add(s->keys, k);
        scitt_cose_key_free(k);
    }
    scitt_span seed;
    e = e ? e : scitt_cbor_read_uint(&r, &label);
    if (e == SCITT_OK && label != 2) {
        e = SCITT_ERR_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_bytes(&r, &seed);
    if (e == SCITT_OK && seed.len != sizeof(s->note_seed)) {
        e = SCITT_ERR_MALFORMED;
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    if (e == SCITT_OK) {
        memcpy(s->note_seed, seed.ptr, sizeof(s->note_seed));
        s->have_note_seed = true;
    }
    return e;
}

/* The identity document: {1: receipt COSE_Key (public), 2: checkpoint vkey, 3: iss, 4: origin}. */
static scitt_err identity_build(scitt_service *s)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    scitt_cbor_put_map(&w, 4);
    scitt_cbor_put_uint(&w, 1);
    scitt_err e = scitt_cose_key_encode_cose(s->current, false, &w);
    scitt_cbor_put_uint(&w, 2);
    scitt_cbor_put_cstr(&w, s->vkey);
    scitt_cbor_put_uint(&w, 3);
    scitt_cbor_put_cstr(&w, s->issuer);
    scitt_cbor_put_uint(&w, 4);
    scitt_cbor_put_cstr(&w, s->origin);
    e = e ? e : scitt_cbor_writer_finish(&w, NULL);
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        return e;
    }
    s->identity = scitt_dynbuf_steal(&b, &s->identity_len);
    return SCITT_OK;
}

static scitt_err note_keys(scitt_service *s)
{
    uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN];
    scitt_err e = scitt_note_ed25519_public(s->note_seed, pub);
    /* the signing key made ready once: the sequencer signs a checkpoint for every batch */
    scitt_note_key_free(s->note_key);
    s->note_key = NULL;
    e = e ? e : scitt_note_key_new(s->note_seed, &s->note_key);
    e = e ? e : scitt_note_verifier_init(&s->note_verifier, scitt_span_str(s->origin), pub);
    e = e ? e : scitt_note_vkey_format(scitt_span_str(s->origin), pub, s->vkey, sizeof(s->vkey));
    return e;
}

/* Does one of the receipt keys we hold verify @p head's signature? */
static bool signed_by_us(const scitt_service *s, const scitt_tree_head *head)
{
    for (size_t i = 0; i < scitt_cose_keyset_count(s->keys); i++) {
        scitt_receipt_head rh;
        if (scitt_receipt_head_load(head->receipt_protected, head->receipt_signature, head->root,
                                    scitt_cose_keyset_at(s->keys, i), &rh) == SCITT_OK) {
            return true;
        }
    }
    return false;
}

/* Adds a new receipt key at the end of the set (the one that signs from now on). */
static scitt_err add_receipt_key(scitt_service *s)
{
    scitt_cose_key *k = NULL;
    scitt_err e = scitt_cose_key_generate(s->cfg.receipt_alg, &k);
    e = e ? e : scitt_cose_key_use_text_kid(k);
    e = e ? e : scitt_cose_keyset_add(s->keys, k);
    scitt_cose_key_free(k);
    return e;
}

/*
 * Keys and log must belong together. Every key that ever signed a tree head stays in the keystore
 * and is published, so the receipts it signed keep verifying; the published set holds at most
 * SCITT_LIMIT_KEYSET_KEYS keys (what verifiers accept), so rotation stops there, with a message.
 * A keystore that is missing, or older than the log (a rotation whose rename a crash undid), is
 * never papered over with new keys: the service refuses to start and says which.
 */
scitt_err scitt__identity_load(scitt_service *s, char *reason, size_t cap)
{
    scitt_err e = scitt_cose_keyset_new(&s->keys);
    if (e != SCITT_OK) {
        snprintf(reason, cap, "cannot load the service keys: %s", scitt_err_str(e));
        return e;
    }
    /* What the log says about the keys, before they are loaded or made. */
    scitt_tree_head head;
    scitt_dynbuf head_store;
    scitt_dynbuf_init(&head_store, 0);
    scitt_err pe = s->cfg.storage ? scitt_ledger_peek_latest_url(s->cfg.storage, &head, &head_store)
                                  : scitt_ledger_peek_latest(s->cfg.data_dir, &head, &head_store);
    /* never print the URL: it may carry a password */
    const char *where = s->cfg.storage ? "the PostgreSQL database" : s->cfg.data_dir;
    bool have_heads = pe == SCITT_OK;
    if (pe != SCITT_OK && pe != SCITT_ERR_NOT_FOUND) {
        snprintf(reason, cap, "cannot read the signed tree heads of the log in %s: %s", where,
                 scitt_err_str(pe));
        scitt_dynbuf_clear(&head_store);
        return pe;
    }
    const scitt_keystore *ks = s->cfg.keystore;
    scitt_dynbuf blob;
    scitt_dynbuf_init(&blob, 1u << 20);
    e = ks->load(ks->ctx, &blob);
    bool created = false;
    if (e == SCITT_OK) {
        e = blob_decode(s, scitt_span_make(blob.ptr, blob.len));
        if (e == SCITT_ERR_TOO_LARGE) {
            snprintf(reason, cap,
                     "the stored service keys hold more than %u receipt keys, the most one "
                     "published key set may carry",
                     SCITT_LIMIT_KEYSET_KEYS);
        } else if (e != SCITT_OK) {
            snprintf(reason, cap, "the stored service keys do not decode: %s", scitt_err_str(e));
        }
    } else if (e == SCITT_ERR_NOT_FOUND && have_heads) {
        snprintf(reason, cap,
                 "the service keys are missing, but the log in %s holds signed tree heads (up "
                 "to size %llu): new keys could not have signed them, so none are created; "
                 "restore the service keys from a backup",
                 where, (unsigned long long)head.size);
        e = SCITT_ERR_STATE;
    } else if (e == SCITT_ERR_NOT_FOUND) {
        /* First start: the keys are born here (inside the TEE when there is one), the receipt
         * key unless a token holds it. */
        e = s->cfg.receipt_signer ? SCITT_OK : add_receipt_key(s);
        if (e == SCITT_OK && RAND_priv_bytes(s->note_seed, sizeof(s->note_seed)) != 1) {
            e = SCITT_ERR_CRYPTO;
        }
        s->have_note_seed = e == SCITT_OK;
        created = true;
        if (e != SCITT_OK) {
            snprintf(reason, cap, "cannot generate the service keys: %s", scitt_err_str(e));
        }
    } else {
        snprintf(reason, cap, "cannot read the service keys: %s", scitt_err_str(e));
    }
    scitt_wipe(blob.ptr, blob.len);
    scitt_dynbuf_clear(&blob);
    if (e == SCITT_OK && have_heads && !signed_by_us(s, &head)) {
        snprintf(reason, cap,
                 "the newest tree head of the log in %s (size %llu) is signed by none of the %zu "
                 "receipt keys in the keystore: the keystore is older than the log (a key "
                 "rotation lost in a crash?) or belongs to another log; restore the keystore "
                 "that signed it",
                 where, (unsigned long long)head.size, scitt_cose_keyset_count(s->keys));
        e = SCITT_ERR_STATE;
    }
    scitt_dynbuf_clear(&head_store);
    const scitt_cose_signer *ext = s->cfg.receipt_signer;
    if (e == SCITT_OK && ext && s->cfg.rotate_receipt_key) {
        snprintf(reason, cap,
                 "--rotate-receipt-key makes a new key in the keystore, but the receipt key is "
                 "held in a PKCS#11 token: name another token key with --receipt-key instead");
        e = SCITT_ERR_INVALID_ARG;
    }
    if (e == SCITT_OK && ext) {
        /* the token's key publishes, and signs receipts under, the same text kid as ours */
        e = scitt_cose_key_use_text_kid((scitt_cose_key *)ext->pub);
    }
    if (e == SCITT_OK && ext && !scitt_cose_keyset_find(s->keys, scitt_cose_key_kid(ext->pub))) {
        /* the token's key joins the published set (public: the token keeps the private half) */
        if (scitt_cose_keyset_count(s->keys) >= SCITT_LIMIT_KEYSET_KEYS) {
            snprintf(reason, cap,
                     "cannot add the token's receipt key: the keystore holds %zu receipt keys, "
                     "the most one published key set may carry",
                     scitt_cose_keyset_count(s->keys));
            e = SCITT_ERR_TOO_LARGE;
        } else {
            e = scitt_cose_keyset_add(s->keys, (scitt_cose_key *)ext->pub);
            created = true;
            if (e != SCITT_OK) {
                snprintf(reason, cap, "cannot add the token's receipt key: %s", scitt_err_str(e));
            }
        }
    }
    if (e == SCITT_OK && s->cfg.rotate_receipt_key && !created) {
        if (scitt_cose_keyset_count(s->keys) >= SCITT_LIMIT_KEYSET_KEYS) {
            snprintf(reason, cap,
                     "cannot rotate the receipt key: the keystore holds %zu receipt keys, the "
                     "most one published key set may carry (retired keys stay published so that "
                     "the receipts they signed keep verifying); start without rotating to keep "
                     "signing with the current key",
                     scitt_cose_keyset_count(s->keys));
            e = SCITT_ERR_TOO_LARGE;
        } else {
            e = add_receipt_key(s);
            created = true;
            if (e != SCITT_OK) {
                snprintf(reason, cap, "cannot generate a new receipt key: %s", scitt_err_str(e));
            }
        }
    }
    if (e == SCITT_OK && created) {
        /* stored durably before the new key signs anything */
        scitt_dynbuf_init(&blob, 1u << 20);
        e = blob_encode(s, &blob);
        e = e ? e : ks->store(ks->ctx, scitt_span_make(blob.ptr, blob.len));
        scitt_wipe(blob.ptr, blob.len);
        scitt_dynbuf_clear(&blob);
        if (e != SCITT_OK) {
            snprintf(reason, cap, "cannot store the service keys: %s", scitt_err_str(e));
        }
    }
    if (e == SCITT_OK && ext) {
        s->current = scitt_cose_keyset_find(s->keys, scitt_cose_key_kid(ext->pub));
        s->sign_with = *ext;
    } else if (e == SCITT_OK) {
        s->current = scitt_cose_keyset_at(s->keys, scitt_cose_keyset_count(s->keys) - 1);
        scitt_cose_signer_from_key(s->current, &s->sign_with);
        if (!scitt_cose_key_has_private(s->current)) {
            snprintf(reason, cap,
                     "the newest receipt key is held in a PKCS#11 token: start with "
                     "--receipt-key naming it, or add a new key with --rotate-receipt-key");
            e = SCITT_ERR_STATE;
        }
    }
    if (e == SCITT_OK) {
        e = note_keys(s);
        e = e ? e : identity_build(s);
        if (e != SCITT_OK) {
            snprintf(reason, cap, "cannot prepare the service identity: %s", scitt_err_str(e));
        }
    }
    return e;
}

void scitt__identity_clear(scitt_service *s)
{
    scitt_cose_keyset_free(s->keys);
    s->keys = NULL;
    scitt_wipe(s->note_seed, sizeof(s->note_seed));
    scitt_note_key_free(s->note_key);
    s->note_key = NULL;
    scitt_free(s->identity);
    s->identity = NULL;
}

/* ---- the tree-head signer ----------------------------------------------------------------- */

static scitt_err head_sign(void *ctx, uint64_t size, const uint8_t root[SCITT_HASH_LEN],
                           int64_t time_ms, scitt_dynbuf *prot, scitt_dynbuf *sig, scitt_dynbuf *cp)
{
    scitt_service *s = ctx;
    scitt_receipt_head head;
    scitt_err e = scitt_cose_signer_receipt_head(&s->sign_with, scitt_span_str(s->issuer),
                                                 scitt_span_str(s->origin), time_ms / 1000, size,
                                                 root, &head);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_dynbuf_put(prot, head.protected_map, head.protected_len);
    scitt_dynbuf_put(sig, head.signature, head.signature_len);
    scitt_dynbuf text;
    scitt_dynbuf_init(&text, 0);
    e = scitt_checkpoint_format(scitt_span_str(s->origin), size, root, scitt_span_make(NULL, 0),
                                &text);
    scitt_note_signer signer = {scitt_span_str(s->origin), NULL, s->note_key};
    e = e ? e : scitt_note_sign(scitt_span_make(text.ptr, text.len), &signer, 1, cp);
    scitt_dynbuf_clear(&text);
    if (e == SCITT_OK && (prot->err || sig->err)) {
        e = SCITT_ERR_NOMEM;
    }
    return e;
}

/* Re-checks a stored head at open: a receipt signature by one of our keys over the stored root
 * and size, and a checkpoint note by our note key for the same size and root. */
static scitt_err head_verify(void *ctx, const scitt_tree_head *h)
{
    scitt_service *s = ctx;
    scitt_receipt_head rh;
    scitt_err e = SCITT_ERR_SIGNATURE;
    for (size_t i = 0; i < scitt_cose_keyset_count(s->keys) && e != SCITT_OK; i++) {
        e = scitt_receipt_head_load(h->receipt_protected, h->receipt_signature, h->root,
                                    scitt_cose_keyset_at(s->keys, i), &rh);
    }
    if (e != SCITT_OK) {
        return SCITT_ERR_SIGNATURE;
    }
    if (rh.tree_size != h->size) {
        return SCITT_ERR_SIGNATURE;
    }
    scitt_checkpoint cp;
    e = scitt_checkpoint_open(h->checkpoint, &s->note_verifier, 1, scitt_span_str(s->origin), &cp,
                              NULL);
    if (e != SCITT_OK || cp.size != h->size || memcmp(cp.root, h->root, SCITT_HASH_LEN) != 0) {
        return SCITT_ERR_SIGNATURE;
    }
    return SCITT_OK;
}

void scitt__identity_signer(scitt_service *s, scitt_ledger_signer *out)
{
    out->sign = head_sign;
    out->verify = head_verify;
    out->ctx = s;
}
