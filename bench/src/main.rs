//! `taskflow-bench`: every performance goal measured as a ratio to a limit
//! taken minutes earlier in the same run, because on a shared machine an
//! absolute number moves 3–27× within an hour while the ratio holds.
//!
//! `taskflow-bench run [--profile quick|full]` starts release `taskflow`
//! servers beside it (stopped by process id; all load on 127.0.0.1; every
//! step bounded), appends one JSON line per metric to
//! `target/bench/results.jsonl` and prints a Markdown table.
//! `taskflow-bench compare OLD NEW` flags a median ratio that got more than
//! 20% worse.

mod load;
mod record;
mod reference;
mod scenarios;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::record::Recorder;
use crate::scenarios::{Bench, Settings};

#[derive(Debug, Parser)]
#[command(name = "taskflow-bench", about = "Taskflow's benchmark suite")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Profile {
    /// About 3 minutes: one run of each scenario, up to 1,000 subscribers.
    Quick,
    /// About 15 minutes: three runs, up to 10,000 subscribers, longer steps.
    Full,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs every scenario beside its limit.
    Run {
        #[arg(long, value_enum, default_value_t = Profile::Quick)]
        profile: Profile,
        /// Where the JSON lines are appended.
        #[arg(long, default_value = "target/bench/results.jsonl")]
        out: PathBuf,
        /// Also write the Markdown table here.
        #[arg(long)]
        table: Option<PathBuf>,
        /// A PostgreSQL URL whose server may get a `taskflow_bench` database.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
        pg_admin_url: String,
        /// Runs only these scenarios (repeatable), e.g. `--only create/sqlite`.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(scenarios::SCENARIOS))]
        only: Vec<String>,
    },
    /// Compares the median ratios of two result files.
    Compare {
        before: PathBuf,
        after: PathBuf,
        /// The worsening, in percent, that counts as a regression.
        #[arg(long, default_value_t = 20.0)]
        threshold: f64,
    },
    /// The reference server (a limit; started by `run`).
    #[command(hide = true)]
    Reference {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
    /// Echoes stdin lines to stdout (a limit; started by `run`).
    #[command(hide = true)]
    Echo,
}

fn settings(profile: Profile, pg_admin_url: String) -> (Settings, usize) {
    match profile {
        Profile::Quick => (
            Settings {
                seconds: 4,
                subscribers: vec![1, 100, 1000],
                sse_rate: 100,
                drain_events: 10_000,
                mcp_calls: 500,
                starts: 3,
                pg_admin_url,
            },
            1,
        ),
        Profile::Full => (
            Settings {
                seconds: 10,
                subscribers: vec![1, 100, 1000, 10_000],
                sse_rate: 200,
                drain_events: 50_000,
                mcp_calls: 2000,
                starts: 10,
                pg_admin_url,
            },
            3,
        ),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Reference { listen } => reference::serve(&listen).await,
        Command::Echo => reference::echo(),
        Command::Compare {
            before,
            after,
            threshold,
        } => {
            let (table, regressed) = record::compare(&before, &after, threshold)?;
            println!("{table}");
            if regressed {
                anyhow::bail!("a median ratio got more than {threshold}% worse");
            }
            Ok(())
        }
        Command::Run {
            profile,
            out,
            table,
            pg_admin_url,
            only,
        } => {
            let name = format!("{profile:?}").to_lowercase();
            let (settings, runs) = settings(profile, pg_admin_url);
            let mut recorder = Recorder::create(&out, &name)?;
            let started = std::time::Instant::now();
            let mut failed = 0;
            for run in 1..=runs {
                recorder.run = run;
                eprintln!("run {run} of {runs} ({name} profile)");
                let mut bench = Bench {
                    settings: &settings,
                    recorder: &mut recorder,
                    only: &only,
                };
                // A bound on the whole run, whatever a step does.
                let limit = Duration::from_secs(if runs == 1 { 600 } else { 1800 });
                match tokio::time::timeout(limit, bench.all()).await {
                    Ok(not_measured) => failed += not_measured,
                    Err(_) => anyhow::bail!("run {run} did not finish within {limit:?}"),
                }
            }
            let markdown = record::table(&recorder.metrics);
            println!("{markdown}");
            println!(
                "{} metrics in {:.0} s; JSON lines appended to {}",
                recorder.metrics.len(),
                started.elapsed().as_secs_f64(),
                out.display()
            );
            if let Some(path) = table {
                std::fs::write(path, markdown)?;
            }
            if failed > 0 {
                anyhow::bail!("{failed} scenario(s) could not be measured (see above)");
            }
            Ok(())
        }
    }
}
