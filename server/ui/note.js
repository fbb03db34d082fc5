/*
 * C2SP signed notes checked in the browser: the checkpoint's own signature (signed-note, Ed25519,
 * signature type 0x01, as scittd signs it), witness cosignatures (tlog-cosignature,
 * cosignature/v1, type 0x04) and the quorum of a C2SP tlog-policy file; and the binding of the
 * service's attestation bundle to its identity document (SHA-256 of the identity in REPORT_DATA).
 * Every verdict is computed here from the bytes, with WebCrypto; keys are pinned in this browser.
 */
"use strict";

const NOTE_SIG_ED25519 = 0x01;
const NOTE_SIG_COSIGNATURE = 0x04;
const NOTE_KEY_PIN = "scittd.notekey";
const WITNESS_PIN = "scittd.witnesses";

/* C2SP key ID: the first 4 bytes of SHA-256(name || "\n" || type || public key). */
async function noteKeyId(name, type, pub) {
    const h = await sha256(concatBytes(new TextEncoder().encode(name), Uint8Array.of(0x0a, type), pub));
    return h.subarray(0, 4);
}

/* "<name>+<8 hex key ID>+<base64(type || key)>": checks the ID against the key. */
async function parseVkey(vkey, wantType) {
    /* the name has no '+'; the base64 may */
    const m = /^([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(String(vkey));
    if (!m) throw new Error("malformed vkey " + vkey);
    const parts = m.slice(1);
    const raw = b64ToBytes(parts[2]);
    if (raw.length !== 33 || raw[0] !== wantType) throw new Error("vkey " + parts[0] + " is not of signature type " + wantType);
    const pub = raw.subarray(1);
    const id = await noteKeyId(parts[0], wantType, pub);
    if (toHex(id) !== parts[1]) throw new Error("vkey " + parts[0] + ": the key ID does not match the key");
    return { name: parts[0], id, pub, text: String(vkey) };
}

/* Splits a signed note into its signed text (with its final newline) and signature lines. */
function splitNote(text) {
    const at = text.indexOf("\n\n");
    if (at < 0 || !text.endsWith("\n")) throw new Error("the checkpoint is not a signed note");
    const body = text.slice(0, at + 1);
    const sigs = [];
    for (const line of text.slice(at + 2).split("\n")) {
        if (line === "") continue;
        const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
        if (!m) throw new Error("malformed signature line in the note");
        sigs.push({ name: m[1], blob: b64ToBytes(m[2]), line });
    }
    if (sigs.length === 0) throw new Error("the note has no signature");
    return { body, sigs };
}

async function ed25519Verify(pub, sig, msg) {
    const key = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, sig, msg);
}

/*
 * The log's signature on a checkpoint note with vkey: a line under the key's name and ID whose
 * Ed25519 signature covers the text. Throws when there is none or it does not verify.
 */
async function verifyNoteSignature(note, vkeyText) {
    const k = await parseVkey(vkeyText, NOTE_SIG_ED25519);
    const n = splitNote(note);
    const mine = n.sigs.filter((s) => s.name === k.name && s.blob.length === 68 && bytesEqual(s.blob.subarray(0, 4), k.id));
    if (mine.length === 0) throw new Error("the checkpoint carries no signature by the log key " + k.name + "+" + toHex(k.id));
    for (const s of mine) {
        if (!(await ed25519Verify(k.pub, s.blob.subarray(4), new TextEncoder().encode(n.body)))) {
            throw new Error("the checkpoint's signature by the log key " + k.name + " does not verify");
        }
    }
    return { body: n.body, key: k, sigs: n.sigs };
}

/* The note key of this origin, pinned on first use like the receipt keys. */
function pinnedNoteKey(origin, vkey) {
    let pins;
    try {
        pins = JSON.parse(localStorage.getItem(NOTE_KEY_PIN) || "{}");
    } catch (e) {
        pins = {};
    }
    if (pins[origin] === undefined) {
        pins[origin] = vkey;
        localStorage.setItem(NOTE_KEY_PIN, JSON.stringify(pins));
        return "pinned now (first use)";
    }
    if (pins[origin] !== vkey) throw new Error("the checkpoint key " + vkey + " is not the key this browser pinned for " + origin + ": " + pins[origin]);
    return "matches the pin";
}

/*
 * Cosignatures (cosignature/v1) of the witnesses [{name, vkey}] on the note: for each, the verified
 * timestamp or null. A line under a witness's name and key ID that does not verify fails the whole
 * checkpoint (as C2SP verifiers must).
 */
async function verifyCosignatures(note, witnesses) {
    const n = splitNote(note);
    const out = [];
    for (const w of witnesses) {
        const k = await parseVkey(w.vkey, NOTE_SIG_COSIGNATURE);
        const lines = n.sigs.filter((s) => s.name === k.name && s.blob.length === 76 && bytesEqual(s.blob.subarray(0, 4), k.id));
        let time = null;
        for (const s of lines) {
            let t = 0;
            for (let i = 4; i < 12; i++) t = t * 256 + s.blob[i];
            if (t === 0) throw new Error("witness " + w.name + " cosigned with timestamp 0");
            const msg = new TextEncoder().encode("cosignature/v1\ntime " + t + "\n" + n.body);
            if (!(await ed25519Verify(k.pub, s.blob.subarray(12), msg))) {
                throw new Error("the cosignature of witness " + w.name + " does not verify");
            }
            time = t;
        }
        out.push({ name: w.name, vkey: w.vkey, time });
    }
    return out;
}

/*
 * A C2SP tlog-policy file: log, witness, group and quorum lines. Returns the witnesses by name
 * (with vkeys), the groups and the quorum name ("none" needs nothing).
 */
function parseTlogPolicy(text) {
    const p = { logs: [], witnesses: new Map(), groups: new Map(), quorum: null };
    for (const raw of text.split("\n")) {
        const line = raw.replace(/#.*/, "").trim();
        if (line === "") continue;
        const f = line.split(/\s+/);
        if (f[0] === "log" && f.length >= 2) p.logs.push(f[1]);
        else if (f[0] === "witness" && f.length >= 3) p.witnesses.set(f[1], f[2]);
        else if (f[0] === "group" && f.length >= 4) {
            const n = f.length - 3;
            const k = f[2] === "all" ? n : f[2] === "any" ? 1 : Number(f[2]);
            if (!(k >= 1 && k <= n)) throw new Error("policy group " + f[1] + ": bad threshold " + f[2]);
            p.groups.set(f[1], { k, members: f.slice(3) });
        } else if (f[0] === "quorum" && f.length === 2) p.quorum = f[1];
        else throw new Error("witness policy: unreadable line: " + line);
    }
    if (p.quorum === null) throw new Error("witness policy: no quorum line");
    return p;
}

/* Whether the names that verifiably cosigned meet the policy's quorum. */
function quorumMet(policy, cosigned) {
    const seen = new Set();
    const met = (name) => {
        if (name === "none") return true;
        if (policy.witnesses.has(name)) return cosigned.has(name);
        const g = policy.groups.get(name);
        if (!g || seen.has(name)) return false;
        seen.add(name);
        const r = g.members.filter(met).length >= g.k;
        seen.delete(name);
        return r;
    };
    return met(policy.quorum);
}

/* The witness set this browser saw first for an origin (vkeys and policy text): a change fails. */
async function pinnedWitnessSet(origin, info) {
    const canon = JSON.stringify({ vkeys: info.witnesses.map((w) => w.vkey).sort(), policy: info.policy });
    const fp = toHex(await sha256(new TextEncoder().encode(canon)));
    let pins;
    try {
        pins = JSON.parse(localStorage.getItem(WITNESS_PIN) || "{}");
    } catch (e) {
        pins = {};
    }
    if (pins[origin] === undefined) {
        pins[origin] = fp;
        localStorage.setItem(WITNESS_PIN, JSON.stringify(pins));
        return { fp, status: "pinned now (first use)" };
    }
    if (pins[origin] !== fp) throw new Error("the witnesses or the witness policy changed since this browser pinned them (" + pins[origin].slice(0, 16) + "... now " + fp.slice(0, 16) + "...)");
    return { fp, status: "matches the pin" };
}

/* ---- the attestation bundle ---- */

/* SEV-SNP attestation report fields (AMD SEV-SNP ABI, ATTESTATION_REPORT). */
function snpReport(r) {
    if (!(r instanceof Uint8Array) || r.length < 0x4a0) throw new Error("the SNP report is " + (r ? r.length : 0) + " bytes, not 1184");
    const u32 = (o) => r[o] | (r[o + 1] << 8) | (r[o + 2] << 16) | (r[o + 3] * 16777216);
    return {
        version: u32(0), guestSvn: u32(4), vmpl: u32(0x30),
        reportData: r.subarray(0x50, 0x90), measurement: r.subarray(0x90, 0xc0),
        hostData: r.subarray(0xc0, 0xe0), reportedTcb: r.subarray(0x180, 0x188), chipId: r.subarray(0x1a0, 0x1e0),
    };
}

/*
 * What the page can check of GET /attestation: the bundle's identity document (receipt key,
 * checkpoint vkey, issuer, origin), that the evidence's REPORT_DATA[0:32] is SHA-256 of that
 * document, and that the document names the keys and names the service uses. Not the evidence's
 * signature or its chain to the platform vendor's roots, nor the measurement against an expected
 * value: `scitt attest verify` does those.
 */
async function checkAttestation(bundleBytes) {
    const b = cborDecode(bundleBytes);
    if (!(b instanceof Map)) throw new Error("the attestation bundle is not a CBOR map");
    const identityBytes = b.get("identity");
    if (!(identityBytes instanceof Uint8Array)) throw new Error("the bundle has no identity document");
    const identity = cborDecode(identityBytes);
    if (!(identity instanceof Map)) throw new Error("the identity document is not a CBOR map");
    const digest = await sha256(identityBytes);
    const platform = b.get("platform");
    const evidence = b.get("evidence");
    const out = { platform, identity, digest, facts: [] };
    let reportData;
    if (platform === "virtual") {
        const ev = cborDecode(evidence);
        if (!(ev instanceof Map)) throw new Error("the virtual evidence is not a CBOR map");
        reportData = ev.get("report_data");
        out.insecure = ev.get("insecure") === true;
        out.measurement = ev.get("measurement");
        out.facts.push(["type", String(ev.get("type"))]);
    } else if (platform === "snp") {
        const r = snpReport(evidence);
        reportData = r.reportData;
        out.measurement = r.measurement;
        out.facts.push(["report version", String(r.version)], ["guest SVN", String(r.guestSvn)], ["VMPL", String(r.vmpl)],
                       ["reported TCB", toHex(r.reportedTcb)], ["host data", toHex(r.hostData)], ["chip ID", toHex(r.chipId)]);
    } else {
        throw new Error("the page cannot read evidence of platform " + platform + " (use scitt attest verify)");
    }
    if (!(reportData instanceof Uint8Array) || reportData.length !== 64) throw new Error("the evidence carries no 64-byte report data");
    if (!bytesEqual(reportData.subarray(0, 32), digest)) {
        throw new Error("the evidence does not bind the identity document: REPORT_DATA[0:32] is " + toHex(reportData.subarray(0, 32)) + ", SHA-256(identity) is " + toHex(digest));
    }
    return out;
}

/* The JWK of an EC2 or OKP COSE_Key (RFC 9052/9053 labels), for comparing with /jwks. */
function coseKeyToJwk(k) {
    if (!(k instanceof Map)) throw new Error("the identity's receipt key is not a COSE_Key");
    const crvs = { 1: "P-256", 2: "P-384", 3: "P-521", 6: "Ed25519" };
    if (k.get(1) === 2) return { kty: "EC", crv: crvs[k.get(-1)], x: bytesToB64url(k.get(-2)), y: bytesToB64url(k.get(-3)) };
    if (k.get(1) === 1) return { kty: "OKP", crv: crvs[k.get(-1)], x: bytesToB64url(k.get(-2)) };
    throw new Error("the identity's receipt key has key type " + k.get(1));
}
