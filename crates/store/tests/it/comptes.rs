//! Accounts, roles, sessions and rate limits, on both backends.

use relais_domain::comptes::sessions::{Session, Stage};
use relais_domain::comptes::{GlobalRole, Role, StructureKind};
use relais_domain::ids::{PersonId, StructureId};
use relais_store::comptes::sessions;
use relais_store::comptes::{self, NewStructure, RoleChange};
use relais_store::{Db, StoreError};
use relais_testkit::store_tests;

store_tests!(
    structures_people_and_roles,
    duplicates_are_named,
    deactivation_keeps_history,
    totp_steps_are_used_once,
    recovery_codes_are_single_use,
    failed_logins_lock_the_account,
    sessions_live_and_die,
    rate_limit_windows,
);

/// A structure needs a commune in the territories.
async fn seed_commune(db: &Db) {
    for sql in [
        "INSERT INTO regions (code, nom) VALUES ('84', 'Auvergne-Rhône-Alpes')",
        "INSERT INTO departements (code, nom, region) VALUES ('42', 'Loire', '84')",
        "INSERT INTO communes (code, nom, kind, departement, region, codes_postaux, population) \
         VALUES ('42218', 'Saint-Étienne', 'commune-actuelle', '42', '84', '42000', 173136)",
    ] {
        db.execute_admin(sql).await.unwrap();
    }
}

fn structure(siret: &str) -> NewStructure {
    NewStructure {
        siret: siret.into(),
        nom: format!("Médiathèque {siret}"),
        kind: StructureKind::Collectivite,
        adresse: "1 place de l'Hôtel de Ville".into(),
        commune: "42218".into(),
    }
}

async fn person(db: &Db, email: &str) -> PersonId {
    let mut tx = db.begin().await.unwrap();
    let id = comptes::create_person(&mut tx, email, "Camille", "Martin", Some("$argon2id$…"), 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

fn change(person: PersonId, structure: StructureId, role: Role, at: i64) -> RoleChange {
    RoleChange {
        person,
        structure,
        role,
        by: None,
        at,
    }
}

async fn structures_people_and_roles(db: Db) {
    seed_commune(&db).await;
    let mut tx = db.begin().await.unwrap();
    let a = comptes::create_structure(&mut tx, &structure("13002526500013"), 1)
        .await
        .unwrap();
    let b = comptes::create_structure(&mut tx, &structure("21420218600018"), 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let camille = person(&db, "camille@exemple.fr").await;
    let mut tx = db.begin().await.unwrap();
    comptes::grant_role(&mut tx, &change(camille, a, Role::Aidant, 2))
        .await
        .unwrap();
    comptes::grant_role(&mut tx, &change(camille, a, Role::Referent, 2))
        .await
        .unwrap();
    comptes::grant_role(&mut tx, &change(camille, b, Role::Mediateur, 2))
        .await
        .unwrap();
    comptes::grant_global_role(&mut tx, camille, GlobalRole::Financeur, "CAF 42", None, 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let roles: Vec<(StructureId, Role)> = comptes::memberships_of(&db, camille)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.structure_id, m.role))
        .collect();
    assert_eq!(roles.len(), 3);
    assert!(
        roles.contains(&(a, Role::Aidant))
            && roles.contains(&(a, Role::Referent))
            && roles.contains(&(b, Role::Mediateur))
    );
    let global = comptes::global_roles_of(&db, camille).await.unwrap();
    assert_eq!(
        (global[0].role, global[0].scope.as_str()),
        (GlobalRole::Financeur, "CAF 42")
    );
    let team = comptes::team(&db, a).await.unwrap();
    assert_eq!(team.len(), 1);
    assert_eq!(team[0].roles, [Role::Aidant, Role::Referent]);
    // A session and the person behind it, in one read: live roles only.
    let opened = Session {
        stage: Stage::Active,
        acting_structure: Some(b),
        ..session("camille", camille, 3)
    };
    sessions::create(&db, &opened).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    comptes::revoke_role(&mut tx, &change(camille, a, Role::Referent, 4))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (found, caller) = comptes::caller(&db, "camille").await.unwrap().unwrap();
    assert_eq!(found, opened);
    assert_eq!(
        (caller.given_name.as_str(), caller.family_name.as_str()),
        ("Camille", "Martin")
    );
    let live: Vec<(StructureId, Role, &str)> = caller
        .memberships
        .iter()
        .map(|m| (m.structure_id, m.role, m.structure_nom.as_str()))
        .collect();
    assert_eq!(
        live,
        [
            (a, Role::Aidant, "Médiathèque 13002526500013"),
            (b, Role::Mediateur, "Médiathèque 21420218600018")
        ]
    );
    assert_eq!(caller.global_roles, global);
    assert_eq!(comptes::caller(&db, "inconnu").await.unwrap(), None);
    assert_eq!(
        comptes::structure(&db, a).await.unwrap().unwrap().siret,
        "13002526500013"
    );
    assert_eq!(
        comptes::person_by_email(&db, "camille@exemple.fr")
            .await
            .unwrap()
            .unwrap()
            .id,
        camille
    );
}

async fn duplicates_are_named(db: Db) {
    seed_commune(&db).await;
    person(&db, "camille@exemple.fr").await;
    let mut tx = db.begin().await.unwrap();
    let err = comptes::create_person(&mut tx, "camille@exemple.fr", "C", "M", None, 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate("email")), "{err}");
    drop(tx);
    let mut tx = db.begin().await.unwrap();
    comptes::create_structure(&mut tx, &structure("13002526500013"), 1)
        .await
        .unwrap();
    let err = comptes::create_structure(&mut tx, &structure("13002526500013"), 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate("siret")), "{err}");
}

