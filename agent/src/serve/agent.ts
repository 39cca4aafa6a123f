/**
 * The agent process: its identity, the model it serves, the coordinator link, and the requests
 * in flight. Generation runs here; the link only moves messages.
 */
import type { GenerateMessage } from "../../../shared/protocol/messages.ts";
import { CLIError } from "../cli/cli-error.ts";
import { defaultConfigDir, loadOrCreateIdentity } from "../identity/node-key.ts";
import { KernelError, Kernels } from "../kernels/engine.ts";
import { kernelLibraryExists, kernelLibraryPath } from "../kernels/library-path.ts";
import { defaultCacheDir } from "../model/builtin.ts";
import { resolveModel } from "../model/resolve-model.ts";
import { CoordinatorLink } from "../net/coordinator-link.ts";
import { agentSocketUrl } from "../net/coordinator-url.ts";
import { AGENT_VERSION } from "../version.ts";
import { GenerationError, runGeneration } from "./generation.ts";
import { LoadedModel } from "./loaded-model.ts";

export interface AgentOptions {
  coordinator: string;
  model: string;
  maxSessions: number;
  cacheDir: string | undefined;
  configDir: string | undefined;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
}

export class Agent {
  private readonly active = new Map<string, { cancelled: boolean }>();
  private link: CoordinatorLink | null = null;

  private constructor(
    private readonly opts: AgentOptions,
    private readonly model: LoadedModel,
    private readonly identity: { secretKey: Uint8Array; nodeId: string },
    private readonly url: string,
  ) {}

  static async create(opts: AgentOptions): Promise<Agent> {
    let url: string;
    try {
      url = agentSocketUrl(opts.coordinator);
    } catch (err) {
      throw new CLIError(`--coordinator: ${(err as Error).message}`, "bad_option", 2);
    }
    const libPath = kernelLibraryPath(opts.env.ARIA_KERNELS_LIB);
    if (!kernelLibraryExists(libPath)) {
      throw new CLIError(`native kernels not found at ${libPath}; build them with 'npm run kernels'`, "no_kernels");
    }
    const cacheDir = opts.cacheDir ?? defaultCacheDir(opts.env);
    const resolved = await resolveModel(opts.model, cacheDir).catch((err: unknown) => {
      throw new CLIError((err as Error).message, "bad_model");
    });
    let model: LoadedModel;
    try {
      model = await LoadedModel.load(Kernels.open(libPath), resolved.id, resolved.path);
    } catch (err) {
      if (err instanceof KernelError) throw new CLIError(`cannot load ${resolved.path}: ${err.statusName}: ${err.message}`, "bad_model");
      throw new CLIError(`cannot load ${resolved.path}: ${(err as Error).message}`, "bad_model");
    }
    const identity = await loadOrCreateIdentity(opts.configDir ?? defaultConfigDir(opts.env));
    opts.log(`model ${model.id} (${model.native.info.nLayer} layers, sha256 ${model.sha256.slice(0, 12)}…) from ${resolved.path}`);
    return new Agent(opts, model, identity, url);
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
        agentVersion: AGENT_VERSION,
        maxSessions: this.opts.maxSessions,
        models: [
          {
            id: this.model.id,
            sha256: this.model.sha256,
            nLayers: this.model.native.info.nLayer,
            layerBegin: 0,
            layerEnd: this.model.native.info.nLayer,
            nCtx: this.model.contextLimit,
          },
        ],
      },
      onGenerate: (m) => void this.generate(m),
      onCancel: (id) => {
        const job = this.active.get(id);
        if (job) job.cancelled = true;
      },
      onDisconnect: () => {
        // The coordinator failed these requests when the socket dropped; stop computing them.
        for (const job of this.active.values()) job.cancelled = true;
      },
      log: (line) => this.log(line),
    });
    this.link.start();
  }

  stop(): void {
    for (const job of this.active.values()) job.cancelled = true;
    this.link?.stop();
  }

  private async generate(message: GenerateMessage): Promise<void> {
    const link = this.link;
    if (!link) return;
    const { requestId } = message;
    const fail = (code: string, text: string) => link.send({ type: "failed", requestId, code, message: text.slice(0, 1024) });
    if (message.model !== this.model.id) return void fail("model_not_loaded", `this agent serves ${this.model.id}`);
    if (this.active.size >= this.opts.maxSessions) return void fail("busy", "the agent is at its session limit");
    const job = { cancelled: false };
    this.active.set(requestId, job);
    try {
      await runGeneration(this.model, message, {
        token: (t) => {
          if (!link.send({ type: "token", requestId, ...t })) job.cancelled = true;
        },
        done: (d) => void link.send({ type: "done", requestId, ...d }),
        cancelled: () => job.cancelled,
      });
    } catch (err) {
      if (err instanceof GenerationError) fail(err.code, err.message);
      else if (err instanceof KernelError) fail("kernel_error", `${err.statusName}: ${err.message}`);
      else {
        this.log(`request ${requestId} failed: ${(err as Error).stack ?? err}`);
        fail("internal_error", "the agent hit an internal error");
      }
    } finally {
      this.active.delete(requestId);
    }
  }
}
