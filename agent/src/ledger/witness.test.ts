import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../../../shared/crypto/hex.ts";
import { formatCheckpoint } from "../../../shared/ledger/checkpoint.ts";
import { verifyCosignature } from "../../../shared/ledger/cosignature.ts";
import { ed25519PublicKey } from "../../../shared/ledger/ed25519-sync.ts";
import { type Hash, leafHash } from "../../../shared/ledger/hash.ts";
import { formatNote, formatVkey, parseSignatureLines, signNoteText } from "../../../shared/ledger/note.ts";
import { type HashReader, MerkleFrontier, proveConsistency } from "../../../shared/ledger/tree-math.ts";
import { witnessName } from "../../../shared/ledger/witness-name.ts";
import { formatAddCheckpoint } from "../../../shared/ledger/witness-request.ts";
import { Witness } from "./witness.ts";

const ORIGIN = "aria.test/ledger";
const COORDINATOR = "http://127.0.0.1:8787";
const NOW = 1_796_180_000_000;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "aria-witness-test-"));
  dirs.push(dir);
  return dir;
}

function seed(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

interface LogKey {
  name: string;
  secretKey: Uint8Array;
  vkey: string;
}

function logKey(byte: number, name = ORIGIN): LogKey {
  const secretKey = seed(byte);
  return { name, secretKey, vkey: formatVkey(name, ed25519PublicKey(secretKey)) };
}

const LOG_KEY = logKey(1);
const OTHER_KEY = logKey(2);
const NODE_SECRET = seed(9);
const NODE_PUBLIC = ed25519PublicKey(NODE_SECRET);
const IDENTITY = { nodeId: toHex(NODE_PUBLIC), secretKey: NODE_SECRET };

/** An in-memory log: the frontier, and every complete-subtree hash it produced, for proofs. */
class TestLog {
  private readonly frontier = new MerkleFrontier();
  private readonly nodes = new Map<string, Hash>();
  private readonly roots: Hash[] = [];

  constructor(
    private readonly prefix: string,
    count = 0,
  ) {
    this.grow(count);
  }

  get size(): number {
    return this.frontier.size;
  }

  grow(count: number): this {
    for (let i = 0; i < count; i++) {
      const entry = new TextEncoder().encode(`{"n":${this.frontier.size},"type":"${this.prefix}"}`);
      for (const node of this.frontier.append(leafHash(entry))) this.nodes.set(`${node.ref.level}/${node.ref.index}`, node.hash);
      this.roots[this.frontier.size] = this.frontier.root();
    }
    return this;
  }

  readonly read: HashReader = async (refs) =>
    refs.map((ref) => {
      const hash = this.nodes.get(`${ref.level}/${ref.index}`);
      if (hash === undefined) throw new Error(`no stored node ${ref.level}/${ref.index}`);
      return hash;
    });

  root(size = this.size): Hash {
    if (size === this.size) return this.frontier.root();
    const root = this.roots[size];
    if (!root) throw new Error(`no root for size ${size}`);
    return root;
  }

  /** The checkpoint note text of the tree of `size` leaves. */
  text(size = this.size, origin = ORIGIN): string {
    return formatCheckpoint({ origin, size, rootHash: this.root(size) });
  }

  /** The signed checkpoint of the tree of `size` leaves. */
  checkpoint(size = this.size, key: LogKey = LOG_KEY, origin = ORIGIN): string {
    const text = this.text(size, origin);
    return formatNote(text, [signNoteText(text, key.name, key.secretKey)]);
  }

  /** An add-checkpoint request body from `oldSize`, with this log's consistency proof unless given. */
  async request(oldSize: number, size = this.size, opts: { key?: LogKey; origin?: string; proof?: Hash[] } = {}): Promise<string> {
    const proof = opts.proof ?? (await proveConsistency(oldSize, size, this.read));
    return formatAddCheckpoint({ oldSize, proof, checkpoint: this.checkpoint(size, opts.key, opts.origin) });
  }
}

async function newWitness(configDir = tempDir(), configuredVkey?: string) {
  const lines: string[] = [];
  const witness = await Witness.open(configDir, COORDINATOR, IDENTITY, configuredVkey, (line) => lines.push(line));
  return { witness, lines, configDir };
}

/** A witness that has pinned LOG_KEY from the coordinator's welcome. */
async function pinnedWitness(configDir = tempDir()) {
  const made = await newWitness(configDir);
  made.witness.onAnnounced({ origin: ORIGIN, vkey: LOG_KEY.vkey });
  return made;
}

function stateFile(configDir: string): string {
  const files = readdirSync(join(configDir, "witness")).filter((f) => f.endsWith(".json"));
  expect(files).toHaveLength(1);
  return readFileSync(join(configDir, "witness", files[0]!), "utf8");
}

function expectCosigned(answer: ReturnType<Witness["handle"]>, size: number, checkpointText: string): void {
  expect(answer.type).toBe("cosigned");
  if (answer.type !== "cosigned") return;
  expect(answer.size).toBe(size);
  const [signature] = parseSignatureLines(answer.line);
  expect(signature).toBeDefined();
  expect(signature!.name).toBe(`aria-node/${IDENTITY.nodeId}`);
  expect(verifyCosignature(signature!, checkpointText, witnessName(IDENTITY.nodeId), NODE_PUBLIC)).toBe(Math.floor(NOW / 1000));
}

function expectRefused(answer: ReturnType<Witness["handle"]>, code: string, size: number, latest?: number): void {
  expect(answer).toMatchObject({ type: "witness_refused", code, size });
  if (answer.type !== "witness_refused") return;
  expect(answer.latest).toBe(latest);
}

test("the first checkpoint (old 0) is cosigned under aria-node/<node id>", async () => {
  const { witness, lines } = await pinnedWitness();
  expect(lines.join("\n")).toContain("pinned the log key");
  expect(witness.vkey).toBe(LOG_KEY.vkey);
  const log = new TestLog("a", 3);
  const answer = witness.handle(await log.request(0), NOW);
  expectCosigned(answer, 3, log.text());
  // The line is a cosignature of exactly this checkpoint: not of another size of the same log.
  if (answer.type === "cosigned") {
    const [signature] = parseSignatureLines(answer.line);
    expect(verifyCosignature(signature!, log.grow(1).text(), witnessName(IDENTITY.nodeId), NODE_PUBLIC)).toBeNull();
  }
});

test("the next checkpoint with a correct proof from the cosigned size is cosigned", async () => {
  const { witness, configDir } = await pinnedWitness();
  const log = new TestLog("a", 3);
  expectCosigned(witness.handle(await log.request(0), NOW), 3, log.text());
  log.grow(5);
  expectCosigned(witness.handle(await log.request(3), NOW), 8, log.text());
  // The same tree again (old = new, empty proof) is fine too.
  expectCosigned(witness.handle(await log.request(8), NOW), 8, log.text());
  expect(JSON.parse(stateFile(configDir))).toMatchObject({ vkey: LOG_KEY.vkey, size: 8 });
});

test("a wrong old size is a conflict naming the cosigned size", async () => {
  const { witness, lines } = await pinnedWitness();
  const log = new TestLog("a", 4);
  expectCosigned(witness.handle(await log.request(0), NOW), 4, log.text());
  log.grow(4);
  expectRefused(witness.handle(await log.request(2), NOW), "conflict", 8, 4);
  expectRefused(witness.handle(await log.request(0), NOW), "conflict", 8, 4);
  expect(lines.some((l) => l.includes("refused to cosign checkpoint 8 (conflict)"))).toBe(true);
  // Retrying from what it holds works.
  expectCosigned(witness.handle(await log.request(4), NOW), 8, log.text());
});

test("a smaller tree than the one cosigned is a rollback", async () => {
  const { witness } = await pinnedWitness();
  const log = new TestLog("a", 8);
  expectCosigned(witness.handle(await log.request(0), NOW), 8, log.text());
  expectRefused(witness.handle(await log.request(0, 5), NOW), "rollback", 5, 8);
  expectRefused(witness.handle(await log.request(3, 5), NOW), "rollback", 5, 8);
  // With old = the cosigned size the request itself is malformed (c2sp.org/tlog-witness: an old size
  // above the checkpoint size is a 400), so it is refused as bad_request rather than rollback.
  const body = formatAddCheckpoint({ oldSize: 8, proof: [], checkpoint: log.checkpoint(5) });
  expectRefused(witness.handle(body, NOW), "bad_request", 0);
});

test("a forked tree is refused with bad_proof, whatever the proof, and the state is kept", async () => {
  const { witness, configDir } = await pinnedWitness();
  const log = new TestLog("a", 8);
  expectCosigned(witness.handle(await log.request(0), NOW), 8, log.text());
  const before = stateFile(configDir);

  const fork = new TestLog("b", 8); // other entries, same size: a split view
  expectRefused(witness.handle(await fork.request(8), NOW), "bad_proof", 8);
  fork.grow(3);
  log.grow(3);
  const honestProof = await proveConsistency(8, 11, log.read);
  const forkProof = await proveConsistency(8, 11, fork.read);
  expectRefused(witness.handle(await fork.request(8), NOW), "bad_proof", 11); // its own proof
  expectRefused(witness.handle(await fork.request(8, 11, { proof: honestProof }), NOW), "bad_proof", 11);
  expectRefused(witness.handle(await fork.request(8, 11, { proof: [] }), NOW), "bad_proof", 11);
  expectRefused(witness.handle(await fork.request(8, 11, { proof: [...forkProof, ...honestProof] }), NOW), "bad_proof", 11);
  // A fork that keeps the cosigned prefix but lies about the new root, with the honest proof.
  const forgedText = formatCheckpoint({ origin: ORIGIN, size: 11, rootHash: fork.root() });
  const forged = formatAddCheckpoint({
    oldSize: 8,
    proof: honestProof,
    checkpoint: formatNote(forgedText, [signNoteText(forgedText, LOG_KEY.name, LOG_KEY.secretKey)]),
  });
  expectRefused(witness.handle(forged, NOW), "bad_proof", 11);

  expect(stateFile(configDir)).toBe(before);
  // The honest log's next checkpoint is still cosigned from the size cosigned before the forks.
  expectCosigned(witness.handle(await log.request(8), NOW), 11, log.text());
});

test("a checkpoint signed by another key is bad_signature", async () => {
  const { witness, configDir } = await pinnedWitness();
  const log = new TestLog("a", 3);
  const before = stateFile(configDir);
  expectRefused(witness.handle(await log.request(0, 3, { key: OTHER_KEY }), NOW), "bad_signature", 3);
  expect(stateFile(configDir)).toBe(before);
});

test("a checkpoint with another origin is wrong_log", async () => {
  const { witness } = await pinnedWitness();
  const log = new TestLog("a", 3);
  expectRefused(witness.handle(await log.request(0, 3, { origin: "other.example/log" }), NOW), "wrong_log", 3);
});

test("a garbage body is bad_request", async () => {
  const { witness } = await pinnedWitness();
  for (const body of ["", "garbage", "old 0\n", "old x\n\nnot a note\n", "old 01\n\n"]) {
    expectRefused(witness.handle(body, NOW), "bad_request", 0);
  }
  const log = new TestLog("a", 3);
  // A proof line that is not a hash, and an old size above the checkpoint's.
  expectRefused(witness.handle(`old 1\nAAAA\n\n${log.checkpoint()}`, NOW), "bad_request", 0);
  expectRefused(witness.handle(`old 4\n\n${log.checkpoint()}`, NOW), "bad_request", 0);
});

test("without a pinned key nothing is cosigned", async () => {
  const { witness } = await newWitness();
  expect(witness.vkey).toBeUndefined();
  const log = new TestLog("a", 3);
  expectRefused(witness.handle(await log.request(0), NOW), "wrong_log", 3);
});

test("the state persists across a new Witness on the same config dir", async () => {
  const configDir = tempDir();
  const first = await pinnedWitness(configDir);
  const log = new TestLog("a", 5);
  expectCosigned(first.witness.handle(await log.request(0), NOW), 5, log.text());

  const second = await newWitness(configDir);
  expect(second.witness.vkey).toBe(LOG_KEY.vkey); // pinned before, not announced again
  log.grow(2);
  expectRefused(second.witness.handle(await log.request(0), NOW), "conflict", 7, 5);
  expectRefused(second.witness.handle(await new TestLog("b", 6).request(5), NOW), "bad_proof", 6);
  expectCosigned(second.witness.handle(await log.request(5), NOW), 7, log.text());

  // Another coordinator keeps its own state.
  const lines: string[] = [];
  const elsewhere = await Witness.open(configDir, "http://127.0.0.1:9999", IDENTITY, undefined, (l) => lines.push(l));
  expect(elsewhere.vkey).toBeUndefined();
});

test("a coordinator announcing another log key is logged and its checkpoints are refused", async () => {
  const configDir = tempDir();
  const { witness, lines } = await pinnedWitness(configDir);
  const log = new TestLog("a", 3);
  expectCosigned(witness.handle(await log.request(0), NOW), 3, log.text());

  witness.onAnnounced({ origin: ORIGIN, vkey: OTHER_KEY.vkey });
  expect(lines.some((l) => l.includes(`announces log key ${OTHER_KEY.vkey}`) && l.includes(LOG_KEY.vkey))).toBe(true);
  expect(witness.vkey).toBe(LOG_KEY.vkey);
  log.grow(2);
  expectRefused(witness.handle(await log.request(3, 5, { key: OTHER_KEY }), NOW), "bad_signature", 5);
  expectRefused(witness.handle(await new TestLog("x", 1).request(0, 1, { key: OTHER_KEY }), NOW), "bad_signature", 1);
  // Still pinned after a restart.
  const again = await newWitness(configDir);
  again.witness.onAnnounced({ origin: ORIGIN, vkey: OTHER_KEY.vkey });
  expect(again.witness.vkey).toBe(LOG_KEY.vkey);
  expect(again.lines.some((l) => l.includes("announces log key"))).toBe(true);
  expectCosigned(again.witness.handle(await log.request(3), NOW), 5, log.text());
});

test("a log key given by the owner wins over the one announced", async () => {
  const { witness, lines } = await newWitness(tempDir(), LOG_KEY.vkey);
  witness.onAnnounced({ origin: ORIGIN, vkey: OTHER_KEY.vkey });
  expect(lines.some((l) => l.includes("announces log key"))).toBe(true);
  expect(witness.vkey).toBe(LOG_KEY.vkey);
  const log = new TestLog("a", 2);
  expectRefused(witness.handle(await log.request(0, 2, { key: OTHER_KEY }), NOW), "bad_signature", 2);
  expectCosigned(witness.handle(await log.request(0), NOW), 2, log.text());
});
