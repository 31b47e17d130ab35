//! Bitbucket Cloud's filter (`q`) and sort (`sort`) query languages, evaluated over JSON items.
//!
//! This follows the "Filter and sort API objects" narrative of the Bitbucket Cloud OpenAPI
//! document, so list endpoints of the sandbox accept exactly the queries clients send to
//! Bitbucket Cloud:
//!
//! ```text
//! query      := or_expr END
//! or_expr    := and_expr ( OR and_expr )*                 -- AND binds tighter than OR
//! and_expr   := term ( AND term )*
//! term       := "(" or_expr ")" | comparison              -- at most 64 nested parentheses
//! comparison := field op value
//!             | field IN list | field NOT IN list
//! op         := "=" | "!=" | "~" | "!~" | ">" | ">=" | "<" | "<="
//! list       := "(" value ( "," value )* ")"
//! field      := segment ( "." segment )*                 -- segment: [A-Za-z_][A-Za-z0-9_]*
//! value      := string | number | datetime | null | true | false
//! string     := '"' ( any char but '"' or '\' | '\"' | '\\' )* '"'
//! number     := "-"? digits ( "." digits )? ( [eE] [+-]? digits )?
//! datetime   := YYYY-MM-DD ( "T" hh:mm ( ":" ss ( "." fraction )? )? ( "Z" | ±hh:mm )? )?
//! ```
//!
//! Keywords (`AND`, `OR`, `IN`, `NOT`, `null`, `true`, `false`) are case-insensitive: the
//! narrative's own examples mix `AND` and `and`. A datetime without an offset is UTC.
//!
//! Semantics, on a `serde_json::Value` item:
//! - A dotted field is resolved through objects; a missing key is `null`. Arrays met on the
//!   way (or at the end) are fanned out, so `reviewers.nickname = "bob"` holds when any reviewer
//!   is bob (the narrative's pull-request example relies on this). An empty array is `null`,
//!   like the outer join Bitbucket's database does.
//! - `=` is type-aware: string/string exactly, number/number numerically, datetime literal
//!   against a string that parses as a datetime by instant, `null`, booleans.
//! - `~` is a case-insensitive substring test on strings.
//! - `>`, `>=`, `<`, `<=` compare numbers numerically, datetimes chronologically (also two
//!   quoted strings that both parse as datetimes), other strings lexicographically; any other
//!   pairing is false.
//! - The negated operators `!=`, `!~` and `NOT IN` are exactly the negation of `=`, `~` and
//!   `IN`. So `reviewers.nickname != "bob"` means "bob is not a reviewer", and a missing field
//!   is `!=` any non-null value, as with Django's `exclude()` behind Bitbucket.
//!
//! Sorting uses the same ordering. Values are grouped by type when a field mixes types, and
//! `null`/missing sorts last ascending and first descending (PostgreSQL's default, which is
//! what Bitbucket answers with). [`Collation`] lets an endpoint opt into Bitbucket's special
//! orders: ranked enums (issue `priority`) and natural order (ref `name`).

use std::cmp::{Ordering, Reverse};
use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

/// Longest `q` or `sort` accepted, in characters; longer input is rejected before parsing so a
/// hostile query cannot cost more than a bounded amount of work.
pub const MAX_QUERY_CHARS: usize = 4096;

/// Deepest parenthesis nesting accepted; the parser is recursive, so this bounds its stack use.
pub const MAX_NESTING: usize = 64;

/// Which query parameter an error is about, so the 400 message names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// The filter parameter `q`.
    Q,
    /// The sort parameter `sort`.
    Sort,
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Param::Q => "q",
            Param::Sort => "sort",
        })
    }
}

/// A rejected `q` or `sort`; the sandbox answers 400 with its message.
///
/// Positions are 0-based character offsets into the parameter's (URL-decoded) value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The parameter holds nothing but whitespace.
    #[error("invalid `{param}`: the expression is empty")]
    Empty { param: Param },
    /// The parameter is longer than [`MAX_QUERY_CHARS`].
    #[error("invalid `{param}`: the expression is longer than {max} characters")]
    TooLong { param: Param, max: usize },
    /// Parentheses nest deeper than [`MAX_NESTING`].
    #[error("invalid `q`: parentheses are nested deeper than {max} levels at position {position}")]
    TooDeep { max: usize, position: usize },
    /// Anything else that does not follow the grammar.
    #[error("invalid `{param}`: {message} at position {position}")]
    Syntax {
        param: Param,
        message: String,
        position: usize,
    },
    /// A well-formed field the endpoint does not know (see [`Filter::check_fields`]).
    #[error("invalid `{param}`: invalid field `{field}` at position {position}")]
    UnknownField {
        param: Param,
        field: String,
        position: usize,
    },
}

impl QueryError {
    /// The parameter the error is about.
    pub fn param(&self) -> Param {
        match self {
            QueryError::TooDeep { .. } => Param::Q,
            QueryError::Empty { param }
            | QueryError::TooLong { param, .. }
            | QueryError::Syntax { param, .. }
            | QueryError::UnknownField { param, .. } => *param,
        }
    }

    /// Where in the parameter the problem is, when it is at one place.
    pub fn position(&self) -> Option<usize> {
        match self {
            QueryError::Empty { .. } | QueryError::TooLong { .. } => None,
            QueryError::TooDeep { position, .. }
            | QueryError::Syntax { position, .. }
            | QueryError::UnknownField { position, .. } => Some(*position),
        }
    }
}

fn syntax(param: Param, message: impl Into<String>, position: usize) -> QueryError {
    QueryError::Syntax {
        param,
        message: message.into(),
        position,
    }
}

