//! Renders stored rows as Bitbucket Cloud JSON objects, in the shapes of the official spec:
//! `type` on every object, brace-wrapped UUIDs, and `links` that point at this server.
//!
//! Absent values are omitted rather than sent as `null`, because the spec's schemas do not
//! allow `null` anywhere.

use serde_json::{Map, Value, json};

use crate::git::{CommitInfo, RefInfo};
use crate::state::{AppState, unix_timestamp};
use crate::store::{
    CommentRow, IssueRow, ParticipantRow, ProjectRow, PullRequestRow, RepoRow, SnippetRow, UserRow,
    WorkspaceRow,
};

fn link(href: String) -> Value {
    json!({ "href": href })
}

fn enc(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, crate::api::SEGMENT).to_string()
}

pub fn user(s: &AppState, u: &UserRow) -> Value {
    json!({
        "type": "user",
        "uuid": u.uuid,
        "account_id": u.account_id,
        "nickname": u.username,
        "username": u.username,
        "display_name": u.display_name,
        "account_status": "active",
        "created_on": u.created_on,
        "has_2fa_enabled": false,
        "is_staff": false,
        "links": {
            "self": link(s.api_url(&format!("/users/{}", enc(&u.uuid)))),
            "html": link(s.html_url(&format!("/{}/", u.username))),
            "avatar": link(s.html_url(&format!("/avatars/{}.svg", u.username))),
            "repositories": link(s.api_url(&format!("/repositories/{}", enc(&u.uuid)))),
        },
    })
}

pub fn workspace(s: &AppState, w: &WorkspaceRow) -> Value {
    let api = |suffix: &str| link(s.api_url(&format!("/workspaces/{}{suffix}", w.slug)));
    json!({
        "type": "workspace",
        "uuid": w.uuid,
        "slug": w.slug,
        "name": w.name,
        "is_private": w.is_private,
        "is_privacy_enforced": false,
        "forking_mode": "allow_forks",
        "created_on": w.created_on,
        "links": {
            "self": api(""),
            "html": link(s.html_url(&format!("/{}/", w.slug))),
            "avatar": link(s.html_url(&format!("/avatars/{}.svg", w.slug))),
            "members": api("/members"),
            "owners": api("/members?q=permission%3D%22owner%22"),
            "projects": api("/projects"),
            "repositories": link(s.api_url(&format!("/repositories/{}", w.slug))),
            "snippets": link(s.api_url(&format!("/snippets/{}", w.slug))),
        },
    })
}

pub fn workspace_base(s: &AppState, w: &WorkspaceRow) -> Value {
    json!({
        "type": "workspace_base",
        "uuid": w.uuid,
        "slug": w.slug,
        "links": {
            "self": link(s.api_url(&format!("/workspaces/{}", w.slug))),
            "avatar": link(s.html_url(&format!("/avatars/{}.svg", w.slug))),
        },
    })
}

/// A workspace as the owner of a project or repository (the spec's `team`).
pub fn workspace_owner(s: &AppState, w: &WorkspaceRow) -> Value {
    json!({
        "type": "team",
        "uuid": w.uuid,
        "username": w.slug,
        "display_name": w.name,
        "links": {
            "self": link(s.api_url(&format!("/workspaces/{}", w.slug))),
            "html": link(s.html_url(&format!("/{}/", w.slug))),
            "avatar": link(s.html_url(&format!("/avatars/{}.svg", w.slug))),
        },
    })
}

pub fn project(s: &AppState, w: &WorkspaceRow, p: &ProjectRow) -> Value {
    json!({
        "type": "project",
        "uuid": p.uuid,
        "key": p.key,
        "name": p.name,
        "description": p.description,
        "is_private": p.is_private,
        "created_on": p.created_on,
        "updated_on": p.updated_on,
        "has_publicly_visible_repos": false,
        "owner": workspace_owner(s, w),
        "links": {
            "html": link(s.html_url(&format!("/{}/workspace/projects/{}", w.slug, p.key))),
            "avatar": link(s.html_url(&format!("/avatars/{}.svg", p.key))),
        },
    })
}

