//! ipvsadm 1.31's text output, byte for byte.
//!
//! Callers sort *services* in listing order ([`crate::listing::sort`])
//! unless `--nosort`; the entry writers sort each service's *dests*
//! themselves (as `print_service_entry` does), so pass dests in kernel
//! order and never pre-sort them: the comparator is not a total order and
//! sorting twice can change the result. Names come from
//! [`crate::resolve`] (`-n` off).
//!
//! * [`text`]: the `-L` table (header, title, service entries), or all of
//!   it at once with [`text::write_table`].
//! * [`save`]: the `-S` rule format ([`save::write_save`] for a table).
//! * [`conn`]: the `-L -c` listing from `/proc/net/ip_vs_conn`.
//! * [`misc`]: `--timeout` and `--daemon`.
//!
//! Documented differences from 1.31:
//! * destination counters are printed with their full 64 bits (1.31 parses
//!   them with its 32-bit parser and wraps above 2^32);
//! * `-S` prints fwmarks unsigned (1.31 prints marks >= 2^31 negative, which
//!   `-R` then rejects).

pub(crate) mod common;
pub mod conn;
pub mod misc;
pub mod save;
pub mod text;

#[cfg(test)]
mod fixtures;
