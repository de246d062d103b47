//! The FishChat wire protocol, version 1: byte-compatible with the original Go server.
//!
//! Three layers, each usable on its own:
//! - [`frame`]: length-prefixed framing (4-byte big-endian length, then the body). No meaning.
//! - [`envelope`]: the JSON body, `{"CmdName":..,"Args":[..],"AnyData":..}`, or a bare object.
//! - [`command`]: one typed enum of every command, parsed from and encoded to an envelope.
//!
//! [`events`] holds the `AnyData` payloads published on the internal channels, and
//! [`channel`] their names; [`inspect`] the answers to `INSPECT`; [`level`] the two protocol levels (the original's
//! and ours) and what each is sent; [`message`] the messages
//! clients receive. The contract is `docs/protocol.md`.

pub mod account;
pub mod channel;
pub mod command;
pub mod envelope;
pub mod error_code;
pub mod events;
pub mod frame;
pub mod inspect;
pub mod level;
pub mod message;
pub mod secret;

pub use account::{AuthPolicy, Registration, SessionFilter};
pub use channel::Channel;
pub use command::{Command, CommandError, InspectQuery};
pub use envelope::{Body, BodyError, Envelope};
pub use error_code::ErrorCode;
pub use frame::{FrameCodec, FrameError, DEFAULT_MAX_FRAME};
pub use level::{Level, LevelFrames};
pub use message::{P2pMessage, TopicMessage};
pub use secret::Secret;
