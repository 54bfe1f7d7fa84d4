//! The `steward` binary run as a process from the project's directory.

use std::process::{Command, Output};

/// Runs `steward` with `args` (and no `DATABASE_URL` from the environment) to its end.
pub fn steward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .output()
        .expect("steward runs")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
