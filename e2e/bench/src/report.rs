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

/// What `index.html` has the browser fetch as the page loads: stylesheets, scripts, module
/// preloads and preloads (the wasm, the terminal's font).
fn first_load_roots(index_html: &str) -> Vec<String> {
    let mut roots = tagged_files(index_html, "<link ", "rel=\"stylesheet\"", "href=\"");
    roots.extend(tagged_files(
        index_html,
        "<link ",
        "rel=\"modulepreload\"",
        "href=\"",
    ));
    roots.extend(tagged_files(
        index_html,
        "<link ",
        "rel=\"preload\"",
        "href=\"",
    ));
    roots.extend(tagged_files(index_html, "<script ", " src=\"", " src=\""));
    roots
}

/// The scripts `index.html` names for loading after the terminal opens
/// (`<meta name="webshell-addon:…" content="/file.mjs">`, frontend/src/addons.rs).
fn deferred_roots(index_html: &str) -> Vec<String> {
    tagged_files(index_html, "<meta ", "name=\"webshell-addon:", "content=\"")
}

/// The file names in attribute `attr` of every `tag` of `html` that contains `marker`.
fn tagged_files(html: &str, tag: &str, marker: &str, attr: &str) -> Vec<String> {
    html.split(tag)
        .skip(1)
        .filter_map(|t| t.split('>').next())
        .filter(|t| t.contains(marker))
        .filter_map(|t| t.split(attr).nth(1)?.split('"').next())
        .map(|src| src.trim_start_matches('/').to_owned())
        .collect()
}

/// `roots` and every file of `files` a script among them imports (by `./name` or `/name`),
/// transitively. Stylesheets are not followed: a font face they name loads only when text
/// needs it.
fn with_imports(roots: Vec<String>, files: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut found = roots;
    let mut next = 0;
    while next < found.len() {
        let name = found[next].clone();
        next += 1;
        if !(name.ends_with(".js") || name.ends_with(".mjs")) {
            continue;
        }
        let Some((_, text)) = files.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        let text = String::from_utf8_lossy(text);
        for (other, _) in files {
            let imported = ["'./", "\"./", "'/", "\"/"]
                .iter()
                .any(|q| text.contains(&format!("{q}{other}{}", &q[..1])));
            if imported && !found.contains(other) {
                found.push(other.clone());
            }
        }
    }
    found
}

