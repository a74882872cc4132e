//! Local accounts end to end on both backends: enrolment, login, second factor, replay,
//! recovery codes, lockout, rate limits, step-up, timeouts.

use std::time::Duration;

use relais_domain::comptes::sessions::{Session, Stage};
use relais_domain::journal::JournalAction;
use relais_domain::totp::{self, TotpError};
use relais_services::comptes::{
    self as svc, AccountError, Client, LoginError, Policy, SecondFactorError,
};
use relais_store::Db;
use relais_store::journal::{self, JournalFilter};
use relais_testkit::fixtures::PASSWORD;
use relais_testkit::store_tests;

store_tests!(
    enrolment_then_login_with_a_code,
    a_code_is_never_accepted_twice,
    recovery_codes_work_once,
    errors_are_generic_and_lock_known_and_unknown_addresses_alike,
    second_factor_brute_force_is_stopped,
    one_address_is_rate_limited,
    sensitive_actions_ask_again_after_a_pause,
    idle_sessions_expire,
    bad_accounts_are_refused_and_nothing_is_half_saved,
);

fn client() -> Client {
    Client {
        ip: "192.0.2.1".into(),
        user_agent: "test".into(),
    }
}

async fn actions(db: &Db) -> Vec<JournalAction> {
    let mut entries = journal::list(db, &JournalFilter::default(), 100)
        .await
        .unwrap();
    entries.reverse();
    entries.iter().map(|e| e.content.action).collect()
}

fn now_s() -> i64 {
    relais_domain::calendrier::now_ms() / 1000
}

/// The code of the next time step: accepted (clock drift) and newer than any used so far.
fn next_code(secret: &[u8]) -> String {
    format!(
        "{:06}",
        totp::code_at_step(secret, totp::step_of(now_s()) + 1)
    )
}

fn code(secret: &[u8]) -> String {
    format!("{:06}", totp::code_at_step(secret, totp::step_of(now_s())))
}

async fn session(db: &Db, policy: &Policy, token: &str) -> Session {
    svc::resolve_session(db, policy, token)
        .await
        .unwrap()
        .expect("live session")
}

/// Codes that no clock drift accepts now.
fn wrong_codes(secret: &[u8], n: usize) -> Vec<String> {
    let step = totp::step_of(now_s());
    let accepted: Vec<u32> = (step - 1..=step + 1)
        .map(|s| totp::code_at_step(secret, s))
        .collect();
    (0..1_000_000u32)
        .filter(|c| !accepted.contains(c))
        .take(n)
        .map(|c| format!("{c:06}"))
        .collect()
}

/// An account with its second factor set up; returns its TOTP secret and recovery codes.
async fn enrolled(db: &Db, policy: &Policy, email: &str) -> (Vec<u8>, Vec<String>) {
    svc::create_account(db, email, "Camille", "Martin", PASSWORD, None)
        .await
        .unwrap();
    let opened = svc::login_with_password(db, policy, email, PASSWORD, &client())
        .await
        .unwrap();
    let s = session(db, policy, &opened.token).await;
    let (secret, _) = svc::begin_enrolment(db, &s).await.unwrap();
    let codes = svc::confirm_enrolment(db, policy, &s, &code(&secret))
        .await
        .unwrap()
        .codes;
    (secret, codes)
}

async fn enrolment_then_login_with_a_code(db: Db) {
    let policy = Policy::default();
    svc::create_account(
        &db,
        "Camille@Exemple.fr",
        "Camille",
        "Martin",
        PASSWORD,
        None,
    )
    .await
    .unwrap();
    let opened = svc::login_with_password(&db, &policy, "camille@exemple.fr", PASSWORD, &client())
        .await
        .unwrap();
    assert_eq!(
        opened.stage,
        Stage::Enrolment,
        "the second factor is mandatory"
    );
    let s = session(&db, &policy, &opened.token).await;
    let (secret, email) = svc::begin_enrolment(&db, &s).await.unwrap();
    assert_eq!(email, "camille@exemple.fr");
    assert_eq!(
        svc::begin_enrolment(&db, &s).await.unwrap().0,
        secret,
        "the same secret until confirmed"
    );
    let err = svc::confirm_enrolment(&db, &policy, &s, &wrong_codes(&secret, 1)[0])
        .await
        .unwrap_err();
    assert!(
        matches!(err, SecondFactorError::Code(TotpError::Wrong)),
        "{err}"
    );
    let enrolled = svc::confirm_enrolment(&db, &policy, &s, &code(&secret))
        .await
        .unwrap();
    let codes = enrolled.codes;
    assert_eq!(codes.len(), 10);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'),
        "{codes:?}"
    );
    assert_eq!(
        session(&db, &policy, &enrolled.token).await.stage,
        Stage::Active
    );
    assert!(
        svc::resolve_session(&db, &policy, &opened.token)
            .await
            .unwrap()
            .is_none(),
        "the token before the enrolment opens nothing any more"
    );

    let again = svc::login_with_password(&db, &policy, "camille@exemple.fr", PASSWORD, &client())
        .await
        .unwrap();
    assert_eq!(again.stage, Stage::SecondFactor);
    let s = session(&db, &policy, &again.token).await;
    let token = svc::verify_second_factor(&db, &policy, &s, &next_code(&secret))
        .await
        .unwrap();
    assert_eq!(session(&db, &policy, &token).await.stage, Stage::Active);
    assert!(
        svc::resolve_session(&db, &policy, &again.token)
            .await
            .unwrap()
            .is_none(),
        "the token before the second factor opens nothing any more"
    );
    let log = actions(&db).await;
    assert_eq!(
        log,
        [
            JournalAction::PersonInvited,
            JournalAction::SecondFactorEnrolled,
            JournalAction::LoginSucceeded,
            JournalAction::LoginSucceeded
        ]
    );
}

