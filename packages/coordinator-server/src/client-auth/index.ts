// Public entry of client authentication: the middleware, token administration
// (library functions and routes), the route-access table and the listen rule.
export { createClientAuth, type ClientAuth } from './client-auth.js';
export { createClientToken, listClientTokens, revokeClientToken } from './client-tokens.js';
export { mountClientTokenRoutes } from './token-routes.js';
export { requiredAccess, type ClientAccess } from './route-access.js';
export { assertClientListenAllowed, checkClientExposure, isLoopbackHost } from './listen-guard.js';
export { ClientAuthError, type ClientAuthErrorCode } from './errors.js';
