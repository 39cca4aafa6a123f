import { expect, test } from "bun:test";
import { type ConsentError, consentRefusal, DEFAULT_CONTRACT, parseContract, scheduleAllows, threadsAllowed } from "./contract.ts";

const at = (iso: string) => new Date(iso);

test("missing fields take the documented defaults; unknown or bad fields are named", () => {
  expect(parseContract({})).toEqual(DEFAULT_CONTRACT);
  expect(parseContract({ cpu_percent: 50 }).cpu_percent).toBe(50);
  const named = (json: unknown) => {
    try {
      parseContract(json);
    } catch (err) {
      return (err as ConsentError).field;
    }
    return null;
  };
  expect(named({ cpu_percent: 0 })).toBe("cpu_percent");
  expect(named({ cpu_percent: 101 })).toBe("cpu_percent");
  expect(named({ schedule: "9-17" })).toBe("schedule");
  expect(named({ schedule: ["22:00-06:00", "25:00-26:00"] })).toBe("schedule.1");
  expect(named({ days: ["monday"] })).toBe("days.0");
  expect(named({ task_types: ["mining"] })).toBe("task_types.0");
  expect(named({ max_ram_mb: "lots" })).toBe("max_ram_mb");
  expect(named({ allow_geo_tracking: true })).toBe("allow_geo_tracking");
  expect(named([])).toBe("(file)");
});

test("schedules are UTC windows; an overnight window belongs to the day it starts", () => {
  const nights = parseContract({ schedule: "22:00-06:00", days: ["fri"] });
  expect(scheduleAllows(nights, at("2026-11-27T23:30:00Z"))).toBe(true); // Friday night
  expect(scheduleAllows(nights, at("2026-11-28T05:59:00Z"))).toBe(true); // Saturday early: Friday's window
  expect(scheduleAllows(nights, at("2026-11-28T06:00:00Z"))).toBe(false);
  expect(scheduleAllows(nights, at("2026-11-28T23:30:00Z"))).toBe(false); // Saturday night: not a Friday
  expect(scheduleAllows(nights, at("2026-11-27T12:00:00Z"))).toBe(false);
  const office = parseContract({ schedule: ["09:00-12:00", "13:00-17:00"], days: ["mon", "tue", "wed", "thu", "fri"] });
  expect(scheduleAllows(office, at("2026-11-27T10:00:00Z"))).toBe(true);
  expect(scheduleAllows(office, at("2026-11-27T12:30:00Z"))).toBe(false);
  expect(scheduleAllows(office, at("2026-11-28T10:00:00Z"))).toBe(false); // Saturday
  expect(scheduleAllows(parseContract({ schedule: "00:00-24:00" }), at("2026-11-28T23:59:00Z"))).toBe(true);
});

test("a refusal names its reason; the default contract allows everything", () => {
  const now = { task: "chat" as const, contributionScore: 0, at: at("2026-11-27T10:00:00Z") };
  expect(consentRefusal(DEFAULT_CONTRACT, now)).toBeNull();
  expect(consentRefusal(parseContract({ revoked: true }), now)).toBe("revoked");
  expect(consentRefusal(parseContract({ days: ["sat"] }), now)).toBe("schedule");
  expect(consentRefusal(parseContract({ task_types: ["completion"] }), now)).toBe("task_type");
  expect(consentRefusal(parseContract({ task_types: ["chat"] }), now)).toBeNull();
  expect(consentRefusal(parseContract({ min_contribution_score: 2 }), now)).toBe("contribution_score");
  expect(consentRefusal(parseContract({ min_contribution_score: 2 }), { ...now, contributionScore: 2 })).toBeNull();
});

test("threads are the contract's share of the cores, at least one, never above what was asked", () => {
  expect(threadsAllowed(parseContract({ cpu_percent: 25 }), 8)).toBe(2);
  expect(threadsAllowed(parseContract({ cpu_percent: 10 }), 4)).toBe(1);
  expect(threadsAllowed(parseContract({ cpu_percent: 100 }), 8, 3)).toBe(3);
  expect(threadsAllowed(parseContract({ cpu_percent: 50 }), 8, 6)).toBe(4);
});
