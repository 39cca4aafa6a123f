/**
 * The llama.cpp oracle model: a small BitNet in llama.cpp's upstream `bitnet` architecture (SiLU
 * gating, per-tensor `.scale` tensors) with TQ2_0 weights and the built-in model's byte-level BPE
 * vocabulary, so that llama.cpp (through node-llama-cpp) and ARIA load the very same file and
 * both tokenizers and both forward passes can be compared. Deterministic: same bytes everywhere.
 *
 * The two engines do not compute bit-identical results: ARIA quantizes a BitLinear's input per
 * token (BitNet's definition), llama.cpp's CPU TQ2_0 path per 256-value block (Q8_K), and llama.cpp
 * also rounds the KV cache and the inputs of its f16 matmuls (attention, head) to f16. The weights
 * are therefore random but shaped like a well-conditioned model, not a chaotic one (ORACLE_GAINS).
 */

import { trainBpe } from "../../agent/src/model/bpe-trainer.ts";
import { BUILTIN_SHAPE, BUILTIN_SPECIAL_TOKENS } from "../../agent/src/model/builtin-model.ts";
import { BUILTIN_CORPUS } from "../../agent/src/model/corpus.ts";
import { Prng, seedFromString } from "../../agent/src/model/prng.ts";
import { GgmlType, GgufValueType } from "../../shared/gguf/constants.ts";
import { f32ToF16, roundToF16 } from "../../shared/gguf/f16.ts";
import { type GgufValue, gv } from "../../shared/gguf/metadata.ts";
import { packTernaryTq2_0 } from "../../shared/gguf/tq2-0.ts";
import { type GgufTensorInput, writeGguf } from "../../shared/gguf/writer.ts";
import { tokenTextToBytes } from "../../shared/tokenizer/byte-encoding.ts";
import { DEFAULT_BITNET_CHAT_TEMPLATE } from "../../shared/tokenizer/chat-template.ts";
import { TokenType } from "../../shared/tokenizer/tokenizer.ts";

const NAME = "aria-oracle";

/**
 * Shape. n_embd = n_head · head_dim is required by llama.cpp's `bitnet` loader (attn_q and
 * attn_sub_norm are {n_embd, n_embd} and {n_embd}). 512 = two Q8_K blocks and n_ff = 1536 = six,
 * so llama.cpp's per-block activation scales really differ from ARIA's per-token one on every
 * BitLinear (at n_embd = 256 they would coincide for all but ffn_down).
 */
export const ORACLE_SHAPE = {
  nEmbd: 512,
  nLayer: 4,
  nHead: 8,
  nHeadKv: 4,
  headDim: 64,
  nFf: 1536,
  nCtx: 512,
  ropeBase: 10000,
  rmsEps: 1e-5,
} as const;

/** Gains and spreads of the oracle weights (see {@link ORACLE_GAINS}). */
export interface OracleGains {
  /** Output RMS of each BitLinear for a unit-RMS input: d = gain / sqrt(fan_in · nonzero share). */
  readonly q: number;
  readonly k: number;
  readonly v: number;
  readonly attnOut: number;
  readonly gate: number;
  readonly up: number;
  readonly ffnDown: number;
  /** Std of token_embd (also the tied head). */
  readonly embedding: number;
  /** Norm weights are 1 ± normJitter. */
  readonly normJitter: number;
  /** Layers [0, copyLayers) have copy heads: attn_v and attn_output are coordinate selections. */
  readonly copyLayers: number;
}

/**
 * Why these values (measured with node-llama-cpp 3.21.1's prebuilt llama.cpp CPU build on an
 * AVX-512 EPYC; the figures are in llama-cpp.test.ts):
 *
 * With all weights random, logits are Gaussian over the 512 tokens: the top two are typically only
 * ~0.1–0.3 σ apart, and the engines' honest numeric difference — mostly the per-block vs per-token
 * int8 scales on the heavy-tailed SiLU·up input of ffn_down, ≈1 % of each BitLinear's output —
 * flips 5–13 % of the argmaxes (agreement 87–95 %, worse with sharper attention or larger residual
 * updates). A trained LM is not like that: its top token usually stands clear of the rest.
 *
 * So the first two layers get *copy heads*, a circuit trained LMs really have: attn_v selects
 * input coordinates and attn_output writes each query head's mix of them back onto the same
 * coordinates, so the residual stream holds a mixture of embeddings of attended tokens and their
 * logits stand out (median top-2 margin ≈ 2, vs ≈ 0.5 with random V/O). q and k stay random (gain
 * 2: attention picks a few positions, through RoPE, without being one-hot), the last two layers
 * are fully random, and the residual updates are moderate (attn_output 0.5, ffn_down 0.25 against
 * unit-RMS layer outputs and an embedding std of 0.1) so no layer amplifies the previous ones'
 * differences. The next token then depends on the context (≈ 44 distinct argmax tokens over 384
 * positions, ≈ 18 % equal to the input token) and the engines agree on ≈ 99 % of positions.
 */
