//! WebDAV's XML: request bodies read into a small tree of namespaced
//! elements (no DTDs, no entities beyond XML's five, at most 32 deep), then
//! into the requests CalDAV clients make; answers written by hand into one
//! `String`, with the four prefixes every answer declares.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

/// WebDAV's namespace.
pub const DAV: &str = "DAV:";
/// CalDAV's namespace.
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
/// Apple's calendar server properties (`getctag`).
pub const CS: &str = "http://calendarserver.org/ns/";
/// Apple's iCal properties (`calendar-color`, `calendar-order`).
pub const ICAL: &str = "http://apple.com/ns/ical/";

/// How deep a request body nests at most.
const MAX_DEPTH: usize = 32;

/// A property's name: its namespace and local name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub ns: String,
    pub local: String,
}

impl Name {
    pub fn new(ns: &str, local: &str) -> Self {
        Self {
            ns: ns.into(),
            local: local.into(),
        }
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// The element with this name, empty (`<d:getetag/>`).
    pub fn empty(&self) -> String {
        match prefix(&self.ns) {
            Some(p) => format!("<{p}:{}/>", self.local),
            None if self.ns.is_empty() => format!("<{} xmlns=\"\"/>", self.local),
            None => format!(
                "<x:{} xmlns:x=\"{}\"/>",
                self.local,
                quick_xml::escape::escape(&self.ns)
            ),
        }
    }
}

/// The prefix an answer declares for `ns`.
fn prefix(ns: &str) -> Option<&'static str> {
    match ns {
        DAV => Some("d"),
        CALDAV => Some("c"),
        CS => Some("cs"),
        ICAL => Some("ic"),
        _ => None,
    }
}

/// An element of a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: Name,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// The first child named so.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name.is(ns, local))
    }

    /// The value of an attribute (by local name).
    pub fn attribute(&self, local: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(name, _)| name == local)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads a request body; None when it is not well-formed XML, nests too
/// deep or declares a DTD.
pub fn parse(body: &str) -> Option<Element> {
    let mut reader = NsReader::from_str(body);
    let mut open: Vec<Element> = Vec::new();
    loop {
        let (ns, event) = reader.read_resolved_event().ok()?;
        let ns = match ns {
            ResolveResult::Bound(ns) => String::from(ns.as_ref()),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(_) => return None,
        };
        let closed = match event {
            Event::Start(start) => {
                if open.len() >= MAX_DEPTH {
                    return None;
                }
                open.push(element(ns, &start)?);
                None
            }
            Event::Empty(start) => Some(element(ns, &start)?),
            Event::End(_) => Some(open.pop()?),
            // Text outside the root is the whitespace around it.
            Event::Text(text) => {
                if let Some(open) = open.last_mut() {
                    open.text.push_str(&text.xml10_content());
                }
                None
            }
            Event::GeneralRef(entity) => {
                let entity = format!("&{};", entity.xml10_content());
                let text = quick_xml::escape::unescape(&entity).ok()?;
                open.last_mut()?.text.push_str(&text);
                None
            }
            Event::CData(data) => {
                open.last_mut()?.text.push_str(&data.xml10_content());
                None
            }
            Event::DocType(_) | Event::Eof => return None,
            _ => None,
        };
        if let Some(done) = closed {
            match open.last_mut() {
                Some(parent) => parent.children.push(done),
                None => return Some(done),
            }
        }
    }
}

fn element(ns: String, start: &quick_xml::events::BytesStart<'_>) -> Option<Element> {
    let local = String::from(start.local_name().as_ref());
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.ok()?;
        let key = String::from(attribute.key.local_name().as_ref());
        let value = attribute.normalized_value(XmlVersion::Implicit1_0).ok()?;
        attributes.push((key, value.into_owned()));
    }
    Some(Element {
        name: Name { ns, local },
        attributes,
        children: Vec::new(),
        text: String::new(),
    })
}

/// Text escaped for XML (`<`, `>` and `&`; quotes stay, as in `getetag`).
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::partial_escape(text)
}

/// A `<d:multistatus>` being written: one `<d:response>` at a time.
#[derive(Debug)]
pub struct Multistatus(String);

