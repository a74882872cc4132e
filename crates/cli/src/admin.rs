//! `relais admin …`: what an operator does before anyone can log in (the first
//! administrator, structures, roles). Every change is journaled as done by the system.

use anyhow::{Context, anyhow};
use clap::Subcommand;
use relais_domain::activites::statistiques::Perimetre;
use relais_domain::comptes::{GlobalRole, Role, StructureKind};
use relais_services::comptes as svc;
use relais_store::Db;
use relais_store::comptes as repo;

use crate::config::{BaseArgs, Config};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Créer un compte local. Le mot de passe est lu dans RELAIS_NOUVEAU_MOT_DE_PASSE, sinon
    /// sur la première ligne de l’entrée standard ; le second facteur est choisi à la
    /// première connexion.
    CreerCompte {
        /// Adresse de courriel de la personne (son identifiant de connexion).
        #[arg(long, value_name = "ADRESSE")]
        courriel: String,
        /// Prénom de la personne.
        #[arg(long, value_name = "PRÉNOM")]
        prenom: String,
        /// Nom de famille de la personne.
        #[arg(long, value_name = "NOM")]
        nom: String,
        /// Faire du compte un administrateur national.
        #[arg(long)]
        admin: bool,
    },
    /// Enregistrer une structure.
    CreerStructure {
        /// SIRET de la structure (14 chiffres).
        #[arg(long, value_name = "SIRET")]
        siret: String,
        /// Nom de la structure.
        #[arg(long, value_name = "NOM")]
        nom: String,
        /// Type de structure : collectivite, administration, association, entreprise ou
        /// autre. Par défaut autre.
        #[arg(
            long = "type",
            default_value = "autre",
            hide_default_value = true,
            value_name = "TYPE"
        )]
        type_: String,
        /// Adresse postale de la structure.
        #[arg(
            long,
            default_value = "",
            hide_default_value = true,
            value_name = "ADRESSE"
        )]
        adresse: String,
        /// Code INSEE de la commune de la structure.
        #[arg(long, value_name = "CODE")]
        commune: String,
    },
    /// Donner à une personne un rôle dans une structure.
    AttribuerRole {
        /// Adresse de courriel du compte.
        #[arg(long, value_name = "ADRESSE")]
        courriel: String,
        /// SIRET de la structure.
        #[arg(long, value_name = "SIRET")]
        siret: String,
        /// Numéro de la structure, quand plusieurs structures ont ce SIRET (les
        /// antennes d’un même établissement dans un registre importé).
        #[arg(long, value_name = "NUMÉRO")]
        structure: Option<i64>,
        /// Rôle : mediateur, aidant, prescripteur ou referent.
        #[arg(long, value_name = "RÔLE")]
        role: String,
    },
    /// Faire d’une personne la coordinatrice d’un hub territorial : elle importe les lieux
    /// du hub et voit les statistiques des activités de son territoire.
    CoordinateurHub {
        /// Adresse de courriel du compte.
        #[arg(long, value_name = "ADRESSE")]
        courriel: String,
        /// Territoire du hub : un département ou une région, par son code ou son nom
        /// (« 42 », « Loire », « 84 »).
        #[arg(long, value_name = "TERRITOIRE")]
        perimetre: String,
    },
    /// Enregistrer un service de démarches en ligne, client de Relais comme fournisseur
    /// d’identité OpenID Connect. Affiche son identifiant et son secret, une seule fois.
    EnregistrerService {
        /// Nom du service, montré aux aidants.
        #[arg(long, value_name = "NOM")]
        nom: String,
        /// Adresse de retour (redirect_uri), comparée à l’identique ; une ou plusieurs.
        #[arg(long = "adresse-retour", value_name = "URL", required = true)]
        adresses_retour: Vec<String>,
        /// Familles de démarches que le service peut demander (papiers, famille, social,
        /// travail, logement, transports, argent, justice, etranger, loisirs), séparées par
        /// des virgules.
        #[arg(long, value_delimiter = ',', required = true, value_name = "CODE,…")]
        demarches: Vec<String>,
    },
    /// Lever le verrou d’un compte (après trop de mots de passe ou de codes faux).
    Deverrouiller {
        /// Adresse de courriel du compte.
        #[arg(long, value_name = "ADRESSE")]
        courriel: String,
    },
}

