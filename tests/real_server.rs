//! Against a real MetaDefender Core server, opt-in: set `MDCORE_URL` and `MDCORE_APIKEY`.
//! Without them every test here says so and passes without doing anything.

use metadefender_core::{scan::Source, Client};

fn real_client() -> Option<Client> {
    let (Ok(url), Ok(key)) = (std::env::var("MDCORE_URL"), std::env::var("MDCORE_APIKEY")) else {
        eprintln!("skipped: set MDCORE_URL and MDCORE_APIKEY to run against a real server");
        return None;
    };
    Some(
        Client::builder(url)
            .apikey(key)
            .build()
            .expect("MDCORE_URL is a valid URL"),
    )
}

#[tokio::test]
async fn real_server_answers_version_rules_and_engines() {
    let Some(client) = real_client() else { return };
    let version = client.product_version().send().await.expect("GET /version");
    assert!(version.version.as_deref().is_some_and(|v| !v.is_empty()));
    let rules = client
        .analysis_rules()
        .send()
        .await
        .expect("GET /file/rules");
    assert!(!rules.0.is_empty(), "the server offers at least one rule");
    client
        .engines_status()
        .send()
        .await
        .expect("GET /stat/engines");
}

#[tokio::test]
async fn real_server_scans_a_clean_file() {
    let Some(client) = real_client() else { return };
    let text = format!("metadefender-core test file {}\n", std::process::id());
    let report = client
        .scan(Source::bytes(text.into_bytes(), Some("clean.txt".into())))
        .send()
        .await
        .expect("a small text file scans");
    assert!(report.verdict.is_clean(), "{}", report.verdict);
}
