// Routes that do not come from definitions: token exchange, this document, health and metrics.

import { jsonContent, type Obj } from './common.js';
import { errorRefs } from './errors.js';

export function fixedPaths(): Record<string, Obj> {
  return {
    '/api/v1/auth/token': {
      post: {
        operationId: 'createAccessToken',
        tags: ['Auth'],
        summary: 'Exchange an API key for a JWT',
        description: 'Returns a JWT carrying the scopes and organizations of the API key; it is accepted like the key (`Authorization: Bearer <accessToken>`). Revoking the key invalidates its tokens.',
        security: [],
        requestBody: {
          required: true,
          content: jsonContent({
            type: 'object',
            properties: { apiKey: { type: 'string', minLength: 1, description: 'An API key, `sk_live_…`.', examples: ['sk_live_…'] } },
            required: ['apiKey'],
            additionalProperties: false,
          }),
        },
        responses: {
          200: {
            description: 'The access token.',
            content: jsonContent({
              type: 'object',
              properties: {
                accessToken: { type: 'string', description: 'The JWT.' },
                tokenType: { type: 'string', enum: ['Bearer'] },
                expiresIn: { type: 'string', description: 'Lifetime of the token.', examples: ['24h'] },
              },
              required: ['accessToken', 'tokenType', 'expiresIn'],
              additionalProperties: false,
            }),
          },
          ...errorRefs(400, 401, 413, 429, 500),
        },
      },
    },
    '/api/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument',
        tags: ['System'],
        summary: 'This OpenAPI document',
        description:
          'The full document needs no authentication. With `scoped=true` and `Authorization: Bearer <API key or JWT>` ' +
          'it is narrowed to the credentials: only the operations their scopes allow, and sensitive fields only with `<scope>:sensitive`.',
        security: [{}, { bearerAuth: [] }],
        parameters: [
          {
            name: 'scoped',
            in: 'query',
            required: false,
            description: 'Return the document of the credentials in the `Authorization` header (required with `true`).',
            schema: { type: 'boolean', default: false },
          },
        ],
        responses: {
          200: { description: 'The OpenAPI 3.1 document.', content: jsonContent({ type: 'object', required: ['openapi', 'info', 'paths'] }) },
          ...errorRefs(400, 401, 500),
        },
      },
    },
    '/health': {
      get: {
        operationId: 'getHealth',
        tags: ['System'],
        summary: 'Health check',
        description: 'Liveness and readiness of the server and its dependencies. No authentication.',
        security: [],
        responses: {
          200: {
            description: 'The server is healthy.',
            content: jsonContent({
              type: 'object',
              properties: { status: { type: 'string', examples: ['ok'] } },
              required: ['status'],
              additionalProperties: true,
            }),
          },
          ...errorRefs(503),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['System'],
        summary: 'Prometheus metrics',
        description: 'Metrics in the Prometheus text exposition format. No authentication.',
        security: [],
        responses: {
          200: {
            description: 'The metrics.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
  };
}
