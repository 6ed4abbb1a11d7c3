//! Filter the account listing by resource type, and show a droplet's
//! snapshots and backups apart.
//!
//! ```text
//! cargo run --example by_resource_type
//! ```

mod common;

use digitalocean_snapshots::{ResourceType, SnapshotType};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sandbox) = common::client().await?;
    for kind in [ResourceType::Droplet, ResourceType::Volume] {
        let snapshots = client
            .list_snapshots()
            .resource_type(kind.clone())
            .collect_all()
            .await?;
        let gigabytes: f64 = snapshots.iter().map(|s| s.size_gigabytes).sum();
        println!(
            "{kind:<8} {:>6} snapshots {gigabytes:>12.2} GB",
            snapshots.len()
        );
    }
    let droplet = 3164444;
    match client.list_droplet_snapshots(droplet).collect_all().await {
        Ok(images) => {
            let backups = images
                .iter()
                .filter(|i| i.snapshot_type == SnapshotType::Backup)
                .count();
            println!(
                "droplet {droplet}: {} snapshots, {backups} backups",
                images.len() - backups
            );
        }
        Err(e) if e.is_not_found() => println!("droplet {droplet}: not on this account"),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
