//! Pass numérique: a structure's référents run programmes (settings, qualified structures,
//! booklets issued); prescripteurs hand booklets to people; mediators of qualified
//! structures check and use passes. Every decision and every booklet issued or handed out
//! is journaled; every pass used is a row of the ledger (`utilisations_pass`, append-only),
//! written once whatever the retries.

pub mod carnets;
pub mod chiffres;
pub mod virements;

pub use chiffres::entonnoir;

use std::collections::BTreeSet;

use rand::Rng;
use relais_domain::authz::{MediateurAccess, StructureAccess};
use relais_domain::comptes::Role;
use relais_domain::ids::{LieuId, ProgrammeId, QualificationId, StructureId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_domain::pass::code::{CodePass, ENTROPY_BYTES};
use relais_domain::pass::programme::{
    self as regles, BIC_INVALIDE, IBAN_INVALIDE, ProgrammeError, ProgrammeSaisi, ServicePass,
};
use relais_domain::pass::reglement::{Releve, Utilisation, releves};
use relais_domain::pass::utilisation::{
    DejaUtilise, ESSAIS_PAR_LIEU, ESSAIS_PAR_PERSONNE, EtatPass, FENETRE_ESSAIS_MS, Refus, decider,
};
use relais_search::TerritoryIndex;
use relais_store::pass::{self as repo, Carnet, NouvelleUtilisation, PassVu, Programme, Remise};
use relais_store::{Db, StoreError, journal, sessions};

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error("le programme comporte des erreurs")]
    Programme(Vec<ProgrammeError>),
    #[error("seuls les référents de la structure qui porte ce programme peuvent le gérer")]
    PasLePorteur,
    #[error("seuls les référents d’une structure peuvent la qualifier")]
    PasReferent,
    #[error("{0} introuvable")]
    Introuvable(&'static str),
    #[error("votre structure a déjà demandé sa qualification pour ce programme")]
    DejaDemandee,
    #[error("cette demande a déjà été décidée")]
    DejaDecidee,
    #[error("indiquez le motif du refus")]
    MotifManquant,
    #[error("{champ} : {raison}")]
    Champ { champ: &'static str, raison: String },
    #[error(
        "le budget du programme ne permet pas d’émettre ces carnets ({reste} pass encore possibles)"
    )]
    Budget { reste: i64 },
    #[error(
        "le programme émet au moins {} d’un coup : demandez plus de carnets",
        relais_domain::pass::reglement::euros(*minimum)
    )]
    AchatMinimum { minimum: i64 },
    #[error("ce carnet n’a pas été confié à votre structure")]
    CarnetAilleurs,
    #[error("ce carnet a déjà été remis")]
    DejaRemis,
    #[error("aucun pass de ce programme n’a été utilisé ce mois-là : aucun virement à préparer")]
    AucunVirement,
    #[error("ce mois n’est pas terminé : des pass peuvent encore y être enregistrés")]
    MoisEnCours,
    #[error("le paiement de ces virements a déjà été confirmé")]
    DejaPaye,
    #[error(transparent)]
    Pdf(#[from] crate::pdf::PdfError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An entry by `access`'s person, in their structure's journal.
fn entree(
    access: &StructureAccess,
    action: JournalAction,
    kind: &str,
    id: impl ToString,
    details: &serde_json::Value,
) -> NewEntry {
    NewEntry::new(action, kind, id.to_string())
        .by(access.person(), Some(access.structure()))
        .in_structure(access.structure())
        .with_details(details.to_string())
}

/// The programme of `id` if `access` is a référent of the structure that runs it.
pub async fn programme_gere(
    db: &Db,
    access: &StructureAccess,
    id: ProgrammeId,
) -> Result<Programme, PassError> {
    let p = repo::programme(db, id)
        .await?
        .ok_or(PassError::Introuvable("programme"))?;
    if p.structure != access.structure() || !access.roles().contains(&Role::Referent) {
        return Err(PassError::PasLePorteur);
    }
    Ok(p)
}

/// Creates a programme run by the référent's structure; journaled.
pub async fn creer_programme(
    db: &Db,
    access: &StructureAccess,
    saisi: &ProgrammeSaisi,
    now: i64,
) -> Result<ProgrammeId, PassError> {
    if !access.roles().contains(&Role::Referent) {
        return Err(PassError::PasReferent);
    }
    let reglages = saisi
        .verifier(relais_domain::calendrier::paris_days(now))
        .map_err(PassError::Programme)?;
    let mut tx = db.begin().await?;
    let id = repo::create_programme(&mut tx, access.structure(), &reglages, access.person(), now)
        .await?;
    let details = serde_json::json!({
        "nom": reglages.nom,
        "budget_centimes": reglages.budget_centimes,
        "valeur_centimes": reglages.valeur_centimes,
        "financeurs": reglages.financeurs.iter().map(|f| serde_json::json!({
            "nom": f.nom, "siret": f.siret.as_str(), "part": f.part,
        })).collect::<Vec<_>>(),
    });
    let entry = entree(
        access,
        JournalAction::ProgrammePassCreated,
        "programme_pass",
        id,
        &details,
    );
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(id)
}

/// A structure's application, as its référent types it.
#[derive(Debug, Clone, Default)]
pub struct DemandeQualification {
    pub titulaire: String,
    pub iban: String,
    pub bic: String,
    pub services: Vec<ServicePass>,
}

/// The référent's structure applies to accept `programme`'s passes; journaled for the
/// programme's owner.
pub async fn demander_qualification(
    db: &Db,
    access: &StructureAccess,
    programme: ProgrammeId,
    d: &DemandeQualification,
    now: i64,
) -> Result<QualificationId, PassError> {
    if !access.roles().contains(&Role::Referent) {
        return Err(PassError::PasReferent);
    }
    let p = repo::programme(db, programme)
        .await?
        .ok_or(PassError::Introuvable("programme"))?;
    let champ = |champ, raison: &str| PassError::Champ {
        champ,
        raison: raison.to_string(),
    };
    let titulaire = d.titulaire.trim();
    if titulaire.is_empty() {
        return Err(champ("titulaire", "indiquez le titulaire du compte"));
    }
    let iban = regles::iban(&d.iban).ok_or_else(|| champ("iban", IBAN_INVALIDE))?;
    let bic = regles::bic(&d.bic).ok_or_else(|| champ("bic", BIC_INVALIDE))?;
    if d.services.is_empty() || d.services.iter().any(|s| !p.reglages.services.contains(s)) {
        return Err(champ(
            "services",
            "choisissez des services parmi ceux que le programme paie",
        ));
    }
    let mut tx = db.begin().await?;
    let id = match repo::create_qualification(
        &mut tx,
        programme,
        access.structure(),
        titulaire,
        &iban,
        &bic,
        &d.services,
        access.person(),
        now,
    )
    .await
    {
        Err(StoreError::Duplicate(_)) => return Err(PassError::DejaDemandee),
        other => other?,
    };
    let entry = NewEntry::new(
        JournalAction::QualificationRequested,
        "qualification_pass",
        id.to_string(),
    )
    .by(access.person(), Some(access.structure()))
    .in_structure(p.structure)
    .with_details(serde_json::json!({ "programme": programme.0 }).to_string());
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(id)
}

/// The programme's owner accepts or refuses an application (a refusal says why);
/// journaled.
pub async fn decider_qualification(
    db: &Db,
    access: &StructureAccess,
    id: QualificationId,
    accepter: bool,
    motif: &str,
    now: i64,
) -> Result<(), PassError> {
    let q = repo::qualification(db, id)
        .await?
        .ok_or(PassError::Introuvable("demande de qualification"))?;
    programme_gere(db, access, q.programme).await?;
    let motif = motif.trim();
    if !accepter && motif.is_empty() {
        return Err(PassError::MotifManquant);
    }
    let statut = if accepter {
        repo::ACCEPTEE
    } else {
        repo::REFUSEE
    };
    let mut tx = db.begin().await?;
    if !repo::decide_qualification(&mut tx, id, statut, motif, access.person(), now).await? {
        return Err(PassError::DejaDecidee);
    }
    let entry = entree(
        access,
        JournalAction::QualificationDecided,
        "qualification_pass",
        id,
        &serde_json::json!({ "structure": q.structure.0, "decision": statut, "motif": motif }),
    );
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// Issues `nombre` booklets of `programme` within its budget, given to `prescripteurs` to
/// hand out; journaled with the amount they commit. Their numbers.
pub async fn emettre(
    db: &Db,
    access: &StructureAccess,
    programme: ProgrammeId,
    nombre: usize,
    prescripteurs: Option<StructureId>,
    now: i64,
) -> Result<Vec<i64>, PassError> {
    let p = programme_gere(db, access, programme).await?;
    let r = &p.reglages;
    let taille = usize::try_from(r.taille_carnet).unwrap_or(10);
    let mut tx = db.begin().await?;
    repo::lock_programme(&mut tx, programme).await?;
    let deja = repo::passes_issued(&mut tx, programme).await?;
    let reste = r.budget_centimes / r.valeur_centimes - deja;
    let demandes = (nombre * taille) as i64;
    if nombre == 0 || demandes > reste {
        return Err(PassError::Budget {
            reste: reste.max(0),
        });
    }
    // An order below the programme's minimum purchase is refused, unless it takes all the
    // budget left.
    if demandes * r.valeur_centimes < r.achat_minimum_centimes && demandes < reste {
        return Err(PassError::AchatMinimum {
            minimum: r.achat_minimum_centimes,
        });
    }
    // The thread's generator is not `Send`: drawn and dropped before any await.
    let carnets: Vec<Vec<String>> = {
        let mut rng = rand::rng();
        (0..nombre)
            .map(|_| {
                (0..taille)
                    .map(|_| CodePass::from_entropy(rng.random::<[u8; ENTROPY_BYTES]>()).compact())
                    .collect()
            })
            .collect()
    };
    let numeros = repo::issue_carnets(
        &mut tx,
        programme,
        prescripteurs,
        &carnets,
        r.valeur_centimes,
        now,
    )
    .await?;
    let details = serde_json::json!({
        "carnets": nombre,
        "pass": demandes,
        "montant_centimes": demandes * r.valeur_centimes,
        "premier": numeros.first(),
        "dernier": numeros.last(),
        "confies_a": prescripteurs.map(|s| s.0),
    });
    let entry = entree(
        access,
        JournalAction::CarnetsIssued,
        "programme_pass",
        programme,
        &details,
    );
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(numeros)
}

/// What a prescripteur records when handing a booklet (nothing that names the person).
#[derive(Debug, Clone, Default)]
pub struct RemiseSaisie {
    pub tranche_age: String,
    pub commune: String,
    pub situation: String,
    pub orientation: Vec<LieuId>,
    /// The key of the diagnostic whose result screen the booklet is handed from: one
    /// taken with the prescripteur's structure.
    pub diagnostic: Option<String>,
}

/// The programmes whose booklets `structure` was given to hand out, with how many are left.
pub async fn a_remettre(
    db: &Db,
    structure: StructureId,
) -> Result<Vec<(ProgrammeId, String, i64)>, StoreError> {
    repo::programmes_entrusted(db, structure).await
}

/// A prescripteur hands booklet `numero` of `programme`, given to their structure, to a
/// person; journaled.
pub async fn remettre(
    db: &Db,
    access: &StructureAccess,
    programme: ProgrammeId,
    numero: i64,
    saisie: &RemiseSaisie,
    now: i64,
) -> Result<Carnet, PassError> {
    if !access.roles().contains(&Role::Prescripteur) {
        return Err(PassError::CarnetAilleurs);
    }
    let carnet = repo::carnet(db, programme, numero)
        .await?
        .ok_or(PassError::Introuvable("carnet"))?;
    if carnet.structure != Some(access.structure()) {
        return Err(PassError::CarnetAilleurs);
    }
    // The commune may go unsaid; said, it must be one.
    let commune = saisie.commune.trim();
    if !commune.is_empty() && !relais_store::territoires::commune_exists(db, commune).await? {
        return Err(PassError::Champ {
            champ: "commune",
            raison: format!(
                "« {commune} » n’est le code INSEE d’aucune commune (5 caractères, par exemple 42218)"
            ),
        });
    }
    let diagnostic = match saisie.diagnostic.as_deref() {
        None => None,
        Some(cle) => Some(
            relais_store::diagnostic::by_cle(db, cle)
                .await?
                .filter(|d| d.contexte.structure == Some(access.structure()))
                .ok_or(PassError::Introuvable("diagnostic"))?
                .id,
        ),
    };
    let mut tx = db.begin().await?;
    let remise = Remise {
        carnet: carnet.id,
        prescripteur: access.person(),
        structure: access.structure(),
        tranche_age: saisie.tranche_age.clone(),
        commune: saisie.commune.clone(),
        situation: saisie.situation.clone(),
        orientation: saisie.orientation.clone(),
        diagnostic,
        remis_le: now,
    };
    if !repo::hand_out(&mut tx, &remise).await? {
        return Err(PassError::DejaRemis);
    }
    let entry = entree(
        access,
        JournalAction::CarnetHandedOut,
        "carnet",
        carnet.id,
        &serde_json::json!({ "programme": programme.0, "numero": numero }),
    );
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(Carnet {
        remis_le: Some(now),
        ..carnet
    })
}

/// A lieu where a person may use their passes, as the prescripteur tells them.
#[derive(Debug, Clone, PartialEq)]
pub struct LieuOriente {
    pub id: LieuId,
    pub nom: String,
    /// « 12 rue …, 42000 Saint-Étienne », as the lieu's record has it.
    pub adresse: String,
    /// From the person's commune, when both are placed.
    pub distance_km: Option<f64>,
}

/// The lieux of the structures qualified for `programme`, the nearest to the person's
/// commune (INSEE code) first, those without a position last; `n` at most.
pub async fn orientation(
    db: &Db,
    territoires: &TerritoryIndex,
    programme: ProgrammeId,
    commune: &str,
    n: usize,
) -> Result<Vec<LieuOriente>, StoreError> {
    let depuis = territoires.commune(commune).and_then(|c| c.position);
    let mut lieux: Vec<LieuOriente> = relais_store::lieux::qualified_lieux(db, programme)
        .await?
        .into_iter()
        .map(|l| {
            let data: serde_json::Value = serde_json::from_str(&l.data).unwrap_or_default();
            let champ = |k: &str| {
                data.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .trim()
                    .to_string()
            };
            let ville = format!("{} {}", champ("code_postal"), champ("commune"));
            LieuOriente {
                nom: Some(champ("nom"))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| l.id.to_string()),
                adresse: [champ("adresse"), ville.trim().to_string()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
                distance_km: depuis
                    .zip(l.location.position)
                    .map(|(a, b)| a.distance_m(b) / 1000.0),
                id: l.id,
            }
        })
        .collect();
    lieux.sort_by(|a, b| match (a.distance_km, b.distance_km) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.nom.cmp(&b.nom),
    });
    lieux.truncate(n);
    Ok(lieux)
}

// --- use ---------------------------------------------------------------------------------

/// Why a pass was not used: a refusal to show at the counter, or a failure of Relais.
#[derive(Debug, thiserror::Error)]
pub enum UtilisationError {
    #[error("{0}")]
    Refus(Refus),
    #[error(
        "trop de codes inconnus ont été tapés : réessayez dans un quart d’heure, ou demandez le carnet à la personne pour vérifier le code"
    )]
    TropDEssais,
    #[error("ce programme ne paie pas ce service : choisissez-en un de la liste")]
    ServiceHorsProgramme,
    #[error(
        "cette clé d’utilisation a déjà servi pour un autre pass : l’appareil doit en tirer une nouvelle"
    )]
    CleReutilisee,
    #[error("ce lieu n’est pas l’un de ceux de votre structure : choisissez-en un de la liste")]
    LieuAilleurs,
    #[error("{0}")]
    Jeton(#[from] relais_domain::pass::jeton::JetonError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Refus> for UtilisationError {
    fn from(r: Refus) -> Self {
        UtilisationError::Refus(r)
    }
}

