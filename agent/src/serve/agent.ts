/**
 * The agent process: its identity, the model shard it serves, the coordinator link, and the
 * stage server that does the work. The link only moves messages.
 */
import { freemem } from "node:os";
import { type ConsentContract, summarize, threadsAllowed } from "../../../shared/consent/contract.ts";
import { type SignedConsent, signConsent } from "../../../shared/consent/signed-consent.ts";
import { CLIError } from "../cli/cli-error.ts";
import { consentPath, loadConsent, watchConsent } from "../consent/consent-file.ts";
import { fitRange, type ResourceLimits, resourceLimits } from "../consent/resources.ts";
import { defaultConfigDir, loadOrCreateIdentity } from "../identity/node-key.ts";
import { KernelError, Kernels } from "../kernels/engine.ts";
import { ensureKernelLibrary } from "../kernels/library-path.ts";
import { Witness } from "../ledger/witness.ts";
import { defaultCacheDir } from "../model/builtin.ts";
import { type ModelFootprint, rangeBytes } from "../model/footprint.ts";
import { resolveModel } from "../model/resolve-model.ts";
import { CoordinatorLink } from "../net/coordinator-link.ts";
import { agentSocketUrl } from "../net/coordinator-url.ts";
import { AGENT_VERSION, announcedVersion } from "../version.ts";
import { LoadedModel, readModelHeader, type TextSide } from "./loaded-model.ts";
import { pickLayers } from "./pick-layers.ts";
import { StageServer } from "./stage-server.ts";
import { STATUS_EVERY_MS, STATUS_SOON_MS, writeStatus } from "./status-file.ts";

/** Layers to serve: an inclusive range, the i-th of N even parts, or the whole model. */
export type LayerChoice = { first: number; last: number } | { part: number; of: number } | "all" | "auto";

/** The [begin, end) range a choice means for a model of nLayers layers. */
export function layerRange(choice: Exclude<LayerChoice, "auto">, nLayers: number): { layerBegin: number; layerEnd: number } {
  if (choice === "all") return { layerBegin: 0, layerEnd: nLayers };
  if ("part" in choice) {
    if (choice.of > nLayers)
      throw new CLIError(`--layers ${choice.part}/${choice.of}: the model has only ${nLayers} layers`, "bad_option", 2);
    // Even split; the first (nLayers mod N) parts get one layer more.
    const base = Math.floor(nLayers / choice.of);
    const extra = nLayers % choice.of;
    const begin = (choice.part - 1) * base + Math.min(choice.part - 1, extra);
    return { layerBegin: begin, layerEnd: begin + base + (choice.part <= extra ? 1 : 0) };
  }
  if (choice.last >= nLayers) throw new CLIError(`--layers: the model has ${nLayers} layers (0-${nLayers - 1})`, "bad_option", 2);
  return { layerBegin: choice.first, layerEnd: choice.last + 1 };
}

export interface AgentOptions {
  coordinator: string;
  model: string;
  layers: LayerChoice;
  /** Threads asked for on the command line (else the consent's share of the cores). */
  threads: number | undefined;
  head: "q8_0" | "file";
  maxSessions: number;
  cacheDir: string | undefined;
  configDir: string | undefined;
  /** The coordinator's log key to trust (else pinned on first sight). */
  ledgerVkey: string | undefined;
  /** The consent file (else `<config dir>/consent.json`). */
  consentFile: string | undefined;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
}

/**
 * No --layers: ask the coordinator which layers of this model the network holds and take what
 * is missing (else the least replicated part), as much as fits in the memory this machine has
 * free. If the coordinator cannot be asked, serve what fits from layer 0.
 */
async function autoLayers(coordinator: string, modelId: string, nLayers: number, maxLayers: number, log: (line: string) => void) {
  let replicas: number[] = new Array(nLayers).fill(0);
  try {
    const url = new URL(coordinator.replace(/^ws/, "http"));
    url.pathname = `${url.pathname.replace(/\/+$/, "").replace(/\/v1$/, "")}/v1/agents/coverage`;
    url.searchParams.set("model", modelId);
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { nLayers: number | null; replicas: number[] };
    if (res.ok && body.nLayers === nLayers) replicas = body.replicas;
  } catch (err) {
    log(`could not ask the coordinator which layers are missing (${(err as Error).message}); choosing alone`);
  }
  return pickLayers(replicas, maxLayers);
}

/** How long a draining agent waits for its sessions to finish before leaving anyway. */
const DRAIN_TIMEOUT_MS = 30_000;

export class Agent {
  private link: CoordinatorLink | null = null;
  private sweeper: ReturnType<typeof setInterval> | null = null;
  private readonly server: StageServer;
  private consentWatch: (() => void) | null = null;
  private statusTimer: ReturnType<typeof setInterval> | null = null;
  /** A write due shortly after served work grew, so `status` does not lag a finished request. */
  private statusSoonTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly startedAt = Date.now();

