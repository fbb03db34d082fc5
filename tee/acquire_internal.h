/*
 * Internals of evidence acquisition, shared by the acquire_*.c files and reachable from the unit
 * tests (which drive them against fake configfs entries and fake device responses).
 */
#ifndef SCITT_TEE_ACQUIRE_INTERNAL_H
#define SCITT_TEE_ACQUIRE_INTERNAL_H

#include "scitt/tee.h"

#define SCITT__TSM_ROOT_DEFAULT  "/sys/kernel/config/tsm/report"
#define SCITT__SEV_GUEST_DEFAULT "/dev/sev-guest"

/* Reads a whole file of at most @p max bytes into a heap buffer (scitt_free). ENOENT gives
 * SCITT_ERR_NOT_FOUND, a larger file SCITT_ERR_TOO_LARGE (reason SCITT_TEE_ACQ_TOO_LARGE), any
 * other failure SCITT_ERR_IO. Reads until end of file, so FIFOs and sysfs/configfs attributes work.
 */
scitt_err scitt__read_file(const char *path, size_t max, uint8_t **out, size_t *len,
                           scitt_tee_reason *why);
/* Writes @p data to an existing file with one write() call and checks the close. */
scitt_err scitt__write_file(const char *path, const void *data, size_t len, scitt_tee_reason *why);

/* The configfs-tsm exchange on an entry directory that already exists (configfs creates its
 * attribute files at mkdir): provider, generation, [privlevel], inblob, outblob, auxblob,
 * generation. The caller owns the directory's lifetime. */
scitt_err scitt__tsm_request(const char *entry, const uint8_t report_data[64], uint32_t privlevel,
                             scitt_tee_evidence *out, scitt_tee_reason *why);

/* SNP_GET_REPORT's response buffer: MSG_REPORT_RSP {u32 status, u32 report_size, 24 reserved}
 * then the report. On success @p report points into @p resp. */
scitt_err scitt__sev_report_response(const uint8_t *resp, size_t resp_len, scitt_span *report,
                                     scitt_tee_reason *why);
/* SNP_GET_DERIVED_KEY's response: MSG_KEY_RSP {u32 status, 28 reserved, 32-byte key}. */
scitt_err scitt__sev_key_response(const uint8_t resp[64], uint8_t key[32], scitt_tee_reason *why);

/* Checks that an SNP report parses and carries @p report_data (SCITT_ERR_BINDING otherwise). */
scitt_err scitt__check_snp_report(scitt_span report, const uint8_t report_data[64],
                                  scitt_tee_reason *why);

/* Checks that a TDX quote parses (scitt_dcap_quote_parse; a quote of another TEE is
 * SCITT_ERR_EVIDENCE_MALFORMED) and its REPORTDATA is @p report_data (SCITT_ERR_BINDING). */
scitt_err scitt__check_tdx_quote(scitt_span quote, const uint8_t report_data[64],
                                 scitt_tee_reason *why);

#endif /* SCITT_TEE_ACQUIRE_INTERNAL_H */
