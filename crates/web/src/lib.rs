//! The web layer: server-rendered DSFR pages, the JSON API, security headers, static
//! assets. Handlers are thin: extract, ask the store or an index, render.

mod access_log;
mod activites;
mod api;
mod assets;
mod auth;
mod client;
mod comptes;
pub mod diagnostic;
mod error;
mod habilitations;
mod journal;
mod lieux;
mod mandats;
mod pages;
mod pass;
mod security;
mod signalements;
mod upload;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use relais_search::TerritoryIndex;
use relais_store::Db;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use access_log::AccessLog;
pub use client::TrustedProxies;
pub use error::ApiError;

/// Settings of the web layer.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Send `Strict-Transport-Security`: only when Relais is reached over HTTPS.
    pub hsts: bool,
    /// Address at which people reach this instance, without a trailing slash: links in
    /// e-mails start with it.
    pub public_url: String,
    /// URL template of the map's tile server (`https://{s}.tile.example.fr/{z}/{x}/{y}.png`);
    /// `None`: the map of `/lieux` draws the départements' contours only.
    pub tile_url: Option<String>,
    /// Load balancers whose `X-Forwarded-For` / `Forwarded` give the client's address.
    pub trusted_proxies: TrustedProxies,
    /// Level of the one line logged per request.
    pub access_log: AccessLog,
}

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub policy: relais_services::comptes::Policy,
    pub territoires: Arc<TerritoryIndex>,
    pub config: WebConfig,
    /// The search over lieux, built at start from the store and replaced when they change.
    pub lieux: Arc<relais_services::lieux::recherche::Lieux>,
    /// The ProConnect client; `None`: ProConnect is not configured on this instance.
    pub proconnect: Option<Arc<relais_services::oidc_client::OidcClient>>,
    /// FranceConnect for the usagers; `None`: not configured, no mandate can be created.
    pub franceconnect: Option<Arc<relais_services::mandats::franceconnect::FranceConnect>>,
    /// The statistics of the activities, kept level with the store at each read.
    pub activites: Arc<relais_services::activites::Statistiques>,
}

/// Declares every route once: it builds the router and lists the routes in [`ROUTES`],
/// which the authorization matrix test must cover entirely.
macro_rules! routes {
    ($($method:ident $path:literal => $handler:path;)*) => {
        /// Every (method, path) the site answers.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        fn routes() -> Router<AppState> {
            Router::new()$(.route($path, routes!(@ $method $handler)))*
        }
    };
    (@ GET $handler:path) => { get($handler) };
    (@ POST $handler:path) => { post($handler) };
}

