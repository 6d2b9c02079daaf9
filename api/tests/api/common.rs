//! The api tests' server: the API router served on a free port, and a
//! `TestApp` client of it signing tokens with [`SECRET`].

use taskflow_api::auth::Verifier;
use taskflow_api::{AppState, app};
use taskflow_testkit::harness::Harness;

pub use taskflow_testkit::app::{Reply, TestApp};

/// The secret every test token is signed with.
pub const SECRET: &[u8] = b"rest test secret";

/// The API over `h`'s service, served on a free port.
pub async fn serve(h: &Harness) -> TestApp {
    serve_state(AppState::new(h.svc.clone(), Verifier::hs256(SECRET))).await
}

/// Serves `state` (verifying tokens with [`SECRET`]) on a free port.
pub async fn serve_state(state: AppState) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = state.with_public_url(&base);
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    TestApp::new(base, SECRET)
}

/// A token for `user`, signed with [`SECRET`].
pub fn token(user: &str) -> String {
    TestApp::new("", SECRET).token(user)
}
