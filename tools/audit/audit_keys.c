/*
 * The service keys of `scitt audit`. The pinned set (keys.cbor) holds only keys the auditor has
 * reason to trust: given with --keys, or proven by the audited log itself (a key that verified a
 * policy statement in the log, or the service's signed consistency receipt between two audited
 * checkpoints). What the service serves at .well-known/scitt-keys is read afresh on every run as
 * candidates and never pinned for being served, so a service serving many junk keys cannot fill
 * the pinned set and wedge the auditor; such keys, and pinned keys the service stopped serving,
 * are reported as key churn.
 */
#include "audit.h"

#include <stdio.h>
#include <string.h>

#include "scitt/cbor.h"

void audit_keys_clear(audit_keys *k)
{
    scitt_cose_keyset_free(k->pinned);
    for (size_t i = 0; i < k->nserved; i++) {
        scitt_cose_key_free(k->served[i]);
    }
    scitt_free(k->served);
    scitt_free(k->served_proven);
    memset(k, 0, sizeof(*k));
}

static void kid_text(scitt_span kid, char *out, size_t cap)
{
    char *h = cli_hex(kid);
    snprintf(out, cap, "%.64s", h ? h : "");
    scitt_free(h);
}

static void listed(audit_key_item *list, size_t *n, scitt_span kid, const char *how)
{
    if (*n < AUDIT_KEYS_LISTED) {
        kid_text(kid, list[*n].kid, sizeof(list[*n].kid));
        snprintf(list[*n].how, sizeof(list[*n].how), "%s", how);
    }
    (*n)++;
}

/* Adds the keys of a COSE_Key_Set the user or the state vouches for. */
static int pin_all(audit *a, scitt_span cbor, const char *from)
{
    scitt_cose_keyset *s = NULL;
    scitt_err e = scitt_cose_keyset_from_cose(cbor, &s);
    if (e != SCITT_OK) {
        return audit_fail(a, "%s is not a COSE_Key_Set: %s", from, scitt_err_str(e));
    }
    for (size_t i = 0; i < scitt_cose_keyset_count(s) && e == SCITT_OK; i++) {
        scitt_cose_key *k = (scitt_cose_key *)scitt_cose_keyset_at(s, i);
        if (!scitt_cose_keyset_find(a->keys.pinned, scitt_cose_key_kid(k))) {
            e = scitt_cose_keyset_add(a->keys.pinned, k);
        }
    }
    scitt_cose_keyset_free(s);
    if (e != SCITT_OK) {
        return audit_fail(a, "%s: %s (the pinned keys hold at most %u)", from, scitt_err_str(e),
                          SCITT_LIMIT_KEYSET_KEYS);
    }
    return CLI_OK;
}

/* The served key set, one COSE_Key at a time: elements that do not parse are counted, and the
 * number of keys is bounded by the document's size, not by the pinned set's limit. */
static void read_served(audit *a, scitt_span doc)
{
    audit_keys *k = &a->keys;
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, doc);
    size_t n = 0;
    scitt_err e = scitt_cbor_read_array(&r, &n);
    if (e != SCITT_OK) {
        snprintf(k->served_why, sizeof(k->served_why),
                 "the served key set is not a CBOR array (%s)", scitt_err_str(e));
        k->served_garbage = true;
        return;
    }
    k->served = scitt_calloc(n ? n : 1, sizeof(*k->served));
    k->served_proven = scitt_calloc(n ? n : 1, sizeof(*k->served_proven));
    if (!k->served || !k->served_proven) {
        snprintf(k->served_why, sizeof(k->served_why), "out of memory");
        return;
    }
    k->served_known = true;
    for (size_t i = 0; i < n; i++) {
        scitt_span raw;
        scitt_cose_key *key = NULL;
        if (scitt_cbor_skip(&r, &raw) != SCITT_OK) {
            k->served_bad += n - i;
            break;
        }
        if (scitt_cose_key_from_cose(raw, &key) != SCITT_OK) {
            k->served_bad++;
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < k->nserved && !dup; j++) {
            dup = scitt_span_eq(scitt_cose_key_kid(k->served[j]), scitt_cose_key_kid(key));
        }
        if (dup) {
            k->served_bad++; /* a second key under one kid: neither can be told apart */
            scitt_cose_key_free(key);
            continue;
        }
        k->served[k->nserved++] = key;
    }
}

