//! The planner: one request becomes a few tool calls, worked out again from the history on
//! every model request. Calls already made in this turn are replayed with their results, so
//! the plan is plain sequential code that stops at the first call it has no result for.

use serde_json::{Map, Value, json};

use crate::catalogue::{Catalogue, Kind, RefRole, Tool};
use crate::focus::{Focus, Outcome};
use crate::text::{Utterance, humanize, slug};
use crate::understand::{Found, choose_tool_with, extract, is_action_word};
use crate::{help, lexicon};

/// What the model does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Call { name: String, arguments: Value },
    Reply(String),
}

/// Why a plan stopped before its end.
enum Halt {
    /// It needs this call's result.
    Call(String, Value),
    /// It has nothing more to do but say this.
    Say(String),
    /// A change failed (its report is already said); later steps may depend on it.
    Stop,
}

/// The marker of a question, so the next turn knows what it answers:
/// "To create a branch called x, I need the repository (`repo_slug`). Which ...?"
const NEED: &str = ", I need ";

pub struct Planner<'a> {
    catalogue: &'a Catalogue,
    focus: Focus,
    done: &'a [(String, Value, Outcome)],
    next: usize,
    lines: Vec<String>,
}

impl<'a> Planner<'a> {
    pub fn new(
        catalogue: &'a Catalogue,
        focus: Focus,
        done: &'a [(String, Value, Outcome)],
    ) -> Self {
        Planner {
            catalogue,
            focus,
            done,
            next: 0,
            lines: Vec::new(),
        }
    }

    /// Plans `request`; `pending` is the question the previous turn asked, if any.
    pub fn run(mut self, request: &str, pending: Option<&str>) -> Action {
        let result = self.request(request, pending);
        let mut lines = std::mem::take(&mut self.lines);
        match result {
            Ok(()) => {}
            Err(Halt::Call(name, arguments)) => return Action::Call { name, arguments },
            Err(Halt::Say(text)) => lines.push(text),
            Err(Halt::Stop) => {}
        }
        if lines.is_empty() {
            lines.push("Done.".to_owned());
        }
        Action::Reply(lines.join("\n\n"))
    }

    fn request(&mut self, request: &str, pending: Option<&str>) -> Result<(), Halt> {
        if let Some(question) = pending
            && let Some((clause, param)) = parse_question(question)
            && !has_action(&Utterance::parse(request), self.catalogue)
        {
            return self.answer(&clause, &param, request);
        }
        let clauses = split_clauses(request, self.catalogue);
        let several = clauses.len() > 1;
        for clause in &clauses {
            let u = Utterance::parse(clause);
            match choose_tool_with(&u, self.catalogue, self.focus.topic.as_deref()) {
                Some(tool) => self.clause(clause, &u, tool, Map::new())?,
                None if several => self.lines.push(format!(
                    "I did not understand “{}”, so I skipped it.",
                    clause.trim()
                )),
                None => {
                    return Err(Halt::Say(help::reply(
                        clause,
                        self.catalogue,
                        self.focus.topic.as_deref(),
                    )));
                }
            }
        }
        Ok(())
    }

    /// The user answered our question about `param` of `clause`.
    fn answer(&mut self, clause: &str, param: &str, answer: &str) -> Result<(), Halt> {
        let u = Utterance::parse(clause);
        let Some(tool) = choose_tool_with(&u, self.catalogue, self.focus.topic.as_deref()) else {
            return Err(Halt::Say(help::reply(
                clause,
                self.catalogue,
                self.focus.topic.as_deref(),
            )));
        };
        let kind = tool
            .named(param)
            .map(|p| p.kind.clone())
            .unwrap_or(Kind::Other);
        let reply = Utterance::parse(answer);
        let mut preset = Map::new();
        let text = match kind {
            Kind::Workspace | Kind::Repo => {
                let joined = if matches!(reply.at(0), "in" | "from" | "of" | "at" | "for") {
                    format!("{clause} {answer}")
                } else {
                    format!("{clause} in {answer}")
                };
                let u = Utterance::parse(&joined);
                return self.clause(&joined, &u, tool, preset);
            }
            Kind::Number(_) => reply
                .words
                .iter()
                .find_map(|w| w.lower.trim_start_matches('#').parse::<u64>().ok())
                .map(|n| json!(n)),
            Kind::NewName | Kind::Key(_) | Kind::Ref(_) | Kind::Path => reply
                .words
                .iter()
                .rev()
                .find(|w| w.quote.is_some() || !lexicon::is_stopword(&w.lower))
                .map(|w| json!(w.raw)),
            _ => {
                let text = match reply.quotes.first() {
                    Some(quoted) => quoted.clone(),
                    None => answer.trim().trim_end_matches(['.', '!']).to_owned(),
                };
                (!text.is_empty()).then(|| json!(text))
            }
        };
        if let Some(value) = text {
            preset.insert(param.to_owned(), value);
        }
        self.clause(clause, &u, tool, preset)
    }

