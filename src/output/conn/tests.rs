//! Golden tests for `-L -c`, and robustness against arbitrary input.

use pretty_assertions::assert_eq;
use proptest::prelude::*;

use super::*;
use crate::output::fixtures::{ip, reference_names};
use crate::resolve::FakeResolver;

/// `cat /proc/net/ip_vs_conn`
const PROC_CONN: &str = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 2001:0db8:0000:0000:0000:0000:0000:0001 836C 2001:0db8:0000:0000:0000:0000:0000:0001 0050 2001:0db8:0000:0000:0000:0000:0000:0001 0050 ESTABLISHED     895
TCP 0AC8014C 0000 0AC8014C 0050 0AC8014C 0050 ASSURED         113
TCP 0AC8014C C964 0AC8014C 0050 0AC8014C 0050 ESTABLISHED     893
UDP 0AC8014C A70A 0AC8014C 0035 0A0A0102 0035 UDP             299
";

/// `ipvsadm -Lnc`
const LNC: &str = "IPVS connection entries
pro expire state       source             virtual            destination
TCP 14:55  ESTABLISHED [2001:db8::1]:33644 [2001:db8::1]:80   [2001:db8::1]:80
TCP 01:53  ASSURED     10.200.1.76:0      10.200.1.76:80     10.200.1.76:80
TCP 14:53  ESTABLISHED 10.200.1.76:51556  10.200.1.76:80     10.200.1.76:80
UDP 04:59  UDP         10.200.1.76:42762  10.200.1.76:53     10.10.1.2:53
";

/// `ipvsadm -Lc`
const LC: &str = "IPVS connection entries
pro expire state       source             virtual            destination
TCP 14:55  ESTABLISHED [vip6.example.com]:33644 [vip6.example.com]:http [vip6.example.com]:http
TCP 01:53  ASSURED     vip.example.com:0  vip.example.com:http vip.example.com:http
TCP 14:53  ESTABLISHED vip.example.com:51556 vip.example.com:http vip.example.com:http
UDP 04:59  UDP         vip.example.com:42762 vip.example.com:domain rs1.example.com:domain
";

/// `ipvsadm -Lnc --persistent-conn`
const LNC_PERSISTENT: &str = "IPVS connection entries
pro expire state       source             virtual            destination        pe name          pe_data
TCP 14:55  ESTABLISHED [2001:db8::1]:33644 [2001:db8::1]:80   [2001:db8::1]:80
TCP 01:53  ASSURED     10.200.1.76:0      10.200.1.76:80     10.200.1.76:80
TCP 14:53  ESTABLISHED 10.200.1.76:51556  10.200.1.76:80     10.200.1.76:80
UDP 04:59  UDP         10.200.1.76:42762  10.200.1.76:53     10.10.1.2:53
";

/// `ipvsadm -Lnc`
const LNC_TIME_WAIT: &str = "IPVS connection entries
pro expire state       source             virtual            destination
TCP 01:46  TIME_WAIT   10.0.0.1:53090     10.0.0.1:80        10.0.0.1:80
TCP 15:00  ESTABLISHED 10.0.0.1:40262     10.0.0.1:80        10.0.0.1:80
";

const PROC_HEADER: &str =
    "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n";

