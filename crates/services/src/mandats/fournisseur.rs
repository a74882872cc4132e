//! Relais as an OpenID Connect provider for démarche services: an habilitated aidant, in a
//! démarche, picks the usager they act for among those whose mandate covers the démarche's
//! family; the démarche receives the usager's identity and claims naming the aidant, the
//! structure and the family.
//!
//! Authorization code flow with PKCE S256 (required), `state` and `nonce` required, codes
//! single use and valid 60 s (a replayed code is refused, revokes the tokens issued from it,
//! and is journaled), ID tokens signed with Ed25519 (EdDSA) by keys rotated with overlap,
//! access tokens of 5 minutes, `/userinfo` re-checking the authorization at every call,
//! exact `redirect_uri`, client secrets kept as SHA-256, per-client démarche families. The
//! checks that need no database are in `relais_domain::mandats::fournisseur`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{TimeZone, Utc};
use openidconnect::core::{
    CoreEdDsaPrivateSigningKey, CoreGenderClaim, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    Audience, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey,
    StandardClaims, SubjectIdentifier,
};
use rand::Rng;
use relais_domain::authz::AidantAccess;
use relais_domain::ids::{AutorisationId, PersonId, StructureId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_domain::mandats::Demarche;
use relais_domain::mandats::fournisseur::{
    self as regles, ClientError, JETON_VALIDITE_MS, PUBLICATION_CLE_MS, ROTATION_CLE_MS, Refus,
    SCOPES_IDENTITE,
};
use relais_store::mandats::fournisseur::{
    self as repo, AutorisationUtilisable, Cle, Client, Code, Contexte,
};
use relais_store::{Db, StoreError, journal};
use serde::Serialize;

use crate::comptes::sha256_hex;

/// How long a client or the signing keys read from the store are used before reading them
/// again. Clients are never edited, only registered; a key signs an hour after it is made
/// and stays published an hour after it is retired: a minute-old copy is always right.
const MEMOIRE_MS: i64 = 60_000;

/// The provider: its issuer, `{public_url}/oidc`, and the clients and signing keys it read
/// last (every request of a login needs the client, every `/token` the keys: kept a minute
/// rather than read each time).
#[derive(Debug)]
pub struct Fournisseur {
    pub issuer: String,
    clients: Mutex<HashMap<String, (i64, Client)>>,
    cles: Mutex<Option<(i64, Vec<Cle>)>>,
}

impl Fournisseur {
    pub fn new(public_url: &str) -> Fournisseur {
        Fournisseur {
            issuer: format!("{}/oidc", public_url.trim_end_matches('/')),
            clients: Mutex::default(),
            cles: Mutex::default(),
        }
    }

    /// The active client `client_id`, from memory if read less than a minute ago.
    async fn client(
        &self,
        db: &Db,
        client_id: &str,
        now: i64,
    ) -> Result<Option<Client>, StoreError> {
        let known = lock(&self.clients)
            .get(client_id)
            .filter(|(at, _)| now - at < MEMOIRE_MS)
            .map(|(_, c)| c.clone());
        if let Some(c) = known {
            return Ok(Some(c));
        }
        let found = repo::client(db, client_id)
            .await?
            .filter(|c| c.desactive_le.is_none());
        let mut clients = lock(&self.clients);
        match &found {
            Some(c) => clients.insert(client_id.to_string(), (now, c.clone())),
            None => clients.remove(client_id),
        };
        Ok(found)
    }

    /// The signing keys, from memory if read less than a minute ago.
    async fn cles(&self, db: &Db, now: i64) -> Result<Vec<Cle>, StoreError> {
        if let Some((at, cles)) = lock(&self.cles).as_ref()
            && now - at < MEMOIRE_MS
        {
            return Ok(cles.clone());
        }
        let cles = repo::cles(db).await?;
        *lock(&self.cles) = Some((now, cles.clone()));
        Ok(cles)
    }

    /// The discovery document (`/oidc/.well-known/openid-configuration`).
    pub fn discovery(&self) -> serde_json::Value {
        let i = &self.issuer;
        let mut scopes = vec!["openid"];
        scopes.extend(Demarche::ALL.iter().map(|d| d.code()));
        scopes.extend(SCOPES_IDENTITE);
        serde_json::json!({
            "issuer": i,
            "authorization_endpoint": format!("{i}/authorize"),
            "token_endpoint": format!("{i}/token"),
            "userinfo_endpoint": format!("{i}/userinfo"),
            "jwks_uri": format!("{i}/jwks"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": scopes,
            "claims_supported": [
                "sub", "given_name", "family_name", "birthdate", "birthplace", "birthcountry",
                "gender", "email", "aidant", "structure_siret", "structure_nom", "demarche"
            ],
            "authorization_response_iss_parameter_supported": true,
        })
    }
}

/// A lock on a cache: a thread that panicked while holding it left nothing half written
/// (each is replaced whole), so its content is still good.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

// --- keys --------------------------------------------------------------------------------

/// A new Ed25519 key, PKCS#8 in PEM (as `from_ed25519_pem` reads it).
fn new_cle(now: i64) -> Result<Cle, StoreError> {
    let rng = ring::rand::SystemRandom::new();
    let der = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
        .map_err(|_| StoreError::Corrupt("génération de clé Ed25519 impossible".into()))?;
    let b64 = data_encoding::BASE64.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    let kid_bytes: [u8; 12] = rand::rng().random();
    Ok(Cle {
        kid: data_encoding::BASE64URL_NOPAD.encode(&kid_bytes),
        pem,
        created_at: now,
        retired_at: None,
    })
}

fn signing_key(cle: &Cle) -> Result<CoreEdDsaPrivateSigningKey, StoreError> {
    CoreEdDsaPrivateSigningKey::from_ed25519_pem(&cle.pem, Some(JsonWebKeyId::new(cle.kid.clone())))
        .map_err(|e| StoreError::Corrupt(format!("clé OIDC {} illisible : {e}", cle.kid)))
}

/// The key that signs at `now`: the newest one published for `PUBLICATION_CLE_MS`, else
/// (a new instance, or every key too new) the oldest not retired.
fn signataire(cles: &[Cle], now: i64) -> Option<&Cle> {
    let active: Vec<&Cle> = cles.iter().filter(|c| c.retired_at.is_none()).collect();
    active
        .iter()
        .rev()
        .find(|c| c.created_at <= now - PUBLICATION_CLE_MS)
        .or_else(|| active.first())
        .copied()
}

/// Keeps the keys turning: a first key if there is none; the next key made when the one
/// signing is older than `ROTATION_CLE_MS`; keys replaced for `PUBLICATION_CLE_MS`
/// retired; keys retired for longer than a token lives (plus the overlap) deleted.
pub async fn tourner_cles(db: &Db, now: i64) -> Result<(), StoreError> {
    let cles = repo::cles(db).await?;
    let Some(current) = signataire(&cles, now).cloned() else {
        return repo::create_cle(db, &new_cle(now)?).await;
    };
    let newest = cles
        .iter()
        .filter(|c| c.retired_at.is_none())
        .map(|c| c.created_at)
        .max();
    if newest == Some(current.created_at) && current.created_at <= now - ROTATION_CLE_MS {
        repo::create_cle(db, &new_cle(now)?).await?;
    }
    let replaced: Vec<String> = cles
        .iter()
        .filter(|c| c.retired_at.is_none() && c.created_at < current.created_at)
        .filter(|_| current.created_at <= now - PUBLICATION_CLE_MS)
        .map(|c| c.kid.clone())
        .collect();
    repo::retire_cles(db, &replaced, now).await?;
    repo::delete_retired_cles(db, now - JETON_VALIDITE_MS - PUBLICATION_CLE_MS).await?;
    Ok(())
}

/// The published keys (`/oidc/jwks`): every key not deleted, retired ones included.
pub async fn jwks(db: &Db) -> Result<CoreJsonWebKeySet, StoreError> {
    let keys = repo::cles(db)
        .await?
        .iter()
        .map(|c| signing_key(c).map(|k| k.as_verification_key()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CoreJsonWebKeySet::new(keys))
}

// --- clients -----------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
pub enum ClientRegistrationError {
    #[error("{0}")]
    Regle(#[from] ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A démarche service registered: its identifier and its secret, shown this once.
#[derive(Debug, Clone)]
pub struct ClientEnregistre {
    pub client_id: String,
    pub secret: String,
}

/// Registers a démarche service (an administrator, `by`, or the command line, `None`).
pub async fn enregistrer_client(
    db: &Db,
    by: Option<PersonId>,
    nom: &str,
    redirections: &str,
    demarches: &[&str],
    now: i64,
) -> Result<ClientEnregistre, ClientRegistrationError> {
    let nom = nom.trim();
    if nom.is_empty() {
        return Err(ClientError::SansNom.into());
    }
    let uris = regles::redirections(redirections)?;
    let demarches: Vec<Demarche> = regles::demarches_du_client(demarches)?
        .into_iter()
        .collect();
    let id_bytes: [u8; 12] = rand::rng().random();
    let client_id = format!(
        "relais-{}",
        data_encoding::BASE32_NOPAD.encode(&id_bytes).to_lowercase()
    );
    let secret = random_token();
    let client = Client {
        client_id: client_id.clone(),
        nom: nom.to_string(),
        secret_hash: sha256_hex(&secret),
        redirect_uris: uris,
        demarches,
        created_at: now,
        desactive_le: None,
    };
    let mut tx = db.begin().await?;
    repo::create_client(&mut tx, &client).await?;
    let details = serde_json::json!({
        "nom": client.nom,
        "redirect_uris": client.redirect_uris,
        "demarches": client.demarches.iter().map(|d| d.code()).collect::<Vec<_>>(),
    });
    let mut entry = NewEntry::new(
        JournalAction::OidcClientRegistered,
        "client_oidc",
        &client_id,
    )
    .with_details(details.to_string());
    if let Some(by) = by {
        entry = entry.by(by, None);
    }
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(ClientEnregistre { client_id, secret })
}

/// The registered démarche services, for a national administrator.
pub async fn clients(
    db: &Db,
    _admin: &relais_domain::authz::AdminAccess,
) -> Result<Vec<Client>, StoreError> {
    repo::clients(db).await
}

// --- /authorize --------------------------------------------------------------------------

/// The parameters of `/oidc/authorize`, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// Why `/authorize` did not go on.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// Told to the person, never sent back: the client or its redirect URI is unknown, so
    /// the address to send an error to cannot be trusted.
    #[error("{0}")]
    Affiche(String),
    /// Sent back to the démarche's redirect URI.
    #[error("{description}")]
    Renvoi {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A request of `/authorize` that passed every check.
#[derive(Debug, Clone)]
pub struct Demande {
    pub client: Client,
    pub redirect_uri: String,
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
    pub scope: String,
    pub demarche: Demarche,
}

impl Fournisseur {
    /// The démarche's address with the answer in its query (`code` or `error`), `state`
    /// and `iss` (RFC 9207).
    pub fn renvoi(&self, redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        all.push(("iss", &self.issuer));
        let query = serde_urlencoded::to_string(&all).unwrap_or_default();
        let sep = if redirect_uri.contains('?') { '&' } else { '?' };
        format!("{redirect_uri}{sep}{query}")
    }
}

/// Checks a request of `/authorize`: the client and its exact redirect URI first (else
/// nothing is sent back), then the rest (sent back as an OAuth error).
pub async fn verifier_demande(
    db: &Db,
    f: &Fournisseur,
    p: &AuthorizeParams,
    now: i64,
) -> Result<Demande, AuthorizeError> {
    let unknown = || {
        AuthorizeError::Affiche(
        "Ce service de démarches n’est pas enregistré auprès de Relais, ou son adresse de retour ne correspond pas : par sécurité, Relais ne lui répond pas.".to_string(),
    )
    };
    let client_id = p.client_id.as_deref().ok_or_else(unknown)?;
    let client = f.client(db, client_id, now).await?.ok_or_else(unknown)?;
    let redirect_uri = p.redirect_uri.clone().ok_or_else(unknown)?;
    regles::redirection(&redirect_uri, &client.redirect_uris).map_err(|_| unknown())?;
    let renvoi = |refus: Refus| AuthorizeError::Renvoi {
        redirect_uri: redirect_uri.clone(),
        state: p.state.clone(),
        error: refus.code_oauth(),
        description: refus.to_string(),
    };
    if p.response_type.as_deref() != Some("code") {
        return Err(AuthorizeError::Renvoi {
            redirect_uri: redirect_uri.clone(),
            state: p.state.clone(),
            error: "unsupported_response_type",
            description: "seul response_type=code est accepté".to_string(),
        });
    }
    let permises = client.demarches.iter().copied().collect();
    let scope = p.scope.clone().unwrap_or_default();
    let demarche = regles::portee(&scope, &permises, &SCOPES_IDENTITE).map_err(renvoi)?;
    let code_challenge = regles::defi(
        p.code_challenge_method.as_deref(),
        p.code_challenge.as_deref(),
    )
    .map_err(renvoi)?;
    let state = p
        .state
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| renvoi(Refus::SansState))?;
    let nonce = p
        .nonce
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| renvoi(Refus::SansNonce))?;
    Ok(Demande {
        client,
        redirect_uri,
        state,
        nonce,
        code_challenge,
        scope,
        demarche,
    })
}

/// The usagers the aidant may act for in this démarche: active authorizations for its
/// family, in the structures where they are an aidant.
pub async fn usagers(
    db: &Db,
    access: &AidantAccess,
    demarche: Demarche,
    now: i64,
) -> Result<Vec<AutorisationUtilisable>, StoreError> {
    repo::utilisables(db, access.structures(), demarche, now).await
}

/// The aidant chose the usager of `autorisation`: a code is issued and the use journaled
/// for the structure. Returns the démarche's address to send the browser to.
pub async fn autoriser(
    db: &Db,
    f: &Fournisseur,
    access: &AidantAccess,
    demande: &Demande,
    autorisation: AutorisationId,
    now: i64,
) -> Result<String, AuthorizeError> {
    let chosen = repo::utilisable(db, autorisation)
        .await?
        .filter(|u| {
            let a = &u.autorisation;
            a.autorisation.demarche == demande.demarche
                && a.autorisation.active(now)
                && access.structures().contains(&a.structure)
        })
        .ok_or_else(|| {
            AuthorizeError::Affiche(
                "Ce mandat ne permet pas cette démarche, ou il a pris fin : choisissez un autre usager.".to_string(),
            )
        })?;
    let code = random_token();
    let a = &chosen.autorisation;
    let details = serde_json::json!({
        "mandat": a.mandat,
        "usager": a.usager,
        "demarche": a.autorisation.demarche.code(),
        "client": demande.client.client_id,
        "service": demande.client.nom,
    });
    let entry = NewEntry::new(JournalAction::MandatUsed, "autorisation", a.id.to_string())
        .by(access.person(), Some(a.structure))
        .in_structure(a.structure)
        .with_details(details.to_string());
    repo::issue_code(
        db,
        &Code {
            code_hash: sha256_hex(&code),
            client_id: demande.client.client_id.clone(),
            autorisation,
            aidant: access.person(),
            redirect_uri: demande.redirect_uri.clone(),
            code_challenge: demande.code_challenge.clone(),
            nonce: demande.nonce.clone(),
            scope: demande.scope.clone(),
            created_at: now,
        },
        &entry,
    )
    .await?;
    Ok(f.renvoi(
        &demande.redirect_uri,
        &[("code", &code), ("state", &demande.state)],
    ))
}

// --- /token ------------------------------------------------------------------------------

/// The client's credentials, from HTTP Basic or from the form.
#[derive(Debug, Clone, Default)]
pub struct ClientAuth {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// The form of `/oidc/token`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("authentification du client refusée")]
    InvalidClient,
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("seul grant_type=authorization_code est accepté")]
    UnsupportedGrantType,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TokenError {
    /// The `error` of the OAuth 2.0 answer.
    pub fn code_oauth(&self) -> &'static str {
        match self {
            TokenError::InvalidClient => "invalid_client",
            TokenError::InvalidGrant(_) => "invalid_grant",
            TokenError::InvalidRequest(_) => "invalid_request",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
            TokenError::Store(_) => "server_error",
        }
    }
}

/// The answer of `/oidc/token`.
#[derive(Debug, Clone, Serialize)]
pub struct TokenReponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub id_token: String,
    pub scope: String,
}

/// The claims naming who acts, in the ID token and at `/userinfo`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Acteur {
    /// The aidant's name.
    pub aidant: String,
    pub structure_siret: String,
    pub structure_nom: String,
    /// The démarche family (`social`, `papiers`…).
    pub demarche: String,
}

impl openidconnect::AdditionalClaims for Acteur {}

type RelaisIdToken =
    IdToken<Acteur, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// Checks that `auth` is a registered, active client with its secret (compared as hashes).
async fn client_authentifie(
    db: &Db,
    f: &Fournisseur,
    auth: &ClientAuth,
    now: i64,
) -> Result<Client, TokenError> {
    let (Some(id), Some(secret)) = (auth.client_id.as_deref(), auth.client_secret.as_deref())
    else {
        return Err(TokenError::InvalidClient);
    };
    let client = f
        .client(db, id, now)
        .await?
        .ok_or(TokenError::InvalidClient)?;
    // Hashes are compared, not secrets: the time a comparison takes can at most reveal the
    // hash, from which no one can find a 256-bit secret.
    if sha256_hex(secret) != client.secret_hash {
        return Err(TokenError::InvalidClient);
    }
    Ok(client)
}

fn acteur(c: &Contexte) -> Acteur {
    let u = &c.utilisable;
    Acteur {
        aidant: c.aidant_nom.clone(),
        structure_siret: u.structure_siret.clone(),
        structure_nom: u.structure_nom.clone(),
        demarche: u.autorisation.autorisation.demarche.code().to_string(),
    }
}

/// The checks of a presented code: its client, its redirect URI, its age, the PKCE
/// verifier, then the authorization and the aidant's role, still in force.
fn verifier_code(
    client: &Client,
    issued: &Code,
    contexte: Option<Contexte>,
    form: &TokenForm,
    now: i64,
) -> Result<Contexte, TokenError> {
    if issued.client_id != client.client_id {
        return Err(TokenError::InvalidGrant(
            "code émis pour un autre client".into(),
        ));
    }
    if form.redirect_uri.as_deref() != Some(issued.redirect_uri.as_str()) {
        return Err(TokenError::InvalidGrant(
            "redirect_uri différent de celui de la demande".into(),
        ));
    }
    regles::code_valide(issued.created_at, now)
        .and_then(|()| regles::verifier(form.code_verifier.as_deref(), &issued.code_challenge))
        .map_err(|r| TokenError::InvalidGrant(r.to_string()))?;
    let contexte = contexte
        .filter(|c| c.utilisable.autorisation.autorisation.active(now))
        .ok_or_else(|| {
            TokenError::InvalidGrant("le mandat ne couvre plus cette démarche".into())
        })?;
    if !contexte.encore_aidant {
        return Err(TokenError::InvalidGrant(
            "l’aidant n’est plus habilité dans cette structure".into(),
        ));
    }
    Ok(contexte)
}

/// A code presented again: the tokens issued from it are revoked and the replay is
/// journaled in `structure`, the mandate's, whose référents watch it.
async fn replay(
    db: &Db,
    client: &Client,
    issued: &Code,
    structure: Option<StructureId>,
    now: i64,
) -> Result<TokenError, StoreError> {
    let mut tx = db.begin().await?;
    let revoked = repo::revoke_jetons_of_code(&mut tx, &issued.code_hash, now).await?;
    let details = serde_json::json!({
        "client": client.client_id,
        "client_du_code": issued.client_id,
        "jetons_revoques": revoked,
    });
    let mut entry = NewEntry::new(
        JournalAction::CodeReplayRefused,
        "autorisation",
        issued.autorisation.to_string(),
    )
    .with_details(details.to_string());
    if let Some(s) = structure {
        entry = entry.in_structure(s);
    }
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(TokenError::InvalidGrant(
        "code déjà utilisé : les jetons émis avec lui sont révoqués".into(),
    ))
}

/// `/oidc/token`: the code exchanged for an access token and an ID token.
pub async fn jeton(
    db: &Db,
    f: &Fournisseur,
    auth: &ClientAuth,
    form: &TokenForm,
    now: i64,
) -> Result<TokenReponse, TokenError> {
    let client = client_authentifie(db, f, auth, now).await?;
    if form.grant_type.as_deref() != Some("authorization_code") {
        return Err(TokenError::UnsupportedGrantType);
    }
    let code = form
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| TokenError::InvalidRequest("code absent".into()))?;
    let code_hash = sha256_hex(code);
    let access_token = random_token();
    let token_hash = sha256_hex(&access_token);
    let expires_at = now + JETON_VALIDITE_MS;
    // The code is spent, and a token issued with it, before the checks: one statement on
    // the path every démarche takes. A code failing them stays spent and its token is
    // revoked at once (no one ever saw it).
    let exchanged = repo::exchange_code(db, &code_hash, &token_hash, expires_at, now).await?;
    let Some((issued, contexte)) = exchanged else {
        return Err(match repo::code(db, &code_hash).await? {
            Some((issued, Some(_), contexte)) => {
                let structure = contexte.map(|c| c.utilisable.autorisation.structure);
                replay(db, &client, &issued, structure, now).await?
            }
            _ => TokenError::InvalidGrant("code inconnu".into()),
        });
    };
    let contexte = match verifier_code(&client, &issued, contexte, form, now) {
        Ok(contexte) => contexte,
        Err(refus) => {
            let mut tx = db.begin().await?;
            repo::revoke_jetons_of_code(&mut tx, &code_hash, now).await?;
            relais_store::commit(tx).await?;
            return Err(refus);
        }
    };

    let cles = f.cles(db, now).await?;
    let cle = signataire(&cles, now)
        .ok_or_else(|| StoreError::Corrupt("aucune clé de signature OIDC".into()))?;
    let key = signing_key(cle)?;
    let at = |ms: i64| {
        Utc.timestamp_millis_opt(ms)
            .single()
            .unwrap_or_else(Utc::now)
    };
    let issuer = IssuerUrl::new(f.issuer.clone())
        .map_err(|e| StoreError::Corrupt(format!("émetteur OIDC « {} » : {e}", f.issuer)))?;
    let claims = IdTokenClaims::new(
        issuer,
        vec![Audience::new(client.client_id.clone())],
        at(expires_at),
        at(now),
        StandardClaims::new(SubjectIdentifier::new(regles::sub_pour(
            &client.client_id,
            &contexte.utilisable.usager_cle,
        ))),
        acteur(&contexte),
    )
    .set_nonce(Some(Nonce::new(issued.nonce.clone())));
    let id_token = RelaisIdToken::new(claims, &key, CoreJwsSigningAlgorithm::EdDsa, None, None)
        .map_err(|e| StoreError::Corrupt(format!("jeton d’identité non signé : {e}")))?;
    Ok(TokenReponse {
        access_token,
        token_type: "Bearer",
        expires_in: JETON_VALIDITE_MS / 1000,
        id_token: id_token.to_string(),
        scope: issued.scope,
    })
}

