//! Tests of the git layer, cross-checked against the system `git` binary.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Barrier};

use super::*;

const WS: &str = "acme";
const SLUG: &str = "widgets";

/// The repository every test works in.
fn widgets() -> RepoId {
    RepoId::new(WS, SLUG).expect("valid id")
}

fn setup() -> (tempfile::TempDir, GitStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = GitStore::new(dir.path().join("repos"));
    store.init(&widgets(), "main").expect("init");
    (dir, store)
}

fn sig(time: i64) -> Signature {
    Signature::new("Ada Lovelace", "ada@example.com", time)
}

/// Runs the system git on `repo`, isolated from the user's configuration, and returns trimmed
/// stdout.
fn git(repo: &Path, args: &[&str]) -> String {
    let out = git_output(repo, args);
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

fn git_output(repo: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("system git runs")
}

fn fsck(store: &GitStore) {
    git(
        &store.repo_path(&widgets()),
        &["fsck", "--strict", "--no-dangling"],
    );
}

fn commit(
    store: &GitStore,
    branch: &str,
    parent: Option<&str>,
    files: &[(&str, &[u8])],
    time: i64,
) -> CommitInfo {
    store
        .commit_files(
            &widgets(),
            branch,
            parent,
            files,
            &format!("commit at {time}"),
            &sig(time),
        )
        .expect("commit")
}

/// Two commits on `main`: nested files first, then one modified and one added.
fn seed(store: &GitStore) -> (CommitInfo, CommitInfo) {
    let c1 = commit(
        store,
        "main",
        None,
        &[
            ("README.md", b"# widgets\n"),
            ("src/main.rs", b"fn main() {}\n"),
            ("src/lib/mod.rs", b"pub mod a;\n"),
            ("docs/guide.md", b"guide\n"),
        ],
        1_700_000_000,
    );
    let c2 = commit(
        store,
        "main",
        Some(&c1.hash),
        &[("README.md", b"# widgets v2\n"), ("docs/api.md", b"api\n")],
        1_700_000_100,
    );
    (c1, c2)
}

#[test]
fn errors_are_send_and_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<GitError>();
    check::<GitStore>();
}

#[test]
fn init_creates_a_bare_repo_with_unborn_main() {
    let (_dir, store) = setup();
    let path = store.repo_path(&widgets());
    assert_eq!(git(&path, &["rev-parse", "--is-bare-repository"]), "true");
    assert_eq!(git(&path, &["symbolic-ref", "HEAD"]), "refs/heads/main");
    assert_eq!(store.main_branch(&widgets()).expect("main branch"), "main");
    assert_eq!(store.resolve(&widgets(), "main").expect("resolve"), None);
    assert!(store.branches(&widgets()).expect("branches").is_empty());
    fsck(&store);

    assert!(matches!(
        store.init(&widgets(), "main"),
        Err(GitError::RepoExists { .. })
    ));
    assert!(matches!(
        store.init(&RepoId::new(WS, "other").expect("valid id"), "bad..name"),
        Err(GitError::InvalidRefName { .. })
    ));
    assert!(
        !store
            .repo_path(&RepoId::new(WS, "other").expect("valid id"))
            .exists(),
        "a failed init leaves nothing behind"
    );
    for bad in ["", ".", "..", "a/b", ".hidden", "a\\b", "a b"] {
        assert!(
            matches!(RepoId::new(WS, bad), Err(GitError::InvalidRepoName { .. })),
            "slug {bad:?}"
        );
        assert!(matches!(
            RepoId::new(bad, SLUG),
            Err(GitError::InvalidRepoName { .. })
        ));
    }
    assert!(matches!(
        store.branches(&RepoId::new(WS, "missing").expect("valid id")),
        Err(GitError::NotFound { .. })
    ));

    store.delete(&widgets()).expect("delete");
    assert!(!path.exists());
    assert!(matches!(
        store.delete(&widgets()),
        Err(GitError::NotFound { .. })
    ));
}

