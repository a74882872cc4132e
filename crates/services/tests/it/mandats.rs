//! Mandates created by an habilitated aidant, on both backends: the usager recognised by
//! their FranceConnect `sub`, a family replaced by a new mandate, every step journaled.

use std::collections::BTreeSet;

use relais_domain::authz::{Actor, Membership};
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::ids::{PersonId, StructureId};
use relais_domain::journal::{JournalAction, Verification};
use relais_domain::mandats::{CONSERVATION_MS, Demande, Demarche, Duree, Etat, cle_usager, etat};
use relais_services::mandats::{
    Consentement, MandatError, RevocationError, creer, revoquer_par_l_usager,
};
use relais_store::Db;
use relais_store::journal::{self, JournalFilter};
use relais_store::mandats::{self as repo, Identite};
use relais_testkit::{fixtures, store_tests};

store_tests!(
    a_code_raced_gives_one_token_and_a_removed_aidant_is_refused,
    an_aidant_creates_mandates_and_a_family_is_replaced,
    a_mandate_is_renewed_without_franceconnect_and_its_end_journaled_once,
    a_mandate_moves_when_both_referents_agree
);

const T0: i64 = 1_780_000_000_000;
const SEL: &[u8] = b"un sel de test de trente-deux octets !!";
const MODELE: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn consentement() -> Consentement {
    Consentement {
        cle: cle_usager(SEL, "fc-sub-123"),
        identite: Identite {
            given_name: "Camille".into(),
            family_name: "Martin".into(),
            birthdate: "1950-03-04".into(),
            birthplace: None,
            birthcountry: None,
            gender: None,
            email: None,
        },
    }
}

/// The actor `person`, holding `role` in `structure` only.
fn actor(person: PersonId, structure: StructureId, role: Role) -> Actor {
    Actor {
        person_id: person,
        memberships: vec![Membership { structure, role }],
        global_roles: Vec::new(),
        acting_structure: Some(structure),
    }
}

fn toutes() -> BTreeSet<Demarche> {
    Demarche::ALL.into_iter().collect()
}

/// A CCAS and its aidant, Alex.
async fn ccas_and_aidant(db: &Db) -> (StructureId, PersonId) {
    relais_testkit::seed_commune(db).await;
    let structure =
        fixtures::structure(db, "13002526500013", "CCAS", StructureKind::Collectivite).await;
    let aidant = fixtures::person(db, "aidant@exemple.fr", "Alex", "Aidant").await;
    fixtures::grant(db, aidant, structure, Role::Aidant).await;
    (structure, aidant)
}

