//! Authorization before the exec or attach: the caller's own RBAC, asked of the API server.
//!
//! A session starts only after the API server has said the caller may both `create` and `get`
//! `pods/exec` (or `pods/attach`) on that pod (since Kubernetes 1.35 a WebSocket exec needs
//! both, and older clusters check one or the other depending on the transport). The answer names what is
//! missing, which a bare 403 from the exec upgrade cannot.
//!
//! The pod list marks pods the caller may not exec into, from the namespace's rules
//! (`SelfSubjectRulesReview`): one call for the whole list rather than one per pod.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, ResourceRule, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    SelfSubjectRulesReview, SelfSubjectRulesReviewSpec, SubjectAccessReview,
    SubjectAccessReviewSpec,
};
use kube::Api;
use kube::api::PostParams;

use crate::auth::Caller;
use crate::error::AppError;
use crate::upstream::{Credential, Upstream};

/// The verbs a WebSocket exec needs on `pods/exec`.
pub const EXEC_VERBS: [&str; 2] = ["create", "get"];

/// Who the access question is about, and how to ask it.
pub enum Asker {
    /// The caller asks for themselves (`SelfSubjectAccessReview`), with their own client.
    Myself(kube::Client),
    /// The server asks on behalf of an impersonated user (`SubjectAccessReview`), with its own
    /// client (`--auth proxy`).
    OnBehalfOf {
        /// The server's own client.
        server: kube::Client,
        /// The impersonated user.
        user: String,
        /// Their groups.
        groups: Vec<String>,
    },
}

impl Asker {
    /// How to ask about `caller`: as themselves, or (proxy mode, where the server
    /// impersonates them) by the server on their behalf.
    pub fn for_caller(upstream: &Upstream, caller: &Caller) -> Result<Asker, AppError> {
        let client = upstream.client(&caller.credential)?;
        Ok(match &caller.credential {
            Credential::Impersonate { user, groups } => Asker::OnBehalfOf {
                server: upstream.client(&Credential::Server)?,
                user: user.clone(),
                groups: groups.clone(),
            },
            _ => Asker::Myself(client),
        })
    }
}

/// Checks that the caller may use `subresource` (`exec` or `attach`) of `pod`; a refusal
/// names the missing verbs.
pub async fn check_subresource(
    asker: &Asker,
    subresource: &str,
    namespace: &str,
    pod: &str,
) -> Result<(), AppError> {
    check_verbs(
        asker,
        &EXEC_VERBS,
        subresource,
        namespace,
        pod,
        "over a WebSocket it needs create and get",
    )
    .await
}

/// Checks that the caller may do each of `verbs` on `pods/{subresource}` of `pod`; a refusal
/// names the missing verbs and says why they are needed (`needs`).
pub async fn check_verbs(
    asker: &Asker,
    verbs: &[&str],
    subresource: &str,
    namespace: &str,
    pod: &str,
    needs: &str,
) -> Result<(), AppError> {
    let mut missing = Vec::new();
    for &verb in verbs {
        let attributes = ResourceAttributes {
            namespace: Some(namespace.into()),
            verb: Some(verb.into()),
            resource: Some("pods".into()),
            subresource: Some(subresource.into()),
            name: Some(pod.into()),
            ..Default::default()
        };
        if !allowed(asker, attributes).await? {
            missing.push(verb);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let who = match asker {
        Asker::Myself(_) => "you".to_owned(),
        Asker::OnBehalfOf { user, .. } => user.clone(),
    };
    Err(AppError::forbidden(format!(
        "{who} may not {} pods/{subresource} in namespace {namespace} (pod {pod}); {needs}",
        missing.join(" or ")
    )))
}

async fn allowed(asker: &Asker, attributes: ResourceAttributes) -> Result<bool, AppError> {
    let status = match asker {
        Asker::Myself(client) => {
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(attributes),
                    ..Default::default()
                },
                ..Default::default()
            };
            Api::<SelfSubjectAccessReview>::all(client.clone())
                .create(&PostParams::default(), &review)
                .await?
                .status
        }
        Asker::OnBehalfOf {
            server,
            user,
            groups,
        } => {
            let review = SubjectAccessReview {
                spec: SubjectAccessReviewSpec {
                    user: Some(user.clone()),
                    groups: Some(groups.clone()),
                    resource_attributes: Some(attributes),
                    ..Default::default()
                },
                ..Default::default()
            };
            Api::<SubjectAccessReview>::all(server.clone())
                .create(&PostParams::default(), &review)
                .await?
                .status
        }
    };
    Ok(status.is_some_and(|s| s.allowed))
}