async fn deactivation_keeps_history(db: Db) {
    seed_commune(&db).await;
    let mut tx = db.begin().await.unwrap();
    let s = comptes::create_structure(&mut tx, &structure("13002526500013"), 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let p = person(&db, "depart@exemple.fr").await;
    let mut tx = db.begin().await.unwrap();
    comptes::grant_role(&mut tx, &change(p, s, Role::Aidant, 2))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    sessions::create(&db, &session("jeton", p, 10))
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    comptes::deactivate_person(&mut tx, p, None, 3)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(comptes::memberships_of(&db, p).await.unwrap().is_empty());
    let team = comptes::team(&db, s).await.unwrap();
    assert_eq!(
        (team.len(), team[0].roles.len(), team[0].deactivated_at),
        (1, 0, Some(3)),
        "still listed, no live role"
    );
    assert_eq!(
        sessions::find(&db, "jeton").await.unwrap(),
        None,
        "sessions closed"
    );
    // The role can be granted again later: the revoked grant is history, not a conflict.
    let mut tx = db.begin().await.unwrap();
    comptes::grant_role(&mut tx, &change(p, s, Role::Aidant, 4))
        .await
        .unwrap();
    assert!(
        comptes::revoke_role(&mut tx, &change(p, s, Role::Aidant, 5))
            .await
            .unwrap()
    );
    assert!(
        !comptes::revoke_role(&mut tx, &change(p, s, Role::Aidant, 6))
            .await
            .unwrap()
    );
}

async fn totp_steps_are_used_once(db: Db) {
    let p = person(&db, "totp@exemple.fr").await;
    let mut tx = db.begin().await.unwrap();
    comptes::enroll_totp(&mut tx, p, "00ff", 100, &[], 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(comptes::totp_last_step(&db, p).await.unwrap(), Some(100));
    assert!(
        !comptes::use_totp_step(&db, p, 100).await.unwrap(),
        "the enrolment code is spent"
    );
    assert!(comptes::use_totp_step(&db, p, 101).await.unwrap());
    assert!(!comptes::use_totp_step(&db, p, 101).await.unwrap());
    assert!(!comptes::use_totp_step(&db, p, 99).await.unwrap());
}

async fn recovery_codes_are_single_use(db: Db) {
    let p = person(&db, "secours@exemple.fr").await;
    let mut tx = db.begin().await.unwrap();
    comptes::enroll_totp(&mut tx, p, "00ff", 1, &["h1".into(), "h2".into()], 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(comptes::unused_recovery_codes(&db, p).await.unwrap(), 2);
    assert!(comptes::use_recovery_code(&db, p, "h1", 5).await.unwrap());
    assert!(!comptes::use_recovery_code(&db, p, "h1", 6).await.unwrap());
    assert!(
        !comptes::use_recovery_code(&db, p, "inconnu", 6)
            .await
            .unwrap()
    );
    assert_eq!(comptes::unused_recovery_codes(&db, p).await.unwrap(), 1);
}

async fn failed_logins_lock_the_account(db: Db) {
    let p = person(&db, "verrou@exemple.fr").await;
    for n in 1..=5 {
        let mut tx = db.begin().await.unwrap();
        assert_eq!(
            comptes::record_failed_login(&mut tx, p, 5, 9_000)
                .await
                .unwrap(),
            n
        );
        tx.commit().await.unwrap();
        let locked = comptes::person(&db, p).await.unwrap().unwrap().locked_until;
        assert_eq!(locked, (n >= 5).then_some(9_000), "after {n} failures");
    }
    let mut tx = db.begin().await.unwrap();
    comptes::clear_failed_logins(&mut tx, p).await.unwrap();
    tx.commit().await.unwrap();
    let after = comptes::person(&db, p).await.unwrap().unwrap();
    assert_eq!((after.failed_logins, after.locked_until), (0, None));
}

fn session(token: &str, person: PersonId, now: i64) -> Session {
    Session {
        token_hash: token.into(),
        person_id: person,
        stage: Stage::SecondFactor,
        acting_structure: None,
        created_at: now,
        last_seen_at: now,
        fresh_until: now,
        ip: "127.0.0.1".into(),
        user_agent: "test".into(),
    }
}

async fn sessions_live_and_die(db: Db) {
    let p = person(&db, "session@exemple.fr").await;
    sessions::create(&db, &session("a0", p, 100)).await.unwrap();
    sessions::create(&db, &session("b", p, 100)).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert!(
        sessions::promote(&mut tx, "a0", "a", Stage::Active, 500)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(
        sessions::find(&db, "a0").await.unwrap(),
        None,
        "the token before the second factor opens nothing"
    );
    let mut tx = db.begin().await.unwrap();
    assert!(
        !sessions::promote(&mut tx, "a0", "x", Stage::Active, 500)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    sessions::touch(&db, "a", 200, 600).await.unwrap();
    let a = sessions::find(&db, "a").await.unwrap().unwrap();
    assert_eq!(
        (a.stage, a.last_seen_at, a.fresh_until),
        (Stage::Active, 200, 600)
    );
    assert_eq!(
        sessions::purge_expired(&db, 150, 0).await.unwrap(),
        1,
        "b was idle"
    );
    sessions::create(&db, &session("c", p, 300)).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        sessions::close_all_of(&mut tx, p).await.unwrap(),
        2,
        "logout everywhere"
    );
    tx.commit().await.unwrap();
    assert_eq!(sessions::find(&db, "a").await.unwrap(), None);
}

async fn rate_limit_windows(db: Db) {
    for n in 1..=3 {
        assert_eq!(
            sessions::hit(&db, "ip:1.2.3.4", 1_000 + n, 60_000)
                .await
                .unwrap(),
            n
        );
    }
    assert_eq!(
        sessions::hits(&db, "ip:1.2.3.4", 2_000, 60_000)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        sessions::hits(&db, "ip:1.2.3.4", 70_000, 60_000)
            .await
            .unwrap(),
        0,
        "window over"
    );
    assert_eq!(
        sessions::hit(&db, "ip:1.2.3.4", 70_000, 60_000)
            .await
            .unwrap(),
        1,
        "a new window"
    );
    sessions::clear(&db, "ip:1.2.3.4").await.unwrap();
    assert_eq!(
        sessions::hits(&db, "ip:1.2.3.4", 70_001, 60_000)
            .await
            .unwrap(),
        0
    );
}
