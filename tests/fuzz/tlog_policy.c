/*
 * Fuzz target: C2SP tlog-policy files from untrusted bytes. What parses must respect the limits
 * (32 logs, witnesses and groups; every group 1 <= k <= n and only earlier members; one quorum),
 * and checking a fixed unsigned-by-policy note against it must fail cleanly.
 */
#include <stdlib.h>
#include <string.h>

#include "scitt/witness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scitt_tlog_policy *p = malloc(sizeof(*p));
    if (p == NULL) {
        return 0;
    }
    const char *why = NULL;
    size_t line = 0;
    scitt_err e = scitt_tlog_policy_parse(scitt_span_make(data, size), p, &why, &line);
    if (e == SCITT_OK) {
        if (p->n_logs > SCITT_POLICY_MAX_LOGS || p->n_witnesses > SCITT_POLICY_MAX_WITNESSES ||
            p->n_groups > SCITT_POLICY_MAX_GROUPS || p->quorum < -1 ||
            p->quorum >= (int)(SCITT_POLICY_MAX_WITNESSES + p->n_groups) ||
            (p->quorum >= 0 && p->quorum < (int)SCITT_POLICY_MAX_WITNESSES &&
             (size_t)p->quorum >= p->n_witnesses)) {
            __builtin_trap();
        }
        for (size_t g = 0; g < p->n_groups; g++) {
            const scitt_tlog_policy_group *gr = &p->groups[g];
            if (gr->n == 0 || gr->k == 0 || gr->k > gr->n) {
                __builtin_trap();
            }
            for (unsigned i = 0; i < gr->n; i++) {
                unsigned m = gr->members[i];
                if (m < SCITT_POLICY_MAX_WITNESSES ? m >= p->n_witnesses
                                                   : m - SCITT_POLICY_MAX_WITNESSES >= g) {
                    __builtin_trap();
                }
            }
        }
        static const char note[] =
            "fuzz.example/log\n1\n"
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"
            "\xe2\x80\x94 fuzz.example/log AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
        char missing[256];
        if (scitt_tlog_policy_check(p, scitt_span_str(note), NULL, 0, NULL, missing,
                                    sizeof(missing)) == SCITT_OK &&
            p->n_logs > 0) {
            __builtin_trap(); /* nobody holds a key that signed that note */
        }
    } else if (e != SCITT_ERR_POLICY && e != SCITT_ERR_TOO_LARGE) {
        __builtin_trap();
    } else if (e == SCITT_ERR_POLICY && (why == NULL || line == 0)) {
        __builtin_trap();
    }
    free(p);
    return 0;
}
