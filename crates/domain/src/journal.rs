//! The journal: the append-only audit trail of every privileged action, and of every
//! action taken on a person's behalf.
//!
//! Entries are numbered 1, 2, 3… without gaps, and each carries the hash of the entry
//! before it (the first one carries [`GENESIS_HASH`]): a hash chain. Its hash covers its
//! number, its time, its content and that previous hash, so removing, altering or
//! reordering entries breaks the chain, and [`ChainCheck`] finds the first broken entry.
//! The store keeps a head (last number and hash) beside the entries, updated in the same
//! transaction, so that removing entries at the end is detected too.

pub mod checkpoint;

use crate::ids::{PersonId, StructureId};
use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The youngest an entry may be when its details are blanked at the end of their
/// retention: five years (1,825 days). The database enforces it too (migration 0026).
pub const PURGE_FLOOR_MS: i64 = 1_825 * 24 * 60 * 60 * 1000;

/// The `prev_hash` of the first entry: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry records. The wire value ([`JournalAction::as_str`]) is stored and hashed:
/// never change one, add new actions instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JournalAction {
    LoginSucceeded,
    LoginFailed,
    SecondFactorFailed,
    SecondFactorEnrolled,
    AccountLocked,
    AccountUnlocked,
    Logout,
    RoleGranted,
    RoleRevoked,
    HabilitationRequested,
    HabilitationDecided,
    PersonInvited,
    PersonDeactivated,
    StructureCreated,
    ProConnectLinked,
    InvitationAccepted,
    PasswordReset,
    LieuxImported,
    LieuEdited,
    FusionDecided,
    StructuresImported,
    StructureClaimed,
    MandatCreated,
    AutorisationRevoked,
    MandatUsed,
    CodeReplayRefused,
    OidcClientRegistered,
    MandatCancelled,
    MandatRenewed,
    MandatExpired,
    TransferProposed,
    MandatTransferred,
    TransferRefused,
    MandatPurged,
    BeneficiaireErased,
    BeneficiairesMerged,
    ProgrammePassCreated,
    QualificationRequested,
    QualificationDecided,
    CarnetsIssued,
    CarnetHandedOut,
    TransfersPrepared,
    PassConflict,
    TransfersPaid,
    ProgrammeEnded,
    DiagnosticJoined,
}

impl JournalAction {
    pub const ALL: [JournalAction; 46] = [
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::SecondFactorFailed,
        Self::SecondFactorEnrolled,
        Self::AccountLocked,
        Self::AccountUnlocked,
        Self::Logout,
        Self::RoleGranted,
        Self::RoleRevoked,
        Self::HabilitationRequested,
        Self::HabilitationDecided,
        Self::PersonInvited,
        Self::PersonDeactivated,
        Self::StructureCreated,
        Self::ProConnectLinked,
        Self::InvitationAccepted,
        Self::PasswordReset,
        Self::LieuxImported,
        Self::LieuEdited,
        Self::FusionDecided,
        Self::StructuresImported,
        Self::StructureClaimed,
        Self::MandatCreated,
        Self::AutorisationRevoked,
        Self::MandatUsed,
        Self::CodeReplayRefused,
        Self::OidcClientRegistered,
        Self::MandatCancelled,
        Self::MandatRenewed,
        Self::MandatExpired,
        Self::TransferProposed,
        Self::MandatTransferred,
        Self::TransferRefused,
        Self::MandatPurged,
        Self::BeneficiaireErased,
        Self::BeneficiairesMerged,
        Self::ProgrammePassCreated,
        Self::QualificationRequested,
        Self::QualificationDecided,
        Self::CarnetsIssued,
        Self::CarnetHandedOut,
        Self::TransfersPrepared,
        Self::PassConflict,
        Self::TransfersPaid,
        Self::ProgrammeEnded,
        Self::DiagnosticJoined,
    ];

