//! Storage: the traits actions talk to, and their SQLite and PostgreSQL
//! implementations.
//!
//! SQLite (a file, created and migrated on first use) is the embedded
//! default; PostgreSQL serves several runtime processes sharing the same
//! business units. Each backend has its own migrations (`migrations/sqlite`,
//! `migrations/postgres`) over the same table layouts. A query both
//! dialects run is written once, with `$N` placeholders, and both traits
//! are implemented once for the two (`sql`, `core_sql`, `outbound_sql`);
//! what a backend does its own way (bulk writes, row locks, list
//! parameters) sits in `sqlite/` and `postgres/`, and `outbound_sql` says
//! where each difference is and why. A platform can plug in its own
//! backend by implementing [`Store`]. Every row belongs to one business
//! unit.

mod core_sql;
mod outbound_sql;
#[cfg(feature = "postgres")]
pub mod postgres;
mod rows;
pub(crate) mod sql;
pub mod sqlite;
pub mod users;

use crate::outbound::model::{
    Lead, MapEntry, NewLead, ProspectRow, Saved, Search, Skill, Source, SourceMap, StoredProspect, UserField,
};
use async_trait::async_trait;
use std::sync::Arc;
pub use users::{Role, UnitUser};

#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// A storage failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no backend Prospero knows.
    #[error("unsupported database URL '{0}' (use a file path, sqlite:..., sqlite::memory: or postgres://...)")]
    BadUrl(String),
    /// Connecting or migrating failed.
    #[error("cannot open the store at {url}: {reason}")]
    Open {
        /// The database URL (password removed).
        url: String,
        /// Why.
        reason: String,
    },
    /// A query failed.
    #[error("store error: {0}")]
    Query(String),
    /// The runtime was built without a store (see
    /// `RuntimeBuilder::without_store`); the text says why.
    #[error("no store: {0}")]
    Unavailable(String),
    /// An action asked for a domain store (`ctx.domain::<dyn T>()`) that
    /// neither a pack of the runtime opens on this backend nor the host
    /// provided.
    #[error(
        "no {store} on the {backend} store: add the pack that serves it (RuntimeBuilder::pack) \
         or provide one (RuntimeBuilder::domain_store)"
    )]
    MissingDomain {
        /// The backend (`sqlite`, `postgres`, or a host's).
        backend: String,
        /// The store trait asked for.
        store: String,
    },
    /// A business unit name that [`unit_name`] refuses.
    #[error(transparent)]
    UnitName(#[from] UnitNameError),
}

/// What a business unit name must look like once trimmed and lowercased:
/// 1 to 64 characters, a letter or digit first, then letters, digits, `.`,
/// `_` or `-` (ASCII only).
pub const UNIT_NAME_PATTERN: &str = "[a-z0-9][a-z0-9._-]{0,63}";

/// The longest business unit name, in characters.
pub const UNIT_NAME_MAX: usize = 64;

/// Why a business unit name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitNameError {
    /// Nothing but spaces.
    #[error("business unit name '{0}' is blank (a name matches {UNIT_NAME_PATTERN})")]
    Blank(String),
    /// Longer than [`UNIT_NAME_MAX`] characters.
    #[error("business unit name '{0}' is longer than {UNIT_NAME_MAX} characters (a name matches {UNIT_NAME_PATTERN})")]
    TooLong(String),
    /// A character the pattern does not allow, or a first character that is
    /// not a letter or digit.
    #[error(
        "business unit name '{0}' does not match {UNIT_NAME_PATTERN} (letters, digits, '.', '_', '-'; a letter or digit first)"
    )]
    Pattern(String),
}

