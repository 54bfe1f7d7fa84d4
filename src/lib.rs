//! steward: a Discord community moderation bot.
//!
//! The crate is layered so that decisions can be made, tested and benchmarked without
//! Discord or a database:
//!
//! - [`engine`] — the pure core: events in, verdicts out, no I/O.
//! - [`rules`] — the YAML rules file: parsing, validation with file/line errors, compilation.
//! - [`replay`] — feeds recorded activity through the engine and reports what it would do.
#![forbid(unsafe_code)]

pub mod chart;
pub mod discord;
pub mod engine;
pub mod export;
mod lock;
pub mod moderation;
pub mod replay;
pub mod rules;
pub mod server_log;
pub mod store;
pub mod text;