async fn a_code_is_never_accepted_twice(db: Db) {
    let policy = Policy::default();
    let (secret, _) = enrolled(&db, &policy, "rejeu@exemple.fr").await;
    let code = next_code(&secret);
    let first = svc::login_with_password(&db, &policy, "rejeu@exemple.fr", PASSWORD, &client())
        .await
        .unwrap();
    svc::verify_second_factor(
        &db,
        &policy,
        &session(&db, &policy, &first.token).await,
        &code,
    )
    .await
    .unwrap();
    let second = svc::login_with_password(&db, &policy, "rejeu@exemple.fr", PASSWORD, &client())
        .await
        .unwrap();
    let err = svc::verify_second_factor(
        &db,
        &policy,
        &session(&db, &policy, &second.token).await,
        &code,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SecondFactorError::Code(TotpError::Replayed)),
        "{err}"
    );
    assert_eq!(
        session(&db, &policy, &second.token).await.stage,
        Stage::SecondFactor,
        "still waiting for a good code"
    );
}

async fn recovery_codes_work_once(db: Db) {
    let policy = Policy::default();
    let (_, codes) = enrolled(&db, &policy, "secours@exemple.fr").await;
    let login = || async {
        svc::login_with_password(&db, &policy, "secours@exemple.fr", PASSWORD, &client())
            .await
            .unwrap()
    };
    let a = login().await;
    svc::verify_second_factor(
        &db,
        &policy,
        &session(&db, &policy, &a.token).await,
        &codes[3].to_lowercase(),
    )
    .await
    .unwrap();
    let b = login().await;
    let err = svc::verify_second_factor(
        &db,
        &policy,
        &session(&db, &policy, &b.token).await,
        &codes[3],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SecondFactorError::RecoveryCode), "{err}");
}

async fn errors_are_generic_and_lock_known_and_unknown_addresses_alike(db: Db) {
    let policy = Policy::default();
    enrolled(&db, &policy, "connu@exemple.fr").await;
    for email in ["connu@exemple.fr", "inconnu@exemple.fr"] {
        for attempt in 1..=5 {
            let err =
                svc::login_with_password(&db, &policy, email, "mauvais mot de passe", &client())
                    .await
                    .unwrap_err();
            let expected_locked = attempt == 5;
            assert_eq!(
                matches!(err, LoginError::Locked),
                expected_locked,
                "{email}, attempt {attempt}: {err}"
            );
            if !expected_locked {
                assert_eq!(
                    err.to_string(),
                    "adresse électronique ou mot de passe incorrect"
                );
            }
        }
        // Locked: even the right password is refused.
        let err = svc::login_with_password(&db, &policy, email, PASSWORD, &client())
            .await
            .unwrap_err();
        assert!(matches!(err, LoginError::Locked), "{email}: {err}");
    }
    assert!(actions(&db).await.contains(&JournalAction::AccountLocked));
}

