import assert from 'node:assert/strict';
import { replaySignIn, recordedSignIn, isUnreplayable } from '../../src/flows/logs/replay.ts';
import type { Db } from '../../src/store/database.ts';
import type { Harness } from './harness.ts';

const operator = { kind: 'operator', name: 'replay check' } as const;

/**
 * WIF-2's "must show": every sign-in record with a recorded decision, replayed against the
 * policies it was decided under, reproduces that decision field for field. Asserts that at least
 * one record was checked; returns how many were. A record whose decision was written without the
 * engine's input fails too: every decision written into a record must be replayable.
 */
export async function assertEverySignInReplays(target: Harness | Db, tenantId?: string): Promise<number> {
  const db = 'database' in target ? target.database.db : target;
  const tenant = tenantId ?? ('tenant' in target ? target.tenant.tenantId : undefined);
  assert.ok(tenant, 'assertEverySignInReplays needs the tenant id');
  const rows = await db.selectFrom('sign_ins').select(['id', 'record']).where('tenant_id', '=', tenant).orderBy('created_date_time').orderBy('id').execute();
  let checked = 0;
  const failures: string[] = [];
  for (const row of rows) {
    const recorded = recordedSignIn(row.record);
    if (isUnreplayable(recorded)) {
      if (recorded.code === 'noRecordedInput') failures.push(`${row.id}: a decision was recorded without its input (${String((row.record as { status?: { additionalDetails?: string } }).status?.additionalDetails ?? '')})`);
      continue;
    }
    const r = await replaySignIn(db, tenant, operator, row.id, { against: 'recorded' }, new Date());
    checked++;
    if (!r.reproduces) failures.push(`${row.id} (${recorded.decision.outcome} at ${recorded.createdDateTime}, version ${recorded.policyVersion}): ${JSON.stringify(r.differences)}`);
  }
  assert.deepEqual(failures, [], `${failures.length} of ${checked} replayed sign-ins did not reproduce their recorded decision`);
  assert.ok(checked > 0, 'no sign-in record with a recorded decision was found to replay');
  return checked;
}
