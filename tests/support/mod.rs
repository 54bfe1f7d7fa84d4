//! A local fake Discord for end-to-end tests; nothing here reaches the internet.

#![allow(dead_code)]

pub mod bot;
pub mod cli;
pub mod fake_gateway;
pub mod fake_rest;
pub mod payloads;
