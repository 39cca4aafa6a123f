import { describe, expect, test } from "bun:test";
import { toHex } from "../crypto/hex.ts";
import { encodeBase64 } from "./base64.ts";
import { formatCheckpoint, parseCheckpoint } from "./checkpoint.ts";
import { formatWitnessVkey, signCosignature, verifyCosignature } from "./cosignature.ts";
import { ed25519PublicKey } from "./ed25519-sync.ts";
import { formatNote, formatVkey, parseNote, parseSignatureLines, parseVkey, signNoteText, verifyNoteSignature } from "./note.ts";
import { expectCode, MemoryTree, syntheticLeaves } from "./test-fixtures.ts";
import { proveConsistency, treeRoot, verifyConsistency } from "./tree-math.ts";
import { formatAddCheckpoint, MAX_ADD_CHECKPOINT_PROOF, parseAddCheckpoint } from "./witness-request.ts";

// The example request body of c2sp.org/tlog-witness.
const SPEC_BODY = `old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
`;

describe("add-checkpoint request body", () => {
  test("parses the spec's example and formats it back byte for byte", () => {
    const request = parseAddCheckpoint(SPEC_BODY);
    expect(request.oldSize).toBe(20852014);
    expect(request.proof.map(encodeBase64)).toEqual([
      "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
      "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=",
      "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=",
      "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=",
    ]);
    expect(request.tree.origin).toBe("example.com/behind-the-sofa");
    expect(request.tree.size).toBe(20852163);
    expect(request.note.signatures).toHaveLength(2);
    expect(request.checkpoint).toBe(SPEC_BODY.slice(SPEC_BODY.indexOf("example.com")));
    expect(formatAddCheckpoint(request)).toBe(SPEC_BODY);
  });

  test("old size 0 with an empty proof, and the full 63 proof lines, are accepted", () => {
    const checkpoint = SPEC_BODY.slice(SPEC_BODY.indexOf("example.com"));
    const empty = formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint });
    expect(empty.startsWith("old 0\n\nexample.com/")).toBe(true);
    expect(parseAddCheckpoint(empty).proof).toEqual([]);
    const proof = Array.from({ length: MAX_ADD_CHECKPOINT_PROOF }, (_, i) => new Uint8Array(32).fill(i));
    expect(parseAddCheckpoint(formatAddCheckpoint({ oldSize: 5, proof, checkpoint })).proof).toHaveLength(63);
  });

  test("rejects malformed requests", () => {
    const [head, rest] = [SPEC_BODY.slice(0, SPEC_BODY.indexOf("\n\n") + 2), SPEC_BODY.slice(SPEC_BODY.indexOf("\n\n") + 2)];
    const hash = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n";
    const bad: [string, string][] = [
      [`old 020852014\n\n${rest}`, "bad_witness_request"],
      [`old -1\n\n${rest}`, "bad_witness_request"],
      [`Old 5\n\n${rest}`, "bad_witness_request"],
      [`old  5\n\n${rest}`, "bad_witness_request"],
      [`old 5 \n\n${rest}`, "bad_witness_request"],
      [`old\n\n${rest}`, "bad_witness_request"],
      [`\n${rest}`, "bad_witness_request"],
      [`old 5\n${hash}`, "bad_witness_request"],
      [`old 5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpka=\n\n${rest}`, "bad_witness_request"],
      [`old 5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDp\n\n${rest}`, "bad_witness_request"],
      [`old 5\n${hash.repeat(64)}\n${rest}`, "bad_witness_request"],
      [`old 20852164\n\n${rest}`, "bad_witness_request"],
      [`old 5\r\n\n${rest}`, "bad_witness_request"],
      [`${head}${rest.replace("\n\n", "\n")}`, "bad_note"],
      [`${head}${rest.replace("20852163", "020852163")}`, "bad_checkpoint"],
      [head, "bad_note"],
    ];
    for (const [body, code] of bad) expectCode(() => parseAddCheckpoint(body), code);
  });

  test("format rejects too many or malformed proof hashes and a bad old size", () => {
    const checkpoint = SPEC_BODY.slice(SPEC_BODY.indexOf("example.com"));
    const hashes = (n: number) => Array.from({ length: n }, () => new Uint8Array(32));
    expectCode(() => formatAddCheckpoint({ oldSize: 1, proof: hashes(64), checkpoint }), "bad_witness_request");
    expectCode(() => formatAddCheckpoint({ oldSize: 1, proof: [new Uint8Array(31)], checkpoint }), "bad_hash");
    expectCode(() => formatAddCheckpoint({ oldSize: -1, proof: [], checkpoint }), "bad_witness_request");
    expectCode(() => formatAddCheckpoint({ oldSize: 1, proof: [], checkpoint: checkpoint.slice(0, -1) }), "bad_witness_request");
  });
});

test("end to end: a log asks a witness to cosign, and a client checks the cosignature", async () => {
  const origin = "log.example/aria";
  const logSeed = new Uint8Array(32).fill(1);
  const witnessSeed = new Uint8Array(32).fill(2);
  const witnessName = "witness.example/w1";
  const logVkey = formatVkey(origin, ed25519PublicKey(logSeed));
  const witnessVkey = formatWitnessVkey(witnessName, ed25519PublicKey(witnessSeed));

  // The log grows from 37 to 200 leaves and signs a checkpoint.
  const tree = new MemoryTree(syntheticLeaves(200));
  const text = formatCheckpoint({ origin, size: 200, rootHash: await treeRoot(200, tree.read) });
  const note = formatNote(text, [signNoteText(text, origin, logSeed)]);
  const body = formatAddCheckpoint({ oldSize: 37, proof: await proveConsistency(37, 200, tree.read), checkpoint: note });

  // The witness, which last cosigned size 37, checks everything the spec asks of it.
  const witnessOldRoot = await treeRoot(37, tree.read);
  const request = parseAddCheckpoint(body);
  expect(verifyNoteSignature(request.note, logVkey)).toBe(true);
  expect(verifyConsistency(request.oldSize, request.tree.size, request.proof, witnessOldRoot, request.tree.rootHash)).toBe(true);
  const response = signCosignature(request.note.text, witnessName, witnessSeed, 1750000000);

  // The client appends the response lines to the checkpoint and checks the witness.
  const cosigned = parseNote(note + response);
  const witnessKey = parseVkey(witnessVkey);
  const times = cosigned.signatures.map((sig) => verifyCosignature(sig, cosigned.text, witnessKey.name, witnessKey.publicKey));
  expect(times).toEqual([null, 1750000000]);
  expect(verifyNoteSignature(cosigned, logVkey)).toBe(true);
  expect(parseSignatureLines(response)).toHaveLength(1);
  expect(toHex(parseCheckpoint(cosigned.text).rootHash)).toBe(toHex(await treeRoot(200, tree.read)));

  // A forked log cannot get a proof past the witness.
  const forked = new MemoryTree(syntheticLeaves(201).slice(1));
  expect(verifyConsistency(37, 200, await proveConsistency(37, 200, forked.read), witnessOldRoot, await treeRoot(200, forked.read))).toBe(
    false,
  );
});
