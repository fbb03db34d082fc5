/*
 * scitt monitor: follows a log and reports every new statement matching --iss / --sub /
 * --digest. Each round is one `scitt audit` pass (the checkpoint verified with the pinned note
 * key, proved consistent with the last one seen, every new entry fetched from the tiles and
 * hashed up to the root), so a matching statement is reported only once the tree holding it has
 * verified, and a fork or a rewritten history stops the monitor with an alarm.
 *
 * Exactly once across restarts: the matches of a round are reported when its tree has verified
 * and before the audit state moves past it; the next index to report is kept in DIR/monitor.next
 * (written by rename after each report). A monitor killed after reporting and before saving the
 * state replays the same entries and skips those below monitor.next; one killed between a report
 * and its monitor.next update repeats that one report.
 */
#include "audit.h"
#include "parsers.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scitt/json.h"

static const char help[] =
    "usage: scitt monitor --url URL --state DIR [--iss ISS] [--sub SUB] [--digest HEX]\n"
    "                     [--exec CMD] [--json] [--interval S] [--once] [--vkey VKEY]\n"
    "\n"
    "Follows the log and reports each new statement that matches every filter given. Every\n"
    "round is an incremental audit (see scitt audit): the checkpoint is verified with the\n"
    "note key pinned in DIR, proved consistent with the last one seen, and every new entry is\n"
    "fetched from the tiles and hashed up to the root before any of them is reported. A first\n"
    "run reports the matching statements already in the log.\n"
    "  --iss ISS      issuer (CWT claim 1) equals ISS\n"
    "  --sub SUB      subject (CWT claim 2) equals SUB\n"
    "  --digest HEX   payload digest (SHA-256 of the payload, or a hash envelope's digest);\n"
    "                 a sha256: prefix is accepted\n"
    "  --json         one JSON object per line: index, entry_id, iss, sub, content_type, digest\n"
    "                 (default: one line of text per statement)\n"
    "  --exec CMD     run CMD with /bin/sh for each statement, with SCITT_ENTRY_INDEX,\n"
    "                 SCITT_ENTRY_ID, SCITT_ISS, SCITT_SUB, SCITT_CONTENT_TYPE, SCITT_DIGEST and\n"
    "                 SCITT_ENTRY_JSON in its environment (it must exit 0, else the monitor\n"
    "                 stops and the statement is reported again at the next start)\n"
    "  --interval S   seconds between rounds (default 5; 0.1 to 3600)\n"
    "  --once         one round, then exit\n"
    "  --vkey VKEY    pin this checkpoint key at the first run (as scitt audit)\n" NET_OPTIONS_HELP
    "  --timeout S    give up on a request after S seconds (default 30)\n"
    "\n"
    "Exit status: 1 when the log fails verification (a fork, a rewritten or shrunk log, a\n"
    "bad checkpoint signature: \"ALARM\" on stderr and, with --json, an \"alarm\" line);\n"
    "2 for usage, a state directory it cannot use, or a failed --exec. A service that cannot be\n"
    "reached is retried every interval (a warning on stderr).\n"
    "\n"
    "Example:\n"
    "  scitt monitor --url https://scitt.example --state ~/.scitt-monitor --sub my-image --json\n";

#define MONITOR_NEXT "monitor.next"

typedef struct match {
    uint64_t index;
    size_t off, len; /* the entry's bytes in mon.entries */
} match;

typedef struct mon {
    const char *iss, *sub, *exec, *state_dir;
    uint8_t digest[64];
    size_t digest_len;
    bool has_digest, json;
    uint64_t next; /* first index not reported yet */
    match *matches;
    size_t nmatches, cap;
    scitt_dynbuf entries;
    bool failed; /* a report could not be made */
} mon;

static bool read_next(const char *dir, uint64_t *out)
{
    char path[4200], buf[32] = "";
    snprintf(path, sizeof(path), "%s/%s", dir, MONITOR_NEXT);
    FILE *f = fopen(path, "r");
    if (!f) {
        *out = 0;
        return errno == ENOENT;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    if (n && buf[n - 1] == '\n') {
        buf[n - 1] = 0;
    }
    return cli_parse_u64(buf, 0, UINT64_MAX - 1, out);
}

/* DIR/monitor.next = @p next, durably (temporary file, fsync, rename, fsync of the directory). */
static bool write_next(const char *dir, uint64_t next)
{
    char path[4200], tmp[4210], buf[32];
    snprintf(path, sizeof(path), "%s/%s", dir, MONITOR_NEXT);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)next);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return false;
    }
    bool ok = write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ok = fsync(dfd) == 0 && ok;
        close(dfd);
    }
    return ok;
}

