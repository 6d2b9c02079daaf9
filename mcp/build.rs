//! Embeds every `prompts/<snake_case_name>.md` at build time: adding a
//! prompt means adding a file.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut out = String::from(
        "/// (name, file text) of each embedded prompt.\npub const FILES: &[(&str, &str)] = &[\n",
    );
    for path in files {
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".md"))
        else {
            continue;
        };
        let snake = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if snake {
            println!("cargo:rerun-if-changed={}", path.display());
            let _ = writeln!(
                out,
                "    ({name:?}, include_str!({:?})),",
                path.display().to_string()
            );
        }
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("prompts.rs");
    if let Err(err) = std::fs::write(&target, out) {
        panic!("cannot write {}: {err}", target.display());
    }
}
