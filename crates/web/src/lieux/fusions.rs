//! The review of the cross-source merge, for administrators: the pairs of records the
//! rules could not decide, side by side, and a person's decision on each (« même lieu »,
//! « lieux distincts »), which later imports respect.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use relais_services::lieux::fusion::{
    self, FusionError, NamedLieu, PastDecision, ReviewItem, Verdict,
};
use relais_services::lieux::import::lieu_id;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Admin, CsrfForm, Fresh};
use crate::error::internal;
use crate::pages::{Page, PageContext, render};
use relais_domain::calendrier::date_heure_fr;
use relais_domain::ids::LieuId;

/// Pairs per page.
const PAGE: usize = 20;
/// Past decisions shown under the list.
const DECISIONS: u32 = 20;

/// One record of a pair, as the person compares it.
pub struct Fiche {
    /// The record's own id: a decision on it holds even once merged into another lieu.
    pub id: LieuId,
    /// The lieu it is part of now.
    pub lieu: LieuId,
    pub nom: String,
    pub adresse: String,
    pub commune: String,
    pub siret: String,
    pub telephone: String,
    pub courriel: String,
    pub site: String,
    pub source: String,
    pub date_maj: String,
}

impl Fiche {
    fn new(lieu: &LieuId, source: &str, external: &str, data: &str) -> Fiche {
        let row: BTreeMap<String, String> = serde_json::from_str(data).unwrap_or_default();
        let get = |f: &str| row.get(f).map_or("", |v| v.trim()).to_string();
        let joined = |parts: &[&str]| {
            parts
                .iter()
                .map(|f| get(f))
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        };
        Fiche {
            id: lieu_id(source, external),
            lieu: lieu.clone(),
            nom: get("nom"),
            adresse: joined(&["adresse", "complement_adresse"]),
            commune: format!("{} {}", get("code_postal"), get("commune"))
                .trim()
                .to_string(),
            // The schema's placeholder for "no SIRET" is fourteen zeros.
            siret: Some(get("pivot"))
                .filter(|p| !p.bytes().all(|b| b == b'0'))
                .unwrap_or_default(),
            telephone: telephone_fr(&get("telephone")),
            // Lists of the schema are `|`-separated.
            courriel: get("courriels").replace('|', ", "),
            site: get("site_web").replace('|', ", "),
            source: source.to_string(),
            date_maj: date_iso_fr(&get("date_maj")),
        }
    }

    /// The lines of the comparison table: (label, value), "non renseigné" when empty.
    pub fn lignes(&self) -> Vec<(&'static str, String)> {
        [
            ("Nom", &self.nom),
            ("Adresse", &self.adresse),
            ("Commune", &self.commune),
            ("SIRET", &self.siret),
            ("Téléphone", &self.telephone),
            ("Courriel", &self.courriel),
            ("Site web", &self.site),
            ("Source", &self.source),
            ("Mise à jour", &self.date_maj),
        ]
        .into_iter()
        .map(|(l, v)| {
            let v = if v.is_empty() { "non renseigné" } else { v };
            (l, v.to_string())
        })
        .collect()
    }
}

/// `+33477123456` as "04 77 12 34 56"; anything else as given.
fn telephone_fr(raw: &str) -> String {
    match raw.strip_prefix("+33") {
        Some(rest) if rest.len() == 9 && rest.bytes().all(|b| b.is_ascii_digit()) => {
            let digits = format!("0{rest}");
            (0..5)
                .map(|i| &digits[2 * i..2 * i + 2])
                .collect::<Vec<_>>()
                .join(" ")
        }
        _ => raw.to_string(),
    }
}

/// `2024-06-01` as "01/06/2024"; anything else as given.
fn date_iso_fr(raw: &str) -> String {
    let parts: Vec<&str> = raw.get(..10).unwrap_or(raw).split('-').collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => format!("{d}/{m}/{y}"),
        _ => raw.to_string(),
    }
}

