//! The team's changes over HTTP: the second factor asked again after inactivity, an
//! invitation sent, accepted or refused (expired, bad password, no CSRF), and the password
//! reset link.

use crate::common;
use common::*;
use relais_domain::ids::StructureId;

use axum::http::{StatusCode, header};
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::totp;
use relais_services::comptes::{self as svc, Client, Policy};
use relais_store::Db;
use relais_testkit::TestDb;
use relais_testkit::fixtures::{grant, person, structure};

/// The page's own content (the rest holds per-request nonces).
fn main_of(html: &str) -> &str {
    let start = html.find("<main").unwrap();
    &html[start..html.find("</main>").unwrap()]
}

/// A référent with an enrolled second factor and a logged-in session: (structure, cookie, secret).
async fn referent(db: &Db) -> (StructureId, String, Vec<u8>) {
    let s = structure(
        db,
        "13002526500013",
        "Médiathèque Tarentaize",
        StructureKind::Collectivite,
    )
    .await;
    let person = person(db, "referente@exemple.fr", "Inès", "Roux").await;
    grant(db, person, s, Role::Referent).await;
    let client = Client {
        ip: "test".into(),
        user_agent: "test".into(),
    };
    let opened = svc::open_session(db, person, Stage::Enrolment, &client)
        .await
        .unwrap();
    let session = svc::resolve_session(db, &Policy::default(), &opened.token)
        .await
        .unwrap()
        .unwrap();
    let (secret, _) = svc::begin_enrolment(db, &session).await.unwrap();
    let code = totp::code_at_step(
        &secret,
        totp::step_of(relais_domain::calendrier::now_ms() / 1000),
    );
    let enrolled = svc::confirm_enrolment(db, &Policy::default(), &session, &format!("{code:06}"))
        .await
        .unwrap();
    let cookie = format!("relais_csrf={CSRF}; relais_session={}", enrolled.token);
    (s, cookie, secret)
}

/// The token in the next queued e-mail, after `marker`.
async fn next_mail_token(db: &Db, marker: &str) -> String {
    let job = relais_store::jobs::claim(db, "test", relais_domain::calendrier::now_ms(), 0)
        .await
        .unwrap()
        .expect("un courriel en file");
    let mail: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
    let text = mail["body"].as_str().unwrap();
    let start = text.find(marker).unwrap() + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

const INVITE: &str = "prenom=Karim&nom=Benali&email=karim%40exemple.fr&role=mediateur";

#[tokio::test]
async fn team_changes_ask_the_second_factor_again_after_inactivity() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let (s, cookie, secret) = referent(&t.db).await;
    let team = format!("/structures/{s}/equipe");
    let invite = format!("{team}/invitations");

    // Fresh just after the login: the invitation goes.
    let res = send(
        &app,
        "POST",
        &invite,
        &cookie,
        &format!("{INVITE}&csrf={CSRF}"),
    )
    .await;
    assert_eq!(location(&res), format!("{team}?fait=invitation"));
    let html = body(send(&app, "GET", &format!("{team}?fait=invitation"), &cookie, "").await).await;
    assert!(html.contains("L’invitation est envoyée") && html.contains("karim@exemple.fr"));

    // Fifteen minutes without activity: the next change asks the code first, and does nothing.
    t.db.execute_admin("UPDATE sessions SET fresh_until = 0")
        .await
        .unwrap();
    let other = INVITE.replace("karim", "lea");
    let res = send(
        &app,
        "POST",
        &invite,
        &cookie,
        &format!("{other}&csrf={CSRF}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        format!("/connexion/confirmation?suite={team}")
    );
    let html = body(send(&app, "GET", &team, &cookie, "").await).await;
    assert!(
        !html.contains("lea@exemple.fr"),
        "nothing done before the code"
    );

    let res = send(&app, "GET", location(&res).clone().as_str(), &cookie, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res).await.contains("Confirmez votre identité"));
    let step = totp::step_of(relais_domain::calendrier::now_ms() / 1000) + 1;
    let code = totp::code_at_step(&secret, step);
    let res = send(
        &app,
        "POST",
        "/connexion/confirmation",
        &cookie,
        &format!("csrf={CSRF}&code={code:06}&suite={team}"),
    )
    .await;
    assert_eq!(location(&res), team);
    // The confirmation gave the session a new id: the old cookie opens nothing.
    let renewed = session_cookie(&res);
    assert!(
        !send(&app, "GET", &team, &cookie, "")
            .await
            .status()
            .is_success()
    );
    let cookie = format!("relais_csrf={CSRF}; relais_session={renewed}");
    let res = send(
        &app,
        "POST",
        &invite,
        &cookie,
        &format!("{other}&csrf={CSRF}"),
    )
    .await;
    assert_eq!(location(&res), format!("{team}?fait=invitation"));
}

