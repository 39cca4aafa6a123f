// Command go-verify checks an ARIA coordinator's provenance log (docs/ledger.md) with Go's own
// transparency-log packages, golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, and
// nothing else besides the standard library: an independent implementation of the formats.
//
//	go-verify <coordinator origin URL> <vkey> [<old size> <old root base64>]
//
// It fetches /ledger/checkpoint and opens it with the log's verifier key (cosignatures by keys it
// does not know are allowed), recomputes the root from the hash tiles (C2SP tlog-tiles paths,
// tile height 8), checks every entry of every entry bundle against its level-0 hash with an
// inclusion proof, and, given a previous tree, checks consistency with it. It prints one line
// "ok: <origin> size <n> root <b64>, <k> entries checked" and exits 0, or prints what failed and
// exits 1.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// tileHeight is the C2SP tlog-tiles tile height: 2^8 = 256 hashes per full tile.
const tileHeight = 8

var client = &http.Client{Timeout: 30 * time.Second}

func fail(format string, args ...any) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func get(base, path string) ([]byte, error) {
	resp, err := client.Get(base + path)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// c2spIndex encodes a tile index the C2SP way: 3-digit groups, all but the last prefixed "x".
func c2spIndex(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	return s
}

// c2spTilePath is the C2SP tlog-tiles path of a tile: tile/<L>/<N>[.p/<W>], or
// tile/entries/<N>[.p/<W>] for the data level (L = -1). Unlike tlog.Tile.Path it has no height.
func c2spTilePath(t tlog.Tile) string {
	level := strconv.Itoa(t.L)
	if t.L == -1 {
		level = "entries"
	}
	p := "tile/" + level + "/" + c2spIndex(t.N)
	if t.W != 1<<uint(t.H) {
		p += fmt.Sprintf(".p/%d", t.W)
	}
	return p
}

// tileReader fetches hash tiles over HTTP from <base>/ledger/<C2SP tile path>. It keeps what it
// fetched in memory: tlog's TileHashReader re-authenticates tiles against the tree on every read.
type tileReader struct {
	base  string
	cache map[tlog.Tile][]byte
}

func (r *tileReader) Height() int { return tileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		if b, ok := r.cache[t]; ok {
			data[i] = b
			continue
		}
		path := "/ledger/" + c2spTilePath(t)
		b, err := get(r.base, path)
		if err != nil {
			return nil, err
		}
		if len(b) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("tile %s: %d bytes, want %d", path, len(b), t.W*tlog.HashSize)
		}
		data[i] = b
		r.cache[t] = b
	}
	return data, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// parseCheckpoint parses a c2sp.org/tlog-checkpoint body: origin, size, base64 root, then
// optional extension lines. (tlog.ParseTree wants the go.sum origin "go.sum database tree".)
func parseCheckpoint(text string) (origin string, tree tlog.Tree, err error) {
	if !strings.HasSuffix(text, "\n") {
		return "", tree, fmt.Errorf("checkpoint does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return "", tree, fmt.Errorf("checkpoint has %d lines, want at least 3", len(lines))
	}
	for _, l := range lines {
		if l == "" {
			return "", tree, fmt.Errorf("checkpoint has an empty line")
		}
	}
	origin = lines[0]
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return "", tree, fmt.Errorf("checkpoint size %q is not a canonical decimal", lines[1])
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize || base64.StdEncoding.EncodeToString(root) != lines[2] {
		return "", tree, fmt.Errorf("checkpoint root %q is not canonical base64 of 32 bytes", lines[2])
	}
	tree.N = n
	copy(tree.Hash[:], root)
	return origin, tree, nil
}

// decodeBundle splits an entry bundle: each entry a big-endian uint16 length and its bytes.
func decodeBundle(b []byte) ([][]byte, error) {
	var entries [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("truncated length prefix after %d entries", len(entries))
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, fmt.Errorf("entry %d of the bundle is truncated (%d of %d bytes)", len(entries), len(b)-2, n)
		}
		entries = append(entries, b[2:2+n])
		b = b[2+n:]
	}
	return entries, nil
}

