import { delimiter, resolve } from 'node:path';

/** Server configuration from the environment (architecture.md, "Contracts"). */
export type Config = {
  port: number;
  host: string;
  /** Where users and relying parties reach this server; issuers are built from it. */
  publicBaseUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  poolMax: number;
  logLevel: string;
  bodyLimitBytes: number;
  /**
   * Which proxies may set X-Forwarded-For (Fastify's trustProxy): false (default) uses the socket
   * address, so clients can't spoof their address past the per-address throttles.
   */
  trustProxy: boolean | number | string[];
  /** WebAuthn (PK-1): the RP id and the origins ceremonies may come from. */
  webauthn: { rpId: string; rpName: string; origins: string[] };
  /** FIDO metadata files or directories with trust anchors for attestation (PK-2). */
  fidoMetadataPaths: string[];
};

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = intSetting(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST || '0.0.0.0';
  const base = env.GATEHOUSE_PUBLIC_URL || `http://localhost:${port}`;
  let publicBaseUrl: string;
  try {
    const u = new URL(base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    if (u.search || u.hash) throw new Error('query');
    publicBaseUrl = u.href.replace(/\/+$/, '');
  } catch {
    throw new ConfigError(`GATEHOUSE_PUBLIC_URL '${base}' must be an absolute http(s) URL without query or fragment, e.g. https://id.example.com`);
  }
  const dataDir = env.GATEHOUSE_DATA_DIR || './data';
  return {
    port,
    host,
    publicBaseUrl,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: dataDir === 'memory://' ? dataDir : resolve(dataDir),
    poolMax: intSetting(env, 'GATEHOUSE_DB_POOL_MAX', 10, 1, 1000),
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimitBytes: intSetting(env, 'GATEHOUSE_BODY_LIMIT_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    trustProxy: trustProxySetting(env.GATEHOUSE_TRUST_PROXY),
    webauthn: {
      rpId: env.GATEHOUSE_WEBAUTHN_RP_ID || new URL(publicBaseUrl).hostname,
      rpName: env.GATEHOUSE_WEBAUTHN_RP_NAME || 'Gatehouse',
      origins: [new URL(publicBaseUrl).origin, ...origins(env.GATEHOUSE_WEBAUTHN_ORIGINS)],
    },
    fidoMetadataPaths: (env.GATEHOUSE_FIDO_METADATA || '').split(delimiter).filter(Boolean).map((p) => resolve(p)),
  };
}

function intSetting(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name}='${raw}' must be an integer from ${min} to ${max}`);
  }
  return Number(raw);
}

function origins(raw: string | undefined): string[] {
  return (raw || '').split(',').map((s) => s.trim()).filter(Boolean).map((o) => {
    try {
      const u = new URL(o);
      if (u.origin === 'null' || u.pathname !== '/' || u.search || u.hash) throw new Error('not an origin');
      return u.origin;
    } catch {
      throw new ConfigError(`GATEHOUSE_WEBAUTHN_ORIGINS entry '${o}' must be an origin such as https://login.example.com`);
    }
  });
}

/** GATEHOUSE_TRUST_PROXY: unset/false, true (any), a hop count, or a comma-separated list of proxy addresses/CIDRs. */
function trustProxySetting(raw: string | undefined): boolean | number | string[] {
  if (!raw || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^[0-9]{1,2}$/.test(raw)) return Number(raw);
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0 || list.some((s) => !/^[0-9a-fA-F:.]+(\/[0-9]{1,3})?$/.test(s))) {
    throw new ConfigError(`GATEHOUSE_TRUST_PROXY='${raw}' must be false, true, a hop count, or a comma-separated list of proxy addresses or CIDRs`);
  }
  return list;
}