/// A pass that may be used here, as the mediator checks it before accepting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassValable {
    pub code: CodePass,
    pub programme: String,
    pub valeur_centimes: i64,
    /// What it may pay for.
    pub services: Vec<ServicePass>,
}

fn valable(code: CodePass, vu: PassVu) -> PassValable {
    PassValable {
        code,
        programme: vu.programme_nom,
        valeur_centimes: vu.valeur_centimes,
        services: vu.services,
    }
}

/// The pass of a typed code (or of a scanned QR code's token) as `access`'s structure
/// sees it at `lieu`, and whether it may be used there today. A typo is told apart from an unknown code, with the code meant
/// when one issued pass is a typo away.
async fn lire(
    db: &Db,
    access: &MediateurAccess,
    territoires: &TerritoryIndex,
    typed: &str,
    lieu: Option<&LieuId>,
    now: i64,
) -> Result<(CodePass, PassVu, Result<(), Refus>), UtilisationError> {
    // A token is longer than any code: its signature is checked, then its code is read.
    let from_token;
    let typed = if typed.trim().len() > 2 * relais_domain::pass::code::LENGTH {
        let cles = carnets::cles_publiques(db).await?;
        from_token = relais_domain::pass::jeton::lire(typed, &cles)?
            .code
            .compact();
        from_token.as_str()
    } else {
        typed
    };
    // Guessing is bounded per account and per lieu (a structure's own premises when none
    // is named): past either limit, nothing is told of any code, valid or not, until the
    // window ends. Only the structure's lieux have a count, so none can be invented.
    let personne = format!("pass-personne:{}", access.person());
    let ici = match lieu {
        Some(l) => format!("pass-lieu:{l}"),
        None => format!("pass-locaux:{}", access.structure()),
    };
    let buckets = [personne.as_str(), ici.as_str()];
    let echec = |refus: Refus| async {
        for bucket in buckets {
            sessions::hit(db, bucket, now, FENETRE_ESSAIS_MS).await?;
        }
        Ok::<_, UtilisationError>(UtilisationError::Refus(refus))
    };
    let parsed = CodePass::parse(typed);
    // The pass (none for a malformed code), the lieu and the counts, in one statement.
    let compact = parsed.as_ref().map(CodePass::compact).unwrap_or_default();
    let lu = repo::lecture(
        db,
        &compact,
        access.structure(),
        lieu,
        buckets,
        now - FENETRE_ESSAIS_MS,
    )
    .await?;
    if lu.lieu_ailleurs {
        return Err(UtilisationError::LieuAilleurs);
    }
    let [par_personne, par_lieu] = lu.essais;
    if par_personne >= ESSAIS_PAR_PERSONNE || par_lieu >= ESSAIS_PAR_LIEU {
        return Err(UtilisationError::TropDEssais);
    }
    let code = match parsed {
        Ok(code) => code,
        Err(relais_domain::pass::code::CodeError::Cle) => {
            let voisins: Vec<String> = CodePass::voisins(typed)
                .iter()
                .map(CodePass::compact)
                .collect();
            let existants = repo::existing_codes(db, &voisins).await?;
            let suggestion = match existants.as_slice() {
                [one] => CodePass::parse(one).ok(),
                _ => None,
            };
            return Err(echec(Refus::FauteDeFrappe { suggestion }).await?);
        }
        Err(_) => return Err(echec(Refus::Inconnu).await?),
    };
    let Some(vu) = lu.pass else {
        return Err(echec(Refus::Inconnu).await?);
    };
    let commune = vu.commune.as_deref().and_then(|c| territoires.commune(c));
    let etat = EtatPass {
        dernier_jour: vu.dernier_jour,
        grace_jours: vu.grace_jours,
        utilise: vu.usage.as_ref().map(|u| DejaUtilise {
            le: u.utilise_le,
            ou: u.ou.clone(),
        }),
        structure_qualifiee: vu.qualifiee,
        dans_le_territoire: commune.is_some_and(|c| regles::couvre(&vu.territoires, c)),
    };
    let decision = decider(&etat, relais_domain::calendrier::paris_days(now));
    Ok((code, vu, decision))
}

