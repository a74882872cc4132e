//! PostgreSQL roles: least privilege for the running application.
//!
//! `relais migrate` connects as the owner of the schema; `relais serve` and `worker`
//! connect as the runtime role, which owns nothing, holds no administrative attribute,
//! and has only the privileges the application uses: on the append-only tables it may
//! read and add rows, never change, remove, truncate nor disable their triggers (only an
//! owner can). [`ensure_runtime_role`] creates the role if needed and sets its grants
//! from the tables that exist, revoking any extra; [`connected`] tells `serve` who it is.

use sqlx::Row;

use crate::{Backend, Db, StoreError};

/// Tables whose rows are never changed nor removed: the runtime role reads and adds.
pub const APPEND_ONLY_TABLES: &[&str] = &["journal", "journal_checkpoints", "utilisations_pass"];

/// Tables the runtime role reads and updates but never adds to nor empties: the journal's
/// head moves with each append (journal.rs).
pub const UPDATE_ONLY_TABLES: &[&str] = &["journal_head"];

/// Tables only migrations write.
pub const READ_ONLY_TABLES: &[&str] = &["schema_migrations"];

/// Every privilege PostgreSQL knows on a table or a sequence (before 17's MAINTAIN).
const TABLE_PRIVILEGES: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "REFERENCES",
    "TRIGGER",
];
const SEQUENCE_PRIVILEGES: &[&str] = &["USAGE", "SELECT", "UPDATE"];

/// The privileges the runtime role needs on table `name`.
pub fn table_privileges(name: &str) -> &'static [&'static str] {
    if APPEND_ONLY_TABLES.contains(&name) {
        &["SELECT", "INSERT"]
    } else if UPDATE_ONLY_TABLES.contains(&name) {
        &["SELECT", "UPDATE"]
    } else if READ_ONLY_TABLES.contains(&name) {
        &["SELECT"]
    } else {
        &["SELECT", "INSERT", "UPDATE", "DELETE"]
    }
}

/// What [`ensure_runtime_role`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleReport {
    pub role: String,
    /// The schema the grants apply to.
    pub schema: String,
    /// The role did not exist and was created (with LOGIN).
    pub created: bool,
    /// A password was given and set.
    pub password_set: bool,
    /// Attributes that had to be turned off or on (`NOSUPERUSER`, `LOGIN`, …).
    pub attributes_fixed: Vec<String>,
    pub tables: usize,
    pub sequences: usize,
    /// Privileges added, as `table PRIVILÈGE`.
    pub granted: Vec<String>,
    /// Privileges taken back, as `table PRIVILÈGE`.
    pub revoked: Vec<String>,
    /// Risks left that only the operator can lift (rights given to PUBLIC).
    pub warnings: Vec<String>,
}

/// Who a connection runs as, and whether it could rewrite the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedRole {
    pub name: String,
    pub superuser: bool,
    /// Owns (or is a member of the owner of) the journal table or the schema.
    pub owner: bool,
}

impl ConnectedRole {
    /// A superuser or an owner can alter the journal, drop its triggers or the table.
    pub fn privileged(&self) -> bool {
        self.superuser || self.owner
    }
}

