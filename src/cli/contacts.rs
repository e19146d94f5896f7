//! The contacts commands: `contacts add|update|find|show|note|delete`,
//! `contacts settings`, `contacts types add`, `contacts sources add`, and
//! `orgs add|find`, over the contacts pack's store and library API. Each
//! works in one business unit (`--unit`) and prints readable text, or JSON
//! with `--json`.
//!
//! Exit codes: 0 done; 1 nothing found (`find`, or an id the unit does not
//! have); 2 unusable arguments, a refused record (its reason printed), or a
//! store that cannot be opened.

use super::StoreArgs;
use super::outbound::{UnitUse, open_unit_of, store_refused};
use crate::{check_db_url, tokio_rt, usage};
use anyhow::Result;
use clap::Subcommand;
use prospero::contacts::phone::known_country_code;
use prospero::contacts::{Contact, ContactType, CustomField, Note, Organization};
use prospero::packs::contacts::ContactsStore;
use prospero::packs::contacts::api::{self, ContactsError, Lookup};
use serde_json::{Map, Value as Json, json};
use std::process::ExitCode;

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

/// A contact's fields on the command line.
#[derive(clap::Args, Clone)]
pub(crate) struct FieldArgs {
    /// firstName.
    #[arg(long, value_name = "TEXT")]
    first_name: Option<String>,
    /// lastName.
    #[arg(long, value_name = "TEXT")]
    last_name: Option<String>,
    /// Any field, by the anchor's name: `workEmail=ada@example.org`,
    /// `cellPhone=(212) 736-5000`, `address={"city": "Paris"}` (a value
    /// starting with `{` or `[` is JSON); repeatable. An empty value clears.
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Every field as one JSON object (applied before --set).
    #[arg(long, value_name = "JSON")]
    fields: Option<String>,
    /// The external source of --external-id.
    #[arg(long, value_name = "NAME", requires = "external_id")]
    source: Option<String>,
    /// The contact's identifier in --source.
    #[arg(long, value_name = "ID", requires = "source")]
    external_id: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum ContactsCommand {
    /// Add a contact (firstName and lastName are required).
    Add {
        #[command(flatten)]
        fields: FieldArgs,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Change the fields given, leaving the others as they are.
    Update {
        /// The contact's id.
        id: i64,
        #[command(flatten)]
        fields: FieldArgs,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Find contacts by one of email, phone, external ID or name; oldest first.
    Find {
        #[arg(long)]
        /// An email (case ignored).
        email: Option<String>,
        /// A phone, in any written form.
        #[arg(long)]
        phone: Option<String>,
        /// An external ID (in --source when given).
        #[arg(long = "external-id", value_name = "ID")]
        external_id: Option<String>,
        /// The source of --external-id.
        #[arg(long, value_name = "NAME", requires = "external_id")]
        source: Option<String>,
        /// A last name (case ignored).
        #[arg(long, value_name = "TEXT")]
        last_name: Option<String>,
        /// A first name, with --last-name.
        #[arg(long, value_name = "TEXT", requires = "last_name")]
        first_name: Option<String>,
        /// The most contacts listed.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=1000))]
        limit: i64,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Show a contact and its notes.
    Show {
        /// The contact's id.
        id: i64,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Add a note to a contact.
    Note {
        /// The contact's id.
        id: i64,
        /// The note.
        text: String,
        /// Who writes it.
        #[arg(long, default_value = "cli")]
        author: String,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Erase a contact: the contact, its notes, phones, emails and external IDs.
    Delete {
        /// The contact's id.
        id: i64,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Show or change the unit's contacts settings.
    Settings {
        /// The country of phones written without a country code (ISO 3166 alpha-2).
        #[arg(long, value_name = "CC")]
        default_country: Option<String>,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Contact types and their custom fields.
    Types {
        #[command(subcommand)]
        command: TypesCommand,
    },
    /// External sources of contact identifiers.
    Sources {
        #[command(subcommand)]
        command: SourcesCommand,
    },
    /// Import contacts and organizations from a CSV file (a job: checked
    /// whole, then committed in batches; see `contacts jobs`, `resume`).
    Import(super::imports::ImportArgs),
    /// Saved import profiles.
    Profiles {
        #[command(subcommand)]
        command: super::imports::ProfilesCommand,
    },
    /// List import jobs, or show one with its log.
    Jobs(super::imports::JobsArgs),
    /// Finish an import job that stopped (a crash, a kill): from its last
    /// committed batch, with the same file.
    Resume(super::imports::JobArgs),
    /// Cancel an import job; what it committed stays.
    Cancel(super::imports::JobArgs),
}

#[derive(Subcommand)]
pub(crate) enum TypesCommand {
    /// Define a contact type.
    Add {
        /// The type's name.
        name: String,
        /// A custom field: name:text, name:number, name:date, name:boolean or name:list=a|b (repeatable).
        #[arg(long = "field", value_name = "NAME:KIND")]
        fields: Vec<String>,
        #[command(flatten)]
        unit: UnitArgs,
    },
}

#[derive(Subcommand)]
pub(crate) enum SourcesCommand {
    /// Define an external source.
    Add {
        /// The source's name.
        name: String,
        #[command(flatten)]
        unit: UnitArgs,
    },
}

#[derive(Subcommand)]
pub(crate) enum OrgsCommand {
    /// Add an organization.
    Add {
        /// Its name.
        name: String,
        /// Its external ID (at most 255 characters, unique in the unit).
        #[arg(long = "external-id", value_name = "ID")]
        external_id: Option<String>,
        /// More fields as one JSON object: address, phones, websites.
        #[arg(long, value_name = "JSON")]
        fields: Option<String>,
        #[command(flatten)]
        unit: UnitArgs,
    },
    /// Find organizations by external ID, name (case ignored) or #id.
    Find {
        /// The external ID, name or #id.
        key: String,
        #[command(flatten)]
        unit: UnitArgs,
    },
}

/// Open the unit, run `f`, close the store whatever happened.
fn with_unit<F>(args: &UnitArgs, mode: UnitUse, f: F) -> Result<ExitCode>
where
    F: AsyncFnOnce(&dyn ContactsStore, i64) -> Result<ExitCode>,
{
    let StoreArgs { db, unit } = &args.store;
    tokio_rt()?.block_on(async {
        check_db_url(db)?;
        let contacts = prospero::packs::contacts::store;
        let o = open_unit_of(db, unit, mode, |e| store_refused(db, e), contacts).await?;
        let r = f(o.domain.as_ref(), o.unit).await;
        o.close().await;
        r
    })
}

/// A refusal: not found is exit 1, anything else exit 2 with its reason.
fn failed(e: ContactsError) -> Result<ExitCode> {
    match e {
        ContactsError::Refused(r) if r.branch == "NotFound" => not_found(&r.reason),
        ContactsError::Refused(r) => Err(usage(format!("refused ({}): {}", r.branch, r.reason))),
        other => Err(usage(other.to_string())),
    }
}

fn not_found(what: &str) -> Result<ExitCode> {
    eprintln!("prospero: {what}");
    Ok(ExitCode::from(1))
}

fn now() -> String {
    prospero::store::now_text()
}

/// The changes of `--fields` and `--set`.
fn changes(f: &FieldArgs) -> Result<Map<String, Json>> {
    let mut m = match &f.fields {
        Some(text) => match serde_json::from_str::<Json>(text) {
            Ok(Json::Object(o)) => o,
            _ => return Err(usage("--fields must be a JSON object")),
        },
        None => Map::new(),
    };
    for (k, v) in [("firstName", &f.first_name), ("lastName", &f.last_name)] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    for s in &f.set {
        let (k, v) = s.split_once('=').ok_or_else(|| usage(format!("--set {s}: use FIELD=VALUE")))?;
        let v = v.trim();
        let value = if v.starts_with('{') || v.starts_with('[') {
            serde_json::from_str(v).map_err(|e| usage(format!("--set {k}: not JSON ({e})")))?
        } else {
            json!(v)
        };
        m.insert(k.trim().to_string(), value);
    }
    Ok(m)
}

fn print_json(v: &Json) -> Result<()> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// What `find` found, `kind` (`contact`, `organization`) each: JSON
/// `{"count": n, "<kind>s": [...]}`, or a line each and the count; exit 1
/// when nothing was found.
fn print_found<T>(
    json: bool,
    found: &[T],
    kind: &str,
    to_json: fn(&T) -> Json,
    line: fn(&T) -> String,
) -> Result<ExitCode> {
    if json {
        let list: Vec<Json> = found.iter().map(to_json).collect();
        print_json(&json!({"count": found.len(), format!("{kind}s"): list}))?;
    } else {
        found.iter().for_each(|x| outln!("{}", line(x)));
        outln!("{} {kind}(s) found", found.len());
    }
    Ok(if found.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// One line about a contact.
fn line(c: &Contact) -> String {
    let r = &c.record;
    let mut s = format!("contact {}: {} {}", c.id, r.first_name, r.last_name);
    for e in r.emails.values() {
        s.push_str(&format!(" <{e}>"));
    }
    for p in r.phones.values() {
        s.push_str(&format!(" {}", p.e164.as_deref().unwrap_or(&p.display)));
    }
    if let Some(o) = &c.organization {
        s.push_str(&format!(" [{}]", o.name));
    }
    s
}

fn show_contact(c: &Contact, notes: &[Note]) {
    outln!("{}", line(c));
    if let Json::Object(o) = c.to_json() {
        for (k, v) in o {
            if !matches!(k.as_str(), "id" | "firstName" | "lastName") {
                let v = if let Json::String(s) = &v { s.clone() } else { v.to_string() };
                outln!("  {k}: {v}");
            }
        }
    }
    for n in notes {
        outln!("  note {} by {} at {}: {}", n.id, n.author, n.create_date, n.text);
    }
}

fn org_line(o: &Organization) -> String {
    let ext = o.record.external_id.as_deref().map(|x| format!(" (external ID {x})")).unwrap_or_default();
    format!("organization {}: {}{ext}", o.id, o.record.name)
}

pub(crate) fn contacts(command: ContactsCommand) -> Result<ExitCode> {
    match command {
        ContactsCommand::Import(args) => super::imports::import(args),
        ContactsCommand::Profiles { command } => super::imports::profiles(command),
        ContactsCommand::Jobs(args) => super::imports::jobs(args),
        ContactsCommand::Resume(args) => super::imports::resume(args),
        ContactsCommand::Cancel(args) => super::imports::cancel(args),
        ContactsCommand::Add { fields, unit } => save(None, &fields, &unit),
        ContactsCommand::Update { id, fields, unit } => save(Some(id), &fields, &unit),
        ContactsCommand::Find { email, phone, external_id, source, last_name, first_name, limit, unit } => {
            let by = Lookup { email, phone, external_id, source, first_name, last_name };
            with_unit(&unit, UnitUse::Read, async |st, u| {
                let found = match api::find(st, u, &by, limit).await {
                    Ok(found) => found,
                    Err(e) => return failed(e),
                };
                print_found(unit.json, &found, "contact", Contact::to_json, line)
            })
        }
        ContactsCommand::Show { id, unit } => with_unit(&unit, UnitUse::Read, async |st, u| {
            let Some(c) = st.contact(u, id).await? else { return not_found(&format!("no contact {id}")) };
            let notes = st.notes(u, id).await?;
            if unit.json {
                let mut v = c.to_json();
                v["notes"] = Json::Array(notes.iter().map(Note::to_json).collect());
                print_json(&v)?;
            } else {
                show_contact(&c, &notes);
            }
            Ok(ExitCode::SUCCESS)
        }),
        ContactsCommand::Note { id, text, author, unit } => {
            if text.trim().is_empty() {
                return Err(usage("the note is blank"));
            }
            with_unit(&unit, UnitUse::Write, async |st, u| {
                let Some(n) = st.add_note(u, id, author.trim(), text.trim(), &now()).await? else {
                    return not_found(&format!("no contact {id}"));
                };
                if unit.json {
                    print_json(&n.to_json())?
                } else {
                    outln!("note {} added to contact {id}", n.id)
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        ContactsCommand::Delete { id, unit } => with_unit(&unit, UnitUse::Write, async |st, u| {
            if !st.delete_contact(u, id).await? {
                return not_found(&format!("no contact {id}"));
            }
            if unit.json {
                print_json(&json!({"deleted": id}))?
            } else {
                outln!("contact {id} erased")
            }
            Ok(ExitCode::SUCCESS)
        }),
        ContactsCommand::Settings { default_country, unit } => {
            // Refused before the store is opened, so a typo changes nothing.
            if let Some(c) = &default_country
                && known_country_code(c).is_none()
            {
                let c = c.trim();
                return Err(usage(format!(
                    "--default-country {c}: not a country libphonenumber knows; use a two-letter ISO 3166 code (US, GB, FR, ...)"
                )));
            }
            let mode = if default_country.is_some() { UnitUse::Write } else { UnitUse::Read };
            with_unit(&unit, mode, async |st, u| {
                if let Some(c) = &default_country {
                    api::set_default_country(st, u, c, &now()).await?;
                }
                let c = st.default_country(u).await?;
                if unit.json {
                    print_json(&json!({"defaultCountry": c}))?
                } else {
                    outln!("default country: {c}")
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        ContactsCommand::Types { command: TypesCommand::Add { name, fields, unit } } => {
            let fields = fields.iter().map(|f| CustomField::parse(f)).collect::<Result<Vec<_>, _>>();
            let t = fields.and_then(|f| ContactType::new(&name, f)).map_err(|e| usage(e.to_string()))?;
            if t.name.is_empty() {
                return Err(usage("the contact type's name is blank"));
            }
            with_unit(&unit, UnitUse::Write, async |st, u| {
                if !st.add_contact_type(u, &t, &now()).await? {
                    return Err(usage(format!("contact type '{}' already exists", t.name)));
                }
                if unit.json {
                    print_json(&serde_json::to_value(&t)?)?;
                } else {
                    outln!("contact type '{}' with {} custom field(s)", t.name, t.fields.len());
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        ContactsCommand::Sources { command: SourcesCommand::Add { name, unit } } => {
            if name.trim().is_empty() {
                return Err(usage("the source's name is blank"));
            }
            with_unit(&unit, UnitUse::Write, async |st, u| {
                let Some(id) = st.add_source(u, &name, &now()).await? else {
                    return Err(usage(format!("external source '{}' already exists", name.trim())));
                };
                if unit.json {
                    print_json(&json!({"id": id, "name": name.trim()}))?;
                } else {
                    outln!("external source '{}'", name.trim());
                }
                Ok(ExitCode::SUCCESS)
            })
        }
    }
}

/// A new record the rules refuse whatever the store holds (a missing
/// name, an incomplete email, a phone that is only an extension) is refused
/// before the store is opened, so a refused `contacts add` creates no unit.
/// What needs the store (contact type, organization) is checked there.
fn refuse_early(changes: &Map<String, Json>) -> Result<()> {
    let mut probe = changes.clone();
    for needs_store in ["contactType", "customFields", "externalOrganization"] {
        probe.remove(needs_store);
    }
    match prospero::contacts::model::apply_changes(None, &probe, None, prospero::contacts::phone::DEFAULT_COUNTRY) {
        Ok(_) => Ok(()),
        Err(e) => failed(api::invalid(e)).map(|_| ()),
    }
}

fn save(id: Option<i64>, fields: &FieldArgs, unit: &UnitArgs) -> Result<ExitCode> {
    let changes = changes(fields)?;
    let external = fields.source.as_deref().zip(fields.external_id.as_deref());
    if id.is_none() {
        refuse_early(&changes)?;
    }
    with_unit(unit, UnitUse::Write, async |st, u| {
        let c = match api::save_contact(st, u, id, &changes, external, &now()).await {
            Ok(c) => c,
            Err(e) => return failed(e),
        };
        if unit.json {
            print_json(&c.to_json())?;
        } else {
            outln!("{} ({})", line(&c), if id.is_some() { "updated" } else { "added" });
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn orgs(command: OrgsCommand) -> Result<ExitCode> {
    match command {
        OrgsCommand::Add { name, external_id, fields, unit } => {
            let mut given = match fields.as_deref().map(serde_json::from_str::<Json>) {
                None => Map::new(),
                Some(Ok(Json::Object(o))) => o,
                Some(_) => return Err(usage("--fields must be a JSON object")),
            };
            given.insert("name".into(), json!(name));
            if let Some(x) = external_id {
                given.insert("externalId".into(), json!(x));
            }
            with_unit(&unit, UnitUse::Write, async |st, u| {
                let o = match api::add_organization(st, u, &given, &now()).await {
                    Ok(o) => o,
                    Err(e) => return failed(e),
                };
                if unit.json {
                    print_json(&o.to_json())?
                } else {
                    outln!("{} (added)", org_line(&o))
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        OrgsCommand::Find { key, unit } => with_unit(&unit, UnitUse::Read, async |st, u| {
            let found = st.find_organizations(u, &key).await?;
            print_found(unit.json, &found, "organization", Organization::to_json, org_line)
        }),
    }
}
