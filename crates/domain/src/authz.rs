//! Authorization as types. A handler reaches a structure's data only through a
//! [`StructureAccess`], national administration only through an [`AdminAccess`], a hub's
//! lieux only through a [`HubAccess`]; all can only be made here, from the actor's live
//! roles.

use crate::comptes::{GlobalRole, Role};
use crate::ids::{PersonId, StructureId};

/// Who is acting: a logged-in person with their live roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub person_id: PersonId,
    pub memberships: Vec<Membership>,
    /// (role, scope) pairs.
    pub global_roles: Vec<(GlobalRole, String)>,
    /// The structure the person chose to act as, one of theirs.
    pub acting_structure: Option<StructureId>,
}

/// A role the actor holds in a structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub structure: StructureId,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("vous ne faites pas partie de cette structure")]
    NotMember,
    #[error("votre rôle dans cette structure ne permet pas cette action")]
    MissingRole,
    #[error("cette page est réservée aux administrateurs nationaux")]
    NotAdmin,
    #[error("cette page est réservée aux coordinateurs de hub")]
    NotHubCoordinator,
    #[error("cette page est réservée aux aidants habilités")]
    NotAidant,
    #[error("cette page est réservée aux médiateurs numériques de la structure")]
    NotMediateur,
}

/// Proof that the actor holds one of the required roles in `structure`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureAccess {
    structure: StructureId,
    person: PersonId,
    roles: Vec<Role>,
}

impl StructureAccess {
    pub fn structure(&self) -> StructureId {
        self.structure
    }

    pub fn person(&self) -> PersonId {
        self.person
    }

    /// The actor's roles in the structure (at least one of those required).
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }
}

/// Proof that the actor is an habilitated aidant, and of the structures they act for so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AidantAccess {
    person: PersonId,
    structures: Vec<StructureId>,
}

impl AidantAccess {
    pub fn person(&self) -> PersonId {
        self.person
    }

    /// The structures where the actor is an aidant (at least one).
    pub fn structures(&self) -> &[StructureId] {
        &self.structures
    }
}

/// Proof that the actor is a mediator of a structure: they report their activities there
/// and follow its beneficiaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediateurAccess {
    person: PersonId,
    structure: StructureId,
}

impl MediateurAccess {
    pub fn person(&self) -> PersonId {
        self.person
    }

    pub fn structure(&self) -> StructureId {
        self.structure
    }
}

/// Proof that the actor is a national administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAccess {
    person: PersonId,
}

impl AdminAccess {
    pub fn person(&self) -> PersonId {
        self.person
    }
}

/// Proof that the actor coordinates the hub `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubAccess {
    person: PersonId,
    scope: String,
}

impl HubAccess {
    pub fn person(&self) -> PersonId {
        self.person
    }

    /// The hub's scope, as the role names it (a département, a region…).
    pub fn scope(&self) -> &str {
        &self.scope
    }
}

impl Actor {
    pub fn roles_in(&self, structure: StructureId) -> Vec<Role> {
        self.memberships
            .iter()
            .filter(|m| m.structure == structure)
            .map(|m| m.role)
            .collect()
    }

    /// Access to `structure` for a holder of any of `required`.
    pub fn structure(
        &self,
        structure: StructureId,
        required: &[Role],
    ) -> Result<StructureAccess, Denied> {
        let roles = self.roles_in(structure);
        if roles.is_empty() {
            Err(Denied::NotMember)
        } else if !roles.iter().any(|r| required.contains(r)) {
            Err(Denied::MissingRole)
        } else {
            Ok(StructureAccess {
                structure,
                person: self.person_id,
                roles,
            })
        }
    }

    pub fn admin(&self) -> Result<AdminAccess, Denied> {
        if self
            .global_roles
            .iter()
            .any(|(r, _)| *r == GlobalRole::Administrateur)
        {
            Ok(AdminAccess {
                person: self.person_id,
            })
        } else {
            Err(Denied::NotAdmin)
        }
    }

