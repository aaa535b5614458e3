import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, freshPostgresDatabase, onPostgres } from './harness.ts';

export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Run `gatehouse ...` to completion (bounded), returning exit code and output. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export type Served = { child: ChildProcess; output(): string; stop(signal?: NodeJS.Signals): Promise<number | null> };

/** Start `gatehouse serve` and wait until it says it listens (or exits). */
export function serve(env: Record<string, string>, timeoutMs = 60_000): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve'], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('Gatehouse listening on')) {
        clearTimeout(timer);
        resolve({
          child,
          output: () => out,
          stop: (signal = 'SIGTERM') => new Promise((res) => {
            if (child.exitCode !== null) return res(child.exitCode);
            child.once('exit', (code) => res(code));
            child.kill(signal);
          }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`server exited with ${code}:\n${out}`), { exitCode: code, output: out }));
    });
  });
}

/**
 * A throwaway place for CLI tests: a data directory (PGlite), or a fresh PostgreSQL database on
 * the PostgreSQL tier, with the tenant "Contoso" and its admin from `gatehouse init`.
 */
export async function cliTenant(prefix: string): Promise<{ env: Record<string, string>; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env: Record<string, string> = { PORT: String(await freePort()), GATEHOUSE_DATA_DIR: join(dir, 'data'), DATABASE_URL: '' };
  const pg = onPostgres ? await freshPostgresDatabase() : undefined;
  if (pg) env.DATABASE_URL = pg.url;
  const init = await runCli(['init', '--tenant', 'Contoso', '--admin', 'admin@contoso.test', '--json'], env);
  if (init.code !== 0) throw new Error(`gatehouse init failed: ${init.stderr}`);
  return {
    env, dir,
    close: async () => {
      rmSync(dir, { recursive: true, force: true });
      await pg?.drop();
    },
  };
}
