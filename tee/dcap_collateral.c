/*
 * A DCAP collateral set: the seven files of a collateral directory, each parsed once when it is
 * set (JSON, PEM, DER) so that verification does only the checks, and the cache of the PCK
 * certificates and attestation keys parsed from quotes verified with it (dcap_cache.c). Nothing
 * is verified here.
 */
#include "scitt/dcap.h"

#include <string.h>

#include "tee_internal.h"

static const struct {
    const char *file;
    bool required;
} items[SCITT_DCAP_ITEMS] = {
    [SCITT_DCAP_TCB_INFO] = {"tcb_info.json", true},
    [SCITT_DCAP_TCB_INFO_CHAIN] = {"tcb_info_issuer_chain.pem", true},
    [SCITT_DCAP_QE_IDENTITY] = {"qe_identity.json", true},
    [SCITT_DCAP_QE_IDENTITY_CHAIN] = {"qe_identity_issuer_chain.pem", true},
    [SCITT_DCAP_PCK_CRL] = {"pck_crl.der", false},
    [SCITT_DCAP_PCK_CRL_CHAIN] = {"pck_crl_issuer_chain.pem", false},
    [SCITT_DCAP_ROOT_CRL] = {"root_ca_crl.der", false},
};

const char *scitt_dcap_item_file(scitt_dcap_item item)
{
    return (unsigned)item < SCITT_DCAP_ITEMS ? items[item].file : "unknown";
}

bool scitt_dcap_item_required(scitt_dcap_item item)
{
    return (unsigned)item < SCITT_DCAP_ITEMS && items[item].required;
}

scitt_err scitt_dcap_collateral_new(scitt_dcap_collateral **out)
{
    scitt_dcap_collateral *c = scitt_calloc(1, sizeof(*c));
    if (!c || scitt__dcap_cache_new(&c->cache) != SCITT_OK) {
        scitt_free(c);
        *out = NULL;
        return SCITT_ERR_NOMEM;
    }
    *out = c;
    return SCITT_OK;
}

void scitt_dcap_collateral_free(scitt_dcap_collateral *c)
{
    if (!c) {
        return;
    }
    scitt__dcap_doc_free(c->tcb_info);
    scitt__dcap_doc_free(c->qe_identity);
    scitt__dcap_chain_clear(&c->tcb_info_chain);
    scitt__dcap_chain_clear(&c->qe_identity_chain);
    scitt__dcap_chain_clear(&c->pck_crl_chain);
    scitt__dcap_crl_free(c->pck_crl);
    scitt__dcap_crl_free(c->root_crl);
    scitt__dcap_cache_free(c->cache);
    scitt_free(c);
}

bool scitt_dcap_collateral_has(const scitt_dcap_collateral *c, scitt_dcap_item item)
{
    return c && (unsigned)item < SCITT_DCAP_ITEMS && c->has[item];
}

/* A CRL file: DER, or one PEM "X509 CRL" block. */
static scitt_err crl_parse(scitt_span bytes, scitt__dcap_crl **out)
{
    if (!scitt__dcap_is_pem(bytes)) {
        return scitt__dcap_crl_parse(bytes, out);
    }
    scitt_dynbuf der;
    scitt_dynbuf_init(&der, SCITT_DCAP_COLLATERAL_FILE_MAX);
    scitt_span one;
    size_t n = 0;
    scitt_err err = scitt__dcap_pem_decode(bytes, "X509 CRL", &der, &one, 1, &n);
    if (err == SCITT_OK) {
        err = scitt__dcap_crl_parse(one, out);
    } else if (err != SCITT_ERR_NOMEM) {
        err = SCITT_ERR_EVIDENCE_MALFORMED;
    }
    scitt_dynbuf_clear(&der);
    return err;
}

scitt_err scitt_dcap_collateral_set(scitt_dcap_collateral *c, scitt_dcap_item item,
                                    scitt_span bytes, scitt_tee_reason *why)
{
    if (!c || (unsigned)item >= SCITT_DCAP_ITEMS || (!bytes.ptr && bytes.len)) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (bytes.len > SCITT_DCAP_COLLATERAL_FILE_MAX) {
        static const scitt_tee_reason parse_reason[SCITT_DCAP_ITEMS] = {
            SCITT_TEE_DCAP_TCB_INFO_FORMAT,    SCITT_TEE_DCAP_TCB_SIGNER,
            SCITT_TEE_DCAP_QE_IDENTITY_FORMAT, SCITT_TEE_DCAP_TCB_SIGNER,
            SCITT_TEE_DCAP_CRL_PARSE,          SCITT_TEE_DCAP_PCK_CRL_CHAIN,
            SCITT_TEE_DCAP_CRL_PARSE};
        return scitt__tee_fail(why, parse_reason[item], SCITT_ERR_TOO_LARGE);
    }
    scitt_err err = SCITT_OK;
    switch (item) {
    case SCITT_DCAP_TCB_INFO:
    case SCITT_DCAP_QE_IDENTITY: {
        scitt__dcap_doc *d = NULL;
        err = scitt__dcap_doc_parse(item == SCITT_DCAP_TCB_INFO ? SCITT__DCAP_DOC_TCB_INFO
                                                                : SCITT__DCAP_DOC_QE_IDENTITY,
                                    bytes, &d, why);
        if (err != SCITT_OK) {
            return err;
        }
        scitt__dcap_doc **slot = item == SCITT_DCAP_TCB_INFO ? &c->tcb_info : &c->qe_identity;
        scitt__dcap_doc_free(*slot);
        *slot = d;
        break;
    }
    case SCITT_DCAP_TCB_INFO_CHAIN:
    case SCITT_DCAP_QE_IDENTITY_CHAIN:
    case SCITT_DCAP_PCK_CRL_CHAIN: {
        scitt__dcap_chain ch;
        err = scitt__dcap_chain_parse(bytes, &ch);
        if (err != SCITT_OK) {
            return scitt__tee_fail(why,
                                   item == SCITT_DCAP_PCK_CRL_CHAIN ? SCITT_TEE_DCAP_PCK_CRL_CHAIN
                                                                    : SCITT_TEE_DCAP_TCB_SIGNER,
                                   err == SCITT_ERR_NOMEM || err == SCITT_ERR_TOO_LARGE
                                       ? err
                                       : SCITT_ERR_EVIDENCE_MALFORMED);
        }
        scitt__dcap_chain *slot = item == SCITT_DCAP_TCB_INFO_CHAIN      ? &c->tcb_info_chain
                                  : item == SCITT_DCAP_QE_IDENTITY_CHAIN ? &c->qe_identity_chain
                                                                         : &c->pck_crl_chain;
        scitt__dcap_chain_clear(slot);
        *slot = ch;
        break;
    }
    case SCITT_DCAP_PCK_CRL:
    case SCITT_DCAP_ROOT_CRL: {
        scitt__dcap_crl *crl = NULL;
        err = crl_parse(bytes, &crl);
        if (err != SCITT_OK) {
            return scitt__tee_fail(why, SCITT_TEE_DCAP_CRL_PARSE, err);
        }
        scitt__dcap_crl **slot = item == SCITT_DCAP_PCK_CRL ? &c->pck_crl : &c->root_crl;
        scitt__dcap_crl_free(*slot);
        *slot = crl;
        break;
    }
    default:
        return SCITT_ERR_INVALID_ARG;
    }
    c->has[item] = true;
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}
