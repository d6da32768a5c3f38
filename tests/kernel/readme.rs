//! The README's commands, run as written (the text is taken from README.md
//! itself, so the test follows the documentation).
//!
//! The kind workflow needs `docker` and `kind`, which the lab VM has not: a
//! small shim stands in for them, with each kind node a named network
//! namespace and each node's files under a directory of its own. `docker cp`
//! copies into that directory and `docker exec NODE CMD` runs CMD in the
//! node's namespace with the node's directories first on `PATH`; everything
//! else (our binary, the kernel, jq) is real.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::compare::render;
use crate::support::netns::NamedNetns;
use crate::support::{
    Ns, TestResult, Trial, assert_ok, assert_same_output, assert_text_eq,
};

const README: &str = include_str!("../../README.md");

/// The kind nodes the README's commands name.
const NODES: [&str; 2] = ["myk8s-control-plane", "myk8s-worker"];
const CIP: &str = "10.96.0.10";
const CPORT: &str = "53";

pub fn tests() -> Vec<Trial> {
    // Named namespaces, jq and iproute2: the runner checks that they are
    // there before any test runs (never ignored).
    kernel_tests![
        usage_block_behaves_like_ipvsadm_1_31,
        kind_workflow_runs_as_written,
        prometheus_textfile_line_writes_a_parsable_file,
        netns_example_lists_a_containers_table,
    ]
}

/// The `n`th ```sh block after the heading `heading` (its full line).
fn sh_block(heading: &str, n: usize) -> String {
    let start = README
        .lines()
        .position(|l| l == heading)
        .unwrap_or_else(|| panic!("README has no heading {heading:?}"));
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in README.lines().skip(start + 1) {
        if current.is_none() && line.starts_with("#") {
            break;
        }
        match (&mut current, line) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
        .into_iter()
        .nth(n)
        .unwrap_or_else(|| panic!("README section {heading:?} has no sh block {n}"))
}

/// The inline command of a README paragraph: the `code` span that starts with
/// `prefix`.
fn inline_command(prefix: &str) -> String {
    README
        .split('`')
        .find(|span| span.starts_with(prefix))
        .unwrap_or_else(|| panic!("README has no `{prefix}...` command"))
        .to_string()
}

/// A directory with `ipvsadm` (a copy of `bin`) in it, for `PATH`.
fn bin_dir(bin: &Path) -> Result<tempfile::TempDir, std::io::Error> {
    let dir = tempfile::tempdir()?;
    std::fs::copy(bin, dir.path().join("ipvsadm"))?;
    Ok(dir)
}

fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs `script` with `sh -e` in the test's namespace, in `cwd`, with `env`.
fn sh_in(ns: &Ns, cwd: &Path, script: &str, env: &[(&str, &str)]) -> Output {
    let script = format!("cd '{}'\nset -e\n{script}", cwd.display());
    ns.sh_env(&script, env)
}

/// The README's first usage block, with our binary as `ipvsadm` and then
/// with ipvsadm 1.31 as `ipvsadm`: the same output and the same table.
fn usage_block_behaves_like_ipvsadm_1_31(ns: &Ns) -> TestResult {
    let block = sh_block("## Usage", 0);
    assert!(block.contains("ipvsadm -R < rules"), "{block}");
    let mut results = Vec::new();
    for bin in [ns.ours_path(), ns.reference_path()] {
        ns.flush();
        let dir = bin_dir(bin)?;
        let path = path_with(dir.path());
        let out = sh_in(ns, dir.path(), &block, &[("PATH", &path)]);
        assert!(
            out.status.success(),
            "README usage block:\n{}",
            render(&out)
        );
        let saved = ns.reference_read(&["-Sn"]);
        let rules = std::fs::read_to_string(dir.path().join("rules"))?;
        assert_text_eq("-R restored what -Sn saved", &rules, &text(&saved));
        results.push((out, saved));
    }
    assert_same_output("README usage block", &results[0].0, &results[1].0);
    assert_same_output("-Sn after it", &results[0].1, &results[1].1);
    Ok(())
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Named network namespaces for the test's nodes, deleted when dropped.
struct Nodes<'a> {
    ns: &'a Ns,
    netns: Vec<NamedNetns>,
}

impl<'a> Nodes<'a> {
    fn new(ns: &'a Ns, names: &[&str]) -> Result<Nodes<'a>, crate::support::Failed> {
        let netns = names
            .iter()
            .map(|name| NamedNetns::named(ns, name))
            .collect();
        Ok(Nodes { ns, netns })
    }

    /// Runs ipvsadm 1.31 in a node.
    fn reference(&self, node: &str, args: &str) -> Output {
        self.ns
            .sh(&format!("ip netns exec {node} \"$REFERENCE\" {args}"))
    }
}

/// The stand-ins for `kind` and `docker` (see the module docs).
const KIND_SHIM: &str = r#"#!/bin/sh
# kind shim: the nodes are named network namespaces.
[ "$*" = "get nodes" ] || { echo "kind shim: unsupported: $*" >&2; exit 1; }
printf '%s\n' $KIND_NODES
"#;

const DOCKER_SHIM: &str = r#"#!/bin/sh
# docker shim: a node is a named network namespace; its files live under
# $KIND_ROOT/NODE.
case "$1" in
cp)
	node=${3%%:*} path=${3#*:}
	mkdir -p "$KIND_ROOT/$node$(dirname "$path")" &&
		cp "$2" "$KIND_ROOT/$node$path"
	;;
exec)
	shift
	while [ "${1#-}" != "$1" ]; do shift; done
	node=$1
	shift
	root=$KIND_ROOT/$node
	exec ip netns exec "$node" env \
		PATH="$root/usr/local/sbin:$root/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$@"
	;;
*)
	echo "docker shim: unsupported: $*" >&2
	exit 1
	;;
