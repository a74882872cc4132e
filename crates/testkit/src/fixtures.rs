//! What the tests of several crates set up alike: structures, accounts and their roles,
//! through the same use cases as the product.

use relais_domain::comptes::{Role, StructureKind};
use relais_domain::ids::{PersonId, StructureId};
use relais_services::comptes as svc;
use relais_store::Db;

/// The password of every account made here.
pub const PASSWORD: &str = "une longue phrase de passe";

/// The lieux the demo file (`data/lieux/hinaura-2022-v0.json`, 687 rows) makes: thirteen
/// places are listed twice in it, and the merge makes one lieu of each.
pub const DEMO_LIEUX: usize = 674;

/// A structure of Saint-Étienne (42218, which [`crate::seed_commune`] adds).
pub async fn structure(db: &Db, siret: &str, nom: &str, kind: StructureKind) -> StructureId {
    svc::create_structure(db, siret, nom, kind, "", "42218", None)
        .await
        .unwrap()
}

/// An account with [`PASSWORD`].
pub async fn person(db: &Db, email: &str, given_name: &str, family_name: &str) -> PersonId {
    svc::create_account(db, email, given_name, family_name, PASSWORD, None)
        .await
        .unwrap()
}

/// `person` is given `role` in `structure`.
pub async fn grant(db: &Db, person: PersonId, structure: StructureId, role: Role) {
    svc::grant_role(db, person, structure, role, None)
        .await
        .unwrap();
}
