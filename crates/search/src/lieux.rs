//! The in-memory index of lieux de médiation numérique: nearest to a point (exact
//! distance order), within a commune / EPCI / département (stable order, cursor
//! pagination), within a bounding box (map tiles), by id; with attribute filters
//! (any-of within a kind, all kinds together), "ouvert maintenant", "ouvert le
//! week-end" and full text on name and address.
//!
//! Layout. Positioned lieux sit in a static kd-tree over the unit sphere (Euclidean
//! chord distance orders like great-circle distance, as in `territoires.rs`), stored in
//! tree order so a leaf is a contiguous run of positions and attribute masks. Every
//! node keeps the OR of the masks below it, so a walk skips any subtree in which no lieu
//! can match: a rare filter prunes most of the tree instead of popping thousands of
//! non-matching neighbours (the weakness of the plain R-tree, reference §5.4).
//! Per value, a posting list of lieux allows the other plan: scan only the lieux that
//! have the rarest wanted value and sort them by distance. See `SCAN_MAX` for the
//! choice between the two.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

use relais_domain::horaires::{Horaires, LocalTime};
use relais_domain::ids::LieuId;
use relais_domain::lieux::{
    Dispositif, FormationLabel, Frais, Lieu, Location, ModaliteAcces, ModaliteAccompagnement,
    PriseEnCharge, Public, Service,
};
use relais_domain::territoires::Point;
use relais_domain::text::search_key;

use crate::territoires::TerritoryIndex;

/// Attribute kinds in a mask array: the eight vocabularies in `Filter`'s order, then
/// the flags derived from the opening hours (`HAS_HORAIRES`, `OPEN_WEEKEND`).
const KINDS: usize = 9;
const HAS_HORAIRES: u16 = 1;
const OPEN_WEEKEND: u16 = 2;

// Every vocabulary fits a u16 bitset.
const _: () = assert!(
    Service::ALL.len() <= 16
        && Public::ALL.len() <= 16
        && PriseEnCharge::ALL.len() <= 16
        && Frais::ALL.len() <= 16
        && ModaliteAcces::ALL.len() <= 16
        && ModaliteAccompagnement::ALL.len() <= 16
        && Dispositif::ALL.len() <= 16
        && FormationLabel::ALL.len() <= 16
);

/// Lieux per kd-tree leaf.
const LEAF: usize = 16;

/// Plan choice for `nearest` (when the rarest kind has value trees, they are walked
/// instead, see `VALUE_TREE_BUDGET`): when the rarest constraint (one kind's wanted values, or
/// the text) holds at most this many positioned lieux, scan those candidates (slot
/// order) and select the nearest; otherwise walk the tree nearest-first with summary
/// pruning. Measured (release, 2 busy cores, synthetic data, the ignored `timing` test in
/// tests/lieux.rs): a scan costs ~6–10 ns per candidate at 25k and ~20 ns at 1M (cache
/// misses), so 2,048 candidates ≈ 12–40 µs; the walk costs 6–8 µs for common filters at
/// 25k but 11–30 µs for rare ones (0.3–0.05%), where a scan of 250 candidates takes 2–4 µs.
/// At 1M the walk wins for anything but tiny candidate sets.
const SCAN_MAX: usize = 2_048;

/// Values get kd-trees of their own (their lieux only, positions and masks copied),
/// rarest value first, while the copies stay within `VALUE_TREE_BUDGET` + the number of
/// positioned lieux, and only for values held by at most half of them. A filter then
/// walks its value's tree nearest-first, pruned by the other filters' summaries, instead
/// of scanning all its candidates or walking the whole tree: at 1M lieux a value held by
/// 0.5% has 5,000 candidates (a 100 µs scan), and the pair "that value + another" is
/// too rare for the main tree's summaries to prune well. A common value helps too: a
/// 3% pair of two 30% values looks at ~60 lieux in the first one's tree, ~700 in the
/// main one. Cost: ≈ 60 bytes a copy; at 25k every value under 50% fits (≈ 5 copies a
/// lieu, 7 MB), at 1M about one copy a lieu (the values under ~10%).
const VALUE_TREE_BUDGET: usize = 100_000;

/// Under this many candidates a scan beats any walk (no queue, no node boxes).
const SCAN_SMALL: usize = 256;

/// What search needs of a lieu.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedLieu {
    pub id: LieuId,
    /// Its commune and position. Without a position: findable by territory, not by
    /// distance nor in a bounding box.
    pub location: Location,
    /// For an arrondissement municipal, its commune (Paris, Lyon, Marseille).
    pub code_insee_parent: Option<String>,
    /// For a lieu placed in Paris, Lyon or Marseille as a whole, the arrondissement of its
    /// postal code: it is listed there too.
    pub arrondissement: Option<String>,
    pub departement: Option<String>,
    pub epci: Option<String>,
    /// `search_key` of the name: the order of territory listings.
    pub name_key: String,
    /// `search_key` of name, address, postal code and commune: full text.
    pub text_key: String,
    pub services: u16,
    pub publics: u16,
    pub prise_en_charge: u16,
    pub frais: u16,
    pub modalites_acces: u16,
    pub modalites_accompagnement: u16,
    pub dispositifs: u16,
    pub formations_labels: u16,
    pub horaires: Option<Horaires>,
}

/// The bitset of a list of vocabulary values.
pub fn bits<T: Copy>(values: &[T], index: impl Fn(T) -> usize) -> u16 {
    values.iter().fold(0, |acc, v| acc | 1 << index(*v))
}