impl Multistatus {
    pub fn new() -> Self {
        Self(String::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\" \
             xmlns:c=\"urn:ietf:params:xml:ns:caldav\" xmlns:cs=\"http://calendarserver.org/ns/\" \
             xmlns:ic=\"http://apple.com/ns/ical/\">",
        ))
    }

    /// A resource's properties: those found (name, inner XML) under 200,
    /// the rest under 404.
    pub fn response(&mut self, href: &str, found: &[(Name, String)], missing: &[Name]) {
        self.0.push_str("<d:response><d:href>");
        self.0.push_str(&escape(href));
        self.0.push_str("</d:href>");
        if !found.is_empty() || missing.is_empty() {
            self.0.push_str("<d:propstat><d:prop>");
            for (name, value) in found {
                self.property(name, value);
            }
            self.0
                .push_str("</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>");
        }
        if !missing.is_empty() {
            self.0.push_str("<d:propstat><d:prop>");
            for name in missing {
                self.0.push_str(&name.empty());
            }
            self.0
                .push_str("</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>");
        }
        self.0.push_str("</d:response>");
    }

    /// A resource's properties in groups, each under its own status
    /// (`PROPPATCH`: `200 OK`, `403 Forbidden`, `424 Failed Dependency`).
    pub fn propstats(&mut self, href: &str, groups: &[(&str, Vec<Name>)]) {
        self.0.push_str("<d:response><d:href>");
        self.0.push_str(&escape(href));
        self.0.push_str("</d:href>");
        for (status, names) in groups.iter().filter(|(_, names)| !names.is_empty()) {
            self.0.push_str("<d:propstat><d:prop>");
            for name in names {
                self.0.push_str(&name.empty());
            }
            self.0.push_str("</d:prop><d:status>HTTP/1.1 ");
            self.0.push_str(status);
            self.0.push_str("</d:status></d:propstat>");
        }
        self.0.push_str("</d:response>");
    }

    /// A resource answered with a status alone (a gone member, 404).
    pub fn status(&mut self, href: &str, status: &str, error: Option<&str>) {
        self.0.push_str("<d:response><d:href>");
        self.0.push_str(&escape(href));
        self.0.push_str("</d:href><d:status>HTTP/1.1 ");
        self.0.push_str(status);
        self.0.push_str("</d:status>");
        if let Some(error) = error {
            self.0.push_str("<d:error>");
            self.0.push_str(error);
            self.0.push_str("</d:error>");
        }
        self.0.push_str("</d:response>");
    }

    fn property(&mut self, name: &Name, value: &str) {
        if value.is_empty() {
            self.0.push_str(&name.empty());
            return;
        }
        match prefix(&name.ns) {
            Some(p) => {
                self.0
                    .push_str(&format!("<{p}:{}>{value}</{p}:{}>", name.local, name.local));
            }
            None if name.ns.is_empty() => self.0.push_str(&format!(
                "<{} xmlns=\"\">{value}</{}>",
                name.local, name.local
            )),
            None => self.0.push_str(&format!(
                "<x:{} xmlns:x=\"{}\">{value}</x:{}>",
                name.local,
                quick_xml::escape::escape(&name.ns),
                name.local
            )),
        }
    }

    /// The document, with `extra` (a `<d:sync-token>`) before its end.
    pub fn finish(mut self, extra: &str) -> String {
        self.0.push_str(extra);
        self.0.push_str("</d:multistatus>");
        self.0
    }
}

/// A `<d:error>` body naming the precondition (`<d:valid-sync-token/>`),
/// with a description a person can read.
pub fn error(condition: &str, description: Option<&str>) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"DAV:\" \
         xmlns:c=\"urn:ietf:params:xml:ns:caldav\">",
    );
    out.push_str(condition);
    if let Some(description) = description {
        out.push_str("<d:responsedescription>");
        out.push_str(&escape(description));
        out.push_str("</d:responsedescription>");
    }
    out.push_str("</d:error>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_reads_into_namespaced_elements_with_text_and_attributes() {
        let body = r#"<?xml version="1.0"?>
            <C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
              <D:prop><D:getetag/><x:color xmlns:x="urn:other"/></D:prop>
              <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">
                <C:prop-filter name="STATUS"><C:text-match negate-condition="yes">COMP&amp;LETED &#65;</C:text-match></C:prop-filter>
              </C:comp-filter></C:comp-filter></C:filter>
              <D:href><![CDATA[/a b]]></D:href>
            </C:calendar-query>"#;
        let root = parse(body).unwrap();
        assert!(root.name.is(CALDAV, "calendar-query"));
        let prop = root.child(DAV, "prop").unwrap();
        assert_eq!(
            prop.children
                .iter()
                .map(|c| c.name.clone())
                .collect::<Vec<_>>(),
            [Name::new(DAV, "getetag"), Name::new("urn:other", "color")]
        );
        let todo = root
            .child(CALDAV, "filter")
            .and_then(|f| f.child(CALDAV, "comp-filter"))
            .and_then(|f| f.child(CALDAV, "comp-filter"))
            .unwrap();
        assert_eq!(todo.attribute("name"), Some("VTODO"));
        let matching = todo.children[0].child(CALDAV, "text-match").unwrap();
        assert_eq!(matching.text, "COMP&LETED A");
        assert_eq!(matching.attribute("negate-condition"), Some("yes"));
        assert_eq!(root.child(DAV, "href").unwrap().text, "/a b");
    }

    #[test]
    fn malformed_deep_and_dtd_bodies_are_refused() {
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        for bad in [
            "",
            "<d:prop xmlns:d=\"DAV:\">",
            "<d:prop>unbound prefix</d:prop>",
            "<a></b>",
            &deep,
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><a>&e;</a>",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_answer_puts_missing_properties_under_404_in_their_namespace() {
        let mut out = Multistatus::new();
        out.response(
            "/dav/a b/",
            &[(Name::new(DAV, "getetag"), "\"1-2\"".into())],
            &[Name::new("urn:other", "colour"), Name::new("", "plain")],
        );
        let text = out.finish("<d:sync-token>t</d:sync-token>");
        assert!(text.contains("<d:href>/dav/a b/</d:href>"), "{text}");
        assert!(text.contains("<d:getetag>\"1-2\"</d:getetag>"), "{text}");
        assert!(text.contains("<x:colour xmlns:x=\"urn:other\"/>"), "{text}");
        assert!(text.contains("<plain xmlns=\"\"/>"), "{text}");
        assert!(text.contains("404 Not Found"));
        assert!(text.ends_with("<d:sync-token>t</d:sync-token></d:multistatus>"));
        assert!(parse(&text).is_some(), "well-formed: {text}");
    }
}
