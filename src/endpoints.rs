//! The two listings: their operation table, the checks on their
//! parameters (made before anything is sent), and the [`Endpoint`] types
//! a [`List`](crate::List) is generic over.

use std::fmt;
use std::future::Future;
use std::num::NonZeroU64;

use crate::client::{CallOptions, Client};
use crate::error::{Error, Result};
use crate::model::{DropletSnapshot, Page, ResourceType, Snapshot};
use crate::transport::{Operation, PageAnswer};

pub(crate) use sealed::{ItemId, PageRequest};

/// The largest page the API serves (`per_page` maximum).
pub(crate) const MAX_PER_PAGE: u64 = 200;
/// The page size the API uses when none is asked for.
pub(crate) const DEFAULT_PER_PAGE: u64 = 20;

static DROPLET_SNAPSHOTS: Operation = Operation {
    name: "GET /v2/droplets/{droplet_id}/snapshots",
    scope: "droplet:read",
};

static SNAPSHOTS: Operation = Operation {
    name: "GET /v2/snapshots",
    scope: "snapshot:read",
};

/// One of the two listings: [`DropletSnapshotsEndpoint`] or
/// [`SnapshotsEndpoint`]. Sealed: it names what a [`List`](crate::List) walks, and
/// nothing outside this crate implements it.
pub trait Endpoint: sealed::Fetch + Clone + fmt::Debug + Send + Sync + 'static {
    /// The item the listing holds.
    type Item: Send + 'static;
}

pub(crate) mod sealed {

    use super::{CallOptions, Client, Endpoint, Future, Page, Result};

    /// The identity of an item, as the walk de-duplicates by it: the id as
    /// the listing gives it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum ItemId<'a> {
        /// An integer id (the droplet listing).
        Integer(i64),
        /// A string id, compared exactly (the account listing).
        Text(&'a str),
    }

    /// What a walk asks of a listing: one page with these parameters.
    #[derive(Clone, Debug, Default)]
    pub struct PageRequest {
        pub(crate) page: Option<u64>,
        pub(crate) per_page: Option<u64>,
        pub(crate) call: CallOptions,
    }

    /// The plumbing of an [`Endpoint`], out of users' reach (this module
    /// is private, so the trait cannot be named or implemented outside).
    pub trait Fetch {
        /// Fetches one page (with retries).
        fn fetch(
            &self,
            client: &Client,
            request: &PageRequest,
        ) -> impl Future<Output = Result<Page<<Self as Endpoint>::Item>>> + Send
        where
            Self: Endpoint;

        /// The id of an item.
        fn id(item: &<Self as Endpoint>::Item) -> ItemId<'_>
        where
            Self: Endpoint;
    }
}

/// The snapshots and backups of one droplet.
#[derive(Clone, Debug)]
pub struct DropletSnapshotsEndpoint {
    droplet_id: u64,
}

/// The snapshots of the account, optionally of one resource type.
#[derive(Clone, Debug)]
pub struct SnapshotsEndpoint {
    resource_type: Option<ResourceType>,
}

impl DropletSnapshotsEndpoint {
    pub(crate) fn new(droplet_id: u64) -> Self {
        Self { droplet_id }
    }
}

impl SnapshotsEndpoint {
    pub(crate) fn new() -> Self {
        Self {
            resource_type: None,
        }
    }

    pub(crate) fn set_resource_type(&mut self, resource_type: ResourceType) {
        self.resource_type = Some(resource_type);
    }
}

impl Endpoint for DropletSnapshotsEndpoint {
    type Item = DropletSnapshot;
}

impl Endpoint for SnapshotsEndpoint {
    type Item = Snapshot;
}

impl sealed::Fetch for DropletSnapshotsEndpoint {
    async fn fetch(&self, client: &Client, request: &PageRequest) -> Result<Page<DropletSnapshot>> {
        let op = &DROPLET_SNAPSHOTS;
        let id = check_droplet_id(self.droplet_id).map_err(|e| e.with_operation(op.name))?;
        // From here on, errors name the droplet.
        let checked =
            check_page(request.page).and_then(|page| Ok((page, check_per_page(request.per_page)?)));
        let (page, per_page) =
            checked.map_err(|e| e.with_operation(op.name).with_droplet_id(self.droplet_id))?;
        let path = format!("/v2/droplets/{id}/snapshots");
        let response = client
            .execute(op, &path, &request.call, |transport| {
                transport.droplet_snapshots(op, id, page, per_page)
            })
            .await;
        response
            .and_then(|response| page_of(response, request, op.name))
            .map_err(|e| e.with_droplet_id(self.droplet_id))
    }

    fn id(item: &DropletSnapshot) -> ItemId<'_> {
        ItemId::Integer(item.id)
    }
}

