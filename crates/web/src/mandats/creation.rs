//! Creating a mandate on the aidant's screen: the choice of démarches and duration (a
//! draft), FranceConnect for the usager, the signature (the usager's consent and the
//! aidant's second factor), then the printed mandate. The rules are in
//! `relais_services::mandats`.

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::authz::StructureAccess;
use relais_domain::calendrier::{date_fr, now_ms};
use relais_domain::ids::{BrouillonId, MandatId, StructureId};
use relais_domain::mandats::{Demande, DemandeError, Demarche, Duree, modele};
use relais_services::comptes as comptes_svc;
use relais_services::mandats::franceconnect::{self as fc, Callback, FranceConnectError, Retour};
use relais_services::mandats::{self as svc, MandatError};
use relais_store::mandats::Identite;
use serde::Deserialize;

use super::{DemarcheLine, date_iso_fr, paragraphes};
use crate::AppState;
use crate::auth::{Aidants, Authenticated, CsrfForm, InStructure, MaybeSession};
use crate::comptes::capitalized;
use crate::comptes::session_cookie;
use crate::error::{error_page, internal, not_found_page};
use crate::pages::{Page, PageContext, render, structure_name};

pub(super) fn not_configured(ctx: &PageContext) -> Response {
    error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "FranceConnect n’est pas disponible ici",
        "La création de mandats demande que l’usager s’identifie avec FranceConnect, qui n’est pas configuré sur cette instance de Relais.",
    )
}

/// One démarche family's checkbox.
pub struct DemarcheBox {
    pub code: &'static str,
    pub line: DemarcheLine,
    pub checked: bool,
}

/// One duration's radio button.
pub struct DureeRadio {
    pub code: &'static str,
    pub libelle: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "mandat_nouveau.html")]
pub struct NewMandatPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub structure: String,
    pub demarches: Vec<DemarcheBox>,
    pub durees: Vec<DureeRadio>,
    pub demarches_error: Option<String>,
    pub duree_error: Option<String>,
    /// The mandate renewed, for a renewal (the usager is known: no FranceConnect step).
    pub renouvelle: Option<MandatId>,
}

impl NewMandatPage {
    fn has_error(&self) -> bool {
        self.demarches_error.is_some() || self.duree_error.is_some()
    }
}

async fn new_page(
    state: &AppState,
    ctx: PageContext,
    access: &StructureAccess,
    chosen: &[&str],
    duree: Option<&str>,
    error: Option<DemandeError>,
    renouvelle: Option<MandatId>,
) -> Response {
    let structure = match structure_name(state, access).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (demarches_error, duree_error) = match error {
        Some(e @ DemandeError::DureeInconnue(_)) => (None, Some(capitalized(&e))),
        Some(e) => (Some(capitalized(&e)), None),
        None => (None, None),
    };
    render(NewMandatPage {
        ctx,
        structure_id: access.structure(),
        structure,
        demarches: Demarche::ALL
            .into_iter()
            .map(|d| DemarcheBox {
                code: d.code(),
                line: d.into(),
                checked: chosen.contains(&d.code()),
            })
            .collect(),
        durees: Duree::ALL
            .into_iter()
            .map(|d| DureeRadio {
                code: d.code(),
                libelle: d.libelle(),
                checked: duree == Some(d.code()),
            })
            .collect(),
        demarches_error,
        duree_error,
        renouvelle,
    })
}

/// The form's choice: one `demarche` per ticked family (a repeated field, hence pairs) and
/// `duree`.
fn choix(form: &[(String, String)]) -> (Vec<&str>, Option<&str>) {
    let chosen = form
        .iter()
        .filter(|(k, _)| k == "demarche")
        .map(|(_, v)| v.as_str())
        .collect();
    let duree = form
        .iter()
        .find(|(k, _)| k == "duree")
        .map(|(_, v)| v.as_str());
    (chosen, duree)
}

