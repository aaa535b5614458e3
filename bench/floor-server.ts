/**
 * The floor for bench/sign-in.ts (BENCH_WORKLOADS=floor): the least a passkey sign-in with a
 * durable sign-in record can cost on this machine, with none of Gatehouse in it. Not a product;
 * run only by the bench, as a child process next to PostgreSQL:
 *
 *   POST /floor/start    {}                         → { flowId }          no database, no state
 *   POST /floor/options  { flowId, userId }         → { challenge }       kept in this process's memory only
 *   POST /floor/assert   { flowId, userId, signature } (ECDSA P-256 over challenge ‖ flowId)
 *        one transaction: BEGIN; the user's public key (row-locked); the signature verified;
 *        the counter update and the sign-in record insert in one statement; COMMIT.
 *
 * The record is a real Gatehouse sign-in record (read from `sign_ins` at start), written into
 * `floor_sign_ins`, a copy of `sign_ins` with the same columns and indexes, so the log write costs
 * what Gatehouse's does. Everything Gatehouse does besides is left out: the flow and challenge rows
 * (here: memory, which only works for one process), WebAuthn parsing and checks, the decision
 * engine, validation, Fastify, Kysely, metrics and logging.
 *
 * For bench/oidc-sign-in.ts (BENCH_OIDC_FLOOR=on), the same around an authorization code grant,
 * with the least durable state an OIDC sign-in needs (the code, single use):
 *
 *   GET  /floor/authorize?client_id&redirect_uri&state&nonce&code_challenge
 *        → 303 to the page, an HMAC-signed cookie naming the request (no database)
 *   GET  /floor/page?uid          a static page of the sign-in page's size
 *   POST /floor/start, /floor/assert as above (options in the start's answer), then
 *   POST /floor/complete {uid, flowId} → { redirectTo } (memory)
 *   GET  /floor/resume?uid        the cookie checked; the code inserted (autocommit) → 303 to the redirect URI
 *   POST /floor/token             the code consumed (one UPDATE … RETURNING), PKCE S256 checked, an RS256
 *                                 ID token and an RS256 access token signed
 *
 * Env: DATABASE_URL, PORT. Prints "floor listening" when ready.
 */