pub async fn run(base: &BaseArgs, command: &AdminCommand) -> anyhow::Result<()> {
    let config = Config::of_base(base)?;
    let db = crate::run::open(&config).await?;
    let result = execute(&db, command).await;
    db.close().await;
    result
}

async fn execute(db: &Db, command: &AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::EnregistrerService {
            nom,
            adresses_retour,
            demarches,
        } => {
            let codes: Vec<&str> = demarches.iter().map(String::as_str).collect();
            let done = relais_services::mandats::fournisseur::enregistrer_client(
                db,
                None,
                nom,
                &adresses_retour.join("\n"),
                &codes,
                relais_domain::calendrier::now_ms(),
            )
            .await?;
            println!("client_id={}", done.client_id);
            println!("client_secret={}", done.secret);
            eprintln!(
                "Service « {nom} » enregistré. Le secret n’est affiché qu’une fois : Relais n’en garde qu’une empreinte."
            );
        }
        AdminCommand::CreerCompte {
            courriel,
            prenom,
            nom,
            admin,
        } => {
            let password = match std::env::var("RELAIS_NOUVEAU_MOT_DE_PASSE") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("lecture du mot de passe")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let id = svc::create_account(db, courriel, prenom, nom, &password, None).await?;
            if *admin {
                svc::grant_global_role(db, id, GlobalRole::Administrateur, "", None).await?;
            }
            println!("Compte n° {id} créé pour {courriel}.");
        }
        AdminCommand::CreerStructure {
            siret,
            nom,
            type_,
            adresse,
            commune,
        } => {
            let kind = StructureKind::parse(type_)
                .ok_or_else(|| anyhow!("type de structure « {type_} » inconnu"))?;
            let id = svc::create_structure(db, siret, nom, kind, adresse, commune, None).await?;
            println!("Structure n° {id} créée : {nom}.");
        }
        AdminCommand::CoordinateurHub {
            courriel,
            perimetre,
        } => {
            let person = repo::person_by_email(db, &courriel.trim().to_lowercase())
                .await?
                .ok_or_else(|| anyhow!("aucun compte pour {courriel}"))?;
            let territoires = relais_store::territoires::load_all(db).await?;
            let territoire = Perimetre::du_hub(perimetre, &territoires)
                .and_then(|p| p.nom(&territoires))
                .ok_or_else(|| {
                    anyhow!("« {perimetre} » n’est ni un département ni une région (code ou nom)")
                })?;
            svc::grant_global_role(
                db,
                person.id,
                GlobalRole::CoordinateurHub,
                perimetre.trim(),
                None,
            )
            .await?;
            println!("{courriel} coordonne désormais le hub : {territoire}.");
        }
        AdminCommand::AttribuerRole {
            courriel,
            siret,
            structure,
            role,
        } => {
            let role = Role::parse(role).ok_or_else(|| anyhow!("rôle « {role} » inconnu"))?;
            let person = repo::person_by_email(db, &courriel.trim().to_lowercase())
                .await?
                .ok_or_else(|| anyhow!("aucun compte pour {courriel}"))?;
            let mut found = repo::structures_by_siret(db, siret.trim()).await?;
            found.retain(|s| structure.is_none_or(|id| s.id.0 == id));
            let structure = match found.len() {
                0 => anyhow::bail!("aucune structure de SIRET {siret} (et de ce numéro)"),
                1 => found.remove(0),
                _ => anyhow::bail!(
                    "{} structures ont le SIRET {siret} ; choisissez-en une avec --structure :\n{}",
                    found.len(),
                    found
                        .iter()
                        .map(|s| format!("  {} : {} ({})", s.id, s.nom, s.commune))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            };
            svc::grant_role(db, person.id, structure.id, role, None).await?;
            println!(
                "{courriel} est désormais {} de {}.",
                role.label(),
                structure.nom
            );
        }
        AdminCommand::Deverrouiller { courriel } => {
            let person = repo::person_by_email(db, &courriel.trim().to_lowercase())
                .await?
                .ok_or_else(|| anyhow!("aucun compte pour {courriel}"))?;
            svc::unlock_by_operator(db, &person).await?;
            println!("Le compte de {courriel} est déverrouillé.");
        }
    }
    Ok(())
}
