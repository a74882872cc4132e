//! Who may open what: every route × every role × own/other structure, through the real
//! router; and the login flow with its refusals (CSRF, open redirect, wrong codes).

use crate::common;
use common::*;
use relais_domain::ids::{PersonId, StructureId};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{GlobalRole, Role, StructureKind};
use relais_domain::totp;
use relais_services::comptes as svc;
use relais_store::Db;
use relais_testkit::TestDb;
use relais_testkit::fixtures::{grant, structure};
use relais_web::ROUTES;
use tower::ServiceExt;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    /// Password given, second factor awaited.
    Pending,
    Mediateur,
    Aidant,
    /// Hands out pass booklets in the first structure.
    Prescripteur,
    /// Référent of the first structure.
    Referent,
    /// Référent of the other structure.
    OtherReferent,
    Admin,
    /// Coordinator of a hub (a territorial role, no structure).
    Hub,
}

const EVERYONE: [Who; 9] = [
    Who::Anonymous,
    Who::Pending,
    Who::Mediateur,
    Who::Aidant,
    Who::Prescripteur,
    Who::Referent,
    Who::OtherReferent,
    Who::Admin,
    Who::Hub,
];

/// What a route lets each visitor do.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Access {
    Public,
    /// The steps of a login under way.
    PendingLogin,
    LoggedIn,
    /// Référents of the structure in the path.
    ReferentOf,
    /// Members of the structure named in the form (the first one).
    MemberOfFormStructure,
    Admin,
    /// Hub coordinators.
    HubCoordinator,
    /// The structure's habilitated aidants.
    AidantOf,
    /// Anyone with a role in the structure.
    MemberOf,
    /// An aidant of any structure.
    AnyAidant,
    /// The structure's aidants and référents.
    MandateTeamOf,
    /// The structure's mediators.
    MediateurOf,
    /// The structure's prescripteurs.
    PrescripteurOf,
    /// The structure's mediators, aidants and prescripteurs: who take diagnostics.
    OrienteurOf,
}