// --- /userinfo ---------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
pub enum UserinfoError {
    /// Unknown, expired or revoked token, or the authorization behind it ended.
    #[error("{0}")]
    InvalidToken(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `/oidc/userinfo`: the usager's identity (the scopes granted) and who acts, after checking
/// again that the token, the authorization and the aidant's role still hold.
pub async fn userinfo(db: &Db, bearer: &str, now: i64) -> Result<serde_json::Value, UserinfoError> {
    let (jeton, contexte) = repo::jeton(db, &sha256_hex(bearer))
        .await?
        .ok_or(UserinfoError::InvalidToken("jeton inconnu"))?;
    if jeton.revoked_at.is_some() {
        return Err(UserinfoError::InvalidToken("jeton révoqué"));
    }
    if jeton.expires_at <= now {
        return Err(UserinfoError::InvalidToken("jeton expiré"));
    }
    let contexte = contexte.ok_or(UserinfoError::InvalidToken("mandat inconnu"))?;
    let u = &contexte.utilisable;
    if !u.autorisation.autorisation.active(now) {
        return Err(UserinfoError::InvalidToken(
            "le mandat ne couvre plus cette démarche (révoqué ou expiré)",
        ));
    }
    if !contexte.encore_aidant {
        return Err(UserinfoError::InvalidToken(
            "l’aidant n’est plus habilité dans cette structure",
        ));
    }
    let acteur = acteur(&contexte);
    let mut claims = serde_json::Map::new();
    claims.insert(
        "sub".into(),
        regles::sub_pour(&jeton.client_id, &u.usager_cle).into(),
    );
    let granted: Vec<&str> = jeton.scope.split(' ').collect();
    let id = &u.usager;
    let values: [(&str, Option<&str>); 7] = [
        ("given_name", Some(&id.given_name)),
        ("family_name", Some(&id.family_name)),
        ("birthdate", Some(&id.birthdate)),
        ("birthplace", id.birthplace.as_deref()),
        ("birthcountry", id.birthcountry.as_deref()),
        ("gender", id.gender.as_deref()),
        ("email", id.email.as_deref()),
    ];
    for (name, value) in values {
        if let (true, Some(v)) = (granted.contains(&name), value) {
            claims.insert(name.into(), v.into());
        }
    }
    if let serde_json::Value::Object(extra) = serde_json::to_value(&acteur).unwrap_or_default() {
        claims.extend(extra);
    }
    Ok(serde_json::Value::Object(claims))
}

/// Forgets the codes and tokens no one can use any more.
pub async fn purger(db: &Db, now: i64) -> Result<(), StoreError> {
    repo::purge_codes(db, now - 24 * 60 * 60_000).await?;
    repo::purge_jetons(db, now - 24 * 60 * 60_000).await?;
    Ok(())
}
