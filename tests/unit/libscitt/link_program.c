/*
 * A program that embeds the shared libraries only (libscitt.so and libscitt-client.so, linked
 * with -Wl,--no-undefined and --no-allow-shlib-undefined): it can call only what they export.
 * It uses libscitt (an RFC 9162 root, a CBOR problem details body read back) and the client
 * (a client opened and refused, problem details parsed), and exits non-zero if any result is
 * not the expected one.
 */
#include <stdio.h>
#include <string.h>

#include "scitt/client.h"
#include "scitt/merkle.h"

static int fails;

static void expect(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "FAIL %s\n", what);
        fails++;
    }
}

int main(void)
{
    /* The root of the one-leaf tree over "" is SHA-256(0x00). */
    uint8_t leaf[SCITT_HASH_LEN], want[SCITT_HASH_LEN];
    const uint8_t zero = 0;
    scitt_merkle_leaf_hash(scitt_span_make(NULL, 0), leaf);
    scitt_sha256(&zero, 1, want);
    expect(memcmp(leaf, want, sizeof(want)) == 0, "leaf hash of the empty entry");

    /* {-1: "Bad", -2: "worse"}: RFC 9290 problem details as scittd sends them. */
    static const uint8_t problem[] = {0xa2, 0x20, 0x63, 'B', 'a', 'd', 0x21,
                                      0x65, 'w',  'o',  'r', 's', 'e'};
    scitt_span title, detail;
    expect(scitt_client_problem_parse(scitt_span_make(problem, sizeof(problem)), &title, &detail) &&
               title.len == 3 && memcmp(title.ptr, "Bad", 3) == 0 && detail.len == 5,
           "problem details parsed");
    expect(!scitt_client_problem_parse(scitt_span_make(problem, 1), &title, &detail),
           "a truncated map is not problem details");

    char why[200];
    scitt_client *c = NULL;
    scitt_client_options o = {.url = "ftp://example.org"};
    expect(scitt_client_new(&o, &c, why, sizeof(why)) == SCITT_ERR_INVALID_ARG && c == NULL &&
               strstr(why, "ftp://example.org") != NULL,
           "an ftp URL is refused with a reason");
    o.url = "http://127.0.0.1:9/prefix";
    expect(scitt_client_new(&o, &c, why, sizeof(why)) == SCITT_OK && c != NULL &&
               strcmp(scitt_client_url(c), o.url) == 0,
           "an http URL opens a client");
    scitt_client_free(c);

    if (fails == 0) {
        printf("ok\n");
    }
    return fails == 0 ? 0 : 1;
}
