//! The lieux index: exact nearest order against brute force, filters, territories,
//! bounding boxes, pagination, synthetic data; and an ignored timing test.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Instant;

use proptest::prelude::*;
use relais_domain::horaires::{Horaires, LocalTime, Weekday};
use relais_domain::ids::LieuId;
use relais_domain::lieux::{
    Dispositif, FormationLabel, Frais, Location, ModaliteAcces, ModaliteAccompagnement,
    PriseEnCharge, Public, Service,
};
use relais_domain::territoires::Point;
use relais_domain::text::search_key;
use relais_search::TerritoryIndex;
use relais_search::lieux::{BadCursor, Filter, IndexedLieu, LieuIndex, Plan, Territory, synthetic};

/// Wednesday 2026-03-04 at 00:00 in Paris (UTC+1): 2026-03-03 23:00 UTC.
const WEDNESDAY_MIDNIGHT: i64 = 1_772_578_800_000;

fn territoires() -> &'static TerritoryIndex {
    static INDEX: OnceLock<TerritoryIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        TerritoryIndex::build(relais_services::territoires::parse_shipped().unwrap())
    })
}

fn lieu(id: &str, name: &str, position: Option<(f64, f64)>) -> IndexedLieu {
    IndexedLieu {
        id: LieuId(id.to_string()),
        location: Location {
            code_insee: Some("69123".into()),
            position: position.map(|(lat, lon)| Point { lat, lon }),
            approximate: false,
        },
        code_insee_parent: None,
        arrondissement: None,
        departement: Some("69".into()),
        epci: Some("200046977".into()),
        name_key: search_key(name),
        text_key: search_key(&format!("{name} 1 rue de la République Lyon")),
        services: 0,
        publics: 0,
        prise_en_charge: 0,
        frais: 0,
        modalites_acces: 0,
        modalites_accompagnement: 0,
        dispositifs: 0,
        formations_labels: 0,
        horaires: None,
    }
}

