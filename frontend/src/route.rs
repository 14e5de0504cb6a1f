//! The SPA's only routes: `/` and the terminal deep link `/t/{namespace}/{pod}[/{container}]`.
//!
//! Hand-written over `window.location` instead of `leptos_router`: there is one parameterised
//! route, no nested layouts and no link components, so a 30-line parser (unit-tested natively)
//! is smaller than the router and keeps history handling explicit (`pushState` on selection,
//! `popstate` to follow back/forward).

use crate::url::{decode_component, encode_component};

/// What a URL path asks the SPA to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The pod browser without an open terminal.
    Home,
    /// A terminal; without a container, the pod's first container.
    Terminal {
        /// Namespace.
        namespace: String,
        /// Pod name.
        pod: String,
        /// Container name, if the link names one.
        container: Option<String>,
    },
}

impl Route {
    /// Parses a `location.pathname`. Anything that is not a well-formed deep link is
    /// [`Route::Home`], so a bad link shows the browser instead of an error page.
    pub fn parse(path: &str) -> Route {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let decoded: Option<Vec<String>> = match segments.as_slice() {
            ["t", rest @ ..] if (2..=3).contains(&rest.len()) => rest
                .iter()
                .map(|s| decode_component(s).filter(|s| !s.is_empty()))
                .collect(),
            _ => None,
        };
        match decoded.as_deref() {
            Some([ns, pod]) => Route::Terminal {
                namespace: ns.clone(),
                pod: pod.clone(),
                container: None,
            },
            Some([ns, pod, c]) => Route::Terminal {
                namespace: ns.clone(),
                pod: pod.clone(),
                container: Some(c.clone()),
            },
            _ => Route::Home,
        }
    }

    /// The path for this route (the inverse of [`Route::parse`]).
    pub fn path(&self) -> String {
        match self {
            Route::Home => "/".to_owned(),
            Route::Terminal {
                namespace,
                pod,
                container,
            } => {
                let mut p = format!(
                    "/t/{}/{}",
                    encode_component(namespace),
                    encode_component(pod)
                );
                if let Some(c) = container {
                    p.push('/');
                    p.push_str(&encode_component(c));
                }
                p
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(ns: &str, pod: &str, c: Option<&str>) -> Route {
        Route::Terminal {
            namespace: ns.into(),
            pod: pod.into(),
            container: c.map(Into::into),
        }
    }

    #[test]
    fn full_deep_link() {
        assert_eq!(
            Route::parse("/t/demo/web-0/app"),
            term("demo", "web-0", Some("app"))
        );
        assert_eq!(
            Route::parse("/t/demo/web-0/app/"),
            term("demo", "web-0", Some("app"))
        );
    }

    #[test]
    fn link_without_container_means_first_container() {
        assert_eq!(Route::parse("/t/demo/web-0"), term("demo", "web-0", None));
    }

    #[test]
    fn anything_else_is_home() {
        for p in [
            "",
            "/",
            "/t",
            "/t/demo",
            "/t/demo/p/c/extra",
            "/x/demo/p",
            "/t//p",
            "/t/a%zz/p",
        ] {
            assert_eq!(Route::parse(p), Route::Home, "{p}");
        }
    }

    #[test]
    fn path_round_trips() {
        for r in [
            Route::Home,
            term("demo", "web-0", Some("app")),
            term("a b", "p/q", None),
        ] {
            assert_eq!(Route::parse(&r.path()), r);
        }
    }
}
