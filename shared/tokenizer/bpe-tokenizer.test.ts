import { describe, expect, test } from "bun:test";
import { gv } from "../gguf/metadata.ts";
import { readGguf } from "../gguf/reader.ts";
import { writeGguf } from "../gguf/writer.ts";
import { BpeTokenizer, type BpeTokenizerConfig, TokenType } from "./bpe-tokenizer.ts";
import { BYTE_TO_CHAR, bytesToTokenText } from "./byte-encoding.ts";
import { TokenizerError } from "./errors.ts";
import { TokenTextStream } from "./token-text-stream.ts";

const SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];

/**
 * A small Llama-3-shaped vocabulary: 256 byte tokens, then for each word the left-to-right merges
 * that build it, then the special tokens.
 */
function fixture(words: string[], extra: Partial<BpeTokenizerConfig> = {}): BpeTokenizerConfig {
  const tokens = [...BYTE_TO_CHAR];
  const merges: string[] = [];
  const known = new Set(tokens);
  for (const w of words) {
    const chars = [...bytesToTokenText(new TextEncoder().encode(w))];
    let acc = chars[0] as string;
    for (const c of chars.slice(1)) {
      const merged = acc + c;
      if (!known.has(merged)) {
        merges.push(`${acc} ${c}`);
        tokens.push(merged);
        known.add(merged);
      }
      acc = merged;
    }
  }
  const bos = tokens.length;
  tokens.push(...SPECIALS);
  const tokenTypes = tokens.map((_, i) => (i >= bos ? TokenType.CONTROL : TokenType.NORMAL));
  return { tokens, merges, tokenTypes, bosId: bos, eosId: bos + 1, addBos: true, pre: "llama-bpe", ...extra };
}

const WORDS = ["the", " the", " quick", " brown", " fox", "Hello", " world", "ing", " jump", "\n\n", "123", " 🦙"];
const tok = new BpeTokenizer(fixture(WORDS));
const id = (text: string) => tok.tokenId(bytesToTokenText(new TextEncoder().encode(text))) as number;

