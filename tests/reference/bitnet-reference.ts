/**
 * Reference BitNet b1.58 forward pass, written from docs/bitnet-format.md §1.2–1.5 (not
 * from the C engine) and kept deliberately plain: Float64 everywhere, one token at a time with a
 * KV cache, llama2.c-style loops. It is the yardstick the C kernels are compared against, so
 * clarity wins over speed.
 *
 * Per token: h = Embed[token]; for each layer
 *   a = RMSNorm(h; attn_norm); q, k, v = BitLinear(a); NeoX RoPE on q, k; k, v rounded to
 *   binary16 into the cache K, V; o = Attention(q, K, V)
 *   h += BitLinear_o(RMSNorm(o; attn_sub_norm))
 *   f = RMSNorm(h; ffn_norm); m = act(BitLinear_gate(f)) · BitLinear_up(f)
 *   h += BitLinear_down(RMSNorm(m; ffn_sub_norm))
 * logits = Head · RMSNorm(h; output_norm), Head = output.weight or the tied token_embd.
 * BitLinear(x): per-row int8 absmax quantization of x (round half to even), exact integer dot
 * products per weight block, times the block's scale, divided by the activation scale.
 */
import { GgmlType } from "../../shared/gguf/constants.ts";
import { bf16ToF32, f16ToF32, roundToF16 } from "../../shared/gguf/f16.ts";
import { metaFloat, metaInteger } from "../../shared/gguf/metadata.ts";
import { findTensor, type GgufFile, type GgufTensorInfo, readGguf, tensorData } from "../../shared/gguf/reader.ts";
import { unpackTq2_0 } from "../../shared/gguf/tq2-0.ts";

/** Hyperparameters read from the file. */
export interface ReferenceHparams {
  readonly arch: string;
  readonly nVocab: number;
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly headDim: number;
  readonly nFf: number;
  readonly nRot: number;
  readonly ropeBase: number;
  readonly eps: number;
  /** relu² for bitnet-b1.58 / bitnet-25 (2B-4T); SiLU for the upstream `bitnet` arch (1bitLLM). */
  readonly act: "relu2" | "silu";
}

/**
 * A ternary (or float) matrix [rows = ne1][cols = ne0] stored as per-element multipliers `q` and
 * one scale per block of `blockSize` columns: W[r][c] = q[r·cols + c] · scale[r·(cols/blockSize) + c/blockSize].
 */
interface BlockMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly blockSize: number;
  readonly q: Int8Array | Float64Array;
  readonly scale: Float64Array;
}

interface Layer {
  readonly attnNorm: Float64Array;
  readonly wq: BlockMatrix;
  readonly wk: BlockMatrix;
  readonly wv: BlockMatrix;
  readonly attnSubNorm: Float64Array;
  readonly wo: BlockMatrix;
  readonly ffnNorm: Float64Array;
  readonly wGate: BlockMatrix;
  readonly wUp: BlockMatrix;
  readonly ffnSubNorm: Float64Array;
  readonly wDown: BlockMatrix;
}

function fail(message: string): never {
  throw new Error(`reference: ${message}`);
}

/** Any float tensor as Float64 values in storage order. */
function floats(bytes: Uint8Array, file: GgufFile, t: GgufTensorInfo): Float64Array {
  const data = tensorData(bytes, file, t);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float64Array(t.nElements);
  for (let i = 0; i < t.nElements; i++) {
    if (t.type === GgmlType.F32) out[i] = view.getFloat32(4 * i, true);
    else if (t.type === GgmlType.F16) out[i] = f16ToF32(view.getUint16(2 * i, true));
    else if (t.type === GgmlType.BF16) out[i] = bf16ToF32(view.getUint16(2 * i, true));
    else fail(`tensor ${t.name} has type ${t.typeInfo?.name ?? t.type}; expected F32, F16 or BF16`);
  }
  return out;
}

/** I2_S (docs/bitnet-format.md §3.3): 2-bit codes 0,1,2 -> -1,0,+1 in 128-element blocks of 32 bytes, f32 scale after the codes. */
function unpackI2S(data: Uint8Array, n: number): { q: Int8Array; scale: number } {
  const q = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const block = Math.floor(i / 128);
    const j = i % 128;
    const byte = data[block * 32 + (j % 32)] as number;
    const code = (byte >> (6 - 2 * Math.floor(j / 32))) & 3;
    q[i] = code === 0 ? -1 : code === 2 ? 1 : 0; // 3 is unused and decodes to 0
  }
  const scale = new DataView(data.buffer, data.byteOffset + n / 4, 4).getFloat32(0, true);
  return { q, scale };
}

