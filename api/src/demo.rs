//! `dinghuo demo`: placeholder, being written.

use dinghuo_commands::Commands;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub async fn run(_commands: &Commands, _args: &DemoArgs) -> Result<(), Box<dyn std::error::Error>> {
    Err("the demo is not written yet".into())
}
