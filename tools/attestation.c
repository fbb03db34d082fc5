/*
 * Checking TEE evidence for the scitt tool (tools/attestation.h). The verdict always comes from
 * the library (scitt_attest_verify, or scitt_snp_verify and scitt_snp_check_policy for a bare
 * report); the fields shown next to it are parsed separately so that a failed check still says
 * what the evidence claims.
 */
#include "attestation.h"
#include "parsers.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void attest_req_init(attest_req *r)
{
    memset(r, 0, sizeof(*r));
}

/* Exactly @p want bytes of hex into @p out. */
static bool hex_exact(const char *arg, uint8_t *out, size_t want)
{
    size_t n = 0;
    return scitt_hex_decode(scitt_span_str(arg), out, want, &n) == SCITT_OK && n == want;
}

int attest_option(attest_req *r, int code, const char *arg)
{
    char why[300];
    switch (code) {
    case AO_MEAS:
        if (r->n_meas == ATTEST_LIST_MAX) {
            return cli_usage("at most %u --expect-measurement values", ATTEST_LIST_MAX);
        }
        if (!hex_exact(arg, r->meas + r->n_meas * SCITT_ATTEST_MEASUREMENT_LEN,
                       SCITT_ATTEST_MEASUREMENT_LEN)) {
            return cli_usage("--expect-measurement must be 96 hex digits (48 bytes)");
        }
        r->n_meas++;
        return CLI_OK;
    case AO_HOST:
        if (r->n_host == ATTEST_LIST_MAX) {
            return cli_usage("at most %u --expect-host-data values", ATTEST_LIST_MAX);
        }
        if (!hex_exact(arg, r->host + r->n_host * 32, 32)) {
            return cli_usage("--expect-host-data must be 64 hex digits (32 bytes)");
        }
        r->n_host++;
        return CLI_OK;
    case AO_MIN_TCB: {
        scitt_snp_min_tcb m;
        if (attest_parse_min_tcb(arg, &m, why, sizeof(why)) != SCITT_OK) {
            return cli_usage("--min-tcb %s: %s", arg, why);
        }
        for (size_t i = 0; i < r->n_min_tcb; i++) {
            if (r->min_tcb[i].product == m.product) {
                return cli_usage("--min-tcb: %s is given twice", scitt_snp_product_name(m.product));
            }
        }
        r->min_tcb[r->n_min_tcb++] = m; /* three products at most, below ATTEST_LIST_MAX */
        return CLI_OK;
    }
    case AO_INSECURE:
        r->allow_insecure_virtual = true;
        return CLI_OK;
    case AO_NONCE:
        if (scitt_hex_decode(scitt_span_str(arg), r->nonce, sizeof(r->nonce), &r->nonce_len) !=
                SCITT_OK ||
            r->nonce_len == 0) {
            return cli_usage("--nonce must be 2 to 64 hex digits (1 to 32 bytes)");
        }
        r->has_nonce = true;
        return CLI_OK;
    case AO_AT:
        if (!attest_parse_time(arg, &r->now)) {
            return cli_usage("--at must be Unix seconds or RFC 3339 UTC (2025-07-01T00:00:00Z)");
        }
        r->has_now = true;
        return CLI_OK;
    case AO_CERTS:
        if (r->n_certs == ATTEST_CERTS_MAX) {
            return cli_usage("at most %u --certs files", ATTEST_CERTS_MAX);
        }
        r->certs[r->n_certs++] = arg;
        return CLI_OK;
    case AO_REPORT_DATA:
        if (!hex_exact(arg, r->report_data, sizeof(r->report_data))) {
            return cli_usage("--expect-report-data must be 128 hex digits (64 bytes)");
        }
        r->has_report_data = true;
        return CLI_OK;
    case AO_COLLATERAL:
        r->collateral = arg;
        r->intel_given = true;
        return CLI_OK;
    case AO_ACCEPT_TCB:
        if (scitt_dcap_accept_parse(scitt_span_str(arg), &r->accept) != SCITT_OK) {
            return cli_usage("--accept-tcb must be a comma-separated list of UpToDate, "
                             "SWHardeningNeeded, ConfigurationNeeded, "
                             "ConfigurationAndSWHardeningNeeded, OutOfDate, "
                             "OutOfDateConfigurationNeeded (Revoked and TcbNotSupported never "
                             "are accepted)");
        }
        r->intel_given = true;
        return CLI_OK;
    case AO_MRTD:
        if (r->n_meas == ATTEST_LIST_MAX) {
            return cli_usage("at most %u --expect-mrtd / --expect-measurement values",
                             ATTEST_LIST_MAX);
        }
        if (!hex_exact(arg, r->meas + r->n_meas * SCITT_ATTEST_MEASUREMENT_LEN,
                       SCITT_ATTEST_MEASUREMENT_LEN)) {
            return cli_usage("--expect-mrtd must be 96 hex digits (48 bytes)");
        }
        r->n_meas++;
        r->intel_given = true;
        return CLI_OK;
    case AO_RTMR: {
        unsigned n = (unsigned)(arg[0] - '0');
        if (arg[0] < '0' || arg[0] > '3' || arg[1] != '=' ||
            !hex_exact(arg + 2, r->rtmr + n * 48u, 48)) {
            return cli_usage("--expect-rtmr must be N=HEX: N 0..3, HEX 96 digits (48 bytes)");
        }
        if (r->rtmr_set & (1u << n)) {
            return cli_usage("--expect-rtmr: RTMR %u is given twice", n);
        }
        r->rtmr_set |= 1u << n;
        r->intel_given = true;
        return CLI_OK;
    }
    case AO_MRENCLAVE:
    case AO_MRSIGNER: {
        bool enc = code == AO_MRENCLAVE;
        size_t *n = enc ? &r->n_mrenclave : &r->n_mrsigner;
        uint8_t *list = enc ? r->mrenclave : r->mrsigner;
        const char *name = enc ? "--expect-mrenclave" : "--expect-mrsigner";
        if (*n == ATTEST_LIST_MAX) {
            return cli_usage("at most %u %s values", ATTEST_LIST_MAX, name);
        }
        if (!hex_exact(arg, list + *n * 32, 32)) {
            return cli_usage("%s must be 64 hex digits (32 bytes)", name);
        }
        (*n)++;
        r->intel_given = true;
        return CLI_OK;
    }
    default:
        return cli_usage("unknown attestation option");
    }
}

