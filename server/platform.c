/*
 * The platform scittd runs on: SEV-SNP (evidence from configfs-tsm or /dev/sev-guest, service
 * keys sealed under a key the firmware derives for this measurement), Intel TDX (quotes from
 * configfs-tsm served with the operator's DCAP collateral; TDX gives a TD no sealing key, so the
 * keys are in a 0600 file and the data directory must be on storage only this TD can open:
 * docs/tee.md) or the INSECURE virtual platform (unsigned evidence, keys in a 0600 file). It
 * chooses the platform at start, provides the keystore, and builds the service bundle served at
 * /attestation.
 */
#include "scittd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scitt/attest.h"

static const char seal_aad[] = "scittd-service-keys-v1";

/* Guards d->dcap_collateral: nonce bundles copy it on read threads, SIGHUP replaces it. */
static pthread_mutex_t collateral_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- the sealed keystore (SEV-SNP) -------------------------------------------------------- */

/* A file of secrets (a key): its bytes into @p b, whose capacity is the bound (allocated at
 * once: keep it small); refused when group or others may read it. */
scitt_err scittd_read_secret_file(const char *option, const char *path, scitt_dynbuf *b,
                                  char *reason, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(reason, cap, "%s %s: cannot open: %s", option, path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return SCITT_ERR_IO;
    }
    scitt_err e = SCITT_OK;
    if ((st.st_mode & 077) != 0) {
        snprintf(reason, cap, "%s %s is readable by group or others (chmod 600 it)", option, path);
        e = SCITT_ERR_KEY_MALFORMED;
    }
    /* the whole bound at once: a buffer grown by realloc as the file is read would leave a copy
     * of the key in the block it gave back, where no wipe reaches */
    size_t at = b->len;
    if (e == SCITT_OK && scitt_dynbuf_reserve(b, b->max - at) == NULL) {
        snprintf(reason, cap, "%s %s: %s", option, path, scitt_err_str(b->err));
        e = b->err;
    }
    b->len = at;
    while (e == SCITT_OK) {
        uint8_t *dst = scitt_dynbuf_reserve(b, 256);
        if (dst == NULL) {
            snprintf(reason, cap, "%s %s: over %zu bytes", option, path, b->max);
            e = SCITT_ERR_TOO_LARGE;
            break;
        }
        b->len -= 256;
        ssize_t k = read(fd, dst, 256);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0) {
            snprintf(reason, cap, "%s %s: %s", option, path, strerror(errno));
            e = SCITT_ERR_IO;
        } else if (k == 0) {
            break;
        } else {
            b->len += (size_t)k;
        }
    }
    close(fd);
    return e;
}

/* The --keystore-key file: exactly 32 bytes, or 64 hex digits (a final newline allowed). */
static scitt_err keyfile_read(const char *path, uint8_t key[SCITT_SEAL_KEY_LEN], char *why,
                              size_t cap)
{
    scitt_dynbuf buf;
    scitt_dynbuf_init(&buf, 512); /* the reader takes 256 bytes at a time */
    scitt_err e = scittd_read_secret_file("--keystore-key", path, &buf, why, cap);
    if (e != SCITT_OK) {
        scitt_wipe(buf.ptr, buf.len);
        scitt_dynbuf_clear(&buf);
        return e;
    }
    size_t len = buf.len;
    e = SCITT_ERR_INVALID_ARG;
    if (len == SCITT_SEAL_KEY_LEN) {
        memcpy(key, buf.ptr, SCITT_SEAL_KEY_LEN);
        e = SCITT_OK;
    } else {
        while (len > 0 && (buf.ptr[len - 1] == '\n' || buf.ptr[len - 1] == '\r')) {
            len--;
        }
        size_t got = 0;
        if (len == 2 * SCITT_SEAL_KEY_LEN &&
            scitt_hex_decode(scitt_span_make(buf.ptr, len), key, SCITT_SEAL_KEY_LEN, &got) ==
                SCITT_OK &&
            got == SCITT_SEAL_KEY_LEN) {
            e = SCITT_OK;
        }
    }
    scitt_wipe(buf.ptr, buf.len);
    scitt_dynbuf_clear(&buf);
    if (e != SCITT_OK) {
        snprintf(why, cap, "--keystore-key %s must hold 32 bytes or 64 hex digits", path);
    }
    return e;
}

