//! The rules every loopback HTTP endpoint of cht applies before a handler
//! runs, as a tower layer ([`LocalGuardLayer`]) to put on any axum router.
//!
//! Loopback is reachable by every web page the user has open and by every
//! local user (see the README's threat model). In order:
//!
//! 1. **Host** must be `127.0.0.1`, `localhost` or `[::1]` with the server's
//!    port, or 403: a DNS-rebinding page sends its own name.
//! 2. **Origin**, when sent, must be this server's own origin, and
//!    **Sec-Fetch-Site**, when sent, `same-origin` or `none`, or 403: a
//!    cross-site request (form, `fetch`, even `no-cors`) is refused.
//! 3. **OPTIONS** (a CORS preflight) is answered 204 with no CORS headers,
//!    so a browser never lets a cross-origin page go on.
//! 4. **Token**: `Authorization: Bearer <token>`, or 401. With
//!    [`Policy::browser_login`] a browser page may instead open any URL with
//!    `?token=<token>` once: it is redirected to the same URL without it and
//!    given an HttpOnly, SameSite=Strict cookie that stands in for the header.
//! 5. **Content-Type** of every request that may change state (anything but
//!    GET/HEAD/OPTIONS) must be `application/json`, or 415: the types a page
//!    can send without a preflight (text/plain, forms) never are.
//!
//! Refusals are `{"error": "..."}` with the status, and are logged at most
//! once per kind every 10 s, with a count.

use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cht_ingest::limits::more_like_it;
use cht_ingest::LogBurst;
use futures_util::future::{ready, Either, Ready};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// Host names a loopback server answers to.
const LOCAL_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];
/// How often each kind of refusal is logged.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// What the guard lets through.
pub struct Policy {
    /// The port the server listens on (a Host or Origin must name it).
    port: u16,
    /// The secret a request must present.
    token: String,
    /// Accept `?token=` once and then a cookie (browser pages).
    browser_login: bool,
    /// Name of the cookie: per port, so two servers never mix them up.
    cookie: String,
    logs: Mutex<[LogBurst; Refusal::KINDS]>,
    what: &'static str,
}

impl Policy {
    /// Bearer token only; `what` names the server in the log.
    pub fn new(what: &'static str, port: u16, token: impl Into<String>) -> Self {
        Policy {
            port,
            token: token.into(),
            browser_login: false,
            cookie: format!("cht_token_{port}"),
            logs: Mutex::new(std::array::from_fn(|_| LogBurst::new(LOG_EVERY))),
            what,
        }
    }

    /// Also admit a browser that opened a URL with `?token=` (see the
    /// module docs). For servers with pages a person opens.
    pub fn browser_login(mut self) -> Self {
        self.browser_login = true;
        self
    }

    /// The decision for one request, from its head alone.
    fn check(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Decision {
        if let Err(refusal) = self.check_host(uri, headers) {
            return Decision::Refuse(refusal);
        }
        if let Err(refusal) = self.check_origin(headers) {
            return Decision::Refuse(refusal);
        }
        if method == Method::OPTIONS {
            return Decision::Preflight;
        }
        match self.check_token(method, uri, headers) {
            Ok(Some(login)) => return login,
            Ok(None) => {}
            Err(refusal) => return Decision::Refuse(refusal),
        }
        if !matches!(*method, Method::GET | Method::HEAD) && !is_json(headers) {
            return Decision::Refuse(Refusal::NotJson);
        }
        Decision::Pass
    }

    fn check_host(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        let mut hosts = headers.get_all(header::HOST).iter();
        let (Some(host), None) = (hosts.next(), hosts.next()) else {
            return Err(Refusal::Host("one Host header is required".into()));
        };
        let host = host.to_str().unwrap_or("");
        if !self.is_local_authority(host) {
            return Err(Refusal::Host(format!("Host {host:?} is not this machine")));
        }
        // An absolute-form request line names a host too.
        match uri.authority() {
            Some(a) if !self.is_local_authority(a.as_str()) => Err(Refusal::Host(format!(
                "request for {a} is not for this machine"
            ))),
            _ => Ok(()),
        }
    }

    /// `127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT` (no port only when
    /// the port is 80, as a browser writes it).
    fn is_local_authority(&self, authority: &str) -> bool {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => (h, p.parse::<u16>().ok()),
            _ => (authority, Some(80)),
        };
        port == Some(self.port) && LOCAL_HOSTS.iter().any(|l| l.eq_ignore_ascii_case(host))
    }

    fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        for origin in headers.get_all(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            let own = origin
                .strip_prefix("http://")
                .is_some_and(|authority| self.is_local_authority(authority));
            if !own {
                return Err(Refusal::Origin(format!(
                    "cross-origin requests are refused (Origin {origin:?})"
                )));
            }
        }
        if let Some(site) = headers.get("sec-fetch-site") {
            let site = site.to_str().unwrap_or("");
            if !(site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none")) {
                return Err(Refusal::Origin(format!(
                    "cross-site requests are refused (Sec-Fetch-Site: {site})"
                )));
            }
        }
        Ok(())
    }

    /// `Ok(None)`: the request carries the token. `Ok(Some(login))`: a
    /// browser login to answer with a cookie.
    fn check_token(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<Option<Decision>, Refusal> {
        let secret = self.token.as_bytes();
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(presented) = bearer {
            return if crate::token::matches(presented.as_bytes(), secret) {
                Ok(None)
            } else {
                Err(Refusal::Token("the bearer token is wrong".into()))
            };
        }
        if self.browser_login {
            if self
                .cookie_value(headers)
                .is_some_and(|c| crate::token::matches(c.as_bytes(), secret))
            {
                return Ok(None);
            }
            if *method == Method::GET {
                if let Some((presented, rest)) = take_query_token(uri) {
                    if crate::token::matches(presented.as_bytes(), secret) {
                        return Ok(Some(Decision::Login { location: rest }));
                    }
                    return Err(Refusal::Token("the token in the URL is wrong".into()));
                }
            }
        }
        Err(Refusal::Token(
            "a token is required: send `Authorization: Bearer <token>`; the token is in the file `cht record` names at start (the thin clients read it themselves)".into(),
        ))
    }

    fn cookie_value<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.cookie)
            .map(|(_, value)| value)
    }

    fn login_response(&self, location: &str) -> Response {
        let cookie = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict",
            self.cookie, self.token
        );
        let mut response = StatusCode::SEE_OTHER.into_response();
        let headers = response.headers_mut();
        if let (Ok(location), Ok(cookie)) = (
            HeaderValue::from_str(location),
            HeaderValue::from_str(&cookie),
        ) {
            headers.insert(header::LOCATION, location);
            headers.insert(header::SET_COOKIE, cookie);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        response
    }

    fn log(&self, refusal: &Refusal) {
        let held_back = match self.logs.lock() {
            Ok(mut logs) => logs[refusal.kind()].hit(),
            Err(_) => return,
        };
        if let Some(held_back) = held_back {
            tracing::warn!(
                "{}: refused a request: {}{}",
                self.what,
                refusal.message(),
                more_like_it(held_back)
            );
        }
    }
}

/// What happens to one request.
enum Decision {
    Pass,
    Preflight,
    Login { location: String },
    Refuse(Refusal),
}

/// Why a request was refused.
#[derive(Debug)]
enum Refusal {
    Host(String),
    Origin(String),
    Token(String),
    NotJson,
}

impl Refusal {
    const KINDS: usize = 4;

    fn kind(&self) -> usize {
        match self {
            Refusal::Host(_) => 0,
            Refusal::Origin(_) => 1,
            Refusal::Token(_) => 2,
            Refusal::NotJson => 3,
        }
    }

    fn message(&self) -> String {
        match self {
            Refusal::Host(m) | Refusal::Origin(m) | Refusal::Token(m) => m.clone(),
            Refusal::NotJson => {
                "a request that changes something must have Content-Type: application/json".into()
            }
        }
    }

    fn into_response(self) -> Response {
        let status = match self {
            Refusal::Host(_) | Refusal::Origin(_) => StatusCode::FORBIDDEN,
            Refusal::Token(_) => StatusCode::UNAUTHORIZED,
            Refusal::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        };
        let mut response =
            (status, Json(serde_json::json!({ "error": self.message() }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, BEARER_CHALLENGE);
        }
        response
    }
}

/// What a 401 asks for (RFC 6750).
const BEARER_CHALLENGE: HeaderValue = HeaderValue::from_static("Bearer realm=\"cht\"");

/// A person's browser navigating (not a script fetching JSON or media).
fn wants_a_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// What a person sees when their browser has no login yet: how to get one,
/// instead of the API's JSON refusal. It holds no secret.
fn login_needed_page() -> Response {
    const PAGE: &str = "<!doctype html><meta charset=utf-8><title>cht: open the address cht printed</title>\
<body style=\"font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.5\">\
<h1>This browser is not logged in to cht</h1>\
<p>cht only answers pages opened from the address it printed when it started \
(<code>cht serve</code> or <code>cht record</code> on a terminal): it ends in \
<code>?token=&hellip;</code>. Open that address once; this browser then stays logged in \
until cht restarts.</p>\
<p>No terminal at hand? Stop cht and start <code>cht serve</code> again: it prints a new address.</p>";
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, BEARER_CHALLENGE)],
        axum::response::Html(PAGE),
    )
        .into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// `?token=X` out of a URL: (X, the URL without it).
