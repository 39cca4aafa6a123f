import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alignUp, GgmlType } from "../../../shared/gguf/constants.ts";
import { metaBool, metaFloat, metaInteger, metaString } from "../../../shared/gguf/metadata.ts";
import { readGguf, tensorData } from "../../../shared/gguf/reader.ts";
import { unpackTq2_0 } from "../../../shared/gguf/tq2-0.ts";
import { BpeTokenizer } from "../../../shared/tokenizer/bpe-tokenizer.ts";
import { chatTemplateOf, renderChat } from "../../../shared/tokenizer/chat-template.ts";
import { BUILTIN_MODEL_ID, builtinModelPath, defaultCacheDir, ensureBuiltinModel } from "./builtin.ts";
import { BUILTIN_GENERATOR_VERSION } from "./builtin-model.ts";

/**
 * SHA-256 of the generated file. If you change the generator (or the corpus) on purpose, bump
 * BUILTIN_GENERATOR_VERSION and update this value.
 */
const PINNED_SHA256 = "fcaea9a2e2cd61312faa17f5a258af6dd54877e31e425b35c8f19907b348c15e";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "aria-builtin-"));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("defaultCacheDir", () => {
  test("ARIA_CACHE_DIR, then XDG_CACHE_HOME/aria, then ~/.cache/aria", () => {
    expect(defaultCacheDir({ ARIA_CACHE_DIR: "/x/aria", XDG_CACHE_HOME: "/xdg" }, "/home/u")).toBe("/x/aria");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/xdg" }, "/home/u")).toBe("/xdg/aria");
    expect(defaultCacheDir({}, "/home/u")).toBe("/home/u/.cache/aria");
    expect(defaultCacheDir({ ARIA_CACHE_DIR: "", XDG_CACHE_HOME: "" }, "/home/u")).toBe("/home/u/.cache/aria");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "relative" }, "/home/u")).toBe("/home/u/.cache/aria");
  });
});

