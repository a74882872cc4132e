//! The two-parameter logistic model (2PL): a person of ability θ answers an item of
//! difficulty b and discrimination a rightly with probability 1 / (1 + e^(−a(θ − b))).
//! Ability is estimated by its posterior mean (EAP) on a grid with a normal prior, which
//! stays finite when every answer is right or every answer wrong; an item's Fisher
//! information a²·p·(1 − p) says how much it would tell at θ.

/// An item's calibrated parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parametres {
    /// Discrimination a.
    pub a: f64,
    /// Difficulty b (logits).
    pub b: f64,
}

impl Parametres {
    /// The probability of a right answer at `theta`.
    pub fn p(self, theta: f64) -> f64 {
        1.0 / (1.0 + (-self.a * (theta - self.b)).exp())
    }

    /// The Fisher information the item brings at `theta`.
    pub fn information(self, theta: f64) -> f64 {
        let p = self.p(theta);
        self.a * self.a * p * (1.0 - p)
    }
}

/// The grid of abilities the posterior is computed on: −6 to 6 by 0.1.
pub(crate) const POINTS: usize = 121;
const DEBUT: f64 = -6.0;
const PAS: f64 = 0.1;

pub(crate) fn point(i: usize) -> f64 {
    DEBUT + PAS * i as f64
}

/// An ability estimate: the posterior mean and standard deviation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimation {
    pub theta: f64,
    /// The standard error: the posterior's standard deviation.
    pub erreur: f64,
}

/// The posterior of a person's ability as answers come: kept as logarithms on the grid.
#[derive(Debug, Clone)]
pub struct Posterieure {
    log: Vec<f64>,
}

impl Posterieure {
    /// The prior: normal with mean `moyenne` and standard deviation `ecart`.
    pub fn normale(moyenne: f64, ecart: f64) -> Posterieure {
        Posterieure {
            log: (0..POINTS)
                .map(|i| {
                    let z = (point(i) - moyenne) / ecart;
                    -0.5 * z * z
                })
                .collect(),
        }
    }

    /// Takes an answer into account.
    pub fn ajouter(&mut self, item: Parametres, juste: bool) {
        for (i, l) in self.log.iter_mut().enumerate() {
            let p = item.p(point(i)).clamp(1e-12, 1.0 - 1e-12);
            *l += if juste { p.ln() } else { (1.0 - p).ln() };
        }
    }

    /// The posterior's weight at each point of the grid, summing to 1.
    pub fn poids(&self) -> Vec<f64> {
        let max = self.log.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = self.log.iter().map(|l| (l - max).exp()).collect();
        let somme: f64 = w.iter().sum();
        w.into_iter().map(|x| x / somme).collect()
    }

    /// The posterior mean and standard deviation.
    pub fn estimation(&self) -> Estimation {
        let max = self.log.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut somme, mut moyenne, mut carres) = (0.0, 0.0, 0.0);
        for (i, l) in self.log.iter().enumerate() {
            let w = (l - max).exp();
            let t = point(i);
            somme += w;
            moyenne += w * t;
            carres += w * t * t;
        }
        let theta = moyenne / somme;
        Estimation {
            theta,
            erreur: (carres / somme - theta * theta).max(0.0).sqrt(),
        }
    }
}

/// The EAP estimate of `reponses` (item, right or not) under a normal prior.
pub fn eap(
    reponses: impl IntoIterator<Item = (Parametres, bool)>,
    moyenne: f64,
    ecart: f64,
) -> Estimation {
    let mut post = Posterieure::normale(moyenne, ecart);
    for (item, juste) in reponses {
        post.ajouter(item, juste);
    }
    post.estimation()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_and_its_information() {
        let item = Parametres { a: 1.5, b: 0.5 };
        assert!((item.p(0.5) - 0.5).abs() < 1e-12);
        assert!(item.p(3.0) > 0.97 && item.p(-2.0) < 0.03);
        // Information peaks at the difficulty, where it is a²/4.
        assert!((item.information(0.5) - 1.5 * 1.5 / 4.0).abs() < 1e-12);
        assert!(item.information(0.5) > item.information(1.5));
    }

    #[test]
    fn the_estimate_follows_the_answers_and_narrows() {
        let items: Vec<Parametres> = (0..10)
            .map(|i| Parametres {
                a: 1.2,
                b: -2.0 + 0.4 * f64::from(i),
            })
            .collect();
        let prior = eap([], 0.0, 1.5);
        assert!(prior.theta.abs() < 1e-9 && (prior.erreur - 1.5).abs() < 0.01);
        let tout_juste = eap(items.iter().map(|&i| (i, true)), 0.0, 1.5);
        let tout_faux = eap(items.iter().map(|&i| (i, false)), 0.0, 1.5);
        assert!(tout_juste.theta > 1.5 && tout_faux.theta < -1.5);
        assert!(tout_juste.theta.is_finite() && tout_faux.theta.is_finite());
        // Right on the easy half, wrong on the hard half: in the middle, less uncertain.
        let moitie = eap(items.iter().enumerate().map(|(k, &i)| (i, k < 5)), 0.0, 1.5);
        assert!(moitie.theta.abs() < 0.5, "{moitie:?}");
        assert!(moitie.erreur < prior.erreur);
    }
}
