//! Consumed capacity the way DynamoDB counts it: reads in 4 KB units (half for eventually
//! consistent reads, doubled in transactions), writes in 1 KB units (doubled in
//! transactions), each item rounded up separately and at least one unit; Query and Scan
//! round the total bytes read once. Rendered per `ReturnConsumedCapacity` (TOTAL: table name
//! and total; INDEXES: also the table's share and each index's).

use indexmap::IndexMap;
use tidemark_model::dynamodb::{Capacity, ConsumedCapacity};

use crate::storage::WriteEffect;

/// Read units for `bytes` read in one request (Query/Scan total or one GetItem item).
pub fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

/// Write units for one item write of `bytes` (the larger of old and new item).
pub fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Capacity consumed in one table by one request.
#[derive(Debug, Clone, Default)]
pub struct Consumed {
    pub table: f64,
    /// `(index, is_gsi) → units`.
    pub indexes: IndexMap<(String, bool), f64>,
    pub reads: bool,
}

impl Consumed {
    pub fn read(units: f64) -> Consumed {
        Consumed {
            table: units,
            indexes: IndexMap::new(),
            reads: true,
        }
    }

    /// A read served from an index (Query/Scan with IndexName): DynamoDB charges the index.
    pub fn index_read(index: &str, is_gsi: bool, units: f64) -> Consumed {
        let mut c = Consumed {
            table: 0.0,
            indexes: IndexMap::new(),
            reads: true,
        };
        c.indexes.insert((index.to_string(), is_gsi), units);
        c
    }

    pub fn add_write(&mut self, effect: &WriteEffect, factor: f64) {
        self.table += write_units(effect.item_bytes) * factor;
        for (name, gsi, units) in &effect.index_units {
            *self.indexes.entry((name.clone(), *gsi)).or_default() += units * factor;
        }
    }

    pub fn merge(&mut self, other: &Consumed) {
        self.table += other.table;
        self.reads = other.reads;
        for (k, v) in &other.indexes {
            *self.indexes.entry(k.clone()).or_default() += v;
        }
    }

    /// The `ConsumedCapacity` member for `mode` (`TOTAL`/`INDEXES`; anything else: none).
    pub fn render(&self, table_name: &str, mode: Option<&str>) -> Option<ConsumedCapacity> {
        let total = self.table + self.indexes.values().sum::<f64>();
        let cap = |units: f64| {
            let mut c = Capacity {
                capacity_units: Some(units),
                ..Default::default()
            };
            if self.reads {
                c.read_capacity_units = Some(units);
            } else {
                c.write_capacity_units = Some(units);
            }
            c
        };
        let mut out = ConsumedCapacity {
            table_name: Some(table_name.to_string()),
            capacity_units: Some(total),
            ..Default::default()
        };
        match mode {
            Some("TOTAL") => {}
            Some("INDEXES") => {
                out.table = Some(cap(self.table));
                let pick = |gsi: bool| -> Option<IndexMap<String, Capacity>> {
                    let m: IndexMap<String, Capacity> = self
                        .indexes
                        .iter()
                        .filter(|((_, g), _)| *g == gsi)
                        .map(|((n, _), u)| (n.clone(), cap(*u)))
                        .collect();
                    (!m.is_empty()).then_some(m)
                };
                out.global_secondary_indexes = pick(true);
                out.local_secondary_indexes = pick(false);
            }
            _ => return None,
        }
        Some(out)
    }
}
