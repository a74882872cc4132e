//! The statistics of the activities, in memory: one column per figure the dashboards read,
//! so that any scope and filter is answered by scanning only the activities it can hold
//! (a mediator's, a structure's, a territory's communes') or, for the nation, all of them.
//!
//! The index is a projection of the store's rows and nothing else: it is fed activity by
//! activity, each with the version of its last write (services::activites catches up by
//! reading the versions above [`ActivitesIndex::version`]); its figures must equal
//! `domain::activites::statistiques::figures` over the same participations (tested on
//! both backends).

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use relais_domain::activites::statistiques::{Figures, Filtres, Participation, Totaux, mois};
use relais_domain::activites::vocabulaires::{
    Genre, Materiel, StatutSocial, Thematique, TrancheAge, TrancheDuree, TypeActivite, TypeLieu,
};
use relais_domain::ids::{ActiviteId, BeneficiaireId, LieuId, PersonId, StructureId};

/// Values seen, each given a dense number in order of arrival.
#[derive(Debug)]
struct Interner<T> {
    number: HashMap<T, u32>,
    values: Vec<T>,
}

impl<T: Hash + Eq + Clone> Interner<T> {
    fn new() -> Self {
        Interner {
            number: HashMap::new(),
            values: Vec::new(),
        }
    }

    fn intern(&mut self, value: &T) -> u32 {
        if let Some(n) = self.number.get(value) {
            return *n;
        }
        let n = self.values.len() as u32;
        self.number.insert(value.clone(), n);
        self.values.push(value.clone());
        n
    }

    fn get(&self, value: &T) -> Option<u32> {
        self.number.get(value).copied()
    }

    fn len(&self) -> usize {
        self.values.len()
    }
}

/// Activities by one interned value: the slots to scan for a scope.
type Postings = Vec<Vec<u32>>;

/// The lists of the keys found (a key never seen has no activity).
fn lists(postings: &Postings, keys: Vec<Option<u32>>) -> Vec<&[u32]> {
    keys.into_iter()
        .flatten()
        .filter_map(|k| postings.get(k as usize).map(Vec::as_slice))
        .collect()
}

fn post(postings: &mut Postings, key: u32, slot: u32) {
    let key = key as usize;
    if postings.len() <= key {
        postings.resize_with(key + 1, Vec::new);
    }
    postings[key].push(slot);
}

fn bits<T: Copy>(values: impl IntoIterator<Item = T>, index: impl Fn(T) -> usize) -> u32 {
    values.into_iter().fold(0, |b, v| b | 1 << index(v))
}

/// What one participant adds to the person figures, packed: genre (3 bits), age band (4),
/// status (3), first accompaniment (1).
fn pack(p: &Participation) -> u16 {
    (p.genre.index()
        | p.tranche.index() << 3
        | p.statut.index() << 7
        | usize::from(p.premier) << 10) as u16
}

#[derive(Debug)]
pub struct ActivitesIndex {
    version: i64,
    slot_of: HashMap<ActiviteId, u32>,
    mediateurs: Interner<PersonId>,
    structures: Interner<StructureId>,
    lieux: Interner<LieuId>,
    communes: Interner<String>,
    beneficiaires: Interner<BeneficiaireId>,
    // One entry per slot: an activity as last written (an edited one moves to a new slot).
    ids: Vec<ActiviteId>,
    vivante: Vec<bool>,
    jour: Vec<i64>,
    /// Months since January 1970, for the monthly series.
    mois: Vec<u16>,
    mediateur: Vec<u32>,
    structure: Vec<u32>,
    /// Interned lieu + 1; 0: none.
    lieu: Vec<u32>,
    commune: Vec<u32>,
    type_activite: Vec<u8>,
    type_lieu: Vec<u8>,
    tranche_duree: Vec<u8>,
    thematiques: Vec<u32>,
    materiel: Vec<u32>,
    /// The slot's participants are `debut[slot]..debut[slot + 1]`.
    debut: Vec<u32>,
    // One entry per participation.
    personne: Vec<u16>,
    /// Interned beneficiary + 1; 0: anonymous.
    beneficiaire: Vec<u32>,
    /// Interned commune + 1; 0: unknown or anonymous.
    commune_beneficiaire: Vec<u32>,
    par_mediateur: Postings,
    par_structure: Postings,
    par_commune: Postings,
    mortes: usize,
}

impl Default for ActivitesIndex {
    fn default() -> Self {
        ActivitesIndex::new()
    }
}

