//! What the report prints: rows of either listing, the table, CSV cells,
//! streamed items, the summary, and text made safe for a terminal.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use digitalocean_snapshots::{DropletSnapshot, Snapshot};
use serde::Serialize;

use super::Format;

/// What the report needs from either listing's item.
pub(crate) trait Row: Serialize {
    const CSV_HEADER: &'static str;
    fn id(&self) -> String;
    fn name(&self) -> &str;
    /// The TYPE column: snapshot / backup (droplet listing), or droplet /
    /// volume (account listing).
    fn type_label(&self) -> String;
    fn resource(&self) -> String;
    fn regions(&self) -> &[String];
    fn size(&self) -> f64;
    fn created_at(&self) -> DateTime<Utc>;
    fn csv(&self) -> String;
}

impl Row for Snapshot {
    const CSV_HEADER: &'static str =
        "id,name,created_at,resource_type,resource_id,regions,min_disk_size,size_gigabytes,tags";
    fn id(&self) -> String {
        self.id.clone()
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn type_label(&self) -> String {
        self.resource_type.to_string()
    }
    fn resource(&self) -> String {
        format!("{} {}", self.resource_type, self.resource_id)
    }
    fn regions(&self) -> &[String] {
        &self.regions
    }
    fn size(&self) -> f64 {
        self.size_gigabytes
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn csv(&self) -> String {
        [
            csv_field(&self.id),
            csv_field(&self.name),
            self.created_at.to_rfc3339(),
            csv_field(self.resource_type.as_str()),
            csv_field(&self.resource_id),
            csv_list(&self.regions),
            self.min_disk_size.to_string(),
            self.size_gigabytes.to_string(),
            self.tags.as_deref().map(csv_list).unwrap_or_default(),
        ]
        .join(",")
    }
}

impl Row for DropletSnapshot {
    const CSV_HEADER: &'static str = "id,name,created_at,type,regions,min_disk_size,size_gigabytes";
    fn id(&self) -> String {
        self.id.to_string()
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn type_label(&self) -> String {
        self.snapshot_type.to_string()
    }
    fn resource(&self) -> String {
        String::new()
    }
    fn regions(&self) -> &[String] {
        &self.regions
    }
    fn size(&self) -> f64 {
        self.size_gigabytes
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn csv(&self) -> String {
        [
            self.id.to_string(),
            csv_field(&self.name),
            self.created_at.to_rfc3339(),
            csv_field(self.snapshot_type.as_str()),
            csv_list(&self.regions),
            self.min_disk_size.to_string(),
            self.size_gigabytes.to_string(),
        ]
        .join(",")
    }
}

/// A CSV cell (RFC 4180: quoted when it holds a comma, a quote or a line
/// break). A value a spreadsheet would run as a formula (starting with
/// `=`, `+`, `-`, `@`, a tab or a CR) gets a leading `'`, as
/// spreadsheet-safe exporters do.
pub(crate) fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.into_owned()
    }
}

/// A list in one CSV cell, unambiguously: a JSON array (`["a b","c"]`).
fn csv_list(values: &[String]) -> String {
    csv_field(&serde_json::to_string(values).unwrap_or_default())
}

/// Text from the server, safe to print on a terminal: control characters
/// (ESC, CR, NUL, ...), bidirectional overrides and line separators are
/// shown escaped (`\u{1b}`), so a name cannot move the cursor, forge a
/// line or reverse the text around it.
pub(crate) fn safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
            )
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn age(created: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let days = (now - created).num_days();
    match days {
        ..=0 => format!("{}h", (now - created).num_hours().max(0)),
        1..=59 => format!("{days}d"),
        60..=729 => format!("{}mo", days / 30),
        _ => format!("{}y", days / 365),
    }
}

/// One item in a streamed format (`first`: the first of a JSON array).
pub(crate) fn write_item<T: Row>(out: &mut impl Write, item: &T, format: Format, first: bool) {
    let json = || serde_json::to_string(item).unwrap_or_default();
    let _ = match format {
        Format::Jsonl => writeln!(out, "{}", json()),
        Format::Csv => writeln!(out, "{}", item.csv()),
        Format::Json => write!(out, "{}{}", if first { "[\n  " } else { ",\n  " }, json()),
        Format::Ids => writeln!(out, "{}", safe(&item.id())),
        Format::Table => Ok(()),
    };
}

/// The table's cells of a row: name, type, resource, regions, size, age.
pub(crate) fn cells<T: Row>(row: &T, now: DateTime<Utc>) -> Vec<String> {
    vec![
        safe(row.name()).into_owned(),
        safe(&row.type_label()).into_owned(),
        safe(&row.resource()).into_owned(),
        safe(&row.regions().join(",")).into_owned(),
        format!("{:.2}", row.size()),
        age(row.created_at(), now),
    ]
}

/// The headers of [`cells`].
pub(crate) const HEADER: [&str; 6] = ["NAME", "TYPE", "RESOURCE", "REGIONS", "SIZE GB", "AGE"];

pub(crate) fn print_table<T: Row>(out: &mut impl Write, rows: &[T], now: DateTime<Utc>) {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| cells(r, now)).collect();
    write_table(out, &HEADER, &[4, 5], &cells);
}

