//! Cluster-wide rate limits: the generic cell rate algorithm (GCRA, the algorithm governor
//! runs in process) as one Lua script, so that counting and deciding is one atomic step in
//! Redis whichever node a request reached. Redis's own clock (`TIME`) is the only clock, so
//! the nodes' clocks need not agree.
//!
//! The state per key is the theoretical arrival time of the next request, in microseconds, kept
//! only as long as it matters (`PX`). A request is allowed when taking one more cell keeps that
//! time within `burst × interval` of now; otherwise the answer says how long to wait.

use std::sync::OnceLock;
use std::time::Duration;

use super::Cluster;

/// `KEYS[1]`: the key; `ARGV[1]`: microseconds per request; `ARGV[2]`: the burst. Returns
/// `{1, 0}` when allowed, `{0, microseconds to wait}` when not.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
local limit = interval * burst
if next_tat - now > limit then
  return {0, next_tat - now - limit}
end
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1)
return {1, 0}
";

fn script() -> &'static redis::Script {
    static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
    SCRIPT.get_or_init(|| redis::Script::new(GCRA))
}

/// A limit: `burst` requests at once, refilled at one per `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Time for one request to come back.
    pub interval: Duration,
    /// Requests allowed at once.
    pub burst: u32,
}

impl Quota {
    /// `n` per `period`, all of them at once if need be (governor's `Quota::with_period` and
    /// `allow_burst(n)`).
    pub fn per(n: u32, period: Duration) -> Self {
        let n = n.max(1);
        Self {
            interval: period / n,
            burst: n,
        }
    }
}

impl Cluster {
    /// Counts one request against `key` (namespaced under `{redis_prefix}:rl:`) with `quota`, for every
    /// node at once. `Ok(Ok(()))`: allowed; `Ok(Err(wait))`: refused, retry after `wait`.
    ///
    /// # Errors
    /// Redis failed or did not answer: the caller falls back to its own node's limiter.
    pub async fn rate(
        &self,
        key: String,
        quota: Quota,
    ) -> Result<Result<(), Duration>, redis::RedisError> {
        let interval = i64::try_from(quota.interval.as_micros()).unwrap_or(i64::MAX);
        let burst = i64::from(quota.burst);
        let key = format!("{}:rl:{key}", self.prefix());
        let (allowed, wait): (i64, i64) = self
            .run(move |mut conn| async move {
                script()
                    .key(key)
                    .arg(interval)
                    .arg(burst)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        if allowed == 1 {
            Ok(Ok(()))
        } else {
            Ok(Err(Duration::from_micros(u64::try_from(wait).unwrap_or(0))))
        }
    }
}