/// Rejects over-long or blank input; shared by `q` and `sort`.
fn check_size(input: &str, param: Param, max_chars: usize) -> Result<(), QueryError> {
    if input.chars().nth(max_chars).is_some() {
        return Err(QueryError::TooLong {
            param,
            max: max_chars,
        });
    }
    if input.trim().is_empty() {
        return Err(QueryError::Empty { param });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Collation: per-field ordering rules some Bitbucket endpoints use.
// ---------------------------------------------------------------------------------------------

/// Per-field ordering overrides for filter comparisons and sorting.
///
/// Bitbucket orders some fields specially: refs, branches and tags sort `name` naturally
/// (`1.2` before `1.10`, per the OpenAPI parameter docs), and enum fields such as issue
/// `priority` have a meaningful rank (`priority >= "major"` in the narrative). The default
/// collation has no overrides.
///
/// ```
/// use bitbucket_sandbox::query::{Collation, Filter, Sort};
/// use serde_json::json;
///
/// let issues = Collation::new().rank("priority", &["trivial", "minor", "major", "critical", "blocker"]);
/// let filter = Filter::parse(r#"priority >= "major""#)?;
/// assert!(filter.matches_with(&json!({"priority": "critical"}), &issues));
///
/// let refs = Collation::new().natural("name");
/// let mut names = vec![json!({"name": "1.10"}), json!({"name": "1.2"})];
/// Sort::parse("name")?.apply_with(&mut names, &refs);
/// assert_eq!(names[0]["name"], "1.2");
/// # Ok::<(), bitbucket_sandbox::query::QueryError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collation {
    ranks: Vec<(String, Vec<String>)>,
    natural: Vec<String>,
}

impl Collation {
    /// No overrides: plain numeric / chronological / lexicographic order.
    pub const fn new() -> Collation {
        Collation {
            ranks: Vec::new(),
            natural: Vec::new(),
        }
    }

    /// Orders string values of `field` by their index in `order` (lowest first); strings not
    /// in `order` fall back to the default string order.
    pub fn rank(mut self, field: &str, order: &[&str]) -> Collation {
        self.ranks.push((
            field.to_owned(),
            order.iter().map(|s| (*s).to_owned()).collect(),
        ));
        self
    }

    /// Orders string values of `field` naturally: digit runs compare as numbers.
    pub fn natural(mut self, field: &str) -> Collation {
        self.natural.push(field.to_owned());
        self
    }

    fn rank_of(&self, field: &str, value: &str) -> Option<usize> {
        let (_, order) = self.ranks.iter().find(|(f, _)| f == field)?;
        order.iter().position(|v| v == value)
    }

    fn is_ranked(&self, field: &str) -> bool {
        self.ranks.iter().any(|(f, _)| f == field)
    }

    fn is_natural(&self, field: &str) -> bool {
        self.natural.iter().any(|f| f == field)
    }

    /// Orders two strings of `field` the way a filter's `<`/`>` does.
    fn compare_str(&self, field: &str, a: &str, b: &str) -> Ordering {
        if let (Some(x), Some(y)) = (self.rank_of(field, a), self.rank_of(field, b)) {
            return x.cmp(&y);
        }
        if self.is_natural(field) {
            return (natural_key(a), a).cmp(&(natural_key(b), b));
        }
        if let (Some(x), Some(y)) = (parse_datetime(a), parse_datetime(b)) {
            return x.cmp(&y);
        }
        a.cmp(b)
    }
}

// ---------------------------------------------------------------------------------------------
// Values: literals, numbers, datetimes, path resolution.
// ---------------------------------------------------------------------------------------------

/// A number literal or JSON number. Integers stay exact so large ids compare correctly.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    fn of(value: &Value) -> Option<Num> {
        let n = value.as_number()?;
        if let Some(i) = n.as_i64() {
            Some(Num::Int(i128::from(i)))
        } else if let Some(u) = n.as_u64() {
            Some(Num::Int(i128::from(u)))
        } else {
            n.as_f64().map(Num::Float)
        }
    }

    /// Mixed int/float comparisons go through `f64`, approximate by nature.
    fn approx(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    fn compare(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.approx().partial_cmp(&b.approx()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Null,
    Bool(bool),
    Num(Num),
    Str(String),
    DateTime(OffsetDateTime),
}

/// `JSON null` stands in for missing fields so resolution can hand out references.
static NULL: Value = Value::Null;

/// Every value a dotted path reaches in `item`, fanning out over arrays; never empty.
fn resolve<'a>(item: &'a Value, path: &[String]) -> Vec<&'a Value> {
    let mut out = Vec::new();
    collect(item, path, &mut out);
    if out.is_empty() {
        out.push(&NULL);
    }
    out
}

fn collect<'a>(value: &'a Value, path: &[String], out: &mut Vec<&'a Value>) {
    if let Value::Array(elements) = value {
        // An empty array behaves like SQL's outer join against no rows: a single null.
        if elements.is_empty() {
            out.push(&NULL);
        }
        for element in elements {
            collect(element, path, out);
        }
        return;
    }
    match path.split_first() {
        None => out.push(value),
        Some((head, rest)) => match value.get(head.as_str()) {
            Some(child) => collect(child, rest, out),
            None => out.push(&NULL),
        },
    }
}

fn equals(value: &Value, literal: &Literal) -> bool {
    match literal {
        Literal::Null => value.is_null(),
        Literal::Bool(b) => value.as_bool() == Some(*b),
        Literal::Num(n) => Num::of(value).and_then(|v| v.compare(*n)) == Some(Ordering::Equal),
        Literal::Str(s) => value.as_str() == Some(s.as_str()),
        Literal::DateTime(dt) => value.as_str().and_then(parse_datetime) == Some(*dt),
    }
}

/// How `value` orders against `literal`, or `None` when they are not comparable.
fn compare(
    value: &Value,
    literal: &Literal,
    field: &str,
    collation: &Collation,
) -> Option<Ordering> {
    match literal {
        Literal::Num(n) => Num::of(value)?.compare(*n),
        Literal::DateTime(dt) => Some(parse_datetime(value.as_str()?)?.cmp(dt)),
        Literal::Str(s) => Some(collation.compare_str(field, value.as_str()?, s)),
        Literal::Null | Literal::Bool(_) => None,
    }
}

/// Parses `YYYY-MM-DD[(T|t| )hh:mm[:ss[.frac]][Z|±hh[:mm]]]`; no offset means UTC.
///
/// Hand-written rather than `time`'s RFC 3339 parser because Bitbucket accepts partial forms
/// (date only, no seconds, no offset) that RFC 3339 does not.
fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    if b.len() == 10 {
        return Some(date.midnight().assume_utc());
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let mut i = 16;
    let (mut second, mut nanos) = (0, 0);
    if b.get(i) == Some(&b':') {
        second = digits(b, i + 1, 2)?;
        i += 3;
        if matches!(b.get(i), Some(b'.' | b',')) {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
            // Nanosecond precision: keep the first nine digits, right-padded with zeros.
            for k in 0..9 {
                let d = match b.get(start + k) {
                    Some(c) if start + k < i => u32::from(c - b'0'),
                    _ => 0,
                };
                nanos = nanos * 10 + d;
            }
        }
    }
    let time = Time::from_hms_nano(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        nanos,
    )
    .ok()?;
    let offset = match b.get(i) {
        None => UtcOffset::UTC,
        Some(b'Z' | b'z') => {
            i += 1;
            UtcOffset::UTC
        }
        Some(&sign @ (b'+' | b'-')) => {
            let hours = i8::try_from(digits(b, i + 1, 2)?).ok()?;
            i += 3;
            let minutes = if b.get(i) == Some(&b':') {
                i += 3;
                digits(b, i - 2, 2)?
            } else if b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 2;
                digits(b, i - 2, 2)?
            } else {
                0
            };
            let minutes = i8::try_from(minutes).ok()?;
            let (hours, minutes) = if sign == b'-' {
                (-hours, -minutes)
            } else {
                (hours, minutes)
            };
            UtcOffset::from_hms(hours, minutes, 0).ok()?
        }
        Some(_) => return None,
    };
    if i != b.len() {
        return None;
    }
    Some(date.with_time(time).assume_offset(offset))
}

/// The decimal value of exactly `n` ASCII digits at `at`.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let slice = b.get(at..at.checked_add(n)?)?;
    slice.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Checks the number grammar before handing the text to Rust's parsers, which also accept