/// The aidant's request from the form's choice (every family allowed).
fn demande(
    access: &StructureAccess,
    chosen: &[&str],
    duree: Option<&str>,
) -> Result<Demande, DemandeError> {
    let permises = Demarche::ALL.into_iter().collect();
    Demande::new(
        access.structure(),
        access.person(),
        chosen,
        duree.unwrap_or(""),
        &permises,
    )
}

/// The choice: démarche families and duration.
pub async fn form(Page(state, ctx): Page, guard: InStructure<Aidants>) -> Response {
    if state.franceconnect.is_none() {
        return not_configured(&ctx);
    }
    new_page(&state, ctx, &guard.access, &[], None, None, None).await
}

/// The choice made: a draft is kept, then the usager's step.
pub async fn choose(
    Page(state, ctx): Page,
    guard: InStructure<Aidants>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Response {
    if state.franceconnect.is_none() {
        return not_configured(&ctx);
    }
    let access = &guard.access;
    let (chosen, duree) = choix(&form);
    let demande = match demande(access, &chosen, duree) {
        Ok(d) => d,
        Err(e) => return new_page(&state, ctx, access, &chosen, duree, Some(e), None).await,
    };
    match svc::preparer(&state.db, access, &demande, now_ms()).await {
        Ok(brouillon) => Redirect::to(&format!(
            "/structures/{}/mandats/brouillons/{brouillon}",
            access.structure()
        ))
        .into_response(),
        Err(MandatError::Store(e)) => internal(e),
        Err(e) => error_page(
            &ctx,
            StatusCode::FORBIDDEN,
            "Accès refusé",
            &capitalized(&e),
        ),
    }
}

/// The usager's turn: to FranceConnect, for the draft in the path (a link, not a form: the
/// CSP lets forms post to this site only).
pub async fn franceconnect(Page(state, ctx): Page, guard: BrouillonOfStructure) -> Response {
    let Some(franceconnect) = &state.franceconnect else {
        return not_configured(&ctx);
    };
    match fc::commencer(
        &state.db,
        franceconnect,
        &guard.access,
        guard.brouillon,
        now_ms(),
    )
    .await
    {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => refusal(&ctx, e),
    }
}

pub(super) fn refusal(ctx: &PageContext, e: FranceConnectError) -> Response {
    let (status, title) = match &e {
        FranceConnectError::Store(err) => return internal(err),
        FranceConnectError::Unavailable => (StatusCode::BAD_GATEWAY, "FranceConnect indisponible"),
        FranceConnectError::UnknownDraft => {
            (StatusCode::NOT_FOUND, "Mandat en préparation introuvable")
        }
        FranceConnectError::NoMandate => (StatusCode::NOT_FOUND, "Aucun mandat à votre nom"),
        FranceConnectError::UnknownState
        | FranceConnectError::Denied
        | FranceConnectError::WrongIssuer
        | FranceConnectError::CodeRejected => {
            (StatusCode::BAD_REQUEST, "Identification interrompue")
        }
        _ => (StatusCode::FORBIDDEN, "Identification refusée"),
    };
    error_page(ctx, status, title, &e.to_string())
}

#[derive(Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// FranceConnect's answer: for a draft, in its aidant's session, the usager is recorded
/// and the aidant goes on to the signature; for the usager's space, their session opens.
pub async fn callback(
    Page(state, ctx): Page,
    MaybeSession(session): MaybeSession,
    Query(q): Query<CallbackParams>,
) -> Response {
    let Some(franceconnect) = &state.franceconnect else {
        return not_configured(&ctx);
    };
    let callback = Callback {
        code: q.code,
        state: q.state,
        iss: q.iss,
        error: q.error,
    };
    // Only a complete professional login can be the draft's aidant.
    let aidant = session
        .filter(|s| s.stage == relais_domain::comptes::sessions::Stage::Active)
        .map(|s| s.person_id);
    let now = now_ms();
    match fc::retour(&state.db, franceconnect, &callback, aidant, now).await {
        Ok(Retour::Brouillon {
            structure,
            brouillon,
        }) => Redirect::to(&format!(
            "/structures/{structure}/mandats/brouillons/{brouillon}"
        ))
        .into_response(),
        Ok(Retour::Espace { usager }) => super::espace::opened(&state, usager, now).await,
        Err(e) => refusal(&ctx, e),
    }
}

/// A draft of the structure in the path, for its aidants:
/// `/structures/{id}/mandats/brouillons/{brouillon}`. Whose draft it is, the service checks.
pub struct BrouillonOfStructure {
    pub access: StructureAccess,
    pub brouillon: BrouillonId,
}

impl FromRequestParts<AppState> for BrouillonOfStructure {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let guard = InStructure::<Aidants>::from_request_parts(parts, state).await?;
        let Ok(Path((_, brouillon))) =
            Path::<(StructureId, BrouillonId)>::from_request_parts(parts, state).await
        else {
            return Err(not_found_page(parts, state).await);
        };
        Ok(BrouillonOfStructure {
            access: guard.access,
            brouillon,
        })
    }
}

