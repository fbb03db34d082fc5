/*
 * Service bundles: the identity document, its TEE evidence and endorsements, and their offline
 * verification (include/scitt/attest.h). Pure: no I/O, the caller supplies the time.
 */
#include "scitt/attest.h"

#include <stdio.h>
#include <string.h>

#include "scitt/cbor.h"
#include "tee_internal.h"

scitt_err scitt_identity_parse(scitt_span doc, scitt_identity *out)
{
    memset(out, 0, sizeof(*out));
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, doc);
    size_t n;
    scitt_err e = scitt_cbor_read_map(&r, &n);
    if (e == SCITT_OK && n != 4) {
        e = SCITT_ERR_MALFORMED;
    }
    for (uint64_t want = 1; e == SCITT_OK && want <= 4; want++) {
        uint64_t label;
        e = scitt_cbor_read_uint(&r, &label);
        if (e == SCITT_OK && label != want) {
            e = SCITT_ERR_MALFORMED; /* deterministic order: 1, 2, 3, 4 */
        }
        if (e == SCITT_OK && want == 1) {
            e = scitt_cbor_skip(&r, &out->receipt_key);
        } else if (e == SCITT_OK) {
            scitt_span *dst = want == 2 ? &out->vkey : want == 3 ? &out->issuer : &out->origin;
            e = scitt_cbor_read_text(&r, dst);
        }
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    return e == SCITT_OK ? SCITT_OK : SCITT_ERR_EVIDENCE_MALFORMED;
}

scitt_err scitt_attest_report_data(scitt_span identity, scitt_span nonce,
                                   uint8_t out[SCITT_TEE_REPORT_DATA_LEN])
{
    if (nonce.len > 32) {
        return SCITT_ERR_INVALID_ARG;
    }
    memset(out, 0, SCITT_TEE_REPORT_DATA_LEN);
    scitt_sha256(identity.ptr, identity.len, out);
    if (nonce.len) {
        memcpy(out + 32, nonce.ptr, nonce.len);
    }
    return SCITT_OK;
}

scitt_err scitt_attest_virtual_evidence(const uint8_t measurement[SCITT_ATTEST_MEASUREMENT_LEN],
                                        const uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN],
                                        scitt_dynbuf *out)
{
    /* text keys in deterministic order: by length, then bytewise */
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_map(&w, 4);
    scitt_cbor_put_cstr(&w, "type");
    scitt_cbor_put_cstr(&w, SCITT_ATTEST_VIRTUAL_TYPE);
    scitt_cbor_put_cstr(&w, "insecure");
    scitt_cbor_put_bool(&w, true);
    scitt_cbor_put_cstr(&w, "measurement");
    scitt_cbor_put_bytes(&w, scitt_span_make(measurement, SCITT_ATTEST_MEASUREMENT_LEN));
    scitt_cbor_put_cstr(&w, "report_data");
    scitt_cbor_put_bytes(&w, scitt_span_make(report_data, SCITT_TEE_REPORT_DATA_LEN));
    return scitt_cbor_writer_finish(&w, NULL);
}

scitt_err scitt_attest_bundle_encode(const char *platform, scitt_span identity, scitt_span evidence,
                                     scitt_span endorsements, scitt_dynbuf *out)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_map(&w, endorsements.len ? 4 : 3);
    scitt_cbor_put_cstr(&w, "evidence");
    scitt_cbor_put_bytes(&w, evidence);
    scitt_cbor_put_cstr(&w, "identity");
    scitt_cbor_put_bytes(&w, identity);
    scitt_cbor_put_cstr(&w, "platform");
    scitt_cbor_put_cstr(&w, platform);
    if (endorsements.len) {
        scitt_cbor_put_cstr(&w, "endorsements");
        scitt_cbor_put_bytes(&w, endorsements);
    }
    return scitt_cbor_writer_finish(&w, NULL);
}

/* Reads a map of known text keys into spans; unknown or repeated keys are malformed (the strict
 * map reader refuses duplicates). */
