// Helpers of the JavaScript side of the harness: reading keys, hashes and COSE_Sign1 messages,
// and the signature verifiers handed to @transmute/cose. Every verification goes through a
// library: @transmute/cose for ES256/ES384/ES512 (the only algorithms it verifies), cose-kit for
// EdDSA and RSASSA-PSS.
import fs from 'node:fs'
import nodeCrypto from 'node:crypto'
import * as cose from '@transmute/cose'

export { cose }

export const HDR = { alg: 1, kid: 4, receipts: 394, vds: 395, vdp: 396 }
export const VDP_INCLUSION = -1
export const VDP_CONSISTENCY = -2
// -19 is RFC 9864's fully specified Ed25519: an EdDSA key on curve Ed25519 (checked when verifying).
const ALGS = { '-7': 'ES256', '-35': 'ES384', '-36': 'ES512', '-8': 'EdDSA', '-19': 'EdDSA', '-37': 'PS256', '-38': 'PS384', '-39': 'PS512' }
const CURVE_ALG = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA', Ed448: 'EdDSA' }

export const algName = (n) => ALGS[String(n)]
export const toHex = (b) => Buffer.from(b).toString('hex')
export const bytes = (b) => (b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength))
// cbor-web writes a Uint8Array as an RFC 8746 typed array (tag 64), an ArrayBuffer as a bstr:
// everything handed to the library for encoding goes through buf().
export const buf = (b) => cose.cbor.toArrayBuffer(b instanceof ArrayBuffer ? new Uint8Array(b) : b)

// A usage or input error: exit status 2.
export class UsageError extends Error {}

export function readFile(path, what) {
  try {
    return new Uint8Array(fs.readFileSync(path))
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${e.code || e.message}`)
  }
}

// 64 hex digits or base64 (standard or URL alphabet) of 32 bytes.
export function parseHash(text, what) {
  const t = String(text).trim()
  if (/^[0-9a-fA-F]{64}$/.test(t)) return new Uint8Array(Buffer.from(t, 'hex'))
  const b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (b.length !== 32) throw new UsageError(`${what}: not a 32-byte hash in hex or base64: ${text}`)
  return new Uint8Array(b)
}

// Public keys as JWKs with alg (and kid when the file has one), from PEM (public key,
// certificate or private key: only the public half is kept) or JSON (a JWK or a JWKS).
export function loadKeys(path) {
  const text = Buffer.from(readFile(path, 'key')).toString('utf8').trim()
  const out = []
  const withAlg = (jwk) => {
    if (!jwk.alg && CURVE_ALG[jwk.crv]) jwk.alg = CURVE_ALG[jwk.crv]
    return jwk
  }
  if (text.startsWith('{')) {
    let doc
    try {
      doc = JSON.parse(text)
    } catch (e) {
      throw new UsageError(`${path}: not JSON: ${e.message}`)
    }
    for (const k of Array.isArray(doc.keys) ? doc.keys : [doc]) {
      const pub = { ...k }
      for (const p of ['d', 'p', 'q', 'dp', 'dq', 'qi']) delete pub[p]
      out.push(withAlg(pub))
    }
  } else {
    for (const m of text.matchAll(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g)) {
      let ko
      try {
        ko = m[1] === 'CERTIFICATE' ? new nodeCrypto.X509Certificate(m[0]).publicKey : nodeCrypto.createPublicKey(m[0])
      } catch (e) {
        throw new UsageError(`${path}: ${m[1]}: ${e.message}`)
      }
      out.push(withAlg(ko.export({ format: 'jwk' })))
    }
  }
  if (!out.length) throw new UsageError(`${path}: no key (PEM, JWK or JWKS expected)`)
  return out
}

// The key for a message: among those whose kid equals the message's kid (label 4 read as UTF-8)
// if any has it, else among all; the first whose alg is the message's alg.
export function chooseKey(keys, protectedHeader) {
  const alg = algName(protectedHeader.get(HDR.alg))
  const rawKid = protectedHeader.get(HDR.kid)
  const kid = rawKid === undefined ? undefined : typeof rawKid === 'string' ? rawKid : Buffer.from(rawKid).toString('utf8')
  const byKid = kid === undefined ? [] : keys.filter((k) => k.kid === kid)
  const key = (byKid.length ? byKid : keys).find((k) => alg && k.alg === alg)
  if (!key) throw new Error(`no given key for alg ${protectedHeader.get(HDR.alg)}${kid === undefined ? '' : ` and kid "${kid}"`}`)
  return key
}

// A COSE_Sign1: { tag, parts: [protected bstr, unprotected map, payload, signature], protected }.
export function decodeSign1(data, what) {
  let item
  try {
    item = cose.cbor.decodeFirstSync(data)
  } catch (e) {
    throw new Error(`${what}: not CBOR: ${e.message}`)
  }
  const tagged = item instanceof cose.cbor.Tagged
  const parts = tagged ? item.value : item
  // cbor-web decodes an empty map as {}
  if (Array.isArray(parts) && parts[1] && parts[1].constructor === Object && !Object.keys(parts[1]).length) parts[1] = new Map()
  if (!Array.isArray(parts) || parts.length !== 4 || !(parts[0] instanceof Uint8Array) || !(parts[1] instanceof Map)) {
    throw new Error(`${what}: not a COSE_Sign1 [protected bstr, unprotected map, payload, signature]`)
  }
  let prot = parts[0].length ? cose.cbor.decodeFirstSync(parts[0]) : new Map()
  if (prot && prot.constructor === Object && !Object.keys(prot).length) prot = new Map()
  if (!(prot instanceof Map)) throw new Error(`${what}: protected header is not a map`)
  return { tag: tagged ? item.tag : undefined, parts, protected: prot }
}

export function encodeSign1(parts) {
  return bytes(cose.cbor.encode(new cose.cbor.Tagged(18, parts)))
}

// RFC 8746 typed-array tags (64..87) in a COSE_Sign1 and in the bstr-wrapped CBOR that COSE
// Receipts carry (protected headers, 394 receipts, 396 proofs). cbor-web turns such tags into
// plain byte arrays, so the library cannot see them; COSE requires a bstr there.
export function typedArrayTags(data, where = 'message') {
  const found = []
  const tags = {}
  for (let t = 64; t <= 87; t++) tags[t] = (v) => ({ typedArrayTag: t, v })
  const dec = (b) => cose.cbor.decodeFirstSync(b, { tags })
  const walk = (v, at) => {
    if (v && v.typedArrayTag) found.push(`${at}: tag ${v.typedArrayTag} where a bstr belongs`)
    else if (v instanceof cose.cbor.Tagged) walk(v.value, at)
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`))
    else if (v instanceof Map) for (const [k, x] of v) walk(x, `${at}{${k}}`)
  }
  const sign1 = (b, at) => {
    let top
    try {
      top = dec(b)
    } catch {
      return
    }
    const parts = top instanceof cose.cbor.Tagged ? top.value : top
    if (!Array.isArray(parts) || parts.length !== 4) return walk(top, at)
    if (parts[0] instanceof Uint8Array && parts[0].length) {
      try {
        walk(dec(parts[0]), `${at}.protected`)
      } catch {
        // reported by the decoder
      }
    } else walk(parts[0], `${at}.protected`)
    if (parts[1] instanceof Map) {
      for (const [k, x] of parts[1]) {
        const here = `${at}.unprotected{${k}}`
        if (k === HDR.receipts && Array.isArray(x)) {
          x.forEach((r, i) => (r instanceof Uint8Array ? sign1(r, `${here}[${i}]`) : walk(r, `${here}[${i}]`)))
        } else if (k === HDR.vdp && x instanceof Map) {
          for (const [pk, list] of x) {
            for (const [i, p] of (Array.isArray(list) ? list : [list]).entries()) {
              try {
                walk(p instanceof Uint8Array ? dec(p) : p, `${here}{${pk}}[${i}]`)
              } catch {
                // reported by the decoder
              }
            }
          }
        } else walk(x, here)
      }
    } else walk(parts[1], `${at}.unprotected`)
    walk(parts[3], `${at}.signature`)
  }
  sign1(data, where)
  return found
}

