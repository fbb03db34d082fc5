/*
 * CBOR diagnostic notation (RFC 8949 §8, with EDN comments) for the objects of this domain. The
 * printer is iterative: an explicit stack of containers, and for byte strings that hold CBOR of
 * their own (protected headers, receipts, proofs) a stack of readers, both of fixed size. Labels
 * are named by context: the map a key sits in decides what its number means.
 */
#include "parsers.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scitt/cbor.h"
#include "scitt/x509.h"

#define DIAG_LAYERS   4u  /* bstr .cbor nested in bstr .cbor ... */
#define DIAG_FRAMES   80u /* SCITT_LIMIT_CBOR_DEPTH per layer, with room for tags */
#define DIAG_BSTR_MAX 4096u

typedef enum xctx {
    X_ANY = 0,
    X_SIGN1,    /* the array of a COSE_Sign1 */
    X_HDR,      /* a header map */
    X_CWT,      /* CWT claims */
    X_KEY,      /* COSE_Key */
    X_KEYSET,   /* array of COSE_Key */
    X_VDP,      /* 396 map */
    X_PROOFS,   /* array of bstr .cbor inclusion proofs */
    X_PROOF,    /* one decoded inclusion proof */
    X_PROOFS_C, /* array of bstr .cbor consistency proofs */
    X_PROOF_C,  /* one decoded consistency proof */
    X_RECEIPTS, /* array of bstr .cbor receipts */
    X_X5CHAIN,  /* bstr or array of bstr certificates */
    X_PROBLEM,  /* RFC 9290 */
    X_CONFIG,   /* text-keyed map */
    X_BUNDLE,   /* a service bundle: text-keyed, its byte strings hold CBOR */
} xctx;

typedef enum { F_ARRAY, F_MAP, F_TAG, F_LAYER } fkind;

typedef struct frame {
    fkind kind;
    xctx ctx;
    uint64_t left;  /* items still to come (maps: keys and values) */
    uint64_t count; /* items seen */
    bool key_int;   /* maps: the last key was an integer ... */
    int64_t key;    /* ... with this value */
    const char *key_text;
    int64_t kty; /* COSE_Key maps: the kty seen so far */
    unsigned indent;
} frame;

typedef struct printer {
    scitt_cbor_reader rd[DIAG_LAYERS];
    unsigned nlayers;
    frame st[DIAG_FRAMES];
    unsigned n;
    scitt_dynbuf *out;
    bool full;
    xctx top_ctx;
} printer;

/* ---- names --------------------------------------------------------------------------------- */

static const char *hdr_name(int64_t k)
{
    switch (k) {
    case 1:
        return "alg";
    case 2:
        return "crit";
    case 3:
        return "content type";
    case 4:
        return "kid";
    case 13:
        return "CWT claims (2023 label)";
    case 15:
        return "CWT claims";
    case 16:
        return "typ";
    case 32:
        return "x5bag";
    case 33:
        return "x5chain";
    case 34:
        return "x5t";
    case 35:
        return "x5u";
    case 258:
        return "payload hash alg";
    case 259:
        return "preimage content type";
    case 260:
        return "payload location";
    case 394:
        return "receipts";
    case 395:
        return "vds";
    case 396:
        return "vdp";
    case -111:
        return "vds (2023 label)";
    case -222:
        return "vdp (2023 label)";
    case -333:
        return "receipts (2023 label)";
    case -6800:
        return "payload hash alg (pre-RFC 9995)";
    case -6801:
        return "payload location (pre-RFC 9995)";
    case -6802:
        return "preimage content type (pre-RFC 9995)";
    default:
        return NULL;
    }
}

static const char *cwt_name(int64_t k)
{
    static const char *const n[] = {NULL, "iss", "sub", "aud", "exp", "nbf", "iat", "cti", "cnf"};
    return k >= 1 && k <= 8 ? n[k] : NULL;
}

static const char *key_name(int64_t k, int64_t kty)
{
    static const char *const common[] = {NULL, "kty", "kid", "alg", "key_ops", "Base IV"};
    static const char *const ec2[] = {NULL, "crv", "x", "y", "d"};
    static const char *const rsa[] = {NULL, "n", "e", "d", "p", "q", "dP", "dQ", "qInv"};
    if (k >= 1 && k <= 5) {
        return common[k];
    }
    if (kty == 2 && k >= -4 && k <= -1) {
        return ec2[-k];
    }
    if (kty == 1 && (k == -1 || k == -2 || k == -4)) {
        return ec2[-k];
    }
    if (kty == 3 && k >= -8 && k <= -1) {
        return rsa[-k];
    }
    return NULL;
}

