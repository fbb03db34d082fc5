/*
 * Several scittd instances on one PostgreSQL log (docs/ha.md): this instance's name in the lease
 * row, and a log line at each change of role (sequencing or following) and of the ledger's state.
 */
#include "scittd.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LEASE_WATCH_MS 250

void scittd_lease_holder(scittd *d)
{
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) != 0) {
        snprintf(host, sizeof(host), "%s", "unknown");
    }
    snprintf(d->holder, sizeof(d->holder), "%s:%ld", host, (long)getpid());
}

static void on_watch(uv_timer_t *t)
{
    scittd *d = t->data;
    scitt_ledger *l = scitt_service_ledger(d->svc);
    int role = scitt_ledger_leader(l) ? 1 : 0;
    int state = (int)scitt_ledger_state(l);
    if (state != d->lease_state) {
        d->lease_state = state;
        if (state == SCITT_ERR_CONSISTENCY) {
            uint64_t size;
            uint8_t root[SCITT_HASH_LEN];
            scitt_ledger_signed(l, &size, root);
            char hex[2 * SCITT_HASH_LEN + 1];
            for (unsigned i = 0; i < SCITT_HASH_LEN; i++) {
                snprintf(hex + 2 * i, 3, "%02x", root[i]);
            }
            SCITT_LOG(SCITT_LOG_ERROR, "rollback",
                      "signed_size=%llu signed_root=%s action=\"refusing to sign\" "
                      "reason=\"the database is older than, or does not extend, the newest tree "
                      "head this service signed (restored from an old backup?)\"",
                      (unsigned long long)size, hex);
        } else if (state != SCITT_OK) {
            SCITT_LOG(SCITT_LOG_ERROR, "integrity", "err=%s action=\"registrations refused\"",
                      scitt_err_name((scitt_err)state));
        } else {
            SCITT_LOG(SCITT_LOG_INFO, "integrity", "err=none action=\"registrations accepted\"");
        }
    }
    if (role != d->lease_role) {
        d->lease_role = role;
        SCITT_LOG(SCITT_LOG_INFO, "lease", "role=%s holder=\"%s\"",
                  role ? "sequencing" : "following", d->holder);
    }
}

void scittd_lease_watch(scittd *d)
{
    if (!d->cfg.storage || d->cfg.lease_ms == 0) {
        return;
    }
    d->lease_role = -1;
    d->lease_state = SCITT_OK; /* a refusal found at start is logged at the first tick */
    if (uv_timer_init(d->loop, &d->lease_timer) != 0) {
        return;
    }
    d->lease_timer.data = d;
    uv_timer_start(&d->lease_timer, on_watch, 0, LEASE_WATCH_MS);
    uv_unref((uv_handle_t *)&d->lease_timer); /* never keeps the loop from stopping */
    d->lease_watching = true;
}

void scittd_lease_stop(scittd *d)
{
    if (d->lease_watching) {
        uv_timer_stop(&d->lease_timer);
        uv_close((uv_handle_t *)&d->lease_timer, NULL);
        d->lease_watching = false;
    }
}
