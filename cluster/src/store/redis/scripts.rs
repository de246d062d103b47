//! The Redis backend's Lua scripts: each write that touches several keys is one script, so a
//! reader never sees half of it.

use redis::Script;

/// The Lua scripts, loaded once per server (and again after it restarts: `Script` retries
/// with the source on NOSCRIPT).
pub(super) struct Scripts {
    pub(super) clear_server: Script,
    pub(super) create_topic: Script,
    pub(super) add_member: Script,
    pub(super) push: Script,
    pub(super) ack: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Self {
            // KEYS[1] server set, KEYS[2] server list; ARGV[1] prefix, ARGV[2] server.
            // Removes each `<conn>|<id>` entry's twin `<conn>|<server>` from `P<id>session`.
            clear_server: Script::new(
                r"
                local entries = redis.call('SMEMBERS', KEYS[1])
                for _, e in ipairs(entries) do
                    local bar = string.find(e, '|', 1, true)
                    local conn = string.sub(e, 1, bar - 1)
                    local id = string.sub(e, bar + 1)
                    redis.call('SREM', ARGV[1] .. id .. 'session', conn .. '|' .. ARGV[2])
                end
                redis.call('DEL', KEYS[1])
                redis.call('SREM', KEYS[2], ARGV[2])
                return #entries
                ",
            ),
            // KEYS[1] topic, KEYS[2] members, KEYS[3] topic list; ARGV[1] record, ARGV[2]
            // creator, ARGV[3] name.
            create_topic: Script::new(
                r"
                if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
                redis.call('SADD', KEYS[2], ARGV[2])
                redis.call('SADD', KEYS[3], ARGV[3])
                return 1
                ",
            ),
            // KEYS[1] topic, KEYS[2] members; ARGV[1] id. -1: no such topic.
            add_member: Script::new(
                r"
                if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
                return redis.call('SADD', KEYS[2], ARGV[1])
                ",
            ),
            // KEYS[1] inbox, KEYS[2] uuids, KEYS[3] seq, KEYS[4] total; ARGV[1] uuid,
            // ARGV[2] message JSON. A uuid pending already is left where it is.
            push: Script::new(
                r"
                if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
                local seq = redis.call('INCR', KEYS[3])
                redis.call('ZADD', KEYS[1], seq, ARGV[2])
                redis.call('INCR', KEYS[4])
                return 1
                ",
            ),
            // KEYS as for push; ARGV[1] uuid. Answers the message JSON, or nil.
            ack: Script::new(
                r"
                local m = redis.call('HGET', KEYS[2], ARGV[1])
                if not m then return false end
                redis.call('HDEL', KEYS[2], ARGV[1])
                redis.call('ZREM', KEYS[1], m)
                redis.call('DECR', KEYS[4])
                if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[3]) end
                return m
                ",
            ),
        }
    }
}
