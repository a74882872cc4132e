//! Relais as an OpenID Connect client (authorization code with PKCE S256), for ProConnect
//! (agents) and FranceConnect (usagers): one client type, each provider with its settings.
//!
//! `start` gives the provider's authorization URL and the secrets the caller keeps until the
//! callback (`state`, `nonce`, PKCE verifier); `finish` exchanges the code, verifies the ID
//! token (signature with the provider's keys, issuer, audience, expiry, issue time, nonce; 60 s
//! of clock leeway at most), reads userinfo and requires the same subject.
//!
//! The provider's metadata (discovery document and signing keys) is kept for
//! `METADATA_LIFETIME`, and fetched again at once when an ID token is signed by a key it does
//! not hold (the provider rotated its keys).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdTokenVerifier,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AuthenticationContextClass, AuthorizationCode, ClaimsVerificationError,
    ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, TokenResponse, UserInfoClaims,
};

/// How long a login sent to the provider may take to come back.
pub const LOGIN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// The most the provider's clock and ours may disagree on `exp` and `iat`.
pub const CLOCK_LEEWAY: Duration = Duration::from_secs(60);
/// How long the provider's discovery document and keys are reused before being fetched again.
pub const METADATA_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Settings of a client of one provider. The secret is never shown by `Debug`.
#[derive(Clone)]
pub struct OidcConfig {
    /// The provider's issuer, e.g. `https://auth.agentconnect.gouv.fr/api/v2`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The callback of this instance, as registered with the provider.
    pub redirect_uri: String,
}

impl fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// A client of one provider: settings, an HTTP client that follows no redirect, and the
/// provider's metadata while it is fresh (shared by the clones).
#[derive(Debug, Clone)]
pub struct OidcClient {
    config: OidcConfig,
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

/// Why the exchange with the provider failed; each caller says it in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("fournisseur injoignable ou réponse inattendue")]
    Unavailable,
    #[error("code refusé par le fournisseur")]
    CodeRejected,
    #[error("jeton d’identité invalide")]
    InvalidIdToken,
    #[error("userinfo d’un autre sujet")]
    SubjectMismatch,
}

/// A login sent to the provider: the URL to send the browser to, and what the caller keeps
/// (server side) until the callback.
#[derive(Debug, Clone)]
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// A verified login: the subject, the authentication level of the ID token (`acr`), and the
/// claims of userinfo (standard ones and the provider's own, `C`).
#[derive(Debug, Clone)]
pub struct Verified<C: AdditionalClaims> {
    pub sub: String,
    pub acr: Option<String>,
    pub userinfo: UserInfoClaims<C, CoreGenderClaim>,
}

impl OidcClient {
    pub fn new(config: OidcConfig) -> Result<OidcClient, String> {
        IssuerUrl::new(config.issuer.clone())
            .map_err(|e| format!("l’émetteur n’est pas une URL valide : {e}"))?;
        RedirectUrl::new(config.redirect_uri.clone())
            .map_err(|e| format!("public_url ne donne pas une URL de retour valide : {e}"))?;
        let http = openidconnect::reqwest::ClientBuilder::new()
            // No redirect: a provider must answer itself (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("client HTTP : {e}"))?;
        Ok(OidcClient {
            config,
            http,
            metadata: Arc::default(),
        })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// The client, from the provider's metadata: the cached copy while younger than
    /// `METADATA_LIFETIME` and not older than `stale` (the copy that did not know a key),
    /// else a fresh discovery. Also returns when that metadata was fetched.
    async fn client(&self, stale: Option<Instant>) -> Result<(Oidc, Instant), OidcError> {
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
    async fn discover(&self) -> Result<CoreProviderMetadata, OidcError> {
        let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| {
            tracing::error!(error = %e, "émetteur OpenID Connect invalide");
            OidcError::Unavailable
        })?;
        CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, issuer = %self.config.issuer, "découverte impossible");
                OidcError::Unavailable
            })
    }

    fn client_from(&self, metadata: CoreProviderMetadata) -> Result<Oidc, OidcError> {
        let redirect = RedirectUrl::new(self.config.redirect_uri.clone()).map_err(|e| {
            tracing::error!(error = %e, "URL de retour invalide");
            OidcError::Unavailable
        })?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// A new login asking for `scopes` (beside `openid`), and for the authentication level
    /// `acr` when given.
    pub async fn start(&self, scopes: &[&str], acr: Option<&str>) -> Result<Started, OidcError> {
        let (client, _) = self.client(None).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in scopes {
            request = request.add_scope(Scope::new((*scope).to_string()));
        }
        if let Some(acr) = acr {
            request = request.add_auth_context_value(AuthenticationContextClass::new(acr.into()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Completes a login: exchanges `code` with the verifier kept at the start, checks the
    /// ID token against `nonce`, then reads userinfo, which must be about the same subject.
    pub async fn finish<C: AdditionalClaims>(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Verified<C>, OidcError> {
        let (mut client, fetched_at) = self.client(None).await?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| {
                tracing::error!(error = %e, "fournisseur sans point d’accès jeton");
                OidcError::Unavailable
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => {
                    tracing::warn!(error = %r.error(), "code refusé par le fournisseur");
                    OidcError::CodeRejected
                }
                e => {
                    tracing::warn!(error = %e, "échange du code impossible");
                    OidcError::Unavailable
                }
            })?;

        let id_token = token.id_token().ok_or(OidcError::InvalidIdToken)?;
        let nonce = Nonce::new(nonce.to_string());
        let first = id_token.claims(&id_token_verifier(&client), &nonce);
        let claims = match first {
            // A key we do not hold: the provider may have rotated its keys since our copy, so
            // fetch them again, once. (The token comes from the provider's token endpoint, not
            // from the browser, so nobody else can make us fetch.)
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                tracing::info!("clé de signature inconnue : nouvelle découverte");
                (client, _) = self.client(Some(fetched_at)).await?;
                id_token.claims(&id_token_verifier(&client), &nonce)
            }
            other => other,
        }
        .map_err(|e| {
            tracing::warn!(error = %e, "jeton d’identité refusé");
            OidcError::InvalidIdToken
        })?;
        let sub = claims.subject().clone();
        let acr = claims.auth_context_ref().map(|a| a.as_str().to_string());

        let userinfo: UserInfoClaims<C, CoreGenderClaim> = client
            .user_info(token.access_token().clone(), Some(sub.clone()))
            .map_err(|e| {
                tracing::error!(error = %e, "fournisseur sans point d’accès userinfo");
                OidcError::Unavailable
            })?
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::UserInfoError::ClaimsVerification(e) => {
                    tracing::warn!(error = %e, "userinfo refusé");
                    OidcError::SubjectMismatch
                }
                e => {
                    tracing::warn!(error = %e, "userinfo illisible");
                    OidcError::Unavailable
                }
            })?;
        if userinfo.subject() != &sub {
            return Err(OidcError::SubjectMismatch);
        }
        Ok(Verified {
            sub: sub.to_string(),
            acr,
            userinfo,
        })
    }
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
