//! Local accounts: password and second factor, sessions, lockout and rate limits.
//!
//! Every login error a person sees is generic ("adresse ou mot de passe incorrect") and an
//! unknown address takes as long and locks as a known one, so that nobody can tell which
//! addresses have an account.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use data_encoding::{BASE64URL_NOPAD, HEXLOWER};
use rand::Rng;
use relais_domain::authz::Actor;
use relais_domain::comptes::{CompteError, Email, GlobalRole, Role, check_password};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_domain::totp::{self, TotpError};
use relais_store::comptes::{self as repo, Person};
use relais_store::sessions::{self, Session, Stage};
use relais_store::{Db, StoreError, journal};
use sha2::{Digest, Sha256};

/// Limits and lifetimes of the login.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Failed passwords for one address within `window` before it is locked.
    pub account_attempts: i64,
    /// Login attempts from one IP address within `window`.
    pub ip_attempts: i64,
    /// Wrong second-factor codes within `window` before the account is locked.
    pub code_attempts: i64,
    pub window: Duration,
    /// A session unused this long is closed.
    pub idle: Duration,
    /// A session is closed this long after login, whatever its use.
    pub absolute: Duration,
    /// Sensitive actions ask for the second factor again after this long without activity.
    pub step_up: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            account_attempts: 5,
            ip_attempts: 30,
            code_attempts: 5,
            window: Duration::from_secs(15 * 60),
            idle: Duration::from_secs(60 * 60),
            absolute: Duration::from_secs(12 * 60 * 60),
            step_up: Duration::from_secs(15 * 60),
        }
    }
}

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

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

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] CompteError),
    #[error("cette adresse électronique a déjà un compte")]
    EmailTaken,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate("email") => AccountError::EmailTaken,
            e => AccountError::Store(e),
        }
    }
}

/// Argon2id memory (KiB) and passes: about 60 ms of one core here (docs/BENCHMARKS.md).
pub const ARGON2_MEMORY_KIB: u32 = 24 * 1024;
pub const ARGON2_PASSES: u32 = 3;

fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, 1, None).expect("valid parameters"),
    )
}

/// Argon2id runs allowed at once: one per core, less one left to the request workers.
///
/// Unbounded, 32 logins at once ran 32 hashes of 24 MiB on Tokio's blocking pool: on 2
/// cores they starved the async workers (`/healthz` fell to 5 % of its rate, p99 ×11),
/// took 4 GB of memory, and even lowered the logins per second (docs/BENCHMARKS.md,
/// "Connexions par seconde").
/// A login waits for a permit; the permit moves into the blocking task, so it is held
/// exactly as long as the hash runs, even if the request is dropped meanwhile.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1))
    })
}

async fn hashing_permit() -> tokio::sync::SemaphorePermit<'static> {
    hashing_permits()
        .acquire()
        .await
        .expect("the hashing semaphore is never closed")
}

/// Hashes a password off the async runtime (it takes tens of milliseconds of CPU).
pub async fn hash_password(password: &str) -> Result<String, CompteError> {
    check_password(password)?;
    let password = password.to_string();
    let permit = hashing_permit().await;
    let hash = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let salt =
            SaltString::encode_b64(&rand::rng().random::<[u8; 16]>()).expect("16 bytes of salt");
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashing")
            .to_string()
    })
    .await
    .expect("hashing task");
    Ok(hash)
}

/// Verifies off the async runtime; an absent hash costs the same as a present one.
async fn verify_password(hash: Option<String>, password: &str) -> bool {
    let password = password.to_string();
    let permit = hashing_permit().await;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
        let matches = PasswordHash::new(&hash)
            .is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok());
        matches && known
    })
    .await
    .unwrap_or(false)
}

/// The hash of a random password, checked when the address is unknown.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt =
            SaltString::encode_b64(&rand::rng().random::<[u8; 16]>()).expect("16 bytes of salt");
        let password: [u8; 16] = rand::rng().random();
        argon2()
            .hash_password(&password, &salt)
            .expect("argon2 hashing")
            .to_string()
    })
}

pub fn sha256_hex(input: &str) -> String {
    HEXLOWER.encode(&Sha256::digest(input.as_bytes()))
}

/// A new local account (the second factor is set up at first login).
pub async fn create_account(
    db: &Db,
    email: &str,
    given_name: &str,
    family_name: &str,
    password: &str,
    by: Option<i64>,
) -> Result<i64, AccountError> {
    let email = Email::parse(email)?;
    let hash = hash_password(password).await?;
    let now = relais_domain::calendrier::now_ms();
    let mut tx = db.begin().await?;
    let id = repo::create_person(
        &mut tx,
        email.as_str(),
        given_name.trim(),
        family_name.trim(),
        Some(&hash),
        now,
    )
    .await?;
    let mut entry = about_person(JournalAction::PersonInvited, id);
    if let Some(by) = by {
        entry = entry.by(by, None);
    }
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(id)
}

/// A session just opened: the cookie value (never stored) and where the login stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub token: String,
    pub stage: Stage,
}

