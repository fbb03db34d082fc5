/* Names and sentences for scitt_tee_reason. The table is the single source of both. */
#include "scitt/tee.h"

typedef struct {
    scitt_tee_reason reason;
    const char *name;
    const char *text;
} reason_row;

#define ROW(c, t)                                                                                  \
    {                                                                                              \
        c, #c, t                                                                                   \
    }

static const reason_row rows[] = {
    ROW(SCITT_TEE_OK, "all checks passed"),
    ROW(SCITT_TEE_REPORT_SIZE, "the SNP report is not 1184 bytes long"),
    ROW(SCITT_TEE_REPORT_VERSION, "the SNP report version is not one of 2, 3, 4, 5"),
    ROW(SCITT_TEE_REPORT_RESERVED, "a reserved field of the SNP report is not zero"),
    ROW(SCITT_TEE_REPORT_SIG_ALGO, "the SNP report is not signed with ECDSA P-384/SHA-384"),
    ROW(SCITT_TEE_REPORT_SIG_FORMAT, "the SNP report signature is not a valid P-384 (r, s) pair"),
    ROW(SCITT_TEE_REPORT_POLICY_BITS, "the SNP guest policy has reserved bits set wrongly"),
    ROW(SCITT_TEE_REPORT_SIGNER, "the SNP report names an unknown signing key"),
    ROW(SCITT_TEE_REPORT_UNSIGNED, "the SNP report is unsigned (masked chip key or no key)"),
    ROW(SCITT_TEE_PEM, "the PEM certificate bundle does not parse"),
    ROW(SCITT_TEE_CERT_TABLE, "the SNP certificate table does not parse"),
    ROW(SCITT_TEE_THIM_JSON, "the host-amd-cert JSON does not parse or lacks a field"),
    ROW(SCITT_TEE_BASE64, "the security-context file is not valid base64"),
    ROW(SCITT_TEE_CERT_PARSE, "an endorsement certificate is not valid DER X.509"),
    ROW(SCITT_TEE_CERT_ROLE, "a certificate is not a VCEK, VLEK, ASK, ASVK or ARK"),
    ROW(SCITT_TEE_CERT_CONFLICT, "two different certificates were given for the same role"),
    ROW(SCITT_TEE_CERT_TOO_MANY, "too many certificates"),
    ROW(SCITT_TEE_MISSING_LEAF, "no VCEK (or VLEK) certificate was given"),
    ROW(SCITT_TEE_MISSING_ASK, "no ASK (or ASVK) certificate was given"),
    ROW(SCITT_TEE_MISSING_ARK, "no ARK certificate was given"),
    ROW(SCITT_TEE_VCEK_EXTENSION, "a VCEK extension is missing, repeated or ill-encoded"),
    ROW(SCITT_TEE_PRODUCT_UNKNOWN, "the VCEK names a product whose AMD root is not pinned"),
    ROW(SCITT_TEE_NO_PIN, "no AMD root is pinned for this product"),
    ROW(SCITT_TEE_ARK_NOT_PINNED, "the ARK presented is not the pinned AMD root for the product"),
    ROW(SCITT_TEE_CHAIN_PRODUCT, "the ASK or ARK is for another product than the VCEK"),
    ROW(SCITT_TEE_CHAIN_NAMES, "a certificate's issuer is not its parent's subject"),
    ROW(SCITT_TEE_CHAIN_KEY_TYPE, "a chain certificate has the wrong key type"),
    ROW(SCITT_TEE_CHAIN_SIG_ALG,
        "a chain signature is not RSASSA-PSS with SHA-384, MGF1-SHA-384 and salt 48"),
    ROW(SCITT_TEE_ARK_SELF_SIG, "the ARK's self-signature does not verify"),
    ROW(SCITT_TEE_ASK_SIG, "the ASK is not signed by the ARK"),
    ROW(SCITT_TEE_LEAF_SIG, "the VCEK is not signed by the ASK"),
    ROW(SCITT_TEE_CERT_NOT_YET_VALID, "a certificate is not yet valid at the given time"),
    ROW(SCITT_TEE_CERT_EXPIRED, "a certificate has expired at the given time"),
    ROW(SCITT_TEE_SIGNER_MISMATCH, "the report's signing key type does not match the certificate"),
    ROW(SCITT_TEE_PRODUCT_MISMATCH, "the report's CPUID names another product than the VCEK"),
    ROW(SCITT_TEE_HWID_MISMATCH, "the VCEK belongs to another chip (hwID differs from CHIP_ID)"),
    ROW(SCITT_TEE_TCB_MISMATCH, "the VCEK was issued for another TCB than REPORTED_TCB"),
    ROW(SCITT_TEE_REPORT_SIGNATURE, "the report signature does not verify with the VCEK"),
    ROW(SCITT_TEE_VLEK_NOT_ALLOWED, "the report is VLEK-signed and VLEKs are not accepted"),
    ROW(SCITT_TEE_POLICY_DEBUG, "the guest policy allows debugging"),
    ROW(SCITT_TEE_POLICY_MIGRATE_MA, "the guest policy allows a migration agent"),
    ROW(SCITT_TEE_POLICY_SMT, "the guest policy allows SMT"),
    ROW(SCITT_TEE_POLICY_VMPL, "the report's VMPL is not the expected one"),
    ROW(SCITT_TEE_POLICY_TCB, "the reported TCB is below the minimum for the product"),
    ROW(SCITT_TEE_POLICY_MEASUREMENT, "the launch measurement is not an allowed one"),
    ROW(SCITT_TEE_POLICY_HOST_DATA, "HOST_DATA is not an allowed value"),
    ROW(SCITT_TEE_POLICY_REPORT_DATA, "REPORT_DATA is not the expected value"),
    ROW(SCITT_TEE_POLICY_FIRMWARE, "the firmware version is below the minimum"),
    ROW(SCITT_TEE_POLICY_GUEST_SVN, "the guest SVN is below the minimum"),
    ROW(SCITT_TEE_POLICY_ENDORSED_TCB, "the reported TCB is not the endorsed TCB"),
    ROW(SCITT_TEE_POLICY_PRODUCT, "the product is not an allowed one"),
    ROW(SCITT_TEE_ACQ_NO_DEVICE, "no configfs-tsm and no /dev/sev-guest: not in a TEE guest"),
    ROW(SCITT_TEE_ACQ_NOT_DEVICE, "the SEV guest device path is not a character device"),
    ROW(SCITT_TEE_ACQ_IOCTL,
        "the device does not answer SEV guest requests (not an SEV guest device, or its VMPCK is "
        "disabled until reboot)"),
    ROW(SCITT_TEE_ACQ_FIRMWARE, "the firmware or the host rejected the guest request"),
    ROW(SCITT_TEE_ACQ_RESPONSE, "the firmware response is not in the documented format"),
    ROW(SCITT_TEE_ACQ_TSM_ENTRY, "cannot create or use a configfs-tsm report entry"),
    ROW(SCITT_TEE_ACQ_TSM_ATTRIBUTE, "a configfs-tsm attribute is missing or unreadable"),
    ROW(SCITT_TEE_ACQ_TSM_PROVIDER, "the configfs-tsm provider is not sev_guest or tdx_guest"),
    ROW(SCITT_TEE_ACQ_TSM_RACE, "another process wrote the configfs-tsm entry during the request"),
    ROW(SCITT_TEE_ACQ_REPORT_DATA, "the report does not carry the REPORT_DATA that was requested"),
    ROW(SCITT_TEE_ACQ_TOO_LARGE, "a blob from the TEE is larger than the limit"),
    ROW(SCITT_TEE_ACQ_IO, "an operating-system call failed"),
    ROW(SCITT_TEE_ACQ_ACI_FILE, "the Confidential ACI security-context files are not there"),
    ROW(SCITT_TEE_DCAP_TRUNCATED, "the quote ends inside a field it declares"),
    ROW(SCITT_TEE_DCAP_VERSION, "the quote version is not 3 (SGX) or 4 (TDX)"),
    ROW(SCITT_TEE_DCAP_KEY_TYPE, "the quote's attestation key type is not ECDSA P-256"),
    ROW(SCITT_TEE_DCAP_TEE_TYPE, "the quote's TEE type is not TDX (v4) or SGX (v3)"),
    ROW(SCITT_TEE_DCAP_QE_VENDOR, "the quote's QE vendor ID is not Intel's"),
    ROW(SCITT_TEE_DCAP_SIG_DATA, "a length in the quote's signature data does not add up"),
    ROW(SCITT_TEE_DCAP_CERT_TYPE, "the quote's certification data is of a type not handled"),
    ROW(SCITT_TEE_DCAP_TRAILING, "the quote has non-zero bytes after its signature data"),
    ROW(SCITT_TEE_DCAP_PCK_CHAIN, "the quote's PCK chain is not three PEM certificates"),
    ROW(SCITT_TEE_DCAP_PCK_EXTENSION, "the PCK certificate's SGX extensions are missing or bad"),
    ROW(SCITT_TEE_DCAP_ROOT_NOT_PINNED, "a root presented is not the pinned Intel SGX Root CA"),
    ROW(SCITT_TEE_DCAP_CHAIN_NAMES, "an Intel certificate's issuer is not its parent's subject"),
    ROW(SCITT_TEE_DCAP_CHAIN_KEY, "an Intel certificate has no P-256 key or is not a CA"),
    ROW(SCITT_TEE_DCAP_CHAIN_SIG, "an Intel certificate's ECDSA-SHA256 signature does not verify"),
    ROW(SCITT_TEE_DCAP_CRL_PARSE, "a CRL does not parse"),
    ROW(SCITT_TEE_DCAP_CRL_ISSUER, "a CRL is not issued by the CA it must come from"),
    ROW(SCITT_TEE_DCAP_CRL_SIG, "a CRL's signature does not verify"),
    ROW(SCITT_TEE_DCAP_CRL_EXPIRED, "a CRL is not current at the given time"),
    ROW(SCITT_TEE_DCAP_REVOKED, "a certificate of the chain is revoked"),
    ROW(SCITT_TEE_DCAP_QE_REPORT_SIG, "the QE report signature does not verify with the PCK key"),
    ROW(SCITT_TEE_DCAP_QE_BINDING,
        "the QE report_data is not SHA-256(attestation key || QE authentication data)"),
    ROW(SCITT_TEE_DCAP_ATT_KEY, "the quote's attestation key is not a P-256 point"),
    ROW(SCITT_TEE_DCAP_QUOTE_SIG, "the quote signature does not verify"),
    ROW(SCITT_TEE_DCAP_COLLATERAL_MISSING, "a required collateral file was not given"),
    ROW(SCITT_TEE_DCAP_TCB_INFO_FORMAT, "the TCB info JSON does not parse or lacks a field"),
    ROW(SCITT_TEE_DCAP_QE_IDENTITY_FORMAT, "the QE identity JSON does not parse or lacks a field"),
    ROW(SCITT_TEE_DCAP_COLLATERAL_VERSION, "the TCB info or QE identity version is not handled"),
    ROW(SCITT_TEE_DCAP_TCB_SIGNER, "the TCB Signing chain does not verify to the pinned root"),
    ROW(SCITT_TEE_DCAP_TCB_INFO_SIG, "the TCB info signature does not verify"),
    ROW(SCITT_TEE_DCAP_QE_IDENTITY_SIG, "the QE identity signature does not verify"),
    ROW(SCITT_TEE_DCAP_COLLATERAL_EXPIRED,
        "the TCB info or QE identity is outside its issueDate..nextUpdate window"),
    ROW(SCITT_TEE_DCAP_TCB_INFO_TEE, "the TCB info is for another TEE than the quote"),
    ROW(SCITT_TEE_DCAP_FMSPC, "the TCB info's FMSPC or PCE-ID is not the PCK certificate's"),
    ROW(SCITT_TEE_DCAP_QE_IDENTITY_TEE, "the QE identity is for another TEE's quoting enclave"),
    ROW(SCITT_TEE_DCAP_QE_MISMATCH, "the QE report does not match the QE identity"),
    ROW(SCITT_TEE_DCAP_TDX_MODULE, "the TDX module does not match a TDX module identity"),
    ROW(SCITT_TEE_DCAP_TCB_NOT_SUPPORTED, "no TCB level of the TCB info matches the platform"),
    ROW(SCITT_TEE_DCAP_TCB_STATUS, "the TCB status is not one the policy accepts"),
    ROW(SCITT_TEE_DCAP_PCK_CRL_CHAIN, "the PCK CRL issuer chain is not the quote's PCK CA"),
    ROW(SCITT_TEE_DCAP_PLATFORM, "the quote is from another TEE than the bundle's platform"),
    ROW(SCITT_TEE_POLICY_RTMR, "an RTMR is not the expected value"),
    ROW(SCITT_TEE_POLICY_MRENCLAVE, "MRENCLAVE is not one of the allowed values"),
    ROW(SCITT_TEE_POLICY_MRSIGNER, "MRSIGNER is not one of the allowed values"),
    ROW(SCITT_TEE_DCAP_LEAF_USAGE,
        "a PCK or TCB Signing certificate may not sign (keyUsage without digitalSignature, or a "
        "CA)"),
    ROW(SCITT_TEE_DCAP_NO_COLLATERAL,
        "no DCAP collateral: the bundle carries none and no collateral directory was given"),
};

static const reason_row *find(scitt_tee_reason r)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].reason == r) {
            return &rows[i];
        }
    }
    return NULL;
}

const char *scitt_tee_reason_str(scitt_tee_reason r)
{
    const reason_row *row = find(r);
    return row ? row->text : "unknown TEE check";
}

const char *scitt_tee_reason_name(scitt_tee_reason r)
{
    const reason_row *row = find(r);
    return row ? row->name : "SCITT_TEE_UNKNOWN";
}