/// Checks a typed code before accepting the pass: nothing is recorded.
pub async fn verifier(
    db: &Db,
    access: &MediateurAccess,
    territoires: &TerritoryIndex,
    typed: &str,
    lieu: Option<&LieuId>,
    now: i64,
) -> Result<PassValable, UtilisationError> {
    let (code, vu, decision) = lire(db, access, territoires, typed, lieu, now).await?;
    decision?;
    Ok(valable(code, vu))
}

/// How long a device's queue may hold a use: older dates are taken as that old.
pub const FILE_ATTENTE_MAX_MS: i64 = 30 * 86_400_000;

/// A use as the mediator's device sends it; `cle` is chosen by the device, once per use,
/// so that a retry (a lost answer, an offline queue) finds the first answer.
#[derive(Debug, Clone)]
pub struct DemandeUtilisation {
    pub code: String,
    pub cle: String,
    pub lieu: Option<LieuId>,
    pub service: ServicePass,
    /// When the pass was taken (Unix ms), on the device.
    pub utilise_le: i64,
    /// Taken without network and sent from the device's queue: if the pass was used
    /// elsewhere meanwhile, the conflict is reported to both structures.
    pub hors_ligne: bool,
}

/// Uses a pass, exactly once: the first attempt records it; a retry with the same key
/// gets the same answer; any other attempt is refused, saying when and where it was used.
pub async fn utiliser(
    db: &Db,
    access: &MediateurAccess,
    territoires: &TerritoryIndex,
    d: &DemandeUtilisation,
    now: i64,
) -> Result<PassValable, UtilisationError> {
    let (code, vu, decision) = lire(db, access, territoires, &d.code, d.lieu.as_ref(), now).await?;
    if vu.usage.as_ref().is_some_and(|u| u.cle == d.cle) {
        return Ok(valable(code, vu));
    }
    let u = NouvelleUtilisation {
        pass: vu.id,
        cle: d.cle.clone(),
        structure: access.structure(),
        lieu: d.lieu.clone(),
        mediateur: access.person(),
        service: d.service,
        // A device's queue may hold a use a few days; no further back than that.
        utilise_le: d.utilise_le.clamp(now - FILE_ATTENTE_MAX_MS, now),
    };
    if let Err(refus @ Refus::DejaUtilise(_)) = decision {
        return Err(conflit_si_hors_ligne(db, access, d, &u, &vu, refus, now).await?);
    }
    decision?;
    if !vu.services.contains(&d.service) {
        return Err(UtilisationError::ServiceHorsProgramme);
    }
    if repo::redeem(db, &u, now).await? {
        return Ok(valable(code, vu));
    }
    // Another attempt won between the reading and the writing, or the key served already.
    let vu = repo::pass_vu(db, &code.compact(), access.structure(), d.lieu.as_ref())
        .await?
        .ok_or(Refus::Inconnu)?;
    match &vu.usage {
        Some(usage) if usage.cle == d.cle => Ok(valable(code, vu)),
        Some(usage) => {
            let refus = Refus::DejaUtilise(DejaUtilise {
                le: usage.utilise_le,
                ou: usage.ou.clone(),
            });
            Err(conflit_si_hors_ligne(db, access, d, &u, &vu, refus, now).await?)
        }
        None => Err(UtilisationError::CleReutilisee),
    }
}

