/**
 * The layouts of the GGUF files users download for each BitNet family, as their converters write
 * them (docs/models.md, "Families"): architecture, metadata keys and their types, tensor names,
 * types and shapes, vocabulary kind and size. Weights are generated, so a file can be written at
 * the published shape (sparse: only the tensors a test reads hold data) or at a small shape with
 * every key, name and type unchanged.
 */
import { closeSync, ftruncateSync, openSync, renameSync, writeSync } from "node:fs";
import { Prng, seedFromString } from "../../agent/src/model/prng.ts";
import { syntheticVocabulary } from "../../benchmarks/kernels/synthetic-model.ts";
import { GgmlType, GgufValueType } from "../../shared/gguf/constants.ts";
import { f32ToF16 } from "../../shared/gguf/f16.ts";
import { type GgufValue, gv } from "../../shared/gguf/metadata.ts";
import { type GgufTensorSpec, writeGgufHeader } from "../../shared/gguf/writer.ts";
import { DEFAULT_BITNET_CHAT_TEMPLATE } from "../../shared/tokenizer/chat-template.ts";
import { TokenType } from "../../shared/tokenizer/tokenizer.ts";
import { oracleSpmVocabulary } from "../oracle/oracle-model.ts";

export interface FamilyShape {
  nVocab: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  nCtx: number;
}

export interface FamilyLayout {
  /** The published model (its repository name). */
  readonly model: string;
  readonly arch: "bitnet-b1.58" | "bitnet" | "llama";
  readonly generalName: string;
  readonly shape: FamilyShape;
  /** A small shape with the same key set, names and types (MHA/GQA ratio kept; sizes multiples of 128 as I2_S needs). */
  readonly small: FamilyShape;
  readonly ropeBase: number;
  readonly rmsEps: number;
  readonly vocabulary: "llama3-bpe" | "llama2-spm" | "falcon3-bpe";
  /** `output.weight` (F16) present, or the head tied to the F16 embedding. */
  readonly untiedHead: boolean;
  /** bitnet.cpp's `bitnet` converter writes linear RoPE scaling with factor 1. */
  readonly ropeScalingKeys: boolean;
  /** `<arch>.rope.dimension_count` written (llama and 2B-4T converters; not `bitnet`). */
  readonly ropeDimensionKey: boolean;
}

export const FAMILIES: readonly FamilyLayout[] = [
  {
    model: "microsoft/bitnet-b1.58-2B-4T-gguf",
    arch: "bitnet-b1.58",
    generalName: "bitnet2b",
    shape: { nVocab: 128256, nEmbd: 2560, nLayer: 30, nHead: 20, nHeadKv: 5, nFf: 6912, nCtx: 4096 },
    small: { nVocab: 1024, nEmbd: 512, nLayer: 2, nHead: 4, nHeadKv: 1, nFf: 1024, nCtx: 256 },
    ropeBase: 500000,
    rmsEps: 1e-5,
    vocabulary: "llama3-bpe",
    untiedHead: false,
    ropeScalingKeys: false,
    ropeDimensionKey: true,
  },
  {
    model: "1bitLLM/bitnet_b1_58-large",
    arch: "bitnet",
    generalName: "bitnet_b1_58-large",
    shape: { nVocab: 32002, nEmbd: 1536, nLayer: 24, nHead: 16, nHeadKv: 16, nFf: 4096, nCtx: 2048 },
    small: { nVocab: 1024, nEmbd: 384, nLayer: 2, nHead: 4, nHeadKv: 4, nFf: 1024, nCtx: 256 },
    ropeBase: 10000,
    rmsEps: 1e-5,
    vocabulary: "llama2-spm",
    untiedHead: false,
    ropeScalingKeys: true,
    ropeDimensionKey: false,
  },
  {
    model: "1bitLLM/bitnet_b1_58-3B",
    arch: "bitnet",
    generalName: "bitnet_b1_58-3B",
    shape: { nVocab: 32002, nEmbd: 3200, nLayer: 26, nHead: 32, nHeadKv: 32, nFf: 8640, nCtx: 2048 },
    // n_ff 8640 (and 1216 here) is not a multiple of I2_S's 128: ffn_down stays F16 (below).
    small: { nVocab: 1024, nEmbd: 640, nLayer: 2, nHead: 4, nHeadKv: 4, nFf: 1216, nCtx: 256 },
    ropeBase: 10000,
    rmsEps: 1e-5,
    vocabulary: "llama2-spm",
    untiedHead: false,
    ropeScalingKeys: true,
    ropeDimensionKey: false,
  },
  {
    model: "HF1BitLLM/Llama3-8B-1.58-100B-tokens",
    arch: "llama",
    generalName: "Llama3-8B-1.58-100B-tokens",
    shape: { nVocab: 128256, nEmbd: 4096, nLayer: 32, nHead: 32, nHeadKv: 8, nFf: 14336, nCtx: 8192 },
    small: { nVocab: 1024, nEmbd: 512, nLayer: 2, nHead: 4, nHeadKv: 1, nFf: 1792, nCtx: 256 },
    ropeBase: 500000,
    rmsEps: 1e-5,
    vocabulary: "llama3-bpe",
    untiedHead: true,
    ropeScalingKeys: false,
    ropeDimensionKey: true,
  },
  {
    model: "tiiuae/Falcon3-1B-Instruct-1.58bit",
    arch: "llama",
    generalName: "Falcon3-1B-Instruct-1.58bit",
    shape: { nVocab: 131072, nEmbd: 2048, nLayer: 18, nHead: 8, nHeadKv: 4, nFf: 8192, nCtx: 8192 },
    small: { nVocab: 1024, nEmbd: 512, nLayer: 2, nHead: 2, nHeadKv: 1, nFf: 1024, nCtx: 256 },
    ropeBase: 1000042,
    rmsEps: 1e-6,
    vocabulary: "falcon3-bpe",
    untiedHead: true,
    ropeScalingKeys: false,
    ropeDimensionKey: true,
  },
];

