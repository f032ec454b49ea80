//! The three services as the runtime serves them: their pure definitions (in the
//! boundary) with the queries each answers and the reaction flows its events start.

use accord_agreements::projections::{timeline_entry, AgreementsEvent, TimelineEntry};
use accord_boundary::definition::stream_of;
use accord_boundary::{Body, ServiceDefinition};
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_kernel::{EventMeta, RecordedEvent};

pub use accord_boundary::{
    AgreementsModel, AgreementsState, ProcurementModel, ProcurementState, ProjectsModel,
    ProjectsState,
};

use crate::authentication::KeyRegistry;
use crate::queries::{
    agreements_query, procurement_query, projects_query, QueryError, TimelinePage, TimelineQuery,
    AGREEMENTS_QUERIES, PROCUREMENT_QUERIES, PROJECTS_QUERIES,
};
use crate::service::{Model, Service};

impl Service<AgreementsModel> {
    /// One commitment's timeline (who changed what, when, why, on which motion),
    /// read from its stream in the log: timelines grow with every event, so the
    /// projections do not keep them. Empty for a commitment with no events.
    pub fn timeline(&self, commitment_id: &str) -> Result<Vec<TimelineEntry>, QueryError> {
        let stream = stream_of("commitment", commitment_id)?;
        let mut entries = Vec::new();
        for event in self.log().read_stream(&stream, 1) {
            entries.extend(timeline_entry_of(&event?)?);
        }
        Ok(entries)
    }

    /// A page of a commitment's timeline, as `CommitmentTimeline` answers it.
    fn timeline_page(&self, query: &TimelineQuery) -> Result<pb::CommitmentTimeline, QueryError> {
        let stream = stream_of("commitment", &query.commitment_id)?;
        if self.log().stream_version(&stream) == 0 {
            return Err(QueryError::NotFound {
                kind: "commitment",
                id: query.commitment_id.clone(),
            });
        }
        let mut page = TimelinePage::new(query);
        for event in self.log().read_stream(&stream, query.from_version) {
            let event = event?;
            // Full pages stop before decoding the next event: it is the next page's.
            if page.is_full() {
                page.continue_at(event.version);
                break;
            }
            if let Some(entry) = timeline_entry_of(&event)? {
                if !page.push(&event, entry) {
                    break;
                }
            }
        }
        Ok(page.finish())
    }
}

/// The change a commitment's event made; `None` for an event of another kind, which a
/// commitment's stream does not hold.
fn timeline_entry_of(event: &RecordedEvent) -> Result<Option<TimelineEntry>, QueryError> {
    match AgreementsModel::decode(&event.event_type, event.schema_version, &event.payload) {
        Ok(AgreementsEvent::Commitment(decoded)) => {
            Ok(Some(timeline_entry(&EventMeta::of(event), &decoded)))
        }
        Ok(_) => Ok(None),
        Err(error) => Err(QueryError::Undecodable {
            position: event.position,
            error,
        }),
    }
}

impl Model for AgreementsModel {
    const QUERIES: &'static [&'static str] = AGREEMENTS_QUERIES;
    const FLOWS: &'static [(&'static str, &'static str)] = &[
        (
            "react-motion-adopted",
            "accord.agreements.evt.board.*.MotionAdopted",
        ),
        // Accepted, amended and withdrawn (one filter: nats-server 2.9 takes one).
        (
            "react-priority-commitment",
            "accord.agreements.evt.commitment.>",
        ),
    ];

    fn query(name: &str, body: Body<'_>, service: &Service<Self>) -> Result<Outcome, QueryError> {
        if name != "CommitmentTimeline" {
            let today = service.log().now().date();
            return agreements_query(
                name,
                body,
                &service.view().view,
                service.page_bytes(),
                today,
            );
        }
        // Read from the log without holding the projections, which the applier
        // needs to take in new events.
        let query = TimelineQuery::parse(body)?;
        Ok(Outcome::Timeline(service.timeline_page(&query)?))
    }

    fn registry(view: &AgreementsState) -> Option<&dyn KeyRegistry> {
        Some(&view.actors)
    }
}

impl Model for ProjectsModel {
    const QUERIES: &'static [&'static str] = PROJECTS_QUERIES;
    const FLOWS: &'static [(&'static str, &'static str)] = &[
        (
            "react-funding-pledged",
            "accord.projects.evt.project.*.FundingPledged",
        ),
        (
            "react-funding-disbursed",
            "accord.projects.evt.project.*.FundingDisbursed",
        ),
        (
            "react-output-reported",
            "accord.projects.evt.project.*.OutputReported",
        ),
    ];

    fn query(name: &str, body: Body<'_>, service: &Service<Self>) -> Result<Outcome, QueryError> {
        let today = service.log().now().date();
        projects_query(
            name,
            body,
            &service.view().portfolio,
            service.page_bytes(),
            today,
        )
    }
}

impl Model for ProcurementModel {
    const QUERIES: &'static [&'static str] = PROCUREMENT_QUERIES;
    const FLOWS: &'static [(&'static str, &'static str)] = &[];

    fn query(name: &str, body: Body<'_>, service: &Service<Self>) -> Result<Outcome, QueryError> {
        procurement_query(name, body, &service.view().view, service.page_bytes())
    }
}
