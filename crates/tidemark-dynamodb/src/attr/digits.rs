//! Exact decimal addition on digit vectors, used by `Number::checked_add` (update expressions
//! only, so simplicity beats speed here).

use super::error::NumberError;
use super::number::{MAX_DIGITS, MAX_EXPONENT, Number};
use std::cmp::Ordering;

/// Little-endian decimal digits, used only by exact addition (rare: update expressions).
pub(super) struct Digits(Vec<u8>);

impl Digits {
    pub(super) fn of(n: &Number, base_exp: i32) -> Digits {
        let shift = (n.exponent - base_exp) as usize; // base_exp is the smaller exponent
        let mut v = vec![0u8; shift];
        v.extend(n.digits().into_iter().rev());
        Digits(v)
    }

    pub(super) fn cmp_mag(&self, other: &Digits) -> Ordering {
        let (a, b) = (&self.0, &other.0);
        let len = a.len().max(b.len());
        for i in (0..len).rev() {
            let (x, y) = (
                a.get(i).copied().unwrap_or(0),
                b.get(i).copied().unwrap_or(0),
            );
            if x != y {
                return x.cmp(&y);
            }
        }
        Ordering::Equal
    }

    pub(super) fn add(&self, other: &Digits) -> Digits {
        let len = self.0.len().max(other.0.len());
        let mut out = Vec::with_capacity(len + 1);
        let mut carry = 0u8;
        for i in 0..len {
            let s =
                self.0.get(i).copied().unwrap_or(0) + other.0.get(i).copied().unwrap_or(0) + carry;
            out.push(s % 10);
            carry = s / 10;
        }
        if carry > 0 {
            out.push(carry);
        }
        Digits(out)
    }

    /// `self − other`, requiring `self >= other` in magnitude.
    pub(super) fn sub(&self, other: &Digits) -> Digits {
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0i8;
        for i in 0..self.0.len() {
            let mut d = self.0[i] as i8 - other.0.get(i).copied().unwrap_or(0) as i8 - borrow;
            borrow = 0;
            if d < 0 {
                d += 10;
                borrow = 1;
            }
            out.push(d as u8);
        }
        Digits(out)
    }

    pub(super) fn into_number(self, negative: bool, exponent: i64) -> Result<Number, NumberError> {
        let mut v = self.0;
        while v.last() == Some(&0) {
            v.pop();
        }
        let trailing = v.iter().take_while(|d| **d == 0).count();
        let significant = &v[trailing..];
        if significant.is_empty() {
            return Ok(Number::ZERO);
        }
        let exponent = exponent + trailing as i64;
        let scientific = exponent + significant.len() as i64 - 1;
        if scientific > MAX_EXPONENT || significant.len() > MAX_DIGITS as usize {
            return Err(NumberError::Overflow);
        }
        let magnitude = significant
            .iter()
            .rev()
            .fold(0u128, |acc, d| acc * 10 + u128::from(*d));
        Number::from_parts(negative, magnitude, exponent)
    }
}