    /// The stable value stored in the database and covered by the hash.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "connexion",
            Self::LoginFailed => "connexion_refusee",
            Self::SecondFactorFailed => "second_facteur_refuse",
            Self::SecondFactorEnrolled => "second_facteur_active",
            Self::AccountLocked => "compte_verrouille",
            Self::AccountUnlocked => "compte_deverrouille",
            Self::Logout => "deconnexion",
            Self::RoleGranted => "role_attribue",
            Self::RoleRevoked => "role_retire",
            Self::HabilitationRequested => "habilitation_demandee",
            Self::HabilitationDecided => "habilitation_decidee",
            Self::PersonInvited => "personne_invitee",
            Self::PersonDeactivated => "personne_desactivee",
            Self::StructureCreated => "structure_creee",
            Self::ProConnectLinked => "proconnect_associe",
            Self::InvitationAccepted => "invitation_acceptee",
            Self::PasswordReset => "mot_de_passe_reinitialise",
            Self::LieuxImported => "lieux_importes",
            Self::LieuEdited => "lieu_modifie",
            Self::FusionDecided => "fusion_decidee",
            Self::StructuresImported => "structures_importees",
            Self::StructureClaimed => "structure_revendiquee",
            Self::MandatCreated => "mandat_cree",
            Self::AutorisationRevoked => "autorisation_revoquee",
            Self::MandatUsed => "mandat_utilise",
            Self::CodeReplayRefused => "rejeu_code_refuse",
            Self::OidcClientRegistered => "client_oidc_enregistre",
            Self::MandatCancelled => "mandat_annule",
            Self::MandatRenewed => "mandat_renouvele",
            Self::MandatExpired => "mandat_expire",
            Self::TransferProposed => "transfert_propose",
            Self::MandatTransferred => "mandat_transfere",
            Self::TransferRefused => "transfert_refuse",
            Self::MandatPurged => "mandat_purge",
            Self::BeneficiaireErased => "beneficiaire_efface",
            Self::BeneficiairesMerged => "beneficiaires_fusionnes",
            Self::ProgrammePassCreated => "programme_pass_cree",
            Self::QualificationRequested => "qualification_pass_demandee",
            Self::QualificationDecided => "qualification_pass_decidee",
            Self::CarnetsIssued => "carnets_emis",
            Self::CarnetHandedOut => "carnet_remis",
            Self::TransfersPrepared => "virements_pass_prepares",
            Self::PassConflict => "conflit_pass_signale",
            Self::TransfersPaid => "virements_pass_payes",
            Self::ProgrammeEnded => "fin_programme_pass",
            Self::DiagnosticJoined => "diagnostic_rattache",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "Connexion",
            Self::LoginFailed => "Connexion refusée",
            Self::SecondFactorFailed => "Second facteur refusé",
            Self::SecondFactorEnrolled => "Second facteur activé",
            Self::AccountLocked => "Compte verrouillé",
            Self::AccountUnlocked => "Compte déverrouillé",
            Self::Logout => "Déconnexion",
            Self::RoleGranted => "Rôle attribué",
            Self::RoleRevoked => "Rôle retiré",
            Self::HabilitationRequested => "Habilitation demandée",
            Self::HabilitationDecided => "Habilitation décidée",
            Self::PersonInvited => "Personne invitée",
            Self::PersonDeactivated => "Personne désactivée",
            Self::StructureCreated => "Structure créée",
            Self::ProConnectLinked => "Compte ProConnect associé",
            Self::InvitationAccepted => "Invitation acceptée",
            Self::PasswordReset => "Mot de passe réinitialisé",
            Self::LieuxImported => "Lieux importés",
            Self::LieuEdited => "Lieu modifié",
            Self::FusionDecided => "Décision sur deux lieux à fusionner",
            Self::StructuresImported => "Registre de structures importé",
            Self::StructureClaimed => {
                "Structure rejointe comme référent (SIRET attesté par ProConnect)"
            }
            Self::MandatCreated => "Mandat créé",
            Self::AutorisationRevoked => "Démarche d’un mandat révoquée",
            Self::MandatUsed => "Mandat utilisé pour une démarche en ligne",
            Self::CodeReplayRefused => "Code de connexion rejoué : refusé, et ses jetons révoqués",
            Self::OidcClientRegistered => "Service de démarches enregistré",
            Self::MandatCancelled => "Mandat annulé par la structure",
            Self::MandatRenewed => "Mandat renouvelé",
            Self::MandatExpired => "Mandat arrivé à sa fin",
            Self::TransferProposed => "Transfert d’un mandat proposé",
            Self::MandatTransferred => "Mandat transféré",
            Self::TransferRefused => "Transfert d’un mandat refusé",
            Self::MandatPurged => "Mandat effacé au terme de sa conservation",
            Self::BeneficiaireErased => "Fiche d’une personne suivie effacée",
            Self::BeneficiairesMerged => "Deux fiches d’une même personne fusionnées",
            Self::ProgrammePassCreated => "Programme de pass numériques créé",
            Self::QualificationRequested => "Qualification pour un programme de pass demandée",
            Self::QualificationDecided => "Décision sur une qualification pour des pass",
            Self::CarnetsIssued => "Carnets de pass émis",
            Self::CarnetHandedOut => "Carnet de pass remis à une personne",
            Self::TransfersPrepared => "Ordre de virement des pass d’un financeur préparé",
            Self::PassConflict => "Pass accepté hors connexion mais déjà utilisé ailleurs",
            Self::TransfersPaid => "Paiement des virements des pass d’un financeur confirmé",
            Self::ProgrammeEnded => {
                "Fin d’un programme de pass : pass non utilisés rendus aux financeurs"
            }
            Self::DiagnosticJoined => "Diagnostic numérique joint à la fiche d’une personne suivie",
        }
    }
}