#[test]
fn commits_match_git() {
    let (_dir, store) = setup();
    let (c1, c2) = seed(&store);
    let path = store.repo_path(&widgets());
    fsck(&store);

    assert_eq!(git(&path, &["rev-parse", "main"]), c2.hash);
    assert_eq!(git(&path, &["rev-parse", "HEAD"]), c2.hash);
    assert_eq!(c1.parents, Vec::<String>::new());
    assert_eq!(c2.parents, vec![c1.hash.clone()]);
    assert_eq!(c2.message, "commit at 1700000100\n");
    assert_eq!(c2.author, sig(1_700_000_100));
    assert_eq!(c2.committer, sig(1_700_000_100));
    assert_eq!(
        git(
            &path,
            &[
                "show",
                "-s",
                "--format=%an|%ae|%at|%cn|%ce|%ct|%P|%B",
                &c2.hash
            ]
        ),
        format!(
            "Ada Lovelace|ada@example.com|1700000100|Ada Lovelace|ada@example.com|1700000100|{}|commit at 1700000100",
            c1.hash
        )
    );
    assert_eq!(
        git(&path, &["ls-tree", "-r", "--name-only", &c2.hash]),
        "README.md\ndocs/api.md\ndocs/guide.md\nsrc/lib/mod.rs\nsrc/main.rs"
    );
    assert_eq!(
        git(&path, &["show", &format!("{}:README.md", c2.hash)]),
        "# widgets v2"
    );
    assert_eq!(
        git(&path, &["show", &format!("{}:README.md", c1.hash)]),
        "# widgets"
    );
    assert_eq!(
        git(&path, &["diff", "--name-status", &c1.hash, &c2.hash]),
        "M\tREADME.md\nA\tdocs/api.md"
    );
    // Same inputs, same hashes: seed data is deterministic.
    let (_dir2, store2) = setup();
    let (d1, d2) = seed(&store2);
    assert_eq!((d1.hash, d2.hash), (c1.hash, c2.hash));
}

#[test]
fn commit_parent_rules() {
    let (_dir, store) = setup();
    let (c1, c2) = seed(&store);
    // No parent on an existing branch: on top of its tip.
    let c3 = commit(&store, "main", None, &[("new.txt", b"n\n")], 1_700_000_200);
    assert_eq!(c3.parents, vec![c2.hash.clone()]);
    // A stale parent is refused, and the branch stays put.
    let stale = store.commit_files(
        &widgets(),
        "main",
        Some(&c1.hash),
        &[("x", b"x")],
        "m",
        &sig(1),
    );
    assert!(
        matches!(stale, Err(GitError::BranchMoved { .. })),
        "{stale:?}"
    );
    assert_eq!(
        store
            .branch(&widgets(), "main")
            .expect("branch")
            .map(|b| b.target.hash),
        Some(c3.hash.clone())
    );
    // A parent on a new branch forks it; no parent on a new branch makes a root commit.
    let f1 = commit(
        &store,
        "feature/x",
        Some(&c1.hash),
        &[("f.txt", b"f\n")],
        1_700_000_300,
    );
    assert_eq!(f1.parents, vec![c1.hash.clone()]);
    let orphan = commit(&store, "orphan", None, &[("o.txt", b"o\n")], 1_700_000_400);
    assert!(orphan.parents.is_empty());
    let path = store.repo_path(&widgets());
    assert_eq!(
        git(&path, &["ls-tree", "-r", "--name-only", "orphan"]),
        "o.txt"
    );
    // Unknown parents and bad inputs.
    let missing = store.commit_files(
        &widgets(),
        "main",
        Some("deadbeef"),
        &[("x", b"x")],
        "m",
        &sig(1),
    );
    assert!(
        matches!(missing, Err(GitError::NotFound { .. })),
        "{missing:?}"
    );
    let bad_branch = store.commit_files(&widgets(), "a..b", None, &[("x", b"x")], "m", &sig(1));
    assert!(matches!(bad_branch, Err(GitError::InvalidRefName { .. })));
    for who in [
        Signature::new("A <b>", "a@b", 1),
        Signature::new("A", "a@b\n", 1),
    ] {
        let bad_sig = store.commit_files(&widgets(), "main", None, &[("x", b"x")], "m", &who);
        assert!(matches!(bad_sig, Err(GitError::InvalidSignature { .. })));
    }
    fsck(&store);
}

#[test]
fn commit_changes_deletes_and_sets_modes() {
    let (_dir, store) = setup();
    let (_c1, c2) = seed(&store);
    let c3 = store
        .commit_changes(
            &widgets(),
            "main",
            Some(&c2.hash),
            &[
                FileChange::Delete { path: "docs" },
                FileChange::Delete {
                    path: "src/main.rs",
                },
                FileChange::Write {
                    path: "bin/run.sh",
                    content: b"#!/bin/sh\n",
                    executable: true,
                },
            ],
            "tidy up",
            &sig(1_700_000_200),
        )
        .expect("commit changes");
    let path = store.repo_path(&widgets());
    assert_eq!(
        git(&path, &["ls-tree", "-r", &c3.hash])
            .lines()
            .map(|l| {
                let (meta, name) = l.split_once('\t').expect("tab");
                format!("{} {name}", meta.split(' ').next().expect("mode"))
            })
            .collect::<Vec<_>>(),
        [
            "100644 README.md",
            "100755 bin/run.sh",
            "100644 src/lib/mod.rs"
        ]
    );
    // Emptied folders disappear, as in git.
    assert_eq!(
        git(&path, &["ls-tree", "--name-only", &c3.hash]),
        "README.md\nbin\nsrc"
    );
    fsck(&store);

    let missing = store.commit_changes(
        &widgets(),
        "main",
        None,
        &[FileChange::Delete { path: "nope" }],
        "m",
        &sig(1),
    );
    assert!(
        matches!(missing, Err(GitError::NotFound { .. })),
        "{missing:?}"
    );
    for bad in [
        "",
        "/",
        "a/../b",
        "../x",
        "./a",
        "a//b",
        ".git/config",
        "a/.GIT/x",
        "a\\b",
        "a\0b",
        "a\nb",
        "x/..",
    ] {
        let res = store.commit_files(&widgets(), "main", None, &[(bad, b"x")], "m", &sig(1));
        assert!(
            matches!(res, Err(GitError::InvalidPath { .. })),
            "path {bad:?}: {res:?}"
        );
    }
    // A file where a folder is needed gets replaced by the folder; the result is still valid git.
    let c4 = commit(
        &store,
        "main",
        None,
        &[("README.md/inner.txt", b"i\n")],
        1_700_000_300,
    );
    assert_eq!(
        git(&path, &["ls-tree", "-r", "--name-only", &c4.hash]),
        "README.md/inner.txt\nbin/run.sh\nsrc/lib/mod.rs"
    );
    fsck(&store);
}

