/*
 * configfs-tsm (Documentation/ABI/testing/configfs-tsm-report): one private report entry per
 * request under /sys/kernel/config/tsm/report. The kernel creates the attribute files at mkdir;
 * writing inblob (or privlevel) bumps `generation`, reading outblob produces the report, auxblob
 * holds the SNP certificate table, and an unchanged generation after the reads proves the blobs
 * belong to our inblob and not to a concurrent writer.
 */
#include "scitt/tee.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acquire_internal.h"
#include "scitt/limits.h"
#include "tee_internal.h"

/* Reads a decimal attribute ("%lu\n" in the kernel). */
static scitt_err read_u64_attr(const char *entry, const char *name, uint64_t *out,
                               scitt_tee_reason *why)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", entry, name);
    uint8_t *text = NULL;
    size_t n = 0;
    scitt_err err = scitt__read_file(path, 32, &text, &n, why);
    if (err != SCITT_OK) {
        return err == SCITT_ERR_NOT_FOUND || err == SCITT_ERR_TOO_LARGE
                   ? scitt__tee_fail(why, SCITT_TEE_ACQ_TSM_ATTRIBUTE, SCITT_ERR_NO_TEE)
                   : err;
    }
    uint64_t v = 0;
    size_t i = 0;
    bool ok = n >= 2 && text[n - 1] == '\n';
    for (; ok && i + 1 < n; i++) {
        if (text[i] < '0' || text[i] > '9' || v > (UINT64_MAX - 9) / 10) {
            ok = false;
            break;
        }
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    scitt_free(text);
    if (!ok) {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_TSM_ATTRIBUTE, SCITT_ERR_IO);
    }
    *out = v;
    return SCITT_OK;
}

/* The provider names the TSM driver: "sev_guest" or "tdx_guest" (with a newline). */
static scitt_err read_provider(const char *entry, scitt_tee_evidence *out, scitt_tee_reason *why)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/provider", entry);
    uint8_t *text = NULL;
    size_t n = 0;
    scitt_err err = scitt__read_file(path, 64, &text, &n, why);
    if (err != SCITT_OK) {
        return err == SCITT_ERR_NOT_FOUND || err == SCITT_ERR_TOO_LARGE
                   ? scitt__tee_fail(why, SCITT_TEE_ACQ_TSM_ATTRIBUTE, SCITT_ERR_NO_TEE)
                   : err;
    }
    if (n > 0 && text[n - 1] == '\n') {
        n--;
    }
    if (n >= sizeof(out->provider)) {
        scitt_free(text);
        return scitt__tee_fail(why, SCITT_TEE_ACQ_TSM_PROVIDER, SCITT_ERR_UNSUPPORTED);
    }
    memcpy(out->provider, text, n);
    out->provider[n] = 0;
    scitt_free(text);
    if (strcmp(out->provider, "sev_guest") == 0) {
        out->platform = SCITT_TEE_SEV_SNP;
    } else if (strcmp(out->provider, "tdx_guest") == 0) {
        out->platform = SCITT_TEE_TDX;
    } else {
        return scitt__tee_fail(why, SCITT_TEE_ACQ_TSM_PROVIDER, SCITT_ERR_UNSUPPORTED);
    }
    return SCITT_OK;
}

