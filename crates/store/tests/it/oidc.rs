//! OpenID Connect logins under way and the ProConnect link of a person, on both backends.

use relais_store::comptes::proconnect as oidc;
use relais_store::oidc_client::{self as logins, PendingLogin, Provider};
use relais_store::{Db, StoreError, comptes};
use relais_testkit::store_tests;

store_tests!(
    pending_logins_are_single_use_and_expire,
    proconnect_subject_links_once
);

fn login(state_hash: &str, created_at: i64) -> PendingLogin {
    PendingLogin {
        provider: Provider::ProConnect,
        state_hash: state_hash.into(),
        nonce: "nonce".into(),
        pkce_verifier: "verifier".into(),
        next_path: "/compte".into(),
        brouillon: None,
        created_at,
    }
}

async fn pending_logins_are_single_use_and_expire(db: Db) {
    let pc = Provider::ProConnect;
    logins::create_login(&db, &login("a", 1_000)).await.unwrap();
    logins::create_login(&db, &login("b", 10)).await.unwrap();
    logins::create_login(&db, &login("c", 10)).await.unwrap();
    // A FranceConnect callback does not take a ProConnect login.
    assert_eq!(
        logins::take_login(&db, Provider::FranceConnect, "a", 500)
            .await
            .unwrap(),
        None
    );
    let taken = logins::take_login(&db, pc, "a", 500).await.unwrap();
    assert_eq!(taken, Some(login("a", 1_000)));
    assert_eq!(logins::take_login(&db, pc, "a", 500).await.unwrap(), None);
    assert_eq!(
        logins::take_login(&db, pc, "inconnu", 0).await.unwrap(),
        None
    );
    // Expired: not returned, and gone.
    assert_eq!(logins::take_login(&db, pc, "b", 500).await.unwrap(), None);
    assert_eq!(logins::take_login(&db, pc, "b", 0).await.unwrap(), None);
    assert_eq!(logins::purge_expired(&db, 500).await.unwrap(), 1);
    assert_eq!(logins::take_login(&db, pc, "c", 0).await.unwrap(), None);
}

async fn proconnect_subject_links_once(db: Db) {
    let mut tx = db.begin().await.unwrap();
    let a = comptes::create_person(&mut tx, "a@exemple.fr", "A", "A", None, 1)
        .await
        .unwrap();
    let b = comptes::create_person(&mut tx, "b@exemple.fr", "B", "B", None, 1)
        .await
        .unwrap();
    oidc::link_proconnect(&mut tx, a, "sub-a").await.unwrap();
    relais_store::commit(tx).await.unwrap();
    let found = oidc::person_by_proconnect_sub(&db, "sub-a").await.unwrap();
    assert_eq!(found.map(|p| p.id), Some(a));
    assert!(
        oidc::person_by_proconnect_sub(&db, "sub-b")
            .await
            .unwrap()
            .is_none()
    );
    let mut tx = db.begin().await.unwrap();
    let err = oidc::link_proconnect(&mut tx, b, "sub-a")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate("proconnect_sub")),
        "{err:?}"
    );
}