impl IndexedLieu {
    /// From a lieu; its commune comes from its INSEE code, else its postal code and
    /// commune name, else the commune nearest to its position. A lieu without
    /// coordinates takes its commune's, marked approximate.
    pub fn from_lieu(lieu: &Lieu, territoires: &TerritoryIndex) -> IndexedLieu {
        let a = &lieu.adresse;
        let commune = a
            .code_insee
            .as_ref()
            .and_then(|c| territoires.commune(c.as_str()))
            .or_else(|| {
                let served = territoires.by_postal_code(a.code_postal.as_str());
                let name = search_key(&a.commune);
                served
                    .iter()
                    .find(|c| search_key(&c.nom) == name)
                    .or(if served.len() == 1 {
                        served.first()
                    } else {
                        None
                    })
                    .copied()
            })
            .or_else(|| {
                lieu.coordonnees
                    .and_then(|p| territoires.nearest(p))
                    .map(|(c, _)| c)
            });
        let chain = commune.and_then(|c| territoires.chain(c.code.as_str()));
        let arrondissement = commune.and_then(|c| {
            let mut of_code = territoires
                .by_postal_code(a.code_postal.as_str())
                .into_iter()
                .filter(|x| x.commune_parent.as_ref() == Some(&c.code));
            match (of_code.next(), of_code.next()) {
                (Some(x), None) => Some(x.code.as_str().to_string()),
                _ => None,
            }
        });
        let text_key = search_key(&format!(
            "{} {} {} {} {}",
            lieu.nom,
            a.adresse,
            a.complement.as_deref().unwrap_or(""),
            a.code_postal.as_str(),
            a.commune
        ));
        IndexedLieu {
            id: LieuId(lieu.id.clone()),
            location: Location::new(lieu.coordonnees, commune),
            code_insee_parent: chain
                .and_then(|ch| ch.commune_parent)
                .map(|p| p.code.as_str().to_string()),
            arrondissement,
            departement: chain.and_then(|ch| ch.departement).map(|d| d.code.clone()),
            epci: chain.and_then(|ch| ch.epci).map(|e| e.code.clone()),
            name_key: search_key(&lieu.nom),
            text_key,
            services: bits(&lieu.services, Service::index),
            publics: bits(&lieu.publics, Public::index),
            prise_en_charge: bits(&lieu.prise_en_charge, PriseEnCharge::index),
            frais: bits(&lieu.frais, Frais::index),
            modalites_acces: bits(&lieu.modalites_acces, ModaliteAcces::index),
            modalites_accompagnement: bits(
                &lieu.modalites_accompagnement,
                ModaliteAccompagnement::index,
            ),
            dispositifs: bits(&lieu.dispositifs, Dispositif::index),
            formations_labels: bits(&lieu.formations_labels, FormationLabel::index),
            horaires: lieu
                .horaires
                .as_deref()
                .and_then(|h| Horaires::parse(h).ok()),
        }
    }

    fn masks(&self) -> [u16; KINDS] {
        let flags = match &self.horaires {
            Some(h) if h.open_on_weekend() => HAS_HORAIRES | OPEN_WEEKEND,
            Some(_) => HAS_HORAIRES,
            None => 0,
        };
        [
            self.services,
            self.publics,
            self.prise_en_charge,
            self.frais,
            self.modalites_acces,
            self.modalites_accompagnement,
            self.dispositifs,
            self.formations_labels,
            flags,
        ]
    }
}

/// What to keep. Within a kind, any of the listed values; every non-empty kind and
/// every other condition must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub services: Vec<Service>,
    pub publics: Vec<Public>,
    pub prise_en_charge: Vec<PriseEnCharge>,
    pub frais: Vec<Frais>,
    pub modalites_acces: Vec<ModaliteAcces>,
    pub modalites_accompagnement: Vec<ModaliteAccompagnement>,
    pub dispositifs: Vec<Dispositif>,
    pub formations_labels: Vec<FormationLabel>,
    /// Open at this local time (lieux without opening hours are left out).
    pub open_now: Option<LocalTime>,
    /// Opens on Saturday or Sunday.
    pub open_weekend: bool,
    /// Every word of the folded query starts a word of the name or address.
    pub text: Option<String>,
}

/// How `nearest` finds its lieux.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Scan when the rarest constraint has at most `SCAN_MAX` candidates, else walk.
    Auto,
    /// Scan the candidates of the rarest constraint (walk when nothing constrains).
    Scan,
    /// Walk the tree nearest-first.
    Walk,
    /// Walk the trees of the rarest kind's wanted values (the main tree when one of them
    /// has none).
    Values,
}

/// Lieux close together on a map, drawn as one mark: their mean position and how many.
#[derive(Debug, Clone, PartialEq)]
pub struct Grappe {
    pub position: Point,
    pub count: usize,
    /// One of them, the first met: the lieu itself when `count` is 1.
    pub lieu: usize,
}

/// A territory to list the lieux of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Territory {
    /// INSEE code; a commune with arrondissements includes theirs.
    Commune(String),
    /// SIREN of the EPCI.
    Epci(String),
    Departement(String),
}

/// A cursor that no page gave: edited, truncated or from another kind of listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadCursor;

/// A page of a territory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Lieu indices, ordered by name key then id.
    pub items: Vec<usize>,
    /// Pass it back to get the next page; `None` on the last page.
    pub next: Option<String>,
}

/// A filter made ready for one query.
struct Compiled {
    want: [u16; KINDS],
    /// `masks_pass` without branches: a mask passes when, for every kind,
    /// `(mask | open) & test != 0`; an inactive kind has both all ones, an active one
    /// `open` 0 and `test` its wanted values.
    open: [u16; KINDS],
    test: [u16; KINDS],
    active: Vec<usize>,
    /// Text or opening hours to check after the masks (`rest_pass`).
    rest: bool,
    open_now: Option<LocalTime>,
    /// Sorted lieu indices matching the text, when there is one.
    text: Option<Vec<u32>>,
}

impl Compiled {
    #[inline]
    fn masks_pass(&self, m: &[u16; KINDS]) -> bool {
        let mut pass = true;
        for ((m, open), test) in m.iter().zip(&self.open).zip(&self.test) {
            pass &= (m | open) & test != 0;
        }
        pass
    }
}

/// A squared distance as an integer of the same order (the bits of a non-negative
/// float order like it; `+ 0.0` turns a −0 into +0): cheaper to compare in heaps.
#[inline]
fn key(d2: f64) -> u64 {
    (d2 + 0.0).to_bits()
}

/// The `k` nearest so far, sorted by (key, slot): the farthest is the last, and the
/// answer comes out sorted. For small `k` a shift beats a heap's pop and push.
struct Best {
    k: usize,
    items: Vec<(u64, u32)>,
}

