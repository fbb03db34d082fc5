/*
 * p11_pubkey MODULE TOKEN_LABEL OBJECT_LABEL: prints the EC or Ed25519 public key object labelled
 * OBJECT_LABEL in the token labelled TOKEN_LABEL as a PEM SubjectPublicKeyInfo, read through
 * the PKCS#11 API directly (p11-kit only loads the module), so that tests can check scittd's
 * published receipt key against the token without going through pkcs11/ (whose code they test).
 * No login: public key objects are readable without one.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <p11-kit/p11-kit.h>

static int fail(const char *what)
{
    fprintf(stderr, "p11_pubkey: %s\n", what);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        return fail("usage: p11_pubkey MODULE TOKEN_LABEL OBJECT_LABEL");
    }
    CK_FUNCTION_LIST *f = p11_kit_module_load(argv[1], 0);
    if (!f || p11_kit_module_initialize(f) != CKR_OK) {
        return fail("cannot load the module");
    }
    CK_SLOT_ID slots[16];
    CK_ULONG ns = 16;
    CK_SLOT_ID slot = 0;
    int found = 0;
    if (f->C_GetSlotList(CK_TRUE, slots, &ns) != CKR_OK) {
        return fail("no slots");
    }
    for (CK_ULONG i = 0; i < ns; i++) {
        CK_TOKEN_INFO ti;
        char label[33];
        if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK) {
            continue;
        }
        memcpy(label, ti.label, 32);
        label[32] = 0;
        for (int k = 31; k >= 0 && label[k] == ' '; k--) {
            label[k] = 0;
        }
        if (!strcmp(label, argv[2])) {
            slot = slots[i];
            found++;
        }
    }
    CK_SESSION_HANDLE s;
    if (found != 1 || f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK) {
        return fail("no such token");
    }
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, argv[3], strlen(argv[3])}};
    CK_OBJECT_HANDLE o;
    CK_ULONG n = 0;
    if (f->C_FindObjectsInit(s, t, 2) != CKR_OK || f->C_FindObjects(s, &o, 1, &n) != CKR_OK ||
        n != 1) {
        return fail("no such public key");
    }
    f->C_FindObjectsFinal(s);
    CK_KEY_TYPE kt;
    unsigned char point[256], params[64];
    CK_ATTRIBUTE a[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_EC_POINT, point, sizeof(point)},
                        {CKA_EC_PARAMS, params, sizeof(params)}};
    if (f->C_GetAttributeValue(s, o, a, 3) != CKR_OK) {
        return fail("cannot read the key");
    }
    /* CKA_EC_POINT: DER OCTET STRING around the point; CKA_EC_PARAMS: the curve's OID */
    const unsigned char *pt = point;
    long plen = (long)a[1].ulValueLen;
    if (plen > 2 && point[0] == 0x04 && point[1] == plen - 2) {
        pt += 2, plen -= 2;
    } else if (plen > 3 && point[0] == 0x04 && point[1] == 0x81 && point[2] == plen - 3) {
        pt += 3, plen -= 3;
    }
    /* SubjectPublicKeyInfo = SEQUENCE { AlgorithmIdentifier, BIT STRING point } */
    unsigned char spki[400], alg[80];
    size_t al = 0;
    if (kt == CKK_EC_EDWARDS) {
        static const unsigned char ed[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};
        memcpy(alg, ed, sizeof(ed)), al = sizeof(ed);
    } else if (kt == CKK_EC) {
        static const unsigned char ec[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
        alg[0] = 0x30, alg[1] = (unsigned char)(sizeof(ec) + a[2].ulValueLen);
        memcpy(alg + 2, ec, sizeof(ec));
        memcpy(alg + 2 + sizeof(ec), params, a[2].ulValueLen);
        al = 2 + sizeof(ec) + a[2].ulValueLen;
    } else {
        return fail("not an EC or Ed25519 key");
    }
    size_t body = al + 3 + (size_t)plen, at = 0;
    spki[at++] = 0x30;
    if (body >= 128) {
        spki[at++] = 0x81;
    }
    spki[at++] = (unsigned char)body;
    memcpy(spki + at, alg, al), at += al;
    spki[at++] = 0x03, spki[at++] = (unsigned char)(plen + 1), spki[at++] = 0;
    memcpy(spki + at, pt, (size_t)plen), at += (size_t)plen;
    const unsigned char *p = spki;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)at);
    if (!pk || !PEM_write_PUBKEY(stdout, pk)) {
        return fail("the key does not parse");
    }
    EVP_PKEY_free(pk);
    f->C_CloseSession(s);
    p11_kit_module_finalize(f);
    p11_kit_module_release(f);
    return 0;
}
