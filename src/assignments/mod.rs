//! Agency assignments and answers: approved questions handed to the agency responsible,
//! answered on the record, approved and published. Above questions and agencies.

pub mod api;
pub mod export;
pub mod model;
pub mod ops;
pub mod pages;
pub mod store;
pub mod view;