routes! {
    GET "/" => pages::home;
    GET "/accessibilite" => pages::accessibilite;
    GET "/mentions-legales" => pages::mentions_legales;
    GET "/donnees-personnelles" => pages::donnees_personnelles;
    GET "/plan-du-site" => pages::plan_du_site;
    GET "/connexion" => comptes::connexion::login_form;
    POST "/connexion" => comptes::connexion::login;
    GET "/connexion/second-facteur" => comptes::connexion::second_factor_form;
    POST "/connexion/second-facteur" => comptes::connexion::second_factor;
    GET "/connexion/confirmation" => comptes::connexion::confirmation_form;
    POST "/connexion/confirmation" => comptes::connexion::confirmation;
    GET "/connexion/mot-de-passe-oublie" => comptes::password_reset::forgotten_form;
    POST "/connexion/mot-de-passe-oublie" => comptes::password_reset::forgotten;
    GET "/connexion/nouveau-mot-de-passe" => comptes::password_reset::new_form;
    POST "/connexion/nouveau-mot-de-passe" => comptes::password_reset::new_password;
    GET "/invitation/{jeton}" => comptes::invitations::show;
    POST "/invitation/{jeton}" => comptes::invitations::accept;
    GET "/auth/proconnect" => comptes::proconnect::start;
    GET "/auth/proconnect/callback" => comptes::proconnect::callback;
    GET "/auth/franceconnect/callback" => mandats::creation::callback;
    GET "/usager" => mandats::espace::space;
    GET "/usager/connexion" => mandats::espace::login;
    POST "/usager/deconnexion" => mandats::espace::logout;
    GET "/usager/autorisations/{autorisation}/fin" => mandats::espace::end_demarche_form;
    POST "/usager/autorisations/{autorisation}/fin" => mandats::espace::end_demarche;
    GET "/usager/mandats/{mandat}/fin" => mandats::espace::end_mandate_form;
    POST "/usager/mandats/{mandat}/fin" => mandats::espace::end_mandate;
    GET "/usager/donnees.json" => mandats::espace::data;
    GET "/oidc/.well-known/openid-configuration" => mandats::fournisseur::discovery;
    GET "/oidc/jwks" => mandats::fournisseur::jwks;
    GET "/oidc/authorize" => mandats::fournisseur::authorize;
    POST "/oidc/authorize" => mandats::fournisseur::choose;
    POST "/oidc/token" => mandats::fournisseur::token;
    GET "/oidc/userinfo" => mandats::fournisseur::userinfo;
    POST "/oidc/userinfo" => mandats::fournisseur::userinfo;
    GET "/connexion/activation" => comptes::connexion::enrolment_form;
    POST "/connexion/activation" => comptes::connexion::enrolment;
    POST "/deconnexion" => comptes::connexion::logout;
    POST "/deconnexion/partout" => comptes::connexion::logout_everywhere;
    GET "/compte" => comptes::compte::account;
    POST "/compte/structure" => comptes::compte::act_as;
    GET "/structures/{id}" => comptes::registre::page;
    POST "/structures/{id}/revendication" => comptes::registre::claim;
    GET "/admin/structures/import" => comptes::registre::import_form;
    POST "/admin/structures/import" => comptes::registre::import;
    GET "/structures/{id}/equipe" => comptes::equipe::team;
    POST "/structures/{id}/equipe/invitations" => comptes::equipe::invite;
    POST "/structures/{id}/equipe/invitations/{invitation}/retrait" => comptes::equipe::withdraw;
    POST "/structures/{id}/equipe/{personne}/roles" => comptes::equipe::roles;
    POST "/structures/{id}/equipe/{personne}/depart" => comptes::equipe::remove;
    POST "/structures/{id}/equipe/{personne}/deverrouillage" => comptes::equipe::unlock;
    GET "/structures/{id}/journal" => journal::structure_journal;
    GET "/admin/journal" => journal::journal;
    GET "/admin/services" => mandats::services::list;
    POST "/admin/services" => mandats::services::register;
    GET "/structures/{id}/mandats" => mandats::structure;
    POST "/structures/{id}/mandats/{mandat}/annulation" => mandats::cancel;
    POST "/structures/{id}/mandats/{mandat}/transfert" => mandats::transfer;
    POST "/structures/{id}/transferts/{transfert}/decision" => mandats::decide_transfer;
    GET "/structures/{id}/mandats/{mandat}/renouvellement" => mandats::creation::renewal_form;
    POST "/structures/{id}/mandats/{mandat}/renouvellement" => mandats::creation::renew;
    GET "/structures/{id}/mandats/nouveau" => mandats::creation::form;
    POST "/structures/{id}/mandats/nouveau" => mandats::creation::choose;
    GET "/structures/{id}/mandats/brouillons/{brouillon}" => mandats::creation::recap;
    POST "/structures/{id}/mandats/brouillons/{brouillon}" => mandats::creation::sign;
    GET "/structures/{id}/mandats/brouillons/{brouillon}/franceconnect" => mandats::creation::franceconnect;
    GET "/structures/{id}/mandats/{mandat}" => mandats::page;
    GET "/structures/{id}/mandats/{mandat}/pdf" => mandats::pdf;
    GET "/statistiques" => activites::statistiques::public;
    GET "/api/v1/activites/statistiques" => activites::statistiques::api;
    GET "/structures/{id}/statistiques" => activites::statistiques::structure;
    GET "/hub/statistiques" => activites::statistiques::hub;
    GET "/structures/{id}/statistiques/participations.csv" => activites::statistiques::export_csv;
    GET "/structures/{id}/statistiques/participations.xlsx" => activites::statistiques::export_xlsx;
    GET "/structures/{id}/activites" => activites::list;
    GET "/structures/{id}/beneficiaires" => activites::beneficiaires::list;
    GET "/structures/{id}/beneficiaires/nouvelle" => activites::beneficiaires::new_form;
    POST "/structures/{id}/beneficiaires/nouvelle" => activites::beneficiaires::create;
    GET "/structures/{id}/beneficiaires/{beneficiaire}" => activites::beneficiaires::page;
    GET "/structures/{id}/beneficiaires/{beneficiaire}/donnees.json" => activites::beneficiaires::data;
    POST "/structures/{id}/beneficiaires/{beneficiaire}/effacement" => activites::beneficiaires::erase;
    POST "/structures/{id}/beneficiaires/{beneficiaire}/fusion" => activites::beneficiaires::merge;
    GET "/structures/{id}/pass" => pass::programmes::hub;
    POST "/structures/{id}/pass/qualification" => pass::programmes::apply;
    GET "/structures/{id}/pass/programmes/nouveau" => pass::programmes::new_form;
    POST "/structures/{id}/pass/programmes/nouveau" => pass::programmes::create;
    GET "/structures/{id}/pass/programmes/{programme}" => pass::programmes::page;
    POST "/structures/{id}/pass/programmes/{programme}/qualifications/{qualification}" => pass::programmes::decide;
    POST "/structures/{id}/pass/programmes/{programme}/carnets" => pass::programmes::issue;
    POST "/structures/{id}/pass/programmes/{programme}/virements" => pass::programmes::transfers;
    POST "/structures/{id}/pass/programmes/{programme}/virements/paiement" => pass::programmes::transfers_paid;
    GET "/structures/{id}/pass/programmes/{programme}/chiffres.csv" => pass::programmes::figures_csv;
    GET "/structures/{id}/pass/programmes/{programme}/chiffres.xlsx" => pass::programmes::figures_xlsx;
    GET "/structures/{id}/pass/programmes/{programme}/carnets/{numero}" => pass::programmes::carnet;
    GET "/structures/{id}/pass/programmes/{programme}/carnets/{numero}/pdf" => pass::programmes::carnet_pdf;
    GET "/structures/{id}/pass/remise" => pass::remise::form;
    POST "/structures/{id}/pass/remise" => pass::remise::submit;
    GET "/structures/{id}/pass/utilisation" => pass::utilisation::form;
    GET "/structures/{id}/pass/releves" => pass::releves::page;
    GET "/structures/{id}/pass/releves.csv" => pass::releves::csv;
    GET "/structures/{id}/pass/releves/{programme}/{mois}" => pass::releves::pdf;
    POST "/structures/{id}/pass/utilisation" => pass::utilisation::submit;
    POST "/api/v1/structures/{id}/pass/verifications" => pass::appareil::verifier;
    POST "/api/v1/structures/{id}/pass/utilisations" => pass::appareil::utiliser;
    GET "/structures/{id}/activites/nouvelle" => activites::new_form;
    POST "/structures/{id}/activites/nouvelle" => activites::create;
    GET "/structures/{id}/activites/{activite}/modifier" => activites::edit_form;
    POST "/structures/{id}/activites/{activite}/modifier" => activites::edit;
    POST "/structures/{id}/activites/{activite}/suppression" => activites::delete;
    GET "/structures/{id}/habilitations" => habilitations::structure::list;
    GET "/structures/{id}/habilitations/nouvelle" => habilitations::structure::new_form;
    POST "/structures/{id}/habilitations/nouvelle" => habilitations::structure::submit;
    GET "/structures/{id}/habilitations/{demande}" => habilitations::structure::show;
    POST "/structures/{id}/habilitations/{demande}/reponse" => habilitations::structure::answer;
    POST "/structures/{id}/habilitations/{demande}/formation" => habilitations::structure::training;
    POST "/structures/{id}/habilitations/{demande}/test" => habilitations::structure::skills_test;
    POST "/structures/{id}/habilitations/{demande}/activation" => habilitations::structure::activate;
    GET "/admin/habilitations" => habilitations::admin::admin_list;
    GET "/admin/habilitations/{demande}" => habilitations::admin::admin_show;
    POST "/admin/habilitations/{demande}/decision" => habilitations::admin::decide;
    GET "/lieux" => lieux::recherche::search_page;
    GET "/lieux/widget" => lieux::widget::widget;
    GET "/lieux/carte/departements.geojson" => lieux::recherche::contours;
    GET "/lieux/carte/marques.json" => lieux::recherche::marques;
    GET "/lieux/{lieu}" => lieux::fiche::page;
    GET "/lieux/{lieu}/signalement" => signalements::report_form;
    POST "/lieux/{lieu}/signalement" => signalements::report;
    GET "/admin/lieux/signalements" => signalements::admin_list;
    GET "/diagnostic" => diagnostic::accueil;
    POST "/diagnostic" => diagnostic::commencer;
    GET "/diagnostic/{cle}" => diagnostic::question;
    POST "/diagnostic/{cle}" => diagnostic::repondre;
    GET "/diagnostic/{cle}/fiche" => diagnostic::fiche;
    GET "/structures/{id}/diagnostics" => diagnostic::structure;
    POST "/structures/{id}/diagnostics" => diagnostic::commencer_avec;
    GET "/structures/{id}/lieux" => lieux::gestion::list;
    GET "/structures/{id}/lieux/import" => lieux::gestion::import_form;
    POST "/structures/{id}/lieux/import" => lieux::gestion::import;
    GET "/structures/{id}/lieux/import/{televersement}" => lieux::correspondance::structure_form;
    POST "/structures/{id}/lieux/import/{televersement}" => lieux::correspondance::structure_submit;
    GET "/structures/{id}/lieux/{lieu}/modifier" => lieux::gestion::edit_form;
    POST "/structures/{id}/lieux/{lieu}/modifier" => lieux::gestion::edit;
    GET "/hub/lieux/import" => lieux::gestion::hub_import_form;
    POST "/hub/lieux/import" => lieux::gestion::hub_import;
    GET "/hub/lieux/import/{televersement}" => lieux::correspondance::hub_form;
    POST "/hub/lieux/import/{televersement}" => lieux::correspondance::hub_submit;
    GET "/admin/lieux/fusions" => lieux::fusions::list;
    POST "/admin/lieux/fusions/decision" => lieux::fusions::decide;
    GET "/api/v1/lieux" => api::lieux::search;
    GET "/api/v1/lieux/export.csv" => api::export::csv;
    GET "/api/v1/lieux/export.json" => api::export::json;
    GET "/api/v1/lieux/export.geojson" => api::export::geojson;
    GET "/api/v1/lieux/{lieu}" => lieux::fiche::json;
    GET "/api/v1/journal/checkpoints" => journal::api::checkpoints;
    GET "/api/v1/pass/cles" => pass::appareil::cles;
    GET "/api" => api::documentation::page;
    GET "/api/v1/openapi.json" => api::lieux::openapi;
    GET "/api/v1/territoires/communes" => api::territoires::search;
    GET "/api/v1/territoires/communes/proche" => api::territoires::nearest;
    GET "/api/v1/territoires/communes/{code}" => api::territoires::commune;
    GET "/healthz" => api::health::healthz;
    GET "/readyz" => api::health::readyz;
    GET "/static/{version}/{*path}" => assets::serve;
}