/// The refusal of a pass used elsewhere; when the device had accepted it offline, the
/// conflict is kept once and journaled in both structures' journals.
async fn conflit_si_hors_ligne(
    db: &Db,
    access: &MediateurAccess,
    d: &DemandeUtilisation,
    u: &NouvelleUtilisation,
    vu: &PassVu,
    refus: Refus,
    now: i64,
) -> Result<UtilisationError, StoreError> {
    let Some(usage) = vu.usage.as_ref().filter(|_| d.hors_ligne) else {
        return Ok(refus.into());
    };
    let mut tx = db.begin().await?;
    if repo::record_conflict(&mut tx, u, now).await? {
        let details = serde_json::json!({
            "accepte_hors_ligne_par": access.structure().0,
            "accepte_le": u.utilise_le,
            "utilise_par": usage.structure.0,
            "utilise_le": usage.utilise_le,
        })
        .to_string();
        for structure in BTreeSet::from([access.structure(), usage.structure]) {
            let entry = NewEntry::new(JournalAction::PassConflict, "pass", vu.id.0.to_string())
                .by(access.person(), Some(access.structure()))
                .in_structure(structure)
                .with_details(details.clone());
            journal::append(&mut tx, &entry).await?;
        }
    }
    relais_store::commit(tx).await?;
    Ok(refus.into())
}

