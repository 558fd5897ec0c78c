//! The OpenAPI description of [`crate::ROUTES`], served at `/openapi.json`.

/// The document (OpenAPI 3.1, JSON).
pub const DOCUMENT: &str = include_str!("../openapi.json");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{router, Catalog, ROUTES};
    use axum::body::Body;
    use axum::http::Request;
    use serde_json::Value;
    use std::collections::BTreeSet;
    use tower::ServiceExt;

    const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).expect("the document is JSON")
    }

    #[test]
    fn every_route_is_documented_and_every_documented_operation_is_routed() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in METHODS {
                if item.get(method).is_some() {
                    documented.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        let routed: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_string(), r.path.to_string()))
            .collect();
        assert_eq!(routed.len(), ROUTES.len(), "a route is listed twice");
        assert_eq!(documented, routed);
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = DOCUMENT;
        let mut rest = text;
        while let Some(at) = rest.find("\"$ref\": \"#/") {
            rest = &rest[at + 9..];
            let end = rest.find('"').expect("closing quote");
            let pointer = &rest[1..end];
            assert!(doc.pointer(pointer).is_some(), "dangling $ref {pointer}");
            rest = &rest[end..];
        }
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let responses = op["responses"].as_object().expect("responses");
                assert!(
                    responses.keys().any(|code| code.starts_with('2')),
                    "{method} {path} documents no success"
                );
                for name in path.split('/').filter_map(|s| s.strip_prefix('{')) {
                    let name = name.split('}').next().unwrap_or_default();
                    let declared = op["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| p["name"] == name && p["in"] == "path");
                    assert!(declared, "{method} {path}: parameter {name} undeclared");
                }
            }
        }
    }

    /// The router answers every documented operation with its handler (a
    /// handler's own answer, never the fallback or a wrong-method 405).
    #[tokio::test]
    async fn the_router_serves_every_route() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let app = router(
            Catalog::new(cht_session::SessionsDir::new(tmp.path())),
            stopped,
        );
        for route in ROUTES {
            let path = route
                .path
                .replace("{id}", "nope")
                .replace("{frame}", "F0001");
            let request = Request::builder()
                .method(route.method)
                .uri(&path)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .expect("request");
            let response = app.clone().oneshot(request).await.expect("answer");
            let status = response.status().as_u16();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            let text = String::from_utf8_lossy(&body);
            assert_ne!(status, 405, "{} {path}: {text}", route.method);
            assert!(
                !text.contains("no such endpoint"),
                "{} {path} fell through: {text}",
                route.method
            );
        }
    }
}
