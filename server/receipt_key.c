/*
 * scittd --receipt-key pkcs11:URI (receipt_key.h). The token's key signs tree heads (one
 * signature per batch) and the policy statements; its public key is the one /jwks, the
 * transparency configuration and the identity document carry. Opened before the data directory
 * is touched, so a refusal leaves nothing behind.
 */
#include "receipt_key.h"

#include <stdio.h>
#include <string.h>

#include "scitt_pkcs11.h"

static scitt_p11 *token;

scitt_err scittd_receipt_key_open(const char *uri, bool rotate, const char *platform,
                                  scitt_cose_signer *out, char *reason, size_t cap)
{
    if (rotate) {
        snprintf(reason, cap,
                 "--rotate-receipt-key makes a new key in the keystore, but --receipt-key names "
                 "one held in a PKCS#11 token: to change keys, name another token key");
        return SCITT_ERR_INVALID_ARG;
    }
    if (strcmp(platform, "virtual") != 0) {
        /* The evidence of a TEE binds keys born inside it; a token's key is not. */
        snprintf(reason, cap,
                 "--receipt-key: the %s platform's evidence binds receipt keys made inside the "
                 "TEE, and a PKCS#11 token's key is outside it; use the TEE's own key, or "
                 "--platform virtual",
                 platform);
        return SCITT_ERR_INVALID_ARG;
    }
    if (!scitt_p11_is_uri(uri)) {
        snprintf(reason, cap, "--receipt-key takes a pkcs11: URI (RFC 7512)");
        return SCITT_ERR_INVALID_ARG;
    }
    char why[400] = "";
    scitt_err e = scitt_p11_open(uri, SCITT_P11_NO_PIN_VALUE, &token, why, sizeof(why));
    if (e != SCITT_OK) {
        snprintf(reason, cap, "--receipt-key: %s", why[0] ? why : scitt_err_str(e));
        return e;
    }
    int64_t alg = scitt_cose_key_alg(scitt_p11_public(token));
    if (alg != SCITT_COSE_ALG_ES256 && alg != SCITT_COSE_ALG_ES384 && alg != SCITT_COSE_ALG_EDDSA) {
        const char *name = scitt_cose_alg_name(alg);
        snprintf(reason, cap,
                 "--receipt-key: the token's key is %s; receipt keys are ES256, ES384 or Ed25519",
                 name ? name : "of another algorithm");
        scittd_receipt_key_close();
        return SCITT_ERR_ALG;
    }
    scitt_p11_signer(token, out);
    return SCITT_OK;
}

void scittd_receipt_key_close(void)
{
    scitt_p11_close(token);
    token = NULL;
}
