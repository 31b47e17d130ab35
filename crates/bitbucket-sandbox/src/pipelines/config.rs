//! `bitbucket-pipelines.yml`: which steps a run of a ref or selector has.
//!
//! The subset the sandbox runs: `pipelines` with `default`, `branches`, `tags`, `custom` and
//! `pull-requests` sections; steps with `name`, `script` (strings, multi-line strings too),
//! `deployment` and `max-time`; `parallel` groups and `stage`s, whose steps run one after the
//! other here; YAML anchors, aliases and `<<` merges; `options: max-time`. Keys it does not run
//! (`image`, `services`, `caches`, `artifacts`, `after-script`, `definitions`, ...) are read and
//! ignored, as a build on another image would ignore them here. A `pipe:` line cannot run without
//! Docker, so it is refused when the file is read, not halfway through a run.

use yaml_rust2::{Yaml, YamlLoader};

/// The file Bitbucket reads, at the root of the commit.
pub const FILE: &str = "bitbucket-pipelines.yml";

/// One step to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPlan {
    pub name: String,
    /// Each entry runs as one shell command (a multi-line entry as one script).
    pub script: Vec<String>,
    /// The environment a deployment step deploys to, as the file names it.
    pub deployment: Option<String>,
    /// The step's time limit in minutes, from the step or `options`.
    pub max_time_minutes: Option<u64>,
    /// `trigger: manual`: the run pauses before this step.
    pub manual: bool,
}

/// What a target selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The ref's own section (`branches` or `tags`, by its name), else `default`.
    Ref { kind: RefKind, name: String },
    /// `default`, for a commit with no selector.
    Default,
    /// A named section: `branches`, `tags`, `custom` or `pull-requests` and its pattern.
    Named { section: String, pattern: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Branch,
    Tag,
}

/// Why a file cannot run; the message is the API's error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn error(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

/// The selector that matched, as the API reports it (`type`, `pattern`), and its steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub selector_type: String,
    pub selector_pattern: Option<String>,
    pub steps: Vec<StepPlan>,
}

/// Reads the file and picks the steps for `selector`.
pub fn plan(source: &str, selector: &Selector) -> Result<Plan, ConfigError> {
    let docs = YamlLoader::load_from_str(source)
        .map_err(|e| error(format!("{FILE} is not valid YAML: {e}")))?;
    let doc = docs
        .into_iter()
        .next()
        .ok_or_else(|| error(format!("{FILE} is empty")))?;
    if !doc.is_hash() {
        return Err(error(format!(
            "{FILE} must be a mapping with a `pipelines` key"
        )));
    }
    let pipelines = &doc["pipelines"];
    if !pipelines.is_hash() {
        return Err(error(format!("{FILE} has no `pipelines` section")));
    }
    let default_max = positive(&doc["options"]["max-time"], "options.max-time")?;
    let (selector_type, selector_pattern, steps) = select(pipelines, selector)?;
    let steps = steps_of(steps, default_max, &selector_type)?;
    if steps.is_empty() {
        return Err(error(format!(
            "the `{selector_type}` pipeline in {FILE} has no steps"
        )));
    }
    if steps[0].manual {
        return Err(error(format!(
            "the first step of the `{selector_type}` pipeline cannot be manual (`trigger: manual`)"
        )));
    }
    Ok(Plan {
        selector_type,
        selector_pattern,
        steps,
    })
}