#[test]
fn resolve_branch_tag_and_hashes() {
    let (_dir, store) = setup();
    let (c1, c2) = seed(&store);
    let hash_of = |rev: &str| {
        store
            .resolve(&widgets(), rev)
            .expect("resolve")
            .map(|c| c.hash)
    };
    assert_eq!(hash_of("main"), Some(c2.hash.clone()));
    assert_eq!(hash_of(&c1.hash), Some(c1.hash.clone()));
    assert_eq!(hash_of(&c1.hash.to_uppercase()), Some(c1.hash.clone()));
    assert_eq!(hash_of(&c1.hash[..7]), Some(c1.hash.clone()));
    assert_eq!(hash_of(&c1.hash[..4]), Some(c1.hash.clone()));
    assert_eq!(hash_of(&c1.hash[..3]), None, "too short");
    assert_eq!(hash_of("nope"), None);
    assert_eq!(hash_of(""), None);
    assert_eq!(hash_of("a..b"), None);
    assert_eq!(hash_of("0000000000000000000000000000000000000000"), None);
    // The tree of c1 is an object but not a commit.
    let tree = git(
        &store.repo_path(&widgets()),
        &["rev-parse", &format!("{}^{{tree}}", c1.hash)],
    );
    assert_eq!(hash_of(&tree), None);

    store
        .create_tag(&widgets(), "v1", &c1.hash, None, &sig(5))
        .expect("tag");
    store
        .create_tag(
            &widgets(),
            "v1-annotated",
            &c1.hash,
            Some("release"),
            &sig(5),
        )
        .expect("tag");
    assert_eq!(hash_of("v1"), Some(c1.hash.clone()));
    assert_eq!(hash_of("v1-annotated"), Some(c1.hash.clone()));
    // Branch beats tag, tag beats hash.
    store
        .create_tag(&widgets(), "main", &c1.hash, None, &sig(5))
        .expect("tag named main");
    assert_eq!(hash_of("main"), Some(c2.hash.clone()));
    let short2 = &c2.hash[..8];
    store
        .create_tag(&widgets(), short2, &c1.hash, None, &sig(5))
        .expect("tag named like a hash");
    assert_eq!(hash_of(short2), Some(c1.hash.clone()));
    store
        .create_branch(&widgets(), short2, &c2.hash)
        .expect("branch named like a hash");
    assert_eq!(hash_of(short2), Some(c2.hash.clone()));
    assert_eq!(
        store
            .commit(&widgets(), &c1.hash[..10])
            .expect("commit")
            .map(|c| c.hash),
        Some(c1.hash.clone())
    );
    assert_eq!(
        store.commit(&widgets(), "main").expect("commit"),
        None,
        "commit() takes hashes only"
    );
}

#[test]
fn ambiguous_short_hash_resolves_to_none() {
    let (_dir, store) = setup();
    let path = store.repo_path(&widgets());
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut parent: Option<String> = None;
    let mut pair = None;
    // With 4 hex digits a collision among a few hundred commits is all but certain (and
    // deterministic here).
    for i in 0..3000 {
        let c = commit(
            &store,
            "main",
            parent.as_deref(),
            &[("n", i.to_string().as_bytes())],
            1_700_000_000 + i,
        );
        let prefix = c.hash[..4].to_owned();
        if let Some(other) = seen.insert(prefix.clone(), c.hash.clone()) {
            pair = Some((prefix, other, c.hash.clone()));
            break;
        }
        parent = Some(c.hash);
    }
    let (prefix, a, b) = pair.expect("a 4-digit collision");
    assert_eq!(store.resolve(&widgets(), &prefix).expect("resolve"), None);
    assert!(
        !git_output(
            &path,
            &[
                "rev-parse",
                "--verify",
                "-q",
                &format!("{prefix}^{{commit}}")
            ]
        )
        .status
        .success()
    );
    // One more digit tells them apart unless they share it too; the full hash always works.
    for full in [&a, &b] {
        assert_eq!(
            store
                .resolve(&widgets(), full)
                .expect("resolve")
                .map(|c| c.hash),
            Some(full.clone())
        );
        let unique = (5..=40)
            .map(|n| &full[..n])
            .find(|p| !a.starts_with(p) || !b.starts_with(p))
            .expect("unique");
        assert_eq!(
            store
                .resolve(&widgets(), unique)
                .expect("resolve")
                .map(|c| c.hash),
            Some(full.clone())
        );
    }
}