static scitt_err derive(scittd *d, uint8_t key[SCITT_SEAL_KEY_LEN])
{
    if (d->cfg.keystore_key) {
        char why[256];
        scitt_err e = keyfile_read(d->cfg.keystore_key, key, why, sizeof(why));
        if (e != SCITT_OK) {
            SCITT_LOG(SCITT_LOG_ERROR, "keystore_key", "reason=\"%s\"", why);
        }
        return e;
    }

    scitt_snp_key_request req;
    scitt_snp_key_request_init(&req);
    scitt_tee_reason why = SCITT_TEE_OK;
    scitt_err e = scitt_tee_snp_derive_key(&d->tee_opts, &req, key, &why);
    if (e != SCITT_OK) {
        SCITT_LOG(SCITT_LOG_ERROR, "seal", "err=%s reason=\"%s\"", scitt_err_name(e),
                  scitt_tee_reason_str(why));
    }
    return e;
}

static scitt_err sealed_load(void *ctx, scitt_dynbuf *out)
{
    scittd *d = ctx;
    scitt_dynbuf sealed;
    scitt_dynbuf_init(&sealed, 1u << 20);
    scitt_err e = d->file_ks.load(d->file_ks.ctx, &sealed);
    uint8_t key[SCITT_SEAL_KEY_LEN];
    e = e ? e : derive(d, key);
    e = e ? e
          : scitt_unseal(key, scitt_span_make(sealed.ptr, sealed.len), scitt_span_str(seal_aad),
                         out);
    scitt_wipe(key, sizeof(key));
    scitt_dynbuf_clear(&sealed);
    return e;
}

static scitt_err sealed_store(void *ctx, scitt_span blob)
{
    scittd *d = ctx;
    uint8_t key[SCITT_SEAL_KEY_LEN];
    scitt_dynbuf sealed;
    scitt_dynbuf_init(&sealed, 0);
    scitt_err e = derive(d, key);
    e = e ? e : scitt_seal(key, blob, scitt_span_str(seal_aad), &sealed);
    scitt_wipe(key, sizeof(key));
    e = e ? e : d->file_ks.store(d->file_ks.ctx, scitt_span_make(sealed.ptr, sealed.len));
    scitt_dynbuf_clear(&sealed);
    return e;
}

bool scittd_platform_can_seal(const scittd *d)
{
    return d->platform != NULL && (!strcmp(d->platform, "snp") ||
                                   (!strcmp(d->platform, "virtual") && d->cfg.keystore_key));
}

scitt_err scittd_platform_seal(scittd *d, bool seal, const char *aad, scitt_span in,
                               scitt_dynbuf *out)
{
    if (!scittd_platform_can_seal(d)) {
        return SCITT_ERR_UNSUPPORTED;
    }
    uint8_t key[SCITT_SEAL_KEY_LEN];
    scitt_err e = derive(d, key);
    e = e      ? e
        : seal ? scitt_seal(key, in, scitt_span_str(aad), out)
               : scitt_unseal(key, in, scitt_span_str(aad), out);
    scitt_wipe(key, sizeof(key));
    return e;
}

/* ---- choosing the platform ----------------------------------------------------------------- */

