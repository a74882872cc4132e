//! The merge of lieux, after each import: the records of one whole commune (with its
//! arrondissements), of any sources, are compared two by two
//! (`relais_domain::lieux::fusion`), pairs judged the same
//! are clustered, each cluster is one lieu, stored under a stable id; uncertain pairs go
//! to a review list; a person's decision (« distincts », « identiques ») always wins.
//!
//! A commune is rebuilt from its records alone, so running the merge again on the same
//! records writes nothing (idempotent), and the order of imports does not change the
//! clusters (only which id they keep, the oldest).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use relais_domain::authz::AdminAccess;
use relais_domain::calendrier::now_ms;
use relais_domain::ids::{LieuId, PersonId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_domain::lieux::fusion::{
    Comparaison, Decision, Fiche, Membre, Origine, Origines, Partition, VOISINAGE_M,
    comparable_pairs, compare, merge, neighbours,
};
use relais_domain::lieux::{SchemaVersion, read_row, write_row};
use relais_domain::territoires::Point;
use relais_domain::territoires::commune_entiere;
use relais_store::journal::JournalFilter;
pub use relais_store::lieux::ReviewItem;
use relais_store::lieux::{
    self as repo, LieuOrigines, MergeBlocks, PairDecision, Record, RecordKey, RecordPlace,
    ReviewPair, Sizes, StoredLieu,
};
use relais_store::{Db, StoreError, Tx};

use super::import::lieu_id;

/// What the merge looks at: a commune, or a record that has none (alone by definition).
/// Records come first: one that left its commune leaves its lieu before the commune is
/// rebuilt, so that the commune's lieu keeps its id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Block {
    Record(RecordKey),
    /// A whole commune: its arrondissements with it (`Block::commune`); or, named after
    /// its smallest code, a group of communes that [`regroup`] joined.
    Commune(String),
}

impl Block {
    /// The block of a record in the commune (or arrondissement) `code_insee`, before
    /// [`regroup`] says which group it is in.
    pub fn commune(code_insee: &str) -> Block {
        Block::Commune(commune_entiere(code_insee).to_string())
    }
}

/// Joins neighbouring communes into one block where a lieu of one, within
/// [`VOISINAGE_M`] of a lieu of the other, looks like it (the rules do not find them
/// different): a place geocoded a few hundred metres off, or given the commune next door
/// by a postal code several communes share. A group takes its smallest code as its name;
/// every record of its communes goes there. Groups are made anew at each merge from the
/// records the database finds near another commune's, so they also part when those lieux
/// do.
///
/// Returns the block of each grouped commune, and the blocks whose records changed.
pub async fn regroup(db: &Db) -> Result<(HashMap<String, String>, BTreeSet<String>), StoreError> {
    let placed = repo::records_near_other_communes(db, VOISINAGE_M).await?;
    let points: Vec<(Point, &str)> = placed
        .iter()
        .map(|r| {
            let p = Point {
                lat: r.latitude,
                lon: r.longitude,
            };
            (p, r.commune.as_str())
        })
        .collect();
    let pairs = neighbours(&points, VOISINAGE_M);
    let keys: BTreeSet<RecordKey> = pairs
        .iter()
        .flat_map(|&(a, b)| [placed[a].key.clone(), placed[b].key.clone()])
        .collect();
    let keys: Vec<RecordKey> = keys.into_iter().collect();
    let recs: HashMap<RecordKey, Rec> = repo::records_by_keys(db, &keys)
        .await?
        .into_iter()
        .map(|r| {
            let key = RecordKey {
                source_id: r.source_id,
                external_id: r.external_id.clone(),
            };
            (key, read(r))
        })
        .collect();
    let mut communes: Vec<&str> = Vec::new();
    let mut links = Vec::new();
    for (a, b) in pairs {
        let (Some(ra), Some(rb)) = (recs.get(&placed[a].key), recs.get(&placed[b].key)) else {
            continue;
        };
        if judge(ra, rb).1 == Decision::Different {
            continue;
        }
        communes.extend([placed[a].commune.as_str(), placed[b].commune.as_str()]);
        links.push((placed[a].commune.as_str(), placed[b].commune.as_str()));
    }
    communes.sort_unstable();
    communes.dedup();
    let at = |c: &str| communes.binary_search(&c).unwrap_or_default();
    let mut partition = Partition::new(communes.len());
    for (x, y) in links {
        partition.union(at(x), at(y));
    }
    let mut wanted: HashMap<String, String> = HashMap::new();
    for group in partition.clusters() {
        let name = group.iter().map(|&i| communes[i]).min().unwrap_or_default();
        for &i in &group {
            wanted.insert(communes[i].to_string(), name.to_string());
        }
    }
    // Move the communes whose block changes: those grouped now, and those grouped before.
    let before = repo::grouped_communes(db).await?;
    let mut moving: BTreeSet<&str> = wanted.keys().map(String::as_str).collect();
    moving.extend(before.iter().map(|(c, _)| c.as_str()));
    let moves: Vec<(&str, &str)> = moving
        .into_iter()
        .map(|c| (c, wanted.get(c).map_or(c, String::as_str)))
        .collect();
    let left = repo::set_blocs(db, &moves).await?;
    let mut touched: BTreeSet<String> = left.into_iter().collect();
    if !touched.is_empty() {
        // The blocks they go to are rebuilt too.
        touched.extend(moves.iter().map(|(_, b)| b.to_string()));
    }
    Ok((wanted, touched))
}