static const char *problem_name(int64_t k)
{
    static const char *const n[] = {NULL,       "title",     "detail",  "instance", "response-code",
                                    "base-uri", "base-lang", "base-rtl"};
    return k <= -1 && k >= -7 ? n[-k] : NULL;
}

static const char *label_name(const frame *f, int64_t k)
{
    switch (f->ctx) {
    case X_HDR:
        return hdr_name(k);
    case X_CWT:
        return cwt_name(k);
    case X_KEY:
        return key_name(k, f->kty);
    case X_PROBLEM:
        return problem_name(k);
    case X_VDP:
        return k == -1 ? "inclusion proofs" : (k == -2 ? "consistency proofs" : NULL);
    default:
        return NULL;
    }
}

static const char *hash_name(int64_t a)
{
    return a == -16 ? "SHA-256" : a == -43 ? "SHA-384" : a == -44 ? "SHA-512" : NULL;
}

static void time_text(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, 32, "?");
    }
}

/* A comment for an integer value, by where it sits. */
static void value_note(const frame *f, int64_t v, char *out, size_t cap)
{
    out[0] = 0;
    if (!f || f->kind != F_MAP || !f->key_int) {
        return;
    }
    const char *s = NULL;
    if ((f->ctx == X_HDR && f->key == 1) || (f->ctx == X_KEY && f->key == 3)) {
        s = scitt_cose_alg_name(v) ? scitt_cose_alg_name(v) : hash_name(v);
    } else if (f->ctx == X_HDR && (f->key == 258 || f->key == -6800)) {
        s = hash_name(v);
    } else if (f->ctx == X_HDR && (f->key == 395 || f->key == -111)) {
        s = v == 1 ? "RFC9162_SHA256" : (v == 2 ? "CCF_LEDGER_SHA256" : NULL);
    } else if (f->ctx == X_KEY && f->key == 1) {
        s = v == 1 ? "OKP" : v == 2 ? "EC2" : v == 3 ? "RSA" : v == 4 ? "Symmetric" : NULL;
    } else if (f->ctx == X_KEY && f->key == -1 && f->kty != 3) {
        static const char *const crv[] = {NULL,     "P-256", "P-384",   "P-521",
                                          "X25519", "X448",  "Ed25519", "Ed448"};
        s = v >= 1 && v <= 7 ? crv[v] : NULL;
    } else if (f->ctx == X_CWT && f->key >= 4 && f->key <= 6) {
        char t[32];
        time_text(v, t);
        snprintf(out, cap, " / %s /", t);
        return;
    }
    if (s) {
        snprintf(out, cap, " / %s /", s);
    }
}

/* ---- output -------------------------------------------------------------------------------- */

static void indent(printer *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        scitt_dynbuf_str(p->out, "  ");
    }
}

static void put_text(printer *p, scitt_span t)
{
    scitt_dynbuf_u8(p->out, '"');
    for (size_t i = 0; i < t.len; i++) {
        uint8_t c = t.ptr[i];
        if (c == '"' || c == '\\') {
            scitt_dynbuf_u8(p->out, '\\');
            scitt_dynbuf_u8(p->out, c);
        } else if (c < 0x20 || c == 0x7f) {
            scitt_dynbuf_printf(p->out, "\\u%04x", c);
        } else {
            scitt_dynbuf_u8(p->out, c);
        }
    }
    scitt_dynbuf_u8(p->out, '"');
}

static void put_bytes(printer *p, scitt_span b)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = b.len;
    bool cut = !p->full && n > DIAG_BSTR_MAX;
    if (cut) {
        n = 32;
    }
    scitt_dynbuf_str(p->out, "h'");
    for (size_t i = 0; i < n; i++) {
        scitt_dynbuf_u8(p->out, (uint8_t)hex[b.ptr[i] >> 4]);
        scitt_dynbuf_u8(p->out, (uint8_t)hex[b.ptr[i] & 15]);
    }
    scitt_dynbuf_u8(p->out, '\'');
    if (cut) {
        uint8_t h[32];
        scitt_sha256(b.ptr, b.len, h);
        scitt_dynbuf_printf(p->out, " / first 32 of %zu bytes (--full prints all), SHA-256 ",
                            b.len);
        for (size_t i = 0; i < 32; i++) {
            scitt_dynbuf_printf(p->out, "%02x", h[i]);
        }
        scitt_dynbuf_str(p->out, " /");
    }
}