/// The role this connection runs as, on PostgreSQL; `None` on SQLite.
pub async fn connected(db: &Db) -> Result<Option<ConnectedRole>, StoreError> {
    if db.backend() != Backend::Postgres {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT current_user::text, r.rolsuper, \
         COALESCE((SELECT pg_has_role(c.relowner, 'MEMBER') FROM pg_class c \
                   WHERE c.oid = to_regclass('journal')), false) \
         OR COALESCE((SELECT pg_has_role(n.nspowner, 'MEMBER') FROM pg_namespace n \
                      WHERE n.nspname = current_schema()), false) \
         FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(db.pool())
    .await?;
    Ok(Some(ConnectedRole {
        name: row.get(0),
        superuser: row.get(1),
        owner: row.get(2),
    }))
}

/// A role name Relais accepts: an unquoted PostgreSQL identifier.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= 63
}

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Creates the runtime role `name` if missing (LOGIN, no administrative attribute,
/// `password` if given), then makes its privileges on the current schema exactly what
/// the application needs. Idempotent; serialised with migrations by the advisory lock.
/// PostgreSQL only.
pub async fn ensure_runtime_role(
    db: &Db,
    name: &str,
    password: Option<&str>,
) -> Result<RoleReport, StoreError> {
    if db.backend() != Backend::Postgres {
        return Err(StoreError::Role(
            "les rôles n’existent que sur PostgreSQL".to_string(),
        ));
    }
    if !valid_name(name) {
        return Err(StoreError::Role(format!(
            "nom invalide « {name} » : lettres minuscules sans accent, chiffres et _, 63 au plus, sans chiffre au début"
        )));
    }
    let mut conn = db.pool().acquire().await?;
    crate::migrations::advisory_lock(&mut conn, true).await?;
    let result = apply(&mut conn, name, password).await;
    crate::migrations::advisory_lock(&mut conn, false).await?;
    result
}

async fn apply(
    conn: &mut sqlx::AnyConnection,
    name: &str,
    password: Option<&str>,
) -> Result<RoleReport, StoreError> {
    let fail = |m: String| Err(StoreError::Role(m));
    let row = sqlx::query("SELECT current_user::text, current_schema()::text")
        .fetch_one(&mut *conn)
        .await?;
    let (me, schema): (String, String) = (row.get(0), row.get(1));
    if me == name {
        return fail(format!(
            "« {name} » est le rôle qui migre : relais migrate doit se connecter avec le propriétaire du schéma, et runtime_role nommer un autre rôle"
        ));
    }
    let mut report = RoleReport {
        role: name.to_string(),
        schema: schema.clone(),
        ..Default::default()
    };
    report.created = create_if_missing(conn, name).await?;
    report.attributes_fixed = fix_attributes(conn, name).await?;
    if let Some(password) = password {
        set_password(conn, name, password).await?;
        report.password_set = true;
    }
    // Owning a table or the schema, or belonging to its owner, would let the role drop
    // triggers and tables whatever its grants.
    let owned: Vec<(String, String)> = statement!(
        "SELECT c.relname::text, pg_get_userbyid(c.relowner)::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND pg_has_role($1::name, c.relowner, 'MEMBER') \
         UNION ALL \
         SELECT 'schéma ' || n.nspname::text, pg_get_userbyid(n.nspowner)::text \
         FROM pg_namespace n \
         WHERE n.nspname = current_schema() AND pg_has_role($1::name, n.nspowner, 'MEMBER') \
         ORDER BY 1",
        name
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    if let Some((object, owner)) = owned.first() {
        return fail(format!(
            "« {name} » possède {object} ou appartient à son propriétaire « {owner} » ({n} objet(s)) : le rôle d’exécution ne doit rien posséder (ALTER … OWNER TO, REVOKE {owner} FROM {name})",
            n = owned.len()
        ));
    }
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let schema_id = ident(&schema);
    let role_id = ident(name);
    sqlx::raw_sql(&format!(
        "GRANT USAGE ON SCHEMA {schema_id} TO {role_id}; \
         REVOKE CREATE ON SCHEMA {schema_id} FROM {role_id};"
    ))
    .execute(&mut *tx)
    .await?;
    let found = privileges(&mut tx, name).await?;
    report.tables = count_kind(&found, "r");
    report.sequences = count_kind(&found, "S");
    for p in &found {
        let kind = if p.kind == "S" { "SEQUENCE" } else { "TABLE" };
        let object = format!("{kind} {schema_id}.{}", ident(&p.relation));
        if p.wanted && !p.effective {
            sqlx::raw_sql(&format!("GRANT {} ON {object} TO {role_id}", p.privilege))
                .execute(&mut *tx)
                .await?;
            report
                .granted
                .push(format!("{} {}", p.relation, p.privilege));
        } else if !p.wanted && p.direct {
            // On a table, this takes back the column grants of that privilege as well.
            sqlx::raw_sql(&format!(
                "REVOKE {} ON {object} FROM {role_id}",
                p.privilege
            ))
            .execute(&mut *tx)
            .await?;
            report
                .revoked
                .push(format!("{} {}", p.relation, p.privilege));
        }
    }
    // What is still held, through PUBLIC or another role, cannot be revoked from this role.
    for p in privileges(&mut tx, name).await? {
        if p.wanted && !p.effective {
            return fail(format!(
                "le droit {} sur {} n’a pas pu être accordé à « {name} »",
                p.privilege, p.relation
            ));
        }
        if !p.wanted && p.effective {
            return fail(format!(
                "« {name} » garde le droit {} sur {} par PUBLIC ou un autre rôle : retirez-le (REVOKE {} ON {} FROM PUBLIC)",
                p.privilege, p.relation, p.privilege, p.relation
            ));
        }
    }
    let create: bool = statement!(
        "SELECT has_schema_privilege($1::name, current_schema(), 'CREATE')",
        name
    )
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    if create {
        report.warnings.push(format!(
            "« {name} » peut encore créer des tables dans le schéma {schema} (droit donné à PUBLIC) : REVOKE CREATE ON SCHEMA {schema_id} FROM PUBLIC"
        ));
    }
    tx.commit().await?;
    Ok(report)
}

/// Creates the role if it does not exist; `true` if this call created it. Another
/// migrator (another database of the cluster) may create it at the same moment: its
/// existence afterwards is success.
async fn create_if_missing(conn: &mut sqlx::AnyConnection, name: &str) -> Result<bool, StoreError> {
    if role_exists(conn, name).await? {
        return Ok(false);
    }
    let created = sqlx::raw_sql(&format!(
        "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS NOREPLICATION",
        ident(name)
    ))
    .execute(&mut *conn)
    .await;
    match created {
        Ok(_) => Ok(true),
        Err(_) if role_exists(conn, name).await? => Ok(false),
        Err(e) => Err(StoreError::Role(format!(
            "impossible de créer « {name} » ({e}) : le propriétaire qui migre doit avoir l’attribut CREATEROLE, ou créez le rôle vous-même (CREATE ROLE {name} LOGIN)"
        ))),
    }
}

async fn role_exists(conn: &mut sqlx::AnyConnection, name: &str) -> Result<bool, StoreError> {
    let n: i64 = statement!(
        "SELECT COUNT(*) FROM pg_roles WHERE rolname = $1::name",
        name
    )
    .fetch_one(&mut *conn)
    .await?
    .get(0);
    Ok(n > 0)
}

/// Turns off every administrative attribute and turns on LOGIN; the names of those changed.
async fn fix_attributes(
    conn: &mut sqlx::AnyConnection,
    name: &str,
) -> Result<Vec<String>, StoreError> {
    let row = statement!(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication, rolcanlogin \
         FROM pg_roles WHERE rolname = $1::name",
        name
    )
    .fetch_one(&mut *conn)
    .await?;
    let wrong: Vec<String> = [
        ("NOSUPERUSER", row.get::<bool, _>(0)),
        ("NOCREATEROLE", row.get(1)),
        ("NOCREATEDB", row.get(2)),
        ("NOBYPASSRLS", row.get(3)),
        ("NOREPLICATION", row.get(4)),
        ("LOGIN", !row.get::<bool, _>(5)),
    ]
    .into_iter()
    .filter(|(_, wrong)| *wrong)
    .map(|(attribute, _)| attribute.to_string())
    .collect();
    if !wrong.is_empty() {
        sqlx::raw_sql(&format!("ALTER ROLE {} {}", ident(name), wrong.join(" ")))
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                StoreError::Role(format!(
                    "« {name} » a des attributs à retirer ({}) que le propriétaire ne peut pas changer : {e}",
                    wrong.join(", ")
                ))
            })?;
    }
    Ok(wrong)
}

