/*
 * scitt attach, and what the image-aware commands share: resolving an image reference in its
 * registry, pushing a transparent statement as an OCI artifact whose subject is the image (with
 * the referrers tag schema kept up to date when the registry has no referrers API), and
 * collecting the transparent statements attached to an image for scitt verify --image.
 */
#include "oci_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scitt/cose.h"
#include "scitt/json.h"
#include "scitt/receipt.h"

static const char help[] =
    "usage: scitt attach IMAGE TRANSPARENT [registry options] [--json]\n"
    "\n"
    "Pushes a transparent statement (scitt register's output) next to the image in its registry,\n"
    "as an OCI artifact of type " OCI_SCITT_ARTIFACT_TYPE " whose subject is the\n"
    "image's manifest (OCI 1.1 referrers; on a registry without the referrers API the referrers\n"
    "tag sha256-<hex> is updated). The statement must be about the image: its signed digest must\n"
    "be the manifest digest IMAGE resolves to. Attaching the same statement again changes\n"
    "nothing. See docs/oci.md.\n" OCI_OPTIONS_HELP
    "  --json             print the image, its digest and the artifact's digest as JSON\n"
    "\n"
    "Exit status: 0 attached, 1 the statement is not about this image, 2 usage, registry or\n"
    "network error.\n"
    "\n"
    "Example:\n"
    "  scitt attach ghcr.io/org/app:v1.4.2 app.transparent\n";

bool oci_option(oci_client_opts *o, int c, const char *arg)
{
    switch (c) {
    case OCI_O_CACERT:
        o->cacert = arg;
        return true;
    case OCI_O_USER:
        o->user = arg;
        return true;
    case OCI_O_PLAIN:
        o->plain_http = true;
        return true;
    default:
        return false;
    }
}

int oci_resolve(const char *ref, const oci_client_opts *o, oci_image *out)
{
    memset(out, 0, sizeof(*out));
    char why[400];
    if (oci_ref_parse(ref, &out->ref, why, sizeof(why)) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "image \"%.300s\": %s", ref, why);
    }
    oci_client c;
    int rc = oci_client_open(&c, &out->ref, o);
    if (rc != CLI_OK) {
        return rc;
    }
    const char *want = out->ref.digest[0] ? out->ref.digest
                       : out->ref.tag[0]  ? out->ref.tag
                                          : "latest";
    scitt_dynbuf body;
    scitt_dynbuf_init(&body, OCI_MANIFEST_MAX);
    scitt_err e = oci_get_manifest(&c, want, out->digest, out->media, sizeof(out->media), &body,
                                   why, sizeof(why));
    oci_manifest_info mi;
    if (e == SCITT_OK && oci_manifest_parse(scitt_span_make(body.ptr, body.len), &mi) != SCITT_OK) {
        snprintf(why, sizeof(why),
                 "what the registry holds under %s is not an image manifest "
                 "or index",
                 want);
        e = SCITT_ERR_MALFORMED;
    }
    if (e == SCITT_OK && !out->media[0]) {
        snprintf(out->media, sizeof(out->media), "%s",
                 mi.media_type[0] ? mi.media_type : OCI_MT_MANIFEST);
    }
    out->size = body.len;
    scitt_dynbuf_clear(&body);
    oci_client_close(&c);
    if (e != SCITT_OK) {
        char name[700];
        oci_ref_format(&out->ref, name, sizeof(name));
        return cli_fail(e == SCITT_ERR_KEY_MISMATCH ? CLI_FAIL : CLI_USAGE, "%s: %s", name, why);
    }
    if (!out->ref.tag[0] && !out->ref.digest[0]) {
        snprintf(out->ref.tag, sizeof(out->ref.tag), "latest");
    }
    return CLI_OK;
}

/* RFC 3339 UTC of Unix seconds. */
static void rfc3339(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        out[0] = 0;
    }
}