static frame *top(printer *p)
{
    return p->n ? &p->st[p->n - 1] : NULL;
}

/* The context of the next item inside @p f. */
static xctx child_ctx(const printer *p, const frame *f)
{
    if (!f) {
        return p->top_ctx;
    }
    if (f->kind == F_LAYER || f->kind == F_TAG) {
        return f->ctx; /* the wrapped item has the wrapper's context */
    }
    bool value = f->kind == F_MAP && (f->count & 1);
    switch (f->ctx) {
    case X_SIGN1:
        return f->count <= 1 ? X_HDR : X_ANY; /* protected (bstr) and unprotected */
    case X_KEYSET:
        return X_KEY;
    case X_RECEIPTS:
        return X_ANY;
    case X_PROOFS:
        return X_PROOF;
    case X_PROOFS_C:
        return X_PROOF_C;
    case X_VDP:
        return !value ? X_ANY : (f->key_int && f->key == -2 ? X_PROOFS_C : X_PROOFS);
    case X_HDR:
        if (!value || !f->key_int) {
            return X_ANY;
        }
        switch (f->key) {
        case 13:
        case 15:
            return X_CWT;
        case 33:
            return X_X5CHAIN;
        case 394:
        case -333:
            return X_RECEIPTS;
        case 396:
        case -222:
            return X_VDP;
        default:
            return X_ANY;
        }
    case X_X5CHAIN:
        return X_X5CHAIN;
    default:
        return X_ANY;
    }
}

/* A byte string that holds CBOR of its own, by context. */
static bool embedded(const frame *f, xctx c)
{
    return (f && f->kind == F_ARRAY && f->ctx == X_SIGN1 && f->count == 0) || c == X_PROOF ||
           c == X_PROOF_C || (f && f->ctx == X_RECEIPTS) ||
           (f && f->kind == F_MAP && f->ctx == X_BUNDLE); /* identity, evidence */
}

static scitt_err push(printer *p, fkind k, xctx c, uint64_t left)
{
    if (p->n == DIAG_FRAMES) {
        return SCITT_ERR_TOO_DEEP;
    }
    frame *f = &p->st[p->n];
    memset(f, 0, sizeof(*f));
    f->kind = k;
    f->ctx = c;
    f->left = left;
    f->indent = p->n ? p->st[p->n - 1].indent + (k == F_ARRAY || k == F_MAP ? 1 : 0) : 1;
    if (p->n == 0 && (k == F_TAG || k == F_LAYER)) {
        f->indent = 0;
    }
    p->n++;
    return SCITT_OK;
}

/* An item finished: count it in its container and close every container it completed. */
static void item_done(printer *p)
{
    for (;;) {
        frame *f = top(p);
        if (!f) {
            return;
        }
        f->count++;
        f->left--;
        if (f->left) {
            return;
        }
        switch (f->kind) {
        case F_ARRAY:
        case F_MAP:
            scitt_dynbuf_u8(p->out, '\n');
            indent(p, f->indent - 1);
            scitt_dynbuf_u8(p->out, f->kind == F_ARRAY ? ']' : '}');
            break;
        case F_TAG:
            scitt_dynbuf_u8(p->out, ')');
            break;
        case F_LAYER:
            scitt_dynbuf_str(p->out, ">>");
            p->nlayers--;
            break;
        }
        p->n--;
    }
}

