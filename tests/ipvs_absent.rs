//! IPVS missing from the kernel. The kernel tests share one VM where IPVS
//! is loaded (and a module cannot be unloaded under parallel tests), so
//! this test boots its own lab VM (`tests/lab/lab run`) with an empty module
//! list: there, with `/sbin/modprobe` gone, ours fails with ipvsadm 1.31's
//! words and status; with `/sbin/modprobe` back, ours loads `ip_vs` itself
//! (`/sbin/modprobe -- ip_vs`, never a `modprobe` found on `PATH`) and
//! lists the (empty) table.
//!
//! Like the kernel tests, it needs the QEMU lab (`tests/lab/README.md`):
//! without it, it is skipped with a notice, or fails under
//! `IPVS_LAB=require`; `IPVS_LAB=skip` skips it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs in the VM. Each case prints `@@ name status`, then its stdout,
/// then `@@ stderr`, then its stderr.
const SCRIPT: &str = r#"
case_() {
    name=$1; shift
    "$@" >/tmp/out 2>/tmp/err
    echo "@@ $name $?"
    cat /tmp/out
    echo "@@ stderr"
    cat /tmp/err
}
loaded() { grep -c '^ip_vs ' /proc/modules; }
case_ loaded-at-boot loaded
mv /sbin/modprobe /sbin/modprobe.hidden || exit 1
for args in "-Ln" "-A -t 10.0.0.1:80 -s rr" "-Sn"; do
    # shellcheck disable=SC2086
    case_ "ours $args" ipvsadm $args
    # shellcheck disable=SC2086
    case_ "1.31 $args" ipvsadm-1.31 $args
done
case_ loaded-without-modprobe loaded
# /sbin/modprobe back, logging its arguments; a decoy modprobe first on
# PATH logs that it was used.
mkdir -p /tmp/decoy
printf '#!/bin/sh\necho "$*" >>/tmp/modprobe.log\nexec busybox modprobe "$@"\n' >/sbin/modprobe
printf '#!/bin/sh\necho "decoy $*" >>/tmp/modprobe.log\nexit 1\n' >/tmp/decoy/modprobe
chmod 755 /sbin/modprobe /tmp/decoy/modprobe
# The kernel's own module autoload (request_module, for the generic netlink
# family) off, logged: only the program's own /sbin/modprobe can load ip_vs.
printf '#!/bin/sh\necho "$*" >>/tmp/kernel-modprobe.log\nexit 1\n' >/tmp/kernel-modprobe
chmod 755 /tmp/kernel-modprobe
echo /tmp/kernel-modprobe >/proc/sys/kernel/modprobe
case_ "ours -Ln with modprobe" env PATH=/tmp/decoy:$PATH ipvsadm -Ln
case_ modprobe-log cat /tmp/modprobe.log
case_ loaded-by-ours loaded
# The same with ipvsadm 1.31, after unloading ip_vs again.
rmmod ip_vs || exit 1
: >/tmp/modprobe.log
case_ unloaded-again loaded
case_ "1.31 -Ln with modprobe" env PATH=/tmp/decoy:$PATH ipvsadm-1.31 -Ln
case_ modprobe-log-1.31 cat /tmp/modprobe.log
case_ loaded-by-1.31 loaded
case_ kernel-autoload-attempts cat /tmp/kernel-modprobe.log
"#;

/// `(name, status, stdout, stderr)` of each case the script ran.
fn cases(stdout: &str) -> Vec<(String, String, String, String)> {
    let mut cases = Vec::new();
    for block in stdout.split("@@ ").skip(1) {
        let (head, body) = block.split_once('\n').unwrap_or((block, ""));
        if head == "stderr" {
            let last: &mut (String, String, String, String) =
                cases.last_mut().expect("stderr after a case");
            last.3 = body.to_string();
            continue;
        }
        let (name, status) = head.rsplit_once(' ').expect("`name status`");
        cases.push((
            name.to_string(),
            status.to_string(),
            body.to_string(),
            String::new(),
        ));
    }
    cases
}

/// Notice on the real stderr (libtest captures only `eprintln!`).
fn notice(text: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** {text}\n");
}

/// Our binary: `IPVSADM_BIN` as for the kernel tests, else the one cargo
/// built.
fn ours_path() -> PathBuf {
    match std::env::var_os("IPVSADM_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_ipvsadm")),
    }
}

