//! The differential suite: hundreds of command lines, each run by ipvsadm
//! 1.31 and by ours from the same starting table, compared on stdout,
//! stderr, exit status and the kernel state they leave behind (read by 1.31
//! with `-Sn`, `-Ln --thresholds`, `-Ln --tun-info`, `-L --timeout` and
//! `-L --daemon`, see [`STATE_VIEWS`]).
//!
//! The cases live in `cases.txt` (its header describes the format). Each
//! kernel test runs the cases of one `section` of that file. A test owns two
//! network namespaces, one for each tool, so both results stay in place side
//! by side. Every command and every state read runs once: a difference
//! fails at once (no other test runs meanwhile, see `support/runner.rs`).

mod cases;

use std::cell::Cell;
use std::os::fd::OwnedFd;
use std::process::Output;

use nix::sched::{CloneFlags, setns, unshare};

use crate::support::compare::{panic_text, render};
use crate::support::ns::describe;
use crate::support::{Ns, TestResult, Trial, assert_same_output};
use cases::{Case, Expect, Kind};

/// The suite must keep at least this many cases, and this many error cases.
const MIN_CASES: usize = 250;
const MIN_ERROR_CASES: usize = 80;

/// How 1.31 reads the state a command left behind. 1.31 runs listings
/// inside a restore, so one `ipvsadm-1.31 -R` with these lines reads them
/// all (one process instead of five: the VM emulates its CPU).
const STATE_VIEWS: &str =
    "-Sn\n-Ln --thresholds\n-Ln --tun-info\n-L --timeout\n-L --daemon\n";

macro_rules! section_tests {
    ($($section:ident),* $(,)?) => {
        /// The sections of `cases.txt`, each run by the kernel test of its name.
        const SECTIONS: &[&str] = &[$(stringify!($section)),*];
        $(
            fn $section(ns: &Ns) -> TestResult {
                run_section(ns, stringify!($section))
            }
        )*
        pub fn tests() -> Vec<Trial> {
            let mut tests = kernel_tests![$($section),*];
            tests.push(crate::support::kernel_test(
                "differential::suite_is_large_enough",
                suite_is_large_enough,
            ));
            tests
        }
    };
}

section_tests![
    commands,
    legality,
    values,
    services,
    servers,
    listing,
    names,
    ipv6_fwmark_sctp,
    tunnels,
    restore_save,
    timeouts_daemons,
];

/// Counted from the data, so removing cases makes this fail; also checks that
/// every section of the data has its kernel test.
fn suite_is_large_enough(_ns: &Ns) -> TestResult {
    let cases = cases::parse(cases::DATA)?;
    let errors = cases.iter().filter(|c| c.kind == Kind::Error).count();
    if cases.len() < MIN_CASES || errors < MIN_ERROR_CASES {
        return Err(format!(
            "the differential suite has {} cases ({errors} error cases); it needs at \
             least {MIN_CASES} ({MIN_ERROR_CASES} error cases)",
            cases.len()
        )
        .into());
    }
    for case in &cases {
        if !SECTIONS.contains(&case.section.as_str()) {
            return Err(format!(
                "cases.txt line {}: section `{}` has no kernel test (add it to section_tests!)",
                case.line, case.section
            )
            .into());
        }
    }
    Ok(())
}

fn run_section(ns: &Ns, section: &str) -> TestResult {
    let cases: Vec<Case> = cases::parse(cases::DATA)?
        .into_iter()
        .filter(|c| c.section == section)
        .collect();
    if cases.is_empty() {
        return Err(format!("no cases in section `{section}`").into());
    }
    let pair = NamespacePair::new(ns)?;
    // Every case runs, and every failure is reported: one run of the suite
    // in the (slow) VM shows them all.
    let mut failures = Vec::new();
    for case in &cases {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_case(ns, &pair, case);
        }));
        if let Err(payload) = outcome {
            failures.push(panic_text(payload.as_ref()));
            pair.recover(ns);
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} cases failed:\n\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n\n")
        )
        .into())
    }
}

/// The test thread's own namespace (for ours) and a second one (for 1.31),
/// each with `lo` and a multicast dummy interface `sync0` (for daemons), and
/// the timeouts the kernel started with.
struct NamespacePair {
    ours: OwnedFd,
    reference: OwnedFd,
    default_timeouts: String,
    /// Per side (ours, 1.31): what the last state read showed beyond the
    /// table, so the next reset knows what to undo.
    leftovers: [Cell<Leftovers>; 2],
}

