//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>): one trace
//! follows a change from the request that made it, through its commit (the
//! outbox row keeps the `traceparent`), the publish (the CloudEvent carries
//! it, as the CloudEvents distributed-tracing extension), to every consumer
//! and what the consumer writes or pushes in turn.
//!
//! Each unit of work (an HTTP request, an MCP tool call, a delivered event, a
//! fired reminder) runs inside [`scope`] with a context of its own: the
//! caller's trace id and a new span id. Code below it reads [`current`] to
//! stamp what it writes, and its tracing span records `trace_id` so that
//! every log line of the work carries it.

use std::fmt;
use std::future::Future;

use rand::Rng;

tokio::task_local! {
    static CURRENT: TraceContext;
}

/// A position in a trace: the `traceparent` header of version `00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    /// The trace, shared by every span of it; never zero.
    pub trace_id: u128,
    /// This span; never zero.
    pub span_id: u64,
    /// The caller's sampling decision (`01` = sampled).
    pub sampled: bool,
}

impl TraceContext {
    /// The start of a new trace (sampled: logs are kept for every trace).
    pub fn root() -> Self {
        let mut rng = rand::rng();
        Self {
            trace_id: rng.random_range(1..=u128::MAX),
            span_id: rng.random_range(1..=u64::MAX),
            sampled: true,
        }
    }

    /// A new span of the same trace, whose parent is this one.
    pub fn child(&self) -> Self {
        Self {
            span_id: rand::rng().random_range(1..=u64::MAX),
            ..*self
        }
    }

    /// A child of the `traceparent` given, or a new trace when there is none
    /// or it is not valid (the specification's rule: restart the trace).
    pub fn continue_from(traceparent: Option<&str>) -> Self {
        traceparent
            .and_then(Self::parse)
            .map_or_else(Self::root, |parent| parent.child())
    }

    /// The trace of a message that has none, derived from its id, so every
    /// re-publish of it lands in the same trace.
    pub fn of_message(id: u128) -> Self {
        let trace_id = id.max(1);
        let span_id = (id as u64).max(1);
        Self {
            trace_id,
            span_id,
            sampled: true,
        }
    }

    /// Parses a `traceparent` value. Version `00` must be exactly
    /// `00-<32 hex>-<16 hex>-<2 hex>`; a later version may append fields
    /// after those four. Upper-case hex, zero ids and version `ff` are
    /// invalid.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let mut parts = value.split('-');
        let version = parts.next()?;
        let trace_id = parts.next()?;
        let span_id = parts.next()?;
        let flags = parts.next()?;
        let lower_hex = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !lower_hex(version, 2) || version == "ff" || (version == "00" && parts.next().is_some())
        {
            return None;
        }
        if !lower_hex(trace_id, 32) || !lower_hex(span_id, 16) || !lower_hex(flags, 2) {
            return None;
        }
        let trace_id = u128::from_str_radix(trace_id, 16).ok()?;
        let span_id = u64::from_str_radix(span_id, 16).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        (trace_id != 0 && span_id != 0).then_some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    /// The trace id as 32 lower-case hex digits (as logged).
    pub fn trace_id_hex(&self) -> String {
        format!("{:032x}", self.trace_id)
    }

    /// The span id as 16 lower-case hex digits (as logged).
    pub fn span_id_hex(&self) -> String {
        format!("{:016x}", self.span_id)
    }
}

/// The `traceparent` form: `00-<trace id>-<span id>-<flags>`.
impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
    }
}

/// Runs `work` with `context` as the current trace context.
pub async fn scope<F: Future>(context: TraceContext, work: F) -> F::Output {
    CURRENT.scope(context, work).await
}

/// The trace context of the work running now, if it runs in a [`scope`].
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(|context| *context).ok()
}

/// The `traceparent` to stamp on what the current work writes or sends.
pub fn current_traceparent() -> Option<String> {
    current().map(|context| context.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_specification_example() {
        let text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let context = TraceContext::parse(text).expect("valid");
        assert_eq!(context.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(context.span_id, 0x00f067aa0ba902b7);
        assert!(context.sampled);
        assert_eq!(context.to_string(), text);
        assert_eq!(context.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(context.span_id_hex(), "00f067aa0ba902b7");
    }

    #[test]
    fn refuses_what_the_specification_calls_invalid() {
        for bad in [
            "",
            "00",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceContext::parse(bad), None, "{bad:?}");
        }
        // A later version may add fields.
        assert!(
            TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x")
                .is_some_and(|c| !c.sampled)
        );
    }

    #[test]
    fn a_child_keeps_the_trace_and_an_invalid_parent_starts_a_new_one() {
        let parent = TraceContext::root();
        let child = TraceContext::continue_from(Some(&parent.to_string()));
        assert_eq!(child.trace_id, parent.trace_id);
        assert_ne!(child.span_id, parent.span_id);
        let fresh = TraceContext::continue_from(Some("garbage"));
        assert_ne!(fresh.trace_id, parent.trace_id);
        assert_ne!(fresh.trace_id, 0);
    }

    #[test]
    fn a_message_without_a_trace_gets_the_same_one_each_time() {
        let id = 0x0190_1234_5678_7abc_8def_0123_4567_89ab_u128;
        assert_eq!(TraceContext::of_message(id), TraceContext::of_message(id));
        let zero = TraceContext::of_message(0);
        assert!(TraceContext::parse(&zero.to_string()).is_some());
    }

    #[tokio::test]
    async fn the_current_context_is_the_scope_s() {
        assert_eq!(current(), None);
        let context = TraceContext::root();
        let seen = scope(context, async {
            tokio::task::yield_now().await;
            current()
        })
        .await;
        assert_eq!(seen, Some(context));
        assert_eq!(current_traceparent(), None);
    }
}
