import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, type ConfigOverrides, LOOPBACK_NETWORKS, resolveConfig } from "../../src/config/config.js";
import { Herald } from "../../src/herald.js";
import { tempDir } from "../helpers/herald.js";
import { spawnHerald } from "../helpers/process.js";

describe("herald CLI configuration", () => {
  const cases: [Record<string, string>, string[], RegExp][] = [
    [{ HERALD_RETRY_SCHEDULE: "soon" }, ["serve"], /^herald: HERALD_RETRY_SCHEDULE: expected comma-separated durations/],
    [{ HERALD_PORT: "eighty" }, ["serve"], /^herald: HERALD_PORT: expected an integer from 0 to 65535/],
    [{ HERALD_REQUEST_TIMEOUT: "90s" }, ["worker"], /^herald: HERALD_REQUEST_TIMEOUT: expected a duration/],
    [{ HERALD_ROLE: "boss" }, ["serve"], /^herald: HERALD_ROLE: expected all, api or worker/],
    [{ HERALD_DATABASE_URL: "mysql://x" }, ["migrate"], /^herald: HERALD_DATABASE_URL: unsupported scheme/],
    [{ HERALD_API_KEY: "short" }, ["serve"], /^herald: HERALD_API_KEY: expected at least 16 characters/],
    [{}, ["serve", "--max-payload-bytes", "-5"], /^herald: HERALD_MAX_PAYLOAD_BYTES: expected an integer/],
    [{ HERALD_DEV: "yes" }, ["serve"], /^herald: HERALD_DEV: expected 1, true, 0 or false, got "yes"$/],
    [{ HERALD_ALLOWED_NETWORKS: "10.0.0.0/33" }, ["serve"], /^herald: HERALD_ALLOWED_NETWORKS: expected comma-separated CIDRs/],
  ];
  for (const [env, args, message] of cases) {
    it(`rejects ${JSON.stringify(env)} ${args.join(" ")} with one line and a non-zero exit`, async () => {
      const { dir, cleanup } = tempDir();
      try {
        const p = spawnHerald(args, { HERALD_DATABASE_URL: `sqlite:${join(dir, "h.db")}`, HERALD_PORT: "0", ...env });
        const code = await p.exited;
        expect(code).toBe(2);
        const lines = p.output().trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(message);
      } finally {
        cleanup();
      }
    });
  }

  it("migrates a new database and exits 0", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const db = join(dir, "sub", "m.db");
      const p = spawnHerald(["migrate", "--database-url", `sqlite:${db}`], {});
      expect(await p.exited).toBe(0);
      expect(p.output()).toMatch(/migrations applied/);
      expect(existsSync(db)).toBe(true);
    } finally {
      cleanup();
    }
  });

  it("stops gracefully on SIGTERM", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const p = spawnHerald(["serve"], { HERALD_DATABASE_URL: `sqlite:${join(dir, "h.db")}`, HERALD_PORT: "0" });
      await p.waitFor(/Admin API key \(shown once[^:]*\): hk_/);
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      // The key is printed once: a second start does not print it again.
      const again = spawnHerald(["serve"], { HERALD_DATABASE_URL: `sqlite:${join(dir, "h.db")}`, HERALD_PORT: "0" });
      await again.waitFor(/listening on/);
      again.child.kill("SIGTERM");
      expect(await again.exited).toBe(0);
      expect(again.output()).not.toMatch(/hk_/);
    } finally {
      cleanup();
    }
  });
});

