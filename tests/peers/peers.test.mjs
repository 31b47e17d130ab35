// Other Bitbucket MCP servers, unmodified, against the bbagent sandbox: the npm packages
// `bitbucket-mcp` 5.0.6 and `@nexus2520/bitbucket-mcp-server` 3.0.0, each driven over stdio by
// the official MCP TypeScript SDK client. With each one: get a pull request with its diffstat,
// read its diff and comments (and its tasks, where the server has a tool for them), comment on
// a line, approve and merge; every effect is then checked through the sandbox's own REST API
// with plain fetch.
//
//   cargo build -p bbagent
//   cd tests/peers && npm ci && node --test
//
// BBAGENT_BIN overrides the sandbox binary (default: ../../target/debug/bbagent).
//
// Each server reads its base URL and credentials from the environment (read from their code):
//   bitbucket-mcp:                   BITBUCKET_URL, BITBUCKET_USERNAME + BITBUCKET_PASSWORD
//                                    (Basic) or BITBUCKET_TOKEN (Bearer); BITBUCKET_LOG_DISABLE
//   @nexus2520/bitbucket-mcp-server: BITBUCKET_BASE_URL, BITBUCKET_USERNAME +
//                                    BITBUCKET_APP_PASSWORD (Cloud; a BITBUCKET_TOKEN would
//                                    switch it to Bitbucket Server's API)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { ALICE, DEMO, startSandbox } from '../support/sandbox.mjs';

const require = createRequire(import.meta.url);

/** A package's entry script, as its `bin` would run it. */
function entry(pkg, bin) {
  const manifest = require.resolve(`${pkg}/package.json`);
  const { bin: bins } = require(manifest);
  const rel = typeof bins === 'string' ? bins : bins[bin];
  return path.join(path.dirname(manifest), rel);
}

/** Only what a server needs from our environment: no Bitbucket settings of the caller's. */
function baseEnv() {
  const env = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SystemRoot']) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return env;
}

/** The two servers: how to start them, and how each does every step of the lifecycle. */
const PEERS = [
  {
    name: 'bitbucket-mcp@5.0.6',
    script: () => entry('bitbucket-mcp', 'bitbucket-mcp'),
    env: (baseUrl) => ({
      BITBUCKET_URL: baseUrl,
      BITBUCKET_USERNAME: DEMO.username,
      BITBUCKET_PASSWORD: DEMO.password,
      BITBUCKET_WORKSPACE: 'acme',
      BITBUCKET_LOG_DISABLE: '1',
    }),
    tools: {
      getPullRequest: 'getPullRequest',
      diffstat: 'getPullRequestDiffStat',
      diff: 'getPullRequestDiff',
      comments: 'getPullRequestComments',
      tasks: 'getPullRequestTasks',
      comment: 'addPullRequestComment',
      approve: 'approvePullRequest',
      merge: 'mergePullRequest',
    },
    args: {
      pr: (id) => ({ workspace: 'acme', repo_slug: 'widgets', pull_request_id: String(id) }),
      comment: (id, text, file, line) => ({
        workspace: 'acme',
        repo_slug: 'widgets',
        pull_request_id: String(id),
        content: text,
        inline: { path: file, to: line },
      }),
      merge: (id, message) => ({
        workspace: 'acme',
        repo_slug: 'widgets',
        pull_request_id: String(id),
        message,
        strategy: 'squash',
      }),
    },
  },
  {
    name: '@nexus2520/bitbucket-mcp-server@3.0.0',
    script: () => entry('@nexus2520/bitbucket-mcp-server', 'bitbucket-mcp-server'),
    env: (baseUrl) => ({
      BITBUCKET_BASE_URL: baseUrl,
      BITBUCKET_USERNAME: DEMO.username,
      BITBUCKET_APP_PASSWORD: DEMO.password,
      // The client-side pacing is for bitbucket.org's limits; the sandbox has none.
      BITBUCKET_RATE_LIMIT_RPS: '0',
    }),
    tools: {
      // Its get_pull_request embeds the comments and the changed files (from the diffstat).
      getPullRequest: 'get_pull_request',
      diff: 'get_pull_request_diff',
      comment: 'add_comment',
      approve: 'set_review_status',
      merge: 'merge_pull_request',
    },
    args: {
      pr: (id) => ({ workspace: 'acme', repository: 'widgets', pull_request_id: id }),
      comment: (id, text, file, line) => ({
        workspace: 'acme',
        repository: 'widgets',
        pull_request_id: id,
        comment_text: text,
        file_path: file,
        line_number: line,
      }),
      approve: (id) => ({ workspace: 'acme', repository: 'widgets', pull_request_id: id, status: 'APPROVED' }),
      merge: (id, message) => ({
        workspace: 'acme',
        repository: 'widgets',
        pull_request_id: id,
        merge_strategy: 'squash',
        commit_message: message,
      }),
    },
  },
];