scitt_err scitt_attest_bundle_parse(scitt_span in, scitt_attest_bundle *b)
{
    memset(b, 0, sizeof(*b));
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, in);
    size_t n;
    scitt_err e = scitt_cbor_read_map(&r, &n);
    for (size_t i = 0; e == SCITT_OK && i < n; i++) {
        scitt_span key;
        e = scitt_cbor_read_text(&r, &key);
        if (e != SCITT_OK) {
            break;
        }
        if (scitt_span_eq_str(key, "evidence")) {
            e = scitt_cbor_read_bytes(&r, &b->evidence);
        } else if (scitt_span_eq_str(key, "identity")) {
            e = scitt_cbor_read_bytes(&r, &b->identity);
        } else if (scitt_span_eq_str(key, "platform")) {
            e = scitt_cbor_read_text(&r, &b->platform);
        } else if (scitt_span_eq_str(key, "endorsements")) {
            e = scitt_cbor_read_bytes(&r, &b->endorsements);
        } else {
            e = SCITT_ERR_MALFORMED;
        }
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    if (e == SCITT_OK && (!b->evidence.len || !b->identity.len || !b->platform.len)) {
        e = SCITT_ERR_MALFORMED;
    }
    return e == SCITT_OK ? SCITT_OK : SCITT_ERR_EVIDENCE_MALFORMED;
}

/* Virtual evidence: the exact four members, insecure true, the right type. */
scitt_err scitt_attest_virtual_parse(scitt_span ev, scitt_attest_virtual *out)
{
    memset(out, 0, sizeof(*out));
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, ev);
    size_t n;
    scitt_span key, type, meas, rd;
    bool insecure = false;
    scitt_err e = scitt_cbor_read_map(&r, &n);
    if (e == SCITT_OK && n != 4) {
        e = SCITT_ERR_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_text(&r, &key);
    if (e == SCITT_OK && !scitt_span_eq_str(key, "type")) {
        e = SCITT_ERR_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_text(&r, &type);
    e = e ? e : scitt_cbor_read_text(&r, &key);
    if (e == SCITT_OK && !scitt_span_eq_str(key, "insecure")) {
        e = SCITT_ERR_MALFORMED;
    }
    if (e == SCITT_OK) {
        scitt_cbor_item it;
        e = scitt_cbor_next(&r, &it);
        insecure = e == SCITT_OK && it.type == SCITT_CBOR_TRUE;
    }
    e = e ? e : scitt_cbor_read_text(&r, &key);
    if (e == SCITT_OK && !scitt_span_eq_str(key, "measurement")) {
        e = SCITT_ERR_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_bytes(&r, &meas);
    e = e ? e : scitt_cbor_read_text(&r, &key);
    if (e == SCITT_OK && !scitt_span_eq_str(key, "report_data")) {
        e = SCITT_ERR_MALFORMED;
    }
    e = e ? e : scitt_cbor_read_bytes(&r, &rd);
    e = e ? e : scitt_cbor_reader_finish(&r);
    if (e != SCITT_OK || !insecure || !scitt_span_eq_str(type, SCITT_ATTEST_VIRTUAL_TYPE) ||
        meas.len != SCITT_ATTEST_MEASUREMENT_LEN || rd.len != SCITT_TEE_REPORT_DATA_LEN) {
        return SCITT_ERR_EVIDENCE_MALFORMED;
    }
    memcpy(out->measurement, meas.ptr, SCITT_ATTEST_MEASUREMENT_LEN);
    memcpy(out->report_data, rd.ptr, SCITT_TEE_REPORT_DATA_LEN);
    return SCITT_OK;
}

static bool in_list(const uint8_t *list, size_t n, size_t width, const uint8_t *v)
{
    for (size_t i = 0; i < n; i++) {
        if (memcmp(list + i * width, v, width) == 0) {
            return true;
        }
    }
    return false;
}

static scitt_err verify_snp(const scitt_attest_bundle *b, const scitt_attest_opts *opts,
                            scitt_attest_result *out)
{
    scitt_snp_certs certs;
    scitt_snp_certs_init(&certs);
    scitt_snp_verified *v = scitt_calloc(1, sizeof(*v));
    if (!v) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = SCITT_ERR_EVIDENCE_MALFORMED;
    if (b->endorsements.len) {
        e = scitt_snp_certs_add_pem(&certs, b->endorsements, &out->why);
    } else {
        out->why = SCITT_TEE_MISSING_LEAF; /* nothing to verify the report with */
    }
    if (e == SCITT_OK) {
        scitt_snp_verify_opts vo;
        scitt_snp_verify_opts_init(&vo, opts->now);
        e = scitt_snp_verify(b->evidence, &certs, &vo, v, &out->why);
    }
    if (e == SCITT_OK) {
        scitt_snp_policy p;
        if (opts->snp_policy) {
            p = *opts->snp_policy;
        } else {
            scitt_snp_policy_init(&p);
        }
        p.measurements = opts->measurements;
        p.n_measurements = opts->n_measurements;
        p.host_data = opts->host_data;
        p.n_host_data = opts->n_host_data;
        e = scitt_snp_check_policy(v, &p, &out->why);
    }
    if (e == SCITT_OK) {
        memcpy(out->measurement, v->report.measurement, SCITT_ATTEST_MEASUREMENT_LEN);
        memcpy(out->host_data, v->report.host_data, sizeof(out->host_data));
        memcpy(out->report_data, v->report.report_data, SCITT_TEE_REPORT_DATA_LEN);
    }
    scitt_free(v);
    scitt_snp_certs_clear(&certs);
    return e;
}

scitt_err scitt_attest_collateral_encode(const scitt_span files[SCITT_DCAP_ITEMS],
                                         scitt_dynbuf *out)
{
    size_t n = 0;
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        n += files[i].len != 0;
    }
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, out);
    scitt_cbor_put_map(&w, n);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        if (files[i].len) {
            scitt_cbor_put_cstr(&w, scitt_dcap_item_file((scitt_dcap_item)i));
            scitt_cbor_put_bytes(&w, files[i]);
        }
    }
    return scitt_cbor_writer_finish(&w, NULL);
}

