/**
 * The sequencer and its D1 storage, inside workerd on a database of their own: the tree it stores
 * is the RFC 9162 tree of the entries (checked against a brute-force root), appends are
 * idempotent per key, a new sequencer on the same database carries on consistently, and a failed
 * commit loses and duplicates nothing.
 */
import { env } from "cloudflare:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { beforeEach, describe, expect, test } from "vitest";
import { openCheckpoint } from "../../../shared/ledger/checkpoint.ts";
import { EMPTY_ROOT, type Hash, leafHash, nodeHash } from "../../../shared/ledger/hash.ts";
import { proveConsistency, proveInclusion, verifyConsistency, verifyInclusion } from "../../../shared/ledger/tree-math.ts";
import { parseLogKey } from "./log-key.ts";
import { LogStore } from "./log-store.ts";
import { Sequencer } from "./sequencer.ts";

const key = parseLogKey(env.ARIA_LEDGER_KEY);
/** Another valid key (the signed-note form of a fixed seed), for key replacement. */
const OTHER_KEY = "PRIVATE+KEY+aria.other/ledger+37a22cdd+AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB";
const encoder = new TextEncoder();
const entryOf = (i: number) => ({ key: `req-${i}`, bytes: encoder.encode(`{"n":${i},"text":"é ${"x".repeat(i % 7)}","type":"test"}`) });

/** MTH straight from the RFC's recursive definition. */
function bruteRoot(leaves: Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(bruteRoot(leaves.slice(0, k)), bruteRoot(leaves.slice(k)));
}

async function wipe() {
  await env.TEST_LEDGER_DB.batch(
    ["log_pending", "log_entries", "log_nodes", "log_checkpoints", "log_cosignatures", "witnesses"].map((t) =>
      env.TEST_LEDGER_DB.prepare(`DELETE FROM ${t}`),
    ),
  );
}

beforeEach(wipe);