/// The matrix: every route must be here.
fn access(method: &str, path: &str) -> Access {
    match (method, path) {
        (
            "GET",
            "/"
            | "/accessibilite"
            | "/mentions-legales"
            | "/donnees-personnelles"
            | "/plan-du-site",
        ) => Access::Public,
        (
            "GET" | "POST",
            "/connexion"
            | "/connexion/mot-de-passe-oublie"
            | "/connexion/nouveau-mot-de-passe"
            | "/invitation/{jeton}",
        ) => Access::Public,
        ("GET", "/auth/proconnect" | "/auth/proconnect/callback") => Access::Public,
        (
            "GET",
            "/api/v1/territoires/communes"
            | "/api/v1/territoires/communes/proche"
            | "/api/v1/territoires/communes/{code}",
        ) => Access::Public,
        ("GET", "/healthz" | "/readyz" | "/static/{version}/{*path}") => Access::Public,
        ("GET", "/lieux/{lieu}" | "/api/v1/lieux" | "/api/v1/lieux/{lieu}") => Access::Public,
        ("GET", "/structures/{id}") => Access::Public,
        ("GET", "/api" | "/api/v1/openapi.json") => Access::Public,
        ("GET", "/api/v1/journal/checkpoints") => Access::Public,
        (
            "GET",
            "/lieux"
            | "/lieux/widget"
            | "/lieux/carte/departements.geojson"
            | "/lieux/carte/marques.json",
        ) => Access::Public,
        ("GET" | "POST", "/lieux/{lieu}/signalement") => Access::Public,
        ("GET", "/admin/lieux/signalements") => Access::Admin,
        // A diagnostic is taken without an account; one is reached by its key only.
        ("GET" | "POST", "/diagnostic" | "/diagnostic/{cle}") => Access::Public,
        ("GET", "/diagnostic/{cle}/fiche") => Access::Public,
        ("GET" | "POST", "/structures/{id}/diagnostics") => Access::OrienteurOf,
        ("GET" | "POST", "/admin/structures/import") => Access::Admin,
        (
            "GET" | "POST",
            "/structures/{id}/lieux/import"
            | "/structures/{id}/lieux/import/{televersement}"
            | "/structures/{id}/lieux/{lieu}/modifier",
        )
        | ("GET", "/structures/{id}/lieux") => Access::ReferentOf,
        ("GET" | "POST", "/hub/lieux/import" | "/hub/lieux/import/{televersement}") => {
            Access::HubCoordinator
        }
        ("GET", "/admin/lieux/fusions") | ("POST", "/admin/lieux/fusions/decision") => {
            Access::Admin
        }
        (
            "GET",
            "/api/v1/lieux/export.csv"
            | "/api/v1/lieux/export.json"
            | "/api/v1/lieux/export.geojson",
        ) => Access::Public,
        ("GET" | "POST", "/connexion/second-facteur" | "/connexion/activation") => {
            Access::PendingLogin
        }
        ("POST", "/deconnexion" | "/deconnexion/partout" | "/structures/{id}/revendication")
        | ("GET", "/compte")
        | ("GET" | "POST", "/connexion/confirmation") => Access::LoggedIn,
        ("POST", "/compte/structure") => Access::MemberOfFormStructure,
        ("GET", "/structures/{id}/equipe" | "/structures/{id}/journal") => Access::ReferentOf,
        (
            "POST",
            "/structures/{id}/equipe/invitations"
            | "/structures/{id}/equipe/invitations/{invitation}/retrait"
            | "/structures/{id}/equipe/{personne}/roles"
            | "/structures/{id}/equipe/{personne}/depart"
            | "/structures/{id}/equipe/{personne}/deverrouillage",
        ) => Access::ReferentOf,
        ("GET", "/admin/journal") | ("GET" | "POST", "/admin/services") => Access::Admin,
        (
            "GET" | "POST",
            "/structures/{id}/mandats/nouveau" | "/structures/{id}/mandats/brouillons/{brouillon}",
        )
        | ("GET", "/structures/{id}/mandats/brouillons/{brouillon}/franceconnect") => {
            Access::AidantOf
        }
        ("GET", "/structures/{id}/mandats/{mandat}" | "/structures/{id}/mandats/{mandat}/pdf") => {
            Access::MemberOf
        }
        ("GET", "/auth/franceconnect/callback") => Access::Public,
        // The usager's space: its own session (FranceConnect), no professional role.
        ("GET", "/usager" | "/usager/connexion" | "/usager/donnees.json")
        | ("POST", "/usager/deconnexion")
        | (
            "GET" | "POST",
            "/usager/autorisations/{autorisation}/fin" | "/usager/mandats/{mandat}/fin",
        ) => Access::Public,
        ("GET", "/structures/{id}/mandats")
        | ("POST", "/structures/{id}/mandats/{mandat}/annulation") => Access::MandateTeamOf,
        ("GET" | "POST", "/structures/{id}/mandats/{mandat}/renouvellement") => Access::AidantOf,
        (
            "POST",
            "/structures/{id}/mandats/{mandat}/transfert"
            | "/structures/{id}/transferts/{transfert}/decision",
        ) => Access::ReferentOf,
        ("GET", "/oidc/.well-known/openid-configuration" | "/oidc/jwks")
        | ("POST", "/oidc/token")
        | ("GET" | "POST", "/oidc/userinfo") => Access::Public,
        ("GET" | "POST", "/oidc/authorize") => Access::AnyAidant,
        (
            "GET",
            "/structures/{id}/habilitations"
            | "/structures/{id}/habilitations/nouvelle"
            | "/structures/{id}/habilitations/{demande}",
        ) => Access::ReferentOf,
        (
            "POST",
            "/structures/{id}/habilitations/nouvelle"
            | "/structures/{id}/habilitations/{demande}/reponse"
            | "/structures/{id}/habilitations/{demande}/formation"
            | "/structures/{id}/habilitations/{demande}/test"
            | "/structures/{id}/habilitations/{demande}/activation",
        ) => Access::ReferentOf,
        ("GET", "/admin/habilitations" | "/admin/habilitations/{demande}")
        | ("POST", "/admin/habilitations/{demande}/decision") => Access::Admin,
        ("GET", "/statistiques" | "/api/v1/activites/statistiques" | "/api/v1/pass/cles") => {
            Access::Public
        }
        ("GET", "/hub/statistiques") => Access::HubCoordinator,
        (
            "GET",
            "/structures/{id}/statistiques"
            | "/structures/{id}/statistiques/participations.csv"
            | "/structures/{id}/statistiques/participations.xlsx",
        ) => Access::MemberOf,
        (
            "GET" | "POST",
            "/structures/{id}/activites/nouvelle"
            | "/structures/{id}/activites/{activite}/modifier",
        )
        | ("GET", "/structures/{id}/activites")
        | ("POST", "/structures/{id}/activites/{activite}/suppression") => Access::MediateurOf,
        // Which files a mediator sees among them: `a_mediator_sees_own_and_shared_files`.
        ("GET" | "POST", "/structures/{id}/beneficiaires/nouvelle")
        | (
            "GET",
            "/structures/{id}/beneficiaires"
            | "/structures/{id}/beneficiaires/{beneficiaire}"
            | "/structures/{id}/beneficiaires/{beneficiaire}/donnees.json",
        )
        | (
            "POST",
            "/structures/{id}/beneficiaires/{beneficiaire}/effacement"
            | "/structures/{id}/beneficiaires/{beneficiaire}/fusion",
        ) => Access::MediateurOf,
        (
            "GET",
            "/structures/{id}/pass"
            | "/structures/{id}/pass/programmes/{programme}"
            | "/structures/{id}/pass/programmes/{programme}/chiffres.csv"
            | "/structures/{id}/pass/programmes/{programme}/chiffres.xlsx"
            | "/structures/{id}/pass/programmes/{programme}/carnets/{numero}"
            | "/structures/{id}/pass/programmes/{programme}/carnets/{numero}/pdf",
        )
        | ("GET" | "POST", "/structures/{id}/pass/programmes/nouveau")
        | (
            "POST",
            "/structures/{id}/pass/qualification"
            | "/structures/{id}/pass/programmes/{programme}/qualifications/{qualification}"
            | "/structures/{id}/pass/programmes/{programme}/carnets"
            | "/structures/{id}/pass/programmes/{programme}/virements"
            | "/structures/{id}/pass/programmes/{programme}/virements/paiement",
        ) => Access::ReferentOf,
        ("GET" | "POST", "/structures/{id}/pass/utilisation")
        | (
            "POST",
            "/api/v1/structures/{id}/pass/verifications"
            | "/api/v1/structures/{id}/pass/utilisations",
        ) => Access::MediateurOf,
        ("GET" | "POST", "/structures/{id}/pass/remise") => Access::PrescripteurOf,
        (
            "GET",
            "/structures/{id}/pass/releves"
            | "/structures/{id}/pass/releves.csv"
            | "/structures/{id}/pass/releves/{programme}/{mois}",
        ) => Access::MemberOf,
        _ => panic!("route {method} {path} is missing from the authorization matrix"),
    }
}

