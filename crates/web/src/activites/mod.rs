//! A mediator's activities: their list with their own figures, the entry form (works
//! without JavaScript; sensible defaults so that an individual accompaniment takes a few
//! choices), and deletion. The rules are in `relais_services::activites`.

pub mod beneficiaires;
pub mod statistiques;

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::activites::rapport::{Anonymes, Rapport};
use relais_domain::activites::statistiques::Filtres;
use relais_domain::activites::vocabulaires::{
    Autonomie, DUREES_PROPOSEES, Genre, Materiel, NiveauAtelier, StatutSocial,
    StructureDeRedirection, Thematique, ThematiqueDemarche, TrancheAge, TypeActivite, TypeLieu,
};
use relais_domain::authz::MediateurAccess;
use relais_domain::calendrier::{date_fr, now_ms, paris_civil, parse_date_iso};
use relais_domain::ids::{ActiviteId, BeneficiaireId, LieuId, StructureId};
use relais_services::activites::{self as svc, SaisieError};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{CsrfForm, MediateurDe};
use crate::comptes::Empty;
use crate::error::{gone, internal};
use crate::pages::{Page, PageContext, render};

/// One line of the list.
pub struct Ligne {
    pub id: ActiviteId,
    pub date: String,
    pub type_activite: &'static str,
    pub duree: u32,
    pub lieu: &'static str,
    pub thematiques: String,
    pub participants: i64,
}

#[derive(Template)]
#[template(path = "activites.html")]
pub struct ListPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub lignes: Vec<Ligne>,
    pub activites: u64,
    pub participations: u64,
    pub beneficiaires: u64,
    pub message: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct Fait {
    pub fait: Option<String>,
}

/// `GET /structures/{id}/activites`
pub async fn list(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    Query(q): Query<Fait>,
) -> Response {
    let lignes = match svc::mes_activites(&state.db, &access).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let mine = Filtres {
        mediateurs: BTreeSet::from([access.person()]),
        structures: BTreeSet::from([access.structure()]),
        ..Filtres::default()
    };
    let totaux = match state.activites.figures(&state.db, &mine).await {
        Ok(f) => f.totaux,
        Err(e) => return internal(e),
    };
    render(ListPage {
        ctx,
        structure_id: access.structure(),
        lignes: lignes
            .into_iter()
            .map(|a| Ligne {
                id: a.id,
                date: date_fr(a.date),
                type_activite: a.type_activite.label(),
                duree: a.duree,
                lieu: a.type_lieu.label(),
                thematiques: a
                    .thematiques
                    .iter()
                    .map(|t| t.label())
                    .collect::<Vec<_>>()
                    .join(", "),
                participants: a.participants,
            })
            .collect(),
        activites: totaux.activites,
        participations: totaux.participations,
        beneficiaires: totaux.beneficiaires,
        message: match q.fait.as_deref() {
            Some("enregistree") => Some("L’activité est enregistrée."),
            Some("modifiee") => Some("L’activité est modifiée."),
            Some("supprimee") => {
                Some("L’activité est supprimée : elle ne compte plus dans les statistiques.")
            }
            _ => None,
        },
    })
}

