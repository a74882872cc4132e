//! The second factor: codes from an app (TOTP) or recovery codes, and its enrolment.

use data_encoding::HEXLOWER;
use rand::Rng;
use relais_domain::comptes::sessions::{Session, Stage};
use relais_domain::journal::JournalAction;
use relais_domain::totp::{self, TotpError};
use relais_store::comptes::sessions;
use relais_store::comptes::{self as repo, Person};
use relais_store::{Db, StoreError, journal};

use super::connexion::{lock_notice, new_token};
use super::mots_de_passe::sha256_hex;
use super::{Policy, about_person, code_bucket, ms};

#[derive(Debug, thiserror::Error)]
pub enum SecondFactorError {
    #[error("{0}")]
    Code(#[from] TotpError),
    #[error("ce code de secours n’est pas valide ou a déjà servi")]
    RecoveryCode,
    #[error("trop de codes erronés : par sécurité, votre compte est verrouillé pendant 15 minutes")]
    Locked,
    #[error("la deuxième étape de connexion n’est pas commencée : reconnectez-vous")]
    NoPendingLogin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a second-factor code (or a recovery code) for the session's person: completes a
/// login, or refreshes the session before a sensitive action. Either way the session gets a
/// new token, returned (the new cookie value): the previous one opens nothing any more.
pub async fn verify_second_factor(
    db: &Db,
    policy: &Policy,
    session: &Session,
    code: &str,
) -> Result<String, SecondFactorError> {
    if session.stage == Stage::Enrolment {
        return Err(SecondFactorError::NoPendingLogin);
    }
    let now = relais_domain::calendrier::now_ms();
    let person = repo::person(db, session.person_id)
        .await?
        .ok_or(SecondFactorError::NoPendingLogin)?;
    let secret = person
        .totp_secret
        .as_deref()
        .and_then(|s| HEXLOWER.decode(s.as_bytes()).ok());
    let (Some(secret), Some(_)) = (secret, person.totp_enrolled_at) else {
        return Err(SecondFactorError::NoPendingLogin);
    };
    let bucket = code_bucket(person.id);
    if sessions::hits(db, &bucket, now, ms(policy.window)).await? >= policy.code_attempts {
        return Err(SecondFactorError::Locked);
    }
    let entry = |action| about_person(action, person.id);
    match check_code(db, &person, &secret, code, now).await {
        Ok(()) => {
            sessions::clear(db, &bucket).await?;
            let mut tx = db.begin().await?;
            let token = promote(&mut tx, session, policy, now).await?;
            if session.stage == Stage::SecondFactor {
                journal::append(
                    &mut tx,
                    &entry(JournalAction::LoginSucceeded).by(person.id, None),
                )
                .await?;
            }
            relais_store::commit(tx).await?;
            Ok(token)
        }
        Err(e) => {
            let locked =
                sessions::hit(db, &bucket, now, ms(policy.window)).await? >= policy.code_attempts;
            let mut tx = db.begin().await?;
            journal::append(&mut tx, &entry(JournalAction::SecondFactorFailed)).await?;
            if locked {
                repo::record_failed_login(&mut tx, person.id, 1, now + ms(policy.window)).await?;
                journal::append(&mut tx, &entry(JournalAction::AccountLocked)).await?;
                sessions::close_all_of(&mut tx, person.id).await?;
                crate::courriel::queue(&mut tx, &lock_notice(&person)).await?;
            }
            relais_store::commit(tx).await?;
            Err(if locked { SecondFactorError::Locked } else { e })
        }
    }
}

/// A 6-digit code from the app, or a recovery code (letters, with or without a dash).
async fn check_code(
    db: &Db,
    person: &Person,
    secret: &[u8],
    code: &str,
    now: i64,
) -> Result<(), SecondFactorError> {
    let compact: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_uppercase();
    if compact.len() == RECOVERY_CODE_LEN {
        return if repo::use_recovery_code(db, person.id, &sha256_hex(&compact), now).await? {
            Ok(())
        } else {
            Err(SecondFactorError::RecoveryCode)
        };
    }
    let last = repo::totp_last_step(db, person.id).await?;
    let step = totp::verify(secret, code, now / 1000, last)?;
    if repo::use_totp_step(db, person.id, step).await? {
        Ok(())
    } else {
        Err(TotpError::Replayed.into())
    }
}

const RECOVERY_CODES: usize = 10;
const RECOVERY_CODE_LEN: usize = 10;

/// The secret for the enrolment QR code; kept on the person until confirmed.
pub async fn begin_enrolment(
    db: &Db,
    session: &Session,
) -> Result<(Vec<u8>, String), SecondFactorError> {
    let person = repo::person(db, session.person_id)
        .await?
        .ok_or(SecondFactorError::NoPendingLogin)?;
    let secret: Vec<u8> = match person
        .totp_secret
        .as_deref()
        .filter(|_| person.totp_enrolled_at.is_none())
    {
        Some(pending) => HEXLOWER.decode(pending.as_bytes()).unwrap_or_default(),
        None => {
            let secret = rand::rng().random::<[u8; 20]>().to_vec();
            repo::set_pending_totp(db, person.id, &HEXLOWER.encode(&secret)).await?;
            secret
        }
    };
    Ok((secret, person.email))
}

/// An enrolment confirmed.
#[derive(Debug)]
pub struct Enrolled {
    /// The recovery codes, shown once.
    pub codes: Vec<String>,
    /// The session's new token (the new cookie value): the previous one opens nothing.
    pub token: String,
}

/// Confirms the enrolment with a first code, which completes the login.
pub async fn confirm_enrolment(
    db: &Db,
    policy: &Policy,
    session: &Session,
    code: &str,
) -> Result<Enrolled, SecondFactorError> {
    let now = relais_domain::calendrier::now_ms();
    let (secret, _) = begin_enrolment(db, session).await?;
    let step = totp::verify(&secret, code, now / 1000, None)?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| sha256_hex(&c.replace('-', "")))
        .collect();
    let mut tx = db.begin().await?;
    repo::enroll_totp(
        &mut tx,
        session.person_id,
        &HEXLOWER.encode(&secret),
        step,
        &hashes,
        now,
    )
    .await?;
    let token = promote(&mut tx, session, policy, now).await?;
    for action in [
        JournalAction::SecondFactorEnrolled,
        JournalAction::LoginSucceeded,
    ] {
        let entry = about_person(action, session.person_id).by(session.person_id, None);
        journal::append(&mut tx, &entry).await?;
    }
    relais_store::commit(tx).await?;
    Ok(Enrolled { codes, token })
}

/// The login complete: the session moves to a new token (returned) at stage `active`, its
/// second factor fresh; the old token opens nothing any more.
async fn promote(
    tx: &mut relais_store::Tx,
    session: &Session,
    policy: &Policy,
    now: i64,
) -> Result<String, SecondFactorError> {
    let (token, token_hash) = new_token();
    let fresh_until = now + ms(policy.step_up);
    if sessions::promote(
        tx,
        &session.token_hash,
        &token_hash,
        Stage::Active,
        fresh_until,
    )
    .await?
    {
        Ok(token)
    } else {
        Err(SecondFactorError::NoPendingLogin)
    }
}

/// Ten characters without look-alikes (no 0/O, 1/I/L), shown as XXXXX-XXXXX.
fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let raw: String = (0..RECOVERY_CODE_LEN)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &raw[..5], &raw[5..])
}
