//! mdcore-spec
