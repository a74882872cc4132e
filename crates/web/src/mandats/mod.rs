//! Mandates in the browser: the creation flow (`creation`) and the printed mandate.

pub mod creation;
pub mod espace;
pub mod fournisseur;
pub mod services;

use askama::Template;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use relais_domain::authz::StructureAccess;
use relais_domain::calendrier::date_fr;
use relais_domain::ids::{MandatId, StructureId};
use relais_domain::mandats::Demarche;
use relais_services::mandats::{self as svc, MandatImprime};

use crate::AppState;
use crate::auth::{CsrfForm, Fresh, InStructure, MandateTeam, Members, Referents, RequiredRoles};
use crate::error::{gone, internal, not_found_page};
use crate::pages::{Page, PageContext, qr_svg, render, structure_name};
use axum::response::Redirect;

/// One démarche family as the mandate lists it.
pub struct DemarcheLine {
    pub titre: &'static str,
    pub exemples: &'static str,
}

impl From<Demarche> for DemarcheLine {
    fn from(d: Demarche) -> Self {
        DemarcheLine {
            titre: d.titre(),
            exemples: d.exemples(),
        }
    }
}

#[derive(Template)]
#[template(path = "mandat.html")]
pub struct MandatPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub m: MandatImprime,
    pub demarches: Vec<DemarcheLine>,
    pub naissance: String,
    pub debut: String,
    pub fin: String,
    pub texte: Vec<&'static str>,
    pub qr: String,
    /// Shown once, right after the signature.
    pub signe: bool,
}

#[derive(serde::Deserialize)]
pub struct Signe {
    fait: Option<String>,
}

/// The printable mandate: two copies (usager, structure) with the hash as text and QR code;
/// the print stylesheet drops the site's frame.
pub async fn page(
    Page(state, ctx): Page,
    guard: MandatOf<Members>,
    axum::extract::Query(q): axum::extract::Query<Signe>,
) -> Response {
    match svc::imprime(&state.db, &guard.access, guard.mandat).await {
        Ok(Some(m)) => render(MandatPage {
            ctx,
            structure_id: guard.access.structure(),
            demarches: m
                .demarches
                .iter()
                .copied()
                .map(DemarcheLine::from)
                .collect(),
            naissance: date_iso_fr(&m.usager.birthdate),
            debut: date_fr(m.mandat.debut),
            fin: date_fr(m.mandat.fin),
            texte: paragraphes(),
            qr: qr_svg(
                &m.mandat.empreinte,
                "Code QR de l’empreinte du mandat, la même que le texte ci-dessous",
            ),
            signe: q.fait.as_deref() == Some("signe"),
            m,
        }),
        Ok(None) => gone(&ctx),
        Err(e) => internal(e),
    }
}

/// `1950-03-04` → `4 mars 1950`; anything else as given.
pub fn date_iso_fr(iso: &str) -> String {
    relais_domain::calendrier::parse_date_iso(iso).map_or_else(|| iso.to_string(), date_fr)
}

/// The mandate's text, one paragraph per item.
pub fn paragraphes() -> Vec<&'static str> {
    relais_domain::mandats::TEXTE_MANDAT.split("\n\n").collect()
}

/// The printed mandate as a PDF file.
pub async fn pdf(Page(state, ctx): Page, guard: MandatOf<Members>) -> Response {
    let m = match svc::imprime(&state.db, &guard.access, guard.mandat).await {
        Ok(Some(m)) => m,
        Ok(None) => return gone(&ctx),
        Err(e) => return internal(e),
    };
    // The PDF is drawn on a blocking thread: a few milliseconds of CPU.
    match tokio::task::spawn_blocking(move || svc::mandat_pdf(&m)).await {
        Ok(Ok(bytes)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/pdf"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&format!(
                        "attachment; filename=\"mandat-{}.pdf\"",
                        guard.mandat
                    ))
                    .unwrap_or(HeaderValue::from_static("attachment")),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

pub struct MandatLigne {
    pub id: MandatId,
    pub usager: String,
    pub naissance: String,
    pub demarches: String,
    pub etat: &'static str,
    pub fin: String,
    pub en_cours: bool,
}

pub struct UtilisationLigne {
    pub date: String,
    pub aidant: String,
    pub usager: String,
    pub demarche: &'static str,
    pub service: String,
    pub anomalies: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "mandats_structure.html")]
pub struct StructurePage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub structure: String,
    pub aidant: bool,
    pub mandats: Vec<MandatLigne>,
    pub utilisations: Vec<UtilisationLigne>,
    pub signalees: usize,
    pub notice: Option<&'static str>,
    pub referent: bool,
    /// Transfers proposed to this structure, to accept or refuse.
    pub a_decider: Vec<TransfertLigne>,
    /// Transfers this structure proposed, waiting for the other's answer.
    pub proposes: Vec<TransfertLigne>,
}

pub struct TransfertLigne {
    pub id: relais_domain::ids::TransfertId,
    pub mandat: MandatId,
    pub autre: String,
    pub le: String,
}