/// Sets the role's password without writing it in any statement's text: it travels as a
/// bound parameter into a transaction-local setting, so neither sqlx's statement logs nor
/// the server's `log_statement` nor `pg_stat_activity` show it.
async fn set_password(
    conn: &mut sqlx::AnyConnection,
    name: &str,
    password: &str,
) -> Result<(), StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    statement!(
        "SELECT set_config('relais.runtime_role', $1, true), \
                set_config('relais.runtime_password', $2, true)",
        name,
        password
    )
    .execute(&mut *tx)
    .await?;
    sqlx::raw_sql(
        "DO $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', \
         current_setting('relais.runtime_role'), current_setting('relais.runtime_password')); END $$",
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| StoreError::Role(format!("mot de passe de « {name} » non défini : {e}")))?;
    tx.commit().await?;
    Ok(())
}

/// One privilege on one table or sequence of the schema, for the runtime role.
struct Privilege {
    relation: String,
    /// `r` (table) or `S` (sequence).
    kind: String,
    privilege: String,
    /// The application needs it.
    wanted: bool,
    /// Granted to the role itself (table or column level).
    direct: bool,
    /// Usable by the role, by any path (itself, PUBLIC, a role it belongs to).
    effective: bool,
}

fn count_kind(privileges: &[Privilege], kind: &str) -> usize {
    let mut names: Vec<&str> = privileges
        .iter()
        .filter(|p| p.kind == kind)
        .map(|p| p.relation.as_str())
        .collect();
    names.dedup();
    names.len()
}

