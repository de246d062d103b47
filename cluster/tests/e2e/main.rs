//! End-to-end tests: real roles on OS-chosen ports, asserting what each client receives.
//! One test binary (one link) with a module per area.

mod harness;

mod channels;
mod errors;
mod gateway;
mod load;
mod p2p;
mod restart;
mod topics;
