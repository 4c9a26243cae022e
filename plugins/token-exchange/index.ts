import { exchangeToken } from '../../app/auth/api-keys.js';
import { definePlugin } from '../../app/core/plugin.js';

// Seed 002's token exchange: an API key for a short-lived JWT carrying its scopes and orgs.
export default definePlugin({
  name: 'token-exchange',
  reservedNames: ['auth'],
  routes: [
    {
      method: 'post',
      path: '/auth/token',
      authenticated: false,
      handler: async ({ rt, body }) => ({ body: await exchangeToken(rt, body.apiKey) }),
    },
  ],
});