#[test]
fn branch_names_agree_with_git() {
    let names = [
        "main",
        "feature/x",
        "feature/x/y",
        "release-1.0",
        "ü-unicode",
        "a@b",
        "x/HEAD",
        "a/-b",
        "refs/heads/x",
        "v1.0",
        "a_b",
        "UPPER",
        "-x",
        "-",
        "HEAD",
        "a..b",
        "a b",
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a*",
        "a[b",
        "a\\b",
        "a@{b",
        "@{-1}",
        "foo.lock",
        "a.lock/b",
        "a/.b",
        ".a",
        "a.",
        "a/",
        "/a",
        "a//b",
        "a\tb",
        "a\x7fb",
        "",
        "a/b.",
        "a.b/c",
        "..",
    ];
    let tmp = tempfile::tempdir().expect("temp dir");
    for name in names {
        let git_ok = git_output(tmp.path(), &["check-ref-format", "--branch", name])
            .status
            .success();
        assert_eq!(is_valid_branch_name(name), git_ok, "{name:?}");
    }
    // Deliberately stricter than git, which accepts `@` as a branch name.
    assert!(
        git_output(tmp.path(), &["check-ref-format", "--branch", "@"])
            .status
            .success()
    );
    assert!(!is_valid_branch_name("@"));
}

#[test]
fn create_and_delete_branches() {
    let (_dir, store) = setup();
    let (c1, c2) = seed(&store);
    let path = store.repo_path(&widgets());
    let created = store
        .create_branch(&widgets(), "feature/login", &c1.hash[..8])
        .expect("create");
    assert_eq!(created.name, "feature/login");
    assert_eq!(created.target.hash, c1.hash);
    assert_eq!(
        git(&path, &["rev-parse", "refs/heads/feature/login"]),
        c1.hash
    );

    for name in ["feature/login", "main"] {
        let res = store.create_branch(&widgets(), name, &c2.hash);
        assert!(
            matches!(
                res,
                Err(GitError::RefExists {
                    kind: RefKind::Branch,
                    ..
                })
            ),
            "{name}: {res:?}"
        );
    }
    let exists = store
        .create_branch(&widgets(), "main", &c2.hash)
        .expect_err("exists");
    assert_eq!(exists.to_string(), "branch `main` already exists");
    for name in ["bad..name", "-x", "HEAD", "", "a b", "@"] {
        let res = store.create_branch(&widgets(), name, &c2.hash);
        assert!(
            matches!(res, Err(GitError::InvalidRefName { .. })),
            "{name:?}: {res:?}"
        );
    }
    let conflict = store.create_branch(&widgets(), "feature", &c2.hash);
    assert!(
        matches!(conflict, Err(GitError::RefConflict { .. })),
        "{conflict:?}"
    );
    let conflict = store.create_branch(&widgets(), "main/sub", &c2.hash);
    assert!(
        matches!(conflict, Err(GitError::RefConflict { .. })),
        "{conflict:?}"
    );
    let missing = store.create_branch(
        &widgets(),
        "ghost",
        "0123456789012345678901234567890123456789",
    );
    assert!(
        matches!(missing, Err(GitError::NotFound { .. })),
        "{missing:?}"
    );

    let names: Vec<String> = store
        .branches(&widgets())
        .expect("branches")
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["feature/login", "main"]);
    assert_eq!(
        git(
            &path,
            &["for-each-ref", "--format=%(refname:short)", "refs/heads"]
        ),
        names.join("\n")
    );
    assert_eq!(
        store
            .branch(&widgets(), "main")
            .expect("branch")
            .map(|b| b.target),
        Some(c2.clone())
    );
    assert_eq!(store.branch(&widgets(), "nope").expect("branch"), None);
    assert_eq!(store.branch(&widgets(), "a..b").expect("branch"), None);

    assert!(
        store
            .delete_branch(&widgets(), "feature/login")
            .expect("delete")
    );
    assert!(
        !store
            .delete_branch(&widgets(), "feature/login")
            .expect("delete again")
    );
    assert!(!store.delete_branch(&widgets(), "a..b").expect("invalid"));
    // With `feature/login` gone, `feature` is free again.
    store
        .create_branch(&widgets(), "feature", &c2.hash)
        .expect("create feature");
    fsck(&store);
}

