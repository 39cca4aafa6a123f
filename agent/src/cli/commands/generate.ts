/**
 * `aria-agent generate`: run one model locally, without the network. The prompt is raw text
 * completed as is (no chat template; special-token texts such as <|eot_id|> are parsed; BOS is
 * added when the file asks for it). Generated text goes to stdout as it is produced; speed and
 * diagnostics go to stderr.
 */
import { KernelError, Kernels } from "../../kernels/engine.ts";
import { ensureKernelLibrary } from "../../kernels/library-path.ts";
import { defaultCacheDir } from "../../model/builtin.ts";
import { resolveModel } from "../../model/resolve-model.ts";
import { LoadedModel } from "../../serve/loaded-model.ts";
import { GenerationError, generateLocally } from "../../serve/local-generation.ts";
import { CLIError } from "../cli-error.ts";
import { headOption, parseOptions, positiveInt } from "../parse-options.ts";

const USAGE = `usage: aria-agent generate --model <path|id> --prompt "<text>" [options]
  complete raw text locally with all layers, no network; text to stdout, speed to stderr
options: --max-tokens N (64), --temperature T (0), --top-p P (1), --seed S, --threads T,
         --head q8_0|file, --cache-dir DIR`;

export async function run(args: string[]): Promise<void> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return;
  }
  const opts = parseOptions(args, {
    model: { type: "string" },
    prompt: { type: "string" },
    "max-tokens": { type: "string" },
    temperature: { type: "string" },
    "top-p": { type: "string" },
    seed: { type: "string" },
    threads: { type: "string" },
    head: { type: "string" },
    "cache-dir": { type: "string" },
  });
  if (!opts.model) throw new CLIError("--model <path|id> is required (the built-in model is aria-tiny-random)", "bad_option", 2);
  if (opts.prompt === undefined) throw new CLIError('--prompt "<text>" is required', "bad_option", 2);
  const maxTokens = positiveInt(opts["max-tokens"], "max-tokens", 64);
  const temperature = number(opts.temperature, "temperature", 0, 0, 2);
  const topP = number(opts["top-p"], "top-p", 1, Number.MIN_VALUE, 1);
  const seed = opts.seed === undefined ? undefined : positiveInt(opts.seed, "seed", 0);
  const threads = positiveInt(opts.threads, "threads", navigator.hardwareConcurrency || 1);
  const head = headOption(opts.head);

  const cacheDir =
    opts["cache-dir"] ?? defaultCacheDir({ ARIA_CACHE_DIR: process.env.ARIA_CACHE_DIR, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME });
  let libPath: string;
  try {
    libPath = ensureKernelLibrary(process.env.ARIA_KERNELS_LIB, cacheDir, (line) => console.error(`aria-agent: ${line}`));
  } catch (err) {
    throw new CLIError((err as Error).message, "no_kernels");
  }
  const resolved = await resolveModel(opts.model, cacheDir).catch((err: unknown) => {
    throw new CLIError((err as Error).message, "bad_model");
  });
  const loadStarted = performance.now();
  let model: LoadedModel;
  try {
    model = await LoadedModel.load(Kernels.open(libPath), resolved.id, resolved.path, { threads, head });
  } catch (err) {
    const detail = err instanceof KernelError ? `${err.statusName}: ${err.message}` : (err as Error).message;
    throw new CLIError(`cannot load ${resolved.path}: ${detail}`, "bad_model");
  }
  const loadMs = performance.now() - loadStarted;
  // BOS when the file asks for it, but never twice (a prompt may start with the BOS text itself).
  const tok = model.tokenizer;
  const prompt = tok.encode(opts.prompt, { parseSpecial: true, addBos: false });
  if (tok.addBos && tok.bosId !== undefined && prompt[0] !== tok.bosId) prompt.unshift(tok.bosId);
  const write = (text: string) => {
    if (text) process.stdout.write(text);
  };
  let firstTokenAt = 0;
  let tokens = 0;
  const started = performance.now();
  try {
    await generateLocally(model, prompt, { maxTokens, temperature, topP, seed, stop: [] }, (choice) => {
      if (choice.tokenId !== null && tokens++ === 0) firstTokenAt = performance.now();
      write(choice.text);
    });
  } catch (err) {
    if (err instanceof GenerationError) throw new CLIError(err.message, err.code);
    if (err instanceof KernelError) throw new CLIError(`${err.statusName}: ${err.message}`, "kernel_error");
    throw err;
  } finally {
    model.close();
  }
  const ended = performance.now();
  process.stdout.write("\n");
  const decodeS = (ended - firstTokenAt) / 1000;
  const decodeRate = tokens > 1 ? ((tokens - 1) / decodeS).toFixed(1) : "n/a";
  console.error(
    `[aria-agent] ${resolved.id}: load ${loadMs.toFixed(0)} ms; prompt ${prompt.length} tokens, prefill+first token ${(firstTokenAt - started).toFixed(0)} ms; ` +
      `${tokens} tokens generated, decode ${decodeRate} tok/s; ${threads} thread${threads === 1 ? "" : "s"}`,
  );
}

function number(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new CLIError(`--${name} must be a number in [${min === Number.MIN_VALUE ? 0 : min}, ${max}], got '${value}'`, "bad_option", 2);
  return n;
}