struct World {
    structures: [StructureId; 2],
    people: Vec<(Who, PersonId)>,
}

async fn world(db: &Db) -> World {
    let kind = StructureKind::Collectivite;
    let a = structure(db, "13002526500013", "Médiathèque A", kind).await;
    let b = structure(db, "21420218600018", "Mairie B", kind).await;
    let mut people = Vec::new();
    for (who, email, role) in [
        (Who::Pending, "attente@exemple.fr", None),
        (
            Who::Mediateur,
            "mediateur@exemple.fr",
            Some((a, Role::Mediateur)),
        ),
        (Who::Aidant, "aidant@exemple.fr", Some((a, Role::Aidant))),
        (
            Who::Prescripteur,
            "prescripteur@exemple.fr",
            Some((a, Role::Prescripteur)),
        ),
        (
            Who::Referent,
            "referent@exemple.fr",
            Some((a, Role::Referent)),
        ),
        (
            Who::OtherReferent,
            "autre@exemple.fr",
            Some((b, Role::Referent)),
        ),
        (Who::Admin, "admin@exemple.fr", None),
        (Who::Hub, "hub@exemple.fr", None),
    ] {
        let id = account(db, email).await;
        if let Some((s, role)) = role {
            grant(db, id, s, role).await;
        }
        if who == Who::Admin {
            svc::grant_global_role(db, id, GlobalRole::Administrateur, "", None)
                .await
                .unwrap();
        }
        if who == Who::Hub {
            svc::grant_global_role(db, id, GlobalRole::CoordinateurHub, "84", None)
                .await
                .unwrap();
        }
        people.push((who, id));
    }
    World {
        structures: [a, b],
        people,
    }
}