/// What a merge run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Pairs of records judged the same (and not refused).
    pub same_pairs: usize,
    /// Pairs sent to review.
    pub review_pairs: usize,
    /// Lieux made of more than one record.
    pub merged_lieux: usize,
    /// Lieux written (created or changed).
    pub written: usize,
    /// Lieux deleted because their records went to another.
    pub absorbed: usize,
}

impl Outcome {
    fn add(&mut self, o: &Outcome) {
        self.same_pairs += o.same_pairs;
        self.review_pairs += o.review_pairs;
        self.merged_lieux += o.merged_lieux;
        self.written += o.written;
        self.absorbed += o.absorbed;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FusionError {
    #[error("aucun lieu n’a l’identifiant « {0} »")]
    UnknownLieu(LieuId),
    #[error("« {0} » et « {1} » désignent le même lieu")]
    SameLieu(LieuId, LieuId),
    #[error("« {0} » et « {1} » ne sont pas dans la même commune : ils ne seront jamais fusionnés")]
    OtherCommune(LieuId, LieuId),
    #[error("le lieu « {0} » n’a pas de commune : il n’est comparé à aucun autre")]
    NoCommune(LieuId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A record read for the merge.
struct Rec {
    stored: Record,
    row: BTreeMap<String, String>,
    fiche: Fiche,
}

impl Rec {
    fn key(&self) -> RecordKey {
        RecordKey {
            source_id: self.stored.source_id,
            external_id: self.stored.external_id.clone(),
        }
    }
}

/// Whether two records come from one producer: the same file, and the same `source`
/// named in their rows (a hub's file gathers several producers, each named in its rows).
fn same_producer(a: &Rec, b: &Rec) -> bool {
    a.stored.source_id == b.stored.source_id && a.row.get("source") == b.row.get("source")
}

/// The pairs of the block's records worth comparing (`comparable_pairs`).
fn comparable(recs: &[Rec]) -> Vec<(usize, usize)> {
    let fiches: Vec<&Fiche> = recs.iter().map(|r| &r.fiche).collect();
    comparable_pairs(&fiches)
}

/// What the rules say of two records.
fn judge(a: &Rec, b: &Rec) -> (Comparaison, Decision) {
    let c = compare(&a.fiche, &b.fiche);
    let decision = if same_producer(a, b) {
        c.decision_within_source()
    } else {
        c.decision()
    };
    (c, decision)
}

fn read(stored: Record) -> Rec {
    let row: BTreeMap<String, String> = serde_json::from_str(&stored.data).unwrap_or_default();
    let fiche = Fiche::new(&row, stored.location.position, stored.location.approximate);
    Rec { stored, row, fiche }
}

/// A compared pair of records (indices into the block's records).
#[derive(Debug, Clone)]
pub struct Pair {
    pub a: usize,
    pub b: usize,
    pub comparaison: Comparaison,
    /// What the rules say (`judge`).
    pub decision: Decision,
}

/// What the rules and the decisions make of a block's records.
struct Plan {
    clusters: Vec<Vec<usize>>,
    same: Vec<Pair>,
    review: Vec<Pair>,
}

/// The plan of a block: the comparable pairs compared, of one source or two (a source
/// that lists a place twice is the commonest duplicate); the human decisions first, then
/// pairs judged the same by score; a union that would put two records decided distinct in
/// one lieu is refused and the pair is reviewed.
fn plan(recs: &[Rec], decisions: &[PairDecision]) -> Plan {
    let index: HashMap<RecordKey, usize> =
        recs.iter().enumerate().map(|(i, r)| (r.key(), i)).collect();
    let mut decided: HashMap<(usize, usize), bool> = HashMap::new();
    for d in decisions {
        if let (Some(&a), Some(&b)) = (index.get(&d.a), index.get(&d.b)) {
            decided.insert((a.min(b), a.max(b)), d.decision == "same");
        }
    }
    let mut same = Vec::new();
    let mut review = Vec::new();
    for (a, b) in comparable(recs) {
        if decided.contains_key(&(a, b)) {
            continue;
        }
        let (c, decision) = judge(&recs[a], &recs[b]);
        let pair = Pair {
            a,
            b,
            comparaison: c,
            decision,
        };
        match decision {
            Decision::Same => same.push(pair),
            Decision::Review => review.push(pair),
            Decision::Different => {}
        }
    }
    same.sort_by(|p, q| {
        q.comparaison
            .score
            .total_cmp(&p.comparaison.score)
            .then((p.a, p.b).cmp(&(q.a, q.b)))
    });
    let cannot = |x: usize, y: usize| decided.get(&(x.min(y), x.max(y))) == Some(&false);
    let mut partition = Partition::new(recs.len());
    let mut members: Vec<Vec<usize>> = (0..recs.len()).map(|i| vec![i]).collect();
    let mut join = |partition: &mut Partition, a: usize, b: usize, check: bool| -> bool {
        let (ra, rb) = (partition.find(a), partition.find(b));
        if ra == rb {
            return true;
        }
        if check
            && members[ra]
                .iter()
                .any(|&x| members[rb].iter().any(|&y| cannot(x, y)))
        {
            return false;
        }
        partition.union(a, b);
        let root = partition.find(a);
        let moved = std::mem::take(&mut members[if root == ra { rb } else { ra }]);
        members[root].extend(moved);
        true
    };
    let mut human: Vec<(usize, usize)> = decided
        .iter()
        .filter(|(_, s)| **s)
        .map(|(k, _)| *k)
        .collect();
    human.sort();
    for (a, b) in human {
        join(&mut partition, a, b, false);
    }
    let mut kept = Vec::new();
    for p in same {
        if join(&mut partition, p.a, p.b, true) {
            kept.push(p);
        } else {
            review.push(p);
        }
    }
    review.sort_by_key(|p| (p.a, p.b));
    Plan {
        clusters: partition.clusters(),
        same: kept,
        review,
    }
}

/// What a pair's comparison found, in French, for the review list.
pub fn details(c: &Comparaison) -> String {
    use relais_domain::lieux::fusion::{AccordAdresse, AccordNom};
    let mut out = vec![
        format!(
            "nom : {}",
            match c.nom {
                AccordNom::Inclus => "même nom",
                AccordNom::Proche => "nom proche",
                AccordNom::Autre => "autre nom",
                AccordNom::Inconnu if c.nom_identique => "même nom générique",
                AccordNom::Inconnu => "non comparable",
            }
        ),
        format!(
            "adresse : {}",
            match c.adresse {
                AccordAdresse::MemeAdresse => "même adresse",
                AccordAdresse::MemeRue => "même rue",
                AccordAdresse::AutreNumero => "même rue, autre numéro",
                AccordAdresse::AutreRue => "autre rue",
                AccordAdresse::Inconnu => "non comparable",
            }
        ),
        match c.distance_m {
            Some(d) => format!("distance : {d:.0} m"),
            None => "distance : inconnue".to_string(),
        },
    ];
    for (yes, what) in [
        (c.siret, "même SIRET"),
        (c.siren == Some(true) && !c.siret, "même SIREN"),
        (c.siren == Some(false), "autre SIREN"),
        (c.telephone, "même téléphone"),
        (c.courriel, "même courriel"),
        (c.domaine, "même domaine de courriel"),
        (c.site, "même site web"),
        (c.france_services, "France Services des deux côtés"),
    ] {
        if yes {
            out.push(what.to_string());
        }
    }
    out.join(" ; ")
}

/// Reads a block's records (sorted by source name and row id) and its decisions.
async fn load(tx: &mut Tx, block: &Block) -> Result<(Vec<Rec>, Vec<PairDecision>), StoreError> {
    match block {
        Block::Commune(code) => {
            let mut recs = repo::commune_records(tx, code).await?;
            by_source(&mut recs);
            let recs = recs.into_iter().map(read).collect();
            Ok((recs, repo::decisions(tx, code).await?))
        }
        Block::Record(k) => Ok((
            repo::record(tx, k).await?.into_iter().map(read).collect(),
            Vec::new(),
        )),
    }
}

/// Records in the merge's order: by source name and row id.
fn by_source(recs: &mut [Record]) {
    recs.sort_by(|a, b| (&a.source, &a.external_id).cmp(&(&b.source, &b.external_id)));
}

/// A block's records, decisions and the sizes of its records' lieux: from the batch
/// when no earlier block changed them, else read again.
async fn load_in(
    tx: &mut Tx,
    block: &Block,
    batch: &mut Batch,
) -> Result<(Vec<Rec>, Vec<PairDecision>, Sizes), StoreError> {
    if let Block::Commune(code) = block {
        let fresh = batch
            .records
            .get(code)
            .is_none_or(|rs| rs.iter().all(|r| !batch.touched.contains(&r.lieu_id)));
        if fresh {
            let stored = batch.records.remove(code).unwrap_or_default();
            let sizes = stored
                .iter()
                .filter_map(|r| Some((r.lieu_id.clone(), *batch.sizes.get(&r.lieu_id)?)))
                .collect();
            return Ok((
                stored.into_iter().map(read).collect(),
                batch.decisions.remove(code).unwrap_or_default(),
                sizes,
            ));
        }
    }
    batch.flush(tx).await?;
    let (recs, decisions) = load(tx, block).await?;
    let sizes = match block {
        Block::Commune(code) => repo::lieu_sizes_of_commune(tx, code).await?,
        Block::Record(_) => match recs.first() {
            Some(r) => {
                let id = &r.stored.lieu_id;
                Sizes::from([(id.clone(), repo::lieu_size(tx, id).await?)])
            }
            None => Sizes::new(),
        },
    };
    Ok((recs, decisions, sizes))
}

/// Blocks rebuilt per transaction: each commit writes the pages it changed, and a records
/// page holds rows of many communes, so fewer commits write fewer pages (200 blocks took
/// 13–14 s of merge in the 100,000-row benchmark, 2,500 take 10–11 s). The records of
/// 2,500 communes are held in memory: a tenth of a national file.
const BLOCKS_PER_TX: usize = 2500;

/// Which lieux of the blocks the merge builds again.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Every lieu, compared with what is stored and written only if it differs (after a
    /// change of the rules).
    All,
    /// Lieux whose records change (one joins, one leaves) and those named here (one of
    /// their records changed its values); the others are as their records make them.
    Changed(&'a HashSet<LieuId>),
}

impl Scope<'_> {
    /// Whether the cluster `members`, given the id `id`, is the lieu already stored: the
    /// same records and none changed.
    fn unchanged(&self, id: &LieuId, members: &[usize], recs: &[Rec], sizes: &Sizes) -> bool {
        match self {
            Scope::All => false,
            Scope::Changed(stale) => {
                !stale.contains(id)
                    && sizes.get(id) == Some(&(members.len() as i64))
                    && members
                        .iter()
                        .all(|&i| recs[i].stored.lieu_id == *id && recs[i].stored.lieu_written)
            }
        }
    }
}

/// Rebuilds the lieux of `blocks` (communes as [`Block::commune`] names them; a block is
/// never split between transactions), after [`regroup`].
pub async fn refresh(
    db: &Db,
    blocks: &BTreeSet<Block>,
    scope: Scope<'_>,
) -> Result<Outcome, StoreError> {
    if blocks.is_empty() {
        return Ok(Outcome::default());
    }
    let (groups, touched) = regroup(db).await?;
    let blocks: BTreeSet<Block> = blocks
        .iter()
        .map(|b| match b {
            Block::Commune(c) => Block::Commune(groups.get(c).unwrap_or(c).clone()),
            record => record.clone(),
        })
        .chain(touched.into_iter().map(Block::Commune))
        .collect();
    let mut total = Outcome::default();
    let blocks: Vec<&Block> = blocks.iter().collect();
    for chunk in blocks.chunks(BLOCKS_PER_TX) {
        let mut tx = db.begin().await?;
        let mut batch = Batch::load(&mut tx, chunk, scope).await?;
        for block in chunk {
            let o = refresh_block(&mut tx, block, &mut batch, scope).await?;
            total.add(&o);
        }
        batch.flush(&mut tx).await?;
        relais_store::commit(tx).await?;
    }
    Ok(total)
}

/// What the blocks of one transaction read, in a few queries for all their communes, and
/// the lieux they write, held to be written many per statement. A block reads the
/// database itself when an earlier block of the batch changed what it would read (a lieu
/// of its records, or one it writes), so each block sees what it would alone.
#[derive(Default)]
struct Batch {
    records: HashMap<String, Vec<Record>>,
    decisions: HashMap<String, Vec<PairDecision>>,
    sizes: Sizes,
    review: HashMap<String, Vec<ReviewPair>>,
    /// Lieux read ahead (`Scope::All` only): those of the records and those their own ids
    /// name (absent: `None`).
    lieux: HashMap<LieuId, Option<LieuOrigines>>,
    /// Lieux written, deleted, or whose records changed, since the batch was read.
    touched: HashSet<LieuId>,
    /// Writes held to be done many per statement: lieux to write, records to move
    /// (record, new lieu), lieux absorbed (old id, new id); `queued` holds the lieu ids
    /// they name.
    lieux_out: Vec<LieuOrigines>,
    moves: Vec<(RecordKey, LieuId)>,
    absorbed: Vec<(LieuId, LieuId)>,
    queued: HashSet<LieuId>,
}

impl Batch {
    async fn load(tx: &mut Tx, blocks: &[&Block], scope: Scope<'_>) -> Result<Batch, StoreError> {
        let codes: Vec<String> = blocks
            .iter()
            .filter_map(|b| match b {
                Block::Commune(code) => Some(code.clone()),
                Block::Record(_) => None,
            })
            .collect();
        let mut batch = Batch::default();
        if codes.is_empty() {
            return Ok(batch);
        }
        let mut ids: HashSet<LieuId> = HashSet::new();
        let mut of_records: BTreeSet<LieuId> = BTreeSet::new();
        for r in repo::records_of_communes(tx, &codes).await? {
            // A lieu not written yet is a new record's own: that record alone names it.
            if r.lieu_written {
                of_records.insert(r.lieu_id.clone());
            } else {
                batch.sizes.insert(r.lieu_id.clone(), 1);
            }
            ids.insert(r.lieu_id.clone());
            ids.insert(lieu_id(&r.source, &r.external_id));
            let bloc = r.bloc.clone().unwrap_or_default();
            batch.records.entry(bloc).or_default().push(r);
        }
        batch.decisions = repo::decisions_of_communes(tx, &codes).await?;
        let of_records: Vec<LieuId> = of_records.into_iter().collect();
        batch.sizes.extend(repo::lieu_sizes(tx, &of_records).await?);
        for recs in batch.records.values_mut() {
            by_source(recs);
        }
        batch.review = repo::review_of_communes(tx, &codes).await?;
        if let Scope::Changed(_) = scope {
            return Ok(batch);
        }
        let ids: Vec<LieuId> = ids.into_iter().collect();
        batch.lieux = ids.iter().map(|id| (id.clone(), None)).collect();
        for l in repo::lieux_for_update(tx, &ids).await? {
            batch.lieux.insert(l.lieu.id.clone(), Some(l));
        }
        Ok(batch)
    }

    /// Does the writes held: before any other write or read of the database. A lieu
    /// written is no longer another's former id; records move once their lieu is written
    /// and before the lieu they leave is deleted.
    async fn flush(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        if !self.lieux_out.is_empty() {
            let ids: Vec<&LieuId> = self.lieux_out.iter().map(|l| &l.lieu.id).collect();
            repo::delete_aliases(tx, &ids).await?;
            repo::put_merged_lieux(tx, &self.lieux_out, now_ms()).await?;
        }
        if !self.moves.is_empty() {
            repo::set_records_lieux(tx, &self.moves).await?;
        }
        if !self.absorbed.is_empty() {
            let olds: Vec<LieuId> = self.absorbed.iter().map(|(old, _)| old.clone()).collect();
            repo::delete_lieux(tx, &olds).await?;
            repo::put_aliases(tx, &self.absorbed, now_ms()).await?;
        }
        self.lieux_out.clear();
        self.moves.clear();
        self.absorbed.clear();
        self.queued.clear();
        Ok(())
    }

    /// The lieu `id` as it is now in the database.
    async fn lieu(&mut self, tx: &mut Tx, id: &LieuId) -> Result<Option<LieuOrigines>, StoreError> {
        match self.lieux.get(id) {
            Some(l) if !self.touched.contains(id) => Ok(l.clone()),
            _ => {
                self.flush(tx).await?;
                repo::lieu_for_update(tx, id).await
            }
        }
    }

    /// Holds a block's writes; those of earlier blocks are done first if they name one of
    /// the same lieux (the order of the writes then matters).
    async fn queue(
        &mut self,
        tx: &mut Tx,
        lieux: Vec<LieuOrigines>,
        moves: Vec<(RecordKey, LieuId)>,
        absorbed: Vec<(LieuId, LieuId)>,
    ) -> Result<(), StoreError> {
        let ids: Vec<LieuId> = lieux
            .iter()
            .map(|l| l.lieu.id.clone())
            .chain(moves.iter().map(|m| m.1.clone()))
            .chain(absorbed.iter().flat_map(|(o, n)| [o.clone(), n.clone()]))
            .collect();
        if ids.iter().any(|id| self.queued.contains(id)) {
            self.flush(tx).await?;
        }
        self.touched.extend(ids.iter().cloned());
        self.queued.extend(ids);
        self.lieux_out.extend(lieux);
        self.moves.extend(moves);
        self.absorbed.extend(absorbed);
        Ok(())
    }
}

/// Rebuilds every lieu from its records.
pub async fn refresh_all(db: &Db) -> Result<Outcome, StoreError> {
    let MergeBlocks { communes, alone } = repo::merge_blocks(db).await?;
    let blocks: BTreeSet<Block> = communes
        .into_iter()
        .map(Block::Commune)
        .chain(alone.into_iter().map(Block::Record))
        .collect();
    refresh(db, &blocks, Scope::All).await
}

/// A possible id for a cluster: (age of that lieu, whether the id was made from another
/// cluster's record, id); the smallest wins.
type Candidate = (Age, bool, LieuId);

/// How old a record's lieu is, the oldest smallest: (not written yet, creation time). A
/// lieu written is older than any not written (a new record's, whose import may fall in
/// the same millisecond as the merge that wrote the other).
type Age = (bool, i64);

fn age(r: &Record) -> Age {
    (!r.lieu_written, r.lieu_created_at)
}

async fn refresh_block(
    tx: &mut Tx,
    block: &Block,
    batch: &mut Batch,
    scope: Scope<'_>,
) -> Result<Outcome, StoreError> {
    let now = now_ms();
    let (recs, decisions, sizes) = load_in(tx, block, batch).await?;
    if recs.is_empty() {
        // A block left empty (its commune joined a group, or the group parted): its pairs
        // to review went with its records.
        if let Block::Commune(code) = block
            && batch
                .review
                .remove(code)
                .is_some_and(|pairs| !pairs.is_empty())
        {
            repo::replace_review(tx, code, &[], now).await?;
        }
        return Ok(Outcome::default());
    }
    let plan = plan(&recs, &decisions);
    // A lieu that also holds records outside this block (one moved to another commune)
    // keeps its id only for the cluster holding the record it was made from.
    let mut inside: HashMap<&LieuId, i64> = HashMap::new();
    for r in &recs {
        *inside.entry(&r.stored.lieu_id).or_default() += 1;
    }
    let shared: HashSet<LieuId> = sizes
        .iter()
        .filter(|(id, n)| inside.get(id).is_some_and(|k| *n > k))
        .map(|(id, _)| id.clone())
        .collect();
    let mut outcome = Outcome {
        same_pairs: plan.same.len(),
        review_pairs: plan.review.len(),
        ..Outcome::default()
    };

    // Stable ids: each cluster keeps the oldest lieu one of its records was attached to
    // (then its records' own ids); a lieu id goes to one cluster only.
    let mut ordered: Vec<(Vec<Candidate>, Vec<usize>)> = plan
        .clusters
        .iter()
        .map(|c| {
            let mut members = c.clone();
            // The record imported first, then by source and row id, wins ties between
            // equal dates: an order merging does not change, so merging again writes
            // nothing.
            members.sort_by_key(|&x| (recs[x].stored.imported_at, x));
            let own: Vec<LieuId> = members
                .iter()
                .map(|&i| lieu_id(&recs[i].stored.source, &recs[i].stored.external_id))
                .collect();
            // Between two clusters that were one lieu, the one holding the record the id
            // was made from keeps it.
            let mut candidates: Vec<Candidate> = members
                .iter()
                .map(|&i| {
                    let id = &recs[i].stored.lieu_id;
                    (age(&recs[i].stored), !own.contains(id), id.clone())
                })
                .collect();
            candidates.sort();
            candidates.extend(own.into_iter().map(|id| ((true, i64::MAX), false, id)));
            (candidates, members)
        })
        .collect();
    ordered.sort_by(|a, b| a.0[0].cmp(&b.0[0]));
    let mut taken: HashSet<LieuId> = HashSet::new();
    let mut assigned: Vec<(LieuId, Vec<usize>)> = Vec::new();
    for (candidates, members) in ordered {
        let id = candidates
            .iter()
            .find(|(_, foreign, id)| {
                let elsewhere = *foreign && shared.contains(id);
                !taken.contains(id) && !elsewhere
            })
            .map(|(_, _, id)| id.clone())
            .unwrap_or_else(|| {
                let keys: Vec<String> = members
                    .iter()
                    .map(|&i| {
                        format!(
                            "{}\u{1f}{}",
                            recs[i].stored.source, recs[i].stored.external_id
                        )
                    })
                    .collect();
                lieu_id("fusion", &keys.join("\u{1e}"))
            });
        taken.insert(id.clone());
        assigned.push((id, members));
    }

    let mut lieux = Vec::new();
    for (id, members) in &assigned {
        if members.len() > 1 {
            outcome.merged_lieux += 1;
        }
        if scope.unchanged(id, members, &recs, &sizes) {
            continue;
        }
        let built = build(id, members, &recs);
        let same = match scope {
            Scope::All => batch.lieu(tx, id).await?.is_some_and(|l| {
                LieuOrigines {
                    lieu: StoredLieu {
                        updated_at: 0,
                        ..l.lieu
                    },
                    ..l
                } == built
            }),
            // Built because something changed.
            Scope::Changed(_) => false,
        };
        if !same {
            lieux.push(built);
            outcome.written += 1;
        }
    }
    // Records change lieu; a lieu all of whose records left is deleted, and answers with
    // the lieu they went to.
    let mut moves = Vec::new();
    let mut previous: BTreeMap<&LieuId, &LieuId> = BTreeMap::new();
    let mut moved_from: HashMap<&LieuId, i64> = HashMap::new();
    for (id, members) in &assigned {
        for &i in members {
            let r = &recs[i];
            if r.stored.lieu_id != *id {
                previous.entry(&r.stored.lieu_id).or_insert(id);
                moves.push((r.key(), id.clone()));
                *moved_from.entry(&r.stored.lieu_id).or_default() += 1;
            }
        }
    }
    let chosen: HashSet<&LieuId> = assigned.iter().map(|(id, _)| id).collect();
    // A new record's own id, never written, answers too: a record is named by it.
    let absorbed: Vec<(LieuId, LieuId)> = previous
        .iter()
        .filter(|(old, _)| !chosen.contains(*old) && sizes.get(**old) == moved_from.get(*old))
        .map(|(old, new)| ((*old).clone(), (*new).clone()))
        .collect();
    outcome.absorbed += absorbed.len();
    // The lieux they leave are touched too: a later block holding them reads them again.
    batch
        .touched
        .extend(previous.keys().map(|id| (*id).clone()));
    batch.queue(tx, lieux, moves, absorbed).await?;

    if let Block::Commune(code) = block {
        let mut pairs: Vec<ReviewPair> = plan
            .review
            .iter()
            .map(|p| ReviewPair {
                a: recs[p.a].key(),
                b: recs[p.b].key(),
                score: p.comparaison.score,
                details: details(&p.comparaison),
            })
            .collect();
        pairs.sort_by(|x, y| (&x.a, &x.b).cmp(&(&y.a, &y.b)));
        // Read ahead with the batch's communes; only this block writes it.
        if batch.review.remove(code).unwrap_or_default() != pairs {
            repo::replace_review(tx, code, &pairs, now).await?;
        }
    }
    Ok(outcome)
}

/// The lieu one record makes alone: `lieu` (its row as stored, written through the schema
/// by the import, with its commune and position) and the source of each of its `fields`
/// but an unknown pivot (no value). What [`build_merged`] makes of the record (a test
/// checks it on real files) without reading the row again through the schema.
fn alone<'a>(
    source: &str,
    fields: impl Iterator<Item = (&'a str, &'a str)>,
    mut lieu: StoredLieu,
) -> LieuOrigines {
    use relais_domain::lieux::valeurs::PIVOT_UNKNOWN;
    let given: Vec<&str> = fields
        .filter(|(k, v)| !(*k == "pivot" && *v == PIVOT_UNKNOWN))
        .map(|(k, _)| k)
        .collect();
    let provenance: BTreeMap<&str, &str> = given.iter().map(|k| (*k, source)).collect();
    let origine = [Origine {
        source: source.to_string(),
        date_maj: lieu.date_maj.trim().to_string(),
    }];
    let origines = Origines::new(given.iter().map(|k| (*k, &origine[..])));
    lieu.provenance = serde_json::to_string(&provenance).expect("serializes");
    LieuOrigines {
        lieu,
        origines: Some(serde_json::to_string(&origines).expect("serializes")),
    }
}

/// The lieu a cluster makes: its records merged, the merged row read back through the
/// schema (lists in the vocabularies' order), and the origins of each field.
fn build(id: &LieuId, members: &[usize], recs: &[Rec]) -> LieuOrigines {
    if let [only] = members {
        let r = &recs[*only];
        let lieu = StoredLieu {
            id: id.clone(),
            data: r.stored.data.clone(),
            provenance: String::new(),
            location: r.stored.location.clone(),
            date_maj: r.row.get("date_maj").cloned().unwrap_or_default(),
            updated_at: 0,
        };
        let fields = r.row.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        return alone(&r.stored.source, fields, lieu);
    }
    build_merged(id, members, recs)
}

/// [`build`] through the merge, whatever the number of records.
fn build_merged(id: &LieuId, members: &[usize], recs: &[Rec]) -> LieuOrigines {
    let membres: Vec<Membre<'_>> = members
        .iter()
        .map(|&i| Membre {
            source: &recs[i].stored.source,
            row: &recs[i].row,
            exact: !recs[i].stored.location.approximate,
        })
        .collect();
    let fusion = merge(&membres);
    let row: BTreeMap<String, String> = match read_row(&fusion.row, SchemaVersion::V1) {
        Ok(reading) => write_row(&reading.lieu)
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        // Every record was read by the schema, so their merge reads too; if not, as merged.
        Err(_) => fusion.row.clone(),
    };
    let provenance: BTreeMap<&str, &str> = row
        .keys()
        .filter_map(|k| {
            Some((
                k.as_str(),
                fusion.provenance.get(k)?.first()?.source.as_str(),
            ))
        })
        .collect();
    let origines = Origines::new(
        row.keys()
            .filter_map(|k| Some((k.as_str(), fusion.provenance.get(k)?.as_slice()))),
    );
    let placed = &recs[members[fusion.position_de]];
    let stored = StoredLieu {
        id: id.clone(),
        data: serde_json::to_string(&row).expect("a row serializes"),
        provenance: serde_json::to_string(&provenance).expect("serializes"),
        location: placed.stored.location.clone(),
        date_maj: row.get("date_maj").cloned().unwrap_or_default(),
        updated_at: 0,
    };
    LieuOrigines {
        lieu: stored,
        origines: Some(serde_json::to_string(&origines).expect("serializes")),
    }
}

/// A person's decision on two lieux.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not the same place: never merged.
    Distinct,
    /// The same place, whatever the scores.
    Same,
}

impl Verdict {
    /// The stored value (`fusion_decisions.decision`, the journal's details).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Distinct => "distinct",
            Verdict::Same => "same",
        }
    }
}