import { createHash, createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign, timingSafeEqual, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const challenges = new Map<string, { challenge: Buffer; userId: string }>();
/** OIDC floor: authorization requests by uid, and which flow signed in for which request. */
const requests = new Map<string, { clientId: string; redirectUri: string; state: string; nonce: string; codeChallenge: string; userId?: string }>();
const grantedFlows = new Map<string, string>();
const cookieKey = randomBytes(32);
const { privateKey: signingKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PAGE = `<!doctype html><html><head><title>Sign in</title></head><body>${'<p>Sign in with a passkey.</p>'.repeat(100)}</body></html>`;
await pool.query(`CREATE TABLE IF NOT EXISTS floor_codes (code text PRIMARY KEY, user_id uuid NOT NULL, client_id text NOT NULL, code_challenge text NOT NULL,
  nonce text NOT NULL, redirect_uri text NOT NULL, expires_at timestamptz NOT NULL, consumed_at timestamptz)`);

const mac = (v: string) => createHmac('sha256', cookieKey).update(v).digest('base64url');
const b64json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function jwt(payload: Record<string, unknown>): string {
  const input = `${b64json({ alg: 'RS256', typ: 'JWT' })}.${b64json(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), signingKey).toString('base64url')}`;
}
function cookieUid(req: http.IncomingMessage): string | undefined {
  const m = /(?:^|;\s*)floor=([^;.]+)\.([^;]+)/.exec(req.headers.cookie ?? '');
  if (!m) return undefined;
  const expected = Buffer.from(mac(m[1]!));
  const got = Buffer.from(m[2]!);
  return expected.length === got.length && timingSafeEqual(expected, got) ? m[1] : undefined;
}

const sample = await pool.query<{ record: unknown; tenant_id: string }>('SELECT record, tenant_id FROM sign_ins ORDER BY created_date_time DESC LIMIT 1');
const record = JSON.stringify(sample.rows[0]?.record ?? { note: 'no Gatehouse sign-in record to copy' });
const tenantId = sample.rows[0]?.tenant_id ?? randomUUID();

function read(req: http.IncomingMessage): Promise<any> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

const send = (res: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

async function assert(body: { flowId: string; userId: string; signature: string }): Promise<[number, unknown]> {
  const pending = challenges.get(body.flowId);
  challenges.delete(body.flowId);
  if (!pending || pending.userId !== body.userId) return [400, { error: 'challenge' }];
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const r = await c.query<{ jwk: JsonWebKey; sign_count: number }>('SELECT jwk, sign_count FROM floor_passkeys WHERE user_id = $1 FOR UPDATE', [body.userId]);
    const row = r.rows[0];
    const key: KeyObject | undefined = row ? createPublicKey({ key: row.jwk, format: 'jwk' }) : undefined;
    const ok = key && verify('sha256', Buffer.concat([pending.challenge, Buffer.from(body.flowId)]), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(body.signature, 'base64url'));
    if (!ok) {
      await c.query('ROLLBACK');
      return [400, { error: 'signature' }];
    }
    const id = randomUUID();
    await c.query(`WITH u AS (UPDATE floor_passkeys SET sign_count = sign_count + 1, last_used_at = now() WHERE user_id = $1)
      INSERT INTO floor_sign_ins (id, tenant_id, created_date_time, user_id, user_principal_name, app_id, ip_address, error_code, correlation_id, record, conditional_access_status, is_interactive)
      VALUES ($2, $3, now(), $1, $4, NULL, '127.0.0.1', 0, $5, $6::jsonb, 'success', true)`,
    [body.userId, id, tenantId, `${body.userId}@floor.test`, randomUUID(), record]);
    await c.query('COMMIT');
    grantedFlows.set(body.flowId, body.userId);
    return [200, { signInId: id, decision: { outcome: 'grant' } }];
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

const redirect = (res: http.ServerResponse, location: string, cookie?: string) => {
  res.writeHead(303, { location, 'content-length': 0, ...(cookie ? { 'set-cookie': cookie } : {}) });
  res.end();
};

async function oidc(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: any): Promise<boolean> {
  const q = url.searchParams;
  if (url.pathname === '/floor/authorize') {
    const uid = randomUUID();
    requests.set(uid, { clientId: q.get('client_id') ?? '', redirectUri: q.get('redirect_uri') ?? '', state: q.get('state') ?? '', nonce: q.get('nonce') ?? '', codeChallenge: q.get('code_challenge') ?? '' });
    redirect(res, `/floor/page?uid=${uid}`, `floor=${uid}.${mac(uid)}; Path=/floor; HttpOnly; SameSite=Lax`);
    return true;
  }
  if (url.pathname === '/floor/page') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(PAGE) });
    res.end(PAGE);
    return true;
  }
  if (url.pathname === '/floor/complete') {
    const r = requests.get(String(body.uid));
    const userId = grantedFlows.get(String(body.flowId));
    grantedFlows.delete(String(body.flowId));
    if (!r || !userId) send(res, 400, { error: 'not signed in' });
    else {
      r.userId = userId;
      send(res, 200, { redirectTo: `/floor/resume?uid=${body.uid}` });
    }
    return true;
  }
  if (url.pathname === '/floor/resume') {
    const uid = cookieUid(req);
    const r = uid === q.get('uid') && uid ? requests.get(uid) : undefined;
    if (!uid || !r?.userId) {
      send(res, 400, { error: 'no such request' });
      return true;
    }
    requests.delete(uid);
    const code = randomBytes(32).toString('base64url');
    await pool.query('INSERT INTO floor_codes (code, user_id, client_id, code_challenge, nonce, redirect_uri, expires_at) VALUES ($1, $2, $3, $4, $5, $6, now() + interval \'1 minute\')',
      [code, r.userId, r.clientId, r.codeChallenge, r.nonce, r.redirectUri]);
    redirect(res, `${r.redirectUri}?code=${code}&state=${encodeURIComponent(r.state)}`);
    return true;
  }
  if (url.pathname === '/floor/token') {
    const f = new URLSearchParams(body as string);
    const row = (await pool.query<{ user_id: string; client_id: string; code_challenge: string; nonce: string }>(
      'UPDATE floor_codes SET consumed_at = now() WHERE code = $1 AND consumed_at IS NULL AND expires_at > now() RETURNING user_id, client_id, code_challenge, nonce', [f.get('code')])).rows[0];
    const pkce = createHash('sha256').update(f.get('code_verifier') ?? '').digest('base64url');
    if (!row || row.client_id !== f.get('client_id') || pkce !== row.code_challenge) send(res, 400, { error: 'invalid_grant' });
    else {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: 'http://floor', sub: row.user_id, iat: now, exp: now + 3600 };
      send(res, 200, {
        token_type: 'Bearer', expires_in: 3600,
        id_token: jwt({ ...claims, aud: row.client_id, nonce: row.nonce, amr: ['fido'], auth_time: now }),
        access_token: jwt({ ...claims, aud: 'http://floor/userinfo', scope: 'openid profile', jti: randomUUID() }),
      });
    }
    return true;
  }
  return false;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://floor');
  const form = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded');
  (form ? new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  }) : read(req)).then(async (body) => {
    if (await oidc(req, res, url, body)) return;
    if (req.url === '/floor/start') {
      if (!body.passkeyOptions) return send(res, 201, { flowId: randomUUID() });
      // Options in the start's answer: the flow is bound to the user only when the assertion names it.
      const flowId = randomUUID();
      const challenge = randomBytes(32);
      challenges.set(flowId, { challenge, userId: String(body.userId) });
      return send(res, 201, { flowId, challenge: challenge.toString('base64url') });
    }
    if (req.url === '/floor/options') {
      const challenge = randomBytes(32);
      challenges.set(String(body.flowId), { challenge, userId: String(body.userId) });
      return send(res, 200, { challenge: challenge.toString('base64url') });
    }
    if (req.url === '/floor/assert') {
      const [status, out] = await assert(body);
      return send(res, status, out);
    }
    if (req.url === '/healthz') return send(res, 200, { status: 'ok' });
    return send(res, 404, { error: 'not found' });
  }).catch((err: Error) => send(res, 500, { error: err.message }));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('floor listening\n'));
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
