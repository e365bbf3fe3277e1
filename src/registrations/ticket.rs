//! The ticket's QR code. It lives in `participants` (a participant's code), so the
//! invitation reminder carries it too; re-exported here for registrations and the pages.

pub use crate::participants::ticket::qr_png;