export const ORACLE_GAINS: OracleGains = {
  q: 2,
  k: 1,
  v: 1,
  attnOut: 0.5,
  gate: 1,
  up: 1,
  ffnDown: 0.25,
  embedding: 0.1,
  normJitter: 0.1,
  copyLayers: 2,
};

/** The built-in model's vocabulary (256 bytes + learned merges + 5 control tokens) and merges. */
export function oracleVocabulary(): { tokens: string[]; types: number[]; merges: readonly string[] } {
  const { vocab, merges } = trainBpe(BUILTIN_CORPUS, { targetMerges: BUILTIN_SHAPE.nMerges });
  const tokens = [...vocab, ...BUILTIN_SPECIAL_TOKENS];
  const types = tokens.map((_, i) => (i < vocab.length ? TokenType.NORMAL : TokenType.CONTROL));
  return { tokens, types, merges };
}

/** A vocabulary with its tokenizer keys: byte-level BPE (the built-in one) or SentencePiece. */
export interface OracleVocabulary {
  readonly tokens: readonly string[];
  readonly types: readonly number[];
  /** The `tokenizer.ggml.*` keys besides tokens and token_type. */
  readonly keys: [string, GgufValue][];
}

function bpeVocabulary(): OracleVocabulary {
  const { tokens, types, merges } = oracleVocabulary();
  const idOf = (t: string) => tokens.indexOf(t);
  return {
    tokens,
    types,
    keys: [
      ["tokenizer.ggml.model", gv.str("gpt2")],
      ["tokenizer.ggml.pre", gv.str("llama-bpe")],
      ["tokenizer.ggml.merges", gv.strings(merges)],
      ["tokenizer.ggml.bos_token_id", gv.u32(idOf("<|begin_of_text|>"))],
      ["tokenizer.ggml.eos_token_id", gv.u32(idOf("<|end_of_text|>"))],
      ["tokenizer.ggml.padding_token_id", gv.u32(idOf("<|end_of_text|>"))],
      ["tokenizer.ggml.add_bos_token", gv.bool(true)],
      ["tokenizer.chat_template", gv.str(DEFAULT_BITNET_CHAT_TEMPLATE)],
    ],
  };
}

/**
 * A LLaMA-2-shaped SentencePiece vocabulary learned from the built-in corpus, laid out like
 * bitnet_b1_58-large's: `<unk>` `<s>` `</s>`, the 256 `<0xXX>` byte tokens, the pieces (spaces as
 * "▁", score = −merge rank so frequent merges win), then `<pad>` and `</line>` appended. No
 * chat template and no add_space_prefix key (llama.cpp's default, true, applies), as in the
 * published files.
 */
export function oracleSpmVocabulary(): OracleVocabulary {
  const { vocab } = trainBpe(BUILTIN_CORPUS, { targetMerges: BUILTIN_SHAPE.nMerges });
  const strict = new TextDecoder("utf-8", { fatal: true });
  const tokens = ["<unk>", "<s>", "</s>"];
  const types: number[] = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL];
  const scores = [0, 0, 0];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TokenType.BYTE);
    scores.push(0);
  }
  const seen = new Set(tokens);
  const add = (piece: string, score: number) => {
    if (piece.length === 0 || seen.has(piece)) return;
    seen.add(piece);
    tokens.push(piece);
    types.push(TokenType.NORMAL);
    scores.push(score);
  };
  // Single characters first (never the result of a merge, so their scores do not matter).
  for (const ch of new Set(Array.from(BUILTIN_CORPUS.replaceAll(" ", "\u2581")))) if (ch !== "\n") add(ch, -1e6);
  vocab.forEach((text, rank) => {
    const bytes = tokenTextToBytes(text);
    if (!bytes) return;
    let piece: string;
    try {
      piece = strict.decode(bytes);
    } catch {
      return; // part of a UTF-8 sequence: no SentencePiece piece
    }
    // LLaMA-2 writes newlines and other control characters as byte tokens (and llama.cpp reads a
    // token text only up to a NUL).
    if (/[\u0000-\u001f]/.test(piece)) return;
    add(piece.replaceAll(" ", "\u2581"), -rank);
  });
  tokens.push("<pad>", "</line>");
  types.push(TokenType.CONTROL, TokenType.USER_DEFINED);
  scores.push(0, 0);
  return {
    tokens,
    types,
    keys: [
      ["tokenizer.ggml.model", gv.str("llama")],
      ["tokenizer.ggml.scores", gv.array(GgufValueType.FLOAT32, Float32Array.from(scores))],
      ["tokenizer.ggml.bos_token_id", gv.u32(1)],
      ["tokenizer.ggml.eos_token_id", gv.u32(2)],
      ["tokenizer.ggml.unknown_token_id", gv.u32(0)],
      ["tokenizer.ggml.padding_token_id", gv.u32(tokens.length - 2)],
      ["tokenizer.ggml.add_bos_token", gv.bool(true)],
      ["tokenizer.ggml.add_eos_token", gv.bool(false)],
    ],
  };
}

