//! A structure's followed beneficiaries, for its mediators: the files they may see with the
//! likely duplicates, a new file (with consent), a file with the person's path, their data
//! on request, erasure and merging. The rules are in
//! `relais_services::activites::beneficiaires`.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::activites::vocabulaires::{Genre, StatutSocial, TrancheAge};
use relais_domain::calendrier::date_fr;
use relais_domain::ids::{BeneficiaireId, StructureId};
use relais_services::activites::beneficiaires::{self as svc, FicheError, NouvelleFiche};
use relais_store::activites::beneficiaires::Fiche;
use serde::Deserialize;

use super::{Choix, Fait, choices};
use crate::auth::{CsrfForm, MediateurDe};
use crate::error::{gone, internal};
use crate::pages::{Disposition, Page, PageContext, fichier, render};

/// One file as the list shows it.
pub struct Ligne {
    pub id: BeneficiaireId,
    pub nom: String,
    pub tranche: &'static str,
    pub ouverte_le: String,
    pub derniere_activite: String,
    pub partage: bool,
}

/// A group of likely duplicates: the file kept (the oldest) and the others.
pub struct Doublon {
    pub garde: (BeneficiaireId, String),
    pub autres: Vec<(BeneficiaireId, String)>,
}

#[derive(Template)]
#[template(path = "beneficiaires.html")]
pub struct ListPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub lignes: Vec<Ligne>,
    pub doublons: Vec<Doublon>,
    pub message: Option<&'static str>,
}

fn nom(f: &Fiche) -> String {
    format!("{} {}", f.prenom, f.nom)
}

/// `GET /structures/{id}/beneficiaires`
pub async fn list(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    Query(q): Query<Fait>,
) -> Response {
    let (fiches, groupes) = match svc::fichier(&state.db, &access).await {
        Ok(v) => v,
        Err(e) => return internal(e),
    };
    let named = |id: BeneficiaireId| {
        let f = fiches.iter().find(|f| f.id == id);
        (id, f.map(nom).unwrap_or_default())
    };
    let doublons = groupes
        .iter()
        .map(|g| Doublon {
            garde: named(g[0]),
            autres: g[1..].iter().map(|id| named(*id)).collect(),
        })
        .collect();
    let lignes = fiches
        .iter()
        .map(|f| Ligne {
            id: f.id,
            nom: nom(f),
            tranche: f.tranche.label(),
            ouverte_le: date_fr(f.created_at),
            derniere_activite: f
                .derniere_activite
                .map(date_fr)
                .unwrap_or_else(|| "—".into()),
            partage: f.partage,
        })
        .collect();
    let message = match q.fait.as_deref() {
        Some("effacee") => Some(
            "La fiche est effacée : son nom n’est plus gardé, ses activités restent comptées dans les statistiques.",
        ),
        _ => None,
    };
    render(ListPage {
        ctx,
        structure_id: access.structure(),
        lignes,
        doublons,
        message,
    })
}

#[derive(Template)]
#[template(path = "beneficiaire_nouveau.html")]
pub struct FormPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub prenom: String,
    pub nom: String,
    pub commune: String,
    pub genres: Vec<Choix>,
    pub tranches: Vec<Choix>,
    pub statuts: Vec<Choix>,
    pub consentement: bool,
    pub partage: bool,
    pub erreur: Option<(&'static str, String)>,
}

impl FormPage {
    fn erreur(&self, champ: &str) -> Option<&str> {
        self.erreur
            .as_ref()
            .filter(|(c, _)| *c == champ)
            .map(|(_, e)| e.as_str())
    }
}

#[derive(Deserialize, Default)]
pub struct Envoi {
    #[serde(default)]
    prenom: String,
    #[serde(default)]
    nom: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    genre: String,
    #[serde(default)]
    tranche: String,
    #[serde(default)]
    statut: String,
    consentement: Option<String>,
    partage: Option<String>,
}

