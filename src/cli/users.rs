//! Users, roles and unit settings (`users`, `units`), and the principal
//! file `--principal FILE` reads.

use super::StoreArgs;
use super::outbound::{OpenUnit, UnitUse, open_unit_of};
use crate::{check_db_url, tokio_rt, usage};
use anyhow::Result;
use clap::Subcommand;
use prospero::store::users::{TOP_SUPERVISOR, user_name};
use prospero::store::{Role, Store};
use prospero::{Principal, Runtime};
use std::path::Path;
use std::process::ExitCode;

fn role(text: &str) -> Result<Role, String> {
    Role::parse(text).map_err(|e| e.to_string())
}

#[derive(Subcommand)]
pub(crate) enum UsersCommand {
    /// Add a user to the unit with one or more roles (agent, sales-user,
    /// supervisor, coordinator).
    Add {
        /// The user's name (as the principal file's `user` names it).
        name: String,
        /// A role (repeatable): agent, sales-user, supervisor, coordinator.
        #[arg(long = "role", value_name = "ROLE", required = true, num_args = 1.., value_parser = role)]
        roles: Vec<Role>,
        #[command(flatten)]
        unit: StoreArgs,
    },
    /// List the unit's users, their roles and permissions, and its top
    /// supervisor.
    List {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        unit: StoreArgs,
    },
    /// Replace a user's roles.
    Set {
        /// The user's name.
        name: String,
        /// A role (repeatable).
        #[arg(long = "role", value_name = "ROLE", required = true, num_args = 1.., value_parser = role)]
        roles: Vec<Role>,
        #[command(flatten)]
        unit: StoreArgs,
    },
    /// Remove a user (and its top-supervisor mark).
    Remove {
        /// The user's name.
        name: String,
        #[command(flatten)]
        unit: StoreArgs,
    },
}

#[derive(Subcommand)]
pub(crate) enum UnitsCommand {
    /// Change the unit's settings.
    Set {
        /// The user (of this unit) who is its top supervisor.
        #[arg(long, value_name = "NAME", required = true)]
        top_supervisor: String,
        #[command(flatten)]
        unit: StoreArgs,
    },
}

/// Open the store and the unit (created for [`UnitUse::Write`]); exit 2
/// when either cannot be had. Users are the core store's own, so the
/// unit's side of the store is the store itself.
async fn open(args: &StoreArgs, mode: UnitUse) -> Result<OpenUnit<dyn Store>> {
    let refused = |e: prospero::store::StoreError| usage(format!("store {}: {e}", prospero::store::redact(&args.db)));
    open_unit_of(&args.db, &args.unit, mode, refused, |store| Ok(store.clone())).await
}

fn name_arg(raw: &str) -> Result<String> {
    user_name(raw).ok_or_else(|| usage(format!("user name {raw:?}: 1 to 255 characters, no control characters")))
}

pub(crate) fn users(command: UsersCommand) -> Result<ExitCode> {
    let args = match &command {
        UsersCommand::Add { unit, .. }
        | UsersCommand::List { unit, .. }
        | UsersCommand::Set { unit, .. }
        | UsersCommand::Remove { unit, .. } => unit.clone(),
    };
    check_db_url(&args.db)?;
    let rt = tokio_rt()?;
    rt.block_on(async {
        let mode = if matches!(command, UsersCommand::List { .. }) { UnitUse::Read } else { UnitUse::Write };
        let open = open(&args, mode).await?;
        let r = users_in(&*open.domain, open.unit, &args.unit, command).await;
        open.close().await;
        r
    })
}

