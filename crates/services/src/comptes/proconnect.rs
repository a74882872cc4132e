//! ProConnect login: Relais as an OpenID Connect client (authorization code with PKCE S256).
//!
//! The login under way is kept in the database (keyed by the SHA-256 of `state`), so that any
//! instance can serve the callback; it is single use and lives 10 minutes. The callback checks
//! the `iss` parameter (RFC 9207), exchanges the code, verifies the ID token (signature with
//! the provider's keys, issuer, audience, expiry, issue time, nonce; 60 s of clock leeway at
//! most), reads userinfo and requires the same subject, then opens a session as the local
//! login does: aidants and administrators still give their second factor.
//!
//! The provider's metadata (discovery document and signing keys) is kept for
//! `METADATA_LIFETIME`, and fetched again at once when an ID token is signed by a key it does
//! not hold (the provider rotated its keys). Starting a login is limited per IP address, as
//! the password login is: each start writes a row.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdTokenVerifier,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse,
};
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{GlobalRole, Role};
use relais_domain::ids::PersonId;
use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::comptes::proconnect::{self as oidc, PendingLogin};
use relais_store::comptes::sessions;
use relais_store::comptes::{self as repo, Person};
use relais_store::{Db, StoreError, journal};

use crate::comptes::{Client, Opened, Policy, open_session, sha256_hex};

/// How long a login sent to the provider may take to come back.
pub const LOGIN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// The most the provider's clock and ours may disagree on `exp` and `iat`.
pub const CLOCK_LEEWAY: Duration = Duration::from_secs(60);
/// How long the provider's discovery document and keys are reused before being fetched again.
pub const METADATA_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// What Relais asks ProConnect for.
pub const SCOPES: [&str; 5] = ["email", "given_name", "usual_name", "siret", "uid"];

/// Settings of the ProConnect client. The secret is never shown by `Debug`.
#[derive(Clone)]
pub struct ProConnectConfig {
    /// The provider's issuer, e.g. `https://auth.agentconnect.gouv.fr/api/v2`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// `{public_url}/auth/proconnect/callback`, as registered with the provider.
    pub redirect_uri: String,
}

impl fmt::Debug for ProConnectConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProConnectConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// The ProConnect client: settings, an HTTP client that follows no redirect, and the
/// provider's metadata while it is fresh (shared by the clones).
#[derive(Debug, Clone)]
pub struct ProConnect {
    config: ProConnectConfig,
    http: openidconnect::reqwest::Client,
    metadata: Arc<tokio::sync::Mutex<Option<Fetched>>>,
}

/// The provider's metadata and keys, and when they were fetched.
#[derive(Debug, Clone)]
struct Fetched {
    metadata: CoreProviderMetadata,
    at: Instant,
}

type Oidc = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

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

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

impl ProConnect {
    pub fn new(config: ProConnectConfig) -> Result<ProConnect, String> {
        IssuerUrl::new(config.issuer.clone())
            .map_err(|e| format!("proconnect_issuer n’est pas une URL valide : {e}"))?;
        RedirectUrl::new(config.redirect_uri.clone())
            .map_err(|e| format!("public_url ne donne pas une URL de retour valide : {e}"))?;
        let http = openidconnect::reqwest::ClientBuilder::new()
            // No redirect: a provider must answer itself (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("client HTTP : {e}"))?;
        Ok(ProConnect {
            config,
            http,
            metadata: Arc::default(),
        })
    }

    pub fn config(&self) -> &ProConnectConfig {
        &self.config
    }

    /// The client, from the provider's metadata: the cached copy while younger than
    /// `METADATA_LIFETIME` and not older than `stale` (the copy that did not know a key),
    /// else a fresh discovery. Also returns when that metadata was fetched.
    async fn client(&self, stale: Option<Instant>) -> Result<(Oidc, Instant), ProConnectError> {
        // Held during the discovery, so that concurrent logins wait for one fetch.
        let mut cached = self.metadata.lock().await;
        let fetched = match cached.as_ref() {
            Some(f) if f.at.elapsed() < METADATA_LIFETIME && stale.is_none_or(|s| f.at > s) => {
                f.clone()
            }
            _ => {
                let fetched = Fetched {
                    metadata: self.discover().await?,
                    at: Instant::now(),
                };
                *cached = Some(fetched.clone());
                fetched
            }
        };
        drop(cached);
        Ok((self.client_from(fetched.metadata)?, fetched.at))
    }

    /// Discovery: the metadata, then the keys (`jwks_uri`).
    async fn discover(&self) -> Result<CoreProviderMetadata, ProConnectError> {
        let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| {
            tracing::error!(error = %e, "proconnect_issuer invalide");
            ProConnectError::Unavailable
        })?;
        CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "découverte ProConnect impossible");
                ProConnectError::Unavailable
            })
    }

    fn client_from(&self, metadata: CoreProviderMetadata) -> Result<Oidc, ProConnectError> {
        let redirect = RedirectUrl::new(self.config.redirect_uri.clone()).map_err(|e| {
            tracing::error!(error = %e, "URL de retour ProConnect invalide");
            ProConnectError::Unavailable
        })?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }
}

