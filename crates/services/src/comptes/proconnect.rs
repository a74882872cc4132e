//! ProConnect login: agents log in through the generic OpenID Connect client
//! (`crate::oidc_client`), then a session opens as the local login does: aidants and
//! administrators still give their second factor.
//!
//! The login under way is kept in the database (keyed by the SHA-256 of `state`), so that any
//! instance can serve the callback; it is single use and lives 10 minutes. The callback checks
//! the `iss` parameter (RFC 9207) before the exchange. Starting a login is limited per IP
//! address, as the password login is: each start writes a row.

use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{GlobalRole, Role};
use relais_domain::ids::PersonId;
use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::comptes::proconnect as oidc;
use relais_store::comptes::sessions;
use relais_store::comptes::{self as repo, Person};
use relais_store::oidc_client::{self as logins, PendingLogin, Provider};
use relais_store::{Db, StoreError, journal};

use crate::comptes::{Client, Opened, Policy, open_session, sha256_hex};
use crate::oidc_client::{LOGIN_LIFETIME, OidcClient, OidcError};

/// What Relais asks ProConnect for.
pub const SCOPES: [&str; 5] = ["email", "given_name", "usual_name", "siret", "uid"];

/// Why a ProConnect login was refused. The messages are shown to people as they are.
#[derive(Debug, thiserror::Error)]
pub enum ProConnectError {
    #[error(
        "Cette demande de connexion est inconnue, a déjà servi ou a expiré (elle vaut 10 minutes). Recommencez la connexion avec ProConnect."
    )]
    UnknownState,
    #[error(
        "ProConnect n’a pas autorisé la connexion (la demande a peut-être été annulée). Recommencez la connexion avec ProConnect."
    )]
    Denied,
    #[error(
        "La réponse de connexion ne vient pas du fournisseur d’identité attendu : par sécurité, la connexion est refusée."
    )]
    WrongIssuer,
    #[error(
        "ProConnect est injoignable ou a répondu de façon inattendue. Réessayez dans quelques minutes."
    )]
    Unavailable,
    #[error(
        "ProConnect a refusé le code de connexion (il a peut-être déjà servi ou expiré). Recommencez la connexion avec ProConnect."
    )]
    CodeRejected,
    #[error(
        "L’identité transmise par ProConnect n’a pas pu être vérifiée (signature, émetteur, destinataire, date de validité ou jeton à usage unique incorrects) : par sécurité, la connexion est refusée."
    )]
    InvalidIdToken,
    #[error(
        "Les informations transmises par ProConnect ne concernent pas la personne authentifiée : par sécurité, la connexion est refusée."
    )]
    SubjectMismatch,
    #[error("ProConnect n’a pas transmis d’adresse électronique : la connexion est impossible.")]
    NoEmail,
    #[error(
        "Aucun compte Relais n’est associé à cette adresse : demandez une invitation au référent de votre structure."
    )]
    NoAccount,
    #[error("Ce compte Relais est désactivé : adressez-vous au référent de votre structure.")]
    Deactivated,
    #[error(
        "Ce compte est verrouillé pendant quelques minutes après trop d’essais. Réessayez plus tard, ou demandez à votre référent de le déverrouiller."
    )]
    Locked,
    #[error(
        "Ce compte Relais est déjà associé à une autre identité ProConnect : adressez-vous au référent de votre structure."
    )]
    OtherIdentity,
    #[error("Trop de tentatives de connexion depuis votre réseau : réessayez dans 15 minutes.")]
    TooManyFromAddress,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<OidcError> for ProConnectError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::Unavailable => ProConnectError::Unavailable,
            OidcError::CodeRejected => ProConnectError::CodeRejected,
            OidcError::InvalidIdToken => ProConnectError::InvalidIdToken,
            OidcError::SubjectMismatch => ProConnectError::SubjectMismatch,
        }
    }
}

fn ms(d: std::time::Duration) -> i64 {
    d.as_millis() as i64
}

/// ProConnect's own claims beside the standard ones: the organisation the agent works for.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct ProConnectClaims {
    #[serde(default)]
    siret: Option<String>,
}

impl openidconnect::AdditionalClaims for ProConnectClaims {}

/// What the provider sent back to the callback.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
}

/// A ProConnect login that opened a session.
#[derive(Debug, Clone)]
pub struct Completed {
    pub opened: Opened,
    /// The path of this site to go to once logged in.
    pub next: String,
}

fn ip_bucket(ip: &str) -> String {
    format!("proconnect-ip:{ip}")
}

/// Starts a login: records it and returns the provider's authorization URL. At most
/// `policy.ip_attempts` starts per IP address within `policy.window`.
pub async fn begin(
    db: &Db,
    pc: &OidcClient,
    policy: &Policy,
    client_info: &Client,
    next: &str,
) -> Result<String, ProConnectError> {
    let now = relais_domain::calendrier::now_ms();
    let window = ms(policy.window);
    let bucket = ip_bucket(&client_info.ip);
    if !sessions::admit(db, &bucket, now, window, policy.ip_attempts).await? {
        return Err(ProConnectError::TooManyFromAddress);
    }
    let started = pc.start(&SCOPES, None).await?;
    logins::purge_expired(db, now - ms(LOGIN_LIFETIME)).await?;
    logins::create_login(
        db,
        &PendingLogin {
            provider: Provider::ProConnect,
            state_hash: sha256_hex(&started.state),
            nonce: started.nonce,
            pkce_verifier: started.pkce_verifier,
            next_path: next.to_string(),
            brouillon: None,
            created_at: now,
        },
    )
    .await?;
    Ok(started.url)
}

