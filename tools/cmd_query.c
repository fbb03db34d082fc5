/* scitt query: entries by issuer, subject, payload digest or registration time (GET /query). */
#include "cli.h"
#include "net.h"

#include <ctype.h>
#include <getopt.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scitt/cbor.h"

static const char help[] =
    "usage: scitt query --url URL [--iss ISS] [--sub SUB] [--digest [sha256:]HEX] [--after T]\n"
    "                   [--before T] [--limit N | --all] [--cursor C] [--max-pages N] [--json]\n"
    "\n"
    "Lists registered entries that match every given field, oldest first, following the\n"
    "service's pages until --limit entries (default 100). T is Unix seconds or RFC 3339 UTC\n"
    "(2026-01-02T03:04:05Z). The digest is the hash envelope's payload (e.g. an image's manifest\n"
    "digest) or SHA-256 of an attached payload: 64, 96 or 128 hex digits, \"sha256:\" (sha384:,\n"
    "sha512:) in front allowed, as registries write digests.\n"
    "  --limit N          print at most N entries (default 100; 1..1000000); when more match,\n"
    "                     stderr says so and --json has \"truncated\": true\n"
    "  --all              every match (within --max-pages and --timeout)\n"
    "  --max-pages N      request at most N pages (default 1000)\n"
    "  --cursor C         start from the cursor a previous query printed as "
    "\"next\"\n" NET_OPTIONS_HELP "\n"
    "A page that is empty but names a next cursor, a cursor that does not advance, --max-pages or\n"
    "--timeout stop the query: what was found is printed (\"next\" says where to continue) and "
    "the\n"
    "exit status is 2. Exit 0 when the result is complete or --limit was reached.\n"
    "Continue a query with --cursor and the \"next\" it printed.\n"
    "\n"
    "Example:\n"
    "  scitt query --url https://scitt.example --sub registry.example/app --after "
    "2026-01-01T00:00:00Z\n";

static const net_spec query_net = {
    help,
    "the service",
    "give up after S seconds for the whole command",
    60,
    1,
    3600,
    "{\"entries\": [{entry_id, index, registered, iss, sub, content_type, digest}],\n"
    "                     \"next\": cursor or null, \"truncated\": true when --limit cut it}"};