function matrix(bytes: Uint8Array, file: GgufFile, name: string, cols: number, rows: number): BlockMatrix {
  const t = findTensor(file, name) ?? fail(`missing tensor ${name}`);
  if (t.dims[0] !== cols || (t.dims[1] ?? 1) !== rows) fail(`${name} has shape [${t.dims}], expected [${cols}, ${rows}]`);
  const n = rows * cols;
  if (t.type === GgmlType.TQ2_0) {
    const { trits, scales } = unpackTq2_0(tensorData(bytes, file, t), n);
    return { rows, cols, blockSize: 256, q: trits, scale: Float64Array.from(scales) };
  }
  if (t.type === GgmlType.I2_S && t.typeInfo?.name === "I2_S") {
    const { q, scale } = unpackI2S(tensorData(bytes, file, t), n);
    return { rows, cols, blockSize: cols, q, scale: new Float64Array(rows).fill(scale) };
  }
  // Unquantized weights already hold the effective values W' (ternary × scale).
  return { rows, cols, blockSize: cols, q: floats(bytes, file, t), scale: new Float64Array(rows).fill(1) };
}

function vector(bytes: Uint8Array, file: GgufFile, name: string, n: number): Float64Array {
  const t = findTensor(file, name) ?? fail(`missing tensor ${name}`);
  if (t.nElements !== n) fail(`${name} has ${t.nElements} elements, expected ${n}`);
  return floats(bytes, file, t);
}

function hparams(file: GgufFile, nVocab: number): ReferenceHparams {
  const arch = file.architecture ?? fail("general.architecture is missing");
  const int = (k: string) => metaInteger(file.metadata, `${arch}.${k}`);
  const nEmbd = int("embedding_length") ?? fail("embedding_length missing");
  const nHead = int("attention.head_count") ?? fail("head_count missing");
  const headDim = nEmbd / nHead;
  const act =
    arch === "bitnet-b1.58" || arch === "bitnet-25" ? "relu2" : arch === "bitnet" ? "silu" : fail(`unsupported architecture ${arch}`);
  return {
    arch,
    nVocab,
    nEmbd,
    nLayer: int("block_count") ?? fail("block_count missing"),
    nHead,
    nHeadKv: int("attention.head_count_kv") ?? nHead,
    headDim,
    nFf: int("feed_forward_length") ?? fail("feed_forward_length missing"),
    nRot: int("rope.dimension_count") ?? headDim,
    ropeBase: metaFloat(file.metadata, `${arch}.rope.freq_base`) ?? 10000,
    eps: metaFloat(file.metadata, `${arch}.attention.layer_norm_rms_epsilon`) ?? 1e-5,
    act,
  };
}

/** y_i = w_i · x_i / sqrt(mean(x²) + eps). */
export function rmsNorm(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += (x[i] as number) * (x[i] as number);
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = (w[i] as number) * (x[i] as number) * inv;
  return y;
}

/** Round half to even (torch.round, ggml nearest_int). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // rounds halves up
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Per-row absmax int8 quantization (docs/bitnet-format.md §1.3): amax = max(max|x|, 1e-5), s = 127/amax,
 * xq = clamp(round_half_even(x·s), -128, 127).
 */
export function quantizeActivations(x: Float64Array): { xq: Int8Array; s: number } {
  let amax = 0;
  for (const v of x) amax = Math.max(amax, Math.abs(v));
  const s = 127 / Math.max(amax, 1e-5);
  const xq = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) xq[i] = Math.min(127, Math.max(-128, roundHalfEven((x[i] as number) * s)));
  return { xq, s };
}

/** y = W'·x with the activations quantized as BitNet does. Integer partial sums are exact in Float64. */
function bitLinear(w: BlockMatrix, x: Float64Array): Float64Array {
  if (x.length !== w.cols) fail(`bitLinear: input ${x.length}, weight cols ${w.cols}`);
  const { xq, s } = quantizeActivations(x);
  const blocksPerRow = w.cols / w.blockSize;
  const y = new Float64Array(w.rows);
  for (let r = 0; r < w.rows; r++) {
    let acc = 0;
    for (let b = 0; b < blocksPerRow; b++) {
      let dot = 0;
      const base = r * w.cols + b * w.blockSize;
      for (let c = 0; c < w.blockSize; c++) dot += (w.q[base + c] as number) * (xq[b * w.blockSize + c] as number);
      acc += dot * (w.scale[r * blocksPerRow + b] as number);
    }
    y[r] = acc / s;
  }
  return y;
}

