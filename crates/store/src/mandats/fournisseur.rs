//! Relais as an OpenID Connect provider: the démarche services (clients), the signing keys,
//! the authorization codes (single use) and the access tokens, each secret by its SHA-256.

use relais_domain::calendrier::now_ms;
use relais_domain::comptes::Role;
use relais_domain::ids::{AutorisationId, PersonId, StructureId};
use relais_domain::journal::{Entry, NewEntry};
use relais_domain::mandats::Demarche;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{AutorisationStockee, Identite};
use crate::db::duplicate_as;
use crate::{Backend, Db, StoreError, Tx, journal};

/// A démarche service allowed to ask Relais who an aidant acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub nom: String,
    pub secret_hash: String,
    pub redirect_uris: Vec<String>,
    pub demarches: Vec<Demarche>,
    pub created_at: i64,
    pub desactive_le: Option<i64>,
}

fn demarches_from(codes: &str, column: &str) -> Result<Vec<Demarche>, StoreError> {
    codes
        .split_whitespace()
        .map(|c| Demarche::parse(c).ok_or_else(|| StoreError::Corrupt(format!("{column} « {c} »"))))
        .collect()
}

fn codes(demarches: &[Demarche]) -> String {
    demarches
        .iter()
        .map(|d| d.code())
        .collect::<Vec<_>>()
        .join(" ")
}

const CLIENT_COLUMNS: &str =
    "client_id, nom, secret_hash, redirect_uris, demarches, created_at, desactive_le";

fn client_from(r: &AnyRow) -> Result<Client, StoreError> {
    let uris: String = r.get(3);
    let demarches: String = r.get(4);
    Ok(Client {
        client_id: r.get(0),
        nom: r.get(1),
        secret_hash: r.get(2),
        redirect_uris: uris.lines().map(String::from).collect(),
        demarches: demarches_from(&demarches, "clients_oidc.demarches")?,
        created_at: r.get(5),
        desactive_le: r.get(6),
    })
}

pub async fn create_client(tx: &mut Tx, c: &Client) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO clients_oidc (client_id, nom, secret_hash, redirect_uris, demarches, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &c.client_id,
        &c.nom,
        &c.secret_hash,
        c.redirect_uris.join("\n"),
        codes(&c.demarches),
        c.created_at
    )
    .execute(&mut **tx)
    .await
    .map_err(duplicate_as("client_id"))?;
    Ok(())
}

pub async fn client(db: &Db, client_id: &str) -> Result<Option<Client>, StoreError> {
    let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients_oidc WHERE client_id = $1");
    statement!(&sql, client_id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(client_from)
        .transpose()
}

pub async fn clients(db: &Db) -> Result<Vec<Client>, StoreError> {
    let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients_oidc ORDER BY nom, client_id");
    statement!(&sql)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(client_from)
        .collect()
}

/// A signing key of ID tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cle {
    pub kid: String,
    /// PKCS#8, PEM.
    pub pem: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// Every key, oldest first.
pub async fn cles(db: &Db) -> Result<Vec<Cle>, StoreError> {
    Ok(statement!(
        "SELECT kid, pem, created_at, retired_at FROM cles_oidc ORDER BY created_at, kid"
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| Cle {
        kid: r.get(0),
        pem: r.get(1),
        created_at: r.get(2),
        retired_at: r.get(3),
    })
    .collect())
}

pub async fn create_cle(db: &Db, cle: &Cle) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO cles_oidc (kid, pem, created_at) VALUES ($1, $2, $3)",
        &cle.kid,
        &cle.pem,
        cle.created_at
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Retires the keys `kids` (they stop signing; still published until deleted).
pub async fn retire_cles(db: &Db, kids: &[String], now: i64) -> Result<(), StoreError> {
    for kid in kids {
        statement!(
            "UPDATE cles_oidc SET retired_at = $2 WHERE kid = $1 AND retired_at IS NULL",
            kid,
            now
        )
        .execute(db.pool())
        .await?;
    }
    Ok(())
}

/// Deletes the keys retired before `before`: no token they signed is still valid.
pub async fn delete_retired_cles(db: &Db, before: i64) -> Result<u64, StoreError> {
    Ok(
        statement!("DELETE FROM cles_oidc WHERE retired_at < $1", before)
            .execute(db.pool())
            .await?
            .rows_affected(),
    )
}

/// An authorization code as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub code_hash: String,
    pub client_id: String,
    pub autorisation: AutorisationId,
    pub aidant: PersonId,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: String,
    pub scope: String,
    pub created_at: i64,
}

