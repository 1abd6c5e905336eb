//! Scenario `search`: message search latency over a large history (issue 13).
//!
//! 1. Over HTTP: registers `--search-users` users (the first made an admin straight in the
//!    database, then signed in again) and creates `--search-conversations` groups of three of
//!    them.
//! 2. Straight into the server's database (`search_fill.rs`), through the same migrations
//!    and triggers (so the full-text index is built as the server builds it): `--messages`
//!    messages spread over the conversations, written by their members, in transactions of
//!    50,000 rows of multi-row `INSERT`s (then, on PostgreSQL, `VACUUM ANALYZE`, as
//!    autovacuum would soon do). Their words come from a vocabulary of 20,000 made-up words
//!    (syllables) drawn with Zipf's law (exponent 1), 3 to 17 words each, so a few words are
//!    in most messages and most words in few, as in a natural language.
//! 3. Over HTTP, one request at a time after a warm-up: `--searches` searches as a member
//!    (whose conversations hold about 3/users of the messages) and as many as the admin
//!    (every conversation of the project), a quarter each of a common word (rank 1 to 10), a
//!    middle one (rank 100 to 1,000), a rare one (rank 5,000 to 20,000) and two words (rank
//!    10 to 100 and rank 100 to 1,000). Each latency runs from sending the request to having
//!    read the whole answer.
//!
//! The generated text is made of the vocabulary's lowercase letters only, so it is written
//! into the `INSERT`s as literals.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{Value, json};

/// Sizes of a run.
pub(crate) struct SearchArgs {
    /// `database.url` of the server under test (the fill writes there).
    pub(crate) database_url: String,
    /// Messages to store.
    pub(crate) messages: usize,
    /// Searches per role.
    pub(crate) searches: usize,
    /// Conversations the messages are spread over.
    pub(crate) conversations: usize,
    /// Users the conversations are made of.
    pub(crate) users: usize,
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Serialize)]
pub(crate) struct Percentiles {
    pub(crate) p50: f64,
    pub(crate) p95: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
}

/// The searches of one kind of query by one role.
#[derive(Debug, Serialize)]
pub(crate) struct ClassReport {
    pub(crate) class: &'static str,
    pub(crate) searches: u64,
    pub(crate) latency_ms: Percentiles,
}

/// The searches of one role.
#[derive(Debug, Serialize)]
pub(crate) struct RoleReport {
    pub(crate) role: &'static str,
    pub(crate) searches: u64,
    pub(crate) errors: u64,
    pub(crate) mean_hits_on_first_page: f64,
    pub(crate) latency_ms: Percentiles,
    pub(crate) classes: Vec<ClassReport>,
}

/// What a run found.
#[derive(Debug, Serialize)]
pub(crate) struct SearchReport {
    pub(crate) messages: usize,
    pub(crate) conversations: usize,
    pub(crate) fill_s: f64,
    pub(crate) fill_messages_per_s: f64,
    pub(crate) roles: Vec<RoleReport>,
}

const WARMUP_SEARCHES: usize = 20;

/// Registers `n` users; answers (token, id, username) of each.
async fn register(
    http: &reqwest::Client,
    base: &str,
    n: usize,
) -> anyhow::Result<Vec<(String, i64, String)>> {
    let run = std::process::id();
    let mut users = Vec::with_capacity(n);
    for i in 0..n {
        let name = format!("s{run}u{i}");
        let body = json!({"email": format!("{name}@bench.test"), "username": name, "password": "bench-password"});
        let reply: Value = http
            .post(format!("{base}/api/v1/auth/register"))
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = reply["access_token"].as_str().context("token")?.to_string();
        users.push((token, reply["user"]["id"].as_i64().context("id")?, name));
    }
    Ok(users)
}

fn percentiles(histogram: &Histogram<u64>) -> Percentiles {
    let ms = |us: u64| us as f64 / 1000.0;
    Percentiles {
        p50: ms(histogram.value_at_quantile(0.50)),
        p95: ms(histogram.value_at_quantile(0.95)),
        p99: ms(histogram.value_at_quantile(0.99)),
        max: ms(histogram.max()),
    }
}

