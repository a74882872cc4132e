//! Activités: a mediator's reports and followed beneficiaries, and the statistics every
//! dashboard reads, from the in-memory index kept level with the store.

use std::sync::RwLock;

use relais_domain::activites::rapport::{Rapport, RapportError};
use relais_domain::activites::statistiques::{Figures, Filtres};
use relais_domain::activites::vocabulaires::{
    Genre, StatutSocial, Thematique, TrancheAge, TypeLieu, thematiques_proposees,
};
use relais_domain::authz::MediateurAccess;
use relais_domain::ids::{ActiviteId, BeneficiaireId, LieuId, StructureId};
use relais_search::activites::ActivitesIndex;
use relais_store::activites::{self as repo, Enregistrement, NouvelleActivite, Participant};
use relais_store::{Db, StoreError};

pub mod beneficiaires;
pub mod export;

/// Why a report was not written; each message names its form field.
#[derive(Debug, thiserror::Error)]
pub enum SaisieError {
    /// The report's own errors, all of them.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))]
    Rapport(Vec<RapportError>),
    #[error("Lieu : ce lieu n’est pas l’un de ceux de votre structure.")]
    LieuInconnu,
    #[error("Commune : ce code n’est pas celui d’une commune.")]
    CommuneInconnue,
    #[error("Participants : une personne suivie n’est pas dans le fichier de votre structure.")]
    BeneficiaireInconnu,
    #[error("Cette saisie a déjà été envoyée par une autre personne.")]
    CleDejaPrise,
    #[error("Ce formulaire n’a pas de clé de saisie valable : rechargez la page.")]
    CleInvalide,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SaisieError {
    /// The form field each error belongs to (`formulaire`: the whole form).
    pub fn champs(&self) -> Vec<(&'static str, String)> {
        match self {
            SaisieError::Rapport(errors) => {
                errors.iter().map(|e| (e.champ(), e.to_string())).collect()
            }
            SaisieError::LieuInconnu => vec![("lieu", self.to_string())],
            SaisieError::CommuneInconnue => vec![("commune", self.to_string())],
            SaisieError::BeneficiaireInconnu => vec![("participants", self.to_string())],
            SaisieError::CleDejaPrise | SaisieError::CleInvalide | SaisieError::Store(_) => {
                vec![("formulaire", self.to_string())]
            }
        }
    }
}

/// A key for a new entry, given to the form (or made by the device): sending the entry
/// again with it writes nothing more.
pub fn nouvelle_cle() -> String {
    use rand::Rng;
    data_encoding::BASE64URL_NOPAD.encode(&rand::rng().random::<[u8; 16]>())
}

/// What [`enregistrer`] did: the activity, and whether this call wrote it (`false`: the
/// same entry had already arrived, from the offline queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enregistree {
    pub id: ActiviteId,
    pub nouvelle: bool,
}

/// Writes the report `cle` of the mediator `access`: checked whole, its lieu one of the
/// structure's (whose commune it takes), its followed participants from the structure's
/// file. Sending the same `cle` again writes nothing more.
pub async fn enregistrer(
    db: &Db,
    access: &MediateurAccess,
    cle: &str,
    rapport: Rapport,
) -> Result<Enregistree, SaisieError> {
    if !(8..=64).contains(&cle.len())
        || !cle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(SaisieError::CleInvalide);
    }
    let nouvelle = preparer(db, access, cle, rapport).await?;
    let now = relais_domain::calendrier::now_ms();
    match repo::enregistrer(db, &nouvelle, now).await? {
        Enregistrement::Nouvelle(id) => Ok(Enregistree { id, nouvelle: true }),
        Enregistrement::DejaRecue { id, mediateur } if mediateur == access.person() => {
            Ok(Enregistree {
                id,
                nouvelle: false,
            })
        }
        Enregistrement::DejaRecue { .. } => Err(SaisieError::CleDejaPrise),
    }
}

/// The participants a report counts without a file, one each.
fn anonymes(a: &relais_domain::activites::rapport::Anonymes) -> impl Iterator<Item = Participant> {
    a.personnes().into_iter().map(|p| Participant {
        beneficiaire: None,
        deja_accompagne: p.deja_accompagne,
        genre: p.genre,
        tranche: p.tranche,
        statut: p.statut,
        commune: None,
    })
}

