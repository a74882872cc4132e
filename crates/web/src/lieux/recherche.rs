//! `GET /lieux`: the search (a server-rendered list that works without JavaScript, a map
//! above it as an enhancement) and the départements' contours the map draws.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use relais_domain::horaires::LocalTime;
use relais_domain::ids::LieuId;
use relais_domain::lieux::{Frais, Public, Service, Vocabulary};
use relais_domain::territoires::{Commune, Point};
use relais_search::lieux::{Filter, Territory};
use relais_services::lieux::carte::{self, LieuxDuDepartement};
use relais_services::lieux::recherche::{
    Recherche, RechercheError, Requete, Resultat, Zone, communes, nombre, recherche,
};

use super::{Groupe, groupe};
use crate::api::ApiQuery;
use crate::auth::urlencode;
use crate::pages::{Page, PageContext, render};
use crate::{ApiError, AppState};

/// Results per page of the list.
const PAGE: usize = 20;
/// Pages of "autour de moi" (the nearest lieux have no cursor: each page asks for more).
const NEAREST_PAGES: usize = 10;

/// What the search form sent.
#[derive(Debug, Default, Clone)]
pub struct Criteres {
    q: String,
    commune: Option<String>,
    departement: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    services: Vec<Service>,
    publics: Vec<Public>,
    frais: Vec<Frais>,
    ouvert_maintenant: bool,
    ouvert_week_end: bool,
    curseur: Option<String>,
    page: usize,
}

fn push_value<T: Vocabulary>(list: &mut Vec<T>, raw: &str) {
    // A value that is not the schema's comes from an edited URL: ignored.
    if let Some(v) = T::parse(raw)
        && !list.contains(&v)
    {
        list.push(v);
    }
}

impl Criteres {
    /// Reads a query string where a checkbox may repeat its name.
    fn parse(raw: Option<&str>) -> Criteres {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default();
        let mut c = Criteres {
            page: 1,
            ..Criteres::default()
        };
        for (k, v) in pairs {
            let v = v.trim();
            match k.as_str() {
                "q" => c.q = v.chars().take(100).collect(),
                "commune" if !v.is_empty() => c.commune = Some(v.to_string()),
                "departement" if !v.is_empty() => c.departement = Some(v.to_string()),
                "lat" => c.lat = v.parse().ok().filter(|x: &f64| x.abs() <= 90.0),
                "lon" => c.lon = v.parse().ok().filter(|x: &f64| x.abs() <= 180.0),
                "services" => push_value(&mut c.services, v),
                "publics" => push_value(&mut c.publics, v),
                "frais" => push_value(&mut c.frais, v),
                "ouvert_maintenant" => c.ouvert_maintenant = !v.is_empty(),
                "ouvert_week_end" => c.ouvert_week_end = !v.is_empty(),
                "curseur" if !v.is_empty() => c.curseur = Some(v.to_string()),
                "page" => c.page = v.parse().unwrap_or(1).clamp(1, NEAREST_PAGES),
                _ => {}
            }
        }
        c
    }

    fn filter(&self, now_ms: i64) -> Filter {
        Filter {
            services: self.services.clone(),
            publics: self.publics.clone(),
            frais: self.frais.clone(),
            open_now: self.ouvert_maintenant.then(|| LocalTime::paris(now_ms)),
            open_weekend: self.ouvert_week_end,
            ..Filter::default()
        }
    }

    fn has_filters(&self) -> bool {
        !self.services.is_empty()
            || !self.publics.is_empty()
            || !self.frais.is_empty()
            || self.ouvert_maintenant
            || self.ouvert_week_end
    }

    /// The filters as a query string (`&services=…`), to carry them in links.
    fn filters_query(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        pairs.extend(self.services.iter().map(|v| ("services", v.as_str())));
        pairs.extend(self.publics.iter().map(|v| ("publics", v.as_str())));
        pairs.extend(self.frais.iter().map(|v| ("frais", v.as_str())));
        if self.ouvert_maintenant {
            pairs.push(("ouvert_maintenant", "1"));
        }
        if self.ouvert_week_end {
            pairs.push(("ouvert_week_end", "1"));
        }
        pairs
            .into_iter()
            .map(|(k, v)| format!("&{k}={}", urlencode(v)))
            .collect()
    }
}

/// A result of the list.
pub struct Item {
    pub id: LieuId,
    pub nom: String,
    pub adresse: String,
    pub ville: String,
    pub distance: Option<String>,
    pub ouvert: Option<bool>,
    /// For the map, as the JavaScript reads them (decimal point).
    pub lat: Option<String>,
    pub lon: Option<String>,
}

/// A commune to choose when the name was ambiguous.
pub struct Choix {
    pub nom: String,
    pub precision: String,
    pub href: String,
}