/// The records an id designates: the record whose own id it is (a lieu absorbed by a
/// merge), else every record of the lieu.
async fn designated(db: &Db, id: &LieuId) -> Result<Vec<RecordPlace>, FusionError> {
    let current = repo::resolve_id(db, id)
        .await?
        .ok_or_else(|| FusionError::UnknownLieu(id.clone()))?;
    let records = repo::lieu_records(db, &current).await?;
    let names: BTreeMap<_, _> = repo::sources(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.nom))
        .collect();
    let own: Vec<RecordPlace> = records
        .iter()
        .filter(|r| {
            names
                .get(&r.key.source_id)
                .is_some_and(|n| lieu_id(n, &r.key.external_id) == *id)
        })
        .cloned()
        .collect();
    Ok(if own.is_empty() { records } else { own })
}

/// Records a decision on the lieux `a` and `b` (ids or former ids) and merges their
/// commune again; the journal names no person (an operator's command).
pub async fn decide(
    db: &Db,
    a: &LieuId,
    b: &LieuId,
    verdict: Verdict,
) -> Result<Outcome, FusionError> {
    record(db, None, a, b, verdict).await
}

/// The same, taken by an administrator, whom the journal names.
pub async fn decide_as(
    db: &Db,
    admin: &AdminAccess,
    a: &LieuId,
    b: &LieuId,
    verdict: Verdict,
) -> Result<Outcome, FusionError> {
    record(db, Some(admin.person()), a, b, verdict).await
}

