//! The seed: the users, workspaces, repositories (with real git history), issues, pull
//! request and snippet that a fresh sandbox starts with. Tests and the offline model rely on
//! these exact names and numbers.

use sqlx::SqliteConnection;

use crate::git::{GitStore, RepoId, Signature};
use crate::state::new_uuid;
use crate::store::Store;

/// Demo's token unless `--token` says otherwise.
pub const DEMO_TOKEN: &str = "sandbox-token";
pub const DEMO_EMAIL: &str = "demo@example.com";
pub const ALICE_TOKEN: &str = "alice-token";
pub const BOB_TOKEN: &str = "bob-token";
/// Eve belongs to no workspace: on a public repository she can read, open issues and comment,
/// but not write (the outsider of lockdown tests).
pub const EVE_TOKEN: &str = "eve-token";

struct SeedUser {
    username: &'static str,
    display_name: &'static str,
    email: &'static str,
    token: &'static str,
}

const USERS: &[SeedUser] = &[
    SeedUser {
        username: "demo",
        display_name: "Demo User",
        email: DEMO_EMAIL,
        token: DEMO_TOKEN,
    },
    SeedUser {
        username: "alice",
        display_name: "Alice Liddell",
        email: "alice@example.com",
        token: ALICE_TOKEN,
    },
    SeedUser {
        username: "bob",
        display_name: "Bob Builder",
        email: "bob@example.com",
        token: BOB_TOKEN,
    },
    SeedUser {
        username: "eve",
        display_name: "Eve Outsider",
        email: "eve@example.com",
        token: EVE_TOKEN,
    },
];

const README_WIDGETS: &str = "# Widgets\n\nWidgets is Acme's small Rust service for composing dashboard widgets. It\nloads widget definitions from `widgets.toml`, renders them to HTML fragments and\nserves them over HTTP so that any internal page can embed a live chart, counter\nor status light without writing front-end code.\n\n## Getting started\n\n```sh\ncargo run -- --config widgets.toml\n```\n\nSee `docs/guide.md` for the widget format and `CONTRIBUTING` notes in the guide.\n";
const CARGO_TOML: &str =
    "[package]\nname = \"widgets\"\nversion = \"0.3.1\"\nedition = \"2021\"\n\n[dependencies]\n";
const MAIN_RS: &str = "//! Widgets: renders dashboard widgets.\n\nfn main() {\n    let name = std::env::args().nth(1).unwrap_or_else(|| \"world\".into());\n    println!(\"Hello, {name}! Widgets is running.\");\n}\n";
const GUIDE_MD: &str = "# Widgets guide\n\nA widget is a table in `widgets.toml`:\n\n```toml\n[[widget]]\nkind = \"counter\"\ntitle = \"Open tickets\"\nsource = \"https://tickets.example.com/api/open\"\n```\n\nKinds: `counter`, `chart`, `status`.\n";
const LIB_RS: &str =
    "//! Shared widget types.\n\npub enum Kind {\n    Counter,\n    Chart,\n    Status,\n}\n";
const LOGIN_RS: &str = "//! The login form.\n\npub fn render_login_form() -> String {\n    \"<form method=\\\"post\\\"><input name=\\\"user\\\"><input name=\\\"password\\\" type=\\\"password\\\"></form>\".into()\n}\n";
const README_WEBSITE: &str = "# acme.example.com\n\nThe static marketing site of Acme Corp. Edit `index.html` and push to `main`;\nthe site deploys on every merge.\n";
const INDEX_HTML: &str = "<!doctype html>\n<html>\n  <head><title>Acme Corp</title></head>\n  <body><h1>Acme Corp</h1><p>We make widgets.</p></body>\n</html>\n";
const README_NOTES: &str =
    "# Notes\n\nDemo's personal notes: ideas, reading lists and meeting notes.\n";
const CHECKLIST: &str = "# Deploy checklist\n\n1. Merge to `main` and wait for CI.\n2. Tag the release (`vX.Y.Z`).\n3. Deploy to staging and smoke-test.\n4. Deploy to production.\n5. Announce in #releases.\n";

/// Unix seconds for `2026-MM-DDT09:00:00Z` style seed times.
fn at(date: time::Date, hour: u8) -> i64 {
    date.with_hms(hour, 0, 0)
        .map(|t| t.assume_utc().unix_timestamp())
        .unwrap_or(0)
}

fn ts(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .map(crate::state::timestamp)
        .unwrap_or_else(|_| crate::state::now())
}

fn sig(user: &SeedUser, time: i64) -> Signature {
    Signature {
        name: user.display_name.to_owned(),
        email: user.email.to_owned(),
        time,
    }
}

