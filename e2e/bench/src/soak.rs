//! `webshell-bench soak`: one download repeated through one client, every byte compared with a
//! reference. The throughput metric only learns *that* a download was wrong (its sha256); this
//! says *where*: the first differing offset, and whether the difference is one missing run of
//! bytes (output dropped in the middle), a short tail (the end cut off), or something else.
//! For chasing a rare loss, with the server's log kept beside it.

use std::path::Path;

use anyhow::{Context, bail};

use crate::clients::{Target, Via};
use crate::metrics::bench_target;

/// How a download differs from the reference.
#[derive(Debug, PartialEq)]
pub enum Difference {
    /// Byte for byte the same.
    None,
    /// Ends early: the first `len` bytes are right, the rest never came.
    Truncated { len: usize },
    /// `missing` bytes from `at` never came; everything before and after is right.
    Gap { at: usize, missing: usize },
    /// Anything else (extra, duplicated or reordered bytes): the first differing offset.
    Other { at: usize },
}

/// Compares `got` with `want`.
pub fn difference(want: &[u8], got: &[u8]) -> Difference {
    let at = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    if at == want.len() && at == got.len() {
        return Difference::None;
    }
    if at == got.len() {
        return Difference::Truncated { len: at };
    }
    if got.len() < want.len() {
        let missing = want.len() - got.len();
        if got[at..] == want[at + missing..] {
            return Difference::Gap { at, missing };
        }
    }
    Difference::Other { at }
}

/// Runs the soak: `count` downloads of a `size`-byte file through `via`.
pub async fn run(
    server_bin: &Path,
    kubectl: &Path,
    via: Via,
    tty: bool,
    count: usize,
    size: usize,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("webshell-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (server, target, _relay) = bench_target(server_bin, kubectl, &dir).await?;
    let prepare = format!("head -c {size} /dev/urandom > $HOME/soak.bin");
    target
        .run(Via::Direct, &prepare, false, &[], &mut |_| {}, 0)
        .await?;
    let reference = download(&target, Via::Direct, false, size).await?;
    if reference.len() != size {
        bail!(
            "the reference download has {} bytes, not {size}",
            reference.len()
        );
    }
    let mut failures = 0;
    for i in 1..=count {
        let got = download(&target, via, tty, size)
            .await
            .with_context(|| format!("download {i}"))?;
        let difference = difference(&reference, &got);
        eprintln!(
            "soak {i}/{count} via {} tty={tty}: {difference:?}",
            via.label()
        );
        if difference != Difference::None {
            failures += 1;
        }
    }
    server.stop().await;
    eprintln!(
        "soak: {failures} of {count} downloads differ; the server's log: {}",
        dir.join("bench-server.log").display()
    );
    if failures > 0 {
        bail!("{failures} of {count} downloads differ");
    }
    Ok(())
}

async fn download(target: &Target, via: Via, tty: bool, size: usize) -> anyhow::Result<Vec<u8>> {
    let script = if tty {
        "stty raw -echo && cat $HOME/soak.bin"
    } else {
        "cat $HOME/soak.bin"
    };
    let mut got = Vec::with_capacity(size);
    target
        .run(via, script, tty, &[], &mut |b| got.extend_from_slice(b), 0)
        .await?;
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WANT: &[u8] = b"0123456789";

    #[test]
    fn the_same_bytes_differ_in_nothing() {
        assert_eq!(difference(WANT, WANT), Difference::None);
    }

    #[test]
    fn a_cut_off_end_is_a_truncation_at_its_length() {
        assert_eq!(difference(WANT, b"0123"), Difference::Truncated { len: 4 });
    }

    #[test]
    fn a_missing_run_in_the_middle_is_a_gap() {
        assert_eq!(
            difference(WANT, b"012789"),
            Difference::Gap { at: 3, missing: 4 }
        );
    }

    #[test]
    fn duplicated_or_reordered_bytes_are_other() {
        assert_eq!(
            difference(WANT, b"01233456789"),
            Difference::Other { at: 4 }
        );
        assert_eq!(difference(WANT, b"0123546789"), Difference::Other { at: 4 });
        assert_eq!(difference(WANT, b"01x89"), Difference::Other { at: 2 });
    }
}
