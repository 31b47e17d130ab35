//! Writing a commit's files into a folder, for a pipeline step to run in.

use super::*;

impl GitStore {
    /// Writes the tree of `commit` into `dest` (which must not exist yet): files with their
    /// executable bit, symbolic links as links, submodules as empty folders, as a clone without
    /// `--recursive` leaves them. Tree entry names that could escape `dest` (`..`, `.git`, names
    /// with `/`) are skipped: git itself refuses to check those out.
    pub fn checkout(&self, id: &RepoId, commit: &str, dest: &Path) -> Result<(), GitError> {
        let repo = self.open(id)?;
        let commit_id = lookup_commit_id(&repo, commit)?;
        let root = repo
            .find_commit(commit_id)
            .and_then(|commit| commit.tree_id())
            .map_err(other(format!(
                "could not read the tree of commit `{commit_id}`"
            )))?
            .detach();
        std::fs::create_dir(dest).map_err(io_err("could not create the checkout folder"))?;
        write_tree(&repo, root, dest)
    }
}

fn write_tree(repo: &gix::Repository, tree_id: ObjectId, dir: &Path) -> Result<(), GitError> {
    let tree = repo
        .find_tree(tree_id)
        .map_err(other(format!("could not read tree `{tree_id}`")))?;
    for entry in tree.iter() {
        let entry = entry.map_err(other(format!("could not decode tree `{tree_id}`")))?;
        let name = entry.filename().to_str_lossy().into_owned();
        if name.is_empty() || name == "." || name == ".." || name == ".git" || name.contains('/') {
            continue;
        }
        let path = dir.join(&name);
        let oid = entry.object_id();
        match entry.mode().kind() {
            GixEntryKind::Tree => {
                std::fs::create_dir(&path).map_err(io_err("could not create a folder"))?;
                write_tree(repo, oid, &path)?;
            }
            GixEntryKind::Commit => {
                std::fs::create_dir(&path).map_err(io_err("could not create a folder"))?;
            }
            kind @ (GixEntryKind::Blob | GixEntryKind::BlobExecutable) => {
                let blob = repo
                    .find_blob(oid)
                    .map_err(other(format!("could not read `{name}`")))?;
                std::fs::write(&path, &blob.data).map_err(io_err("could not write a file"))?;
                if kind == GixEntryKind::BlobExecutable {
                    use std::os::unix::fs::PermissionsExt as _;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                        .map_err(io_err("could not make a file executable"))?;
                }
            }
            GixEntryKind::Link => {
                let blob = repo
                    .find_blob(oid)
                    .map_err(other(format!("could not read `{name}`")))?;
                let target = String::from_utf8_lossy(&blob.data).into_owned();
                std::os::unix::fs::symlink(target, &path)
                    .map_err(io_err("could not create a symbolic link"))?;
            }
        }
    }
    Ok(())
}
