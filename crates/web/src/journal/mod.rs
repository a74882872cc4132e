//! Journal pages: the whole journal for national administrators, a structure's for its
//! référents; and the API of its signed checkpoints.

pub mod api;

use askama::Template;
use axum::extract::Query;
use axum::response::Response;
use relais_domain::calendrier::date_heure_fr;
use relais_services::journal::JournalFilter;
use serde::Deserialize;

use crate::auth::{InStructure, Referents};
use crate::error::internal;
use crate::pages::{Page, PageContext, render, structure_name};

pub struct JournalRow {
    pub seq: i64,
    pub at: String,
    pub action: &'static str,
    pub actor: String,
    pub subject: String,
}

#[derive(Template)]
#[template(path = "journal.html")]
pub struct JournalPage {
    pub ctx: PageContext,
    pub title: String,
    /// The page's own path, for the filter form and the next page.
    pub base: String,
    pub rows: Vec<JournalRow>,
    pub actions: Vec<(&'static str, &'static str, bool)>,
    pub more: Option<i64>,
}

#[derive(Deserialize)]
pub struct JournalQuery {
    action: Option<String>,
    avant: Option<i64>,
}

const JOURNAL_PAGE: u32 = 50;

fn journal_filter(q: &JournalQuery) -> JournalFilter {
    JournalFilter {
        action: q
            .action
            .as_deref()
            .and_then(relais_domain::journal::JournalAction::parse),
        before_seq: q.avant,
        ..Default::default()
    }
}

/// The whole journal, newest first, for national administrators.
pub async fn journal(
    Page(state, ctx): Page,
    admin: crate::auth::Admin,
    Query(q): Query<JournalQuery>,
) -> Response {
    let filter = journal_filter(&q);
    match relais_services::journal::journal_for_admin(
        &state.db,
        &admin.access,
        &filter,
        JOURNAL_PAGE,
    )
    .await
    {
        Ok(entries) => journal_page(
            ctx,
            "Journal des actions".into(),
            "/admin/journal".into(),
            &filter,
            entries,
        ),
        Err(e) => internal(e),
    }
}

/// A structure's journal, newest first, for its référents.
pub async fn structure_journal(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Query(q): Query<JournalQuery>,
) -> Response {
    let filter = journal_filter(&q);
    let nom = match structure_name(&state, &guard.access).await {
        Ok(nom) => nom,
        Err(r) => return r,
    };
    match relais_services::journal::journal_for_structure(
        &state.db,
        &guard.access,
        &filter,
        JOURNAL_PAGE,
    )
    .await
    {
        Ok(entries) => {
            let base = format!("/structures/{}/journal", guard.access.structure());
            journal_page(ctx, format!("Journal de {nom}"), base, &filter, entries)
        }
        Err(e) => internal(e),
    }
}

fn journal_page(
    ctx: PageContext,
    title: String,
    base: String,
    filter: &JournalFilter,
    entries: Vec<relais_domain::journal::Entry>,
) -> Response {
    use relais_domain::journal::JournalAction;
    let more = (entries.len() == JOURNAL_PAGE as usize)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    let rows = entries
        .iter()
        .map(|e| JournalRow {
            seq: e.seq,
            at: date_heure_fr(e.at),
            action: e.content.action.label(),
            actor: e
                .content
                .actor
                .map_or("système".to_string(), |a| format!("personne n° {a}")),
            subject: format!("{} {}", e.content.subject_kind, e.content.subject_id),
        })
        .collect();
    let actions = JournalAction::ALL
        .iter()
        .map(|a| (a.as_str(), a.label(), Some(*a) == filter.action))
        .collect();
    render(JournalPage {
        ctx,
        title,
        base,
        rows,
        actions,
        more,
    })
}
