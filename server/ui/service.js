/*
 * The service page (#/service): what this browser can check of the service itself.
 *   - the checkpoint: its note signature by the log key (pinned per origin);
 *   - witnesses: the configured ones (GET /witnesses, pinned as a set), their cosignatures on the
 *     checkpoint verified here, and the quorum of the witness policy;
 *   - the receipt keys with their pins;
 *   - the registration policy's history: every policy statement the log holds, each verified here
 *     (signed by a service key, the service's iss, a JSON document, its entry ID and receipt);
 *   - the attestation bundle: its identity document bound by the evidence's REPORT_DATA, and
 *     naming the keys, issuer and origin the service uses.
 * Each section gets a verdict box (#verdict-note, -witness, -policy, -attest) and <body
 * data-verdict> the worst of them.
 */
"use strict";

const POLICY_SUBJECT = "scittd/registration-policy";

function section(id, title, verdict, text, ...kids) {
    return el("section", { id: "sec-" + id, "aria-labelledby": "h-" + id },
              el("h3", { id: "h-" + id }, title),
              el("div", { class: "verdict " + verdict, role: "status", id: "verdict-" + id, "data-verdict": verdict }, text),
              ...kids);
}

async function fetchCheckpointNote() {
    let res = await fetch("/checkpoint", { cache: "no-store" });
    if (res.status === 503) res = await fetch("/checkpoint/latest", { cache: "no-store" });
    if (!res.ok) throw new Error("/checkpoint answered " + res.status);
    return res.text();
}

/* The COSE_Sign1 signature of a (registered) statement, verified with the pinned key its kid names. */
async function verifyStatementSignature(bytes, jwks) {
    const d = cborDecoder(bytes).items();
    const [prot, , payload, sig] = d.items;
    const ph = cborDecode(prot.value);
    const kid = ph.get(4);
    if (!(kid instanceof Uint8Array)) throw new Error("the statement names no kid");
    const jwkKid = jwkKidFor(jwks, kid);
    const key = await pinnedKey(jwks, jwkKid);
    if (!(await verifySignature(ph.get(1), key.jwk, sigStructure(prot.value, payload.value), sig.value))) {
        throw new Error("its signature does not verify with the service key " + jwkKid);
    }
    return key;
}

/* Every policy statement in the log (as /query lists them), each verified here. */
async function policyHistory(config, jwks) {
    const rows = [];
    let cursor = null, pages = 0;
    do {
        const q = "/query?sub=" + encodeURIComponent(POLICY_SUBJECT) + "&limit=100" + (cursor ? "&cursor=" + cursor : "");
        const page = await (await fetchOk(q, "application/json")).json();
        rows.push(...page.entries);
        cursor = page.next;
    } while (cursor && ++pages < 10);
    const out = [];
    let prevHash = null;
    for (const e of rows) {
        const r = { index: e.index, id: e.entry_id, registered: e.registered };
        try {
            const bytes = await fetchBytes("/entries/" + e.entry_id + "/statement");
            const st = await openStatement(bytes);
            await verifyStatementSignature(bytes, jwks);
            const claims = st.header.get(15);
            const iss = claims instanceof Map ? claims.get(1) : undefined;
            const sub = claims instanceof Map ? claims.get(2) : undefined;
            if (sub !== POLICY_SUBJECT) throw new Error("its subject is not " + POLICY_SUBJECT);
            if (config && typeof config.get("issuer") === "string" && iss !== config.get("issuer")) {
                throw new Error("its iss " + JSON.stringify(iss) + " is not the service's " + JSON.stringify(config.get("issuer")));
            }
            r.text = new TextDecoder("utf-8", { fatal: true }).decode(st.payload);
            JSON.parse(r.text);
            if (st.entryId !== e.entry_id) throw new Error("the statement served hashes to entry ID " + st.entryId);
            if (st.receipts.length === 0) throw new Error("the statement carries no receipt");
            for (const rb of st.receipts) await verifyInclusionReceipt(rb, st.leaf, jwks);
            r.hash = toHex(await sha256(st.payload));
            r.change = prevHash === null ? "first policy" : prevHash === r.hash ? "same text registered again" : "POLICY CHANGE";
            prevHash = r.hash;
            r.ok = true;
        } catch (err) {
            r.ok = false;
            r.why = err.message;
        }
        out.push(r);
    }
    return out;
}