/// `inf`, `NaN`, `+1` and other forms Bitbucket does not.
fn parse_number(word: &str) -> Option<Num> {
    let b = word.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let run = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !run(&mut i) {
        return None;
    }
    let mut integral = true;
    if b.get(i) == Some(&b'.') {
        i += 1;
        integral = false;
        if !run(&mut i) {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        integral = false;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !run(&mut i) {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    if integral && let Ok(n) = word.parse::<i128>() {
        return Some(Num::Int(n));
    }
    word.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Num::Float)
}

// ---------------------------------------------------------------------------------------------
// Lexer.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Op(String),
    Str(String),
    /// A run of non-delimiter characters: field, keyword, number, datetime or garbage. The
    /// parser decides which from context, which keeps datetimes like `2015-03-04T14:00:00-07:00`
    /// a single token.
    Word(String),
    End,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: usize,
}

const OPERATORS: [&str; 8] = ["=", "!=", "~", "!~", ">", ">=", "<", "<="];

fn is_op_char(c: char) -> bool {
    matches!(c, '=' | '!' | '~' | '<' | '>')
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || is_op_char(c) || matches!(c, '(' | ')' | ',' | '"')
}

fn lex(chars: &[char]) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '"' => {
                i += 1;
                let mut s = String::new();
                loop {
                    match chars.get(i) {
                        None => return Err(syntax(Param::Q, "unterminated string", start)),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') => match chars.get(i + 1) {
                            Some(&e @ ('"' | '\\')) => {
                                s.push(e);
                                i += 2;
                            }
                            Some(e) => {
                                return Err(syntax(
                                    Param::Q,
                                    format!("unknown escape `\\{e}` in string"),
                                    i,
                                ));
                            }
                            None => return Err(syntax(Param::Q, "unterminated string", start)),
                        },
                        Some(&other) => {
                            s.push(other);
                            i += 1;
                        }
                    }
                }
                Tok::Str(s)
            }
            c if is_op_char(c) => {
                // Read the whole operator-character run so `==` or `=>` is reported as one
                // unknown operator instead of a confusing "expected a value" later.
                while chars.get(i).is_some_and(|&c| is_op_char(c)) {
                    i += 1;
                }
                let op: String = chars[start..i].iter().collect();
                if !OPERATORS.contains(&op.as_str()) {
                    return Err(syntax(Param::Q, format!("unknown operator `{op}`"), start));
                }
                Tok::Op(op)
            }
            _ => {
                while chars.get(i).is_some_and(|&c| !is_delimiter(c)) {
                    i += 1;
                }
                Tok::Word(chars[start..i].iter().collect())
            }
        };
        tokens.push(Token { tok, pos: start });
    }
    tokens.push(Token {
        tok: Tok::End,
        pos: chars.len(),
    });
    Ok(tokens)
}

/// How a token is named in error messages; long text is shortened to keep messages readable.
fn describe(tok: &Tok) -> String {
    fn short(s: &str) -> String {
        const MAX: usize = 40;
        if s.chars().count() > MAX {
            format!("{}…", s.chars().take(MAX).collect::<String>())
        } else {
            s.to_owned()
        }
    }
    match tok {
        Tok::LParen => "`(`".to_owned(),
        Tok::RParen => "`)`".to_owned(),
        Tok::Comma => "`,`".to_owned(),
        Tok::Op(op) => format!("`{op}`"),
        Tok::Str(s) => format!("string \"{}\"", short(s)),
        Tok::Word(w) => format!("`{}`", short(w)),
        Tok::End => "end of input".to_owned(),
    }
}

fn is_keyword(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

fn is_reserved(word: &str) -> bool {
    ["and", "or", "in", "not", "null", "true", "false"]
        .iter()
        .any(|k| is_keyword(word, k))
}

/// Splits a dotted field into segments, or says what is wrong with it and where.
fn parse_path(word: &str, start: usize, param: Param) -> Result<Vec<String>, QueryError> {
    let mut segments = Vec::new();
    let mut pos = start;
    for segment in word.split('.') {
        // Bad characters first: `'state'` is better reported as a stray quote than as a
        // segment with a bad first letter.
        if let Some((k, bad)) = segment
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        {
            return Err(syntax(
                param,
                format!("invalid character `{bad}` in field name `{word}`"),
                pos + k,
            ));
        }
        match segment.chars().next() {
            None => {
                return Err(syntax(
                    param,
                    format!("empty segment in field name `{word}`"),
                    pos,
                ));
            }
            Some(c) if c.is_ascii_digit() => {
                return Err(syntax(
                    param,
                    format!(
                        "invalid field name `{word}`: each segment must start with a letter or `_`"
                    ),
                    pos,
                ));
            }
            Some(_) => {}
        }
        pos += segment.chars().count() + 1;
        segments.push(segment.to_owned());
    }
    Ok(segments)
}

// ---------------------------------------------------------------------------------------------
// Filter.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrderOp {
    Gt,
    Ge,
    Lt,
    Le,
}