pub struct Resultats {
    /// "à Saint-Étienne (42)", "autour de votre position"…
    pub lieu_recherche: String,
    pub items: Vec<Item>,
    /// "12 lieux correspondent à votre recherche." (territory listing only).
    pub compte: Option<String>,
    pub suivant: Option<String>,
    pub debut: Option<String>,
    /// None in the commune: these are the nearest lieux around it.
    pub proches: bool,
    /// The commune searched, for the widget code: (INSEE code, name).
    pub commune: Option<(String, String)>,
}

pub enum Issue {
    /// Nothing asked yet: the lieux of France, on a map and per département.
    France(Vec<LieuxDuDepartement>),
    /// Unknown commune or postal code: the message is tied to the field.
    Inconnue(String),
    Choisir(Vec<Choix>),
    Resultats(Resultats),
}

#[derive(Template)]
#[template(path = "lieux.html")]
pub struct LieuxPage {
    pub ctx: PageContext,
    pub q: String,
    pub groupes: Vec<Groupe>,
    pub ouvert_maintenant: bool,
    pub ouvert_week_end: bool,
    pub filtres_ouverts: bool,
    pub issue: Issue,
    pub tuiles: Option<String>,
    pub public_url: String,
}

impl LieuxPage {
    fn title(&self) -> String {
        match &self.issue {
            Issue::Inconnue(_) => "Erreur : trouver un lieu de médiation numérique".to_string(),
            Issue::Resultats(r) => format!("Lieux de médiation numérique {}", r.lieu_recherche),
            Issue::Choisir(_) => "Choisir une commune — trouver un lieu".to_string(),
            Issue::France(_) => "Trouver un lieu de médiation numérique".to_string(),
        }
    }

    fn erreur(&self) -> Option<&str> {
        match &self.issue {
            Issue::Inconnue(m) => Some(m),
            _ => None,
        }
    }
}

/// A distance in French: "850 m", "1,4 km", "12 km".
pub fn distance_fr(metres: f64) -> String {
    if metres < 1000.0 {
        format!("{} m", ((metres / 10.0).round() * 10.0) as i64)
    } else if metres < 10_000.0 {
        format!("{:.1} km", metres / 1000.0).replace('.', ",")
    } else {
        format!("{} km", (metres / 1000.0).round() as i64)
    }
}

/// A result as the list shows it; distances from `from`.
fn item(r: &Recherche, i: usize, from: Option<Point>, now: LocalTime) -> Item {
    let l = r.index.lieu(i);
    let s = &r.summaries[i];
    Item {
        id: l.id.clone(),
        nom: s.nom.clone(),
        adresse: s.adresse.clone(),
        ville: format!("{} {}", s.code_postal, s.commune),
        distance: from
            .zip(l.location.position)
            .map(|(a, b)| distance_fr(a.distance_m(b))),
        ouvert: l.horaires.as_ref().map(|h| h.is_open(now)),
        lat: l.location.position.map(|p| format!("{:.5}", p.lat)),
        lon: l.location.position.map(|p| format!("{:.5}", p.lon)),
    }
}

pub fn items(res: &Resultat, from: Option<Point>, now: LocalTime) -> Vec<Item> {
    res.trouves
        .iter()
        .map(|t| item(&res.recherche, t.index, from, now))
        .collect()
}

fn commune_label(c: &Commune) -> String {
    format!("{} ({})", c.nom, c.departement)
}

/// An edited `curseur` in the address of a page of results.
pub fn bad_cursor_page(ctx: &PageContext) -> Response {
    crate::error::error_page(
        ctx,
        StatusCode::BAD_REQUEST,
        "Page de résultats introuvable",
        "Le lien vers cette page de résultats est incomplet ou a été modifié. Revenez à la première page de la recherche.",
    )
}