describe("ensureBuiltinModel", () => {
  test("byte-for-byte deterministic across two cache dirs", async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const [pa, pb] = await Promise.all([ensureBuiltinModel(a), ensureBuiltinModel(b)]);
    expect(pa).toBe(join(a, "models", "aria-tiny-random.gguf"));
    const [ba, bb] = [new Uint8Array(await readFile(pa)), new Uint8Array(await readFile(pb))];
    expect(sha256(ba)).toBe(sha256(bb));
    expect(sha256(ba)).toBe(PINNED_SHA256);
    // No temporary files are left behind.
    expect(await readdir(join(a, "models"))).toEqual(["aria-tiny-random.gguf"]);
  });

  test("reuses a current file, regenerates a truncated or stale one", async () => {
    const dir = await tempDir();
    const path = await ensureBuiltinModel(dir);
    const good = new Uint8Array(await readFile(path));
    const mtime = (await stat(path)).mtimeMs;
    expect(await ensureBuiltinModel(dir)).toBe(path);
    expect((await stat(path)).mtimeMs).toBe(mtime);
    await writeFile(path, good.subarray(0, 1000));
    await ensureBuiltinModel(dir);
    expect(sha256(new Uint8Array(await readFile(path)))).toBe(sha256(good));
    await writeFile(path, good.subarray(0, good.length - 100)); // header fine, data cut short
    await ensureBuiltinModel(dir);
    expect(sha256(new Uint8Array(await readFile(path)))).toBe(sha256(good));
    expect(builtinModelPath(dir)).toBe(path);
  });

  test("content follows docs/builtin-model.md", async () => {
    const bytes = new Uint8Array(await readFile(await ensureBuiltinModel(await tempDir())));
    const file = readGguf(bytes, { fileSize: bytes.length });
    const md = file.metadata;
    const arch = "bitnet-b1.58";
    expect(file.version).toBe(3);
    expect(metaString(md, "general.architecture")).toBe(arch);
    expect(metaString(md, "general.name")).toBe(BUILTIN_MODEL_ID);
    expect(metaInteger(md, "aria.builtin.version")).toBe(BUILTIN_GENERATOR_VERSION);
    const hp = (k: string) => metaInteger(md, `${arch}.${k}`);
    expect([hp("embedding_length"), hp("block_count"), hp("attention.head_count"), hp("attention.head_count_kv")]).toEqual([256, 6, 4, 2]);
    expect([hp("feed_forward_length"), hp("context_length"), hp("rope.dimension_count")]).toEqual([768, 1024, 64]);
    expect(metaFloat(md, `${arch}.rope.freq_base`)).toBe(10000);
    expect(metaFloat(md, `${arch}.attention.layer_norm_rms_epsilon`)).toBe(Math.fround(1e-5));
    expect(metaString(md, "tokenizer.ggml.model")).toBe("gpt2");
    expect(metaString(md, "tokenizer.ggml.pre")).toBe("llama-bpe");
    expect(metaBool(md, "tokenizer.ggml.add_bos_token")).toBe(true);
    expect(hp("vocab_size")).toBe(512);

    // Tensors: 2B-4T names and shapes, F16 embedding, F32 norms, TQ2_0 BitLinears, sequential offsets.
    const byName = new Map(file.tensors.map((t) => [t.name, t]));
    expect(file.tensors.length).toBe(2 + 6 * 11);
    expect(byName.get("token_embd.weight")).toMatchObject({ type: GgmlType.F16, dims: [256, 512] });
    expect(byName.get("output_norm.weight")).toMatchObject({ type: GgmlType.F32, dims: [256] });
    expect(byName.has("output.weight")).toBe(false);
    const shapes: Record<string, [number, number]> = {
      attn_q: [256, 256],
      attn_k: [256, 128],
      attn_v: [256, 128],
      attn_output: [256, 256],
      ffn_gate: [256, 768],
      ffn_up: [256, 768],
      ffn_down: [768, 256],
    };
    for (let l = 0; l < 6; l++) {
      for (const [n, len] of [
        ["attn_norm", 256],
        ["attn_sub_norm", 256],
        ["ffn_norm", 256],
        ["ffn_sub_norm", 768],
      ] as const) {
        expect(byName.get(`blk.${l}.${n}.weight`)).toMatchObject({ type: GgmlType.F32, dims: [len] });
      }
      for (const [n, dims] of Object.entries(shapes)) {
        const t = byName.get(`blk.${l}.${n}.weight`);
        expect(t).toMatchObject({ type: GgmlType.TQ2_0, dims });
        // One d per tensor; values ternary, roughly a third each.
        const { trits, scales } = unpackTq2_0(tensorData(bytes, file, t as NonNullable<typeof t>), dims[0] * dims[1]);
        expect(new Set(scales).size).toBe(1);
        expect(scales[0]).toBeGreaterThan(0);
        const counts = [0, 0, 0];
        for (const v of trits) counts[v + 1] = (counts[v + 1] as number) + 1;
        expect(counts.reduce((a, b) => a + b, 0)).toBe(trits.length);
        for (const c of counts) expect(Math.abs(c / trits.length - 1 / 3)).toBeLessThan(0.02);
      }
    }
    let offset = 0;
    for (const t of file.tensors) {
      expect(t.offset).toBe(offset);
      offset += alignUp(t.nBytes as number, 32);
    }
    expect(bytes.length).toBe(file.dataOffset + offset);

    // Norm weights near 1, embedding finite and small.
    const norm = new Float32Array(
      tensorData(bytes, file, byName.get("blk.0.attn_norm.weight") as NonNullable<ReturnType<typeof byName.get>>).slice().buffer,
    );
    for (const v of norm) expect(Math.abs(v - 1)).toBeLessThanOrEqual(0.1);
  });

  test("tokenizer and chat template from the file", async () => {
    const bytes = new Uint8Array(await readFile(await ensureBuiltinModel(await tempDir())));
    const md = readGguf(bytes).metadata;
    const tok = BpeTokenizer.fromGguf(md);
    expect(tok.vocabSize).toBe(512);
    const special = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];
    expect(special.map((s) => tok.tokenId(s))).toEqual([507, 508, 509, 510, 511]);
    expect(special.every((s) => tok.isControl(tok.tokenId(s) as number))).toBe(true);
    expect(tok.bosId).toBe(507);
    expect(tok.eosId).toBe(508);
    expect([...tok.eosIds].sort()).toEqual([508, 511]);
    const prompt = renderChat(
      chatTemplateOf(md),
      [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello there!" },
      ],
      {
        bosToken: "<|begin_of_text|>",
        eosToken: "<|end_of_text|>",
        addGenerationPrompt: true,
      },
    );
    expect(prompt).toBe("<|begin_of_text|>System: Be brief.<|eot_id|>User: Hello there!<|eot_id|>Assistant: ");
    const ids = tok.encode(prompt, { addBos: false, parseSpecial: true });
    expect(ids[0]).toBe(507);
    expect(ids.filter((i) => i === 511).length).toBe(2);
    expect(tok.decode(ids, { renderSpecial: true })).toBe(prompt);
  });
});