async fn record(
    db: &Db,
    actor: Option<PersonId>,
    a: &LieuId,
    b: &LieuId,
    verdict: Verdict,
) -> Result<Outcome, FusionError> {
    let (ra, rb) = (designated(db, a).await?, designated(db, b).await?);
    if ra.iter().any(|x| rb.iter().any(|y| x.key == y.key)) {
        return Err(FusionError::SameLieu(a.clone(), b.clone()));
    }
    let mut communes = BTreeSet::new();
    let mut tx = db.begin().await?;
    let now = now_ms();
    for x in &ra {
        for y in &rb {
            let code = match (&x.bloc, &y.bloc) {
                (Some(p), Some(q)) if p == q => p.clone(),
                (None, _) => return Err(FusionError::NoCommune(a.clone())),
                (_, None) => return Err(FusionError::NoCommune(b.clone())),
                _ => return Err(FusionError::OtherCommune(a.clone(), b.clone())),
            };
            let (first, second) = if x.key < y.key {
                (&x.key, &y.key)
            } else {
                (&y.key, &x.key)
            };
            repo::put_decision(
                &mut tx,
                &PairDecision {
                    a: first.clone(),
                    b: second.clone(),
                    decision: verdict.as_str().to_string(),
                },
                &code,
                now,
            )
            .await?;
            communes.insert(Block::Commune(code));
        }
    }
    let mut entry = NewEntry::new(JournalAction::FusionDecided, "lieu", a.as_str()).with_details(
        serde_json::json!({ "a": a, "b": b, "verdict": verdict.as_str() }).to_string(),
    );
    if let Some(person) = actor {
        entry = entry.by(person, None);
    }
    relais_store::journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(refresh(db, &communes, Scope::Changed(&HashSet::new())).await?)
}