impl fmt::Display for JournalAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl Serialize for JournalAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An entry to append: the store gives it its number, time and hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewEntry {
    pub action: JournalAction,
    /// The person who acted; `None` when Relais itself did (a job, a rule).
    pub actor: Option<PersonId>,
    /// The structure the actor acted for, if any.
    pub actor_structure: Option<StructureId>,
    /// The structure whose référent may read this entry.
    pub structure: Option<StructureId>,
    /// What was acted on: `"personne"`, `"structure"`…
    pub subject_kind: String,
    pub subject_id: String,
    /// A JSON object, as text (`"{}"` when there is nothing to add). Stored and hashed
    /// byte for byte.
    pub details: String,
}

impl NewEntry {
    /// An entry by the system, in no structure, with no details.
    pub fn new(
        action: JournalAction,
        subject_kind: impl Into<String>,
        subject_id: impl Into<String>,
    ) -> Self {
        Self {
            action,
            actor: None,
            actor_structure: None,
            structure: None,
            subject_kind: subject_kind.into(),
            subject_id: subject_id.into(),
            details: "{}".into(),
        }
    }

    /// Done by `person`, acting for `structure` (if any).
    pub fn by(mut self, person: PersonId, structure: Option<StructureId>) -> Self {
        self.actor = Some(person);
        self.actor_structure = structure;
        self
    }

    /// Readable by the référent of `structure`.
    pub fn in_structure(mut self, structure: StructureId) -> Self {
        self.structure = Some(structure);
        self
    }

    /// About the role `role` (its wire value): details `{"role":"…"}`.
    pub fn with_role(self, role: &str) -> Self {
        self.with_details(format!("{{\"role\":\"{role}\"}}"))
    }

    /// `json` must be a JSON object.
    pub fn with_details(mut self, json: impl Into<String>) -> Self {
        self.details = json.into();
        self
    }
}

/// An entry of the journal: what was done, sealed with its number, time and hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// 1, 2, 3… without gaps.
    pub seq: i64,
    /// Unix milliseconds.
    pub at: i64,
    #[serde(flatten)]
    pub content: NewEntry,
    /// The hash of entry `seq - 1`, or [`GENESIS_HASH`].
    pub prev_hash: String,
    /// Lowercase hex SHA-256 of this entry (see [`entry_hash`]).
    pub hash: String,
    /// When its details were blanked at the end of their retention (`None`: never). Its
    /// hash can no longer be recomputed: it is taken as stored, and the chain still checks
    /// that it follows the entry before and that the entry after follows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purged_at: Option<i64>,
}

impl Entry {
    /// Seals `content` as number `seq` after the entry whose hash is `prev_hash`.
    pub fn seal(content: NewEntry, seq: i64, at: i64, prev_hash: &str) -> Entry {
        let hash = entry_hash(prev_hash, seq, at, &content);
        Entry {
            seq,
            at,
            content,
            prev_hash: prev_hash.to_string(),
            hash,
            purged_at: None,
        }
    }

    /// The hash this entry's number, time, content and `prev_hash` give: equal to
    /// `hash` unless the entry was altered.
    pub fn computed_hash(&self) -> String {
        entry_hash(&self.prev_hash, self.seq, self.at, &self.content)
    }
}