/// Brute force: every lieu with a position passing the filter, by distance then index.
fn brute(index: &LieuIndex, p: Point, k: usize, f: &Filter) -> Vec<(usize, f64)> {
    let mut all: Vec<(usize, f64)> = (0..index.len())
        .filter(|&i| index.matches(i, f))
        .filter_map(|i| {
            index
                .lieu(i)
                .location
                .position
                .map(|q| (i, q.distance_m(p)))
        })
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

fn same(found: &[(usize, f64)], expected: &[(usize, f64)]) -> Result<(), TestCaseError> {
    prop_assert_eq!(found.len(), expected.len());
    for (f, e) in found.iter().zip(expected) {
        prop_assert!(
            (f.1 - e.1).abs() <= 1e-6 * e.1.max(1.0),
            "{found:?} vs {expected:?}"
        );
    }
    Ok(())
}

fn arb_lieu() -> impl Strategy<Value = IndexedLieu> {
    (
        prop::option::weighted(0.9, (42.0f64..51.0, -5.0f64..8.0)),
        prop::array::uniform8(any::<u16>()),
        0usize..4,
        0u32..1000,
    )
        .prop_map(|(pos, masks, h, n)| {
            let mut l = lieu(&format!("l{n}"), &format!("lieu {n}"), pos);
            // Sparse bits: make each value rare enough for filters to bite.
            let sparse = |m: u16, k: usize| m & (m >> 3) & ((1u16 << k) - 1);
            l.services = sparse(masks[0], 9);
            l.publics = sparse(masks[1], 5);
            l.prise_en_charge = sparse(masks[2], 7);
            l.frais = sparse(masks[3], 3);
            l.modalites_acces = sparse(masks[4], 6);
            l.modalites_accompagnement = sparse(masks[5], 4);
            l.dispositifs = sparse(masks[6], 11);
            l.formations_labels = sparse(masks[7], 10);
            l.horaires = [
                None,
                Some("Mo-Fr 09:00-17:00"),
                Some("Sa 10:00-12:00"),
                Some("We 14:00-18:00"),
            ][h]
                .map(|s| Horaires::parse(s).unwrap());
            l
        })
}

fn arb_filter() -> impl Strategy<Value = Filter> {
    (
        prop::sample::subsequence(Service::ALL.to_vec(), 0..3),
        prop::sample::subsequence(Dispositif::ALL.to_vec(), 0..2),
        prop::sample::subsequence(Frais::ALL.to_vec(), 0..2),
        prop::sample::subsequence(Public::ALL.to_vec(), 0..2),
        any::<bool>(),
        prop::option::of(0u16..1440),
        prop::option::of(prop::sample::select(vec![
            "lieu", "lieu 1", "rue rep", "lyon 2",
        ])),
    )
        .prop_map(
            |(services, dispositifs, frais, publics, weekend, minute, text)| Filter {
                services,
                dispositifs,
                frais,
                publics,
                open_weekend: weekend,
                open_now: minute.map(|minute| {
                    LocalTime::paris(WEDNESDAY_MIDNIGHT + i64::from(minute) * 60_000)
                }),
                text: text.map(str::to_string),
                ..Filter::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn nearest_is_the_brute_force_order(
        lieux in prop::collection::vec(arb_lieu(), 0..300),
        filter in arb_filter(),
        (lat, lon) in (40.0f64..52.0, -6.0f64..10.0),
        k in 1usize..30,
    ) {
        let mut lieux = lieux;
        for (i, l) in lieux.iter_mut().enumerate() {
            l.id = LieuId(format!("l{i}"));
        }
        let index = LieuIndex::build(lieux);
        let p = Point { lat, lon };
        let expected = brute(&index, p, k, &filter);
        for plan in [Plan::Auto, Plan::Scan, Plan::Walk, Plan::Values] {
            let found = index.nearest_planned(p, k, &filter, plan);
            same(&found, &expected)?;
            for (i, _) in &found {
                prop_assert!(index.matches(*i, &filter));
            }
        }
    }
}

#[test]
fn nearest_exact_on_synthetic_data_with_both_plans() {
    let index = LieuIndex::build(synthetic(20_000, 7, territoires()));
    let filters = [
        Filter::default(),
        Filter {
            services: vec![Service::Parentalite],
            frais: vec![Frais::Gratuit],
            ..Filter::default()
        },
        Filter {
            formations_labels: vec![FormationLabel::Duplex],
            ..Filter::default()
        },
        Filter {
            dispositifs: vec![Dispositif::FranceServices],
            open_weekend: true,
            ..Filter::default()
        },
        // Rare values with trees of their own, two of a kind (any of).
        Filter {
            formations_labels: vec![FormationLabel::Ordi3, FormationLabel::Duplex],
            publics: vec![Public::Seniors],
            ..Filter::default()
        },
        Filter {
            prise_en_charge: vec![PriseEnCharge::Surdite],
            dispositifs: vec![Dispositif::ConseillersNumeriques],
            ..Filter::default()
        },
    ];
    for (n, (lat, lon)) in [(45.76, 4.83), (48.85, 2.35), (-21.1, 55.5), (43.3, 5.4)]
        .into_iter()
        .enumerate()
    {
        let p = Point { lat, lon };
        for f in &filters {
            let expected = brute(&index, p, 20, f);
            for plan in [Plan::Auto, Plan::Scan, Plan::Walk, Plan::Values] {
                let found = index.nearest_planned(p, 20, f, plan);
                assert_eq!(found, expected, "point {n}, {plan:?}, {f:?}");
            }
        }
    }
}

fn small_index() -> LieuIndex {
    let mut a = lieu("a", "Médiathèque Jean Macé", Some((45.75, 4.84)));
    a.services = 1 << Service::AideDemarches.index();
    a.publics = 1 << Public::Seniors.index();
    a.frais = 1 << Frais::Gratuit.index();
    a.horaires = Some(Horaires::parse("Mo-Fr 09:00-12:00").unwrap());
    let mut b = lieu("b", "Espace numérique", Some((45.76, 4.85)));
    b.services = 1 << Service::MaitriseOutils.index() | 1 << Service::AideDemarches.index();
    b.prise_en_charge = 1 << PriseEnCharge::Surdite.index();
    b.frais = 1 << Frais::Payant.index();
    b.modalites_acces = 1 << ModaliteAcces::RdvEnLigne.index();
    b.horaires = Some(Horaires::parse("Sa 10:00-12:00").unwrap());
    let mut c = lieu("c", "France Services", Some((45.90, 4.90)));
    c.dispositifs = 1 << Dispositif::FranceServices.index();
    c.modalites_accompagnement = 1 << ModaliteAccompagnement::AtelierCollectif.index();
    c.formations_labels = 1 << FormationLabel::MonEspaceSante.index();
    c.location.code_insee = Some("69266".into());
    // No position: by territory only.
    let mut d = lieu("d", "Bus numérique", None);
    d.services = 1 << Service::AideDemarches.index();
    LieuIndex::build(vec![a, b, c, d])
}

fn ids(index: &LieuIndex, found: impl IntoIterator<Item = usize>) -> Vec<String> {
    found
        .into_iter()
        .map(|i| index.lieu(i).id.to_string())
        .collect()
}

fn near(index: &LieuIndex, f: Filter) -> Vec<String> {
    let found = index.nearest(
        Point {
            lat: 45.75,
            lon: 4.84,
        },
        10,
        &f,
    );
    ids(index, found.into_iter().map(|(i, _)| i))
}

#[test]
fn each_filter_kind() {
    let x = small_index();
    assert_eq!(near(&x, Filter::default()), ["a", "b", "c"]);
    let f = Filter::default;
    assert_eq!(
        near(
            &x,
            Filter {
                services: vec![Service::AideDemarches],
                ..f()
            }
        ),
        ["a", "b"]
    );
    // Any of, within a kind.
    assert_eq!(
        near(
            &x,
            Filter {
                frais: vec![Frais::Payant, Frais::Gratuit],
                ..f()
            }
        ),
        ["a", "b"]
    );
    // All kinds together.
    assert_eq!(
        near(
            &x,
            Filter {
                services: vec![Service::AideDemarches],
                frais: vec![Frais::Payant],
                ..f()
            }
        ),
        ["b"]
    );
    assert_eq!(
        near(
            &x,
            Filter {
                publics: vec![Public::Seniors],
                ..f()
            }
        ),
        ["a"]
    );
    assert_eq!(
        near(
            &x,
            Filter {
                prise_en_charge: vec![PriseEnCharge::Surdite],
                ..f()
            }
        ),
        ["b"]
    );
    assert_eq!(
        near(
            &x,
            Filter {
                modalites_acces: vec![ModaliteAcces::RdvEnLigne],
                ..f()
            }
        ),
        ["b"]
    );
    assert_eq!(
        near(
            &x,
            Filter {
                modalites_accompagnement: vec![ModaliteAccompagnement::AtelierCollectif],
                ..f()
            }
        ),
        ["c"]
    );
    assert_eq!(
        near(
            &x,
            Filter {
                dispositifs: vec![Dispositif::FranceServices],
                ..f()
            }
        ),
        ["c"]
    );
    assert_eq!(
        near(
            &x,
            Filter {
                formations_labels: vec![FormationLabel::MonEspaceSante],
                ..f()
            }
        ),
        ["c"]
    );
    assert!(
        near(
            &x,
            Filter {
                formations_labels: vec![FormationLabel::Duplex],
                ..f()
            }
        )
        .is_empty()
    );
    assert_eq!(
        near(
            &x,
            Filter {
                open_weekend: true,
                ..f()
            }
        ),
        ["b"]
    );
    assert_eq!(
        near(
            &x,
            Filter {
                text: Some("mediatheque mac".into()),
                ..f()
            }
        ),
        ["a"]
    );
    assert_eq!(
        near(
            &x,
            Filter {
                text: Some("Rue de la Rép".into()),
                ..f()
            }
        ),
        ["a", "b", "c"]
    );
    assert!(
        near(
            &x,
            Filter {
                text: Some("mediatheque zzz".into()),
                ..f()
            }
        )
        .is_empty()
    );
}

#[test]
fn open_now_at_a_fixed_instant() {
    let x = small_index();
    // Wednesday 2026-03-04 10:30 in Paris (UTC+1) = 09:30 UTC.
    let wednesday = LocalTime::paris(1_772_616_600_000);
    assert_eq!((wednesday.day, wednesday.minute), (Weekday::We, 630));
    let open = |at| {
        near(
            &x,
            Filter {
                open_now: Some(at),
                ..Filter::default()
            },
        )
    };
    assert_eq!(open(wednesday), ["a"]);
    let wednesday_13h = LocalTime::paris(WEDNESDAY_MIDNIGHT + 13 * 3_600_000);
    assert_eq!(
        (wednesday_13h.day, wednesday_13h.minute),
        (Weekday::We, 13 * 60)
    );
    assert!(open(wednesday_13h).is_empty());
    let saturday_11h = LocalTime::paris(WEDNESDAY_MIDNIGHT + (3 * 24 + 11) * 3_600_000);
    assert_eq!(
        (saturday_11h.day, saturday_11h.minute),
        (Weekday::Sa, 11 * 60)
    );
    assert_eq!(open(saturday_11h), ["b"]);
}

#[test]
fn territory_bbox_and_unpositioned_lieux() {
    let x = small_index();
    let all = Filter::default();
    let list = |t: Territory, f: &Filter| ids(&x, x.in_territory(&t, f, None, 10).unwrap().items);
    // Ordered by name key: bus, espace, france, mediatheque.
    assert_eq!(
        list(Territory::Departement("69".into()), &all),
        ["d", "b", "c", "a"]
    );
    assert_eq!(
        list(Territory::Epci("200046977".into()), &all),
        ["d", "b", "c", "a"]
    );
    assert_eq!(
        list(Territory::Commune("69123".into()), &all),
        ["d", "b", "a"]
    );
    assert_eq!(list(Territory::Commune("69266".into()), &all), ["c"]);
    assert!(list(Territory::Commune("75056".into()), &all).is_empty());
    let aide = Filter {
        services: vec![Service::AideDemarches],
        ..all.clone()
    };
    assert_eq!(
        list(Territory::Departement("69".into()), &aide),
        ["d", "b", "a"]
    );
    // The lieu without position is never near nor in a box.
    assert!(!near(&x, all.clone()).contains(&"d".to_string()));
    assert_eq!(
        ids(&x, x.in_bbox(45.7, 4.8, 45.8, 4.9, &all, 10)),
        ["a", "b"]
    );
    assert_eq!(ids(&x, x.in_bbox(45.7, 4.8, 45.8, 4.9, &aide, 1)).len(), 1);
    assert!(x.in_bbox(45.0, 4.8, 45.1, 4.9, &all, 10).is_empty());
    assert_eq!(
        x.get("d").map(|(i, l)| (i, l.location.position)),
        Some((3, None))
    );
    assert!(x.get("zz").is_none());
}

#[test]
fn bbox_matches_brute_force_on_synthetic_data() {
    let index = LieuIndex::build(synthetic(20_000, 3, territoires()));
    let f = Filter {
        services: vec![Service::Parentalite],
        ..Filter::default()
    };
    for b in [
        (45.0, 4.0, 46.2, 5.2),
        (48.5, 1.8, 49.1, 3.0),
        (-21.5, 55.0, -20.8, 56.0),
        (-90.0, -180.0, 90.0, 180.0),
    ] {
        let mut found = index.in_bbox(b.0, b.1, b.2, b.3, &f, usize::MAX);
        found.sort_unstable();
        let expected: Vec<usize> =
            (0..index.len())
                .filter(|&i| index.matches(i, &f))
                .filter(|&i| {
                    index.lieu(i).location.position.is_some_and(|p| {
                        p.lat >= b.0 && p.lat <= b.2 && p.lon >= b.1 && p.lon <= b.3
                    })
                })
                .collect();
        assert_eq!(found, expected, "{b:?}");
    }
}

#[test]
fn grappes_count_every_lieu_of_the_box_once_in_its_cell() {
    let index = LieuIndex::build(synthetic(20_000, 4, territoires()));
    let f = Filter {
        frais: vec![Frais::Gratuit],
        ..Filter::default()
    };
    for (b, cell) in [
        ([41.0, -5.5, 51.5, 10.0], 2.5),
        ([45.5, 4.6, 46.0, 5.1], 0.05),
        ([-90.0, -180.0, 90.0, 180.0], 90.0),
    ] {
        let grappes = index.grappes(b, &f, cell);
        let inside = index.in_bbox(b[0], b[1], b[2], b[3], &f, usize::MAX);
        assert!(!inside.is_empty());
        assert_eq!(
            grappes.iter().map(|g| g.count).sum::<usize>(),
            inside.len(),
            "{b:?}"
        );
        let key = |p: Point| ((p.lat / cell).floor() as i64, (p.lon / cell).floor() as i64);
        for g in &grappes {
            let members: Vec<usize> = inside
                .iter()
                .copied()
                .filter(|&i| {
                    key(index.lieu(i).location.position.unwrap())
                        == key(index.lieu(g.lieu).location.position.unwrap())
                })
                .collect();
            assert_eq!(members.len(), g.count);
            let n = members.len() as f64;
            let lat = members
                .iter()
                .map(|&i| index.lieu(i).location.position.unwrap().lat)
                .sum::<f64>()
                / n;
            assert!(
                (g.position.lat - lat).abs() < 1e-9,
                "{} {lat}",
                g.position.lat
            );
        }
    }
}

#[test]
fn bbox_pages_follow_ids_without_gaps() {
    let index = LieuIndex::build(synthetic(20_000, 5, territoires()));
    let f = Filter {
        frais: vec![Frais::Gratuit],
        ..Filter::default()
    };
    // Lyon and around; then a box across the antimeridian (nothing there but no error).
    let b = (45.5, 4.6, 46.0, 5.1);
    let mut expected: Vec<&str> = index
        .in_bbox(b.0, b.1, b.2, b.3, &f, usize::MAX)
        .into_iter()
        .map(|i| index.lieu(i).id.as_str())
        .collect();
    expected.sort_unstable();
    assert!(expected.len() > 50, "{}", expected.len());
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = index.in_bbox_page([b.0, b.1, b.2, b.3], &f, cursor.as_deref(), 17);
        assert!(page.items.len() <= 17);
        paged.extend(page.items.iter().map(|&i| index.lieu(i).id.as_str()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, expected);
    // A cursor from another build of the index (an id) still works.
    let rebuilt = LieuIndex::build(synthetic(20_000, 5, territoires()));
    let page = rebuilt.in_bbox_page([b.0, b.1, b.2, b.3], &f, Some(expected[9]), 5);
    let ids: Vec<&str> = page
        .items
        .iter()
        .map(|&i| rebuilt.lieu(i).id.as_str())
        .collect();
    assert_eq!(ids, &expected[10..15]);
    assert!(
        index
            .in_bbox_page([-10.0, 170.0, 10.0, -170.0], &f, None, 10)
            .items
            .is_empty()
    );
    // Huge limits (a caller's arithmetic gone wrong) neither overflow nor size a buffer.
    let all = index.in_bbox_page([b.0, b.1, b.2, b.3], &f, None, usize::MAX);
    assert_eq!(all.items.len(), expected.len());
    assert!(all.next.is_none());
    let nearest = index.nearest(
        Point {
            lat: 45.0,
            lon: 4.0,
        },
        usize::MAX,
        &Filter::default(),
    );
    assert!(!nearest.is_empty() && nearest.len() <= index.len());
}

#[test]
fn cursor_pagination_has_no_duplicates_nor_gaps() {
    let lieux = synthetic(25_000, 11, territoires());
    let index = LieuIndex::build(lieux);
    assert_eq!(index.len(), 25_000);
    let f = Filter {
        frais: vec![Frais::Gratuit],
        ..Filter::default()
    };
    for t in [
        Territory::Departement("69".into()),
        Territory::Commune("75056".into()),
        Territory::Epci("200046977".into()),
    ] {
        let all = index.in_territory(&t, &f, None, usize::MAX).unwrap().items;
        assert!(all.len() > 30, "{t:?}: {}", all.len());
        let mut paged = Vec::new();
        let mut cursor = None;
        loop {
            let page = index.in_territory(&t, &f, cursor.as_deref(), 24).unwrap();
            assert!(page.items.len() <= 24);
            paged.extend(page.items);
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(paged, all, "{t:?}");
        assert_eq!(paged.iter().collect::<HashSet<_>>().len(), paged.len());
        let keys: Vec<_> = paged
            .iter()
            .map(|&i| (&index.lieu(i).name_key, &index.lieu(i).id))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        // A cursor no page gave is refused, not read as the first page.
        for bad in ["", "sans tabulation", "18446744073709551615", "nom\t"] {
            assert_eq!(
                index.in_territory(&t, &f, Some(bad), 24),
                Err(BadCursor),
                "{bad:?}"
            );
        }
    }
}

/// Median and p99 of nearest-20-with-two-filters. Run with
/// `cargo test --release -p relais-search --test lieux -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing() {
    let point_filters: Vec<(&str, Filter)> = vec![
        (
            "two filters ~11% (France Services + aide démarches)",
            Filter {
                dispositifs: vec![Dispositif::FranceServices],
                services: vec![Service::AideDemarches],
                ..Filter::default()
            },
        ),
        (
            "two filters ~16% (parentalité + gratuit)",
            Filter {
                services: vec![Service::Parentalite],
                frais: vec![Frais::Gratuit],
                ..Filter::default()
            },
        ),
        (
            "two filters ~2% (surdité + CNFS)",
            Filter {
                prise_en_charge: vec![PriseEnCharge::Surdite],
                dispositifs: vec![Dispositif::ConseillersNumeriques],
                ..Filter::default()
            },
        ),
        (
            "two filters ~0.3% (Duplex + gratuit)",
            Filter {
                formations_labels: vec![FormationLabel::Duplex],
                frais: vec![Frais::Gratuit],
                ..Filter::default()
            },
        ),
        (
            "two filters ~0.05% (Ordi 3.0 + seniors)",
            Filter {
                formations_labels: vec![FormationLabel::Ordi3],
                publics: vec![Public::Seniors],
                ..Filter::default()
            },
        ),
    ];
    for n in [25_000, 1_000_000] {
        let t = Instant::now();
        let lieux = synthetic(n, 42, territoires());
        let generated = t.elapsed();
        let t = Instant::now();
        let index = LieuIndex::build(lieux);
        eprintln!(
            "n = {n}: generated in {generated:?}, built in {:?}",
            t.elapsed()
        );
        // Query points: positions of other synthetic lieux (same distribution).
        let points: Vec<Point> = synthetic(1_000, 99, territoires())
            .into_iter()
            .filter_map(|l| l.location.position)
            .collect();
        for (name, f) in &point_filters {
            for plan in [Plan::Auto, Plan::Walk, Plan::Scan, Plan::Values] {
                let mut times = Vec::with_capacity(points.len());
                let mut total = 0;
                for &p in &points {
                    let t = Instant::now();
                    let found = index.nearest_planned(p, 20, f, plan);
                    times.push(t.elapsed().as_nanos() as f64 / 1000.0);
                    total += found.len();
                }
                times.sort_by(f64::total_cmp);
                eprintln!(
                    "  {name:48} {plan:?}: median {:7.1} µs, p99 {:7.1} µs ({} results)",
                    times[times.len() / 2],
                    times[times.len() * 99 / 100],
                    total
                );
            }
        }
    }
}

/// Producers write Lyon (69123) or its arrondissement (69383): each is found from the
/// other. A lieu of the arrondissement is in Lyon's list; a lieu placed in Lyon as a whole
/// is in the list of the arrondissement its postal code names.
#[test]
fn an_arrondissement_and_its_commune_find_each_others_lieux() {
    let indexed = |id: &str, commune: &str, code_insee: &str| {
        let row: std::collections::BTreeMap<String, String> = [
            ("id", id),
            ("nom", "Espace numérique"),
            ("commune", commune),
            ("code_postal", "69003"),
            ("code_insee", code_insee),
            ("adresse", "12 rue Servient"),
            ("date_maj", "2024-06-01"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let reading =
            relais_domain::lieux::read_row(&row, relais_domain::lieux::SchemaVersion::V1).unwrap();
        IndexedLieu::from_lieu(&reading.lieu, territoires())
    };
    let whole = indexed("lyon", "Lyon", "69123");
    assert_eq!(whole.arrondissement.as_deref(), Some("69383"));
    let arr = indexed("lyon-3", "Lyon 3e Arrondissement", "69383");
    assert_eq!(arr.code_insee_parent.as_deref(), Some("69123"));
    let x = LieuIndex::build(vec![whole, arr]);
    let list = |code: &str| {
        let t = Territory::Commune(code.into());
        ids(
            &x,
            x.in_territory(&t, &Filter::default(), None, 10)
                .unwrap()
                .items,
        )
    };
    assert_eq!(list("69123"), ["lyon", "lyon-3"]);
    assert_eq!(list("69383"), ["lyon", "lyon-3"]);
    assert!(list("69381").is_empty());
}
