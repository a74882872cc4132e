//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps), the
//! second factor of professionals' local accounts.

use totp_rs::{Algorithm, Builder, Totp};

pub const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;
/// Steps accepted on either side of the server's clock.
const DRIFT_STEPS: u16 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("le code doit compter 6 chiffres")]
    Malformed,
    #[error(
        "ce code n’est pas valide : vérifiez l’heure de votre téléphone et saisissez le code affiché"
    )]
    Wrong,
    #[error("ce code a déjà été utilisé : attendez le suivant")]
    Replayed,
}

/// RFC 6238 with SHA-1, 6 digits, 30-second steps. Not `build()`: it refuses secrets under
/// 128 bits, and the tests (and the RFC's own vectors) use shorter ones.
fn totp(secret: &[u8]) -> Totp {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS as u8)
        .with_skew(DRIFT_STEPS)
        .with_step_duration(STEP_SECONDS as u64)
        .with_secret(secret)
        .build_noncompliant()
}

/// Unix seconds at the start of a step (steps before 1970 do not occur: 0).
fn step_start(step: i64) -> u64 {
    u64::try_from(step.saturating_mul(STEP_SECONDS)).unwrap_or(0)
}

/// The code of one time step.
pub fn code_at_step(secret: &[u8], step: i64) -> u32 {
    totp(secret)
        .generate(step_start(step))
        .to_string()
        .parse()
        .expect("a TOTP code is digits")
}

pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// Checks `input` at `unix_seconds`; `last_used_step` is the step of the last code
/// accepted for this account, so that a code (or an older one) is never accepted twice.
/// Returns the step to record as used.
pub fn verify(
    secret: &[u8],
    input: &str,
    unix_seconds: i64,
    last_used_step: Option<i64>,
) -> Result<i64, TotpError> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::Malformed);
    }
    let now = u64::try_from(unix_seconds).unwrap_or(0);
    let matched = totp(secret)
        .check(&digits, now)
        .and_then(|step| i64::try_from(step).ok());
    match matched {
        None => Err(TotpError::Wrong),
        Some(step) if last_used_step.is_some_and(|last| step <= last) => Err(TotpError::Replayed),
        Some(step) => Ok(step),
    }
}

/// The `otpauth://` URI that authenticator apps read from the enrolment QR code.
pub fn provisioning_uri(secret: &[u8], account: &str, issuer: &str) -> String {
    let secret = data_encoding::BASE32_NOPAD.encode(secret);
    let label = format!("{}:{}", percent_encode(issuer), percent_encode(account));
    format!(
        "otpauth://totp/{label}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        percent_encode(issuer)
    )
}

fn percent_encode(s: &str) -> String {
    crate::text::percent_encode(s, b"@")
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA1 secret "12345678901234567890"; 8-digit values truncated to 6.
    const SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_vectors() {
        for (t, expected) in [
            (59, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
        ] {
            assert_eq!(
                code_at_step(SECRET, step_of(t)),
                expected % 1_000_000,
                "t = {t}"
            );
        }
    }

    #[test]
    fn verify_accepts_drift_and_refuses_replay() {
        let t = 1_234_567_890;
        let now = format!("{:06}", code_at_step(SECRET, step_of(t)));
        let previous = format!("{:06}", code_at_step(SECRET, step_of(t) - 1));
        assert_eq!(verify(SECRET, &now, t, None), Ok(step_of(t)));
        assert_eq!(verify(SECRET, &previous, t, None), Ok(step_of(t) - 1));
        assert_eq!(
            verify(SECRET, &now, t, Some(step_of(t))),
            Err(TotpError::Replayed)
        );
        assert_eq!(
            verify(SECRET, &previous, t, Some(step_of(t) - 1)),
            Err(TotpError::Replayed),
            "an older code after a newer one"
        );
        let old = format!("{:06}", code_at_step(SECRET, step_of(t) - 2));
        assert_eq!(verify(SECRET, &old, t, None), Err(TotpError::Wrong));
        assert_eq!(verify(SECRET, "12345", t, None), Err(TotpError::Malformed));
        assert_eq!(verify(SECRET, "12a456", t, None), Err(TotpError::Malformed));
        assert_eq!(
            verify(SECRET, &format!("{} {}", &now[..3], &now[3..]), t, None),
            Ok(step_of(t)),
            "spaces are ignored"
        );
    }

    #[test]
    fn provisioning_uri_is_readable_by_apps() {
        let uri = provisioning_uri(b"\x01\x02", "agent@exemple.fr", "Relais");
        assert_eq!(
            uri,
            "otpauth://totp/Relais:agent@exemple.fr?secret=AEBA&issuer=Relais&algorithm=SHA1&digits=6&period=30"
        );
    }
}