/// Runs `queries` one at a time with `token`.
async fn measure(
    http: &reqwest::Client,
    base: &str,
    role: &'static str,
    token: &str,
    queries: &[(&'static str, String)],
) -> anyhow::Result<RoleReport> {
    let new_histogram = || Histogram::<u64>::new_with_bounds(1, 600_000_000, 3);
    let mut all = new_histogram()?;
    let mut classes: Vec<(&'static str, Histogram<u64>)> = Vec::new();
    let (mut errors, mut hits) = (0u64, 0u64);
    let endpoint = reqwest::Url::parse(&format!("{base}/api/v1/search/messages"))?;
    let search = |q: &str| {
        let mut url = endpoint.clone();
        url.query_pairs_mut().append_pair("q", q);
        http.get(url).bearer_auth(token).send()
    };
    for (_, q) in queries.iter().take(WARMUP_SEARCHES) {
        search(q).await?.bytes().await?;
    }
    for (class, q) in queries {
        let started = Instant::now();
        let response = search(q).await?;
        let ok = response.status().is_success();
        let body = response.bytes().await?;
        let us = u64::try_from(started.elapsed().as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        if !ok {
            errors += 1;
            continue;
        }
        let page: Value = serde_json::from_slice(&body)?;
        hits += page["results"].as_array().map_or(0, |r| r.len() as u64);
        all.saturating_record(us);
        match classes.iter_mut().find(|(name, _)| name == class) {
            Some((_, histogram)) => histogram.saturating_record(us),
            None => {
                let mut histogram = new_histogram()?;
                histogram.saturating_record(us);
                classes.push((class, histogram));
            }
        }
    }
    let searches = all.len();
    Ok(RoleReport {
        role,
        searches,
        errors,
        mean_hits_on_first_page: hits as f64 / searches.max(1) as f64,
        latency_ms: percentiles(&all),
        classes: classes
            .iter()
            .map(|(class, histogram)| ClassReport {
                class,
                searches: histogram.len(),
                latency_ms: percentiles(histogram),
            })
            .collect(),
    })
}

/// The whole scenario against the server at `base`, whose database is `args.database_url`.
pub(crate) async fn run(base: &str, args: &SearchArgs) -> anyhow::Result<SearchReport> {
    if args.users < 3 || args.conversations == 0 {
        bail!("search needs at least 3 users and 1 conversation");
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let users = register(&http, base, args.users).await?;
    let mut conversations = Vec::with_capacity(args.conversations);
    for i in 0..args.conversations {
        // Three distinct members: a, and two others at different distances from a.
        let n = users.len();
        let a = i % n;
        let off_b = 1 + (i * 7) % (n - 1);
        let mut off_c = 1 + (i * 13 + 5) % (n - 1);
        if off_c == off_b {
            off_c = 1 + off_b % (n - 1);
        }
        let (b, c) = ((a + off_b) % n, (a + off_c) % n);
        let members = [users[a].1, users[b].1, users[c].1];
        let created: Value = http
            .post(format!("{base}/api/v1/conversations"))
            .bearer_auth(&users[a].0)
            .json(&json!({"participant_ids": [members[1], members[2]], "kind": "group"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        conversations.push((created["id"].as_i64().context("conversation id")?, members));
    }
    let fill_args = SearchArgs {
        database_url: args.database_url.clone(),
        ..*args
    };
    let fill_s =
        tokio::task::spawn_blocking(move || crate::search_fill::fill(&fill_args, &conversations))
            .await??;
    // The admin: promoted in the database, then signed in again for a token with the role.
    let (_, admin_id, admin_name) = &users[0];
    let settings = parlor::config::DatabaseSettings {
        url: args.database_url.clone(),
        ..Default::default()
    };
    parlor::db::connect(&settings)?.batch_execute(&format!(
        "UPDATE users SET role = 'admin' WHERE id = {admin_id}"
    ))?;
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": admin_name, "password": "bench-password"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let admin_token = login["access_token"].as_str().context("admin token")?;
    let queries = crate::search_fill::queries(args.searches);
    let member = measure(&http, base, "member", &users[1].0, &queries).await?;
    let admin = measure(&http, base, "admin", admin_token, &queries).await?;
    Ok(SearchReport {
        messages: args.messages,
        conversations: args.conversations,
        fill_s,
        fill_messages_per_s: args.messages as f64 / fill_s.max(1e-9),
        roles: vec![member, admin],
    })
}

/// Prints a report, one line per role and per class.
pub(crate) fn print(report: &SearchReport) {
    println!(
        "search  {} messages in {} conversations, filled in {:.1} s ({:.0} messages/s)",
        report.messages, report.conversations, report.fill_s, report.fill_messages_per_s
    );
    for role in &report.roles {
        let l = &role.latency_ms;
        println!(
            "search  {:<6} {} searches, {} errors, {:.1} hits/page: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            role.role,
            role.searches,
            role.errors,
            role.mean_hits_on_first_page,
            l.p50,
            l.p95,
            l.p99,
            l.max
        );
        for class in &role.classes {
            let l = &class.latency_ms;
            println!(
                "search  {:<6}   {:<9} {} searches: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                role.role, class.class, class.searches, l.p50, l.p95, l.p99, l.max
            );
        }
    }
}
