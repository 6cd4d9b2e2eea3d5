import { describe, expect, it } from "vitest";
import { SsrfGuard } from "../../src/security/guard.js";
import { formatIp, parseCidr, parseIp } from "../../src/security/ip.js";
import { blockedReason } from "../../src/security/ranges.js";

/** The address classifier on literal strings only: nothing here touches the network. */

const reason = (address: string): string | undefined => {
  const ip = parseIp(address);
  if (!ip) throw new Error(`not an IP: ${address}`);
  return blockedReason(ip);
};

describe("parseIp", () => {
  it.each([
    ["127.0.0.1", 4, 0x7f000001n],
    ["::1", 6, 1n],
    ["::", 6, 0n],
    ["::ffff:127.0.0.1", 6, 0xffff7f000001n],
    ["::ffff:7f00:1", 6, 0xffff7f000001n],
    ["2001:db8::1", 6, 0x20010db8000000000000000000000001n],
    ["64:ff9b::10.0.0.1", 6, 0x0064ff9b00000000000000000a000001n],
    ["1:2:3:4:5:6:7:8", 6, 0x00010002000300040005000600070008n],
  ])("%s", (text, family, value) => {
    expect(parseIp(text)).toEqual({ family, value });
  });

  it.each(["127.1", "0x7f000001", "2130706433", "017700000001", "[::1]", "fe80::1%eth0", "localhost", "", "1.2.3.4.5", "::ffff:1.2.3"])(
    "refuses the non-canonical or non-IP %j (it is resolved or normalised elsewhere)",
    (text) => {
      expect(parseIp(text)).toBeUndefined();
    },
  );

  it("formats canonically", () => {
    for (const text of ["127.0.0.1", "::1", "::", "2001:db8::1", "fe80::1:0:0:1", "1:2:3:4:5:6:7:8", "::ffff:7f00:1"]) {
      expect(formatIp(parseIp(text)!)).toBe(text);
    }
    expect(formatIp(parseIp("2001:0db8:0000:0000:0000:0000:0000:0001")!)).toBe("2001:db8::1");
  });
});

describe("parseCidr", () => {
  it("parses both families and clears host bits", () => {
    expect(parseCidr("127.0.0.1/8")).toMatchObject({ family: 4, base: 0x7f000000n, prefix: 8 });
    expect(parseCidr("::1/128")).toMatchObject({ family: 6, base: 1n, prefix: 128 });
    expect(parseCidr("0.0.0.0/0")).toMatchObject({ family: 4, base: 0n, prefix: 0 });
  });
  it.each(["10.0.0.0/33", "::/129", "10.0.0.0", "10.0.0/8", "abc/8", "10.0.0.0/-1", "10.0.0.0/8/8"])("refuses %j", (text) => {
    expect(() => parseCidr(text)).toThrow(TypeError);
  });
});

describe("blockedReason", () => {
  it.each([
    ["0.0.0.0", /unspecified/],
    ["0.1.2.3", /this network/],
    ["10.1.2.3", /private/],
    ["100.64.0.1", /carrier-grade NAT/],
    ["100.127.255.255", /carrier-grade NAT/],
    ["127.0.0.1", /loopback/],
    ["127.255.255.254", /loopback/],
    ["169.254.169.254", /link-local.*metadata/],
    ["172.16.0.1", /private/],
    ["172.31.255.255", /private/],
    ["192.0.0.8", /IETF protocol/],
    ["192.0.2.1", /documentation/],
    ["192.88.99.1", /6to4/],
    ["192.168.1.1", /private/],
    ["198.18.0.1", /benchmarking/],
    ["198.19.255.255", /benchmarking/],
    ["198.51.100.7", /documentation/],
    ["203.0.113.9", /documentation/],
    ["224.0.0.1", /multicast/],
    ["239.255.255.250", /multicast/],
    ["240.0.0.1", /reserved/],
    ["255.255.255.255", /broadcast/],
    ["::", /unspecified/],
    ["::1", /loopback/],
    ["::ffff:127.0.0.1", /loopback/],
    ["::ffff:169.254.169.254", /link-local/],
    ["::ffff:10.0.0.1", /private/],
    ["::127.0.0.1", /IPv4-compatible/],
    ["::8.8.8.8", /IPv4-compatible/],
    ["::2:0:0:1", /reserved block/],
    ["64:ff9b::127.0.0.1", /NAT64.*loopback/],
    ["64:ff9b::169.254.169.254", /NAT64.*link-local/],
    ["64:ff9b:1::1", /local-use NAT64/],
    ["100::1", /discard/],
    ["2001:db8::1", /documentation/],
    ["2001::1", /Teredo/],
    ["2001:2::1", /IETF protocol/],
    ["2002:7f00:1::1", /6to4/],
    ["3fff::1", /documentation/],
    ["5f00::1", /segment-routing/],
    ["fc00::1", /unique local/],
    ["fd12:3456::1", /unique local/],
    ["fe80::1", /link-local/],
    ["febf::1", /link-local/],
    ["fec0::1", /site-local/],
    ["ff02::1", /multicast/],
    ["4000::1", /not a global unicast/],
    ["1::1", /reserved block/],
    ["1000::1", /not a global unicast/],
  ])("%s is refused", (address, why) => {
    expect(reason(address)).toMatch(why);
  });

  it.each([
    "1.1.1.1",
    "8.8.8.8",
    "93.184.216.34",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.1",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "2001:4860:4860::8888",
  ])("%s is globally routable", (address) => {
    expect(reason(address)).toBeUndefined();
  });
});

