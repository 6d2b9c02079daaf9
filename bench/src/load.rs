//! Servers the harness starts (and stops by process id) and the load it
//! puts on them: closed-loop HTTP from N connections, latency samples.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::io;

use anyhow::{Context, bail};
use taskflow_testkit::process::{sigterm, try_spawn_listening};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::record;

/// A binary built beside this one (`target/<profile>/`).
pub fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let binary = exe.with_file_name(name);
    if !binary.exists() {
        bail!(
            "{} is missing: build it first (cargo build --release --bins)",
            binary.display()
        );
    }
    Ok(binary)
}

/// A server started by the harness.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub pid: u32,
    pub url: String,
}

impl Server {
    /// Spawns `command` and waits (at most 30 s) for its "… listening on URL" line.
    pub async fn start(mut command: Command) -> anyhow::Result<Server> {
        let listening = try_spawn_listening(command.stderr(Stdio::null()))
            .await
            .map_err(anyhow::Error::msg)?;
        let pid = listening.child.id().context("the server has no pid")?;
        Ok(Server {
            child: listening.child,
            pid,
            url: listening.url,
        })
    }

    pub fn cpu(&self) -> Duration {
        record::cpu_time(self.pid)
    }

    pub fn rss_kib(&self) -> f64 {
        record::rss_kib(self.pid)
    }

    /// Stops it by process id: SIGTERM, then SIGKILL after 10 s.
    pub async fn stop(mut self) {
        sigterm(&self.child);
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// What a load run measured.
#[derive(Debug, Default)]
pub struct Load {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latency of each successful request, in microseconds.
    pub samples: Vec<u32>,
}

impl Load {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile of the latencies, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.samples, q)
    }
}

/// The `q` quantile of microsecond samples, in milliseconds.
pub fn quantile_ms(samples: &[u32], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1000.0
}

/// Microseconds of a duration, saturated.
pub fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// One HTTP/1.1 POST, encoded once, as the closed loop sends it.
pub fn post(url: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    request("POST", url, path, headers, body)
}

/// One HTTP/1.1 GET, encoded once.
pub fn get(url: &str, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    request("GET", url, path, headers, b"")
}

/// One HTTP/1.1 request of any method (`REPORT`), encoded once.
pub fn request(
    method: &str,
    url: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let host = url.trim_start_matches("http://");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Closed loop: `connections` workers, each with its own keep-alive
/// connection to `url` (`http://host:port`), send `request(worker, n)` (from
/// [`post`] or [`get`]) back to back; the first `warmup` is not counted.
///
/// The client is a bare HTTP/1.1 exchange over a socket, not reqwest: the
/// load shares the machine's two cores with the server, and this costs it
/// a small fraction of what a full client does per request, so the server
/// is what is measured.
pub async fn closed_loop<F>(
    url: &str,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    request: F,
) -> Load
where
    F: Fn(usize, u64) -> Vec<u8> + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let address = url.trim_start_matches("http://").to_owned();
    let start = Instant::now() + warmup;
    let end = start + duration;
    let workers: Vec<_> = (0..connections)
        .map(|worker| {
            let (request, address) = (request.clone(), address.clone());
            tokio::spawn(async move {
                let mut load = Load::default();
                let mut connection: Option<TcpStream> = None;
                let mut buffer = Vec::with_capacity(4096);
                let mut n = 0u64;
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let bytes = request(worker, n);
                    n += 1;
                    let exchange = async {
                        if connection.is_none() {
                            let stream = TcpStream::connect(&address).await?;
                            stream.set_nodelay(true)?;
                            connection = Some(stream);
                        }
                        let Some(stream) = connection.as_mut() else {
                            unreachable!("connected above")
                        };
                        exchange(stream, &mut buffer, &bytes).await
                    };
                    let ok = match tokio::time::timeout(CALL_TIMEOUT, exchange).await {
                        // A 304 answers a conditional request in full.
                        Ok(Ok(status)) => (200..300).contains(&status) || status == 304,
                        _ => {
                            // Start over on a new connection.
                            connection = None;
                            false
                        }
                    };
                    if sent < start {
                        continue;
                    }
                    if ok {
                        load.ok += 1;
                        load.samples.push(micros(sent.elapsed()));
                    } else {
                        load.errors += 1;
                    }
                }
                load
            })
        })
        .collect();
    let mut total = Load {
        elapsed: duration,
        ..Load::default()
    };
    for worker in futures::future::join_all(workers).await {
        let load = worker.unwrap_or_default();
        total.ok += load.ok;
        total.errors += load.errors;
        total.samples.extend(load.samples);
    }
    total
}

/// The longest one request of the closed loop may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends `request` and reads the whole response (a `Content-Length` body;
/// chunked bodies are not spoken here and fail); returns its status.
async fn exchange(stream: &mut TcpStream, buffer: &mut Vec<u8>, request: &[u8]) -> io::Result<u16> {
    stream.write_all(request).await?;
    buffer.clear();
    loop {
        if stream.read_buf(buffer).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let head = match response.parse(buffer) {
            Ok(httparse::Status::Complete(head)) => head,
            Ok(httparse::Status::Partial) => continue,
            Err(err) => return Err(io::Error::new(io::ErrorKind::InvalidData, err)),
        };
        let status = response.code.unwrap_or(0);
        let mut length = 0;
        for header in response.headers.iter() {
            if header.name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "a chunked response",
                ));
            }
            if header.name.eq_ignore_ascii_case("content-length") {
                length = std::str::from_utf8(header.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "content-length"))?;
            }
        }
        while buffer.len() < head + length {
            if stream.read_buf(buffer).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        return Ok(status);
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