async function sectionPolicy(config, jwks) {
    const hist = await policyHistory(config, jwks);
    const t = el("table", { id: "policy-history" }, el("tr", {}, el("th", {}, "Index"), el("th", {}, "Registered"),
        el("th", {}, "SHA-256 of the document"), el("th", {}, "Change"), el("th", {}, "Checked here")));
    for (const r of hist) {
        t.append(el("tr", { class: r.ok ? "ok" : "failed" }, el("td", {}, el("a", { href: "#/entry/" + r.id }, String(r.index))),
            el("td", {}, fmtTime(r.registered)), el("td", {}, mono(r.hash ? r.hash.slice(0, 16) + "..." : "")),
            el("td", {}, r.change || ""), el("td", {}, r.ok ? "verified" : "FAILED: " + r.why)));
    }
    const inForce = config ? config.get("policy_entry") : undefined;
    const bad = hist.filter((r) => !r.ok);
    let verdict = "ok", text;
    const last = hist.length ? hist[hist.length - 1] : null;
    if (bad.length) {
        verdict = "failed";
        text = "VERIFICATION FAILED: policy entry " + bad[0].index + ": " + bad[0].why;
    } else if (!last) {
        verdict = "failed";
        text = "VERIFICATION FAILED: the log lists no policy statement";
    } else if (inForce !== last.index) {
        verdict = "failed";
        text = "VERIFICATION FAILED: the configuration says the policy in force is entry " + inForce + ", the log's last policy statement is entry " + last.index;
    } else {
        const changes = hist.filter((r) => r.change === "POLICY CHANGE").length;
        text = "Verified: " + hist.length + " policy statement(s) signed by the service key, " + changes + " change(s); entry " + last.index + " is in force.";
    }
    return section("policy", "Registration policy and its history", verdict, text, t,
        last && last.text ? el("details", {}, el("summary", {}, "The policy in force (entry " + last.index + ")"), el("pre", { id: "policy-text" }, last.text)) : null,
        el("p", { class: "note" }, "Listed by the service's search; each statement listed is verified here. That the list is complete is not: scitt audit replays every entry."));
}

async function sectionNote(config) {
    const checks = el("ul", { class: "checks" });
    let verdict = "ok", text, note = null;
    try {
        note = await fetchCheckpointNote();
        const vkey = config.get("checkpoint_vkey");
        const origin = config.get("origin");
        const v = await verifyNoteSignature(note, vkey);
        const cp = parseCheckpoint(v.body);
        if (cp.origin !== origin) throw new Error("the checkpoint's origin " + cp.origin + " is not the service's " + origin);
        check(checks, true, "log key " + vkey + " (" + pinnedNoteKey(origin, vkey) + ")");
        check(checks, true, "Ed25519 signature over the checkpoint text verified (size " + cp.size + ", root " + toHex(cp.root).slice(0, 16) + "...)");
        text = "Verified: the checkpoint of size " + cp.size + " is signed by the log key.";
    } catch (e) {
        verdict = "failed";
        check(checks, false, e.message);
        text = "VERIFICATION FAILED: " + e.message;
    }
    return { note, node: section("note", "Checkpoint signature", verdict, text, checks, note ? el("pre", { id: "checkpoint-note" }, note) : null) };
}

async function sectionWitness(config, note) {
    const info = await (await fetchOk("/witnesses", "application/json")).json();
    const t = el("table", { id: "witness-table" }, el("tr", {}, el("th", {}, "Witness"), el("th", {}, "vkey"), el("th", {}, "counted"),
        el("th", {}, "cosignature on this checkpoint")));
    if (!info.witnesses.length) {
        return section("witness", "Witnesses", "warn", "No witnesses are configured for this log: its checkpoints are signed by the log alone.");
    }
    let verdict = "ok", text;
    const checks = el("ul", { class: "checks" });
    try {
        if (!note) throw new Error("no checkpoint to check");
        const pin = await pinnedWitnessSet(config.get("origin"), info);
        check(checks, true, "witness set " + pin.fp.slice(0, 16) + "... (" + pin.status + ")");
        const res = await verifyCosignatures(note, info.witnesses);
        const cosigned = new Set();
        for (const r of res) {
            const w = info.witnesses.find((x) => x.vkey === r.vkey);
            if (r.time !== null && w.counted) cosigned.add(w.name);
            t.append(el("tr", {}, el("td", {}, w.name), el("td", {}, mono(w.vkey)), el("td", {}, w.counted ? "yes" : "no (not in the policy)"),
                        el("td", {}, r.time !== null ? "verified, " + fmtTime(r.time) : "none")));
        }
        const policy = info.policy !== null ? parseTlogPolicy(info.policy)
            : { witnesses: new Map(info.witnesses.map((w) => [w.name, w.vkey])), groups: new Map([["all", { k: info.witnesses.length, members: info.witnesses.map((w) => w.name) }]]), quorum: "all", logs: [] };
        for (const [name, vk] of policy.witnesses) {
            const w = info.witnesses.find((x) => x.name === name);
            if (w && w.vkey !== vk) throw new Error("witness " + name + " has another key in the policy than the one configured");
        }
        if (policy.logs.length && !policy.logs.includes(config.get("checkpoint_vkey"))) throw new Error("the witness policy's log line is not this log's key");
        const size = parseCheckpoint(splitNote(note).body).size;
        if (!quorumMet(policy, cosigned)) throw new Error("the verified cosignatures (" + ([...cosigned].join(", ") || "none") + ") do not meet the policy's quorum " + policy.quorum);
        check(checks, true, cosigned.size + " cosignature(s) verified; quorum " + policy.quorum + " met");
        text = "Verified: the checkpoint of size " + size + " is cosigned by " + [...cosigned].join(", ") + " and meets the witness policy.";
    } catch (e) {
        verdict = "failed";
        check(checks, false, e.message);
        text = "VERIFICATION FAILED: " + e.message;
    }
    return section("witness", "Witnesses", verdict, text, checks, t,
        info.policy !== null ? el("details", {}, el("summary", {}, "The witness policy"), el("pre", {}, info.policy)) : el("p", {}, "No policy file: every configured witness must cosign."));
}

