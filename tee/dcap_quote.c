/*
 * Strict parsing of DCAP quotes: TDX version 4 (TEE type 0x81, TD report body) and SGX version 3
 * (enclave report body), ECDSA P-256 attestation keys. Every length is checked against what is
 * left before anything is read, and the signature data must be exactly as long as its parts.
 * Layouts: Intel SGX ECDSA Quote Library API, appendix A (v3) and the TDX DCAP Quoting Library
 * API (v4); integers are little-endian.
 */
#include "scitt/dcap.h"

#include <string.h>

#include "tee_internal.h"

/* Intel's quoting enclave vendor ID (939A7233-F79C-4C9C-A940-A0DB3957F060 as bytes). */
static const uint8_t intel_qe_vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

const char *scitt_dcap_tee_name(scitt_dcap_tee tee)
{
    switch (tee) {
    case SCITT_DCAP_TEE_SGX:
        return "sgx";
    case SCITT_DCAP_TEE_TDX:
        return "tdx";
    }
    return "unknown";
}

static void take(scitt_reader *r, void *dst, size_t n)
{
    scitt_span s = scitt_reader_take(r, n);
    if (s.len == n) {
        memcpy(dst, s.ptr, n);
    } else {
        memset(dst, 0, n);
    }
}

static void parse_td_report(scitt_span b, scitt_dcap_td_report *t)
{
    scitt_reader r;
    scitt_reader_init(&r, b);
    take(&r, t->tee_tcb_svn, 16);
    take(&r, t->mrseam, 48);
    take(&r, t->mrsignerseam, 48);
    take(&r, t->seam_attributes, 8);
    take(&r, t->td_attributes, 8);
    take(&r, t->xfam, 8);
    take(&r, t->mrtd, 48);
    take(&r, t->mrconfigid, 48);
    take(&r, t->mrowner, 48);
    take(&r, t->mrownerconfig, 48);
    for (int i = 0; i < 4; i++) {
        take(&r, t->rtmr[i], 48);
    }
    take(&r, t->report_data, 64);
}

static void parse_enclave_report(scitt_span b, scitt_dcap_enclave_report *e)
{
    scitt_reader r;
    scitt_reader_init(&r, b);
    take(&r, e->cpusvn, 16);
    e->miscselect = scitt_reader_le32(&r);
    (void)scitt_reader_take(&r, 12); /* reserved */
    take(&r, e->isv_ext_prod_id, 16);
    take(&r, e->attributes, 16);
    take(&r, e->mrenclave, 32);
    (void)scitt_reader_take(&r, 32);
    take(&r, e->mrsigner, 32);
    (void)scitt_reader_take(&r, 32);
    take(&r, e->config_id, 64);
    e->isv_prod_id = scitt_reader_le16(&r);
    e->isv_svn = scitt_reader_le16(&r);
    e->config_svn = scitt_reader_le16(&r);
    (void)scitt_reader_take(&r, 42);
    take(&r, e->isv_family_id, 16);
    take(&r, e->report_data, 64);
}

static scitt_err fail(scitt_dcap_quote *out, scitt_tee_reason *why, scitt_tee_reason r,
                      scitt_err err)
{
    memset(out, 0, sizeof(*out));
    return scitt__tee_fail(why, r, err);
}

/* True when @p n more bytes can be read. */
static bool need(const scitt_reader *r, size_t n)
{
    return r->err == SCITT_OK && n <= scitt_reader_left(r);
}

