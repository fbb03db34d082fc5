/*
 * Fixtures of the fuzz targets for the registration policy and the daemon's SCRAPI routes: an
 * ES256 issuer key (public half, as a JWK), a test root CA (PEM), and three Signed Statements
 * signed with the private halves, which were not kept: one naming the issuer key by kid, one hash
 * envelope, and one with an x5chain under the CA. The seed corpora use the same keys, so seeds
 * pass the policy and mutations start from statements that verify.
 */
#ifndef SCITT_DAEMON_FUZZ_H
#define SCITT_DAEMON_FUZZ_H

#include <stdlib.h>

#include "scitt/cose.h"

/* Inside the certificates' validity (2025..2045) and after the statements' iat. */
#define FUZZ_NOW 1767312000

#define FUZZ_ISSUER_JWK                                                                            \
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"733ta_vkdg_6AlDaJms1bE-wjVp-isChUSBRxRL3RE8\","     \
    "\"y\":\"pVEmCt8f_H5AGWR5akC5hrEH81TrCETDivF0Dyu2F6M\",\"kid\":"                               \
    "\"6ARBquRgnrAh3n1Y74vx46UCzKb8uKWcSYbhDTIQc8E\",\"alg\":\"ES256\"}"
#define FUZZ_CA_PEM                                                                                \
    "-----BEGIN CERTIFICATE-----\n"                                                                \
    "MIIBVzCB/6ADAgECAgEBMAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCWZ1enogcm9v\n"                           \
    "dDAeFw0yNTAxMDEwMDAwMDBaFw00NTAxMDEwMDAwMDBaMBQxEjAQBgNVBAMMCWZ1\n"                           \
    "enogcm9vdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHPF7uB58mD8Ti0l5Z5n\n"                           \
    "BBLFw6cj2AHi3/NNwH7PiBj2PB/p0b3VcRVUejDDURk7e6f8jV0To0DV3WfnzFP0\n"                           \
    "0R+jQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQW\n"                           \
    "BBTiG2767GRBhZL3tKG8AL2fbE1mYzAKBggqhkjOPQQDAgNHADBEAiB0hZPwDfII\n"                           \
    "elK2/wIC6nNgt1+pTmdu6YZb8CCleY79WwIgayc52jFPxd/BDY+sv6sUG/g+MNVT\n"                           \
    "FdOJK5zegJCPln0=\n"                                                                           \
    "-----END CERTIFICATE-----\n"
#define FUZZ_STMT_KID                                                                              \
    "d2845862a4012603706170706c69636174696f6e2f6a736f6e045820e80441aae4609eb021de7d58ef8bf1e3a502" \
    "cca6fcb8a59c4986e10d321073c10fa3017468747470733a2f2f66757a7a2e6578616d706c65026a706b673a6675" \
    "7a7a2f61061a6955b900a0487b2261223a20317d58403a6bc676c98c01ee90b0f10ced0ec20bf580e9589a161850" \
    "25cacd91a0660ff104c12f08bc653d96fc87aae80d8845428603ae63fa3eb0054f81cce333d0f3f7"
#define FUZZ_STMT_ENVELOPE                                                                         \
    "d284586da50126045820e80441aae4609eb021de7d58ef8bf1e3a502cca6fcb8a59c4986e10d321073c10fa30174" \
    "68747470733a2f2f66757a7a2e6578616d706c65026a706b673a66757a7a2f62061a6955b9001901022f19010375" \
    "6170706c69636174696f6e2f737064782b6a736f6ea0582098f3ae1ef67113d8140d4f6cb8d2830070e21ea48f09" \
    "1be519659846c771a374584078d7e4d5774ff6958f68eae5d546aa4553f1ffd063c8cb6a94cf1924f858dff4a41b" \
    "aa444c2cb3daf69c51417602d15d07f6389ea9f9a3cf60f53249d0b0c112"
