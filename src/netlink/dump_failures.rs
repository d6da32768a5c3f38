//! Listings through the real socket code when the kernel fails part-way:
//! `-Ln`, `-Sn`, `-Ln --json` and a `--watch --json` tick, run as the
//! binary runs them ([`crate::dispatch::execute`]) on a [`NetlinkIpvs`]
//! whose sockets talk to a scripted kernel ([`super::scripted`]). The
//! kernel's answers are the bytes captured from Linux 6.1
//! (`netlink/tests.rs`), framed as the kernel frames them, then an
//! `NLMSG_ERROR` or a dump part flagged `NLM_F_DUMP_INTR`.
//!
//! The oracles: ipvsadm 1.31 (the spec): `list_all` prints the version
//! header, then reads the services (`ipvs_get_services`; on failure the
//! message of `ipvs_strerror(errno)`, status 1), then per service reads its
//! real servers before printing it (on failure the message, status 1, after
//! the services printed before); the messages of spec §10.1. libipvs takes
//! the errno of an error ack; a dump libnl reports as interrupted
//! (`-NLE_DUMP_INTR`, after reading it to `NLMSG_DONE`) has none, and
//! libipvs reports `EINVAL`. For JSON and the watch, which 1.31 does not
//! have, the documented behaviour (README, CHANGELOG): a listing that
//! cannot start prints nothing; one cut short prints what it listed, then
//! the error, as `-L` does.
#![cfg(target_endian = "little")]

use std::io;

use netlink_packet_core::{NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTIPART};
use pretty_assertions::assert_eq;

use super::NetlinkIpvs;
use super::consts::{IPVS_CMD_GET_DEST, IPVS_CMD_GET_INFO, IPVS_CMD_GET_SERVICE};
use super::scripted::{self, FAMILY_ID, ScriptedKernel, done, dump_part, error, message};
use super::socket::GenlSocket;
use super::tests::{
    DEST_MASQ_WITH_STATS, INFO_REPLY, SERVICE_FWMARK_SCHED_FLAGS, SERVICE_TCP_WITH_STATS,
    unhex,
};
use crate::backend::IpvsBackend;
use crate::session::{Session, Streams};

/// 1.31's messages (spec §10.1).
const EPERM_MESSAGE: &str = "Permission denied (you must be root)\n";
const ENOMEM_MESSAGE: &str = "Memory allocation problem\n";
const EINVAL_MESSAGE: &str =
    "Invalid operation.  Possibly wrong module version, address not unicast, ...\n";
/// `get_dests` has no message of its own for ENOENT: `strerror`.
const ENOENT_MESSAGE: &str = "No such file or directory\n";
const ESRCH_MESSAGE: &str = "No such service\n";

/// `list_all`'s header for the captured `GET_INFO` reply (1.2.1, 4096).
const HEADER: &str = "IP Virtual Server version 1.2.1 (size=4096)\n";
/// `print_title`'s default lines.
const TITLE: &str = "Prot LocalAddress:Port Scheduler Flags\n  \
                     -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";

/// The first service of the listing (TCP 10.200.1.76:9000 rr, fwmark 0,
/// so it sorts before the fwmark service the kernel lists first) and its
/// one real server (10.10.3.2:80 masq, weight 1, 0 active, 34 inactive),
/// in `print_service_entry`'s formats: `"%-4s %s"` then `" %s"` for the
/// scheduler; `"  -> %-28s %-7s %-6d %-10u %-10u\n"`.
fn first_service_text() -> String {
    format!(
        "{:<4} {} {}\n  -> {:<28} {:<7} {:<6} {:<10} {:<10}\n",
        "TCP", "10.200.1.76:9000", "rr", "10.10.3.2:80", "Masq", 1, 0, 34
    )
}

/// The same in `-S -n`'s formats (spec §7.10).
const FIRST_SERVICE_SAVED: &str = "-A -t 10.200.1.76:9000 -s rr\n\
                                   -a -t 10.200.1.76:9000 -r 10.10.3.2:80 -m -w 1\n";

/// The backend on `kernel`, as `NetlinkIpvs::new` opens it: the family
/// resolved on the main socket, real servers dumped on a second socket
/// with page-sized slots.
fn backend_on(kernel: &ScriptedKernel) -> NetlinkIpvs {
    let mut socket = GenlSocket::scripted(kernel.socket(), 32 << 10);
    let family_id = super::resolve_family(&mut socket)
        .expect("the family resolves")
        .expect("the family exists");
    assert_eq!(family_id, FAMILY_ID);
    NetlinkIpvs {
        socket,
        dest_dumps: super::DestDumpSocket::Open(Box::new(GenlSocket::scripted(
            kernel.socket(),
            4096 - 320,
        ))),
        family_id,
        send_buf: Vec::new(),
    }
}

