//! The SQL mapping of the domain's id newtypes: each is stored as its `i64`, on any backend.
//! Written here rather than derived on the types, so `domain` stays free of diesel; the impls
//! are the ones `diesel-derive-newtype` would generate.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromStaticSqlRow, Queryable};
use diesel::expression::AsExpression;
use diesel::internal::derives::as_expression::Bound;
use diesel::query_builder::QueryId;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{HasSqlType, SingleValue};

use crate::domain::{ConversationId, MessageId, ProjectId, UploadId, UserId};

/// `AsExpression` for `$ty` (a newtype, or a reference to one), as `diesel-derive-newtype`
/// writes it.
macro_rules! as_expression {
    ($ty:ty $(, $lt:lifetime)*) => {
        impl<$($lt,)* ST> AsExpression<ST> for $ty
        where
            Bound<ST, i64>: diesel::Expression<SqlType = ST>,
            ST: SingleValue,
        {
            type Expression = Bound<ST, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }
    };
}

macro_rules! sql_newtype {
    ($($name:ident),* $(,)?) => {$(
        impl<ST, DB> ToSql<ST, DB> for $name
        where
            i64: ToSql<ST, DB>,
            DB: Backend + HasSqlType<ST>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.0.to_sql(out)
            }
        }

        as_expression!($name);
        as_expression!(&'e $name, 'e);
        as_expression!(&'e2 &'e $name, 'e2, 'e);

        impl<ST, DB> FromSql<ST, DB> for $name
        where
            i64: FromSql<ST, DB>,
            DB: Backend + HasSqlType<ST>,
        {
            fn from_sql(raw: DB::RawValue<'_>) -> deserialize::Result<Self> {
                i64::from_sql(raw).map(Self)
            }
        }

        impl<ST, DB> Queryable<ST, DB> for $name
        where
            i64: FromStaticSqlRow<ST, DB>,
            DB: Backend + HasSqlType<ST>,
        {
            type Row = i64;
            fn build(inner: i64) -> deserialize::Result<Self> {
                Ok(Self(inner))
            }
        }

        impl QueryId for $name {
            type QueryId = Self;
        }
    )*};
}

sql_newtype!(ProjectId, UserId, ConversationId, MessageId, UploadId);