async fn an_aidant_creates_mandates_and_a_family_is_replaced(db: Db) {
    let (structure, aidant) = ccas_and_aidant(&db).await;
    let mediateur = fixtures::person(&db, "med@exemple.fr", "Sam", "Médiateur").await;
    fixtures::grant(&db, mediateur, structure, Role::Mediateur).await;
    let access = |person, role| {
        actor(person, structure, role)
            .structure(structure, &[Role::Aidant, Role::Mediateur])
            .unwrap()
    };
    let toutes = toutes();
    let demande = |person, codes: &[&str], duree| {
        Demande::new(structure, person, codes, duree, &toutes).unwrap()
    };

    // A mediator is no aidant: refused, nothing written.
    let refused = creer(
        &db,
        &access(mediateur, Role::Mediateur),
        &demande(mediateur, &["social"], "mois"),
        &consentement(),
        MODELE,
        T0,
    )
    .await;
    assert!(
        matches!(refused, Err(MandatError::PasAidant)),
        "{refused:?}"
    );

    let first = creer(
        &db,
        &access(aidant, Role::Aidant),
        &demande(aidant, &["social", "papiers"], "annee"),
        &consentement(),
        MODELE,
        T0,
    )
    .await
    .unwrap();
    assert_eq!(first.fin, Duree::Annee.fin(T0));
    assert!(first.remplacees.is_empty());
    assert_eq!(first.empreinte.len(), 64);
    // The same person comes back a month later: recognised; « social » is replaced.
    let t1 = T0 + 31 * 86_400_000;
    let second = creer(
        &db,
        &access(aidant, Role::Aidant),
        &demande(aidant, &["social"], "jour"),
        &consentement(),
        MODELE,
        t1,
    )
    .await
    .unwrap();
    assert_eq!(second.usager, first.usager);
    assert_eq!(second.remplacees.len(), 1);
    let all = repo::autorisations_de_l_usager(&db, first.usager)
        .await
        .unwrap();
    let of = |m| {
        all.iter()
            .filter(|a| a.mandat == m)
            .map(|a| a.autorisation.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(of(first.id).len(), 2);
    assert_eq!(
        etat(&of(first.id), t1),
        Etat::Actif,
        "« papiers » still runs"
    );
    assert_eq!(etat(&of(second.id), Duree::Jour.fin(t1)), Etat::Expire);

    // Journaled in the structure, in the chain.
    let filter = |action| JournalFilter {
        structure: Some(structure),
        action: Some(action),
        ..JournalFilter::default()
    };
    let created = journal::list(&db, &filter(JournalAction::MandatCreated), 10)
        .await
        .unwrap();
    assert_eq!(created.len(), 2);
    assert_eq!(created[0].content.actor, Some(aidant));
    assert!(
        created
            .iter()
            .any(|e| e.content.details.contains(&first.empreinte))
    );
    let revoked = journal::list(&db, &filter(JournalAction::AutorisationRevoked), 10)
        .await
        .unwrap();
    assert_eq!(revoked.len(), 1);
    assert!(
        revoked[0]
            .content
            .details
            .contains("\"raison\":\"remplacee\"")
    );

    // The usager revokes « papiers » from their space; again is « already ended »;
    // another usager cannot see it.
    let papiers = all
        .iter()
        .find(|a| a.mandat == first.id && a.autorisation.demarche == Demarche::Papiers)
        .unwrap()
        .id;
    revoquer_par_l_usager(&db, first.usager, papiers, t1 + 5)
        .await
        .unwrap();
    assert!(matches!(
        revoquer_par_l_usager(&db, first.usager, papiers, t1 + 6).await,
        Err(RevocationError::DejaTerminee)
    ));
    let mut tx = db.begin().await.unwrap();
    let other = repo::put_usager(&mut tx, "autre", &consentement().identite, t1)
        .await
        .unwrap();
    relais_store::commit(tx).await.unwrap();
    assert!(matches!(
        revoquer_par_l_usager(&db, other, papiers, t1 + 7).await,
        Err(RevocationError::Introuvable)
    ));
    let all = repo::autorisations_de_l_usager(&db, first.usager)
        .await
        .unwrap();
    let of_first: Vec<_> = all
        .iter()
        .filter(|a| a.mandat == first.id)
        .map(|a| a.autorisation.clone())
        .collect();
    assert_eq!(etat(&of_first, t1 + 5), Etat::Revoque);
    let revoked = journal::list(&db, &filter(JournalAction::AutorisationRevoked), 10)
        .await
        .unwrap();
    assert_eq!(revoked.len(), 2);
    assert!(
        revoked
            .iter()
            .any(|e| e.content.details.contains("\"raison\":\"usager\""))
    );
    assert!(matches!(
        journal::verify(&db).await.unwrap(),
        Verification::Intact { .. }
    ));
}

async fn a_mandate_is_renewed_without_franceconnect_and_its_end_journaled_once(db: Db) {
    let (structure, aidant) = ccas_and_aidant(&db).await;
    let access = actor(aidant, structure, Role::Aidant)
        .structure(structure, &[Role::Aidant])
        .unwrap();
    let toutes = toutes();
    let demande =
        |codes: &[&str], duree| Demande::new(structure, aidant, codes, duree, &toutes).unwrap();
    let first = creer(
        &db,
        &access,
        &demande(&["social"], "jour"),
        &consentement(),
        MODELE,
        T0,
    )
    .await
    .unwrap();

    // The renewal: a draft already identified, signed like a new mandate.
    let t1 = T0 + 3_600_000;
    let draft = relais_services::mandats::preparer_renouvellement(
        &db,
        &access,
        first.id,
        &demande(&["social", "logement"], "mois"),
        t1,
    )
    .await
    .unwrap();
    let renewed = relais_services::mandats::signer(&db, &access, draft, true, MODELE, t1)
        .await
        .unwrap();
    assert_eq!(
        renewed.usager, first.usager,
        "the same usager, without FranceConnect"
    );
    assert_eq!(
        renewed.remplacees.len(),
        1,
        "« social » of the first mandate replaced"
    );
    let filter = |action| JournalFilter {
        structure: Some(structure),
        action: Some(action),
        ..JournalFilter::default()
    };
    let entries = journal::list(&db, &filter(JournalAction::MandatRenewed), 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].content.subject_id, first.id.to_string());

    // The daily job: nothing has ended yet; after the first mandate's day, it has (once).
    assert_eq!(
        relais_services::mandats::journaliser_fins(&db, t1)
            .await
            .unwrap(),
        0
    );
    let t2 = T0 + 2 * 86_400_000;
    assert_eq!(
        relais_services::mandats::journaliser_fins(&db, t2)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        relais_services::mandats::journaliser_fins(&db, t2)
            .await
            .unwrap(),
        0
    );
    let t3 = renewed.fin + 1;
    assert_eq!(
        relais_services::mandats::journaliser_fins(&db, t3)
            .await
            .unwrap(),
        1
    );
    let ended = journal::list(&db, &filter(JournalAction::MandatExpired), 10)
        .await
        .unwrap();
    assert_eq!(ended.len(), 2);
    assert!(matches!(
        journal::verify(&db).await.unwrap(),
        Verification::Intact { .. }
    ));

    // Retention. The database refuses to blank an entry younger than five years.
    let mut tx = db.begin().await.unwrap();
    let now = relais_domain::calendrier::now_ms();
    let refused = journal::purger(
        &mut tx,
        db.backend(),
        "mandat",
        &first.id.to_string(),
        now,
        now + 1,
    )
    .await;
    assert!(refused.is_err(), "a recent entry blanked: {refused:?}");
    drop(tx);
    let about = |kind: &'static str, id: String| JournalFilter {
        subject: Some((kind.to_string(), id)),
        ..JournalFilter::default()
    };
    let social_of_first = repo::autorisations_du_mandat(&db, first.id).await.unwrap()[0].id;
    // Six years after the first mandate ended (its démarche replaced at t1), it goes; the
    // renewed one, ended later, and the usager it still holds, stay.
    let purge = |at| relais_services::mandats::purger(&db, at);
    assert_eq!(purge(t1 + CONSERVATION_MS - 1).await.unwrap(), 0);
    assert_eq!(purge(t1 + CONSERVATION_MS + 1).await.unwrap(), 1);
    assert!(repo::mandat(&db, first.id).await.unwrap().is_none());
    assert!(repo::mandat(&db, renewed.id).await.unwrap().is_some());
    assert!(repo::usager(&db, first.usager).await.unwrap().is_some());
    let blanked: Vec<_> = journal::list(&db, &about("mandat", first.id.to_string()), 20)
        .await
        .unwrap()
        .into_iter()
        .chain(
            journal::list(&db, &about("autorisation", social_of_first.to_string()), 20)
                .await
                .unwrap(),
        )
        .collect();
    let actions: BTreeSet<&str> = blanked.iter().map(|e| e.content.action.as_str()).collect();
    assert_eq!(
        actions,
        BTreeSet::from([
            "mandat_cree",
            "mandat_renouvele",
            "mandat_expire",
            "autorisation_revoquee",
            "mandat_purge"
        ]),
    );
    for e in &blanked {
        if e.content.action == JournalAction::MandatPurged {
            assert!(e.purged_at.is_none() && e.content.details.contains("entrees_effacees"));
        } else {
            assert_eq!(
                (e.content.details.as_str(), e.purged_at),
                ("", Some(t1 + CONSERVATION_MS + 1))
            );
        }
    }
    assert!(
        matches!(
            journal::verify(&db).await.unwrap(),
            Verification::Intact { .. }
        ),
        "the chain links through the blanked entries"
    );
    // Once the renewed mandate is as old, the usager goes with it.
    let later = renewed.fin + CONSERVATION_MS + 1;
    assert_eq!(purge(later).await.unwrap(), 1);
    assert!(repo::usager(&db, first.usager).await.unwrap().is_none());
    assert_eq!(purge(later).await.unwrap(), 0);
    assert!(matches!(
        journal::verify(&db).await.unwrap(),
        Verification::Intact { .. }
    ));
}

