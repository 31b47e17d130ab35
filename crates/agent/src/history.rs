//! The conversation: our own message types (not a provider's), and the versioned JSON file
//! they are saved in, `{"version": 1, "messages": [...]}`, written atomically.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::HistoryError;

/// The file format version this build writes and the newest it reads.
pub const HISTORY_VERSION: u32 = 1;

/// A tool call the model made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as the model sent them (normally a JSON object).
    pub arguments: Value,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    System {
        content: String,
    },
    User {
        content: String,
    },
    Assistant {
        #[serde(default, skip_serializing_if = "String::is_empty")]
        content: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one tool call, answering the call with the same id.
    Tool {
        call_id: String,
        name: String,
        content: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
        /// The result as data, when the tool gave one (see `ToolOutput::structured`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        structured: Option<Value>,
    },
}

impl Message {
    pub fn user(content: impl Into<String>) -> Self {
        Self::User {
            content: content.into(),
        }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::System {
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::Assistant {
            content: content.into(),
            tool_calls: Vec::new(),
        }
    }
}

/// Why a message list breaks the rules every provider enforces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Inconsistency {
    #[error(
        "message {index} answers tool call `{call_id}`, which no earlier assistant message made or which was already answered"
    )]
    StrayResult { index: usize, call_id: String },
    #[error("tool call `{call_id}` of message {index} has no result before the next message")]
    Unanswered { index: usize, call_id: String },
}

/// A conversation, optionally tied to the file it is saved to after each turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    messages: Vec<Message>,
    file: Option<PathBuf>,
}

#[derive(Serialize)]
struct FileOut<'a> {
    version: u32,
    messages: &'a [Message],
}

#[derive(Deserialize)]
struct FileVersion {
    version: u32,
}

#[derive(Deserialize)]
struct FileIn {
    #[allow(
        dead_code,
        reason = "read by `FileVersion` first; kept so the shape is checked whole"
    )]
    version: u32,
    messages: Vec<Message>,
}

impl History {
    /// An empty conversation kept in memory only.
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_messages(messages: Vec<Message>) -> Self {
        Self {
            messages,
            file: None,
        }
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn push(&mut self, message: Message) {
        self.messages.push(message);
    }

    pub fn extend(&mut self, messages: impl IntoIterator<Item = Message>) {
        self.messages.extend(messages);
    }

    /// The file this conversation is saved to after each turn, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Saves to `path` after each turn from now on.
    pub fn with_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Loads the conversation saved at `path` and keeps saving there.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, HistoryError> {
        let path = path.into();
        let text = fs::read_to_string(&path).map_err(|source| HistoryError::Read {
            path: path.clone(),
            source,
        })?;
        let messages = Self::parse(&text).map_err(|e| e.at(&path))?;
        Ok(Self {
            messages,
            file: Some(path),
        })
    }

    /// Loads `path` if it exists, else starts an empty conversation saved there.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, HistoryError> {
        let path = path.into();
        if path.exists() {
            Self::load(path)
        } else {
            Ok(Self::new().with_file(path))
        }
    }

    /// Parses the file format.
    pub fn from_json(text: &str) -> Result<Self, HistoryError> {
        Self::parse(text)
            .map(Self::from_messages)
            .map_err(|e| e.at(Path::new("<memory>")))
    }