fn repo_path(w: &WorkspaceRow, r: &RepoRow) -> String {
    format!("/repositories/{}/{}", w.slug, r.slug)
}

/// The short form of a repository used inside other objects.
pub fn repository_ref(s: &AppState, w: &WorkspaceRow, r: &RepoRow) -> Value {
    json!({
        "type": "repository",
        "uuid": r.uuid,
        "name": r.name,
        "full_name": format!("{}/{}", w.slug, r.slug),
        "links": {
            "self": link(s.api_url(&repo_path(w, r))),
            "html": link(s.html_url(&format!("/{}/{}", w.slug, r.slug))),
            "avatar": link(s.html_url(&format!("/avatars/{}.svg", r.slug))),
        },
    })
}

pub fn repository(
    s: &AppState,
    w: &WorkspaceRow,
    r: &RepoRow,
    project_row: Option<&ProjectRow>,
    size: u64,
) -> Value {
    let api = |suffix: &str| link(s.api_url(&format!("{}{suffix}", repo_path(w, r))));
    let html = s.html_url(&format!("/{}/{}", w.slug, r.slug));
    let mut v = json!({
        "type": "repository",
        "uuid": r.uuid,
        "name": r.name,
        "slug": r.slug,
        "full_name": format!("{}/{}", w.slug, r.slug),
        "description": r.description,
        "scm": "git",
        "is_private": r.is_private,
        "has_issues": r.has_issues,
        "has_wiki": r.has_wiki,
        "fork_policy": r.fork_policy,
        "language": r.language,
        "size": size,
        "created_on": r.created_on,
        "updated_on": r.updated_on,
        "owner": workspace_owner(s, w),
        "workspace": workspace_base(s, w),
        "mainbranch": { "type": "branch", "name": r.mainbranch },
        "links": {
            "self": api(""),
            "html": link(html.clone()),
            "avatar": link(s.html_url(&format!("/avatars/{}.svg", r.slug))),
            "pullrequests": api("/pullrequests"),
            "commits": api("/commits"),
            "forks": api("/forks"),
            "watchers": api("/watchers"),
            "downloads": api("/downloads"),
            "hooks": api("/hooks"),
            "clone": [
                { "name": "https", "href": format!("{html}.git") },
            ],
        },
    });
    if let (Some(p), Some(obj)) = (project_row, v.as_object_mut()) {
        obj.insert("project".into(), project(s, w, p));
    }
    v
}

fn author(c: &crate::git::Signature) -> String {
    format!("{} <{}>", c.name, c.email)
}

/// A commit as embedded in branches, tags and commit lists.
pub fn commit(s: &AppState, w: &WorkspaceRow, r: &RepoRow, c: &CommitInfo) -> Value {
    let path = format!("{}/commit/{}", repo_path(w, r), c.hash);
    json!({
        "type": "commit",
        "hash": c.hash,
        "date": unix_timestamp(c.author.time),
        "message": c.message,
        "summary": { "raw": c.message, "markup": "markdown", "html": html_text(&c.message) },
        "author": { "type": "author", "raw": author(&c.author) },
        "committer": { "type": "committer", "raw": author(&c.committer) },
        "parents": c.parents.iter().map(|p| json!({
            "type": "commit",
            "hash": p,
            "links": {
                "self": link(s.api_url(&format!("{}/commit/{p}", repo_path(w, r)))),
                "html": link(s.html_url(&format!("/{}/{}/commits/{p}", w.slug, r.slug))),
            },
        })).collect::<Vec<_>>(),
        "repository": repository_ref(s, w, r),
        "links": {
            "self": link(s.api_url(&path)),
            "html": link(s.html_url(&format!("/{}/{}/commits/{}", w.slug, r.slug, c.hash))),
            "diff": link(s.api_url(&format!("{}/diff/{}", repo_path(w, r), c.hash))),
        },
    })
}

