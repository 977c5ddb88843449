//! mdcore-sim
