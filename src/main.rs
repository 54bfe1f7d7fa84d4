//! The `steward` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};

use steward::discord::bot::{self, BotConfig};
use steward::engine::event::GuildId;
use steward::export::{self, ExportFormat};
use steward::moderation::{Moderator, Recorder};
use steward::replay::{self, output};
use steward::rules::{self, LoadedRules};
use steward::store::audit::AuditCheck;
use steward::store::display_url;
use steward::store::{DEFAULT_DATABASE_URL, Store};

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
    Replay(ReplayArgs),
    /// Connect to Discord and moderate. Every setting also reads from its environment
    /// variable (or .env).
    Run(RunArgs),
    /// Print the application commands (JSON) that `run` registers with Discord.
    Commands,
    /// Print the JSON Schema of the rules file, for editors (see the first line of
    /// rules.example.yaml).
    Schema {
        /// The schema of a server's own rules (`/rules upload`) instead of the operator's
        /// file.
        #[arg(long)]
        server: bool,
    },
    /// Create the database if needed and apply pending migrations.
    Migrate {
        /// The database: a SQLite file path, `sqlite://` or `postgres://` URL.
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database: String,
    },
    /// Inspect the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write cases or the audit log as JSON Lines or CSV to standard output.
    Export(ExportArgs),
}

#[derive(Args)]
struct ReplayArgs {
    /// Rules file (default: the built-in example rules).
    #[arg(long, env = "STEWARD_RULES")]
    rules: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    output: Format,
    /// Keep the cases, warnings and audit log in this SQLite file (default: in memory).
    #[arg(long)]
    database: Option<String>,
    /// Event file, or `-` for standard input.
    file: String,
}