/// Attaches `user` to commit authors whose email belongs to a sandbox user.
pub fn link_commit_authors(v: &mut Value, users: &[UserRow], s: &AppState) {
    for role in ["author", "committer"] {
        if let Some(raw) = v.pointer(&format!("/{role}/raw")).and_then(Value::as_str) {
            let found = users
                .iter()
                .find(|u| raw.ends_with(&format!("<{}>", u.email)));
            if let (Some(u), Some(obj)) = (found, v.get_mut(role).and_then(Value::as_object_mut)) {
                obj.insert("user".into(), user(s, u));
            }
        }
    }
}

pub fn branch(s: &AppState, w: &WorkspaceRow, r: &RepoRow, b: &RefInfo) -> Value {
    let name = enc(&b.name);
    json!({
        "type": "branch",
        "name": b.name,
        "target": commit(s, w, r, &b.target),
        "merge_strategies": ["merge_commit", "squash", "fast_forward"],
        "default_merge_strategy": "merge_commit",
        "links": {
            "self": link(s.api_url(&format!("{}/refs/branches/{name}", repo_path(w, r)))),
            "commits": link(s.api_url(&format!("{}/commits/{name}", repo_path(w, r)))),
            "html": link(s.html_url(&format!("/{}/{}/branch/{name}", w.slug, r.slug))),
        },
    })
}

pub fn tag(s: &AppState, w: &WorkspaceRow, r: &RepoRow, t: &RefInfo) -> Value {
    let name = enc(&t.name);
    json!({
        "type": "tag",
        "name": t.name,
        "target": commit(s, w, r, &t.target),
        "date": unix_timestamp(t.target.committer.time),
        "links": {
            "self": link(s.api_url(&format!("{}/refs/tags/{name}", repo_path(w, r)))),
            "commits": link(s.api_url(&format!("{}/commits/{name}", repo_path(w, r)))),
            "html": link(s.html_url(&format!("/{}/{}/commits/tag/{name}", w.slug, r.slug))),
        },
    })
}

/// Bitbucket renders `content.html` from Markdown; the sandbox escapes the text into a
/// paragraph, which is enough for clients that display it.
pub fn html_text(raw: &str) -> String {
    if raw.is_empty() {
        return String::new();
    }
    let escaped = raw
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<p>{escaped}</p>")
}

fn rendered(raw: &str) -> Value {
    json!({ "raw": raw, "markup": "markdown", "html": html_text(raw) })
}

fn insert_user(obj: &mut Map<String, Value>, key: &str, s: &AppState, u: Option<&UserRow>) {
    if let Some(u) = u {
        obj.insert(key.into(), user(s, u));
    }
}

pub struct IssueContext<'a> {
    pub reporter: Option<&'a UserRow>,
    pub assignee: Option<&'a UserRow>,
}

pub fn issue(
    s: &AppState,
    w: &WorkspaceRow,
    r: &RepoRow,
    i: &IssueRow,
    ctx: &IssueContext<'_>,
) -> Value {
    let api =
        |suffix: &str| link(s.api_url(&format!("{}/issues/{}{suffix}", repo_path(w, r), i.id)));
    let mut v = json!({
        "type": "issue",
        "id": i.id,
        "title": i.title,
        "content": rendered(&i.content),
        "kind": i.kind,
        "priority": i.priority,
        "state": i.state,
        "votes": i.votes,
        "created_on": i.created_on,
        "updated_on": i.updated_on,
        "repository": repository_ref(s, w, r),
        "links": {
            "self": api(""),
            "html": link(s.html_url(&format!("/{}/{}/issues/{}", w.slug, r.slug, i.id))),
            "comments": api("/comments"),
            "attachments": api("/attachments"),
            "watch": api("/watch"),
            "vote": api("/vote"),
        },
    });
    if let Some(obj) = v.as_object_mut() {
        insert_user(obj, "reporter", s, ctx.reporter);
        insert_user(obj, "assignee", s, ctx.assignee);
        if let Some(edited) = &i.edited_on {
            obj.insert("edited_on".into(), Value::String(edited.clone()));
        }
    }
    v
}