/// Columns as wide as their widest cell (cells already made safe), the
/// columns numbered in `right` aligned right.
pub(crate) fn write_table(
    out: &mut impl Write,
    header: &[&str],
    right: &[usize],
    rows: &[Vec<String>],
) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (n, (cell, width)) in cells.zip(&widths).enumerate() {
            if n > 0 {
                text.push_str("  ");
            }
            let pad = width.saturating_sub(cell.chars().count());
            if right.contains(&n) {
                text.extend(std::iter::repeat_n(' ', pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
}

/// Counts, sizes and extremes of what was listed.
#[derive(Default)]
pub(crate) struct Summary {
    count: u64,
    gigabytes: f64,
    by_type: BTreeMap<String, (u64, f64)>,
    by_region: BTreeMap<String, u64>,
    oldest: Option<(DateTime<Utc>, String)>,
    largest: Option<(f64, String)>,
}

impl Summary {
    pub(crate) fn add<T: Row>(&mut self, item: &T) {
        self.count += 1;
        self.gigabytes += item.size();
        let by_type = self.by_type.entry(item.type_label()).or_default();
        by_type.0 += 1;
        by_type.1 += item.size();
        if item.regions().is_empty() {
            *self.by_region.entry("(none)".into()).or_default() += 1;
        }
        for region in item.regions() {
            *self.by_region.entry(region.clone()).or_default() += 1;
        }
        if self
            .oldest
            .as_ref()
            .is_none_or(|(t, _)| item.created_at() < *t)
        {
            self.oldest = Some((item.created_at(), item.name().to_owned()));
        }
        if self.largest.as_ref().is_none_or(|(s, _)| item.size() > *s) {
            self.largest = Some((item.size(), item.name().to_owned()));
        }
    }

    pub(crate) fn print(&self, out: &mut impl Write, now: DateTime<Utc>) {
        let _ = writeln!(
            out,
            "{} snapshots, {:.2} GB billable",
            self.count, self.gigabytes
        );
        for (label, (n, gb)) in &self.by_type {
            let label = safe(label);
            let _ = writeln!(out, "  {label:<12} {n:>6}  {gb:>12.2} GB");
        }
        let regions: Vec<String> = self
            .by_region
            .iter()
            .map(|(r, n)| format!("{} {n}", safe(r)))
            .collect();
        if !regions.is_empty() {
            let _ = writeln!(out, "by region: {}", regions.join(", "));
        }
        if let Some((t, name)) = &self.oldest {
            let _ = writeln!(
                out,
                "oldest:  {} ({}, {} old)",
                safe(name),
                t.format("%Y-%m-%d"),
                age(*t, now)
            );
        }
        if let Some((size, name)) = &self.largest {
            let _ = writeln!(out, "largest: {} ({size:.2} GB)", safe(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_output_escapes_what_could_move_the_cursor_or_forge_a_line() {
        assert_eq!(safe("web-01"), "web-01");
        let forged = "x\u{1b}[2K\r42 snapshots, 0.00 GB billable\u{202e}gnp.exe\u{2028}\0";
        let shown = safe(forged);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert!(
            !shown.contains('\u{202e}') && !shown.contains('\u{2028}'),
            "{shown}"
        );
        assert!(
            shown.contains("\\u{1b}") && shown.contains("\\u{202e}"),
            "{shown}"
        );
    }

    #[test]
    fn csv_cells_are_quoted_and_never_formulas_and_lists_are_unambiguous() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(
                csv_field(formula).trim_start_matches('"').starts_with('\''),
                "{formula}"
            );
        }
        let one = csv_list(&["a b".to_owned(), "c".to_owned()]);
        let other = csv_list(&["a".to_owned(), "b c".to_owned()]);
        assert_ne!(one, other);
        assert_eq!(one, "\"[\"\"a b\"\",\"\"c\"\"]\"");
    }
}