/// Where the request comes from, for rate limits and the list of sessions.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

/// A journal entry about a person (identified by their Relais id).
pub(crate) fn about_person(action: JournalAction, person: impl ToString) -> NewEntry {
    NewEntry::new(action, "personne", person.to_string())
}

pub(crate) fn account_bucket(email: &str) -> String {
    format!("connexion:{}", sha256_hex(email))
}

fn ip_bucket(ip: &str) -> String {
    format!("ip:{ip}")
}

pub(crate) fn code_bucket(person: i64) -> String {
    format!("code:{person}")
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
    if sessions::hits(db, &ip_bucket(&client.ip), now, window).await? >= policy.ip_attempts {
        return Err(LoginError::TooManyFromAddress);
    }
    sessions::hit(db, &ip_bucket(&client.ip), now, window).await?;
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
    person_id: i64,
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
fn new_token() -> (String, String) {
    let token = BASE64URL_NOPAD.encode(&rand::rng().random::<[u8; 32]>());
    let hash = sha256_hex(&token);
    (token, hash)
}

/// Tells the owner of an account that it was locked, and how to open it again (someone
/// else may be trying their password).
fn lock_notice(person: &Person) -> crate::courriel::Courriel {
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

/// The session behind a cookie, if it is still alive; records the activity.
pub async fn resolve_session(
    db: &Db,
    policy: &Policy,
    token: &str,
) -> Result<Option<Session>, StoreError> {
    let now = relais_domain::calendrier::now_ms();
    let hash = sha256_hex(token);
    let Some(mut session) = sessions::find(db, &hash).await? else {
        return Ok(None);
    };
    if session.last_seen_at < now - ms(policy.idle)
        || session.created_at < now - ms(policy.absolute)
    {
        sessions::delete(db, &hash).await?;
        return Ok(None);
    }
    // The second factor stays fresh while the person is active; a pause ends it.
    if session.fresh_until >= now {
        session.fresh_until = now + ms(policy.step_up);
    }
    session.last_seen_at = now;
    sessions::touch(db, &hash, now, session.fresh_until).await?;
    Ok(Some(session))
}

/// Whether a sensitive action may go ahead without asking the second factor again.
pub fn is_fresh(session: &Session) -> bool {
    session.fresh_until >= relais_domain::calendrier::now_ms()
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
            let (token, token_hash) = new_token();
            let mut tx = db.begin().await?;
            if !sessions::promote(
                &mut tx,
                &session.token_hash,
                &token_hash,
                Stage::Active,
                now + ms(policy.step_up),
            )
            .await?
            {
                return Err(SecondFactorError::NoPendingLogin);
            }
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
    let (token, token_hash) = new_token();
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
    if !sessions::promote(
        &mut tx,
        &session.token_hash,
        &token_hash,
        Stage::Active,
        now + ms(policy.step_up),
    )
    .await?
    {
        return Err(SecondFactorError::NoPendingLogin);
    }
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

/// Ten characters without look-alikes (no 0/O, 1/I/L), shown as XXXXX-XXXXX.
fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let raw: String = (0..RECOVERY_CODE_LEN)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &raw[..5], &raw[5..])
}

/// Ends this session.
pub async fn logout(db: &Db, session: &Session) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    journal::append(
        &mut tx,
        &about_person(JournalAction::Logout, session.person_id).by(session.person_id, None),
    )
    .await?;
    sessions::close(&mut tx, &session.token_hash).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// Ends every session of the person (lost device, suspicion).
pub async fn logout_everywhere(db: &Db, session: &Session) -> Result<u64, StoreError> {
    let mut tx = db.begin().await?;
    let entry = about_person(JournalAction::Logout, session.person_id)
        .by(session.person_id, None)
        .with_details("{\"partout\":true}");
    journal::append(&mut tx, &entry).await?;
    let closed = sessions::close_all_of(&mut tx, session.person_id).await?;
    relais_store::commit(tx).await?;
    Ok(closed)
}

/// The structure a session acts as: the one chosen if the person still belongs to it,
/// else their only structure if they have just one.
fn acting_structure(session: &Session, memberships: &[repo::Membership]) -> Option<i64> {
    let chosen = session
        .acting_structure
        .filter(|s| memberships.iter().any(|m| m.structure_id == *s));
    let only = memberships
        .first()
        .map(|m| m.structure_id)
        .filter(|first| memberships.iter().all(|m| m.structure_id == *first));
    chosen.or(only)
}

/// The person behind a complete session, with their live roles.
pub async fn actor(db: &Db, session: &Session) -> Result<Actor, StoreError> {
    let memberships = repo::memberships_of(db, session.person_id).await?;
    let global_roles = repo::global_roles_of(db, session.person_id).await?;
    Ok(Actor {
        person_id: session.person_id,
        memberships: memberships
            .iter()
            .map(|m| (m.structure_id, m.role))
            .collect(),
        global_roles: global_roles
            .into_iter()
            .map(|g| (g.role, g.scope))
            .collect(),
        acting_structure: acting_structure(session, &memberships),
    })
}

/// Who is logged in, for the page header: their name and the structure they act as.
pub async fn header_badge(
    db: &Db,
    session: &Session,
) -> Result<Option<(String, Option<String>)>, StoreError> {
    let Some(person) = repo::person(db, session.person_id).await? else {
        return Ok(None);
    };
    let memberships = repo::memberships_of(db, person.id).await?;
    let structure = acting_structure(session, &memberships)
        .and_then(|s| memberships.iter().find(|m| m.structure_id == s))
        .map(|m| m.structure_nom.clone());
    Ok(Some((
        format!("{} {}", person.given_name, person.family_name),
        structure,
    )))
}

/// Chooses the structure the person acts as (shown in the header). A change of privileges:
/// the session gets a new token, returned (the new cookie value); `None` when the person
/// may not act for it (or the session is gone).
pub async fn act_as(
    db: &Db,
    session: &Session,
    actor: &Actor,
    structure: i64,
) -> Result<Option<String>, StoreError> {
    if !actor.may_act_as(structure) {
        return Ok(None);
    }
    let (token, token_hash) = new_token();
    let moved =
        sessions::set_acting_structure(db, &session.token_hash, &token_hash, Some(structure))
            .await?;
    Ok(moved.then_some(token))
}

/// The whole journal, for a national administrator only (the proof is the parameter).
pub async fn journal_for_admin(
    db: &Db,
    _admin: &relais_domain::authz::AdminAccess,
    filter: &journal::JournalFilter,
    limit: u32,
) -> Result<Vec<relais_domain::journal::Entry>, StoreError> {
    journal::list(db, filter, limit).await
}

/// A structure's journal, for its référents: the filter is narrowed to that structure.
pub async fn journal_for_structure(
    db: &Db,
    access: &relais_domain::authz::StructureAccess,
    filter: &journal::JournalFilter,
    limit: u32,
) -> Result<Vec<relais_domain::journal::Entry>, StoreError> {
    let filter = journal::JournalFilter {
        structure: Some(access.structure()),
        ..filter.clone()
    };
    journal::list(db, &filter, limit).await
}

#[derive(Debug, thiserror::Error)]
pub enum StructureError {
    #[error(transparent)]
    Invalid(#[from] CompteError),
    #[error("la commune « {0} » est inconnue (code INSEE attendu)")]
    UnknownCommune(String),
    #[error("une structure avec ce SIRET existe déjà")]
    SiretTaken,
    #[error("le nom de la structure est obligatoire")]
    MissingName,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for StructureError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate("siret") => StructureError::SiretTaken,
            e => StructureError::Store(e),
        }
    }
}

