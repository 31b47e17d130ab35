// Judges the results of run.sh against expected-failures.yml, per scenario and per
// requirement set, and prints one line per scenario and a final `N passed, M failed` line.
//
//   node summarize.mjs expected-failures.yml RESULTS_DIR/2025-11-25:COUNT RESULTS_DIR/2026-07-28:COUNT ...
//
// Each results directory is the suite's `-o` directory of one run (it holds one
// `server-<scenario>-<timestamp>/checks.json` per scenario); COUNT is how many scenarios that
// run announced, so a scenario that left no results is noticed.
//
// Unlike the suite's own `--expected-failures` check (which only judges the scenarios a
// requirement set scores), this judges every scenario that ran, including the ones the suite
// runs but does not score (e.g. `server-session-lifecycle` at 2025-11-25 and
// `http-header-validation` at 2026-07-28, which we claim).
//
// Rules (the suite's, see its src/expected-failures.ts):
//   - a check fails when its status is FAILURE or WARNING;
//   - `<scenario>` excludes the whole scenario; it is stale (a failure) if the scenario passes;
//   - `<scenario>:<check>` excludes that check only; the scenario counts as a claimed scenario;
//     the entry is stale (a failure) when that check now succeeds;
//   - a claimed scenario that produced no successful check at all is a failure (nothing tested);
//   - every entry must match a scenario (and check) that ran, so typos are caught.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { parse } = require('yaml');

const [baselinePath, ...runs] = process.argv.slice(2);
if (!baselinePath || runs.length === 0) {
  console.error('usage: node summarize.mjs expected-failures.yml DIR:COUNT...');
  process.exit(2);
}

const baseline = parse(readFileSync(baselinePath, 'utf8'))?.server ?? [];
const wholeExcluded = new Set();
const checkExcluded = new Map(); // scenario -> Set(checkId)
for (const entry of baseline) {
  const text = String(entry);
  const i = text.indexOf(':');
  if (i === -1) wholeExcluded.add(text);
  else {
    const [s, c] = [text.slice(0, i), text.slice(i + 1)];
    if (!checkExcluded.has(s)) checkExcluded.set(s, new Set());
    checkExcluded.get(s).add(c);
  }
}
const usedEntries = new Set();

const isFailed = (status) => status !== 'SUCCESS' && status !== 'INFO' && status !== 'SKIPPED';
const DIR_RE = /^server-(.+)-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/;

let passed = 0;
let failed = 0;
let excluded = 0;
const problems = [];

for (const run of runs) {
  const sep = run.lastIndexOf(':');
  const dir = run.slice(0, sep);
  const announced = Number(run.slice(sep + 1));
  const revision = dir.split('/').filter(Boolean).pop();
  console.log(`\n--- requirements ${revision} ---`);
  const dirs = existsSync(dir) ? readdirSync(dir).filter((d) => DIR_RE.test(d)).sort() : [];
  const seen = new Set();
  for (const d of dirs) {
    const scenario = d.match(DIR_RE)[1];
    if (seen.has(scenario)) {
      problems.push(`${revision}: ${scenario} has more than one result directory`);
      failed++;
      continue;
    }
    seen.add(scenario);
    if (wholeExcluded.has(scenario)) usedEntries.add(scenario);
    const checksFile = join(dir, d, 'checks.json');
    let checks;
    try {
      checks = JSON.parse(readFileSync(checksFile, 'utf8'));
    } catch (e) {
      console.log(`  ✗ FAIL      ${scenario}: unreadable ${checksFile}: ${e.message}`);
      failed++;
      continue;
    }
    // Collapse repeated ids: an id fails if any occurrence fails, succeeds if all that
    // carry a verdict succeed.
    const verdict = new Map();
    for (const c of checks) {
      if (c.status === 'INFO') continue;
      const prev = verdict.get(c.id);
      if (isFailed(c.status)) verdict.set(c.id, { status: c.status, msg: c.errorMessage ?? c.description });
      else if (!prev || prev.status === 'SKIPPED') verdict.set(c.id, { status: c.status });
    }
    const failing = [...verdict].filter(([, v]) => isFailed(v.status));
    const succeeded = [...verdict].filter(([, v]) => v.status === 'SUCCESS');

    if (wholeExcluded.has(scenario)) {
      if (failing.length === 0 && succeeded.length > 0) {
        console.log(`  ✗ STALE     ${scenario}: excluded in ${baselinePath} but passes now; remove the entry`);
        failed++;
      } else {
        console.log(`  - excluded  ${scenario}`);
        excluded++;
      }
      continue;
    }
    const allowed = checkExcluded.get(scenario) ?? new Set();
    const unexpected = failing.filter(([id]) => !allowed.has(id));
    const stale = [...allowed].filter((id) => verdict.get(id)?.status === 'SUCCESS');
    for (const id of allowed) if (verdict.has(id)) usedEntries.add(`${scenario}:${id}`);
    const note = allowed.size ? ` (${failing.length - unexpected.length} fixture check(s) excluded)` : '';
    if (unexpected.length || stale.length) {
      console.log(`  ✗ FAIL      ${scenario}${note}`);
      for (const [id, v] of unexpected) console.log(`      ${v.status} ${id}: ${v.msg ?? ''}`);
      for (const id of stale) console.log(`      STALE ${scenario}:${id} passes now; remove it from ${baselinePath}`);
      failed++;
    } else if (succeeded.length === 0) {
      console.log(`  ✗ FAIL      ${scenario}: no check succeeded (nothing was tested)`);
      failed++;
    } else {
      console.log(`  ✓ pass      ${scenario}${note}`);
      passed++;
    }
  }
  if (!Number.isFinite(announced) || seen.size !== announced) {
    problems.push(
      `${revision}: the suite announced ${announced} scenarios but ${seen.size} left results`
    );
    failed += Math.max(1, (announced || 0) - seen.size);
  }
}

for (const s of wholeExcluded) {
  if (!usedEntries.has(s)) problems.push(`baseline entry '${s}' matches no scenario that ran`);
}
for (const [s, ids] of checkExcluded) {
  for (const id of ids) {
    if (!usedEntries.has(`${s}:${id}`)) problems.push(`baseline entry '${s}:${id}' matches no check that ran`);
  }
}
// An unmatched entry is a failure too: the baseline must say exactly what is excluded.
failed += problems.filter((p) => p.startsWith('baseline entry')).length;

// Runs whose suite process itself failed (exit code != 0) although the results above look
// fine, e.g. the suite's own baseline verdict: run.sh passes their names in SUITE_FAILED.
for (const r of (process.env.SUITE_FAILED ?? '').split(' ').filter(Boolean)) {
  problems.push(`the suite's own run for ${r} exited non-zero (see its log above)`);
  failed++;
}

for (const p of problems) console.log(`  ✗ ${p}`);
console.log(`\nexcluded: ${excluded} scenario runs (they need the suite's fixtures, see ${baselinePath})`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
