//! A container's log (`pods/log`), as the caller: once, or followed as a stream. The body is
//! the API server's bytes unchanged; the HTTP connection's flow control is the only buffer,
//! so a slow reader slows the API server's stream and nothing piles up here.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use tokio_util::compat::FuturesAsyncReadCompatExt;
use tokio_util::io::ReaderStream;
use tracing::instrument;
use webshell_protocol::rest::{LogQuery, MAX_TAIL_LINES};

use crate::auth::Caller;
use crate::clusters::Cluster;
use crate::error::AppError;
use crate::names::validate;
use crate::state::AppState;

/// `GET /api/namespaces/{namespace}/pods/{pod}/containers/{container}/log`
#[instrument(skip_all, fields(user = %caller.identity.user, namespace = %names.0, pod = %names.1))]
pub async fn log(
    State(state): State<AppState>,
    Cluster(upstream): Cluster,
    caller: Caller,
    Path(names): Path<(String, String, String)>,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let (namespace, pod, container) = names;
    validate("namespace", &namespace)?;
    validate("pod", &pod)?;
    validate("container", &container)?;
    let Query(query) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let params = log_params(&container, &query)?;
    let client = upstream.client(&caller.credential)?;
    let lines = Api::<Pod>::namespaced(client, &namespace)
        .log_stream(&pod, &params)
        .await?;
    // A followed log never ends by itself: end it when the server drains, like a terminal.
    let stop = state.lifecycle.session_stop();
    let body = ReaderStream::new(lines.compat()).take_until(stop.cancelled_owned());
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if query.download {
        // Names are DNS labels (validated above), so they need no quoting beyond the quotes.
        let disposition = format!("attachment; filename=\"{pod}_{container}.log\"");
        if let Ok(value) = header::HeaderValue::from_str(&disposition) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

/// The API server's parameters for `query`, refusing a tail length out of range.
fn log_params(container: &str, query: &LogQuery) -> Result<LogParams, AppError> {
    if let Some(n) = query.tail_lines
        && !(1..=MAX_TAIL_LINES).contains(&n)
    {
        return Err(AppError::bad_request(format!(
            "tail_lines must be between 1 and {MAX_TAIL_LINES}, not {n}"
        )));
    }
    Ok(LogParams {
        container: Some(container.to_owned()),
        follow: query.follow,
        previous: query.previous,
        timestamps: query.timestamps,
        tail_lines: query.tail_lines.map(i64::from),
        ..LogParams::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Uri;

    fn parse(query: &str) -> Result<LogQuery, String> {
        let uri: Uri = format!("/log?{query}").parse().unwrap();
        Query::<LogQuery>::try_from_uri(&uri)
            .map(|Query(q)| q)
            .map_err(|e| e.body_text())
    }

    #[test]
    fn the_query_the_ui_builds_is_the_query_the_server_reads() {
        let q = LogQuery {
            follow: true,
            previous: true,
            timestamps: true,
            tail_lines: Some(200),
            download: true,
        };
        assert_eq!(parse(&q.to_query()), Ok(q));
        assert_eq!(parse(""), Ok(LogQuery::default()));
    }

    #[test]
    fn unknown_or_malformed_parameters_are_refused() {
        assert!(parse("follow=yes").is_err());
        assert!(parse("tail=5").is_err());
        assert!(parse("tail_lines=-1").is_err());
    }

    #[test]
    fn the_tail_length_is_bounded_and_reaches_the_api_server() {
        let tail = |n| {
            log_params(
                "app",
                &LogQuery {
                    tail_lines: Some(n),
                    ..LogQuery::default()
                },
            )
        };
        assert!(tail(0).is_err());
        assert!(tail(MAX_TAIL_LINES + 1).is_err());
        let params = tail(10).unwrap();
        assert_eq!(
            (params.tail_lines, params.container.as_deref()),
            (Some(10), Some("app"))
        );
    }
}