/// Registers a structure (SIRET checked, commune known), journaled.
pub async fn create_structure(
    db: &Db,
    siret: &str,
    nom: &str,
    kind: relais_domain::comptes::StructureKind,
    adresse: &str,
    commune: &str,
    by: Option<i64>,
) -> Result<i64, StructureError> {
    let siret = relais_domain::comptes::Siret::parse(siret)?;
    if nom.trim().is_empty() {
        return Err(StructureError::MissingName);
    }
    if !relais_store::territoires::commune_exists(db, commune).await? {
        return Err(StructureError::UnknownCommune(commune.to_string()));
    }
    let mut tx = db.begin().await?;
    let new = repo::NewStructure {
        siret: siret.as_str().to_string(),
        nom: nom.trim().to_string(),
        kind,
        adresse: adresse.trim().to_string(),
        commune: commune.to_string(),
    };
    let id = repo::create_structure(&mut tx, &new, relais_domain::calendrier::now_ms()).await?;
    let mut entry = NewEntry::new(JournalAction::StructureCreated, "structure", id.to_string())
        .in_structure(id);
    if let Some(by) = by {
        entry = entry.by(by, None);
    }
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(id)
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

/// Grants a role in a structure, journaled (readable by the structure's référents).
pub async fn grant_role(
    db: &Db,
    person: i64,
    structure: i64,
    role: Role,
    by: Option<i64>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    repo::grant_role(
        &mut tx,
        person,
        structure,
        role,
        by,
        relais_domain::calendrier::now_ms(),
    )
    .await?;
    let mut entry = about_person(JournalAction::RoleGranted, person)
        .in_structure(structure)
        .with_details(format!("{{\"role\":\"{}\"}}", role.as_str()));
    if let Some(by) = by {
        entry = entry.by(by, None);
    }
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await
}

/// Grants a national or territorial role, journaled.
pub async fn grant_global_role(
    db: &Db,
    person: i64,
    role: GlobalRole,
    scope: &str,
    by: Option<i64>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    repo::grant_global_role(
        &mut tx,
        person,
        role,
        scope,
        by,
        relais_domain::calendrier::now_ms(),
    )
    .await?;
    let mut entry = about_person(JournalAction::RoleGranted, person)
        .with_details(format!("{{\"role\":\"{}\"}}", role.as_str()));
    if let Some(by) = by {
        entry = entry.by(by, None);
    }
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await
}
