//! A container's log (`pods/log`) in a read-only xterm: followed as it grows, with the
//! previous instance, timestamps and tail length to choose, search (Ctrl+Shift+F, the same
//! bar as the terminal's) and a download of the whole log.
//!
//! xterm renders it because logs are terminal output: colours, carriage returns and long
//! lines come out as `kubectl logs` shows them, and its scrollback is bounded.
//!
//! Flow control: the next chunk is read only once xterm has parsed the last one, so a log
//! that grows faster than the page can draw it waits in the server's TCP window and the API
//! server's stream, not in the page's memory.

use js_sys::{Promise, Reflect, Uint8Array};
use leptos::html::Div;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, ReadableStreamDefaultReader};
use webshell_protocol::ErrorKind;
use webshell_protocol::rest::{LogQuery, in_cluster, log_path};

use crate::api;
use crate::hooks::{XtermState, use_xterm};
use crate::options::TerminalOptions;
use crate::search_bar::SearchBar;
use crate::status::TerminalStatus;
use crate::url::encode_component;
use crate::xterm::Terminal;

/// The tail lengths offered, `None` meaning the whole log.
pub const TAIL_CHOICES: [Option<u32>; 4] = [Some(100), Some(1000), Some(10_000), None];

/// What the view reads first: the last 1000 lines, then new ones as they come.
pub fn initial_query() -> LogQuery {
    LogQuery {
        follow: true,
        tail_lines: Some(1000),
        ..LogQuery::default()
    }
}

/// The status line once the log's stream ended: a read-once log is complete, a followed one
/// ends when the container stops (or the server drains).
pub fn ended(follow: bool) -> TerminalStatus {
    TerminalStatus::Disconnected {
        code: 1000,
        reason: if follow {
            "the log stream ended (the container stopped, or the server closed it)".into()
        } else {
            "end of the log".into()
        },
    }
}

/// A REST error as the status line shows it; a 401 keeps its kind, so the SPA asks the
/// person to sign in again.
pub fn failed(e: &api::Error) -> TerminalStatus {
    let (kind, message) = match e {
        api::Error::Status(body) => (ErrorKind::from_reason(&body.reason), body.message.clone()),
        api::Error::Unauthorized(why) => (ErrorKind::Unauthorized, why.clone()),
        other => (ErrorKind::Upstream, other.to_string()),
    };
    TerminalStatus::Error { kind, message }
}