/* Reads --collateral DIR into a new set: every file present is parsed (a file that does not is a
 * failed check), files absent are left out (verification names a required one missing). */
static int load_collateral(const attest_req *r, scitt_dcap_collateral **out, attest_view *v)
{
    *out = NULL;
    if (!r->collateral) {
        return CLI_OK;
    }
    if (scitt_dcap_collateral_new(out) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "out of memory");
    }
    size_t found = 0;
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        char path[4096];
        const char *name = scitt_dcap_item_file((scitt_dcap_item)i);
        snprintf(path, sizeof(path), "%s/%s", r->collateral, name);
        scitt_dynbuf b;
        scitt_err e = cli_read_file(path, SCITT_DCAP_COLLATERAL_FILE_MAX, &b);
        if (e == SCITT_ERR_NOT_FOUND) {
            continue;
        }
        if (e != SCITT_OK) {
            return cli_fail(CLI_USAGE, "cannot read %s: %s", path, scitt_err_str(e));
        }
        found++;
        scitt_tee_reason why = SCITT_TEE_OK;
        e = scitt_dcap_collateral_set(*out, (scitt_dcap_item)i, scitt_span_make(b.ptr, b.len),
                                      &why);
        scitt_dynbuf_clear(&b);
        if (e != SCITT_OK) {
            v->err = e;
            v->why = why;
            snprintf(v->reason, sizeof(v->reason), "--collateral %s: %s: %s (%s)", r->collateral,
                     name, scitt_tee_reason_str(why), scitt_tee_reason_name(why));
            return CLI_FAIL;
        }
    }
    if (!found) {
        return cli_fail(CLI_USAGE,
                        "--collateral %s holds none of tcb_info.json, qe_identity.json, their "
                        "issuer chains and the CRLs",
                        r->collateral);
    }
    return CLI_OK;
}

void attest_view_clear(attest_view *v)
{
    scitt_cose_key_free(v->receipt_key);
    scitt_dynbuf_clear(&v->bytes);
    memset(v, 0, sizeof(*v));
}

/* Loads every --certs file into @p c (each may be PEM, DER, THIM JSON or a certificate table). An
 * unreadable file is a usage error; one that does not hold certificates fails the check. */
static int load_certs(const attest_req *r, scitt_snp_certs *c, attest_view *v)
{
    for (size_t i = 0; i < r->n_certs; i++) {
        scitt_dynbuf b;
        int rc = cli_slurp(r->certs[i], SNP_CERTS_FILE_MAX, &b);
        char why[400];
        if (rc == CLI_OK) {
            v->err = attest_certs_add(c, scitt_span_make(b.ptr, b.len), why, sizeof(why));
            if (v->err != SCITT_OK) {
                snprintf(v->reason, sizeof(v->reason), "--certs %s: %s", r->certs[i], why);
                rc = CLI_FAIL;
            }
        }
        scitt_dynbuf_clear(&b);
        if (rc != CLI_OK) {
            return rc;
        }
    }
    return CLI_OK;
}

/* The display fields of an SNP report and the certificates that came with it. */
static void show_snp(attest_view *v, scitt_span report, const scitt_snp_certs *c)
{
    scitt_tee_reason rs;
    v->have_report = scitt_snp_report_parse(report, &v->report, &rs) == SCITT_OK;
    if (!v->have_report) {
        return;
    }
    scitt_span leaf = scitt_snp_certs_get(c, SCITT_SNP_CERT_VCEK);
    leaf = leaf.len ? leaf : scitt_snp_certs_get(c, SCITT_SNP_CERT_VLEK);
    scitt_snp_vcek_info info;
    v->product = scitt_snp_report_product(&v->report);
    if (leaf.len && scitt_snp_vcek_parse(leaf, &info, &rs) == SCITT_OK) {
        snprintf(v->product_name, sizeof(v->product_name), "%s", info.product_name);
        v->product = v->product ? v->product : info.product;
    }
    v->have_tcb = scitt_snp_tcb_decode(v->product, v->report.reported_tcb, &v->tcb) == SCITT_OK;
    scitt_span ark = scitt_snp_certs_get(c, SCITT_SNP_CERT_ARK);
    if (ark.len) {
        scitt_sha256(ark.ptr, ark.len, v->ark_sha256);
        v->have_ark = true;
    }
}

static void show_identity(attest_view *v, scitt_span doc)
{
    scitt_sha256(doc.ptr, doc.len, v->identity_sha256);
    v->have_identity = scitt_identity_parse(doc, &v->identity) == SCITT_OK;
    if (v->have_identity &&
        scitt_cose_key_from_cose(v->identity.receipt_key, &v->receipt_key) != SCITT_OK) {
        v->receipt_key = NULL;
    }
}