fn ip_bucket(ip: &str) -> String {
    format!("proconnect-ip:{ip}")
}

/// Starts a login: records it and returns the provider's authorization URL. At most
/// `policy.ip_attempts` starts per IP address within `policy.window`.
pub async fn begin(
    db: &Db,
    pc: &ProConnect,
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
    let (client, _) = pc.client(None).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in SCOPES {
        request = request.add_scope(Scope::new(scope.to_string()));
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    oidc::purge_expired(db, now - ms(LOGIN_LIFETIME)).await?;
    oidc::create_login(
        db,
        &PendingLogin {
            state_hash: sha256_hex(state.secret()),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next_path: next.to_string(),
            created_at: now,
        },
    )
    .await?;
    Ok(url.to_string())
}

/// Completes a login from the provider's callback.
pub async fn complete(
    db: &Db,
    pc: &ProConnect,
    callback: &Callback,
    client_info: &Client,
) -> Result<Completed, ProConnectError> {
    let state = callback
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(ProConnectError::UnknownState)?;
    let now = relais_domain::calendrier::now_ms();
    let login = oidc::take_login(db, &sha256_hex(state), now - ms(LOGIN_LIFETIME))
        .await?
        .ok_or(ProConnectError::UnknownState)?;
    if callback.error.is_some() {
        return Err(ProConnectError::Denied);
    }
    if callback.iss.as_deref() != Some(pc.config.issuer.as_str()) {
        return Err(ProConnectError::WrongIssuer);
    }
    let code = callback
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or(ProConnectError::Denied)?;

    let (mut client, fetched_at) = pc.client(None).await?;
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| {
            tracing::error!(error = %e, "ProConnect sans point d’accès jeton");
            ProConnectError::Unavailable
        })?
        .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.clone()))
        .request_async(&pc.http)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => {
                tracing::warn!(error = %r.error(), "code ProConnect refusé");
                ProConnectError::CodeRejected
            }
            e => {
                tracing::warn!(error = %e, "échange du code ProConnect impossible");
                ProConnectError::Unavailable
            }
        })?;

    let id_token = token.id_token().ok_or(ProConnectError::InvalidIdToken)?;
    let nonce = Nonce::new(login.nonce.clone());
    let first = id_token.claims(&id_token_verifier(&client), &nonce);
    let claims = match first {
        // A key we do not hold: the provider may have rotated its keys since our copy, so
        // fetch them again, once. (The token comes from the provider's token endpoint, not
        // from the browser, so nobody else can make us fetch.)
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            tracing::info!("clé de signature ProConnect inconnue : nouvelle découverte");
            (client, _) = pc.client(Some(fetched_at)).await?;
            id_token.claims(&id_token_verifier(&client), &nonce)
        }
        other => other,
    }
    .map_err(|e| {
        tracing::warn!(error = %e, "jeton d’identité ProConnect refusé");
        ProConnectError::InvalidIdToken
    })?;
    let sub = claims.subject().clone();

    let userinfo: openidconnect::UserInfoClaims<ProConnectClaims, CoreGenderClaim> = client
        .user_info(token.access_token().clone(), Some(sub.clone()))
        .map_err(|e| {
            tracing::error!(error = %e, "ProConnect sans point d’accès userinfo");
            ProConnectError::Unavailable
        })?
        .request_async(&pc.http)
        .await
        .map_err(|e| match e {
            openidconnect::UserInfoError::ClaimsVerification(e) => {
                tracing::warn!(error = %e, "userinfo ProConnect refusé");
                ProConnectError::SubjectMismatch
            }
            e => {
                tracing::warn!(error = %e, "userinfo ProConnect illisible");
                ProConnectError::Unavailable
            }
        })?;
    if userinfo.subject() != &sub {
        return Err(ProConnectError::SubjectMismatch);
    }
    let email = userinfo
        .email()
        .map(|e| e.as_str().trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .ok_or(ProConnectError::NoEmail)?;

    let person = find_person(db, sub.as_str(), &email).await?;
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
        Some(known) if known == sub.as_str() => {}
        Some(_) => return refuse(ProConnectError::OtherIdentity).await,
        None => link(db, person.id, sub.as_str()).await?,
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

/// Checks of the ID token: signature (RS256 or ES256) with the provider's keys, issuer,
/// audience, nonce, and `exp` and `iat` within `CLOCK_LEEWAY` of our clock.
fn id_token_verifier(client: &Oidc) -> CoreIdTokenVerifier<'_> {
    let leeway = chrono::Duration::from_std(CLOCK_LEEWAY).expect("small duration");
    client
        .id_token_verifier()
        .set_allowed_algs([
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        ])
        // `exp` may be passed by the leeway at most.
        .set_time_fn(move || Utc::now() - leeway)
        // `iat` may be ahead of our clock by the leeway at most.
        .set_issue_time_verifier_fn(move |iat| {
            if iat > Utc::now() + leeway {
                Err(format!("iat {iat} dans le futur"))
            } else {
                Ok(())
            }
        })
}
