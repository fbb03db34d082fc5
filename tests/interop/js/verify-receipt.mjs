// verify-receipt: COSE Receipts (RFC 9942, vds 1 = RFC9162_SHA256) checked by @transmute/cose.
// See tests/interop/README.md. Exit status 0: every check passed; 1: a check failed; 2: usage or
// input error. On 0 and 1 the last line is "RESULT: OK" or "RESULT: FAIL".
import {
  cose, HDR, VDP_INCLUSION, VDP_CONSISTENCY, UsageError, algName, toHex, bytes, buf, readFile, parseHash,
  loadKeys, chooseKey, decodeSign1, encodeSign1, typedArrayTags, verifierFor,
} from './common.mjs'

const HELP = `usage:
  verify-receipt --key KEY... --transparent TS.cbor [--issuer-key KEY [--payload FILE]] [EXPECT]
  verify-receipt --key KEY... --statement S.cbor --receipt R.cbor... [--issuer-key KEY [--payload FILE]] [EXPECT]
  verify-receipt --key KEY... --receipt R.cbor... --entry FILE [EXPECT]
  verify-receipt --key KEY... --consistency C.cbor --old-root HASH [--new-root HASH] [--proof-style rfc9162|transmute]
EXPECT: --expect-root HASH --expect-size N --expect-index N (each optional)
KEY: PEM (public key, certificate or private key) or JWK / JWKS; the kid and alg of a message pick one.
HASH: 64 hex digits or base64 of 32 bytes.
The leaf of a statement is SHA-256(0x00 || the statement with an empty unprotected header), as
@transmute/cose computes it (receipt.remove, receipt.leaf); --entry FILE hashes FILE instead.`

const MULTI = new Set(['key', 'receipt'])
const VALUED = new Set(['key', 'receipt', 'transparent', 'statement', 'entry', 'issuer-key', 'payload', 'consistency',
  'old-root', 'new-root', 'proof-style', 'expect-root', 'expect-size', 'expect-index'])

function parseArgs(argv) {
  const o = { key: [], receipt: [] }
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : null
    if (name === 'help') {
      console.log(HELP)
      process.exit(0)
    }
    if (!name || !VALUED.has(name)) throw new UsageError(`unknown argument ${argv[i]}`)
    if (i + 1 >= argv.length) throw new UsageError(`${argv[i]} needs a value`)
    if (MULTI.has(name)) o[name].push(argv[++i])
    else if (name in o) throw new UsageError(`${argv[i]} given twice`)
    else o[name] = argv[++i]
  }
  if (!o.key.length) throw new UsageError('--key is required')
  for (const n of ['expect-size', 'expect-index']) {
    if (o[n] !== undefined && !/^[0-9]+$/.test(o[n])) throw new UsageError(`--${n} takes a number`)
  }
  return o
}

const problems = []
const fail = (msg) => {
  problems.push(msg)
  console.log(`FAIL: ${msg}`)
}
const isPowerOfTwo = (n) => n > 0 && (n & (n - 1)) === 0

// The signed statement's own signature, when --issuer-key is given.
async function checkStatement(o, data) {
  const s = decodeSign1(data, 'signed statement')
  console.log(`signed statement: ${data.length} bytes, ${algName(s.protected.get(HDR.alg)) ?? 'unknown alg'}, ` +
    `payload ${s.parts[2] === null ? 'detached' : `${s.parts[2].length} bytes`}`)
  if (!o['issuer-key']) return
  const payload = s.parts[2] === null ? (o.payload ? readFile(o.payload, 'payload') : null) : s.parts[2]
  if (payload === null) throw new UsageError('the statement payload is detached: give --payload FILE')
  const jwk = chooseKey(loadKeys(o['issuer-key']), s.protected)
  const v = await verifierFor(jwk)
  try {
    // the library verifies tagged messages only; the unprotected header is not signed
    const tagged = s.tag === 18 ? data : encodeSign1([buf(s.parts[0]), new Map(), null, buf(s.parts[3])])
    await v.verify({ coseSign1: buf(tagged), payload: buf(payload) })
    console.log(`ok: issuer signature (${jwk.alg}, ${v.library})`)
  } catch (e) {
    fail(`issuer signature (${jwk.alg}, ${v.library}): ${e.message}`)
  }
}