impl OrderOp {
    fn accepts(self, ordering: Ordering) -> bool {
        match self {
            OrderOp::Gt => ordering == Ordering::Greater,
            OrderOp::Ge => ordering != Ordering::Less,
            OrderOp::Lt => ordering == Ordering::Less,
            OrderOp::Le => ordering != Ordering::Greater,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Eq(Literal),
    Ne(Literal),
    /// Needle already lowercased.
    Contains(String),
    NotContains(String),
    Order(OrderOp, Literal),
    In(Vec<Literal>),
    NotIn(Vec<Literal>),
}

#[derive(Debug, Clone, PartialEq)]
struct Comparison {
    path: Vec<String>,
    field: String,
    position: usize,
    test: Test,
}

impl Comparison {
    fn eval(&self, item: &Value, collation: &Collation) -> bool {
        let values = resolve(item, &self.path);
        let contains = |needle: &str| {
            values.iter().any(|v| {
                v.as_str()
                    .is_some_and(|s| s.to_lowercase().contains(needle))
            })
        };
        let any_in = |list: &[Literal]| values.iter().any(|v| list.iter().any(|l| equals(v, l)));
        match &self.test {
            Test::Eq(l) => values.iter().any(|v| equals(v, l)),
            Test::Ne(l) => !values.iter().any(|v| equals(v, l)),
            Test::Contains(needle) => contains(needle),
            Test::NotContains(needle) => !contains(needle),
            Test::Order(op, l) => values
                .iter()
                .any(|v| compare(v, l, &self.field, collation).is_some_and(|o| op.accepts(o))),
            Test::In(list) => any_in(list),
            Test::NotIn(list) => !any_in(list),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cmp(Comparison),
}

impl Expr {
    // Recursion depth is bounded by MAX_NESTING: AND/OR chains are flat vectors.
    fn eval(&self, item: &Value, collation: &Collation) -> bool {
        match self {
            Expr::Or(terms) => terms.iter().any(|t| t.eval(item, collation)),
            Expr::And(terms) => terms.iter().all(|t| t.eval(item, collation)),
            Expr::Cmp(c) => c.eval(item, collation),
        }
    }

    fn comparisons<'a>(&'a self, out: &mut Vec<&'a Comparison>) {
        match self {
            Expr::Or(terms) | Expr::And(terms) => {
                for t in terms {
                    t.comparisons(out);
                }
            }
            Expr::Cmp(c) => out.push(c),
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
    max_depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with `End`, and `advance` never moves past it.
        &self.tokens[self.next.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.next < self.tokens.len() - 1 {
            self.next += 1;
        }
        token
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(&self.peek().tok, Tok::Word(w) if is_keyword(w, keyword))
    }

    fn unexpected(&self, expected: &str) -> QueryError {
        let token = self.peek();
        syntax(
            Param::Q,
            format!("expected {expected}, found {}", describe(&token.tok)),
            token.pos,
        )
    }

    /// `context` says what came before the expression, for error messages.
    fn or_expr(&mut self, context: &str) -> Result<Expr, QueryError> {
        let first = self.and_expr(context)?;
        if !self.peek_keyword("or") {
            return Ok(first);
        }
        let mut terms = vec![first];
        while self.peek_keyword("or") {
            let keyword = self.advance();
            terms.push(self.and_expr(&format!(" after {}", describe(&keyword.tok)))?);
        }
        Ok(Expr::Or(terms))
    }

    fn and_expr(&mut self, context: &str) -> Result<Expr, QueryError> {
        let first = self.term(context)?;
        if !self.peek_keyword("and") {
            return Ok(first);
        }
        let mut terms = vec![first];
        while self.peek_keyword("and") {
            let keyword = self.advance();
            terms.push(self.term(&format!(" after {}", describe(&keyword.tok)))?);
        }
        Ok(Expr::And(terms))
    }

    fn term(&mut self, context: &str) -> Result<Expr, QueryError> {
        let token = self.peek().clone();
        match &token.tok {
            Tok::LParen => {
                if self.depth >= self.max_depth {
                    return Err(QueryError::TooDeep {
                        max: self.max_depth,
                        position: token.pos,
                    });
                }
                self.depth += 1;
                self.advance();
                let inner = self.or_expr(" after `(`")?;
                match self.peek().tok {
                    Tok::RParen => {
                        self.advance();
                    }
                    Tok::End => {
                        return Err(self.unexpected(&format!(
                            "`)` to close the `(` at position {}",
                            token.pos
                        )));
                    }
                    _ => return Err(self.unexpected("`AND`, `OR` or `)`")),
                }
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Word(word) if !is_reserved(word) => {
                self.advance();
                self.comparison(word, token.pos).map(Expr::Cmp)
            }
            _ => Err(self.unexpected(&format!("a field name or `(`{context}"))),
        }
    }

    fn comparison(&mut self, field: &str, position: usize) -> Result<Comparison, QueryError> {
        let path = parse_path(field, position, Param::Q)?;
        let token = self.advance();
        let test = match &token.tok {
            Tok::Op(op) => {
                let value_token = self.peek().clone();
                let value = self.value(&format!("a value after `{op}`"))?;
                let needs = |what: &str| {
                    syntax(
                        Param::Q,
                        format!("`{op}` needs {what}, found {}", describe(&value_token.tok)),
                        value_token.pos,
                    )
                };
                match (op.as_str(), value) {
                    ("=", v) => Test::Eq(v),
                    ("!=", v) => Test::Ne(v),
                    ("~", Literal::Str(s)) => Test::Contains(s.to_lowercase()),
                    ("!~", Literal::Str(s)) => Test::NotContains(s.to_lowercase()),
                    ("~" | "!~", _) => return Err(needs("a string")),
                    (_, Literal::Null | Literal::Bool(_)) => {
                        return Err(needs("a string, number or datetime"));
                    }
                    (">", v) => Test::Order(OrderOp::Gt, v),
                    (">=", v) => Test::Order(OrderOp::Ge, v),
                    ("<", v) => Test::Order(OrderOp::Lt, v),
                    // The lexer only produces the eight known operators; "<=" is the last.
                    (_, v) => Test::Order(OrderOp::Le, v),
                }
            }
            Tok::Word(w) if is_keyword(w, "in") => Test::In(self.list("`IN`")?),
            Tok::Word(w) if is_keyword(w, "not") => {
                if !self.peek_keyword("in") {
                    return Err(self.unexpected("`IN` after `NOT`"));
                }
                self.advance();
                Test::NotIn(self.list("`NOT IN`")?)
            }
            other => {
                return Err(syntax(
                    Param::Q,
                    format!(
                        "expected an operator after field `{field}`, found {}",
                        describe(other)
                    ),
                    token.pos,
                ));
            }
        };
        Ok(Comparison {
            path,
            field: field.to_owned(),
            position,
            test,
        })
    }

    fn list(&mut self, after: &str) -> Result<Vec<Literal>, QueryError> {
        if self.peek().tok != Tok::LParen {
            return Err(self.unexpected(&format!("a parenthesized list after {after}")));
        }
        self.advance();
        let mut values = vec![self.value("a value")?];
        loop {
            match self.peek().tok {
                Tok::Comma => {
                    self.advance();
                    values.push(self.value("a value after `,`")?);
                }
                Tok::RParen => {
                    self.advance();
                    return Ok(values);
                }
                _ => return Err(self.unexpected("`,` or `)` in list")),
            }
        }
    }

    fn value(&mut self, expected: &str) -> Result<Literal, QueryError> {
        let token = self.peek().clone();
        let literal = match &token.tok {
            Tok::Str(s) => Literal::Str(s.clone()),
            Tok::Word(w) if is_keyword(w, "null") => Literal::Null,
            Tok::Word(w) if is_keyword(w, "true") => Literal::Bool(true),
            Tok::Word(w) if is_keyword(w, "false") => Literal::Bool(false),
            Tok::Word(w) if !is_reserved(w) => {
                if let Some(n) = parse_number(w) {
                    Literal::Num(n)
                } else if let Some(dt) = parse_datetime(w) {
                    Literal::DateTime(dt)
                } else if w.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                    return Err(syntax(
                        Param::Q,
                        format!("invalid number or datetime {}", describe(&token.tok)),
                        token.pos,
                    ));
                } else {
                    return Err(syntax(
                        Param::Q,
                        format!(
                            "invalid value {} (strings must be double-quoted)",
                            describe(&token.tok)
                        ),
                        token.pos,
                    ));
                }
            }
            _ => return Err(self.unexpected(expected)),
        };
        self.advance();
        Ok(literal)
    }
}

/// A parsed `q` filter expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    expr: Expr,
}

impl Filter {
    /// Parses a `q` value (already URL-decoded).
    pub fn parse(input: &str) -> Result<Filter, QueryError> {
        Filter::parse_limited(input, MAX_QUERY_CHARS, MAX_NESTING)
    }

    fn parse_limited(
        input: &str,
        max_chars: usize,
        max_depth: usize,
    ) -> Result<Filter, QueryError> {
        check_size(input, Param::Q, max_chars)?;
        let chars: Vec<char> = input.chars().collect();
        let mut parser = Parser {
            tokens: lex(&chars)?,
            next: 0,
            depth: 0,
            max_depth,
        };
        let expr = parser.or_expr("")?;
        match parser.peek().tok {
            Tok::End => Ok(Filter { expr }),
            Tok::RParen => Err(syntax(Param::Q, "unbalanced `)`", parser.peek().pos)),
            _ => Err(parser.unexpected("`AND`, `OR` or end of input")),
        }
    }

    /// Whether `item` passes the filter, with default ordering rules.
    pub fn matches(&self, item: &Value) -> bool {
        self.expr.eval(item, &Collation::new())
    }

    /// Whether `item` passes the filter, ordering strings with `collation`'s field rules.
    pub fn matches_with(&self, item: &Value, collation: &Collation) -> bool {
        self.expr.eval(item, collation)
    }

    /// The dotted fields the filter uses, each once, in order of first use.
    pub fn fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = Vec::new();
        for c in self.comparisons() {
            if !fields.contains(&c.field) {
                fields.push(c.field.clone());
            }
        }
        fields
    }

    /// Rejects the first field `known` refuses, with its position, so an endpoint can answer
    /// 400 "invalid field" like Bitbucket instead of silently matching nothing.
    pub fn check_fields(&self, known: impl Fn(&str) -> bool) -> Result<(), QueryError> {
        match self.comparisons().into_iter().find(|c| !known(&c.field)) {
            Some(c) => Err(QueryError::UnknownField {
                param: Param::Q,
                field: c.field.clone(),
                position: c.position,
            }),
            None => Ok(()),
        }
    }

    fn comparisons(&self) -> Vec<&Comparison> {
        let mut out = Vec::new();
        self.expr.comparisons(&mut out);
        out
    }
}

impl FromStr for Filter {
    type Err = QueryError;

    fn from_str(input: &str) -> Result<Filter, QueryError> {
        Filter::parse(input)
    }
}

// ---------------------------------------------------------------------------------------------
// Sort.
// ---------------------------------------------------------------------------------------------

/// A parsed `sort` value: one dotted field, ascending unless prefixed with `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub path: Vec<String>,
    pub descending: bool,
}

impl Sort {
    /// Parses a `sort` value (already URL-decoded), e.g. `-updated_on`.
    pub fn parse(input: &str) -> Result<Sort, QueryError> {
        check_size(input, Param::Sort, MAX_QUERY_CHARS)?;
        let leading = input.chars().take_while(|c| c.is_whitespace()).count();
        let trimmed = input.trim();
        let (descending, field, position) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest, leading + 1),
            None => (false, trimmed, leading),
        };
        if field.is_empty() {
            return Err(syntax(
                Param::Sort,
                "expected a field name after `-`",
                position,
            ));
        }
        if let Some(k) = field.chars().position(|c| c == ',') {
            // Compound sorts are explicitly unsupported by Bitbucket.
            return Err(syntax(
                Param::Sort,
                "only one sort field is supported",
                position + k,
            ));
        }
        let path = parse_path(field, position, Param::Sort)?;
        Ok(Sort { path, descending })
    }