function rngFor(tensorName: string): Prng {
  return new Prng(seedFromString(`${NAME}/${tensorName}`));
}

function f32Tensor(name: string, values: ArrayLike<number>, dims: number[]): GgufTensorInput {
  const data = new Uint8Array(4 * values.length);
  const view = new DataView(data.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i]!, true);
  return { name, type: GgmlType.F32, dims, data };
}

function normTensor(name: string, n: number, jitter: number): GgufTensorInput {
  const r = rngFor(name);
  const w = Array.from({ length: n }, () => 1 + jitter * (2 * r.nextFloat() - 1));
  return f32Tensor(name, w, [n]);
}

function embeddingTensor(nEmbd: number, nVocab: number, std: number): GgufTensorInput {
  const name = "token_embd.weight";
  const r = rngFor(name);
  const data = new Uint8Array(nEmbd * nVocab * 2);
  const view = new DataView(data.buffer);
  for (let i = 0; i < nEmbd * nVocab; i++) view.setUint16(2 * i, f32ToF16(std * r.nextNormalish()), true);
  return { name, type: GgmlType.F16, dims: [nEmbd, nVocab], data };
}

/**
 * A BitLinear weight {fanIn, fanOut}: uniform random ternary values, or `pattern(row, col)` for a
 * structured one (row = output feature). The per-tensor scale either sits
 * in every TQ2_0 block's d (as llama.cpp's quantizer writes pre-ternarized weights) or, with
 * `scaleTensor`, in a separate `.scale` F32 {1} tensor with d = 1 — both `bitnet` layouts.
 */
function bitLinear(
  layer: number,
  base: string,
  fanIn: number,
  fanOut: number,
  gain: number,
  scaleTensor: boolean,
  pattern?: (row: number, col: number) => number,
): GgufTensorInput[] {
  const name = `blk.${layer}.${base}.weight`;
  const r = rngFor(name);
  const n = fanIn * fanOut;
  const trits = new Int8Array(n);
  let nonzero = 0;
  for (let i = 0; i < n; i++) {
    const t = pattern ? pattern(Math.floor(i / fanIn), i % fanIn) : r.nextInt(3) - 1;
    trits[i] = t;
    if (t !== 0) nonzero++;
  }
  const scale = roundToF16(gain / Math.sqrt(fanIn * (nonzero / n)));
  const weight: GgufTensorInput = {
    name,
    type: GgmlType.TQ2_0,
    dims: [fanIn, fanOut],
    data: packTernaryTq2_0(trits, scaleTensor ? 1 : scale),
  };
  return scaleTensor ? [weight, f32Tensor(`blk.${layer}.${base}.scale`, [scale], [1])] : [weight];
}

/**
 * `bitnet`: sub-norms, and `.scale` tensors on even layers. `llama` (a ternary Llama as bitnet.cpp
 * writes Llama3-8B-1.58 and Falcon3-1.58bit): no sub-norms, scales inside the weights.
 */
export type OracleArch = "bitnet" | "llama";