pub async fn create_code(tx: &mut Tx, c: &Code) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO codes_oidc (code_hash, client_id, autorisation_id, aidant_id, redirect_uri, \
         code_challenge, nonce, scope, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &c.code_hash,
        &c.client_id,
        c.autorisation.0,
        c.aidant.0,
        &c.redirect_uri,
        &c.code_challenge,
        &c.nonce,
        &c.scope,
        c.created_at
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Issues the code `c`, records the use of its authorization by the aidant and journals
/// `entry`, atomically. On PostgreSQL in one statement, sealed by the database: the
/// journal's head is locked for that statement only, however busy Relais is.
pub async fn issue_code(db: &Db, c: &Code, entry: &NewEntry) -> Result<Entry, StoreError> {
    let at = now_ms();
    if db.backend() == Backend::Postgres {
        let sql = format!(
            "WITH code AS (INSERT INTO codes_oidc (code_hash, client_id, autorisation_id, \
             aidant_id, redirect_uri, code_challenge, nonce, scope, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)), \
             utilisation AS (INSERT INTO utilisations (autorisation_id, aidant_id, client_id, \
             created_at) VALUES ($3, $4, $2, $9)) {}",
            journal::insert_sealed(10)
        );
        let q = statement!(
            &sql,
            &c.code_hash,
            &c.client_id,
            c.autorisation.0,
            c.aidant.0,
            &c.redirect_uri,
            &c.code_challenge,
            &c.nonce,
            &c.scope,
            c.created_at
        );
        let row = journal::bind_sealed(q, at, entry)
            .fetch_one(db.pool())
            .await?;
        return journal::sealed_from(&row, entry, at);
    }
    let mut tx = db.begin().await?;
    create_code(&mut tx, c).await?;
    super::espace::record_use(
        &mut tx,
        c.autorisation,
        c.aidant,
        &c.client_id,
        c.created_at,
    )
    .await?;
    let sealed = journal::append(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(sealed)
}

const CODE_COLUMNS: &str = "c.code_hash, c.client_id, c.autorisation_id, c.aidant_id, \
     c.redirect_uri, c.code_challenge, c.nonce, c.scope, c.created_at, c.used_at";

/// A code read from column `at` on.
fn code_from(r: &AnyRow, at: usize) -> (Code, Option<i64>) {
    (
        Code {
            code_hash: r.get(at),
            client_id: r.get(at + 1),
            autorisation: AutorisationId(r.get(at + 2)),
            aidant: PersonId(r.get(at + 3)),
            redirect_uri: r.get(at + 4),
            code_challenge: r.get(at + 5),
            nonce: r.get(at + 6),
            scope: r.get(at + 7),
            created_at: r.get(at + 8),
        },
        r.get(at + 9),
    )
}

/// The code of this hash, when it was used (`None`: not yet), and the context of its
/// authorization and aidant (`None`: gone), in one query.
pub async fn code(
    db: &Db,
    code_hash: &str,
) -> Result<Option<(Code, Option<i64>, Option<Contexte>)>, StoreError> {
    let sql = format!(
        "SELECT {CONTEXTE_COLUMNS}, {CODE_COLUMNS} FROM codes_oidc c {CONTEXTE_JOINS} \
         WHERE c.code_hash = $1"
    );
    statement!(&sql, code_hash, Role::Aidant.as_str())
        .fetch_optional(db.pool())
        .await?
        .map(|r| {
            let (code, used) = code_from(&r, CONTEXTE_WIDTH);
            Ok((code, used, contexte_from(&r)?))
        })
        .transpose()
}

/// Spends the code of this hash and issues with it the token `token_hash` (for the code's
/// client, authorization, aidant and scope, valid until `expires_at`), atomically; returns
/// the code with its context (as [`code`]), or `None`, nothing issued, when no unspent code
/// has this hash. Of two concurrent presentations one only spends it. PostgreSQL does it
/// in one statement (the hot path of `/token`); SQLite, which has no writing `WITH`, in one
/// transaction, then reads.
pub async fn exchange_code(
    db: &Db,
    code_hash: &str,
    token_hash: &str,
    expires_at: i64,
    now: i64,
) -> Result<Option<(Code, Option<Contexte>)>, StoreError> {
    if db.backend() == Backend::Postgres {
        let sql = format!(
            "WITH c AS (UPDATE codes_oidc SET used_at = $3 \
             WHERE code_hash = $1 AND used_at IS NULL RETURNING *), \
             issued AS (INSERT INTO jetons_oidc (token_hash, code_hash, client_id, \
             autorisation_id, aidant_id, scope, expires_at) SELECT $4, code_hash, client_id, \
             autorisation_id, aidant_id, scope, $5 FROM c) \
             SELECT {CONTEXTE_COLUMNS}, {CODE_COLUMNS} FROM c {CONTEXTE_JOINS}"
        );
        return statement!(
            &sql,
            code_hash,
            Role::Aidant.as_str(),
            now,
            token_hash,
            expires_at
        )
        .fetch_optional(db.pool())
        .await?
        .map(|r| Ok((code_from(&r, CONTEXTE_WIDTH).0, contexte_from(&r)?)))
        .transpose();
    }
    let mut tx = db.begin().await?;
    let spent = statement!(
        "UPDATE codes_oidc SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL",
        code_hash,
        now
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if spent {
        statement!(
            "INSERT INTO jetons_oidc (token_hash, code_hash, client_id, autorisation_id, \
             aidant_id, scope, expires_at) SELECT $2, code_hash, client_id, autorisation_id, \
             aidant_id, scope, $3 FROM codes_oidc WHERE code_hash = $1",
            code_hash,
            token_hash,
            expires_at
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    if !spent {
        return Ok(None);
    }
    Ok(code(db, code_hash)
        .await?
        .map(|(issued, _, contexte)| (issued, contexte)))
}

/// Forgets the codes issued before `before` (spent or expired: a replay that late is refused
/// as unknown).
pub async fn purge_codes(db: &Db, before: i64) -> Result<u64, StoreError> {
    Ok(
        statement!("DELETE FROM codes_oidc WHERE created_at < $1", before)
            .execute(db.pool())
            .await?
            .rows_affected(),
    )
}

/// An access token as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jeton {
    pub token_hash: String,
    pub code_hash: String,
    pub client_id: String,
    pub autorisation: AutorisationId,
    pub aidant: PersonId,
    pub scope: String,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// The token of this hash and the context of its authorization and aidant (`None`: gone),
/// in one query.
pub async fn jeton(
    db: &Db,
    token_hash: &str,
) -> Result<Option<(Jeton, Option<Contexte>)>, StoreError> {
    let sql = format!(
        "SELECT {CONTEXTE_COLUMNS}, c.token_hash, c.code_hash, c.client_id, c.autorisation_id, \
         c.aidant_id, c.scope, c.expires_at, c.revoked_at FROM jetons_oidc c {CONTEXTE_JOINS} \
         WHERE c.token_hash = $1"
    );
    statement!(&sql, token_hash, Role::Aidant.as_str())
        .fetch_optional(db.pool())
        .await?
        .map(|r| {
            let at = CONTEXTE_WIDTH;
            let jeton = Jeton {
                token_hash: r.get(at),
                code_hash: r.get(at + 1),
                client_id: r.get(at + 2),
                autorisation: AutorisationId(r.get(at + 3)),
                aidant: PersonId(r.get(at + 4)),
                scope: r.get(at + 5),
                expires_at: r.get(at + 6),
                revoked_at: r.get(at + 7),
            };
            Ok((jeton, contexte_from(&r)?))
        })
        .transpose()
}

/// Revokes the tokens issued from the code of this hash (it was replayed); how many.
pub async fn revoke_jetons_of_code(
    tx: &mut Tx,
    code_hash: &str,
    now: i64,
) -> Result<u64, StoreError> {
    Ok(statement!(
        "UPDATE jetons_oidc SET revoked_at = $2 WHERE code_hash = $1 AND revoked_at IS NULL",
        code_hash,
        now
    )
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Forgets the tokens expired before `before`.
pub async fn purge_jetons(db: &Db, before: i64) -> Result<u64, StoreError> {
    Ok(
        statement!("DELETE FROM jetons_oidc WHERE expires_at < $1", before)
            .execute(db.pool())
            .await?
            .rows_affected(),
    )
}

/// An authorization an aidant may use, with what the page and the claims show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutorisationUtilisable {
    pub autorisation: AutorisationStockee,
    pub usager: Identite,
    /// The salted hash of the usager's FranceConnect `sub`.
    pub usager_cle: String,
    pub structure_nom: String,
    pub structure_siret: String,
}

const UTILISABLE: &str = "SELECT a.id, a.mandat_id, m.structure_id, m.usager_id, a.demarche, \
     a.fin, a.revoquee_le, u.given_name, u.family_name, u.birthdate, u.birthplace, \
     u.birthcountry, u.gender, u.email, u.sub_hash, s.nom, s.siret \
     FROM autorisations a JOIN mandats m ON m.id = a.mandat_id \
     JOIN usagers u ON u.id = m.usager_id JOIN structures s ON s.id = m.structure_id";

fn utilisable_from(r: &AnyRow) -> Result<AutorisationUtilisable, StoreError> {
    Ok(AutorisationUtilisable {
        autorisation: super::autorisation_from(r)?,
        usager: Identite {
            given_name: r.get(7),
            family_name: r.get(8),
            birthdate: r.get(9),
            birthplace: r.get(10),
            birthcountry: r.get(11),
            gender: r.get(12),
            email: r.get(13),
        },
        usager_cle: r.get(14),
        structure_nom: r.get(15),
        structure_siret: r.get(16),
    })
}

/// The authorizations for `demarche` active at `now` in the mandates of `structures`
/// (those where the aidant is one), by usager's name.
pub async fn utilisables(
    db: &Db,
    structures: &[StructureId],
    demarche: Demarche,
    now: i64,
) -> Result<Vec<AutorisationUtilisable>, StoreError> {
    let mut found = Vec::new();
    let sql = format!(
        "{UTILISABLE} WHERE m.structure_id = $1 AND a.demarche = $2 AND a.revoquee_le IS NULL \
         AND a.fin > $3 ORDER BY u.family_name, u.given_name, a.id"
    );
    for s in structures {
        for r in statement!(&sql, s.0, demarche.code(), now)
            .fetch_all(db.pool())
            .await?
        {
            found.push(utilisable_from(&r)?);
        }
    }
    Ok(found)
}

/// One authorization with what the claims show, whatever its state.
pub async fn utilisable(
    db: &Db,
    id: AutorisationId,
) -> Result<Option<AutorisationUtilisable>, StoreError> {
    let sql = format!("{UTILISABLE} WHERE a.id = $1");
    statement!(&sql, id.0)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(utilisable_from)
        .transpose()
}

/// An authorization with what a token's claims need, in one query: the usager, the
/// structure, the aidant's name, and whether they are still an aidant of the structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contexte {
    pub utilisable: AutorisationUtilisable,
    pub aidant_nom: String,
    pub encore_aidant: bool,
}

/// The columns of a [`Contexte`], first in a query on a code or a token `c` (its
/// `autorisation_id` and `aidant_id`) joined by [`CONTEXTE_JOINS`], `$2` being the aidant
/// role.
const CONTEXTE_COLUMNS: &str = "a.id, a.mandat_id, m.structure_id, m.usager_id, a.demarche, \
     a.fin, a.revoquee_le, u.given_name, u.family_name, u.birthdate, u.birthplace, \
     u.birthcountry, u.gender, u.email, u.sub_hash, s.nom, s.siret, \
     p.given_name || ' ' || p.family_name, \
     CAST(CASE WHEN EXISTS (SELECT 1 FROM memberships r WHERE r.person_id = p.id \
     AND r.structure_id = m.structure_id AND r.role = $2 AND r.revoked_at IS NULL) \
     THEN 1 ELSE 0 END AS BIGINT)";

const CONTEXTE_WIDTH: usize = 19;

const CONTEXTE_JOINS: &str = "LEFT JOIN autorisations a ON a.id = c.autorisation_id \
     LEFT JOIN mandats m ON m.id = a.mandat_id LEFT JOIN usagers u ON u.id = m.usager_id \
     LEFT JOIN structures s ON s.id = m.structure_id LEFT JOIN persons p ON p.id = c.aidant_id";

fn contexte_from(r: &AnyRow) -> Result<Option<Contexte>, StoreError> {
    if r.get::<Option<i64>, _>(0).is_none() || r.get::<Option<String>, _>(17).is_none() {
        return Ok(None);
    }
    Ok(Some(Contexte {
        utilisable: utilisable_from(r)?,
        aidant_nom: r.get(17),
        encore_aidant: r.get::<i64, _>(18) == 1,
    }))
}
