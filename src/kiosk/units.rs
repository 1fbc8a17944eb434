//! Vipps sales units and departments on the till (issue 16, part 4).
//!
//! The till sells under one unit at a time: the one `[till] sales_unit`
//! names (else `[vipps]`'s own), or the one the club hub's event menu for
//! this till names. Every sale keeps the unit's MSN (Vipps sales) and its
//! department (every sale), so a payment is always read, captured and
//! refunded with the keys of the unit it was made under, even after the
//! till has moved on. A switch happens only between sales and is journaled
//! (`sales.unit`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::json;

use super::{Kiosk, KioskError};
use crate::domain::SalesUnit;
use crate::domain::journal::JournalKind;
use crate::payments::PaymentProvider;
use crate::store::Writer;

/// Where a till's payments go: the main provider (`[vipps]`, or the
/// simulator of a training till), the training simulator of a production
/// till, and one provider per extra sales unit, by MSN.
pub struct Providers {
    pub main: Arc<dyn PaymentProvider>,
    pub training: Option<Arc<dyn PaymentProvider>>,
    /// Every unit's provider by its MSN, `[vipps]`'s own included.
    pub by_msn: HashMap<String, Arc<dyn PaymentProvider>>,
}

impl Providers {
    /// One provider for everything: a till with one Vipps account.
    pub fn single(main: Arc<dyn PaymentProvider>) -> Providers {
        Providers {
            main,
            training: None,
            by_msn: HashMap::new(),
        }
    }
}

pub(super) struct Units {
    by_msn: HashMap<String, Arc<dyn PaymentProvider>>,
    current: RwLock<SalesUnit>,
}

impl Units {
    pub(super) fn new(
        by_msn: HashMap<String, Arc<dyn PaymentProvider>>,
        current: SalesUnit,
    ) -> Units {
        Units {
            by_msn,
            current: RwLock::new(current),
        }
    }

    pub(super) fn provider(&self, msn: &str) -> Option<Arc<dyn PaymentProvider>> {
        self.by_msn.get(msn).cloned()
    }

    fn current(&self) -> SalesUnit {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set(&self, unit: SalesUnit) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = unit;
    }
}

impl Kiosk {
    /// The unit new sales are made under now.
    pub fn sales_unit(&self) -> SalesUnit {
        self.inner.units.current()
    }

    /// The unit `name` names among this till's (`None`: the till's own, as
    /// `luka.toml` sets it).
    pub fn find_sales_unit(&self, name: Option<&str>) -> Result<SalesUnit, KioskError> {
        let s = &self.inner.settings;
        let name = name.unwrap_or(&s.sales_unit.name);
        if name == s.sales_unit.name {
            return Ok(s.sales_unit.clone());
        }
        s.sales_units
            .iter()
            .find(|u| u.name == name)
            .cloned()
            .ok_or_else(|| KioskError::UnknownSalesUnit {
                name: name.to_string(),
                known: s
                    .sales_units
                    .iter()
                    .map(|u| u.name.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    pub(super) fn set_unit(&self, unit: SalesUnit) {
        if unit != self.inner.units.current() {
            tracing::info!(unit = %unit.name, msn = ?unit.msn, department = ?unit.department, "selling under another sales unit");
        }
        self.inner.units.set(unit);
    }
}

/// Journals `unit` as the one the till sells under when it differs from the
/// last one journaled. A till that never journaled one journals its first
/// only when it is more than a single unnamed account (a department, or a
/// named unit), so a till without units writes the journal it always did.
pub(super) fn journal_unit(
    w: &mut Writer<'_>,
    unit: &SalesUnit,
    training: bool,
    now: time::OffsetDateTime,
) -> crate::store::Result<bool> {
    let last = w.reader().last_journal_of(JournalKind::SalesUnitChanged)?;
    let same = |d: &serde_json::Value| {
        d["unit"].as_str() == Some(unit.name.as_str())
            && d["msn"].as_str() == unit.msn.as_deref()
            && d["department"].as_str() == unit.department.as_deref()
    };
    let plain = unit.department.is_none() && unit.name == crate::domain::sales_unit::DEFAULT_NAME;
    let write = match &last {
        Some(e) => !same(&e.data),
        None => !plain,
    };
    if !write {
        return Ok(false);
    }
    let mut data = json!({
        "unit": unit.name,
        "msn": unit.msn,
        "department": unit.department,
        "was": last.as_ref().map(|e| e.data["unit"].clone()),
    });
    if training {
        data["training"] = json!(true);
    }
    w.journal(JournalKind::SalesUnitChanged, None, data, now)?;
    Ok(true)
}
