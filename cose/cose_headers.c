/*
 * The COSE header model: decoding both buckets of a message into scitt_cose_headers with the
 * structural rules of RFC 9052, 9360, 9597, 9942 and 9995, and writing header maps in
 * deterministic order.
 */
#include "scitt/cose.h"

#include <string.h>

#include "cose_internal.h"

/* Type errors inside a header value are header errors; everything else keeps its own code. */
static scitt_err hdr_err(scitt_err e)
{
    return (e == SCITT_ERR_BAD_TYPE || e == SCITT_ERR_BAD_TAG) ? SCITT_ERR_HEADER : e;
}

static scitt_err read_uint_or_text(scitt_cbor_reader *r, uint64_t max, scitt_cose_uint_or_text *out)
{
    scitt_cbor_item it;
    scitt_err e = scitt_cbor_next(r, &it);
    if (e != SCITT_OK) {
        return e;
    }
    out->present = true;
    if (it.type == SCITT_CBOR_UINT && it.arg <= max) {
        out->num = it.arg;
        return SCITT_OK;
    }
    if (it.type == SCITT_CBOR_TEXT) {
        out->is_text = true;
        out->text = it.str;
        return SCITT_OK;
    }
    return SCITT_ERR_HEADER;
}

/* A NumericDate: an integer, optionally wrapped in tag 1 (as Microsoft's signing tools write). */
static scitt_err read_date(scitt_cbor_reader *r, int64_t *out)
{
    scitt_cbor_item it;
    scitt_err e = scitt_cbor_peek(r, &it);
    if (e == SCITT_OK && it.type == SCITT_CBOR_TAG) {
        uint64_t tag;
        e = scitt_cbor_read_tag(r, &tag);
        if (e == SCITT_OK && tag != SCITT_CBOR_TAG_EPOCH) {
            return SCITT_ERR_BAD_TAG;
        }
    }
    if (e == SCITT_OK) {
        e = scitt_cbor_read_int(r, out);
    }
    return e == SCITT_ERR_BAD_TYPE ? SCITT_ERR_HEADER : e;
}

static scitt_err read_cwt(scitt_cbor_reader *r, scitt_cose_cwt *c)
{
    size_t n;
    scitt_err e = scitt_cbor_read_map(r, &n);
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        scitt_cbor_item key;
        e = scitt_cbor_next(r, &key);
        if (e != SCITT_OK) {
            break;
        }
        uint64_t k = key.type == SCITT_CBOR_UINT ? key.arg : 0;
        if (k == SCITT_CWT_ISS) {
            c->has_iss = true;
            e = scitt_cbor_read_text(r, &c->iss);
        } else if (k == SCITT_CWT_SUB) {
            c->has_sub = true;
            e = scitt_cbor_read_text(r, &c->sub);
        } else if (k == SCITT_CWT_IAT) {
            c->has_iat = true;
            e = read_date(r, &c->iat);
        } else if (k == SCITT_CWT_NBF) {
            c->has_nbf = true;
            e = read_date(r, &c->nbf);
        } else if (k == SCITT_CWT_EXP) {
            c->has_exp = true;
            e = read_date(r, &c->exp);
        } else if (key.type == SCITT_CBOR_UINT || key.type == SCITT_CBOR_NEGINT ||
                   key.type == SCITT_CBOR_TEXT) {
            e = scitt_cbor_skip(r, NULL);
        } else {
            e = SCITT_ERR_HEADER; /* claim keys are int / tstr */
        }
    }
    return hdr_err(e);
}

static scitt_err read_label(scitt_cbor_reader *r, scitt_cose_label *l)
{
    scitt_cbor_item it;
    scitt_err e = scitt_cbor_next(r, &it);
    if (e != SCITT_OK) {
        return e;
    }
    memset(l, 0, sizeof(*l));
    if ((it.type == SCITT_CBOR_UINT || it.type == SCITT_CBOR_NEGINT) &&
        it.arg <= (uint64_t)INT64_MAX) {
        l->num = it.type == SCITT_CBOR_UINT ? (int64_t)it.arg : -1 - (int64_t)it.arg;
        return SCITT_OK;
    }
    if (it.type == SCITT_CBOR_TEXT) {
        l->is_text = true;
        l->text = it.str;
        return SCITT_OK;
    }
    return SCITT_ERR_HEADER;
}