describe("sequencer", () => {
  test("a new log signs its empty tree: size 0, root SHA-256 of nothing", async () => {
    const sequencer = new Sequencer(new LogStore(env.TEST_LEDGER_DB), key, () => {});
    const checkpoint = await sequencer.checkpoint();
    expect(checkpoint?.size).toBe(0);
    expect(checkpoint?.root).toEqual(sha256(new Uint8Array(0)));
    const opened = openCheckpoint(checkpoint!.note, key.vkey);
    expect(opened?.checkpoint).toMatchObject({ origin: key.name, size: 0 });
  });

  test("600 entries: stored exactly, the root is the RFC tree's, tiles and proofs hold", async () => {
    const store = new LogStore(env.TEST_LEDGER_DB);
    const seen: number[] = [];
    const sequencer = new Sequencer(store, key, (cp) => seen.push(cp.size));
    const entries = Array.from({ length: 600 }, (_, i) => entryOf(i));
    for (let i = 0; i < entries.length; i += 150) await sequencer.submit(entries.slice(i, i + 150));
    await sequencer.flush();
    const checkpoint = (await sequencer.checkpoint())!;
    expect(checkpoint.size).toBe(600);
    expect(seen.at(-1)).toBe(600);
    const leaves = entries.map((e) => leafHash(e.bytes));
    expect(checkpoint.root).toEqual(bruteRoot(leaves));
    expect(openCheckpoint(checkpoint.note, key.vkey)?.checkpoint.size).toBe(600);

    const stored = await store.entriesFrom(256, 256);
    expect(stored.map((e) => encoder.encode(e.entry))).toEqual(entries.slice(256, 512).map((e) => e.bytes));
    // Level-0 tile 1 holds leaves 256..511; the level-1 tile holds the two complete level-8 nodes.
    expect(await store.nodesAt(0, 256, 256)).toEqual(leaves.slice(256, 512));
    const level8 = await store.nodesAt(8, 0, 256);
    expect(level8).toEqual([bruteRoot(leaves.slice(0, 256)), bruteRoot(leaves.slice(256, 512))]);

    for (const i of [0, 1, 255, 256, 299, 511, 512, 599]) {
      const proof = await proveInclusion(i, 600, store.readNodes);
      expect(verifyInclusion(leaves[i]!, i, 600, proof, checkpoint.root)).toBe(true);
      expect(verifyInclusion(leaves[i]!, (i + 1) % 600, 600, proof, checkpoint.root)).toBe(false);
    }
    const proof = await proveConsistency(150, 600, store.readNodes);
    expect(verifyConsistency(150, 600, proof, bruteRoot(leaves.slice(0, 150)), checkpoint.root)).toBe(true);
  });

  test("concurrent submits share queue writes (group commit), and every one of them is logged", async () => {
    class CountingStore extends LogStore {
      writes = 0;
      override async enqueue(rows: readonly { key: string; entry: string }[], now: number) {
        this.writes++;
        return super.enqueue(rows, now);
      }
    }
    const store = new CountingStore(env.TEST_LEDGER_DB);
    const sequencer = new Sequencer(store, key, () => {});
    await Promise.all(Array.from({ length: 100 }, (_, i) => sequencer.submit([entryOf(i)])));
    expect(store.writes).toBeLessThan(10);
    await sequencer.submit([entryOf(100)]);
    await sequencer.flush();
    const checkpoint = (await sequencer.checkpoint())!;
    expect(checkpoint.size).toBe(101);
    expect(await store.size()).toBe(101);
  });

  test("appending is idempotent per key, before and after sequencing", async () => {
    const sequencer = new Sequencer(new LogStore(env.TEST_LEDGER_DB), key, () => {});
    await sequencer.submit([entryOf(1), entryOf(2), entryOf(1)]);
    await sequencer.submit([entryOf(2)]);
    await sequencer.flush();
    expect((await sequencer.checkpoint())?.size).toBe(2);
    await sequencer.submit([entryOf(1), entryOf(3)]);
    await sequencer.flush();
    const checkpoint = (await sequencer.checkpoint())!;
    expect(checkpoint.size).toBe(3);
    expect(checkpoint.root).toEqual(bruteRoot([1, 2, 3].map((i) => leafHash(entryOf(i).bytes))));
  });

  test("a new sequencer on the same database (a restart) continues one consistent history", async () => {
    const store = new LogStore(env.TEST_LEDGER_DB);
    const before = new Sequencer(store, key, () => {});
    await before.submit(Array.from({ length: 37 }, (_, i) => entryOf(i)));
    await before.flush();
    const old = (await before.checkpoint())!;
    // Queued but not sequenced when the "restart" happens.
    await store.enqueue([{ key: "req-37", entry: new TextDecoder().decode(entryOf(37).bytes) }], Date.now());
    const after = new Sequencer(store, key, () => {});
    expect((await after.checkpoint())?.size).toBe(37);
    await after.submit([entryOf(38)]);
    await after.flush();
    const now = (await after.checkpoint())!;
    expect(now.size).toBe(39);
    const proof = await proveConsistency(37, 39, store.readNodes);
    expect(verifyConsistency(37, 39, proof, old.root, now.root)).toBe(true);
    expect(now.root).toEqual(bruteRoot(Array.from({ length: 39 }, (_, i) => leafHash(entryOf(i).bytes))));
  });

  test("a replaced log key signs the same tree again, and the log goes on from there", async () => {
    const store = new LogStore(env.TEST_LEDGER_DB);
    const before = new Sequencer(store, key, () => {});
    await before.submit([entryOf(1), entryOf(2)]);
    await before.flush();
    const old = (await before.checkpoint())!;
    const other = parseLogKey(OTHER_KEY);
    const after = new Sequencer(store, other, () => {});
    const resigned = (await after.checkpoint())!;
    expect(resigned.size).toBe(2);
    expect(resigned.root).toEqual(old.root);
    expect(openCheckpoint(resigned.note, other.vkey)?.checkpoint.origin).toBe(other.name);
    await after.submit([entryOf(3)]);
    await after.flush();
    expect((await after.checkpoint())?.size).toBe(3);
  });

  test("a failed commit loses nothing and logs nothing twice", async () => {
    class FailingOnce extends LogStore {
      failures = 0;
      override async commit(step: Parameters<LogStore["commit"]>[0]) {
        if (this.failures-- > 0) throw new Error("simulated D1 failure");
        return super.commit(step);
      }
    }
    const store = new FailingOnce(env.TEST_LEDGER_DB);
    const sequencer = new Sequencer(store, key, () => {});
    await sequencer.checkpoint();
    store.failures = 1;
    await sequencer.submit([entryOf(1), entryOf(2)]);
    await expect(sequencer.flush()).rejects.toThrow("simulated D1 failure");
    expect(await store.size()).toBe(0);
    await sequencer.submit([entryOf(3)]);
    await sequencer.flush();
    const checkpoint = (await sequencer.checkpoint())!;
    expect(checkpoint.size).toBe(3);
    expect(checkpoint.root).toEqual(bruteRoot([1, 2, 3].map((i) => leafHash(entryOf(i).bytes))));
  });
});
