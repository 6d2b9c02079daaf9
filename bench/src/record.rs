//! What a run records: one JSON line per metric with its same-run limit and
//! the machine's state, a Markdown table of the medians, and `compare`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// One measured value beside its limit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metric {
    pub scenario: String,
    pub metric: String,
    pub value: f64,
    pub unit: String,
    pub better: Better,
    /// What the value is measured against, in the same run.
    pub limit_name: Option<String>,
    pub limit: Option<f64>,
    /// value / limit.
    pub ratio: Option<f64>,
    /// The goal from the issues, for the table only (no gate).
    pub target: Option<String>,
    pub run: usize,
    /// Whole-machine busy % in the second before the step.
    pub busy_pct: f64,
    /// CPU time of the server under test per operation.
    pub cpu_us_per_op: Option<f64>,
    pub git_rev: String,
    pub profile: String,
    pub at: String,
}

/// Collects a run's metrics and writes each as it comes.
#[derive(Debug)]
pub struct Recorder {
    pub run: usize,
    pub profile: String,
    git_rev: String,
    busy_pct: f64,
    file: std::fs::File,
    pub metrics: Vec<Metric>,
}

/// A value to record; `limit` is (name, value) and `target` a goal text.
#[derive(Debug, Default)]
pub struct Entry<'a> {
    pub metric: &'a str,
    pub value: f64,
    pub unit: &'a str,
    pub lower_is_better: bool,
    pub limit: Option<(&'a str, f64)>,
    pub target: Option<&'a str>,
    pub cpu_us_per_op: Option<f64>,
}

impl Recorder {
    pub fn create(out: &Path, profile: &str) -> anyhow::Result<Recorder> {
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out)
            .with_context(|| format!("open {}", out.display()))?;
        Ok(Recorder {
            run: 0,
            profile: profile.to_owned(),
            git_rev: git_rev(),
            busy_pct: 0.0,
            file,
            metrics: Vec::new(),
        })
    }

    /// Samples how busy the machine is before a step.
    pub async fn before_step(&mut self) {
        self.busy_pct = busy_pct(Duration::from_secs(1)).await;
    }

    pub fn record(&mut self, scenario: &str, entry: Entry<'_>) {
        if !entry.value.is_finite() {
            eprintln!("  {scenario} / {}: no value (no samples)", entry.metric);
            return;
        }
        let limit = entry.limit.filter(|(_, limit)| limit.is_finite());
        let entry = Entry { limit, ..entry };
        let ratio = entry
            .limit
            .filter(|(_, limit)| *limit > 0.0)
            .map(|(_, limit)| entry.value / limit);
        let metric = Metric {
            scenario: scenario.to_owned(),
            metric: entry.metric.to_owned(),
            value: entry.value,
            unit: entry.unit.to_owned(),
            better: if entry.lower_is_better {
                Better::Lower
            } else {
                Better::Higher
            },
            limit_name: entry.limit.map(|(name, _)| name.to_owned()),
            limit: entry.limit.map(|(_, limit)| limit),
            ratio,
            target: entry.target.map(str::to_owned),
            run: self.run,
            busy_pct: self.busy_pct,
            cpu_us_per_op: entry.cpu_us_per_op,
            git_rev: self.git_rev.clone(),
            profile: self.profile.clone(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        if let Ok(line) = serde_json::to_string(&metric) {
            let _ = writeln!(self.file, "{line}");
        }
        eprintln!(
            "  {scenario} / {}: {} {}{}",
            metric.metric,
            round(metric.value),
            metric.unit,
            metric.ratio.map_or(String::new(), |r| format!(
                " (ratio {:.2} to {})",
                r,
                metric.limit_name.as_deref().unwrap_or("")
            ))
        );
        self.metrics.push(metric);
    }
}

fn round(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Metrics grouped by (scenario, metric), in first-seen order.
fn grouped(metrics: &[Metric]) -> Vec<((String, String), Vec<&Metric>)> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&Metric>> = BTreeMap::new();
    for m in metrics {
        let key = (m.scenario.clone(), m.metric.clone());
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(m);
    }
    order
        .into_iter()
        .map(|key| {
            let group = groups.remove(&key).unwrap_or_default();
            (key, group)
        })
        .collect()
}

/// The Markdown table of medians over runs.
pub fn table(metrics: &[Metric]) -> String {
    let mut out = String::from(
        "| scenario | metric | value | limit (same run) | ratio | CPU µs/op | busy % | target |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for ((scenario, metric), group) in grouped(metrics) {
        let first = group[0];
        let value = median(group.iter().map(|m| m.value).collect());
        let limit = first.limit_name.as_ref().map(|name| {
            let limit = median(group.iter().filter_map(|m| m.limit).collect());
            format!("{} {}", round(limit), name)
        });
        let ratio = median(group.iter().filter_map(|m| m.ratio).collect());
        let cpu = median(group.iter().filter_map(|m| m.cpu_us_per_op).collect());
        let busy = median(group.iter().map(|m| m.busy_pct).collect());
        out.push_str(&format!(
            "| {scenario} | {metric} | {} {} | {} | {} | {} | {:.0} | {} |\n",
            round(value),
            first.unit,
            limit.unwrap_or_else(|| "—".into()),
            if ratio.is_nan() {
                "—".into()
            } else {
                format!("{ratio:.2}")
            },
            if cpu.is_nan() {
                "—".into()
            } else {
                format!("{cpu:.0}")
            },
            busy,
            first.target.as_deref().unwrap_or(""),
        ));
    }
    out
}

/// The metrics of a result file's newest run set: those with the git
/// revision and profile of its last line (the file is append-only).
fn read(path: &Path) -> anyhow::Result<Vec<Metric>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let metrics: Vec<Metric> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| match serde_json::from_str(l) {
            Ok(metric) => Some(metric),
            Err(err) => {
                eprintln!("{}: skipping a line ({err}): {l}", path.display());
                None
            }
        })
        .collect();
    let Some(last) = metrics.last() else {
        anyhow::bail!("{} holds no results", path.display());
    };
    let newest = (last.git_rev.clone(), last.profile.clone());
    Ok(metrics
        .into_iter()
        .filter(|m| (m.git_rev.clone(), m.profile.clone()) == newest)
        .collect())
}

