//! The Redis backend's Lua scripts: each write that touches several keys is one script, so a
//! reader never sees half of it.

use redis::Script;

/// The Lua scripts, loaded once per server (and again after it restarts: `Script` retries
/// with the source on NOSCRIPT).
pub(super) struct Scripts {
    pub(super) clear_server: Script,
    pub(super) create_topic: Script,
    pub(super) change_topic_set: Script,
    pub(super) push: Script,
    pub(super) ack: Script,
    pub(super) claim_message_id: Script,
    pub(super) create_account: Script,
    pub(super) set_password: Script,
    pub(super) delete_account: Script,
    pub(super) put_device: Script,
    pub(super) touch_device: Script,
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
            // KEYS[1] topic, KEYS[2] one of its sets (members, invited); ARGV[1] SADD or
            // SREM, ARGV[2] id. -1: no such topic; else how many ids changed.
            change_topic_set: Script::new(
                r"
                if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
                return redis.call(ARGV[1], KEYS[2], ARGV[2])
                ",
            ),
            // KEYS[1] inbox, KEYS[2] uuids, KEYS[3] seq, KEYS[4] total, KEYS[5] the uuid's
            // message id; ARGV[1] uuid, ARGV[2] message JSON, ARGV[3] sender where the push
            // claims the uuid (a client chose it), else empty (nothing claimed or checked).
            // -1: the uuid is another sender's (nothing written); 0: pending already (left
            // where it is).
            push: Script::new(
                r"
                if ARGV[3] ~= '' and not redis.call('SET', KEYS[5], ARGV[3], 'NX') then
                    if redis.call('GET', KEYS[5]) ~= ARGV[3] then return -1 end
                end
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
            // KEYS[1] the message id; ARGV[1] sender. 1: claimed (now or before) by the
            // sender; 0: another sender's.
            claim_message_id: Script::new(
                r"
                if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 1 end
                if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
                return 0
                ",
            ),
            // KEYS[1] account hash, KEYS[2] account list; ARGV[1] id, then the hash's field
            // and value pairs. 0: the id has an account already (left as it is).
            create_account: Script::new(
                r"
                if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
                redis.call('HSET', KEYS[1], unpack(ARGV, 2))
                redis.call('SADD', KEYS[2], ARGV[1])
                return 1
                ",
            ),
            // KEYS[1] account hash; ARGV[1] the password hash's field, ARGV[2] its value.
            // 0: no such account (none is made).
            set_password: Script::new(
                r"
                if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
                redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
                return 1
                ",
            ),
            // KEYS[1] account hash, KEYS[2] its devices, KEYS[3] account list; ARGV[1] id.
            // 1 where there was an account.
            delete_account: Script::new(
                r"
                local gone = redis.call('DEL', KEYS[1])
                redis.call('DEL', KEYS[2])
                redis.call('SREM', KEYS[3], ARGV[1])
                return gone
                ",
            ),
            // KEYS[1] account hash, KEYS[2] its devices; ARGV[1] device id, ARGV[2] device
            // JSON. 0: no such account (nothing written).
            put_device: Script::new(
                r"
                if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
                redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
                return 1
                ",
            ),
            // KEYS[1] account hash, KEYS[2] its devices; ARGV[1] device id, ARGV[2] the
            // device JSON as read, ARGV[3] the JSON to write. Writes only over the very JSON
            // read, so it never adds a device: 0: no such account or device (nothing
            // written); -1: the device changed since it was read (nothing written; read
            // again); 1: written.
            touch_device: Script::new(
                r"
                if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
                local d = redis.call('HGET', KEYS[2], ARGV[1])
                if not d then return 0 end
                if d ~= ARGV[2] then return -1 end
                redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
                return 1
                ",
            ),
        }
    }
}