static void put_json_text(scitt_dynbuf *b, scitt_span s)
{
    if (scitt_utf8_valid(s)) {
        scitt_json_put_string(b, s);
    } else {
        scitt_json_put_string(b, scitt_span_str("(not UTF-8)"));
    }
}

/* The annotations of the artifact, from the statement and its (first) receipt. */
static void annotations(scitt_dynbuf *b, const scitt_cose_sign1 *m)
{
    scitt_dynbuf_str(b, "{");
    bool comma = false;
    if (m->hdr.cwt.has_iat) {
        char t[32];
        rfc3339(m->hdr.cwt.iat, t);
        if (t[0]) {
            scitt_dynbuf_printf(b, "\"%s\":\"%s\"", OCI_ANN_CREATED, t);
            comma = true;
        }
    }
    uint8_t id[SCITT_SHA256_LEN];
    char hex[65];
    scitt_receipt_entry_digest(m, id);
    if (scitt_hex_encode(scitt_span_make(id, sizeof(id)), hex, sizeof(hex)) == SCITT_OK) {
        scitt_dynbuf_printf(b, "%s\"%s\":\"%s\"", comma ? "," : "", OCI_ANN_ENTRY, hex);
        comma = true;
    }
    if (m->hdr.cwt.has_iss) {
        scitt_dynbuf_printf(b, "%s\"%s\":", comma ? "," : "", OCI_ANN_ISSUER);
        put_json_text(b, m->hdr.cwt.iss);
        comma = true;
    }
    if (m->hdr.cwt.has_sub) {
        scitt_dynbuf_printf(b, "%s\"%s\":", comma ? "," : "", OCI_ANN_SUBJECT);
        put_json_text(b, m->hdr.cwt.sub);
        comma = true;
    }
    if (m->hdr.nreceipts > 0) {
        scitt_cose_sign1 *r = scitt_malloc(sizeof(*r));
        if (r && scitt_cose_sign1_decode(m->hdr.receipts[0], 0, r) == SCITT_OK &&
            r->hdr.cwt.has_iss) {
            scitt_dynbuf_printf(b, "%s\"%s\":", comma ? "," : "", OCI_ANN_SERVICE);
            put_json_text(b, r->hdr.cwt.iss);
        }
        scitt_free(r);
    }
    scitt_dynbuf_str(b, "}");
}

/* Is @p m a statement about the manifest @p digest (a SHA-256 hash envelope of it)? */
static bool about_image(const scitt_cose_sign1 *m, const char *digest, char *why, size_t cap)
{
    if (m->hdr.payload_hash_alg != SCITT_COSE_ALG_SHA256 || m->payload.len != SCITT_SHA256_LEN) {
        snprintf(why, cap,
                 "it is not a statement about an image (a SHA-256 hash envelope of a "
                 "manifest, as scitt sign --image makes)");
        return false;
    }
    char hex[65];
    if (scitt_hex_encode(m->payload, hex, sizeof(hex)) != SCITT_OK || strcmp(hex, digest + 7)) {
        snprintf(why, cap, "it is about sha256:%s, not this image (%s)", hex, digest);
        return false;
    }
    return true;
}