/// A choice of a list (radio, checkbox or option), with its state.
pub struct Choix {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

pub(crate) fn choices<T: Copy>(
    all: &[T],
    value: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
    checked: impl Fn(&str) -> bool,
) -> Vec<Choix> {
    all.iter()
        .map(|v| Choix {
            value: value(*v).to_string(),
            label: label(*v).to_string(),
            checked: checked(value(*v)),
        })
        .collect()
}

/// The choices of an optional list: « Non précisé » (empty) first.
fn facultatif<T: Copy>(
    all: &[T],
    value: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
    chosen: &str,
) -> Vec<Choix> {
    let mut out = vec![Choix {
        value: String::new(),
        label: "Non précisé".into(),
        checked: chosen.is_empty(),
    }];
    out.extend(choices(all, value, label, |v| v == chosen));
    out
}

#[derive(Template)]
#[template(path = "activite_nouvelle.html")]
pub struct FormPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    /// « Nouvelle activité », or the change of one.
    pub titre_page: String,
    /// Where the form is sent.
    pub action: String,
    pub cle: String,
    pub types: Vec<Choix>,
    pub date: String,
    pub durees: Vec<Choix>,
    pub duree_autre: String,
    pub types_lieu: Vec<Choix>,
    pub lieux: Vec<Choix>,
    pub commune: String,
    pub thematiques: Vec<Choix>,
    pub demarches: Vec<Choix>,
    pub precisions_demarche: String,
    pub materiel: Vec<Choix>,
    pub autonomies: Vec<Choix>,
    pub niveaux: Vec<Choix>,
    pub orientations: Vec<Choix>,
    pub suivis: Vec<Choix>,
    pub anonymes: String,
    pub genres: Vec<Choix>,
    pub tranches: Vec<Choix>,
    pub statuts: Vec<Choix>,
    pub deja: bool,
    /// A workshop's counts by category: (legend, fields).
    pub comptes: Vec<(&'static str, Vec<Compte>)>,
    pub deja_nombre: String,
    pub titre: String,
    /// (field, message) of each field that is not right.
    pub erreurs: Vec<(&'static str, String)>,
}

impl FormPage {
    /// No error (a field the checks never fault).
    fn aucune(&self) -> Option<&str> {
        None
    }

    fn erreur(&self, field: &str) -> Option<&str> {
        self.erreurs
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// One count of a workshop's people by category.
pub struct Compte {
    pub name: String,
    pub label: &'static str,
    pub value: String,
}

/// A count field per known value of a list (« non communiqué » is what is left).
fn compte_fields<T: Copy + PartialEq>(
    envoi: &Envoi,
    prefix: &str,
    all: &[T],
    unknown: T,
    value: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Vec<Compte> {
    all.iter()
        .filter(|v| **v != unknown)
        .map(|v| {
            let name = format!("{prefix}_{}", value(*v));
            Compte {
                value: envoi.one(&name).to_string(),
                name,
                label: label(*v),
            }
        })
        .collect()
}

/// The form as sent: every field by name, repeated ones (checkboxes) in order.
struct Envoi(BTreeMap<String, Vec<String>>);

impl Envoi {
    fn new(pairs: Vec<(String, String)>) -> Envoi {
        let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            fields.entry(k).or_default().push(v);
        }
        Envoi(fields)
    }

    fn one(&self, name: &str) -> &str {
        self.0
            .get(name)
            .and_then(|v| v.first())
            .map_or("", |v| v.trim())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .get(name)
            .map(|v| v.iter().map(|s| s.trim()).collect())
            .unwrap_or_default()
    }
}

/// What the form writes: a new activity of the structure, or one to change.
pub struct Cible {
    structure: StructureId,
    activite: Option<ActiviteId>,
}

impl Cible {
    fn action(&self) -> String {
        match self.activite {
            None => format!("/structures/{}/activites/nouvelle", self.structure),
            Some(a) => format!("/structures/{}/activites/{a}/modifier", self.structure),
        }
    }
}

/// A day (midnight UTC) as an ISO date.
fn iso(day: i64) -> String {
    let (y, m, d) = relais_domain::calendrier::civil_from_days(day.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// A stored report as the form sends it, to show it again.
fn envoi_de(cle: &str, r: &Rapport) -> Envoi {
    let mut pairs: Vec<(String, String)> = vec![
        ("cle".into(), cle.into()),
        ("type_activite".into(), r.type_activite.as_str().into()),
        ("date".into(), iso(r.date)),
        ("type_lieu".into(), r.type_lieu.as_str().into()),
        ("commune".into(), r.commune.clone()),
        ("anonymes".into(), r.anonymes.total.to_string()),
        ("titre_atelier".into(), r.titre_atelier.clone()),
        ("precisions_demarche".into(), r.precisions_demarche.clone()),
    ];
    for (name, value) in [
        ("autonomie", r.autonomie.map(Autonomie::as_str)),
        ("niveau", r.niveau.map(NiveauAtelier::as_str)),
        (
            "orientation",
            r.orientation.map(StructureDeRedirection::as_str),
        ),
    ] {
        if let Some(v) = value {
            pairs.push((name.into(), v.into()));
        }
    }
    pairs.extend(
        r.demarches
            .iter()
            .map(|d| ("demarches".into(), d.as_str().into())),
    );
    if DUREES_PROPOSEES.contains(&r.duree) {
        pairs.push(("duree".into(), r.duree.to_string()));
    } else {
        pairs.push(("duree_autre".into(), r.duree.to_string()));
    }
    if let Some(l) = &r.lieu {
        pairs.push(("lieu".into(), l.to_string()));
    }
    pairs.extend(
        r.thematiques
            .iter()
            .map(|t| ("thematiques".into(), t.as_str().into())),
    );
    pairs.extend(
        r.materiel
            .iter()
            .map(|m| ("materiel".into(), m.as_str().into())),
    );
    pairs.extend(r.suivis.iter().map(|b| ("suivis".into(), b.to_string())));
    let a = &r.anonymes;
    if r.type_activite == TypeActivite::Individuel && a.total == 1 {
        let first =
            |m: Vec<&'static str>| m.first().copied().unwrap_or("non_communique").to_string();
        pairs.push((
            "genre".into(),
            first(a.genres.keys().map(|k| k.as_str()).collect()),
        ));
        pairs.push((
            "tranche".into(),
            first(a.tranches.keys().map(|k| k.as_str()).collect()),
        ));
        pairs.push((
            "statut".into(),
            first(a.statuts.keys().map(|k| k.as_str()).collect()),
        ));
        if a.deja_accompagnes > 0 {
            pairs.push(("deja".into(), "oui".into()));
        }
    } else {
        pairs.push(("deja_nombre".into(), a.deja_accompagnes.to_string()));
        for (k, n) in &a.genres {
            pairs.push((format!("genre_{}", k.as_str()), n.to_string()));
        }
        for (k, n) in &a.tranches {
            pairs.push((format!("tranche_{}", k.as_str()), n.to_string()));
        }
        for (k, n) in &a.statuts {
            pairs.push((format!("statut_{}", k.as_str()), n.to_string()));
        }
    }
    Envoi::new(pairs)
}

/// Today in Paris, as an ISO date.
fn aujourd_hui() -> String {
    let (y, m, d, _) = paris_civil(now_ms());
    format!("{y:04}-{m:02}-{d:02}")
}

fn form_page(
    ctx: PageContext,
    cible: &Cible,
    offert: &svc::Choix,
    envoi: &Envoi,
    erreurs: Vec<(&'static str, String)>,
) -> FormPage {
    let or = |name: &str, default: &str| -> String {
        match envoi.one(name) {
            "" => default.to_string(),
            v => v.to_string(),
        }
    };
    let type_activite = or("type_activite", "individuel");
    let duree = or("duree", "30");
    // The usual place: where the mediator's latest activity was (its lieu if still one of
    // the structure's), else the structure's first lieu, else at home.
    let offered = |l: &LieuId| offert.lieux.iter().any(|(id, _)| id == l);
    let (default_type, default_lieu, default_commune) = match &offert.habitude {
        Some(h)
            if h.type_lieu != TypeLieu::LieuActivite || h.lieu.as_ref().is_some_and(offered) =>
        {
            (h.type_lieu.as_str(), h.lieu.clone(), h.commune.as_str())
        }
        _ => match offert.lieux.first() {
            Some((id, _)) => ("lieu_activite", Some(id.clone()), offert.commune.as_str()),
            None => ("domicile", None, offert.commune.as_str()),
        },
    };
    let type_lieu = or("type_lieu", default_type);
    let lieu = or("lieu", default_lieu.as_ref().map_or("", LieuId::as_str));
    let thematiques = envoi.all("thematiques");
    let materiel = envoi.all("materiel");
    let demarches = envoi.all("demarches");
    let suivis = envoi.all("suivis");
    FormPage {
        ctx,
        structure_id: cible.structure,
        titre_page: match cible.activite {
            None => "Nouvelle activité".into(),
            Some(_) => "Modifier une activité".into(),
        },
        action: cible.action(),
        cle: match envoi.one("cle") {
            "" => svc::nouvelle_cle(),
            c => c.to_string(),
        },
        types: choices(
            TypeActivite::ALL,
            TypeActivite::as_str,
            TypeActivite::label,
            |v| v == type_activite,
        ),
        date: or("date", &aujourd_hui()),
        durees: DUREES_PROPOSEES
            .iter()
            .map(|m| Choix {
                value: m.to_string(),
                label: if *m < 60 {
                    format!("{m} min")
                } else if m % 60 == 0 {
                    format!("{} h", m / 60)
                } else {
                    format!("{} h {}", m / 60, m % 60)
                },
                checked: duree == m.to_string(),
            })
            .collect(),
        duree_autre: envoi.one("duree_autre").to_string(),
        types_lieu: choices(TypeLieu::ALL, TypeLieu::as_str, TypeLieu::label, |v| {
            v == type_lieu
        }),
        lieux: offert
            .lieux
            .iter()
            .map(|(id, nom)| Choix {
                value: id.to_string(),
                label: nom.clone(),
                checked: id.as_str() == lieu,
            })
            .collect(),
        commune: or("commune", default_commune),
        thematiques: choices(
            &offert.thematiques,
            Thematique::as_str,
            Thematique::label,
            |v| thematiques.contains(&v),
        ),
        materiel: choices(Materiel::ALL, Materiel::as_str, Materiel::label, |v| {
            materiel.contains(&v)
        }),
        demarches: choices(
            ThematiqueDemarche::ALL,
            ThematiqueDemarche::as_str,
            ThematiqueDemarche::label,
            |v| demarches.contains(&v),
        ),
        precisions_demarche: envoi.one("precisions_demarche").to_string(),
        autonomies: facultatif(
            Autonomie::ALL,
            Autonomie::as_str,
            Autonomie::label,
            envoi.one("autonomie"),
        ),
        niveaux: facultatif(
            NiveauAtelier::ALL,
            NiveauAtelier::as_str,
            NiveauAtelier::label,
            envoi.one("niveau"),
        ),
        orientations: facultatif(
            StructureDeRedirection::ALL,
            StructureDeRedirection::as_str,
            StructureDeRedirection::label,
            envoi.one("orientation"),
        ),
        suivis: offert
            .beneficiaires
            .iter()
            .map(|(id, nom)| Choix {
                value: id.to_string(),
                label: nom.clone(),
                checked: suivis.contains(&id.to_string().as_str()),
            })
            .collect(),
        anonymes: or("anonymes", if suivis.is_empty() { "1" } else { "0" }),
        genres: choices(Genre::ALL, Genre::as_str, Genre::label, |v| {
            v == or("genre", "non_communique")
        }),
        tranches: choices(
            TrancheAge::ALL,
            TrancheAge::as_str,
            TrancheAge::label,
            |v| v == or("tranche", "non_communique"),
        ),
        statuts: choices(
            StatutSocial::ALL,
            StatutSocial::as_str,
            StatutSocial::label,
            |v| v == or("statut", "non_communique"),
        ),
        deja: envoi.one("deja") == "oui",
        comptes: vec![
            (
                "Genre",
                compte_fields(
                    envoi,
                    "genre",
                    Genre::ALL,
                    Genre::NonCommunique,
                    Genre::as_str,
                    Genre::label,
                ),
            ),
            (
                "Tranche d’âge",
                compte_fields(
                    envoi,
                    "tranche",
                    TrancheAge::ALL,
                    TrancheAge::NonCommunique,
                    TrancheAge::as_str,
                    TrancheAge::label,
                ),
            ),
            (
                "Statut",
                compte_fields(
                    envoi,
                    "statut",
                    StatutSocial::ALL,
                    StatutSocial::NonCommunique,
                    StatutSocial::as_str,
                    StatutSocial::label,
                ),
            ),
        ],
        deja_nombre: envoi.one("deja_nombre").to_string(),
        titre: envoi.one("titre_atelier").to_string(),
        erreurs,
    }
}

/// The fields another page may fill in the new activity's form (the counter, after a pass
/// is accepted).
const PREREMPLIS: [&str; 5] = [
    "type_activite",
    "thematiques",
    "type_lieu",
    "lieu",
    "suivis",
];

/// `GET /structures/{id}/activites/nouvelle`, maybe with some fields filled
/// ([`PREREMPLIS`]).
pub async fn new_form(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let remplis = pairs
        .into_iter()
        .filter(|(k, _)| PREREMPLIS.contains(&k.as_str()))
        .collect();
    match svc::choix(&state.db, &access).await {
        Ok(offert) => render(form_page(
            ctx,
            &Cible {
                structure: access.structure(),
                activite: None,
            },
            &offert,
            &Envoi::new(remplis),
            Vec::new(),
        )),
        Err(e) => internal(e),
    }
}

fn parsed<T: Ord>(values: Vec<&str>, parse: impl Fn(&str) -> Option<T>) -> BTreeSet<T> {
    values.into_iter().filter_map(parse).collect()
}

/// The non-zero counts of each value of a list.
fn counts<T: Ord + Copy>(all: &[T], count: impl Fn(T) -> u32) -> BTreeMap<T, u32> {
    all.iter()
        .map(|v| (*v, count(*v)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn one<T>(value: &str, parse: impl Fn(&str) -> Option<T>, default: T) -> T {
    parse(value).unwrap_or(default)
}

/// The report the form describes, or the fields it could not read.
fn rapport(envoi: &Envoi) -> Result<Rapport, Vec<(&'static str, String)>> {
    let mut erreurs = Vec::new();
    let mut bad = |field: &'static str, message: &str| erreurs.push((field, message.to_string()));
    let type_activite = TypeActivite::parse(envoi.one("type_activite"));
    if type_activite.is_none() {
        bad(
            "type_activite",
            "Type : choisissez un accompagnement individuel ou un atelier collectif.",
        );
    }
    let date = parse_date_iso(envoi.one("date"));
    if date.is_none() {
        bad("date", "Date : indiquez le jour, au format jj/mm/aaaa.");
    }
    let duree = match envoi.one("duree_autre") {
        "" => envoi.one("duree").parse::<u32>().ok(),
        autre => autre.parse::<u32>().ok(),
    };
    if duree.is_none() {
        bad(
            "duree",
            "Durée : choisissez une durée, ou indiquez-la en minutes.",
        );
    }
    let type_lieu = TypeLieu::parse(envoi.one("type_lieu"));
    if type_lieu.is_none() {
        bad("type_lieu", "Lieu : indiquez où l’activité a eu lieu.");
    }
    // Values not in the lists (a forged form) are left out: the report's check says what
    // is then missing.
    let thematiques: BTreeSet<Thematique> = parsed(envoi.all("thematiques"), Thematique::parse);
    let materiel: BTreeSet<Materiel> = parsed(envoi.all("materiel"), Materiel::parse);
    let suivis: BTreeSet<BeneficiaireId> = envoi
        .all("suivis")
        .into_iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let anonymes = match envoi.one("anonymes") {
        "" => Some(0),
        n => n.parse::<u32>().ok().filter(|n| *n <= 500),
    };
    if anonymes.is_none() {
        bad(
            "participants",
            "Participants anonymes : indiquez un nombre de 0 à 500.",
        );
    }
    let (Some(type_activite), Some(date), Some(duree), Some(type_lieu), Some(total)) =
        (type_activite, date, duree, type_lieu, anonymes)
    else {
        return Err(erreurs);
    };
    let individuel = type_activite == TypeActivite::Individuel;
    let anonymes = if individuel && total == 1 {
        // The one person of an individual accompaniment, described.
        let deja = u32::from(envoi.one("deja") == "oui");
        Anonymes {
            total,
            deja_accompagnes: deja,
            genres: BTreeMap::from([(
                one(envoi.one("genre"), Genre::parse, Genre::NonCommunique),
                1,
            )]),
            tranches: BTreeMap::from([(
                one(
                    envoi.one("tranche"),
                    TrancheAge::parse,
                    TrancheAge::NonCommunique,
                ),
                1,
            )]),
            statuts: BTreeMap::from([(
                one(
                    envoi.one("statut"),
                    StatutSocial::parse,
                    StatutSocial::NonCommunique,
                ),
                1,
            )]),
        }
    } else {
        // A workshop's people without a file, counted by category (blank: none said).
        let count = |name: String| envoi.one(&name).parse::<u32>().unwrap_or(0);
        Anonymes {
            total,
            deja_accompagnes: count("deja_nombre".into()),
            genres: counts(Genre::ALL, |g| count(format!("genre_{}", g.as_str()))),
            tranches: counts(TrancheAge::ALL, |t| {
                count(format!("tranche_{}", t.as_str()))
            }),
            statuts: counts(StatutSocial::ALL, |t| {
                count(format!("statut_{}", t.as_str()))
            }),
        }
    };
    Ok(Rapport {
        type_activite,
        date,
        duree,
        type_lieu,
        lieu: (type_lieu == TypeLieu::LieuActivite)
            .then(|| envoi.one("lieu"))
            .filter(|l| !l.is_empty())
            .map(|l| LieuId(l.to_string())),
        commune: envoi.one("commune").to_string(),
        thematiques,
        demarches: parsed(envoi.all("demarches"), ThematiqueDemarche::parse),
        materiel,
        // Each list belongs to one type of activity: the other's is not kept.
        autonomie: individuel
            .then(|| Autonomie::parse(envoi.one("autonomie")))
            .flatten(),
        niveau: (!individuel)
            .then(|| NiveauAtelier::parse(envoi.one("niveau")))
            .flatten(),
        orientation: StructureDeRedirection::parse(envoi.one("orientation")),
        precisions_demarche: envoi.one("precisions_demarche").trim().to_string(),
        titre_atelier: if individuel {
            String::new()
        } else {
            envoi.one("titre_atelier").to_string()
        },
        suivis,
        anonymes,
    })
}

/// The form sent back with its errors, and what was entered.
async fn refused(
    state: &AppState,
    ctx: PageContext,
    access: &MediateurAccess,
    cible: &Cible,
    envoi: &Envoi,
    erreurs: Vec<(&'static str, String)>,
) -> Response {
    match svc::choix(&state.db, access).await {
        Ok(offert) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(form_page(ctx, cible, &offert, envoi, erreurs)),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

/// `POST /structures/{id}/activites/nouvelle`
pub async fn create(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let envoi = Envoi::new(pairs);
    let erreurs = match rapport(&envoi) {
        Ok(r) => match svc::enregistrer(&state.db, &access, envoi.one("cle"), r).await {
            Ok(_) => {
                return Redirect::to(&format!(
                    "/structures/{}/activites?fait=enregistree",
                    access.structure()
                ))
                .into_response();
            }
            Err(SaisieError::Store(e)) => return internal(e),
            Err(e) => e.champs(),
        },
        Err(erreurs) => erreurs,
    };
    let cible = Cible {
        structure: access.structure(),
        activite: None,
    };
    refused(&state, ctx, &access, &cible, &envoi, erreurs).await
}

/// `GET /structures/{id}/activites/{activite}/modifier`
pub async fn edit_form(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    Path((_, activite)): Path<(StructureId, ActiviteId)>,
) -> Response {
    let (cle, rapport) = match svc::a_modifier(&state.db, &access, activite).await {
        Ok(Some(found)) => found,
        Ok(None) => return gone(&ctx),
        Err(e) => return internal(e),
    };
    match svc::choix(&state.db, &access).await {
        Ok(offert) => render(form_page(
            ctx,
            &Cible {
                structure: access.structure(),
                activite: Some(activite),
            },
            &offert,
            &envoi_de(&cle, &rapport),
            Vec::new(),
        )),
        Err(e) => internal(e),
    }
}

/// `POST /structures/{id}/activites/{activite}/modifier`
pub async fn edit(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    Path((_, activite)): Path<(StructureId, ActiviteId)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let envoi = Envoi::new(pairs);
    let erreurs = match rapport(&envoi) {
        Ok(r) => match svc::modifier(&state.db, &access, activite, r).await {
            Ok(true) => {
                return Redirect::to(&format!(
                    "/structures/{}/activites?fait=modifiee",
                    access.structure()
                ))
                .into_response();
            }
            Ok(false) => return gone(&ctx),
            Err(SaisieError::Store(e)) => return internal(e),
            Err(e) => e.champs(),
        },
        Err(erreurs) => erreurs,
    };
    let cible = Cible {
        structure: access.structure(),
        activite: Some(activite),
    };
    refused(&state, ctx, &access, &cible, &envoi, erreurs).await
}

/// `POST /structures/{id}/activites/{activite}/suppression`
pub async fn delete(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    Path((_, activite)): Path<(StructureId, ActiviteId)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    match svc::supprimer(&state.db, &access, activite).await {
        Ok(true) => Redirect::to(&format!(
            "/structures/{}/activites?fait=supprimee",
            access.structure()
        ))
        .into_response(),
        Ok(false) => gone(&ctx),
        Err(e) => internal(e),
    }
}
