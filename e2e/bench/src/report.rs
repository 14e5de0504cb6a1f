//! BENCHMARKS.md: machine, versions, method, raw figures, and each goal with its mark.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

use crate::metrics::{Check, Metric, Results, Row};
use crate::stats::Summary;

/// The report.
pub fn render(results: &Results, browser: Option<&Value>, dist: &Path) -> anyhow::Result<String> {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Written by `./x bench` (e2e/bench) against the local test cluster; every comparison ran \
         in the same run, interleaved, on the same pod. Raw figures are the median with the min \
         and max over the repetitions.{}\n",
        if results.smoke {
            " **This is a smoke run: tiny sizes, figures mean nothing.**"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "## Machine and versions\n");
    for (k, v) in results.machine.iter().chain(&results.versions) {
        let _ = writeln!(out, "- {k}: {v}");
    }
    if let Some(b) = browser
        .and_then(|b| b.get("chromium"))
        .and_then(Value::as_str)
    {
        let _ = writeln!(out, "- chromium: {b}");
    }
    let mut all_checks: Vec<(String, &Check)> = Vec::new();
    let mut extra = Vec::new();
    for m in &results.metrics {
        section(&mut out, m);
        for c in &m.checks {
            all_checks.push((m.id.clone(), c));
        }
    }
    let frontend = frontend_metric(browser, dist)?;
    section(&mut out, &frontend);
    extra.extend(frontend.checks.iter().map(|c| ("6".to_owned(), c)));
    if let Some(ctrl_c) = browser.and_then(ctrl_c_metric) {
        section(&mut out, &ctrl_c);
        let owned: Vec<_> = ctrl_c
            .checks
            .into_iter()
            .map(|c| ("5".to_owned(), c))
            .collect();
        return finish(out, all_checks, extra, owned);
    }
    finish(out, all_checks, extra, Vec::new())
}

fn finish(
    mut out: String,
    checks: Vec<(String, &Check)>,
    extra: Vec<(String, &Check)>,
    owned: Vec<(String, Check)>,
) -> anyhow::Result<String> {
    let _ = writeln!(out, "\n## Goals\n");
    let _ = writeln!(out, "| # | what | measured | goal | mark |");
    let _ = writeln!(out, "|---|------|----------|------|------|");
    let rows = checks
        .into_iter()
        .chain(extra)
        .map(|(id, c)| (id, c.what.clone(), c.value.clone(), c.goal.clone(), c.pass))
        .chain(
            owned
                .into_iter()
                .map(|(id, c)| (id, c.what, c.value, c.goal, c.pass)),
        );
    for (id, what, value, goal, pass) in rows {
        let mark = if pass { "pass" } else { "**miss**" };
        let _ = writeln!(out, "| {id} | {what} | {value} | {goal} | {mark} |");
    }
    Ok(out)
}

fn section(out: &mut String, m: &Metric) {
    let _ = writeln!(out, "\n## {} · {}\n\n{}\n", m.id, m.title, m.method);
    let _ = writeln!(out, "| | unit | median | min | max | p99 | n |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for Row {
        label,
        unit,
        summary: s,
    } in &m.rows
    {
        let _ = writeln!(
            out,
            "| {label} | {unit} | {} | {} | {} | {} | {} |",
            fmt(s.median),
            fmt(s.min),
            fmt(s.max),
            fmt(s.p99),
            s.n
        );
    }
}