/* A sentence for a failed check: the reason the library named, with the values that matter. */
static void explain(attest_view *v, const attest_req *r)
{
    char *have = NULL;
    const char *what = v->why != SCITT_TEE_OK ? scitt_tee_reason_str(v->why) : NULL;
    switch (v->err) {
    case SCITT_ERR_INSECURE:
        snprintf(v->reason, sizeof(v->reason),
                 "the evidence is from the INSECURE virtual platform (unsigned, anybody can make "
                 "it): refused without --allow-insecure-virtual");
        return;
    case SCITT_ERR_BINDING: {
        bool same_doc = v->have_virtual || v->have_report || v->have_dcap;
        const uint8_t *rd = v->have_virtual ? v->virt.report_data
                            : v->have_dcap
                                ? (v->dcap.tee == SCITT_DCAP_TEE_TDX ? v->dcap.td.report_data
                                                                     : v->dcap.enclave.report_data)
                                : v->report.report_data;
        same_doc = same_doc && memcmp(rd, v->identity_sha256, 32) == 0;
        snprintf(v->reason, sizeof(v->reason), "%s",
                 same_doc ? (r->has_nonce ? "the evidence is bound to another nonce than --nonce"
                                          : "the evidence is bound to a nonce: give the one the "
                                            "bundle was fetched with (--nonce)")
                          : "the evidence does not bind this identity document (REPORT_DATA is "
                            "not SHA-256 of it): the identity was changed or comes from elsewhere");
        return;
    }
    case SCITT_ERR_POLICY:
        if (v->why == SCITT_TEE_POLICY_MEASUREMENT && v->have_dcap) {
            if (v->dcap.tee == SCITT_DCAP_TEE_SGX) {
                snprintf(v->reason, sizeof(v->reason),
                         "an SGX enclave has no MRTD or 48-byte launch measurement: pin it with "
                         "--expect-mrenclave or --expect-mrsigner");
                return;
            }
            have = cli_hex(scitt_span_make(v->dcap.td.mrtd, 48));
            snprintf(v->reason, sizeof(v->reason),
                     "MRTD %s is not the one expected (--expect-mrtd)", have ? have : "?");
            scitt_free(have);
            return;
        }
        if (v->why == SCITT_TEE_DCAP_TCB_STATUS && v->have_dcap) {
            snprintf(v->reason, sizeof(v->reason),
                     "the TCB status is %s, which is not accepted (--accept-tcb; default "
                     "UpToDate)",
                     scitt_dcap_tcb_status_name(v->dcap.tcb_status));
            return;
        }
        if (v->why == SCITT_TEE_POLICY_MEASUREMENT) {
            have = cli_hex(
                scitt_span_make(v->have_virtual ? v->virt.measurement : v->report.measurement,
                                SCITT_ATTEST_MEASUREMENT_LEN));
            snprintf(v->reason, sizeof(v->reason),
                     "the launch measurement %s is not the one expected (--expect-measurement)",
                     have ? have : "?");
            scitt_free(have);
            return;
        }
        if (v->why == SCITT_TEE_POLICY_HOST_DATA && v->have_virtual) {
            snprintf(v->reason, sizeof(v->reason),
                     "virtual evidence has no HOST_DATA, so --expect-host-data cannot be met");
            return;
        }
        break;
    case SCITT_ERR_UNSUPPORTED:
        if (v->why != SCITT_TEE_OK) {
            break; /* a quote of a version or key type not handled: the reason names it */
        }
        snprintf(v->reason, sizeof(v->reason),
                 "unknown platform \"%s\" (snp, tdx, sgx and virtual are known)", v->platform);
        return;
    default:
        break;
    }
    snprintf(v->reason, sizeof(v->reason), "%s (%s)", what ? what : scitt_err_str(v->err),
             what ? scitt_tee_reason_name(v->why) : scitt_err_name(v->err));
}

static void build_policy(const attest_req *r, scitt_snp_policy *p)
{
    scitt_snp_policy_init(p);
    p->min_tcb = r->min_tcb;
    p->n_min_tcb = r->n_min_tcb;
    p->measurements = r->meas;
    p->n_measurements = r->n_meas;
    p->host_data = r->host;
    p->n_host_data = r->n_host;
    p->report_data = r->has_report_data ? r->report_data : NULL;
}

