//! A small migration runner over both backends: each migration is one SQL file per
//! backend, applied once in its own transaction and recorded in `schema_migrations`.

use relais_domain::calendrier::now_ms;
use sqlx::Row;

use crate::{Backend, Db, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../../../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../../../migrations/postgres/", $name, ".sql")),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_territoires"),
    migration!(2, "0002_jobs"),
    migration!(3, "0003_journal"),
    migration!(4, "0004_comptes"),
    migration!(5, "0005_oidc"),
    migration!(6, "0006_habilitations"),
    migration!(7, "0007_invitations"),
    migration!(8, "0008_lieux"),
    migration!(9, "0009_fusion"),
    migration!(10, "0010_signalements"),
    migration!(11, "0011_lieux_structures"),
    migration!(12, "0012_records_before_merge"),
    migration!(13, "0013_journal_checkpoints"),
    migration!(14, "0014_fusion_communes_entieres"),
    migration!(15, "0015_registre_structures"),
    migration!(16, "0016_proconnect_siret"),
    migration!(17, "0017_correspondances"),
    migration!(18, "0018_fusion_blocs"),
    migration!(19, "0019_mandats"),
    migration!(20, "0020_mandat_brouillons"),
    migration!(21, "0021_fournisseur_oidc"),
    migration!(22, "0022_espace_usager"),
    migration!(23, "0023_mandats_cycle"),
    migration!(24, "0024_transferts"),
    migration!(25, "0025_journal_head_follows"),
    migration!(26, "0026_conservation"),
    migration!(27, "0027_journal_sealed_by_postgres"),
    migration!(28, "0028_activites"),
    migration!(29, "0029_beneficiaires_partage"),
    migration!(30, "0030_pass"),
    migration!(31, "0031_cles_pass"),
    migration!(32, "0032_conflits_pass"),
    migration!(33, "0033_virements_pass"),
    migration!(34, "0034_diagnostics"),
];

/// Arbitrary key of the PostgreSQL advisory lock that serialises concurrent migrators
/// (several instances starting at once) and the runtime role's grants (roles.rs).
pub(crate) const LOCK_KEY: i64 = 0x5245_4c41_4953;

pub(crate) async fn run(db: &Db) -> Result<usize, StoreError> {
    // Up to date: no DDL at all, so the PostgreSQL runtime role (no CREATE) gets here too.
    if pending(db).await?.is_empty() {
        return Ok(0);
    }
    let mut conn = db.pool().acquire().await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations \
         (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    if db.backend() == Backend::Postgres {
        advisory_lock(&mut conn, true).await?;
    }
    let result = apply_missing(db, &mut conn).await;
    if db.backend() == Backend::Postgres {
        advisory_lock(&mut conn, false).await?;
    }
    result
}

/// Takes (`true`) or releases (`false`) the PostgreSQL advisory lock [`LOCK_KEY`].
pub(crate) async fn advisory_lock(
    conn: &mut sqlx::AnyConnection,
    take: bool,
) -> Result<(), StoreError> {
    let sql = if take {
        "SELECT pg_advisory_lock($1)"
    } else {
        "SELECT pg_advisory_unlock($1)"
    };
    statement!(sql, LOCK_KEY).execute(conn).await?;
    Ok(())
}

/// The known migrations missing from the database, read without writing anything.
pub(crate) async fn pending(db: &Db) -> Result<Vec<i64>, StoreError> {
    let exists_sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM pg_class WHERE oid = to_regclass('schema_migrations')"
        }
    };
    let mut conn = db.pool().acquire().await?;
    let exists: i64 = sqlx::query(exists_sql).fetch_one(&mut *conn).await?.get(0);
    let applied = if exists > 0 {
        applied(&mut conn).await?
    } else {
        Vec::new()
    };
    Ok(MIGRATIONS
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect())
}

/// The versions recorded in `schema_migrations`; one this release does not know is an error.
async fn applied(conn: &mut sqlx::AnyConnection) -> Result<Vec<i64>, StoreError> {
    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if let Some(unknown) = applied
        .iter()
        .find(|v| !MIGRATIONS.iter().any(|m| m.version == **v))
    {
        return Err(StoreError::UnknownMigration(*unknown));
    }
    Ok(applied)
}

async fn apply_missing(db: &Db, conn: &mut sqlx::AnyConnection) -> Result<usize, StoreError> {
    let applied = applied(conn).await?;
    let mut count = 0;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let sql = match db.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let fail = |source| StoreError::Migration {
            version: m.version,
            name: m.name,
            source,
        };
        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(fail)?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(fail)?;
        statement!(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            m.version,
            m.name,
            now_ms()
        )
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(version = m.version, name = m.name, "migration appliquée");
        count += 1;
    }
    Ok(count)
}
