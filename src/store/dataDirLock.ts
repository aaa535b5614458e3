import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DataDirectoryLockedError } from '../domain/errors.ts';

/**
 * PGlite does not lock its data directory, and two processes opening it corrupt it. Gatehouse
 * holds `gatehouse.lock` (created exclusively, holding pid and host) for as long as it has the
 * database open. A lock left by a process that no longer runs on this host is taken over.
 */
export type DataDirLock = { release(): void };

export function lockDataDir(dir: string, purpose: string): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'gatehouse.lock');
  const me = { pid: process.pid, host: hostname(), purpose, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          const held = JSON.parse(readFileSync(path, 'utf8')) as { pid?: number };
          if (held.pid === process.pid) unlinkSync(path);
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return { release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(path);
      // An unreadable lock file is being written right now, or its writer died between creating
      // and filling it: only an old one is stale.
      if ((!holder && ageMs(path) > 10_000) || (holder && holder.host === hostname() && !isAlive(holder.pid))) {
        try {
          unlinkSync(path);
        } catch {
          // another process took it over first; the next attempt decides
        }
        continue;
      }
      const who = holder ? `${holder.purpose ?? 'gatehouse'} (pid ${holder.pid} on ${holder.host}, since ${holder.since})` : 'another process';
      throw new DataDirectoryLockedError(dir, who);
    }
  }
  throw new DataDirectoryLockedError(dir, 'another process');
}

function readHolder(path: string): { pid: number; host: string; purpose?: string; since?: string } | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { pid: number; host: string; purpose?: string; since?: string };
  } catch {
    return undefined;
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
