/*
 * bench/scittd_run.h — what the benchmarks that drive a real scittd share: the ECDSA ceiling,
 * starting and stopping scittd, a fleet of issuer keys and the ~1 KB statements they sign.
 */
#ifndef SCITT_BENCH_SCITTD_RUN_H
#define SCITT_BENCH_SCITTD_RUN_H

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
 * Starts @p bin on data directory @p dir (virtual platform, loopback, a free port). Returns its
 * pid, or -1 when it did not print READY; @p port gets the port and @p ready_s (may be NULL) the
 * seconds from exec to READY.
 */
pid_t sr_start(const char *bin, const char *dir, int *port, double *ready_s);
/** SIGTERM and wait. */
void sr_stop(pid_t pid);

/** Issuer keys, each with a self-signed certificate carried in x5chain. */
typedef struct sr_fleet sr_fleet;
sr_fleet *sr_fleet_new(size_t keys);
void sr_fleet_free(sr_fleet *f);

/**
 * Appends the ~1 KB statement number @p i of series @p series to @p out (distinct for every
 * (series, i)), signed by key i mod keys. Thread-safe.
 */
int sr_statement(const sr_fleet *f, uint64_t series, uint64_t i, scitt_dynbuf *out);

/** POST /entries requests for statements [first, first + count) of @p series. */
hc_request *sr_post_requests(const sr_fleet *f, uint64_t series, uint64_t first, size_t count);
/** GET requests for "<prefix><hex id>" paths, one per id. */
hc_request *sr_get_requests(const char *prefix, const uint8_t (*ids)[32], size_t count);
void sr_requests_free(hc_request *reqs, size_t count);

/** Removes @p dir and everything under it; 0 on success. */
int sr_rm_tree(const char *dir);
/** Bytes allocated on disk by the files under @p dir (sparse files count what they use). */
uint64_t sr_disk_bytes(const char *dir);

#endif