scitt_err scitt__tsm_request(const char *entry, const uint8_t report_data[64], uint32_t privlevel,
                             scitt_tee_evidence *out, scitt_tee_reason *why)
{
    if (strlen(entry) > 4000) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_tee_evidence e;
    scitt_tee_evidence_init(&e);
    e.source = SCITT_TEE_SRC_TSM;
    char path[4200];
    uint64_t gen0 = 0, gen1 = 0, writes = 0;
    scitt_err err = read_provider(entry, &e, why);
    if (err == SCITT_OK) {
        err = read_u64_attr(entry, "generation", &gen0, why);
    }
    if (err == SCITT_OK && privlevel > 0) {
        char level[16];
        int len = snprintf(level, sizeof(level), "%u\n", privlevel);
        snprintf(path, sizeof(path), "%s/privlevel", entry);
        err = scitt__write_file(path, level, (size_t)len, why);
        writes++;
    }
    if (err == SCITT_OK) {
        /* One write of all 64 bytes: the kernel takes inblob as written in one go. */
        snprintf(path, sizeof(path), "%s/inblob", entry);
        err = scitt__write_file(path, report_data, 64, why);
        writes++;
    }
    if (err == SCITT_OK) {
        snprintf(path, sizeof(path), "%s/outblob", entry);
        err = scitt__read_file(path, SCITT_LIMIT_TEE_BLOB, &e.report, &e.report_len, why);
    }
    if (err == SCITT_OK) {
        /* auxblob may be absent (TDX) or empty (hosts that do not supply certificates). */
        snprintf(path, sizeof(path), "%s/auxblob", entry);
        err = scitt__read_file(path, SCITT_LIMIT_TEE_BLOB, &e.certs, &e.certs_len, why);
        if (err == SCITT_ERR_NOT_FOUND) {
            err = SCITT_OK;
        }
    }
    if (err == SCITT_OK) {
        err = read_u64_attr(entry, "generation", &gen1, why);
    }
    if (err == SCITT_OK && gen1 != gen0 + writes) {
        err = scitt__tee_fail(why, SCITT_TEE_ACQ_TSM_RACE, SCITT_ERR_BUSY);
    }
    if (err == SCITT_OK && e.platform == SCITT_TEE_SEV_SNP) {
        err = scitt__check_snp_report(scitt_span_make(e.report, e.report_len), report_data, why);
    }
    if (err == SCITT_OK && e.platform == SCITT_TEE_TDX) {
        err = scitt__check_tdx_quote(scitt_span_make(e.report, e.report_len), report_data, why);
    }
    if (err == SCITT_ERR_NOT_FOUND) {
        /* An attribute configfs-tsm always has is missing: this is not configfs-tsm. */
        err = scitt__tee_fail(why, SCITT_TEE_ACQ_TSM_ATTRIBUTE, SCITT_ERR_NO_TEE);
    }
    if (err != SCITT_OK) {
        scitt_tee_evidence_clear(&e);
        return err;
    }
    e.generation = gen1;
    scitt_tee_evidence_clear(out);
    *out = e;
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}

scitt_err scitt_tee_acquire_tsm(const scitt_tee_acquire_opts *o,
                                const uint8_t report_data[SCITT_TEE_REPORT_DATA_LEN],
                                scitt_tee_evidence *out, scitt_tee_reason *why)
{
    if (!o || !report_data || !out || o->privlevel > 3) {
        return SCITT_ERR_INVALID_ARG;
    }
    const char *root = o->tsm_root ? o->tsm_root : SCITT__TSM_ROOT_DEFAULT;
    if (strlen(root) > 3900) {
        return SCITT_ERR_INVALID_ARG;
    }
    /* A private entry per request, named so that concurrent requesters (threads, processes)
     * never share one. */
    static atomic_uint seq;
    char entry[4096];
    int made = -1;
    for (int attempt = 0; attempt < 8 && made != 0; attempt++) {
        snprintf(entry, sizeof(entry), "%s/scittd-%ld-%u", root, (long)getpid(),
                 atomic_fetch_add(&seq, 1u));
        made = mkdir(entry, 0700);
        if (made != 0 && errno != EEXIST) {
            break;
        }
    }
    if (made != 0) {
        /* No configfs-tsm, or one without a TSM provider (ENXIO/ENODEV): try the device. */
        if (errno == ENOENT || errno == ENOTDIR || errno == ENXIO || errno == ENODEV ||
            errno == EOPNOTSUPP) {
            return scitt__tee_fail(why, SCITT_TEE_ACQ_NO_DEVICE, SCITT_ERR_NO_TEE);
        }
        return scitt__tee_fail(why, SCITT_TEE_ACQ_TSM_ENTRY, SCITT_ERR_IO);
    }
    scitt_err err = scitt__tsm_request(entry, report_data, o->privlevel, out, why);
    /* The entry is ours alone; remove it whatever happened (configfs frees the report then). A
     * failed rmdir does not make checked evidence wrong: the entry only holds kernel memory, and
     * the next request uses a new name. */
    (void)rmdir(entry);
    return err;
}
