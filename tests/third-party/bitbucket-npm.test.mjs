// Drives the unmodified npm client `bitbucket` (2.12.0, generated from the official Bitbucket
// Cloud OpenAPI spec) against the bbagent sandbox, to prove a third-party client works with it.
//
//   cargo build -p bbagent
//   cd tests/third-party && npm ci && npm test
//
// BBAGENT_BIN overrides the sandbox binary (default: ../../target/debug/bbagent).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

// `bitbucket` is a CommonJS (UMD) package: only its default export is visible to ESM.
import bitbucketPkg from 'bitbucket';

import { ALICE as ALICE_LOGIN, DEMO as DEMO_LOGIN, startSandbox } from '../support/sandbox.mjs';

const { Bitbucket } = bitbucketPkg;

const DEMO = { username: DEMO_LOGIN.username, password: DEMO_LOGIN.password };
const ALICE = { username: ALICE_LOGIN.username, password: ALICE_LOGIN.password };

/** The running sandbox (`baseUrl`, `stop()`), set in `before`. */
const sandbox = { baseUrl: null, stop: async () => {} };

/** A client as a third party would build it; `notice: false` silences the client's banner. */
function client(auth) {
  return new Bitbucket({ baseUrl: sandbox.baseUrl, auth, notice: false });
}