/// The one spelling of a business unit name: `raw` trimmed and lowercased,
/// checked against [`UNIT_NAME_PATTERN`]. `" Acme\t"`, `"ACME"` and
/// `"acme"` all name unit `acme`. Every entry point (command line,
/// `RuntimeBuilder::business_unit`, the `Store` implementations) goes
/// through this, so different spellings never make different units.
pub fn unit_name(raw: &str) -> Result<String, UnitNameError> {
    // ASCII case folding only: Unicode lowercasing would turn the Kelvin
    // sign into `k` and so let a look-alike name reach another unit.
    let name = raw.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err(UnitNameError::Blank(raw.to_string()));
    }
    if name.chars().count() > UNIT_NAME_MAX {
        return Err(UnitNameError::TooLong(raw.to_string()));
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !(first_ok && rest_ok) {
        return Err(UnitNameError::Pattern(raw.to_string()));
    }
    Ok(name)
}

/// A business unit as [`Store::ensure_business_unit`] found or made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessUnit {
    /// The store id.
    pub id: i64,
    /// The normalised name (see [`unit_name`]).
    pub name: String,
    /// `true` when this call created the unit.
    pub created: bool,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Query(e.to_string())
    }
}

/// One finished run, as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    /// The run id.
    pub run_id: String,
    /// Root script name.
    pub script: String,
    /// Hash of the root script.
    pub script_hash: String,
    /// `completed`, `failed` or `budget_exceeded`.
    pub status: String,
    /// Actions executed.
    pub steps: i64,
    /// Error text, when not completed.
    pub error: Option<String>,
    /// Return value as JSON text.
    pub return_value: Option<String>,
    /// When it ended (RFC 3339).
    pub finished_at: String,
}

/// What the outbound actions need from storage: skills, sources, user
/// fields, source maps, prospects and lead-source records of one business
/// unit at a time. A dialing platform can implement this over its own
/// backend. Times are UTC text `YYYY-MM-DDTHH:MM:SSZ` taken from the run's
/// clock, so replays and virtual clocks see consistent answers.
#[async_trait]
pub trait OutboundStore: Send + Sync + 'static {
    /// Create or replace skill `skill.number` of the unit.
    async fn upsert_skill(&self, unit: i64, skill: &Skill) -> Result<(), StoreError>;

    /// The unit's skill numbered `number`.
    async fn skill(&self, unit: i64, number: i64) -> Result<Option<Skill>, StoreError>;

    /// All the unit's skills, by number.
    async fn skills(&self, unit: i64) -> Result<Vec<Skill>, StoreError>;

    /// Create source `name`; `None` when the unit already has a source of
    /// that name (names compare without regard to case).
    async fn create_source(&self, unit: i64, name: &str, now: &str) -> Result<Option<Source>, StoreError>;

    /// The unit's source named `name` (any case).
    async fn source(&self, unit: i64, name: &str) -> Result<Option<Source>, StoreError>;

    /// Create a user field; `false` when one of that name exists.
    async fn create_user_field(&self, unit: i64, field: &UserField, now: &str) -> Result<bool, StoreError>;

    /// The unit's user fields, in creation order.
    async fn user_fields(&self, unit: i64) -> Result<Vec<UserField>, StoreError>;

    /// The current (latest) map of a source.
    async fn source_map(&self, unit: i64, source: i64) -> Result<Option<SourceMap>, StoreError>;

    /// Store a new map version (see [`NewSourceMap`]); returns its version
    /// number.
    async fn store_source_map(&self, unit: i64, map: NewSourceMap<'_>) -> Result<i64, StoreError>;

    /// Create or replace prospects of a source, all in one transaction:
    /// either every row is written or none is. Rows have distinct external
    /// ids. Returns one [`Saved`] per row, in order.
    async fn save_prospects(&self, unit: i64, batch: Batch<'_>) -> Result<Vec<Saved>, StoreError>;

    /// Prospects of a source matching `search`, by id.
    async fn find_prospects(&self, unit: i64, source: i64, search: &Search) -> Result<Vec<StoredProspect>, StoreError>;

    /// Remove prospects by external id in one transaction; `true` for each
    /// one that existed.
    async fn remove_prospects(&self, unit: i64, source: i64, external_ids: &[String]) -> Result<Vec<bool>, StoreError>;

    /// How many prospects of a skill can still be dialed: active and not
    /// expired at `now`.
    async fn count_dialable(&self, unit: i64, skill_no: i64, now: &str) -> Result<i64, StoreError>;

    /// Put records into a lead source (replacing records with the same key
    /// and making them available again); returns how many were written.
    async fn import_leads(&self, unit: i64, lead_source: &str, leads: &[NewLead]) -> Result<u64, StoreError>;

    /// Check out up to `max` available records for run `run_id`, leased
    /// until `lease_until` (see [`CheckOut`]). A record is available when
    /// it waits, or when another run's lease on it has ended. No record is
    /// ever handed to two runs whose leases overlap.
    async fn check_out_leads(&self, unit: i64, checkout: CheckOut<'_>) -> Result<Vec<Lead>, StoreError>;

    /// Check records back in with an outcome (see [`CheckIn`]); only
    /// records this run holds are accepted (`true`), others are refused
    /// (`false`).
    async fn check_in_leads(&self, unit: i64, checkin: CheckIn<'_>) -> Result<Vec<bool>, StoreError>;
}

// The writes below take three values or more besides the unit, two or more
// of them of one type (ids, or text): a struct with named fields keeps a
// call from passing them in the wrong order, which a positional call would
// compile.

/// A new version of a source's map ([`OutboundStore::store_source_map`]).
#[derive(Clone, Copy, Debug)]
pub struct NewSourceMap<'a> {
    /// The source the map belongs to.
    pub source: i64,
    /// The map's entries, in order.
    pub entries: &'a [MapEntry],
    /// The write time.
    pub now: &'a str,
}

/// One batch of prospects to write ([`OutboundStore::save_prospects`]):
/// where to, and when.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    /// The source the prospects belong to.
    pub source: i64,
    /// The skill they are dialed for.
    pub skill_no: i64,
    /// The rows, with distinct external ids.
    pub rows: &'a [ProspectRow],
    /// The write time.
    pub now: &'a str,
}

/// A lead check-out ([`OutboundStore::check_out_leads`]).
#[derive(Clone, Copy, Debug)]
pub struct CheckOut<'a> {
    /// The lead source the records come from.
    pub lead_source: &'a str,
    /// The most records handed out.
    pub max: i64,
    /// The run that takes them.
    pub run_id: &'a str,
    /// The time of the check-out: leases that ended by then are free.
    pub now: &'a str,
    /// When this run's lease ends.
    pub lease_until: &'a str,
}