#[test]
fn main_branch_follows_head() {
    let (_dir, store) = setup();
    let (_c1, c2) = seed(&store);
    store
        .create_branch(&widgets(), "develop", &c2.hash)
        .expect("create");
    store
        .set_main_branch(&widgets(), "develop")
        .expect("set main");
    assert_eq!(store.main_branch(&widgets()).expect("main"), "develop");
    assert_eq!(
        git(&store.repo_path(&widgets()), &["symbolic-ref", "HEAD"]),
        "refs/heads/develop"
    );
    assert!(matches!(
        store.set_main_branch(&widgets(), "a..b"),
        Err(GitError::InvalidRefName { .. })
    ));
    fsck(&store);
}

#[test]
fn tags_light_and_annotated() {
    let (_dir, store) = setup();
    let (c1, c2) = seed(&store);
    let path = store.repo_path(&widgets());
    let light = store
        .create_tag(&widgets(), "v1.0", &c1.hash, None, &sig(10))
        .expect("light");
    assert_eq!(light.annotation, None);
    let annotated = store
        .create_tag(
            &widgets(),
            "release/v2.0",
            &c2.hash,
            Some("second release"),
            &sig(1_700_000_500),
        )
        .expect("annotated");
    let annotation = annotated.annotation.clone().expect("annotation");
    assert_eq!(annotated.target, c2);
    assert_eq!(annotation.message, "second release\n");
    assert_eq!(annotation.tagger, Some(sig(1_700_000_500)));
    assert_eq!(git(&path, &["cat-file", "-t", "release/v2.0"]), "tag");
    assert_eq!(git(&path, &["rev-parse", "release/v2.0"]), annotation.hash);
    assert_eq!(git(&path, &["rev-parse", "release/v2.0^{commit}"]), c2.hash);
    assert_eq!(git(&path, &["cat-file", "-t", "v1.0"]), "commit");

    let tags = store.tags(&widgets()).expect("tags");
    assert_eq!(tags, vec![annotated.clone(), light.clone()]);
    assert_eq!(
        store.tag(&widgets(), "release/v2.0").expect("tag"),
        Some(annotated)
    );
    let dup = store.create_tag(&widgets(), "v1.0", &c1.hash, Some("again"), &sig(10));
    assert!(
        matches!(
            dup,
            Err(GitError::RefExists {
                kind: RefKind::Tag,
                ..
            })
        ),
        "{dup:?}"
    );
    let bad = store.create_tag(&widgets(), "bad~tag", &c1.hash, None, &sig(10));
    assert!(matches!(
        bad,
        Err(GitError::InvalidRefName {
            kind: RefKind::Tag,
            ..
        })
    ));
    assert!(store.delete_tag(&widgets(), "v1.0").expect("delete"));
    assert!(!store.delete_tag(&widgets(), "v1.0").expect("delete again"));
    fsck(&store);
}

