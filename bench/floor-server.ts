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
 * Env: DATABASE_URL, PORT, FLOOR_USERS (how many keys to expect). Prints "floor listening" when ready.
 */
import { createPublicKey, randomBytes, randomUUID, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const challenges = new Map<string, { challenge: Buffer; userId: string }>();

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
    return [200, { signInId: id }];
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

const server = http.createServer((req, res) => {
  read(req).then(async (body) => {
    if (req.url === '/floor/start') return send(res, 201, { flowId: randomUUID() });
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