function tensors(nVocab: number, g: OracleGains, arch: OracleArch): GgufTensorInput[] {
  const s = ORACLE_SHAPE;
  const kvDim = s.nHeadKv * s.headDim;
  const group = s.nHead / s.nHeadKv;
  // Copy heads: kv head k's values are input coordinates [k·group·headDim, +headDim), and the
  // query heads of its group write their mixes back onto those coordinates (summed).
  const copyV = (row: number, col: number) => (col === Math.floor(row / s.headDim) * group * s.headDim + (row % s.headDim) ? 1 : 0);
  const copyO = (row: number, col: number) => {
    const h = Math.floor(col / s.headDim);
    const target = Math.floor(h / group) * group * s.headDim + (col % s.headDim);
    return row === target ? 1 : 0;
  };
  const out: GgufTensorInput[] = [embeddingTensor(s.nEmbd, nVocab, g.embedding)];
  for (let l = 0; l < s.nLayer; l++) {
    const p = `blk.${l}.`;
    // bitnet: even layers carry .scale tensors, odd layers keep the scale in d.
    const sc = arch === "bitnet" && l % 2 === 0;
    const subNorm = (name: string, n: number) => (arch === "bitnet" ? [normTensor(`${p}${name}.weight`, n, g.normJitter)] : []);
    out.push(
      normTensor(`${p}attn_norm.weight`, s.nEmbd, g.normJitter),
      ...bitLinear(l, "attn_q", s.nEmbd, s.nEmbd, g.q, sc),
      ...bitLinear(l, "attn_k", s.nEmbd, kvDim, g.k, sc),
      ...bitLinear(l, "attn_v", s.nEmbd, kvDim, g.v, sc, l < g.copyLayers ? copyV : undefined),
      ...subNorm("attn_sub_norm", s.nEmbd),
      ...bitLinear(l, "attn_output", s.nEmbd, s.nEmbd, g.attnOut, sc, l < g.copyLayers ? copyO : undefined),
      normTensor(`${p}ffn_norm.weight`, s.nEmbd, g.normJitter),
      ...bitLinear(l, "ffn_gate", s.nEmbd, s.nFf, g.gate, sc),
      ...bitLinear(l, "ffn_up", s.nEmbd, s.nFf, g.up, sc),
      ...subNorm("ffn_sub_norm", s.nFf),
      ...bitLinear(l, "ffn_down", s.nFf, s.nEmbd, g.ffnDown, sc),
    );
  }
  out.push(normTensor("output_norm.weight", s.nEmbd, g.normJitter));
  return out;
}

function metadata(v: OracleVocabulary, arch: OracleArch): [string, GgufValue][] {
  const s = ORACLE_SHAPE;
  // Exactly the key types llama.cpp checks: u32 counts, f32 epsilon/base, u32 token ids, bool.
  return [
    ["general.architecture", gv.str(arch)],
    ["general.name", gv.str(NAME)],
    [`${arch}.vocab_size`, gv.u32(v.tokens.length)],
    [`${arch}.context_length`, gv.u32(s.nCtx)],
    [`${arch}.embedding_length`, gv.u32(s.nEmbd)],
    [`${arch}.block_count`, gv.u32(s.nLayer)],
    [`${arch}.feed_forward_length`, gv.u32(s.nFf)],
    [`${arch}.rope.dimension_count`, gv.u32(s.headDim)],
    [`${arch}.attention.head_count`, gv.u32(s.nHead)],
    [`${arch}.attention.head_count_kv`, gv.u32(s.nHeadKv)],
    [`${arch}.attention.layer_norm_rms_epsilon`, gv.f32(s.rmsEps)],
    [`${arch}.rope.freq_base`, gv.f32(s.ropeBase)],
    [`${arch}.rope.scaling.type`, gv.str("linear")],
    [`${arch}.rope.scaling.factor`, gv.f32(1)],
    ["general.file_type", gv.u32(37)], // LLAMA_FTYPE_MOSTLY_TQ2_0
    ["general.quantization_version", gv.u32(2)],
    ["tokenizer.ggml.tokens", gv.strings(v.tokens)],
    ["tokenizer.ggml.token_type", gv.array(GgufValueType.INT32, Int32Array.from(v.types))],
    ...v.keys,
  ];
}

/**
 * The oracle model's GGUF bytes (about 3 MB).
 * @example await Bun.write(path, buildOracleModel())
 */
export function buildOracleModel(
  gains: OracleGains = ORACLE_GAINS,
  vocabulary: "bpe" | "spm" = "bpe",
  arch: OracleArch = "bitnet",
): Uint8Array {
  return writeGguf(oracleModelParts(gains, vocabulary, arch));
}

/** The oracle model's metadata and tensors, for tests that change a part before writing. */
export function oracleModelParts(
  gains: OracleGains,
  vocabulary: "bpe" | "spm",
  arch: OracleArch,
): { metadata: [string, GgufValue][]; tensors: GgufTensorInput[] } {
  const v = vocabulary === "spm" ? oracleSpmVocabulary() : bpeVocabulary();
  return { metadata: metadata(v, arch), tensors: tensors(v.tokens.length, gains, arch) };
}
