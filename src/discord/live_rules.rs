//! The rules in force in the live bot, and the three ways they change: the file changes
//! (or SIGHUP), a moderator runs `/rules reload`, or a moderator uploads a new file with
//! `/rules upload`. Every way validates first: a file with errors changes nothing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::bot::LiveModerator;
use super::now;
use crate::engine::Engine;
use crate::engine::event::UserId;
use crate::lock::lock;
use crate::moderation::ModerationError;
use crate::rules::{LoadedRules, RulesError};

/// Why new rules did not take effect.
#[derive(Debug, thiserror::Error)]
pub enum RulesChangeError {
    /// The file has errors; the old rules stay in force.
    #[error("{0}")]
    Invalid(#[from] RulesError),
    #[error("cannot save the rules file {}: {source}", path.display())]
    Save {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Moderation(#[from] ModerationError),
}

/// The rules the engine and the moderator work under, kept in step.
pub struct LiveRules {
    /// The rules file; `None` for the built-in example rules.
    path: Option<PathBuf>,
    engine: Arc<Mutex<Engine>>,
    moderator: Arc<LiveModerator>,
    current: Mutex<Arc<LoadedRules>>,
}

impl LiveRules {
    /// Rules `current`, read from `path`, in force in `engine` and `moderator`.
    pub fn new(
        path: Option<PathBuf>,
        engine: Arc<Mutex<Engine>>,
        moderator: Arc<LiveModerator>,
        current: LoadedRules,
    ) -> Self {
        LiveRules {
            path,
            engine,
            moderator,
            current: Mutex::new(Arc::new(current)),
        }
    }

    /// The rules in force.
    pub fn current(&self) -> Arc<LoadedRules> {
        lock(&self.current).clone()
    }

    /// The rules file, if there is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Re-reads the rules file. Returns the new rules, or `None` when nothing changed.
    /// A file with errors is audited and reported in the mod-log channel.
    pub async fn reload(&self, by: &str) -> Result<Option<Arc<LoadedRules>>, RulesChangeError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        match crate::rules::load(path) {
            Ok(loaded) if loaded.hash == self.current().hash => Ok(None),
            Ok(loaded) => self.install(loaded, by).await.map(Some),
            Err(problems) => {
                self.moderator
                    .rules_rejected(&problems.to_string(), now())
                    .await?;
                Err(problems.into())
            }
        }
    }

    /// Validates `source` as a rules file uploaded by `moderator`; when it is valid, saves
    /// it over the rules file (so a restart keeps it) and puts it in force.
    pub async fn upload(
        &self,
        source: &str,
        name: &str,
        moderator: UserId,
    ) -> Result<Arc<LoadedRules>, RulesChangeError> {
        let base = self
            .path
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."));
        let loaded = crate::rules::parse(source, Path::new(name), base)?;
        if let Some(path) = &self.path {
            save(path, source).map_err(|source| RulesChangeError::Save {
                path: path.clone(),
                source,
            })?;
        }
        let by = format!("upload by {moderator}");
        self.install(loaded, &by).await
    }

    async fn install(
        &self,
        loaded: LoadedRules,
        by: &str,
    ) -> Result<Arc<LoadedRules>, RulesChangeError> {
        lock(&self.engine).set_rules(loaded.set.clone());
        self.moderator.load_rules(&loaded, by, now()).await?;
        tracing::info!(rules = %loaded.summary(), by, "rules in force");
        let loaded = Arc::new(loaded);
        *lock(&self.current) = loaded.clone();
        Ok(loaded)
    }
}

/// Writes `source` to `path` through a temporary file, so a crash never leaves half a file.
fn save(path: &Path, source: &str) -> std::io::Result<()> {
    let temporary = path.with_extension("yaml.upload");
    std::fs::write(&temporary, source)?;
    std::fs::rename(&temporary, path)
}