  private constructor(
    private readonly opts: AgentOptions,
    private readonly model: LoadedModel,
    private readonly held: { layerBegin: number; layerEnd: number },
    private readonly identity: { secretKey: Uint8Array; nodeId: string },
    private readonly url: string,
    private readonly witness: Witness,
    private readonly limits: ResourceLimits,
    private consent: { path: string; contract: ConsentContract; signed: SignedConsent },
    private readonly configDir: string,
  ) {
    this.server = new StageServer(
      model,
      held,
      limits.maxSessions,
      {
        send: (m) => this.link?.send(m) ?? false,
        sendFrame: (b) => this.link?.sendFrame(b) ?? false,
        servedChanged: () => this.statusSoon(),
      },
      (line) => this.log(line),
      identity,
      consent.contract,
    );
  }

  static async create(opts: AgentOptions): Promise<Agent> {
    let url: string;
    try {
      url = agentSocketUrl(opts.coordinator);
    } catch (err) {
      throw new CLIError(`--coordinator: ${(err as Error).message}`, "bad_option", 2);
    }
    const cacheDir = opts.cacheDir ?? defaultCacheDir({ ARIA_CACHE_DIR: opts.env.ARIA_CACHE_DIR, XDG_CACHE_HOME: opts.env.XDG_CACHE_HOME });
    let libPath: string;
    try {
      libPath = ensureKernelLibrary(opts.env.ARIA_KERNELS_LIB, cacheDir, (line) => opts.log(line));
    } catch (err) {
      throw new CLIError((err as Error).message, "no_kernels");
    }
    const configDir = opts.configDir ?? defaultConfigDir(opts.env);
    const consentFile = consentPath(configDir, opts.consentFile);
    const { contract, fromFile } = loadConsent(consentFile);
    if (contract.revoked)
      throw new CLIError(
        `consent file ${consentFile}: consent is revoked; grant it again with 'aria-agent consent set revoked=false'`,
        "consent_revoked",
      );
    const resolved = await resolveModel(opts.model, cacheDir).catch((err: unknown) => {
      throw new CLIError((err as Error).message, "bad_model");
    });
    const cores = navigator.hardwareConcurrency || 1;
    // The layers are chosen from the file's header (what each one really holds); then only they
    // are loaded (docs/kernels-abi.md, "Range loads").
    let footprint: ModelFootprint;
    let text: TextSide;
    try {
      ({ footprint, text } = await readModelHeader(resolved.path, opts.head));
    } catch (err) {
      throw new CLIError(`cannot read ${resolved.path}: ${(err as Error).message}`, "bad_model");
    }
    const nLayer = footprint.nLayers;
    const limits = resourceLimits(
      contract,
      { cores, freeBytes: freemem() },
      { threads: opts.threads, maxSessions: opts.maxSessions },
      footprint,
    );
    const noRoom = () =>
      new CLIError(`consent: max_ram_mb ${contract.max_ram_mb} (or the free memory) holds no layer of this model`, "consent_ram");
    if (limits.maxLayers === 0) throw noRoom();
    let held: { layerBegin: number; layerEnd: number };
    if (opts.layers === "auto") {
      const picked = await autoLayers(opts.coordinator, resolved.id, nLayer, limits.maxLayers, (line) => opts.log(line));
      // The first or last stage also holds the embedding or the head: shorten the range if that does not fit.
      const fitted = fitRange(footprint, picked, limits.memoryBudget);
      if (!fitted) throw noRoom();
      held = fitted;
    } else {
      held = layerRange(opts.layers, nLayer);
      const needs = rangeBytes(footprint, held);
      if (needs > contract.max_ram_mb * 2 ** 20)
        throw new CLIError(
          `--layers ${held.layerBegin}-${held.layerEnd - 1} needs ${Math.ceil(needs / 2 ** 20)} MB, more than the consent's max_ram_mb ${contract.max_ram_mb}`,
          "consent_ram",
          2,
        );
    }
    let model: LoadedModel;
    try {
      const threads = threadsAllowed(contract, cores, opts.threads);
      model = await LoadedModel.load(Kernels.open(libPath), resolved.id, resolved.path, {
        threads,
        head: opts.head,
        layers: held,
        hashCacheDir: cacheDir,
        text,
      });
    } catch (err) {
      if (err instanceof KernelError) throw new CLIError(`cannot load ${resolved.path}: ${err.statusName}: ${err.message}`, "bad_model");
      throw new CLIError(`cannot load ${resolved.path}: ${(err as Error).message}`, "bad_model");
    }
    const identity = await loadOrCreateIdentity(configDir);
    let witness: Witness;
    try {
      witness = await Witness.open(configDir, opts.coordinator, identity, opts.ledgerVkey, (line) => opts.log(line));
    } catch (err) {
      model.close();
      throw new CLIError(`cannot set up the ledger witness: ${(err as Error).message}`, "bad_option", 2);
    }
    opts.log(`consent: ${summarize(contract)} (${fromFile ? consentFile : "the default contract: no consent file"})`);
    opts.log(
      `model ${model.id} layers ${held.layerBegin}-${held.layerEnd - 1} of ${nLayer} (sha256 ${model.sha256.slice(0, 12)}…) from ${resolved.path}`,
    );
    const signed = signConsent(contract, identity.nodeId, identity.secretKey, Date.now());
    return new Agent(opts, model, held, identity, url, witness, limits, { path: consentFile, contract, signed }, configDir);
  }

