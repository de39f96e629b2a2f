//! Planning a batch at once must give exactly what planning its entries one at a time gives:
//! the same status-map root, the same stored statuses and the same index, list and feed
//! rows. The reference is the mirror indexer run one entry per write (a batch of one has
//! nothing to fold), over the same mixed entries: licences and penalties of a few subjects
//! (so subjects repeat inside a batch), list entries, objections and withdrawals of listed
//! records.
//!
//! `planned_append_phases` (ignored) times the planned append phase by phase:
//! `cargo test --release --workspace --test planned_batch -- --ignored --nocapture`
//! (`CREDX_PLANNED_ENTRIES`, default 100,000; `CREDX_PLANNED_DELTA`, default 16,384).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::open;
use credx_protocol::entry::{Entry, EntryRef, Event, SubjectId, WithdrawalKind, ENVELOPE_VERSION};
use credx_protocol::ident::Uscc;
use credx_protocol::merkle::{leaf_hash, Hash};
use credx_protocol::record::enums::{CreditSeverity, SubjectCategory};
use credx_protocol::record::list_entry::{ListKind, ListStatus, ListSubject, Measure, Unit};
use credx_protocol::record::raw::parse_json_records;
use credx_protocol::record::{ListEntry, Record, RecordDate};
use credx_protocol::validate::{validate_raw, ValidationContext};
use credx_storage::{
    index_mirror, AppendBatch, BatchPlanner, EntryLocation, EntryPlanner, FeedStore, IndexStore,
    LogRole, LogStore, PlanView, PlannedEntry, RocksStorage, StatusStore,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ORIGIN: &str = "440106.credx";
const DIVISION: &str = "440106";

fn uscc(kind: &str, serial: u64) -> String {
    Uscc::complete(&format!("{kind}{DIVISION}PDY{:05}", serial % 100_000)).unwrap()
}

/// Entries of one county's log, built from the validated fixture records.
struct Generator {
    licence: Record,
    penalty: Record,
    /// List entries written so far: (subject serial, where).
    listed: Vec<(u64, EntryRef)>,
    entries: Vec<Vec<u8>>,
}

impl Generator {
    fn new() -> Generator {
        let bytes = include_bytes!("../../protocol/tests/fixtures/records/samples.json").to_vec();
        let ctx = ValidationContext::new(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
        let mut records = parse_json_records(&bytes)
            .unwrap()
            .into_iter()
            .map(|raw| validate_raw(&raw.unwrap(), &ctx).record.unwrap());
        let licence = records.next().unwrap();
        let penalty = records.next().unwrap();
        assert!(matches!(licence, Record::Licence(_)));
        Generator {
            licence,
            penalty,
            listed: Vec::new(),
            entries: Vec::new(),
        }
    }

    fn push(&mut self, entry: &Entry) -> EntryRef {
        let bytes = entry.encode().unwrap().into_bytes();
        let at = EntryRef {
            origin: ORIGIN.to_owned(),
            index: self.entries.len() as u64,
            leaf_hash: leaf_hash(&bytes),
        };
        self.entries.push(bytes);
        at
    }

    fn record_entry(&mut self, record: Record, n: u64) {
        let entry = Entry::for_record(ORIGIN, "dept", 1_780_000_000_000 + n, record, None);
        self.push(&entry);
    }

    fn licence(&mut self, serial: u64, n: u64) {
        let mut record = self.licence.clone();
        if let Record::Licence(l) = &mut record {
            l.uscc = Some(uscc("91", serial));
            l.subject_name = format!("示例建材有限公司-{serial}");
            // Repeats of a document number supersede the earlier entry (business key).
            l.document_no = format!("示许字〔2026〕第{}号", n % 97);
        }
        self.record_entry(record, n);
    }

    fn penalty(&mut self, n: u64) {
        let record = self.penalty.clone();
        self.record_entry(record, n);
    }

    fn list_entry(&mut self, serial: u64, n: u64) {
        let unit = Unit {
            name: format!("示例市场监管局{DIVISION}"),
            uscc: uscc("11", 52),
        };
        let list = ListEntry {
            kind: if n.is_multiple_of(2) {
                ListKind::SeriouslyDishonest
            } else {
                ListKind::RedList
            },
            subject: ListSubject {
                name: format!("示例建材有限公司-{serial}"),
                category: SubjectCategory::Organisation,
                code: uscc("91", serial),
            },
            determining_unit: unit.clone(),
            basis: "《严重违法失信名单管理办法》第X条（示例）".into(),
            document_no: format!("示认〔2026〕{n}号"),
            reason: "示例事由".into(),
            listed_on: RecordDate(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()),
            valid_until: Some(RecordDate(NaiveDate::from_ymd_opt(2029, 6, 1).unwrap())),
            severity: Some(CreditSeverity::Serious),
            status: ListStatus::Active,
            removed_on: None,
            removal_reason: None,
            measures: vec![Measure {
                code: "M02".into(),
                text: "限制参与政府采购（示例）".into(),
                legal_basis: "示例".into(),
            }],
            remedy: "可依法申请信用修复".into(),
            source_unit: unit,
        };
        let entry = Entry::for_record(
            ORIGIN,
            "dept",
            1_780_000_000_000 + n,
            Record::ListEntry(list),
            None,
        );
        let at = self.push(&entry);
        self.listed.push((serial, at));
    }

    fn lifecycle(&mut self, pick: usize, objection: bool, n: u64) {
        if self.listed.is_empty() {
            return;
        }
        let (serial, target) = self.listed[pick % self.listed.len()].clone();
        let event = if objection {
            Event::ObjectionOpened {
                objection_id: format!("O{n}"),
                target,
                grounds: "示例异议".into(),
                suspends_measures: n.is_multiple_of(2),
            }
        } else {
            Event::RecordWithdrawn {
                target,
                kind: WithdrawalKind::Revoked,
                reason: "示例撤销".into(),
            }
        };
        let entry = Entry {
            version: ENVELOPE_VERSION,
            origin: ORIGIN.to_owned(),
            authority: Some(uscc("11", 52)),
            submitted_by: "dept".into(),
            subject: Some(SubjectId::Organisation(uscc("91", serial))),
            business_key: None,
            accepted_at_ms: 1_780_000_000_000 + n,
            event,
        };
        self.push(&entry);
    }

    /// `n` entries over `subjects` subjects, kinds drawn from `rng`.
    fn mixed(n: usize, subjects: u64, rng: &mut StdRng) -> Vec<Vec<u8>> {
        let mut g = Generator::new();
        for i in 0..n as u64 {
            let serial = rng.gen_range(0..subjects);
            match rng.gen_range(0..10u32) {
                0..=4 => g.licence(serial, i),
                5 => g.penalty(i),
                6 | 7 => g.list_entry(serial, i),
                8 => g.lifecycle(rng.gen_range(0..usize::MAX), true, i),
                _ => g.lifecycle(rng.gen_range(0..usize::MAX), false, i),
            }
        }
        g.entries
    }

    /// `n` licences over `subjects` subjects, in order (the sync benchmark's shape).
    fn licences(n: usize, subjects: u64) -> Vec<Vec<u8>> {
        let mut g = Generator::new();
        for i in 0..n as u64 {
            g.licence(i % subjects, i);
        }
        g.entries
    }
}

/// A store with `entries` in the mirror log `ORIGIN`, not yet indexed.
fn mirror_with(dir: &std::path::Path, entries: &[Vec<u8>]) -> Arc<RocksStorage> {
    let store = open(dir);
    store.register_log(ORIGIN, LogRole::Mirror).unwrap();
    for (i, chunk) in entries.chunks(4_096).enumerate() {
        let batch = AppendBatch {
            entries: chunk.to_vec(),
            ..AppendBatch::default()
        };
        store.append(ORIGIN, (i * 4_096) as u64, batch).unwrap();
    }
    store
}

/// A mirror holding `entries`, indexed in writes of at most `step` entries.
fn indexed(entries: &[Vec<u8>], step: u64) -> (tempfile::TempDir, Arc<RocksStorage>) {
    let dir = tempfile::tempdir().unwrap();
    let store = mirror_with(dir.path(), entries);
    index_in_steps(&store, step);
    (dir, store)
}

/// Indexes the whole mirror in writes of at most `step` entries.
fn index_in_steps(store: &RocksStorage, step: u64) {
    while index_mirror(store, ORIGIN, step).unwrap() > 0 {}
    assert_eq!(
        store.indexed_size(ORIGIN).unwrap(),
        store.log_size(ORIGIN).unwrap()
    );
}

/// Everything the planned state consists of, read back through the public API.
#[derive(Debug, PartialEq, Eq)]
struct Derived {
    root: Hash,
    statuses: Vec<Option<Vec<u8>>>,
    subject_rows: Vec<Vec<EntryLocation>>,
    list_members: Vec<(String, EntryLocation)>,
    business_keys: Vec<Option<EntryLocation>>,
    feed: Vec<EntryLocation>,
}

/// Every business key the entries name, once each.
fn business_keys_of(entries: &[Vec<u8>]) -> Vec<String> {
    let mut keys: Vec<String> = entries
        .iter()
        .filter_map(|e| {
            Entry::decode(e)
                .unwrap()
                .business_key
                .map(|k| k.to_string())
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn derived(store: &RocksStorage, subjects: u64, business_keys: &[String]) -> Derived {
    let ids: Vec<SubjectId> = (0..subjects)
        .map(|s| SubjectId::Organisation(uscc("91", s)))
        .collect();
    let mut list_members = Vec::new();
    for kind in ["seriously-dishonest", "red-list"] {
        for m in store.list_members(kind, None, 10_000).unwrap() {
            list_members.push((m.member, m.entry));
        }
    }
    Derived {
        root: store.status_root().unwrap(),
        statuses: ids
            .iter()
            .map(|id| store.subject_status(&id.map_key()).unwrap())
            .collect(),
        subject_rows: ids
            .iter()
            .map(|id| store.entries_for_subject(id, None, 10_000).unwrap())
            .collect(),
        list_members,
        business_keys: business_keys
            .iter()
            .map(|key| store.latest_for_business_key(key).unwrap())
            .collect(),
        feed: store.feed_page(0, 100_000).unwrap(),
    }
}

fn assert_batched_equals_one_by_one(entries: &[Vec<u8>], subjects: u64, steps: &[u64]) {
    let keys = business_keys_of(entries);
    let (_one, reference) = indexed(entries, 1);
    let expected = derived(&reference, subjects, &keys);
    assert_ne!(expected.root, Hash([0; 32]));
    assert_eq!(index_mirror(&*reference, ORIGIN, 1).unwrap(), 0);
    for &step in steps {
        let (_dir, store) = indexed(entries, step);
        let got = derived(&store, subjects, &keys);
        assert_eq!(got.root, expected.root, "status root, batches of {step}");
        assert_eq!(got, expected, "derived state, batches of {step}");
    }
}

#[test]
fn a_batch_is_planned_as_its_entries_one_at_a_time() {
    let mut rng = StdRng::seed_from_u64(7);
    let entries = Generator::mixed(600, 12, &mut rng);
    // The mix exercises every planned effect: lists, feed rows, superseded business keys.
    let (_dir, store) = indexed(&entries, 600);
    let state = derived(&store, 12, &business_keys_of(&entries));
    assert!(!state.list_members.is_empty() && !state.feed.is_empty());
    assert!(state.business_keys.iter().any(Option::is_some));
    assert!(state.statuses.iter().all(Option::is_some));
    assert_batched_equals_one_by_one(&entries, 12, &[600, 64, 7]);
}

#[test]
fn random_mixes_and_splits_agree_with_one_entry_at_a_time() {
    for seed in 0..12u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let n = rng.gen_range(1..160usize);
        let subjects = rng.gen_range(1..9u64);
        let entries = Generator::mixed(n, subjects, &mut rng);
        let step = rng.gen_range(2..200u64);
        assert_batched_equals_one_by_one(&entries, subjects, &[step, n as u64]);
    }
}

#[test]
fn a_batch_over_a_populated_map_agrees_with_one_entry_at_a_time() {
    // First half indexed, then the second half in one batch: statuses read from the store
    // and folded with the batch's own entries.
    let mut rng = StdRng::seed_from_u64(99);
    let entries = Generator::mixed(400, 30, &mut rng);
    let (_one, reference) = indexed(&entries, 1);
    let dir = tempfile::tempdir().unwrap();
    let store = mirror_with(dir.path(), &entries);
    let half = entries.len() as u64 / 2;
    assert_eq!(index_mirror(&*store, ORIGIN, half).unwrap(), half);
    let rest = entries.len() as u64 - half;
    assert_eq!(index_mirror(&*store, ORIGIN, 1_000).unwrap(), rest);
    let keys = business_keys_of(&entries);
    assert_eq!(derived(&store, 30, &keys), derived(&reference, 30, &keys));
}

/// Phases of one planned append, as the sync benchmark splits them.
#[derive(Default, Debug)]
struct Phases {
    leaves: Duration,
    plan: Duration,
    status: Duration,
    write: Duration,
}

/// CPU time of this thread so far (`/proc/thread-self/schedstat`, nanoseconds): on a
/// shared machine it says what a phase costs, where wall time also counts waiting for a
/// core (and for fsync).
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = text
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

#[test]
#[ignore = "timing; run with --ignored --nocapture"]
fn planned_append_phases() {
    let var = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let n = var("CREDX_PLANNED_ENTRIES", 100_000);
    let delta = var("CREDX_PLANNED_DELTA", 16_384);
    let entries = Generator::licences(n, 100_000);
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.register_log(ORIGIN, LogRole::Mirror).unwrap();
    let planner = EntryPlanner::new(ORIGIN);
    let mut phases = Phases::default();
    let mut cpu = Phases::default();
    let mut size = 0u64;
    let (mut node_writes, mut node_deletes, mut values, mut index_rows) = (0, 0, 0, 0);
    for chunk in entries.chunks(delta) {
        let batch = chunk.to_vec();
        let c0 = thread_cpu();
        let t0 = Instant::now();
        let leaves: Vec<Hash> = batch.iter().map(|e| leaf_hash(e)).collect();
        let t1 = Instant::now();
        let c1 = thread_cpu();
        let planned: Vec<PlannedEntry<'_>> = (0..batch.len())
            .map(|i| PlannedEntry {
                bytes: &batch[i],
                leaf_hash: leaves[i],
            })
            .collect();
        let plan = planner
            .plan(&planned, size, &PlanView::new(&*store))
            .unwrap();
        drop(planned);
        let t2 = Instant::now();
        let c2 = thread_cpu();
        let status = store.plan_status_update(&plan.status).unwrap();
        let t3 = Instant::now();
        let c3 = thread_cpu();
        node_writes += status.node_writes.len();
        node_deletes += status.node_deletes.len();
        values += status.values.len();
        index_rows += plan.index.subjects.len()
            + plan.index.business_keys.len()
            + plan.index.lists.len()
            + plan.index.feed.len()
            + plan.index.cases.len();
        let status = Some(status);
        let out = store
            .append(
                ORIGIN,
                size,
                AppendBatch {
                    entries: batch,
                    leaf_hashes: None,
                    expected_root: None,
                    index: plan.index,
                    status,
                    cursor: None,
                    checkpoint: None,
                },
            )
            .unwrap();
        let t4 = Instant::now();
        let c4 = thread_cpu();
        cpu.leaves += c1 - c0;
        cpu.plan += c2 - c1;
        cpu.status += c3 - c2;
        cpu.write += c4 - c3;
        phases.leaves += t1 - t0;
        phases.plan += t2 - t1;
        phases.status += t3 - t2;
        phases.write += t4 - t3;
        size = out.new_size;
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "planned append of {n} entries in deltas of {delta}, µs/entry: leaf hashes {:.2}, plan {:.2}, status {:.2}, write {:.2}, total {:.2}",
        us(phases.leaves),
        us(phases.plan),
        us(phases.status),
        us(phases.write),
        us(phases.leaves + phases.plan + phases.status + phases.write)
    );
    println!(
        "thread CPU, µs/entry: leaf hashes {:.2}, plan {:.2}, status {:.2}, write {:.2}, total {:.2}",
        us(cpu.leaves),
        us(cpu.plan),
        us(cpu.status),
        us(cpu.write),
        us(cpu.leaves + cpu.plan + cpu.status + cpu.write)
    );
    let per = |count: usize| count as f64 / n as f64;
    println!(
        "rows per entry: status nodes written {:.2}, deleted {:.2}, status values {:.2}, index rows {:.2}",
        per(node_writes),
        per(node_deletes),
        per(values),
        per(index_rows)
    );
}
