//! The SPA's only routes: `/` and the deep links `/{view}/{namespace}/{pod}[/{container}]`,
//! where the view is `t` (a shell), `a` (attach to the main process) or `l` (the log); each
//! also under `/c/{cluster}` for a cluster other than the server's default ([`Location`]).
//!
//! Hand-written over `window.location` instead of `leptos_router`: there is one parameterised
//! route, no nested layouts and no link components, so a 30-line parser (unit-tested natively)
//! is smaller than the router and keeps history handling explicit (`pushState` on selection,
//! `popstate` to follow back/forward).

use webshell_protocol::rest::{APP_ROUTE_SEGMENTS, CLUSTER_APP_SEGMENT};

use crate::url::{decode_component, encode_component};

/// What a tab shows of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// A shell (or the command the server picks), in a new process.
    #[default]
    Shell,
    /// The container's main process (`kubectl attach`).
    Attach,
    /// The container's log (`kubectl logs`).
    Logs,
}

impl View {
    /// Every view, in the order the toolbar offers them.
    pub const ALL: [View; 3] = [View::Shell, View::Attach, View::Logs];

    /// The first path segment of its deep link (the server serves the SPA under each).
    fn segment(self) -> &'static str {
        let [shell, attach, logs] = APP_ROUTE_SEGMENTS;
        match self {
            View::Shell => shell,
            View::Attach => attach,
            View::Logs => logs,
        }
    }

    fn from_segment(s: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.segment() == s)
    }

    /// Its name for a person (tab labels, the toolbar).
    pub fn label(self) -> &'static str {
        match self {
            View::Shell => "shell",
            View::Attach => "attach",
            View::Logs => "logs",
        }
    }
}

/// A whole SPA path: which cluster, and what in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The cluster the path names; `None` (no `/c/…` prefix) is the server's default.
    pub cluster: Option<String>,
    /// What to show there.
    pub route: Route,
}

impl Location {
    /// Parses a `location.pathname`; a malformed cluster prefix is the default's home.
    pub fn parse(path: &str) -> Location {
        let trimmed = path.trim_start_matches('/');
        let Some(scoped) = trimmed
            .strip_prefix(CLUSTER_APP_SEGMENT)
            .and_then(|rest| rest.strip_prefix('/'))
        else {
            return Location {
                cluster: None,
                route: Route::parse(path),
            };
        };
        let (name, rest) = scoped.split_once('/').unwrap_or((scoped, ""));
        match decode_component(name).filter(|n| !n.is_empty()) {
            Some(cluster) => Location {
                cluster: Some(cluster),
                route: Route::parse(rest),
            },
            None => Location::default(),
        }
    }

    /// The path for this location (the inverse of [`Location::parse`]).
    pub fn path(&self) -> String {
        match &self.cluster {
            None => self.route.path(),
            Some(cluster) => {
                let prefix = format!("/{CLUSTER_APP_SEGMENT}/{}", encode_component(cluster));
                match &self.route {
                    Route::Home => prefix,
                    route => prefix + &route.path(),
                }
            }
        }
    }
}

/// What a URL path asks the SPA to show.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Route {
    /// The pod browser without an open terminal.
    #[default]
    Home,
    /// A terminal or log; without a container, the pod's first container.
    Terminal {
        /// Shell, attach or logs.
        view: View,
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
        let Some((view, rest)) = segments
            .split_first()
            .and_then(|(first, rest)| Some((View::from_segment(first)?, rest)))
        else {
            return Route::Home;
        };
        let decoded: Option<Vec<String>> = (2..=3)
            .contains(&rest.len())
            .then(|| {
                rest.iter()
                    .map(|s| decode_component(s).filter(|s| !s.is_empty()))
                    .collect()
            })
            .flatten();
        match decoded.as_deref() {
            Some([ns, pod]) => Route::Terminal {
                view,
                namespace: ns.clone(),
                pod: pod.clone(),
                container: None,
            },
            Some([ns, pod, c]) => Route::Terminal {
                view,
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
                view,
                namespace,
                pod,
                container,
            } => {
                let mut p = format!(
                    "/{}/{}/{}",
                    view.segment(),
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
            view: View::Shell,
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
    fn attach_and_logs_have_their_own_links() {
        for (path, view) in [("/a/demo/p/c", View::Attach), ("/l/demo/p/c", View::Logs)] {
            let route = Route::parse(path);
            assert_eq!(
                route,
                Route::Terminal {
                    view,
                    namespace: "demo".into(),
                    pod: "p".into(),
                    container: Some("c".into()),
                }
            );
            assert_eq!(route.path(), path);
        }
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
            "/logs/demo/p",
            "/t//p",
            "/t/a%zz/p",
        ] {
            assert_eq!(Route::parse(p), Route::Home, "{p}");
        }
    }

    #[test]
    fn a_cluster_prefix_names_the_cluster_and_keeps_the_route() {
        let at = |cluster: Option<&str>, route: Route| Location {
            cluster: cluster.map(Into::into),
            route,
        };
        assert_eq!(Location::parse("/"), at(None, Route::Home));
        assert_eq!(
            Location::parse("/t/demo/web-0"),
            at(None, term("demo", "web-0", None))
        );
        assert_eq!(Location::parse("/c/bob"), at(Some("bob"), Route::Home));
        assert_eq!(Location::parse("/c/bob/"), at(Some("bob"), Route::Home));
        assert_eq!(
            Location::parse("/c/bob/t/demo/web-0/app"),
            at(Some("bob"), term("demo", "web-0", Some("app")))
        );
        for bad in ["/c", "/c/", "/c/%zz/t/demo/p"] {
            assert_eq!(Location::parse(bad), Location::default(), "{bad}");
        }
        for l in [
            at(None, Route::Home),
            at(Some("arn:aws:eks:x:1:cluster/prod"), Route::Home),
            at(Some("kind-kind"), term("a b", "p", Some("c"))),
        ] {
            assert_eq!(Location::parse(&l.path()), l);
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
