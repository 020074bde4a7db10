/**
 * Outbound target policy (SSRF stance): only http(s); no credentials in URLs; no loopback, private,
 * link-local, CGNAT, multicast, reserved or documentation addresses, in any IPv4/IPv6 spelling; no
 * `localhost`-style names; not the engine's own host — unless ALLOWED_OUTBOUND_HOSTS names the host.
 * Host names are not resolved here (Workers have no DNS API); in production the
 * `global_fetch_strictly_public` compatibility flag is the second wall against names resolving inward.
 */
import { env as workerEnv } from "cloudflare:workers";

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

const BLOCKED_NAMES = [/^localhost$/, /\.localhost$/, /\.local$/, /\.internal$/, /^metadata$/, /^metadata\.google\.internal$/];

export function parseAllowedHosts(value: string | undefined): Set<string> {
  return new Set(
    (value ?? "")
      .split(",")
      .map((h) =>
        h
          .trim()
          .toLowerCase()
          .replace(/^\[|\]$/g, ""),
      )
      .filter(Boolean),
  );
}

function ipv4ToInt(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

const V4_BLOCKED: [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];

function v4Blocked(n: number): boolean {
  return V4_BLOCKED.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (n & mask) >>> 0 === (ipv4ToInt(base)! & mask) >>> 0;
  });
}

/** Expands an IPv6 literal (without brackets) to 8 16-bit groups, or null if it is not one. */
function ipv6Groups(host: string): number[] | null {
  if (!host.includes(":")) return null;
  let h = host.split("%")[0];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (v4) {
    const n = ipv4ToInt(v4[1]);
    if (n === null) return null;
    h = h.slice(0, -v4[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail, ...rest] = h.split("::");
  if (rest.length > 0) return null;
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)));
  const a = parse(head);
  const b = tail === undefined ? [] : parse(tail);
  const fill = 8 - a.length - b.length;
  if ((tail === undefined && fill !== 0) || fill < 0) return null;
  const groups = [...a, ...new Array(tail === undefined ? 0 : fill).fill(0), ...b];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : null;
}

function v6Blocked(g: number[]): boolean {
  const allZeroPrefix = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (allZeroPrefix(8)) return true; // ::
  if (allZeroPrefix(7) && g[7] === 1) return true; // ::1
  const embeddedV4 = ((g[6] << 16) >>> 0) + g[7];
  if (allZeroPrefix(5) && g[5] === 0xffff) return v4Blocked(embeddedV4); // ::ffff:a.b.c.d
  if (allZeroPrefix(6)) return true; // ::a.b.c.d (deprecated v4-compatible)
  if (allZeroPrefix(4) && g[4] === 0xffff && g[5] === 0) return v4Blocked(embeddedV4); // ::ffff:0:a.b.c.d (IPv4-translated)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4Blocked(embeddedV4); // NAT64
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return true; // 64:ff9b:1::/48 local-use NAT64
  if (g[0] === 0x100 && g.slice(1, 4).every((x) => x === 0)) return true; // 100::/64 discard-only
  if (g[0] === 0x2001 && g[1] === 0) return true; // 2001::/32 Teredo (hides an IPv4 address)
  if ((g[0] & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g[0] & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g[0] & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local
  if ((g[0] & 0xff00) === 0xff00) return true; // multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // documentation
  if (g[0] === 0x2002) return v4Blocked(((g[1] << 16) >>> 0) + g[2]); // 6to4 embeds an IPv4
  return false;
}

/** The engine's own host names (SELF_HOSTS): every check refuses them, whichever caller forgot to pass them. */
const configuredSelfHosts = (): string | undefined => (workerEnv as { SELF_HOSTS?: string } | undefined)?.SELF_HOSTS;

/**
 * Checks a URL against the policy above. `selfHost` is the engine's own host name, or a comma-separated
 * list as SELF_HOSTS; by default the Worker's SELF_HOSTS.
 */
export function checkOutboundUrl(
  raw: string,
  allowed: Set<string>,
  selfHost: string | undefined = configuredSelfHosts(),
): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "Not a valid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { ok: false, reason: `Scheme ${url.protocol} is not allowed` };
  if (url.username || url.password) return { ok: false, reason: "Credentials in the URL are not allowed" };
  const host = url.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  if (!host) return { ok: false, reason: "The URL has no host" };
  if (allowed.has(host) || allowed.has(`${host}:${url.port}`)) return { ok: true, url };
  if (selfHost && parseAllowedHosts(selfHost).has(host))
    return { ok: false, reason: "Calls to the engine's own host are not allowed" };
  if (BLOCKED_NAMES.some((re) => re.test(host))) return { ok: false, reason: `Host ${host} is not allowed` };
  const v4 = ipv4ToInt(host);
  if (v4 !== null) return v4Blocked(v4) ? { ok: false, reason: `Address ${host} is private or reserved` } : { ok: true, url };
  if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) return { ok: false, reason: `Host ${host} is not a valid address` };
  const v6 = ipv6Groups(host);
  if (v6) return v6Blocked(v6) ? { ok: false, reason: `Address ${host} is private or reserved` } : { ok: true, url };
  if (host.includes(":")) return { ok: false, reason: `Host ${host} is not a valid address` };
  return { ok: true, url };
}

/** The outbound options of a Worker env: its allowlist and its own host names (pass to safeFetch). */
export function outboundPolicy(env: { ALLOWED_OUTBOUND_HOSTS?: string; SELF_HOSTS?: string }): {
  allowedHosts: string | undefined;
  selfHost: string | undefined;
} {
  return { allowedHosts: env.ALLOWED_OUTBOUND_HOSTS, selfHost: env.SELF_HOSTS };
}

/**
 * Save-time check of a literal outbound URL (an action's `url`, a `notify_url`, a connection's `base_url`):
 * the reason it is refused under `env`'s policy, or null when it may be called. Templated URLs are checked
 * when they are sent, after rendering.
 */
export function outboundRefusal(env: { ALLOWED_OUTBOUND_HOSTS?: string; SELF_HOSTS?: string }, url: string): string | null {
  const check = checkOutboundUrl(url, parseAllowedHosts(env.ALLOWED_OUTBOUND_HOSTS), env.SELF_HOSTS);
  // The URL may embed a credential (a webhook token): the reason names the host at most, never the whole URL.
  return check.ok ? null : check.reason.replace(url, "the URL");
}