#define FUZZ_STMT_X5CHAIN                                                                          \
    "d284590321a4012603706170706c69636174696f6e2f6a736f6e0fa3017768747470733a2f2f63612e66757a7a2e" \
    "6578616d706c65026a706b673a66757a7a2f63061a6955b90018218259017b308201773082011da0030201020201" \
    "02300a06082a8648ce3d04030230143112301006035504030c0966757a7a20726f6f74301e170d32353031303130" \
    "30303030305a170d3435303130313030303030305a30143112301006035504030c0966757a7a206c656166305930" \
    "1306072a8648ce3d020106082a8648ce3d03010703420004c1948d49c3d2b4877df9cb21946585458d9b9dcd4e23" \
    "618bdd16baec6b0d29cef3cb5e86a69c83326bd868c985498896d8c7642029330c884323cfa8113a71eba360305e" \
    "300c0603551d130101ff04023000300e0603551d0f0101ff040403020780301d0603551d0e04160414e7d370451d" \
    "1ac69ab685d1305feb943c4ae6497c301f0603551d23041830168014e21b6efaec64418592f7b4a1bc00bd9f6c4d" \
    "6663300a06082a8648ce3d0403020348003045022100eb7be46365e0d8525f09473618ae532eec7c8e5b306d541f" \
    "1aeea29be9678b38022016aaf1fcfe3aea4bb127c59d8bc80bce4166a4649cdefec52ddf71c72ce112fc59015b30" \
    "8201573081ffa003020102020101300a06082a8648ce3d04030230143112301006035504030c0966757a7a20726f" \
    "6f74301e170d3235303130313030303030305a170d3435303130313030303030305a30143112301006035504030c" \
    "0966757a7a20726f6f743059301306072a8648ce3d020106082a8648ce3d0301070342000473c5eee079f260fc4e" \
    "2d25e59e670412c5c3a723d801e2dff34dc07ecf8818f63c1fe9d1bdd57115547a30c351193b7ba7fc8d5d13a340" \
    "d5dd67e7cc53f4d11fa3423040300f0603551d130101ff040530030101ff300e0603551d0f0101ff040403020106" \
    "301d0603551d0e04160414e21b6efaec64418592f7b4a1bc00bd9f6c4d6663300a06082a8648ce3d040302034700" \
    "30440220748593f00df2087a52b6ff0202ea7360b75fa94e676ee9865bf020a5798efd5b02206b2739da314fc5df" \
    "c10d8facbfab141bf83e30d55315d3892b9cde80908f967da0487b2263223a20337d58402e975f3d6ecb5cdca463" \
    "02dcf87e96f13a643a226a72391953ff0e93d9c1f1875a58ab36925c88d7174eeb4e72551a68bf56d1d7b0347f1f" \
    "39589c22fdc72843"

/* Decodes fixture hex into a heap buffer (never freed: the targets keep it for their lifetime). */
static inline scitt_span fuzz_fixture(const char *hex)
{
    size_t cap = strlen(hex) / 2, n = 0;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf || scitt_hex_decode(scitt_span_str(hex), buf, cap, &n) != SCITT_OK) {
        abort();
    }
    return scitt_span_make(buf, n);
}

/*
 * The policy the SCRAPI target's service runs with: the issuer key pinned for
 * https://fuzz.example, the CA as x509 root for https://ca.fuzz.example.
 */
static inline void fuzz_policy_json(scitt_dynbuf *out)
{
    scitt_dynbuf_init(out, 0);
    scitt_dynbuf_str(out,
                     "{\"version\": 1, \"issuers\": [{\"iss\": \"https://fuzz.example\", "
                     "\"keys\": [" FUZZ_ISSUER_JWK "]}, {\"iss\": \"https://ca.fuzz.example\", "
                     "\"x509_roots\": [\"");
    for (const char *p = FUZZ_CA_PEM; *p; p++) {
        if (*p == '\n') {
            scitt_dynbuf_str(out, "\\n");
        } else {
            scitt_dynbuf_u8(out, (uint8_t)*p);
        }
    }
    scitt_dynbuf_str(out, "\"]}]}");
}

#endif /* SCITT_DAEMON_FUZZ_H */