fn form_page(
    ctx: PageContext,
    structure_id: StructureId,
    e: &Envoi,
    erreur: Option<(&'static str, String)>,
) -> FormPage {
    FormPage {
        ctx,
        structure_id,
        prenom: e.prenom.clone(),
        nom: e.nom.clone(),
        commune: e.commune.clone(),
        genres: choices(Genre::ALL, Genre::as_str, Genre::label, |v| {
            v == e.genre || (e.genre.is_empty() && v == Genre::NonCommunique.as_str())
        }),
        tranches: choices(
            TrancheAge::ALL,
            TrancheAge::as_str,
            TrancheAge::label,
            |v| v == e.tranche || (e.tranche.is_empty() && v == TrancheAge::NonCommunique.as_str()),
        ),
        statuts: choices(
            StatutSocial::ALL,
            StatutSocial::as_str,
            StatutSocial::label,
            |v| v == e.statut || (e.statut.is_empty() && v == StatutSocial::NonCommunique.as_str()),
        ),
        consentement: e.consentement.is_some(),
        partage: e.partage.is_some(),
        erreur,
    }
}

/// `GET /structures/{id}/beneficiaires/nouvelle`
pub async fn new_form(Page(_, ctx): Page, MediateurDe { access }: MediateurDe) -> Response {
    render(form_page(ctx, access.structure(), &Envoi::default(), None))
}

/// `POST /structures/{id}/beneficiaires/nouvelle`
pub async fn create(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    CsrfForm(envoi): CsrfForm<Envoi>,
) -> Response {
    let commune = envoi.commune.trim();
    let fiche = NouvelleFiche {
        prenom: envoi.prenom.clone(),
        nom: envoi.nom.clone(),
        commune: (!commune.is_empty()).then(|| commune.to_uppercase()),
        genre: Genre::parse(&envoi.genre).unwrap_or(Genre::NonCommunique),
        tranche: TrancheAge::parse(&envoi.tranche).unwrap_or(TrancheAge::NonCommunique),
        statut: StatutSocial::parse(&envoi.statut).unwrap_or(StatutSocial::NonCommunique),
        consentement: envoi.consentement.is_some(),
        partage: envoi.partage.is_some(),
    };
    match svc::creer(&state.db, &access, &fiche).await {
        Ok(id) => Redirect::to(&format!(
            "/structures/{}/beneficiaires/{id}?fait=creee",
            access.structure()
        ))
        .into_response(),
        Err(FicheError::Store(e)) => internal(e),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(form_page(
                ctx,
                access.structure(),
                &envoi,
                Some((e.champ(), e.to_string())),
            )),
        )
            .into_response(),
    }
}

/// One activity of the person's path.
pub struct Etape {
    pub date: String,
    pub type_activite: &'static str,
    pub duree: u32,
    pub thematiques: String,
    pub mediateur: String,
    pub premier: bool,
}

#[derive(Template)]
#[template(path = "beneficiaire.html")]
pub struct FichePage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub id: BeneficiaireId,
    pub nom: String,
    pub details: Vec<(&'static str, String)>,
    pub etapes: Vec<Etape>,
    /// Their diagnostics, oldest first: (date, level, key).
    pub diagnostics: Vec<(String, String, String)>,
    /// What they gained from their first diagnostic to their last, in words.
    pub progres: Option<String>,
    /// The booklets handed from their diagnostics and what became of their passes.
    pub remises: Vec<String>,
    pub message: Option<&'static str>,
    pub erreur: Option<&'static str>,
}

/// A person's progress between two diagnostics, in words.
fn progres(p: &relais_domain::diagnostic::resultat::Progres) -> String {
    let mut phrases = Vec::new();
    match p.niveaux {
        0 => {}
        n if n > 0 => phrases.push(format!("{n} niveau(x) gagné(s)")),
        n => phrases.push(format!("{} niveau(x) perdu(s)", -n)),
    }
    if !p.acquis.is_empty() {
        let domaines: Vec<&str> = p.acquis.iter().map(|d| d.label()).collect();
        phrases.push(format!("désormais acquis : {}", domaines.join(", ")));
    }
    if phrases.is_empty() {
        "Pas de progrès mesuré du premier diagnostic au dernier.".to_string()
    } else {
        crate::comptes::capitalize(&phrases.join(" ; ")) + "."
    }
}