/// Completes a login from the provider's callback.
pub async fn complete(
    db: &Db,
    pc: &OidcClient,
    callback: &Callback,
    client_info: &Client,
) -> Result<Completed, ProConnectError> {
    let state = callback
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(ProConnectError::UnknownState)?;
    let now = relais_domain::calendrier::now_ms();
    let login = logins::take_login(
        db,
        Provider::ProConnect,
        &sha256_hex(state),
        now - ms(LOGIN_LIFETIME),
    )
    .await?
    .ok_or(ProConnectError::UnknownState)?;
    if callback.error.is_some() {
        return Err(ProConnectError::Denied);
    }
    if callback.iss.as_deref() != Some(pc.config().issuer.as_str()) {
        return Err(ProConnectError::WrongIssuer);
    }
    let code = callback
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or(ProConnectError::Denied)?;

    let verified = pc
        .finish::<ProConnectClaims>(code, &login.pkce_verifier, &login.nonce)
        .await?;
    let (sub, userinfo) = (verified.sub, verified.userinfo);
    let email = userinfo
        .email()
        .map(|e| e.as_str().trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .ok_or(ProConnectError::NoEmail)?;

    let person = find_person(db, &sub, &email).await?;
    let refuse = |e: ProConnectError| async {
        journal_failure(db, person.id).await?;
        Err::<Completed, _>(e)
    };
    if person.deactivated_at.is_some() {
        return refuse(ProConnectError::Deactivated).await;
    }
    if person.locked_until.is_some_and(|until| until > now) {
        return refuse(ProConnectError::Locked).await;
    }
    match person.proconnect_sub.as_deref() {
        Some(known) if known == sub => {}
        Some(_) => return refuse(ProConnectError::OtherIdentity).await,
        None => link(db, person.id, &sub).await?,
    }
    // The organisation ProConnect vouches for at this login (a person changes jobs): with
    // it they may claim an imported structure of that SIRET that has no référent.
    let siret = userinfo
        .additional_claims()
        .siret
        .as_deref()
        .and_then(|s| relais_domain::comptes::Siret::parse(s).ok());
    if person.proconnect_siret.as_deref()
        != siret.as_ref().map(relais_domain::comptes::Siret::as_str)
    {
        oidc::set_proconnect_siret(
            db,
            person.id,
            siret.as_ref().map(relais_domain::comptes::Siret::as_str),
        )
        .await?;
    }

    let stage = if needs_second_factor(db, &person).await? {
        if person.totp_enrolled_at.is_some() {
            Stage::SecondFactor
        } else {
            Stage::Enrolment
        }
    } else {
        Stage::Active
    };
    let opened = open_session(db, person.id, stage, client_info).await?;
    if stage == Stage::Active {
        let mut tx = db.begin().await?;
        journal::append(
            &mut tx,
            &NewEntry::new(
                JournalAction::LoginSucceeded,
                "personne",
                person.id.to_string(),
            )
            .by(person.id, None)
            .with_details("{\"via\":\"proconnect\"}"),
        )
        .await?;
        relais_store::commit(tx).await?;
    }
    Ok(Completed {
        opened,
        next: login.next_path,
    })
}

/// By subject first; else by address (the account is linked at its first ProConnect login).
async fn find_person(db: &Db, sub: &str, email: &str) -> Result<Person, ProConnectError> {
    if let Some(p) = oidc::person_by_proconnect_sub(db, sub).await? {
        return Ok(p);
    }
    repo::person_by_email(db, email)
        .await?
        .ok_or(ProConnectError::NoAccount)
}

async fn link(db: &Db, person: PersonId, sub: &str) -> Result<(), ProConnectError> {
    let mut tx = db.begin().await?;
    oidc::link_proconnect(&mut tx, person, sub)
        .await
        .map_err(|e| match e {
            StoreError::Duplicate(_) => ProConnectError::OtherIdentity,
            e => e.into(),
        })?;
    journal::append(
        &mut tx,
        &NewEntry::new(
            JournalAction::ProConnectLinked,
            "personne",
            person.to_string(),
        )
        .by(person, None),
    )
    .await?;
    relais_store::commit(tx).await?;
    Ok(())
}

async fn journal_failure(db: &Db, person: PersonId) -> Result<(), ProConnectError> {
    let mut tx = db.begin().await?;
    journal::append(
        &mut tx,
        &NewEntry::new(JournalAction::LoginFailed, "personne", person.to_string())
            .with_details("{\"via\":\"proconnect\"}"),
    )
    .await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// Aidants and national administrators give their second factor whatever the login.
async fn needs_second_factor(db: &Db, person: &Person) -> Result<bool, StoreError> {
    let aidant = repo::memberships_of(db, person.id)
        .await?
        .iter()
        .any(|m| m.role == Role::Aidant);
    let admin = repo::global_roles_of(db, person.id)
        .await?
        .iter()
        .any(|g| g.role == GlobalRole::Administrateur);
    Ok(aidant || admin)
}
