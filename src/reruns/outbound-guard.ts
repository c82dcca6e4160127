/**
 * The SSRF guard of rerun calls (REQUIREMENTS §5): a rerun target must be on the allow-list an admin
 * configured (`RERUN_ALLOWED_HOSTS`), and the address its name resolves to must not be internal.
 *
 * Two checks, because one is not enough:
 * - `checkTargetUrl` looks at the URL before anything is sent (scheme, userinfo, host on the list).
 * - `createGuardedLookup` checks the addresses at connect time, as the `lookup` of `http.request`: checking
 *   a name's addresses beforehand and connecting later lets a DNS answer that changes in between
 *   (DNS rebinding) reach an internal address.
 *
 * An admin who lists an IP literal (`127.0.0.1:8080`) has chosen that address, so internal addresses are
 * allowed for it; a name on the list (`localhost`) only ever reaches public addresses unless private
 * addresses are allowed as a whole (`allowPrivateAddresses`).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, isIPv4, isIPv6, type LookupFunction } from 'node:net';

/** Where rerun calls may go. */
export interface OutboundPolicy {
  /** Entries of `RERUN_ALLOWED_HOSTS`: `host`, `*.suffix`, `1.2.3.4`, `[::1]`, each optionally `:port`. */
  allowedHosts: readonly string[];
  /** Lets every listed host reach private, loopback and other internal addresses (tests, closed networks). */
  allowPrivateAddresses: boolean;
}

/** One parsed allow-list entry; `host` is normalised as WHATWG URL normalises a URL's host. */
export interface AllowedHostEntry {
  kind: 'name' | 'suffix' | 'ip';
  /** Lower case, punycode, no trailing dot; IPv6 in brackets; for `suffix` the part after `*.`. */
  host: string;
  /** undefined: any port. */
  port: number | undefined;
}

/** The verdict on a target URL; `allowPrivateAddresses` is what the connect-time lookup must allow. */
export type TargetCheck =
  { ok: true; url: URL; allowPrivateAddresses: boolean } | { ok: false; reason: string };

/** `code` of the error the guarded lookup fails with. */
export const ADDRESS_REFUSED_CODE = 'ERR_RERUN_ADDRESS_REFUSED';

/** A resolved address the guard refused; `code` is {@link ADDRESS_REFUSED_CODE}. */
export class AddressRefusedError extends Error {
  readonly code = ADDRESS_REFUSED_CODE;
  readonly hostname: string;
  readonly address: string;

  constructor(hostname: string, address: string, kind: string) {
    const resolved =
      hostname === address ? `The address ${address}` : `The host ${hostname} resolves to ${address}, which`;
    super(
      `${resolved} is ${kind} and rerun calls to it are refused; list the IP address itself on the ` +
        'rerun allow-list, or allow private addresses, to permit it.',
    );
    this.name = 'AddressRefusedError';
    this.hostname = hostname;
    this.address = address;
  }
}

const INTERNAL_RANGES: readonly { kind: string; ipv4?: readonly string[]; ipv6?: readonly string[] }[] = [
  { kind: 'an unspecified address', ipv4: ['0.0.0.0/8'], ipv6: ['::/128'] },
  { kind: 'a loopback address', ipv4: ['127.0.0.0/8'], ipv6: ['::1/128'] },
  { kind: 'a private address', ipv4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] },
  { kind: 'a shared (carrier-grade NAT) address', ipv4: ['100.64.0.0/10'] },
  // 169.254.169.254 is the cloud metadata service of AWS, GCP, Azure and others.
  { kind: 'a link-local address', ipv4: ['169.254.0.0/16'], ipv6: ['fe80::/10'] },
  { kind: 'a unique-local address', ipv6: ['fc00::/7', 'fec0::/10'] },
  { kind: 'a multicast address', ipv4: ['224.0.0.0/4'], ipv6: ['ff00::/8'] },
  { kind: 'a broadcast or reserved address', ipv4: ['240.0.0.0/4'] },
  {
    kind: 'a special-purpose address',
    ipv4: ['192.0.0.0/24', '192.0.2.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24'],
    ipv6: ['::/96', '100::/64', '2001:db8::/32'],
  },
];

const INTERNAL_LISTS: readonly { kind: string; list: BlockList }[] = INTERNAL_RANGES.map(
  ({ kind, ipv4, ipv6 }) => {
    const list = new BlockList();
    for (const cidr of ipv4 ?? []) addCidr(list, cidr, 'ipv4');
    for (const cidr of ipv6 ?? []) addCidr(list, cidr, 'ipv6');
    return { kind, list };
  },
);

function addCidr(list: BlockList, cidr: string, family: 'ipv4' | 'ipv6'): void {
  const [network = '', prefix = ''] = cidr.split('/');
  list.addSubnet(network, Number(prefix), family);
}

/**
 * What kind of internal address `address` is ("a loopback address", …), or undefined for a public one.
 * IPv4 addresses embedded in IPv6 (`::ffff:127.0.0.1`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged
 * by the IPv4 address; anything that is not an IP address counts as internal (fail closed).
 */
export function internalAddressKind(address: string): string | undefined {
  const bare = address.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return 'not an IP address';
  const embedded = family === 6 ? embeddedIPv4(bare) : undefined;
  if (embedded !== undefined) return internalAddressKind(embedded);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return INTERNAL_LISTS.find(({ list }) => list.check(bare, type))?.kind;
}

/** The IPv4 address a mapped, NAT64 or 6to4 IPv6 address carries, else undefined. */
function embeddedIPv4(address: string): string | undefined {
  const groups = expandIPv6(address);
  if (groups === undefined) return undefined;
  const isMapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  const isNat64 =
    groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((group) => group === 0);
  if (isMapped || isNat64) return ipv4FromGroups(groups[6] ?? 0, groups[7] ?? 0);
  if (groups[0] === 0x2002) return ipv4FromGroups(groups[1] ?? 0, groups[2] ?? 0);
  return undefined;
}

