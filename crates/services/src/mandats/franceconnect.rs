//! FranceConnect for the usagers: at mandate creation, for the aidant's draft, the usager
//! logs in on the aidant's screen and the callback records who they are in the draft (their
//! `sub` only as a salted hash); alone, the usager logs in to their space. The exchange
//! itself is `crate::oidc_client`'s.

use std::fmt;

use relais_domain::authz::StructureAccess;
use relais_domain::ids::{BrouillonId, PersonId, StructureId, UsagerId};
use relais_domain::mandats::cle_usager;
use relais_store::mandats::{self as repo, Identite, espace};
use relais_store::oidc_client::{self as logins, PendingLogin, Provider};
use relais_store::{Db, StoreError};

use super::MandatError;
use crate::comptes::sha256_hex;
use crate::oidc_client::{LOGIN_LIFETIME, OidcClient, OidcError};

/// What Relais asks FranceConnect for: the identity a mandate shows.
pub const SCOPES: [&str; 7] = [
    "given_name",
    "family_name",
    "birthdate",
    "birthplace",
    "birthcountry",
    "gender",
    "email",
];
/// The authentication level asked for, and those accepted in the ID token.
pub const ACR: &str = "eidas1";
const ACCEPTED_ACR: [&str; 3] = ["eidas1", "eidas2", "eidas3"];

/// The FranceConnect client and the salt of the usagers' keys (`cle_usager`): both come
/// from the configuration. Neither the secret nor the salt is shown by `Debug`.
#[derive(Clone)]
pub struct FranceConnect {
    pub client: OidcClient,
    sel: Vec<u8>,
}

impl fmt::Debug for FranceConnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FranceConnect")
            .field("client", &self.client)
            .field("sel", &"***")
            .finish()
    }
}

impl FranceConnect {
    /// `sel`: at least 32 bytes, kept secret and never changed (a new salt makes every
    /// usager a stranger).
    pub fn new(client: OidcClient, sel: Vec<u8>) -> Result<FranceConnect, String> {
        if sel.len() < 32 {
            return Err("le sel des usagers doit compter au moins 32 octets".into());
        }
        Ok(FranceConnect { client, sel })
    }
}

/// Why identifying the usager failed. The messages are shown to the aidant as they are.
#[derive(Debug, thiserror::Error)]
pub enum FranceConnectError {
    #[error(
        "Ce mandat en préparation est introuvable, déjà signé ou trop ancien (il vaut une heure) : recommencez."
    )]
    UnknownDraft,
    #[error(
        "Cette connexion FranceConnect est inconnue, a déjà servi ou a expiré (elle vaut 10 minutes). Recommencez la création du mandat."
    )]
    UnknownState,
    #[error(
        "L’usager n’a pas terminé la connexion avec FranceConnect (elle a peut-être été annulée). Recommencez l’identification."
    )]
    Denied,
    #[error(
        "La réponse ne vient pas de FranceConnect : par sécurité, l’identification est refusée."
    )]
    WrongIssuer,
    #[error(
        "FranceConnect est injoignable ou a répondu de façon inattendue. Réessayez dans quelques minutes."
    )]
    Unavailable,
    #[error(
        "FranceConnect a refusé le code de connexion (il a peut-être déjà servi ou expiré). Recommencez l’identification."
    )]
    CodeRejected,
    #[error(
        "L’identité transmise par FranceConnect n’a pas pu être vérifiée (signature, émetteur, destinataire, date de validité ou jeton à usage unique incorrects) : par sécurité, l’identification est refusée."
    )]
    InvalidIdToken,
    #[error(
        "Les informations transmises par FranceConnect ne concernent pas la personne authentifiée : par sécurité, l’identification est refusée."
    )]
    SubjectMismatch,
    #[error(
        "FranceConnect n’a pas garanti le niveau d’authentification demandé (eIDAS faible au moins) : l’identification est refusée."
    )]
    InsufficientLevel,
    #[error(
        "FranceConnect n’a pas transmis le nom, le prénom et la date de naissance de l’usager : le mandat ne peut pas être établi."
    )]
    MissingIdentity,
    #[error(
        "Aucun mandat n’a été établi à votre nom avec Relais : votre espace est vide. Si une structure vous a aidé, demandez-lui de vérifier le mandat."
    )]
    NoMandate,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<OidcError> for FranceConnectError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::Unavailable => FranceConnectError::Unavailable,
            OidcError::CodeRejected => FranceConnectError::CodeRejected,
            OidcError::InvalidIdToken => FranceConnectError::InvalidIdToken,
            OidcError::SubjectMismatch => FranceConnectError::SubjectMismatch,
        }
    }
}

/// FranceConnect's claims beside the standard ones: INSEE codes of the place and country of
/// birth.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct FranceConnectClaims {
    #[serde(default)]
    birthplace: Option<String>,
    #[serde(default)]
    birthcountry: Option<String>,
}

impl openidconnect::AdditionalClaims for FranceConnectClaims {}

/// What FranceConnect sent back to the callback.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
}

fn ms(d: std::time::Duration) -> i64 {
    d.as_millis() as i64
}