/// A lead check-in ([`OutboundStore::check_in_leads`]).
#[derive(Clone, Copy, Debug)]
pub struct CheckIn<'a> {
    /// The run that holds the records.
    pub run_id: &'a str,
    /// Each record's id and its outcome.
    pub items: &'a [(i64, String)],
    /// The time of the check-in.
    pub now: &'a str,
}

/// What the runtime needs from storage: business units and the run log.
/// Each domain has a store trait of its own (`OutboundStore`, ...), which
/// its pack finds on the concrete backend through [`Store::as_any`].
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres` (or a host's name).
    fn backend(&self) -> &'static str;

    /// The concrete backend, for packs that implement their store on it.
    fn as_any(&self) -> &dyn std::any::Any;

    /// The id of business unit `name` (normalised by [`unit_name`]),
    /// created if new.
    async fn business_unit(&self, name: &str) -> Result<i64, StoreError> {
        Ok(self.ensure_business_unit(name).await?.id)
    }

    /// Business unit `name` (normalised by [`unit_name`]), created if new;
    /// says whether this call created it. For commands that write.
    async fn ensure_business_unit(&self, name: &str) -> Result<BusinessUnit, StoreError>;

    /// The id of business unit `name` (normalised by [`unit_name`]), or
    /// `None` when there is none; never creates one. For commands that
    /// only read.
    async fn find_business_unit(&self, name: &str) -> Result<Option<i64>, StoreError>;

    /// Log a finished run.
    async fn record_run(&self, unit: i64, run: &RunRecord) -> Result<(), StoreError>;

    /// The latest runs of a unit, newest first.
    async fn recent_runs(&self, unit: i64, limit: i64) -> Result<Vec<RunRecord>, StoreError>;

    /// The users of a unit, by name. The default (a host's backend without
    /// users) fails, as every user method below does.
    async fn users(&self, _unit: i64) -> Result<Vec<UnitUser>, StoreError> {
        Err(no_users(self.backend()))
    }

    /// User `name` of a unit.
    async fn user(&self, unit: i64, name: &str) -> Result<Option<UnitUser>, StoreError> {
        Ok(self.users(unit).await?.into_iter().find(|u| u.name == name))
    }

    /// Add user `name` with `roles`; `false` when the unit has one of that name.
    async fn add_user(&self, _unit: i64, _name: &str, _roles: &[Role]) -> Result<bool, StoreError> {
        Err(no_users(self.backend()))
    }

    /// Replace the roles of user `name`; `false` when there is no such user.
    async fn set_user_roles(&self, _unit: i64, _name: &str, _roles: &[Role]) -> Result<bool, StoreError> {
        Err(no_users(self.backend()))
    }

    /// Remove user `name`; `false` when there is no such user.
    async fn remove_user(&self, _unit: i64, _name: &str) -> Result<bool, StoreError> {
        Err(no_users(self.backend()))
    }

    /// A unit setting (`users::TOP_SUPERVISOR`, ...).
    async fn unit_setting(&self, _unit: i64, _name: &str) -> Result<Option<String>, StoreError> {
        Err(no_users(self.backend()))
    }

    /// Set a unit setting.
    async fn set_unit_setting(&self, _unit: i64, _name: &str, _value: &str) -> Result<(), StoreError> {
        Err(no_users(self.backend()))
    }

    /// Finish with the store on a clean exit: close its connections, and
    /// leave its files complete on their own (SQLite: the write-ahead log
    /// copied into the database file and removed). Any use after it fails.
    /// The default does nothing.
    async fn close(&self) {}
}

fn no_users(backend: &str) -> StoreError {
    StoreError::Unavailable(format!("the {backend} store keeps no users, roles or unit settings"))
}

/// Each pack's migrations for SQLite, by pack (`migrations/sqlite/<pack>/`).
static SQLITE_MIGRATIONS: &[(&str, sqlx::migrate::Migrator)] =
    include!(concat!(env!("OUT_DIR"), "/migrations_sqlite.rs"));

/// Each pack's migrations for PostgreSQL, by pack.
static POSTGRES_MIGRATIONS: &[(&str, sqlx::migrate::Migrator)] =
    include!(concat!(env!("OUT_DIR"), "/migrations_postgres.rs"));

/// How many migration versions each pack owns: pack block `b` numbers its
/// migrations `b * 1000` to `b * 1000 + 999` (core has block 0; the
/// outbound pack's first three, 0002 to 0004, predate the rule). So packs
/// never collide, and one history per backend holds them all.
pub const MIGRATION_BLOCK: i64 = 1000;

/// A backend's one migration history: every pack's migrations, in version
/// order. Missing versions are ignored, so a database that a build with
/// more packs migrated still opens in a build with fewer.
pub(crate) fn migrator(backend: &str) -> sqlx::migrate::Migrator {
    let sets = if backend == "postgres" { POSTGRES_MIGRATIONS } else { SQLITE_MIGRATIONS };
    let mut m =
        sqlx::migrate::Migrator::with_migrations(sets.iter().flat_map(|(_, set)| set.iter().cloned()).collect());
    m.set_ignore_missing(true);
    m
}

/// The migration versions of each pack for `backend`, for checks.
pub fn migration_versions(backend: &str) -> Vec<(&'static str, Vec<i64>)> {
    let sets = if backend == "postgres" { POSTGRES_MIGRATIONS } else { SQLITE_MIGRATIONS };
    sets.iter().map(|(pack, set)| (*pack, set.iter().map(|m| m.version).collect())).collect()
}

/// Open the store named by `url`: a file path or `sqlite:` URL (created and
/// migrated on first use), `sqlite::memory:`, or `postgres://...`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let u = url.trim();
    if u.starts_with("postgres://") || u.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return Ok(Arc::new(PgStore::connect(u).await?));
        #[cfg(not(feature = "postgres"))]
        return Err(StoreError::Open {
            url: redact(u),
            reason: "this build has no PostgreSQL backend (Cargo feature `postgres`)".into(),
        });
    }
    if u.contains("://") && !u.starts_with("sqlite:") {
        return Err(StoreError::BadUrl(redact(u)));
    }
    Ok(Arc::new(SqliteStore::open(u).await?))
}

