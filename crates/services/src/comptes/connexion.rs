//! The password step of the login, lockout after wrong passwords, and unlocking.

use relais_domain::comptes::Email;
use relais_domain::comptes::sessions::{Session, Stage};
use relais_domain::ids::PersonId;
use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::comptes::sessions;
use relais_store::comptes::{self as repo, Person};
use relais_store::{Db, StoreError, journal};

use super::mots_de_passe::{sha256_hex, verify_password};
use super::{Client, Opened, Policy, about_person, account_bucket, code_bucket, ip_bucket, ms};
use data_encoding::BASE64URL_NOPAD;
use rand::Rng;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("adresse électronique ou mot de passe incorrect")]
    Invalid,
    #[error(
        "trop d’essais pour ce compte : il est verrouillé pendant 15 minutes. Vous pouvez aussi réinitialiser votre mot de passe, ou demander à votre référent de le déverrouiller."
    )]
    Locked,
    #[error("trop de tentatives de connexion depuis votre réseau : réessayez dans 15 minutes")]
    TooManyFromAddress,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// First step of the login: the password. Opens a session that still needs the second
/// factor (or its enrolment).
pub async fn login_with_password(
    db: &Db,
    policy: &Policy,
    email: &str,
    password: &str,
    client: &Client,
) -> Result<Opened, LoginError> {
    let now = relais_domain::calendrier::now_ms();
    let window = ms(policy.window);
    if !sessions::admit(db, &ip_bucket(&client.ip), now, window, policy.ip_attempts).await? {
        return Err(LoginError::TooManyFromAddress);
    }
    let email = Email::parse(email)
        .map(|e| e.as_str().to_string())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    let bucket = account_bucket(&email);
    if sessions::hits(db, &bucket, now, window).await? >= policy.account_attempts {
        return Err(LoginError::Locked);
    }
    let person = repo::person_by_email(db, &email)
        .await?
        .filter(|p| p.deactivated_at.is_none());
    let ok = verify_password(
        person.as_ref().and_then(|p| p.password_hash.clone()),
        password,
    )
    .await;
    let Some(person) = person.filter(|_| ok) else {
        return Err(failed_password(db, policy, &bucket, &email, now).await?);
    };
    if person.locked_until.is_some_and(|until| until > now) {
        return Err(LoginError::Locked);
    }
    sessions::clear(db, &bucket).await?;
    let stage = if person.totp_enrolled_at.is_some() {
        Stage::SecondFactor
    } else {
        Stage::Enrolment
    };
    // After the password check, which takes a while.
    Ok(open_session(db, person.id, stage, client).await?)
}

/// Opens a session at `stage` for the person; the cookie value is returned, only its hash
/// is stored. The second factor is not fresh yet (sensitive actions will ask for it).
pub async fn open_session(
    db: &Db,
    person_id: PersonId,
    stage: Stage,
    client: &Client,
) -> Result<Opened, StoreError> {
    let (token, token_hash) = new_token();
    let now = relais_domain::calendrier::now_ms();
    sessions::create(
        db,
        &Session {
            token_hash,
            person_id,
            stage,
            acting_structure: None,
            created_at: now,
            last_seen_at: now,
            fresh_until: now,
            ip: client.ip.clone(),
            user_agent: client.user_agent.chars().take(300).collect(),
        },
    )
    .await?;
    Ok(Opened { token, stage })
}

/// A new session token (the cookie's value) and its hash (the table's key).
pub(super) fn new_token() -> (String, String) {
    let token = BASE64URL_NOPAD.encode(&rand::rng().random::<[u8; 32]>());
    let hash = sha256_hex(&token);
    (token, hash)
}

/// Tells the owner of an account that it was locked, and how to open it again (someone
/// else may be trying their password).
pub(super) fn lock_notice(person: &Person) -> crate::courriel::Courriel {
    crate::courriel::Courriel {
        to: person.email.clone(),
        subject: "Votre compte Relais est verrouillé".to_string(),
        body: format!(
            "Bonjour {},\n\n\
             Après plusieurs essais erronés (mot de passe ou code de vérification), votre compte Relais est verrouillé pour 15 minutes.\n\n\
             Si c’était vous, attendez 15 minutes, ou choisissez un nouveau mot de passe avec le lien « Mot de passe oublié ou compte verrouillé ? » de la page de connexion : il déverrouille aussi le compte. Le référent de votre structure peut aussi le déverrouiller.\n\n\
             Si ce n’était pas vous, quelqu’un essaie peut-être d’entrer dans votre compte : choisissez un nouveau mot de passe dès que possible.\n\n\
             Relais, la plateforme de l’inclusion numérique\n",
            person.given_name
        ),
    }
}

/// Counts a wrong password; the address's bucket locks it whether or not it has an account.
async fn failed_password(
    db: &Db,
    policy: &Policy,
    bucket: &str,
    email: &str,
    now: i64,
) -> Result<LoginError, StoreError> {
    let failures = sessions::hit(db, bucket, now, ms(policy.window)).await?;
    if let Some(person) = repo::person_by_email(db, email).await? {
        let mut tx = db.begin().await?;
        let count = repo::record_failed_login(
            &mut tx,
            person.id,
            policy.account_attempts,
            now + ms(policy.window),
        )
        .await?;
        journal::append(
            &mut tx,
            &about_person(JournalAction::LoginFailed, person.id),
        )
        .await?;
        if count == policy.account_attempts {
            journal::append(
                &mut tx,
                &about_person(JournalAction::AccountLocked, person.id),
            )
            .await?;
            crate::courriel::queue(&mut tx, &lock_notice(&person)).await?;
        }
        relais_store::commit(tx).await?;
    }
    Ok(if failures >= policy.account_attempts {
        LoginError::Locked
    } else {
        LoginError::Invalid
    })
}

/// Lifts a lock (wrong passwords or codes): failures forgotten and rate-limit buckets of the
/// account emptied; `entry` (an [`JournalAction::AccountUnlocked`]) says who did it.
pub async fn unlock(db: &Db, person: &Person, entry: &NewEntry) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    repo::clear_failed_logins(&mut tx, person.id).await?;
    journal::append(&mut tx, entry).await?;
    relais_store::commit(tx).await?;
    sessions::clear(db, &account_bucket(&person.email)).await?;
    sessions::clear(db, &code_bucket(person.id)).await
}

/// Unlock by an operator (`relais admin unlock`).
pub async fn unlock_by_operator(db: &Db, person: &Person) -> Result<(), StoreError> {
    unlock(
        db,
        person,
        &about_person(JournalAction::AccountUnlocked, person.id),
    )
    .await
}
