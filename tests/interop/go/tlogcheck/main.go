// Command tlogcheck checks C2SP transparency-log artefacts (signed-note checkpoints, tlog-tiles
// hash tiles and entry bundles, inclusion and consistency proofs) for the scittd interoperability
// tests. All verification is done by golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog;
// this program only reads files and URLs and maps the C2SP tile layout onto x/mod's tiles.
//
//	tlogcheck checkpoint  -vkey KEY [-origin O] CHECKPOINT
//	tlogcheck inclusion   -vkey KEY -tiles BASE [-checkpoint F] [-origin O] -index N
//	                      (-from-bundle | -entry FILE | -record-hash HASH) [-proof FILE]
//	tlogcheck consistency -vkey KEY -old F -new F [-origin O] (-tiles BASE | -proof FILE)...
//	tlogcheck mkfixture   -dir OUT [-n1 N] [-n2 N] [-name ORIGIN]
//
// KEY is a note verifier key, or @FILE holding one. CHECKPOINT, F and BASE are files,
// directories or http(s) URLs. HASH is hex or base64; a proof FILE has one hash per line.
// Exit status: 0 verified, 1 a check failed, 2 usage or input error; on 0 and 1 the last line
// is "RESULT: OK" or "RESULT: FAIL".
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// C2SP tlog-tiles: tiles of height 8.
const height = 8

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...interface{}) error { return usageError{fmt.Sprintf(format, a...)} }

type failure struct{ msg string }

func (e failure) Error() string { return e.msg }

func failf(format string, a ...interface{}) error { return failure{fmt.Sprintf(format, a...)} }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tlogcheck checkpoint|inclusion|consistency|mkfixture [flags]")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"checkpoint": cmdCheckpoint, "inclusion": cmdInclusion,
		"consistency": cmdConsistency, "mkfixture": cmdMkfixture,
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "tlogcheck: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	err := cmd(os.Args[2:])
	var u usageError
	switch {
	case errors.As(err, &u):
		fmt.Fprintf(os.Stderr, "tlogcheck: %s\n", u.msg)
		os.Exit(2)
	case err != nil:
		fmt.Printf("FAIL: %v\nRESULT: FAIL\n", err)
		os.Exit(1)
	}
	fmt.Println("RESULT: OK")
}

// ------------------------------------------------------------------------------------- input

var client = &http.Client{Timeout: 60 * time.Second}

// fetch reads a file or an http(s) URL; found is false for a missing file or a 404.
func fetch(loc string) (data []byte, found bool, err error) {
	if strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://") {
		resp, err := client.Get(loc)
		if err != nil {
			return nil, false, err
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, false, nil
		}
		if resp.StatusCode != http.StatusOK {
			return nil, false, fmt.Errorf("GET %s: %s", loc, resp.Status)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		return data, err == nil, err
	}
	data, err = os.ReadFile(loc)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func under(base, rel string) string {
	if strings.HasPrefix(base, "http://") || strings.HasPrefix(base, "https://") {
		return strings.TrimSuffix(base, "/") + "/" + rel
	}
	return filepath.Join(base, rel)
}

type keyList []string

func (k *keyList) String() string     { return strings.Join(*k, " ") }
func (k *keyList) Set(v string) error { *k = append(*k, v); return nil }

func verifiers(keys keyList) (note.Verifiers, error) {
	if len(keys) == 0 {
		return nil, usagef("give -vkey")
	}
	var vs []note.Verifier
	for _, k := range keys {
		if strings.HasPrefix(k, "@") {
			b, err := os.ReadFile(k[1:])
			if err != nil {
				return nil, usagef("-vkey: %v", err)
			}
			k = strings.TrimSpace(string(b))
		}
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, usagef("-vkey %q: %v", k, err)
		}
		vs = append(vs, v)
	}
	return note.VerifierList(vs...), nil
}

func parseHash(s string) (tlog.Hash, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == tlog.HashSize {
		var h tlog.Hash
		copy(h[:], b)
		return h, nil
	}
	return tlog.ParseHash(s)
}

func readProof(path string) ([]tlog.Hash, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("proof: %v", err)
	}
	var out []tlog.Hash
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		h, err := parseHash(line)
		if err != nil {
			return nil, usagef("%s: %q is not a hash", path, line)
		}
		out = append(out, h)
	}
	return out, nil
}

