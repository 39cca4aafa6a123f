/** The dashboard snapshot as the Swarm pushes it (docs/dashboard.md, "The live feed"). */
export interface SnapshotNode {
  node_id: string;
  version: string;
  models: { id: string; sha256: string; layers: [number, number] }[];
  consent: string;
  sessions: number;
  reputation: number;
  credits: number;
  verified_steps: number;
  excluded: boolean;
  mj_per_token: number | null;
  grade: string | null;
}

export interface Snapshot {
  type: "snapshot";
  at: number;
  requests: { in_flight: number; queued: number };
  throughput: [number, number][];
  nodes: SnapshotNode[];
  excluded: { node_id: string; reason: string | null; at: number | null }[];
  coverage: { model: string; sha256: string; n_layers: number; replicas: number[] }[];
  ledger: {
    size: number;
    root: string | null;
    witnesses: string[];
    latest: { index: number; type: string; key: string; leaf_hash: string; at: number }[];
  } | null;
}