/// A record in one line for a person: `nom — adresse, code postal commune`.
pub fn summary(data: &str) -> String {
    let row: BTreeMap<String, String> = serde_json::from_str(data).unwrap_or_default();
    let get = |f: &str| row.get(f).map_or("", String::as_str);
    format!(
        "{} — {}, {} {}",
        get("nom"),
        get("adresse"),
        get("code_postal"),
        get("commune")
    )
}

/// The pairs a person should look at, highest score first.
pub async fn review(db: &Db) -> Result<Vec<ReviewItem>, StoreError> {
    repo::review(db).await
}

/// A decision taken on a pair, as the journal keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastDecision {
    pub at: i64,
    /// Who took it: a person's name, or the operator's command.
    pub auteur: String,
    pub a: NamedLieu,
    pub b: NamedLieu,
    pub verdict: Verdict,
}

/// A lieu by the id a decision gave and its current name (the id may be an absorbed one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedLieu {
    pub id: LieuId,
    pub nom: String,
}

/// The latest `limit` decisions, newest first, with who took them and the lieux' names.
pub async fn past_decisions(
    db: &Db,
    admin: &AdminAccess,
    limit: u32,
) -> Result<Vec<PastDecision>, StoreError> {
    let filter = JournalFilter {
        action: Some(JournalAction::FusionDecided),
        ..JournalFilter::default()
    };
    let entries = crate::comptes::journal_for_admin(db, admin, &filter, limit).await?;
    let mut people: HashMap<PersonId, String> = HashMap::new();
    let mut names: HashMap<LieuId, String> = HashMap::new();
    let mut out = Vec::new();
    for e in entries {
        let details: BTreeMap<String, String> =
            serde_json::from_str(&e.content.details).unwrap_or_default();
        let get = |k: &str| details.get(k).cloned().unwrap_or_default();
        let auteur = match e.content.actor {
            None => "commande relais lieux".to_string(),
            Some(id) => match people.get(&id) {
                Some(n) => n.clone(),
                None => {
                    let n = relais_store::comptes::person(db, id).await?.map_or_else(
                        || format!("personne n° {id}"),
                        |p| format!("{} {}", p.given_name, p.family_name),
                    );
                    people.insert(id, n.clone());
                    n
                }
            },
        };
        let a = named(db, &mut names, LieuId(get("a"))).await?;
        let b = named(db, &mut names, LieuId(get("b"))).await?;
        let verdict = if get("verdict") == Verdict::Same.as_str() {
            Verdict::Same
        } else {
            Verdict::Distinct
        };
        out.push(PastDecision {
            at: e.at,
            auteur,
            a,
            b,
            verdict,
        });
    }
    Ok(out)
}

