//! The catalog as a model sees it: every limit a description states is the
//! limit its schema enforces, every tool is reachable by name, and its
//! hints are coherent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

use std::collections::HashSet;

use serde_json::{Map, Value};
use taskflow_agent::catalog;

/// The numbers of `text`, each with the text before and after it.
fn numbers(text: &str) -> Vec<(u64, &str, &str)> {
    let mut found = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (c.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                found.push((text[s..i].parse().unwrap(), &text[..s], &text[i..]));
                start = None;
            }
            _ => {}
        }
    }
    found
}

/// The ranges a text states: "1 to 200", "1–43200".
fn ranges(text: &str) -> Vec<(u64, u64)> {
    let numbers = numbers(text);
    numbers
        .windows(2)
        .filter_map(|pair| {
            let ((low, _, between), (high, _, _)) = (pair[0], pair[1]);
            let joined = between.strip_suffix(&*high.to_string()).is_some();
            let sep = between
                .split(|c: char| c.is_ascii_digit())
                .next()
                .unwrap_or("");
            (matches!(sep, " to " | "–") && !joined).then_some((low, high))
        })
        .collect()
}

/// "default 20", "at most 50", "up to 10" (but not "at most 30 days", a duration the
/// schema of a timestamp cannot say).
fn stated(text: &str, words: &str) -> Vec<u64> {
    numbers(text)
        .into_iter()
        .filter(|(_, before, after)| {
            before.to_lowercase().ends_with(words)
                && !["day", "hour", "minute"]
                    .iter()
                    .any(|unit| after.trim_start().starts_with(unit))
        })
        .map(|(n, _, _)| n)
        .collect()
}

fn bound(property: &Map<String, Value>, key: &str) -> Option<u64> {
    property.get(key).and_then(Value::as_u64)
}

/// A property's (lower, upper) bound: of its length for a string, of its
/// item count for an array, else of its value.
fn bounds(property: &Map<String, Value>) -> (Option<u64>, Option<u64>) {
    let types = property
        .get("type")
        .map(Value::to_string)
        .unwrap_or_default();
    let (low, high) = if types.contains("string") {
        ("minLength", "maxLength")
    } else if types.contains("array") {
        ("minItems", "maxItems")
    } else {
        ("minimum", "maximum")
    };
    (bound(property, low), bound(property, high))
}

/// Every object schema with properties, anywhere in `schema`.
fn objects<'a>(schema: &'a Value, out: &mut Vec<&'a Map<String, Value>>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                out.push(properties);
            }
            map.values().for_each(|v| objects(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| objects(v, out)),
        _ => {}
    }
}

#[test]
fn every_limit_a_description_states_is_the_schemas() {
    let mut checked = 0;
    for tool in catalog() {
        let spec = tool.spec();
        let input = Value::Object(spec.input.clone());
        let mut properties = Vec::new();
        objects(&input, &mut properties);
        let empty = serde_json::Map::new();
        let top = input["properties"].as_object().unwrap_or(&empty);
        // A property's own description.
        for (name, property) in properties.iter().flat_map(|p| p.iter()) {
            let property = property.as_object().unwrap();
            let text = property
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("");
            for (low, high) in ranges(text) {
                assert_eq!(
                    bounds(property),
                    (Some(low), Some(high)),
                    "{}: `{name}` says {low} to {high}",
                    spec.name
                );
                checked += 1;
            }
            for most in stated(text, "up to ")
                .into_iter()
                .chain(stated(text, "at most "))
            {
                assert_eq!(
                    bounds(property).1,
                    Some(most),
                    "{}: `{name}` says up to {most}",
                    spec.name
                );
                checked += 1;
            }
            for default in stated(text, "default ") {
                assert_eq!(
                    bound(property, "default"),
                    Some(default),
                    "{}: `{name}` says default {default}",
                    spec.name
                );
                checked += 1;
            }
        }
        // The tool's description: "`minutes` (1–43200)", "at most 50".
        for (low, high) in ranges(spec.description) {
            let named = top.iter().find(|(name, _)| {
                let mention = format!("`{name}` ({low}");
                spec.description.contains(&mention)
            });
            let (name, property) = named.unwrap_or_else(|| {
                panic!("{}: the range {low}–{high} names no parameter", spec.name)
            });
            assert_eq!(
                bounds(property.as_object().unwrap()),
                (Some(low), Some(high)),
                "{}: `{name}`",
                spec.name
            );
            checked += 1;
        }
        let maxima: HashSet<u64> = properties
            .iter()
            .flat_map(|p| p.values())
            .filter_map(|p| bounds(p.as_object()?).1)
            .collect();
        for most in stated(spec.description, "at most ") {
            assert!(
                maxima.contains(&most),
                "{}: says at most {most}; the schema's maxima are {maxima:?}",
                spec.name
            );
            checked += 1;
        }
    }
    // The page sizes, snooze minutes and reminder minutes at least.
    assert!(checked >= 8, "only {checked} limits checked");
}

#[test]
fn the_scanner_reads_ranges_and_limits() {
    assert_eq!(ranges("Page size, 1 to 50 (default 20)."), [(1, 50)]);
    assert_eq!(ranges("`minutes` (1–43200) or"), [(1, 43200)]);
    assert_eq!(ranges("RFC 3339, 2026-03-23"), []);
    assert_eq!(stated("Page size, 1 to 50 (default 20).", "default "), [20]);
    assert_eq!(
        stated("at most 30 days ahead; at most 50", "at most "),
        [50]
    );
}

#[test]
fn every_tool_is_named_once_titled_and_coherent() {
    let mut names = HashSet::new();
    for tool in catalog() {
        let spec = tool.spec();
        assert!(names.insert(spec.name), "{} twice", spec.name);
        assert!(
            spec.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'),
            "{}",
            spec.name
        );
        assert!(
            !spec.title.is_empty() && !spec.description.is_empty(),
            "{}",
            spec.name
        );
        assert!(
            !(spec.hints.read_only && spec.hints.destructive),
            "{}",
            spec.name
        );
        assert_eq!(spec.input["type"], "object", "{}", spec.name);
        assert_eq!(spec.input["additionalProperties"], false, "{}", spec.name);
        assert!(spec.output.contains_key("properties"), "{}", spec.name);
        assert_eq!(
            taskflow_agent::find(spec.name).unwrap().spec().name,
            spec.name
        );
    }
    assert_eq!(names.len(), catalog().len());
}

#[test]
fn every_tool_defined_is_in_the_catalog() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/tools");
    let mut defined = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().filter(|l| l.starts_with("impl Tool for ")) {
            let name = line
                .trim_start_matches("impl Tool for ")
                .trim_end_matches(" {");
            defined.push(name.to_owned());
        }
    }
    defined.sort();
    let mut listed: Vec<String> = catalog().iter().map(|tool| format!("{tool:?}")).collect();
    listed.sort();
    assert_eq!(
        defined, listed,
        "a tool in src/tools that `catalog()` does not list, or the reverse"
    );
}
