//! The minutes (biên bản) of a dialogue: the secretary's parts (number, opening and closing
//! times, summary, the chair's conclusion, recipients), the PDF built from the record
//! (docs/DOCUMENTS.md), and publishing it to the dialogue's public page with an email to
//! every participant who has an address.

pub mod api;
pub mod document;
pub mod model;
pub mod ops;
pub mod pages;
pub mod record;
pub mod store;