scitt_err scitt_attest_collateral_load(scitt_span in, scitt_dcap_collateral *c,
                                       scitt_tee_reason *why)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, in);
    size_t n;
    bool seen[SCITT_DCAP_ITEMS] = {false};
    scitt_err e = scitt_cbor_read_map(&r, &n);
    if (e == SCITT_OK && n > SCITT_DCAP_ITEMS) {
        e = SCITT_ERR_MALFORMED;
    }
    for (size_t k = 0; e == SCITT_OK && k < n; k++) {
        scitt_span name, bytes;
        e = scitt_cbor_read_text(&r, &name);
        e = e ? e : scitt_cbor_read_bytes(&r, &bytes);
        int item = -1;
        for (int i = 0; e == SCITT_OK && i < SCITT_DCAP_ITEMS; i++) {
            if (scitt_span_eq_str(name, scitt_dcap_item_file((scitt_dcap_item)i))) {
                item = i;
            }
        }
        if (e == SCITT_OK && (item < 0 || seen[item])) {
            e = SCITT_ERR_MALFORMED;
        }
        if (e == SCITT_OK) {
            seen[item] = true;
            e = scitt_dcap_collateral_set(c, (scitt_dcap_item)item, bytes, why);
            if (e != SCITT_OK) {
                return e;
            }
        }
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    return e == SCITT_OK ? SCITT_OK : SCITT_ERR_EVIDENCE_MALFORMED;
}

/* A TDX or SGX quote: DCAP verification with the collateral, then the TEE the bundle names, the
 * DEBUG attribute and the measurement lists. */