describe("BpeTokenizer.encode / decode", () => {
  test("round trip over varied strings", () => {
    const samples = [
      "",
      "the quick brown fox",
      "Hello, world!\n\nHello   world\t\ttabs\r\nCRLF",
      "unicode: héllo wörld ñ 日本語 Ελληνικά русский",
      "emoji 🦙🦙 👩‍👩‍👧 🇫🇷 and ZWJ",
      "digits 1234567890 3.14159 -42 1e10",
      "   leading and trailing spaces   ",
      "\n",
      "special-looking <|eot_id|> text <|nope|>",
      "a\u0000b\u0001c\u007f",
      "\ufeffBOM first",
      "x".repeat(5000),
    ];
    for (const s of samples) {
      const ids = tok.encode(s, { addBos: false });
      expect(tok.decode(ids)).toBe(s);
      const withSpecials = tok.encode(s, { addBos: false, parseSpecial: true });
      expect(tok.decode(withSpecials, { renderSpecial: true })).toBe(s);
    }
  });

  test("known merges are applied", () => {
    expect(tok.encode("the quick brown fox", { addBos: false })).toEqual([id("the"), id(" quick"), id(" brown"), id(" fox")]);
    expect(tok.encode("Hello world\n\n123", { addBos: false })).toEqual([id("Hello"), id(" world"), id("\n\n"), id("123")]);
    // "jumping" is not a token: " jump" + "ing" come from merges.
    expect(tok.encode(" jumping", { addBos: false })).toEqual([id(" jump"), id("ing")]);
    expect(tok.encode(" 🦙", { addBos: false })).toEqual([id(" 🦙")]);
    // Unknown words fall back to byte tokens.
    expect(tok.encode("zq", { addBos: false })).toEqual([id("z"), id("q")]);
  });

  test("merge rank decides, unless ignore_merges finds the whole word", () => {
    // tokens: bytes + "bc" (rank 0) + "ab" (rank 1) + "abc" (rank 2, from "ab c").
    const base = [...BYTE_TO_CHAR];
    const cfg = { tokens: [...base, "bc", "ab", "abc"], merges: ["b c", "a b", "ab c"] };
    const gpt2 = new BpeTokenizer({ ...cfg, pre: "gpt2" });
    const llama = new BpeTokenizer({ ...cfg, pre: "llama-bpe" });
    // Without ignore_merges "abc" -> a + bc (rank 0 first) and "ab c" never applies.
    expect(gpt2.encode("abc", { addBos: false })).toEqual([97, 256]);
    // With ignore_merges the whole word is a vocabulary entry.
    expect(llama.encode("abc", { addBos: false })).toEqual([258]);
  });

  test("BOS is added by default and on request only", () => {
    expect(tok.encode("the")).toEqual([tok.bosId as number, id("the")]);
    expect(tok.encode("the", { addBos: false })).toEqual([id("the")]);
    const noBos = new BpeTokenizer(fixture(WORDS, { addBos: false }));
    expect(noBos.encode("the")).toEqual([id("the")]);
    expect(noBos.encode("the", { addBos: true })[0]).toBe(noBos.bosId as number);
  });

  test("special tokens are parsed only when asked", () => {
    const eot = tok.tokenId("<|eot_id|>") as number;
    const text = "hi<|eot_id|>there<|start_header_id|>";
    const plain = tok.encode(text, { addBos: false });
    expect(plain).not.toContain(eot);
    expect(tok.decode(plain)).toBe(text);
    const parsed = tok.encode(text, { addBos: false, parseSpecial: true });
    expect(parsed).toEqual([
      ...tok.encode("hi", { addBos: false }),
      eot,
      ...tok.encode("there", { addBos: false }),
      tok.tokenId("<|start_header_id|>") as number,
    ]);
    // Control tokens decode to nothing unless rendered.
    expect(tok.decode(parsed)).toBe("hithere");
    expect(tok.decode(parsed, { renderSpecial: true })).toBe(text);
  });

  test("user-defined tokens are always split out and decode as raw text", () => {
    const cfg = fixture(WORDS);
    const tokens = [...cfg.tokens, "<tool>"];
    const types = [...(cfg.tokenTypes as number[]), TokenType.USER_DEFINED];
    const t = new BpeTokenizer({ ...cfg, tokens, tokenTypes: types });
    const ids = t.encode("a<tool>b", { addBos: false });
    expect(ids).toEqual([97, tokens.length - 1, 98]);
    expect(t.decode(ids)).toBe("a<tool>b");
  });

  test("eosIds, isControl, isEos, ranges", () => {
    const eot = tok.tokenId("<|eot_id|>") as number;
    const eos = tok.tokenId("<|end_of_text|>") as number;
    expect([...tok.eosIds].sort()).toEqual([eos, eot].sort());
    expect(tok.isEos(eot)).toBe(true);
    expect(tok.isControl(eot)).toBe(true);
    expect(tok.isControl(id("the"))).toBe(false);
    expect(() => tok.decode([tok.vocabSize])).toThrow(TokenizerError);
    expect(() => tok.isControl(-1)).toThrow(TokenizerError);
  });

  test("long inputs stay fast", () => {
    const start = performance.now();
    const text = `${" ".repeat(20000)}${"abc123!?".repeat(5000)}${"\n".repeat(3000)}`;
    expect(tok.decode(tok.encode(text, { addBos: false }))).toBe(text);
    expect(performance.now() - start).toBeLessThan(3000);
  });

  test("token types default to control for <|…|> when absent", () => {
    const cfg = fixture(WORDS);
    const t = new BpeTokenizer({ ...cfg, tokenTypes: undefined });
    expect(t.isControl(t.tokenId("<|eot_id|>") as number)).toBe(true);
  });

  test("bad vocabularies are rejected", () => {
    expect(() => new BpeTokenizer({ tokens: [], merges: [] })).toThrow(TokenizerError);
    expect(() => new BpeTokenizer({ ...fixture(WORDS), merges: ["nospace"] })).toThrow(/no space/);
    expect(() => new BpeTokenizer({ ...fixture(WORDS), bosId: 1e9 })).toThrow(TokenizerError);
    expect(() => new BpeTokenizer({ ...fixture(WORDS), tokenTypes: [1] })).toThrow(TokenizerError);
  });
});

