//! The statistics pages: a structure's, for its members, and the public one for the nation
//! or a territory, where small counts are secret. Each chart is an SVG drawn here, followed
//! by the table of its values.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use relais_domain::activites::statistiques::{
    Figures, Filtres, Perimetre, SEUIL_SECRET, secret_statistique,
};
use relais_domain::activites::vocabulaires::TypeActivite;
use relais_domain::calendrier::parse_date_iso;
use relais_domain::ids::StructureId;
use serde::Deserialize;

use crate::auth::{InStructure, Members};
use crate::error::internal;
use crate::pages::{Page, PageContext, render, structure_name};

/// One bar of a chart and one row of its table.
pub struct Barre {
    pub libelle: String,
    /// The count as shown (« moins de 11 » when secret).
    pub valeur: String,
    /// Its length, in hundredths of the longest.
    pub longueur: u64,
    /// Its position from the top, in the chart's units.
    pub y: usize,
}

pub struct Repartition {
    pub id: &'static str,
    pub titre: &'static str,
    pub barres: Vec<Barre>,
    /// The chart's height, in its units (one band of 10 per bar).
    pub hauteur: usize,
}

#[derive(Template)]
#[template(path = "statistiques.html")]
pub struct StatsPage {
    pub ctx: PageContext,
    pub titre: String,
    /// The form's address (this page's, without its query).
    pub action: String,
    /// The territories offered (code, name, chosen), for the public page.
    pub perimetres: Vec<(String, String, bool)>,
    pub du: String,
    pub au: String,
    pub type_activite: String,
    pub public: bool,
    pub totaux: Vec<(&'static str, String)>,
    pub repartitions: Vec<Repartition>,
    pub erreur: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Demande {
    territoire: Option<String>,
    du: Option<String>,
    au: Option<String>,
    #[serde(rename = "type")]
    type_activite: Option<String>,
}

/// The period and type asked, into filters; a date that cannot be read is reported.
fn filtres(q: &Demande) -> (Filtres, Option<String>) {
    let mut f = Filtres::default();
    let mut erreur = None;
    for (value, slot, label) in [(&q.du, &mut f.du, "début"), (&q.au, &mut f.au, "fin")] {
        match value.as_deref().map(str::trim) {
            None | Some("") => {}
            Some(v) => match parse_date_iso(v) {
                Some(d) => *slot = Some(d),
                None => {
                    erreur = Some(format!(
                        "Date de {label} : « {v} » n’est pas une date au format jj/mm/aaaa."
                    ));
                }
            },
        }
    }
    if let Some(t) = q.type_activite.as_deref().and_then(TypeActivite::parse) {
        f.types.insert(t);
    }
    (f, erreur)
}

fn shown(n: u64, public: bool) -> String {
    if public && (1..SEUIL_SECRET).contains(&n) {
        format!("moins de {SEUIL_SECRET}")
    } else {
        n.to_string()
    }
}

fn repartition<K: Ord + Clone>(
    id: &'static str,
    titre: &'static str,
    counts: &BTreeMap<K, u64>,
    label: impl Fn(&K) -> String,
    public: bool,
) -> Repartition {
    let published: BTreeMap<K, Option<u64>> = if public {
        secret_statistique(counts)
    } else {
        counts.iter().map(|(k, n)| (k.clone(), Some(*n))).collect()
    };
    let max = published
        .values()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let barres: Vec<Barre> = published
        .iter()
        .enumerate()
        .map(|(i, (k, n))| Barre {
            libelle: label(k),
            valeur: n.map_or_else(
                || format!("secret (moins de {SEUIL_SECRET} ou déductible)"),
                |n| n.to_string(),
            ),
            longueur: n.map_or(0, |n| n * 100 / max),
            y: i * 10,
        })
        .collect();
    Repartition {
        id,
        titre,
        hauteur: barres.len() * 10,
        barres,
    }
}

/// The totals and distributions of `f`, secret where `public` asks.
fn figures_page(f: &Figures, public: bool) -> (Vec<(&'static str, String)>, Vec<Repartition>) {
    let t = &f.totaux;
    let totaux = vec![
        ("Activités", shown(t.activites, public)),
        (
            "dont accompagnements individuels",
            shown(t.activites_individuelles, public),
        ),
        (
            "dont ateliers collectifs",
            shown(t.activites_collectives, public),
        ),
        ("Participations", shown(t.participations, public)),
        (
            "Personnes accompagnées (chaque personne suivie comptée une fois)",
            shown(t.beneficiaires, public),
        ),
        ("Premiers accompagnements", shown(t.nouveaux, public)),
    ];
    const MOIS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let repartitions = vec![
        repartition(
            "mois",
            "Participations par mois",
            &f.par_mois,
            |(y, m)| format!("{} {y}", MOIS[(*m as usize).clamp(1, 12) - 1]),
            public,
        ),
        repartition(
            "type",
            "Par type d’activité",
            &f.par_type,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "duree",
            "Par durée",
            &f.par_duree,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "lieu",
            "Par type de lieu",
            &f.par_type_lieu,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "thematique",
            "Par thématique (une participation compte sous chacune des siennes)",
            &f.par_thematique,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "materiel",
            "Par matériel utilisé",
            &f.par_materiel,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "genre",
            "Par genre",
            &f.par_genre,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "age",
            "Par tranche d’âge",
            &f.par_tranche,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "statut",
            "Par statut",
            &f.par_statut,
            |k| k.label().to_string(),
            public,
        ),
    ];
    (totaux, repartitions)
}

/// `GET /statistiques`: the nation or a territory, small counts secret.
pub async fn public(Page(state, ctx): Page, Query(q): Query<Demande>) -> Response {
    let t = state.territoires.territoires();
    let (mut f, mut erreur) = filtres(&q);
    let perimetre = match q.territoire.as_deref().map(Perimetre::parse) {
        None => Perimetre::France,
        Some(Some(p)) if p.nom(t).is_some() => p,
        Some(_) => {
            erreur = Some("Territoire inconnu : choisissez-en un dans la liste.".into());
            Perimetre::France
        }
    };
    f.communes = perimetre.communes(t);
    let figures = match state.activites.figures(&state.db, &f).await {
        Ok(figures) => figures,
        Err(e) => return internal(e),
    };
    let nom = perimetre.nom(t).unwrap_or_default();
    let mut perimetres = vec![(
        "france".to_string(),
        "France entière".to_string(),
        perimetre == Perimetre::France,
    )];
    for r in &t.regions {
        let p = Perimetre::Region(r.code.clone());
        perimetres.push((p.code(), format!("Région {}", r.nom), p == perimetre));
    }
    for d in &t.departements {
        let p = Perimetre::Departement(d.code.clone());
        perimetres.push((p.code(), format!("{} ({})", d.nom, d.code), p == perimetre));
    }
    let (totaux, repartitions) = figures_page(&figures, true);
    let status = if erreur.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (
        status,
        render(StatsPage {
            ctx,
            titre: format!("Statistiques des activités — {nom}"),
            action: "/statistiques".into(),
            perimetres,
            du: q.du.clone().unwrap_or_default(),
            au: q.au.clone().unwrap_or_default(),
            type_activite: q.type_activite.clone().unwrap_or_default(),
            public: true,
            totaux,
            repartitions,
            erreur,
        }),
    )
        .into_response()
}

/// `GET /structures/{id}/statistiques`: the structure's activities, for its members.
pub async fn structure(
    Page(state, ctx): Page,
    guard: InStructure<Members>,
    Query(q): Query<Demande>,
) -> Response {
    let access = guard.access;
    let nom = match structure_name(&state, &access).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    let (mut f, erreur) = filtres(&q);
    f.structures.insert(access.structure());
    let figures = match state.activites.figures(&state.db, &f).await {
        Ok(figures) => figures,
        Err(e) => return internal(e),
    };
    let (totaux, repartitions) = figures_page(&figures, false);
    let status = if erreur.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let id: StructureId = access.structure();
    (
        status,
        render(StatsPage {
            ctx,
            titre: format!("Statistiques des activités — {nom}"),
            action: format!("/structures/{id}/statistiques"),
            perimetres: Vec::new(),
            du: q.du.clone().unwrap_or_default(),
            au: q.au.clone().unwrap_or_default(),
            type_activite: q.type_activite.clone().unwrap_or_default(),
            public: false,
            totaux,
            repartitions,
            erreur,
        }),
    )
        .into_response()
}
