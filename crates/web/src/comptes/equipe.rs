//! The team page of a structure, for its référents: members and their roles, invitations,
//! people who leave, locked accounts. Every change asks a recent second factor ([`Fresh`]).

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::authz::StructureAccess;
use relais_domain::comptes::Role;
use relais_domain::ids::{InvitationId, PersonId, StructureId};
use relais_services::comptes::equipe::{self as svc, TeamError};
use relais_services::comptes::invitations::{self, InvitationError, InvitationForm};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{CsrfForm, Fresh, InStructure, Referents};
use crate::error::internal;
use crate::pages::{Page, PageContext, render, structure_name};

pub struct MemberRow {
    pub id: PersonId,
    pub name: String,
    pub email: String,
    /// (value, label) of each live role.
    pub roles: Vec<(&'static str, &'static str)>,
    /// Roles the référent may still grant them.
    pub grantable: Vec<(&'static str, &'static str)>,
    pub active: bool,
    pub locked: bool,
    /// The structure's only référent: cannot leave nor lose that role (not offered).
    pub last_referent: bool,
}

pub struct InvitationRow {
    pub id: InvitationId,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub expires: String,
    pub expired: bool,
}

#[derive(Template)]
#[template(path = "equipe.html")]
pub struct TeamPage {
    pub ctx: PageContext,
    pub id: StructureId,
    pub structure: String,
    pub members: Vec<MemberRow>,
    pub invitations: Vec<InvitationRow>,
    /// Roles an invitation may carry.
    pub invitable: Vec<(&'static str, &'static str)>,
    pub form: InvitationForm,
    /// The invitation form's error, shown on the form.
    pub form_error: Option<String>,
    /// The field the error is about: `email`, `nom` or `role`.
    pub error_field: &'static str,
    /// An action on a member that was refused.
    pub error: Option<String>,
    pub notice: Option<&'static str>,
}

/// Roles a référent hands out themselves; aidants come through habilitation.
const GRANTABLE: [Role; 3] = [Role::Mediateur, Role::Prescripteur, Role::Referent];

async fn page(
    state: &AppState,
    ctx: PageContext,
    access: &StructureAccess,
    form: InvitationForm,
    form_error: Option<(&'static str, String)>,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Response {
    let structure = match structure_name(state, access).await {
        Ok(nom) => nom,
        Err(r) => return r,
    };
    let (team, open) = match (
        svc::team(&state.db, access).await,
        invitations::open_invitations(&state.db, access).await,
    ) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => return internal(e),
    };
    let now = relais_domain::calendrier::now_ms();
    let referents = team
        .iter()
        .filter(|m| m.roles.contains(&Role::Referent))
        .count();
    let members = team
        .into_iter()
        .map(|m| {
            let active = m.deactivated_at.is_none() && !m.roles.is_empty();
            MemberRow {
                id: m.person_id,
                name: format!("{} {}", m.given_name, m.family_name),
                email: m.email,
                grantable: GRANTABLE
                    .iter()
                    .filter(|r| active && !m.roles.contains(r))
                    .map(|r| (r.as_str(), r.label()))
                    .collect(),
                roles: m.roles.iter().map(|r| (r.as_str(), r.label())).collect(),
                locked: active && m.locked_until.is_some_and(|t| t > now),
                last_referent: referents == 1 && m.roles.contains(&Role::Referent),
                active,
            }
        })
        .collect();
    let invitations = open
        .into_iter()
        .map(|i| InvitationRow {
            id: i.id,
            name: format!("{} {}", i.given_name, i.family_name),
            email: i.email,
            role: i.role.label(),
            expires: relais_domain::calendrier::date_fr(i.expires_at),
            expired: i.expires_at <= now,
        })
        .collect();
    let status = if form_error.is_some() || error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (error_field, form_error) = match form_error {
        Some((field, why)) => (field, Some(why)),
        None => ("", None),
    };
    let page = TeamPage {
        ctx,
        id: access.structure(),
        structure,
        members,
        invitations,
        invitable: GRANTABLE.iter().map(|r| (r.as_str(), r.label())).collect(),
        error_field,
        form,
        form_error,
        error,
        notice,
    };
    (status, render(page)).into_response()
}

#[derive(Deserialize)]
pub struct DoneParam {
    fait: Option<String>,
}

