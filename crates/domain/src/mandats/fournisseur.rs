//! Relais as an OpenID Connect provider for démarche services: the checks of the
//! authorization code flow that need no database (PKCE S256, the exact redirect URI, the
//! scopes a client may ask, a code's lifetime). The store keeps codes single-use.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::Demarche;

/// How long an authorization code is valid.
pub const CODE_VALIDITE_MS: i64 = 60_000;
/// How long an access token (and the ID token issued with it) is valid: short, since
/// `/userinfo` re-checks the authorization at every call anyway.
pub const JETON_VALIDITE_MS: i64 = 5 * 60_000;
/// A new signing key is published this long before it signs (clients refresh their copy of
/// the keys); a retired key stays published this long after it stopped signing.
pub const PUBLICATION_CLE_MS: i64 = 60 * 60_000;
/// A signing key signs for this long before the next one takes over.
pub const ROTATION_CLE_MS: i64 = 30 * 24 * 60 * 60_000;

/// The identity scopes a démarche may ask, beside `openid` and one démarche family: those
/// of FranceConnect, so that a démarche already a FranceConnect client reads the same claims.
pub const SCOPES_IDENTITE: [&str; 7] = [
    "given_name",
    "family_name",
    "birthdate",
    "birthplace",
    "birthcountry",
    "gender",
    "email",
];

/// The `sub` a démarche receives for an usager: the same at each use by that démarche, a
/// different one for each démarche (pairwise, so that two services cannot join their
/// records on it), and revealing nothing of FranceConnect's.
pub fn sub_pour(client_id: &str, usager_cle: &str) -> String {
    let text = format!("relais-sub-v1\n{client_id}\n{usager_cle}");
    data_encoding::HEXLOWER.encode(&Sha256::digest(text.as_bytes()))
}

/// Why a démarche service cannot be registered as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("le nom du service est vide")]
    SansNom,
    #[error("indiquez au moins une adresse de retour (redirect_uri)")]
    SansRedirection,
    #[error(
        "adresse de retour « {0} » : une adresse https complète est attendue, sans fragment (http seulement sur 127.0.0.1 ou localhost)"
    )]
    Redirection(String),
    #[error("choisissez au moins une famille de démarches")]
    SansDemarche,
    #[error("démarche « {0} » inconnue")]
    DemarcheInconnue(String),
}

/// The redirect URIs of a new client, one per line: absolute, `https` (or `http` on the
/// loopback, for tests and local services), no fragment.
pub fn redirections(text: &str) -> Result<Vec<String>, ClientError> {
    let mut uris = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let host_ok = |rest: &str| {
            let host = rest.split(['/', '?']).next().unwrap_or("");
            !host.is_empty() && !host.contains('@') && !host.contains(' ')
        };
        let ok = !line.contains('#')
            && match line.split_once("://") {
                Some(("https", rest)) => host_ok(rest),
                Some(("http", rest)) => {
                    let host = rest.split(['/', '?']).next().unwrap_or("");
                    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
                    host_ok(rest) && (name == "127.0.0.1" || name == "localhost")
                }
                _ => false,
            };
        if !ok {
            return Err(ClientError::Redirection(line.to_string()));
        }
        if !uris.iter().any(|u| u == line) {
            uris.push(line.to_string());
        }
    }
    if uris.is_empty() {
        return Err(ClientError::SansRedirection);
    }
    Ok(uris)
}

/// The démarche families a client may ask, from their codes.
pub fn demarches_du_client(codes: &[&str]) -> Result<BTreeSet<Demarche>, ClientError> {
    let mut set = BTreeSet::new();
    for code in codes {
        set.insert(
            Demarche::parse(code.trim())
                .ok_or_else(|| ClientError::DemarcheInconnue(code.to_string()))?,
        );
    }
    if set.is_empty() {
        return Err(ClientError::SansDemarche);
    }
    Ok(set)
}

