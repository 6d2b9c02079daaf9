//! Webhook endpoints and their deliveries: where a user's changes are
//! POSTed, signed per Standard Webhooks, and the record of each attempt.
//! Which addresses an endpoint may reach is decided here, once: the store
//! checks a new URL with it, the sender checks every address it connects to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

use crate::Invalid;

/// The longest endpoint URL, in bytes.
pub const MAX_URL: usize = 2048;
/// The longest description, in characters.
pub const MAX_WEBHOOK_DESCRIPTION: usize = 200;
/// The CloudEvents type of a test delivery.
pub const PING_TYPE: &str = "taskflow.ping.v1";

/// An endpoint as its owner sees it (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Webhook {
    pub id: i64,
    /// Where deliveries are POSTed.
    pub url: String,
    pub description: String,
    /// The CloudEvents types delivered; null: every type.
    pub event_types: Option<Vec<String>>,
    /// Only this list's changes; null: every change the owner may see.
    pub list_id: Option<i64>,
    pub enabled: bool,
    /// Why Taskflow disabled it (the receiver answered 410, or it failed
    /// for five days); null when enabled or disabled by its owner.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; null when the last succeeded.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret signs too (after a rotation).
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An endpoint with its signing secret: the answer to its creation and to
/// a rotation, the only times the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` and the base64 of the key: verify each delivery with it.
    pub secret: String,
}

/// A new endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// `https://…` (`http://` to a loopback address only when the server
    /// allows it for development); never a private, link-local or
    /// metadata address.
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The CloudEvents types to deliver (see `GET /api/webhooks/event-types`);
    /// absent or null: every type.
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    /// Only this list's changes (you must administer it); absent: every
    /// change you may see.
    #[serde(default)]
    pub list_id: Option<i64>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A change to an endpoint: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// null: every type.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::ops::present"
    )]
    pub event_types: Option<Option<Vec<String>>>,
    /// null: every change you may see.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::ops::present"
    )]
    pub list_id: Option<Option<i64>>,
    /// Enabling an endpoint Taskflow disabled sends what waited, from the
    /// oldest.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Where a delivery stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or its next retry.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every retry failed; redeliver it by hand.
    Failed,
}

impl DeliveryStatus {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One delivery of one event to one endpoint, with its last attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Delivery {
    /// The `webhook-id` header: the same for every attempt, redelivery and
    /// replay of this event to this endpoint.
    pub id: String,
    /// The event's sequence (0 for a test).
    pub sequence: i64,
    /// The CloudEvents type, such as `taskflow.task.completed.v1`.
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// The HTTP status of the last attempt (null: no answer).
    pub last_status: Option<i32>,
    /// What went wrong in the last attempt (at most 4 KB of it).
    pub last_error: Option<String>,
    pub last_duration_ms: Option<i32>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next attempt is due, while pending behind a failure.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A page of an endpoint's deliveries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only deliveries in this state: pending, succeeded or failed.
    #[serde(default)]
    pub status: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

/// An endpoint's deliveries, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    /// Pass as `cursor` for older deliveries; null on the last page.
    pub next_cursor: Option<String>,
}

/// Resend every event after a point.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// Resend the endpoint's events with a sequence above this one.
    #[schemars(range(min = 0))]
    pub since_sequence: i64,
}

/// What a replay queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Replayed {
    /// Deliveries queued (the endpoint's events among those read).
    pub queued: i64,
    /// The last sequence read.
    pub through_sequence: i64,
    /// More events wait after `through_sequence`: replay again from it.
    pub has_more: bool,
}

/// An endpoint URL as given, checked for its form: a scheme Taskflow sends
/// to and a host; where the host may lead is [`reachable`]'s question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: String,
    host: String,
    /// The host, when it is an address.
    literal: Option<IpAddr>,
    secure: bool,
}

impl WebhookUrl {
    /// Checks `url`'s form, read as the sender's HTTP client reads it (so
    /// `https://0x7f.1/` is the loopback address it is). `insecure` allows
    /// `http://`, and loopback addresses, for development.
    pub fn parse(url: &str, insecure: bool) -> Result<Self, Invalid> {
        let bad = |reason: &str| Invalid::new("url", reason);
        let url = url.trim();
        if url.len() > MAX_URL {
            return Err(bad("the URL is longer than 2048 bytes"));
        }
        let parsed = url::Url::parse(url)
            .map_err(|err| Invalid::new("url", format!("give an absolute https:// URL ({err})")))?;
        let secure = match parsed.scheme() {
            "https" => true,
            "http" if insecure => false,
            "http" => {
                return Err(bad(
                    "webhooks are sent over https only (http:// to loopback needs --webhooks-allow-insecure)",
                ));
            }
            _ => return Err(bad("give an https:// URL")),
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(bad("the URL may not carry credentials"));
        }
        let (host, literal) = match parsed.host() {
            Some(url::Host::Domain(name)) => (name.to_owned(), None),
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), Some(IpAddr::V6(ip))),
            None => return Err(bad("the URL has no host")),
        };
        let checked = WebhookUrl {
            url: parsed.to_string(),
            host,
            literal,
            secure,
        };
        if let Some(ip) = literal {
            checked.check(ip, insecure)?;
        }
        let loopback = literal.map_or(checked.host == "localhost", |ip| ip.is_loopback());
        if !secure && !loopback {
            return Err(bad("http:// is allowed only to a loopback address"));
        }
        Ok(checked)
    }

    /// The URL, normalised.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The host (lower case; an IPv6 address without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The host's address, when the URL names one.
    pub fn literal(&self) -> Option<IpAddr> {
        self.literal
    }

    /// Whether the URL is `https://`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Refuses an address the endpoint may not reach.
    /// (The address itself is not named: that would let anyone probe
    /// what names resolve to inside the network.)
    pub fn check(&self, ip: IpAddr, insecure: bool) -> Result<(), Invalid> {
        if reachable(ip, insecure) {
            Ok(())
        } else {
            Err(Invalid::new(
                "url",
                format!(
                    "`{}` leads to a private, loopback, link-local or otherwise non-public address; webhooks go to public addresses only",
                    self.host
                ),
            ))
        }
    }
}

