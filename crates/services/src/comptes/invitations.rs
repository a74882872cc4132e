//! Invitations of team members by référents: an e-mailed single-use link, valid
//! [`LIFETIME`], that creates the account (or adds the role to an existing one).

use std::time::Duration;

use data_encoding::BASE64URL_NOPAD;
use rand::Rng;
use relais_domain::authz::StructureAccess;
use relais_domain::calendrier::date_fr;
use relais_domain::calendrier::now_ms;
use relais_domain::comptes::{CompteError, Email, Role, check_password};
use relais_domain::ids::{InvitationId, PersonId};
use relais_domain::journal::JournalAction;
use relais_store::comptes as people;
use relais_store::comptes::invitations::{self as repo, NewInvitation};

pub use relais_store::comptes::invitations::Invitation;
use relais_store::{Db, StoreError, journal};

use crate::comptes::{about_person, hash_password, sha256_hex};
use crate::courriel::{self, Courriel};

pub const LIFETIME: Duration = Duration::from_secs(7 * 86_400);

#[derive(Debug, thiserror::Error)]
pub enum InvitationError {
    #[error(transparent)]
    Invalid(#[from] CompteError),
    #[error("le prénom et le nom sont obligatoires")]
    MissingName,
    #[error("choisissez un rôle dans la liste")]
    UnknownRole,
    #[error("le rôle d’aidant s’obtient par une demande d’habilitation, pas par une invitation")]
    AidantNeedsHabilitation,
    #[error("cette personne a déjà ce rôle dans la structure")]
    AlreadyMember,
    #[error(
        "ce lien d’invitation n’est pas valide : vérifiez qu’il est complet, ou demandez une nouvelle invitation à votre référent"
    )]
    Unknown,
    #[error(
        "cette invitation a expiré le {0} : demandez à votre référent de vous en envoyer une nouvelle"
    )]
    Expired(String),
    #[error("cette invitation a déjà été acceptée : connectez-vous")]
    Accepted,
    #[error("cette invitation a été retirée par la structure")]
    Withdrawn,
    #[error("cette invitation est adressée à {0} : connectez-vous avec ce compte pour l’accepter")]
    OtherAccount(String),
    #[error("{0} a déjà un compte Relais : connectez-vous pour accepter l’invitation")]
    HasAccount(String),
    #[error("les deux mots de passe ne sont pas identiques")]
    PasswordsDiffer,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a référent types in the invitation form.
#[derive(Debug, Clone, Default)]
pub struct InvitationForm {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub role: String,
}

/// Invites someone into the référent's structure: the invitation, its journal entry and
/// its e-mail are saved together. `public_url` starts the link in the e-mail.
pub async fn invite(
    db: &Db,
    referent: &StructureAccess,
    form: &InvitationForm,
    public_url: &str,
) -> Result<InvitationId, InvitationError> {
    let email = Email::parse(&form.email)?;
    let (given, family) = (form.given_name.trim(), form.family_name.trim());
    if given.is_empty() || family.is_empty() {
        return Err(InvitationError::MissingName);
    }
    let role = Role::parse(&form.role).ok_or(InvitationError::UnknownRole)?;
    if role == Role::Aidant {
        return Err(InvitationError::AidantNeedsHabilitation);
    }
    if let Some(person) = people::person_by_email(db, email.as_str()).await? {
        let roles = people::memberships_of(db, person.id).await?;
        if roles
            .iter()
            .any(|m| m.structure_id == referent.structure() && m.role == role)
        {
            return Err(InvitationError::AlreadyMember);
        }
    }
    let structure = people::structure(db, referent.structure())
        .await?
        .ok_or(InvitationError::Unknown)?;
    let inviter = people::person(db, referent.person())
        .await?
        .ok_or(InvitationError::Unknown)?;
    let token = BASE64URL_NOPAD.encode(&rand::rng().random::<[u8; 32]>());
    let now = now_ms();
    let expires_at = now + LIFETIME.as_millis() as i64;
    let mut tx = db.begin().await?;
    let new = NewInvitation {
        structure_id: structure.id,
        email: email.as_str().to_string(),
        given_name: given.to_string(),
        family_name: family.to_string(),
        role,
        invited_by: inviter.id,
    };
    let id = repo::create(&mut tx, &new, &sha256_hex(&token), now, expires_at).await?;
    journal::append(
        &mut tx,
        &relais_domain::journal::NewEntry::new(
            JournalAction::PersonInvited,
            "invitation",
            id.to_string(),
        )
        .by(inviter.id, Some(structure.id))
        .in_structure(structure.id)
        .with_role(role.as_str()),
    )
    .await?;
    courriel::queue(
        &mut tx,
        &Courriel {
            to: new.email.clone(),
            subject: format!("Invitation à rejoindre {} sur Relais", structure.nom),
            body: format!(
                "Bonjour {given},\n\n\
                 {} {} vous invite à rejoindre l’équipe de {} sur Relais, avec le rôle de {}.\n\n\
                 Pour accepter, ouvrez ce lien avant le {} :\n{public_url}/invitation/{token}\n\n\
                 Si vous ne vous attendiez pas à ce message, ignorez-le : aucun compte ne sera créé.\n\n\
                 Relais, la plateforme de l’inclusion numérique\n",
                inviter.given_name,
                inviter.family_name,
                structure.nom,
                role.label().to_lowercase(),
                date_fr(expires_at),
            ),
        },
    )
    .await?;
    relais_store::commit(tx).await?;
    Ok(id)
}

