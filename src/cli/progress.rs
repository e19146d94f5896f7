//! Progress on the terminal for the long commands (`leads import`,
//! `contacts import`, `demo`): a bar with rate and time left when the total is known, a
//! spinner with the time so far when it is not. Drawn on stderr only when
//! stderr is a terminal and `--quiet` was not given, so pipes, files, CI
//! logs and `--json` output never see it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Whether progress is drawn at all.
pub(crate) fn shown(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

fn target(quiet: bool) -> ProgressDrawTarget {
    if shown(quiet) { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() }
}

/// A bar over `total` units drawn with `template`'s `{...}` counts.
fn bar(total: u64, template: &str, message: &str, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), target(quiet));
    let style = ProgressStyle::with_template(&format!("{{msg}} [{{bar:30}}] {template}, {{eta}} left"))
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(message.to_string());
    bar
}

/// A bar over `total` bytes, with rate and time left.
pub(crate) fn bytes(total: u64, message: &str, quiet: bool) -> ProgressBar {
    bar(total, "{bytes}/{total_bytes} {bytes_per_sec}", message, quiet)
}

/// A bar over `total` rows, with rate and time left (the total may be
/// set later, [`ProgressBar::set_length`]).
pub(crate) fn rows(total: u64, message: &str, quiet: bool) -> ProgressBar {
    bar(total, "{human_pos}/{human_len} rows {per_sec}", message, quiet)
}

/// A spinner for work of unknown length, with the time so far.
pub(crate) fn spinner(message: &str, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target(quiet));
    let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
