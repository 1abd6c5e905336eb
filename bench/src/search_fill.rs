//! The `search` scenario's data: a seeded generator, a made-up vocabulary drawn by Zipf's law,
//! the bulk fill of the database and the queries (see `search.rs`).

use std::time::Instant;

use anyhow::Context;

use crate::search::SearchArgs;

/// xorshift64*: a small, seeded generator (the same run every time).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The words, most frequent first, and the cumulative Zipf weights of their ranks.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "te", "vi", "zo", "ba", "de", "fu", "go", "hi", "ju", "pe",
    "qui", "ri", "so", "ta", "wu", "xe", "yo", "ze",
];

impl Vocabulary {
    fn new(size: usize) -> Self {
        let words = (0..size)
            .map(|i| {
                // Two syllables at least, and a distinct word for every rank.
                let mut n = i + SYLLABLES.len();
                let mut word = String::new();
                while n > 0 {
                    word.insert_str(0, SYLLABLES[n % SYLLABLES.len()]);
                    n /= SYLLABLES.len();
                }
                word
            })
            .collect();
        let mut total = 0.0;
        let cumulative = (1..=size)
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Self { words, cumulative }
    }

    fn draw(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let at = rng.unit() * total;
        let rank = self.cumulative.partition_point(|c| *c < at);
        &self.words[rank.min(self.words.len() - 1)]
    }
}

const VOCABULARY: usize = 20_000;
const ROWS_PER_INSERT: usize = 500;
const ROWS_PER_TRANSACTION: usize = 50_000;

/// Writes `args.messages` messages into `conversations` (id, members) straight into the
/// database; answers the seconds the inserts took (not the vacuum or checkpoint after).
pub(crate) fn fill(args: &SearchArgs, conversations: &[(i64, [i64; 3])]) -> anyhow::Result<f64> {
    let settings = parlor::config::DatabaseSettings {
        url: args.database_url.clone(),
        ..Default::default()
    };
    let mut conn = parlor::db::connect(&settings)?;
    let begin = if conn.is_postgres() {
        "BEGIN"
    } else {
        "BEGIN IMMEDIATE"
    };
    let vocabulary = Vocabulary::new(VOCABULARY);
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let started = Instant::now();
    let count = conversations.len();
    let mut sql = String::new();
    for first in (0..args.messages).step_by(ROWS_PER_TRANSACTION) {
        let last = (first + ROWS_PER_TRANSACTION).min(args.messages);
        sql.clear();
        sql.push_str(begin);
        for k in first..last {
            if (k - first) % ROWS_PER_INSERT == 0 {
                sql.push_str(
                    ";INSERT INTO messages (project_id, conversation_id, seq, sender_id, kind, \
                     content, created_at, version, created_version) VALUES ",
                );
            } else {
                sql.push(',');
            }
            let (conversation, members) = conversations[k % count];
            let seq = k / count + 1;
            let words = 3 + rng.below(15);
            let content: Vec<&str> = (0..words).map(|_| vocabulary.draw(&mut rng)).collect();
            sql.push_str(&format!(
                "(1, {conversation}, {seq}, {}, 'text', '{}', '2026-11-28 12:00:00', {seq}, {seq})",
                members[k % 3],
                content.join(" ")
            ));
        }
        sql.push_str(";COMMIT;");
        conn.batch_execute(&sql)
            .with_context(|| format!("inserting messages {first}..{last}"))?;
        eprintln!("search  filled {last} / {} messages", args.messages);
    }
    let mut update = String::from(begin);
    for (i, (conversation, _)) in conversations.iter().enumerate() {
        let n = args.messages / count + usize::from(i < args.messages % count);
        update.push_str(&format!(
            ";UPDATE conversations SET last_seq = {n}, version = {n} WHERE id = {conversation}"
        ));
    }
    update.push_str(";COMMIT;");
    conn.batch_execute(&update)?;
    let filled = started.elapsed().as_secs_f64();
    if conn.is_postgres() {
        // What autovacuum does after such a load, soon enough: planner statistics for every
        // table, and the GIN index's pending list merged. Without them, searches planned
        // badly: `id <= until` looked selective and was ANDed in from the primary key (40 ms
        // on every search), and a member's conversations looked few, so their messages were
        // read one conversation at a time (1.5 s for a common word).
        conn.batch_execute("VACUUM ANALYZE")?;
    } else {
        conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
    }
    Ok(filled)
}

/// The queries of one run, in order: (class, text).
pub(crate) fn queries(n: usize) -> Vec<(&'static str, String)> {
    let vocabulary = Vocabulary::new(VOCABULARY);
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut word = |from: usize, to: usize| vocabulary.words[from + rng.below(to - from)].clone();
    (0..n)
        .map(|i| match i % 4 {
            0 => ("common", word(0, 10)),
            1 => ("middle", word(100, 1_000)),
            2 => ("rare", word(5_000, VOCABULARY)),
            _ => (
                "two words",
                format!("{} {}", word(10, 100), word(100, 1_000)),
            ),
        })
        .collect()
}
