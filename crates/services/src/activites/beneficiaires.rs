//! A structure's file of followed beneficiaries, for its mediators: a file is opened with
//! the person's consent, seen by the mediator who opened it and, if the person agreed, by
//! the structure's other mediators; it is given to the person on request, erased on
//! request or two years after their last activity, merged with a duplicate.

use relais_domain::activites::beneficiaires::{self as regles, CONSERVATION_MS, Candidat};
use relais_domain::activites::vocabulaires::{Genre, StatutSocial, TrancheAge};
use relais_domain::authz::MediateurAccess;
use relais_domain::calendrier::now_ms;
use relais_domain::ids::BeneficiaireId;
use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::activites::beneficiaires::{self as repo, Etape, Fiche};
use relais_store::activites::{self as activites, NouveauBeneficiaire};
use relais_store::{Db, StoreError, journal};

/// A followed beneficiary's file as a mediator fills it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NouvelleFiche {
    pub prenom: String,
    pub nom: String,
    pub commune: Option<String>,
    pub genre: Genre,
    pub tranche: TrancheAge,
    pub statut: StatutSocial,
    /// The person agreed to be followed (the date is recorded).
    pub consentement: bool,
    /// The person agreed that the structure's other mediators see the file.
    pub partage: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FicheError {
    #[error("Consentement : la personne doit accepter d’être suivie pour avoir une fiche.")]
    SansConsentement,
    #[error("Nom : indiquez le prénom et le nom (100 caractères au plus chacun).")]
    Nom,
    #[error("Commune : ce code n’est pas celui d’une commune.")]
    CommuneInconnue,
    /// Not in the structure's file, or not one this mediator may see: the same answer
    /// either way, so that nobody learns a file exists.
    #[error("Cette fiche n’existe pas ou vous n’y avez pas accès.")]
    Inconnue,
    #[error("Fusion : choisissez une autre fiche de la même personne.")]
    FusionImpossible,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FicheError {
    /// The form field the error belongs to.
    pub fn champ(&self) -> &'static str {
        match self {
            FicheError::SansConsentement => "consentement",
            FicheError::Nom => "nom",
            FicheError::CommuneInconnue => "commune",
            FicheError::Inconnue | FicheError::FusionImpossible | FicheError::Store(_) => {
                "formulaire"
            }
        }
    }
}

/// Opens a followed beneficiary's file in the mediator's structure, with their consent.
pub async fn creer(
    db: &Db,
    access: &MediateurAccess,
    fiche: &NouvelleFiche,
) -> Result<BeneficiaireId, FicheError> {
    if !fiche.consentement {
        return Err(FicheError::SansConsentement);
    }
    let (prenom, nom) = (fiche.prenom.trim(), fiche.nom.trim());
    if prenom.is_empty()
        || nom.is_empty()
        || prenom.chars().count() > 100
        || nom.chars().count() > 100
    {
        return Err(FicheError::Nom);
    }
    if let Some(c) = &fiche.commune
        && !relais_store::territoires::commune_exists(db, c).await?
    {
        return Err(FicheError::CommuneInconnue);
    }
    let now = now_ms();
    Ok(activites::creer_beneficiaire(
        db,
        &NouveauBeneficiaire {
            structure: access.structure(),
            prenom: prenom.to_string(),
            nom: nom.to_string(),
            commune: fiche.commune.clone(),
            genre: fiche.genre,
            tranche: fiche.tranche,
            statut: fiche.statut,
            consentement_le: now,
            cree_par: access.person(),
            partage: fiche.partage,
        },
        now,
    )
    .await?)
}

/// The files the mediator may see, and the groups of them that are likely one person.
pub async fn fichier(
    db: &Db,
    access: &MediateurAccess,
) -> Result<(Vec<Fiche>, Vec<Vec<BeneficiaireId>>), StoreError> {
    let fiches = repo::fiches(db, access.structure(), access.person()).await?;
    let candidats: Vec<Candidat> = fiches
        .iter()
        .map(|f| Candidat {
            id: f.id,
            prenom: f.prenom.clone(),
            nom: f.nom.clone(),
            tranche: f.tranche.as_str().to_string(),
        })
        .collect();
    let doublons = regles::doublons(&candidats);
    Ok((fiches, doublons))
}

/// File `id`, if it is in the mediator's structure and they may see it.
pub async fn fiche(
    db: &Db,
    access: &MediateurAccess,
    id: BeneficiaireId,
) -> Result<Fiche, FicheError> {
    repo::lire(db, id)
        .await?
        .filter(|f| {
            f.structure == access.structure()
                && regles::visible(access.person(), f.cree_par, f.partage)
        })
        .ok_or(FicheError::Inconnue)
}

