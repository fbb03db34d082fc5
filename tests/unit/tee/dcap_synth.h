/*
 * Test-only synthetic Intel DCAP world, generated with OpenSSL when the test runs (no fixture
 * files): a root CA, a PCK Platform CA, a PCK certificate carrying the SGX extensions encoded as
 * Intel's PCS encodes them (PPID, the 16 TCB components, PCE SVN, CPU SVN, PCE-ID, FMSPC, SGX
 * type, platform instance ID, configuration), a TCB Signing certificate, the root and PCK CRLs,
 * TCB info and QE identity documents signed by the TCB Signing key, and TDX v4 / SGX v3 quotes
 * signed by an attestation key that the QE report binds (report_data = SHA-256(attestation key
 * || QE authentication data) || 32 zero bytes), the QE report signed by the PCK key.
 *
 * Fresh keys are made for every world. Nothing chains to Intel's root: verification succeeds
 * only with the synthetic root pinned (scitt_dcap_verify_opts.root_sha256, which ds_verify
 * sets). ds_spec_default describes a world that verifies as UpToDate; each knob of ds_spec then
 * reaches one check that real Intel-signed samples cannot reach (a revoked certificate, a QE of
 * another signer, a TCB level of a chosen status, a P-384 key, a CA that is not one, ...).
 * Nothing here is part of a library.
 */
#ifndef SCITT_DCAP_SYNTH_H
#define SCITT_DCAP_SYNTH_H

#include <openssl/evp.h>

#include "scitt/dcap.h"

#define DS_LEVELS_MAX  8
#define DS_MODULES_MAX 4

/* One certificate of the world. */
typedef struct ds_cert {
    int curve;             /* NID of the key's curve (NID_X9_62_prime256v1 in a genuine world) */
    int ca;                /* basicConstraints: 1 cA TRUE, 0 cA FALSE, -1 left out */
    const char *key_usage; /* keyUsage as OpenSSL config text ("keyCertSign,cRLSign"); NULL: none */
    int64_t not_before, not_after;
    const char *digest;   /* signature digest name; NULL: "SHA256" */
    bool issuer_renamed;  /* the issuer name is not the issuer's subject (root: not self-issued) */
    bool signed_by_other; /* signed by a fresh key instead of the issuer's */
} ds_cert;

/* A CRL of the world. */
typedef struct ds_crl {
    bool present;
    int64_t this_update, next_update;
    const char *digest;   /* NULL: "SHA256" */
    bool signed_by_other; /* signed by a fresh key instead of the issuer's */
} ds_crl;

/* A tcbLevels entry of the TCB info (platform level). */
typedef struct ds_level {
    uint8_t sgx[16];
    uint16_t pcesvn;
    uint8_t tdx[16];    /* TDX TCB info only */
    const char *status; /* written as it stands ("UpToDate", ...) */
    int64_t date;
    const char *adv; /* advisory IDs, comma-separated; NULL or "": no advisoryIDs member */
} ds_level;

/* A tcbLevels entry of the QE identity or of a TDX module identity. */
typedef struct ds_isv_level {
    uint16_t isvsvn;
    const char *status;
    int64_t date;
    const char *adv;
} ds_isv_level;

/* tdxModule (version unused, no levels) or one tdxModuleIdentities entry ("TDX_%02X"). */
typedef struct ds_module {
    uint8_t version;
    uint8_t mrsigner[48], attributes[8], attributes_mask[8];
    size_t n_levels;
    ds_isv_level levels[DS_LEVELS_MAX];
} ds_module;