/// The caller's rules in `namespace`, for marking a pod list. `None` when the API server could
/// not tell (an incomplete review, or an error): then nothing is marked.
pub async fn exec_rules(client: &kube::Client, namespace: &str) -> Option<Vec<ResourceRule>> {
    let review = SelfSubjectRulesReview {
        spec: SelfSubjectRulesReviewSpec {
            namespace: Some(namespace.into()),
        },
        ..Default::default()
    };
    let status = Api::<SelfSubjectRulesReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .ok()?
        .status?;
    (!status.incomplete).then_some(status.resource_rules)
}

/// Whether `rules` grant every one of [`EXEC_VERBS`] on `pods/exec` of `pod`.
pub fn rules_allow_exec(rules: &[ResourceRule], pod: &str) -> bool {
    EXEC_VERBS
        .iter()
        .all(|verb| rules.iter().any(|rule| rule_allows(rule, verb, pod)))
}

/// RBAC's matching rules for one verb on `pods/exec` (see the apiserver's `ResourceMatches`).
fn rule_allows(rule: &ResourceRule, verb: &str, pod: &str) -> bool {
    let any = |list: &[String], want: &str| list.iter().any(|x| x == "*" || x == want);
    let groups = rule.api_groups.as_deref().unwrap_or_default();
    let resources = rule.resources.as_deref().unwrap_or_default();
    let names = rule.resource_names.as_deref().unwrap_or_default();
    any(&rule.verbs, verb)
        && any(groups, "")
        && resources
            .iter()
            .any(|r| matches!(r.as_str(), "*" | "pods/exec" | "pods/*" | "*/exec"))
        && (names.is_empty() || names.iter().any(|n| n == pod))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], resources: &[&str], names: &[&str]) -> ResourceRule {
        let owned = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ResourceRule {
            verbs: owned(verbs),
            api_groups: Some(vec![String::new()]),
            resources: Some(owned(resources)),
            resource_names: (!names.is_empty()).then(|| owned(names)),
        }
    }

    #[test]
    fn exec_needs_both_create_and_get() {
        assert!(rules_allow_exec(
            &[rule(&["create", "get"], &["pods/exec"], &[])],
            "web"
        ));
        assert!(!rules_allow_exec(
            &[rule(&["get"], &["pods/exec"], &[])],
            "web"
        ));
        assert!(rules_allow_exec(
            &[
                rule(&["get"], &["pods/exec"], &[]),
                rule(&["create"], &["pods/*"], &[])
            ],
            "web"
        ));
    }

    #[test]
    fn wildcards_and_resource_names_follow_rbac() {
        assert!(rules_allow_exec(&[rule(&["*"], &["*"], &[])], "web"));
        assert!(rules_allow_exec(
            &[rule(&["create", "get"], &["*/exec"], &["web"])],
            "web"
        ));
        assert!(!rules_allow_exec(
            &[rule(&["create", "get"], &["pods/exec"], &["db"])],
            "web"
        ));
        assert!(!rules_allow_exec(
            &[rule(&["create", "get"], &["pods", "pods/log"], &[])],
            "web"
        ));
        let mut other_group = rule(&["*"], &["*"], &[]);
        other_group.api_groups = Some(vec!["apps".into()]);
        assert!(!rules_allow_exec(&[other_group], "web"));
    }
}