fn fmt(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The scripts `index.html` names for loading after the terminal opens
/// (`<meta name="webshell-addon:…" content="/file.js">`, frontend/src/addons.rs).
fn deferred_assets(index_html: &str) -> Vec<String> {
    tagged_files(index_html, "<meta ", "name=\"webshell-addon:", "content=\"")
}

/// The files `index.html` preloads (`<link rel="preload" href="/file">`): the terminal's font,
/// which the first prompt waits for.
fn preloaded_assets(index_html: &str) -> Vec<String> {
    tagged_files(index_html, "<link ", "rel=\"preload\"", "href=\"")
}

/// The file names in attribute `attr` of every `tag` of `html` that contains `marker`.
fn tagged_files(html: &str, tag: &str, marker: &str, attr: &str) -> Vec<String> {
    html.split(tag)
        .skip(1)
        .filter(|t| t.contains(marker))
        .filter_map(|t| t.split(attr).nth(1)?.split('"').next())
        .map(|src| src.trim_start_matches('/').to_owned())
        .collect()
}

/// 6: what the SPA costs to load, and the browser's own figures.
fn frontend_metric(browser: Option<&Value>, dist: &Path) -> anyhow::Result<Metric> {
    let index = std::fs::read_to_string(dist.join("index.html"))
        .with_context(|| format!("{}/index.html", dist.display()))?;
    let deferred_names = deferred_assets(&index);
    let preloaded = preloaded_assets(&index);
    let mut total = 0usize;
    let mut deferred = 0usize;
    let mut parts = Vec::new();
    for entry in std::fs::read_dir(dist).with_context(|| format!("{}", dist.display()))? {
        let path = entry?.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if !matches!(ext, "wasm" | "js" | "mjs" | "css") && !preloaded.contains(&name) {
            continue;
        }
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&std::fs::read(&path)?)?;
        let size = gz.finish()?.len();
        // Module scripts are only ever deferred addons (the WebGL renderer and its loader).
        if deferred_names.contains(&name) || ext == "mjs" {
            deferred += size;
            parts.push(format!(
                "{name} {:.1} KB (after the terminal opens)",
                size as f64 / 1000.0
            ));
        } else {
            total += size;
            parts.push(format!("{name} {:.1} KB", size as f64 / 1000.0));
        }
    }
    parts.sort();
    let kb = total as f64 / 1000.0;
    let mut rows = vec![
        Row {
            label: "transfer size before the first prompt (wasm + js + css + the preloaded font, gzip -9)"
                .into(),
            unit: "KB".into(),
            summary: Summary::of(&[kb]),
        },
        Row {
            label: "addons loaded after the terminal opens (gzip -9)".into(),
            unit: "KB".into(),
            summary: Summary::of(&[deferred as f64 / 1000.0]),
        },
    ];
    let mut checks = vec![Check {
        what: "frontend transfer size".into(),
        value: format!("{kb:.0} KB"),
        goal: "≤ 300 KB".into(),
        pass: kb <= 300.0,
    }];
    let samples = |key: &str| -> Option<Vec<f64>> {
        Some(
            browser?
                .get(key)?
                .as_array()?
                .iter()
                .filter_map(Value::as_f64)
                .collect(),
        )
    };
    if let Some(nav) = samples("first_prompt_ms") {
        let s = Summary::of(&nav);
        checks.push(Check {
            what: "navigation to the first prompt".into(),
            value: format!("{:.0} ms", s.median),
            goal: "≤ 400 ms".into(),
            pass: s.median <= 400.0,
        });
        rows.push(Row {
            label: "navigation to the first prompt (Chromium)".into(),
            unit: "ms".into(),
            summary: s,
        });
    }
    if let Some(render) = samples("render_mb_per_s") {
        rows.push(Row {
            label: "output rendered (Chromium, `cat` of a large text file)".into(),
            unit: "MB/s".into(),
            summary: Summary::of(&render),
        });
    }
    Ok(Metric {
        id: "6".into(),
        title: "Frontend".into(),
        method: format!(
            "Transfer size: every wasm, js and css file of the built SPA, gzip -9 ({}); the goal \
             is on what the page loads before the first prompt, the addons index.html defers \
             are counted apart. Browser \
             figures from e2e/bench/browser.bench.mjs in Debian's Chromium (headless): from \
             navigation to the first prompt on screen, and the rate xterm.js renders `cat` output.",
            parts.join(", ")
        ),
        rows,
        checks,
    })
}

fn ctrl_c_metric(browser: &Value) -> Option<Metric> {
    let samples: Vec<f64> = browser
        .get("ctrl_c_ms")?
        .as_array()?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    let s = Summary::of(&samples);
    Some(Metric {
        id: "5".into(),
        title: "Ctrl-C during a flood, in Chromium".into(),
        method: "`yes` running in the SPA's terminal for 1 s; Ctrl-C pressed; the time until the \
                 prompt is on screen again."
            .into(),
        checks: vec![Check {
            what: "Ctrl-C in Chromium during a flood, prompt back".into(),
            value: format!("{:.0} ms", s.median),
            goal: "≤ 200 ms".into(),
            pass: s.median <= 200.0,
        }],
        rows: vec![Row {
            label: "prompt back after Ctrl-C".into(),
            unit: "ms".into(),
            summary: s,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferred_assets_are_the_addon_scripts_index_html_names() {
        let index = r#"<meta charset="utf-8" /><meta name="viewport" content="width=device-width" />
            <meta name="webshell-addon:unicode11" content="/addon-unicode11.js" />
            <script src="/xterm-abc.js"></script>"#;
        assert_eq!(
            deferred_assets(index),
            vec!["addon-unicode11.js".to_owned()]
        );
    }

    #[test]
    fn the_preloaded_font_counts_and_stylesheets_do_not_look_preloaded() {
        let index = r#"<link rel="stylesheet" href="/style-1.css" />
            <link rel="preload" href="/jetbrains-mono-latin-400-normal.woff2" as="font" crossorigin />"#;
        assert_eq!(
            preloaded_assets(index),
            vec!["jetbrains-mono-latin-400-normal.woff2".to_owned()]
        );
    }
}
