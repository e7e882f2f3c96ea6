// Readable text for builds, build lists and "why" answers.
import type { Build, BuildDetail, WhyReason, WhyResponse } from '@gbc/protocol';
import { formatTags } from '../commands/tags.js';

/** One line per build: uuid, state, priority, derivation. */
export function buildLines(builds: readonly Build[]): string {
  return builds
    .map((b) => `${b.uuid}  ${b.state.padEnd(9)}  ${String(b.priority).padStart(4)}  ${b.derivation}`)
    .join('\n');
}

/** A build's details as labelled lines. */
export function buildDetailText(b: BuildDetail): string {
  const lines = [
    `build       ${b.uuid}`,
    `derivation  ${b.derivation}`,
    `system      ${b.system}`,
    `state       ${b.state}${b.blockedByFailedDependency ? ' (blocked by a failed dependency)' : ''}`,
    `priority    ${b.priority}`,
    `created     ${b.createdAt}`,
  ];
  if (b.tags.length > 0) lines.push(`tags        ${formatTags(b.tags)}`);
  if (b.deferUntil !== null) lines.push(`deferred    until ${b.deferUntil}`);
  if (b.endedAt !== null) lines.push(`ended       ${b.endedAt}`);
  if (b.agent !== null) lines.push(`agent       ${b.agent}`);
  for (const uuid of b.waitingFor) lines.push(`waiting for ${uuid}`);
  for (const uuid of b.blockedBy) lines.push(`blocked by  ${uuid}`);
  for (const o of b.outputs)
    lines.push(
      `output      ${o.name} ${o.path}${o.narHash === null ? '' : ` ${o.narHash} ${o.narSize ?? '?'} bytes`}`,
    );
  for (const t of b.attempts) {
    const result = t.result ?? (t.startedAt === null ? 'allocated' : 'running');
    lines.push(
      `attempt     ${t.uuid} on ${t.agent}: ${result}${t.failureReason === null ? '' : ` (${t.failureReason})`}`,
    );
    if (t.missingInputs.length > 0) lines.push(`  missing   ${t.missingInputs.join(' ')}`);
  }
  return lines.join('\n');
}

/** Why a build is not running, one reason per line. */
export function whyText(w: WhyResponse): string {
  return [`${w.uuid} is ${w.state}`, ...w.reasons.map((r) => `  ${reasonText(r)}`)].join('\n');
}

function reasonText(r: WhyReason): string {
  switch (r.kind) {
    case 'deferred':
      return `deferred until ${r.until}`;
    case 'inputs-pending':
      return `waiting for inputs: ${r.inputs.map((i) => `${i.derivation} (${i.build === null ? 'no build' : `${i.build} ${i.state ?? ''}`.trim()})`).join(', ')}`;
    case 'inputs-failed':
      return `inputs failed: ${r.inputs.map((i) => `${i.derivation} (${i.build ?? 'no build'})`).join(', ')}`;
    case 'inputs-unavailable':
      return `inputs nobody builds and no cache holds: ${r.paths.join(', ')}`;
    case 'no-matching-agent':
      return `no active agent builds ${r.system}${r.tags.length > 0 ? ` with tags ${formatTags(r.tags)}` : ''}`;
    case 'queued':
      return `ready, ${r.position} ready build(s) ahead of it`;
    case 'allocated':
      return `allocated to agent ${r.agent} (lease until ${r.leaseExpiresAt})`;
    case 'started':
      return `running on agent ${r.agent} since ${r.startedAt}`;
    case 'finished':
      return `finished: ${r.state}${r.endedAt === null ? '' : ` at ${r.endedAt}`}`;
  }
}