async fn a_mandate_moves_when_both_referents_agree(db: Db) {
    use relais_services::mandats::transferts::{self, TransfertError};
    relais_testkit::seed_commune(&db).await;
    let a = fixtures::structure(&db, "13002526500013", "CCAS", StructureKind::Collectivite).await;
    let b = fixtures::structure(&db, "21420218600018", "Mairie", StructureKind::Collectivite).await;
    let aidant = fixtures::person(&db, "aidant@exemple.fr", "Alex", "Aidant").await;
    let ref_a = fixtures::person(&db, "ref-a@exemple.fr", "Réf", "A").await;
    let ref_b = fixtures::person(&db, "ref-b@exemple.fr", "Réf", "B").await;
    fixtures::grant(&db, aidant, a, Role::Aidant).await;
    fixtures::grant(&db, ref_a, a, Role::Referent).await;
    fixtures::grant(&db, ref_b, b, Role::Referent).await;
    let access = |person, structure, role| {
        actor(person, structure, role)
            .structure(structure, &[role])
            .unwrap()
    };
    let demande = Demande::new(a, aidant, &["social"], "annee", &toutes()).unwrap();
    let m = creer(
        &db,
        &access(aidant, a, Role::Aidant),
        &demande,
        &consentement(),
        MODELE,
        T0,
    )
    .await
    .unwrap();

    let proposer = |person, role, siret: &'static str| {
        let db = db.clone();
        async move { transferts::proposer(&db, &access(person, a, role), m.id, siret, None, T0).await }
    };
    // Only a référent proposes, to a structure that exists and is another one.
    let refused = proposer(aidant, Role::Aidant, "21420218600018").await;
    assert!(
        matches!(refused, Err(TransfertError::PasReferent)),
        "{refused:?}"
    );
    let refused = proposer(ref_a, Role::Referent, "13002526500013").await;
    assert!(
        matches!(refused, Err(TransfertError::MemeStructure)),
        "{refused:?}"
    );
    let refused = proposer(ref_a, Role::Referent, "99999999999999").await;
    assert!(
        matches!(refused, Err(TransfertError::StructureInconnue(_))),
        "{refused:?}"
    );
    let t = proposer(ref_a, Role::Referent, "214 202 186 00018")
        .await
        .unwrap();
    let again = proposer(ref_a, Role::Referent, "21420218600018").await;
    assert!(
        matches!(again, Err(TransfertError::DejaPropose)),
        "{again:?}"
    );

    // Structure A's référent cannot accept for B; B's accepts: the mandate moves, once.
    let wrong = transferts::decider(&db, &access(ref_a, a, Role::Referent), t, true, T0).await;
    assert!(
        matches!(wrong, Err(TransfertError::TransfertInconnu)),
        "{wrong:?}"
    );
    transferts::decider(&db, &access(ref_b, b, Role::Referent), t, true, T0)
        .await
        .unwrap();
    assert_eq!(repo::mandat(&db, m.id).await.unwrap().unwrap().structure, b);
    let twice = transferts::decider(&db, &access(ref_b, b, Role::Referent), t, true, T0).await;
    assert!(
        matches!(twice, Err(TransfertError::TransfertInconnu)),
        "{twice:?}"
    );
    for s in [a, b] {
        let filter = |action| JournalFilter {
            structure: Some(s),
            action: Some(action),
            ..JournalFilter::default()
        };
        for action in [
            JournalAction::TransferProposed,
            JournalAction::MandatTransferred,
        ] {
            assert_eq!(
                journal::list(&db, &filter(action), 10).await.unwrap().len(),
                1,
                "{action:?} in {s}"
            );
        }
    }

    // Back to A: proposed by B, refused by A; it stays at B.
    let back = transferts::proposer(
        &db,
        &access(ref_b, b, Role::Referent),
        m.id,
        "13002526500013",
        None,
        T0,
    )
    .await
    .unwrap();
    transferts::decider(&db, &access(ref_a, a, Role::Referent), back, false, T0)
        .await
        .unwrap();
    assert_eq!(repo::mandat(&db, m.id).await.unwrap().unwrap().structure, b);
}