fn render(text: &str, persistent_conn: bool, numeric: bool) -> String {
    let mut out = Vec::new();
    let result = write_connections(
        &mut out,
        text.as_bytes(),
        persistent_conn,
        numeric,
        &reference_names(),
    );
    assert!(result.is_ok(), "{result:?}");
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn numeric_listing() {
    assert_eq!(render(PROC_CONN, false, true), LNC);
}

#[test]
fn listing_with_names() {
    assert_eq!(render(PROC_CONN, false, false), LC);
}

#[test]
fn persistent_conn_without_pe_keeps_short_rows() {
    assert_eq!(render(PROC_CONN, true, true), LNC_PERSISTENT);
}

#[test]
fn time_wait_and_full_timeout() {
    let proc_text = format!(
        "{PROC_HEADER}TCP 0A000001 CF62 0A000001 0050 0A000001 0050 TIME_WAIT       106\n\
         TCP 0A000001 9D46 0A000001 0050 0A000001 0050 ESTABLISHED     900\n"
    );
    assert_eq!(render(&proc_text, false, true), LNC_TIME_WAIT);
}

#[test]
fn pe_rows_swap_widths() {
    let proc_text = format!(
        "{PROC_HEADER}UDP 0AC8014C 13C4 0AC8014C 13C4 0A0A0102 13C4 UDP             179 sip a84b4c76e66710\n\
         UDP 0AC8014C 0000 0AC8014C 13C4 0A0A0102 13C4 NONE          36000 sip\n"
    );
    let expected = "IPVS connection entries\n\
        pro expire state       source             virtual            destination        pe name          pe_data\n\
        UDP 02:59  UDP         10.200.1.76:5060   10.200.1.76:5060   10.10.1.2:5060   sip                a84b4c76e66710\n\
        UDP 600:00 NONE        10.200.1.76:0      10.200.1.76:5060   10.10.1.2:5060\n";
    assert_eq!(render(&proc_text, true, true), expected);
    // Without --persistent-conn the PE fields are not shown.
    let plain = render(&proc_text, false, true);
    assert!(plain.contains("10.10.1.2:5060\n"), "{plain}");
    assert!(!plain.contains("sip"), "{plain}");
}

#[test]
fn sctp_and_unknown_protocols() {
    let names = FakeResolver::new().with_service(3868, "sctp", "diameter");
    let proc_text = format!(
        "{PROC_HEADER}SCTP 0AC8014C 0F1C 0AC8014C 0F1C 0A0A0102 0F1C ESTABLISHED     10\n\
         ESP 0AC8014C 0F1C 0AC8014C 0F1C 0A0A0102 0F1C NONE     10\n"
    );
    let mut out = Vec::new();
    assert!(
        write_connections(&mut out, proc_text.as_bytes(), false, false, &names).is_ok()
    );
    let text = String::from_utf8_lossy(&out);
    let lines: Vec<&str> = text.lines().collect();
    // %-3s does not cut "SCTP".
    assert_eq!(
        lines[2],
        "SCTP 00:10  ESTABLISHED 10.200.1.76:diameter 10.200.1.76:diameter 10.10.1.2:diameter"
    );
    assert_eq!(
        lines[3],
        "ESP 00:10  NONE        10.200.1.76:3868   10.200.1.76:3868   10.10.1.2:3868"
    );
}

#[test]
fn mixed_family_tunnel_dest() {
    let proc_text = format!(
        "{PROC_HEADER}TCP 2001:0db8:0000:0000:0000:0000:0000:0002 836C 2001:0db8:0000:0000:0000:0000:0000:0001 0050 0A000002 0050 ESTABLISHED     895\n"
    );
    let entries = parse_conn_table(proc_text.as_bytes());
    let entries = entries.unwrap_or_default();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].dest_addr, ip("10.0.0.2"));
    assert_eq!(entries[0].client_addr, ip("2001:db8::2"));
    assert_eq!(entries[0].client_port, 0x836C);
    assert_eq!(entries[0].expires, 895);
    assert_eq!(
        render(&proc_text, false, true)
            .lines()
            .last()
            .unwrap_or_default(),
        "TCP 14:55  ESTABLISHED [2001:db8::2]:33644 [2001:db8::1]:80   10.0.0.2:80"
    );
}

#[test]
fn empty_file_is_unexpected_input() {
    let mut out = Vec::new();
    let err = write_connections(&mut out, b"", false, true, &FakeResolver::new());
    match err {
        Err(ConnError::Malformed(msg)) => {
            assert_eq!(msg, "unexpected input from /proc/net/ip_vs_conn")
        }
        other => panic!("unexpected result {other:?}"),
    }
    assert!(out.is_empty());
}

#[test]
fn header_only_lists_nothing() {
    assert_eq!(
        render(PROC_HEADER, false, true),
        "IPVS connection entries\n\
         pro expire state       source             virtual            destination\n"
    );
}