/* Adds @p desc to the referrers tag's index of the image (unless it is listed already). */
static scitt_err update_referrers_tag(oci_client *c, const oci_image *img, const char *artifact,
                                      const char *desc, char *why, size_t cap)
{
    char tag[80], got[OCI_DIGEST_STR];
    snprintf(tag, sizeof(tag), "sha256-%s", img->digest + 7);
    scitt_dynbuf cur, next;
    scitt_dynbuf_init(&cur, OCI_MANIFEST_MAX);
    scitt_dynbuf_init(&next, OCI_MANIFEST_MAX);
    scitt_err e = oci_get_manifest(c, tag, got, NULL, 0, &cur, why, cap);
    scitt_json j = {0};
    bool parsed = false;
    if (e == SCITT_ERR_NOT_FOUND) {
        scitt_dynbuf_printf(&next, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s]}",
                            OCI_MT_INDEX, desc);
        e = SCITT_OK;
    } else if (e == SCITT_OK) {
        oci_descriptor *ds = scitt_calloc(OCI_REFERRERS_MAX, sizeof(*ds));
        size_t n = 0;
        scitt_span b = scitt_span_make(cur.ptr, cur.len);
        if (!ds) {
            e = SCITT_ERR_NOMEM;
        } else if (oci_index_parse(b, ds, OCI_REFERRERS_MAX, &n) != SCITT_OK ||
                   scitt_json_parse(b, &j) != SCITT_OK) {
            snprintf(why, cap, "the referrers tag %s is not an image index", tag);
            e = SCITT_ERR_MALFORMED;
        } else {
            parsed = true;
        }
        for (size_t i = 0; e == SCITT_OK && i < n; i++) {
            if (!strcmp(ds[i].digest, artifact)) {
                e = SCITT_ERR_DUPLICATE_KEY; /* already listed */
            }
        }
        scitt_free(ds);
        if (e == SCITT_OK) {
            /* splice the descriptor in before the manifests array's closing bracket */
            long m = scitt_json_get(&j, 0, "manifests");
            const scitt_json_tok *t = &j.toks[m];
            size_t close = t->end - 1;
            scitt_dynbuf_put(&next, cur.ptr, close);
            scitt_dynbuf_printf(&next, "%s%s", t->count ? "," : "", desc);
            scitt_dynbuf_put(&next, cur.ptr + close, cur.len - close);
        }
    }
    if (parsed) {
        scitt_json_clear(&j);
    }
    if (e == SCITT_OK) {
        bool ack;
        e = next.err ? next.err
                     : oci_put_manifest(c, tag, OCI_MT_INDEX, scitt_span_make(next.ptr, next.len),
                                        &ack, why, cap);
    } else if (e == SCITT_ERR_DUPLICATE_KEY) {
        e = SCITT_OK;
    }
    scitt_dynbuf_clear(&cur);
    scitt_dynbuf_clear(&next);
    return e;
}

