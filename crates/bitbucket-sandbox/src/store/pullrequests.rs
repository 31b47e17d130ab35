//! Pull requests and their reviewers.

use super::{ParticipantRow, PullRequestRow, Store, Write};

/// The fields of a new pull request; its id is the repository's next pull request number.
#[derive(Debug)]
pub struct NewPullRequest<'a> {
    pub repo_id: i64,
    pub title: &'a str,
    pub description: &'a str,
    pub author_id: i64,
    pub source_branch: &'a str,
    pub source_commit: &'a str,
    pub destination_branch: &'a str,
    pub destination_commit: &'a str,
    pub close_source_branch: bool,
    pub draft: bool,
    pub created_on: &'a str,
}

impl Store {
    pub async fn pull_request(
        &self,
        repo_id: i64,
        id: i64,
    ) -> Result<Option<PullRequestRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM pullrequests WHERE repo_id = ? AND id = ?")
            .bind(repo_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(PullRequestRow::from_row).transpose()
    }

    /// A repository's pull requests, newest first.
    pub async fn pull_requests(&self, repo_id: i64) -> Result<Vec<PullRequestRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM pullrequests WHERE repo_id = ? ORDER BY id DESC")
            .bind(repo_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(PullRequestRow::from_row).collect()
    }

    /// The user ids of a pull request's reviewers, ascending.
    pub async fn reviewers(&self, repo_id: i64, pr_id: i64) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT user_id FROM pr_reviewers WHERE repo_id = ? AND pr_id = ? ORDER BY user_id",
        )
        .bind(repo_id)
        .bind(pr_id)
        .fetch_all(&self.pool)
        .await
    }
}

impl Store {
    /// Everyone who approved or requested changes, by user id.
    pub async fn participants(
        &self,
        repo_id: i64,
        pr_id: i64,
    ) -> Result<Vec<ParticipantRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT * FROM pr_participants WHERE repo_id = ? AND pr_id = ? ORDER BY user_id",
        )
        .bind(repo_id)
        .bind(pr_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ParticipantRow::from_row).collect()
    }
}

impl Write<'_> {
    pub async fn pull_request(
        &mut self,
        repo_id: i64,
        id: i64,
    ) -> Result<Option<PullRequestRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM pullrequests WHERE repo_id = ? AND id = ?")
            .bind(repo_id)
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(PullRequestRow::from_row).transpose()
    }

    /// Records a user's review state (`None` withdraws it) and returns the stored row.
    pub async fn set_participant(
        &mut self,
        repo_id: i64,
        pr_id: i64,
        user_id: i64,
        state: Option<&str>,
        at: &str,
    ) -> Result<ParticipantRow, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO pr_participants (repo_id, pr_id, user_id, approved, state, participated_on)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (repo_id, pr_id, user_id)
             DO UPDATE SET approved = ?4, state = ?5, participated_on = ?6 RETURNING *",
        )
        .bind(repo_id)
        .bind(pr_id)
        .bind(user_id)
        .bind(state == Some("approved"))
        .bind(state)
        .bind(at)
        .fetch_one(&mut *self.tx)
        .await?;
        ParticipantRow::from_row(&row)
    }

    /// The open pull request from `source` to `destination`, if there is one.
    pub async fn open_pull_request_between(
        &mut self,
        repo_id: i64,
        source: &str,
        destination: &str,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT id FROM pullrequests WHERE repo_id = ? AND state = 'OPEN' AND source_branch = ? AND destination_branch = ?",
        )
        .bind(repo_id)
        .bind(source)
        .bind(destination)
        .fetch_optional(&mut *self.tx)
        .await
    }

    /// Inserts a pull request under the repository's next number, with its reviewers.
    pub async fn insert_pull_request(
        &mut self,
        new: &NewPullRequest<'_>,
        reviewers: &[i64],
    ) -> Result<PullRequestRow, sqlx::Error> {
        let id: i64 = sqlx::query_scalar(
            "UPDATE repositories SET next_pr_id = next_pr_id + 1 WHERE id = ? RETURNING next_pr_id - 1",
        )
        .bind(new.repo_id)
        .fetch_one(&mut *self.tx)
        .await?;
        let row = sqlx::query(
            "INSERT INTO pullrequests (repo_id, id, title, description, state, author_id, source_branch, source_commit,
                destination_branch, destination_commit, close_source_branch, draft, created_on, updated_on)
             VALUES (?, ?, ?, ?, 'OPEN', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(new.repo_id)
        .bind(id)
        .bind(new.title)
        .bind(new.description)
        .bind(new.author_id)
        .bind(new.source_branch)
        .bind(new.source_commit)
        .bind(new.destination_branch)
        .bind(new.destination_commit)
        .bind(new.close_source_branch)
        .bind(new.draft)
        .bind(new.created_on)
        .bind(new.created_on)
        .fetch_one(&mut *self.tx)
        .await?;
        self.insert_reviewers(new.repo_id, id, reviewers).await?;
        PullRequestRow::from_row(&row)
    }

    /// Stores every editable field of `pr`, and replaces the reviewers when given.
    pub async fn update_pull_request(
        &mut self,
        repo_id: i64,
        pr: &PullRequestRow,
        reviewers: Option<&[i64]>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE pullrequests SET title = ?, description = ?, state = ?, source_commit = ?,
                destination_branch = ?, destination_commit = ?, close_source_branch = ?, draft = ?,
                updated_on = ?, merge_commit = ?, closed_by = ? WHERE repo_id = ? AND id = ?",
        )
        .bind(&pr.title)
        .bind(&pr.description)
        .bind(&pr.state)
        .bind(&pr.source_commit)
        .bind(&pr.destination_branch)
        .bind(&pr.destination_commit)
        .bind(pr.close_source_branch)
        .bind(pr.draft)
        .bind(&pr.updated_on)
        .bind(&pr.merge_commit)
        .bind(pr.closed_by)
        .bind(repo_id)
        .bind(pr.id)
        .execute(&mut *self.tx)
        .await?;
        if let Some(reviewers) = reviewers {
            sqlx::query("DELETE FROM pr_reviewers WHERE repo_id = ? AND pr_id = ?")
                .bind(repo_id)
                .bind(pr.id)
                .execute(&mut *self.tx)
                .await?;
            self.insert_reviewers(repo_id, pr.id, reviewers).await?;
        }
        Ok(())
    }

    async fn insert_reviewers(
        &mut self,
        repo_id: i64,
        pr_id: i64,
        reviewers: &[i64],
    ) -> Result<(), sqlx::Error> {
        for reviewer in reviewers {
            sqlx::query("INSERT INTO pr_reviewers (repo_id, pr_id, user_id) VALUES (?, ?, ?)")
                .bind(repo_id)
                .bind(pr_id)
                .bind(reviewer)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}