static scitt_err verify_dcap(scitt_span evidence, scitt_span endorsements, scitt_dcap_tee want,
                             const scitt_attest_opts *opts, scitt_attest_result *out)
{
    scitt_dcap_collateral *own = NULL;
    const scitt_dcap_collateral *c = opts->dcap_collateral;
    scitt_err e = SCITT_OK;
    if (!c && !endorsements.len) {
        out->why = SCITT_TEE_DCAP_NO_COLLATERAL;
        return SCITT_ERR_EVIDENCE;
    }
    if (!c) {
        e = scitt_dcap_collateral_new(&own);
        e = e ? e : scitt_attest_collateral_load(endorsements, own, &out->why);
        c = own;
    }
    scitt_dcap_result *r = &out->dcap;
    if (e == SCITT_OK) {
        scitt_dcap_verify_opts vo;
        scitt_dcap_verify_opts_init(&vo, opts->now);
        vo.root_sha256 = opts->dcap_root_sha256;
        vo.accept = opts->dcap_accept;
        e = scitt_dcap_verify(evidence, c, &vo, r);
        out->why = r->why;
    }
    scitt_dcap_collateral_free(own);
    if (e != SCITT_OK) {
        return e;
    }
    if (r->tee != want) {
        out->why = SCITT_TEE_DCAP_PLATFORM;
        return SCITT_ERR_EVIDENCE;
    }
    bool tdx = want == SCITT_DCAP_TEE_TDX;
    bool debug = tdx ? (r->td.td_attributes[0] & SCITT_ATTEST_TD_DEBUG) != 0
                     : (r->enclave.attributes[0] & SCITT_ATTEST_SGX_DEBUG) != 0;
    if (debug && !opts->allow_tee_debug) {
        out->why = SCITT_TEE_POLICY_DEBUG;
        return SCITT_ERR_POLICY;
    }
    if (opts->n_host_data || (!tdx && opts->n_measurements)) {
        /* no HOST_DATA on Intel; an enclave has no 48-byte launch measurement */
        out->why = opts->n_host_data ? SCITT_TEE_POLICY_HOST_DATA : SCITT_TEE_POLICY_MEASUREMENT;
        return SCITT_ERR_POLICY;
    }
    if (tdx && (opts->n_mrenclaves || opts->n_mrsigners)) {
        out->why = opts->n_mrenclaves ? SCITT_TEE_POLICY_MRENCLAVE : SCITT_TEE_POLICY_MRSIGNER;
        return SCITT_ERR_POLICY;
    }
    if (tdx) {
        memcpy(out->measurement, r->td.mrtd, SCITT_ATTEST_MEASUREMENT_LEN);
        memcpy(out->report_data, r->td.report_data, SCITT_TEE_REPORT_DATA_LEN);
        if (opts->n_measurements && !in_list(opts->measurements, opts->n_measurements,
                                             SCITT_ATTEST_MEASUREMENT_LEN, r->td.mrtd)) {
            out->why = SCITT_TEE_POLICY_MEASUREMENT;
            return SCITT_ERR_POLICY;
        }
        for (unsigned i = 0; i < 4; i++) {
            if (((opts->rtmr_set >> i) & 1u) &&
                memcmp(opts->rtmr + i * 48u, r->td.rtmr[i], 48) != 0) {
                out->why = SCITT_TEE_POLICY_RTMR;
                return SCITT_ERR_POLICY;
            }
        }
        return SCITT_OK;
    }
    memcpy(out->report_data, r->enclave.report_data, SCITT_TEE_REPORT_DATA_LEN);
    if (opts->rtmr_set) {
        out->why = SCITT_TEE_POLICY_RTMR;
        return SCITT_ERR_POLICY;
    }
    if (opts->n_mrenclaves &&
        !in_list(opts->mrenclaves, opts->n_mrenclaves, 32, r->enclave.mrenclave)) {
        out->why = SCITT_TEE_POLICY_MRENCLAVE;
        return SCITT_ERR_POLICY;
    }
    if (opts->n_mrsigners &&
        !in_list(opts->mrsigners, opts->n_mrsigners, 32, r->enclave.mrsigner)) {
        out->why = SCITT_TEE_POLICY_MRSIGNER;
        return SCITT_ERR_POLICY;
    }
    return SCITT_OK;
}

