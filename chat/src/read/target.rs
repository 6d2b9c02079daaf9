//! Which task some words name: "task 3", "#3", "3", "it", or title words.

use super::command::Target;

/// Reads `lower` (with `original`, the same words as typed) as a target.
pub fn target(lower: &[&str], original: &[String]) -> Target {
    let mut from = 0;
    let mut to = lower.len();
    let lead = |w: &str| {
        matches!(
            w,
            "the" | "my" | "a" | "an" | "this" | "that" | "that's" | "please" | "our"
        )
    };
    let trail = |w: &str| matches!(w, "please" | "now" | "already" | "today");
    loop {
        let before = (from, to);
        while from < to
            && lead(lower[from])
            && !(to - from == 1 && matches!(lower[from], "this" | "that"))
        {
            from += 1;
        }
        while to > from && trail(lower[to - 1]) {
            to -= 1;
        }
        while from < to
            && matches!(lower[from], "task" | "todo" | "item" | "one")
            && to - from > 1
            && lower[from + 1]
                .trim_start_matches('#')
                .parse::<i64>()
                .is_err()
        {
            from += 1;
        }
        while to > from && matches!(lower[to - 1], "task" | "todo" | "item" | "one" | "tasks") {
            to -= 1;
        }
        if (from, to) == before {
            break;
        }
    }
    let kept = &lower[from..to];
    match kept {
        ["it"] | ["that"] | ["this"] | ["them"] | [] => return Target::Last,
        ["task" | "number" | "no" | "item", id]
            if id.trim_start_matches('#').parse::<i64>().is_ok() =>
        {
            return Target::Id(id.trim_start_matches('#').parse().unwrap_or_default());
        }
        [id] if id.starts_with('#') && id[1..].parse::<i64>().is_ok() => {
            return Target::Id(id[1..].parse().unwrap_or_default());
        }
        [n] if n.parse::<i64>().is_ok() => {
            return Target::Number(n.parse().unwrap_or_default());
        }
        _ => {}
    }
    let title: Vec<&str> = original[from..to].iter().map(String::as_str).collect();
    Target::Title(
        title
            .join(" ")
            .trim_matches(|c| c == '\'' || c == '"')
            .to_lowercase(),
    )
}