/// The section to run: its API selector type, pattern, and its list of steps.
fn select<'a>(
    pipelines: &'a Yaml,
    selector: &Selector,
) -> Result<(String, Option<String>, &'a Yaml), ConfigError> {
    let default = || {
        let steps = &pipelines["default"];
        (!steps.is_badvalue()).then(|| ("default".to_owned(), None, steps))
    };
    match selector {
        Selector::Default => default()
            .ok_or_else(|| error(format!("{FILE} has no `default` pipeline; name a selector"))),
        Selector::Ref { kind, name } => {
            let (section, kind_name) = match kind {
                RefKind::Branch => ("branches", "branches"),
                RefKind::Tag => ("tags", "tags"),
            };
            if let Some((pattern, steps)) = matching(&pipelines[section], name) {
                return Ok((kind_name.to_owned(), Some(pattern), steps));
            }
            default().ok_or_else(|| {
                error(format!(
                    "{FILE} has no pipeline for {} `{name}` and no `default` pipeline",
                    match kind {
                        RefKind::Branch => "branch",
                        RefKind::Tag => "tag",
                    }
                ))
            })
        }
        Selector::Named { section, pattern } => {
            if section == "default" {
                return default().ok_or_else(|| error(format!("{FILE} has no `default` pipeline")));
            }
            let key = match section.as_str() {
                "branches" | "tags" | "custom" => section.as_str(),
                "pull-requests" | "pullrequests" => "pull-requests",
                other => {
                    return Err(error(format!(
                        "selector type `{other}` is not one of default, branches, tags, custom, pull-requests"
                    )));
                }
            };
            let steps = &pipelines[key][pattern.as_str()];
            if steps.is_badvalue() {
                let known = names(&pipelines[key]);
                return Err(error(format!(
                    "{FILE} has no `{key}` pipeline named `{pattern}`{}",
                    if known.is_empty() {
                        String::new()
                    } else {
                        format!(" (it has: {})", known.join(", "))
                    }
                )));
            }
            Ok((section.clone(), Some(pattern.clone()), steps))
        }
    }
}

