/*
 * bench/scittd_run.h — what the benchmarks that drive a real scittd share: the ECDSA ceiling,
 * starting and stopping scittd, a fleet of issuer keys and the ~1 KB statements they sign.
 */
#ifndef SCITT_BENCH_SCITTD_RUN_H
#define SCITT_BENCH_SCITTD_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "httpclient.h"
#include "scitt/cose.h"

/**
 * P-256 verifies per second with @p threads threads running at once for a second: whatever
 * else the machine is doing lowers it as it lowers the server's share.
 */
double sr_ecdsa_ceiling(long threads);

/**
 * Starts @p bin on data directory @p dir (virtual platform, loopback, a free port) with the
 * development policy. Returns its pid, or -1 when it did not print READY; @p port gets the port
 * and @p ready_s (may be NULL) the seconds from exec to READY.
 */
pid_t sr_start(const char *bin, const char *dir, int *port, double *ready_s);
/** As sr_start with `--policy @p policy_file` (NULL: the development policy). */
pid_t sr_start_policy(const char *bin, const char *dir, const char *policy_file, int *port,
                      double *ready_s);
/** As sr_start_policy with @p extra (NULL-terminated, may be NULL) appended to scittd's arguments.
 */
pid_t sr_start_args(const char *bin, const char *dir, const char *policy_file,
                    const char *const *extra, int *port, double *ready_s);
/** SIGTERM and wait. */
void sr_stop(pid_t pid);

/** Pre-signed statements handed out in order, each once, across every run of a benchmark. */
typedef struct sr_pool {
    const hc_request *reqs;
    size_t count, next;
    bool exhausted; /* set when one was asked for past the end (it is sent again: a duplicate) */
} sr_pool;
/** hc_config.next for an sr_pool (@p ctx). */
const hc_request *sr_pool_next(void *ctx, uint64_t n);
/** CPU seconds (user + system, every thread) process @p pid has used so far; -1 if unknown. */
double sr_cpu_s(pid_t pid);

/**
 * Issuer keys, each with a certificate carried in x5chain: self-signed (sr_fleet_new, what the
 * development policy admits) or issued by one P-256 root CA (sr_fleet_new_ca, what a production
 * policy that validates the chain to that root admits).
 */
typedef struct sr_fleet sr_fleet;
sr_fleet *sr_fleet_new(size_t keys);
sr_fleet *sr_fleet_new_ca(size_t keys);
void sr_fleet_free(sr_fleet *f);

/** The `iss` of every statement of a fleet. */
#define SR_ISSUER "https://ci.example/pipelines"
/**
 * Writes to @p path the production policy for a CA fleet: ES256 only, content type
 * application/json, certificate validity checked at registration, and one issuer rule for
 * SR_ISSUER whose protected x5chain must validate (RFC 5280) to the fleet's root. 0 on success.
 */
int sr_fleet_write_policy(const sr_fleet *f, const char *path);
/** The same policy document (free with free()), or NULL for a fleet without a CA. */
char *sr_fleet_policy(const sr_fleet *f);

/**
 * Appends the ~1 KB statement number @p i of series @p series to @p out (distinct for every
 * (series, i)), signed by key i mod keys. Thread-safe.
 */
int sr_statement(const sr_fleet *f, uint64_t series, uint64_t i, scitt_dynbuf *out);

/**
 * POST /entries requests for statements [first, first + count) of @p series; @p leaves (may be
 * NULL) gets the Merkle leaf hash of each statement's registered form, to check its receipt.
 */
hc_request *sr_post_requests(const sr_fleet *f, uint64_t series, uint64_t first, size_t count,
                             uint8_t (*leaves)[32]);
/** GET requests for "<prefix><hex id>" paths, one per id. */
hc_request *sr_get_requests(const char *prefix, const uint8_t (*ids)[32], size_t count);
void sr_requests_free(hc_request *reqs, size_t count);

/**
 * Checks the 201s of registrations (or the 200s of receipt reads): each one's receipt must verify
 * (RFC 9942 inclusion, signed tree size required) for the leaf of the statement it answers, with
 * the receipt key the scittd serves at /.well-known/scitt-keys. Verified signatures are memoised
 * per signed tree head (scitt_cose_keyset_memo), so a batch's receipts cost one ECDSA verification
 * and a proof each. With @p every > 1 only every n-th good status is verified (the others count
 * when the status is).
 */
typedef struct sr_receipts sr_receipts;
/** For requests @p reqs[0..count) with leaves @p leaves, against the scittd on @p port. */
sr_receipts *sr_receipts_new(int port, const hc_request *reqs, const uint8_t (*leaves)[32],
                             size_t count, unsigned every);
/** The same with the receipt keys at hand (@p keys is taken over, freed with the checker). */
sr_receipts *sr_receipts_new_keys(scitt_cose_keyset *keys, const hc_request *reqs,
                                  const uint8_t (*leaves)[32], size_t count, unsigned every);
/** The status a good response has: 201 (registrations, the default) or 200 (receipt reads). */
void sr_receipts_expect(sr_receipts *v, int status);
void sr_receipts_free(sr_receipts *v);
/** The hc_config.check callback, with an sr_receipts as its context. */
bool sr_receipt_check(void *ctx, const hc_request *req, uint64_t n, int status, const uint8_t *body,
                      size_t len, char *why, size_t why_cap);
/** 201s seen, receipts verified and the CPU seconds spent verifying them (may be NULL) so far. */
void sr_receipts_counts(const sr_receipts *v, uint64_t *seen, uint64_t *verified, double *check_s);

/**
 * Prints the figures file's account of one run: "NAME_errors: n" (non-2xx, refused and
 * connection errors) and, when any, "error: NAME: first-error" lines, on stdout. Returns true
 * when the run had none.
 */
bool sr_report_errors(const char *name, const hc_result *r);

/** Removes @p dir and everything under it; 0 on success. */
int sr_rm_tree(const char *dir);
/** Bytes allocated on disk by the files under @p dir (sparse files count what they use). */
uint64_t sr_disk_bytes(const char *dir);

#endif