/// A kernel that has answered the family lookup and `GET_INFO` (as the
/// program's start does), with `answers` for the listing's requests.
fn kernel_with(answers: Vec<Vec<Vec<u8>>>) -> ScriptedKernel {
    let kernel = ScriptedKernel::new();
    let mut info = message(FAMILY_ID, 0, &unhex(INFO_REPLY));
    info.extend_from_slice(&error(0));
    kernel.answer_with(vec![info]);
    for answer in answers {
        kernel.answer_with(answer);
    }
    kernel
}

/// The services dump: the fwmark service, then the TCP one (the order a
/// kernel can list them in), then the end, each in its own datagram.
fn services_dump() -> Vec<Vec<u8>> {
    vec![
        dump_part(&unhex(SERVICE_FWMARK_SCHED_FLAGS)),
        dump_part(&unhex(SERVICE_TCP_WITH_STATS)),
        done(),
    ]
}

/// The TCP service's real-server dump.
fn tcp_dests_dump() -> Vec<Vec<u8>> {
    vec![dump_part(&unhex(DEST_MASQ_WITH_STATS)), done()]
}

/// Runs `args` as the binary does on a fresh backend on `kernel`:
/// (stdout, stderr, status).
fn run(kernel: &ScriptedKernel, args: &[&str]) -> (String, String, i32) {
    let mut ipvs = backend_on(kernel);
    let info = ipvs.info().expect("GET_INFO is answered");
    let argv: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    let inv = crate::cli::parse_args("ipvsadm", &argv).expect("valid arguments");
    let names = crate::resolve::FakeResolver::new();
    let mut session = Session {
        ipvs: &mut ipvs,
        info,
        names: &names,
        conn_file: "/nonexistent".into(),
        argv0: "ipvsadm".into(),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut stdin = io::empty();
    let rc = crate::dispatch::execute(
        &mut session,
        &inv,
        &mut Streams {
            stdin: &mut stdin,
            stdout: &mut out,
            stderr: &mut err,
        },
    )
    .expect("no output error");
    let text = |bytes| String::from_utf8(bytes).expect("UTF-8");
    (text(out), text(err), rc)
}

/// Runs `args` on a kernel with `answers` and checks that the listing
/// sent exactly the requests answered.
fn run_with(args: &[&str], answers: Vec<Vec<Vec<u8>>>) -> (String, String, i32) {
    let kernel = kernel_with(answers);
    let result = run(&kernel, args);
    assert_eq!(kernel.unanswered(), 0, "{args:?}: a request was not sent");
    result
}

/// The failing answers of the tests, each with 1.31's message for it.
fn request_failures() -> [(Vec<Vec<u8>>, &'static str); 3] {
    [
        // Not (or no longer) privileged: GENL_ADMIN_PERM's error ack.
        (vec![error(libc::EPERM)], EPERM_MESSAGE),
        (vec![error(libc::ENOENT)], ENOENT_MESSAGE),
        (vec![error(libc::ESRCH)], ESRCH_MESSAGE),
    ]
}

/// Requests are what the listing asks for: the family, `GET_INFO`, the
/// services dump, then one real-server dump per service in listing order.
#[test]
fn a_whole_listing_sends_the_requests_of_ipvsadm() {
    let kernel = kernel_with(vec![services_dump(), tcp_dests_dump(), vec![done()]]);
    let (out, err, rc) = run(&kernel, &["-Ln"]);
    assert_eq!((err.as_str(), rc), ("", 0));
    assert!(out.starts_with(&format!("{HEADER}{TITLE}{}", first_service_text())));
    let dump = |cmd| (FAMILY_ID, cmd, 0x0001 | 0x0004 | NLM_F_DUMP);
    let requests = kernel.requests();
    assert_eq!(
        requests[1..],
        [
            (FAMILY_ID, IPVS_CMD_GET_INFO, 0x0005),
            dump(IPVS_CMD_GET_SERVICE),
            dump(IPVS_CMD_GET_DEST),
            dump(IPVS_CMD_GET_DEST),
        ]
    );
}

/// The services dump refused: `list_all` has printed its header; the
/// message, status 1. `-S` has no header; JSON and the watch print nothing.
#[test]
fn a_services_dump_that_fails_at_once() {
    for (answer, message) in request_failures() {
        let cases = [
            (&["-Ln"][..], HEADER),
            (&["-Sn"][..], ""),
            (&["-Ln", "--json"][..], ""),
            (&["-Ln", "--json", "--watch", "--count=1"][..], ""),
        ];
        for (args, stdout) in cases {
            assert_eq!(
                run_with(args, vec![answer.clone()]),
                (stdout.to_string(), message.to_string(), 1),
                "{args:?}"
            );
        }
    }
}

/// An error ack inside the multipart services dump, after a part: libnl
/// stops there and libipvs returns no services, so nothing is listed.
#[test]
fn an_error_inside_the_services_dump_lists_nothing() {
    let mut part_then_error = dump_part(&unhex(SERVICE_TCP_WITH_STATS));
    part_then_error.extend_from_slice(&error(libc::ENOMEM));
    let answer = vec![
        dump_part(&unhex(SERVICE_FWMARK_SCHED_FLAGS)),
        part_then_error,
    ];
    assert_eq!(
        run_with(&["-Ln"], vec![answer.clone()]),
        (HEADER.to_string(), ENOMEM_MESSAGE.to_string(), 1)
    );
    assert_eq!(
        run_with(&["-Ln", "--json"], vec![answer]),
        (String::new(), ENOMEM_MESSAGE.to_string(), 1)
    );
}

/// The second service's real servers refused (EPERM after a namespace
/// change, ENOENT or ESRCH for a service deleted in between), or an error
/// ack inside their multipart dump after a part: the first service as
/// listed, then the message, status 1 (libipvs returns no real servers,
/// so the second service is not printed).
#[test]
fn a_real_server_dump_that_fails_after_a_service_was_listed() {
    let mut part_then_error = dump_part(&unhex(DEST_MASQ_WITH_STATS));
    part_then_error.extend_from_slice(&error(libc::ENOMEM));
    let inside_the_dump = (vec![part_then_error], ENOMEM_MESSAGE);
    for (answer, message) in request_failures().into_iter().chain([inside_the_dump]) {
        let answers = || vec![services_dump(), tcp_dests_dump(), answer.clone()];
        let listed = format!("{HEADER}{TITLE}{}", first_service_text());
        let expected = |stdout: &str| (stdout.to_string(), message.to_string(), 1);
        assert_eq!(run_with(&["-Ln"], answers()), expected(&listed));
        assert_eq!(run_with(&["-Sn"], answers()), expected(FIRST_SERVICE_SAVED));
        assert_json_cut_after_the_first_service(answers, message);
    }
}

/// `-Ln --json` and a `--watch --json` tick cut short where `-Ln` is: what
/// they print is the whole listing's document (or line) up to the end of
/// the first service, then the message, status 1.
fn assert_json_cut_after_the_first_service(
    answers: impl Fn() -> Vec<Vec<Vec<u8>>>,
    message: &str,
) {
    let mut whole_answers = answers();
    whole_answers.pop();
    whole_answers.push(vec![done()]);
    let (whole, _, rc) = run_with(&["-Ln", "--json"], whole_answers);
    assert_eq!(rc, 0);
    let whole: serde_json::Value = serde_json::from_str(&whole).expect("a JSON document");
    let first_service = &whole["services"][0];

    let (cut, err, rc) = run_with(&["-Ln", "--json"], answers());
    assert_eq!((err.as_str(), rc), (message, 1));
    let (head, services) = cut.split_once("\"services\":[").expect("services started");
    assert!(head.starts_with("{\"schema_version\":1,"), "{cut}");
    let listed: serde_json::Value =
        serde_json::from_str(&format!("[{services}]")).expect("whole services");
    assert_eq!(listed, serde_json::json!([first_service]));

    let watch = ["-Ln", "--json", "--watch", "--count=1"];
    let (tick, tick_err, tick_rc) = run_with(&watch, answers());
    assert_eq!((tick_err.as_str(), tick_rc), (message, 1));
    assert!(
        tick.starts_with("{\"schema_version\":1,\"tick\":1,"),
        "{tick}"
    );
    let (_, tick_services) = tick.split_once("\"services\":[").expect("services started");
    assert_eq!(tick_services, services);
}

/// The services dump flagged `NLM_F_DUMP_INTR` (the table changed while it
/// was taken): read to its end, then 1.31's failure, `EINVAL`'s message.
#[test]
fn an_interrupted_services_dump_fails_as_in_ipvsadm() {
    let answer = || {
        let mut dump = services_dump();
        dump[1] = scripted::message(
            FAMILY_ID,
            NLM_F_MULTIPART | NLM_F_DUMP_INTR,
            &unhex(SERVICE_TCP_WITH_STATS),
        );
        dump
    };
    let cases = [
        (&["-Ln"][..], HEADER),
        (&["-Sn"][..], ""),
        (&["-Ln", "--json"][..], ""),
        (&["-Ln", "--json", "--watch", "--count=1"][..], ""),
    ];
    for (args, stdout) in cases {
        assert_eq!(
            run_with(args, vec![answer()]),
            (stdout.to_string(), EINVAL_MESSAGE.to_string(), 1),
            "{args:?}"
        );
    }
}

/// A real-server dump flagged `NLM_F_DUMP_INTR` after a service was
/// listed: that service, then `EINVAL`'s message, status 1; and the
/// socket is left at the end of the dump (the next request is answered).
#[test]
fn an_interrupted_real_server_dump_fails_after_what_was_listed() {
    let interrupted = vec![
        scripted::message(
            FAMILY_ID,
            NLM_F_MULTIPART | NLM_F_DUMP_INTR,
            &unhex(DEST_MASQ_WITH_STATS),
        ),
        done(),
    ];
    let answers = || vec![services_dump(), tcp_dests_dump(), interrupted.clone()];
    let listed = format!("{HEADER}{TITLE}{}", first_service_text());
    assert_eq!(
        run_with(&["-Ln"], answers()),
        (listed, EINVAL_MESSAGE.to_string(), 1)
    );
    assert_eq!(
        run_with(&["-Sn"], answers()),
        (
            FIRST_SERVICE_SAVED.to_string(),
            EINVAL_MESSAGE.to_string(),
            1
        )
    );
    assert_json_cut_after_the_first_service(answers, EINVAL_MESSAGE);

    // The flag fails the dump it is on, not the socket: the next dump on
    // it is read whole.
    let kernel = kernel_with(vec![interrupted.clone(), tcp_dests_dump()]);
    let mut ipvs = backend_on(&kernel);
    ipvs.info().expect("GET_INFO is answered");
    let tcp = super::tests::captured_service(SERVICE_TCP_WITH_STATS).id;
    assert!(ipvs.dests(&tcp).is_err());
    let dests = ipvs.dests(&tcp).expect("the next dump is read whole");
    assert_eq!(dests.len(), 1);
}

/// `-L` of one service the kernel does not have (its `GET_SERVICE`
/// answered ESRCH): no header, nothing listed, `No such service`, status 1
/// (spec: "Not found → `No such service`, exit 1").
#[test]
fn a_single_service_that_is_gone() {
    for args in [
        &["-Ln", "-t", "10.200.1.76:9000"][..],
        &["-Ln", "-t", "10.200.1.76:9000", "--json"],
    ] {
        assert_eq!(
            run_with(args, vec![vec![error(libc::ESRCH)]]),
            (String::new(), ESRCH_MESSAGE.to_string(), 1),
            "{args:?}"
        );
    }
}

/// A real-server dump in a datagram larger than the page-sized slots of
/// the socket for real-server dumps (a kernel whose `NLMSG_GOODSIZE` is
/// larger than guessed): that socket is given up and the dump asked for
/// again on the main socket, and the listing is the one a kernel with
/// page-sized datagrams gives.
#[test]
fn a_real_server_dump_too_big_for_its_socket_is_read_on_the_main_one() {
    let answers = |tcp_dests: Vec<Vec<Vec<u8>>>| {
        let mut answers = vec![services_dump()];
        answers.extend(tcp_dests);
        answers.push(vec![done()]);
        answers
    };
    let expected = run_with(&["-Ln"], answers(vec![tcp_dests_dump()]));
    assert_eq!(expected.1, "");
    let mut big = Vec::new();
    while big.len() <= 4096 {
        big.extend_from_slice(&dump_part(&unhex(DEST_MASQ_WITH_STATS)));
    }
    let kernel = kernel_with(answers(vec![vec![big, done()], tcp_dests_dump()]));
    assert_eq!(run(&kernel, &["-Ln"]), expected);
    assert_eq!(kernel.unanswered(), 0);
    let sent: Vec<u8> = kernel.requests().iter().map(|r| r.1).collect();
    assert_eq!(
        sent[2..],
        [
            IPVS_CMD_GET_SERVICE,
            IPVS_CMD_GET_DEST,
            IPVS_CMD_GET_DEST,
            IPVS_CMD_GET_DEST
        ]
    );
}