/// Why a request of the flow is refused; the provider answers with the OAuth error code
/// ([`Refus::code_oauth`]) and journals the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refus {
    #[error("redirect_uri « {0} » : ce n’est pas une adresse enregistrée pour ce client")]
    RedirectionInconnue(String),
    #[error("code_challenge_method « {0} » : seul S256 est accepté")]
    MethodePkce(String),
    #[error("code_challenge absent ou mal formé (43 caractères base64url)")]
    DefiPkce,
    #[error("code_verifier absent ou mal formé (43 à 128 caractères)")]
    VerificateurPkce,
    #[error("code_verifier ne correspond pas au code_challenge")]
    PkceFaux,
    #[error("scope : « openid » est obligatoire")]
    SansOpenid,
    #[error("scope : exactement une famille de démarches est attendue")]
    UneDemarche,
    #[error("scope « {0} » : ce client ne peut pas le demander")]
    ScopeInterdit(String),
    #[error("nonce absent : il protège le jeton d’identité contre le rejeu")]
    SansNonce,
    #[error("state absent")]
    SansState,
    #[error("code expiré (valable {} s)", CODE_VALIDITE_MS / 1000)]
    CodeExpire,
}

impl Refus {
    /// The `error` of the OAuth 2.0 answer.
    pub fn code_oauth(&self) -> &'static str {
        match self {
            Refus::RedirectionInconnue(_) => "invalid_request",
            Refus::MethodePkce(_) | Refus::DefiPkce | Refus::SansNonce | Refus::SansState => {
                "invalid_request"
            }
            Refus::SansOpenid | Refus::UneDemarche | Refus::ScopeInterdit(_) => "invalid_scope",
            Refus::VerificateurPkce | Refus::PkceFaux | Refus::CodeExpire => "invalid_grant",
        }
    }
}

/// The redirect URI asked must be one registered, byte for byte: no prefix, no other
/// query, no other case (a prefix match let codes go to an attacker's path).
pub fn redirection(demandee: &str, enregistrees: &[String]) -> Result<(), Refus> {
    if enregistrees.iter().any(|r| r == demandee) {
        Ok(())
    } else {
        Err(Refus::RedirectionInconnue(demandee.to_string()))
    }
}

/// A base64url string without padding of `min..=max` characters.
fn base64url(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The challenge sent to `/authorize`: S256 only, 43 characters (a SHA-256 in base64url).
pub fn defi(methode: Option<&str>, challenge: Option<&str>) -> Result<String, Refus> {
    match methode {
        Some("S256") => {}
        Some(other) => return Err(Refus::MethodePkce(other.to_string())),
        None => return Err(Refus::MethodePkce("(absente)".to_string())),
    }
    match challenge {
        Some(c) if base64url(c, 43, 43) => Ok(c.to_string()),
        _ => Err(Refus::DefiPkce),
    }
}

/// The verifier sent to `/token` against the challenge kept with the code (RFC 7636:
/// BASE64URL(SHA256(verifier)) = challenge).
pub fn verifier(verifier: Option<&str>, defi: &str) -> Result<(), Refus> {
    let v = match verifier {
        Some(v)
            if (43..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) =>
        {
            v
        }
        _ => return Err(Refus::VerificateurPkce),
    };
    // The challenge is public (it travelled in the browser): comparing the hash of the
    // verifier with it in plain time tells an attacker nothing about a verifier.
    let computed = data_encoding::BASE64URL_NOPAD.encode(&Sha256::digest(v.as_bytes()));
    if computed == defi {
        Ok(())
    } else {
        Err(Refus::PkceFaux)
    }
}

/// The scopes asked: `openid`, exactly one démarche family this client may ask, and
/// identity scopes among those it may ask. Returns the family.
pub fn portee(
    scope: &str,
    permises: &BTreeSet<Demarche>,
    identite: &[&str],
) -> Result<Demarche, Refus> {
    let mut openid = false;
    let mut demarches = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if s == "openid" {
            openid = true;
        } else if let Some(d) = Demarche::parse(s) {
            if !permises.contains(&d) {
                return Err(Refus::ScopeInterdit(s.to_string()));
            }
            demarches.push(d);
        } else if !identite.contains(&s) {
            return Err(Refus::ScopeInterdit(s.to_string()));
        }
    }
    if !openid {
        return Err(Refus::SansOpenid);
    }
    match demarches.as_slice() {
        [one] => Ok(*one),
        _ => Err(Refus::UneDemarche),
    }
}

