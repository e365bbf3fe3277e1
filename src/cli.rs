//! Command-line interface. Settings come from the environment (see config.rs); a bad one
//! stops here with one line that names it.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

use crate::accounts::ops::{self, AccountInput};
use crate::app::Application;
use crate::audit::Actor;
use crate::auth::{secrets, store};
use crate::config::{RawSettings, Settings};
use crate::db::Db;

#[derive(Parser)]
#[command(
    name = "doithoai",
    version,
    about = "Hội nghị đối thoại — planning and running public dialogue conferences"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations and serve (the default).
    Serve,
    /// Apply pending migrations only.
    Migrate,
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Fill an empty database with a sample dialogue like the reference case.
    Demo,
    /// Write a dialogue's minutes (biên bản) as PDF, or as an editable .docx when the file
    /// name ends in .docx: the same bytes as the endpoints.
    Minutes {
        /// The dialogue's id.
        dialogue_id: String,
        /// Where to write the file ("-" for the PDF on standard output); a name ending in
        /// .docx writes the Word copy.
        #[arg(short = 'o', long = "output")]
        output: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account; without --password one is generated and printed.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, organizer or agency
        #[arg(long)]
        role: String,
        /// The agency's id (for --role agency)
        #[arg(long)]
        agency: Option<String>,
        #[arg(long)]
        password: Option<String>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, None | Some(Command::Serve)) {
        restart_with_malloc_limits();
    }
    let settings = match RawSettings::load().and_then(RawSettings::validate) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("doithoai: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&settings.log);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::User {
            action:
                UserCommand::Create {
                    email,
                    name,
                    role,
                    agency,
                    password,
                },
        } => create_user(&settings, email, name, role, agency, password),
        Command::Demo => demo(&settings),
        Command::Minutes {
            dialogue_id,
            output,
        } => minutes(&settings, &dialogue_id, &output),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A setting found unusable only while starting (a port in use) exits like any bad setting.
        Err(message) if message.starts_with("invalid setting") => {
            eprintln!("doithoai: {message}");
            ExitCode::from(2)
        }
        Err(message) => {
            eprintln!("doithoai: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a person at a terminal; log files and journald get plain text.
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colours)
        .with_writer(std::io::stderr)
        .init();
}

fn serve(settings: Settings) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings.clone())?;
        let users = app
            .state()
            .db
            .read(|conn| Ok(store::count_users(conn)?))
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "doithoai is serving on http://{}:{} (database: {})",
            settings.bind.ip(),
            app.port(),
            app.state().db.backend().name()
        );
        if users == 0 {
            println!("There are no staff accounts yet. Create the first administrator with:");
            println!(
                "  doithoai user create --email you@example.vn --name \"Your Name\" --role admin"
            );
            println!("(or, from the source folder: cargo run --release -- user create …)");
            println!("To see a sample dialogue at once: doithoai demo");
        }
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

fn minutes(settings: &Settings, dialogue_id: &str, output: &std::path::Path) -> Result<(), String> {
    let db = Db::open(&settings.database_url, 1)?;
    let format = crate::minutes::ops::Format::of_path(output);
    let bytes = crate::minutes::ops::file_now(&db, dialogue_id, format).map_err(|e| match e {
        crate::error::AppError::NotFound => format!("no dialogue {dialogue_id}"),
        other => other.to_string(),
    })?;
    if output.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout()
            .write_all(&bytes)
            .map_err(|e| format!("writing the PDF: {e}"))?;
    } else {
        std::fs::write(output, &bytes).map_err(|e| format!("writing {}: {e}", output.display()))?;
        eprintln!("Wrote {} ({} bytes).", output.display(), bytes.len());
    }
    Ok(())
}

fn migrate(settings: &Settings) -> Result<(), String> {
    Db::open(&settings.database_url, 1)?;
    println!("The database is up to date ({}).", settings.backend.name());
    Ok(())
}

fn create_user(
    settings: &Settings,
    email: String,
    name: String,
    role: String,
    agency: Option<String>,
    password: Option<String>,
) -> Result<(), String> {
    let generated = password.is_none();
    let password = password.unwrap_or_else(secrets::generate_password);
    let input = AccountInput {
        email,
        name,
        role,
        agency_id: agency,
        password: Some(password.clone()),
        language: None,
    };
    let account = input.validate().map_err(|e| describe(&e))?;
    let hash = secrets::hash_password(&password).map_err(|e| e.to_string())?;
    let db = Db::open(&settings.database_url, 1)?;
    let user = db
        .write_now(|conn| ops::create(conn, &account, Some(hash), &Actor::System, None))
        .map_err(|e| describe(&e))?;
    println!(
        "Created {} {} <{}> (id {}).",
        user.role, user.name, user.email, user.id
    );
    if generated {
        println!("Password: {password}");
        println!("Keep it safe: it is not shown again.");
    }
    Ok(())
}

fn demo(settings: &Settings) -> Result<(), String> {
    let db = Db::open(&settings.database_url, 1)?;
    let report = crate::demo::fill(&db, settings).map_err(|e| describe(&e))?;
    println!("{report}");
    Ok(())
}

/// An error for a terminal: the code and, for validation, each field's reason in English.
fn describe(e: &crate::error::AppError) -> String {
    let envelope = e.envelope(crate::i18n::Lang::En, None).error;
    let mut text = format!("{} ({})", envelope.message, envelope.code);
    for (field, why) in envelope.fields {
        let option = if field == "agency_id" {
            "agency".to_string()
        } else {
            field.replace('_', "-")
        };
        text.push_str(&format!("\n  --{option}: {why}"));
    }
    text
}

/// glibc's malloc gives each thread that allocates an arena of its own, up to eight per
/// core, and keeps what is freed in each. A busy server's threads (the workers, the blocking
/// threads that run database work) each took one: under load the server held about 20 MB
/// more and kept it (docs/PERFORMANCE.md). And once a large block served by `mmap` is freed,
/// glibc raises the size from which it uses `mmap` to that block's, so the next large blocks
/// (a login's password hash: 7 MiB) come from the arenas and stay resident after they are
/// freed; a fixed threshold keeps them mapped, and unmapped when freed. glibc reads these
/// settings only when a process starts (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`), and
/// the code may not call `mallopt` (no `unsafe`), so the server starts itself again with
/// them set, unless the operator set the arena limit already. If that fails, it goes on
/// with glibc's defaults.
fn restart_with_malloc_limits() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        const LIMIT: &str = "MALLOC_ARENA_MAX";
        // glibc's own starting value (128 KiB), held fixed.
        const MMAP_THRESHOLD: &str = "131072";
        if std::env::var_os(LIMIT).is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new(exe);
        if let Some(name) = args.next() {
            command.arg0(name);
        }
        // Returns only if the new image could not start.
        let error = command
            .args(args)
            .env(LIMIT, "2")
            .env("MALLOC_MMAP_THRESHOLD_", MMAP_THRESHOLD)
            .exec();
        eprintln!("doithoai: could not limit malloc's arenas ({error}); going on without");
    }
}