/// The programmes whose passes `access`'s structure accepts, with what they pay for: what
/// its devices keep to accept a pass without network.
pub async fn programmes_acceptes(
    db: &Db,
    access: &MediateurAccess,
) -> Result<Vec<(ProgrammeId, String, Vec<ServicePass>)>, StoreError> {
    repo::programmes_accepted(db, access.structure()).await
}

/// The passes `access`'s structure accepted offline that were used elsewhere, and those
/// it used that another accepted offline.
pub async fn conflits(db: &Db, access: &StructureAccess) -> Result<Vec<repo::Conflit>, StoreError> {
    repo::conflicts_of(db, access.structure()).await
}

// --- statements --------------------------------------------------------------------------

/// The statements of month `mois` ((year, 1–12), Paris) for every structure and programme,
/// computed from the ledger: what each funder owes each structure, to the cent.
pub async fn releves_du_mois(db: &Db, mois: (i64, u32)) -> Result<Vec<Releve>, StoreError> {
    let (y, m) = mois;
    let debut = relais_domain::calendrier::days_from_civil(y, m, 1) * 86_400_000;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let fin = relais_domain::calendrier::days_from_civil(ny, nm, 1) * 86_400_000;
    // A day either side for Paris' offset, then the month each use falls in, in Paris.
    let uses = repo::uses_between(db, debut - 86_400_000, fin + 86_400_000, None, None).await?;
    let utilisations: Vec<Utilisation> = par_mois(uses)
        .into_iter()
        .filter(|u| u.mois == mois)
        .collect();
    Ok(releves(&utilisations, &repo::shares(db).await?))
}

