//! Value types shared by the domains: parties, actors, money, quantities, dates.

use std::fmt;

/// Why a value was refused at the boundary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is too long: {len} bytes, at most {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("currency {0:?} is not an ISO 4217 code (three capital letters)")]
    Currency(String),
    #[error("{field} {value} must not be negative")]
    Negative { field: &'static str, value: i64 },
    #[error("{field} {value} must be positive")]
    NotPositive { field: &'static str, value: i64 },
    #[error("date {year:04}-{month:02}-{day:02} does not exist")]
    Date { year: i32, month: i32, day: i32 },
    #[error("period ends {to} before it starts {from}")]
    Period { from: Date, to: Date },
    #[error("{field} {value:?} is not valid: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
}

const MAX_TEXT: usize = 256;

pub(crate) fn text(field: &'static str, value: String, max: usize) -> Result<String, ValueError> {
    if value.trim().is_empty() {
        return Err(ValueError::Empty { field });
    }
    if value.len() > max {
        return Err(ValueError::TooLong {
            field,
            len: value.len(),
            max,
        });
    }
    Ok(value)
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        text_id!($(#[$doc])* $name, $field, MAX_TEXT);
    };
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Result<Self, ValueError> {
                let value = text($field, value.into(), $max)?;
                if value.contains('\0') {
                    return Err(ValueError::Invalid {
                        field: $field,
                        value,
                        reason: "it contains a NUL character",
                    });
                }
                Ok($name(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_id!(
    /// A person acting for a party, by id ("lt-mod-kasciunas").
    ActorId,
    "actor id"
);
text_id!(
    /// Any aggregate's id within its kind ("agreement-lt-ua-2024"); at most as long
    /// as a stream id may be, since it is one.
    AggregateId,
    "id",
    crate::stream::MAX_ID_LEN
);

/// A state (ISO 3166-1 alpha-2 code, "LT") or an organisation ("lt-emi").
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct PartyId(String);

impl PartyId {
    pub fn new(value: impl Into<String>) -> Result<Self, ValueError> {
        text("party", value.into(), MAX_TEXT).map(PartyId)
    }

    /// States are named by two capital letters; everything else is an organisation.
    pub fn is_state(&self) -> bool {
        self.0.len() == 2 && self.0.bytes().all(|b| b.is_ascii_uppercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free text with a bound: titles, reasons, terms.
pub fn bounded_text(field: &'static str, value: impl Into<String>) -> Result<String, ValueError> {
    text(field, value.into(), 4096)
}

/// An ISO 4217 alphabetic currency code.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn new(code: &str) -> Result<Self, ValueError> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => {
                Ok(Currency([*a, *b, *c]))
            }
            _ => Err(ValueError::Currency(code.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII capitals get in.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Money as integer minor units of a currency; never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Money {
    pub minor_units: i64,
    pub currency: Currency,
}

impl Money {
    /// A non-negative amount.
    pub fn new(minor_units: i64, currency: Currency) -> Result<Self, ValueError> {
        if minor_units < 0 {
            return Err(ValueError::Negative {
                field: "amount",
                value: minor_units,
            });
        }
        Ok(Money {
            minor_units,
            currency,
        })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = self.minor_units / 100;
        let cents = (self.minor_units % 100).abs();
        write!(f, "{} {units}.{cents:02}", self.currency)
    }
}

/// A count of something in a unit ("10000 shell", "50 t").
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Quantity {
    pub amount: i64,
    pub unit: String,
}

impl Quantity {
    pub fn new(amount: i64, unit: impl Into<String>) -> Result<Self, ValueError> {
        if amount < 0 {
            return Err(ValueError::Negative {
                field: "quantity",
                value: amount,
            });
        }
        Ok(Quantity {
            amount,
            unit: text("unit", unit.into(), 32)?,
        })
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.unit)
    }
}

/// A calendar date.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    pub fn new(year: i32, month: i32, day: i32) -> Result<Self, ValueError> {
        let invalid = ValueError::Date { year, month, day };
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(invalid);
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if !(1..=days).contains(&day) {
            return Err(invalid);
        }
        Ok(Date {
            year,
            month: month as u8,
            day: day as u8,
        })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> i32 {
        self.month.into()
    }

    pub fn day(self) -> i32 {
        self.day.into()
    }

    /// Whole days from `earlier` to this date (negative when `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i64 {
        self.days_since_epoch() - earlier.days_since_epoch()
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A closed range of dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    pub fn new(from: Date, to: Date) -> Result<Self, ValueError> {
        if to < from {
            return Err(ValueError::Period { from, to });
        }
        Ok(Period { from, to })
    }
}

impl crate::WireName for CapabilityArea {
    fn wire_name(&self) -> &'static str {
        match self {
            CapabilityArea::Uav => "uav",
            CapabilityArea::Ground => "ground",
            CapabilityArea::Maritime => "maritime",
            CapabilityArea::ElectronicWarfare => "electronic_warfare",
            CapabilityArea::Ammunition => "ammunition",
            CapabilityArea::Explosives => "explosives",
            CapabilityArea::ResearchAndDevelopment => "research_and_development",
            CapabilityArea::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_two_capital_letters() {
        assert!(PartyId::new("LT").unwrap().is_state());
        assert!(!PartyId::new("lt-emi").unwrap().is_state());
        assert!(!PartyId::new("LTU").unwrap().is_state());
    }

    #[test]
    fn money_is_integer_minor_units_and_never_negative() {
        let eur = Currency::new("EUR").unwrap();
        assert_eq!(Money::new(12_345, eur).unwrap().to_string(), "EUR 123.45");
        assert!(Money::new(-1, eur).is_err());
        assert!(Currency::new("eur").is_err());
        assert!(Currency::new("EURO").is_err());
    }

    #[test]
    fn dates_are_checked_and_count_days() {
        assert!(Date::new(2024, 2, 29).is_ok());
        assert!(Date::new(2025, 2, 29).is_err());
        assert!(Date::new(2025, 13, 1).is_err());
        assert_eq!(Date::new(1970, 1, 1).unwrap().days_since_epoch(), 0);
        assert_eq!(Date::new(2024, 11, 28).unwrap().days_since_epoch(), 20_055);
        let (a, b) = (
            Date::new(2025, 1, 1).unwrap(),
            Date::new(2024, 1, 1).unwrap(),
        );
        assert!(Period::new(a, b).is_err());
        assert_eq!(a.days_since(b), 366, "2024 is a leap year");
        assert_eq!(b.days_since(a), -366);
        let noon = crate::Timestamp::parse_rfc3339("2025-09-02T12:30:00Z").unwrap();
        assert_eq!(noon.date(), Date::new(2025, 9, 2).unwrap());
    }

    #[test]
    fn text_ids_refuse_blank_and_overlong_values() {
        assert!(matches!(ActorId::new(" "), Err(ValueError::Empty { .. })));
        assert!(matches!(
            AggregateId::new("x".repeat(300)),
            Err(ValueError::TooLong { .. })
        ));
    }

    #[test]
    fn every_aggregate_id_the_boundary_takes_is_a_valid_stream_id() {
        // The limits agree: an id refused as a stream id is refused as an id first,
        // under the command's own field name, not later as the stream's `id`.
        let longest = "x".repeat(crate::MAX_ID_LEN);
        assert!(AggregateId::new(longest.clone()).is_ok());
        assert!(crate::StreamId::new("agreement", longest).is_ok());
        assert!(matches!(
            AggregateId::new("x".repeat(crate::MAX_ID_LEN + 1)),
            Err(ValueError::TooLong { max: 128, .. })
        ));
        assert!(matches!(
            AggregateId::new("a\0b"),
            Err(ValueError::Invalid { .. })
        ));
        assert!(crate::StreamId::new("agreement", "a\0b").is_err());
    }
}

/// The capability areas the agreement names; shared by agreements and projects.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum CapabilityArea {
    Uav,
    Ground,
    Maritime,
    ElectronicWarfare,
    Ammunition,
    Explosives,
    ResearchAndDevelopment,
    Other,
}

impl fmt::Display for CapabilityArea {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CapabilityArea::Uav => "UAV",
            CapabilityArea::Ground => "ground systems",
            CapabilityArea::Maritime => "maritime systems",
            CapabilityArea::ElectronicWarfare => "electronic warfare",
            CapabilityArea::Ammunition => "ammunition",
            CapabilityArea::Explosives => "explosives",
            CapabilityArea::ResearchAndDevelopment => "R&D",
            CapabilityArea::Other => "other",
        })
    }
}
