/*
 * Acquisition plumbing: owned evidence, bounded file I/O for sysfs/configfs attributes, the
 * source order (configfs-tsm, then /dev/sev-guest), detection, and the Confidential ACI
 * security-context files.
 */
#include "scitt/tee.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acquire_internal.h"
#include "scitt/attest.h"
#include "scitt/dcap.h"
#include "scitt/limits.h"
#include "tee_internal.h"

void scitt_tee_evidence_init(scitt_tee_evidence *e)
{
    memset(e, 0, sizeof(*e));
}

void scitt_tee_evidence_clear(scitt_tee_evidence *e)
{
    if (!e) {
        return;
    }
    scitt_free(e->report);
    scitt_free(e->certs);
    memset(e, 0, sizeof(*e));
}

scitt_err scitt__read_file(const char *path, size_t max, uint8_t **out, size_t *len,
                           scitt_tee_reason *why)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT
                   ? scitt__tee_fail(why, SCITT_TEE_ACQ_TSM_ATTRIBUTE, SCITT_ERR_NOT_FOUND)
                   : scitt__tee_fail(why, SCITT_TEE_ACQ_IO, SCITT_ERR_IO);
    }
    /* One byte more than allowed tells "exactly max" from "too large". */
    uint8_t *buf = scitt_malloc(max + 1);
    if (!buf) {
        close(fd);
        return SCITT_ERR_NOMEM;
    }
    size_t n = 0;
    scitt_err err = SCITT_OK;
    while (n < max + 1) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            /* configfs-tsm answers EFBIG for a blob beyond its own maximum. */
            err = errno == EFBIG
                      ? scitt__tee_fail(why, SCITT_TEE_ACQ_TOO_LARGE, SCITT_ERR_TOO_LARGE)
                      : scitt__tee_fail(why, SCITT_TEE_ACQ_IO, SCITT_ERR_IO);
            break;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    if (err == SCITT_OK && n > max) {
        err = scitt__tee_fail(why, SCITT_TEE_ACQ_TOO_LARGE, SCITT_ERR_TOO_LARGE);
    }
    if (err != SCITT_OK) {
        scitt_free(buf);
        return err;
    }
    *out = buf;
    *len = n;
    return SCITT_OK;
}

scitt_err scitt__write_file(const char *path, const void *data, size_t len, scitt_tee_reason *why)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT
                   ? scitt__tee_fail(why, SCITT_TEE_ACQ_TSM_ATTRIBUTE, SCITT_ERR_NOT_FOUND)
                   : scitt__tee_fail(why, SCITT_TEE_ACQ_IO, SCITT_ERR_IO);
    }
    ssize_t w;
    do {
        w = write(fd, data, len);
    } while (w < 0 && errno == EINTR);
    /* configfs binary attributes commit on release, so a failed close is a failed write. */
    int c = close(fd);
    if (w < 0 || (size_t)w != len || c != 0) {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_IO, SCITT_ERR_IO);
    }
    return SCITT_OK;
}

scitt_err scitt__check_snp_report(scitt_span report, const uint8_t report_data[64],
                                  scitt_tee_reason *why)
{
    scitt_snp_report r;
    scitt_err err = scitt_snp_report_parse(report, &r, why);
    if (err != SCITT_OK) {
        return err;
    }
    if (memcmp(r.report_data, report_data, 64) != 0) {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_REPORT_DATA, SCITT_ERR_BINDING);
    }
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}

scitt_err scitt__check_tdx_quote(scitt_span quote, const uint8_t report_data[64],
                                 scitt_tee_reason *why)
{
    scitt_dcap_quote *q = scitt_malloc(sizeof(*q));
    if (!q) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err err = scitt_dcap_quote_parse(quote, q, why);
    if (err == SCITT_OK && q->tee != SCITT_DCAP_TEE_TDX) {
        err = scitt__tee_fail(why, SCITT_TEE_DCAP_TEE_TYPE, SCITT_ERR_EVIDENCE_MALFORMED);
    } else if (err == SCITT_OK && memcmp(q->td.report_data, report_data, 64) != 0) {
        err = scitt__tee_fail(why, SCITT_TEE_ACQ_REPORT_DATA, SCITT_ERR_BINDING);
    } else if (err == SCITT_OK) {
        err = scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
    } else if (err == SCITT_ERR_UNSUPPORTED || err == SCITT_ERR_TOO_LARGE) {
        err = SCITT_ERR_EVIDENCE_MALFORMED; /* not a quote we can serve */
    }
    scitt_free(q);
    return err;
}

scitt_err scitt_tee_dcap_collateral_read(const char *dir, scitt_dynbuf *out, scitt_tee_reason *why)
{
    if (!dir || !out || strlen(dir) > 3900) {
        return SCITT_ERR_INVALID_ARG;
    }
    uint8_t *bytes[SCITT_DCAP_ITEMS] = {NULL};
    scitt_span files[SCITT_DCAP_ITEMS];
    scitt_dcap_collateral *c = NULL;
    scitt_err err = scitt_dcap_collateral_new(&c);
    for (int i = 0; err == SCITT_OK && i < SCITT_DCAP_ITEMS; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, scitt_dcap_item_file((scitt_dcap_item)i));
        size_t n = 0;
        files[i] = scitt_span_make(NULL, 0);
        err = scitt__read_file(path, SCITT_DCAP_COLLATERAL_FILE_MAX, &bytes[i], &n, why);
        if (err == SCITT_ERR_NOT_FOUND && !scitt_dcap_item_required((scitt_dcap_item)i)) {
            err = SCITT_OK;
            continue;
        }
        if (err == SCITT_ERR_NOT_FOUND) {
            err = scitt__tee_fail(why, SCITT_TEE_DCAP_COLLATERAL_MISSING, SCITT_ERR_NOT_FOUND);
        }
        files[i] = scitt_span_make(bytes[i], n);
        /* parsed here, so that a broken file is refused by the operator's daemon, not by every
         * relying party */
        err = err ? err : scitt_dcap_collateral_set(c, (scitt_dcap_item)i, files[i], why);
    }
    err = err ? err : scitt_attest_collateral_encode(files, out);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        scitt_free(bytes[i]);
    }
    scitt_dcap_collateral_free(c);
    return err;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