fn names(section: &Yaml) -> Vec<String> {
    section
        .as_hash()
        .map(|h| {
            h.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The first pattern of `section` that matches `name`, preferring an exact name as Bitbucket
/// does.
fn matching<'a>(section: &'a Yaml, name: &str) -> Option<(String, &'a Yaml)> {
    let hash = section.as_hash()?;
    if let Some(steps) = hash.get(&Yaml::String(name.to_owned())) {
        return Some((name.to_owned(), steps));
    }
    hash.iter().find_map(|(pattern, steps)| {
        let pattern = pattern.as_str()?;
        glob(pattern, name).then(|| (pattern.to_owned(), steps))
    })
}

/// Bitbucket's branch globs: `*` is any run of characters but `/`, `**` any run at all, `?`
/// one character but `/`, `{a,b}` either.
pub fn glob(pattern: &str, name: &str) -> bool {
    if let Some(open) = pattern.find('{')
        && let Some(len) = pattern[open..].find('}')
    {
        let (head, rest) = (&pattern[..open], &pattern[open + 1..open + len]);
        let tail = &pattern[open + len + 1..];
        return rest
            .split(',')
            .any(|alt| glob(&format!("{head}{alt}{tail}"), name));
    }
    glob_bytes(pattern.as_bytes(), name.as_bytes())
}

fn glob_bytes(p: &[u8], n: &[u8]) -> bool {
    match p {
        [] => n.is_empty(),
        [b'*', b'*', rest @ ..] => (0..=n.len()).any(|i| glob_bytes(rest, &n[i..])),
        [b'*', rest @ ..] => {
            let run = n.iter().position(|&c| c == b'/').unwrap_or(n.len());
            (0..=run).any(|i| glob_bytes(rest, &n[i..]))
        }
        [b'?', rest @ ..] => n.first().is_some_and(|&c| c != b'/') && glob_bytes(rest, &n[1..]),
        [c, rest @ ..] => n.first() == Some(c) && glob_bytes(rest, &n[1..]),
    }
}

fn positive(value: &Yaml, field: &str) -> Result<Option<u64>, ConfigError> {
    match value {
        Yaml::BadValue | Yaml::Null => Ok(None),
        Yaml::Integer(n) if *n > 0 => Ok(Some(n.unsigned_abs())),
        other => Err(error(format!(
            "{field} must be a positive number of minutes, not {}",
            scalar(other)
        ))),
    }
}

fn scalar(value: &Yaml) -> String {
    match value {
        Yaml::String(s) | Yaml::Real(s) => format!("`{s}`"),
        Yaml::Integer(n) => n.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Array(_) => "a list".into(),
        Yaml::Hash(_) => "a mapping".into(),
        _ => "nothing".into(),
    }
}

/// The steps of a section, `parallel` groups and `stage`s flattened in file order.
fn steps_of(
    items: &Yaml,
    default_max: Option<u64>,
    section: &str,
) -> Result<Vec<StepPlan>, ConfigError> {
    let Some(items) = items.as_vec() else {
        return Err(error(format!(
            "the `{section}` pipeline in {FILE} must be a list of steps"
        )));
    };
    let mut out = Vec::new();
    for item in items {
        if !item["step"].is_badvalue() {
            out.push(step(&item["step"], default_max, out.len() + 1)?);
        } else if !item["parallel"].is_badvalue() {
            let group = &item["parallel"];
            // `parallel: {steps: [...]}` or `parallel: [- step: ...]`
            let list = if group["steps"].is_badvalue() {
                group
            } else {
                &group["steps"]
            };
            out.extend(steps_of(list, default_max, section)?);
        } else if !item["stage"].is_badvalue() {
            out.extend(steps_of(&item["stage"]["steps"], default_max, section)?);
        } else if !item["variables"].is_badvalue() {
            // A custom pipeline's variable declarations: values come with the run.
        } else {
            return Err(error(format!(
                "the `{section}` pipeline in {FILE} has an entry that is not a step, parallel or stage"
            )));
        }
    }
    Ok(out)
}

/// One step, with `<<` merges applied.
fn step(node: &Yaml, default_max: Option<u64>, number: usize) -> Result<StepPlan, ConfigError> {
    let node = merged(node);
    let at = |field: &str| format!("step {number}: {field}");
    if !node.is_hash() {
        return Err(error(format!("step {number} in {FILE} must be a mapping")));
    }
    let name = match &node["name"] {
        Yaml::BadValue | Yaml::Null => format!("Step {number}"),
        Yaml::String(s) => s.clone(),
        other => {
            return Err(error(format!(
                "{} must be text, not {}",
                at("name"),
                scalar(other)
            )));
        }
    };
    let Some(lines) = node["script"].as_vec() else {
        return Err(error(format!(
            "{} (`{name}`) is required and must be a list of commands",
            at("script")
        )));
    };
    let mut script = Vec::with_capacity(lines.len());
    for line in lines {
        match line {
            Yaml::String(s) => script.push(s.clone()),
            Yaml::Integer(_) | Yaml::Real(_) | Yaml::Boolean(_) => {
                script.push(scalar(line).trim_matches('`').to_owned());
            }
            Yaml::Hash(h) if h.contains_key(&Yaml::String("pipe".into())) => {
                return Err(error(format!(
                    "step `{name}` uses a pipe ({}); pipes run in Docker, which this sandbox does not run",
                    scalar(&line["pipe"])
                )));
            }
            other => {
                return Err(error(format!(
                    "step `{name}`: script entries must be commands, not {}",
                    scalar(other)
                )));
            }
        }
    }
    let deployment = match &node["deployment"] {
        Yaml::BadValue | Yaml::Null => None,
        Yaml::String(s) => Some(s.clone()),
        other => {
            return Err(error(format!(
                "step `{name}`: deployment must be an environment name, not {}",
                scalar(other)
            )));
        }
    };
    let max_time_minutes =
        positive(&node["max-time"], &format!("step `{name}`: max-time"))?.or(default_max);
    let manual = match &node["trigger"] {
        Yaml::BadValue | Yaml::Null => false,
        Yaml::String(t) if t == "manual" => true,
        Yaml::String(t) if t == "automatic" => false,
        other => {
            return Err(error(format!(
                "step `{name}`: trigger must be `manual` or `automatic`, not {}",
                scalar(other)
            )));
        }
    };
    Ok(StepPlan {
        name,
        script,
        deployment,
        max_time_minutes,
        manual,
    })
}

/// A mapping with its `<<` keys (one mapping or a list of them) merged in under its own keys.
fn merged(node: &Yaml) -> Yaml {
    let Some(hash) = node.as_hash() else {
        return node.clone();
    };
    let merge_key = Yaml::String("<<".into());
    let Some(base) = hash.get(&merge_key) else {
        return node.clone();
    };
    let bases: Vec<&Yaml> = match base {
        Yaml::Array(list) => list.iter().collect(),
        one => vec![one],
    };
    let mut out = yaml_rust2::yaml::Hash::new();
    for base in bases {
        if let Yaml::Hash(b) = merged(base) {
            for (k, v) in b {
                out.insert(k, v);
            }
        }
    }
    for (k, v) in hash {
        if *k != merge_key {
            out.insert(k.clone(), v.clone());
        }
    }
    Yaml::Hash(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE_TEXT: &str = r#"
image: rust:latest
options:
  max-time: 5
definitions:
  steps:
    - step: &test
        name: Test
        script:
          - cargo test
pipelines:
  default:
    - step: *test
    - parallel:
        - step:
            name: Lint
            script: [cargo clippy]
        - step:
            name: Fmt
            script: [cargo fmt --check]
  branches:
    main:
      - step:
          <<: *test
          name: Test on main
      - step:
          name: Deploy
          deployment: production
          max-time: 2
          script:
            - |
              echo one
              echo two
    'feature/*':
      - step:
          script: [echo feature]
  tags:
    'v{1,2}.*':
      - step: {script: [echo release]}
  custom:
    nightly:
      - variables:
          - name: LEVEL
      - step: {name: Nightly, script: [echo $LEVEL]}
"#;

    fn branch(name: &str) -> Selector {
        Selector::Ref {
            kind: RefKind::Branch,
            name: name.into(),
        }
    }

    #[test]
    fn a_branch_runs_its_own_section_else_the_default() {
        let main = plan(FILE_TEXT, &branch("main")).unwrap();
        assert_eq!(main.selector_type, "branches");
        assert_eq!(main.selector_pattern.as_deref(), Some("main"));
        let names: Vec<_> = main.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Test on main", "Deploy"]);
        assert_eq!(main.steps[0].script, ["cargo test"]);
        assert_eq!(main.steps[0].max_time_minutes, Some(5));
        assert_eq!(main.steps[1].deployment.as_deref(), Some("production"));
        assert_eq!(main.steps[1].max_time_minutes, Some(2));
        assert_eq!(main.steps[1].script, ["echo one\necho two\n"]);

        let feature = plan(FILE_TEXT, &branch("feature/login")).unwrap();
        assert_eq!(feature.selector_pattern.as_deref(), Some("feature/*"));
        assert_eq!(feature.steps[0].name, "Step 1");

        let other = plan(FILE_TEXT, &branch("feature/a/b")).unwrap();
        assert_eq!(other.selector_type, "default");
        let names: Vec<_> = other.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Test", "Lint", "Fmt"]);
    }

    #[test]
    fn tags_custom_and_unknown_selectors() {
        let tag = plan(
            FILE_TEXT,
            &Selector::Ref {
                kind: RefKind::Tag,
                name: "v2.0".into(),
            },
        )
        .unwrap();
        assert_eq!(tag.selector_type, "tags");
        let custom = plan(
            FILE_TEXT,
            &Selector::Named {
                section: "custom".into(),
                pattern: "nightly".into(),
            },
        )
        .unwrap();
        assert_eq!(custom.steps[0].script, ["echo $LEVEL"]);
        let missing = plan(
            FILE_TEXT,
            &Selector::Named {
                section: "custom".into(),
                pattern: "weekly".into(),
            },
        )
        .unwrap_err();
        assert!(
            missing
                .0
                .contains("no `custom` pipeline named `weekly` (it has: nightly)"),
            "{missing}"
        );
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        for (text, expected) in [
            ("pipelines: [", "not valid YAML"),
            ("", "is empty"),
            ("image: x", "no `pipelines` section"),
            (
                "pipelines:\n  default:\n    - step:\n        name: x",
                "script (`x`) is required",
            ),
            (
                "pipelines:\n  default:\n    - step:\n        script:\n          - pipe: atlassian/x:1",
                "pipes run in Docker",
            ),
            (
                "pipelines:\n  branches:\n    main: []",
                "no pipeline for branch `dev`",
            ),
            (
                "pipelines:\n  default:\n    - step:\n        max-time: soon\n        script: [x]",
                "positive number",
            ),
        ] {
            let err = plan(text, &branch("dev")).unwrap_err();
            assert!(err.0.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn globs_follow_bitbucket() {
        assert!(glob("*", "main"));
        assert!(!glob("*", "feature/x"));
        assert!(glob("**", "feature/x"));
        assert!(glob("feature/*", "feature/x"));
        assert!(!glob("feature/*", "feature/x/y"));
        assert!(glob("release-?", "release-1"));
        assert!(glob("{main,master}", "master"));
        assert!(!glob("{main,master}", "dev"));
    }
}