fn take_query_token(uri: &Uri) -> Option<(String, String)> {
    let query = uri.query()?;
    let mut token = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("token=") {
            Some(value) if token.is_none() => {
                token = Some(value.to_string());
                false
            }
            _ => true,
        })
        .collect();
    let token = token?;
    let mut location = uri.path().to_string();
    if !rest.is_empty() {
        location.push('?');
        location.push_str(&rest.join("&"));
    }
    Some((token, location))
}

/// Applies a [`Policy`] in front of a service (an axum `Router`).
#[derive(Clone)]
pub struct LocalGuardLayer {
    policy: Arc<Policy>,
}

impl LocalGuardLayer {
    /// The layer applying `policy`.
    pub fn new(policy: Policy) -> Self {
        LocalGuardLayer {
            policy: Arc::new(policy),
        }
    }
}

impl<S> tower::Layer<S> for LocalGuardLayer {
    type Service = LocalGuard<S>;

    fn layer(&self, inner: S) -> LocalGuard<S> {
        LocalGuard {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// The service [`LocalGuardLayer`] wraps around another.
#[derive(Clone)]
pub struct LocalGuard<S> {
    inner: S,
    policy: Arc<Policy>,
}

impl<S, B> tower::Service<Request<B>> for LocalGuard<S>
where
    S: tower::Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let policy = &self.policy;
        let response = match policy.check(request.method(), request.uri(), request.headers()) {
            Decision::Pass => return Either::Right(self.inner.call(request)),
            Decision::Preflight => {
                let mut response = StatusCode::NO_CONTENT.into_response();
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("GET, POST, PUT"));
                response
            }
            Decision::Login { location } => policy.login_response(&location),
            Decision::Refuse(refusal) => {
                policy.log(&refusal);
                if policy.browser_login
                    && matches!(refusal, Refusal::Token(_))
                    && wants_a_page(request.headers())
                {
                    login_needed_page()
                } else {
                    refusal.into_response()
                }
            }
        };
        Either::Left(ready(Ok(response)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "5ec2e7";

    fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> (Method, Uri, HeaderMap) {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        (method.parse().unwrap(), uri.parse().unwrap(), map)
    }

    fn decide(policy: &Policy, method: &str, uri: &str, headers: &[(&str, &str)]) -> String {
        let (m, u, h) = request(method, uri, headers);
        match policy.check(&m, &u, &h) {
            Decision::Pass => "pass".into(),
            Decision::Preflight => "preflight".into(),
            Decision::Login { location } => format!("login {location}"),
            Decision::Refuse(r) => format!("refuse {}", r.into_response().status().as_u16()),
        }
    }

    const AUTH: (&str, &str) = ("authorization", "Bearer 5ec2e7");

    #[test]
    fn only_local_host_names_with_the_port() {
        let p = Policy::new("test", 4446, TOKEN);
        for host in [
            "127.0.0.1:4446",
            "localhost:4446",
            "LOCALHOST:4446",
            "[::1]:4446",
        ] {
            assert_eq!(
                decide(&p, "GET", "/status", &[("host", host), AUTH]),
                "pass",
                "{host}"
            );
        }
        for host in [
            "evil.example:4446",
            "127.0.0.1:4447",
            "127.0.0.1",
            "localhost.evil.example:4446",
            "127.0.0.2:4446",
            "[::1]",
            "",
        ] {
            assert_eq!(
                decide(&p, "GET", "/status", &[("host", host), AUTH]),
                "refuse 403",
                "{host:?}"
            );
        }
        assert_eq!(
            decide(&p, "GET", "/status", &[AUTH]),
            "refuse 403",
            "no Host"
        );
        assert_eq!(
            decide(
                &p,
                "GET",
                "/status",
                &[("host", "127.0.0.1:4446"), ("host", "evil:4446"), AUTH]
            ),
            "refuse 403",
            "two Hosts"
        );
        assert_eq!(
            decide(
                &p,
                "GET",
                "http://evil.example:4446/status",
                &[("host", "127.0.0.1:4446"), AUTH]
            ),
            "refuse 403",
            "absolute-form URL"
        );
        let on_80 = Policy::new("test", 80, TOKEN);
        assert_eq!(
            decide(&on_80, "GET", "/", &[("host", "localhost"), AUTH]),
            "pass"
        );
    }

    #[test]
    fn cross_site_requests_and_preflights() {
        let p = Policy::new("test", 4446, TOKEN);
        let host = ("host", "127.0.0.1:4446");
        let json = ("content-type", "application/json");
        for origin in [
            "http://evil.example",
            "null",
            "https://127.0.0.1:4446",
            "http://localhost:8080",
        ] {
            assert_eq!(
                decide(
                    &p,
                    "POST",
                    "/capture",
                    &[host, AUTH, json, ("origin", origin)]
                ),
                "refuse 403",
                "{origin}"
            );
            assert_eq!(
                decide(&p, "OPTIONS", "/capture", &[host, ("origin", origin)]),
                "refuse 403",
                "preflight from {origin}"
            );
        }
        assert_eq!(
            decide(
                &p,
                "POST",
                "/capture",
                &[host, AUTH, json, ("origin", "http://127.0.0.1:4446")]
            ),
            "pass"
        );
        for site in ["cross-site", "same-site"] {
            assert_eq!(
                decide(
                    &p,
                    "GET",
                    "/status",
                    &[host, AUTH, ("sec-fetch-site", site)]
                ),
                "refuse 403"
            );
        }
        assert_eq!(
            decide(
                &p,
                "GET",
                "/status",
                &[host, AUTH, ("sec-fetch-site", "none")]
            ),
            "pass"
        );
        assert_eq!(decide(&p, "OPTIONS", "/capture", &[host]), "preflight");
    }

    #[test]
    fn a_token_on_every_request_and_json_for_changes() {
        let p = Policy::new("test", 4446, TOKEN);
        let host = ("host", "127.0.0.1:4446");
        assert_eq!(decide(&p, "GET", "/status", &[host]), "refuse 401");
        assert_eq!(
            decide(
                &p,
                "GET",
                "/status",
                &[host, ("authorization", "Bearer 5ec2e8")]
            ),
            "refuse 401"
        );
        assert_eq!(
            decide(
                &p,
                "GET",
                "/status",
                &[host, ("authorization", "Basic 5ec2e7")]
            ),
            "refuse 401"
        );
        assert_eq!(
            decide(&p, "GET", "/status?token=5ec2e7", &[host]),
            "refuse 401",
            "no URL login here"
        );
        assert_eq!(
            decide(
                &p,
                "GET",
                "/status",
                &[host, ("cookie", "cht_token_4446=5ec2e7")]
            ),
            "refuse 401",
            "no cookie login here"
        );
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            assert_eq!(
                decide(
                    &p,
                    "POST",
                    "/frames/sent",
                    &[host, AUTH, ("content-type", content_type)]
                ),
                "refuse 415"
            );
        }
        assert_eq!(
            decide(&p, "POST", "/capture", &[host, AUTH]),
            "refuse 415",
            "no body, no type"
        );
        assert_eq!(
            decide(
                &p,
                "PUT",
                "/threshold",
                &[
                    host,
                    AUTH,
                    ("content-type", "Application/JSON; charset=utf-8")
                ]
            ),
            "pass"
        );
    }

    #[test]
    fn browser_login_by_url_then_cookie() {
        let p = Policy::new("test", 4446, TOKEN).browser_login();
        let host = ("host", "localhost:4446");
        assert_eq!(decide(&p, "GET", "/?token=5ec2e7", &[host]), "login /");
        assert_eq!(
            decide(&p, "GET", "/frames?unsent=true&token=5ec2e7", &[host]),
            "login /frames?unsent=true"
        );
        assert_eq!(decide(&p, "GET", "/?token=nope", &[host]), "refuse 401");
        assert_eq!(
            decide(
                &p,
                "GET",
                "/",
                &[host, ("cookie", "a=b; cht_token_4446=5ec2e7")]
            ),
            "pass"
        );
        assert_eq!(
            decide(&p, "GET", "/", &[host, ("cookie", "cht_token_4447=5ec2e7")]),
            "refuse 401"
        );
        // The cookie does not lift the other rules.
        assert_eq!(
            decide(
                &p,
                "GET",
                "/",
                &[
                    ("host", "evil.example:4446"),
                    ("cookie", "cht_token_4446=5ec2e7")
                ]
            ),
            "refuse 403"
        );
        let response = p.login_response("/");
        let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        assert_eq!(response.headers()[header::LOCATION], "/");
    }
}