impl Drop for NamespacePair {
    /// Both tables emptied before the namespaces go: the kernel tears them
    /// down later, in the background, and services leaving its shared table
    /// then would shift the next test's dumps.
    fn drop(&mut self) {
        for fd in [&self.ours, &self.reference] {
            if setns(fd, CloneFlags::CLONE_NEWNET).is_ok() {
                let _ =
                    std::process::Command::new(crate::support::runner::reference_path())
                        .arg("-C")
                        .stdin(std::process::Stdio::null())
                        .output();
            }
        }
    }
}

/// What a reset must undo besides the table.
#[derive(Clone, Copy, Default)]
struct Leftovers {
    master_daemon: bool,
    backup_daemon: bool,
    changed_timeouts: bool,
}

#[derive(Clone, Copy)]
enum Side {
    Ours = 0,
    Reference = 1,
}

impl NamespacePair {
    fn new(ns: &Ns) -> Result<NamespacePair, String> {
        let ours = current_netns()?;
        prepare_interfaces(ns)?;
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| format!("unshare: {e}"))?;
        let reference = current_netns()?;
        prepare_interfaces(ns)?;
        let listed = ns.reference(&["-L", "--timeout"]);
        let default_timeouts = String::from_utf8_lossy(&listed.stdout)
            .trim_end()
            .to_string();
        Ok(NamespacePair {
            ours,
            reference,
            default_timeouts,
            leftovers: Default::default(),
        })
    }

    fn enter(&self, side: Side) {
        let fd = match side {
            Side::Ours => &self.ours,
            Side::Reference => &self.reference,
        };
        setns(fd, CloneFlags::CLONE_NEWNET).expect("setns into a test namespace");
    }

    /// Empties the side's table, stops its daemons, restores the default
    /// timeouts and applies the case's setup: all in one 1.31 `-R`.
    fn reset_and_set_up(&self, ns: &Ns, side: Side, case: &Case, what: &str) {
        self.enter(side);
        let leftovers = self.leftovers[side as usize].get();
        let mut lines = Vec::new();
        if !ns.table_is_empty() {
            lines.push("-C".to_string());
        }
        if leftovers.master_daemon {
            lines.push("--stop-daemon master".to_string());
        }
        if leftovers.backup_daemon {
            lines.push("--stop-daemon backup".to_string());
        }
        if leftovers.changed_timeouts {
            let values = self.default_timeouts.rsplit(':').next().unwrap_or_default();
            lines.push(format!("--set {}", values.trim()));
        }
        for setup in &case.setup {
            assert!(
                setup
                    .iter()
                    .all(|w| !w.is_empty() && !w.contains(char::is_whitespace)),
                "{what}: a `given` line cannot hold quoted words (it runs in a restore)"
            );
            lines.push(setup.join(" "));
        }
        if lines.is_empty() {
            return;
        }
        let script = lines.join("\n") + "\n";
        let out = ns.reference_stdin(&["-R"], &script);
        if !(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty()) {
            panic!(
                "{what}: reset and setup by ipvsadm 1.31 -R failed:\n{script}\n{}",
                render(&out)
            );
        }
        self.leftovers[side as usize].set(Leftovers::default());
    }

    /// After a failed case, whatever state it left: both sides back to an
    /// empty table, no daemon and the default timeouts, one command at a time,
    /// ignoring failures (such as stopping a daemon that is not running).
    fn recover(&self, ns: &Ns) {
        let values = self.default_timeouts.rsplit(':').next().unwrap_or_default();
        let mut set = vec!["--set"];
        set.extend(values.split_whitespace());
        for side in [Side::Ours, Side::Reference] {
            self.enter(side);
            ns.reference(&["-C"]);
            ns.reference(&["--stop-daemon", "master"]);
            ns.reference(&["--stop-daemon", "backup"]);
            ns.reference(&set);
            self.leftovers[side as usize].set(Leftovers::default());
        }
    }

    /// Notes from a state read what the next reset must undo.
    fn note_state(&self, side: Side, state: &Output) {
        let text = String::from_utf8_lossy(&state.stdout);
        self.leftovers[side as usize].set(Leftovers {
            master_daemon: text.contains("master sync daemon"),
            backup_daemon: text.contains("backup sync daemon"),
            changed_timeouts: !text.contains(&self.default_timeouts),
        });
    }
}

fn current_netns() -> Result<OwnedFd, String> {
    std::fs::File::open("/proc/thread-self/ns/net")
        .map(OwnedFd::from)
        .map_err(|e| format!("cannot open /proc/thread-self/ns/net: {e}"))
}

fn prepare_interfaces(ns: &Ns) -> Result<(), String> {
    let out = ns.sh("set -e
         /sbin/ip link set lo up
         /sbin/ip link add sync0 type dummy
         /sbin/ip addr add 192.168.77.1/24 dev sync0
         /sbin/ip link set sync0 up multicast on");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("cannot set up the interfaces:\n{}", render(&out)))
    }
}