/// 6: what the SPA costs to load, and the browser's own figures.
fn frontend_metric(browser: Option<&Value>, dist: &Path) -> anyhow::Result<Metric> {
    let index = std::fs::read_to_string(dist.join("index.html"))
        .with_context(|| format!("{}/index.html", dist.display()))?;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dist).with_context(|| format!("{}", dist.display()))? {
        let path = entry?.path();
        if path.is_file() {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            files.push((name, std::fs::read(&path)?));
        }
    }
    let first = with_imports(first_load_roots(&index), &files);
    let deferred_names = with_imports(deferred_roots(&index), &files);
    // As served: the brotli copy the build wrote beside the file (frontend/build/precompress.mjs;
    // a browser that accepts br gets it), or the file itself (fonts: woff2 is compressed inside).
    // Beside it, gzip -9 of each file: the measure before the build compressed anything.
    let served_size = |name: &str, bytes: &[u8]| {
        let br = format!("{name}.br");
        files
            .iter()
            .find(|(n, _)| *n == br)
            .map_or(bytes.len(), |(_, b)| b.len())
    };
    let (mut first_served, mut first_gzip, mut deferred_served) = (0usize, 0usize, 0usize);
    let mut parts = Vec::new();
    for (name, bytes) in &files {
        let (is_first, is_deferred) = (first.contains(name), deferred_names.contains(name));
        if !is_first && !is_deferred {
            continue;
        }
        let served = served_size(name, bytes);
        let kb = served as f64 / 1000.0;
        if is_first {
            let mut gz = GzEncoder::new(Vec::new(), Compression::best());
            gz.write_all(bytes)?;
            first_gzip += gz.finish()?.len();
            first_served += served;
            parts.push(format!("{name} {kb:.1} KB"));
        } else {
            deferred_served += served;
            parts.push(format!("{name} {kb:.1} KB (after the terminal opens)"));
        }
    }
    parts.sort();
    let kb = first_served as f64 / 1000.0;
    let gzip_kb = first_gzip as f64 / 1000.0;
    let mut rows = vec![
        Row {
            label: "transfer size before the first prompt, as served (wasm + js + css + the \
                    preloaded font; brotli)"
                .into(),
            unit: "KB".into(),
            summary: Summary::of(&[kb]),
        },
        Row {
            label: "the same files with gzip -9".into(),
            unit: "KB".into(),
            summary: Summary::of(&[gzip_kb]),
        },
        Row {
            label: "addons loaded after the terminal opens, as served".into(),
            unit: "KB".into(),
            summary: Summary::of(&[deferred_served as f64 / 1000.0]),
        },
    ];
    let mut checks = vec![Check {
        what: "frontend transfer size, as served (brotli)".into(),
        value: format!("{kb:.0} KB (gzip -9: {gzip_kb:.0} KB)"),
        goal: "≤ 300 KB".into(),
        pass: kb <= 300.0,
    }];
    if let Some(fetched) = samples(browser, "dom", "first_prompt_fetched_kb") {
        rows.push(Row {
            label: "bytes Chromium fetched before the first prompt (resource timing: encoded \
                    bodies, index.html and the API's answers included)"
                .into(),
            unit: "KB".into(),
            summary: Summary::of(&fetched),
        });
    }
    if let Some(nav) = samples(browser, "dom", "first_prompt_ms") {
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
    for (key, label) in [
        (
            "first_prompt_socket_ms",
            "… of which: navigation until the terminal's socket opens (page, wasm, REST)",
        ),
        (
            "first_prompt_output_ms",
            "… of which: socket opening until its first frame (upgrade, exec start)",
        ),
        (
            "first_prompt_drawn_ms",
            "… of which: first frame until the prompt is on screen",
        ),
    ] {
        if let Some(ms) = samples(browser, "dom", key) {
            rows.push(Row {
                label: label.into(),
                unit: "ms".into(),
                summary: Summary::of(&ms),
            });
        }
    }
    for (project, key, label) in [
        (
            "dom",
            "render_mb_per_s",
            "`cat` output on screen, DOM renderer",
        ),
        (
            "dom",
            "processed_mb_per_s",
            "`cat` output processed by xterm.js, DOM renderer",
        ),
        (
            "webgl",
            "processed_mb_per_s",
            "`cat` output processed by xterm.js, WebGL renderer",
        ),
    ] {
        if let Some(rate) = samples(browser, project, key) {
            rows.push(Row {
                label: label.into(),
                unit: "MB/s".into(),
                summary: Summary::of(&rate),
            });
        }
    }
    Ok(Metric {
        id: "6".into(),
        title: "Frontend".into(),
        method: format!(
            "Transfer size, as the server sends it to a browser that accepts brotli (the copies \
             the build compressed; fonts as they are): what index.html has the browser fetch \
             before the first prompt (stylesheets, scripts and the modules they import, the \
             wasm and the preloaded font face), and apart from it the addons it loads after \
             the terminal opens ({}). Browser \
             figures from e2e/bench/browser.bench.mjs in Debian's Chromium (headless): from \
             navigation to the first prompt on screen (the page's own clock, from navigation \
             start to the first animation frame whose rows end in a prompt), and the rate xterm.js takes `cat` \
             output, read from the screen (DOM renderer) and from the socket (both renderers: \
             the page acknowledges output once xterm.js has processed it).",
            parts.join(", ")
        ),
        rows,
        checks,
    })
}

