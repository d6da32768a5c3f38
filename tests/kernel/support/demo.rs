//! The kube-proxy demo (`tests/lab/scenarios/kube-demo.sh`, as `tests/lab/demo`
//! runs it) as a fixture: three `webpod` namespaces behind the round-robin
//! service 10.200.1.76:9000 and a `net-pod` client, all inside the test's
//! namespace, set up with our ipvsadm and cleaned up when dropped.

use std::process::{Child, Command, Output, Stdio};

use super::{Failed, Ns, compare::render};

const SCENARIO: &str = include_str!("../../lab/scenarios/kube-demo.sh");

/// The VIP of the scenario's service.
pub const VIP: &str = "10.200.1.76";
/// The scenario's round-robin service.
pub const SERVICE: &str = "10.200.1.76:9000";

pub struct KubeDemo<'a> {
    ns: &'a Ns,
    script: tempfile::NamedTempFile,
    prefix: String,
}

impl<'a> KubeDemo<'a> {
    /// Sets the scenario up; `tag` keeps its namespace names apart from
    /// those of other tests running at the same time.
    #[track_caller]
    pub fn setup(ns: &'a Ns, tag: &str) -> Result<KubeDemo<'a>, Failed> {
        let script = tempfile::NamedTempFile::new()?;
        std::fs::write(script.path(), SCENARIO)?;
        let demo = KubeDemo {
            ns,
            script,
            prefix: ns.unique(tag) + "-",
        };
        let setup = demo.step("setup");
        assert!(
            setup.status.success(),
            "demo scenario setup:\n{}",
            render(&setup)
        );
        Ok(demo)
    }

    /// The prefix of the scenario's namespace names (`<prefix>net-pod`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Runs one step of the scenario (`traffic` makes 100 requests).
    pub fn step(&self, step: &str) -> Output {
        self.step_with_requests(step, 100)
    }

    /// Runs one step; `traffic` makes `requests` requests.
    pub fn step_with_requests(&self, step: &str, requests: u32) -> Output {
        let path = self.script.path().to_string_lossy().into_owned();
        let ours = self.ns.ours_path().to_string_lossy().into_owned();
        self.ns.sh_env(
            &format!("sh '{path}' {step}"),
            &[
                ("LAB_NS_PREFIX", &self.prefix),
                ("IPVSADM", &ours),
                ("REQUESTS", &requests.to_string()),
            ],
        )
    }

    /// Starts the `traffic` step with `requests` requests in the
    /// background, its output piped.
    pub fn spawn_traffic(&self, requests: u32) -> std::io::Result<Child> {
        Command::new("sh")
            .arg(self.script.path())
            .arg("traffic")
            .env("LAB_NS_PREFIX", &self.prefix)
            .env("IPVSADM", self.ns.ours_path())
            .env("REQUESTS", requests.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    }

    /// `requests` HTTP requests from the client pod to `service`
    /// (`ADDR:PORT`), which may be any service the pods serve.
    #[track_caller]
    pub fn requests(&self, service: &str, requests: u32) {
        let out = self.ns.sh(&format!(
            "i=0; while [ $i -lt {requests} ]; do
               /sbin/ip netns exec {prefix}net-pod busybox wget -q -O - http://{service}/ || exit 1
               i=$((i + 1))
             done",
            prefix = self.prefix
        ));
        assert!(
            out.status.success(),
            "requests to {service}:\n{}",
            render(&out)
        );
    }
}

impl Drop for KubeDemo<'_> {
    fn drop(&mut self) {
        let _ = self.step("cleanup");
    }
}
