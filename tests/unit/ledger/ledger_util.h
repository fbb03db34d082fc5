/* Helpers for the ledger tests: temporary data directories and synthetic submissions. */
#ifndef SCITT_LEDGER_UTIL_H
#define SCITT_LEDGER_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scitt/ledger.h"

static inline char *lu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof(tmpl), "%s/scitt-ledger-XXXXXX", base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

/* Removes a test directory and everything under it. */
static inline void lu_rmdir_rec(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') {
                continue;
            }
            char *p = NULL;
            if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) {
                continue;
            }
            if (unlink(p) != 0) {
                lu_rmdir_rec(p);
            }
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static inline void lu_rmdir(char *dir)
{
    lu_rmdir_rec(dir);
    free(dir);
}

/* Entry i: deterministic bytes of varying length, with iss/sub/digest for the indexes. */
typedef struct lu_entry {
    uint8_t bytes[600];
    size_t len;
    char iss[32], sub[32];
    uint8_t digest[32];
    scitt_submission sub_;
} lu_entry;

static inline void lu_make(lu_entry *e, uint64_t i, uint64_t salt)
{
    e->len = 40 + (size_t)(i * 37 % 500);
    for (size_t k = 0; k < e->len; k++) {
        e->bytes[k] = (uint8_t)(i * 131 + k * 7 + salt);
    }
    memcpy(e->bytes, &i, sizeof(i));
    memcpy(e->bytes + 8, &salt, sizeof(salt));
    snprintf(e->iss, sizeof(e->iss), "https://issuer%llu.example", (unsigned long long)(i % 3));
    snprintf(e->sub, sizeof(e->sub), "subject-%llu", (unsigned long long)(i % 10));
    scitt_sha256(e->bytes, e->len, e->digest);
    memset(&e->sub_, 0, sizeof(e->sub_));
    e->sub_.entry = scitt_span_make(e->bytes, e->len);
    scitt_sha256(e->bytes, e->len, e->sub_.entry_id);
    scitt_merkle_leaf_hash(e->sub_.entry, e->sub_.leaf_hash);
    e->sub_.iss = scitt_span_str(e->iss);
    e->sub_.sub = scitt_span_str(e->sub);
    e->sub_.digest = scitt_span_make(e->digest, 32);
    e->sub_.policy_index = SCITT_LEDGER_NO_POLICY;
}

#endif