impl sealed::Fetch for SnapshotsEndpoint {
    async fn fetch(&self, client: &Client, request: &PageRequest) -> Result<Page<Snapshot>> {
        let op = &SNAPSHOTS;
        let checked = check_page(request.page).and_then(|page| {
            Ok((
                page,
                check_per_page(request.per_page)?,
                check_resource_type(self.resource_type.as_ref())?,
            ))
        });
        let (page, per_page, resource_type) = checked.map_err(|e| e.with_operation(op.name))?;
        let response = client
            .execute(op, "/v2/snapshots", &request.call, |transport| {
                transport.snapshots(op, page, per_page, resource_type)
            })
            .await?;
        let page = page_of(response, request, op.name)?;
        check_filter(&page, self.resource_type.as_ref()).map_err(|e| e.with_operation(op.name))?;
        Ok(page)
    }

    fn id(item: &Snapshot) -> ItemId<'_> {
        ItemId::Text(&item.id)
    }
}

/// A page in crate types. `meta.total` is a signed integer in
/// DigitalOcean's description, so a negative one decodes; as a count it
/// makes no sense, and the page is refused here, as a listing that does
/// not add up (never a decode error, never a short listing).
fn page_of<T>(
    answer: PageAnswer<T>,
    request: &PageRequest,
    operation: &'static str,
) -> Result<Page<T>> {
    let page = request.page.unwrap_or(1);
    let asked = request.per_page.unwrap_or(DEFAULT_PER_PAGE);
    if answer.items.len() as u64 > asked {
        return Err(Error::inconsistent(format!(
            "the answer contradicts the request: page {page} holds {} items where per_page={asked} was asked",
            answer.items.len()
        ))
        .with_operation(operation));
    }
    let total = u64::try_from(answer.total).map_err(|_| {
        Error::inconsistent(format!(
            "page {page} says the listing holds {} items (meta.total): a count cannot be negative",
            answer.total
        ))
        .with_operation(operation)
    })?;
    Ok(Page {
        items: answer.items,
        total,
        page,
        per_page: request.per_page.unwrap_or(DEFAULT_PER_PAGE),
        links: answer.links,
        rate_limit: answer.headers.rate_limit,
        date: answer.headers.date,
    })
}

/// An answer that contradicts its filter is never delivered as its
/// answer: one foreign item ends the call (a server or proxy that dropped
/// `resource_type` would otherwise pass the whole account off as the
/// volumes).
fn check_filter(page: &Page<Snapshot>, wanted: Option<&ResourceType>) -> Result<()> {
    let Some(wanted) = wanted else {
        return Ok(());
    };
    let foreign = page.items.iter().filter(|s| &s.resource_type != wanted);
    let (count, first) = foreign.fold((0usize, None), |(n, first), s| (n + 1, first.or(Some(s))));
    match first {
        None => Ok(()),
        Some(item) => Err(Error::inconsistent(format!(
            "the answer contradicts the request: page {} holds {count} of {} snapshots whose resource_type is not `{wanted}` (the first: id `{}`, `{}`) although resource_type={wanted} was asked; the server ignored the filter",
            page.page,
            page.items.len(),
            crate::error::shown(&item.id),
            crate::error::shown(item.resource_type.as_str()),
        ))),
    }
}

fn check_droplet_id(droplet_id: u64) -> Result<NonZeroU64> {
    NonZeroU64::new(droplet_id).ok_or_else(|| {
        Error::invalid_input(
            "droplet_id",
            "0 is not a droplet id: expected an integer >= 1",
        )
    })
}

fn check_page(page: Option<u64>) -> Result<Option<NonZeroU64>> {
    match page {
        None => Ok(None),
        Some(n) => NonZeroU64::new(n).map(Some).ok_or_else(|| {
            Error::invalid_input("page", "0 is out of range: pages are numbered from 1")
        }),
    }
}

fn check_per_page(per_page: Option<u64>) -> Result<Option<NonZeroU64>> {
    match per_page {
        None => Ok(None),
        Some(n @ 1..=MAX_PER_PAGE) => Ok(NonZeroU64::new(n)),
        Some(n) => Err(Error::invalid_input(
            "per_page",
            format!("{n} is out of range: expected 1..={MAX_PER_PAGE}"),
        )),
    }
}

fn check_resource_type(resource_type: Option<&ResourceType>) -> Result<Option<&ResourceType>> {
    match resource_type {
        Some(t) if !t.is_known() => Err(Error::invalid_input(
            "resource_type",
            format!(
                "`{t}` is not a resource type: expected one of {}",
                ResourceType::KNOWN.join(", ")
            ),
        )),
        other => Ok(other),
    }
}
