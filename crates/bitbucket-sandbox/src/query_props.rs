//! The `q` evaluator against a naive one: random small items and random queries over a few
//! fields and every operator, rendered as text, parsed by [`Filter::parse`] and evaluated;
//! the answer must be what the naive evaluator, written from the language's documented
//! semantics over the generated query itself, says.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::query::Filter;

/// A literal of the generated queries. No string looks like a datetime, so none is compared
/// as one.
#[derive(Debug, Clone)]
enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Eq,
    Ne,
    Contains,
    NotContains,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone)]
enum Query {
    Cmp(&'static str, Op, Lit),
    In(&'static str, bool, Vec<Lit>),
    And(Box<Query>, Box<Query>),
    Or(Box<Query>, Box<Query>),
}

const FIELDS: [&str; 4] = ["n", "s", "tags", "owner.name"];
const WORDS: [&str; 6] = ["alpha", "Alpha", "ALPHABET", "beta", "b", ""];

fn word() -> impl Strategy<Value = String> {
    proptest::sample::select(&WORDS[..]).prop_map(str::to_owned)
}

fn lit() -> impl Strategy<Value = Lit> {
    prop_oneof![
        Just(Lit::Null),
        any::<bool>().prop_map(Lit::Bool),
        (-3i64..4).prop_map(Lit::Int),
        word().prop_map(Lit::Str),
    ]
}

fn comparison() -> impl Strategy<Value = Query> {
    let field = proptest::sample::select(&FIELDS[..]);
    prop_oneof![
        (
            field.clone(),
            prop_oneof![Just(Op::Eq), Just(Op::Ne)],
            lit()
        )
            .prop_map(|(f, op, l)| Query::Cmp(f, op, l)),
        (
            field.clone(),
            prop_oneof![Just(Op::Contains), Just(Op::NotContains)],
            word()
        )
            .prop_map(|(f, op, w)| Query::Cmp(f, op, Lit::Str(w))),
        (
            field.clone(),
            prop_oneof![Just(Op::Gt), Just(Op::Ge), Just(Op::Lt), Just(Op::Le)],
            prop_oneof![(-3i64..4).prop_map(Lit::Int), word().prop_map(Lit::Str)],
        )
            .prop_map(|(f, op, l)| Query::Cmp(f, op, l)),
        (field, any::<bool>(), proptest::collection::vec(lit(), 1..4))
            .prop_map(|(f, negated, list)| Query::In(f, negated, list)),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    comparison().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Query::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Query::Or(Box::new(a), Box::new(b))),
        ]
    })
}

/// A value of a field: missing, null, a number or a string.
fn scalar() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        (-3i64..4).prop_map(|n| Some(json!(n))),
        word().prop_map(|w| Some(json!(w))),
        any::<bool>().prop_map(|b| Some(json!(b))),
    ]
}

fn item() -> impl Strategy<Value = Value> {
    (
        scalar(),
        scalar(),
        proptest::option::of(proptest::collection::vec(word(), 0..3)),
        proptest::option::of(scalar()),
    )
        .prop_map(|(n, s, tags, owner)| {
            let mut item = Map::new();
            if let Some(n) = n {
                item.insert("n".into(), n);
            }
            if let Some(s) = s {
                item.insert("s".into(), s);
            }
            if let Some(tags) = tags {
                item.insert("tags".into(), json!(tags));
            }
            match owner {
                None => {}
                Some(None) => {
                    item.insert("owner".into(), json!({}));
                }
                Some(Some(name)) => {
                    item.insert("owner".into(), json!({"name": name}));
                }
            }
            Value::Object(item)
        })
}

fn render_lit(l: &Lit) -> String {
    match l {
        Lit::Null => "null".into(),
        Lit::Bool(b) => b.to_string(),
        Lit::Int(i) => i.to_string(),
        Lit::Str(s) => format!("\"{s}\""),
    }
}

