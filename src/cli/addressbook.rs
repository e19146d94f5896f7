//! The address-book commands: `addressbook import FILE --name NAME`,
//! `add`, `edit EMAIL`, `delete EMAIL`, `list [--status S]`, `show EMAIL`,
//! `status EMAIL --set Expert,Copy` and `export [FILE]`, over the
//! address-book pack's store and its [`import_file`]. Each works in one
//! business unit (`--unit`) and prints readable text, or JSON with
//! `--json`.
//!
//! The command line holds every permission of the local unit (spec §1),
//! except that `import --user NAME` imports as that user of the unit and
//! is refused, with nothing written, when the user's roles lack
//! `addressBook:recipient:import` (the coordinator's).
//!
//! Exit codes: 0 done (an import whatever lines it refused: they are
//! listed); 1 no recipient of that email; 2 unusable arguments, a refused
//! name, file, record or user, or a store that cannot be opened.

use super::StoreArgs;
use super::outbound::{UnitUse, open_unit_of, store_refused};
use super::progress;
use crate::{check_db_url, tokio_rt, usage};
use anyhow::Result;
use clap::Subcommand;
use prospero::Principal;
use prospero::addressbook::{Civility, Recipient, Status, Statuses, check_file, import_name};
use prospero::packs::addressbook::import::{BATCH_LINES, Event, ImportError, import_file};
use prospero::packs::addressbook::{AddressBookStore, Edited, StoredRecipient};
use serde_json::{Value as Json, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The permission an import needs.
const IMPORT_PERMISSION: &str = "addressBook:recipient:import";

/// Where the store is, which business unit to work in, and whether to
/// print JSON.
#[derive(clap::Args, Clone)]
pub(crate) struct UnitArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// A recipient's fields other than the email.
#[derive(clap::Args, Clone)]
pub(crate) struct FieldArgs {
    /// M., Mme or Mlle (default M.).
    #[arg(long, value_name = "TEXT")]
    civility: Option<String>,
    /// First name (at most 50 characters).
    #[arg(long, value_name = "TEXT")]
    first_name: Option<String>,
    /// Last name (at most 20 characters).
    #[arg(long, value_name = "TEXT")]
    last_name: Option<String>,
    /// Department (at most 50 characters).
    #[arg(long, value_name = "TEXT")]
    department: Option<String>,
    /// Phone, digits only (0110203040, 0033110203040).
    #[arg(long, value_name = "DIGITS")]
    phone: Option<String>,
    /// Postal address (at most 100 characters).
    #[arg(long, value_name = "TEXT")]
    address: Option<String>,
    /// City (at most 100 characters).
    #[arg(long, value_name = "TEXT")]
    city: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum AddressBookCommand {
    /// Import recipients from a fixed-layout CSV file (8 fields: civility,
    /// first name, last name, email, department, phone, address, city).
    Import {
        /// The CSV file (UTF-8).
        file: PathBuf,
        /// The import's name, without spaces; every recipient it writes shows it.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Import as this user of the unit: refused unless its roles grant
        /// addressBook:recipient:import (coordinator, supervisor).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Lines per committed batch.
        #[arg(long, value_name = "N", default_value_t = BATCH_LINES,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
        batch: usize,
        #[command(flatten)]
        output: super::Output,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Add a recipient (statuses Expert and Copy).
    Add {
        /// The email: required, the key (case ignored).
        #[arg(long, value_name = "EMAIL")]
        email: String,
        #[command(flatten)]
        fields: FieldArgs,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Change a recipient's fields (those not given stay; statuses and
    /// import name stay).
    Edit {
        /// The recipient's email (case ignored).
        email: String,
        #[command(flatten)]
        fields: FieldArgs,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Erase a recipient.
    Delete {
        /// The recipient's email (case ignored).
        email: String,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// List recipients by email, all or those with one status.
    List {
        /// Expert, Copy or Transfer.
        #[arg(long, value_name = "STATUS", value_parser = |s: &str| Status::parse(s).map_err(|e| e.to_string()))]
        status: Option<Status>,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Show a recipient.
    Show {
        /// The recipient's email (case ignored).
        email: String,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Set a recipient's statuses.
    Status {
        /// The recipient's email (case ignored).
        email: String,
        /// The statuses it has afterwards, comma separated (Expert,Copy,Transfer; `none` clears).
        #[arg(long = "set", value_name = "STATUSES",
              value_parser = |s: &str| Statuses::parse(s).map_err(|e| e.to_string()))]
        set: Statuses,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Write every recipient in the import layout (to FILE, or stdout).
    Export {
        /// The file to write (stdout when absent).
        file: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Open the unit, run `f`, close the store whatever happened.
fn with_unit<F>(store: &StoreArgs, mode: UnitUse, f: F) -> Result<ExitCode>
where
    F: AsyncFnOnce(&dyn AddressBookStore, i64, &std::sync::Arc<dyn prospero::store::Store>) -> Result<ExitCode>,
{
    let StoreArgs { db, unit } = store;
    tokio_rt()?.block_on(async {
        check_db_url(db)?;
        let mut core = None;
        let book = |s: &std::sync::Arc<dyn prospero::store::Store>| {
            core = Some(s.clone());
            prospero::packs::addressbook::store(s)
        };
        let o = open_unit_of(db, unit, mode, |e| store_refused(db, e), book).await?;
        let r = match &core {
            Some(core) => f(o.domain.as_ref(), o.unit, core).await,
            None => Err(usage("the store has no address book")),
        };
        o.close().await;
        r
    })
}

fn not_found(email: &str) -> Result<ExitCode> {
    eprintln!("prospero: no recipient {email}");
    Ok(ExitCode::from(1))
}

fn print_json(v: &Json) -> Result<()> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// One line about a recipient.
fn line(s: &StoredRecipient) -> String {
    let r = &s.recipient;
    let mut out = format!("{} {} {} <{}> [{}]", r.civility, r.first_name, r.last_name, r.email, s.statuses);
    for (label, v) in [("department", &r.department), ("phone", &r.phone), ("city", &r.city)] {
        if !v.is_empty() {
            out.push_str(&format!(" {label}: {v}"));
        }
    }
    if let Some(i) = &s.import_name {
        out.push_str(&format!(" (import {i})"));
    }
    out
}

fn now() -> String {
    prospero::store::now_text()
}

/// `r` with the fields of `f` given applied, checked by the file rules.
fn apply(mut r: Recipient, f: &FieldArgs) -> Result<Recipient> {
    if let Some(c) = &f.civility {
        r.civility = Civility::parse(c).ok_or_else(|| usage(format!("civility '{c}' is not M., Mme or Mlle")))?;
    }
    for (value, slot) in [
        (&f.first_name, &mut r.first_name),
        (&f.last_name, &mut r.last_name),
        (&f.department, &mut r.department),
        (&f.phone, &mut r.phone),
        (&f.address, &mut r.address),
        (&f.city, &mut r.city),
    ] {
        if let Some(v) = value {
            *slot = v.clone();
        }
    }
    // The same rules as a line of a file, so a comma is refused here too
    // (an exported book must read back).
    let l = r.to_line();
    prospero::addressbook::parse_line(&l).map_err(|e| usage(format!("refused ({}): {}", e.reason.code(), e.detail)))
}

pub(crate) fn addressbook(command: AddressBookCommand) -> Result<ExitCode> {
    match command {
        AddressBookCommand::Import { file, name, user, batch, output, store } => {
            import(&file, &name, user.as_deref(), batch, output, &store)
        }
        AddressBookCommand::Add { email, fields, unit } => {
            let r = apply(Recipient { email, ..Recipient::default() }, &fields)?;
            with_unit(&unit.store, UnitUse::Write, async |st, u, _| {
                if !st.add_recipient(u, &r, Statuses::NEW, &now()).await? {
                    return Err(usage(format!(
                        "recipient {} already exists (change it with `addressbook edit`)",
                        r.email
                    )));
                }
                show(st, u, &r.email, unit.json, "added").await
            })
        }
        AddressBookCommand::Edit { email, fields, unit } => with_unit(&unit.store, UnitUse::Read, async |st, u, _| {
            let Some(old) = st.recipient(u, &email).await? else { return not_found(&email) };
            let r = apply(old.recipient, &fields)?;
            if st.edit_recipient(u, &r, &now()).await? == Edited::NotFound {
                return not_found(&email);
            }
            show(st, u, &email, unit.json, "changed").await
        }),
        AddressBookCommand::Delete { email, unit } => with_unit(&unit.store, UnitUse::Read, async |st, u, _| {
            if !st.delete_recipient(u, &email).await? {
                return not_found(&email);
            }
            if unit.json {
                print_json(&json!({"deleted": email}))?;
            } else {
                outln!("recipient {email} erased");
            }
            Ok(ExitCode::SUCCESS)
        }),
        AddressBookCommand::Show { email, unit } => {
            with_unit(&unit.store, UnitUse::Read, async |st, u, _| show(st, u, &email, unit.json, "").await)
        }
        AddressBookCommand::Status { email, set, unit } => with_unit(&unit.store, UnitUse::Read, async |st, u, _| {
            if !st.set_statuses(u, &email, set, &now()).await? {
                return not_found(&email);
            }
            show(st, u, &email, unit.json, "statuses set").await
        }),
        AddressBookCommand::List { status, unit } => with_unit(&unit.store, UnitUse::Read, async |st, u, _| {
            let mut list = Vec::new();
            let mut n = 0u64;
            each_page(st, u, status, |page| {
                for s in page {
                    n += 1;
                    if unit.json {
                        list.push(s.to_json());
                    } else {
                        outln!("{}", line(s));
                    }
                }
                Ok(())
            })
            .await?;
            if unit.json {
                print_json(&json!({"count": n, "recipients": list}))?;
            } else {
                outln!("{n} recipient(s)");
            }
            Ok(ExitCode::SUCCESS)
        }),
        AddressBookCommand::Export { file, store } => with_unit(&store, UnitUse::Read, async |st, u, _| {
            let mut out: Box<dyn Write> = match &file {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p).map_err(|e| usage(format!("{}: {e}", p.display())))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let mut n = 0u64;
            each_page(st, u, None, |page| {
                for s in page {
                    writeln!(out, "{}", s.recipient.to_line())?;
                    n += 1;
                }
                Ok(())
            })
            .await?;
            out.flush()?;
            if let Some(p) = &file {
                eprintln!("prospero: {n} recipient(s) written to {}", p.display());
            }
            Ok(ExitCode::SUCCESS)
        }),
    }
}

/// Every recipient (with `status`), a page at a time, so a large address
/// book is never held whole.
async fn each_page(
    st: &dyn AddressBookStore,
    unit: i64,
    status: Option<Status>,
    mut f: impl FnMut(&[StoredRecipient]) -> Result<()>,
) -> Result<()> {
    const PAGE: i64 = 1000;
    let mut after = String::new();
    loop {
        let page = st.recipients(unit, status, &after, PAGE).await?;
        f(&page)?;
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.recipient.key(),
            _ => return Ok(()),
        }
    }
}

async fn show(st: &dyn AddressBookStore, unit: i64, email: &str, json: bool, done: &str) -> Result<ExitCode> {
    let Some(s) = st.recipient(unit, email).await? else { return not_found(email) };
    if json {
        print_json(&s.to_json())?;
    } else if done.is_empty() {
        outln!("{}", line(&s));
    } else {
        outln!("{} ({done})", line(&s));
    }
    Ok(ExitCode::SUCCESS)
}

fn import(
    file: &std::path::Path,
    name: &str,
    user: Option<&str>,
    batch: usize,
    output: super::Output,
    store: &StoreArgs,
) -> Result<ExitCode> {
    // Name and file are checked before the store is opened: a refused one
    // leaves no trace (not even a new unit).
    import_name(name).map_err(|e| usage(e.to_string()))?;
    check_file(file).map_err(|e| usage(format!("{e} ({})", e.code())))?;
    // An import as a user needs the user, so its unit must exist already.
    let mode = if user.is_some() { UnitUse::Read } else { UnitUse::Write };
    with_unit(store, mode, async |st, u, core| {
        if let Some(user) = user {
            let Some(found) = core.user(u, user.trim()).await.map_err(|e| usage(e.to_string()))? else {
                return Err(usage(format!("unit '{}' has no user '{}'", store.unit, user.trim())));
            };
            let principal = Principal::new(found.permissions()).map_err(|e| usage(e.to_string()))?;
            if !principal.allows(IMPORT_PERMISSION) {
                return Err(usage(format!(
                    "user '{}' may not import into the address book: {} (roles: {})",
                    found.name,
                    Principal::denial(IMPORT_PERMISSION),
                    found.roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")
                )));
            }
        }
        let bar = progress::rows(0, "importing", output.quiet || output.json);
        let show_lines = !output.json;
        let mut observe = |e: Event<'_>| match e {
            Event::Rejected(l) if show_lines => bar.suspend(|| outln!("line {}: {}: {}", l.line, l.reason, l.detail)),
            Event::Rejected(_) => {}
            Event::Committed { done, total } => {
                bar.set_length(total);
                bar.set_position(done);
            }
        };
        let report = import_file(st, u, file, name, &now(), batch, &mut observe).await;
        bar.finish_and_clear();
        let report = match report {
            Ok(r) => r,
            Err(e @ (ImportError::Name(_) | ImportError::File(_))) => {
                return Err(usage(format!("{e} ({})", e.code())));
            }
            Err(e) => return Err(usage(format!("store {}: {e}", prospero::store::redact(&store.db)))),
        };
        if output.json {
            print_json(&report.to_json())?;
        } else {
            for n in &report.notes {
                outln!("{n}");
            }
            outln!("{}", report.summary());
        }
        Ok(ExitCode::SUCCESS)
    })
}