/// Compares two result files: median ratios where a metric has a limit,
/// median values where it has none (failures, missed events, lag). Returns
/// the table and whether anything got worse by more than `threshold`
/// percent, went from zero to more for a lower-is-better count, or is
/// missing from the newer file.
pub fn compare(before: &Path, after: &Path, threshold: f64) -> anyhow::Result<(String, bool)> {
    let (before, after) = (read(before)?, read(after)?);
    let medians = |metrics: &[Metric]| -> BTreeMap<(String, String), (f64, Better, &'static str)> {
        grouped(metrics)
            .into_iter()
            .map(|(key, group)| {
                let ratio = median(group.iter().filter_map(|m| m.ratio).collect());
                let (figure, kind) = if ratio.is_nan() {
                    (median(group.iter().map(|m| m.value).collect()), "value")
                } else {
                    (ratio, "ratio")
                };
                (key, (figure, group[0].better, kind))
            })
            .collect()
    };
    let (old, new) = (medians(&before), medians(&after));
    let mut out = String::from(
        "| scenario | metric | before | after | change | |\n|---|---|---|---|---|---|\n",
    );
    let mut regressed = false;
    for ((scenario, metric), (previous, better, kind)) in &old {
        let Some((now, _, _)) = new.get(&(scenario.clone(), metric.clone())) else {
            regressed = true;
            out.push_str(&format!(
                "| {scenario} | {metric} | {previous:.3} {kind} | — | — | **missing** |\n"
            ));
            continue;
        };
        let change = if *previous == 0.0 {
            if *now == 0.0 {
                0.0
            } else {
                f64::INFINITY.copysign(*now)
            }
        } else {
            (now / previous - 1.0) * 100.0
        };
        let worse = match better {
            Better::Higher => -change,
            Better::Lower => change,
        };
        let flag = worse > threshold;
        regressed |= flag;
        out.push_str(&format!(
            "| {scenario} | {metric} | {previous:.3} {kind} | {now:.3} | {change:+.1}% | {} |\n",
            if flag { "**worse**" } else { "" }
        ));
    }
    Ok((out, regressed))
}

