//! What the API clients (Forgejo, Matrix) share: how often and how patiently to retry, and
//! errors in one line.

use std::time::Duration;

/// How often and how patiently to retry.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub first_delay: Duration,
    /// Longest wait, also the bound on a server's own request to wait.
    pub max_delay: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            attempts: 4,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempt + 1`: what the server asked for if it did, else the
    /// doubling back-off; never more than `max_delay`.
    pub fn delay(&self, attempt: u32, asked: Option<Duration>) -> Duration {
        let doubling = self.first_delay.saturating_mul(1 << attempt.saturating_sub(1).min(16));
        asked.unwrap_or(doubling).min(self.max_delay)
    }
}

/// An error and its causes in one line (an HTTP library's error nests the cause that says
/// what happened: refused, reset, timed out).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_honours_the_server_and_is_bounded() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(1, None), Duration::from_millis(250));
        assert_eq!(backoff.delay(2, None), Duration::from_millis(500));
        assert_eq!(backoff.delay(3, None), Duration::from_millis(1000));
        assert_eq!(backoff.delay(40, None), Duration::from_secs(10));
        assert_eq!(backoff.delay(1, Some(Duration::from_millis(1500))), Duration::from_millis(1500));
        assert_eq!(backoff.delay(1, Some(Duration::from_secs(3600))), Duration::from_secs(10));
    }
}