impl ActivitesIndex {
    pub fn new() -> ActivitesIndex {
        ActivitesIndex {
            version: 0,
            slot_of: HashMap::new(),
            mediateurs: Interner::new(),
            structures: Interner::new(),
            lieux: Interner::new(),
            communes: Interner::new(),
            beneficiaires: Interner::new(),
            ids: Vec::new(),
            vivante: Vec::new(),
            jour: Vec::new(),
            mois: Vec::new(),
            mediateur: Vec::new(),
            structure: Vec::new(),
            lieu: Vec::new(),
            commune: Vec::new(),
            type_activite: Vec::new(),
            type_lieu: Vec::new(),
            tranche_duree: Vec::new(),
            thematiques: Vec::new(),
            materiel: Vec::new(),
            debut: vec![0],
            personne: Vec::new(),
            beneficiaire: Vec::new(),
            commune_beneficiaire: Vec::new(),
            par_mediateur: Vec::new(),
            par_structure: Vec::new(),
            par_commune: Vec::new(),
            mortes: 0,
        }
    }

    /// The version of the last write the index holds.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Records that every write up to `version` was read (versions of rolled-back writes
    /// have no row).
    pub fn avancer(&mut self, version: i64) {
        self.version = self.version.max(version);
    }

    /// The bytes the index holds on the heap (vectors by capacity, maps by entries and
    /// their overhead), give or take the allocator's rounding.
    pub fn octets(&self) -> usize {
        fn v<T>(x: &Vec<T>) -> usize {
            x.capacity() * size_of::<T>()
        }
        fn postings(p: &Postings) -> usize {
            v(p) + p.iter().map(v).sum::<usize>()
        }
        fn map<K, V>(m: &HashMap<K, V>) -> usize {
            // hashbrown: one control byte per bucket, buckets ≥ 8/7 of the entries.
            m.capacity() * (size_of::<(K, V)>() + 1) * 8 / 7
        }
        let interned = |n: usize, value: usize| n * (value + 4 + 1) * 8 / 7 + n * value;
        map(&self.slot_of)
            + interned(self.mediateurs.len(), 8)
            + interned(self.structures.len(), 8)
            + interned(self.lieux.len(), 24 + 16)
            + interned(self.communes.len(), 24 + 5)
            + interned(self.beneficiaires.len(), 8)
            + v(&self.ids)
            + v(&self.vivante)
            + v(&self.jour)
            + v(&self.mois)
            + v(&self.mediateur)
            + v(&self.structure)
            + v(&self.lieu)
            + v(&self.commune)
            + v(&self.type_activite)
            + v(&self.type_lieu)
            + v(&self.tranche_duree)
            + v(&self.thematiques)
            + v(&self.materiel)
            + v(&self.debut)
            + v(&self.personne)
            + v(&self.beneficiaire)
            + v(&self.commune_beneficiaire)
            + postings(&self.par_mediateur)
            + postings(&self.par_structure)
            + postings(&self.par_commune)
    }

    /// Activities and participations held.
    pub fn taille(&self) -> (usize, usize) {
        let vivantes = self.ids.len() - self.mortes;
        let participations = (0..self.ids.len())
            .filter(|s| self.vivante[*s])
            .map(|s| (self.debut[s + 1] - self.debut[s]) as usize)
            .sum();
        (vivantes, participations)
    }

    /// Takes in activity `activite` as written at `version`: its participations (all of
    /// the same activity), or none if it was deleted.
    pub fn appliquer(
        &mut self,
        version: i64,
        activite: ActiviteId,
        participations: &[Participation],
    ) {
        self.version = self.version.max(version);
        if let Some(old) = self.slot_of.remove(&activite) {
            self.vivante[old as usize] = false;
            self.mortes += 1;
        }
        let Some(a) = participations.first() else {
            return;
        };
        let slot = self.ids.len() as u32;
        self.slot_of.insert(activite, slot);
        let (y, m) = mois(a.date);
        let mediateur = self.mediateurs.intern(&a.mediateur);
        let structure = self.structures.intern(&a.structure);
        let commune = self.communes.intern(&a.commune);
        let lieu = a.lieu.as_ref().map_or(0, |l| self.lieux.intern(l) + 1);
        self.ids.push(activite);
        self.vivante.push(true);
        self.jour.push(a.date);
        self.mois
            .push(((y - 1970) * 12 + i64::from(m) - 1).clamp(0, 65_535) as u16);
        self.mediateur.push(mediateur);
        self.structure.push(structure);
        self.lieu.push(lieu);
        self.commune.push(commune);
        self.type_activite.push(a.type_activite.index() as u8);
        self.type_lieu.push(a.type_lieu.index() as u8);
        self.tranche_duree
            .push(TrancheDuree::de(a.duree).index() as u8);
        self.thematiques
            .push(bits(a.thematiques.iter().copied(), Thematique::index));
        self.materiel
            .push(bits(a.materiel.iter().copied(), Materiel::index));
        for p in participations {
            self.personne.push(pack(p));
            let b = p
                .beneficiaire
                .map_or(0, |b| self.beneficiaires.intern(&b) + 1);
            self.beneficiaire.push(b);
            let c = match (&p.beneficiaire, &p.commune_beneficiaire) {
                (Some(_), Some(c)) => self.communes.intern(c) + 1,
                _ => 0,
            };
            self.commune_beneficiaire.push(c);
        }
        self.debut.push(self.personne.len() as u32);
        post(&mut self.par_mediateur, mediateur, slot);
        post(&mut self.par_structure, structure, slot);
        post(&mut self.par_commune, commune, slot);
    }

