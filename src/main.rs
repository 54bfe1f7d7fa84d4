//! The `steward` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};

use steward::replay::{self, output};
use steward::rules::{self, LoadedRules};

/// steward: Discord community moderation.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a rules file (default: the built-in example rules).
    Check {
        /// The rules file.
        rules: Option<PathBuf>,
    },
    /// Feed recorded activity (JSON Lines or a DiscordChatExporter export) through the rules.
    Replay {
        /// Rules file (default: the built-in example rules).
        #[arg(long, env = "STEWARD_RULES")]
        rules: Option<PathBuf>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        output: Format,
        /// Event file, or `-` for standard input.
        file: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Jsonl,
}

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_rules(path: Option<&PathBuf>) -> Result<LoadedRules, rules::RulesError> {
    match path {
        Some(p) => rules::load(p),
        None => rules::example(),
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { rules } => match load_rules(rules.as_ref()) {
            Ok(loaded) => {
                println!("{}", loaded.summary());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{e}");
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Replay {
            rules,
            output: format,
            file,
        } => {
            let loaded = match load_rules(rules.as_ref()) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let events = replay::read_events(&file)
                .and_then(|events| replay::check_order(&file, &events).map(|()| events));
            let events = match events {
                Ok(events) => events,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let report = replay::run(&loaded, events);
            let text = match format {
                Format::Table => output::table(&report),
                Format::Jsonl => output::jsonl(&report),
            };
            use std::io::Write as _;
            std::io::stdout()
                .write_all(text.as_bytes())
                .context("writing the report")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
