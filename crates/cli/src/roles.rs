//! PostgreSQL roles as the commands see them: `relais migrate` makes the runtime role,
//! `serve` and `worker` refuse to run as a role that could rewrite the journal.

use anyhow::bail;
use relais_store::roles::{self, RoleReport};
use relais_store::{Backend, Db};

use crate::config::Config;

/// Before `serve` or `worker` open the database for good. On PostgreSQL: a superuser or
/// an owner is refused unless `allow_superuser` (then warned about); any other role
/// cannot migrate, so it starts only on an up-to-date schema.
pub async fn check_runtime(db: &Db, config: &Config) -> anyhow::Result<()> {
    let Some(role) = roles::connected(db).await? else {
        return Ok(());
    };
    let what = if role.superuser {
        "est superutilisateur"
    } else {
        "possède la table journal ou le schéma (ou appartient à leur propriétaire)"
    };
    if role.privileged() {
        if !config.autoriser_superutilisateur {
            bail!(
                "refus de démarrer : le rôle PostgreSQL « {} » {what} et pourrait réécrire le journal ; \
                 connectez serve et worker avec le rôle d’exécution « {} » (créé par `relais migrate`), \
                 ou passez outre en connaissance de cause avec --autoriser-superutilisateur (RELAIS_AUTORISER_SUPERUTILISATEUR=true)",
                role.name,
                config.role_execution
            );
        }
        tracing::warn!(
            role = %role.name,
            "le rôle PostgreSQL {what} et pourrait réécrire le journal : démarrage autorisé par \
             autoriser_superutilisateur ; préférez le rôle d’exécution « {} » créé par `relais migrate`",
            config.role_execution
        );
        return Ok(());
    }
    let pending = db.pending_migrations().await?;
    if !pending.is_empty() {
        let list: Vec<String> = pending.iter().map(|v| format!("{v:04}")).collect();
        bail!(
            "la base attend {} migration(s) ({}) que le rôle « {} » ne peut pas appliquer : \
             lancez d’abord `relais migrate` avec l’adresse du propriétaire du schéma",
            pending.len(),
            list.join(", "),
            role.name
        );
    }
    Ok(())
}

/// `relais migrate` on PostgreSQL: creates or checks the runtime role and its grants,
/// and says what it did. The password comes from `RELAIS_MOT_DE_PASSE_EXECUTION` only.
pub async fn ensure_runtime(db: &Db, config: &Config) -> anyhow::Result<()> {
    if db.backend() != Backend::Postgres {
        return Ok(());
    }
    let password = std::env::var("RELAIS_MOT_DE_PASSE_EXECUTION")
        .ok()
        .filter(|p| !p.is_empty());
    let report =
        roles::ensure_runtime_role(db, &config.role_execution, password.as_deref()).await?;
    print!(
        "{}",
        summary(&report, config.base.as_deref().unwrap_or_default())
    );
    Ok(())
}

/// The report in French, one fact a line.
fn summary(r: &RoleReport, owner_url: &str) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    if r.created {
        line(format!(
            "Rôle d’exécution « {} » créé : LOGIN, sans aucun attribut d’administration, propriétaire de rien.",
            r.role
        ));
    } else {
        line(format!("Rôle d’exécution « {} » vérifié.", r.role));
    }
    if !r.attributes_fixed.is_empty() {
        line(format!(
            "Attributs corrigés : {}.",
            r.attributes_fixed.join(", ")
        ));
    }
    if r.password_set {
        line("Mot de passe défini depuis RELAIS_MOT_DE_PASSE_EXECUTION.".to_string());
    } else if r.created {
        line(format!(
            "Aucun mot de passe : définissez-en un (RELAIS_MOT_DE_PASSE_EXECUTION au prochain `relais migrate`, \
             ou ALTER ROLE {} PASSWORD '…').",
            r.role
        ));
    }
    line(format!(
        "Droits sur le schéma « {} » : {} table(s) et {} séquence(s) ; journal et journal_checkpoints : \
         SELECT et INSERT seulement ; journal_head : SELECT et UPDATE ; schema_migrations : SELECT ; \
         les autres tables : SELECT, INSERT, UPDATE, DELETE ; séquences : USAGE.",
        r.schema, r.tables, r.sequences
    ));
    // A new role receives everything: the line above says it all.
    if !r.granted.is_empty() && !r.created {
        line(format!("Droits accordés : {}.", by_table(&r.granted)));
    }
    if !r.revoked.is_empty() {
        line(format!("Droits retirés : {}.", by_table(&r.revoked)));
    }
    for w in &r.warnings {
        line(format!("Attention : {w}."));
    }
    line(format!(
        "serve et worker : --base {}",
        runtime_url(owner_url, &r.role)
    ));
    out
}

/// `["journal UPDATE", "journal TRUNCATE", "jobs SELECT"]` → `journal (UPDATE, TRUNCATE), jobs (SELECT)`.
fn by_table(privileges: &[String]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for p in privileges {
        let (table, privilege) = p.rsplit_once(' ').unwrap_or((p, ""));
        match groups.iter_mut().find(|(t, _)| *t == table) {
            Some((_, list)) => list.push(privilege),
            None => groups.push((table, vec![privilege])),
        }
    }
    groups
        .iter()
        .map(|(table, list)| format!("{table} ({})", list.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The owner's URL with the runtime role as user and a placeholder for its password.
fn runtime_url(owner_url: &str, role: &str) -> String {
    match owner_url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            // The owner's password may also be a query parameter.
            let (host, query) = host.split_once('?').unwrap_or((host, ""));
            let query: Vec<&str> = query
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with("password=") && !p.starts_with("user="))
                .collect();
            let query = if query.is_empty() {
                String::new()
            } else {
                format!("?{}", query.join("&"))
            };
            format!("{scheme}://{role}:MOT_DE_PASSE@{host}{query}")
        }
        None => format!("postgres://{role}:MOT_DE_PASSE@HÔTE/BASE"),
    }
}

#[cfg(test)]
mod tests {
    use super::runtime_url;

    #[test]
    fn the_runtime_url_hides_the_owner_and_its_password() {
        assert_eq!(
            runtime_url(
                "postgres://proprietaire:secret@db.interne:5432/relais",
                "relais_app"
            ),
            "postgres://relais_app:MOT_DE_PASSE@db.interne:5432/relais"
        );
        assert_eq!(
            runtime_url("postgresql://db/relais", "relais_app"),
            "postgresql://relais_app:MOT_DE_PASSE@db/relais"
        );
        assert_eq!(
            runtime_url(
                "postgres://db/relais?user=proprietaire&password=secret&sslmode=require",
                "relais_app"
            ),
            "postgres://relais_app:MOT_DE_PASSE@db/relais?sslmode=require"
        );
    }

    #[test]
    fn privileges_are_grouped_by_table() {
        let list = ["journal UPDATE", "journal TRUNCATE", "jobs SELECT"].map(String::from);
        assert_eq!(
            super::by_table(&list),
            "journal (UPDATE, TRUNCATE), jobs (SELECT)"
        );
    }
}
