//! iCalendar content lines (RFC 5545 §3.1): `NAME;PARAM=value:value`,
//! TEXT escaped, folded at 75 octets without splitting a character, each
//! ended by CRLF. One output `String` and one scratch line for a whole
//! calendar: nothing is allocated per property.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

/// The longest physical line, in octets, without its CRLF.
const FOLD_AT: usize = 75;

/// A calendar being written.
#[derive(Debug, Default)]
pub(crate) struct Content {
    out: String,
    line: String,
}

impl Content {
    /// Room for about `bytes` of output.
    pub fn with_capacity(bytes: usize) -> Content {
        Content {
            out: String::with_capacity(bytes),
            line: String::with_capacity(256),
        }
    }

    /// Starts the property `name` (an upper-case name of ours).
    pub fn line(&mut self, name: &str) -> Line<'_> {
        self.line.clear();
        self.line.push_str(name);
        Line(self)
    }

    /// `BEGIN:name`.
    pub fn begin(&mut self, name: &str) {
        self.line("BEGIN").raw(name);
    }

    /// `END:name`.
    pub fn end(&mut self, name: &str) {
        self.line("END").raw(name);
    }

    /// Lines written elsewhere (escaped, folded, each ended by CRLF), as
    /// they are.
    pub fn written(&mut self, lines: &str) {
        self.out.push_str(lines);
    }

    /// What was written.
    pub fn finish(self) -> String {
        self.out
    }

    /// Appends the scratch line to the output, folded.
    fn flush(&mut self) {
        let mut width = 0;
        for c in self.line.chars() {
            let len = c.len_utf8();
            if width + len > FOLD_AT {
                // The continuation's leading space is its first octet.
                self.out.push_str("\r\n ");
                width = 1;
            }
            self.out.push(c);
            width += len;
        }
        self.out.push_str("\r\n");
    }
}

/// One property being written; its value ends it.
pub(crate) struct Line<'a>(&'a mut Content);

impl Line<'_> {
    /// `;key=value`, quoted when the value holds `:`, `;` or `,`; double
    /// quotes and control characters, which no parameter value may hold,
    /// are dropped.
    pub fn param(self, key: &str, value: &str) -> Self {
        let line = &mut self.0.line;
        line.push(';');
        line.push_str(key);
        line.push('=');
        let quote = value.contains([':', ';', ',']);
        if quote {
            line.push('"');
        }
        line.extend(value.chars().filter(|c| *c != '"' && !c.is_control()));
        if quote {
            line.push('"');
        }
        self
    }

    /// `:value` as TEXT: backslash, semicolon and comma escaped, each line
    /// break (LF, CRLF or CR) as `\n`, other control characters but tab
    /// dropped.
    pub fn text(self, value: &str) {
        self.0.line.push(':');
        escape_into(&mut self.0.line, value);
        self.0.flush();
    }

    /// `:` and several TEXT values separated by commas (CATEGORIES).
    pub fn texts<'s>(self, values: impl IntoIterator<Item = &'s str>) {
        self.0.line.push(':');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.0.line.push(',');
            }
            escape_into(&mut self.0.line, value);
        }
        self.0.flush();
    }

    /// `:value` as written (a date, a number, a rule: nothing to escape).
    pub fn raw(self, value: impl fmt::Display) {
        let _ = write!(self.0.line, ":{value}");
        self.0.flush();
    }
}

fn escape_into(line: &mut String, value: &str) {
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => line.push_str("\\\\"),
            ';' => line.push_str("\\;"),
            ',' => line.push_str("\\,"),
            '\n' => line.push_str("\\n"),
            '\r' => {
                chars.next_if_eq(&'\n');
                line.push_str("\\n");
            }
            '\t' => line.push('\t'),
            c if c.is_control() => {}
            c => line.push(c),
        }
    }
}

/// A DATE value: `20261124`.
pub(crate) struct Date(pub NaiveDate);

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(f, "{:04}{:02}{:02}", d.year(), d.month(), d.day())
    }
}

/// A local DATE-TIME value (with a TZID, or in a VTIMEZONE): `20261124T100000`.
pub(crate) struct Local(pub NaiveDateTime);

impl fmt::Display for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0.time();
        write!(
            f,
            "{}T{:02}{:02}{:02}",
            Date(self.0.date()),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

/// A UTC DATE-TIME value: `20261124T100000Z`.
pub(crate) struct Instant(pub DateTime<Utc>);

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Z", Local(self.0.naive_utc()))
    }
}

