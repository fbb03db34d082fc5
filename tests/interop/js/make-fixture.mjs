// make-fixture.mjs OUT: a fresh set of signed statements, receipts and keys made by
// @transmute/cose, for checking with the project's own verifier (tests/unit/cose/interop_verify.c,
// tests/integration/cli/interop.sh). Layout of OUT (the same as tests/data/interop/fixtures/js):
//   entries/0000.cbor .. 0010.cbor  ES256 signed statements, empty unprotected headers (the
//                                   registered form); statement.cbor is entry 4
//   receipt.cbor, receipt-ed25519.cbor   inclusion receipts for entry 4 at tree size 6
//   transparent-statement.cbor      entry 4 with both receipts at label 394
//   consistency-receipt.cbor        6 -> 11
//   consistency-receipt-4-11-libform.cbor  4 -> 11 as the library makes it (old root first)
//   consistency-receipt-4-11-rfc9162.cbor  the same proof in RFC 9162 form (old root left out)
//   root-old.hex (size 6), root-new.hex (size 11), root-4.hex; issuer.jwk.json, service.jwk.json,
//   service.pem, service-ed25519.pem, services.jwks.json (public keys only); log.json
import fs from 'node:fs'
import path from 'node:path'
import nodeCrypto from 'node:crypto'
import { cose, HDR, VDP_CONSISTENCY, toHex, bytes, buf, decodeSign1, encodeSign1 } from './common.mjs'

const out = process.argv[2]
if (!out || process.argv.length !== 3) {
  console.error('usage: make-fixture.mjs OUT')
  process.exit(2)
}
fs.mkdirSync(path.join(out, 'entries'), { recursive: true })
const write = (name, data) => fs.writeFileSync(path.join(out, name), data)
const text = (s) => buf(new TextEncoder().encode(s))
const publicJwk = ({ d, ...pub }) => pub

const issuer = await cose.key.generate('ES256', 'application/jwk+json')
const service = await cose.key.generate('ES256', 'application/jwk+json')
const ed = nodeCrypto.generateKeyPairSync('ed25519')
const edKid = 'ed25519-service-1'
const edJwk = { ...ed.publicKey.export({ format: 'jwk' }), alg: 'EdDSA', kid: edKid }

const issuerSigner = cose.attached.signer({ remote: cose.crypto.signer({ privateKeyJwk: issuer }) })
const serviceSigner = cose.detached.signer({ remote: cose.crypto.signer({ privateKeyJwk: service }) })
// @transmute/cose signs ES* only; its generic signer takes any remote, here Ed25519 by node.
const edSigner = cose.detached.signer({ remote: { sign: async (tbs) => buf(nodeCrypto.sign(null, Buffer.from(tbs), ed.privateKey)) } })
const receiptHeader = (alg, kid) => new Map([[HDR.alg, alg], [HDR.vds, 1], [HDR.kid, text(kid)]])

const SIZE_OLD = 6
const SIZE_NEW = 11
const TARGET = 4
const entries = []
for (let i = 0; i < SIZE_NEW; i++) {
  const protectedHeader = new Map([
    [HDR.alg, -7],
    [HDR.kid, text(issuer.kid)],
    [3, 'application/json'],
    [15, new Map([[1, 'https://issuer.example'], [2, `urn:example:subject:${i}`]])],
  ])
  const payload = text(JSON.stringify({ n: i, statement: `statement ${i}` }))
  entries.push(bytes(await issuerSigner.sign({ protectedHeader, unprotectedHeader: new Map(), payload })))
}
const leaves = []
for (const e of entries) {
  if (toHex(bytes(await cose.receipt.remove(buf(e)))) !== toHex(e)) throw new Error('an entry is not in registered form')
  leaves.push(bytes(await cose.receipt.leaf(e)))
}

const inclusion = async (size, index, header, signer) =>
  bytes(await cose.receipt.inclusion.issue({ protectedHeader: header, entry: index, entries: leaves.slice(0, size), signer }))