#[tokio::test]
async fn an_invitation_link_creates_the_account_or_says_why_not() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let (s, cookie, _) = referent(&t.db).await;
    let invite = format!("/structures/{s}/equipe/invitations");

    // No CSRF token: refused, nothing saved.
    let res = send(&app, "POST", &invite, &cookie, INVITE).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        relais_store::jobs::claim(&t.db, "test", relais_domain::calendrier::now_ms(), 0)
            .await
            .unwrap()
            .is_none()
    );
    // A bad address: the form again, with what was typed.
    let res = send(
        &app,
        "POST",
        &invite,
        &cookie,
        &format!("{}&csrf={CSRF}", INVITE.replace("%40", "")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    assert!(
        html.contains("pas valide") && html.contains("value=\"Karim\""),
        "{html}"
    );

    send(
        &app,
        "POST",
        &invite,
        &cookie,
        &format!("{INVITE}&csrf={CSRF}"),
    )
    .await;
    let token = next_mail_token(&t.db, "/invitation/").await;
    let link = format!("/invitation/{token}");
    let anonymous = format!("relais_csrf={CSRF}");
    let html = body(send(&app, "GET", &link, &anonymous, "").await).await;
    assert!(html.contains("Rejoindre Médiathèque Tarentaize") && html.contains("médiateur"));

    let res = send(
        &app,
        "POST",
        &link,
        &anonymous,
        &format!("csrf={CSRF}&password=une+longue+phrase&confirmation=une+autre+phrase"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(res).await.contains("pas identiques"));
    let res = send(
        &app,
        "POST",
        &link,
        &anonymous,
        &format!("csrf={CSRF}&password=une+longue+phrase&confirmation=une+longue+phrase"),
    )
    .await;
    assert_eq!(location(&res), "/connexion/activation?suite=/compte");
    assert!(res.headers().get(header::SET_COOKIE).is_some());
    let res = send(&app, "GET", &link, &anonymous, "").await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(body(res).await.contains("déjà été acceptée"));

    // An expired invitation: a clear page, and no account.
    send(
        &app,
        "POST",
        &invite,
        &cookie,
        &format!("{}&csrf={CSRF}", INVITE.replace("karim", "lea")),
    )
    .await;
    let token = next_mail_token(&t.db, "/invitation/").await;
    t.db.execute_admin("UPDATE invitations SET expires_at = 1000 WHERE email = 'lea@exemple.fr'")
        .await
        .unwrap();
    let link = format!("/invitation/{token}");
    let res = send(
        &app,
        "POST",
        &link,
        &anonymous,
        &format!("csrf={CSRF}&password=une+longue+phrase&confirmation=une+longue+phrase"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(body(res).await.contains("a expiré le 01/01/1970"));
    assert!(
        relais_store::comptes::person_by_email(&t.db, "lea@exemple.fr")
            .await
            .unwrap()
            .is_none()
    );
    let res = send(&app, "GET", "/invitation/pas-un-lien", &anonymous, "").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_forgotten_password_is_replaced_through_the_link() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    referent(&t.db).await;
    let anonymous = format!("relais_csrf={CSRF}");
    let ask = |email: &'static str| {
        let app = app.clone();
        let anonymous = anonymous.clone();
        async move {
            body(
                send(
                    &app,
                    "POST",
                    "/connexion/mot-de-passe-oublie",
                    &anonymous,
                    &format!("csrf={CSRF}&email={email}"),
                )
                .await,
            )
            .await
        }
    };
    // The same answer whether the address has an account or not.
    let unknown = ask("personne%40exemple.fr").await;
    let known = ask("referente%40exemple.fr").await;
    assert!(known.contains("Si cette adresse a un compte Relais"));
    assert_eq!(main_of(&unknown), main_of(&known));

    let token = next_mail_token(&t.db, "jeton=").await;
    let link = format!("/connexion/nouveau-mot-de-passe?jeton={token}");
    assert!(
        body(send(&app, "GET", &link, &anonymous, "").await)
            .await
            .contains("Choisissez votre nouveau mot de passe")
    );
    let res = send(
        &app,
        "POST",
        "/connexion/nouveau-mot-de-passe",
        &anonymous,
        &format!("csrf={CSRF}&jeton={token}&password=court&confirmation=court"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(res).await.contains("12 caractères"));
    let res = send(
        &app,
        "POST",
        "/connexion/nouveau-mot-de-passe",
        &anonymous,
        &format!("csrf={CSRF}&jeton={token}&password=une+nouvelle+phrase&confirmation=une+nouvelle+phrase"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res).await.contains("Votre mot de passe est changé"));
    let res = send(&app, "GET", &link, &anonymous, "").await;
    assert_eq!(res.status(), StatusCode::GONE);
}