/// The hash of entry number `seq`, written at `at`, following the entry whose hash is
/// `prev_hash`: lowercase hex SHA-256 over an unambiguous encoding (a version tag, then
/// every field in a fixed order; strings prefixed with their length in bytes, absent ids
/// distinct from every present one), so that no two different entries encode alike.
pub fn entry_hash(prev_hash: &str, seq: i64, at: i64, c: &NewEntry) -> String {
    let mut h = Encoder(Sha256::new());
    h.text("relais-journal-v1");
    h.text(prev_hash);
    h.int(seq);
    h.int(at);
    h.text(c.action.as_str());
    h.id(c.actor.map(i64::from));
    h.id(c.actor_structure.map(i64::from));
    h.id(c.structure.map(i64::from));
    h.text(&c.subject_kind);
    h.text(&c.subject_id);
    h.text(&c.details);
    let digest = h.0.finalize();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

struct Encoder(Sha256);

impl Encoder {
    fn text(&mut self, s: &str) {
        self.0.update((s.len() as u64).to_be_bytes());
        self.0.update(s.as_bytes());
    }

    fn int(&mut self, n: i64) {
        self.0.update(n.to_be_bytes());
    }

    fn id(&mut self, id: Option<i64>) {
        match id {
            None => self.0.update([0u8]),
            Some(n) => {
                self.0.update([1u8]);
                self.int(n);
            }
        }
    }
}

/// The outcome of walking the whole journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every entry is in place, unaltered, and the head matches the last one.
    Intact { entries: i64 },
    /// `seq` is the first entry found broken.
    Broken { seq: i64, reason: BreakKind },
}

/// Why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakKind {
    /// No entry has this number, the next one present is `next`: entries were removed.
    Gap { next: i64 },
    /// The entry does not carry the hash of the entry before it: entries were removed
    /// (and the rest renumbered) or reordered.
    PrevHashMismatch,
    /// The entry's hash does not match its content: it was altered.
    HashMismatch,
    /// The entry's action is unknown to this version: altered, or written by a newer
    /// version of Relais.
    UnknownAction(String),
    /// The head (the number and hash of the last entry, kept beside the entries) does
    /// not match the last entry: entries removed at the end, added around the journal,
    /// or the head forged. `last_seq` is 0 when there is no entry.
    HeadMismatch { head_seq: i64, last_seq: i64 },
    /// The head itself was removed.
    HeadMissing,
    /// The entry no longer carries the hash a valid signed checkpoint gave it: the chain
    /// was rewritten (hashes recomputed) somewhere from entry `since` to this one.
    CheckpointMismatch { since: i64 },
    /// A valid signed checkpoint covers the journal up to `checkpoint_seq`, but the
    /// entries stop before: entries (and the head) removed at the end.
    CheckpointBeyondEnd { checkpoint_seq: i64 },
    /// The checkpoint of this entry does not carry a valid signature: forged.
    CheckpointSignatureInvalid,
    /// The checkpoint of this entry is signed by a key that is not trusted (neither the
    /// configured key nor one given to verify): forged, or a key missing.
    CheckpointUnknownKey { key_id: String },
    /// The checkpoint of this entry, in the external copy, is missing from the database
    /// or differs there: checkpoints removed or replaced.
    CheckpointNotInDatabase,
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (seq, reason) = match self {
            Self::Intact { entries } => {
                let s = if *entries > 1 { "s" } else { "" };
                return write!(f, "Journal intègre : {entries} entrée{s} vérifiée{s}.");
            }
            Self::Broken { seq, reason } => (*seq, reason),
        };
        f.write_str("Journal rompu : ")?;
        match reason {
            BreakKind::Gap { next } => write!(
                f,
                "l’entrée n° {seq} manque (l’entrée suivante est la n° {next}) : des entrées ont été supprimées."
            ),
            BreakKind::PrevHashMismatch => write!(
                f,
                "l’entrée n° {seq} ne porte pas l’empreinte de l’entrée précédente : des entrées ont été supprimées ou déplacées."
            ),
            BreakKind::HashMismatch => write!(
                f,
                "le contenu de l’entrée n° {seq} ne correspond pas à son empreinte : l’entrée a été modifiée."
            ),
            BreakKind::UnknownAction(action) => write!(
                f,
                "l’entrée n° {seq} porte une action inconnue « {action} » : l’entrée a été modifiée, ou écrite par une version plus récente de Relais."
            ),
            BreakKind::HeadMismatch { head_seq, last_seq } if head_seq > last_seq => write!(
                f,
                "l’en-tête du journal compte {head_seq} entrées mais la dernière est la n° {last_seq} : l’entrée n° {seq} et les suivantes ont été supprimées."
            ),
            BreakKind::HeadMismatch { head_seq, last_seq } if head_seq < last_seq => write!(
                f,
                "l’entrée n° {seq} est absente de l’en-tête du journal, qui n’en compte que {head_seq} : entrée ajoutée hors de Relais, ou en-tête falsifié."
            ),
            BreakKind::HeadMismatch { .. } => write!(
                f,
                "l’en-tête du journal ne porte pas l’empreinte de l’entrée n° {seq} : en-tête falsifié."
            ),
            BreakKind::HeadMissing => write!(
                f,
                "l’en-tête du journal a été supprimé (dernière entrée : n° {seq})."
            ),
            BreakKind::CheckpointMismatch { since } => write!(
                f,
                "l’entrée n° {seq} ne porte plus l’empreinte signée par son point de contrôle : le journal a été réécrit entre l’entrée n° {since} et l’entrée n° {seq}."
            ),
            BreakKind::CheckpointBeyondEnd { checkpoint_seq } => write!(
                f,
                "l’entrée n° {seq} manque alors qu’un point de contrôle signé couvre le journal jusqu’à l’entrée n° {checkpoint_seq} : des entrées ont été supprimées à la fin."
            ),
            BreakKind::CheckpointSignatureInvalid => write!(
                f,
                "le point de contrôle de l’entrée n° {seq} porte une signature invalide : point de contrôle falsifié."
            ),
            BreakKind::CheckpointUnknownKey { key_id } => write!(
                f,
                "le point de contrôle de l’entrée n° {seq} est signé par une clé inconnue ({key_id}) : point de contrôle falsifié, ou clé publique de vérification manquante (--cle-publique)."
            ),
            BreakKind::CheckpointNotInDatabase => write!(
                f,
                "le point de contrôle de l’entrée n° {seq}, présent dans la copie externe, manque dans la base ou y diffère : des points de contrôle ont été supprimés ou remplacés."
            ),
        }
    }
}