scitt_err scitt_attest_verify_quote(scitt_span quote, const scitt_attest_opts *opts,
                                    scitt_attest_result *out)
{
    memset(out, 0, sizeof(*out));
    scitt_dcap_quote q;
    scitt_err e = scitt_dcap_quote_parse(quote, &q, &out->why);
    if (e != SCITT_OK) {
        return e;
    }
    snprintf(out->platform, sizeof(out->platform), "%s", scitt_dcap_tee_name(q.tee));
    return verify_dcap(quote, scitt_span_make(NULL, 0), q.tee, opts, out);
}

scitt_err scitt__attest_verify_bound(const scitt_attest_bundle *bp, const scitt_attest_opts *opts,
                                     scitt_attest_result *out)
{
    memset(out, 0, sizeof(*out));
    scitt_attest_bundle b = *bp;
    scitt_err e = SCITT_OK;
    if (b.platform.len >= sizeof(out->platform)) {
        return SCITT_ERR_EVIDENCE_MALFORMED;
    }
    memcpy(out->platform, b.platform.ptr, b.platform.len);
    bool intel = scitt_span_eq_str(b.platform, "tdx") || scitt_span_eq_str(b.platform, "sgx");
    if (!intel && (opts->rtmr_set || opts->n_mrenclaves || opts->n_mrsigners)) {
        /* An Intel pin cannot be met by other evidence: refuse rather than ignore it. */
        out->why = opts->rtmr_set       ? SCITT_TEE_POLICY_RTMR
                   : opts->n_mrenclaves ? SCITT_TEE_POLICY_MRENCLAVE
                                        : SCITT_TEE_POLICY_MRSIGNER;
        return SCITT_ERR_POLICY;
    }
    if (scitt_span_eq_str(b.platform, "virtual")) {
        out->insecure = true;
        scitt_attest_virtual v;
        e = scitt_attest_virtual_parse(b.evidence, &v);
        if (e == SCITT_OK) {
            memcpy(out->measurement, v.measurement, SCITT_ATTEST_MEASUREMENT_LEN);
            memcpy(out->report_data, v.report_data, SCITT_TEE_REPORT_DATA_LEN);
        }
        if (e == SCITT_OK && !opts->allow_insecure_virtual) {
            return SCITT_ERR_INSECURE;
        }
        if (e == SCITT_OK && opts->n_host_data) {
            out->why = SCITT_TEE_POLICY_HOST_DATA;
            e = SCITT_ERR_POLICY; /* virtual evidence carries no host data to match */
        }
        if (e == SCITT_OK && opts->n_measurements &&
            !in_list(opts->measurements, opts->n_measurements, SCITT_ATTEST_MEASUREMENT_LEN,
                     out->measurement)) {
            out->why = SCITT_TEE_POLICY_MEASUREMENT;
            e = SCITT_ERR_POLICY;
        }
    } else if (scitt_span_eq_str(b.platform, "snp")) {
        e = verify_snp(&b, opts, out);
    } else if (scitt_span_eq_str(b.platform, "tdx")) {
        e = verify_dcap(b.evidence, b.endorsements, SCITT_DCAP_TEE_TDX, opts, out);
    } else if (scitt_span_eq_str(b.platform, "sgx")) {
        e = verify_dcap(b.evidence, b.endorsements, SCITT_DCAP_TEE_SGX, opts, out);
    } else {
        return SCITT_ERR_UNSUPPORTED;
    }
    if (e != SCITT_OK) {
        return e;
    }
    uint8_t want[SCITT_TEE_REPORT_DATA_LEN];
    e = scitt_attest_report_data(b.identity, opts->nonce, want);
    if (e != SCITT_OK) {
        return e;
    }
    if (!scitt_ct_equal(want, out->report_data, sizeof(want))) {
        out->why = SCITT_TEE_POLICY_REPORT_DATA;
        return SCITT_ERR_BINDING;
    }
    return SCITT_OK;
}

scitt_err scitt_attest_verify(scitt_span in, const scitt_attest_opts *opts,
                              scitt_attest_result *out)
{
    memset(out, 0, sizeof(*out));
    scitt_attest_bundle b;
    scitt_err e = scitt_attest_bundle_parse(in, &b);
    e = e ? e : scitt__attest_verify_bound(&b, opts, out);
    return e ? e : scitt_identity_parse(b.identity, &out->identity);
}
