use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

/// One statement with its parameters in order (`$1`, `$2`… on both backends):
/// `statement!(sql, a, b)` is `sqlx::query(sql).bind(a).bind(b)`.
macro_rules! statement {
    ($sql:expr $(, $value:expr)* $(,)?) => {
        sqlx::query($sql)$(.bind($value))*
    };
}

/// A statement with its values being bound.
pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Which database engine a [`Db`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    /// A stable code for APIs (`sqlite`, `postgres`), not the display name.
    pub fn code(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "adresse de base de données non reconnue : « {0} » (attendu : sqlite:… ou postgres://…)"
    )]
    UnsupportedUrl(String),
    #[error("le dossier de données {path} n’est pas accessible en écriture : {reason}")]
    DataDir { path: String, reason: String },
    #[error("impossible d’ouvrir la base de données {url} : {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("la migration {version} ({name}) a échoué : {source}")]
    Migration {
        version: i64,
        name: &'static str,
        source: sqlx::Error,
    },
    #[error(
        "la base contient la migration {0}, inconnue de cette version de Relais : mettez Relais à jour"
    )]
    UnknownMigration(i64),
    /// A unique constraint refused the row: the value of `field` is taken.
    #[error("la valeur du champ {0} est déjà utilisée")]
    Duplicate(&'static str),
    #[error("erreur de base de données : {0}")]
    Query(#[from] sqlx::Error),
    /// A stored value this version cannot read back.
    #[error("donnée illisible en base : {0}")]
    Corrupt(String),
    /// The PostgreSQL runtime role cannot be made least-privileged (store/src/roles.rs).
    #[error("rôle d’exécution PostgreSQL : {0}")]
    Role(String),
}

/// A database transaction: a use case that changes state and writes its journal entry
/// does both through one `Tx`, then commits.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// A pool of connections to the database, SQLite or PostgreSQL.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({})", self.backend.name())
    }
}

/// SQLite's page cache per connection, in KiB, for serving: SQLite's default. Each of the
/// pool's connections has its own, so a big one costs up to eight times its size in a
/// process that mostly waits (idle memory: docs/BENCHMARKS.md).
const CACHE_KIB: u32 = 2_048;
/// For imports and merges, which reread the lieux' pages: 2 MB sends them back to disk.
const BULK_CACHE_KIB: u32 = 65_536;

