//! `steward export`: cases and the audit log as JSON Lines or CSV, for spreadsheets,
//! archives and other tools.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::engine::event::GuildId;
use crate::engine::time::Timestamp;
use crate::store::audit::{AuditFilter, AuditRow};
use crate::store::cases::Case;
use crate::store::{Store, StoreError};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Write(#[from] io::Error),
}

const CASE_FIELDS: &[&str] = &[
    "guild_id",
    "number",
    "kind",
    "target_id",
    "moderator_id",
    "rule",
    "reason",
    "evidence",
    "normalized",
    "rules_hash",
    "created_at",
    "expires_at",
    "active",
    "outcome",
];

const AUDIT_FIELDS: &[&str] = &[
    "id",
    "at",
    "guild_id",
    "actor_id",
    "rule",
    "action",
    "phase",
    "target_id",
    "case_id",
    "detail",
    "prev_hash",
    "hash",
];

/// Writes every case (of `guild`, or all) to `out`.
pub async fn cases(
    store: &Store,
    guild: Option<GuildId>,
    format: ExportFormat,
    out: &mut impl Write,
) -> Result<(), ExportError> {
    let rows: Vec<Value> = store
        .all_cases(guild)
        .await?
        .iter()
        .map(case_json)
        .collect();
    write(CASE_FIELDS, &rows, format, out)
}

/// Writes the audit log (of `guild`, or all), oldest first, to `out`.
pub async fn audit(
    store: &Store,
    guild: Option<GuildId>,
    format: ExportFormat,
    out: &mut impl Write,
) -> Result<(), ExportError> {
    let filter = AuditFilter {
        guild,
        ..AuditFilter::default()
    };
    let rows: Vec<Value> = store
        .audit_rows(&filter)
        .await?
        .iter()
        .map(audit_json)
        .collect();
    write(AUDIT_FIELDS, &rows, format, out)
}

fn case_json(c: &Case) -> Value {
    json!({
        "guild_id": c.guild.to_string(),
        "number": c.number,
        "kind": c.kind.as_str(),
        "target_id": c.target.to_string(),
        "moderator_id": c.actor.user_id().map(|u| u.to_string()),
        "rule": c.actor.rule(),
        "reason": c.reason,
        "evidence": c.evidence.original,
        "normalized": c.evidence.normalized,
        "rules_hash": c.rules_hash,
        "created_at": c.created_at.rfc3339(),
        "expires_at": c.expires_at.map(Timestamp::rfc3339),
        "active": c.active,
        "outcome": c.outcome,
    })
}

fn audit_json(r: &AuditRow) -> Value {
    let e = &r.entry;
    json!({
        "id": r.id,
        "at": e.at.rfc3339(),
        "guild_id": e.guild.map(|g| g.to_string()),
        "actor_id": e.actor.map(|a| a.to_string()),
        "rule": e.rule,
        "action": e.action,
        "phase": e.phase.as_str(),
        "target_id": e.target.map(|t| t.to_string()),
        "case_id": e.case_id,
        "detail": e.detail,
        "prev_hash": r.prev_hash,
        "hash": r.hash,
    })
}

fn write(
    fields: &[&str],
    rows: &[Value],
    format: ExportFormat,
    out: &mut impl Write,
) -> Result<(), ExportError> {
    match format {
        ExportFormat::Jsonl => {
            for row in rows {
                writeln!(out, "{row}")?;
            }
        }
        ExportFormat::Csv => {
            writeln!(out, "{}", fields.join(","))?;
            for row in rows {
                let cells: Vec<String> = fields.iter().map(|f| csv_cell(&row[*f])).collect();
                writeln!(out, "{}", cells.join(","))?;
            }
        }
    }
    Ok(())
}

/// One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. Cells that a
/// spreadsheet would run as a formula get a leading apostrophe.
fn csv_cell(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let text = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell(&json!("plain")), "plain");
        assert_eq!(csv_cell(&json!("a, \"b\"")), "\"a, \"\"b\"\"\"");
        assert_eq!(csv_cell(&json!("=HYPERLINK(1)")), "'=HYPERLINK(1)");
        assert_eq!(csv_cell(&json!(-3)), "-3");
        assert_eq!(csv_cell(&Value::Null), "");
        assert_eq!(csv_cell(&json!(true)), "true");
    }
}