  log(line: string): void {
    this.opts.log(line);
  }

  start(): void {
    this.link = new CoordinatorLink({
      url: this.url,
      secretKey: this.identity.secretKey,
      nodeId: this.identity.nodeId,
      announce: {
        agentVersion: announcedVersion(this.model.native.numericsVersion),
        maxSessions: this.limits.maxSessions,
        consent: this.consent.signed,
        models: [
          {
            id: this.model.id,
            sha256: this.model.sha256,
            nLayers: this.model.native.info.nLayer,
            layerBegin: this.held.layerBegin,
            layerEnd: this.held.layerEnd,
            nCtx: this.model.contextLimit,
            maxTokenBytes: this.model.maxTokenBytes,
            // What the range load really holds (the library's own count), not an estimate.
            heldBytes: this.model.native.memory().allocated,
          },
        ],
      },
      onRequest: (m) => {
        if (m.type === "tokenize") void this.server.tokenize(m);
        else if (m.type === "open") this.server.open(m);
        else if (m.type === "feed") this.server.feed(m);
        else this.server.close(m.session);
      },
      onWelcome: (ledger) => this.witness.onAnnounced(ledger),
      onWitness: (body) => this.link?.send(this.witness.handle(body)),
      onFrame: (bytes) => this.server.frame(bytes),
      // The coordinator abandons every session of a dropped socket; free their caches.
      onDisconnect: () => this.server.closeAll(),
      log: (line) => this.log(line),
    });
    this.link.start();
    this.sweeper = setInterval(() => this.server.sweepIdle(), 30_000);
    this.consentWatch = watchConsent(this.consent.path, () => this.reloadConsent());
    this.writeStatus();
    this.statusTimer = setInterval(() => this.writeStatus(), STATUS_EVERY_MS);
  }

  /** Coalesces the writes of many sessions closing together into one, at most STATUS_SOON_MS later. */
  private statusSoon(): void {
    if (this.statusSoonTimer || !this.statusTimer) return;
    this.statusSoonTimer = setTimeout(() => {
      this.statusSoonTimer = null;
      this.writeStatus();
    }, STATUS_SOON_MS);
  }

  /** `<config dir>/status.json` for `aria-agent status`; a failed write is logged, never fatal. */
  private writeStatus(): void {
    try {
      writeStatus(this.configDir, {
        node_id: this.identity.nodeId,
        pid: process.pid,
        version: AGENT_VERSION,
        coordinator: this.opts.coordinator,
        connected: this.link?.connected ?? false,
        model: {
          id: this.model.id,
          sha256: this.model.sha256,
          layers: [this.held.layerBegin, this.held.layerEnd],
          n_layers: this.model.native.info.nLayer,
        },
        sessions: this.server.activeSessions,
        max_sessions: this.limits.maxSessions,
        served: {
          sessions: this.server.served.sessions,
          tokens: this.server.served.tokens,
          energy_mj: Math.round(this.server.served.energyMj * 1000) / 1000,
          cpu_ms: Math.round(this.server.served.cpuMs),
          energy_method: this.server.energyMethod,
        },
        consent: summarize(this.consent.contract),
        model_bytes: this.model.native.memory().allocated,
        started_at: this.startedAt,
        updated_at: Date.now(),
      });
    } catch (err) {
      if (this.statusTimer) this.log(`could not write the status file: ${(err as Error).message}`);
    }
  }

  /**
   * The owner edited the contract (`aria-agent consent set|revoke`, or by hand): sign it, put it in
   * force here, and send it to the coordinator. A bad edit is reported and the old contract stays.
   */
  private reloadConsent(): void {
    let contract: ConsentContract;
    try {
      contract = loadConsent(this.consent.path).contract;
    } catch (err) {
      this.log(`${(err as Error).message}; keeping the contract in force`);
      return;
    }
    if (JSON.stringify(contract) === JSON.stringify(this.consent.contract)) return;
    const signed = signConsent(
      contract,
      this.identity.nodeId,
      this.identity.secretKey,
      Math.max(Date.now(), this.consent.signed.body.issued_at + 1),
    );
    this.consent = { path: this.consent.path, contract, signed };
    this.server.setConsent(contract);
    this.link?.setConsent(signed);
    this.log(`consent changed: ${summarize(contract)}`);
  }

  /** Finish in-flight sessions (accepting no new ones), then leave. */
  async drain(): Promise<void> {
    this.server.drain();
    this.link?.send({ type: "draining" });
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (this.server.activeSessions > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.stop();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
    if (this.statusSoonTimer) clearTimeout(this.statusSoonTimer);
    this.statusSoonTimer = null;
    this.writeStatus();
    this.consentWatch?.();
    this.server.closeAll();
    this.link?.stop();
  }
}
