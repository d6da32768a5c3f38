//! measure: runs a command and prints its wall time, user and system CPU
//! time (seconds) and peak resident memory (KiB), from wait4(2)'s rusage:
//!
//!     measure [-i FILE] [-o FILE] [-r FILE] -- CMD [ARGS...]
//!     -> "wall=1.234567 user=0.100000 sys=0.900000 maxrss=2345 status=0"
//!
//! The line goes to stderr, or is appended to the -r FILE. stdin/stdout of
//! CMD are redirected from/to FILE when given; its stderr is inherited.
//! The exit status is CMD's. Built by tests/lab/bench with plain rustc (no crates):
//!     rustc -O --target x86_64-unknown-linux-musl measure.rs
use std::fs::File;
use std::io::Write;
use std::process::{Command, Stdio, exit};
use std::time::Instant;

#[repr(C)]
struct Timeval {
    sec: i64,
    usec: i64,
}

#[repr(C)]
struct Rusage {
    utime: Timeval,
    stime: Timeval,
    maxrss: i64,
    rest: [i64; 13],
}

unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
}

fn secs(t: &Timeval) -> f64 {
    t.sec as f64 + t.usec as f64 / 1e6
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut input, mut output, mut report) = (None, None, None);
    loop {
        match args.next().as_deref() {
            Some("-i") => input = args.next(),
            Some("-o") => output = args.next(),
            Some("-r") => report = args.next(),
            Some("--") => break,
            _ => {
                eprintln!("usage: measure [-i FILE] [-o FILE] [-r FILE] -- CMD [ARGS...]");
                exit(2);
            }
        }
    }
    let argv: Vec<String> = args.collect();
    if argv.is_empty() {
        eprintln!("measure: no command");
        exit(2);
    }
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    if let Some(f) = input {
        cmd.stdin(Stdio::from(File::open(f).expect("measure: open input")));
    }
    if let Some(f) = output {
        cmd.stdout(Stdio::from(File::create(f).expect("measure: create output")));
    }
    let start = Instant::now();
    let child = cmd.spawn().unwrap_or_else(|e| {
        eprintln!("measure: cannot run {}: {e}", argv[0]);
        exit(127)
    });
    let mut status = 0i32;
    let mut ru: Rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as i32;
    let r = unsafe { wait4(pid, &mut status, 0, &mut ru) };
    let wall = start.elapsed().as_secs_f64();
    if r != pid {
        eprintln!("measure: wait4 failed");
        exit(125);
    }
    // Exit status, or 128 + signal.
    let code = if status & 0x7f == 0 { (status >> 8) & 0xff } else { 128 + (status & 0x7f) };
    let line = format!(
        "wall={wall:.6} user={:.6} sys={:.6} maxrss={} status={code}\n",
        secs(&ru.utime),
        secs(&ru.stime),
        ru.maxrss
    );
    match report {
        Some(f) => {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(f)
                .expect("measure: open report");
            f.write_all(line.as_bytes()).expect("measure: write report");
        }
        None => eprint!("{line}"),
    }
    exit(code);
}
