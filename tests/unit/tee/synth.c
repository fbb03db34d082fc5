/* Synthetic SEV-SNP evidence for tests; see synth.h. */
#include "synth.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

static void must(int ok, const char *what)
{
    if (!ok) {
        fail_msg("OpenSSL: %s failed", what);
    }
}

EVP_PKEY *synth_rsa(int bits)
{
    EVP_PKEY *k = EVP_RSA_gen((unsigned)bits);
    must(k != NULL, "RSA keygen");
    return k;
}

EVP_PKEY *synth_p384(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-384");
    must(k != NULL, "P-384 keygen");
    return k;
}

void synth_ext_for(synth_ext *e, scitt_snp_product product, const scitt_snp_tcb *tcb,
                   const uint8_t *hwid, const char *csp_id)
{
    memset(e, 0, sizeof(*e));
    bool turin = product == SCITT_SNP_TURIN;
    e->product_name = product == SCITT_SNP_MILAN ? "Milan-B0" : scitt_snp_product_name(product);
    e->struct_version = turin ? 1 : 0;
    for (int i = 0; i < 10; i++) {
        e->spl[i] = -1;
    }
    e->spl[1] = tcb->bootloader;
    e->spl[2] = tcb->tee;
    e->spl[3] = tcb->snp;
    e->spl[4] = turin ? -1 : tcb->spl4;
    e->spl[5] = tcb->spl5;
    e->spl[6] = tcb->spl6;
    e->spl[7] = tcb->spl7;
    e->spl[8] = tcb->microcode;
    e->spl[9] = turin ? tcb->fmc : -1;
    if (csp_id) {
        e->csp_id = csp_id;
    } else {
        e->hwid = hwid;
        e->hwid_len = turin ? 8 : 64;
    }
}

/* Adds extension 1.3.6.1.4.1.3704.1.<tail> whose extnValue contents are @p v. */
static void add_ext(X509 *x, const char *tail, const uint8_t *v, size_t n)
{
    char oid[64];
    snprintf(oid, sizeof(oid), "1.3.6.1.4.1.3704.1.%s", tail);
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    must(obj && os && ASN1_OCTET_STRING_set(os, v, (int)n), "extension value");
    X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
    must(ext && X509_add_ext(x, ext, -1), "add extension");
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
}

static void add_int_ext(X509 *x, const char *tail, int v)
{
    uint8_t der[4] = {0x02, 0x01, (uint8_t)v};
    size_t n = 3;
    if (v >= 0x80) {
        der[1] = 2;
        der[2] = 0;
        der[3] = (uint8_t)v;
        n = 4;
    }
    add_ext(x, tail, der, n);
}

static void add_ia5_ext(X509 *x, const char *tail, const char *s)
{
    uint8_t der[130];
    size_t n = strlen(s);
    must(n < 128, "short IA5String");
    der[0] = 0x16;
    der[1] = (uint8_t)n;
    memcpy(der + 2, s, n);
    add_ext(x, tail, der, n + 2);
}

static void set_name(X509_NAME *name, const char *cn)
{
    must(X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, (const unsigned char *)"Engineering",
                                    -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                        (const unsigned char *)"Synthetic Test Devices", -1, -1,
                                        0) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                        0),
         "name");
}

X509 *synth_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer, int salt,
                 int64_t nb, int64_t na, const synth_ext *ext)
{
    X509 *x = X509_new();
    must(x && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 0),
         "new certificate");
    X509_NAME *subj = X509_NAME_new();
    set_name(subj, cn);
    must(X509_set_subject_name(x, subj), "subject");
    must(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subj), "issuer");
    X509_NAME_free(subj);
    must(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) != NULL &&
             ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) != NULL,
         "validity");
    must(X509_set_pubkey(x, key), "public key");
    if (ext) {
        if (ext->struct_version >= 0) {
            add_int_ext(x, "1", ext->struct_version);
        }
        if (ext->product_name) {
            add_ia5_ext(x, "2", ext->product_name);
        }
        for (int i = 1; i < 10; i++) {
            if (ext->spl[i] >= 0) {
                char tail[8];
                snprintf(tail, sizeof(tail), "3.%d", i);
                add_int_ext(x, tail, ext->spl[i]);
            }
        }
        if (ext->hwid) {
            add_ext(x, "4", ext->hwid, ext->hwid_len);
        }
        if (ext->csp_id) {
            add_ia5_ext(x, "5", ext->csp_id);
        }
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    must(ctx && EVP_DigestSignInit(ctx, &pctx, EVP_sha384(), NULL, signer), "sign init");
    if (EVP_PKEY_get_base_id(signer) == EVP_PKEY_RSA) {
        if (salt >= 0) {
            must(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) > 0 &&
                     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) > 0,
                 "PSS parameters");
        }
    }
    must(X509_sign_ctx(x, ctx) > 0, "certificate signature");
    EVP_MD_CTX_free(ctx);
    return x;
}

uint8_t *synth_der(X509 *x, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    must(n > 0, "i2d_X509");
    uint8_t *copy = malloc((size_t)n);
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return copy;
}