function ipv4FromGroups(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The eight 16-bit groups of a valid IPv6 address (as `isIPv6` accepts it), else undefined. */
function expandIPv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
    text = text.slice(0, -dotted.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const groups = [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups].map((group) =>
    Number.parseInt(group, 16),
  );
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff)
    ? groups
    : undefined;
}

/**
 * A `lookup` for `http.request`/`net.connect` (the signature of `dns.lookup` with an options object,
 * honouring `options.all`): resolves with `dns.lookup` and fails with an {@link AddressRefusedError}
 * when any resolved address is internal, unless `allowPrivateAddresses`. One bad address refuses the
 * whole name: a name that mixes public and internal addresses is not a target to trust.
 */
export function createGuardedLookup(options: { allowPrivateAddresses: boolean }): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
      if (error !== null) return callback(error, '');
      const refusal = options.allowPrivateAddresses ? undefined : refuseInternal(hostname, addresses);
      if (refusal !== undefined) return callback(refusal, '');
      const [first] = addresses;
      if (lookupOptions.all === true) return callback(null, addresses);
      if (first === undefined) return callback(notFound(hostname), '');
      callback(null, first.address, first.family);
    });
  };
}

/** The guarded lookup that refuses every internal address. */
export const guardedLookup: LookupFunction = createGuardedLookup({ allowPrivateAddresses: false });

function refuseInternal(
  hostname: string,
  addresses: readonly LookupAddress[],
): AddressRefusedError | undefined {
  for (const { address } of addresses) {
    const kind = internalAddressKind(address);
    if (kind !== undefined) return new AddressRefusedError(hostname, address, kind);
  }
  return undefined;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
}

/**
 * Parses one `RERUN_ALLOWED_HOSTS` entry; undefined when it is not one (a URL, a path, a bad port, a
 * wildcard on an IP). Config loading can use it to reject a bad entry at start-up; `checkTargetUrl`
 * ignores entries it cannot parse, so a typo never widens the list.
 */
export function parseAllowedHostEntry(entry: string): AllowedHostEntry | undefined {
  let text = entry.trim().toLowerCase();
  const isSuffix = text.startsWith('*.');
  if (isSuffix) text = text.slice(2);
  const split = splitHostPort(text);
  if (split === undefined || /[/?#@\\*\s]/.test(split.host)) return undefined;
  const port = split.port === undefined ? undefined : parsePort(split.port);
  if (port === null) return undefined;
  const host = normaliseHost(split.host);
  if (host === undefined) return undefined;
  const isIpLiteral = host.startsWith('[') || isIPv4(host);
  if (isSuffix && isIpLiteral) return undefined;
  return { kind: isSuffix ? 'suffix' : isIpLiteral ? 'ip' : 'name', host, port };
}

function splitHostPort(text: string): { host: string; port: string | undefined } | undefined {
  if (text === '') return undefined;
  if (isIPv6(text)) return { host: `[${text}]`, port: undefined };
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    const rest = text.slice(end + 1);
    if (end < 0 || (rest !== '' && !rest.startsWith(':'))) return undefined;
    return { host: text.slice(0, end + 1), port: rest === '' ? undefined : rest.slice(1) };
  }
  const colon = text.lastIndexOf(':');
  return colon < 0
    ? { host: text, port: undefined }
    : { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

/** The port number, or null when `text` is not a port. */
function parsePort(text: string): number | null {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  return port >= 1 && port <= 65535 ? port : null;
}

function normaliseHost(host: string): string | undefined {
  if (host === '') return undefined;
  try {
    return stripTrailingDot(new URL(`http://${host}/`).hostname);
  } catch {
    return undefined;
  }
}

function stripTrailingDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * Decides whether a rerun may call `url`: http or https only, no userinfo (credentials belong in
 * headers, where they are not logged with the URL), and a host and port on `policy.allowedHosts`.
 * Reasons name the host and port, never the path, query or credentials.
 */
export function checkTargetUrl(url: string, policy: OutboundPolicy): TargetCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'The rerun target is not a valid absolute URL.' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return {
      ok: false,
      reason: `The rerun target uses the scheme "${parsed.protocol.slice(0, -1)}"; only http and https are allowed.`,
    };
  }
  const host = stripTrailingDot(parsed.hostname);
  if (parsed.username !== '' || parsed.password !== '') {
    return {
      ok: false,
      reason: `The rerun target URL for host ${host} contains a user name or password; send credentials in headers instead.`,
    };
  }
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  const entry = policy.allowedHosts
    .map(parseAllowedHostEntry)
    .find((candidate) => candidate !== undefined && entryMatches(candidate, host, port));
  if (entry === undefined) return { ok: false, reason: notListedReason(host, port, policy) };
  return {
    ok: true,
    url: parsed,
    allowPrivateAddresses: policy.allowPrivateAddresses || entry.kind === 'ip',
  };
}

function entryMatches(entry: AllowedHostEntry, host: string, port: number): boolean {
  if (entry.port !== undefined && entry.port !== port) return false;
  if (entry.kind === 'suffix') return host.endsWith(`.${entry.host}`);
  return host === entry.host;
}

function notListedReason(host: string, port: number, policy: OutboundPolicy): string {
  const target = `The host ${host} (port ${port})`;
  return policy.allowedHosts.some((entry) => entry.trim() !== '')
    ? `${target} is not on the rerun allow-list (RERUN_ALLOWED_HOSTS).`
    : `${target} is refused: the rerun allow-list (RERUN_ALLOWED_HOSTS) is empty, so no rerun target is allowed.`;
}