impl Db {
    /// Opens (creating it if needed) the embedded SQLite database `relais.db` in `data_dir`.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Db, StoreError> {
        Db::connect(&data_dir_url(data_dir)?).await
    }

    /// The same, for imports and merges: a page cache of 64 MB per connection.
    pub async fn open_data_dir_bulk(data_dir: &Path) -> Result<Db, StoreError> {
        Db::connect_bulk(&data_dir_url(data_dir)?).await
    }

    /// Connects to `sqlite:…` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        Db::connect_with(url, CACHE_KIB).await
    }

    /// The same, for imports and merges: on SQLite, a page cache of 64 MB per connection.
    pub async fn connect_bulk(url: &str) -> Result<Db, StoreError> {
        Db::connect_with(url, BULK_CACHE_KIB).await
    }

    /// SQLite runs in WAL mode with a busy timeout and foreign keys on, a page cache of
    /// `cache_kib` per connection, and a checkpoint every 64 MB of log instead of 4 MB
    /// (big imports: docs/BENCHMARKS.md).
    async fn connect_with(url: &str, cache_kib: u32) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        // No ping before lending a connection (sqlx's default): it doubled the round trips
        // to PostgreSQL of every statement. A connection found broken fails its statement
        // once and leaves the pool.
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false);
        let options = match backend {
            Backend::Sqlite => options.max_connections(8).after_connect(move |conn, _| {
                let pragmas = format!(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA cache_size = -{cache_kib}; PRAGMA wal_autocheckpoint = 16384;"
                );
                Box::pin(async move {
                    conn.execute(pragmas.as_str()).await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options.max_connections(16),
        };
        let pool = options
            .connect(url)
            .await
            .map_err(|source| StoreError::Connect {
                url: redact_url(url),
                source,
            })?;
        Ok(Db { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// transaction that reads before it writes would otherwise be refused « database is
    /// locked » at its first write whenever another connection writes, without waiting.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies the migrations this version knows and the database lacks.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        crate::migrations::run(self).await
    }

    /// The versions of the migrations this version knows and the database lacks, without
    /// changing anything (a role that may not create tables can ask).
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, StoreError> {
        crate::migrations::pending(self).await
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Runs one administrative statement (schema creation in tests and tools).
    pub async fn execute_admin(&self, sql: &str) -> Result<(), StoreError> {
        sqlx::raw_sql(sql).execute(&self.pool).await?;
        Ok(())
    }

    /// The first column of each row of one administrative query, as text (tests and
    /// tools that check what is stored, e.g. that a raw identifier never is).
    pub async fn query_admin(&self, sql: &str) -> Result<Vec<String>, StoreError> {
        use sqlx::Row;
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Every (table, column) of the schema, sorted; the migration bookkeeping excluded.
    /// Used to prove that both backends' migrations describe the same schema.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'schema_migrations'"
            }
            Backend::Postgres => {
                "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'"
            }
        };
        let mut cols: Vec<(String, String)> = sqlx::query(sql)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r: &AnyRow| (r.get("t"), r.get("c")))
            .collect();
        cols.sort();
        Ok(cols)
    }
}

/// The URL of `relais.db` in `data_dir`, created if needed.
fn data_dir_url(data_dir: &Path) -> Result<String, StoreError> {
    ensure_writable_dir(data_dir)?;
    let file = data_dir.join("relais.db");
    Ok(format!("sqlite://{}?mode=rwc", file.display()))
}

/// Turns a unique-constraint violation into [`StoreError::Duplicate`] naming `field`.
/// `n` parameters numbered from `from`: `$from, $from+1, …`, except on SQLite where they
/// are `?, ?, …`: SQLite looks up each named parameter by walking the list of names, so a
/// statement of thousands of `$n` costs their square.
pub(crate) fn marks(conn: &sqlx::AnyConnection, from: usize, n: usize) -> String {
    let sqlite = conn.backend_name() == "SQLite";
    (from..from + n)
        .map(|i| {
            if sqlite {
                "?".to_string()
            } else {
                format!("${i}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn duplicate_as(field: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate(field),
        _ => StoreError::Query(e),
    }
}

/// Hides the password of a database URL so it can be shown or logged.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _password)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

fn ensure_writable_dir(dir: &Path) -> Result<(), StoreError> {
    let fail = |reason: String| StoreError::DataDir {
        path: dir.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    let probe = dir.join(".relais-write-test");
    std::fs::write(&probe, b"ok").map_err(|e| fail(e.to_string()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Inserts `rows` with multi-row INSERTs, as many rows per statement as the bound values
/// allow (SQLite takes 32,766 at most).
pub(crate) async fn insert_rows<'a, T>(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: &'a [T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'a T) -> AnyQuery<'q>,
) -> Result<(), StoreError> {
    insert_rows_as(conn, table, columns, rows, bind, "").await
}

/// The same with the rows' ids given (bulk loads): PostgreSQL must be told to take them
/// over its identity column.
pub(crate) async fn insert_rows_with_ids<'a, T>(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: &'a [T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'a T) -> AnyQuery<'q>,
) -> Result<(), StoreError> {
    let clause = if conn.backend_name() == "SQLite" {
        ""
    } else {
        " OVERRIDING SYSTEM VALUE"
    };
    insert_rows_as(conn, table, columns, rows, bind, clause).await
}

async fn insert_rows_as<'a, T>(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: &'a [T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'a T) -> AnyQuery<'q>,
    clause: &str,
) -> Result<(), StoreError> {
    let batch = (32_000 / columns.len()).clamp(1, 1_000);
    for chunk in rows.chunks(batch) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", marks(conn, i * columns.len() + 1, columns.len())))
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}){clause} VALUES {}",
            columns.join(", "),
            rows.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for row in chunk {
            q = bind(q, row);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://relais:s3cret@db.example:5432/relais"),
            "postgres://relais:***@db.example:5432/relais"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(
            redact_url("sqlite://relais-data/relais.db"),
            "sqlite://relais-data/relais.db"
        );
    }
}
