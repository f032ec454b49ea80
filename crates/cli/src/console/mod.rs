//! The console: a read-only web view of Accord's history for auditors and the
//! Steering Board (issue 19). Two ways, the same pages: offline, as `accord audit
//! console DIR...` serves it on copies of data directories; and live, under
//! `/console/` on a running Accord's HTTP address, reading through the services'
//! queries (see [`source`]). The projections as of any instant (log time or business
//! time), a commitment's timeline with its chart, and the evidence per log.
//!
//! Every page is rendered on the server by `maud`, which escapes all text by
//! default; no page has a script, and the Content-Security-Policy forbids any. No
//! page sends a command.

mod as_of;
mod chart;
mod pages;
mod project_chart;
pub mod source;

use std::path::PathBuf;
use std::sync::Arc;

use accord_bus::AccordClient;
use accord_evidence::cosignature::CosignerKey;
use accord_evidence::note::VerifierKey;
use accord_log::Log;
use accord_runtime::authentication::Trusted;
use accord_runtime::ServiceKind;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::audit::checkpoints::EvidenceKeys;
pub use as_of::{AsOf, AsOfQuery};
use source::{Part, Source};

/// What the console shows, and from where.
#[derive(Debug)]
pub struct Console {
    pub source: Source,
}

impl Console {
    /// Offline: the data directories given, each copied once when the console opens
    /// and read from that copy (so a page never copies a whole log, and nothing is
    /// ever written where the data lies). The pages show the logs as they were then;
    /// the evidence page verifies the directories as they are now.
    pub fn open(dirs: Vec<PathBuf>) -> anyhow::Result<Console> {
        Console::open_with(dirs, None, EvidenceKeys::default())
    }

    /// [`Console::open`], the evidence checked with the parties' trust `roots`
    /// (signatures) and the logs' and witnesses' public `keys`, and proofs made.
    pub fn open_with(
        dirs: Vec<PathBuf>,
        roots: Option<Trusted>,
        keys: EvidenceKeys,
    ) -> anyhow::Result<Console> {
        Ok(Console {
            source: Source::Offline(source::Offline::open(dirs, roots, keys)?),
        })
    }

    /// Live, in a running Accord: now through the services' queries on `client`,
    /// earlier instants and the evidence from the `logs` this process runs, proofs
    /// against their kept checkpoints opened with `log_keys`, cosignatures checked
    /// with the `witnesses`' keys.
    pub fn live(
        client: AccordClient,
        logs: Vec<(ServiceKind, Log)>,
        log_keys: Vec<VerifierKey>,
        witnesses: Vec<CosignerKey>,
    ) -> Console {
        Console {
            source: Source::Live(source::Live {
                client,
                logs,
                log_keys,
                witnesses,
            }),
        }
    }
}

/// Scripts from nowhere, styles only from the console's own sheet, forms only to
/// itself: event text that slipped through escaping still could not run.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

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
        .route("/console/proof", get(proof))
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
    page(Ok(pages::index(&console.source)))
}

async fn style() -> Response {
    let mut response = pages::STYLE.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response
}

/// A page of the projections: fetched from the source, then rendered.
async fn projection_page(
    console: &Console,
    query: &AsOfQuery,
    part: Part,
    render: fn(&serde_json::Value, &AsOf) -> String,
) -> Response {
    let as_of = match AsOf::parse(query) {
        Ok(as_of) => as_of,
        Err(error) => return page(Err(error)),
    };
    page(
        console
            .source
            .part(part, &as_of)
            .await
            .map(|p| render(&p, &as_of)),
    )
}

async fn agreements(
    State(console): State<Arc<Console>>,
    Query(query): Query<AsOfQuery>,
) -> Response {
    let after = query.after.clone().unwrap_or_default();
    projection_page(
        &console,
        &query,
        Part::Agreements { after },
        pages::agreements,
    )
    .await
}

async fn ledger(State(console): State<Arc<Console>>, Query(query): Query<AsOfQuery>) -> Response {
    let after = query.after.clone().unwrap_or_default();
    projection_page(&console, &query, Part::Ledger { after }, pages::ledger).await
}

async fn board(State(console): State<Arc<Console>>, Query(query): Query<AsOfQuery>) -> Response {
    let after = query.after.clone().unwrap_or_default();
    projection_page(&console, &query, Part::Board { after }, pages::board).await
}

async fn projects(State(console): State<Arc<Console>>, Query(query): Query<AsOfQuery>) -> Response {
    let after = query.after.clone().unwrap_or_default();
    projection_page(&console, &query, Part::Projects { after }, pages::projects).await
}

async fn procurement(
    State(console): State<Arc<Console>>,
    Query(query): Query<AsOfQuery>,
) -> Response {
    projection_page(&console, &query, Part::Procurement, pages::procurement).await
}

async fn commitment(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    Query(query): Query<AsOfQuery>,
) -> Response {
    let as_of = match AsOf::parse(&query) {
        Ok(as_of) => as_of,
        Err(error) => return page(Err(error)),
    };
    let from = query.from.unwrap_or(1);
    page(
        console
            .source
            .timeline(&id, from)
            .await
            .map(|timeline| pages::commitment(&id, &timeline, &as_of)),
    )
}

async fn evidence(State(console): State<Arc<Console>>) -> Response {
    blocking(move || pages::evidence(&console.source)).await
}

/// `?event=ID[&part=envelope]`: what a proof download asks for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProofQuery {
    pub event: Option<String>,
    pub part: Option<String>,
}

/// The proof of an event as a file to keep (`accord audit check-proof` checks it
/// offline), or its envelope with `part=envelope`.
async fn proof(State(console): State<Arc<Console>>, Query(query): Query<ProofQuery>) -> Response {
    let text = query.event.unwrap_or_default();
    let event_id = match uuid::Uuid::parse_str(text.trim()) {
        Ok(id) => id,
        Err(_) => {
            return page(Err(anyhow::anyhow!(
                "event {text:?}: an event id, e.g. 0193a1b2-...; the commitment pages link each event's proof"
            )))
        }
    };
    match console.source.proof(event_id) {
        Err(error) => page(Err(error)),
        Ok(proof) => {
            let envelope = query.part.as_deref() == Some("envelope");
            let (body, name, kind) = if envelope {
                (
                    proof.envelope,
                    format!("{event_id}.tlog-proof.envelope"),
                    "application/octet-stream",
                )
            } else {
                (
                    proof.text,
                    format!("{event_id}.tlog-proof"),
                    "text/plain; charset=utf-8",
                )
            };
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
    }
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