/* A bare SNP report: verified with --certs, no identity to bind. */
static int run_report(const attest_req *r, const uint8_t report[SCITT_SNP_REPORT_LEN],
                      const scitt_snp_certs *c, attest_view *v)
{
    scitt_span rep = scitt_span_make(report, SCITT_SNP_REPORT_LEN);
    snprintf(v->platform, sizeof(v->platform), "snp");
    show_snp(v, rep, c);
    if (r->n_certs == 0) {
        return cli_fail(CLI_USAGE, "a bare SNP report needs its endorsements: give --certs "
                                   "(VCEK, ASK and ARK as PEM or DER)");
    }
    scitt_snp_verified *ver = scitt_calloc(1, sizeof(*ver));
    if (!ver) {
        return cli_fail(CLI_USAGE, "out of memory");
    }
    scitt_snp_verify_opts vo;
    scitt_snp_verify_opts_init(&vo, v->now);
    v->err = scitt_snp_verify(rep, c, &vo, ver, &v->why);
    if (v->err == SCITT_OK) {
        scitt_snp_policy p;
        build_policy(r, &p);
        v->err = scitt_snp_check_policy(ver, &p, &v->why);
    }
    scitt_free(ver);
    if (v->err != SCITT_OK) {
        explain(v, r);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* The library options for Intel evidence from the command line. */
static void intel_opts(const attest_req *r, const scitt_dcap_collateral *c, scitt_attest_opts *o)
{
    o->dcap_collateral = c;
    o->dcap_accept = r->accept;
    o->rtmr = r->rtmr;
    o->rtmr_set = r->rtmr_set;
    o->mrenclaves = r->mrenclave;
    o->n_mrenclaves = r->n_mrenclave;
    o->mrsigners = r->mrsigner;
    o->n_mrsigners = r->n_mrsigner;
}

/* Keeps what DCAP verification established, or at least what the quote claims. */
static void show_dcap(attest_view *v, scitt_span quote, const scitt_attest_result *res)
{
    scitt_tee_reason rs;
    v->have_quote = scitt_dcap_quote_parse(quote, &v->quote, &rs) == SCITT_OK;
    v->have_dcap = res->dcap.authentic;
    if (v->have_dcap) {
        v->dcap = res->dcap;
    }
}

/* A bare DCAP quote: verified with --collateral, no identity to bind. */
static int run_quote(const attest_req *r, scitt_span quote, const scitt_dcap_collateral *c,
                     attest_view *v)
{
    if (!c) {
        return cli_fail(CLI_USAGE, "a bare TDX or SGX quote needs its collateral: give "
                                   "--collateral DIR (docs/tee.md says what it holds)");
    }
    if (r->n_host || r->n_min_tcb || r->n_certs) {
        return cli_usage("--expect-host-data, --min-tcb and --certs apply to SEV-SNP evidence");
    }
    scitt_attest_opts o;
    memset(&o, 0, sizeof(o));
    o.now = v->now;
    o.measurements = r->meas;
    o.n_measurements = r->n_meas;
    intel_opts(r, c, &o);
    scitt_attest_result *res = scitt_calloc(1, sizeof(*res));
    if (!res) {
        return cli_fail(CLI_USAGE, "out of memory");
    }
    v->err = scitt_attest_verify_quote(quote, &o, res);
    v->why = res->why;
    memcpy(v->platform, res->platform, sizeof(v->platform));
    show_dcap(v, quote, res);
    if (v->err == SCITT_OK && r->has_report_data &&
        !scitt_ct_equal(res->report_data, r->report_data, sizeof(r->report_data))) {
        v->err = SCITT_ERR_POLICY;
        v->why = SCITT_TEE_POLICY_REPORT_DATA;
    }
    scitt_free(res);
    if (v->err != SCITT_OK) {
        explain(v, r);
        return CLI_FAIL;
    }
    return CLI_OK;
}

int attest_run(const attest_req *r, scitt_span input, attest_view *v)
{
    memset(v, 0, sizeof(*v));
    scitt_dynbuf_init(&v->bytes, 0);
    v->now = r->has_now ? r->now : (int64_t)time(NULL);
    uint8_t report[SCITT_SNP_REPORT_LEN];
    char why[400];
    attest_kind kind = attest_input_kind(input, report, why, sizeof(why));
    if (kind == ATTEST_NONE) {
        v->err = SCITT_ERR_EVIDENCE_MALFORMED;
        snprintf(v->reason, sizeof(v->reason), "%s", why);
        return CLI_FAIL;
    }
    if ((kind == ATTEST_SNP_REPORT || kind == ATTEST_DCAP_QUOTE) && r->has_nonce) {
        return cli_usage("--nonce applies to a service bundle; for a bare report or quote give "
                         "--expect-report-data");
    }
    if (kind == ATTEST_SNP_REPORT && r->intel_given) {
        return cli_usage("--collateral, --accept-tcb and --expect-mrtd/rtmr/mrenclave/mrsigner "
                         "apply to TDX and SGX evidence, not to an SEV-SNP report");
    }
    if (kind == ATTEST_DCAP_QUOTE) {
        scitt_dcap_collateral *c = NULL;
        int qrc = load_collateral(r, &c, v);
        qrc = qrc == CLI_OK ? run_quote(r, input, c, v) : qrc;
        scitt_dcap_collateral_free(c);
        return qrc;
    }
    if (kind == ATTEST_BUNDLE && r->has_report_data) {
        return cli_usage("--expect-report-data applies to a bare report; a bundle's REPORT_DATA "
                         "is computed from its identity document (and --nonce)");
    }
    scitt_snp_certs c;
    scitt_snp_certs_init(&c);
    scitt_dcap_collateral *coll = NULL;
    int rc = load_certs(r, &c, v);
    rc = rc == CLI_OK ? load_collateral(r, &coll, v) : rc;
    if (rc == CLI_OK && kind == ATTEST_SNP_REPORT) {
        rc = run_report(r, report, &c, v);
    } else if (rc == CLI_OK) {
        v->is_bundle = true;
        scitt_attest_bundle b;
        scitt_tee_reason rs = SCITT_TEE_OK;
        scitt_err e = scitt_attest_bundle_parse(input, &b);
        scitt_dynbuf pem;
        scitt_dynbuf_init(&pem, 0);
        /* --certs adds endorsements (a bundle without them, or newer ones): merged with the
         * bundle's own, and a conflicting certificate for a role is an error. */
        if (e == SCITT_OK && r->n_certs && b.endorsements.len) {
            e = scitt_snp_certs_add_pem(&c, b.endorsements, &rs);
        }
        char plat[16];
        if (e == SCITT_OK &&
            (b.platform.len >= sizeof(plat) || memchr(b.platform.ptr, 0, b.platform.len))) {
            e = SCITT_ERR_EVIDENCE_MALFORMED;
        }
        if (e == SCITT_OK && r->n_certs) {
            memcpy(plat, b.platform.ptr, b.platform.len);
            plat[b.platform.len] = 0;
            e = scitt_snp_certs_to_pem(&c, &pem);
            e = e ? e
                  : scitt_attest_bundle_encode(plat, b.identity, b.evidence,
                                               scitt_span_make(pem.ptr, pem.len), &v->bytes);
        } else if (e == SCITT_OK) {
            scitt_dynbuf_put(&v->bytes, input.ptr, input.len);
            e = v->bytes.err;
            if (b.endorsements.len && scitt_snp_certs_add_pem(&c, b.endorsements, &rs)) {
                scitt_snp_certs_clear(&c); /* shown only; the verdict reports it */
            }
        }
        scitt_dynbuf_clear(&pem);
        if (e != SCITT_OK) {
            v->err = e;
            v->why = rs;
            explain(v, r);
            rc = CLI_FAIL;
        } else {
            rc = CLI_OK;
        }
        scitt_span bytes = scitt_span_make(v->bytes.ptr, v->bytes.len);
        if (rc == CLI_OK && scitt_attest_bundle_parse(bytes, &b) == SCITT_OK) {
            memcpy(v->platform, b.platform.ptr, b.platform.len); /* shorter than 16, above */
            v->insecure = scitt_span_eq_str(b.platform, "virtual");
            if (v->insecure) {
                v->have_virtual = scitt_attest_virtual_parse(b.evidence, &v->virt) == SCITT_OK;
            } else if (scitt_span_eq_str(b.platform, "snp")) {
                show_snp(v, b.evidence, &c);
            }
            show_identity(v, b.identity);
            scitt_snp_policy p;
            build_policy(r, &p);
            scitt_attest_opts o;
            memset(&o, 0, sizeof(o));
            o.now = v->now;
            o.allow_insecure_virtual = r->allow_insecure_virtual;
            o.measurements = r->meas;
            o.n_measurements = r->n_meas;
            o.host_data = r->host;
            o.n_host_data = r->n_host;
            o.nonce = scitt_span_make(r->nonce, r->nonce_len);
            o.snp_policy = &p;
            intel_opts(r, coll, &o);
            scitt_attest_result *res = scitt_calloc(1, sizeof(*res));
            if (!res) {
                scitt_snp_certs_clear(&c);
                scitt_dcap_collateral_free(coll);
                return cli_fail(CLI_USAGE, "out of memory");
            }
            v->err = scitt_attest_verify(bytes, &o, res);
            v->why = res->why;
            if (scitt_span_eq_str(b.platform, "tdx") || scitt_span_eq_str(b.platform, "sgx")) {
                show_dcap(v, b.evidence, res);
            }
            scitt_free(res);
            if (v->err != SCITT_OK) {
                explain(v, r);
                rc = CLI_FAIL;
            }
        }
    }
    scitt_snp_certs_clear(&c);
    scitt_dcap_collateral_free(coll);
    return rc;
}

/* ---- output -------------------------------------------------------------------------------- */

static void hexline(const char *name, const uint8_t *p, size_t n)
{
    char *h = cli_hex(scitt_span_make(p, n));
    printf("%-14s %s\n", name, h ? h : "?");
    scitt_free(h);
}

static const char *signer_name(const scitt_snp_report *rep)
{
    unsigned k = SCITT_SNP_SIGNING_KEY(rep->signer_info);
    return k == SCITT_SNP_KEY_VCEK ? "VCEK" : k == SCITT_SNP_KEY_VLEK ? "VLEK" : "none";
}

/* The receipt key as "kid K, ALG" (kid as text when printable, else hex). */
static void key_text(const attest_view *v, char *out, size_t cap)
{
    if (!v->receipt_key) {
        snprintf(out, cap, "(not a usable COSE_Key)");
        return;
    }
    scitt_span kid = scitt_cose_key_kid(v->receipt_key);
    char *h = cli_hex(kid);
    const char *alg = scitt_cose_alg_name(scitt_cose_key_alg(v->receipt_key));
    snprintf(out, cap, "kid %s, %s", h ? h : "?", alg ? alg : "no alg");
    scitt_free(h);
}

/* TDX / SGX fields: verified ones, or what an unverified quote claims. */
static void print_dcap(const attest_view *v)
{
    if (!v->have_dcap && !v->have_quote) {
        return;
    }
    const scitt_dcap_result *d = &v->dcap;
    bool tdx = v->have_dcap ? d->tee == SCITT_DCAP_TEE_TDX : v->quote.tee == SCITT_DCAP_TEE_TDX;
    const scitt_dcap_td_report *td = v->have_dcap ? &d->td : &v->quote.td;
    const scitt_dcap_enclave_report *en = v->have_dcap ? &d->enclave : &v->quote.enclave;
    printf("%-14s Intel %s, quote version %u%s\n", "tee:", tdx ? "TDX" : "SGX",
           v->have_dcap ? d->quote_version : v->quote.version,
           v->have_dcap ? "" : " (what the quote claims, NOT established)");
    if (tdx) {
        hexline("mrtd:", td->mrtd, 48);
        for (int i = 0; i < 4; i++) {
            char name[16];
            snprintf(name, sizeof(name), "rtmr%d:", i);
            hexline(name, td->rtmr[i], 48);
        }
        hexline("mrseam:", td->mrseam, 48);
        hexline("td_attributes:", td->td_attributes, 8);
        hexline("report_data:", td->report_data, 64);
    } else {
        hexline("mrenclave:", en->mrenclave, 32);
        hexline("mrsigner:", en->mrsigner, 32);
        printf("%-14s %u\n", "isv_prod_id:", en->isv_prod_id);
        printf("%-14s %u\n", "isv_svn:", en->isv_svn);
        hexline("attributes:", en->attributes, 16);
        hexline("report_data:", en->report_data, 64);
    }
    if (!v->have_dcap) {
        return;
    }
    hexline("fmspc:", d->fmspc, 6);
    printf("%-14s %s (platform %s, QE %s%s%s)\n",
           "tcb_status:", scitt_dcap_tcb_status_name(d->tcb_status),
           scitt_dcap_tcb_status_name(d->platform_status), scitt_dcap_tcb_status_name(d->qe_status),
           tdx ? ", TDX module " : "", tdx ? scitt_dcap_tcb_status_name(d->tdx_module_status) : "");
    printf("%-14s", "advisory_ids:");
    for (size_t i = 0; i < d->n_advisory_ids; i++) {
        printf(" %s", d->advisory_ids[i]);
    }
    printf("%s\n", d->n_advisory_ids ? "" : " none");
    printf("%-14s PCK CRL %s, root CA CRL %s\n",
           "revocation:", d->pck_crl_checked ? "checked" : "NOT checked",
           d->root_crl_checked ? "checked" : "NOT checked");
    char from[32], until[32];
    time_t f = (time_t)d->valid_from, u = (time_t)d->valid_until;
    struct tm tf, tu;
    strftime(from, sizeof(from), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&f, &tf));
    strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&u, &tu));
    printf("%-14s %s .. %s (re-verify with fresh collateral after)\n", "valid:", from, until);
}

