/**
 * The admin ledger explorer (docs/dashboard.md): search entries through the admin API, open one
 * through the public /ledger API, and verify it here — leaf, inclusion proof, checkpoint
 * signature, cosignatures, receipts, consistency — with the same shared/ code the CLI uses.
 */
import { type Check, checkConsistency, checkServedEntry, type ServedEntry } from "../../shared/ledger/entry-proof.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const TOKEN_KEY = "aria-admin-token";
const VKEY_KEY = "aria-pinned-vkey";

interface Row {
  index: number;
  type: string;
  key: string;
  created_at: number;
}
interface CheckpointRow {
  size: number;
  root: string;
  note: string;
  created_at: number;
  cosignatures: string[];
}

let before: number | null = null;
let checkpoints: CheckpointRow[] = [];

class AdminError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function admin<T>(path: string): Promise<T> {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? "";
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json().catch(() => null)) as { error?: { message: string } } | null;
  if (!res.ok) throw new AdminError(body?.error?.message ?? `HTTP ${res.status}`, res.status);
  return body as T;
}

async function publicJson<T>(path: string): Promise<T> {
  const res = await fetch(path);
  const body = (await res.json().catch(() => null)) as { error?: { message: string } } | null;
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  return body as T;
}

function showChecks(ul: HTMLElement, checks: Check[]): void {
  ul.replaceChildren(
    ...checks.map((c) => {
      const li = document.createElement("li");
      li.className = c.ok ? "pass" : "fail";
      li.dataset.check = c.name;
      li.append(Object.assign(document.createElement("b"), { textContent: c.name }), `: ${c.detail}`);
      return li;
    }),
  );
  ul.dataset.result = checks.every((c) => c.ok) ? "verified" : "failed";
}

function searchQuery(): string {
  const p = new URLSearchParams();
  const set = (k: string, id: string) => {
    const v = ($(id) as HTMLInputElement).value.trim();
    if (v) p.set(k, v);
  };
  set("request_id", "q-request");
  set("node", "q-node");
  set("model", "q-model");
  set("type", "q-type");
  for (const [k, id] of [
    ["from", "q-from"],
    ["to", "q-to"],
  ] as const) {
    const v = ($(id) as HTMLInputElement).value;
    if (v) p.set(k, String(new Date(v).getTime()));
  }
  if (before !== null) p.set("before", String(before));
  p.set("limit", "50");
  return p.toString();
}

async function search(append: boolean): Promise<void> {
  if (!append) before = null;
  const { data } = await admin<{ data: Row[] }>(`/admin/api/entries?${searchQuery()}`);
  const body = ($("results") as HTMLTableElement).tBodies[0]!;
  if (!append) body.replaceChildren();
  for (const r of data) {
    const tr = document.createElement("tr");
    tr.className = "clickable";
    tr.dataset.index = String(r.index);
    for (const v of [String(r.index), r.type, r.key, new Date(r.created_at).toLocaleString()]) {
      tr.append(Object.assign(document.createElement("td"), { textContent: v, className: v === r.key ? "mono" : "" }));
    }
    tr.addEventListener("click", () => void openEntry(r.index));
    body.append(tr);
  }
  before = data.length ? data[data.length - 1]!.index : before;
  $("more").hidden = data.length < 50;
}

async function openEntry(index: number): Promise<void> {
  const section = $("entry");
  section.hidden = false;
  $("entry-title").textContent = `Entry ${index}`;
  const checksEl = $("checks");
  checksEl.replaceChildren(Object.assign(document.createElement("li"), { textContent: "verifying…" }));
  delete checksEl.dataset.result;
  try {
    const served = await publicJson<ServedEntry>(`/ledger/entry/${index}`);
    // The entry is proven against the latest checkpoint: list it (and who cosigned it) if it is new.
    if (!checkpoints.some((c) => c.size === served.checkpoint.size)) await loadCheckpoints();
    const cosignatures = checkpoints.find((c) => c.size === served.checkpoint.size)?.cosignatures ?? [];
    const { checks, entry } = await checkServedEntry(served, ($("vkey") as HTMLInputElement).value, cosignatures);
    showChecks(checksEl, checks);
    $("entry-json").textContent = entry ? JSON.stringify(entry, null, 2) : "(not JSON)";
  } catch (err) {
    showChecks(checksEl, [{ name: "fetch", ok: false, detail: (err as Error).message }]);
  }
  section.scrollIntoView({ behavior: "smooth", block: "start" });
}

