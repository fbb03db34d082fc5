/*
 * The explorer's pages (hash routes, so every page and query has a deep link):
 *   #/log                     latest checkpoint, consistency with the one this browser saw last
 *   #/entry/<entry-id>        an entry, decoded and verified here
 *   #/entry/index/<n>         the same by index
 *   #/search?iss=&sub=&digest=&after=&before=&cursor=
 *   #/service                 checkpoint signature, witnesses, keys, policy history, attestation
 *                             (service.js)
 * Every untrusted string reaches the page through textContent, never as markup. When a page is
 * finished, <body> gets data-state="done" and, where something was verified, data-verdict.
 */
"use strict";

const main = () => document.getElementById("main");

function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
    }
    for (const k of kids.flat()) {
        if (k === null || k === undefined) continue;
        e.append(k instanceof Node ? k : String(k));
    }
    return e;
}

function row(name, value) {
    return el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, value));
}

function mono(s) {
    return el("span", { class: "mono" }, s);
}

function setPage(title, ...kids) {
    document.title = title + " - scittd explorer";
    const m = main();
    m.replaceChildren(el("h2", {}, title), ...kids);
}

function done(verdict) {
    if (verdict) document.body.dataset.verdict = verdict;
    document.body.dataset.state = "done";
}

async function fetchOk(url, accept) {
    const res = await fetch(url, { headers: accept ? { Accept: accept } : {}, cache: "no-store" });
    if (!res.ok) throw new Error(url + " answered " + res.status);
    return res;
}

async function fetchBytes(url) {
    return new Uint8Array(await (await fetchOk(url)).arrayBuffer());
}

async function fetchJwks() {
    return (await fetchOk("/jwks", "application/json")).json();
}

function verdictBox(kind, text) {
    return el("div", { class: "verdict " + kind, role: "status", "aria-live": "polite", id: "verdict" }, text);
}

function check(list, ok, text) {
    list.append(el("li", { class: ok ? "ok" : "failed" }, text));
}

function fmtTime(sec) {
    if (typeof sec !== "number") return "";
    return new Date(sec * 1000).toISOString().replace(".000Z", "Z");
}

/* ---- the log page ---- */

const LAST_SEEN = "scittd.checkpoint";

function parseCheckpoint(text) {
    const lines = text.split("\n");
    if (lines.length < 4 || !/^[0-9]+$/.test(lines[1])) throw new Error("malformed checkpoint");
    const root = b64ToBytes(lines[2]);
    if (root.length !== 32) throw new Error("malformed checkpoint root");
    return { origin: lines[0], size: Number(lines[1]), root };
}