fn run_tool(ns: &Ns, side: Side, args: &[String], input: Option<&str>) -> Output {
    ns.run_tool(matches!(side, Side::Ours), args, input)
}

fn state(ns: &Ns) -> Output {
    ns.reference_stdin(&["-R"], STATE_VIEWS)
}

fn run_case(ns: &Ns, pair: &NamespacePair, case: &Case) {
    let what = format!(
        "cases.txt line {} [{}]: {}",
        case.line,
        case.section,
        describe(&case.args)
    );
    for side in [Side::Ours, Side::Reference] {
        pair.reset_and_set_up(ns, side, case, &what);
    }
    if let Kind::Differ(expect) = &case.kind {
        check_documented_difference(ns, pair, case, expect, &what);
        return;
    }
    let (ours, reference) = run_both(ns, pair, case);
    assert_same_output(&what, &ours, &reference);
    match case.kind {
        Kind::Ok => assert!(
            reference.status.success(),
            "{what}: marked `ok` but ipvsadm 1.31 failed:\n{}",
            render(&reference)
        ),
        Kind::Error => assert!(
            !reference.status.success(),
            "{what}: marked `err` but ipvsadm 1.31 succeeded:\n{}",
            render(&reference)
        ),
        Kind::Differ(_) => {}
    }
    compare_states(ns, pair, &what);
}

fn run_both(ns: &Ns, pair: &NamespacePair, case: &Case) -> (Output, Output) {
    pair.enter(Side::Ours);
    let ours = run_tool(ns, Side::Ours, &case.args, case.input.as_deref());
    pair.enter(Side::Reference);
    let reference = run_tool(ns, Side::Reference, &case.args, case.input.as_deref());
    (ours, reference)
}

/// The state left by each tool, as 1.31 lists it, read once.
fn compare_states(ns: &Ns, pair: &NamespacePair, what: &str) {
    pair.enter(Side::Ours);
    let ours = state(ns);
    pair.enter(Side::Reference);
    let reference = state(ns);
    pair.note_state(Side::Ours, &ours);
    pair.note_state(Side::Reference, &reference);
    let states = (ours, reference);
    assert_same_output(
        &format!(
            "{what}: state afterwards, by ipvsadm 1.31 ({})",
            STATE_VIEWS.trim_end().replace('\n', ", ")
        ),
        &states.0,
        &states.1,
    );
}

/// A case README lists under "Differences from ipvsadm 1.31": both tools
/// run it in the same run, ours in its namespace and 1.31 in its own, and
/// each must do exactly what the case writes down for it (exit status, all
/// of stdout, all of stderr): ours what the README documents, 1.31 what it
/// does (as the README says). Then 1.31's side is reset and the state ours
/// left is compared with 1.31's side, where nothing ran (or the `reference`
/// command that reaches the documented state).
fn check_documented_difference(
    ns: &Ns,
    pair: &NamespacePair,
    case: &Case,
    expect: &Expect,
    what: &str,
) {
    pair.enter(Side::Ours);
    let ours = run_tool(ns, Side::Ours, &case.args, case.input.as_deref());
    pair.enter(Side::Reference);
    let reference = run_tool(ns, Side::Reference, &case.args, case.input.as_deref());
    let left = state(ns);
    pair.note_state(Side::Reference, &left);
    let mismatches: Vec<String> = [
        ("ours", &expect.ours, &ours),
        ("ipvsadm 1.31", &expect.reference, &reference),
    ]
    .into_iter()
    .filter_map(|(who, expected, out)| {
        let wanted = format!(
            "{}\n--- stdout:\n{}--- stderr:\n{}",
            expected.status.as_deref().unwrap_or("?"),
            mark(&expected.stdout),
            mark(&expected.stderr)
        );
        let got = render(out);
        (wanted != got).then(|| format!("{who}: expected\n{wanted}got\n{got}"))
    })
    .collect();
    assert!(
        mismatches.is_empty(),
        "{what}: documented difference, not as written down:\n{}",
        mismatches.join("\n")
    );
    pair.reset_and_set_up(ns, Side::Reference, case, what);
    // 1.31's side: untouched, or the command 1.31 needs for the state ours
    // documents (for example the same restore input without its comments).
    if expect.reference_args.is_some() || expect.reference_input.is_some() {
        pair.enter(Side::Reference);
        let args = expect.reference_args.as_ref().unwrap_or(&case.args);
        let input = expect.reference_input.as_deref().or(case.input.as_deref());
        run_tool(ns, Side::Reference, args, input);
    }
    compare_states(ns, pair, &format!("{what} (documented difference)"));
}

/// As [`render`] marks line ends.
fn mark(text: &str) -> String {
    text.lines().map(|l| format!("{l}$\n")).collect()
}
