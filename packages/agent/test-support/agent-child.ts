// Test support (not exported): an agent as a process of its own, for tests
// that SIGKILL it. Options come as JSON in argv[2]; progress lines go to stdout.
import { createAgent } from '../src/index.js';
import type { AgentOptions } from '../src/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as AgentOptions;
const agent = createAgent({
  ...options,
  log: (message, fields) => console.log(JSON.stringify({ message, ...fields })),
});
let signals = 0;
process.on('SIGTERM', () => agent.stop(++signals === 1));
process.on('SIGINT', () => agent.stop(++signals === 1));
agent.run().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