#[test]
fn read_path_root_dir_file_and_missing() {
    let (_dir, store) = setup();
    let (c1, c2) = seed(&store);

    let PathContent::Dir { path, entries } =
        store.read_path(&widgets(), &c2.hash, "/").expect("root")
    else {
        panic!("root is a folder");
    };
    assert_eq!(path, "");
    let listed: Vec<(&str, EntryKind, Option<u64>)> = entries
        .iter()
        .map(|e| (e.path.as_str(), e.kind, e.size))
        .collect();
    assert_eq!(
        listed,
        [
            ("README.md", EntryKind::File, Some(13)),
            ("docs", EntryKind::Dir, None),
            ("src", EntryKind::Dir, None)
        ]
    );
    assert_eq!(
        store.read_path(&widgets(), &c2.hash, "").expect("root"),
        store.read_path(&widgets(), &c2.hash, "/").expect("root")
    );

    let PathContent::Dir { path, entries } =
        store.read_path(&widgets(), &c2.hash, "/src/").expect("src")
    else {
        panic!("src is a folder");
    };
    assert_eq!(path, "src");
    let listed: Vec<(&str, EntryKind)> =
        entries.iter().map(|e| (e.path.as_str(), e.kind)).collect();
    assert_eq!(
        listed,
        [
            ("src/lib", EntryKind::Dir),
            ("src/main.rs", EntryKind::File)
        ]
    );
    let repo_path = store.repo_path(&widgets());
    assert_eq!(
        entries
            .iter()
            .map(|e| e.oid.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        git(
            &repo_path,
            &[
                "ls-tree",
                "--format=%(objectname)",
                &format!("{}:src", c2.hash)
            ]
        )
    );

    let file = store
        .read_path(&widgets(), &c1.hash[..7], "src/lib/mod.rs")
        .expect("file");
    let PathContent::File {
        path,
        size,
        oid,
        bytes,
        executable,
        symlink,
    } = file
    else {
        panic!("a file: {file:?}");
    };
    assert_eq!(
        (path.as_str(), size, bytes.as_slice(), executable, symlink),
        ("src/lib/mod.rs", 11, &b"pub mod a;\n"[..], false, false)
    );
    assert_eq!(
        oid,
        git(
            &repo_path,
            &["rev-parse", &format!("{}:src/lib/mod.rs", c1.hash)]
        )
    );

    for missing in ["nope", "src/nope", "README.md/x", "docs/api.md"] {
        let hash = if missing == "docs/api.md" {
            &c1.hash
        } else {
            &c2.hash
        };
        assert_eq!(
            store.read_path(&widgets(), hash, missing).expect("missing"),
            PathContent::NotFound,
            "{missing}"
        );
    }
    for bad in [
        "..",
        "../x",
        "src/../README.md",
        "./src",
        "src/.",
        "src//main.rs",
        "src\\main.rs",
        "a\0b",
        "/../",
    ] {
        let res = store.read_path(&widgets(), &c2.hash, bad);
        assert!(
            matches!(res, Err(GitError::InvalidPath { .. })),
            "{bad:?}: {res:?}"
        );
    }
    let res = store.read_path(&widgets(), "0123456789abcdef0123456789abcdef01234567", "");
    assert!(matches!(res, Err(GitError::NotFound { .. })), "{res:?}");
    let res = store.read_path(&widgets(), "main", "");
    assert!(
        matches!(res, Err(GitError::NotFound { .. })),
        "hashes only: {res:?}"
    );
}

/// Builds main: c1 - c2 - c3 - m (merge of f2), feature: c2 - f1 - f2, with distinct commit times.
fn history(store: &GitStore) -> Vec<CommitInfo> {
    let (c1, c2) = seed(store);
    let f1 = commit(
        store,
        "feature",
        Some(&c2.hash),
        &[("f1", b"1")],
        1_700_000_150,
    );
    let c3 = commit(
        store,
        "main",
        Some(&c2.hash),
        &[("c3", b"3")],
        1_700_000_200,
    );
    let f2 = commit(
        store,
        "feature",
        Some(&f1.hash),
        &[("f2", b"2")],
        1_700_000_250,
    );
    // Our API makes no merges; write one with gix directly, as a push would.
    let mut repo = store.open(&widgets()).expect("open");
    let c3_id = ObjectId::from_hex(c3.hash.as_bytes()).expect("hex");
    let f2_id = ObjectId::from_hex(f2.hash.as_bytes()).expect("hex");
    let tree = repo
        .find_commit(c3_id)
        .expect("c3")
        .tree_id()
        .expect("tree")
        .detach();
    let signature = to_gix_signature(&sig(1_700_000_300)).expect("sig");
    let merge = gix::objs::Commit {
        tree,
        parents: [c3_id, f2_id].into_iter().collect(),
        author: signature.clone(),
        committer: signature,
        encoding: None,
        message: "merge feature\n".into(),
        extra_headers: Vec::new(),
    };
    let merge_id = repo.write_object(&merge).expect("write").detach();
    let main = FullName::try_from("refs/heads/main").expect("name");
    apply_edits(
        &mut repo,
        vec![RefEdit::update(
            main,
            merge_id,
            PreviousValue::MustExistAndMatch(Target::Object(c3_id)),
            "merge",
        )],
    )
    .expect("move main");
    let m = store
        .commit(&widgets(), &merge_id.to_string())
        .expect("commit")
        .expect("merge exists");
    assert_eq!(m.parents, vec![c3.hash.clone(), f2.hash.clone()]);
    vec![c1, c2, f1, c3, f2, m]
}

#[test]
fn log_matches_git_log() {
    let (_dir, store) = setup();
    let commits = history(&store);
    let path = store.repo_path(&widgets());
    fsck(&store);
    let hashes = |v: Vec<CommitInfo>| v.into_iter().map(|c| c.hash).collect::<Vec<_>>().join("\n");
    let main = store
        .resolve(&widgets(), "main")
        .expect("resolve")
        .expect("main")
        .hash;
    let feature = store
        .resolve(&widgets(), "feature")
        .expect("resolve")
        .expect("feature")
        .hash;

    let all = store.log(&widgets(), &main, None, 100, 0).expect("log");
    assert_eq!(all.len(), 6);
    assert_eq!(all[0], commits[5]);
    assert_eq!(hashes(all), git(&path, &["log", "--format=%H", "main"]));
    assert_eq!(
        hashes(store.log(&widgets(), &main, None, 2, 1).expect("log")),
        git(&path, &["log", "--format=%H", "--skip=1", "-n2", "main"])
    );
    assert_eq!(
        hashes(
            store
                .log(&widgets(), &feature, Some(&commits[3].hash), 100, 0)
                .expect("log")
        ),
        git(
            &path,
            &[
                "log",
                "--format=%H",
                "feature",
                &format!("^{}", commits[3].hash)
            ]
        )
    );
    assert_eq!(
        hashes(
            store
                .log(&widgets(), &main, Some(&feature), 100, 0)
                .expect("log")
        ),
        git(&path, &["log", "--format=%H", "main", "^feature"])
    );
    assert!(
        store
            .log(&widgets(), &feature, Some(&main), 100, 0)
            .expect("log")
            .is_empty()
    );
    assert!(
        store
            .log(&widgets(), &main, None, 0, 0)
            .expect("log")
            .is_empty()
    );
    assert!(
        store
            .log(&widgets(), &main, None, 10, 50)
            .expect("log")
            .is_empty()
    );
    let res = store.log(&widgets(), "feedface", None, 10, 0);
    assert!(matches!(res, Err(GitError::NotFound { .. })), "{res:?}");
}

#[test]
fn ancestry() {
    let (_dir, store) = setup();
    let c = history(&store);
    let orphan = commit(&store, "orphan", None, &[("o", b"o")], 1_700_001_000);
    let is = |a: &CommitInfo, d: &CommitInfo| {
        store
            .is_ancestor(&widgets(), &a.hash, &d.hash)
            .expect("is_ancestor")
    };
    assert!(is(&c[0], &c[5]));
    assert!(is(&c[4], &c[5]), "second parent counts");
    assert!(is(&c[2], &c[2]), "a commit is its own ancestor");
    assert!(!is(&c[5], &c[0]));
    assert!(!is(&c[3], &c[4]), "siblings");
    assert!(!is(&orphan, &c[5]));
    assert!(!is(&c[0], &orphan));
    assert_eq!(
        store
            .merge_base(&widgets(), &c[3].hash, &c[4].hash)
            .expect("merge base"),
        Some(c[1].hash.clone())
    );
    assert_eq!(
        store
            .merge_base(&widgets(), &c[3].hash, &orphan.hash)
            .expect("merge base"),
        None
    );
    assert!(matches!(
        store.is_ancestor(&widgets(), "abcdef12", &c[0].hash),
        Err(GitError::NotFound { .. })
    ));
}

#[test]
fn concurrent_distinct_branches_all_succeed() {
    let (_dir, store) = setup();
    let (_c1, c2) = seed(&store);
    let store = Arc::new(store);
    let barrier = Arc::new(Barrier::new(20));
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let (store, barrier, target) =
                (Arc::clone(&store), Arc::clone(&barrier), c2.hash.clone());
            std::thread::spawn(move || {
                barrier.wait();
                store.create_branch(&widgets(), &format!("topic/{i:02}"), &target)
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("thread").expect("create");
    }
    let branches = store.branches(&widgets()).expect("branches");
    assert_eq!(branches.len(), 21);
    assert!(branches.iter().all(|b| b.target.hash == c2.hash));
    fsck(&store);
}

#[test]
fn concurrent_same_branch_has_one_winner() {
    let (_dir, store) = setup();
    let (_c1, c2) = seed(&store);
    let store = Arc::new(store);
    for round in 0..5 {
        let name = format!("race-{round}");
        let barrier = Arc::new(Barrier::new(10));
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let (store, barrier, target, name) = (
                    Arc::clone(&store),
                    Arc::clone(&barrier),
                    c2.hash.clone(),
                    name.clone(),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    store.create_branch(&widgets(), &name, &target)
                })
            })
            .collect();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {results:?}"
        );
        assert!(
            results
                .iter()
                .all(|r| r.is_ok() || matches!(r, Err(GitError::RefExists { .. }))),
            "{results:?}"
        );
    }
    fsck(&store);
}

