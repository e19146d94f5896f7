//! The preview of an import (`contacts.md` §3): the first rows as they
//! will be read, field by field after the mapping, with the rejections the
//! row checks give them, before anything is written.

use super::file::{FileError, Limits, Records};
use super::layout::{Plan, Target, resolve};
use super::profile::ImportProfile;
use super::row::{Rejected, RowContext, read_row};
use std::io::Read;

/// How many rows a preview shows.
pub const PREVIEW_ROWS: usize = 10;

/// One previewed row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewRow {
    /// The physical line it starts on.
    pub line: u64,
    /// (field, value) of each imported column with a non-blank cell, in column order.
    pub fields: Vec<(String, String)>,
    /// Why the row would not be imported, if it would not.
    pub rejected: Option<Rejected>,
}

/// The preview of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    /// What each column feeds.
    pub plan: Plan,
    /// The first [`PREVIEW_ROWS`] non-blank rows.
    pub rows: Vec<PreviewRow>,
}

/// The first [`PREVIEW_ROWS`] rows of `input` as `profile` reads them.
/// Reads no further than those rows; a fault of the file in them (or in
/// its header) is the error.
pub fn preview<R: Read>(
    input: R,
    profile: &ImportProfile,
    ctx: &RowContext<'_>,
    limits: &Limits,
) -> Result<Preview, FileError> {
    let mut records = Records::open(input, limits)?;
    let plan = resolve(records.header(), records.header_line(), profile)?;
    let (mut rows, mut blank) = (Vec::new(), 0);
    while rows.len() < PREVIEW_ROWS {
        let Some(record) = records.next_filled(&mut blank)? else { break };
        let fields = plan
            .columns
            .iter()
            .zip(record.cells())
            .filter_map(|(c, cell)| match &c.target {
                Target::Field(f) if !cell.trim().is_empty() => Some((f.to_string(), cell.trim().to_string())),
                _ => None,
            })
            .collect();
        let rejected = read_row(&record, &plan, profile, ctx).err();
        rows.push(PreviewRow { line: record.line(), fields, rejected });
    }
    if rows.is_empty() {
        return Err(FileError::NoRows { line: records.header_line() });
    }
    Ok(Preview { plan, rows })
}
