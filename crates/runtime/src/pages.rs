//! Pages of list queries: rows in ascending order of a key, from after the previous
//! page's last key, at most a number of rows and of bytes, so that every reply fits
//! in one bus message however long the list and its texts grow.

use accord_boundary::{decode_body, Body};
use accord_contracts::v1 as pb;

use crate::error::QueryError;

/// Most rows one page holds, and the default.
pub const PAGE_ROWS: u32 = 1000;
/// Most bytes one page's rows take (protobuf), unless the bus allows less: half of
/// NATS' default 1 MiB max payload, leaving room for the rest of the reply.
pub const PAGE_BYTES: usize = 512 * 1024;

/// What one page asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Rows with a key after this one ("" for the first page).
    pub after: String,
    /// At most this many rows (1 to [`PAGE_ROWS`]).
    pub limit: usize,
    /// At most this many bytes of rows (a page always takes its first row).
    pub bytes: usize,
}

impl Page {
    /// A page from `after`, of `limit` rows (0, or above [`PAGE_ROWS`], means
    /// [`PAGE_ROWS`]) and at most `bytes`.
    pub fn new(after: String, limit: u32, bytes: usize) -> Page {
        let limit = match limit {
            0 => PAGE_ROWS,
            n => n.min(PAGE_ROWS),
        };
        Page {
            after,
            limit: limit as usize,
            bytes,
        }
    }

    /// The page a list query's body asks for: a `PageQuery`, or an empty body for
    /// the first page.
    pub fn parse(body: Body<'_>, bytes: usize) -> Result<Page, QueryError> {
        let query = match body {
            Body::Protobuf([]) => pb::PageQuery::default(),
            Body::Json(text) if text.trim().is_empty() => pb::PageQuery::default(),
            body => decode_body::<pb::PageQuery>(body)?,
        };
        Ok(Page::new(query.after, query.limit, bytes))
    }

    /// The rows of this page, by ascending `key`, and the `after` of the next page
    /// ("" when this one ends the list).
    pub fn take<R: prost::Message>(
        &self,
        rows: Vec<R>,
        key: impl Fn(&R) -> String,
    ) -> (Vec<R>, String) {
        self.take_keyed(rows.into_iter().map(|row| (key(&row), row)).collect())
    }

    /// [`Page::take`] for rows whose keys are not in them (e.g. their place).
    pub fn take_keyed<R: prost::Message>(&self, rows: Vec<(String, R)>) -> (Vec<R>, String) {
        let mut keyed: Vec<(String, R)> = rows
            .into_iter()
            .filter(|(key, _)| self.after.is_empty() || *key > self.after)
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut page = Vec::new();
        let mut bytes = 0;
        let mut last = String::new();
        let total = keyed.len();
        for (key, row) in keyed {
            // The row as a repeated field: its tag, its length's varint, itself.
            let encoded = row.encoded_len();
            let size = 1 + prost::length_delimiter_len(encoded) + encoded;
            if page.len() == self.limit || (!page.is_empty() && bytes + size > self.bytes) {
                break;
            }
            bytes += size;
            last = key;
            page.push(row);
        }
        let next = if page.len() < total {
            last
        } else {
            String::new()
        };
        (page, next)
    }
}

/// A key that sorts as its number does.
pub fn number_key(n: u64) -> String {
    format!("{n:020}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, title_bytes: usize) -> pb::AgreementRow {
        pb::AgreementRow {
            id: id.to_owned(),
            title: "t".repeat(title_bytes),
            ..Default::default()
        }
    }

    fn ids(rows: &[pb::AgreementRow]) -> Vec<&str> {
        rows.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn given_pages_followed_by_next_after_then_every_row_comes_once_in_key_order() {
        let rows: Vec<_> = ["c", "a", "e", "b", "d"]
            .iter()
            .map(|id| row(id, 1))
            .collect();
        let mut after = String::new();
        let mut seen = Vec::new();
        loop {
            let (page, next) = Page::new(after, 2, PAGE_BYTES).take(rows.clone(), |r| r.id.clone());
            assert!(page.len() <= 2);
            seen.extend(ids(&page).into_iter().map(str::to_owned));
            if next.is_empty() {
                break;
            }
            after = next;
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn given_long_rows_then_a_page_stops_at_its_bytes_but_always_takes_one_row() {
        let rows: Vec<_> = (0..10).map(|i| row(&format!("r{i}"), 400)).collect();
        let (page, next) = Page::new(String::new(), 0, 1000).take(rows.clone(), |r| r.id.clone());
        assert_eq!(ids(&page), ["r0", "r1"]);
        assert_eq!(next, "r1");
        let (page, _) = Page::new(String::new(), 0, 10).take(rows, |r| r.id.clone());
        assert_eq!(ids(&page), ["r0"]);
    }

    #[test]
    fn given_a_limit_of_zero_or_too_many_then_the_default_applies() {
        assert_eq!(Page::new(String::new(), 0, 1).limit, 1000);
        assert_eq!(Page::new(String::new(), 5000, 1).limit, 1000);
        assert_eq!(Page::new(String::new(), 7, 1).limit, 7);
        assert!(number_key(9) < number_key(10));
    }
}