scitt_err scitt_tee_acquire(const scitt_tee_acquire_opts *o,
                            const uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN],
                            scitt_tee_evidence *out, scitt_tee_reason *why)
{
    if (!o || !report_data || !out) {
        return SCITT_ERR_INVALID_ARG;
    }
    const char *root = o->tsm_root ? o->tsm_root : SCITT__TSM_ROOT_DEFAULT;
    /* configfs-tsm first: one ABI for SNP and TDX, no ioctl struct drift. Only "there is no
     * usable configfs-tsm" falls through to the device; a real failure there is reported. */
    if (is_dir(root)) {
        scitt_err err = scitt_tee_acquire_tsm(o, report_data, out, why);
        if (err != SCITT_ERR_NO_TEE) {
            return err;
        }
    }
    return scitt_tee_acquire_sev_guest(o, report_data, out, why);
}

scitt_err scitt_tee_detect(const scitt_tee_acquire_opts *o, scitt_tee_platform *platform,
                           scitt_tee_source *source, scitt_tee_reason *why)
{
    if (!o || !platform || !source) {
        return SCITT_ERR_INVALID_ARG;
    }
    *platform = SCITT_TEE_NONE;
    *source = SCITT_TEE_SRC_NONE;
    scitt_tee_evidence e;
    scitt_tee_evidence_init(&e);
    /* A throw-away request is the only way to learn the configfs provider and to know the
     * device answers; its report_data is zero. */
    static const uint8_t zero[SCITT_TEE_REPORT_DATA_LEN] = {0};
    scitt_err err = scitt_tee_acquire(o, zero, &e, why);
    if (err == SCITT_OK) {
        *platform = e.platform;
        *source = e.source;
    }
    scitt_tee_evidence_clear(&e);
    return err;
}

void scitt_snp_key_request_init(scitt_snp_key_request *r)
{
    memset(r, 0, sizeof(*r));
    r->root_key_select = SCITT_SNP_KEY_ROOT_VCEK;
    r->guest_field_select = SCITT_SNP_KEY_FIELD_MEASUREMENT | SCITT_SNP_KEY_FIELD_POLICY;
}

void scitt_tee_aci_init(scitt_tee_aci *a)
{
    memset(a, 0, sizeof(*a));
}

void scitt_tee_aci_clear(scitt_tee_aci *a)
{
    if (!a) {
        return;
    }
    scitt_free(a->host_amd_cert);
    scitt_free(a->security_policy);
    scitt_free(a->reference_info);
    memset(a, 0, sizeof(*a));
}

/* Reads and base64-decodes one security-context file; a missing file leaves *out NULL. */
static scitt_err aci_file(const char *dir, const char *name, uint8_t **out, size_t *len,
                          scitt_tee_reason *why)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
        return SCITT_ERR_INVALID_ARG;
    }
    uint8_t *text = NULL;
    size_t n = 0;
    scitt_err err = scitt__read_file(path, SCITT_LIMIT_TEE_FILE, &text, &n, why);
    if (err == SCITT_ERR_NOT_FOUND) {
        return SCITT_OK;
    }
    if (err != SCITT_OK) {
        return err;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, SCITT_LIMIT_TEE_FILE);
    err = scitt_tee_aci_decode(scitt_span_make(text, n), &b, why);
    scitt_free(text);
    if (err != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        return err;
    }
    /* A present but empty file still gets a (one-byte) allocation, so NULL keeps meaning
     * "absent". */
    *out = b.len ? scitt_dynbuf_steal(&b, len) : scitt_malloc(1);
    scitt_dynbuf_clear(&b);
    if (!*out) {
        return SCITT_ERR_NOMEM;
    }
    return SCITT_OK;
}

scitt_err scitt_tee_aci_read(const char *dir, scitt_tee_aci *out, scitt_tee_reason *why)
{
    if (!out) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_tee_aci_init(out);
    if (!dir) {
        dir = getenv("UVM_SECURITY_CONTEXT_DIR");
    }
    if (!dir || !*dir) {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_ACI_FILE, SCITT_ERR_NOT_FOUND);
    }
    scitt_err err =
        aci_file(dir, "host-amd-cert-base64", &out->host_amd_cert, &out->host_amd_cert_len, why);
    if (err == SCITT_OK) {
        err = aci_file(dir, "security-policy-base64", &out->security_policy,
                       &out->security_policy_len, why);
    }
    if (err == SCITT_OK) {
        err = aci_file(dir, "reference-info-base64", &out->reference_info, &out->reference_info_len,
                       why);
    }
    if (err == SCITT_OK && !out->host_amd_cert && !out->security_policy && !out->reference_info) {
        err = scitt__tee_fail(why, SCITT_TEE_ACQ_ACI_FILE, SCITT_ERR_NOT_FOUND);
    }
    if (err != SCITT_OK) {
        scitt_tee_aci_clear(out);
        return err;
    }
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}