/// A lieu's name by its current record; its id when it has none any more.
async fn named(
    db: &Db,
    known: &mut HashMap<LieuId, String>,
    id: LieuId,
) -> Result<NamedLieu, StoreError> {
    if let Some(nom) = known.get(&id) {
        return Ok(NamedLieu {
            nom: nom.clone(),
            id,
        });
    }
    let nom = repo::lieu_or_alias(db, &id)
        .await?
        .and_then(|l| {
            serde_json::from_str::<BTreeMap<String, String>>(&l.data)
                .ok()?
                .remove("nom")
        })
        .unwrap_or_else(|| id.to_string());
    known.insert(id.clone(), nom.clone());
    Ok(NamedLieu { id, nom })
}

/// One compared pair, for measuring the rules.
#[derive(Debug, Clone)]
pub struct Measured {
    pub code_insee: String,
    pub a: (String, BTreeMap<String, String>),
    pub b: (String, BTreeMap<String, String>),
    pub comparaison: Comparaison,
    /// Judged the same and merged.
    pub merged: bool,
    /// What the rules alone say (a pair judged the same can still be refused by a
    /// person's « distincts »).
    pub decision: Decision,
}

/// Every pair the merge judged the same or sent to review (`all`: and those judged
/// different), commune by commune, without writing anything: what `docs/DATA.md` measures.
pub async fn measure(db: &Db, all: bool) -> Result<Vec<Measured>, StoreError> {
    let communes = repo::merge_blocks(db).await?.communes;
    let mut out = Vec::new();
    for code in communes {
        let mut tx = db.begin().await?;
        let (recs, decisions) = load(&mut tx, &Block::Commune(code.clone())).await?;
        relais_store::commit(tx).await?;
        let plan = plan(&recs, &decisions);
        let side = |i: usize| (recs[i].stored.source.clone(), recs[i].row.clone());
        for (pairs, merged) in [(&plan.same, true), (&plan.review, false)] {
            for p in pairs {
                out.push(Measured {
                    code_insee: code.clone(),
                    a: side(p.a),
                    b: side(p.b),
                    comparaison: p.comparaison.clone(),
                    merged,
                    decision: p.decision,
                });
            }
        }
        if all {
            for (a, b) in comparable(&recs) {
                let (c, decision) = judge(&recs[a], &recs[b]);
                if decision == Decision::Different {
                    out.push(Measured {
                        code_insee: code.clone(),
                        a: side(a),
                        b: side(b),
                        comparaison: c,
                        merged: false,
                        decision: Decision::Different,
                    });
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relais_domain::lieux::Location;
    use relais_domain::territoires::Point;

    /// A record alone makes through [`single`] what it makes through the merge: checked
    /// on every row of the real files shipped (v0.1 and v1, with their oddities).
    #[test]
    fn single_record_as_through_the_merge() {
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/lieux/");
        let read_file = |p: &str| std::fs::read(format!("{data}{p}")).unwrap();
        let carto = super::super::mapping::Mapping::parse(
            &String::from_utf8(read_file("mappings/carto-2020.toml")).unwrap(),
        )
        .unwrap();
        let mut files = vec![(
            "hinaura-2022-v0.json".to_string(),
            super::super::fichier::read(&read_file("hinaura-2022-v0.json"), true).unwrap(),
        )];
        for entry in std::fs::read_dir(format!("{data}carto-2020")).unwrap() {
            let name = format!(
                "carto-2020/{}",
                entry.unwrap().file_name().to_string_lossy()
            );
            let raw = super::super::fichier::read(&read_file(&name), false).unwrap();
            files.push((name, carto.apply(&raw, "carto").unwrap()));
        }
        let mut checked = 0;
        for (path, raw) in &files {
            let version = SchemaVersion::detect(raw.columns.iter().map(String::as_str));
            for r in &raw.rows {
                let Ok(reading) = read_row(&r.fields, version) else {
                    continue;
                };
                let row: BTreeMap<String, String> = write_row(&reading.lieu)
                    .into_iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.to_string(), v))
                    .collect();
                let rec = read(Record {
                    source_id: relais_domain::ids::SourceId(1),
                    source: "producteur".into(),
                    external_id: reading.lieu.id.clone(),
                    lieu_id: LieuId("l".into()),
                    data: serde_json::to_string(&row).unwrap(),
                    location: Location {
                        code_insee: Some("69123".into()),
                        position: Some(Point {
                            lat: 45.75,
                            lon: 4.85,
                        }),
                        approximate: false,
                    },
                    lieu_created_at: 0,
                    lieu_written: true,
                    imported_at: 0,
                    bloc: Some("69123".into()),
                });
                let recs = [rec];
                assert_eq!(
                    build(&LieuId("l".into()), &[0], &recs),
                    build_merged(&LieuId("l".into()), &[0], &recs),
                    "{path} ligne {}",
                    r.line
                );
                checked += 1;
            }
        }
        assert!(checked > 1_500, "{checked} lignes comparées");
    }
}
