/** The agent endpoint for a coordinator base URL: http(s)/ws(s) accepted, path appended. */
export function agentSocketUrl(coordinator: string): string {
  let url: URL;
  try {
    url = new URL(coordinator);
  } catch {
    throw new Error(`not a URL: ${coordinator}`);
  }
  const scheme = { "http:": "ws:", "https:": "wss:", "ws:": "ws:", "wss:": "wss:" }[url.protocol];
  if (!scheme) throw new Error(`unsupported scheme ${url.protocol} (use http, https, ws or wss)`);
  url.protocol = scheme;
  url.pathname = `${url.pathname.replace(/\/+$/, "").replace(/\/v1$/, "")}/v1/agents/connect`;
  return url.toString();
}