/** NeoX RoPE on each head of `v` (in place): pairs (i, i + nRot/2), θ_i = pos · base^(−2i/nRot). */
function rope(v: Float64Array, nHeads: number, hp: ReferenceHparams, pos: number): void {
  const half = hp.nRot / 2;
  for (let h = 0; h < nHeads; h++) {
    const o = h * hp.headDim;
    for (let i = 0; i < half; i++) {
      const theta = pos * hp.ropeBase ** ((-2 * i) / hp.nRot);
      const cos = Math.cos(theta);
      const sin = Math.sin(theta);
      const x0 = v[o + i] as number;
      const x1 = v[o + i + half] as number;
      v[o + i] = x0 * cos - x1 * sin;
      v[o + i + half] = x0 * sin + x1 * cos;
    }
  }
}

/**
 * A loaded model plus one sequence's KV cache. `embed`, `layer` and `logits` are exposed
 * separately so pipeline shards ([begin, end) layer ranges) can be checked stage by stage.
 */
export class ReferenceModel {
  readonly hp: ReferenceHparams;
  private readonly embd: Float64Array; // [nVocab][nEmbd]
  private readonly head: Float64Array; // [nVocab][nEmbd]
  private readonly outputNorm: Float64Array;
  private readonly layers: Layer[];
  private readonly kCache: Float64Array[][]; // [layer][pos] -> [nHeadKv·headDim], after RoPE
  private readonly vCache: Float64Array[][];

  constructor(bytes: Uint8Array) {
    const file = readGguf(bytes, { fileSize: bytes.length });
    const embT = findTensor(file, "token_embd.weight") ?? fail("missing token_embd.weight");
    const hp = hparams(file, embT.dims[1] ?? fail("token_embd.weight is 1-D"));
    this.hp = hp;
    if (embT.dims[0] !== hp.nEmbd) fail(`token_embd.weight ne0 ${embT.dims[0]} != embedding_length ${hp.nEmbd}`);
    this.embd = floats(bytes, file, embT);
    const outT = findTensor(file, "output.weight");
    this.head = outT ? floats(bytes, file, outT) : this.embd;
    this.outputNorm = vector(bytes, file, "output_norm.weight", hp.nEmbd);
    const qDim = hp.nHead * hp.headDim;
    const kvDim = hp.nHeadKv * hp.headDim;
    this.layers = [];
    for (let l = 0; l < hp.nLayer; l++) {
      const p = `blk.${l}.`;
      this.layers.push({
        attnNorm: vector(bytes, file, `${p}attn_norm.weight`, hp.nEmbd),
        wq: matrix(bytes, file, `${p}attn_q.weight`, hp.nEmbd, qDim),
        wk: matrix(bytes, file, `${p}attn_k.weight`, hp.nEmbd, kvDim),
        wv: matrix(bytes, file, `${p}attn_v.weight`, hp.nEmbd, kvDim),
        attnSubNorm: vector(bytes, file, `${p}attn_sub_norm.weight`, qDim),
        wo: matrix(bytes, file, `${p}attn_output.weight`, qDim, hp.nEmbd),
        ffnNorm: vector(bytes, file, `${p}ffn_norm.weight`, hp.nEmbd),
        wGate: matrix(bytes, file, `${p}ffn_gate.weight`, hp.nEmbd, hp.nFf),
        wUp: matrix(bytes, file, `${p}ffn_up.weight`, hp.nEmbd, hp.nFf),
        ffnSubNorm: vector(bytes, file, `${p}ffn_sub_norm.weight`, hp.nFf),
        wDown: matrix(bytes, file, `${p}ffn_down.weight`, hp.nFf, hp.nEmbd),
      });
    }
    this.kCache = this.layers.map(() => []);
    this.vCache = this.layers.map(() => []);
  }

  /** Number of positions in the KV cache. */
  get nPast(): number {
    return this.kCache[0]?.length ?? 0;
  }

  /** Forget the sequence. */
  reset(): void {
    for (const c of [...this.kCache, ...this.vCache]) c.length = 0;
  }

  /** The embedding row of `token`. */
  embed(token: number): Float64Array {
    if (!Number.isInteger(token) || token < 0 || token >= this.hp.nVocab) fail(`token ${token} out of range`);
    return this.embd.slice(token * this.hp.nEmbd, (token + 1) * this.hp.nEmbd);
  }

