import { describe, expect, test } from "bun:test";
import { toHex } from "../crypto/hex.ts";
import { uint64BE } from "./bytes.ts";
import { formatCheckpoint } from "./checkpoint.ts";
import {
  cosignatureMessage,
  cosignatureTimestamp,
  formatWitnessVkey,
  signCosignature,
  verifyCosignature,
  witnessKeyId,
} from "./cosignature.ts";
import { ed25519PublicKey, ed25519Sign } from "./ed25519-sync.ts";
import { EMPTY_ROOT } from "./hash.ts";
import {
  formatNote,
  formatSignatureLine,
  formatVkey,
  noteKeyId,
  parseNote,
  parseSignatureLines,
  parseVkey,
  signNoteText,
  verifyNoteSignature,
} from "./note.ts";
import { expectCode } from "./test-fixtures.ts";

// The examples of c2sp.org/tlog-cosignature.
const SPEC_CHECKPOINT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const SPEC_COSIGNED_NOTE = `${SPEC_CHECKPOINT}
— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==
`;

const WITNESS = "witness.example/w1";
const WITNESS_SEED = new Uint8Array(32).fill(0x42);
const WITNESS_KEY = ed25519PublicKey(WITNESS_SEED);

describe("cosignature/v1 format", () => {
  test("the signed message is the spec's example", () => {
    expect(cosignatureMessage(SPEC_CHECKPOINT, 1679315147)).toBe(
      "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    );
  });

  test("the spec's cosigned checkpoint parses: log signature plus a timestamped witness signature", () => {
    const note = parseNote(SPEC_COSIGNED_NOTE);
    expect(note.text).toBe(SPEC_CHECKPOINT);
    const [log, witness] = note.signatures;
    expect(log?.signature).toHaveLength(64);
    expect(log && cosignatureTimestamp(log)).toBeNull();
    expect(witness?.name).toBe("witness.example.com/w1");
    expect(toHex(witness!.keyId)).toBe("8d66cf3f");
    expect(witness?.signature).toHaveLength(8 + 64);
    // The same time as the spec's example message.
    expect(cosignatureTimestamp(witness!)).toBe(1679315147);
  });

  test("timestamps of known cosignature lines", () => {
    const [sig] = parseSignatureLines(
      "— w ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==\n",
    );
    expect(cosignatureTimestamp(sig!)).toBe(1727964367);
    const [plain] = parseSignatureLines(
      "— w eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY=\n",
    );
    expect(cosignatureTimestamp(plain!)).toBeNull();
  });

  test("witness vkeys use signature type 0x04", () => {
    const vkey = formatWitnessVkey(WITNESS, WITNESS_KEY);
    const parsed = parseVkey(vkey);
    expect(parsed.type).toBe(0x04);
    expect(toHex(parsed.keyId)).toBe(toHex(witnessKeyId(WITNESS, WITNESS_KEY)));
    expect(toHex(parsed.keyId)).toBe(toHex(noteKeyId(WITNESS, 0x04, WITNESS_KEY)));
    expect(toHex(parsed.keyId)).not.toBe(toHex(noteKeyId(WITNESS, 0x01, WITNESS_KEY)));
    expect(vkey.split("+")[2]!.startsWith("B")).toBe(true);
    // A deployed witness's vkey.
    const remora = parseVkey("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2");
    expect(remora.type).toBe(0x04);
    expect(formatWitnessVkey(remora.name, remora.publicKey)).toBe("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2");
  });
});

describe("signing and verifying", () => {
  const checkpoint = formatCheckpoint({ origin: "log.example/aria", size: 1000, rootHash: EMPTY_ROOT, extensions: ["ext"] });

  test("round trip returns the timestamp", () => {
    const line = signCosignature(checkpoint, WITNESS, WITNESS_SEED, 1700000000);
    const [sig] = parseSignatureLines(line);
    expect(sig?.line).toBe(line);
    expect(verifyCosignature(sig!, checkpoint, WITNESS, WITNESS_KEY)).toBe(1700000000);
    expect(cosignatureTimestamp(sig!)).toBe(1700000000);
  });

  test("the signature is Ed25519 over the cosignature/v1 message, after the key ID and timestamp", () => {
    const [sig] = parseSignatureLines(signCosignature(checkpoint, WITNESS, WITNESS_SEED, 1));
    expect(toHex(sig!.keyId)).toBe(toHex(witnessKeyId(WITNESS, WITNESS_KEY)));
    expect([...sig!.signature.slice(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    const expected = ed25519Sign(new TextEncoder().encode(`cosignature/v1\ntime 1\n${checkpoint}`), WITNESS_SEED);
    expect(toHex(sig!.signature.slice(8))).toBe(toHex(expected));
  });

  test("rejects another witness, another key, altered text or extension lines, an altered timestamp", () => {
    const [sig] = parseSignatureLines(signCosignature(checkpoint, WITNESS, WITNESS_SEED, 1700000000));
    expect(verifyCosignature(sig!, checkpoint, "witness.example/w2", WITNESS_KEY)).toBeNull();
    expect(verifyCosignature(sig!, checkpoint, WITNESS, ed25519PublicKey(new Uint8Array(32)))).toBeNull();
    expect(verifyCosignature(sig!, checkpoint.replace("1000", "1001"), WITNESS, WITNESS_KEY)).toBeNull();
    expect(verifyCosignature(sig!, checkpoint.replace("ext", "exu"), WITNESS, WITNESS_KEY)).toBeNull();
    expect(verifyCosignature(sig!, checkpoint.slice(0, -1), WITNESS, WITNESS_KEY)).toBeNull();
    const shifted = { ...sig!, signature: sig!.signature.slice() };
    shifted.signature[7] = (shifted.signature[7] ?? 0) ^ 1;
    expect(verifyCosignature(shifted, checkpoint, WITNESS, WITNESS_KEY)).toBeNull();
  });

  test("plain note signatures and cosignatures by the same key are not interchangeable", () => {
    const plainLine = signNoteText(checkpoint, WITNESS, WITNESS_SEED);
    const cosignatureLine = signCosignature(checkpoint, WITNESS, WITNESS_SEED, 5);
    const note = parseNote(formatNote(checkpoint, [plainLine, cosignatureLine]));
    expect(verifyNoteSignature(note, formatVkey(WITNESS, WITNESS_KEY))).toBe(true);
    expect(verifyNoteSignature(note, formatWitnessVkey(WITNESS, WITNESS_KEY))).toBe(false);
    expect(note.signatures.map((sig) => verifyCosignature(sig, checkpoint, WITNESS, WITNESS_KEY))).toEqual([null, 5]);
  });

  test("timestamps beyond 2^53 - 1 are refused", () => {
    const timestamp = new Uint8Array(8).fill(0xff);
    timestamp[0] = 0x7f;
    const line = formatSignatureLine(WITNESS, witnessKeyId(WITNESS, WITNESS_KEY), new Uint8Array([...timestamp, ...new Uint8Array(64)]));
    const [sig] = parseSignatureLines(line);
    expect(cosignatureTimestamp(sig!)).toBeNull();
    expect(verifyCosignature(sig!, checkpoint, WITNESS, WITNESS_KEY)).toBeNull();
    expect([...uint64BE(2 ** 53 - 1)]).toEqual([0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  });

  test("signing rejects malformed checkpoints, names, keys and timestamps", () => {
    expectCode(() => signCosignature("not a checkpoint\n", WITNESS, WITNESS_SEED, 1), "bad_checkpoint");
    expectCode(() => signCosignature(checkpoint, "bad name", WITNESS_SEED, 1), "bad_key");
    expectCode(() => signCosignature(checkpoint, WITNESS, WITNESS_SEED.slice(1), 1), "bad_key");
    expectCode(() => signCosignature(checkpoint, WITNESS, WITNESS_SEED, -1), "bad_checkpoint");
    expectCode(() => cosignatureMessage(checkpoint, 1.5), "bad_checkpoint");
    expectCode(() => cosignatureMessage("no newline", 1), "bad_checkpoint");
  });
});
