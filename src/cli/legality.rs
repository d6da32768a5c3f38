//! ipvsadm's command × option table and tunnel-type × option table, with
//! its exact messages.

use super::options::{CmdKind, NUMBER_OF_OPT, OPT_NAMES, OptBit};
use crate::model::TunnelType;

/// `+` compulsory, `x` illegal, `1` at most one of the `1`s, blank optional.
/// Rows in `CmdKind` order, columns in `OptBit` order (verbatim from
/// ipvsadm 1.31).
#[rustfmt::skip]
const COMMANDS_V_OPTIONS: [&[u8; NUMBER_OF_OPT]; 15] = [
    /* ADD     */ b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
    /* EDIT    */ b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
    /* DEL     */ b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* FLUSH   */ b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* LIST    */ b" 11xxxxxxxxx11       xxxxxxx xxxxx",
    /* ADDSRV  */ b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
    /* DELSRV  */ b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* EDITSRV */ b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
    /* TIMEOUT */ b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* STARTD  */ b"xxxxxxxxxxx xxxxxxx xxxx    xxxxxx",
    /* STOPD   */ b"xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx",
    /* RESTORE */ b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* SAVE    */ b" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /* ZERO    */ b"xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    // Ours: `--check [service]` (`-n` accepted, as its output is numeric).
    /* CHECK   */ b" x xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

/// One row of `COMMANDS_V_OPTIONS` as bit masks: the compulsory, illegal
/// and mutually exclusive options.
#[derive(Clone, Copy)]
struct RowMasks {
    compulsory: u64,
    illegal: u64,
    exclusive: u64,
}

/// `COMMANDS_V_OPTIONS` as masks, so that a legal line (nearly every line
/// of a restore) is checked without walking its row.
const ROW_MASKS: [RowMasks; 15] = row_masks();

const fn row_masks() -> [RowMasks; 15] {
    let empty = RowMasks {
        compulsory: 0,
        illegal: 0,
        exclusive: 0,
    };
    let mut masks = [empty; 15];
    let mut i = 0;
    while i < masks.len() {
        let row = COMMANDS_V_OPTIONS[i];
        let mut j = 0;
        while j < row.len() {
            let bit = 1u64 << j;
            match row[j] {
                b'+' => masks[i].compulsory |= bit,
                b'x' => masks[i].illegal |= bit,
                b'1' => masks[i].exclusive |= bit,
                _ => {}
            }
            j += 1;
        }
        i += 1;
    }
    masks
}

/// ipvsadm's `generic_opt_check`: the first problem, by column order.
pub(crate) fn generic_opt_check(cmd: CmdKind, options: u64) -> Result<(), String> {
    let masks = ROW_MASKS[cmd.index()];
    if options & masks.compulsory == masks.compulsory
        && options & masks.illegal == 0
        && (options & masks.exclusive).count_ones() <= 1
    {
        return Ok(());
    }
    let row = COMMANDS_V_OPTIONS[cmd.index()];
    let mut first_exclusive: Option<usize> = None;
    for (j, &rule) in row.iter().enumerate() {
        let given = options & (1u64 << j) != 0;
        if !given {
            if rule == b'+' {
                return Err(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    OPT_NAMES[j],
                    cmd.name()
                ));
            }
            continue;
        }
        match rule {
            b'x' => {
                return Err(format!(
                    "Illegal '{}' option with the '{}' command",
                    OPT_NAMES[j],
                    cmd.name()
                ));
            }
            b'1' => match first_exclusive {
                None => first_exclusive = Some(j),
                Some(earlier) => {
                    return Err(format!(
                        "The option '{}' conflicts with the '{}' option in the '{}' command",
                        OPT_NAMES[j],
                        OPT_NAMES[earlier],
                        cmd.name()
                    ));
                }
            },
            _ => {}
        }
    }
    Ok(())
}