static void print_text(const attest_view *v, const attest_req *r, const char *file)
{
    printf("%-14s %s (%s%s%s)\n", "input:", file,
           v->is_bundle    ? "service bundle"
           : v->have_quote ? "DCAP quote"
                           : "SNP report",
           v->platform[0] ? ", platform " : "", v->platform);
    print_dcap(v);
    if (v->have_virtual) {
        printf("%-14s virtual: INSECURE, unsigned evidence made by software\n", "platform:");
        hexline("measurement:", v->virt.measurement, sizeof(v->virt.measurement));
        hexline("report_data:", v->virt.report_data, sizeof(v->virt.report_data));
    }
    if (v->have_report) {
        const scitt_snp_report *p = &v->report;
        char prod[80] = "";
        const char *pname = scitt_snp_product_name(v->product);
        if (v->product_name[0]) {
            snprintf(prod, sizeof(prod), ", %s (VCEK %s)", pname, v->product_name);
        } else if (v->product) {
            snprintf(prod, sizeof(prod), ", %s", pname);
        }
        printf("%-14s AMD SEV-SNP%s\n", "platform:", prod);
        hexline("measurement:", p->measurement, sizeof(p->measurement));
        hexline("host_data:", p->host_data, sizeof(p->host_data));
        hexline("report_data:", p->report_data, sizeof(p->report_data));
        printf("%-14s 0x%llx (debug %s, migration agent %s, SMT %s)\n",
               "policy:", (unsigned long long)p->policy,
               p->policy & SCITT_SNP_POLICY_DEBUG ? "ALLOWED" : "off",
               p->policy & SCITT_SNP_POLICY_MIGRATE_MA ? "allowed" : "off",
               p->policy & SCITT_SNP_POLICY_SMT ? "allowed" : "off");
        printf("%-14s %u\n", "vmpl:", p->vmpl);
        printf("%-14s 0x%016llx", "reported_tcb:", (unsigned long long)p->reported_tcb);
        if (v->have_tcb) {
            printf(" (bl %u, tee %u, snp %u, ucode %u", v->tcb.bootloader, v->tcb.tee, v->tcb.snp,
                   v->tcb.microcode);
            if (v->product == SCITT_SNP_TURIN) {
                printf(", fmc %u", v->tcb.fmc);
            }
            printf(")");
        }
        printf("\n");
        hexline("chip_id:", p->chip_id, sizeof(p->chip_id));
        printf("%-14s %s\n", "product:", v->product ? pname : "unknown (no VCEK to name it)");
        printf("%-14s %u (firmware %u.%u.%u, guest svn %u, signed by the %s)\n",
               "version:", p->version, p->current_version.major, p->current_version.minor,
               p->current_version.build, p->guest_svn, signer_name(p));
        if (v->have_ark) {
            char *h = cli_hex(scitt_span_make(v->ark_sha256, 32));
            printf("%-14s sha256 %s%s\n", "ark:", h ? h : "?",
                   v->err == SCITT_OK ? " (the pinned AMD root)" : "");
            scitt_free(h);
        }
    }
    if (v->have_identity) {
        char k[400], t[600];
        if (v->err != SCITT_OK) {
            printf("%-14s what the bundle claims, NOT established:\n", "identity:");
        }
        key_text(v, k, sizeof(k));
        printf("%-14s %s\n", "receipt key:", k);
        scitt_client_printable(v->identity.vkey, t, sizeof(t));
        printf("%-14s %s\n", "note key:", t);
        scitt_client_printable(v->identity.issuer, t, sizeof(t));
        printf("%-14s %s\n", "issuer:", t);
        scitt_client_printable(v->identity.origin, t, sizeof(t));
        printf("%-14s %s\n", "origin:", t);
        if (v->err == SCITT_OK) {
            char *n = cli_hex(scitt_span_make(r->nonce, r->nonce_len));
            printf("%-14s REPORT_DATA = SHA-256(identity) || %s%s\n",
                   "binding:", r->has_nonce ? "nonce " : "zeros", r->has_nonce && n ? n : "");
            scitt_free(n);
        }
    }
    if (v->err != SCITT_OK) {
        printf("%-14s NOT VERIFIED: %s\n", "verdict:", v->reason);
        return;
    }
    if (v->insecure) {
        printf("%-14s INSECURE: virtual evidence accepted only because of "
               "--allow-insecure-virtual; nothing about the hardware or the code is proven\n",
               "verdict:");
        return;
    }
    if (v->have_dcap) {
        bool tdx = v->dcap.tee == SCITT_DCAP_TEE_TDX;
        bool pinned = tdx ? r->n_meas || r->rtmr_set : r->n_mrenclave || r->n_mrsigner;
        printf("%-14s VERIFIED: an Intel %s quote to the pinned Intel SGX Root CA, TCB %s%s%s\n",
               "verdict:", tdx ? "TDX" : "SGX", scitt_dcap_tcb_status_name(v->dcap.tcb_status),
               v->is_bundle ? ", the identity's keys are bound to it" : "",
               pinned ? ", measurements as expected" : "");
        if (!pinned) {
            printf("%-14s no measurement was checked (%s): authentic evidence from *some* %s, "
                   "not necessarily yours\n",
                   "warning:",
                   tdx ? "--expect-mrtd, --expect-rtmr"
                       : "--expect-mrenclave, "
                         "--expect-mrsigner",
                   tdx ? "TD" : "enclave");
        }
        return;
    }
    printf("%-14s VERIFIED: signed by AMD firmware on a genuine %s chip (pinned root)%s%s\n",
           "verdict:", scitt_snp_product_name(v->product),
           v->is_bundle ? ", the identity's keys are bound to it" : "",
           r->n_meas ? ", measurement as expected" : "");
    if (!r->n_meas) {
        printf("%-14s the measurement was not checked (no --expect-measurement): authentic "
               "evidence from *some* guest, not necessarily yours\n",
               "warning:");
    }
}

