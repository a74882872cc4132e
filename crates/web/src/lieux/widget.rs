//! `GET /lieux/widget`: the lieux of a territory, for an iframe on a local website.

use askama::Template;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use relais_domain::horaires::LocalTime;
use relais_search::lieux::{Filter, Territory};

use super::recherche::{Item, bad_cursor_page, items};
use crate::auth::urlencode;
use crate::pages::{Page, PageContext, render};
use relais_services::lieux::recherche::{Requete, Zone, recherche};

/// Lieux per page of the widget.
const WIDGET_PAGE: usize = 50;

#[derive(Template)]
#[template(path = "widget.html")]
pub struct WidgetPage {
    pub ctx: PageContext,
    pub territoire: Option<String>,
    pub items: Vec<Item>,
    pub suivant: Option<String>,
}

/// `GET /lieux/widget?commune=CODE` (or `departement=`): the lieux of a territory, for an
/// iframe on a local website.
pub async fn widget(Page(state, ctx): Page, RawQuery(raw): RawQuery) -> Response {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
    };
    let t = &state.territoires;
    let found = match (get("commune"), get("departement")) {
        (Some(code), _) => t.commune(&code).map(|c| {
            (
                Territory::Commune(c.code.as_str().to_string()),
                format!("commune={}", c.code.as_str()),
                format!("à {}", c.nom),
            )
        }),
        (None, Some(code)) => t
            .territoires()
            .departements
            .iter()
            .find(|d| d.code.eq_ignore_ascii_case(&code))
            .map(|d| {
                (
                    Territory::Departement(d.code.clone()),
                    format!("departement={}", d.code),
                    format!("dans le département {} ({})", d.nom, d.code),
                )
            }),
        (None, None) => None,
    };
    let Some((territory, param, label)) = found else {
        let page = WidgetPage {
            ctx,
            territoire: None,
            items: Vec::new(),
            suivant: None,
        };
        return (StatusCode::NOT_FOUND, render(page)).into_response();
    };
    let now = LocalTime::paris(relais_domain::calendrier::now_ms());
    let curseur = get("curseur");
    let Ok(res) = recherche(
        &state.lieux,
        &Requete {
            zone: Zone::Territoire(territory),
            filtre: &Filter::default(),
            curseur: curseur.as_deref(),
            limite: WIDGET_PAGE,
        },
    ) else {
        return bad_cursor_page(&ctx);
    };
    render(WidgetPage {
        ctx,
        territoire: Some(label),
        items: items(&res, None, now),
        suivant: res
            .suivant
            .map(|n| format!("/lieux/widget?{param}&curseur={}", urlencode(&n))),
    })
}
