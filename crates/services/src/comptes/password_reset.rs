//! "Mot de passe oublié": an e-mailed single-use link, valid [`LIFETIME`], sets a new
//! password. It also lifts a lock, so it is the unlock path people find by themselves.

use std::time::Duration;

use data_encoding::BASE64URL_NOPAD;
use rand::Rng;
use relais_domain::calendrier::now_ms;
use relais_domain::comptes::{CompteError, Email, check_password};
use relais_domain::journal::JournalAction;
use relais_store::comptes as people;
use relais_store::comptes::password_reset as repo;
use relais_store::comptes::sessions;
use relais_store::{Db, StoreError, journal};

use crate::comptes::{
    Client, about_person, account_bucket, code_bucket, hash_password, sha256_hex,
};
use crate::courriel::{self, Courriel};

pub const LIFETIME: Duration = Duration::from_secs(60 * 60);
/// Requests per address and per IP within [`WINDOW`]: enough for a lost e-mail, too few to
/// flood someone's inbox.
const REQUESTS: i64 = 3;
const IP_REQUESTS: i64 = 20;
const WINDOW: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(
        "ce lien n’est plus valable (il a déjà servi ou a expiré au bout d’une heure) : demandez-en un nouveau"
    )]
    InvalidLink,
    #[error(transparent)]
    Password(#[from] CompteError),
    #[error("les deux mots de passe ne sont pas identiques")]
    PasswordsDiffer,
    #[error("trop de demandes : réessayez dans une heure")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sends a reset link if the address has an active account. The answer is the same
/// whether it has one or not, so that nobody learns which addresses are registered.
pub async fn request(
    db: &Db,
    email: &str,
    client: &Client,
    public_url: &str,
) -> Result<(), ResetError> {
    let now = now_ms();
    let window = WINDOW.as_millis() as i64;
    let ip = format!("reinitialisation-ip:{}", client.ip);
    if sessions::hit(db, &ip, now, window).await? > IP_REQUESTS {
        return Err(ResetError::TooMany);
    }
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let bucket = format!("reinitialisation:{}", sha256_hex(email.as_str()));
    if sessions::hit(db, &bucket, now, window).await? > REQUESTS {
        return Ok(());
    }
    let Some(person) = people::person_by_email(db, email.as_str())
        .await?
        .filter(|p| p.deactivated_at.is_none())
    else {
        return Ok(());
    };
    let token = BASE64URL_NOPAD.encode(&rand::rng().random::<[u8; 32]>());
    let mut tx = db.begin().await?;
    repo::create(
        &mut tx,
        person.id,
        &sha256_hex(&token),
        now,
        now + LIFETIME.as_millis() as i64,
    )
    .await?;
    courriel::queue(
        &mut tx,
        &Courriel {
            to: person.email.clone(),
            subject: "Choisir un nouveau mot de passe Relais".to_string(),
            body: format!(
                "Bonjour {},\n\n\
                 Quelqu’un, sans doute vous, a demandé à choisir un nouveau mot de passe pour votre compte Relais.\n\n\
                 Ouvrez ce lien dans l’heure qui vient (il ne sert qu’une fois) :\n{public_url}/connexion/nouveau-mot-de-passe?jeton={token}\n\n\
                 Il déverrouille aussi votre compte s’il l’était. Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : votre mot de passe reste le même.\n\n\
                 Relais, la plateforme de l’inclusion numérique\n",
                person.given_name
            ),
        },
    )
    .await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// Whether a link can still be used (to show the form, or say it cannot).
pub async fn check(db: &Db, token: &str) -> Result<(), ResetError> {
    repo::person_of(db, &sha256_hex(token.trim()), now_ms())
        .await?
        .map(drop)
        .ok_or(ResetError::InvalidLink)
}

/// Sets the new password: the link is used up, failures and locks cleared, every session
/// of the person closed (whoever had the old password is logged out).
pub async fn reset(db: &Db, token: &str, password: &str, confirm: &str) -> Result<(), ResetError> {
    let hash = sha256_hex(token.trim());
    let person = repo::person_of(db, &hash, now_ms())
        .await?
        .ok_or(ResetError::InvalidLink)?;
    check_password(password)?;
    if password != confirm {
        return Err(ResetError::PasswordsDiffer);
    }
    let new_hash = hash_password(password).await?;
    let person = people::person(db, person)
        .await?
        .ok_or(ResetError::InvalidLink)?;
    let mut tx = db.begin().await?;
    if !repo::consume(&mut tx, &hash, person.id, now_ms()).await? {
        return Err(ResetError::InvalidLink);
    }
    people::set_password(&mut tx, person.id, &new_hash).await?;
    people::clear_failed_logins(&mut tx, person.id).await?;
    sessions::close_all_of(&mut tx, person.id).await?;
    let entry = about_person(JournalAction::PasswordReset, person.id).by(person.id, None);
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    sessions::clear(db, &account_bucket(&person.email)).await?;
    sessions::clear(db, &code_bucket(person.id)).await?;
    Ok(())
}
