/*
 * Verification in the browser: the registered form and entry ID of a transparent statement, the
 * RFC 9162 leaf hash, inclusion and consistency proofs, and the RFC 9942 receipt signature with
 * WebCrypto against the service's keys, whose fingerprints are pinned in this browser (trust on
 * first use, per origin; a changed key fails until the user forgets the pin). Nothing here takes
 * the server's word: every verdict is recomputed from the bytes.
 */
"use strict";

const COSE_ALGS = {
    "-7": { name: "ES256", kty: "EC", crv: "P-256", hash: "SHA-256" },
    "-35": { name: "ES384", kty: "EC", crv: "P-384", hash: "SHA-384" },
    "-8": { name: "EdDSA", kty: "OKP", crv: "Ed25519" },
};

async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function bytesEqual(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
}

async function nodeHash(left, right) {
    return sha256(concatBytes(Uint8Array.of(1), left, right));
}

async function leafHash(entry) {
    return sha256(concatBytes(Uint8Array.of(0), entry));
}

function isPow2(n) {
    while (n > 1 && n % 2 === 0) n = half(n);
    return n === 1;
}

function half(n) {
    return Math.floor(n / 2);
}

/*
 * RFC 9162 2.1.3.2: the root from a leaf hash and its inclusion path, and for each step which
 * side the sibling was on (for drawing the path up the tree). Throws on a path of the wrong length.
 */
async function rootFromInclusion(leaf, index, size, path) {
    if (!(index < size)) throw new Error("leaf index " + index + " is not below tree size " + size);
    let fn = index, sn = size - 1, r = leaf;
    const steps = [];
    for (const p of path) {
        if (!(p instanceof Uint8Array) || p.length !== 32) throw new Error("a proof hash is not 32 bytes");
        if (sn === 0) throw new Error("the inclusion path is too long");
        if (fn % 2 === 1 || fn === sn) {
            r = await nodeHash(p, r);
            steps.push({ side: "left", sibling: p, node: r });
            if (fn % 2 === 0) {
                while (fn % 2 === 0 && fn !== 0) {
                    fn = half(fn);
                    sn = half(sn);
                }
            }
        } else {
            r = await nodeHash(r, p);
            steps.push({ side: "right", sibling: p, node: r });
        }
        fn = half(fn);
        sn = half(sn);
    }
    if (sn !== 0) throw new Error("the inclusion path is too short");
    return { root: r, steps };
}

/* RFC 9162 2.1.4.2: the new root from the old root and a consistency path (throws when they disagree). */
async function rootFromConsistency(oldSize, newSize, oldRoot, path) {
    if (oldSize === 0 || oldSize > newSize) throw new Error("no consistency from size " + oldSize + " to " + newSize);
    if (oldSize === newSize) {
        if (path.length !== 0) throw new Error("a consistency path for equal sizes must be empty");
        return oldRoot;
    }
    for (const p of path) {
        if (!(p instanceof Uint8Array) || p.length !== 32) throw new Error("a proof hash is not 32 bytes");
    }
    let pp = path.slice();
    if (isPow2(oldSize)) pp.unshift(oldRoot);
    if (pp.length === 0) throw new Error("empty consistency path");
    let fn = oldSize - 1, sn = newSize - 1;
    while (fn % 2 === 1) {
        fn = half(fn);
        sn = half(sn);
    }
    let fr = pp[0], sr = pp[0];
    for (const c of pp.slice(1)) {
        if (sn === 0) throw new Error("the consistency path is too long");
        if (fn % 2 === 1 || fn === sn) {
            fr = await nodeHash(c, fr);
            sr = await nodeHash(c, sr);
            if (fn % 2 === 0) {
                while (fn % 2 === 0 && fn !== 0) {
                    fn = half(fn);
                    sn = half(sn);
                }
            }
        } else {
            sr = await nodeHash(sr, c);
        }
        fn = half(fn);
        sn = half(sn);
    }
    if (sn !== 0) throw new Error("the consistency path is too short");
    if (!bytesEqual(fr, oldRoot)) throw new Error("the consistency path does not lead to the old root");
    return sr;
}

/* ---- keys and pins ---- */

