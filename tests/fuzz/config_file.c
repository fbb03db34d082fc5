/*
 * Fuzz target: scittd's configuration file parser (server/options.c). Whatever the input, a
 * refusal names the file and a line number, and an accepted file leaves a configuration whose
 * listing (--check-config) reads back to the same configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "scittd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL()                                                                                     \
    do {                                                                                           \
        fprintf(stderr, "config_file fuzz: invariant at line %d broken\n", __LINE__);              \
        abort();                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scittd_config c, back;
    char reason[512];
    if (scittd_config_init(&c) != SCITT_OK || scittd_config_init(&back) != SCITT_OK) {
        FAIL();
    }
    scitt_err e = scittd_options_parse_file("f.conf", scitt_span_make(data, size), &c, reason,
                                            sizeof(reason));
    if (e != SCITT_OK) {
        if (e != SCITT_ERR_INVALID_ARG && e != SCITT_ERR_TOO_LARGE && e != SCITT_ERR_NOMEM) {
            FAIL();
        }
        if (e == SCITT_ERR_INVALID_ARG && strncmp(reason, "f.conf:", 7) != 0) {
            FAIL();
        }
    } else {
        scitt_dynbuf a, b;
        scitt_dynbuf_init(&a, 0);
        scitt_dynbuf_init(&b, 0);
        if (scittd_options_dump(&c, &a) != SCITT_OK) {
            FAIL();
        }
        /* The listing redacts the key file; everything else must read back as it was. */
        char *text = calloc(1, a.len + 1);
        if (!text) {
            FAIL();
        }
        memcpy(text, a.ptr, a.len);
        char *red = strstr(text, "tls-key = <redacted>");
        if (red) {
            red[0] = '#';
        }
        if (scittd_options_parse_file("dump", scitt_span_str(text), &back, reason,
                                      sizeof(reason)) != SCITT_OK) {
            fprintf(stderr, "%s\n", reason);
            FAIL();
        }
        if (red) {
            red[0] = 't';
        }
        back.tls_key = c.tls_key ? strdup(c.tls_key) : NULL;
        if (scittd_options_dump(&back, &b) != SCITT_OK || a.len != b.len ||
            memcmp(a.ptr, b.ptr, a.len) != 0) {
            FAIL();
        }
        free(text);
        scitt_dynbuf_clear(&a);
        scitt_dynbuf_clear(&b);
    }
    scittd_config_free(&back);
    scittd_config_free(&c);
    return 0;
}