/** The one line `resolveConfig` throws, or a failure when it does not throw. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a configuration error");
}

describe("library configuration overrides", () => {
  // Each override and the variable that says the same: the same one-line error.
  const same: [ConfigOverrides, Record<string, string>][] = [
    [{ requestTimeoutMs: -5 }, { HERALD_REQUEST_TIMEOUT: "-5ms" }],
    [{ requestTimeoutMs: 60_000 }, { HERALD_REQUEST_TIMEOUT: "1m" }],
    [{ role: "boss" as never }, { HERALD_ROLE: "boss" }],
    [{ retry: { schedule: [0, -1000], jitter: 0.1 } }, { HERALD_RETRY_SCHEDULE: "0ms,-1000ms" }],
    [{ port: 70_000 }, { HERALD_PORT: "70000" }],
    [{ maxPayloadBytes: -5 }, { HERALD_MAX_PAYLOAD_BYTES: "-5" }],
    [{ apiRateLimit: 1.5 }, { HERALD_API_RATE_LIMIT: "1.5" }],
    [{ allowedNetworks: ["10.0.0.0/8", "10.0.0.0/33"] }, { HERALD_ALLOWED_NETWORKS: "10.0.0.0/8,10.0.0.0/33" }],
    [{ logLevel: "loud" }, { HERALD_LOG_LEVEL: "loud" }],
    [{ publicUrl: "ftp://hooks.example.com" }, { HERALD_PUBLIC_URL: "ftp://hooks.example.com" }],
    [{ retentionMs: 1000 }, { HERALD_RETENTION: "1s" }],
    [{ apiKey: "short" }, { HERALD_API_KEY: "short" }],
    [{ dev: "yes" as never }, { HERALD_DEV: "yes" }],
    [{ operationalWebhook: { url: "ftp://ops.example.com", secret: undefined } }, { HERALD_OPERATIONAL_WEBHOOK_URL: "ftp://ops.example.com" }],
    [{ delivery: { leaseMs: 10 } }, { HERALD_LEASE: "10ms" }],
  ];
  for (const [overrides, env] of same) {
    it(`refuses ${JSON.stringify(overrides)} with the line ${Object.keys(env)[0]} gets`, () => {
      const expected = configError(() => resolveConfig(env));
      expect(expected).toMatch(new RegExp(`^${Object.keys(env)[0]}: `));
      expect(configError(() => resolveConfig({}, overrides))).toBe(expected);
    });
  }

  it("refuses what no variable sets, and unknown options, with one line naming the field", () => {
    expect(configError(() => resolveConfig({}, { retry: { schedule: [0], jitter: 2 } }))).toBe("config.retry.jitter: expected a number from 0 to 1, got 2");
    expect(configError(() => resolveConfig({}, { delivery: { concurrency: 0 } }))).toBe("config.delivery.concurrency: expected an integer from 1 to 100000, got 0");
    expect(configError(() => resolveConfig({}, { delivery: { pollIntervalMs: -1 } }))).toMatch(/^config\.delivery\.pollIntervalMs: expected an integer/);
    expect(configError(() => resolveConfig({}, { requestTimeout: 5000 } as never))).toMatch(/^config\.requestTimeout: not an option; expected one of store, host, /);
    expect(configError(() => resolveConfig({}, { store: { kind: "mysql", url: "mysql://x" } as never }))).toMatch(/^HERALD_DATABASE_URL: expected sqlite:PATH/);
    expect(configError(() => resolveConfig({}, { host: "" }))).toMatch(/^HERALD_HOST: expected a host name/);
  });

  it("applies valid overrides over the settings, checked and typed", () => {
    const config = resolveConfig(
      { HERALD_PORT: "1", HERALD_REQUEST_TIMEOUT: "2s", HERALD_LOG_LEVEL: "warn" },
      { port: 2, retry: { schedule: [0, 150, 90_000], jitter: 0 }, delivery: { pollIntervalMs: 50 }, retentionMs: null, publicUrl: "https://hooks.example.com/" },
    );
    expect(config).toMatchObject({ port: 2, requestTimeoutMs: 2000, logLevel: "warn", retentionMs: null, publicUrl: "https://hooks.example.com" });
    expect(config.retry).toEqual({ schedule: [0, 150, 90_000], jitter: 0 });
    expect(config.delivery).toMatchObject({ pollIntervalMs: 50, concurrency: 256 });
    expect(resolveConfig({}, { store: { kind: "sqlite", path: "/tmp/x.db" }, apiKey: undefined }).store).toEqual({ kind: "sqlite", path: "/tmp/x.db" });
  });

  it("development mode adds loopback to the allowed networks, however it is asked for", () => {
    for (const config of [resolveConfig({ HERALD_DEV: "1" }), resolveConfig({ HERALD_DEV: "true", HERALD_ALLOWED_NETWORKS: "10.0.0.0/8" }), resolveConfig({}, { dev: true })]) {
      expect(config.dev).toBe(true);
      expect(config.allowedNetworks).toEqual(expect.arrayContaining([...LOOPBACK_NETWORKS]));
    }
    expect(resolveConfig({ HERALD_DEV: "true", HERALD_ALLOWED_NETWORKS: "10.0.0.0/8,127.0.0.0/8" }).allowedNetworks).toEqual(["10.0.0.0/8", "127.0.0.0/8", "::1/128"]);
    expect(resolveConfig({ HERALD_DEV: "0" })).toMatchObject({ dev: false, allowedNetworks: [] });
    expect(resolveConfig({ HERALD_DEV: "1" }, { dev: false })).toMatchObject({ dev: false, allowedNetworks: [] });
  });

  it("Herald.open refuses a bad override before it opens anything", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const opening = Herald.open({ settings: { HERALD_DATABASE_URL: `sqlite:${join(dir, "h.db")}` }, config: { requestTimeoutMs: -1 } });
      await expect(opening).rejects.toThrow(/^HERALD_REQUEST_TIMEOUT: expected a duration/);
      expect(existsSync(join(dir, "h.db"))).toBe(false);
    } finally {
      cleanup();
    }
  });
});

describe("a client certificate for brokers over TLS", () => {
  const fixture = (name: string) => new URL(`../security/fixtures/${name}`, import.meta.url).pathname;
  const settings = (cert?: string, key?: string) => ({
    ...(cert === undefined ? {} : { HERALD_BROKER_TLS_CERT: cert }),
    ...(key === undefined ? {} : { HERALD_BROKER_TLS_KEY: key }),
  });

  it("reads both files at start, as they are", () => {
    expect(resolveConfig({}).brokerClientCert).toBeUndefined();
    const { brokerClientCert } = resolveConfig(settings(fixture("client.cert.pem"), fixture("client.key.pem")));
    expect(brokerClientCert?.cert.toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(brokerClientCert?.key.toString()).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it("refuses one without the other, an unreadable file, what is not PEM, and a key of another certificate, in one line", () => {
    expect(configError(() => resolveConfig(settings(fixture("client.cert.pem"))))).toBe(
      "HERALD_BROKER_TLS_CERT: set HERALD_BROKER_TLS_CERT and HERALD_BROKER_TLS_KEY together",
    );
    expect(configError(() => resolveConfig(settings(undefined, fixture("client.key.pem"))))).toBe(
      "HERALD_BROKER_TLS_KEY: set HERALD_BROKER_TLS_CERT and HERALD_BROKER_TLS_KEY together",
    );
    expect(configError(() => resolveConfig(settings("/nonexistent/cert.pem", fixture("client.key.pem"))))).toBe(
      'HERALD_BROKER_TLS_CERT: cannot read "/nonexistent/cert.pem" (ENOENT)',
    );
    expect(configError(() => resolveConfig(settings(fixture("client.key.pem"), fixture("client.key.pem"))))).toMatch(/^HERALD_BROKER_TLS_CERT: .* is not a PEM certificate$/);
    expect(configError(() => resolveConfig(settings(fixture("client.cert.pem"), fixture("client.cert.pem"))))).toMatch(
      /^HERALD_BROKER_TLS_KEY: .* is not a PEM private key \(without a passphrase\)$/,
    );
    expect(configError(() => resolveConfig(settings(fixture("client.cert.pem"), fixture("broker-ip.key.pem"))))).toBe(
      "HERALD_BROKER_TLS_KEY: is not the key of the certificate in HERALD_BROKER_TLS_CERT",
    );
  });
});
