//! Named network namespaces (`ip netns add`) for tests that need more than
//! their own, deleted when dropped.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::runner::reference_path;
use super::{Ns, compare::render};

/// iproute2's `ip` (the VM's busybox `ip` has no `netns`).
pub const IP: &str = "/sbin/ip";

pub struct NamedNetns {
    name: String,
}

impl NamedNetns {
    /// A namespace with a name unique in this run, `lo` up.
    #[track_caller]
    pub fn new(ns: &Ns) -> NamedNetns {
        NamedNetns::named(ns, &ns.unique("t"))
    }

    /// A namespace with a given name (one left over by an interrupted run is
    /// deleted first), `lo` up.
    #[track_caller]
    pub fn named(ns: &Ns, name: &str) -> NamedNetns {
        let _ = ns.sh(&format!("{IP} netns del {name} 2>/dev/null"));
        let out = ns.sh(&format!(
            "{IP} netns add {name} && {IP} -n {name} link set lo up"
        ));
        assert!(
            out.status.success(),
            "ip netns add {name}:\n{}",
            render(&out)
        );
        NamedNetns {
            name: name.to_string(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip netns exec NAME PROGRAM ARGS` (argv[0] is the full path: used
    /// only for listings, which do not show it).
    pub fn exec(&self, program: &Path, args: &[&str]) -> Output {
        Command::new(IP)
            .args(["netns", "exec", &self.name])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run ip netns exec: {e}"))
    }
}

impl Drop for NamedNetns {
    fn drop(&mut self) {
        // Its table emptied first: the kernel tears a deleted namespace down
        // later, in the background, and its services leaving the kernel's
        // shared table then would shift the next test's dumps.
        let _ = Command::new(IP)
            .args(["netns", "exec", &self.name])
            .arg(reference_path())
            .arg("-C")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = Command::new(IP)
            .args(["netns", "del", &self.name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
