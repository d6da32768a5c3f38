//! `Ns`: a test's view of its own network namespace.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use libtest_mimic::Failed;

use super::runner::{ours_path, reference_path};

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

/// How long counters may take to be published.
const COUNTER_WAIT: Duration = Duration::from_secs(30);

/// A little more than the kernel estimator's 2 s period.
const ESTIMATOR_PERIOD: Duration = Duration::from_millis(2500);

/// The per-test context. It lives on the test's thread, which has its own
/// network namespace: every command run through it sees that namespace (and
/// so a fresh, empty IPVS table at the start of the test).
pub struct Ns {
    test: String,
    ours: PathBuf,
    reference: PathBuf,
}

impl Ns {
    pub(super) fn new(test: &str) -> Result<Ns, Failed> {
        let ns = Ns {
            test: test.to_string(),
            ours: ours_path(),
            reference: reference_path(),
        };
        for (what, path) in [("our ipvsadm", &ns.ours), ("ipvsadm 1.31", &ns.reference)] {
            if !path.exists() {
                return Err(format!("{what} not found at {}", path.display()).into());
            }
        }
        Ok(ns)
    }

    /// The test's name.
    pub fn test_name(&self) -> &str {
        &self.test
    }

    /// Path of our binary.
    pub fn ours_path(&self) -> &Path {
        &self.ours
    }

    /// Path of ipvsadm 1.31.
    pub fn reference_path(&self) -> &Path {
        &self.reference
    }

