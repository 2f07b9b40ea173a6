//! Output formatters (`--output json|text|table`), ported from awscli v1 `awscli/formatter.py`.

pub mod eaw;
pub mod table;
pub mod text;