/// Whether a webhook may be sent to `ip`: a public unicast address, or a
/// loopback one when `insecure` (development) allows it. Never a private,
/// link-local (the cloud metadata service), shared, reserved, multicast or
/// unspecified address, in IPv4, IPv6 or IPv4 written as IPv6.
pub fn reachable(ip: IpAddr, insecure: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => reachable_v4(v4, insecure),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => reachable_v4(v4, insecure),
            None => reachable_v6(v6, insecure),
        },
    }
}

fn reachable_v4(ip: Ipv4Addr, insecure: bool) -> bool {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        return insecure;
    }
    !(ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // shared address space (carrier-grade NAT)
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments
        || (a == 192 && b == 0 && c == 0)
        // benchmarking
        || (a == 198 && (b == 18 || b == 19))
        // reserved
        || a >= 240
        // Azure's host endpoint (WireServer), public-looking but internal
        || ip == Ipv4Addr::new(168, 63, 129, 16))
}

fn reachable_v6(ip: Ipv6Addr, insecure: bool) -> bool {
    if ip.is_loopback() {
        return insecure;
    }
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_multicast()
        // unique local (fc00::/7)
        || (first & 0xfe00) == 0xfc00
        // link-local (fe80::/10)
        || (first & 0xffc0) == 0xfe80
        // documentation (2001:db8::/32)
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // site-local (fec0::/10, deprecated)
        || (first & 0xffc0) == 0xfec0
        // IPv4-compatible and other embeddings of private space
        || ip.to_ipv4().is_some_and(|v4| !reachable_v4(v4, false))
        // NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48)
        || (first == 0x0064 && (ip.segments()[1] == 0xff9b))
        // Teredo (2001::/32) hides its IPv4 address
        || (first == 0x2001 && ip.segments()[1] == 0)
        // 6to4 (2002::/16) of a non-public IPv4 address
        || (first == 0x2002 && {
            let [_, a, b, ..] = ip.segments();
            let v4 = Ipv4Addr::new((a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8);
            !reachable_v4(v4, false)
        }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_public_addresses_are_reachable() {
        for refused in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2001:0:4136:e378::1",
            "2002:a00:1::1",
            "fec0::1",
            "168.63.129.16",
        ] {
            assert!(!reachable(refused.parse().unwrap(), false), "{refused}");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(reachable(public.parse().unwrap(), false), "{public}");
        }
        assert!(reachable("127.0.0.1".parse().unwrap(), true));
        assert!(reachable("::1".parse().unwrap(), true));
        assert!(!reachable("10.0.0.1".parse().unwrap(), true));
    }

    #[test]
    fn a_url_needs_https_a_host_and_a_public_literal() {
        assert!(WebhookUrl::parse("https://example.com/hook", false).is_ok());
        assert!(WebhookUrl::parse("https://[2606:4700::1111]:8443/h", false).is_ok());
        for (url, insecure) in [
            ("http://example.com/hook", false),
            ("http://example.com/hook", true),
            ("ftp://example.com", false),
            ("example.com/hook", false),
            ("https://", false),
            ("https://0x7f.1/", false),
            ("https://2130706433/", false),
            ("https://user:pw@example.com/", false),
            ("https://127.0.0.1/", false),
            ("https://10.0.0.1/", true),
            ("https://169.254.169.254/latest/meta-data", false),
            ("https://[::ffff:127.0.0.1]/", false),
            ("https://[fe80::1]/", false),
        ] {
            let err = WebhookUrl::parse(url, insecure).unwrap_err();
            assert_eq!(err.field, "url", "{url}");
        }
        let local = WebhookUrl::parse("http://127.0.0.1:9000/in", true).unwrap();
        assert_eq!(local.host(), "127.0.0.1");
        assert!(!local.is_secure());
        assert!(WebhookUrl::parse("http://localhost:9000/in", true).is_ok());
        assert_eq!(
            WebhookUrl::parse("https://Example.COM:443/x", false)
                .unwrap()
                .host(),
            "example.com"
        );
    }
}
