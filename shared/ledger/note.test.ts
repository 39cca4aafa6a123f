import { describe, expect, test } from "bun:test";
import { toHex } from "../crypto/hex.ts";
import { decodeBase64 } from "./base64.ts";
import { utf8 } from "./bytes.ts";
import { ed25519PublicKey } from "./ed25519-sync.ts";
import {
  formatNote,
  formatVkey,
  formatVkeyOfType,
  isValidKeyName,
  MAX_NOTE_SIGNATURES,
  noteKeyId,
  parseNote,
  parseNoteBytes,
  parseSignatureLines,
  parseVkey,
  SIGNATURE_TYPE_COSIGNATURE,
  signNoteText,
  verifyNoteSignature,
} from "./note.ts";
import { expectCode } from "./test-fixtures.ts";

// Known-answer signed-note vectors: the PeterNeumann and EnochRoot keys, text and signatures.
const PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
/** From its secret key "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz": base64(0x01 ‖ seed). */
const PETER_SEED = decodeBase64("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")!.slice(1);
const ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

// The example of c2sp.org/signed-note.
const SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE =
  "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

describe("verifier keys", () => {
  test("format from the secret key reproduces the known vkey and key ID", () => {
    const publicKey = ed25519PublicKey(PETER_SEED);
    expect(formatVkey("PeterNeumann", publicKey)).toBe(PETER_VKEY);
    expect(toHex(noteKeyId("PeterNeumann", 0x01, publicKey))).toBe("c74f20a3");
  });

  test("parse returns name, key ID, type and key, and round-trips", () => {
    for (const vkey of [PETER_VKEY, ENOCH_VKEY, SPEC_VKEY]) {
      const parsed = parseVkey(vkey);
      expect(parsed.type).toBe(0x01);
      expect(parsed.publicKey).toHaveLength(32);
      expect(formatVkey(parsed.name, parsed.publicKey)).toBe(vkey);
    }
    const peter = parseVkey(PETER_VKEY);
    expect(peter.name).toBe("PeterNeumann");
    expect(toHex(peter.keyId)).toBe("c74f20a3");
    expect(toHex(peter.publicKey)).toBe(toHex(ed25519PublicKey(PETER_SEED)));
  });

  test("every truncation and every single-character change is rejected", () => {
    for (let i = 0; i <= PETER_VKEY.length; i++) {
      for (let j = i + 1; j <= PETER_VKEY.length; j++) {
        if (i !== 0 || j !== PETER_VKEY.length) expectCode(() => parseVkey(PETER_VKEY.slice(i, j)), "bad_vkey");
      }
    }
    for (let i = 0; i < PETER_VKEY.length; i++) {
      const changed = PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) + PETER_VKEY.slice(i + 1);
      expectCode(() => parseVkey(changed), "bad_vkey");
    }
  });

  test("wrong key length and unknown algorithm are rejected even with a matching key ID", () => {
    expectCode(() => parseVkey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="), "bad_vkey");
    expectCode(() => parseVkey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), "bad_vkey");
    expectCode(() => parseVkey("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), "bad_vkey");
  });

  test("the signature type byte is part of the key ID", () => {
    const publicKey = ed25519PublicKey(PETER_SEED);
    const cosigner = formatVkeyOfType("PeterNeumann", SIGNATURE_TYPE_COSIGNATURE, publicKey);
    expect(cosigner).not.toBe(PETER_VKEY);
    expect(parseVkey(cosigner).type).toBe(SIGNATURE_TYPE_COSIGNATURE);
    expect(toHex(parseVkey(cosigner).keyId)).toBe(toHex(noteKeyId("PeterNeumann", 0x04, publicKey)));
    expectCode(() => formatVkey("PeterNeumann", publicKey.slice(1)), "bad_vkey");
    expectCode(() => formatVkey("Peter Neumann", publicKey), "bad_vkey");
  });
});

describe("key names", () => {
  test("non-empty, without Unicode spaces or plus", () => {
    for (const name of ["example.com/log42", "PeterNeumann", "ü", "oid/1.3.6.1.4.1", "a-b_c~d"]) expect(isValidKeyName(name)).toBe(true);
    for (const name of ["", "a+b", "a b", "a\tb", "a\u00a0b", "a\u0085b", "a\u2003b", "a\u3000b", "a\u2028b", "a\u0001b", "a\ud800"]) {
      expect(isValidKeyName(name)).toBe(false);
    }
  });
});

describe("signing", () => {
  test("reproduces the known signature line and note", () => {
    const line = signNoteText(TEXT, "PeterNeumann", PETER_SEED);
    expect(line).toBe(PETER_SIG);
    expect(formatNote(TEXT, [line])).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  test("rejects text without a final newline, control characters, bad names and keys", () => {
    expectCode(() => signNoteText("abc", "PeterNeumann", PETER_SEED), "bad_note");
    expectCode(() => signNoteText("a\rb\n", "PeterNeumann", PETER_SEED), "bad_note");
    expectCode(() => signNoteText("a\ud800\n", "PeterNeumann", PETER_SEED), "bad_note");
    expectCode(() => signNoteText(TEXT, "a+b", PETER_SEED), "bad_key");
    expectCode(() => signNoteText(TEXT, "PeterNeumann", PETER_SEED.slice(1)), "bad_key");
  });

  test("formatNote checks its signature lines", () => {
    expectCode(() => formatNote(TEXT, []), "bad_signature_line");
    expectCode(() => formatNote(TEXT, [PETER_SIG.slice(0, -1)]), "bad_signature_line");
    expectCode(() => formatNote(TEXT, [PETER_SIG + PETER_SIG]), "bad_signature_line");
    expectCode(() => formatNote(TEXT, ["— PeterNeumann !!!!\n"]), "bad_signature_line");
    expectCode(() => formatNote("no newline", [PETER_SIG]), "bad_note");
  });
});

describe("parsing and verifying", () => {
  test("the spec's example verifies", () => {
    const note = parseNote(SPEC_NOTE);
    expect(note.text).toBe("This is an example message.\n");
    expect(note.signatures).toHaveLength(1);
    expect(verifyNoteSignature(note, SPEC_VKEY)).toBe(true);
    expect(verifyNoteSignature(parseNote(SPEC_NOTE.replace("example message", "example massage")), SPEC_VKEY)).toBe(false);
  });

  test("splits text and signatures, keeping each line verbatim", () => {
    const note = parseNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`);
    expect(note.text).toBe(TEXT);
    expect(note.signatures.map((sig) => sig.name)).toEqual(["PeterNeumann", "EnochRoot"]);
    expect(note.signatures.map((sig) => toHex(sig.keyId))).toEqual(["c74f20a3", "af0cfe78"]);
    expect(note.signatures.map((sig) => sig.signature.length)).toEqual([64, 64]);
    expect(note.signatures.map((sig) => sig.line)).toEqual([PETER_SIG, ENOCH_SIG]);
    expect(verifyNoteSignature(note, PETER_VKEY)).toBe(true);
    expect(verifyNoteSignature(note, parseVkey(ENOCH_VKEY))).toBe(true);
    expect(verifyNoteSignature(parseNote(`${TEXT}\n${ENOCH_SIG}`), PETER_VKEY)).toBe(false);
  });

  test("the text is separated at the last blank line and may contain blank lines", () => {
    const text = "first\n\nthird\n\n";
    const line = signNoteText(text, "PeterNeumann", PETER_SEED);
    const note = parseNote(formatNote(text, [line]));
    expect(note.text).toBe(text);
    expect(verifyNoteSignature(note, PETER_VKEY)).toBe(true);
  });

  test("a known key's failing signature spoils the note; duplicates of a good one do not", () => {
    const corrupt = `${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`;
    expect(verifyNoteSignature(parseNote(`${TEXT}\n${corrupt}`), PETER_VKEY)).toBe(false);
    expect(verifyNoteSignature(parseNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}`), PETER_VKEY)).toBe(true);
    expect(verifyNoteSignature(parseNote(`${TEXT}\n${PETER_SIG}${corrupt}`), PETER_VKEY)).toBe(false);
  });

  test("signatures from a key with the same name but another ID, or another name, are ignored", () => {
    const otherId = PETER_SIG.replace("x08g", "xxxx");
    expect(verifyNoteSignature(parseNote(`${TEXT}\n${otherId}`), PETER_VKEY)).toBe(false);
    expect(verifyNoteSignature(parseNote(`${TEXT}\n${otherId}${PETER_SIG}`), PETER_VKEY)).toBe(true);
    const renamed = PETER_SIG.replace("PeterNeumann", "CarmenSandiego");
    expect(verifyNoteSignature(parseNote(`${TEXT}\n${renamed}`), PETER_VKEY)).toBe(false);
  });

  test("a cosigner (type 0x04) vkey never verifies a plain note signature", () => {
    const cosigner = formatVkeyOfType("PeterNeumann", SIGNATURE_TYPE_COSIGNATURE, ed25519PublicKey(PETER_SEED));
    expect(verifyNoteSignature(parseNote(`${TEXT}\n${PETER_SIG}`), cosigner)).toBe(false);
  });

  test(`accepts up to ${MAX_NOTE_SIGNATURES} signatures (at least 16, as required) and rejects more`, () => {
    expect(parseNote(`${TEXT}\n${PETER_SIG.repeat(16)}`).signatures).toHaveLength(16);
    expect(parseNote(`${TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES)}`).signatures).toHaveLength(MAX_NOTE_SIGNATURES);
    expectCode(() => parseNote(`${TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES + 1)}`), "bad_signature_line");
  });

  test("rejects malformed notes", () => {
    const bad: [string, string][] = [
      [TEXT, "bad_note"],
      [`${TEXT}\n`, "bad_note"],
      [`${TEXT}\n${PETER_SIG.slice(0, -1)}`, "bad_signature_line"],
      [`\u0001${TEXT}\n${PETER_SIG}`, "bad_note"],
      [`${TEXT.replace("\n", "\r\n")}\n${PETER_SIG}`, "bad_note"],
      [`\ud800${TEXT}\n${PETER_SIG}`, "bad_note"],
      [
        `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
        "bad_signature_line",
      ],
      [`${TEXT}\n${PETER_SIG}Unexpected line.\n`, "bad_signature_line"],
      [`${TEXT}\n- PeterNeumann ${PETER_SIG.split(" ")[2]}`, "bad_signature_line"],
      [`${TEXT}\n—PeterNeumann ${PETER_SIG.split(" ")[2]}`, "bad_signature_line"],
      [`${TEXT}\n— PeterNeumann\n`, "bad_signature_line"],
      [`${TEXT}\n—  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`, "bad_signature_line"],
      [
        `${TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n`,
        "bad_signature_line",
      ],
      [
        `${TEXT}\n— PeterNeumann x08go/ZJ kuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
        "bad_signature_line",
      ],
      [`${TEXT}\n— PeterNeumann AAAAAA==\n`, "bad_signature_line"],
    ];
    for (const [note, code] of bad) expectCode(() => parseNote(note), code);
  });

  test("parseNoteBytes requires valid UTF-8", () => {
    const good = utf8(`${TEXT}\n${PETER_SIG}`);
    expect(parseNoteBytes(good).text).toBe(TEXT);
    const invalid = new Uint8Array(good.length + 1);
    invalid[0] = 0xff;
    invalid.set(good, 1);
    expectCode(() => parseNoteBytes(invalid), "bad_note");
  });

  test("parseSignatureLines reads a witness response body", () => {
    const lines = parseSignatureLines(PETER_SIG + ENOCH_SIG);
    expect(lines.map((sig) => sig.name)).toEqual(["PeterNeumann", "EnochRoot"]);
    expectCode(() => parseSignatureLines(""), "bad_signature_line");
    expectCode(() => parseSignatureLines(PETER_SIG.slice(0, -1)), "bad_signature_line");
  });
});