#[test]
fn concurrent_commits_on_one_branch_lose_nothing() {
    let (_dir, store) = setup();
    let (_c1, c2) = seed(&store);
    let store = Arc::new(store);
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let name = format!("file-{i}");
                store.commit_files(
                    &widgets(),
                    "main",
                    None,
                    &[(&name, b"x")],
                    &name,
                    &sig(1_700_000_500 + i),
                )
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert!(won >= 1);
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(GitError::BranchMoved { .. }))),
        "{results:?}"
    );
    // Every successful commit is in the history: none was overwritten by a concurrent one.
    let path = store.repo_path(&widgets());
    let count: usize = git(&path, &["rev-list", "--count", "main"])
        .parse()
        .expect("count");
    assert_eq!(count, 2 + won);
    let tip = git(&path, &["rev-parse", "main"]);
    let _ = c2;
    for result in results.iter().flatten() {
        assert!(
            store
                .is_ancestor(&widgets(), &result.hash, &tip)
                .expect("ancestor")
        );
    }
    fsck(&store);
}

#[test]
fn read_path_links_and_submodules() {
    let (_dir, store) = setup();
    let (_c1, c2) = seed(&store);
    // Our API writes neither; build them with gix as a push would.
    let repo = store.open(&widgets()).expect("open");
    let c2_id = ObjectId::from_hex(c2.hash.as_bytes()).expect("hex");
    let base = repo
        .find_commit(c2_id)
        .expect("c2")
        .tree_id()
        .expect("tree")
        .detach();
    let target = repo.write_blob(b"README.md").expect("blob").detach();
    let mut editor = repo.edit_tree(base).expect("editor");
    editor
        .upsert("link", GixEntryKind::Link, target)
        .expect("link")
        .upsert("vendor/lib", GixEntryKind::Commit, c2_id)
        .expect("gitlink");
    let tree = editor.write().expect("tree").detach();
    let signature = to_gix_signature(&sig(1_700_000_200)).expect("sig");
    let links_commit = gix::objs::Commit {
        tree,
        parents: [c2_id].into_iter().collect(),
        author: signature.clone(),
        committer: signature,
        encoding: None,
        message: "links\n".into(),
        extra_headers: Vec::new(),
    };
    let id = repo
        .write_object(&links_commit)
        .expect("write")
        .detach()
        .to_string();
    fsck(&store);

    let PathContent::Dir { entries, .. } = store.read_path(&widgets(), &id, "").expect("root")
    else {
        panic!("root is a folder");
    };
    let link = entries
        .iter()
        .find(|e| e.path == "link")
        .expect("link entry");
    assert_eq!((link.kind, link.size), (EntryKind::Link, Some(9)));
    let PathContent::Dir { entries, .. } =
        store.read_path(&widgets(), &id, "vendor").expect("vendor")
    else {
        panic!("vendor is a folder");
    };
    assert_eq!(entries[0].kind, EntryKind::Submodule);
    assert_eq!(entries[0].size, None);
    let PathContent::File { bytes, symlink, .. } =
        store.read_path(&widgets(), &id, "link").expect("link")
    else {
        panic!("a link reads as a file");
    };
    assert_eq!((bytes.as_slice(), symlink), (&b"README.md"[..], true));
    assert_eq!(
        store
            .read_path(&widgets(), &id, "vendor/lib")
            .expect("submodule"),
        PathContent::Submodule {
            path: "vendor/lib".to_owned(),
            oid: c2.hash.clone()
        }
    );
    assert_eq!(
        store
            .read_path(&widgets(), &id, "vendor/lib/x")
            .expect("inside a submodule"),
        PathContent::NotFound
    );

    // Writing through a link or a submodule replaces it with a folder, as for files.
    store
        .create_branch(&widgets(), "links", &id)
        .expect("branch");
    let through = commit(
        &store,
        "links",
        None,
        &[("vendor/lib/inner.txt", b"i\n"), ("link/x", b"x\n")],
        1_700_000_300,
    );
    assert_eq!(
        git(
            &store.repo_path(&widgets()),
            &[
                "ls-tree",
                "-r",
                "--name-only",
                &through.hash,
                "link",
                "vendor"
            ]
        ),
        "link/x\nvendor/lib/inner.txt"
    );
    fsck(&store);
}

