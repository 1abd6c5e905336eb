//! The command line: `parlor [--config FILE] [serve | migrate | user create ... |
//! project create ... | project key create ...]`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::auth::Signup;
use crate::config::Settings;
use crate::db::Database;
use crate::db::models::NewProject;
use crate::db::queries::{api_keys, projects, users};
use crate::domain::{Invalid, ProjectId, ProjectName, Role};
use crate::http::api_keys::{created, new_key};
use crate::startup::Application;

fn parse_role(raw: &str) -> Result<Role, Invalid> {
    raw.parse()
}

/// Parlor, a realtime chat server.
#[derive(Debug, Parser)]
#[command(name = "parlor", version, about)]
pub struct Cli {
    /// Configuration file (default: ./config.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        /// The user action.
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Manage projects (tenants).
    Project {
        /// The project action.
        #[command(subcommand)]
        action: ProjectCommand,
    },
}

/// `parlor project ...`
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project and print it as JSON (with its `id`). Works whether or not a server is
    /// running.
    Create {
        /// Unique name, at most 100 characters.
        #[arg(long)]
        name: String,
        /// Let anyone register in it (`POST /api/v1/auth/register` with its `project_id`).
        #[arg(long)]
        self_registration: bool,
    },
    /// Manage a project's API keys.
    Key {
        /// The key action.
        #[command(subcommand)]
        action: KeyCommand,
    },
}

/// `parlor project key ...`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key and print it as JSON, the key included (shown only this once).
    Create {
        /// The project.
        #[arg(long)]
        project: i64,
        /// A label for the key.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Scopes, comma-separated (default: all): users:write, tokens:write,
        /// conversations:write, messages:write, read.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
    },
}

/// `parlor user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and print it as JSON. Works whether or not a server is running.
    Create {
        /// Email address.
        #[arg(long)]
        email: String,
        /// Username: 3-32 of [A-Za-z0-9_.-].
        #[arg(long)]
        username: String,
        /// Password: at least 8 characters.
        #[arg(long)]
        password: String,
        /// Optional display name.
        #[arg(long)]
        display_name: Option<String>,
        /// Role: admin, agent or customer.
        #[arg(long, default_value = "customer", value_parser = parse_role)]
        role: Role,
        /// The user's project (tenant).
        #[arg(long, default_value_t = 1)]
        project: i64,
        /// Make an instance admin, who manages projects (`/api/v1/admin/projects`).
        #[arg(long)]
        instance_admin: bool,
    },
}

/// Runs the parsed command line.
///
/// # Errors
/// Configuration, database or server failures, and validation errors of `user create`.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init(settings.log.format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => {
            Database::open(&settings.database)?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::User {
            action:
                UserCommand::Create {
                    email,
                    username,
                    password,
                    display_name,
                    role,
                    project,
                    instance_admin,
                },
        } => {
            let mut new = Signup {
                project_id: ProjectId(project),
                email: &email,
                username: &username,
                password: &password,
                display_name: display_name.as_deref(),
                role,
            }
            .into_row(settings.auth.bcrypt_cost)?;
            new.instance_admin = instance_admin;
            let db = Database::open(&settings.database)?;
            let mut conn = db.write_pool.get()?;
            if !projects::exists(&mut conn, new.project_id)? {
                anyhow::bail!("--project {project}: no such project (parlor project create)");
            }
            let user = users::insert(&mut conn, &new).map_err(crate::error::AppError::from)?;
            println!("{}", serde_json::to_string_pretty(&user.view())?);
            Ok(())
        }
        Command::Project {
            action:
                ProjectCommand::Create {
                    name,
                    self_registration,
                },
        } => {
            let project = NewProject {
                name: ProjectName::parse(&name)?,
                self_registration,
                created_at: crate::db::now(),
            };
            let db = Database::open(&settings.database)?;
            let mut conn = db.write_pool.get()?;
            let row =
                projects::insert(&mut conn, &project).map_err(crate::error::AppError::from)?;
            println!("{}", serde_json::to_string_pretty(&row.view())?);
            Ok(())
        }
        Command::Project {
            action:
                ProjectCommand::Key {
                    action:
                        KeyCommand::Create {
                            project,
                            name,
                            scopes,
                        },
                },
        } => {
            let scopes = (!scopes.is_empty()).then_some(scopes.as_slice());
            let (row, key) = new_key(ProjectId(project), &name, scopes, None)?;
            let db = Database::open(&settings.database)?;
            let mut conn = db.write_pool.get()?;
            if !projects::exists(&mut conn, row.project_id)? {
                anyhow::bail!("--project {project}: no such project (parlor project create)");
            }
            let stored = api_keys::insert(&mut conn, &row).map_err(crate::error::AppError::from)?;
            println!("{}", serde_json::to_string_pretty(&created(&stored, key))?);
            Ok(())
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        app.run_until_stopped().await?;
        tracing::info!("server stopped");
        Ok(())
    })
}
