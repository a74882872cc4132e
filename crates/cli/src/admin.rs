//! `relais admin …`: what an operator does before anyone can log in (the first
//! administrator, structures, roles). Every change is journaled as done by the system.

use anyhow::{Context, anyhow};
use clap::Subcommand;
use relais_domain::comptes::{GlobalRole, Role, StructureKind};
use relais_services::comptes as svc;
use relais_store::Db;
use relais_store::comptes as repo;

use crate::config::{Config, GlobalArgs, ServeArgs};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a local account. The password is read from RELAIS_NEW_PASSWORD, or else from
    /// the first line of standard input; the second factor is set up at first login.
    CreateAccount {
        #[arg(long)]
        email: String,
        #[arg(long)]
        given_name: String,
        #[arg(long)]
        family_name: String,
        /// Make the account a national administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Register a structure.
    CreateStructure {
        #[arg(long)]
        siret: String,
        #[arg(long)]
        nom: String,
        /// collectivite, administration, association, entreprise or autre.
        #[arg(long, default_value = "autre")]
        kind: String,
        #[arg(long, default_value = "")]
        adresse: String,
        /// INSEE code of the commune.
        #[arg(long)]
        commune: String,
    },
    /// Give a person a role in a structure: mediateur, aidant, prescripteur or referent.
    GrantRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        siret: String,
        #[arg(long)]
        role: String,
    },
    /// Lift the lock of an account (after too many wrong passwords or codes).
    Unlock {
        #[arg(long)]
        email: String,
    },
}

pub async fn run(global: &GlobalArgs, command: &AdminCommand) -> anyhow::Result<()> {
    let config = Config::resolve(global, &ServeArgs::default())?;
    let db = crate::run::open(&config).await?;
    let result = execute(&db, command).await;
    db.close().await;
    result
}

async fn execute(db: &Db, command: &AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateAccount {
            email,
            given_name,
            family_name,
            admin,
        } => {
            let password = match std::env::var("RELAIS_NEW_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("lecture du mot de passe")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let id =
                svc::create_account(db, email, given_name, family_name, &password, None).await?;
            if *admin {
                svc::grant_global_role(db, id, GlobalRole::Administrateur, "", None).await?;
            }
            println!("Compte n° {id} créé pour {email}.");
        }
        AdminCommand::CreateStructure {
            siret,
            nom,
            kind,
            adresse,
            commune,
        } => {
            let kind = StructureKind::parse(kind)
                .ok_or_else(|| anyhow!("type de structure « {kind} » inconnu"))?;
            let id = svc::create_structure(db, siret, nom, kind, adresse, commune, None).await?;
            println!("Structure n° {id} créée : {nom}.");
        }
        AdminCommand::GrantRole { email, siret, role } => {
            let role = Role::parse(role).ok_or_else(|| anyhow!("rôle « {role} » inconnu"))?;
            let person = repo::person_by_email(db, &email.trim().to_lowercase())
                .await?
                .ok_or_else(|| anyhow!("aucun compte pour {email}"))?;
            let structure = repo::structure_by_siret(db, siret.trim())
                .await?
                .ok_or_else(|| anyhow!("aucune structure de SIRET {siret}"))?;
            svc::grant_role(db, person.id, structure.id, role, None).await?;
            println!(
                "{email} est désormais {} de {}.",
                role.label(),
                structure.nom
            );
        }
        AdminCommand::Unlock { email } => {
            let person = repo::person_by_email(db, &email.trim().to_lowercase())
                .await?
                .ok_or_else(|| anyhow!("aucun compte pour {email}"))?;
            svc::unlock_by_operator(db, &person).await?;
            println!("Le compte de {email} est déverrouillé.");
        }
    }
    Ok(())
}