// One inclusion receipt against @p leaf: every proof in its -1 array, each handed to the library
// alone (the library reads only the first).
async function checkInclusion(o, keys, name, data, leaf) {
  const tags = typedArrayTags(data, name)
  if (tags.length) return fail(`${name}: ${tags.join('; ')}`)
  let r
  try {
    r = decodeSign1(data, name)
  } catch (e) {
    return fail(e.message)
  }
  if (r.tag !== 18) return fail(`${name}: not a tagged COSE_Sign1 (tag 18)`)
  const vdp = r.parts[1].get(HDR.vdp)
  const proofs = vdp instanceof Map ? vdp.get(VDP_INCLUSION) : undefined
  if (!Array.isArray(proofs) || !proofs.length) return fail(`${name}: no inclusion proof at 396 / -1`)
  let jwk
  try {
    jwk = chooseKey(keys, r.protected)
  } catch (e) {
    return fail(`${name}: ${e.message}`)
  }
  const verifier = await verifierFor(jwk)
  const attached = r.parts[2]
  for (const [i, proof] of proofs.entries()) {
    const what = `${name} proof ${i}`
    if (!(proof instanceof Uint8Array)) return fail(`${what}: not a bstr`)
    let size, index, path
    try {
      ;[size, index, path] = cose.cbor.decodeFirstSync(proof)
    } catch (e) {
      return fail(`${what}: not CBOR: ${e.message}`)
    }
    if (!Number.isSafeInteger(size) || !Number.isSafeInteger(index) || index < 0 || !Array.isArray(path)) {
      return fail(`${what}: not [tree-size, leaf-index, [+ bstr]]`)
    }
    console.log(`${what}: tree size ${size}, leaf index ${index}, ${path.length} hashes, key ${jwk.kid ?? '(no kid)'} ${jwk.alg}`)
    if (index >= size) return fail(`${what}: leaf index ${index} is not below tree size ${size}`)
    if (path.some((h) => !(h instanceof Uint8Array) || h.length !== 32)) return fail(`${what}: a path element is not a 32-byte bstr`)
    if (o['expect-size'] !== undefined && String(size) !== o['expect-size']) return fail(`${what}: tree size ${size}, expected ${o['expect-size']}`)
    if (o['expect-index'] !== undefined && String(index) !== o['expect-index']) return fail(`${what}: leaf index ${index}, expected ${o['expect-index']}`)
    // The library wants a nil payload and one proof: hand it this proof alone, payload detached.
    const unprotected = new Map([[HDR.vdp, new Map([[VDP_INCLUSION, [buf(proof)]]])]])
    const forLibrary = encodeSign1([buf(r.parts[0]), unprotected, null, buf(r.parts[3])])
    let root
    try {
      root = bytes(await cose.receipt.inclusion.verify({ entry: leaf, receipt: buf(forLibrary), verifier }))
    } catch (e) {
      return fail(`${what}: refused by ${verifier.library === 'cose-kit' ? '@transmute/cose with cose-kit' : '@transmute/cose'}: ${e.message}`)
    }
    console.log(`${what}: root ${toHex(root)}`)
    if (attached !== null && toHex(attached) !== toHex(root)) return fail(`${what}: attached payload is not the root`)
    if (o['expect-root'] !== undefined && toHex(parseHash(o['expect-root'], '--expect-root')) !== toHex(root)) {
      return fail(`${what}: root ${toHex(root)} is not --expect-root`)
    }
  }
  console.log(`ok: ${name}`)
}

async function inclusion(o) {
  const keys = o.key.flatMap(loadKeys)
  let statement = null
  const receipts = []
  if (o.transparent) {
    if (o.statement || o.receipt.length || o.entry) throw new UsageError('--transparent goes alone')
    statement = readFile(o.transparent, 'transparent statement')
    const tags = typedArrayTags(statement, 'transparent statement').filter((t) => t.includes(`{${HDR.receipts}}`))
    for (const t of tags) fail(t)
    const ts = decodeSign1(statement, 'transparent statement')
    const list = ts.parts[1].get(HDR.receipts)
    if (!Array.isArray(list) || !list.length) return fail('no receipts at unprotected label 394')
    list.forEach((r, i) => {
      if (r instanceof Uint8Array) receipts.push([`receipt ${i}`, r])
      else fail(`receipt ${i}: not a bstr`)
    })
  } else {
    if (!o.receipt.length) throw new UsageError('give --transparent, or --receipt with --statement or --entry')
    if (!o.statement === !o.entry) throw new UsageError('give one of --statement and --entry')
    for (const p of o.receipt) receipts.push([p, readFile(p, 'receipt')])
    if (o.statement) statement = readFile(o.statement, 'signed statement')
  }
  let leaf
  if (o.entry) {
    leaf = bytes(await cose.receipt.leaf(readFile(o.entry, 'entry')))
    console.log(`leaf ${toHex(leaf)} = SHA-256(0x00 || ${o.entry})`)
  } else {
    await checkStatement(o, statement)
    let registered
    try {
      registered = bytes(await cose.receipt.remove(buf(statement)))
    } catch (e) {
      return fail(`statement: @transmute/cose cannot take the receipts off: ${e.message}`)
    }
    leaf = bytes(await cose.receipt.leaf(registered))
    console.log(`leaf ${toHex(leaf)} = SHA-256(0x00 || statement with an empty unprotected header, ${registered.length} bytes)`)
  }
  for (const [name, data] of receipts) await checkInclusion(o, keys, name, data, leaf)
}

