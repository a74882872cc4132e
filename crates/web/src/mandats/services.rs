//! The registry of démarche services (clients of Relais as OpenID Connect provider), for
//! national administrators: the list, and a new service whose secret is shown once.

use askama::Template;
use axum::response::Response;
use relais_domain::calendrier::{date_fr, now_ms};
use relais_domain::mandats::Demarche;
use relais_services::mandats::fournisseur::{self as svc, ClientRegistrationError};

use crate::auth::{Admin, CsrfForm, Fresh};
use crate::error::internal;
use crate::pages::{Page, PageContext, render};

pub struct ServiceLigne {
    pub nom: String,
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub demarches: String,
    pub depuis: String,
}

pub struct DemarcheCase {
    pub code: &'static str,
    pub titre: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "services_admin.html")]
pub struct ServicesPage {
    pub ctx: PageContext,
    pub services: Vec<ServiceLigne>,
    pub demarches: Vec<DemarcheCase>,
    pub nom: String,
    pub redirections: String,
    pub error: Option<String>,
    /// The service just registered: its identifier and secret, shown this once.
    pub nouveau: Option<(String, String)>,
    pub issuer: String,
}

async fn page(
    state: &crate::AppState,
    ctx: PageContext,
    admin: &Admin,
    form: (&str, &str, &[&str]),
    error: Option<String>,
    nouveau: Option<(String, String)>,
) -> Response {
    let services = match svc::clients(&state.db, &admin.access).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    render(ServicesPage {
        ctx,
        services: services
            .into_iter()
            .map(|c| ServiceLigne {
                nom: c.nom,
                client_id: c.client_id,
                redirect_uris: c.redirect_uris,
                demarches: c
                    .demarches
                    .iter()
                    .map(|d| d.titre())
                    .collect::<Vec<_>>()
                    .join(" ; "),
                depuis: date_fr(c.created_at),
            })
            .collect(),
        demarches: Demarche::ALL
            .into_iter()
            .map(|d| DemarcheCase {
                code: d.code(),
                titre: d.titre(),
                checked: form.2.contains(&d.code()),
            })
            .collect(),
        nom: form.0.to_string(),
        redirections: form.1.to_string(),
        error,
        nouveau,
        issuer: svc::Fournisseur::new(&state.config.public_url).issuer,
    })
}

pub async fn list(Page(state, ctx): Page, admin: Admin) -> Response {
    page(&state, ctx, &admin, ("", "", &[]), None, None).await
}

/// Registers a service (`nom`, `redirections` one per line, one `demarche` per family).
pub async fn register(
    Page(state, ctx): Page,
    admin: Admin,
    _fresh: Fresh,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let demarches: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "demarche")
        .map(|(_, v)| v.as_str())
        .collect();
    let (nom, redirections) = (field("nom"), field("redirections"));
    let by = Some(admin.access.person());
    match svc::enregistrer_client(&state.db, by, nom, redirections, &demarches, now_ms()).await {
        Ok(done) => {
            page(
                &state,
                ctx,
                &admin,
                ("", "", &[]),
                None,
                Some((done.client_id, done.secret)),
            )
            .await
        }
        Err(ClientRegistrationError::Store(e)) => internal(e),
        Err(e) => {
            let message = format!("{}.", crate::comptes::capitalize(&e.to_string()));
            page(
                &state,
                ctx,
                &admin,
                (nom, redirections, &demarches),
                Some(message),
                None,
            )
            .await
        }
    }
}
