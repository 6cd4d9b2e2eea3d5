import { isIPv4, isIPv6 } from "node:net";

/**
 * IP addresses as numbers, and CIDR ranges over them. Only canonical literals
 * are parsed here (what `node:net` calls an IP: dotted quads, RFC 4291 IPv6
 * text, an optional zone refused). Other spellings (`127.1`, `0x7f000001`,
 * `2130706433`) never reach this module as addresses: WHATWG URL parsing
 * rewrites them to dotted quads, and a host that is not an IP literal is
 * resolved, and what it resolves to is checked.
 */

export interface IpAddress {
  family: 4 | 6;
  /** The address as an unsigned integer: 32 bits for IPv4, 128 for IPv6. */
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  /** The network address (host bits cleared). */
  base: bigint;
  prefix: number;
  /** The text it was parsed from, for messages. */
  text: string;
}

/** Parses a canonical IPv4 or IPv6 literal (IPv6 without brackets or zone); undefined otherwise. */
export function parseIp(text: string): IpAddress | undefined {
  if (isIPv4(text)) {
    let value = 0n;
    for (const part of text.split(".")) value = (value << 8n) | BigInt(Number(part));
    return { family: 4, value };
  }
  if (!isIPv6(text) || text.includes("%")) return undefined;
  let head = text;
  let tail: bigint[] = [];
  // An embedded dotted quad (`::ffff:127.0.0.1`) is the last 32 bits.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(head);
  if (dotted) {
    const v4 = parseIp(dotted[1]!);
    if (!v4) return undefined;
    tail = [v4.value >> 16n, v4.value & 0xffffn];
    head = head.slice(0, -dotted[1]!.length);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const [left = "", right] = head.split("::");
  const groups = (s: string): bigint[] => (s === "" ? [] : s.split(":").map((g) => BigInt(`0x${g}`)));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const fill = 8 - l.length - r.length - tail.length;
  if (fill < 0 || (right === undefined && fill !== 0)) return undefined;
  const all = [...l, ...Array<bigint>(fill).fill(0n), ...r, ...tail];
  let value = 0n;
  for (const g of all) value = (value << 16n) | g;
  return { family: 6, value };
}

const bits = (family: 4 | 6): number => (family === 4 ? 32 : 128);

function mask(family: 4 | 6, prefix: number): bigint {
  const width = BigInt(bits(family));
  return ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n);
}

/** Parses `address/prefix` (host bits may be set; they are ignored). Throws a TypeError naming the problem. */
export function parseCidr(text: string): Cidr {
  const slash = text.lastIndexOf("/");
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  const prefixText = slash < 0 ? "" : text.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits(ip.family)) {
    throw new TypeError(`expected a CIDR such as 10.1.0.0/16 or fd00::/8, got ${JSON.stringify(text)}`);
  }
  const prefix = Number(prefixText);
  return { family: ip.family, base: ip.value & mask(ip.family, prefix), prefix, text };
}

export function inCidr(ip: IpAddress, cidr: Cidr): boolean {
  return ip.family === cidr.family && (ip.value & mask(cidr.family, cidr.prefix)) === cidr.base;
}

const MAPPED = parseCidr("::ffff:0.0.0.0/96");

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) stands for; the address itself otherwise. */
export function unmap(ip: IpAddress): IpAddress {
  return inCidr(ip, MAPPED) ? { family: 4, value: ip.value & 0xffffffffn } : ip;
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (for messages). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // Compress the longest run of two or more zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}
