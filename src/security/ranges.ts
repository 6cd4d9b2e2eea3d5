import { type Cidr, type IpAddress, inCidr, parseCidr, unmap } from "./ip.js";

/**
 * Which addresses are not globally routable, and why: the IANA special-purpose
 * registries for IPv4 and IPv6, read conservatively. IPv6 is an allow-list at
 * heart (only 2000::/3 is global unicast) with the special blocks inside it
 * refused; IPv4 is the global space minus the special blocks.
 */

const range = (cidr: string, reason: string): { cidr: Cidr; reason: string } => ({ cidr: parseCidr(cidr), reason });

const V4_BLOCKED = [
  range("0.0.0.0/8", "in 0.0.0.0/8 ('this network', unspecified)"),
  range("10.0.0.0/8", "a private address (RFC 1918)"),
  range("100.64.0.0/10", "a shared carrier-grade NAT address (100.64.0.0/10)"),
  range("127.0.0.0/8", "a loopback address"),
  range("169.254.0.0/16", "a link-local address (169.254.0.0/16, where cloud metadata services live)"),
  range("172.16.0.0/12", "a private address (RFC 1918)"),
  range("192.0.0.0/24", "reserved for IETF protocol assignments (192.0.0.0/24)"),
  range("192.0.2.0/24", "a documentation address (TEST-NET-1)"),
  range("192.88.99.0/24", "a 6to4 relay anycast address (deprecated)"),
  range("192.168.0.0/16", "a private address (RFC 1918)"),
  range("198.18.0.0/15", "a benchmarking address (198.18.0.0/15)"),
  range("198.51.100.0/24", "a documentation address (TEST-NET-2)"),
  range("203.0.113.0/24", "a documentation address (TEST-NET-3)"),
  range("224.0.0.0/4", "a multicast address"),
  range("255.255.255.255/32", "the broadcast address"),
  range("240.0.0.0/4", "a reserved address (240.0.0.0/4)"),
];

const V6_BLOCKED = [
  range("::/128", "the unspecified address"),
  range("::1/128", "a loopback address"),
  range("::/96", "an IPv4-compatible IPv6 address (deprecated)"),
  range("64:ff9b:1::/48", "a local-use NAT64 address (64:ff9b:1::/48)"),
  range("::/8", "in the reserved block ::/8"),
  range("100::/64", "a discard-only address (100::/64)"),
  range("2001:db8::/32", "a documentation address (2001:db8::/32)"),
  range("2001::/32", "a Teredo address (2001::/32)"),
  range("2001::/23", "reserved for IETF protocol assignments (2001::/23)"),
  range("2002::/16", "a 6to4 address (2002::/16, deprecated)"),
  range("3fff::/20", "a documentation address (3fff::/20)"),
  range("5f00::/16", "a segment-routing address (5f00::/16)"),
  range("fc00::/7", "a unique local address (fc00::/7, private)"),
  range("fe80::/10", "a link-local address (fe80::/10)"),
  range("fec0::/10", "a site-local address (fec0::/10, deprecated)"),
  range("ff00::/8", "a multicast address"),
];

/** Well-known NAT64 prefix: the last 32 bits are an IPv4 address, reached through a translator. */
const NAT64 = parseCidr("64:ff9b::/96");
const GLOBAL_UNICAST = parseCidr("2000::/3");

/**
 * Why an address is not globally routable (a phrase completing "X is …"), or
 * undefined when it is. IPv4-mapped IPv6 addresses are judged as the IPv4
 * address they stand for; NAT64 ones by the IPv4 address they translate to.
 */
export function blockedReason(address: IpAddress): string | undefined {
  const ip = unmap(address);
  if (ip.family === 4) return V4_BLOCKED.find((r) => inCidr(ip, r.cidr))?.reason;
  if (inCidr(ip, NAT64)) {
    const inner = blockedReason({ family: 4, value: ip.value & 0xffffffffn });
    return inner && `a NAT64 address of an IPv4 address that is ${inner}`;
  }
  const special = V6_BLOCKED.find((r) => inCidr(ip, r.cidr))?.reason;
  if (special) return special;
  return inCidr(ip, GLOBAL_UNICAST) ? undefined : "not a global unicast address (outside 2000::/3)";
}
