//! `webshell-bench`: webshell against a direct kube-rs exec and kubectl, side by side, on the
//! local test cluster. `./x bench` runs it, then the browser benchmark, then `report`, which
//! writes BENCHMARKS.md. `./x test` runs `run --smoke`: tiny sizes, every data path checked,
//! nothing timed against a goal.
//!
//! Every comparison runs in the same process, on the same pod, interleaved (the order of the
//! clients rotates every repetition), and every data path is checked with sha256.

mod clients;
mod metrics;
mod profile;
mod relay;
mod report;
mod soak;
mod stats;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// The benchmark suite.
#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measures everything that needs no browser; writes JSON.
    Run {
        /// The release server binary to measure.
        #[arg(long)]
        server_bin: PathBuf,
        /// The kubectl of the test cluster.
        #[arg(long)]
        kubectl: PathBuf,
        /// Where the results go.
        #[arg(long)]
        out: PathBuf,
        /// Tiny sizes and one repetition: checks every path, for CI.
        #[arg(long)]
        smoke: bool,
        /// Repetitions of each throughput case.
        #[arg(long, default_value_t = 3)]
        reps: usize,
        /// Run only these metrics (e.g. `3,2b`); default: all.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Repeats one download through one client and compares every byte with a reference
    /// (for chasing a rare loss; not part of `./x bench`).
    Soak {
        /// The release server binary.
        #[arg(long)]
        server_bin: PathBuf,
        /// The kubectl of the test cluster.
        #[arg(long)]
        kubectl: PathBuf,
        /// The client.
        #[arg(long, value_enum, default_value_t = clients::Via::Webshell)]
        via: clients::Via,
        /// With a TTY (`stty raw -echo` first).
        #[arg(long)]
        tty: bool,
        /// Downloads.
        #[arg(long, default_value_t = 20)]
        count: usize,
        /// Bytes per download.
        #[arg(long, default_value_t = 256 << 20)]
        size: usize,
    },
    /// Writes BENCHMARKS.md from the results.
    Report {
        /// Results of `run`. Given several times, a later file's metric replaces an earlier
        /// file's metric of the same id (to refresh some metrics with `run --only`).
        #[arg(long, required = true)]
        results: Vec<PathBuf>,
        /// Results of the browser benchmark (optional).
        #[arg(long)]
        browser: Option<PathBuf>,
        /// The built SPA, for its transfer size.
        #[arg(long)]
        dist: PathBuf,
        /// Where the report goes.
        #[arg(long)]
        out: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Command::Run {
            server_bin,
            kubectl,
            out,
            smoke,
            reps,
            only,
        } => {
            let reps = if smoke { 1 } else { reps };
            let results = metrics::run_all(&server_bin, &kubectl, smoke, reps, &only).await?;
            std::fs::write(&out, serde_json::to_string_pretty(&results)?)
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!("bench: results in {}", out.display());
        }
        Command::Soak {
            server_bin,
            kubectl,
            via,
            tty,
            count,
            size,
        } => {
            soak::run(&server_bin, &kubectl, via, tty, count, size).await?;
        }
        Command::Report {
            results,
            browser,
            dist,
            out,
        } => {
            let mut merged: Option<metrics::Results> = None;
            for path in &results {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let next: metrics::Results = serde_json::from_str(&text)?;
                merged = Some(match merged {
                    Some(earlier) => earlier.updated_by(next),
                    None => next,
                });
            }
            let results = merged.context("no results")?;
            let browser = match browser.filter(|p| p.exists()) {
                Some(p) => Some(serde_json::from_str(&std::fs::read_to_string(p)?)?),
                None => None,
            };
            let text = report::render(&results, browser.as_ref(), &dist)?;
            std::fs::write(&out, text)?;
            eprintln!("bench: report in {}", out.display());
        }
    }
    Ok(())
}
