//! `-R --format json`: the table document `-L --json` writes, as the `-A`
//! and `-a` lines that make that table, so it goes through the same
//! parser and checks as text input.

use crate::output::save::{RuleCmd, push_rule};
use crate::render::json::input::read_table;

/// The document `json` as `-R` lines, with a label per line naming where
/// its service or real server is in the document. The error names where
/// the document is wrong (line and column, or the service).
pub(super) fn to_rules(json: &[u8]) -> Result<(Vec<u8>, Vec<String>), String> {
    let table = read_table(json)?;
    let mut rules = Vec::new();
    let mut labels = Vec::new();
    for (i, entry) in table.iter().enumerate() {
        push_rule(&mut rules, RuleCmd::Add, &entry.service, None);
        labels.push(format!("services[{i}]"));
        for (j, dest) in entry.dests.iter().enumerate() {
            push_rule(&mut rules, RuleCmd::Add, &entry.service, Some(dest));
            labels.push(format!("services[{i}].real_servers[{j}]"));
        }
    }
    Ok((rules, labels))
}