/** bitnet.cpp's LLAMA_FTYPE_MOSTLY_I2_S: every family's published file is I2_S. */
const FILE_TYPE_I2_S = 40;
/** The score the `bitnet` converter gives tokens from added_tokens.json (`<pad>`, `</line>`). */
const ADDED_TOKEN_SCORE = -1000;

function vocabularyKeys(f: FamilyLayout, nVocab: number): [string, GgufValue][] {
  if (f.vocabulary === "llama2-spm") {
    // LLaMA-2 layout: pieces, [PADn] fillers (UNUSED), then the added <pad> and </line>.
    const base = oracleSpmVocabulary();
    const pieces = base.tokens.slice(0, base.tokens.length - 2);
    const types = base.types.slice(0, pieces.length);
    const scores = Array.from({ length: pieces.length }, (_, i) => (i < 259 ? 0 : -i));
    const tokens = [...pieces];
    for (let i = 1; tokens.length < nVocab - 2; i++) {
      tokens.push(`[PAD${i}]`);
      types.push(TokenType.UNUSED);
      scores.push(-1e9);
    }
    tokens.push("<pad>", "</line>");
    types.push(TokenType.USER_DEFINED, TokenType.USER_DEFINED);
    scores.push(ADDED_TOKEN_SCORE, ADDED_TOKEN_SCORE);
    return [
      ["tokenizer.ggml.model", gv.str("llama")],
      ["tokenizer.ggml.pre", gv.str("default")],
      ["tokenizer.ggml.tokens", gv.strings(tokens)],
      ["tokenizer.ggml.scores", gv.array(GgufValueType.FLOAT32, Float32Array.from(scores))],
      ["tokenizer.ggml.token_type", gv.array(GgufValueType.INT32, Int32Array.from(types))],
      ["tokenizer.ggml.bos_token_id", gv.u32(1)],
      ["tokenizer.ggml.eos_token_id", gv.u32(2)],
      ["tokenizer.ggml.unknown_token_id", gv.u32(0)],
      ["tokenizer.ggml.padding_token_id", gv.u32(nVocab - 2)],
      ["tokenizer.ggml.add_bos_token", gv.bool(true)],
      ["tokenizer.ggml.add_eos_token", gv.bool(false)],
    ];
  }
  const v = syntheticVocabulary(nVocab);
  const id = (t: string) => v.tokens.indexOf(t, nVocab - 256);
  const keys: [string, GgufValue][] = [
    ["tokenizer.ggml.model", gv.str("gpt2")],
    ["tokenizer.ggml.tokens", gv.strings(v.tokens)],
    ["tokenizer.ggml.token_type", gv.array(GgufValueType.INT32, Int32Array.from(v.types))],
    ["tokenizer.ggml.merges", gv.strings(v.merges)],
    ["tokenizer.ggml.bos_token_id", gv.u32(id("<|begin_of_text|>"))],
    ["tokenizer.ggml.eos_token_id", gv.u32(id("<|end_of_text|>"))],
  ];
  // The official 2B-4T file has no pre key (docs/bitnet-format.md §2.2); llama ones name theirs.
  if (f.arch === "llama") keys.push(["tokenizer.ggml.pre", gv.str(f.vocabulary === "falcon3-bpe" ? "falcon3" : "llama-bpe")]);
  if (f.arch === "bitnet-b1.58") keys.push(["tokenizer.ggml.scores", gv.array(GgufValueType.FLOAT32, new Float32Array(nVocab))]);
  keys.push(["tokenizer.ggml.padding_token_id", gv.u32(id("<|end_of_text|>"))], ["tokenizer.ggml.add_bos_token", gv.bool(true)]);
  if (f.arch === "bitnet-b1.58") keys.push(["tokenizer.chat_template", gv.str(DEFAULT_BITNET_CHAT_TEMPLATE)]);
  return keys;
}