/// The structure's mandates and the uses of the last 30 days, anomalies flagged.
pub async fn structure(
    Page(state, ctx): Page,
    guard: InStructure<MandateTeam>,
    axum::extract::Query(q): axum::extract::Query<Signe>,
) -> Response {
    let now = relais_domain::calendrier::now_ms();
    let nom = match structure_name(&state, &guard.access).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    let vue = match svc::vue_structure(&state.db, &guard.access, now).await {
        Ok(v) => v,
        Err(e) => return internal(e),
    };
    let mandats = vue
        .mandats
        .into_iter()
        .map(|m| MandatLigne {
            id: m.mandat.id,
            usager: format!("{} {}", m.usager.family_name, m.usager.given_name),
            naissance: date_iso_fr(&m.usager.birthdate),
            demarches: m
                .demarches
                .iter()
                .map(|d| d.titre())
                .collect::<Vec<_>>()
                .join(" ; "),
            etat: m.etat.libelle(),
            fin: date_fr(m.mandat.fin),
            en_cours: !m.demarches.is_empty(),
        })
        .collect();
    let utilisations: Vec<UtilisationLigne> = vue
        .utilisations
        .into_iter()
        .map(|(u, flags)| UtilisationLigne {
            date: relais_domain::calendrier::date_heure_fr(u.at),
            aidant: u.aidant,
            usager: u.usager,
            demarche: Demarche::parse(&u.demarche).map_or("Démarche", Demarche::titre),
            service: u.service,
            anomalies: flags.iter().map(|a| a.libelle()).collect(),
        })
        .collect();
    let pending = match svc::transferts::en_attente(&state.db, &guard.access).await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let here = guard.access.structure();
    let ligne = |t: &svc::transferts::Transfert, autre: &str| TransfertLigne {
        id: t.id,
        mandat: t.mandat,
        autre: autre.to_string(),
        le: date_fr(t.propose_le),
    };
    render(StructurePage {
        referent: guard
            .access
            .roles()
            .contains(&relais_domain::comptes::Role::Referent),
        a_decider: pending
            .iter()
            .filter(|t| t.vers == here)
            .map(|t| ligne(t, &t.de_nom))
            .collect(),
        proposes: pending
            .iter()
            .filter(|t| t.de == here)
            .map(|t| ligne(t, &t.vers_nom))
            .collect(),
        ctx,
        structure_id: guard.access.structure(),
        structure: nom,
        aidant: guard
            .access
            .roles()
            .contains(&relais_domain::comptes::Role::Aidant),
        signalees: utilisations
            .iter()
            .filter(|u| !u.anomalies.is_empty())
            .count(),
        mandats,
        utilisations,
        notice: (q.fait.as_deref() == Some("annule"))
            .then_some("Le mandat est annulé : la structure ne peut plus l’utiliser."),
    })
}

/// The structure ends one of its mandates (second factor confirmed recently).
pub async fn cancel(
    Page(state, ctx): Page,
    guard: MandatOf<MandateTeam>,
    _fresh: Fresh,
    CsrfForm(_): CsrfForm<crate::comptes::Empty>,
) -> Response {
    let now = relais_domain::calendrier::now_ms();
    match svc::annuler(&state.db, &guard.access, guard.mandat, now).await {
        Ok(_) => Redirect::to(&format!(
            "/structures/{}/mandats?fait=annule",
            guard.access.structure()
        ))
        .into_response(),
        Err(svc::RevocationError::Store(e)) => internal(e),
        Err(_) => gone(&ctx),
    }
}

/// A mandate of the structure in the path, for the holders of `R`'s roles there:
/// `/structures/{id}/mandats/{mandat}/…`.
pub struct MandatOf<R: RequiredRoles> {
    pub access: StructureAccess,
    pub mandat: MandatId,
    _roles: std::marker::PhantomData<R>,
}

impl<R: RequiredRoles> FromRequestParts<AppState> for MandatOf<R> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let guard = InStructure::<R>::from_request_parts(parts, state).await?;
        let Ok(Path((_, mandat))) =
            Path::<(StructureId, MandatId)>::from_request_parts(parts, state).await
        else {
            return Err(not_found_page(parts, state).await);
        };
        Ok(MandatOf {
            access: guard.access,
            mandat,
            _roles: std::marker::PhantomData,
        })
    }
}

#[derive(serde::Deserialize)]
pub struct TransferForm {
    siret: String,
    #[serde(default)]
    numero: String,
}

fn transfer_refused(ctx: &PageContext, e: svc::transferts::TransfertError) -> Response {
    match e {
        svc::transferts::TransfertError::Store(e) => internal(e),
        e => crate::error::error_page(
            ctx,
            axum::http::StatusCode::BAD_REQUEST,
            "Transfert impossible",
            &format!("{}.", crate::comptes::capitalize(&e.to_string())),
        ),
    }
}

/// A référent proposes to move the mandate to another structure (by its SIRET).
pub async fn transfer(
    Page(state, ctx): Page,
    guard: MandatOf<Referents>,
    _fresh: Fresh,
    CsrfForm(form): CsrfForm<TransferForm>,
) -> Response {
    let numero = form.numero.trim().parse::<i64>().ok();
    let now = relais_domain::calendrier::now_ms();
    match svc::transferts::proposer(
        &state.db,
        &guard.access,
        guard.mandat,
        &form.siret,
        numero,
        now,
    )
    .await
    {
        Ok(_) => Redirect::to(&format!(
            "/structures/{}/mandats?fait=transfert",
            guard.access.structure()
        ))
        .into_response(),
        Err(e) => transfer_refused(&ctx, e),
    }
}

#[derive(serde::Deserialize)]
pub struct DecisionForm {
    decision: String,
}

/// A référent of the structure a transfer goes to accepts or refuses it.
pub async fn decide_transfer(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, transfert)): Path<(StructureId, relais_domain::ids::TransfertId)>,
    _fresh: Fresh,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Response {
    let accepter = form.decision == "accepter";
    let now = relais_domain::calendrier::now_ms();
    match svc::transferts::decider(&state.db, &guard.access, transfert, accepter, now).await {
        Ok(_) => Redirect::to(&format!(
            "/structures/{}/mandats?fait={}",
            guard.access.structure(),
            if accepter { "accepte" } else { "refuse" }
        ))
        .into_response(),
        Err(e) => transfer_refused(&ctx, e),
    }
}