async function loadCheckpoints(): Promise<void> {
  ({ data: checkpoints } = await admin<{ data: CheckpointRow[] }>("/admin/api/checkpoints?limit=100"));
  $("checkpoints-section").hidden = false;
  const body = ($("checkpoints") as HTMLTableElement).tBodies[0]!;
  body.replaceChildren(
    ...checkpoints.map((c) => {
      const tr = document.createElement("tr");
      for (const v of [String(c.size), `${c.root.slice(0, 16)}…`, String(c.cosignatures.length), new Date(c.created_at).toLocaleString()]) {
        tr.append(Object.assign(document.createElement("td"), { textContent: v }));
      }
      return tr;
    }),
  );
  for (const id of ["cp-old", "cp-new"]) {
    const select = $(id) as HTMLSelectElement;
    select.replaceChildren(
      ...checkpoints.map((c) => Object.assign(document.createElement("option"), { value: String(c.size), textContent: `size ${c.size}` })),
    );
  }
  if (checkpoints.length > 1) ($("cp-old") as HTMLSelectElement).selectedIndex = checkpoints.length - 1;
}

async function verifyConsistencyOfChoice(): Promise<void> {
  const oldSize = Number(($("cp-old") as HTMLSelectElement).value);
  const newSize = Number(($("cp-new") as HTMLSelectElement).value);
  const [a, b] = [Math.min(oldSize, newSize), Math.max(oldSize, newSize)].map((n) => checkpoints.find((c) => c.size === n)!);
  const out = $("consistency-checks");
  try {
    const { proof } = await publicJson<{ proof: string[] }>(`/ledger/consistency?old=${a!.size}&new=${b!.size}`);
    showChecks(out, checkConsistency(a!.note, b!.note, proof, ($("vkey") as HTMLInputElement).value));
  } catch (err) {
    showChecks(out, [{ name: "consistency proof", ok: false, detail: (err as Error).message }]);
  }
}

async function setUpKey(): Promise<void> {
  const pinned = localStorage.getItem(VKEY_KEY);
  const input = $("vkey") as HTMLInputElement;
  if (pinned) {
    input.value = pinned;
    $("vkey-note").textContent = "pinned in this browser";
    return;
  }
  const res = await fetch("/ledger/vkey");
  input.value = res.ok ? (await res.text()).trim() : "";
  $("vkey-note").textContent = "as served by this coordinator — paste the key from a trusted place and pin it";
}

async function enter(): Promise<void> {
  try {
    await loadCheckpoints();
  } catch (err) {
    if (err instanceof AdminError && (err.status === 401 || err.status === 403)) sessionStorage.removeItem(TOKEN_KEY);
    $("login-error").textContent = (err as Error).message;
    return;
  }
  $("login").hidden = true;
  $("explorer").hidden = false;
  $("logout").hidden = false;
  await setUpKey();
  await search(false);
}

$("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, ($("token") as HTMLInputElement).value.trim());
  ($("token") as HTMLInputElement).value = "";
  $("login-error").textContent = "";
  void enter();
});
$("logout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
});
$("search").addEventListener("submit", (e) => {
  e.preventDefault();
  void search(false).catch((err) => alert((err as Error).message));
});
$("more").addEventListener("click", () => void search(true));
$("pin").addEventListener("click", () => {
  localStorage.setItem(VKEY_KEY, ($("vkey") as HTMLInputElement).value.trim());
  $("vkey-note").textContent = "pinned in this browser";
});
$("consistency").addEventListener("click", () => void verifyConsistencyOfChoice());
if (sessionStorage.getItem(TOKEN_KEY)) void enter();
