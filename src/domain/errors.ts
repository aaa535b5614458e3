/**
 * One error hierarchy with stable codes (SIG-2). Each error carries the HTTP status, the Graph
 * error code, a message that is safe to show the caller, and a separate `detail` that only goes
 * to logs and audit records. Mapped once to HTTP in src/http/errors.ts.
 */
export type ErrorTarget = { field: string; rule: string };

export class GatehouseError extends Error {
  readonly status: number;
  /** Graph's `error.code` (e.g. `Request_BadRequest`). */
  readonly code: string;
  /** Log-only detail; never sent to the caller. */
  readonly detail: string | undefined;
  readonly target: ErrorTarget | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    opts: { detail?: string; target?: ErrorTarget; extra?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.detail = opts.detail;
    this.target = opts.target;
    this.extra = opts.extra;
  }
}

/** 400: input breaks a rule. Always names the field and the rule. */
export class ValidationError extends GatehouseError {
  constructor(field: string, rule: string, message: string) {
    super(400, 'Request_BadRequest', message, { target: { field, rule } });
  }
}

export class NotFoundError extends GatehouseError {
  constructor(resource: string, id: string) {
    super(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`, {
      detail: `${resource} ${id} not found`,
    });
  }
}

export class ConflictError extends GatehouseError {
  constructor(message: string, extra?: Record<string, unknown>) {
    super(409, 'Request_Conflict', message, extra ? { extra } : {});
  }
}

export class UnauthorizedError extends GatehouseError {
  constructor(message: string, detail?: string) {
    super(401, 'InvalidAuthenticationToken', message, detail ? { detail } : {});
  }
}

export class ForbiddenError extends GatehouseError {
  constructor(message: string, detail?: string) {
    super(403, 'Authorization_RequestDenied', message, detail ? { detail } : {});
  }
}

/** The embedded data directory is held by another process. */
export class DataDirectoryLockedError extends GatehouseError {
  constructor(dir: string, holder: string) {
    super(409, 'DataDirectoryLocked',
      `The embedded database in ${dir} is in use by ${holder}. Stop that process first, or point ` +
      `this command at the running server's API. (PGlite cannot be shared between processes.)`);
  }
}