/* Where the next item goes: a new line in arrays and for map keys, inline after ": ", "(", "<<". */
static void position(printer *p)
{
    frame *f = top(p);
    if (!f || f->kind == F_TAG || f->kind == F_LAYER || (f->kind == F_MAP && (f->count & 1))) {
        return;
    }
    scitt_dynbuf_str(p->out, f->count ? ",\n" : "\n");
    indent(p, f->indent);
    static const char *const incl[] = {"tree size", "leaf index", "path"};
    static const char *const cons[] = {"old tree size", "tree size", "path"};
    if (f->kind == F_ARRAY && (f->ctx == X_PROOF || f->ctx == X_PROOF_C) && f->count < 3) {
        scitt_dynbuf_printf(p->out, "/ %s / ", (f->ctx == X_PROOF ? incl : cons)[f->count]);
    }
    static const char *const sign1[] = {"protected", "unprotected", "payload", "signature"};
    if (f->kind == F_ARRAY && f->ctx == X_SIGN1 && f->count < 4) {
        scitt_dynbuf_printf(p->out, "/ %s / ", sign1[f->count]);
    }
}

/* Prints a map key with its name, remembering it for the value. */
static void put_key(printer *p, frame *f, const scitt_cbor_item *it)
{
    f->key_int =
        it->type == SCITT_CBOR_UINT || (it->type == SCITT_CBOR_NEGINT && it->arg < INT64_MAX);
    f->key = it->type == SCITT_CBOR_UINT ? (int64_t)it->arg : -1 - (int64_t)it->arg;
    const char *name = f->key_int ? label_name(f, f->key) : NULL;
    if (name) {
        scitt_dynbuf_printf(p->out, "/ %s / ", name);
    }
    if (it->type == SCITT_CBOR_TEXT) {
        f->key_int = false;
        put_text(p, it->str);
    } else if (it->type == SCITT_CBOR_UINT) {
        scitt_dynbuf_printf(p->out, "%llu", (unsigned long long)it->arg);
    } else if (it->type == SCITT_CBOR_NEGINT) {
        if (it->arg == UINT64_MAX) {
            scitt_dynbuf_str(p->out, "-18446744073709551616");
        } else {
            scitt_dynbuf_printf(p->out, "-%llu", (unsigned long long)it->arg + 1);
        }
    } else {
        put_bytes(p, it->str);
    }
    scitt_dynbuf_str(p->out, ": ");
}

/* One certificate of an x5chain: its subject CN as a comment. */
static void cert_note(printer *p, scitt_span der)
{
    char cn[160];
    if (scitt_x509_subject_cn(der, cn, sizeof(cn), NULL) == SCITT_OK) {
        scitt_dynbuf_str(p->out, " / CN=");
        for (const char *c = cn; *c; c++) {
            scitt_dynbuf_u8(p->out, *c == '/' ? '|' : (uint8_t)*c);
        }
        scitt_dynbuf_str(p->out, " /");
    }
}

