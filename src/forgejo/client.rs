//! The HTTP client: Forgejo's `Authorization: token …` header, bounded retries with
//! exponential back-off, pagination by `page`/`limit` with `X-Total-Count` and `Link`, and
//! errors that say in words what went wrong.
//!
//! What is retried: 429 (the server did nothing and asks to slow down; its `Retry-After` is
//! honoured up to a bound) and 503 always; other 5xx answers and lost connections only for
//! requests that can be repeated without harm (everything but POST). A POST that fails in
//! another way is not repeated blindly: the sync stops, and the next run finds what the
//! request may have created (by its marker) and carries on from there.

use super::config::{Settings, Token};
use crate::http::error_chain;
pub use crate::http::Backoff;
use crate::time::{parse_http_date, Timestamp};
use reqwest::blocking::{Client as Http, Response};
use reqwest::header::{HeaderMap, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::Cell;
use std::time::Duration;

/// The largest page Forgejo serves (`MAX_RESPONSE_ITEMS`); every list asks for it.
pub const PAGE_LIMIT: usize = 50;
/// A bound on pages per list, against a server that never says "last page".
const MAX_PAGES: usize = 100_000;

/// A request that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Forgejo answered with an error status.
    #[error("{request} answered {status}{}{}. {hint}", message_part(.message), attempts_part(*.attempts))]
    Status {
        /// `METHOD /path`.
        request: String,
        /// The HTTP status.
        status: u16,
        /// Forgejo's `message`, if it sent one.
        message: String,
        /// What it means and what to do.
        hint: String,
        /// Attempts made.
        attempts: u32,
    },
    /// No answer: connection refused, dropped, timed out.
    #[error("{request} got no answer ({detail}){}. Is the [forgejo] url right and the server reachable? Run the sync again: it continues where it stopped", attempts_part(*.attempts))]
    Network {
        /// `METHOD /path`.
        request: String,
        /// What the HTTP library said.
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The server's TLS certificate is not trusted here (or not valid for its name): waiting
    /// does not help, so it is not retried.
    #[error("{request}: the server's TLS certificate is not trusted ({detail}). Check the [forgejo] url's host name, and that the certificate's authority is in this machine's CA bundle")]
    Certificate {
        /// `METHOD /path`.
        request: String,
        /// What the TLS library said.
        detail: String,
    },
    /// An answer that is not what the API promises.
    #[error("{request} answered something that is not Forgejo's API ({detail}); is the [forgejo] url the Forgejo instance?")]
    Unreadable {
        /// `METHOD /path`.
        request: String,
        /// What could not be read.
        detail: String,
    },
}

impl ApiError {
    /// The HTTP status, when Forgejo answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when the failure passes if one waits: no answer, or Forgejo busy or failing.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Network { .. } => true,
            ApiError::Status { status, .. } => *status == 429 || *status >= 500,
            ApiError::Certificate { .. } | ApiError::Unreadable { .. } => false,
        }
    }
}

fn message_part(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    }
}