/// The structure's invitations not yet accepted nor withdrawn.
pub async fn open_invitations(
    db: &Db,
    access: &StructureAccess,
) -> Result<Vec<Invitation>, StoreError> {
    repo::open_for(db, access.structure()).await
}

/// Withdraws an invitation of the référent's structure.
pub async fn withdraw(
    db: &Db,
    access: &StructureAccess,
    id: InvitationId,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let done = repo::revoke(&mut tx, id, access.structure(), now_ms()).await?;
    relais_store::commit(tx).await?;
    Ok(done)
}

/// The invitation behind a link, if it can still be accepted.
pub async fn find(db: &Db, token: &str) -> Result<Invitation, InvitationError> {
    let invitation = repo::by_token(db, &sha256_hex(token.trim()))
        .await?
        .ok_or(InvitationError::Unknown)?;
    if invitation.accepted_at.is_some() {
        return Err(InvitationError::Accepted);
    }
    if invitation.revoked_at.is_some() {
        return Err(InvitationError::Withdrawn);
    }
    if invitation.expires_at <= now_ms() {
        return Err(InvitationError::Expired(date_fr(invitation.expires_at)));
    }
    Ok(invitation)
}

/// Whether the invited address already has an account (then its owner logs in to accept).
pub async fn has_account(db: &Db, invitation: &Invitation) -> Result<bool, StoreError> {
    Ok(people::person_by_email(db, &invitation.email)
        .await?
        .is_some())
}

/// Accepts an invitation by creating the account; returns the new person's id.
pub async fn accept_with_new_account(
    db: &Db,
    token: &str,
    password: &str,
    confirm: &str,
) -> Result<PersonId, InvitationError> {
    let invitation = find(db, token).await?;
    if has_account(db, &invitation).await? {
        return Err(InvitationError::HasAccount(invitation.email));
    }
    check_password(password)?;
    if password != confirm {
        return Err(InvitationError::PasswordsDiffer);
    }
    let hash = hash_password(password)
        .await
        .map_err(InvitationError::Invalid)?;
    let now = now_ms();
    let mut tx = db.begin().await?;
    let person = people::create_person(
        &mut tx,
        &invitation.email,
        &invitation.given_name,
        &invitation.family_name,
        Some(&hash),
        now,
    )
    .await
    .map_err(|e| match e {
        StoreError::Duplicate(_) => InvitationError::HasAccount(invitation.email.clone()),
        e => e.into(),
    })?;
    join(&mut tx, &invitation, person, now).await?;
    relais_store::commit(tx).await?;
    Ok(person)
}

/// Accepts an invitation for the logged-in person, whose address must be the invited one.
pub async fn accept_as(db: &Db, token: &str, person: PersonId) -> Result<(), InvitationError> {
    let invitation = find(db, token).await?;
    let me = people::person(db, person)
        .await?
        .ok_or(InvitationError::Unknown)?;
    if me.email != invitation.email {
        return Err(InvitationError::OtherAccount(invitation.email));
    }
    let now = now_ms();
    let mut tx = db.begin().await?;
    join(&mut tx, &invitation, person, now).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// The role granted and the invitation closed, in one transaction; refused if someone
/// accepted, withdrew it or it expired meanwhile.
async fn join(
    tx: &mut relais_store::Tx,
    invitation: &Invitation,
    person: PersonId,
    now: i64,
) -> Result<(), InvitationError> {
    if !repo::accept(tx, invitation.id, person, now).await? {
        return Err(InvitationError::Accepted);
    }
    let change = people::RoleChange {
        person,
        structure: invitation.structure_id,
        role: invitation.role,
        by: Some(invitation.invited_by),
        at: now,
    };
    match people::grant_role(tx, &change).await {
        Ok(()) | Err(StoreError::Duplicate(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let entry = |action| {
        about_person(action, person)
            .by(person, Some(invitation.structure_id))
            .in_structure(invitation.structure_id)
            .with_role(invitation.role.as_str())
    };
    journal::append(tx, &entry(JournalAction::InvitationAccepted)).await?;
    journal::append(tx, &entry(JournalAction::RoleGranted)).await?;
    Ok(())
}