fn search(state: &AppState, c: &Criteres) -> Result<Issue, RechercheError> {
    let now_ms = relais_domain::calendrier::now_ms();
    let now = LocalTime::paris(now_ms);
    let filter = c.filter(now_ms);
    let filters = c.filters_query();
    if let (Some(lat), Some(lon)) = (c.lat, c.lon) {
        let point = Point { lat, lon };
        let offset = ((c.page - 1) * PAGE).to_string();
        let res = recherche(
            &state.lieux,
            &Requete {
                zone: Zone::Autour {
                    point,
                    profondeur: NEAREST_PAGES * PAGE,
                },
                filtre: &filter,
                curseur: Some(&offset),
                limite: PAGE,
            },
        )?;
        let base = format!("/lieux?lat={lat:.5}&lon={lon:.5}{filters}");
        let pres = state
            .territoires
            .nearest(point)
            .map(|(commune, _)| format!(" (près de {})", commune.nom))
            .unwrap_or_default();
        return Ok(Issue::Resultats(Resultats {
            lieu_recherche: format!("autour de votre position{pres}"),
            items: items(&res, Some(point), now),
            compte: None,
            suivant: res
                .suivant
                .is_some()
                .then(|| format!("{base}&page={}#resultats", c.page + 1)),
            debut: (c.page > 1).then(|| format!("{base}#resultats")),
            proches: false,
            commune: None,
        }));
    }
    if let Some(code) = &c.departement
        && c.commune.is_none()
    {
        return departement(state, c, code, &filter, now);
    }
    let commune = match &c.commune {
        Some(code) => match state.territoires.commune(code) {
            Some(commune) => commune,
            None => {
                return Ok(Issue::Inconnue(format!(
                    "Aucune commune n’a le code INSEE « {code} ». Indiquez le nom de votre commune ou son code postal."
                )));
            }
        },
        None if c.q.trim().is_empty() => {
            return Ok(Issue::France(carte::par_departement(
                &state.lieux,
                &state.territoires,
            )));
        }
        None => {
            let found = communes(&state.territoires, &c.q);
            match found.as_slice() {
                [] => {
                    let q = c.q.trim();
                    return Ok(Issue::Inconnue(if q.bytes().all(|b| b.is_ascii_digit()) {
                        format!(
                            "Aucune commune n’a le code postal « {q} ». Vérifiez-le (5 chiffres, par exemple 42000) ou indiquez le nom de la commune."
                        )
                    } else {
                        format!(
                            "Aucune commune ne s’appelle « {q} ». Vérifiez l’orthographe ou indiquez le code postal (5 chiffres, par exemple 42000)."
                        )
                    }));
                }
                [one] => *one,
                several => {
                    return Ok(Issue::Choisir(
                        several
                            .iter()
                            .map(|commune| Choix {
                                nom: commune.nom.clone(),
                                precision: format!(
                                    "{}{}",
                                    state
                                        .territoires
                                        .chain(commune.code.as_str())
                                        .and_then(|ch| ch.departement)
                                        .map_or_else(
                                            || commune.departement.clone(),
                                            |d| format!("{} ({})", d.nom, d.code)
                                        ),
                                    commune
                                        .codes_postaux
                                        .first()
                                        .map(|p| format!(", {}", p.as_str()))
                                        .unwrap_or_default()
                                ),
                                href: format!(
                                    "/lieux?commune={}&q={}{filters}#resultats",
                                    commune.code.as_str(),
                                    urlencode(&commune.nom)
                                ),
                            })
                            .collect(),
                    ));
                }
            }
        }
    };
    let code = commune.code.as_str();
    let base = format!(
        "/lieux?commune={code}&q={}{filters}",
        urlencode(&commune.nom)
    );
    let res = recherche(
        &state.lieux,
        &Requete {
            zone: Zone::Commune(commune),
            filtre: &filter,
            curseur: c.curseur.as_deref(),
            limite: PAGE,
        },
    )?;
    // The nearest around the town hall are measured from it, as the commune's lieux.
    let centre = commune.position;
    Ok(Issue::Resultats(Resultats {
        lieu_recherche: format!("à {}", commune_label(commune)),
        items: items(&res, centre, now),
        compte: Some(compte(res.total.unwrap_or(0))),
        suivant: res
            .suivant
            .map(|n| format!("{base}&curseur={}#resultats", urlencode(&n))),
        debut: c.curseur.is_some().then(|| format!("{base}#resultats")),
        proches: res.proches,
        commune: Some((code.to_string(), commune.nom.clone())),
    }))
}

/// The lieux of a département, by name, as the national map's list links to them.
fn departement(
    state: &AppState,
    c: &Criteres,
    code: &str,
    filter: &Filter,
    now: LocalTime,
) -> Result<Issue, RechercheError> {
    let code = code.to_ascii_uppercase();
    let Some(d) = state
        .territoires
        .territoires()
        .departements
        .iter()
        .find(|d| d.code == code)
    else {
        return Ok(Issue::Inconnue(format!(
            "Aucun département n’a le code « {code} ». Indiquez le nom de votre commune ou son code postal."
        )));
    };
    let territory = Territory::Departement(d.code.clone());
    let base = format!("/lieux?departement={}{}", d.code, c.filters_query());
    let res = recherche(
        &state.lieux,
        &Requete {
            zone: Zone::Territoire(territory.clone()),
            filtre: filter,
            curseur: c.curseur.as_deref(),
            limite: PAGE,
        },
    )?;
    Ok(Issue::Resultats(Resultats {
        lieu_recherche: format!("dans le département {} ({})", d.nom, d.code),
        items: items(&res, None, now),
        compte: Some(compte(nombre(&state.lieux, &territory, filter))),
        suivant: res
            .suivant
            .map(|n| format!("{base}&curseur={}#resultats", urlencode(&n))),
        debut: c.curseur.is_some().then(|| format!("{base}#resultats")),
        proches: false,
        commune: None,
    }))
}