pub async fn team(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Query(q): Query<DoneParam>,
) -> Response {
    let notice = match q.fait.as_deref() {
        Some("invitation") => {
            Some("L’invitation est envoyée : la personne a 7 jours pour l’accepter.")
        }
        Some("retrait") => Some("L’invitation est retirée : son lien ne fonctionne plus."),
        Some("role") => Some("Les rôles sont mis à jour."),
        Some("depart") => {
            Some("La personne ne fait plus partie de l’équipe ; son historique est conservé.")
        }
        Some("deverrouillage") => {
            Some("Le compte est déverrouillé : la personne peut se reconnecter.")
        }
        _ => None,
    };
    page(
        &state,
        ctx,
        &guard.access,
        InvitationForm::default(),
        None,
        None,
        notice,
    )
    .await
}

/// Back to the team page, with a message saying what was done.
fn done(access: &StructureAccess, what: &str) -> Response {
    Redirect::to(&format!(
        "/structures/{}/equipe?fait={what}",
        access.structure()
    ))
    .into_response()
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    prenom: String,
    #[serde(default)]
    nom: String,
    #[serde(default)]
    role: String,
}

pub async fn invite(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    _fresh: Fresh,
    CsrfForm(f): CsrfForm<InviteForm>,
) -> Response {
    let form = InvitationForm {
        email: f.email,
        given_name: f.prenom,
        family_name: f.nom,
        role: f.role,
    };
    match invitations::invite(&state.db, &guard.access, &form, &state.config.public_url).await {
        Ok(_) => done(&guard.access, "invitation"),
        Err(InvitationError::Store(e)) => internal(e),
        Err(e) => {
            let field = match e {
                InvitationError::MissingName => "nom",
                InvitationError::UnknownRole | InvitationError::AidantNeedsHabilitation => "role",
                _ => "email",
            };
            let why = crate::comptes::capitalize(&e.to_string());
            page(
                &state,
                ctx,
                &guard.access,
                form,
                Some((field, why)),
                None,
                None,
            )
            .await
        }
    }
}

pub async fn withdraw(
    State(state): State<AppState>,
    guard: InStructure<Referents>,
    _fresh: Fresh,
    Path((_, invitation)): Path<(StructureId, InvitationId)>,
    CsrfForm(_): CsrfForm<crate::comptes::Empty>,
) -> Response {
    match invitations::withdraw(&state.db, &guard.access, invitation).await {
        Ok(_) => done(&guard.access, "retrait"),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
    /// "ajouter" or "retirer".
    #[serde(default)]
    action: String,
}

/// A person of the team in the path (`/structures/{id}/equipe/{personne}/…`), for a
/// référent of the structure whose second factor is fresh: what every change to a
/// member needs.
pub struct Member {
    access: StructureAccess,
    person: PersonId,
}

impl FromRequestParts<AppState> for Member {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let guard = InStructure::<Referents>::from_request_parts(parts, state).await?;
        Fresh::from_request_parts(parts, state).await?;
        let Path((_, person)) = Path::<(StructureId, PersonId)>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Member {
            access: guard.access,
            person,
        })
    }
}

pub async fn roles(Page(state, ctx): Page, m: Member, CsrfForm(f): CsrfForm<RoleForm>) -> Response {
    let result = if f.action == "retirer" {
        svc::revoke(&state.db, &m.access, m.person, &f.role).await
    } else {
        svc::grant(&state.db, &m.access, m.person, &f.role).await
    };
    answer(&state, ctx, &m.access, result, "role").await
}

pub async fn remove(
    Page(state, ctx): Page,
    m: Member,
    CsrfForm(_): CsrfForm<crate::comptes::Empty>,
) -> Response {
    let result = svc::remove(&state.db, &m.access, m.person).await;
    answer(&state, ctx, &m.access, result, "depart").await
}

pub async fn unlock(
    Page(state, ctx): Page,
    m: Member,
    CsrfForm(_): CsrfForm<crate::comptes::Empty>,
) -> Response {
    let result = svc::unlock(&state.db, &m.access, m.person).await;
    answer(&state, ctx, &m.access, result, "deverrouillage").await
}

async fn answer(
    state: &AppState,
    ctx: PageContext,
    access: &StructureAccess,
    result: Result<(), TeamError>,
    what: &str,
) -> Response {
    match result {
        Ok(()) => done(access, what),
        Err(TeamError::Store(e)) => internal(e),
        Err(e) => {
            let why = crate::comptes::capitalize(&e.to_string());
            page(
                state,
                ctx,
                access,
                InvitationForm::default(),
                None,
                Some(why),
                None,
            )
            .await
        }
    }
}
