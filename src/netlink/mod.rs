//! Netlink (placeholder).
