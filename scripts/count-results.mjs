// Reads Vitest's JSON report and prints the closing line "N passed, N failed".
// A missing or unreadable report counts as a failure, never as zero tests.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.test-results/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`no test report at ${file}: ${error.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
// Static checks run by scripts/test (format, lint) count as one test each.
const checksPassed = Number(process.env.GBC_CHECKS_PASSED ?? 0);
const checksFailed = Number(process.env.GBC_CHECKS_FAILED ?? 0);
if (checksPassed + checksFailed > 0) {
  console.log(`static checks: ${checksPassed} clean, ${checksFailed} failed`);
}
const passed = (report.numPassedTests ?? 0) + checksPassed;
// A file that failed without a failed test counts as one failure too: it failed to load
// (a broken import), or a hook failed (an afterAll that could not clean up), and the run
// failed for it — the closing line must not then say "0 failed".
const failedSuites = (report.testResults ?? []).filter(
  (r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed'),
).length;
const failed = (report.numFailedTests ?? 0) + failedSuites + checksFailed;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
// Skipped tests are said on a line of their own: the closing line keeps its exact form.
if (skipped > 0) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
