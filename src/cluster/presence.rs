//! Presence across nodes, kept in Redis.
//!
//! Keys, under `cluster.redis_prefix` (`parlor`):
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

/// `KEYS[1]` the user's node set, `KEYS[2]` the node's user set; `ARGV[1]` the key prefix,
/// `ARGV[2]` the node, `ARGV[3]` the user. Adds them; returns 1 when the user was online on no
/// live node before.
const UP: &str = r"
local p = ARGV[1]
local was = 0
for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if n ~= ARGV[2] and redis.call('EXISTS', p .. ':node:' .. n) == 1 then was = 1 end
end
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
if was == 0 then return 1 end
return 0
";

/// As [`UP`], removing them; returns 1 when the user is now online on no live node.
const DOWN: &str = r"
local p = ARGV[1]
redis.call('SREM', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[3])
for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', p .. ':node:' .. n) == 1 then return 0 end
end
return 1
";

/// `ARGV[1]` the key prefix, then user ids. Returns those online on a live node.
const ONLINE: &str = r"
local p = ARGV[1]
local online = {}
for i = 2, #ARGV do
  local u = ARGV[i]
  for _, n in ipairs(redis.call('SMEMBERS', p .. ':presence:' .. u)) do
    if redis.call('EXISTS', p .. ':node:' .. n) == 1 then
      table.insert(online, u)
      break
    end
  end
end
return online
";

/// `ARGV[1]` the key prefix, `ARGV[2]` this node, `ARGV[3]` the liveness in ms. Refreshes the
/// node's key.
const HEARTBEAT: &str = r"
local p = ARGV[1]
redis.call('SET', p .. ':node:' .. ARGV[2], '1', 'PX', ARGV[3])
redis.call('SADD', p .. ':nodes', ARGV[2])
return 1
";

/// `ARGV[1]` the key prefix, `ARGV[2]` this node. For every registered node whose key expired,
/// claimed by one node at a time: drops it from its users' node sets and returns the users left
/// online nowhere.
const REAP: &str = r"
local p = ARGV[1]
local gone = {}
for _, dead in ipairs(redis.call('SMEMBERS', p .. ':nodes')) do
  if dead ~= ARGV[2] and redis.call('EXISTS', p .. ':node:' .. dead) == 0
     and redis.call('SET', p .. ':reap:' .. dead, ARGV[2], 'NX', 'PX', 30000) then
    for _, u in ipairs(redis.call('SMEMBERS', p .. ':node-users:' .. dead)) do
      local key = p .. ':presence:' .. u
      redis.call('SREM', key, dead)
      local online = false
      for _, n in ipairs(redis.call('SMEMBERS', key)) do
        if redis.call('EXISTS', p .. ':node:' .. n) == 1 then online = true end
      end
      if not online then table.insert(gone, u) end
    end
    redis.call('DEL', p .. ':node-users:' .. dead)
    redis.call('SREM', p .. ':nodes', dead)
  end
end
return gone
";

/// `ARGV[1]` the key prefix, `ARGV[2]` this node, then the users with a session on it now.
/// Drops the node from the presence of every other user it had registered (they left while
/// Redis was away) and returns those of them online nowhere.
const SYNC: &str = r"
local p = ARGV[1]
local node = ARGV[2]
local current = {}
for i = 3, #ARGV do current[ARGV[i]] = true end
local key = p .. ':node-users:' .. node
local gone = {}
for _, u in ipairs(redis.call('SMEMBERS', key)) do
  if not current[u] then
    redis.call('SREM', key, u)
    local presence = p .. ':presence:' .. u
    redis.call('SREM', presence, node)
    local online = false
    for _, n in ipairs(redis.call('SMEMBERS', presence)) do
      if redis.call('EXISTS', p .. ':node:' .. n) == 1 then online = true end
    end
    if not online then table.insert(gone, u) end
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
        let prefix = self.prefix().to_string();
        let changed: i64 = self
            .run(move |mut conn| async move {
                let code = if up {
                    script(&UP_SCRIPT, UP)
                } else {
                    script(&DOWN_SCRIPT, DOWN)
                };
                code.key(format!("{prefix}:presence:{user}"))
                    .key(format!("{prefix}:node-users:{node}"))
                    .arg(&prefix)
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
        let prefix = self.prefix().to_string();
        let online: Vec<String> = self
            .run(move |mut conn| async move {
                let mut invocation = script(&SCRIPT, ONLINE).prepare_invoke();
                invocation.arg(&prefix);
                for arg in &args {
                    invocation.arg(*arg);
                }
                invocation.invoke_async(&mut conn).await
            })
            .await?;
        Ok(ids(online))
    }

    /// After an outage: makes Redis hold exactly `users` as this node's (those who left while
    /// it was away are dropped) and returns the dropped ones now online nowhere.
    ///
    /// # Errors
    /// Redis failed or did not answer.
    pub async fn presence_sync(&self, users: &[UserId]) -> Result<Vec<UserId>, redis::RedisError> {
        static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
        let args: Vec<i64> = users.iter().map(|u| u.0).collect();
        let node = self.node().to_string();
        let prefix = self.prefix().to_string();
        let gone: Vec<String> = self
            .run(move |mut conn| async move {
                let mut invocation = script(&SCRIPT, SYNC).prepare_invoke();
                invocation.arg(&prefix).arg(&node);
                for arg in &args {
                    invocation.arg(*arg);
                }
                invocation.invoke_async(&mut conn).await
            })
            .await?;
        Ok(ids(gone))
    }

    /// Refreshes this node's liveness (two heartbeat intervals long).
    ///
    /// # Errors
    /// Redis failed or did not answer.
    pub async fn heartbeat(&self) -> Result<(), redis::RedisError> {
        static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
        let node = self.node().to_string();
        let prefix = self.prefix().to_string();
        let alive_ms = u64::try_from((self.heartbeat_interval() * 2).as_millis()).unwrap_or(1000);
        let _: i64 = self
            .run(move |mut conn| async move {
                script(&SCRIPT, HEARTBEAT)
                    .arg(&prefix)
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
        let prefix = self.prefix().to_string();
        let gone: Vec<String> = self
            .run(move |mut conn| async move {
                script(&SCRIPT, REAP)
                    .arg(&prefix)
                    .arg(&node)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(ids(gone))
    }
}