#[derive(Template)]
#[template(path = "mandat_identification.html")]
pub struct IdentificationPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub brouillon: BrouillonId,
    pub structure: String,
    pub demarches: Vec<DemarcheLine>,
    pub duree: &'static str,
    /// The signature was attempted before FranceConnect.
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "mandat_signature.html")]
pub struct SignaturePage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub brouillon: BrouillonId,
    pub structure: String,
    pub usager: Identite,
    pub naissance: String,
    pub demarches: Vec<DemarcheLine>,
    pub duree: &'static str,
    pub fin: String,
    pub texte: Vec<&'static str>,
    pub consent_error: Option<String>,
    pub code_error: Option<String>,
    pub consent: bool,
}

impl SignaturePage {
    fn has_error(&self) -> bool {
        self.consent_error.is_some() || self.code_error.is_some()
    }
}

async fn signature_page(
    state: &AppState,
    ctx: PageContext,
    guard: &BrouillonOfStructure,
    consent: bool,
    consent_error: Option<String>,
    code_error: Option<String>,
) -> Response {
    let now = now_ms();
    let brouillon = match svc::brouillon_de(&state.db, &guard.access, guard.brouillon, now).await {
        Ok(b) => b,
        Err(MandatError::Store(e)) => return internal(e),
        Err(e) => {
            return error_page(
                &ctx,
                StatusCode::NOT_FOUND,
                "Mandat introuvable",
                &capitalized(&e),
            );
        }
    };
    let structure = match structure_name(state, &guard.access).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some((_, usager)) = brouillon.usager else {
        return render(IdentificationPage {
            ctx,
            structure_id: guard.access.structure(),
            brouillon: guard.brouillon,
            structure,
            demarches: brouillon
                .demarches
                .iter()
                .copied()
                .map(DemarcheLine::from)
                .collect(),
            duree: brouillon.duree.libelle(),
            error: consent_error.or(code_error),
        });
    };
    render(SignaturePage {
        ctx,
        structure_id: guard.access.structure(),
        brouillon: guard.brouillon,
        structure,
        naissance: date_iso_fr(&usager.birthdate),
        usager,
        demarches: brouillon
            .demarches
            .iter()
            .copied()
            .map(DemarcheLine::from)
            .collect(),
        duree: brouillon.duree.libelle(),
        fin: date_fr(brouillon.duree.fin(now)),
        texte: paragraphes(),
        consent_error,
        code_error,
        consent,
    })
}

fn missing(ctx: &PageContext, e: &MandatError) -> Response {
    error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Mandat en préparation introuvable",
        &capitalized(e),
    )
}

/// The draft's page: FranceConnect's button until the usager is identified, then the recap
/// the usager reads, with the consent box and the aidant's code.
pub async fn recap(Page(state, ctx): Page, guard: BrouillonOfStructure) -> Response {
    signature_page(&state, ctx, &guard, false, None, None).await
}

#[derive(Deserialize)]
pub struct SignatureForm {
    consentement: Option<String>,
    #[serde(default)]
    code: String,
}

