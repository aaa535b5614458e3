import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  approverRefusal, DEFAULT_RECOVERY_POLICY, gracePeriodEnd, MAX_DELIVERY_ATTEMPTS, openCaseBody, publicRecoveryPolicy, RECOVERY_STATES,
  requiresApproval, retryDelayMs, stepAllowed, type RecoveryState,
} from '../../../src/domain/recovery.ts';

const DAY = 86_400_000;
const now = new Date('2026-11-25T08:00:00Z');
const aCase = (state: RecoveryState, over: { gracePeriodEndsAt?: Date | null; cleanedUpAt?: Date | null } = {}) => ({ state, gracePeriodEndsAt: null, cleanedUpAt: null, ...over });

test('RCV-1: approval is required by default for admins only; requireApprovalForAll makes it required for everyone', () => {
  assert.equal(requiresApproval(DEFAULT_RECOVERY_POLICY, true), true);
  assert.equal(requiresApproval(DEFAULT_RECOVERY_POLICY, false), false);
  assert.equal(requiresApproval({ ...DEFAULT_RECOVERY_POLICY, requireApprovalForAll: true }, false), true);
  assert.equal(requiresApproval({ ...DEFAULT_RECOVERY_POLICY, requireApprovalForAdmins: false }, true), false);
});

test('RCV-1: the opener and the target cannot approve; another admin or an app can', () => {
  const opener = { kind: 'user' as const, id: 'u1', userPrincipalName: 'a@x' };
  assert.match(approverRefusal(opener, opener, 'target')!.message, /opened the case/);
  assert.match(approverRefusal({ kind: 'user', id: 'target', userPrincipalName: 't@x' }, opener, 'target')!.message, /themselves/);
  assert.equal(approverRefusal({ kind: 'user', id: 'u2', userPrincipalName: 'b@x' }, opener, 'target'), null);
  assert.equal(approverRefusal({ kind: 'app', appId: 'app' }, opener, 'target'), null);
  assert.notEqual(approverRefusal({ kind: 'operator', name: 'cli (ann)' }, { kind: 'operator', name: 'cli (ann)' }, 'target'), null);
  assert.equal(approverRefusal({ kind: 'operator', name: 'cli (bob)' }, { kind: 'operator', name: 'cli (ann)' }, 'target'), null);
});

test('states: approve only pending; cancel only open; complete only active; restore while active or in the grace period; clean-up after it', () => {
  const graceEnd = new Date(now.getTime() + DAY);
  const table: [RecoveryState, string, boolean][] = [];
  for (const s of RECOVERY_STATES) {
    table.push([s, 'approve', stepAllowed(aCase(s), 'approve', now) === null]);
    table.push([s, 'cancel', stepAllowed(aCase(s), 'cancel', now) === null]);
    table.push([s, 'complete', stepAllowed(aCase(s), 'complete', now) === null]);
  }
  assert.deepEqual(table.filter(([, , ok]) => ok).map(([s, step]) => `${step}:${s}`), ['approve:pendingApproval', 'cancel:pendingApproval', 'cancel:active', 'complete:active']);
  assert.equal(stepAllowed(aCase('active'), 'restore', now), null);
  assert.equal(stepAllowed(aCase('completed', { gracePeriodEndsAt: graceEnd }), 'restore', now), null);
  assert.match(stepAllowed(aCase('completed', { gracePeriodEndsAt: now }), 'restore', now)!.message, /grace period/);
  assert.notEqual(stepAllowed(aCase('cancelled'), 'restore', now), null);
  assert.notEqual(stepAllowed(aCase('completed', { gracePeriodEndsAt: graceEnd }), 'cleanup', now), null);
  assert.equal(stepAllowed(aCase('completed', { gracePeriodEndsAt: now }), 'cleanup', now), null);
  assert.notEqual(stepAllowed(aCase('completed', { gracePeriodEndsAt: now, cleanedUpAt: now }), 'cleanup', now), null, 'cleaned up once');
});

test('RCV-3: the grace period ends the given number of days after completion (default 7)', () => {
  assert.equal(gracePeriodEnd(now, DEFAULT_RECOVERY_POLICY.gracePeriodInDays).getTime() - now.getTime(), 7 * DAY);
});

test('notifications: retry waits double from 30 s and never exceed an hour; the policy view never shows the secret', () => {
  assert.deepEqual([1, 2, 3].map(retryDelayMs), [30_000, 60_000, 120_000]);
  fc.assert(fc.property(fc.integer({ min: 1, max: MAX_DELIVERY_ATTEMPTS * 4 }), (n) => retryDelayMs(n) <= 3_600_000 && retryDelayMs(n + 1) >= retryDelayMs(n)));
  const shown = publicRecoveryPolicy({ ...DEFAULT_RECOVERY_POLICY, webhookSecret: 'sixteen-chars-or-more' });
  assert.equal(JSON.stringify(shown).includes('sixteen'), false);
  assert.equal(shown.hasWebhookSecret, true);
});

test('RCV-1: the open body needs verification evidence with a known method and a reference', () => {
  assert.equal(openCaseBody.safeParse({ userId: 'a@b', verification: { method: 'inPerson', reference: 'x' } }).success, true);
  assert.equal(openCaseBody.safeParse({ userId: 'a@b' }).success, false);
  assert.equal(openCaseBody.safeParse({ userId: 'a@b', verification: { method: 'email', reference: 'x' } }).success, false);
  assert.equal(openCaseBody.safeParse({ userId: 'a@b', verification: { method: 'inPerson' } }).success, false);
  assert.equal(openCaseBody.safeParse({ userId: 'a@b', verification: { method: 'inPerson', reference: 'x' }, methodIds: [] }).success, false);
});
