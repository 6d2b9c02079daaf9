//! Per-request telemetry: the request's trace (W3C `traceparent` in,
//! `traceresponse` out), a request id (`x-request-id`, generated when the
//! client sends none, echoed in the response and put on the request's
//! tracing span), and Prometheus metrics — request counts and latency
//! histograms per route, plus whatever the rest of the process records
//! (events published, relay lag) — rendered at `/metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use taskflow_events::trace::{self, TraceContext};

/// Latency buckets, in seconds: 0.1 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0,
];

/// The process-wide Prometheus recorder, installed on first use. None if
/// another recorder was installed first (then `/metrics` says so).
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Counts the request and records its latency under its route pattern.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Runs the request in its trace: a child of the caller's `traceparent`, or
/// a new trace. What it commits carries the trace on; the answer names it in
/// `traceresponse` (Trace Context Level 2), so a client can find its
/// request in the logs.
pub async fn traced(request: Request, next: Next) -> Response {
    let parent = request
        .headers()
        .get("traceparent")
        .and_then(|value| value.to_str().ok());
    let context = TraceContext::continue_from(parent);
    let mut response = trace::scope(context, next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&context.to_string()) {
        response.headers_mut().insert("traceresponse", value);
    }
    response
}
