/**
 * An incremental check that bytes are a prefix of a JSON text matching a schema (schema-subset.ts):
 * constrained decoding feeds it each candidate token's bytes and keeps only tokens that leave a
 * valid prefix (docs/api.md, "Structured output"). Works on bytes: JSON's structure is ASCII and
 * anything else can only appear inside strings. A pushdown automaton whose stack is small plain
 * objects, so trying a token on a copy is cheap.
 */
import type { Schema } from "./schema-subset.ts";

type Frame =
  | { t: "value"; schema: Schema }
  | {
      t: "object";
      props: Map<string, Schema> | null;
      required: Set<string>;
      state: "keyOrEnd" | "key" | "colon" | "commaOrEnd";
      seen: string[];
      key: string;
    }
  | { t: "array"; items: Schema; state: "valueOrEnd" | "commaOrEnd" }
  | { t: "string"; raw: string; esc: number; key: boolean; candidates: string[] | null }
  | { t: "number"; integer: boolean; state: "start" | "minus" | "zero" | "int" | "dot" | "frac" | "e" | "esign" | "exp" }
  | { t: "literal"; raw: string; candidates: string[] };

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
/** Whitespace runs longer than this are refused, so a constrained model cannot stall in blanks. */
const MAX_WS_RUN = 8;
const HEX = /^[0-9a-fA-F]$/;

export class JsonPrefix {
  private stack: Frame[];
  private done = false;
  private wsRun = 0;

  constructor(schema: Schema) {
    this.stack = [{ t: "value", schema }];
  }

  clone(): JsonPrefix {
    const c = Object.create(JsonPrefix.prototype) as JsonPrefix;
    c.stack = this.stack.map((f) => (f.t === "object" ? { ...f, seen: [...f.seen] } : { ...f }));
    c.done = this.done;
    c.wsRun = this.wsRun;
    return c;
  }

  /** True when a whole value has been read (a top-level number counts once it could end here). */
  get complete(): boolean {
    if (this.done) return true;
    if (this.stack.length !== 1) return false;
    const top = this.stack[0]!;
    return (top.t === "number" && numberCanEnd(top.state)) || (top.t === "literal" && top.candidates.includes(top.raw));
  }

  /** Feed bytes; false when they cannot continue a valid text (the object is then unusable). */
  feed(bytes: Uint8Array): boolean {
    for (const b of bytes) if (!this.byte(b)) return false;
    return true;
  }

  private byte(b: number): boolean {
    for (;;) {
      const top = this.stack.at(-1);
      if (!top) {
        if (!WS.has(b)) return false;
        return this.space();
      }
      const r = this.step(top, b);
      if (r === "refeed") continue;
      return r;
    }
  }

  private space(): boolean {
    this.wsRun++;
    return this.wsRun <= MAX_WS_RUN;
  }

  /** A value ended: pop it and tell its parent. */
  private finished(): void {
    this.stack.pop();
    const parent = this.stack.at(-1);
    if (!parent) this.done = true;
    else if (parent.t === "object") parent.state = "commaOrEnd";
    else if (parent.t === "array") parent.state = "commaOrEnd";
  }

  private step(f: Frame, b: number): boolean | "refeed" {
    const ch = String.fromCharCode(b);
    if (f.t !== "string" && f.t !== "number" && f.t !== "literal") {
      if (WS.has(b)) return this.space();
      this.wsRun = 0;
    }
    switch (f.t) {
      case "value": {
        const frame = startValue(f.schema, ch);
        if (!frame) return false;
        this.stack[this.stack.length - 1] = frame;
        if (frame.t === "number") return this.step(frame, b);
        if (frame.t === "literal") return this.step(frame, b);
        return true;
      }
      case "object":
        switch (f.state) {
          case "keyOrEnd":
          case "key":
            if (ch === "}" && f.state === "keyOrEnd") return this.closeObject(f);
            if (ch !== '"') return false;
            {
              const left = f.props
                ? [...f.props.keys()].filter((k) => !f.seen.includes(k)).map((k) => JSON.stringify(k).slice(1, -1))
                : null;
              if (left && left.length === 0) return false;
              this.stack.push({ t: "string", raw: "", esc: 0, key: true, candidates: left });
            }
            return true;
          case "colon":
            if (ch !== ":") return false;
            f.state = "commaOrEnd"; // set again when the value ends
            this.stack.push({ t: "value", schema: f.props ? f.props.get(f.key)! : { kind: "any" } });
            return true;
          case "commaOrEnd":
            if (ch === ",") {
              if (f.props && f.seen.length === f.props.size) return false;
              f.state = "key";
              return true;
            }
            if (ch === "}") return this.closeObject(f);
            return false;
        }
        return false;
      case "array":
        if (f.state === "valueOrEnd" && ch === "]") {
          this.finished();
          return true;
        }
        if (f.state === "commaOrEnd") {
          if (ch === "]") {
            this.finished();
            return true;
          }
          if (ch !== ",") return false;
          this.stack.push({ t: "value", schema: f.items });
          return true;
        }
        this.stack.push({ t: "value", schema: f.items });
        return "refeed";
      case "string":
        return this.stringByte(f, b, ch);
      case "number": {
        const next = numberNext(f.state, ch, f.integer);
        if (next) {
          f.state = next;
          return true;
        }
        if (!numberCanEnd(f.state)) return false;
        this.finished();
        return "refeed";
      }
      case "literal": {
        const raw = f.raw + ch;
        if (f.candidates.some((c) => c.startsWith(raw))) {
          f.raw = raw;
          // A literal that cannot grow further ends here (strings end with their quote).
          if (f.candidates.includes(raw) && !f.candidates.some((c) => c.length > raw.length && c.startsWith(raw))) this.finished();
          return true;
        }
        if (!f.candidates.includes(f.raw)) return false;
        this.finished();
        return "refeed";
      }
    }
  }

