//! What the tests of several crates set up alike: structures, accounts and their roles,
//! through the same use cases as the product.

use std::collections::BTreeSet;

use relais_domain::activites::rapport::{Anonymes, Rapport, jour};
use relais_domain::activites::vocabulaires::{Materiel, Thematique, TypeActivite, TypeLieu};
use relais_domain::authz::{Actor, MediateurAccess, Membership};
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::ids::{BeneficiaireId, LieuId, PersonId, StructureId};
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

/// A lieu named `nom` in commune `code_insee`, found to be `structure`'s (as the
/// register's matching would find it).
pub async fn lieu_de(db: &Db, structure: StructureId, nom: &str, code_insee: &str) -> LieuId {
    use relais_domain::comptes::registre::Preuve;
    use relais_store::lieux::{LieuOrigines, StoredLieu};
    let id = LieuId(format!("lieu-{}-{}", structure.0, nom.len()));
    let lieu = StoredLieu {
        id: id.clone(),
        data: format!(r#"{{"id":"{}","nom":"{nom}"}}"#, id.as_str()),
        provenance: "{}".into(),
        location: relais_domain::lieux::Location {
            code_insee: Some(code_insee.into()),
            position: None,
            approximate: false,
        },
        date_maj: "2026-01-01".into(),
        updated_at: 0,
    };
    let mut tx = db.begin().await.unwrap();
    relais_store::lieux::put_merged_lieux(
        &mut tx,
        &[LieuOrigines {
            lieu,
            origines: None,
        }],
        0,
    )
    .await
    .unwrap();
    relais_store::comptes::registre::replace_lieux(
        &mut tx,
        "aucune",
        &[(structure, id.clone(), Preuve::NomAdresse)],
    )
    .await
    .unwrap();
    relais_store::commit(tx).await.unwrap();
    id
}

/// The proof that `person` is a mediator of `structure`, as the guard would give it.
pub fn mediateur(person: PersonId, structure: StructureId) -> MediateurAccess {
    Actor {
        person_id: person,
        memberships: vec![Membership {
            structure,
            role: Role::Mediateur,
        }],
        global_roles: vec![],
        acting_structure: Some(structure),
    }
    .mediateur(structure)
    .unwrap()
}

/// An individual accompaniment of 30 minutes at home in Saint-Étienne, on 2 March 2026,
/// about e-mail on a phone, for the followed `suivis` (one anonymous person without them).
/// Tests change the fields they are about: `Rapport { duree: 60, ..rapport(…) }`.
pub fn rapport(suivis: BTreeSet<BeneficiaireId>) -> Rapport {
    Rapport {
        type_activite: TypeActivite::Individuel,
        date: jour(2026, 3, 2),
        duree: 30,
        type_lieu: TypeLieu::Domicile,
        lieu: None,
        commune: "42218".into(),
        thematiques: BTreeSet::from([Thematique::Email]),
        demarches: BTreeSet::new(),
        materiel: BTreeSet::from([Materiel::Telephone]),
        autonomie: None,
        niveau: None,
        orientation: None,
        precisions_demarche: String::new(),
        titre_atelier: String::new(),
        anonymes: Anonymes {
            total: u32::from(suivis.is_empty()),
            ..Anonymes::default()
        },
        suivis,
    }
}
