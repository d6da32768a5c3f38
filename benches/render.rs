//! Rendering a table of 1000 services with 10 real servers each, built in
//! memory: the `-Ln` text, `-Ln --stats`, the `-Sn` save format and JSON;
//! and at 10,000 x 10 (the lab's largest table) `-Ln`, JSON, one
//! `--watch` tick of deltas and one `--watch --json` line.
//!
//! `cargo bench --bench render`

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipvsadm_rs::listing::ListFormat;
use ipvsadm_rs::model::{Info, ServiceEntry};
use ipvsadm_rs::output::{save, text};
use ipvsadm_rs::render::json;
use ipvsadm_rs::resolve::FakeResolver;
use ipvsadm_rs::watch::{RateTracker, TickHeader, write_tick};

const SERVICES: u32 = 1_000;
const INFO: Info = Info {
    version: 0x010201,
    conn_tab_size: 4096,
};
const DESTS_PER_SERVICE: u32 = 10;

fn render(c: &mut Criterion) {
    let table = common::table(SERVICES, DESTS_PER_SERVICE);
    let names = FakeResolver::new();
    let numeric = ListFormat {
        numeric: true,
        ..ListFormat::default()
    };
    let stats = ListFormat {
        stats: true,
        ..numeric
    };
    let mut out = Vec::with_capacity(4 << 20);

    let mut group = c.benchmark_group("render 1k x 10");
    group.throughput(Throughput::Elements(u64::from(
        SERVICES * (1 + DESTS_PER_SERVICE),
    )));
    group.bench_function("-Ln", |b| {
        b.iter(|| {
            out.clear();
            text::write_table(&mut out, Some(&INFO), &table, &numeric, &names)
                .expect("writing to memory");
            black_box(out.len())
        });
    });
    group.bench_function("-Ln --stats", |b| {
        b.iter(|| {
            out.clear();
            text::write_table(&mut out, Some(&INFO), &table, &stats, &names)
                .expect("writing to memory");
            black_box(out.len())
        });
    });
    group.bench_function("-Sn", |b| {
        b.iter(|| {
            out.clear();
            save::write_save(&mut out, &table, true, &names).expect("writing to memory");
            black_box(out.len())
        });
    });
    group.bench_function("--json", |b| {
        b.iter(|| {
            out.clear();
            write_json(&mut out, &table, false);
            black_box(out.len())
        });
    });
    group.finish();
}

/// The `-L --json` document of `table`, as the listing writes it.
fn write_json(out: &mut Vec<u8>, table: &[ServiceEntry], pretty: bool) {
    // Nothing fails: a table in memory serialized into memory.
    let _ = json::serialize_into(out, &json::table(&INFO, table), pretty);
}

const BIG_SERVICES: u32 = 10_000;

/// The lab benchmark's largest table: `--json` against `-Ln`, and one
/// `--watch` tick's deltas against the previous tick.
fn render_big(c: &mut Criterion) {
    let table = common::table(BIG_SERVICES, DESTS_PER_SERVICE);
    let names = FakeResolver::new();
    let numeric = ListFormat {
        numeric: true,
        ..ListFormat::default()
    };
    let mut out = Vec::with_capacity(64 << 20);

    let mut group = c.benchmark_group("render 10k x 10");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(
        BIG_SERVICES * (1 + DESTS_PER_SERVICE),
    )));
    group.bench_function("-Ln", |b| {
        b.iter(|| {
            out.clear();
            text::write_table(&mut out, Some(&INFO), &table, &numeric, &names)
                .expect("writing to memory");
            black_box(out.len())
        });
    });
    group.bench_function("--json", |b| {
        b.iter(|| {
            out.clear();
            write_json(&mut out, &table, false);
            black_box(out.len())
        });
    });
    group.bench_function("--json --pretty", |b| {
        b.iter(|| {
            out.clear();
            write_json(&mut out, &table, true);
            black_box(out.len())
        });
    });
    // Two ticks that differ in every counter, the tracker warmed up.
    let next: Vec<ServiceEntry> = table
        .iter()
        .cloned()
        .map(|mut e| {
            e.service.stats.conns += 5;
            for d in &mut e.dests {
                d.stats.conns += 1;
            }
            e
        })
        .collect();
    group.bench_function("--watch tick deltas", |b| {
        let mut tracker = RateTracker::default();
        let start = Instant::now();
        let mut at = start;
        tracker.update(&table, at);
        let mut flip = false;
        b.iter(|| {
            at += Duration::from_millis(100);
            flip = !flip;
            let tick = if flip { &next } else { &table };
            black_box(tracker.update(tick, at).len())
        });
    });
    group.bench_function("--watch --json tick", |b| {
        let mut tracker = RateTracker::default();
        let mut at = Instant::now();
        let header = |tick| TickHeader {
            tick,
            timestamp: "2026-11-25T09:41:07.123Z",
            interval_ms: Some(100),
            info: &INFO,
        };
        out.clear();
        write_tick(&mut out, header(1), &table, &mut tracker, at).expect("to memory");
        let mut flip = false;
        b.iter(|| {
            at += Duration::from_millis(100);
            flip = !flip;
            let tick = if flip { &next } else { &table };
            out.clear();
            write_tick(&mut out, header(2), tick, &mut tracker, at).expect("to memory");
            black_box(out.len())
        });
    });
    group.finish();
}

criterion_group!(benches, render, render_big);
criterion_main!(benches);
