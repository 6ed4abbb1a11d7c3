//! Requests for the two listings and the pages they return.
//!
//! [`Client::list_droplet_snapshots`] and [`Client::list_snapshots`] return
//! request builders; [`send`](ListSnapshots::send) fetches one [`Page`].
//! Every parameter is checked before anything is sent.

use crate::client::{Client, DEFAULT_PER_PAGE};
use crate::error::Result;
use crate::generated::types;
use crate::model::{DropletSnapshot, PageLinks, RateLimit, ResourceType, Snapshot};

/// One page of a listing.
///
/// `total` is the server's count of the whole listing (`meta.total`); the
/// listing is live, so it may change between pages.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page, in the server's order.
    pub items: Vec<T>,
    /// The number of items in the whole listing (`meta.total`).
    pub total: u64,
    /// The number of this page, from 1.
    pub page: u64,
    /// The page size this page was asked with (the API's default, 20, when
    /// none was given).
    pub per_page: u64,
    /// The links the server sent. Hints only: see [`PageLinks`].
    pub links: PageLinks,
    /// The rate-limit state reported with this page, when the headers were
    /// present.
    pub rate_limit: Option<RateLimit>,
}

impl<T> Page<T> {
    /// The number of pages of the listing at this page's size, from
    /// `total`: `ceil(total / per_page)`.
    pub fn page_count(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1))
    }

    /// The number of the next page, or `None` when this is the last one by
    /// the count (links are not consulted).
    pub fn next_page(&self) -> Option<u64> {
        (self.page < self.page_count()).then(|| self.page + 1)
    }

    /// Whether no page follows this one by the count.
    pub fn is_last(&self) -> bool {
        self.next_page().is_none()
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

fn links(links: Option<types::PageLinks>) -> PageLinks {
    let pages = links.and_then(|l| l.pages).unwrap_or_default();
    PageLinks {
        first: pages.first,
        prev: pages.prev,
        next: pages.next,
        last: pages.last,
    }
}

fn page<T>(
    items: Vec<T>,
    meta: types::Meta,
    raw_links: Option<types::PageLinks>,
    headers: &reqwest::header::HeaderMap,
    page: Option<u64>,
    per_page: Option<u64>,
) -> Page<T> {
    Page {
        items,
        total: meta.total,
        page: page.unwrap_or(1),
        per_page: per_page.unwrap_or(DEFAULT_PER_PAGE),
        links: links(raw_links),
        rate_limit: RateLimit::from_headers(headers),
    }
}

impl Client {
    /// The snapshots and backups of one droplet
    /// (`GET /v2/droplets/{droplet_id}/snapshots`, scope `droplet:read`).
    ///
    /// ```no_run
    /// # async fn run(client: digitalocean_snapshots::Client) -> digitalocean_snapshots::Result<()> {
    /// let page = client.list_droplet_snapshots(3164444).per_page(200).send().await?;
    /// for snapshot in &page.items {
    ///     println!("{} {} {:.2} GB", snapshot.kind, snapshot.name, snapshot.size_gigabytes);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_droplet_snapshots(&self, droplet_id: u64) -> ListDropletSnapshots {
        ListDropletSnapshots {
            client: self.clone(),
            droplet_id,
            page: None,
            per_page: None,
        }
    }

    /// Every snapshot of the account (`GET /v2/snapshots`, scope
    /// `snapshot:read`; tags need `tag:read`).
    ///
    /// ```no_run
    /// # async fn run(client: digitalocean_snapshots::Client) -> digitalocean_snapshots::Result<()> {
    /// use digitalocean_snapshots::ResourceType;
    ///
    /// let page = client
    ///     .list_snapshots()
    ///     .resource_type(ResourceType::Volume)
    ///     .send()
    ///     .await?;
    /// println!("{} volume snapshots in all", page.total);
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_snapshots(&self) -> ListSnapshots {
        ListSnapshots {
            client: self.clone(),
            page: None,
            per_page: None,
            resource_type: None,
        }
    }
}

/// A request for the snapshots of one droplet; see
/// [`Client::list_droplet_snapshots`].
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct ListDropletSnapshots {
    client: Client,
    droplet_id: u64,
    page: Option<u64>,
    per_page: Option<u64>,
}

impl ListDropletSnapshots {
    /// The page to fetch, from 1. Default: 1.
    pub fn page(mut self, page: u64) -> Self {
        self.page = Some(page);
        self
    }

    /// Items per page, 1 to 200. Default: the API's, 20.
    pub fn per_page(mut self, per_page: u64) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// Fetches the page.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before
    /// anything is sent, when `droplet_id` is 0, `page` is 0 or `per_page`
    /// is outside 1..=200; otherwise what the request met: an API error (a
    /// missing droplet is [`is_not_found`](crate::Error::is_not_found)), a
    /// decode error, a transport error.
    pub async fn send(self) -> Result<Page<DropletSnapshot>> {
        let (body, headers) = self
            .client
            .droplet_snapshots_page(self.droplet_id, self.page, self.per_page)
            .await?;
        Ok(page(
            body.snapshots,
            body.meta,
            body.links,
            &headers,
            self.page,
            self.per_page,
        ))
    }
}

/// A request for the snapshots of the account; see
/// [`Client::list_snapshots`].
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct ListSnapshots {
    client: Client,
    page: Option<u64>,
    per_page: Option<u64>,
    resource_type: Option<ResourceType>,
}

impl ListSnapshots {
    /// The page to fetch, from 1. Default: 1.
    pub fn page(mut self, page: u64) -> Self {
        self.page = Some(page);
        self
    }

    /// Items per page, 1 to 200. Default: the API's, 20.
    pub fn per_page(mut self, per_page: u64) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// Lists only the snapshots of droplets or of volumes.
    pub fn resource_type(mut self, resource_type: ResourceType) -> Self {
        self.resource_type = Some(resource_type);
        self
    }

    /// Fetches the page.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before
    /// anything is sent, when `page` is 0, `per_page` is outside 1..=200 or
    /// the resource type is not one the API knows; otherwise what the
    /// request met: an API error, a decode error, a transport error.
    pub async fn send(self) -> Result<Page<Snapshot>> {
        let (body, headers) = self
            .client
            .snapshots_page(self.page, self.per_page, self.resource_type.as_ref())
            .await?;
        Ok(page(
            body.snapshots,
            body.meta,
            body.links,
            &headers,
            self.page,
            self.per_page,
        ))
    }
}
