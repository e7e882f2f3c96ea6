import { packageProject } from '../../vitest.shared.js';

export default packageProject('agent', { timeoutMs: 90_000, hookTimeoutMs: 60_000 });