fn attempts_part(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

/// What a status means for the sync, in words.
fn hint(status: u16, token: &Token) -> String {
    match status {
        401 => format!(
            "Forgejo did not accept the token from {}: check that it is complete and neither expired nor revoked (Forgejo: Settings → Applications)",
            token.source
        ),
        403 => format!(
            "The token from {} may not do this: the sync needs the scopes write:issue, write:organization and read:repository, and a user who may write to the team repositories and manage the organisation's labels",
            token.source
        ),
        404 => "Forgejo has no such object, or the token's user may not see it".to_string(),
        422 => "Forgejo found the request invalid".to_string(),
        429 => "Forgejo keeps asking to slow down; run the sync again later".to_string(),
        500..=599 => "Forgejo failed; run the sync again later: it continues where it stopped".to_string(),
        _ => String::new(),
    }
}

/// A connection to one Forgejo instance with one token.
pub struct Client {
    http: Http,
    base: Url,
    token: Token,
    backoff: Backoff,
    reads: Cell<u64>,
    writes: Cell<u64>,
    /// Forgejo's clock at its first answer: `None` before any answer, `Some(None)` when it
    /// sent no readable `Date`.
    first_answer: Cell<Option<Option<Timestamp>>>,
}

impl Client {
    /// A client for the instance in `settings`.
    pub fn new(settings: &Settings, token: Token, backoff: Backoff) -> anyhow::Result<Client> {
        let http = Http::builder()
            .user_agent(concat!("smartup/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot set up the HTTP client: {e}"))?;
        Ok(Client {
            http,
            base: settings.url.clone(),
            token,
            backoff,
            reads: Cell::new(0),
            writes: Cell::new(0),
            first_answer: Cell::new(None),
        })
    }

    /// Forgejo's clock when it first answered this client (its `Date` header), if it said.
    pub fn first_answer(&self) -> Option<Timestamp> {
        self.first_answer.get().flatten()
    }

    /// Requests sent so far: (reads, writes), retries included.
    pub fn requests(&self) -> (u64, u64) {
        (self.reads.get(), self.writes.get())
    }

    fn url(&self, path: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["api", "v1"]).extend(path);
        }
        url
    }

    /// `GET` of one object.
    pub fn get<T: DeserializeOwned>(&self, path: &[&str]) -> Result<T, ApiError> {
        let (request, response) = self.send(Method::GET, path, &[], None::<&()>)?;
        decode(&request, response)
    }

    /// `GET` of a whole list, page by page.
    pub fn list<T: DeserializeOwned>(&self, path: &[&str], query: &[(&str, &str)]) -> Result<Vec<T>, ApiError> {
        let limit = PAGE_LIMIT.to_string();
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let page_text = page.to_string();
            let mut q = query.to_vec();
            q.extend([("page", page_text.as_str()), ("limit", limit.as_str())]);
            let (request, response) = self.send(Method::GET, path, &q, None::<&()>)?;
            let more = more_pages(response.headers());
            let items: Vec<T> = decode(&request, response)?;
            let received = items.len();
            all.extend(items);
            let go_on = match more {
                Paging::Next(next) => next,
                Paging::Total(total) => all.len() < total,
                Paging::Unknown => false,
            };
            if !go_on || received == 0 {
                break;
            }
        }
        Ok(all)
    }

    /// A writing request (`POST`, `PATCH`, `PUT`, `DELETE`) with a JSON body; any 2xx is
    /// success (Forgejo answers 201 to an issue PATCH and 200 to a tracked-time POST).
    pub fn write<B: Serialize, T: DeserializeOwned>(&self, method: Method, path: &[&str], body: &B) -> Result<T, ApiError> {
        let (request, response) = self.send(method, path, &[], Some(body))?;
        decode(&request, response)
    }

    fn send<B: Serialize>(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<(String, Response), ApiError> {
        let mut url = self.url(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let request = format!("{method} {}", url.path());
        let repeatable = method != Method::POST;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let counter = if method == Method::GET { &self.reads } else { &self.writes };
            counter.set(counter.get() + 1);
            let mut builder = self
                .http
                .request(method.clone(), url.clone())
                .header(AUTHORIZATION, self.token.header());
            if let Some(body) = body {
                builder = builder.json(body);
            }
            let last = attempt >= self.backoff.attempts;
            match builder.send() {
                Ok(response) if response.status().is_success() => {
                    if self.first_answer.get().is_none() {
                        let date = response.headers().get(reqwest::header::DATE).and_then(|d| d.to_str().ok());
                        self.first_answer.set(Some(date.and_then(parse_http_date)));
                    }
                    return Ok((request, response));
                }
                Ok(response) => {
                    let status = response.status();
                    let retry = status == StatusCode::TOO_MANY_REQUESTS
                        || status == StatusCode::SERVICE_UNAVAILABLE
                        || (status.is_server_error() && repeatable);
                    if retry && !last {
                        std::thread::sleep(self.delay(attempt, response.headers()));
                        continue;
                    }
                    return Err(ApiError::Status {
                        request,
                        status: status.as_u16(),
                        message: error_message(response),
                        hint: hint(status.as_u16(), &self.token),
                        attempts: attempt,
                    });
                }
                Err(error) => {
                    let detail = error_chain(&error);
                    // rustls names certificate problems so ("invalid peer certificate: ...").
                    if detail.contains("certificate") {
                        return Err(ApiError::Certificate { request, detail });
                    }
                    if (error.is_connect() || repeatable) && !last {
                        std::thread::sleep(self.delay(attempt, &HeaderMap::new()));
                        continue;
                    }
                    return Err(ApiError::Network {
                        request,
                        detail,
                        attempts: attempt,
                    });
                }
            }
        }
    }

    /// The wait before attempt `attempt + 1`: the server's `Retry-After` (seconds) if it
    /// sent one, else the doubling back-off; never more than `max_delay`.
    fn delay(&self, attempt: u32, headers: &HeaderMap) -> Duration {
        let asked = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        self.backoff.delay(attempt, asked)
    }
}