/// Eight presentations of one code at once, as a client retrying in parallel or an
/// attacker racing it would make them: one gets a token, the others are replays, refused,
/// and they revoke that token. Then a new login, and the aidant's role removed: the next
/// `/userinfo` is refused.
async fn a_code_raced_gives_one_token_and_a_removed_aidant_is_refused(db: Db) {
    use relais_services::mandats::fournisseur::{
        self as f, AuthorizeParams, ClientAuth, TokenForm, UserinfoError,
    };
    let (structure, aidant) = ccas_and_aidant(&db).await;
    let actor = actor(aidant, structure, Role::Aidant);
    let now = relais_domain::calendrier::now_ms();
    let demande = Demande::new(structure, aidant, &["social"], "mois", &toutes()).unwrap();
    let access = actor.structure(structure, &[Role::Aidant]).unwrap();
    let m = creer(&db, &access, &demande, &consentement(), MODELE, now)
        .await
        .unwrap();
    let autorisation = repo::autorisations_du_mandat(&db, m.id).await.unwrap()[0].id;
    f::tourner_cles(&db, now).await.unwrap();
    let redirect = "https://demarche.exemple.fr/retour";
    let client = f::enregistrer_client(&db, None, "Démarche", redirect, &["social"], now)
        .await
        .unwrap();
    let fournisseur = f::Fournisseur::new("https://relais.exemple.fr");
    let verifier = "un-verificateur-pkce-de-quarante-trois-caracteres-au-moins";
    let challenge = {
        use sha2::Digest;
        data_encoding::BASE64URL_NOPAD.encode(&sha2::Sha256::digest(verifier.as_bytes()))
    };
    let params = AuthorizeParams {
        client_id: Some(client.client_id.clone()),
        redirect_uri: Some(redirect.into()),
        response_type: Some("code".into()),
        scope: Some("openid social".into()),
        state: Some("etat".into()),
        nonce: Some("nonce".into()),
        code_challenge: Some(challenge),
        code_challenge_method: Some("S256".into()),
    };
    let asked = f::verifier_demande(&db, &fournisseur, &params, now)
        .await
        .unwrap();
    let aidant_access = actor.aidant().unwrap();
    let url = f::autoriser(&db, &fournisseur, &aidant_access, &asked, autorisation, now)
        .await
        .unwrap();
    let code = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .unwrap()
        .to_string();
    let auth = ClientAuth {
        client_id: Some(client.client_id.clone()),
        client_secret: Some(client.secret.clone()),
    };
    let form = TokenForm {
        grant_type: Some("authorization_code".into()),
        code: Some(code),
        redirect_uri: Some(redirect.into()),
        code_verifier: Some(verifier.into()),
        client_id: None,
        client_secret: None,
    };
    let fournisseur = std::sync::Arc::new(fournisseur);
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let (db, f, auth, form) = (db.clone(), fournisseur.clone(), auth.clone(), form.clone());
            tokio::spawn(async move { f::jeton(&db, &f, &auth, &form, now).await })
        })
        .collect();
    let mut tokens = Vec::new();
    let mut replays = 0;
    for t in tries {
        match t.await.unwrap() {
            Ok(answer) => tokens.push(answer.access_token),
            Err(f::TokenError::InvalidGrant(why)) => {
                assert!(why.contains("déjà utilisé"), "{why}");
                replays += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((tokens.len(), replays), (1, 7));
    assert!(matches!(
        f::userinfo(&db, &tokens[0], now).await,
        Err(UserinfoError::InvalidToken("jeton révoqué"))
    ));
    let refusals = journal::list(
        &db,
        &JournalFilter {
            action: Some(JournalAction::CodeReplayRefused),
            ..JournalFilter::default()
        },
        20,
    )
    .await
    .unwrap();
    assert_eq!(refusals.len(), 7);

    let url = f::autoriser(&db, &fournisseur, &aidant_access, &asked, autorisation, now)
        .await
        .unwrap();
    let code = url.split(['?', '&']).find_map(|p| p.strip_prefix("code="));
    let form = TokenForm {
        code: code.map(str::to_string),
        ..form
    };
    let token = f::jeton(&db, &fournisseur, &auth, &form, now)
        .await
        .unwrap()
        .access_token;
    assert!(f::userinfo(&db, &token, now).await.is_ok());
    let mut tx = db.begin().await.unwrap();
    let removed = relais_store::comptes::RoleChange {
        person: aidant,
        structure,
        role: Role::Aidant,
        by: None,
        at: now,
    };
    assert!(
        relais_store::comptes::revoke_role(&mut tx, &removed)
            .await
            .unwrap()
    );
    relais_store::commit(tx).await.unwrap();
    assert!(matches!(
        f::userinfo(&db, &token, now).await,
        Err(UserinfoError::InvalidToken(why)) if why.contains("plus habilité")
    ));
}