func main() {
	if len(os.Args) != 3 && len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: go-verify <coordinator origin URL> <vkey> [<old size> <old root base64>]")
		os.Exit(2)
	}
	base := strings.TrimRight(os.Args[1], "/")
	vkey := os.Args[2]

	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("bad vkey: %v", err)
	}
	msg, err := get(base, "/ledger/checkpoint")
	if err != nil {
		fail("checkpoint: %v", err)
	}
	// Only the log key is known: cosignatures by witness keys land in UnverifiedSigs, which
	// note.Open allows as long as a known key verified.
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint signature: note.Open: %v", err)
	}
	origin, tree, err := parseCheckpoint(n.Text)
	if err != nil {
		fail("checkpoint body: %v", err)
	}
	if origin != verifier.Name() {
		fail("checkpoint origin %q is not the key name %q", origin, verifier.Name())
	}
	size := tree.N
	rootB64 := base64.StdEncoding.EncodeToString(tree.Hash[:])

	tr := &tileReader{base: base, cache: map[tlog.Tile][]byte{}}
	reader := tlog.TileHashReader(tree, tr)

	if size == 0 {
		if empty := sha256.Sum256(nil); !bytes.Equal(empty[:], tree.Hash[:]) {
			fail("size 0: root %s is not SHA-256 of the empty string", rootB64)
		}
	} else {
		th, err := tlog.TreeHash(size, reader)
		if err != nil {
			fail("size %d: tree hash from tiles: %v", size, err)
		}
		if th != tree.Hash {
			fail("size %d: tiles give root %s, checkpoint says %s", size, th, rootB64)
		}
	}

	checked := int64(0)
	for start := int64(0); start < size; start += 1 << tileHeight {
		w := size - start
		if w > 1<<tileHeight {
			w = 1 << tileHeight
		}
		bundle := tlog.Tile{H: tileHeight, L: -1, N: start >> tileHeight, W: int(w)}
		path := "/ledger/" + c2spTilePath(bundle)
		b, err := get(base, path)
		if err != nil {
			fail("size %d: entry bundle %d (entries %d..%d): %v", size, bundle.N, start, start+w-1, err)
		}
		entries, err := decodeBundle(b)
		if err != nil {
			fail("size %d: entry bundle %s: %v", size, path, err)
		}
		if int64(len(entries)) != w {
			fail("size %d: entry bundle %s has %d entries, want %d", size, path, len(entries), w)
		}
		for k, e := range entries {
			i := start + int64(k)
			rh := tlog.RecordHash(e)
			stored, err := reader.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
			if err != nil {
				fail("entry %d, size %d: reading its level-0 hash: %v", i, size, err)
			}
			if stored[0] != rh {
				fail("entry %d, size %d: entry bytes hash to %s, the tree's leaf is %s", i, size, rh, stored[0])
			}
			proof, err := tlog.ProveRecord(size, i, reader)
			if err != nil {
				fail("entry %d, size %d: inclusion proof: %v", i, size, err)
			}
			if err := tlog.CheckRecord(proof, size, tree.Hash, i, rh); err != nil {
				fail("entry %d, size %d: inclusion proof does not hold: %v", i, size, err)
			}
			checked++
		}
	}

	if len(os.Args) == 5 {
		oldSize, err := strconv.ParseInt(os.Args[3], 10, 64)
		if err != nil || oldSize < 0 {
			fail("bad old size %q", os.Args[3])
		}
		oldRoot, err := tlog.ParseHash(os.Args[4])
		if err != nil {
			fail("bad old root %q: %v", os.Args[4], err)
		}
		switch {
		case oldSize > size:
			fail("consistency: old size %d is above the checkpoint size %d (a rollback)", oldSize, size)
		case oldSize == 0:
			if empty := sha256.Sum256(nil); !bytes.Equal(empty[:], oldRoot[:]) {
				fail("consistency: old root for size 0 is not SHA-256 of the empty string")
			}
		default:
			// The proof from the authenticated tiles...
			proof, err := tlog.ProveTree(size, oldSize, reader)
			if err != nil {
				fail("consistency %d -> %d: %v", oldSize, size, err)
			}
			if err := tlog.CheckTree(proof, size, tree.Hash, oldSize, oldRoot); err != nil {
				fail("consistency %d -> %d: tree %d is not a prefix of the checkpoint: %v", oldSize, size, oldSize, err)
			}
			// ...and the one the coordinator serves as JSON must hold too.
			b, err := get(base, fmt.Sprintf("/ledger/consistency?old=%d&new=%d", oldSize, size))
			if err != nil {
				fail("consistency %d -> %d: %v", oldSize, size, err)
			}
			var served struct {
				OldSize int64    `json:"old_size"`
				NewSize int64    `json:"new_size"`
				Proof   []string `json:"proof"`
			}
			if err := json.Unmarshal(b, &served); err != nil {
				fail("consistency %d -> %d: served JSON: %v", oldSize, size, err)
			}
			sp := make(tlog.TreeProof, len(served.Proof))
			for j, s := range served.Proof {
				if sp[j], err = tlog.ParseHash(s); err != nil {
					fail("consistency %d -> %d: served proof hash %d: %v", oldSize, size, j, err)
				}
			}
			if served.OldSize != oldSize || served.NewSize != size {
				fail("consistency %d -> %d: served proof is for %d -> %d", oldSize, size, served.OldSize, served.NewSize)
			}
			if err := tlog.CheckTree(sp, size, tree.Hash, oldSize, oldRoot); err != nil {
				fail("consistency %d -> %d: served proof does not hold: %v", oldSize, size, err)
			}
		}
	}

	fmt.Printf("ok: %s size %d root %s, %d entries checked\n", origin, size, rootB64, checked)
}
