//! Accounts: login (password, then second factor or its enrolment), logout, my account,
//! a référent's team, invitations, forgotten passwords, ProConnect; and what they share
//! (the visitor's address, where to go after the login, the session cookie).

pub mod compte;
pub mod connexion;
pub mod equipe;
pub mod invitations;
pub mod password_reset;
pub mod proconnect;
pub mod registre;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::comptes::sessions::Stage;
use relais_services::comptes::{Client, Opened};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{SESSION_COOKIE, set_cookie, urlencode};

/// Where to go after the login: a path of this site only, never another host. Anything
/// that is not a plain relative reference starting with a single `/` (a control character
/// could be dropped by the browser and turn `/\t/evil.com` into `//evil.com`; it would
/// also make the `Location` header unbuildable) gives the account page.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if is_local_path(p) => p.to_string(),
        _ => "/compte".to_string(),
    }
}

fn is_local_path(p: &str) -> bool {
    let b = p.as_bytes();
    b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        // Visible ASCII only: no control character (C0, DEL, C1), no space, no backslash.
        && b.iter().all(|c| (0x21..0x7f).contains(c) && *c != b'\\')
        && !p.contains("://")
        && p.parse::<axum::http::uri::PathAndQuery>().is_ok()
        && axum::http::HeaderValue::from_str(p).is_ok()
}

/// The address and browser of the visitor, for rate limits and the journal. The address
/// is the socket peer's, or the one a trusted proxy forwards ([`crate::client`]).
pub struct ClientInfo(pub Client);

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = crate::client::client_ip(
            &parts.extensions,
            &parts.headers,
            &state.config.trusted_proxies,
        )
        .map_or_else(|| "inconnue".to_string(), |ip| ip.to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Ok(ClientInfo(Client { ip, user_agent }))
    }
}

pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// An error as a sentence: capitalized, with its full stop.
pub(crate) fn capitalized(e: &impl std::fmt::Display) -> String {
    format!("{}.", capitalize(&e.to_string()))
}

/// The session cookie for a new token.
pub(crate) fn session_cookie(state: &AppState, token: &str) -> axum::http::HeaderValue {
    set_cookie(SESSION_COOKIE, token, None, state.config.hsts)
}

/// A session just opened, by password, ProConnect or an invitation: its cookie, and the
/// way on (the second factor, its enrolment, or `next` once the login is complete).
fn opened(state: &AppState, opened: &Opened, next: &str) -> Response {
    let to = match opened.stage {
        Stage::Active => next.to_string(),
        Stage::SecondFactor => format!("/connexion/second-facteur?suite={}", urlencode(next)),
        Stage::Enrolment => format!("/connexion/activation?suite={}", urlencode(next)),
    };
    (
        [(header::SET_COOKIE, session_cookie(state, &opened.token))],
        Redirect::to(&to),
    )
        .into_response()
}

/// `?suite=…`: where to go after the login.
#[derive(Deserialize)]
pub struct NextParam {
    suite: Option<String>,
}

/// After a logout: the session cookie removed, back to the home page.
fn signed_out(state: &AppState) -> Response {
    let cookie = set_cookie(SESSION_COOKIE, "", Some(0), state.config.hsts);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

#[derive(Deserialize)]
pub struct Empty {}

#[cfg(test)]
mod tests {
    use super::safe_next;
    use proptest::prelude::*;

    #[test]
    fn next_is_a_path_of_this_site() {
        for ok in [
            "/compte",
            "/structures/1/equipe?fait=invitation",
            "/lieux?q=a%20b#r",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "/\t/evil.com",
            "/\n",
            "/\r\n",
            "/\0",
            "//evil.com",
            "/\\evil.com",
            "/a\\b",
            "https://evil.com",
            "evil.com",
            "/a b",
            "/\u{7f}",
            "/\u{85}",
            "/\u{202e}",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/compte", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/compte");
    }

    proptest! {
        #[test]
        fn any_next_gives_a_header_value_on_this_site(s in any::<String>()) {
            let next = safe_next(Some(&s));
            prop_assert!(axum::http::HeaderValue::from_str(&next).is_ok());
            prop_assert!(next.starts_with('/'));
            prop_assert!(!next.starts_with("//") && !next.starts_with("/\\"));
        }

        #[test]
        fn any_slash_prefixed_next_gives_a_header_value(s in "/[\\x00-\\x7f\\u{80}-\\u{ffff}]{0,12}") {
            let next = safe_next(Some(&s));
            prop_assert!(axum::http::HeaderValue::from_str(&next).is_ok());
            prop_assert!(next.starts_with('/'));
            prop_assert!(!next.starts_with("//") && !next.starts_with("/\\"));
        }
    }
}
