/*
 * Offline verification of DCAP quotes against a collateral set (scitt/dcap.h lists the steps).
 * Everything is checked on every call: no verification result is remembered between calls, so a
 * collateral set can be shared by threads and replaced at any time. Only parsing is shared: the
 * quote's certificates and attestation key come from the set's parse cache (dcap_cache.c).
 */
#include "scitt/dcap.h"

#include <string.h>

#include "tee_internal.h"

/* SHA-256 of the DER of CN=Intel SGX Root CA (serial 22650cd6...), the only trust anchor. */
const uint8_t scitt_dcap_intel_root_sha256[32] = {
    0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49, 0xe9, 0x5b, 0x80, 0x7a, 0x35,
    0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85, 0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3};

void scitt_dcap_verify_opts_init(scitt_dcap_verify_opts *o, int64_t now)
{
    memset(o, 0, sizeof(*o));
    o->now = now;
    o->accept = SCITT_DCAP_ACCEPT_DEFAULT;
}

typedef struct vstate {
    const scitt_dcap_verify_opts *o;
    const uint8_t *pin;
    const scitt_dcap_collateral *col;
    scitt_dcap_quote q;
    scitt_dynbuf pem_der;
    scitt__x509 *leaf, *ca, *root;
    scitt_dcap_pck_ext ext;
    scitt_dcap_result *r; /* the working result, copied out at the end */
} vstate;

static scitt_err rej(vstate *s, scitt_tee_reason why, scitt_err err)
{
    s->r->why = why;
    return err;
}

static void narrow(vstate *s, int64_t from, int64_t until)
{
    if (from > s->r->valid_from) {
        s->r->valid_from = from;
    }
    if (until < s->r->valid_until) {
        s->r->valid_until = until;
    }
}

/* The certificate is valid at now (inclusive bounds), and narrows the window. */
static scitt_err check_time(vstate *s, const scitt__dcap_cert_info *i)
{
    if (s->o->now < i->not_before) {
        return rej(s, SCITT_TEE_CERT_NOT_YET_VALID, SCITT_ERR_EXPIRED);
    }
    if (s->o->now > i->not_after) {
        return rej(s, SCITT_TEE_CERT_EXPIRED, SCITT_ERR_EXPIRED);
    }
    narrow(s, i->not_before, i->not_after);
    return SCITT_OK;
}

/* @p child is issued and signed by the CA @p parent, both with P-256 keys. */
static scitt_err check_link(vstate *s, const scitt__x509 *child, const scitt__dcap_cert_info *ci,
                            const scitt__x509 *parent, const scitt__dcap_cert_info *pi,
                            scitt_tee_reason bad_sig)
{
    if (!scitt__dcap_cert_issued_by(child, parent)) {
        return rej(s, SCITT_TEE_DCAP_CHAIN_NAMES, SCITT_ERR_CERT_CHAIN);
    }
    if (!ci->p256 || !pi->p256 || !pi->is_ca) {
        return rej(s, SCITT_TEE_DCAP_CHAIN_KEY, SCITT_ERR_CERT_CHAIN);
    }
    if (scitt__dcap_cert_check_signed(child, parent) != SCITT_OK) {
        return rej(s, bad_sig, SCITT_ERR_CERT_CHAIN);
    }
    return SCITT_OK;
}

static scitt_err info(vstate *s, const scitt__x509 *c, scitt__dcap_cert_info *i,
                      scitt_tee_reason why)
{
    scitt_err err = scitt__dcap_cert_info_get(c, i);
    return err == SCITT_OK ? SCITT_OK : rej(s, why, err);
}

