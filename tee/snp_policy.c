/*
 * The relying party's policy over verified SNP evidence: what the guest may allow (debug,
 * migration agent, SMT), where it runs (VMPL, product, minimum TCB and firmware) and what it is
 * (measurement, host data, report data).
 */
#include "scitt/tee.h"

#include <string.h>

#include "tee_internal.h"

void scitt_snp_policy_init(scitt_snp_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->allow_smt = true;
}

static int fw_cmp(scitt_snp_fw_version a, scitt_snp_fw_version b)
{
    if (a.major != b.major) {
        return a.major < b.major ? -1 : 1;
    }
    if (a.minor != b.minor) {
        return a.minor < b.minor ? -1 : 1;
    }
    if (a.build != b.build) {
        return a.build < b.build ? -1 : 1;
    }
    return 0;
}

scitt_err scitt_snp_check_policy(const scitt_snp_verified *v, const scitt_snp_policy *p,
                                 scitt_tee_reason *why)
{
    if (!v || !p || (p->n_min_tcb && !p->min_tcb) || (p->n_measurements && !p->measurements) ||
        (p->n_host_data && !p->host_data)) {
        return SCITT_ERR_INVALID_ARG;
    }
    const scitt_snp_report *r = &v->report;
    if (p->allowed_products && !(p->allowed_products & (1u << v->product))) {
        return scitt__tee_fail(why, SCITT_TEE_POLICY_PRODUCT, SCITT_ERR_POLICY);
    }
    /* Debug lets the host read and change guest memory: nothing the guest says is then its own. */
    if (!p->allow_debug && (r->policy & SCITT_SNP_POLICY_DEBUG)) {
        return scitt__tee_fail(why, SCITT_TEE_POLICY_DEBUG, SCITT_ERR_POLICY);
    }
    if (!p->allow_migrate_ma && (r->policy & SCITT_SNP_POLICY_MIGRATE_MA)) {
        return scitt__tee_fail(why, SCITT_TEE_POLICY_MIGRATE_MA, SCITT_ERR_POLICY);
    }
    if (!p->allow_smt && (r->policy & SCITT_SNP_POLICY_SMT)) {
        return scitt__tee_fail(why, SCITT_TEE_POLICY_SMT, SCITT_ERR_POLICY);
    }
    if (!p->any_vmpl && r->vmpl != p->vmpl) {
        return scitt__tee_fail(why, SCITT_TEE_POLICY_VMPL, SCITT_ERR_POLICY);
    }
    for (size_t i = 0; i < p->n_min_tcb; i++) {
        if (p->min_tcb[i].product == v->product &&
            !scitt_snp_tcb_ge(&v->reported_tcb, &p->min_tcb[i].tcb)) {
            return scitt__tee_fail(why, SCITT_TEE_POLICY_TCB, SCITT_ERR_POLICY);
        }
    }
    if (p->has_endorsed_tcb && r->reported_tcb != p->endorsed_tcb) {
        return scitt__tee_fail(why, SCITT_TEE_POLICY_ENDORSED_TCB, SCITT_ERR_POLICY);
    }
    if (fw_cmp(r->current_version, p->min_firmware) < 0) {
        return scitt__tee_fail(why, SCITT_TEE_POLICY_FIRMWARE, SCITT_ERR_POLICY);
    }
    if (r->guest_svn < p->min_guest_svn) {
        return scitt__tee_fail(why, SCITT_TEE_POLICY_GUEST_SVN, SCITT_ERR_POLICY);
    }
    if (p->n_measurements) {
        bool found = false;
        for (size_t i = 0; i < p->n_measurements && !found; i++) {
            found = memcmp(p->measurements + 48 * i, r->measurement, 48) == 0;
        }
        if (!found) {
            return scitt__tee_fail(why, SCITT_TEE_POLICY_MEASUREMENT, SCITT_ERR_POLICY);
        }
    }
    if (p->n_host_data) {
        bool found = false;
        for (size_t i = 0; i < p->n_host_data && !found; i++) {
            found = memcmp(p->host_data + 32 * i, r->host_data, 32) == 0;
        }
        if (!found) {
            return scitt__tee_fail(why, SCITT_TEE_POLICY_HOST_DATA, SCITT_ERR_POLICY);
        }
    }
    /* REPORT_DATA may hold a verifier's nonce: compare it without an early exit. */
    if (p->report_data && !scitt_ct_equal(p->report_data, r->report_data, 64)) {
        return scitt__tee_fail(why, SCITT_TEE_POLICY_REPORT_DATA, SCITT_ERR_POLICY);
    }
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}
