//! Turning the people a model names (a nickname, a `{uuid}` or an account id) into the account
//! references Bitbucket's request bodies take.
//!
//! Bitbucket Cloud accepts reviewers and assignees only as `{"uuid"}` or `{"account_id"}`:
//! usernames were removed for privacy. Models know people by nickname, so a value that is
//! neither a UUID nor an account id is looked up among the workspace's members (nickname, then
//! display name) once per call, whatever the number of names.

use bitbucket_client::{AccountRef, Client, PageParams, WorkspaceMembership};

use crate::error::{Context, Explain, Scope, ToolError};

/// Bitbucket lists members 100 at a time; 20 pages covers any workspace a model should scan.
const MAX_MEMBER_PAGES: usize = 20;

/// Resolves each of `people` to an account reference; `role` names them in messages
/// (`reviewer`, `assignee`).
pub(crate) async fn resolve(
    client: &Client,
    workspace: &str,
    people: &[String],
    role: &str,
) -> Result<Vec<AccountRef>, ToolError> {
    let mut members: Option<Vec<WorkspaceMembership>> = None;
    let mut resolved = Vec::with_capacity(people.len());
    for who in people {
        if let Some(reference) = direct(who) {
            resolved.push(reference);
            continue;
        }
        if members.is_none() {
            members = Some(list_members(client, workspace, who, role).await?);
        }
        let found = members
            .as_deref()
            .map(|members| find(members, who, workspace, role))
            .unwrap_or_else(|| Err(not_member(who, workspace, role)))?;
        resolved.push(found);
    }
    Ok(resolved)
}

/// A UUID (with or without braces) or an account id, which need no lookup.
fn direct(who: &str) -> Option<AccountRef> {
    let who = who.trim();
    if who.starts_with('{') && who.ends_with('}') {
        return Some(AccountRef::Uuid(who.to_owned()));
    }
    if is_uuid(who) {
        return Some(AccountRef::Uuid(format!("{{{who}}}")));
    }
    // Account ids look like `557058:3aae1e05-...` or, for older accounts, 24 hex digits.
    let legacy = who.len() == 24 && who.bytes().all(|b| b.is_ascii_hexdigit());
    if who.contains(':') || legacy {
        return Some(AccountRef::AccountId(who.to_owned()));
    }
    None
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn list_members(
    client: &Client,
    workspace: &str,
    who: &str,
    role: &str,
) -> Result<Vec<WorkspaceMembership>, ToolError> {
    let context = Context::new(
        format!("look up {role} `{who}` among the members"),
        Scope::Workspace(workspace.to_owned()),
    );
    let first = client
        .list_workspace_members(workspace, &PageParams::new().pagelen(100))
        .await;
    let mut page = first.or_explain(client, || context.clone()).await?;
    let mut members = Vec::new();
    for _ in 0..MAX_MEMBER_PAGES {
        let next = client
            .next_page(&page)
            .await
            .or_explain(client, || context.clone())
            .await?;
        members.append(&mut page.values);
        match next {
            Some(next) => page = next,
            None => return Ok(members),
        }
    }
    members.append(&mut page.values);
    Ok(members)
}

fn find(
    members: &[WorkspaceMembership],
    who: &str,
    workspace: &str,
    role: &str,
) -> Result<AccountRef, ToolError> {
    let wanted = who.trim().trim_start_matches('@');
    let accounts = members.iter().filter_map(|m| m.user.as_ref());
    let by_nickname = accounts.clone().find(|a| {
        [&a.nickname, &a.username]
            .into_iter()
            .flatten()
            .any(|name| name.eq_ignore_ascii_case(wanted))
    });
    let account = match by_nickname {
        Some(account) => account,
        None => {
            let named: Vec<_> = accounts
                .filter(|a| {
                    a.display_name
                        .as_deref()
                        .is_some_and(|name| name.eq_ignore_ascii_case(wanted))
                })
                .collect();
            match named.as_slice() {
                [one] => *one,
                [] => return Err(not_member(who, workspace, role)),
                _ => {
                    return Err(ToolError::Refused(format!(
                        "{role} `{who}` matches several members of `{workspace}` by display name; \
                         pass a nickname or `{{uuid}}` (BITBUCKET_LIST_WORKSPACE_MEMBERS lists them)"
                    )));
                }
            }
        }
    };
    if let Some(uuid) = &account.uuid {
        Ok(AccountRef::Uuid(uuid.clone()))
    } else if let Some(id) = &account.account_id {
        Ok(AccountRef::AccountId(id.clone()))
    } else {
        Err(ToolError::Refused(format!(
            "bitbucket did not reveal the uuid of {role} `{who}`; pass their `{{uuid}}` or account id"
        )))
    }
}

fn not_member(who: &str, workspace: &str, role: &str) -> ToolError {
    ToolError::Refused(format!(
        "{role} `{who}` is not a member of workspace `{workspace}`; pass a member's nickname, \
         `{{uuid}}` or account id (BITBUCKET_LIST_WORKSPACE_MEMBERS lists them)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitbucket_client::Account;

    #[test]
    fn uuids_and_account_ids_need_no_lookup() {
        assert_eq!(
            direct("{470c176d-3574-44ea-bb41-89e8638bcca4}"),
            Some(AccountRef::Uuid(
                "{470c176d-3574-44ea-bb41-89e8638bcca4}".into()
            ))
        );
        assert_eq!(
            direct("470c176d-3574-44ea-bb41-89e8638bcca4"),
            Some(AccountRef::Uuid(
                "{470c176d-3574-44ea-bb41-89e8638bcca4}".into()
            ))
        );
        assert_eq!(
            direct("557058:3aae1e05"),
            Some(AccountRef::AccountId("557058:3aae1e05".into()))
        );
        assert_eq!(
            direct("5d5355e8c6b9320d9ea5b28d"),
            Some(AccountRef::AccountId("5d5355e8c6b9320d9ea5b28d".into()))
        );
        assert_eq!(direct("alice"), None);
    }

    #[test]
    fn members_are_found_by_nickname_then_display_name() {
        let member = |nick: &str, name: &str, uuid: &str| WorkspaceMembership {
            user: Some(Account {
                nickname: Some(nick.into()),
                display_name: Some(name.into()),
                uuid: Some(uuid.into()),
                ..Account::default()
            }),
            ..WorkspaceMembership::default()
        };
        let members = [
            member("alice", "Alice Liddell", "{a}"),
            member("bob", "Bob Builder", "{b}"),
            member("bob2", "Bob Builder", "{c}"),
        ];
        assert_eq!(
            find(&members, "@Alice", "acme", "reviewer").unwrap(),
            AccountRef::Uuid("{a}".into())
        );
        assert_eq!(
            find(&members, "alice liddell", "acme", "reviewer").unwrap(),
            AccountRef::Uuid("{a}".into())
        );
        let ambiguous = find(&members, "Bob Builder", "acme", "reviewer")
            .unwrap_err()
            .to_string();
        assert!(ambiguous.contains("several members"), "{ambiguous}");
        let missing = find(&members, "carol", "acme", "assignee")
            .unwrap_err()
            .to_string();
        assert_eq!(
            missing,
            "assignee `carol` is not a member of workspace `acme`; pass a member's nickname, \
             `{uuid}` or account id (BITBUCKET_LIST_WORKSPACE_MEMBERS lists them)"
        );
    }
}
