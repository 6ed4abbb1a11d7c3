//! `cargo run -p openapi-sync [-- --check] [--upstream DIR]`: writes (or
//! checks) `openapi/snapshots.yaml` from DigitalOcean's description and
//! the overlay. `cargo run -p openapi-sync -- vendor DIR --commit SHA`:
//! refreshes `openapi/upstream/` from a checkout.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Derives openapi/snapshots.yaml from DigitalOcean's OpenAPI description
/// (vendored under openapi/upstream/) and openapi/overlay.yaml.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Compare the fragment with what upstream + overlay give, and fail
    /// with a diff when they differ (nothing is written).
    #[arg(long)]
    check: bool,
    /// Read a checkout of digitalocean/openapi instead of the vendored
    /// copy.
    #[arg(long, value_name = "DIR")]
    upstream: Option<PathBuf>,
    /// The workspace root (default: the nearest directory, from the
    /// current one up, holding openapi/overlay.yaml).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Copy the files the operations reach from a checkout of
    /// digitalocean/openapi into openapi/upstream/.
    Vendor {
        /// The checkout (the directory holding `specification/`).
        from: PathBuf,
        /// The checkout's commit id, recorded in upstream.yaml.
        #[arg(long)]
        commit: String,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(project) = args.project.clone().or_else(find_project) else {
        eprintln!(
            "openapi-sync: no openapi/overlay.yaml in this directory or above; run it inside \
             the workspace or give --project"
        );
        return ExitCode::from(2);
    };
    match run(&args, &project) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("openapi-sync: {e}");
            ExitCode::from(2)
        }
    }
}

/// The workspace root: the nearest directory, from the current one up,
/// that holds the overlay (`cargo run` keeps the caller's directory).
fn find_project() -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    here.ancestors()
        .find(|dir| dir.join(openapi_sync::paths::OVERLAY).is_file())
        .map(Path::to_path_buf)
}

fn run(args: &Args, project: &Path) -> Result<ExitCode, openapi_sync::Error> {
    if let Some(Command::Vendor { from, commit }) = &args.command {
        let files = openapi_sync::vendor(project, from, commit)?;
        println!(
            "vendored {} files from {} at {commit} into {}; now run `cargo run -p openapi-sync`",
            files.len(),
            from.display(),
            openapi_sync::paths::UPSTREAM
        );
        return Ok(ExitCode::SUCCESS);
    }
    let text = openapi_sync::fragment(project, args.upstream.as_deref())?;
    let mut differ = false;
    for (path, want) in openapi_sync::outputs(project, &text) {
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        let shown = path
            .strip_prefix(project)
            .unwrap_or(&path)
            .display()
            .to_string();
        if have == want {
            println!("{shown}: up to date");
        } else if args.check {
            differ = true;
            eprintln!("{shown} is not what upstream + overlay give:");
            eprint!("{}", openapi_sync::diff(&shown, &have, &want));
        } else {
            std::fs::write(&path, &want)
                .map_err(|e| openapi_sync::Error::new(format!("{shown}: {e}")))?;
            println!("{shown}: written; run `cargo build` and read the diff");
        }
    }
    if differ {
        eprintln!(
            "run `cargo run -p openapi-sync` to write it (and change openapi/overlay.yaml, \
             not the fragment, for a deliberate difference)"
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
