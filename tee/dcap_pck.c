/*
 * The PCK side of a DCAP quote: PEM certificate chains (in the quote's certification data and in
 * the collateral issuer-chain files) and the SGX extensions Intel puts in every PCK certificate
 * (FMSPC, PCE-ID, the TCB components the TCB info is matched against). The extension is parsed
 * with a small strict DER reader here, not through OpenSSL, so its grammar is ours to bound.
 */
#include "scitt/dcap.h"

#include <string.h>

#include "scitt/limits.h"
#include "tee_internal.h"

/* ---- PEM ---- */

static bool is_space(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

bool scitt__dcap_is_pem(scitt_span in)
{
    static const char begin[] = "-----BEGIN ";
    size_t i = 0;
    while (i < in.len && is_space(in.ptr[i])) {
        i++;
    }
    return in.len - i >= sizeof(begin) - 1 && memcmp(in.ptr + i, begin, sizeof(begin) - 1) == 0;
}

/* One line from *pos without its ending ("\n" or "\r\n"); *pos moves past the ending. */
static scitt_span next_line(scitt_span in, size_t *pos)
{
    size_t start = *pos, end = start;
    while (end < in.len && in.ptr[end] != '\n') {
        end++;
    }
    *pos = end < in.len ? end + 1 : end;
    if (end > start && in.ptr[end - 1] == '\r') {
        end--;
    }
    return scitt_span_make(in.ptr + start, end - start);
}

static bool line_is(scitt_span line, const char *dashes_word, const char *label)
{
    /* "-----BEGIN " label "-----" */
    size_t wl = strlen(dashes_word), ll = strlen(label);
    return line.len == wl + ll + 5 && memcmp(line.ptr, dashes_word, wl) == 0 &&
           memcmp(line.ptr + wl, label, ll) == 0 && memcmp(line.ptr + wl + ll, "-----", 5) == 0;
}

scitt_err scitt__dcap_pem_decode(scitt_span pem, const char *label, scitt_dynbuf *der,
                                 scitt_span *spans, size_t cap, size_t *n)
{
    *n = 0;
    if (pem.len > SCITT_DCAP_COLLATERAL_FILE_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    /* Where each block starts in der; spans are made at the end, when der no longer moves. */
    size_t starts[SCITT__DCAP_CHAIN_MAX + 1];
    size_t lens[SCITT__DCAP_CHAIN_MAX + 1];
    if (cap > SCITT__DCAP_CHAIN_MAX + 1) {
        cap = SCITT__DCAP_CHAIN_MAX + 1;
    }
    size_t pos = 0, blocks = 0;
    /* Quoting enclaves end the chain with a NUL terminator: NULs after the last block only. */
    size_t end = pem.len;
    while (end > 0 && pem.ptr[end - 1] == 0) {
        end--;
    }
    scitt_span in = scitt_span_make(pem.ptr, end);
    for (;;) {
        while (pos < in.len && is_space(in.ptr[pos])) {
            pos++;
        }
        if (pos == in.len) {
            break;
        }
        if (!line_is(next_line(in, &pos), "-----BEGIN ", label)) {
            return SCITT_ERR_MALFORMED;
        }
        if (blocks == cap) {
            return SCITT_ERR_TOO_LARGE;
        }
        starts[blocks] = der->len;
        bool ended = false;
        while (pos < in.len) {
            scitt_span line = next_line(in, &pos);
            if (line_is(line, "-----END ", label)) {
                ended = true;
                break;
            }
            /* Lines hold whole 4-character groups, so each decodes on its own; padding can only
             * end the last one, which the decoder enforces. */
            if (line.len == 0 || line.len % 4 != 0 || line.len > 128) {
                return SCITT_ERR_MALFORMED;
            }
            uint8_t *dst = scitt_dynbuf_reserve(der, line.len / 4 * 3);
            if (!dst) {
                return der->err ? der->err : SCITT_ERR_NOMEM;
            }
            size_t got = 0;
            if (scitt_base64_decode(line, dst, line.len / 4 * 3, &got) != SCITT_OK) {
                return SCITT_ERR_MALFORMED;
            }
            der->len -= line.len / 4 * 3 - got;
            if (got < line.len / 4 * 3 && pos < in.len) {
                /* a padded line must be the block's last: the END line follows */
                size_t peek = pos;
                if (!line_is(next_line(in, &peek), "-----END ", label)) {
                    return SCITT_ERR_MALFORMED;
                }
            }
        }
        if (!ended || der->len == starts[blocks]) {
            return SCITT_ERR_MALFORMED;
        }
        lens[blocks] = der->len - starts[blocks];
        blocks++;
    }
    if (blocks == 0) {
        return SCITT_ERR_MALFORMED;
    }
    for (size_t i = 0; i < blocks; i++) {
        spans[i] = scitt_span_make(der->ptr + starts[i], lens[i]);
    }
    *n = blocks;
    return SCITT_OK;
}

void scitt__dcap_chain_clear(scitt__dcap_chain *c)
{
    for (size_t i = 0; i < c->n; i++) {
        scitt__x509_free(c->cert[i]);
    }
    memset(c, 0, sizeof(*c));
}

scitt_err scitt__dcap_chain_parse(scitt_span pem, scitt__dcap_chain *out)
{
    memset(out, 0, sizeof(*out));
    scitt_dynbuf der;
    scitt_dynbuf_init(&der, SCITT_DCAP_COLLATERAL_FILE_MAX);
    scitt_span spans[SCITT__DCAP_CHAIN_MAX];
    size_t n = 0;
    scitt_err err =
        scitt__dcap_pem_decode(pem, "CERTIFICATE", &der, spans, SCITT__DCAP_CHAIN_MAX, &n);
    for (size_t i = 0; err == SCITT_OK && i < n; i++) {
        err = scitt__tee_x509_parse(spans[i], &out->cert[i]);
        if (err == SCITT_OK) {
            scitt_sha256(spans[i].ptr, spans[i].len, out->sha256[i]);
            out->n = i + 1;
        }
    }
    scitt_dynbuf_clear(&der);
    if (err != SCITT_OK) {
        scitt__dcap_chain_clear(out);
    }
    return err;
}

/* ---- SGX extensions (a strict DER subset) ---- */

typedef struct der {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
} der;

/* Reads one TLV of tag @p tag; its contents go to @p val. Definite, shortest-form lengths only. */
static bool tlv(der *d, uint8_t tag, scitt_span *val)
{
    if (d->bad || d->len - d->pos < 2 || d->p[d->pos] != tag) {
        d->bad = true;
        return false;
    }
    size_t pos = d->pos + 1;
    size_t n = d->p[pos++];
    if (n & 0x80) {
        size_t k = n & 0x7f;
        if (k == 0 || k > 2 || d->len - pos < k) {
            d->bad = true;
            return false;
        }
        n = 0;
        for (size_t i = 0; i < k; i++) {
            n = (n << 8) | d->p[pos++];
        }
        if (n < 0x80 || (k == 2 && n < 0x100)) {
            d->bad = true; /* not the shortest form */
            return false;
        }
    }
    if (n > d->len - pos) {
        d->bad = true;
        return false;
    }
    *val = scitt_span_make(d->p + pos, n);
    d->pos = pos + n;
    return true;
}

static der der_of(scitt_span s)
{
    der d = {s.ptr, s.len, 0, false};
    return d;
}

static bool der_done(const der *d)
{
    return !d->bad && d->pos == d->len;
}

/* A non-negative DER INTEGER up to @p max. */
static bool der_uint(scitt_span v, uint32_t max, uint32_t *out)
{
    if (v.len == 0 || v.len > 5 || (v.ptr[0] & 0x80)) {
        return false;
    }
    if (v.len > 1 && v.ptr[0] == 0 && !(v.ptr[1] & 0x80)) {
        return false; /* not minimal */
    }
    uint64_t x = 0;
    for (size_t i = 0; i < v.len; i++) {
        x = (x << 8) | v.ptr[i];
    }
    if (x > max) {
        return false;
    }
    *out = (uint32_t)x;
    return true;
}

/* The OID 1.2.840.113741.1.13.1 followed by @p n_arcs arcs (each < 128) equals @p oid. */
static bool oid_is(scitt_span oid, const uint8_t *arcs, size_t n_arcs)
{
    static const uint8_t prefix[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
    return oid.len == sizeof(prefix) + n_arcs && memcmp(oid.ptr, prefix, sizeof(prefix)) == 0 &&
           memcmp(oid.ptr + sizeof(prefix), arcs, n_arcs) == 0;
}

static bool octets(scitt_span v, uint8_t *out, size_t n)
{
    if (v.len != n) {
        return false;
    }
    memcpy(out, v.ptr, n);
    return true;
}

static bool parse_tcb(scitt_span seq, scitt_dcap_pck_ext *out)
{
    der d = der_of(seq);
    uint32_t seen = 0;
    while (!d.bad && d.pos < d.len) {
        scitt_span item, oid, val;
        if (!tlv(&d, 0x30, &item)) {
            return false;
        }
        der e = der_of(item);
        if (!tlv(&e, 0x06, &oid)) {
            return false;
        }
        bool known = false;
        for (uint8_t k = 1; k <= 18 && !known; k++) {
            const uint8_t arcs[2] = {2, k};
            if (!oid_is(oid, arcs, 2)) {
                continue;
            }
            known = true;
            if (seen & (1u << k)) {
                return false;
            }
            seen |= 1u << k;
            uint32_t x;
            if (k <= 16) {
                if (!tlv(&e, 0x02, &val) || !der_uint(val, 255, &x)) {
                    return false;
                }
                out->cpusvn_components[k - 1] = (uint8_t)x;
            } else if (k == 17) {
                if (!tlv(&e, 0x02, &val) || !der_uint(val, 65535, &x)) {
                    return false;
                }
                out->pce_svn = (uint16_t)x;
            } else if (!tlv(&e, 0x04, &val) || !octets(val, out->cpusvn, 16)) {
                return false;
            }
        }
        if (!known || !der_done(&e)) {
            return false;
        }
    }
    /* All 18 members (16 components, PCESVN, CPUSVN) exactly once. */
    return der_done(&d) && seen == 0x7fffeu;
}

static bool parse_configuration(scitt_span seq, scitt_dcap_pck_ext *out)
{
    der d = der_of(seq);
    uint32_t seen = 0;
    while (!d.bad && d.pos < d.len) {
        scitt_span item, oid, val;
        if (!tlv(&d, 0x30, &item)) {
            return false;
        }
        der e = der_of(item);
        if (!tlv(&e, 0x06, &oid)) {
            return false;
        }
        bool *dst = NULL;
        uint8_t k;
        for (k = 1; k <= 3 && !dst; k++) {
            const uint8_t arcs[2] = {7, k};
            if (oid_is(oid, arcs, 2)) {
                dst = k == 1   ? &out->dynamic_platform
                      : k == 2 ? &out->cached_keys
                               : &out->smt_enabled;
                break;
            }
        }
        if (!dst || (seen & (1u << k))) {
            return false;
        }
        seen |= 1u << k;
        /* DER BOOLEAN: one byte, 0x00 or 0xff */
        if (!tlv(&e, 0x01, &val) || val.len != 1 || (val.ptr[0] != 0 && val.ptr[0] != 0xff) ||
            !der_done(&e)) {
            return false;
        }
        *dst = val.ptr[0] == 0xff;
    }
    return der_done(&d);
}

scitt_err scitt_dcap_pck_ext_parse(scitt_span in, scitt_dcap_pck_ext *out, scitt_tee_reason *why)
{
    memset(out, 0, sizeof(*out));
    der top = der_of(in);
    scitt_span body;
    bool ok = tlv(&top, 0x30, &body) && der_done(&top);
    der d = der_of(body);
    uint32_t seen = 0;
    while (ok && d.pos < d.len) {
        scitt_span item, oid, val;
        if (!tlv(&d, 0x30, &item)) {
            ok = false;
            break;
        }
        der e = der_of(item);
        if (!tlv(&e, 0x06, &oid)) {
            ok = false;
            break;
        }
        uint8_t k = 0;
        for (uint8_t i = 1; i <= 7; i++) {
            const uint8_t arc[1] = {i};
            if (oid_is(oid, arc, 1)) {
                k = i;
            }
        }
        if (k == 0 || (seen & (1u << k))) {
            ok = false; /* an unknown or repeated member */
            break;
        }
        seen |= 1u << k;
        uint32_t x = 0;
        switch (k) {
        case 1:
            ok = tlv(&e, 0x04, &val) && octets(val, out->ppid, 16);
            break;
        case 2:
            ok = tlv(&e, 0x30, &val) && parse_tcb(val, out);
            break;
        case 3:
            ok = tlv(&e, 0x04, &val) && octets(val, out->pce_id, 2);
            break;
        case 4:
            ok = tlv(&e, 0x04, &val) && octets(val, out->fmspc, 6);
            break;
        case 5:
            ok = tlv(&e, 0x0a, &val) && der_uint(val, 255, &x);
            out->sgx_type = (uint8_t)x;
            break;
        case 6:
            ok = tlv(&e, 0x04, &val) && octets(val, out->platform_instance_id, 16);
            out->has_platform_instance_id = ok;
            break;
        case 7:
            ok = tlv(&e, 0x30, &val) && parse_configuration(val, out);
            out->has_configuration = ok;
            break;
        }
        ok = ok && der_done(&e);
    }
    /* PPID, TCB, PCE-ID, FMSPC and SGX type are in every PCK certificate. */
    const uint32_t required = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5);
    if (!ok || !der_done(&d) || (seen & required) != required) {
        memset(out, 0, sizeof(*out));
        return scitt__tee_fail(why, SCITT_TEE_DCAP_PCK_EXTENSION, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}