fn render(q: &Query) -> String {
    match q {
        Query::Cmp(field, op, l) => {
            let op = match op {
                Op::Eq => "=",
                Op::Ne => "!=",
                Op::Contains => "~",
                Op::NotContains => "!~",
                Op::Gt => ">",
                Op::Ge => ">=",
                Op::Lt => "<",
                Op::Le => "<=",
            };
            format!("{field} {op} {}", render_lit(l))
        }
        Query::In(field, negated, list) => {
            let list: Vec<String> = list.iter().map(render_lit).collect();
            let not = if *negated { "NOT " } else { "" };
            format!("{field} {not}IN ({})", list.join(", "))
        }
        Query::And(a, b) => format!("({} AND {})", render(a), render(b)),
        Query::Or(a, b) => format!("(({}) or ({}))", render(a), render(b)),
    }
}

/// The values a field names in an item: through objects, fanned out over the `tags` array
/// (an empty one is a single null), a missing key being null.
fn values(item: &Value, field: &str) -> Vec<Value> {
    let found = match field {
        "owner.name" => item.get("owner").and_then(|o| o.get("name")),
        other => item.get(other),
    };
    match found {
        None => vec![Value::Null],
        Some(Value::Array(elements)) if elements.is_empty() => vec![Value::Null],
        Some(Value::Array(elements)) => elements.clone(),
        Some(value) => vec![value.clone()],
    }
}

fn same(value: &Value, l: &Lit) -> bool {
    match (value, l) {
        (Value::Null, Lit::Null) => true,
        (Value::Bool(a), Lit::Bool(b)) => a == b,
        (Value::Number(a), Lit::Int(b)) => a.as_i64() == Some(*b),
        (Value::String(a), Lit::Str(b)) => a == b,
        _ => false,
    }
}

/// `value` against `l` by `>`-style comparison; `None` when they do not compare.
fn order(value: &Value, l: &Lit) -> Option<std::cmp::Ordering> {
    match (value, l) {
        (Value::Number(a), Lit::Int(b)) => Some(a.as_i64()?.cmp(b)),
        (Value::String(a), Lit::Str(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => None,
    }
}

fn naive(q: &Query, item: &Value) -> bool {
    use std::cmp::Ordering::{Greater, Less};
    match q {
        Query::And(a, b) => naive(a, item) && naive(b, item),
        Query::Or(a, b) => naive(a, item) || naive(b, item),
        Query::In(field, negated, list) => {
            let any = values(item, field)
                .iter()
                .any(|v| list.iter().any(|l| same(v, l)));
            any != *negated
        }
        Query::Cmp(field, op, l) => {
            let vs = values(item, field);
            let contains = |needle: &Lit| {
                let Lit::Str(needle) = needle else {
                    return false;
                };
                vs.iter().any(|v| {
                    v.as_str()
                        .is_some_and(|s| s.to_lowercase().contains(&needle.to_lowercase()))
                })
            };
            let ordered = |accept: &dyn Fn(std::cmp::Ordering) -> bool| {
                vs.iter().any(|v| order(v, l).is_some_and(accept))
            };
            match op {
                Op::Eq => vs.iter().any(|v| same(v, l)),
                Op::Ne => !vs.iter().any(|v| same(v, l)),
                Op::Contains => contains(l),
                Op::NotContains => !contains(l),
                Op::Gt => ordered(&|o| o == Greater),
                Op::Ge => ordered(&|o| o != Less),
                Op::Lt => ordered(&|o| o == Less),
                Op::Le => ordered(&|o| o != Greater),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_evaluator_agrees_with_a_naive_one(
        q in query(),
        items in proptest::collection::vec(item(), 1..6),
    ) {
        let text = render(&q);
        let filter = Filter::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        for item in &items {
            prop_assert_eq!(filter.matches(item), naive(&q, item), "q = {}, item = {}", text, item);
        }
    }
}