/// Open the store at `url` to read only, creating, migrating and changing
/// nothing: an SQLite file is opened read-only and left byte for byte as it
/// was ([`SqliteStore::open_read_only`]); `None` when the file does not
/// exist. PostgreSQL and memory databases open as [`open`] opens them (a
/// migrated PostgreSQL database is not written by opening it).
pub async fn open_read_only(url: &str) -> Result<Option<Arc<dyn Store>>, StoreError> {
    let u = url.trim();
    let sqlite_file = !u.contains(":memory:") && (!u.contains("://") || u.starts_with("sqlite:"));
    if !sqlite_file {
        return open(u).await.map(Some);
    }
    Ok(SqliteStore::open_read_only(u).await?.map(|s| Arc::new(s) as Arc<dyn Store>))
}

/// A URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub use crate::base::time::{now_text, time_text};

/// A list of names as a JSON array text.
pub(crate) fn json_list(items: &[String]) -> String {
    serde_json::Value::Array(items.iter().map(|s| serde_json::Value::String(s.clone())).collect()).to_string()
}

/// Read a JSON array of strings (anything else reads as empty).
pub(crate) fn parse_json_list(text: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// Ordered pairs as a JSON object text (member order kept).
pub(crate) fn json_pairs(pairs: &[(String, String)]) -> String {
    let mut m = serde_json::Map::new();
    for (k, v) in pairs {
        m.insert(k.clone(), serde_json::Value::String(v.clone()));
    }
    serde_json::Value::Object(m).to_string()
}

/// Read a JSON object of strings, keeping member order.
pub(crate) fn parse_json_pairs(text: &str) -> Vec<(String, String)> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(m)) => {
            m.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string()))).collect()
        }
        _ => Vec::new(),
    }
}