function metadata(f: FamilyLayout, s: FamilyShape): [string, GgufValue][] {
  const a = f.arch;
  const keys: [string, GgufValue][] = [
    ["general.architecture", gv.str(a)],
    ["general.name", gv.str(f.generalName)],
    [`${a}.vocab_size`, gv.u32(s.nVocab)],
    [`${a}.context_length`, gv.u32(s.nCtx)],
    [`${a}.embedding_length`, gv.u32(s.nEmbd)],
    [`${a}.block_count`, gv.u32(s.nLayer)],
    [`${a}.feed_forward_length`, gv.u32(s.nFf)],
    [`${a}.attention.head_count`, gv.u32(s.nHead)],
    [`${a}.attention.head_count_kv`, gv.u32(s.nHeadKv)],
    [`${a}.attention.layer_norm_rms_epsilon`, gv.f32(f.rmsEps)],
    [`${a}.rope.freq_base`, gv.f32(f.ropeBase)],
  ];
  if (f.ropeDimensionKey) keys.push([`${a}.rope.dimension_count`, gv.u32(s.nEmbd / s.nHead)]);
  if (f.ropeScalingKeys) keys.push([`${a}.rope.scaling.type`, gv.str("linear")], [`${a}.rope.scaling.factor`, gv.f32(1)]);
  keys.push(["general.file_type", gv.u32(FILE_TYPE_I2_S)], ["general.quantization_version", gv.u32(2)]);
  return [...keys, ...vocabularyKeys(f, s.nVocab)];
}

/** Tensor names, types and shapes, in the converters' order. */
export function familyTensors(f: FamilyLayout, s: FamilyShape): GgufTensorSpec[] {
  const kv = (s.nEmbd / s.nHead) * s.nHeadKv;
  // Rows whose length is not a multiple of I2_S's 128-element block cannot be I2_S: quantizers
  // leave such a tensor (bitnet_b1_58-3B's ffn_down, 8640 wide) in F16.
  const i2s = (name: string, fanIn: number, fanOut: number) => ({
    name,
    type: fanIn % 128 === 0 ? GgmlType.I2_S : GgmlType.F16,
    dims: [fanIn, fanOut],
  });
  const norm = (name: string, n: number) => ({ name, type: GgmlType.F32, dims: [n] });
  const out: GgufTensorSpec[] = [{ name: "token_embd.weight", type: GgmlType.F16, dims: [s.nEmbd, s.nVocab] }];
  const subNorms = f.arch !== "llama";
  for (let l = 0; l < s.nLayer; l++) {
    const p = `blk.${l}.`;
    out.push(
      norm(`${p}attn_norm.weight`, s.nEmbd),
      i2s(`${p}attn_q.weight`, s.nEmbd, s.nEmbd),
      i2s(`${p}attn_k.weight`, s.nEmbd, kv),
      i2s(`${p}attn_v.weight`, s.nEmbd, kv),
      ...(subNorms ? [norm(`${p}attn_sub_norm.weight`, s.nEmbd)] : []),
      i2s(`${p}attn_output.weight`, s.nEmbd, s.nEmbd),
      norm(`${p}ffn_norm.weight`, s.nEmbd),
      i2s(`${p}ffn_gate.weight`, s.nEmbd, s.nFf),
      i2s(`${p}ffn_up.weight`, s.nEmbd, s.nFf),
      ...(subNorms ? [norm(`${p}ffn_sub_norm.weight`, s.nFf)] : []),
      i2s(`${p}ffn_down.weight`, s.nFf, s.nEmbd),
    );
  }
  out.push(norm("output_norm.weight", s.nEmbd));
  if (f.untiedHead) out.push({ name: "output.weight", type: GgmlType.F16, dims: [s.nEmbd, s.nVocab] });
  return out;
}