scitt_err scittd_platform_choose(scittd *d, char *reason, size_t cap)
{
    reason[0] = 0;
    d->tee_opts.tsm_root = d->cfg.tee_configfs;
    d->tee_opts.sev_guest = d->cfg.sev_guest;
    d->tee_opts.want_certs = true;
    const char *p = d->cfg.platform;
    scitt_tee_platform found = SCITT_TEE_NONE;
    scitt_tee_source src;
    scitt_tee_reason why = SCITT_TEE_OK;
    if (strcmp(p, "virtual") != 0 &&
        scitt_tee_detect(&d->tee_opts, &found, &src, &why) != SCITT_OK) {
        found = SCITT_TEE_NONE;
    }
    if (!strcmp(p, "auto")) {
        p = found == SCITT_TEE_SEV_SNP ? "snp" : found == SCITT_TEE_TDX ? "tdx" : "virtual";
    }
    if (d->cfg.keystore_key && strcmp(p, "virtual") != 0) {
        snprintf(reason, cap,
                 "--keystore-key is for the virtual platform: on %s the service keys are kept "
                 "as docs/tee.md says",
                 p);
        return SCITT_ERR_INVALID_ARG;
    }
    if (!strcmp(p, "tdx")) {
        if (found != SCITT_TEE_TDX) {
            snprintf(reason, cap, "no TDX guest (configfs-tsm provider tdx_guest) answers: %s",
                     scitt_tee_reason_str(why));
            return SCITT_ERR_NO_TEE;
        }
        if (!d->cfg.dcap_collateral) {
            snprintf(reason, cap,
                     "--platform tdx needs --dcap-collateral DIR: relying parties verify the "
                     "quote offline with the collateral served beside it (docs/tee.md)");
            return SCITT_ERR_NO_TEE;
        }
        d->platform = "tdx";
        d->insecure = false;
        scitt_keystore_file(d->cfg.data_dir, NULL, d->ks_path, sizeof(d->ks_path), &d->keystore);
        d->keystore.description = "a 0600 file (TDX offers no sealing key: keep the data "
                                  "directory on storage only this TD can open)";
        SCITT_LOG(SCITT_LOG_WARN, "platform",
                  "platform=tdx sealed=0 warning=\"TDX gives a TD no sealing key: the service "
                  "keys are in a 0600 file; keep the data directory on encrypted storage whose "
                  "key is released only to this TD's measurement\"");
        return SCITT_OK;
    }
    if (!strcmp(p, "snp")) {
        if (found != SCITT_TEE_SEV_SNP) {
            snprintf(reason, cap,
                     "no SEV-SNP guest device (configfs-tsm report or /dev/sev-guest) answers: %s",
                     scitt_tee_reason_str(why));
            return SCITT_ERR_NO_TEE;
        }
        d->platform = "snp";
        d->insecure = false;
        scitt_keystore_file(d->cfg.data_dir, "service-keys.sealed", d->ks_path, sizeof(d->ks_path),
                            &d->file_ks);
        d->keystore.load = sealed_load;
        d->keystore.store = sealed_store;
        d->keystore.description = "sealed to the SEV-SNP measurement (AES-256-GCM)";
        d->keystore.ctx = d;
        return SCITT_OK;
    }
    if (!d->cfg.insecure_virtual) {
        snprintf(reason, cap,
                 "no TEE in use: start with --platform virtual --insecure-virtual to "
                 "run INSECURE (keys in a plain file, unsigned evidence)");
        return SCITT_ERR_NO_TEE;
    }
    d->platform = "virtual";
    d->insecure = true;
    if (d->cfg.keystore_key) {
        uint8_t key[SCITT_SEAL_KEY_LEN];
        scitt_err e = keyfile_read(d->cfg.keystore_key, key, reason, cap);
        scitt_wipe(key, sizeof(key));
        if (e != SCITT_OK) {
            return e;
        }
        scitt_keystore_file(d->cfg.data_dir, "service-keys.enc", d->ks_path, sizeof(d->ks_path),
                            &d->file_ks);
        d->keystore.load = sealed_load;
        d->keystore.store = sealed_store;
        d->keystore.description = "INSECURE virtual platform: service keys encrypted "
                                  "(AES-256-GCM) under --keystore-key";
        d->keystore.ctx = d;
        return SCITT_OK;
    }
    scitt_keystore_file(d->cfg.data_dir, NULL, d->ks_path, sizeof(d->ks_path), &d->keystore);
    return SCITT_OK;
}

