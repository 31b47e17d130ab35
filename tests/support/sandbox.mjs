// Starts `bbagent sandbox` for the Node test suites (tests/third-party, tests/peers): a fresh
// data folder, a free port, and the base URL the sandbox prints as its first stdout line.
// Plain Node, no dependencies, so each suite's package.json stays about what it tests.
//
// BBAGENT_BIN overrides the binary (default: target/debug/bbagent at the repository root).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXE = process.platform === 'win32' ? '.exe' : '';
const START_TIMEOUT_MS = 15_000;

/** The sandbox binary: BBAGENT_BIN, or the debug build of this checkout. */
export const BIN = process.env.BBAGENT_BIN
  ? path.resolve(process.env.BBAGENT_BIN)
  : path.join(ROOT, 'target', 'debug', `bbagent${EXE}`);

/** The seeded users' credentials (see crates/bitbucket-sandbox/src/seed.rs). */
export const DEMO = { username: 'demo@example.com', password: 'sandbox-token', token: 'sandbox-token' };
export const ALICE = { username: 'alice@example.com', password: 'alice-token', token: 'alice-token' };

/**
 * Starts a sandbox on 127.0.0.1:0 in a new temporary folder (named after `prefix`).
 * Resolves with `{ baseUrl, stderr(), stop() }`; `stop()` ends it and removes the folder.
 */
export function startSandbox(prefix = 'bbagent-node-') {
  if (!existsSync(BIN)) {
    throw new Error(
      `bbagent binary not found at ${BIN}.\n` +
        'Build it first with `cargo build -p bbagent` (from the repository root), ' +
        'or point BBAGENT_BIN at an existing binary.',
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  // The sandbox reads these from the environment; they must not leak in from the caller's shell.
  const env = { ...process.env };
  for (const key of ['BBAGENT_SANDBOX_TOKEN', 'BBAGENT_SANDBOX_LISTEN', 'BBAGENT_SANDBOX_DIR']) {
    delete env[key];
  }
  const proc = spawn(BIN, ['sandbox', '--listen', '127.0.0.1:0', '--data-dir', dir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-8000);
  });

  async function stop() {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  }

  return new Promise((resolve, reject) => {
    let stdout = '';
    const fail = (why) => {
      clearTimeout(timer);
      stop().finally(() => reject(new Error(`${why}\n--- sandbox stderr ---\n${stderr}`)));
    };
    const timer = setTimeout(
      () => fail(`the sandbox printed no base URL within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    );
    proc.once('error', (err) => fail(`cannot run ${BIN}: ${err.message}`));
    proc.once('exit', (code, signal) =>
      fail(`the sandbox exited before printing its URL (code ${code}, signal ${signal})`),
    );
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk) => {
      if (stdout.includes('\n')) return;
      stdout += chunk;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      const url = stdout.slice(0, nl).trim();
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      if (!/^http:\/\/127\.0\.0\.1:\d+\/2\.0$/.test(url)) {
        fail(`unexpected first stdout line from the sandbox: ${JSON.stringify(url)}`);
        return;
      }
      resolve({ baseUrl: url, stderr: () => stderr, stop });
    });
  });
}
