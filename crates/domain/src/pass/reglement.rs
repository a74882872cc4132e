//! Money, to the cent: amounts are integer cents (`i64`), never floating point, and a sum
//! split between funders by their shares gives back the sum exactly.

use std::collections::BTreeMap;

use crate::ids::{ProgrammeId, StructureId};

/// A share in ten-thousandths (basis points): 5,000 is 50 %.
pub const PARTS_TOTAL: u32 = 10_000;

/// `total` cents split by `parts` (ten-thousandths, summing to [`PARTS_TOTAL`]): each gets
/// its exact share rounded down, then the cents left go one by one to the largest
/// remainders (the first listed on a tie). The amounts add up to `total`, and none is a
/// cent or more from its exact share.
pub fn repartir(total: i64, parts: &[u32]) -> Vec<i64> {
    let denominator = i128::from(PARTS_TOTAL);
    let exact: Vec<(i64, i128)> = parts
        .iter()
        .map(|&p| {
            let n = i128::from(total) * i128::from(p);
            (
                i64::try_from(n.div_euclid(denominator)).unwrap_or(0),
                n.rem_euclid(denominator),
            )
        })
        .collect();
    let mut amounts: Vec<i64> = exact.iter().map(|(a, _)| *a).collect();
    let left = total - amounts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| exact[b].1.cmp(&exact[a].1).then(a.cmp(&b)));
    for &i in order.iter().take(usize::try_from(left).unwrap_or(0)) {
        amounts[i] += 1;
    }
    amounts
}

/// A pass used, as a monthly statement counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utilisation {
    pub structure: StructureId,
    pub programme: ProgrammeId,
    /// The month it was used in (Paris): (year, 1–12).
    pub mois: (i64, u32),
    pub valeur_centimes: i64,
}

/// What a programme's funders owe a structure for the passes it took in a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Releve {
    pub structure: StructureId,
    pub programme: ProgrammeId,
    pub mois: (i64, u32),
    pub pass: i64,
    pub total_centimes: i64,
    /// Each funder's part of the total, in the programme's order of funders: split once per
    /// statement, so a cent is rounded once per statement, never once per pass.
    pub par_financeur: Vec<i64>,
}

/// The monthly statements of `utilisations`, by structure, programme and month; `parts`:
/// each programme's funders' shares (ten-thousandths, in their order).
pub fn releves(
    utilisations: &[Utilisation],
    parts: &BTreeMap<ProgrammeId, Vec<u32>>,
) -> Vec<Releve> {
    // (structure, programme, month) → (passes, cents).
    type Cle = (StructureId, ProgrammeId, (i64, u32));
    let mut sums: BTreeMap<Cle, (i64, i64)> = BTreeMap::new();
    for u in utilisations {
        let e = sums.entry((u.structure, u.programme, u.mois)).or_default();
        e.0 += 1;
        e.1 += u.valeur_centimes;
    }
    sums.into_iter()
        .map(|((structure, programme, mois), (pass, total))| Releve {
            structure,
            programme,
            mois,
            pass,
            total_centimes: total,
            par_financeur: repartir(total, parts.get(&programme).map_or(&[][..], Vec::as_slice)),
        })
        .collect()
}

