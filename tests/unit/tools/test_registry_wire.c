/*
 * What a registry answers and image references (tools/oci_wire.c): normalisation (one image, one
 * name), WWW-Authenticate challenges, token answers, referrers indexes, manifests with a subject,
 * docker config.json credentials, and every bound.
 */
#include "testutil.h"

#include "registry.h"

static void test_refs(void **state)
{
    (void)state;
    static const struct {
        const char *in, *registry, *repo, *tag, *digest;
    } ok[] = {
        {"nginx", "docker.io", "library/nginx", "", ""},
        {"nginx:1.27", "docker.io", "library/nginx", "1.27", ""},
        {"docker.io/nginx", "docker.io", "library/nginx", "", ""},
        {"index.docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest", ""},
        {"bitnami/redis", "docker.io", "bitnami/redis", "", ""},
        {"localhost/app", "localhost", "app", "", ""},
        {"localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", ""},
        {"127.0.0.1:5000/a/b/c@sha256:"
         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         "127.0.0.1:5000", "a/b/c", "",
         "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        {"GHCR.IO/org/app:V1", "ghcr.io", "org/app", "V1", ""},
        {"ghcr.io/org/my-app__x.y:1", "ghcr.io", "org/my-app__x.y", "1", ""},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        oci_ref r;
        char why[200];
        assert_int_equal(oci_ref_parse(ok[i].in, &r, why, sizeof(why)), SCITT_OK);
        assert_string_equal(r.registry, ok[i].registry);
        assert_string_equal(r.repo, ok[i].repo);
        assert_string_equal(r.tag, ok[i].tag);
        assert_string_equal(r.digest, ok[i].digest);
    }
    static const char *const bad[] = {
        "",
        "ghcr.io/Org/app",
        "Nginx",
        "ghcr.io/org/app:",
        "ghcr.io/org/app:-x",
        "ghcr.io/org//app",
        "ghcr.io/org/app/",
        "ghcr.io/org/-app",
        "ghcr.io/org/app@sha256:0123",
        "ghcr.io/org/app@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "ghcr.io/org/app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "ghcr.io/org/a..b",
        "ghcr.io/org/a___b",
        "ghcr.io/org/app:t\n",
        "ghcr.io/",
        "user@ghcr.io/app",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        oci_ref r;
        char why[200] = "";
        assert_int_not_equal(oci_ref_parse(bad[i], &r, why, sizeof(why)), SCITT_OK);
        assert_true(why[0] != 0);
    }
    oci_ref r;
    char why[200];
    assert_int_equal(oci_ref_parse("ghcr.io/Org/app", &r, why, sizeof(why)), SCITT_ERR_MALFORMED);
    assert_non_null(strstr(why, "lowercase"));
    /* a tag of 129 characters */
    char long_tag[200] = "ghcr.io/org/app:";
    memset(long_tag + strlen(long_tag), 'a', 129);
    assert_int_not_equal(oci_ref_parse(long_tag, &r, why, sizeof(why)), SCITT_OK);
    long_tag[strlen(long_tag) - 1] = 0;
    assert_int_equal(oci_ref_parse(long_tag, &r, why, sizeof(why)), SCITT_OK);
    char out[700];
    assert_int_equal(
        oci_ref_parse("nginx:1@sha256:"
                      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                      &r, why, sizeof(why)),
        SCITT_OK);
    oci_ref_format(&r, out, sizeof(out));
    assert_string_equal(out, "docker.io/library/nginx:1@sha256:"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
}

static void test_challenges(void **state)
{
    (void)state;
    oci_challenge c;
    assert_int_equal(oci_challenge_parse(scitt_span_str("Bearer realm=\"https://auth.docker.io/"
                                                        "token\",service=\"registry.docker.io\","
                                                        "scope=\"repository:library/nginx:pull\""),
                                         &c),
                     SCITT_OK);
    assert_int_equal(c.scheme, OCI_AUTH_BEARER);
    assert_string_equal(c.realm, "https://auth.docker.io/token");
    assert_string_equal(c.service, "registry.docker.io");
    assert_string_equal(c.scope, "repository:library/nginx:pull");
    assert_int_equal(oci_challenge_parse(scitt_span_str("basic realm=\"a \\\"b\\\"\""), &c),
                     SCITT_OK);
    assert_int_equal(c.scheme, OCI_AUTH_BASIC);
    assert_string_equal(c.realm, "a \"b\"");
    assert_int_equal(oci_challenge_parse(scitt_span_str("Bearer realm=x , service = y"), &c),
                     SCITT_OK);
    assert_string_equal(c.service, "y");
    static const char *const bad[] = {
        "Bearer",               /* no realm */
        "Bearer service=\"x\"", /* no realm */
        "Bearer realm=\"unterminated",
        "Bearer realm=",
        "Bearer =x",
        "Bearer realm=\"a\x01\"",
        "Negotiate abc",
        "Bearerrealm=x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_not_equal(oci_challenge_parse(scitt_span_str(bad[i]), &c), SCITT_OK);
    }
    /* bounds: a realm longer than its buffer, a header longer than OCI_CHALLENGE_MAX */
    char big[OCI_CHALLENGE_MAX + 64];
    int n = snprintf(big, sizeof(big), "Bearer realm=\"");
    memset(big + n, 'a', 1500);
    memcpy(big + n + 1500, "\"", 2);
    assert_int_equal(oci_challenge_parse(scitt_span_str(big), &c), SCITT_ERR_TOO_LARGE);
    memset(big, ' ', sizeof(big) - 1);
    memcpy(big, "Basic", 5);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(oci_challenge_parse(scitt_span_str(big), &c), SCITT_ERR_TOO_LARGE);
}

static void test_tokens(void **state)
{
    (void)state;
    char t[64];
    assert_int_equal(oci_token_parse(scitt_span_str("{\"token\":\"abc.def\"}"), t, sizeof(t)),
                     SCITT_OK);
    assert_string_equal(t, "abc.def");
    assert_int_equal(
        oci_token_parse(scitt_span_str("{\"access_token\":\"x\",\"expires_in\":60}"), t, sizeof(t)),
        SCITT_OK);
    assert_string_equal(t, "x");
    static const char *const bad[] = {
        "{}",          "{\"token\":\"\"}",    "{\"token\":5}",
        "[\"token\"]", "{\"token\":\"a b\"}", "{\"token\":\"a\\r\\nX-Evil: 1\"}",
        "not json",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_not_equal(oci_token_parse(scitt_span_str(bad[i]), t, sizeof(t)), SCITT_OK);
    }
    char longtok[200];
    snprintf(longtok, sizeof(longtok), "{\"token\":\"%0100d\"}", 7);
    assert_int_not_equal(oci_token_parse(scitt_span_str(longtok), t, sizeof(t)), SCITT_OK);
}

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_index_and_manifest(void **state)
{
    (void)state;
    const char *idx =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"digest\":\"sha256:" D64 "\",\"size\":10,\"artifactType\":"
        "\"application/scitt-statement+cose\",\"annotations\":{"
        "\"dev.scittd.statement.issuer\":\"https://ci\"}},"
        "{\"mediaType\":\"x\",\"digest\":\"sha256:" D64 "\",\"size\":1}]}";
    oci_descriptor d[2];
    size_t n;
    assert_int_equal(oci_index_parse(scitt_span_str(idx), d, 2, &n), SCITT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].artifact_type, OCI_SCITT_ARTIFACT_TYPE);
    assert_string_equal(d[0].issuer, "https://ci");
    assert_int_equal(d[0].size, 10);
    assert_string_equal(d[1].artifact_type, "");
    /* more descriptors than room */
    assert_int_equal(oci_index_parse(scitt_span_str(idx), d, 1, &n), SCITT_ERR_TOO_LARGE);
    static const char *const bad_idx[] = {
        "{}",
        "{\"manifests\":{}}",
        "{\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha512:" D64 "\",\"size\":1}]}",
        "{\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:" D64 "\",\"size\":-1}]}",
        "{\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:" D64 "\"}]}",
        "{\"manifests\":[5]}",
    };
    for (size_t i = 0; i < sizeof(bad_idx) / sizeof(bad_idx[0]); i++) {
        assert_int_not_equal(oci_index_parse(scitt_span_str(bad_idx[i]), d, 2, &n), SCITT_OK);
    }
    const char *man =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"artifactType\":\"application/scitt-statement+cose\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":"
        "\"sha256:" D64 "\",\"size\":2},\"layers\":[{\"mediaType\":"
        "\"application/scitt-statement+cose\",\"digest\":\"sha256:" D64
        "\",\"size\":99}],\"subject\":{\"mediaType\":\"m\",\"digest\":\"sha256:" D64
        "\",\"size\":5}}";
    oci_manifest_info mi;
    assert_int_equal(oci_manifest_parse(scitt_span_str(man), &mi), SCITT_OK);
    assert_true(mi.has_subject);
    assert_string_equal(mi.subject, "sha256:" D64);
    assert_int_equal(mi.nlayers, 1);
    assert_int_equal(mi.layer0.size, 99);
    assert_string_equal(mi.artifact_type, OCI_SCITT_ARTIFACT_TYPE);
    static const char *const bad_man[] = {
        "{\"schemaVersion\":1,\"config\":{},\"layers\":[]}",
        "{\"schemaVersion\":2,\"layers\":[]}",
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:" D64
        "\",\"size\":2}}",
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:" D64
        "\",\"size\":2},\"layers\":[],\"subject\":{\"digest\":\"sha256:x\"}}",
    };
    for (size_t i = 0; i < sizeof(bad_man) / sizeof(bad_man[0]); i++) {
        assert_int_not_equal(oci_manifest_parse(scitt_span_str(bad_man[i]), &mi), SCITT_OK);
    }
}

static void test_docker_config(void **state)
{
    (void)state;
    char u[64], p[64];
    /* "ci:pa:ss" */
    const char *cfg =
        "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"Y2k6cGE6c3M=\"},"
        "\"https://index.docker.io/v1/\":{\"username\":\"hub\",\"password\":\"pw\"}}}";
    assert_int_equal(
        oci_docker_config_auth(scitt_span_str(cfg), "127.0.0.1:5000", u, sizeof(u), p, sizeof(p)),
        SCITT_OK);
    assert_string_equal(u, "ci");
    assert_string_equal(p, "pa:ss");
    assert_int_equal(
        oci_docker_config_auth(scitt_span_str(cfg), "docker.io", u, sizeof(u), p, sizeof(p)),
        SCITT_OK);
    assert_string_equal(u, "hub");
    assert_int_equal(
        oci_docker_config_auth(scitt_span_str(cfg), "ghcr.io", u, sizeof(u), p, sizeof(p)),
        SCITT_ERR_NOT_FOUND);
    assert_int_equal(
        oci_docker_config_auth(scitt_span_str("{\"auths\":{\"h\":{\"auth\":\"bm9jb2xvbg==\"}}}"),
                               "h", u, sizeof(u), p, sizeof(p)),
        SCITT_ERR_MALFORMED); /* "nocolon" */
    assert_int_equal(oci_docker_config_auth(scitt_span_str("{\"auths\":{\"h\":{\"auth\":\"!!\"}}}"),
                                            "h", u, sizeof(u), p, sizeof(p)),
                     SCITT_ERR_MALFORMED);
    assert_int_equal(oci_docker_config_auth(scitt_span_str("[1]"), "h", u, sizeof(u), p, sizeof(p)),
                     SCITT_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refs),          cmocka_unit_test(test_challenges),
        cmocka_unit_test(test_tokens),        cmocka_unit_test(test_index_and_manifest),
        cmocka_unit_test(test_docker_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
