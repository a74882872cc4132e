//! What became of a programme's passes: issued, handed to people, in a booklet its holder
//! started, used, expired unused; and how long people wait between receiving a booklet
//! and using its first pass. Every pass is in exactly one state of [`Etats`].

/// A pass as the ledger and the hand-outs tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuiviPass {
    pub carnet: i64,
    /// When its booklet was handed to a person (Unix ms).
    pub remis_le: Option<i64>,
    /// When it was used (Unix ms).
    pub utilise_le: Option<i64>,
    /// Used, and its month's transfers paid by every funder.
    pub rembourse: bool,
}

/// Where each pass stands: the four counts add up to the passes issued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Etats {
    /// Not handed out yet, still valid.
    pub en_stock: u64,
    /// Handed out, not used yet, still valid.
    pub en_attente: u64,
    pub utilises: u64,
    /// Past the programme's last day (and its grace), never used.
    pub expires: u64,
}

/// The funnel of a programme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entonnoir {
    pub emis: u64,
    pub distribues: u64,
    /// Passes of handed-out booklets of which at least one pass was used.
    pub entames: u64,
    pub utilises: u64,
    /// Used passes whose month's transfers every funder paid.
    pub rembourses: u64,
    pub expires: u64,
    pub etats: Etats,
    /// Median days from a booklet handed out to its first pass used.
    pub delai_median_jours: Option<i64>,
}

/// The funnel of `passes`, on `aujourd_hui` (days since 1970-01-01, Paris), for a
/// programme valid until `fin` (its last day plus the grace, same unit).
pub fn entonnoir(passes: &[SuiviPass], fin: i64, aujourd_hui: i64) -> Entonnoir {
    use std::collections::BTreeMap;
    let expire = aujourd_hui > fin;
    // Each handed-out booklet: when, and its first use.
    let mut carnets: BTreeMap<i64, (i64, Option<i64>)> = BTreeMap::new();
    for p in passes {
        if let Some(remis) = p.remis_le {
            let entry = carnets.entry(p.carnet).or_insert((remis, None));
            if let Some(u) = p.utilise_le {
                entry.1 = Some(entry.1.map_or(u, |first: i64| first.min(u)));
            }
        }
    }
    let mut e = Entonnoir {
        emis: passes.len() as u64,
        ..Entonnoir::default()
    };
    for p in passes {
        let remis = p.remis_le.is_some();
        e.distribues += u64::from(remis);
        e.rembourses += u64::from(p.utilise_le.is_some() && p.rembourse);
        e.entames += u64::from(remis && carnets.get(&p.carnet).is_some_and(|c| c.1.is_some()));
        match (p.utilise_le, remis, expire) {
            (Some(_), _, _) => e.etats.utilises += 1,
            (None, _, true) => e.etats.expires += 1,
            (None, true, false) => e.etats.en_attente += 1,
            (None, false, false) => e.etats.en_stock += 1,
        }
    }
    e.utilises = e.etats.utilises;
    e.expires = e.etats.expires;
    let mut delais: Vec<i64> = carnets
        .values()
        .filter_map(|(remis, first)| first.map(|f| (f - remis).max(0) / 86_400_000))
        .collect();
    delais.sort_unstable();
    e.delai_median_jours = delais.get(delais.len() / 2).copied();
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const JOUR: i64 = 86_400_000;

    #[test]
    fn a_small_programme() {
        let passes = [
            // Booklet 1, handed out on day 10, one pass used on day 13.
            SuiviPass {
                carnet: 1,
                remis_le: Some(10 * JOUR),
                utilise_le: Some(13 * JOUR),
                rembourse: true,
            },
            SuiviPass {
                carnet: 1,
                remis_le: Some(10 * JOUR),
                utilise_le: None,
                rembourse: false,
            },
            // Booklet 2, handed out, unused.
            SuiviPass {
                carnet: 2,
                remis_le: Some(11 * JOUR),
                utilise_le: None,
                rembourse: false,
            },
            // Booklet 3, in stock.
            SuiviPass {
                carnet: 3,
                remis_le: None,
                utilise_le: None,
                rembourse: false,
            },
        ];
        let e = entonnoir(&passes, 100, 50);
        assert_eq!(
            (
                e.emis,
                e.distribues,
                e.entames,
                e.utilises,
                e.rembourses,
                e.expires
            ),
            (4, 3, 2, 1, 1, 0)
        );
        assert_eq!(
            e.etats,
            Etats {
                en_stock: 1,
                en_attente: 2,
                utilises: 1,
                expires: 0
            }
        );
        assert_eq!(e.delai_median_jours, Some(3));
        let after = entonnoir(&passes, 100, 101);
        assert_eq!(
            after.etats,
            Etats {
                en_stock: 0,
                en_attente: 0,
                utilises: 1,
                expires: 3
            }
        );
    }

    proptest! {
        /// Whatever the history, each pass is in one state, and the funnel narrows.
        #[test]
        fn every_pass_counted_once(
            passes in proptest::collection::vec(
                (0i64..20, proptest::option::of(0i64..30), proptest::option::of(0i64..30), any::<bool>()),
                0..200,
            ),
            aujourd_hui in 0i64..60,
        ) {
            let passes: Vec<SuiviPass> = passes
                .into_iter()
                .map(|(carnet, remis, utilise, rembourse)| SuiviPass {
                    carnet,
                    remis_le: remis.map(|d| d * JOUR),
                    utilise_le: utilise.map(|d| d * JOUR),
                    rembourse,
                })
                .collect();
            let e = entonnoir(&passes, 30, aujourd_hui);
            let s = e.etats;
            prop_assert_eq!(s.en_stock + s.en_attente + s.utilises + s.expires, e.emis);
            prop_assert!(e.emis >= e.distribues && e.distribues >= e.entames);
            prop_assert!(e.utilises >= e.rembourses);
            prop_assert_eq!(e.utilises, passes.iter().filter(|p| p.utilise_le.is_some()).count() as u64);
        }
    }
}