static bool label_eq(const scitt_cose_label *a, const scitt_cose_label *b)
{
    return a->is_text == b->is_text &&
           (a->is_text ? scitt_span_eq(a->text, b->text) : a->num == b->num);
}

/* Applies the typed rules of one known parameter; unknown labels only need to be well-formed. */
static scitt_err interpret(scitt_cose_headers *h, int64_t label, scitt_span raw,
                           scitt_cose_bucket bucket, unsigned flags)
{
    if (flags & SCITT_SIGN1_LEGACY) {
        label = label == SCITT_COSE_HDR_LEGACY_HASH_ALG   ? SCITT_COSE_HDR_PAYLOAD_HASH_ALG
                : label == SCITT_COSE_HDR_LEGACY_LOCATION ? SCITT_COSE_HDR_PAYLOAD_LOCATION
                : label == SCITT_COSE_HDR_LEGACY_PREIMAGE_TYPE
                    ? SCITT_COSE_HDR_PREIMAGE_CONTENT_TYPE
                    : label;
    }
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, raw);
    scitt_err e = SCITT_OK;
    uint32_t bit = 0;
    size_t n = 0;
    switch (label) {
    case SCITT_COSE_HDR_ALG:
        bit = SCITT_COSE_H_ALG;
        e = scitt_cbor_read_int(&r, &h->alg);
        if (e == SCITT_ERR_BAD_TYPE && raw.len && (raw.ptr[0] >> 5) == 3) {
            e = SCITT_ERR_ALG; /* a text alg names nothing we implement */
        }
        break;
    case SCITT_COSE_HDR_CRIT:
        bit = SCITT_COSE_H_CRIT;
        e = scitt_cbor_read_array(&r, &n);
        if (e == SCITT_OK && (n == 0 || n > SCITT_LIMIT_CRIT_LABELS)) {
            e = n ? SCITT_ERR_TOO_LARGE : SCITT_ERR_HEADER;
        }
        for (size_t i = 0; i < n && e == SCITT_OK; i++) {
            e = read_label(&r, &h->crit[i]);
        }
        h->ncrit = e == SCITT_OK ? n : 0;
        break;
    case SCITT_COSE_HDR_CONTENT_TYPE:
        bit = SCITT_COSE_H_CONTENT_TYPE;
        e = read_uint_or_text(&r, 0xffff, &h->content_type);
        break;
    case SCITT_COSE_HDR_KID:
        bit = SCITT_COSE_H_KID;
        e = scitt_cbor_read_bytes(&r, &h->kid);
        break;
    case SCITT_COSE_HDR_CWT_CLAIMS:
        bit = SCITT_COSE_H_CWT;
        h->cwt.raw = raw;
        e = read_cwt(&r, &h->cwt);
        break;
    case SCITT_COSE_HDR_TYP:
        bit = SCITT_COSE_H_TYP;
        e = read_uint_or_text(&r, 0xffff, &h->typ);
        break;
    case SCITT_COSE_HDR_X5CHAIN: {
        bit = SCITT_COSE_H_X5CHAIN;
        scitt_cbor_item it;
        e = scitt_cbor_peek(&r, &it);
        if (e == SCITT_OK && it.type == SCITT_CBOR_BYTES) {
            h->nx5chain = 1; /* one certificate is a bare bstr (RFC 9360) */
            e = scitt_cbor_read_bytes(&r, &h->x5chain[0]);
            break;
        }
        e = scitt_cbor_read_array(&r, &n);
        if (e == SCITT_OK && (n < 2 || n > SCITT_LIMIT_X5CHAIN_CERTS)) {
            e = n < 2 ? SCITT_ERR_HEADER : SCITT_ERR_TOO_LARGE; /* [cert] is not COSE_X509 */
        }
        for (size_t i = 0; i < n && e == SCITT_OK; i++) {
            e = scitt_cbor_read_bytes(&r, &h->x5chain[i]);
        }
        h->nx5chain = e == SCITT_OK ? n : 0;
        break;
    }
    case SCITT_COSE_HDR_X5T:
        bit = SCITT_COSE_H_X5T;
        e = scitt_cbor_read_array(&r, &n);
        if (e == SCITT_OK && n != 2) {
            e = SCITT_ERR_HEADER;
        }
        if (e == SCITT_OK) {
            e = scitt_cbor_read_int(&r, &h->x5t_alg);
        }
        if (e == SCITT_OK) {
            e = scitt_cbor_read_bytes(&r, &h->x5t_hash);
        }
        break;
    case SCITT_COSE_HDR_PAYLOAD_HASH_ALG:
        bit = SCITT_COSE_H_PAYLOAD_HASH_ALG;
        e = scitt_cbor_read_int(&r, &h->payload_hash_alg);
        break;
    case SCITT_COSE_HDR_PREIMAGE_CONTENT_TYPE:
        bit = SCITT_COSE_H_PREIMAGE_CONTENT_TYPE;
        e = read_uint_or_text(&r, UINT64_MAX, &h->preimage_content_type);
        break;
    case SCITT_COSE_HDR_PAYLOAD_LOCATION:
        bit = SCITT_COSE_H_PAYLOAD_LOCATION;
        e = scitt_cbor_read_text(&r, &h->payload_location);
        break;
    case SCITT_COSE_HDR_RECEIPTS:
        bit = SCITT_COSE_H_RECEIPTS;
        e = scitt_cbor_read_array(&r, &n);
        if (e == SCITT_OK && (n == 0 || n > SCITT_LIMIT_RECEIPTS)) {
            e = n ? SCITT_ERR_TOO_LARGE : SCITT_ERR_HEADER;
        }
        for (size_t i = 0; i < n && e == SCITT_OK; i++) {
            e = scitt_cbor_read_bytes(&r, &h->receipts[i]); /* [+ bstr .cbor Receipt] */
        }
        h->nreceipts = e == SCITT_OK ? n : 0;
        break;
    case SCITT_COSE_HDR_VDS:
        bit = SCITT_COSE_H_VDS;
        e = scitt_cbor_read_int(&r, &h->vds);
        break;
    case SCITT_COSE_HDR_VDP:
        bit = SCITT_COSE_H_VDP;
        h->vdp = raw;
        e = scitt_cbor_read_map(&r, &n);
        break;
    default:
        return SCITT_OK;
    }
    if (e == SCITT_OK && bit != SCITT_COSE_H_VDP) {
        e = scitt_cbor_reader_finish(&r);
    }
    if (e != SCITT_OK) {
        return hdr_err(e);
    }
    if (bucket == SCITT_COSE_PROTECTED) {
        h->prot |= bit;
    } else {
        h->unprot |= bit;
    }
    return SCITT_OK;
}