/// A code issued at `emis` is still valid at `now`.
pub fn code_valide(emis: i64, now: i64) -> Result<(), Refus> {
    if now >= emis && now - emis <= CODE_VALIDITE_MS {
        Ok(())
    } else {
        Err(Refus::CodeExpire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_absolute_https_or_loopback() {
        assert_eq!(
            redirections(
                "https://a.example/retour\n\n http://127.0.0.1:8080/cb \nhttps://a.example/retour"
            )
            .unwrap(),
            ["https://a.example/retour", "http://127.0.0.1:8080/cb"]
        );
        for bad in [
            "http://a.example/retour",
            "https://a.example/retour#x",
            "/retour",
            "javascript:alert(1)",
            "https://",
            "https://u@a.example/",
        ] {
            assert!(redirections(bad).is_err(), "{bad}");
        }
        assert_eq!(redirections(" \n"), Err(ClientError::SansRedirection));
    }

    #[test]
    fn the_sub_is_pairwise_and_stable() {
        assert_eq!(sub_pour("a", "cle"), sub_pour("a", "cle"));
        assert_ne!(sub_pour("a", "cle"), sub_pour("b", "cle"));
        assert_ne!(sub_pour("a", "cle"), sub_pour("a", "autre"));
    }

    #[test]
    fn pkce_follows_rfc_7636_appendix_b() {
        // The example of RFC 7636, appendix B.
        let verifier_rfc = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(defi(Some("S256"), Some(challenge)).unwrap(), challenge);
        assert_eq!(verifier(Some(verifier_rfc), challenge), Ok(()));
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj";
        assert_eq!(verifier(Some(other), challenge), Err(Refus::PkceFaux));
        assert_eq!(verifier(None, challenge), Err(Refus::VerificateurPkce));
        assert_eq!(
            verifier(Some("court"), challenge),
            Err(Refus::VerificateurPkce)
        );
        assert_eq!(
            defi(Some("plain"), Some(challenge)),
            Err(Refus::MethodePkce("plain".into()))
        );
        assert!(defi(None, Some(challenge)).is_err());
        assert_eq!(defi(Some("S256"), Some("abc")), Err(Refus::DefiPkce));
        assert_eq!(defi(Some("S256"), None), Err(Refus::DefiPkce));
    }

    #[test]
    fn the_redirect_uri_matches_exactly() {
        let registered = vec!["https://demarche.example/retour".to_string()];
        assert!(redirection("https://demarche.example/retour", &registered).is_ok());
        for bad in [
            "https://demarche.example/retour/../vol",
            "https://demarche.example/retour?x=1",
            "https://demarche.example/retourne",
            "https://DEMARCHE.example/retour",
            "https://demarche.example/retou",
            "http://demarche.example/retour",
        ] {
            assert!(redirection(bad, &registered).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_are_openid_one_family_and_what_the_client_may_ask() {
        let permises: BTreeSet<Demarche> = [Demarche::Social, Demarche::Papiers].into();
        let identite = ["profile", "email", "birth"];
        assert_eq!(
            portee("openid profile social", &permises, &identite),
            Ok(Demarche::Social)
        );
        assert_eq!(
            portee("profile social", &permises, &identite),
            Err(Refus::SansOpenid)
        );
        assert_eq!(
            portee("openid social papiers", &permises, &identite),
            Err(Refus::UneDemarche)
        );
        assert_eq!(
            portee("openid", &permises, &identite),
            Err(Refus::UneDemarche)
        );
        assert_eq!(
            portee("openid argent", &permises, &identite),
            Err(Refus::ScopeInterdit("argent".into()))
        );
        assert_eq!(
            portee("openid social phone", &permises, &identite),
            Err(Refus::ScopeInterdit("phone".into()))
        );
        assert_eq!(Refus::UneDemarche.code_oauth(), "invalid_scope");
    }

    #[test]
    fn a_code_lives_sixty_seconds() {
        assert!(code_valide(1_000, 1_000).is_ok());
        assert!(code_valide(1_000, 61_000).is_ok());
        assert_eq!(code_valide(1_000, 61_001), Err(Refus::CodeExpire));
        assert_eq!(
            code_valide(1_000, 999),
            Err(Refus::CodeExpire),
            "from the future"
        );
    }
}