/* ---- evidence and the service bundle ------------------------------------------------------- */

/* The endorsements of SNP evidence: an operator PEM, else the certificate table the firmware
 * returned, else the Confidential ACI files. Never fetched from the network. */
static scitt_err endorsements(scittd *d, const scitt_tee_evidence *ev, scitt_dynbuf *pem)
{
    scitt_snp_certs certs;
    scitt_snp_certs_init(&certs);
    scitt_tee_reason why = SCITT_TEE_OK;
    scitt_err e;
    if (d->cfg.snp_endorsements) {
        FILE *f = fopen(d->cfg.snp_endorsements, "rb");
        if (!f) {
            return SCITT_ERR_IO;
        }
        uint8_t buf[65536];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        e = scitt_snp_certs_add_pem(&certs, scitt_span_make(buf, n), &why);
    } else if (ev->certs_len) {
        e = scitt_snp_certs_add_table(&certs, scitt_span_make(ev->certs, ev->certs_len), &why);
    } else {
        scitt_tee_aci aci;
        scitt_tee_aci_init(&aci);
        e = scitt_tee_aci_read(NULL, &aci, &why);
        if (e == SCITT_OK && aci.host_amd_cert) {
            uint64_t tcbm;
            bool has_tcbm;
            e = scitt_snp_certs_add_thim(&certs,
                                         scitt_span_make(aci.host_amd_cert, aci.host_amd_cert_len),
                                         &tcbm, &has_tcbm, &why);
        } else if (e == SCITT_OK) {
            e = SCITT_ERR_NOT_FOUND;
        }
        scitt_tee_aci_clear(&aci);
    }
    e = e ? e : scitt_snp_certs_to_pem(&certs, pem);
    scitt_snp_certs_clear(&certs);
    if (e != SCITT_OK) {
        SCITT_LOG(SCITT_LOG_ERROR, "endorsements", "err=%s reason=\"%s\"", scitt_err_name(e),
                  scitt_tee_reason_str(why));
    }
    return e;
}

scitt_err scittd_platform_bundle(scittd *d, scitt_span nonce, scitt_dynbuf *out)
{
    return scittd_platform_bundle_for(d, scitt_service_identity(d->svc), nonce, out);
}