async function pageLog() {
    const note = await fetchCheckpointNote();
    const cp = parseCheckpoint(note);
    const witnesses = await (await fetchOk("/witnesses", "application/json")).json();
    const table = el("table", {},
        row("Origin", cp.origin), row("Tree size", String(cp.size)), row("Root", mono(toHex(cp.root))),
        row("Witnesses", witnesses.witnesses.length === 0 ? "none configured for this log"
            : el("span", {}, witnesses.witnesses.length + " configured: " + witnesses.witnesses.map((w) => w.name).join(", ") +
                 " (cosignatures checked on the ", el("a", { href: "#/service" }, "service page"), ")")));
    const checks = el("ul", { class: "checks" });
    let verdict = "ok", text;
    try {
        const config = cborDecode(await fetchBytes("/.well-known/transparency-configuration"));
        const vkey = config.get("checkpoint_vkey");
        await verifyNoteSignature(note, vkey);
        check(checks, true, "checkpoint signed by the log key " + vkey + " (" + pinnedNoteKey(cp.origin, vkey) + ")");
    } catch (e) {
        check(checks, false, e.message);
        verdict = "failed";
        text = "VERIFICATION FAILED: " + e.message;
    }
    let last = null;
    try {
        last = JSON.parse(localStorage.getItem(LAST_SEEN) || "null");
    } catch (e) {
        last = null;
    }
    try {
        if (verdict === "failed") {
            /* the note signature failed: nothing is remembered */
        } else if (!last || last.origin !== cp.origin) {
            text = "First visit: this checkpoint is remembered; the next visit checks that the log only grew from it.";
            verdict = "warn";
        } else if (cp.size < last.size) {
            throw new Error("the log shrank: this browser saw size " + last.size + ", the service now says " + cp.size);
        } else if (cp.size === last.size) {
            if (!bytesEqual(fromHex(last.root), cp.root)) throw new Error("same size " + cp.size + " with another root: a fork");
            check(checks, true, "same tree as last seen (size " + cp.size + ", same root)");
            text = "Consistent with the checkpoint this browser saw last.";
        } else {
            const rec = await fetchBytes("/proofs/consistency?from=" + last.size + "&to=" + cp.size);
            const r = await verifyConsistencyReceipt(rec, last.size, fromHex(last.root), await fetchJwks());
            check(checks, true, "consistency proof from size " + last.size + " to " + r.size + " leads from the old root");
            check(checks, true, "receipt signature verified with key " + r.key.fp.slice(0, 16) + "... (" + r.key.status + ")");
            if (!bytesEqual(r.root, cp.root)) throw new Error("the checkpoint's root is not the root the consistency proof leads to");
            check(checks, true, "checkpoint root equals the proven root");
            text = "Verified: the log grew from size " + last.size + " to " + cp.size + " without rewriting history.";
        }
        if (verdict !== "failed") localStorage.setItem(LAST_SEEN, JSON.stringify({ origin: cp.origin, size: cp.size, root: toHex(cp.root) }));
    } catch (e) {
        check(checks, false, e.message);
        verdict = "failed";
        text = "VERIFICATION FAILED: " + e.message + ". The remembered checkpoint is kept.";
    }
    const hours = el("div", { class: "bars", role: "img", id: "hours" });
    setPage("Log", table, el("h3", {}, "Consistency with the last checkpoint seen here"),
            verdictBox(verdict, text), checks,
            el("h3", {}, "Registrations per hour (last 24 hours)"), hours,
            el("p", {}, el("a", { href: "#/entry/index/" + Math.max(0, cp.size - 1) }, "Latest entry")));
    await drawHours(hours);
    done(verdict);
}

async function drawHours(box) {
    const now = Math.floor(Date.now() / 1000);
    const counts = new Array(24).fill(0);
    let cursor = null, pages = 0;
    do {
        const q = "/query?after=" + (now - 86400) + "&limit=1000" + (cursor ? "&cursor=" + cursor : "");
        const page = await (await fetchOk(q, "application/json")).json();
        for (const e of page.entries) {
            const h = Math.floor((now - e.registered) / 3600);
            if (h >= 0 && h < 24) counts[23 - h]++;
        }
        cursor = page.next;
    } while (cursor && ++pages < 10);
    const max = Math.max(1, ...counts);
    box.setAttribute("aria-label", "registrations per hour, oldest first: " + counts.join(", "));
    for (const c of counts) box.append(el("span", { class: "h" + Math.ceil((c / max) * 10), title: String(c) }));
}

/* ---- the entry page ---- */

const HEADER_NAMES = { 1: "alg", 2: "crit", 3: "content type", 4: "kid", 15: "CWT claims", 16: "typ",
                       33: "x5chain", 34: "x5t", 258: "payload hash alg", 259: "preimage content type",
                       260: "payload location", 393: "registration info" };
const ALG_NAMES = { "-7": "ES256", "-35": "ES384", "-36": "ES512", "-8": "EdDSA", "-37": "PS256",
                    "-38": "PS384", "-39": "PS512", "-16": "SHA-256", "-43": "SHA-384", "-44": "SHA-512" };