static void json_report(scitt_json_writer *j, const attest_view *v)
{
    const scitt_snp_report *p = &v->report;
    char buf[40];
    scitt_json_put_key(j, "report");
    scitt_json_begin_object(j);
    scitt_json_put_key(j, "version");
    scitt_json_put_uint(j, p->version);
    scitt_json_put_key(j, "guest_svn");
    scitt_json_put_uint(j, p->guest_svn);
    snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)p->policy);
    scitt_json_put_key(j, "policy");
    scitt_json_put_cstr(j, buf);
    scitt_json_put_key(j, "debug");
    scitt_json_put_bool(j, (p->policy & SCITT_SNP_POLICY_DEBUG) != 0);
    scitt_json_put_key(j, "vmpl");
    scitt_json_put_uint(j, p->vmpl);
    scitt_json_put_key(j, "measurement");
    scitt_json_put_hex(j, scitt_span_make(p->measurement, sizeof(p->measurement)));
    scitt_json_put_key(j, "host_data");
    scitt_json_put_hex(j, scitt_span_make(p->host_data, sizeof(p->host_data)));
    scitt_json_put_key(j, "report_data");
    scitt_json_put_hex(j, scitt_span_make(p->report_data, sizeof(p->report_data)));
    snprintf(buf, sizeof(buf), "0x%016llx", (unsigned long long)p->reported_tcb);
    scitt_json_put_key(j, "reported_tcb");
    scitt_json_put_cstr(j, buf);
    if (v->have_tcb) {
        scitt_json_put_key(j, "reported_tcb_parts");
        scitt_json_begin_object(j);
        scitt_json_put_key(j, "bootloader");
        scitt_json_put_uint(j, v->tcb.bootloader);
        scitt_json_put_key(j, "tee");
        scitt_json_put_uint(j, v->tcb.tee);
        scitt_json_put_key(j, "snp");
        scitt_json_put_uint(j, v->tcb.snp);
        scitt_json_put_key(j, "microcode");
        scitt_json_put_uint(j, v->tcb.microcode);
        scitt_json_put_key(j, "fmc");
        scitt_json_put_uint(j, v->tcb.fmc);
        scitt_json_end_object(j);
    }
    scitt_json_put_key(j, "chip_id");
    scitt_json_put_hex(j, scitt_span_make(p->chip_id, sizeof(p->chip_id)));
    scitt_json_put_key(j, "report_id");
    scitt_json_put_hex(j, scitt_span_make(p->report_id, sizeof(p->report_id)));
    scitt_json_put_key(j, "product");
    scitt_json_put_cstr(j, scitt_snp_product_name(v->product));
    scitt_json_put_key(j, "product_name");
    scitt_json_put_cstr(j, v->product_name);
    snprintf(buf, sizeof(buf), "%u.%u.%u", p->current_version.major, p->current_version.minor,
             p->current_version.build);
    scitt_json_put_key(j, "current_version");
    scitt_json_put_cstr(j, buf);
    scitt_json_put_key(j, "signer");
    scitt_json_put_cstr(j, signer_name(p));
    if (v->have_ark) {
        scitt_json_put_key(j, "ark_sha256");
        scitt_json_put_hex(j, scitt_span_make(v->ark_sha256, 32));
    }
    scitt_json_end_object(j);
}