async function sectionAttest(config, jwks) {
    const checks = el("ul", { class: "checks" });
    const facts = el("table", { id: "attest-facts" });
    let verdict = "ok", text;
    try {
        const a = await checkAttestation(await fetchBytes("/attestation"));
        facts.append(row("platform", String(a.platform)));
        if (a.measurement instanceof Uint8Array) facts.append(row("measurement", mono(toHex(a.measurement))));
        for (const [k, v] of a.facts) facts.append(row(k, mono(v)));
        check(checks, true, "REPORT_DATA[0:32] = SHA-256(identity document) = " + toHex(a.digest).slice(0, 16) + "...");
        const id = a.identity;
        const jwk = coseKeyToJwk(id.get(1));
        const fp = await jwkFingerprint(jwk);
        const served = [];
        for (const k of jwks.keys || []) served.push(await jwkFingerprint(k));
        if (!served.includes(fp)) throw new Error("the identity's receipt key " + fp.slice(0, 16) + "... is not one of the keys at /jwks");
        check(checks, true, "the identity's receipt key is served at /jwks (fingerprint " + fp.slice(0, 16) + "...)");
        if (id.get(2) !== config.get("checkpoint_vkey")) throw new Error("the identity's checkpoint key " + id.get(2) + " is not the configuration's " + config.get("checkpoint_vkey"));
        check(checks, true, "the identity's checkpoint key is the one that signs the checkpoint");
        if (id.get(3) !== config.get("issuer") || id.get(4) !== config.get("origin")) throw new Error("the identity names issuer " + id.get(3) + " and origin " + id.get(4) + ", not the service's");
        check(checks, true, "issuer and origin are the service's");
        if (a.insecure || a.platform === "virtual") {
            verdict = "warn";
            text = "Bound, but INSECURE: the virtual platform's evidence is unsigned; anybody could make it.";
        } else {
            text = "The evidence binds the identity document. Not checked here: the report's signature and its chain to the vendor's roots, the TCB, and the measurement you expect (scitt attest verify --expect-measurement).";
        }
    } catch (e) {
        verdict = "failed";
        check(checks, false, e.message);
        text = "VERIFICATION FAILED: " + e.message;
    }
    return section("attest", "Attestation", verdict, text, checks, facts);
}

async function pageService() {
    const jwks = await fetchJwks();
    const pins = loadPins();
    const keys = el("table", { id: "keys" }, el("tr", {}, el("th", {}, "kid"), el("th", {}, "alg"), el("th", {}, "SHA-256 fingerprint"), el("th", {}, "pin")));
    for (const k of jwks.keys || []) {
        const fp = await jwkFingerprint(k);
        const pin = pins[k.kid] === undefined ? "not pinned yet" : pins[k.kid] === fp ? "pinned" : "DIFFERS FROM PIN " + pins[k.kid];
        keys.append(el("tr", {}, el("td", {}, mono(k.kid)), el("td", {}, k.alg || ""), el("td", {}, mono(fp)), el("td", {}, pin)));
    }
    const forget = el("button", { type: "button", id: "forget" }, "Forget the pinned keys, witnesses and checkpoint");
    forget.addEventListener("click", () => {
        for (const k of [PIN_STORE, LAST_SEEN, NOTE_KEY_PIN, WITNESS_PIN]) localStorage.removeItem(k);
        route();
    });
    let config = null, configView;
    try {
        config = cborDecode(await fetchBytes("/.well-known/transparency-configuration"));
        if (!(config instanceof Map)) throw new Error("not a CBOR map");
        configView = el("pre", {}, cborShow(config));
    } catch (e) {
        configView = "unavailable: " + e.message;
    }
    const sections = [];
    if (config) {
        const n = await sectionNote(config);
        sections.push(n.node, await sectionWitness(config, n.note));
    }
    sections.push(section("keys", "Receipt keys", "ok", "Keys are pinned in this browser the first time a receipt uses them.", keys, forget));
    if (config) sections.push(await sectionPolicy(config, jwks), await sectionAttest(config, jwks));
    sections.push(el("h3", {}, "Transparency configuration"), configView);
    setPage("Service", ...sections);
    const v = [...document.querySelectorAll("[data-verdict]")].map((x) => x.dataset.verdict);
    done(!config || v.includes("failed") ? "failed" : v.includes("warn") ? "warn" : "ok");
}