#[test]
fn malformed_lines_are_errors_and_nothing_is_written() {
    for bad in [
        "\n",
        "TCP 0AC8014C\n",
        "TCP zz 0000 0AC8014C 0050 0AC8014C 0050 ASSURED 113\n",
        "TCP 0AC8014C 0000 0AC8014C 0050 0AC8014C 0050 ASSURED soon\n",
        "TCP 0AC8014C 12345 0AC8014C 0050 0AC8014C 0050 ASSURED 113\n",
        "TCP 2001:db8::1 0000 0AC8014C 0050 0AC8014C 0050 ASSURED 113\n",
    ] {
        let text = format!("{PROC_HEADER}{bad}");
        let mut out = Vec::new();
        let result = write_connections(
            &mut out,
            text.as_bytes(),
            false,
            true,
            &FakeResolver::new(),
        );
        assert!(matches!(result, Err(ConnError::Malformed(_))), "{bad:?}");
        assert!(out.is_empty());
    }
}

#[test]
fn long_lines_are_cut_like_fgets() {
    let data = "x".repeat(300);
    let proc_text = format!(
        "{PROC_HEADER}UDP 0AC8014C 13C4 0AC8014C 13C4 0A0A0102 13C4 UDP             179 sip {data}\n\
         TCP 0AC8014C 0000 0AC8014C 0050 0AC8014C 0050 ASSURED         113\n"
    );
    let entries = parse_conn_table(proc_text.as_bytes()).unwrap_or_default();
    assert_eq!(entries.len(), 2);
    let kept = entries[0].pe_data.as_deref().unwrap_or_default();
    // The first 255 bytes of the line, minus the fields before the data.
    let prefix = "UDP 0AC8014C 13C4 0AC8014C 13C4 0A0A0102 13C4 UDP             179 sip ";
    assert_eq!(kept.len(), 255 - prefix.len());
    assert_eq!(entries[1].state, "ASSURED");
}

#[test]
fn missing_final_newline_is_fine() {
    let proc_text =
        format!("{PROC_HEADER}TCP 0AC8014C 0000 0AC8014C 0050 0AC8014C 0050 ASSURED 113");
    assert_eq!(
        parse_conn_table(proc_text.as_bytes()).map(|e| e.len()).ok(),
        Some(1)
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_conn_table(&bytes);
        let mut out = Vec::new();
        let _ = write_connections(&mut out, &bytes, true, false, &FakeResolver::new());
    }

    #[test]
    fn arbitrary_lines_after_a_header_never_panic(line in "[ -~\t\n]{0,300}") {
        let text = format!("{PROC_HEADER}{line}");
        let mut out = Vec::new();
        let _ = write_connections(&mut out, text.as_bytes(), true, true, &FakeResolver::new());
    }

    #[test]
    fn kernel_shaped_lines_parse(
        client in any::<u32>(), cport in any::<u16>(),
        virt in any::<u32>(), vport in any::<u16>(),
        dest in any::<[u8; 16]>(), dport in any::<u16>(),
        expires in 0u32..10_000_000,
    ) {
        let dest6 = std::net::Ipv6Addr::from(dest);
        let dest_text = dest6
            .segments()
            .iter()
            .map(|s| format!("{s:04x}"))
            .collect::<Vec<_>>()
            .join(":");
        let text = format!(
            "{PROC_HEADER}TCP {client:08X} {cport:04X} {virt:08X} {vport:04X} {dest_text} {dport:04X} ESTABLISHED {expires:7}\n"
        );
        let entries = parse_conn_table(text.as_bytes());
        prop_assert!(entries.is_ok());
        let entries = entries.unwrap_or_default();
        prop_assert_eq!(entries.len(), 1);
        prop_assert_eq!(entries[0].client_addr, IpAddr::V4(client.into()));
        prop_assert_eq!(entries[0].virtual_port, vport);
        prop_assert_eq!(entries[0].dest_addr, IpAddr::V6(dest6));
        prop_assert_eq!(entries[0].expires, expires);
    }
}
