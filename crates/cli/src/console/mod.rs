//! The console: a read-only web view of Accord's history for auditors and the
//! Steering Board (issue 19). This first slice serves it offline, as `accord audit
//! console DIR...` does, on copies of data directories: the projections as of any
//! instant (log time or business time), a commitment's whole timeline with its
//! documents, and the evidence per log.
//!
//! Every page is rendered on the server by `maud`, which escapes all text by
//! default; no page has a script, and the Content-Security-Policy forbids any. No
//! page sends a command.

mod chart;
mod pages;

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

pub use pages::AsOf;

/// What the console shows: the data directories given, each copied once when the
/// console opens and read from that copy (so a page never copies a whole log, and
/// nothing is ever written where the data lies). The pages show the logs as they
/// were then; the evidence page verifies the directories as they are now.
#[derive(Debug)]
pub struct Console {
    pub dirs: Vec<PathBuf>,
    copies: Vec<crate::audit::Copy>,
}

impl Console {
    pub fn open(dirs: Vec<PathBuf>) -> anyhow::Result<Console> {
        let copies = dirs
            .iter()
            .map(|dir| crate::audit::Copy::of(dir))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Console { dirs, copies })
    }

    pub(crate) fn copies(&self) -> &[crate::audit::Copy] {
        &self.copies
    }
}

/// Scripts from nowhere, styles only from the console's own sheet, forms only to
/// itself: event text that slipped through escaping still could not run.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The as-of control's query: `?as_of=2024-11-26T12:00:00Z&time=effective`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AsOfQuery {
    pub as_of: Option<String>,
    pub time: Option<String>,
}

/// The console's routes under `/console/`.
pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/console/", get(index))
        .route("/console/style.css", get(style))
        .route("/console/agreements", get(agreements))
        .route("/console/ledger", get(ledger))
        .route("/console/board", get(board))
        .route("/console/projects", get(projects))
        .route("/console/procurement", get(procurement))
        .route("/console/commitment/{id}", get(commitment))
        .route("/console/evidence", get(evidence))
        .with_state(console)
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A page, or the page saying what went wrong (a bad as-of, an unreadable log).
fn page(result: anyhow::Result<String>) -> Response {
    match result {
        Ok(body) => html(StatusCode::OK, body),
        Err(error) => html(
            StatusCode::BAD_REQUEST,
            pages::error_page(&format!("{error:#}")),
        ),
    }
}

/// Reading logs from copies is blocking work: off the async workers.
async fn blocking(work: impl FnOnce() -> anyhow::Result<String> + Send + 'static) -> Response {
    page(
        tokio::task::spawn_blocking(work)
            .await
            .unwrap_or_else(|e| Err(anyhow::anyhow!("the page could not be made: {e}"))),
    )
}

async fn index(State(console): State<Arc<Console>>) -> Response {
    page(Ok(pages::index(&console)))
}

async fn style() -> Response {
    let mut response = pages::STYLE.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response
}

macro_rules! projection_page {
    ($name:ident, $render:path) => {
        async fn $name(
            State(console): State<Arc<Console>>,
            Query(query): Query<AsOfQuery>,
        ) -> Response {
            blocking(move || {
                let as_of = AsOf::parse(&query)?;
                $render(&console, &as_of)
            })
            .await
        }
    };
}

projection_page!(agreements, pages::agreements);
projection_page!(ledger, pages::ledger);
projection_page!(board, pages::board);
projection_page!(projects, pages::projects);
projection_page!(procurement, pages::procurement);

async fn commitment(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    Query(query): Query<AsOfQuery>,
) -> Response {
    blocking(move || {
        let as_of = AsOf::parse(&query)?;
        pages::commitment(&console, &id, &as_of)
    })
    .await
}

async fn evidence(State(console): State<Arc<Console>>) -> Response {
    blocking(move || pages::evidence(&console)).await
}

/// Serves the console on `addr` until `shutdown` resolves; `bound` learns the
/// address actually bound (for port 0).
pub async fn serve(
    console: Console,
    addr: &str,
    bound: impl FnOnce(std::net::SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    bound(listener.local_addr()?);
    axum::serve(listener, router(Arc::new(console)))
        .with_graceful_shutdown(shutdown)
        .await
}