impl Best {
    fn new(k: usize) -> Best {
        Best {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    /// Entries farther than this cannot enter.
    #[inline]
    fn bound(&self) -> u64 {
        if self.items.len() == self.k {
            self.items[self.k - 1].0
        } else {
            u64::MAX
        }
    }

    #[inline]
    fn insert(&mut self, d: u64, slot: u32) {
        let at = self.items.partition_point(|&e| e < (d, slot));
        self.items.insert(at, (d, slot));
        self.items.truncate(self.k);
    }

    fn into_found(self) -> Vec<(f64, u32)> {
        self.items
            .into_iter()
            .map(|(d, s)| (f64::from_bits(d), s))
            .collect()
    }
}

/// One cache line: the box in `f32`, rounded outwards (a bound, never nearer than the
/// truth: order stays exact), since a walk is bound by reading nodes.
#[repr(C, align(64))]
struct Node {
    lo: [f32; 3],
    hi: [f32; 3],
    /// OR of the masks of the lieux below.
    summary: [u16; KINDS],
    /// Slots `start..end` lie below this node.
    start: u32,
    end: u32,
    /// Children, or `u32::MAX` for a leaf.
    left: u32,
    right: u32,
}

fn unit_vector(p: Point) -> [f64; 3] {
    let (lat, lon) = (p.lat.to_radians(), p.lon.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

#[inline]
fn dist2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let (x, y, z) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    x * x + y * y + z * z
}

#[inline]
fn box_dist2(lo: &[f32; 3], hi: &[f32; 3], q: &[f64; 3]) -> f64 {
    let mut d = 0.0;
    for i in 0..3 {
        let e = (lo[i] as f64 - q[i]).max(q[i] - hi[i] as f64).max(0.0);
        d += e * e;
    }
    d
}

/// The kd-tree of the lieux having one rare value: copies of their positions and masks,
/// in this tree's order, and their slots in the main tree.
struct ValueTree {
    nodes: Vec<Node>,
    xyz: Vec<[f64; 3]>,
    masks: Vec<[u16; KINDS]>,
    slots: Vec<u32>,
}

/// A tree to walk: the main one (`slots: None`, entry = slot) or a value's.
#[derive(Clone, Copy)]
struct TreeRef<'a> {
    nodes: &'a [Node],
    xyz: &'a [[f64; 3]],
    masks: &'a [[u16; KINDS]],
    slots: Option<&'a [u32]>,
}

pub struct LieuIndex {
    lieux: Vec<IndexedLieu>,
    masks: Vec<[u16; KINDS]>,
    by_id: HashMap<LieuId, u32>,
    /// Per kind, per bit: the positioned lieux having it, as slots ascending.
    slot_postings: Vec<Vec<Vec<u32>>>,
    /// (word, lieu), sorted: the words of text keys.
    words: Vec<(Box<str>, u32)>,
    /// Lieu indices of each territory, in listing order.
    communes: HashMap<String, Vec<u32>>,
    epci: HashMap<String, Vec<u32>>,
    departements: HashMap<String, Vec<u32>>,
    /// Tree order: slot → lieu, position, unit vector, masks.
    slot_lieu: Vec<u32>,
    slot_point: Vec<Point>,
    slot_xyz: Vec<[f64; 3]>,
    slot_masks: Vec<[u16; KINDS]>,
    /// Lieu → slot, `u32::MAX` without position.
    lieu_slot: Vec<u32>,
    nodes: Vec<Node>,
    /// Per kind, per bit: the tree of a rare value (see `VALUE_TREE_BUDGET`).
    value_trees: Vec<Vec<Option<ValueTree>>>,
    /// Lieu indices by id: the order of bounding-box pages.
    id_order: Vec<u32>,
    /// Lieu → its position in `id_order`.
    id_rank: Vec<u32>,
}

impl LieuIndex {
    pub fn build(lieux: Vec<IndexedLieu>) -> LieuIndex {
        let masks: Vec<[u16; KINDS]> = lieux.iter().map(IndexedLieu::masks).collect();
        let by_id = lieux
            .iter()
            .enumerate()
            .map(|(i, l)| (l.id.clone(), i as u32))
            .collect();
        let mut words = Vec::new();
        for (i, l) in lieux.iter().enumerate() {
            let mut ws: Vec<&str> = l.text_key.split(' ').filter(|w| !w.is_empty()).collect();
            ws.sort_unstable();
            ws.dedup();
            words.extend(ws.into_iter().map(|w| (Box::<str>::from(w), i as u32)));
        }
        words.sort_unstable();

        let mut listing: Vec<u32> = (0..lieux.len() as u32).collect();
        listing.sort_by(|&a, &b| Self::listing_cmp(&lieux[a as usize], &lieux[b as usize]));
        let (mut communes, mut epci, mut departements) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        for &i in &listing {
            let l = &lieux[i as usize];
            let add = |map: &mut HashMap<String, Vec<u32>>, code: &Option<String>| {
                if let Some(c) = code {
                    map.entry(c.clone()).or_default().push(i);
                }
            };
            add(&mut communes, &l.location.code_insee);
            if l.code_insee_parent != l.location.code_insee {
                add(&mut communes, &l.code_insee_parent);
            }
            add(&mut communes, &l.arrondissement);
            add(&mut epci, &l.epci);
            add(&mut departements, &l.departement);
        }

        let mut items: Vec<([f64; 3], u32)> = lieux
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.location.position.map(|p| (unit_vector(p), i as u32)))
            .collect();
        let mut nodes = Vec::new();
        if !items.is_empty() {
            build_tree(&mut items, 0, &masks, &mut nodes);
        }
        let mut lieu_slot = vec![u32::MAX; lieux.len()];
        for (s, (_, l)) in items.iter().enumerate() {
            lieu_slot[*l as usize] = s as u32;
        }
        let mut slot_postings = vec![vec![Vec::new(); 16]; KINDS];
        for (s, (_, l)) in items.iter().enumerate() {
            for (k, bits) in masks[*l as usize].iter().enumerate() {
                for (b, list) in slot_postings[k].iter_mut().enumerate() {
                    if bits & (1 << b) != 0 {
                        list.push(s as u32);
                    }
                }
            }
        }
        let slot_masks: Vec<[u16; KINDS]> = items.iter().map(|(_, l)| masks[*l as usize]).collect();
        let slot_xyz: Vec<[f64; 3]> = items.iter().map(|(x, _)| *x).collect();
        let mut values: Vec<(usize, usize, usize)> = slot_postings
            .iter()
            .enumerate()
            .flat_map(|(k, per_bit)| {
                per_bit
                    .iter()
                    .enumerate()
                    .map(move |(b, slots)| (slots.len(), k, b))
            })
            .filter(|&(n, _, _)| n > 0 && n <= items.len() / 2)
            .collect();
        values.sort_unstable();
        let mut value_trees: Vec<Vec<Option<ValueTree>>> = (0..KINDS)
            .map(|_| (0..16).map(|_| None).collect())
            .collect();
        let mut copies = 0;
        for (n, k, b) in values {
            copies += n;
            if copies > VALUE_TREE_BUDGET + items.len() {
                break;
            }
            value_trees[k][b] = Some(ValueTree::build(
                &slot_postings[k][b],
                &slot_xyz,
                &slot_masks,
            ));
        }
        let mut id_order: Vec<u32> = (0..lieux.len() as u32).collect();
        id_order.sort_by(|&a, &b| lieux[a as usize].id.cmp(&lieux[b as usize].id));
        let mut id_rank = vec![0; lieux.len()];
        for (r, &l) in id_order.iter().enumerate() {
            id_rank[l as usize] = r as u32;
        }
        LieuIndex {
            value_trees,
            id_order,
            id_rank,
            slot_postings,
            slot_lieu: items.iter().map(|(_, l)| *l).collect(),
            slot_point: items
                .iter()
                .map(|(_, l)| lieux[*l as usize].location.position.unwrap())
                .collect(),
            slot_xyz,
            slot_masks,
            lieu_slot,
            nodes,
            lieux,
            masks,
            by_id,
            words,
            communes,
            epci,
            departements,
        }
    }

    fn listing_cmp(a: &IndexedLieu, b: &IndexedLieu) -> Ordering {
        a.name_key.cmp(&b.name_key).then_with(|| a.id.cmp(&b.id))
    }

    pub fn len(&self) -> usize {
        self.lieux.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lieux.is_empty()
    }

    /// The lieu at an index returned by a query.
    pub fn lieu(&self, i: usize) -> &IndexedLieu {
        &self.lieux[i]
    }

    pub fn get(&self, id: &str) -> Option<(usize, &IndexedLieu)> {
        self.by_id
            .get(id)
            .map(|&i| (i as usize, &self.lieux[i as usize]))
    }

    fn compile(&self, f: &Filter) -> Compiled {
        let flags = if f.open_weekend {
            OPEN_WEEKEND
        } else if f.open_now.is_some() {
            HAS_HORAIRES
        } else {
            0
        };
        let want: [u16; KINDS] = [
            bits(&f.services, Service::index),
            bits(&f.publics, Public::index),
            bits(&f.prise_en_charge, PriseEnCharge::index),
            bits(&f.frais, Frais::index),
            bits(&f.modalites_acces, ModaliteAcces::index),
            bits(&f.modalites_accompagnement, ModaliteAccompagnement::index),
            bits(&f.dispositifs, Dispositif::index),
            bits(&f.formations_labels, FormationLabel::index),
            flags,
        ];
        let text = f
            .text
            .as_deref()
            .map(search_key)
            .filter(|q| !q.is_empty())
            .map(|q| self.text_matches(&q));
        Compiled {
            active: (0..KINDS).filter(|&k| want[k] != 0).collect(),
            open: want.map(|w| if w == 0 { u16::MAX } else { 0 }),
            test: want.map(|w| if w == 0 { u16::MAX } else { w }),
            want,
            open_now: f.open_now,
            rest: text.is_some() || f.open_now.is_some(),
            text,
        }
    }

    /// Sorted lieux whose text key has, for every query word, a word starting with it.
    fn text_matches(&self, query: &str) -> Vec<u32> {
        let mut result: Option<Vec<u32>> = None;
        for w in query.split(' ') {
            let start = self.words.partition_point(|(x, _)| **x < *w);
            let end = start + self.words[start..].partition_point(|(x, _)| x.starts_with(w));
            let mut found: Vec<u32> = self.words[start..end].iter().map(|(_, l)| *l).collect();
            found.sort_unstable();
            found.dedup();
            result = Some(match result {
                None => found,
                Some(prev) => prev
                    .into_iter()
                    .filter(|l| found.binary_search(l).is_ok())
                    .collect(),
            });
            if result.as_ref().is_some_and(Vec::is_empty) {
                break;
            }
        }
        result.unwrap_or_default()
    }

    /// Everything but the masks (checked first, by the caller).
    #[inline]
    fn rest_pass(&self, c: &Compiled, lieu: u32) -> bool {
        if !c.rest {
            return true;
        }
        if let Some(t) = &c.text
            && t.binary_search(&lieu).is_err()
        {
            return false;
        }
        if let Some(at) = c.open_now {
            return self.lieux[lieu as usize]
                .horaires
                .as_ref()
                .is_some_and(|h| h.is_open(at));
        }
        true
    }

    /// Whether lieu `i` passes the filter.
    pub fn matches(&self, i: usize, filter: &Filter) -> bool {
        let c = self.compile(filter);
        c.masks_pass(&self.masks[i]) && self.rest_pass(&c, i as u32)
    }

    /// The `k` nearest lieux passing the filter, nearest first, with their distance in
    /// metres (great circle). Lieux without position are never returned.
    pub fn nearest(&self, point: Point, k: usize, filter: &Filter) -> Vec<(usize, f64)> {
        if k == 0 || self.nodes.is_empty() {
            return Vec::new();
        }
        self.nearest_planned(point, k, filter, Plan::Auto)
    }

    /// `nearest` with the plan forced (tests and measurements).
    pub fn nearest_planned(
        &self,
        point: Point,
        k: usize,
        filter: &Filter,
        plan: Plan,
    ) -> Vec<(usize, f64)> {
        if k == 0 || self.nodes.is_empty() {
            return Vec::new();
        }
        // Never more than there are lieux: a caller's huge `k` must not size a buffer.
        let k = k.min(self.lieux.len());
        let c = self.compile(filter);
        let q = unit_vector(point);
        let rarest = self.rarest(&c);
        let value_kind = self.value_kind(&c);
        let text_rarest = c.text.as_ref().is_some_and(|t| rarest == Some(t.len()));
        let plan = match plan {
            Plan::Auto => match rarest {
                Some(n) if n <= SCAN_SMALL || (text_rarest && n <= SCAN_MAX) => Plan::Scan,
                _ if value_kind.is_some() => Plan::Values,
                Some(n) if n <= SCAN_MAX => Plan::Scan,
                _ => Plan::Walk,
            },
            Plan::Scan if rarest.is_none() => Plan::Walk,
            p => p,
        };
        let found = match (plan, value_kind) {
            (Plan::Scan, _) => self.nearest_scan(&c, &q, k),
            (Plan::Values, Some(kind)) => self.nearest_values(&c, &q, k, kind),
            _ => self.nearest_walk(&c, &q, k),
        };
        let mut out: Vec<(usize, f64)> = found
            .into_iter()
            .map(|(_, s)| {
                let s = s as usize;
                (
                    self.slot_lieu[s] as usize,
                    self.slot_point[s].distance_m(point),
                )
            })
            .collect();
        out.sort_unstable_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        out
    }

    /// The number of candidates of the rarest constraint, if any constrains.
    fn rarest(&self, c: &Compiled) -> Option<usize> {
        let kinds = c.active.iter().map(|&k| self.kind_count(c, k));
        kinds.chain(c.text.as_ref().map(Vec::len)).min()
    }

    /// An upper bound of the lieux having any wanted value of kind `k`.
    fn kind_count(&self, c: &Compiled, k: usize) -> usize {
        (0..16)
            .filter(|b| c.want[k] & (1 << b) != 0)
            .map(|b| self.slot_postings[k][b].len())
            .sum()
    }

    /// Candidates of the rarest constraint, checked, the `k` nearest selected.
    fn nearest_scan(&self, c: &Compiled, q: &[f64; 3], k: usize) -> Vec<(f64, u32)> {
        let mut hits: Vec<(f64, u32)> = Vec::new();
        let mut consider = |lieu: u32| {
            let slot = self.lieu_slot[lieu as usize];
            if slot != u32::MAX
                && c.masks_pass(&self.slot_masks[slot as usize])
                && self.rest_pass(c, lieu)
            {
                hits.push((dist2(&self.slot_xyz[slot as usize], q), slot));
            }
        };
        let best_kind = c
            .active
            .iter()
            .copied()
            .min_by_key(|&k| self.kind_count(c, k));
        match (&c.text, best_kind) {
            (Some(t), kind) if kind.is_none_or(|k| t.len() <= self.kind_count(c, k)) => {
                t.iter().for_each(|&l| consider(l));
            }
            (_, Some(k)) => {
                for b in (0..16).filter(|b| c.want[k] & (1 << b) != 0) {
                    // A lieu with several wanted values is taken under the first one.
                    let earlier = c.want[k] & ((1u16 << b) - 1);
                    // Slots ascending: positions and masks are read in memory order.
                    for &s in &self.slot_postings[k][b] {
                        let su = s as usize;
                        let m = &self.slot_masks[su];
                        if m[k] & earlier == 0
                            && c.masks_pass(m)
                            && self.rest_pass(c, self.slot_lieu[su])
                        {
                            hits.push((dist2(&self.slot_xyz[su], q), s));
                        }
                    }
                }
            }
            _ => unreachable!("a scan needs a constraint"),
        }
        if hits.len() > k {
            hits.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
            hits.truncate(k);
        }
        hits
    }

    /// The rarest active kind, if every one of its wanted values has a tree.
    fn value_kind(&self, c: &Compiled) -> Option<usize> {
        let k = c
            .active
            .iter()
            .copied()
            .min_by_key(|&k| self.kind_count(c, k))?;
        (0..16)
            .filter(|b| c.want[k] & (1 << b) != 0)
            .all(|b| self.value_trees[k][b].is_some())
            .then_some(k)
    }

    fn main_tree(&self) -> TreeRef<'_> {
        TreeRef {
            nodes: &self.nodes,
            xyz: &self.slot_xyz,
            masks: &self.slot_masks,
            slots: None,
        }
    }