static scitt_err decode_bucket(scitt_cose_headers *h, scitt_span map, scitt_cose_bucket bucket,
                               unsigned flags)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, map);
    size_t n;
    scitt_err e = scitt_cbor_read_map(&r, &n);
    if (e == SCITT_OK && n > SCITT_LIMIT_HEADER_LABELS) {
        e = SCITT_ERR_TOO_LARGE;
    }
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        scitt_cose_param *p = &h->params[h->nparams];
        e = read_label(&r, &p->label);
        if (e == SCITT_OK) {
            e = scitt_cbor_skip(&r, &p->value);
        }
        if (e == SCITT_OK) {
            p->bucket = bucket;
            h->nparams++;
            if (!p->label.is_text) {
                e = interpret(h, p->label.num, p->value, bucket, flags);
            }
        }
    }
    if (e == SCITT_OK) {
        e = scitt_cbor_reader_finish(&r);
    }
    return hdr_err(e);
}

/* The labels whose semantics this decoder implements: the only ones crit may name. */
static bool understood(const scitt_cose_label *l)
{
    static const int64_t known[] = {
        SCITT_COSE_HDR_ALG,
        SCITT_COSE_HDR_CRIT,
        SCITT_COSE_HDR_CONTENT_TYPE,
        SCITT_COSE_HDR_KID,
        SCITT_COSE_HDR_CWT_CLAIMS,
        SCITT_COSE_HDR_TYP,
        SCITT_COSE_HDR_X5CHAIN,
        SCITT_COSE_HDR_X5T,
        SCITT_COSE_HDR_PAYLOAD_HASH_ALG,
        SCITT_COSE_HDR_PREIMAGE_CONTENT_TYPE,
        SCITT_COSE_HDR_PAYLOAD_LOCATION,
        SCITT_COSE_HDR_RECEIPTS,
        SCITT_COSE_HDR_VDS,
        SCITT_COSE_HDR_VDP,
    };
    for (size_t i = 0; !l->is_text && i < sizeof(known) / sizeof(known[0]); i++) {
        if (l->num == known[i]) {
            return true;
        }
    }
    return false;
}

