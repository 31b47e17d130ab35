//! The authenticated user.

use bitbucket_client::{Client, User};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Tool;
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{Render, field};
use crate::spec::{ToolAnnotations, Toolset};

/// A Bitbucket account, with the ids other tools accept for people.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct AccountOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// UUID in braces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl AccountOutput {
    pub fn from_account(account: &User) -> Self {
        AccountOutput {
            display_name: account.display_name.clone(),
            nickname: account
                .nickname
                .clone()
                .or_else(|| account.username.clone()),
            uuid: account.uuid.clone(),
            account_id: account.account_id.clone(),
            html: account.links.html_href().map(str::to_owned),
        }
    }

    /// `Demo User (@demo) {uuid}`.
    pub fn summary(&self) -> String {
        let mut text = self
            .display_name
            .clone()
            .unwrap_or_else(|| "unknown".to_owned());
        if let Some(nickname) = &self.nickname {
            text.push_str(&format!(" (@{nickname})"));
        }
        if let Some(uuid) = &self.uuid {
            text.push_str(&format!(" {uuid}"));
        }
        text
    }
}

impl Render for AccountOutput {
    fn render(&self) -> String {
        let mut text = format!("Signed in as {}", self.summary());
        field(&mut text, "account id", self.account_id.as_deref());
        field(&mut text, "link", self.html.as_deref());
        text
    }
}

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoArgs {}

pub(crate) struct GetCurrentUser;

impl Tool for GetCurrentUser {
    const NAME: &'static str = "BITBUCKET_GET_CURRENT_USER";
    const TITLE: &'static str = "Get current user";
    const DESCRIPTION: &'static str = "Shows who the credentials belong to (you): display name, username, uuid and account id. \
Use it for \"me\" in requests (e.g. issues assigned to me); BITBUCKET_LIST_WORKSPACES lists their workspaces.";
    const TOOLSET: Toolset = Toolset::Users;
    const ENDPOINT: &'static str = "GET /user";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = NoArgs;
    type Output = AccountOutput;

    async fn run(client: &Client, _args: Self::Args) -> Result<Self::Output, ToolError> {
        let user = client
            .current_user()
            .await
            .or_explain(client, || {
                Context::new("read the current user", Scope::Account)
            })
            .await?;
        Ok(AccountOutput::from_account(&user))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserArgs {
    /// Username, `{uuid}` or account id.
    selected_user: crate::args::Text,
}

/// Someone's public profile.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct UserOutput {
    #[serde(flatten)]
    pub account: AccountOutput,
}

impl Render for UserOutput {
    fn render(&self) -> String {
        let mut text = format!("User {}", self.account.summary());
        field(&mut text, "account id", self.account.account_id.as_deref());
        field(&mut text, "link", self.account.html.as_deref());
        text
    }
}

pub(crate) struct GetUser;

impl Tool for GetUser {
    const NAME: &'static str = "BITBUCKET_GET_USER";
    const TITLE: &'static str = "Get user";
    const DESCRIPTION: &'static str = "Another person's public profile by username, uuid or account id: display name and ids (yours: BITBUCKET_GET_CURRENT_USER).";
    const TOOLSET: Toolset = Toolset::Users;
    const ENDPOINT: &'static str = "GET /users/{selected_user}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = UserArgs;
    type Output = UserOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let who = args.selected_user.as_str();
        let user = client
            .get_user(who)
            .await
            .or_explain(client, || {
                Context::new(format!("read user `{who}`"), Scope::Account)
                    .item(format!("user `{who}`"), "BITBUCKET_LIST_WORKSPACE_MEMBERS")
            })
            .await?;
        Ok(UserOutput {
            account: AccountOutput::from_account(&user),
        })
    }
}