    /// Best-first walk of the tree, skipping subtrees whose summary cannot match.
    fn nearest_walk(&self, c: &Compiled, q: &[f64; 3], k: usize) -> Vec<(f64, u32)> {
        let mut best = Best::new(k);
        self.walk(self.main_tree(), c, q, (0, 0), &mut best);
        best.into_found()
    }

    /// The trees of the wanted values of `kind`, one after the other, sharing the best
    /// so far (each later walk starts with a tighter bound). A lieu with several wanted
    /// values is taken in the tree of the first one only.
    fn nearest_values(&self, c: &Compiled, q: &[f64; 3], k: usize, kind: usize) -> Vec<(f64, u32)> {
        let mut best = Best::new(k);
        for b in (0..16).filter(|b| c.want[kind] & (1 << b) != 0) {
            let Some(t) = &self.value_trees[kind][b] else {
                continue;
            };
            let tree = TreeRef {
                nodes: &t.nodes,
                xyz: &t.xyz,
                masks: &t.masks,
                slots: Some(&t.slots),
            };
            let earlier = c.want[kind] & ((1u16 << b) - 1);
            self.walk(tree, c, q, (kind, earlier), &mut best);
        }
        best.into_found()
    }

    /// Adds to `best` the nearest entries of `t` passing the filter, leaving out those
    /// having a bit of `skip.1` in kind `skip.0`.
    fn walk(
        &self,
        t: TreeRef<'_>,
        c: &Compiled,
        q: &[f64; 3],
        skip: (usize, u16),
        best: &mut Best,
    ) {
        let mut queue: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::with_capacity(64);
        let root = &t.nodes[0];
        if c.masks_pass(&root.summary) {
            queue.push(Reverse((key(box_dist2(&root.lo, &root.hi, q)), 0)));
        }
        while let Some(Reverse((d, mut n))) = queue.pop() {
            if d > best.bound() {
                break;
            }
            // Down to a leaf through the nearer child, the farther one queued: half the
            // queue operations of queuing both.
            let mut node = &t.nodes[n as usize];
            while node.left != u32::MAX {
                let bound = best.bound();
                let mut near: Option<(u64, u32)> = None;
                for child in [node.left, node.right] {
                    let ch = &t.nodes[child as usize];
                    if !c.masks_pass(&ch.summary) {
                        continue;
                    }
                    let bd = key(box_dist2(&ch.lo, &ch.hi, q));
                    if bd > bound {
                        continue;
                    }
                    match near {
                        Some((nd, _)) if nd <= bd => queue.push(Reverse((bd, child))),
                        Some(other) => {
                            queue.push(Reverse(other));
                            near = Some((bd, child));
                        }
                        None => near = Some((bd, child)),
                    }
                }
                match near {
                    Some((_, child)) => {
                        n = child;
                        node = &t.nodes[n as usize];
                    }
                    None => break,
                }
            }
            if node.left == u32::MAX {
                for e in node.start as usize..node.end as usize {
                    let m = &t.masks[e];
                    if m[skip.0] & skip.1 != 0 || !c.masks_pass(m) {
                        continue;
                    }
                    let d2 = key(dist2(&t.xyz[e], q));
                    if d2 >= best.bound() {
                        continue;
                    }
                    let s = t.slots.map_or(e as u32, |slots| slots[e]);
                    if c.rest && !self.rest_pass(c, self.slot_lieu[s as usize]) {
                        continue;
                    }
                    best.insert(d2, s);
                }
            }
        }
    }