/// What a list page says about the next.
enum Paging {
    /// A `Link` header, with or without `rel="next"`.
    Next(bool),
    /// Only `X-Total-Count` (tracked times).
    Total(usize),
    /// Neither: a list that is not paginated.
    Unknown,
}

fn more_pages(headers: &HeaderMap) -> Paging {
    if let Some(link) = headers.get("link").and_then(|v| v.to_str().ok()) {
        return Paging::Next(link_has_next(link));
    }
    match headers
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
    {
        Some(total) => Paging::Total(total),
        None => Paging::Unknown,
    }
}

/// Whether a `Link` header (`<url>; rel="next",<url>; rel="last"`) has a `next` entry.
fn link_has_next(link: &str) -> bool {
    link.split('<').skip(1).any(|entry| {
        entry
            .split_once('>')
            .is_some_and(|(_, params)| params.split(';').any(|p| p.trim().trim_end_matches(',').trim() == "rel=\"next\""))
    })
}

fn decode<T: DeserializeOwned>(request: &str, response: Response) -> Result<T, ApiError> {
    let bytes = response.bytes().map_err(|e| ApiError::Network {
        request: request.to_string(),
        detail: error_chain(&e),
        attempts: 1,
    })?;
    // An empty answer (204) reads as JSON null.
    let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
    serde_json::from_slice(bytes).map_err(|e| ApiError::Unreadable {
        request: request.to_string(),
        detail: e.to_string(),
    })
}

/// Forgejo's `{"message": …}`, or the start of whatever else came back.
fn error_message(response: Response) -> String {
    let text = response.text().unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(value) => value["message"].as_str().unwrap_or_default().trim().to_string(),
        Err(_) => text.chars().take(200).collect::<String>().trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forgejo_link_headers() {
        let middle = r#"<http://f/api/v1/orgs/o/labels?limit=50&page=3>; rel="next",<http://f/api/v1/orgs/o/labels?limit=50&page=4>; rel="last",<http://f/api/v1/orgs/o/labels?limit=50&page=1>; rel="first",<http://f/api/v1/orgs/o/labels?limit=50&page=1>; rel="prev""#;
        assert!(link_has_next(middle));
        let last = r#"<http://f/api/v1/x?page=1>; rel="first",<http://f/api/v1/x?page=3>; rel="prev""#;
        assert!(!link_has_next(last));
        assert!(link_has_next(r#"<http://f/x?labels=a%2Cb&page=2>; rel="next""#));
    }

    #[test]
    fn messages_name_the_request_and_what_to_do() {
        let token = Token::for_tests("FORGEJO_TOKEN");
        let error = ApiError::Status {
            request: "GET /api/v1/user".into(),
            status: 401,
            message: "invalid token".into(),
            hint: hint(401, &token),
            attempts: 1,
        };
        let text = error.to_string();
        assert!(text.starts_with("GET /api/v1/user answered 401 (invalid token)."), "{text}");
        assert!(text.contains("token from FORGEJO_TOKEN"), "{text}");
        let busy = ApiError::Status {
            request: "GET /api/v1/x".into(),
            status: 429,
            message: String::new(),
            hint: hint(429, &token),
            attempts: 4,
        };
        assert!(busy
            .to_string()
            .contains("answered 429 after 4 attempts. Forgejo keeps asking to slow down"));
    }
}
