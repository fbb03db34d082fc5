/* The signature algorithms this module supports, and the rules tying them to key types. */
#include "scitt/cose.h"

#include <string.h>

#include "cose_internal.h"

static const scitt__alg algs[] = {
    {SCITT_COSE_ALG_ES256, "ES256", SCITT_COSE_KTY_EC2, SCITT_COSE_CRV_NONE, 256},
    {SCITT_COSE_ALG_ES384, "ES384", SCITT_COSE_KTY_EC2, SCITT_COSE_CRV_NONE, 384},
    {SCITT_COSE_ALG_ES512, "ES512", SCITT_COSE_KTY_EC2, SCITT_COSE_CRV_NONE, 512},
    {SCITT_COSE_ALG_ESP256, "ESP256", SCITT_COSE_KTY_EC2, SCITT_COSE_CRV_P256, 256},
    {SCITT_COSE_ALG_ESP384, "ESP384", SCITT_COSE_KTY_EC2, SCITT_COSE_CRV_P384, 384},
    {SCITT_COSE_ALG_ESP512, "ESP512", SCITT_COSE_KTY_EC2, SCITT_COSE_CRV_P521, 512},
    {SCITT_COSE_ALG_EDDSA, "EdDSA", SCITT_COSE_KTY_OKP, SCITT_COSE_CRV_NONE, 0},
    {SCITT_COSE_ALG_ED25519, "Ed25519", SCITT_COSE_KTY_OKP, SCITT_COSE_CRV_ED25519, 0},
    {SCITT_COSE_ALG_ED448, "Ed448", SCITT_COSE_KTY_OKP, SCITT_COSE_CRV_ED448, 0},
    {SCITT_COSE_ALG_PS256, "PS256", SCITT_COSE_KTY_RSA, SCITT_COSE_CRV_NONE, 256},
    {SCITT_COSE_ALG_PS384, "PS384", SCITT_COSE_KTY_RSA, SCITT_COSE_CRV_NONE, 384},
    {SCITT_COSE_ALG_PS512, "PS512", SCITT_COSE_KTY_RSA, SCITT_COSE_CRV_NONE, 512},
};

const scitt__alg *scitt__alg_find(int64_t alg)
{
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (algs[i].alg == alg) {
            return &algs[i];
        }
    }
    return NULL;
}

size_t scitt__ec_coord_len(scitt_cose_crv crv)
{
    switch (crv) {
    case SCITT_COSE_CRV_P256:
        return 32;
    case SCITT_COSE_CRV_P384:
        return 48;
    case SCITT_COSE_CRV_P521:
        return 66;
    default:
        return 0;
    }
}

const char *scitt_cose_alg_name(int64_t alg)
{
    const scitt__alg *a = scitt__alg_find(alg);
    return a ? a->name : NULL;
}

int64_t scitt_cose_alg_from_name(scitt_span name)
{
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (scitt_span_eq_str(name, algs[i].name)) {
            return algs[i].alg;
        }
    }
    return 0;
}
