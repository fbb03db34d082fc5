/*
 * /dev/sev-guest (linux/sev-guest.h): SNP_GET_REPORT, SNP_GET_EXT_REPORT and SNP_GET_DERIVED_KEY.
 * The ioctl answers with the firmware's MSG_REPORT_RSP header in front of the report, which is
 * checked and stripped here. The driver disables the VMPCK after a failed exchange, so a failure
 * is reported, never retried in a loop.
 */
#include "scitt/tee.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sev-guest.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acquire_internal.h"
#include "scitt/limits.h"
#include "tee_internal.h"

#define REPORT_RSP_HEADER 0x20u
#define GUARD_LEN         64u
#define GUARD_BYTE        0xa5u
#define CERTS_MAX         0x4000u /* the kernel's SEV_FW_BLOB_MAX_SIZE */
#define PAGE              4096u

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

scitt_err scitt__sev_report_response(const uint8_t *resp, size_t resp_len, scitt_span *report,
                                     scitt_tee_reason *why)
{
    if (resp_len < REPORT_RSP_HEADER) {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_RESPONSE, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    uint32_t status = le32(resp);
    uint32_t size = le32(resp + 4);
    if (status != 0) {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_FIRMWARE, SCITT_ERR_IO);
    }
    if (size != SCITT_SNP_REPORT_LEN || size > resp_len - REPORT_RSP_HEADER) {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_RESPONSE, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    *report = scitt_span_make(resp + REPORT_RSP_HEADER, size);
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}

scitt_err scitt__sev_key_response(const uint8_t resp[64], uint8_t key[32], scitt_tee_reason *why)
{
    if (le32(resp) != 0) {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_FIRMWARE, SCITT_ERR_IO);
    }
    memcpy(key, resp + 32, 32);
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}

/* Opens the device and makes sure it is one: a regular file or a FIFO cannot take ioctls. */
static scitt_err open_device(const scitt_tee_acquire_opts *o, int *fd, scitt_tee_reason *why)
{
    const char *path = o->sev_guest ? o->sev_guest : SCITT__SEV_GUEST_DEFAULT;
    /* O_NONBLOCK keeps a FIFO at this path from blocking the open. */
    *fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0) {
        return errno == ENOENT || errno == ENODEV || errno == ENXIO
                   ? scitt__tee_fail(why, SCITT_TEE_ACQ_NO_DEVICE, SCITT_ERR_NO_TEE)
                   : scitt__tee_fail(why, SCITT_TEE_ACQ_IO, SCITT_ERR_IO);
    }
    struct stat st;
    if (fstat(*fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
        close(*fd);
        *fd = -1;
        return scitt__tee_fail(why, SCITT_TEE_ACQ_NOT_DEVICE, SCITT_ERR_NO_TEE);
    }
    return SCITT_OK;
}

/* Maps a failed guest-request ioctl to an error. */
static scitt_err ioctl_error(int e, const struct snp_guest_request_ioctl *io, scitt_tee_reason *why)
{
    if (e == ENOTTY || e == EINVAL) {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_IOCTL, SCITT_ERR_NO_TEE);
    }
    if (io->vmm_error == SNP_GUEST_VMM_ERR_BUSY || e == EAGAIN) {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_FIRMWARE, SCITT_ERR_BUSY);
    }
    if (io->vmm_error == SNP_GUEST_VMM_ERR_INVALID_LEN) {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_TOO_LARGE, SCITT_ERR_TOO_LARGE);
    }
    return scitt__tee_fail(why, SCITT_TEE_ACQ_FIRMWARE, SCITT_ERR_IO);
}

/* The response buffer with a guard after it: a kernel that wrote past the documented 4000 bytes
 * is detected instead of silently trusted. */
typedef struct guarded_resp {
    struct snp_report_resp resp;
    uint8_t guard[GUARD_LEN];
} guarded_resp;

