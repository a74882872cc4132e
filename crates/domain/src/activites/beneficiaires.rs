//! The rules of a structure's file of followed beneficiaries: who may see a file, how long
//! it is kept, which files are likely the same person.

use std::collections::BTreeMap;

use crate::ids::{BeneficiaireId, PersonId};
use crate::text::search_key;

/// A file is erased this long after the person's last activity (or its creation, if they
/// never had one): two years, the time a follow-up usually lasts, then the statistics keep
/// only what was counted.
pub const CONSERVATION_MS: i64 = 730 * 86_400_000;

/// Whether `viewer`, a mediator of the file's structure, may see it: the mediator who
/// opened it always; the structure's other mediators when the person agreed to share it
/// with them.
pub fn visible(viewer: PersonId, suivi_par: PersonId, partage: bool) -> bool {
    viewer == suivi_par || partage
}

/// Whether a file whose last trace (latest activity, or its creation) is `derniere_trace`
/// has passed its conservation at `now`.
pub fn a_effacer(derniere_trace: i64, now: i64) -> bool {
    derniere_trace < now - CONSERVATION_MS
}

/// A name as duplicates are compared: folded (case, accents, hyphens) and its words in
/// order, so that « DUPONT Jean-Marie » and « Jean Marie Dupont » give the same.
pub fn cle_de_nom(prenom: &str, nom: &str) -> String {
    let key = search_key(&format!("{prenom} {nom}"));
    let mut words: Vec<&str> = key.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_unstable();
    words.join(" ")
}

/// One file as duplicates are looked for: its name and age band.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidat {
    pub id: BeneficiaireId,
    pub prenom: String,
    pub nom: String,
    /// The age band's wire value: two people of different bands are not the same.
    pub tranche: String,
}

/// Whether two name keys differ by one typo (a letter added, removed or changed) in one
/// word of five letters or more: « dupont » and « dupond », not « lea » and « leo ».
fn une_faute(a: &str, b: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    if a.len() != b.len() {
        return false;
    }
    let differ: Vec<(&str, &str)> = a.into_iter().zip(b).filter(|(x, y)| x != y).collect();
    matches!(differ.as_slice(), [(x, y)] if x.len().min(y.len()) >= 5 && strsim::levenshtein(x, y) == 1)
}

/// The groups of files that are likely one person (two at least each, smallest id first):
/// the same name once folded, or names one typo apart in the same age band.
pub fn doublons(candidats: &[Candidat]) -> Vec<Vec<BeneficiaireId>> {
    let keys: Vec<String> = candidats
        .iter()
        .map(|c| cle_de_nom(&c.prenom, &c.nom))
        .collect();
    // Union-find over the candidates: a pair that matches joins their groups.
    let mut parent: Vec<usize> = (0..candidats.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..candidats.len() {
        for j in i + 1..candidats.len() {
            let (a, b) = (&keys[i], &keys[j]);
            let same = a == b || (candidats[i].tranche == candidats[j].tranche && une_faute(a, b));
            if same {
                let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                parent[ri.max(rj)] = ri.min(rj);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<BeneficiaireId>> = BTreeMap::new();
    for (i, c) in candidats.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(c.id);
    }
    let mut out: Vec<Vec<BeneficiaireId>> = groups
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: i64, prenom: &str, nom: &str, tranche: &str) -> Candidat {
        Candidat {
            id: BeneficiaireId(id),
            prenom: prenom.into(),
            nom: nom.into(),
            tranche: tranche.into(),
        }
    }

    #[test]
    fn names_are_compared_folded_and_in_any_order() {
        assert_eq!(
            cle_de_nom("Jean-Marie", "DUPONT"),
            cle_de_nom("jean marie", "Dupont")
        );
        assert_eq!(
            cle_de_nom("Dupont", "Jean-Marie"),
            cle_de_nom("Jean-Marie", "Dupont")
        );
        assert_eq!(cle_de_nom("Hélène", "Lefèvre"), "helene lefevre");
    }

    #[test]
    fn duplicates_are_grouped_and_strangers_left_alone() {
        let files = [
            c(1, "Jean-Marie", "Dupont", "35_49"),
            c(2, "Fatou", "Diallo", "25_34"),
            c(3, "DUPONT", "Jean Marie", "35_49"),
            // One letter apart, same band: the same person mistyped.
            c(4, "Jean-Marie", "Dupond", "35_49"),
            c(5, "Fatou", "Diallo", "25_34"),
            // One letter apart, another age band: someone else.
            c(8, "Jean-Marie", "Dupons", "60_69"),
            c(6, "Léa", "Roux", "18_24"),
            c(7, "Léo", "Roux", "18_24"),
        ];
        assert_eq!(
            doublons(&files),
            vec![
                vec![BeneficiaireId(1), BeneficiaireId(3), BeneficiaireId(4)],
                vec![BeneficiaireId(2), BeneficiaireId(5)],
            ],
            "Léa and Léo Roux: short names one letter apart are two people"
        );
        assert!(
            doublons(&[
                c(1, "Marc", "Petit", "35_49"),
                c(2, "Marc", "Petitjean", "35_49")
            ])
            .is_empty()
        );
    }

    #[test]
    fn visibility_and_conservation() {
        let (me, other) = (PersonId(1), PersonId(2));
        assert!(visible(me, me, false));
        assert!(!visible(other, me, false));
        assert!(visible(other, me, true));
        let now = 1_800_000_000_000;
        assert!(!a_effacer(now - CONSERVATION_MS, now));
        assert!(a_effacer(now - CONSERVATION_MS - 1, now));
    }
}
