/*
 * A small CBOR decoder (RFC 8949) for what the explorer reads: COSE messages, receipts, proofs,
 * the transparency configuration. Definite lengths only, nesting and sizes bounded, every byte
 * consumed; a malformed input throws. Maps become Map objects (COSE labels are integers or
 * text), byte strings Uint8Array, tags {tag, value}. decodeItems() also returns where each item
 * of a top-level array starts and ends, so a COSE_Sign1 can be spliced without re-encoding.
 */
"use strict";

const CBOR_MAX_DEPTH = 16;
const CBOR_MAX_ITEMS = 100000;

class CborError extends Error {}

function cborDecoder(bytes) {
    let pos = 0;
    let items = 0;

    function need(n) {
        if (n > bytes.length - pos) {
            throw new CborError("truncated CBOR at byte " + pos);
        }
    }

    function arg(info) {
        if (info < 24) {
            return info;
        }
        const sizes = { 24: 1, 25: 2, 26: 4, 27: 8 };
        const n = sizes[info];
        if (n === undefined) {
            throw new CborError("indefinite or reserved length at byte " + pos);
        }
        need(n);
        let v = 0;
        for (let i = 0; i < n; i++) {
            v = v * 256 + bytes[pos + i];
        }
        pos += n;
        if (v > Number.MAX_SAFE_INTEGER) {
            throw new CborError("integer too large");
        }
        return v;
    }

    function item(depth) {
        if (depth > CBOR_MAX_DEPTH) {
            throw new CborError("CBOR nested too deeply");
        }
        if (++items > CBOR_MAX_ITEMS) {
            throw new CborError("too many CBOR items");
        }
        need(1);
        const ib = bytes[pos++];
        const major = ib >> 5;
        const info = ib & 31;
        if (major === 7) {
            if (info === 20) return false;
            if (info === 21) return true;
            if (info === 22) return null;
            if (info === 23) return undefined;
            if (info === 25 || info === 26 || info === 27) {
                const n = { 25: 2, 26: 4, 27: 8 }[info];
                need(n);
                const dv = new DataView(bytes.buffer, bytes.byteOffset + pos, n);
                pos += n;
                if (n === 2) {
                    const h = dv.getUint16(0);
                    const e = (h >> 10) & 31, f = h & 1023, s = h & 0x8000 ? -1 : 1;
                    return e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity)
                                   : s * (1 + f / 1024) * 2 ** (e - 15);
                }
                return n === 4 ? dv.getFloat32(0) : dv.getFloat64(0);
            }
            throw new CborError("unsupported simple value " + info);
        }
        const n = arg(info);
        switch (major) {
        case 0:
            return n;
        case 1:
            return -1 - n;
        case 2:
            need(n);
            pos += n;
            return bytes.subarray(pos - n, pos);
        case 3: {
            need(n);
            pos += n;
            return new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(pos - n, pos));
        }
        case 4: {
            const a = [];
            for (let i = 0; i < n; i++) {
                a.push(item(depth + 1));
            }
            return a;
        }
        case 5: {
            const m = new Map();
            for (let i = 0; i < n; i++) {
                const k = item(depth + 1);
                if (m.has(k)) {
                    throw new CborError("duplicate map key");
                }
                m.set(k, item(depth + 1));
            }
            return m;
        }
        default: /* 6 */
            return { tag: n, value: item(depth + 1) };
        }
    }

    return {
        whole() {
            const v = item(0);
            if (pos !== bytes.length) {
                throw new CborError("trailing bytes after CBOR item");
            }
            return v;
        },
        /* A top-level array, optionally tagged: its items and their byte ranges. */
        items() {
            need(1);
            let tag = null;
            if (bytes[pos] >> 5 === 6) {
                tag = arg(bytes[pos++] & 31);
            }
            need(1);
            if (bytes[pos] >> 5 !== 4) {
                throw new CborError("not a CBOR array");
            }
            const n = arg(bytes[pos++] & 31);
            const out = [];
            for (let i = 0; i < n; i++) {
                const start = pos;
                const value = item(1);
                out.push({ value, raw: bytes.subarray(start, pos) });
            }
            if (pos !== bytes.length) {
                throw new CborError("trailing bytes after CBOR array");
            }
            return { tag, items: out };
        },
    };
}

function cborDecode(bytes) {
    return cborDecoder(bytes).whole();
}

function cborHead(major, n) {
    if (n < 24) return [major << 5 | n];
    if (n < 256) return [major << 5 | 24, n];
    if (n < 65536) return [major << 5 | 25, n >> 8, n & 255];
    return [major << 5 | 26, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function cborBstr(b) {
    const h = cborHead(2, b.length);
    const out = new Uint8Array(h.length + b.length);
    out.set(h, 0);
    out.set(b, h.length);
    return out;
}

function concatBytes(...parts) {
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
        out.set(p, o);
        o += p.length;
    }
    return out;
}

/* A CBOR value as JSON-like text for display (bytes in hex, tags as tag(value)). */
function cborShow(v, indent) {
    indent = indent || "";
    const next = indent + "  ";
    if (v instanceof Uint8Array) return "h'" + toHex(v) + "'";
    if (v instanceof Map) {
        if (v.size === 0) return "{}";
        const parts = [];
        for (const [k, x] of v) parts.push(next + cborShow(k, next) + ": " + cborShow(x, next));
        return "{\n" + parts.join(",\n") + "\n" + indent + "}";
    }
    if (Array.isArray(v)) {
        if (v.length === 0) return "[]";
        return "[\n" + v.map((x) => next + cborShow(x, next)).join(",\n") + "\n" + indent + "]";
    }
    if (v && typeof v === "object" && "tag" in v) return v.tag + "(" + cborShow(v.value, indent) + ")";
    return JSON.stringify(v === undefined ? null : v);
}

function toHex(b) {
    let s = "";
    for (const x of b) s += x.toString(16).padStart(2, "0");
    return s;
}

function fromHex(s) {
    if (!/^([0-9a-fA-F]{2})*$/.test(s)) throw new Error("not hexadecimal");
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
    return out;
}

function b64ToBytes(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
}

function bytesToB64url(b) {
    let bin = "";
    for (const x of b) bin += String.fromCharCode(x);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
