//! A message as words: the original spelling for titles, a lower-case form
//! for matching, and a mark on each word some reader has placed. What is
//! left unmarked at the end is the title — or, when it looks like a date,
//! time, repeat or priority, the reason to ask.

/// Stands in for a quoted title among the words.
pub const QUOTED: &str = "\u{1}";

/// A message split into words.
#[derive(Debug, Clone)]
pub struct Words {
    pub original: Vec<String>,
    pub lower: Vec<String>,
    pub used: Vec<bool>,
    /// The first word that ended with a colon ("comment on the report:
    /// …"), if any, and the text after the colon as typed.
    pub colon: Option<(usize, String)>,
}

impl Words {
    pub fn new(text: &str) -> Self {
        let mut original: Vec<String> = Vec::new();
        let mut colon = None;
        for raw in text.split_whitespace() {
            let word = if raw.len() > 1 && raw.chars().all(|c| c == '!') {
                "!!".to_owned() // a priority mark
            } else {
                raw.trim_matches(|c: char| {
                    matches!(c, ',' | '?' | '!' | ';' | '"' | '“' | '”' | '(' | ')')
                })
                .trim_end_matches(['.', ':'])
                .to_owned()
            };
            if word.is_empty() {
                continue;
            }
            if colon.is_none() && raw.ends_with(':') {
                // `raw` is a slice of `text`: the rest starts where it ends.
                let end = raw.as_ptr() as usize - text.as_ptr() as usize + raw.len();
                let rest = text.get(end..).unwrap_or_default().trim().to_owned();
                colon = Some((original.len(), rest));
            }
            original.push(word);
        }
        let lower = original
            .iter()
            .map(|w| w.to_lowercase().replace('’', "'"))
            .collect();
        let used = vec![false; original.len()];
        Self {
            original,
            lower,
            used,
            colon,
        }
    }

    /// The lower-case words.
    pub fn lower(&self) -> Vec<&str> {
        self.lower.iter().map(String::as_str).collect()
    }

    /// The lower-case words joined by single spaces.
    pub fn joined(&self) -> String {
        self.lower.join(" ")
    }

    pub fn len(&self) -> usize {
        self.lower.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lower.is_empty()
    }

    /// Marks `count` words from `from` as placed.
    pub fn take(&mut self, from: usize, count: usize) {
        for used in self.used.iter_mut().skip(from).take(count) {
            *used = true;
        }
    }

    /// Whether the `count` words from `from` exist and are all unplaced.
    pub fn is_free(&self, from: usize, count: usize) -> bool {
        from + count <= self.used.len() && self.used[from..from + count].iter().all(|u| !u)
    }

    /// Whether the message starts with `phrase` (whole words).
    pub fn starts_with(&self, phrase: &[&str]) -> bool {
        self.lower.len() >= phrase.len() && self.lower.iter().zip(phrase).all(|(w, p)| w == p)
    }

    /// Finds `phrase` among unplaced words, takes it and returns where.
    pub fn take_phrase(&mut self, phrase: &[&str]) -> Option<usize> {
        let at = (0..self.lower.len()).find(|&i| {
            self.is_free(i, phrase.len())
                && phrase
                    .iter()
                    .enumerate()
                    .all(|(k, w)| self.lower.get(i + k).is_some_and(|l| l == w))
        })?;
        self.take(at, phrase.len());
        Some(at)
    }

    /// The unplaced words' positions.
    pub fn free(&self) -> Vec<usize> {
        (0..self.len()).filter(|&i| !self.used[i]).collect()
    }

    /// The unplaced words in their original case, trimmed of joining words
    /// at either end: the title.
    pub fn rest(&self) -> String {
        let mut words: Vec<&str> = self
            .free()
            .into_iter()
            .map(|i| self.original[i].as_str())
            .collect();
        while words.first().is_some_and(|w| joining(w)) {
            words.remove(0);
        }
        while words.last().is_some_and(|w| joining(w) && !ending(w)) {
            words.pop();
        }
        words.join(" ")
    }
}

/// Joining words that may end a title as typed ("ask Sam to call me").
fn ending(word: &str) -> bool {
    matches!(
        word.to_lowercase().as_str(),
        "me" | "it" | "that" | "of" | "my" | "new" | "from"
    )
}

/// Words that join a title to what follows it and belong to neither.
fn joining(word: &str) -> bool {
    matches!(
        word.to_lowercase().as_str(),
        "a" | "an"
            | "and"
            | "at"
            | "by"
            | "for"
            | "on"
            | "to"
            | "due"
            | "with"
            | "the"
            | "task"
            | "called"
            | "named"
            | "titled"
            | "todo"
            | "new"
            | "reminder"
            | "me"
            | "please"
            | "my"
            | "of"
            | "it"
            | "repeating"
            | "recurring"
            | "that"
            | "starting"
            | "from"
            | "tagged"
            | "-"
            | "—"
            | ":"
    )
}

/// The message without leading words that only soften it ("ok, delete
/// it", "thanks, now complete the report"), unless that is all it says.
pub fn without_filler(text: &str) -> &str {
    let mut rest = text;
    loop {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = rest[..word_end]
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        let filler = matches!(
            word.as_str(),
            "ok" | "okay"
                | "thanks"
                | "thank"
                | "you"
                | "please"
                | "pls"
                | "then"
                | "now"
                | "so"
                | "and"
                | "great"
                | "cool"
                | "alright"
                | "hey"
                | "hi"
                | "oh"
                | "also"
                | "btw"
        );
        let next = rest[word_end..].trim_start();
        if !filler || next.is_empty() {
            return rest;
        }
        rest = next;
    }
}

/// Takes a `"quoted"` stretch out of a message: the message with a
/// placeholder word in its place, and the quoted text.
pub fn unquote(text: &str) -> (String, Option<String>) {
    for (open, close) in [('"', '"'), ('“', '”'), ('\'', '\''), ('‘', '’')] {
        let Some(start) = text.find(open) else {
            continue;
        };
        let after = start + open.len_utf8();
        // An apostrophe inside a word ("what's") is not a quote.
        if matches!(open, '\'' | '‘')
            && text[..start]
                .chars()
                .last()
                .is_some_and(char::is_alphanumeric)
        {
            continue;
        }
        if let Some(len) = text[after..].find(close)
            && !text[after..after + len].trim().is_empty()
        {
            let quoted = text[after..after + len].trim().to_owned();
            let rest = format!(
                "{} {QUOTED} {}",
                &text[..start],
                &text[after + len + close.len_utf8()..]
            );
            return (rest, Some(quoted));
        }
    }
    (text.to_owned(), None)
}

/// The first letter in upper case, the rest as typed.
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
