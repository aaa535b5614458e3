import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Db } from '../store/database.ts';
import { clientRecord } from '../store/applications.ts';
import {
  consumeArtefact, destroyArtefact, findArtefact, findArtefactByUid, findArtefactByUserCode, revokeArtefactsByGrant, upsertArtefact,
} from '../store/oidcArtefacts.ts';
import { clientMetadata } from './clients.ts';

/**
 * oidc-provider's storage adapter over our database. `Client` is read from the applications
 * table (never written by oidc-provider: dynamic registration is off); every other model is an
 * artefact row.
 */
export function adapterFor(db: Db, tenantId: string, base?: string): new (model: string) => Adapter {
  return class DatabaseAdapter implements Adapter {
    readonly model: string;
    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      await upsertArtefact(db, tenantId, this.model, id, payload as Record<string, unknown>, expiresIn, new Date());
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        const rec = await clientRecord(db, tenantId, id);
        return rec ? (clientMetadata(rec, new Date(), base ? { base, tenantId } : undefined) as AdapterPayload) : undefined;
      }
      return (await findArtefact(db, tenantId, this.model, id, new Date())) as AdapterPayload | undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return (await findArtefactByUserCode(db, tenantId, this.model, userCode, new Date())) as AdapterPayload | undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return (await findArtefactByUid(db, tenantId, this.model, uid, new Date())) as AdapterPayload | undefined;
    }

    async consume(id: string): Promise<void> {
      await consumeArtefact(db, tenantId, this.model, id, new Date());
    }

    async destroy(id: string): Promise<void> {
      await destroyArtefact(db, tenantId, this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await revokeArtefactsByGrant(db, tenantId, grantId);
    }
  };
}
