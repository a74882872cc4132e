//! Test databases over both backends.
//!
//! Store tests are written once, as `async fn name(db: Db)`, and listed in
//! [`store_tests!`], which runs each on SQLite and on PostgreSQL (modules `sqlite` and
//! `postgres`, so the test output counts each backend). PostgreSQL is found at
//! `RELAIS_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`); when
//! it cannot be reached the test fails: it never skips.

use relais_store::Db;

pub mod diagnostic;
pub mod fixtures;
pub mod hostile;
pub mod pass;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn postgres_url() -> String {
    std::env::var("RELAIS_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

/// A migrated, empty database that disappears when the test is over.
pub struct TestDb {
    pub db: Db,
    /// The URL of this database, to open more pools on it (other "processes").
    pub url: String,
    /// The SQLite file's directory, removed on drop.
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL schema that holds this test's tables.
    schema: Option<String>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("dossier temporaire");
        let db = Db::open_data_dir(dir.path())
            .await
            .expect("ouverture SQLite");
        db.migrate().await.expect("migrations SQLite");
        let url = format!("sqlite://{}", dir.path().join("relais.db").display());
        TestDb {
            db,
            url,
            _dir: Some(dir),
            schema: None,
        }
    }

    /// A fresh schema in the test database, so tests run in parallel without sharing rows.
    pub async fn postgres() -> TestDb {
        let url = postgres_url();
        let admin = Db::connect(&url).await.unwrap_or_else(|e| {
            panic!("PostgreSQL est injoignable à {url} ({e}) : les tests de stockage exigent PostgreSQL")
        });
        let schema = unique_name("t");
        admin
            .execute_admin(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("création du schéma");
        admin.close().await;
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
        let db = Db::connect(&url)
            .await
            .expect("connexion au schéma de test");
        db.migrate().await.expect("migrations PostgreSQL");
        TestDb {
            db,
            url,
            _dir: None,
            schema: Some(schema),
        }
    }

    /// This database's URL (same schema) for another PostgreSQL role: the runtime role.
    pub fn url_as(&self, user: &str, password: &str) -> String {
        let (scheme, rest) = self.url.split_once("://").expect("adresse postgres://");
        let host = rest.split_once('@').map_or(rest, |(_, host)| host);
        format!("{scheme}://{user}:{password}@{host}")
    }

    /// Closes the pool and drops the PostgreSQL schema.
    pub async fn cleanup(self) {
        self.db.close().await;
        if let Some(schema) = &self.schema
            && let Ok(admin) = Db::connect(&postgres_url()).await
        {
            let _ = admin
                .execute_admin(&format!("DROP SCHEMA {schema} CASCADE"))
                .await;
            admin.close().await;
        }
    }
}

/// A PostgreSQL role name no other test uses at the same time (roles are cluster-wide).
pub fn unique_role(prefix: &str) -> String {
    unique_name(prefix)
}

/// `prefix`, then this process, the time and a counter: a name no other test takes.
fn unique_name(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// Removes a role made by a test: its grants in the test database, then the role.
pub async fn drop_role(role: &str) {
    if let Ok(admin) = Db::connect(&postgres_url()).await {
        let _ = admin
            .execute_admin(&format!("DROP OWNED BY {role}; DROP ROLE IF EXISTS {role}"))
            .await;
        admin.close().await;
    }
}

/// Runs each listed `async fn(Db)` on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        $crate::__on_each_backend!(db: $($name),*);
    };
}

/// Like [`store_tests!`], for tests that need the whole [`TestDb`] (its URL, its pool):
/// `async fn name(t: &TestDb)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $crate::__on_each_backend!(test_db: $($name),*);
    };
}

/// The modules `sqlite` and `postgres` of [`store_tests!`] and [`backend_tests!`]: a test
/// per name in each, on a fresh [`TestDb`] of that backend, given its `Db` (`db`) or the
/// `TestDb` itself (`test_db`).
#[doc(hidden)]
#[macro_export]
macro_rules! __on_each_backend {
    ($pass:ident: $($name:ident),*) => {
        $crate::__on_each_backend!(@backend sqlite $pass: $($name),*);
        $crate::__on_each_backend!(@backend postgres $pass: $($name),*);
    };
    (@backend $backend:ident $pass:ident: $($name:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let t = $crate::TestDb::$backend().await;
                    $crate::__on_each_backend!(@call $pass super::$name, t);
                    t.cleanup().await;
                }
            )*
        }
    };
    (@call db $test:path, $t:ident) => {
        $test($t.db.clone()).await
    };
    (@call test_db $test:path, $t:ident) => {
        $test(&$t).await
    };
}

/// The commune most tests need (Saint-Étienne, 42218), with its département and région.
pub async fn seed_commune(db: &Db) {
    for sql in [
        "INSERT INTO regions (code, nom) VALUES ('84', 'Auvergne-Rhône-Alpes')",
        "INSERT INTO departements (code, nom, region) VALUES ('42', 'Loire', '84')",
        "INSERT INTO communes (code, nom, kind, departement, region, codes_postaux, population) \
         VALUES ('42218', 'Saint-Étienne', 'commune-actuelle', '42', '84', '42000', 173136)",
    ] {
        db.execute_admin(sql).await.expect("commune de test");
    }
}