pub fn issue_comment(
    s: &AppState,
    w: &WorkspaceRow,
    r: &RepoRow,
    issue_value: &Value,
    issue_id: i64,
    c: &CommentRow,
    author: &UserRow,
) -> Value {
    let mut v = json!({
        "type": "issue_comment",
        "id": c.id,
        "content": rendered(&c.content),
        "user": user(s, author),
        "created_on": c.created_on,
        "deleted": false,
        "issue": issue_value,
        "links": {
            "self": link(s.api_url(&format!("{}/issues/{issue_id}/comments/{}", repo_path(w, r), c.id))),
            "html": link(s.html_url(&format!("/{}/{}/issues/{issue_id}#comment-{}", w.slug, r.slug, c.id))),
        },
    });
    if let (Some(updated), Some(obj)) = (&c.updated_on, v.as_object_mut()) {
        obj.insert("updated_on".into(), Value::String(updated.clone()));
    }
    v
}

pub struct PullRequestContext<'a> {
    pub author: &'a UserRow,
    pub reviewers: &'a [UserRow],
    /// Approvals and change requests, with who made them.
    pub reviews: &'a [(UserRow, ParticipantRow)],
    pub comment_count: i64,
    /// Open (unresolved) tasks.
    pub task_count: i64,
    /// Who merged or declined it.
    pub closed_by: Option<&'a UserRow>,
}

/// A user's part in a pull request: reviewer or participant, and their review, if any.
pub fn participant(
    s: &AppState,
    u: &UserRow,
    reviewer: bool,
    review: Option<&ParticipantRow>,
) -> Value {
    let mut v = json!({
        "type": "participant",
        "user": user(s, u),
        "role": if reviewer { "REVIEWER" } else { "PARTICIPANT" },
        "approved": review.is_some_and(|r| r.approved),
    });
    // The spec types both as strings, so "none yet" leaves them out rather than null.
    if let (Some(r), Some(obj)) = (review, v.as_object_mut()) {
        if let Some(state) = &r.state {
            obj.insert("state".into(), json!(state));
        }
        obj.insert("participated_on".into(), json!(r.participated_on));
    }
    v
}