    /// Lieux of a territory passing the filter, ordered by name key then id, at most
    /// `limit`, starting after the `cursor` of the previous page. A cursor that is not
    /// the `next` of a page (name key, tab, id) is refused rather than read as the start.
    pub fn in_territory(
        &self,
        territory: &Territory,
        filter: &Filter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page, BadCursor> {
        let list: &[u32] = match territory {
            Territory::Commune(code) => self.communes.get(&code.to_ascii_uppercase()),
            Territory::Epci(code) => self.epci.get(code),
            Territory::Departement(code) => self.departements.get(&code.to_ascii_uppercase()),
        }
        .map_or(&[], Vec::as_slice);
        let start = match cursor {
            Some(c) => {
                let (name_key, id) = c
                    .split_once('\t')
                    .filter(|(_, id)| !id.is_empty())
                    .ok_or(BadCursor)?;
                list.partition_point(|&i| {
                    let l = &self.lieux[i as usize];
                    (l.name_key.as_str(), l.id.as_str()) <= (name_key, id)
                })
            }
            None => 0,
        };
        let c = self.compile(filter);
        let mut matching = list[start..]
            .iter()
            .filter(|&&i| c.masks_pass(&self.masks[i as usize]) && self.rest_pass(&c, i))
            .map(|&i| i as usize);
        let items: Vec<usize> = matching.by_ref().take(limit).collect();
        let next = match (items.last(), matching.next()) {
            (Some(&last), Some(_)) => {
                let l = &self.lieux[last];
                Some(format!("{}\t{}", l.name_key, l.id))
            }
            _ => None,
        };
        Ok(Page { items, next })
    }

    /// At most `limit` positioned lieux passing the filter inside the box (degrees;
    /// `min_lon > max_lon` crosses the antimeridian), in a stable order.
    pub fn in_bbox(
        &self,
        min_lat: f64,
        min_lon: f64,
        max_lat: f64,
        max_lon: f64,
        filter: &Filter,
        limit: usize,
    ) -> Vec<usize> {
        let c = self.compile(filter);
        let mut out = Vec::new();
        if limit == 0 {
            return out;
        }
        self.bbox_visit(&c, [min_lat, min_lon, max_lat, max_lon], &mut |l| {
            out.push(l as usize);
            out.len() < limit
        });
        out
    }

    /// The positioned lieux passing the filter inside the box, gathered by the cells of a
    /// grid of `cell` degrees: the groups a map draws at a zoom where single markers would
    /// hide each other (the caller turns its zoom into a cell size). Ordered by cell.
    pub fn grappes(&self, bbox: [f64; 4], filter: &Filter, cell: f64) -> Vec<Grappe> {
        let c = self.compile(filter);
        let cell = if cell.is_finite() {
            cell.max(1e-6)
        } else {
            360.0
        };
        let mut cells: HashMap<(i64, i64), Grappe> = HashMap::new();
        self.bbox_visit(&c, bbox, &mut |l| {
            let p = self.lieu_point(l);
            let key = ((p.lat / cell).floor() as i64, (p.lon / cell).floor() as i64);
            let g = cells.entry(key).or_insert(Grappe {
                position: Point { lat: 0.0, lon: 0.0 },
                count: 0,
                lieu: l as usize,
            });
            // Running mean: the group sits among its lieux.
            g.count += 1;
            let n = g.count as f64;
            g.position.lat += (p.lat - g.position.lat) / n;
            g.position.lon += (p.lon - g.position.lon) / n;
            true
        });
        let mut out: Vec<((i64, i64), Grappe)> = cells.into_iter().collect();
        out.sort_unstable_by_key(|(k, _)| *k);
        out.into_iter().map(|(_, g)| g).collect()
    }

    /// How many lieux each département has, by code (positioned or not).
    pub fn departement_counts(&self) -> impl Iterator<Item = (&str, usize)> {
        self.departements.iter().map(|(k, v)| (k.as_str(), v.len()))
    }

    fn lieu_point(&self, l: u32) -> Point {
        self.slot_point[self.lieu_slot[l as usize] as usize]
    }

    /// Positioned lieux passing the filter inside the box, ordered by id, at most
    /// `limit`, after the `cursor` (an id: the `next` of the previous page). The order
    /// does not depend on the tree, so a page follows the previous one even when the
    /// index was rebuilt in between.
    /// `bbox`: `[min_lat, min_lon, max_lat, max_lon]` in degrees, as `in_bbox`.
    pub fn in_bbox_page(
        &self,
        bbox: [f64; 4],
        filter: &Filter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Page {
        let c = self.compile(filter);
        let after = cursor.map_or(0, |id| {
            self.id_order
                .partition_point(|&l| self.lieux[l as usize].id.as_str() <= id)
        }) as u32;
        // The `limit + 1` smallest ranks, to know whether a next page exists.
        let mut kept: BinaryHeap<u32> = BinaryHeap::with_capacity(limit.min(1024) + 2);
        self.bbox_visit(&c, bbox, &mut |l| {
            let r = self.id_rank[l as usize];
            if r >= after && (kept.len() <= limit || r < *kept.peek().unwrap()) {
                kept.push(r);
                if kept.len() > limit.saturating_add(1) {
                    kept.pop();
                }
            }
            true
        });
        let mut ranks = kept.into_sorted_vec();
        let more = ranks.len() > limit;
        ranks.truncate(limit);
        let items: Vec<usize> = ranks
            .into_iter()
            .map(|r| self.id_order[r as usize] as usize)
            .collect();
        let next = match items.last() {
            Some(&last) if more => Some(self.lieux[last].id.to_string()),
            _ => None,
        };
        Page { items, next }
    }

    /// Calls `f` with each lieu passing the filter inside the box (`min_lon > max_lon`
    /// crosses the antimeridian), in slot order, until it returns `false`.
    fn bbox_visit(&self, c: &Compiled, b: [f64; 4], f: &mut dyn FnMut(u32) -> bool) {
        if b[1] > b[3] {
            if self.bbox_walk(c, [b[0], b[1], b[2], 180.0], f) {
                self.bbox_walk(c, [b[0], -180.0, b[2], b[3]], f);
            }
        } else {
            self.bbox_walk(c, b, f);
        }
    }

    /// `false` when `f` asked to stop.
    fn bbox_walk(&self, c: &Compiled, b: [f64; 4], f: &mut dyn FnMut(u32) -> bool) -> bool {
        if self.nodes.is_empty() || b[0] > b[2] {
            return true;
        }
        let (lo, hi) = xyz_bounds(b);
        let mut stack = vec![0u32];
        while let Some(n) = stack.pop() {
            let node = &self.nodes[n as usize];
            if !c.masks_pass(&node.summary)
                || (0..3).any(|i| (node.hi[i] as f64) < lo[i] || node.lo[i] as f64 > hi[i])
            {
                continue;
            }
            if node.left != u32::MAX {
                // Right pushed first: left is walked first, in slot order.
                stack.push(node.right);
                stack.push(node.left);
                continue;
            }
            for s in node.start as usize..node.end as usize {
                let p = self.slot_point[s];
                if p.lat >= b[0]
                    && p.lat <= b[2]
                    && p.lon >= b[1]
                    && p.lon <= b[3]
                    && c.masks_pass(&self.slot_masks[s])
                    && self.rest_pass(c, self.slot_lieu[s])
                    && !f(self.slot_lieu[s])
                {
                    return false;
                }
            }
        }
        true
    }
}

impl ValueTree {
    /// The tree of the lieux at these main-tree slots.
    fn build(slots: &[u32], xyz: &[[f64; 3]], masks: &[[u16; KINDS]]) -> ValueTree {
        let mut items: Vec<([f64; 3], u32)> = slots.iter().map(|&s| (xyz[s as usize], s)).collect();
        let mut nodes = Vec::new();
        build_tree(&mut items, 0, masks, &mut nodes);
        ValueTree {
            nodes,
            xyz: items.iter().map(|(x, _)| *x).collect(),
            masks: items.iter().map(|(_, s)| masks[*s as usize]).collect(),
            slots: items.iter().map(|(_, s)| *s).collect(),
        }
    }
}

/// A box of unit vectors holding every point of a latitude/longitude box.
fn xyz_bounds(b: [f64; 4]) -> ([f64; 3], [f64; 3]) {
    let range = |f: fn(f64) -> f64, a: f64, z: f64, peaks: &[f64]| {
        let (mut lo, mut hi) = (f(a).min(f(z)), f(a).max(f(z)));
        for &p in peaks {
            if a <= p && p <= z {
                lo = lo.min(f(p));
                hi = hi.max(f(p));
            }
        }
        (lo, hi)
    };
    let (la0, la1) = (b[0].to_radians(), b[2].to_radians());
    let (lo0, lo1) = (b[1].to_radians(), b[3].to_radians());
    let half = std::f64::consts::FRAC_PI_2;
    let pi = std::f64::consts::PI;
    let (cl0, cl1) = range(f64::cos, la0, la1, &[0.0]);
    let (co0, co1) = range(f64::cos, lo0, lo1, &[0.0, -pi, pi]);
    let (so0, so1) = range(f64::sin, lo0, lo1, &[-half, half]);
    let (z0, z1) = (la0.sin(), la1.sin());
    let mul = |a: (f64, f64), b: (f64, f64)| {
        let p = [a.0 * b.0, a.0 * b.1, a.1 * b.0, a.1 * b.1];
        (
            p.iter().copied().fold(f64::INFINITY, f64::min),
            p.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let (x0, x1) = mul((cl0, cl1), (co0, co1));
    let (y0, y1) = mul((cl0, cl1), (so0, so1));
    let e = 1e-9;
    ([x0 - e, y0 - e, z0 - e], [x1 + e, y1 + e, z1 + e])
}

/// The largest `f32` at most `x`.
fn f32_below(x: f64) -> f32 {
    let f = x as f32;
    if f as f64 > x { f.next_down() } else { f }
}

/// The smallest `f32` at least `x`.
fn f32_above(x: f64) -> f32 {
    let f = x as f32;
    if (f as f64) < x { f.next_up() } else { f }
}

/// Builds the subtree over `items` (slots `offset..offset + items.len()`), returns its node.
fn build_tree(
    items: &mut [([f64; 3], u32)],
    offset: usize,
    masks: &[[u16; KINDS]],
    nodes: &mut Vec<Node>,
) -> u32 {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    let mut summary = [0u16; KINDS];
    for (x, l) in items.iter() {
        for i in 0..3 {
            lo[i] = lo[i].min(x[i]);
            hi[i] = hi[i].max(x[i]);
        }
        for (s, m) in summary.iter_mut().zip(&masks[*l as usize]) {
            *s |= m;
        }
    }
    let id = nodes.len() as u32;
    nodes.push(Node {
        lo: lo.map(f32_below),
        hi: hi.map(f32_above),
        summary,
        start: offset as u32,
        end: (offset + items.len()) as u32,
        left: u32::MAX,
        right: u32::MAX,
    });
    if items.len() > LEAF {
        let axis = (0..3)
            .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])))
            .unwrap();
        let mid = items.len() / 2;
        items.select_nth_unstable_by(mid, |a, b| a.0[axis].total_cmp(&b.0[axis]));
        let (left, right) = items.split_at_mut(mid);
        let l = build_tree(left, offset, masks, nodes);
        let r = build_tree(right, offset + mid, masks, nodes);
        nodes[id as usize].left = l;
        nodes[id as usize].right = r;
    }
    id
}