    /// Runs our ipvsadm (argv[0] "ipvsadm").
    pub fn ours<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        run(ipvsadm(&self.ours, args))
    }

    /// Runs ipvsadm 1.31 (argv[0] "ipvsadm", as its messages print argv[0]).
    pub fn reference<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        run(ipvsadm(&self.reference, args))
    }

    /// Runs our ipvsadm with `input` on its stdin (for `-R`).
    pub fn ours_stdin<S: AsRef<OsStr>>(&self, args: &[S], input: &str) -> Output {
        run_with_input(ipvsadm(&self.ours, args), input)
    }

    /// Runs ipvsadm 1.31 with `input` on its stdin (for `-R`).
    pub fn reference_stdin<S: AsRef<OsStr>>(&self, args: &[S], input: &str) -> Output {
        run_with_input(ipvsadm(&self.reference, args), input)
    }

    /// Runs ours or ipvsadm 1.31, with `input` on stdin if given.
    pub fn run_tool<S: AsRef<OsStr>>(
        &self,
        ours: bool,
        args: &[S],
        input: Option<&str>,
    ) -> Output {
        match (ours, input) {
            (true, None) => self.ours(args),
            (true, Some(input)) => self.ours_stdin(args, input),
            (false, None) => self.reference(args),
            (false, Some(input)) => self.reference_stdin(args, input),
        }
    }

    /// Applies `steps` from an empty table with ours, then (after `-C`) with
    /// ipvsadm 1.31, and asserts that every step printed and returned the
    /// same, and that both left the same table (`-Sn`, `-Ln` by 1.31).
    /// Each step is `(args, stdin)`.
    #[track_caller]
    pub fn assert_same_effect(&self, steps: &[(&[&str], Option<&str>)]) {
        let apply = |ours: bool| -> (Vec<Output>, Output, Output) {
            self.flush();
            let outs = steps
                .iter()
                .map(|(args, input)| self.run_tool(ours, args, *input))
                .collect();
            let saved = self.reference_read(&["-Sn"]);
            let listed = self.reference_read(&["-Ln"]);
            (outs, saved, listed)
        };
        let (ours, ours_saved, ours_listed) = apply(true);
        let (reference, ref_saved, ref_listed) = apply(false);
        self.flush();
        for (i, ((args, _), (o, r))) in
            steps.iter().zip(ours.iter().zip(&reference)).enumerate()
        {
            super::assert_same_output(
                &format!("step {}: {}", i + 1, describe(args)),
                o,
                r,
            );
        }
        super::assert_same_output(
            "ipvsadm 1.31 -Sn after the steps",
            &ours_saved,
            &ref_saved,
        );
        super::assert_same_output(
            "ipvsadm 1.31 -Ln after the steps",
            &ours_listed,
            &ref_listed,
        );
    }

    /// Runs both on the current state, once each: `(ours, reference)`. For
    /// read-only commands, or commands that fail without changing anything.
    ///
    /// One read is the table: the kernel resumes a service dump at a
    /// position counted over the services of *every* network namespace, so
    /// a dump is only exact while no other namespace changes its table, and
    /// the runner runs one test at a time for that (see `runner.rs`). A
    /// difference is never read again: it fails.
    pub fn both<S: AsRef<OsStr>>(&self, args: &[S]) -> (Output, Output) {
        (self.ours(args), self.reference(args))
    }

    /// Reads the table with ipvsadm 1.31, once (`args` must not change it):
    /// with no other test running, one read is exact (see [`Ns::both`]).
    pub fn reference_read<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.reference(args)
    }

    /// Runs both and asserts identical stdout, stderr and exit status.
    #[track_caller]
    pub fn assert_same<S: AsRef<OsStr>>(&self, args: &[S]) {
        let (ours, reference) = self.both(args);
        super::assert_same_output(&describe(args), &ours, &reference);
    }

    /// Runs `script` with `sh -c` in this namespace, with `OURS` and
    /// `REFERENCE` set to the two binaries.
    pub fn sh(&self, script: &str) -> Output {
        self.sh_env(script, &[])
    }

    /// [`Ns::sh`] with extra environment variables.
    pub fn sh_env(&self, script: &str, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .env("OURS", &self.ours)
            .env("REFERENCE", &self.reference);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(cmd)
    }

    /// The kernel's `/proc/net/ip_vs` for this namespace (read directly).
    pub fn proc_ip_vs(&self) -> String {
        // /proc/net follows the process's main thread: ask for this thread's.
        std::fs::read_to_string("/proc/thread-self/net/ip_vs")
            .unwrap_or_else(|e| panic!("cannot read /proc/thread-self/net/ip_vs: {e}"))
    }

    /// Does the IPVS table hold no service?
    pub fn table_is_empty(&self) -> bool {
        self.proc_ip_vs().lines().count() <= 3
    }

    /// Empties the table (with ipvsadm 1.31 `-C`) unless it is empty already.
    pub fn flush(&self) {
        if !self.table_is_empty() {
            let out = self.reference(&["-C"]);
            super::assert_ok("ipvsadm -C", &out);
        }
    }

    /// ipvsadm 1.31's `-Ln --stats --exact` once `ready` holds for it,
    /// polled for up to [`COUNTER_WAIT`]: the kernel publishes counters from
    /// its estimator (every 2 s, later on a loaded machine), not at once.
    #[track_caller]
    pub fn await_stats(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let shown = self.reference(&["-Ln", "--stats", "--exact"]);
            let text = String::from_utf8_lossy(&shown.stdout).into_owned();
            if shown.status.success() && ready(&text) {
                return text;
            }
            if started.elapsed() > COUNTER_WAIT {
                panic!(
                    "{what}: not seen within {COUNTER_WAIT:?}; last:\n{}",
                    super::compare::render(&shown)
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until the counters stop moving: two reads of ipvsadm 1.31's
    /// `-Ln --stats --exact` an estimator period apart agree.
    #[track_caller]
    pub fn await_settled_counters(&self) {
        let mut last = self.reference_read(&["-Ln", "--stats", "--exact"]).stdout;
        let started = Instant::now();
        loop {
            std::thread::sleep(ESTIMATOR_PERIOD);
            let now = self.reference_read(&["-Ln", "--stats", "--exact"]).stdout;
            if now == last {
                return;
            }
            if started.elapsed() > COUNTER_WAIT {
                panic!("the counters kept changing for {COUNTER_WAIT:?}");
            }
            last = now;
        }
    }

    /// A name that is unique in this run, for global things such as named
    /// network namespaces (`/run/netns`): `<base><pid>x<counter>`, short
    /// enough for interface names when `base` is.
    pub fn unique(&self, base: &str) -> String {
        let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
        format!("{base}{}x{n}", std::process::id())
    }
}

fn ipvsadm<S: AsRef<OsStr>>(bin: &Path, args: &[S]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg0("ipvsadm").args(args);
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn run_with_input(mut cmd: Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.as_bytes().to_vec();
    // Write from another thread so a chatty child cannot block us.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot wait for {cmd:?}: {e}"));
    let _ = writer.join();
    out
}

/// `ipvsadm ARGS` as a readable line.
pub fn describe<S: AsRef<OsStr>>(args: &[S]) -> String {
    let mut line = String::from("ipvsadm");
    for a in args {
        line.push(' ');
        line.push_str(&a.as_ref().to_string_lossy());
    }
    line
}