async function consistency(o) {
  const keys = o.key.flatMap(loadKeys)
  if (!o['old-root']) throw new UsageError('--consistency needs --old-root')
  const style = o['proof-style'] ?? 'rfc9162'
  if (!['rfc9162', 'transmute'].includes(style)) throw new UsageError('--proof-style is rfc9162 or transmute')
  const oldRoot = parseHash(o['old-root'], '--old-root')
  const data = readFile(o.consistency, 'consistency receipt')
  const tags = typedArrayTags(data, 'consistency receipt')
  if (tags.length) return fail(tags.join('; '))
  const r = decodeSign1(data, 'consistency receipt')
  if (r.tag !== 18) return fail('consistency receipt: not a tagged COSE_Sign1 (tag 18)')
  let newRoot = o['new-root'] ? parseHash(o['new-root'], '--new-root') : null
  if (r.parts[2] !== null) {
    if (newRoot && toHex(newRoot) !== toHex(r.parts[2])) return fail('the attached payload is not --new-root')
    newRoot = r.parts[2]
  }
  if (!newRoot) throw new UsageError('the payload is detached: give --new-root')
  const vdp = r.parts[1].get(HDR.vdp)
  const proofs = vdp instanceof Map ? vdp.get(VDP_CONSISTENCY) : undefined
  if (!Array.isArray(proofs) || proofs.length !== 1 || !(proofs[0] instanceof Uint8Array)) {
    return fail('not exactly one consistency proof (bstr) at 396 / -2')
  }
  const [size1, size2, path] = cose.cbor.decodeFirstSync(proofs[0])
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || !Array.isArray(path) ||
      path.some((h) => !(h instanceof Uint8Array) || h.length !== 32)) {
    return fail('the proof is not [tree-size-1, tree-size-2, [+ bstr32]]')
  }
  console.log(`consistency proof: ${size1} -> ${size2}, ${path.length} hashes (${style})`)
  if (size1 < 1 || size1 >= size2) return fail(`tree sizes ${size1} -> ${size2}: need 0 < size1 < size2`)
  // RFC 9162 2.1.4.2 step 2 starts from the old root when size1 is a power of two; the library
  // expects that root as the proof's first element instead, so it is put there for it.
  let forPath = path.map((h) => buf(h))
  if (style === 'rfc9162' && isPowerOfTwo(size1)) forPath = [buf(oldRoot), ...forPath]
  const unprotected = new Map([[HDR.vdp, new Map([[VDP_CONSISTENCY, [buf(cose.cbor.encode([size1, size2, forPath]))]]])]])
  const forLibrary = encodeSign1([buf(r.parts[0]), unprotected, null, buf(r.parts[3])])
  let jwk
  try {
    jwk = chooseKey(keys, r.protected)
  } catch (e) {
    return fail(`consistency receipt: ${e.message}`)
  }
  const verifier = await verifierFor(jwk)
  let ok
  try {
    ok = await cose.receipt.consistency.verify({ oldRoot: buf(oldRoot), newRoot: buf(newRoot), receipt: buf(forLibrary), verifier })
  } catch (e) {
    return fail(`refused by @transmute/cose (${verifier.library} signature): ${e.message}`)
  }
  if (ok !== true) return fail(`the proof does not lead from ${toHex(oldRoot)} (size ${size1}) to ${toHex(newRoot)} (size ${size2})`)
  console.log(`ok: consistency ${size1} -> ${size2}, new root ${toHex(newRoot)} (${jwk.alg}, ${verifier.library})`)
}

async function main() {
  const o = parseArgs(process.argv.slice(2))
  if (o.consistency) await consistency(o)
  else await inclusion(o)
}

try {
  await main()
} catch (e) {
  if (e instanceof UsageError) {
    console.error(`verify-receipt: ${e.message}`)
    process.exit(2)
  }
  fail(e.message)
}
console.log(problems.length ? `RESULT: FAIL (${problems.length})` : 'RESULT: OK')
process.exit(problems.length ? 1 : 0)