esac
"#;

/// A kind "cluster" for the README's commands: the shims on `PATH`, the
/// static binary where the README's `docker cp` takes it from, and a
/// service with three endpoints in every node.
struct Cluster<'a> {
    nodes: Nodes<'a>,
    work: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl<'a> Cluster<'a> {
    fn new(ns: &'a Ns) -> Result<Cluster<'a>, crate::support::Failed> {
        let nodes = Nodes::new(ns, &NODES)?;
        let work = tempfile::tempdir()?;
        let shims = work.path().join("shims");
        std::fs::create_dir_all(&shims)?;
        for (name, text) in [("kind", KIND_SHIM), ("docker", DOCKER_SHIM)] {
            let file = shims.join(name);
            std::fs::write(&file, text)?;
            std::fs::set_permissions(
                &file,
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )?;
        }
        let release = work.path().join("target/x86_64-unknown-linux-musl/release");
        std::fs::create_dir_all(&release)?;
        std::fs::copy(ns.ours_path(), release.join("ipvsadm"))?;
        for (i, node) in NODES.iter().enumerate() {
            for args in [
                format!("-A -t {CIP}:{CPORT} -s rr"),
                format!("-a -t {CIP}:{CPORT} -r 10.244.{i}.2:53 -m"),
                format!("-a -t {CIP}:{CPORT} -r 10.244.{i}.3:53 -m -w 2"),
                format!("-A -u {CIP}:{CPORT} -s rr"),
            ] {
                assert_ok(
                    &format!("{node}: ipvsadm {args}"),
                    &nodes.reference(node, &args),
                );
            }
        }
        let env = vec![
            ("PATH".to_string(), path_with(&shims)),
            (
                "KIND_ROOT".to_string(),
                work.path().join("nodes").display().to_string(),
            ),
            ("KIND_NODES".to_string(), NODES.join(" ")),
            ("CIP".to_string(), CIP.to_string()),
            ("CPORT".to_string(), CPORT.to_string()),
        ];
        Ok(Cluster { nodes, work, env })
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn run(&self, script: &str) -> Output {
        sh_in(self.nodes.ns, self.work.path(), script, &self.env())
    }
}

fn kind_workflow_runs_as_written(ns: &Ns) -> TestResult {
    let section = "### kube-proxy in a kind cluster";
    let cluster = Cluster::new(ns)?;

    // 1. Copy the binary into every node, then --stats in the control plane.
    let copy_and_stats = sh_block(section, 0);
    assert!(copy_and_stats.contains("docker cp"), "{copy_and_stats}");
    let out = cluster.run(&copy_and_stats);
    let expected = cluster
        .nodes
        .reference(NODES[0], &format!("-Ln -t {CIP}:{CPORT} --stats"));
    assert_same_output(
        "README: docker cp loop, docker exec --stats",
        &out,
        &expected,
    );
    for node in NODES {
        let copied = cluster
            .work
            .path()
            .join("nodes")
            .join(node)
            .join("usr/local/sbin/ipvsadm");
        assert!(copied.is_file(), "{} was not copied", copied.display());
    }
    // Our table is the node's, not the test's own namespace's.
    assert!(ns.table_is_empty());

    // 2. The watch: a pipe here, so timestamped text blocks; it runs until
    // stopped, as it does for the reader of the README.
    let watch = sh_block(section, 1);
    assert!(watch.contains("--watch"), "{watch}");
    let first_tick = first_watch_tick(&cluster, &watch)?;
    assert!(
        first_tick.contains(&format!("TCP  {CIP}:{CPORT} rr")),
        "the watch shows the service:\n{first_tick}"
    );
    let service_listing = text(
        &cluster
            .nodes
            .reference(NODES[0], &format!("-Ln -t {CIP}:{CPORT}")),
    );
    let service_line = service_listing
        .lines()
        .find(|l| l.starts_with("TCP"))
        .unwrap_or_default();
    assert!(
        first_tick.contains(service_line),
        "the watch shows the listing:\n{first_tick}"
    );

    // 3. The whole cluster as one JSON document, one entry per node.
    let merge = sh_block(section, 2);
    assert!(merge.contains("jq -s"), "{merge}");
    let out = cluster.run(&merge);
    assert!(out.status.success(), "README jq merge:\n{}", render(&out));
    let doc: Value = serde_json::from_slice(&out.stdout)?;
    let entries = doc.as_array().ok_or("a JSON array")?;
    assert_eq!(entries.len(), NODES.len(), "{doc}");
    for (entry, node) in entries.iter().zip(NODES) {
        assert_eq!(entry["node"], node, "{entry}");
        assert_eq!(entry["schema_version"], 1, "{entry}");
        let services = entry["services"].as_array().ok_or("services")?;
        let found: Vec<(String, u64, usize)> = services
            .iter()
            .map(|s| {
                (
                    s["protocol"].as_str().unwrap_or("?").to_string(),
                    s["port"].as_u64().unwrap_or(0),
                    s["real_servers"].as_array().map_or(0, Vec::len),
                )
            })
            .collect();
        assert_eq!(
            found,
            [("tcp".to_string(), 53, 2), ("udp".to_string(), 53, 0)],
            "{node}: {entry}"
        );
        assert!(services.iter().all(|s| s["addr"] == CIP), "{node}: {entry}");
    }
    Ok(())
}

/// Starts `script` (a watch), returns its output up to the end of the first
/// tick (the second timestamp line), then stops it.
fn first_watch_tick(
    cluster: &Cluster,
    script: &str,
) -> Result<String, crate::support::Failed> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("cd '{}'\n{script}", cluster.work.path().display()))
        .env("OURS", cluster.nodes.ns.ours_path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0);
    for (k, v) in cluster.env() {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    let stdout = child.stdout.take().ok_or("piped stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut shown = String::new();
    let mut stamps = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while stamps < 2 && Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(line)) => {
                if is_timestamp_line(&line) {
                    stamps += 1;
                }
                if stamps < 2 {
                    shown.push_str(&line);
                    shown.push('\n');
                }
            }
            Ok(Err(_)) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    let still_running = child.try_wait()?.is_none();
    // The whole group: sh, ip netns exec and the watch.
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
    assert!(
        still_running && stamps == 2,
        "the watch should still be running after two ticks; saw {stamps} tick(s):\n{shown}"
    );
    Ok(shown)
}

/// The line that heads each block of a watch in a pipe (`Every 2s: TIME`).
fn is_timestamp_line(line: &str) -> bool {
    line.starts_with("Every ")
}

fn prometheus_textfile_line_writes_a_parsable_file(ns: &Ns) -> TestResult {
    let line = inline_command("ipvsadm -L --format prometheus > ");
    // The README writes into node_exporter's directory; here, a temporary one.
    let dir = tempfile::tempdir()?;
    let collector = dir.path().join("node_exporter");
    std::fs::create_dir_all(&collector)?;
    let line = line.replace("/var/lib/node_exporter", &collector.display().to_string());
    for args in [
        &["-A", "-t", "10.0.0.1:80", "-s", "rr"][..],
        &["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2:80", "-m"],
        &["-A", "-f", "7", "-s", "wrr"],
    ] {
        assert_ok("setup", &ns.reference(args));
    }
    let bins = bin_dir(ns.ours_path())?;
    let path = path_with(bins.path());
    let out = sh_in(ns, dir.path(), &line, &[("PATH", &path)]);
    assert!(out.status.success(), "{line}\n{}", render(&out));
    let entries: Vec<_> = std::fs::read_dir(&collector)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["ipvs.prom"], "only the final file is left");
    let written = std::fs::read_to_string(collector.join("ipvs.prom"))?;
    let direct = text(&ns.ours(&["-L", "--format", "prometheus"]));
    assert_text_eq("the textfile is the exposition", &direct, &written);
    let scrape =
        prometheus_parse::Scrape::parse(written.lines().map(|l| Ok(l.to_string())))?;
    let services: std::collections::BTreeSet<String> = scrape
        .samples
        .iter()
        .filter(|s| s.metric.contains("service"))
        .filter_map(|s| {
            s.labels
                .get("local_address")
                .map(|a| format!("{a}|{}", s.labels.get("local_mark").unwrap_or("")))
        })
        .collect();
    assert!(services.len() >= 2, "TCP and fwmark services: {services:?}");
    Ok(())
}