/* --digest as a registry writes it ("sha256:AB..") or bare hex, into lowercase hex. */
static bool digest_arg(const char *in, char out[129])
{
    static const struct {
        const char *prefix;
        size_t hex;
    } algs[] = {{"sha256:", 64}, {"sha384:", 96}, {"sha512:", 128}};
    size_t want = 0;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        size_t pl = strlen(algs[i].prefix);
        if (strncasecmp(in, algs[i].prefix, pl) == 0) {
            in += pl;
            want = algs[i].hex;
        }
    }
    size_t n = strlen(in);
    if ((want ? n != want : (n != 64 && n != 96 && n != 128)) ||
        strspn(in, "0123456789abcdefABCDEF") != n) {
        return false;
    }
    for (size_t i = 0; i <= n; i++) {
        out[i] = (char)tolower((unsigned char)in[i]);
    }
    return true;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int cmd_query(int argc, char **argv)
{
    enum { O_ISS = 1, O_SUB, O_DIGEST, O_AFTER, O_BEFORE, O_LIMIT, O_MAX_PAGES, O_CURSOR, O_ALL };
    static const struct option lo[] = {{"iss", 1, 0, O_ISS},
                                       {"sub", 1, 0, O_SUB},
                                       {"digest", 1, 0, O_DIGEST},
                                       {"after", 1, 0, O_AFTER},
                                       {"before", 1, 0, O_BEFORE},
                                       {"limit", 1, 0, O_LIMIT},
                                       {"max-pages", 1, 0, O_MAX_PAGES},
                                       {"cursor", 1, 0, O_CURSOR},
                                       {"all", 0, 0, O_ALL},
                                       NET_OPTIONS,
                                       {0, 0, 0, 0}};
    const char *iss = NULL, *sub = NULL, *digest = NULL, *after = NULL, *before = NULL;
    uint64_t limit = 100, max_pages = 1000, cursor = 0;
    bool all = false, limit_given = false;
    char digest_hex[129];
    net_opts net;
    net_opts_init(&net, &query_net);
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_ISS:
            iss = optarg;
            break;
        case O_SUB:
            sub = optarg;
            break;
        case O_DIGEST:
            if (!digest_arg(optarg, digest_hex)) {
                return cli_usage("--digest is 64, 96 or 128 hex digits, \"sha256:\" in front "
                                 "allowed, not \"%.80s\"",
                                 optarg);
            }
            digest = digest_hex;
            break;
        case O_ALL:
            all = true;
            break;
        case O_AFTER:
            after = optarg;
            break;
        case O_BEFORE:
            before = optarg;
            break;
        case O_LIMIT:
            if (!cli_parse_u64(optarg, 1, 1000000, &limit)) {
                return cli_usage("--limit must be 1..1000000");
            }
            limit_given = true;
            break;
        case O_MAX_PAGES:
            if (!cli_parse_u64(optarg, 1, 100000, &max_pages)) {
                return cli_usage("--max-pages must be 1..100000");
            }
            break;
        case O_CURSOR:
            if (!cli_parse_u64(optarg, 1, INT64_MAX, &cursor)) {
                return cli_usage("--cursor must be the number a previous query printed");
            }
            break;
        default:
            if ((c = net_option(&net, &query_net, c, argv)) != CLI_OK) {
                return c == NET_HELP_SHOWN ? CLI_OK : c;
            }
            break;
        }
    }
    if (optind != argc) {
        return cli_usage("unexpected argument \"%s\"", argv[optind]);
    }
    if ((iss && strlen(iss) > 1000) || (sub && strlen(sub) > 1000)) {
        return cli_usage("--iss and --sub are at most 1000 bytes");
    }
    if (all && limit_given) {
        return cli_usage("--all and --limit exclude each other");
    }
    if (all) {
        limit = UINT64_MAX;
    }
    scitt_client *cl = NULL;
    int rc = net_client_open(&net, NULL, &cl);
    if (rc != CLI_OK) {
        return rc;
    }
    scitt_client_row *rows = scitt_calloc(SCITT_CLIENT_PAGE_MAX, sizeof(*rows));
    if (!rows) {
        scitt_client_free(cl);
        return cli_fail(CLI_USAGE, "out of memory");
    }
    scitt_dynbuf jb;
    scitt_dynbuf_init(&jb, 0);
    scitt_json_writer j;
    scitt_json_writer_init(&j, &jb);
    scitt_json_begin_object(&j);
    scitt_json_put_key(&j, "entries");
    scitt_json_begin_array(&j);
    /* The whole command is bounded in time and in requests, whatever the service answers. */
    int64_t deadline = now_ms() + (int64_t)net.timeout * 1000;
    scitt_client_query q = {iss, sub, digest, after, before, cursor, 0, false, false};
    uint64_t got = 0, next = 0, pages = 0;
    char stopped[300] = "";
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0 || pages == max_pages) {
            snprintf(stopped, sizeof(stopped), "stopped after %llu page(s) and %llu entries: %s",
                     (unsigned long long)pages, (unsigned long long)got,
                     left <= 0 ? "--timeout reached" : "--max-pages reached");
            next = q.cursor;
            break;
        }
        scitt_client_set_timeout(cl, (uint32_t)left);
        uint64_t want = limit - got < SCITT_CLIENT_PAGE_MAX ? limit - got : SCITT_CLIENT_PAGE_MAX;
        size_t n = 0;
        char why[600];
        scitt_err e = scitt_client_query_page(cl, &q, (size_t)want, rows, SCITT_CLIENT_PAGE_MAX, &n,
                                              why, sizeof(why));
        pages++;
        if (e == SCITT_ERR_TIMEOUT && got) {
            snprintf(stopped, sizeof(stopped),
                     "stopped after %llu page(s) and %llu entries: --timeout reached",
                     (unsigned long long)pages, (unsigned long long)got);
            next = q.cursor;
            break;
        }
        if (e != SCITT_OK) {
            rc = cli_fail(CLI_USAGE, "%s", why);
            break;
        }
        next = q.next;
        for (size_t i = 0; i < n && got < limit; i++, got++) {
            const scitt_client_row *w = &rows[i];
            char t[32];
            cli_time(w->registered, t);
            if (!net.json) {
                printf("%llu %s %s iss=%s sub=%s%s%s%s%s\n", (unsigned long long)w->index,
                       w->entry_id, t, w->iss, w->sub, w->content_type[0] ? " type=" : "",
                       w->content_type, w->digest[0] ? " digest=" : "", w->digest);
                continue;
            }
            scitt_json_begin_object(&j);
            scitt_json_put_key(&j, "entry_id");
            scitt_json_put_cstr(&j, w->entry_id);
            scitt_json_put_key(&j, "index");
            scitt_json_put_uint(&j, w->index);
            scitt_json_put_key(&j, "registered");
            scitt_json_put_cstr(&j, t);
            scitt_json_put_key(&j, "iss");
            scitt_json_put_cstr(&j, w->iss);
            scitt_json_put_key(&j, "sub");
            scitt_json_put_cstr(&j, w->sub);
            scitt_json_put_key(&j, "content_type");
            scitt_json_put_cstr(&j, w->content_type);
            scitt_json_put_key(&j, "digest");
            scitt_json_put_cstr(&j, w->digest);
            scitt_json_end_object(&j);
        }
        if (q.done || got >= limit) {
            break;
        }
        if (q.stalled) {
            snprintf(stopped, sizeof(stopped),
                     "stopped after %llu page(s) and %llu entries: the service %s (cursor %llu)",
                     (unsigned long long)pages, (unsigned long long)got,
                     n == 0 ? "returned an empty page that claims more"
                            : "returned a cursor that does not advance",
                     (unsigned long long)next);
            next = next > q.cursor ? next : q.cursor;
            break;
        }
    }
    scitt_json_end_array(&j);
    scitt_json_put_key(&j, "next");
    if (next && (got >= limit || stopped[0])) {
        scitt_json_put_uint(&j, next);
    } else {
        scitt_json_put_null(&j);
    }
    /* --limit reached while the service still names more: the result is cut, and says so */
    bool truncated = rc == CLI_OK && !stopped[0] && got >= limit && next != 0;
    scitt_json_put_key(&j, "truncated");
    scitt_json_put_bool(&j, truncated || stopped[0]);
    scitt_json_end_object(&j);
    if (truncated) {
        cli_msg("showing the first %llu entries (--limit); more match: continue with --cursor "
                "%llu, or use --all",
                (unsigned long long)got, (unsigned long long)next);
    }
    if (rc == CLI_OK && net.json) {
        cli_json_print(&j);
    } else {
        scitt_dynbuf_clear(&jb);
    }
    scitt_free(rows);
    scitt_client_free(cl);
    if (rc == CLI_OK && stopped[0]) {
        /* What was found is printed; the result is incomplete, so the exit status says so. */
        if (next) {
            return cli_fail(CLI_USAGE, "%s; continue with --cursor %llu", stopped,
                            (unsigned long long)next);
        }
        return cli_fail(CLI_USAGE, "%s", stopped);
    }
    return rc;
}