/// File `id` and the person's path: their activities, oldest first.
pub async fn parcours(
    db: &Db,
    access: &MediateurAccess,
    id: BeneficiaireId,
) -> Result<(Fiche, Vec<Etape>), FicheError> {
    let f = fiche(db, access, id).await?;
    Ok((f, repo::parcours(db, id).await?))
}

/// Everything Relais holds on the person, as given to them on request (JSON).
pub async fn donnees(
    db: &Db,
    access: &MediateurAccess,
    id: BeneficiaireId,
) -> Result<serde_json::Value, FicheError> {
    let (f, etapes) = parcours(db, access, id).await?;
    let jour = |ms: i64| relais_domain::calendrier::date_fr(ms);
    Ok(serde_json::json!({
        "fiche": {
            "prenom": f.prenom,
            "nom": f.nom,
            "commune": f.commune,
            "genre": f.genre.label(),
            "tranche_age": f.tranche.label(),
            "statut": f.statut.label(),
            "consentement_le": jour(f.consentement_le),
            "partagee_avec_la_structure": f.partage,
            "effacee_apres": "deux ans sans activité",
        },
        "activites": etapes.iter().map(|e| serde_json::json!({
            "date": jour(e.date),
            "type": e.type_activite.label(),
            "duree_minutes": e.duree,
            "thematiques": e.thematiques.iter().map(|t| t.label()).collect::<Vec<_>>(),
            "mediateur": e.mediateur,
        })).collect::<Vec<_>>(),
        "diagnostics": relais_store::diagnostic::of_beneficiaire(db, id).await?
            .iter()
            .filter_map(|d| {
                let r = d.resultat.as_ref()?;
                Some(serde_json::json!({
                    "date": jour(d.fini_le?),
                    "niveau": r.niveau.label(),
                    "domaines": r.domaines.iter().map(relais_domain::diagnostic::resultat::ResultatDomaine::phrase).collect::<Vec<_>>(),
                }))
            })
            .collect::<Vec<_>>(),
    }))
}

/// Erases file `id` at the person's request: name and commune blanked, the statistics kept
/// as they were counted; journaled without the name.
pub async fn effacer(
    db: &Db,
    access: &MediateurAccess,
    id: BeneficiaireId,
) -> Result<(), FicheError> {
    fiche(db, access, id).await?;
    let mut tx = db.begin().await?;
    if !repo::effacer(&mut tx, id, now_ms()).await? {
        return Err(FicheError::Inconnue);
    }
    let entry = NewEntry::new(
        JournalAction::BeneficiaireErased,
        "beneficiaire",
        id.to_string(),
    )
    .by(access.person(), Some(access.structure()))
    .in_structure(access.structure())
    .with_details(r#"{"motif":"demande"}"#);
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// Merges file `autre` into `garde`, two files of one person the mediator may both see;
/// journaled.
pub async fn fusionner(
    db: &Db,
    access: &MediateurAccess,
    garde: BeneficiaireId,
    autre: BeneficiaireId,
) -> Result<(), FicheError> {
    if garde == autre {
        return Err(FicheError::FusionImpossible);
    }
    fiche(db, access, garde).await?;
    fiche(db, access, autre).await?;
    let mut tx = db.begin().await?;
    if !repo::fusionner(&mut tx, garde, autre).await? {
        return Err(FicheError::FusionImpossible);
    }
    let details = serde_json::json!({ "fiche_fusionnee": autre.0 }).to_string();
    let entry = NewEntry::new(
        JournalAction::BeneficiairesMerged,
        "beneficiaire",
        garde.to_string(),
    )
    .by(access.person(), Some(access.structure()))
    .in_structure(access.structure())
    .with_details(details);
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// Erases the files whose last trace is older than their conservation at `now` (a daily
/// job), each journaled by Relais itself. Returns how many were.
pub async fn effacer_expirees(db: &Db, now: i64) -> Result<usize, StoreError> {
    let avant = now - CONSERVATION_MS;
    let mut n = 0;
    loop {
        let expirees = repo::expirees(db, avant, 100).await?;
        if expirees.is_empty() {
            return Ok(n);
        }
        for (id, structure) in expirees {
            let mut tx = db.begin().await?;
            if repo::effacer(&mut tx, id, now).await? {
                let entry = NewEntry::new(
                    JournalAction::BeneficiaireErased,
                    "beneficiaire",
                    id.to_string(),
                )
                .in_structure(structure)
                .with_details(r#"{"motif":"conservation"}"#);
                journal::append(&mut tx, &entry).await?;
                n += 1;
            }
            relais_store::commit(tx).await?;
        }
    }
}
