//! Where the kernel tests run, and how each one gets its own namespace.
//!
//! * Inside the lab VM (`IPVS_LAB_INSIDE=1`): check the reference and the
//!   tools (see [`check_environment`]), then run the tests here.
//! * `IPVS_LAB=host`, and only then: run them directly on this host (it
//!   needs root and IPVS), after the same checks.
//! * Otherwise, if the lab can be prepared (`tests/lab/lab prepare`): run this
//!   very binary inside the VM with `tests/lab/lab run`, forwarding the libtest
//!   arguments, and pass its output and exit status through. A host with
//!   IPVS is never used instead.
//! * Otherwise: print a skip notice and exit 0, or fail when `IPVS_LAB=require`.
//!
//! Wherever they run, a test never counts as passed without running: a run
//! that ignores any test fails, and the counts are printed at the end.
//!
//! Environment:
//! * `IPVSADM_BIN`: our binary (default: the `ipvsadm` cargo just built).
//! * `IPVSADM_REF`: the reference in host mode (default:
//!   `/usr/sbin/ipvsadm-1.31`, then `/usr/sbin/ipvsadm`, `/sbin/ipvsadm`);
//!   in the VM it is always the lab's `/usr/sbin/ipvsadm-1.31`.
//! * `IPVS_LAB`: `require` (the lab VM or a failure: CI), `skip` (never
//!   boot the VM), `host` (run on this host, which must have IPVS).
//! * `IPVS_LAB_TIMEOUT`: VM-side limit in seconds for the whole run (default
//!   3600: the tests run one at a time).

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};

use libtest_mimic::{Arguments, Failed, Trial};
use nix::sched::{CloneFlags, unshare};

use super::Ns;
use super::compare::panic_text;

/// Where our binary is put inside the VM.
const VM_OURS: &str = "/usr/local/sbin/ipvsadm";
/// Where this test binary is put inside the VM.
const VM_SELF: &str = "/bin/kernel-tests";

/// A kernel test: `f` runs on a new thread in a fresh network namespace with
/// `lo` up; commands it spawns through [`Ns`] live in that namespace.
pub fn kernel_test(name: &str, f: fn(&Ns) -> Result<(), Failed>) -> Trial {
    let name = name.to_string();
    Trial::test(name.clone(), move || in_fresh_netns(&name, f))
}

/// Panic messages (with their location) of test threads, by thread name.
static PANICS: LazyLock<Mutex<HashMap<String, String>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

const THREAD_PREFIX: &str = "kernel-test:";

/// Tests running now. One at a time, always: the kernel resumes a service
/// dump at a position counted over the services of every network namespace
/// (`ip_vs_genl_dump_services`), so while another test changes its table,
/// a listing of this one can repeat or skip a service. With nothing else
/// running, every read is exact and no comparison is ever read again.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

fn in_fresh_netns(name: &str, f: fn(&Ns) -> Result<(), Failed>) -> Result<(), Failed> {
    let thread_name = format!("{THREAD_PREFIX}{name}");
    let test_name = name.to_string();
    let others = RUNNING.fetch_add(1, Ordering::SeqCst);
    let handle = std::thread::Builder::new()
        .name(thread_name.clone())
        .spawn(move || -> Result<(), Failed> {
            if others != 0 {
                return Err(format!(
                    "{others} other kernel test(s) are running: the kernel tests must \
                     run one at a time (their dumps see each other's changes)"
                )
                .into());
            }
            // Only this thread moves; children forked from it inherit its netns.
            unshare(CloneFlags::CLONE_NEWNET)
                .map_err(|e| format!("unshare(CLONE_NEWNET) failed: {e}"))?;
            set_lo_up()
                .map_err(|e| format!("cannot bring lo up in the new netns: {e}"))?;
            let ns = Ns::new(&test_name)?;
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&ns)));
            // The table emptied before the namespace goes: the kernel tears
            // it down later, in the background, and services leaving its
            // shared table then would shift the next test's dumps.
            let _ = Command::new(reference_path())
                .arg("-C")
                .stdin(Stdio::null())
                .output();
            match result {
                Ok(result) => result,
                Err(payload) => std::panic::resume_unwind(payload),
            }
        })
        .map_err(|e| format!("cannot spawn the test thread: {e}"))?;
    let joined = handle.join();
    RUNNING.fetch_sub(1, Ordering::SeqCst);
    match joined {
        Ok(result) => result,
        Err(payload) => {
            let recorded = PANICS.lock().unwrap().remove(&thread_name);
            Err(recorded
                .unwrap_or_else(|| panic_text(payload.as_ref()))
                .into())
        }
    }
}