// A detached-payload verifier ({ verify({ coseSign1, payload }) }) for one JWK, as
// @transmute/cose's receipt verifiers take it. ES256/384/512: the library's own verifier;
// other algorithms: cose-kit's Sign1.verify over the protected header as received.
export async function verifierFor(jwk) {
  if (['ES256', 'ES384', 'ES512'].includes(jwk.alg)) {
    const v = cose.detached.verifier({ resolver: { resolve: async () => jwk } })
    return { library: '@transmute/cose', verify: (req) => v.verify(req) }
  }
  const { Sign1 } = await import('cose-kit')
  const keyObject = nodeCrypto.createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, n: jwk.n, e: jwk.e }, format: 'jwk' })
  return {
    library: jwk.crv === 'Ed25519' ? 'cose-kit (-8), node:crypto (-19)' : 'cose-kit',
    verify: async ({ coseSign1, payload }) => {
      const m = decodeSign1(bytes(coseSign1), 'message')
      if (m.protected.get(HDR.alg) === -19) {
        // Neither pinned library knows -19 (@transmute/cose 0.2.11 verifies ECDSA only, cose-kit
        // 1.7.1 maps only -8 to EdDSA): Node's own Ed25519 verifies the RFC 9052 Sig_structure,
        // encoded by the library's CBOR encoder, and only with an Ed25519 key.
        if (jwk.crv !== 'Ed25519') throw new Error('alg -19 needs an Ed25519 key')
        const tbs = cose.cbor.encode(['Signature1', buf(bytes(m.parts[0])), buf(new Uint8Array(0)), buf(bytes(payload))])
        if (!nodeCrypto.verify(null, bytes(tbs), keyObject, bytes(m.parts[3]))) throw new Error('signature verification failed')
        return payload
      }
      const msg = new Sign1(m.parts[0], new Map(), bytes(payload), m.parts[3])
      if (!(await msg.verify(keyObject))) throw new Error('signature verification failed')
      return payload
    },
  }
}
