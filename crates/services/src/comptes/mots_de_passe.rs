//! Password hashing (Argon2id, bounded to the cores) and token digests.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use data_encoding::HEXLOWER;
use rand::Rng;
use relais_domain::comptes::{CompteError, check_password};
use sha2::{Digest, Sha256};

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
pub(super) async fn verify_password(hash: Option<String>, password: &str) -> bool {
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