/// The log of one container.
#[component]
pub fn LogsView(
    /// One of the server's clusters; `None` is its default.
    #[prop(default = None, into)]
    cluster: Option<String>,
    /// Namespace of the pod.
    #[prop(into)]
    namespace: String,
    /// Pod name.
    #[prop(into)]
    pod: String,
    /// Container name.
    #[prop(into)]
    container: String,
    /// Called on every change: connecting, reading (`connected — following`), ended, failed.
    #[prop(optional, into)]
    on_status: Option<Callback<TerminalStatus>>,
    /// Theme, font and scrollback, as for the terminal.
    #[prop(into)]
    options: Signal<TerminalOptions>,
) -> impl IntoView {
    let query = RwSignal::new(initial_query());
    let names = (
        encode_component(&namespace),
        encode_component(&pod),
        encode_component(&container),
    );
    let path = {
        let names = names.clone();
        move |q: &LogQuery| {
            in_cluster(
                cluster.as_deref(),
                &log_path(&names.0, &names.1, &names.2, q),
            )
        }
    };
    let download = {
        let path = path.clone();
        move || {
            query.with(|q| {
                path(&LogQuery {
                    follow: false,
                    tail_lines: None,
                    download: true,
                    ..q.clone()
                })
            })
        }
    };
    let status = move |s: TerminalStatus| {
        if let Some(cb) = on_status {
            cb.run(s);
        }
    };

    let node = NodeRef::<Div>::new();
    let xterm = use_xterm(node, options, true);
    // The reading in progress; replaced (and aborted) when the query changes.
    let reading = StoredValue::new(SendWrapper::new(None::<AbortController>));
    let stop = move || {
        reading.update_value(|r| {
            if let Some(controller) = Option::take(&mut **r) {
                controller.abort();
            }
        })
    };
    Effect::new(move |_| {
        let q = query.get();
        let XtermState::Ready(x) = xterm.state.get() else {
            return;
        };
        stop();
        let Ok(controller) = AbortController::new() else {
            return;
        };
        let signal = controller.signal();
        reading.set_value(SendWrapper::new(Some(controller)));
        x.term.reset();
        let url = path(&q);
        leptos::task::spawn_local(read_log(x.term, url, signal, q.follow, status));
    });
    on_cleanup(stop);

    let toggle = move |label: &'static str,
                       id: &'static str,
                       get: fn(&LogQuery) -> bool,
                       set: fn(&mut LogQuery, bool)| {
        view! {
            <label class="log-option">
                <input type="checkbox" data-testid=id
                    prop:checked=move || query.with(get)
                    on:change=move |e| {
                        let on = event_target_checked(&e);
                        query.update(|q| set(q, on));
                    } />
                {label}
            </label>
        }
    };
    let tail_value = |t: Option<u32>| t.map_or_else(|| "all".to_owned(), |n| n.to_string());
    view! {
        <div class="logs-view" data-testid="logs-view">
            <div class="logs-toolbar">
                {toggle("follow", "log-follow", |q| q.follow, |q, on| q.follow = on)}
                {toggle("previous", "log-previous", |q| q.previous, |q, on| q.previous = on)}
                {toggle("timestamps", "log-timestamps", |q| q.timestamps, |q, on| q.timestamps = on)}
                <label class="log-option">
                    "last"
                    <select data-testid="log-tail" aria-label="Lines to show"
                        prop:value=move || query.with(|q| tail_value(q.tail_lines))
                        on:change=move |e| {
                            let value = event_target_value(&e);
                            query.update(|q| q.tail_lines = value.parse().ok());
                        }>
                        {TAIL_CHOICES.into_iter().map(|t| {
                            let label = t.map_or_else(|| "all lines".to_owned(), |n| format!("{n} lines"));
                            view! { <option value=tail_value(t)>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <a class="button ghost" data-testid="log-download" href=download download=""
                    title="Download the whole log (with the options above)">"Download"</a>
            </div>
            <div class="webshell-terminal log-terminal" data-testid="terminal"
                style="position: relative; flex: 1; min-height: 0; overflow: hidden">
                <div node_ref=node style="position: absolute; inset: 0"></div>
                <SearchBar xterm />
            </div>
        </div>
    }
}

/// Reads the log at `url` into `term` until it ends, fails or `abort` fires (then silently:
/// a newer reading has taken over, or the view is gone).
async fn read_log(
    term: Terminal,
    url: String,
    abort: AbortSignal,
    follow: bool,
    status: impl Fn(TerminalStatus) + 'static,
) {
    status(TerminalStatus::Connecting);
    let reader = match api::open_stream(&url, &abort).await {
        Ok(reader) => reader,
        Err(_) if abort.aborted() => return,
        Err(e) => return status(failed(&e)),
    };
    let doing = if follow { "following" } else { "reading" };
    status(TerminalStatus::Connected {
        command: vec![doing.into()],
    });
    loop {
        match next_chunk(&reader).await {
            _ if abort.aborted() => return,
            Err(why) => {
                return status(TerminalStatus::Disconnected {
                    code: 1006,
                    reason: format!("the log stream broke: {why}"),
                });
            }
            Ok(None) => return status(ended(follow)),
            Ok(Some(bytes)) => {
                // Wait until xterm has parsed it: the flow control described above.
                let written =
                    Promise::new(&mut |resolve, _| term.write_bytes_then(&bytes, &resolve));
                let _ = JsFuture::from(written).await;
            }
        }
    }
}

/// The next chunk of the body, `None` at its end.
async fn next_chunk(reader: &ReadableStreamDefaultReader) -> Result<Option<Uint8Array>, String> {
    let result = JsFuture::from(reader.read())
        .await
        .map_err(|e| e.as_string().unwrap_or_else(|| "network error".into()))?;
    let done = Reflect::get(&result, &"done".into())
        .ok()
        .and_then(|d| d.as_bool())
        .unwrap_or(true);
    if done {
        return Ok(None);
    }
    Reflect::get(&result, &"value".into())
        .ok()
        .and_then(|v| v.dyn_into::<Uint8Array>().ok())
        .map(Some)
        .ok_or_else(|| "a chunk that is not bytes".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use webshell_protocol::rest::ApiError;

    #[test]
    fn the_view_starts_by_following_the_last_thousand_lines() {
        let q = initial_query();
        assert!(q.follow && !q.previous && !q.timestamps && !q.download);
        assert_eq!(q.tail_lines, Some(1000));
        assert!(TAIL_CHOICES.contains(&q.tail_lines));
    }

    #[test]
    fn an_ended_stream_says_why_for_follow_and_for_once() {
        assert_eq!(ended(false).text(), "end of the log");
        assert!(ended(true).text().contains("container stopped"));
        assert!(ended(true).is_final());
    }

    #[test]
    fn a_refusal_keeps_the_servers_message_and_a_401_asks_to_sign_in() {
        let refused = api::Error::Status(ApiError {
            status: 400,
            reason: "BadRequest".into(),
            message: "previous terminated container \"main\" in pod \"p\" not found".into(),
        });
        assert_eq!(
            failed(&refused),
            TerminalStatus::Error {
                kind: ErrorKind::BadRequest,
                message: "previous terminated container \"main\" in pod \"p\" not found".into(),
            }
        );
        let expired = api::Error::Unauthorized("sign in again".into());
        assert!(matches!(
            failed(&expired),
            TerminalStatus::Error {
                kind: ErrorKind::Unauthorized,
                ..
            }
        ));
    }
}