    pub fn to_json(&self) -> String {
        let file = FileOut {
            version: HISTORY_VERSION,
            messages: &self.messages,
        };
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    fn parse(text: &str) -> Result<Vec<Message>, ParseFailure> {
        let version: FileVersion = serde_json::from_str(text).map_err(ParseFailure::Corrupt)?;
        if version.version > HISTORY_VERSION {
            return Err(ParseFailure::TooNew(version.version));
        }
        if version.version == 0 {
            return Err(ParseFailure::BadVersion);
        }
        let file: FileIn = serde_json::from_str(text).map_err(ParseFailure::Corrupt)?;
        let history = Self::from_messages(file.messages);
        history.check().map_err(ParseFailure::Inconsistent)?;
        Ok(history.messages)
    }

    /// Saves to the attached file, if there is one.
    pub fn save(&self) -> Result<(), HistoryError> {
        match &self.file {
            Some(path) => self.save_to(path),
            None => Ok(()),
        }
    }

    /// Writes atomically: a temporary file in the same folder, flushed to disk, then renamed
    /// over `path`, so a crash leaves either the old or the new conversation, never half.
    pub fn save_to(&self, path: &Path) -> Result<(), HistoryError> {
        let write_err = |source| HistoryError::Write {
            path: path.to_owned(),
            source,
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        static SAVES: AtomicU64 = AtomicU64::new(0);
        let unique = SAVES.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}-{unique}.tmp", std::process::id()));
        let written = (|| {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(self.to_json().as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            fs::rename(&tmp, path)?;
            // Make the rename itself durable.
            if let Ok(d) = fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written.map_err(write_err)
    }

    /// Checks the rules providers enforce: every tool result answers an earlier, unanswered
    /// call, and every call is answered before the next user or assistant message.
    pub fn check(&self) -> Result<(), Inconsistency> {
        let mut open: BTreeSet<&str> = BTreeSet::new();
        let mut open_at = 0;
        for (index, message) in self.messages.iter().enumerate() {
            if let Message::Tool { call_id, .. } = message {
                if !open.remove(call_id.as_str()) {
                    return Err(Inconsistency::StrayResult {
                        index,
                        call_id: call_id.clone(),
                    });
                }
                continue;
            }
            if let Some(call_id) = open.first() {
                return Err(Inconsistency::Unanswered {
                    index: open_at,
                    call_id: (*call_id).to_owned(),
                });
            }
            if let Message::Assistant { tool_calls, .. } = message {
                open = tool_calls.iter().map(|c| c.id.as_str()).collect();
                open_at = index;
            }
        }
        match open.first() {
            Some(call_id) => Err(Inconsistency::Unanswered {
                index: open_at,
                call_id: (*call_id).to_owned(),
            }),
            None => Ok(()),
        }
    }
}

enum ParseFailure {
    Corrupt(serde_json::Error),
    TooNew(u32),
    BadVersion,
    Inconsistent(Inconsistency),
}

impl ParseFailure {
    fn at(self, path: &Path) -> HistoryError {
        let path = path.to_owned();
        match self {
            ParseFailure::Corrupt(source) => HistoryError::Corrupt { path, source },
            ParseFailure::TooNew(found) => HistoryError::TooNew {
                path,
                found,
                supported: HISTORY_VERSION,
            },
            ParseFailure::BadVersion => HistoryError::BadVersion { path },
            ParseFailure::Inconsistent(source) => HistoryError::Inconsistent { path, source },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> History {
        History::from_messages(vec![
            Message::system("be brief"),
            Message::user("create a branch"),
            Message::Assistant {
                content: "on it".into(),
                tool_calls: vec![ToolCall {
                    id: "c1".into(),
                    name: "CREATE_BRANCH".into(),
                    arguments: json!({"name": "feature/x"}),
                }],
            },
            Message::Tool {
                call_id: "c1".into(),
                name: "CREATE_BRANCH".into(),
                content: "created".into(),
                is_error: false,
                structured: None,
            },
            Message::assistant("done"),
        ])
    }

    #[test]
    fn the_file_format_is_versioned_json() {
        let json: Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(
            json,
            json!({"version": 1, "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "create a branch"},
                {"role": "assistant", "content": "on it", "tool_calls": [
                    {"id": "c1", "name": "CREATE_BRANCH", "arguments": {"name": "feature/x"}}]},
                {"role": "tool", "call_id": "c1", "name": "CREATE_BRANCH", "content": "created"},
                {"role": "assistant", "content": "done"},
            ]})
        );
        assert_eq!(History::from_json(&sample().to_json()).unwrap(), sample());
    }

    #[test]
    fn saving_is_atomic_and_loading_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chat.json");
        let mut history = History::open(&path).unwrap();
        assert!(history.is_empty());
        history.extend(sample().messages().to_vec());
        history.save().unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("chat.json")],
            "no temporary file is left"
        );
        let loaded = History::load(&path).unwrap();
        assert_eq!(loaded.messages(), sample().messages());
        assert_eq!(loaded.file(), Some(path.as_path()));
    }

    #[test]
    fn bad_files_give_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "newer",
                r#"{"version": 2, "messages": []}"#,
                "was written by a newer bbagent (format version 2, this one reads up to 1); upgrade bbagent to continue it",
            ),
            (
                "zero",
                r#"{"version": 0, "messages": []}"#,
                "has format version 0, which never existed",
            ),
            (
                "truncated",
                r#"{"version": 1, "messages": [{"role": "us"#,
                "is not a valid history file",
            ),
            (
                "no-version",
                r#"{"messages": []}"#,
                "is not a valid history file",
            ),
            (
                "bad-role",
                r#"{"version": 1, "messages": [{"role": "robot", "content": "x"}]}"#,
                "is not a valid history file",
            ),
            (
                "stray",
                r#"{"version": 1, "messages": [{"role": "tool", "call_id": "x", "name": "t", "content": "r"}]}"#,
                "is damaged",
            ),
        ];
        for (name, text, expected) in cases {
            let path = dir.path().join(format!("{name}.json"));
            fs::write(&path, text).unwrap();
            let error = History::load(&path).unwrap_err().to_string();
            assert_eq!(
                error,
                format!("the conversation `{}` {expected}", path.display()),
                "{name}"
            );
        }
        let missing = dir.path().join("missing.json");
        assert_eq!(
            History::load(&missing).unwrap_err().to_string(),
            format!("cannot read the conversation `{}`", missing.display())
        );
    }

    #[test]
    fn check_finds_unanswered_and_stray_results() {
        let call = |id: &str| ToolCall {
            id: id.into(),
            name: "t".into(),
            arguments: json!({}),
        };
        let result = |id: &str| Message::Tool {
            call_id: id.into(),
            name: "t".into(),
            content: "r".into(),
            is_error: false,
            structured: None,
        };
        let asks = |ids: &[&str]| Message::Assistant {
            content: String::new(),
            tool_calls: ids.iter().map(|id| call(id)).collect(),
        };
        let cases = [
            (vec![Message::user("u"), asks(&["a"]), result("a")], Ok(())),
            (
                vec![
                    Message::user("u"),
                    asks(&["a", "b"]),
                    result("a"),
                    Message::user("again"),
                ],
                Err(Inconsistency::Unanswered {
                    index: 1,
                    call_id: "b".into(),
                }),
            ),
            (
                vec![Message::user("u"), asks(&["a"])],
                Err(Inconsistency::Unanswered {
                    index: 1,
                    call_id: "a".into(),
                }),
            ),
            (
                vec![Message::user("u"), asks(&["a"]), result("a"), result("a")],
                Err(Inconsistency::StrayResult {
                    index: 3,
                    call_id: "a".into(),
                }),
            ),
        ];
        for (messages, expected) in cases {
            assert_eq!(
                History::from_messages(messages.clone()).check(),
                expected,
                "{messages:?}"
            );
        }
    }

    /// Found by the `history` fuzz target: without serde_json's `float_roundtrip`, a number
    /// read back from a saved history could differ in its last digit from the one saved. (In
    /// the whole workspace another crate turns the feature on as well; `cargo test -p agent`
    /// alone is where this would fail without the workspace's own setting.)
    #[test]
    fn numbers_read_back_exactly() {
        let text = r#"{"version": 1, "messages": [
            {"role": "assistant", "tool_calls": [{"id": "c", "name": "n", "arguments": {"x": 2.888888888888889e85}}]},
            {"role": "tool", "call_id": "c", "name": "n", "content": "", "structured": {"y": [0.1, 1e-300, 12345.678901234567]}}
        ]}"#;
        let history = History::from_json(text).unwrap();
        let again = History::from_json(&history.to_json()).unwrap();
        assert_eq!(again.messages(), history.messages());
    }

    mod round_trips {
        use proptest::prelude::*;
        use serde_json::{Map, Value};

        use super::super::*;

        /// Any text a model or a user may write: quotes, backslashes, control characters,
        /// characters outside the BMP.
        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                "\\PC{0,12}",
                "[\"\\\\\u{0}-\u{1f}a{}\u{1F600}]{0,8}",
                Just(String::new()),
            ]
        }

        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                text().prop_map(Value::String),
            ];
            leaf.prop_recursive(3, 16, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    object(inner),
                ]
            })
        }

        fn object(values: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
            proptest::collection::vec(("[a-z_]{1,6}", values), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
        }

        /// One turn: the prompt, tool calls each answered (in any order), the answer.
        fn turn(index: usize) -> impl Strategy<Value = Vec<Message>> {
            (
                text(),
                text(),
                proptest::collection::vec(
                    (
                        text(),
                        json(),
                        text(),
                        any::<bool>(),
                        proptest::option::of(object(json())),
                    ),
                    0..3,
                ),
                text(),
                any::<prop::sample::Index>(),
            )
                .prop_map(move |(prompt, preamble, calls, answer, rotation)| {
                    let mut messages = vec![Message::user(prompt)];
                    if !calls.is_empty() {
                        let ids: Vec<String> = (0..calls.len())
                            .map(|i| format!("call-{index}-{i}"))
                            .collect();
                        messages.push(Message::Assistant {
                            content: preamble,
                            tool_calls: calls
                                .iter()
                                .zip(&ids)
                                .map(|((name, arguments, ..), id)| ToolCall {
                                    id: id.clone(),
                                    name: name.clone(),
                                    arguments: arguments.clone(),
                                })
                                .collect(),
                        });
                        let mut results: Vec<Message> = calls
                            .into_iter()
                            .zip(ids)
                            .map(|((name, _, content, is_error, structured), call_id)| {
                                Message::Tool {
                                    call_id,
                                    name,
                                    content,
                                    is_error,
                                    structured,
                                }
                            })
                            .collect();
                        let by = rotation.index(results.len());
                        results.rotate_left(by);
                        messages.extend(results);
                    }
                    messages.push(Message::assistant(answer));
                    messages
                })
        }

        fn conversation() -> impl Strategy<Value = Vec<Message>> {
            (
                proptest::option::of(text()),
                proptest::collection::vec(0..4usize, 0..4),
            )
                .prop_flat_map(|(system, turns)| {
                    let turns: Vec<_> = (0..turns.len()).map(turn).collect();
                    (Just(system), turns).prop_map(|(system, turns)| {
                        system
                            .map(Message::system)
                            .into_iter()
                            .chain(turns.into_iter().flatten())
                            .collect()
                    })
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn a_saved_history_loads_as_it_was(messages in conversation()) {
                let history = History::from_messages(messages);
                prop_assert_eq!(history.check(), Ok(()));
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("chat.json");
                history.save_to(&path).expect("saved");
                let loaded = History::load(&path).expect("loaded");
                prop_assert_eq!(loaded.messages(), history.messages());
                let parsed = History::from_json(&history.to_json()).expect("parsed");
                prop_assert_eq!(parsed.messages(), history.messages());
            }
        }
    }
}