/** Every generated I2_S tensor's scale, and its 32-byte tail. */
const I2_S_SCALE = 0.02;
const I2_S_TAIL = new Uint8Array(32);
new DataView(I2_S_TAIL.buffer).setFloat32(0, I2_S_SCALE, true);

/** Generated bytes for one tensor: norms ≈ 1, F16 ≈ N(0, 0.05), I2_S random codes and scale 0.02. */
function tensorBytes(spec: GgufTensorSpec, nBytes: number): Uint8Array {
  const r = new Prng(seedFromString(`family/${spec.name}`));
  const data = new Uint8Array(nBytes);
  const view = new DataView(data.buffer);
  if (spec.type === GgmlType.F32) {
    for (let i = 0; i < nBytes / 4; i++) view.setFloat32(4 * i, 1 + 0.05 * (r.nextFloat() - 0.5), true);
  } else if (spec.type === GgmlType.F16) {
    // A random 64 KiB block repeated: big embeddings are written fast and still look random per row.
    const block = Math.min(nBytes, 65536);
    for (let i = 0; i < block / 2; i++) view.setUint16(2 * i, f32ToF16(0.05 * r.nextNormalish()), true);
    for (let at = block; at < nBytes; at += block) data.copyWithin(at, 0, Math.min(block, nBytes - at));
  } else {
    const packed = nBytes - 32; // I2_S: n/4 bytes of codes (0, 1, 2 in each 2-bit lane), then the f32 scale
    const block = Math.min(packed, 4096);
    for (let i = 0; i < block; i++) data[i] = r.nextInt(3) | (r.nextInt(3) << 2) | (r.nextInt(3) << 4) | (r.nextInt(3) << 6);
    for (let at = block; at < packed; at += block) data.copyWithin(at, 0, Math.min(block, packed - at));
    data.set(I2_S_TAIL, packed);
  }
  return data;
}

/**
 * Writes a family's file at `shape`; only tensors `holdsData` accepts get all their bytes (norms
 * and I2_S scales always), the rest stay a hole (zeros, no disk blocks), so a published-size file
 * costs what its written tensors cost.
 * Returns the file's size.
 */
export function writeFamilyFile(
  f: FamilyLayout,
  shape: FamilyShape,
  path: string,
  holdsData: (name: string) => boolean = () => true,
): number {
  const specs = familyTensors(f, shape);
  const { header, tensors, dataBytes } = writeGgufHeader(metadata(f, shape), specs);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    writeSync(fd, header, 0, header.length, 0);
    const put = (bytes: Uint8Array, at: number) => {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, at + done);
    };
    specs.forEach((spec, i) => {
      const { offset, nBytes } = tensors[i]!;
      if (holdsData(spec.name) || spec.type === GgmlType.F32) put(tensorBytes(spec, nBytes), header.length + offset);
      // Loaders check every layer's norms and I2_S scales whatever range they load: those are
      // always written (a few bytes a tensor), the codes only where asked.
      else if (spec.type === GgmlType.I2_S) put(I2_S_TAIL, header.length + offset + nBytes - 32);
    });
    ftruncateSync(fd, header.length + dataBytes);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return header.length + dataBytes;
}
