/* GET /metrics: Prometheus text exposition of the HTTP layer, the ledger and registrations. */
#include "scittd.h"
#include "witness.h"
#include "witness_role.h"

#include <stdio.h>

static const double size_bounds[SCITTD_HIST_BUCKETS] = {1,   2,   4,   8,    16,   32,   64,
                                                        128, 256, 512, 1024, 2048, 4096, 8192};
static const double ms_bounds[SCITTD_HIST_BUCKETS] = {0.1, 0.25, 0.5, 1,   2,   5,    10,
                                                      25,  50,   100, 250, 500, 1000, 5000};

void scittd_hist_observe(scittd_hist *h, double v)
{
    size_t i = 0;
    while (i < SCITTD_HIST_BUCKETS && v > h->bounds[i]) {
        i++;
    }
    atomic_fetch_add(&h->counts[i], 1);
    atomic_fetch_add(&h->total, 1);
    atomic_fetch_add(&h->sum_micro, (uint64_t)(v * 1e6));
}

static void on_batch(void *ctx, uint64_t entries, double batch_ms, double commit_ms)
{
    scittd *d = ctx;
    scittd_hist_observe(&d->batch_size, (double)entries);
    scittd_hist_observe(&d->batch_ms, batch_ms);
    scittd_hist_observe(&d->commit_ms, commit_ms);
}

void scittd_metrics_init(scittd *d)
{
    d->batch_size.bounds = size_bounds;
    d->batch_ms.bounds = ms_bounds;
    d->commit_ms.bounds = ms_bounds;
    scitt_ledger_set_batch_observer(scitt_service_ledger(d->svc), on_batch, d);
}

void scittd_hist_put(scitt_dynbuf *b, const char *name, const char *help, scittd_hist *h)
{
    scitt_dynbuf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (size_t i = 0; i < SCITTD_HIST_BUCKETS; i++) {
        cum += atomic_load(&h->counts[i]);
        scitt_dynbuf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i],
                            (unsigned long long)cum);
    }
    cum += atomic_load(&h->counts[SCITTD_HIST_BUCKETS]);
    scitt_dynbuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    scitt_dynbuf_printf(b, "%s_sum %.6f\n%s_count %llu\n", name,
                        (double)atomic_load(&h->sum_micro) / 1e6, name,
                        (unsigned long long)atomic_load(&h->total));
}

static void put_counter(scitt_dynbuf *b, const char *name, const char *type, const char *help,
                        uint64_t v)
{
    scitt_dynbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
                        (unsigned long long)v);
}

void scittd_route_metrics(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_printf(&b,
                        "# HELP scittd_info The service and the platform it runs on.\n"
                        "# TYPE scittd_info gauge\n"
                        "scittd_info{platform=\"%s\",insecure=\"%s\"} 1\n",
                        d->platform, d->insecure ? "true" : "false");
    put_counter(&b, "scittd_insecure", "gauge",
                "1 when running on the INSECURE virtual platform (no TEE).", d->insecure ? 1 : 0);
    /* requests by route and status */
    scitt_dynbuf_str(&b, "# HELP scittd_http_requests_total Responses by route and status.\n"
                         "# TYPE scittd_http_requests_total counter\n");
    size_t rows = scitt_http_server_route_rows(d->http);
    for (size_t r = 0; r < rows; r++) {
        for (int status = 100; status < 600; status++) {
            uint64_t n = scitt_http_server_route_count(d->http, r, status);
            if (n) {
                scitt_dynbuf_printf(
                    &b, "scittd_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                    scitt_http_server_route_name(d->http, r), status, (unsigned long long)n);
            }
        }
    }
    scitt_http_metrics hm;
    scitt_http_server_metrics(d->http, &hm);
    put_counter(&b, "scittd_http_connections_open", "gauge", "Open connections.", hm.conns_open);
    put_counter(&b, "scittd_http_connections_total", "counter", "Accepted connections.",
                hm.conns_total);
    put_counter(&b, "scittd_http_connections_refused_total", "counter",
                "Connections closed at once: max_connections reached.", hm.conns_rejected);
    put_counter(&b, "scittd_http_connections_refused_address_total", "counter",
                "Connections closed at once: their address had max_conns_per_ip.",
                hm.conns_rejected_ip);
    put_counter(&b, "scittd_http_rate_limited_total", "counter", "Requests answered 429.",
                hm.rate_limited);
    put_counter(&b, "scittd_read_queue", "gauge", "Reads waiting for a read thread.",
                scittd_reads_queued(d, SCITTD_LANE_READ));
    put_counter(&b, "scittd_costly_read_queue", "gauge",
                "Costly reads (query, fresh evidence, entry bundles) waiting for their thread.",
                scittd_reads_queued(d, SCITTD_LANE_COSTLY));
    put_counter(&b, "scittd_http_timeouts_total", "counter", "Connections timed out.", hm.timeouts);
    put_counter(&b, "scittd_registrations_total", "counter", "New entries acknowledged.",
                atomic_load(&d->registrations));
    put_counter(&b, "scittd_registrations_duplicate_total", "counter",
                "Registrations answered with an existing entry.", atomic_load(&d->duplicates));
    put_counter(&b, "scittd_registrations_rejected_total", "counter",
                "Statements refused by the check stage.", atomic_load(&d->rejections));
    scitt_ledger_stats st;
    scitt_ledger_get_stats(scitt_service_ledger(d->svc), &st);
    put_counter(&b, "scittd_tree_size", "gauge", "Entries in the log.", st.tree_size);
    put_counter(&b, "scittd_batches_total", "counter", "Batches committed.", st.batches);
    put_counter(&b, "scittd_batch_failures_total", "counter",
                "Submissions failed with their batch.", st.failures);
    put_counter(&b, "scittd_lmdb_bytes", "gauge", "Bytes of the LMDB map in use.", st.db_bytes);
    put_counter(&b, "scittd_lmdb_map_bytes", "gauge", "Size of the LMDB map.", st.map_size);
    scittd_hist_put(&b, "scittd_batch_entries", "Submissions per batch.", &d->batch_size);
    scittd_hist_put(&b, "scittd_batch_milliseconds", "Batch assembly to durable commit.",
                    &d->batch_ms);
    scittd_hist_put(&b, "scittd_commit_milliseconds", "The LMDB commit of a batch.", &d->commit_ms);
    scittd_witness_metrics(d, &b);
    scittd_witness_role_metrics(d, &b);
    scittd_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
    scitt_http_complete(req);
}