    /// The slots a query must look at: the shortest lists its scope allows, or every slot.
    fn candidats(&self, f: &Filtres) -> Option<Vec<&[u32]>> {
        let scopes = [
            (
                !f.mediateurs.is_empty(),
                &self.par_mediateur,
                f.mediateurs
                    .iter()
                    .map(|m| self.mediateurs.get(m))
                    .collect(),
            ),
            (
                !f.structures.is_empty(),
                &self.par_structure,
                f.structures
                    .iter()
                    .map(|s| self.structures.get(s))
                    .collect(),
            ),
            (
                !f.communes.is_empty(),
                &self.par_commune,
                f.communes.iter().map(|c| self.communes.get(c)).collect(),
            ),
        ];
        scopes
            .into_iter()
            .filter(|(given, _, _)| *given)
            .map(|(_, postings, keys)| lists(postings, keys))
            .min_by_key(|l| l.iter().map(|l| l.len()).sum::<usize>())
    }

    /// The figures of the participations `f` keeps.
    pub fn figures(&self, f: &Filtres) -> Figures {
        let wanted = |len: usize, keys: Vec<Option<u32>>, shift: u32| -> Option<Vec<bool>> {
            if keys.is_empty() {
                return None;
            }
            let mut set = vec![false; len + shift as usize];
            for k in keys.into_iter().flatten() {
                set[(k + shift) as usize] = true;
            }
            Some(set)
        };
        let mediateurs = wanted(
            self.mediateurs.len(),
            f.mediateurs
                .iter()
                .map(|m| self.mediateurs.get(m))
                .collect(),
            0,
        );
        let structures = wanted(
            self.structures.len(),
            f.structures
                .iter()
                .map(|s| self.structures.get(s))
                .collect(),
            0,
        );
        let lieux = wanted(
            self.lieux.len(),
            f.lieux.iter().map(|l| self.lieux.get(l)).collect(),
            1,
        );
        let communes = wanted(
            self.communes.len(),
            f.communes.iter().map(|c| self.communes.get(c)).collect(),
            0,
        );
        let types = bits(f.types.iter().copied(), TypeActivite::index);
        let thematiques = bits(f.thematiques.iter().copied(), Thematique::index);
        let garde = |s: usize| {
            self.vivante[s]
                && f.du.is_none_or(|d| self.jour[s] >= d)
                && f.au.is_none_or(|d| self.jour[s] <= d)
                && (types == 0 || types & 1 << self.type_activite[s] != 0)
                && (thematiques == 0 || thematiques & self.thematiques[s] != 0)
                && mediateurs
                    .as_ref()
                    .is_none_or(|w| w[self.mediateur[s] as usize])
                && structures
                    .as_ref()
                    .is_none_or(|w| w[self.structure[s] as usize])
                && lieux.as_ref().is_none_or(|w| w[self.lieu[s] as usize])
                && communes
                    .as_ref()
                    .is_none_or(|w| w[self.commune[s] as usize])
        };
        let mut acc = Compte::new(self);
        match self.candidats(f) {
            Some(lists) => {
                for list in lists {
                    for &s in list {
                        if garde(s as usize) {
                            acc.ajouter(self, s as usize);
                        }
                    }
                }
            }
            None => {
                for s in 0..self.ids.len() {
                    if garde(s) {
                        acc.ajouter(self, s);
                    }
                }
            }
        }
        acc.figures(self)
    }
}

/// The running counts of one query.
struct Compte {
    activites: [u64; 2],
    participations: u64,
    anonymes: u64,
    nouveaux: u64,
    suivis: Vec<u64>,
    mois: BTreeMap<u16, u64>,
    type_activite: [u64; 8],
    tranche_duree: [u64; 8],
    type_lieu: [u64; 8],
    thematique: [u64; 32],
    materiel: [u64; 32],
    genre: [u64; 8],
    tranche: [u64; 16],
    statut: [u64; 8],
    commune_beneficiaire: Vec<u64>,
}