const rootOf = async (receipt, index) =>
  bytes(await cose.receipt.inclusion.verify({
    entry: leaves[index],
    receipt: buf(receipt),
    verifier: cose.detached.verifier({ resolver: { resolve: async () => publicJwk(service) } }),
  }))

const receiptEs = await inclusion(SIZE_OLD, TARGET, receiptHeader(-7, service.kid), serviceSigner)
const receiptEd = await inclusion(SIZE_OLD, TARGET, receiptHeader(-8, edKid), edSigner)
const rootOld = await rootOf(receiptEs, TARGET)
let transparent = await cose.receipt.add(buf(entries[TARGET]), buf(receiptEs))
transparent = bytes(await cose.receipt.add(transparent, buf(receiptEd)))

const consistencyFrom = async (receipt) =>
  cose.receipt.consistency.issue({ protectedHeader: receiptHeader(-7, service.kid), receipt: buf(receipt), entries: leaves, signer: serviceSigner })
const c6 = await consistencyFrom(receiptEs)
const rootNew = bytes(c6.root)
const receipt4 = await inclusion(4, 1, receiptHeader(-7, service.kid), serviceSigner)
const root4 = await rootOf(receipt4, 1)
const c4 = await consistencyFrom(receipt4)
if (toHex(bytes(c4.root)) !== toHex(rootNew)) throw new Error('two roots for tree size 11')
// The library puts the old root first in a proof from a power-of-two size; RFC 9162 leaves it out.
const lib4 = bytes(await c4.receipt)
const m = decodeSign1(lib4, 'consistency receipt')
const [s1, s2, p] = cose.cbor.decodeFirstSync(m.parts[1].get(HDR.vdp).get(VDP_CONSISTENCY)[0])
if (toHex(p[0]) !== toHex(root4)) throw new Error('the library proof does not start with the old root')
const vdp = new Map([[HDR.vdp, new Map([[VDP_CONSISTENCY, [buf(cose.cbor.encode([s1, s2, p.slice(1).map((h) => buf(h))]))]]])]])
const rfc4 = encodeSign1([buf(m.parts[0]), vdp, null, buf(m.parts[3])])

write('issuer.jwk.json', JSON.stringify(publicJwk(issuer), null, 2) + '\n')
write('service.jwk.json', JSON.stringify(publicJwk(service), null, 2) + '\n')
write('service.pem', nodeCrypto.createPublicKey({ key: publicJwk(service), format: 'jwk' }).export({ type: 'spki', format: 'pem' }))
write('service-ed25519.pem', ed.publicKey.export({ type: 'spki', format: 'pem' }))
write('services.jwks.json', JSON.stringify({ keys: [publicJwk(service), edJwk] }, null, 2) + '\n')
entries.forEach((e, i) => write(`entries/${String(i).padStart(4, '0')}.cbor`, e))
write('statement.cbor', entries[TARGET])
write('receipt.cbor', receiptEs)
write('receipt-ed25519.cbor', receiptEd)
write('transparent-statement.cbor', transparent)
write('consistency-receipt.cbor', bytes(await c6.receipt))
write('consistency-receipt-4-11-libform.cbor', lib4)
write('consistency-receipt-4-11-rfc9162.cbor', rfc4)
write('root-old.hex', toHex(rootOld) + '\n')
write('root-new.hex', toHex(rootNew) + '\n')
write('root-4.hex', toHex(root4) + '\n')
write('log.json', JSON.stringify({
  note: 'entries[i]: tagged COSE_Sign1, empty unprotected header; leaf = SHA-256(0x00 || entry); made by @transmute/cose',
  target_index: TARGET, inclusion_tree_size: SIZE_OLD, consistency_tree_size: SIZE_NEW,
  leaf_hashes_hex: leaves.map(toHex), root_old_hex: toHex(rootOld), root_new_hex: toHex(rootNew),
}, null, 2) + '\n')
console.log(`fixture in ${out}: root at 6 ${toHex(rootOld)}, root at 11 ${toHex(rootNew)}`)