static void digest_of(const scitt_cose_sign1 *m, uint8_t out[64], size_t *len)
{
    *len = 0;
    if (m->hdr.prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) {
        if (m->payload.len <= 64) {
            memcpy(out, m->payload.ptr, m->payload.len);
            *len = m->payload.len;
        }
    } else if (!m->detached) {
        scitt_sha256(m->payload.ptr, m->payload.len, out);
        *len = 32;
    }
}

static void on_entry(audit *a, uint64_t index, const scitt_cose_sign1 *m, scitt_span entry)
{
    mon *o = a->user;
    if (index < o->next || (o->iss && !scitt_span_eq_str(m->hdr.cwt.iss, o->iss)) ||
        (o->sub && !scitt_span_eq_str(m->hdr.cwt.sub, o->sub))) {
        return;
    }
    if (o->has_digest) {
        uint8_t d[64];
        size_t dl;
        digest_of(m, d, &dl);
        if (!scitt_span_eq(scitt_span_make(d, dl), scitt_span_make(o->digest, o->digest_len))) {
            return;
        }
    }
    if (o->nmatches == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        match *nm = scitt_realloc(o->matches, cap * sizeof(*nm));
        if (!nm) {
            audit_cannot(a, "out of memory");
            return;
        }
        o->matches = nm;
        o->cap = cap;
    }
    match *x = &o->matches[o->nmatches++];
    x->index = index;
    x->off = o->entries.len;
    x->len = entry.len;
    scitt_dynbuf_put(&o->entries, entry.ptr, entry.len);
}

/* The report of one statement: the JSON object and its fields for --exec. */
static int report(mon *o, uint64_t index, scitt_span entry)
{
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (!m || scitt_cose_sign1_decode(entry, 0, m) != SCITT_OK) {
        scitt_free(m);
        return CLI_USAGE;
    }
    uint8_t id[32], d[64];
    size_t dl;
    char idhex[65], dig[129] = "", ctype[256] = "", idx[24];
    scitt_sha256(entry.ptr, entry.len, id);
    if (scitt_hex_encode(scitt_span_make(id, 32), idhex, sizeof(idhex)) != SCITT_OK) {
        idhex[0] = 0;
    }
    digest_of(m, d, &dl);
    if (dl && scitt_hex_encode(scitt_span_make(d, dl), dig, sizeof(dig)) != SCITT_OK) {
        dig[0] = 0;
    }
    bool env = (m->hdr.prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) != 0;
    const scitt_cose_uint_or_text *t = env ? &m->hdr.preimage_content_type : &m->hdr.content_type;
    if (t->present && t->is_text) {
        snprintf(ctype, sizeof(ctype), "%.*s", (int)(t->text.len < 255 ? t->text.len : 255),
                 (const char *)t->text.ptr);
    } else if (t->present) {
        snprintf(ctype, sizeof(ctype), "%llu", (unsigned long long)t->num);
    }
    snprintf(idx, sizeof(idx), "%llu", (unsigned long long)index);
    scitt_dynbuf js;
    scitt_dynbuf_init(&js, 0);
    scitt_dynbuf_printf(&js, "{\"index\":%s,\"entry_id\":\"%s\",\"iss\":", idx, idhex);
    scitt_json_put_string(&js, m->hdr.cwt.iss);
    scitt_dynbuf_str(&js, ",\"sub\":");
    scitt_json_put_string(&js, m->hdr.cwt.sub);
    scitt_dynbuf_str(&js, ",\"content_type\":");
    scitt_json_put_string(&js, scitt_span_str(ctype));
    scitt_dynbuf_printf(&js, ",\"digest\":\"%s\"}", dig);
    scitt_dynbuf_put(&js, "", 1);
    int rc = js.err == SCITT_OK ? CLI_OK : CLI_USAGE;
    if (rc == CLI_OK && o->exec) {
        /* iss and sub go to the environment as text: NUL bytes in them would cut it short */
        char *iss = scitt_calloc(1, m->hdr.cwt.iss.len + 1),
             *sub = scitt_calloc(1, m->hdr.cwt.sub.len + 1);
        pid_t pid = iss && sub ? fork() : -1;
        if (pid == 0) {
            memcpy(iss, m->hdr.cwt.iss.ptr, m->hdr.cwt.iss.len);
            memcpy(sub, m->hdr.cwt.sub.ptr, m->hdr.cwt.sub.len);
            setenv("SCITT_ENTRY_INDEX", idx, 1);
            setenv("SCITT_ENTRY_ID", idhex, 1);
            setenv("SCITT_ISS", iss, 1);
            setenv("SCITT_SUB", sub, 1);
            setenv("SCITT_CONTENT_TYPE", ctype, 1);
            setenv("SCITT_DIGEST", dig, 1);
            setenv("SCITT_ENTRY_JSON", (const char *)js.ptr, 1);
            execl("/bin/sh", "sh", "-c", o->exec, (char *)NULL);
            _exit(127);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            cli_msg("--exec failed for entry %s (%s)", idx,
                    pid < 0 ? "cannot start it" : "non-zero exit");
            rc = CLI_USAGE;
        }
        scitt_free(iss);
        scitt_free(sub);
    } else if (rc == CLI_OK && o->json) {
        printf("%s\n", (const char *)js.ptr);
    } else if (rc == CLI_OK) {
        printf("entry %s id=%s iss=\"%.*s\" sub=\"%.*s\" content_type=\"%s\" digest=%s\n", idx,
               idhex, (int)(m->hdr.cwt.iss.len < 200 ? m->hdr.cwt.iss.len : 200),
               (const char *)m->hdr.cwt.iss.ptr,
               (int)(m->hdr.cwt.sub.len < 200 ? m->hdr.cwt.sub.len : 200),
               (const char *)m->hdr.cwt.sub.ptr, ctype, dig);
    }
    if (fflush(stdout) != 0) {
        rc = CLI_USAGE;
    }
    scitt_dynbuf_clear(&js);
    scitt_free(m);
    return rc;
}