int audit_keys_load(audit *a, scitt_span pinned_cbor, const char *keys_file)
{
    if (scitt_cose_keyset_new(&a->keys.pinned) != SCITT_OK) {
        return audit_fail(a, "out of memory");
    }
    char p[4200];
    snprintf(p, sizeof(p), "%s/keys.cbor", a->state_dir);
    int rc = pinned_cbor.len ? pin_all(a, pinned_cbor, p) : CLI_OK;
    if (rc == CLI_OK && keys_file) {
        scitt_dynbuf b;
        rc = cli_read_file(keys_file, SCITT_LIMIT_KEY_TEXT, &b) == SCITT_OK
                 ? pin_all(a, scitt_span_make(b.ptr, b.len), keys_file)
                 : audit_fail(a, "cannot read %s", keys_file);
        scitt_dynbuf_clear(&b);
    }
    if (rc != CLI_OK) {
        return rc;
    }
    char why[600];
    scitt_dynbuf served;
    scitt_err e = source_get(&a->src, ".well-known/scitt-keys", SCITT_LIMIT_KEY_TEXT, &served, why,
                             sizeof(why));
    if (e == SCITT_OK) {
        read_served(a, scitt_span_make(served.ptr, served.len));
    } else {
        snprintf(a->keys.served_why, sizeof(a->keys.served_why), "no served key set (%.250s)", why);
    }
    scitt_dynbuf_clear(&served);
    if (scitt_cose_keyset_count(a->keys.pinned) == 0 && a->keys.nserved == 0) {
        return audit_fail(a,
                          "no service keys to recognise policy statements with: nothing pinned in "
                          "%s, and %s; give --keys",
                          a->state_dir,
                          a->keys.served_why[0] ? a->keys.served_why
                                                : "the served key set is empty");
    }
    return CLI_OK;
}

const scitt_cose_key *audit_key_find(const audit *a, scitt_span kid)
{
    if (kid.len == 0) {
        return NULL;
    }
    const scitt_cose_key *k = scitt_cose_keyset_find(a->keys.pinned, kid);
    for (size_t i = 0; !k && i < a->keys.nserved; i++) {
        if (scitt_cose_key_matches_kid(a->keys.served[i], kid)) {
            k = a->keys.served[i];
        }
    }
    return k;
}

void audit_key_proven(audit *a, const scitt_cose_key *k, const char *how)
{
    audit_keys *ks = &a->keys;
    scitt_span kid = scitt_cose_key_kid(k);
    for (size_t i = 0; i < ks->nserved; i++) {
        if (scitt_cose_key_matches_kid(ks->served[i], kid)) {
            ks->served_proven[i] = true;
        }
    }
    if (scitt_cose_keyset_find(ks->pinned, kid)) {
        return;
    }
    if (scitt_cose_keyset_add(ks->pinned, (scitt_cose_key *)k) != SCITT_OK) {
        /* The pinned set is full: the key serves this audit and is reported, never an error, so
         * a service that rotates through many keys cannot stop the audits either. */
        char h[160];
        snprintf(h, sizeof(h), "%s; NOT pinned: keys.cbor already holds %u keys", how,
                 SCITT_LIMIT_KEYSET_KEYS);
        listed(ks->added, &ks->nadded, kid, h);
        ks->not_pinned++;
        return;
    }
    listed(ks->added, &ks->nadded, kid, how);
}

void audit_keys_churn(audit *a)
{
    audit_keys *ks = &a->keys;
    for (size_t i = 0; i < ks->nserved; i++) {
        scitt_span kid = scitt_cose_key_kid(ks->served[i]);
        if (!ks->served_proven[i] && !scitt_cose_keyset_find(ks->pinned, kid)) {
            listed(ks->unproven, &ks->nunproven, kid,
                   "served, but it signed nothing the audited log holds: not pinned");
        }
    }
    if (!ks->served_known) {
        return; /* nothing to compare with: a static copy without keys, or a failed fetch */
    }
    for (size_t i = 0; i < scitt_cose_keyset_count(ks->pinned); i++) {
        scitt_span kid = scitt_cose_key_kid(scitt_cose_keyset_at(ks->pinned, i));
        bool served = false;
        for (size_t j = 0; j < ks->nserved && !served; j++) {
            served = scitt_cose_key_matches_kid(ks->served[j], kid);
        }
        if (!served) {
            listed(ks->withdrawn, &ks->nwithdrawn, kid,
                   "pinned, but the service no longer serves it (receipts it signed cannot be "
                   "checked against what the service publishes)");
        }
    }
}

bool audit_keys_churned(const audit *a)
{
    const audit_keys *ks = &a->keys;
    return ks->nunproven || ks->nwithdrawn || ks->served_garbage || ks->served_bad ||
           ks->not_pinned;
}