function showValue(k, v) {
    if ((k === 1 || k === 258) && ALG_NAMES[String(v)]) return ALG_NAMES[String(v)] + " (" + v + ")";
    if (k === 4 && v instanceof Uint8Array) return mono(toHex(v));
    if (k === 15 && v instanceof Map) {
        const names = { 1: "iss", 2: "sub", 3: "aud", 4: "exp", 5: "nbf", 6: "iat", 7: "cti" };
        return el("table", {}, [...v].map(([ck, cv]) => row(names[ck] || String(ck),
            (ck === 4 || ck === 5 || ck === 6) && typeof cv === "number" ? fmtTime(cv) + " (" + cv + ")"
                : typeof cv === "string" ? cv : mono(cborShow(cv)))));
    }
    if (k === 33) {
        const certs = v instanceof Uint8Array ? [v] : Array.isArray(v) ? v : [];
        return el("ol", {}, certs.map((c) => el("li", {}, describeCert(c))));
    }
    if (typeof v === "string" || typeof v === "number") return String(v);
    return mono(cborShow(v));
}

/* ---- a minimal DER reader for the x5chain certificates (subject, issuer, validity) ---- */

function derRead(b, pos) {
    if (b.length - pos < 2) throw new Error("truncated DER");
    const tag = b[pos];
    let len = b[pos + 1], hdr = 2;
    if (len & 0x80) {
        const n = len & 0x7f;
        if (n === 0 || n > 3 || b.length - pos < 2 + n) throw new Error("bad DER length");
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + b[pos + 2 + i];
        hdr = 2 + n;
    }
    if (len > b.length - pos - hdr) throw new Error("truncated DER");
    return { tag, start: pos + hdr, end: pos + hdr + len };
}

function derChildren(b, node) {
    const out = [];
    for (let p = node.start; p < node.end;) {
        const c = derRead(b, p);
        out.push(c);
        p = c.end;
    }
    return out;
}

const OID_NAMES = { "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
                    "2.5.4.11": "OU", "1.2.840.113549.1.9.1": "E" };

function oidText(b) {
    const parts = [Math.floor(b[0] / 40), b[0] % 40];
    let v = 0;
    for (let i = 1; i < b.length; i++) {
        v = v * 128 + (b[i] & 0x7f);
        if (!(b[i] & 0x80)) {
            parts.push(v);
            v = 0;
        }
    }
    return parts.join(".");
}

function nameText(b, node) {
    const out = [];
    for (const set of derChildren(b, node)) {
        for (const atv of derChildren(b, set)) {
            const [oid, val] = derChildren(b, atv);
            const o = oidText(b.subarray(oid.start, oid.end));
            out.push((OID_NAMES[o] || o) + "=" + new TextDecoder().decode(b.subarray(val.start, val.end)));
        }
    }
    return out.join(", ");
}

function timeText(b, node) {
    let s = new TextDecoder().decode(b.subarray(node.start, node.end));
    if (node.tag === 0x17) s = (Number(s.slice(0, 2)) >= 50 ? "19" : "20") + s;
    return s.slice(0, 4) + "-" + s.slice(4, 6) + "-" + s.slice(6, 8) + "T" + s.slice(8, 10) + ":" +
           s.slice(10, 12) + ":" + s.slice(12, 14) + "Z";
}

function describeCert(der) {
    try {
        const cert = derRead(der, 0);
        const tbs = derChildren(der, cert)[0];
        let f = derChildren(der, tbs);
        if (f[0].tag === 0xa0) f = f.slice(1);
        const validity = derChildren(der, f[3]);
        return el("table", {}, row("subject", nameText(der, f[4])), row("issuer", nameText(der, f[2])),
                  row("valid", timeText(der, validity[0]) + " to " + timeText(der, validity[1])));
    } catch (e) {
        return "undecodable certificate (" + der.length + " bytes): " + e.message;
    }
}

