/**
 * A job's notify_url: its shape is checked when the job is submitted, and where it points is
 * checked then and again before every delivery, because the server makes the request (SSRF):
 * a URL must not reach this deployment's own network, the cloud's instance metadata service or
 * addresses that are not destinations at all. A name is resolved and every address it resolves
 * to is checked; the sender then connects to the checked address only, so a name that
 * resolves to a public address for the check and a private one for the request (DNS
 * rebinding) gets nowhere.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DependencyUnavailableError, ValidationError } from '../core/errors';
import { withTimeout } from '../core/dependencies';

export const NOTIFY_URL_FIELD = 'notify_url';
export const MAX_NOTIFY_URL_LENGTH = 2048;

/**
 * Checks a notify_url's shape (http or https, at most 2048 characters, a host, no credentials)
 * and returns it normalised (WHATWG URL serialisation, fragment dropped). Where it points is
 * assertPublicAddress's job.
 */
export function validateNotifyUrl(raw: unknown): string {
  const field = NOTIFY_URL_FIELD;
  if (typeof raw !== 'string') throw new ValidationError(`${field} must be an http:// or https:// URL string; got ${raw === null ? 'null' : typeof raw}`, { field });
  if (raw.length > MAX_NOTIFY_URL_LENGTH) {
    throw new ValidationError(`${field} must be at most ${MAX_NOTIFY_URL_LENGTH} characters; got ${raw.length}`, { field, details: { max_length: MAX_NOTIFY_URL_LENGTH } });
  }
  if (/\s/.test(raw)) throw new ValidationError(`${field} must not contain whitespace`, { field });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(`${field} must be an absolute http:// or https:// URL; got ${JSON.stringify(raw.slice(0, 80))}`, { field });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(`${field} must use http or https; got ${url.protocol.replace(/:$/, '')}`, { field, details: { allowed: ['http', 'https'] } });
  }
  if (url.hostname === '') throw new ValidationError(`${field} must name a host`, { field });
  if (url.username !== '' || url.password !== '') {
    throw new ValidationError(`${field} must not contain credentials (user:password@); authenticate deliveries with the X-Pipeline-Signature header`, { field });
  }
  url.hash = '';
  const normalised = url.href;
  if (normalised.length > MAX_NOTIFY_URL_LENGTH) {
    throw new ValidationError(`${field} must be at most ${MAX_NOTIFY_URL_LENGTH} characters once normalised; got ${normalised.length}`, { field, details: { max_length: MAX_NOTIFY_URL_LENGTH } });
  }
  return normalised;
}

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link-local'
  | 'unique-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

/** Reachable only with WEBHOOK_ALLOW_PRIVATE (local stages by default). */
const PRIVATE_CLASSES: ReadonlySet<AddressClass> = new Set(['loopback', 'private', 'cgnat', 'link-local', 'unique-local']);

/** Whether a webhook may be delivered to an address of this class. Metadata, unspecified, multicast and reserved never. */
export function addressAllowed(cls: AddressClass, allowPrivate: boolean): boolean {
  return cls === 'public' || (allowPrivate && PRIVATE_CLASSES.has(cls));
}