/// The extra list-command rule applied after the table.
pub(crate) fn list_conflicts(options: u64) -> Result<(), String> {
    let has = |bits: &[OptBit]| bits.iter().any(|b| options & b.mask() != 0);
    let special = has(&[OptBit::Connection, OptBit::Timeout, OptBit::Daemon]);
    let stats = has(&[OptBit::Stats, OptBit::Rate, OptBit::Thresholds]);
    let timeout_or_daemon = has(&[OptBit::Timeout, OptBit::Daemon]);
    if (special && stats) || (timeout_or_daemon && has(&[OptBit::PersistentConn])) {
        return Err("options conflicts in the list command".to_string());
    }
    Ok(())
}

const TUN_OPTS: [OptBit; 4] = [
    OptBit::TunPort,
    OptBit::TunNocsum,
    OptBit::TunCsum,
    OptBit::TunRemcsum,
];

/// Rows: ipip, gue, gre; columns: `TUN_OPTS`.
const TUNNEL_TYPES_V_OPTIONS: [&[u8; 4]; 3] = [b"xxxx", b"+111", b"x11x"];

fn tunnel_name(tun: TunnelType) -> &'static str {
    match tun {
        TunnelType::Ipip => "ipip",
        TunnelType::Gue => "gue",
        TunnelType::Gre => "gre",
        TunnelType::Other(_) => "unknown",
    }
}