/// A fresh session for `who` (a logout in one case must not end the next).
async fn cookie_for(db: &Db, world: &World, who: Who) -> String {
    let Some((_, id)) = world.people.iter().find(|(w, _)| *w == who) else {
        return format!("relais_csrf={CSRF}");
    };
    let stage = if who == Who::Pending {
        Stage::SecondFactor
    } else {
        Stage::Active
    };
    cookie_of(db, *id, stage, true).await
}

/// Whether the response let the visitor in (anything but a bounce to the login, a 403,
/// or the API's 401).
fn let_in(res: &Response, path: &str) -> bool {
    res.status() != StatusCode::FORBIDDEN
        && !(path.starts_with("/api/") && res.status() == StatusCode::UNAUTHORIZED)
        && !location(res).starts_with("/connexion")
}

#[tokio::test]
async fn every_route_for_every_role_and_structure() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let w = world(&t.db).await;
    let mut checked = 0;
    for (method, route) in ROUTES {
        let rule = access(method, route);
        let ids: Vec<StructureId> = if route.contains("{id}") {
            w.structures.to_vec()
        } else {
            vec![StructureId(0)]
        };
        for id in ids {
            let path = route
                .replace("{id}", &id.to_string())
                .replace("{code}", "42218")
                .replace("{demande}", "1")
                .replace("{brouillon}", "1")
                .replace("{autorisation}", "1")
                .replace("{transfert}", "1")
                .replace("{mandat}", "1")
                .replace("{activite}", "1")
                .replace("{beneficiaire}", "1")
                .replace("{programme}", "1")
                .replace("{qualification}", "1")
                .replace("{numero}", "1")
                .replace("{mois}", "2026-11")
                .replace("{invitation}", "1")
                .replace("{televersement}", "1")
                // Someone outside both structures: a référent's `depart` or `roles` on them
                // must not change the roles the next routes are checked with.
                .replace("{personne}", &w.people[0].1.to_string())
                .replace("{jeton}", "lien-inconnu")
                .replace("{cle}", "cle-inconnue")
                .replace("{lieu}", "inconnu")
                .replace("{version}", "0")
                .replace("{*path}", "relais.css");
            let path = if path == "/api/v1/territoires/communes" {
                format!("{path}?q=saint")
            } else {
                path
            };
            let path = if path.ends_with("/proche") {
                format!("{path}?lat=45.4&lon=4.4")
            } else {
                path
            };
            for who in EVERYONE {
                let cookie = cookie_for(&t.db, &w, who).await;
                let form = format!("csrf={CSRF}&structure={}", w.structures[0]);
                let res = if *method == "POST" && path.starts_with("/api/") {
                    send_json(&app, &path, &cookie, r#"{"code":"ABCD"}"#).await
                } else {
                    send(&app, method, &path, &cookie, &form).await
                };
                let expected = match rule {
                    Access::Public => true,
                    Access::PendingLogin => who == Who::Pending,
                    Access::LoggedIn => !matches!(who, Who::Anonymous | Who::Pending),
                    Access::ReferentOf => {
                        (who == Who::Referent && id == w.structures[0])
                            || (who == Who::OtherReferent && id == w.structures[1])
                    }
                    Access::MemberOfFormStructure => {
                        matches!(
                            who,
                            Who::Mediateur | Who::Aidant | Who::Prescripteur | Who::Referent
                        )
                    }
                    Access::Admin => who == Who::Admin,
                    Access::HubCoordinator => who == Who::Hub,
                    Access::AidantOf => who == Who::Aidant && id == w.structures[0],
                    Access::AnyAidant => who == Who::Aidant,
                    Access::MediateurOf => who == Who::Mediateur && id == w.structures[0],
                    Access::PrescripteurOf => who == Who::Prescripteur && id == w.structures[0],
                    Access::OrienteurOf => {
                        matches!(who, Who::Mediateur | Who::Aidant | Who::Prescripteur)
                            && id == w.structures[0]
                    }
                    Access::MandateTeamOf => {
                        (matches!(who, Who::Aidant | Who::Referent) && id == w.structures[0])
                            || (who == Who::OtherReferent && id == w.structures[1])
                    }
                    Access::MemberOf => {
                        (matches!(
                            who,
                            Who::Mediateur | Who::Aidant | Who::Prescripteur | Who::Referent
                        ) && id == w.structures[0])
                            || (who == Who::OtherReferent && id == w.structures[1])
                    }
                };
                let allowed = match rule {
                    // Outside a login under way, its steps send to the login or the account;
                    // within it, at most to the other step.
                    Access::PendingLogin => {
                        let to = location(&res);
                        res.status() != StatusCode::FORBIDDEN
                            && to != "/compte"
                            && to != "/connexion"
                            && !to.starts_with("/connexion?")
                    }
                    _ => let_in(&res, &path),
                };
                assert_eq!(
                    allowed,
                    expected,
                    "{method} {path} as {who:?}: {} {}",
                    res.status(),
                    location(&res)
                );
                if !expected
                    && matches!(who, Who::Anonymous | Who::Pending)
                    && rule != Access::PendingLogin
                {
                    // Sent to log in; the API answers 401 instead.
                    assert!(
                        location(&res).starts_with("/connexion?suite=")
                            || (path.starts_with("/api/")
                                && res.status() == StatusCode::UNAUTHORIZED),
                        "{method} {path} as {who:?}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= ROUTES.len() * EVERYONE.len());
}

#[tokio::test]
async fn a_referent_reads_only_their_structure_journal() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let w = world(&t.db).await;
    let cookie = cookie_for(&t.db, &w, Who::Referent).await;
    let html = body(
        send(
            &app,
            "GET",
            &format!("/structures/{}/journal", w.structures[0]),
            &cookie,
            "",
        )
        .await,
    )
    .await;
    assert!(html.contains("Journal de Médiathèque A"), "{html}");
    assert!(
        html.contains(&format!("structure {}", w.structures[0])),
        "its own creation is listed"
    );
    assert!(
        !html.contains(&format!("structure {}", w.structures[1])),
        "not the other structure's"
    );
    assert!(html.contains("Rôle attribué"));
}

fn set_cookie_value(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap().to_string())
        })
}

#[tokio::test]
async fn login_enrolment_and_refusals_over_http() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    account(&t.db, "camille@exemple.fr").await;

    // The form hands out a CSRF cookie; a form without it, or with another token, is refused.
    let res = send(&app, "GET", "/connexion", "", "").await;
    let csrf = set_cookie_value(&res, "relais_csrf").expect("a CSRF cookie");
    assert!(
        body(res)
            .await
            .contains(&format!("name=\"csrf\" value=\"{csrf}\""))
    );
    let form = format!(
        "email=camille%40exemple.fr&password={}",
        PASSWORD.replace(' ', "+")
    );
    assert_eq!(
        send(
            &app,
            "POST",
            "/connexion",
            "",
            &format!("{form}&csrf={csrf}")
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let cookie = format!("relais_csrf={csrf}");
    assert_eq!(
        send(&app, "POST", "/connexion", &cookie, &form)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(
            &app,
            "POST",
            "/connexion",
            &cookie,
            &format!("{form}&csrf={CSRF}")
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let cross_site = app
        .clone()
        .oneshot(
            Request::post("/connexion")
                .header(header::COOKIE, &cookie)
                .header(header::HOST, "relais.example")
                .header(header::ORIGIN, "https://ailleurs.example")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("{form}&csrf={csrf}")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        cross_site.status(),
        StatusCode::FORBIDDEN,
        "another site's form"
    );

    // A wrong password: the same generic message, the address kept, no session.
    let res = send(
        &app,
        "POST",
        "/connexion",
        &cookie,
        &format!("email=camille%40exemple.fr&password=faux&csrf={csrf}"),
    )
    .await;
    assert!(set_cookie_value(&res, "relais_session").is_none());
    let html = body(res).await;
    assert!(
        html.contains("Adresse électronique ou mot de passe incorrect")
            && html.contains("value=\"camille@exemple.fr\"")
    );

    // The right password, with a `suite` pointing to another site: it is ignored.
    let res = send(
        &app,
        "POST",
        "/connexion",
        &cookie,
        &format!("{form}&csrf={csrf}&suite=https%3A%2F%2Fevil.example%2F"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/connexion/activation?suite=/compte");
    let session = set_cookie_value(&res, "relais_session").unwrap();
    let cookie = format!("relais_csrf={csrf}; relais_session={session}");
    assert!(let_in(
        &send(&app, "GET", "/connexion/activation", &cookie, "").await,
        "/connexion/activation"
    ));
    assert!(
        !let_in(&send(&app, "GET", "/compte", &cookie, "").await, "/compte"),
        "not logged in before the second factor"
    );

    // Enrolment: the page shows the key; a wrong code re-renders, the right one gives recovery codes.
    let html = body(send(&app, "GET", "/connexion/activation", &cookie, "").await).await;
    assert!(html.contains("<svg") && html.contains("QR code"));
    let key: String = html
        .split("<code id=\"cle\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .replace(' ', "");
    let secret = data_encoding::BASE32_NOPAD.decode(key.as_bytes()).unwrap();
    let step = totp::step_of(relais_domain::calendrier::now_ms() / 1000);
    let accepted: Vec<u32> = (step - 1..=step + 1)
        .map(|s| totp::code_at_step(&secret, s))
        .collect();
    let wrong = (0..1_000_000u32).find(|c| !accepted.contains(c)).unwrap();
    let html = body(
        send(
            &app,
            "POST",
            "/connexion/activation",
            &cookie,
            &format!("csrf={csrf}&code={wrong:06}"),
        )
        .await,
    )
    .await;
    assert!(html.contains("fr-error-text") && html.contains("code-erreur"));
    let code = totp::code_at_step(&secret, step);
    let res = send(
        &app,
        "POST",
        "/connexion/activation",
        &cookie,
        &format!("csrf={csrf}&code={code:06}&suite=%2Fcompte"),
    )
    .await;
    let renewed = set_cookie_value(&res, "relais_session").expect("a new session id");
    assert_ne!(renewed, session);
    let html = body(res).await;
    assert_eq!(html.matches("<li><code>").count(), 10, "ten recovery codes");
    assert!(
        !let_in(&send(&app, "GET", "/compte", &cookie, "").await, "/compte"),
        "the cookie from before the second factor opens nothing"
    );
    let cookie = format!("relais_csrf={csrf}; relais_session={renewed}");

    // Logged in: the account page names the person; logout ends the session.
    let html = body(send(&app, "GET", "/compte", &cookie, "").await).await;
    assert!(html.contains("Camille Martin") && html.contains("camille@exemple.fr"));
    let res = send(
        &app,
        "POST",
        "/deconnexion",
        &cookie,
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(location(&res), "/");
    assert!(
        !let_in(&send(&app, "GET", "/compte", &cookie, "").await, "/compte"),
        "the old cookie no longer opens anything"
    );
}