int oci_attach(const oci_image *img, const oci_client_opts *o, scitt_span transparent,
               char artifact[OCI_DIGEST_STR], bool *via_tag)
{
    *via_tag = false;
    char why[600];
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (!m) {
        return cli_fail(CLI_USAGE, "out of memory");
    }
    if (scitt_cose_sign1_decode(transparent, 0, m) != SCITT_OK) {
        scitt_free(m);
        return cli_fail(CLI_USAGE, "not a tagged COSE_Sign1 transparent statement");
    }
    if (m->hdr.nreceipts == 0) {
        scitt_free(m);
        return cli_fail(CLI_USAGE, "the statement has no receipt: register it first (scitt "
                                   "register, or scitt register --attach)");
    }
    if (!about_image(m, img->digest, why, sizeof(why))) {
        scitt_free(m);
        return cli_fail(CLI_FAIL, "the statement is not about this image: %s", why);
    }
    oci_client c;
    int rc = oci_client_open(&c, &img->ref, o);
    if (rc != CLI_OK) {
        scitt_free(m);
        return rc;
    }
    scitt_dynbuf man, desc;
    scitt_dynbuf_init(&man, OCI_MANIFEST_MAX);
    scitt_dynbuf_init(&desc, OCI_MANIFEST_MAX);
    char empty[OCI_DIGEST_STR], layer[OCI_DIGEST_STR];
    scitt_err e = oci_push_blob(&c, scitt_span_str("{}"), empty, why, sizeof(why));
    if (e == SCITT_OK) {
        e = oci_push_blob(&c, transparent, layer, why, sizeof(why));
    }
    if (e == SCITT_OK) {
        /* Fixed member order and no time of attaching: the same statement, the same bytes. */
        scitt_dynbuf_printf(&man,
                            "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"artifactType\":\"%s\","
                            "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":2,"
                            "\"data\":\"e30=\"},"
                            "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                            "\"annotations\":{\"org.opencontainers.image.title\":"
                            "\"statement.scitt\"}}],"
                            "\"subject\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%llu},"
                            "\"annotations\":",
                            OCI_MT_MANIFEST, OCI_SCITT_ARTIFACT_TYPE, OCI_MT_EMPTY, empty,
                            OCI_SCITT_ARTIFACT_TYPE, layer, transparent.len, img->media,
                            img->digest, (unsigned long long)img->size);
        size_t ann_at = man.len;
        annotations(&man, m);
        size_t ann_len = man.len - ann_at;
        scitt_dynbuf_str(&man, "}");
        e = man.err;
        uint8_t d[SCITT_SHA256_LEN];
        scitt_sha256(man.ptr, man.len, d);
        memcpy(artifact, "sha256:", 7);
        if (e == SCITT_OK &&
            scitt_hex_encode(scitt_span_make(d, sizeof(d)), artifact + 7, 65) != SCITT_OK) {
            e = SCITT_ERR_NOMEM;
        }
        scitt_dynbuf_printf(&desc,
                            "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                            "\"artifactType\":\"%s\",\"annotations\":",
                            OCI_MT_MANIFEST, artifact, man.len, OCI_SCITT_ARTIFACT_TYPE);
        scitt_dynbuf_put(&desc, man.ptr + ann_at, ann_len);
        scitt_dynbuf_str(&desc, "}");
        e = e ? e : desc.err;
    }
    bool ack = false;
    if (e == SCITT_OK) {
        e = oci_put_manifest(&c, artifact, OCI_MT_MANIFEST, scitt_span_make(man.ptr, man.len), &ack,
                             why, sizeof(why));
    }
    if (e == SCITT_OK && !ack) {
        *via_tag = true;
        scitt_dynbuf_u8(&desc, 0);
        e = desc.err
                ? desc.err
                : update_referrers_tag(&c, img, artifact, (const char *)desc.ptr, why, sizeof(why));
    }
    scitt_dynbuf_clear(&man);
    scitt_dynbuf_clear(&desc);
    oci_client_close(&c);
    scitt_free(m);
    if (e != SCITT_OK) {
        return cli_fail(CLI_USAGE, "cannot attach to %s/%s: %s", img->ref.registry, img->ref.repo,
                        why);
    }
    return CLI_OK;
}