    /// Replays or requests one call.
    fn call(&mut self, tool: &Tool, arguments: Map<String, Value>) -> Result<Outcome, Halt> {
        let arguments = Value::Object(arguments);
        match self.done.get(self.next) {
            Some((name, _, outcome)) if name == &tool.name => {
                self.next += 1;
                Ok(outcome.clone())
            }
            Some(_) => Err(Halt::Say(
                "I lost track of this request (the tool calls in the conversation are not the ones I planned); please ask again.".to_owned(),
            )),
            None => Err(Halt::Call(tool.name.clone(), arguments)),
        }
    }

    fn clause(
        &mut self,
        clause: &str,
        u: &Utterance,
        tool: &Tool,
        preset: Map<String, Value>,
    ) -> Result<(), Halt> {
        let mut found = extract(u, tool, &self.focus.known);
        for (name, value) in preset {
            found.args.insert(name, value);
        }
        self.file_from_listing(tool, &mut found);
        self.fill_places(clause, tool, &mut found)?;
        self.fill_numbers(clause, tool, &mut found)?;
        self.fill_names(tool, &mut found)?;
        // Ask for the repository before its workspace: `workspace/repository` answers both.
        let missing =
            |p: &&crate::catalogue::Param| p.required && !found.args.contains_key(&p.name);
        let first_missing = tool
            .params
            .iter()
            .filter(missing)
            .find(|p| p.kind == Kind::Repo)
            .or_else(|| tool.params.iter().find(missing));
        if let Some(param) = first_missing {
            return Err(Halt::Say(question(clause, tool, &param.name, &param.kind)));
        }
        // "close pull request 1" with a tool that cannot close it: an update that would change
        // nothing is no answer.
        let changes_something = tool.params.iter().any(|p| {
            found.args.contains_key(&p.name)
                && !matches!(p.kind, Kind::Workspace | Kind::Repo | Kind::Number(_))
        });
        if tool.verb == "update" && !tool.read_only && !changes_something {
            return Err(Halt::Say(help::reply(
                clause,
                self.catalogue,
                self.focus.topic.as_deref(),
            )));
        }
        let mut args = found.args.clone();
        let outcome = if found.readme {
            self.read_readme(tool, &mut args)?
        } else {
            self.call(tool, args.clone())?
        };
        let arguments = Value::Object(args);
        self.focus.note_call(tool, &arguments, &outcome);
        self.lines.push(report(tool, &outcome, self.catalogue));
        if outcome.is_error && !tool.read_only {
            return Err(Halt::Stop);
        }
        Ok(())
    }