async fn privileges(
    conn: &mut sqlx::AnyConnection,
    name: &str,
) -> Result<Vec<Privilege>, StoreError> {
    let table = TABLE_PRIVILEGES
        .iter()
        .map(|p| format!("('r', '{p}')"))
        .chain(SEQUENCE_PRIVILEGES.iter().map(|p| format!("('S', '{p}')")))
        .collect::<Vec<_>>()
        .join(", ");
    // Column grants count as direct and effective: a column's UPDATE is an UPDATE.
    let sql = format!(
        "SELECT c.relname::text, p.kind, p.priv, \
         EXISTS (SELECT 1 FROM aclexplode(c.relacl) a \
                 WHERE a.grantee = r.oid AND a.privilege_type = p.priv) \
         OR EXISTS (SELECT 1 FROM pg_attribute att, aclexplode(att.attacl) a \
                    WHERE att.attrelid = c.oid AND a.grantee = r.oid AND a.privilege_type = p.priv), \
         CASE WHEN p.kind = 'S' THEN has_sequence_privilege(r.oid, c.oid, p.priv) \
              WHEN p.priv IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES') \
                   THEN has_any_column_privilege(r.oid, c.oid, p.priv) \
              ELSE has_table_privilege(r.oid, c.oid, p.priv) END \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         CROSS JOIN (SELECT oid FROM pg_roles WHERE rolname = $1::name) r \
         JOIN (VALUES {table}) AS p(kind, priv) \
           ON p.kind = CASE WHEN c.relkind = 'S' THEN 'S' ELSE 'r' END \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S') \
         ORDER BY 1, 3"
    );
    let rows = statement!(&sql, name).fetch_all(&mut *conn).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let relation: String = r.get(0);
            let kind: String = r.get(1);
            let privilege: String = r.get(2);
            let wanted = if kind == "S" {
                privilege == "USAGE"
            } else {
                table_privileges(&relation).contains(&privilege.as_str())
            };
            Privilege {
                relation,
                kind,
                privilege,
                wanted,
                direct: r.get(3),
                effective: r.get(4),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_only_tables_get_select_and_insert_only() {
        assert_eq!(table_privileges("journal"), ["SELECT", "INSERT"]);
        assert_eq!(
            table_privileges("journal_checkpoints"),
            ["SELECT", "INSERT"]
        );
        assert_eq!(table_privileges("journal_head"), ["SELECT", "UPDATE"]);
        assert_eq!(
            table_privileges("sessions"),
            ["SELECT", "INSERT", "UPDATE", "DELETE"]
        );
    }

    #[test]
    fn role_names_are_plain_identifiers() {
        assert!(valid_name("relais_app"));
        assert!(!valid_name("Relais"));
        assert!(!valid_name("1app"));
        assert!(!valid_name("a\"; DROP TABLE journal; --"));
        assert!(!valid_name(&"a".repeat(64)));
    }
}