/// A report checked whole and made ready to write: its lieu one of the structure's (whose
/// commune it takes), its followed participants from the structure's file.
async fn preparer(
    db: &Db,
    access: &MediateurAccess,
    cle: &str,
    mut rapport: Rapport,
) -> Result<NouvelleActivite, SaisieError> {
    let now = relais_domain::calendrier::now_ms();
    if rapport.type_lieu == TypeLieu::LieuActivite
        && let Some(lieu) = &rapport.lieu
    {
        let lieux = relais_store::lieux::structure_lieux(db, access.structure()).await?;
        let found = lieux
            .iter()
            .find(|l| &l.id == lieu)
            .ok_or(SaisieError::LieuInconnu)?;
        rapport.commune = found.location.code_insee.clone().unwrap_or_default();
    }
    // Today as a French mediator counts it: the form offers the day in Paris.
    let errors = rapport.verifier(relais_domain::calendrier::paris_days(now) * 86_400_000);
    if !errors.is_empty() {
        return Err(SaisieError::Rapport(errors));
    }
    if !relais_store::territoires::commune_exists(db, &rapport.commune).await? {
        return Err(SaisieError::CommuneInconnue);
    }
    let mut participants =
        repo::suivis_de(db, access.structure(), access.person(), &rapport.suivis).await?;
    if participants.len() != rapport.suivis.len() {
        return Err(SaisieError::BeneficiaireInconnu);
    }
    participants.extend(anonymes(&rapport.anonymes));
    let a = &rapport.anonymes;
    let counts = |m: Vec<(&'static str, u32)>| -> serde_json::Value {
        m.into_iter()
            .map(|(k, n)| (k.to_string(), serde_json::Value::from(n)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let anonymes_json = serde_json::json!({
        "total": a.total,
        "deja_accompagnes": a.deja_accompagnes,
        "genres": counts(a.genres.iter().map(|(k, n)| (k.as_str(), *n)).collect()),
        "tranches": counts(a.tranches.iter().map(|(k, n)| (k.as_str(), *n)).collect()),
        "statuts": counts(a.statuts.iter().map(|(k, n)| (k.as_str(), *n)).collect()),
    })
    .to_string();
    Ok(NouvelleActivite {
        cle: cle.to_string(),
        mediateur: access.person(),
        structure: access.structure(),
        rapport,
        anonymes_json,
        participants,
    })
}

/// One of the mediator's activities as its form shows it, with its key; `None` if they
/// have no such live activity.
pub async fn a_modifier(
    db: &Db,
    access: &MediateurAccess,
    id: ActiviteId,
) -> Result<Option<(String, Rapport)>, StoreError> {
    let Some((cle, mut rapport, anonymes_json, anonymes_total)) =
        repo::lire(db, id, access.person()).await?
    else {
        return Ok(None);
    };
    rapport.anonymes = anonymes_lus(&anonymes_json, anonymes_total);
    Ok(Some((cle, rapport)))
}

/// The anonymous counts stored with an activity (an import stores none: its count only).
fn anonymes_lus(json: &str, total: u32) -> relais_domain::activites::rapport::Anonymes {
    use relais_domain::activites::rapport::Anonymes;
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    fn map<K: Ord>(
        v: &serde_json::Value,
        parse: impl Fn(&str) -> Option<K>,
    ) -> std::collections::BTreeMap<K, u32> {
        v.as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, n)| Some((parse(k)?, u32::try_from(n.as_u64()?).ok()?)))
            .collect()
    }
    Anonymes {
        total,
        deja_accompagnes: v["deja_accompagnes"].as_u64().map_or(0, |n| n as u32),
        genres: map(&v["genres"], Genre::parse),
        tranches: map(&v["tranches"], TrancheAge::parse),
        statuts: map(&v["statuts"], StatutSocial::parse),
    }
}

/// Replaces one of the mediator's activities by `rapport`, checked as a new one; `false`
/// if they have no such live activity.
pub async fn modifier(
    db: &Db,
    access: &MediateurAccess,
    id: ActiviteId,
    rapport: Rapport,
) -> Result<bool, SaisieError> {
    let Some((cle, _)) = a_modifier(db, access, id).await? else {
        return Ok(false);
    };
    let nouvelle = preparer(db, access, &cle, rapport).await?;
    Ok(repo::modifier(db, id, &nouvelle, relais_domain::calendrier::now_ms()).await?)
}

/// The mediator's latest activities in their structure.
pub async fn mes_activites(
    db: &Db,
    access: &MediateurAccess,
) -> Result<Vec<repo::ActiviteListee>, StoreError> {
    repo::du_mediateur(db, access.person(), access.structure(), 100).await
}

/// Deletes one of the mediator's activities (kept in the base, out of every figure);
/// `false` if they have no such activity.
pub async fn supprimer(
    db: &Db,
    access: &MediateurAccess,
    id: ActiviteId,
) -> Result<bool, StoreError> {
    repo::supprimer(db, id, access.person(), relais_domain::calendrier::now_ms()).await
}

/// What the entry form offers: the structure's lieux (id, name), its commune (where an
/// activity outside its lieux most often is), the followed beneficiaries the mediator may
/// see (id, name), the thématiques with the mediator's latest first, and where their latest
/// activity took place (their usual place).
pub struct Choix {
    pub lieux: Vec<(LieuId, String)>,
    pub commune: String,
    pub beneficiaires: Vec<(BeneficiaireId, String)>,
    pub thematiques: Vec<Thematique>,
    pub habitude: Option<Habitude>,
}

/// Where a mediator's latest activity took place.
pub struct Habitude {
    pub type_lieu: TypeLieu,
    pub lieu: Option<LieuId>,
    pub commune: String,
}

/// The activities whose thématiques come first in the form.
const RECENTES: i64 = 10;

/// The lieux of `structure`, with their names (public data).
pub async fn noms_des_lieux(
    db: &Db,
    structure: StructureId,
) -> Result<Vec<(LieuId, String)>, StoreError> {
    Ok(relais_store::lieux::structure_lieux(db, structure)
        .await?
        .into_iter()
        .map(|l| {
            let nom = serde_json::from_str::<serde_json::Value>(&l.data)
                .ok()
                .and_then(|d| d.get("nom").and_then(|n| n.as_str()).map(str::to_string))
                .unwrap_or_else(|| l.id.to_string());
            (l.id, nom)
        })
        .collect())
}

pub async fn choix(db: &Db, access: &MediateurAccess) -> Result<Choix, StoreError> {
    let lieux = noms_des_lieux(db, access.structure()).await?;
    let commune = relais_store::comptes::structure(db, access.structure())
        .await?
        .map(|s| s.commune)
        .unwrap_or_default();
    let recentes = repo::du_mediateur(db, access.person(), access.structure(), RECENTES).await?;
    Ok(Choix {
        lieux,
        commune,
        beneficiaires: repo::beneficiaires(db, access.structure(), access.person()).await?,
        thematiques: thematiques_proposees(recentes.iter().map(|a| &a.thematiques)),
        habitude: recentes.first().map(|a| Habitude {
            type_lieu: a.type_lieu,
            lieu: a.lieu.clone(),
            commune: a.commune.clone(),
        }),
    })
}

/// Versions read per statement when catching up (a first load reads them all).
const FENETRE: i64 = 50_000;

/// The statistics index of one process, shared by its requests.
#[derive(Default)]
pub struct Statistiques {
    index: RwLock<ActivitesIndex>,
    /// One catch-up at a time: the others wait for it rather than read the same rows.
    rattrapage: tokio::sync::Mutex<()>,
}

impl Statistiques {
    pub fn new() -> Statistiques {
        Statistiques::default()
    }

    fn version(&self) -> i64 {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .version()
    }

    /// Reads every write the index has not seen yet; returns how many activities it read.
    pub async fn rattraper(&self, db: &Db) -> Result<usize, StoreError> {
        let derniere = repo::derniere_version(db).await?;
        if derniere <= self.version() {
            return Ok(0);
        }
        let _one = self.rattrapage.lock().await;
        let mut lues = 0;
        let mut apres = self.version();
        while apres < derniere {
            let jusqu_a = (apres + FENETRE).min(derniere);
            let ecritures = repo::ecritures(db, apres, jusqu_a).await?;
            lues += ecritures.len();
            let mut index = self
                .index
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for e in ecritures {
                index.appliquer(e.version, e.activite, &e.participations);
            }
            index.avancer(jusqu_a);
            apres = jusqu_a;
        }
        Ok(lues)
    }

    /// The figures `filtres` asks, with every write committed before the call.
    pub async fn figures(&self, db: &Db, filtres: &Filtres) -> Result<Figures, StoreError> {
        self.rattraper(db).await?;
        Ok(self
            .index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .figures(filtres))
    }

    /// The bytes the index holds.
    pub fn octets(&self) -> usize {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .octets()
    }

    /// Activities and participations held.
    pub fn taille(&self) -> (usize, usize) {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .taille()
    }
}

/// What [`importer_v1`] did with a file.
#[derive(Debug, Default)]
pub struct ImportV1Bilan {
    pub importees: usize,
    /// Already imported (same version 1 identifier): left as they were.
    pub deja: usize,
    /// One French sentence per refused line, naming the line and the field.
    pub erreurs: Vec<String>,
}

/// Imports a version 1 file (JSON Lines, `relais import activites-v1`): each line becomes an
/// activity of the conseiller's account (found by e-mail, a mediator of a structure), its
/// participants anonymous and counted by category through the V1 → V2 mapping. A session
/// « in the structure » is placed at the structure's lieu in that commune if it has one,
/// else « autre lieu ». Only the thématique rule is relaxed: version 1's « autre » alone
/// has no version 2 equivalent, and nothing is invented. Importing again adds nothing.
pub async fn importer_v1(
    db: &Db,
    lignes: impl IntoIterator<Item = (usize, String)>,
) -> Result<ImportV1Bilan, StoreError> {
    use relais_domain::activites::v1::lire_ligne;
    use relais_domain::activites::vocabulaires::VocabulaireError;

    let now = relais_domain::calendrier::now_ms();
    let today = relais_domain::calendrier::paris_days(now) * 86_400_000;
    let mut bilan = ImportV1Bilan::default();
    let mut comptes: std::collections::HashMap<String, Option<MediateurV1>> =
        std::collections::HashMap::new();
    for (n, texte) in lignes {
        if texte.trim().is_empty() {
            continue;
        }
        let v1 = match lire_ligne(n, &texte) {
            Ok(v1) => v1,
            Err(e) => {
                bilan.erreurs.push(e.to_string());
                continue;
            }
        };
        let email = v1.conseiller.trim().to_lowercase();
        if !comptes.contains_key(&email) {
            let found = mediateur_v1(db, &email).await?;
            comptes.insert(email.clone(), found);
        }
        let Some(m) = &comptes[&email] else {
            bilan.erreurs.push(format!(
                "ligne {n}, champ « conseiller » : aucun médiateur numérique n’a le compte « {email} »."
            ));
            continue;
        };
        if !relais_store::territoires::commune_exists(db, &v1.commune).await? {
            bilan.erreurs.push(format!(
                "ligne {n}, champ « codeCommune » : « {} » n’est pas une commune connue.",
                v1.commune
            ));
            continue;
        }
        let lieu = if v1.type_lieu == TypeLieu::LieuActivite {
            m.lieux
                .iter()
                .find(|(_, c)| *c == v1.commune)
                .map(|(l, _)| l.clone())
        } else {
            None
        };
        let rapport = Rapport {
            type_activite: v1.type_activite,
            date: v1.date,
            duree: v1.duree,
            type_lieu: if v1.type_lieu == TypeLieu::LieuActivite && lieu.is_none() {
                TypeLieu::Autre
            } else {
                v1.type_lieu
            },
            lieu,
            commune: v1.commune.clone(),
            thematiques: v1.thematiques,
            demarches: std::collections::BTreeSet::new(),
            materiel: std::collections::BTreeSet::new(),
            autonomie: None,
            niveau: None,
            orientation: v1.orientation,
            precisions_demarche: String::new(),
            titre_atelier: String::new(),
            suivis: std::collections::BTreeSet::new(),
            anonymes: v1.anonymes,
        };
        // Version 1 also counted several people in a « ponctuel » session: kept as it was.
        let errors: Vec<RapportError> = rapport
            .verifier(today)
            .into_iter()
            .filter(|e| {
                !matches!(
                    e,
                    RapportError::Thematiques(VocabulaireError::AucuneThematique)
                        | RapportError::PlusieursEnIndividuel
                )
            })
            .collect();
        if let Some(e) = errors.first() {
            bilan
                .erreurs
                .push(format!("ligne {n}, champ « {} » : {e}", e.champ()));
            continue;
        }
        let participants = anonymes(&rapport.anonymes).collect();
        let nouvelle = NouvelleActivite {
            cle: format!("v1-{}", v1.id),
            mediateur: m.access.person(),
            structure: m.access.structure(),
            rapport,
            anonymes_json: "{}".into(),
            participants,
        };
        match repo::enregistrer(db, &nouvelle, now).await? {
            Enregistrement::Nouvelle(_) => bilan.importees += 1,
            Enregistrement::DejaRecue { .. } => bilan.deja += 1,
        }
    }
    Ok(bilan)
}

/// A version 1 conseiller in Relais: their mediator access and its structure's lieux
/// with their commune.
struct MediateurV1 {
    access: MediateurAccess,
    lieux: Vec<(LieuId, String)>,
}

async fn mediateur_v1(db: &Db, email: &str) -> Result<Option<MediateurV1>, StoreError> {
    use relais_domain::authz::{Actor, Membership};
    let Some(person) = relais_store::comptes::person_by_email(db, email).await? else {
        return Ok(None);
    };
    let memberships = relais_store::comptes::memberships_of(db, person.id).await?;
    let actor = Actor {
        person_id: person.id,
        memberships: memberships
            .iter()
            .map(|m| Membership {
                structure: m.structure_id,
                role: m.role,
            })
            .collect(),
        global_roles: Vec::new(),
        acting_structure: None,
    };
    let Some(access) = memberships
        .iter()
        .find_map(|m| actor.mediateur(m.structure_id).ok())
    else {
        return Ok(None);
    };
    let lieux = relais_store::lieux::structure_lieux(db, access.structure())
        .await?
        .into_iter()
        .filter_map(|l| Some((l.id, l.location.code_insee?)))
        .collect();
    Ok(Some(MediateurV1 { access, lieux }))
}