/// A UTC-OFFSET value: `+0100`, `-0330`, `+053728` (seconds when any).
pub(crate) struct Offset(pub i32);

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let total = self.0.unsigned_abs();
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
        write!(f, "{sign}{h:02}{m:02}")?;
        if s != 0 {
            write!(f, "{s:02}")?;
        }
        Ok(())
    }
}

/// A DURATION value in whole minutes: `-PT15M`, `-P1DT2H`, `PT0S`.
pub(crate) struct Before(pub u32);

impl fmt::Display for Before {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minutes = self.0;
        if minutes == 0 {
            return f.write_str("PT0S");
        }
        let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
        f.write_str("-P")?;
        if days > 0 {
            write!(f, "{days}D")?;
        }
        if hours > 0 || minutes > 0 {
            f.write_str("T")?;
            if hours > 0 {
                write!(f, "{hours}H")?;
            }
            if minutes > 0 {
                write!(f, "{minutes}M")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(name: &str, value: &str) -> String {
        let mut content = Content::default();
        content.line(name).text(value);
        content.finish()
    }

    /// Undoes the folding (RFC 5545 §3.1) and the CRLF at the end.
    fn unfold(text: &str) -> String {
        text.strip_suffix("\r\n")
            .unwrap_or(text)
            .replace("\r\n ", "")
    }

    #[test]
    fn text_is_escaped_and_every_line_break_is_one_escape() {
        assert_eq!(
            one("DESCRIPTION", "a,b;c\\d\r\ne\rf\ng\u{7}h\ti"),
            "DESCRIPTION:a\\,b\\;c\\\\d\\ne\\nf\\ngh\ti\r\n"
        );
    }

    #[test]
    fn parameters_are_quoted_only_when_they_must_be() {
        let mut content = Content::default();
        content
            .line("DUE")
            .param("TZID", "Europe/Berlin")
            .raw(Local(
                NaiveDate::from_ymd_opt(2026, 11, 24)
                    .unwrap()
                    .and_hms_opt(10, 0, 0)
                    .unwrap(),
            ));
        content.line("X").param("P", "a:b\"c").raw("v");
        assert_eq!(
            content.finish(),
            "DUE;TZID=Europe/Berlin:20261124T100000\r\nX;P=\"a:bc\":v\r\n"
        );
    }

    #[test]
    fn values_are_written_in_their_ical_forms() {
        let date = NaiveDate::from_ymd_opt(987, 3, 5).unwrap();
        assert_eq!(Date(date).to_string(), "09870305");
        let at = date.and_hms_opt(7, 8, 9).unwrap();
        assert_eq!(Local(at).to_string(), "09870305T070809");
        assert_eq!(Instant(at.and_utc()).to_string(), "09870305T070809Z");
        assert_eq!(Offset(3600).to_string(), "+0100");
        assert_eq!(Offset(-12_600).to_string(), "-0330");
        assert_eq!(Offset(3208).to_string(), "+005328");
        assert_eq!(Before(0).to_string(), "PT0S");
        assert_eq!(Before(15).to_string(), "-PT15M");
        assert_eq!(Before(1440).to_string(), "-P1D");
        assert_eq!(Before(1440 + 120).to_string(), "-P1DT2H");
        assert_eq!(Before(61).to_string(), "-PT1H1M");
    }

    /// Reads TEXT back as a parser would (RFC 5545 §3.3.11).
    fn unescape(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n' | 'N') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                assert!(!matches!(c, ';' | ','), "unescaped {c} in {text:?}");
                out.push(c);
            }
        }
        out
    }

    proptest! {
        #[test]
        fn folded_lines_are_short_whole_characters_and_unfold_to_the_line(
            value in "(\\PC|[\r\n\t,;\\\\]){0,400}",
        ) {
            let written = one("DESCRIPTION", &value);
            prop_assert!(written.ends_with("\r\n"));
            let body = &written[..written.len() - 2];
            for physical in body.split("\r\n") {
                prop_assert!(physical.len() <= FOLD_AT, "{physical:?}");
                prop_assert!(!physical.contains(['\r', '\n']));
            }
            for continuation in body.split("\r\n").skip(1) {
                prop_assert!(continuation.starts_with(' '));
            }
            let line = unfold(&written);
            let escaped = line.strip_prefix("DESCRIPTION:").unwrap();
            let normalized: String = value
                .replace("\r\n", "\n")
                .replace('\r', "\n")
                .chars()
                .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
                .collect();
            prop_assert_eq!(unescape(escaped), normalized);
        }
    }
}