static scitt_err step(printer *p)
{
    scitt_cbor_reader *r = &p->rd[p->nlayers - 1];
    scitt_cbor_item it;
    scitt_err e = scitt_cbor_next(r, &it);
    if (e != SCITT_OK) {
        return e;
    }
    frame *f = top(p);
    position(p);
    if (f && f->kind == F_MAP && !(f->count & 1)) {
        put_key(p, f, &it);
        if (f->ctx == X_KEY && f->key_int && f->key == 1) {
            scitt_cbor_item v;
            if (scitt_cbor_peek(r, &v) == SCITT_OK && v.type == SCITT_CBOR_UINT) {
                f->kty = (int64_t)v.arg;
            }
        }
        item_done(p);
        return SCITT_OK;
    }
    xctx c = child_ctx(p, f);
    char note[64];
    switch (it.type) {
    case SCITT_CBOR_UINT:
    case SCITT_CBOR_NEGINT: {
        int64_t v = it.type == SCITT_CBOR_UINT ? (int64_t)it.arg : -1 - (int64_t)it.arg;
        bool fits = it.arg <= INT64_MAX;
        if (it.type == SCITT_CBOR_UINT) {
            scitt_dynbuf_printf(p->out, "%llu", (unsigned long long)it.arg);
        } else if (it.arg == UINT64_MAX) {
            scitt_dynbuf_str(p->out, "-18446744073709551616");
        } else {
            scitt_dynbuf_printf(p->out, "-%llu", (unsigned long long)it.arg + 1);
        }
        if (fits) {
            value_note(f, v, note, sizeof(note));
            scitt_dynbuf_str(p->out, note);
        }
        item_done(p);
        return SCITT_OK;
    }
    case SCITT_CBOR_BYTES:
        if (p->nlayers < DIAG_LAYERS && it.str.len && embedded(f, c) &&
            scitt_cbor_validate(it.str) == SCITT_OK) {
            scitt_dynbuf_str(p->out, "<<");
            e = push(p, F_LAYER, c, 1);
            if (e == SCITT_OK) {
                scitt_cbor_reader_init(&p->rd[p->nlayers++], it.str);
            }
            return e;
        }
        put_bytes(p, it.str);
        if (c == X_X5CHAIN) {
            cert_note(p, it.str);
        }
        item_done(p);
        return SCITT_OK;
    case SCITT_CBOR_TEXT:
        put_text(p, it.str);
        item_done(p);
        return SCITT_OK;
    case SCITT_CBOR_FALSE:
        scitt_dynbuf_str(p->out, "false");
        item_done(p);
        return SCITT_OK;
    case SCITT_CBOR_TRUE:
        scitt_dynbuf_str(p->out, "true");
        item_done(p);
        return SCITT_OK;
    case SCITT_CBOR_NULL:
        scitt_dynbuf_str(p->out, "null");
        item_done(p);
        return SCITT_OK;
    case SCITT_CBOR_UNDEFINED:
        scitt_dynbuf_str(p->out, "undefined");
        item_done(p);
        return SCITT_OK;
    case SCITT_CBOR_FLOAT:
        scitt_dynbuf_printf(p->out, "%.17g", it.f);
        item_done(p);
        return SCITT_OK;
    case SCITT_CBOR_TAG:
        if (it.arg == 18) {
            scitt_dynbuf_str(p->out, "/ COSE_Sign1 / ");
            c = X_SIGN1;
        }
        scitt_dynbuf_printf(p->out, "%llu(", (unsigned long long)it.arg);
        return push(p, F_TAG, c, 1);
    case SCITT_CBOR_ARRAY:
    case SCITT_CBOR_MAP: {
        bool map = it.type == SCITT_CBOR_MAP;
        if (f && f->kind == F_TAG && f->ctx == X_SIGN1 && !map) {
            c = X_SIGN1;
        }
        if (it.arg == 0) {
            scitt_dynbuf_str(p->out, map ? "{}" : "[]");
            item_done(p);
            return SCITT_OK;
        }
        scitt_dynbuf_u8(p->out, map ? '{' : '[');
        if (it.arg > UINT64_MAX / 2) {
            return SCITT_ERR_TOO_LARGE;
        }
        return push(p, map ? F_MAP : F_ARRAY, c, map ? 2 * it.arg : it.arg);
    }
    }
    return SCITT_ERR_MALFORMED;
}

/* ---- kinds --------------------------------------------------------------------------------- */

const char *diag_kind_name(diag_kind k)
{
    static const char *const n[] = {
        "CBOR",          "signed statement", "transparent statement", "receipt",
        "COSE_Key",      "COSE_Key_Set",     "problem details",       "transparency configuration",
        "service bundle"};
    return (unsigned)k < sizeof(n) / sizeof(n[0]) ? n[k] : "CBOR";
}

static bool has_int_key(scitt_span map, int64_t want, scitt_cbor_item *value)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, map);
    size_t n;
    if (scitt_cbor_read_map(&r, &n) != SCITT_OK) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_item k;
        if (scitt_cbor_peek(&r, &k) != SCITT_OK) {
            return false;
        }
        int64_t key;
        bool is_int = (k.type == SCITT_CBOR_UINT || k.type == SCITT_CBOR_NEGINT) &&
                      scitt_cbor_read_int(&r, &key) == SCITT_OK;
        if (!is_int && scitt_cbor_skip(&r, NULL) != SCITT_OK) {
            return false;
        }
        if (is_int && key == want) {
            return scitt_cbor_peek(&r, value) == SCITT_OK;
        }
        if (scitt_cbor_skip(&r, NULL) != SCITT_OK) {
            return false;
        }
    }
    return false;
}

