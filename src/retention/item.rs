//! What a plan needs of an item, for the two listings' item types.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::GroupBy;
use crate::{DropletSnapshot, ResourceType, Snapshot};

mod sealed {
    /// Only the crate's item types are planned over.
    pub trait Sealed {}

    impl Sealed for crate::Snapshot {}
    impl Sealed for crate::DropletSnapshot {}
}

/// What a plan needs of an item: implemented for [`Snapshot`] (the account
/// listing) and [`DropletSnapshot`] (a droplet's listing). Sealed.
pub trait Retainable: Clone + sealed::Sealed {
    /// The snapshot's id (a droplet listing's integer id in decimal).
    fn id(&self) -> Cow<'_, str>;

    /// When the snapshot was created.
    fn created_at(&self) -> DateTime<Utc>;

    /// The billable size, in gigabytes, as the server sent it.
    fn size_gigabytes(&self) -> f64;

    /// The snapshot's name.
    fn name(&self) -> &str;

    /// The slugs of the regions it is available in.
    fn regions(&self) -> &[String];

    /// Its tags as listed: `None` for `tags: null` (no tags) or a field
    /// left out (a token without the `tag:read` scope), and always for a
    /// droplet's listing, which has none. A policy with
    /// [`keep_tag`](super::Policy::keep_tag) gives no plan when no
    /// snapshot in scope has its tags listed (it cannot tell a missing
    /// scope from a listing without tags); otherwise `None` is no tags.
    fn tags(&self) -> Option<&[String]>;

    /// Whether it is of a kind a plan may delete: a snapshot someone took
    /// of a resource this crate knows. Not a backup (DigitalOcean's backup
    /// service makes and rotates those), not an image of a `type` this
    /// crate does not know, and not a snapshot of a `resource_type` it
    /// does not know unless the [`Scope`](super::Scope) names that type.
    fn kind_known(&self) -> bool;

    /// The name of its group: with [`GroupBy::Resource`],
    /// `<resource_type>:<resource_id>` on the account listing (a `\` or
    /// `:` in the resource type escaped with a `\`, so two resources never
    /// share a name) and the `type` (`snapshot`, `backup`) on a droplet's;
    /// with [`GroupBy::All`], `all`.
    fn group(&self, by: GroupBy) -> String;

    /// The kind of resource it was taken from ([`ResourceType::Droplet`]
    /// for a droplet's listing).
    fn resource_type(&self) -> Option<&ResourceType>;

    /// The id of the resource it was taken from; `None` for a droplet's
    /// listing, whose items do not carry it.
    fn resource_id(&self) -> Option<&str>;
}

impl Retainable for Snapshot {
    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }

    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn size_gigabytes(&self) -> f64 {
        self.size_gigabytes
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn regions(&self) -> &[String] {
        &self.regions
    }

    fn tags(&self) -> Option<&[String]> {
        self.tags.as_deref()
    }

    fn kind_known(&self) -> bool {
        self.resource_type.is_known()
    }

    fn group(&self, by: GroupBy) -> String {
        match by {
            // A `:` in a resource type the crate does not know is escaped,
            // so two resources never share a group's name.
            GroupBy::Resource => format!(
                "{}:{}",
                self.resource_type
                    .as_str()
                    .replace('\\', "\\\\")
                    .replace(':', "\\:"),
                self.resource_id
            ),
            GroupBy::All => "all".to_owned(),
        }
    }

    fn resource_type(&self) -> Option<&ResourceType> {
        Some(&self.resource_type)
    }

    fn resource_id(&self) -> Option<&str> {
        Some(&self.resource_id)
    }
}

/// Every item of a droplet's listing was taken from a droplet.
static DROPLET: ResourceType = ResourceType::Droplet;

impl Retainable for DropletSnapshot {
    fn id(&self) -> Cow<'_, str> {
        Cow::Owned(self.id.to_string())
    }

    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn size_gigabytes(&self) -> f64 {
        self.size_gigabytes
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn regions(&self) -> &[String] {
        &self.regions
    }

    fn tags(&self) -> Option<&[String]> {
        None
    }

    fn kind_known(&self) -> bool {
        self.snapshot_type == crate::SnapshotType::Snapshot
    }

    fn group(&self, by: GroupBy) -> String {
        match by {
            GroupBy::Resource => self.snapshot_type.as_str().to_owned(),
            GroupBy::All => "all".to_owned(),
        }
    }

    fn resource_type(&self) -> Option<&ResourceType> {
        Some(&DROPLET)
    }

    fn resource_id(&self) -> Option<&str> {
        None
    }
}