static scitt_err check_rules(const scitt_cose_headers *h)
{
    /* A label may not appear in both buckets (RFC 9052 §3). */
    for (size_t i = 0; i < h->nparams; i++) {
        for (size_t j = i + 1; j < h->nparams; j++) {
            if (h->params[i].bucket != h->params[j].bucket &&
                label_eq(&h->params[i].label, &h->params[j].label)) {
                return SCITT_ERR_DUPLICATE_KEY;
            }
        }
    }
    if (h->unprot & SCITT_COSE_H_CRIT) {
        return SCITT_ERR_HEADER; /* crit must be protected */
    }
    for (size_t i = 0; i < h->ncrit; i++) {
        bool present = false;
        for (size_t j = 0; j < h->nparams && !present; j++) {
            present = h->params[j].bucket == SCITT_COSE_PROTECTED &&
                      label_eq(&h->params[j].label, &h->crit[i]);
        }
        if (!present || !understood(&h->crit[i])) {
            return SCITT_ERR_CRIT;
        }
    }
    /* RFC 9995: 258 protected and mandatory for an envelope, 259/260 never unprotected, no 3. */
    uint32_t env = SCITT_COSE_H_PAYLOAD_HASH_ALG | SCITT_COSE_H_PREIMAGE_CONTENT_TYPE |
                   SCITT_COSE_H_PAYLOAD_LOCATION;
    if (h->unprot & env) {
        return SCITT_ERR_HEADER;
    }
    if ((h->prot & env) && !(h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG)) {
        return SCITT_ERR_HEADER;
    }
    if ((h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) &&
        ((h->prot | h->unprot) & SCITT_COSE_H_CONTENT_TYPE)) {
        return SCITT_ERR_HEADER;
    }
    if (h->prot & SCITT_COSE_H_RECEIPTS) {
        return SCITT_ERR_HEADER; /* receipts are added after signing: unprotected only */
    }
    return SCITT_OK;
}

scitt_err scitt__headers_decode(scitt_span protected_map, scitt_span unprotected_item,
                                unsigned flags, scitt_cose_headers *h)
{
    /* Zero the fixed part; the parameter array is filled up to nparams. */
    memset(h, 0, offsetof(scitt_cose_headers, params));
    h->nparams = 0;
    scitt_err e = SCITT_OK;
    if (protected_map.len) {
        e = decode_bucket(h, protected_map, SCITT_COSE_PROTECTED, flags);
    }
    bool legacy_undefined = (flags & SCITT_SIGN1_LEGACY) && unprotected_item.len == 1 &&
                            unprotected_item.ptr[0] == 0xf7;
    if (e == SCITT_OK && unprotected_item.len && !legacy_undefined) {
        e = decode_bucket(h, unprotected_item, SCITT_COSE_UNPROTECTED, flags);
    }
    return e == SCITT_OK ? check_rules(h) : e;
}

const scitt_cose_param *scitt_cose_headers_find(const scitt_cose_headers *h, int64_t label)
{
    for (size_t i = 0; i < h->nparams; i++) {
        if (!h->params[i].label.is_text && h->params[i].label.num == label) {
            return &h->params[i];
        }
    }
    return NULL;
}