/* Does the map @p map have the text key @p want with a value of @p type? */
static bool has_text_key(scitt_span map, const char *want, scitt_cbor_type type)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, map);
    size_t n;
    if (scitt_cbor_read_map(&r, &n) != SCITT_OK) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        scitt_cbor_item k, v;
        scitt_span t;
        bool text = scitt_cbor_peek(&r, &k) == SCITT_OK && k.type == SCITT_CBOR_TEXT &&
                    scitt_cbor_read_text(&r, &t) == SCITT_OK;
        if (!text && scitt_cbor_skip(&r, NULL) != SCITT_OK) {
            return false;
        }
        if (text && scitt_span_eq_str(t, want)) {
            return scitt_cbor_peek(&r, &v) == SCITT_OK && v.type == type;
        }
        if (scitt_cbor_skip(&r, NULL) != SCITT_OK) {
            return false;
        }
    }
    return false;
}

static diag_kind classify(scitt_span cbor)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, cbor);
    scitt_cbor_item it, v;
    if (scitt_cbor_peek(&r, &it) != SCITT_OK) {
        return DIAG_CBOR;
    }
    if (it.type == SCITT_CBOR_TAG && it.arg == 18) {
        uint64_t tag;
        size_t n;
        scitt_span prot, unprot;
        if (scitt_cbor_read_tag(&r, &tag) || scitt_cbor_read_array(&r, &n) || n != 4 ||
            scitt_cbor_read_bytes(&r, &prot) || scitt_cbor_skip(&r, &unprot)) {
            return DIAG_CBOR;
        }
        if (has_int_key(prot, 395, &v) || has_int_key(prot, -111, &v)) {
            return DIAG_RECEIPT;
        }
        if (has_int_key(unprot, 394, &v) || has_int_key(unprot, -333, &v)) {
            return DIAG_TRANSPARENT;
        }
        return DIAG_STATEMENT;
    }
    if (it.type == SCITT_CBOR_MAP) {
        if (has_int_key(cbor, 1, &v) && v.type == SCITT_CBOR_UINT) {
            return DIAG_COSE_KEY;
        }
        if ((has_int_key(cbor, -1, &v) && v.type == SCITT_CBOR_TEXT) ||
            (has_int_key(cbor, -2, &v) && v.type == SCITT_CBOR_TEXT)) {
            return DIAG_PROBLEM;
        }
        scitt_cbor_reader k = r;
        size_t n;
        scitt_cbor_item key;
        if (scitt_cbor_read_map(&k, &n) == SCITT_OK && n && scitt_cbor_peek(&k, &key) == SCITT_OK &&
            key.type == SCITT_CBOR_TEXT) {
            return has_text_key(cbor, "identity", SCITT_CBOR_BYTES) &&
                           has_text_key(cbor, "evidence", SCITT_CBOR_BYTES) &&
                           has_text_key(cbor, "platform", SCITT_CBOR_TEXT)
                       ? DIAG_SERVICE_BUNDLE
                       : DIAG_CONFIGURATION;
        }
    }
    if (it.type == SCITT_CBOR_ARRAY && it.arg > 0) {
        scitt_cbor_reader k = r;
        size_t n;
        scitt_span first;
        if (scitt_cbor_read_array(&k, &n) == SCITT_OK && scitt_cbor_skip(&k, &first) == SCITT_OK &&
            classify(first) == DIAG_COSE_KEY) {
            return DIAG_COSE_KEY_SET;
        }
    }
    return DIAG_CBOR;
}

scitt_err diag_print(scitt_span cbor, bool full, scitt_dynbuf *out, diag_kind *kind)
{
    scitt_err e = scitt_cbor_validate(cbor);
    if (e != SCITT_OK) {
        return e;
    }
    diag_kind k = classify(cbor);
    if (kind) {
        *kind = k;
    }
    static const xctx top_ctx[] = {X_ANY,    X_ANY,     X_ANY,    X_ANY,   X_KEY,
                                   X_KEYSET, X_PROBLEM, X_CONFIG, X_BUNDLE};
    printer *p = scitt_calloc(1, sizeof(*p));
    if (!p) {
        return SCITT_ERR_NOMEM;
    }
    p->out = out;
    p->full = full;
    p->top_ctx = top_ctx[k];
    scitt_dynbuf_printf(out, "/ %s / ", diag_kind_name(k));
    scitt_cbor_reader_init(&p->rd[0], cbor);
    p->nlayers = 1;
    /* The first step reads the top item; containers keep the loop going until they close. */
    do {
        e = step(p);
    } while (e == SCITT_OK && p->n > 0);
    scitt_dynbuf_u8(out, '\n');
    scitt_free(p);
    return e == SCITT_OK ? out->err : e;
}