int oci_collect(const oci_image *img, const oci_client_opts *o, oci_candidate *out, size_t *n,
                bool *via_tag)
{
    *n = 0;
    char why[600];
    oci_client c;
    int rc = oci_client_open(&c, &img->ref, o);
    if (rc != CLI_OK) {
        return rc;
    }
    oci_descriptor *ds = scitt_calloc(OCI_REFERRERS_MAX, sizeof(*ds));
    size_t nd = 0;
    scitt_err e =
        ds ? oci_referrers(&c, img->digest, ds, OCI_REFERRERS_MAX, &nd, via_tag, why, sizeof(why))
           : SCITT_ERR_NOMEM;
    for (size_t i = 0; e == SCITT_OK && i < nd && *n < OCI_CANDIDATES_MAX; i++) {
        if (strcmp(ds[i].artifact_type, OCI_SCITT_ARTIFACT_TYPE) != 0) {
            continue; /* signatures, SBOMs, ... of other tools */
        }
        oci_candidate *k = &out[(*n)++];
        memset(k, 0, sizeof(*k));
        scitt_dynbuf_init(&k->statement, CLI_FILE_MAX);
        memcpy(k->artifact, ds[i].digest, sizeof(k->artifact));
        scitt_dynbuf man;
        scitt_dynbuf_init(&man, OCI_MANIFEST_MAX);
        char got[OCI_DIGEST_STR], w[400];
        oci_manifest_info mi;
        scitt_err ke = oci_get_manifest(&c, ds[i].digest, got, NULL, 0, &man, w, sizeof(w));
        if (ke != SCITT_OK) {
            snprintf(k->reason, sizeof(k->reason), "its manifest: %s", w);
        } else if (oci_manifest_parse(scitt_span_make(man.ptr, man.len), &mi) != SCITT_OK ||
                   mi.is_index || mi.nlayers != 1) {
            snprintf(k->reason, sizeof(k->reason), "its manifest is not one of a statement");
        } else if (!mi.has_subject || strcmp(mi.subject, img->digest) != 0) {
            /* a referrers tag is writable by anyone who can push: only the subject counts */
            snprintf(k->reason, sizeof(k->reason), "its subject is %s, not this image",
                     mi.has_subject ? mi.subject : "absent");
        } else if (strcmp(mi.artifact_type, OCI_SCITT_ARTIFACT_TYPE) != 0 ||
                   strcmp(mi.layer0.media_type, OCI_SCITT_ARTIFACT_TYPE) != 0) {
            snprintf(k->reason, sizeof(k->reason), "its manifest is not of type %s",
                     OCI_SCITT_ARTIFACT_TYPE);
        } else if (mi.layer0.size > CLI_FILE_MAX) {
            snprintf(k->reason, sizeof(k->reason), "its statement is larger than %u bytes",
                     CLI_FILE_MAX);
        } else if ((ke = oci_get_blob(&c, mi.layer0.digest, CLI_FILE_MAX, &k->statement, w,
                                      sizeof(w))) != SCITT_OK) {
            snprintf(k->reason, sizeof(k->reason), "its statement: %s", w);
        }
        scitt_dynbuf_clear(&man);
    }
    scitt_free(ds);
    oci_client_close(&c);
    if (e != SCITT_OK) {
        oci_candidates_clear(out, *n);
        *n = 0;
        return cli_fail(CLI_USAGE, "cannot list the referrers of %s/%s@%s: %s", img->ref.registry,
                        img->ref.repo, img->digest, why);
    }
    return CLI_OK;
}

void oci_candidates_clear(oci_candidate *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        scitt_dynbuf_clear(&c[i].statement);
    }
}

int cmd_attach(int argc, char **argv)
{
    enum { O_JSON = 1, O_HELP };
    static const struct option lo[] = {
        OCI_LONG_OPTIONS, {"json", 0, 0, O_JSON}, {"help", 0, 0, O_HELP}, {0, 0, 0, 0}};
    oci_client_opts ro = {0};
    bool json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == O_HELP) {
            return cli_help(help);
        } else if (c == O_JSON) {
            json = true;
        } else if (!oci_option(&ro, c, optarg)) {
            return cli_usage("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (argc - optind != 2) {
        return cli_usage("give IMAGE and TRANSPARENT (see scitt attach --help)");
    }
    scitt_dynbuf ts;
    int rc = cli_slurp(argv[optind + 1], CLI_FILE_MAX, &ts);
    if (rc != CLI_OK) {
        return rc;
    }
    oci_image img;
    rc = oci_resolve(argv[optind], &ro, &img);
    char artifact[OCI_DIGEST_STR] = "";
    bool via_tag = false;
    if (rc == CLI_OK) {
        rc = oci_attach(&img, &ro, scitt_span_make(ts.ptr, ts.len), artifact, &via_tag);
    }
    scitt_dynbuf_clear(&ts);
    if (rc != CLI_OK) {
        return rc;
    }
    char name[700];
    oci_ref_format(&img.ref, name, sizeof(name));
    if (json) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_json_writer j;
        scitt_json_writer_init(&j, &b);
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "image");
        scitt_json_put_cstr(&j, name);
        scitt_json_put_key(&j, "digest");
        scitt_json_put_cstr(&j, img.digest);
        scitt_json_put_key(&j, "artifact");
        scitt_json_put_cstr(&j, artifact);
        scitt_json_put_key(&j, "referrers");
        scitt_json_put_cstr(&j, via_tag ? "tag" : "api");
        scitt_json_end_object(&j);
        cli_json_print(&j);
    } else {
        printf("attached %s to %s (%s) as %s\n", argv[optind + 1], name, img.digest, artifact);
    }
    return CLI_OK;
}