/// The destination kinds Prospero stores, as static names.
pub const DESTINATION_KINDS: &[&str] =
    &["geographic", "mobile", "toll-free", "premium-rate", "non-geographic", "international", "unknown"];

/// The static name of a stored destination kind.
pub(crate) fn kind_name(kind: &str) -> &'static str {
    DESTINATION_KINDS.iter().find(|k| **k == kind).copied().unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbering rule of [`MIGRATION_BLOCK`]: each pack's versions lie
    /// in a block of its own (core's is 0), and both backends have the same
    /// versions per pack.
    #[test]
    fn pack_migrations_keep_to_their_blocks_and_never_collide() {
        let sqlite = migration_versions("sqlite");
        assert_eq!(sqlite, migration_versions("postgres"), "the backends' histories differ");
        assert!(sqlite.iter().any(|(p, _)| *p == "core"));
        let mut owner = std::collections::HashMap::new();
        for (pack, versions) in &sqlite {
            assert!(!versions.is_empty(), "{pack}: empty migrations folder");
            for v in versions {
                let legacy = *pack == "outbound" && (2..=4).contains(v);
                let block = if legacy { -1 } else { v / MIGRATION_BLOCK };
                if *pack == "core" {
                    assert_eq!(block, 0, "core migration {v} is outside block 0");
                } else if !legacy {
                    assert_ne!(block, 0, "{pack} migration {v} is in core's block");
                }
                if let Some(other) = owner.insert(block, *pack) {
                    assert_eq!(other, *pack, "block {block} is used by {other} and {pack}");
                }
            }
        }
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("x.db"), "x.db");
    }
}
