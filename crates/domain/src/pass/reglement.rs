//! Money, to the cent: amounts are integer cents (`i64`), never floating point, and a sum
//! split between funders by their shares gives back the sum exactly.

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

    proptest! {
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