scitt_err scittd_platform_bundle_for(scittd *d, scitt_span identity, scitt_span nonce,
                                     scitt_dynbuf *out)
{
    uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN];
    scitt_err e = scitt_attest_report_data(identity, nonce, report_data);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_dynbuf ev;
    scitt_dynbuf_init(&ev, 0);
    if (d->insecure) {
        /* Unsigned and marked insecure: no verifier can mistake it for hardware evidence. */
        e = scitt_attest_virtual_evidence(d->binary_sha384, report_data, &ev);
        e = e ? e
              : scitt_attest_bundle_encode("virtual", identity, scitt_span_make(ev.ptr, ev.len),
                                           scitt_span_make(NULL, 0), out);
        scitt_dynbuf_clear(&ev);
        return e;
    }
    scitt_tee_evidence evidence;
    scitt_tee_evidence_init(&evidence);
    scitt_tee_reason why = SCITT_TEE_OK;
    e = scitt_tee_acquire(&d->tee_opts, report_data, &evidence, &why);
    if (e != SCITT_OK) {
        SCITT_LOG(SCITT_LOG_ERROR, "evidence", "err=%s reason=\"%s\"", scitt_err_name(e),
                  scitt_tee_reason_str(why));
    }
    if (e == SCITT_OK && evidence.platform == SCITT_TEE_TDX) {
        /* The collateral loaded at start (the first bundle reads the directory) or by the last
         * SIGHUP: a directory being rewritten never reaches a relying party half-done. */
        pthread_mutex_lock(&collateral_mu);
        if (d->dcap_collateral.len == 0) {
            scitt_dynbuf_clear(&d->dcap_collateral);
            scitt_dynbuf_init(&d->dcap_collateral, 0);
            e = scitt_tee_dcap_collateral_read(d->cfg.dcap_collateral, &d->dcap_collateral, &why);
            if (e != SCITT_OK) {
                scitt_dynbuf_clear(&d->dcap_collateral);
                SCITT_LOG(SCITT_LOG_ERROR, "collateral", "dir=\"%s\" err=%s reason=\"%s\"",
                          d->cfg.dcap_collateral, scitt_err_name(e), scitt_tee_reason_str(why));
            }
        }
        if (e == SCITT_OK) {
            scitt_dynbuf_put(&ev, d->dcap_collateral.ptr, d->dcap_collateral.len);
            e = ev.err;
        }
        pthread_mutex_unlock(&collateral_mu);
        e = e ? e
              : scitt_attest_bundle_encode("tdx", identity,
                                           scitt_span_make(evidence.report, evidence.report_len),
                                           scitt_span_make(ev.ptr, ev.len), out);
        scitt_tee_evidence_clear(&evidence);
        scitt_dynbuf_clear(&ev);
        return e;
    }
    e = e ? e : endorsements(d, &evidence, &ev);
    e = e ? e
          : scitt_attest_bundle_encode("snp", identity,
                                       scitt_span_make(evidence.report, evidence.report_len),
                                       scitt_span_make(ev.ptr, ev.len), out);
    scitt_tee_evidence_clear(&evidence);
    scitt_dynbuf_clear(&ev);
    return e;
}

void scittd_platform_reload(scittd *d)
{
    if (d->insecure || !d->platform || strcmp(d->platform, "tdx") != 0) {
        return;
    }
    scitt_dynbuf fresh, bundle;
    scitt_dynbuf_init(&fresh, 0);
    scitt_dynbuf_init(&bundle, 0);
    scitt_tee_reason why = SCITT_TEE_OK;
    scitt_err e = scitt_tee_dcap_collateral_read(d->cfg.dcap_collateral, &fresh, &why);
    const char *reason = scitt_tee_reason_str(why);
    /* The start bundle again: its quote (bound to the identity, no nonce: it is still the
     * evidence) with the new collateral. No device I/O on the loop thread. */
    scitt_attest_bundle b;
    if (e == SCITT_OK) {
        e = scitt_attest_bundle_parse(scitt_span_make(d->bundle.ptr, d->bundle.len), &b);
        e = e ? e
              : scitt_attest_bundle_encode("tdx", b.identity, b.evidence,
                                           scitt_span_make(fresh.ptr, fresh.len), &bundle);
        reason = "the start bundle cannot be made again";
    }
    if (e != SCITT_OK) {
        SCITT_LOG(SCITT_LOG_ERROR, "collateral",
                  "reload=0 dir=\"%s\" err=%s reason=\"%s\" action=\"old collateral kept\"",
                  d->cfg.dcap_collateral, scitt_err_name(e), reason);
        scitt_dynbuf_clear(&fresh);
        scitt_dynbuf_clear(&bundle);
        return;
    }
    pthread_mutex_lock(&collateral_mu);
    scitt_dynbuf old = d->dcap_collateral;
    d->dcap_collateral = fresh;
    pthread_mutex_unlock(&collateral_mu);
    scitt_dynbuf tmp = d->bundle; /* served on this thread only, and responses copy it */
    d->bundle = bundle;
    SCITT_LOG(SCITT_LOG_INFO, "collateral", "reload=1 dir=\"%s\" bytes=%zu", d->cfg.dcap_collateral,
              d->dcap_collateral.len);
    scitt_dynbuf_clear(&old);
    scitt_dynbuf_clear(&tmp);
}