/// Cents as French people write euros: `1 234,50 €`.
pub fn euros(centimes: i64) -> String {
    let sign = if centimes < 0 { "−" } else { "" };
    let c = centimes.unsigned_abs();
    let units = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped},{:02} €", c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_split_gives_the_cents_left_to_the_largest_remainders() {
        assert_eq!(repartir(1000, &[5000, 5000]), vec![500, 500]);
        // 10 € in thirds: 3.33 each, the cent left to the first.
        assert_eq!(repartir(1000, &[3334, 3333, 3333]), vec![334, 333, 333]);
        assert_eq!(repartir(1, &[2000, 8000]), vec![0, 1]);
        assert_eq!(repartir(0, &[2000, 8000]), vec![0, 0]);
    }

    #[test]
    fn euros_are_written_the_french_way() {
        assert_eq!(euros(1000), "10,00 €");
        assert_eq!(euros(123_456_789), "1\u{202f}234\u{202f}567,89 €");
        assert_eq!(euros(-5), "−0,05 €");
    }

    /// Shares that add up to 10,000, in one to six parts.
    fn parts() -> impl Strategy<Value = Vec<u32>> {
        prop::collection::vec(1u32..10_000, 0..6).prop_map(|mut cuts| {
            cuts.sort_unstable();
            cuts.dedup();
            let mut parts = Vec::new();
            let mut last = 0;
            for c in cuts.into_iter().chain([PARTS_TOTAL]) {
                parts.push(c - last);
                last = c;
            }
            parts
        })
    }

    /// Random histories: passes of three programmes (one to three funders each) used by
    /// four structures over six months.
    fn histoire() -> impl Strategy<Value = (Vec<Utilisation>, BTreeMap<ProgrammeId, Vec<u32>>)> {
        let programmes = prop::collection::vec(
            parts().prop_filter("un financeur au moins", |p| !p.is_empty()),
            3,
        );
        let usages = prop::collection::vec(
            (
                0i64..4,
                0i64..3,
                1u32..7,
                prop::sample::select(vec![500i64, 1000, 1250]),
            ),
            0..400,
        );
        (programmes, usages).prop_map(|(programmes, usages)| {
            let parts = programmes
                .into_iter()
                .enumerate()
                .map(|(i, p)| (ProgrammeId(i as i64), p))
                .collect();
            let utilisations = usages
                .into_iter()
                .map(|(s, p, m, v)| Utilisation {
                    structure: StructureId(s),
                    programme: ProgrammeId(p),
                    mois: (2027, m),
                    valeur_centimes: v,
                })
                .collect();
            (utilisations, parts)
        })
    }

    proptest! {
        /// For any history: every pass is in one statement; the statements add up to the
        /// passes' value to the cent; each statement's funders' parts add up to it; over
        /// all statements, each funder pays its share to within a cent per statement.
        #[test]
        fn statements_reconcile_to_the_cent((utilisations, parts) in histoire()) {
            let releves = releves(&utilisations, &parts);
            prop_assert_eq!(releves.iter().map(|r| r.pass).sum::<i64>(), utilisations.len() as i64);
            prop_assert_eq!(
                releves.iter().map(|r| r.total_centimes).sum::<i64>(),
                utilisations.iter().map(|u| u.valeur_centimes).sum::<i64>()
            );
            for r in &releves {
                prop_assert_eq!(r.par_financeur.iter().sum::<i64>(), r.total_centimes);
            }
            for (programme, shares) in &parts {
                let ours: Vec<&Releve> = releves.iter().filter(|r| r.programme == *programme).collect();
                let value: i64 = ours.iter().map(|r| r.total_centimes).sum();
                for (i, share) in shares.iter().enumerate() {
                    let paid: i64 = ours.iter().map(|r| r.par_financeur[i]).sum();
                    let exact = i128::from(value) * i128::from(*share);
                    let diff = (i128::from(paid) * i128::from(PARTS_TOTAL) - exact).abs();
                    prop_assert!(diff < i128::from(PARTS_TOTAL) * (ours.len() as i128).max(1));
                }
            }
        }

        #[test]
        fn a_split_adds_up_to_the_cent_and_stays_within_a_cent(
            total in 0i64..10_000_000_000,
            parts in parts(),
        ) {
            let amounts = repartir(total, &parts);
            prop_assert_eq!(amounts.iter().sum::<i64>(), total);
            for (a, p) in amounts.iter().zip(&parts) {
                let exact = i128::from(total) * i128::from(*p);
                let diff = i128::from(*a) * i128::from(PARTS_TOTAL) - exact;
                prop_assert!(diff.abs() < i128::from(PARTS_TOTAL));
            }
        }
    }
}