function ipv4Number(ip: string): number {
  const parts = ip.split('.').map(Number);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

const v4 = (cidr: string) => {
  const [base, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return { net: (ipv4Number(base) & mask) >>> 0, mask };
};

/** First match wins: specific blocks before the ones that contain them. */
const V4_BLOCKS: [ReturnType<typeof v4>, AddressClass][] = (
  [
    ['169.254.169.254/32', 'metadata'], // AWS, GCP, Azure instance metadata
    ['169.254.170.2/32', 'metadata'], // ECS task credentials
    ['0.0.0.0/8', 'unspecified'],
    ['127.0.0.0/8', 'loopback'],
    ['10.0.0.0/8', 'private'],
    ['172.16.0.0/12', 'private'],
    ['192.168.0.0/16', 'private'],
    ['100.64.0.0/10', 'cgnat'],
    ['169.254.0.0/16', 'link-local'],
    ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
    ['192.0.2.0/24', 'reserved'], // documentation
    ['198.51.100.0/24', 'reserved'],
    ['203.0.113.0/24', 'reserved'],
    ['198.18.0.0/15', 'reserved'], // benchmarking
    ['224.0.0.0/4', 'multicast'],
    ['240.0.0.0/4', 'reserved'], // future use and 255.255.255.255
  ] as [string, AddressClass][]
).map(([cidr, cls]) => [v4(cidr), cls]);

function classifyV4(ip: string): AddressClass {
  const n = ipv4Number(ip);
  for (const [{ net, mask }, cls] of V4_BLOCKS) if ((n & mask) >>> 0 === net) return cls;
  return 'public';
}

/** An IPv6 address as eight 16-bit groups (zone id dropped, embedded dotted IPv4 read). */
function ipv6Groups(ip: string): number[] {
  let s = ip.replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = ipv4Number(dotted[1]);
    s = s.slice(0, -dotted[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const h = parse(head);
  if (tail === undefined) return h;
  const t = parse(tail);
  return [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
}

function embeddedV4(hi: number, lo: number): string {
  return `${hi >>> 8}.${hi & 0xff}.${lo >>> 8}.${lo & 0xff}`;
}

function classifyV6(ip: string): AddressClass {
  const g = ipv6Groups(ip);
  const zeroUntil = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUntil(8)) return 'unspecified';
  if (zeroUntil(7) && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d): the IPv4 address is where the connection goes.
  if (zeroUntil(5) && g[5] === 0xffff) return classifyV4(embeddedV4(g[6], g[7]));
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they embed.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyV4(embeddedV4(g[6], g[7]));
  if (g[0] === 0x2002) return classifyV4(embeddedV4(g[1], g[2]));
  if (zeroUntil(6)) return 'reserved'; // IPv4-compatible (deprecated)
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return 'metadata'; // AWS IMDS over IPv6
  if ((g[0] & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0] & 0xffc0) === 0xfec0) return 'private'; // site-local (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return 'multicast';
  if (g[0] === 0x2001 && g[1] === 0x0db8) return 'reserved'; // documentation
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return 'reserved'; // discard
  // Global unicast is 2000::/3; the rest is unassigned.
  return (g[0] & 0xe000) === 0x2000 ? 'public' : 'reserved';
}

/** The class of an IP address (v4 or v6, brackets allowed); throws on anything else. */
export function classifyAddress(ip: string): AddressClass {
  const bare = ip.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare.replace(/%.*$/, ''));
  if (family === 4) return classifyV4(bare);
  if (family === 6) return classifyV6(bare);
  throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Lookup = (hostname: string) => Promise<ResolvedAddress[]>;

const systemLookup: Lookup = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })) as ResolvedAddress[];

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'EAI_NONAME', 'EAI_NODATA']);

/**
 * Where `url` points, refused unless every address it resolves to may be reached (see
 * addressAllowed): a ValidationError naming notify_url, the address and its class. Returns the
 * checked addresses, for the caller to connect to. A host that does not resolve is a
 * ValidationError too; a DNS that does not answer is a 503 (dns).
 */
export async function assertPublicAddress(
  url: string | URL,
  allowPrivate: boolean,
  opts: { lookup?: Lookup; timeoutMs?: number } = {},
): Promise<ResolvedAddress[]> {
  const field = NOTIFY_URL_FIELD;
  const host = (typeof url === 'string' ? new URL(url) : url).hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  const literal = isIP(host);
  if (literal) addresses = [{ address: host, family: literal as 4 | 6 }];
  else {
    try {
      addresses = await withTimeout(opts.timeoutMs ?? 5000, `resolving ${host}`, (opts.lookup ?? systemLookup)(host));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (NOT_FOUND.has(code)) throw new ValidationError(`${field} host ${JSON.stringify(host)} does not resolve (${code})`, { field });
      throw new DependencyUnavailableError('dns', `could not resolve ${field} host ${JSON.stringify(host)} (${code || (e as Error).message}); retry shortly`, e);
    }
    if (addresses.length === 0) throw new ValidationError(`${field} host ${JSON.stringify(host)} does not resolve`, { field });
  }
  for (const a of addresses) {
    const cls = classifyAddress(a.address);
    if (!addressAllowed(cls, allowPrivate)) {
      const hint = PRIVATE_CLASSES.has(cls) ? ' (WEBHOOK_ALLOW_PRIVATE is off on this deployment)' : '';
      throw new ValidationError(`${field} ${literal ? 'is' : `host ${JSON.stringify(host)} resolves to`} ${a.address}, a ${cls} address that webhooks may not reach${hint}`, {
        field,
        details: { address: a.address, address_class: cls },
      });
    }
  }
  return addresses;
}
