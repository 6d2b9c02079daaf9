//! Running our binaries in black-box tests: start one and wait for the line
//! that says where it listens; stop it with SIGTERM and wait for its exit.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a binary may take to start listening or to exit.
const DEADLINE: Duration = Duration::from_secs(30);

/// A started binary.
#[derive(Debug)]
pub struct Listening {
    pub child: Child,
    /// The URL from its "… listening on URL" line.
    pub url: String,
    /// The lines it printed before that one.
    pub printed: Vec<String>,
}

/// Spawns `command` (stdout piped, killed when dropped) and waits until it
/// prints its "… listening on URL" line; panics if it does not.
pub async fn spawn_listening(command: &mut Command) -> Listening {
    try_spawn_listening(command)
        .await
        .unwrap_or_else(|why| panic!("{why}"))
}

/// [`spawn_listening`], saying why it failed instead of panicking. What
/// the binary prints afterwards is read and dropped, so it never blocks on
/// a full pipe.
pub async fn try_spawn_listening(command: &mut Command) -> Result<Listening, String> {
    let mut child = command
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot spawn the binary: {e}"))?;
    let stdout = child.stdout.take().ok_or("stdout is not piped")?;
    let mut lines = BufReader::new(stdout).lines();
    let found = tokio::time::timeout(DEADLINE, async {
        let mut printed = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some((_, url)) = line.split_once(" listening on ") {
                return Ok((url.to_owned(), printed));
            }
            printed.push(line);
        }
        Err(format!(
            "the binary exited before listening; it printed {printed:?}"
        ))
    })
    .await
    .map_err(|_| "the binary did not start listening within 30 s".to_owned())?;
    let (url, printed) = found?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Listening {
        child,
        url,
        printed,
    })
}

/// Sends SIGTERM.
pub fn sigterm(child: &Child) {
    let pid = child.id().expect("the process is running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -TERM {pid} failed");
}

/// Waits for the process to exit, at most 30 s.
pub async fn exit_status(child: &mut Child) -> ExitStatus {
    tokio::time::timeout(DEADLINE, child.wait())
        .await
        .expect("the process did not exit within 30 s")
        .expect("wait for the process")
}