#[derive(Args)]
struct RunArgs {
    /// Rules file (default: the built-in example rules).
    #[arg(long, env = "STEWARD_RULES")]
    rules: Option<PathBuf>,
    /// The database: a SQLite file path, `sqlite://` or `postgres://` URL.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database: String,
    /// Where to append the audit chains' heads every hour (default: beside a SQLite file,
    /// `.anchor` added; none for PostgreSQL unless set).
    #[arg(long, env = "STEWARD_ANCHOR")]
    anchor: Option<PathBuf>,
    /// How long a steward process on the same database may stay silent before the
    /// timed actions and requests it held are taken over (e.g. 10s).
    #[arg(long, env = "STEWARD_PROCESS_TIMEOUT", default_value = "10s", value_parser = process_timeout)]
    process_timeout: steward::engine::time::Duration,
    /// The bot's token; best kept in the environment, where `ps` does not show it.
    #[arg(long, env = "DISCORD_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Send REST calls through this proxy (e.g. twilight-http-proxy), which then owns
    /// rate limiting.
    #[arg(long, env = "DISCORD_PROXY")]
    proxy: Option<String>,
    /// Serve /metrics and /healthz on this address (e.g. 127.0.0.1:9100).
    #[arg(long, env = "STEWARD_METRICS_ADDR")]
    metrics_addr: Option<String>,
    /// Which shards this process runs: `auto`, `8`, `3/8` or `0-3/8`.
    #[arg(long, env = "STEWARD_SHARDS", default_value = "auto")]
    shards: String,
    /// Register the commands in this server only (instant updates while developing).
    #[arg(long, env = "STEWARD_DEV_GUILD")]
    dev_guild: Option<String>,
    /// Log one JSON object a line (`json`) or readable lines (`text`); the level comes
    /// from RUST_LOG.
    #[arg(long, env = "STEWARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Args)]
struct ExportArgs {
    #[arg(value_enum)]
    what: ExportWhat,
    /// Only this guild.
    #[arg(long)]
    guild: Option<u64>,
    #[arg(long, value_enum, default_value_t = ExportFormatArg::Jsonl)]
    format: ExportFormatArg,
    /// The database: a SQLite file path, `sqlite://` or `postgres://` URL.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database: String,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; names the first row that was changed or removed.
    Verify {
        /// The database: a SQLite file path, `sqlite://` or `postgres://` URL.
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database: String,
        /// The anchor file `run` keeps (default: beside the database, `.anchor` added);
        /// finds rows removed from the end of the log.
        #[arg(long)]
        anchor: Option<PathBuf>,
        /// Check only this server's chain.
        #[arg(long)]
        guild: Option<u64>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportWhat {
    Cases,
    Audit,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormatArg {
    Jsonl,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Jsonl,
}

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
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

/// How `run` writes its log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs to standard error, level from RUST_LOG (default `info`), one JSON object a line
/// with `json`.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == LogFormat::Json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Standard input copied to a file that is removed when dropped.
struct Spooled(std::path::PathBuf);

impl Spooled {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn spool_stdin() -> std::io::Result<Spooled> {
    let path = std::env::temp_dir().join(format!(
        "steward-replay-{}-{}.input",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let spooled = Spooled(path);
    let mut out = std::fs::File::create(spooled.path())?;
    std::io::copy(&mut std::io::stdin().lock(), &mut out)?;
    Ok(spooled)
}

async fn open_store(database: &str) -> anyhow::Result<Store> {
    Store::open(database)
        .await
        .with_context(|| format!("opening the database {}", display_url(database)))
}

/// For commands that read what is stored: a missing database is an error, not a new one.
async fn open_existing_store(database: &str) -> anyhow::Result<Store> {
    Store::open_existing(database)
        .await
        .with_context(|| format!("opening the database {}", display_url(database)))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { rules } => check(rules.as_ref()),
        Command::Replay(args) => replay_file(args).await,
        Command::Run(args) => run_bot(args).await,
        Command::Commands => print_commands(),
        Command::Schema { server } => print_schema(server),
        Command::Migrate { database } => migrate(&database).await,
        Command::Audit {
            command:
                AuditCommand::Verify {
                    database,
                    anchor,
                    guild,
                },
        } => verify_audit(&database, anchor, guild).await,
        Command::Export(args) => export_records(args).await,
    }
}

/// Ends a command over bad input: the error is printed as it is, for the operator to fix.
fn refuse(error: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("{error}");
    Ok(ExitCode::FAILURE)
}

fn check(rules: Option<&PathBuf>) -> anyhow::Result<ExitCode> {
    match load_rules(rules) {
        Ok(loaded) => {
            println!("{}", loaded.summary());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => refuse(e),
    }
}

async fn replay_file(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let ReplayArgs {
        rules,
        output: format,
        database,
        file,
    } = args;
    let loaded = match load_rules(rules.as_ref()) {
        Ok(l) => l,
        Err(e) => return refuse(e),
    };
    let name = if file == "-" {
        "<stdin>"
    } else {
        file.as_str()
    };
    // A replay that writes to a database checks its whole input first, so that bad
    // input changes nothing (standard input is kept in a file meanwhile).
    let spooled = match (&database, file.as_str()) {
        (Some(_), "-") => Some(spool_stdin().context("keeping standard input")?),
        _ => None,
    };
    let input = spooled
        .as_ref()
        .map_or(file.clone(), |p| p.path().display().to_string());
    if database.is_some()
        && let Err(e) = replay::check_events(&input, name)
    {
        return refuse(e);
    }
    let events = match replay::open_events_as(&input, name) {
        Ok(events) => events,
        Err(e) => return refuse(e),
    };
    let store = open_store(database.as_deref().unwrap_or(":memory:")).await?;
    let moderator = Moderator::new(store.clone(), Recorder::default(), &loaded);
    let report = match replay::run(&loaded, name, events, &moderator).await {
        Ok(report) => report,
        Err(replay::RunError::Input(e)) => return refuse(e),
        Err(replay::RunError::Moderation(e)) => {
            return Err(e).context("recording the replay");
        }
    };
    if let Some(path) = database
        .as_deref()
        .and_then(steward::store::anchor::anchor_path)
    {
        let anchor = store
            .audit_anchor(steward::discord::now())
            .await
            .context("reading the head of the audit log")?;
        steward::store::anchor::append_anchor(&path, &anchor)
            .with_context(|| format!("writing the audit anchor {}", path.display()))?;
    }
    store.close().await;
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

fn print_commands() -> anyhow::Result<ExitCode> {
    let json = serde_json::to_string_pretty(&steward::discord::commands::definitions())
        .context("writing the command definitions")?;
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

fn print_schema(server: bool) -> anyhow::Result<ExitCode> {
    let schema = if server {
        rules::schema::server_rules_schema()
    } else {
        rules::schema::rules_schema()
    };
    let json = serde_json::to_string_pretty(&schema).context("writing the schema")?;
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

async fn run_bot(args: RunArgs) -> anyhow::Result<ExitCode> {
    init_logging(args.log_format);
    let loaded = match load_rules(args.rules.as_ref()) {
        Ok(l) => l,
        Err(e) => return refuse(e),
    };
    let metrics_addr = match args.metrics_addr.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(addr) => match addr.parse() {
            Ok(addr) => Some(addr),
            Err(e) => {
                return refuse(format!(
                    "STEWARD_METRICS_ADDR `{addr}` is not an address like 127.0.0.1:9100: {e}"
                ));
            }
        },
    };
    let shards = match args.shards.parse() {
        Ok(plan) => plan,
        Err(e) => return refuse(format!("STEWARD_SHARDS: {e}")),
    };
    let dev_guild = match args.dev_guild.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => match id.parse::<u64>() {
            Ok(id) if id > 0 => Some(id),
            _ => return refuse(format!("STEWARD_DEV_GUILD `{id}` is not a server id")),
        },
    };
    let Some(token) = args.token.filter(|t| !t.trim().is_empty()) else {
        return refuse("DISCORD_TOKEN is not set (environment or .env)");
    };
    let config = BotConfig {
        token,
        proxy: args.proxy.filter(|p| !p.is_empty()),
        rules: loaded,
        rules_path: args.rules,
        reload_every: std::time::Duration::from_secs(2),
        metrics_addr,
        shards,
        database: args.database,
        anchor: args.anchor,
        dev_guild,
        process_timeout: args.process_timeout,
    };
    bot::run(config, shutdown_signal())
        .await
        .context("running the bot")?;
    Ok(ExitCode::SUCCESS)
}

async fn migrate(database: &str) -> anyhow::Result<ExitCode> {
    let store = open_store(database).await?;
    store.close().await;
    println!("{}: migrated", display_url(database));
    Ok(ExitCode::SUCCESS)
}

async fn verify_audit(
    database: &str,
    anchor: Option<PathBuf>,
    guild: Option<u64>,
) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(database).await?;
    let shown = display_url(database);
    let check = match guild {
        Some(id) => {
            store
                .verify_audit_chain(steward::engine::event::GuildId(id))
                .await
        }
        None => store.verify_audit().await,
    }
    .context("reading the audit log")?;
    let anchor = anchor.or_else(|| steward::store::anchor::anchor_path(database));
    let anchors = match &anchor {
        Some(path) => steward::store::anchor::read_anchors(path)?,
        None => Vec::new(),
    };
    let mut problem = None;
    for a in &anchors {
        problem = store.anchor_problem(a).await?;
        if problem.is_some() {
            break;
        }
    }
    store.close().await;
    let what = match guild {
        Some(id) => format!("audit chain of server {id}"),
        None => "audit log".to_string(),
    };
    match (check, problem) {
        (AuditCheck::Intact { .. }, Some(problem)) => refuse(format!("{shown}: {problem}")),
        (AuditCheck::Intact { rows }, None) => {
            let against = match (&anchor, anchors.len()) {
                (Some(path), n) if n > 0 => {
                    format!("; matches {n} anchors in {}", path.display())
                }
                _ => "; no anchor file to check its end against".to_string(),
            };
            println!("{shown}: {what} intact ({rows} rows){against}");
            Ok(ExitCode::SUCCESS)
        }
        (AuditCheck::Broken { id, why }, _) => refuse(format!("{shown}: audit row {id}: {why}")),
    }
}

async fn export_records(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(&args.database).await?;
    let format = match args.format {
        ExportFormatArg::Jsonl => ExportFormat::Jsonl,
        ExportFormatArg::Csv => ExportFormat::Csv,
    };
    let guild = args.guild.map(GuildId);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.what {
        ExportWhat::Cases => export::cases(&store, guild, format, &mut out).await?,
        ExportWhat::Audit => export::audit(&store, guild, format, &mut out).await?,
    }
    use std::io::Write as _;
    out.flush().context("writing the export")?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// A process timeout: a duration of at least two seconds (the heartbeat comes every one).
fn process_timeout(text: &str) -> Result<steward::engine::time::Duration, String> {
    let timeout = steward::rules::schema::parse_duration(text)?;
    if timeout.0 < 2_000 {
        return Err(format!(
            "`{text}` is shorter than 2s; processes report every second"
        ));
    }
    Ok(timeout)
}