typedef struct ds_spec {
    scitt_dcap_tee tee;
    int64_t now; /* the verification time ds_verify uses */

    /* Certificates: root -> PCK CA -> PCK certificate; root -> TCB Signing. The QE identity is
     * signed by its own TCB Signing certificate (qi_signer) when qi_own_signer. */
    ds_cert root, ca, pck, tcb_signer, qi_signer;
    bool qi_own_signer;
    bool pck_sgx_ext; /* the PCK certificate carries the SGX extensions */

    /* The PCK certificate's SGX extensions. */
    uint8_t ppid[16], cpusvn_components[16], cpusvn[16], pce_id[2], fmspc[6];
    uint16_t pce_svn;
    uint8_t sgx_type;
    bool platform_ca_fields; /* platform instance ID and configuration (Platform CA leaves) */

    /* CRLs; every one lists an unrelated serial number too. */
    ds_crl root_crl, pck_crl;
    bool revoke_ca, revoke_tcb_signer; /* listed in the root CRL */
    bool revoke_pck;                   /* listed in the PCK CRL */
    bool pck_crl_chain;                /* write pck_crl_issuer_chain.pem */

    /* The quote. */
    uint8_t tee_tcb_svn[16], mrsignerseam[48], seam_attributes[8]; /* TDX */
    uint8_t qe_mrsigner[32], qe_attributes[16];
    uint32_t qe_miscselect;
    uint16_t qe_isv_prod_id, qe_isv_svn;
    bool qe_report_data_tail; /* a non-zero byte in the QE report_data's upper half */
    /* The quote body's REPORTDATA and DEBUG attribute, when has_body (else the body is filler:
     * TD bytes 0x21, which sets the TD's DEBUG bit, or a fixed enclave report). */
    bool has_body;
    uint8_t report_data[64];
    bool debug;
    size_t qe_auth_len;

    /* TCB info. */
    const char *ti_id;
    int64_t ti_issue, ti_next;
    uint8_t ti_fmspc[6], ti_pce_id[2];
    bool ti_has_module;
    ds_module ti_module; /* tdxModule */
    size_t ti_n_modules;
    ds_module ti_modules[DS_MODULES_MAX]; /* tdxModuleIdentities */
    size_t ti_n_levels;
    ds_level ti_levels[DS_LEVELS_MAX];

    /* QE identity. */
    const char *qi_id;
    int64_t qi_issue, qi_next;
    uint8_t qi_miscselect[4], qi_miscselect_mask[4]; /* big-endian, as the JSON hex reads */
    uint8_t qi_attributes[16], qi_attributes_mask[16], qi_mrsigner[32];
    uint16_t qi_isv_prod_id;
    size_t qi_n_levels;
    ds_isv_level qi_levels[DS_LEVELS_MAX];
} ds_spec;

/*
 * A world of @p tee at @p now where everything matches: every certificate, CRL and document
 * current (each with its own distinct window, the QE identity's ending first), one TCB level
 * equal to the platform (UpToDate), for TDX a module of major version 1 (TEE_TCB_SVN[1] = 1,
 * identity TDX_01 with one UpToDate level) and a tdxModule, one UpToDate QE level. The QE report
 * differs from the QE identity only in bits its masks leave out, and its MISCSELECT is not
 * byte-symmetric, so a byte order mix-up or a missing mask is refused.
 */
void ds_spec_default(ds_spec *s, scitt_dcap_tee tee, int64_t now);

/* Sets every SGX component of @p l to @p sgx, its PCE SVN, and its TDX components to @p tdx. */
void ds_level_set(ds_level *l, uint8_t sgx, uint16_t pcesvn, const uint8_t tdx[16],
                  const char *status, const char *adv);

/* The generated bytes: the quote and one file per collateral item (NULL when not written). */
typedef struct ds_world {
    uint8_t *quote;
    size_t quote_len;
    uint8_t *file[SCITT_DCAP_ITEMS];
    size_t file_len[SCITT_DCAP_ITEMS];
    uint8_t root_sha256[32];
    uint8_t att_key[64];
} ds_world;

void ds_build(const ds_spec *s, ds_world *w);
void ds_world_free(ds_world *w);
/* Every file of @p w in a new collateral set (fails the test when one is refused). */
scitt_dcap_collateral *ds_collateral(const ds_world *w);
/* Builds @p s, and verifies its quote with its collateral at s->now, the synthetic root pinned and
 * @p accept (0: the default). */
scitt_err ds_verify(const ds_spec *s, uint32_t accept, scitt_dcap_result *r);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" of @p t into @p out (21 bytes). */
void ds_time_text(int64_t t, char out[21]);

#endif /* SCITT_DCAP_SYNTH_H */
