//! Usagers, mandates and their authorizations, on both backends.

use relais_domain::comptes::StructureKind;
use relais_domain::mandats::{Demarche, Duree, Etat, etat, remplacees};
use relais_store::Db;
use relais_store::mandats::{self, Identite, NouveauMandat};
use relais_testkit::{fixtures, store_tests};

store_tests!(
    an_usager_comes_back_as_the_same_one,
    a_new_mandate_replaces_a_family_and_revocation_is_one_by_one,
);

const T0: i64 = 1_780_000_000_000;

fn camille() -> Identite {
    Identite {
        given_name: "Camille".into(),
        family_name: "Martin".into(),
        birthdate: "1950-03-04".into(),
        birthplace: Some("42218".into()),
        birthcountry: Some("99100".into()),
        gender: Some("female".into()),
        email: None,
    }
}

async fn an_usager_comes_back_as_the_same_one(db: Db) {
    let mut tx = db.begin().await.unwrap();
    let first = mandats::put_usager(&mut tx, "hash-1", &camille(), T0)
        .await
        .unwrap();
    let married = Identite {
        family_name: "Durand".into(),
        ..camille()
    };
    let again = mandats::put_usager(&mut tx, "hash-1", &married, T0 + 1)
        .await
        .unwrap();
    let other = mandats::put_usager(&mut tx, "hash-2", &camille(), T0)
        .await
        .unwrap();
    relais_store::commit(tx).await.unwrap();
    assert_eq!(first, again);
    assert_ne!(first, other);
    let stored = mandats::usager(&db, first).await.unwrap().unwrap();
    assert_eq!(stored.identite, married);
}

async fn a_new_mandate_replaces_a_family_and_revocation_is_one_by_one(db: Db) {
    relais_testkit::seed_commune(&db).await;
    let structure =
        fixtures::structure(&db, "13002526500013", "CCAS", StructureKind::Collectivite).await;
    let aidant = fixtures::person(&db, "aidant@exemple.fr", "Alex", "Aidant").await;
    let mut tx = db.begin().await.unwrap();
    let usager = mandats::put_usager(&mut tx, "hash-1", &camille(), T0)
        .await
        .unwrap();
    let first = NouveauMandat {
        structure,
        usager,
        aidant,
        duree: Duree::Annee,
        demarches: &[Demarche::Social, Demarche::Papiers],
        debut: T0,
        fin: Duree::Annee.fin(T0),
        empreinte: "e1",
    };
    mandats::create_mandat(&mut tx, &first).await.unwrap();
    // A month later, a mandate on « social » and « logement »: « social » of the first ends.
    let t1 = T0 + 31 * 86_400_000;
    let actives = mandats::autorisations_actives(&mut tx, structure, usager, t1)
        .await
        .unwrap();
    assert_eq!(actives.len(), 2);
    let pairs: Vec<_> = actives
        .iter()
        .map(|a| (a.id, a.autorisation.clone()))
        .collect();
    let nouvelles = [Demarche::Social, Demarche::Logement].into();
    let replaced = remplacees(&pairs, &nouvelles, t1);
    assert_eq!(replaced.len(), 1);
    assert_eq!(mandats::revoquer(&mut tx, &replaced, t1).await.unwrap(), 1);
    let second = NouveauMandat {
        duree: Duree::Mois,
        demarches: &[Demarche::Social, Demarche::Logement],
        debut: t1,
        fin: Duree::Mois.fin(t1),
        empreinte: "e2",
        ..first
    };
    mandats::create_mandat(&mut tx, &second).await.unwrap();
    let actives = mandats::autorisations_actives(&mut tx, structure, usager, t1)
        .await
        .unwrap();
    let mut families: Vec<&str> = actives
        .iter()
        .map(|a| a.autorisation.demarche.code())
        .collect();
    families.sort_unstable();
    assert_eq!(families, ["logement", "papiers", "social"]);
    // Revoking twice revokes once.
    assert_eq!(
        mandats::revoquer(&mut tx, &replaced, t1 + 1).await.unwrap(),
        0
    );
    relais_store::commit(tx).await.unwrap();

    // The usager's view: every authorization, newest mandate first; the first mandate is
    // still in force through « papiers », then ends by itself.
    let all = mandats::autorisations_de_l_usager(&db, usager)
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].autorisation.demarche, Demarche::Social);
    assert!(all[0].mandat > all[3].mandat);
    let of_first: Vec<_> = all
        .iter()
        .filter(|a| a.mandat == all[3].mandat)
        .map(|a| a.autorisation.clone())
        .collect();
    assert_eq!(etat(&of_first, t1), Etat::Actif);
    assert_eq!(etat(&of_first, Duree::Annee.fin(T0)), Etat::Revoque);
}
