//! `/proc/net/ip_vs_conn`: arbitrary text through the parser and the `-c`
//! listing (text with a fake resolver, and JSON). The first byte picks
//! the listing options; the rest is the file's contents.
#![no_main]

use ipvsadm_rs::output::conn::{parse_conn_table, write_connections};
use ipvsadm_rs::resolve::FakeResolver;
use ipvsadm_rs::render::json;
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;

fuzz_target!(|data: &[u8]| {
    let Some((&options, text)) = data.split_first() else {
        return;
    };
    let persistent_conn = options & 1 != 0;
    let numeric = options & 2 != 0;
    let names = FakeResolver::new()
        .with_host(Ipv4Addr::new(10, 0, 0, 1).into(), "vip.example.com")
        .with_service(80, "tcp", "http");
    let mut out = Vec::new();
    let listed = write_connections(&mut out, text, persistent_conn, numeric, &names);
    let parsed = parse_conn_table(text);
    assert_eq!(listed.is_ok(), parsed.is_ok());
    if let Ok(entries) = parsed {
        let mut doc = Vec::new();
        json::write(&mut doc, &json::connections(&entries), options & 4 != 0)
            .expect("writing to memory");
    }
});
