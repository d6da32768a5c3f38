//! README, "How the speed is obtained": `-R` makes "no heap allocation per
//! line", and listings make "none per line or per service". A counting global
//! allocator checks both claims: the same work on N and on 2N lines (or real
//! servers) may differ by at most a small constant number of allocations
//! (buffers that grow by doubling, one batch more), never by something that
//! grows with N.
//!
//! The count is per thread, so tests running in parallel do not disturb
//! each other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::OsString;

use ipvsadm_rs::backend::IpvsBackend;
use ipvsadm_rs::fake::FakeIpvs;
use ipvsadm_rs::model::Info;
use ipvsadm_rs::resolve::FakeResolver;
use ipvsadm_rs::session::{Session, Streams};

/// Counts allocations and reallocations made through the global allocator,
/// per thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count_one() {
    // Not available while the thread is being torn down: not counted then.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations_so_far() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations `f` makes.
fn allocations_of<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = allocations_so_far();
    let value = f();
    (allocations_so_far() - before, value)
}

/// What doubling the work may add: buffers that grow by doubling (the
/// output, the vector of real servers, a sort's scratch space) each
/// reallocate about once more, and a restore sends one more batch (its
/// datagram of up to 1024 requests, and the vector of their results).
const SLACK: u64 = 16;

/// Base sizes: large enough that a per-line allocation (N of them) is far
/// beyond [`SLACK`]; 2N still fits in a few of the restore's batches.
const N: usize = 2000;

#[path = "support/encoding.rs"]
mod encoding;
use encoding::Encoding;

fn info() -> Info {
    Info {
        version: 0x010201,
        conn_tab_size: 4096,
    }
}

/// Runs `ipvsadm ARGS` against `ipvs` with `stdin`; stdout goes to a buffer
/// reserved beforehand (so its growth is not counted). Returns the
/// allocations the run made, its exit status, stdout and stderr.
fn run(
    ipvs: &mut dyn IpvsBackend,
    args: &[&str],
    stdin: &[u8],
) -> (u64, i32, Vec<u8>, Vec<u8>) {
    let names = FakeResolver::new();
    let argv: Vec<OsString> = args.iter().map(OsString::from).collect();
    let invocation =
        ipvsadm_rs::cli::parse_args("ipvsadm", &argv).expect("valid arguments");
    let mut stdout = Vec::with_capacity(4 << 20);
    let mut stderr = Vec::with_capacity(4 << 10);
    let mut input = stdin;
    let (count, status) = allocations_of(|| {
        let mut session = Session {
            ipvs,
            info: info(),
            names: &names,
            conn_file: "/nonexistent".into(),
            argv0: "ipvsadm".into(),
        };
        let mut io = Streams {
            stdin: &mut input,
            stdout: &mut stdout,
            stderr: &mut stderr,
        };
        ipvsadm_rs::dispatch::execute(&mut session, &invocation, &mut io)
            .expect("no output error")
    });
    (count, status, stdout, stderr)
}

/// `-R` of `lines` lines against the encoding backend: its allocations.
fn restore_allocations(lines: &[String]) -> u64 {
    let input = lines.concat();
    let mut backend = Encoding {
        buf: Vec::with_capacity(80 << 10),
        seq: 1,
        requests: 0,
    };
    let (count, status, _, stderr) = run(&mut backend, &["-R"], input.as_bytes());
    assert_eq!(
        (status, String::from_utf8_lossy(&stderr).as_ref()),
        (0, ""),
        "the restore succeeds"
    );
    assert_eq!(backend.requests, lines.len(), "one request per line");
    count
}

/// Asserts that 2N items cost at most [`SLACK`] allocations more than N.
#[track_caller]
fn assert_constant(what: &str, n: u64, two_n: u64) {
    println!("{what}: {n} allocations for {N}, {two_n} for {}", 2 * N);
    assert!(
        two_n <= n + SLACK,
        "{what}: {n} allocations for {N}, {two_n} for {}: {} more for {N} more, \
         where at most {SLACK} (no allocation per line) may be",
        2 * N,
        two_n.saturating_sub(n),
    );
}

/// `-a` lines: one service, then `count` masquerading real servers.
fn real_server_lines(count: usize) -> Vec<String> {
    let mut lines = vec!["-A -t 10.0.0.1:80 -s rr\n".to_string()];
    lines.extend((0..count).map(|i| {
        format!(
            "-a -t 10.0.0.1:80 -r 192.168.{}.{}:8080 -m -w 1\n",
            i / 250,
            i % 250 + 1
        )
    }));
    lines
}

#[test]
fn a_restore_allocates_nothing_per_real_server_line() {
    let n = restore_allocations(&real_server_lines(N));
    let two_n = restore_allocations(&real_server_lines(2 * N));
    assert_constant("-R of -a lines", n, two_n);
}