/// Test threads record their panic for the failure report instead of
/// printing it twice; other threads keep the default hook.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        match thread.name() {
            Some(name) if name.starts_with(THREAD_PREFIX) => {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let text = format!("panicked{location}:\n{}", panic_text(info.payload()));
                PANICS.lock().unwrap().insert(name.to_string(), text);
            }
            _ => default(info),
        }
    }));
}

/// Is `program` on `PATH`?
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join(program).is_file())
    })
}

/// `ip link set lo up` for the calling thread's network namespace.
fn set_lo_up() -> std::io::Result<()> {
    // SAFETY: plain socket/ioctl calls on a zeroed, NUL-terminated ifreq.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        let mut result = Ok(());
        if libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) < 0 {
            result = Err(std::io::Error::last_os_error());
        } else {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            if libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) < 0 {
                result = Err(std::io::Error::last_os_error());
            }
        }
        libc::close(fd);
        result
    }
}

/// Our `ipvsadm`.
pub fn ours_path() -> PathBuf {
    match std::env::var_os("IPVSADM_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_ipvsadm")),
    }
}

/// Where the lab VM has ipvsadm 1.31 (`tests/lab/lab`).
const VM_REFERENCE: &str = "/usr/sbin/ipvsadm-1.31";

/// What the lab records about the reference's package (`tests/lab/lab`).
const VM_REFERENCE_PACKAGE: &str = "/etc/lab-reference";

/// `ipvsadm -v` of ipvsadm 1.31 (spec, "-h and -v"): the only version the
/// kernel tests accept as the reference.
const REFERENCE_VERSION: &str =
    "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

/// ipvsadm 1.31.
pub fn reference_path() -> PathBuf {
    if inside_lab() {
        return PathBuf::from(VM_REFERENCE);
    }
    if let Some(p) = std::env::var_os("IPVSADM_REF").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    [
        "/usr/sbin/ipvsadm-1.31",
        "/usr/sbin/ipvsadm",
        "/sbin/ipvsadm",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .unwrap_or_else(|| PathBuf::from("/usr/sbin/ipvsadm-1.31"))
}

/// Inside the lab VM (set by the harness when it re-runs itself there).
pub fn inside_lab() -> bool {
    env_is("IPVS_LAB_INSIDE", "1")
}

fn env_is(name: &str, value: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == value)
}

fn host_has_ipvs() -> bool {
    Path::new("/proc/net/ip_vs").exists() && nix::unistd::geteuid().is_root()
}