/* The verified TDX / SGX fields, under the names docs/cli.md gives (hex in lowercase). */
static void json_dcap(scitt_json_writer *j, const scitt_dcap_result *d)
{
    bool tdx = d->tee == SCITT_DCAP_TEE_TDX;
    scitt_json_put_key(j, "tee");
    scitt_json_put_cstr(j, tdx ? "tdx" : "sgx");
    scitt_json_put_key(j, "tcb_status");
    scitt_json_put_cstr(j, scitt_dcap_tcb_status_name(d->tcb_status));
    scitt_json_put_key(j, "advisory_ids");
    scitt_json_begin_array(j);
    for (size_t i = 0; i < d->n_advisory_ids; i++) {
        scitt_json_put_cstr(j, d->advisory_ids[i]);
    }
    scitt_json_end_array(j);
    scitt_json_put_key(j, "fmspc");
    scitt_json_put_hex(j, scitt_span_make(d->fmspc, 6));
    if (tdx) {
        scitt_json_put_key(j, "mrtd");
        scitt_json_put_hex(j, scitt_span_make(d->td.mrtd, 48));
        scitt_json_put_key(j, "rtmr");
        scitt_json_begin_array(j);
        for (int i = 0; i < 4; i++) {
            scitt_json_put_hex(j, scitt_span_make(d->td.rtmr[i], 48));
        }
        scitt_json_end_array(j);
        scitt_json_put_key(j, "mrseam");
        scitt_json_put_hex(j, scitt_span_make(d->td.mrseam, 48));
        scitt_json_put_key(j, "td_attributes");
        scitt_json_put_hex(j, scitt_span_make(d->td.td_attributes, 8));
        scitt_json_put_key(j, "report_data");
        scitt_json_put_hex(j, scitt_span_make(d->td.report_data, 64));
    } else {
        scitt_json_put_key(j, "mrenclave");
        scitt_json_put_hex(j, scitt_span_make(d->enclave.mrenclave, 32));
        scitt_json_put_key(j, "mrsigner");
        scitt_json_put_hex(j, scitt_span_make(d->enclave.mrsigner, 32));
        scitt_json_put_key(j, "isv_prod_id");
        scitt_json_put_uint(j, d->enclave.isv_prod_id);
        scitt_json_put_key(j, "isv_svn");
        scitt_json_put_uint(j, d->enclave.isv_svn);
        scitt_json_put_key(j, "report_data");
        scitt_json_put_hex(j, scitt_span_make(d->enclave.report_data, 64));
    }
    scitt_json_put_key(j, "pck_crl_checked");
    scitt_json_put_bool(j, d->pck_crl_checked);
    scitt_json_put_key(j, "root_crl_checked");
    scitt_json_put_bool(j, d->root_crl_checked);
    scitt_json_put_key(j, "valid_until");
    scitt_json_put_int(j, d->valid_until);
}

