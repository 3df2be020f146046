// SPDX-License-Identifier: MPL-2.0
//! AI Coach tools: what is built on the runtime layers but never runs inside a pipeline.
//! Evaluation against ground truth ([`eval`]), training data readers for the coach's SVMs
//! ([`dataset`], [`skijump`]) and the report's HTML page ([`page`]).
//!
//! It may import every engine crate; nothing imports it.

pub mod dataset;
pub mod eval;
pub mod page;
pub mod skijump;
