import { describe, expect, test } from "bun:test";
import { TokenizerError } from "./errors.ts";
import { preTokenize, preTokenizerFor } from "./pre-tokenizer.ts";

describe("llama3 pre-tokenizer", () => {
  const split = (s: string) => preTokenize(s, "llama3");

  test("words, numbers in groups of three, punctuation, contractions", () => {
    expect(split("Hello world")).toEqual(["Hello", " world"]);
    expect(split("I'm 12345 ok")).toEqual(["I", "'m", " ", "123", "45", " ok"]);
    expect(split("THEY'LL we'Re it'S")).toEqual(["THEY", "'LL", " we", "'Re", " it", "'S"]);
    expect(split("x=3.14;")).toEqual(["x", "=", "3", ".", "14", ";"]);
    expect(split("(hello)")).toEqual(["(hello", ")"]);
    expect(split("$100,000")).toEqual(["$", "100", ",", "000"]);
  });

  test("whitespace runs and newlines", () => {
    expect(split("a  b")).toEqual(["a", " ", " b"]);
    expect(split("a\n\nb")).toEqual(["a", "\n\n", "b"]);
    expect(split("end.\n  next")).toEqual(["end", ".\n", " ", " next"]);
    expect(split("tail   ")).toEqual(["tail", "   "]);
    expect(split("\t\tx")).toEqual(["\t", "\tx"]);
  });

  test("unicode letters, marks and emoji", () => {
    expect(split("héllo wörld")).toEqual(["héllo", " wörld"]);
    expect(split("日本語のテキスト")).toEqual(["日本語のテキスト"]);
    expect(split("hi 🦙🦙 there")).toEqual(["hi", " 🦙🦙", " there"]);
    expect(split("٣٤٥٦")).toEqual(["٣٤٥", "٦"]); // Arabic-Indic digits are \p{N}
  });

  test("every character lands in exactly one piece", () => {
    const samples = ["", " ", "a", "\r\n\r\n", "\u00a0\u2003x", "🦙\u200d🦙", "e\u0301", "a''b'", "--\n--"];
    for (const s of samples) expect(split(s).join("")).toBe(s);
  });
});

describe("other pre-tokenizers", () => {
  test("default: llama.cpp's sequential patterns", () => {
    expect(preTokenize("Hello, world! 12345 foo", "default")).toEqual(["Hello", ",", " world", "!", " ", "123", "45", " foo"]);
  });
  test("gpt2", () => {
    expect(preTokenize("Hello 12345 world's", "gpt2")).toEqual(["Hello", " 12345", " world", "'s"]);
  });
  test("names", () => {
    expect(preTokenizerFor("llama-bpe")).toBe("llama3");
    expect(preTokenizerFor(undefined)).toBe("llama3");
    expect(preTokenizerFor("default")).toBe("default");
    expect(() => preTokenizerFor("qwen2")).toThrow(TokenizerError);
  });
});
