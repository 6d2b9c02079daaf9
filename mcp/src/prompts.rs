//! The prompts of `prompts/*.md`: YAML front matter (name, description,
//! arguments) and a body whose `{{argument}}` placeholders are filled in.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rmcp::model::{GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};
use serde::Deserialize;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/prompts.rs"));
}

/// One prompt file, parsed.
#[derive(Debug, Clone)]
pub struct PromptFile {
    pub meta: FrontMatter,
    pub body: String,
}

/// The front matter of a prompt file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub arguments: Vec<ArgumentSpec>,
}

/// One declared argument.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgumentSpec {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub required: bool,
    /// Text people wrote (notes, an email): framed in the rendered prompt
    /// (`taskflow_agent::framing`), so what it says stays data.
    #[serde(default)]
    pub written: bool,
}

/// Parses one prompt file.
pub fn parse(file: &str, text: &str) -> Result<PromptFile, String> {
    let rest = text
        .strip_prefix("---\n")
        .ok_or_else(|| format!("{file}: no front matter (the file must start with `---`)"))?;
    let end = rest
        .find("\n---\n")
        .ok_or_else(|| format!("{file}: the front matter does not end with `---`"))?;
    let meta: FrontMatter = serde_yaml_ng::from_str(&rest[..end])
        .map_err(|err| format!("{file}: bad front matter: {err}"))?;
    if meta.name != file {
        return Err(format!(
            "{file}: `name` is `{}`, not the file name",
            meta.name
        ));
    }
    let body = rest[end + 5..].trim().to_owned();
    for placeholder in placeholders(&body) {
        if !meta.arguments.iter().any(|a| a.name == placeholder) {
            return Err(format!(
                "{file}: `{{{{{placeholder}}}}}` is not a declared argument"
            ));
        }
    }
    Ok(PromptFile { meta, body })
}

fn placeholders(body: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        found.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    found
}

/// Every embedded prompt, parsed once. A file that does not parse is left
/// out with an error in the log (the test suite refuses it first).
pub fn all() -> &'static [PromptFile] {
    static ALL: LazyLock<Vec<PromptFile>> = LazyLock::new(|| {
        embedded::FILES
            .iter()
            .filter_map(|(file, text)| match parse(file, text) {
                Ok(prompt) => Some(prompt),
                Err(err) => {
                    tracing::error!("{err}");
                    None
                }
            })
            .collect()
    });
    &ALL
}

impl PromptFile {
    /// The prompt as `prompts/list` shows it.
    pub fn listing(&self) -> Prompt {
        let arguments = self
            .meta
            .arguments
            .iter()
            .map(|a| {
                let mut argument = PromptArgument::new(&a.name);
                argument.description = Some(a.description.clone());
                argument.required = Some(a.required);
                argument
            })
            .collect();
        Prompt::new(
            &self.meta.name,
            Some(&self.meta.description),
            Some(arguments),
        )
    }

    /// The prompt with `arguments` filled in; a missing required argument
    /// or an unknown one is an error naming it.
    pub fn render(&self, arguments: &BTreeMap<String, String>) -> Result<GetPromptResult, String> {
        for name in arguments.keys() {
            if !self.meta.arguments.iter().any(|a| &a.name == name) {
                return Err(format!("`{}` has no argument `{name}`", self.meta.name));
            }
        }
        let mut text = self.body.clone();
        let frame = taskflow_agent::Frame::around(&serde_json::json!(arguments));
        for spec in &self.meta.arguments {
            let value = match arguments.get(&spec.name) {
                Some(value) => value.as_str(),
                None if spec.required => {
                    return Err(format!(
                        "`{}` needs the argument `{}`: {}",
                        self.meta.name, spec.name, spec.description
                    ));
                }
                None => "",
            };
            let value = match spec.written {
                true => frame.wrap(value),
                false => value.to_owned(),
            };
            text = text.replace(&format!("{{{{{}}}}}", spec.name), &value);
        }
        Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description(self.meta.description.clone()),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_prompt_file_parses_and_the_required_ones_exist() {
        for (file, text) in embedded::FILES {
            parse(file, text).unwrap();
        }
        let names: Vec<&str> = all().iter().map(|p| p.meta.name.as_str()).collect();
        for required in [
            "plan_my_day",
            "weekly_review",
            "triage_overdue",
            "capture_tasks",
        ] {
            assert!(names.contains(&required), "{names:?}");
        }
    }

    #[test]
    fn rendering_fills_arguments_and_names_what_is_missing_or_unknown() {
        let prompt = parse(
            "demo",
            "---\nname: demo\ndescription: d\narguments:\n  - name: text\n    description: the notes\n    required: true\n  - name: zone\n    description: z\n---\nNotes: {{text}} in {{zone}}.\n",
        )
        .unwrap();
        let args = BTreeMap::from([("text".to_owned(), "buy milk".to_owned())]);
        let result = serde_json::to_value(prompt.render(&args).unwrap()).unwrap();
        assert_eq!(
            result["messages"][0]["content"]["text"],
            "Notes: buy milk in ."
        );
        assert!(
            prompt
                .render(&BTreeMap::new())
                .unwrap_err()
                .contains("needs the argument `text`")
        );
        let unknown = BTreeMap::from([("nope".to_owned(), "x".to_owned())]);
        assert!(
            prompt
                .render(&unknown)
                .unwrap_err()
                .contains("no argument `nope`")
        );
        assert!(parse("other", "---\nname: demo\ndescription: d\n---\nx").is_err());
        assert!(
            parse(
                "demo",
                "---\nname: demo\ndescription: d\n---\n{{undeclared}}"
            )
            .is_err()
        );
    }
}
