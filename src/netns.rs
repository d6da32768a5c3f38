//! `--netns NAME|PATH`: run the whole command inside another network
//! namespace, as `ip netns exec` would, without a shell or a second process.
//!
//! IPVS tables are per network namespace, and so is `/proc/net/ip_vs_conn`
//! as seen by this process once it has switched.

use std::fs::File;
use std::path::{Path, PathBuf};

use nix::sched::{CloneFlags, setns};

/// Where `ip netns add NAME` keeps its namespaces.
const NETNS_RUN_DIR: &str = "/run/netns";

/// A `--netns` argument that could not be entered.
#[derive(Debug, thiserror::Error)]
#[error("cannot enter network namespace '{spec}' ({}): {reason}", path.display())]
pub struct NetnsError {
    pub spec: String,
    pub path: PathBuf,
    pub reason: String,
}

/// The file behind a `--netns` argument: a bare name is looked up in
/// `/run/netns`, anything containing a `/` is taken as a path (for example
/// `/proc/1234/ns/net`).
pub fn netns_path(spec: &str) -> PathBuf {
    if spec.contains('/') {
        PathBuf::from(spec)
    } else {
        Path::new(NETNS_RUN_DIR).join(spec)
    }
}

/// Switches the calling thread to the network namespace `spec`. Must be
/// called before any netlink socket is opened, while the process has one
/// thread, so that everything after it (and any child) lives there.
pub fn enter(spec: &str) -> Result<(), NetnsError> {
    let path = netns_path(spec);
    let fail = |reason: String| NetnsError {
        spec: spec.to_string(),
        path: path.clone(),
        reason,
    };
    if spec.is_empty() || spec.len() > 4096 || spec.contains('\0') {
        return Err(fail("invalid namespace name".into()));
    }
    let file = File::open(&path).map_err(|e| {
        fail(crate::error::strerror(
            e.raw_os_error().unwrap_or(libc::EINVAL),
        ))
    })?;
    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| fail(e.desc().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_live_in_run_netns_and_paths_are_kept() {
        assert_eq!(netns_path("web"), PathBuf::from("/run/netns/web"));
        assert_eq!(
            netns_path("/proc/42/ns/net"),
            PathBuf::from("/proc/42/ns/net")
        );
        assert_eq!(netns_path("./x"), PathBuf::from("./x"));
    }

    #[test]
    fn a_missing_namespace_is_a_clear_error() {
        let err = enter("no-such-namespace-for-this-test").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot enter network namespace 'no-such-namespace-for-this-test' \
             (/run/netns/no-such-namespace-for-this-test): No such file or directory"
        );
    }

    #[test]
    fn a_regular_file_is_not_a_namespace() {
        let f = tempfile::NamedTempFile::new().expect("temp file");
        let spec = f.path().to_str().expect("utf-8 temp path").to_string();
        let err = enter(&spec).unwrap_err();
        assert!(err.reason.contains("Invalid argument"), "{err}");
    }
}
