//! Values stored as their names in a text column, on either back end.

use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Any, Database, Decode, Encode, Type};

/// A closed set of values each stored, hashed and shown under one fixed name.
pub(crate) trait StoredName: Sized + Copy + 'static {
    /// Every value.
    const ALL: &'static [Self];

    /// The name it is stored under.
    fn name(self) -> &'static str;

    /// The value stored under `name`, if any.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

/// The type a stored name has in the database.
pub(crate) fn type_info() -> AnyTypeInfo {
    <str as Type<Any>>::type_info()
}

/// Whether a column of type `ty` can hold a stored name.
pub(crate) fn compatible(ty: &AnyTypeInfo) -> bool {
    <&str as Type<Any>>::compatible(ty)
}

/// Writes `value`'s name.
pub(crate) fn encode<'q, T: StoredName>(
    value: T,
    buf: &mut <Any as Database>::ArgumentBuffer<'q>,
) -> Result<IsNull, BoxDynError> {
    <&'q str as Encode<'q, Any>>::encode(value.name(), buf)
}

/// Reads a value back from its name; an unknown name is an error naming it.
pub(crate) fn decode<T: StoredName>(value: AnyValueRef<'_>) -> Result<T, BoxDynError> {
    let name = <String as Decode<Any>>::decode(value)?;
    T::from_name(&name).ok_or_else(|| {
        format!(
            "`{name}` is not a stored {}",
            std::any::type_name::<T>()
                .rsplit("::")
                .next()
                .unwrap_or("name")
        )
        .into()
    })
}

/// Makes each type (which implements [`StoredName`]) bindable and readable as its name.
macro_rules! stored_by_name {
    ($($ty:ty),* $(,)?) => {$(
        impl sqlx::Type<sqlx::Any> for $ty {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                $crate::store::names::type_info()
            }
            fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
                $crate::store::names::compatible(ty)
            }
        }
        impl<'q> sqlx::Encode<'q, sqlx::Any> for $ty {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                $crate::store::names::encode(*self, buf)
            }
        }
        impl<'r> sqlx::Decode<'r, sqlx::Any> for $ty {
            fn decode(
                value: sqlx::any::AnyValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                $crate::store::names::decode(value)
            }
        }
    )*};
}
pub(crate) use stored_by_name;