  private closeObject(f: Extract<Frame, { t: "object" }>): boolean {
    for (const r of f.required) if (!f.seen.includes(r)) return false;
    this.finished();
    return true;
  }

  private stringByte(f: Extract<Frame, { t: "string" }>, b: number, ch: string): boolean {
    if (f.esc > 0) {
      // esc 1: after a backslash; 2..5: hex digits of \uXXXX
      if (f.esc === 1) {
        if (!'"\\/bfnrtu'.includes(ch)) return false;
        f.esc = ch === "u" ? 2 : 0;
      } else {
        if (!HEX.test(ch)) return false;
        f.esc = f.esc === 5 ? 0 : f.esc + 1;
      }
      return this.grow(f, ch);
    }
    if (ch === '"') {
      if (f.candidates && !f.candidates.includes(f.raw)) return false;
      this.stack.pop();
      const parent = this.stack.at(-1);
      if (f.key && parent?.t === "object") {
        const name = JSON.parse(`"${f.raw}"`) as string;
        if (parent.seen.includes(name)) return false;
        parent.seen.push(name);
        parent.key = name;
        parent.state = "colon";
        return true;
      }
      this.stack.push(f); // let finished() pop it as a value
      this.finished();
      return true;
    }
    if (b < 0x20) return false;
    if (ch === "\\") f.esc = 1;
    return this.grow(f, ch);
  }

  /** Append to a string's raw text, keeping it a prefix of some candidate (keys and string enums). */
  private grow(f: Extract<Frame, { t: "string" }>, ch: string): boolean {
    f.raw += ch;
    return !f.candidates || f.candidates.some((c) => c.startsWith(f.raw));
  }
}

function startValue(schema: Schema, ch: string): Frame | null {
  switch (schema.kind) {
    case "any":
      return startValue({ kind: "union", options: ANY_OPTIONS }, ch);
    case "object":
      return ch === "{" ? { t: "object", props: schema.properties, required: schema.required, state: "keyOrEnd", seen: [], key: "" } : null;
    case "array":
      return ch === "[" ? { t: "array", items: schema.items, state: "valueOrEnd" } : null;
    case "string":
      return ch === '"' ? { t: "string", raw: "", esc: 0, key: false, candidates: null } : null;
    case "number":
      return ch === "-" || (ch >= "0" && ch <= "9") ? { t: "number", integer: schema.integer, state: "start" } : null;
    case "boolean":
      return ch === "t" || ch === "f" ? { t: "literal", raw: "", candidates: ["true", "false"] } : null;
    case "null":
      return ch === "n" ? { t: "literal", raw: "", candidates: ["null"] } : null;
    case "enum": {
      const texts = schema.values.map((v) => JSON.stringify(v));
      return texts.some((t) => t.startsWith(ch)) ? { t: "literal", raw: "", candidates: texts } : null;
    }
    case "union":
      for (const o of schema.options) {
        const f = startValue(o, ch);
        if (f) return f;
      }
      return null;
  }
}

const ANY_OPTIONS: Schema[] = [
  { kind: "object", properties: null, required: new Set() },
  { kind: "array", items: { kind: "any" } },
  { kind: "string" },
  { kind: "number", integer: false },
  { kind: "boolean" },
  { kind: "null" },
];

type NumberState = Extract<Frame, { t: "number" }>["state"];

/** JSON number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? ; integers stop before '.', 'e'. */
function numberNext(s: NumberState, ch: string, integer: boolean): NumberState | null {
  const digit = ch >= "0" && ch <= "9";
  switch (s) {
    case "start":
      if (ch === "-") return "minus";
      return ch === "0" ? "zero" : digit ? "int" : null;
    case "minus":
      return ch === "0" ? "zero" : digit ? "int" : null;
    case "zero":
    case "int":
      if (s === "int" && digit) return "int";
      if (integer) return null;
      if (ch === ".") return "dot";
      if (ch === "e" || ch === "E") return "e";
      return null;
    case "dot":
      return digit ? "frac" : null;
    case "frac":
      if (digit) return "frac";
      return ch === "e" || ch === "E" ? "e" : null;
    case "e":
      if (ch === "+" || ch === "-") return "esign";
      return digit ? "exp" : null;
    case "esign":
      return digit ? "exp" : null;
    case "exp":
      return digit ? "exp" : null;
  }
  return null;
}

function numberCanEnd(s: NumberState): boolean {
  return s === "zero" || s === "int" || s === "frac" || s === "exp";
}
