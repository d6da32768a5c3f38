use proptest::prelude::*;

use crate::cli::RestoreOptions;
use crate::fake::FakeIpvs;
use crate::listing;
use crate::model::{Info, Stats};
use crate::output::save::write_save_entry;
use crate::plan::tests::{fake_of, normal, table};
use crate::render::json;
use crate::resolve::FakeResolver;
use crate::restore::run_with;
use crate::session::{Session, Streams};

struct Outcome {
    status: i32,
    stdout: String,
    stderr: String,
}

fn restore(
    table: &mut FakeIpvs,
    atomic: bool,
    options: RestoreOptions,
    input: &str,
) -> Outcome {
    let names = FakeResolver::new();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut stdin = input.as_bytes();
    let status = {
        let mut session = Session {
            ipvs: table,
            info: Info {
                version: 0x010201,
                conn_tab_size: 4096,
            },
            names: &names,
            conn_file: "/nonexistent".into(),
            argv0: "ipvsadm".into(),
        };
        let mut io = Streams {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
        };
        run_with(
            &mut session,
            atomic,
            options,
            &mut io,
            crate::dispatch::execute_command,
        )
        .expect("no output error")
    };
    Outcome {
        status,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

const REPLACE: RestoreOptions = RestoreOptions {
    replace: true,
    dry_run: false,
    json_input: false,
    json_plan: false,
    pretty: false,
    drain: None,
};
const DRY_RUN: RestoreOptions = RestoreOptions {
    dry_run: true,
    ..REPLACE
};

/// `ipvsadm -Sn` of the table.
fn save(table: &mut FakeIpvs) -> String {
    let entries = listing::read_table(table, false).unwrap();
    let mut out = Vec::new();
    for e in &entries {
        write_save_entry(&mut out, &e.service, &e.dests, true, &FakeResolver::new())
            .unwrap();
    }
    String::from_utf8(out).unwrap()
}

const CURRENT: &str = "\
-A -t 10.0.0.1:80 -s wrr -p 300
-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 3
-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 4
-A -u 10.0.0.2:53 -s rr
-a -u 10.0.0.2:53 -r 10.0.1.3:53 -g -w 1
-A -f 7 -s lc
-a -f 7 -r 10.0.1.4:0 -g -w 1
-A -t [2001:db8::1]:80 -s rr
-a -t [2001:db8::1]:80 -r [2001:db8:1::1]:80 -m -w 1
";

/// Scheduler, weight, persistence timeout changed; a real server added
/// and one removed; a service added and one removed.
const DESIRED: &str = "\
-A -t 10.0.0.1:80 -s wrr -p 600
-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 5
-a -t 10.0.0.1:80 -r 10.0.1.9:80 -m -w 1 -x 100 -y 10
-A -u 10.0.0.2:53 -s wlc
-a -u 10.0.0.2:53 -r 10.0.1.3:53 -g -w 1
-A -t [2001:db8::1]:80 -s rr
-a -t [2001:db8::1]:80 -r [2001:db8:1::1]:80 -m -w 1
-A --sctp-service 10.0.0.3:5060 -s rr
-a --sctp-service 10.0.0.3:5060 -r 10.0.1.5:5060 -m -w 2
";

fn current() -> FakeIpvs {
    let mut t = FakeIpvs::default();
    let out = restore(&mut t, false, RestoreOptions::default(), CURRENT);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    for (svc, dests) in &mut t.services {
        svc.stats.conns = 42;
        for d in dests {
            d.stats.conns = 7;
        }
    }
    t
}

#[test]
fn the_dry_run_prints_the_changes_in_order_and_changes_nothing() {
    let mut t = current();
    let before = save(&mut t);
    let out = restore(&mut t, false, DRY_RUN, DESIRED);
    assert_eq!(out.stderr, "");
    assert_eq!(out.status, 1);
    assert_eq!(
        out.stdout,
        "\
-E -t 10.0.0.1:80 -s wrr -p 600
-a -t 10.0.0.1:80 -r 10.0.1.9:80 -m -w 1 -x 100 -y 10
-e -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 5
-d -t 10.0.0.1:80 -r 10.0.1.2:80
-E -u 10.0.0.2:53 -s wlc
-A --sctp-service 10.0.0.3:5060 -s rr
-a --sctp-service 10.0.0.3:5060 -r 10.0.1.5:5060 -m -w 2
-D -f 7
"
    );
    assert_eq!(save(&mut t), before);
}

#[test]
fn a_restore_of_the_plan_applies_it() {
    let mut planned = current();
    let plan = restore(&mut planned, false, DRY_RUN, DESIRED).stdout;
    let out = restore(&mut planned, false, RestoreOptions::default(), &plan);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    let mut replaced = current();
    restore(&mut replaced, false, REPLACE, DESIRED);
    let mut fresh = FakeIpvs::default();
    restore(&mut fresh, false, RestoreOptions::default(), DESIRED);
    assert_eq!(save(&mut planned), save(&mut fresh));
    assert_eq!(save(&mut replaced), save(&mut fresh));
}

#[test]
fn replace_edits_in_place_says_what_it_did_and_then_that_nothing_is_left() {
    let mut t = current();
    let out = restore(&mut t, false, REPLACE, DESIRED);
    assert_eq!(out.stderr, "");
    assert_eq!(out.status, 0);
    assert_eq!(
        out.stdout,
        "replace: 8 changes applied (services: 1 added, 2 edited, 1 deleted; \
         real servers: 2 added, 1 edited, 1 deleted)\n"
    );
    // Edited services and real servers kept their counters.
    let entries = listing::read_table(&mut t, true).unwrap();
    for e in &entries {
        let kept = !matches!(
            e.service.id.addr,
            crate::model::ServiceAddr::Inet {
                protocol: crate::model::Protocol::Sctp,
                ..
            }
        );
        assert_eq!(e.service.stats.conns == 42, kept, "{:?}", e.service.id);
    }
    let again = restore(&mut t, false, REPLACE, DESIRED);
    assert_eq!(
        (again.status, again.stdout.as_str(), again.stderr.as_str()),
        (0, "replace: no changes, the table already matches\n", "")
    );
    let dry = restore(&mut t, false, DRY_RUN, DESIRED);
    assert_eq!(
        (dry.status, dry.stdout.as_str(), dry.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn the_table_own_save_is_no_change() {
    let mut t = current();
    let input = save(&mut t);
    let out = restore(&mut t, false, DRY_RUN, &input);
    assert_eq!(
        (out.status, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn bad_input_is_reported_by_line_with_status_2_and_nothing_applied() {
    let mut t = current();
    let before = save(&mut t);
    let input = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.9:80 -r 10.0.1.1:80
-A -t 10.0.0.1:80 -s wlc
-a -t 10.0.0.1:80 -r 10.0.1.1:80 -w -3
-a -t 10.0.0.1:80 -r 10.0.1.1:80
-a -t 10.0.0.1:80 -r 10.0.1.1:80
-C
";
    for options in [REPLACE, DRY_RUN] {
        let out = restore(&mut t, false, options, input);
        assert_eq!(out.status, 2);
        assert_eq!(out.stdout, "");
        let verb = if options.dry_run {
            "planned"
        } else {
            "applied"
        };
        assert_eq!(
            out.stderr,
            format!(
                "line 2: a real server of a service no -A line before it gives\n\
                 line 3: the service of line 1 again\n\
                 line 4: illegal weight specified\n\
                 line 6: the real server of line 5 again\n\
                 line 7: only -A and -a lines describe the table for --replace\n\
                 replace: 5 invalid lines, nothing {verb}\n"
            )
        );
        assert_eq!(save(&mut t), before);
    }
}

#[test]
fn an_empty_input_deletes_everything() {
    let mut t = current();
    let out = restore(&mut t, false, DRY_RUN, "# nothing\n");
    // Services are deleted in the order -S lists them.
    let deletes: String = save(&mut t)
        .lines()
        .filter_map(|l| l.strip_prefix("-A "))
        .map(|l| format!("-D {}\n", l.split(" -s ").next().unwrap()))
        .collect();
    assert_eq!(out.stdout, deletes);
    restore(&mut t, false, REPLACE, "");
    assert_eq!(save(&mut t), "");
}

#[test]
fn atomic_rolls_back_a_replace_that_fails() {
    let mut t = current();
    let before = save(&mut t);
    let input = DESIRED.replace("-s wlc", "-s nosuch");
    let out = restore(&mut t, true, REPLACE, &input);
    assert_eq!(out.status, 255);
    assert!(
        out.stderr.starts_with(
            "change 5 (-E -u 10.0.0.2:53 -s nosuch): Scheduler or persistence engine not found\n"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("replace: 1 of 8 changes failed\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("restore: rolled back"),
        "{}",
        out.stderr
    );
    assert_eq!(save(&mut t), before);
    // The counters of what was edited and edited back are still there.
    let entries = listing::read_table(&mut t, true).unwrap();
    assert!(entries.iter().all(|e| e.service.stats.conns == 42));
}

/// `-L --json` of a table.
fn json_of(table: &mut FakeIpvs) -> String {
    let mut entries = listing::read_table(table, false).unwrap();
    listing::sort_real_servers(&mut entries, false);
    let info = Info {
        version: 0x010201,
        conn_tab_size: 4096,
    };
    let mut out = Vec::new();
    json::write(&mut out, &json::table(&info, &entries), true).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_json_of_one_table_makes_another_equal_to_it() {
    let mut source = FakeIpvs::default();
    restore(&mut source, false, RestoreOptions::default(), DESIRED);
    for (svc, _) in &mut source.services {
        svc.stats = Stats {
            conns: 99,
            cps: 3,
            ..Stats::default()
        };
    }
    let doc = json_of(&mut source);
    let json_in = RestoreOptions {
        json_input: true,
        ..REPLACE
    };
    let mut t = current();
    let out = restore(&mut t, false, json_in, &doc);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    assert_eq!(save(&mut t), save(&mut source));
    // Counters in the input are ignored: the edited services kept theirs.
    assert!(t.services.iter().any(|(s, _)| s.stats.conns == 42));
    let dry = restore(
        &mut t,
        false,
        RestoreOptions {
            dry_run: true,
            ..json_in
        },
        &doc,
    );
    assert_eq!((dry.status, dry.stdout.as_str()), (0, ""));
    // Plain -R takes it too.
    let mut fresh = FakeIpvs::default();
    let plain = RestoreOptions {
        json_input: true,
        ..RestoreOptions::default()
    };
    let out = restore(&mut fresh, false, plain, &doc);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    assert_eq!(save(&mut fresh), save(&mut source));
}

#[test]
fn bad_json_is_reported_where_it_is_and_nothing_applied() {
    let json_in = RestoreOptions {
        json_input: true,
        ..REPLACE
    };
    let mut t = current();
    let before = save(&mut t);
    let cases = [
        (
            "{\"schema_version\": 1,\n \"services\": [}",
            "restore: invalid JSON input: expected value at line 2 column 15\n",
        ),
        (
            "{\"schema_version\": 1, \"services\": [{\"af\": \"inet\"}]}",
            "restore: invalid JSON input: missing field `sched_name` at line 1 column 49\n",
        ),
    ];
    for (doc, message) in cases {
        let out = restore(&mut t, false, json_in, doc);
        assert_eq!(out.status, 2);
        assert_eq!(out.stderr, format!("{message}restore: nothing applied\n"));
        assert_eq!(save(&mut t), before);
    }
    // A value the -R parser rejects is named by where it is.
    let mut source = FakeIpvs::default();
    restore(&mut source, false, RestoreOptions::default(), DESIRED);
    let doc = json_of(&mut source).replace("\"weight\": 5", "\"weight\": -3");
    let out = restore(&mut t, false, json_in, &doc);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .contains("].real_servers[0]: illegal weight specified\n"),
        "{}",
        out.stderr
    );
    assert_eq!(save(&mut t), before);
}

#[test]
fn the_json_plan_has_each_change_with_its_settings_before_and_after() {
    let mut t = current();
    let json_plan = RestoreOptions {
        json_plan: true,
        ..DRY_RUN
    };
    let out = restore(&mut t, false, json_plan, DESIRED);
    assert_eq!((out.status, out.stderr.as_str()), (1, ""));
    assert_eq!(out.stdout.lines().count(), 1);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    let changes = doc["changes"].as_array().unwrap();
    let kinds: Vec<&str> = changes
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "edit_service",
            "add_real_server",
            "edit_real_server",
            "delete_real_server",
            "edit_service",
            "add_service",
            "add_real_server",
            "delete_service"
        ]
    );
    let edit = &changes[0];
    assert_eq!(edit["rule"], "-E -t 10.0.0.1:80 -s wrr -p 600");
    assert_eq!(
        edit["service"],
        serde_json::json!({"af": "inet", "protocol": "tcp", "addr": "10.0.0.1",
                           "port": 80, "fwmark": null})
    );
    assert_eq!(edit["real_server"], serde_json::Value::Null);
    assert_eq!(edit["before"]["timeout"], 300);
    assert_eq!(edit["after"]["timeout"], 600);
    assert_eq!(edit["after"]["flags"], serde_json::json!(["persistent"]));
    let weight = &changes[2];
    assert_eq!(
        weight["real_server"],
        serde_json::json!({"af": "inet", "addr": "10.0.1.1", "port": 80})
    );
    assert_eq!(weight["before"]["weight"], 3);
    assert_eq!(weight["after"]["weight"], 5);
    assert_eq!(weight["after"]["fwd_method"], "masq");
    assert_eq!(changes[3]["after"], serde_json::Value::Null);
    assert_eq!(changes[7]["service"]["fwmark"], 7);
    assert_eq!(doc["counts"]["total"], 8);
    assert_eq!(doc["counts"]["real_servers_deleted"], 1);
}

#[test]
fn a_save_that_leaves_out_a_setting_is_not_taken_as_no_change() {
    // `-S` writes no thresholds: its lines of a real server with some
    // describe one without, and the plan sets them to 0.
    let mut t = current();
    for (_, dests) in &mut t.services {
        for d in dests {
            if d.addr == std::net::IpAddr::from([10, 0, 1, 3]) {
                d.u_threshold = 100;
                d.l_threshold = 10;
            }
        }
    }
    let input = save(&mut t);
    let out = restore(&mut t, false, DRY_RUN, &input);
    assert_eq!(
        (out.status, out.stdout.as_str(), out.stderr.as_str()),
        (1, "-e -u 10.0.0.2:53 -r 10.0.1.3:53 -g -w 1\n", "")
    );
    let out = restore(&mut t, false, REPLACE, &input);
    assert_eq!(out.status, 0);
    let out = restore(&mut t, false, DRY_RUN, &input);
    assert_eq!((out.status, out.stdout.as_str()), (0, ""));
}

#[test]
fn a_save_of_the_table_is_no_change_for_replace_too() {
    let mut t = current();
    let input = save(&mut t);
    let out = restore(&mut t, false, REPLACE, &input);
    assert_eq!(
        (out.status, out.stdout.as_str(), out.stderr.as_str()),
        (0, "replace: no changes, the table already matches\n", "")
    );
    // One line more, or one less, is a change.
    let out = restore(
        &mut t,
        false,
        DRY_RUN,
        &format!("{input}-A -t 10.9.9.9:80 -s rr\n"),
    );
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (1, "-A -t 10.9.9.9:80 -s rr\n")
    );
    let lines: Vec<&str> = input.lines().collect();
    assert_eq!(
        lines[lines.len() - 2..],
        ["-A -f 7 -s lc", "-a -f 7 -r 10.0.1.4:0 -g -w 1"]
    );
    let fewer: String = lines[..lines.len() - 2]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    let out = restore(&mut t, false, DRY_RUN, &fewer);
    assert_eq!((out.status, out.stdout.as_str()), (1, "-D -f 7\n"));
}

/// `t` without what `-R` refuses to make (one-packet scheduling of a
/// service that is not UDP), so that its `-S` lines restore it.
fn expressible(
    mut t: Vec<crate::model::ServiceEntry>,
) -> Vec<crate::model::ServiceEntry> {
    for e in &mut t {
        let udp = matches!(
            e.service.id.addr,
            crate::model::ServiceAddr::Inet {
                protocol: crate::model::Protocol::Udp,
                ..
            }
        );
        if !udp {
            e.service.flags -= crate::model::ServiceFlags::ONEPACKET;
        }
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The dry run's lines, restored with plain `-R`, make the table the
    /// one `--replace` makes: the input's.
    #[test]
    fn a_restore_of_the_printed_plan_makes_the_desired_table(
        current in table(),
        desired in table().prop_map(expressible),
    ) {
        let mut wanted = fake_of(&desired);
        let input = save(&mut wanted);
        let mut t = fake_of(&current);
        let dry = restore(&mut t, false, DRY_RUN, &input);
        prop_assert_eq!(dry.stderr.as_str(), "");
        prop_assert_eq!(dry.status, if dry.stdout.is_empty() { 0 } else { 1 });
        let out = restore(&mut t, false, RestoreOptions::default(), &dry.stdout);
        prop_assert_eq!((out.status, out.stderr.as_str()), (0, ""), "{}", dry.stdout);
        let mut fresh = FakeIpvs::default();
        restore(&mut fresh, false, RestoreOptions::default(), &input);
        let made = listing::read_table(&mut t, true).unwrap();
        let restored = listing::read_table(&mut fresh, true).unwrap();
        prop_assert_eq!(normal(&made), normal(&restored));
        let again = restore(&mut t, false, DRY_RUN, &input);
        prop_assert_eq!((again.status, again.stdout.as_str()), (0, ""));
    }

    /// The table document read back is the table: the reader's keys are
    /// the writer's.
    #[test]
    fn the_json_document_reads_back_as_the_table(t in table()) {
        let mut fake = fake_of(&t);
        let doc = json_of(&mut fake);
        let read = json::input::read_table(doc.as_bytes()).unwrap();
        prop_assert_eq!(normal(&read), normal(&t));
    }

    /// Parsing only the blocks of the input that differ from the kernel's
    /// `-Sn` plans what parsing all of it plans: the plan of the whole
    /// input against the whole table, printed. The input mixes services as
    /// the table has them with changed ones, and sometimes gives every
    /// real server after every service, so that lines of one block name
    /// the service of another.
    #[test]
    fn the_plan_of_the_blocks_that_differ_is_the_plan_of_the_whole_input(
        current in table().prop_map(expressible),
        other in table().prop_map(expressible),
        taken in prop::collection::vec(any::<bool>(), 7),
        real_servers_last in any::<bool>(),
    ) {
        let mut fake = fake_of(&current);
        let current_save = save(&mut fake);
        let mut wanted = fake_of(&other);
        let other_save = save(&mut wanted);
        // Each block from the current table or from the other, by service.
        let blocks = |text: &str| -> Vec<String> {
            let mut blocks: Vec<String> = Vec::new();
            for line in text.lines() {
                match blocks.last_mut() {
                    Some(block) if !line.starts_with("-A ") => {
                        block.push_str(line);
                        block.push('\n');
                    }
                    _ => blocks.push(format!("{line}\n")),
                }
            }
            blocks
        };
        let id_of = |block: &str| block.lines().next().unwrap_or("").split(" -s ").next().unwrap_or("").to_string();
        let theirs = blocks(&other_save);
        let mut input_blocks: Vec<String> = Vec::new();
        for (i, block) in blocks(&current_save).into_iter().enumerate() {
            if taken.get(i).copied().unwrap_or(false) {
                if let Some(b) = theirs.iter().find(|b| id_of(b) == id_of(&block)) {
                    input_blocks.push(b.clone());
                }
            } else {
                input_blocks.push(block);
            }
        }
        for block in &theirs {
            if !blocks(&current_save).iter().any(|b| id_of(b) == id_of(block)) {
                input_blocks.push(block.clone());
            }
        }
        let input: String = if real_servers_last {
            let lines: Vec<&str> = input_blocks.iter().flat_map(|b| b.lines()).collect();
            let (services, servers): (Vec<&str>, Vec<&str>) =
                lines.iter().partition(|l| l.starts_with("-A "));
            services.iter().chain(&servers).map(|l| format!("{l}\n")).collect()
        } else {
            input_blocks.concat()
        };

        let whole = super::desired::Blocks::cut(input.as_bytes());
        let desired = match super::desired::parse("ipvsadm", &whole, &Default::default()) {
            super::desired::Parsed::Table(t) => t,
            other => panic!("{other:?}"),
        };
        let table = listing::read_table(&mut fake, false).unwrap();
        let expected: String = crate::plan::plan(&table, &desired)
            .iter()
            .map(|step| format!("{}\n", super::rule_of(step)))
            .collect();
        let out = restore(&mut fake, false, DRY_RUN, &input);
        prop_assert_eq!(out.stderr.as_str(), "");
        prop_assert_eq!(out.stdout.as_str(), expected.as_str(), "{}", input);
        prop_assert_eq!(out.status, if expected.is_empty() { 0 } else { 1 });
    }
}

#[test]
fn a_real_server_given_apart_from_its_service_is_planned() {
    // `-A -t 10.0.0.9:80 -s rr` alone is what `-Sn` writes of that service
    // with no real server; the real server comes after another service.
    let mut t = FakeIpvs::default();
    let table = "-A -t 10.0.0.9:80 -s rr\n-A -t 10.0.0.8:80 -s rr\n";
    restore(&mut t, false, RestoreOptions::default(), table);
    let input = "\
-A -t 10.0.0.9:80 -s rr
-A -t 10.0.0.8:80 -s rr
-a -t 10.0.0.9:80 -r 10.0.1.1:80 -m -w 1
";
    let out = restore(&mut t, false, DRY_RUN, input);
    assert_eq!(
        (out.status, out.stdout.as_str(), out.stderr.as_str()),
        (1, "-a -t 10.0.0.9:80 -r 10.0.1.1:80 -m -w 1\n", "")
    );
}

#[test]
fn a_service_as_the_table_has_it_given_twice_is_an_error() {
    let mut t = current();
    let input = format!("{}-A -t 10.0.0.1:80 -s wrr -p 300\n", save(&mut t));
    let out = restore(&mut t, false, DRY_RUN, &input);
    assert_eq!(out.status, 2);
    assert_eq!(
        out.stderr,
        "line 10: the service of line 1 again\nreplace: 1 invalid line, nothing planned\n"
    );
}

const DRAIN_NOW: RestoreOptions = RestoreOptions {
    drain: Some(std::time::Duration::ZERO),
    ..REPLACE
};

#[test]
fn drain_deletes_what_has_no_connections_and_keeps_the_rest_at_weight_0() {
    let mut t = current();
    // 10.0.1.2 (removed from 10.0.0.1:80) has no connection; the fwmark
    // service the input lacks has one on its real server.
    for (svc, dests) in &mut t.services {
        for d in dests {
            d.active_conns =
                u32::from(matches!(svc.id.addr, crate::model::ServiceAddr::Fwmark(_)));
        }
    }
    let out = restore(&mut t, false, DRAIN_NOW, DESIRED);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "replace: 7 changes applied (services: 1 added, 2 edited, 0 deleted; \
         real servers: 2 added, 1 edited, 1 deleted)\n"
    );
    assert_eq!(
        out.stderr,
        "real server 10.0.1.4:0 of FWM 7 still has 1 connection (1 active, 0 inactive, \
         0 persistent) after 0 s: left in place with weight 0\n\
         replace: 1 real server left in place with weight 0, and 1 service not deleted\n"
    );
    let saved = save(&mut t);
    assert!(
        saved.contains("-A -f 7 -s lc\n-a -f 7 -r 10.0.1.4:0 -g -w 0\n"),
        "{saved}"
    );
    assert!(!saved.contains("10.0.1.2"), "{saved}");
    // Once the connection is gone, the same replace finishes the job.
    for (_, dests) in &mut t.services {
        for d in dests {
            d.active_conns = 0;
        }
    }
    let out = restore(&mut t, false, DRAIN_NOW, DESIRED);
    assert_eq!(
        (out.status, out.stdout.as_str(), out.stderr.as_str()),
        (
            0,
            "replace: 1 change applied (services: 0 added, 0 edited, 1 deleted; \
             real servers: 0 added, 0 edited, 0 deleted)\n",
            ""
        )
    );
    let mut fresh = FakeIpvs::default();
    restore(&mut fresh, false, RestoreOptions::default(), DESIRED);
    assert_eq!(save(&mut t), save(&mut fresh));
}

#[test]
fn drain_removes_nothing_after_a_failed_change() {
    let mut t = current();
    // A real server of a scheduler the fake refuses makes the add fail.
    let input = DESIRED.replace(
        "-A --sctp-service 10.0.0.3:5060 -s rr",
        "-A --sctp-service 10.0.0.3:5060 -s nosuch",
    );
    let before = save(&mut t);
    let out = restore(&mut t, false, DRAIN_NOW, &input);
    assert_eq!(out.status, 255, "{}", out.stderr);
    assert!(
        out.stderr.contains("nothing drained or deleted"),
        "{}",
        out.stderr
    );
    let after = save(&mut t);
    assert!(
        after.contains("10.0.1.2:80") && after.contains("-A -f 7"),
        "{before}\n{after}"
    );
}