pub fn pull_request(
    s: &AppState,
    w: &WorkspaceRow,
    r: &RepoRow,
    p: &PullRequestRow,
    ctx: &PullRequestContext<'_>,
) -> Value {
    let api = |suffix: &str| {
        link(s.api_url(&format!(
            "{}/pullrequests/{}{suffix}",
            repo_path(w, r),
            p.id
        )))
    };
    let endpoint = |branch: &str, hash: &str| {
        json!({
            "repository": repository_ref(s, w, r),
            "branch": { "name": branch },
            "commit": { "hash": &hash[..hash.len().min(12)] },
        })
    };
    let mut v = json!({
        "type": "pullrequest",
        "id": p.id,
        "title": p.title,
        "description": p.description,
        "summary": rendered(&p.description),
        "rendered": {
            "title": rendered(&p.title),
            "description": rendered(&p.description),
        },
        "state": p.state,
        "author": user(s, ctx.author),
        "source": endpoint(&p.source_branch, &p.source_commit),
        "destination": endpoint(&p.destination_branch, &p.destination_commit),
        "close_source_branch": p.close_source_branch,
        "draft": p.draft,
        "queued": false,
        "comment_count": ctx.comment_count,
        "task_count": ctx.task_count,
        "reason": "",
        "created_on": p.created_on,
        "updated_on": p.updated_on,
        "reviewers": ctx.reviewers.iter().map(|u| user(s, u)).collect::<Vec<_>>(),
        "participants": participants(s, ctx),
        "links": {
            "self": api(""),
            "html": link(s.html_url(&format!("/{}/{}/pull-requests/{}", w.slug, r.slug, p.id))),
            "commits": api("/commits"),
            "approve": api("/approve"),
            "diff": api("/diff"),
            "diffstat": api("/diffstat"),
            "comments": api("/comments"),
            "activity": api("/activity"),
            "merge": api("/merge"),
            "decline": api("/decline"),
        },
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(hash) = &p.merge_commit {
            obj.insert("merge_commit".into(), json!({ "hash": hash }));
        }
        if let Some(u) = ctx.closed_by {
            obj.insert("closed_by".into(), user(s, u));
        }
    }
    v
}

fn participants(s: &AppState, ctx: &PullRequestContext<'_>) -> Vec<Value> {
    let review_of = |id: i64| ctx.reviews.iter().find(|(u, _)| u.id == id).map(|(_, r)| r);
    let mut out: Vec<Value> = ctx
        .reviewers
        .iter()
        .map(|u| participant(s, u, true, review_of(u.id)))
        .collect();
    out.extend(
        ctx.reviews
            .iter()
            .filter(|(u, _)| !ctx.reviewers.iter().any(|r| r.id == u.id))
            .map(|(u, r)| participant(s, u, false, Some(r))),
    );
    out
}

pub fn snippet(
    s: &AppState,
    w: &WorkspaceRow,
    sn: &SnippetRow,
    creator: &UserRow,
    files: &[(String, usize)],
) -> Value {
    let base = format!("/snippets/{}/{}", w.slug, sn.encoded_id);
    let files: Map<String, Value> = files
        .iter()
        .map(|(path, _)| {
            (
                path.clone(),
                json!({ "links": {
                    "self": link(s.api_url(&format!("{base}/files/{}", enc(path)))),
                    "html": link(s.html_url(&format!("/{}/{}#file-{}", w.slug, sn.encoded_id, enc(path)))),
                }}),
            )
        })
        .collect();
    json!({
        "type": "snippet",
        "id": sn.id,
        "encoded_id": sn.encoded_id,
        "title": sn.title,
        "scm": "git",
        "is_private": sn.is_private,
        "created_on": sn.created_on,
        "updated_on": sn.updated_on,
        "owner": workspace_owner(s, w),
        "creator": user(s, creator),
        "files": files,
        "links": {
            "self": link(s.api_url(&base)),
            "html": link(s.html_url(&format!("/snippets/{}/{}", w.slug, sn.encoded_id))),
            "comments": link(s.api_url(&format!("{base}/comments"))),
            "watchers": link(s.api_url(&format!("{base}/watchers"))),
            "commits": link(s.api_url(&format!("{base}/commits"))),
        },
    })
}

pub fn snippet_comment(
    s: &AppState,
    w: &WorkspaceRow,
    sn: &SnippetRow,
    snippet_value: &Value,
    c: &CommentRow,
    author: &UserRow,
) -> Value {
    let mut v = json!({
        "type": "snippet_comment",
        "id": c.id,
        "content": rendered(&c.content),
        "user": user(s, author),
        "created_on": c.created_on,
        "deleted": false,
        "snippet": snippet_value,
        "links": {
            "self": link(s.api_url(&format!("/snippets/{}/{}/comments/{}", w.slug, sn.encoded_id, c.id))),
            "html": link(s.html_url(&format!("/snippets/{}/{}#comment-{}", w.slug, sn.encoded_id, c.id))),
        },
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(parent) = c.parent_id {
            obj.insert(
                "parent".into(),
                json!({ "type": "snippet_comment", "id": parent }),
            );
        }
        if let Some(updated) = &c.updated_on {
            obj.insert("updated_on".into(), Value::String(updated.clone()));
        }
    }
    v
}