    /// Access as an aidant: the structures where the actor holds that role.
    pub fn aidant(&self) -> Result<AidantAccess, Denied> {
        let mut structures: Vec<StructureId> = self
            .memberships
            .iter()
            .filter(|m| m.role == Role::Aidant)
            .map(|m| m.structure)
            .collect();
        structures.dedup();
        if structures.is_empty() {
            return Err(Denied::NotAidant);
        }
        Ok(AidantAccess {
            person: self.person_id,
            structures,
        })
    }

    /// Access to the hub the actor coordinates; of several, the first by scope (a person
    /// coordinates one hub in practice).
    pub fn hub(&self) -> Result<HubAccess, Denied> {
        self.global_roles
            .iter()
            .filter(|(r, _)| *r == GlobalRole::CoordinateurHub)
            .map(|(_, scope)| scope)
            .min()
            .map(|scope| HubAccess {
                person: self.person_id,
                scope: scope.clone(),
            })
            .ok_or(Denied::NotHubCoordinator)
    }

    /// Access as a mediator of `structure`.
    pub fn mediateur(&self, structure: StructureId) -> Result<MediateurAccess, Denied> {
        if self.roles_in(structure).contains(&Role::Mediateur) {
            Ok(MediateurAccess {
                person: self.person_id,
                structure,
            })
        } else {
            Err(Denied::NotMediateur)
        }
    }

    /// Whether `structure` may be chosen as the one the person acts as.
    pub fn may_act_as(&self, structure: StructureId) -> bool {
        self.memberships.iter().any(|m| m.structure == structure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        Actor {
            person_id: PersonId(7),
            memberships: [(1, Role::Referent), (1, Role::Aidant), (2, Role::Mediateur)]
                .map(|(s, role)| Membership {
                    structure: StructureId(s),
                    role,
                })
                .to_vec(),
            global_roles: vec![],
            acting_structure: Some(StructureId(1)),
        }
    }

    #[test]
    fn structure_access_needs_a_role_there() {
        let a = actor();
        let access = a.structure(StructureId(1), &[Role::Referent]).unwrap();
        assert_eq!(
            (access.structure(), access.person()),
            (StructureId(1), PersonId(7))
        );
        assert_eq!(access.roles(), [Role::Referent, Role::Aidant]);
        assert_eq!(
            a.structure(StructureId(2), &[Role::Referent]),
            Err(Denied::MissingRole)
        );
        assert_eq!(
            a.structure(StructureId(3), &[Role::Mediateur]),
            Err(Denied::NotMember)
        );
        assert!(a.may_act_as(StructureId(2)) && !a.may_act_as(StructureId(3)));
    }

    #[test]
    fn mediateur_access_needs_the_role_in_that_structure() {
        let a = actor();
        let access = a.mediateur(StructureId(2)).unwrap();
        assert_eq!(
            (access.person(), access.structure()),
            (PersonId(7), StructureId(2))
        );
        assert_eq!(a.mediateur(StructureId(1)), Err(Denied::NotMediateur));
        assert_eq!(a.mediateur(StructureId(3)), Err(Denied::NotMediateur));
    }

    #[test]
    fn admin_access_needs_the_global_role() {
        let mut a = actor();
        assert_eq!(a.admin(), Err(Denied::NotAdmin));
        a.global_roles.push((GlobalRole::Financeur, "CAF".into()));
        assert_eq!(a.admin(), Err(Denied::NotAdmin));
        a.global_roles
            .push((GlobalRole::Administrateur, String::new()));
        assert_eq!(a.admin().unwrap().person(), PersonId(7));
    }

    #[test]
    fn hub_access_needs_the_coordinator_role() {
        let mut a = actor();
        assert_eq!(a.hub(), Err(Denied::NotHubCoordinator));
        a.global_roles
            .push((GlobalRole::Administrateur, String::new()));
        assert_eq!(a.hub(), Err(Denied::NotHubCoordinator));
        a.global_roles
            .push((GlobalRole::CoordinateurHub, "Rhône".into()));
        a.global_roles
            .push((GlobalRole::CoordinateurHub, "Loire".into()));
        let hub = a.hub().unwrap();
        assert_eq!((hub.person(), hub.scope()), (PersonId(7), "Loire"));
    }
}
