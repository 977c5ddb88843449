//! Outgoing deliveries when a file is done: the result JSON to `callbackurl`
//! and the sanitized bytes to `sanitizedurl`, retried per `/admin/config/webhook`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::state::App;
use crate::store::WebhookStatus;

/// The retry schedule in force when a delivery starts.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    retries: u32,
    first_delay: Duration,
    progression: Duration,
    timeout: Duration,
}

impl Schedule {
    fn current(app: &App) -> Self {
        let a = app.admin();
        Self {
            retries: a.number("webhook", "maxretrytime", 3.0).min(100.0) as u32,
            first_delay: Duration::from_millis(
                a.number("webhook", "delayduration", 1000.0).min(3.6e6) as u64,
            ),
            progression: Duration::from_millis(
                a.number("webhook", "delayprogression", 1000.0).min(3.6e6) as u64,
            ),
            timeout: Duration::from_secs_f64(
                a.number("webhook", "transfertimeout", 30.0)
                    .clamp(0.05, 3600.0),
            ),
        }
    }
    /// Delay before retry number `n` (1-based).
    fn delay(&self, n: u32) -> Duration {
        self.first_delay + self.progression * n.saturating_sub(1)
    }
}

/// Sleeps until the file is finished (or the server stops), then delivers.
pub(crate) async fn deliver_when_done(app: Arc<App>, data_id: String) {
    let mut shutdown = app.shutdown.clone();
    loop {
        let finished = {
            let store = app.store();
            match store.files.get(&data_id) {
                Some(r) => r.is_finished(Instant::now()),
                None => return,
            }
        };
        if finished {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
            _ = shutdown.changed() => return,
        }
    }
    let (callback, sanitized_url) = {
        let store = app.store();
        let Some(r) = store.files.get(&data_id) else {
            return;
        };
        (r.callback_url.clone(), r.sanitized_url.clone())
    };
    let schedule = Schedule::current(&app);
    let a = async {
        if let Some(url) = callback {
            post_result(&app, &data_id, &url, schedule).await;
        }
    };
    let b = async {
        if let Some(url) = sanitized_url {
            post_sanitized(&app, &data_id, &url, schedule).await;
        }
    };
    tokio::select! {
        _ = async { tokio::join!(a, b) } => {}
        _ = shutdown.changed() => {}
    }
}

async fn post_result(app: &App, data_id: &str, url: &str, s: Schedule) {
    for attempt in 0..=s.retries {
        if attempt > 0 {
            tokio::time::sleep(s.delay(attempt)).await;
        }
        let body = {
            let store = app.store();
            let Some(rec) = store.files.get(data_id) else {
                return;
            };
            crate::report::file_result(&store, rec, Instant::now(), 0, 50)
        };
        app.counters.callback();
        let sent = app
            .http
            .post(url)
            .timeout(s.timeout)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap_or_default())
            .send()
            .await;
        let status = sent.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
        {
            let mut store = app.store();
            if let Some(rec) = store.files.get_mut(data_id) {
                rec.webhook = Some(WebhookStatus {
                    request_time: SystemTime::now(),
                    status_code: status,
                    url: url.to_string(),
                });
            }
        }
        if (200..300).contains(&status) {
            return;
        }
    }
}

async fn post_sanitized(app: &App, data_id: &str, url: &str, s: Schedule) {
    let sanitized = {
        let store = app.store();
        let Some(rec) = store.files.get(data_id) else {
            return;
        };
        rec.sanitized.clone()
    };
    for attempt in 0..=s.retries {
        if attempt > 0 {
            tokio::time::sleep(s.delay(attempt)).await;
        }
        let req = app
            .http
            .post(url)
            .timeout(s.timeout)
            .header("dataid", data_id);
        let req = match &sanitized {
            Some(san) => {
                let Ok(file) = tokio::fs::File::open(&san.path).await else {
                    return;
                };
                req.header("sanitization-result", "success")
                    .header("sanitized-file-hash", san.sha256.as_str())
                    .header(
                        "content-disposition",
                        format!(
                            "attachment; filename=\"{}\"",
                            san.file_name.replace('"', "")
                        ),
                    )
                    .header("content-length", san.size)
                    .body(reqwest::Body::from(file))
            }
            None => req
                .header("sanitization-result", "failed")
                .header("content-length", 0)
                .body(Vec::new()),
        };
        app.counters.callback();
        match req.send().await {
            Ok(r) if r.status().is_success() => return,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_by_the_progression() {
        let s = Schedule {
            retries: 3,
            first_delay: Duration::from_millis(100),
            progression: Duration::from_millis(50),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(s.delay(1), Duration::from_millis(100));
        assert_eq!(s.delay(2), Duration::from_millis(150));
        assert_eq!(s.delay(3), Duration::from_millis(200));
    }
}