/// Uses read from the ledger, each in its month in Paris.
pub(crate) fn par_mois(uses: Vec<(StructureId, ProgrammeId, i64, i64)>) -> Vec<Utilisation> {
    uses.into_iter()
        .map(|(structure, programme, le, valeur_centimes)| {
            let (y, m, _, _) = relais_domain::calendrier::paris_civil(le);
            Utilisation {
                structure,
                programme,
                mois: (y, m),
                valeur_centimes,
            }
        })
        .collect()
}

/// A statement as its structure reads it: the programme and its funders named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleveLu {
    pub releve: Releve,
    pub programme: String,
    /// The funders' names, in the order of `releve.par_financeur`.
    pub financeurs: Vec<String>,
}

/// Every monthly statement of `access`'s structure, the latest month first.
pub async fn releves_de(db: &Db, access: &StructureAccess) -> Result<Vec<ReleveLu>, StoreError> {
    let uses = repo::uses_between(db, i64::MIN, i64::MAX, Some(access.structure()), None).await?;
    let mut lus = Vec::new();
    let mut programmes: std::collections::BTreeMap<ProgrammeId, Programme> = Default::default();
    for releve in releves(&par_mois(uses), &repo::shares(db).await?) {
        if let std::collections::btree_map::Entry::Vacant(e) = programmes.entry(releve.programme) {
            let Some(p) = repo::programme(db, releve.programme).await? else {
                continue;
            };
            e.insert(p);
        }
        let p = &programmes[&releve.programme];
        lus.push(ReleveLu {
            programme: p.reglages.nom.clone(),
            financeurs: p
                .reglages
                .financeurs
                .iter()
                .map(|f| f.nom.clone())
                .collect(),
            releve,
        });
    }
    lus.sort_by_key(|l| std::cmp::Reverse(l.releve.mois));
    Ok(lus)
}

