//! The habilitation pages through the real router, on both backends: a référent asks, an
//! administrator asks for changes, the référent answers, the administrator accepts, the
//! référent records training and test and activates the aidant; every bad input re-renders
//! its form with a French message and what was typed, and saves nothing.

use crate::common;
use common::*;
use relais_domain::ids::{PersonId, StructureId};

use axum::Router;
use axum::http::StatusCode;
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{GlobalRole, Role, StructureKind};
use relais_domain::habilitations::COMMITMENTS;
use relais_domain::totp;
use relais_services::comptes::{self as svc, Client, Policy};
use relais_store::Db;
use relais_testkit::TestDb;
use relais_testkit::fixtures::{grant, person, structure};

struct World {
    a: StructureId,
    b: StructureId,
    referent: PersonId,
    other_referent: PersonId,
    admin: PersonId,
    /// Enrolled in the second factor: ready once trained and tested.
    alex: PersonId,
    /// Not enrolled.
    sam: PersonId,
}

async fn world(db: &Db) -> World {
    let kind = StructureKind::Collectivite;
    let a = structure(db, "13002526500013", "Médiathèque A", kind).await;
    let b = structure(db, "21420218600018", "Mairie B", kind).await;
    let referent = person(db, "referent@exemple.fr", "Camille", "Martin").await;
    grant(db, referent, a, Role::Referent).await;
    let other_referent = person(db, "autre@exemple.fr", "Dominique", "Roux").await;
    grant(db, other_referent, b, Role::Referent).await;
    let admin = person(db, "admin@exemple.fr", "Claude", "Lefèvre").await;
    svc::grant_global_role(db, admin, GlobalRole::Administrateur, "", None)
        .await
        .unwrap();
    let alex = person(db, "alex@exemple.fr", "Alex", "Durand").await;
    enrol(db, "alex@exemple.fr").await;
    let sam = person(db, "sam@exemple.fr", "Sam", "Bernard").await;
    World {
        a,
        b,
        referent,
        other_referent,
        admin,
        alex,
        sam,
    }
}

/// Enrols the second factor of the person, as the login flow does.
async fn enrol(db: &Db, email: &str) {
    let policy = Policy::default();
    let client = Client {
        ip: "192.0.2.9".into(),
        user_agent: "test".into(),
    };
    let opened = svc::login_with_password(db, &policy, email, PASSWORD, &client)
        .await
        .unwrap();
    let session = svc::resolve_session(db, &policy, &opened.token)
        .await
        .unwrap()
        .unwrap();
    let (secret, _) = svc::begin_enrolment(db, &session).await.unwrap();
    let code = format!(
        "{:06}",
        totp::code_at_step(
            &secret,
            totp::step_of(relais_domain::calendrier::now_ms() / 1000)
        )
    );
    svc::confirm_enrolment(db, &policy, &session, &code)
        .await
        .unwrap();
}

/// A complete session of `person`; `fresh`: the second factor was confirmed a moment ago.
async fn cookie_for(db: &Db, person: PersonId, fresh: bool) -> String {
    cookie_of(db, person, Stage::Active, fresh).await
}

/// GET, expecting 200; the page's HTML.
async fn page(app: &Router, path: &str, cookie: &str) -> String {
    let res = send(app, "GET", path, cookie, "").await;
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    body(res).await
}

/// POST, expecting the form to be re-rendered (200) with errors; its HTML.
async fn refused(app: &Router, path: &str, cookie: &str, fields: &[(&str, &str)]) -> String {
    let res = send(app, "POST", path, cookie, &form(fields)).await;
    assert_eq!(res.status(), StatusCode::OK, "POST {path} {fields:?}");
    let html = body(res).await;
    assert!(html.contains("<title>Erreur : "), "{html}");
    html
}

/// POST, expecting a redirection; where to.
async fn done(app: &Router, path: &str, cookie: &str, fields: &[(&str, &str)]) -> String {
    let res = send(app, "POST", path, cookie, &form(fields)).await;
    let to = location(&res);
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "POST {path} {fields:?}: {}",
        body(res).await
    );
    to
}

async fn request_count(db: &Db, structure: StructureId) -> usize {
    relais_store::habilitations::requests_of_structure(db, structure)
        .await
        .unwrap()
        .len()
}