void synth_chain_make(synth_chain *c, scitt_snp_product p, bool vlek, const synth_ext *ext,
                      int64_t nb, int64_t na)
{
    memset(c, 0, sizeof(*c));
    char ark_cn[32], ask_cn[32];
    snprintf(ark_cn, sizeof(ark_cn), "ARK-%s", scitt_snp_product_name(p));
    snprintf(ask_cn, sizeof(ask_cn), vlek ? "SEV-VLEK-%s" : "SEV-%s", scitt_snp_product_name(p));
    /* 2048-bit keys keep the tests fast; the verifier checks the key type, not the size, since
     * the size of the real roots is fixed by pinning them. */
    c->ark_key = synth_rsa(2048);
    c->ask_key = synth_rsa(2048);
    c->leaf_key = synth_p384();
    c->vlek = vlek;
    c->ark = synth_cert(ark_cn, c->ark_key, NULL, c->ark_key, 48, nb, na, NULL);
    c->ask = synth_cert(ask_cn, c->ask_key, c->ark, c->ark_key, 48, nb, na, NULL);
    c->leaf = synth_cert(vlek ? "SEV-VLEK" : "SEV-VCEK", c->leaf_key, c->ask, c->ask_key, 48, nb,
                         na, ext);
}

void synth_chain_free(synth_chain *c)
{
    X509_free(c->ark);
    X509_free(c->ask);
    X509_free(c->leaf);
    EVP_PKEY_free(c->ark_key);
    EVP_PKEY_free(c->ask_key);
    EVP_PKEY_free(c->leaf_key);
    memset(c, 0, sizeof(*c));
}

static void add_role(scitt_snp_certs *out, scitt_snp_cert_role role, X509 *x)
{
    size_t n;
    uint8_t *der = synth_der(x, &n);
    if (scitt_snp_certs_add_der(out, role, scitt_span_make(der, n), NULL) != SCITT_OK) {
        fail_msg("synthetic certificate not accepted");
    }
    free(der);
}

void synth_chain_certs(const synth_chain *c, scitt_snp_certs *out)
{
    add_role(out, c->vlek ? SCITT_SNP_CERT_VLEK : SCITT_SNP_CERT_VCEK, c->leaf);
    add_role(out, c->vlek ? SCITT_SNP_CERT_ASVK : SCITT_SNP_CERT_ASK, c->ask);
    add_role(out, SCITT_SNP_CERT_ARK, c->ark);
}

void synth_chain_pin(const synth_chain *c, scitt_snp_product p, scitt_snp_pin *pin)
{
    size_t n;
    uint8_t *der = synth_der(c->ark, &n);
    pin->product = p;
    scitt_sha256(der, n, pin->ark_sha256);
    free(der);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

void synth_report(const scitt_snp_report *r, EVP_PKEY *signer, uint8_t out[SCITT_SNP_REPORT_LEN])
{
    memset(out, 0, SCITT_SNP_REPORT_LEN);
    put32(out + 0x000, r->version);
    put32(out + 0x004, r->guest_svn);
    put64(out + 0x008, r->policy);
    memcpy(out + 0x010, r->family_id, 16);
    memcpy(out + 0x020, r->image_id, 16);
    put32(out + 0x030, r->vmpl);
    put32(out + 0x034, r->signature_algo);
    put64(out + 0x038, r->current_tcb);
    put64(out + 0x040, r->platform_info);
    put32(out + 0x048, r->signer_info);
    memcpy(out + 0x050, r->report_data, 64);
    memcpy(out + 0x090, r->measurement, 48);
    memcpy(out + 0x0C0, r->host_data, 32);
    memcpy(out + 0x0E0, r->id_key_digest, 48);
    memcpy(out + 0x110, r->author_key_digest, 48);
    memcpy(out + 0x140, r->report_id, 32);
    memcpy(out + 0x160, r->report_id_ma, 32);
    put64(out + 0x180, r->reported_tcb);
    if (r->has_cpuid) {
        out[0x188] = r->cpuid_fam_id;
        out[0x189] = r->cpuid_mod_id;
        out[0x18A] = r->cpuid_step;
    }
    memcpy(out + 0x1A0, r->chip_id, 64);
    put64(out + 0x1E0, r->committed_tcb);
    out[0x1E8] = r->current_version.build;
    out[0x1E9] = r->current_version.minor;
    out[0x1EA] = r->current_version.major;
    out[0x1EC] = r->committed_version.build;
    out[0x1ED] = r->committed_version.minor;
    out[0x1EE] = r->committed_version.major;
    put64(out + 0x1F0, r->launch_tcb);
    put64(out + 0x1F8, r->launch_mit_vector);
    put64(out + 0x200, r->current_mit_vector);
    if (!signer) {
        return;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[128];
    size_t slen = sizeof(sig);
    must(ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, signer) &&
             EVP_DigestSign(ctx, sig, &slen, out, SCITT_SNP_SIGNED_LEN),
         "report signature");
    EVP_MD_CTX_free(ctx);
    const unsigned char *p = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
    must(es != NULL, "ECDSA_SIG");
    const BIGNUM *br, *bs;
    ECDSA_SIG_get0(es, &br, &bs);
    must(BN_bn2lebinpad(br, out + 0x2A0, 72) == 72 && BN_bn2lebinpad(bs, out + 0x2E8, 72) == 72,
         "r/s little-endian");
    ECDSA_SIG_free(es);
}

void synth_report_defaults(scitt_snp_report *r, uint64_t tcb, const uint8_t chip_id[64])
{
    memset(r, 0, sizeof(*r));
    r->version = 2;
    r->policy = 0x30000;
    r->signature_algo = 1;
    r->current_tcb = r->reported_tcb = r->committed_tcb = r->launch_tcb = tcb;
    r->platform_info = 1;
    r->current_version = r->committed_version = (scitt_snp_fw_version){1, 55, 1};
    memcpy(r->chip_id, chip_id, 64);
    memset(r->report_id_ma, 0xff, 32);
    for (int i = 0; i < 48; i++) {
        r->measurement[i] = (uint8_t)(0xa0 + i);
    }
}