const scitt_cose_param *scitt_cose_headers_find_text(const scitt_cose_headers *h, const char *label)
{
    for (size_t i = 0; i < h->nparams; i++) {
        if (h->params[i].label.is_text && scitt_span_eq_str(h->params[i].label.text, label)) {
            return &h->params[i];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Encoding                                                                                    */

#define MAX_ENTRIES (SCITT_LIMIT_HEADER_LABELS)

typedef struct {
    size_t start, key_end, end; /* offsets into the scratch buffer */
} entry;

typedef struct {
    scitt_dynbuf buf;
    scitt_cbor_writer w;
    entry e[MAX_ENTRIES];
    size_t n;
    scitt_err err;
} scratch;

static int entry_cmp(const uint8_t *base, const entry *x, const entry *y)
{
    size_t lx = x->key_end - x->start, ly = y->key_end - y->start;
    int c = memcmp(base + x->start, base + y->start, lx < ly ? lx : ly);
    return c ? c : (lx < ly ? -1 : lx > ly ? 1 : 0);
}

/* Insertion sort: at most SCITT_LIMIT_HEADER_LABELS entries, and no shared state (qsort has no
 * context argument, and encoders run on several threads). */
static void sort_entries(const uint8_t *base, entry *e, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        entry t = e[i];
        size_t j = i;
        while (j > 0 && entry_cmp(base, &e[j - 1], &t) > 0) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = t;
    }
}

/* Starts an entry with label @p l; the caller writes its value next. */
static void begin(scratch *s, const scitt_cose_label *l)
{
    if (s->n == MAX_ENTRIES) {
        s->err = SCITT_ERR_TOO_LARGE;
        return;
    }
    if (s->n > 0) {
        s->e[s->n - 1].end = s->buf.len;
    }
    s->e[s->n].start = s->buf.len;
    if (l->is_text) {
        scitt_cbor_put_text(&s->w, l->text);
    } else {
        scitt_cbor_put_int(&s->w, l->num);
    }
    s->e[s->n].key_end = s->buf.len;
    s->n++;
}

static void begin_num(scratch *s, int64_t num)
{
    scitt_cose_label l = {false, num, {NULL, 0}};
    begin(s, &l);
}

static void put_uint_or_text(scitt_cbor_writer *w, const scitt_cose_uint_or_text *v)
{
    if (v->is_text) {
        scitt_cbor_put_text(w, v->text);
    } else {
        scitt_cbor_put_uint(w, v->num);
    }
}

static void put_label(scitt_cbor_writer *w, const scitt_cose_label *l)
{
    if (l->is_text) {
        scitt_cbor_put_text(w, l->text);
    } else {
        scitt_cbor_put_int(w, l->num);
    }
}

static void write_entries(scratch *s, const scitt_cose_header_spec *spec)
{
    scitt_cbor_writer *w = &s->w;
    if (spec->alg) {
        begin_num(s, SCITT_COSE_HDR_ALG);
        scitt_cbor_put_int(w, spec->alg);
    }
    if (spec->ncrit) {
        begin_num(s, SCITT_COSE_HDR_CRIT);
        scitt_cbor_put_array(w, spec->ncrit);
        for (size_t i = 0; i < spec->ncrit; i++) {
            put_label(w, &spec->crit[i]);
        }
    }
    if (spec->content_type.present) {
        begin_num(s, SCITT_COSE_HDR_CONTENT_TYPE);
        put_uint_or_text(w, &spec->content_type);
    }
    if (spec->kid.len) {
        begin_num(s, SCITT_COSE_HDR_KID);
        scitt_cbor_put_bytes(w, spec->kid);
    }
    if (spec->cwt) {
        begin_num(s, SCITT_COSE_HDR_CWT_CLAIMS);
        size_t n = (spec->cwt_iss.len ? 1u : 0u) + (spec->cwt_sub.len ? 1u : 0u) +
                   (spec->cwt_has_iat ? 1u : 0u);
        scitt_cbor_put_map(w, n);
        if (spec->cwt_iss.len) {
            scitt_cbor_put_uint(w, SCITT_CWT_ISS);
            scitt_cbor_put_text(w, spec->cwt_iss);
        }
        if (spec->cwt_sub.len) {
            scitt_cbor_put_uint(w, SCITT_CWT_SUB);
            scitt_cbor_put_text(w, spec->cwt_sub);
        }
        if (spec->cwt_has_iat) {
            scitt_cbor_put_uint(w, SCITT_CWT_IAT);
            scitt_cbor_put_int(w, spec->cwt_iat);
        }
    }
    if (spec->typ.present) {
        begin_num(s, SCITT_COSE_HDR_TYP);
        put_uint_or_text(w, &spec->typ);
    }
    if (spec->nx5chain) {
        begin_num(s, SCITT_COSE_HDR_X5CHAIN);
        if (spec->nx5chain > 1) {
            scitt_cbor_put_array(w, spec->nx5chain);
        }
        for (size_t i = 0; i < spec->nx5chain; i++) {
            scitt_cbor_put_bytes(w, spec->x5chain[i]);
        }
    }
    if (spec->x5t_hash.len) {
        begin_num(s, SCITT_COSE_HDR_X5T);
        scitt_cbor_put_array(w, 2);
        scitt_cbor_put_int(w, spec->x5t_alg);
        scitt_cbor_put_bytes(w, spec->x5t_hash);
    }
    if (spec->payload_hash_alg) {
        begin_num(s, SCITT_COSE_HDR_PAYLOAD_HASH_ALG);
        scitt_cbor_put_int(w, spec->payload_hash_alg);
    }
    if (spec->preimage_content_type.present) {
        begin_num(s, SCITT_COSE_HDR_PREIMAGE_CONTENT_TYPE);
        put_uint_or_text(w, &spec->preimage_content_type);
    }
    if (spec->payload_location.len) {
        begin_num(s, SCITT_COSE_HDR_PAYLOAD_LOCATION);
        scitt_cbor_put_text(w, spec->payload_location);
    }
    for (size_t i = 0; i < spec->nextra; i++) {
        if (scitt_cbor_validate(spec->extra_values[i]) != SCITT_OK) {
            s->err = SCITT_ERR_INVALID_ARG;
            return;
        }
        begin(s, &spec->extra_labels[i]);
        scitt_cbor_put_raw(w, spec->extra_values[i]);
    }
}

scitt_err scitt_cose_headers_encode(const scitt_cose_header_spec *spec, scitt_cbor_writer *w)
{
    scratch *s = scitt_calloc(1, sizeof(*s));
    if (!s) {
        return SCITT_ERR_NOMEM;
    }
    scitt_dynbuf_init(&s->buf, SCITT_LIMIT_STATEMENT_MAX);
    scitt_cbor_writer_init_dynbuf(&s->w, &s->buf);
    write_entries(s, spec);
    scitt_err e = s->err != SCITT_OK ? s->err : s->w.err;
    if (e == SCITT_OK && s->n > 0) {
        s->e[s->n - 1].end = s->buf.len;
        /* Deterministic order: bytewise order of the encoded labels (RFC 8949 §4.2.1). */
        sort_entries(s->buf.ptr, s->e, s->n);
        for (size_t i = 1; i < s->n && e == SCITT_OK; i++) {
            if (entry_cmp(s->buf.ptr, &s->e[i - 1], &s->e[i]) == 0) {
                e = SCITT_ERR_DUPLICATE_KEY;
            }
        }
    }
    if (e == SCITT_OK) {
        scitt_cbor_put_map(w, s->n);
        for (size_t i = 0; i < s->n; i++) {
            const entry *x = &s->e[i];
            scitt_cbor_put_raw(w, scitt_span_make(s->buf.ptr + x->start, x->key_end - x->start));
            scitt_cbor_put_raw(w, scitt_span_make(s->buf.ptr + x->key_end, x->end - x->key_end));
        }
        e = w->err;
    }
    scitt_dynbuf_clear(&s->buf);
    scitt_free(s);
    return e;
}
