//! Presence across nodes, kept in Redis.
//!
//! - `parlor:node:{node}`: set while the node is alive; each node refreshes its own every fifth
//!   of `cluster.presence_ttl_s` and lets it expire after two fifths ([`Cluster::heartbeat`]);
//! - `parlor:nodes`: every node that has registered;
//! - `parlor:presence:{user}`: the nodes where the user has a session;
//! - `parlor:node-users:{node}`: the users with a session on the node.
//!
//! A user is online while one of their nodes is alive. Each transition is one Lua script, so
//! two nodes never both announce the same user online or offline. A node that stops
//! refreshing is reaped by the first node to notice ([`Cluster::reap`]), which announces its
//! users offline unless they are online elsewhere: within three fifths of the time to live,
//! plus the contacts lookup.

use std::sync::OnceLock;
use std::time::Duration;

use super::Cluster;
use crate::domain::UserId;

/// `KEYS[1]` the user's node set, `KEYS[2]` the node's user set; `ARGV[1]` the node,
/// `ARGV[2]` the user. Adds them; returns 1 when the user was online on no live node before.
const UP: &str = r"
local was = 0
for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if n ~= ARGV[1] and redis.call('EXISTS', 'parlor:node:' .. n) == 1 then was = 1 end
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
if was == 0 then return 1 end
return 0
";

/// As [`UP`], removing them; returns 1 when the user is now online on no live node.
const DOWN: &str = r"
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', 'parlor:node:' .. n) == 1 then return 0 end
end
return 1
";

/// `ARGV`: user ids. Returns those online on a live node.
const ONLINE: &str = r"
local online = {}
for _, u in ipairs(ARGV) do
  for _, n in ipairs(redis.call('SMEMBERS', 'parlor:presence:' .. u)) do
    if redis.call('EXISTS', 'parlor:node:' .. n) == 1 then
      table.insert(online, u)
      break
    end
  end
end
return online
";

/// `ARGV[1]` this node, `ARGV[2]` the liveness in ms. Refreshes the node's key.
const HEARTBEAT: &str = r"
redis.call('SET', 'parlor:node:' .. ARGV[1], '1', 'PX', ARGV[2])
redis.call('SADD', 'parlor:nodes', ARGV[1])
return 1
";

/// `ARGV[1]` this node. For every registered node whose key expired, claimed by one node at a
/// time: drops it from its users' node sets and returns the users left online nowhere.
const REAP: &str = r"
local gone = {}
for _, dead in ipairs(redis.call('SMEMBERS', 'parlor:nodes')) do
  if dead ~= ARGV[1] and redis.call('EXISTS', 'parlor:node:' .. dead) == 0
     and redis.call('SET', 'parlor:reap:' .. dead, ARGV[1], 'NX', 'PX', 30000) then
    for _, u in ipairs(redis.call('SMEMBERS', 'parlor:node-users:' .. dead)) do
      local key = 'parlor:presence:' .. u
      redis.call('SREM', key, dead)
      local online = false
      for _, n in ipairs(redis.call('SMEMBERS', key)) do
        if redis.call('EXISTS', 'parlor:node:' .. n) == 1 then online = true end
      end
      if not online then table.insert(gone, u) end
    end
    redis.call('DEL', 'parlor:node-users:' .. dead)
    redis.call('SREM', 'parlor:nodes', dead)
  end
end
return gone
";

fn script(slot: &'static OnceLock<redis::Script>, code: &str) -> &'static redis::Script {
    slot.get_or_init(|| redis::Script::new(code))
}

fn ids(values: Vec<String>) -> Vec<UserId> {
    values
        .into_iter()
        .filter_map(|v| v.parse().ok())
        .map(UserId)
        .collect()
}

impl Cluster {
    /// How often this node refreshes its presence (a fifth of `cluster.presence_ttl_s`).
    pub fn heartbeat_interval(&self) -> Duration {
        self.settings().presence_ttl() / 5
    }

    /// Marks `user` online on this node. True when they were online on no live node before.
    ///
    /// # Errors
    /// Redis failed or did not answer.
    pub async fn presence_up(&self, user: UserId) -> Result<bool, redis::RedisError> {
        self.transition(user, true).await
    }

    /// Marks `user` offline on this node. True when they are now online on no live node.
    ///
    /// # Errors
    /// Redis failed or did not answer.
    pub async fn presence_down(&self, user: UserId) -> Result<bool, redis::RedisError> {
        self.transition(user, false).await
    }

    async fn transition(&self, user: UserId, up: bool) -> Result<bool, redis::RedisError> {
        static UP_SCRIPT: OnceLock<redis::Script> = OnceLock::new();
        static DOWN_SCRIPT: OnceLock<redis::Script> = OnceLock::new();
        let node = self.node().to_string();
        let changed: i64 = self
            .run(move |mut conn| async move {
                let code = if up {
                    script(&UP_SCRIPT, UP)
                } else {
                    script(&DOWN_SCRIPT, DOWN)
                };
                code.key(format!("parlor:presence:{user}"))
                    .key(format!("parlor:node-users:{node}"))
                    .arg(&node)
                    .arg(user.0)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(changed == 1)
    }

    /// Those of `users` online on a live node.
    ///
    /// # Errors
    /// Redis failed or did not answer.
    pub async fn online_among(&self, users: &[UserId]) -> Result<Vec<UserId>, redis::RedisError> {
        static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let args: Vec<i64> = users.iter().map(|u| u.0).collect();
        let online: Vec<String> = self
            .run(move |mut conn| async move {
                let mut invocation = script(&SCRIPT, ONLINE).prepare_invoke();
                for arg in &args {
                    invocation.arg(*arg);
                }
                invocation.invoke_async(&mut conn).await
            })
            .await?;
        Ok(ids(online))
    }

    /// Refreshes this node's liveness (two heartbeat intervals long).
    ///
    /// # Errors
    /// Redis failed or did not answer.
    pub async fn heartbeat(&self) -> Result<(), redis::RedisError> {
        static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
        let node = self.node().to_string();
        let alive_ms = u64::try_from((self.heartbeat_interval() * 2).as_millis()).unwrap_or(1000);
        let _: i64 = self
            .run(move |mut conn| async move {
                script(&SCRIPT, HEARTBEAT)
                    .arg(&node)
                    .arg(alive_ms.max(100))
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(())
    }

    /// Reaps the nodes that stopped refreshing; returns their users now online nowhere.
    ///
    /// # Errors
    /// Redis failed or did not answer.
    pub async fn reap(&self) -> Result<Vec<UserId>, redis::RedisError> {
        static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
        let node = self.node().to_string();
        let gone: Vec<String> = self
            .run(move |mut conn| async move {
                script(&SCRIPT, REAP)
                    .arg(&node)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(ids(gone))
    }
}
