//! The web listener: the dashboard (HTML, CSS and JavaScript built into the binary), the
//! JSON API it polls, `/healthz`, `/metrics`, and the login pages.
//!
//! | path | what |
//! | --- | --- |
//! | `GET /` | the dashboard |
//! | `GET /api/cluster[?since=MS]` | [`super::ClusterView`]: totals, msg_servers, roles, history newer than `since` |
//! | `GET /api/servers` | the msg_servers ([`super::collect::ServerView`]) |
//! | `GET /metrics` | Prometheus text format ([`super::metrics`]) |
//! | `GET /healthz` | `ok`: the monitor is running (no login needed) |
//! | `GET, POST /login`, `POST /logout` | sign in and out, where a login is configured |
//!
//! Who may see what is decided in [`guard`] with [`super::auth`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Extension;
use axum::{Json, Router};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::auth::{self, Access, Checked};
use super::{metrics, Monitor};

const INDEX: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");
const LOGIN: &str = include_str!("assets/login.html");
/// Where the login page shows what went wrong.
const LOGIN_ERROR_SLOT: &str = "<!--error-->";

#[derive(Clone)]
struct Web {
    monitor: Arc<Monitor>,
    access: Arc<Access>,
}

/// The dashboard's routes, guarded by `access`.
pub fn router(monitor: Arc<Monitor>, access: Arc<Access>) -> Router {
    let web = Web { monitor, access };
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(app_js))
        .route("/style.css", get(style))
        .route("/api/cluster", get(api_cluster))
        .route("/api/servers", get(api_servers))
        .route("/metrics", get(prometheus))
        .route("/healthz", get(healthz))
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(web.clone(), guard))
        .layer(middleware::from_fn(security_headers))
        .with_state(web)
}

/// Serves the dashboard on `listener` until `shutdown`, then lets requests in flight finish
/// for a bounded time.
pub async fn serve(
    listener: TcpListener,
    monitor: Arc<Monitor>,
    access: Arc<Access>,
    shutdown: CancellationToken,
) {
    let app = router(monitor, access);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let drained = async {
        shutdown.cancelled().await;
        tokio::time::sleep(crate::roles::DRAIN_TIME).await;
    };
    tokio::select! {
        r = server => if let Err(e) = r {
            tracing::warn!(error = %e, "the dashboard's listener failed");
        },
        _ = drained => {}
    }
}

/// Pages anyone may fetch: the login page and what it needs, and the health check.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/healthz" | "/style.css")
}

async fn guard(State(web): State<Web>, req: Request, next: Next) -> Response {
    match &*web.access {
        Access::Loopback => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok());
            if !auth::host_is_loopback(host) {
                // A page elsewhere that had a browser resolve its name to 127.0.0.1 (DNS
                // rebinding) must not read the dashboard.
                return (
                    StatusCode::FORBIDDEN,
                    "this dashboard has no login, so it answers only requests for localhost or a loopback address\n",
                )
                    .into_response();
            }
            next.run(req).await
        }
        Access::Login(g) => {
            let path = req.uri().path();
            if is_public(path) {
                return next.run(req).await;
            }
            match signed_in(g, req.headers(), source(&req)).await {
                Checked::Right => return next.run(req).await,
                Checked::Barred(wait) => return barred(wait),
                Checked::Wrong => {}
            }
            if path.starts_with("/api/") {
                return (
                    StatusCode::UNAUTHORIZED,
                    Json(serde_json::json!({"error": "sign in at /login first, or send HTTP Basic credentials"})),
                )
                    .into_response();
            }
            if path == "/metrics" {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(
                        header::WWW_AUTHENTICATE,
                        "Basic realm=\"fishchat monitor\", charset=\"UTF-8\"",
                    )],
                    "send the dashboard login as HTTP Basic credentials\n",
                )
                    .into_response();
            }
            Redirect::to("/login").into_response()
        }
    }
}

/// The client's address, where the listener recorded it.
fn source(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Too many failed sign-ins from this address: try again later.
fn barred(wait: Duration) -> Response {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, secs.to_string())],
        format!("too many failed sign-ins from your address; try again in {secs} s\n"),
    )
        .into_response()
}

/// A live session cookie, or HTTP Basic credentials that check.
async fn signed_in(g: &auth::Guard, headers: &HeaderMap, source: Option<IpAddr>) -> Checked {
    let session = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .filter_map(|h| auth::cookie(h, auth::COOKIE))
        .any(|t| g.session_ok(t));
    if session {
        return Checked::Right;
    }
    match headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
    {
        Some(basic) => g.basic(source, basic).await,
        None => Checked::Wrong,
    }
}

async fn security_headers(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/") || req.uri().path() == "/metrics";
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    let cache = if is_api { "no-store" } else { "no-cache" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

async fn index() -> Html<&'static str> {
    Html(INDEX)
}

async fn app_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
}

async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

#[derive(Debug, Deserialize)]
struct Since {
    /// Unix ms: only history samples newer than this.
    since: Option<u64>,
}

async fn api_cluster(State(web): State<Web>, Query(q): Query<Since>) -> impl IntoResponse {
    Json(web.monitor.cluster(q.since.unwrap_or(0)))
}

async fn api_servers(State(web): State<Web>) -> impl IntoResponse {
    Json(web.monitor.servers())
}

async fn prometheus(State(web): State<Web>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        web.monitor.metrics(),
    )
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "not found\n")
}

fn login_html(error: &str) -> Html<String> {
    let slot = if error.is_empty() {
        String::new()
    } else {
        format!("<p class=\"login-error\" role=\"alert\">{error}</p>")
    };
    Html(LOGIN.replace(LOGIN_ERROR_SLOT, &slot))
}

async fn login_page(State(web): State<Web>) -> Response {
    match &*web.access {
        Access::Loopback => Redirect::to("/").into_response(),
        Access::Login(_) => login_html("").into_response(),
    }
}

#[derive(Deserialize)]
struct LoginForm {
    user: String,
    password: String,
}

async fn login(
    State(web): State<Web>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(f): Form<LoginForm>,
) -> Response {
    let Access::Login(g) = &*web.access else {
        return Redirect::to("/").into_response();
    };
    let source = client.map(|Extension(ConnectInfo(addr))| addr.ip());
    match g.check(source, &f.user, &f.password).await {
        Checked::Right => {}
        Checked::Wrong => {
            tracing::debug!(user = ?f.user, "dashboard sign-in refused");
            return (
                StatusCode::UNAUTHORIZED,
                login_html("Wrong user name or password."),
            )
                .into_response();
        }
        Checked::Barred(wait) => {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, secs.to_string())],
                login_html(&format!(
                    "Too many failed sign-ins from your address; try again in {secs} s."
                )),
            )
                .into_response();
        }
    }
    let token = g.open_session();
    tracing::info!(user = ?f.user, "dashboard sign-in");
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        auth::COOKIE,
        auth::SESSION_TTL.as_secs()
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

async fn logout(State(web): State<Web>, headers: HeaderMap) -> Response {
    if let Access::Login(g) = &*web.access {
        for h in headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|h| h.to_str().ok())
        {
            if let Some(t) = auth::cookie(h, auth::COOKIE) {
                g.close_session(t);
            }
        }
    }
    let clear = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        auth::COOKIE
    );
    ([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}