/* RFC 7638 thumbprint input, hashed with SHA-256: the fingerprint shown and pinned. */
async function jwkFingerprint(jwk) {
    let canon;
    if (jwk.kty === "EC") canon = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
    else if (jwk.kty === "OKP") canon = { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
    else if (jwk.kty === "RSA") canon = { e: jwk.e, kty: jwk.kty, n: jwk.n };
    else throw new Error("unsupported key type " + jwk.kty);
    return toHex(await sha256(new TextEncoder().encode(JSON.stringify(canon))));
}

const PIN_STORE = "scittd.pins";

function loadPins() {
    try {
        return JSON.parse(localStorage.getItem(PIN_STORE) || "{}");
    } catch (e) {
        return {};
    }
}

function savePins(p) {
    localStorage.setItem(PIN_STORE, JSON.stringify(p));
}

/*
 * The JWK "kid" a receipt kid names: the kid's bytes as text (receipts now carry the /jwks kid,
 * the base64url of the key's thumbprint, as ASCII), else their base64url (receipts issued before
 * carried the 32 raw thumbprint bytes). docs/receipts.md, "Keys and kids".
 */
function jwkKidFor(jwks, kid) {
    const text = String.fromCharCode(...kid);
    if (/^[A-Za-z0-9_-]+$/.test(text) && (jwks.keys || []).some((k) => k.kid === text)) return text;
    return bytesToB64url(kid);
}

/*
 * The key for kid (the JWK kid string) checked against the pins: a kid seen before must have the
 * same fingerprint; a new kid is pinned now (trust on first use) and reported as such.
 */
async function pinnedKey(jwks, kidB64) {
    const jwk = (jwks.keys || []).find((k) => k.kid === kidB64);
    if (!jwk) throw new Error("the service publishes no key with kid " + kidB64);
    const fp = await jwkFingerprint(jwk);
    const pins = loadPins();
    let status;
    if (pins[kidB64] === undefined) {
        pins[kidB64] = fp;
        savePins(pins);
        status = "pinned now (first use)";
    } else if (pins[kidB64] !== fp) {
        throw new Error("key " + kidB64 + " has fingerprint " + fp + " but this browser pinned " + pins[kidB64]);
    } else {
        status = "matches the pin";
    }
    return { jwk, fp, status };
}

async function verifySignature(alg, jwk, tbs, sig) {
    const a = COSE_ALGS[String(alg)];
    if (!a) throw new Error("unsupported receipt algorithm " + alg);
    if (jwk.kty !== a.kty || jwk.crv !== a.crv) throw new Error("the key does not fit algorithm " + a.name);
    const pub = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
    if (jwk.kty === "EC") pub.y = jwk.y;
    if (a.kty === "EC") {
        const key = await crypto.subtle.importKey("jwk", pub, { name: "ECDSA", namedCurve: a.crv }, false, ["verify"]);
        return crypto.subtle.verify({ name: "ECDSA", hash: a.hash }, key, sig, tbs);
    }
    const key = await crypto.subtle.importKey("jwk", pub, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, sig, tbs);
}

/* ["Signature1", protected, h'', detached root] */
function sigStructure(prot, payload) {
    return concatBytes(Uint8Array.of(0x84, 0x6a), new TextEncoder().encode("Signature1"),
                       cborBstr(prot), Uint8Array.of(0x40), cborBstr(payload));
}

/* Decodes a COSE receipt: protected header map and bytes, proofs under 396, signature. */
function decodeReceipt(bytes) {
    const top = cborDecode(bytes);
    const arr = top && top.tag === 18 ? top.value : top;
    if (!Array.isArray(arr) || arr.length !== 4) throw new Error("the receipt is not a COSE_Sign1");
    const [prot, unprot, payload, sig] = arr;
    if (!(prot instanceof Uint8Array) || !(unprot instanceof Map) || !(sig instanceof Uint8Array)) {
        throw new Error("the receipt is not a COSE_Sign1");
    }
    if (payload !== null) throw new Error("the receipt's payload is not detached");
    const ph = cborDecode(prot);
    if (!(ph instanceof Map)) throw new Error("the receipt's protected header is not a map");
    if (ph.get(395) !== 1) throw new Error("the receipt's verifiable data structure is not RFC9162_SHA256");
    const proofs = unprot.get(396);
    if (!(proofs instanceof Map)) throw new Error("the receipt carries no proofs (label 396)");
    return { prot, ph, proofs, sig };
}

/* The signed tree size in scittd receipts' protected header: a COSE private-use label
 * (include/scitt/receipt.h, SCITT_RECEIPT_HDR_TREE_SIZE). */
const TREE_SIZE_LABEL = -65537;

/*
 * Checks a receipt for a leaf hash: each inclusion proof's root, the signature over it with the
 * pinned key, and the signed tree size. Returns the facts shown on the page; throws on failure.
 */
async function verifyInclusionReceipt(receiptBytes, leaf, jwks) {
    const r = decodeReceipt(receiptBytes);
    const incl = r.proofs.get(-1);
    if (!Array.isArray(incl) || incl.length === 0) throw new Error("the receipt has no inclusion proof");
    const kid = r.ph.get(4);
    if (!(kid instanceof Uint8Array)) throw new Error("the receipt names no key (kid)");
    const key = await pinnedKey(jwks, jwkKidFor(jwks, kid));
    const signedSize = r.ph.get(TREE_SIZE_LABEL);
    const results = [];
    for (const pb of incl) {
        const p = cborDecode(pb);
        if (!Array.isArray(p) || p.length !== 3 || !Array.isArray(p[2])) throw new Error("malformed inclusion proof");
        const [size, index, path] = p;
        if (signedSize !== undefined && signedSize !== size) {
            throw new Error("the proof is for tree size " + size + " but the signature is for " + signedSize);
        }
        const { root, steps } = await rootFromInclusion(leaf, index, size, path);
        const ok = await verifySignature(r.ph.get(1), key.jwk, sigStructure(r.prot, root), r.sig);
        results.push({ size, index, root, steps, ok });
        if (!ok) {
            const e = new Error("the receipt signature does not verify over the root computed from the proof");
            e.partial = { key, results };
            throw e;
        }
    }
    return { key, results, alg: r.ph.get(1), header: r.ph };
}

/* Checks a consistency receipt from (oldSize, oldRoot): returns the new size and its verified root. */
async function verifyConsistencyReceipt(receiptBytes, oldSize, oldRoot, jwks) {
    const r = decodeReceipt(receiptBytes);
    const cons = r.proofs.get(-2);
    if (!Array.isArray(cons) || cons.length !== 1) throw new Error("the receipt has no consistency proof");
    const p = cborDecode(cons[0]);
    if (!Array.isArray(p) || p.length !== 3 || !Array.isArray(p[2])) throw new Error("malformed consistency proof");
    const [from, to, path] = p;
    if (from !== oldSize) throw new Error("the proof starts at size " + from + ", not " + oldSize);
    const signedSize = r.ph.get(TREE_SIZE_LABEL);
    if (signedSize !== undefined && signedSize !== to) throw new Error("the proof ends at " + to + " but the signature is for " + signedSize);
    const kid = r.ph.get(4);
    if (!(kid instanceof Uint8Array)) throw new Error("the receipt names no key (kid)");
    const key = await pinnedKey(jwks, jwkKidFor(jwks, kid));
    const root = await rootFromConsistency(from, to, oldRoot, path);
    const ok = await verifySignature(r.ph.get(1), key.jwk, sigStructure(r.prot, root), r.sig);
    if (!ok) throw new Error("the consistency receipt's signature does not verify over the computed root");
    return { size: to, root, key };
}

/*
 * A transparent statement: its registered form (unprotected header replaced by the empty map,
 * spliced from the bytes as received), entry ID, leaf hash, header and receipts (label 394).
 */
async function openStatement(bytes) {
    const d = cborDecoder(bytes).items();
    if (d.items.length !== 4) throw new Error("the statement is not a COSE_Sign1");
    const [prot, unprot, payload, sig] = d.items;
    if (!(prot.value instanceof Uint8Array) || !(unprot.value instanceof Map) || !(sig.value instanceof Uint8Array)) {
        throw new Error("the statement is not a COSE_Sign1");
    }
    const form = concatBytes(Uint8Array.of(0xd2, 0x84), prot.raw, Uint8Array.of(0xa0), payload.raw, sig.raw);
    let receipts = unprot.value.get(394);
    if (receipts instanceof Uint8Array) receipts = [receipts];
    return {
        form,
        entryId: toHex(await sha256(form)),
        leaf: await leafHash(form),
        header: cborDecode(prot.value),
        payload: payload.value,
        receipts: Array.isArray(receipts) ? receipts : [],
    };
}
