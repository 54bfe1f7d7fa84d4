//! One module per trigger family. Each is a pure function of its configuration, the
//! event and the state the engine hands it.

pub mod compound;
pub mod links;
pub mod pattern;
pub mod raid;
pub mod scam;
pub mod skeleton;
pub mod sounds;
pub mod spam;
pub mod trigrams;
pub mod typos;
pub mod words;