/// The signature: the usager's consent, then the aidant's second factor (a new session
/// token), then the mandate, written with its journal entries in one transaction.
pub async fn sign(
    Page(state, ctx): Page,
    guard: BrouillonOfStructure,
    auth: Authenticated,
    CsrfForm(form): CsrfForm<SignatureForm>,
) -> Response {
    // A draft already signed or gone: said before a code is spent on it.
    match svc::brouillon_de(&state.db, &guard.access, guard.brouillon, now_ms()).await {
        Ok(b) if b.usager.is_none() => {
            let error = capitalized(&MandatError::NonIdentifie);
            return signature_page(&state, ctx, &guard, false, Some(error), None).await;
        }
        Ok(_) => {}
        Err(MandatError::Store(e)) => return internal(e),
        Err(e) => return missing(&ctx, &e),
    }
    if form.consentement.is_none() {
        let error = capitalized(&MandatError::SansConsentement);
        return signature_page(&state, ctx, &guard, false, Some(error), None).await;
    }
    let token = match comptes_svc::verify_second_factor(
        &state.db,
        &state.policy,
        &auth.session,
        &form.code,
    )
    .await
    {
        Ok(token) => token,
        Err(comptes_svc::SecondFactorError::Store(e)) => return internal(e),
        Err(e) => {
            return signature_page(&state, ctx, &guard, true, None, Some(capitalized(&e))).await;
        }
    };
    let cookie = [(header::SET_COOKIE, session_cookie(&state, &token))];
    let id = guard.access.structure();
    match svc::signer(
        &state.db,
        &guard.access,
        guard.brouillon,
        true,
        &modele(),
        now_ms(),
    )
    .await
    {
        Ok(m) => (
            cookie,
            Redirect::to(&format!("/structures/{id}/mandats/{}?fait=signe", m.id)),
        )
            .into_response(),
        Err(MandatError::Store(e)) => internal(e),
        Err(e) => (
            cookie,
            error_page(
                &ctx,
                StatusCode::CONFLICT,
                "Mandat non créé",
                &capitalized(&e),
            ),
        )
            .into_response(),
    }
}

/// A renewal's choice: the démarches and the duration, the mandate's in force ticked.
pub async fn renewal_form(Page(state, ctx): Page, guard: super::MandatOf<Aidants>) -> Response {
    let now = now_ms();
    let chosen: Vec<&str> =
        match svc::demarches_en_cours(&state.db, &guard.access, guard.mandat, now).await {
            Ok(Some(en_cours)) => en_cours.iter().map(|d| d.code()).collect(),
            Ok(None) => return crate::error::gone(&ctx),
            Err(e) => return internal(e),
        };
    new_page(
        &state,
        ctx,
        &guard.access,
        &chosen,
        Some("annee"),
        None,
        Some(guard.mandat),
    )
    .await
}

/// The renewal chosen: a draft for the same usager, then the signature.
pub async fn renew(
    Page(state, ctx): Page,
    guard: super::MandatOf<Aidants>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let access = &guard.access;
    let (chosen, duree) = choix(&form);
    let demande = match demande(access, &chosen, duree) {
        Ok(d) => d,
        Err(e) => {
            return new_page(
                &state,
                ctx,
                access,
                &chosen,
                duree,
                Some(e),
                Some(guard.mandat),
            )
            .await;
        }
    };
    match svc::preparer_renouvellement(&state.db, access, guard.mandat, &demande, now_ms()).await {
        Ok(brouillon) => Redirect::to(&format!(
            "/structures/{}/mandats/brouillons/{brouillon}",
            access.structure()
        ))
        .into_response(),
        Err(MandatError::Store(e)) => internal(e),
        Err(MandatError::PasAidant) => error_page(
            &ctx,
            StatusCode::FORBIDDEN,
            "Accès refusé",
            "Seul un aidant habilité de la structure peut renouveler un mandat.",
        ),
        Err(e) => missing(&ctx, &e),
    }
}
