//! `steward export`: cases and the audit log as JSON Lines or CSV, for spreadsheets,
//! archives and other tools.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::engine::event::GuildId;
use crate::engine::time::Timestamp;
use crate::store::audit::AuditRow;
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

/// Writes every case (of `guild`, or all) to `out`, row by row as the store reads them.
pub async fn cases(
    store: &Store,
    guild: Option<GuildId>,
    format: ExportFormat,
    out: &mut impl Write,
) -> Result<(), ExportError> {
    let mut rows = RowWriter::new(CASE_FIELDS, format, out)?;
    store
        .each_case(guild, |case| rows.write(&case_json(&case)))
        .await?;
    rows.finish()
}

/// Writes the audit log (of `guild`, or all), oldest first, to `out`, row by row.
pub async fn audit(
    store: &Store,
    guild: Option<GuildId>,
    format: ExportFormat,
    out: &mut impl Write,
) -> Result<(), ExportError> {
    let mut rows = RowWriter::new(AUDIT_FIELDS, format, out)?;
    store
        .each_audit_row(guild, |row| rows.write(&audit_json(&row)))
        .await?;
    rows.finish()
}

/// Writes rows one at a time; the first write error stops the export and is kept.
struct RowWriter<'a, W: Write> {
    fields: &'static [&'static str],
    out: Output<'a, W>,
    failed: Option<ExportError>,
}

enum Output<'a, W: Write> {
    Jsonl(&'a mut W),
    Csv(Box<csv::Writer<&'a mut W>>),
}

impl<'a, W: Write> RowWriter<'a, W> {
    fn new(
        fields: &'static [&'static str],
        format: ExportFormat,
        out: &'a mut W,
    ) -> Result<Self, ExportError> {
        let out = match format {
            ExportFormat::Jsonl => Output::Jsonl(out),
            ExportFormat::Csv => {
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record(fields).map_err(csv_error)?;
                Output::Csv(Box::new(csv))
            }
        };
        Ok(RowWriter {
            fields,
            out,
            failed: None,
        })
    }

    /// Writes `row`; returns whether to go on.
    fn write(&mut self, row: &Value) -> bool {
        let written = match &mut self.out {
            Output::Jsonl(out) => writeln!(out, "{row}").map_err(ExportError::from),
            Output::Csv(csv) => csv
                .write_record(self.fields.iter().map(|f| csv_cell(&row[*f])))
                .map_err(csv_error),
        };
        match written {
            Ok(()) => true,
            Err(e) => {
                self.failed = Some(e);
                false
            }
        }
    }

    fn finish(self) -> Result<(), ExportError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        match self.out {
            Output::Jsonl(out) => out.flush()?,
            Output::Csv(mut csv) => csv.flush()?,
        }
        Ok(())
    }
}

fn csv_error(e: csv::Error) -> ExportError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => ExportError::Write(e),
        other => ExportError::Write(io::Error::other(format!("{other:?}"))),
    }
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

/// One CSV cell's text (the csv crate quotes it). Cells that a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return, and not a
/// number) get a leading apostrophe.
fn csv_cell(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        let mut out = Vec::new();
        {
            let mut rows =
                RowWriter::new(&["a", "b"], ExportFormat::Csv, &mut out).expect("header");
            assert!(rows.write(&json!({"a": "plain", "b": "a, \"b\""})));
            assert!(rows.write(&json!({"a": "line\nbreak", "b": "\tcmd"})));
            rows.finish().expect("flushed");
        }
        let text = String::from_utf8(out).expect("UTF-8");
        assert_eq!(
            text,
            "a,b\nplain,\"a, \"\"b\"\"\"\n\"line\nbreak\",'\tcmd\n"
        );
        assert_eq!(csv_cell(&json!("=HYPERLINK(1)")), "'=HYPERLINK(1)");
        assert_eq!(csv_cell(&json!("\r=1+1")), "'\r=1+1");
        assert_eq!(csv_cell(&json!(-3)), "-3");
        assert_eq!(csv_cell(&Value::Null), "");
        assert_eq!(csv_cell(&json!(true)), "true");
    }
}