describe("TokenTextStream", () => {
  test("holds back split UTF-8 until the character is complete", () => {
    // 🦙 = F0 9F A6 99; "é" = C3 A9, each byte its own token here.
    const bytes = [...new TextEncoder().encode("a🦙é!")];
    const ids = bytes.map((b) => tok.tokenId(BYTE_TO_CHAR[b] as string) as number);
    const s = new TokenTextStream(tok);
    const out = ids.map((i) => s.push(i));
    expect(out).toEqual(["a", "", "", "", "🦙", "", "é", "!"]);
    expect(s.flush()).toBe("");
  });

  test("an unfinished character at the end becomes U+FFFD; control tokens render on request", () => {
    const s = new TokenTextStream(tok);
    expect(s.push(tok.tokenId(BYTE_TO_CHAR[0xf0] as string) as number)).toBe("");
    expect(s.flush()).toBe("\ufffd");
    const r = new TokenTextStream(tok, { renderSpecial: true });
    expect(r.push(tok.tokenId("<|eot_id|>") as number)).toBe("<|eot_id|>");
  });

  test("streamed text equals decode() for whole encodings", () => {
    const text = "emoji 🦙🦙 héllo 日本語 👩‍👩‍👧";
    const ids = tok.encode(text, { addBos: false });
    const s = new TokenTextStream(tok);
    expect(ids.map((i) => s.push(i)).join("") + s.flush()).toBe(text);
  });
});

describe("BpeTokenizer.fromGguf", () => {
  test("reads tokenizer metadata written to a GGUF file", () => {
    const cfg = fixture(WORDS);
    const bytes = writeGguf({
      metadata: [
        ["tokenizer.ggml.model", gv.str("gpt2")],
        ["tokenizer.ggml.pre", gv.str("llama-bpe")],
        ["tokenizer.ggml.tokens", gv.strings(cfg.tokens)],
        ["tokenizer.ggml.token_type", gv.i32s(cfg.tokenTypes as number[])],
        ["tokenizer.ggml.merges", gv.strings(cfg.merges)],
        ["tokenizer.ggml.bos_token_id", gv.u32(cfg.bosId as number)],
        ["tokenizer.ggml.eos_token_id", gv.u32(cfg.eosId as number)],
        ["tokenizer.ggml.add_bos_token", gv.bool(true)],
      ],
      tensors: [],
    });
    const t = BpeTokenizer.fromGguf(readGguf(bytes).metadata);
    expect(t.vocabSize).toBe(cfg.tokens.length);
    expect(t.encode("the quick brown fox")).toEqual(tok.encode("the quick brown fox"));
    expect(t.preTokenizer).toBe("llama3");
  });

  test("rejects non-BPE models and missing keys", () => {
    const md = (model: string) => readGguf(writeGguf({ metadata: [["tokenizer.ggml.model", gv.str(model)]], tensors: [] })).metadata;
    expect(() => BpeTokenizer.fromGguf(md("llama"))).toThrow(/byte-level BPE vocabulary is "gpt2"/);
    expect(() => BpeTokenizer.fromGguf(md("gpt2"))).toThrow(/tokens is missing/);
  });
});

describe("maxPieceBytes", () => {
  test("is the longest decoded piece, on the built-in vocabulary", async () => {
    const { trainBpe } = await import("../../agent/src/model/bpe-trainer.ts");
    const { BUILTIN_CORPUS } = await import("../../agent/src/model/corpus.ts");
    const { vocab, merges } = trainBpe(BUILTIN_CORPUS, { targetMerges: 400 });
    const tok = new BpeTokenizer({ tokens: [...vocab, "<|eot_id|>", "ünï"], merges, tokenTypes: [...vocab.map(() => 1), 3, 4] });
    let most = 1;
    for (let id = 0; id < tok.vocabSize; id++) most = Math.max(most, tok.decodePiece(id).length);
    expect(tok.maxPieceBytes()).toBe(most);
  });
});