/// Errors while seeding.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("seeding the database failed")]
    Db(#[from] sqlx::Error),
    #[error("seeding the git repositories failed")]
    Git(#[from] crate::git::GitError),
}

/// Writes the seed into an empty database and repository folder.
pub async fn seed(store: &Store, git: &GitStore) -> Result<(), SeedError> {
    use time::macros::date;
    let [demo, alice, bob] = [&USERS[0], &USERS[1], &USERS[2]];

    // Git first: if it fails, the database stays empty and the next start seeds again.
    let widgets_git = RepoId::new("acme", "widgets")?;
    git.init(&widgets_git, "main")?;
    let c1 = git.commit_files(
        &widgets_git,
        "main",
        None,
        &[
            ("README.md", README_WIDGETS.as_bytes()),
            ("Cargo.toml", CARGO_TOML.as_bytes()),
            ("src/main.rs", MAIN_RS.as_bytes()),
        ],
        "Initial commit",
        &sig(demo, at(date!(2026 - 01 - 05), 9)),
    )?;
    let c2 = git.commit_files(
        &widgets_git,
        "main",
        Some(&c1.hash),
        &[("docs/guide.md", GUIDE_MD.as_bytes())],
        "Add the widgets guide",
        &sig(bob, at(date!(2026 - 01 - 08), 14)),
    )?;
    git.commit_files(
        &widgets_git,
        "develop",
        Some(&c2.hash),
        &[("src/lib.rs", LIB_RS.as_bytes())],
        "Add shared widget types",
        &sig(bob, at(date!(2026 - 01 - 12), 11)),
    )?;
    git.commit_files(
        &widgets_git,
        "feature/login",
        Some(&c2.hash),
        &[("src/login.rs", LOGIN_RS.as_bytes())],
        "Add login form",
        &sig(alice, at(date!(2026 - 02 - 01), 16)),
    )?;
    git.set_main_branch(&widgets_git, "main")?;

    let website_git = RepoId::new("acme", "website")?;
    git.init(&website_git, "main")?;
    git.commit_files(
        &website_git,
        "main",
        None,
        &[
            ("README.md", README_WEBSITE.as_bytes()),
            ("index.html", INDEX_HTML.as_bytes()),
        ],
        "Launch the website",
        &sig(alice, at(date!(2026 - 01 - 06), 10)),
    )?;
    git.set_main_branch(&website_git, "main")?;

    let notes_git = RepoId::new("demo", "notes")?;
    git.init(&notes_git, "main")?;
    git.commit_files(
        &notes_git,
        "main",
        None,
        &[("README.md", README_NOTES.as_bytes())],
        "Start my notes",
        &sig(demo, at(date!(2026 - 01 - 04), 8)),
    )?;
    git.set_main_branch(&notes_git, "main")?;

    let mut write = store.write().await?;
    let tx = write.conn();
    let created = ts(at(date!(2025 - 11 - 01), 9));
    let mut user_ids = Vec::new();
    for u in USERS {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (uuid, account_id, username, display_name, email, token, created_on)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new_uuid())
        .bind(format!("712020:{}", uuid::Uuid::new_v4()))
        .bind(u.username)
        .bind(u.display_name)
        .bind(u.email)
        .bind(crate::store::token_digest(u.token))
        .bind(&created)
        .fetch_one(&mut *tx)
        .await?;
        user_ids.push(id);
    }
    let (demo_id, alice_id, bob_id) = (user_ids[0], user_ids[1], user_ids[2]);

    let acme = workspace(tx, "acme", "Acme Corp", &created).await?;
    let demo_ws = workspace(tx, "demo", "Demo User", &created).await?;
    for (ws, user, permission) in [
        (acme, demo_id, "owner"),
        (acme, alice_id, "member"),
        (acme, bob_id, "member"),
        (demo_ws, demo_id, "owner"),
    ] {
        sqlx::query("INSERT INTO memberships (workspace_id, user_id, permission, added_on) VALUES (?, ?, ?, ?)")
            .bind(ws)
            .bind(user)
            .bind(permission)
            .bind(&created)
            .execute(&mut *tx)
            .await?;
    }
    let core = project(tx, acme, "CORE", "Core", "Acme's core products.", &created).await?;
    let notes_project = project(tx, demo_ws, "NOTES", "Notes", "Personal notes.", &created).await?;

    let widgets = repository(
        tx,
        acme,
        core,
        "widgets",
        "Dashboard widgets service.",
        true,
        "rust",
        &ts(at(date!(2026 - 01 - 05), 9)),
    )
    .await?;
    repository(
        tx,
        acme,
        core,
        "website",
        "Acme's marketing website.",
        false,
        "html",
        &ts(at(date!(2026 - 01 - 06), 10)),
    )
    .await?;
    repository(
        tx,
        demo_ws,
        notes_project,
        "notes",
        "Demo's notes.",
        false,
        "",
        &ts(at(date!(2026 - 01 - 04), 8)),
    )
    .await?;

    let issues = [
        (
            1,
            "Crash when saving settings",
            "The app crashes when I click Save on the settings page.",
            "bug",
            "critical",
            "new",
            bob_id,
            at(date!(2026 - 01 - 10), 9),
        ),
        (
            2,
            "Add dark mode",
            "A dark theme for the dashboard, following the OS setting.",
            "enhancement",
            "major",
            "open",
            alice_id,
            at(date!(2026 - 02 - 03), 10),
        ),
        (
            3,
            "Typo in README",
            "\"recieve\" should be \"receive\" in the README.",
            "bug",
            "trivial",
            "resolved",
            demo_id,
            at(date!(2026 - 02 - 20), 11),
        ),
    ];
    for (id, title, content, kind, priority, state, reporter, when) in issues {
        sqlx::query(
            "INSERT INTO issues (repo_id, id, title, content, kind, priority, state, reporter_id, created_on, updated_on)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(widgets)
        .bind(id)
        .bind(title)
        .bind(content)
        .bind(kind)
        .bind(priority)
        .bind(state)
        .bind(reporter)
        .bind(ts(when))
        .bind(ts(when))
        .execute(&mut *tx)
        .await?;
    }
    let main_head = c2.hash.clone();
    let login_head = git
        .branch(&widgets_git, "feature/login")?
        .map(|b| b.target.hash)
        .unwrap_or_default();
    let pr_time = ts(at(date!(2026 - 02 - 05), 15));
    sqlx::query(
        "INSERT INTO pullrequests (repo_id, id, title, description, state, author_id, source_branch, source_commit,
            destination_branch, destination_commit, created_on, updated_on)
         VALUES (?, 1, 'Add login form', 'Adds the login form used by the new sign-in page.', 'OPEN', ?, 'feature/login', ?, 'main', ?, ?, ?)",
    )
    .bind(widgets)
    .bind(alice_id)
    .bind(&login_head)
    .bind(&main_head)
    .bind(&pr_time)
    .bind(&pr_time)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE repositories SET next_issue_id = 4, next_pr_id = 2 WHERE id = ?")
        .bind(widgets)
        .execute(&mut *tx)
        .await?;

    let snippet_time = ts(at(date!(2026 - 01 - 15), 12));
    let snippet: i64 = sqlx::query_scalar(
        "INSERT INTO snippets (encoded_id, workspace_id, creator_id, title, is_private, created_on, updated_on)
         VALUES ('kypj', ?, ?, 'Deploy checklist', 1, ?, ?) RETURNING id",
    )
    .bind(acme)
    .bind(demo_id)
    .bind(&snippet_time)
    .bind(&snippet_time)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO snippet_files (snippet_id, path, content) VALUES (?, 'checklist.md', ?)",
    )
    .bind(snippet)
    .bind(CHECKLIST.as_bytes())
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO snippet_comments (snippet_id, user_id, content, created_on) VALUES (?, ?, ?, ?)")
        .bind(snippet)
        .bind(bob_id)
        .bind("Step 3 should mention the database migration.")
        .bind(ts(at(date!(2026 - 01 - 16), 9)))
        .execute(&mut *tx)
        .await?;
    write.commit().await?;
    Ok(())
}

