import { describe, expect, test } from "bun:test";
import { toHex } from "../crypto/hex.ts";
import { decodeBase64 } from "./base64.ts";
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from "./checkpoint.ts";
import { ed25519PublicKey } from "./ed25519-sync.ts";
import { EMPTY_ROOT } from "./hash.ts";
import { formatNote, formatVkey, signNoteText } from "./note.ts";
import { expectCode } from "./test-fixtures.ts";

// The example of c2sp.org/tlog-checkpoint.
const SPEC_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const SPEC_ROOT = decodeBase64("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")!;

describe("checkpoint text", () => {
  test("parses the spec's example and formats it back", () => {
    const checkpoint = parseCheckpoint(SPEC_TEXT);
    expect(checkpoint.origin).toBe("example.com/behind-the-sofa");
    expect(checkpoint.size).toBe(20852163);
    expect(toHex(checkpoint.rootHash)).toBe(toHex(SPEC_ROOT));
    expect(checkpoint.extensions).toEqual([]);
    expect(formatCheckpoint(checkpoint)).toBe(SPEC_TEXT);
  });

  test("extension lines round-trip; the empty tree has size 0", () => {
    const text = formatCheckpoint({ origin: "log.example/a", size: 0, rootHash: EMPTY_ROOT, extensions: ["ext one", "two"] });
    expect(text).toBe("log.example/a\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\ntwo\n");
    expect(parseCheckpoint(text)).toEqual({ origin: "log.example/a", size: 0, rootHash: EMPTY_ROOT, extensions: ["ext one", "two"] });
  });

  test("rejects malformed text", () => {
    const root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    const bad = [
      SPEC_TEXT.slice(0, -1),
      "example.com/a\n5\n",
      `\n5\n${root}\n`,
      `o\n05\n${root}\n`,
      `o\n-5\n${root}\n`,
      `o\n+5\n${root}\n`,
      `o\n5.0\n${root}\n`,
      `o\n1e3\n${root}\n`,
      `o\n 5\n${root}\n`,
      `o\n9007199254740992\n${root}\n`,
      `o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n`,
      `o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n`,
      `o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n`,
      `o\n5\n${root}\n\n`,
      `o\n5\n${root}\next\n\n`,
      `o\r\n5\n${root}\n`,
      `o\n5\r\n${root}\n`,
    ];
    for (const text of bad) expectCode(() => parseCheckpoint(text), "bad_checkpoint");
  });

  test("format rejects fields that would not parse", () => {
    expectCode(() => formatCheckpoint({ origin: "", size: 1, rootHash: SPEC_ROOT }), "bad_checkpoint");
    expectCode(() => formatCheckpoint({ origin: "a\nb", size: 1, rootHash: SPEC_ROOT }), "bad_checkpoint");
    expectCode(() => formatCheckpoint({ origin: "a\u0000", size: 1, rootHash: SPEC_ROOT }), "bad_checkpoint");
    expectCode(() => formatCheckpoint({ origin: "a", size: -1, rootHash: SPEC_ROOT }), "bad_checkpoint");
    expectCode(() => formatCheckpoint({ origin: "a", size: 1.5, rootHash: SPEC_ROOT }), "bad_checkpoint");
    expectCode(() => formatCheckpoint({ origin: "a", size: 1, rootHash: SPEC_ROOT.slice(1) }), "bad_checkpoint");
    expectCode(() => formatCheckpoint({ origin: "a", size: 1, rootHash: SPEC_ROOT, extensions: [""] }), "bad_checkpoint");
  });
});

describe("openCheckpoint", () => {
  const seed = new Uint8Array(32).fill(7);
  const origin = "log.example/aria";
  const vkey = formatVkey(origin, ed25519PublicKey(seed));
  const text = formatCheckpoint({ origin, size: 42, rootHash: SPEC_ROOT });
  const note = formatNote(text, [signNoteText(text, origin, seed)]);

  test("returns the checkpoint when the log key signed it", () => {
    const opened = openCheckpoint(note, vkey);
    expect(opened?.checkpoint.size).toBe(42);
    expect(opened?.note.text).toBe(text);
  });

  test("returns null for another key or altered text; throws for malformed notes", () => {
    expect(openCheckpoint(note, formatVkey(origin, ed25519PublicKey(new Uint8Array(32).fill(8))))).toBeNull();
    expect(openCheckpoint(note.replace("\n42\n", "\n43\n"), vkey)).toBeNull();
    expectCode(() => openCheckpoint(text, vkey), "bad_note");
    const badText = "log.example/aria\n042\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    expectCode(() => openCheckpoint(formatNote(badText, [signNoteText(badText, origin, seed)]), vkey), "bad_checkpoint");
  });
});