/** Awaits a call that must fail; returns the client's HTTPError after checking its envelope. */
async function httpError(promise, status) {
  try {
    const res = await promise;
    assert.fail(`expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.data)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.equal(err.name, 'HTTPError', `not an HTTPError: ${err.stack}`);
    assert.equal(err.status, status, `status of ${err.message}: ${JSON.stringify(err.error)}`);
    // Bitbucket's error envelope, parsed from JSON by the client.
    assert.equal(err.error?.type, 'error', JSON.stringify(err.error));
    assert.equal(typeof err.error.error?.message, 'string', JSON.stringify(err.error));
    assert.ok(err.error.error.message.length > 0);
    return err;
  }
}

/**
 * Awaits a call that must answer 204 No Content. bitbucket@2.12.0 reads the response's
 * Content-Type unconditionally (`headers.get('content-type').includes(...)`), so a 204 without
 * that header turns into a TypeError wrapped as HTTPError 500; say so plainly if that happens.
 */
async function noContent(promise) {
  let res;
  try {
    res = await promise;
  } catch (err) {
    if (/reading 'includes'/.test(err.message)) {
      assert.fail(
        'the server answered 204 without a Content-Type header, which bitbucket@2.12.0 cannot ' +
          `read (client error: ${err.message}); send a text type such as ` +
          '`text/plain; charset=utf-8` (not application/json: the client would JSON-parse "")',
      );
    }
    throw err;
  }
  assert.equal(res.status, 204);
  assert.ok(res.data === '' || res.data === undefined, `204 with a body: ${JSON.stringify(res.data)}`);
  return res;
}

const widgets = { workspace: 'acme', repo_slug: 'widgets' };

describe('npm bitbucket@2.12.0 against the bbagent sandbox', { timeout: 60_000 }, () => {
  let bb;

  before(async () => {
    Object.assign(sandbox, await startSandbox('bbagent-npm-'));
    bb = client(DEMO);
  });

  after(() => sandbox.stop());

  describe('users and workspaces', () => {
    test('users.getAuthedUser → GET /user (Basic auth)', async () => {
      const { status, data } = await bb.users.getAuthedUser({});
      assert.equal(status, 200);
      assert.equal(data.type, 'user');
      assert.equal(data.display_name, 'Demo User');
      assert.equal(data.nickname, 'demo');
      assert.match(data.uuid, /^\{[0-9a-f-]{36}\}$/);
      assert.match(data.account_id, /\S/);
    });

    test('user.get with a Bearer token → GET /user', async () => {
      const { data } = await client({ token: 'sandbox-token' }).user.get({});
      assert.equal(data.display_name, 'Demo User');
    });

    test('users.getAuthedUser as alice → GET /user', async () => {
      const { data } = await client(ALICE).users.getAuthedUser({});
      assert.equal(data.display_name, 'Alice Liddell');
      assert.equal(data.nickname, 'alice');
    });

    test('a wrong password surfaces as a 401 HTTPError', async () => {
      const bad = client({ username: 'demo@example.com', password: 'wrong' });
      await httpError(bad.users.getAuthedUser({}), 401);
    });

    test('request("GET /user/workspaces") lists the caller\'s workspaces', async () => {
      // bitbucket@2.12.0 has no generated method for GET /user/workspaces (its spec predates
      // it), so we use the client's own generic `request`, which is part of its public API.
      const { status, data } = await bb.request('GET /user/workspaces', { sort: 'slug' });
      assert.equal(status, 200);
      assert.deepEqual(
        data.values.map((v) => v.workspace.slug),
        ['acme', 'demo'],
      );
      for (const v of data.values) {
        assert.equal(v.type, 'workspace_access');
        assert.equal(v.administrator, true);
        assert.equal(v.workspace.type, 'workspace_base');
      }
      const forAlice = await client(ALICE).request('GET /user/workspaces', {});
      const acme = forAlice.data.values.find((v) => v.workspace.slug === 'acme');
      assert.ok(acme, 'alice is a member of acme');
      assert.equal(acme.administrator, false);
    });

    test('workspaces.getWorkspaces → GET /workspaces answers 410 Gone', async () => {
      await httpError(bb.workspaces.getWorkspaces({}), 410);
    });

    test('workspaces.getWorkspace → GET /workspaces/acme', async () => {
      const { data } = await bb.workspaces.getWorkspace({ workspace: 'acme' });
      assert.equal(data.type, 'workspace');
      assert.equal(data.slug, 'acme');
    });

    test('workspaces.getMembersForWorkspace → GET /workspaces/acme/members', async () => {
      const { data } = await bb.workspaces.getMembersForWorkspace({ workspace: 'acme' });
      assert.equal(data.size, 3);
      const names = data.values.map((m) => m.user.display_name).sort();
      assert.deepEqual(names, ['Alice Liddell', 'Bob Builder', 'Demo User']);
      for (const m of data.values) {
        assert.equal(m.type, 'workspace_membership');
        assert.equal(m.workspace.slug, 'acme');
      }
    });
  });

  describe('repositories', () => {
    test('repositories.list with q and sort → GET /repositories/acme?q=…&sort=…', async () => {
      const filtered = await bb.repositories.list({ workspace: 'acme', q: 'name ~ "web"' });
      assert.deepEqual(
        filtered.data.values.map((r) => r.full_name),
        ['acme/website'],
      );
      const sorted = await bb.repositories.list({
        workspace: 'acme',
        q: 'name ~ "w"',
        sort: '-name',
        pagelen: 50,
      });
      const names = sorted.data.values.map((r) => r.name);
      assert.ok(names.indexOf('widgets') >= 0 && names.indexOf('website') >= 0, names.join());
      assert.ok(names.indexOf('widgets') < names.indexOf('website'), `not sorted by -name: ${names}`);
    });

    test('repositories.get → GET /repositories/acme/widgets', async () => {
      const { data } = await bb.repositories.get(widgets);
      assert.equal(data.type, 'repository');
      assert.equal(data.full_name, 'acme/widgets');
      assert.equal(data.mainbranch.name, 'main');
      assert.equal(data.has_issues, true);
      assert.equal(data.project?.key, 'CORE');
      assert.equal(data.scm, 'git');
    });

    test('an unknown repository surfaces as a 404 HTTPError with the error envelope', async () => {
      const err = await httpError(
        bb.repositories.get({ workspace: 'acme', repo_slug: 'no-such-repo' }),
        404,
      );
      assert.match(err.error.error.message, /no-such-repo/);
    });

    const scratch = { workspace: 'demo', repo_slug: 'third-party-scratch' };

    test('repositories.create → POST /repositories/demo/third-party-scratch', async () => {
      const created = await bb.repositories.create({
        ...scratch,
        _body: { scm: 'git', is_private: true, description: 'made by the npm client' },
      });
      assert.equal(created.status, 200);
      assert.equal(created.data.full_name, 'demo/third-party-scratch');
      assert.equal(created.data.description, 'made by the npm client');
      assert.equal(created.data.is_private, true);
      assert.equal((await bb.repositories.get(scratch)).data.slug, 'third-party-scratch');
    });

    test('repositories.delete → DELETE /repositories/demo/third-party-scratch (204)', async () => {
      await noContent(bb.repositories.delete(scratch));
      await httpError(bb.repositories.get(scratch), 404);
    });
  });

  describe('refs', () => {
    let mainHash;

    test('repositories.listBranches → GET …/refs/branches (with pagination)', async () => {
      const { data } = await bb.repositories.listBranches({ ...widgets, sort: 'name', pagelen: 100 });
      const names = data.values.map((b) => b.name);
      for (const name of ['main', 'develop', 'feature/login']) {
        assert.ok(names.includes(name), `missing branch ${name} in ${names}`);
      }
      mainHash = data.values.find((b) => b.name === 'main').target.hash;
      assert.match(mainHash, /^[0-9a-f]{40}$/);

      // The client's pagination helpers follow the `next` link the server hands out.
      const first = await bb.repositories.listBranches({ ...widgets, sort: 'name', pagelen: 1 });
      assert.equal(first.data.values.length, 1);
      assert.ok(bb.hasNextPage(first.data), 'a first page of 1 has a next page');
      const second = await bb.getNextPage(first.data);
      assert.equal(second.data.values.length, 1);
      assert.equal(second.data.page, 2);
      assert.notEqual(second.data.values[0].name, first.data.values[0].name);
    });

    test('repositories.getBranch → GET …/refs/branches/feature%2Flogin', async () => {
      const { data } = await bb.repositories.getBranch({ ...widgets, name: 'feature/login' });
      assert.equal(data.type, 'branch');
      assert.equal(data.name, 'feature/login');
      assert.equal(data.target.type, 'commit');
      assert.equal(data.target.message.trim(), 'Add login form');
      assert.equal(data.target.author.user?.display_name, 'Alice Liddell');
    });

    test('repositories.createBranch off main → POST …/refs/branches', async () => {
      const created = await bb.repositories.createBranch({
        ...widgets,
        _body: { name: 'third-party/from-npm', target: { hash: mainHash } },
      });
      assert.equal(created.status, 201);
      assert.equal(created.data.name, 'third-party/from-npm');
      assert.equal(created.data.target.hash, mainHash);

      const fetched = await bb.repositories.getBranch({ ...widgets, name: 'third-party/from-npm' });
      assert.equal(fetched.data.target.hash, mainHash);
    });

    test('repositories.deleteBranch → DELETE …/refs/branches/third-party%2Ffrom-npm (204)', async () => {
      await noContent(bb.repositories.deleteBranch({ ...widgets, name: 'third-party/from-npm' }));
      await httpError(bb.repositories.getBranch({ ...widgets, name: 'third-party/from-npm' }), 404);
    });

    test('repositories.createTag / listTags / getTag → …/refs/tags', async () => {
      const created = await bb.repositories.createTag({
        ...widgets,
        _body: { name: 'v0.9.0-npm', target: { hash: mainHash } },
      });
      assert.equal(created.status, 201);
      assert.equal(created.data.type, 'tag');
      assert.equal(created.data.target.hash, mainHash);

      const { data } = await bb.repositories.listTags(widgets);
      assert.ok(data.values.some((t) => t.name === 'v0.9.0-npm'));

      const one = await bb.repositories.getTag({ ...widgets, name: 'v0.9.0-npm' });
      assert.equal(one.data.target.hash, mainHash);
    });
  });

  describe('source and commits', () => {
    test('repositories.readSrc → GET …/src/main/README.md (raw file)', async () => {
      const { data } = await bb.repositories.readSrc({ ...widgets, commit: 'main', path: 'README.md' });
      const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
      assert.ok(text.startsWith('# Widgets'), `README starts with: ${text.slice(0, 40)}`);
    });

    test('repositories.readSrc → GET …/src/main/src%2Fmain.rs (nested file)', async () => {
      const { data } = await bb.repositories.readSrc({ ...widgets, commit: 'main', path: 'src/main.rs' });
      const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
      assert.match(text, /fn main\(\)/);
    });

    test('repositories.readSrc → GET …/src/main/ (root directory listing)', async () => {
      const { data } = await bb.repositories.readSrc({ ...widgets, commit: 'main', path: '' });
      const entries = Object.fromEntries(data.values.map((e) => [e.path, e.type]));
      assert.deepEqual(entries, {
        'Cargo.toml': 'commit_file',
        'README.md': 'commit_file',
        docs: 'commit_directory',
        src: 'commit_directory',
      });
    });

    test('repositories.readSrc with format=meta → file metadata', async () => {
      const { data } = await bb.repositories.readSrc({
        ...widgets,
        commit: 'main',
        path: 'docs/guide.md',
        format: 'meta',
      });
      assert.equal(data.type, 'commit_file');
      assert.equal(data.path, 'docs/guide.md');
      assert.ok(data.size > 0);
    });

    test('repositories.listCommitsAt → GET …/commits/main', async () => {
      const { data } = await bb.repositories.listCommitsAt({ ...widgets, revision: 'main' });
      assert.deepEqual(
        data.values.map((c) => c.message.trim()),
        ['Add the widgets guide', 'Initial commit'],
      );
      assert.equal(data.values[0].author.user?.display_name, 'Bob Builder');
    });

    test('repositories.listCommits with include/exclude → GET …/commits?include=develop&exclude=main', async () => {
      const { data } = await bb.repositories.listCommits({
        ...widgets,
        include: 'develop',
        exclude: 'main',
      });
      assert.deepEqual(
        data.values.map((c) => c.message.trim()),
        ['Add shared widget types'],
      );
    });

    // Bitbucket: "GET …/commits/ returns all commits in the repo in topological order (newest
    // commit first). All branches and tags are included (similar to `git log --all`)";
    // "?exclude=master returns all commits in the repo that are not on master"; and
    // "?include=foo&include=bar&exclude=fu … (similar to `git log foo bar ^fu`)".
    const messages = (data) => data.values.map((c) => c.message.trim()).sort();

    test('repositories.listCommits → GET …/commits lists every branch (git log --all)', async () => {
      const { data } = await bb.repositories.listCommits({ ...widgets, pagelen: 100 });
      assert.deepEqual(messages(data), [
        'Add login form',
        'Add shared widget types',
        'Add the widgets guide',
        'Initial commit',
      ]);
    });

    test('repositories.listCommits → GET …/commits?exclude=main (git log --all ^main)', async () => {
      const { data } = await bb.repositories.listCommits({ ...widgets, exclude: 'main' });
      assert.deepEqual(messages(data), ['Add login form', 'Add shared widget types']);
    });

    test('repositories.listCommits → GET …/commits?include=develop&include=feature%2Flogin&exclude=main', async () => {
      const { data } = await bb.repositories.listCommits({
        ...widgets,
        include: ['develop', 'feature/login'],
        exclude: 'main',
      });
      assert.deepEqual(messages(data), ['Add login form', 'Add shared widget types']);
    });
  });

  describe('pull requests', () => {
    let created;

    test('pullrequests.create develop → main → POST …/pullrequests', async () => {
      const res = await bb.pullrequests.create({
        ...widgets,
        _body: {
          title: 'Merge develop (npm client)',
          description: 'Opened by bitbucket@2.12.0',
          source: { branch: { name: 'develop' } },
          destination: { branch: { name: 'main' } },
        },
      });
      assert.equal(res.status, 201);
      created = res.data;
      assert.equal(created.type, 'pullrequest');
      assert.equal(created.state, 'OPEN');
      assert.equal(created.title, 'Merge develop (npm client)');
      assert.equal(created.source.branch.name, 'develop');
      assert.equal(created.destination.branch.name, 'main');
      assert.equal(created.author.display_name, 'Demo User');
      assert.ok(Number.isInteger(created.id) && created.id > 1);
    });

    test('pullrequests.list with state → GET …/pullrequests?state=…', async () => {
      const open = await bb.pullrequests.list({ ...widgets, state: 'OPEN' });
      const ids = open.data.values.map((p) => p.id);
      assert.ok(ids.includes(1) && ids.includes(created.id), `open ids: ${ids}`);
      assert.ok(open.data.values.every((p) => p.state === 'OPEN'));

      const merged = await bb.pullrequests.list({ ...widgets, state: 'MERGED' });
      assert.deepEqual(merged.data.values, []);
    });

    test('pullrequests.get → GET …/pullrequests/1', async () => {
      const { data } = await bb.pullrequests.get({ ...widgets, pull_request_id: 1 });
      assert.equal(data.id, 1);
      assert.equal(data.title, 'Add login form');
      assert.equal(data.state, 'OPEN');
      assert.equal(data.source.branch.name, 'feature/login');
      assert.equal(data.destination.branch.name, 'main');
      assert.equal(data.author.display_name, 'Alice Liddell');
    });
  });

  describe('issues', () => {
    let issue;

    test('issue_tracker.create → POST …/issues', async () => {
      const res = await bb.issue_tracker.create({
        ...widgets,
        _body: {
          title: 'Filed through the npm client',
          kind: 'task',
          priority: 'minor',
          content: { raw: 'Hello from bitbucket@2.12.0' },
        },
      });
      assert.equal(res.status, 201);
      issue = res.data;
      assert.equal(issue.type, 'issue');
      assert.equal(issue.title, 'Filed through the npm client');
      assert.equal(issue.kind, 'task');
      assert.equal(issue.priority, 'minor');
      assert.equal(issue.state, 'new');
      assert.equal(issue.content.raw, 'Hello from bitbucket@2.12.0');
      assert.equal(issue.reporter.display_name, 'Demo User');
      assert.ok(issue.id > 3);
    });

    test('issue_tracker.createComment as alice, then listComments', async () => {
      const res = await client(ALICE).issue_tracker.createComment({
        ...widgets,
        issue_id: String(issue.id),
        _body: { content: { raw: 'I can reproduce this.' } },
      });
      assert.equal(res.status, 201);
      assert.equal(res.data.type, 'issue_comment');
      assert.equal(res.data.content.raw, 'I can reproduce this.');
      assert.equal(res.data.user.display_name, 'Alice Liddell');

      const { data } = await bb.issue_tracker.listComments({ ...widgets, issue_id: String(issue.id) });
      assert.ok(data.values.some((c) => c.id === res.data.id && c.content.raw === 'I can reproduce this.'));
    });

    test('issue_tracker.update state → PUT …/issues/{id}', async () => {
      const res = await bb.issue_tracker.update({
        ...widgets,
        issue_id: String(issue.id),
        _body: { state: 'open' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.data.state, 'open');
      assert.equal(res.data.title, 'Filed through the npm client');

      const again = await bb.issue_tracker.get({ ...widgets, issue_id: String(issue.id) });
      assert.equal(again.data.state, 'open');
    });

    test('issue_tracker.list with q=state="open" → GET …/issues?q=…', async () => {
      const { data } = await bb.issue_tracker.list({ ...widgets, q: 'state="open"' });
      const ids = data.values.map((i) => i.id).sort((a, b) => a - b);
      assert.deepEqual(ids, [2, issue.id]);
      assert.ok(data.values.every((i) => i.state === 'open'));
      assert.equal(data.values.find((i) => i.id === 2).title, 'Add dark mode');
    });

    test('a disabled issue tracker surfaces as a 404 HTTPError with the error envelope', async () => {
      await httpError(bb.issue_tracker.list({ workspace: 'acme', repo_slug: 'website' }), 404);
    });
  });

  describe('review threads: pull request diff, comments and tasks; commit comments', () => {
    const repo = { workspace: 'acme', repo_slug: 'widgets' };
    const pr = { ...repo, pull_request_id: 1 };
    let comment;
    let task;

    test('repositories.getPullRequestDiff / getPullRequestPatch → …/pullrequests/1/diff, …/patch', async () => {
      const diff = await bb.repositories.getPullRequestDiff(pr);
      assert.equal(diff.status, 200);
      assert.match(String(diff.data), /^\+\+\+ b\/src\/login\.rs$/m);
      const patch = await bb.repositories.getPullRequestPatch(pr);
      assert.match(String(patch.data), /^From [0-9a-f]{40} /m);
      assert.match(String(patch.data), /^\+\+\+ b\/src\/login\.rs$/m);
    });

    test('pull request comments: create, get, update, resolve, reopen, delete', async () => {
      const created = await bb.repositories.createPullRequestComment({
        ...pr,
        _body: { content: { raw: 'Needs a **test**' } },
      });
      assert.equal(created.status, 201);
      comment = created.data;
      assert.match(comment.content.html, /<strong>test<\/strong>/);
      const one = await bb.repositories.getPullRequestComment({ ...pr, comment_id: comment.id });
      assert.equal(one.data.content.raw, 'Needs a **test**');
      const updated = await bb.repositories.updatePullRequestComment({
        ...pr,
        comment_id: comment.id,
        _body: { content: { raw: 'Needs a test, please' } },
      });
      assert.equal(updated.data.content.raw, 'Needs a test, please');
      const resolution = await bb.repositories.resolvePullRequestComment({ ...pr, comment_id: comment.id });
      assert.equal(resolution.data.type, 'comment_resolution');
      assert.equal(resolution.data.user.display_name, 'Demo User');
      await noContent(bb.repositories.reopenPullRequestComment({ ...pr, comment_id: comment.id }));
      const reopened = await bb.repositories.getPullRequestComment({ ...pr, comment_id: comment.id });
      assert.equal(reopened.data.resolution, undefined);

      const doomed = await bb.repositories.createPullRequestComment({
        ...pr,
        _body: { content: { raw: 'to be deleted' } },
      });
      await noContent(bb.repositories.deletePullRequestComment({ ...pr, comment_id: doomed.data.id }));
      const gone = await bb.repositories.getPullRequestComment({ ...pr, comment_id: doomed.data.id });
      assert.equal(gone.data.deleted, true);
      // An anchor outside the diff is refused.
      await httpError(
        bb.repositories.createPullRequestComment({
          ...pr,
          _body: { content: { raw: 'x' }, inline: { path: 'README.md', to: 1 } },
        }),
        400,
      );
    });

    test('pull request tasks: create on a comment, list, get, resolve, delete; task_count follows', async () => {
      const created = await bb.repositories.createPullRequestTask({
        ...pr,
        _body: { content: { raw: 'Write the test' }, comment: { id: comment.id } },
      });
      assert.equal(created.status, 201);
      task = created.data;
      assert.equal(task.state, 'UNRESOLVED');
      assert.equal(task.comment.id, comment.id);
      assert.equal(task.creator.display_name, 'Demo User');
      assert.equal((await bb.repositories.getPullRequest(pr)).data.task_count, 1);

      const listed = await bb.repositories.listPullRequestTasks(pr);
      assert.deepEqual(listed.data.values.map((t) => t.id), [task.id]);
      const one = await bb.repositories.getPullRequestTask({ ...pr, task_id: task.id });
      assert.equal(one.data.content.raw, 'Write the test');

      const resolved = await bb.repositories.updatePullRequestTask({
        ...pr,
        task_id: task.id,
        _body: { state: 'RESOLVED' },
      });
      assert.equal(resolved.data.state, 'RESOLVED');
      assert.equal(resolved.data.resolved_by.display_name, 'Demo User');
      assert.equal((await bb.repositories.getPullRequest(pr)).data.task_count, 0);
      await httpError(
        bb.repositories.updatePullRequestTask({ ...pr, task_id: task.id, _body: { state: 'DONE' } }),
        400,
      );
      await httpError(
        bb.repositories.createPullRequestTask({ ...pr, _body: { content: { raw: 'x' }, comment: { id: 999999 } } }),
        400,
      );

      await noContent(bb.repositories.deletePullRequestTask({ ...pr, task_id: task.id }));
      await httpError(bb.repositories.getPullRequestTask({ ...pr, task_id: task.id }), 404);
    });

    test('commit comments: inline on the commit\'s own diff, reply, update (201), delete', async () => {
      const head = (await bb.repositories.getBranch({ ...repo, name: 'feature/login' })).data.target.hash;
      const stat = await bb.repositories.listDiffStats({ ...repo, spec: head });
      const added = stat.data.values.find((v) => v.new && v.lines_added > 0);
      assert.ok(added, JSON.stringify(stat.data.values));
      const commit = { ...repo, commit: head };
      const inline = await bb.repositories.createCommitComment({
        ...commit,
        _body: { content: { raw: 'Why this line?' }, inline: { path: added.new.path, to: 1 } },
      });
      assert.equal(inline.status, 201);
      assert.equal(inline.data.type, 'commit_comment');
      assert.equal(inline.data.commit.hash, head);
      assert.deepEqual(inline.data.inline, { path: added.new.path, to: 1 });
      const reply = await bb.repositories.createCommitComment({
        ...commit,
        _body: { content: { raw: 'Because.' }, parent: { id: inline.data.id } },
      });
      assert.equal(reply.data.parent.id, inline.data.id);

      const updated = await bb.repositories.updateCommitComment({
        ...commit,
        comment_id: inline.data.id,
        _body: { content: { raw: 'Why this line, exactly?' } },
      });
      assert.equal(updated.status, 201);
      const one = await bb.repositories.getCommitComment({ ...commit, comment_id: inline.data.id });
      assert.equal(one.data.content.raw, 'Why this line, exactly?');

      await noContent(bb.repositories.deleteCommitComment({ ...commit, comment_id: reply.data.id }));
      const listed = await bb.repositories.listCommitComments(commit);
      assert.deepEqual(
        listed.data.values.map((c) => [c.id, c.deleted]),
        [
          [inline.data.id, false],
          [reply.data.id, true],
        ],
      );
      await httpError(
        bb.repositories.createCommitComment({
          ...commit,
          _body: { content: { raw: 'x' }, inline: { path: added.new.path, to: 100000 } },
        }),
        400,
      );
    });

    test('approval withdrawn, and the develop pull request declined', async () => {
      await bb.repositories.createPullRequestApproval(pr);
      await noContent(bb.repositories.deletePullRequestApproval(pr));
      const after = await bb.repositories.getPullRequest(pr);
      assert.ok(!after.data.participants.some((p) => p.approved), JSON.stringify(after.data.participants));

      const open = await bb.pullrequests.list({ ...repo, state: 'OPEN' });
      const develop = open.data.values.find((p) => p.source.branch.name === 'develop');
      assert.ok(develop, 'the pull request opened above');
      const declined = await bb.repositories.declinePullRequest({ ...repo, pull_request_id: develop.id });
      assert.equal(declined.data.state, 'DECLINED');
      await httpError(bb.repositories.mergePullRequest({ ...repo, pull_request_id: develop.id, _body: {} }), 400);
    });
  });

  describe('code review', () => {
    const repo = { workspace: 'acme', repo_slug: 'widgets' };
    const pr = { ...repo, pull_request_id: 1 };

    test('repositories.getDiff / listDiffStats / getMergeBase → …/diff, …/diffstat, …/merge-base', async () => {
      const diff = await bb.repositories.getDiff({ ...repo, spec: 'feature/login..main' });
      assert.equal(diff.status, 200);
      assert.match(String(diff.data), /^diff --git a\/src\/login\.rs b\/src\/login\.rs$/m);
      const stat = await bb.repositories.listDiffStats({ ...repo, spec: 'feature/login..main' });
      assert.ok(stat.data.values.some((v) => v.type === 'diffstat' && v.new?.path === 'src/login.rs'));
      const base = await bb.repositories.getMergeBase({ ...repo, revspec: 'feature/login..main' });
      assert.match(base.data.hash, /^[0-9a-f]{40}$/);
    });

    test('pull request diffstat, approval, comment, build status and squash merge', async () => {
      const stat = await bb.repositories.getPullRequestDiffStat(pr);
      assert.ok(stat.data.values.length >= 1);
      const approval = await bb.repositories.createPullRequestApproval(pr);
      assert.equal(approval.data.approved, true);
      assert.equal(approval.data.user.display_name, 'Demo User');
      const comment = await bb.repositories.createPullRequestComment({
        ...pr,
        _body: { content: { raw: 'nit: rename' }, inline: { path: 'src/login.rs', to: 1 } },
      });
      assert.equal(comment.status, 201);
      assert.equal(comment.data.inline.path, 'src/login.rs');
      const comments = await bb.repositories.listPullRequestComments(pr);
      assert.ok(comments.data.values.some((c) => c.content.raw === 'nit: rename'));
      const source = (await bb.repositories.getPullRequest(pr)).data.source.commit.hash;
      const full = (await bb.repositories.getCommit({ ...repo, commit: source })).data.hash;
      const status = await bb.repositories.createCommitBuildStatus({
        ...repo,
        commit: full,
        _body: { key: 'CI', state: 'SUCCESSFUL', url: 'http://ci.example/1' },
      });
      assert.equal(status.status, 201);
      const statuses = await bb.repositories.listPullRequestStatuses(pr);
      assert.equal(statuses.data.values[0].state, 'SUCCESSFUL');
      const merged = await bb.repositories.mergePullRequest({
        ...pr,
        _body: { type: 'pullrequest_merge_parameters', merge_strategy: 'squash', message: 'Squash the login form' },
      });
      assert.equal(merged.data.state, 'MERGED');
      const main = await bb.repositories.listCommitsAt({ ...repo, revision: 'main' });
      assert.equal(main.data.values[0].message.trim(), 'Squash the login form');
      await httpError(bb.repositories.mergePullRequest({ ...pr, _body: {} }), 400);
    });
  });

  describe('snippets', () => {
    const snippet = { workspace: 'acme', encoded_id: 'kypj' };

    test('snippets.get → GET /snippets/acme/kypj', async () => {
      const { data } = await bb.snippets.get(snippet);
      assert.equal(data.type, 'snippet');
      assert.equal(data.title, 'Deploy checklist');
      assert.ok(Object.keys(data.files ?? {}).length >= 1, JSON.stringify(data.files));
    });

    test('snippets.listComments / createComment → …/snippets/acme/kypj/comments', async () => {
      const before = await bb.snippets.listComments(snippet);
      assert.equal(before.data.values.length, 1);
      assert.equal(before.data.values[0].user.display_name, 'Bob Builder');

      const res = await bb.snippets.createComment({
        ...snippet,
        _body: { content: { raw: 'Checked from npm.' } },
      });
      assert.equal(res.status, 201);
      assert.equal(res.data.content.raw, 'Checked from npm.');
      assert.equal(res.data.user.display_name, 'Demo User');

      const afterwards = await bb.snippets.listComments(snippet);
      assert.equal(afterwards.data.values.length, 2);
      assert.ok(afterwards.data.values.some((c) => c.content.raw === 'Checked from npm.'));
    });
  });
});
