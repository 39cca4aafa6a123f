/**
 * SentencePiece rules on a hand-made vocabulary, one rule per test (llama.cpp parity on a
 * learned vocabulary is tests/oracle/llama-cpp-spm.test.ts).
 */
import { describe, expect, test } from "bun:test";
import { gv } from "../gguf/metadata.ts";
import { TokenizerError } from "./errors.ts";
import { tokenizerFromGguf } from "./from-gguf.ts";
import { SpmTokenizer, type SpmTokenizerConfig } from "./spm-tokenizer.ts";
import { TokenType } from "./tokenizer.ts";

const BYTES = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);

/** `<unk>` `<s>` `</s>`, optionally the byte tokens, then the given pieces with their scores. */
function vocab(pieces: [string, number][], withBytes = true, extra: Partial<SpmTokenizerConfig> = {}): SpmTokenizer {
  const special = ["<unk>", "<s>", "</s>"];
  const bytes = withBytes ? BYTES : [];
  const tokens = [...special, ...bytes, ...pieces.map(([p]) => p)];
  return new SpmTokenizer({
    tokens,
    scores: [0, 0, 0, ...bytes.map(() => 0), ...pieces.map(([, s]) => s)],
    tokenTypes: [
      TokenType.UNKNOWN,
      TokenType.CONTROL,
      TokenType.CONTROL,
      ...bytes.map(() => TokenType.BYTE),
      ...pieces.map(() => TokenType.NORMAL),
    ],
    bosId: 1,
    eosId: 2,
    addSpacePrefix: false,
    ...extra,
  });
}

const texts = (tok: SpmTokenizer, ids: number[]) => ids.map((id) => tok.tokenText(id));

describe("SpmTokenizer", () => {
  test("merges the highest-scoring pair first, not the leftmost", () => {
    const tok = vocab([
      ["a", 0],
      ["b", 0],
      ["c", 0],
      ["ab", -1],
      ["bc", -0.5],
    ]);
    expect(texts(tok, tok.encode("abc", { addBos: false }))).toEqual(["a", "bc"]);
  });

  test("on equal scores the leftmost pair merges", () => {
    const tok = vocab([
      ["a", 0],
      ["b", 0],
      ["c", 0],
      ["ab", -1],
      ["bc", -1],
    ]);
    expect(texts(tok, tok.encode("abc", { addBos: false }))).toEqual(["ab", "c"]);
  });

  test("keeps merging while merged pieces form tokens", () => {
    const tok = vocab([
      ["a", 0],
      ["b", 0],
      ["c", 0],
      ["ab", -1],
      ["bc", -0.5],
      ["abc", -3],
    ]);
    expect(texts(tok, tok.encode("abcabc", { addBos: false }))).toEqual(["abc", "abc"]);
  });

  test("spaces become ▁; the space prefix goes before text that starts the input or follows a special token", () => {
    const tok = vocab(
      [
        ["▁", 0],
        ["a", 0],
        ["▁a", -1],
      ],
      true,
      { addSpacePrefix: true },
    );
    expect(texts(tok, tok.encode("a a", { addBos: false }))).toEqual(["▁a", "▁a"]);
    expect(texts(tok, tok.encode("a</s>a", { addBos: false, parseSpecial: true }))).toEqual(["▁a", "</s>", "▁a"]);
    expect(texts(tok, tok.encode("a", { addBos: true }))).toEqual(["<s>", "▁a"]);
    expect(tok.decode(tok.encode("a a", { addBos: false }))).toBe(" a a");
  });

  test("a piece with no token falls back to its UTF-8 bytes, which decode back", () => {
    const tok = vocab([["a", 0]]);
    const ids = tok.encode("aé", { addBos: false });
    expect(texts(tok, ids)).toEqual(["a", "<0xC3>", "<0xA9>"]);
    expect(tok.decode(ids)).toBe("aé");
  });

  test("without byte tokens, unknown bytes become <unk>; without <unk> either, a named error", () => {
    const tok = vocab([["a", 0]], false);
    expect(texts(tok, tok.encode("aé", { addBos: false }))).toEqual(["a", "<unk>", "<unk>"]);
    const bare = new SpmTokenizer({ tokens: ["a"], addSpacePrefix: false });
    expect(() => bare.encode("é", { addBos: false })).toThrow(TokenizerError);
  });

  test("control texts stay text unless special tokens are parsed", () => {
    const tok = vocab([["a", 0]]);
    expect(tok.encode("</s>", { addBos: false })).not.toContain(2);
    expect(tok.encode("</s>", { addBos: false, parseSpecial: true })).toEqual([2]);
  });

  test("a 200,000-character text encodes through encodeAsync", async () => {
    const tok = vocab([
      ["a", 0],
      ["b", 0],
      ["ab", -1],
      ["abab", -2],
    ]);
    const ids = await tok.encodeAsync("ab".repeat(100_000), { addBos: false });
    expect(ids.length).toBe(50_000);
  });

  test("maxPieceBytes is the longest decoded piece", () => {
    const tok = vocab([
      ["▁", 0],
      ["▁日本", -1],
      ["a", 0],
    ]);
    let most = 1;
    for (let id = 0; id < tok.vocabSize; id++) most = Math.max(most, tok.decodePiece(id).length);
    expect(tok.maxPieceBytes()).toBe(most);
    expect(most).toBe(7); // " 日本"
  });

  test("the GGUF keys choose it; BOS and EOS default to 1 and 2", () => {
    const tokens = ["<unk>", "<s>", "</s>", "a"];
    const tok = tokenizerFromGguf(
      new Map([
        ["tokenizer.ggml.model", gv.str("llama")],
        ["tokenizer.ggml.tokens", gv.strings(tokens)],
      ]),
    );
    expect(tok).toBeInstanceOf(SpmTokenizer);
    expect([tok.bosId, tok.eosId, tok.addBos]).toEqual([1, 2, true]);
    expect(() => tokenizerFromGguf(new Map([["tokenizer.ggml.model", gv.str("bert")]]))).toThrow(/supported: "gpt2".*"llama"/);
  });
});