mod ref_name_rules {
    use proptest::prelude::*;

    use super::*;

    /// Names made of the pieces git's rules are about, so most cases sit near a boundary.
    fn name() -> impl Strategy<Value = String> {
        let piece = proptest::sample::select(
            &[
                "a", "b9", "é", "-", ".", "..", "/", "//", "@", "@{", "{", "}", "~", "^", ":", "?",
                "*", "[", "\\", " ", "\t", "\u{7f}", ".lock", "lock", "HEAD", "_", "x.y",
            ][..],
        );
        proptest::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(160))]

        /// The sandbox takes exactly the names `git check-ref-format --branch` takes, less `@`
        /// and names too long or too deep to be a ref file.
        #[test]
        fn branch_names_follow_git(name in prop_oneof![
            4 => name(),
            1 => (240usize..260).prop_map(|n| "a".repeat(n)),
            1 => (18usize..23).prop_map(|n| vec!["p"; n].join("/")),
        ]) {
            let tmp = tempfile::tempdir().expect("temp dir");
            let git_ok = git_output(tmp.path(), &["check-ref-format", "--branch", &name])
                .status
                .success();
            let ours = git_ok
                && name != "@"
                && name.len() <= MAX_REF_NAME_BYTES
                && name.split('/').count() <= MAX_REF_NAME_DEPTH;
            prop_assert_eq!(is_valid_branch_name(&name), ours, "{:?}", name);
        }
    }
}