/// Walks the journal in number order, entry by entry, without keeping the entries:
/// [`push`](Self::push) each one, then [`finish`](Self::finish) with the head.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    next_seq: i64,
    prev_hash: String,
    broken: Option<(i64, BreakKind)>,
    /// The hash each valid signed checkpoint gives its entry.
    expected: BTreeMap<i64, String>,
    /// The last entry found equal to its checkpoint (0: none yet).
    last_checkpoint: i64,
    /// The first fault found in the checkpoints themselves.
    fault: Option<(i64, BreakKind)>,
}

impl Default for ChainCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainCheck {
    pub fn new() -> Self {
        Self {
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            broken: None,
            expected: BTreeMap::new(),
            last_checkpoint: 0,
            fault: None,
        }
    }

    /// Also checks each entry against the checkpoints found valid by `audit`, and
    /// reports its first fault if nothing breaks before it.
    pub fn with_checkpoints(mut self, audit: checkpoint::Audit) -> Self {
        self.expected = audit.expected;
        self.fault = audit.fault;
        self
    }

    /// Checks the next entry; `false` once the chain is broken (stop reading then).
    pub fn push(&mut self, entry: &Entry) -> bool {
        if !self.in_place(entry.seq) {
            return false;
        }
        if entry.prev_hash != self.prev_hash {
            self.broken = Some((entry.seq, BreakKind::PrevHashMismatch));
        } else if entry.purged_at.is_none() && entry.computed_hash() != entry.hash {
            self.broken = Some((entry.seq, BreakKind::HashMismatch));
        } else if let Some(signed) = self.expected.get(&entry.seq) {
            if *signed != entry.hash {
                let since = self.last_checkpoint + 1;
                self.broken = Some((entry.seq, BreakKind::CheckpointMismatch { since }));
            } else {
                self.last_checkpoint = entry.seq;
                self.next_seq += 1;
                self.prev_hash.clone_from(&entry.hash);
            }
        } else {
            self.next_seq += 1;
            self.prev_hash.clone_from(&entry.hash);
        }
        self.broken.is_none()
    }

    /// The next entry could not be read: its action is unknown. Always `false`.
    pub fn push_unknown_action(&mut self, seq: i64, action: &str) -> bool {
        if self.in_place(seq) {
            self.broken = Some((seq, BreakKind::UnknownAction(action.to_string())));
        }
        false
    }