function payloadView(st) {
    const p = st.payload;
    if (!(p instanceof Uint8Array)) return "detached (not in the statement)";
    const ct = st.header.get(3);
    const envelope = st.header.has(258);
    if (envelope) return el("span", {}, "hash envelope: digest ", mono(toHex(p)));
    let text = null;
    if (p.length <= 16384) {
        try {
            text = new TextDecoder("utf-8", { fatal: true }).decode(p);
            if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) text = null;
        } catch (e) {
            text = null;
        }
    }
    if (text !== null && typeof ct === "string" && /json/.test(ct)) {
        try {
            text = JSON.stringify(JSON.parse(text), null, 2);
        } catch (e) { /* shown as it is */ }
    }
    const blob = new Blob([p], { type: "application/octet-stream" });
    const dl = el("a", { href: URL.createObjectURL(blob), download: "payload.bin" }, "Download the payload (" + p.length + " bytes)");
    return text !== null ? el("div", {}, el("pre", { id: "payload" }, text), dl) : dl;
}

function drawPath(res) {
    const ol = el("ol", { class: "path", "aria-label": "proof path from the leaf (bottom) to the root (top)" });
    ol.append(el("li", {}, "leaf " + res.index + ": ", mono(toHex(res.leaf))));
    res.steps.forEach((s, i) => {
        ol.append(el("li", {}, el("span", { class: "side" }, "step " + (i + 1) + ", sibling on the " + s.side + ": "),
                     mono(toHex(s.sibling)), el("br"), "node: ", mono(toHex(s.node))));
    });
    ol.append(el("li", { class: "root" + (res.ok ? "" : " failed") }, "root of tree size " + res.size + ": ", mono(toHex(res.root))));
    return ol;
}

async function entryIdAtIndex(n) {
    const page = await (await fetchOk("/query?cursor=" + n + "&limit=1", "application/json")).json();
    if (!page.entries.length || page.entries[0].index !== n) throw new Error("no entry at index " + n);
    return page.entries[0].entry_id;
}

async function pageEntry(id) {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new Error("an entry ID is 64 lowercase hexadecimal digits");
    const bytes = await fetchBytes("/entries/" + id + "/statement");
    const checks = el("ul", { class: "checks", id: "checks" });
    const header = el("table", { id: "header" });
    const proof = el("div", { id: "proof" });
    let verdict = "ok", failure = null, st = null;
    try {
        st = await openStatement(bytes);
        for (const [k, v] of st.header) header.append(row(HEADER_NAMES[k] || String(k), showValue(k, v)));
        if (st.entryId !== id) throw new Error("the statement served hashes to entry ID " + st.entryId + ", not " + id);
        check(checks, true, "entry ID = SHA-256 of the registered form");
        check(checks, true, "leaf hash = SHA-256(0x00 || registered form): " + toHex(st.leaf));
        if (st.receipts.length === 0) throw new Error("the statement carries no receipt");
        const jwks = await fetchJwks();
        for (const rb of st.receipts) {
            let r;
            try {
                r = await verifyInclusionReceipt(rb, st.leaf, jwks);
            } catch (e) {
                if (e.partial) {
                    for (const x of e.partial.results) proof.append(drawPath(Object.assign({ leaf: st.leaf }, x)));
                }
                throw e;
            }
            for (const x of r.results) {
                check(checks, true, "inclusion proof for index " + x.index + " in tree size " + x.size + " leads to root " + toHex(x.root).slice(0, 16) + "...");
                proof.append(drawPath(Object.assign({ leaf: st.leaf }, x)));
            }
            check(checks, true, "receipt signature (" + (ALG_NAMES[String(r.alg)] || r.alg) + ") verified with key " + r.key.fp.slice(0, 16) + "... (" + r.key.status + ")");
        }
    } catch (e) {
        verdict = "failed";
        failure = e.message;
        check(checks, false, e.message);
    }
    const text = verdict === "ok" ? "Verified in this browser: the entry is in the log under a receipt signed by the pinned service key."
                                  : "VERIFICATION FAILED: " + failure;
    setPage("Entry", verdictBox(verdict, text),
            el("table", {}, row("Entry ID", mono(id)), row("Link", el("a", { href: "#/entry/" + id }, "#/entry/" + id))),
            el("h3", {}, "Checks"), checks,
            el("h3", {}, "Protected header"), header,
            el("h3", {}, "Payload"), st ? payloadView(st) : "not decodable",
            el("h3", {}, "Receipt: the path up the tree"), proof);
    done(verdict);
}