/// A browser figure: `project` is the Playwright project (`dom`, `webgl`) that measured it.
fn samples(browser: Option<&Value>, project: &str, key: &str) -> Option<Vec<f64>> {
    Some(
        browser?
            .get(project)?
            .get(key)?
            .as_array()?
            .iter()
            .filter_map(Value::as_f64)
            .collect(),
    )
}

fn ctrl_c_metric(browser: &Value) -> Option<Metric> {
    let figures = [
        (
            "dom",
            "ctrl_c_ms",
            "DOM renderer: prompt on screen after Ctrl-C",
        ),
        (
            "dom",
            "ctrl_c_processed_ms",
            "DOM renderer: prompt processed after Ctrl-C",
        ),
        (
            "webgl",
            "ctrl_c_processed_ms",
            "WebGL renderer: prompt processed after Ctrl-C",
        ),
    ];
    let mut rows = Vec::new();
    let mut checks = Vec::new();
    for (project, key, label) in figures {
        let Some(ms) = samples(Some(browser), project, key) else {
            continue;
        };
        let s = Summary::of(&ms);
        if key == "ctrl_c_ms" || project == "webgl" {
            checks.push(Check {
                what: format!("Ctrl-C in Chromium during a flood, {label}"),
                value: format!("{:.0} ms", s.median),
                goal: "≤ 200 ms".into(),
                pass: s.median <= 200.0,
            });
        }
        rows.push(Row {
            label: label.into(),
            unit: "ms".into(),
            summary: s,
        });
    }
    (!rows.is_empty()).then(|| Metric {
        id: "5".into(),
        title: "Ctrl-C during a flood, in Chromium".into(),
        method: "`yes` running in the SPA's terminal for 1 s; Ctrl-C pressed; the time until the \
                 prompt is on screen again (DOM renderer: read from xterm's rows), and until \
                 xterm.js has processed it (both renderers: the page acknowledges output once \
                 xterm.js processed it, and the prompt is drawn at the next frame). Everything \
                 `yes` wrote before the interrupt is processed first: section 5 shows how much \
                 of it waits in the kernel's TCP queues upstream of webshell, and 5b the same \
                 wait without a browser."
            .into(),
        checks,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_load_is_what_index_html_fetches_and_the_modules_they_import() {
        let index = r#"<meta charset="utf-8" /><meta name="viewport" content="width=device-width" />
            <link rel="stylesheet" href="/style-1.css"/>
            <link rel="preload" href="/jetbrains-mono-latin-400-normal.woff2" as="font" crossorigin />
            <script type="module" src="/xterm-global.mjs"></script>
            <link rel="modulepreload" href="/xterm.mjs" />
            <meta name="webshell-addon:search" content="/addon-search-global.mjs" />
            <script type="module" src="/boot-2.js"></script>"#;
        let file = |name: &str, text: &str| (name.to_owned(), text.as_bytes().to_vec());
        let files = [
            file(
                "xterm-global.mjs",
                "import { T } from './xterm.mjs';\nimport { F } from './addon-fit.mjs';",
            ),
            file("xterm.mjs", "export{Dl as Terminal}"),
            file("addon-fit.mjs", "export{o as FitAddon}"),
            file("boot-2.js", "import init from '/webshell-3.js';"),
            file(
                "webshell-3.js",
                "new URL('webshell-3_bg.wasm', import.meta.url)",
            ),
            file(
                "addon-search-global.mjs",
                "import { S } from './addon-search.mjs';",
            ),
            file("addon-search.mjs", "export{ut as SearchAddon}"),
            file("addon-search.js", "the UMD build, named by nothing"),
        ];
        let mut first = with_imports(first_load_roots(index), &files);
        first.sort();
        assert_eq!(
            first,
            [
                "addon-fit.mjs",
                "boot-2.js",
                "jetbrains-mono-latin-400-normal.woff2",
                "style-1.css",
                "webshell-3.js",
                "xterm-global.mjs",
                "xterm.mjs",
            ]
        );
        assert_eq!(
            with_imports(deferred_roots(index), &files),
            ["addon-search-global.mjs", "addon-search.mjs"]
        );
    }
}