    /// Whether `seq` is the expected number (recording a gap if not).
    fn in_place(&mut self, seq: i64) -> bool {
        if self.broken.is_some() {
            return false;
        }
        if seq != self.next_seq {
            self.broken = Some((self.next_seq, BreakKind::Gap { next: seq }));
            return false;
        }
        true
    }

    /// The verdict, given the head as read with the entries: `(seq, hash)`, or `None`
    /// if it was removed.
    pub fn finish(mut self, head: Option<(i64, &str)>) -> Verification {
        let fault = self.fault.take();
        let chain = self.finish_chain(head);
        match (fault, &chain) {
            (Some((seq, reason)), Verification::Intact { .. }) => {
                Verification::Broken { seq, reason }
            }
            (Some((seq, reason)), Verification::Broken { seq: at, .. }) if seq < *at => {
                Verification::Broken { seq, reason }
            }
            _ => chain,
        }
    }

    fn finish_chain(self, head: Option<(i64, &str)>) -> Verification {
        if let Some((seq, reason)) = self.broken {
            return Verification::Broken { seq, reason };
        }
        let last_seq = self.next_seq - 1;
        match head {
            None => Verification::Broken {
                seq: last_seq,
                reason: BreakKind::HeadMissing,
            },
            Some((head_seq, head_hash)) if head_seq == last_seq && head_hash == self.prev_hash => {
                match self.expected.keys().next_back() {
                    Some(&checkpoint_seq) if checkpoint_seq > last_seq => Verification::Broken {
                        seq: last_seq + 1,
                        reason: BreakKind::CheckpointBeyondEnd { checkpoint_seq },
                    },
                    _ => Verification::Intact { entries: last_seq },
                }
            }
            Some((head_seq, _)) => Verification::Broken {
                // The first entry the head and the entries disagree on.
                seq: if head_seq == last_seq {
                    last_seq
                } else {
                    head_seq.min(last_seq) + 1
                },
                reason: BreakKind::HeadMismatch { head_seq, last_seq },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> NewEntry {
        NewEntry::new(JournalAction::RoleGranted, "personne", "42")
            .by(PersonId(7), Some(StructureId(3)))
            .in_structure(StructureId(3))
            .with_details(r#"{"role":"referent"}"#)
    }

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let e = Entry::seal(sample(), seq, 1_000 + seq, &prev);
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn check(entries: &[Entry], head: Option<(i64, &str)>) -> Verification {
        let mut c = ChainCheck::new();
        for e in entries {
            if !c.push(e) {
                break;
            }
        }
        c.finish(head)
    }

    fn head(entries: &[Entry]) -> Option<(i64, &str)> {
        Some(
            entries
                .last()
                .map_or((0, GENESIS_HASH), |e| (e.seq, e.hash.as_str())),
        )
    }

    #[test]
    fn actions_round_trip_and_are_unique() {
        for a in JournalAction::ALL {
            assert_eq!(JournalAction::parse(a.as_str()), Some(a));
            assert!(!a.label().is_empty());
        }
        let mut wires: Vec<_> = JournalAction::ALL.iter().map(|a| a.as_str()).collect();
        wires.sort_unstable();
        wires.dedup();
        assert_eq!(wires.len(), JournalAction::ALL.len());
        assert_eq!(JournalAction::parse("Connexion"), None);
        assert_eq!(JournalAction::LoginSucceeded.as_str(), "connexion");
        assert_eq!(JournalAction::LoginSucceeded.label(), "Connexion");
    }

    #[test]
    fn hash_is_lowercase_hex_and_stable() {
        let h = entry_hash(GENESIS_HASH, 1, 1_000, &sample());
        assert_eq!(h.len(), 64);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(h, entry_hash(GENESIS_HASH, 1, 1_000, &sample()));
        assert_eq!(GENESIS_HASH.len(), 64);
        let e = Entry::seal(sample(), 1, 1_000, GENESIS_HASH);
        assert_eq!((e.hash.clone(), e.computed_hash()), (h.clone(), h));
    }

    #[test]
    fn moving_a_character_between_fields_changes_the_hash() {
        let mut a = sample();
        let mut b = sample();
        (a.subject_kind, a.subject_id) = ("personne4".into(), "2".into());
        (b.subject_kind, b.subject_id) = ("personne".into(), "42".into());
        assert_ne!(entry_hash("", 1, 0, &a), entry_hash("", 1, 0, &b));
        (a.subject_id, a.details) = ("42{".into(), "}".into());
        (b.subject_id, b.details) = ("42".into(), "{}".into());
        assert_ne!(entry_hash("", 1, 0, &a), entry_hash("", 1, 0, &b));
        // An absent id is not id 0, and ids do not slide from one field to the next.
        let (mut a, mut b) = (sample(), sample());
        (a.actor, a.actor_structure) = (None, Some(StructureId(0)));
        (b.actor, b.actor_structure) = (Some(PersonId(0)), None);
        assert_ne!(entry_hash("", 1, 0, &a), entry_hash("", 1, 0, &b));
    }

    #[test]
    fn a_blanked_entry_still_links_the_chain() {
        let mut c = chain(4);
        c[1].content.details = String::new();
        assert_eq!(
            check(&c, head(&c)),
            Verification::Broken {
                seq: 2,
                reason: BreakKind::HashMismatch
            },
            "blanked without being marked: altered"
        );
        c[1].purged_at = Some(9_000);
        assert_eq!(check(&c, head(&c)), Verification::Intact { entries: 4 });
        // Marked purged, its stored hash changed: the next entry no longer follows it.
        c[1].hash = "0".repeat(64);
        assert_eq!(
            check(&c, head(&c)),
            Verification::Broken {
                seq: 3,
                reason: BreakKind::PrevHashMismatch
            }
        );
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(check(&[], head(&[])), Verification::Intact { entries: 0 });
        let c = chain(5);
        assert_eq!(check(&c, head(&c)), Verification::Intact { entries: 5 });
        assert_eq!(
            Verification::Intact { entries: 5 }.to_string(),
            "Journal intègre : 5 entrées vérifiées."
        );
        assert_eq!(
            Verification::Intact { entries: 1 }.to_string(),
            "Journal intègre : 1 entrée vérifiée."
        );
    }

    #[test]
    fn each_break_is_found_at_its_entry() {
        let c = chain(5);
        let broken = |entries: &[Entry], head| match check(entries, head) {
            Verification::Broken { seq, reason } => (seq, reason),
            v => panic!("{v}"),
        };
        // Altered.
        let mut altered = c.clone();
        altered[2].content.details = r#"{"role":"administrateur"}"#.into();
        assert_eq!(broken(&altered, head(&c)), (3, BreakKind::HashMismatch));
        // Removed in the middle.
        let mut removed = c.clone();
        removed.remove(1);
        assert_eq!(broken(&removed, head(&c)), (2, BreakKind::Gap { next: 3 }));
        // Removed, the rest renumbered.
        let mut renumbered = removed.clone();
        for (i, e) in renumbered.iter_mut().enumerate() {
            e.seq = i as i64 + 1;
        }
        assert_eq!(
            broken(&renumbered, head(&c)),
            (2, BreakKind::PrevHashMismatch)
        );
        // Reordered.
        let mut swapped = c.clone();
        swapped.swap(1, 2);
        (swapped[1].seq, swapped[2].seq) = (2, 3);
        assert_eq!(broken(&swapped, head(&c)), (2, BreakKind::PrevHashMismatch));
        // Removed at the end.
        let head_seq = 5;
        assert_eq!(
            broken(&c[..3], head(&c)),
            (
                4,
                BreakKind::HeadMismatch {
                    head_seq,
                    last_seq: 3
                }
            )
        );
        // Head forged.
        assert_eq!(
            broken(&c, Some((5, GENESIS_HASH))),
            (
                5,
                BreakKind::HeadMismatch {
                    head_seq,
                    last_seq: 5
                }
            )
        );
        assert_eq!(
            broken(&c, Some((3, &c[2].hash))),
            (
                4,
                BreakKind::HeadMismatch {
                    head_seq: 3,
                    last_seq: 5
                }
            )
        );
        assert_eq!(broken(&c, None), (5, BreakKind::HeadMissing));
        // An action this version does not know.
        let mut unknown = ChainCheck::new();
        assert!(unknown.push(&c[0]));
        assert!(!unknown.push_unknown_action(2, "inconnue"));
        assert_eq!(
            unknown.finish(head(&c)),
            Verification::Broken {
                seq: 2,
                reason: BreakKind::UnknownAction("inconnue".into())
            }
        );
    }

    #[test]
    fn messages_name_the_entry() {
        let cases = [
            (BreakKind::Gap { next: 8 }, 7, "n° 7"),
            (BreakKind::PrevHashMismatch, 7, "n° 7"),
            (BreakKind::HashMismatch, 7, "n° 7"),
            (BreakKind::UnknownAction("x".into()), 7, "n° 7"),
            (
                BreakKind::HeadMismatch {
                    head_seq: 9,
                    last_seq: 6,
                },
                7,
                "n° 7",
            ),
            (
                BreakKind::HeadMismatch {
                    head_seq: 6,
                    last_seq: 9,
                },
                7,
                "n° 7",
            ),
            (
                BreakKind::HeadMismatch {
                    head_seq: 7,
                    last_seq: 7,
                },
                7,
                "n° 7",
            ),
            (BreakKind::HeadMissing, 7, "n° 7"),
            (
                BreakKind::CheckpointMismatch { since: 3 },
                7,
                "n° 3 et l’entrée n° 7",
            ),
            (
                BreakKind::CheckpointBeyondEnd { checkpoint_seq: 9 },
                7,
                "n° 7",
            ),
            (BreakKind::CheckpointSignatureInvalid, 7, "n° 7"),
            (
                BreakKind::CheckpointUnknownKey {
                    key_id: "0123456789abcdef".into(),
                },
                7,
                "n° 7",
            ),
            (BreakKind::CheckpointNotInDatabase, 7, "n° 7"),
        ];
        for (reason, seq, expected) in cases {
            let text = Verification::Broken { seq, reason }.to_string();
            assert!(
                text.starts_with("Journal rompu : ") && text.contains(expected),
                "{text}"
            );
            assert!(!text.contains('\n'), "{text}");
        }
    }

    fn any_entry() -> impl Strategy<Value = (String, i64, i64, NewEntry)> {
        (
            "[0-9a-f]{0,64}",
            any::<i64>(),
            any::<i64>(),
            prop::sample::select(JournalAction::ALL.to_vec()),
            prop::option::of(any::<i64>()),
            prop::option::of(any::<i64>()),
            prop::option::of(any::<i64>()),
            "\\PC{0,12}",
            "\\PC{0,12}",
            "\\PC{0,24}",
        )
            .prop_map(
                |(prev, seq, at, action, actor, actor_structure, structure, kind, id, details)| {
                    let entry = NewEntry {
                        action,
                        actor: actor.map(PersonId),
                        actor_structure: actor_structure.map(StructureId),
                        structure: structure.map(StructureId),
                        subject_kind: kind,
                        subject_id: id,
                        details,
                    };
                    (prev, seq, at, entry)
                },
            )
    }

    proptest! {
        #[test]
        fn changing_any_field_changes_the_hash(
            (prev, seq, at, entry) in any_entry(),
            field in 0usize..10,
            n in any::<i64>(),
            other in prop::sample::select(JournalAction::ALL.to_vec()),
            s in "\\PC{0,12}",
        ) {
            let base = entry_hash(&prev, seq, at, &entry);
            let (mut p, mut q, mut t, mut e) = (prev.clone(), seq, at, entry.clone());
            // Every mutation below differs from the original value.
            let bump = |v: i64| if n == v { v.wrapping_add(1) } else { n };
            let other_id = |v: Option<i64>| match v {
                None => Some(n),
                Some(v) if v == n => None,
                Some(_) => Some(n),
            };
            let other_text = |v: &str| if v == s { format!("{s}x") } else { s.clone() };
            match field {
                0 => p = other_text(&p),
                1 => q = bump(q),
                2 => t = bump(t),
                3 => e.action = if other == e.action {
                    JournalAction::ALL[(JournalAction::ALL.iter().position(|a| *a == other).unwrap() + 1) % JournalAction::ALL.len()]
                } else {
                    other
                },
                4 => e.actor = other_id(e.actor.map(i64::from)).map(PersonId),
                5 => e.actor_structure = other_id(e.actor_structure.map(i64::from)).map(StructureId),
                6 => e.structure = other_id(e.structure.map(i64::from)).map(StructureId),
                7 => e.subject_kind = other_text(&e.subject_kind),
                8 => e.subject_id = other_text(&e.subject_id),
                _ => e.details = other_text(&e.details),
            }
            prop_assert_ne!(base, entry_hash(&p, q, t, &e));
        }
    }
}