    /// The dotted field sorted on, without the `-`.
    pub fn field(&self) -> String {
        self.path.join(".")
    }

    /// Rejects a field `known` refuses, like [`Filter::check_fields`].
    pub fn check_field(&self, known: impl Fn(&str) -> bool) -> Result<(), QueryError> {
        let field = self.field();
        if known(&field) {
            Ok(())
        } else {
            Err(QueryError::UnknownField {
                param: Param::Sort,
                field,
                position: usize::from(self.descending),
            })
        }
    }

    /// Sorts `items` stably with default ordering rules.
    pub fn apply(&self, items: &mut [Value]) {
        self.apply_with(items, &Collation::new());
    }

    /// Sorts `items` stably, ordering strings with `collation`'s field rules.
    pub fn apply_with(&self, items: &mut [Value], collation: &Collation) {
        let field = self.field();
        // Keys are computed once per item; both `sort_by_cached_key` and `Reverse` keep equal
        // items in their original order.
        let key = |item: &Value| {
            let values = resolve(item, &self.path);
            sort_key(values.first().copied().unwrap_or(&NULL), &field, collation)
        };
        if self.descending {
            items.sort_by_cached_key(|item| Reverse(key(item)));
        } else {
            items.sort_by_cached_key(key);
        }
    }
}

impl FromStr for Sort {
    type Err = QueryError;

    fn from_str(input: &str) -> Result<Sort, QueryError> {
        Sort::parse(input)
    }
}

/// A number's sort key. Ordered by the float approximation with `total_cmp`, then exact
/// integer, so the order is total (sorting with an inconsistent order may panic).
#[derive(Debug, Clone, Copy)]
struct NumKey(Num);

impl NumKey {
    /// Breaks ties between values whose float approximations are equal: at magnitudes where
    /// an integer rounds to a float, that float is itself an integer, so compare exactly.
    #[allow(clippy::cast_possible_truncation)] // Guarded by the range check.
    fn tiebreak(self) -> (i128, bool) {
        match self.0 {
            Num::Int(i) => (i, false),
            Num::Float(f) if f.fract() == 0.0 && f.abs() < 1e38 => (f as i128, true),
            Num::Float(_) => (0, true),
        }
    }
}

impl Ord for NumKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .approx()
            .total_cmp(&other.0.approx())
            .then_with(|| self.tiebreak().cmp(&other.tiebreak()))
    }
}

impl PartialOrd for NumKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NumKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NumKey {}

/// A piece of a natural-order key: digit runs compare by value (length of the run without
/// leading zeros, then digits), before any text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Chunk {
    Digits(usize, String),
    Text(String),
}

fn natural_key(s: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut rest = s;
    while let Some(first) = rest.chars().next() {
        let is_digit = first.is_ascii_digit();
        let end = rest
            .find(|c: char| c.is_ascii_digit() != is_digit)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        chunks.push(if is_digit {
            let value = run.trim_start_matches('0');
            Chunk::Digits(value.len(), value.to_owned())
        } else {
            Chunk::Text(run.to_owned())
        });
        rest = tail;
    }
    chunks
}

/// Sort key of one value. Variant order groups mixed types; `Null` is last so missing values
/// sort last ascending.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Bool(bool),
    Num(NumKey),
    Time(OffsetDateTime),
    Rank(usize),
    /// Natural key plus the string itself, so `01` and `1` still have a defined order.
    Natural(Vec<Chunk>, String),
    Text(String),
    Other,
    Null,
}