fn all_commitments(emails: &str) -> Vec<(&'static str, &str)> {
    let mut f = vec![("emails", emails)];
    f.extend(COMMITMENTS.iter().map(|(c, _)| ("engagement", *c)));
    f
}

async fn from_request_to_aidant(t: &TestDb) {
    let app = app(t).await;
    let db = &t.db;
    let w = world(db).await;
    let referent = cookie_for(db, w.referent, true).await;
    let admin = cookie_for(db, w.admin, true).await;
    let other = cookie_for(db, w.other_referent, true).await;
    let base = format!("/structures/{}/habilitations", w.a);

    // The account page leads to the structure's habilitations.
    assert!(
        page(&app, "/compte", &referent)
            .await
            .contains(&format!("href=\"{base}\""))
    );
    let html = page(&app, &base, &referent).await;
    assert!(html.contains("Aucune demande pour le moment"), "{html}");

    // The form: the five commitments, with their French text.
    let new = format!("{base}/nouvelle");
    let html = page(&app, &new, &referent).await;
    assert_eq!(html.matches("type=\"checkbox\"").count(), 5);
    assert!(html.contains("Aucun élu n’utilisera le service."), "{html}");
    assert!(html.contains("<legend"));

    // No candidate: the error on the addresses, the commitments kept ticked.
    let html = refused(&app, &new, &referent, &all_commitments("  ")).await;
    assert!(html.contains("au moins une personne"), "{html}");
    assert!(html.contains("aria-describedby=\"emails-erreur\""));
    assert_eq!(html.matches(" checked").count(), 5);

    // An unknown address: named, the addresses typed kept.
    let html = refused(
        &app,
        &new,
        &referent,
        &all_commitments("alex@exemple.fr\ninconnu@exemple.fr"),
    )
    .await;
    assert!(
        html.contains(
            "Aucun compte Relais pour inconnu@exemple.fr : invitez d’abord cette personne."
        ),
        "{html}"
    );
    assert!(html.contains(">alex@exemple.fr\ninconnu@exemple.fr</textarea>"));

    // A commitment not ticked: the error on the group, the others kept.
    let mut fields = all_commitments("alex@exemple.fr");
    fields.retain(|(_, v)| *v != "elus");
    let html = refused(&app, &new, &referent, &fields).await;
    assert!(
        html.contains("il manque « Aucun élu n’utilisera le service »"),
        "{html}"
    );
    assert!(html.contains("fr-fieldset--error") && html.contains("engagements-erreur"));
    assert_eq!(html.matches(" checked").count(), 4);
    assert!(html.contains(">alex@exemple.fr</textarea>"));
    assert_eq!(request_count(db, w.a).await, 0, "nothing saved");

    // Sent: the request's page.
    let to = done(
        &app,
        &new,
        &referent,
        &all_commitments("Alex@Exemple.fr\nsam@exemple.fr\nalex@exemple.fr"),
    )
    .await;
    let request: i64 = to
        .strip_prefix(&format!("{base}/"))
        .and_then(|r| r.strip_suffix("?fait=envoi"))
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("{to}"));
    let show = format!("{base}/{request}");
    let html = page(&app, &to, &referent).await;
    assert!(html.contains("Votre demande d’habilitation est envoyée"));
    assert!(html.contains("En attente de décision"));
    assert!(html.contains("Alex Durand") && html.contains("Sam Bernard"));
    assert!(html.contains("demande pas encore acceptée"));
    assert!(
        !html.contains("/formation\""),
        "no training form before the decision"
    );
    let html = page(&app, &base, &referent).await;
    assert!(html.contains(&format!("Demande n° {request}")) && html.contains("fr-badge--new"));

    // The other structure's référent: refused here, and not found under their own structure.
    let res = send(&app, "GET", &show, &other, "").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = send(
        &app,
        "GET",
        &format!("/structures/{}/habilitations/{request}", w.b),
        &other,
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The administrator: the list, filtered by status, and the request.
    assert!(
        page(&app, "/compte", &admin)
            .await
            .contains("href=\"/admin/habilitations\"")
    );
    let html = page(&app, "/admin/habilitations?statut=soumise", &admin).await;
    assert!(
        html.contains(&format!("/admin/habilitations/{request}")) && html.contains("Médiathèque A")
    );
    let html = page(&app, "/admin/habilitations?statut=acceptee", &admin).await;
    assert!(!html.contains(&format!("/admin/habilitations/{request}\"")));
    let admin_show = format!("/admin/habilitations/{request}");
    let html = page(&app, &admin_show, &admin).await;
    assert!(html.contains("13002526500013") && html.contains("Camille Martin"));
    assert!(html.contains("alex@exemple.fr") && html.contains("sam@exemple.fr"));
    assert!(html.contains("Enregistrer la décision"));

    // Decision errors: none chosen; changes asked without saying which.
    let decision = format!("{admin_show}/decision");
    let html = refused(&app, &decision, &admin, &[("message", "Bonjour")]).await;
    assert!(html.contains("Choisissez une décision") && html.contains(">Bonjour</textarea>"));
    let html = refused(&app, &decision, &admin, &[("decision", "modifications")]).await;
    assert!(html.contains("Dites à la structure ce qu’elle doit modifier"));
    assert!(html.contains(
        "id=\"decision-modifications\" name=\"decision\" value=\"modifications\" checked"
    ));

    let to = done(
        &app,
        &decision,
        &admin,
        &[
            ("decision", "modifications"),
            ("message", "Précisez la fonction de Sam."),
        ],
    )
    .await;
    assert_eq!(to, format!("{admin_show}?fait=decision"));

    // A second decision is refused, the input kept.
    let html = refused(
        &app,
        &decision,
        &admin,
        &[("decision", "accepter"), ("message", "Parfait")],
    )
    .await;
    assert!(
        html.contains(
            "La demande est « Modifications demandées » : elle ne peut plus être décidée."
        ),
        "{html}"
    );
    assert!(html.contains(">Parfait</textarea>"));

    // The référent reads the message and answers.
    let html = page(&app, &show, &referent).await;
    assert!(
        html.contains("Modifications demandées") && html.contains("Précisez la fonction de Sam.")
    );
    let answer = format!("{show}/reponse");
    let html = refused(&app, &answer, &referent, &[("message", "  ")]).await;
    assert!(html.contains("Écrivez votre réponse") && html.contains("reponse-erreur"));
    let to = done(
        &app,
        &answer,
        &referent,
        &[("message", "Sam est agent d’accueil.")],
    )
    .await;
    assert_eq!(to, format!("{show}?fait=reponse"));
    let html = page(&app, &show, &referent).await;
    assert!(html.contains("En attente de décision") && html.contains("Sam est agent d’accueil."));
    assert!(
        !html.contains("/reponse\""),
        "no answer form once resubmitted"
    );

    // Accepted.
    done(&app, &decision, &admin, &[("decision", "accepter")]).await;
    let html = page(&app, &show, &referent).await;
    assert!(html.contains("Acceptée") && html.contains("formation à suivre"));

    // Training: every field checked, the input kept.
    let alex = w.alex.to_string();
    let training = format!("{show}/formation");
    let html = refused(
        &app,
        &training,
        &referent,
        &[
            ("personne", &alex),
            ("heures", "10"),
            ("date", "2026-02-30"),
            ("organisme", " "),
        ],
    )
    .await;
    for id in ["heures-erreur", "date-erreur", "organisme-erreur"] {
        assert!(
            html.contains(&format!("formation-{alex}-{id}")),
            "{id}: {html}"
        );
    }
    assert!(html.contains("value=\"2026-02-30\""));
    let html = refused(
        &app,
        &training,
        &referent,
        &[
            ("personne", &alex),
            ("heures", "14"),
            ("date", "2099-01-01"),
            ("organisme", "Les Assembleurs"),
        ],
    )
    .await;
    assert!(html.contains("ne peut pas être dans le futur"));
    assert!(html.contains("value=\"Les Assembleurs\"") && html.contains("value=\"14\" checked"));
    done(
        &app,
        &training,
        &referent,
        &[
            ("personne", &alex),
            ("heures", "14"),
            ("date", "2026-01-15"),
            ("organisme", "Les Assembleurs"),
        ],
    )
    .await;

    // Skills test: a bad score refused, then recorded.
    let test = format!("{show}/test");
    let html = refused(
        &app,
        &test,
        &referent,
        &[("personne", &alex), ("score", "beaucoup")],
    )
    .await;
    assert!(
        html.contains(&format!("test-{alex}-score-erreur")) && html.contains("value=\"beaucoup\"")
    );
    done(
        &app,
        &test,
        &referent,
        &[("personne", &alex), ("score", "350")],
    )
    .await;

    let html = page(&app, &show, &referent).await;
    assert!(
        html.contains("Formation de 14 h le 15/01/2026 (Les Assembleurs)"),
        "{html}"
    );
    assert!(html.contains("(score : 350)"));
    assert!(html.contains("Activer Alex Durand comme aidant"));
    assert!(!html.contains("Activer Sam Bernard"), "Sam is not ready");
    assert!(html.contains("double authentification à activer"));

    // Sam is not ready: refused with what is missing.
    let activation = format!("{show}/activation");
    let sam = w.sam.to_string();
    let html = refused(&app, &activation, &referent, &[("personne", &sam)]).await;
    assert!(html.contains("sam@exemple.fr n’est pas prêt"), "{html}");

    // Activation takes a recent second factor.
    let stale = cookie_for(db, w.referent, false).await;
    let res = send(
        &app,
        "POST",
        &activation,
        &stale,
        &form(&[("personne", &alex)]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&res).starts_with("/connexion/confirmation"),
        "{}",
        location(&res)
    );
    done(&app, &activation, &referent, &[("personne", &alex)]).await;
    let html = page(&app, &show, &referent).await;
    assert!(html.contains("Aidant habilité depuis le"));
    let roles = relais_store::comptes::memberships_of(db, w.alex)
        .await
        .unwrap();
    assert!(
        roles
            .iter()
            .any(|m| m.structure_id == w.a && m.role == Role::Aidant)
    );
    assert!(
        relais_store::comptes::memberships_of(db, w.sam)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn refusal_is_final(t: &TestDb) {
    let app = app(t).await;
    let db = &t.db;
    let w = world(db).await;
    let referent = cookie_for(db, w.referent, true).await;
    let admin = cookie_for(db, w.admin, true).await;
    let base = format!("/structures/{}/habilitations", w.a);
    let to = done(
        &app,
        &format!("{base}/nouvelle"),
        &referent,
        &all_commitments("sam@exemple.fr"),
    )
    .await;
    let request = to
        .trim_end_matches("?fait=envoi")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let decision = format!("/admin/habilitations/{request}/decision");
    let html = refused(&app, &decision, &admin, &[("decision", "refuser")]).await;
    assert!(html.contains("pourquoi sa demande est refusée"));
    done(
        &app,
        &decision,
        &admin,
        &[
            ("decision", "refuser"),
            ("message", "Structure hors périmètre."),
        ],
    )
    .await;
    let html = page(&app, &format!("/admin/habilitations/{request}"), &admin).await;
    assert!(html.contains("Refusée") && !html.contains("Enregistrer la décision"));
    let html = page(&app, "/admin/habilitations?statut=refusee", &admin).await;
    assert!(html.contains(&format!("Demande n° {request}")));
    let html = page(&app, &format!("{base}/{request}"), &referent).await;
    assert!(html.contains("Structure hors périmètre.") && !html.contains("/reponse\""));
    // Answering a refused request: the rule's message, nothing changed.
    let html = refused(
        &app,
        &format!("{base}/{request}/reponse"),
        &referent,
        &[("message", "Pourtant…")],
    )
    .await;
    assert!(html.contains("elle ne peut pas être renvoyée"), "{html}");
    // Unknown requests are not found.
    let res = send(&app, "GET", "/admin/habilitations/999999", &admin, "").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = send(&app, "GET", "/admin/habilitations/abc", &admin, "").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn from_request_to_aidant_on_sqlite() {
    from_request_to_aidant(&TestDb::sqlite().await).await;
}

#[tokio::test]
async fn from_request_to_aidant_on_postgres() {
    let t = TestDb::postgres().await;
    from_request_to_aidant(&t).await;
    t.cleanup().await;
}

#[tokio::test]
async fn refusal_is_final_on_sqlite() {
    refusal_is_final(&TestDb::sqlite().await).await;
}

#[tokio::test]
async fn refusal_is_final_on_postgres() {
    let t = TestDb::postgres().await;
    refusal_is_final(&t).await;
    t.cleanup().await;
}
