import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../domain/errors.ts';

/**
 * The one place errors become HTTP: Graph's error body with `innerError` carrying the request
 * id and date. Anything not a GatehouseError is a 4xx when Fastify or the database says the
 * input was bad, else a 500 whose detail goes only to the log.
 */
export function graphErrorBody(req: FastifyRequest, code: string, message: string, target?: string, extra?: Record<string, unknown>) {
  return {
    error: {
      code,
      message,
      ...(target ? { target, details: [{ code, message, target }] } : {}),
      ...(extra ?? {}),
      innerError: {
        date: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'request-id': req.id,
        'client-request-id': clientRequestId(req),
      },
    },
  };
}

export function clientRequestId(req: FastifyRequest): string {
  const h = req.headers['client-request-id'];
  return typeof h === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(h) ? h : req.id;
}

export function errorHandler(err: FastifyError | GatehouseError | Error, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof GatehouseError) {
    if (err.status >= 500) req.log.error({ err, detail: err.detail }, 'request failed');
    else req.log.info({ code: err.code, detail: err.detail, target: err.target }, err.message);
    return reply.status(err.status).send(graphErrorBody(req, err.code, err.message, err.target?.field, err.extra));
  }
  const fe = err as FastifyError & { code?: string; statusCode?: number };
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'Request_EntityTooLarge'
      : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'Request_UnsupportedMediaType' : 'Request_BadRequest';
    const poisoned = /prototype property/.test(fe.message);
    const message = fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'The request body is larger than this server accepts.'
      : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'Send the request body as application/json.'
        : fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'The request body is empty; send a JSON object.'
          : poisoned ? "The request body uses a forbidden property name ('__proto__' or 'constructor.prototype')."
            : fe.message.startsWith('Body is not valid JSON') || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'The request body is not valid JSON.'
              : fe.message;
    // A body that can't be read as JSON is wrong as a whole: the "field" is the body.
    const target = fe.statusCode === 400 && /^FST_ERR_CTP_/.test(fe.code ?? '') ? (poisoned ? '__proto__' : 'request body') : undefined;
    return reply.status(fe.statusCode).send(graphErrorBody(req, code, message, target));
  }
  // PostgreSQL class 22 (data exception): a value the column can't hold slipped past validation.
  if (typeof fe.code === 'string' && /^22/.test(fe.code)) {
    req.log.warn({ err }, 'data exception from the database');
    return reply.status(400).send(graphErrorBody(req, 'Request_BadRequest', 'A value in the request is not valid for its property.'));
  }
  req.log.error({ err }, 'unhandled error');
  return reply.status(500).send(graphErrorBody(req, 'InternalServerError', 'The server failed to process the request; the request id identifies it in the logs.'));
}
