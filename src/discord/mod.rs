//! The Discord adapter: serenity on one side, the moderation layer on the other. No policy
//! lives here; it carries requests out and turns gateway events into engine events.

pub mod bot;
pub mod commands;
pub mod convert;
pub mod executor;
pub mod metrics;
pub mod state;

pub use executor::{DiscordExecutor, ExecutorSettings};

use serenity::http::{Http, HttpBuilder};

/// The REST client: straight to Discord, or through `proxy` (for example
/// twilight-http-proxy, or the tests' fake), which then owns rate limiting, so serenity's
/// own limiter is off in that mode.
pub fn http(token: &str, proxy: Option<&str>) -> Http {
    let builder = HttpBuilder::new(token);
    let builder = match proxy {
        Some(proxy) => builder.proxy(proxy).ratelimiter_disabled(true),
        None => builder,
    };
    builder.build()
}

/// The wall clock as engine time: sanctions and their ends run on it.
pub fn now() -> crate::engine::time::Timestamp {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    crate::engine::time::Timestamp(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}