describe("SsrfGuard.check and allowed networks", () => {
  it("refuses with a message naming the address, the reason and the way out", () => {
    expect(new SsrfGuard().check("169.254.169.254")).toBe(
      "169.254.169.254 is a link-local address (169.254.0.0/16, where cloud metadata services live); Herald delivers only to globally routable addresses unless HERALD_ALLOWED_NETWORKS includes it",
    );
    expect(new SsrfGuard().check("not-an-ip")).toMatch(/not an IP address/);
  });

  it("lets allowed networks through, in both families, and the IPv4-mapped spellings with them", () => {
    const guard = new SsrfGuard({ allowedNetworks: ["127.0.0.0/8", "fd00::/8", "10.1.0.0/16"] });
    expect(guard.check("127.0.0.1")).toBeUndefined();
    expect(guard.check("127.9.9.9")).toBeUndefined();
    expect(guard.check("::ffff:127.0.0.1")).toBeUndefined();
    expect(guard.check("fd00::5")).toBeUndefined();
    expect(guard.check("10.1.200.3")).toBeUndefined();
    expect(guard.check("10.2.0.1")).toMatch(/private/);
    expect(guard.check("::1")).toMatch(/loopback/); // 127.0.0.0/8 says nothing about ::1
    expect(guard.check("fe80::1")).toMatch(/link-local/);
    expect(new SsrfGuard({ allowedNetworks: ["::1/128"] }).check("::1")).toBeUndefined();
  });

  it("refuses a bad CIDR at construction with one line naming the variable", () => {
    expect(() => new SsrfGuard({ allowedNetworks: ["10.0.0.0/40"] })).toThrow(/^HERALD_ALLOWED_NETWORKS: expected a CIDR/);
  });
});

describe("SsrfGuard.checkUrl (creation time: literals and localhost names, no DNS)", () => {
  const guard = new SsrfGuard();

  it.each([
    "http://127.0.0.1/hook",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://017700000001/",
    "http://0177.0.0.01/",
    "http://127.000.000.001/",
    "http://[::1]:8080/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[64:ff9b::7f00:1]/",
    "https://169.254.169.254/latest/meta-data/",
    "http://0/",
    "http://0.0.0.0/",
    "http://10.0.0.1/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://localhost:8080/",
    "http://LOCALHOST./",
    "http://api.localhost/",
  ])("refuses %s", async (url) => {
    expect(await guard.checkUrl(url)).toMatch(/HERALD_ALLOWED_NETWORKS/);
  });

  it.each(["https://example.com/hook", "https://does-not-resolve.invalid/", "http://8.8.8.8/", "http://[2606:4700:4700::1111]/", "not a url"])(
    "leaves %s to attempt time (names are resolved and checked at every connection)",
    async (url) => {
      expect(await guard.checkUrl(url)).toBeUndefined();
    },
  );

  it("accepts loopback spellings and localhost once loopback is allowed", async () => {
    const dev = new SsrfGuard({ allowedNetworks: ["127.0.0.0/8", "::1/128"] });
    for (const url of ["http://127.0.0.1/", "http://2130706433/", "http://[::1]/", "http://localhost/"]) {
      expect(await dev.checkUrl(url)).toBeUndefined();
    }
  });
});