async fn fiche_page(
    state: &crate::AppState,
    ctx: PageContext,
    access: &relais_domain::authz::MediateurAccess,
    id: BeneficiaireId,
    message: Option<&'static str>,
    erreur: Option<&'static str>,
) -> Response {
    let (f, etapes) = match svc::parcours(&state.db, access, id).await {
        Ok(v) => v,
        Err(FicheError::Store(e)) => return internal(e),
        Err(_) => return gone(&ctx),
    };
    let diagnostic = match relais_services::diagnostic::parcours(&state.db, access, id).await {
        Ok(d) => d,
        Err(relais_services::diagnostic::DiagnosticError::Store(e)) => return internal(e),
        Err(_) => return gone(&ctx),
    };
    let details = vec![
        (
            "Commune",
            f.commune.clone().unwrap_or_else(|| "non indiquée".into()),
        ),
        ("Genre", f.genre.label().into()),
        ("Tranche d’âge", f.tranche.label().into()),
        ("Statut", f.statut.label().into()),
        ("Consentement recueilli le", date_fr(f.consentement_le)),
        (
            "Fiche visible par",
            if f.partage {
                "les médiateurs de la structure (la personne l’a accepté)".into()
            } else {
                "la personne qui l’a ouverte seulement".into()
            },
        ),
        (
            "Conservée jusqu’au",
            date_fr(
                f.derniere_activite
                    .unwrap_or(f.created_at)
                    .max(f.created_at)
                    + relais_domain::activites::beneficiaires::CONSERVATION_MS,
            ),
        ),
    ];
    let status = if erreur.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (
        status,
        render(FichePage {
            ctx,
            structure_id: access.structure(),
            id,
            nom: nom(&f),
            details,
            diagnostics: diagnostic
                .diagnostics
                .iter()
                .filter_map(|d| {
                    let r = d.resultat.as_ref()?;
                    Some((
                        date_fr(d.fini_le?),
                        format!("{} ({})", r.niveau.label(), r.niveau.pix()),
                        d.cle.clone(),
                    ))
                })
                .collect(),
            progres: diagnostic.progres.as_ref().map(progres),
            remises: diagnostic
                .remises
                .iter()
                .map(|r| {
                    format!(
                        "Carnet n° {} du programme « {} », remis le {} : {} pass utilisé(s) sur {}",
                        r.numero,
                        r.programme,
                        date_fr(r.remis_le),
                        r.utilises,
                        r.pass
                    )
                })
                .collect(),
            etapes: etapes
                .iter()
                .map(|e| Etape {
                    date: date_fr(e.date),
                    type_activite: e.type_activite.label(),
                    duree: e.duree,
                    thematiques: e
                        .thematiques
                        .iter()
                        .map(|t| t.label())
                        .collect::<Vec<_>>()
                        .join(", "),
                    mediateur: e.mediateur.clone(),
                    premier: e.premier,
                })
                .collect(),
            message,
            erreur,
        }),
    )
        .into_response()
}

/// `GET /structures/{id}/beneficiaires/{beneficiaire}`
pub async fn page(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    Path((_, id)): Path<(StructureId, BeneficiaireId)>,
    Query(q): Query<Fait>,
) -> Response {
    let message = match q.fait.as_deref() {
        Some("creee") => Some(
            "La fiche est ouverte. La personne peut maintenant être choisie parmi les participants d’une activité.",
        ),
        Some("fusionnees") => Some(
            "Les deux fiches n’en font plus qu’une : les activités de l’autre sont sur celle-ci.",
        ),
        _ => None,
    };
    fiche_page(&state, ctx, &access, id, message, None).await
}

/// `GET /structures/{id}/beneficiaires/{beneficiaire}/donnees.json`: what Relais holds on
/// the person, to give them on request.
pub async fn data(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    Path((_, id)): Path<(StructureId, BeneficiaireId)>,
) -> Response {
    match svc::donnees(&state.db, &access, id).await {
        Ok(json) => fichier(
            "application/json",
            Disposition::Telecharger,
            &format!("donnees-personne-suivie-{id}.json"),
            serde_json::to_string_pretty(&json).unwrap_or_default(),
        ),
        Err(FicheError::Store(e)) => internal(e),
        Err(_) => gone(&ctx),
    }
}

#[derive(Deserialize)]
pub struct Confirmation {
    confirmation: Option<String>,
}

/// `POST /structures/{id}/beneficiaires/{beneficiaire}/effacement`
pub async fn erase(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    Path((_, id)): Path<(StructureId, BeneficiaireId)>,
    CsrfForm(c): CsrfForm<Confirmation>,
) -> Response {
    if c.confirmation.as_deref() != Some("oui") {
        let erreur = "Confirmation : cochez la case pour confirmer l’effacement.";
        return fiche_page(&state, ctx, &access, id, None, Some(erreur)).await;
    }
    match svc::effacer(&state.db, &access, id).await {
        Ok(()) => Redirect::to(&format!(
            "/structures/{}/beneficiaires?fait=effacee",
            access.structure()
        ))
        .into_response(),
        Err(FicheError::Store(e)) => internal(e),
        Err(_) => gone(&ctx),
    }
}

#[derive(Deserialize)]
pub struct Fusion {
    autre: BeneficiaireId,
}

/// `POST /structures/{id}/beneficiaires/{beneficiaire}/fusion`: file `autre` merged into
/// this one.
pub async fn merge(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    Path((_, garde)): Path<(StructureId, BeneficiaireId)>,
    CsrfForm(f): CsrfForm<Fusion>,
) -> Response {
    match svc::fusionner(&state.db, &access, garde, f.autre).await {
        Ok(()) => Redirect::to(&format!(
            "/structures/{}/beneficiaires/{garde}?fait=fusionnees",
            access.structure()
        ))
        .into_response(),
        Err(FicheError::Store(e)) => internal(e),
        Err(_) => gone(&ctx),
    }
}