/// A statement as a PDF its structure keeps or sends to its accountant.
pub fn releve_pdf(structure: &str, r: &ReleveLu) -> Result<Vec<u8>, crate::pdf::PdfError> {
    use crate::pdf::Bloc;
    use relais_domain::pass::reglement::euros;
    let (y, m) = r.releve.mois;
    let paragraphe = |texte: String| Bloc::Paragraphe { texte, gras: false };
    let mut blocs = vec![
        Bloc::Titre(format!("Relevé de pass numériques — {m:02}/{y}")),
        paragraphe(format!("Structure : {structure}")),
        paragraphe(format!("Programme : {}", r.programme)),
        Bloc::Paragraphe {
            texte: format!(
                "{} pass acceptés, pour {}",
                r.releve.pass,
                euros(r.releve.total_centimes)
            ),
            gras: true,
        },
        paragraphe("Ce que verse chaque financeur :".into()),
    ];
    blocs.extend(
        r.financeurs
            .iter()
            .zip(&r.releve.par_financeur)
            .map(|(nom, part)| Bloc::Element(format!("{nom} : {}", euros(*part)))),
    );
    blocs.push(paragraphe(
        "Établi par Relais à partir du registre des pass utilisés, au centime près.".into(),
    ));
    crate::pdf::document(&format!("Relevé de pass numériques {m:02}/{y}"), &[blocs])
}
