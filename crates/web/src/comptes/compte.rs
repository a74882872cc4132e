//! My account: who I am, my structures, the structure I act as.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::comptes::Role;
use relais_domain::ids::StructureId;
use relais_services::comptes::{self as svc};
use serde::Deserialize;

use crate::auth::{Authenticated, CsrfForm};
use crate::error::internal;
use crate::pages::{Page, PageContext, render};

use super::session_cookie;

/// One line of "my structures".
pub struct MyStructure {
    pub id: StructureId,
    pub nom: String,
    pub roles: String,
    pub acting: bool,
    pub referent: bool,
    pub aidant: bool,
    pub mediateur: bool,
    pub prescripteur: bool,
}

#[derive(Template)]
#[template(path = "compte.html")]
pub struct AccountPage {
    pub ctx: PageContext,
    pub name: String,
    pub email: String,
    pub structures: Vec<MyStructure>,
    pub global_roles: Vec<String>,
}

pub async fn account(Page(state, ctx): Page, auth: Authenticated) -> Response {
    let account = match svc::account(&state.db, &auth.actor).await {
        Ok(Some(a)) => a,
        Ok(None) => return internal("personne absente"),
        Err(e) => return internal(e),
    };
    let mut structures: Vec<MyStructure> = Vec::new();
    for m in &account.memberships {
        match structures.iter_mut().find(|s| s.id == m.structure_id) {
            Some(s) => {
                s.roles.push_str(", ");
                s.roles.push_str(m.role.label());
                s.referent |= m.role == Role::Referent;
                s.aidant |= m.role == Role::Aidant;
                s.mediateur |= m.role == Role::Mediateur;
                s.prescripteur |= m.role == Role::Prescripteur;
            }
            None => structures.push(MyStructure {
                id: m.structure_id,
                nom: m.structure_nom.clone(),
                roles: m.role.label().to_string(),
                acting: auth.actor.acting_structure == Some(m.structure_id),
                referent: m.role == Role::Referent,
                aidant: m.role == Role::Aidant,
                mediateur: m.role == Role::Mediateur,
                prescripteur: m.role == Role::Prescripteur,
            }),
        }
    }
    let global_roles = auth
        .actor
        .global_roles
        .iter()
        .map(|(r, scope)| {
            if scope.is_empty() {
                r.label().to_string()
            } else {
                format!("{} ({scope})", r.label())
            }
        })
        .collect();
    render(AccountPage {
        ctx,
        name: format!("{} {}", account.given_name, account.family_name),
        email: account.email,
        structures,
        global_roles,
    })
}

#[derive(Deserialize)]
pub struct ActAsForm {
    structure: StructureId,
}

pub async fn act_as(
    Page(state, ctx): Page,
    auth: Authenticated,
    CsrfForm(form): CsrfForm<ActAsForm>,
) -> Response {
    match svc::act_as(&state.db, &auth.session, &auth.actor, form.structure).await {
        Ok(Some(token)) => (
            [(header::SET_COOKIE, session_cookie(&state, &token))],
            Redirect::to("/compte"),
        )
            .into_response(),
        Ok(None) => crate::error::error_page(
            &ctx,
            StatusCode::FORBIDDEN,
            "Accès refusé",
            "Vous ne faites pas partie de cette structure : vous ne pouvez pas agir pour elle.",
        ),
        Err(e) => internal(e),
    }
}
