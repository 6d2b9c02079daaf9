//! How every process serves HTTP: an HTTP/1.1 accept loop ([`serve`]) over a
//! listener whose connections have a bounded kernel send buffer and a write
//! timeout, so a peer that stops reading (a stalled browser tab holding an
//! SSE stream, a slow-loris client) is disconnected instead of holding its
//! connection, buffers and stream subscription forever. Other connections
//! never wait on it either way; this bounds what it costs. (Left to autotuning, Linux grows a send buffer to
//! `tcp_wmem`'s maximum, 4 MiB here: that much per stalled stream, and
//! minutes of updates before a write ever blocks.)

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use taskflow_api::stream::Peer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Serves `router` over HTTP/1.1 on `listener` until `stop`; then accepts
/// no more connections, lets each finish the request in hand (streams end
/// on their own shutdown signal) and returns when all are closed.
///
/// This is axum's `serve` with one setting changed: HTTP/1 half-close. By
/// default hyper keeps reading a connection while it writes a response, to
/// notice a client that went away, and for that reserves a second read
/// buffer: 8 KiB more per open SSE stream, which never sends anything
/// after its request. With half-close, a stream notices a client that left
/// by watching the connection, which each request carries in its
/// extensions (`Peer`). HTTP/2 is not offered: browsers speak it only over
/// TLS, which ends at the ingress in front of Taskflow.
pub async fn serve(mut listener: TimedListener, router: Router, stop: CancellationToken) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.half_close(true).timer(TokioTimer::new());
    // Each connection's task holds a receiver; all are gone once every
    // connection has closed.
    let (open, closed) = tokio::sync::watch::channel(());
    loop {
        let (io, _peer) = tokio::select! {
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
            _ = stop.cancelled() => break,
        };
        let peer = Peer(io.get_ref().0.clone());
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(peer.clone());
                request.map(Body::new)
            },
        ));
        let connection = http.serve_connection(TokioIo::new(io), service);
        let (stop, closed) = (stop.clone(), closed.clone());
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = stop.cancelled() => {
                    // A request already on its way when shutdown began (on a
                    // connection accepted a moment ago, say) still arrives
                    // and is answered; then idle connections close and busy
                    // ones close after their response.
                    match tokio::time::timeout(LAST_REQUESTS, connection.as_mut()).await {
                        Ok(ended) => ended,
                        Err(_) => {
                            connection.as_mut().graceful_shutdown();
                            connection.await
                        }
                    }
                }
            };
            if let Err(err) = ended {
                tracing::trace!(error = %err, "connection ended with an error");
            }
            drop(closed);
        });
    }
    drop(listener);
    drop(closed);
    open.closed().await;
}

/// How long connections keep taking requests after shutdown began.
const LAST_REQUESTS: Duration = Duration::from_millis(100);

/// A TCP listener whose connections fail a write that cannot make progress
/// for `write_timeout`.
#[derive(Debug)]
pub struct TimedListener {
    inner: TcpListener,
    write_timeout: Duration,
    send_buffer: usize,
}

impl TimedListener {
    /// Connections of `inner` with at most `send_buffer` bytes queued in the
    /// kernel and writes failing after `write_timeout` without progress.
    pub fn new(inner: TcpListener, write_timeout: Duration, send_buffer: usize) -> Self {
        Self {
            inner,
            write_timeout,
            send_buffer,
        }
    }
}

impl axum::serve::Listener for TimedListener {
    type Io = WriteTimeout<SharedTcp>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // axum's own accept loop: transient errors (EMFILE, …) are retried.
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
        if let Err(err) = socket2::SockRef::from(&stream).set_send_buffer_size(self.send_buffer) {
            tracing::debug!(error = %err, "cannot set SO_SNDBUF");
        }
        (
            WriteTimeout::new(SharedTcp(Arc::new(stream)), self.write_timeout),
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A TCP connection that the HTTP server reads and writes while an SSE
/// stream watches it for the client closing (`taskflow_api::stream::Peer`).
/// Reads and writes go through readiness, as tokio's own `TcpStream` does.
#[derive(Debug, Clone)]
pub struct SharedTcp(pub Arc<TcpStream>);

impl AsyncRead for SharedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.poll_read_ready(cx))?;
            match self.0.try_read_buf(buf) {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl SharedTcp {
    /// Runs `write` once the socket is writable, until it does not block.
    fn poll_write_with(
        &self,
        cx: &mut Context<'_>,
        write: impl Fn(&TcpStream) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match write(&self.0) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                written => return Poll::Ready(written),
            }
        }
    }
}

impl AsyncWrite for SharedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |stream| stream.try_write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |stream| stream.try_write_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(socket2::SockRef::from(&*self.0).shutdown(std::net::Shutdown::Write))
    }
}

/// An I/O stream whose writes and flushes fail with `TimedOut` once they
/// have been blocked (the peer's window full) for the timeout in a row.
#[derive(Debug)]
pub struct WriteTimeout<T> {
    inner: T,
    timeout: Duration,
    /// Armed while a write is blocked; cleared by any progress.
    blocked: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteTimeout<T> {
    pub fn new(inner: T, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            blocked: None,
        }
    }

    /// The stream it wraps.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// Maps a pending write to a timeout error once it has waited too long.
    fn watch<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        if poll.is_ready() {
            self.blocked = None;
            return poll;
        }
        let timeout = self.timeout;
        let blocked = self
            .blocked
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(blocked.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the peer stopped reading",
        )))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteTimeout<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_write_blocked_past_the_timeout_fails_and_progress_resets_it() {
        // A pipe with room for 8 bytes whose reader never reads.
        let (writer, _reader) = tokio::io::duplex(8);
        let mut io = WriteTimeout::new(writer, Duration::from_secs(5));
        io.write_all(b"12345678").await.unwrap();
        let err = io.write_all(b"more").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_reading_peer_is_not_cut_off() {
        use tokio::io::AsyncReadExt;
        let (writer, mut reader) = tokio::io::duplex(8);
        let mut io = WriteTimeout::new(writer, Duration::from_secs(5));
        let read = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 4];
            // Reads 4 bytes every 3 s: always under the timeout.
            while got.len() < 32 {
                tokio::time::sleep(Duration::from_secs(3)).await;
                let n = reader.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            got
        });
        io.write_all(&[7u8; 32]).await.unwrap();
        assert_eq!(read.await.unwrap(), vec![7u8; 32]);
    }
}
