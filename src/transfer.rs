//! `taskflow export` and `taskflow import`: the same export and import as
//! `GET /api/export` and `POST /api/import` (or `/api/import/todoist`),
//! straight on the database, for backups and moves between servers. The
//! events an import appends are published by `serve` (or the cluster's
//! relay), as for every other writer.

use std::io::{Read, Write};

use anyhow::Context;
use taskflow_chat::todoist::TodoistImport;
use taskflow_core::{Export, Invalid, Zone};
use taskflow_events::Source;
use taskflow_store::{Actor, Error, ImportInto, TaskService};

use crate::config::{ExportArgs, ImportArgs};

/// Prints the user's export to standard output.
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let db = args.database.connect().await?;
    db.migrate().await.context("applying migrations")?;
    let doc = TaskService::new(db.clone()).export(&args.user).await;
    db.close().await;
    let doc = doc.with_context(|| format!("exporting {}", args.user))?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &doc)?;
    writeln!(out)?;
    Ok(())
}

/// Imports the file; prints the report, or every problem found.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let text = read(&args.file)?;
    // A Todoist CSV is read into a document that remembers each entry's line.
    let todoist = match args.todoist {
        false => None,
        true => {
            let zone = Zone::parse(&args.timezone, "timezone").map_err(anyhow::Error::msg)?;
            let now = chrono::Utc::now();
            Some(TodoistImport::read(&text, &args.list, zone, now).map_err(refused)?)
        }
    };
    let export: Export;
    let (doc, into) = match &todoist {
        Some(read) => (&read.document, ImportInto::NewLists),
        None => {
            export = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a Taskflow export", args.file.display()))?;
            (&export, ImportInto::EmptyAccount)
        }
    };
    let db = args.database.connect().await?;
    db.migrate().await.context("applying migrations")?;
    let actor = Actor::new(args.user.as_str(), Source::Cli);
    let done = TaskService::new(db.clone())
        .import(&actor, doc, into, args.dry_run)
        .await;
    db.close().await;
    let report = match done {
        Ok(report) => report,
        Err(Error::ImportInvalid(problems)) => {
            let problems = match &todoist {
                Some(read) => problems.into_iter().map(|p| read.locate(p)).collect(),
                None => problems,
            };
            return Err(refused(problems));
        }
        Err(err) => return Err(err).with_context(|| format!("importing into {}", args.user)),
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &report)?;
    writeln!(out)?;
    Ok(())
}

/// The file's text (`-`: standard input).
fn read(path: &std::path::Path) -> anyhow::Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(text)
}

/// Every problem of a refused import, one per line.
fn refused(problems: Vec<Invalid>) -> anyhow::Error {
    let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    anyhow::anyhow!(
        "nothing was imported; {} entr{} at fault:\n{}",
        problems.len(),
        if problems.len() == 1 {
            "y is"
        } else {
            "ies are"
        },
        lines.join("\n")
    )
}
