//! The access log: one short event per request, in the request's span (which carries its
//! id, method and route pattern), with the status and the duration. Under load it is
//! most of what Relais writes, so its level is a setting.

use std::time::Duration;

use axum::http::Response;
use tracing::Span;

/// At which level each request is logged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccessLog {
    /// One line per request at INFO (shown by the default filter).
    #[default]
    Info,
    /// At DEBUG: shown only when `RELAIS_LOG` asks for it.
    Debug,
    /// Not logged (errors still are).
    Off,
}

/// The `on_response` callback of the trace layer.
#[derive(Debug, Clone, Copy)]
pub struct OnResponse(pub AccessLog);

impl<B> tower_http::trace::OnResponse<B> for OnResponse {
    fn on_response(self, response: &Response<B>, latency: Duration, _span: &Span) {
        let statut = response.status().as_u16();
        let duree_ms = latency.as_millis() as u64;
        // The target is short and stable, so that a filter can name it (`acces=warn`).
        match self.0 {
            AccessLog::Info => tracing::info!(target: "acces", statut, duree_ms),
            AccessLog::Debug => tracing::debug!(target: "acces", statut, duree_ms),
            AccessLog::Off => {}
        }
    }
}
