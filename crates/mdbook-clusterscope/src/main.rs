//! The `mdbook-clusterscope` command, as mdBook runs a preprocessor:
//! `mdbook-clusterscope supports html` answers whether a renderer is
//! supported (exit 0 yes, 1 no); with no arguments it reads the book as
//! JSON on standard input and writes it back expanded.

use clap::{Parser, Subcommand};
use mdbook_clusterscope::ClusterScope;
use mdbook_preprocessor::Preprocessor;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "mdbook-clusterscope", version, about = "Live ClusterScope labs in an mdBook")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Whether a renderer is supported (exit 0) or not (exit 1).
    Supports {
        /// The renderer's name.
        renderer: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let pre = ClusterScope;
    if let Some(Command::Supports { renderer }) = cli.command {
        return match pre.supports_renderer(&renderer) {
            Ok(true) => ExitCode::SUCCESS,
            _ => ExitCode::from(1),
        };
    }
    let result = mdbook_preprocessor::parse_input(std::io::stdin())
        .and_then(|(ctx, book)| pre.run(&ctx, book))
        .and_then(|book| serde_json::to_writer(std::io::stdout(), &book).map_err(Into::into));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