async fn second_factor_brute_force_is_stopped(db: Db) {
    let policy = Policy::default();
    let (secret, _) = enrolled(&db, &policy, "force@exemple.fr").await;
    let opened = svc::login_with_password(&db, &policy, "force@exemple.fr", PASSWORD, &client())
        .await
        .unwrap();
    let s = session(&db, &policy, &opened.token).await;
    for (n, guess) in wrong_codes(&secret, 5).iter().enumerate() {
        let err = svc::verify_second_factor(&db, &policy, &s, guess)
            .await
            .unwrap_err();
        assert_eq!(
            matches!(err, SecondFactorError::Locked),
            n == 4,
            "guess {}: {err}",
            n + 1
        );
    }
    assert!(
        svc::resolve_session(&db, &policy, &opened.token)
            .await
            .unwrap()
            .is_none(),
        "sessions closed"
    );
    let err = svc::verify_second_factor(&db, &policy, &s, &next_code(&secret))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SecondFactorError::Locked),
        "the right code no longer helps: {err}"
    );
    let err = svc::login_with_password(&db, &policy, "force@exemple.fr", PASSWORD, &client())
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::Locked), "{err}");
}

async fn one_address_is_rate_limited(db: Db) {
    let policy = Policy {
        ip_attempts: 3,
        ..Policy::default()
    };
    for n in 0..3 {
        let email = format!("essai{n}@exemple.fr");
        assert!(matches!(
            svc::login_with_password(&db, &policy, &email, "x", &client()).await,
            Err(LoginError::Invalid)
        ));
    }
    let err = svc::login_with_password(&db, &policy, "autre@exemple.fr", "x", &client())
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::TooManyFromAddress), "{err}");
    let elsewhere = Client {
        ip: "198.51.100.7".into(),
        ..client()
    };
    assert!(matches!(
        svc::login_with_password(&db, &policy, "autre@exemple.fr", "x", &elsewhere).await,
        Err(LoginError::Invalid)
    ));
}

async fn sensitive_actions_ask_again_after_a_pause(db: Db) {
    let policy = Policy {
        step_up: Duration::from_millis(1_000),
        ..Policy::default()
    };
    let (secret, recovery) = enrolled(&db, &policy, "sensible@exemple.fr").await;
    let opened = svc::login_with_password(&db, &policy, "sensible@exemple.fr", PASSWORD, &client())
        .await
        .unwrap();
    let token = svc::verify_second_factor(
        &db,
        &policy,
        &session(&db, &policy, &opened.token).await,
        &next_code(&secret),
    )
    .await
    .unwrap();
    assert!(svc::is_fresh(&session(&db, &policy, &token).await));
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            svc::is_fresh(&session(&db, &policy, &token).await),
            "activity keeps it fresh"
        );
    }
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let s = session(&db, &policy, &token).await;
    assert!(!svc::is_fresh(&s), "a pause ends it");
    let refreshed = svc::verify_second_factor(&db, &policy, &s, &recovery[0])
        .await
        .unwrap();
    assert!(
        svc::is_fresh(&session(&db, &policy, &refreshed).await),
        "fresh again after the second factor"
    );
    assert!(
        svc::resolve_session(&db, &policy, &token)
            .await
            .unwrap()
            .is_none(),
        "a new token after the confirmation too"
    );
}

async fn idle_sessions_expire(db: Db) {
    let policy = Policy {
        idle: Duration::from_millis(1_000),
        ..Policy::default()
    };
    svc::create_account(&db, "inactif@exemple.fr", "C", "M", PASSWORD, None)
        .await
        .unwrap();
    let opened = svc::login_with_password(&db, &policy, "inactif@exemple.fr", PASSWORD, &client())
        .await
        .unwrap();
    assert!(
        svc::resolve_session(&db, &policy, &opened.token)
            .await
            .unwrap()
            .is_some()
    );
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(
        svc::resolve_session(&db, &policy, &opened.token)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        svc::resolve_session(&db, &policy, "jeton-inventé")
            .await
            .unwrap()
            .is_none()
    );
}

async fn bad_accounts_are_refused_and_nothing_is_half_saved(db: Db) {
    let short = svc::create_account(&db, "a@exemple.fr", "C", "M", "court", None)
        .await
        .unwrap_err();
    assert!(matches!(short, AccountError::Invalid(_)), "{short}");
    let email = svc::create_account(&db, "pas-une-adresse", "C", "M", PASSWORD, None)
        .await
        .unwrap_err();
    assert!(matches!(email, AccountError::Invalid(_)), "{email}");
    svc::create_account(&db, "double@exemple.fr", "C", "M", PASSWORD, None)
        .await
        .unwrap();
    let taken = svc::create_account(&db, "DOUBLE@exemple.fr", "C", "M", PASSWORD, None)
        .await
        .unwrap_err();
    assert!(matches!(taken, AccountError::EmailTaken), "{taken}");
    assert_eq!(
        actions(&db).await,
        [JournalAction::PersonInvited],
        "one account, one entry"
    );
}