/// `-A` lines: `count` services, with every option a service line can
/// carry (a scheduler and its flags, persistence, a netmask, a persistence
/// engine), over TCP, UDP, SCTP, IPv6 and fwmarks.
fn service_lines(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let (a, b) = (i / 250, i % 250 + 1);
            match i % 5 {
                0 => format!("-A -t 10.0.{a}.{b}:80 -s rr\n"),
                1 => format!("-A -u 10.0.{a}.{b}:53 -s sh -b sh-port,sh-fallback\n"),
                2 => format!(
                    "-A --sctp-service 10.0.{a}.{b}:5060 -s wlc -p 600 -M 255.255.255.0\n"
                ),
                3 => format!("-A -t [2001:db8::{a}:{b}]:443 -s mh -b mh-port -p\n"),
                _ => format!("-A -f {i} -s lc -p 300 --pe sip\n"),
            }
        })
        .collect()
}

#[test]
fn a_restore_allocates_nothing_per_service_line() {
    let n = restore_allocations(&service_lines(N));
    let two_n = restore_allocations(&service_lines(2 * N));
    assert_constant("-R of -A lines", n, two_n);
}

/// A fake table holding one service with `count` real servers (made by a
/// restore, whose allocations are not counted).
fn table_with_real_servers(count: usize) -> FakeIpvs {
    let mut table = FakeIpvs::default();
    let input = real_server_lines(count).concat();
    let (_, status, _, stderr) = run(&mut table, &["-R"], input.as_bytes());
    assert_eq!((status, String::from_utf8_lossy(&stderr).as_ref()), (0, ""));
    table
}

/// Allocations of `ipvsadm ARGS` listing `table`, which has `real_servers`
/// real servers, all on port 8080 (the fake table answers into the
/// listing's vectors, as the netlink backend decodes into them: what is
/// counted is the listing's own).
fn listing_allocations(mut table: FakeIpvs, args: &[&str], real_servers: usize) -> u64 {
    let (count_run, status, stdout, stderr) = run(&mut table, args, b"");
    assert_eq!(
        (status, String::from_utf8_lossy(&stderr).as_ref()),
        (0, ""),
        "ipvsadm {args:?} succeeds"
    );
    // `addr:8080` in text, `"port":8080` in JSON.
    let listed = String::from_utf8_lossy(&stdout).matches(":8080").count();
    assert_eq!(
        listed, real_servers,
        "ipvsadm {args:?} lists every real server"
    );
    count_run
}

#[test]
fn a_listing_allocates_nothing_per_real_server() {
    // Once first, so that what a first run sets up for good (standard
    // streams, lazily built tables) is not counted.
    listing_allocations(table_with_real_servers(1), &["-Ln"], 1);
    for args in [
        &["-Ln"][..],
        &["-Ln", "--stats", "--exact"],
        &["-Sn"],
        &["-Ln", "-t", "10.0.0.1:80"],
    ] {
        let count_of =
            |count| listing_allocations(table_with_real_servers(count), args, count);
        let (n, two_n) = (count_of(N), count_of(2 * N));
        assert_constant(&format!("ipvsadm {}", args.join(" ")), n, two_n);
    }
}

/// A fake table of `count` services of every kind ([`service_lines`]),
/// each with three real servers added in an order ipvsadm's sort changes
/// (made by a restore, whose allocations are not counted).
fn table_with_services(count: usize) -> FakeIpvs {
    let mut table = FakeIpvs::default();
    let mut input = String::new();
    for (i, line) in service_lines(count).iter().enumerate() {
        input.push_str(line);
        let service = line
            .trim_end()
            .strip_prefix("-A ")
            .and_then(|rest| rest.split(" -s ").next())
            .expect("a service line");
        let ipv6 = service.contains('[');
        for host in [2, 3, 1] {
            let server = if ipv6 {
                format!("[2001:db8:1::{:x}:{host}]", i + 1)
            } else {
                format!("172.16.{}.{host}", i % 250)
            };
            input.push_str(&format!("-a {service} -r {server}:8080 -m -w 1\n"));
        }
    }
    let (_, status, _, stderr) = run(&mut table, &["-R"], input.as_bytes());
    assert_eq!((status, String::from_utf8_lossy(&stderr).as_ref()), (0, ""));
    table
}

#[test]
fn a_listing_allocates_nothing_per_service() {
    for args in [
        &["-Ln"][..],
        &["-Ln", "--stats", "--exact"],
        &["-Ln", "--rate"],
        &["-Sn"],
        &["-Ln", "--json"],
    ] {
        let count_of =
            |count| listing_allocations(table_with_services(count), args, 3 * count);
        count_of(1);
        let (n, two_n) = (count_of(N), count_of(2 * N));
        assert_constant(&format!("ipvsadm {} (services)", args.join(" ")), n, two_n);
    }
}