pub fn router(state: AppState) -> Router {
    let hsts = state.config.hsts;
    let access_log = state.config.access_log;
    let tiles = state
        .config
        .tile_url
        .as_deref()
        .and_then(security::tile_source);
    let fournisseur = Arc::new(relais_services::mandats::fournisseur::Fournisseur::new(
        &state.config.public_url,
    ));
    harden_with(
        routes()
            .layer(axum::Extension(fournisseur))
            .fallback(error::not_found)
            .with_state(state),
        hsts,
        tiles,
        access_log,
    )
}

/// The layers every route sits behind: compression, security headers and panic handling,
/// request id, logs.
pub fn harden(routes: Router, hsts: bool) -> Router {
    harden_with(routes, hsts, None, AccessLog::default())
}

/// The same, letting pages show images from the map's tile server (`tiles`: a CSP source).
fn harden_with(routes: Router, hsts: bool, tiles: Option<String>, access_log: AccessLog) -> Router {
    let tiles: Arc<str> = tiles.unwrap_or_default().into();
    routes
        // Pages, JSON, GeoJSON and exports, compressed as they stream out; a response that
        // already has a Content-Encoding (the static assets, compressed at build time) is
        // left as it is, and so are fonts and images, compressed already. A middle level:
        // the best ones cost too much time per request.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Precise(5))
                .compress_when(DefaultPredicate::new().and(NotForContentType::const_new("font/"))),
        )
        .layer(axum::middleware::from_fn(move |req, next| {
            security::headers(hsts, tiles.clone(), req, next)
        }))
        // Outermost last: the id is set first, then the request is logged with it.
        .layer(PropagateRequestIdLayer::new(security::REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(security::request_span)
                .on_request(())
                .on_response(access_log::OnResponse(access_log)),
        )
        .layer(SetRequestIdLayer::new(
            security::REQUEST_ID,
            security::RandomRequestId,
        ))
}