/// The usager identifies themselves for the draft `brouillon` of `access`'s aidant: the
/// login is kept, and the browser is sent to FranceConnect (the URL).
pub async fn commencer(
    db: &Db,
    fc: &FranceConnect,
    access: &StructureAccess,
    brouillon: BrouillonId,
    now: i64,
) -> Result<String, FranceConnectError> {
    let brouillon = super::brouillon_de(db, access, brouillon, now)
        .await
        .map_err(|e| match e {
            MandatError::Store(e) => FranceConnectError::Store(e),
            _ => FranceConnectError::UnknownDraft,
        })?;
    envoyer(db, fc, Some(brouillon.id), now).await
}

/// A login sent to FranceConnect, for a draft or (`None`) for the usager's space: kept
/// until the callback; the URL to send the browser to.
async fn envoyer(
    db: &Db,
    fc: &FranceConnect,
    brouillon: Option<BrouillonId>,
    now: i64,
) -> Result<String, FranceConnectError> {
    let started = fc.client.start(&SCOPES, Some(ACR)).await?;
    logins::purge_expired(db, now - ms(LOGIN_LIFETIME)).await?;
    logins::create_login(
        db,
        &PendingLogin {
            provider: Provider::FranceConnect,
            state_hash: sha256_hex(&started.state),
            nonce: started.nonce,
            pkce_verifier: started.pkce_verifier,
            next_path: if brouillon.is_some() { "" } else { "/usager" }.to_string(),
            brouillon: brouillon.map(|b| b.0),
            created_at: now,
        },
    )
    .await?;
    Ok(started.url)
}

/// Where FranceConnect's answer led.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retour {
    /// The usager was identified for the aidant's draft.
    Brouillon {
        structure: StructureId,
        brouillon: BrouillonId,
    },
    /// The usager logged in to their space.
    Espace { usager: UsagerId },
}

/// The usager logs in to their space: the browser is sent to FranceConnect (the URL).
pub async fn commencer_espace(
    db: &Db,
    fc: &FranceConnect,
    now: i64,
) -> Result<String, FranceConnectError> {
    envoyer(db, fc, None, now).await
}

/// FranceConnect's answer, verified. For a draft, the person of the session the callback
/// came in (`aidant`) must be the draft's aidant (else it is « unknown »), and the usager is
/// recorded in it. For the space, the usager must be known (someone a mandate names).
pub async fn retour(
    db: &Db,
    fc: &FranceConnect,
    callback: &Callback,
    aidant: Option<PersonId>,
    now: i64,
) -> Result<Retour, FranceConnectError> {
    let state = callback
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(FranceConnectError::UnknownState)?;
    let login = logins::take_login(
        db,
        Provider::FranceConnect,
        &sha256_hex(state),
        now - ms(LOGIN_LIFETIME),
    )
    .await?
    .ok_or(FranceConnectError::UnknownState)?;
    let brouillon = match login.brouillon {
        Some(id) => Some(
            repo::brouillon(db, BrouillonId(id))
                .await?
                .filter(|b| Some(b.aidant) == aidant)
                .ok_or(FranceConnectError::UnknownState)?,
        ),
        None => None,
    };
    let (cle, identite) = verifier(fc, callback, &login).await?;
    match brouillon {
        Some(b) => {
            repo::identifier_brouillon(db, b.id, &cle, &identite).await?;
            Ok(Retour::Brouillon {
                structure: b.structure,
                brouillon: b.id,
            })
        }
        None => {
            let usager = espace::usager_by_key(db, &cle)
                .await?
                .ok_or(FranceConnectError::NoMandate)?;
            Ok(Retour::Espace { usager })
        }
    }
}

/// The callback's checks and the exchange: the usager's key and identity.
async fn verifier(
    fc: &FranceConnect,
    callback: &Callback,
    login: &PendingLogin,
) -> Result<(String, Identite), FranceConnectError> {
    if callback.error.is_some() {
        return Err(FranceConnectError::Denied);
    }
    if callback.iss.as_deref() != Some(fc.client.config().issuer.as_str()) {
        return Err(FranceConnectError::WrongIssuer);
    }
    let code = callback
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or(FranceConnectError::Denied)?;
    let verified = fc
        .client
        .finish::<FranceConnectClaims>(code, &login.pkce_verifier, &login.nonce)
        .await?;
    if !verified
        .acr
        .as_deref()
        .is_some_and(|acr| ACCEPTED_ACR.contains(&acr))
    {
        return Err(FranceConnectError::InsufficientLevel);
    }
    let info = &verified.userinfo;
    let text = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    let (Some(given_name), Some(family_name), Some(birthdate)) = (
        text(
            info.given_name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str()),
        ),
        text(
            info.family_name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str()),
        ),
        text(info.birthdate().map(|b| b.as_str())),
    ) else {
        return Err(FranceConnectError::MissingIdentity);
    };
    let extra = info.additional_claims();
    let identite = Identite {
        given_name,
        family_name,
        birthdate,
        birthplace: text(extra.birthplace.as_deref()),
        birthcountry: text(extra.birthcountry.as_deref()),
        gender: text(info.gender().map(|g| g.as_str())),
        email: text(info.email().map(|e| e.as_str())),
    };
    Ok((cle_usager(&fc.sel, &verified.sub), identite))
}