/** A REST call to the sandbox as `who`, with Basic auth; resolves with status and JSON. */
async function rest(baseUrl, who, method, route, body) {
  const headers = {
    authorization: `Basic ${Buffer.from(`${who.username}:${who.password}`).toString('base64')}`,
  };
  let payload;
  if (body instanceof URLSearchParams) {
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${baseUrl}${route}`, { method, headers, body: payload });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** Text of a tool result, failing the test when the server reports an error. */
function text(result, what) {
  const body = (result.content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
  assert.ok(!result.isError, `${what} failed: ${body}`);
  return body;
}

/** Text of a tool result that is JSON. */
function json(result, what) {
  const body = text(result, what);
  try {
    return JSON.parse(body);
  } catch {
    assert.fail(`${what} did not answer JSON: ${body.slice(0, 500)}`);
  }
}

for (const peer of PEERS) {
  describe(`${peer.name} against the bbagent sandbox`, { timeout: 120_000 }, () => {
    let sandbox;
    let client;
    let prId;
    let seeded;
    let task;
    const file = `docs/${peer.name.replace(/[^a-z0-9]+/gi, '-')}.md`;
    const call = (name, args) => client.callTool({ name, arguments: args });

    before(async () => {
      sandbox = await startSandbox('bbagent-peers-');
      // Alice writes a file on a new branch, opens a pull request and comments on it, so the
      // demo user (whom the server acts as) can review and approve someone else's work.
      const form = new URLSearchParams({
        message: 'Document the widgets',
        branch: 'feature/peer-docs',
        [file]: '# Widgets\n\nThey turn.\nThey click.\n',
      });
      const written = await rest(sandbox.baseUrl, ALICE, 'POST', '/repositories/acme/widgets/src', form);
      assert.equal(written.status, 201, JSON.stringify(written.json));
      const pr = await rest(sandbox.baseUrl, ALICE, 'POST', '/repositories/acme/widgets/pullrequests', {
        title: 'Document the widgets',
        source: { branch: { name: 'feature/peer-docs' } },
      });
      assert.equal(pr.status, 201, JSON.stringify(pr.json));
      prId = pr.json.id;
      seeded = await rest(
        sandbox.baseUrl,
        ALICE,
        'POST',
        `/repositories/acme/widgets/pullrequests/${prId}/comments`,
        { content: { raw: 'Ready for review' } },
      );
      assert.equal(seeded.status, 201, JSON.stringify(seeded.json));
      task = await rest(
        sandbox.baseUrl,
        ALICE,
        'POST',
        `/repositories/acme/widgets/pullrequests/${prId}/tasks`,
        { content: { raw: 'Proofread it' }, comment: { id: seeded.json.id } },
      );
      assert.equal(task.status, 201, JSON.stringify(task.json));

      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [peer.script()],
        env: { ...baseEnv(), ...peer.env(sandbox.baseUrl) },
        stderr: 'pipe',
      });
      client = new Client({ name: 'bbagent-peer-test', version: '0.0.0' });
      await client.connect(transport);
    });

    after(async () => {
      await client?.close();
      await sandbox?.stop();
    });

    test('lists the tools this test uses', async () => {
      const { tools } = await client.listTools();
      const names = new Set(tools.map((t) => t.name));
      for (const tool of Object.values(peer.tools)) {
        assert.ok(names.has(tool), `${tool} missing from ${[...names].join(', ')}`);
      }
    });

    test('gets the pull request with its diffstat and comments', async () => {
      const got = json(await call(peer.tools.getPullRequest, peer.args.pr(prId)), peer.tools.getPullRequest);
      assert.equal(got.id, prId, JSON.stringify(got));
      assert.equal(got.title, 'Document the widgets');
      if (peer.tools.diffstat) {
        const stat = json(await call(peer.tools.diffstat, peer.args.pr(prId)), peer.tools.diffstat);
        assert.deepEqual(
          stat.map((s) => [s.status, s.new?.path, s.lines_added]),
          [['added', file, 4]],
        );
        const comments = json(await call(peer.tools.comments, peer.args.pr(prId)), peer.tools.comments);
        assert.deepEqual(
          comments.map((c) => [c.id, c.content.raw]),
          [[seeded.json.id, 'Ready for review']],
        );
      } else {
        // The changed files come from the diffstat, the comments from the comments list.
        assert.deepEqual(got.file_changes, [{ path: file, status: 'added' }], JSON.stringify(got));
        assert.deepEqual(
          got.active_comments.map((c) => [c.id, c.author, c.text]),
          [[seeded.json.id, 'Alice Liddell', 'Ready for review']],
        );
      }
    });

    if (peer.tools.tasks) {
      test('reads the tasks', async () => {
        const tasks = json(await call(peer.tools.tasks, peer.args.pr(prId)), peer.tools.tasks);
        assert.deepEqual(
          tasks.map((t) => [t.id, t.state, t.content.raw, t.comment?.id]),
          [[task.json.id, 'UNRESOLVED', 'Proofread it', seeded.json.id]],
        );
      });
    }

    test('reads the diff', async () => {
      const diff = text(await call(peer.tools.diff, peer.args.pr(prId)), peer.tools.diff);
      assert.match(diff, new RegExp(`^\\+\\+\\+ b/${file.replace(/\./g, '\\.')}$`, 'm'));
      assert.match(diff, /^\+They click\.$/m);
    });

    test('comments on a line of the diff', async () => {
      const result = json(
        await call(peer.tools.comment, peer.args.comment(prId, 'Say *how* they turn', file, 3)),
        peer.tools.comment,
      );
      assert.ok(Number.isInteger(result.id), JSON.stringify(result));
      const stored = await rest(
        sandbox.baseUrl,
        DEMO,
        'GET',
        `/repositories/acme/widgets/pullrequests/${prId}/comments/${result.id}`,
      );
      assert.equal(stored.status, 200);
      assert.equal(stored.json.user.nickname, 'demo');
      assert.equal(stored.json.content.raw, 'Say *how* they turn');
      assert.deepEqual(stored.json.inline, { path: file, to: 3 });
    });

    test('approves', async () => {
      const args = peer.args.approve ? peer.args.approve(prId) : peer.args.pr(prId);
      text(await call(peer.tools.approve, args), peer.tools.approve);
      const pr = await rest(sandbox.baseUrl, DEMO, 'GET', `/repositories/acme/widgets/pullrequests/${prId}`);
      const demo = pr.json.participants.find((p) => p.user.nickname === 'demo');
      assert.equal(demo?.approved, true, JSON.stringify(pr.json.participants));
    });

    test('merges, and main holds the change', async () => {
      const message = `Squash the docs (${peer.name})`;
      const result = json(await call(peer.tools.merge, peer.args.merge(prId, message)), peer.tools.merge);
      const pr = await rest(sandbox.baseUrl, DEMO, 'GET', `/repositories/acme/widgets/pullrequests/${prId}`);
      assert.equal(pr.json.state, 'MERGED');
      assert.equal(pr.json.closed_by.nickname, 'demo');
      const head = await rest(sandbox.baseUrl, DEMO, 'GET', '/repositories/acme/widgets/commit/main');
      assert.equal(head.json.message.trim(), message);
      // Both report the merge commit: one passes the pull request through, one picks its hash.
      const reported = result.merge_commit?.hash ?? result.merge_commit;
      assert.equal(reported, head.json.hash, JSON.stringify(result));
      assert.equal(pr.json.merge_commit.hash, head.json.hash);
      assert.equal(head.json.parents.length, 1, 'a squash has one parent');
      const res = await fetch(`${sandbox.baseUrl}/repositories/acme/widgets/src/main/${file}`, {
        headers: { authorization: `Bearer ${DEMO.token}` },
      });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '# Widgets\n\nThey turn.\nThey click.\n');
    });
  });
}