scitt_err scitt_dcap_quote_parse(scitt_span in, scitt_dcap_quote *out, scitt_tee_reason *why)
{
    memset(out, 0, sizeof(*out));
    if (!in.ptr && in.len) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (in.len > SCITT_DCAP_QUOTE_MAX) {
        return fail(out, why, SCITT_TEE_DCAP_TRUNCATED, SCITT_ERR_TOO_LARGE);
    }
    scitt_reader r;
    scitt_reader_init(&r, in);
    if (!need(&r, SCITT_DCAP_HEADER_LEN)) {
        return fail(out, why, SCITT_TEE_DCAP_TRUNCATED, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    /* Header (48 bytes). */
    out->version = scitt_reader_le16(&r);
    out->att_key_type = scitt_reader_le16(&r);
    uint32_t tee_type = scitt_reader_le32(&r);
    uint16_t svn_a = scitt_reader_le16(&r), svn_b = scitt_reader_le16(&r);
    take(&r, out->qe_vendor_id, 16);
    take(&r, out->user_data, 20);

    size_t body_len;
    if (out->version == 4) {
        if (tee_type != SCITT_DCAP_TEE_TDX) {
            /* v4 SGX quotes exist, but nothing here has been checked against one */
            return fail(out, why, SCITT_TEE_DCAP_TEE_TYPE, SCITT_ERR_UNSUPPORTED);
        }
        out->tee = SCITT_DCAP_TEE_TDX;
        body_len = SCITT_DCAP_TD_REPORT_LEN;
    } else if (out->version == 3) {
        /* In v3 these four bytes are reserved: an SGX quote carries zero. */
        if (tee_type != 0) {
            return fail(out, why, SCITT_TEE_DCAP_TEE_TYPE, SCITT_ERR_EVIDENCE_MALFORMED);
        }
        out->tee = SCITT_DCAP_TEE_SGX;
        out->qe_svn = svn_a;
        out->pce_svn = svn_b;
        body_len = SCITT_DCAP_SGX_REPORT_LEN;
    } else {
        return fail(out, why, SCITT_TEE_DCAP_VERSION, SCITT_ERR_UNSUPPORTED);
    }
    if (out->att_key_type != SCITT_DCAP_KEY_ECDSA_P256) {
        return fail(out, why, SCITT_TEE_DCAP_KEY_TYPE, SCITT_ERR_UNSUPPORTED);
    }
    if (memcmp(out->qe_vendor_id, intel_qe_vendor, 16) != 0) {
        return fail(out, why, SCITT_TEE_DCAP_QE_VENDOR, SCITT_ERR_UNSUPPORTED);
    }

    /* Body. */
    if (!need(&r, body_len)) {
        return fail(out, why, SCITT_TEE_DCAP_TRUNCATED, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    scitt_span body = scitt_reader_take(&r, body_len);
    if (out->tee == SCITT_DCAP_TEE_TDX) {
        parse_td_report(body, &out->td);
    } else {
        parse_enclave_report(body, &out->enclave);
    }
    out->signed_part = scitt_span_make(in.ptr, r.pos);

    /* Signature data: its length first, then exactly that many bytes. */
    if (!need(&r, 4)) {
        return fail(out, why, SCITT_TEE_DCAP_TRUNCATED, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    uint32_t sig_len = scitt_reader_le32(&r);
    if (!need(&r, sig_len)) {
        return fail(out, why, SCITT_TEE_DCAP_TRUNCATED, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    scitt_reader s;
    scitt_reader_init(&s, scitt_reader_take(&r, sig_len));
    out->quote_len = r.pos;
    out->trailing_len = scitt_reader_left(&r);
    out->trailing_zero = true;
    for (size_t i = r.pos; i < in.len; i++) {
        out->trailing_zero = out->trailing_zero && in.ptr[i] == 0;
    }

    if (!need(&s, 128)) {
        return fail(out, why, SCITT_TEE_DCAP_SIG_DATA, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    take(&s, out->signature, 64);
    take(&s, out->att_key, 64);

    /* v4 wraps the QE report and the PCK chain in certification data of type 6. */
    scitt_reader qe = s;
    if (out->version == 4) {
        if (!need(&s, 6)) {
            return fail(out, why, SCITT_TEE_DCAP_SIG_DATA, SCITT_ERR_EVIDENCE_MALFORMED);
        }
        uint16_t type = scitt_reader_le16(&s);
        uint32_t size = scitt_reader_le32(&s);
        if (type != SCITT_DCAP_CERT_QE_REPORT) {
            return fail(out, why, SCITT_TEE_DCAP_CERT_TYPE, SCITT_ERR_UNSUPPORTED);
        }
        if (size != scitt_reader_left(&s)) {
            return fail(out, why, SCITT_TEE_DCAP_SIG_DATA, SCITT_ERR_EVIDENCE_MALFORMED);
        }
        scitt_reader_init(&qe, scitt_reader_take(&s, size));
    }
    if (!need(&qe, SCITT_DCAP_SGX_REPORT_LEN + 64 + 2)) {
        return fail(out, why, SCITT_TEE_DCAP_SIG_DATA, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    out->qe_report = scitt_reader_take(&qe, SCITT_DCAP_SGX_REPORT_LEN);
    parse_enclave_report(out->qe_report, &out->qe);
    take(&qe, out->qe_report_signature, 64);
    uint16_t auth_len = scitt_reader_le16(&qe);
    if (auth_len > SCITT_DCAP_AUTH_DATA_MAX || !need(&qe, auth_len)) {
        return fail(out, why, SCITT_TEE_DCAP_SIG_DATA, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    out->qe_auth_data = scitt_reader_take(&qe, auth_len);
    if (!need(&qe, 6)) {
        return fail(out, why, SCITT_TEE_DCAP_SIG_DATA, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    out->cert_data_type = scitt_reader_le16(&qe);
    uint32_t cert_len = scitt_reader_le32(&qe);
    if (out->cert_data_type != SCITT_DCAP_CERT_PCK_CHAIN) {
        /* PPID-based types need Intel's PCS to find the PCK certificate: not offline. */
        return fail(out, why, SCITT_TEE_DCAP_CERT_TYPE, SCITT_ERR_UNSUPPORTED);
    }
    if (cert_len == 0 || cert_len != scitt_reader_left(&qe)) {
        return fail(out, why, SCITT_TEE_DCAP_SIG_DATA, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    out->cert_data = scitt_reader_take(&qe, cert_len);
    /* The QE certification data must end the signature data exactly. */
    if (scitt_reader_finish(&qe) != SCITT_OK ||
        (out->version == 4 && scitt_reader_finish(&s) != SCITT_OK)) {
        return fail(out, why, SCITT_TEE_DCAP_SIG_DATA, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}