async fn users_in(store: &dyn Store, unit: i64, unit_name: &str, command: UsersCommand) -> Result<ExitCode> {
    let refused = |e: prospero::store::StoreError| usage(e.to_string());
    match command {
        UsersCommand::Add { name, roles, .. } => {
            let name = name_arg(&name)?;
            if !store.add_user(unit, &name, &roles).await.map_err(refused)? {
                return Err(usage(format!(
                    "unit '{unit_name}' already has a user '{name}' (change its roles with `users set`)"
                )));
            }
            outln!("added {name} to unit {unit_name}: {}", role_names(&roles));
        }
        UsersCommand::Set { name, roles, .. } => {
            let name = name_arg(&name)?;
            if !store.set_user_roles(unit, &name, &roles).await.map_err(refused)? {
                return Err(usage(format!("unit '{unit_name}' has no user '{name}'")));
            }
            outln!("{name} of unit {unit_name}: {}", role_names(&roles));
        }
        UsersCommand::Remove { name, .. } => {
            let name = name_arg(&name)?;
            if !store.remove_user(unit, &name).await.map_err(refused)? {
                return Err(usage(format!("unit '{unit_name}' has no user '{name}'")));
            }
            if store.unit_setting(unit, TOP_SUPERVISOR).await.map_err(refused)?.as_deref() == Some(name.as_str()) {
                store.set_unit_setting(unit, TOP_SUPERVISOR, "").await.map_err(refused)?;
            }
            outln!("removed {name} from unit {unit_name}");
        }
        UsersCommand::List { json, .. } => {
            let list = store.users(unit).await.map_err(refused)?;
            let top = store.unit_setting(unit, TOP_SUPERVISOR).await.map_err(refused)?.filter(|t| !t.is_empty());
            if json {
                let users: Vec<serde_json::Value> = list
                    .iter()
                    .map(|u| {
                        serde_json::json!({"name": u.name, "roles": u.roles, "permissions": u.permissions(),
                            "created_at": u.created_at, "modified_at": u.modified_at})
                    })
                    .collect();
                let out = serde_json::json!({"unit": unit_name, "top_supervisor": top, "users": users});
                outln!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                outln!("unit {unit_name}: {} users, top supervisor: {}", list.len(), top.as_deref().unwrap_or("none"));
                for u in &list {
                    let mark = if top.as_deref() == Some(u.name.as_str()) { " (top supervisor)" } else { "" };
                    outln!("  {}{mark}: {}", u.name, role_names(&u.roles));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn role_names(roles: &[Role]) -> String {
    roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")
}

pub(crate) fn units(command: UnitsCommand) -> Result<ExitCode> {
    let UnitsCommand::Set { top_supervisor, unit: args } = command;
    check_db_url(&args.db)?;
    let name = name_arg(&top_supervisor)?;
    tokio_rt()?.block_on(async {
        let open = open(&args, UnitUse::Write).await?;
        let (store, unit) = (&open.domain, open.unit);
        let r = async {
            let refused = |e: prospero::store::StoreError| usage(e.to_string());
            if store.user(unit, &name).await.map_err(refused)?.is_none() {
                return Err(usage(format!(
                    "unit '{}' has no user '{name}' (add it first with `users add`)",
                    args.unit
                )));
            }
            store.set_unit_setting(unit, TOP_SUPERVISOR, &name).await.map_err(refused)?;
            outln!("unit {}: top supervisor {name}", args.unit);
            Ok(ExitCode::SUCCESS)
        }
        .await;
        open.close().await;
        r
    })
}

/// What a principal file gives: permissions, or a user whose roles apply.
pub(crate) enum PrincipalSpec {
    Given(Principal),
    User(String),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalFile {
    unit: Option<String>,
    permissions: Option<Vec<String>>,
    user: Option<String>,
}

/// Read a principal file (TOML, or JSON when it ends in `.json` or starts
/// with `{`) for a run in `unit`. Anything wrong is exit 2, with
/// file:line:column where the parser gives it.
pub(crate) fn read_principal(path: &Path, unit: &str) -> Result<PrincipalSpec> {
    read_principal_in(path, Some(unit))
}

/// A principal file for script tests: permissions only (a test's store is
/// empty, so it has no users), in whatever unit the test runs.
pub(crate) fn read_test_principal(path: &Path) -> Result<Principal> {
    match read_principal_in(path, None)? {
        PrincipalSpec::Given(p) => Ok(p),
        PrincipalSpec::User(_) => {
            Err(usage(format!("{}: a script test's store has no users: give `permissions = [...]`", path.display())))
        }
    }
}

fn read_principal_in(path: &Path, unit: Option<&str>) -> Result<PrincipalSpec> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| usage(format!("--principal {shown}: {e}")))?;
    let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) || text.trim_start().starts_with('{');
    let file: PrincipalFile = if json {
        serde_json::from_str(&text).map_err(|e| usage(format!("{shown}:{}:{}: {e}", e.line(), e.column())))?
    } else {
        toml::from_str(&text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
            usage(format!("{shown}:{line}:{col}: {}", e.message()))
        })?
    };
    if let Some(u) = &file.unit {
        let u = prospero::store::unit_name(u).map_err(|e| usage(format!("{shown}: unit: {e}")))?;
        if let Some(unit) = unit.filter(|unit| *unit != u) {
            return Err(usage(format!("{shown}: the principal is of unit '{u}' but the run is in unit '{unit}'")));
        }
    }
    match (file.permissions, file.user) {
        (Some(perms), None) => {
            let p = Principal::new(&perms).map_err(|e| usage(format!("{shown}: {e}")))?;
            Ok(PrincipalSpec::Given(match unit {
                Some(u) => p.in_unit(u),
                None => p,
            }))
        }
        (None, Some(user)) => Ok(PrincipalSpec::User(name_arg(&user)?)),
        _ => Err(usage(format!("{shown}: give either `permissions = [...]` or `user = \"NAME\"`"))),
    }
}

/// The principal of `spec` for `runtime` (its store open): a user's roles
/// are read from the store; an unknown user is exit 2.
pub(crate) async fn resolve_principal(runtime: &Runtime, spec: PrincipalSpec) -> Result<Principal> {
    match spec {
        PrincipalSpec::Given(p) => Ok(p),
        PrincipalSpec::User(name) => match runtime.user_principal(&name).await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(usage(format!("unit '{}' has no user '{name}'", runtime.business_unit()))),
            Err(e) => Err(usage(e.to_string())),
        },
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The principal of `check --principal FILE` (a `user` one read from the
/// store at `db`, unit `unit`).
pub(crate) fn check_principal(path: Option<&Path>, db: &str, unit: &str) -> Result<Option<Principal>> {
    let Some(path) = path else { return Ok(None) };
    match read_principal(path, unit)? {
        PrincipalSpec::Given(p) => Ok(Some(p)),
        spec => {
            check_db_url(db)?;
            let runtime = Runtime::builder().db(db).business_unit(unit).build();
            tokio_rt()?.block_on(async {
                let r = resolve_principal(&runtime, spec).await;
                runtime.close().await;
                r.map(Some)
            })
        }
    }
}