fn netns_example_lists_a_containers_table(ns: &Ns) -> TestResult {
    let block = sh_block("### Network namespaces", 0);
    assert!(block.contains("pidof kube-proxy"), "{block}");
    let nodes = Nodes::new(ns, &[&ns.unique("kp")])?;
    let node = nodes.netns[0].name().to_string();
    assert_ok(
        "setup",
        &nodes.reference(&node, "-A -t 10.96.0.1:443 -s rr"),
    );
    // A process called kube-proxy living in that namespace.
    let dir = tempfile::tempdir()?;
    let kube_proxy = dir.path().join("kube-proxy");
    std::fs::copy("/bin/sh", &kube_proxy)?;
    let mut proxy = Command::new("ip")
        .args(["netns", "exec", &node])
        .arg(&kube_proxy)
        .args(["-c", "sleep 60; :"])
        .stdin(Stdio::null())
        .spawn()?;
    let bins = bin_dir(ns.ours_path())?;
    let path = path_with(bins.path());
    // `ip netns exec` execs the program (same pid) once it has entered the
    // namespace: wait for that, then run the README's block once.
    let comm = format!("/proc/{}/comm", proxy.id());
    let mut became = false;
    for _ in 0..100 {
        if std::fs::read_to_string(&comm).is_ok_and(|c| c == "kube-proxy\n") {
            became = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(became, "ip netns exec never became kube-proxy ({comm})");
    let out = sh_in(ns, dir.path(), &block, &[("PATH", &path)]);
    let _ = proxy.kill();
    let _ = proxy.wait();
    let expected = nodes.reference(&node, "-Ln");
    assert_same_output("README --netns example", &out, &expected);
    assert!(text(&out).contains("10.96.0.1:443"), "{}", render(&out));
    assert!(ns.table_is_empty(), "the test's own table is untouched");
    Ok(())
}
