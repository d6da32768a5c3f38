//! Rendering a table of 1000 services with 10 real servers each, built in
//! memory: the `-Ln` text, `-Ln --stats`, the `-Sn` save format and JSON.
//!
//! `cargo bench --bench render`

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipvsadm_rs::cli::ListFormat;
use ipvsadm_rs::model::Info;
use ipvsadm_rs::output::names::FakeResolver;
use ipvsadm_rs::output::{save, text};
use ipvsadm_rs::render::json;

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
            json::write(&mut out, &json::table(&INFO, &table), false)
                .expect("writing to memory");
            black_box(out.len())
        });
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