scitt_err scitt_tee_acquire_sev_guest(const scitt_tee_acquire_opts *o,
                                      const uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN],
                                      scitt_tee_evidence *out, scitt_tee_reason *why)
{
    if (!o || !report_data || !out || o->privlevel > 3) {
        return SCITT_ERR_INVALID_ARG;
    }
    int fd = -1;
    scitt_err err = open_device(o, &fd, why);
    if (err != SCITT_OK) {
        return err;
    }
    scitt_tee_evidence e;
    scitt_tee_evidence_init(&e);
    e.platform = SCITT_TEE_SEV_SNP;
    e.source = SCITT_TEE_SRC_SEV_GUEST;
    guarded_resp *g = scitt_calloc(1, sizeof(*g));
    uint8_t *certs = NULL;
    if (!g) {
        err = SCITT_ERR_NOMEM;
        goto out;
    }
    memset(g->guard, GUARD_BYTE, sizeof(g->guard));
    struct snp_ext_report_req ext;
    memset(&ext, 0, sizeof(ext));
    memcpy(ext.data.user_data, report_data, 64);
    ext.data.vmpl = o->privlevel;
    struct snp_guest_request_ioctl io;
    memset(&io, 0, sizeof(io));
    io.msg_version = 1;
    io.resp_data = (uint64_t)(uintptr_t)&g->resp;
    int rc;
    if (o->want_certs) {
        /* The kernel wants a page-aligned buffer whose length is a multiple of the page size. */
        certs = aligned_alloc(PAGE, CERTS_MAX);
        if (!certs) {
            err = SCITT_ERR_NOMEM;
            goto out;
        }
        memset(certs, 0, CERTS_MAX);
        ext.certs_address = (uint64_t)(uintptr_t)certs;
        ext.certs_len = CERTS_MAX;
        io.req_data = (uint64_t)(uintptr_t)&ext;
        rc = ioctl(fd, SNP_GET_EXT_REPORT, &io);
    } else {
        io.req_data = (uint64_t)(uintptr_t)&ext.data;
        rc = ioctl(fd, SNP_GET_REPORT, &io);
    }
    if (rc != 0) {
        err = ioctl_error(errno, &io, why);
        goto out;
    }
    for (size_t i = 0; i < GUARD_LEN; i++) {
        if (g->guard[i] != GUARD_BYTE) {
            err = scitt__tee_fail(why, SCITT_TEE_ACQ_RESPONSE, SCITT_ERR_EVIDENCE_MALFORMED);
            goto out;
        }
    }
    scitt_span rep;
    err = scitt__sev_report_response(g->resp.data, sizeof(g->resp.data), &rep, why);
    if (err == SCITT_OK) {
        err = scitt__check_snp_report(rep, report_data, why);
    }
    if (err != SCITT_OK) {
        goto out;
    }
    e.report = scitt_malloc(rep.len);
    if (!e.report) {
        err = SCITT_ERR_NOMEM;
        goto out;
    }
    memcpy(e.report, rep.ptr, rep.len);
    e.report_len = rep.len;
    if (certs && ext.certs_len > 0) {
        /* An all-zero table means the host supplied no certificates. */
        size_t n = ext.certs_len < CERTS_MAX ? ext.certs_len : CERTS_MAX;
        e.certs = scitt_malloc(n);
        if (!e.certs) {
            err = SCITT_ERR_NOMEM;
            goto out;
        }
        memcpy(e.certs, certs, n);
        e.certs_len = n;
    }
    scitt_tee_evidence_clear(out);
    *out = e;
    scitt_tee_evidence_init(&e);
    (void)scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
out:
    scitt_tee_evidence_clear(&e);
    free(certs);
    scitt_free(g);
    close(fd);
    return err;
}

scitt_err scitt_tee_snp_derive_key(const scitt_tee_acquire_opts *o,
                                   const scitt_snp_key_request *req, uint8_t key[32],
                                   scitt_tee_reason *why)
{
    if (!o || !req || !key || req->vmpl > 3 || req->root_key_select > 1 ||
        (req->guest_field_select >> 6) != 0) {
        return SCITT_ERR_INVALID_ARG;
    }
    int fd = -1;
    scitt_err err = open_device(o, &fd, why);
    if (err != SCITT_OK) {
        return err;
    }
    struct snp_derived_key_req kr;
    memset(&kr, 0, sizeof(kr));
    kr.root_key_select = req->root_key_select;
    kr.guest_field_select = req->guest_field_select;
    kr.vmpl = req->vmpl;
    kr.guest_svn = req->guest_svn;
    kr.tcb_version = req->tcb_version;
    struct snp_derived_key_resp resp;
    memset(&resp, 0, sizeof(resp));
    struct snp_guest_request_ioctl io;
    memset(&io, 0, sizeof(io));
    io.msg_version = 1;
    io.req_data = (uint64_t)(uintptr_t)&kr;
    io.resp_data = (uint64_t)(uintptr_t)&resp;
    if (ioctl(fd, SNP_GET_DERIVED_KEY, &io) != 0) {
        err = ioctl_error(errno, &io, why);
    } else {
        err = scitt__sev_key_response(resp.data, key, why);
    }
    /* The response holds the key: it must not outlive this call on the stack. */
    scitt_wipe(&resp, sizeof(resp));
    close(fd);
    if (err == SCITT_OK) {
        (void)scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
    }
    return err;
}