/// The commit under test.
fn git_rev() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// Busy and total jiffies of the whole machine.
fn cpu_jiffies() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8) // user … steal; guest time is already inside user and nice
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = fields.iter().sum();
    // idle + iowait
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

/// Whole-machine busy % over `window`.
pub async fn busy_pct(window: Duration) -> f64 {
    let (busy0, total0) = cpu_jiffies();
    tokio::time::sleep(window).await;
    let (busy1, total1) = cpu_jiffies();
    let total = total1.saturating_sub(total0).max(1);
    busy1.saturating_sub(busy0) as f64 * 100.0 / total as f64
}

/// User + system CPU time of a process so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ')':
    // state, ppid, …; utime and stime are the 12th and 13th of those.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// Resident set of a process, in KiB.
pub fn rss_kib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn metric(metric: &str, ratio: f64, better: Better, run: usize) -> Metric {
        Metric {
            scenario: "s".into(),
            metric: metric.into(),
            value: ratio * 10.0,
            unit: "x".into(),
            better,
            limit_name: Some("limit".into()),
            limit: Some(10.0),
            ratio: Some(ratio),
            target: None,
            run,
            busy_pct: 0.0,
            cpu_us_per_op: None,
            git_rev: "r".into(),
            profile: "quick".into(),
            at: String::new(),
        }
    }

    fn write(metrics: &[Metric]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for m in metrics {
            writeln!(file, "{}", serde_json::to_string(m).unwrap()).unwrap();
        }
        file
    }

    #[test]
    fn compare_flags_a_median_ratio_more_than_the_threshold_worse_either_way() {
        let before = write(&[
            metric("rate", 1.0, Better::Higher, 1),
            metric("p99", 1.0, Better::Lower, 1),
        ]);
        // Medians of three runs: the rate drops 10% (fine), p99 rises 30%.
        let after = write(&[
            metric("rate", 0.9, Better::Higher, 1),
            metric("rate", 0.2, Better::Higher, 2),
            metric("rate", 0.95, Better::Higher, 3),
            metric("p99", 1.3, Better::Lower, 1),
        ]);
        let (table, regressed) = compare(before.path(), after.path(), 20.0).unwrap();
        assert!(regressed, "{table}");
        assert!(
            table.contains("| s | p99 | 1.000 ratio | 1.300 | +30.0% | **worse** |"),
            "{table}"
        );
        assert!(
            table.contains("| s | rate | 1.000 ratio | 0.900 | -10.0% |  |"),
            "{table}"
        );
        let (_, same) = compare(before.path(), before.path(), 20.0).unwrap();
        assert!(!same);
    }

    #[test]
    fn compare_flags_new_failures_and_missing_metrics() {
        let mut failed = metric("failed", 0.0, Better::Lower, 1);
        (failed.ratio, failed.limit, failed.value) = (None, None, 0.0);
        let before = write(&[failed.clone(), metric("rate", 1.0, Better::Higher, 1)]);
        let mut now = failed.clone();
        now.value = 3.0;
        // An older revision in the same file is ignored.
        let mut old = metric("rate", 5.0, Better::Higher, 1);
        old.git_rev = "older".into();
        let after = write(&[old, now, metric("rate", 1.0, Better::Higher, 1)]);
        let (table, regressed) = compare(before.path(), after.path(), 20.0).unwrap();
        assert!(regressed, "{table}");
        assert!(
            table.contains("| s | failed | 0.000 value | 3.000 | +inf% | **worse** |"),
            "{table}"
        );
        assert!(
            table.contains("| s | rate | 1.000 ratio | 1.000 | +0.0% |  |"),
            "{table}"
        );
        let missing = write(&[metric("rate", 1.0, Better::Higher, 1)]);
        let (table, regressed) = compare(before.path(), missing.path(), 20.0).unwrap();
        assert!(regressed && table.contains("**missing**"), "{table}");
    }

    #[test]
    fn the_table_shows_medians_beside_the_limit() {
        let table = table(&[
            metric("rate", 0.5, Better::Higher, 1),
            metric("rate", 0.7, Better::Higher, 2),
            metric("rate", 0.6, Better::Higher, 3),
        ]);
        assert!(
            table.contains("| s | rate | 6.00 x | 10.00 limit | 0.60 |"),
            "{table}"
        );
    }
}
