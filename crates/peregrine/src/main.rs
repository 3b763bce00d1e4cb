//! `peregrine`: thin glue between the command line, the config file and the
//! pipeline crates. Only this crate knows about either.

mod app;
mod cli;
mod cmd;
#[allow(dead_code)]
mod config;
mod versions;
#[allow(dead_code)]
mod web;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let code = match cli.command {
        Some(cli::Command::Events(args)) => cmd::events::run(&args),
        Some(cli::Command::Filter(cli::FilterCommand::Parse { expression })) => {
            cmd::filter::parse(&expression)
        }
        Some(cli::Command::Capture(args)) => cmd::capture::run(&args),
        None => cmd::falco::run(&cli.falco),
    };
    ExitCode::from(code)
}
