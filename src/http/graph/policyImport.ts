import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput, text } from '../../domain/validation.ts';
import { importPolicies } from '../../flows/policies/import.ts';
import type { Db } from '../../store/database.ts';
import { requireScope } from './context.ts';
import { forceLockoutOf } from './policies.ts';

const importBody = z.strictObject({
  documents: z.array(z.strictObject({
    name: text(500),
    /** The exported JSON: parsed, or as text (a byte-order mark is removed). */
    content: z.unknown(),
  })).min(1, 'must list at least one document').max(2000, 'must list at most 2000 documents'),
  dryRun: z.boolean().optional(),
  forceLockout: z.boolean().optional(),
});

/**
 * CA-4: POST /policies/gatehouseImport imports exported Entra JSON (docs/admin-guide.md,
 * "Importing policies from Entra"). 200 with the report, for a dry run and a real run alike.
 */
export function policyImportRoutes(app: FastifyInstance, db: Db): void {
  app.post('/policies/gatehouseImport', async (req) => {
    requireScope(req, 'policy.ca.write');
    const body = parseInput(importBody, req.body);
    // WIF-3's override: in the body, or as `?forceLockout=true` like every other policy write.
    const forceLockout = forceLockoutOf(req) || body.forceLockout === true;
    return importPolicies(db, req.caller.tenantId, req.caller, body.documents, { dryRun: body.dryRun, forceLockout, now: new Date() });
  });
}