async fn workspace(
    tx: &mut SqliteConnection,
    slug: &str,
    name: &str,
    created: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO workspaces (uuid, slug, name, is_private, created_on) VALUES (?, ?, ?, 1, ?) RETURNING id")
        .bind(new_uuid())
        .bind(slug)
        .bind(name)
        .bind(created)
        .fetch_one(&mut *tx)
        .await
}

async fn project(
    tx: &mut SqliteConnection,
    workspace: i64,
    key: &str,
    name: &str,
    description: &str,
    created: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO projects (uuid, workspace_id, key, name, description, is_private, created_on, updated_on)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
    )
    .bind(new_uuid())
    .bind(workspace)
    .bind(key)
    .bind(name)
    .bind(description)
    .bind(created)
    .bind(created)
    .fetch_one(&mut *tx)
    .await
}

#[allow(
    clippy::too_many_arguments,
    reason = "one call per seeded repository reads best flat"
)]
async fn repository(
    tx: &mut SqliteConnection,
    workspace: i64,
    project: i64,
    slug: &str,
    description: &str,
    has_issues: bool,
    language: &str,
    created: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO repositories (uuid, workspace_id, project_id, slug, name, description, is_private, has_issues,
            language, mainbranch, created_on, updated_on)
         VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, 'main', ?, ?) RETURNING id",
    )
    .bind(new_uuid())
    .bind(workspace)
    .bind(project)
    .bind(slug)
    .bind(slug)
    .bind(description)
    .bind(has_issues)
    .bind(language)
    .bind(created)
    .bind(created)
    .fetch_one(&mut *tx)
    .await
}