/// Checks that the tests are about to run against what they claim: ipvsadm
/// 1.31 as the reference (its `-v`; in the VM also the Debian package the
/// lab took it from, `1:1.31-*`), the tools the scenarios use (busybox for
/// httpd, wget and nc; iproute2's `ip` with `netns`; jq) and IPVS itself.
/// Any miss fails the whole run, before any test: nothing is skipped.
fn check_environment() -> Result<(), String> {
    let reference = reference_path();
    let out = Command::new(&reference)
        .arg0("ipvsadm")
        .arg("-v")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run the reference {}: {e}", reference.display()))?;
    if out.stdout != REFERENCE_VERSION.as_bytes() || !out.status.success() {
        return Err(format!(
            "the reference {} is not ipvsadm 1.31: `-v` gave {:?} (exit {:?}), \
             ipvsadm 1.31 says {REFERENCE_VERSION:?}",
            reference.display(),
            String::from_utf8_lossy(&out.stdout),
            out.status.code()
        ));
    }
    if inside_lab() {
        let package = std::fs::read_to_string(VM_REFERENCE_PACKAGE)
            .map_err(|e| format!("cannot read {VM_REFERENCE_PACKAGE}: {e}"))?;
        let version = package
            .strip_prefix("ipvsadm ")
            .map(str::trim_end)
            .unwrap_or_default();
        if !version.starts_with("1:1.31-") {
            return Err(format!(
                "the lab's reference comes from {package:?}, not from the \
                 package ipvsadm 1:1.31-*"
            ));
        }
    }
    for tool in ["busybox", "ip", "jq"] {
        if !on_path(tool) {
            return Err(format!("{tool} is missing (PATH)"));
        }
    }
    let ip = Command::new("ip")
        .args(["netns", "list"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if !ip.status.success() {
        return Err(format!(
            "`ip netns list` fails (an ip without netns?): {}",
            String::from_utf8_lossy(&ip.stderr)
        ));
    }
    if !Path::new("/proc/net/ip_vs").exists() {
        return Err("no /proc/net/ip_vs: IPVS is not loaded".to_string());
    }
    Ok(())
}

/// Runs the trials here, after [`check_environment`]; prints the counts and
/// exits, failing when any test failed or was ignored.
fn run_here(args: &Arguments, tests: Vec<Trial>) -> ! {
    if let Err(why) = check_environment() {
        eprintln!("kernel tests: FAILED before any test: {why}");
        std::process::exit(1);
    }
    install_panic_hook();
    // One test at a time (see `RUNNING`), whatever --test-threads says.
    let mut args = args.clone();
    args.test_threads = Some(1);
    let conclusion = libtest_mimic::run(&args, tests);
    println!(
        "kernel tests: {} passed, {} failed, {} ignored, {} filtered out",
        conclusion.num_passed,
        conclusion.num_failed,
        conclusion.num_ignored,
        conclusion.num_filtered_out
    );
    if conclusion.num_ignored > 0 {
        println!("kernel tests: FAILED: an ignored test is not a passed one");
        std::process::exit(1);
    }
    conclusion.exit()
}

fn lab_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/lab")
}

/// Runs the trials here, in the lab VM, or not at all (see the module docs).
pub fn main(tests: Vec<Trial>) -> ! {
    let args = Arguments::from_args();
    let require = env_is("IPVS_LAB", "require");
    if args.list {
        libtest_mimic::run(&args, tests).exit();
    }
    if inside_lab() {
        run_here(&args, tests);
    }
    if env_is("IPVS_LAB", "host") {
        if !host_has_ipvs() {
            eprintln!(
                "kernel tests: FAILED: IPVS_LAB=host, but this host has no IPVS \
                 (/proc/net/ip_vs) or we are not root"
            );
            std::process::exit(1);
        }
        run_here(&args, tests);
    }
    if env_is("IPVS_LAB", "skip") {
        skip("IPVS_LAB=skip");
    }
    let ours = ours_path();
    if !ours.is_file() {
        eprintln!(
            "kernel tests: FAILED: our ipvsadm is missing at {} (IPVSADM_BIN)",
            ours.display()
        );
        std::process::exit(1);
    }
    let code = match in_lab(&args) {
        Ok(code) => code,
        Err(why) if require => {
            eprintln!(
                "kernel tests: FAILED: the lab VM is unavailable: {why} (IPVS_LAB=require)"
            );
            1
        }
        Err(why) => skip(&why),
    };
    std::process::exit(code)
}

fn skip(why: &str) -> ! {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "\n*** kernel tests SKIPPED: {why}.\n\
         *** They need the QEMU lab (tests/lab/README.md), or IPVS_LAB=host as root\n\
         *** on a host with IPVS. Set IPVS_LAB=require to make this a failure.\n"
    );
    std::process::exit(0)
}

/// Re-runs this binary in the VM; `Err` when the lab is unavailable.
fn in_lab(args: &Arguments) -> Result<i32, String> {
    let lab = lab_script();
    if !lab.exists() {
        return Err(format!("no lab script at {}", lab.display()));
    }
    eprintln!("kernel tests: preparing the lab VM ({})", lab.display());
    let prepared = Command::new(&lab)
        .arg("prepare")
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", lab.display()))?;
    if !prepared.success() {
        return Err(format!("`{} prepare` failed", lab.display()));
    }
    let me = std::env::current_exe()
        .map_err(|e| format!("cannot find this test binary: {e}"))?;
    let ours = ours_path();
    let timeout = std::env::var("IPVS_LAB_TIMEOUT").unwrap_or_else(|_| "3600".into());
    let mut cmd = Command::new(&lab);
    cmd.arg("run")
        .arg("--file")
        .arg(file_arg(&me, VM_SELF))
        .arg("--file")
        .arg(file_arg(&ours, VM_OURS))
        .args(["--env", "IPVS_LAB_INSIDE=1"])
        .arg("--env")
        .arg(format!("IPVSADM_BIN={VM_OURS}"))
        .args(["--timeout", &timeout]);
    for var in ["RUST_BACKTRACE", "RUST_TEST_THREADS"] {
        if let Ok(v) = std::env::var(var) {
            cmd.arg("--env").arg(format!("{var}={v}"));
        }
    }
    cmd.arg("--").arg(VM_SELF).args(std::env::args_os().skip(1));
    // The VM's output goes to a file: keep colours if they would show here.
    if args.color.is_none() && std::io::stdout().is_terminal() {
        cmd.args(["--color", "always"]);
    }
    eprintln!("kernel tests: running them in the lab VM (QEMU, TCG)");
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", lab.display()))?;
    Ok(status.code().unwrap_or(1))
}

fn file_arg(src: &Path, dest: &str) -> OsString {
    let mut arg = src.as_os_str().to_os_string();
    arg.push(":");
    arg.push(dest);
    arg
}