impl Compte {
    fn new(index: &ActivitesIndex) -> Compte {
        Compte {
            activites: [0; 2],
            participations: 0,
            anonymes: 0,
            nouveaux: 0,
            suivis: vec![0; index.beneficiaires.len().div_ceil(64) + 1],
            mois: BTreeMap::new(),
            type_activite: [0; 8],
            tranche_duree: [0; 8],
            type_lieu: [0; 8],
            thematique: [0; 32],
            materiel: [0; 32],
            genre: [0; 8],
            tranche: [0; 16],
            statut: [0; 8],
            commune_beneficiaire: vec![0; index.communes.len() + 1],
        }
    }

    fn ajouter(&mut self, index: &ActivitesIndex, s: usize) {
        let (from, to) = (index.debut[s] as usize, index.debut[s + 1] as usize);
        let n = (to - from) as u64;
        let individuel = index.type_activite[s] as usize == TypeActivite::Individuel.index();
        self.activites[usize::from(!individuel)] += 1;
        self.participations += n;
        *self.mois.entry(index.mois[s]).or_insert(0) += n;
        self.type_activite[index.type_activite[s] as usize] += n;
        self.tranche_duree[index.tranche_duree[s] as usize] += n;
        self.type_lieu[index.type_lieu[s] as usize] += n;
        for set in [
            (index.thematiques[s], &mut self.thematique),
            (index.materiel[s], &mut self.materiel),
        ] {
            let (mut b, counts) = set;
            while b != 0 {
                counts[b.trailing_zeros() as usize] += n;
                b &= b - 1;
            }
        }
        for p in from..to {
            let person = index.personne[p] as usize;
            self.genre[person & 7] += 1;
            self.tranche[person >> 3 & 15] += 1;
            self.statut[person >> 7 & 7] += 1;
            self.nouveaux += (person >> 10 & 1) as u64;
            match index.beneficiaire[p] {
                0 => self.anonymes += 1,
                b => self.suivis[b as usize / 64] |= 1 << (b % 64),
            }
            self.commune_beneficiaire[index.commune_beneficiaire[p] as usize] += 1;
        }
    }

