/**
 * Consent contracts (docs/consent.md): what the owner of a machine allows its agent to do, in the
 * field names the predecessor's users know. Parsed with one schema on both ends; every decision
 * that depends on a contract goes through the functions here, so the coordinator (routing) and the
 * agent (refusing) cannot disagree.
 */
import { z } from "zod";

/** Kinds of work a request is (the API endpoint it came through). */
export const TASK_TYPES = ["chat", "completion"] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Day = (typeof DAYS)[number];

/** "HH:MM-HH:MM" in UTC; the end may be 24:00; an end before the start runs overnight. */
const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$/;
const Window = z.string().regex(WINDOW, 'expected a UTC window "HH:MM-HH:MM", e.g. "22:00-06:00"');

export const ConsentContractSchema = z.strictObject({
  /** Share of this machine's cores the agent may use (its threads). */
  cpu_percent: z.number().int().min(1).max(100),
  /** Memory the agent may hold for model layers and caches, MB (limits the layers it takes). */
  max_ram_mb: z.number().int().min(1).max(16_777_216),
  /** Outgoing activation traffic, megabits per second. */
  max_bandwidth_mbps: z.number().positive().max(1_000_000),
  /** When the agent may work, UTC: one window or several. */
  schedule: z.union([Window, z.array(Window).min(1).max(24)]),
  /** Days it may work (UTC). */
  days: z.array(z.enum(DAYS)).min(1).max(7),
  /** Kinds of requests it may serve. */
  task_types: z.array(z.enum([...TASK_TYPES, "any"])).min(1),
  /** Requests it may serve at once. */
  max_concurrent_tasks: z.number().int().min(1).max(1024),
  /** Whether the agent may write per-request lines to its own log (the ledger never holds text either way). */
  allow_logging: z.boolean(),
  /** The least contribution score a requester must have for this node to serve it. */
  min_contribution_score: z.number().min(0),
  /** Withdrawn: no new work (open requests finish, unless `stop_open_work`). */
  revoked: z.boolean(),
  /** With `revoked`: stop open requests too (they fail over to other agents). */
  stop_open_work: z.boolean(),
});
export type ConsentContract = z.infer<typeof ConsentContractSchema>;

/** What applies with no consent file (docs/consent.md explains each choice). */
export const DEFAULT_CONTRACT: ConsentContract = {
  cpu_percent: 100,
  max_ram_mb: 4096,
  max_bandwidth_mbps: 100,
  schedule: "00:00-24:00",
  days: [...DAYS],
  task_types: ["any"],
  max_concurrent_tasks: 4,
  allow_logging: true,
  min_contribution_score: 0,
  revoked: false,
  stop_open_work: false,
};

/** A consent problem worded for one line: the field and what is wrong. */
export class ConsentError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** A contract from the owner's JSON (missing fields take the defaults); throws ConsentError naming the field. */
export function parseContract(json: unknown): ConsentContract {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new ConsentError("(file)", "expected a JSON object");
  const merged = { ...DEFAULT_CONTRACT, ...(json as Record<string, unknown>) };
  const parsed = ConsentContractSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === "unrecognized_keys" ? issue.keys.join(", ") : issue.path.join(".") || "(file)";
    const why = issue.code === "unrecognized_keys" ? "not a consent field" : issue.message;
    throw new ConsentError(field, why);
  }
  return parsed.data;
}

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** Whether `at` falls in the contract's days and schedule (UTC). A window starting on an allowed day may run past midnight. */
export function scheduleAllows(c: ConsentContract, at: Date): boolean {
  const day = DAYS[at.getUTCDay()]!;
  const yesterday = DAYS[(at.getUTCDay() + 6) % 7]!;
  const now = at.getUTCHours() * 60 + at.getUTCMinutes();
  for (const window of typeof c.schedule === "string" ? [c.schedule] : c.schedule) {
    const start = minutes(window.slice(0, 5));
    const end = window.endsWith("24:00") ? 24 * 60 : minutes(window.slice(6, 11));
    if (start === end || (start < end && now >= start && now < end)) {
      if (c.days.includes(day)) return true;
    } else if (start > end) {
      // Overnight: the part after midnight belongs to the day the window started.
      if (now >= start && c.days.includes(day)) return true;
      if (now < end && c.days.includes(yesterday)) return true;
    }
  }
  return false;
}

/** Why a contract does not allow a request now, or null when it does. */
export type ConsentRefusal = "revoked" | "schedule" | "task_type" | "contribution_score";

export function consentRefusal(
  c: ConsentContract,
  request: { task: TaskType; contributionScore: number; at: Date },
): ConsentRefusal | null {
  if (c.revoked) return "revoked";
  if (!scheduleAllows(c, request.at)) return "schedule";
  if (!c.task_types.includes("any") && !c.task_types.includes(request.task)) return "task_type";
  if (request.contributionScore < c.min_contribution_score) return "contribution_score";
  return null;
}

/** Worker threads for a machine of `cores` cores: the contract's share (at least one), never above `requested`. */
export function threadsAllowed(c: ConsentContract, cores: number, requested?: number): number {
  const share = Math.max(1, Math.floor((cores * c.cpu_percent) / 100));
  return requested === undefined ? share : Math.min(requested, share);
}

/** A one-line summary for people (dashboards, `consent show`). */
export function summarize(c: ConsentContract): string {
  if (c.revoked) return c.stop_open_work ? "revoked (open work stopped)" : "revoked";
  const schedule = typeof c.schedule === "string" ? c.schedule : c.schedule.join(",");
  const days = c.days.length === 7 ? "every day" : c.days.join(",");
  return `${c.cpu_percent}% CPU, ${c.max_ram_mb} MB, ${c.max_bandwidth_mbps} Mbit/s, ${schedule} UTC ${days}, ${c.task_types.join(",")}, ${c.max_concurrent_tasks} at once, min score ${c.min_contribution_score}`;
}