    /// "show me guide.md" right after listing `docs/`: the file of that listing, at its ref.
    fn file_from_listing(&self, tool: &Tool, found: &mut Found) {
        let Some(param) = tool.param(&Kind::Path) else {
            return;
        };
        let named_place = [Kind::Workspace, Kind::Repo].iter().any(|k| {
            tool.param(k)
                .is_some_and(|p| found.args.contains_key(&p.name))
        });
        let Some(path) = found.args.get(&param.name).and_then(Value::as_str) else {
            return;
        };
        if named_place || path.contains('/') || found.readme {
            return;
        }
        let Some(listed) = self
            .focus
            .files
            .iter()
            .find(|f| {
                f.rsplit('/')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(path))
            })
            .cloned()
        else {
            return;
        };
        found.args.insert(param.name.clone(), json!(listed));
        found.readme = false;
        if let Some(at) = tool.param(&Kind::Ref(RefRole::At))
            && !found.args.contains_key(&at.name)
            && let Some(reference) = &self.focus.files_ref
        {
            found.args.insert(at.name.clone(), json!(reference));
        }
    }

    /// Workspace and repository: said, else in focus, else looked up from the repository name.
    fn fill_places(&mut self, clause: &str, tool: &Tool, found: &mut Found) -> Result<(), Halt> {
        let ws = tool.param(&Kind::Workspace).map(|p| p.name.clone());
        let repo = tool.param(&Kind::Repo).map(|p| p.name.clone());
        if let Some(repo) = &repo
            && !found.args.contains_key(repo)
        {
            // A repository from focus belongs with the focused workspace, not a named one.
            let named_ws = ws
                .as_ref()
                .and_then(|w| found.args.get(w))
                .and_then(Value::as_str);
            if (named_ws.is_none() || named_ws == self.focus.workspace.as_deref())
                && let Some(value) = &self.focus.repo
            {
                found.args.insert(repo.clone(), json!(value));
            }
        }
        let Some(ws) = ws else { return Ok(()) };
        if found.args.contains_key(&ws) {
            return Ok(());
        }
        let repo_value = repo
            .as_ref()
            .and_then(|r| found.args.get(r))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let from_focus = repo_value.is_none() || repo_value == self.focus.repo;
        if let Some(value) = self.focus.workspace.clone().filter(|_| from_focus) {
            found.args.insert(ws, json!(value));
            return Ok(());
        }
        let Some(repo_slug) = repo_value else {
            return Ok(());
        };
        // Which workspace holds this repository?
        let (Some(list_ws), Some(list_repos)) = (
            self.catalogue.find("list", "workspace").cloned(),
            self.catalogue.find("list", "repository").cloned(),
        ) else {
            return Ok(());
        };
        let listed = self.call(&list_ws, Map::new())?;
        let slugs: Vec<String> = items(&listed)
            .iter()
            .filter_map(|i| i.get("slug").and_then(Value::as_str).map(str::to_owned))
            .take(10)
            .collect();
        let mut holders = Vec::new();
        for slug in slugs {
            let mut args = Map::new();
            args.insert(ws.clone(), json!(slug));
            let repos = self.call(&list_repos, args)?;
            let has = items(&repos).iter().any(|r| {
                r.get("name").and_then(Value::as_str) == Some(repo_slug.as_str())
                    || r.get("full_name").and_then(Value::as_str)
                        == Some(format!("{slug}/{repo_slug}").as_str())
            });
            if has {
                holders.push(slug);
            }
        }
        match holders.as_slice() {
            [one] => {
                found.args.insert(ws, json!(one));
                Ok(())
            }
            [] => Err(Halt::Say(format!(
                "I could not find a repository called `{repo_slug}` in your workspaces. Which workspace is it in?"
            ))),
            many => Err(Halt::Say(format!(
                "To {clause}{NEED}the workspace (`{ws}`). `{repo_slug}` is in several: {}. Which one do you mean?",
                many.join(", ")
            ))),
        }
    }

    /// Numbers: said, else "latest" looked up, else in focus.
    fn fill_numbers(&mut self, clause: &str, tool: &Tool, found: &mut Found) -> Result<(), Halt> {
        for param in &tool.params {
            let Kind::Number(thing) = &param.kind else {
                continue;
            };
            if found.args.contains_key(&param.name) || !param.required {
                continue;
            }
            let from_list = found.ordinal.and_then(|position| {
                let ids = self.focus.listed.get(thing)?;
                if position == usize::MAX {
                    ids.last()
                } else {
                    ids.get(position)
                }
                .copied()
            });
            let by_title = found
                .title_word
                .clone()
                .filter(|(named, _)| named == thing)
                .map(|(_, word)| word);
            if let Some(id) = from_list {
                found.args.insert(param.name.clone(), json!(id));
            } else if let Some(word) = by_title
                && let Some(list) = self.catalogue.find("list", thing).cloned()
            {
                let args = lookup_args(&list, found, clause, &self.focus.known);
                let listed = self.call(&list, args)?;
                let word = word.to_lowercase();
                let fits = |item: &Value, field: &str| {
                    item.get(field)
                        .and_then(Value::as_str)
                        .is_some_and(|text| text.to_lowercase().contains(&word))
                };
                let matching: Vec<(u64, String)> = items(&listed)
                    .iter()
                    .filter(|i| fits(i, "title") || fits(i, "source_branch"))
                    .filter_map(|i| {
                        let id = i.get("id").and_then(Value::as_u64)?;
                        let title = i.get("title").and_then(Value::as_str).unwrap_or_default();
                        Some((id, title.to_owned()))
                    })
                    .collect();
                let name = thing.replace('_', " ");
                match matching.as_slice() {
                    [(id, _)] => {
                        found.args.insert(param.name.clone(), json!(id));
                    }
                    [] => {
                        return Err(Halt::Say(format!(
                            "There is no {name} about “{word}”, so I did nothing. {}",
                            listed.content.lines().next().unwrap_or("")
                        )));
                    }
                    many => {
                        let choices: Vec<String> = many
                            .iter()
                            .map(|(id, title)| format!("#{id} “{title}”"))
                            .collect();
                        return Err(Halt::Say(format!(
                            "To {clause}, which {name} do you mean: {}?",
                            choices.join(", ")
                        )));
                    }
                }
            } else if found.latest
                && let Some(list) = self.catalogue.find("list", thing).cloned()
            {
                let args = lookup_args(&list, found, clause, &self.focus.known);
                let listed = self.call(&list, args)?;
                let first = items(&listed)
                    .first()
                    .and_then(|i| i.get("id"))
                    .and_then(Value::as_u64);
                match first {
                    Some(id) => {
                        found.args.insert(param.name.clone(), json!(id));
                    }
                    None => {
                        return Err(Halt::Say(format!(
                            "There is no {} matching that, so I did nothing. {}",
                            thing.replace('_', " "),
                            listed.content.lines().next().unwrap_or("")
                        )));
                    }
                }
            } else if let Some(n) = self.focus.numbers.get(thing) {
                found.args.insert(param.name.clone(), json!(n));
            }
        }
        Ok(())
    }

    /// New names, sources and titles that can be made from what is known.
    fn fill_names(&mut self, tool: &Tool, found: &mut Found) -> Result<(), Halt> {
        if let Some(param) = tool.param(&Kind::NewName).cloned()
            && tool.primary == "branch"
            && !found.args.contains_key(&param.name)
        {
            if let Some((thing, n)) = found.for_number.clone()
                && let Some(list) = self.catalogue.find("list", &thing).cloned()
                && list.has(&Kind::Query)
            {
                let mut args = place_args(&list, found);
                if let Some(q) = list.param(&Kind::Query) {
                    args.insert(q.name.clone(), json!(format!("id = {n}")));
                }
                let listed = self.call(&list, args)?;
                if let Some(title) = items(&listed)
                    .first()
                    .and_then(|i| i.get("title"))
                    .and_then(Value::as_str)
                {
                    let name = format!("{}-{n}-{}", thing.replace('_', "-"), slug(title, 6));
                    found.args.insert(param.name.clone(), json!(name));
                }
            } else if let Some(purpose) = &found.purpose {
                let name = slug(purpose, 5);
                if !name.is_empty() {
                    found.args.insert(param.name.clone(), json!(name));
                }
            }
        }
        if let Some(param) = tool.param(&Kind::Ref(RefRole::Source)).cloned()
            && !found.args.contains_key(&param.name)
        {
            let here = place_of(tool, found);
            match &self.focus.created_branch {
                Some((branch, place)) if Some(place) == here.as_ref() => {
                    found.args.insert(param.name.clone(), json!(branch));
                }
                _ => {
                    if let Some(branch) = self.my_feature(tool, found)? {
                        found.args.insert(param.name.clone(), json!(branch));
                    }
                }
            }
        }
        if let Some(param) = tool.param(&Kind::Title).cloned()
            && param.required
            && !found.args.contains_key(&param.name)
            && let Some(source) = tool
                .param(&Kind::Ref(RefRole::Source))
                .and_then(|p| found.args.get(&p.name))
                .and_then(Value::as_str)
        {
            found
                .args
                .insert(param.name.clone(), json!(humanize(source)));
        }
        Ok(())
    }

    /// "My feature": the most recently updated branch that is not a main line and has no
    /// open pull request yet.
    fn my_feature(&mut self, tool: &Tool, found: &Found) -> Result<Option<String>, Halt> {
        let Some(list) = self.catalogue.find("list", "branch").cloned() else {
            return Ok(None);
        };
        let mut args = place_args(&list, found);
        if args.len() < 2 {
            return Ok(None);
        }
        if let Some(sort) = list.param(&Kind::Sort) {
            args.insert(sort.name.clone(), json!("-target.date"));
        }
        let branches = self.call(&list, args)?;
        let mut reviewed: Vec<String> = Vec::new();
        if let Some(prs) = self.catalogue.find("list", &tool.primary).cloned() {
            let listed = self.call(&prs, place_args(&prs, found))?;
            reviewed = items(&listed)
                .iter()
                .filter_map(|pr| {
                    pr.get("source_branch")
                        .or_else(|| pr.get("source"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect();
        }
        let destination = tool
            .param(&Kind::Ref(RefRole::Destination))
            .and_then(|p| found.args.get(&p.name))
            .and_then(Value::as_str);
        let pick = items(&branches)
            .iter()
            .filter_map(|b| b.get("name").and_then(Value::as_str))
            .find(|name| {
                !matches!(*name, "main" | "master" | "develop" | "trunk")
                    && Some(*name) != destination
                    && !reviewed.iter().any(|r| r == name)
            })
            .map(str::to_owned);
        Ok(pick)
    }

    /// Reads the README: `README.md` first, else whatever the root calls its README.
    fn read_readme(&mut self, tool: &Tool, args: &mut Map<String, Value>) -> Result<Outcome, Halt> {
        let first = self.call(tool, args.clone())?;
        if !first.is_error {
            return Ok(first);
        }
        let Some(browse) = self
            .catalogue
            .tools
            .iter()
            .find(|t| t.primary == "path" && t.read_only)
            .cloned()
        else {
            return Ok(first);
        };
        let mut browse_args = Map::new();
        for param in &browse.params {
            if matches!(param.kind, Kind::Workspace | Kind::Repo | Kind::Ref(_))
                && let Some(value) = tool
                    .params
                    .iter()
                    .find(|p| p.kind == param.kind)
                    .and_then(|p| args.get(&p.name))
            {
                browse_args.insert(param.name.clone(), value.clone());
            }
        }
        let listing = self.call(&browse, browse_args)?;
        let readme = items(&listing)
            .iter()
            .filter_map(|i| i.get("path").and_then(Value::as_str))
            .find(|p| {
                p.rsplit('/')
                    .next()
                    .is_some_and(|n| n.to_lowercase().starts_with("readme"))
            })
            .map(str::to_owned);
        let Some(path) = readme else {
            return Ok(first);
        };
        if let Some(param) = tool.param(&Kind::Path) {
            args.insert(param.name.clone(), json!(path));
        }
        self.call(tool, args.clone())
    }
}

fn items(outcome: &Outcome) -> Vec<Value> {
    outcome
        .structured
        .as_ref()
        .and_then(|s| s.get("items"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The workspace and repository arguments of `tool`, taken from what `found` has.
fn place_args(tool: &Tool, found: &Found) -> Map<String, Value> {
    let mut args = Map::new();
    for param in &tool.params {
        if matches!(param.kind, Kind::Workspace | Kind::Repo)
            && let Some(value) = found.args.iter().find_map(|(name, value)| {
                (name == &param.name || (param.kind == Kind::Repo && name == "repo_slug"))
                    .then_some(value)
            })
        {
            args.insert(param.name.clone(), value.clone());
        }
    }
    args
}

/// `acme/widgets` for a tool's place arguments.
fn place_of(tool: &Tool, found: &Found) -> Option<String> {
    let get = |kind: Kind| {
        tool.param(&kind)
            .and_then(|p| found.args.get(&p.name))
            .and_then(Value::as_str)
    };
    Some(format!("{}/{}", get(Kind::Workspace)?, get(Kind::Repo)?))
}

/// Arguments for listing the newest matching items: the place, the states the request
/// names (`open`), and newest first.
fn lookup_args(
    list: &Tool,
    found: &Found,
    clause: &str,
    known: &crate::understand::Known,
) -> Map<String, Value> {
    let mut args = place_args(list, found);
    let u = Utterance::parse(clause);
    let listed = extract(&u, list, known);
    for param in &list.params {
        if matches!(param.kind, Kind::Enum { .. })
            && let Some(value) = listed.args.get(&param.name)
        {
            args.insert(param.name.clone(), value.clone());
        }
    }
    if let Some(sort) = list.param(&Kind::Sort) {
        args.insert(sort.name.clone(), json!("-created_on"));
    }
    args
}

/// The line a finished call adds to the answer.
fn report(tool: &Tool, outcome: &Outcome, catalogue: &Catalogue) -> String {
    let content = outcome.content.trim();
    if !outcome.is_error {
        return content.to_owned();
    }
    if content.starts_with("the user denied") {
        return format!("Not done: you declined “{}”.", tool.title);
    }
    // Refused by policy: nobody declined anything, so say why instead.
    if let Some((_, why)) = content.split_once("no one was asked to approve it") {
        let why = why.trim().trim_start_matches('(');
        let why = why.rsplit_once(')').map_or(why, |(inside, _)| inside);
        return format!(
            "Not done: “{}” needs approval, and no one was asked ({why}).",
            tool.title
        );
    }
    format!(
        "Could not {}: {}",
        lowercase_first(&tool.title),
        for_people(content, catalogue)
    )
}

/// A tool's error, which is written for a model, in a person's words: tools are named by what
/// they do and a next step is said where the cause is known.
fn for_people(error: &str, catalogue: &Catalogue) -> String {
    // A known refusal comes with the step that gets past it, which is all a person needs.
    if let Some((_, next)) = error.split_once("; next step: ") {
        return next.trim().to_owned();
    }
    // Bitbucket's own words stay only when nothing else says what happened.
    let mut text = match error.split_once("; bitbucket said: ") {
        Some((ours, _)) if !ours.trim().is_empty() => ours.to_owned(),
        _ => error.to_owned(),
    };
    // Longest names first: one tool's name can start another's
    // (`…_COMMIT` and `…_COMMIT_REPORTS`), and the shorter must not eat the longer.
    let mut tools: Vec<_> = catalogue.tools.iter().collect();
    tools.sort_by_key(|tool| std::cmp::Reverse(tool.name.len()));
    for tool in tools {
        if !text.contains(&tool.name) {
            continue;
        }
        let ask = format!("ask me to “{}”", tool.title.to_lowercase());
        for (pattern, replacement) in [
            (
                format!("{} lists them", tool.name),
                format!("{ask} to see them"),
            ),
            (
                format!("{} lists yours", tool.name),
                format!("{ask} to see yours"),
            ),
            (format!("use {}", tool.name), ask.clone()),
            (format!("with {}", tool.name), format!("if you {ask}")),
        ] {
            text = text.replace(&pattern, &replacement);
        }
        text = text.replace(&tool.name, &format!("“{}”", tool.title.to_lowercase()));
    }
    text
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One question naming what is missing, in the form the next turn reads back.
fn question(clause: &str, tool: &Tool, param: &str, kind: &Kind) -> String {
    let clause = clause.trim().trim_end_matches(['.', '?', '!']);
    let (what, ask) = match kind {
        Kind::Repo => (
            "the repository".to_owned(),
            "Which repository do you mean (as `workspace/repository`)?".to_owned(),
        ),
        Kind::Workspace => (
            "the workspace".to_owned(),
            "Which workspace do you mean?".to_owned(),
        ),
        Kind::NewName => (
            format!("a name for the new {}", tool.primary.replace('_', " ")),
            format!(
                "What should the new {} be called?",
                tool.primary.replace('_', " ")
            ),
        ),
        Kind::Number(thing) => (
            format!("the {} number", thing.replace('_', " ")),
            format!("Which {} (its number)?", thing.replace('_', " ")),
        ),
        Kind::Key(thing) => (
            format!("the {thing}'s id"),
            format!("Which {thing} (its id)?"),
        ),
        Kind::Title => ("a title".to_owned(), "What should the title be?".to_owned()),
        Kind::Body => (
            format!("the {} text", tool.primary.replace('_', " ")),
            format!("What should the {} say?", tool.primary.replace('_', " ")),
        ),
        Kind::Path => (
            "the file".to_owned(),
            "Which file (its path in the repository)?".to_owned(),
        ),
        Kind::Ref(_) => ("the branch".to_owned(), "Which branch?".to_owned()),
        _ => (format!("`{param}`"), format!("What should `{param}` be?")),
    };
    let mut clause = clause.to_owned();
    if let Some(first) = clause.get(0..1) {
        clause.replace_range(0..1, &first.to_lowercase());
    }
    format!("To {clause}{NEED}{what} (`{param}`). {ask}")
}

/// Reads back a question this model asked: the request and the argument it lacked.
fn parse_question(text: &str) -> Option<(String, String)> {
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("To ") && l.contains(NEED))?;
    let (clause, rest) = line["To ".len()..].split_once(NEED)?;
    let start = rest.find("(`")? + 2;
    let end = rest[start..].find("`)")? + start;
    Some((clause.to_owned(), rest[start..end].to_owned()))
}

/// Whether a message asks for something itself, rather than answering a question.
fn has_action(u: &Utterance, catalogue: &Catalogue) -> bool {
    (0..u.len()).any(|i| is_action_word(u, i, catalogue))
        || lexicon::VERB_PHRASES.iter().any(|(p, _)| u.has(p))
}

/// Splits "create a branch, open a PR for it and comment on issue 2" into its requests: a
/// new request starts after `and`, `then` or a comma when an action word follows.
pub fn split_clauses(request: &str, catalogue: &Catalogue) -> Vec<String> {
    let u = Utterance::parse(request);
    let starts = |j: usize| is_action_word(&u, j, catalogue);
    let mut cuts = Vec::new();
    let mut i = 1;
    while i < u.len() {
        let mut next = i;
        while matches!(u.at(next as isize), "and" | "then" | "also") {
            next += 1;
        }
        let joined = next > i || u.words[i - 1].comma;
        // Only a part that asks for something itself ends before a new request.
        let last_cut = cuts.last().map_or(0, |&(_, from)| from);
        let asks = (last_cut..i).any(|j| is_action_word(&u, j, catalogue));
        if joined && asks && starts(next) {
            cuts.push((i, next));
            i = next + 1;
            continue;
        }
        i += 1;
    }
    if cuts.is_empty() {
        return vec![request.to_owned()];
    }
    let mut clauses = Vec::new();
    let mut start = 0;
    for (cut, next) in cuts {
        clauses.push(clause_text(&u, start, cut));
        start = next;
    }
    clauses.push(clause_text(&u, start, u.len()));
    clauses.retain(|c| !c.trim().is_empty());
    clauses
}

fn clause_text(u: &Utterance, from: usize, to: usize) -> String {
    u.words[from..to]
        .iter()
        .map(|w| match w.quote {
            Some(q) => format!("\"{}\"", u.quotes[q]),
            None if w.colon => format!("{}:", w.raw),
            None => w.raw.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(',')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_named_in_an_error_is_said_by_its_title_even_when_another_name_starts_it() {
        let catalogue = crate::testing::catalogue();
        let text = for_people(
            "could not read report `x`: not found; BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS lists them",
            &catalogue,
        );
        assert_eq!(
            text,
            "could not read report `x`: not found; ask me to “list commit reports” to see them"
        );
    }
}
