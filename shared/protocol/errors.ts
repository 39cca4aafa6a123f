/**
 * The error vocabularies, one per boundary, each a closed set of codes:
 * - API errors (client ⇄ coordinator), with their HTTP status: what a client can see. The docs'
 *   error table (docs/getting-started.md) is rendered from API_ERRORS and checked by a test.
 * - Stage failures (agent → coordinator `failed.code`): why a stage cannot go on with a session.
 * - Protocol errors (coordinator → agent `error.code`): why the coordinator refuses a socket or
 *   a message.
 */
import { z } from "zod";

export type ApiStatus = 400 | 401 | 403 | 404 | 413 | 426 | 429 | 500 | 502 | 503;

/** Every API error code, its HTTP status, and when a client sees it (the docs' wording). */
export const API_ERRORS = {
  invalid_json: { status: 400, when: "the body is not JSON" },
  invalid_request: { status: 400, when: "a field is missing or invalid (`param` names it)" },
  empty_prompt: { status: 400, when: "the prompt renders to no tokens" },
  bad_prompt: { status: 400, when: "the agent could not tokenize the prompt (the message says why)" },
  context_length_exceeded: { status: 400, when: "the tokenized prompt does not fit the model's context" },
  missing_api_key: { status: 401, when: "no `Authorization: Bearer` header" },
  invalid_api_key: { status: 401, when: "an unknown API key" },
  missing_admin_token: { status: 401, when: "an admin endpoint (`GET /v1/agents`) was called without `Authorization: Bearer`" },
  invalid_admin_token: { status: 403, when: "a wrong admin token, or none is configured on the coordinator" },
  model_not_found: { status: 404, when: "no agent has ever announced this model" },
  unknown_route: { status: 404, when: "no such endpoint" },
  not_found: { status: 404, when: "a ledger entry or tile that does not exist (yet)" },
  request_too_large: { status: 413, when: "the request body is larger than the server's limit (`ARIA_MAX_BODY_BYTES`, 4 MiB by default)" },
  name_taken: { status: 400, when: "an admin tried to create an API key with a name already used" },
  rate_limit_exceeded: {
    status: 429,
    when: "the API key is over one of its limits (requests or tokens per minute, requests at once); `Retry-After` says when to retry",
  },
  upgrade_required: { status: 426, when: "the agent endpoint was called without a WebSocket upgrade" },
  internal_error: { status: 500, when: "a bug or an unexpected failure in the coordinator" },
  ledger_write_failed: { status: 500, when: "the completion could not be recorded in the ledger (nothing is returned unrecorded)" },
  agent_error: { status: 502, when: "the agent failed while tokenizing the prompt" },
  stream_ended: { status: 502, when: "the coordinator's stream ended without a result" },
  no_agent: { status: 503, when: "the model is known but its layers are not all served now (the message names the missing ones)" },
  agents_busy: { status: 503, when: "every agent able to serve it stayed at capacity for 30 s" },
  ledger_unavailable: {
    status: 503,
    when: "the coordinator has no log key configured, so it serves no checkpoint (entries are still recorded)",
  },
  no_consent: {
    status: 503,
    when: "the model is served, but no agent's consent contract allows this request now (the message says why: schedule, task type, …)",
  },
  no_route: {
    status: 503,
    when: "a stage was lost mid-request and no other agent could take over (an error event on a stream; nothing is logged)",
  },
} as const satisfies Record<string, { status: ApiStatus; when: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** The errors a request can end with inside the Swarm: a subset of the API codes. */
export const RequestErrorCodeSchema = z.enum([
  "empty_prompt",
  "bad_prompt",
  "context_length_exceeded",
  "model_not_found",
  "ledger_write_failed",
  "agent_error",
  "no_agent",
  "no_consent",
  "agents_busy",
  "no_route",
]);
export type RequestErrorCode = z.infer<typeof RequestErrorCodeSchema>;

/** The HTTP status of an API error code. */
export function statusOf(code: ApiErrorCode): ApiStatus {
  return API_ERRORS[code].status;
}

/** Why a stage cannot continue a session (the agent's `failed` message). */
export const StageFailureCodeSchema = z.enum([
  "model_not_loaded",
  "draining",
  "bad_range",
  "bad_session",
  "busy",
  "bad_params",
  "bad_stage",
  "bad_frame",
  "kernel_error",
  "bad_prompt",
  "consent_refused",
  "internal_error",
]);
export type StageFailureCode = z.infer<typeof StageFailureCodeSchema>;

/** Why the coordinator refuses a socket or a message (its `error` message to an agent). */
export const ProtocolErrorCodeSchema = z.enum([
  "bad_state",
  "not_logged_in",
  "bad_message",
  "bad_frame",
  "login_timeout",
  "unsupported_protocol",
  "bad_signature",
  "bad_shard",
  "bad_consent",
  "server_error",
  "replaced",
  "excluded",
]);
export type ProtocolErrorCode = z.infer<typeof ProtocolErrorCodeSchema>;

/** The docs' error table, rendered from API_ERRORS (one row per status, codes in order). */
export function renderApiErrorTable(): string {
  const rows: [string, string, string][] = [];
  for (const [code, { status, when }] of Object.entries(API_ERRORS)) rows.push([String(status), `\`${code}\``, when]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ["status", "code", "when"][i]!.length));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(["status", "code", "when"]), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}
