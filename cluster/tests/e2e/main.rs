//! End-to-end tests: real roles on OS-chosen ports, asserting what each client receives.
//! One test binary (one link) with a module per area.

mod backend_servers;
mod harness;

mod accounts;
mod backends;
mod channels;
mod errors;
mod gateway;
mod heartbeat;
mod inspect;
mod load;
mod monitor;
mod original;
mod p2p;
mod pipeline;
mod restart;
mod topics;