// ------------------------------------------------------------------------------ checkpoints

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// openCheckpoint has note.Open verify the signature, then reads the C2SP tlog-checkpoint body:
// origin, decimal size, base64 root hash, optional extension lines.
func openCheckpoint(loc string, vs note.Verifiers, origin string) (*checkpoint, error) {
	raw, found, err := fetch(loc)
	if err != nil || !found {
		return nil, usagef("cannot read checkpoint %s: %v", loc, err)
	}
	n, err := note.Open(raw, vs)
	if err != nil {
		return nil, failf("checkpoint %s: %v", loc, err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" || lines[0] == "" {
		return nil, failf("checkpoint %s: body is not origin, size and root lines", loc)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return nil, failf("checkpoint %s: size %q is not a decimal number", loc, lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return nil, failf("checkpoint %s: root %q: %v", loc, lines[2], err)
	}
	if origin != "" && lines[0] != origin {
		return nil, failf("checkpoint %s: origin %q, expected %q", loc, lines[0], origin)
	}
	var by []string
	for _, s := range n.Sigs {
		by = append(by, s.Name)
	}
	fmt.Printf("checkpoint %s: origin %q, size %d, root %x, signed by %s\n", loc, lines[0], size, root[:],
		strings.Join(by, ", "))
	return &checkpoint{lines[0], size, root}, nil
}

// ------------------------------------------------------------------------------------ tiles

// c2spPath is the C2SP tlog-tiles path of an x/mod tile: tile/<L>/<N>[.p/<W>], and
// tile/entries/<N>[.p/<W>] for the entry bundle (L = -1). N is written in groups of three
// digits, every group but the last prefixed with "x".
func c2spPath(t tlog.Tile) string {
	s := fmt.Sprintf("%03d", t.N%1000)
	for n := t.N / 1000; n > 0; n /= 1000 {
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	level := strconv.Itoa(t.L)
	if t.L == -1 {
		level = "entries"
	}
	p := "tile/" + level + "/" + s
	if t.W < 1<<height {
		p += ".p/" + strconv.Itoa(t.W)
	}
	return p
}

// tiles is an x/mod TileReader over a C2SP log at a directory or URL.
type tiles struct {
	base  string
	reads int
}

func (r *tiles) Height() int { return height }

func (r *tiles) read(t tlog.Tile) ([]byte, error) {
	paths := []string{c2spPath(t)}
	if t.W < 1<<height { // a partial tile may since have been completed
		full := t
		full.W = 1 << height
		paths = append(paths, c2spPath(full))
	}
	for i, p := range paths {
		b, found, err := fetch(under(r.base, p))
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		r.reads++
		if t.L == -1 {
			return b, nil
		}
		want := t.W * tlog.HashSize
		if (i == 0 && len(b) != want) || len(b) < want {
			return nil, fmt.Errorf("%s has %d bytes, want %d", p, len(b), want)
		}
		return b[:want], nil
	}
	return nil, fmt.Errorf("%s not found", paths[0])
}

func (r *tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		b, err := r.read(t)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (r *tiles) SaveTiles([]tlog.Tile, [][]byte) {}

// bundleEntry is entry @p i of a C2SP entry bundle (big-endian uint16 length, then the bytes).
func bundleEntry(b []byte, i int) ([]byte, int, error) {
	var found []byte
	count := 0
	for len(b) > 0 {
		if len(b) < 2 || int(binary.BigEndian.Uint16(b)) > len(b)-2 {
			return nil, count, errors.New("truncated entry bundle")
		}
		n := int(binary.BigEndian.Uint16(b))
		if count == i {
			found = b[2 : 2+n]
		}
		b = b[2+n:]
		count++
	}
	if found == nil {
		return nil, count, fmt.Errorf("no entry %d in a bundle of %d", i, count)
	}
	return found, count, nil
}

// ---------------------------------------------------------------------------------- commands

func cmdCheckpoint(args []string) error {
	fs := flag.NewFlagSet("checkpoint", flag.ContinueOnError)
	var keys keyList
	fs.Var(&keys, "vkey", "note verifier key or @FILE (repeatable)")
	origin := fs.String("origin", "", "expected origin")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return usagef("checkpoint -vkey KEY [-origin O] CHECKPOINT")
	}
	vs, err := verifiers(keys)
	if err != nil {
		return err
	}
	_, err = openCheckpoint(fs.Arg(0), vs, *origin)
	return err
}

func cmdInclusion(args []string) error {
	fs := flag.NewFlagSet("inclusion", flag.ContinueOnError)
	var keys keyList
	fs.Var(&keys, "vkey", "note verifier key or @FILE (repeatable)")
	base := fs.String("tiles", "", "the log: directory or URL")
	ckpt := fs.String("checkpoint", "", "checkpoint (default: <tiles>/checkpoint)")
	origin := fs.String("origin", "", "expected origin")
	index := fs.Int64("index", -1, "entry index")
	fromBundle := fs.Bool("from-bundle", false, "take the entry from its entry bundle")
	entry := fs.String("entry", "", "the entry's bytes")
	recordHash := fs.String("record-hash", "", "the record hash SHA-256(0x00 || entry)")
	proofFile := fs.String("proof", "", "an inclusion proof to check too")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *base == "" || *index < 0 {
		return usagef("inclusion -vkey KEY -tiles BASE -index N (-from-bundle | -entry F | -record-hash H)")
	}
	given := 0
	for _, b := range []bool{*fromBundle, *entry != "", *recordHash != ""} {
		if b {
			given++
		}
	}
	if given != 1 {
		return usagef("give one of -from-bundle, -entry and -record-hash")
	}
	vs, err := verifiers(keys)
	if err != nil {
		return err
	}
	if *ckpt == "" {
		*ckpt = under(*base, "checkpoint")
	}
	c, err := openCheckpoint(*ckpt, vs, *origin)
	if err != nil {
		return err
	}
	if *index >= c.size {
		return failf("index %d is not below the tree size %d", *index, c.size)
	}
	tr := &tiles{base: *base}
	// x/mod authenticates every tile it reads against the checkpoint's root.
	hr := tlog.TileHashReader(tlog.Tree{N: c.size, Hash: c.root}, tr)
	th, err := tlog.TreeHash(c.size, hr)
	if err != nil {
		return failf("tree hash from the tiles: %v", err)
	}
	if th != c.root {
		return failf("the tiles hash to %x, the checkpoint says %x", th[:], c.root[:])
	}
	var rh tlog.Hash
	switch {
	case *recordHash != "":
		if rh, err = parseHash(*recordHash); err != nil {
			return usagef("-record-hash: %v", err)
		}
	case *entry != "":
		b, err := os.ReadFile(*entry)
		if err != nil {
			return usagef("-entry: %v", err)
		}
		rh = tlog.RecordHash(b)
	default:
		bt := tlog.Tile{H: height, L: -1, N: *index >> height, W: 1 << height}
		if rest := c.size - bt.N<<height; rest < 1<<height {
			bt.W = int(rest)
		}
		b, err := tr.read(bt)
		if err != nil {
			return failf("entry bundle: %v", err)
		}
		e, count, err := bundleEntry(b, int(*index-bt.N<<height))
		if err != nil {
			return failf("%s: %v", c2spPath(bt), err)
		}
		if count < bt.W {
			return failf("%s holds %d entries, the checkpoint needs %d", c2spPath(bt), count, bt.W)
		}
		rh = tlog.RecordHash(e)
		fmt.Printf("entry %d: %d bytes from %s\n", *index, len(e), c2spPath(bt))
	}
	p, err := tlog.ProveRecord(c.size, *index, hr)
	if err != nil {
		return failf("inclusion proof from the tiles: %v", err)
	}
	if err := tlog.CheckRecord(p, c.size, c.root, *index, rh); err != nil {
		return failf("entry %d (record hash %x) is not in the tree: %v", *index, rh[:], err)
	}
	fmt.Printf("ok: entry %d is in the tree of size %d (x/mod tlog.ProveRecord, tlog.CheckRecord)\n", *index, c.size)
	if *proofFile != "" {
		ext, err := readProof(*proofFile)
		if err != nil {
			return err
		}
		if err := tlog.CheckRecord(tlog.RecordProof(ext), c.size, c.root, *index, rh); err != nil {
			return failf("the given inclusion proof %s: %v", *proofFile, err)
		}
		fmt.Printf("ok: the given inclusion proof (%d hashes)\n", len(ext))
	}
	fmt.Printf("(%d tiles read)\n", tr.reads)
	return nil
}

func cmdConsistency(args []string) error {
	fs := flag.NewFlagSet("consistency", flag.ContinueOnError)
	var keys keyList
	fs.Var(&keys, "vkey", "note verifier key or @FILE (repeatable)")
	oldF := fs.String("old", "", "the older checkpoint")
	newF := fs.String("new", "", "the newer checkpoint")
	origin := fs.String("origin", "", "expected origin")
	base := fs.String("tiles", "", "the newer tree's tiles: directory or URL")
	proofFile := fs.String("proof", "", "a consistency proof to check")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *oldF == "" || *newF == "" ||
		(*base == "" && *proofFile == "") {
		return usagef("consistency -vkey KEY -old F -new F (-tiles BASE | -proof FILE)")
	}
	vs, err := verifiers(keys)
	if err != nil {
		return err
	}
	o, err := openCheckpoint(*oldF, vs, *origin)
	if err != nil {
		return err
	}
	n, err := openCheckpoint(*newF, vs, *origin)
	if err != nil {
		return err
	}
	if o.origin != n.origin {
		return failf("origins %q and %q differ", o.origin, n.origin)
	}
	if o.size > n.size {
		return failf("the old size %d is above the new size %d", o.size, n.size)
	}
	if o.size == n.size || o.size == 0 {
		if o.size == n.size && o.root != n.root {
			return failf("two roots for size %d: %x and %x", o.size, o.root[:], n.root[:])
		}
		fmt.Println("ok: nothing to prove")
		return nil
	}
	if *base != "" {
		tr := &tiles{base: *base}
		hr := tlog.TileHashReader(tlog.Tree{N: n.size, Hash: n.root}, tr)
		p, err := tlog.ProveTree(n.size, o.size, hr)
		if err != nil {
			return failf("consistency proof from the tiles: %v", err)
		}
		if err := tlog.CheckTree(p, n.size, n.root, o.size, o.root); err != nil {
			return failf("the tree of size %d is not a prefix of the tree of size %d: %v", o.size, n.size, err)
		}
		fmt.Printf("ok: %d -> %d consistent (x/mod tlog.ProveTree from the tiles, tlog.CheckTree)\n", o.size, n.size)
	}
	if *proofFile != "" {
		ext, err := readProof(*proofFile)
		if err != nil {
			return err
		}
		if err := tlog.CheckTree(tlog.TreeProof(ext), n.size, n.root, o.size, o.root); err != nil {
			return failf("the given consistency proof %s: %v", *proofFile, err)
		}
		fmt.Printf("ok: the given consistency proof (%d hashes)\n", len(ext))
	}
	return nil
}

type hashes []tlog.Hash

func (s hashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(s)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = s[x]
	}
	return out, nil
}

// mkfixture writes a C2SP log made by x/mod: checkpoints at sizes n1 (checkpoint.<n1>) and n2
// (checkpoint and checkpoint.<n2>), their hash tiles and entry bundles, and vkey.txt.
func cmdMkfixture(args []string) error {
	fs := flag.NewFlagSet("mkfixture", flag.ContinueOnError)
	dir := fs.String("dir", "", "output directory")
	n1 := fs.Int64("n1", 300, "size of the first checkpoint")
	n2 := fs.Int64("n2", 600, "size of the second checkpoint")
	name := fs.String("name", "example.com/tlogcheck-fixture", "origin and key name")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *dir == "" || *n1 < 1 || *n2 < *n1 {
		return usagef("mkfixture -dir OUT [-n1 N] [-n2 N] [-name ORIGIN], 1 <= n1 <= n2")
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, *name)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	write := func(rel string, b []byte) error {
		p := filepath.Join(*dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return usagef("%v", err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return usagef("%v", err)
		}
		return nil
	}
	var stored hashes
	var entries [][]byte
	done := int64(0)
	for _, size := range []int64{*n1, *n2} {
		for i := int64(len(entries)); i < size; i++ {
			e := []byte(fmt.Sprintf("tlogcheck fixture entry %d\n", i))
			add, err := tlog.StoredHashes(i, e, stored)
			if err != nil {
				return err
			}
			stored = append(stored, add...)
			entries = append(entries, e)
		}
		for _, t := range tlog.NewTiles(height, done, size) {
			data, err := tlog.ReadTileData(t, stored)
			if err != nil {
				return err
			}
			if err := write(c2spPath(t), data); err != nil {
				return err
			}
			if t.L != 0 {
				continue
			}
			var bundle bytes.Buffer
			for i := int64(0); i < int64(t.W); i++ {
				e := entries[t.N<<height+i]
				binary.Write(&bundle, binary.BigEndian, uint16(len(e)))
				bundle.Write(e)
			}
			bt := t
			bt.L = -1
			if err := write(c2spPath(bt), bundle.Bytes()); err != nil {
				return err
			}
		}
		root, err := tlog.TreeHash(size, stored)
		if err != nil {
			return err
		}
		signed, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", *name, size, root)}, signer)
		if err != nil {
			return err
		}
		if err := write(fmt.Sprintf("checkpoint.%d", size), signed); err != nil {
			return err
		}
		if err := write("checkpoint", signed); err != nil {
			return err
		}
		done = size
	}
	if err := write("vkey.txt", []byte(vkey+"\n")); err != nil {
		return err
	}
	fmt.Printf("a log of %d entries in %s (checkpoints at %d and %d), key %s\n", *n2, *dir, *n1, *n2, vkey)
	return nil
}