// ---------------------------------------------------------------------------------------
// Synthetic lieux, for benchmarks and tests.

/// A small deterministic generator (SplitMix64): reproducible draws without a
/// dependency, for synthetic lieux and files.
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Bits set independently with these probabilities.
    fn bits(&mut self, probabilities: &[f64]) -> u16 {
        let mut b = 0;
        for (i, &p) in probabilities.iter().enumerate() {
            if self.chance(p) {
                b |= 1 << i;
            }
        }
        b
    }
}

// Rough shares of lieux having each value (order of the vocabularies), in the spirit of
// the national data: most offer help with démarches and everyday tools, few list
// specific publics or labels.
const P_SERVICES: [f64; 9] = [0.75, 0.80, 0.35, 0.40, 0.20, 0.20, 0.30, 0.50, 0.05];
const P_PUBLICS: [f64; 5] = [0.15, 0.08, 0.15, 0.20, 0.08];
const P_PRISE_EN_CHARGE: [f64; 7] = [0.05, 0.15, 0.08, 0.12, 0.08, 0.05, 0.05];
const P_MODALITES_ACCES: [f64; 6] = [0.60, 0.60, 0.40, 0.20, 0.02, 0.03];
const P_ACCOMPAGNEMENT: [f64; 4] = [0.30, 0.80, 0.40, 0.15];
const P_DISPOSITIFS: [f64; 11] = [
    0.20, 0.02, 0.05, 0.35, 0.02, 0.15, 0.01, 0.02, 0.03, 0.02, 0.01,
];
const P_LABELS: [f64; 10] = [
    0.05, 0.01, 0.02, 0.005, 0.03, 0.03, 0.005, 0.005, 0.01, 0.01,
];
const HORAIRES: [&str; 6] = [
    "Mo-Fr 09:00-12:00,14:00-17:00",
    "Tu-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00",
    "Mo-Th 08:00-12:00,13:30-17:00; Fr 08:00-12:00",
    "Tu,Th 14:00-18:00",
    "We 09:00-12:00,14:00-18:00; Sa 10:00-12:00",
    "Mo-Sa 09:00-18:00",
];
const NAMES: [&str; 8] = [
    "Espace numérique",
    "France Services",
    "Médiathèque",
    "Centre social",
    "Mairie",
    "Tiers-lieu",
    "Maison de quartier",
    "Point numérique",
];

