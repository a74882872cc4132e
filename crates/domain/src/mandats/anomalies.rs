//! Uses of mandates a référent should look at: at night, in bursts, or an aidant going
//! through many usagers' mandates in a few minutes. Flags to read, not refusals: an aidant
//! may have good reasons, the référent judges.

use std::collections::{BTreeSet, HashMap};

use crate::calendrier::paris_civil;
use crate::ids::{PersonId, UsagerId};

/// Night, Paris time: from 21:00 to 7:00.
pub const NUIT: (u32, u32) = (21 * 60, 7 * 60);
/// A burst: this many uses by one aidant within `RAFALE_MS`.
pub const RAFALE_USES: usize = 10;
pub const RAFALE_MS: i64 = 5 * 60_000;
/// Many usagers: this many different usagers' mandates used by one aidant within
/// `USAGERS_MS`.
pub const USAGERS_DISTINCTS: usize = 5;
pub const USAGERS_MS: i64 = 10 * 60_000;

/// One use of a mandate, as the rules read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub at: i64,
    pub aidant: PersonId,
    pub usager: UsagerId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Anomalie {
    Nuit,
    Rafale,
    NombreuxUsagers,
}

impl Anomalie {
    pub fn libelle(self) -> &'static str {
        match self {
            Anomalie::Nuit => "la nuit (entre 21 h et 7 h)",
            Anomalie::Rafale => "en rafale (10 utilisations ou plus en 5 minutes)",
            Anomalie::NombreuxUsagers => {
                "pour de nombreux usagers (5 ou plus en 10 minutes, même aidant)"
            }
        }
    }
}

/// The flags of each use, in the order given.
pub fn anomalies(usages: &[Usage]) -> Vec<BTreeSet<Anomalie>> {
    let mut by_aidant: HashMap<PersonId, Vec<usize>> = HashMap::new();
    for (i, u) in usages.iter().enumerate() {
        by_aidant.entry(u.aidant).or_default().push(i);
    }
    let mut flags = vec![BTreeSet::new(); usages.len()];
    for (i, u) in usages.iter().enumerate() {
        let (_, _, _, minute) = paris_civil(u.at);
        if minute >= NUIT.0 || minute < NUIT.1 {
            flags[i].insert(Anomalie::Nuit);
        }
    }
    for indices in by_aidant.values() {
        let mut sorted = indices.clone();
        sorted.sort_by_key(|&i| usages[i].at);
        for (k, &i) in sorted.iter().enumerate() {
            let at = usages[i].at;
            // Windows ending at this use: every use of the window is flagged.
            let burst: Vec<usize> = sorted[..=k]
                .iter()
                .copied()
                .filter(|&j| at - usages[j].at < RAFALE_MS)
                .collect();
            if burst.len() >= RAFALE_USES {
                for j in burst {
                    flags[j].insert(Anomalie::Rafale);
                }
            }
            let window: Vec<usize> = sorted[..=k]
                .iter()
                .copied()
                .filter(|&j| at - usages[j].at < USAGERS_MS)
                .collect();
            let distinct: BTreeSet<UsagerId> = window.iter().map(|&j| usages[j].usager).collect();
            if distinct.len() >= USAGERS_DISTINCTS {
                for j in window {
                    flags[j].insert(Anomalie::NombreuxUsagers);
                }
            }
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 at 10:00, Paris (UTC+1).
    const MORNING: i64 = 1_796_634_000_000;

    fn u(at: i64, aidant: i64, usager: i64) -> Usage {
        Usage {
            at,
            aidant: PersonId(aidant),
            usager: UsagerId(usager),
        }
    }

    #[test]
    fn ordinary_uses_are_not_flagged() {
        let uses: Vec<Usage> = (0..9).map(|i| u(MORNING + i * 60_000, 1, i % 2)).collect();
        assert!(anomalies(&uses).iter().all(BTreeSet::is_empty));
    }

    #[test]
    fn night_bursts_and_many_usagers_are_flagged() {
        let night = MORNING - 4 * 3_600_000; // 6:00 in Paris
        assert_eq!(
            anomalies(&[u(night, 1, 1)])[0],
            BTreeSet::from([Anomalie::Nuit])
        );
        let late = MORNING + 11 * 3_600_000 + 30 * 60_000; // 21:30
        assert!(anomalies(&[u(late, 1, 1)])[0].contains(&Anomalie::Nuit));
        // Ten uses in 4.5 minutes by one aidant for one usager: a burst; another aidant's
        // use meanwhile is not.
        let mut uses: Vec<Usage> = (0..10).map(|i| u(MORNING + i * 30_000, 1, 7)).collect();
        uses.push(u(MORNING + 60_000, 2, 7));
        let f = anomalies(&uses);
        assert!(f[..10].iter().all(|s| s.contains(&Anomalie::Rafale)));
        assert!(f[10].is_empty());
        // Five usagers in 8 minutes: flagged; the same five over an hour: not.
        let many: Vec<Usage> = (0..5).map(|i| u(MORNING + i * 120_000, 3, i)).collect();
        assert!(
            anomalies(&many)
                .iter()
                .all(|s| s.contains(&Anomalie::NombreuxUsagers))
        );
        let slow: Vec<Usage> = (0..5).map(|i| u(MORNING + i * 900_000, 3, i)).collect();
        assert!(anomalies(&slow).iter().all(BTreeSet::is_empty));
    }
}