fn run_in_fresh_vm(lab: &Path) -> Option<Output> {
    let policy = std::env::var("IPVS_LAB").unwrap_or_default();
    if policy == "skip" {
        notice("ipvs_absent SKIPPED (IPVS_LAB=skip)");
        return None;
    }
    let prepared = Command::new(lab)
        .arg("prepare")
        .stdin(Stdio::null())
        .output()
        .expect("runs the lab script");
    if !prepared.status.success() {
        let why = String::from_utf8_lossy(&prepared.stderr);
        assert!(
            policy != "require",
            "the lab is unavailable (IPVS_LAB=require): {why}"
        );
        notice(&format!(
            "ipvs_absent SKIPPED: the QEMU lab is unavailable ({}); \
             set IPVS_LAB=require to make this a failure",
            why.trim()
        ));
        return None;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let no_modules = dir.path().join("lab-modules");
    let script = dir.path().join("script.sh");
    std::fs::write(&no_modules, "").expect("write");
    std::fs::write(&script, SCRIPT).expect("write");
    let file = |src: &Path, dest: &str| format!("{}:{dest}", src.display());
    let out = Command::new(lab)
        .arg("run")
        .args(["--file", &file(&ours_path(), "/usr/local/sbin/ipvsadm")])
        // The VM's init loads the modules listed here: none.
        .args(["--file", &file(&no_modules, "/etc/lab-modules")])
        .args(["--file", &file(&script, "/script.sh")])
        .args(["--timeout", "120", "--", "sh", "/script.sh"])
        .stdin(Stdio::null())
        .output()
        .expect("runs the lab script");
    Some(out)
}

#[test]
fn ipvs_module_absent_and_modprobe_unavailable() {
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/lab");
    let Some(out) = run_in_fresh_vm(&lab) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "lab run failed ({:?}):\n{stdout}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let cases = cases(&stdout);
    let case = |name: &str| {
        cases
            .iter()
            .find(|c| c.0 == name)
            .unwrap_or_else(|| panic!("no case {name:?} in:\n{stdout}"))
    };
    let count = |name: &str| case(name).2.trim().to_string();
    assert_eq!(count("loaded-at-boot"), "0", "ip_vs is not loaded at boot");
    for args in ["-Ln", "-A -t 10.0.0.1:80 -s rr", "-Sn"] {
        let ours = case(&format!("ours {args}"));
        let reference = case(&format!("1.31 {args}"));
        assert_eq!(
            (&ours.1, &ours.2, &ours.3),
            (&reference.1, &reference.2, &reference.3),
            "ipvsadm {args} without IPVS: ours, then ipvsadm 1.31"
        );
        assert_eq!(ours.1, "2", "{ours:?}");
        assert_eq!(
            ours.3,
            "Can't initialize ipvs: Protocol not available\n\
             Are you sure that IP Virtual Server is built in the kernel or as module?\n"
        );
    }
    assert_eq!(count("loaded-without-modprobe"), "0");
    let listed = case("ours -Ln with modprobe");
    assert_eq!(listed.1, "0", "{listed:?}");
    assert_eq!(
        listed.2,
        "IP Virtual Server version 1.2.1 (size=4096)\n\
         Prot LocalAddress:Port Scheduler Flags\n  \
         -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    );
    // README: ours loads the module "after trying `/sbin/modprobe -- ip_vs`,
    // by that path, without a shell", as 1.31 does (spec: `execv
    // ("/sbin/modprobe", {"/sbin/modprobe", "--", "ip_vs", NULL})`): with the
    // kernel's own autoload off, that call is what loaded it, with exactly
    // these arguments, and the decoy on PATH was never run.
    assert_eq!(
        case("modprobe-log").2,
        "-- ip_vs\n",
        "ours ran /sbin/modprobe -- ip_vs, and nothing else"
    );
    assert_eq!(count("loaded-by-ours"), "1", "ours loaded ip_vs");
    assert_eq!(count("unloaded-again"), "0");
    let reference = case("1.31 -Ln with modprobe");
    assert_eq!(
        (&listed.1, &listed.2, &listed.3),
        (&reference.1, &reference.2, &reference.3),
        "ipvsadm -Ln loading ip_vs: ours, then ipvsadm 1.31"
    );
    assert_eq!(
        case("modprobe-log").2,
        case("modprobe-log-1.31").2,
        "/sbin/modprobe calls: ours, then ipvsadm 1.31"
    );
    assert_eq!(count("loaded-by-1.31"), "1");
    // The kernel tried its autoload (and it failed, as arranged): the
    // module above was loaded by the programs, not by the kernel.
    assert!(
        case("kernel-autoload-attempts")
            .2
            .contains("net-pf-16-proto-16-family-IPVS"),
        "{:?}",
        case("kernel-autoload-attempts")
    );
}