fn compte(n: usize) -> String {
    match n {
        0 => "Aucun lieu ne correspond à votre recherche.".to_string(),
        1 => "1 lieu correspond à votre recherche.".to_string(),
        n => format!("{n} lieux correspondent à votre recherche."),
    }
}

/// `GET /lieux`: the search form and, when asked, the list.
pub async fn search_page(Page(state, ctx): Page, RawQuery(raw): RawQuery) -> Response {
    let c = Criteres::parse(raw.as_deref());
    let Ok(issue) = search(&state, &c) else {
        return bad_cursor_page(&ctx);
    };
    let q = match (&issue, &c.commune) {
        (Issue::Resultats(r), _) if c.q.is_empty() => r
            .commune
            .as_ref()
            .map(|(_, nom)| nom.clone())
            .unwrap_or_default(),
        _ => c.q.clone(),
    };
    let status = match issue {
        Issue::Inconnue(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    let page = LieuxPage {
        ctx,
        q,
        groupes: vec![
            groupe("services", "Services", |v| c.services.contains(v)),
            groupe("publics", "Publics accueillis en particulier", |v| {
                c.publics.contains(v)
            }),
            groupe("frais", "Frais", |v| c.frais.contains(v)),
        ],
        ouvert_maintenant: c.ouvert_maintenant,
        ouvert_week_end: c.ouvert_week_end,
        filtres_ouverts: c.has_filters(),
        issue,
        tuiles: state.config.tile_url.clone(),
        public_url: state.config.public_url.clone(),
    };
    (status, render(page)).into_response()
}

/// The contours of the départements, drawn by the map when no tile server is configured.
pub async fn contours() -> Response {
    static GEOJSON: &[u8] = include_bytes!("../../../../data/territoires/departements.geojson");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/geo+json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        GEOJSON,
    )
        .into_response()
}

/// What `/lieux/carte/marques.json` is asked.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VueCarte {
    /// `minlon,minlat,maxlon,maxlat`, as the API's.
    bbox: String,
    zoom: u8,
}

/// At most this many marks in one answer: a larger view is asked at a closer zoom.
const MAX_MARQUES: usize = 5_000;

/// `GET /lieux/carte/marques.json`: the marks of the map's view, lieux close together at its
/// zoom sharing one (the national map of `/lieux`).
pub async fn marques(
    State(state): State<AppState>,
    ApiQuery(v): ApiQuery<VueCarte>,
) -> Result<Response, ApiError> {
    let bbox = crate::api::lieux::bbox(&v.bbox)?;
    if v.zoom > 20 {
        return Err(ApiError::bad_request(
            "zoom_invalide",
            "zoom doit être entre 0 et 20.",
        ));
    }
    let marques = carte::marques(&state.lieux, bbox, v.zoom);
    if marques.len() > MAX_MARQUES {
        return Err(ApiError::bad_request(
            "vue_trop_grande",
            format!("plus de {MAX_MARQUES} repères dans cette vue : rapprochez-vous."),
        ));
    }
    let marques: Vec<serde_json::Value> = marques
        .into_iter()
        .map(|m| {
            let mut o = serde_json::json!({
                "lat": (m.position.lat * 1e5).round() / 1e5,
                "lon": (m.position.lon * 1e5).round() / 1e5,
                "nombre": m.nombre,
            });
            if let Some((id, nom)) = m.lieu {
                o["id"] = id.as_str().into();
                o["nom"] = nom.into();
            }
            o
        })
        .collect();
    Ok((
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        )],
        axum::Json(serde_json::json!({ "marques": marques })),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_written_in_french() {
        assert_eq!(distance_fr(847.0), "850 m");
        assert_eq!(distance_fr(1_449.0), "1,4 km");
        assert_eq!(distance_fr(12_600.0), "13 km");
    }

    #[test]
    fn repeated_checkboxes_are_all_read() {
        let c = Criteres::parse(Some(
            "q=Lyon&frais=Gratuit&frais=Payant&frais=inconnu&ouvert_maintenant=1&page=99",
        ));
        assert_eq!(c.q, "Lyon");
        assert_eq!(c.frais, vec![Frais::Gratuit, Frais::Payant]);
        assert!(c.ouvert_maintenant && !c.ouvert_week_end);
        assert_eq!(c.page, NEAREST_PAGES);
        assert_eq!(
            c.filters_query(),
            "&frais=Gratuit&frais=Payant&ouvert_maintenant=1"
        );
    }
}