/* ---- search ---- */

const SEARCH_FIELDS = [["iss", "Issuer (iss)"], ["sub", "Subject (sub)"], ["digest", "Payload digest (hex, sha256: accepted)"],
                       ["after", "Registered after (Unix seconds or 2026-01-02T03:04:05Z)"], ["before", "Registered before"]];

async function pageSearch(params) {
    const form = el("form", { class: "search", id: "search-form" });
    for (const [k, label] of SEARCH_FIELDS) {
        form.append(el("label", { for: "q-" + k }, label), el("input", { id: "q-" + k, name: k, value: params.get(k) || "" }));
    }
    form.append(el("span"), el("button", { type: "submit" }, "Search"));
    form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const q = new URLSearchParams();
        for (const [k] of SEARCH_FIELDS) {
            const v = form.elements[k].value.trim();
            if (v) q.set(k, v);
        }
        location.hash = "#/search?" + q.toString();
    });
    const results = el("div", { id: "results", "aria-live": "polite" });
    setPage("Search", form, results);
    const q = new URLSearchParams();
    for (const k of ["iss", "sub", "after", "before", "cursor"]) {
        if (params.get(k)) q.set(k, params.get(k));
    }
    if (params.get("digest")) q.set("digest", params.get("digest").replace(/^sha256:/i, ""));
    if ([...q.keys()].filter((k) => k !== "cursor").length === 0) {
        results.append(el("p", {}, "Give at least one field."));
        done();
        return;
    }
    q.set("limit", "20");
    const res = await fetch("/query?" + q.toString(), { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!res.ok) {
        results.append(el("p", { class: "verdict failed" }, "The service refused the query (" + res.status + ")."));
        done();
        return;
    }
    const page = await res.json();
    if (page.entries.length === 0) {
        results.append(el("p", {}, "No entries match."));
    } else {
        const t = el("table", { id: "result-table" }, el("tr", {}, el("th", {}, "Index"), el("th", {}, "Registered"),
            el("th", {}, "Issuer"), el("th", {}, "Subject"), el("th", {}, "Entry")));
        for (const e of page.entries) {
            t.append(el("tr", {}, el("td", {}, String(e.index)), el("td", {}, fmtTime(e.registered)), el("td", {}, e.iss),
                        el("td", {}, e.sub), el("td", {}, el("a", { href: "#/entry/" + e.entry_id, class: "mono" }, e.entry_id.slice(0, 16) + "..."))));
        }
        results.append(t);
    }
    if (page.next) {
        const nq = new URLSearchParams(params);
        nq.set("cursor", String(page.next));
        results.append(el("p", {}, el("a", { href: "#/search?" + nq.toString(), id: "next-page" }, "Next page")));
    }
    done();
}

/* ---- service: service.js ---- */

/* ---- routing ---- */

async function route() {
    document.body.dataset.state = "loading";
    delete document.body.dataset.verdict;
    const h = location.hash.replace(/^#/, "") || "/log";
    const [path, qs] = h.split("?");
    try {
        let m;
        if (path === "/log") await pageLog();
        else if ((m = /^\/entry\/index\/([0-9]+)$/.exec(path))) await pageEntry(await entryIdAtIndex(Number(m[1])));
        else if ((m = /^\/entry\/([^/]+)$/.exec(path))) await pageEntry(m[1]);
        else if (path === "/search") await pageSearch(new URLSearchParams(qs || ""));
        else if (path === "/service") await pageService();
        else throw new Error("no such page: " + path);
    } catch (e) {
        setPage("Error", verdictBox("failed", e.message));
        done("failed");
    }
    main().focus();
}

document.getElementById("goto").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = ev.target.elements.id.value.trim().toLowerCase();
    location.hash = /^[0-9]+$/.test(v) ? "#/entry/index/" + v : "#/entry/" + v;
});
window.addEventListener("hashchange", route);
route();
