/**
 * A model the agent serves: the native weights plus what the GGUF says about text — tokenizer,
 * chat template, end-of-generation ids — and the file's content hash (the model's identity on
 * the network).
 */
import type { ChatMessage } from "../../../shared/protocol/messages.ts";
import { chatTemplateOf, type Tokenizer, TokenTextStream, tokenizerFromGguf } from "../../../shared/tokenizer/index.ts";
import type { Kernels, NativeModel, NativePool } from "../kernels/engine.ts";
import { cachedSha256, sha256File } from "../model/file-hash.ts";
import { footprintOf, type ModelFootprint } from "../model/footprint.ts";
import { readGgufHeaderFile } from "../model/gguf-file.ts";
import { chatPromptTokens } from "./chat-prompt.ts";

export interface LoadOptions {
  /** Worker threads for the kernels (the consent contract caps this). */
  threads: number;
  /** "q8_0" requantizes a float output head at load (the default: ~half the bytes per token). */
  head: "q8_0" | "file";
  /** Where the file's SHA-256 is remembered between starts (else it is computed every time). */
  hashCacheDir?: string;
  /** Load only these layers' weights ([begin, end); the ends only where the range touches them). */
  layers?: { layerBegin: number; layerEnd: number };
  /** The header's text side when the caller has read it already (readModelHeader): not read again. */
  text?: TextSide;
}

/** What the header says about text: the tokenizer and the chat template. */
export interface TextSide {
  readonly tokenizer: Tokenizer;
  readonly chatTemplate: string;
}

export class LoadedModel {
  private constructor(
    readonly id: string,
    readonly path: string,
    readonly sha256: string,
    readonly native: NativeModel,
    readonly pool: NativePool,
    readonly tokenizer: Tokenizer,
    private readonly chatTemplate: string,
  ) {}

  static async load(kernels: Kernels, id: string, path: string, options: LoadOptions): Promise<LoadedModel> {
    const { tokenizer, chatTemplate } = options.text ?? (await readModelHeader(path, options.head)).text;
    // The header's arrays are garbage now (readModelHeader's scope is gone): let them go before
    // the weights come in, so the peak is weights + what is kept, not also a parse's leftovers.
    Bun.gc(true);
    const native = kernels.loadModel(path, {
      head: options.head === "q8_0" ? "q8_0" : "as-is",
      ...(options.layers ? { layers: [options.layers.layerBegin, options.layers.layerEnd] as const } : {}),
    });
    if (tokenizer.vocabSize !== native.info.nVocab) {
      native.close();
      throw new Error(`the tokenizer has ${tokenizer.vocabSize} tokens but the embedding has ${native.info.nVocab} rows`);
    }
    const pool = kernels.createPool(options.threads);
    const sha256 = options.hashCacheDir ? (await cachedSha256(path, options.hashCacheDir)).sha256 : await sha256File(path);
    return new LoadedModel(id, path, sha256, native, pool, tokenizer, chatTemplate);
  }

  /** Longest sequence (prompt + output) a request may use. */
  get contextLimit(): number {
    return this.native.info.nCtxTrain;
  }

  /** The prompt's token ids for a chat (see chatPromptTokens). */
  promptTokens(messages: readonly ChatMessage[]): Promise<number[]> {
    return chatPromptTokens(this.tokenizer, this.chatTemplate, messages);
  }

  /** A completion prompt's token ids: the text as ordinary text (never control tokens), BOS as the file says. */
  completionTokens(prompt: string): Promise<number[]> {
    return this.tokenizer.encodeAsync(prompt, { parseSpecial: false });
  }

  /** The most UTF-8 bytes any one token stands for (a prompt of b bytes needs at least b / this many tokens). */
  get maxTokenBytes(): number {
    return this.tokenizer.maxPieceBytes();
  }

  /** The id that ends a text (what constrained decoding chooses when its value is complete). */
  get endOfTextId(): number {
    const id = this.tokenizer.eosId ?? [...this.tokenizer.eosIds][0];
    if (id === undefined) throw new Error(`${this.id} has no end-of-text token`);
    return id;
  }

  isEndOfGeneration(id: number): boolean {
    return this.tokenizer.eosIds.has(id);
  }

  textStream(): TokenTextStream {
    return new TokenTextStream(this.tokenizer);
  }

  close(): void {
    this.pool.close();
    this.native.close();
  }
}

/**
 * Reads a model's GGUF header once for everything a load needs from it — what each layer range
 * holds, the tokenizer, the chat template — and keeps nothing else of it (the parsed metadata is
 * garbage when this returns).
 */
export async function readModelHeader(path: string, head: "q8_0" | "file"): Promise<{ footprint: ModelFootprint; text: TextSide }> {
  const { file } = await readGgufHeaderFile(path);
  Bun.gc(true); // the read's buffers, before the tokenizer's maps are built
  return {
    footprint: footprintOf(file, head),
    text: { tokenizer: tokenizerFromGguf(file.metadata), chatTemplate: chatTemplateOf(file.metadata) },
  };
}