/* The round's tree verified: report its matches in order, each followed by monitor.next. */
static void on_verified(audit *a)
{
    mon *o = a->user;
    for (size_t i = 0; i < o->nmatches && !o->failed; i++) {
        match *x = &o->matches[i];
        if (x->index < o->next) {
            continue;
        }
        if (report(o, x->index, scitt_span_make(o->entries.ptr + x->off, x->len)) != CLI_OK ||
            !write_next(o->state_dir, x->index + 1)) {
            o->failed = true;
            audit_cannot(a, "a statement could not be reported");
            return;
        }
        o->next = x->index + 1;
    }
    /* nothing matched beyond: the next round starts at the new size */
    if (a->new_size > o->next) {
        if (!write_next(o->state_dir, a->new_size)) {
            o->failed = true;
            audit_cannot(a, "%s/%s cannot be written", o->state_dir, MONITOR_NEXT);
            return;
        }
        o->next = a->new_size;
    }
}

static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
    (void)sig;
    stop_now = 1;
}

int cmd_monitor(int argc, char **argv)
{
    enum {
        O_URL = 1,
        O_STATE,
        O_ISS,
        O_SUB,
        O_DIGEST,
        O_EXEC,
        O_JSON,
        O_INTERVAL,
        O_ONCE,
        O_VKEY,
        O_CACERT,
        O_TIMEOUT,
        O_HELP
    };
    static const struct option lo[] = {{"url", 1, 0, O_URL},       {"state", 1, 0, O_STATE},
                                       {"iss", 1, 0, O_ISS},       {"sub", 1, 0, O_SUB},
                                       {"digest", 1, 0, O_DIGEST}, {"exec", 1, 0, O_EXEC},
                                       {"json", 0, 0, O_JSON},     {"interval", 1, 0, O_INTERVAL},
                                       {"once", 0, 0, O_ONCE},     {"vkey", 1, 0, O_VKEY},
                                       {"cacert", 1, 0, O_CACERT}, {"timeout", 1, 0, O_TIMEOUT},
                                       {"help", 0, 0, O_HELP},     {0, 0, 0, 0}};
    static mon o;
    memset(&o, 0, sizeof(o));
    const char *url = NULL, *vkey = NULL, *cacert = NULL;
    double interval = 5;
    uint64_t timeout = 30;
    bool once = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_URL:
            url = optarg;
            break;
        case O_STATE:
            o.state_dir = optarg;
            break;
        case O_ISS:
            o.iss = optarg;
            break;
        case O_SUB:
            o.sub = optarg;
            break;
        case O_DIGEST: {
            const char *h = strncmp(optarg, "sha256:", 7) == 0 ? optarg + 7 : optarg;
            if (scitt_hex_decode(scitt_span_str(h), o.digest, sizeof(o.digest), &o.digest_len) !=
                    SCITT_OK ||
                o.digest_len == 0) {
                return cli_usage("--digest must be hexadecimal (a sha256: prefix is accepted)");
            }
            o.has_digest = true;
            break;
        }
        case O_EXEC:
            o.exec = optarg;
            break;
        case O_JSON:
            o.json = true;
            break;
        case O_INTERVAL: {
            char *end;
            interval = strtod(optarg, &end);
            if (*end || !(interval >= 0.1 && interval <= 3600)) {
                return cli_usage("--interval must be 0.1..3600 seconds");
            }
            break;
        }
        case O_ONCE:
            once = true;
            break;
        case O_VKEY:
            vkey = optarg;
            break;
        case O_CACERT:
            cacert = optarg;
            break;
        case O_TIMEOUT:
            if (!cli_parse_u64(optarg, 1, 3600, &timeout)) {
                return cli_usage("--timeout must be 1..3600 seconds");
            }
            break;
        case O_HELP:
            return cli_help(help);
        default:
            return cli_usage("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind != argc || !url || !o.state_dir) {
        return cli_usage("--url URL and --state DIR are required");
    }
    if (mkdir(o.state_dir, 0700) != 0 && errno != EEXIST) {
        return cli_fail(CLI_USAGE, "cannot create %s: %s", o.state_dir, strerror(errno));
    }
    if (!read_next(o.state_dir, &o.next)) {
        return cli_fail(CLI_USAGE, "%s/%s is damaged", o.state_dir, MONITOR_NEXT);
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    scitt_dynbuf_init(&o.entries, 0);
    int rc = CLI_OK;
    static audit a;
    while (!stop_now) {
        memset(&a, 0, sizeof(a));
        a.state_dir = o.state_dir;
        a.on_entry = on_entry;
        a.on_verified = on_verified;
        a.user = &o;
        o.nmatches = 0;
        o.entries.len = 0;
        uint64_t old_size, earlier;
        rc = audit_pass(&a, url, cacert, timeout, false, vkey, NULL, &old_size, &earlier);
        bool alarm = rc == CLI_OK && a.tree_discrepancies > 0;
        if (alarm) {
            const audit_item *f = &a.bad[0];
            fprintf(stderr, "scitt monitor: ALARM: the log failed verification: %s\n", f->what);
            if (o.json) {
                scitt_dynbuf js;
                scitt_dynbuf_init(&js, 0);
                scitt_dynbuf_str(&js, "{\"alarm\":");
                scitt_json_put_string(&js, scitt_span_str(f->what));
                scitt_dynbuf_str(&js, "}\n");
                fwrite(js.ptr, 1, js.len, stdout);
                fflush(stdout);
                scitt_dynbuf_clear(&js);
            }
            rc = CLI_FAIL;
        } else if (o.failed) {
            rc = CLI_USAGE;
        } else if (rc == CLI_OK && a.cannot) {
            cli_msg("warning: round not completed, retrying: %s", a.cannot_why);
            rc = CLI_USAGE;
        } else if (rc != CLI_OK && !once) {
            rc = CLI_USAGE; /* the state directory or the pins are unusable */
        }
        bool fatal = alarm || o.failed || (rc != CLI_OK && !a.cannot);
        scitt_policy_free(a.policy);
        source_close(&a.src);
        audit_keys_clear(&a.keys);
        scitt_dynbuf_clear(&a.checkpoint);
        audit_state_clear(&a.st);
        if (fatal || once) {
            break;
        }
        struct timespec ts = {(time_t)interval,
                              (long)((interval - (double)(time_t)interval) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_now) {
        }
    }
    if (stop_now && rc == CLI_USAGE && !o.failed) {
        rc = CLI_OK; /* stopped while the service was unreachable */
    }
    scitt_free(o.matches);
    scitt_dynbuf_clear(&o.entries);
    return stop_now && rc != CLI_FAIL ? CLI_OK : rc;
}
