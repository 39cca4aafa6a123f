/** This agent's version, as announced to the coordinator. */
import pkg from "../package.json" with { type: "json" };

export const AGENT_VERSION: string = pkg.version;

/**
 * The version announced to the coordinator: the package's plus libaria's numerics version
 * (docs/kernels-abi.md, "Numerics version"). The coordinator re-executes a node's work only on
 * agents that announce the same version, and two builds of one package version can differ in
 * their arithmetic (a checkout between releases).
 */
export function announcedVersion(numericsVersion: number): string {
  return `${AGENT_VERSION}+numerics.${numericsVersion}`;
}