void attest_json(scitt_json_writer *j, const attest_view *v, const attest_req *r)
{
    scitt_json_begin_object(j);
    scitt_json_put_key(j, "ok");
    scitt_json_put_bool(j, v->err == SCITT_OK);
    scitt_json_put_key(j, "verdict");
    scitt_json_put_cstr(j, v->err ? "failed" : (v->insecure ? "insecure" : "verified"));
    scitt_json_put_key(j, "insecure");
    scitt_json_put_bool(j, v->insecure);
    scitt_json_put_key(j, "input");
    scitt_json_put_cstr(j, v->is_bundle    ? "service bundle"
                           : v->have_quote ? "dcap quote"
                                           : "snp report");
    scitt_json_put_key(j, "platform");
    scitt_json_put_cstr(j, v->platform);
    if (v->err != SCITT_OK) {
        scitt_json_put_key(j, "error");
        scitt_json_put_cstr(j, scitt_err_name(v->err));
        scitt_json_put_key(j, "reason");
        scitt_json_put_cstr(j, v->reason);
        scitt_json_put_key(j, "check");
        scitt_json_put_cstr(j, scitt_tee_reason_name(v->why));
    }
    if (v->have_report) {
        json_report(j, v);
    }
    if (v->have_dcap) {
        json_dcap(j, &v->dcap);
    }
    if (v->have_virtual) {
        scitt_json_put_key(j, "virtual");
        scitt_json_begin_object(j);
        scitt_json_put_key(j, "measurement");
        scitt_json_put_hex(j, scitt_span_make(v->virt.measurement, sizeof(v->virt.measurement)));
        scitt_json_put_key(j, "report_data");
        scitt_json_put_hex(j, scitt_span_make(v->virt.report_data, sizeof(v->virt.report_data)));
        scitt_json_end_object(j);
    }
    if (v->have_identity) {
        scitt_json_put_key(j, "identity");
        scitt_json_begin_object(j);
        scitt_json_put_key(j, "sha256");
        scitt_json_put_hex(j, scitt_span_make(v->identity_sha256, 32));
        if (v->receipt_key) {
            const char *alg = scitt_cose_alg_name(scitt_cose_key_alg(v->receipt_key));
            scitt_json_put_key(j, "receipt_kid");
            scitt_json_put_hex(j, scitt_cose_key_kid(v->receipt_key));
            scitt_json_put_key(j, "receipt_alg");
            scitt_json_put_cstr(j, alg ? alg : "");
        }
        scitt_json_put_key(j, "note_key");
        scitt_json_put_text(j, v->identity.vkey);
        scitt_json_put_key(j, "issuer");
        scitt_json_put_text(j, v->identity.issuer);
        scitt_json_put_key(j, "origin");
        scitt_json_put_text(j, v->identity.origin);
        scitt_json_end_object(j);
    }
    scitt_json_put_key(j, "expected");
    scitt_json_begin_object(j);
    scitt_json_put_key(j, "measurements");
    scitt_json_put_uint(j, r->n_meas);
    scitt_json_put_key(j, "host_data");
    scitt_json_put_uint(j, r->n_host);
    scitt_json_put_key(j, "min_tcb");
    scitt_json_put_uint(j, r->n_min_tcb);
    scitt_json_put_key(j, "nonce");
    if (r->has_nonce) {
        scitt_json_put_hex(j, scitt_span_make(r->nonce, r->nonce_len));
    } else {
        scitt_json_put_null(j);
    }
    scitt_json_put_key(j, "time");
    scitt_json_put_int(j, v->now);
    scitt_json_end_object(j);
    scitt_json_end_object(j);
}

void attest_print(const attest_view *v, const attest_req *r, const char *file, bool json)
{
    if (!json) {
        print_text(v, r, file);
        return;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_json_writer j;
    scitt_json_writer_init(&j, &b);
    attest_json(&j, v, r);
    cli_json_print(&j);
}

void attest_summary(const attest_view *v, const attest_req *r, char *out, size_t cap)
{
    char k[400], iss[300];
    key_text(v, k, sizeof(k));
    scitt_client_printable(v->identity.issuer, iss, sizeof(iss));
    if (v->insecure) {
        snprintf(out, cap,
                 "INSECURE virtual evidence accepted (--allow-insecure-virtual, measurement %s): "
                 "receipt key %s of %s",
                 r->n_meas ? "as expected" : "not checked", k, iss);
        return;
    }
    if (v->have_dcap) {
        snprintf(out, cap,
                 "Intel %s evidence verified to the pinned Intel SGX Root CA (TCB %s), "
                 "measurements as expected, binds receipt key %s of %s",
                 v->dcap.tee == SCITT_DCAP_TEE_TDX ? "TDX" : "SGX",
                 scitt_dcap_tcb_status_name(v->dcap.tcb_status), k, iss);
        return;
    }
    snprintf(out, cap,
             "SEV-SNP evidence verified to the pinned AMD %s root, measurement as expected, "
             "binds receipt key %s of %s",
             scitt_snp_product_name(v->product), k, iss);
}

void attest_warn_insecure(void)
{
    cli_msg("WARNING: INSECURE virtual evidence accepted (--allow-insecure-virtual): it is "
            "unsigned and proves nothing about the hardware or the code holding the keys");
}

int attest_trust_bundle(const char *file, const attest_req *r, trust *t, attest_view *v)
{
    memset(v, 0, sizeof(*v));
    scitt_dynbuf_init(&v->bytes, 0);
    scitt_dynbuf in;
    int rc = cli_slurp(file, ATTEST_FILE_MAX, &in);
    if (rc != CLI_OK) {
        return rc;
    }
    scitt_attest_bundle b;
    scitt_span s = scitt_span_make(in.ptr, in.len);
    if (scitt_attest_bundle_parse(s, &b) != SCITT_OK) {
        v->err = SCITT_ERR_EVIDENCE_MALFORMED;
        snprintf(v->reason, sizeof(v->reason), "%s is not a service bundle", file);
    } else if (scitt_span_eq_str(b.platform, "snp") && r->n_meas == 0) {
        rc = cli_usage("%s holds SEV-SNP evidence: --expect-measurement is required, since "
                       "authentic evidence says only that *some* guest holds the keys",
                       file);
    } else if (scitt_span_eq_str(b.platform, "tdx") && r->n_meas == 0) {
        rc = cli_usage("%s holds TDX evidence: --expect-mrtd is required, since authentic "
                       "evidence says only that *some* TD holds the keys",
                       file);
    } else if (scitt_span_eq_str(b.platform, "sgx") && !r->n_mrenclave && !r->n_mrsigner) {
        rc = cli_usage("%s holds SGX evidence: --expect-mrenclave or --expect-mrsigner is "
                       "required, since authentic evidence says only that *some* enclave holds "
                       "the keys",
                       file);
    } else {
        rc = attest_run(r, s, v);
        rc = rc == CLI_FAIL ? CLI_OK : rc; /* v->err carries the failed check */
    }
    scitt_dynbuf_clear(&in);
    if (rc == CLI_OK && v->err == SCITT_OK && !v->receipt_key) {
        v->err = SCITT_ERR_KEY_MALFORMED;
        snprintf(v->reason, sizeof(v->reason),
                 "the identity's receipt key is not a usable COSE_Key");
    }
    if (rc == CLI_OK && v->err == SCITT_OK) {
        char from[600];
        snprintf(from, sizeof(from), "service bundle %s", file);
        rc = trust_add(t, v->receipt_key, from);
    }
    return rc;
}
