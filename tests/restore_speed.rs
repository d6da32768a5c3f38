//! The user-space cost of a large `-R` without a kernel: a 110,000-line
//! restore (10,000 services with 10 real servers each) checked, parsed
//! again and encoded into netlink requests, with the time and the number
//! of heap allocations it takes. It runs in every `cargo test` (once, in a
//! debug build), so it cannot rot; for a meaningful time run it optimized:
//!
//! `cargo test --release --test restore_speed -- --nocapture`
//!
//! It measures; the claim that a restore allocates nothing per line is
//! asserted by `tests/allocations.rs`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ipvsadm_rs::model::Info;
use ipvsadm_rs::resolve::FakeResolver;
use ipvsadm_rs::restore;
use ipvsadm_rs::session::{Session, Streams};

/// Counts allocations (and reallocations) made through the global allocator.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SERVICES: u32 = 10_000;
const DESTS_PER_SERVICE: u32 = 10;
/// Best of 5 when optimized; once in a debug build (which only checks that
/// the whole restore goes through).
const RUNS: usize = if cfg!(debug_assertions) { 1 } else { 5 };

/// The benchmark's rule set, as `-S` would write it.
fn input() -> Vec<u8> {
    let mut text = String::new();
    for i in 0..SERVICES {
        let vip = format!("10.{}.{}.{}:80", i >> 16, (i >> 8) & 0xff, i & 0xff);
        text.push_str(&format!("-A -t {vip} -s rr\n"));
        for n in 1..=DESTS_PER_SERVICE {
            text.push_str(&format!("-a -t {vip} -r 192.168.0.{n}:8080 -m -w 1\n"));
        }
    }
    text.into_bytes()
}

#[path = "support/encoding.rs"]
mod encoding;
use encoding::Encoding;

/// One whole restore; returns its time, its allocations and the number of
/// requests encoded.
fn restore_once(input: &[u8]) -> (Duration, u64, usize) {
    let names = FakeResolver::new();
    let mut backend = Encoding {
        buf: Vec::with_capacity(80 << 10),
        seq: 1,
        requests: 0,
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut stdin = input;
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    let status = {
        let mut session = Session {
            ipvs: &mut backend,
            info: Info {
                version: 0x010201,
                conn_tab_size: 4096,
            },
            names: &names,
            conn_file: "/nonexistent".into(),
            argv0: "ipvsadm".into(),
        };
        let mut io = Streams {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
        };
        restore::run(
            &mut session,
            false,
            &mut io,
            ipvsadm_rs::dispatch::execute_command,
        )
        .expect("no output error")
    };
    let elapsed = start.elapsed();
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations;
    assert_eq!((status, String::from_utf8_lossy(&stderr).as_ref()), (0, ""));
    (elapsed, allocations, backend.requests)
}

#[test]
fn restore_of_110k_lines() {
    let input = input();
    let lines = input.iter().filter(|b| **b == b'\n').count();
    let mut best = Duration::MAX;
    let mut allocations = 0;
    for _ in 0..RUNS {
        let (elapsed, allocs, requests) = restore_once(&input);
        assert_eq!(requests, lines);
        best = best.min(elapsed);
        allocations = allocs;
    }
    println!(
        "restore of {lines} lines (parse, check, parse again, encode): \
         best of {RUNS}: {:.1} ms, {allocations} allocations ({:.1} per line)",
        best.as_secs_f64() * 1000.0,
        allocations as f64 / lines as f64
    );
}