/// `n` lieux drawn around real communes (chosen with weight √population, within ~3 km
/// of the town hall), with attribute shares set by hand (`P_SERVICES`…: independent
/// bits, guessed, not measured); 5% have no position and 30% no opening hours.
/// Deterministic for a seed. See `synthetic_like` for real distributions.
pub fn synthetic(n: usize, seed: u64, territoires: &TerritoryIndex) -> Vec<IndexedLieu> {
    generate(n, seed, territoires, None)
}

/// `n` lieux placed like `synthetic`'s, each with the attributes (the eight vocabularies
/// and the opening hours) of a lieu of `sample` drawn uniformly: the joint distribution
/// of the real values, correlations included. Deterministic for a seed and a sample.
pub fn synthetic_like(
    n: usize,
    seed: u64,
    territoires: &TerritoryIndex,
    sample: &[IndexedLieu],
) -> Vec<IndexedLieu> {
    generate(n, seed, territoires, (!sample.is_empty()).then_some(sample))
}

fn generate(
    n: usize,
    seed: u64,
    territoires: &TerritoryIndex,
    sample: Option<&[IndexedLieu]>,
) -> Vec<IndexedLieu> {
    let communes: Vec<_> = territoires
        .territoires()
        .communes
        .iter()
        .filter(|c| c.position.is_some() && c.commune_parent.is_none())
        .collect();
    let mut cumulative = Vec::with_capacity(communes.len());
    let mut total = 0.0;
    for c in &communes {
        total += (c.population.max(1) as f64).sqrt();
        cumulative.push(total);
    }
    let horaires: Vec<Horaires> = HORAIRES
        .iter()
        .map(|h| Horaires::parse(h).expect("valid sample hours"))
        .collect();
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let pick = rng.unit() * total;
            let c = communes[cumulative
                .partition_point(|&w| w < pick)
                .min(communes.len() - 1)];
            let centre = c.position.unwrap();
            let (r, a) = (
                3_000.0 * rng.unit().sqrt(),
                rng.unit() * std::f64::consts::TAU,
            );
            let dlat = r * a.sin() / 111_195.0;
            let dlon = r * a.cos() / (111_195.0 * centre.lat.to_radians().cos().max(0.01));
            let position = (!rng.chance(0.05)).then_some(Point {
                lat: centre.lat + dlat,
                lon: centre.lon + dlon,
            });
            let chain = territoires.chain(c.code.as_str());
            let name = format!("{} {}", NAMES[(rng.next_u64() % 8) as usize], c.nom);
            let frais = match rng.unit() {
                x if x < 0.80 => 1,
                x if x < 0.90 => 2,
                _ => 4,
            };
            let mut l = IndexedLieu {
                id: LieuId(format!("synth-{seed}-{i}")),
                location: Location {
                    code_insee: Some(c.code.as_str().to_string()),
                    position,
                    approximate: false,
                },
                code_insee_parent: None,
                arrondissement: None,
                departement: Some(c.departement.clone()),
                epci: chain.and_then(|ch| ch.epci).map(|e| e.code.clone()),
                name_key: search_key(&name),
                text_key: search_key(&format!("{name} {} rue de la Mairie {}", i % 97, c.nom)),
                services: rng.bits(&P_SERVICES),
                publics: rng.bits(&P_PUBLICS),
                prise_en_charge: rng.bits(&P_PRISE_EN_CHARGE),
                frais,
                modalites_acces: rng.bits(&P_MODALITES_ACCES),
                modalites_accompagnement: rng.bits(&P_ACCOMPAGNEMENT),
                dispositifs: rng.bits(&P_DISPOSITIFS),
                formations_labels: rng.bits(&P_LABELS),
                horaires: (!rng.chance(0.30))
                    .then(|| horaires[(rng.next_u64() % HORAIRES.len() as u64) as usize].clone()),
            };
            if let Some(sample) = sample {
                let real = &sample[(rng.next_u64() % sample.len() as u64) as usize];
                l.services = real.services;
                l.publics = real.publics;
                l.prise_en_charge = real.prise_en_charge;
                l.frais = real.frais;
                l.modalites_acces = real.modalites_acces;
                l.modalites_accompagnement = real.modalites_accompagnement;
                l.dispositifs = real.dispositifs;
                l.formations_labels = real.formations_labels;
                l.horaires = real.horaires.clone();
            }
            l
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_boxes_round_outwards() {
        let mut rng = Rng(3);
        for _ in 0..100_000 {
            let x = rng.unit() * 2.0 - 1.0;
            let (lo, hi) = (f32_below(x), f32_above(x));
            assert!((lo as f64) <= x && x <= hi as f64, "{x}");
            assert!(lo == hi || lo.next_up() == hi, "{x}: {lo} {hi}");
        }
        assert_eq!((f32_below(0.5), f32_above(0.5)), (0.5, 0.5));
    }

    #[test]
    fn best_keeps_the_k_nearest_in_order() {
        let mut best = Best::new(3);
        for (d, s) in [(5.0, 1), (1.0, 2), (3.0, 3), (1.0, 0), (4.0, 4), (0.0, 5)] {
            if key(d) < best.bound() {
                best.insert(key(d), s);
            }
        }
        assert_eq!(best.into_found(), vec![(0.0, 5), (1.0, 0), (1.0, 2)]);
        assert_eq!(key(-0.0), key(0.0));
        assert!(key(1e-300) < key(1e-299) && key(2.0) < key(3.0));
    }
}