/* Step 1. */
static scitt_err step_quote(vstate *s, scitt_span quote)
{
    scitt_tee_reason why = SCITT_TEE_OK;
    scitt_err err = scitt_dcap_quote_parse(quote, &s->q, &why);
    if (err != SCITT_OK) {
        return rej(s, why, err);
    }
    /* Nothing signs the bytes after the signature data. Zeros are how a fixed-size buffer from
     * the quote generation service arrives; anything else is refused unless asked for. */
    if (s->q.trailing_len && !s->q.trailing_zero && !s->o->allow_trailing) {
        return rej(s, SCITT_TEE_DCAP_TRAILING, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    return SCITT_OK;
}

/* Step 2: leaf <- PCK CA <- pinned root, from the quote's certification data. */
static scitt_err step_pck_chain(vstate *s)
{
    scitt_span der[SCITT__DCAP_CHAIN_MAX];
    size_t n = 0;
    scitt_err err = scitt__dcap_pem_decode(s->q.cert_data, "CERTIFICATE", &s->pem_der, der,
                                           SCITT__DCAP_CHAIN_MAX, &n);
    if (err == SCITT_ERR_NOMEM) {
        return rej(s, SCITT_TEE_DCAP_PCK_CHAIN, err);
    }
    if (err != SCITT_OK || n != 3) {
        return rej(s, SCITT_TEE_DCAP_PCK_CHAIN, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    uint8_t fp[32];
    scitt_sha256(der[2].ptr, der[2].len, fp);
    if (memcmp(fp, s->pin, 32) != 0) {
        return rej(s, SCITT_TEE_DCAP_ROOT_NOT_PINNED, SCITT_ERR_UNTRUSTED);
    }
    memcpy(s->r->root_sha256, fp, 32);
    scitt__x509 **dst[3] = {&s->leaf, &s->ca, &s->root};
    for (int i = 0; i < 3; i++) {
        err = scitt__dcap_cache_cert(s->col->cache, der[i], dst[i]);
        if (err != SCITT_OK) {
            return rej(s, SCITT_TEE_DCAP_PCK_CHAIN, err);
        }
    }
    scitt__dcap_cert_info li, ci, ri;
    if ((err = info(s, s->leaf, &li, SCITT_TEE_DCAP_PCK_CHAIN)) ||
        (err = info(s, s->ca, &ci, SCITT_TEE_DCAP_PCK_CHAIN)) ||
        (err = info(s, s->root, &ri, SCITT_TEE_DCAP_PCK_CHAIN))) {
        return err;
    }
    /* The root is trusted because it is the pinned certificate, not because it signs itself. */
    if (!scitt__dcap_cert_issued_by(s->root, s->root)) {
        return rej(s, SCITT_TEE_DCAP_CHAIN_NAMES, SCITT_ERR_CERT_CHAIN);
    }
    if ((err = check_link(s, s->ca, &ci, s->root, &ri, SCITT_TEE_DCAP_CHAIN_SIG)) ||
        (err = check_link(s, s->leaf, &li, s->ca, &ci, SCITT_TEE_DCAP_CHAIN_SIG))) {
        return err;
    }
    if (!li.signer) {
        return rej(s, SCITT_TEE_DCAP_LEAF_USAGE, SCITT_ERR_CERT_CHAIN);
    }
    if ((err = check_time(s, &ri)) || (err = check_time(s, &ci)) || (err = check_time(s, &li))) {
        return err;
    }
    return SCITT_OK;
}

/* One CRL: issued and signed by @p issuer, current, @p subject not listed. */
static scitt_err check_crl(vstate *s, const scitt__dcap_crl *crl, const scitt__x509 *issuer,
                           const scitt__x509 *subject)
{
    if (!scitt__dcap_crl_issued_by(crl, issuer)) {
        return rej(s, SCITT_TEE_DCAP_CRL_ISSUER, SCITT_ERR_CERT_CHAIN);
    }
    if (scitt__dcap_crl_check_signed(crl, issuer) != SCITT_OK) {
        return rej(s, SCITT_TEE_DCAP_CRL_SIG, SCITT_ERR_CERT_CHAIN);
    }
    int64_t this_update, next_update;
    if (scitt__dcap_crl_times(crl, &this_update, &next_update) != SCITT_OK) {
        return rej(s, SCITT_TEE_DCAP_CRL_PARSE, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    if (s->o->now < this_update || s->o->now > next_update) {
        return rej(s, SCITT_TEE_DCAP_CRL_EXPIRED, SCITT_ERR_EXPIRED);
    }
    narrow(s, this_update, next_update);
    if (subject && scitt__dcap_crl_lists(crl, subject)) {
        return rej(s, SCITT_TEE_DCAP_REVOKED, SCITT_ERR_CERT_CHAIN);
    }
    return SCITT_OK;
}

/* Step 3. */
static scitt_err step_crls(vstate *s)
{
    const scitt_dcap_collateral *c = s->col;
    scitt_err err;
    if (c->root_crl) {
        if ((err = check_crl(s, c->root_crl, s->root, s->ca))) {
            return err;
        }
        s->r->root_crl_checked = true;
    }
    if (c->pck_crl) {
        if ((err = check_crl(s, c->pck_crl, s->ca, s->leaf))) {
            return err;
        }
        s->r->pck_crl_checked = true;
    }
    if (c->pck_crl_chain.n) {
        /* A consistency check of the file the PCS sends with the CRL: the CA it names is the
         * quote's (same subject, signed by the pinned root). */
        const scitt__dcap_chain *ch = &c->pck_crl_chain;
        scitt__dcap_cert_info ci, ri;
        if (ch->n != 2 || memcmp(ch->sha256[1], s->pin, 32) != 0 ||
            scitt__dcap_cert_info_get(ch->cert[0], &ci) != SCITT_OK ||
            scitt__dcap_cert_info_get(ch->cert[1], &ri) != SCITT_OK ||
            !scitt__dcap_cert_issued_by(s->leaf, ch->cert[0]) || !ci.p256 || !ri.is_ca ||
            !scitt__dcap_cert_issued_by(ch->cert[0], ch->cert[1]) ||
            scitt__dcap_cert_check_signed(ch->cert[0], ch->cert[1]) != SCITT_OK) {
            return rej(s, SCITT_TEE_DCAP_PCK_CRL_CHAIN, SCITT_ERR_CERT_CHAIN);
        }
    }
    return SCITT_OK;
}

/* Step 4. */
static scitt_err step_ext(vstate *s)
{
    scitt_span v;
    scitt_err err = scitt__dcap_cert_sgx_ext(s->leaf, &v);
    if (err != SCITT_OK) {
        return rej(s, SCITT_TEE_DCAP_PCK_EXTENSION, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    scitt_tee_reason why;
    err = scitt_dcap_pck_ext_parse(v, &s->ext, &why);
    return err == SCITT_OK ? SCITT_OK : rej(s, why, err);
}

/* Step 5: QE report signature, quote signature, and the binding between them. */
static scitt_err step_signatures(vstate *s)
{
    const scitt_dcap_quote *q = &s->q;
    if (scitt__dcap_cert_verify(s->leaf, q->qe_report, q->qe_report_signature) != SCITT_OK) {
        return rej(s, SCITT_TEE_DCAP_QE_REPORT_SIG, SCITT_ERR_SIGNATURE);
    }
    scitt__dcap_key *ak = NULL;
    scitt_err err = scitt__dcap_cache_key(s->col->cache, q->att_key, &ak);
    if (err == SCITT_OK) {
        err = scitt__dcap_key_check(ak, q->signed_part, q->signature);
    }
    scitt__dcap_key_free(ak);
    if (err == SCITT_ERR_KEY_MALFORMED) {
        return rej(s, SCITT_TEE_DCAP_ATT_KEY, SCITT_ERR_SIGNATURE);
    }
    if (err != SCITT_OK) {
        return rej(s, SCITT_TEE_DCAP_QUOTE_SIG, SCITT_ERR_SIGNATURE);
    }
    uint8_t h[32];
    scitt_span parts[2] = {scitt_span_make(q->att_key, 64), q->qe_auth_data};
    scitt_sha256_v(parts, 2, h);
    static const uint8_t zero[32];
    if (memcmp(h, q->qe.report_data, 32) != 0 || memcmp(q->qe.report_data + 32, zero, 32) != 0) {
        return rej(s, SCITT_TEE_DCAP_QE_BINDING, SCITT_ERR_BINDING);
    }
    return SCITT_OK;
}

/* The TCB Signing certificate of an issuer chain: [signer, pinned root] or [signer] (then the
 * quote's pinned root is the parent). Returns the checked signer. */
static scitt_err check_signer(vstate *s, const scitt__dcap_chain *ch, const scitt__x509 **out)
{
    const scitt__x509 *root = s->root;
    if (ch->n == 2) {
        if (memcmp(ch->sha256[1], s->pin, 32) != 0) {
            return rej(s, SCITT_TEE_DCAP_ROOT_NOT_PINNED, SCITT_ERR_UNTRUSTED);
        }
        root = ch->cert[1];
    } else if (ch->n != 1) {
        return rej(s, SCITT_TEE_DCAP_TCB_SIGNER, SCITT_ERR_CERT_CHAIN);
    }
    scitt__dcap_cert_info si, ri;
    scitt_err err;
    if ((err = info(s, ch->cert[0], &si, SCITT_TEE_DCAP_TCB_SIGNER)) ||
        (err = info(s, root, &ri, SCITT_TEE_DCAP_TCB_SIGNER)) ||
        (err = check_link(s, ch->cert[0], &si, root, &ri, SCITT_TEE_DCAP_TCB_SIGNER)) ||
        (err = check_time(s, &si))) {
        return err;
    }
    if (!si.signer) {
        return rej(s, SCITT_TEE_DCAP_LEAF_USAGE, SCITT_ERR_CERT_CHAIN);
    }
    if (s->col->root_crl && scitt__dcap_crl_lists(s->col->root_crl, ch->cert[0])) {
        return rej(s, SCITT_TEE_DCAP_REVOKED, SCITT_ERR_CERT_CHAIN);
    }
    *out = ch->cert[0];
    return SCITT_OK;
}

static scitt_err check_doc_sig(vstate *s, const scitt__dcap_doc *d, const scitt__x509 *signer,
                               scitt_tee_reason bad_sig)
{
    if (scitt__dcap_cert_verify(signer, d->body, d->sig) != SCITT_OK) {
        return rej(s, bad_sig, SCITT_ERR_SIGNATURE);
    }
    return SCITT_OK;
}

static scitt_err check_window(vstate *s, const scitt__dcap_doc *d)
{
    if (s->o->now < d->issue_date || s->o->now > d->next_update) {
        return rej(s, SCITT_TEE_DCAP_COLLATERAL_EXPIRED, SCITT_ERR_EXPIRED);
    }
    narrow(s, d->issue_date, d->next_update);
    return SCITT_OK;
}

/* (value & mask) == want, byte by byte. */
static bool masked_eq(const uint8_t *value, const uint8_t *mask, const uint8_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((value[i] & mask[i]) != want[i]) {
            return false;
        }
    }
    return true;
}

/* Step 6 and 7: signed collateral, and that it belongs to this quote. */
static scitt_err step_collateral(vstate *s)
{
    const scitt_dcap_collateral *c = s->col;
    const scitt__dcap_doc *ti = c->tcb_info, *qi = c->qe_identity;
    const scitt__x509 *ti_signer = NULL, *qi_signer = NULL;
    scitt_err err;
    if ((err = check_signer(s, &c->tcb_info_chain, &ti_signer))) {
        return err;
    }
    /* The PCS signs both documents with one certificate: check it once when it is the same. */
    if (c->qe_identity_chain.n == c->tcb_info_chain.n &&
        memcmp(c->qe_identity_chain.sha256, c->tcb_info_chain.sha256, c->tcb_info_chain.n * 32) ==
            0) {
        qi_signer = ti_signer;
    } else if ((err = check_signer(s, &c->qe_identity_chain, &qi_signer))) {
        return err;
    }
    if ((err = check_doc_sig(s, ti, ti_signer, SCITT_TEE_DCAP_TCB_INFO_SIG)) ||
        (err = check_doc_sig(s, qi, qi_signer, SCITT_TEE_DCAP_QE_IDENTITY_SIG))) {
        return err;
    }
    /* Whether the documents are for this platform comes before whether they are current, so a
     * wrong file is named as such. */
    bool tdx = s->q.tee == SCITT_DCAP_TEE_TDX;
    if (strcmp(ti->id, tdx ? "TDX" : "SGX") != 0) {
        return rej(s, SCITT_TEE_DCAP_TCB_INFO_TEE, SCITT_ERR_EVIDENCE);
    }
    if (memcmp(ti->fmspc, s->ext.fmspc, 6) != 0 || memcmp(ti->pce_id, s->ext.pce_id, 2) != 0) {
        return rej(s, SCITT_TEE_DCAP_FMSPC, SCITT_ERR_EVIDENCE);
    }
    if (strcmp(qi->id, tdx ? "TD_QE" : "QE") != 0) {
        return rej(s, SCITT_TEE_DCAP_QE_IDENTITY_TEE, SCITT_ERR_EVIDENCE);
    }
    if ((err = check_window(s, ti)) || (err = check_window(s, qi))) {
        return err;
    }
    const scitt_dcap_enclave_report *qe = &s->q.qe;
    /* MISCSELECT is a 32-bit value: the JSON hex reads big-endian, the report little-endian. */
    uint8_t misc[4] = {(uint8_t)(qe->miscselect >> 24), (uint8_t)(qe->miscselect >> 16),
                       (uint8_t)(qe->miscselect >> 8), (uint8_t)qe->miscselect};
    if (memcmp(qe->mrsigner, qi->mrsigner, 32) != 0 || qe->isv_prod_id != qi->isvprodid ||
        !masked_eq(misc, qi->miscselect_mask, qi->miscselect, 4) ||
        !masked_eq(qe->attributes, qi->attributes_mask, qi->attributes, 16)) {
        return rej(s, SCITT_TEE_DCAP_QE_MISMATCH, SCITT_ERR_EVIDENCE);
    }
    if (tdx) {
        const scitt_dcap_td_report *td = &s->q.td;
        const uint8_t *mrsigner = NULL, *attr = NULL, *mask = NULL;
        if (td->tee_tcb_svn[1] > 0) {
            for (size_t i = 0; i < ti->n_modules; i++) {
                if (ti->modules[i].version == td->tee_tcb_svn[1]) {
                    mrsigner = ti->modules[i].mrsigner;
                    attr = ti->modules[i].attributes;
                    mask = ti->modules[i].attributes_mask;
                }
            }
        } else if (ti->has_module) {
            mrsigner = ti->module_mrsigner;
            attr = ti->module_attributes;
            mask = ti->module_attributes_mask;
        }
        if (!mrsigner || memcmp(mrsigner, td->mrsignerseam, 48) != 0 ||
            !masked_eq(td->seam_attributes, mask, attr, 8)) {
            return rej(s, SCITT_TEE_DCAP_TDX_MODULE, SCITT_ERR_EVIDENCE);
        }
    }
    return SCITT_OK;
}

static scitt_err add_advisories(vstate *s, const scitt__dcap_doc *d, const scitt__dcap_level *l)
{
    scitt_dcap_result *r = s->r;
    for (uint32_t i = 0; i < l->adv_n; i++) {
        scitt_span id = d->adv[l->adv_first + i];
        bool seen = false;
        for (size_t k = 0; k < r->n_advisory_ids && !seen; k++) {
            seen = scitt_span_eq_str(id, r->advisory_ids[k]);
        }
        if (seen) {
            continue;
        }
        if (r->n_advisory_ids == SCITT_DCAP_MAX_ADVISORIES) {
            return rej(s, SCITT_TEE_DCAP_TCB_INFO_FORMAT, SCITT_ERR_TOO_LARGE);
        }
        /* the parser bounded every ID below SCITT_DCAP_ADVISORY_MAX */
        memcpy(r->advisory_ids[r->n_advisory_ids], id.ptr, id.len);
        r->advisory_ids[r->n_advisory_ids][id.len] = '\0';
        r->n_advisory_ids++;
    }
    return SCITT_OK;
}

/* The first of @p n levels from @p first whose isvsvn is <= @p svn, or NULL. */
static const scitt__dcap_level *isv_level(const scitt__dcap_doc *d, uint32_t first, uint32_t n,
                                          uint16_t svn)
{
    for (uint32_t i = first; i < first + n; i++) {
        if (d->levels[i].isvsvn <= svn) {
            return &d->levels[i];
        }
    }
    return NULL;
}

static bool is_configuration(scitt_dcap_tcb_status st)
{
    return st == SCITT_DCAP_TCB_CONFIGURATION_NEEDED ||
           st == SCITT_DCAP_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED;
}

/* The platform status once the TDX module's or the QE's status @p other is taken into account. */
static scitt_dcap_tcb_status converge(scitt_dcap_tcb_status platform, scitt_dcap_tcb_status other)
{
    if (platform == SCITT_DCAP_TCB_REVOKED || other == SCITT_DCAP_TCB_REVOKED) {
        return SCITT_DCAP_TCB_REVOKED;
    }
    if (other == SCITT_DCAP_TCB_OUT_OF_DATE ||
        other == SCITT_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED) {
        if (platform == SCITT_DCAP_TCB_UP_TO_DATE ||
            platform == SCITT_DCAP_TCB_SW_HARDENING_NEEDED) {
            return SCITT_DCAP_TCB_OUT_OF_DATE;
        }
        if (is_configuration(platform)) {
            return SCITT_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
        }
    }
    return platform;
}

/* Step 8 and 9. */
static scitt_err step_tcb(vstate *s, uint32_t accept)
{
    const scitt__dcap_doc *ti = s->col->tcb_info, *qi = s->col->qe_identity;
    scitt_dcap_result *r = s->r;
    bool tdx = s->q.tee == SCITT_DCAP_TEE_TDX;
    const uint8_t *svn = s->q.td.tee_tcb_svn;
    /* From TDX module 1.5 on, bytes 0 and 1 of TEE_TCB_SVN are the module's own SVN and major
     * version, judged by the module identity, not by the platform level. */
    size_t tdx_from = tdx && svn[1] > 0 ? 2 : 0;
    const scitt__dcap_level *lvl = NULL;
    for (uint32_t i = ti->level_first; i < ti->level_first + ti->level_n && !lvl; i++) {
        const scitt__dcap_level *l = &ti->levels[i];
        bool ok = l->pcesvn <= s->ext.pce_svn;
        for (size_t k = 0; k < 16 && ok; k++) {
            ok = l->sgx[k] <= s->ext.cpusvn_components[k];
        }
        for (size_t k = tdx_from; tdx && k < 16 && ok; k++) {
            ok = l->tdx[k] <= svn[k];
        }
        lvl = ok ? l : NULL;
    }
    const scitt__dcap_level *ql = isv_level(qi, qi->level_first, qi->level_n, s->q.qe.isv_svn);
    r->qe_status = ql ? ql->status : SCITT_DCAP_TCB_OUT_OF_DATE;
    const scitt__dcap_level *ml = NULL;
    if (tdx && svn[1] > 0) {
        const scitt__dcap_module *m = NULL;
        for (size_t i = 0; i < ti->n_modules; i++) {
            m = ti->modules[i].version == svn[1] ? &ti->modules[i] : m;
        }
        /* step_collateral found the module */
        ml = isv_level(ti, m->level_first, m->level_n, svn[0]);
        r->tdx_module_status = ml ? ml->status : SCITT_DCAP_TCB_OUT_OF_DATE;
    }
    if (!lvl) {
        r->tcb_status = SCITT_DCAP_TCB_NOT_SUPPORTED;
        return rej(s, SCITT_TEE_DCAP_TCB_NOT_SUPPORTED, SCITT_ERR_EVIDENCE);
    }
    r->platform_status = lvl->status;
    r->tcb_date = lvl->date;
    scitt_err err;
    if ((err = add_advisories(s, ti, lvl)) || (ml && (err = add_advisories(s, ti, ml))) ||
        (ql && (err = add_advisories(s, qi, ql)))) {
        return err;
    }
    scitt_dcap_tcb_status st = lvl->status;
    if (r->tdx_module_status != SCITT_DCAP_TCB_UNKNOWN) {
        st = converge(st, r->tdx_module_status);
    }
    st = converge(st, r->qe_status);
    r->tcb_status = st;
    if (st == SCITT_DCAP_TCB_REVOKED || !(accept & SCITT_DCAP_ACCEPT(st))) {
        return rej(s, SCITT_TEE_DCAP_TCB_STATUS, SCITT_ERR_POLICY);
    }
    return SCITT_OK;
}

static void fill(vstate *s)
{
    scitt_dcap_result *r = s->r;
    r->authentic = true;
    r->tee = s->q.tee;
    r->quote_version = s->q.version;
    r->td = s->q.td;
    r->enclave = s->q.enclave;
    r->qe = s->q.qe;
    memcpy(r->user_data, s->q.user_data, 20);
    memcpy(r->fmspc, s->ext.fmspc, 6);
    memcpy(r->pce_id, s->ext.pce_id, 2);
    r->pce_svn = s->ext.pce_svn;
    memcpy(r->cpusvn_components, s->ext.cpusvn_components, 16);
    r->sgx_type = s->ext.sgx_type;
    r->tcb_evaluation_data_number = s->col->tcb_info->eval_number;
}

scitt_err scitt_dcap_verify(scitt_span quote, const scitt_dcap_collateral *col,
                            const scitt_dcap_verify_opts *opts, scitt_dcap_result *out)
{
    if (!out) {
        return SCITT_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    if (!col || (!quote.ptr && quote.len)) {
        out->why = SCITT_TEE_OK;
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_dcap_verify_opts def;
    if (!opts) {
        scitt_dcap_verify_opts_init(&def, 0);
        opts = &def;
    }
    scitt_dcap_result *r = scitt_calloc(1, sizeof(*r));
    if (!r) {
        return SCITT_ERR_NOMEM;
    }
    r->valid_from = INT64_MIN;
    r->valid_until = INT64_MAX;
    vstate s;
    memset(&s, 0, sizeof(s));
    s.o = opts;
    s.pin = opts->root_sha256 ? opts->root_sha256 : scitt_dcap_intel_root_sha256;
    s.col = col;
    s.r = r;
    scitt_dynbuf_init(&s.pem_der, SCITT_DCAP_QUOTE_MAX);
    uint32_t accept = opts->accept ? opts->accept : SCITT_DCAP_ACCEPT_DEFAULT;

    scitt_err err = SCITT_OK;
    for (int i = 0; i < SCITT_DCAP_ITEMS && err == SCITT_OK; i++) {
        if (scitt_dcap_item_required((scitt_dcap_item)i) && !col->has[i]) {
            err = rej(&s, SCITT_TEE_DCAP_COLLATERAL_MISSING, SCITT_ERR_NOT_FOUND);
        }
    }
    if (err == SCITT_OK && !(err = step_quote(&s, quote)) && !(err = step_pck_chain(&s)) &&
        !(err = step_crls(&s)) && !(err = step_ext(&s)) && !(err = step_signatures(&s)) &&
        !(err = step_collateral(&s))) {
        fill(&s);
        err = step_tcb(&s, accept);
    }
    if (err == SCITT_OK) {
        r->why = SCITT_TEE_OK;
    }
    if (r->authentic) {
        *out = *r;
    } else {
        out->why = r->why;
    }
    scitt__x509_free(s.leaf);
    scitt__x509_free(s.ca);
    scitt__x509_free(s.root);
    scitt_dynbuf_clear(&s.pem_der);
    scitt_free(r);
    return err;
}