fn sort_key(value: &Value, field: &str, collation: &Collation) -> SortKey {
    match value {
        Value::Null => SortKey::Null,
        Value::Bool(b) => SortKey::Bool(*b),
        Value::Number(_) => Num::of(value).map_or(SortKey::Other, |n| SortKey::Num(NumKey(n))),
        Value::String(s) => {
            if let Some(rank) = collation.rank_of(field, s) {
                SortKey::Rank(rank)
            } else if collation.is_natural(field) {
                SortKey::Natural(natural_key(s), s.clone())
            } else if let Some(dt) = parse_datetime(s).filter(|_| !collation.is_ranked(field)) {
                SortKey::Time(dt)
            } else {
                SortKey::Text(s.clone())
            }
        }
        Value::Array(_) | Value::Object(_) => SortKey::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pr() -> Value {
        json!({
            "id": 42,
            "title": "Fix Unicode handling",
            "state": "OPEN",
            "priority": "major",
            "author": {"nickname": "evzijst", "display_name": "Erik van Zijst"},
            "source": {
                "branch": {"name": "feature/x"},
                "repository": {"full_name": "fork/repo"}
            },
            "destination": {"branch": {"name": "master"}},
            "reviewers": [{"nickname": "bob"}, {"nickname": "alice"}],
            "participants": [],
            "labels": ["ui", "backend"],
            "assignee": null,
            "is_private": true,
            "has_wiki": false,
            "size": 1024.5,
            "score": -3,
            "big": 9_007_199_254_740_993_u64,
            "created_on": "2015-10-04T21:30:00.123456+00:00",
            "content": {"raw": "Handles UNICODE now"},
            "version": "1.10"
        })
    }

    #[test]
    fn filter_table() {
        let item = pr();
        let cases: &[(&str, bool)] = &[
            // = and != on strings, exact and case-sensitive.
            (r#"state = "OPEN""#, true),
            (r#"state = "open""#, false),
            (r#"state != "OPEN""#, false),
            (r#"state != "MERGED""#, true),
            (r#"state="OPEN""#, true),
            // Dotted paths.
            (r#"author.nickname = "evzijst""#, true),
            (r#"source.branch.name = "feature/x""#, true),
            (r#"source.repository.full_name != "main/repo""#, true),
            (r#"destination.branch.name = "master""#, true),
            // Missing fields are null.
            ("nope = null", true),
            ("author.nope.deeper = null", true),
            (r#"nope = "x""#, false),
            (r#"nope != "x""#, true),
            ("nope > 1", false),
            (r#"nope ~ "x""#, false),
            (r#"nope !~ "x""#, true),
            ("title.sub = null", true),
            // null and booleans.
            ("assignee = null", true),
            ("assignee != null", false),
            ("author != null", true),
            ("author = null", false),
            ("is_private = true", true),
            ("is_private != true", false),
            ("is_private = false", false),
            ("has_wiki = false", true),
            ("is_private = TRUE", true),
            ("assignee = NULL", true),
            (r#"is_private = "true""#, false),
            // Numbers.
            ("id = 42", true),
            ("id = 42.0", true),
            ("id != 42", false),
            ("id > 41", true),
            ("id > 42", false),
            ("id >= 42", true),
            ("id < 1234", true),
            ("id <= 41.9", false),
            ("id = 4.2e1", true),
            ("size > 1024", true),
            ("size = 1024.5", true),
            ("score = -3", true),
            ("score < -2.5", true),
            ("score > -3", false),
            ("big = 9007199254740993", true),
            ("big > 9007199254740992", true),
            (r#"id = "42""#, false),
            (r#"id > "4""#, false),
            // ~ and !~ are case-insensitive substring tests.
            (r#"title ~ "unicode""#, true),
            (r#"title ~ "UNICODE""#, true),
            (r#"content.raw ~ "unicode""#, true),
            (r#"title ~ "ascii""#, false),
            (r#"title !~ "ascii""#, true),
            (r#"title !~ "fix""#, false),
            (r#"title ~ """#, true),
            (r#"id ~ "4""#, false),
            // Strings order lexicographically.
            (r#"state > "MERGED""#, true),
            (r#"state < "MERGED""#, false),
            (r#"state >= "OPEN""#, true),
            (r#"version > "1.9""#, false),
            // Datetimes: unquoted literals, partial forms, offsets, quoted strings.
            ("created_on > 2015-10-04T14:00:00-07:00", true),
            ("created_on > 2015-10-04T21:30:00Z", true),
            ("created_on < 2015-10-04T21:30:01Z", true),
            ("created_on > 2015-10-04", true),
            ("created_on < 2015-10-05", true),
            ("created_on <= 2015-03-04", false),
            ("created_on >= 2015-10-04T21:30", true),
            ("created_on > 2015-10-04T23:00:00+02:00", true),
            ("created_on > 2015-10-04T23:00:00+0200", true),
            ("created_on = 2015-10-04T21:30:00.123456Z", true),
            ("created_on = 2015-10-04T23:30:00.123456+02:00", true),
            ("created_on != 2015-10-04T21:30:00.123456Z", false),
            ("created_on = 2015-10-04", false),
            (r#"created_on > "2015-10-04T22:00:00+02:00""#, true),
            (r#"created_on < "2015-10-04T23:00:00+02:00""#, false),
            ("title > 2015-01-01", false),
            ("id > 2015-01-01", false),
            // AND binds tighter than OR; parentheses group; keywords in any case.
            (r#"state = "OPEN" AND id = 42"#, true),
            (r#"state = "OPEN" AND id = 1"#, false),
            (r#"state = "X" OR id = 42"#, true),
            (r#"state = "X" OR id = 1"#, false),
            (r#"state = "X" AND id = 1 OR id = 42"#, true),
            (r#"id = 42 OR state = "X" AND id = 1"#, true),
            (r#"(id = 42 OR state = "X") AND id = 1"#, false),
            (r#"state = "X" AND (id = 1 OR id = 42)"#, false),
            (r#"((state = "OPEN"))"#, true),
            (r#"state = "OPEN" and id = 42"#, true),
            (r#"state = "X" or id = 42"#, true),
            (r#"state = "X" Or id = 42 aNd is_private = true"#, true),
            (
                r#"(state = "OPEN" OR state = "new") AND assignee = null AND id > 1"#,
                true,
            ),
            // IN / NOT IN.
            (r#"state IN ("OPEN", "MERGED")"#, true),
            (r#"state in ("DECLINED", "MERGED")"#, false),
            (r#"state NOT IN ("DECLINED", "MERGED")"#, true),
            (r#"state not in ("OPEN")"#, false),
            ("id IN (1, 42)", true),
            ("assignee IN (null)", true),
            (r#"nope NOT IN ("a")"#, true),
            // Arrays: a comparison holds if it holds for any element.
            (r#"reviewers.nickname = "bob""#, true),
            (r#"reviewers.nickname = "alice""#, true),
            (r#"reviewers.nickname = "carol""#, false),
            (r#"reviewers.nickname != "bob""#, false),
            (r#"reviewers.nickname != "carol""#, true),
            (r#"reviewers.nickname ~ "ALI""#, true),
            (r#"reviewers.nickname IN ("carol", "alice")"#, true),
            (r#"reviewers.nickname NOT IN ("carol", "alice")"#, false),
            (r#"labels = "ui""#, true),
            (r#"labels = "docs""#, false),
            ("participants.nickname = null", true),
            (r#"participants.nickname != "bob""#, true),
            // Whitespace is free-form.
            ("  id\t=\n42  ", true),
            // Escapes in strings.
            (r#"title != "a\"b\\c""#, true),
        ];
        for (q, expected) in cases {
            let filter = Filter::parse(q).unwrap_or_else(|e| panic!("{q:?} failed to parse: {e}"));
            assert_eq!(filter.matches(&item), *expected, "q = {q:?}");
        }
    }

    #[test]
    fn filter_table_custom_items() {
        let cases: &[(&str, Value, bool)] = &[
            (r#"name = "a\"b\\c""#, json!({"name": "a\"b\\c"}), true),
            (r#"name ~ "ÄB""#, json!({"name": "xäbx"}), true),
            ("n = 1", json!({"n": 1.0}), true),
            ("n = null", json!([]), true),
            ("n = null", json!("scalar"), true),
            ("a.b = 1", json!({"a": [{"b": [2, [1]]}]}), true),
            ("a.b = null", json!({"a": [{"b": 1}, {"c": 2}]}), true),
            (
                "when > 2020-01-01",
                json!({"when": "2020-01-01 10:00:00+00:00"}),
                true,
            ),
            ("when > 2020-01-01", json!({"when": "not a date"}), false),
            (
                r#"when > "2020-01-01""#,
                json!({"when": "2020-01-01T00:00:01Z"}),
                true,
            ),
            (r#"when > "b""#, json!({"when": "c"}), true),
        ];
        for (q, item, expected) in cases {
            let filter = Filter::parse(q).unwrap_or_else(|e| panic!("{q:?} failed to parse: {e}"));
            assert_eq!(filter.matches(item), *expected, "q = {q:?}, item = {item}");
        }
    }

    #[test]
    fn collation_ranks_and_natural_order() {
        let issues = Collation::new().rank(
            "priority",
            &["trivial", "minor", "major", "critical", "blocker"],
        );
        let item = json!({"priority": "critical", "name": "1.10"});
        let q = |s: &str| Filter::parse(s).expect("valid filter");
        assert!(q(r#"priority >= "major""#).matches_with(&item, &issues));
        assert!(!q(r#"priority >= "major""#).matches(&item));
        assert!(q(r#"priority < "blocker""#).matches_with(&item, &issues));

        let refs = Collation::new().natural("name");
        assert!(q(r#"name > "1.9""#).matches_with(&item, &refs));
        assert!(!q(r#"name > "1.9""#).matches(&item));

        let mut names: Vec<Value> = ["branch10", "branch2", "1.10", "1.2", "branch1", "1.1"]
            .iter()
            .map(|n| json!({ "name": n }))
            .collect();
        Sort::parse("name")
            .expect("valid sort")
            .apply_with(&mut names, &refs);
        let got: Vec<&str> = names.iter().filter_map(|v| v["name"].as_str()).collect();
        assert_eq!(
            got,
            ["1.1", "1.2", "1.10", "branch1", "branch2", "branch10"]
        );

        let mut issues_list: Vec<Value> = ["minor", "blocker", "trivial", "major"]
            .iter()
            .map(|p| json!({ "priority": p }))
            .collect();
        Sort::parse("-priority")
            .expect("valid sort")
            .apply_with(&mut issues_list, &issues);
        let got: Vec<&str> = issues_list
            .iter()
            .filter_map(|v| v["priority"].as_str())
            .collect();
        assert_eq!(got, ["blocker", "major", "minor", "trivial"]);
    }

    #[test]
    fn invalid_filters() {
        // (input, text the message must contain)
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("   ", "empty"),
            (
                "state =",
                "expected a value after `=`, found end of input at position 7",
            ),
            (
                "state = ",
                "expected a value after `=`, found end of input at position 8",
            ),
            (r#"state = "open"#, "unterminated string at position 8"),
            (r#"state = "a\"#, "unterminated string at position 8"),
            (
                r#"state = "a\n""#,
                "unknown escape `\\n` in string at position 10",
            ),
            (r#"state == "open""#, "unknown operator `==` at position 6"),
            (r#"state => "open""#, "unknown operator `=>` at position 6"),
            (r#"state <> "open""#, "unknown operator `<>`"),
            (r#"state ! "open""#, "unknown operator `!`"),
            (
                r#"state "open""#,
                "expected an operator after field `state`, found string",
            ),
            (
                "state",
                "expected an operator after field `state`, found end of input",
            ),
            (
                r#"state = "a" AND"#,
                "after `AND`, found end of input at position 15",
            ),
            (r#"state = "a" or"#, "after `or`, found end of input"),
            (
                r#"AND state = "a""#,
                "expected a field name or `(`, found `AND` at position 0",
            ),
            (
                r#"state = "a" AND AND id = 1"#,
                "found `AND` at position 16",
            ),
            (
                r#"(state = "a""#,
                "expected `)` to close the `(` at position 0",
            ),
            (r#"((state = "a")"#, "to close the `(` at position 0"),
            (r#"state = "a")"#, "unbalanced `)` at position 11"),
            (
                "()",
                "expected a field name or `(` after `(`, found `)` at position 1",
            ),
            (
                r#"state = "a" id = 1"#,
                "expected `AND`, `OR` or end of input, found `id`",
            ),
            (
                r#"(state = "a" id = 1)"#,
                "expected `AND`, `OR` or `)`, found `id`",
            ),
            (r#"state = "a" "b""#, "found string \"b\""),
            (
                r#"sta$te = "a""#,
                "invalid character `$` in field name `sta$te` at position 3",
            ),
            (
                r#"a..b = "a""#,
                "empty segment in field name `a..b` at position 2",
            ),
            (
                r#".a = "a""#,
                "empty segment in field name `.a` at position 0",
            ),
            (r#"a. = "a""#, "empty segment"),
            (r#"1abc = "a""#, "must start with a letter"),
            (r#"a-b = "a""#, "invalid character `-`"),
            (r#"'state' = "a""#, "invalid character `'`"),
            ("null = 1", "expected a field name or `(`, found `null`"),
            (
                "state = open",
                "invalid value `open` (strings must be double-quoted) at position 8",
            ),
            ("state = 'open'", "strings must be double-quoted"),
            ("state = AND", "expected a value after `=`, found `AND`"),
            ("state = (", "expected a value after `=`, found `(`"),
            ("id = 12abc", "invalid number or datetime `12abc`"),
            ("id = 1.", "invalid number or datetime"),
            ("id = --1", "invalid number or datetime"),
            ("id = 1e999", "invalid number or datetime"),
            ("id = inf", "invalid value `inf`"),
            ("d > 2015-13-01", "invalid number or datetime `2015-13-01`"),
            ("d > 2015-02-30", "invalid number or datetime"),
            ("d > 2015-01-01T25:00", "invalid number or datetime"),
            ("d > 2015-01-01T10:00:00+", "invalid number or datetime"),
            ("d > 2015-01", "invalid number or datetime"),
            ("title ~ 5", "`~` needs a string, found `5` at position 8"),
            ("title !~ null", "`!~` needs a string"),
            ("d ~ 2015-01-01", "`~` needs a string"),
            (
                "id > null",
                "`>` needs a string, number or datetime, found `null`",
            ),
            ("id <= true", "`<=` needs a string, number or datetime"),
            (
                "state IN",
                "expected a parenthesized list after `IN`, found end of input",
            ),
            (
                r#"state IN "a""#,
                "expected a parenthesized list after `IN`",
            ),
            ("state IN ()", "expected a value, found `)`"),
            (
                r#"state IN ("a","#,
                "expected a value after `,`, found end of input",
            ),
            (
                r#"state IN ("a" "b")"#,
                "expected `,` or `)` in list, found string",
            ),
            (
                r#"state IN ("a""#,
                "expected `,` or `)` in list, found end of input",
            ),
            (r#"state NOT ("a")"#, "expected `IN` after `NOT`, found `(`"),
            (r#"state NOT = "a""#, "expected `IN` after `NOT`"),
            (
                r#"NOT state = "a""#,
                "expected a field name or `(`, found `NOT`",
            ),
        ];
        for (q, needle) in cases {
            let err = Filter::parse(q).expect_err(q);
            let message = err.to_string();
            assert!(message.starts_with("invalid `q`: "), "{q:?}: {message}");
            assert!(
                message.contains(needle),
                "{q:?}: {message:?} lacks {needle:?}"
            );
            assert_eq!(err.param(), Param::Q);
            if !matches!(err, QueryError::Empty { .. }) {
                assert!(message.contains("at position"), "{q:?}: {message}");
                assert!(err.position().is_some(), "{q:?}");
            }
        }
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let err = Filter::parse(r#"name = "ü" AND"#).expect_err("dangling AND");
        assert_eq!(err.position(), Some(14));
    }

    #[test]
    fn length_is_capped() {
        let long = format!("title ~ \"{}\"", "a".repeat(MAX_QUERY_CHARS));
        assert!(matches!(
            Filter::parse(&long),
            Err(QueryError::TooLong {
                param: Param::Q,
                max: MAX_QUERY_CHARS
            })
        ));
        let fits = format!("title ~ \"{}\"", "a".repeat(MAX_QUERY_CHARS - 12));
        assert!(Filter::parse(&fits).is_ok());
        assert!(matches!(
            Sort::parse(&"a".repeat(MAX_QUERY_CHARS + 1)),
            Err(QueryError::TooLong {
                param: Param::Sort,
                ..
            })
        ));
    }

    #[test]
    fn nesting_is_capped() {
        let nested = |n: usize| format!("{}id = 1{}", "(".repeat(n), ")".repeat(n));
        assert!(Filter::parse(&nested(MAX_NESTING)).is_ok());
        let err = Filter::parse(&nested(MAX_NESTING + 1)).expect_err("too deep");
        assert_eq!(
            err,
            QueryError::TooDeep {
                max: MAX_NESTING,
                position: MAX_NESTING
            }
        );
        assert!(
            err.to_string()
                .contains("nested deeper than 64 levels at position 64")
        );

        // 10,000 levels: the length cap rejects it first, and even without the length cap the
        // depth cap stops the recursive parser long before the stack is at risk.
        assert!(matches!(
            Filter::parse(&nested(10_000)),
            Err(QueryError::TooLong { .. })
        ));
        assert!(matches!(
            Filter::parse_limited(&nested(10_000), usize::MAX, MAX_NESTING),
            Err(QueryError::TooDeep { .. })
        ));
        assert!(matches!(
            Filter::parse_limited(&"(".repeat(10_000), usize::MAX, MAX_NESTING),
            Err(QueryError::TooDeep { .. })
        ));
    }

    #[test]
    fn fields_and_field_checks() {
        let filter = Filter::parse(
            r#"(state = "OPEN" OR state = "new") AND reviewers.nickname = "bob" AND foo.bar != 1"#,
        )
        .expect("valid filter");
        assert_eq!(filter.fields(), ["state", "reviewers.nickname", "foo.bar"]);
        let known = |f: &str| matches!(f, "state" | "reviewers.nickname");
        let err = filter.check_fields(known).expect_err("foo.bar is unknown");
        assert_eq!(
            err.to_string(),
            "invalid `q`: invalid field `foo.bar` at position 69"
        );
        assert!(filter.check_fields(|_| true).is_ok());

        let sort = Sort::parse("-foo").expect("valid sort");
        assert_eq!(
            sort.check_field(known).expect_err("unknown").to_string(),
            "invalid `sort`: invalid field `foo` at position 1"
        );
    }

    #[test]
    fn from_str_parses() {
        let filter: Filter = r#"state = "OPEN""#.parse().expect("valid filter");
        assert!(filter.matches(&pr()));
        let sort: Sort = "-updated_on".parse().expect("valid sort");
        assert_eq!(sort.field(), "updated_on");
        assert!("state ==".parse::<Filter>().is_err());
    }

    #[test]
    fn sort_parsing() {
        let ok: &[(&str, &[&str], bool)] = &[
            ("name", &["name"], false),
            ("-updated_on", &["updated_on"], true),
            ("source.branch.name", &["source", "branch", "name"], false),
            ("-priority", &["priority"], true),
            (" -name ", &["name"], true),
        ];
        for (input, path, descending) in ok {
            let sort = Sort::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sort.path, *path, "{input:?}");
            assert_eq!(sort.descending, *descending, "{input:?}");
        }
        assert_eq!(Sort::parse("-a.b").expect("valid sort").field(), "a.b");

        let bad: &[(&str, &str)] = &[
            ("", "invalid `sort`: the expression is empty"),
            ("-", "expected a field name after `-` at position 1"),
            (
                "--name",
                "invalid character `-` in field name `-name` at position 1",
            ),
            ("+name", "invalid character `+`"),
            ("1st", "must start with a letter or `_` at position 0"),
            (
                "name,created_on",
                "only one sort field is supported at position 4",
            ),
            (
                "-name, id",
                "only one sort field is supported at position 5",
            ),
            (
                "name desc",
                "invalid character ` ` in field name `name desc` at position 4",
            ),
            ("a..b", "empty segment"),
            ("na$me", "invalid character `$`"),
        ];
        for (input, needle) in bad {
            let err = Sort::parse(input).expect_err(input);
            let message = err.to_string();
            assert!(
                message.starts_with("invalid `sort`: "),
                "{input:?}: {message}"
            );
            assert!(
                message.contains(needle),
                "{input:?}: {message:?} lacks {needle:?}"
            );
        }
    }

    fn sorted(sort: &str, items: Vec<Value>) -> Vec<Value> {
        let mut items = items;
        Sort::parse(sort).expect("valid sort").apply(&mut items);
        items
    }

    fn ids(items: &[Value]) -> Vec<i64> {
        items.iter().filter_map(|v| v["id"].as_i64()).collect()
    }

    #[test]
    fn sort_numbers_strings_and_datetimes() {
        let items = vec![
            json!({"id": 1, "n": 10, "name": "b", "updated_on": "2020-01-02T00:00:00+00:00"}),
            json!({"id": 2, "n": 9.5, "name": "B", "updated_on": "2020-01-01T23:00:00-02:00"}),
            json!({"id": 3, "n": -1, "name": "a", "updated_on": "2020-01-01T12:00:00.5+00:00"}),
            json!({"id": 4, "n": 100, "name": "c", "updated_on": "2019-12-31"}),
        ];
        assert_eq!(ids(&sorted("n", items.clone())), [3, 2, 1, 4]);
        assert_eq!(ids(&sorted("-n", items.clone())), [4, 1, 2, 3]);
        assert_eq!(ids(&sorted("name", items.clone())), [2, 3, 1, 4]);
        assert_eq!(ids(&sorted("-name", items.clone())), [4, 1, 3, 2]);
        // Chronological, not lexicographic: 23:00-02:00 is 01:00 UTC on Jan 2.
        assert_eq!(ids(&sorted("updated_on", items.clone())), [4, 3, 1, 2]);
        assert_eq!(ids(&sorted("-updated_on", items)), [2, 1, 3, 4]);
    }

    #[test]
    fn sort_nulls_and_stability() {
        let items = vec![
            json!({"id": 1, "p": 2}),
            json!({"id": 2}),
            json!({"id": 3, "p": 1}),
            json!({"id": 4, "p": null}),
            json!({"id": 5, "p": 2}),
            json!({"id": 6, "p": 1}),
        ];
        // Missing and null last ascending; equal keys keep input order.
        assert_eq!(ids(&sorted("p", items.clone())), [3, 6, 1, 5, 2, 4]);
        // Descending reverses the key order, still stable among equals.
        assert_eq!(ids(&sorted("-p", items.clone())), [2, 4, 1, 5, 3, 6]);
        // Sorting on a field nobody has keeps the order.
        assert_eq!(ids(&sorted("zzz", items.clone())), [1, 2, 3, 4, 5, 6]);
        assert_eq!(ids(&sorted("-zzz", items)), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn sort_mixed_types_and_nested_fields() {
        let items = vec![
            json!({"id": 1, "v": "text"}),
            json!({"id": 2, "v": 3}),
            json!({"id": 3, "v": {"an": "object"}}),
            json!({"id": 4, "v": true}),
            json!({"id": 5, "v": 9_007_199_254_740_993_u64}),
            json!({"id": 6, "v": 9_007_199_254_740_992.0}),
            json!({"id": 7, "v": "2020-01-01"}),
            json!({"id": 8}),
        ];
        assert_eq!(ids(&sorted("v", items)), [4, 2, 6, 5, 7, 1, 3, 8]);

        let items = vec![
            json!({"id": 1, "source": {"branch": {"name": "zeta"}}}),
            json!({"id": 2, "source": {"branch": {"name": "alpha"}}}),
            json!({"id": 3, "reviewers": [{"nickname": "m"}, {"nickname": "a"}]}),
        ];
        assert_eq!(ids(&sorted("source.branch.name", items.clone())), [2, 1, 3]);
        // An array field sorts by its first element; missing is null, first when descending.
        assert_eq!(ids(&sorted("reviewers.nickname", items.clone())), [3, 1, 2]);
        assert_eq!(ids(&sorted("-reviewers.nickname", items)), [1, 2, 3]);
    }

    #[test]
    fn datetime_parser() {
        let ok = [
            "2015-03-04",
            "2015-03-04T14:08",
            "2015-03-04T14:08:59",
            "2015-03-04T14:08:59.123+02:00",
            "2015-03-04T14:08:59.123456789123Z",
            "2015-03-04t14:08:59z",
            "2015-03-04 14:08:59-0700",
            "2015-03-04T14:08:59+05",
        ];
        for s in ok {
            assert!(parse_datetime(s).is_some(), "{s}");
        }
        let bad = [
            "2015-03-4",
            "2015-3-04",
            "15-03-04",
            "2015-03-04T",
            "2015-03-04T14",
            "2015-03-04T14:8",
            "2015-03-04T14:08:5",
            "2015-03-04T14:08:59.",
            "2015-03-04T14:08:59+2",
            "2015-03-04T14:08:59+02:0",
            "2015-03-04T14:08:59+26:00",
            "2015-03-04T14:08:60",
            "2015-03-04x",
            "2015-03-04+02:00",
        ];
        for s in bad {
            assert!(parse_datetime(s).is_none(), "{s}");
        }
        assert_eq!(
            parse_datetime("2015-10-04T14:00:00-07:00"),
            parse_datetime("2015-10-04T21:00:00Z")
        );
        assert_eq!(
            parse_datetime("2015-03-04T14:08:59.5Z").map(|d| d.nanosecond()),
            Some(500_000_000)
        );
    }
}
