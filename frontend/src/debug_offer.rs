//! The way into a container without a shell: when a shell tab reports "no shell", offer an
//! ephemeral debug container (an image with a shell, targeting that container) and attach to
//! it once it runs, as `kubectl debug -it` does.

use leptos::prelude::*;
use webshell_protocol::ErrorKind;
use webshell_protocol::rest::DebugRequest;

use crate::api;
use crate::app::Target;
use crate::route::View;
use crate::status::TerminalStatus;

/// Whether a tab with `status` showing `view` should offer a debug container.
pub fn offers_debug(view: View, status: &TerminalStatus) -> bool {
    view == View::Shell
        && matches!(
            status,
            TerminalStatus::Error {
                kind: ErrorKind::NoShell,
                ..
            }
        )
}

/// The offer, under the toolbar of a tab whose container has no shell.
#[component]
pub fn DebugOffer(
    /// The shown tab's target.
    target: Memo<Option<Target>>,
    /// The shown tab's status.
    status: Signal<TerminalStatus>,
    /// Opens the attach tab of the new debug container.
    on_open: Callback<Target>,
) -> impl IntoView {
    let image = RwSignal::new(String::new());
    let starting = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let defaults = LocalResource::new(api::server_settings);
    Effect::new(move |_| {
        if let Some(Ok(settings)) = defaults.get()
            && image.with_untracked(String::is_empty)
        {
            image.set(settings.debug_image);
        }
    });
    let shown = move || {
        let view = target.with(|t| t.as_ref().map(|t| t.view));
        view.is_some_and(|v| status.with(|s| offers_debug(v, s)))
    };
    let start = move |_| {
        let Some(t) = target.get_untracked() else {
            return;
        };
        starting.set(true);
        failure.set(None);
        let request = DebugRequest {
            target: t.container.clone(),
            image: Some(image.get_untracked()).filter(|i| !i.trim().is_empty()),
        };
        leptos::task::spawn_local(async move {
            let answer =
                api::start_debug(t.cluster.as_deref(), &t.namespace, &t.pod, &request).await;
            starting.set(false);
            match answer {
                Ok(debug) => on_open.run(Target {
                    view: View::Attach,
                    container: debug.name,
                    ..t
                }),
                Err(e) => failure.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <Show when=shown>
            <div class="debug-offer" data-testid="debug-offer" role="region"
                aria-label="Debug container">
                <span>"No shell here. Start an ephemeral debug container with a shell beside it:"</span>
                <label class="log-option">"image"
                    <input data-testid="debug-image" spellcheck="false"
                        prop:value=move || image.get()
                        on:input=move |e| image.set(event_target_value(&e)) />
                </label>
                <button class="primary" data-testid="debug-start"
                    disabled=move || starting.get() on:click=start>
                    {move || if starting.get() { "starting…" } else { "Start debug container" }}
                </button>
                {move || failure.get().map(|f| view! {
                    <span class="api-error" data-testid="debug-error">{f}</span>
                })}
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_shell_tab_that_found_no_shell_offers_a_debug_container() {
        let no_shell = TerminalStatus::Error {
            kind: ErrorKind::NoShell,
            message: "no shell".into(),
        };
        assert!(offers_debug(View::Shell, &no_shell));
        assert!(!offers_debug(View::Attach, &no_shell));
        let forbidden = TerminalStatus::Error {
            kind: ErrorKind::Forbidden,
            message: "no".into(),
        };
        assert!(!offers_debug(View::Shell, &forbidden));
    }
}