  /** Runs layer `l` on the hidden state of position `pos` (the next position of that layer's cache). */
  layer(l: number, hIn: Float64Array, pos: number): Float64Array {
    const hp = this.hp;
    const L = this.layers[l] ?? fail(`no layer ${l}`);
    const kCache = this.kCache[l] as Float64Array[];
    const vCache = this.vCache[l] as Float64Array[];
    if (pos !== kCache.length) fail(`layer ${l}: position ${pos}, but ${kCache.length} positions are cached`);
    const h = Float64Array.from(hIn);

    const a = rmsNorm(h, L.attnNorm, hp.eps);
    const q = bitLinear(L.wq, a);
    const k = bitLinear(L.wk, a);
    const v = bitLinear(L.wv, a);
    rope(q, hp.nHead, hp, pos);
    rope(k, hp.nHeadKv, hp, pos);
    // The cache holds binary16 (docs/bitnet-format.md §1.5): keys after RoPE, and values.
    for (let i = 0; i < k.length; i++) k[i] = roundToF16(k[i] as number);
    for (let i = 0; i < v.length; i++) v[i] = roundToF16(v[i] as number);
    kCache.push(k);
    vCache.push(v);

    const o = new Float64Array(hp.nHead * hp.headDim);
    const group = hp.nHead / hp.nHeadKv; // query head h reads KV head floor(h / group)
    const scale = 1 / Math.sqrt(hp.headDim);
    for (let hd = 0; hd < hp.nHead; hd++) {
      const qo = hd * hp.headDim;
      const ko = Math.floor(hd / group) * hp.headDim;
      const scores = new Float64Array(pos + 1);
      for (let t = 0; t <= pos; t++) {
        let dot = 0;
        const kt = kCache[t] as Float64Array;
        for (let i = 0; i < hp.headDim; i++) dot += (q[qo + i] as number) * (kt[ko + i] as number);
        scores[t] = dot * scale;
      }
      let max = Number.NEGATIVE_INFINITY;
      for (const s of scores) max = Math.max(max, s);
      let sum = 0;
      for (let t = 0; t <= pos; t++) {
        scores[t] = Math.exp((scores[t] as number) - max);
        sum += scores[t] as number;
      }
      for (let t = 0; t <= pos; t++) {
        const p = (scores[t] as number) / sum;
        const vt = vCache[t] as Float64Array;
        for (let i = 0; i < hp.headDim; i++) o[qo + i] = (o[qo + i] as number) + p * (vt[ko + i] as number);
      }
    }
    const attnOut = bitLinear(L.wo, rmsNorm(o, L.attnSubNorm, hp.eps));
    for (let i = 0; i < hp.nEmbd; i++) h[i] = (h[i] as number) + (attnOut[i] as number);

    const f = rmsNorm(h, L.ffnNorm, hp.eps);
    const g = bitLinear(L.wGate, f);
    const u = bitLinear(L.wUp, f);
    const m = new Float64Array(hp.nFf);
    for (let i = 0; i < hp.nFf; i++) {
      const gi = g[i] as number;
      const act = hp.act === "relu2" ? Math.max(gi, 0) ** 2 : gi / (1 + Math.exp(-gi));
      m[i] = act * (u[i] as number);
    }
    const down = bitLinear(L.wDown, rmsNorm(m, L.ffnSubNorm, hp.eps));
    for (let i = 0; i < hp.nEmbd; i++) h[i] = (h[i] as number) + (down[i] as number);
    return h;
  }

  /** Final RMSNorm and the (unquantized) output head. */
  logits(h: Float64Array): Float64Array {
    const hp = this.hp;
    const x = rmsNorm(h, this.outputNorm, hp.eps);
    const out = new Float64Array(hp.nVocab);
    for (let t = 0; t < hp.nVocab; t++) {
      let dot = 0;
      const row = t * hp.nEmbd;
      for (let i = 0; i < hp.nEmbd; i++) dot += (this.head[row + i] as number) * (x[i] as number);
      out[t] = dot;
    }
    return out;
  }

  /** Feeds the next token of the sequence and returns the hidden state after the last layer. */
  hidden(token: number): Float64Array {
    const pos = this.nPast;
    let h = this.embed(token);
    for (let l = 0; l < this.hp.nLayer; l++) h = this.layer(l, h, pos);
    return h;
  }

  /** Feeds the next token and returns the logits for the position after it. */
  step(token: number): Float64Array {
    return this.logits(this.hidden(token));
  }
}

/**
 * Logits at every position of `tokens` (row i predicts token i+1).
 * @example const rows = referenceLogits(await Bun.file(path).bytes(), [bos, 42, 7]); rows.length === 3
 */
export function referenceLogits(modelBytes: Uint8Array, tokens: readonly number[]): Float64Array[] {
  const model = new ReferenceModel(modelBytes);
  return tokens.map((t) => model.step(t));
}
