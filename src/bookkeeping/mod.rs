//! Getting the till's numbers into the books. Today: the SAF-T Cash
//! Register export (Skatteetaten's XML). Sinks for vouchers (webhook, CSV,
//! PowerOffice Go) will live here too, behind one trait.
//!
//! Reads the journal through the store; never writes sales or payments.

pub mod poweroffice;
pub mod saft;
