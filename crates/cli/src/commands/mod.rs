//! One module per subcommand (or group of related ones).

pub mod batch;
pub mod info;
pub mod login;
pub mod lookup;
pub mod quickstart;
pub mod scan;