/// ipvsadm's `tunnel_opt_check` for `-a`/`-e`.
pub(crate) fn tunnel_opt_check(tun: TunnelType, options: u64) -> Result<(), String> {
    let row = match tun {
        TunnelType::Ipip => TUNNEL_TYPES_V_OPTIONS[0],
        TunnelType::Gue => TUNNEL_TYPES_V_OPTIONS[1],
        TunnelType::Gre => TUNNEL_TYPES_V_OPTIONS[2],
        TunnelType::Other(_) => return Ok(()),
    };
    let name = tunnel_name(tun);
    let mut first_exclusive: Option<OptBit> = None;
    for (bit, &rule) in TUN_OPTS.iter().zip(row.iter()) {
        if options & bit.mask() == 0 {
            if rule == b'+' {
                return Err(format!(
                    "You need to supply the '{}' option for the '{name}' tunnel type",
                    bit.name()
                ));
            }
            continue;
        }
        match rule {
            b'x' => {
                return Err(format!(
                    "Illegal '{}' option with the '{name}' tunnel type",
                    bit.name()
                ));
            }
            b'1' => match first_exclusive {
                None => first_exclusive = Some(*bit),
                Some(earlier) => {
                    return Err(format!(
                        "The option '{}' conflicts with the '{}' option in the '{name}' tunnel type",
                        bit.name(),
                        earlier.name()
                    ));
                }
            },
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COMMANDS: [CmdKind; 15] = [
        CmdKind::Add,
        CmdKind::Edit,
        CmdKind::Del,
        CmdKind::Flush,
        CmdKind::List,
        CmdKind::AddDest,
        CmdKind::DelDest,
        CmdKind::EditDest,
        CmdKind::SetTimeout,
        CmdKind::StartDaemon,
        CmdKind::StopDaemon,
        CmdKind::Restore,
        CmdKind::Save,
        CmdKind::Zero,
        CmdKind::Check,
    ];

    /// The row walk alone says a set of options is legal.
    fn legal_by_the_row(cmd: CmdKind, options: u64) -> bool {
        let row = COMMANDS_V_OPTIONS[cmd.index()];
        let mut exclusive = 0;
        row.iter().enumerate().all(|(j, &rule)| {
            let given = options & (1u64 << j) != 0;
            exclusive += usize::from(given && rule == b'1');
            match rule {
                b'+' => given,
                b'x' => !given,
                _ => true,
            }
        }) && exclusive <= 1
    }

    proptest! {
        /// The masks accept exactly what the table does.
        #[test]
        fn masks_agree_with_the_table(
            cmd in 0..COMMANDS.len(),
            options in any::<u64>(),
            keep in any::<u64>(),
            mostly_legal in any::<bool>(),
        ) {
            let cmd = COMMANDS[cmd];
            assert_eq!(cmd.index(), COMMANDS.iter().position(|c| *c == cmd).unwrap());
            // Sparse option sets are the interesting ones, and sets with
            // the compulsory options and no illegal one.
            let mut options = options & keep & (keep >> 7);
            if mostly_legal {
                for (j, &rule) in COMMANDS_V_OPTIONS[cmd.index()].iter().enumerate() {
                    match rule {
                        b'+' => options |= 1 << j,
                        b'x' => options &= !(1 << j),
                        _ => {}
                    }
                }
            }
            prop_assert_eq!(
                generic_opt_check(cmd, options).is_ok(),
                legal_by_the_row(cmd, options)
            );
        }
    }

    fn mask(bits: &[OptBit]) -> u64 {
        bits.iter().fold(0, |m, b| m | b.mask())
    }

    #[test]
    fn command_table() {
        use OptBit::*;
        let cases: [(CmdKind, &[OptBit], Result<(), &str>); 8] = [
            (
                CmdKind::Add,
                &[Service, Server],
                Err("Illegal 'real-server' option with the 'add-service' command"),
            ),
            (
                CmdKind::Add,
                &[Scheduler],
                Err(
                    "You need to supply the 'service-address' option for the 'add-service' command",
                ),
            ),
            (
                CmdKind::AddDest,
                &[Service],
                Err(
                    "You need to supply the 'real-server' option for the 'add-server' command",
                ),
            ),
            (
                CmdKind::Flush,
                &[Numeric],
                Err("Illegal 'numeric' option with the 'flush' command"),
            ),
            (
                CmdKind::List,
                &[Connection, Timeout],
                Err(
                    "The option 'timeout' conflicts with the 'connection' option in the 'list' command",
                ),
            ),
            (
                CmdKind::List,
                &[Connection, Service],
                Err(
                    "The option 'service-address' conflicts with the 'connection' option in the 'list' command",
                ),
            ),
            (
                CmdKind::List,
                &[Numeric, SyncId, Exact, TunInfo, Stats],
                Ok(()),
            ),
            (
                CmdKind::StopDaemon,
                &[McastInterface],
                Err("Illegal 'mcast-interface' option with the 'stop-daemon' command"),
            ),
        ];
        for (cmd, bits, want) in cases {
            assert_eq!(
                generic_opt_check(cmd, mask(bits)),
                want.map_err(String::from),
                "{cmd:?} {bits:?}"
            );
        }
    }

    #[test]
    fn tunnel_table() {
        use OptBit::*;
        let cases: [(TunnelType, &[OptBit], Result<(), &str>); 5] = [
            (
                TunnelType::Gue,
                &[],
                Err("You need to supply the 'tun-port' option for the 'gue' tunnel type"),
            ),
            (
                TunnelType::Gre,
                &[TunPort],
                Err("Illegal 'tun-port' option with the 'gre' tunnel type"),
            ),
            (
                TunnelType::Gue,
                &[TunPort, TunCsum, TunRemcsum],
                Err(
                    "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type",
                ),
            ),
            (
                TunnelType::Ipip,
                &[TunCsum],
                Err("Illegal 'tun-csum' option with the 'ipip' tunnel type"),
            ),
            (TunnelType::Gue, &[TunPort, TunNocsum], Ok(())),
        ];
        for (tun, bits, want) in cases {
            assert_eq!(
                tunnel_opt_check(tun, mask(bits)),
                want.map_err(String::from)
            );
        }
    }

    #[test]
    fn list_rule() {
        use OptBit::*;
        assert!(list_conflicts(mask(&[Connection, Stats])).is_err());
        assert!(list_conflicts(mask(&[Daemon, PersistentConn])).is_err());
        assert!(list_conflicts(mask(&[Connection, PersistentConn])).is_ok());
    }
}