pub struct Paire {
    /// 1, 2, 3… over the whole list: the anchor of the pair.
    pub rang: usize,
    pub a: Fiche,
    pub b: Fiche,
    /// (label, value of a, value of b), line by line.
    pub lignes: Vec<(&'static str, String, String)>,
    pub score: String,
    pub distance: String,
    /// What the comparison found, in French, distance apart.
    pub criteres: Vec<String>,
}

fn paire(rang: usize, p: &ReviewItem) -> Paire {
    let a = Fiche::new(&p.lieu_a, &p.source_a, &p.external_a, &p.data_a);
    let b = Fiche::new(&p.lieu_b, &p.source_b, &p.external_b, &p.data_b);
    let lignes = a
        .lignes()
        .into_iter()
        .zip(b.lignes())
        .map(|((label, va), (_, vb))| (label, va, vb))
        .collect();
    // The details are `fusion::details`: criteria joined by " ; ", one of them the distance.
    let (distance, criteres): (Vec<&str>, Vec<&str>) = p
        .details
        .split(" ; ")
        .filter(|c| !c.is_empty())
        .partition(|c| c.starts_with("distance : "));
    Paire {
        rang,
        a,
        b,
        lignes,
        score: format!("{:.1}", p.score).replace('.', ","),
        distance: distance
            .first()
            .map_or("inconnue", |d| d.trim_start_matches("distance : "))
            .to_string(),
        criteres: criteres.into_iter().map(str::to_string).collect(),
    }
}

/// A past decision, from the journal.
pub struct Passee {
    pub date: String,
    pub auteur: String,
    pub a: NamedLieu,
    pub b: NamedLieu,
    pub verdict: &'static str,
}

#[derive(Template)]
#[template(path = "fusions_admin.html")]
pub struct FusionsPage {
    pub ctx: PageContext,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub paires: Vec<Paire>,
    pub notice: Option<&'static str>,
    pub erreur: Option<String>,
    pub passees: Vec<Passee>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<usize>,
    fait: Option<String>,
}

/// `GET /admin/lieux/fusions`: the pairs to review, highest score first, a page at a time.
pub async fn list(Page(state, ctx): Page, admin: Admin, Query(q): Query<ListQuery>) -> Response {
    let notice = match q.fait.as_deref() {
        Some("distincts") => Some(
            "Décision enregistrée : ces deux lieux restent distincts, même après de nouveaux imports.",
        ),
        Some("identiques") => {
            Some("Décision enregistrée : les deux fiches sont réunies en un seul lieu.")
        }
        _ => None,
    };
    page(&state, ctx, &admin, q.page.unwrap_or(1), notice, None).await
}

async fn page(
    state: &AppState,
    ctx: PageContext,
    admin: &Admin,
    page: usize,
    notice: Option<&'static str>,
    erreur: Option<String>,
) -> Response {
    let all = match fusion::review(&state.db).await {
        Ok(all) => all,
        Err(e) => return internal(e),
    };
    let passees = match fusion::past_decisions(&state.db, &admin.access, DECISIONS).await {
        Ok(found) => found.into_iter().map(passee).collect(),
        Err(e) => return internal(e),
    };
    let total = all.len();
    let pages = total.div_ceil(PAGE).max(1);
    let page = page.clamp(1, pages);
    let paires = all
        .iter()
        .enumerate()
        .skip((page - 1) * PAGE)
        .take(PAGE)
        .map(|(i, p)| paire(i + 1, p))
        .collect();
    let status = if erreur.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let html = render(FusionsPage {
        ctx,
        total,
        page,
        pages,
        paires,
        notice,
        erreur,
        passees,
    });
    (status, html).into_response()
}

fn passee(d: PastDecision) -> Passee {
    Passee {
        date: date_heure_fr(d.at),
        auteur: d.auteur,
        a: d.a,
        b: d.b,
        verdict: match d.verdict {
            Verdict::Same => "Même lieu : fusionnés",
            Verdict::Distinct => "Lieux distincts",
        },
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    a: String,
    b: String,
    verdict: String,
}

/// `POST /admin/lieux/fusions/decision`: records the decision (and its journal entry),
/// merges the commune again, and comes back to the list with a notice.
pub async fn decide(
    Page(state, ctx): Page,
    admin: Admin,
    _fresh: Fresh,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Response {
    let verdict = match form.verdict.as_str() {
        "distincts" => Verdict::Distinct,
        "identiques" => Verdict::Same,
        _ => {
            let e = "Choisissez « Même lieu : fusionner » ou « Lieux distincts ».".to_string();
            return page(&state, ctx, &admin, 1, None, Some(e)).await;
        }
    };
    let (a, b) = (
        LieuId::from(form.a.trim().to_string()),
        LieuId::from(form.b.trim().to_string()),
    );
    match fusion::decide_as(&state.db, &admin.access, &a, &b, verdict).await {
        Ok(_) => {
            Redirect::to(&format!("/admin/lieux/fusions?fait={}", form.verdict)).into_response()
        }
        Err(FusionError::Store(e)) => internal(e),
        Err(e) => {
            let e = crate::comptes::capitalize(&e.to_string());
            page(&state, ctx, &admin, 1, None, Some(format!("{e}."))).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_reads_as_a_person_compares_it() {
        let data = |nom: &str, extra: &str| {
            format!(
                r#"{{"nom":"{nom}","adresse":"20 rue Jo Gouttebarge","code_postal":"42000","commune":"Saint-Étienne","date_maj":"2024-06-01"{extra}}}"#
            )
        };
        let item = ReviewItem {
            code_insee: "42218".into(),
            score: 2.5,
            details: "nom : autre nom ; adresse : même adresse ; distance : 3 m ; même SIRET"
                .into(),
            lieu_a: LieuId("l1".into()),
            source_a: "ville".into(),
            external_a: "1".into(),
            data_a: data(
                "Médiathèque",
                r#","pivot":"13002526500013","courriels":"a@b.fr|c@d.fr""#,
            ),
            lieu_b: LieuId("l2".into()),
            source_b: "reseau".into(),
            external_b: "E-1".into(),
            data_b: data("Espace numérique", ""),
        };
        let p = paire(3, &item);
        assert_eq!(p.distance, "3 m");
        assert_eq!(
            p.criteres,
            ["nom : autre nom", "adresse : même adresse", "même SIRET"]
        );
        assert_eq!(p.score, "2,5");
        assert_eq!(p.a.id, lieu_id("ville", "1"));
        assert_eq!(p.a.courriel, "a@b.fr, c@d.fr");
        assert_eq!(p.a.date_maj, "01/06/2024");
        assert_eq!(
            p.lignes[3],
            ("SIRET", "13002526500013".into(), "non renseigné".into())
        );
        assert_eq!(p.lignes[2].1, "42000 Saint-Étienne");
        assert_eq!(telephone_fr("+33477123456"), "04 77 12 34 56");
        assert_eq!(telephone_fr("+262262123456"), "+262262123456");
        let blank = Fiche::new(
            &LieuId("l".into()),
            "s",
            "e",
            r#"{"pivot":"00000000000000"}"#,
        );
        assert_eq!(blank.siret, "");
    }
}