    fn figures(self, index: &ActivitesIndex) -> Figures {
        fn named<K: Ord + Copy>(all: &[K], counts: &[u64]) -> BTreeMap<K, u64> {
            all.iter()
                .zip(counts)
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| (*k, *n))
                .collect()
        }
        let suivis: u64 = self.suivis.iter().map(|w| u64::from(w.count_ones())).sum();
        Figures {
            totaux: Totaux {
                activites: self.activites[0] + self.activites[1],
                activites_individuelles: self.activites[0],
                activites_collectives: self.activites[1],
                participations: self.participations,
                beneficiaires: suivis + self.anonymes,
                beneficiaires_suivis: suivis,
                beneficiaires_anonymes: self.anonymes,
                nouveaux: self.nouveaux,
            },
            par_mois: self
                .mois
                .into_iter()
                .map(|(m, n)| ((1970 + i64::from(m / 12), u32::from(m % 12) + 1), n))
                .collect(),
            par_type: named(TypeActivite::ALL, &self.type_activite),
            par_duree: named(TrancheDuree::ALL, &self.tranche_duree),
            par_type_lieu: named(TypeLieu::ALL, &self.type_lieu),
            par_thematique: named(Thematique::ALL, &self.thematique),
            par_materiel: named(Materiel::ALL, &self.materiel),
            par_genre: named(Genre::ALL, &self.genre),
            par_tranche: named(TrancheAge::ALL, &self.tranche),
            par_statut: named(StatutSocial::ALL, &self.statut),
            par_commune_beneficiaire: self
                .commune_beneficiaire
                .iter()
                .enumerate()
                .skip(1)
                .filter(|(_, n)| **n > 0)
                .map(|(c, n)| (index.communes.values[c - 1].clone(), *n))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use relais_domain::activites::statistiques::figures;
    use std::collections::BTreeSet;

    const JOUR: i64 = 86_400_000;
    const COMMUNES: [&str; 4] = ["42218", "69123", "2A004", "75056"];

    fn pick<T: Copy>(all: &[T], n: usize) -> T {
        all[n % all.len()]
    }

    /// An activity of random figures with `n` participants, from a seed of numbers.
    fn activite(id: i64, seed: &[usize]) -> Vec<Participation> {
        let s = |i: usize| seed[i % seed.len()].wrapping_mul(i + 7);
        let n = 1 + s(0) % 4;
        (0..n)
            .map(|k| Participation {
                activite: ActiviteId(id),
                mediateur: PersonId((s(1) % 3) as i64),
                structure: StructureId((s(2) % 2) as i64),
                date: (20_000 + (s(3) % 90) as i64) * JOUR,
                type_activite: if n == 1 {
                    TypeActivite::Individuel
                } else {
                    TypeActivite::Collectif
                },
                duree: (s(4) % 200) as u32 + 1,
                type_lieu: pick(TypeLieu::ALL, s(5)),
                lieu: (s(6) % 3 > 0).then(|| LieuId(format!("lieu{}", s(6) % 3))),
                commune: pick(&COMMUNES, s(7)).to_string(),
                thematiques: BTreeSet::from([
                    pick(Thematique::ALL, s(8)),
                    pick(Thematique::ALL, s(9)),
                ]),
                materiel: (0..s(10) % 3)
                    .map(|i| pick(Materiel::ALL, s(11) + i))
                    .collect(),
                beneficiaire: (s(12 + k) % 3 > 0).then(|| BeneficiaireId((s(13 + k) % 6) as i64)),
                premier: s(14 + k) % 2 == 0,
                genre: pick(Genre::ALL, s(15 + k)),
                tranche: pick(TrancheAge::ALL, s(16 + k)),
                statut: pick(StatutSocial::ALL, s(17 + k)),
                commune_beneficiaire: (s(18 + k) % 2 == 0)
                    .then(|| pick(&COMMUNES, s(19 + k)).to_string()),
            })
            .collect()
    }

    fn filtres(seed: &[usize]) -> Filtres {
        let s = |i: usize| seed[i % seed.len()].wrapping_mul(i + 3);
        let maybe = |i: usize| s(i) % 3 == 0;
        Filtres {
            du: maybe(0).then(|| (20_000 + (s(1) % 60) as i64) * JOUR),
            au: maybe(2).then(|| (20_030 + (s(3) % 60) as i64) * JOUR),
            types: if maybe(4) {
                BTreeSet::from([pick(TypeActivite::ALL, s(5))])
            } else {
                BTreeSet::new()
            },
            mediateurs: if maybe(6) {
                BTreeSet::from([PersonId((s(7) % 4) as i64)])
            } else {
                BTreeSet::new()
            },
            structures: if maybe(8) {
                BTreeSet::from([StructureId((s(9) % 2) as i64)])
            } else {
                BTreeSet::new()
            },
            lieux: if maybe(10) {
                BTreeSet::from([LieuId(format!("lieu{}", s(11) % 3))])
            } else {
                BTreeSet::new()
            },
            communes: if maybe(12) {
                BTreeSet::from([pick(&COMMUNES, s(13)).to_string(), "99999".to_string()])
            } else {
                BTreeSet::new()
            },
            thematiques: if maybe(14) {
                BTreeSet::from([pick(Thematique::ALL, s(15))])
            } else {
                BTreeSet::new()
            },
        }
    }

    proptest! {
        /// Whatever the activities, edits and deletions, and the filters, the index gives
        /// the figures counted one participation at a time.
        #[test]
        fn the_index_counts_like_the_definition(
            seeds in proptest::collection::vec(proptest::collection::vec(0usize..1000, 1..30), 1..60),
            rewrites in proptest::collection::vec((0usize..60, any::<bool>(), 0usize..1000), 0..20),
            filters in proptest::collection::vec(proptest::collection::vec(0usize..1000, 1..20), 1..6),
        ) {
            let mut index = ActivitesIndex::new();
            let mut rows: BTreeMap<i64, Vec<Participation>> = BTreeMap::new();
            let mut version = 0;
            for (i, seed) in seeds.iter().enumerate() {
                let a = activite(i as i64, seed);
                version += 1;
                index.appliquer(version, ActiviteId(i as i64), &a);
                rows.insert(i as i64, a);
            }
            for (target, delete, seed) in rewrites {
                let id = (target % seeds.len()) as i64;
                let a = if delete { Vec::new() } else { activite(id, &[seed, seed / 7 + 1]) };
                version += 1;
                index.appliquer(version, ActiviteId(id), &a);
                rows.insert(id, a);
            }
            let all: Vec<Participation> = rows.into_values().flatten().collect();
            prop_assert_eq!(index.version(), version);
            prop_assert_eq!(index.taille().1, all.len());
            prop_assert_eq!(index.figures(&Filtres::default()), figures(&all, &Filtres::default()));
            for seed in filters {
                let f = filtres(&seed);
                prop_assert_eq!(index.figures(&f), figures(&all, &f), "{:?}", f);
            }
        }
    }
}
